/*
 * forth_files.c: File-Access and shell words on the files service
 * (see forth_files.h).
 *
 * Interface: forth_files_install, forth_files_install_access, forth_files_open, forth_files_read,
 * forth_files_close.
 *
 * Every word is one or a few calls to the files service from the VM's
 * task (svc_call: the task waits for the answer, other tasks run). Reads
 * and writes go straight between the service and the VM's memory.
 */
#include <string.h>
#include "mneme/err.h"
#include "mneme/fat.h"
#include "mneme/files.h"
#include "mneme/forth_files.h"
#include "mneme/kmem.h"
#include "mneme/log.h"

struct call {
  struct svc_client c;
  struct files_req q;
  struct files_resp r;
};

static struct forth_task *
me(forth_vm *vm)
{
  return forth_host_ctx(vm);
}

/* A request block, connected. NULL: no memory or no service (*err). */
static struct call *
call_new(uint8_t kind, int *err)
{
  struct call *k = kmalloc(sizeof *k);
  if (!k) {
    *err = MN_ENOMEM;
    return NULL;
  }
  memset(&k->q, 0, offsetof(struct files_req, data));
  k->q.kind = kind;
  *err = files_connect(&k->c);
  if (*err) {
    kfree(k);
    return NULL;
  }
  return k;
}

static int
call_do(struct call *k)
{
  return files_call(&k->c, &k->q, &k->r);
}

static void
call_free(struct call *k)
{
  svc_disconnect(&k->c);
  kfree(k);
}

/* Copies a Forth string into a path ("/" put in front of a relative one). */
static int
set_path(char *dst, const char *s, size_t n)
{
  size_t o = 0;
  if (!n || s[0] != '/')
    dst[o++] = '/';
  if (n + o >= FILES_PATH_MAX)
    return FAT_ENAME;
  memcpy(dst + o, s, n);
  dst[o + n] = 0;
  return 0;
}

/* One request with a path; fills *r if given. Returns the ior. */
static int
path_call(uint8_t kind, const char *s, size_t n, const char *s2, size_t n2, uint64_t arg,
          struct files_resp *r)
{
  int err;
  struct call *k = call_new(kind, &err);
  if (!k)
    return err;
  err = set_path(k->q.path, s, n);
  if (!err && s2)
    err = set_path(k->q.path2, s2, n2);
  k->q.arg = arg;
  if (!err)
    err = call_do(k);
  if (!err && r)
    memcpy(r, &k->r, offsetof(struct files_resp, data));
  call_free(k);
  return err;
}

/* One request on a handle; data at buf (len bytes). */
static int
handle_call(uint8_t kind, forth_cell h, uint64_t arg, void *buf, uint32_t len,
            struct files_resp *r)
{
  if (h <= 0 || (forth_ucell)h > UINT32_MAX)
    return MN_EINVAL;
  int err;
  struct call *k = call_new(kind, &err);
  if (!k)
    return err;
  k->q.handle = (uint32_t)h;
  k->q.arg = arg;
  k->q.buf = buf;
  k->q.len = len;
  static uint8_t none;
  if (!buf)
    k->q.buf = &none;          /* a kernel buffer, never the inline one */
  err = call_do(k);
  if (!err && r)
    memcpy(r, &k->r, offsetof(struct files_resp, data));
  call_free(k);
  return err;
}

static int
pop_n(forth_vm *vm, forth_cell *v, int n)
{
  if (forth_depth(vm) < n)
    return -4;
  for (int i = n - 1; i >= 0; i--)
    forth_pop(vm, &v[i]);
  return 0;
}

/* A string argument as a host pointer: NULL if not the VM's. */
static const char *
str_of(forth_vm *vm, forth_cell a, forth_cell n)
{
  if (n < 0 || n >= FILES_PATH_MAX)
    return NULL;
  return forth_mem(vm, a, (size_t)n);
}

/* ---- File-Access ---------------------------------------------------------------- */

static int w_ro(forth_vm *vm, void *c) { (void)c; return forth_push(vm, FAT_READ); }
static int w_wo(forth_vm *vm, void *c) { (void)c; return forth_push(vm, FAT_WRITE); }
static int w_rw(forth_vm *vm, void *c) { (void)c; return forth_push(vm, FAT_READ | FAT_WRITE); }
static int w_bin(forth_vm *vm, void *c) { (void)c; return forth_depth(vm) < 1 ? -4 : 0; }

static int
open_common(forth_vm *vm, unsigned extra)
{
  forth_cell a[3], h = 0;
  int err = pop_n(vm, a, 3);
  if (err)
    return err;
  if (a[1] < 0 || a[1] >= FILES_PATH_MAX) {
    err = FAT_ENAME;
  } else {
    const char *s = forth_mem(vm, a[0], (size_t)a[1]);
    unsigned fam = (unsigned)a[2] & (FAT_READ | FAT_WRITE);
    if (!s && a[1])
      return -9;
    err = fam ? 0 : MN_EINVAL;
    struct call *k = err ? NULL : call_new(FILES_OPEN, &err);
    if (k) {
      err = set_path(k->q.path, s, (size_t)a[1]);
      k->q.flags = fam | extra;
      if (!err)
        err = call_do(k);
      h = err ? 0 : (forth_cell)k->r.handle;
      call_free(k);
    }
  }
  if (forth_push(vm, h))
    return -3;
  return forth_push(vm, err);
}

static int
w_open_file(forth_vm *vm, void *c)
{
  (void)c;
  return open_common(vm, 0);
}

static int
w_create_file(forth_vm *vm, void *c)
{
  (void)c;
  return open_common(vm, FAT_CREATE | FAT_TRUNC | FAT_WRITE);
}

static int
w_close_file(forth_vm *vm, void *c)
{
  (void)c;
  forth_cell h;
  if (forth_pop(vm, &h))
    return -4;
  return forth_push(vm, handle_call(FILES_CLOSE, h, 0, NULL, 0, NULL));
}

static int
w_read_file(forth_vm *vm, void *c)
{
  (void)c;
  forth_cell a[3];
  if (pop_n(vm, a, 3))
    return -4;
  if (a[1] < 0 || a[1] > 0x40000000)
    return -24;
  void *buf = forth_mem(vm, a[0], (size_t)a[1]);
  if (!buf && a[1])
    return -9;
  struct files_resp r;
  r.value = 0;
  int err = a[1] ? handle_call(FILES_READ, a[2], 0, buf, (uint32_t)a[1], &r) : 0;
  forth_push(vm, err ? 0 : (forth_cell)r.value);
  return forth_push(vm, err);
}

static int
w_read_line(forth_vm *vm, void *c)
{
  (void)c;
  forth_cell a[3];
  if (pop_n(vm, a, 3))
    return -4;
  if (a[1] < 0 || a[1] > 0x40000000)
    return -24;
  void *buf = forth_mem(vm, a[0], (size_t)a[1]);
  if (!buf && a[1])
    return -9;
  struct files_resp r;
  r.value = 0;
  r.attr = 0;
  int err = handle_call(FILES_READ_LINE, a[2], 0, buf, (uint32_t)a[1], &r);
  forth_push(vm, err ? 0 : (forth_cell)r.value);
  forth_push(vm, !err && r.attr ? -1 : 0);
  return forth_push(vm, err);
}

static int
write_common(forth_vm *vm, int line)
{
  forth_cell a[3];
  if (pop_n(vm, a, 3))
    return -4;
  if (a[1] < 0 || a[1] > 0x40000000)
    return -24;
  void *buf = forth_mem(vm, a[0], (size_t)a[1]);
  if (!buf && a[1])
    return -9;
  int err = a[1] ? handle_call(FILES_WRITE, a[2], 0, buf, (uint32_t)a[1], NULL) : 0;
  if (!err && line)
    err = handle_call(FILES_WRITE, a[2], 0, "\n", 1, NULL);
  return forth_push(vm, err);
}

static int w_write_file(forth_vm *vm, void *c) { (void)c; return write_common(vm, 0); }
static int w_write_line(forth_vm *vm, void *c) { (void)c; return write_common(vm, 1); }

static int
w_delete_file(forth_vm *vm, void *c)
{
  (void)c;
  forth_cell a[2];
  if (pop_n(vm, a, 2))
    return -4;
  const char *s = str_of(vm, a[0], a[1]);
  if (!s)
    return forth_push(vm, FAT_ENAME);
  return forth_push(vm, path_call(FILES_UNLINK, s, (size_t)a[1], NULL, 0, 0, NULL));
}

static int
w_rename_file(forth_vm *vm, void *c)
{
  (void)c;
  forth_cell a[4];
  if (pop_n(vm, a, 4))
    return -4;
  const char *s = str_of(vm, a[0], a[1]), *s2 = str_of(vm, a[2], a[3]);
  if (!s || !s2)
    return forth_push(vm, FAT_ENAME);
  return forth_push(vm, path_call(FILES_RENAME, s, (size_t)a[1], s2, (size_t)a[3], 0, NULL));
}

/* ( fileid -- ud ior ): which 0 position, 1 size */
static int
fstat_common(forth_vm *vm, int which)
{
  forth_cell h;
  if (forth_pop(vm, &h))
    return -4;
  struct files_resp r;
  int err = handle_call(FILES_FSTAT, h, 0, NULL, 0, &r);
  uint64_t v = err ? 0 : which ? r.size : r.value;
  forth_push(vm, (forth_cell)v);
  forth_push(vm, 0);
  return forth_push(vm, err);
}

static int w_file_position(forth_vm *vm, void *c) { (void)c; return fstat_common(vm, 0); }
static int w_file_size(forth_vm *vm, void *c) { (void)c; return fstat_common(vm, 1); }

/* ( ud fileid -- ior ) */
static int
ud_common(forth_vm *vm, uint8_t kind)
{
  forth_cell a[3];
  if (pop_n(vm, a, 3))
    return -4;
  if (a[1] != 0 || a[0] < 0 || (forth_ucell)a[0] > 0xFFFFFFFFu)
    return forth_push(vm, MN_ERANGE);
  return forth_push(vm, handle_call(kind, a[2], (uint64_t)a[0], NULL, 0, NULL));
}

static int w_reposition_file(forth_vm *vm, void *c) { (void)c; return ud_common(vm, FILES_SEEK); }
static int w_resize_file(forth_vm *vm, void *c) { (void)c; return ud_common(vm, FILES_TRUNCATE); }

static int
w_flush_file(forth_vm *vm, void *c)
{
  (void)c;
  forth_cell h;
  if (forth_pop(vm, &h))
    return -4;
  struct files_resp r;
  int err = handle_call(FILES_FSTAT, h, 0, NULL, 0, &r);  /* a valid fileid? */
  if (!err)
    err = path_call(FILES_SYNC, "/", 1, NULL, 0, 0, NULL);
  return forth_push(vm, err);
}

static int
w_file_status(forth_vm *vm, void *c)
{
  (void)c;
  forth_cell a[2];
  if (pop_n(vm, a, 2))
    return -4;
  const char *s = str_of(vm, a[0], a[1]);
  struct files_resp r;
  int err = s ? path_call(FILES_STAT, s, (size_t)a[1], NULL, 0, 0, &r) : FAT_ENAME;
  forth_push(vm, err ? 0 : r.attr);
  return forth_push(vm, err);
}

/* ---- shell words ------------------------------------------------------------------- */

static void
say(struct forth_task *ft, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(struct forth_task *ft, const char *fmt, ...)
{
  char b[FILES_PATH_MAX + 64];
  va_list ap;
  va_start(ap, fmt);
  int n = kvsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  forth_task_out(ft, b, n < (int)sizeof b ? (size_t)n : sizeof b - 1);
}

static int
fail(struct forth_task *ft, const char *word, int err)
{
  say(ft, "%s: %s\n", word, fat_strerror(err));
  return FT_E_FILE;
}

/* Pops ( c-addr u ) into a host string. 0, -4, -9, or FT_E_FILE. */
static int
pop_str(forth_vm *vm, const char **s, size_t *n)
{
  forth_cell a[2];
  if (pop_n(vm, a, 2))
    return -4;
  if (a[1] < 0 || a[1] >= FILES_PATH_MAX)
    return fail(me(vm), "path", FAT_ENAME);
  *s = forth_mem(vm, a[0], (size_t)a[1]);
  *n = (size_t)a[1];
  return *s || !a[1] ? 0 : -9;
}

static int
w_ls(forth_vm *vm, void *c)
{
  (void)c;
  struct forth_task *ft = me(vm);
  const char *s;
  size_t n;
  int err = pop_str(vm, &s, &n);
  if (err)
    return err;
  struct call *k = call_new(FILES_READDIR, &err);
  if (!k)
    return fail(ft, "LS", err);
  err = set_path(k->q.path, s, n);
  for (uint64_t i = 0; !err; i++) {
    k->q.arg = i;
    err = call_do(k);
    if (err)
      break;
    if (k->r.attr & FAT_ATTR_DIR)
      say(ft, "%10s  %s/\n", "<dir>", k->r.name);
    else
      say(ft, "%10llu  %s\n", (unsigned long long)k->r.size, k->r.name);
  }
  call_free(k);
  return err == MN_ENOENT ? 0 : fail(ft, "LS", err);
}

static int
w_cat(forth_vm *vm, void *c)
{
  (void)c;
  struct forth_task *ft = me(vm);
  const char *s;
  size_t n;
  int err = pop_str(vm, &s, &n);
  if (err)
    return err;
  struct call *k = call_new(FILES_OPEN, &err);
  if (!k)
    return fail(ft, "CAT", err);
  char *buf = kmalloc(512);
  err = buf ? set_path(k->q.path, s, n) : MN_ENOMEM;
  k->q.flags = FAT_READ;
  if (!err)
    err = call_do(k);
  if (!err) {
    uint32_t h = k->r.handle;
    memset(&k->q, 0, offsetof(struct files_req, data));
    k->q.handle = h;
    k->q.buf = buf;
    k->q.len = 512;
    for (;;) {
      k->q.kind = FILES_READ;
      err = call_do(k);
      if (err || !k->r.value)
        break;
      forth_task_out(ft, buf, (size_t)k->r.value);
    }
    k->q.kind = FILES_CLOSE;
    call_do(k);
  }
  kfree(buf);
  call_free(k);
  return err ? fail(ft, "CAT", err) : 0;
}

static int
path_word(forth_vm *vm, const char *word, uint8_t kind)
{
  const char *s;
  size_t n;
  int err = pop_str(vm, &s, &n);
  if (err)
    return err;
  err = path_call(kind, s, n, NULL, 0, 0, NULL);
  return err ? fail(me(vm), word, err) : 0;
}

static int w_rm(forth_vm *vm, void *c) { (void)c; return path_word(vm, "RM", FILES_UNLINK); }
static int w_mkdir(forth_vm *vm, void *c) { (void)c; return path_word(vm, "MKDIR", FILES_MKDIR); }

static int
w_df(forth_vm *vm, void *c)
{
  (void)c;
  struct forth_task *ft = me(vm);
  int err;
  struct call *k = call_new(FILES_READDIR, &err);
  if (!k)
    return fail(ft, "DF", err);
  say(ft, "volume        type     free KiB    total KiB\n");
  for (uint64_t i = 0;; i++) {
    k->q.kind = FILES_READDIR;
    memcpy(k->q.path, "/", 2);
    k->q.arg = i;
    if (call_do(k))
      break;
    char name[FILES_PATH_MAX];
    ksnprintf(name, sizeof name, "/%s", k->r.name);
    k->q.kind = FILES_SPACE;
    memcpy(k->q.path, name, strlen(name) + 1);
    if (call_do(k))
      continue;
    say(ft, "%-12s  %-5s %12llu %12llu\n", name, k->r.name,
        (unsigned long long)(k->r.free >> 10), (unsigned long long)(k->r.total >> 10));
  }
  call_free(k);
  return 0;
}

/* ---- the VM's file hooks (INCLUDED) --------------------------------------------------- */

int
forth_files_open(void *ctx, const char *name, size_t len)
{
  (void)ctx;
  int err;
  struct call *k = call_new(FILES_OPEN, &err);
  if (!k)
    return -38;
  err = set_path(k->q.path, name, len);
  k->q.flags = FAT_READ;
  if (!err)
    err = call_do(k);
  uint32_t h = k->r.handle;
  call_free(k);
  return err ? -38 : (int)h;
}

long
forth_files_read(void *ctx, int handle, char *buf, size_t cap)
{
  (void)ctx;
  struct files_resp r;
  if (cap > 0x40000000)
    cap = 0x40000000;
  int err = handle_call(FILES_READ, handle, 0, buf, (uint32_t)cap, &r);
  return err ? -37 : (long)r.value;
}

void
forth_files_close(void *ctx, int handle)
{
  (void)ctx;
  handle_call(FILES_CLOSE, handle, 0, NULL, 0, NULL);
}

/* Block n of the blocks file `name`: one open, seek, read or write, close. */
static int
files_block(void *ctx, const char *name, size_t len, int write, uint64_t n, void *buf)
{
  (void)ctx;
  if (n >= 0xFFFFFFFFu / 1024)
    return MN_ERANGE;
  uint32_t at = (uint32_t)n * 1024;
  int err;
  struct call *k = call_new(FILES_OPEN, &err);
  if (!k)
    return err;
  err = set_path(k->q.path, name, len);
  k->q.flags = write ? FAT_READ | FAT_WRITE | FAT_CREATE : FAT_READ;
  if (!err)
    err = call_do(k);
  if (err == MN_ENOENT && !write) {  /* no blocks file yet: all spaces */
    call_free(k);
    memset(buf, ' ', 1024);
    return 0;
  }
  if (err) {
    call_free(k);
    return err;
  }
  uint32_t h = k->r.handle;
  call_free(k);
  struct files_resp r;
  err = handle_call(FILES_FSTAT, h, 0, NULL, 0, &r);
  if (!err && write && r.size < at)  /* grow the file up to the block */
    err = handle_call(FILES_TRUNCATE, h, at, NULL, 0, NULL);
  if (!err)
    err = handle_call(FILES_SEEK, h, at, NULL, 0, NULL);
  uint32_t got = 0;
  while (!err && got < 1024) {
    err = handle_call(write ? FILES_WRITE : FILES_READ, h, 0, (char *)buf + got,
                      1024 - got, &r);
    if (err || (!write && r.value == 0))
      break;
    got += write ? 1024 - got : (uint32_t)r.value;
  }
  if (!err && !write && got < 1024)
    memset((char *)buf + got, ' ', 1024 - got);
  int e2 = handle_call(FILES_CLOSE, h, 0, NULL, 0, NULL);
  return err ? err : e2;
}

const struct forth_files forth_files_ops = { .block = files_block };

static const struct {
  const char *name;
  forth_hostfn fn;
} file_words[] = {
  { "R/O", w_ro }, { "W/O", w_wo }, { "R/W", w_rw }, { "BIN", w_bin },
  { "OPEN-FILE", w_open_file }, { "CREATE-FILE", w_create_file },
  { "CLOSE-FILE", w_close_file }, { "READ-FILE", w_read_file },
  { "READ-LINE", w_read_line }, { "WRITE-FILE", w_write_file },
  { "WRITE-LINE", w_write_line }, { "DELETE-FILE", w_delete_file },
  { "RENAME-FILE", w_rename_file }, { "FILE-POSITION", w_file_position },
  { "FILE-SIZE", w_file_size }, { "REPOSITION-FILE", w_reposition_file },
  { "RESIZE-FILE", w_resize_file }, { "FLUSH-FILE", w_flush_file },
  { "FILE-STATUS", w_file_status },
  /* the shell words print through the VM's forth_task */
  { "LS", w_ls }, { "CAT", w_cat }, { "RM", w_rm }, { "MKDIR", w_mkdir }, { "DF", w_df },
};
#define N_FILE_ACCESS 19

static int
install(forth_vm *vm, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (forth_define(vm, file_words[i].name, file_words[i].fn, NULL))
      return MN_ENOMEM;
  return 0;
}

int
forth_files_install(struct forth_task *ft)
{
  return install(ft->vm, sizeof file_words / sizeof file_words[0]);
}

int
forth_files_install_access(forth_vm *vm)
{
  return install(vm, N_FILE_ACCESS);
}
