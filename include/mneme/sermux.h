/*
 * sermux.h: the serial mux service (mnemOS's UUID and wire format).
 *
 * The mux owns the serial port (serial_get_port) and carries many virtual
 * byte ports over it. On the wire every piece of port data is one frame:
 * COBS(port as u16 LE || payload) then 0x00 (lib/sermux_frame). Outgoing
 * data is cut into frames of at most max_frame/2 payload bytes, as mnemOS
 * does. Default: 16 ports, 512-byte frames (configuration may change both).
 *
 * RegisterPort{port, capacity} returns a port handle: a pair of byte rings
 * of `capacity` bytes each. rx holds what the host sent to the port (the
 * client reads it), tx what the client writes (the mux frames it). Ports
 * stay open until the kernel stops. Kernel-only service (the handle is a
 * pointer); userspace sees the counters through the status service.
 *
 * Nothing is dropped silently. A frame for a port whose rx ring is full
 * waits for room (back-pressure: the mux stops reading the serial line,
 * and the host's writes wait) for up to SERMUX_STALL_NS; if the port's
 * reader is still stuck, the rest of the frame is dropped and counted in
 * that port's rx_lost counters, so one dead reader cannot wedge the other
 * ports; until the reader makes room again, further frames for that port
 * that do not fit are counted as lost at once, without another stall. Malformed, oversized and short frames, and frames for ports that
 * are not open, are counted (sermux_stats).
 *
 * Well-known ports (mnemOS's, plus mneme's userspace bridge on 4):
 *   0 loopback (echo), 1 hello, 2 pseudo-keyboard, 3 tracing,
 *   4 userspace requests (userbridge.h), 10..13 Forth shells.
 */
#ifndef MNEME_SERMUX_H
#define MNEME_SERMUX_H

#include <stddef.h>
#include <stdint.h>
#include "mneme/bbq.h"
#include "mneme/ktime.h"
#include "mneme/registry.h"

/* 54c983fa-736f-4223-b90d-c4360a308647 */
#define SERMUX_UUID UUID_INIT(0x54c983fa, 0x736f, 0x4223, 0xb90d, 0xc4360a308647ull)

#define SERMUX_PORTS_DEFAULT 16
#define SERMUX_MAX_FRAME_DEFAULT 512
#define SERMUX_STALL_NS MN_MSEC(500)
#define SERMUX_CAPACITY_MAX (64u * 1024u)

enum sermux_well_known_port {
  SERMUX_PORT_LOOPBACK = 0,
  SERMUX_PORT_HELLO = 1,
  SERMUX_PORT_KEYBOARD = 2,
  SERMUX_PORT_TRACE = 3,
  SERMUX_PORT_USERBRIDGE = 4,
  SERMUX_PORT_FORTH = 10,          /* 10..13 */
};

/* ---- service definition ---------------------------------------------------- */

/* Per-port counters. rx: host to kernel; tx: kernel to host. */
struct sermux_port_stats {
  uint16_t port;
  uint32_t capacity;
  uint64_t rx_frames, rx_bytes;            /* delivered into the rx ring */
  uint64_t rx_lost_frames, rx_lost_bytes;  /* reader stuck past the stall */
  uint64_t tx_frames, tx_bytes;            /* payload sent to the line */
};

/* A port handle. The client reads rx and writes tx (directly with the
 * bbq calls, or with sermux_read / sermux_write). */
struct sermux_port {
  uint16_t port;
  struct bbq rx;                 /* from the host: the client reads */
  struct bbq tx;                 /* to the host: the client writes */
  struct sermux_port_stats st;   /* updated by the mux tasks */
  int stuck;                     /* sermux-rx: lost data, ring still full */
};

struct sermux_req {
  uint16_t port;
  uint32_t capacity;             /* bytes per ring; 0: 2 * max_frame */
};

struct sermux_resp {
  struct sermux_port *port;
};

enum sermux_err_kind {
  SERMUX_DUPLICATE_PORT = 0,     /* the port is already open */
  SERMUX_NO_PORTS_LEFT = 1,      /* all `ports` slots are taken */
  SERMUX_NO_MEMORY = 2,
  SERMUX_BAD_CAPACITY = 3,       /* above SERMUX_CAPACITY_MAX */
};

struct sermux_err {
  uint8_t kind;
};

#define SERMUX_TYPE SVC_TYPE(struct sermux_req, struct sermux_resp, \
                             struct sermux_err, struct svc_none)

/* Mux-wide counters. */
struct sermux_stats {
  uint32_t ports_open, max_ports, max_frame;
  uint64_t wire_rx_bytes, wire_tx_bytes;  /* bytes read from / written to the line */
  uint64_t frames_rx, frames_tx;          /* good frames each way */
  uint64_t malformed;                     /* runs that are not valid COBS */
  uint64_t oversized;                     /* decoded frame above max_frame */
  uint64_t short_frames;                  /* under 3 decoded bytes */
  uint64_t closed_port_frames, closed_port_bytes;  /* for ports not open */
};

struct sermux_config {
  uint16_t ports;                /* 0: SERMUX_PORTS_DEFAULT */
  uint32_t max_frame;            /* 0: SERMUX_MAX_FRAME_DEFAULT; >= 8 */
  int hold_input;                /* 1: read nothing from the serial line
                                  * until sermux_release_input() */
};

/*
 * Gets the serial port (waiting up to timeout_ns for it), registers the
 * service and starts its tasks. Returns 0, MN_EEXIST (already running),
 * MN_EBUSY (serial port taken), MN_EINVAL, MN_ENOMEM, or the errors of
 * serial_get_port.
 */
int sermux_start(const struct sermux_config *cfg, uint64_t timeout_ns);

/*
 * Lets the mux read the serial line (started with hold_input): the port
 * users of the configuration have opened their ports by then, so their
 * first bytes are delivered, not counted as frames for closed ports.
 * Until then the host's bytes wait in the serial driver (back-pressure).
 */
void sermux_release_input(void);

/* Fills *out; zeroes if the mux is not running. */
void sermux_stats(struct sermux_stats *out);

/* Counters of the index-th open port (in opening order). Returns 0 or
 * MN_ENOENT. */
int sermux_port_stats(size_t index, struct sermux_port_stats *out);

/* ---- client definition ----------------------------------------------------- */

/*
 * Opens a port with rings of capacity bytes (0: default). Returns 0 and
 * the handle, MN_EEXIST (already open), MN_ENOSPC (no slot left),
 * MN_ENOMEM, MN_EINVAL (bad capacity), or svc_connect/svc_call errors
 * (MN_ETIMEDOUT: no mux within timeout_ns).
 */
int sermux_open(uint16_t port, uint32_t capacity, uint64_t timeout_ns,
                struct sermux_port **out);

/* Writes all of data to the port (waits for room). Returns 0,
 * MN_ETIMEDOUT, MN_ECANCELED, MN_ECLOSED. */
int sermux_write(struct sermux_port *p, const void *data, size_t len,
                 uint64_t timeout_ns);

/* Reads 1..cap bytes into buf, waiting for some. Returns 0 (*n set),
 * MN_ETIMEDOUT, MN_ECANCELED, MN_ECLOSED. */
int sermux_read(struct sermux_port *p, void *buf, size_t cap,
                uint64_t timeout_ns, size_t *n);

/* ---- built-in users (services/sermux_users.c) ------------------------------ */

/* Port `port` echoes everything it receives. Returns 0 or an MN_E*. */
int sermux_loopback_start(uint16_t port);

/* Writes msg (len bytes) to `port` every interval_ms. The message is
 * copied. Returns 0 or an MN_E*. */
int sermux_hello_start(uint16_t port, uint32_t interval_ms, const char *msg,
                       size_t len);

/* A keyboard subscriber that writes one text line per key event to
 * `port`: "press code=0 ch=97 mods=0" (a debugging and test aid).
 * Returns 0 or an MN_E*. */
int sermux_keyecho_start(uint16_t port);

#endif
