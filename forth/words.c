/*
 * words.c: Forth words written in C that are not hot enough to be opcodes:
 * data space (HERE ALLOT , ...), stack odds (PICK ROLL N>R ...), terminal
 * I/O (KEY EMIT TYPE ACCEPT MS), strings (MOVE FILL COMPARE SEARCH S" ...),
 * pictured numeric output, ALLOCATE/FREE/RESIZE, FIND and M-star-slash.
 * Every address from the stack is checked with vm_ptr or vm_rptr (THROW -9).
 *
 * Interface:
 *   vm_install_tools (also adds the tools.c words)
 */
#include "forth_int.h"


#define need vm_need
#define string vm_string

/* ---- data space --------------------------------------------------------- */

static int w_here(forth_vm *vm, void *ctx) { PUSH(vm->here); return 0; }

static int w_allot(forth_vm *vm, void *ctx)
{
  cell n;
  int err;
  POP(n);
  vm_allot(vm, n, &err);
  return err;
}

static int w_comma(forth_vm *vm, void *ctx)
{
  cell x;
  int err;
  POP(x);
  cell a = vm_allot(vm, CELL, &err);
  if (!err)
    vm_set(vm, a, x);
  return err;
}

static int w_ccomma(forth_vm *vm, void *ctx)
{
  cell x;
  int err;
  POP(x);
  cell a = vm_allot(vm, 1, &err);
  if (!err) {
    uint8_t *d = vm_ptr(vm, a, 1);
    if (!d)
      return -8;
    *d = (uint8_t)x;
  }
  return err;
}

static int w_align(forth_vm *vm, void *ctx)
{
  int err;
  vm_allot(vm, (cell)((0 - (ucell)vm->here) & (sizeof(cell) - 1)), &err);
  return err;
}

static int w_aligned(forth_vm *vm, void *ctx)
{
  cell a;
  POP(a);
  PUSH((cell)(((ucell)a + sizeof(cell) - 1) & ~(ucell)(sizeof(cell) - 1)));
  return 0;
}

static int w_unused(forth_vm *vm, void *ctx) { PUSH(vm->dict_end - vm->here); return 0; }

/* VM-MEMORY ( -- u-own u-shared ): host memory this VM holds alone and
 * what it shares with other VMs (forth_memory). */
static int w_vm_memory(forth_vm *vm, void *ctx)
{
  size_t own, shared;
  forth_memory(vm, &own, &shared);
  PUSH(own);
  PUSH(shared);
  return 0;
}
static int w_state(forth_vm *vm, void *ctx) { PUSH(vm->a_state); return 0; }
static int w_base(forth_vm *vm, void *ctx) { PUSH(vm->a_base); return 0; }
static int w_in(forth_vm *vm, void *ctx) { PUSH(vm->a_in); return 0; }
static int w_pad(forth_vm *vm, void *ctx) { PUSH(vm->a_pad); return 0; }

/* ---- stack -------------------------------------------------------------- */

static int w_depth(forth_vm *vm, void *ctx)
{
  PUSH(vm->sp - vm->ds0);
  return 0;
}

static int w_pick(forth_vm *vm, void *ctx)
{
  cell n;
  POP(n);
  if (n < 0 || n >= vm->sp - vm->ds0)
    return -4;
  PUSH(vm->sp[-n]);
  return 0;
}

static int w_roll(forth_vm *vm, void *ctx)
{
  cell n;
  POP(n);
  if (n < 0 || n >= vm->sp - vm->ds0)
    return -4;
  cell x = vm->sp[-n];
  memmove(vm->sp - n, vm->sp - n + 1, (size_t)n * sizeof(cell));
  *vm->sp = x;
  return 0;
}

static int w_ntor(forth_vm *vm, void *ctx)
{
  cell n;
  POP(n);
  if (n < 0 || n > vm->sp - vm->ds0)
    return -4;
  if (vm->rp - vm->rs0 + n + 1 > (cell)vm->rsize)
    return -5;
  for (cell i = 0; i < n; i++)
    *++vm->rp = *vm->sp--;
  *++vm->rp = n;
  return 0;
}

static int w_nrfrom(forth_vm *vm, void *ctx)
{
  if (vm->rp <= vm->rs0)
    return -6;
  cell n = *vm->rp;
  if (n < 0 || n > vm->rp - vm->rs0 - 1)
    return -6;
  if (vm->sp - vm->ds0 + n + 1 > (cell)vm->dsize)
    return -3;
  vm->rp--;
  for (cell i = 0; i < n; i++)
    *++vm->sp = *vm->rp--;
  *++vm->sp = n;
  return 0;
}

/* ---- terminal ----------------------------------------------------------- */

static int w_emit(forth_vm *vm, void *ctx)
{
  cell c;
  POP(c);
  char ch = (char)c;
  vm_type(vm, &ch, 1);
  return 0;
}

static int w_type(forth_vm *vm, void *ctx)
{
  cell a, n;
  POP(n);
  POP(a);
  if (n <= 0)
    return 0;
  const char *p = vm_rptr(vm, a, n);
  if (!p)
    return -9;
  vm_type(vm, p, (size_t)n);
  return 0;
}

static int w_cr(forth_vm *vm, void *ctx)
{
  vm_type(vm, "\n", 1);
  return 0;
}

static int w_key(forth_vm *vm, void *ctx)
{
  if (vm->sp >= vm->ds0 + vm->dsize)
    return -3;
  int c = vm->host.key ? vm->host.key(vm->host.ctx) : FORTH_KEY_EOF;
  if (c == FORTH_KEY_WAIT)
    return FORTH_WAIT;
  if (c == 3)
    return -28;
  PUSH(c < 0 ? 4 : c); /* end of input reads as Ctrl-D */
  return 0;
}

static int w_key_q(forth_vm *vm, void *ctx)
{
  PUSH(vm->host.key_ready && vm->host.key_ready(vm->host.ctx) ? -1 : 0);
  return 0;
}

/* ACCEPT ( c-addr +n1 -- +n2 ), resumable: progress in vm->accept_pos. */
static int w_accept(forth_vm *vm, void *ctx)
{
  int r;
  if ((r = need(vm, 2)))
    return r;
  cell n = vm->sp[0], a = vm->sp[-1];
  uint8_t none, *p = n > 0 ? vm_ptr(vm, a, n) : &none; /* n <= 0: no room */
  if (!p)
    return -9;
  for (;;) {
    int c = vm->host.key ? vm->host.key(vm->host.ctx) : FORTH_KEY_EOF;
    if (c == FORTH_KEY_WAIT)
      return FORTH_WAIT;
    if (vm->cfg.line_edit) {
      cell len = 0;
      int e = ledit_key(vm, p, n > 0 ? (int)(n < LINE_MAX_BYTES ? n : LINE_MAX_BYTES) : 0,
                        c == FORTH_KEY_EOF ? '\n' : c, &len);
      if (e == -28)
        return -28;
      if (e == 0)
        continue;
      vm->sp--;
      *vm->sp = e == 1 ? len : 0;
      return 0;
    }
    if (c == 3) {
      vm->accept_pos = 0;
      return -28;
    }
    if (c == '\n' || c == FORTH_KEY_EOF)
      break;
    if (c == '\r')
      continue;
    if ((c == 8 || c == 127)) {
      if (vm->accept_pos)
        vm->accept_pos--;
      continue;
    }
    if (vm->accept_pos < n)
      p[vm->accept_pos++] = (uint8_t)c;
    if (vm->accept_pos >= n)
      break;
  }
  vm->sp--;
  *vm->sp = vm->accept_pos;
  vm->accept_pos = 0;
  return 0;
}

static int w_ms(forth_vm *vm, void *ctx)
{
  int r;
  if ((r = need(vm, 1)))
    return r;
  cell n = *vm->sp;
  if (!vm->host.now_ms || n <= 0) {
    vm->sp--;
    return 0;
  }
  uint64_t now = vm->host.now_ms(vm->host.ctx);
  if (!vm->ms_active) {
    vm->ms_active = 1;
    vm->ms_deadline = now + (uint64_t)n;
  }
  if (now < vm->ms_deadline)
    return FORTH_WAIT;
  vm->ms_active = 0;
  vm->sp--;
  return 0;
}

/* ---- pictured numeric output ------------------------------------------ */

#define HOLD_END(vm) ((vm)->a_hold + 2 * FORTH_CELL_BITS + 128)

static int w_lesshash(forth_vm *vm, void *ctx)
{
  vm->hold_ptr = HOLD_END(vm);
  return 0;
}

static int hold(forth_vm *vm, int c)
{
  if (vm->hold_ptr <= vm->a_hold || vm->hold_ptr > HOLD_END(vm))
    return -17;
  uint8_t *d = vm_ptr(vm, vm->hold_ptr - 1, 1);
  if (!d)
    return -9;
  *d = (uint8_t)c;
  vm->hold_ptr--;
  return 0;
}

static int w_hold(forth_vm *vm, void *ctx)
{
  cell c;
  POP(c);
  return hold(vm, (int)c);
}

static int w_holds(forth_vm *vm, void *ctx)
{
  const uint8_t *p;
  cell n;
  int r = string(vm, &p, &n);
  while (!r && n > 0)
    r = hold(vm, p[--n]);
  return r;
}

static int w_sign(forth_vm *vm, void *ctx)
{
  cell n;
  POP(n);
  return n < 0 ? hold(vm, '-') : 0;
}

static int hash1(forth_vm *vm)
{
  int r;
  if ((r = need(vm, 2)))
    return r;
  ucell base = (ucell)vm_get(vm, vm->a_base);
  if (base < 2 || base > 36)
    return -24;
  ucell hi = (ucell)vm->sp[0], lo = (ucell)vm->sp[-1], rem;
  ucell qh = hi / base;
  ucell ql = udiv21(hi % base, lo, base, &rem);
  int d = (int)rem;
  vm->sp[-1] = (cell)ql;
  vm->sp[0] = (cell)qh;
  return hold(vm, d < 10 ? '0' + d : 'A' + d - 10);
}

static int w_hash(forth_vm *vm, void *ctx) { return hash1(vm); }

static int w_hashs(forth_vm *vm, void *ctx)
{
  int r;
  do {
    if ((r = hash1(vm)))
      return r;
  } while (vm->sp[0] || vm->sp[-1]);
  return 0;
}

static int w_hashgreater(forth_vm *vm, void *ctx)
{
  int r;
  if ((r = need(vm, 2)))
    return r;
  if (vm->hold_ptr < vm->a_hold || vm->hold_ptr > HOLD_END(vm))
    vm->hold_ptr = HOLD_END(vm);
  vm->sp[-1] = vm->hold_ptr;
  vm->sp[0] = HOLD_END(vm) - vm->hold_ptr;
  return 0;
}

/* ---- heap ---------------------------------------------------------------- */

static int w_allocate(forth_vm *vm, void *ctx)
{
  cell n;
  POP(n);
  cell a = n < 0 ? 0 : fheap_alloc(vm, (ucell)n);
  PUSH(a);
  PUSH(a ? 0 : -59);
  return 0;
}

static int w_free(forth_vm *vm, void *ctx)
{
  cell a;
  POP(a);
  PUSH(fheap_free(vm, a) ? -60 : 0);
  return 0;
}

static int w_resize(forth_vm *vm, void *ctx)
{
  cell a, n;
  int err;
  POP(n);
  POP(a);
  cell b = n < 0 ? 0 : fheap_resize(vm, a, (ucell)n, &err);
  if (n < 0)
    err = -61;
  PUSH(b ? b : a);
  PUSH(b ? 0 : -61);
  return 0;
}

/* ---- words about words -------------------------------------------------- */

static int w_find(forth_vm *vm, void *ctx)
{
  cell a;
  POP(a);
  const uint8_t *p = vm_rptr(vm, a, 1);
  if (!p || !(p = vm_rptr(vm, a, 1 + *p)))
    return -9;
  uint32_t w = vm_find(vm, (const char *)p + 1, *p);
  if (!w) {
    PUSH(a);
    PUSH(0);
    return 0;
  }
  PUSH(w);
  PUSH(WORD(vm, w)->flags & WF_IMMEDIATE ? 1 : -1);
  return 0;
}

static int w_to_body(forth_vm *vm, void *ctx)
{
  cell xt;
  POP(xt);
  if (!vm_valid_xt(vm, xt))
    return -31;
  int k = WORD(vm, xt)->kind;
  if (k != WK_CREATE && k != WK_DOES && k != WK_VARIABLE && k != WK_VALUE &&
      k != WK_2VALUE && k != WK_DEFER)
    return -31;
  PUSH(WORD(vm, xt)->body);
  return 0;
}

static int defined(forth_vm *vm, int want)
{
  cell a, n;
  vm_parse_name(vm, &a, &n);
  int found = n && vm_find(vm, (const char *)vm_rptr(vm, a, n), (size_t)n);
  PUSH(found == want ? -1 : 0);
  return 0;
}

static int w_defined(forth_vm *vm, void *ctx) { return defined(vm, 1); }
static int w_undefined(forth_vm *vm, void *ctx) { return defined(vm, 0); }

static int w_name_eq(forth_vm *vm, void *ctx)
{
  const uint8_t *a, *b;
  cell n1, n2;
  int r = string(vm, &b, &n2);
  if (r || (r = string(vm, &a, &n1)))
    return r;
  int eq = n1 == n2;
  for (cell i = 0; eq && i < n1; i++) {
    int x = a[i], y = b[i];
    eq = (x >= 'a' && x <= 'z' ? x - 32 : x) == (y >= 'a' && y <= 'z' ? y - 32 : y);
  }
  PUSH(eq ? -1 : 0);
  return 0;
}

static int name_cmp(const char *a, const uint8_t *b, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    int x = (unsigned char)a[i], y = b[i];
    if ((x >= 'a' && x <= 'z' ? x - 32 : x) != (y >= 'a' && y <= 'z' ? y - 32 : y))
      return 1;
  }
  return 0;
}

static int w_environment(forth_vm *vm, void *ctx)
{
  const uint8_t *p;
  cell n;
  int r = string(vm, &p, &n);
  if (r)
    return r;
  static const struct { const char *q; cell v; } env[] = {
    {"/COUNTED-STRING", 255}, {"/HOLD", 2 * FORTH_CELL_BITS + 128},
    {"/PAD", 256}, {"ADDRESS-UNIT-BITS", 8}, {"FLOORED", 0},
    {"MAX-CHAR", 255}, {"MAX-N", (cell)(((ucell)-1) >> 1)},
    {"MAX-U", -1}, {"RETURN-STACK-CELLS", 0}, {"STACK-CELLS", 0},
    {"CORE", -1}, {"CORE-EXT", -1}, {"DOUBLE", -1}, {"DOUBLE-EXT", -1},
    {"EXCEPTION", -1}, {"EXCEPTION-EXT", -1}, {"MEMORY-ALLOC", -1},
    {"MEMORY-ALLOC-EXT", -1}, {"SEARCH-ORDER", -1}, {"SEARCH-ORDER-EXT", -1},
    {"WORDLISTS", MAX_ORDER}, {"TOOLS", -1}, {"TOOLS-EXT", -1},
    {"STRING", -1}, {"STRING-EXT", -1}, {"LOCALS", -1}, {"LOCALS-EXT", -1},
    {"#LOCALS", MAX_LOCALS}, {"FLOATING", -1}, {"FLOATING-EXT", -1},
    {"FLOATING-STACK", 0}, {"MAX-FLOAT", 0}, {"FACILITY", -1},
    {"FACILITY-EXT", -1}, {"FILE", -1}, {"FILE-EXT", -1}, {"BLOCK", -1},
    {"BLOCK-EXT", -1},
  };
  for (size_t i = 0; i < sizeof env / sizeof env[0]; i++) {
    if (strlen(env[i].q) == (size_t)n && !name_cmp(env[i].q, p, (size_t)n)) {
      cell v = env[i].v;
      if (!strcmp(env[i].q, "MAX-FLOAT")) {
        if ((r = vm_fpush(vm, 0x1.fffffffffffffp1023)))
          return r;
        PUSH(-1);
        return 0;
      }
      if (!strcmp(env[i].q, "FLOATING-STACK"))
        v = vm->fsize;
      else if (!strcmp(env[i].q, "RETURN-STACK-CELLS"))
        v = vm->rsize;
      else if (!strcmp(env[i].q, "STACK-CELLS"))
        v = vm->dsize;
      PUSH(v);
      PUSH(-1);
      return 0;
    }
  }
  PUSH(0);
  return 0;
}

/* M-star-slash ( d1 n1 +n2 -- d2 ) with a triple-cell intermediate. */
static int w_mstarslash(forth_vm *vm, void *ctx)
{
  cell n1, n2, lo, hi;
  POP(n2);
  POP(n1);
  POP(hi);
  POP(lo);
  if (n2 <= 0)
    return n2 ? -24 : -10;
  dcell d = (dcell)(((udcell)(ucell)hi << FORTH_CELL_BITS) | (ucell)lo);
  int neg = (d < 0) != (n1 < 0);
  udcell ud = d < 0 ? 0 - (udcell)d : (udcell)d;
  ucell un = n1 < 0 ? 0 - (ucell)n1 : (ucell)n1;
  const int B = FORTH_CELL_BITS;
  udcell mask = ((udcell)1 << B) - 1;
  udcell p0 = (ud & mask) * un, p1 = (ud >> B) * un + (p0 >> B);
  /* triple: t2 t1 t0 (each a cell) */
  ucell t0 = (ucell)p0, t1 = (ucell)p1, t2 = (ucell)(p1 >> B);
  udcell r = t2;
  if (r >= (ucell)n2)
    return -11;
  ucell rr;
  ucell q1 = udiv21((ucell)r, t1, (ucell)n2, &rr);
  ucell q0 = udiv21(rr, t0, (ucell)n2, &rr);
  udcell q = ((udcell)q1 << B) | q0;
  if (neg)
    q = 0 - q;
  PUSH((cell)(ucell)q);
  PUSH((cell)(ucell)(q >> B));
  return 0;
}

static const struct prim_def more_words[] = {
  {"HERE", w_here, 0}, {"ALLOT", w_allot, 0}, {",", w_comma, 0},
  {"C,", w_ccomma, 0}, {"ALIGN", w_align, 0}, {"ALIGNED", w_aligned, 0},
  {"UNUSED", w_unused, 0}, {"VM-MEMORY", w_vm_memory, 0}, {"STATE", w_state, 0}, {"BASE", w_base, 0},
  {">IN", w_in, 0}, {"PAD", w_pad, 0},
  {"DEPTH", w_depth, 0}, {"PICK", w_pick, 0}, {"ROLL", w_roll, 0},
  {"N>R", w_ntor, 0}, {"NR>", w_nrfrom, 0},
  {"EMIT", w_emit, 0}, {"TYPE", w_type, 0}, {"CR", w_cr, 0},
  {"KEY", w_key, 0}, {"KEY?", w_key_q, 0}, {"ACCEPT", w_accept, 0}, {"MS", w_ms, 0},
  {"<#", w_lesshash, 0}, {"HOLD", w_hold, 0}, {"HOLDS", w_holds, 0},
  {"SIGN", w_sign, 0}, {"#", w_hash, 0}, {"#S", w_hashs, 0},
  {"#>", w_hashgreater, 0},
  {"ALLOCATE", w_allocate, 0}, {"FREE", w_free, 0}, {"RESIZE", w_resize, 0},
  {"FIND", w_find, 0}, {">BODY", w_to_body, 0},
  {"[DEFINED]", w_defined, WF_IMMEDIATE},
  {"[UNDEFINED]", w_undefined, WF_IMMEDIATE},
  {"ENVIRONMENT?", w_environment, 0}, {"(name=)", w_name_eq, 0}, {"M*/", w_mstarslash, 0},
};

int vm_install_tools_words(forth_vm *vm);

int vm_install_tools(forth_vm *vm)
{
  int r = vm_install_table(vm, more_words, sizeof more_words / sizeof more_words[0]);
  if (!r)
    r = vm_install_strings(vm);
  return r ? r : vm_install_tools_words(vm);
}
