/*
 * tap.c: the hosted platform's NIC over a Linux TAP device, as the netdev
 * service (netdev.h): `--net tap:NAME`. The device must exist and be
 * usable by this process (`ip tuntap add dev NAME mode tap [user U]`);
 * the host side configures its address, bridge, DHCP server as it likes.
 *
 * Interface: hosted_tap_start.
 *
 * The TAP fd is non-blocking and watched by the platform's event loop
 * (edge-triggered): its callback only wakes the NIC's task, which reads
 * every waiting frame into the rx ring (dropping and counting when the
 * ring is full, like a wire) and writes the frames of the tx ring.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hosted.h"
#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/netdev.h"
#include "mneme/registry.h"
#include "mneme/task.h"

#define RX_RING (256u * 1024u)
#define TX_RING (64u * 1024u)

static struct {
  int fd;
  struct bbq rx, tx;
  struct netdev_state state;
  struct svc_server *srv;
  int assigned;
  uint8_t mac[6];
  char name[16];
} T = { .fd = -1 };

static void
on_fd(int fd, uint32_t events, void *arg)
{
  (void)fd;
  (void)events;
  (void)arg;
  waitq_wake_all(&T.tx.readable);    /* the task waits there */
}

static void
read_frames(void)
{
  uint8_t buf[2048];
  for (;;) {
    ssize_t n = read(T.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;                        /* EAGAIN: all read */
    uint8_t *g;
    if ((size_t)n > NETDEV_FRAME_MAX || (size_t)n < 14) {
      T.state.count.rx_errors++;
      continue;
    }
    if (bbq_grant_exact(&T.rx, NETDEV_REC_HDR + (size_t)n, &g)) {
      T.state.count.rx_dropped++;
      continue;
    }
    g[0] = (uint8_t)n;
    g[1] = (uint8_t)(n >> 8);
    memcpy(g + NETDEV_REC_HDR, buf, (size_t)n);
    bbq_commit(&T.rx, NETDEV_REC_HDR + (size_t)n);
    T.state.count.rx_packets++;
    T.state.count.rx_bytes += (uint64_t)n;
  }
}

static void
write_frames(void)
{
  const uint8_t *g;
  size_t len;
  while (bbq_read(&T.tx, &g, &len) == 0) {
    size_t used = 0;
    while (used + NETDEV_REC_HDR <= len) {
      size_t flen = (size_t)g[used] | (size_t)g[used + 1] << 8;
      if (used + NETDEV_REC_HDR + flen > len) {
        T.state.count.tx_errors++;
        used = len;
        break;
      }
      ssize_t w;
      do
        w = write(T.fd, g + used + NETDEV_REC_HDR, flen);
      while (w < 0 && errno == EINTR);
      if (w == (ssize_t)flen) {
        T.state.count.tx_packets++;
        T.state.count.tx_bytes += flen;
      } else {
        T.state.count.tx_dropped++;  /* the host's queue is full: like a wire */
      }
      used += NETDEV_REC_HDR + flen;
    }
    bbq_release(&T.tx, used);
  }
}

static int
tap_task(void *arg)
{
  (void)arg;
  for (;;) {
    uint32_t seq = waitq_seq(&T.tx.readable);
    read_frames();
    write_frames();
    if (waitq_wait_seq(&T.tx.readable, seq, MN_FOREVER) == MN_ECANCELED)
      return 0;
  }
}

static int
server_task(void *arg)
{
  (void)arg;
  SVC_MSG_BUF(m, sizeof(struct netdev_req));
  while (svc_recv(T.srv, m, MN_FOREVER) == 0) {
    if (T.assigned) {
      struct netdev_err e = { NETDEV_ALREADY_ASSIGNED };
      svc_reply_err(T.srv, &m->env, &e);
      continue;
    }
    struct netdev_resp r = { &T.rx, &T.tx, &T.state, { 0 }, 1500, "" };
    memcpy(r.mac, T.mac, 6);
    memcpy(r.name, T.name, sizeof r.name);
    if (svc_reply_ok(T.srv, &m->env, &r) == 0)
      T.assigned = 1;
  }
  return 0;
}

int
hosted_tap_start(const char *spec)
{
  static const struct svc_type type = NETDEV_TYPE;
  if (strncmp(spec, "tap:", 4) || !spec[4] || strlen(spec + 4) >= IFNAMSIZ)
    return MN_EINVAL;
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    klog(LOG_ERROR, "tap: /dev/net/tun: %s", strerror(errno));
    return MN_EIO;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  memcpy(ifr.ifr_name, spec + 4, strlen(spec + 4));
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    klog(LOG_ERROR, "tap: %s: %s (create it with ip tuntap add dev %s mode tap)", spec + 4,
         strerror(errno), spec + 4);
    close(fd);
    return MN_EIO;
  }
  T.fd = fd;
  /* A locally administered MAC of our own, from the process id. */
  unsigned pid = (unsigned)getpid();
  uint8_t mac[6] = { 0x52, 0x54, 0x00, (uint8_t)(pid >> 16), (uint8_t)(pid >> 8), (uint8_t)pid };
  memcpy(T.mac, mac, 6);
  memcpy(T.name, "tap0", 5);
  waitq_init(&T.state.link_changed);
  T.state.link_up = 1;
  if (bbq_init(&T.rx, RX_RING) || bbq_init(&T.tx, TX_RING))
    return MN_ENOMEM;
  if (hosted_watch(fd, EPOLLIN, on_fd, NULL))
    return MN_EIO;
  int err = svc_register(&(struct uuid)NETDEV_UUID, "netdev-tap", &type, NULL,
                         SVC_ACCEPT_ALL, 4, &T.srv);
  if (err)
    return err;
  if ((err = task_spawn("tap", tap_task, NULL, 32 * 1024, NULL)) ||
      (err = task_spawn("netdev-tap", server_task, NULL, 0, NULL)))
    return err;
  klog(LOG_INFO, "tap: %s, mac %02x:%02x:%02x:%02x:%02x:%02x", spec + 4, mac[0], mac[1],
       mac[2], mac[3], mac[4], mac[5]);
  return 0;
}
