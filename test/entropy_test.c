/*
 * entropy_test.c: the entropy service: a request before seeding waits
 * (and times out when asked to), 256 credited bits release it, the
 * service's task seeds from its sources and reseeds, outputs differ.
 */
#include <string.h>
#include "ktest.h"
#include "mneme/entropy.h"
#include "mneme/err.h"
#include "mneme/task.h"

static int waiter_rc = 99, waiter_done;
static uint8_t waiter_buf[48];

static int
waiter(void *arg)
{
  (void)arg;
  waiter_rc = entropy_get(waiter_buf, sizeof waiter_buf, MN_FOREVER);
  waiter_done = 1;
  return 0;
}

static void
test_waits_until_seeded(void **state)
{
  (void)state;
  entropy_reset_for_test();
  uint8_t b[16];
  memset(b, 0, sizeof b);
  /* Unseeded: try fails at once, a bounded wait times out, nothing written. */
  assert_int_equal(entropy_try_get(b, sizeof b), MN_EAGAIN);
  uint64_t t0 = ktime_now();
  assert_int_equal(entropy_get(b, sizeof b, MN_MSEC(30)), MN_ETIMEDOUT);
  assert_true(ktime_now() - t0 >= MN_MSEC(30));
  static const uint8_t zero[16];
  assert_memory_equal(b, zero, sizeof b);

  struct task *t;
  waiter_done = 0;
  assert_int_equal(task_spawn("waiter", waiter, 0, 0, &t), 0);
  task_yield();
  task_yield();
  assert_int_equal(waiter_done, 0);
  /* Bytes vouched for less than 256 bits: still waiting. */
  uint8_t seed[64];
  for (int i = 0; i < 64; i++)
    seed[i] = (uint8_t)(i * 37 + 1);
  entropy_add(seed, 16, 128);
  entropy_add(seed + 16, 16, 0);
  task_yield();
  task_yield();
  assert_int_equal(waiter_done, 0);
  struct entropy_stats st;
  entropy_stats(&st);
  assert_int_equal(st.seeded, 0);
  assert_int_equal(st.pool_bits, 128);
  /* A claim larger than the bytes can hold counts only 8 bits a byte. */
  entropy_add(seed + 32, 8, 1000);
  entropy_stats(&st);
  assert_int_equal(st.seeded, 0);
  assert_int_equal(st.pool_bits, 192);
  entropy_add(seed + 40, 8, 64);
  assert_int_equal(task_join(t, MN_SEC(5), NULL), 0);
  assert_int_equal(waiter_rc, 0);
  static const uint8_t zero48[48];
  assert_memory_not_equal(waiter_buf, zero48, sizeof waiter_buf);
  entropy_stats(&st);
  assert_int_equal(st.seeded, 1);
  assert_int_equal(st.reseeds, 1);
  assert_string_equal(st.sources, "boot");
  assert_int_equal(entropy_get(b, sizeof b, 0), 0);
  assert_memory_not_equal(b, waiter_buf, sizeof b);
}

/* A deterministic source: the service's task takes 64 bits a round from
 * it, so seeding takes four rounds; then requests never repeat. */
static unsigned rounds;
static size_t
counting_source(void *buf, size_t len, unsigned *bits)
{
  rounds++;
  memset(buf, (int)rounds, 8);
  *bits = 64;
  return 8;
}

static void
test_service_task_seeds_from_sources(void **state)
{
  (void)state;
  entropy_reset_for_test();
  rounds = 0;
  assert_int_equal(entropy_add_source("counting", counting_source), 0);
  assert_int_equal(entropy_start(), 0);
  uint8_t a[32], b[32];
  assert_int_equal(entropy_get(a, sizeof a, MN_SEC(5)), 0);
  assert_int_equal(rounds, 4);
  struct entropy_stats st;
  entropy_stats(&st);
  assert_string_equal(st.sources, "counting");
  assert_int_equal(entropy_get(b, sizeof b, 0), 0);
  assert_memory_not_equal(a, b, sizeof a);
  /* Large requests go through in DRBG-sized pieces. */
  static uint8_t big[200000];
  assert_int_equal(entropy_get(big, sizeof big, 0), 0);
  assert_memory_not_equal(big, big + 65536, 4096);
  entropy_stats(&st);
  assert_true(st.bytes_out >= sizeof big + 64);
}

/* The table of sources is bounded; a missing function is refused. */
static void
test_sources_registry_full(void **state)
{
  (void)state;
  entropy_reset_for_test();
  for (int i = 0; i < 4; i++)
    assert_int_equal(entropy_add_source("x", counting_source), 0);
  assert_int_equal(entropy_add_source("x", counting_source), MN_EINVAL);
  assert_int_equal(entropy_add_source("x", NULL), MN_EINVAL);
  entropy_reset_for_test();
}

int
main(void)
{
  ktest_boot(1u << 20);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_waits_until_seeded),
    cmocka_unit_test(test_service_task_seeds_from_sources),
    cmocka_unit_test(test_sources_registry_full),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
