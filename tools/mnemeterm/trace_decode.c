/*
 * trace_decode.c: decodes and prints mneme's tracing records (host side).
 *
 * Interface: trace_decoder_init, trace_feed, trace_record,
 * trace_decoder_free.
 *
 * Line formats:
 *   [    12.345678] INFO  sermux: port open port=3 (task)
 *   [    12.345678] DEBUG forth: -> eval{word=dup} #7 (task)
 *   [    12.345900] TRACE span: <- #7
 *   [    12.345678] WARN  tracing: 12 records discarded
 *   kernel log lines (Log records) are printed as they are, coloured.
 */
#include <stdlib.h>
#include <string.h>
#include "mneme/err.h"
#include "mneme/postcard.h"
#include "trace_decode.h"

static const char *const level_names[] = { "TRACE", "DEBUG", "INFO", "WARN", "ERROR" };
static const char *const level_colors[] = { "\033[35m", "\033[34m", "\033[32m",
                                            "\033[33m", "\033[1;31m" };

void
trace_decoder_init(struct trace_decoder *d, int color, int want_level)
{
  memset(d, 0, sizeof *d);
  cobs_stream_init(&d->cs, d->frame, sizeof d->frame);
  d->color = color;
  d->want_level = want_level;
  d->last_level = -1;
  d->sink = fopen("/dev/null", "w");
}

void
trace_decoder_free(struct trace_decoder *d)
{
  free(d->meta);
  d->meta = 0;
  if (d->sink)
    fclose(d->sink);
  d->sink = 0;
  d->nmeta = 0;
}

/* Copies a decoded string into a fixed buffer, cut to fit. */
static int
dec_str(struct pc_dec *dec, char *dst, size_t cap)
{
  const char *s;
  size_t n;
  int err = pc_dec_str(dec, &s, &n);
  if (err)
    return err;
  if (n >= cap)
    n = cap - 1;
  memcpy(dst, s, n);
  dst[n] = 0;
  return 0;
}

static void
prefix(struct trace_decoder *d, FILE *out, int level, uint64_t ns)
{
  if (level < 0 || level > 4)
    level = 4;
  fprintf(out, "%s[%6llu.%06llu] %-5s ", d->color ? level_colors[level] : "",
          (unsigned long long)(ns / 1000000000u),
          (unsigned long long)(ns % 1000000000u / 1000u), level_names[level]);
}

static void
suffix(struct trace_decoder *d, FILE *out)
{
  fputs(d->color ? "\033[0m\n" : "\n", out);
}

static int
print_fields(struct pc_dec *dec, FILE *out, int braces)
{
  size_t n;
  if (pc_dec_seq_len(dec, &n))
    return MN_EDECODE;
  if (braces && n)
    fputc('{', out);
  for (size_t i = 0; i < n; i++) {
    char name[64], s[128];
    uint32_t kind;
    uint64_t u;
    int64_t v;
    bool b;
    if (dec_str(dec, name, sizeof name) || pc_dec_variant(dec, &kind))
      return MN_EDECODE;
    fprintf(out, braces && i == 0 ? "%s=" : " %s=", name);
    switch (kind) {
    case 0: if (pc_dec_u64(dec, &u)) return MN_EDECODE;
      fprintf(out, "%llu", (unsigned long long)u); break;
    case 1: if (pc_dec_i64(dec, &v)) return MN_EDECODE;
      fprintf(out, "%lld", (long long)v); break;
    case 2: if (pc_dec_bool(dec, &b)) return MN_EDECODE;
      fputs(b ? "true" : "false", out); break;
    case 3: if (dec_str(dec, s, sizeof s)) return MN_EDECODE;
      fputs(s, out); break;
    default: return MN_EDECODE;
    }
  }
  if (braces && n)
    fputc('}', out);
  return 0;
}

static int
rec_meta(struct trace_decoder *d, struct pc_dec *dec)
{
  uint32_t id;
  struct trace_meta m = { 1, 0, 0, "", "", "", 0 };
  if (pc_dec_u32(dec, &id) || pc_dec_u8(dec, &m.kind) || pc_dec_u8(dec, &m.level) ||
      dec_str(dec, m.target, sizeof m.target) || dec_str(dec, m.name, sizeof m.name) ||
      dec_str(dec, m.file, sizeof m.file) || pc_dec_u32(dec, &m.line) ||
      pc_dec_finish(dec) || id == 0 || id > 1000000 || m.level > 4)
    return MN_EDECODE;
  if (id >= d->nmeta) {
    uint32_t n = id + 64;
    struct trace_meta *p = realloc(d->meta, n * sizeof *p);
    if (!p)
      return MN_ENOMEM;
    memset(p + d->nmeta, 0, (n - d->nmeta) * sizeof *p);
    d->meta = p;
    d->nmeta = n;
  }
  d->meta[id] = m;
  return 0;
}

/* Is target in the comma-separated filter list (or is there none)? */
static int
wanted(const struct trace_decoder *d, const char *target)
{
  if (!d->targets)
    return 1;
  size_t n = strlen(target);
  for (const char *p = d->targets; *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n && !memcmp(p, target, n))
      return 1;
    p += len + (e ? 1 : 0);
  }
  return 0;
}

/* Event or SpanEnter. */
static int
rec_event(struct trace_decoder *d, struct pc_dec *dec, int span_enter, FILE *out,
          int *mismatch)
{
  uint32_t id;
  uint64_t span = 0, ns;
  char task[32];
  if (pc_dec_u32(dec, &id) || (span_enter && pc_dec_u64(dec, &span)) ||
      pc_dec_u64(dec, &ns) || dec_str(dec, task, sizeof task))
    return MN_EDECODE;
  static const struct trace_meta unknown = { 0, 0, 2, "?", "?", "", 0 };
  const struct trace_meta *m = id < d->nmeta && d->meta[id].known ? &d->meta[id] : &unknown;
  if (m == &unknown)
    *mismatch = 1; /* the target thinks we have its Meta: ask again */
  if (!wanted(d, m->target))
    out = d->sink;
  prefix(d, out, m->level, ns);
  fprintf(out, span_enter ? "%s: -> %s" : "%s: %s", m->target, m->name);
  if (print_fields(dec, out, span_enter) || pc_dec_finish(dec)) {
    suffix(d, out);
    return MN_EDECODE;
  }
  if (span_enter)
    fprintf(out, " #%llu", (unsigned long long)span);
  fprintf(out, " (%s)", task);
  suffix(d, out);
  return 0;
}

int
trace_record(struct trace_decoder *d, const uint8_t *r, size_t n, FILE *out,
             int *mismatch)
{
  struct pc_dec dec;
  uint32_t kind;
  uint64_t a, b;
  uint8_t level;
  char line[512];
  pc_dec_init(&dec, r, n);
  if (pc_dec_variant(&dec, &kind))
    return MN_EDECODE;
  switch (kind) {
  case 0: /* Heartbeat */
    if (pc_dec_u64(&dec, &a) || pc_dec_u8(&dec, &level) || pc_dec_finish(&dec))
      return MN_EDECODE;
    d->heartbeats++;
    d->last_level = level;
    /* The first heartbeat: our SetMaxLevel may have come before the port
     * was open; say it again (harmless if it was heard). */
    if (level != d->want_level || d->heartbeats == 1)
      *mismatch = 1;
    return 0;
  case 1:
    return rec_meta(d, &dec);
  case 2:
  case 3:
    return rec_event(d, &dec, kind == 3, out, mismatch);
  case 4: /* SpanExit */
    if (pc_dec_u64(&dec, &a) || pc_dec_u64(&dec, &b) || pc_dec_finish(&dec))
      return MN_EDECODE;
    prefix(d, out, 0, b);
    fprintf(out, "span: <- #%llu", (unsigned long long)a);
    suffix(d, out);
    return 0;
  case 5: /* Discarded */
    if (pc_dec_u64(&dec, &a) || pc_dec_finish(&dec))
      return MN_EDECODE;
    d->discarded += a;
    prefix(d, out, 3, 0);
    fprintf(out, "tracing: %llu records discarded", (unsigned long long)a);
    suffix(d, out);
    return 0;
  case 6: /* Log */
    if (pc_dec_u8(&dec, &level) || pc_dec_u64(&dec, &a) ||
        dec_str(&dec, line, sizeof line) || pc_dec_finish(&dec) || level > 4)
      return MN_EDECODE;
    fprintf(out, "%s%s", d->color ? level_colors[level] : "", line);
    suffix(d, out);
    return 0;
  default:
    return MN_EDECODE;
  }
}

int
trace_feed(struct trace_decoder *d, const uint8_t *p, size_t n, FILE *out)
{
  int mismatch = 0;
  size_t off = 0;
  while (off < n) {
    size_t used;
    int r = cobs_stream_feed(&d->cs, p + off, n - off, &used);
    off += used;
    if (r == 1) {
      size_t len;
      const uint8_t *f = cobs_stream_frame(&d->cs, &len);
      if (trace_record(d, f, len, out, &mismatch))
        d->bad++;
      else
        d->records++;
    } else if (r < 0) {
      d->bad++;
    }
  }
  fflush(out);
  return mismatch ? TRACE_FEED_LEVEL_MISMATCH : TRACE_FEED_OK;
}
