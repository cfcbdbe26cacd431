/*
 * tracing.c: the tracing service: records to sermux port 3, or text.
 *
 * Interface: trace_event, trace_span_enter, trace_span_exit, trace_start,
 * trace_stats, trace_encode_event, trace_min_level.
 *
 * A record is encoded (postcard) on the caller's stack, COBS-encoded
 * straight into a write grant of the port's tx ring and committed, all
 * without waiting, so any task may trace (not interrupt handlers: the
 * ring has one producer at a time, which cooperative scheduling gives
 * us). The sermux pump frames what is in the ring. The "tracing" task
 * reads host messages from the port's rx ring, and when nothing was
 * sent for a heartbeat period it sends a Heartbeat (and a Discarded
 * count when records were lost). Record layouts: include/mneme/trace.h.
 */
#include <string.h>
#include "mneme/cobs.h"
#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/postcard.h"
#include "mneme/sermux.h"
#include "mneme/task.h"
#include "mneme/trace.h"

#define TRACE_TASK_STACK (8u * 1024u)

uint8_t trace_min_level = LOG_TRACE; /* text fallback: klog filters */

static struct {
  struct sermux_port *port;    /* NULL: text fallback */
  uint64_t boot_ns, heartbeat_ns;
  uint32_t next_id, gen;       /* gen: bumped by every SetMaxLevel */
  uint64_t next_span;
  uint64_t sent_since_beat, discarded_unreported;
  struct trace_stats st;
  int in_log;                  /* a Log record is being made (no loop) */
} tr = { 0, 0, 0, 1, 1, 1, 0, 0, { 0, 0, 0, 0, LOG_INFO, 0 }, 0 };

/* ---- encoding -------------------------------------------------------------- */

static void
enc_str(struct pc_enc *e, const char *s)
{
  size_t n = 0;
  if (!s)
    s = "";
  while (s[n] && n < TRACE_STR_MAX)
    n++;
  /* Never cut inside a UTF-8 sequence: back up to a lead byte. */
  if (s[n])
    while (n && ((uint8_t)s[n] & 0xc0) == 0x80)
      n--;
  pc_enc_str(e, s, n);
}

static void
enc_fields(struct pc_enc *e, const struct trace_field *f, size_t n)
{
  pc_enc_seq_len(e, n);
  for (size_t i = 0; i < n; i++) {
    enc_str(e, f[i].name);
    switch (f[i].kind) {
    case TF_I64: pc_enc_variant(e, 1); pc_enc_i64(e, f[i].v.i); break;
    case TF_BOOL: pc_enc_variant(e, 2); pc_enc_bool(e, f[i].v.u != 0); break;
    case TF_STR: pc_enc_variant(e, 3); enc_str(e, f[i].v.s); break;
    default: pc_enc_variant(e, 0); pc_enc_u64(e, f[i].v.u); break;
    }
  }
}

size_t
trace_encode_event(uint8_t *buf, size_t cap, uint32_t kind, uint32_t id,
                   uint64_t span, uint64_t time_ns, const char *task,
                   const struct trace_field *f, size_t n)
{
  struct pc_enc e;
  pc_enc_init(&e, buf, cap);
  pc_enc_variant(&e, kind);
  pc_enc_u32(&e, id);
  if (kind == TRACE_REC_SPAN_ENTER)
    pc_enc_u64(&e, span);
  pc_enc_u64(&e, time_ns);
  enc_str(&e, task);
  enc_fields(&e, f, n);
  return pc_enc_error(&e) ? 0 : pc_enc_len(&e);
}

/* ---- output ----------------------------------------------------------------- */

static uint64_t
since_boot(void)
{
  return ktime_now() - tr.boot_ns;
}

/* Puts one record (postcard bytes) into the port's ring, COBS-framed. */
static int
put_record(const uint8_t *rec, size_t len)
{
  uint8_t *g;
  size_t need = cobs_max_encoded_len(len) + 1, out;
  if (!len || bbq_grant_exact(&tr.port->tx, need, &g)) {
    tr.st.discarded++;
    tr.discarded_unreported++;
    return MN_ENOSPC;
  }
  cobs_encode(rec, len, g, need, &out);
  g[out++] = 0;
  bbq_commit(&tr.port->tx, out);
  tr.st.records++;
  tr.sent_since_beat++;
  return 0;
}

/* Sends the site's Meta if this host has not had it. Returns 0 or an error. */
static int
ensure_meta(struct trace_callsite *cs)
{
  if (!cs->id)
    cs->id = tr.next_id++;
  if (cs->meta_gen == tr.gen)
    return 0;
  uint8_t buf[TRACE_RECORD_MAX];
  struct pc_enc e;
  pc_enc_init(&e, buf, sizeof buf);
  pc_enc_variant(&e, TRACE_REC_META);
  pc_enc_u32(&e, cs->id);
  pc_enc_u8(&e, cs->kind);
  pc_enc_u8(&e, cs->level);
  enc_str(&e, cs->target);
  enc_str(&e, cs->name);
  enc_str(&e, cs->file);
  pc_enc_u32(&e, cs->line);
  int err = put_record(buf, pc_enc_error(&e) ? 0 : pc_enc_len(&e));
  if (!err)
    cs->meta_gen = tr.gen;
  return err;
}

static const char *
task_name(void)
{
  struct task *t = task_current();
  return t ? t->name : "";
}

/* The text fallback: "target: name k=v ..." through klog. */
static void
text_event(const struct trace_callsite *cs, const char *what,
           const struct trace_field *f, size_t n)
{
  char line[200];
  size_t len = (size_t)ksnprintf(line, sizeof line, "%s: %s%s", cs->target,
                                 what, cs->name);
  for (size_t i = 0; i < n && len < sizeof line; i++) {
    char *p = line + len;
    size_t room = sizeof line - len;
    switch (f[i].kind) {
    case TF_I64: len += (size_t)ksnprintf(p, room, " %s=%lld", f[i].name, (long long)f[i].v.i); break;
    case TF_BOOL: len += (size_t)ksnprintf(p, room, " %s=%s", f[i].name, f[i].v.u ? "true" : "false"); break;
    case TF_STR: len += (size_t)ksnprintf(p, room, " %s=%s", f[i].name, f[i].v.s); break;
    default: len += (size_t)ksnprintf(p, room, " %s=%llu", f[i].name, (unsigned long long)f[i].v.u); break;
    }
  }
  klog(cs->level, "%s", line);
}

void
trace_event(struct trace_callsite *cs, const struct trace_field *f, size_t n)
{
  if (!tr.port) {
    text_event(cs, "", f, n);
    return;
  }
  uint8_t buf[TRACE_RECORD_MAX];
  if (ensure_meta(cs)) {
    tr.st.discarded++;
    tr.discarded_unreported++;
    return;
  }
  size_t len = trace_encode_event(buf, sizeof buf, TRACE_REC_EVENT, cs->id, 0,
                                  since_boot(), task_name(), f, n);
  put_record(buf, len);
}

uint64_t
trace_span_enter(struct trace_callsite *cs, const struct trace_field *f, size_t n)
{
  uint64_t span = tr.next_span++;
  if (!tr.port) {
    text_event(cs, "enter ", f, n);
    return span;
  }
  uint8_t buf[TRACE_RECORD_MAX];
  if (ensure_meta(cs)) {
    tr.st.discarded++;
    tr.discarded_unreported++;
    return span;
  }
  size_t len = trace_encode_event(buf, sizeof buf, TRACE_REC_SPAN_ENTER, cs->id,
                                  span, since_boot(), task_name(), f, n);
  put_record(buf, len);
  return span;
}

void
trace_span_exit(uint64_t span)
{
  if (!tr.port) {
    klog(LOG_TRACE, "span %llu exit", (unsigned long long)span);
    return;
  }
  uint8_t buf[32];
  struct pc_enc e;
  pc_enc_init(&e, buf, sizeof buf);
  pc_enc_variant(&e, TRACE_REC_SPAN_EXIT);
  pc_enc_u64(&e, span);
  pc_enc_u64(&e, since_boot());
  put_record(buf, pc_enc_len(&e));
}

/* klog sink: kernel log lines become Log records. */
static void
log_sink(int level, const char *line, size_t len)
{
  if (!tr.port || tr.in_log || level < trace_min_level)
    return;
  uint8_t buf[TRACE_RECORD_MAX];
  struct pc_enc e;
  tr.in_log = 1;
  pc_enc_init(&e, buf, sizeof buf);
  pc_enc_variant(&e, TRACE_REC_LOG);
  pc_enc_u8(&e, (uint8_t)level);
  pc_enc_u64(&e, since_boot());
  if (len > sizeof buf - 24)
    len = sizeof buf - 24;
  while (len && ((uint8_t)line[len] & 0xc0) == 0x80)
    len--; /* cut on a character boundary */
  pc_enc_str(&e, line, len);
  put_record(buf, pc_enc_error(&e) ? 0 : pc_enc_len(&e));
  tr.in_log = 0;
}

/* ---- the tracing task ------------------------------------------------------- */

static void
heartbeat(void)
{
  uint8_t buf[40];
  struct pc_enc e;
  if (tr.discarded_unreported) {
    uint64_t n = tr.discarded_unreported;
    pc_enc_init(&e, buf, sizeof buf);
    pc_enc_variant(&e, TRACE_REC_DISCARDED);
    pc_enc_u64(&e, n);
    if (put_record(buf, pc_enc_len(&e)) == 0)
      tr.discarded_unreported -= n;
  }
  if (tr.sent_since_beat)
    return;
  pc_enc_init(&e, buf, sizeof buf);
  pc_enc_variant(&e, TRACE_REC_HEARTBEAT);
  pc_enc_u64(&e, since_boot());
  pc_enc_u8(&e, trace_min_level);
  put_record(buf, pc_enc_len(&e));
}

static void
host_msg(const uint8_t *m, size_t len)
{
  struct pc_dec d;
  uint32_t kind;
  uint8_t level;
  pc_dec_init(&d, m, len);
  if (pc_dec_variant(&d, &kind) || kind != TRACE_HOST_SET_MAX_LEVEL ||
      pc_dec_u8(&d, &level) || pc_dec_finish(&d) || level > LOG_ERROR) {
    tr.st.bad_host_msgs++;
    return;
  }
  tr.st.host_msgs++;
  trace_min_level = level;
  tr.gen++; /* a (new) host: send every site's Meta again */
  tr.sent_since_beat = 0;
  heartbeat(); /* tells the host the level took effect */
  TRACE_INFO("tracing", "host connected", TF_U("level", level),
             TF_U("records", tr.st.records), TF_U("discarded", tr.st.discarded));
}

static int
tracing_task(void *arg)
{
  (void)arg;
  uint8_t frame[64];
  struct cobs_stream cs;
  cobs_stream_init(&cs, frame, sizeof frame);
  uint64_t next = ktime_now() + tr.heartbeat_ns;
  for (;;) {
    const uint8_t *p;
    size_t len;
    uint64_t now = ktime_now();
    int err = bbq_read_grant(&tr.port->rx, next > now ? next - now : 0, &p, &len);
    if (err == MN_ETIMEDOUT) {
      heartbeat();
      tr.sent_since_beat = 0;
      next = ktime_now() + tr.heartbeat_ns;
      continue;
    }
    if (err)
      return 0;
    for (size_t off = 0; off < len;) {
      size_t used;
      int r = cobs_stream_feed(&cs, p + off, len - off, &used);
      off += used;
      if (r == 1) {
        size_t n;
        const uint8_t *f = cobs_stream_frame(&cs, &n);
        host_msg(f, n);
      } else if (r < 0) {
        tr.st.bad_host_msgs++;
      }
    }
    bbq_release(&tr.port->rx, len);
  }
}

int
trace_start(uint16_t port, uint8_t min_level, uint32_t heartbeat_ms)
{
  if (min_level > LOG_ERROR || tr.port)
    return MN_EINVAL;
  struct sermux_port *p;
  int err = sermux_open(port, 2048, MN_SEC(1), &p);
  if (err)
    return err;
  tr.boot_ns = 0; /* times are the platform clock's, as in klog lines */
  tr.heartbeat_ns = MN_MSEC(heartbeat_ms ? heartbeat_ms : 1000);
  trace_min_level = min_level;
  tr.port = p;
  if (task_spawn("tracing", tracing_task, 0, TRACE_TASK_STACK, 0)) {
    tr.port = 0;
    return MN_ENOMEM;
  }
  klog_set_sink(log_sink);
  return 0;
}

void
trace_stats(struct trace_stats *out)
{
  *out = tr.st;
  out->min_level = trace_min_level;
  out->streaming = tr.port != 0;
}
