/*
 * status.h: the system status service.
 *
 * Uptime, heap statistics, tasks, registered services. Visible to
 * userspace. Wire form (postcard) of a request, an enum:
 *   0 Ping(u32)        -> 0 Pong(u32)
 *   1 Uptime           -> 1 Uptime(u64 ns)
 *   2 Heap             -> 2 Heap{total, in_use, free, largest_free,
 *                               high_water, allocs, failed: u64}
 *   3 Task(u32 index)  -> 3 Task{id u32, name str, state u8 (0 ready,
 *                               1 running, 2 waiting, 3 zombie),
 *                               stack_size u32, stack_used u32, switches u64}
 *   4 Service(u32 index) -> 4 Service{uuid, name str, user_visible bool,
 *                               requests u64, replies_lost u64}
 *   5 Counts           -> 5 Counts{tasks u32, services u32, switches u64}
 *   6 MuxPort(u32 index) -> 6 MuxPort{port u16, capacity u32, rx_frames,
 *                               rx_bytes, rx_lost_frames, rx_lost_bytes,
 *                               tx_frames, tx_bytes: u64}  (sermux.h)
 *   7 Mux              -> 7 Mux{ports_open, max_ports, max_frame: u32,
 *                               wire_rx_bytes, wire_tx_bytes, frames_rx,
 *                               frames_tx, malformed, oversized,
 *                               short_frames, closed_port_frames,
 *                               closed_port_bytes: u64}
 *   8 Net              -> 8 Net{name str, link_up bool, bound bool, ip u32,
 *                               rx_packets, rx_bytes, rx_dropped, rx_errors,
 *                               tx_packets, tx_bytes, tx_dropped, tx_errors: u64,
 *                               tcp_open, tcp_listen, tcp_total: u32}
 *                        (the network interface, net.h; NoSuchIndex when
 *                        there is none)
 * Errors, an enum: 0 NoSuchIndex.
 */
#ifndef MNEME_STATUS_H
#define MNEME_STATUS_H

#include <stdint.h>
#include "mneme/registry.h"
#include "mneme/sermux.h"

/* 1463b774-ce29-4ea9-94c0-c07056184c38 */
#define STATUS_UUID UUID_INIT(0x1463b774, 0xce29, 0x4ea9, 0x94c0, 0xc07056184c38ull)

enum status_kind {
  STATUS_PING, STATUS_UPTIME, STATUS_HEAP, STATUS_TASK, STATUS_SERVICE, STATUS_COUNTS,
  STATUS_MUX_PORT, STATUS_MUX, STATUS_NET,
};

/* The network interface's counters (status_set_net_source). */
struct status_net {
  char name[16];
  uint8_t link_up, bound;
  uint32_t ip;                      /* IPv4, host order */
  uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
  uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
  uint32_t tcp_open, tcp_listen, tcp_total;
};

struct status_req {
  uint8_t kind;
  uint32_t arg;                     /* Ping value, Task/Service/MuxPort index */
};

struct status_resp {
  uint8_t kind;
  union {
    uint32_t pong;
    uint64_t uptime_ns;
    struct { uint64_t total, in_use, free, largest_free, high_water, allocs, failed; } heap;
    struct { uint32_t id; char name[24]; uint8_t state; uint32_t stack_size, stack_used;
             uint64_t switches; } task;
    struct { struct uuid id; char name[24]; uint8_t user_visible;
             uint64_t requests, replies_lost; } service;
    struct { uint32_t tasks, services; uint64_t switches; } counts;
    struct sermux_port_stats mux_port;
    struct sermux_stats mux;
    struct status_net net;
  } u;
};

enum status_err_kind { STATUS_NO_SUCH_INDEX = 0 };

struct status_err {
  uint8_t kind;
};

#define STATUS_TYPE SVC_TYPE(struct status_req, struct status_resp, \
                             struct status_err, struct svc_none)

/* Registers the service and starts its task. Returns 0 or an MN_E*. */
int status_start(void);

/*
 * Where the mux counters come from (sermux_start calls this), so that the
 * status service does not pull the mux into an image that has none. Until
 * then Mux answers zeros and MuxPort NoSuchIndex.
 */
void status_set_mux_source(void (*stats)(struct sermux_stats *),
                           int (*port_stats)(size_t, struct sermux_port_stats *));

/* Where Net comes from (net_start calls this; 0 when it filled *out), so
 * that the status service does not pull the network into an image. */
void status_set_net_source(int (*net)(struct status_net *out));

#endif
