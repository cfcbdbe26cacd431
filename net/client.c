/*
 * client.c: the network service's client calls (include/mneme/net.h).
 *
 * Interface: every net_* call of net.h but net_start.
 *
 * Control goes through the registry (NET_UUID, one svc_call per
 * operation); data goes through the connection's rings, and a call that
 * moved bytes kicks the service so it looks at them.
 */
#include <string.h>
#include "mneme/err.h"
#include "mneme/ktime.h"
#include "net_int.h"

#define CALL_SLACK MN_SEC(2)     /* beyond the operation's own timeout */
#define SHORT_CALL MN_SEC(5)

static int
call(struct net_req *q, struct net_resp *r, uint64_t timeout_ns)
{
  static const struct svc_type type = NET_TYPE;
  struct svc_client c;
  struct net_err e = { 0 };
  int err = svc_connect(&(struct uuid)NET_UUID, &type, NULL, NULL, 0, &c);
  if (err)
    return err == MN_ENOENT || err == MN_ETIMEDOUT ? MN_ENETDOWN : err;
  uint64_t t = timeout_ns > UINT64_MAX - CALL_SLACK ? UINT64_MAX : timeout_ns + CALL_SLACK;
  err = svc_call(&c, q, r, &e, t);
  svc_disconnect(&c);
  return err == MN_ESERVICE ? e.code : err;
}

int
net_info(struct net_ifinfo *out)
{
  struct net_req q = { .kind = NET_REQ_INFO };
  struct net_resp r;
  int err = call(&q, &r, SHORT_CALL);
  if (!err)
    *out = r.u.info;
  return err;
}

int
net_wait_up(uint64_t timeout_ns)
{
  struct net_req q = { .kind = NET_REQ_WAIT_UP, .timeout_ns = timeout_ns };
  struct net_resp r;
  return call(&q, &r, timeout_ns);
}

int
net_conn_list(struct net_conn_info *rows, size_t max, size_t *n)
{
  struct net_req q = { .kind = NET_REQ_CONNS, .rows = rows, .max = max };
  struct net_resp r;
  int err = call(&q, &r, SHORT_CALL);
  if (!err)
    *n = r.u.n;
  return err;
}

int
net_resolve(const char *name, size_t len, uint64_t timeout_ns, net_ip4 *out)
{
  struct net_req q = { .kind = NET_REQ_RESOLVE, .name = name, .len = len,
                       .timeout_ns = timeout_ns };
  struct net_resp r;
  int err = call(&q, &r, timeout_ns);
  if (!err)
    *out = r.u.ip;
  return err;
}

int
net_ping(net_ip4 ip, uint64_t timeout_ns, uint64_t *rtt_ns)
{
  struct net_req q = { .kind = NET_REQ_PING, .ip = ip, .timeout_ns = timeout_ns };
  struct net_resp r;
  int err = call(&q, &r, timeout_ns);
  if (!err)
    *rtt_ns = r.u.rtt_ns;
  return err;
}

int
net_tcp_connect(const char *host, size_t len, uint16_t port, uint64_t timeout_ns,
                struct net_conn **out)
{
  uint64_t deadline = ktime_deadline(timeout_ns);
  net_ip4 ip;
  int err = net_resolve(host, len, timeout_ns, &ip);
  if (err)
    return err;
  uint64_t now = ktime_now();
  if (now >= deadline)
    return MN_ETIMEDOUT;
  struct net_req q = { .kind = NET_REQ_CONNECT, .ip = ip, .port = port,
                       .timeout_ns = deadline - now };
  struct net_resp r;
  err = call(&q, &r, deadline - now);
  if (!err)
    *out = r.u.handle;
  return err;
}

int
net_tcp_listen(uint16_t port, struct net_listener **out)
{
  struct net_req q = { .kind = NET_REQ_LISTEN, .port = port };
  struct net_resp r;
  int err = call(&q, &r, SHORT_CALL);
  if (!err)
    *out = r.u.handle;
  return err;
}

uint16_t
net_listener_port(const struct net_listener *l)
{
  return l->port;
}

int
net_tcp_accept(struct net_listener *l, uint64_t timeout_ns, struct net_conn **out)
{
  struct net_req q = { .kind = NET_REQ_ACCEPT, .handle = l, .timeout_ns = timeout_ns };
  struct net_resp r;
  int err = call(&q, &r, timeout_ns);
  if (!err)
    *out = r.u.handle;
  return err;
}

void
net_listener_close(struct net_listener *l)
{
  struct net_req q = { .kind = NET_REQ_LISTEN_CLOSE, .handle = l };
  struct net_resp r;
  call(&q, &r, SHORT_CALL);
}

void
net_conn_kick(struct net_conn *c)
{
  (void)c;
  net_kick_service();
}

int
net_tcp_write(struct net_conn *c, const void *data, size_t len, uint64_t timeout_ns)
{
  uint64_t deadline = ktime_deadline(timeout_ns);
  const uint8_t *p = data;
  while (len) {
    uint64_t now = ktime_now();
    uint8_t *g;
    size_t n;
    int err = now >= deadline ? MN_ETIMEDOUT
              : bbq_send_grant_max(&c->tx, len, deadline - now, &g, &n);
    if (err)
      return err == MN_ECLOSED && c->error ? c->error : err;
    memcpy(g, p, n);
    bbq_commit(&c->tx, n);
    net_kick_service();
    p += n;
    len -= n;
  }
  return 0;
}

int
net_tcp_read(struct net_conn *c, void *buf, size_t cap, uint64_t timeout_ns, size_t *got)
{
  const uint8_t *g;
  size_t n;
  *got = 0;
  if (cap == 0)
    return 0;
  int err = bbq_read_grant(&c->rx, timeout_ns, &g, &n);
  if (err == MN_ECLOSED)
    return c->error;             /* 0: the end of the stream */
  if (err)
    return err;
  if (n > cap)
    n = cap;
  memcpy(buf, g, n);
  bbq_release(&c->rx, n);
  net_kick_service();
  *got = n;
  return 0;
}

void
net_tcp_shutdown(struct net_conn *c)
{
  bbq_close(&c->tx);
  net_kick_service();
}

void
net_tcp_close(struct net_conn *c)
{
  struct net_req q = { .kind = NET_REQ_CLOSE, .handle = c };
  struct net_resp r;
  call(&q, &r, SHORT_CALL);
}

int
net_udp_open(uint16_t port, struct net_udp **out)
{
  struct net_req q = { .kind = NET_REQ_UDP_OPEN, .port = port };
  struct net_resp r;
  int err = call(&q, &r, SHORT_CALL);
  if (!err)
    *out = r.u.handle;
  return err;
}

int
net_udp_sendto(struct net_udp *u, net_ip4 ip, uint16_t port, const void *data, size_t len)
{
  struct net_req q = { .kind = NET_REQ_UDP_SEND, .handle = u, .ip = ip, .port = port,
                       .data = data, .len = len };
  struct net_resp r;
  return call(&q, &r, SHORT_CALL);
}

int
net_udp_recvfrom(struct net_udp *u, void *buf, size_t cap, size_t *len, net_ip4 *ip,
                 uint16_t *port, uint64_t timeout_ns)
{
  struct bbq *rx = &u->rx;
  const uint8_t *g;
  size_t n;
  int err = bbq_read_grant(rx, timeout_ns, &g, &n);
  if (err)
    return err;
  size_t dlen = (size_t)g[0] | (size_t)g[1] << 8;
  memcpy(ip, g + 2, 4);
  *port = (uint16_t)(g[6] | g[7] << 8);
  *len = dlen < cap ? dlen : cap;
  memcpy(buf, g + 8, *len);
  bbq_release(rx, 8 + dlen);
  return 0;
}

void
net_udp_close(struct net_udp *u)
{
  struct net_req q = { .kind = NET_REQ_UDP_CLOSE, .handle = u };
  struct net_resp r;
  call(&q, &r, SHORT_CALL);
}

/* ---- addresses ------------------------------------------------------------------- */

int
net_ip4_parse(const char *s, size_t len, net_ip4 *out)
{
  net_ip4 ip = 0;
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    unsigned v = 0, digits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
      v = v * 10 + (unsigned)(s[i++] - '0');
      digits++;
    }
    if (digits == 0 || digits > 3 || v > 255)
      return MN_EINVAL;
    ip = ip << 8 | v;
    if (part < 3) {
      if (i >= len || s[i] != '.')
        return MN_EINVAL;
      i++;
    }
  }
  if (i != len)
    return MN_EINVAL;
  *out = ip;
  return 0;
}

void
net_ip4_format(net_ip4 ip, char buf[16])
{
  char *p = buf;
  for (int k = 3; k >= 0; k--) {
    unsigned v = (ip >> (8 * k)) & 0xff;
    if (v >= 100)
      *p++ = (char)('0' + v / 100);
    if (v >= 10)
      *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    if (k)
      *p++ = '.';
  }
  *p = 0;
}
