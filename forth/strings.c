/*
 * strings.c: Forth words on memory and strings: MOVE CMOVE CMOVE> FILL
 * COMPARE SEARCH -TRAILING, the parsing words S" S\" C" ." ABORT" ( \
 * CHAR [CHAR], and SLITERAL. Every address is checked with vm_ptr or vm_rptr
 * (THROW -9); SEARCH works in bounded slices (FORTH_AGAIN).
 *
 * Interface:
 *   vm_install_strings, vm_need, vm_string
 */
#include "forth_int.h"

#define need vm_need
#define string vm_string

/* 0, or -4 if fewer than n items are on the data stack. */
int vm_need(forth_vm *vm, int n)
{
  return vm->sp - vm->ds0 < n ? -4 : 0;
}


static int two_areas(forth_vm *vm, uint8_t **s, uint8_t **d, cell *n)
{
  cell a1, a2;
  POP(*n);
  POP(a2);
  POP(a1);
  if (*n <= 0)
    return 1;
  vm_ptr2(vm, a1, *n, 0, a2, *n, 1, s, d);
  return *s && *d ? 0 : -9;
}

static int w_move(forth_vm *vm, void *ctx)
{
  uint8_t *s, *d;
  cell n;
  int r = two_areas(vm, &s, &d, &n);
  if (r == 0)
    memmove(d, s, (size_t)n);
  return r > 0 ? 0 : r;
}

static int w_cmove(forth_vm *vm, void *ctx)
{
  uint8_t *s, *d;
  cell n;
  int r = two_areas(vm, &s, &d, &n);
  if (r == 0)
    for (cell i = 0; i < n; i++)
      d[i] = s[i];
  return r > 0 ? 0 : r;
}

static int w_cmove_up(forth_vm *vm, void *ctx)
{
  uint8_t *s, *d;
  cell n;
  int r = two_areas(vm, &s, &d, &n);
  if (r == 0)
    for (cell i = n - 1; i >= 0; i--)
      d[i] = s[i];
  return r > 0 ? 0 : r;
}

static int w_fill(forth_vm *vm, void *ctx)
{
  cell a, n, c;
  POP(c);
  POP(n);
  POP(a);
  if (n <= 0)
    return 0;
  uint8_t *p = vm_ptr(vm, a, n);
  if (!p)
    return -9;
  memset(p, (int)(c & 0xff), (size_t)n);
  return 0;
}

/* Pops a string (c-addr u); 0, -24 (negative length) or -9. */
int vm_string(forth_vm *vm, const uint8_t **p, cell *n)
{
  cell a;
  POP(*n);
  POP(a);
  if (*n < 0)
    return -24;
  *p = vm_rptr(vm, a, *n);
  return *p || !*n ? 0 : -9;
}

static int w_compare(forth_vm *vm, void *ctx)
{
  const uint8_t *a, *b;
  cell n1, n2;
  int r = string(vm, &b, &n2);
  if (r || (r = string(vm, &a, &n1)))
    return r;
  cell m = n1 < n2 ? n1 : n2;
  int c = m ? memcmp(a, b, (size_t)m) : 0;
  if (!c)
    c = n1 < n2 ? -1 : n1 > n2;
  PUSH(c < 0 ? -1 : c > 0);
  return 0;
}

/* SEARCH compares at most this many bytes per step, then yields and
 * resumes (vm->search_i), so a hostile search cannot freeze the VM. */
#define SEARCH_BUDGET (1L << 22)

static int w_search(forth_vm *vm, void *ctx)
{
  int r;
  if ((r = need(vm, 4)))
    return r;
  cell n2 = vm->sp[0], b2 = vm->sp[-1], n1 = vm->sp[-2], a1 = vm->sp[-3];
  if (n1 < 0 || n2 < 0)
    return -24;
  uint8_t *pa, *pb;
  vm_ptr2(vm, a1, n1, 0, b2, n2, 0, &pa, &pb);
  const uint8_t *a = pa, *b = pb;
  if ((!a && n1) || (!b && n2))
    return -9;
  cell i = vm->search_active ? vm->search_i : 0, found = 0;
  long work = 0;
  for (; n2 <= n1 && i <= n1 - n2; i++) {
    if (!n2 || !memcmp(a + i, b, (size_t)n2)) {
      found = -1;
      break;
    }
    work += (long)n2 + 1;
    if (work > SEARCH_BUDGET) {
      vm->search_active = 1;
      vm->search_i = i + 1;
      return FORTH_AGAIN;
    }
  }
  vm->search_active = 0;
  vm->sp -= 2;
  if (found) {
    vm->sp[-1] = a1 + i;
    vm->sp[0] = n1 - i;
  }
  PUSH(found);
  return 0;
}

static int w_trailing(forth_vm *vm, void *ctx)
{
  const uint8_t *p;
  cell n, a;
  a = vm->sp - vm->ds0 >= 2 ? vm->sp[-1] : 0;
  int r = string(vm, &p, &n);
  if (r)
    return r;
  while (n > 0 && p[n - 1] == ' ')
    n--;
  PUSH(a);
  PUSH(n);
  return 0;
}

/* Copies a string into data space (compiling) or a transient buffer. */
static int stash(forth_vm *vm, const uint8_t *s, cell n, cell *out, int counted)
{
  int err;
  cell a;
  uint8_t *tmp = NULL;
  if (vm_get(vm, vm->a_state) || counted) {
    a = vm_allot(vm, n + counted, &err);
    if (err)
      return err;
    vm_allot(vm, (cell)((0 - (ucell)vm->here) & (sizeof(cell) - 1)), &err);
  } else {
    if (n > LINE_MAX_BYTES)
      return -18;
    /* one after another in the transient area, so recent strings stay */
    if (vm->sbuf_next + n > 2 * LINE_MAX_BYTES)
      vm->sbuf_next = 0;
    a = vm->a_sbuf + vm->sbuf_next;
    vm->sbuf_next += (int)n;
  }
  tmp = vm_ptr(vm, a, n + counted);
  if (!tmp)
    return -9;
  if (counted)
    *tmp++ = (uint8_t)n;
  memmove(tmp, s, (size_t)n);
  *out = a;
  return 0;
}

static int compile_string(forth_vm *vm, cell a, cell n)
{
  int r = vm_code_reserve(vm, 6);
  if (r)
    return r;
  r = vm_compile_op1(vm, OP_LIT, (fcode)a);
  return r ? r : vm_compile_op1(vm, OP_LIT, (fcode)n);
}

static int esc_hex(int c)
{
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Parses a "-delimited string; with esc, S\" escapes into buf. */
static int quoted(forth_vm *vm, int esc, uint8_t *buf, cell *n)
{
  cell a, len;
  cell in = vm_get(vm, vm->a_in);
  struct fsource *s = &vm->src[vm->nsrc - 1];
  const uint8_t *p = vm_rptr(vm, s->buf, s->len);
  len = p ? s->len : 0;
  if (in < 0) in = 0;
  if (in > len) in = len;
  *n = 0;
  while (in < len && p[in] != '"') {
    int c = p[in++];
    if (esc && c == '\\' && in < len) {
      c = p[in++];
      switch (c) {
      case 'a': c = 7; break; case 'b': c = 8; break; case 'e': c = 27; break;
      case 'f': c = 12; break; case 'l': c = 10; break; case 'n': c = 10; break;
      case 'q': c = '"'; break; case 'r': c = 13; break; case 't': c = 9; break;
      case 'v': c = 11; break; case 'z': c = 0; break;
      case 'm':
        if (*n < 1024) buf[(*n)++] = 13;
        c = 10;
        break;
      case 'x':
        if (in + 1 < len && esc_hex(p[in]) >= 0 && esc_hex(p[in + 1]) >= 0) {
          c = esc_hex(p[in]) * 16 + esc_hex(p[in + 1]);
          in += 2;
        }
        break;
      default: break;
      }
    }
    if (*n >= 1024)
      return -18;
    buf[(*n)++] = (uint8_t)c;
  }
  a = in < len ? in + 1 : in;
  vm_set(vm, vm->a_in, a);
  return 0;
}

static int squote(forth_vm *vm, int esc, int mode)
{
  uint8_t buf[1024 + 2];
  cell n, a;
  int r = quoted(vm, esc, buf, &n);
  if (r)
    return r;
  int compiling = vm_get(vm, vm->a_state) != 0;
  if ((r = stash(vm, buf, n, &a, mode == 1)))
    return r;
  if (mode == 1) /* C" */
    return compiling ? vm_compile_op1(vm, OP_LIT, (fcode)a) : vm_push(vm, a);
  if (mode == 2) { /* ." */
    if (!compiling) {
      vm_type(vm, (const char *)buf, (size_t)n);
      return 0;
    }
    if ((r = compile_string(vm, a, n)))
      return r;
    uint32_t t = vm_find_wl(vm, "TYPE", 4, FORTH_WID);
    return vm_compile_xt(vm, t);
  }
  if (mode == 3) { /* ABORT" */
    int rr = vm_compile_op1(vm, OP_ABORTQ, (fcode)a);
    if (!rr)
      vm->cp[-1] = (fcode)n;
    return rr;
  }
  if (compiling)
    return compile_string(vm, a, n);
  PUSH(a);
  PUSH(n);
  return 0;
}

static int w_squote(forth_vm *vm, void *ctx) { return squote(vm, 0, 0); }
static int w_sbquote(forth_vm *vm, void *ctx) { return squote(vm, 1, 0); }
static int w_cquote(forth_vm *vm, void *ctx) { return squote(vm, 0, 1); }
static int w_dotquote(forth_vm *vm, void *ctx) { return squote(vm, 0, 2); }
static int w_abortq(forth_vm *vm, void *ctx) { return squote(vm, 0, 3); }

static int w_sliteral(forth_vm *vm, void *ctx)
{
  const uint8_t *p;
  cell n, a;
  int err, r = string(vm, &p, &n);
  if (r)
    return r;
  a = vm_allot(vm, n, &err);
  if (err)
    return err;
  if (n) {
    uint8_t *d = vm_ptr(vm, a, n);
    if (!d)
      return -8;
    memmove(d, p, (size_t)n);
  }
  vm_allot(vm, (cell)((0 - (ucell)vm->here) & (sizeof(cell) - 1)), &err);
  return compile_string(vm, a, n);
}

/* ( comments end at ")"; in a file they may span lines. */
static int w_paren(forth_vm *vm, void *ctx)
{
  for (;;) {
    struct fsource *s = &vm->src[vm->nsrc - 1];
    cell in = vm_get(vm, vm->a_in);
    const uint8_t *p = vm_rptr(vm, s->buf, s->len);
    if (in < 0)
      in = 0;
    while (p && in < s->len && p[in] != ')')
      in++;
    if (p && in < s->len) {
      vm_set(vm, vm->a_in, in + 1);
      return 0;
    }
    vm_set(vm, vm->a_in, s->len);
    int flag, r;
    if (s->kind != SRC_FILE)
      return 0;
    if ((r = vm_refill(vm, &flag)) || !flag)
      return r;
  }
}

static int w_backslash(forth_vm *vm, void *ctx)
{
  struct fsource *s = &vm->src[vm->nsrc - 1];
  cell in = vm_get(vm, vm->a_in);
  const uint8_t *p = vm_rptr(vm, s->buf, s->len);
  if (!p || in < 0 || in >= s->len) {
    vm_set(vm, vm->a_in, s->len);
    return 0;
  }
  if (s->blk) /* in a block, a line is 64 characters */
    in = (in + 64) / 64 * 64 < s->len ? (in + 64) / 64 * 64 : s->len;
  while (!s->blk && in < s->len && p[in] != '\n')
    in++;
  vm_set(vm, vm->a_in, in);
  return 0;
}

static int w_char(forth_vm *vm, void *ctx)
{
  cell a, n;
  vm_parse_name(vm, &a, &n);
  if (!n)
    return -16;
  PUSH(*(const uint8_t *)vm_rptr(vm, a, 1));
  return 0;
}

static int w_bracket_char(forth_vm *vm, void *ctx)
{
  cell a, n;
  vm_parse_name(vm, &a, &n);
  if (!n)
    return -16;
  return vm_compile_op1(vm, OP_LIT, (fcode)*(const uint8_t *)vm_rptr(vm, a, 1));
}

static const struct prim_def string_words[] = {
  {"MOVE", w_move, 0}, {"CMOVE", w_cmove, 0}, {"CMOVE>", w_cmove_up, 0},
  {"FILL", w_fill, 0}, {"COMPARE", w_compare, 0}, {"SEARCH", w_search, 0},
  {"-TRAILING", w_trailing, 0},
  {"S\"", w_squote, WF_IMMEDIATE}, {"S\\\"", w_sbquote, WF_IMMEDIATE},
  {"C\"", w_cquote, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {".\"", w_dotquote, WF_IMMEDIATE},
  {"ABORT\"", w_abortq, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"SLITERAL", w_sliteral, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"\\", w_backslash, WF_IMMEDIATE}, {"(", w_paren, WF_IMMEDIATE},
  {"CHAR", w_char, 0}, {"[CHAR]", w_bracket_char, WF_IMMEDIATE | WF_COMPILE_ONLY},
};

int vm_install_strings(forth_vm *vm)
{
  return vm_install_table(vm, string_words, sizeof string_words / sizeof string_words[0]);
}
