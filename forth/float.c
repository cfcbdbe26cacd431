/*
 * float.c: the Floating-Point word set and its extensions, as C words
 * around the float stack (the hot words are opcodes in vm_ext.inc).
 * Floats are IEEE doubles; single floats (SF@ SF!) are IEEE singles in
 * memory. Conversions to and from text are exact (fnum.c) and the
 * elementary functions need no libm (fmath.c), so the kernel builds have
 * all of it.
 *
 * Interface:
 *   vm_install_float, vm_float_number, vm_float_to, vm_fpush, vm_fpop,
 *   vm_see_float
 */
#include "forth_int.h"

#define STATE(vm) vm_get(vm, (vm)->a_state)

int vm_fpush(forth_vm *vm, double x)
{
  if (vm->fsp >= vm->fs0 + vm->fsize)
    return -44;
  *++vm->fsp = x;
  return 0;
}

int vm_fpop(forth_vm *vm, double *x)
{
  if (vm->fsp <= vm->fs0)
    return -45;
  *x = *vm->fsp--;
  return 0;
}

#define FPOP(x) do { int _r = vm_fpop(vm, &(x)); if (_r) return _r; } while (0)
#define FPUSH(x) do { int _r = vm_fpush(vm, (x)); if (_r) return _r; } while (0)

static int is_nan(double x) { return x != x; }
static int is_inf(double x) { return x == x && x - x != 0; }

static int compile_flit(forth_vm *vm, double x)
{
  fcode c[2] = {0, 0};
  memcpy(c, &x, sizeof x);
  int r = vm_code_reserve(vm, 4);
  if (r || (r = vm_compile_op1(vm, OP_FLIT, c[0])))
    return r;
  if (FLIT_CELLS == 2)
    r = vm_emit_code(vm, c[1]);
  return r;
}

/* A float literal in the text interpreter: [sign] digits [. digits0]
 * E [sign] digits0, BASE decimal. 1 if it was one, 0 if not, or a THROW. */
int vm_float_number(forth_vm *vm, const char *s, size_t n)
{
  size_t i = 0;
  int digits = 0, e = 0;
  double x;
  if (vm_get(vm, vm->a_base) != 10)
    return 0;
  if (i < n && (s[i] == '+' || s[i] == '-'))
    i++;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
    digits++;
  if (i < n && s[i] == '.')
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
      ;
  if (i < n && (s[i] == 'e' || s[i] == 'E'))
    e = 1, i++;
  if (i < n && (s[i] == '+' || s[i] == '-'))
    i++;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
    ;
  if (!digits || !e || i != n || !fn_parse(s, n, &x))
    return 0;
  if (STATE(vm))
    return compile_flit(vm, x) ? -8 : 1;
  return vm_fpush(vm, x) ? -44 : 1;
}

int vm_float_to(forth_vm *vm, cell body, int compiling)
{
  double x;
  if (compiling)
    return vm_compile_op1(vm, OP_FLITSTORE, (fcode)body);
  FPOP(x);
  uint8_t *d = vm_ptr(vm, body, sizeof x);
  if (!d)
    return -9;
  memcpy(d, &x, sizeof x);
  return 0;
}

/* ---- text ---------------------------------------------------------------- */

static int precision(forth_vm *vm)
{
  return vm->precision ? vm->precision : 15;
}

static void out(forth_vm *vm, const char *s, size_t n) { vm_type(vm, s, n); }

static int special(forth_vm *vm, double x)
{
  if (is_nan(x))
    out(vm, "nan ", 4);
  else if (is_inf(x))
    out(vm, x < 0 ? "-inf " : "inf ", x < 0 ? 5 : 4);
  else
    return 0;
  return 1;
}

static void out_int(forth_vm *vm, int v)
{
  char b[16];
  int k = (int)sizeof b;
  unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
  do b[--k] = (char)('0' + u % 10); while ((u /= 10) && k > 1);
  if (v < 0)
    b[--k] = '-';
  out(vm, b + k, sizeof b - (size_t)k);
}

/* F. : fixed point, PRECISION significant digits, trailing zeros cut. */
static int w_fdot(forth_vm *vm, void *ctx)
{
  double x;
  char d[64];
  int n, u = precision(vm);
  FPOP(x);
  if (special(vm, x))
    return 0;
  if (x < 0 || (x == 0 && 1 / x < 0))
    out(vm, "-", 1);
  fn_represent(x < 0 ? -x : x, d, u, &n);
  int last = u;
  while (last > 0 && d[last - 1] == '0')
    last--;
  if (x == 0)
    n = 1, last = 0;
  if (n <= 0) {
    out(vm, "0.", 2);
    for (int i = 0; i < -n; i++)
      out(vm, "0", 1);
    out(vm, d, (size_t)last);
  } else {
    for (int i = 0; i < n; i++)
      out(vm, i < u ? d + i : "0", 1);
    out(vm, ".", 1);
    if (last > n)
      out(vm, d + n, (size_t)(last - n));
  }
  out(vm, " ", 1);
  return 0;
}

/* FS. and FE.: d.ddddE<n>, FE. with an exponent that is a multiple of 3. */
static int sci(forth_vm *vm, int eng)
{
  double x;
  char d[64];
  int n, u = precision(vm);
  FPOP(x);
  if (special(vm, x))
    return 0;
  if (x < 0 || (x == 0 && 1 / x < 0))
    out(vm, "-", 1);
  fn_represent(x < 0 ? -x : x, d, u, &n);
  int e = x == 0 ? 0 : n - 1, k = 1;
  if (eng) {
    int e3 = e >= 0 ? e / 3 * 3 : -((-e + 2) / 3 * 3);
    k = e - e3 + 1;
    e = e3;
  }
  for (int i = 0; i < k; i++)
    out(vm, i < u ? d + i : "0", 1);
  out(vm, ".", 1);
  if (u > k)
    out(vm, d + k, (size_t)(u - k));
  out(vm, "E", 1);
  out_int(vm, e);
  out(vm, " ", 1);
  return 0;
}

static int w_fsdot(forth_vm *vm, void *ctx) { return sci(vm, 0); }
static int w_fedot(forth_vm *vm, void *ctx) { return sci(vm, 1); }

/* For SEE: a float in a form the interpreter reads back. */
void vm_see_float(forth_vm *vm, double x)
{
  int p = vm->precision;
  vm->precision = 17;
  if (vm_fpush(vm, x) == 0)
    sci(vm, 0);
  vm->precision = p;
}

/* REPRESENT ( c-addr u -- n flag1 flag2 ) ( F: r -- ) */
static int w_represent(forth_vm *vm, void *ctx)
{
  cell a, u;
  double x;
  POP(u);
  POP(a);
  char *p = vm_ptr(vm, a, u);
  if (u < 0 || (!p && u))
    return -9;
  FPOP(x);
  int neg = x < 0 || (x == 0 && 1 / x < 0);
  if (is_nan(x) || is_inf(x)) {
    const char *t = is_nan(x) ? "nan" : neg ? "-inf" : "inf";
    for (cell i = 0; i < u; i++)
      p[i] = i < (cell)strlen(t) ? t[i] : ' ';
    PUSH(0);
    PUSH(neg ? -1 : 0);
    PUSH(0);
    return 0;
  }
  char d[800];
  int n, k = u > 780 ? 780 : (int)u;
  fn_represent(neg ? -x : x, d, k, &n);
  for (cell i = 0; i < u; i++)
    p[i] = i < k ? d[i] : '0';
  PUSH(n);
  PUSH(neg ? -1 : 0);
  PUSH(-1);
  return 0;
}

/* >FLOAT ( c-addr u -- true | false ) ( F: -- r | ) */
static int w_to_float(forth_vm *vm, void *ctx)
{
  const uint8_t *p;
  cell n;
  double x;
  int r = vm_string(vm, &p, &n);
  if (r)
    return r;
  if (!fn_parse((const char *)p, (size_t)n, &x)) {
    PUSH(0);
    return 0;
  }
  FPUSH(x);
  PUSH(-1);
  return 0;
}

static int w_precision(forth_vm *vm, void *ctx)
{
  PUSH(precision(vm));
  return 0;
}

static int w_set_precision(forth_vm *vm, void *ctx)
{
  cell u;
  POP(u);
  vm->precision = u < 1 ? 1 : u > 40 ? 40 : (int)u;
  return 0;
}

/* ---- conversions and the rest ------------------------------------------- */

static int w_d_to_f(forth_vm *vm, void *ctx)
{
  cell lo, hi;
  POP(hi);
  POP(lo);
#if FORTH_CELL_BITS == 32
  int64_t v = (int64_t)((uint64_t)(uint32_t)hi << 32 | (uint32_t)lo);
  uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  FPUSH(fn_from_int(v < 0, 0, m));
#else
  udcell v = (udcell)(ucell)hi << 64 | (ucell)lo;
  int neg = hi < 0;
  if (neg)
    v = 0 - v;
  FPUSH(fn_from_int(neg, (uint64_t)(v >> 64), (uint64_t)v));
#endif
  return 0;
}

static int w_f_to_d(forth_vm *vm, void *ctx)
{
  double x;
  FPOP(x);
  double a = fm_trunc(x < 0 ? -x : x);
#if FORTH_CELL_BITS == 32
  if (!(a < 0x1p63))
    return -11;
  uint64_t m = (uint64_t)a;
  if (x < 0)
    m = 0 - m;
  PUSH((cell)(uint32_t)m);
  PUSH((cell)(uint32_t)(m >> 32));
#else
  if (!(a < 0x1p127))
    return -11;
  uint64_t hi = (uint64_t)(a * 0x1p-64), lo = (uint64_t)(a - (double)hi * 0x1p64);
  udcell m = (udcell)hi << 64 | lo;
  if (x < 0)
    m = 0 - m;
  PUSH((cell)(ucell)m);
  PUSH((cell)(ucell)(m >> 64));
#endif
  return 0;
}

static int w_fdepth(forth_vm *vm, void *ctx)
{
  PUSH(vm->fsp - vm->fs0);
  return 0;
}

static int w_fliteral(forth_vm *vm, void *ctx)
{
  double x;
  FPOP(x);
  return compile_flit(vm, x);
}

static cell align_to(cell a, cell n)
{
  return (cell)(((ucell)a + (ucell)n - 1) & ~((ucell)n - 1));
}

static int aligned(forth_vm *vm, cell n)
{
  cell a;
  POP(a);
  PUSH(align_to(a, n));
  return 0;
}

static int align(forth_vm *vm, cell n)
{
  int err;
  vm_allot(vm, align_to(vm->here, n) - vm->here, &err);
  return err;
}

static int w_faligned(forth_vm *vm, void *ctx) { return aligned(vm, 8); }
static int w_sfaligned(forth_vm *vm, void *ctx) { return aligned(vm, 4); }
static int w_falign(forth_vm *vm, void *ctx) { return align(vm, 8); }
static int w_sfalign(forth_vm *vm, void *ctx) { return align(vm, 4); }

static int w_sfloats(forth_vm *vm, void *ctx)
{
  cell n;
  POP(n);
  PUSH((cell)((ucell)n * 4));
  return 0;
}

static int w_sfloat_plus(forth_vm *vm, void *ctx)
{
  cell n;
  POP(n);
  PUSH((cell)((ucell)n + 4));
  return 0;
}

static int w_sf_fetch(forth_vm *vm, void *ctx)
{
  cell a;
  float f;
  POP(a);
  const void *p = vm_rptr(vm, a, 4);
  if (!p)
    return -9;
  memcpy(&f, p, 4);
  FPUSH((double)f);
  return 0;
}

static int w_sf_store(forth_vm *vm, void *ctx)
{
  cell a;
  double x;
  POP(a);
  void *p = vm_ptr(vm, a, 4);
  if (!p)
    return -9;
  FPOP(x);
  float f = (float)x;
  memcpy(p, &f, 4);
  return 0;
}

/* Defining words: FCONSTANT (FLIT x EXIT, inlined by COMPILE,) and FVALUE. */
static int fdefine(forth_vm *vm, int kind)
{
  double x;
  cell a, n;
  uint32_t w;
  int err, r;
  FPOP(x);
  vm_parse_name(vm, &a, &n);
  if (!n)
    return -16;
  if ((r = vm_word_new(vm, vm_rptr(vm, a, n), (size_t)n, kind, &w)))
    return r;
  fcode *c = vm_snippet(vm, 4);
  if (!c) {
    WORD(vm, w)->kind = WK_COLON;
    WORD(vm, w)->flags = WF_HIDDEN;
    return -8;
  }
  struct fword *p = WORD(vm, w);
  p->code = c;
  vm->latest = w;
  if (kind == WK_FCONSTANT) {
    c[0] = (fcode)forth_op_addr[OP_FLIT];
    c[1] = c[2] = 0;
    memcpy(c + 1, &x, sizeof x);
    c[1 + FLIT_CELLS] = (fcode)forth_op_addr[OP_EXIT];
    return 0;
  }
  vm_allot(vm, align_to(vm->here, 8) - vm->here, &err);
  cell body = vm_allot(vm, 8, &err);
  if (err)
    return err;
  uint8_t *d = vm_ptr(vm, body, sizeof x);
  if (!d)
    return -8;
  memcpy(d, &x, sizeof x);
  p->body = body;
  c[0] = (fcode)forth_op_addr[OP_FLITFETCH];
  c[1] = (fcode)body;
  c[2] = (fcode)forth_op_addr[OP_EXIT];
  return 0;
}

static int w_fconstant(forth_vm *vm, void *ctx) { return fdefine(vm, WK_FCONSTANT); }
static int w_fvalue(forth_vm *vm, void *ctx) { return fdefine(vm, WK_FVALUE); }

/* F~ ( F: r1 r2 r3 -- ) ( -- flag ) */
static int w_fproximate(forth_vm *vm, void *ctx)
{
  double x, y, t;
  FPOP(t);
  FPOP(y);
  FPOP(x);
  int f;
  if (t > 0)
    f = (x > y ? x - y : y - x) < t;
  else if (t == 0)
    f = !memcmp(&x, &y, sizeof x);
  else
    f = (x > y ? x - y : y - x) < -t * ((x < 0 ? -x : x) + (y < 0 ? -y : y));
  PUSH(f ? -1 : 0);
  return 0;
}

static int w_fsincos(forth_vm *vm, void *ctx)
{
  double x;
  FPOP(x);
  FPUSH(fm_sin(x));
  FPUSH(fm_cos(x));
  return 0;
}

static int w_fatan2(forth_vm *vm, void *ctx)
{
  double x, y;
  FPOP(x);
  FPOP(y);
  FPUSH(fm_atan2(y, x));
  return 0;
}

static int w_fpow(forth_vm *vm, void *ctx)
{
  double x, y;
  FPOP(y);
  FPOP(x);
  FPUSH(fm_pow(x, y));
  return 0;
}

static double f_log10(double x) { return fm_log(x) / 2.30258509299404568402; }
static double f_alog(double x) { return fm_pow(10, x); }
static double f_2star(double x) { return x * 2; }
static double f_2slash(double x) { return x * 0.5; }

/* Words of one float in, one out: ctx is the function. */
static int w_unary(forth_vm *vm, void *ctx)
{
  double x;
  FPOP(x);
  FPUSH(((double (*)(double))ctx)(x));
  return 0;
}

static const struct { const char *name; double (*fn)(double); } unary[] = {
  {"FLOOR", fm_floor}, {"FROUND", fm_round}, {"FTRUNC", fm_trunc},
  {"FEXP", fm_exp}, {"FEXPM1", fm_expm1}, {"FLN", fm_log}, {"FLNP1", fm_log1p},
  {"FLOG", f_log10}, {"FALOG", f_alog}, {"FSIN", fm_sin}, {"FCOS", fm_cos},
  {"FTAN", fm_tan}, {"FASIN", fm_asin}, {"FACOS", fm_acos},
  {"FATAN", fm_atan}, {"FSINH", fm_sinh}, {"FCOSH", fm_cosh},
  {"FTANH", fm_tanh}, {"FASINH", fm_asinh}, {"FACOSH", fm_acosh},
  {"FATANH", fm_atanh}, {"F2*", f_2star}, {"F2/", f_2slash},
};

static const struct prim_def float_words[] = {
  {"F.", w_fdot, 0}, {"FS.", w_fsdot, 0}, {"FE.", w_fedot, 0},
  {"REPRESENT", w_represent, 0}, {">FLOAT", w_to_float, 0},
  {"PRECISION", w_precision, 0}, {"SET-PRECISION", w_set_precision, 0},
  {"D>F", w_d_to_f, 0}, {"F>D", w_f_to_d, 0}, {"FDEPTH", w_fdepth, 0},
  {"FLITERAL", w_fliteral, WF_IMMEDIATE | WF_COMPILE_ONLY},
  {"FALIGNED", w_faligned, 0}, {"FALIGN", w_falign, 0},
  {"DFALIGNED", w_faligned, 0}, {"DFALIGN", w_falign, 0},
  {"SFALIGNED", w_sfaligned, 0}, {"SFALIGN", w_sfalign, 0},
  {"SFLOATS", w_sfloats, 0}, {"SFLOAT+", w_sfloat_plus, 0},
  {"SF@", w_sf_fetch, 0}, {"SF!", w_sf_store, 0},
  {"FCONSTANT", w_fconstant, 0}, {"FVALUE", w_fvalue, 0},
  {"F~", w_fproximate, 0}, {"FSINCOS", w_fsincos, 0},
  {"FATAN2", w_fatan2, 0}, {"F**", w_fpow, 0},
};

int vm_install_float(forth_vm *vm)
{
  int r = vm_install_table(vm, float_words, sizeof float_words / sizeof float_words[0]);
  for (size_t i = 0; !r && i < sizeof unary / sizeof unary[0]; i++)
    r = vm_define_host(vm, unary[i].name, w_unary, (void *)unary[i].fn, 0);
  return r;
}
