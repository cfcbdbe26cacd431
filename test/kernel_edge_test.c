/*
 * kernel_edge_test.c: edge cases of the hosted platform's drivers, run
 * against the real host file descriptors: the serial port over stdin /
 * stdout when the host side goes away.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "ktest.h"
#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/serial.h"
#include "mneme/task.h"
#include "../platform/hosted/hosted.h"

/*
 * With stdout gone (its reader closed: EPIPE), the serial driver drops
 * what is written to the port instead of leaving it in the tx ring, so
 * writers are never stuck behind a full ring.
 */
static void
test_serial_stdout_gone_keeps_tx_moving(void **state)
{
  (void)state;
  int in_p[2], out_p[2];
  assert_int_equal(pipe(in_p), 0);
  assert_int_equal(pipe(out_p), 0);
  signal(SIGPIPE, SIG_IGN);
  fflush(stdout);
  int save0 = dup(0), save1 = dup(1);
  dup2(in_p[0], 0);
  dup2(out_p[1], 1);
  close(in_p[0]);
  close(out_p[1]);
  close(out_p[0]); /* nobody reads stdout any more */
  int start = hosted_serial_start("stdio");
  struct bbq *rx = 0, *tx = 0;
  int got = start ? start : serial_get_port(MN_SEC(1), &rx, &tx);
  static uint8_t out[3 * 4096];
  memset(out, 'x', sizeof out);
  int wrote = got ? got : bbq_write_all(tx, out, sizeof out, MN_SEC(2));
  hosted_unwatch(0);
  hosted_unwatch(1);
  dup2(save0, 0);
  dup2(save1, 1);
  close(save0);
  close(save1);
  close(in_p[1]);
  assert_int_equal(start, 0);
  assert_int_equal(got, 0);
  assert_int_equal(wrote, 0);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_serial_stdout_gone_keeps_tx_moving, ktest_setup),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
