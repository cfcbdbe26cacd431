/*
 * forth_fuzz.c: libFuzzer target feeding random bytes to a fresh VM as
 * terminal input. Every input must end in a clean state: finished, or
 * still running when the fuel budget is spent (then interrupted). Built
 * and run by test/forth_fuzz.sh. The first byte also selects the line
 * editor and a SPAWNed child that outlives its parent. Files live in
 * memory (one file of up to 4 KiB behind every name, a 16-block blocks
 * file) so File-Access and Block run their paths without touching disk.
 */
#include <mneme/forth.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in { const uint8_t *p; size_t n, pos; };

static void *f_alloc(void *ctx, void *old, size_t osz, size_t nsz)
{
  (void)ctx;
  (void)osz;
  if (!nsz) {
    free(old);
    return NULL;
  }
  return realloc(old, nsz);
}

static void f_write(void *ctx, const char *b, size_t n)
{
  (void)ctx;
  (void)b;
  (void)n;
}

static int f_key(void *ctx)
{
  struct in *in = ctx;
  return in->pos < in->n ? in->p[in->pos++] : FORTH_KEY_EOF;
}

/* The in-memory file system: reset for every input. */
static struct { char data[4096]; size_t size, pos; int open; } mf;
static uint8_t blocks[16][1024];

static int m_open(void *ctx, const char *name, size_t len)
{
  (void)ctx;
  if (mf.open || !len)
    return -38;
  mf.open = 1;
  mf.pos = 0;
  return 7;
}

static int m_open_mode(void *ctx, const char *name, size_t len, int fam, int create)
{
  int h = m_open(ctx, name, len);
  if (h > 0 && create)
    mf.size = 0;
  return h;
}

static long m_read(void *ctx, int h, char *buf, size_t cap)
{
  (void)ctx;
  if (h != 7 || !mf.open)
    return -37;
  size_t n = mf.pos < mf.size ? mf.size - mf.pos : 0;
  if (n > cap)
    n = cap;
  memcpy(buf, mf.data + mf.pos, n);
  mf.pos += n;
  return (long)n;
}

static void m_close(void *ctx, int h)
{
  (void)ctx;
  if (h == 7)
    mf.open = 0;
}

static int m_write(void *ctx, int h, const char *buf, size_t len)
{
  (void)ctx;
  if (h != 7 || !mf.open || mf.pos > sizeof mf.data || len > sizeof mf.data - mf.pos)
    return -37;
  if (mf.pos > mf.size)
    memset(mf.data + mf.size, 0, mf.pos - mf.size);
  memcpy(mf.data + mf.pos, buf, len);
  mf.pos += len;
  if (mf.pos > mf.size)
    mf.size = mf.pos;
  return 0;
}

static int m_seek(void *ctx, int h, uint64_t pos)
{
  (void)ctx;
  if (h != 7 || !mf.open || pos > sizeof mf.data)
    return -37;
  mf.pos = (size_t)pos;
  return 0;
}

static int m_tell(void *ctx, int h, uint64_t *pos)
{
  (void)ctx;
  if (h != 7 || !mf.open)
    return -37;
  *pos = mf.pos;
  return 0;
}

static int m_size(void *ctx, int h, uint64_t *size)
{
  (void)ctx;
  if (h != 7 || !mf.open)
    return -37;
  *size = mf.size;
  return 0;
}

static int m_resize(void *ctx, int h, uint64_t size)
{
  (void)ctx;
  if (h != 7 || !mf.open || size > sizeof mf.data)
    return -37;
  if (size > mf.size)
    memset(mf.data + mf.size, 0, (size_t)size - mf.size);
  mf.size = (size_t)size;
  return 0;
}

static int m_block(void *ctx, const char *name, size_t len, int wr, uint64_t n, void *buf)
{
  (void)ctx;
  if (n >= 16)
    return -37;
  if (wr)
    memcpy(blocks[n], buf, 1024);
  else
    memcpy(buf, blocks[n], 1024);
  return 0;
}

static const struct forth_files mfiles = {
  .open = m_open_mode, .write = m_write, .seek = m_seek, .tell = m_tell,
  .size = m_size, .resize = m_resize, .block = m_block,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  memset(&mf, 0, sizeof mf);
  memset(blocks, ' ', sizeof blocks);
  struct in in = {data, size, 0};
  struct forth_host h = {.ctx = &in, .alloc = f_alloc, .write = f_write,
                         .key = f_key, .open = m_open, .read = m_read,
                         .close = m_close, .files = &mfiles};
  struct forth_config c = {.data_bytes = 64 << 10, .heap_bytes = 64 << 10,
                           .code_cells = 1 << 17};
  /* the first byte picks options: line editor, and a SPAWNed child that
   * re-interprets the parent's last line after the parent has run */
  int opts = size ? data[0] : 0;
  c.line_edit = opts & 1;
  forth_vm *vm;
  if (forth_create(&vm, &h, &c))
    return 0;
  int r = FORTH_YIELD;
  for (int i = 0; i < 200 && (r == FORTH_YIELD || r == FORTH_WAIT); i++) {
    if (i % 20 == 19)
      forth_interrupt(vm);
    r = forth_run(vm, 5000);
  }
  forth_vm *child = NULL;
  if ((opts & 6) == 6 &&
      forth_spawn(vm, forth_find(vm, "INTERPRET"), &h, &child) == 0) {
    forth_destroy(vm); /* the child must not need its parent */
    vm = NULL;
    r = FORTH_YIELD;
    for (int i = 0; i < 100 && (r == FORTH_YIELD || r == FORTH_WAIT); i++)
      r = forth_run(child, 5000);
    forth_destroy(child);
  }
  forth_destroy(vm);
  return 0;
}
