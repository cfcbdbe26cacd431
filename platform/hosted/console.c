/*
 * console.c: the hosted console, stdin/stdout as byte rings.
 *
 * Interface: hosted_console_open.
 *
 * Like the serial port's stdio mode (serial.c): non-blocking fds watched
 * with epoll wake the rx and tx tasks. A stdin that epoll cannot watch (a
 * regular file) is always readable, so the rx task just reads it. On a
 * terminal, raw mode gives the shell every key (Ctrl-C is byte 3 for
 * Forth, not SIGINT); output processing stays on so kernel log lines on
 * stderr still start at the left margin.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>
#include "console.h"
#include "hosted.h"
#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/task.h"

#define CONSOLE_RING 2048

static struct {
  struct bbq rx, tx;
  struct waitq readable, writable;
  int watched_in;
  struct termios saved;
  int raw;
} con;

static void
on_fd(int fd, uint32_t events, void *arg)
{
  (void)arg;
  if (fd == 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
    waitq_wake_all(&con.readable);
  if (fd == 1 && (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
    waitq_wake_all(&con.writable);
}

static void
restore_terminal(void)
{
  if (con.raw)
    tcsetattr(0, TCSANOW, &con.saved);
}

static int
rx_task(void *arg)
{
  (void)arg;
  for (;;) {
    uint8_t *g;
    size_t room;
    if (bbq_send_grant_max(&con.rx, CONSOLE_RING, MN_FOREVER, &g, &room))
      return 0;
    uint32_t seq = waitq_seq(&con.readable);
    ssize_t n = read(0, g, room);
    if (n > 0) {
      bbq_commit(&con.rx, (size_t)n);
      continue;
    }
    bbq_commit(&con.rx, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (con.watched_in)
        waitq_wait_seq(&con.readable, seq, MN_FOREVER);
      else
        task_sleep(MN_MSEC(20));
      continue;
    }
    bbq_close(&con.rx);
    return 0;
  }
}

static int
tx_task(void *arg)
{
  (void)arg;
  for (;;) {
    const uint8_t *p;
    size_t len;
    if (bbq_read_grant(&con.tx, MN_FOREVER, &p, &len))
      return 0;
    uint32_t seq = waitq_seq(&con.writable);
    ssize_t n = write(1, p, len);
    if (n > 0) {
      bbq_release(&con.tx, (size_t)n);
      continue;
    }
    bbq_release(&con.tx, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      waitq_wait_seq(&con.writable, seq, MN_FOREVER);
    else
      bbq_release(&con.tx, len); /* stdout gone: drop */
  }
}

int
hosted_console_open(struct bbq **in, struct bbq **out, int *terminal)
{
  waitq_init(&con.readable);
  waitq_init(&con.writable);
  if (bbq_init(&con.rx, CONSOLE_RING) || bbq_init(&con.tx, CONSOLE_RING))
    return MN_ENOMEM;
  *terminal = isatty(0) && isatty(1);
  if (*terminal && tcgetattr(0, &con.saved) == 0) {
    struct termios t = con.saved;
    cfmakeraw(&t);
    t.c_oflag |= OPOST | ONLCR;
    if (tcsetattr(0, TCSANOW, &t) == 0) {
      con.raw = 1;
      atexit(restore_terminal);
    }
  }
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
  con.watched_in = hosted_watch(0, EPOLLIN, on_fd, 0) == 0;
  hosted_watch(1, EPOLLOUT, on_fd, 0);
  if (task_spawn("console-rx", rx_task, 0, 0, 0) ||
      task_spawn("console-tx", tx_task, 0, 0, 0))
    return MN_ENOMEM;
  *in = &con.rx;
  *out = &con.tx;
  return 0;
}
