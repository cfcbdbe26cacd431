/*
 * wallclock_test.c: the time service: civil dates both ways (leap years,
 * century rules, month ends, 2038 and after, before 1970), ISO 8601 text,
 * and the clock itself (unset, set, ticking with the monotonic clock).
 */
#include <stdio.h>
#include <time.h>
#include "ktest.h"
#include "mneme/err.h"
#include "mneme/task.h"
#include "mneme/wallclock.h"

static void
expect(int64_t t, int y, int mo, int d, int h, int mi, int s)
{
  struct wallclock_tm tm;
  wallclock_split(t, &tm);
  char got[64], want[64];
  snprintf(got, sizeof got, "%d-%d-%d %d:%d:%d", tm.year, tm.month, tm.day, tm.hour, tm.min, tm.sec);
  snprintf(want, sizeof want, "%d-%d-%d %d:%d:%d", y, mo, d, h, mi, s);
  assert_string_equal(got, want);
  struct wallclock_tm in = { y, mo, d, h, mi, s };
  assert_int_equal(wallclock_join(&in), t);
}

static void
test_known_dates(void **state)
{
  (void)state;
  expect(0, 1970, 1, 1, 0, 0, 0);
  expect(-1, 1969, 12, 31, 23, 59, 59);
  expect(951782400, 2000, 2, 29, 0, 0, 0);        /* 2000: divisible by 400 */
  expect(951868800, 2000, 3, 1, 0, 0, 0);
  expect(1709164800, 2024, 2, 29, 0, 0, 0);
  expect(1704067200, 2024, 1, 1, 0, 0, 0);        /* WALLCLOCK_MIN_SET */
  expect(2147483647, 2038, 1, 19, 3, 14, 7);      /* the last 32-bit second */
  expect(2147483648LL, 2038, 1, 19, 3, 14, 8);
  expect(4107456000LL, 2100, 2, 28, 0, 0, 0);     /* 2100: not a leap year */
  expect(4107542400LL, 2100, 3, 1, 0, 0, 0);
  expect(253402300799LL, 9999, 12, 31, 23, 59, 59);
  expect(-2208988800LL, 1900, 1, 1, 0, 0, 0);
  assert_int_equal(WALLCLOCK_MIN_SET, 1704067200);
}

/* Every day from 1900 to 2500 against the C library's timegm/gmtime_r,
 * which checks every month end and leap day in the range. */
static void
test_every_day_against_libc(void **state)
{
  (void)state;
  for (int64_t t = -2208988800LL; t < 16725225600LL; t += 86400 + 3601) {
    struct wallclock_tm tm;
    wallclock_split(t, &tm);
    time_t tt = (time_t)t;
    struct tm g;
    assert_non_null(gmtime_r(&tt, &g));
    if (tm.year != g.tm_year + 1900 || tm.month != g.tm_mon + 1 || tm.day != g.tm_mday ||
        tm.hour != g.tm_hour || tm.min != g.tm_min || tm.sec != g.tm_sec)
      fail_msg("t=%lld: %d-%d-%d vs libc %d-%d-%d", (long long)t, tm.year, tm.month, tm.day,
               g.tm_year + 1900, g.tm_mon + 1, g.tm_mday);
    assert_int_equal(wallclock_join(&tm), t);
  }
}

/* Out-of-range fields carry, as mktime's do. */
static void
test_join_normalizes(void **state)
{
  (void)state;
  struct wallclock_tm a = { 2025, 13, 1, 0, 0, 0 };     /* = 2026-01-01 */
  struct wallclock_tm b = { 2026, 1, 1, 0, 0, 0 };
  assert_int_equal(wallclock_join(&a), wallclock_join(&b));
  struct wallclock_tm c = { 2024, 2, 30, 0, 0, 0 };     /* = 2024-03-01 */
  struct wallclock_tm d = { 2024, 3, 1, 0, 0, 0 };
  assert_int_equal(wallclock_join(&c), wallclock_join(&d));
  struct wallclock_tm e = { 2024, 0, 1, 0, 0, 0 };      /* = 2023-12-01 */
  struct wallclock_tm f = { 2023, 12, 1, 0, 0, 0 };
  assert_int_equal(wallclock_join(&e), wallclock_join(&f));
}

static void
test_format(void **state)
{
  (void)state;
  char b[WALLCLOCK_ISO_LEN];
  wallclock_format(2147483648LL, b);
  assert_string_equal(b, "2038-01-19T03:14:08Z");
  wallclock_format(0, b);
  assert_string_equal(b, "1970-01-01T00:00:00Z");
  wallclock_format(253402300800LL, b);                  /* year 10000 */
  assert_string_equal(b, "(out of range)");
}

static void
test_clock_unset_set_ticks(void **state)
{
  (void)state;
  int64_t t = 123;
  assert_int_equal(wallclock_now(&t), MN_ENOENT);       /* never set */
  assert_string_equal(wallclock_source(), "unset");
  wallclock_set_from(1600000000, "test");               /* 2020: before 2024 */
  assert_int_equal(wallclock_now(&t), MN_ENOENT);
  assert_true(t >= 1600000000 && t < 1600000010);
  wallclock_set(1800000000);                            /* 2027 */
  assert_int_equal(wallclock_now(&t), 0);
  assert_true(t >= 1800000000 && t < 1800000010);
  assert_string_equal(wallclock_source(), "set by the user");
  /* It ticks with the monotonic clock. */
  uint64_t t0 = ktime_now();
  assert_int_equal(task_sleep(MN_MSEC(1100)), 0);
  assert_true(ktime_now() - t0 >= MN_MSEC(1100));
  int64_t t2;
  assert_int_equal(wallclock_now(&t2), 0);
  assert_true(t2 >= 1800000001 && t2 <= 1800000010);
}

int
main(void)
{
  ktest_boot(1u << 20);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_known_dates),
    cmocka_unit_test(test_every_day_against_libc),
    cmocka_unit_test(test_join_normalizes),
    cmocka_unit_test(test_format),
    cmocka_unit_test(test_clock_unset_set_ticks),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
