/*
 * netdev_probe.c: a frame-level check of a netdev driver without a
 * network stack (include/mneme/virtio.h, netdev_arp_probe): one ARP
 * request out, the matching ARP reply back, and the counters. The Forth
 * word ARP-PROBE (platform words) runs it; the QEMU tests use it against
 * QEMU's user network, whose gateway 10.0.2.2 answers ARP.
 *
 * Interface: netdev_arp_probe.
 */
#include <stdarg.h>
#include <string.h>

#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/netdev.h"
#include "mneme/platform.h"
#include "mneme/virtio.h"

static struct svc_client client;
static struct netdev_resp dev;
static int have_dev;

static void say(void (*out)(void *, const char *, size_t), void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(void (*out)(void *, const char *, size_t), void *arg, const char *fmt, ...) {
  char b[200];
  va_list ap;
  va_start(ap, fmt);
  int n = kvsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  out(arg, b, n < (int)sizeof b ? (size_t)n : sizeof b - 1);
}

static int get_device(void) {
  static const struct svc_type type = NETDEV_TYPE;
  if (have_dev) return 0;
  int err = svc_connect(&(struct uuid)NETDEV_UUID, &type, NULL, NULL, MN_SEC(1), &client);
  if (err) return err;
  struct netdev_req rq = {NETDEV_GET_DEVICE};
  struct netdev_err e;
  err = svc_call(&client, &rq, &dev, &e, MN_SEC(2));
  if (err) {
    svc_disconnect(&client);
    return err;
  }
  have_dev = 1;
  return 0;
}

/* 1 if frame is an ARP reply from target to us. */
static int is_reply(const uint8_t *f, size_t len, const uint8_t target[4], uint8_t mac[6]) {
  if (len < 42 || f[12] != 0x08 || f[13] != 0x06) return 0;
  const uint8_t *a = f + 14;
  if (a[6] != 0 || a[7] != 2) return 0; /* op: reply */
  if (memcmp(a + 14, target, 4) != 0) return 0;
  if (memcmp(a + 18, dev.mac, 6) != 0) return 0;
  memcpy(mac, a + 8, 6);
  return 1;
}

int netdev_arp_probe(const uint8_t ip[4], const uint8_t target[4], uint64_t timeout_ns,
                     void (*out)(void *arg, const char *s, size_t n), void *arg) {
  int err = get_device();
  if (err) {
    say(out, arg, "arp: no network device: %s\n", mn_strerror(err));
    return err;
  }
  struct netdev_state *st = dev.state;
  say(out, arg, "%s: %02x:%02x:%02x:%02x:%02x:%02x link %s\n", dev.name, dev.mac[0],
      dev.mac[1], dev.mac[2], dev.mac[3], dev.mac[4], dev.mac[5], st->link_up ? "up" : "down");
  /* Drop what came before: only the answer to this request counts. */
  const uint8_t *p;
  size_t len;
  while (bbq_read(dev.rx, &p, &len) == 0) bbq_release(dev.rx, len);
  uint8_t f[42];
  memset(f, 0xff, 6);
  memcpy(f + 6, dev.mac, 6);
  f[12] = 0x08, f[13] = 0x06;
  static const uint8_t arp_hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1}; /* Ethernet, IPv4, request */
  memcpy(f + 14, arp_hdr, 8);
  memcpy(f + 22, dev.mac, 6);
  memcpy(f + 28, ip, 4);
  memset(f + 32, 0, 6);
  memcpy(f + 38, target, 4);
  uint8_t *g;
  uint64_t t0 = plat_now_ns();
  err = bbq_send_grant_exact(dev.tx, NETDEV_REC_HDR + sizeof f, MN_SEC(1), &g);
  if (err) {
    say(out, arg, "arp: cannot send: %s\n", mn_strerror(err));
    return err;
  }
  g[0] = sizeof f, g[1] = 0;
  memcpy(g + NETDEV_REC_HDR, f, sizeof f);
  bbq_commit(dev.tx, NETDEV_REC_HDR + sizeof f);
  uint64_t deadline = t0 + timeout_ns;
  uint8_t mac[6];
  int got = 0;
  unsigned frames = 0;
  while (!got) {
    uint64_t now = plat_now_ns();
    if (now >= deadline) break;
    if (bbq_read_grant(dev.rx, deadline - now, &p, &len)) break;
    size_t at = 0;
    while (len - at >= NETDEV_REC_HDR) {
      size_t fl = p[at] | (size_t)p[at + 1] << 8;
      if (fl > len - at - NETDEV_REC_HDR) break;
      frames++;
      if (!got && is_reply(p + at + NETDEV_REC_HDR, fl, target, mac)) got = 1;
      at += NETDEV_REC_HDR + fl;
    }
    bbq_release(dev.rx, len);
  }
  uint64_t us = (plat_now_ns() - t0) / 1000;
  if (got)
    say(out, arg, "arp: %u.%u.%u.%u is at %02x:%02x:%02x:%02x:%02x:%02x (%lu us)\n", target[0],
        target[1], target[2], target[3], mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
        (unsigned long)us);
  else
    say(out, arg, "arp: no reply from %u.%u.%u.%u (%u frames seen)\n", target[0], target[1],
        target[2], target[3], frames);
  const struct netdev_counters *c = &st->count;
  say(out, arg, "%s: rx %lu packets %lu bytes %lu dropped %lu errors; tx %lu packets %lu bytes "
      "%lu dropped %lu errors\n", dev.name, (unsigned long)c->rx_packets,
      (unsigned long)c->rx_bytes, (unsigned long)c->rx_dropped, (unsigned long)c->rx_errors,
      (unsigned long)c->tx_packets, (unsigned long)c->tx_bytes, (unsigned long)c->tx_dropped,
      (unsigned long)c->tx_errors);
  return got ? 0 : MN_ETIMEDOUT;
}

/* ---- test frames: ethertype 0x88b5 (local experimental) ------------------- */

#define TEST_TYPE0 0x88
#define TEST_TYPE1 0xb5
#define TEST_HDR 18 /* Ethernet header + 4-byte sequence number */

/* The byte at payload offset i of test frame seq. */
static uint8_t test_byte(uint32_t seq, size_t i) { return (uint8_t)(seq * 7u + i * 13u + (i >> 8)); }

/* Length of frame seq when len is 0: cycles through 60..1514. */
static size_t test_len(uint32_t seq, size_t len) {
  return len ? len : 60 + (size_t)(seq * 97u) % (NETDEV_FRAME_MAX - 60 + 1);
}

int netdev_send_frames(uint32_t count, size_t len, void (*out)(void *arg, const char *s, size_t n),
                       void *arg) {
  int err = get_device();
  if (err) {
    say(out, arg, "net-send: no network device: %s\n", mn_strerror(err));
    return err;
  }
  if (len && (len < TEST_HDR || len > NETDEV_FRAME_MAX)) {
    say(out, arg, "net-send: length %zu not in %u..%u (0: varying)\n", len, TEST_HDR,
        NETDEV_FRAME_MAX);
    return MN_EINVAL;
  }
  uint64_t t0 = plat_now_ns(), bytes = 0;
  for (uint32_t seq = 0; seq < count; seq++) {
    size_t fl = test_len(seq, len);
    uint8_t *g;
    err = bbq_send_grant_exact(dev.tx, NETDEV_REC_HDR + fl, MN_SEC(5), &g);
    if (err) {
      say(out, arg, "net-send: frame %u: %s\n", seq, mn_strerror(err));
      return err;
    }
    g[0] = (uint8_t)fl, g[1] = (uint8_t)(fl >> 8);
    uint8_t *f = g + NETDEV_REC_HDR;
    memset(f, 0xff, 6);
    memcpy(f + 6, dev.mac, 6);
    f[12] = TEST_TYPE0, f[13] = TEST_TYPE1;
    f[14] = (uint8_t)seq, f[15] = (uint8_t)(seq >> 8), f[16] = (uint8_t)(seq >> 16),
    f[17] = (uint8_t)(seq >> 24);
    for (size_t i = TEST_HDR; i < fl; i++) f[i] = test_byte(seq, i - TEST_HDR);
    bbq_commit(dev.tx, NETDEV_REC_HDR + fl);
    bytes += fl;
  }
  uint64_t us = (plat_now_ns() - t0) / 1000;
  say(out, arg, "net-send: %u frames, %lu bytes queued in %lu us\n", count, (unsigned long)bytes,
      (unsigned long)us);
  return 0;
}

int netdev_recv_frames(uint32_t count, void (*out)(void *arg, const char *s, size_t n),
                       void (*flush)(void *arg), void *arg) {
  int err = get_device();
  if (err) {
    say(out, arg, "net-recv: no network device: %s\n", mn_strerror(err));
    return err;
  }
  const uint8_t *p;
  size_t len;
  while (bbq_read(dev.rx, &p, &len) == 0) bbq_release(dev.rx, len);
  uint64_t dropped0 = dev.state->count.rx_dropped;
  say(out, arg, "net-recv: ready\n");
  if (flush) flush(arg);
  uint32_t got = 0, bad = 0, out_of_order = 0, other = 0, next = 0;
  uint64_t bytes = 0, t_first = 0, t_last = 0;
  while (got < count) {
    uint64_t wait = got ? MN_SEC(3) : MN_SEC(30); /* idle limits */
    if (bbq_read_grant(dev.rx, wait, &p, &len)) break;
    size_t at = 0;
    while (len - at >= NETDEV_REC_HDR) {
      size_t fl = p[at] | (size_t)p[at + 1] << 8;
      if (fl > len - at - NETDEV_REC_HDR) break;
      const uint8_t *f = p + at + NETDEV_REC_HDR;
      at += NETDEV_REC_HDR + fl;
      if (fl < TEST_HDR || f[12] != TEST_TYPE0 || f[13] != TEST_TYPE1) {
        other++;
        continue;
      }
      uint32_t seq = f[14] | (uint32_t)f[15] << 8 | (uint32_t)f[16] << 16 | (uint32_t)f[17] << 24;
      int ok = fl == test_len(seq, 0);
      for (size_t i = TEST_HDR; ok && i < fl; i++) ok = f[i] == test_byte(seq, i - TEST_HDR);
      if (!ok) bad++;
      if (seq != next) out_of_order++;
      next = seq + 1;
      if (!got) t_first = plat_now_ns();
      t_last = plat_now_ns();
      got++;
      bytes += fl;
    }
    bbq_release(dev.rx, at);
  }
  uint64_t us = (t_last - t_first) / 1000;
  say(out, arg, "net-recv: %u of %u frames, %lu bytes, %u bad, %u out of order, %u other, "
      "%lu dropped, %lu us first to last\n", got, count, (unsigned long)bytes, bad, out_of_order,
      other, (unsigned long)(dev.state->count.rx_dropped - dropped0), (unsigned long)us);
  return got == count && !bad ? 0 : MN_EIO;
}
