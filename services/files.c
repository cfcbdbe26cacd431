/*
 * files.c: the files service (see files.h, docs/fs.md).
 *
 * Interface: files_start, files_connect, files_call.
 *
 * One task owns every mounted volume and every handle, so requests are
 * served one at a time in arrival order; block I/O is svc_call to the
 * disk's driver (the task waits, others run). When the queue has been
 * empty for IDLE_NS, handles of ended tasks are closed, what open files
 * have written is committed (fat_flush) and volumes with no writer are
 * marked clean. SYNC (FLUSH-FILE) does the same at once.
 */
#include <string.h>
#include "mneme/blockdev.h"
#include "mneme/err.h"
#include "mneme/fat.h"
#include "mneme/files.h"
#include "mneme/gpt.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/postcard.h"
#include "mneme/task.h"

#define IDLE_NS MN_MSEC(200)
#define IO_TIMEOUT MN_SEC(30)

struct volume {
  char name[8];                /* "boot", "disk1", ... */
  struct svc_client *blk;      /* the disk (shared by its volumes) */
  uint32_t max_transfer, sector_size;
  uint64_t first, count;       /* sectors on the disk */
  struct fat_vol *fat;
};

struct handle {
  uint32_t id;                 /* 0: free */
  uint32_t owner;
  int vol;
  struct fat_file f;
};

static struct svc_server *srv;
static struct volume vols[FILES_MAX_VOLUMES];
static int nvols;
static struct handle handles[FILES_MAX_HANDLES];
static uint32_t generation;

/* ---- block I/O for the FAT library -------------------------------------------- */

static int
blk_io(struct volume *v, uint8_t kind, uint64_t sec, uint32_t n, void *buf)
{
  uint8_t *p = buf;
  while (n) {
    uint32_t k = n < v->max_transfer ? n : v->max_transfer;
    struct blockdev_req q = { kind, v->first + sec, k, p };
    struct blockdev_resp r;
    struct blockdev_err e;
    int err = svc_call(v->blk, &q, &r, &e, IO_TIMEOUT);
    if (err)
      return err == MN_ESERVICE ? MN_EIO : err;
    sec += k;
    n -= k;
    p += (size_t)k * v->sector_size;
  }
  return 0;
}

static int
vol_read(void *ctx, uint64_t sec, uint32_t n, void *buf)
{
  return blk_io(ctx, BLOCKDEV_READ, sec, n, buf);
}

static int
vol_write(void *ctx, uint64_t sec, uint32_t n, const void *buf)
{
  return blk_io(ctx, BLOCKDEV_WRITE, sec, n, (void *)(uintptr_t)buf);
}

static int
vol_flush(void *ctx)
{
  struct volume *v = ctx;
  struct blockdev_req q = { BLOCKDEV_FLUSH, 0, 0, NULL };
  struct blockdev_resp r;
  struct blockdev_err e;
  return svc_call(v->blk, &q, &r, &e, IO_TIMEOUT) ? MN_EIO : 0;
}

static void *
vol_alloc(void *ctx, size_t n)
{
  (void)ctx;
  return kmalloc(n);
}

static void
vol_free(void *ctx, void *p)
{
  (void)ctx;
  kfree(p);
}

struct disk_ctx {
  struct svc_client *blk;
  uint32_t sector_size;
};

static int
disk_read(void *ctx, uint64_t lba, uint32_t n, void *buf)
{
  struct disk_ctx *d = ctx;
  struct blockdev_req q = { BLOCKDEV_READ, lba, n, buf };
  struct blockdev_resp r;
  struct blockdev_err e;
  return svc_call(d->blk, &q, &r, &e, IO_TIMEOUT) ? MN_EIO : 0;
}

/* ---- mounting --------------------------------------------------------------------- */

static void
report(const struct volume *v, const struct fat_report *r)
{
  uint64_t fr, tot;
  fat_space(v->fat, &fr, &tot);
  klog(LOG_INFO, "files: /%s: FAT%d, %llu KiB free of %llu KiB%s", v->name, v->fat->type,
       (unsigned long long)(fr >> 10), (unsigned long long)(tot >> 10),
       r->was_dirty ? ", was not cleanly unmounted" : "");
  if (r->lost_freed || r->chains_trimmed || r->mirror_fixed || r->orphans_fixed ||
      r->renames_finished || r->renames_undone)
    klog(LOG_WARN, "files: /%s repaired: %u lost clusters freed, %u chains trimmed, "
         "%u FAT copy sectors rewritten, %u orphan long names removed, %u cut renames "
         "finished, %u undone", v->name, r->lost_freed, r->chains_trimmed, r->mirror_fixed,
         r->orphans_fixed, r->renames_finished, r->renames_undone);
  if (r->cross_linked || r->bad_chains || r->bad_sizes || r->bad_names || r->dir_loops ||
      r->too_deep || r->lost_found)
    klog(LOG_WARN, "files: /%s has problems left: %u cross-linked, %u bad chains, "
         "%u bad sizes, %u bad names, %u directory loops, %u too deep, %u lost",
         v->name, r->cross_linked, r->bad_chains, r->bad_sizes, r->bad_names,
         r->dir_loops, r->too_deep, r->lost_found);
}

static void
mount_one(struct svc_client *blk, const struct blockdev_info *info, const struct gpt_part *p,
          const char *name)
{
  if (nvols == FILES_MAX_VOLUMES)
    return;
  struct volume *v = &vols[nvols];
  memset(v, 0, sizeof *v);
  ksnprintf(v->name, sizeof v->name, "%s", name);
  v->blk = blk;
  v->max_transfer = info->max_transfer ? info->max_transfer : 8;
  v->sector_size = info->sector_size;
  v->first = p->first;
  v->count = p->count;
  v->fat = kmalloc(sizeof *v->fat);
  if (!v->fat) {
    klog(LOG_ERROR, "files: /%s: no memory for the volume", name);
    return;
  }
  struct fat_dev dev = { v, vol_read, vol_write, vol_flush, vol_alloc, vol_free, NULL,
                         info->sector_size, p->count, info->read_only };
  struct fat_report r;
  int err = fat_mount(v->fat, &dev, &r);
  if (err) {
    if (err != MN_EFORMAT && err != MN_ENOTSUP)
      klog(LOG_WARN, "files: %s volume at sector %llu: %s", info->name,
           (unsigned long long)p->first, fat_strerror(err));
    kfree(v->fat);
    v->fat = NULL;
    return;
  }
  nvols++;
  report(v, &r);
}

static void
mount_all(void)
{
  static const struct svc_type type = BLOCKDEV_TYPE;
  int next_disk = 1, have_boot = 0;
  for (unsigned n = 0; n < BLOCKDEV_MAX_DISKS; n++) {
    struct svc_client *blk = kmalloc(sizeof *blk);
    if (!blk)
      return;
    if (svc_connect(&(struct uuid)BLOCKDEV_UUID_N(n), &type, NULL, NULL, 0, blk)) {
      kfree(blk);
      continue;
    }
    struct blockdev_req q = { BLOCKDEV_INFO, 0, 0, NULL };
    struct blockdev_resp r;
    struct blockdev_err e;
    uint8_t *buf = NULL;
    static struct gpt_table t;
    int err = svc_call(blk, &q, &r, &e, IO_TIMEOUT);
    if (!err && (r.info.sector_size < 512 || r.info.sector_size > FAT_SECTOR_MAX))
      err = MN_ENOTSUP;
    if (!err)
      err = (buf = kmalloc(r.info.sector_size)) ? 0 : MN_ENOMEM;
    struct disk_ctx dc = { blk, r.info.sector_size };
    if (!err)
      err = gpt_scan(disk_read, &dc, r.info.sector_size, r.info.sectors, buf, &t);
    kfree(buf);
    if (err) {
      klog(LOG_WARN, "files: disk %u: %s", n, mn_strerror(err));
      continue;
    }
    int before = nvols;
    /* disk 0: its EFI system partition first, which (or else its first
     * FAT volume) is /boot */
    uint32_t order[GPT_MAX_PARTS], k = 0;
    for (uint32_t i = 0; i < t.count; i++)
      if (n == 0 && t.part[i].esp)
        order[k++] = i;
    for (uint32_t i = 0; i < t.count; i++)
      if (!(n == 0 && t.part[i].esp))
        order[k++] = i;
    for (uint32_t j = 0; j < k; j++) {
      int boot = n == 0 && !have_boot;
      char name[8];
      if (boot)
        ksnprintf(name, sizeof name, "boot");
      else
        ksnprintf(name, sizeof name, "disk%d", next_disk);
      int had = nvols;
      mount_one(blk, &r.info, &t.part[order[j]], name);
      if (nvols > had && boot)
        have_boot = 1;
      else if (nvols > had)
        next_disk++;
    }
    if (nvols == before) {
      klog(LOG_INFO, "files: disk %u (%s): no FAT volume", n, r.info.name);
      svc_disconnect(blk);
      kfree(blk);
    }
  }
}

/* ---- paths and handles -------------------------------------------------------------- */

/* "/boot/a/b" -> volume index and "/a/b". -1: the root "/" itself. */
static int
split(const char *path, const char **rest)
{
  const char *p = path;
  while (*p == '/')
    p++;
  if (!*p)
    return -1;
  const char *s = p;
  while (*p && *p != '/')
    p++;
  size_t n = (size_t)(p - s);
  for (int i = 0; i < nvols; i++)
    if (strlen(vols[i].name) == n && !memcmp(vols[i].name, s, n)) {
      *rest = *p ? p : "/";
      return i;
    }
  return -2;
}

static struct handle *
handle_of(uint32_t id, uint32_t owner)
{
  uint32_t slot = (id & 0xFF) - 1;
  if (!id || slot >= FILES_MAX_HANDLES || handles[slot].id != id)
    return NULL;
  struct handle *h = &handles[slot];
  return h->owner == owner ? h : NULL;
}

/* The open handle on the entry at loc, if any. */
static struct handle *
open_at(int vol, const struct fat_loc *loc)
{
  for (int i = 0; i < FILES_MAX_HANDLES; i++) {
    struct handle *h = &handles[i];
    if (h->id && h->vol == vol && h->f.loc.dir == loc->dir && h->f.loc.idx == loc->idx)
      return h;
  }
  return NULL;
}

static int
handle_close(struct handle *h)
{
  int err = fat_close(&h->f);
  if (err)
    klog(LOG_WARN, "files: /%s: closing a file: %s", vols[h->vol].name, fat_strerror(err));
  h->id = 0;
  return err;
}

/* Commits the new files closed and what the open files have written. */
static int
flush_writers(void)
{
  int rc = 0;
  for (int i = 0; i < nvols; i++) {
    int err = fat_sync(vols[i].fat);   /* new files closed */
    if (err) {
      klog(LOG_WARN, "files: /%s: committing new files: %s", vols[i].name, fat_strerror(err));
      rc = err;
    }
  }
  for (int i = 0; i < FILES_MAX_HANDLES; i++) {
    struct handle *h = &handles[i];
    if (!h->id)
      continue;
    int err = fat_flush(&h->f);
    if (err) {
      klog(LOG_WARN, "files: /%s: committing a file: %s", vols[h->vol].name, fat_strerror(err));
      if (!rc)
        rc = err;
    }
  }
  return rc;
}

/* Closes the handles of tasks that have ended. */
static void
sweep(void)
{
  int owned = 0;
  for (int i = 0; i < FILES_MAX_HANDLES; i++)
    owned |= handles[i].id && handles[i].owner;
  if (!owned)
    return;
  size_t cap = 256;
  struct task_info *ti = kmalloc(cap * sizeof *ti);
  if (!ti)
    return;
  size_t n = task_list(ti, cap);
  if (n > cap) {
    kfree(ti);
    return;                    /* cannot tell: try again later */
  }
  for (int i = 0; i < FILES_MAX_HANDLES; i++) {
    struct handle *h = &handles[i];
    if (!h->id || !h->owner)
      continue;
    int alive = 0;
    for (size_t k = 0; k < n && !alive; k++)
      alive = ti[k].id == h->owner && ti[k].state != TASK_ZOMBIE;
    if (!alive)
      handle_close(h);
  }
  kfree(ti);
}

static void
idle(void)
{
  sweep();
  flush_writers();
  for (int i = 0; i < nvols; i++)
    if (vols[i].fat->dirty && !vols[i].fat->open_writers) {
      int err = fat_sync_clean(vols[i].fat);
      if (err)
        klog(LOG_WARN, "files: /%s: marking clean: %s", vols[i].name, fat_strerror(err));
    }
}

/* An open file at a path of the volume (for UNLINK/RENAME): MN_EBUSY or 0. */
static int
busy(int vol, const char *rest)
{
  struct fat_file f;
  if (fat_open(vols[vol].fat, rest, FAT_READ, &f))
    return 0;
  fat_close(&f);
  return open_at(vol, &f.loc) ? MN_EBUSY : 0;
}

/* ---- requests --------------------------------------------------------------------------- */

static int
do_readdir(const struct files_req *q, struct files_resp *r, int vol, const char *rest)
{
  if (vol == -1) {
    if (q->arg >= (uint64_t)nvols)
      return MN_ENOENT;
    ksnprintf(r->name, sizeof r->name, "%s", vols[q->arg].name);
    r->attr = FAT_ATTR_DIR;
    return 0;
  }
  struct fat_dir d;
  struct fat_stat *st = kmalloc(sizeof *st);
  if (!st)
    return MN_ENOMEM;
  int err = fat_opendir(vols[vol].fat, rest, &d);
  for (uint64_t i = 0; !err && i <= q->arg; i++)
    err = fat_readdir(&d, st);
  if (!err) {
    ksnprintf(r->name, sizeof r->name, "%s", st->name);
    r->size = st->size;
    r->attr = st->attr;
  }
  kfree(st);
  return err;
}

static int
do_read_line(struct handle *h, uint8_t *buf, uint32_t cap, struct files_resp *r)
{
  uint32_t start = h->f.pos, n = 0;
  uint8_t chunk[128];
  r->attr = 0;
  for (;;) {
    long got = fat_read(&h->f, chunk, sizeof chunk);
    if (got < 0)
      return (int)got;
    if (got == 0)
      break;
    r->attr = 1;
    for (long i = 0; i < got; i++) {
      if (chunk[i] == '\n') {
        fat_seek(&h->f, start + n + 1);
        if (n && buf[n - 1] == '\r')
          n--;
        r->value = n;
        return 0;
      }
      if (n == cap) {
        fat_seek(&h->f, start + n);
        r->value = n;
        return 0;
      }
      buf[n++] = chunk[i];
    }
  }
  fat_seek(&h->f, start + n);
  r->value = n;
  return 0;
}

static int
serve(struct files_req *q, struct files_resp *r)
{
  memset(r, 0, offsetof(struct files_resp, data));
  r->kind = q->kind;
  q->path[FILES_PATH_MAX - 1] = 0;
  q->path2[FILES_PATH_MAX - 1] = 0;
  const char *rest = "/";
  int vol = -2;
  struct handle *h = NULL;
  switch (q->kind) {
  case FILES_OPEN: case FILES_STAT: case FILES_READDIR: case FILES_MKDIR:
  case FILES_UNLINK: case FILES_RENAME: case FILES_SPACE:
    vol = split(q->path, &rest);
    if (vol == -2)
      return MN_ENOENT;
    if (vol == -1 && q->kind != FILES_READDIR && q->kind != FILES_STAT)
      return q->kind == FILES_OPEN ? FAT_EISDIR : MN_EACCESS;
    break;
  case FILES_CLOSE: case FILES_READ: case FILES_WRITE: case FILES_SEEK:
  case FILES_TRUNCATE: case FILES_FSTAT: case FILES_READ_LINE:
    h = handle_of(q->handle, q->owner);
    if (!h)
      return MN_EINVAL;
    break;
  case FILES_SYNC: {
    int ferr = flush_writers();
    if (ferr)
      return ferr;
    for (int i = 0; i < nvols; i++)
      if (!vols[i].fat->open_writers) {
        int err = fat_sync_clean(vols[i].fat);
        if (err)
          return err;
      }
    return 0;
  }
  default:
    return MN_EINVAL;
  }
  struct fat_vol *fv = vol >= 0 ? vols[vol].fat : h ? vols[h->vol].fat : NULL;
  uint8_t *buf = q->buf ? q->buf : q->kind == FILES_WRITE ? q->data : r->data;
  uint32_t len = q->len;
  if (!q->buf && len > FILES_INLINE)
    len = FILES_INLINE;
  switch (q->kind) {
  case FILES_OPEN: {
    sweep();
    int slot = -1;
    for (int i = 0; i < FILES_MAX_HANDLES && slot < 0; i++)
      if (!handles[i].id)
        slot = i;
    if (slot < 0)
      return MN_EBUSY;
    struct handle *nh = &handles[slot];
    unsigned fl = q->flags & (FAT_READ | FAT_WRITE | FAT_CREATE | FAT_TRUNC | FAT_EXCL);
    /* one writer per file, and no truncating a file that is open */
    struct fat_file probe;
    if ((fl & (FAT_WRITE | FAT_TRUNC)) && !fat_open(fv, rest, FAT_READ, &probe)) {
      fat_close(&probe);
      for (int i = 0; i < FILES_MAX_HANDLES; i++) {
        struct handle *o = &handles[i];
        if (o->id && o->vol == vol && o->f.loc.dir == probe.loc.dir &&
            o->f.loc.idx == probe.loc.idx && (o->f.flags & FAT_WRITE || fl & FAT_TRUNC))
          return MN_EBUSY;
      }
    }
    int err = fat_open(fv, rest, fl, &nh->f);
    if (err)
      return err;
    generation++;
    nh->id = (uint32_t)(slot + 1) | (generation & 0x7FFFFF) << 8;
    nh->owner = q->owner;
    nh->vol = vol;
    r->handle = nh->id;
    r->size = nh->f.size;
    return 0;
  }
  case FILES_CLOSE:
    return handle_close(h);
  case FILES_READ: {
    long n = fat_read(&h->f, buf, len);
    if (n < 0)
      return (int)n;
    r->value = (uint64_t)n;
    if (!q->buf)
      r->len = (uint32_t)n;
    return 0;
  }
  case FILES_READ_LINE: {
    int err = do_read_line(h, buf, len, r);
    if (!err && !q->buf)
      r->len = (uint32_t)r->value;
    return err;
  }
  case FILES_WRITE: {
    long n = fat_write(&h->f, buf, len);
    if (n < 0)
      return (int)n;
    r->value = (uint64_t)n;
    return 0;
  }
  case FILES_SEEK:
    if (q->arg > 0xFFFFFFFFu)
      return MN_ERANGE;
    return fat_seek(&h->f, (uint32_t)q->arg);
  case FILES_TRUNCATE:
    if (q->arg > 0xFFFFFFFFu)
      return MN_ERANGE;
    return fat_truncate(&h->f, (uint32_t)q->arg);
  case FILES_FSTAT:
    r->value = h->f.pos;
    r->size = h->f.size;
    r->attr = h->f.attr;
    return 0;
  case FILES_STAT: {
    if (vol == -1) {
      r->attr = FAT_ATTR_DIR;
      ksnprintf(r->name, sizeof r->name, "/");
      return 0;
    }
    struct fat_stat *st = kmalloc(sizeof *st);
    if (!st)
      return MN_ENOMEM;
    int err = fat_stat(fv, rest, st);
    if (!err) {
      ksnprintf(r->name, sizeof r->name, "%s", st->name);
      r->size = st->size;
      r->attr = st->attr;
    }
    kfree(st);
    return err;
  }
  case FILES_READDIR:
    return do_readdir(q, r, vol, rest);
  case FILES_MKDIR:
    return fat_mkdir(fv, rest);
  case FILES_UNLINK: {
    int err = busy(vol, rest);
    return err ? err : fat_unlink(fv, rest);
  }
  case FILES_RENAME: {
    const char *rest2 = "/";
    int vol2 = split(q->path2, &rest2);
    if (vol2 < 0)
      return vol2 == -1 ? MN_EEXIST : MN_ENOENT;
    if (vol2 != vol)
      return MN_ENOTSUP;
    int err = busy(vol, rest);
    return err ? err : fat_rename(fv, rest, rest2);
  }
  case FILES_SPACE:
    fat_space(fv, &r->free, &r->total);
    ksnprintf(r->name, sizeof r->name, "FAT%d", fv->type);
    return 0;
  }
  return MN_EINVAL;
}

/* ---- the codec ------------------------------------------------------------------------ */

static int
dec_str(struct pc_dec *d, char *out, size_t cap)
{
  const char *s;
  size_t n;
  if (pc_dec_str(d, &s, &n) || n >= cap)
    return MN_EDECODE;
  memcpy(out, s, n);
  out[n] = 0;
  return 0;
}

static int
decode_req(const uint8_t *in, size_t len, void *out)
{
  struct files_req *q = out;
  struct pc_dec d;
  const uint8_t *data;
  size_t n;
  memset(q, 0, offsetof(struct files_req, data));
  pc_dec_init(&d, in, len);
  pc_dec_u8(&d, &q->kind);
  pc_dec_u32(&d, &q->handle);
  pc_dec_u32(&d, &q->flags);
  pc_dec_u64(&d, &q->arg);
  pc_dec_u32(&d, &q->len);
  if (pc_dec_error(&d) || q->kind >= FILES_KIND_COUNT ||
      dec_str(&d, q->path, sizeof q->path) || dec_str(&d, q->path2, sizeof q->path2) ||
      pc_dec_bytes(&d, &data, &n) || n > FILES_INLINE)
    return MN_EDECODE;
  memcpy(q->data, data, n);
  if (q->kind == FILES_WRITE)
    q->len = (uint32_t)n;
  return pc_dec_finish(&d) ? MN_EDECODE : 0;
}

static void
encode_resp(struct pc_enc *e, const void *p)
{
  const struct files_resp *r = p;
  pc_enc_u8(e, r->kind);
  pc_enc_u32(e, r->handle);
  pc_enc_u64(e, r->value);
  pc_enc_u64(e, r->size);
  pc_enc_u64(e, r->free);
  pc_enc_u64(e, r->total);
  pc_enc_u8(e, r->attr);
  pc_enc_str(e, r->name, strnlen(r->name, sizeof r->name));
  pc_enc_bytes(e, r->data, r->len <= FILES_INLINE ? r->len : 0);
}

static void
encode_err(struct pc_enc *e, const void *p)
{
  const struct files_err *x = p;
  pc_enc_u8(e, x->kind);
  pc_enc_i32(e, x->code);
}

static const struct svc_codec codec = { decode_req, encode_resp, encode_err };

/* ---- the task ---------------------------------------------------------------------------- */

static int
files_task(void *arg)
{
  (void)arg;
  struct svc_msg *m = kmalloc(svc_msg_size(srv));
  struct files_resp *r = kmalloc(sizeof *r);
  if (!m || !r)
    return MN_ENOMEM;
  for (;;) {
    int err = svc_recv(srv, m, IDLE_NS);
    if (err == MN_ETIMEDOUT) {
      idle();
      err = svc_recv(srv, m, MN_FOREVER);
    }
    if (err)
      break;
    if (m->env.kind != SVC_MSG_REQUEST)
      continue;
    struct files_req *q = (struct files_req *)(void *)m->body;
    if (m->env.reply.kind == REPLY_USER) {
      q->owner = 0;
      q->buf = NULL;
    }
    err = serve(q, r);
    if (!err) {
      svc_reply_ok(srv, &m->env, r);
    } else {
      struct files_err e = { 0, err };
      svc_reply_err(srv, &m->env, &e);
    }
  }
  kfree(m);
  kfree(r);
  return 0;
}

int
files_start(void)
{
  static const struct svc_type type = FILES_TYPE;
  mount_all();
  int err = svc_register(&(struct uuid)FILES_UUID, "files", &type, &codec, SVC_ACCEPT_ALL,
                         8, &srv);
  if (err)
    return err;
  return task_spawn("files", files_task, NULL, 32768, 0);
}

int
files_connect(struct svc_client *c)
{
  static const struct svc_type type = FILES_TYPE;
  return svc_connect(&(struct uuid)FILES_UUID, &type, NULL, NULL, MN_SEC(1), c);
}

int
files_call(struct svc_client *c, struct files_req *q, struct files_resp *r)
{
  struct files_err e;
  struct task *t = task_current();
  q->owner = t ? t->id : 0;
  int err = svc_call(c, q, r, &e, MN_SEC(60));
  return err == MN_ESERVICE ? (e.code ? e.code : MN_EIO) : err;
}
