/*
 * sse.c: a server-sent-events parser (the WHATWG event-stream format) fed
 * bytes in any split: one line buffer, the event being built, no
 * allocation.
 */
#include <stddef.h>
#include <string.h>

#include "mneme/err.h"
#include "mneme/llmapi.h"

void
llm_sse_init(struct llm_sse *s)
{
  s->line_len = 0;
  s->event_len = 0;
  s->data_len = 0;
  s->has_data = 0;
  s->after_cr = 0;
  s->overflow = 0;
}

static void
reset_event(struct llm_sse *s)
{
  s->event_len = 0;
  s->data_len = 0;
  s->has_data = 0;
  s->overflow = 0;
}

/* A complete line (without its end). Returns the callback's value, or
 * MN_EOVERFLOW when an overlong event is dropped. */
static int
line_done(struct llm_sse *s, llm_sse_fn fn, void *ctx)
{
  const char *l = s->line;
  size_t n = s->line_len;
  s->line_len = 0;
  if (n == 0) {
    int rc = 0;
    if (s->overflow)
      rc = MN_EOVERFLOW;
    else if (s->has_data)
      rc = fn(ctx, s->event, s->event_len, s->data, s->data_len);
    reset_event(s);
    return rc;
  }
  if (s->overflow || l[0] == ':')
    return 0;
  size_t f = 0;
  while (f < n && l[f] != ':')
    f++;
  const char *v = l + f;
  size_t vn = 0;
  if (f < n) {
    v = l + f + 1;
    vn = n - f - 1;
    if (vn && v[0] == ' ') {
      v++;
      vn--;
    }
  }
  if (f == 4 && memcmp(l, "data", 4) == 0) {
    size_t need = vn + (s->has_data ? 1 : 0);
    if (need > sizeof s->data - s->data_len) {
      s->overflow = 1;
      return 0;
    }
    if (s->has_data)
      s->data[s->data_len++] = '\n';
    memcpy(s->data + s->data_len, v, vn);
    s->data_len += vn;
    s->has_data = 1;
  } else if (f == 5 && memcmp(l, "event", 5) == 0) {
    if (vn > sizeof s->event) {
      s->overflow = 1;
      return 0;
    }
    memcpy(s->event, v, vn);
    s->event_len = vn;
  }
  return 0;
}

int
llm_sse_feed(struct llm_sse *s, const char *buf, size_t len, llm_sse_fn fn, void *ctx)
{
  int result = 0;
  for (size_t i = 0; i < len; i++) {
    char c = buf[i];
    if (c == '\n' && s->after_cr) {
      s->after_cr = 0;
      continue;
    }
    s->after_cr = 0;
    if (c == '\r' || c == '\n') {
      s->after_cr = (c == '\r');
      int rc = line_done(s, fn, ctx);
      if (rc == MN_EOVERFLOW) {
        result = rc;   /* keep going: the next events are fine */
      } else if (rc) {
        return rc;
      }
      continue;
    }
    if (s->line_len == sizeof s->line) {
      s->overflow = 1;   /* the line is dropped; its event too */
      continue;
    }
    s->line[s->line_len++] = c;
  }
  return result;
}
