/*
 * substitute.c: the String extension's text substitution: REPLACES
 * SUBSTITUTE UNESCAPE. Substitutions are kept in the VM's ALLOCATE heap
 * as a list of blocks [next][name length][text length][name][text], so a
 * SPAWNed child gets its own copy with the data space. Names compare
 * without regard to case, as word names do.
 *
 * Interface:
 *   vm_install_substitute
 */
#include "forth_int.h"

#define SUBST_OVERFLOW (-17) /* SUBSTITUTE's result does not fit */

static int name_eq(const uint8_t *a, const uint8_t *b, cell n)
{
  for (cell i = 0; i < n; i++) {
    int x = a[i], y = b[i];
    if ((x >= 'a' && x <= 'z' ? x - 32 : x) != (y >= 'a' && y <= 'z' ? y - 32 : y))
      return 0;
  }
  return 1;
}

/* The block of substitution name, or 0; *prev the link that points to it. */
static cell find(forth_vm *vm, const uint8_t *name, cell n, cell *prev)
{
  cell link = 0;
  for (cell b = vm->subst; b; link = b, b = vm_get(vm, b)) {
    if (vm_get(vm, b + CELL) == n && name_eq(vm_rptr(vm, b + 3 * CELL, n), name, n)) {
      if (prev)
        *prev = link;
      return b;
    }
  }
  return 0;
}

/* REPLACES ( c-addr1 u1 c-addr2 u2 -- ) */
static int w_replaces(forth_vm *vm, void *ctx)
{
  const uint8_t *name, *text;
  cell n, u;
  int r = vm_string(vm, &name, &n);
  if (r || (r = vm_string(vm, &text, &u)))
    return r;
  if (!n)
    return -16;
  cell nb = fheap_alloc(vm, (ucell)(3 * CELL + n + u));
  if (!nb)
    return -59;
  uint8_t *d = vm_ptr(vm, nb, 3 * CELL + n + u);
  if (!d)
    return -59;
  memmove(d + 3 * CELL, name, (size_t)n);
  memmove(d + 3 * CELL + n, text, (size_t)u);
  vm_set(vm, nb + CELL, n);
  vm_set(vm, nb + 2 * CELL, u);
  cell prev = 0, old = find(vm, vm_rptr(vm, nb + 3 * CELL, n), n, &prev);
  if (old) {
    cell next = vm_get(vm, old);
    if (prev)
      vm_set(vm, prev, next);
    else
      vm->subst = next;
    fheap_free(vm, old);
  }
  vm_set(vm, nb, vm->subst);
  vm->subst = nb;
  return 0;
}

/* SUBSTITUTE ( c-addr1 u1 c-addr2 u2 -- c-addr2 u3 n ) */
static int w_substitute(forth_vm *vm, void *ctx)
{
  cell a2, u2, a1, u1;
  POP(u2);
  POP(a2);
  POP(u1);
  POP(a1);
  if (u1 < 0 || u2 < 0)
    return -24;
  uint8_t *srcw, *dst;
  vm_ptr2(vm, a1, u1, 0, a2, u2, 1, &srcw, &dst);
  const uint8_t *src = srcw;
  if ((!src && u1) || (!dst && u2))
    return -9;
  cell o = 0, count = 0;
  int overflow = 0;
#define PUT(p, k) do { \
    if (o + (k) > u2) overflow = 1; \
    else { memmove(dst + o, (p), (size_t)(k)); o += (k); } } while (0)
  for (cell i = 0; i < u1;) {
    if (src[i] != '%') {
      PUT(src + i, 1);
      i++;
      continue;
    }
    cell j = i + 1;
    while (j < u1 && src[j] != '%')
      j++;
    if (j >= u1) { /* a lone % at the end stays */
      PUT(src + i, u1 - i);
      break;
    }
    if (j == i + 1) { /* %% is % */
      PUT(src + i, 1);
      i += 2;
      continue;
    }
    cell b = find(vm, src + i + 1, j - i - 1, NULL);
    if (b) {
      cell tl = vm_get(vm, b + 2 * CELL);
      const uint8_t *t = vm_rptr(vm, b + 3 * CELL + vm_get(vm, b + CELL), tl);
      if (t)
        PUT(t, tl);
      count++;
      i = j + 1;
    } else { /* not a substitution: %name% stays as it is */
      PUT(src + i, j - i + 1);
      i = j + 1;
    }
  }
#undef PUT
  PUSH(a2);
  PUSH(o);
  PUSH(overflow ? SUBST_OVERFLOW : count);
  return 0;
}

/* UNESCAPE ( c-addr1 u1 c-addr2 -- c-addr2 u2 ): doubles each %. */
static int w_unescape(forth_vm *vm, void *ctx)
{
  cell a2, u1, a1;
  POP(a2);
  POP(u1);
  POP(a1);
  const uint8_t *src = vm_rptr(vm, a1, u1);
  if (u1 < 0)
    return -24;
  if (!src && u1)
    return -9;
  cell n = u1;
  for (cell i = 0; i < u1; i++)
    n += src[i] == '%';
  uint8_t *dst, *srcw;
  vm_ptr2(vm, a1, u1, 0, a2, n, 1, &srcw, &dst);
  src = srcw;
  if (!dst && n)
    return -9;
  /* from the end, so dst may overlap src at the same start */
  for (cell i = u1 - 1, o = n - 1; i >= 0; i--) {
    uint8_t c = src[i];
    dst[o--] = c;
    if (c == '%')
      dst[o--] = '%';
  }
  PUSH(a2);
  PUSH(n);
  return 0;
}

static const struct prim_def subst_words[] = {
  {"REPLACES", w_replaces, 0}, {"SUBSTITUTE", w_substitute, 0},
  {"UNESCAPE", w_unescape, 0},
};

int vm_install_substitute(forth_vm *vm)
{
  return vm_install_table(vm, subst_words, sizeof subst_words / sizeof subst_words[0]);
}
