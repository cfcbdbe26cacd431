/*
 * libm.c: the single-precision math functions the inference library needs
 * on the freestanding x86_64 build (infer/libc.h): expf, logf, powf,
 * sqrtf, sinf, cosf, fabsf. Each computes in double precision (range
 * reduction, then a polynomial or series that is exact far beyond float
 * precision) and rounds once, so results are within an ulp or so of the
 * correctly rounded value. Special values follow C99 Annex F (NaN, +-inf,
 * overflow to inf, underflow to 0).
 *
 * Interface: expf, logf, powf, sqrtf, sinf, cosf, fabsf.
 */
#include <math.h>
#include <stdint.h>

static const double LN2 = 0.69314718055994530942;
static const double INV_LN2 = 1.44269504088896340736;

static double bits_to_double(uint64_t b) {
  union { uint64_t u; double d; } v = {b};
  return v.d;
}
static uint64_t double_to_bits(double d) {
  union { double d; uint64_t u; } v = {d};
  return v.u;
}

/* floor for |x| < 2^62 (no SSE4.1 round instruction assumed). */
static double floor_d(double x) {
  double t = (double)(int64_t)x;
  return t > x ? t - 1.0 : t;
}

/* e^x for |x| <= 745 (double); callers clamp. */
static double exp_d(double x) {
  double n = floor_d(x * INV_LN2 + 0.5);
  double r = x - n * 0.693147180369123816490 - n * 1.90821492927058770002e-10;
  double t = 1.0, sum = 1.0; /* Taylor on |r| <= 0.35: 13 terms, < 1e-17 */
  for (int k = 1; k <= 13; k++) {
    t *= r / k;
    sum += t;
  }
  int e = (int)n;
  /* Scale by 2^e in two steps so that subnormal results come out right. */
  int e1 = e / 2, e2 = e - e1;
  return sum * bits_to_double((uint64_t)(1023 + e1) << 52) *
         bits_to_double((uint64_t)(1023 + e2) << 52);
}

/* ln(x) for finite x > 0. */
static double log_d(double x) {
  uint64_t b = double_to_bits(x);
  int e = (int)((b >> 52) & 0x7ff);
  if (e == 0) { /* subnormal: normalize */
    x *= 18014398509481984.0; /* 2^54 */
    b = double_to_bits(x);
    e = (int)((b >> 52) & 0x7ff) - 54;
  }
  e -= 1023;
  double m = bits_to_double((b & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
  if (m > 1.41421356237309504880) {
    m *= 0.5;
    e++;
  }
  /* ln(m) = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.172 */
  double s = (m - 1.0) / (m + 1.0), s2 = s * s, t = s, sum = 0;
  for (int k = 1; k <= 23; k += 2) {
    sum += t / k;
    t *= s2;
  }
  return 2.0 * sum + e * LN2;
}

float fabsf(float x) {
  union { float f; uint32_t u; } v = {x};
  v.u &= 0x7fffffffu;
  return v.f;
}

float sqrtf(float x) {
  float r;
#if defined(__x86_64__)
  __asm__("sqrtss %1, %0" : "=x"(r) : "x"(x));
#elif defined(__aarch64__)
  __asm__("fsqrt %s0, %s1" : "=w"(r) : "w"(x));
#else
  r = __builtin_sqrtf(x);
#endif
  return r;
}

/* 2^(j/32), j = 0..31 (exact to double precision) */
static const double EXP2_32[32] = {
    0x1.0000000000000p+0, 0x1.059b0d3158574p+0, 0x1.0b5586cf9890fp+0, 0x1.11301d0125b51p+0,
    0x1.172b83c7d517bp+0, 0x1.1d4873168b9aap+0, 0x1.2387a6e756238p+0, 0x1.29e9df51fdee1p+0,
    0x1.306fe0a31b715p+0, 0x1.371a7373aa9cbp+0, 0x1.3dea64c123422p+0, 0x1.44e086061892dp+0,
    0x1.4bfdad5362a27p+0, 0x1.5342b569d4f82p+0, 0x1.5ab07dd485429p+0, 0x1.6247eb03a5585p+0,
    0x1.6a09e667f3bcdp+0, 0x1.71f75e8ec5f74p+0, 0x1.7a11473eb0187p+0, 0x1.82589994cce13p+0,
    0x1.8ace5422aa0dbp+0, 0x1.93737b0cdc5e5p+0, 0x1.9c49182a3f090p+0, 0x1.a5503b23e255dp+0,
    0x1.ae89f995ad3adp+0, 0x1.b7f76f2fb5e47p+0, 0x1.c199bdd85529cp+0, 0x1.cb720dcef9069p+0,
    0x1.d5818dcfba487p+0, 0x1.dfc97337b9b5fp+0, 0x1.ea4afa2a490dap+0, 0x1.f50765b6e4540p+0};

/*
 * e^x in float, as x = (32n + j) ln2/32 + r: 2^n in the exponent bits,
 * 2^(j/32) from the table, e^r (|r| <= ln2/64) by the Taylor terms to r^4
 * (relative error < 2e-11, far below float's 6e-8). The rounding of
 * x * 32/ln2 is the 1.5 * 2^52 shift, so no division and no integer
 * conversion of a double: under QEMU's TCG each double operation is a
 * softfloat call, and expf runs thousands of times per token (softmax,
 * SiLU); this is 3x faster there than exp_d's 13 terms.
 */
float expf(float x) {
  if (x != x) return x;
  if (x > 88.7228394f) return INFINITY;
  if (x < -103.972084f) return 0.0f;
  if (x < -87.0f) return (float)exp_d(x); /* subnormal results: exp_d's two-step scaling */
  const double shift = 6755399441055744.0; /* 1.5 * 2^52 */
  double t = (double)x * (32.0 * INV_LN2) + shift;
  double k = t - shift;
  int32_t ki = (int32_t)(uint32_t)double_to_bits(t); /* t = 1.5 * 2^52 + k: k in the low bits */
  double r = (double)x - k * (0.693147180369123816490 / 32) - k * (1.90821492927058770002e-10 / 32);
  double p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24))));
  return (float)(p * EXP2_32[ki & 31] * bits_to_double((uint64_t)(1023 + (ki >> 5)) << 52));
}

float logf(float x) {
  if (x != x) return x;
  if (x < 0) return NAN;
  if (x == 0) return -INFINITY;
  if (__builtin_isinf(x)) return x;
  return (float)log_d(x);
}

static int is_int(float y) {
  return fabsf(y) >= 8388608.0f || (float)(int32_t)y == y; /* 2^23: all integers */
}
static int is_odd_int(float y) {
  return is_int(y) && fabsf(y) < 16777216.0f && ((int64_t)y & 1);
}

float powf(float x, float y) {
  if (y == 0) return 1.0f;
  if (x == 1.0f) return 1.0f;
  if (x != x || y != y) return NAN;
  if (x == 0) {
    if (y < 0) return is_odd_int(y) && __builtin_signbit(x) ? -INFINITY : INFINITY;
    return is_odd_int(y) ? x : 0.0f;
  }
  if (__builtin_isinf(y)) {
    float ax = fabsf(x);
    if (ax == 1.0f) return 1.0f;
    return (ax > 1.0f) == (y > 0) ? INFINITY : 0.0f;
  }
  int neg = 0;
  if (x < 0) {
    if (!is_int(y)) return NAN;
    neg = is_odd_int(y);
    x = -x;
  }
  if (__builtin_isinf(x)) {
    float r = y > 0 ? INFINITY : 0.0f;
    return neg ? -r : r;
  }
  double l = (double)y * log_d(x);
  float r;
  if (l > 88.7228394) r = INFINITY;
  else if (l < -103.972084) r = 0.0f;
  else r = (float)exp_d(l);
  return neg ? -r : r;
}

/* sin and cos of r for |r| <= pi/4 (double, Taylor to r^17). */
static double sin_poly(double r) {
  double r2 = r * r, t = r, sum = r;
  for (int k = 3; k <= 17; k += 2) {
    t *= -r2 / ((k - 1) * k);
    sum += t;
  }
  return sum;
}
static double cos_poly(double r) {
  double r2 = r * r, t = 1.0, sum = 1.0;
  for (int k = 2; k <= 18; k += 2) {
    t *= -r2 / ((k - 1) * k);
    sum += t;
  }
  return sum;
}

/*
 * Reduces x to r in [-pi/4, pi/4] and the quadrant q (x = q pi/2 + r),
 * with pi/2 split in three parts (Cody-Waite): exact enough for the
 * |x| < 2^20 that positional encodings use; beyond it accuracy degrades
 * (and past 2^62 the result is meaningless).
 */
static double reduce(double x, int *q) {
  double n = floor_d(x * 0.63661977236758134308 + 0.5);
  *q = (int)((int64_t)n & 3);
  return ((x - n * 1.57079632673412561417) - n * 6.07710050650619224932e-11) -
         n * 2.02226624879595063154e-21;
}

float sinf(float x) {
  if (x != x || __builtin_isinf(x)) return NAN;
  int q;
  double r = reduce(x, &q);
  double v = q == 0 ? sin_poly(r) : q == 1 ? cos_poly(r) : q == 2 ? -sin_poly(r)
                                                          : -cos_poly(r);
  return (float)v;
}

float cosf(float x) {
  if (x != x || __builtin_isinf(x)) return NAN;
  int q;
  double r = reduce(x, &q);
  double v = q == 0 ? cos_poly(r) : q == 1 ? -sin_poly(r) : q == 2 ? -cos_poly(r)
                                                           : sin_poly(r);
  return (float)v;
}
