/*
 * tools.c: programming tools that look at the dictionary: WORDS, SEE (a
 * decompiler for threaded code and every other kind of word), name
 * tokens (NAME>STRING NAME>INTERPRET NAME>COMPILE), SYNONYM, FORGET,
 * CS-PICK CS-ROLL, and CODE ;CODE (which report that there is no
 * assembler). .S ? DUMP TRAVERSE-WORDLIST are in the prelude.
 *
 * A name token is the word's header index, the same number as its
 * execution token.
 *
 * Interface:
 *   vm_install_tools_words
 */
#include "forth_int.h"

int vm_install_tools_words(forth_vm *vm);

static void out(forth_vm *vm, const char *s)
{
  vm_type(vm, s, strlen(s));
}

static void out_num(forth_vm *vm, cell v)
{
  char b[32];
  int k = (int)sizeof b;
  ucell u = v < 0 ? 0 - (ucell)v : (ucell)v;
  b[--k] = ' ';
  do b[--k] = (char)('0' + u % 10); while ((u /= 10) && k > 1);
  if (v < 0)
    b[--k] = '-';
  vm_type(vm, b + k, sizeof b - (size_t)k);
}

static void out_name(forth_vm *vm, uint32_t w)
{
  size_t n;
  const char *s = vm_word_name(vm, w, &n);
  if (n)
    vm_type(vm, s, n);
  else
    out(vm, "<noname>");
  out(vm, " ");
}

static int w_words(forth_vm *vm, void *ctx)
{
  size_t col = 0;
  for (uint32_t i = vm->nwords - 1; i > 0; i--) {
    size_t n;
    const char *s = vm_word_name(vm, i, &n);
    if (!n || (WORD(vm, i)->flags & WF_HIDDEN) || (s[0] == '(' && n > 1))
      continue;
    if (col + n + 1 > 78) {
      out(vm, "\n");
      col = 0;
    }
    vm_type(vm, s, n);
    out(vm, " ");
    col += n + 1;
  }
  out(vm, "\n");
  return 0;
}

static uint32_t host_word(forth_vm *vm, fcode fn)
{
  for (uint32_t i = vm->nwords - 1; i > 0; i--)
    if (WORD(vm, i)->kind == WK_HOST && (fcode)WORD(vm, i)->fn == fn)
      return i;
  return 0;
}

static uint32_t prim_word(forth_vm *vm, int op)
{
  for (uint32_t i = 1; i < vm->nwords; i++)
    if (WORD(vm, i)->kind == WK_PRIM && WORD(vm, i)->op == op)
      return i;
  return 0;
}

static const char *op_text(int op)
{
  switch (op) {
  case OP_BRANCH: return "BRANCH";
  case OP_QBRANCH: return "?BRANCH";
  case OP_DO: return "DO";
  case OP_QDO: return "?DO";
  case OP_LOOP: return "LOOP";
  case OP_PLOOP: return "+LOOP";
  case OP_LEAVE: return "LEAVE";
  case OP_OF: return "OF";
  case OP_LITFETCH: return "VALUE@";
  case OP_LITSTORE: return "TO";
  case OP_LIT2FETCH: return "2VALUE@";
  case OP_LIT2STORE: return "2TO";
  case OP_DOES: return "DOES>";
  case OP_ABORTQ: return "ABORT\"";
  case OP_DEFER: return "DEFER";
  case OP_LIT_ADD: return "+";
  case OP_LIT_SUB: return "-";
  case OP_LIT_EQ: return "=";
  case OP_LIT_LT: return "<";
  case OP_LIT_AND: return "AND";
  case OP_LIT_MUL: return "*";
  case OP_ZEQ_QBRANCH: return "0= ?BRANCH";
  case OP_LT_QBRANCH: return "< ?BRANCH";
  case OP_EQ_QBRANCH: return "= ?BRANCH";
  case OP_GT_QBRANCH: return "> ?BRANCH";
  case OP_DUP_QBRANCH: return "DUP ?BRANCH";
  case OP_OVER_FETCH: return "OVER @";
  case OP_I_FETCH: return "I @";
  case OP_I_CFETCH: return "I C@";
  case OP_I_2FETCH: return "I 2@";
  case OP_LIT_I_CSTORE: return "I C!";
  case OP_LIT_ADD_FETCH: return "+ @";
  case OP_FETCH_ADD: return "@ +";
  case OP_RFROM_ADD: return "R> +";
  case OP_SWAP_TOR: return "SWAP >R";
  case OP_CALL_EXIT: return "EXIT";
  case OP_LIT_FETCH: return "@";
  case OP_LIT_STORE: return "!";
  case OP_I_2STORE: return "I 2!";
  case OP_LIT_PLOOP: return "+LOOP";
  case OP_DUP_PLOOP: return "DUP +LOOP";
  case OP_I_CFETCH_QBRANCH: return "I C@ ?BRANCH";
  case OP_I_ADD: return "I +";
  case OP_CHECK: return "";
  case OP_LOCALS: return "(locals)";
  case OP_UNLOCALS: return "(unlocals)";
  case OP_LOCAL_FETCH: return "(local@)";
  case OP_LOCAL_STORE: return "(local!)";
  case OP_LOCAL0: return "(local0)";
  case OP_LOCAL1: return "(local1)";
  case OP_FLITFETCH: return "FVALUE@";
  case OP_FLITSTORE: return "TO-FVALUE";
  default: return NULL;
  }
}

/* LIT a LIT u [TYPE] with a u text in the dictionary: S" or ." */
static int see_string(forth_vm *vm, const fcode *c)
{
  if (vm_op_of((const void *)c[2]) != OP_LIT)
    return 0;
  cell a = (cell)c[1], u = (cell)c[3];
  const uint8_t *p = vm_rptr(vm, a, u);
  if (!p || u <= 0 || u > 255 || a < vm->dict_start || a + u > vm->here)
    return 0;
  for (cell i = 0; i < u; i++)
    if (p[i] < ' ' || p[i] == '"' || p[i] > '~')
      return 0;
  uint32_t t = vm_find_wl(vm, "TYPE", 4, FORTH_WID);
  int dot = vm_op_of((const void *)c[4]) == OP_CCALL && t &&
            c[5] == (fcode)WORD(vm, t)->fn;
  out(vm, dot ? ".\" " : "S\" ");
  vm_type(vm, (const char *)p, (size_t)u);
  out(vm, "\" ");
  return dot ? 7 : 4;
}

/* Prints one instruction; returns the number of cells it takes. */
static int see_one(forth_vm *vm, const fcode *c, const fcode *start)
{
  int op = vm_op_of((const void *)c[0]);
  if (op < 0) {
    out(vm, "??? ");
    return 1;
  }
  int n = vm_operands(op);
  const char *t = op_text(op);
  uint32_t w;
  switch (op) {
  case OP_CALL: case OP_CALL_EXIT:
    w = vm_word_of_code(vm, (const fcode *)c[1]);
    if (w)
      out_name(vm, w);
    else
      out(vm, "RECURSE ");
    if (op == OP_CALL_EXIT)
      out(vm, "EXIT ");
    return 2;
  case OP_LIT:
    {
      int sl = see_string(vm, c);
      if (sl)
        return sl;
    }
    /* fall through */
  case OP_LIT_ADD: case OP_LIT_SUB: case OP_LIT_EQ:
  case OP_LIT_LT: case OP_LIT_AND: case OP_LIT_MUL: case OP_LIT_ADD_FETCH:
  case OP_LIT_I_CSTORE: case OP_LIT_FETCH: case OP_LIT_STORE:
    out_num(vm, (cell)c[1]);
    break;
  case OP_LIT_PLOOP:
    out_num(vm, (cell)c[1]);
    out(vm, "+LOOP ");
    return 3;
  case OP_LIT_LT_QBRANCH:
    out_num(vm, (cell)c[1]);
    out(vm, "< ?BRANCH (");
    out_num(vm, (const fcode *)c[2] - start);
    out(vm, ") ");
    return 3;
  case OP_LIT2:
    out_num(vm, (cell)c[1]);
    out_num(vm, (cell)c[2]);
    return 3;
  case OP_FLIT: {
    double x;
    memcpy(&x, c + 1, sizeof x);
    vm_see_float(vm, x);
    return 1 + FLIT_CELLS;
  }
  case OP_LOCALS: case OP_UNLOCALS: case OP_LOCAL_FETCH: case OP_LOCAL_STORE:
    out(vm, t);
    out(vm, " ");
    out_num(vm, (cell)c[1]);
    return 2;
  case OP_CCALL:
    w = host_word(vm, c[1]);
    if (w)
      out_name(vm, w);
    else
      out(vm, "<host> ");
    return 3;
  case OP_ABORTQ: {
    const char *s = vm_rptr(vm, (cell)c[1], (cell)c[2]);
    out(vm, "ABORT\" ");
    if (s)
      vm_type(vm, s, (size_t)c[2]);
    out(vm, "\" ");
    return 3;
  }
  default:
    break;
  }
  if (t) {
    if (*t) {
      out(vm, t);
      out(vm, " ");
    }
    if (op != OP_LIT_ADD && n == 1 && (op == OP_BRANCH || op == OP_QBRANCH || op == OP_ZEQ_QBRANCH ||
        op == OP_LT_QBRANCH || op == OP_EQ_QBRANCH || op == OP_GT_QBRANCH ||
        op == OP_DUP_QBRANCH || op == OP_I_CFETCH_QBRANCH ||
        op == OP_QDO || op == OP_LOOP || op == OP_PLOOP || op == OP_LEAVE ||
        op == OP_DUP_PLOOP ||
        op == OP_OF)) {
      const fcode *to = (const fcode *)c[1];
      out(vm, "(");
      out_num(vm, to - start);
      out(vm, ") ");
    }
  } else if ((w = prim_word(vm, op))) {
    out_name(vm, w);
  }
  return 1 + n;
}

/* Decompiles threaded code from c to its last EXIT. */
static void see_code(forth_vm *vm, const fcode *c)
{
  const fcode *start = c, *far = c;
  out(vm, "\n  ");
  for (int k = 0; k < 4096; k++) {
    int op = vm_op_of((const void *)c[0]);
    if (op == OP_BRANCH && (const fcode *)c[1] > c + 2 &&
        ((const fcode *)c[1] < start || (const fcode *)c[1] > c + 64)) {
      c = (const fcode *)c[1]; /* chunk continuation */
      continue;
    }
    int len = see_one(vm, c, start);
    int nops = vm_operands(op);
    if (nops == 1 && op != OP_CALL && op != OP_CALL_EXIT && op != OP_LIT &&
        (const fcode *)c[1] > far && (const fcode *)c[1] < c + 100000 &&
        (const fcode *)c[1] > start)
      far = (const fcode *)c[1];
    if ((op == OP_EXIT || op == OP_CALL_EXIT || op == OP_DOES) && c >= far)
      break;
    c += len;
    if ((k & 7) == 7)
      out(vm, "\n  ");
  }
  out(vm, "\n;");
}

static void see_xt(forth_vm *vm, cell xt)
{
  if (vm_valid_xt(vm, xt)) {
    out(vm, "' ");
    out_name(vm, (uint32_t)xt);
  } else {
    out(vm, "0 ");
  }
}

/* SEE ( "name" -- ): source that would make the word again. */
static int w_see(forth_vm *vm, void *ctx)
{
  cell a, n;
  vm_parse_name(vm, &a, &n);
  vm->last_name = a;
  vm->last_name_len = n;
  uint32_t w = vm_find(vm, (const char *)vm_rptr(vm, a, n), (size_t)n);
  if (!w)
    return -13;
  struct fword *p = WORD(vm, w);
  cell b = p->body;
  switch (p->kind) {
  case WK_PRIM:
    out(vm, "CODE ");
    out_name(vm, w);
    out(vm, "( primitive of the inner interpreter ) END-CODE");
    break;
  case WK_HOST:
    out(vm, "CODE ");
    out_name(vm, w);
    out(vm, "( written in C ) END-CODE");
    break;
  case WK_COLON:
    out(vm, ": ");
    out_name(vm, w);
    see_code(vm, p->code);
    break;
  case WK_CREATE: case WK_DOES:
    out(vm, "CREATE ");
    out_name(vm, w);
    out(vm, "( body at ");
    out_num(vm, b);
    out(vm, ")");
    if (p->kind == WK_DOES) {
      out(vm, "\n  DOES>");
      see_code(vm, (const fcode *)p->code[3]);
    }
    break;
  case WK_VARIABLE:
    out(vm, "VARIABLE ");
    out_name(vm, w);
    out(vm, " ( holds ");
    out_num(vm, vm_get(vm, b));
    out(vm, ")");
    break;
  case WK_CONSTANT:
    out_num(vm, b);
    out(vm, "CONSTANT ");
    out_name(vm, w);
    break;
  case WK_2CONSTANT:
    out_num(vm, b);
    out_num(vm, p->body2);
    out(vm, "2CONSTANT ");
    out_name(vm, w);
    break;
  case WK_VALUE:
    out_num(vm, vm_get(vm, b));
    out(vm, "VALUE ");
    out_name(vm, w);
    break;
  case WK_2VALUE:
    out_num(vm, vm_get(vm, b + CELL));
    out_num(vm, vm_get(vm, b));
    out(vm, "2VALUE ");
    out_name(vm, w);
    break;
  case WK_DEFER:
    out(vm, "DEFER ");
    out_name(vm, w);
    out(vm, " ");
    see_xt(vm, vm_get(vm, b));
    out(vm, "IS ");
    out_name(vm, w);
    break;
  case WK_MARKER:
    out(vm, "MARKER ");
    out_name(vm, w);
    break;
  case WK_FCONSTANT: {
    double x;
    memcpy(&x, p->code + 1, sizeof x);
    vm_see_float(vm, x);
    out(vm, "FCONSTANT ");
    out_name(vm, w);
    break;
  }
  case WK_FVALUE: {
    double x;
    memcpy(&x, vm_rptr(vm, b, sizeof x), sizeof x);
    vm_see_float(vm, x);
    out(vm, "FVALUE ");
    out_name(vm, w);
    break;
  }
  default:
    out(vm, "( unknown kind ) ");
    out_name(vm, w);
    break;
  }
  if (p->flags & WF_IMMEDIATE)
    out(vm, " IMMEDIATE");
  out(vm, "\n");
  return 0;
}

/* ---- name tokens ----------------------------------------------------- */

static int nt_arg(forth_vm *vm, cell *nt)
{
  POP(*nt);
  return vm_valid_xt(vm, *nt) ? 0 : -32;
}

/* NAME>STRING ( nt -- c-addr u ): a copy of the name in one of two
 * transient buffers (names live outside data space). */
static int w_name_to_string(forth_vm *vm, void *ctx)
{
  cell nt;
  int r = nt_arg(vm, &nt);
  if (r)
    return r;
  struct fword *w = WORD(vm, nt);
  cell *b = &vm->nbuf[vm->nbuf_next];
  vm->nbuf_next ^= 1;
  if (!*b && !(*b = fheap_alloc(vm, 4096)))
    return -59;
  uint8_t *d = vm_ptr(vm, *b, w->len);
  if (!d)
    return -59;
  memcpy(d, w->name, w->len);
  PUSH(*b);
  PUSH(w->len);
  return 0;
}

static int w_name_to_interpret(forth_vm *vm, void *ctx)
{
  cell nt;
  int r = nt_arg(vm, &nt);
  if (r)
    return r;
  PUSH(nt);
  return 0;
}

/* NAME>COMPILE ( nt -- x xt ): x EXECUTE or x COMPILE, */
static int w_name_to_compile(forth_vm *vm, void *ctx)
{
  cell nt;
  int r = nt_arg(vm, &nt);
  if (r)
    return r;
  int imm = WORD(vm, nt)->flags & WF_IMMEDIATE;
  uint32_t x = imm ? vm_find_wl(vm, "EXECUTE", 7, FORTH_WID)
                   : vm_find_wl(vm, "COMPILE,", 8, FORTH_WID);
  PUSH(nt);
  PUSH(x);
  return 0;
}

/* SYNONYM ( "newname" "oldname" -- ) */
static int w_synonym(forth_vm *vm, void *ctx)
{
  cell a, n, b, m;
  uint32_t w, old;
  vm_parse_name(vm, &a, &n);
  vm_parse_name(vm, &b, &m);
  if (!n || !m)
    return -16;
  vm->last_name = b;
  vm->last_name_len = m;
  old = vm_find(vm, (const char *)vm_rptr(vm, b, m), (size_t)m);
  if (!old)
    return -13;
  int r = vm_word_new(vm, (const char *)vm_rptr(vm, a, n),
                      (size_t)n, WK_COLON, &w);
  if (r)
    return r;
  struct fword *p = WORD(vm, w), *o = WORD(vm, old);
  const char *name = p->name;
  uint16_t wl = p->wl;
  *p = *o;
  p->name = name;
  p->len = (uint16_t)n;
  p->wl = wl;
  vm->latest = w;
  return 0;
}

/* FORGET ( "name" -- ) */
static int w_forget(forth_vm *vm, void *ctx)
{
  cell a, n;
  vm_parse_name(vm, &a, &n);
  if (!n)
    return -16;
  uint32_t w = vm_find_wl(vm, (const char *)vm_rptr(vm, a, n),
                          (size_t)n, vm->current);
  if (!w)
    return -13;
  if (w < vm->fence || w < vm->frozen_words || vm->def_start)
    return -15;
  cell here = vm->here;
  for (uint32_t i = w; i < vm->nwords; i++) {
    if (WORD(vm, i)->kind != WK_HOST) {
      here = WORD(vm, i)->dp;
      break;
    }
  }
  vm->here = here;
  vm->nwords = w;
  vm->latest = w - 1;
  return 0;
}

/* CS-PICK ( u -- ) and CS-ROLL ( u -- ) on the control-flow stack;
 * the colon-sys at its bottom cannot be reached. */
static int cs_index(forth_vm *vm, cell *u)
{
  POP(*u);
  int bottom = vm->ncf && vm->cf[0].kind == CF_COLON ? 1 : 0;
  if (*u < 0 || *u >= vm->ncf - bottom)
    return -22;
  return 0;
}

static int w_cs_pick(forth_vm *vm, void *ctx)
{
  cell u;
  int r = cs_index(vm, &u);
  if (r)
    return r;
  if (vm->ncf >= MAX_CF)
    return -52;
  vm->cf[vm->ncf] = vm->cf[vm->ncf - 1 - u];
  vm->ncf++;
  return 0;
}

static int w_cs_roll(forth_vm *vm, void *ctx)
{
  cell u;
  int r = cs_index(vm, &u);
  if (r)
    return r;
  struct cfent e = vm->cf[vm->ncf - 1 - u];
  memmove(&vm->cf[vm->ncf - 1 - u], &vm->cf[vm->ncf - u],
          (size_t)u * sizeof e);
  vm->cf[vm->ncf - 1] = e;
  return 0;
}

/* There is no assembler: CODE and ;CODE say so (THROW -21). */
static int w_code(forth_vm *vm, void *ctx)
{
  cell a, n;
  vm_parse_name(vm, &a, &n);
  vm->last_name = a;
  vm->last_name_len = n;
  return -21;
}

static int w_semicode(forth_vm *vm, void *ctx)
{
  return -21;
}

static const struct prim_def tool_words[] = {
  {"WORDS", w_words, 0}, {"SEE", w_see, 0},
  {"NAME>STRING", w_name_to_string, 0},
  {"NAME>INTERPRET", w_name_to_interpret, 0},
  {"NAME>COMPILE", w_name_to_compile, 0},
  {"SYNONYM", w_synonym, 0}, {"FORGET", w_forget, 0},
  {"CS-PICK", w_cs_pick, 0}, {"CS-ROLL", w_cs_roll, 0},
  {"CODE", w_code, 0}, {";CODE", w_semicode, WF_IMMEDIATE | WF_COMPILE_ONLY},
};

int vm_install_tools_words(forth_vm *vm)
{
  return vm_install_table(vm, tool_words, sizeof tool_words / sizeof tool_words[0]);
}
