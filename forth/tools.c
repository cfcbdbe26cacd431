/*
 * tools.c: programming tools that look at the dictionary: WORDS and SEE
 * (a decompiler for threaded code). .S ? DUMP are in the prelude.
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
  default: return NULL;
  }
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
  case OP_LIT: case OP_LIT_ADD: case OP_LIT_SUB: case OP_LIT_EQ:
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
  case OP_CCALL:
    w = host_word(vm, c[1]);
    if (w)
      out_name(vm, w);
    else
      out(vm, "<host> ");
    return 3;
  case OP_ABORTQ: {
    const char *s = vm_ptr(vm, (cell)c[1], (cell)c[2]);
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

static int w_see(forth_vm *vm, void *ctx)
{
  cell a, n;
  vm_parse_name(vm, &a, &n);
  uint32_t w = vm_find(vm, (const char *)vm->mem + (a - (cell)vm->base), (size_t)n);
  if (!w)
    return -13;
  struct fword *p = WORD(vm, w);
  if (p->kind != WK_COLON && p->kind != WK_DOES) {
    static const char *const kinds[] = {
      "primitive", "host word", "colon", "create", "does", "variable",
      "constant", "2constant", "value", "2value", "defer", "marker"};
    out_name(vm, w);
    out(vm, "is a ");
    out(vm, kinds[p->kind]);
    out(vm, "\n");
    return 0;
  }
  const fcode *c = p->kind == WK_DOES ? (const fcode *)p->code[3] : p->code;
  const fcode *start = c, *far = c;
  out(vm, p->kind == WK_DOES ? "DOES> " : ": ");
  if (p->kind != WK_DOES)
    out_name(vm, w);
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
  out(vm, "\n;\n");
  return 0;
}

static const struct prim_def tool_words[] = {
  {"WORDS", w_words, 0}, {"SEE", w_see, 0},
};

int vm_install_tools_words(forth_vm *vm)
{
  return vm_install_table(vm, tool_words, sizeof tool_words / sizeof tool_words[0]);
}
