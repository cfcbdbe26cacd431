/*
 * postcard.c: postcard encoder and decoder (the wire rules are in
 * docs/wire.md). Freestanding: no allocation, no libc calls.
 *
 * The encoder appends to a caller buffer and keeps its first error; the
 * decoder is a cursor that only advances over complete, valid values, so
 * it never reads outside [p, end) whatever the input.
 *
 * Interface:
 *   pc_enc_init, pc_enc_u8..pc_enc_u64, pc_enc_i8..pc_enc_i64, pc_enc_bool,
 *   pc_enc_f32, pc_enc_f64, pc_enc_bytes, pc_enc_str, pc_enc_seq_len,
 *   pc_enc_raw, pc_enc_none, pc_enc_some, pc_enc_variant, pc_enc_uuid,
 *   pc_varint_len
 *   pc_dec_init, pc_dec_finish, pc_dec_u8..pc_dec_u64, pc_dec_i8..pc_dec_i64,
 *   pc_dec_bool, pc_dec_f32, pc_dec_f64, pc_dec_bytes, pc_dec_str,
 *   pc_dec_seq_len, pc_dec_raw, pc_dec_option, pc_dec_variant, pc_dec_uuid
 */
#include <mneme/err.h>
#include <mneme/postcard.h>

/* ---- encoder -------------------------------------------------------------- */

void pc_enc_init(struct pc_enc *e, void *buf, size_t cap) {
  e->buf = buf;
  e->cap = buf ? cap : 0;
  e->len = 0;
  e->err = 0;
}

/* Appends n bytes or sets the sticky MN_EOVERFLOW; returns e->err. */
static int put(struct pc_enc *e, const uint8_t *p, size_t n) {
  if (e->err)
    return e->err;
  if (n > e->cap - e->len)
    return e->err = MN_EOVERFLOW;
  for (size_t i = 0; i < n; i++)
    e->buf[e->len + i] = p[i];
  e->len += n;
  return 0;
}

static int put_varint(struct pc_enc *e, uint64_t v) {
  uint8_t tmp[PC_VARINT_MAX_U64];
  size_t n = 0;
  while (v >= 0x80) {
    tmp[n++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  tmp[n++] = (uint8_t)v;
  return put(e, tmp, n);
}

size_t pc_varint_len(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

int pc_enc_u8(struct pc_enc *e, uint8_t v) { return put(e, &v, 1); }
int pc_enc_i8(struct pc_enc *e, int8_t v) {
  uint8_t b = (uint8_t)v;
  return put(e, &b, 1);
}
int pc_enc_u16(struct pc_enc *e, uint16_t v) { return put_varint(e, v); }
int pc_enc_u32(struct pc_enc *e, uint32_t v) { return put_varint(e, v); }
int pc_enc_u64(struct pc_enc *e, uint64_t v) { return put_varint(e, v); }

/* Zigzag: (n << 1) ^ (n >> (bits-1)), computed on unsigned values so the
 * shift of a negative number is well defined. */
int pc_enc_i16(struct pc_enc *e, int16_t v) {
  uint16_t u = (uint16_t)v, sign = (uint16_t)(v < 0 ? 0xffffu : 0);
  return put_varint(e, (uint16_t)((u << 1) ^ sign));
}
int pc_enc_i32(struct pc_enc *e, int32_t v) {
  uint32_t u = (uint32_t)v, sign = v < 0 ? 0xffffffffu : 0;
  return put_varint(e, (u << 1) ^ sign);
}
int pc_enc_i64(struct pc_enc *e, int64_t v) {
  uint64_t u = (uint64_t)v, sign = v < 0 ? ~(uint64_t)0 : 0;
  return put_varint(e, (u << 1) ^ sign);
}

int pc_enc_bool(struct pc_enc *e, bool v) { return pc_enc_u8(e, v ? 1 : 0); }

static int put_le(struct pc_enc *e, uint64_t bits, size_t n) {
  uint8_t tmp[8];
  for (size_t i = 0; i < n; i++)
    tmp[i] = (uint8_t)(bits >> (8 * i));
  return put(e, tmp, n);
}

int pc_enc_f32(struct pc_enc *e, float v) {
  union { float f; uint32_t u; } c = { .f = v };
  return put_le(e, c.u, 4);
}
int pc_enc_f64(struct pc_enc *e, double v) {
  union { double f; uint64_t u; } c = { .f = v };
  return put_le(e, c.u, 8);
}

int pc_enc_bytes(struct pc_enc *e, const void *p, size_t n) {
  if (!p && n)
    return e->err ? e->err : (e->err = MN_EINVAL);
  put_varint(e, n);
  return put(e, p, n);
}
int pc_enc_str(struct pc_enc *e, const char *s, size_t n) {
  return pc_enc_bytes(e, s, n);
}
int pc_enc_seq_len(struct pc_enc *e, size_t n) { return put_varint(e, n); }
int pc_enc_raw(struct pc_enc *e, const void *p, size_t n) {
  if (!p && n)
    return e->err ? e->err : (e->err = MN_EINVAL);
  return put(e, p, n);
}
int pc_enc_none(struct pc_enc *e) { return pc_enc_u8(e, 0); }
int pc_enc_some(struct pc_enc *e) { return pc_enc_u8(e, 1); }
int pc_enc_variant(struct pc_enc *e, uint32_t index) {
  return put_varint(e, index);
}
int pc_enc_uuid(struct pc_enc *e, const uint8_t uuid[PC_UUID_LEN]) {
  return pc_enc_bytes(e, uuid, PC_UUID_LEN);
}

/* ---- decoder -------------------------------------------------------------- */

void pc_dec_init(struct pc_dec *d, const void *buf, size_t len) {
  d->p = buf;
  d->end = buf ? d->p + len : d->p;
  d->err = 0;
}

static int fail(struct pc_dec *d, int code) {
  if (!d->err)
    d->err = code;
  return d->err;
}

int pc_dec_finish(struct pc_dec *d) {
  if (d->err)
    return d->err;
  return d->p == d->end ? 0 : fail(d, MN_EDECODE);
}

/* Takes n bytes (a view) or fails with MN_ETRUNC. */
static int take(struct pc_dec *d, size_t n, const uint8_t **out) {
  if (d->err)
    return d->err;
  if (n > pc_dec_remaining(d))
    return fail(d, MN_ETRUNC);
  *out = d->p;
  d->p += n;
  return 0;
}

/*
 * A varint for an unsigned type of `bits` (16, 32 or 64) bits. At most
 * ceil(bits/7) bytes; in the last allowed byte the continuation bit is an
 * over-long encoding (MN_EDECODE) and bits past the width are MN_EOVERFLOW.
 * Padded in-range forms (80 00) are accepted.
 */
static int get_varint(struct pc_dec *d, unsigned bits, uint64_t *out) {
  unsigned maxlen = (bits + 6) / 7;
  uint64_t v = 0;
  const uint8_t *p = d->p;
  if (d->err)
    return d->err;
  for (unsigned i = 0; i < maxlen; i++) {
    if (p == d->end)
      return fail(d, MN_ETRUNC);
    uint8_t b = *p++;
    if (i == maxlen - 1) {
      unsigned room = bits - 7 * i;
      if (b & 0x80)
        return fail(d, MN_EDECODE);
      if (room < 7 && (b >> room) != 0)
        return fail(d, MN_EOVERFLOW);
    }
    v |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      d->p = p;
      *out = v;
      return 0;
    }
  }
  return fail(d, MN_EDECODE); /* not reached: the last byte returns */
}

int pc_dec_u8(struct pc_dec *d, uint8_t *v) {
  const uint8_t *p;
  int rc = take(d, 1, &p);
  if (rc == 0)
    *v = p[0];
  return rc;
}
int pc_dec_i8(struct pc_dec *d, int8_t *v) {
  uint8_t b;
  int rc = pc_dec_u8(d, &b);
  if (rc == 0)
    *v = (int8_t)b;
  return rc;
}
int pc_dec_u16(struct pc_dec *d, uint16_t *v) {
  uint64_t u;
  int rc = get_varint(d, 16, &u);
  if (rc == 0)
    *v = (uint16_t)u;
  return rc;
}
int pc_dec_u32(struct pc_dec *d, uint32_t *v) {
  uint64_t u;
  int rc = get_varint(d, 32, &u);
  if (rc == 0)
    *v = (uint32_t)u;
  return rc;
}
int pc_dec_u64(struct pc_dec *d, uint64_t *v) { return get_varint(d, 64, v); }

/* Zigzag decode: (u >> 1) ^ -(u & 1), in unsigned arithmetic. */
int pc_dec_i16(struct pc_dec *d, int16_t *v) {
  uint64_t u;
  int rc = get_varint(d, 16, &u);
  if (rc == 0)
    *v = (int16_t)(uint16_t)((u >> 1) ^ (0 - (u & 1)));
  return rc;
}
int pc_dec_i32(struct pc_dec *d, int32_t *v) {
  uint64_t u;
  int rc = get_varint(d, 32, &u);
  if (rc == 0)
    *v = (int32_t)(uint32_t)((u >> 1) ^ (0 - (u & 1)));
  return rc;
}
int pc_dec_i64(struct pc_dec *d, int64_t *v) {
  uint64_t u;
  int rc = get_varint(d, 64, &u);
  if (rc == 0)
    *v = (int64_t)((u >> 1) ^ (0 - (u & 1)));
  return rc;
}

int pc_dec_bool(struct pc_dec *d, bool *v) {
  if (d->err)
    return d->err;
  if (d->p == d->end)
    return fail(d, MN_ETRUNC);
  if (*d->p > 1)
    return fail(d, MN_EDECODE);
  *v = *d->p++ == 1;
  return 0;
}

static int get_le(struct pc_dec *d, size_t n, uint64_t *bits) {
  const uint8_t *p;
  int rc = take(d, n, &p);
  if (rc)
    return rc;
  *bits = 0;
  for (size_t i = 0; i < n; i++)
    *bits |= (uint64_t)p[i] << (8 * i);
  return 0;
}

int pc_dec_f32(struct pc_dec *d, float *v) {
  uint64_t bits;
  int rc = get_le(d, 4, &bits);
  if (rc == 0) {
    union { float f; uint32_t u; } c = { .u = (uint32_t)bits };
    *v = c.f;
  }
  return rc;
}
int pc_dec_f64(struct pc_dec *d, double *v) {
  uint64_t bits;
  int rc = get_le(d, 8, &bits);
  if (rc == 0) {
    union { double f; uint64_t u; } c = { .u = bits };
    *v = c.f;
  }
  return rc;
}

/* A length varint that must not exceed the bytes left (MN_ETRUNC). On
 * failure the cursor is restored. */
static int get_len(struct pc_dec *d, size_t *n) {
  const uint8_t *start = d->p;
  uint64_t u;
  int rc = get_varint(d, 64, &u);
  if (rc)
    return rc;
  if (u > pc_dec_remaining(d)) {
    d->p = start;
    return fail(d, MN_ETRUNC);
  }
  *n = (size_t)u;
  return 0;
}

int pc_dec_bytes(struct pc_dec *d, const uint8_t **p, size_t *n) {
  size_t len;
  int rc = get_len(d, &len);
  if (rc == 0)
    rc = take(d, len, p);
  if (rc == 0)
    *n = len;
  return rc;
}

/* Length of the UTF-8 sequence at s[0..n) (1..4), or 0 if invalid:
 * overlong forms, surrogates and code points above U+10FFFF are invalid. */
static size_t utf8_seq(const uint8_t *s, size_t n) {
  uint8_t c = s[0];
  size_t len;
  uint32_t cp, min;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    len = 2, cp = c & 0x1f, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef)
    len = 3, cp = c & 0x0f, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4)
    len = 4, cp = c & 0x07, min = 0x10000;
  else
    return 0;
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

int pc_dec_str(struct pc_dec *d, const char **s, size_t *n) {
  const uint8_t *start = d->p, *p;
  size_t len;
  int rc = pc_dec_bytes(d, &p, &len);
  if (rc)
    return rc;
  for (size_t i = 0; i < len;) {
    size_t k = utf8_seq(p + i, len - i);
    if (k == 0) {
      d->p = start;
      return fail(d, MN_EDECODE);
    }
    i += k;
  }
  *s = (const char *)p;
  *n = len;
  return 0;
}

int pc_dec_seq_len(struct pc_dec *d, size_t *n) { return get_len(d, n); }

int pc_dec_raw(struct pc_dec *d, const uint8_t **p, size_t n) {
  return take(d, n, p);
}

int pc_dec_option(struct pc_dec *d, bool *some) { return pc_dec_bool(d, some); }

int pc_dec_variant(struct pc_dec *d, uint32_t *index) {
  return pc_dec_u32(d, index);
}

int pc_dec_uuid(struct pc_dec *d, uint8_t uuid[PC_UUID_LEN]) {
  const uint8_t *p;
  if (d->err)
    return d->err;
  if (pc_dec_remaining(d) < 1 + PC_UUID_LEN)
    return fail(d, MN_ETRUNC);
  if (d->p[0] != PC_UUID_LEN)
    return fail(d, MN_EDECODE);
  p = d->p + 1;
  d->p += 1 + PC_UUID_LEN;
  for (size_t i = 0; i < PC_UUID_LEN; i++)
    uuid[i] = p[i];
  return 0;
}
