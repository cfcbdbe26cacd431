/*
 * fat.c: FAT16 and FAT32 with long file names (see fat.h, docs/fs.md).
 *
 * Interface: fat_probe, fat_mount, fat_sync_clean, fat_unmount, fat_open,
 * fat_read, fat_write, fat_seek, fat_truncate, fat_close, fat_stat,
 * fat_mkdir, fat_unlink, fat_rename, fat_opendir, fat_readdir, fat_space,
 * fat_strerror.
 *
 * FAT sectors live in a small write-back cache that is written (to every
 * copy) only at commit points; directory sectors go through one buffer
 * written at once; file data goes straight to the device. The order of
 * commits is what makes a crash safe (docs/fs.md).
 */
#include <string.h>
#include "mneme/err.h"
#include "mneme/fat.h"

#define EOC32 0x0FFFFFFFu
#define BAD32 0x0FFFFFF7u
#define EOC16 0xFFFFu
#define BAD16 0xFFF7u
#define DIR_ENTRIES_MAX 65536u
#define ROUND_CLUSTERS 1024   /* new clusters per write round (docs/fs.md) */
#define DEFAULT_STAMP ((uint32_t)(((2026 - 1980) << 9) | (1 << 5) | 1) << 16)

static uint16_t
le16(const uint8_t *p)
{
  return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
put16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

const char *
fat_strerror(int err)
{
  switch (err) {
  case FAT_ENOTDIR: return "not a directory";
  case FAT_EISDIR: return "is a directory";
  case FAT_ENOTEMPTY: return "directory not empty";
  case FAT_ECORRUPT: return "file system corrupt";
  case FAT_ENAME: return "name not allowed";
  default: return mn_strerror(err);
  }
}

/* ---- device ------------------------------------------------------------------ */

static int
dread(struct fat_vol *v, uint64_t sec, uint32_t n, void *buf)
{
  if (sec + n > v->dev.sectors || sec + n < sec)
    return FAT_ECORRUPT;
  return v->dev.read(v->dev.ctx, sec, n, buf) ? MN_EIO : 0;
}

static int
dwrite(struct fat_vol *v, uint64_t sec, uint32_t n, const void *buf)
{
  if (sec + n > v->dev.sectors || sec + n < sec)
    return FAT_ECORRUPT;
  /* the directory cache keeps what the disk holds */
  for (int i = 0; i < FAT_DCACHE_SLOTS; i++) {
    uint64_t lo = v->dc[i].sec, hi = lo + v->dc[i].n;
    if (!v->dc[i].n || sec >= hi || sec + n <= lo)
      continue;
    uint64_t a = sec > lo ? sec : lo, b = sec + n < hi ? sec + n : hi;
    memcpy(v->dcbuf[i] + (a - lo) * v->bps, (const uint8_t *)buf + (a - sec) * v->bps,
           (size_t)(b - a) * v->bps);
  }
  int err = v->dev.write(v->dev.ctx, sec, n, buf) ? MN_EIO : 0;
  if (err)
    memset(v->dc, 0, sizeof v->dc);  /* what the disk holds is unknown */
  return err;
}

/* Reads directory sector sec into buf through the cache: a miss reads the
 * run from sec on (up to left sectors, the rest of its cluster). */
static int
dc_read(struct fat_vol *v, uint64_t sec, uint32_t left, uint8_t *buf)
{
  int victim = 0;
  for (int i = 0; i < FAT_DCACHE_SLOTS; i++) {
    if (v->dc[i].n && sec >= v->dc[i].sec && sec < v->dc[i].sec + v->dc[i].n) {
      v->dc[i].used = ++v->dc_stamp;
      memcpy(buf, v->dcbuf[i] + (sec - v->dc[i].sec) * v->bps, v->bps);
      return 0;
    }
    if (!v->dc[i].n || (v->dc[victim].n && v->dc[i].used < v->dc[victim].used))
      victim = i;
  }
  uint32_t n = FAT_DCACHE_RUN / v->bps;
  if (n > left)
    n = left;
  if (n == 0)
    return dread(v, sec, 1, buf);
  v->dc[victim].n = 0;
  int err = dread(v, sec, n, v->dcbuf[victim]);
  if (err)
    return err;
  v->dc[victim].sec = sec;
  v->dc[victim].n = n;
  v->dc[victim].used = ++v->dc_stamp;
  memcpy(buf, v->dcbuf[victim], v->bps);
  return 0;
}

static int
dflush(struct fat_vol *v)
{
  return v->dev.flush && v->dev.flush(v->dev.ctx) ? MN_EIO : 0;
}

static int
valid_clus(const struct fat_vol *v, uint32_t c)
{
  return c >= 2 && c - 2 < v->nclusters;
}

static uint64_t
clus_sec(const struct fat_vol *v, uint32_t c)
{
  return v->data_start + (uint64_t)(c - 2) * v->spc;
}

/* ---- FAT cache ----------------------------------------------------------------- */

static int
slot_write(struct fat_vol *v, int i)
{
  struct fat_cache_slot *s = &v->cache[i];
  for (uint32_t k = 0; k < v->nfats; k++) {
    if (!v->mirror && k != v->active_fat)
      continue;
    int err = dwrite(v, v->fat_start + (uint64_t)k * v->fat_sectors + s->sector, 1, v->cbuf[i]);
    if (err)
      return err;
  }
  s->dirty = 0;
  return 0;
}

/* Writes every dirty FAT sector to every copy (the first copy first), then
 * flushes (when anything was written, or always). */
static int
fat_commit_flush(struct fat_vol *v, int always)
{
  int any = 0;
  for (uint32_t k = 0; k < v->nfats; k++) {
    if (!v->mirror && k != v->active_fat)
      continue;
    for (int i = 0; i < FAT_CACHE_SECTORS; i++) {
      struct fat_cache_slot *s = &v->cache[i];
      if (!s->valid || !s->dirty)
        continue;
      int err = dwrite(v, v->fat_start + (uint64_t)k * v->fat_sectors + s->sector, 1, v->cbuf[i]);
      if (err)
        return err;
      any = 1;
    }
  }
  for (int i = 0; i < FAT_CACHE_SECTORS; i++)
    v->cache[i].dirty = 0;
  return any || always ? dflush(v) : 0;
}

static int
fat_commit(struct fat_vol *v)
{
  return fat_commit_flush(v, 0);
}

static int
fat_slot(struct fat_vol *v, uint32_t fsec, int *out)
{
  int victim = -1;
  for (int i = 0; i < FAT_CACHE_SECTORS; i++) {
    struct fat_cache_slot *s = &v->cache[i];
    if (s->valid && s->sector == fsec) {
      s->used = ++v->stamp;
      *out = i;
      return 0;
    }
    if (victim < 0 || !s->valid ||
        (v->cache[victim].valid && s->used < v->cache[victim].used))
      victim = i;
  }
  struct fat_cache_slot *s = &v->cache[victim];
  if (s->valid && s->dirty) {
    int err = slot_write(v, victim);
    if (err)
      return err;
  }
  s->valid = 0;
  int err = dread(v, v->fat_start + (uint64_t)v->active_fat * v->fat_sectors + fsec, 1,
                  v->cbuf[victim]);
  if (err)
    return err;
  s->valid = 1;
  s->dirty = 0;
  s->sector = fsec;
  s->used = ++v->stamp;
  *out = victim;
  return 0;
}

static int
fat_get(struct fat_vol *v, uint32_t c, uint32_t *val)
{
  if (c - 2 >= v->nclusters && c >= 2)
    return FAT_ECORRUPT;
  uint32_t w = v->type == 32 ? 4 : 2;
  uint32_t off = c * w;
  int i, err = fat_slot(v, off / v->bps, &i);
  if (err)
    return err;
  const uint8_t *p = v->cbuf[i] + off % v->bps;
  *val = v->type == 32 ? le32(p) & 0x0FFFFFFFu : le16(p);
  return 0;
}

static int
fat_set(struct fat_vol *v, uint32_t c, uint32_t val)
{
  if (!valid_clus(v, c))
    return FAT_ECORRUPT;
  uint32_t w = v->type == 32 ? 4 : 2;
  uint32_t off = c * w;
  int i, err = fat_slot(v, off / v->bps, &i);
  if (err)
    return err;
  uint8_t *p = v->cbuf[i] + off % v->bps;
  if (v->type == 32)
    put32(p, (le32(p) & 0xF0000000u) | (val & 0x0FFFFFFFu));
  else
    put16(p, (uint16_t)val);
  v->cache[i].dirty = 1;
  return 0;
}

static uint32_t
eoc(const struct fat_vol *v)
{
  return v->type == 32 ? EOC32 : EOC16;
}

static int
is_eoc(const struct fat_vol *v, uint32_t val)
{
  return v->type == 32 ? val >= 0x0FFFFFF8u : val >= 0xFFF8u;
}

static int
is_bad(const struct fat_vol *v, uint32_t val)
{
  return val == (v->type == 32 ? BAD32 : BAD16);
}

/* The cluster after c: *n = 0 at the end of the chain. */
static int
next_clus(struct fat_vol *v, uint32_t c, uint32_t *n)
{
  uint32_t val;
  int err = fat_get(v, c, &val);
  if (err)
    return err;
  if (is_eoc(v, val)) {
    *n = 0;
    return 0;
  }
  if (!valid_clus(v, val))
    return FAT_ECORRUPT;
  *n = val;
  return 0;
}

/* ---- dirty flag, FSInfo ---------------------------------------------------------- */

static int
set_state(struct fat_vol *v, int dirty)
{
  int err = dread(v, 0, 1, v->tbuf);
  if (err)
    return err;
  uint8_t *st = &v->tbuf[v->type == 32 ? 0x41 : 0x25];
  *st = (uint8_t)(dirty ? *st | 1 : *st & ~1);
  err = dwrite(v, 0, 1, v->tbuf);
  if (!err)
    err = dflush(v);
  return err;
}

static int
mark_dirty(struct fat_vol *v)
{
  if (v->read_only)
    return MN_EACCESS;
  if (v->dirty)
    return 0;
  int err = set_state(v, 1);
  if (!err)
    v->dirty = 1;
  return err;
}

static int
write_fsinfo(struct fat_vol *v)
{
  if (!v->fsinfo)
    return 0;
  int err = dread(v, v->fsinfo, 1, v->tbuf);
  if (err)
    return err;
  if (le32(v->tbuf) != 0x41615252u || le32(v->tbuf + 484) != 0x61417272u)
    return 0;
  put32(v->tbuf + 488, v->free_count);
  put32(v->tbuf + 492, v->next_free);
  return dwrite(v, v->fsinfo, 1, v->tbuf);
}

int
fat_sync_clean(struct fat_vol *v)
{
  if (v->read_only || !v->dirty)
    return 0;
  int serr = fat_sync(v);
  if (serr)
    return serr;
  if (v->open_writers)
    return fat_commit(v);     /* their chains are not linked yet: stay dirty */
  int err = fat_commit(v);
  if (!err)
    err = write_fsinfo(v);
  if (!err)
    err = dflush(v);
  if (!err)
    err = set_state(v, 0);
  if (!err)
    v->dirty = 0;
  return err;
}

int
fat_unmount(struct fat_vol *v)
{
  return fat_sync_clean(v);
}

void
fat_space(const struct fat_vol *v, uint64_t *free_bytes, uint64_t *total_bytes)
{
  *free_bytes = (uint64_t)v->free_count * v->csize;
  *total_bytes = (uint64_t)v->nclusters * v->csize;
}

/* ---- allocation -------------------------------------------------------------- */

/* Finds k free clusters (not yet marked in the FAT), from the hint on. */
static int
find_free(struct fat_vol *v, uint32_t *out, uint32_t k)
{
  uint32_t c = valid_clus(v, v->next_free) ? v->next_free : 2;
  uint32_t got = 0;
  int wrapped = 0;
  for (uint32_t scanned = 0; scanned < v->nclusters && got < k; scanned++) {
    uint32_t val;
    int err = fat_get(v, c, &val);
    if (err)
      return err;
    if (val == 0) {
      int dup = 0;
      for (uint32_t i = 0; wrapped && i < got; i++)
        dup |= out[i] == c;
      if (!dup)
        out[got++] = c;
    }
    if (c + 1 - 2 >= v->nclusters) {
      c = 2;
      wrapped = 1;
    } else {
      c++;
    }
  }
  if (got < k)
    return MN_ENOSPC;
  v->next_free = c;
  return 0;
}

/* Frees the chain from c on (at most nclusters links). Returns the count freed. */
static int
free_chain(struct fat_vol *v, uint32_t c, uint32_t *freed)
{
  *freed = 0;
  for (uint32_t steps = 0; valid_clus(v, c) && steps < v->nclusters; steps++) {
    uint32_t val;
    int err = fat_get(v, c, &val);
    if (err)
      return err;
    if (val == 0 || is_bad(v, val))
      break;
    err = fat_set(v, c, 0);
    if (err)
      return err;
    ++*freed;
    if (is_eoc(v, val))
      break;
    c = val;
  }
  v->free_count += *freed;
  return 0;
}

/* ---- names ----------------------------------------------------------------------- */

static uint8_t
lfn_sum(const uint8_t *shortname)
{
  uint8_t s = 0;
  for (int i = 0; i < 11; i++)
    s = (uint8_t)(((s & 1) << 7) + (s >> 1) + shortname[i]);
  return s;
}

/* UTF-16 (n units) to UTF-8. 0 or FAT_ENAME. */
static int
utf16_to_8(const uint16_t *u, size_t n, char *out, size_t cap)
{
  size_t o = 0;
  if (n == 0)
    return FAT_ENAME;
  for (size_t i = 0; i < n; i++) {
    uint32_t c = u[i];
    if (c >= 0xD800 && c <= 0xDBFF) {
      if (i + 1 >= n || u[i + 1] < 0xDC00 || u[i + 1] > 0xDFFF)
        return FAT_ENAME;
      c = 0x10000 + ((c - 0xD800) << 10) + (u[++i] - 0xDC00);
    } else if (c >= 0xDC00 && c <= 0xDFFF) {
      return FAT_ENAME;
    }
    if (c < 0x20 || c == '/' || c == '\\')
      return FAT_ENAME;
    if (o + 5 > cap)
      return FAT_ENAME;
    if (c < 0x80) {
      out[o++] = (char)c;
    } else if (c < 0x800) {
      out[o++] = (char)(0xC0 | c >> 6);
      out[o++] = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out[o++] = (char)(0xE0 | c >> 12);
      out[o++] = (char)(0x80 | (c >> 6 & 0x3F));
      out[o++] = (char)(0x80 | (c & 0x3F));
    } else {
      out[o++] = (char)(0xF0 | c >> 18);
      out[o++] = (char)(0x80 | (c >> 12 & 0x3F));
      out[o++] = (char)(0x80 | (c >> 6 & 0x3F));
      out[o++] = (char)(0x80 | (c & 0x3F));
    }
  }
  out[o] = 0;
  return 0;
}

/* UTF-8 (len bytes) to UTF-16. Returns the unit count or FAT_ENAME. */
static int
utf8_to_16(const char *s, size_t len, uint16_t *u, size_t cap)
{
  size_t n = 0;
  for (size_t i = 0; i < len;) {
    uint8_t b = (uint8_t)s[i];
    uint32_t c;
    size_t k;
    if (b < 0x80) { c = b; k = 0; }
    else if ((b & 0xE0) == 0xC0) { c = b & 0x1F; k = 1; }
    else if ((b & 0xF0) == 0xE0) { c = b & 0x0F; k = 2; }
    else if ((b & 0xF8) == 0xF0) { c = b & 0x07; k = 3; }
    else return FAT_ENAME;
    if (k && i + k >= len)
      return FAT_ENAME;
    for (size_t j = 1; j <= k; j++) {
      uint8_t t = (uint8_t)s[i + j];
      if ((t & 0xC0) != 0x80)
        return FAT_ENAME;
      c = c << 6 | (t & 0x3F);
    }
    i += k + 1;
    if ((k == 1 && c < 0x80) || (k == 2 && c < 0x800) || (k == 3 && c < 0x10000) ||
        c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
      return FAT_ENAME;
    if (c >= 0x10000) {
      if (n + 2 > cap)
        return FAT_ENAME;
      c -= 0x10000;
      u[n++] = (uint16_t)(0xD800 + (c >> 10));
      u[n++] = (uint16_t)(0xDC00 + (c & 0x3FF));
    } else {
      if (n + 1 > cap)
        return FAT_ENAME;
      u[n++] = (uint16_t)c;
    }
  }
  return (int)n;
}

static void
short_display(const uint8_t *e, char *out)
{
  int o = 0;
  for (int i = 0; i < 8 && e[i] != ' '; i++) {
    uint8_t c = i == 0 && e[0] == 0x05 ? 0xE5 : e[i];
    if (c >= 'A' && c <= 'Z' && (e[12] & 0x08))
      c = (uint8_t)(c + 32);
    out[o++] = c >= 0x20 && c < 0x7F && c != '/' ? (char)c : '_';
  }
  if (e[8] != ' ') {
    out[o++] = '.';
    for (int i = 8; i < 11 && e[i] != ' '; i++) {
      uint8_t c = e[i];
      if (c >= 'A' && c <= 'Z' && (e[12] & 0x10))
        c = (uint8_t)(c + 32);
      out[o++] = c >= 0x20 && c < 0x7F && c != '/' ? (char)c : '_';
    }
  }
  if (o == 0)
    out[o++] = '_';
  out[o] = 0;
}

static int
name_eq(const char *a, const char *b, size_t blen)
{
  for (size_t i = 0; i < blen; i++) {
    unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (!x)
      return 0;
    if (x >= 'a' && x <= 'z')
      x = (unsigned char)(x - 32);
    if (y >= 'a' && y <= 'z')
      y = (unsigned char)(y - 32);
    if (x != y)
      return 0;
  }
  return a[blen] == 0;
}

/* ---- directories ------------------------------------------------------------------- */

/* An entry as found: where, its raw 32 bytes, its name. */
struct found {
  struct fat_loc loc;
  uint8_t raw[32];
  char name[FAT_UTF8_MAX];
  char short_name[13];
  int bad_name;
  int lfn_broken;             /* LFN entries before it belonged to nothing */
  uint32_t orphan_from, orphan_to;  /* their indices [from, to) */
};

static uint32_t
ent_clus(const struct fat_vol *v, const uint8_t *e)
{
  uint32_t c = le16(e + 26);
  if (v->type == 32)
    c |= (uint32_t)le16(e + 20) << 16;
  return c;
}

static void
dir_init(struct fat_vol *v, struct fat_dir *d, uint32_t start)
{
  d->v = v;
  d->start = start == 0 && v->type == 32 ? v->root_cluster : start;
  d->idx = 0;
  d->cur = 0;
  d->cur_idx = 0;
}

/* Volume sector and byte offset of entry idx. MN_ENOENT past the end. */
static int
dir_locate2(struct fat_dir *d, uint32_t idx, uint64_t *sec, uint32_t *off, uint32_t *left);

static int
dir_locate(struct fat_dir *d, uint32_t idx, uint64_t *sec, uint32_t *off)
{
  uint32_t left;
  return dir_locate2(d, idx, sec, off, &left);
}

/* ... and *left, the sectors of the directory from *sec to the end of its cluster. */
static int
dir_locate2(struct fat_dir *d, uint32_t idx, uint64_t *sec, uint32_t *off, uint32_t *left)
{
  struct fat_vol *v = d->v;
  uint32_t eps = v->bps / 32;
  if (idx >= DIR_ENTRIES_MAX)
    return MN_ENOENT;
  if (d->start == 0) {
    if (idx >= v->root_sectors * eps)
      return MN_ENOENT;
    *sec = v->root_start + idx / eps;
    *off = idx % eps * 32;
    *left = v->root_sectors - idx / eps;
    return 0;
  }
  uint32_t epc = v->csize / 32, ci = idx / epc;
  if (d->cur == 0 || ci < d->cur_idx) {
    if (!valid_clus(v, d->start))
      return FAT_ECORRUPT;
    d->cur = d->start;
    d->cur_idx = 0;
  }
  while (d->cur_idx < ci) {
    uint32_t n;
    int err = next_clus(v, d->cur, &n);
    if (err)
      return err;
    if (!n)
      return MN_ENOENT;
    d->cur = n;
    d->cur_idx++;
  }
  *sec = clus_sec(v, d->cur) + idx % epc / eps;
  *off = idx % eps * 32;
  *left = v->spc - idx % epc / eps;
  return 0;
}

/* A pointer to entry idx in the directory buffer. */
static int
dir_get(struct fat_dir *d, uint32_t idx, uint8_t **e, uint64_t *sec_out)
{
  struct fat_vol *v = d->v;
  uint64_t sec;
  uint32_t off, left;
  int err = dir_locate2(d, idx, &sec, &off, &left);
  if (err)
    return err;
  if (v->dsec != sec) {
    v->dsec = ~0ull;
    err = dc_read(v, sec, left, v->dbuf);
    if (err)
      return err;
    v->dsec = sec;
  }
  *e = v->dbuf + off;
  if (sec_out)
    *sec_out = sec;
  return 0;
}

static int
dir_put(struct fat_vol *v)
{
  return dwrite(v, v->dsec, 1, v->dbuf);
}

/*
 * The next entry from d->idx on (LFN assembled, deleted entries and volume
 * labels skipped). MN_ENOENT at the end (d->idx stays on the end marker).
 * Long-name entries that belong to no short entry are reported in
 * f->orphan_from..orphan_to (the first such run).
 */
static int
dir_next(struct fat_dir *d, struct found *f)
{
  static const uint8_t pos[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
  uint16_t lfn[20 * 13];
  int have = 0, ok = 0;
  uint32_t next = 0, lfn_first = 0, nunits = 0;
  uint8_t sum = 0;
  f->lfn_broken = 0;
#define ORPHAN(to)                     \
  do {                                 \
    if (have && !f->lfn_broken) {      \
      f->lfn_broken = 1;               \
      f->orphan_from = lfn_first;      \
      f->orphan_to = (to);             \
    }                                  \
  } while (0)
  for (;;) {
    uint8_t *e;
    int err = dir_get(d, d->idx, &e, NULL);
    if (err)
      return err;
    if (e[0] == 0)
      return MN_ENOENT;
    uint32_t idx = d->idx++;
    if (e[0] == 0xE5) {
      ORPHAN(idx);
      have = 0;
      continue;
    }
    if ((e[11] & 0x3F) == FAT_ATTR_LFN) {
      uint8_t ord = e[0];
      if (ord & 0x40) {
        ORPHAN(idx);
        uint32_t n = ord & 0x3F;
        have = 1;
        lfn_first = idx;
        ok = n >= 1 && n <= 20;
        next = n;
        nunits = n * 13;
        sum = e[13];
      } else if (!have) {
        have = 1;
        lfn_first = idx;
        ok = 0;
        continue;
      } else if (!ok || ord != next || e[13] != sum) {
        ok = 0;
        continue;
      }
      if (!ok)
        continue;
      for (int k = 0; k < 13; k++)
        lfn[(next - 1) * 13 + (uint32_t)k] = le16(e + pos[k]);
      next--;
      continue;
    }
    if (e[11] & FAT_ATTR_VOLUME && !(e[11] & FAT_ATTR_DIR)) {
      ORPHAN(idx);
      have = 0;
      continue;
    }
    memcpy(f->raw, e, 32);
    for (uint32_t q = 0; q < d->v->nqueued; q++) {
      const struct fat_queued *w = &d->v->queued[q];
      if (w->dir == d->start && w->idx == idx) {  /* closed, not committed yet */
        put16(f->raw + 26, (uint16_t)w->first);
        if (d->v->type == 32)
          put16(f->raw + 20, (uint16_t)(w->first >> 16));
        put32(f->raw + 28, w->size);
      }
    }
    f->loc.dir = d->start;
    f->loc.idx = idx;
    f->loc.first = idx;
    f->bad_name = 0;
    short_display(e, f->short_name);
    memcpy(f->name, f->short_name, strlen(f->short_name) + 1);
    if (have) {
      if (!ok || next != 0 || sum != lfn_sum(e)) {
        ORPHAN(idx);
        f->bad_name = 1;
      } else {
        uint32_t n = 0;
        while (n < nunits && lfn[n] != 0)
          n++;
        if (utf16_to_8(lfn, n, f->name, sizeof f->name)) {
          f->bad_name = 1;
          memcpy(f->name, f->short_name, strlen(f->short_name) + 1);
        }
        f->loc.first = lfn_first;
      }
    }
    return 0;
  }
#undef ORPHAN
}

/* Looks name (len bytes) up in the directory. */
static int
dir_find(struct fat_vol *v, uint32_t start, const char *name, size_t len, struct found *f)
{
  struct fat_dir d;
  dir_init(v, &d, start);
  for (;;) {
    int err = dir_next(&d, f);
    if (err)
      return err;
    if ((!f->bad_name && name_eq(f->name, name, len)) || name_eq(f->short_name, name, len))
      return 0;
  }
}

/* Writes the short entry's cluster, size and time. */
static int
ent_write(struct fat_vol *v, uint32_t dir, uint32_t idx, uint32_t first, uint32_t size, int touch,
          int flush)
{
  struct fat_dir d;
  uint8_t *e;
  dir_init(v, &d, dir);
  int err = dir_get(&d, idx, &e, NULL);
  if (err)
    return err;
  put16(e + 26, (uint16_t)first);
  if (v->type == 32)
    put16(e + 20, (uint16_t)(first >> 16));
  put32(e + 28, size);
  if (touch) {
    uint32_t t = v->dev.now ? v->dev.now(v->dev.ctx) : DEFAULT_STAMP;
    put16(e + 22, (uint16_t)t);
    put16(e + 24, (uint16_t)(t >> 16));
    put16(e + 18, (uint16_t)(t >> 16));
  }
  err = dir_put(v);
  if (!err && flush)
    err = dflush(v);
  return err;
}

static int
ent_update(struct fat_vol *v, const struct fat_loc *loc, uint32_t first, uint32_t size, int touch)
{
  return ent_write(v, loc->dir, loc->idx, first, size, touch, 1);
}

/*
 * Commits the new files closed since the last time: their chains (in the
 * FAT cache) and data, one flush; their entries, one flush.
 */
int
fat_sync(struct fat_vol *v)
{
  if (!v->nqueued)
    return 0;
  int err = fat_commit_flush(v, 1);
  for (uint32_t q = 0; q < v->nqueued && !err; q++) {
    const struct fat_queued *w = &v->queued[q];
    err = ent_write(v, w->dir, w->idx, w->first, w->size, 1, 0);
  }
  if (!err)
    err = dflush(v);
  if (!err)
    v->nqueued = 0;
  return err;
}

/* Marks entries first..idx of a directory deleted. */
static int
ent_delete(struct fat_vol *v, const struct fat_loc *loc)
{
  struct fat_dir d;
  dir_init(v, &d, loc->dir);
  uint64_t cur = ~0ull;
  for (uint32_t i = loc->first; i <= loc->idx; i++) {
    uint8_t *e;
    uint64_t sec;
    int err = dir_locate(&d, i, &sec, &(uint32_t){ 0 });
    if (err)
      return err;
    if (cur != ~0ull && sec != cur) {
      err = dir_put(v);
      if (err)
        return err;
    }
    err = dir_get(&d, i, &e, &sec);
    if (err)
      return err;
    cur = sec;
    e[0] = 0xE5;
  }
  int err = cur != ~0ull ? dir_put(v) : 0;
  if (!err)
    err = dflush(v);
  return err;
}

/* ---- paths ------------------------------------------------------------------------ */

struct pathres {
  uint32_t parent;            /* first cluster of the parent directory (0: root) */
  const char *name;           /* last component */
  size_t len;
  int found;                  /* f is the entry */
  int is_root;                /* the path names the root */
  struct found f;
};

static uint32_t
dir_of(const struct fat_vol *v, const uint8_t *e)
{
  uint32_t c = ent_clus(v, e);
  return c;                    /* 0: the root (".." of a first-level dir) */
}

static int
resolve(struct fat_vol *v, const char *path, struct pathres *r)
{
  uint32_t dir = 0;
  const char *p = path;
  r->is_root = 0;
  r->found = 0;
  for (;;) {
    while (*p == '/')
      p++;
    if (!*p) {
      r->is_root = 1;
      r->parent = 0;
      r->name = p;
      r->len = 0;
      return 0;
    }
    const char *s = p;
    while (*p && *p != '/')
      p++;
    size_t len = (size_t)(p - s);
    const char *q = p;
    while (*q == '/')
      q++;
    int last = !*q;
    if (len == 1 && s[0] == '.') {
      if (last) {
        if (dir == 0) {
          r->is_root = 1;
          r->parent = 0;
          r->name = q;
          r->len = 0;
          return 0;
        }
      } else {
        continue;
      }
    }
    if (len > FAT_UTF8_MAX - 1)
      return FAT_ENAME;
    if (len == 2 && s[0] == '.' && s[1] == '.' && dir == 0) {
      if (last) {
        r->is_root = 1;
        r->parent = 0;
        r->name = q;
        r->len = 0;
        return 0;
      }
      continue;
    }
    int err = dir_find(v, dir, s, len, &r->f);
    if (last) {
      r->parent = dir;
      r->name = s;
      r->len = len;
      if (err == MN_ENOENT)
        return 0;
      if (err)
        return err;
      r->found = 1;
      if (r->f.raw[0] == '.' && (r->f.raw[11] & FAT_ATTR_DIR) && dir_of(v, r->f.raw) == 0) {
        r->is_root = 1;
        r->found = 0;
      }
      return 0;
    }
    if (err)
      return err;
    if (!(r->f.raw[11] & FAT_ATTR_DIR))
      return FAT_ENOTDIR;
    dir = dir_of(v, r->f.raw);
    if (dir != 0 && !valid_clus(v, dir))
      return FAT_ECORRUPT;
    if (dir != 0 && v->type == 32 && dir == v->root_cluster)
      dir = 0;
  }
}

/* ---- creating entries ------------------------------------------------------------------ */

static int
sfn_char(unsigned c)
{
  if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return 1;
  return c != 0 && strchr("$%'-_@~`!(){}^#&", (int)c) != NULL;
}

/* Short entry name for name; *lossless: stored exactly (besides case). */
static void
short_basis(const char *name, size_t len, uint8_t *sfn, int *lossless, int *has_lower, int *blen)
{
  memset(sfn, ' ', 11);
  *lossless = 1;
  *has_lower = 0;
  size_t dot = len;
  for (size_t i = 0; i < len; i++)
    if (name[i] == '.')
      dot = i;
  if (dot == 0)
    dot = len, *lossless = 0;
  int b = 0, x = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned c = (unsigned char)name[i];
    if (i == dot)
      continue;
    if (c >= 'a' && c <= 'z') {
      c -= 32;
      *has_lower = 1;
    }
    if (c == ' ' || c == '.') {
      *lossless = 0;
      continue;
    }
    if (!sfn_char(c)) {
      *lossless = 0;
      c = '_';
      if ((unsigned char)name[i] >= 0x80)
        while (i + 1 < len && ((unsigned char)name[i + 1] & 0xC0) == 0x80)
          i++;
    }
    if (i < dot) {
      if (b < 8)
        sfn[b++] = (uint8_t)c;
      else
        *lossless = 0;
    } else {
      if (x < 3)
        sfn[8 + x++] = (uint8_t)c;
      else
        *lossless = 0;
    }
  }
  if (b == 0) {
    sfn[0] = '_';
    b = 1;
    *lossless = 0;
  }
  *blen = b;
}

/* Picks BASIS~N unused in the directory. */
static int
short_unique(struct fat_vol *v, uint32_t dir, uint8_t *sfn, int blen)
{
  uint8_t used[128];
  memset(used, 0, sizeof used);
  int pre = blen < 6 ? blen : 6;
  struct fat_dir d;
  struct found f;
  dir_init(v, &d, dir);
  for (;;) {
    int err = dir_next(&d, &f);
    if (err == MN_ENOENT)
      break;
    if (err)
      return err;
    const uint8_t *e = f.raw;
    if (memcmp(e + 8, sfn + 8, 3))
      continue;
    int i = 0;
    while (i < 8 && e[i] != '~')
      i++;
    if (i == 8 || i > pre || memcmp(e, sfn, (size_t)i))
      continue;
    unsigned n = 0;
    int j = i + 1;
    while (j < 8 && e[j] >= '0' && e[j] <= '9')
      n = n * 10 + (unsigned)(e[j++] - '0');
    if (n > 0 && n < 1024)
      used[n / 8] |= (uint8_t)(1 << n % 8);
  }
  unsigned n = 1;
  while (n < 1024 && used[n / 8] & (1 << n % 8))
    n++;
  if (n >= 1024)
    return MN_ENOSPC;
  char num[8];
  int k = 0;
  for (unsigned t = n; t; t /= 10)
    num[k++] = (char)('0' + t % 10);
  int keep = 8 - 1 - k;
  if (keep > pre)
    keep = pre;
  int o = keep;
  sfn[o++] = '~';
  while (k)
    sfn[o++] = (uint8_t)num[--k];
  while (o < 8)
    sfn[o++] = ' ';
  return 0;
}

/* Zeroes a new cluster of a directory (or writes "." and ".."). */
static int
clus_zero(struct fat_vol *v, uint32_t c, const uint8_t *first_sector)
{
  memset(v->tbuf, 0, v->bps);
  for (uint32_t s = 0; s < v->spc; s++) {
    int err = dwrite(v, clus_sec(v, c) + s, 1, s == 0 && first_sector ? first_sector : v->tbuf);
    if (err)
      return err;
  }
  return 0;
}

/* Appends a zeroed cluster to a directory chain. */
static int
dir_extend(struct fat_vol *v, uint32_t start)
{
  if (start == 0)
    return MN_ENOSPC;         /* FAT16 root: fixed size */
  uint32_t c, last = start;
  for (uint32_t steps = 0;; steps++) {
    uint32_t n;
    int err = next_clus(v, last, &n);
    if (err)
      return err;
    if (!n)
      break;
    if (steps > DIR_ENTRIES_MAX)
      return FAT_ECORRUPT;
    last = n;
  }
  int err = find_free(v, &c, 1);
  if (!err)
    err = clus_zero(v, c, NULL);
  if (!err)
    err = dflush(v);
  if (!err)
    err = fat_set(v, c, eoc(v));
  if (!err)
    err = fat_commit(v);
  if (!err)
    err = fat_set(v, last, c);
  if (!err)
    err = fat_commit(v);
  if (!err)
    v->free_count--;
  v->dsec = ~0ull;
  return err;
}

/*
 * Creates an entry name (len bytes) in directory dir with the short-entry
 * fields of tmpl (attributes, cluster, size, times; NULL: a new empty file).
 */
static int
ent_create(struct fat_vol *v, uint32_t dir, const char *name, size_t len,
           const uint8_t *tmpl, uint8_t attr, struct fat_loc *loc)
{
  uint16_t u[FAT_NAME_MAX + 1];
  if (len == 0 || (len <= 2 && name[0] == '.' && name[len - 1] == '.'))
    return FAT_ENAME;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c < 0x20 || strchr("\"*/:<>?\\|", c))
      return FAT_ENAME;
  }
  if (name[len - 1] == '.' || name[len - 1] == ' ')
    return FAT_ENAME;
  int nu = utf8_to_16(name, len, u, FAT_NAME_MAX);
  if (nu < 0)
    return nu;
  uint8_t sfn[11];
  int lossless, lower, blen;
  short_basis(name, len, sfn, &lossless, &lower, &blen);
  int err;
  if (!lossless) {
    err = short_unique(v, dir, sfn, blen);
    if (err)
      return err;
  }
  if (sfn[0] == 0xE5)
    sfn[0] = 0x05;
  int need_lfn = !lossless || lower;
  uint32_t nlfn = need_lfn ? ((uint32_t)nu + 12) / 13 : 0, slots = nlfn + 1;
  /* a run of free slots */
  struct fat_dir d;
  dir_init(v, &d, dir);
  uint32_t run = 0, start = 0, idx = 0;
  for (;; idx++) {
    uint8_t *e;
    err = dir_get(&d, idx, &e, NULL);
    if (err == MN_ENOENT) {
      if (idx >= DIR_ENTRIES_MAX)
        return MN_ENOSPC;
      err = dir_extend(v, d.start);
      if (err)
        return err;
      idx--;
      continue;
    }
    if (err)
      return err;
    if (e[0] == 0 || e[0] == 0xE5) {
      if (run++ == 0)
        start = idx;
      if (run == slots)
        break;
    } else {
      run = 0;
    }
  }
  uint8_t ent[32];
  if (tmpl) {
    memcpy(ent, tmpl, 32);
  } else {
    memset(ent, 0, 32);
    uint32_t t = v->dev.now ? v->dev.now(v->dev.ctx) : DEFAULT_STAMP;
    put16(ent + 14, (uint16_t)t);
    put16(ent + 16, (uint16_t)(t >> 16));
    put16(ent + 18, (uint16_t)(t >> 16));
    put16(ent + 22, (uint16_t)t);
    put16(ent + 24, (uint16_t)(t >> 16));
    ent[11] = attr;
  }
  memcpy(ent, sfn, 11);
  ent[12] = 0;
  uint8_t sum = lfn_sum(sfn);
  uint64_t cur = ~0ull;
  int multi = 0;
  for (uint32_t k = 0; k < slots; k++) {
    uint8_t *e;
    uint64_t sec;
    uint32_t off;
    err = dir_locate(&d, start + k, &sec, &off);
    if (err)
      return err;
    if (cur != ~0ull && sec != cur && (err = dir_put(v)))
      return err;
    multi |= cur != ~0ull && sec != cur;
    err = dir_get(&d, start + k, &e, &sec);
    if (err)
      return err;
    cur = sec;
    if (k == nlfn) {
      memcpy(e, ent, 32);
      break;
    }
    uint32_t ord = nlfn - k;
    static const uint8_t pos[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
    memset(e, 0, 32);
    e[0] = (uint8_t)(ord | (k == 0 ? 0x40 : 0));
    e[11] = FAT_ATTR_LFN;
    e[13] = sum;
    for (int j = 0; j < 13; j++) {
      uint32_t ui = (ord - 1) * 13 + (uint32_t)j;
      uint16_t c = ui < (uint32_t)nu ? u[ui] : ui == (uint32_t)nu ? 0 : 0xFFFF;
      put16(e + pos[j], c);
    }
  }
  err = dir_put(v);
  /* a new empty file in one sector needs no flush of its own: it is
   * durable with its first commit (file_commit), and a crash before
   * loses only the file being made */
  if (!err && (tmpl || multi))
    err = dflush(v);
  if (err)
    return err;
  loc->dir = d.start;
  loc->first = start;
  loc->idx = start + nlfn;
  return 0;
}

/* ---- files ----------------------------------------------------------------------------- */

static void
file_from(struct fat_vol *v, struct fat_file *f, const struct found *e, unsigned flags)
{
  memset(f, 0, sizeof *f);
  f->v = v;
  f->loc = e->loc;
  f->first = ent_clus(v, e->raw);
  f->size = le32(e->raw + 28);
  f->dfirst = f->first;
  f->dsize = f->size;
  f->attr = e->raw[11];
  f->flags = (uint8_t)flags;
}

/* Walks the chain: its length and last cluster (loops and bad links: error). */
static int
file_chain(struct fat_file *f)
{
  struct fat_vol *v = f->v;
  f->nclus = 0;
  f->last = 0;
  f->cur = 0;
  if (!f->first)
    return f->size ? FAT_ECORRUPT : 0;
  if (!valid_clus(v, f->first))
    return FAT_ECORRUPT;
  uint32_t c = f->first;
  while (c) {
    if (++f->nclus > v->nclusters)
      return FAT_ECORRUPT;      /* a loop */
    f->last = c;
    int err = next_clus(v, c, &c);
    if (err)
      return err;
  }
  if ((uint64_t)f->nclus * v->csize < f->size)
    return FAT_ECORRUPT;
  f->clast = f->last;
  return 0;
}

/* Cluster ci of the file; beyond nclus: newc[ci - nclus]. */
static int
clus_at(struct fat_file *f, uint32_t ci, const uint32_t *newc, uint32_t nnew, uint32_t *c)
{
  if (ci >= f->nclus) {
    if (ci - f->nclus >= nnew)
      return FAT_ECORRUPT;
    *c = newc[ci - f->nclus];
    return 0;
  }
  if (f->cur == 0 || ci < f->cur_idx) {
    f->cur = f->first;
    f->cur_idx = 0;
  }
  while (f->cur_idx < ci) {
    uint32_t n;
    int err = 0;
    if (f->pfirst && f->cur == f->clast)
      n = f->pfirst;          /* the link is not in the FAT yet */
    else
      err = next_clus(f->v, f->cur, &n);
    if (err)
      return err;
    if (!n)
      return FAT_ECORRUPT;
    f->cur = n;
    f->cur_idx++;
  }
  *c = f->cur;
  return 0;
}

/*
 * Moves bytes between buf and the file at [pos, pos + n): existing clusters
 * and then newc. write: buf NULL writes zeros.
 */
static int
data_io(struct fat_file *f, uint32_t pos, uint8_t *rbuf, const uint8_t *wbuf, int write,
        uint32_t n, const uint32_t *newc, uint32_t nnew)
{
  struct fat_vol *v = f->v;
  uint32_t done = 0;
  while (done < n) {
    uint32_t p = pos + done, ci = p / v->csize, co = p % v->csize, c;
    int err = clus_at(f, ci, newc, nnew, &c);
    if (err)
      return err;
    uint64_t sec = clus_sec(v, c) + co / v->bps;
    uint32_t so = co % v->bps, left = n - done;
    if (so || left < v->bps || (write && !wbuf)) {
      uint32_t k = v->bps - so < left ? v->bps - so : left;
      if (write) {
        if (so || k < v->bps) {
          if (sec < v->dev.sectors && (p - so) < f->size)
            err = dread(v, sec, 1, v->tbuf);
          else
            memset(v->tbuf, 0, v->bps);
          if (err)
            return err;
        }
        if (wbuf)
          memcpy(v->tbuf + so, wbuf + done, k);
        else
          memset(v->tbuf + so, 0, k);
        err = dwrite(v, sec, 1, v->tbuf);
      } else {
        err = dread(v, sec, 1, v->tbuf);
        if (!err)
          memcpy(rbuf + done, v->tbuf + so, k);
      }
      if (err)
        return err;
      done += k;
      continue;
    }
    /* whole sectors: to the end of this cluster, then on through the
     * following clusters while they are contiguous on the disk */
    uint32_t maxs = left / v->bps, cnt = (v->csize - co) / v->bps;
    if (cnt > maxs)
      cnt = maxs;
    for (uint32_t cc = c, cci = ci; cnt < maxs && cnt < 8192; cci++) {
      uint32_t c2;
      if (clus_at(f, cci + 1, newc, nnew, &c2) || c2 != cc + 1)
        break;
      cc = c2;
      cnt = cnt + v->spc < maxs ? cnt + v->spc : maxs;
    }
    if (write)
      err = dwrite(v, sec, cnt, wbuf + done);
    else
      err = dread(v, sec, cnt, rbuf + done);
    if (err)
      return err;
    done += cnt * v->bps;
  }
  return 0;
}

long
fat_read(struct fat_file *f, void *buf, size_t n)
{
  if (!(f->flags & FAT_READ))
    return MN_EACCESS;
  if (f->pos >= f->size)
    return 0;
  if (n > f->size - f->pos)
    n = f->size - f->pos;
  if (n > 0x40000000u)
    n = 0x40000000u;
  int err = data_io(f, f->pos, buf, NULL, 0, (uint32_t)n, NULL, 0);
  if (err)
    return err;
  f->pos += (uint32_t)n;
  return (long)n;
}

/* The FAT sector holding cluster c's entry. */
static uint32_t
fat_sec_of(const struct fat_vol *v, uint32_t c)
{
  return c * (v->type == 32 ? 4u : 2u) / v->bps;
}

/*
 * Commits the file's writes (docs/fs.md, "Write ordering"): the clusters
 * not linked yet are chained in the FAT cache; their FAT sectors are
 * written (every copy) and flushed with the data; then the link from the
 * chain on disk, flushed (in the same write when it shares the one FAT
 * sector of the new clusters); then the directory entry, flushed.
 */
static int
file_commit(struct fat_file *f)
{
  struct fat_vol *v = f->v;
  if (!f->pfirst && !f->unsynced && f->size == f->dsize && f->first == f->dfirst)
    return 0;
  int err;
  if (f->pfirst) {
    uint32_t ls = f->clast ? fat_sec_of(v, f->clast) : 0;
    int together = !f->clast || (f->psec_lo == ls && f->psec_hi == ls);
    err = f->clast && together ? fat_set(v, f->clast, f->pfirst) : 0;
    if (!err)
      err = fat_commit_flush(v, 1);
    if (!err && !together) {
      err = fat_set(v, f->clast, f->pfirst);
      if (!err)
        err = fat_commit(v);
    }
  } else {
    err = dflush(v);
  }
  if (!err)
    err = ent_update(v, &f->loc, f->first, f->size, 1);
  if (err)
    return err;
  f->dfirst = f->first;
  f->dsize = f->size;
  f->clast = f->last;
  f->pfirst = 0;
  f->unsynced = 0;
  return 0;
}

/*
 * Writes n bytes (zeros when src is NULL) at f->pos. New clusters are
 * taken and chained in the FAT cache only (linked to the file at the
 * commit); the data goes to the disk at once.
 */
static int
write_span(struct fat_file *f, const uint8_t *src, uint32_t n)
{
  struct fat_vol *v = f->v;
  uint32_t done = 0;
  while (done < n) {
    uint64_t end = (uint64_t)f->pos + (n - done);
    uint64_t need = (end + v->csize - 1) / v->csize;
    int err;
    if (need > f->nclus) {
      uint32_t newc[ROUND_CLUSTERS];
      uint64_t want = need - f->nclus;
      uint32_t k = want > ROUND_CLUSTERS ? ROUND_CLUSTERS : (uint32_t)want;
      if (k > v->free_count)
        return MN_ENOSPC;
      err = find_free(v, newc, k);
      for (uint32_t i = 0; i < k && !err; i++)
        err = fat_set(v, newc[i], i + 1 < k ? newc[i + 1] : eoc(v));
      if (!err && f->pfirst)
        err = fat_set(v, f->last, newc[0]);
      if (err)
        return err;
      if (!f->pfirst) {
        f->pfirst = newc[0];
        f->psec_lo = f->psec_hi = fat_sec_of(v, newc[0]);
        if (!f->nclus)
          f->first = newc[0];
      }
      for (uint32_t i = 0; i < k; i++) {
        uint32_t fs = fat_sec_of(v, newc[i]);
        if (fs < f->psec_lo)
          f->psec_lo = fs;
        if (fs > f->psec_hi)
          f->psec_hi = fs;
      }
      f->nclus += k;
      f->last = newc[k - 1];
      v->free_count -= k;
    }
    uint64_t cap = (uint64_t)f->nclus * v->csize;
    uint32_t rend = (uint32_t)(end < cap ? end : cap);
    uint32_t len = rend - f->pos;
    err = data_io(f, f->pos, NULL, src ? src + done : NULL, 1, len, NULL, 0);
    if (err)
      return err;
    if (rend > f->size)
      f->size = rend;
    f->pos = rend;
    done += len;
    f->unsynced = f->unsynced + len < f->unsynced ? ~0u : f->unsynced + len;
    if (f->unsynced >= FAT_COMMIT_BYTES && (err = file_commit(f)))
      return err;
  }
  return 0;
}

long
fat_write(struct fat_file *f, const void *buf, size_t n)
{
  if (!(f->flags & FAT_WRITE))
    return MN_EACCESS;
  if (n == 0)
    return 0;
  if (n > 0xFFFFFFFFu - f->pos)
    return MN_ERANGE;
  int err = mark_dirty(f->v);
  if (err)
    return err;
  if (f->pos > f->size) {
    uint32_t pos = f->pos;
    f->pos = f->size;
    err = write_span(f, NULL, pos - f->size);
    if (err)
      return err;
  }
  err = write_span(f, buf, (uint32_t)n);
  return err ? err : (long)n;
}

int
fat_seek(struct fat_file *f, uint32_t pos)
{
  f->pos = pos;
  return 0;
}

int
fat_truncate(struct fat_file *f, uint32_t size)
{
  struct fat_vol *v = f->v;
  if (!(f->flags & FAT_WRITE))
    return MN_EACCESS;
  int err = mark_dirty(v);
  if (!err)
    err = file_commit(f);
  if (err)
    return err;
  if (size > f->size) {
    uint32_t pos = f->pos;
    f->pos = f->size;
    err = write_span(f, NULL, size - f->size);
    f->pos = pos;
    return err ? err : file_commit(f);  /* a truncate is committed at once */
  }
  if (size == f->size)
    return 0;
  uint32_t keep = (uint32_t)(((uint64_t)size + v->csize - 1) / v->csize);
  uint32_t tail = 0, newlast = 0;
  if (keep < f->nclus) {
    err = clus_at(f, keep, NULL, 0, &tail);
    if (!err && keep)
      err = clus_at(f, keep - 1, NULL, 0, &newlast);
    if (err)
      return err;
  } else {
    newlast = f->last;
  }
  uint32_t first = keep ? f->first : 0;
  err = ent_update(v, &f->loc, first, size, 1);
  if (err)
    return err;
  f->size = f->dsize = size;
  f->first = f->dfirst = first;
  if (tail) {
    uint32_t freed;
    if (newlast)
      err = fat_set(v, newlast, eoc(v));
    if (!err)
      err = free_chain(v, tail, &freed);
    if (!err)
      err = fat_commit(v);
    if (err)
      return err;
    f->nclus = keep;
    f->last = f->clast = newlast;
  }
  f->cur = 0;
  return 0;
}

int
fat_flush(struct fat_file *f)
{
  int err = f->flags & FAT_WRITE ? file_commit(f) : 0;
  return err ? err : fat_sync(f->v);
}

int
fat_close(struct fat_file *f)
{
  int err = 0;
  struct fat_vol *v = f->v;
  if (f->flags & FAT_WRITE && !f->clast && !f->dfirst && !f->dsize && f->pfirst) {
    /* a new file: its entry waits for fat_sync (no link to order) */
    if (v->nqueued == FAT_QUEUE_MAX)
      err = fat_sync(v);
    if (!err) {
      struct fat_queued *w = &v->queued[v->nqueued++];
      w->dir = f->loc.dir;
      w->idx = f->loc.idx;
      w->first = f->first;
      w->size = f->size;
    }
    if (v->open_writers > 0)
      v->open_writers--;
    f->flags = 0;
    return err;
  }
  if (f->flags & FAT_WRITE) {
    err = file_commit(f);
    if (f->v->open_writers > 0)
      f->v->open_writers--;
  }
  f->flags = 0;
  return err;
}

int
fat_open(struct fat_vol *v, const char *path, unsigned flags, struct fat_file *f)
{
  struct pathres r;
  if (!(flags & (FAT_READ | FAT_WRITE)))
    return MN_EINVAL;
  if ((flags & (FAT_WRITE | FAT_CREATE | FAT_TRUNC)) && v->read_only)
    return MN_EACCESS;
  int err = resolve(v, path, &r);
  if (err)
    return err;
  if (r.is_root)
    return FAT_EISDIR;
  if (r.found) {
    if (flags & FAT_CREATE && flags & FAT_EXCL)
      return MN_EEXIST;
    if (r.f.raw[11] & FAT_ATTR_DIR)
      return FAT_EISDIR;
    if (flags & FAT_WRITE && r.f.raw[11] & FAT_ATTR_RO)
      return MN_EACCESS;
    for (uint32_t q = 0; flags & FAT_WRITE && q < v->nqueued; q++)
      if (v->queued[q].dir == r.f.loc.dir && v->queued[q].idx == r.f.loc.idx) {
        err = fat_sync(v);    /* written again: its entry on the disk first */
        if (err)
          return err;
        break;
      }
    file_from(v, f, &r.f, flags);
  } else {
    if (!(flags & FAT_CREATE))
      return MN_ENOENT;
    struct found nf;
    err = mark_dirty(v);
    if (!err)
      err = ent_create(v, r.parent, r.name, r.len, NULL, FAT_ATTR_ARCHIVE, &nf.loc);
    if (err)
      return err;
    memset(nf.raw, 0, sizeof nf.raw);
    nf.raw[11] = FAT_ATTR_ARCHIVE;
    file_from(v, f, &nf, flags);
  }
  err = file_chain(f);
  if (err)
    return err;
  if (flags & FAT_TRUNC && flags & FAT_WRITE && f->size) {
    err = fat_truncate(f, 0);
    if (err)
      return err;
  }
  if (flags & FAT_WRITE)
    v->open_writers++;
  return 0;
}

static void
stat_from(const struct fat_vol *v, const struct found *e, struct fat_stat *st)
{
  memcpy(st->name, e->name, strlen(e->name) + 1);
  memcpy(st->short_name, e->short_name, strlen(e->short_name) + 1);
  st->size = le32(e->raw + 28);
  st->first_cluster = ent_clus(v, e->raw);
  st->attr = e->raw[11];
  st->time = le16(e->raw + 22);
  st->date = le16(e->raw + 24);
  st->bad_name = e->bad_name;
  if (st->attr & FAT_ATTR_DIR)
    st->size = 0;
}

int
fat_stat(struct fat_vol *v, const char *path, struct fat_stat *st)
{
  struct pathres r;
  int err = resolve(v, path, &r);
  if (err)
    return err;
  if (r.is_root) {
    memset(st, 0, sizeof *st);
    memcpy(st->name, "/", strlen("/") + 1);
    st->attr = FAT_ATTR_DIR;
    return 0;
  }
  if (!r.found)
    return MN_ENOENT;
  stat_from(v, &r.f, st);
  return 0;
}

int
fat_opendir(struct fat_vol *v, const char *path, struct fat_dir *d)
{
  struct pathres r;
  int err = resolve(v, path, &r);
  if (err)
    return err;
  if (r.is_root) {
    dir_init(v, d, 0);
    return 0;
  }
  if (!r.found)
    return MN_ENOENT;
  if (!(r.f.raw[11] & FAT_ATTR_DIR))
    return FAT_ENOTDIR;
  uint32_t c = ent_clus(v, r.f.raw);
  if (!valid_clus(v, c))
    return FAT_ECORRUPT;
  dir_init(v, d, c);
  return 0;
}

int
fat_readdir(struct fat_dir *d, struct fat_stat *st)
{
  struct found f;
  for (;;) {
    int err = dir_next(d, &f);
    if (err)
      return err;
    if (f.raw[0] == '.' && (f.raw[1] == ' ' || (f.raw[1] == '.' && f.raw[2] == ' ')))
      continue;
    stat_from(d->v, &f, st);
    return 0;
  }
}

int
fat_mkdir(struct fat_vol *v, const char *path)
{
  struct pathres r;
  int err = resolve(v, path, &r);
  if (err)
    return err;
  if (r.is_root || r.found)
    return MN_EEXIST;
  err = mark_dirty(v);
  if (err)
    return err;
  uint32_t c;
  if (!v->free_count)
    return MN_ENOSPC;
  err = find_free(v, &c, 1);
  if (err)
    return err;
  uint32_t t = v->dev.now ? v->dev.now(v->dev.ctx) : DEFAULT_STAMP;
  uint8_t *s = v->dbuf;       /* built here; dbuf is reloaded after */
  v->dsec = ~0ull;
  memset(s, 0, v->bps);
  for (int k = 0; k < 2; k++) {
    uint8_t *e = s + 32 * k;
    memset(e, ' ', 11);
    e[0] = '.';
    if (k)
      e[1] = '.';
    e[11] = FAT_ATTR_DIR;
    uint32_t cl = k ? r.parent : c;
    if (k && v->type == 32 && cl == v->root_cluster)
      cl = 0;
    put16(e + 26, (uint16_t)cl);
    if (v->type == 32)
      put16(e + 20, (uint16_t)(cl >> 16));
    put16(e + 14, (uint16_t)t);
    put16(e + 16, (uint16_t)(t >> 16));
    put16(e + 22, (uint16_t)t);
    put16(e + 24, (uint16_t)(t >> 16));
  }
  err = clus_zero(v, c, s);
  v->dsec = ~0ull;
  if (!err)
    err = dflush(v);
  if (!err)
    err = fat_set(v, c, eoc(v));
  if (!err)
    err = fat_commit(v);
  if (err)
    return err;
  v->free_count--;
  uint8_t tmpl[32];
  memset(tmpl, 0, sizeof tmpl);
  tmpl[11] = FAT_ATTR_DIR;
  put16(tmpl + 26, (uint16_t)c);
  if (v->type == 32)
    put16(tmpl + 20, (uint16_t)(c >> 16));
  put16(tmpl + 14, (uint16_t)t);
  put16(tmpl + 16, (uint16_t)(t >> 16));
  put16(tmpl + 18, (uint16_t)(t >> 16));
  put16(tmpl + 22, (uint16_t)t);
  put16(tmpl + 24, (uint16_t)(t >> 16));
  struct fat_loc loc;
  return ent_create(v, r.parent, r.name, r.len, tmpl, 0, &loc);
}

/* 0 empty, FAT_ENOTEMPTY, or an error. */
static int
dir_empty(struct fat_vol *v, uint32_t c)
{
  struct fat_dir d;
  struct fat_stat st;
  dir_init(v, &d, c);
  int err = fat_readdir(&d, &st);
  return err == MN_ENOENT ? 0 : err ? err : FAT_ENOTEMPTY;
}

int
fat_unlink(struct fat_vol *v, const char *path)
{
  struct pathres r;
  int err = fat_sync(v);
  if (!err)
    err = resolve(v, path, &r);
  if (err)
    return err;
  if (r.is_root)
    return MN_EACCESS;
  if (!r.found)
    return MN_ENOENT;
  if (r.f.raw[0] == '.')
    return MN_EINVAL;
  uint32_t c = ent_clus(v, r.f.raw);
  if (r.f.raw[11] & FAT_ATTR_DIR) {
    if (!valid_clus(v, c))
      return FAT_ECORRUPT;
    err = dir_empty(v, c);
    if (err)
      return err;
  }
  err = mark_dirty(v);
  if (!err)
    err = ent_delete(v, &r.f.loc);
  if (err)
    return err;
  if (valid_clus(v, c)) {
    uint32_t freed;
    err = free_chain(v, c, &freed);
    if (!err)
      err = fat_commit(v);
  }
  return err;
}

/* Sets (on = 1) or clears the rename mark of the short entry at loc. */
static int
ent_mark(struct fat_vol *v, const struct fat_loc *loc, int on)
{
  struct fat_dir d;
  uint8_t *e;
  dir_init(v, &d, loc->dir);
  int err = dir_get(&d, loc->idx, &e, NULL);
  if (err)
    return err;
  if (on)
    e[12] |= FAT_NT_RENAMING;
  else
    e[12] &= (uint8_t)~FAT_NT_RENAMING;
  err = dir_put(v);
  if (!err)
    err = dflush(v);
  return err;
}

/* Points the .. entry of directory c at parent (0: the root). */
static int
set_dotdot(struct fat_vol *v, uint32_t c, uint32_t parent)
{
  struct fat_dir d;
  uint8_t *e;
  dir_init(v, &d, c);
  int err = dir_get(&d, 1, &e, NULL);
  if (err)
    return err;
  if (e[0] != '.' || e[1] != '.')
    return 0;
  put16(e + 26, (uint16_t)parent);
  if (v->type == 32)
    put16(e + 20, (uint16_t)(parent >> 16));
  err = dir_put(v);
  if (!err)
    err = dflush(v);
  return err;
}

int
fat_rename(struct fat_vol *v, const char *from, const char *to)
{
  struct pathres a, b;
  int err = fat_sync(v);
  if (!err)
    err = resolve(v, from, &a);
  if (err)
    return err;
  if (a.is_root)
    return MN_EACCESS;
  if (!a.found)
    return MN_ENOENT;
  if (a.f.raw[0] == '.')
    return MN_EINVAL;
  err = resolve(v, to, &b);
  if (err)
    return err;
  if (b.is_root)
    return MN_EEXIST;
  if (b.found && (b.f.loc.dir != a.f.loc.dir || b.f.loc.idx != a.f.loc.idx))
    return MN_EEXIST;
  int isdir = a.f.raw[11] & FAT_ATTR_DIR;
  uint32_t c = ent_clus(v, a.f.raw);
  uint32_t bparent = b.parent;
  if (isdir && bparent != 0) {
    /* the new parent must not lie inside the directory moved */
    uint32_t p = bparent;
    for (int depth = 0; p != 0; depth++) {
      if (p == c)
        return MN_EINVAL;
      if (depth > 1000)
        return FAT_ECORRUPT;
      struct found up;
      err = dir_find(v, p, "..", 2, &up);
      if (err)
        return err == MN_ENOENT ? FAT_ECORRUPT : err;
      p = ent_clus(v, up.raw);
      if (v->type == 32 && p == v->root_cluster)
        p = 0;
    }
  }
  err = mark_dirty(v);
  if (err)
    return err;
  /* The old entry is marked first: a crash before it is deleted leaves
   * either it alone (the check clears the mark and points a directory's
   * .. back at it) or it and the new entry sharing the chain (the check
   * deletes the marked one). */
  err = ent_mark(v, &a.f.loc, 1);
  if (err)
    return err;
  uint32_t ap = a.f.loc.dir == (v->type == 32 ? v->root_cluster : 0) ? 0 : a.f.loc.dir;
  uint32_t bp = bparent == (v->type == 32 ? v->root_cluster : 0) ? 0 : bparent;
  if (isdir && ap != bp && valid_clus(v, c)) {
    err = set_dotdot(v, c, bp);
    if (err)
      return err;
  }
  uint8_t raw[32];
  memcpy(raw, a.f.raw, 32);
  raw[12] &= (uint8_t)~FAT_NT_RENAMING;
  struct fat_loc nl;
  err = ent_create(v, bparent, b.name, b.len, raw, 0, &nl);
  if (err) {
    ent_mark(v, &a.f.loc, 0);
    if (isdir && ap != bp && valid_clus(v, c))
      set_dotdot(v, c, ap);
    return err;
  }
  /* the old entry may have moved out of dbuf, never on disk: delete it */
  return ent_delete(v, &a.f.loc);
}

/* ---- mount and check ------------------------------------------------------------------ */

int
fat_probe(const uint8_t *b, size_t len)
{
  if (len < 512 || b[510] != 0x55 || b[511] != 0xAA)
    return 0;
  if (b[0] != 0xEB && b[0] != 0xE9)
    return 0;
  uint16_t bps = le16(b + 11);
  uint8_t spc = b[13];
  if (bps < 512 || bps > 4096 || (bps & (bps - 1)) || !spc || (spc & (spc - 1)))
    return 0;
  return b[16] >= 1 && le16(b + 14) >= 1;
}

#define CHECK_RENAMES 16

struct check {
  struct {
    struct fat_loc loc;
    uint32_t clus, size, parent;
    uint16_t depth;
    uint8_t isdir;
  } ren[CHECK_RENAMES];       /* entries marked FAT_NT_RENAMING, for the end */
  uint32_t nren;
  uint8_t *map;               /* clusters used by some file */
  uint32_t *queue;            /* directories to walk: first cluster */
  uint16_t *depth;
  uint32_t qlen, qcap;
};

static int
mark(struct check *k, uint32_t c)
{
  int was = k->map[c / 8] >> (c % 8) & 1;
  k->map[c / 8] |= (uint8_t)(1 << c % 8);
  return was;
}

static int
enqueue(struct fat_vol *v, struct check *k, uint32_t c, uint16_t depth)
{
  if (k->qlen == k->qcap) {
    uint32_t ncap = k->qcap ? k->qcap * 2 : 64;
    uint32_t *nq = v->dev.alloc(v->dev.ctx, ncap * sizeof *nq);
    uint16_t *nd = v->dev.alloc(v->dev.ctx, ncap * sizeof *nd);
    if (!nq || !nd) {
      if (nq)
        v->dev.free(v->dev.ctx, nq);
      if (nd)
        v->dev.free(v->dev.ctx, nd);
      return MN_ENOMEM;
    }
    if (k->qlen) {
      memcpy(nq, k->queue, k->qlen * sizeof *nq);
      memcpy(nd, k->depth, k->qlen * sizeof *nd);
    }
    if (k->queue) {
      v->dev.free(v->dev.ctx, k->queue);
      v->dev.free(v->dev.ctx, k->depth);
    }
    k->queue = nq;
    k->depth = nd;
    k->qcap = ncap;
  }
  k->queue[k->qlen] = c;
  k->depth[k->qlen++] = depth;
  return 0;
}

/*
 * Marks the chain from c. need: clusters the file needs (UINT32_MAX: a
 * directory, all of them). Trims a longer chain. Returns 0 or an I/O error.
 */
static int
check_chain(struct fat_vol *v, struct check *k, struct fat_report *rep, uint32_t c,
            uint32_t need, int isdir)
{
  uint32_t prev = 0, n = 0;
  while (c) {
    if (!valid_clus(v, c)) {
      rep->bad_chains++;
      if (!isdir && n < need)
        rep->bad_sizes++;
      return 0;
    }
    if (n == need && prev && !isdir) {
      /* longer than the file: the tail is lost (freed by the caller) */
      if (!v->read_only) {
        int err = fat_set(v, prev, eoc(v));
        if (err)
          return err;
      }
      rep->chains_trimmed++;
      return 0;
    }
    if (mark(k, c)) {
      if (n == 0 && isdir)
        rep->dir_loops++;
      else
        rep->cross_linked++;
      return 0;
    }
    uint32_t val;
    int err = fat_get(v, c, &val);
    if (err)
      return err;
    n++;
    prev = c;
    if (is_eoc(v, val))
      break;
    if (val == 0 || is_bad(v, val) || !valid_clus(v, val)) {
      rep->bad_chains++;
      if (!isdir && n < need)
        rep->bad_sizes++;
      return 0;
    }
    c = val;
  }
  if (!isdir && n < need)
    rep->bad_sizes++;
  return 0;
}

static int
check_dir(struct fat_vol *v, struct check *k, struct fat_report *rep, uint32_t start,
          uint16_t depth)
{
  struct fat_dir d;
  struct found f;
  dir_init(v, &d, start);
  for (;;) {
    int err = dir_next(&d, &f);
    if (err == MN_ENOENT || err == FAT_ECORRUPT)
      return 0;               /* a broken directory chain is reported already */
    if (err)
      return err;
    if (f.lfn_broken && !v->read_only && f.orphan_to > f.orphan_from) {
      struct fat_loc ol = { d.start, f.orphan_to - 1, f.orphan_from };
      err = ent_delete(v, &ol);
      if (err)
        return err;
      rep->orphans_fixed++;
    }
    if (f.bad_name)
      rep->bad_names++;
    const uint8_t *e = f.raw;
    if (e[0] == '.')
      continue;               /* . and .. */
    uint32_t c = ent_clus(v, e), size = le32(e + 28);
    if ((e[12] & FAT_NT_RENAMING) && k->nren < CHECK_RENAMES) {
      /* a rename was cut: decided once every other entry is seen */
      k->ren[k->nren].loc = f.loc;
      k->ren[k->nren].clus = c;
      k->ren[k->nren].size = size;
      k->ren[k->nren].parent = d.start == (v->type == 32 ? v->root_cluster : 0) ? 0 : d.start;
      k->ren[k->nren].depth = depth;
      k->ren[k->nren++].isdir = (e[11] & FAT_ATTR_DIR) != 0;
      continue;
    }
    if (e[11] & FAT_ATTR_DIR) {
      if (!valid_clus(v, c)) {
        rep->bad_chains++;
        continue;
      }
      if (k->map[c / 8] >> (c % 8) & 1) {
        rep->dir_loops++;
        continue;
      }
      err = check_chain(v, k, rep, c, UINT32_MAX, 1);
      if (err)
        return err;
      if (depth + 1 >= FAT_DEPTH_MAX) {
        rep->too_deep++;
        continue;
      }
      err = enqueue(v, k, c, (uint16_t)(depth + 1));
      if (err)
        return err;
    } else if (c) {
      uint32_t need = (uint32_t)(((uint64_t)size + v->csize - 1) / v->csize);
      err = check_chain(v, k, rep, c, need ? need : UINT32_MAX, 0);
      if (err)
        return err;
    } else if (size) {
      rep->bad_sizes++;
    }
  }
}

/* A rename cut short (its old entry still marked): when some other entry
 * uses its first cluster, the new entry was written: the old one goes;
 * else the rename never happened: the mark goes (and a directory's ..
 * points back at this parent), and the entry is checked as any other. */
static int
check_rename(struct fat_vol *v, struct check *k, struct fat_report *rep, uint32_t r, int repair)
{
  uint32_t c = k->ren[r].clus;
  int isdir = k->ren[r].isdir, err = 0;
  if (valid_clus(v, c) && (k->map[c / 8] >> (c % 8) & 1)) {
    rep->renames_finished++;
    return repair ? ent_delete(v, &k->ren[r].loc) : 0;
  }
  rep->renames_undone++;
  if (repair) {
    err = ent_mark(v, &k->ren[r].loc, 0);
    if (!err && isdir && valid_clus(v, c))
      err = set_dotdot(v, c, k->ren[r].parent);
    if (err)
      return err;
  }
  if (isdir) {
    if (!valid_clus(v, c)) {
      rep->bad_chains++;
      return 0;
    }
    err = check_chain(v, k, rep, c, UINT32_MAX, 1);
    if (!err && k->ren[r].depth + 1 < FAT_DEPTH_MAX)
      err = enqueue(v, k, c, (uint16_t)(k->ren[r].depth + 1));
    return err;
  }
  if (c) {
    uint32_t size = k->ren[r].size;
    uint32_t need = (uint32_t)(((uint64_t)size + v->csize - 1) / v->csize);
    return check_chain(v, k, rep, c, need ? need : UINT32_MAX, 0);
  }
  if (k->ren[r].size)
    rep->bad_sizes++;
  return 0;
}

static int
check_mirror(struct fat_vol *v, struct fat_report *rep)
{
  if (!v->mirror || v->nfats < 2)
    return 0;
  for (uint32_t s = 0; s < v->fat_sectors; s++) {
    int err = dread(v, v->fat_start + (uint64_t)v->active_fat * v->fat_sectors + s, 1, v->tbuf);
    if (err)
      return err;
    for (uint32_t m = 0; m < v->nfats; m++) {
      if (m == v->active_fat)
        continue;
      uint64_t ms = v->fat_start + (uint64_t)m * v->fat_sectors + s;
      v->dsec = ~0ull;
      err = dread(v, ms, 1, v->dbuf);
      if (err)
        return err;
      if (memcmp(v->tbuf, v->dbuf, v->bps)) {
        if (!v->read_only) {
          err = dwrite(v, ms, 1, v->tbuf);
          if (err)
            return err;
        }
        rep->mirror_fixed++;
      }
    }
  }
  return 0;
}

static int
check(struct fat_vol *v, struct fat_report *rep)
{
  struct check k = { 0 };
  size_t maplen = (v->nclusters + 2 + 7) / 8;
  k.map = v->dev.alloc(v->dev.ctx, maplen);
  if (!k.map)
    return MN_ENOMEM;
  memset(k.map, 0, maplen);
  int err = 0;
  int repair = !v->read_only;
  err = check_mirror(v, rep);
  if (!err && repair && rep->mirror_fixed)
    err = dflush(v);
  if (!err && v->type == 32) {
    if (valid_clus(v, v->root_cluster))
      err = check_chain(v, &k, rep, v->root_cluster, UINT32_MAX, 1);
    else
      err = FAT_ECORRUPT;
  }
  if (!err)
    err = enqueue(v, &k, 0, 0);
  uint32_t qi = 0, ri = 0;
  while (!err && (qi < k.qlen || ri < k.nren)) {
    if (qi < k.qlen) {
      err = check_dir(v, &k, rep, k.queue[qi], k.depth[qi]);
      qi++;
      continue;
    }
    err = check_rename(v, &k, rep, ri++, repair);
  }
  /* lost clusters, and the free count */
  uint32_t nfree = 0;
  for (uint32_t c = 2; !err && c - 2 < v->nclusters; c++) {
    uint32_t val;
    err = fat_get(v, c, &val);
    if (err)
      break;
    if (val == 0) {
      nfree++;
    } else if (!is_bad(v, val) && !(k.map[c / 8] >> (c % 8) & 1)) {
      if (repair) {
        err = fat_set(v, c, 0);
        rep->lost_freed++;
        nfree++;
      } else {
        rep->lost_found++;
      }
    }
  }
  if (!err) {
    v->free_count = nfree;
    if (repair)
      err = fat_commit(v);
  }
  v->dev.free(v->dev.ctx, k.map);
  if (k.queue) {
    v->dev.free(v->dev.ctx, k.queue);
    v->dev.free(v->dev.ctx, k.depth);
  }
  rep->checked = !err;
  return err;
}

static int
count_free(struct fat_vol *v)
{
  uint32_t nfree = 0;
  for (uint32_t c = 2; c - 2 < v->nclusters; c++) {
    uint32_t val;
    int err = fat_get(v, c, &val);
    if (err)
      return err;
    nfree += val == 0;
  }
  v->free_count = nfree;
  return 0;
}

int
fat_mount(struct fat_vol *v, const struct fat_dev *dev, struct fat_report *report)
{
  struct fat_report dummy;
  struct fat_report *rep = report ? report : &dummy;
  memset(rep, 0, sizeof *rep);
  memset(v, 0, offsetof(struct fat_vol, cbuf));
  v->nqueued = 0;
  memset(v->dc, 0, sizeof v->dc);
  v->dev = *dev;
  v->dsec = ~0ull;
  v->read_only = dev->read_only;
  if (dev->sector_size < 512 || dev->sector_size > FAT_SECTOR_MAX || dev->sectors < 1)
    return MN_EFORMAT;
  v->bps = dev->sector_size;
  int err = dread(v, 0, 1, v->tbuf);
  if (err)
    return err;
  const uint8_t *b = v->tbuf;
  if (!fat_probe(b, v->bps))
    return MN_EFORMAT;
  if (le16(b + 11) != dev->sector_size)
    return MN_EFORMAT;
  v->spc = b[13];
  v->csize = v->bps * v->spc;
  if (v->csize > 65536)
    return MN_EFORMAT;
  uint32_t rsvd = le16(b + 14);
  v->nfats = b[16];
  if (v->nfats > 4)
    return MN_EFORMAT;
  uint32_t rootents = le16(b + 17);
  uint32_t total = le16(b + 19) ? le16(b + 19) : le32(b + 32);
  uint32_t fatsz = le16(b + 22) ? le16(b + 22) : le32(b + 36);
  if (!fatsz || !total || total > dev->sectors)
    return MN_EFORMAT;
  v->root_sectors = (rootents * 32 + v->bps - 1) / v->bps;
  v->fat_start = rsvd;
  v->fat_sectors = fatsz;
  uint64_t data = (uint64_t)rsvd + (uint64_t)v->nfats * fatsz + v->root_sectors;
  if (data >= total)
    return MN_EFORMAT;
  v->root_start = rsvd + v->nfats * fatsz;
  v->data_start = (uint32_t)data;
  v->nclusters = (uint32_t)((total - data) / v->spc);
  /* FAT32 when the 16-bit FAT size is 0 (as Linux decides: mkfs.fat
   * makes small FAT32 volumes too); else FAT16 or FAT12 by cluster count */
  v->type = le16(b + 22) == 0 ? 32 : 16;
  if (v->type == 16 && v->nclusters < 4085)
    return MN_ENOTSUP;       /* FAT12 */
  if (v->type == 16 && v->nclusters >= 65525)
    return MN_EFORMAT;
  if (v->nclusters < 1 || v->nclusters > 0x0FFFFFF5u)
    return MN_EFORMAT;
  if ((uint64_t)fatsz * v->bps / (v->type / 8) < (uint64_t)v->nclusters + 2)
    return FAT_ECORRUPT;
  v->mirror = 1;
  if (v->type == 32) {
    if (rootents || le16(b + 22))
      return MN_EFORMAT;
    v->root_cluster = le32(b + 44);
    if (!valid_clus(v, v->root_cluster))
      return FAT_ECORRUPT;
    uint16_t ext = le16(b + 40);
    if (ext & 0x80) {
      v->mirror = 0;
      v->active_fat = ext & 0x0F;
      if (v->active_fat >= v->nfats)
        return FAT_ECORRUPT;
    }
    uint16_t fsi = le16(b + 48);
    v->fsinfo = fsi && fsi < rsvd ? fsi : 0;
    memcpy(v->label, b + 0x47, 11);
    rep->was_dirty = b[0x41] & 1;
  } else {
    if (!rootents)
      return MN_EFORMAT;
    memcpy(v->label, b + 0x2B, 11);
    rep->was_dirty = b[0x25] & 1;
  }
  v->label[11] = 0;
  for (int i = 10; i >= 0 && v->label[i] == ' '; i--)
    v->label[i] = 0;
  v->next_free = 2;
  if (dev->alloc && dev->free) {
    if (!v->read_only) {
      err = mark_dirty(v);
      if (err)
        return err;
    }
    err = check(v, rep);
    if (err == MN_ENOMEM)
      err = count_free(v);
    if (!err && !v->read_only)
      err = fat_sync_clean(v);
  } else {
    err = count_free(v);
  }
  return err;
}
