/*
 * timer_test.c: the timer wheel on its own (no tasks): ordering,
 * cancellation, re-arming, cascading from far levels, next deadline.
 */
#include <stdlib.h>
#include "ktest.h"
#include "mneme/timer.h"

#define N 400
static struct timer timers[N];
static int fired_order[N], nfired;
static uint64_t fired_at[N], now_at_fire;

static void
on_fire(struct timer *t)
{
  int i = (int)(t - timers);
  fired_order[nfired++] = i;
  fired_at[i] = now_at_fire;
}

static void
advance(uint64_t now)
{
  now_at_fire = now;
  timer_advance(now);
}

static void
test_fires_in_deadline_order_never_early(void **state)
{
  (void)state;
  const uint64_t base = 1000000000ull;
  timer_wheel_init(base);
  srand(7);
  uint64_t dl[N];
  for (int i = 0; i < N; i++) {
    /* From sub-tick to a few seconds: spans level 0 and level 1..2. */
    dl[i] = base + (uint64_t)(rand() % 4000) * 1000000ull + (uint64_t)(rand() % 1000000);
    timer_init(&timers[i], on_fire);
    timer_arm(&timers[i], dl[i]);
  }
  nfired = 0;
  assert_int_equal(timer_count(), N);
  for (uint64_t t = base; t <= base + 4100000000ull; t += 3700000ull) {
    uint64_t next = timer_next_deadline();
    advance(t);
    /* Nothing fires before the predicted next deadline. */
    if (t < next)
      for (int k = 0; k < nfired; k++)
        assert_true(fired_at[fired_order[k]] < t || dl[fired_order[k]] >= next);
  }
  assert_int_equal(nfired, N);
  assert_int_equal(timer_count(), 0);
  for (int k = 0; k < N; k++) {
    int i = fired_order[k];
    assert_true(fired_at[i] >= dl[i]);                 /* never early */
    assert_true(fired_at[i] < dl[i] + 3700000ull);     /* at the first chance */
    if (k)                                             /* ordered across steps */
      assert_true(fired_at[fired_order[k - 1]] <= fired_at[i]);
  }
}

static void
test_same_tick_fires_by_exact_deadline(void **state)
{
  (void)state;
  timer_wheel_init(0);
  nfired = 0;
  /* All within one tick, armed in reverse order. */
  for (int i = 0; i < 5; i++) {
    timer_init(&timers[i], on_fire);
    timer_arm(&timers[i], 5000000ull + (uint64_t)(4 - i) * 1000);
  }
  advance(5002000ull); /* only deadlines <= now: timers 4, 3, 2 */
  assert_int_equal(nfired, 3);
  assert_int_equal(fired_order[0], 4);
  assert_int_equal(fired_order[1], 3);
  assert_int_equal(fired_order[2], 2);
  assert_int_equal(timer_next_deadline(), 5003000ull);
  advance(6000000ull);
  assert_int_equal(nfired, 5);
  assert_int_equal(fired_order[3], 1);
  assert_int_equal(fired_order[4], 0);
}

static void
test_cancel_and_rearm(void **state)
{
  (void)state;
  timer_wheel_init(0);
  nfired = 0;
  for (int i = 0; i < 3; i++)
    timer_init(&timers[i], on_fire);
  timer_arm(&timers[0], 10000000ull);
  timer_arm(&timers[1], 20000000ull);
  timer_arm(&timers[2], 30000000ull);
  timer_cancel(&timers[1]);
  timer_cancel(&timers[1]); /* twice is harmless */
  timer_arm(&timers[0], 40000000ull); /* re-arm later */
  assert_int_equal(timer_count(), 2);
  assert_int_equal(timer_next_deadline(), 30000000ull);
  advance(35000000ull);
  assert_int_equal(nfired, 1);
  assert_int_equal(fired_order[0], 2);
  advance(50000000ull);
  assert_int_equal(nfired, 2);
  assert_int_equal(fired_order[1], 0);
  assert_int_equal(timer_next_deadline(), UINT64_MAX);
}

static void
test_far_future_cascades(void **state)
{
  (void)state;
  const uint64_t day = 86400ull * 1000000000ull;
  timer_wheel_init(0);
  nfired = 0;
  timer_init(&timers[0], on_fire);
  timer_init(&timers[1], on_fire);
  timer_arm(&timers[0], 3 * day + 12345);
  timer_arm(&timers[1], 400 * day); /* beyond the wheel: waits at the top */
  uint64_t next = timer_next_deadline();
  assert_true(next <= 3 * day + 12345);
  /* Advance in big leaps, as an idle kernel would, to just before. */
  for (uint64_t t = 0; t < 3 * day; t += day / 7)
    advance(t);
  assert_int_equal(nfired, 0);
  advance(3 * day + 12344);
  assert_int_equal(nfired, 0);
  advance(3 * day + 12345);
  assert_int_equal(nfired, 1);
  assert_int_equal(fired_order[0], 0);
  for (uint64_t t = 3 * day; t < 400 * day; t += 9 * day)
    advance(t);
  assert_int_equal(nfired, 1);
  advance(400 * day);
  assert_int_equal(nfired, 2);
}

static void
test_late_arm_in_past_fires_at_next_advance(void **state)
{
  (void)state;
  timer_wheel_init(100000000ull);
  nfired = 0;
  timer_init(&timers[0], on_fire);
  timer_arm(&timers[0], 5); /* already past */
  assert_true(timer_next_deadline() <= 100000000ull);
  advance(100000000ull);
  assert_int_equal(nfired, 1);
}

/*
 * timer_next_deadline() must never be later than the earliest deadline:
 * an idle kernel sleeps until it. A level-1 timer armed earlier can be due
 * before a level-0 timer armed later.
 */
static void
test_next_deadline_considers_every_level(void **state)
{
  (void)state;
  const uint64_t tick = 1ull << 20;
  timer_wheel_init(0);
  nfired = 0;
  for (int i = 0; i < 3; i++)
    timer_init(&timers[i], on_fire);
  timer_arm(&timers[0], 300 * tick);           /* delta 300: level 1 */
  advance(200 * tick);
  timer_arm(&timers[1], 400 * tick);           /* delta 200: level 0 */
  assert_true(timer_next_deadline() <= 300 * tick);
  /* An idle kernel sleeps until the predicted deadline, then advances. */
  while (nfired == 0)
    advance(timer_next_deadline());
  assert_int_equal(fired_order[0], 0);
  assert_true(fired_at[0] == 300 * tick);
}

/* A level-2 slot can cascade before the first level-1 slot does. */
static void
test_next_deadline_level2_before_level1(void **state)
{
  (void)state;
  const uint64_t tick = 1ull << 20;
  timer_wheel_init(0);
  nfired = 0;
  for (int i = 0; i < 2; i++)
    timer_init(&timers[i], on_fire);
  /* From cur 0: 16390 is 2^14 + 6 ticks away: level 2, cascading at 16384. */
  timer_arm(&timers[0], 16390 * tick);
  advance(6000 * tick);
  /* From cur 6000: 16000 is 10000 ticks away: level 1, cascading at 15872. */
  timer_arm(&timers[1], 16000 * tick);
  advance(15000 * tick);
  /* Now cur 15000: level 1 slot cascades at 15872, level 2 at 16384. */
  uint64_t next = timer_next_deadline();
  assert_true(next <= 16000 * tick);
  /* Move timer 1 later: to level 1 slot cascading at 16640 (delta 1700). */
  timer_arm(&timers[1], 16700 * tick);
  next = timer_next_deadline();
  assert_true(next <= 16390 * tick);
  while (nfired == 0)
    advance(timer_next_deadline());
  assert_int_equal(fired_order[0], 0);
  assert_true(fired_at[0] == 16390 * tick);
}

int
main(void)
{
  ktest_boot(1u << 20);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fires_in_deadline_order_never_early),
    cmocka_unit_test(test_same_tick_fires_by_exact_deadline),
    cmocka_unit_test(test_cancel_and_rearm),
    cmocka_unit_test(test_far_future_cascades),
    cmocka_unit_test(test_late_arm_in_past_fires_at_next_advance),
    cmocka_unit_test(test_next_deadline_considers_every_level),
    cmocka_unit_test(test_next_deadline_level2_before_level1),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
