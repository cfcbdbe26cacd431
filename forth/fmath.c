/*
 * fmath.c: double-precision elementary functions for the Floating-Point
 * word set, written here because the kernel is freestanding (no libm).
 * Arguments are reduced to a small interval and series/polynomials are
 * summed; results are within a few units in the last place over the
 * ranges programs use (huge trigonometric arguments lose accuracy).
 *
 * Interface (forth_int.h):
 *   fm_sqrt fm_exp fm_expm1 fm_log fm_log1p fm_sin fm_cos fm_tan fm_atan
 *   fm_atan2 fm_asin fm_acos fm_pow fm_floor fm_trunc fm_round
 *   fm_sinh fm_cosh fm_tanh fm_asinh fm_acosh fm_atanh fm_ldexp
 */
#include "forth_int.h"

#define PI 3.14159265358979323846
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define INV_LN2 1.44269504088896338700e+00

static uint64_t bits(double x)
{
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

static double from_bits(uint64_t b)
{
  double x;
  memcpy(&x, &b, sizeof x);
  return x;
}

static int is_nan(double x) { return x != x; }
static int is_inf(double x) { return x == x && x - x != 0; }

/* Taylor coefficients, summed by Horner's rule from the small end. */
static const double SIN_C[] = {-0.16666666666666666, 0.008333333333333333, -0.0001984126984126984, 2.7557319223985893e-06, -2.505210838544172e-08, 1.6059043836821613e-10, -7.647163731819816e-13, 2.8114572543455206e-15, -8.22063524662433e-18, 1.9572941063391263e-20, -3.8681701706306835e-23};
static const double COS_C[] = {-0.5, 0.041666666666666664, -0.001388888888888889, 2.48015873015873e-05, -2.755731922398589e-07, 2.08767569878681e-09, -1.1470745597729725e-11, 4.779477332387385e-14, -1.5619206968586225e-16, 4.110317623312165e-19, -8.896791392450574e-22};
static const double EXP_C[] = {0.5, 0.16666666666666666, 0.041666666666666664, 0.008333333333333333, 0.001388888888888889, 0.0001984126984126984, 2.48015873015873e-05, 2.7557319223985893e-06, 2.755731922398589e-07, 2.505210838544172e-08, 2.08767569878681e-09, 1.6059043836821613e-10, 1.1470745597729725e-11, 7.647163731819816e-13, 4.779477332387385e-14, 2.8114572543455206e-15}; /* 1/2! .. 1/17! */

static double horner(const double *c, int n, double x)
{
  double p = c[n - 1];
  for (int i = n - 2; i >= 0; i--)
    p = p * x + c[i];
  return p;
}

double fm_ldexp(double x, int e)
{
  while (e > 1000) { x *= 0x1p1000; e -= 1000; }
  while (e < -1000) { x *= 0x1p-1000; e += 1000; }
  if (e > 0)
    return x * from_bits((uint64_t)(1023 + e) << 52);
  if (e < -1022) /* 2^e is subnormal: two steps */
    return x * 0x1p-1022 * from_bits((uint64_t)(1023 + e + 1022) << 52);
  return x * from_bits((uint64_t)(1023 + e) << 52);
}

double fm_sqrt(double x)
{
#if defined(__x86_64__)
  __asm__("sqrtsd %1, %0" : "=x"(x) : "x"(x));
  return x;
#elif defined(__aarch64__)
  __asm__("fsqrt %d0, %d1" : "=w"(x) : "w"(x));
  return x;
#else
  if (!(x > 0) || is_inf(x))
    return x == 0 || is_inf(x) ? x : (x - x) / (x - x);
  double y = from_bits((bits(x) >> 1) + ((uint64_t)1023 << 51));
  for (int i = 0; i < 6; i++)
    y = 0.5 * (y + x / y);
  return y;
#endif
}

double fm_trunc(double x)
{
  uint64_t b = bits(x);
  int e = (int)((b >> 52) & 0x7ff) - 1023;
  if (e >= 52)
    return x;
  if (e < 0)
    return from_bits(b & ((uint64_t)1 << 63));
  return from_bits(b & ~(((uint64_t)1 << (52 - e)) - 1));
}

double fm_floor(double x)
{
  double t = fm_trunc(x);
  return t > x ? t - 1 : t;
}

/* Round to nearest, ties to even. */
double fm_round(double x)
{
  if (!(x < 0x1p52 && x > -0x1p52))
    return x;
  double a = x < 0 ? -x : x;
  double r = (a + 0x1p52) - 0x1p52;
  r = x < 0 ? -r : r;
  return r == 0 ? (x < 0 ? -0.0 : 0.0) : r;
}

/* e^x = 2^k e^r, |r| <= ln2/2 */
double fm_exp(double x)
{
  if (is_nan(x))
    return x;
  if (x > 709.8)
    return 0x1p1023 * 2.0;
  if (x < -745.2)
    return 0;
  double k = fm_round(x * INV_LN2);
  double r = (x - k * LN2_HI) - k * LN2_LO;
  return fm_ldexp(1 + r + r * r * horner(EXP_C, 16, r), (int)k);
}

double fm_expm1(double x)
{
  if (x > -0.5 && x < 0.5) {
    double s = 0, t = 1;
    for (int i = 1; i < 22; i++) {
      t *= x / i;
      s += t;
    }
    return s;
  }
  return fm_exp(x) - 1;
}

/* log x = k ln2 + 2 atanh((m-1)/(m+1)), m in [sqrt(1/2), sqrt(2)) */
double fm_log(double x)
{
  if (is_nan(x) || x < 0)
    return (x - x) / (x - x);
  if (x == 0)
    return -1 / (x * x);
  if (is_inf(x))
    return x;
  int k = 0;
  if (x < 0x1p-1022) {
    x *= 0x1p54;
    k = -54;
  }
  uint64_t b = bits(x);
  k += (int)((b >> 52) & 0x7ff) - 1023;
  double m = from_bits((b & (((uint64_t)1 << 52) - 1)) | ((uint64_t)1023 << 52));
  if (m > 1.41421356237309504880) {
    m *= 0.5;
    k++;
  }
  double s = (m - 1) / (m + 1), s2 = s * s, sum = 0, p = s;
  for (int i = 1; i < 40; i += 2) {
    sum += p / i;
    p *= s2;
  }
  return k * LN2_HI + (2 * sum + k * LN2_LO);
}

double fm_log1p(double x)
{
  double u = 1 + x;
  if (u == 1)
    return x;
  /* log(u) corrected for the rounding of 1 + x */
  return fm_log(u) * (x / (u - 1));
}

/* x = q pi/2 + r, |r| <= pi/4 */
static double reduce(double x, int *q)
{
  double k = fm_round(x * (2 / PI));
  *q = (int)((long long)k & 3);
  return ((x - k * 1.57079632673412561417e+00) - k * 6.07710050650619224932e-11)
         - k * 2.02226624879595063154e-21;
}

static double sin_r(double r)
{
  double r2 = r * r;
  return r + r * r2 * horner(SIN_C, 11, r2);
}

static double cos_r(double r)
{
  double r2 = r * r;
  return 1 + r2 * horner(COS_C, 11, r2);
}

double fm_sin(double x)
{
  if (is_nan(x) || is_inf(x))
    return (x - x) / (x - x);
  int q;
  double r = reduce(x, &q);
  switch (q) {
  case 0: return sin_r(r);
  case 1: return cos_r(r);
  case 2: return -sin_r(r);
  default: return -cos_r(r);
  }
}

double fm_cos(double x)
{
  if (is_nan(x) || is_inf(x))
    return (x - x) / (x - x);
  int q;
  double r = reduce(x, &q);
  switch (q) {
  case 0: return cos_r(r);
  case 1: return -sin_r(r);
  case 2: return -cos_r(r);
  default: return sin_r(r);
  }
}

double fm_tan(double x)
{
  if (is_nan(x) || is_inf(x))
    return (x - x) / (x - x);
  int q;
  double r = reduce(x, &q);
  return q & 1 ? -cos_r(r) / sin_r(r) : sin_r(r) / cos_r(r);
}

double fm_atan(double x)
{
  if (is_nan(x))
    return x;
  int neg = x < 0, inv = 0;
  double off = 0;
  if (neg)
    x = -x;
  if (x > 1) {
    x = 1 / x;
    inv = 1;
  }
  if (x > 0.26794919243112270647) { /* tan(pi/12): shift by pi/6 */
    x = (x * 1.73205080756887729353 - 1) / (1.73205080756887729353 + x);
    off = PI / 6;
  }
  double x2 = x * x, t = x, s = 0;
  for (int i = 1; i < 60; i += 2) {
    s += t / i;
    t *= -x2;
  }
  s += off;
  if (inv)
    s = PI / 2 - s;
  return neg ? -s : s;
}

double fm_atan2(double y, double x)
{
  if (is_nan(x) || is_nan(y))
    return x + y;
  if (x == 0 && y == 0)
    return (bits(x) >> 63) ? ((bits(y) >> 63) ? -PI : PI) : y;
  if (x == 0)
    return y > 0 ? PI / 2 : -PI / 2;
  if (is_inf(x) && is_inf(y))
    return (x > 0 ? PI / 4 : 3 * PI / 4) * (y > 0 ? 1 : -1);
  double a = fm_atan(y / x);
  if (x > 0)
    return a;
  return (bits(y) >> 63) ? a - PI : a + PI;
}

double fm_asin(double x)
{
  if (!(x >= -1 && x <= 1))
    return (x - x) / (x - x);
  return fm_atan2(x, fm_sqrt((1 - x) * (1 + x)));
}

double fm_acos(double x)
{
  if (!(x >= -1 && x <= 1))
    return (x - x) / (x - x);
  return fm_atan2(fm_sqrt((1 - x) * (1 + x)), x);
}

static int is_int(double y) { return fm_trunc(y) == y; }
static int is_odd(double y) { return is_int(y) && y < 0x1p53 && y > -0x1p53 && fm_trunc(y * 0.5) * 2 != y; }

double fm_pow(double x, double y)
{
  if (y == 0)
    return 1;
  if (is_nan(x) || is_nan(y))
    return x + y;
  if (x == 0)
    return y < 0 ? (is_odd(y) ? 1 / x : 1 / (x * x)) : (is_odd(y) ? x : 0.0);
  if (x < 0) {
    if (!is_int(y))
      return (x - x) / (x - x);
    double r = fm_pow(-x, y);
    return is_odd(y) ? -r : r;
  }
  if (is_int(y) && y > -1024 && y < 1024) { /* exact for small powers */
    double r = 1, b = x;
    long long n = (long long)(y < 0 ? -y : y);
    while (n) {
      if (n & 1)
        r *= b;
      b *= b;
      n >>= 1;
    }
    return y < 0 ? 1 / r : r;
  }
  return fm_exp(y * fm_log(x));
}

double fm_sinh(double x)
{
  if (x > -0.5 && x < 0.5) {
    double e = fm_expm1(x);
    return 0.5 * (e + e / (e + 1));
  }
  double e = fm_exp(x);
  return 0.5 * (e - 1 / e);
}

double fm_cosh(double x)
{
  double e = fm_exp(x < 0 ? -x : x);
  return 0.5 * (e + 1 / e);
}

double fm_tanh(double x)
{
  if (x > 20)
    return 1;
  if (x < -20)
    return -1;
  double e = fm_expm1(2 * x);
  return e / (e + 2);
}

double fm_asinh(double x)
{
  double a = x < 0 ? -x : x, r;
  if (a > 0x1p28)
    r = fm_log(a) + LN2_HI + LN2_LO;
  else
    r = fm_log1p(a + a * a / (1 + fm_sqrt(1 + a * a)));
  return x < 0 ? -r : r;
}

double fm_acosh(double x)
{
  if (x < 1)
    return (x - x) / (x - x);
  if (x > 0x1p28)
    return fm_log(x) + LN2_HI + LN2_LO;
  return fm_log1p((x - 1) + fm_sqrt((x - 1) * (x + 1)));
}

double fm_atanh(double x)
{
  if (!(x >= -1 && x <= 1))
    return (x - x) / (x - x);
  return 0.5 * fm_log1p(2 * x / (1 - x));
}
