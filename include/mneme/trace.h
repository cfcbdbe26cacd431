/*
 * trace.h: structured tracing from kernel code.
 *
 * One small macro API: events and spans with a level (log.h's LOG_TRACE
 * 0 .. LOG_ERROR 4), a target (the module: "sermux", "heap", ...), a name
 * or message, and typed fields:
 *
 *   TRACE_EVENT(LOG_INFO, "sermux", "port open", TF_U("port", 3));
 *   uint64_t sp = TRACE_SPAN_ENTER(LOG_DEBUG, "forth", "eval",
 *                                  TF_S("word", w));
 *   ...
 *   TRACE_SPAN_EXIT(sp);
 *
 * Every macro site is a static callsite; a site below the current level
 * costs one compare. Once the tracing service runs (trace_start), records
 * go as a binary stream to sermux port 3: each record is postcard bytes,
 * COBS-framed and ended by 0x00, inside the mux's own frames. Before that
 * (and if it cannot start) events fall back to text lines through klog.
 * The host (mnemeterm) sets the maximum level with a SetMaxLevel message
 * on the same port; kernel log lines are forwarded as Log records.
 *
 * Wire records (postcard enum TraceRecord, kernel to host):
 *   0 Heartbeat{uptime_ns u64, max_level u8}        ~1/s while idle
 *   1 Meta{id u32, kind u8 (0 event, 1 span), level u8, target str,
 *          name str, file str, line u32}            once per site and host
 *   2 Event{id u32, time_ns u64, task str, fields seq<Field>}
 *   3 SpanEnter{id u32, span u64, time_ns u64, task str, fields seq<Field>}
 *   4 SpanExit{span u64, time_ns u64}
 *   5 Discarded{count u64}      records lost since the last report
 *   6 Log{level u8, time_ns u64, line str}
 *   Field = (name str, Value); Value = 0 U64(u64) | 1 I64(i64) |
 *           2 Bool(bool) | 3 Str(str)
 * Host to kernel (postcard enum, COBS-framed): 0 SetMaxLevel(u8); every
 * SetMaxLevel also makes the kernel send every site's Meta again before
 * its next record (a new host needs them). Times are the platform
 * clock's (as in klog lines).
 *
 * Records are written without waiting: when the port's ring is full the
 * record is counted as discarded and reported in the next Discarded.
 */
#ifndef MNEME_TRACE_H
#define MNEME_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include "mneme/log.h"

enum trace_kind { TRACE_KIND_EVENT = 0, TRACE_KIND_SPAN = 1 };

enum trace_record_kind {
  TRACE_REC_HEARTBEAT, TRACE_REC_META, TRACE_REC_EVENT, TRACE_REC_SPAN_ENTER,
  TRACE_REC_SPAN_EXIT, TRACE_REC_DISCARDED, TRACE_REC_LOG,
};

enum trace_host_msg { TRACE_HOST_SET_MAX_LEVEL = 0 };

#define TRACE_RECORD_MAX 384   /* largest record (postcard bytes) */
#define TRACE_STR_MAX 96       /* longer string fields are cut */

struct trace_callsite {
  const char *target, *name, *file;
  uint32_t line;
  uint8_t level, kind;
  uint32_t id;                 /* given at first use; 0: none yet */
  uint32_t meta_gen;           /* host generation that has our Meta */
};

enum trace_field_kind { TF_NONE, TF_U64, TF_I64, TF_BOOL, TF_STR };

struct trace_field {
  const char *name;
  uint8_t kind;
  union {
    uint64_t u;
    int64_t i;
    const char *s;
  } v;
};

#define TF_U(n, x) { (n), TF_U64, { .u = (uint64_t)(x) } }
#define TF_I(n, x) { (n), TF_I64, { .i = (int64_t)(x) } }
#define TF_B(n, x) { (n), TF_BOOL, { .u = (x) ? 1u : 0u } }
#define TF_S(n, x) { (n), TF_STR, { .s = (x) } }

/* Least level recorded now (set by the host; the configured default). */
extern uint8_t trace_min_level;

#define TRACE_SITE_(lvl, target, name, kind)                                 \
  static struct trace_callsite trace_cs_ = { (target), (name), __FILE__,   \
                                             __LINE__, (lvl), (kind), 0, 0 }

#define TRACE_EVENT(lvl, target, msg, ...)                                   \
  do {                                                                       \
    TRACE_SITE_(lvl, target, msg, TRACE_KIND_EVENT);                         \
    if ((lvl) >= trace_min_level) {                                          \
      const struct trace_field trace_f_[] = { { 0, TF_NONE, { 0 } }, __VA_ARGS__ }; \
      trace_event(&trace_cs_, trace_f_ + 1,                                  \
                  sizeof trace_f_ / sizeof trace_f_[0] - 1);                 \
    }                                                                        \
  } while (0)

/* Enters a span; evaluates to its id (0 when the level is off). */
#define TRACE_SPAN_ENTER(lvl, target, name, ...)                             \
  ({                                                                         \
    TRACE_SITE_(lvl, target, name, TRACE_KIND_SPAN);                         \
    uint64_t trace_sp_ = 0;                                                  \
    if ((lvl) >= trace_min_level) {                                          \
      const struct trace_field trace_f_[] = { { 0, TF_NONE, { 0 } }, __VA_ARGS__ }; \
      trace_sp_ = trace_span_enter(&trace_cs_, trace_f_ + 1,                 \
                                   sizeof trace_f_ / sizeof trace_f_[0] - 1); \
    }                                                                        \
    trace_sp_;                                                               \
  })

#define TRACE_SPAN_EXIT(span)                                                \
  do {                                                                       \
    if (span)                                                                \
      trace_span_exit(span);                                                 \
  } while (0)

#define TRACE_ERROR(target, msg, ...) TRACE_EVENT(LOG_ERROR, target, msg, __VA_ARGS__)
#define TRACE_WARN(target, msg, ...) TRACE_EVENT(LOG_WARN, target, msg, __VA_ARGS__)
#define TRACE_INFO(target, msg, ...) TRACE_EVENT(LOG_INFO, target, msg, __VA_ARGS__)
#define TRACE_DEBUG(target, msg, ...) TRACE_EVENT(LOG_DEBUG, target, msg, __VA_ARGS__)

/* Used by the macros. */
void trace_event(struct trace_callsite *cs, const struct trace_field *f, size_t n);
uint64_t trace_span_enter(struct trace_callsite *cs, const struct trace_field *f,
                          size_t n);
void trace_span_exit(uint64_t span);

struct trace_stats {
  uint64_t records, discarded, host_msgs, bad_host_msgs;
  uint8_t min_level;
  int streaming;               /* records go to the mux port */
};

/*
 * Opens sermux `port`, starts the heartbeat/host task, sets the level
 * (a LOG_* value) and sends records there from now on; kernel log lines
 * become Log records. heartbeat_ms 0: 1000. Returns 0, MN_EINVAL, or
 * sermux_open's errors (tracing then stays on the text fallback).
 */
int trace_start(uint16_t port, uint8_t min_level, uint32_t heartbeat_ms);

void trace_stats(struct trace_stats *out);

/*
 * Encodes a record for a callsite into buf (postcard); used by the service
 * and by tests. Returns the length, or 0 if it does not fit.
 */
size_t trace_encode_event(uint8_t *buf, size_t cap, uint32_t kind, uint32_t id,
                          uint64_t span, uint64_t time_ns, const char *task,
                          const struct trace_field *f, size_t n);

#endif
