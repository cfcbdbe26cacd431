/*
 * sample_test.c: each sampling step on small hand-made distributions
 * (which tokens can come out), seeded reproducibility, and that draws
 * follow the softmax (frequencies of a fixed seed's draws).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include <mneme/err.h>
#include <mneme/sample.h>

#define NV 6

static struct sample_cand cand[NV];
static int32_t recent[8];

/* logits of probabilities 0.5 0.3 0.15 0.05 0 0 */
static float logits[NV];

static void
init_logits(void)
{
  const float p[NV] = {0.5f, 0.3f, 0.15f, 0.05f, 0, 0};
  for (int i = 0; i < NV; i++)
    logits[i] = p[i] > 0 ? logf(p[i]) : -1e30f;
}

static struct sample_params
params(float temp, int32_t k, float top_p, float min_p, uint64_t seed)
{
  struct sample_params p;
  sample_defaults(&p);
  p.temp = temp, p.top_k = k, p.top_p = top_p, p.min_p = min_p, p.seed = seed;
  return p;
}

/* Draws n tokens; counts[i] how often token i came out. */
static void
draw(const struct sample_params *p, int n, int *counts)
{
  struct sampler s;
  assert_int_equal(sample_init(&s, p, NV, cand, recent), 0);
  memset(counts, 0, NV * sizeof *counts);
  for (int i = 0; i < n; i++) {
    int32_t id = sample_next(&s, logits);
    assert_true(id >= 0 && id < NV);
    counts[id]++;
  }
}

static void
test_greedy(void **state)
{
  (void)state;
  const float x[] = {1, 3, 3, -2, NAN};
  assert_int_equal(sample_argmax(x, 5), 1); /* tie: lowest id */
  const float y[] = {NAN, -1, 0};
  assert_int_equal(sample_argmax(y, 3), 2);
  init_logits();
  int c[NV];
  struct sample_params p = params(0, 0, 1, 0, 1);
  draw(&p, 50, c);
  assert_int_equal(c[0], 50);
  p = params(1.0f, 1, 1, 0, 7); /* top-k 1 is greedy too */
  draw(&p, 50, c);
  assert_int_equal(c[0], 50);
}

static void
test_filters(void **state)
{
  (void)state;
  init_logits();
  int c[NV];
  struct sample_params p = params(1.0f, 2, 1, 0, 3); /* top-k 2 */
  draw(&p, 2000, c);
  assert_true(c[0] > 0 && c[1] > 0);
  assert_int_equal(c[0] + c[1], 2000);
  p = params(1.0f, 0, 0.75f, 0, 3); /* top-p: 0.5 + 0.3 reaches 0.75 */
  draw(&p, 2000, c);
  assert_true(c[0] > 0 && c[1] > 0);
  assert_int_equal(c[0] + c[1], 2000);
  p = params(1.0f, 0, 0.85f, 0, 3); /* needs the third */
  draw(&p, 4000, c);
  assert_true(c[2] > 0);
  assert_int_equal(c[0] + c[1] + c[2], 4000);
  p = params(1.0f, 0, 1, 0.2f, 3); /* min-p: p >= 0.1 */
  draw(&p, 4000, c);
  assert_true(c[2] > 0);
  assert_int_equal(c[0] + c[1] + c[2], 4000);
  p = params(1.0f, 0, 1, 0, 3); /* nothing: all four can come */
  draw(&p, 4000, c);
  assert_true(c[3] > 0);
  assert_int_equal(c[4] + c[5], 0);
}

/* Without filters, draws follow the softmax: with 20000 draws the
 * standard error of a frequency is below 0.004, so 0.02 is 5 sigma. */
static void
test_distribution(void **state)
{
  (void)state;
  init_logits();
  int c[NV];
  struct sample_params p = params(1.0f, 0, 1, 0, 42);
  draw(&p, 20000, c);
  const double want[] = {0.5, 0.3, 0.15, 0.05};
  for (int i = 0; i < 4; i++)
    assert_true(fabs(c[i] / 20000.0 - want[i]) < 0.02);
  /* Temperature 0.5 squares the ratios: 0.25 : 0.09 : 0.0225 : 0.0025. */
  p.temp = 0.5f;
  draw(&p, 20000, c);
  assert_true(fabs(c[0] / 20000.0 - 0.25 / 0.365) < 0.02);
  assert_true(fabs(c[1] / 20000.0 - 0.09 / 0.365) < 0.02);
}

static void
test_seeded(void **state)
{
  (void)state;
  init_logits();
  struct sample_params p = params(1.0f, 0, 1, 0, 1234);
  struct sampler a, b;
  int32_t sa[64], sb[64];
  assert_int_equal(sample_init(&a, &p, NV, cand, recent), 0);
  for (int i = 0; i < 64; i++)
    sa[i] = sample_next(&a, logits);
  assert_int_equal(sample_init(&b, &p, NV, cand, recent), 0);
  for (int i = 0; i < 64; i++)
    sb[i] = sample_next(&b, logits);
  assert_memory_equal(sa, sb, sizeof sa);
  p.seed = 1235;
  assert_int_equal(sample_init(&b, &p, NV, cand, recent), 0);
  int same = 0;
  for (int i = 0; i < 64; i++)
    same += sample_next(&b, logits) == sa[i];
  assert_true(same < 64);
  uint64_t st = 1;
  for (int i = 0; i < 1000; i++) {
    float u = sample_uniform(&st);
    assert_true(u >= 0 && u < 1);
  }
}

static void
test_repeat_penalty(void **state)
{
  (void)state;
  float x[NV] = {2.0f, 1.9f, -1.0f, -1.2f, 0, 0};
  struct sample_params p = params(0, 0, 1, 0, 1);
  p.repeat_penalty = 1.5f;
  p.repeat_last_n = 2;
  struct sampler s;
  assert_int_equal(sample_init(&s, &p, NV, cand, recent), 0);
  assert_int_equal(sample_next(&s, x), 0);
  sample_accept(&s, 0); /* 2.0 / 1.5 = 1.33 < 1.9 */
  assert_int_equal(sample_next(&s, x), 1);
  sample_accept(&s, 1);
  sample_accept(&s, 1); /* 0 fell out of the last 2 */
  assert_int_equal(sample_next(&s, x), 0);
  /* Negative logits are multiplied: -1.0 * 1.5 < -1.2. */
  float y[NV] = {-1.0f, -1.2f, -5, -5, -5, -5};
  assert_int_equal(sample_init(&s, &p, NV, cand, recent), 0);
  sample_accept(&s, 0);
  assert_int_equal(sample_next(&s, y), 1);
  sample_accept(&s, 99); /* out-of-range ids are ignored */
  sample_accept(&s, -3);
  assert_int_equal(sample_next(&s, y), 0);
}

static void
test_bad_params(void **state)
{
  (void)state;
  struct sampler s;
  struct sample_params p = params(1, 0, 1, 0, 1);
  assert_int_equal(sample_init(&s, &p, 0, cand, recent), MN_EINVAL);
  assert_int_equal(sample_init(&s, &p, NV, NULL, recent), MN_EINVAL);
  assert_int_equal(sample_init(&s, &p, NV, cand, NULL), MN_EINVAL);
  p.repeat_last_n = 0;
  assert_int_equal(sample_init(&s, &p, NV, cand, NULL), 0);
  p.temp = NAN;
  assert_int_equal(sample_init(&s, &p, NV, cand, NULL), MN_EINVAL);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_greedy),
    cmocka_unit_test(test_filters),
    cmocka_unit_test(test_distribution),
    cmocka_unit_test(test_seeded),
    cmocka_unit_test(test_repeat_penalty),
    cmocka_unit_test(test_bad_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
