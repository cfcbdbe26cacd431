/*
 * net_fake_test.c: the network service against a NIC this test plays
 * itself (frames in and out of the netdev rings), with a peer at 10.9.0.1
 * that answers ARP, ping and DHCP the way each test wants:
 *
 *   - malformed DHCP offers (short, a bad magic cookie, an option past the
 *     end, no message type, a bad message type, a BOOTREQUEST) are each
 *     counted and ignored; the valid offer that follows gives a lease;
 *   - a TCP connect to a peer that drops SYNs times out after the
 *     caller's timeout with MN_ETIMEDOUT;
 *   - link down and up: the interface goes down (ping fails at once,
 *     connect says the network is down), and after the link comes back
 *     DHCP asks again, the lease returns and ping works.
 *
 * No host network at all: nothing leaves the process.
 */
#include <stdlib.h>
#include <string.h>
#include "ktest.h"
#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/log.h"
#include "mneme/net.h"
#include "mneme/netdev.h"
#include "mneme/registry.h"
#include "mneme/task.h"

#define PEER_IP 0x0a090001u     /* 10.9.0.1: DHCP server, router, ping target */
#define GUEST_IP 0x0a09000fu    /* 10.9.0.15: the address it leases */
#define MB (1024u * 1024u)

static const uint8_t peer_mac[6] = { 0x02, 0, 0, 0, 0, 1 };
static const uint8_t guest_mac[6] = { 0x52, 0x54, 0, 0xfa, 0xce, 1 };

static struct bbq rx, tx;
static struct netdev_state st;
static struct svc_server *srv;

/* What the peer saw and how it behaves. */
static struct {
  int discovers, requests, syns, pings, arps;
  int send_malformed;          /* answer the next DISCOVER with the bad offers first */
  int malformed_sent;
} P;

/* ---- frames ------------------------------------------------------------------ */

static void
put16(uint8_t *p, unsigned v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
  put16(p, v >> 16);
  put16(p + 2, v & 0xffff);
}

static unsigned
get16(const uint8_t *p)
{
  return (unsigned)p[0] << 8 | p[1];
}

static uint16_t
csum(const uint8_t *p, size_t n)
{
  uint32_t s = 0;
  for (size_t i = 0; i + 1 < n; i += 2)
    s += get16(p + i);
  if (n & 1)
    s += (uint32_t)p[n - 1] << 8;
  while (s >> 16)
    s = (s & 0xffff) + (s >> 16);
  return (uint16_t)~s;
}

/* Puts a frame into the NIC's rx ring (as the wire would). */
static void
deliver(const uint8_t *f, size_t len)
{
  uint8_t *g;
  assert_int_equal(bbq_grant_exact(&rx, NETDEV_REC_HDR + len, &g), 0);
  g[0] = (uint8_t)len;
  g[1] = (uint8_t)(len >> 8);
  memcpy(g + NETDEV_REC_HDR, f, len);
  bbq_commit(&rx, NETDEV_REC_HDR + len);
}

/* Ethernet + IPv4 header for a payload of plen bytes; returns the
 * payload's offset. */
static size_t
ip_frame(uint8_t *f, const uint8_t *dst_mac, uint32_t src, uint32_t dst, uint8_t proto,
         size_t plen)
{
  memcpy(f, dst_mac, 6);
  memcpy(f + 6, peer_mac, 6);
  put16(f + 12, 0x0800);
  uint8_t *ip = f + 14;
  memset(ip, 0, 20);
  ip[0] = 0x45;
  put16(ip + 2, (unsigned)(20 + plen));
  ip[8] = 64;
  ip[9] = proto;
  put32(ip + 12, src);
  put32(ip + 16, dst);
  put16(ip + 10, csum(ip, 20));
  return 34;
}

/* A DHCP reply (UDP 67 -> 68, broadcast), its options given; the test's
 * defects are applied by the caller on the bytes. Returns the length. */
static size_t
dhcp_reply(uint8_t *f, const uint8_t *req, uint8_t type)
{
  static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
  uint8_t m[300];
  memset(m, 0, sizeof m);
  m[0] = 2;
  m[1] = 1;
  m[2] = 6;
  memcpy(m + 4, req + 4, 4);           /* xid */
  put32(m + 16, GUEST_IP);             /* yiaddr */
  put32(m + 20, PEER_IP);              /* siaddr */
  memcpy(m + 28, req + 28, 16);        /* chaddr */
  m[236] = 99; m[237] = 130; m[238] = 83; m[239] = 99;
  size_t o = 240;
  m[o++] = 53; m[o++] = 1; m[o++] = type;
  m[o++] = 54; m[o++] = 4; put32(m + o, PEER_IP); o += 4;
  m[o++] = 51; m[o++] = 4; put32(m + o, 3600); o += 4;
  m[o++] = 1; m[o++] = 4; put32(m + o, 0xffffff00u); o += 4;
  m[o++] = 3; m[o++] = 4; put32(m + o, PEER_IP); o += 4;
  m[o++] = 255;
  size_t p = ip_frame(f, bcast, PEER_IP, 0xffffffffu, 17, 8 + o);
  put16(f + p, 67);
  put16(f + p + 2, 68);
  put16(f + p + 4, (unsigned)(8 + o));
  put16(f + p + 6, 0);                 /* no UDP checksum */
  memcpy(f + p + 8, m, o);
  return p + 8 + o;
}

/* Re-makes the IP and UDP lengths and the IP checksum after a cut. */
static size_t
cut(uint8_t *f, size_t len)
{
  put16(f + 16, (unsigned)(len - 14));
  put16(f + 24, 0);
  put16(f + 24, csum(f + 14, 20));
  put16(f + 38, (unsigned)(len - 34));
  return len;
}

/* Six offers that do not parse, each for its own reason. */
static void
send_malformed_offers(const uint8_t *req)
{
  uint8_t f[400];
  size_t n;
  n = dhcp_reply(f, req, 2);                   /* shorter than the fixed part */
  deliver(f, cut(f, 34 + 8 + 200));
  n = dhcp_reply(f, req, 2);                   /* a bad magic cookie */
  f[42 + 236] = 98;
  deliver(f, n);
  n = dhcp_reply(f, req, 2);                   /* an option running past the end */
  f[n - 1] = 3;                                /* END becomes "router, 200 bytes" */
  f[n] = 200;
  deliver(f, cut(f, n + 1));
  n = dhcp_reply(f, req, 2);                   /* no message type */
  f[42 + 240] = 0;
  f[42 + 241] = 0;
  f[42 + 242] = 0;
  deliver(f, n);
  n = dhcp_reply(f, req, 2);                   /* message type 99 */
  f[42 + 242] = 99;
  deliver(f, n);
  n = dhcp_reply(f, req, 2);                   /* a BOOTREQUEST from the server port */
  f[42] = 1;
  deliver(f, n);
  P.malformed_sent += 6;
}

static void
on_frame(const uint8_t *f, size_t len)
{
  if (len < 14)
    return;
  unsigned type = get16(f + 12);
  if (type == 0x0806 && len >= 42 && get16(f + 20) == 1 && get16(f + 38) == (PEER_IP >> 16) &&
      get16(f + 40) == (PEER_IP & 0xffff)) {
    P.arps++;
    uint8_t r[42];
    memcpy(r, f + 6, 6);
    memcpy(r + 6, peer_mac, 6);
    put16(r + 12, 0x0806);
    memcpy(r + 14, f + 14, 6);                 /* htype, ptype, hlen, plen */
    put16(r + 20, 2);
    memcpy(r + 22, peer_mac, 6);
    put32(r + 28, PEER_IP);
    memcpy(r + 32, f + 22, 10);                /* the asker's MAC and IP */
    deliver(r, sizeof r);
    return;
  }
  if (type != 0x0800 || len < 34)
    return;
  const uint8_t *ip = f + 14;
  size_t ihl = (size_t)(ip[0] & 15) * 4;
  const uint8_t *l4 = ip + ihl;
  uint32_t src = (uint32_t)get16(ip + 12) << 16 | get16(ip + 14);
  uint32_t dst = (uint32_t)get16(ip + 16) << 16 | get16(ip + 18);
  if (ip[9] == 17 && get16(l4 + 2) == 67 && len >= 14 + ihl + 8 + 243) {
    const uint8_t *m = l4 + 8;
    uint8_t mtype = 0;
    for (size_t i = 240; i + 2 < len - 14 - ihl - 8 && m[i] != 255;)
      if (m[i] == 0) {
        i++;
      } else {
        if (m[i] == 53)
          mtype = m[i + 2];
        i += 2 + (size_t)m[i + 1];
      }
    uint8_t r[400];
    if (mtype == 1) {                          /* DISCOVER -> (bad offers,) OFFER */
      P.discovers++;
      if (P.send_malformed) {
        P.send_malformed = 0;
        send_malformed_offers(m);
      }
      deliver(r, dhcp_reply(r, m, 2));
    } else if (mtype == 3) {                   /* REQUEST -> ACK */
      P.requests++;
      deliver(r, dhcp_reply(r, m, 5));
    }
    return;
  }
  if (ip[9] == 1 && dst == PEER_IP && l4[0] == 8) {  /* ICMP echo -> reply */
    P.pings++;
    size_t plen = get16(ip + 2) - ihl;
    uint8_t r[1600];
    size_t p = ip_frame(r, f + 6, PEER_IP, src, 1, plen);
    memcpy(r + p, l4, plen);
    r[p] = 0;
    put16(r + p + 2, 0);
    put16(r + p + 2, csum(r + p, plen));
    deliver(r, p + plen);
    return;
  }
  if (ip[9] == 6 && dst == PEER_IP && (l4[13] & 0x02))  /* SYN: into the void */
    P.syns++;
}

/* The wire: every frame mneme sends goes to the peer. */
static int
wire_task(void *arg)
{
  (void)arg;
  for (;;) {
    uint32_t seq = waitq_seq(&tx.readable);
    const uint8_t *g;
    size_t len;
    while (bbq_read(&tx, &g, &len) == 0) {
      size_t used = 0;
      while (used + NETDEV_REC_HDR <= len) {
        size_t flen = (size_t)g[used] | (size_t)g[used + 1] << 8;
        if (used + NETDEV_REC_HDR + flen > len)
          break;
        on_frame(g + used + NETDEV_REC_HDR, flen);
        used += NETDEV_REC_HDR + flen;
      }
      bbq_release(&tx, used);
    }
    if (waitq_wait_seq(&tx.readable, seq, MN_FOREVER) == MN_ECANCELED)
      return 0;
  }
}

static int
nic_task(void *arg)
{
  (void)arg;
  SVC_MSG_BUF(m, sizeof(struct netdev_req));
  while (svc_recv(srv, m, MN_FOREVER) == 0) {
    struct netdev_resp r = { &rx, &tx, &st, { 0 }, 1500, "fake0" };
    memcpy(r.mac, guest_mac, 6);
    svc_reply_ok(srv, &m->env, &r);
  }
  return 0;
}

static void
set_link(int up)
{
  st.link_up = (uint32_t)up;
  waitq_wake_all(&st.link_changed);
}

/* Waits (sleeping, not spinning) until the service reports the link
 * state; fails after 10 s. */
static void
wait_link(int up)
{
  struct net_ifinfo f;
  for (int i = 0; i < 1000; i++) {
    assert_int_equal(net_info(&f), 0);
    if (f.link_up == up)
      return;
    task_sleep(MN_MSEC(10));
  }
  fail_msg("the service did not see the link go %s", up ? "up" : "down");
}

static int
group_setup(void **state)
{
  (void)state;
  ktest_boot(32u * MB);
  if (getenv("NET_TEST_DEBUG"))
    klog_set_level(LOG_DEBUG);
  static const struct svc_type type = NETDEV_TYPE;
  waitq_init(&st.link_changed);
  st.link_up = 1;
  P.send_malformed = 1;
  assert_int_equal(bbq_init(&rx, 64 * 1024), 0);
  assert_int_equal(bbq_init(&tx, 64 * 1024), 0);
  assert_int_equal(svc_register(&(struct uuid)NETDEV_UUID, "fake-nic", &type, NULL,
                                SVC_ACCEPT_ALL, 4, &srv), 0);
  assert_int_equal(task_spawn("fake-nic", nic_task, NULL, 0, NULL), 0);
  assert_int_equal(task_spawn("wire", wire_task, NULL, 0, NULL), 0);
  struct net_config cfg = { .dhcp = 1 };
  assert_int_equal(net_start(&cfg), 0);
  return 0;
}

static void
test_malformed_dhcp_counted_then_lease(void **state)
{
  (void)state;
  assert_int_equal(net_wait_up(MN_SEC(20)), 0);
  struct net_ifinfo f;
  assert_int_equal(net_info(&f), 0);
  assert_int_equal(P.malformed_sent, 6);
  assert_int_equal(f.dhcp_malformed, 6);
  assert_int_equal(f.dns_malformed, 0);
  assert_true(f.bound && f.dhcp);
  assert_int_equal(f.ip, GUEST_IP);
  assert_int_equal(f.gateway, PEER_IP);
  assert_int_equal(f.lease_s, 3600);
  uint64_t rtt;
  assert_int_equal(net_ping(PEER_IP, MN_SEC(5), &rtt), 0);
}

static void
test_connect_timeout(void **state)
{
  (void)state;
  struct net_conn *c = NULL;
  int syns = P.syns;
  uint64_t t0 = ktime_now();
  assert_int_equal(net_tcp_connect("10.9.0.1", 8, 81, MN_MSEC(1500), &c), MN_ETIMEDOUT);
  uint64_t took = ktime_now() - t0;
  assert_true(took >= MN_MSEC(1500));
  assert_true(took < MN_SEC(5));
  assert_null(c);
  assert_true(P.syns > syns);
  /* nothing is left behind */
  size_t n = 99;
  struct net_conn_info rows[4];
  assert_int_equal(net_conn_list(rows, 4, &n), 0);
  assert_int_equal(n, 0);
}

static void
test_link_down_up_recovers(void **state)
{
  (void)state;
  uint64_t rtt;
  assert_int_equal(net_ping(PEER_IP, MN_SEC(5), &rtt), 0);
  int discovers = P.discovers, requests = P.requests;
  set_link(0);
  wait_link(0);
  /* down: no traffic goes out, callers hear so at once */
  int pings = P.pings;
  uint64_t t0 = ktime_now();
  int err = net_ping(PEER_IP, MN_SEC(3), &rtt);
  assert_true(err == MN_ENETDOWN || err == MN_ENOROUTE);
  assert_true(ktime_now() - t0 < MN_SEC(1));
  assert_int_equal(P.pings, pings);
  struct net_conn *c = NULL;
  err = net_tcp_connect("10.9.0.1", 8, 80, MN_SEC(3), &c);
  assert_true(err == MN_ENETDOWN || err == MN_ENOROUTE);
  assert_int_equal(net_wait_up(MN_MSEC(50)), MN_ETIMEDOUT);
  /* up again: DHCP asks again and the lease comes back */
  set_link(1);
  wait_link(1);
  assert_int_equal(net_wait_up(MN_SEC(20)), 0);
  assert_true(P.discovers + P.requests > discovers + requests);
  struct net_ifinfo f;
  assert_int_equal(net_info(&f), 0);
  assert_true(f.bound);
  assert_int_equal(f.ip, GUEST_IP);
  assert_int_equal(net_ping(PEER_IP, MN_SEC(5), &rtt), 0);
  assert_int_equal(f.dhcp_malformed, 6);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_malformed_dhcp_counted_then_lease),
    cmocka_unit_test(test_connect_timeout),
    cmocka_unit_test(test_link_down_up_recovers),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
