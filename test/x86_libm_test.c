/*
 * x86_libm_test.c: the freestanding float math of the x86_64 platform
 * (platform/uefi/libm.c) against the host's double-precision libm:
 * results within 2 ulp of the correctly rounded value over wide random
 * ranges, and C99 Annex F special values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* The functions under test (this binary's, not libm's). */
float expf(float x);
float logf(float x);
float powf(float x, float y);
float sqrtf(float x);
float sinf(float x);
float cosf(float x);
float fabsf(float x);
/* The reference: the host's double functions. */
double exp(double);
double log(double);
double pow(double, double);
double sqrt(double);
double sin(double);
double cos(double);

static uint32_t fbits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

/* Distance in ulps between two finite floats of the same sign (or zero). */
static long ulps(float a, float b) {
  int32_t ia = (int32_t)fbits(a), ib = (int32_t)fbits(b);
  if (ia < 0) ia = (int32_t)0x80000000 - ia;
  if (ib < 0) ib = (int32_t)0x80000000 - ib;
  long d = (long)ia - (long)ib;
  return d < 0 ? -d : d;
}

static float rnd(float lo, float hi) {
  return lo + (hi - lo) * (float)((double)rand() / RAND_MAX);
}

#define CHECK1(fn, ref, lo, hi, maxulp)                                   \
  do {                                                                    \
    for (int i = 0; i < 200000; i++) {                                    \
      float x = rnd(lo, hi);                                              \
      float got = fn(x), want = (float)ref((double)x);                    \
      if (ulps(got, want) > (maxulp) && fabsf(got - want) > 1e-30f)       \
        fail_msg("%s(%.9g) = %.9g, want %.9g", #fn, x, got, want);       \
    }                                                                     \
  } while (0)

static void test_exp_log(void **state) {
  (void)state;
  srand(11);
  CHECK1(expf, exp, -100.0f, 88.0f, 1);
  CHECK1(expf, exp, -1.0f, 1.0f, 1);
  CHECK1(logf, log, 1e-30f, 1e30f, 1);
  CHECK1(logf, log, 0.5f, 2.0f, 1);
  assert_true(expf(100.0f) > 3e38f); /* inf */
  assert_true(expf(-200.0f) == 0.0f);
  assert_true(expf(0.0f) == 1.0f);
  assert_true(logf(1.0f) == 0.0f);
  assert_true(logf(0.0f) < -3e38f);
  assert_true(logf(-1.0f) != logf(-1.0f)); /* NaN */
  assert_true(ulps(logf(1e-40f), (float)log(1e-40)) <= 1); /* subnormal */
}

static void test_sqrt_fabs(void **state) {
  (void)state;
  srand(12);
  CHECK1(sqrtf, sqrt, 0.0f, 1e30f, 0);
  assert_true(fabsf(-3.5f) == 3.5f);
  assert_true(fbits(fabsf(-0.0f)) == 0);
}

static void test_sin_cos(void **state) {
  (void)state;
  srand(13);
  CHECK1(sinf, sin, -10.0f, 10.0f, 1);
  CHECK1(cosf, cos, -10.0f, 10.0f, 1);
  CHECK1(sinf, sin, -8192.0f, 8192.0f, 1); /* positions x frequencies */
  CHECK1(cosf, cos, -8192.0f, 8192.0f, 1);
  assert_true(sinf(0.0f) == 0.0f && cosf(0.0f) == 1.0f);
  float inf = expf(1000.0f);
  assert_true(sinf(inf) != sinf(inf));
}

static void test_pow(void **state) {
  (void)state;
  srand(14);
  for (int i = 0; i < 200000; i++) {
    float x = rnd(1e-3f, 1e4f), y = rnd(-8.0f, 8.0f);
    float got = powf(x, y), want = (float)pow(x, y);
    if (ulps(got, want) > 2 && fabsf(got - want) > 1e-30f)
      fail_msg("powf(%.9g, %.9g) = %.9g, want %.9g", x, y, got, want);
  }
  /* RoPE frequencies: base^(-2i/d). */
  for (int i = 0; i < 64; i++) {
    float got = powf(10000.0f, -2.0f * i / 128), want = (float)pow(10000.0, -2.0 * i / 128);
    assert_true(ulps(got, want) <= 1);
  }
  assert_true(powf(2.0f, 10.0f) == 1024.0f);
  assert_true(powf(-2.0f, 3.0f) == -8.0f);
  assert_true(powf(-2.0f, 2.0f) == 4.0f);
  assert_true(powf(-2.0f, 0.5f) != powf(-2.0f, 0.5f)); /* NaN */
  assert_true(powf(0.0f, -1.0f) > 3e38f);
  assert_true(powf(0.0f, 2.0f) == 0.0f);
  assert_true(powf(5.0f, 0.0f) == 1.0f);
  assert_true(powf(1.0f, expf(1000.0f)) == 1.0f);
  assert_true(powf(0.5f, expf(1000.0f)) == 0.0f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exp_log),
      cmocka_unit_test(test_sqrt_fabs),
      cmocka_unit_test(test_sin_cos),
      cmocka_unit_test(test_pow),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
