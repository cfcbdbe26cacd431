/*
 * postcard.h: the postcard serialization format (mnemOS's wire format).
 *
 * Encoder: `struct pc_enc` writes into a caller buffer. The first error
 * (MN_EOVERFLOW when the buffer is full, MN_EINVAL for a bad argument) is
 * sticky: later calls do nothing and return it, so a caller may encode a
 * whole message and check pc_enc_error() once at the end.
 *
 * Decoder: `struct pc_dec` is a bounds-checked cursor over caller bytes.
 * Every call either consumes a complete value and returns 0, or consumes
 * nothing and returns a negative code; the first error is sticky as well.
 * Codes: MN_ETRUNC (input ends inside a value), MN_EDECODE (malformed:
 * over-long varint, bad bool/Option tag, invalid UTF-8, bad UUID prefix),
 * MN_EOVERFLOW (a varint's value does not fit the type). Byte strings and
 * strings are returned as views into the input (zero copy).
 *
 * Wire rules: docs/wire.md and ../shared/reference/mnemos-wire.md.
 * Freestanding: no allocation, no libc beyond <stdint.h>/<stddef.h>.
 */
#ifndef MNEME_POSTCARD_H
#define MNEME_POSTCARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest varint encodings, in bytes. */
#define PC_VARINT_MAX_U16 3
#define PC_VARINT_MAX_U32 5
#define PC_VARINT_MAX_U64 10
#define PC_UUID_LEN 16

/* ---- encoder -------------------------------------------------------------- */

struct pc_enc {
  uint8_t *buf;
  size_t cap;
  size_t len; /* bytes written so far */
  int err;    /* first error, sticky; 0 while fine */
};

void pc_enc_init(struct pc_enc *e, void *buf, size_t cap);
static inline size_t pc_enc_len(const struct pc_enc *e) { return e->len; }
static inline int pc_enc_error(const struct pc_enc *e) { return e->err; }

/* Each returns 0 or the sticky error (MN_EOVERFLOW: buffer full). */
int pc_enc_u8(struct pc_enc *e, uint8_t v);
int pc_enc_i8(struct pc_enc *e, int8_t v);
int pc_enc_u16(struct pc_enc *e, uint16_t v);
int pc_enc_u32(struct pc_enc *e, uint32_t v);
int pc_enc_u64(struct pc_enc *e, uint64_t v);
int pc_enc_i16(struct pc_enc *e, int16_t v);
int pc_enc_i32(struct pc_enc *e, int32_t v);
int pc_enc_i64(struct pc_enc *e, int64_t v);
int pc_enc_bool(struct pc_enc *e, bool v);
int pc_enc_f32(struct pc_enc *e, float v);
int pc_enc_f64(struct pc_enc *e, double v);
/* Length (varint) then the bytes. pc_enc_str takes n bytes of UTF-8. */
int pc_enc_bytes(struct pc_enc *e, const void *p, size_t n);
int pc_enc_str(struct pc_enc *e, const char *s, size_t n);
/* A sequence/map length; the caller encodes the n items after it. */
int pc_enc_seq_len(struct pc_enc *e, size_t n);
/* Fixed-size array or pre-encoded bytes: no length prefix. */
int pc_enc_raw(struct pc_enc *e, const void *p, size_t n);
/* Option tags: None is 00; Some is 01, the caller encodes the value. */
int pc_enc_none(struct pc_enc *e);
int pc_enc_some(struct pc_enc *e);
/* Enum: the 0-based variant index; the caller encodes its fields. */
int pc_enc_variant(struct pc_enc *e, uint32_t index);
/* UUID: a 16-byte byte string (10 then the 16 bytes). */
int pc_enc_uuid(struct pc_enc *e, const uint8_t uuid[PC_UUID_LEN]);

/* Encoded size of a varint, for sizing buffers (1..10). */
size_t pc_varint_len(uint64_t v);

/* ---- decoder -------------------------------------------------------------- */

struct pc_dec {
  const uint8_t *p;   /* next byte */
  const uint8_t *end; /* one past the last byte */
  int err;            /* first error, sticky */
};

void pc_dec_init(struct pc_dec *d, const void *buf, size_t len);
static inline size_t pc_dec_remaining(const struct pc_dec *d) {
  return (size_t)(d->end - d->p);
}
static inline int pc_dec_error(const struct pc_dec *d) { return d->err; }
/* 0 if all input was consumed, the sticky error, or MN_EDECODE if bytes
 * are left over. */
int pc_dec_finish(struct pc_dec *d);

/* Each returns 0, MN_ETRUNC, MN_EDECODE or MN_EOVERFLOW (see above). */
int pc_dec_u8(struct pc_dec *d, uint8_t *v);
int pc_dec_i8(struct pc_dec *d, int8_t *v);
int pc_dec_u16(struct pc_dec *d, uint16_t *v);
int pc_dec_u32(struct pc_dec *d, uint32_t *v);
int pc_dec_u64(struct pc_dec *d, uint64_t *v);
int pc_dec_i16(struct pc_dec *d, int16_t *v);
int pc_dec_i32(struct pc_dec *d, int32_t *v);
int pc_dec_i64(struct pc_dec *d, int64_t *v);
int pc_dec_bool(struct pc_dec *d, bool *v);
int pc_dec_f32(struct pc_dec *d, float *v);
int pc_dec_f64(struct pc_dec *d, double *v);
/* A view of a length-prefixed byte string inside the input. */
int pc_dec_bytes(struct pc_dec *d, const uint8_t **p, size_t *n);
/* Same, and the bytes must be valid UTF-8 (MN_EDECODE otherwise). */
int pc_dec_str(struct pc_dec *d, const char **s, size_t *n);
/* A sequence/map length. Every item takes at least one byte, so a length
 * above the bytes remaining is MN_ETRUNC (no item type here is empty). */
int pc_dec_seq_len(struct pc_dec *d, size_t *n);
/* n bytes with no prefix (fixed-size array), as a view. */
int pc_dec_raw(struct pc_dec *d, const uint8_t **p, size_t n);
/* Option tag: *some is false for 00, true for 01; other bytes MN_EDECODE. */
int pc_dec_option(struct pc_dec *d, bool *some);
int pc_dec_variant(struct pc_dec *d, uint32_t *index);
/* A UUID: prefix must be exactly 10 (MN_EDECODE otherwise). */
int pc_dec_uuid(struct pc_dec *d, uint8_t uuid[PC_UUID_LEN]);

#endif
