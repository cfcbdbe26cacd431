/*
 * compile.c: defining words and the compiler's immediate words: : ; CREATE
 * DOES> VARIABLE CONSTANT VALUE DEFER TO IS, control structures on a
 * separate, typed control-flow stack (mismatches THROW -22, overflow -52),
 * POSTPONE, literals and strings, MARKER.
 *
 * Interface:
 *   vm_install_words   adds these words to a VM
 *   vm_snippet         code-space room for a word's code field
 */
#include "forth_int.h"

#define STATE(vm) vm_get(vm, (vm)->a_state)

/* n cells of code for a new word, jumping around it mid-definition. */
fcode *vm_snippet(forth_vm *vm, size_t n)
{
  if (vm_code_reserve(vm, n + 4))
    return NULL;
  if (vm->def_start) {
    vm->cp[0] = (fcode)forth_op_addr[OP_BRANCH];
    vm->cp[1] = (fcode)(vm->cp + 2 + n);
    vm->cp += 2;
  }
  fcode *c = vm->cp;
  vm->cp += n;
  vm_mark_label(vm);
  return c;
}

static int parse_word(forth_vm *vm, const char **name, cell *n)
{
  cell a;
  vm_parse_name(vm, &a, n);
  if (!*n)
    return -16;
  *name = vm_rptr(vm, a, *n);
  if (!*name)
    return -9;
  vm->last_name = a;
  vm->last_name_len = *n;
  return 0;
}

/* Parses a name and makes a header of kind with a code field of n cells. */
static int header(forth_vm *vm, int kind, size_t n, uint32_t *w, fcode **c)
{
  const char *name;
  cell len;
  int r = parse_word(vm, &name, &len);
  if (r || (r = vm_word_new(vm, name, (size_t)len, kind, w)))
    return r;
  if (!(*c = vm_snippet(vm, n))) {
    WORD(vm, *w)->kind = WK_COLON; /* stays hidden, runs undef_code */
    WORD(vm, *w)->flags = WF_HIDDEN;
    return -8;
  }
  WORD(vm, *w)->code = *c;
  vm->latest = *w;
  return 0;
}

static const void *L(int op) { return forth_op_addr[op]; }

static cell align_here(forth_vm *vm, int *err)
{
  cell pad = (cell)((ucell)(0 - (ucell)vm->here) & (sizeof(cell) - 1));
  vm_allot(vm, pad, err);
  return vm->here;
}

static int cf_push(forth_vm *vm, int kind, fcode *addr)
{
  if (vm->ncf >= MAX_CF)
    return -52;
  if (!vm->cf && !(vm->cf = vm->host.alloc(vm->host.ctx, NULL, 0, MAX_CF * sizeof *vm->cf)))
    return -8;
  vm->cf[vm->ncf].kind = kind;
  vm->cf[vm->ncf].addr = addr;
  vm->cf[vm->ncf].leaves = NULL;
  vm->ncf++;
  return 0;
}

static int cf_pop(forth_vm *vm, int kind, struct cfent *e)
{
  if (!vm->ncf || vm->cf[vm->ncf - 1].kind != kind)
    return -22;
  *e = vm->cf[--vm->ncf];
  return 0;
}

/* Resolves a chain of forward-branch operands to the current position. */
static void resolve_chain(forth_vm *vm, fcode *site)
{
  while (site) {
    fcode *next = (fcode *)*site;
    *site = (fcode)vm->cp;
    site = next;
  }
  vm_mark_label(vm);
}

/* ---- definitions -------------------------------------------------------- */

static int begin_def(forth_vm *vm, uint32_t w)
{
  int r;
  if (vm->def_start)
    return -29;
  if ((r = vm_code_reserve(vm, 8)))
    return r;
  vm_mark_label(vm);
  WORD(vm, w)->code = vm->cp;
  WORD(vm, w)->flags |= WF_HIDDEN;
  vm->def_start = vm->cp;
  vm->defining = w;
  vm->latest = w;
  vm->ncf = 0;
  vm->nlocals = vm->nlpending = 0;
  vm->straight = 0;
  vm_set(vm, vm->a_state, -1);
  return cf_push(vm, CF_COLON, NULL);
}

static int w_colon(forth_vm *vm, void *ctx)
{
  const char *name;
  cell len;
  uint32_t w;
  if (vm->def_start)
    return -29;
  int r = parse_word(vm, &name, &len);
  if (r || (r = vm_word_new(vm, name, (size_t)len, WK_COLON, &w)))
    return r;
  return begin_def(vm, w);
}

static int w_noname(forth_vm *vm, void *ctx)
{
  uint32_t w;
  if (vm->def_start)
    return -29;
  int r = vm_word_new(vm, "", 0, WK_COLON, &w);
  if (r || (r = begin_def(vm, w)))
    return r;
  PUSH(w);
  return 0;
}

static int w_semicolon(forth_vm *vm, void *ctx)
{
  struct cfent e;
  int r;
  if (vm->ncf != 1 || (r = cf_pop(vm, CF_COLON, &e)))
    return -22;
  if ((r = vm_locals_end(vm)) || (r = vm_compile_op(vm, OP_EXIT)))
    return r;
  vm->nlocals = 0;
  WORD(vm, vm->defining)->flags &= (uint8_t)~WF_HIDDEN;
  vm->def_start = NULL;
  vm->defining = 0;
  vm_mark_label(vm);
  vm_set(vm, vm->a_state, 0);
  return 0;
}

static int w_recurse(forth_vm *vm, void *ctx)
{
  if (!vm->def_start)
    return -27;
  return vm_compile_op1(vm, OP_CALL, (fcode)vm->def_start);
}

static int w_create(forth_vm *vm, void *ctx)
{
  uint32_t w;
  fcode *c;
  int err, r = header(vm, WK_CREATE, 4, &w, &c);
  if (r)
    return r;
  cell body = align_here(vm, &err);
  WORD(vm, w)->body = body;
  c[0] = (fcode)L(OP_LIT); c[1] = (fcode)body;
  c[2] = (fcode)L(OP_EXIT); c[3] = 0;
  return 0;
}

static int w_variable(forth_vm *vm, void *ctx)
{
  uint32_t w;
  fcode *c;
  int err, r = header(vm, WK_VARIABLE, 3, &w, &c);
  if (r)
    return r;
  cell body = align_here(vm, &err);
  vm_allot(vm, CELL, &err);
  if (err)
    return err;
  vm_set(vm, body, 0);
  WORD(vm, w)->body = body;
  c[0] = (fcode)L(OP_LIT); c[1] = (fcode)body; c[2] = (fcode)L(OP_EXIT);
  return 0;
}

static int w_constant(forth_vm *vm, void *ctx)
{
  uint32_t w;
  fcode *c;
  cell x;
  POP(x);
  int r = header(vm, WK_CONSTANT, 3, &w, &c);
  if (r)
    return r;
  WORD(vm, w)->body = x;
  c[0] = (fcode)L(OP_LIT); c[1] = (fcode)x; c[2] = (fcode)L(OP_EXIT);
  return 0;
}

static int w_2constant(forth_vm *vm, void *ctx)
{
  uint32_t w;
  fcode *c;
  cell x1, x2;
  POP(x2);
  POP(x1);
  int r = header(vm, WK_2CONSTANT, 4, &w, &c);
  if (r)
    return r;
  WORD(vm, w)->body = x1;
  WORD(vm, w)->body2 = x2;
  c[0] = (fcode)L(OP_LIT2); c[1] = (fcode)x1; c[2] = (fcode)x2;
  c[3] = (fcode)L(OP_EXIT);
  return 0;
}

static int value(forth_vm *vm, int two)
{
  uint32_t w;
  fcode *c;
  cell x1 = 0, x2;
  int err;
  POP(x2);
  if (two)
    POP(x1);
  int r = header(vm, two ? WK_2VALUE : WK_VALUE, 3, &w, &c);
  if (r)
    return r;
  cell body = align_here(vm, &err);
  vm_allot(vm, two ? 2 * CELL : CELL, &err);
  if (err)
    return err;
  vm_set(vm, body, x2);
  if (two)
    vm_set(vm, body + CELL, x1);
  WORD(vm, w)->body = body;
  c[0] = (fcode)L(two ? OP_LIT2FETCH : OP_LITFETCH); c[1] = (fcode)body;
  c[2] = (fcode)L(OP_EXIT);
  return 0;
}

static int w_value(forth_vm *vm, void *ctx) { return value(vm, 0); }
static int w_2value(forth_vm *vm, void *ctx) { return value(vm, 1); }

static int w_defer(forth_vm *vm, void *ctx)
{
  uint32_t w;
  fcode *c;
  int err, r = header(vm, WK_DEFER, 2, &w, &c);
  if (r)
    return r;
  cell body = align_here(vm, &err);
  vm_allot(vm, CELL, &err);
  if (err)
    return err;
  vm_set(vm, body, 0);
  WORD(vm, w)->body = body;
  c[0] = (fcode)L(OP_DEFER); c[1] = (fcode)body;
  return 0;
}

/* Finds the word named next in the input; 0 or -13/-16. */
static int find_next(forth_vm *vm, uint32_t *w)
{
  const char *name;
  cell len;
  int r = parse_word(vm, &name, &len);
  if (r)
    return r;
  *w = vm_find(vm, name, (size_t)len);
  return *w ? 0 : -13;
}

/* TO, IS, ACTION-OF share this: kinds allowed, and fetch or store. */
static int to_like(forth_vm *vm, int is, int fetch)
{
  uint32_t w;
  int r;
  if (!is && STATE(vm) && vm->nlocals) { /* TO a local */
    cell in = vm_get(vm, vm->a_in), a, n;
    vm_parse_name(vm, &a, &n);
    const char *nm = vm_rptr(vm, a, n);
    int k = nm ? vm_local_find(vm, nm, (size_t)n) : -1;
    if (k >= 0)
      return vm_compile_op1(vm, OP_LOCAL_STORE, (fcode)(cell)(vm->nlocals - 1 - k));
    vm_set(vm, vm->a_in, in);
  }
  if ((r = find_next(vm, &w)))
    return r;
  struct fword *p = WORD(vm, w);
  int k = p->kind;
  if (k == WK_FVALUE && !is)
    return vm_float_to(vm, p->body, STATE(vm) != 0);
  if (is ? k != WK_DEFER : (k != WK_VALUE && k != WK_2VALUE))
    return -32;
  int two = k == WK_2VALUE;
  if (STATE(vm)) {
    int op = fetch ? OP_LITFETCH : two ? OP_LIT2STORE : OP_LITSTORE;
    return vm_compile_op1(vm, op, (fcode)p->body);
  }
  if (fetch) {
    PUSH(vm_get(vm, p->body));
    return 0;
  }
  cell x, y;
  POP(x);
  if (is && !vm_valid_xt(vm, x))
    return -13;
  if (two) {
    POP(y);
    vm_set(vm, p->body + CELL, y);
  }
  vm_set(vm, p->body, x);
  return 0;
}

static int w_to(forth_vm *vm, void *ctx) { return to_like(vm, 0, 0); }
static int w_is(forth_vm *vm, void *ctx) { return to_like(vm, 1, 0); }
static int w_action_of(forth_vm *vm, void *ctx) { return to_like(vm, 1, 1); }

static int defer_xt(forth_vm *vm, cell xt, struct fword **p)
{
  if (!vm_valid_xt(vm, xt) || WORD(vm, xt)->kind != WK_DEFER)
    return -21;
  *p = WORD(vm, xt);
  return 0;
}

static int w_defer_fetch(forth_vm *vm, void *ctx)
{
  cell xt;
  struct fword *p;
  POP(xt);
  int r = defer_xt(vm, xt, &p);
  if (r)
    return r;
  PUSH(vm_get(vm, p->body));
  return 0;
}

static int w_defer_store(forth_vm *vm, void *ctx)
{
  cell xt, x;
  struct fword *p;
  POP(xt);
  POP(x);
  int r = defer_xt(vm, xt, &p);
  if (r)
    return r;
  vm_set(vm, p->body, x);
  return 0;
}

static int w_immediate(forth_vm *vm, void *ctx)
{
  if (vm->latest < vm->frozen_words)
    return -21;
  WORD(vm, vm->latest)->flags |= WF_IMMEDIATE;
  return 0;
}

static int w_does(forth_vm *vm, void *ctx)
{
  int r = vm_locals_end(vm);
  if (r || (r = vm_code_reserve(vm, 8)))
    return r;
  vm->nlocals = 0;
  fcode *c = vm->cp;
  c[0] = (fcode)L(OP_DOES); c[1] = (fcode)(c + 3); c[2] = (fcode)L(OP_EXIT);
  vm->cp += 3;
  vm_mark_label(vm);
  return 0;
}

static int w_marker_run(forth_vm *vm, void *ctx)
{
  uint32_t w = (uint32_t)(uintptr_t)ctx;
  if (w >= vm->nwords || w < vm->frozen_words ||
      WORD(vm, w)->kind != WK_MARKER)
    return -15;
  vm_marker_restore(vm, WORD(vm, w)->body2);
  vm->here = WORD(vm, w)->body;
  vm->nwords = w;
  vm->latest = w - 1;
  return 0;
}

static int w_marker(forth_vm *vm, void *ctx)
{
  uint32_t w;
  fcode *c;
  cell here = vm->here, rec;
  int r = vm_marker_save(vm, &rec);
  if (r || (r = header(vm, WK_MARKER, 4, &w, &c)))
    return r;
  WORD(vm, w)->body = here;
  WORD(vm, w)->body2 = rec;
  c[0] = (fcode)L(OP_CCALL); c[1] = (fcode)w_marker_run;
  c[2] = (fcode)(uintptr_t)w; c[3] = (fcode)L(OP_EXIT);
  return 0;
}

/* ---- control structures ------------------------------------------------- */

static int orig(forth_vm *vm, int op)
{
  int r = vm_compile_op1(vm, op, 0);
  return r ? r : cf_push(vm, CF_ORIG, vm->cp - 1);
}

static int w_if(forth_vm *vm, void *ctx) { return orig(vm, OP_QBRANCH); }
static int w_ahead(forth_vm *vm, void *ctx) { return orig(vm, OP_BRANCH); }

static int w_then(forth_vm *vm, void *ctx)
{
  struct cfent e;
  int r = cf_pop(vm, CF_ORIG, &e);
  if (r)
    return r;
  *e.addr = (fcode)vm->cp;
  return vm_mark_label(vm);
}

static int w_else(forth_vm *vm, void *ctx)
{
  struct cfent e;
  int r = cf_pop(vm, CF_ORIG, &e);
  if (r || (r = orig(vm, OP_BRANCH)))
    return r;
  *e.addr = (fcode)vm->cp;
  return vm_mark_label(vm);
}

static int w_begin(forth_vm *vm, void *ctx)
{
  vm_mark_label(vm);
  return cf_push(vm, CF_DEST, vm->cp);
}

static int back(forth_vm *vm, int op)
{
  struct cfent e;
  int r = cf_pop(vm, CF_DEST, &e);
  return r ? r : vm_compile_op1(vm, op, (fcode)e.addr);
}

static int w_again(forth_vm *vm, void *ctx) { return back(vm, OP_BRANCH); }
static int w_until(forth_vm *vm, void *ctx) { return back(vm, OP_QBRANCH); }

static int w_while(forth_vm *vm, void *ctx)
{
  struct cfent d;
  int r = cf_pop(vm, CF_DEST, &d);
  if (r || (r = orig(vm, OP_QBRANCH)))
    return r;
  return cf_push(vm, CF_DEST, d.addr);
}

static int w_repeat(forth_vm *vm, void *ctx)
{
  int r = back(vm, OP_BRANCH);
  return r ? r : w_then(vm, ctx);
}

static int w_do(forth_vm *vm, void *ctx)
{
  int r = vm_compile_op(vm, OP_DO);
  if (r || (r = cf_push(vm, CF_DO, NULL)))
    return r;
  vm_mark_label(vm);
  vm->cf[vm->ncf - 1].addr = vm->cp;
  return 0;
}

static int w_qdo(forth_vm *vm, void *ctx)
{
  int r = vm_compile_op1(vm, OP_QDO, 0);
  if (r || (r = cf_push(vm, CF_DO, NULL)))
    return r;
  vm->cf[vm->ncf - 1].leaves = vm->cp - 1;
  vm_mark_label(vm);
  vm->cf[vm->ncf - 1].addr = vm->cp;
  return 0;
}

static int loop_end(forth_vm *vm, int op)
{
  struct cfent e;
  int r = cf_pop(vm, CF_DO, &e);
  if (r || (r = vm_compile_op1(vm, op, (fcode)e.addr)))
    return r;
  resolve_chain(vm, e.leaves);
  return 0;
}

static int w_loop(forth_vm *vm, void *ctx) { return loop_end(vm, OP_LOOP); }
static int w_ploop(forth_vm *vm, void *ctx) { return loop_end(vm, OP_PLOOP); }

static int w_leave(forth_vm *vm, void *ctx)
{
  int i = vm->ncf - 1;
  while (i >= 0 && vm->cf[i].kind != CF_DO)
    i--;
  if (i < 0)
    return -22;
  int r = vm_compile_op1(vm, OP_LEAVE, (fcode)vm->cf[i].leaves);
  if (r)
    return r;
  vm->cf[i].leaves = vm->cp - 1;
  return 0;
}

static int w_case(forth_vm *vm, void *ctx) { return cf_push(vm, CF_CASE, NULL); }

static int w_of(forth_vm *vm, void *ctx)
{
  if (!vm->ncf || vm->cf[vm->ncf - 1].kind != CF_CASE)
    return -22;
  int r = vm_compile_op1(vm, OP_OF, 0);
  return r ? r : cf_push(vm, CF_OF, vm->cp - 1);
}

static int w_endof(forth_vm *vm, void *ctx)
{
  struct cfent e;
  int r = cf_pop(vm, CF_OF, &e);
  if (r || (r = vm_compile_op1(vm, OP_BRANCH, 0)))
    return r;
  struct cfent *c = &vm->cf[vm->ncf - 1];
  vm->cp[-1] = (fcode)c->leaves;
  c->leaves = vm->cp - 1;
  *e.addr = (fcode)vm->cp;
  return vm_mark_label(vm);
}

static int w_endcase(forth_vm *vm, void *ctx)
{
  struct cfent e;
  int r = cf_pop(vm, CF_CASE, &e);
  if (r || (r = vm_compile_op(vm, OP_DROP)))
    return r;
  resolve_chain(vm, e.leaves);
  return 0;
}

/* ---- literals, ticks, POSTPONE ----------------------------------------- */

static int w_literal(forth_vm *vm, void *ctx)
{
  cell x;
  POP(x);
  return vm_compile_op1(vm, OP_LIT, (fcode)x);
}

static int w_2literal(forth_vm *vm, void *ctx)
{
  cell x1, x2;
  POP(x2);
  POP(x1);
  int r = vm_compile_op1(vm, OP_LIT, (fcode)x1);
  return r ? r : vm_compile_op1(vm, OP_LIT, (fcode)x2);
}

static int w_tick(forth_vm *vm, void *ctx)
{
  uint32_t w;
  int r = find_next(vm, &w);
  if (r)
    return r;
  PUSH(w);
  return 0;
}

static int w_bracket_tick(forth_vm *vm, void *ctx)
{
  uint32_t w;
  int r = find_next(vm, &w);
  return r ? r : vm_compile_op1(vm, OP_LIT, (fcode)w);
}

static int w_compile_comma(forth_vm *vm, void *ctx)
{
  cell xt;
  POP(xt);
  return vm_compile_xt(vm, xt);
}

static int w_postpone(forth_vm *vm, void *ctx)
{
  uint32_t w;
  int r = find_next(vm, &w);
  if (r)
    return r;
  if (WORD(vm, w)->flags & WF_IMMEDIATE)
    return vm_compile_xt(vm, w);
  r = vm_compile_op1(vm, OP_LIT, (fcode)w);
  if (r)
    return r;
  return vm_compile_op1(vm, OP_CCALL, (fcode)w_compile_comma);
}

static int w_bracket_compile(forth_vm *vm, void *ctx)
{
  uint32_t w;
  int r = find_next(vm, &w);
  return r ? r : vm_compile_xt(vm, w);
}

static int w_lbracket(forth_vm *vm, void *ctx)
{
  vm_set(vm, vm->a_state, 0);
  return 0;
}

static int w_rbracket(forth_vm *vm, void *ctx)
{
  vm_set(vm, vm->a_state, -1);
  return 0;
}

static const struct prim_def compile_words[] = {
  {":", w_colon, 0}, {":NONAME", w_noname, 0},
  {";", w_semicolon, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"RECURSE", w_recurse, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"CREATE", w_create, 0}, {"VARIABLE", w_variable, 0},
  {"CONSTANT", w_constant, 0}, {"2CONSTANT", w_2constant, 0},
  {"VALUE", w_value, 0}, {"2VALUE", w_2value, 0}, {"DEFER", w_defer, 0},
  {"TO", w_to, WF_IMMEDIATE}, {"IS", w_is, WF_IMMEDIATE},
  {"ACTION-OF", w_action_of, WF_IMMEDIATE},
  {"DEFER@", w_defer_fetch, 0}, {"DEFER!", w_defer_store, 0},
  {"IMMEDIATE", w_immediate, 0},
  {"DOES>", w_does, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"MARKER", w_marker, 0},
  {"IF", w_if, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"AHEAD", w_ahead, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"THEN", w_then, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"ELSE", w_else, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"BEGIN", w_begin, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"AGAIN", w_again, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"UNTIL", w_until, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"WHILE", w_while, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"REPEAT", w_repeat, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"DO", w_do, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"?DO", w_qdo, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"LOOP", w_loop, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"+LOOP", w_ploop, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"LEAVE", w_leave, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"CASE", w_case, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"OF", w_of, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"ENDOF", w_endof, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"ENDCASE", w_endcase, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"LITERAL", w_literal, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"2LITERAL", w_2literal, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"'", w_tick, 0},
  {"[']", w_bracket_tick, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"COMPILE,", w_compile_comma, 0},
  {"POSTPONE", w_postpone, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"[COMPILE]", w_bracket_compile, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"[", w_lbracket, WF_IMMEDIATE}, {"]", w_rbracket, 0},
};

int vm_install_words(forth_vm *vm)
{
  return vm_install_table(vm, compile_words,
                          sizeof compile_words / sizeof compile_words[0]);
}
