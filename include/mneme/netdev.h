/*
 * netdev.h: the network device service (one Ethernet interface).
 *
 * The contract between a NIC driver (virtio-net on x86_64 and aarch64,
 * libslirp or a TAP device on the hosted platform) and the network
 * service (lwIP), in the shape of the serial port service: the driver
 * owns two byte rings and hands them to its one client.
 *
 *   rx: frames from the wire; the driver writes, the network service reads.
 *   tx: frames to the wire; the network service writes, the driver reads.
 *
 * Each ring carries whole Ethernet frames (destination MAC first, no FCS),
 * each as a record: a 2-byte little-endian length, then that many bytes.
 * A record is always one contiguous grant (bbq_grant_exact(2 + len)), so
 * a reader gets a whole frame in one bbq_read. A frame longer than
 * NETDEV_FRAME_MAX is never written. When rx is full the driver drops the
 * frame and counts it (rx_dropped): the wire cannot wait.
 *
 * Link state and counters live in struct netdev_state, which the driver
 * owns and updates (from its task or interrupt handler, under
 * plat_irq_save); the client reads it. A link change wakes link_changed.
 *
 * Kernel-only (the response carries pointers). A driver registers
 * NETDEV_UUID for its first interface; a second interface registers
 * NETDEV_UUID_N(1), and so on.
 */
#ifndef MNEME_NETDEV_H
#define MNEME_NETDEV_H

#include <stdint.h>
#include "mneme/registry.h"
#include "mneme/waitq.h"

#define NETDEV_UUID UUID_INIT(0x6e657464, 0x6576, 0x4c1a, 0x9d2e, 0x3f5a7b000000ull)
/* The UUID of interface n (0 is NETDEV_UUID). */
#define NETDEV_UUID_N(n) \
  UUID_INIT(0x6e657464, 0x6576, 0x4c1a, 0x9d2e, 0x3f5a7b000000ull + (n))

#define NETDEV_FRAME_MAX 1514u   /* 14-byte header + 1500-byte payload */
#define NETDEV_REC_HDR 2u        /* the length prefix of each record */

struct netdev_counters {
  uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
  uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
};

struct netdev_state {
  volatile uint32_t link_up;       /* 1: carrier present */
  struct waitq link_changed;       /* woken on every change of link_up */
  struct netdev_counters count;
};

enum netdev_req_kind { NETDEV_GET_DEVICE = 0 };

struct netdev_req {
  uint8_t kind;
};

struct netdev_resp {
  struct bbq *rx;                  /* frames from the wire: client reads */
  struct bbq *tx;                  /* frames to the wire: client writes */
  struct netdev_state *state;      /* owned by the driver */
  uint8_t mac[6];
  uint16_t mtu;                    /* IP MTU, normally 1500 */
  char name[16];                   /* "virtio-net0", "slirp0", ... */
};

enum netdev_err_kind { NETDEV_ALREADY_ASSIGNED = 0 };

struct netdev_err {
  uint8_t kind;
};

#define NETDEV_TYPE SVC_TYPE(struct netdev_req, struct netdev_resp, \
                             struct netdev_err, struct svc_none)

#endif
