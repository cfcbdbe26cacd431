/*
 * search.c: the Search-Order word set. Word lists are small integers
 * (1 is FORTH-WORDLIST) kept in each header (fword.wl); the search order
 * is up to MAX_ORDER ids in the VM, first searched first. vm_find (core.c)
 * searches the order in one pass over the headers. Also VOCABULARY
 * (gforth's), the EDITOR and ASSEMBLER vocabularies of the tools set,
 * and the helpers of TRAVERSE-WORDLIST and MARKER.
 *
 * Interface:
 *   vm_install_search, vm_marker_save, vm_marker_restore
 */
#include "forth_int.h"

static int valid_wid(forth_vm *vm, cell wid)
{
  return wid >= 1 && wid <= vm->nwl;
}

static int w_forth_wordlist(forth_vm *vm, void *ctx)
{
  PUSH(FORTH_WID);
  return 0;
}

static int w_wordlist(forth_vm *vm, void *ctx)
{
  if (vm->nwl >= 0xffff)
    return -8;
  PUSH(++vm->nwl);
  return 0;
}

/* SEARCH-WORDLIST ( c-addr u wid -- 0 | xt 1 | xt -1 ) */
static int w_search_wordlist(forth_vm *vm, void *ctx)
{
  cell wid, a, n;
  POP(wid);
  POP(n);
  POP(a);
  const char *p = vm_rptr(vm, a, n);
  if (!p)
    return -9;
  if (!valid_wid(vm, wid))
    return -12;
  uint32_t w = vm_find_wl(vm, p, (size_t)n, (unsigned)wid);
  if (!w) {
    PUSH(0);
    return 0;
  }
  PUSH(w);
  PUSH(WORD(vm, w)->flags & WF_IMMEDIATE ? 1 : -1);
  return 0;
}

static int w_get_order(forth_vm *vm, void *ctx)
{
  for (int i = vm->norder - 1; i >= 0; i--)
    PUSH(vm->order[i]);
  PUSH(vm->norder);
  return 0;
}

static void only(forth_vm *vm)
{
  vm->order[0] = FORTH_WID;
  vm->norder = 1;
}

static int w_set_order(forth_vm *vm, void *ctx)
{
  cell n, wid;
  uint16_t o[MAX_ORDER];
  POP(n);
  if (n == -1) {
    only(vm);
    return 0;
  }
  if (n < 0 || n > MAX_ORDER)
    return n < 0 ? -12 : -49;
  if (n > vm->sp - vm->ds0)
    return -4;
  for (cell i = 0; i < n; i++) {
    POP(wid);
    if (!valid_wid(vm, wid))
      return -12;
    o[i] = (uint16_t)wid;
  }
  memcpy(vm->order, o, sizeof o);
  vm->norder = (int)n;
  return 0;
}

static int w_also(forth_vm *vm, void *ctx)
{
  if (vm->norder >= MAX_ORDER)
    return -49;
  if (!vm->norder)
    return -50;
  memmove(vm->order + 1, vm->order, (size_t)vm->norder * sizeof vm->order[0]);
  vm->norder++;
  return 0;
}

static int w_only(forth_vm *vm, void *ctx)
{
  only(vm);
  return 0;
}

static int w_previous(forth_vm *vm, void *ctx)
{
  if (!vm->norder)
    return -50;
  vm->norder--;
  memmove(vm->order, vm->order + 1, (size_t)vm->norder * sizeof vm->order[0]);
  return 0;
}

/* A vocabulary replaces the first word list of the order with its own. */
static int w_vocab_run(forth_vm *vm, void *ctx)
{
  if (!vm->norder)
    vm->norder = 1;
  vm->order[0] = (uint16_t)(uintptr_t)ctx;
  return 0;
}

static int w_definitions(forth_vm *vm, void *ctx)
{
  if (!vm->norder)
    return -50;
  vm->current = vm->order[0];
  return 0;
}

static int w_get_current(forth_vm *vm, void *ctx)
{
  PUSH(vm->current);
  return 0;
}

static int w_set_current(forth_vm *vm, void *ctx)
{
  cell wid;
  POP(wid);
  if (!valid_wid(vm, wid))
    return -12;
  vm->current = (uint16_t)wid;
  return 0;
}

static int w_vocabulary(forth_vm *vm, void *ctx)
{
  cell a, n;
  vm_parse_name(vm, &a, &n);
  if (!n)
    return -16;
  if (vm->nwl >= 0xffff)
    return -8;
  const char *name = vm_rptr(vm, a, n);
  vm->last_name = a;
  vm->last_name_len = n;
  int r = vm_define_host_n(vm, name, (size_t)n, w_vocab_run,
                           (void *)(uintptr_t)(vm->nwl + 1), 0);
  if (!r)
    vm->nwl++;
  return r;
}

static void out(forth_vm *vm, const char *s) { vm_type(vm, s, strlen(s)); }

/* Prints a word list's vocabulary name, or its number. */
static void wl_name(forth_vm *vm, unsigned wid)
{
  for (uint32_t i = vm->nwords - 1; i > 0; i--) {
    struct fword *w = WORD(vm, i);
    if (w->kind == WK_HOST && w->fn == w_vocab_run &&
        (uintptr_t)w->ctx == wid && !(w->flags & WF_HIDDEN)) {
      vm_type(vm, w->name, w->len);
      out(vm, " ");
      return;
    }
  }
  char b[8];
  int k = (int)sizeof b;
  b[--k] = ' ';
  do b[--k] = (char)('0' + wid % 10); while ((wid /= 10) && k > 0);
  vm_type(vm, b + k, sizeof b - (size_t)k);
}

static int w_order(forth_vm *vm, void *ctx)
{
  for (int i = 0; i < vm->norder; i++)
    wl_name(vm, vm->order[i]);
  out(vm, "  ");
  wl_name(vm, vm->current);
  out(vm, "\n");
  return 0;
}

/* (wl-next) ( nt wid -- nt' ): the next older visible word of wid after
 * nt (0: the newest), 0 at the end. For TRAVERSE-WORDLIST. */
static int w_wl_next(forth_vm *vm, void *ctx)
{
  cell nt, wid;
  POP(wid);
  POP(nt);
  if (!valid_wid(vm, wid))
    return -12;
  uint32_t i = nt > 0 && (ucell)nt < vm->nwords ? (uint32_t)nt : vm->nwords;
  while (--i > 0) {
    struct fword *w = WORD(vm, i);
    if (w->wl == wid && !(w->flags & WF_HIDDEN) && w->len)
      break;
  }
  PUSH(i);
  return 0;
}

/* MARKER keeps the search order and word list count in data space. */
int vm_marker_save(forth_vm *vm, cell *rec)
{
  int err;
  cell a = vm_allot(vm, (cell)(3 + MAX_ORDER) * CELL, &err);
  if (err)
    return err;
  vm_set(vm, a, vm->norder);
  vm_set(vm, a + CELL, vm->current);
  vm_set(vm, a + 2 * CELL, vm->nwl);
  for (int i = 0; i < MAX_ORDER; i++)
    vm_set(vm, a + (3 + i) * CELL, vm->order[i]);
  *rec = a;
  return 0;
}

void vm_marker_restore(forth_vm *vm, cell a)
{
  vm->norder = (int)vm_get(vm, a);
  vm->current = (uint16_t)vm_get(vm, a + CELL);
  vm->nwl = (uint16_t)vm_get(vm, a + 2 * CELL);
  for (int i = 0; i < MAX_ORDER; i++)
    vm->order[i] = (uint16_t)vm_get(vm, a + (3 + i) * CELL);
}

static const struct prim_def search_words[] = {
  {"FORTH-WORDLIST", w_forth_wordlist, 0}, {"WORDLIST", w_wordlist, 0},
  {"SEARCH-WORDLIST", w_search_wordlist, 0}, {"GET-ORDER", w_get_order, 0},
  {"SET-ORDER", w_set_order, 0}, {"ALSO", w_also, 0}, {"ONLY", w_only, 0},
  {"PREVIOUS", w_previous, 0}, {"DEFINITIONS", w_definitions, 0},
  {"GET-CURRENT", w_get_current, 0}, {"SET-CURRENT", w_set_current, 0},
  {"ORDER", w_order, 0}, {"VOCABULARY", w_vocabulary, 0},
  {"(wl-next)", w_wl_next, 0},
};

/* ROOT (as in gforth) holds just enough to get back to FORTH. */
static const struct prim_def root_words[] = {
  {"FORTH-WORDLIST", w_forth_wordlist, 0}, {"SET-ORDER", w_set_order, 0},
  {"ORDER", w_order, 0}, {"ONLY", w_only, 0},
};

int vm_install_search(forth_vm *vm)
{
  static const char *const vocabs[] = {"FORTH", "EDITOR", "ASSEMBLER", "ROOT"};
  int r = vm_install_table(vm, search_words,
                           sizeof search_words / sizeof search_words[0]);
  for (size_t i = 0; !r && i < sizeof vocabs / sizeof vocabs[0]; i++) {
    unsigned wid = i ? ++vm->nwl : FORTH_WID;
    r = vm_define_host(vm, vocabs[i], w_vocab_run, (void *)(uintptr_t)wid, 0);
  }
  if (r)
    return r;
  vm->current = vm->nwl; /* ROOT */
  r = vm_install_table(vm, root_words, sizeof root_words / sizeof root_words[0]);
  if (!r)
    r = vm_define_host(vm, "FORTH", w_vocab_run, (void *)(uintptr_t)FORTH_WID, 0);
  vm->current = FORTH_WID;
  return r;
}
