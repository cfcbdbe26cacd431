/*
 * serial.c: the hosted serial port: stdin/stdout or a TCP listener.
 *
 * Interface: hosted_serial_start.
 *
 * Three tasks: the server answers GetPort; rx copies bytes from the host
 * fd into the rx ring (waiting for room: back-pressure, nothing dropped);
 * tx copies the tx ring to the host fd. With "tcp:PORT" one client at a
 * time is served; while none is connected, output waits in the ring.
 * The fds are non-blocking and watched edge-triggered: each task reads
 * or writes until EAGAIN, then waits on its waitq, which the watch
 * callback wakes.
 *
 * Both rx and tx accept the client (whichever needs it first), so every
 * change of the client (accepted, dropped) wakes every queue either task
 * may sleep on: a task asleep on `conn` is not woken by the listening
 * socket once the other task has accepted (the edge is gone), and a task
 * asleep on the old fd's readiness would never be woken again (issue 9:
 * under load, tx accepted first and rx slept on `conn` forever).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "hosted.h"
#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/serial.h"
#include "mneme/task.h"

#define RING_SIZE 4096

static struct {
  int listen_fd;          /* -1 for stdio */
  int in_fd, out_fd;      /* -1 while no TCP client */
  struct bbq rx, tx;
  struct waitq readable, writable, conn;
  int assigned;
  struct svc_server *srv;
} sp;

static void
on_fd(int fd, uint32_t events, void *arg)
{
  (void)fd;
  (void)arg;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
    waitq_wake_all(&sp.readable);
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
    waitq_wake_all(&sp.writable);
}

static void
on_listen(int fd, uint32_t events, void *arg)
{
  (void)fd;
  (void)events;
  (void)arg;
  waitq_wake_all(&sp.conn);
}

static void
set_nonblock(int fd)
{
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* The client changed (connected or gone): everyone looks again. */
static void
client_changed(void)
{
  waitq_wake_all(&sp.conn);
  waitq_wake_all(&sp.readable);
  waitq_wake_all(&sp.writable);
}

static void
drop_client(void)
{
  if (sp.listen_fd < 0 || sp.in_fd < 0)
    return;
  hosted_unwatch(sp.in_fd);
  close(sp.in_fd);
  sp.in_fd = sp.out_fd = -1;
  klog(LOG_INFO, "serial: client disconnected");
  client_changed();
}

/* Waits for a TCP client (stdio: always connected). */
static int
wait_client(void)
{
  while (sp.in_fd < 0) {
    uint32_t seq = waitq_seq(&sp.conn);
    int fd = accept4(sp.listen_fd, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      sp.in_fd = sp.out_fd = fd;
      hosted_watch(fd, EPOLLIN | EPOLLOUT, on_fd, 0);
      klog(LOG_INFO, "serial: client connected");
      client_changed();
      return 0;
    }
    int err = waitq_wait_seq(&sp.conn, seq, UINT64_MAX);
    if (err)
      return err;
  }
  return 0;
}

static int
rx_task(void *arg)
{
  (void)arg;
  for (;;) {
    if (wait_client())
      return 0;
    uint8_t *g;
    size_t room;
    if (bbq_send_grant_max(&sp.rx, RING_SIZE, MN_FOREVER, &g, &room))
      return 0;
    uint32_t seq = waitq_seq(&sp.readable);
    ssize_t n = read(sp.in_fd, g, room);
    if (n > 0) {
      bbq_commit(&sp.rx, (size_t)n);
      continue;
    }
    bbq_commit(&sp.rx, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      waitq_wait_seq(&sp.readable, seq, UINT64_MAX);
    } else if (sp.listen_fd >= 0) {
      drop_client();
    } else {
      klog(LOG_INFO, "serial: end of input");
      bbq_close(&sp.rx);
      return 0;
    }
  }
}

static int
tx_task(void *arg)
{
  (void)arg;
  for (;;) {
    const uint8_t *p;
    size_t len;
    if (bbq_read_grant(&sp.tx, MN_FOREVER, &p, &len))
      return 0;
    if (wait_client())
      return 0;
    uint32_t seq = waitq_seq(&sp.writable);
    ssize_t n = write(sp.out_fd, p, len);
    if (n > 0) {
      bbq_release(&sp.tx, (size_t)n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      bbq_release(&sp.tx, 0);
      waitq_wait_seq(&sp.writable, seq, UINT64_MAX);
    } else if (sp.listen_fd >= 0) {
      bbq_release(&sp.tx, 0); /* kept for the next client */
      drop_client();
    } else {
      bbq_release(&sp.tx, len); /* stdout gone: drop it, keep the ring moving */
    }
  }
}

static int
server_task(void *arg)
{
  (void)arg;
  SVC_MSG_BUF(m, sizeof(struct serial_req));
  while (svc_recv(sp.srv, m, MN_FOREVER) == 0) {
    if (sp.assigned) {
      struct serial_err e = { SERIAL_ALREADY_ASSIGNED };
      svc_reply_err(sp.srv, &m->env, &e);
    } else {
      struct serial_resp r = { &sp.rx, &sp.tx };
      if (svc_reply_ok(sp.srv, &m->env, &r) == 0)
        sp.assigned = 1;
    }
  }
  return 0;
}

/* Listens on 127.0.0.1:port (0: a free port); returns the fd and sets
 * *bound to the port, or returns -1. */
static int
open_listener(int port, int *bound)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
      bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4) ||
      getsockname(fd, (struct sockaddr *)&a, &(socklen_t){ sizeof a })) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  *bound = ntohs(a.sin_port);
  return fd;
}

int
hosted_serial_start(const char *spec)
{
  static const struct svc_type type = SERIAL_TYPE;
  memset(&sp, 0, sizeof sp);
  waitq_init(&sp.readable);
  waitq_init(&sp.writable);
  waitq_init(&sp.conn);
  sp.listen_fd = sp.in_fd = sp.out_fd = -1;
  if (strcmp(spec, "stdio") == 0) {
    sp.in_fd = 0;
    sp.out_fd = 1;
    set_nonblock(0);
    set_nonblock(1);
    if (hosted_watch(0, EPOLLIN, on_fd, 0) != 0)
      klog(LOG_WARN, "serial: stdin cannot be watched; input ignored");
    hosted_watch(1, EPOLLOUT, on_fd, 0);
  } else if (strncmp(spec, "tcp:", 4) == 0) {
    char *end;
    long port = strtol(spec + 4, &end, 10);
    int bound;
    if (end == spec + 4 || *end || port < 0 || port > 65535)
      return MN_EINVAL;
    if ((sp.listen_fd = open_listener((int)port, &bound)) < 0)
      return MN_EIO;
    hosted_watch(sp.listen_fd, EPOLLIN, on_listen, 0);
    /* Tests wait for this line (and read the port from it with tcp:0). */
    klog(LOG_INFO, "serial: listening on 127.0.0.1:%d", bound);
  } else {
    return MN_EINVAL;
  }
  if (bbq_init(&sp.rx, RING_SIZE) || bbq_init(&sp.tx, RING_SIZE))
    return MN_ENOMEM;
  int err = svc_register(&(struct uuid)SERIAL_UUID, "serial", &type, 0,
                         SVC_ACCEPT_ALL, 4, &sp.srv);
  if (err)
    return err;
  if (task_spawn("serial-srv", server_task, 0, 0, 0) ||
      task_spawn("serial-rx", rx_task, 0, 0, 0) ||
      task_spawn("serial-tx", tx_task, 0, 0, 0))
    return MN_ENOMEM;
  return 0;
}
