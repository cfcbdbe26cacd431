/*
 * log_test.c: the kernel's printf (used by the log and panic on every
 * platform, where there is no libc) against the C library's.
 */
#include <stdio.h>
#include <string.h>
#include "ktest.h"
#include "mneme/log.h"

#define SAME(...)                                                      \
  do {                                                                 \
    char a[128], b[128];                                               \
    int na = ksnprintf(a, sizeof a, __VA_ARGS__);                      \
    int nb = snprintf(b, sizeof b, __VA_ARGS__);                       \
    assert_string_equal(a, b);                                         \
    assert_int_equal(na, nb);                                          \
  } while (0)

static void
test_formats_match_libc(void **state)
{
  (void)state;
  SAME("%d %i %u", -42, 7, 4000000000u);
  SAME("%x %X %o", 0xbeefu, 0xbeefu, 8u);
  SAME("[%5d] [%-5d] [%05d]", 42, 42, -42);
  SAME("%ld %lu %lld %llu", -1L, 1UL << 40, -(1LL << 62), ~0ULL);
  SAME("%zu %zd", (size_t)123456789, (ssize_t)-5);
#ifdef __clang__ /* truncation to char and short on purpose */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wformat"
#endif
  SAME("%hhu %hd", 300, 70000);
#ifdef __clang__
#pragma clang diagnostic pop
#endif
  SAME("%s|%10s|%-10s|%.3s", "abc", "right", "left", "truncate");
  SAME("%c%c %%", 'o', 'k');
  SAME("%016llx", 0x1234ULL);
  SAME("%*d|%.*s", 6, 9, 2, "xyz");
}

static void
test_truncation_reports_full_length(void **state)
{
  (void)state;
  char buf[8];
  int n = ksnprintf(buf, sizeof buf, "%s", "0123456789");
  assert_int_equal(n, 10);
  assert_string_equal(buf, "0123456");
  assert_int_equal(ksnprintf(0, 0, "%d", 12345), 5);
  const char *volatile null_str = 0; /* hidden from format checking */
  assert_int_equal(ksnprintf(buf, sizeof buf, "%s", null_str), 6);
  assert_string_equal(buf, "(null)");
}

static int sink_level;
static char sink_line[256];

static void
sink(int level, const char *line, size_t len)
{
  sink_level = level;
  memcpy(sink_line, line, len);
  sink_line[len] = 0;
}

static void
test_levels_and_sink(void **state)
{
  (void)state;
  klog_set_sink(sink);
  klog_set_level(LOG_WARN);
  sink_line[0] = 0;
  klog(LOG_INFO, "dropped %d", 1);
  assert_string_equal(sink_line, "");
  klog(LOG_ERROR, "kept %d", 2);
  assert_int_equal(sink_level, LOG_ERROR);
  assert_non_null(strstr(sink_line, "ERROR kept 2"));
  klog_set_level(LOG_INFO);
  klog_set_sink(0);
}

int
main(void)
{
  ktest_boot(1u << 20);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_formats_match_libc),
    cmocka_unit_test(test_truncation_reports_full_length),
    cmocka_unit_test(test_levels_and_sink),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
