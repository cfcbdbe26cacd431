/*
 * locals.c: the Locals word set: {: ... :} and (LOCAL). A definition's
 * locals are named at compile time in the VM (lname, nlocals) and found
 * before the dictionary while it is compiled (interp.c, TO in compile.c).
 * At run time they live on the locals stack (vm_ext.inc): OP_LOCALS n
 * takes n cells from the data stack (for {: the first declared deepest,
 * for (LOCAL) as in Forth-94 the first declared on top); EXIT,
 * ; and DOES> drop the frame with OP_UNLOCALS. A THROW restores the
 * locals stack with the CATCH frame.
 *
 *   {: a b | c d -- outputs :}   a b from the stack, c d start at 0
 *
 * Interface:
 *   vm_install_locals, vm_local_find, vm_locals_end
 */
#include "forth_int.h"

static int fold(int c)
{
  return c >= 'a' && c <= 'z' ? c - 32 : c;
}

static int eq(const char *a, const char *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
      return 0;
  return 1;
}

/* The index of local name (0 = first declared, newest wins), or -1. */
int vm_local_find(forth_vm *vm, const char *name, size_t len)
{
  for (int i = vm->nlocals - 1; i >= 0; i--)
    if (vm->llen[i] == len && eq(vm->lname[i], name, len))
      return i;
  return -1;
}

/* Compiles the code that drops the current frame (before EXIT and ;). */
int vm_locals_end(forth_vm *vm)
{
  return vm->nlocals ? vm_compile_op1(vm, OP_UNLOCALS, (fcode)(cell)vm->nlocals) : 0;
}

/* Declares one more local named name (pending until the last one). */
static int declare(forth_vm *vm, const char *name, size_t len)
{
  int i = vm->nlocals + vm->nlpending;
  if (!vm->def_start)
    return -14;
  if (i >= MAX_LOCALS)
    return -8;
  if (len >= LOCAL_NAME)
    return -19;
  if (!vm->lname &&
      !(vm->lname = vm->host.alloc(vm->host.ctx, NULL, 0, MAX_LOCALS * sizeof *vm->lname)))
    return -8;
  memcpy(vm->lname[i], name, len);
  vm->llen[i] = (uint8_t)len;
  vm->nlpending++;
  return 0;
}

/* Ends a declaration: the pending locals take their values at run time,
 * the last one in the array from the top of the stack. (LOCAL) gives the
 * first declared the top (reverse), {: the last. */
static int finish(forth_vm *vm, int reverse)
{
  int n = vm->nlpending;
  if (!n)
    return 0;
  for (int i = 0, a = vm->nlocals, b = vm->nlocals + n - 1; reverse && i < n / 2; i++, a++, b--) {
    char t[LOCAL_NAME];
    uint8_t l = vm->llen[a];
    memcpy(t, vm->lname[a], LOCAL_NAME);
    memcpy(vm->lname[a], vm->lname[b], LOCAL_NAME);
    memcpy(vm->lname[b], t, LOCAL_NAME);
    vm->llen[a] = vm->llen[b];
    vm->llen[b] = l;
  }
  int r = vm_compile_op1(vm, OP_LOCALS, (fcode)(cell)n);
  if (r)
    return r;
  vm->nlocals += n;
  vm->nlpending = 0;
  return 0;
}

/* (LOCAL) ( c-addr u -- ): u = 0 ends the declarations. */
static int w_paren_local(forth_vm *vm, void *ctx)
{
  cell a, n;
  POP(n);
  POP(a);
  if (!n)
    return finish(vm, 1);
  const char *p = vm_rptr(vm, a, n);
  if (!p)
    return -9;
  return declare(vm, p, (size_t)n);
}

static int is(const char *p, cell n, const char *s)
{
  return (size_t)n == strlen(s) && eq(p, s, (size_t)n);
}

/* {: args | vals -- outs :} */
static int w_brace_colon(forth_vm *vm, void *ctx)
{
  int mode = 0; /* 0 arguments, 1 after |, 2 after -- */
  int r;
  for (;;) {
    cell a, n;
    vm_parse_name(vm, &a, &n);
    if (!n)
      return -22; /* no :} on the line */
    const char *p = vm_rptr(vm, a, n);
    vm->last_name = a;
    vm->last_name_len = n;
    if (is(p, n, ":}"))
      break;
    if (mode < 2 && is(p, n, "|")) {
      mode = 1;
      continue;
    }
    if (is(p, n, "--")) {
      mode = 2;
      continue;
    }
    if (mode == 2)
      continue;
    if (mode == 1 && (r = vm_compile_op1(vm, OP_LIT, 0)))
      return r;
    if ((r = declare(vm, p, (size_t)n)))
      return r;
  }
  return finish(vm, 0);
}

static const struct prim_def locals_words[] = {
  {"(LOCAL)", w_paren_local, WF_COMPILE_ONLY},
  {"{:", w_brace_colon, WF_IMMEDIATE | WF_COMPILE_ONLY},
};

int vm_install_locals(forth_vm *vm)
{
  return vm_install_table(vm, locals_words, sizeof locals_words / sizeof locals_words[0]);
}
