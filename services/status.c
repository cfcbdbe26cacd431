/*
 * status.c: the system status service.
 *
 * Interface: status_start, status_set_mux_source, status_set_net_source.
 *
 * One task answers requests from the kernel (struct status_req) and from
 * userspace (postcard, see status.h) alike. Mux counters come from
 * the functions sermux_start hands over (status_set_mux_source), the
 * network's from net_start's (status_set_net_source).
 */
#include <string.h>
#include "mneme/err.h"
#include "mneme/heap.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/postcard.h"
#include "mneme/status.h"
#include "mneme/task.h"

static struct svc_server *srv;
static uint64_t boot_ns;
static void (*mux_stats)(struct sermux_stats *);
static int (*mux_port_stats)(size_t, struct sermux_port_stats *);
static int (*net_stats)(struct status_net *);

void
status_set_net_source(int (*net)(struct status_net *out))
{
  net_stats = net;
}

void
status_set_mux_source(void (*stats)(struct sermux_stats *),
                      int (*port_stats)(size_t, struct sermux_port_stats *))
{
  mux_stats = stats;
  mux_port_stats = port_stats;
}

static int
decode_req(const uint8_t *in, size_t len, void *out)
{
  struct status_req *r = out;
  struct pc_dec d;
  uint32_t v;
  pc_dec_init(&d, in, len);
  if (pc_dec_variant(&d, &v) || v > STATUS_NET)
    return MN_EDECODE;
  r->kind = (uint8_t)v;
  if (v == STATUS_PING || v == STATUS_TASK || v == STATUS_SERVICE ||
      v == STATUS_MUX_PORT)
    pc_dec_u32(&d, &r->arg);
  return pc_dec_finish(&d) ? MN_EDECODE : 0;
}

static void
enc_str(struct pc_enc *e, const char *s, size_t max)
{
  size_t n = 0;
  while (n < max && s[n])
    n++;
  pc_enc_str(e, s, n);
}

static void
encode_resp(struct pc_enc *e, const void *p)
{
  const struct status_resp *r = p;
  pc_enc_variant(e, r->kind);
  switch (r->kind) {
  case STATUS_PING: pc_enc_u32(e, r->u.pong); break;
  case STATUS_UPTIME: pc_enc_u64(e, r->u.uptime_ns); break;
  case STATUS_HEAP:
    pc_enc_u64(e, r->u.heap.total);
    pc_enc_u64(e, r->u.heap.in_use);
    pc_enc_u64(e, r->u.heap.free);
    pc_enc_u64(e, r->u.heap.largest_free);
    pc_enc_u64(e, r->u.heap.high_water);
    pc_enc_u64(e, r->u.heap.allocs);
    pc_enc_u64(e, r->u.heap.failed);
    break;
  case STATUS_TASK:
    pc_enc_u32(e, r->u.task.id);
    enc_str(e, r->u.task.name, sizeof r->u.task.name);
    pc_enc_u8(e, r->u.task.state);
    pc_enc_u32(e, r->u.task.stack_size);
    pc_enc_u32(e, r->u.task.stack_used);
    pc_enc_u64(e, r->u.task.switches);
    break;
  case STATUS_SERVICE:
    pc_enc_uuid(e, r->u.service.id.b);
    enc_str(e, r->u.service.name, sizeof r->u.service.name);
    pc_enc_bool(e, r->u.service.user_visible);
    pc_enc_u64(e, r->u.service.requests);
    pc_enc_u64(e, r->u.service.replies_lost);
    break;
  case STATUS_COUNTS:
    pc_enc_u32(e, r->u.counts.tasks);
    pc_enc_u32(e, r->u.counts.services);
    pc_enc_u64(e, r->u.counts.switches);
    break;
  case STATUS_MUX_PORT: {
    const struct sermux_port_stats *m = &r->u.mux_port;
    pc_enc_u16(e, m->port);
    pc_enc_u32(e, m->capacity);
    const uint64_t v[] = { m->rx_frames, m->rx_bytes, m->rx_lost_frames,
                           m->rx_lost_bytes, m->tx_frames, m->tx_bytes };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
      pc_enc_u64(e, v[i]);
    break;
  }
  case STATUS_MUX: {
    const struct sermux_stats *m = &r->u.mux;
    pc_enc_u32(e, m->ports_open);
    pc_enc_u32(e, m->max_ports);
    pc_enc_u32(e, m->max_frame);
    const uint64_t v[] = { m->wire_rx_bytes, m->wire_tx_bytes, m->frames_rx,
                           m->frames_tx, m->malformed, m->oversized,
                           m->short_frames, m->closed_port_frames,
                           m->closed_port_bytes };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
      pc_enc_u64(e, v[i]);
    break;
  }
  case STATUS_NET: {
    const struct status_net *n = &r->u.net;
    enc_str(e, n->name, sizeof n->name);
    pc_enc_bool(e, n->link_up);
    pc_enc_bool(e, n->bound);
    pc_enc_u32(e, n->ip);
    const uint64_t v[] = { n->rx_packets, n->rx_bytes, n->rx_dropped, n->rx_errors,
                           n->tx_packets, n->tx_bytes, n->tx_dropped, n->tx_errors };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
      pc_enc_u64(e, v[i]);
    pc_enc_u32(e, n->tcp_open);
    pc_enc_u32(e, n->tcp_listen);
    pc_enc_u32(e, n->tcp_total);
    break;
  }
  }
}

static void
encode_err(struct pc_enc *e, const void *p)
{
  pc_enc_variant(e, ((const struct status_err *)p)->kind);
}

static const struct svc_codec codec = { decode_req, encode_resp, encode_err };

/* Fills *r for *q; returns 0 or STATUS_NO_SUCH_INDEX + 1. */
static int
answer(const struct status_req *q, struct status_resp *r)
{
  memset(r, 0, sizeof *r);
  r->kind = q->kind;
  switch (q->kind) {
  case STATUS_PING:
    r->u.pong = q->arg;
    return 0;
  case STATUS_UPTIME:
    r->u.uptime_ns = ktime_now() - boot_ns;
    return 0;
  case STATUS_HEAP: {
    struct heap_stats st;
    heap_stats(kmem_heap(), &st);
    r->u.heap.total = st.total;
    r->u.heap.in_use = st.in_use;
    r->u.heap.free = st.free;
    r->u.heap.largest_free = st.largest_free;
    r->u.heap.high_water = st.high_water;
    r->u.heap.allocs = st.allocs;
    r->u.heap.failed = st.failed;
    return 0;
  }
  case STATUS_TASK: {
    struct task_info ti[64];
    size_t n = task_list(ti, 64);
    if (q->arg >= n || q->arg >= 64)
      return 1;
    const struct task_info *t = &ti[q->arg];
    r->u.task.id = t->id;
    memcpy(r->u.task.name, t->name, sizeof r->u.task.name);
    r->u.task.state = (uint8_t)t->state;
    r->u.task.stack_size = (uint32_t)t->stack_size;
    r->u.task.stack_used = (uint32_t)t->stack_used_max;
    r->u.task.switches = t->switches;
    return 0;
  }
  case STATUS_SERVICE: {
    struct svc_info si[32];
    size_t n = svc_list(si, 32);
    if (q->arg >= n || q->arg >= 32)
      return 1;
    r->u.service.id = si[q->arg].id;
    memcpy(r->u.service.name, si[q->arg].name, sizeof r->u.service.name);
    r->u.service.user_visible = (uint8_t)si[q->arg].user_visible;
    r->u.service.requests = si[q->arg].requests;
    r->u.service.replies_lost = si[q->arg].replies_lost;
    return 0;
  }
  case STATUS_COUNTS: {
    struct exec_stats es;
    exec_stats(&es);
    r->u.counts.tasks = es.tasks;
    r->u.counts.services = (uint32_t)svc_list(0, 0);
    r->u.counts.switches = es.switches;
    return 0;
  }
  case STATUS_MUX_PORT:
    return mux_port_stats && mux_port_stats(q->arg, &r->u.mux_port) == 0 ? 0 : 1;
  case STATUS_MUX:
    if (mux_stats)
      mux_stats(&r->u.mux);
    return 0;
  case STATUS_NET:
    return net_stats && net_stats(&r->u.net) == 0 ? 0 : 1;
  }
  return 1;
}

static int
status_task(void *arg)
{
  (void)arg;
  SVC_MSG_BUF(m, sizeof(struct status_req));
  struct status_resp resp;
  while (svc_recv(srv, m, MN_FOREVER) == 0) {
    struct status_req q;
    memcpy(&q, m->body, sizeof q);
    if (answer(&q, &resp) == 0) {
      svc_reply_ok(srv, &m->env, &resp);
    } else {
      struct status_err e = { STATUS_NO_SUCH_INDEX };
      svc_reply_err(srv, &m->env, &e);
    }
  }
  return 0;
}

int
status_start(void)
{
  static const struct svc_type type = STATUS_TYPE;
  boot_ns = ktime_now();
  int err = svc_register(&(struct uuid)STATUS_UUID, "status", &type, &codec,
                         SVC_ACCEPT_ALL, 8, &srv);
  if (err)
    return err;
  return task_spawn("status", status_task, 0, 0, 0);
}
