/*
 * slirp.c: the hosted platform's NIC over libslirp (the user-mode NAT
 * QEMU uses; no root needed), as the netdev service (netdev.h).
 *
 * Interface: hosted_slirp_start.
 *
 * The virtual network is QEMU's: the guest gets 10.0.2.15 by DHCP, the
 * gateway 10.0.2.2 is the host (its 127.0.0.1 services), 10.0.2.3 is
 * slirp's DNS forwarder. "hostfwd=H:G" forwards 127.0.0.1:H on the host
 * to guest port G.
 *
 * One task runs slirp: it feeds the guest's frames (the tx ring) to
 * slirp_input, fires slirp's timers, and polls slirp's host sockets.
 * Those sockets sit in a private epoll set (level-triggered, the events
 * slirp asked for), itself watched by the platform's event loop, so the
 * task sleeps until a socket, a frame or a timer needs it. It waits on
 * its tx ring's readable queue, which every one of those wakes. Frames
 * from slirp go into the rx ring; when it is full they are dropped and
 * counted, like a wire.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <slirp/libslirp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "hosted.h"
#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/netdev.h"
#include "mneme/task.h"

#define RX_RING (256u * 1024u)
#define TX_RING (64u * 1024u)
#define MAX_PFD 512
#define MAX_TIMERS 16
#define MAX_FWD 8

struct stimer {
  SlirpTimerCb cb;
  void *cb_opaque;
  uint64_t deadline;             /* ns; UINT64_MAX: not armed */
  int used;
};

static struct {
  Slirp *slirp;
  struct bbq rx, tx;
  struct netdev_state state;
  struct svc_server *srv;
  int assigned;
  int inner;                     /* epoll set of slirp's sockets */
  struct pollfd pfd[MAX_PFD];
  int npfd;
  struct { int fd; uint32_t ev; } reg[MAX_PFD];
  int nreg;
  struct stimer timers[MAX_TIMERS];
  uint8_t mac[6];
} S;

static void
wake(void)
{
  waitq_wake_all(&S.tx.readable);
}

/* ---- slirp's callbacks ----------------------------------------------------------- */

static ssize_t
send_packet(const void *buf, size_t len, void *opaque)
{
  uint8_t *g;
  (void)opaque;
  if (len > NETDEV_FRAME_MAX || bbq_grant_exact(&S.rx, NETDEV_REC_HDR + len, &g)) {
    S.state.count.rx_dropped++;
    return (ssize_t)len;
  }
  g[0] = (uint8_t)len;
  g[1] = (uint8_t)(len >> 8);
  memcpy(g + NETDEV_REC_HDR, buf, len);
  bbq_commit(&S.rx, NETDEV_REC_HDR + len);
  S.state.count.rx_packets++;
  S.state.count.rx_bytes += len;
  return (ssize_t)len;
}

static void
guest_error(const char *msg, void *opaque)
{
  (void)opaque;
  S.state.count.tx_errors++;
  klog(LOG_WARN, "slirp: guest error: %s", msg);
}

static int64_t
clock_ns(void *opaque)
{
  (void)opaque;
  return (int64_t)ktime_now();
}

static void *
timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
  (void)opaque;
  for (int i = 0; i < MAX_TIMERS; i++) {
    if (!S.timers[i].used) {
      S.timers[i] = (struct stimer){ cb, cb_opaque, UINT64_MAX, 1 };
      return &S.timers[i];
    }
  }
  panic("slirp: more than %d timers", MAX_TIMERS);
}

static void
timer_free(void *t, void *opaque)
{
  (void)opaque;
  ((struct stimer *)t)->used = 0;
}

/* expire_time: milliseconds on clock_ns's clock. */
static void
timer_mod(void *t, int64_t expire_ms, void *opaque)
{
  (void)opaque;
  ((struct stimer *)t)->deadline = expire_ms < 0 ? 0 : (uint64_t)expire_ms * 1000000u;
  wake();
}

static void
register_fd(int fd, void *opaque)
{
  (void)fd;
  (void)opaque;
}

static void
notify(void *opaque)
{
  (void)opaque;
  wake();
}

static const SlirpCb callbacks = {
  .send_packet = send_packet,
  .guest_error = guest_error,
  .clock_get_ns = clock_ns,
  .timer_new = timer_new,
  .timer_free = timer_free,
  .timer_mod = timer_mod,
  .register_poll_fd = register_fd,
  .unregister_poll_fd = register_fd,
  .notify = notify,
};

/* ---- polling ------------------------------------------------------------------- */

static int
add_poll(int fd, int events, void *opaque)
{
  (void)opaque;
  if (S.npfd >= MAX_PFD)
    return -1;
  short ev = 0;
  if (events & SLIRP_POLL_IN)
    ev |= POLLIN;
  if (events & SLIRP_POLL_OUT)
    ev |= POLLOUT;
  if (events & SLIRP_POLL_PRI)
    ev |= POLLPRI;
  S.pfd[S.npfd] = (struct pollfd){ fd, ev, 0 };
  return S.npfd++;
}

static int
get_revents(int idx, void *opaque)
{
  (void)opaque;
  if (idx < 0 || idx >= S.npfd)
    return 0;
  short r = S.pfd[idx].revents;
  int ev = 0;
  if (r & POLLIN)
    ev |= SLIRP_POLL_IN;
  if (r & POLLOUT)
    ev |= SLIRP_POLL_OUT;
  if (r & POLLPRI)
    ev |= SLIRP_POLL_PRI;
  if (r & POLLERR)
    ev |= SLIRP_POLL_ERR;
  if (r & POLLHUP)
    ev |= SLIRP_POLL_HUP;
  return ev;
}

/* Makes the inner epoll set watch exactly what slirp asked for. */
static void
sync_inner(void)
{
  int keep[MAX_PFD] = { 0 };
  for (int i = 0; i < S.npfd; i++) {
    uint32_t ev = 0;
    if (S.pfd[i].events & POLLIN)
      ev |= EPOLLIN;
    if (S.pfd[i].events & POLLOUT)
      ev |= EPOLLOUT;
    if (S.pfd[i].events & POLLPRI)
      ev |= EPOLLPRI;
    int k = 0;
    while (k < S.nreg && S.reg[k].fd != S.pfd[i].fd)
      k++;
    struct epoll_event e = { .events = ev, .data.fd = S.pfd[i].fd };
    if (k == S.nreg) {
      if (epoll_ctl(S.inner, EPOLL_CTL_ADD, S.pfd[i].fd, &e) && errno == EEXIST)
        epoll_ctl(S.inner, EPOLL_CTL_MOD, S.pfd[i].fd, &e);
      S.reg[S.nreg].fd = S.pfd[i].fd;
      S.reg[S.nreg].ev = ev;
      keep[S.nreg++] = 1;
    } else {
      if (S.reg[k].ev != ev &&
          epoll_ctl(S.inner, EPOLL_CTL_MOD, S.pfd[i].fd, &e) && errno == ENOENT)
        epoll_ctl(S.inner, EPOLL_CTL_ADD, S.pfd[i].fd, &e);
      S.reg[k].ev = ev;
      keep[k] = 1;
    }
  }
  int n = 0;
  for (int k = 0; k < S.nreg; k++) {
    if (keep[k])
      S.reg[n++] = S.reg[k];
    else
      epoll_ctl(S.inner, EPOLL_CTL_DEL, S.reg[k].fd, NULL);
  }
  S.nreg = n;
}

static void
on_inner(int fd, uint32_t events, void *arg)
{
  (void)fd;
  (void)events;
  (void)arg;
  wake();
}

/* Guest frames (records in the tx ring) into slirp. */
static void
feed_slirp(void)
{
  const uint8_t *g;
  size_t len;
  for (int turns = 0; turns < 64 && bbq_read(&S.tx, &g, &len) == 0; turns++) {
    size_t used = 0;
    while (used + NETDEV_REC_HDR <= len) {
      size_t flen = (size_t)g[used] | (size_t)g[used + 1] << 8;
      if (used + NETDEV_REC_HDR + flen > len) {
        S.state.count.tx_errors++;
        used = len;
        break;
      }
      slirp_input(S.slirp, g + used + NETDEV_REC_HDR, (int)flen);
      S.state.count.tx_packets++;
      S.state.count.tx_bytes += flen;
      used += NETDEV_REC_HDR + flen;
    }
    if (used < len) {
      S.state.count.tx_errors++;
      used = len;
    }
    bbq_release(&S.tx, used);
  }
}

static int
slirp_task(void *arg)
{
  (void)arg;
  for (;;) {
    uint32_t seq = waitq_seq(&S.tx.readable);
    feed_slirp();
    uint64_t now = ktime_now(), deadline = UINT64_MAX;
    for (int i = 0; i < MAX_TIMERS; i++) {
      struct stimer *t = &S.timers[i];
      if (t->used && t->deadline <= now) {
        t->deadline = UINT64_MAX;
        t->cb(t->cb_opaque);
      }
    }
    uint32_t timeout = 1000;
    S.npfd = 0;
    slirp_pollfds_fill(S.slirp, &timeout, add_poll, NULL);
    int r = poll(S.pfd, (nfds_t)S.npfd, 0);
    slirp_pollfds_poll(S.slirp, r < 0, get_revents, NULL);
    /* what slirp waits for next */
    timeout = 1000;
    S.npfd = 0;
    slirp_pollfds_fill(S.slirp, &timeout, add_poll, NULL);
    sync_inner();
    struct epoll_event ev;
    if (epoll_wait(S.inner, &ev, 1, 0) > 0 || bbq_used(&S.tx)) {
      task_yield();
      continue;
    }
    now = ktime_now();
    deadline = now + MN_MSEC(timeout);
    for (int i = 0; i < MAX_TIMERS; i++)
      if (S.timers[i].used && S.timers[i].deadline < deadline)
        deadline = S.timers[i].deadline;
    if (waitq_wait_seq(&S.tx.readable, seq, deadline) == MN_ECANCELED)
      return 0;
  }
}

static int
server_task(void *arg)
{
  (void)arg;
  SVC_MSG_BUF(m, sizeof(struct netdev_req));
  while (svc_recv(S.srv, m, MN_FOREVER) == 0) {
    if (S.assigned) {
      struct netdev_err e = { NETDEV_ALREADY_ASSIGNED };
      svc_reply_err(S.srv, &m->env, &e);
      continue;
    }
    struct netdev_resp r = { &S.rx, &S.tx, &S.state, { 0 }, 1500, "slirp0" };
    memcpy(r.mac, S.mac, 6);
    if (svc_reply_ok(S.srv, &m->env, &r) == 0)
      S.assigned = 1;
  }
  return 0;
}

/* "slirp[,hostfwd=H:G]...": fills the forwards. 0 or MN_EINVAL. */
static int
parse_spec(const char *spec, int fwd[][2], int *nfwd)
{
  *nfwd = 0;
  if (strncmp(spec, "slirp", 5))
    return MN_EINVAL;
  const char *p = spec + 5;
  while (*p == ',') {
    p++;
    int h, g, n;
    if (sscanf(p, "hostfwd=%d:%d%n", &h, &g, &n) != 2 || h < 1 || h > 65535 ||
        g < 1 || g > 65535 || *nfwd >= MAX_FWD)
      return MN_EINVAL;
    fwd[*nfwd][0] = h;
    fwd[*nfwd][1] = g;
    (*nfwd)++;
    p += n;
  }
  return *p ? MN_EINVAL : 0;
}

int
hosted_slirp_start(const char *spec)
{
  static const struct svc_type type = NETDEV_TYPE;
  int fwd[MAX_FWD][2], nfwd;
  int err = parse_spec(spec, fwd, &nfwd);
  if (err)
    return err;
  SlirpConfig cfg = { 0 };
  cfg.version = 1;
  cfg.in_enabled = true;
  inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
  inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
  inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
  inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
  inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
  cfg.vhostname = "mneme";
  cfg.if_mtu = 1500;
  cfg.if_mru = 1500;
  static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
  memcpy(S.mac, mac, 6);
  waitq_init(&S.state.link_changed);
  if (bbq_init(&S.rx, RX_RING) || bbq_init(&S.tx, TX_RING))
    return MN_ENOMEM;
  S.slirp = slirp_new(&cfg, &callbacks, NULL);
  if (!S.slirp)
    return MN_ENOMEM;
  for (int i = 0; i < nfwd; i++) {
    struct in_addr host, guest = { 0 };
    inet_pton(AF_INET, "127.0.0.1", &host);
    if (slirp_add_hostfwd(S.slirp, 0, host, fwd[i][0], guest, fwd[i][1]) < 0) {
      klog(LOG_ERROR, "slirp: cannot forward 127.0.0.1:%d", fwd[i][0]);
      return MN_EADDRINUSE;
    }
  }
  S.inner = epoll_create1(EPOLL_CLOEXEC);
  if (S.inner < 0 || hosted_watch(S.inner, EPOLLIN, on_inner, NULL))
    return MN_EIO;
  S.state.link_up = 1;
  err = svc_register(&(struct uuid)NETDEV_UUID, "netdev-slirp", &type, NULL,
                     SVC_ACCEPT_ALL, 4, &S.srv);
  if (err)
    return err;
  if ((err = task_spawn("slirp", slirp_task, NULL, 32 * 1024, NULL)) ||
      (err = task_spawn("netdev-slirp", server_task, NULL, 0, NULL)))
    return err;
  klog(LOG_INFO, "slirp: libslirp %s, 10.0.2.0/24, host 10.0.2.2", slirp_version_string());
  return 0;
}
