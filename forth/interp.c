/*
 * interp.c: the text interpreter's C half: input sources (terminal,
 * EVALUATE strings, files), parsing, number conversion, one step of the
 * interpreter loop, and error reports. The loops themselves (INTERPRET,
 * QUIT, INCLUDED, EVALUATE) are threaded code, so a VM can yield anywhere.
 *
 * Every line read is checked: at most LINE_MAX_BYTES bytes (else THROW
 * FORTH_E_LINE) and valid UTF-8 (else THROW FORTH_E_UTF8).
 *
 * Interface:
 *   vm_refill, vm_parse_name, vm_reset_sources, vm_install_core, vm_type
 *   (forth_throw_text, forth_set_throw_text and vm_note_error: errors.c)
 */
#include "forth_int.h"
#include <mneme/err.h>

#define TOP(vm) (&(vm)->src[(vm)->nsrc - 1])

void vm_type(forth_vm *vm, const char *s, size_t n)
{
  if (vm->host.write && n)
    vm->host.write(vm->host.ctx, s, n);
}

static void puts_vm(forth_vm *vm, const char *s)
{
  vm_type(vm, s, strlen(s));
}

/* ---- UTF-8 -------------------------------------------------------------- */

static int utf8_ok(const uint8_t *s, size_t n)
{
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    size_t k;
    uint32_t cp;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) { k = 1; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { k = 2; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { k = 3; cp = c & 0x07; }
    else return 0;
    if (n - i <= k)
      return 0;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xc0) != 0x80)
        return 0;
      cp = cp << 6 | (s[i + j] & 0x3f);
    }
    if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return 0;
    i += k + 1;
  }
  return 1;
}

/* ---- sources ------------------------------------------------------------ */

static void set_in(forth_vm *vm, cell v) { vm_set(vm, vm->a_in, v); }
static cell get_in(forth_vm *vm) { return vm_get(vm, vm->a_in); }

static int push_source(forth_vm *vm, int kind)
{
  if (vm->nsrc >= MAX_SRC)
    return -18;
  if (vm->nsrc)
    TOP(vm)->in = get_in(vm);
  struct fsource *s = &vm->src[vm->nsrc++];
  memset(s, 0, sizeof *s);
  s->name = (char *)"";
  s->kind = kind;
  s->handle = -1;
  set_in(vm, 0);
  if (vm->a_blk)
    vm_set(vm, vm->a_blk, 0);
  return 0;
}

static void pop_source(forth_vm *vm)
{
  struct fsource *s = TOP(vm);
  if (s->kind == SRC_FILE) {
    if (vm->host.close && s->handle >= 0)
      vm->host.close(vm->host.ctx, s->handle);
    if (s->block)
      fheap_free(vm, s->block);
    if (*s->name)
      vm->host.alloc(vm->host.ctx, s->name, strlen(s->name) + 1, 0);
    s->name = (char *)"";
  }
  vm->nsrc--;
  if (vm->nsrc) {
    set_in(vm, TOP(vm)->in);
    if (vm->a_blk)
      vm_set(vm, vm->a_blk, TOP(vm)->blk);
  }
}

void vm_reset_sources(forth_vm *vm, int depth)
{
  while (vm->nsrc > depth)
    pop_source(vm);
}

/* A line read through the line editor into the TIB. */
static int refill_edit(forth_vm *vm, int *flag)
{
  uint8_t *tib = vm_ptr(vm, vm->a_tib, LINE_MAX_BYTES);
  cell n = 0;
  if (!tib)
    return -8;
  if (!vm->ledit) {
    vm->ledit = vm->host.alloc(vm->host.ctx, NULL, 0, sizeof *vm->ledit);
    if (!vm->ledit)
      return -8;
    memset(vm->ledit, 0, sizeof *vm->ledit);
  }
  for (;;) {
    int c = vm->host.key ? vm->host.key(vm->host.ctx) : FORTH_KEY_EOF;
    if (c == FORTH_KEY_WAIT)
      return FORTH_WAIT;
    int r = c == FORTH_KEY_EOF ? (vm->ledit->len ? ledit_key(vm, tib, LINE_MAX_BYTES, '\n', &n) : -1)
                               : ledit_key(vm, tib, LINE_MAX_BYTES, c, &n);
    if (r == -28) {
      vm->interrupt = 0;
      return -28;
    }
    if (r == -1) {
      *flag = 0;
      return 0;
    }
    if (r == 1)
      break;
  }
  struct fsource *s = TOP(vm);
  s->buf = vm->a_tib;
  s->len = 0;
  s->line++;
  set_in(vm, 0);
  if (!utf8_ok(tib, (size_t)n))
    return FORTH_E_UTF8;
  s->len = n;
  *flag = 1;
  return 0;
}

/* Terminal line, resumable when key says FORTH_KEY_WAIT. */
static int refill_term(forth_vm *vm, int *flag)
{
  if (vm->cfg.line_edit)
    return refill_edit(vm, flag);
  uint8_t *tib = vm_ptr(vm, vm->a_tib, LINE_MAX_BYTES);
  if (!tib)
    return -8;
  for (;;) {
    int c = vm->host.key ? vm->host.key(vm->host.ctx) : FORTH_KEY_EOF;
    if (c == FORTH_KEY_WAIT)
      return FORTH_WAIT;
    if (c == FORTH_KEY_EOF && !vm->line_pos && !vm->line_skip) {
      *flag = 0;
      return 0;
    }
    if (c == 3) {
      vm->line_pos = vm->line_skip = 0;
      vm->interrupt = 0;
      return -28;
    }
    if (c == '\n' || c == FORTH_KEY_EOF)
      break;
    if (c == '\r')
      continue;
    if (c == 8 || c == 127) {
      if (vm->line_pos)
        vm->line_pos--;
      continue;
    }
    if (vm->line_skip)
      continue;
    if (vm->line_pos >= LINE_MAX_BYTES) {
      vm->line_skip = 1;
      continue;
    }
    tib[vm->line_pos++] = (uint8_t)c;
  }
  cell n = vm->line_pos;
  vm->line_pos = 0;
  if (vm->line_skip) {
    vm->line_skip = 0;
    return FORTH_E_LINE;
  }
  struct fsource *s = TOP(vm);
  s->buf = vm->a_tib;
  s->len = 0;
  s->line++;
  set_in(vm, 0);
  if (!utf8_ok(tib, (size_t)n))
    return FORTH_E_UTF8;
  s->len = n;
  *flag = 1;
  return 0;
}

#define RBUF 4096

static int refill_file(forth_vm *vm, struct fsource *s, int *flag)
{
  uint8_t *blk = vm_ptr(vm, s->block, LINE_MAX_BYTES + RBUF);
  if (!blk)
    return -8;
  uint8_t *rb = blk + LINE_MAX_BYTES;
  for (;;) {
    uint8_t *nl = NULL;
    for (size_t i = 0; i < s->rlen && !nl; i++)
      if (rb[s->rpos + i] == '\n')
        nl = rb + s->rpos + i;
    size_t n;
    if (!nl && !s->eof && s->rlen < RBUF) {
      memmove(rb, rb + s->rpos, s->rlen);
      s->rpos = 0;
      long got = vm->host.read(vm->host.ctx, s->handle, (char *)rb + s->rlen,
                               RBUF - s->rlen);
      if (got < 0)
        return -37;
      if (got == 0)
        s->eof = 1;
      s->rlen += (size_t)got;
      continue;
    }
    if (!nl && s->rlen == 0) {
      *flag = 0;
      return 0;
    }
    n = nl ? (size_t)(nl - (rb + s->rpos)) : s->rlen;
    if (n > LINE_MAX_BYTES || (!nl && s->rlen == RBUF))
      return FORTH_E_LINE;
    memcpy(blk, rb + s->rpos, n);
    s->rpos += nl ? n + 1 : n;
    s->rlen -= nl ? n + 1 : n;
    if (n && blk[n - 1] == '\r')
      n--;
    s->line++;
    s->buf = s->block;
    s->len = 0;
    set_in(vm, 0);
    if (!utf8_ok(blk, n))
      return FORTH_E_UTF8;
    s->len = (cell)n;
    *flag = 1;
    return 0;
  }
}

/* REFILL: 0 with *flag, FORTH_WAIT, or a THROW code. */
int vm_refill(forth_vm *vm, int *flag)
{
  struct fsource *s = TOP(vm);
  *flag = 0;
  vm->last_name_len = 0;
  if (s->kind == SRC_TERM)
    return refill_term(vm, flag);
  if (s->kind == SRC_FILE)
    return refill_file(vm, s, flag);
  if (s->blk) { /* Block extension: REFILL goes on with the next block */
    cell a;
    int r = vm_block(vm, s->blk + 1, 1, &a);
    if (r)
      return r;
    s->blk++;
    s->buf = a;
    s->len = 1024;
    set_in(vm, 0);
    vm_set(vm, vm->a_blk, s->blk);
    *flag = 1;
  }
  return 0;
}

/* ---- parsing ------------------------------------------------------------ */

static const uint8_t *source(forth_vm *vm, cell *len, cell *in)
{
  struct fsource *s = TOP(vm);
  const uint8_t *p = vm_rptr(vm, s->buf, s->len);
  *len = p ? s->len : 0;
  *in = get_in(vm);
  if (*in < 0)
    *in = 0;
  if (*in > *len)
    *in = *len;
  return p;
}

int vm_parse_name(forth_vm *vm, cell *a, cell *n)
{
  cell len, in;
  const uint8_t *p = source(vm, &len, &in);
  while (in < len && p[in] <= ' ')
    in++;
  cell start = in;
  while (in < len && p[in] > ' ')
    in++;
  *a = TOP(vm)->buf + start;
  *n = in - start;
  set_in(vm, in < len ? in + 1 : in);
  return 0;
}

/* PARSE: text up to delim (any space if delim is BL). */
static void parse(forth_vm *vm, int delim, cell *a, cell *n)
{
  cell len, in;
  const uint8_t *p = source(vm, &len, &in);
  cell start = in;
  while (in < len && !(p[in] == delim || (delim == ' ' && p[in] < ' ')))
    in++;
  *a = TOP(vm)->buf + start;
  *n = in - start;
  set_in(vm, in < len ? in + 1 : in);
}

static int p_parse(forth_vm *vm, void *ctx)
{
  cell d, a, n;
  POP(d);
  parse(vm, (int)(d & 0xff), &a, &n);
  PUSH(a);
  PUSH(n);
  return 0;
}

static int p_parse_name(forth_vm *vm, void *ctx)
{
  cell a, n;
  vm_parse_name(vm, &a, &n);
  PUSH(a);
  PUSH(n);
  return 0;
}

static int p_word(forth_vm *vm, void *ctx)
{
  cell d, len, in, a, n;
  POP(d);
  const uint8_t *p = source(vm, &len, &in);
  while (in < len && (p[in] == (d & 0xff) || (d == ' ' && p[in] < ' ')))
    in++;
  set_in(vm, in);
  parse(vm, (int)(d & 0xff), &a, &n);
  if (n > 255)
    return -18;
  uint8_t *w, *src;
  vm_ptr2(vm, vm->a_word, 258, 1, a, n, 0, &w, &src);
  if (!w || !src)
    return -9;
  w[0] = (uint8_t)n;
  if (n)
    memmove(w + 1, src, (size_t)n);
  w[n + 1] = ' ';
  PUSH(vm->a_word);
  return 0;
}

static int p_source(forth_vm *vm, void *ctx)
{
  PUSH(TOP(vm)->buf);
  PUSH(TOP(vm)->len);
  return 0;
}

static int p_source_id(forth_vm *vm, void *ctx)
{
  struct fsource *s = TOP(vm);
  PUSH(s->kind == SRC_TERM ? 0 : s->kind == SRC_EVAL ? -1 : s->handle);
  return 0;
}

static int p_refill(forth_vm *vm, void *ctx)
{
  int flag, r;
  if (vm->sp >= vm->ds0 + vm->dsize)
    return -3;
  if ((r = vm_refill(vm, &flag)))
    return r;
  PUSH(flag ? -1 : 0);
  return 0;
}

static int p_save_input(forth_vm *vm, void *ctx)
{
  PUSH(get_in(vm));
  PUSH((cell)TOP(vm)->line);
  PUSH(vm->nsrc);
  PUSH(3);
  return 0;
}

static int p_restore_input(forth_vm *vm, void *ctx)
{
  cell n, depth, line, in;
  POP(n);
  if (n != 3) {
    for (; n > 0; n--)
      POP(in);
    PUSH(-1);
    return 0;
  }
  POP(depth);
  POP(line);
  POP(in);
  if (depth != vm->nsrc || (unsigned long)line != TOP(vm)->line) {
    PUSH(-1);
    return 0;
  }
  set_in(vm, in);
  PUSH(0);
  return 0;
}

/* (push-eval) ( c-addr u -- ) */
static int p_push_eval(forth_vm *vm, void *ctx)
{
  cell a, n;
  int r;
  POP(n);
  POP(a);
  if (!vm_rptr(vm, a, n))
    return -9;
  if ((r = push_source(vm, SRC_EVAL)))
    return r;
  TOP(vm)->buf = a;
  TOP(vm)->len = n;
  return 0;
}

/* (push-block) ( c-addr u blk -- ): LOAD's input source, BLK = blk. */
static int p_push_block(forth_vm *vm, void *ctx)
{
  cell b;
  int r;
  POP(b);
  if ((r = p_push_eval(vm, ctx)))
    return r;
  TOP(vm)->blk = b;
  vm_set(vm, vm->a_blk, b);
  return 0;
}

/* Remembers a file name as included (for REQUIRED). */
static void note_included(forth_vm *vm, const char *name, size_t n)
{
  if (n > 255)
    return;
  if (vm->incl_len + n + 1 > vm->incl_cap) {
    size_t cap = vm->incl_cap ? vm->incl_cap * 2 : 512;
    while (cap < vm->incl_len + n + 1)
      cap *= 2;
    char *p = vm->host.alloc(vm->host.ctx, vm->incl, vm->incl_cap, cap);
    if (!p)
      return;
    vm->incl = p;
    vm->incl_cap = cap;
  }
  vm->incl[vm->incl_len++] = (char)n;
  memcpy(vm->incl + vm->incl_len, name, n);
  vm->incl_len += n;
}

static int was_included(forth_vm *vm, const char *name, size_t n)
{
  for (size_t i = 0; i < vm->incl_len; i += 1 + (uint8_t)vm->incl[i])
    if ((uint8_t)vm->incl[i] == n && !memcmp(vm->incl + i + 1, name, n))
      return 1;
  return 0;
}

/* (required?) ( c-addr u -- flag ): was that name (or the file it names
 * next to the including file) INCLUDED already? */
static int p_required_q(forth_vm *vm, void *ctx)
{
  cell a, n;
  POP(n);
  POP(a);
  const char *name = vm_rptr(vm, a, n);
  if (!name)
    return -9;
  int seen = was_included(vm, name, (size_t)n);
  struct fsource *cur = TOP(vm);
  const char *slash = NULL;
  for (const char *q = cur->name; !seen && cur->kind == SRC_FILE && *q; q++)
    if (*q == '/')
      slash = q;
  if (!seen && slash && n > 0 && name[0] != '/' && (size_t)n < SRC_NAME_MAX) {
    char path[2 * SRC_NAME_MAX];
    size_t d = (size_t)(slash - cur->name) + 1;
    memcpy(path, cur->name, d);
    memcpy(path + d, name, (size_t)n);
    seen = was_included(vm, path, d + (size_t)n);
  }
  PUSH(seen ? -1 : 0);
  return 0;
}

/* (include-file) ( fileid -- ) makes an open file the input source; it is
 * closed when the source is popped (INCLUDE-FILE). */
static int p_include_file(forth_vm *vm, void *ctx)
{
  cell h;
  int r;
  POP(h);
  if (!vm->host.read || h <= 0 || h > 0x7fffffff)
    return -38;
  cell blk = fheap_alloc(vm, LINE_MAX_BYTES + RBUF);
  if (!blk)
    return -59;
  if ((r = push_source(vm, SRC_FILE))) {
    fheap_free(vm, blk);
    return r;
  }
  TOP(vm)->handle = (int)h;
  TOP(vm)->block = blk;
  return 0;
}

/* (open-file) ( c-addr u -- ) makes the named file the input source. */
static int p_open_file(forth_vm *vm, void *ctx)
{
  cell a, n;
  int r;
  POP(n);
  POP(a);
  const char *name = vm_rptr(vm, a, n);
  if (!name)
    return -9;
  if (!vm->host.open || !vm->host.read)
    return -38;
  cell blk = fheap_alloc(vm, LINE_MAX_BYTES + RBUF);
  if (!blk)
    return -59;
  int h = -38;
  struct fsource *cur = TOP(vm);
  const char *slash = NULL, *opened = name;
  size_t olen = (size_t)n;
  char path[2 * SRC_NAME_MAX];
  for (const char *q = cur->name; cur->kind == SRC_FILE && *q; q++)
    if (*q == '/')
      slash = q;
  if (slash && n > 0 && name[0] != '/') {
    /* relative names are looked up next to the including file first */
    size_t d = (size_t)(slash - cur->name) + 1;
    if ((size_t)n < SRC_NAME_MAX) {
      memcpy(path, cur->name, d);
      memcpy(path + d, name, (size_t)n);
      h = vm->host.open(vm->host.ctx, path, d + (size_t)n);
      if (h >= 0) { /* its own relative includes start from here */
        opened = path;
        olen = d + (size_t)n;
      }
    }
  }
  if (h < 0)
    h = vm->host.open(vm->host.ctx, name, (size_t)n);
  if (h < 0) {
    vm->last_name = a; /* the error names the file */
    vm->last_name_len = n;
    fheap_free(vm, blk);
    return h < -4095 ? -38 : h;
  }
  if ((r = push_source(vm, SRC_FILE))) {
    vm->host.close(vm->host.ctx, h);
    fheap_free(vm, blk);
    return r;
  }
  struct fsource *s = TOP(vm);
  s->handle = h;
  s->block = blk;
  size_t k = olen < SRC_NAME_MAX - 1 ? olen : SRC_NAME_MAX - 1;
  char *nm = vm->host.alloc(vm->host.ctx, NULL, 0, k + 1);
  if (nm) {
    memcpy(nm, opened, k);
    nm[k] = 0;
    s->name = nm;
  }
  note_included(vm, name, (size_t)n);
  if (opened != name)
    note_included(vm, opened, olen);
  return 0;
}

static int p_pop_source(forth_vm *vm, void *ctx)
{
  if (vm->nsrc > 1)
    pop_source(vm);
  return 0;
}

/* ---- numbers ------------------------------------------------------------ */

static int digit(int c, cell base)
{
  int d = c >= '0' && c <= '9' ? c - '0'
        : c >= 'a' && c <= 'z' ? c - 'a' + 10
        : c >= 'A' && c <= 'Z' ? c - 'A' + 10 : 99;
  return d < base ? d : -1;
}

/* Converts digits while possible: ud = ud*base + digit. */
static size_t to_number(udcell *ud, const uint8_t *p, size_t n, cell base)
{
  size_t i = 0;
  for (; i < n; i++) {
    int d = digit(p[i], base);
    if (d < 0)
      break;
    *ud = *ud * (ucell)base + (ucell)d;
  }
  return i;
}

static int p_to_number(forth_vm *vm, void *ctx)
{
  cell a, n, lo, hi;
  POP(n);
  POP(a);
  POP(hi);
  POP(lo);
  const uint8_t *p = vm_rptr(vm, a, n);
  if (!p)
    return -9;
  udcell ud = ((udcell)(ucell)hi << FORTH_CELL_BITS) | (ucell)lo;
  size_t k = to_number(&ud, p, (size_t)n, vm_get(vm, vm->a_base));
  PUSH((cell)(ucell)ud);
  PUSH((cell)(ucell)(ud >> FORTH_CELL_BITS));
  PUSH(a + (cell)k);
  PUSH(n - (cell)k);
  return 0;
}

/* Recognizes a number; 1 single, 2 double, 0 not a number. */
static int number(forth_vm *vm, const uint8_t *p, size_t n, udcell *out)
{
  cell base = vm_get(vm, vm->a_base);
  int neg = 0, dbl = 0;
  if (n == 3 && p[0] == '\'' && p[2] == '\'') {
    *out = p[1];
    return 1;
  }
  if (n && (p[0] == '#' || p[0] == '$' || p[0] == '%')) {
    base = p[0] == '#' ? 10 : p[0] == '$' ? 16 : 2;
    p++, n--;
  }
  if (base < 2 || base > 36)
    return 0;
  if (n && p[0] == '-')
    neg = 1, p++, n--;
  if (n && p[n - 1] == '.')
    dbl = 1, n--;
  if (!n)
    return 0;
  udcell ud = 0;
  if (to_number(&ud, p, n, base) != n)
    return 0;
  *out = neg ? 0 - ud : ud;
  return dbl ? 2 : 1;
}

/* ---- the interpreter step ------------------------------------------- */

/* (interp1) ( -- 0 | 2 | xt 1 ): 0 end of line, 2 handled, 1 execute xt */
static int p_interp1(forth_vm *vm, void *ctx)
{
  cell a, n;
  int r;
  vm_parse_name(vm, &a, &n);
  if (!n) {
    PUSH(0);
    return 0;
  }
  vm->last_name = a;
  vm->last_name_len = n;
  cell state = vm_get(vm, vm->a_state);
  const char *name = vm_rptr(vm, a, n);
  if (!name)
    return -9;
  if (state && vm->nlocals) {
    int k = vm_local_find(vm, name, (size_t)n);
    if (k >= 0) {
      k = vm->nlocals - 1 - k;
      r = k == 0 ? vm_compile_op(vm, OP_LOCAL0) : k == 1 ? vm_compile_op(vm, OP_LOCAL1)
                 : vm_compile_op1(vm, OP_LOCAL_FETCH, (fcode)k);
      if (r)
        return r;
      PUSH(2);
      return 0;
    }
  }
  uint32_t w = vm_find(vm, name, (size_t)n);
  if (w) {
    int fl = WORD(vm, w)->flags;
    if (state && !(fl & WF_IMMEDIATE)) {
      if ((r = vm_compile_xt(vm, w)))
        return r;
      PUSH(2);
      return 0;
    }
    if (!state && (fl & WF_COMPILE_ONLY))
      return -14;
    PUSH(w);
    PUSH(1);
    return 0;
  }
  udcell v;
  int k = number(vm, (const uint8_t *)name, (size_t)n, &v);
  if (!k) {
    if ((r = vm_float_number(vm, name, (size_t)n)) < 0)
      return r;
    if (!r)
      return -13;
    PUSH(2);
    return 0;
  }
  cell lo = (cell)(ucell)v, hi = (cell)(ucell)(v >> FORTH_CELL_BITS);
  if (state) {
    r = k == 1 ? vm_compile_op1(vm, OP_LIT, (fcode)lo)
               : (vm_compile_op1(vm, OP_LIT, (fcode)lo) ||
                  vm_compile_op1(vm, OP_LIT, (fcode)hi)) ? -8 : 0;
    if (r)
      return r;
  } else {
    PUSH(lo);
    if (k == 2)
      PUSH(hi);
  }
  PUSH(2);
  return 0;
}

/* ---- errors ------------------------------------------------------------- */

static void put_num(forth_vm *vm, long v)
{
  char b[24];
  int k = (int)sizeof b;
  unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
  do b[--k] = (char)('0' + u % 10); while ((u /= 10) && k > 1);
  if (v < 0)
    b[--k] = '-';
  vm_type(vm, b + k, sizeof b - (size_t)k);
}

/* (report) ( code -- ) prints an error and resets for the next line. */
static int p_report(forth_vm *vm, void *ctx)
{
  cell code = 0;
  vm_pop(vm, &code);
  vm->sp = vm->ds0;
  vm_set(vm, vm->a_state, 0);
  vm->ncf = 0;
  vm->def_start = NULL;
  vm->defining = 0;
  vm->nlocals = vm->nlpending = 0;
  vm->fsp = vm->fs0;
  vm->line_pos = vm->line_skip = 0;
  ledit_reset(vm);
  vm_mark_label(vm);
  if (code == -1 || code == -56)
    return 0;
  vm->nerrors++;
  if (code == -2) {
    const char *m = vm_rptr(vm, vm->abort_msg, vm->abort_len);
    if (m)
      vm_type(vm, m, (size_t)vm->abort_len);
    puts_vm(vm, "\n");
    return 0;
  }
  if (vm->err_where[0]) {
    puts_vm(vm, vm->err_where);
    puts_vm(vm, ": ");
  }
  if (vm->err_word_len) {
    vm_type(vm, vm->err_word, vm->err_word_len);
    puts_vm(vm, ": ");
  }
  const char *t = forth_throw_text((int)(code < -4095 || code > 0 ? 0 : code));
  puts_vm(vm, *t ? t : "uncaught exception");
  puts_vm(vm, " (THROW ");
  put_num(vm, (long)code);
  puts_vm(vm, ")\n");
  return 0;
}

/* (quit-reset): empty the return and call stacks, terminal input. */
static int p_quit_reset(forth_vm *vm, void *ctx)
{
  vm->rp = vm->rs0;
  vm->lp = vm->ls0;
  vm->csp = vm->cs0;
  *vm->csp = vm->halt_code;
  vm->ncatch = 0;
  vm_reset_sources(vm, 1);
  vm_set(vm, vm->a_state, 0);
  return 0;
}

static int p_ok(forth_vm *vm, void *ctx)
{
  if (vm->cfg.interactive && vm->nsrc == 1)
    puts_vm(vm, vm_get(vm, vm->a_state) ? " compiled\n" : " ok\n");
  return 0;
}

static int p_bye(forth_vm *vm, void *ctx)
{
  return 0;
}

static int p_undefined(forth_vm *vm, void *ctx)
{
  return -13;
}

static const struct prim_def core_prims[] = {
  {"PARSE", p_parse, 0}, {"PARSE-NAME", p_parse_name, 0},
  {"WORD", p_word, 0}, {"SOURCE", p_source, 0},
  {"SOURCE-ID", p_source_id, 0}, {"REFILL", p_refill, 0},
  {"SAVE-INPUT", p_save_input, 0}, {"RESTORE-INPUT", p_restore_input, 0},
  {"(push-eval)", p_push_eval, 0}, {"(open-file)", p_open_file, 0},
  {"(push-block)", p_push_block, 0}, {"(include-file)", p_include_file, 0},
  {"(required?)", p_required_q, 0},
  {"(pop-source)", p_pop_source, 0}, {">NUMBER", p_to_number, 0},
  {"(interp1)", p_interp1, 0}, {"(report)", p_report, 0},
  {"(quit-reset)", p_quit_reset, 0}, {"(ok)", p_ok, 0},
  {"(nop)", p_bye, 0},
};

/* Threaded INTERPRET and the boot code that runs the prelude. */
static int build_interpret(forth_vm *vm)
{
  uint32_t w;
  int r;
  static const char name[] = "INTERPRET";
  if ((r = vm_word_new(vm, name, sizeof name - 1, WK_COLON, &w)) ||
      (r = vm_code_reserve(vm, 32)))
    return r;
  fcode *c = vm->cp, *loop = c;
  const void *const *L = forth_op_addr;
  uint32_t i1 = vm_find_wl(vm, "(interp1)", 9, FORTH_WID);
  WORD(vm, w)->code = c;
  *c++ = (fcode)L[OP_CCALL]; *c++ = (fcode)WORD(vm, i1)->fn; *c++ = 0;
  *c++ = (fcode)L[OP_DUP_QBRANCH]; fcode *exit_site = c++;
  *c++ = (fcode)L[OP_LIT_EQ]; *c++ = 1;
  *c++ = (fcode)L[OP_QBRANCH]; *c++ = (fcode)loop;
  *c++ = (fcode)L[OP_EXECUTE];
  *c++ = (fcode)L[OP_BRANCH]; *c++ = (fcode)loop;
  *exit_site = (fcode)c;
  *c++ = (fcode)L[OP_DROP];
  *c++ = (fcode)L[OP_EXIT];
  vm->cp = c;
  vm->latest = w;
  return 0;
}

int vm_install_core(forth_vm *vm)
{
  int r;
  if ((r = vm_install_table(vm, core_prims,
                            sizeof core_prims / sizeof core_prims[0])) ||
      (r = build_interpret(vm)) || (r = vm_code_reserve(vm, 16)))
    return r;
  /* halt_code: HALT, CATCH_END (CATCH returns through halt_code + 1) */
  fcode *c = vm->cp;
  const void *const *L = forth_op_addr;
  vm->halt_code = c;
  *c++ = (fcode)L[OP_HALT];
  *c++ = (fcode)L[OP_CATCH_END];
  vm->undef_code = c; /* headers that fill a frozen segment run this */
  *c++ = (fcode)L[OP_CCALL]; *c++ = (fcode)p_undefined; *c++ = 0;
  *c++ = (fcode)L[OP_EXIT];
  /* boot: evaluate the prelude, then halt */
  vm->ip = c;
  *c++ = (fcode)L[OP_CALL]; *c++ = (fcode)WORD(vm, vm->latest)->code;
  *c++ = (fcode)L[OP_HALT];
  vm->cp = c;
  *vm->csp = vm->halt_code;
  if ((r = push_source(vm, SRC_TERM)))
    return r;
  size_t n = strlen(forth_prelude);
  cell a = fheap_alloc(vm, (ucell)n);
  if (!a)
    return MN_ENOMEM;
  uint8_t *p = vm_ptr(vm, a, (cell)n);
  if (!p)
    return MN_ENOMEM;
  memcpy(p, forth_prelude, n);
  if ((r = push_source(vm, SRC_EVAL)))
    return r;
  TOP(vm)->buf = a;
  TOP(vm)->len = (cell)n;
  return 0;
}
