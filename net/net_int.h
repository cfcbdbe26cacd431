/*
 * net_int.h: the network service's request types (between the client
 * calls in net/client.c and the service in net/net.c). Kernel-only: the
 * requests carry pointers, valid while the caller waits for the reply.
 */
#ifndef MNEME_NET_INT_H
#define MNEME_NET_INT_H

#include "mneme/net.h"

enum net_req_kind {
  NET_REQ_INFO, NET_REQ_WAIT_UP, NET_REQ_RESOLVE, NET_REQ_PING,
  NET_REQ_CONNECT, NET_REQ_LISTEN, NET_REQ_ACCEPT, NET_REQ_CLOSE,
  NET_REQ_LISTEN_CLOSE, NET_REQ_UDP_OPEN, NET_REQ_UDP_SEND,
  NET_REQ_UDP_CLOSE, NET_REQ_CONNS,
};

struct net_listener {
  struct net_listener *next;
  void *pcb;                       /* struct tcp_pcb */
  uint16_t port;
  int closed;
};

struct net_udp {
  struct net_udp *next;
  void *pcb;                       /* struct udp_pcb */
  struct bbq rx;                   /* records: len u16, ip u32, port u16, data */
  uint16_t port;
  uint64_t dropped;
};

/* What net_rx_check (rxcheck.c) found in a received frame. */
enum { NET_RX_OTHER, NET_RX_BAD_DHCP, NET_RX_BAD_DNS };
int net_rx_check(const uint8_t *frame, size_t len, uint16_t dns_port);

/* Wakes the service's task (a ring of a connection changed). */
void net_kick_service(void);

struct net_req {
  uint8_t kind;
  uint16_t port;
  net_ip4 ip;
  uint64_t timeout_ns;
  const char *name;                /* RESOLVE */
  size_t len;                      /* name or data length */
  const void *data;                /* UDP_SEND */
  void *handle;                    /* conn, listener, udp */
  struct net_conn_info *rows;      /* CONNS */
  size_t max;
};

struct net_resp {
  union {
    net_ip4 ip;
    uint64_t rtt_ns;
    void *handle;
    size_t n;
    struct net_ifinfo info;
  } u;
};

struct net_err {
  int32_t code;                    /* an MN_ code */
};

#define NET_TYPE SVC_TYPE(struct net_req, struct net_resp, struct net_err, \
                          struct svc_none)

#endif
