/*
 * file.c: the File-Access word set beyond INCLUDED (R/O W/O R/W BIN
 * OPEN-FILE CREATE-FILE CLOSE-FILE READ-FILE READ-LINE WRITE-FILE
 * WRITE-LINE FILE-POSITION FILE-SIZE REPOSITION-FILE RESIZE-FILE
 * FLUSH-FILE FILE-STATUS DELETE-FILE RENAME-FILE) and the Block word set
 * (BLOCK BUFFER UPDATE SAVE-BUFFERS EMPTY-BUFFERS FLUSH BLK SCR, with
 * gforth's OPEN-BLOCKS and BLOCK-FILE). Both go through the embedder's
 * struct forth_files; LOAD THRU LIST INCLUDE-FILE REQUIRED REQUIRE are in
 * prelude.fs.
 *
 * Block buffers (NBLKBUF of them, 1024 bytes each) are taken from the
 * ALLOCATE heap when first used, so a VM that never uses blocks pays
 * nothing; the least recently used one is reassigned (written first if
 * UPDATEd). Block n is bytes n*1024 .. n*1024+1023 of the blocks file
 * ("blocks.fb" until OPEN-BLOCKS names another), as in gforth.
 *
 * Interface:
 *   vm_install_file, vm_block (LOAD's REFILL)
 */
#include "forth_int.h"

#define BLOCK_BYTES 1024
#define B_VALID 1
#define B_DIRTY 2

static const struct forth_files *ops(forth_vm *vm) { return vm->host.files; }
#define OP(vm, f) (ops(vm) ? ops(vm)->f : NULL)

static int w_ro(forth_vm *vm, void *ctx) { PUSH(FORTH_FAM_READ); return 0; }
static int w_wo(forth_vm *vm, void *ctx) { PUSH(FORTH_FAM_WRITE); return 0; }
static int w_rw(forth_vm *vm, void *ctx) { PUSH(FORTH_FAM_READ | FORTH_FAM_WRITE); return 0; }

static int w_bin(forth_vm *vm, void *ctx)
{
  cell fam;
  POP(fam);
  PUSH(fam | FORTH_FAM_BIN);
  return 0;
}

/* A string argument ( c-addr u ) as a host pointer; -9 if not the VM's. */
static int pop_str(forth_vm *vm, const char **p, size_t *n)
{
  cell a, u;
  POP(u);
  POP(a);
  if (u < 0)
    return -24;
  *p = vm_rptr(vm, a, u);
  *n = (size_t)u;
  return *p || !u ? 0 : -9;
}

/* The same, to be written into. */
static int pop_wstr(forth_vm *vm, char **p, size_t *n)
{
  cell a, u;
  POP(u);
  POP(a);
  if (u < 0)
    return -24;
  *p = vm_ptr(vm, a, u);
  *n = (size_t)u;
  return *p || !u ? 0 : -9;
}

static int pop_handle(forth_vm *vm, int *h)
{
  cell x;
  POP(x);
  *h = x > 0 && x <= 0x7fffffff ? (int)x : -1;
  return 0;
}

/* ud from two cells: -24 if it does not fit 64 bits. */
static int pop_ud(forth_vm *vm, uint64_t *v)
{
  cell lo, hi;
  POP(hi);
  POP(lo);
#if FORTH_CELL_BITS == 32
  *v = (uint64_t)(ucell)lo | (uint64_t)(ucell)hi << 32;
#else
  if (hi)
    return -24;
  *v = (uint64_t)lo;
#endif
  return 0;
}

static int push_ud(forth_vm *vm, uint64_t v)
{
#if FORTH_CELL_BITS == 32
  PUSH((cell)(ucell)v);
  PUSH((cell)(ucell)(v >> 32));
#else
  PUSH((cell)v);
  PUSH(0);
#endif
  return 0;
}

static int open_common(forth_vm *vm, int create)
{
  cell fam;
  const char *s;
  size_t n;
  int r;
  POP(fam);
  if ((r = pop_str(vm, &s, &n)))
    return r;
  int h = -21;
  if (!(fam & (FORTH_FAM_READ | FORTH_FAM_WRITE)) || fam & ~(cell)7)
    h = -37;
  else if (OP(vm, open))
    h = ops(vm)->open(vm->host.ctx, s, n, (int)fam, create);
  PUSH(h > 0 ? h : 0);
  PUSH(h > 0 ? 0 : h ? h : -37);
  return 0;
}

static int w_open_file(forth_vm *vm, void *ctx) { return open_common(vm, 0); }
static int w_create_file(forth_vm *vm, void *ctx) { return open_common(vm, 1); }

static int w_close_file(forth_vm *vm, void *ctx)
{
  int h;
  pop_handle(vm, &h);
  uint64_t pos;
  if (h < 0 || (OP(vm, tell) && ops(vm)->tell(vm->host.ctx, h, &pos))) {
    PUSH(-37); /* not an open file */
    return 0;
  }
  if (vm->host.close)
    vm->host.close(vm->host.ctx, h);
  PUSH(vm->host.close ? 0 : -21);
  return 0;
}

/* Reads up to n bytes (fewer only at the end of the file). */
static long read_full(forth_vm *vm, int h, char *p, size_t n)
{
  size_t got = 0;
  if (!vm->host.read)
    return -21;
  while (got < n) {
    long k = vm->host.read(vm->host.ctx, h, p + got, n - got);
    if (k < 0)
      return k;
    if (k == 0)
      break;
    got += (size_t)k;
  }
  return (long)got;
}

/* READ-FILE ( c-addr u1 fileid -- u2 ior ) */
static int w_read_file(forth_vm *vm, void *ctx)
{
  int h, r;
  char *s;
  size_t n;
  pop_handle(vm, &h);
  if ((r = pop_wstr(vm, &s, &n)))
    return r;
  long k = h < 0 ? -37 : read_full(vm, h, s, n);
  PUSH(k < 0 ? 0 : k);
  PUSH(k < 0 ? k : 0);
  return 0;
}

/* READ-LINE ( c-addr u1 fileid -- u2 flag ior ): reads a buffer's worth,
 * keeps the first line and moves the position back to the next one.
 * Lines end with LF or CR LF. */
static int w_read_line(forth_vm *vm, void *ctx)
{
  int h, r;
  char *p;
  size_t n;
  uint64_t pos;
  pop_handle(vm, &h);
  if ((r = pop_wstr(vm, &p, &n)))
    return r;
  long k = h < 0 ? -37 : !OP(vm, tell) || !OP(vm, seek) ? -21 : 0;
  if (!k)
    k = ops(vm)->tell(vm->host.ctx, h, &pos);
  if (!k)
    k = read_full(vm, h, p, n);
  if (k < 0) {
    PUSH(0); PUSH(0); PUSH(k);
    return 0;
  }
  size_t got = (size_t)k, len = got, next = got;
  int eof = got < n;
  for (size_t i = 0; i < got; i++)
    if (p[i] == '\n') {
      len = i;
      next = i + 1;
      break;
    }
  char c;
  if (next == got && len == got && !eof && got) {
    /* the buffer is full: is the line exactly that long? */
    long m = read_full(vm, h, &c, 1);
    if (m == 1 && c == '\n')
      next = got + 1;
  }
  if (len && p[len - 1] == '\r' && next > len)
    len--;
  if (got == 0) {
    PUSH(0); PUSH(0); PUSH(0);  /* end of file */
    return 0;
  }
  int e = ops(vm)->seek(vm->host.ctx, h, pos + next);
  PUSH(len);
  PUSH(e ? 0 : -1);
  PUSH(e);
  return 0;
}

static int write_common(forth_vm *vm, int line)
{
  int h, r;
  const char *s;
  size_t n;
  pop_handle(vm, &h);
  if ((r = pop_str(vm, &s, &n)))
    return r;
  int e = h < 0 ? -37 : !OP(vm, write) ? -21 : 0;
  if (!e && n)
    e = ops(vm)->write(vm->host.ctx, h, s, n);
  if (!e && line)
    e = ops(vm)->write(vm->host.ctx, h, "\n", 1);
  PUSH(e);
  return 0;
}

static int w_write_file(forth_vm *vm, void *ctx) { return write_common(vm, 0); }
static int w_write_line(forth_vm *vm, void *ctx) { return write_common(vm, 1); }

/* FILE-POSITION FILE-SIZE ( fileid -- ud ior ) */
static int query_common(forth_vm *vm, int size)
{
  int h, e;
  uint64_t v = 0;
  pop_handle(vm, &h);
  int (*f)(void *, int, uint64_t *) = size ? OP(vm, size) : OP(vm, tell);
  e = h < 0 ? -37 : !f ? -21 : f(vm->host.ctx, h, &v);
  if (e)
    v = 0;
  if (push_ud(vm, v))
    return -3;
  PUSH(e);
  return 0;
}

static int w_file_position(forth_vm *vm, void *ctx) { return query_common(vm, 0); }
static int w_file_size(forth_vm *vm, void *ctx) { return query_common(vm, 1); }

/* REPOSITION-FILE RESIZE-FILE ( ud fileid -- ior ) */
static int set_common(forth_vm *vm, int resize)
{
  int h, r;
  uint64_t v;
  pop_handle(vm, &h);
  if ((r = pop_ud(vm, &v)) == -4)
    return r;
  int (*f)(void *, int, uint64_t) = resize ? OP(vm, resize) : OP(vm, seek);
  PUSH(r ? -24 : h < 0 ? -37 : !f ? -21 : f(vm->host.ctx, h, v));
  return 0;
}

static int w_reposition_file(forth_vm *vm, void *ctx) { return set_common(vm, 0); }
static int w_resize_file(forth_vm *vm, void *ctx) { return set_common(vm, 1); }

static int w_flush_file(forth_vm *vm, void *ctx)
{
  int h;
  pop_handle(vm, &h);
  PUSH(h < 0 ? -37 : !OP(vm, flush) ? -21 : ops(vm)->flush(vm->host.ctx, h));
  return 0;
}

static int w_delete_file(forth_vm *vm, void *ctx)
{
  const char *s;
  size_t n;
  int r = pop_str(vm, &s, &n);
  if (r)
    return r;
  PUSH(!OP(vm, remove) ? -21 : ops(vm)->remove(vm->host.ctx, s, n));
  return 0;
}

static int w_rename_file(forth_vm *vm, void *ctx)
{
  const char *s, *t;
  size_t n, m;
  int r;
  if ((r = pop_str(vm, &t, &m)) || (r = pop_str(vm, &s, &n)))
    return r;
  PUSH(!OP(vm, rename) ? -21 : ops(vm)->rename(vm->host.ctx, s, n, t, m));
  return 0;
}

static int w_file_status(forth_vm *vm, void *ctx)
{
  const char *s;
  size_t n;
  forth_cell x = 0;
  int r = pop_str(vm, &s, &n);
  if (r)
    return r;
  int e = !OP(vm, status) ? -21 : ops(vm)->status(vm->host.ctx, s, n, &x);
  PUSH(e ? 0 : x);
  PUSH(e);
  return 0;
}

/* ---- Block ---------------------------------------------------------------- */

static int block_io(forth_vm *vm, int i, int write)
{
  static const char dflt[] = "blocks.fb";
  if (!OP(vm, block))
    return -21;
  const char *name = dflt;
  size_t n = sizeof dflt - 1;
  if (vm->bfile) {
    name = vm_rptr(vm, vm->bfile, vm->bfile_len);
    n = (size_t)vm->bfile_len;
    if (!name)
      return -9;
  }
  uint8_t *buf = vm_ptr(vm, vm->bbuf[i], BLOCK_BYTES);
  if (!buf)
    return -9;
  int e = ops(vm)->block(vm->host.ctx, name, n, write, (uint64_t)vm->bno[i], buf);
  return !e ? 0 : e == -21 ? e : -33 - write; /* block read/write exception */
}

static int save_buffers(forth_vm *vm)
{
  for (int i = 0; i < NBLKBUF; i++)
    if ((vm->bdirty[i] & (B_VALID | B_DIRTY)) == (B_VALID | B_DIRTY)) {
      int e = block_io(vm, i, 1);
      if (e)
        return e;
      vm->bdirty[i] &= (uint8_t)~B_DIRTY;
    }
  return 0;
}

/* Block u in a buffer (read it unless it is only a BUFFER); *addr. */
int vm_block(forth_vm *vm, cell u, int read, cell *addr)
{
  int i, victim = -1;
  if (u < 0)
    return -35;
  for (i = 0; i < NBLKBUF; i++)
    if (vm->bbuf[i] && (vm->bdirty[i] & B_VALID) && vm->bno[i] == u)
      goto found;
  for (i = 0; i < NBLKBUF; i++) /* a free buffer, else the least recently used */
    if (!vm->bbuf[i] || !(vm->bdirty[i] & B_VALID)) {
      victim = i;
      break;
    } else if (victim < 0 || vm->buse[i] < vm->buse[victim]) {
      victim = i;
    }
  i = victim;
  if ((vm->bdirty[i] & (B_VALID | B_DIRTY)) == (B_VALID | B_DIRTY)) {
    int e = block_io(vm, i, 1);
    if (e)
      return e;
  }
  vm->bdirty[i] = 0;
  if (!vm->bbuf[i] && !(vm->bbuf[i] = fheap_alloc(vm, BLOCK_BYTES)))
    return -59;
  vm->bno[i] = u;
  if (read) {
    int e = block_io(vm, i, 0);
    if (e)
      return e;
  }
  vm->bdirty[i] = B_VALID;
found:
  vm->buse[i] = ++vm->bclock;
  vm->bcur = i;
  *addr = vm->bbuf[i];
  return 0;
}

static int block_common(forth_vm *vm, int read)
{
  cell u, a;
  POP(u);
  int e = vm_block(vm, u, read, &a);
  if (e)
    return e;
  PUSH(a);
  return 0;
}

static int w_block(forth_vm *vm, void *ctx) { return block_common(vm, 1); }
static int w_buffer(forth_vm *vm, void *ctx) { return block_common(vm, 0); }

static int w_update(forth_vm *vm, void *ctx)
{
  if (vm->bbuf[vm->bcur] && (vm->bdirty[vm->bcur] & B_VALID))
    vm->bdirty[vm->bcur] |= B_DIRTY;
  return 0;
}

static int w_save_buffers(forth_vm *vm, void *ctx) { return save_buffers(vm); }

static int w_empty_buffers(forth_vm *vm, void *ctx)
{
  for (int i = 0; i < NBLKBUF; i++)
    vm->bdirty[i] = 0;
  return 0;
}

static int w_flush(forth_vm *vm, void *ctx)
{
  int e = save_buffers(vm);
  if (!e)
    w_empty_buffers(vm, ctx);
  return e;
}

static int w_blk(forth_vm *vm, void *ctx) { PUSH(vm->a_blk); return 0; }
static int w_scr(forth_vm *vm, void *ctx) { PUSH(vm->a_scr); return 0; }

/* OPEN-BLOCKS ( c-addr u -- ): blocks come from that file from now on
 * (buffers are saved and emptied first). */
static int w_open_blocks(forth_vm *vm, void *ctx)
{
  const char *s;
  size_t n;
  int r = pop_str(vm, &s, &n);
  if (r)
    return r;
  if (!n || n > 255)
    return -38;
  char name[256];
  memcpy(name, s, n);
  if ((r = w_flush(vm, ctx)))
    return r;
  cell a = fheap_alloc(vm, n);
  if (!a)
    return -59;
  if (vm->bfile)
    fheap_free(vm, vm->bfile);
  uint8_t *d = vm_ptr(vm, a, (cell)n);
  if (!d)
    return -59;
  memcpy(d, name, n);
  vm->bfile = a;
  vm->bfile_len = (cell)n;
  return 0;
}

/* BLOCK-FILE ( -- c-addr u ): the current blocks file's name. */
static int w_block_file(forth_vm *vm, void *ctx)
{
  if (!vm->bfile) {
    cell a = vm->a_word; /* "blocks.fb" in the transient WORD buffer */
    uint8_t *d = vm_ptr(vm, a, 9);
    if (!d)
      return -59;
    memcpy(d, "blocks.fb", 9);
    PUSH(a);
    PUSH(9);
    return 0;
  }
  PUSH(vm->bfile);
  PUSH(vm->bfile_len);
  return 0;
}

static const struct prim_def file_words[] = {
  {"R/O", w_ro, 0}, {"W/O", w_wo, 0}, {"R/W", w_rw, 0}, {"BIN", w_bin, 0},
  {"OPEN-FILE", w_open_file, 0}, {"CREATE-FILE", w_create_file, 0},
  {"CLOSE-FILE", w_close_file, 0}, {"READ-FILE", w_read_file, 0},
  {"READ-LINE", w_read_line, 0}, {"WRITE-FILE", w_write_file, 0},
  {"WRITE-LINE", w_write_line, 0}, {"FILE-POSITION", w_file_position, 0},
  {"FILE-SIZE", w_file_size, 0}, {"REPOSITION-FILE", w_reposition_file, 0},
  {"RESIZE-FILE", w_resize_file, 0}, {"FLUSH-FILE", w_flush_file, 0},
  {"DELETE-FILE", w_delete_file, 0}, {"RENAME-FILE", w_rename_file, 0},
  {"FILE-STATUS", w_file_status, 0},
  {"BLOCK", w_block, 0}, {"BUFFER", w_buffer, 0}, {"UPDATE", w_update, 0},
  {"SAVE-BUFFERS", w_save_buffers, 0}, {"EMPTY-BUFFERS", w_empty_buffers, 0},
  {"FLUSH", w_flush, 0}, {"BLK", w_blk, 0}, {"SCR", w_scr, 0},
  {"OPEN-BLOCKS", w_open_blocks, 0}, {"BLOCK-FILE", w_block_file, 0},
};

int vm_install_file(forth_vm *vm)
{
  return vm_install_table(vm, file_words, sizeof file_words / sizeof file_words[0]);
}
