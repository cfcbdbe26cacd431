/*
 * kernel_edge_test.c: edge cases of the hosted platform's drivers, run
 * against the real host file descriptors: the serial port over stdin /
 * stdout when the host side goes away; a TCP client that the serial
 * port's transmitter accepts while its receiver sleeps (issue 9); the
 * console when stderr is a non-blocking pipe that is full.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
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

/* A TCP port on 127.0.0.1 that is free now. */
static int
free_tcp_port(void)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t len = sizeof a;
  assert_true(fd >= 0);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

/*
 * Issue 9: the serial port's receiver and transmitter tasks both accept
 * the TCP client (whichever needs it first). A client that connects while
 * the kernel is busy running tasks (a loaded machine) can be accepted by
 * the transmitter, because it has output, before the executor next polls
 * epoll; the listening socket's edge is then gone, and the receiver,
 * asleep on "a client may be waiting", must still learn that a client is
 * there. Here the test task plays the busy kernel: it connects and queues
 * output without letting the executor poll, then yields to the
 * transmitter. The client's bytes must reach the rx ring.
 *
 * The executor also polls host events every 256th switch; if that poll
 * fell on the single switch between the connect and the accept, the race
 * would not be set up, so the scenario runs on three fresh kernels.
 */
static void
test_serial_client_accepted_by_tx_reaches_rx(void **state)
{
  (void)state;
  signal(SIGPIPE, SIG_IGN);
  for (int round = 0; round < 3; round++) {
    ktest_boot(1u << 20);
    int port = free_tcp_port();
    char spec[32];
    snprintf(spec, sizeof spec, "tcp:%d", port);
    assert_int_equal(hosted_serial_start(spec), 0);
    struct bbq *rx, *tx;
    /* Runs the driver's tasks once: the receiver now waits for a client. */
    assert_int_equal(serial_get_port(MN_SEC(1), &rx, &tx), 0);

    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_true(c >= 0);
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(bbq_write_all(tx, "k", 1, 0), 0); /* wakes the transmitter */
    task_yield();                                      /* it accepts and writes */

    char got = 0;
    struct pollfd pf = { c, POLLIN, 0 };
    assert_int_equal(poll(&pf, 1, 5000), 1);
    assert_int_equal(read(c, &got, 1), 1);
    assert_int_equal(got, 'k');
    assert_int_equal(write(c, "hello", 5), 5);
    const uint8_t *p;
    size_t len = 0;
    int err = bbq_read_grant(rx, MN_SEC(3), &p, &len);
    if (err)
      fail_msg("round %d: the client's bytes never reached the serial rx ring: %s",
               round, mn_strerror(err));
    assert_true(len >= 1 && len <= 5);
    assert_memory_equal(p, "hello", len);
    bbq_release(rx, len);
    close(c);
  }
}

/* Reads the pipe to its end after a pause; exits 0 iff it ended in "hello". */
static _Noreturn void
slow_reader(int fd)
{
  static char all[1 << 20];
  size_t n = 0;
  ssize_t r;
  usleep(50000);
  while (n < sizeof all && (r = read(fd, all + n, sizeof all - n)) > 0)
    n += (size_t)r;
  _exit(n >= 5 && memcmp(all + n - 5, "hello", 5) == 0 ? 0 : 1);
}

/*
 * stderr may share a non-blocking file with stdout (`2>&1` with the serial
 * port on stdio): a full pipe must delay console output (a panic message),
 * not drop it.
 */
static void
test_console_write_waits_for_a_full_pipe(void **state)
{
  (void)state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
  char junk[4096];
  memset(junk, 'j', sizeof junk);
  while (write(p[1], junk, sizeof junk) > 0)
    ;
  while (write(p[1], junk, 1) > 0)
    ;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[1]);
    slow_reader(p[0]);
  }
  close(p[0]);
  int save2 = dup(2);
  dup2(p[1], 2);
  close(p[1]);
  plat_console_write("hello", 5);
  dup2(save2, 2);
  close(save2);
  int st = 0;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_serial_stdout_gone_keeps_tx_moving, ktest_setup),
    cmocka_unit_test(test_serial_client_accepted_by_tx_reaches_rx),
    cmocka_unit_test(test_console_write_waits_for_a_full_pipe),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
