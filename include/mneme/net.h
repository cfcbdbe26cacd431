/*
 * net.h: the network service (lwIP, one interface) and its client API.
 *
 * One task owns lwIP (net/net.c); every other task reaches it through
 * the registry (NET_UUID, kernel-only: requests carry pointers) with the
 * calls below, which wait without blocking other tasks. A TCP connection
 * is a pair of byte rings plus calls, so TLS and HTTP sit on top without
 * knowing lwIP:
 *
 *   conn->rx  bytes from the peer: the client reads (bbq_read/release);
 *             closed by the service at the peer's FIN (end of stream) or
 *             when the connection fails (then conn->error says why).
 *   conn->tx  bytes to the peer: the client writes (bbq grants/commit).
 *             Closing it (net_tcp_shutdown) sends FIN once all is sent.
 *
 * Back-pressure: the service moves received bytes into rx only as room
 * appears and opens the TCP window by what it moved, so a slow reader
 * slows the sender and nothing is dropped; it takes bytes from tx only
 * as lwIP's send buffer allows, so a writer waits for room in tx.
 * A client that uses the rings directly calls net_conn_kick() after each
 * release or commit (net_tcp_read/net_tcp_write do it themselves).
 *
 * Addresses are IPv4 in host order (10.0.2.15 is 0x0a00020f). Errors are
 * MN_ codes: MN_ENETDOWN (no interface, link or address), MN_ENOROUTE,
 * MN_ECONNREFUSED, MN_ECONNRESET, MN_ECONNABORTED, MN_ETIMEDOUT,
 * MN_ENONAME (the DNS server says the name does not exist),
 * MN_EADDRINUSE, MN_ENOMEM, MN_EINVAL, MN_ECLOSED (the service is gone).
 */
#ifndef MNEME_NET_H
#define MNEME_NET_H

#include <stddef.h>
#include <stdint.h>
#include "mneme/bbq.h"
#include "mneme/registry.h"

#define NET_UUID UUID_INIT(0x6e657473, 0x7663, 0x4d2b, 0x8e11, 0x5c0a6b000001ull)

typedef uint32_t net_ip4;

#define NET_RING_SIZE (64u * 1024u)  /* each ring of a TCP connection */

/* A TCP connection. The fields after `error` belong to the service. */
struct net_conn {
  struct bbq rx, tx;
  volatile int32_t error;          /* 0, or why the connection failed */
  /* ---- private to the network service ---- */
  struct net_conn *next;
  void *pcb;                       /* struct tcp_pcb, NULL once gone */
  void *pending;                   /* struct pbuf chain not yet in rx */
  uint64_t rx_total, tx_total;
  net_ip4 local_ip, remote_ip;
  uint16_t local_port, remote_port;
  uint8_t fin_rcvd, rx_closed, fin_sent, user_closed, state;
  void *listener;                  /* accepted, not yet handed out */
};

/* A listening TCP port (opaque). */
struct net_listener;
/* A UDP port (opaque). */
struct net_udp;

/* ---- interface ------------------------------------------------------------ */

struct net_ifinfo {
  char name[16];
  uint8_t mac[6];
  uint8_t present;                 /* a NIC was found */
  uint8_t link_up;
  uint8_t dhcp;                    /* address from DHCP (else static) */
  uint8_t bound;                   /* has an address */
  uint16_t mtu;
  net_ip4 ip, netmask, gateway, dns[2];
  uint32_t lease_s;                /* DHCP lease time, 0 if none */
  uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;  /* the NIC's */
  uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
  uint64_t bad_frames;             /* frames lwIP refused */
  uint32_t tcp_open, tcp_listen, tcp_total, udp_open;
  uint64_t dhcp_malformed;         /* DHCP replies that do not parse */
  uint64_t dns_malformed;          /* DNS replies that do not parse */
};

/* Fills *out. 0, MN_ECLOSED. */
int net_info(struct net_ifinfo *out);

/* Waits until the interface has an address (DHCP bound or static).
 * 0, MN_ETIMEDOUT. */
int net_wait_up(uint64_t timeout_ns);

struct net_conn_info {
  net_ip4 local_ip, remote_ip;
  uint16_t local_port, remote_port;
  char state[12];                  /* "ESTABLISHED", "LISTEN", ... */
  uint32_t rx_queued, tx_queued;   /* bytes in the rings */
  uint64_t rx_total, tx_total;
};

/* Fills up to max rows; *n is how many connections there are. */
int net_conn_list(struct net_conn_info *rows, size_t max, size_t *n);

/* ---- names, ping ----------------------------------------------------------- */

/* Resolves a host name (or a dotted address) to an address. */
int net_resolve(const char *name, size_t len, uint64_t timeout_ns, net_ip4 *out);

/* Sends one ICMP echo request; 0 and the round trip in *rtt_ns, or
 * MN_ETIMEDOUT when no reply came in time. */
int net_ping(net_ip4 ip, uint64_t timeout_ns, uint64_t *rtt_ns);

/* ---- TCP ------------------------------------------------------------------- */

/* Connects to host (a name or a dotted address) and port, within
 * timeout_ns for the name and the handshake together. */
int net_tcp_connect(const char *host, size_t len, uint16_t port,
                    uint64_t timeout_ns, struct net_conn **out);

/* Listens on port (0: any; net_listener_port tells which). */
int net_tcp_listen(uint16_t port, struct net_listener **out);
uint16_t net_listener_port(const struct net_listener *l);
int net_tcp_accept(struct net_listener *l, uint64_t timeout_ns, struct net_conn **out);
void net_listener_close(struct net_listener *l);

/* Writes all of data (waits for room: back-pressure). 0, MN_ECLOSED
 * (the connection failed: see conn->error; or was shut down),
 * MN_ETIMEDOUT. */
int net_tcp_write(struct net_conn *c, const void *data, size_t len, uint64_t timeout_ns);

/* Reads 1..cap bytes (waits for at least one); *got = 0 and 0 at the end
 * of the stream. Returns the connection's error if it failed. */
int net_tcp_read(struct net_conn *c, void *buf, size_t cap, uint64_t timeout_ns,
                 size_t *got);

/* Half-close: FIN after everything written so far (no more writes). */
void net_tcp_shutdown(struct net_conn *c);

/* Ends the connection: what was written is still sent, then FIN; c is
 * freed by the service (do not use it afterwards). */
void net_tcp_close(struct net_conn *c);

/* Tells the service a ring of c changed (after direct bbq use). */
void net_conn_kick(struct net_conn *c);

/* ---- UDP -------------------------------------------------------------------- */

int net_udp_open(uint16_t port, struct net_udp **out);
int net_udp_sendto(struct net_udp *u, net_ip4 ip, uint16_t port, const void *data,
                   size_t len);
/* Receives one datagram (truncated to cap). */
int net_udp_recvfrom(struct net_udp *u, void *buf, size_t cap, size_t *len,
                     net_ip4 *ip, uint16_t *port, uint64_t timeout_ns);
void net_udp_close(struct net_udp *u);

/* ---- addresses ---------------------------------------------------------------- */

/* "a.b.c.d" -> address. 0 or MN_EINVAL. */
int net_ip4_parse(const char *s, size_t len, net_ip4 *out);
/* Writes "a.b.c.d" and a NUL into buf (16 bytes). */
void net_ip4_format(net_ip4 ip, char buf[16]);

/* ---- the service ------------------------------------------------------------- */

struct net_config {
  uint8_t dhcp;                    /* else ip/netmask/gateway */
  net_ip4 ip, netmask, gateway;
  uint8_t ndns;
  net_ip4 dns[2];                  /* override DHCP's servers */
  uint16_t dns_port;               /* 0: 53 */
};

/* Registers the service and starts its task, which takes the first NIC
 * (NETDEV_UUID) once one registers. 0, MN_EEXIST, MN_ENOMEM. */
int net_start(const struct net_config *cfg);

/* svcstart's hook (svcstart.h): starts the service from [services.net]
 * and adds the network words to the Forth VMs started from then on. */
struct mn_config_service;
int net_svcstart(const struct mn_config_service *s, void *arg);

#endif
