/*
 * sermux.c: the serial mux service.
 *
 * Interface: sermux_start, sermux_release_input, sermux_stats,
 * sermux_port_stats, sermux_open, sermux_write, sermux_read.
 *
 * Tasks:
 *   sermux     answers RegisterPort: allocates the port's two rings and
 *              starts its pump.
 *   sermux-rx  (once input is released, when started with hold_input)
 *              reads the serial rx ring through the frame demultiplexer
 *              (lib/sermux_frame) and copies each frame's payload into
 *              its port's rx ring (waiting up to SERMUX_STALL_NS for
 *              room, then counting the rest as lost).
 *   smx-tx-N   one pump per open port: takes what the client wrote to
 *              the port's tx ring, max_frame/2 bytes at a time, and
 *              encodes each piece as a frame straight into the serial tx
 *              ring (through the ring's multi-producer front, so frames
 *              of different ports never interleave).
 *
 * Everything is allocated when the mux starts or a port opens; moving
 * data allocates nothing. Cooperative scheduling: the state below is
 * touched only by these tasks and by readers of the counters, never from
 * interrupt handlers, so it needs no lock.
 */
#include <string.h>
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/log.h"
#include "mneme/serial.h"
#include "mneme/sermux.h"
#include "mneme/sermux_frame.h"
#include "mneme/status.h"
#include "mneme/task.h"
#include "mneme/trace.h"

#define SERMUX_TASK_STACK (6u * 1024u)   /* pumps, rx: ~3.3 KiB under ASan */
#define SERMUX_SERVER_STACK (8u * 1024u) /* traces and logs */

static struct {
  int running;
  struct bbq *srx, *stx;          /* the serial port's rings */
  struct svc_server *srv;
  uint16_t max_ports;
  uint32_t max_frame;
  int hold_input;                 /* sermux-rx waits on input_gate */
  struct waitq input_gate;
  /* owned by sermux-rx */
  struct smx_demux demux;
  /* slots in opening order; written by the server task only */
  struct sermux_port **ports;
  uint32_t nports;
  /* counters not kept by the demux */
  uint64_t wire_rx_bytes, wire_tx_bytes, frames_tx;
  uint64_t closed_port_frames, closed_port_bytes;
} mx;

static struct sermux_port *
find_port(uint16_t port)
{
  for (uint32_t i = 0; i < mx.nports; i++)
    if (mx.ports[i]->port == port)
      return mx.ports[i];
  return 0;
}

/* ---- host to kernel ------------------------------------------------------- */

/* Copies a frame's payload into its port's rx ring; see the top comment. */
static void
deliver(const struct smx_item *it)
{
  struct sermux_port *p = find_port(it->port);
  if (!p) {
    mx.closed_port_frames++;
    mx.closed_port_bytes += it->len;
    return;
  }
  /* A port that already lost data waits no more until it has room. */
  uint64_t deadline = ktime_deadline(p->stuck ? 0 : SERMUX_STALL_NS);
  const uint8_t *d = it->data;
  size_t left = it->len;
  while (left) {
    uint8_t *g;
    size_t n;
    uint64_t now = ktime_now();
    if (bbq_send_grant_max(&p->rx, left, deadline > now ? deadline - now : 0,
                           &g, &n))
      break;
    memcpy(g, d, n);
    bbq_commit(&p->rx, n);
    d += n;
    left -= n;
  }
  p->st.rx_bytes += it->len - left;
  if (left) {
    p->st.rx_lost_frames++;
    p->st.rx_lost_bytes += left;
    if (!p->stuck)
      TRACE_WARN("sermux", "reader stuck: losing data", TF_U("port", p->port),
                 TF_U("lost", left));
    p->stuck = 1;
  } else {
    p->st.rx_frames++;
    p->stuck = 0;
  }
}

static int
rx_task(void *arg)
{
  (void)arg;
  const uint8_t *p;
  size_t len;
  while (mx.hold_input)
    waitq_wait(&mx.input_gate, MN_FOREVER);
  while (bbq_read_grant(mx.srx, MN_FOREVER, &p, &len) == 0) {
    mx.wire_rx_bytes += len;
    size_t off = 0;
    while (off < len) {
      size_t used;
      struct smx_item it;
      int kind = smx_demux_feed(&mx.demux, p + off, len - off, &used, &it);
      off += used;
      if (kind == SMX_FRAME)
        deliver(&it);
      /* SMX_TEXT: bytes that are not frames, counted by the demux */
    }
    bbq_release(mx.srx, len);
  }
  klog(LOG_WARN, "sermux: serial input closed");
  return 0;
}

/* ---- kernel to host ------------------------------------------------------- */

static int
pump_task(void *arg)
{
  struct sermux_port *p = arg;
  size_t chunk = mx.max_frame / 2;
  const uint8_t *d;
  size_t len;
  while (bbq_read_grant(&p->tx, MN_FOREVER, &d, &len) == 0) {
    size_t n = len < chunk ? len : chunk;
    size_t need = smx_encoded_max(n), out;
    uint8_t *g;
    if (bbq_mp_grant_exact(mx.stx, need, MN_FOREVER, &g)) {
      bbq_release(&p->tx, 0);
      break;
    }
    if (smx_encode(p->port, d, n, g, need, &out))
      out = 0; /* cannot happen: need is the largest encoding */
    bbq_mp_commit(mx.stx, out);
    bbq_release(&p->tx, n);
    p->st.tx_frames++;
    p->st.tx_bytes += n;
    mx.frames_tx++;
    mx.wire_tx_bytes += out;
  }
  return 0;
}

/* ---- RegisterPort ------------------------------------------------------- */

/* Opens a port; returns 0 or an enum sermux_err_kind + 1. */
static int
open_port(const struct sermux_req *q, struct sermux_port **out)
{
  uint32_t cap = q->capacity ? q->capacity : 2 * mx.max_frame;
  if (cap > SERMUX_CAPACITY_MAX)
    return SERMUX_BAD_CAPACITY + 1;
  if (find_port(q->port))
    return SERMUX_DUPLICATE_PORT + 1;
  if (mx.nports >= mx.max_ports)
    return SERMUX_NO_PORTS_LEFT + 1;
  struct sermux_port *p = kzalloc(sizeof *p);
  if (!p || bbq_init(&p->rx, cap)) {
    kfree(p);
    return SERMUX_NO_MEMORY + 1;
  }
  if (bbq_init(&p->tx, cap)) {
    bbq_destroy(&p->rx);
    kfree(p);
    return SERMUX_NO_MEMORY + 1;
  }
  p->port = q->port;
  p->st.port = q->port;
  p->st.capacity = cap;
  char name[TASK_NAME_MAX];
  ksnprintf(name, sizeof name, "smx-tx-%u", (unsigned)q->port);
  if (task_spawn(name, pump_task, p, SERMUX_TASK_STACK, 0)) {
    bbq_destroy(&p->tx);
    bbq_destroy(&p->rx);
    kfree(p);
    return SERMUX_NO_MEMORY + 1;
  }
  mx.ports[mx.nports++] = p;
  *out = p;
  return 0;
}

static int
server_task(void *arg)
{
  (void)arg;
  SVC_MSG_BUF(m, sizeof(struct sermux_req));
  while (svc_recv(mx.srv, m, MN_FOREVER) == 0) {
    struct sermux_req q;
    memcpy(&q, m->body, sizeof q);
    struct sermux_resp r = { 0 };
    int e = open_port(&q, &r.port);
    if (e == 0) {
      TRACE_DEBUG("sermux", "port open", TF_U("port", q.port),
                  TF_U("capacity", r.port->st.capacity));
      svc_reply_ok(mx.srv, &m->env, &r);
    } else {
      struct sermux_err err = { (uint8_t)(e - 1) };
      svc_reply_err(mx.srv, &m->env, &err);
    }
  }
  return 0;
}

int
sermux_start(const struct sermux_config *cfg, uint64_t timeout_ns)
{
  static const struct svc_type type = SERMUX_TYPE;
  if (mx.running)
    return MN_EEXIST;
  uint16_t ports = cfg && cfg->ports ? cfg->ports : SERMUX_PORTS_DEFAULT;
  uint32_t max_frame = cfg && cfg->max_frame ? cfg->max_frame : SERMUX_MAX_FRAME_DEFAULT;
  if (max_frame < 8 || max_frame > SERMUX_CAPACITY_MAX)
    return MN_EINVAL;
  memset(&mx, 0, sizeof mx);
  mx.max_ports = ports;
  mx.max_frame = max_frame;
  mx.hold_input = cfg && cfg->hold_input;
  waitq_init(&mx.input_gate);
  size_t dbuf = smx_demux_buf_size(max_frame);
  mx.ports = kzalloc(ports * sizeof *mx.ports);
  void *buf = kmalloc(dbuf);
  if (!mx.ports || !buf) {
    kfree(mx.ports);
    kfree(buf);
    return MN_ENOMEM;
  }
  smx_demux_init(&mx.demux, buf, dbuf, max_frame);
  mx.demux.text_lines = false; /* the host sends only frames */
  int err = serial_get_port(timeout_ns, &mx.srx, &mx.stx);
  if (!err && smx_encoded_max(max_frame / 2) > mx.stx->cap)
    err = MN_EINVAL; /* a frame must fit the serial ring whole */
  if (!err)
    err = svc_register(&(struct uuid)SERMUX_UUID, "sermux", &type, 0,
                       SVC_ACCEPT_ALL, 8, &mx.srv);
  if (!err && (task_spawn("sermux", server_task, 0, SERMUX_SERVER_STACK, 0) ||
               task_spawn("sermux-rx", rx_task, 0, SERMUX_TASK_STACK, 0)))
    err = MN_ENOMEM;
  if (err)
    return err;
  mx.running = 1;
  status_set_mux_source(sermux_stats, sermux_port_stats);
  klog(LOG_INFO, "sermux: %u ports, %u-byte frames", (unsigned)ports,
       (unsigned)max_frame);
  return 0;
}

void
sermux_release_input(void)
{
  if (!mx.hold_input)
    return; /* not holding (or not started: input_gate unset) */
  mx.hold_input = 0;
  waitq_wake_all(&mx.input_gate);
}

void
sermux_stats(struct sermux_stats *out)
{
  memset(out, 0, sizeof *out);
  if (!mx.running)
    return;
  out->ports_open = mx.nports;
  out->max_ports = mx.max_ports;
  out->max_frame = mx.max_frame;
  out->wire_rx_bytes = mx.wire_rx_bytes;
  out->wire_tx_bytes = mx.wire_tx_bytes;
  out->frames_rx = mx.demux.count.frames;
  out->frames_tx = mx.frames_tx;
  out->malformed = mx.demux.count.malformed;
  out->oversized = mx.demux.count.oversized;
  out->short_frames = mx.demux.count.short_frames;
  out->closed_port_frames = mx.closed_port_frames;
  out->closed_port_bytes = mx.closed_port_bytes;
}

int
sermux_port_stats(size_t index, struct sermux_port_stats *out)
{
  if (!mx.running || index >= mx.nports)
    return MN_ENOENT;
  *out = mx.ports[index]->st;
  return 0;
}

/* ---- client ----------------------------------------------------------------- */

int
sermux_open(uint16_t port, uint32_t capacity, uint64_t timeout_ns,
            struct sermux_port **out)
{
  static const struct svc_type type = SERMUX_TYPE;
  static const int codes[] = { MN_EEXIST, MN_ENOSPC, MN_ENOMEM, MN_EINVAL };
  struct svc_client c;
  int err = svc_connect(&(struct uuid)SERMUX_UUID, &type, 0, 0, timeout_ns, &c);
  if (err)
    return err;
  struct sermux_req req = { port, capacity };
  struct sermux_resp resp;
  struct sermux_err e = { 0 };
  err = svc_call(&c, &req, &resp, &e, timeout_ns);
  svc_disconnect(&c);
  if (err == MN_ESERVICE)
    return e.kind < 4 ? codes[e.kind] : MN_EINVAL;
  if (err)
    return err;
  *out = resp.port;
  return 0;
}

int
sermux_write(struct sermux_port *p, const void *data, size_t len,
             uint64_t timeout_ns)
{
  return bbq_write_all(&p->tx, data, len, timeout_ns);
}

int
sermux_read(struct sermux_port *p, void *buf, size_t cap, uint64_t timeout_ns,
            size_t *n)
{
  const uint8_t *d;
  size_t len;
  if (!cap)
    return MN_EINVAL;
  int err = bbq_read_grant(&p->rx, timeout_ns, &d, &len);
  if (err)
    return err;
  *n = len < cap ? len : cap;
  memcpy(buf, d, *n);
  bbq_release(&p->rx, *n);
  return 0;
}
