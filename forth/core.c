/*
 * core.c: the Forth VM's object: creation, data space, word headers, code
 * space and the compiler's emitter (with sequence fusion), and the public
 * embedding API.
 *
 * Interface:
 *   forth_create, forth_destroy, forth_define, forth_push, forth_pop,
 *   forth_depth, forth_peek, forth_mem, forth_interrupt,
 *   forth_wait_deadline, forth_errors          (see forth.h)
 *   vm_ptr, vm_push, vm_pop, vm_get, vm_set     data space and stack
 *   vm_emit_code, vm_compile_op, vm_compile_op1, vm_compile_xt,
 *   vm_mark_label, vm_code_reserve             code space
 *   vm_word_new, vm_find, vm_valid_xt, vm_word_name, vm_word_of_code,
 *   vm_does, vm_define_host, vm_install_table, vm_allot
 */
#include "forth_int.h"
#include <mneme/err.h>

/* ---- memory ------------------------------------------------------------ */

static void *xalloc(forth_vm *vm, void *old, size_t osz, size_t nsz)
{
  return vm->host.alloc(vm->host.ctx, old, osz, nsz);
}

int vm_push(forth_vm *vm, cell x)
{
  if (vm->sp < vm->ds0 || vm->sp >= vm->ds0 + vm->dsize)
    return vm->sp < vm->ds0 ? -4 : -3;
  *++vm->sp = x;
  return 0;
}

int vm_pop(forth_vm *vm, cell *x)
{
  if (vm->sp <= vm->ds0 || vm->sp > vm->ds0 + vm->dsize)
    return vm->sp <= vm->ds0 ? -4 : -3;
  *x = *vm->sp--;
  return 0;
}

/* Allots n bytes of dictionary; returns the old HERE, *err -8 if full. */
cell vm_allot(forth_vm *vm, cell n, int *err)
{
  cell h = vm->here;
  if (n > 0 ? (ucell)n > (ucell)(vm->dict_end - h)
            : (ucell)(0 - (ucell)n) > (ucell)(h - vm->dict_start)) {
    *err = -8;
    return h;
  }
  vm->here = h + n;
  *err = 0;
  return h;
}

/* ---- segments ------------------------------------------------------------ */

/* A segment is a block with a reference count; SPAWNed VMs share them.
 * It remembers its allocator, so any sharer can free it. */
struct seghdr {
  long refs;
  size_t bytes;
  void *(*alloc)(void *ctx, void *old, size_t osz, size_t nsz);
  void *ctx;
  max_align_t align[];
};

static int track(forth_vm *vm, void *seg)
{
  if (vm->nsegs == vm->capsegs) {
    size_t nc = vm->capsegs ? vm->capsegs * 2 : 64;
    void **n = xalloc(vm, vm->segs, vm->capsegs * sizeof *n, nc * sizeof *n);
    if (!n)
      return -1;
    vm->segs = n;
    vm->capsegs = nc;
  }
  vm->segs[vm->nsegs++] = seg;
  return 0;
}

/* A new segment of bytes owned by vm, or NULL. */
void *vm_seg_new(forth_vm *vm, size_t bytes)
{
  struct seghdr *h = xalloc(vm, NULL, 0, sizeof *h + bytes);
  if (!h)
    return NULL;
  h->refs = 1;
  h->bytes = bytes;
  h->alloc = vm->host.alloc;
  h->ctx = vm->host.ctx;
  if (track(vm, h->align)) {
    xalloc(vm, h, sizeof *h + bytes, 0);
    return NULL;
  }
  return h->align;
}

/* Makes `to` a sharer of seg; 0 or -1 (no memory). */
int vm_seg_share(forth_vm *to, void *seg)
{
  if (track(to, seg))
    return -1;
  ((struct seghdr *)seg - 1)->refs++;
  return 0;
}

/* An untracked segment (data space): the caller holds its reference. */
void *vm_seg_alloc(forth_vm *vm, size_t bytes)
{
  struct seghdr *h = xalloc(vm, NULL, 0, sizeof *h + bytes);
  if (!h)
    return NULL;
  h->refs = 1;
  h->bytes = bytes;
  h->alloc = vm->host.alloc;
  h->ctx = vm->host.ctx;
  return h->align;
}

void vm_seg_ref(void *seg, long n)
{
  ((struct seghdr *)seg - 1)->refs += n;
}

long vm_seg_refs(const void *seg)
{
  return ((const struct seghdr *)seg - 1)->refs;
}

size_t vm_seg_bytes(const void *seg)
{
  return ((const struct seghdr *)seg - 1)->bytes;
}

void vm_seg_release(void *seg)
{
  struct seghdr *h = (struct seghdr *)seg - 1;
  if (--h->refs == 0)
    h->alloc(h->ctx, h, sizeof *h + h->bytes, 0);
}

/* ---- code space -------------------------------------------------------- */

/* A new chunk of code space with room for n cells. */
static int new_chunk(forth_vm *vm, size_t n)
{
  size_t cells = vm->cfg.code_chunk_cells;
  if (cells < n + 4)
    cells = n + 4;
  if (vm->code_cells_used + cells > vm->code_cells_max)
    return -8;
  fcode *c = vm_seg_new(vm, cells * sizeof(fcode));
  if (!c)
    return -8;
  vm->nchunks++;
  vm->code_cells_used += cells;
  fcode *old = vm->cp;
  vm->cp = c;
  vm->cp_end = c + cells;
  if (old) { /* continue a definition across chunks */
    old[0] = (fcode)forth_op_addr[OP_BRANCH];
    old[1] = (fcode)c;
  }
  vm->last_op = vm->prev_op = NULL;
  return 0;
}

/* Makes room for n contiguous cells; 0 or -8. */
int vm_code_reserve(forth_vm *vm, size_t n)
{
  if (vm->cp && (size_t)(vm->cp_end - vm->cp) >= n + 2)
    return 0;
  return new_chunk(vm, n + 2);
}

int vm_emit_code(forth_vm *vm, fcode x)
{
  int r = vm_code_reserve(vm, 1);
  if (r)
    return r;
  *vm->cp++ = x;
  return 0;
}

/* The next instruction is a branch target: no fusion across it. */
int vm_mark_label(forth_vm *vm)
{
  vm->last_op = vm->prev_op = NULL;
  return 0;
}

static int op_at(const fcode *p)
{
  return p ? vm_op_of((const void *)*p) : -1;
}

static void set_op(fcode *p, int op)
{
  *p = (fcode)forth_op_addr[op];
}

static int is_checkpoint(int op);

/* Fuses op with the instructions before it; 1 if done. */
static int fuse(forth_vm *vm, int op, fcode operand)
{
  int last = op_at(vm->last_op), prev = op_at(vm->prev_op);
  static const struct { short a, b, r; } pairs[] = {
    {OP_LIT, OP_ADD, OP_LIT_ADD}, {OP_LIT, OP_SUB, OP_LIT_SUB},
    {OP_LIT, OP_EQ, OP_LIT_EQ}, {OP_LIT, OP_LT, OP_LIT_LT},
    {OP_LIT, OP_AND, OP_LIT_AND}, {OP_LIT, OP_MUL, OP_LIT_MUL},
    {OP_LIT_ADD, OP_FETCH, OP_LIT_ADD_FETCH}, {OP_FETCH, OP_ADD, OP_FETCH_ADD},
    {OP_OVER, OP_FETCH, OP_OVER_FETCH}, {OP_I, OP_FETCH, OP_I_FETCH},
    {OP_I, OP_CFETCH, OP_I_CFETCH}, {OP_I, OP_2FETCH, OP_I_2FETCH},
    {OP_RFROM, OP_ADD, OP_RFROM_ADD}, {OP_SWAP, OP_TOR, OP_SWAP_TOR},
    {OP_ZEQ, OP_QBRANCH, OP_ZEQ_QBRANCH}, {OP_LT, OP_QBRANCH, OP_LT_QBRANCH},
    {OP_EQ, OP_QBRANCH, OP_EQ_QBRANCH}, {OP_GT, OP_QBRANCH, OP_GT_QBRANCH},
    {OP_DUP, OP_QBRANCH, OP_DUP_QBRANCH}, {OP_CALL, OP_EXIT, OP_CALL_EXIT},
    {OP_LIT, OP_FETCH, OP_LIT_FETCH}, {OP_LIT, OP_STORE, OP_LIT_STORE},
    {OP_I, OP_2STORE, OP_I_2STORE}, {OP_LIT, OP_PLOOP, OP_LIT_PLOOP},
    {OP_DUP, OP_PLOOP, OP_DUP_PLOOP}, {OP_LIT_LT, OP_QBRANCH, OP_LIT_LT_QBRANCH},
    {OP_I_CFETCH, OP_QBRANCH, OP_I_CFETCH_QBRANCH}, {OP_I, OP_ADD, OP_I_ADD},
  };
  if (last < 0)
    return 0;
  if (op == OP_CSTORE && last == OP_I && prev == OP_LIT) {
    set_op(vm->prev_op, OP_LIT_I_CSTORE);
    vm->cp = vm->prev_op + 2;
    vm->last_op = NULL;
    return 1;
  }
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    if (pairs[i].a != last || pairs[i].b != op)
      continue;
    int r = pairs[i].r;
    set_op(vm->last_op, r);
    if (is_checkpoint(r))
      vm->straight = 0;
    if (vm_operands(r) > vm_operands(last)) /* the branch operand */
      *vm->cp++ = operand;
    vm->last_op = vm->prev_op = NULL;
    if (r == OP_LIT_ADD || r == OP_LIT_LT || r == OP_I_CFETCH)
      vm->last_op = vm->cp - 1 - vm_operands(r); /* may fuse again */
    return 1;
  }
  return 0;
}

static int is_checkpoint(int op)
{
  switch (op) {
  case OP_CALL: case OP_BRANCH: case OP_QBRANCH: case OP_LOOP:
  case OP_PLOOP: case OP_EXECUTE: case OP_CCALL: case OP_CATCH:
  case OP_CHECK: case OP_CALL_EXIT: case OP_LIT_PLOOP: case OP_DUP_PLOOP:
  case OP_LIT_LT_QBRANCH: case OP_I_CFETCH_QBRANCH: case OP_ZEQ_QBRANCH:
  case OP_LT_QBRANCH: case OP_EQ_QBRANCH: case OP_GT_QBRANCH:
  case OP_DUP_QBRANCH: case OP_QDO: case OP_LEAVE: case OP_OF:
    return 1;
  default:
    return 0;
  }
}

/* Emits op with n operands a, b (n = vm_operands(op)); 0 or -8. */
static int compile_opn(forth_vm *vm, int op, fcode a, fcode b)
{
  int n = vm_operands(op), r;
  if ((r = vm_code_reserve(vm, (size_t)n + 3)))
    return r;
  if (fuse(vm, op, a))
    return 0;
  if (!is_checkpoint(op) && ++vm->straight >= CHECK_EVERY) {
    *vm->cp++ = (fcode)forth_op_addr[OP_CHECK];
    vm->straight = 0;
    vm->last_op = NULL;
  }
  if (is_checkpoint(op))
    vm->straight = 0;
  vm->prev_op = vm->last_op;
  vm->last_op = vm->cp;
  *vm->cp++ = (fcode)forth_op_addr[op];
  if (n > 0)
    *vm->cp++ = a;
  if (n > 1)
    *vm->cp++ = b;
  return 0;
}

int vm_compile_op(forth_vm *vm, int op)
{
  return compile_opn(vm, op, 0, 0);
}

int vm_compile_op1(forth_vm *vm, int op, fcode a)
{
  return compile_opn(vm, op, a, 0);
}

/* COMPILE, : appends the execution semantics of xt. 0, -13 or -8. */
int vm_compile_xt(forth_vm *vm, cell xt)
{
  if (!vm_valid_xt(vm, xt))
    return -13;
  struct fword *w = WORD(vm, xt);
  switch (w->kind) {
  case WK_PRIM:
    if (w->op == OP_EXIT && vm->nlocals) {
      int r = vm_locals_end(vm);
      if (r)
        return r;
    }
    return vm_compile_op(vm, w->op);
  case WK_HOST:
    return compile_opn(vm, OP_CCALL, (fcode)w->fn, (fcode)w->ctx);
  case WK_CREATE:
    if ((uint32_t)xt == vm->latest)
      break;
    /* fall through */
  case WK_VARIABLE: case WK_CONSTANT:
    return vm_compile_op1(vm, OP_LIT, (fcode)w->body);
  case WK_2CONSTANT:
    return compile_opn(vm, OP_LIT2, (fcode)w->body, (fcode)w->body2);
  case WK_VALUE:
    return vm_compile_op1(vm, OP_LITFETCH, (fcode)w->body);
  case WK_2VALUE:
    return vm_compile_op1(vm, OP_LIT2FETCH, (fcode)w->body);
  case WK_FVALUE:
    return vm_compile_op1(vm, OP_FLITFETCH, (fcode)w->body);
  case WK_FCONSTANT: {
    int r = vm_code_reserve(vm, 4);
    if (r || (r = vm_compile_op1(vm, OP_FLIT, w->code[1])))
      return r;
    return FLIT_CELLS == 2 ? vm_emit_code(vm, w->code[2]) : 0;
  }
  default:
    break;
  }
  return vm_compile_op1(vm, OP_CALL, (fcode)w->code);
}

/* ---- words ------------------------------------------------------------- */

int vm_valid_xt(forth_vm *vm, cell xt)
{
  return (ucell)xt - 1 < (ucell)vm->nwords - 1;
}

const char *vm_word_name(forth_vm *vm, uint32_t w, size_t *len)
{
  *len = WORD(vm, w)->len;
  return WORD(vm, w)->name;
}

#define NAME_CHUNK 2048 /* bytes of names allocated at a time */

static int grow_words(forth_vm *vm, size_t namelen)
{
  if (vm->nwords / WSEG >= vm->nwseg) {
    if (vm->nwseg == vm->capwseg) {
      size_t nc = vm->capwseg ? vm->capwseg * 2 : 16;
      struct fword **n = xalloc(vm, vm->wseg, vm->capwseg * sizeof *n,
                                nc * sizeof *n);
      if (!n)
        return -8;
      vm->wseg = n;
      vm->capwseg = nc;
    }
    struct fword *seg = vm_seg_new(vm, WSEG * sizeof(struct fword));
    if (!seg)
      return -8;
    vm->wseg[vm->nwseg++] = seg;
  }
  if (vm->nfill + namelen > vm->ncap) {
    size_t cap = namelen > NAME_CHUNK ? namelen : NAME_CHUNK;
    char *c = vm_seg_new(vm, cap);
    if (!c)
      return -8;
    vm->nchunk = c;
    vm->nfill = 0;
    vm->ncap = cap;
  }
  return 0;
}

/* New header with an empty code field; *out its index. 0 or -8/-19. */
int vm_word_new(forth_vm *vm, const char *name, size_t len, int kind,
                uint32_t *out)
{
  int r;
  if (len > 255 * 16)
    return -19;
  if ((r = grow_words(vm, len)))
    return r;
  struct fword *w = WORD(vm, vm->nwords);
  memset(w, 0, sizeof *w);
  w->name = vm->nchunk + vm->nfill;
  w->len = (uint16_t)len;
  w->wl = vm->current;
  w->dp = vm->here;
  w->kind = (uint8_t)kind;
  w->code = vm->undef_code; /* until the caller gives it code */
  memcpy(vm->nchunk + vm->nfill, name, len);
  vm->nfill += len;
  *out = vm->nwords++;
  return 0;
}

static int fold(int c)
{
  return c >= 'a' && c <= 'z' ? c - 32 : c;
}

static int name_match(const struct fword *w, const char *name, size_t len)
{
  if (w->len != len || (w->flags & WF_HIDDEN))
    return 0;
  const char *n = w->name;
  size_t k = 0;
  while (k < len && fold((unsigned char)n[k]) == fold((unsigned char)name[k]))
    k++;
  return k == len;
}

/* Newest visible word named name (any case) in word list wl, or 0. */
uint32_t vm_find_wl(forth_vm *vm, const char *name, size_t len, unsigned wl)
{
  if (!len)
    return 0;
  for (uint32_t i = vm->nwords - 1; i > 0; i--) {
    const struct fword *w = WORD(vm, i);
    if (w->wl == wl && name_match(w, name, len))
      return i;
  }
  return 0;
}

/* The word named name found first in the search order, or 0. */
uint32_t vm_find(forth_vm *vm, const char *name, size_t len)
{
  if (!len || !vm->norder)
    return 0;
  if (vm->norder == 1)
    return vm_find_wl(vm, name, len, vm->order[0]);
  int best = vm->norder;
  uint32_t found = 0;
  for (uint32_t i = vm->nwords - 1; i > 0; i--) {
    const struct fword *w = WORD(vm, i);
    if (!name_match(w, name, len))
      continue;
    for (int r = 0; r < best; r++) {
      if (vm->order[r] == w->wl) {
        best = r;
        found = i;
        break;
      }
    }
    if (best == 0)
      break;
  }
  return found;
}

/* The word whose code starts at code, or 0. */
uint32_t vm_word_of_code(forth_vm *vm, const fcode *code)
{
  for (uint32_t i = vm->nwords - 1; i > 0; i--)
    if (WORD(vm, i)->code == code)
      return i;
  return 0;
}

/* DOES> at run time: the latest CREATE word runs target. 0 or -31. */
int vm_does(forth_vm *vm, const fcode *target)
{
  struct fword *w = WORD(vm, vm->latest);
  if (w->kind != WK_CREATE && w->kind != WK_DOES)
    return -31;
  if (vm->latest < vm->frozen_words)
    return -21;
  fcode *c = (fcode *)w->code;
  c[2] = (fcode)forth_op_addr[OP_BRANCH];
  c[3] = (fcode)target;
  w->kind = WK_DOES;
  return 0;
}

int vm_define_host(forth_vm *vm, const char *name, forth_hostfn fn,
                   void *ctx, int flags)
{
  return vm_define_host_n(vm, name, strlen(name), fn, ctx, flags);
}

int vm_define_host_n(forth_vm *vm, const char *name, size_t len,
                     forth_hostfn fn, void *ctx, int flags)
{
  uint32_t w;
  int r = vm_word_new(vm, name, len, WK_HOST, &w);
  if (r)
    return r;
  fcode *c = vm_snippet(vm, 4); /* jumps around it mid-definition */
  if (!c) {
    WORD(vm, w)->flags = WF_HIDDEN;
    WORD(vm, w)->kind = WK_COLON;
    return -8;
  }
  struct fword *p = WORD(vm, w);
  p->fn = fn;
  p->ctx = ctx;
  p->flags = (uint8_t)flags;
  p->code = c;
  c[0] = (fcode)forth_op_addr[OP_CCALL];
  c[1] = (fcode)fn;
  c[2] = (fcode)ctx;
  c[3] = (fcode)forth_op_addr[OP_EXIT];
  vm->latest = w;
  return 0;
}

int vm_install_table(forth_vm *vm, const struct prim_def *t, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    int r = vm_define_host(vm, t[i].name, t[i].fn, NULL, t[i].flags);
    if (r)
      return r;
  }
  return 0;
}

static int install_ops(forth_vm *vm)
{
  static const struct { const char *name; int flags; } ops[] = {
#define X(e, n, f) {n, f},
    FORTH_OPS(X)
#undef X
  };
  for (int i = 0; i < OP_COUNT; i++) {
    uint32_t w;
    int r;
    if (!ops[i].name)
      continue;
    if ((r = vm_word_new(vm, ops[i].name, strlen(ops[i].name), WK_PRIM, &w)))
      return r;
    if ((r = vm_code_reserve(vm, 4)))
      return r;
    WORD(vm, w)->op = (uint16_t)i;
    WORD(vm, w)->flags = (uint8_t)ops[i].flags;
    WORD(vm, w)->code = vm->cp;
    vm->cp[0] = (fcode)forth_op_addr[i];
    vm->cp[1] = (fcode)forth_op_addr[OP_EXIT];
    vm->cp += 2;
  }
  return 0;
}

/* ---- creation ---------------------------------------------------------- */

/* Room for one more CATCH frame. 0 or -53 (exception stack overflow). */
int vm_grow_catches(forth_vm *vm)
{
  if (vm->catch_cap >= MAX_CATCH)
    return -53;
  int nc = vm->catch_cap ? vm->catch_cap * 2 : 4;
  struct catchframe *f = xalloc(vm, vm->catches,
                                (size_t)vm->catch_cap * sizeof *f,
                                (size_t)nc * sizeof *f);
  if (!f)
    return -53;
  vm->catches = f;
  vm->catch_cap = nc;
  return 0;
}

int vm_alloc_stacks(forth_vm *vm)
{
  const struct forth_config *c = &vm->cfg;
  vm->dsize = c->stack_cells;
  vm->rsize = c->rstack_cells;
  vm->csize = c->calls;
  vm->ds = xalloc(vm, NULL, 0, (vm->dsize + 2 * GUARD) * sizeof(cell));
  vm->rs = xalloc(vm, NULL, 0, (vm->rsize + 2 * GUARD) * sizeof(cell));
  vm->cs = xalloc(vm, NULL, 0, (vm->csize + 2) * sizeof(fcode *));
  vm->lsize = c->locals_cells;
  vm->fsize = c->fstack_cells;
  vm->ls = xalloc(vm, NULL, 0, (vm->lsize + 1) * sizeof(cell));
  vm->fs = xalloc(vm, NULL, 0, (vm->fsize + 1) * sizeof(double));
  if (!vm->ds || !vm->rs || !vm->cs || !vm->ls || !vm->fs)
    return MN_ENOMEM;
  vm->ls0 = vm->lp = vm->ls;
  vm->fs0 = vm->fsp = vm->fs;
  memset(vm->ds, 0, (vm->dsize + 2 * GUARD) * sizeof(cell));
  memset(vm->rs, 0, (vm->rsize + 2 * GUARD) * sizeof(cell));
  vm->ds0 = vm->ds + GUARD;
  vm->rs0 = vm->rs + GUARD;
  vm->cs0 = vm->cs + 1;
  vm->sp = vm->ds0;
  vm->rp = vm->rs0;
  vm->csp = vm->cs0;
  return 0;
}

static cell carve(forth_vm *vm, cell n)
{
  cell a = vm->here;
  vm->here += (n + CELL - 1) & ~(CELL - 1);
  return a;
}

static int alloc_memory(forth_vm *vm)
{
  size_t d = vm->cfg.data_bytes, h = vm->cfg.heap_bytes;
  if (d > ((size_t)1 << (FORTH_CELL_BITS - 3)) || h > ((size_t)1 << (FORTH_CELL_BITS - 3)))
    return MN_EINVAL;
  if (dspace_init(vm, d, h))
    return MN_ENOMEM;
  vm->here = (cell)vm->base;
  vm->a_state = carve(vm, CELL);
  vm->a_base = carve(vm, CELL);
  vm->a_in = carve(vm, CELL);
  vm->a_blk = carve(vm, CELL);
  vm->a_scr = carve(vm, CELL);
  vm->a_tib = carve(vm, LINE_MAX_BYTES);
  vm->a_pad = carve(vm, 256);
  vm->a_hold = carve(vm, 2 * FORTH_CELL_BITS + 130);
  vm->a_word = carve(vm, 260);
  vm->a_sbuf = carve(vm, 2 * LINE_MAX_BYTES);
  vm->dict_start = vm->here;
  vm_set(vm, vm->a_base, 10);
  return 0;
}

static int alloc_tables(forth_vm *vm)
{
  vm->maxblocks = 1024;
  if (grow_words(vm, 0))
    return MN_ENOMEM;
  memset(WORD(vm, 0), 0, sizeof(struct fword));
  WORD(vm, 0)->name = "";
  vm->nwords = 1; /* xt 0 is never valid */
  return 0;
}

static void set_defaults(struct forth_config *c)
{
  if (!c->data_bytes) c->data_bytes = 1 << 20;
  if (!c->heap_bytes) c->heap_bytes = 256 << 10;
  if (!c->code_cells) c->code_cells = 1 << 20;
  if (!c->stack_cells) c->stack_cells = 1024;
  if (!c->rstack_cells) c->rstack_cells = 1024;
  if (!c->calls) c->calls = 4096;
  if (!c->locals_cells) c->locals_cells = 256;
  if (!c->fstack_cells) c->fstack_cells = 64;
  if (!c->code_chunk_cells) c->code_chunk_cells = 4096;
  c->data_bytes = (c->data_bytes + 4095) & ~(size_t)4095;
  c->heap_bytes = (c->heap_bytes + 4095) & ~(size_t)4095;
  if (c->data_bytes < 16384) c->data_bytes = 16384;
}

/* Runs the boot code (the prelude) to its end; 0 or a THROW code. */
static int boot(forth_vm *vm)
{
  int r;
  do
    r = forth_run(vm, 1L << 30);
  while (r == FORTH_YIELD);
  if (r != FORTH_DONE)
    return r;
  uint32_t q = vm_find_wl(vm, "QUIT", 4, FORTH_WID);
  if (!q)
    return MN_EINVAL;
  vm->done = 0;
  vm->fence = vm->nwords;
  vm->ip = WORD(vm, q)->code;
  vm->csp = vm->cs0;
  *vm->csp = vm->halt_code;
  return 0;
}

int forth_create(forth_vm **out, const struct forth_host *host,
                 const struct forth_config *cfg)
{
  struct forth_config c = {0};
  int r;
  if (!host || !host->alloc)
    return MN_EINVAL;
  if (cfg)
    c = *cfg;
  set_defaults(&c);
  vm_init_labels();
  forth_vm *vm = host->alloc(host->ctx, NULL, 0, sizeof *vm);
  if (!vm)
    return MN_ENOMEM;
  memset(vm, 0, sizeof *vm);
  vm->host = *host;
  vm->order[0] = vm->current = FORTH_WID;
  vm->norder = 1;
  vm->nwl = FORTH_WID;
  vm->cfg = c;
  vm->code_cells_max = c.code_cells;
  if ((r = vm_alloc_stacks(vm)) || (r = alloc_memory(vm)) ||
      (r = alloc_tables(vm)) || (r = fheap_init(vm)) ||
      (r = install_ops(vm)) || (r = vm_install_core(vm)) ||
      (r = vm_install_words(vm)) || (r = vm_install_tools(vm)) ||
      (r = vm_install_search(vm)) || (r = vm_install_substitute(vm)) ||
      (r = vm_install_locals(vm)) || (r = vm_install_float(vm)) ||
      (r = vm_install_facility(vm)) || (r = vm_install_file(vm)) ||
      (r = boot(vm))) {
    int oom = vm->oom;
    forth_destroy(vm);
    return r < -8 && !oom ? MN_EINVAL : MN_ENOMEM;
  }
  *out = vm;
  return 0;
}

void forth_destroy(forth_vm *vm)
{
  if (!vm)
    return;
  vm_reset_sources(vm, 0);
  xalloc(vm, vm->incl, vm->incl_cap, 0);
  for (size_t i = 0; i < vm->nsegs; i++)
    vm_seg_release(vm->segs[i]);
  xalloc(vm, vm->segs, vm->capsegs * sizeof(void *), 0);
  xalloc(vm, vm->wseg, vm->capwseg * sizeof(struct fword *), 0);
  xalloc(vm, vm->ds, (vm->dsize + 2 * GUARD) * sizeof(cell), 0);
  xalloc(vm, vm->rs, (vm->rsize + 2 * GUARD) * sizeof(cell), 0);
  xalloc(vm, vm->cs, (vm->csize + 2) * sizeof(fcode *), 0);
  xalloc(vm, vm->ls, (vm->lsize + 1) * sizeof(cell), 0);
  xalloc(vm, vm->fs, (vm->fsize + 1) * sizeof(double), 0);
  dspace_free(vm);
  xalloc(vm, vm->blocks, (size_t)vm->capblocks * sizeof *vm->blocks, 0);
  xalloc(vm, vm->catches, (size_t)vm->catch_cap * sizeof *vm->catches, 0);
  xalloc(vm, vm->ledit, vm->ledit ? sizeof *vm->ledit : 0, 0);
  xalloc(vm, vm->cf, vm->cf ? MAX_CF * sizeof *vm->cf : 0, 0);
  xalloc(vm, vm->lname, vm->lname ? MAX_LOCALS * sizeof *vm->lname : 0, 0);
  vm->host.alloc(vm->host.ctx, vm, sizeof *vm, 0);
}

/* ---- embedding API ----------------------------------------------------- */

void forth_memory(forth_vm *vm, size_t *own, size_t *shared)
{
  size_t o = sizeof *vm, s = 0;
  o += (vm->dsize + 2 * GUARD + vm->rsize + 2 * GUARD + vm->lsize + 1) * sizeof(cell);
  o += (vm->csize + 2) * sizeof(fcode *) + (vm->fsize + 1) * sizeof(double);
  o += (size_t)vm->catch_cap * sizeof *vm->catches + (vm->ledit ? sizeof *vm->ledit : 0);
  o += (vm->cf ? MAX_CF * sizeof *vm->cf : 0) + (vm->lname ? MAX_LOCALS * sizeof *vm->lname : 0);
  o += (size_t)vm->capblocks * sizeof *vm->blocks + vm->capwseg * sizeof *vm->wseg;
  o += vm->capsegs * sizeof *vm->segs + vm->incl_cap;
  for (int i = 0; i < vm->nsrc; i++)
    o += *vm->src[i].name ? strlen(vm->src[i].name) + 1 : 0;
  for (size_t i = 0; i < vm->nsegs; i++) {
    size_t b = vm_seg_bytes(vm->segs[i]) + sizeof(struct seghdr);
    if (vm_seg_refs(vm->segs[i]) > 1)
      s += b;
    else
      o += b;
  }
  size_t dox, dsh;
  dspace_usage(vm, &dox, &dsh);
  *own = o + dox;
  *shared = s + dsh;
}

int forth_define(forth_vm *vm, const char *name, forth_hostfn fn, void *ctx)
{
  if (!vm || !name || !*name || !fn)
    return MN_EINVAL;
  return vm_define_host(vm, name, fn, ctx, 0) ? MN_ENOMEM : 0;
}

int forth_push(forth_vm *vm, forth_cell x)
{
  return vm_push(vm, x);
}

int forth_pop(forth_vm *vm, forth_cell *x)
{
  return vm_pop(vm, x);
}

int forth_depth(const forth_vm *vm)
{
  return (int)(vm->sp - vm->ds0);
}

int forth_peek(const forth_vm *vm, int i, forth_cell *x)
{
  if (i < 0 || i >= forth_depth(vm))
    return -4;
  *x = vm->sp[-i];
  return 0;
}

void *forth_mem(forth_vm *vm, forth_cell addr, size_t len)
{
  if (len > (size_t)vm->size)
    return NULL;
  return vm_ptr(vm, addr, (cell)len);
}

void forth_interrupt(forth_vm *vm)
{
  vm->interrupt = 1;
}

uint64_t forth_wait_deadline(const forth_vm *vm)
{
  return vm->ms_active ? vm->ms_deadline : 0;
}

unsigned long forth_fuel_used(const forth_vm *vm)
{
  return vm->fuel_used;
}

unsigned long forth_errors(const forth_vm *vm)
{
  return vm->nerrors;
}
