/*
 * net.c: the network service: one task owns lwIP (docs/net.md).
 *
 * Interface: net_start, net_kick_service (client.c).
 *
 * Tasks:
 *   net         owns lwIP: requests from its inbox, frames from the NIC's
 *               rx ring, lwIP's timers (its wait deadline is the next
 *               lwIP timeout, on the kernel's timer wheel), the rings of
 *               every connection. It waits on one queue, N.wake, which
 *               everything below wakes.
 *   net-svc     receives registry requests into the inbox.
 *   net-attach  waits for the first NIC (NETDEV_UUID) and takes it.
 *   net-rxwatch wakes the net task when the NIC commits a frame.
 *   net-link    wakes it when the NIC's link changes.
 * Requests that complete later (connect, accept, resolve, ping, wait
 * for an address) wait as "ops" with a deadline.
 */
#include <string.h>
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/etharp.h"
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "netif/ethernet.h"
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/config.h"
#include "mneme/netdev.h"
#include "mneme/status.h"
#include "mneme/task.h"
#include "net_int.h"

#define RX_BATCH 64              /* frames per turn before yielding */
#define TX_WAIT MN_MSEC(100)     /* longest wait for room in the NIC's tx ring */
#define UDP_RING (32u * 1024u)
#define PING_ID 0x6d6e

enum op_kind { OP_CONNECT, OP_ACCEPT, OP_RESOLVE, OP_PING, OP_WAIT_UP };

struct op {
  struct op *next;
  enum op_kind kind;
  uint32_t id;
  uint64_t deadline, t0;
  struct svc_envelope env;
  void *obj;                     /* conn or listener */
  uint16_t seq;
};

struct inbox_msg {
  struct inbox_msg *next;
  struct svc_msg msg;            /* variable size: last */
};

enum { CS_CONNECTING, CS_ESTABLISHED, CS_CLOSED };

static struct {
  struct svc_server *srv;
  struct waitq wake;
  struct inbox_msg *inbox, *inbox_tail;
  struct op *ops;
  uint32_t next_op;
  struct net_config cfg;
  /* the NIC */
  volatile int dev_ready;
  int attached;
  struct netdev_resp dev;
  struct netif nif;
  uint32_t link_seen;
  uint64_t bad_frames, tx_dropped_here;
  uint64_t dhcp_malformed, dns_malformed;
  /* lwIP objects */
  struct raw_pcb *icmp;
  uint16_t ping_seq;
  struct net_conn *conns;
  struct net_listener *listeners;
  struct net_udp *udps;
  uint32_t tcp_total;
} N;

unsigned short net_dns_port = 53;

/* ---- helpers ------------------------------------------------------------------ */

static net_ip4
ip_of(const ip_addr_t *a)
{
  return lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(a)));
}

static ip_addr_t
addr_of(net_ip4 ip)
{
  ip_addr_t a;
  ip_addr_set_ip4_u32(&a, lwip_htonl(ip));
  return a;
}

static int
map_err(err_t e)
{
  switch (e) {
  case ERR_OK: return 0;
  case ERR_MEM: case ERR_BUF: return MN_ENOMEM;
  case ERR_TIMEOUT: return MN_ETIMEDOUT;
  case ERR_RTE: return MN_ENOROUTE;
  case ERR_USE: case ERR_ISCONN: return MN_EADDRINUSE;
  case ERR_ABRT: return MN_ECONNABORTED;
  case ERR_RST: return MN_ECONNRESET;
  case ERR_CLSD: return MN_ECLOSED;
  case ERR_CONN: return MN_ENETDOWN;
  case ERR_ARG: case ERR_VAL: return MN_EINVAL;
  case ERR_IF: return MN_ENETDOWN;
  default: return MN_EIO;
  }
}

static int
is_up(void)
{
  return N.attached && netif_is_up(&N.nif) && netif_is_link_up(&N.nif) &&
         !ip4_addr_isany_val(*netif_ip4_addr(&N.nif));
}

/* Why traffic to ip cannot leave, or 0: MN_ENETDOWN (no link or
 * address), MN_ENOROUTE (off the interface's subnet and no gateway:
 * lwIP would route it to the interface and then drop every frame, so the
 * caller would only hear of it by a timeout). */
static int
route_err(net_ip4 ip)
{
  if (!is_up())
    return MN_ENETDOWN;
  net_ip4 me = lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&N.nif)));
  net_ip4 mask = lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(&N.nif)));
  net_ip4 gw = lwip_ntohl(ip4_addr_get_u32(netif_ip4_gw(&N.nif)));
  if (ip == 0xffffffffu || (ip & mask) == (me & mask) || gw != 0)
    return 0;
  return MN_ENOROUTE;
}

static void
reply_err(const struct svc_envelope *env, int code)
{
  struct net_err e = { code };
  svc_reply_err(N.srv, env, &e);
}

static int
reply_ok(const struct svc_envelope *env, const struct net_resp *r)
{
  return svc_reply_ok(N.srv, env, r);
}

static struct op *
op_new(enum op_kind kind, const struct svc_envelope *env, uint64_t timeout_ns, void *obj)
{
  struct op *o = kzalloc(sizeof *o);
  if (!o)
    return NULL;
  o->kind = kind;
  o->id = ++N.next_op;
  o->t0 = ktime_now();
  o->deadline = ktime_deadline(timeout_ns);
  o->env = *env;
  o->obj = obj;
  o->next = N.ops;
  N.ops = o;
  return o;
}

static void
op_free(struct op *o)
{
  for (struct op **p = &N.ops; *p; p = &(*p)->next) {
    if (*p == o) {
      *p = o->next;
      break;
    }
  }
  kfree(o);
}

static struct op *
op_find(enum op_kind kind, void *obj)
{
  for (struct op *o = N.ops; o; o = o->next)
    if (o->kind == kind && o->obj == obj)
      return o;
  return NULL;
}

/* ---- connections ----------------------------------------------------------------- */

static struct net_conn *
conn_new(void)
{
  struct net_conn *c = kzalloc(sizeof *c);
  if (!c)
    return NULL;
  if (bbq_init(&c->rx, NET_RING_SIZE)) {
    kfree(c);
    return NULL;
  }
  if (bbq_init(&c->tx, NET_RING_SIZE)) {
    bbq_destroy(&c->rx);
    kfree(c);
    return NULL;
  }
  c->next = N.conns;
  N.conns = c;
  N.tcp_total++;
  return c;
}

static void
conn_free(struct net_conn *c)
{
  for (struct net_conn **p = &N.conns; *p; p = &(*p)->next) {
    if (*p == c) {
      *p = c->next;
      break;
    }
  }
  if (c->pending)
    pbuf_free(c->pending);
  bbq_destroy(&c->rx);
  bbq_destroy(&c->tx);
  kfree(c);
}

/* The connection failed or ended without us: rings closed, reason kept. */
static void
conn_fail(struct net_conn *c, int code)
{
  c->pcb = NULL;
  c->state = CS_CLOSED;
  if (!c->error)
    c->error = code;
  if (c->pending) {
    pbuf_free(c->pending);
    c->pending = NULL;
  }
  if (!c->rx_closed) {
    bbq_close(&c->rx);
    c->rx_closed = 1;
  }
  bbq_close(&c->tx);
}

static void
conn_detach_pcb(struct tcp_pcb *pcb)
{
  tcp_arg(pcb, NULL);
  tcp_recv(pcb, NULL);
  tcp_sent(pcb, NULL);
  tcp_err(pcb, NULL);
}

/* Moves received bytes into rx as room allows; opens the window by what
 * moved; closes rx at the peer's FIN once everything is in. */
static void
pump_rx(struct net_conn *c)
{
  while (c->pending) {
    struct pbuf *p = c->pending;
    uint8_t *g;
    size_t room;
    if (bbq_grant_max(&c->rx, p->tot_len, &g, &room))
      break;
    uint16_t n = pbuf_copy_partial(p, g, (u16_t)(room < 0xffff ? room : 0xffff), 0);
    bbq_commit(&c->rx, n);
    c->pending = pbuf_free_header(p, n);
    c->rx_total += n;
    if (c->pcb)
      tcp_recved(c->pcb, n);
  }
  if (!c->pending && c->fin_rcvd && !c->rx_closed) {
    bbq_close(&c->rx);
    c->rx_closed = 1;
  }
}

/* Hands bytes from tx to lwIP as its send buffer allows; FIN after a
 * closed tx is drained. */
static void
pump_tx(struct net_conn *c)
{
  struct tcp_pcb *pcb = c->pcb;
  int wrote = 0;
  if (!pcb || c->state != CS_ESTABLISHED || c->fin_sent)
    return;
  for (;;) {
    size_t room = tcp_sndbuf(pcb);
    const uint8_t *g;
    size_t len;
    if (room == 0 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 4)
      break;
    int err = bbq_read(&c->tx, &g, &len);
    if (err == MN_ECLOSED) {
      if (!c->user_closed && tcp_shutdown(pcb, 0, 1) == ERR_OK)
        c->fin_sent = 1;
      break;
    }
    if (err)
      break;
    size_t n = len < room ? len : room;
    if (n > 0xffff)
      n = 0xffff;
    err_t e = tcp_write(pcb, g, (u16_t)n, TCP_WRITE_FLAG_COPY |
                        (n < len ? TCP_WRITE_FLAG_MORE : 0));
    if (e != ERR_OK) {
      bbq_release(&c->tx, 0);
      break;
    }
    bbq_release(&c->tx, n);
    c->tx_total += n;
    wrote = 1;
  }
  if (wrote)
    tcp_output(pcb);
}

/* A connection the client has closed: send what is left, then FIN, and
 * forget it. */
static void
conn_finish(struct net_conn *c)
{
  if (c->pcb) {
    struct tcp_pcb *pcb = c->pcb;
    if (c->pending) {
      u32_t n = ((struct pbuf *)c->pending)->tot_len;
      pbuf_free(c->pending);
      c->pending = NULL;
      while (n) {
        u16_t k = n > 0xffff ? 0xffff : (u16_t)n;
        tcp_recved(pcb, k);
        n -= k;
      }
    }
    tcp_recv(pcb, NULL);
    if (c->state == CS_ESTABLISHED) {
      pump_tx(c);
      if (bbq_used(&c->tx))
        return;                  /* more to hand over when room appears */
    }
    conn_detach_pcb(pcb);
    if (tcp_close(pcb) != ERR_OK)
      tcp_abort(pcb);
    c->pcb = NULL;
  }
  conn_free(c);
}

static err_t
on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  struct net_conn *c = arg;
  if (!c) {
    if (p) {
      tcp_recved(pcb, p->tot_len);
      pbuf_free(p);
    }
    return ERR_OK;
  }
  if (!p) {
    klog(LOG_DEBUG, "net: FIN from %u", c->remote_port);
    c->fin_rcvd = 1;
  } else if (c->pending) {
    pbuf_cat(c->pending, p);
  } else {
    c->pending = p;
  }
  pump_rx(c);
  return ERR_OK;
}

static err_t
on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
  struct net_conn *c = arg;
  if (c)
    pump_tx(c);
  return ERR_OK;
}

static void
on_err(void *arg, err_t err)
{
  struct net_conn *c = arg;
  if (!c)
    return;
  struct op *o = op_find(OP_CONNECT, c);
  int code = map_err(err);
  klog(LOG_DEBUG, "net: connection to %u failed: %d", c->remote_port, err);
  if (o) {
    if (err == ERR_RST)
      code = MN_ECONNREFUSED;
    c->pcb = NULL;
    reply_err(&o->env, code);
    op_free(o);
    conn_free(c);
    return;
  }
  if (err == ERR_CLSD)
    code = 0;
  conn_fail(c, code);
}

static void
conn_setup(struct net_conn *c, struct tcp_pcb *pcb)
{
  c->pcb = pcb;
  c->state = CS_ESTABLISHED;
  c->local_ip = ip_of(&pcb->local_ip);
  c->remote_ip = ip_of(&pcb->remote_ip);
  c->local_port = pcb->local_port;
  c->remote_port = pcb->remote_port;
  tcp_arg(pcb, c);
  tcp_recv(pcb, on_recv);
  tcp_sent(pcb, on_sent);
  tcp_err(pcb, on_err);
  tcp_nagle_disable(pcb);
}

static err_t
on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct net_conn *c = arg;
  struct op *o = op_find(OP_CONNECT, c);
  conn_setup(c, pcb);
  if (o) {
    struct net_resp r = { .u.handle = c };
    if (reply_ok(&o->env, &r) != 0)
      c->user_closed = 1;        /* the caller gave up: nobody owns it */
    op_free(o);
  }
  return ERR_OK;
}

static void
do_connect(const struct svc_envelope *env, const struct net_req *q)
{
  int rerr = route_err(q->ip);
  if (rerr) {
    reply_err(env, rerr);
    return;
  }
  struct net_conn *c = conn_new();
  struct tcp_pcb *pcb = c ? tcp_new() : NULL;
  if (!pcb) {
    if (c)
      conn_free(c);
    reply_err(env, MN_ENOMEM);
    return;
  }
  c->pcb = pcb;
  c->state = CS_CONNECTING;
  c->remote_ip = q->ip;
  c->remote_port = q->port;
  tcp_arg(pcb, c);
  tcp_err(pcb, on_err);
  struct op *o = op_new(OP_CONNECT, env, q->timeout_ns, c);
  ip_addr_t a = addr_of(q->ip);
  err_t e = o ? tcp_connect(pcb, &a, q->port, on_connected) : ERR_MEM;
  if (e != ERR_OK) {
    if (o)
      op_free(o);
    conn_detach_pcb(pcb);
    tcp_abort(pcb);
    c->pcb = NULL;
    conn_free(c);
    reply_err(env, map_err(e));
  }
}

/* ---- listeners ------------------------------------------------------------------- */

static err_t
on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct net_listener *l = arg;
  if (!l || err != ERR_OK || !pcb)
    return ERR_VAL;
  struct net_conn *c = conn_new();
  if (!c)
    return ERR_MEM;              /* lwIP aborts the new pcb */
  conn_setup(c, pcb);
  struct op *o = op_find(OP_ACCEPT, l);
  if (o) {
    struct net_resp r = { .u.handle = c };
    if (reply_ok(&o->env, &r) != 0)
      c->user_closed = 1;        /* the caller gave up: nobody owns it */
    op_free(o);
  } else {
    c->listener = l;             /* waits in l's backlog for an accept */
  }
  return ERR_OK;
}

static struct net_conn *
backlog_pop(struct net_listener *l)
{
  /* the oldest accepted connection of l still waiting to be handed out */
  struct net_conn *found = NULL;
  for (struct net_conn *c = N.conns; c; c = c->next)
    if (c->listener == l && !c->user_closed)
      found = c;                 /* N.conns is newest first: the last is oldest */
  if (found)
    found->listener = NULL;
  return found;
}

static void
do_listen(const struct svc_envelope *env, const struct net_req *q)
{
  struct net_listener *l = kzalloc(sizeof *l);
  struct tcp_pcb *pcb = l ? tcp_new() : NULL;
  if (!pcb) {
    kfree(l);
    reply_err(env, MN_ENOMEM);
    return;
  }
  err_t e = tcp_bind(pcb, IP_ADDR_ANY, q->port);
  if (e != ERR_OK) {
    tcp_abort(pcb);
    kfree(l);
    reply_err(env, map_err(e));
    return;
  }
  l->port = pcb->local_port;
  struct tcp_pcb *lp = tcp_listen_with_backlog(pcb, TCP_DEFAULT_LISTEN_BACKLOG);
  if (!lp) {
    tcp_abort(pcb);
    kfree(l);
    reply_err(env, MN_ENOMEM);
    return;
  }
  l->pcb = lp;
  tcp_arg(lp, l);
  tcp_accept(lp, on_accept);
  l->next = N.listeners;
  N.listeners = l;
  struct net_resp r = { .u.handle = l };
  if (reply_ok(env, &r) != 0)
    l->closed = 1;
}

static void
listener_close(struct net_listener *l)
{
  for (struct net_listener **p = &N.listeners; *p; p = &(*p)->next) {
    if (*p == l) {
      *p = l->next;
      break;
    }
  }
  if (l->pcb) {
    tcp_arg(l->pcb, NULL);
    tcp_accept(l->pcb, NULL);
    tcp_close(l->pcb);
  }
  for (struct net_conn *c = N.conns; c; c = c->next)
    if (c->listener == l) {
      c->listener = NULL;
      c->user_closed = 1;
    }
  struct op *o;
  while ((o = op_find(OP_ACCEPT, l)) != NULL) {
    reply_err(&o->env, MN_ECLOSED);
    op_free(o);
  }
  kfree(l);
}

/* ---- UDP ------------------------------------------------------------------------------ */

static void
on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
  struct net_udp *u = arg;
  uint8_t *g;
  size_t len = p->tot_len;
  if (u && len <= 0xffff && bbq_grant_exact(&u->rx, 8 + len, &g) == 0) {
    net_ip4 ip = ip_of(addr);
    g[0] = (uint8_t)len;
    g[1] = (uint8_t)(len >> 8);
    memcpy(g + 2, &ip, 4);
    g[6] = (uint8_t)port;
    g[7] = (uint8_t)(port >> 8);
    pbuf_copy_partial(p, g + 8, (u16_t)len, 0);
    bbq_commit(&u->rx, 8 + len);
  } else if (u) {
    u->dropped++;
  }
  pbuf_free(p);
}

static void
do_udp_open(const struct svc_envelope *env, const struct net_req *q)
{
  struct net_udp *u = kzalloc(sizeof *u);
  if (!u || bbq_init(&u->rx, UDP_RING)) {
    kfree(u);
    reply_err(env, MN_ENOMEM);
    return;
  }
  u->pcb = udp_new();
  err_t e = u->pcb ? udp_bind(u->pcb, IP_ADDR_ANY, q->port) : ERR_MEM;
  if (e != ERR_OK) {
    if (u->pcb)
      udp_remove(u->pcb);
    bbq_destroy(&u->rx);
    kfree(u);
    reply_err(env, map_err(e));
    return;
  }
  u->port = ((struct udp_pcb *)u->pcb)->local_port;
  udp_recv(u->pcb, on_udp, u);
  u->next = N.udps;
  N.udps = u;
  struct net_resp r = { .u.handle = u };
  reply_ok(env, &r);
}

static void
udp_close(struct net_udp *u)
{
  for (struct net_udp **p = &N.udps; *p; p = &(*p)->next) {
    if (*p == u) {
      *p = u->next;
      break;
    }
  }
  udp_remove(u->pcb);
  bbq_destroy(&u->rx);
  kfree(u);
}

static void
do_udp_send(const struct svc_envelope *env, const struct net_req *q)
{
  struct net_udp *u = q->handle;
  int rerr = route_err(q->ip);
  if (rerr) {
    reply_err(env, rerr);
    return;
  }
  if (q->len > 65507) {
    reply_err(env, MN_EINVAL);
    return;
  }
  struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)q->len, PBUF_RAM);
  if (!p) {
    reply_err(env, MN_ENOMEM);
    return;
  }
  pbuf_take(p, q->data, (u16_t)q->len);
  ip_addr_t a = addr_of(q->ip);
  err_t e = udp_sendto(u->pcb, p, &a, q->port);
  pbuf_free(p);
  if (e != ERR_OK) {
    reply_err(env, map_err(e));
  } else {
    struct net_resp r = { .u.n = q->len };
    reply_ok(env, &r);
  }
}

/* ---- ping ----------------------------------------------------------------------------- */

static u8_t
on_icmp(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
  struct icmp_echo_hdr h;
  if (p->tot_len < IP_HLEN)
    return 0;
  uint8_t vhl;
  pbuf_copy_partial(p, &vhl, 1, 0);
  u16_t hlen = (u16_t)((vhl & 0x0f) * 4);
  if (p->tot_len < hlen + sizeof h ||
      pbuf_copy_partial(p, &h, sizeof h, hlen) != sizeof h)
    return 0;
  if (h.type != ICMP_ER || lwip_ntohs(h.id) != PING_ID)
    return 0;
  uint16_t seq = lwip_ntohs(h.seqno);
  for (struct op *o = N.ops; o; o = o->next) {
    if (o->kind == OP_PING && o->seq == seq && (net_ip4)(uintptr_t)o->obj == ip_of(addr)) {
      struct net_resp r = { .u.rtt_ns = ktime_now() - o->t0 };
      reply_ok(&o->env, &r);
      op_free(o);
      pbuf_free(p);
      return 1;
    }
  }
  return 0;
}

static void
do_ping(const struct svc_envelope *env, const struct net_req *q)
{
  int rerr = route_err(q->ip);
  if (rerr) {
    reply_err(env, rerr);
    return;
  }
  const size_t data = 32;
  struct pbuf *p = pbuf_alloc(PBUF_IP, (u16_t)(sizeof(struct icmp_echo_hdr) + data), PBUF_RAM);
  struct op *o = p ? op_new(OP_PING, env, q->timeout_ns, (void *)(uintptr_t)q->ip) : NULL;
  if (!o) {
    if (p)
      pbuf_free(p);
    reply_err(env, MN_ENOMEM);
    return;
  }
  o->seq = ++N.ping_seq;
  struct icmp_echo_hdr *h = p->payload;
  h->type = ICMP_ECHO;
  h->code = 0;
  h->chksum = 0;
  h->id = lwip_htons(PING_ID);
  h->seqno = lwip_htons(o->seq);
  uint8_t *d = (uint8_t *)(h + 1);
  for (size_t i = 0; i < data; i++)
    d[i] = (uint8_t)('a' + i % 26);
  h->chksum = inet_chksum(h, (u16_t)(sizeof *h + data));
  ip_addr_t a = addr_of(q->ip);
  o->t0 = ktime_now();
  err_t e = raw_sendto(N.icmp, p, &a);
  pbuf_free(p);
  if (e != ERR_OK) {
    op_free(o);
    reply_err(env, map_err(e));
  }
}

/* ---- names ------------------------------------------------------------------------------ */

static void
on_dns(const char *name, const ip_addr_t *addr, void *arg)
{
  uint32_t id = (uint32_t)(uintptr_t)arg;
  for (struct op *o = N.ops; o; o = o->next) {
    if (o->kind == OP_RESOLVE && o->id == id) {
      if (addr) {
        struct net_resp r = { .u.ip = ip_of(addr) };
        reply_ok(&o->env, &r);
      } else {
        reply_err(&o->env, MN_ENONAME);
      }
      op_free(o);
      return;
    }
  }
}

static void
do_resolve(const struct svc_envelope *env, const struct net_req *q)
{
  char name[DNS_MAX_NAME_LENGTH + 1];
  net_ip4 ip;
  if (q->len == 0 || q->len > DNS_MAX_NAME_LENGTH) {
    reply_err(env, MN_EINVAL);
    return;
  }
  if (net_ip4_parse(q->name, q->len, &ip) == 0) {
    struct net_resp r = { .u.ip = ip };
    reply_ok(env, &r);
    return;
  }
  if (!is_up()) {
    reply_err(env, MN_ENETDOWN);
    return;
  }
  memcpy(name, q->name, q->len);
  name[q->len] = 0;
  struct op *o = op_new(OP_RESOLVE, env, q->timeout_ns, NULL);
  if (!o) {
    reply_err(env, MN_ENOMEM);
    return;
  }
  ip_addr_t a;
  err_t e = dns_gethostbyname(name, &a, on_dns, (void *)(uintptr_t)o->id);
  if (e == ERR_OK) {
    struct net_resp r = { .u.ip = ip_of(&a) };
    reply_ok(env, &r);
    op_free(o);
  } else if (e != ERR_INPROGRESS) {
    reply_err(env, e == ERR_VAL ? MN_ENONAME : map_err(e));
    op_free(o);
  }
}

/* ---- interface ---------------------------------------------------------------------------- */

static void
fill_info(struct net_ifinfo *f)
{
  memset(f, 0, sizeof *f);
  f->present = (uint8_t)N.attached;
  f->dhcp = N.cfg.dhcp;
  if (!N.attached)
    return;
  memcpy(f->name, N.dev.name, sizeof f->name);
  memcpy(f->mac, N.dev.mac, 6);
  f->mtu = N.dev.mtu;
  f->link_up = (uint8_t)N.dev.state->link_up;
  f->bound = (uint8_t)is_up();
  f->ip = lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&N.nif)));
  f->netmask = lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(&N.nif)));
  f->gateway = lwip_ntohl(ip4_addr_get_u32(netif_ip4_gw(&N.nif)));
  for (int i = 0; i < 2; i++)
    f->dns[i] = ip_of(dns_getserver((u8_t)i));
  struct dhcp *d = netif_dhcp_data(&N.nif);
  if (d && N.cfg.dhcp && dhcp_supplied_address(&N.nif))
    f->lease_s = d->offered_t0_lease;
  const struct netdev_counters *k = &N.dev.state->count;
  f->rx_packets = k->rx_packets;
  f->rx_bytes = k->rx_bytes;
  f->rx_dropped = k->rx_dropped;
  f->rx_errors = k->rx_errors;
  f->tx_packets = k->tx_packets;
  f->tx_bytes = k->tx_bytes;
  f->tx_dropped = k->tx_dropped + N.tx_dropped_here;
  f->tx_errors = k->tx_errors;
  f->bad_frames = N.bad_frames;
  f->dhcp_malformed = N.dhcp_malformed;
  f->dns_malformed = N.dns_malformed;
  for (struct net_conn *c = N.conns; c; c = c->next)
    f->tcp_open += c->pcb != NULL;
  for (struct net_listener *l = N.listeners; l; l = l->next)
    f->tcp_listen++;
  for (struct net_udp *u = N.udps; u; u = u->next)
    f->udp_open++;
  f->tcp_total = N.tcp_total;
}

static const char *
state_name(const struct net_conn *c)
{
  static const char *const names[] = {
    "CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
    "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
  };
  if (!c->pcb)
    return c->error ? "FAILED" : "CLOSED";
  unsigned s = ((struct tcp_pcb *)c->pcb)->state;
  return s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static void
do_conns(const struct svc_envelope *env, const struct net_req *q)
{
  size_t n = 0;
  for (struct net_listener *l = N.listeners; l; l = l->next, n++) {
    if (n < q->max) {
      struct net_conn_info *r = &q->rows[n];
      memset(r, 0, sizeof *r);
      r->local_port = l->port;
      memcpy(r->state, "LISTEN", 7);
    }
  }
  for (struct net_conn *c = N.conns; c; c = c->next, n++) {
    if (n < q->max) {
      struct net_conn_info *r = &q->rows[n];
      memset(r, 0, sizeof *r);
      r->local_ip = c->local_ip;
      r->remote_ip = c->remote_ip;
      r->local_port = c->local_port;
      r->remote_port = c->remote_port;
      const char *s = state_name(c);
      size_t k = strlen(s);
      memcpy(r->state, s, k < sizeof r->state ? k + 1 : sizeof r->state);
      r->rx_queued = (uint32_t)bbq_used(&c->rx);
      r->tx_queued = (uint32_t)bbq_used(&c->tx);
      r->rx_total = c->rx_total;
      r->tx_total = c->tx_total;
    }
  }
  struct net_resp r = { .u.n = n };
  reply_ok(env, &r);
}

static void
wake_up_waiters(void)
{
  if (!is_up())
    return;
  struct op *o = N.ops;
  while (o) {
    struct op *next = o->next;
    if (o->kind == OP_WAIT_UP) {
      struct net_resp r = { .u.n = 0 };
      reply_ok(&o->env, &r);
      op_free(o);
    }
    o = next;
  }
}

static void
apply_dns(void)
{
  for (u8_t i = 0; i < N.cfg.ndns && i < DNS_MAX_SERVERS; i++) {
    ip_addr_t a = addr_of(N.cfg.dns[i]);
    dns_setserver(i, &a);
  }
}

static void
on_status(struct netif *nif)
{
  if (!ip4_addr_isany_val(*netif_ip4_addr(nif))) {
    char a[16], g[16];
    net_ip4_format(lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(nif))), a);
    net_ip4_format(lwip_ntohl(ip4_addr_get_u32(netif_ip4_gw(nif))), g);
    klog(LOG_INFO, "net: %s address %s gateway %s (%s)", N.dev.name, a, g,
         N.cfg.dhcp ? "dhcp" : "static");
  }
  apply_dns();                   /* configured servers win over DHCP's */
  wake_up_waiters();
}

/* ---- the NIC ------------------------------------------------------------------------- */

static err_t
link_output(struct netif *nif, struct pbuf *p)
{
  uint8_t *g;
  size_t len = p->tot_len;
  if (len > NETDEV_FRAME_MAX) {
    N.tx_dropped_here++;
    return ERR_OK;
  }
  if (bbq_send_grant_exact(N.dev.tx, NETDEV_REC_HDR + len, TX_WAIT, &g)) {
    N.tx_dropped_here++;
    return ERR_OK;
  }
  g[0] = (uint8_t)len;
  g[1] = (uint8_t)(len >> 8);
  pbuf_copy_partial(p, g + NETDEV_REC_HDR, (u16_t)len, 0);
  bbq_commit(N.dev.tx, NETDEV_REC_HDR + len);
  return ERR_OK;
}

static err_t
nif_init(struct netif *nif)
{
  nif->name[0] = 'e';
  nif->name[1] = 'n';
  nif->hwaddr_len = 6;
  memcpy(nif->hwaddr, N.dev.mac, 6);
  nif->mtu = N.dev.mtu ? N.dev.mtu : 1500;
  nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  nif->output = etharp_output;
  nif->linkoutput = link_output;
  netif_set_hostname(nif, "mneme");
  return ERR_OK;
}

/* Takes every whole frame in the NIC's rx ring, at most RX_BATCH.
 * Returns 1 if frames may be left. */
static int
take_frames(void)
{
  int n = 0;
  while (n < RX_BATCH) {
    const uint8_t *g;
    size_t len, used = 0;
    if (bbq_read(N.dev.rx, &g, &len))
      return 0;
    while (used + NETDEV_REC_HDR <= len && n < RX_BATCH) {
      size_t flen = (size_t)g[used] | (size_t)g[used + 1] << 8;
      if (used + NETDEV_REC_HDR + flen > len || flen > NETDEV_FRAME_MAX) {
        N.bad_frames++;          /* not a record: drop what is left */
        used = len;
        break;
      }
      switch (net_rx_check(g + used + NETDEV_REC_HDR, flen, net_dns_port)) {
      case NET_RX_BAD_DHCP:
        N.dhcp_malformed++;
        break;
      case NET_RX_BAD_DNS:
        N.dns_malformed++;
        break;
      }
      struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)flen, PBUF_POOL);
      if (p) {
        pbuf_take(p, g + used + NETDEV_REC_HDR, (u16_t)flen);
        if (N.nif.input(p, &N.nif) != ERR_OK) {
          pbuf_free(p);
          N.bad_frames++;
        }
      }
      used += NETDEV_REC_HDR + flen;
      n++;
    }
    if (used < len && used + NETDEV_REC_HDR > len) {
      N.bad_frames++;
      used = len;
    }
    bbq_release(N.dev.rx, used);
  }
  return 1;
}

static int
rxwatch_task(void *arg)
{
  (void)arg;
  struct bbq *rx = N.dev.rx;
  for (;;) {
    uint32_t seq = waitq_seq(&rx->readable);
    if (bbq_used(rx))
      waitq_wake_all(&N.wake);
    if (waitq_wait_seq(&rx->readable, seq, MN_FOREVER) == MN_ECANCELED)
      return 0;
  }
}

static int
link_task(void *arg)
{
  (void)arg;
  for (;;) {
    uint32_t seq = waitq_seq(&N.dev.state->link_changed);
    waitq_wake_all(&N.wake);
    if (waitq_wait_seq(&N.dev.state->link_changed, seq, MN_FOREVER) == MN_ECANCELED)
      return 0;
  }
}

static int
attach_task(void *arg)
{
  (void)arg;
  static const struct svc_type type = NETDEV_TYPE;
  struct svc_client c;
  struct netdev_req q = { NETDEV_GET_DEVICE };
  struct netdev_err e;
  int err = svc_connect(&(struct uuid)NETDEV_UUID, &type, NULL, NULL, MN_FOREVER, &c);
  if (!err) {
    err = svc_call(&c, &q, &N.dev, &e, MN_SEC(5));
    svc_disconnect(&c);
  }
  if (err) {
    klog(LOG_ERROR, "net: cannot take the NIC: %s", mn_strerror(err));
    return err;
  }
  N.dev_ready = 1;
  waitq_wake_all(&N.wake);
  return 0;
}

static void
attach(void)
{
  ip4_addr_t ip, mask, gw;
  ip4_addr_set_u32(&ip, lwip_htonl(N.cfg.dhcp ? 0 : N.cfg.ip));
  ip4_addr_set_u32(&mask, lwip_htonl(N.cfg.dhcp ? 0 : N.cfg.netmask));
  ip4_addr_set_u32(&gw, lwip_htonl(N.cfg.dhcp ? 0 : N.cfg.gateway));
  netif_add(&N.nif, &ip, &mask, &gw, NULL, nif_init, netif_input);
  netif_set_status_callback(&N.nif, on_status);
  netif_set_default(&N.nif);
  netif_set_up(&N.nif);
  N.attached = 1;
  N.link_seen = N.dev.state->link_up;
  if (N.link_seen)
    netif_set_link_up(&N.nif);
  if (N.cfg.dhcp)
    dhcp_start(&N.nif);
  apply_dns();
  klog(LOG_INFO, "net: %s %02x:%02x:%02x:%02x:%02x:%02x, link %s, %s", N.dev.name,
       N.dev.mac[0], N.dev.mac[1], N.dev.mac[2], N.dev.mac[3], N.dev.mac[4],
       N.dev.mac[5], N.link_seen ? "up" : "down", N.cfg.dhcp ? "dhcp" : "static");
  task_spawn("net-rxwatch", rxwatch_task, NULL, 0, NULL);
  task_spawn("net-link", link_task, NULL, 0, NULL);
  on_status(&N.nif);
}

static void
check_link(void)
{
  uint32_t up = N.dev.state->link_up;
  if (up == N.link_seen)
    return;
  N.link_seen = up;
  klog(LOG_INFO, "net: %s link %s", N.dev.name, up ? "up" : "down");
  if (up)
    netif_set_link_up(&N.nif);
  else
    netif_set_link_down(&N.nif);
}

/* ---- requests ---------------------------------------------------------------------------- */

static void
handle(struct svc_msg *m)
{
  const struct svc_envelope *env = &m->env;
  struct net_req q;
  memcpy(&q, m->body, sizeof q);
  struct net_resp r;
  switch (q.kind) {
  case NET_REQ_INFO:
    fill_info(&r.u.info);
    reply_ok(env, &r);
    return;
  case NET_REQ_WAIT_UP:
    if (is_up()) {
      r.u.n = 0;
      reply_ok(env, &r);
    } else if (!op_new(OP_WAIT_UP, env, q.timeout_ns, NULL)) {
      reply_err(env, MN_ENOMEM);
    }
    return;
  case NET_REQ_RESOLVE:
    do_resolve(env, &q);
    return;
  case NET_REQ_PING:
    do_ping(env, &q);
    return;
  case NET_REQ_CONNECT:
    do_connect(env, &q);
    return;
  case NET_REQ_LISTEN:
    do_listen(env, &q);
    return;
  case NET_REQ_ACCEPT: {
    struct net_listener *l = q.handle;
    struct net_conn *c = backlog_pop(l);
    if (c) {
      r.u.handle = c;
      if (reply_ok(env, &r) != 0)
        c->user_closed = 1;
    } else if (!op_new(OP_ACCEPT, env, q.timeout_ns, l)) {
      reply_err(env, MN_ENOMEM);
    }
    return;
  }
  case NET_REQ_CLOSE: {
    struct net_conn *c = q.handle;
    c->user_closed = 1;
    r.u.n = 0;
    reply_ok(env, &r);
    return;
  }
  case NET_REQ_LISTEN_CLOSE:
    listener_close(q.handle);
    r.u.n = 0;
    reply_ok(env, &r);
    return;
  case NET_REQ_UDP_OPEN:
    do_udp_open(env, &q);
    return;
  case NET_REQ_UDP_SEND:
    do_udp_send(env, &q);
    return;
  case NET_REQ_UDP_CLOSE:
    udp_close(q.handle);
    r.u.n = 0;
    reply_ok(env, &r);
    return;
  case NET_REQ_CONNS:
    do_conns(env, &q);
    return;
  }
  reply_err(env, MN_EINVAL);
}

static int
svc_task(void *arg)
{
  (void)arg;
  size_t size = svc_msg_size(N.srv);
  for (;;) {
    struct inbox_msg *im = kmalloc(sizeof *im + size);
    if (!im) {
      task_sleep(MN_MSEC(10));   /* memory: let others free some */
      continue;
    }
    int err = svc_recv(N.srv, &im->msg, MN_FOREVER);
    if (err) {
      kfree(im);
      if (err == MN_ECANCELED || err == MN_ECLOSED)
        return 0;
      continue;
    }
    im->next = NULL;
    if (N.inbox_tail)
      N.inbox_tail->next = im;
    else
      N.inbox = im;
    N.inbox_tail = im;
    waitq_wake_all(&N.wake);
  }
}

/* Expires ops past their deadline; returns the earliest deadline left. */
static uint64_t
expire_ops(uint64_t now)
{
  uint64_t next = UINT64_MAX;
  struct op *o = N.ops;
  while (o) {
    struct op *nx = o->next;
    if (o->deadline <= now) {
      if (o->kind == OP_CONNECT) {
        struct net_conn *c = o->obj;
        if (c->pcb) {
          conn_detach_pcb(c->pcb);
          tcp_abort(c->pcb);
          c->pcb = NULL;
        }
        conn_free(c);
      }
      reply_err(&o->env, MN_ETIMEDOUT);
      op_free(o);
    } else if (o->deadline < next) {
      next = o->deadline;
    }
    o = nx;
  }
  return next;
}

static int
net_task(void *arg)
{
  (void)arg;
  for (;;) {
    uint32_t seq = waitq_seq(&N.wake);
    int again = 0;
    if (N.dev_ready && !N.attached)
      attach();
    while (N.inbox) {
      struct inbox_msg *im = N.inbox;
      N.inbox = im->next;
      if (!N.inbox)
        N.inbox_tail = NULL;
      handle(&im->msg);
      kfree(im);
    }
    if (N.attached) {
      check_link();
      again = take_frames();
    }
    sys_check_timeouts();
    struct net_conn *c = N.conns;
    while (c) {
      struct net_conn *nx = c->next;
      if (c->user_closed && !c->listener) {
        conn_finish(c);
      } else {
        pump_rx(c);
        pump_tx(c);
      }
      c = nx;
    }
    struct net_listener *l = N.listeners;
    while (l) {
      struct net_listener *nx = l->next;
      if (l->closed)
        listener_close(l);
      l = nx;
    }
    uint64_t now = ktime_now();
    uint64_t deadline = expire_ops(now);
    u32_t ms = sys_timeouts_sleeptime();
    if (ms != SYS_TIMEOUTS_SLEEPTIME_INFINITE && now + MN_MSEC(ms) < deadline)
      deadline = now + MN_MSEC(ms);
    if (again) {
      task_yield();
      continue;
    }
    if (waitq_wait_seq(&N.wake, seq, deadline) == MN_ECANCELED)
      return 0;
  }
}

/* ---- entry points -------------------------------------------------------------------- */

void
net_kick_service(void)
{
  waitq_wake_all(&N.wake);
}

/* The status service's Net (status.h): net_info from its task. */
static int
status_net(struct status_net *out)
{
  struct net_ifinfo f;
  int err = net_info(&f);
  if (err || !f.present)
    return err ? err : MN_ENOENT;
  memcpy(out->name, f.name, sizeof out->name);
  out->link_up = f.link_up;
  out->bound = f.bound;
  out->ip = f.ip;
  out->rx_packets = f.rx_packets;
  out->rx_bytes = f.rx_bytes;
  out->rx_dropped = f.rx_dropped;
  out->rx_errors = f.rx_errors + f.bad_frames;
  out->tx_packets = f.tx_packets;
  out->tx_bytes = f.tx_bytes;
  out->tx_dropped = f.tx_dropped;
  out->tx_errors = f.tx_errors;
  out->tcp_open = f.tcp_open;
  out->tcp_listen = f.tcp_listen;
  out->tcp_total = f.tcp_total;
  return 0;
}

int
net_start(const struct net_config *cfg)
{
  static const struct svc_type type = NET_TYPE;
  if (N.srv)
    return MN_EEXIST;
  waitq_init(&N.wake);
  N.cfg = *cfg;
  if (cfg->dns_port)
    net_dns_port = cfg->dns_port;
  lwip_init();
  N.icmp = raw_new(IP_PROTO_ICMP);
  if (!N.icmp)
    return MN_ENOMEM;
  raw_recv(N.icmp, on_icmp, NULL);
  int err = svc_register(&(struct uuid)NET_UUID, "net", &type, NULL, SVC_ACCEPT_ALL, 32,
                         &N.srv);
  if (err)
    return err;
  if ((err = task_spawn("net", net_task, NULL, 32 * 1024, NULL)) ||
      (err = task_spawn("net-svc", svc_task, NULL, 0, NULL)) ||
      (err = task_spawn("net-attach", attach_task, NULL, 0, NULL)))
    return err;
  status_set_net_source(status_net);
  return 0;
}



