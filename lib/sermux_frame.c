/*
 * sermux_frame.c: sermux frame encoding and the wire demultiplexer that
 * separates frames from plain text (see include/mneme/sermux_frame.h for
 * the text rules). Freestanding, no allocation: the caller owns the buffer.
 *
 * The demux collects a run of raw bytes until a 0x00 (or, for text, a
 * line end). A frame run is checked as COBS first and decoded in place
 * only when valid, so a run that is not a frame can still be handed out
 * unchanged as text.
 *
 * Interface:
 *   smx_encode, smx_decode, smx_demux_init, smx_demux_push, smx_demux_feed,
 *   smx_demux_flush_text
 */
#include <mneme/err.h>
#include <mneme/sermux_frame.h>

int smx_encode(uint16_t port, const void *payload, size_t n, void *dst,
               size_t cap, size_t *out_len) {
  struct cobs_enc e;
  uint8_t hdr[SMX_PORT_LEN] = {(uint8_t)port, (uint8_t)(port >> 8)};
  size_t len;
  if (n == 0 || !payload)
    return MN_EINVAL;
  cobs_enc_init(&e, dst, cap);
  cobs_enc_push(&e, hdr, sizeof hdr);
  cobs_enc_push(&e, payload, n);
  int rc = cobs_enc_finish(&e, &len);
  if (rc)
    return rc;
  if (len == cap)
    return MN_ENOSPC;
  ((uint8_t *)dst)[len++] = 0;
  *out_len = len;
  return 0;
}

int smx_decode(const void *src, size_t n, void *dst, size_t cap,
               uint16_t *port, const uint8_t **payload, size_t *len) {
  uint8_t *d = dst;
  size_t m;
  int rc = cobs_decode(src, n, dst, cap, &m);
  if (rc)
    return rc;
  if (m < SMX_PORT_LEN + 1)
    return MN_ETRUNC;
  *port = (uint16_t)(d[0] | d[1] << 8);
  *payload = d + SMX_PORT_LEN;
  *len = m - SMX_PORT_LEN;
  return 0;
}

/* ---- demultiplexer -------------------------------------------------------- */

int smx_demux_init(struct smx_demux *d, void *buf, size_t cap,
                   size_t max_frame) {
  if (max_frame < SMX_PORT_LEN + 1 || !buf ||
      cap < smx_demux_buf_size(max_frame))
    return MN_EINVAL;
  *d = (struct smx_demux){.buf = buf, .cap = cap, .max_frame = max_frame,
                          .text_lines = true};
  return 0;
}

static bool is_text_byte(uint8_t b) {
  return b == '\t' || b == '\n' || b == '\r' || b == 0x1b ||
         (b >= 0x20 && b != 0x7f);
}

static void clear_run(struct smx_demux *d) {
  d->len = 0;
  d->text_run = false;
  d->emitted = false;
}

/* Hands the run out as text. */
static int emit_text(struct smx_demux *d, struct smx_item *item) {
  item->port = 0;
  item->data = d->buf;
  item->len = d->len;
  d->count.text_bytes += d->len;
  d->emitted = true;
  return SMX_TEXT;
}

/* Appends a byte to the run; the caller made sure there is room. */
static void add(struct smx_demux *d, uint8_t b) {
  if (d->len == 0)
    d->text_run = d->text_lines && is_text_byte(b);
  d->buf[d->len++] = b;
}

/* A 0x00 ends the run: a frame, text, or something counted and dropped. */
static int end_run(struct smx_demux *d, struct smx_item *item) {
  size_t n;
  if (d->discarding || d->len == 0) {
    d->discarding = false;
    clear_run(d);
    return SMX_NONE;
  }
  if (d->text_run)
    return emit_text(d, item);
  if (cobs_check(d->buf, d->len, &n) != 0) {
    d->count.malformed++;
    return emit_text(d, item);
  }
  if (n > d->max_frame || n < SMX_PORT_LEN + 1) {
    if (n > d->max_frame)
      d->count.oversized++;
    else
      d->count.short_frames++;
    clear_run(d);
    return SMX_NONE;
  }
  cobs_decode(d->buf, d->len, d->buf, d->cap, &n);
  item->port = (uint16_t)(d->buf[0] | d->buf[1] << 8);
  item->data = d->buf + SMX_PORT_LEN;
  item->len = n - SMX_PORT_LEN;
  d->count.frames++;
  d->emitted = true;
  return SMX_FRAME;
}

/* The run is full: text goes out, a frame is too long. */
static int full_run(struct smx_demux *d, uint8_t b, struct smx_item *item) {
  if (!d->text_run)
    d->count.oversized++;
  if (d->text_run || d->text_lines) {
    d->held = true;
    d->held_byte = b;
    return emit_text(d, item);
  }
  d->discarding = true;
  clear_run(d);
  return SMX_NONE;
}

int smx_demux_push(struct smx_demux *d, uint8_t b, struct smx_item *item) {
  if (d->emitted) {
    clear_run(d);
    if (d->held) {
      d->held = false;
      add(d, d->held_byte);
    }
  }
  if (b == 0)
    return end_run(d, item);
  if (d->discarding)
    return SMX_NONE;
  if (d->text_run && !is_text_byte(b)) { /* a frame may start here */
    d->held = true;
    d->held_byte = b;
    return emit_text(d, item);
  }
  if (d->len == d->cap)
    return full_run(d, b, item);
  add(d, b);
  if (d->text_run && b == '\n')
    return emit_text(d, item);
  return SMX_NONE;
}

int smx_demux_feed(struct smx_demux *d, const void *in, size_t n,
                   size_t *used, struct smx_item *item) {
  const uint8_t *p = in;
  int kind = SMX_NONE;
  size_t i = 0;
  while (i < n && kind == SMX_NONE)
    kind = smx_demux_push(d, p[i++], item);
  *used = i;
  return kind;
}

int smx_demux_flush_text(struct smx_demux *d, struct smx_item *item) {
  if (d->emitted || d->len == 0 || !d->text_run)
    return SMX_NONE;
  return emit_text(d, item);
}
