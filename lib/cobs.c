/*
 * cobs.c: COBS encoding and decoding (one-shot, incremental encoder and a
 * streaming decoder for byte-at-a-time input). Rules: docs/wire.md.
 *
 * A frame is a run of blocks: a code byte n (1..255) then n-1 non-zero
 * bytes. A block with n < 255 is followed by an implied zero unless it is
 * the last block; 255 means 254 bytes and no zero.
 *
 * Interface:
 *   cobs_enc_init, cobs_enc_push, cobs_enc_finish, cobs_encode,
 *   cobs_decode, cobs_check, cobs_stream_init, cobs_stream_push,
 *   cobs_stream_feed, cobs_stream_frame
 */
#include <mneme/cobs.h>
#include <mneme/err.h>

/* ---- encoder -------------------------------------------------------------- */

/* Reserves the code byte of a new block. */
static void open_block(struct cobs_enc *e) {
  if (e->len == e->cap) {
    e->err = MN_ENOSPC;
    return;
  }
  e->code_pos = e->len++;
  e->code = 1;
  e->open = true;
}

static void close_block(struct cobs_enc *e) {
  e->dst[e->code_pos] = e->code;
  e->open = false;
}

void cobs_enc_init(struct cobs_enc *e, void *dst, size_t cap) {
  e->dst = dst;
  e->cap = dst ? cap : 0;
  e->len = 0;
  e->err = 0;
  e->open = false;
  open_block(e);
}

int cobs_enc_push(struct cobs_enc *e, const void *src, size_t n) {
  const uint8_t *s = src;
  size_t i = 0;
  while (i < n && !e->err) {
    if (!e->open)
      open_block(e);
    if (e->err)
      break;
    if (s[i] == 0) {
      close_block(e);
      open_block(e); /* a zero is always followed by a block */
      i++;
      continue;
    }
    /* copy the run of non-zero bytes that fits in this block */
    size_t room = 0xffu - e->code, k = 0;
    while (k < room && i + k < n && s[i + k] != 0)
      k++;
    if (k > e->cap - e->len) {
      e->err = MN_ENOSPC;
      break;
    }
    for (size_t j = 0; j < k; j++)
      e->dst[e->len + j] = s[i + j];
    e->len += k;
    e->code = (uint8_t)(e->code + k);
    i += k;
    if (e->code == 0xff)
      close_block(e);
  }
  return e->err;
}

int cobs_enc_finish(struct cobs_enc *e, size_t *len) {
  if (e->err)
    return e->err;
  if (e->open)
    close_block(e);
  *len = e->len;
  return 0;
}

int cobs_encode(const void *src, size_t n, void *dst, size_t cap,
                size_t *out_len) {
  struct cobs_enc e;
  cobs_enc_init(&e, dst, cap);
  cobs_enc_push(&e, src, n);
  return cobs_enc_finish(&e, out_len);
}

/* ---- one-shot decoder ----------------------------------------------------- */

int cobs_decode(const void *src, size_t n, void *dst, size_t cap,
                size_t *out_len) {
  const uint8_t *s = src;
  uint8_t *d = dst;
  size_t i = 0, o = 0;
  if (n == 0)
    return MN_EDECODE;
  while (i < n) {
    uint8_t code = s[i++];
    size_t run = (size_t)code - 1;
    if (code == 0 || run > n - i)
      return MN_EDECODE;
    if (run > cap - o)
      return MN_ENOSPC;
    for (size_t k = 0; k < run; k++) {
      if (s[i] == 0)
        return MN_EDECODE;
      d[o++] = s[i++]; /* o <= i - 1: safe in place */
    }
    if (i < n && code != 0xff) {
      if (o == cap)
        return MN_ENOSPC;
      d[o++] = 0;
    }
  }
  *out_len = o;
  return 0;
}

int cobs_check(const void *src, size_t n, size_t *out_len) {
  const uint8_t *s = src;
  size_t i = 0, o = 0;
  if (n == 0)
    return MN_EDECODE;
  while (i < n) {
    uint8_t code = s[i++];
    size_t run = (size_t)code - 1;
    if (code == 0 || run > n - i)
      return MN_EDECODE;
    for (size_t k = 0; k < run; k++)
      if (s[i++] == 0)
        return MN_EDECODE;
    o += run + (i < n && code != 0xff);
  }
  *out_len = o;
  return 0;
}

/* ---- streaming decoder ---------------------------------------------------- */

static void stream_reset(struct cobs_stream *s) {
  s->len = 0;
  s->left = 0;
  s->code = 0;
  s->in_frame = false;
  s->have_block = false;
  s->over = false;
}

void cobs_stream_init(struct cobs_stream *s, void *buf, size_t cap) {
  s->buf = buf;
  s->cap = buf ? cap : 0;
  s->frame_len = 0;
  stream_reset(s);
}

static void append(struct cobs_stream *s, uint8_t b) {
  if (s->len == s->cap)
    s->over = true;
  else
    s->buf[s->len++] = b;
}

/* The delimiter: reports how the frame in progress ended. */
static int end_frame(struct cobs_stream *s) {
  int rc;
  if (!s->in_frame)
    return 0;
  if (s->left > 0)
    rc = MN_EDECODE;
  else if (s->over)
    rc = MN_EOVERFLOW;
  else
    rc = 1;
  if (rc == 1)
    s->frame_len = s->len;
  stream_reset(s);
  return rc;
}

int cobs_stream_push(struct cobs_stream *s, uint8_t byte) {
  if (byte == 0)
    return end_frame(s);
  s->in_frame = true;
  if (s->over)
    return 0;
  if (s->left == 0) { /* a code byte */
    if (s->have_block && s->code != 0xff)
      append(s, 0);
    s->code = byte;
    s->left = (uint8_t)(byte - 1);
    s->have_block = true;
  } else {
    append(s, byte);
    s->left--;
  }
  return 0;
}

int cobs_stream_feed(struct cobs_stream *s, const void *in, size_t n,
                     size_t *used) {
  const uint8_t *p = in;
  int rc = 0;
  size_t i = 0;
  while (i < n && rc == 0)
    rc = cobs_stream_push(s, p[i++]);
  *used = i;
  return rc;
}

const uint8_t *cobs_stream_frame(const struct cobs_stream *s, size_t *len) {
  *len = s->frame_len;
  return s->buf;
}
