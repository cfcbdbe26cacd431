/*
 * postcard_test.c: every example of mnemos-wire.md, every malformed class,
 * and seeded random round trips of mixed messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include <mneme/err.h>
#include <mneme/postcard.h>

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

/* Encodes with fn and compares to the expected bytes. */
#define EXPECT_ENC(call, ...)                                          \
  do {                                                                 \
    uint8_t buf_[64];                                                  \
    struct pc_enc e_;                                                  \
    const uint8_t want_[] = {__VA_ARGS__};                             \
    pc_enc_init(&e_, buf_, sizeof buf_);                               \
    struct pc_enc *e = &e_;                                            \
    assert_int_equal(call, 0);                                         \
    assert_int_equal(pc_enc_len(e), sizeof want_);                     \
    assert_memory_equal(buf_, want_, sizeof want_);                    \
  } while (0)

static void examples_from_reference(void **state) {
  EXPECT_ENC(pc_enc_u16(e, 128), 0x80, 0x01);
  EXPECT_ENC(pc_enc_u16(e, 65535), 0xff, 0xff, 0x03);
  EXPECT_ENC(pc_enc_i16(e, -1), 0x01);
  EXPECT_ENC(pc_enc_i16(e, 64), 0x80, 0x01);
  EXPECT_ENC(pc_enc_str(e, "Hi", 2), 0x02, 0x48, 0x69);
  EXPECT_ENC(pc_enc_bool(e, true), 0x01);
  EXPECT_ENC(pc_enc_bool(e, false), 0x00);
  EXPECT_ENC(pc_enc_none(e), 0x00);
  EXPECT_ENC(pc_enc_some(e) || pc_enc_u8(e, 7), 0x01, 0x07);
  EXPECT_ENC(pc_enc_variant(e, 2) || pc_enc_u32(e, 300), 0x02, 0xac, 0x02);
  EXPECT_ENC(pc_enc_u8(e, 200), 0xc8);
  EXPECT_ENC(pc_enc_i8(e, -2), 0xfe);
  EXPECT_ENC(pc_enc_f32(e, 1.0f), 0x00, 0x00, 0x80, 0x3f);
  EXPECT_ENC(pc_enc_f64(e, -2.0), 0, 0, 0, 0, 0, 0, 0x00, 0xc0);
  EXPECT_ENC(pc_enc_u32(e, 0xffffffffu), 0xff, 0xff, 0xff, 0xff, 0x0f);
  EXPECT_ENC(pc_enc_u64(e, UINT64_MAX), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
             0xff, 0xff, 0xff, 0x01);
  EXPECT_ENC(pc_enc_i32(e, INT32_MIN), 0xff, 0xff, 0xff, 0xff, 0x0f);
  EXPECT_ENC(pc_enc_i64(e, -64), 0x7f);
  EXPECT_ENC(pc_enc_seq_len(e, 3) || pc_enc_raw(e, "abc", 3), 3, 'a', 'b', 'c');
}

/* The userspace request layout: uuid, nonce, request bytes. */
static void userspace_request_bytes(void **state) {
  static const uint8_t sermux[16] = {0x54, 0xc9, 0x83, 0xfa, 0x73, 0x6f,
                                     0x42, 0x23, 0xb9, 0x0d, 0xc4, 0x36,
                                     0x0a, 0x30, 0x86, 0x47};
  uint8_t buf[64], uuid[16];
  struct pc_enc e;
  struct pc_dec d;
  pc_enc_init(&e, buf, sizeof buf);
  pc_enc_uuid(&e, sermux);
  pc_enc_u32(&e, 1000);
  pc_enc_bytes(&e, "\x01\x02", 2);
  assert_int_equal(pc_enc_error(&e), 0);
  assert_int_equal(pc_enc_len(&e), 1 + 16 + 2 + 3);
  assert_int_equal(buf[0], 0x10);
  assert_memory_equal(buf + 1, sermux, 16);
  assert_memory_equal(buf + 17, "\xe8\x07\x02\x01\x02", 5);

  pc_dec_init(&d, buf, pc_enc_len(&e));
  uint32_t nonce;
  const uint8_t *req;
  size_t n;
  assert_int_equal(pc_dec_uuid(&d, uuid), 0);
  assert_memory_equal(uuid, sermux, 16);
  assert_int_equal(pc_dec_u32(&d, &nonce), 0);
  assert_int_equal(nonce, 1000);
  assert_int_equal(pc_dec_bytes(&d, &req, &n), 0);
  assert_int_equal(n, 2);
  assert_ptr_equal(req, buf + 20); /* zero copy */
  assert_int_equal(pc_dec_finish(&d), 0);
}

/* Decodes one u16/u32/u64 and returns the code (value through *v). */
static int dec16(const uint8_t *p, size_t n, uint64_t *v) {
  struct pc_dec d;
  uint16_t x = 0;
  pc_dec_init(&d, p, n);
  int rc = pc_dec_u16(&d, &x);
  *v = x;
  if (rc == 0)
    assert_int_equal(pc_dec_remaining(&d), 0);
  else
    assert_int_equal(pc_dec_remaining(&d), n); /* nothing consumed */
  return rc;
}
static int dec32(const uint8_t *p, size_t n, uint64_t *v) {
  struct pc_dec d;
  uint32_t x = 0;
  pc_dec_init(&d, p, n);
  int rc = pc_dec_u32(&d, &x);
  *v = x;
  return rc;
}
static int dec64(const uint8_t *p, size_t n, uint64_t *v) {
  struct pc_dec d;
  pc_dec_init(&d, p, n);
  *v = 0;
  return pc_dec_u64(&d, v);
}

static void varint_limits(void **state) {
  uint64_t v;
  assert_int_equal(dec16(BYTES(0x80, 0x01), &v), 0);
  assert_int_equal(v, 128);
  assert_int_equal(dec16(BYTES(0xff, 0xff, 0x03), &v), 0);
  assert_int_equal(v, 65535);
  /* padded but in range */
  assert_int_equal(dec16(BYTES(0x80, 0x00), &v), 0);
  assert_int_equal(v, 0);
  assert_int_equal(dec16(BYTES(0x80, 0x80, 0x00), &v), 0);
  assert_int_equal(v, 0);
  /* last byte carries bits beyond 16 */
  assert_int_equal(dec16(BYTES(0xff, 0xff, 0x04), &v), MN_EOVERFLOW);
  assert_int_equal(dec16(BYTES(0x80, 0x80, 0x7f), &v), MN_EOVERFLOW);
  /* longer than 3 bytes */
  assert_int_equal(dec16(BYTES(0x80, 0x80, 0x80, 0x00), &v), MN_EDECODE);
  assert_int_equal(dec16(BYTES(0xff, 0xff, 0x83, 0x00), &v), MN_EDECODE);
  /* truncated */
  assert_int_equal(dec16(BYTES(0x80), &v), MN_ETRUNC);
  assert_int_equal(dec16(NULL, 0, &v), MN_ETRUNC);

  assert_int_equal(dec32(BYTES(0xff, 0xff, 0xff, 0xff, 0x0f), &v), 0);
  assert_int_equal(v, 0xffffffffu);
  assert_int_equal(dec32(BYTES(0xff, 0xff, 0xff, 0xff, 0x10), &v), MN_EOVERFLOW);
  assert_int_equal(dec32(BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x00), &v),
                   MN_EDECODE);
  assert_int_equal(dec32(BYTES(0x80, 0x80, 0x80, 0x80, 0x00), &v), 0);
  assert_int_equal(dec32(BYTES(0xff, 0xff), &v), MN_ETRUNC);

  assert_int_equal(dec64(BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0x01), &v), 0);
  assert_true(v == UINT64_MAX);
  assert_int_equal(dec64(BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0x02), &v), MN_EOVERFLOW);
  assert_int_equal(dec64(BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                               0x80, 0x80, 0x00), &v), MN_EDECODE);
  assert_int_equal(dec64(BYTES(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                               0x80, 0x00), &v), 0);
  assert_true(v == 0);
}

static void every_u16_round_trips(void **state) {
  for (uint32_t i = 0; i <= 0xffff; i++) {
    uint8_t buf[4];
    struct pc_enc e;
    struct pc_dec d;
    uint16_t u;
    int16_t s;
    pc_enc_init(&e, buf, sizeof buf);
    assert_int_equal(pc_enc_u16(&e, (uint16_t)i), 0);
    assert_int_equal(pc_enc_len(&e), pc_varint_len(i));
    pc_dec_init(&d, buf, pc_enc_len(&e));
    assert_int_equal(pc_dec_u16(&d, &u), 0);
    assert_int_equal(u, i);
    pc_enc_init(&e, buf, sizeof buf);
    assert_int_equal(pc_enc_i16(&e, (int16_t)i), 0);
    pc_dec_init(&d, buf, pc_enc_len(&e));
    assert_int_equal(pc_dec_i16(&d, &s), 0);
    assert_int_equal(s, (int16_t)i);
    assert_int_equal(pc_dec_finish(&d), 0);
  }
}

static void zigzag_extremes(void **state) {
  uint8_t buf[64];
  struct pc_enc e;
  struct pc_dec d;
  int32_t a;
  int64_t b;
  int16_t c;
  pc_enc_init(&e, buf, sizeof buf);
  pc_enc_i32(&e, INT32_MIN);
  pc_enc_i32(&e, INT32_MAX);
  pc_enc_i64(&e, INT64_MIN);
  pc_enc_i64(&e, INT64_MAX);
  pc_enc_i16(&e, INT16_MIN);
  assert_int_equal(pc_enc_error(&e), 0);
  pc_dec_init(&d, buf, pc_enc_len(&e));
  assert_int_equal(pc_dec_i32(&d, &a), 0);
  assert_int_equal(a, INT32_MIN);
  assert_int_equal(pc_dec_i32(&d, &a), 0);
  assert_int_equal(a, INT32_MAX);
  assert_int_equal(pc_dec_i64(&d, &b), 0);
  assert_true(b == INT64_MIN);
  assert_int_equal(pc_dec_i64(&d, &b), 0);
  assert_true(b == INT64_MAX);
  assert_int_equal(pc_dec_i16(&d, &c), 0);
  assert_int_equal(c, INT16_MIN);
  assert_int_equal(pc_dec_finish(&d), 0);
}

static void bad_tags(void **state) {
  struct pc_dec d;
  bool b;
  uint32_t idx;
  pc_dec_init(&d, BYTES(0x02));
  assert_int_equal(pc_dec_bool(&d, &b), MN_EDECODE);
  pc_dec_init(&d, BYTES(0xff));
  assert_int_equal(pc_dec_bool(&d, &b), MN_EDECODE);
  pc_dec_init(&d, BYTES(0x02, 0x05));
  assert_int_equal(pc_dec_option(&d, &b), MN_EDECODE);
  pc_dec_init(&d, NULL, 0);
  assert_int_equal(pc_dec_option(&d, &b), MN_ETRUNC);
  pc_dec_init(&d, BYTES(0x01, 0x00));
  assert_int_equal(pc_dec_option(&d, &b), 0);
  assert_true(b);
  assert_int_equal(pc_dec_bool(&d, &b), 0);
  assert_false(b);
  pc_dec_init(&d, BYTES(0x80, 0x80, 0x80, 0x80, 0x10));
  assert_int_equal(pc_dec_variant(&d, &idx), MN_EOVERFLOW);
}

static void lengths_past_the_end(void **state) {
  struct pc_dec d;
  const uint8_t *p;
  const char *s;
  size_t n;
  uint8_t uuid[16];
  pc_dec_init(&d, BYTES(0x03, 'a', 'b'));
  assert_int_equal(pc_dec_bytes(&d, &p, &n), MN_ETRUNC);
  assert_int_equal(pc_dec_remaining(&d), 3);
  pc_dec_init(&d, BYTES(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                        0x01, 'x'));
  assert_int_equal(pc_dec_str(&d, &s, &n), MN_ETRUNC);
  pc_dec_init(&d, BYTES(0x05, 1, 2));
  assert_int_equal(pc_dec_seq_len(&d, &n), MN_ETRUNC);
  pc_dec_init(&d, BYTES(1, 2, 3));
  assert_int_equal(pc_dec_raw(&d, &p, 4), MN_ETRUNC);
  pc_dec_init(&d, BYTES(0x10, 1, 2, 3));
  assert_int_equal(pc_dec_uuid(&d, uuid), MN_ETRUNC);
  pc_dec_init(&d, BYTES(0x0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                        16));
  assert_int_equal(pc_dec_uuid(&d, uuid), MN_EDECODE);
  pc_dec_init(&d, BYTES(1, 2, 3));
  float f;
  assert_int_equal(pc_dec_f32(&d, &f), MN_ETRUNC);
  double g;
  pc_dec_init(&d, BYTES(1, 2, 3, 4, 5, 6, 7));
  assert_int_equal(pc_dec_f64(&d, &g), MN_ETRUNC);
  /* the length itself is truncated */
  pc_dec_init(&d, BYTES(0x80));
  assert_int_equal(pc_dec_bytes(&d, &p, &n), MN_ETRUNC);
}

static void strings_must_be_utf8(void **state) {
  struct pc_dec d;
  const char *s;
  size_t n;
  pc_dec_init(&d, BYTES(0x06, 'h', 0xc3, 0xa9, 0xe2, 0x82));
  assert_int_equal(pc_dec_str(&d, &s, &n), MN_ETRUNC);
  pc_dec_init(&d, BYTES(0x06, 'h', 0xc3, 0xa9, 0xe2, 0x82, 0xac));
  assert_int_equal(pc_dec_str(&d, &s, &n), 0);
  assert_int_equal(n, 6);
  static const uint8_t bad[][5] = {
      {0x02, 0xc0, 0x80},             /* overlong NUL */
      {0x03, 0xed, 0xa0, 0x80},       /* surrogate */
      {0x04, 0xf4, 0x90, 0x80, 0x80}, /* above U+10FFFF */
      {0x01, 0x80},                   /* lone continuation */
      {0x02, 0xe2, 0x82},             /* cut sequence */
      {0x01, 0xff},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    pc_dec_init(&d, bad[i], (size_t)bad[i][0] + 1);
    assert_int_equal(pc_dec_str(&d, &s, &n), MN_EDECODE);
    assert_int_equal(pc_dec_remaining(&d), (size_t)bad[i][0] + 1);
    /* the same bytes are fine as a byte string */
    struct pc_dec d2;
    const uint8_t *p;
    pc_dec_init(&d2, bad[i], (size_t)bad[i][0] + 1);
    assert_int_equal(pc_dec_bytes(&d2, &p, &n), 0);
  }
}

static void errors_are_sticky(void **state) {
  uint8_t buf[4];
  struct pc_enc e;
  struct pc_dec d;
  uint8_t b;
  pc_enc_init(&e, buf, sizeof buf);
  assert_int_equal(pc_enc_u32(&e, 0xffffffffu), MN_EOVERFLOW);
  assert_int_equal(pc_enc_len(&e), 0);
  assert_int_equal(pc_enc_u8(&e, 1), MN_EOVERFLOW); /* would fit: sticky */
  assert_int_equal(pc_enc_error(&e), MN_EOVERFLOW);
  pc_enc_init(&e, buf, sizeof buf);
  assert_int_equal(pc_enc_bytes(&e, "abcd", 4), MN_EOVERFLOW);
  pc_enc_init(&e, NULL, 0);
  assert_int_equal(pc_enc_u8(&e, 0), MN_EOVERFLOW);

  pc_dec_init(&d, BYTES(0x02, 0x01));
  bool v;
  assert_int_equal(pc_dec_bool(&d, &v), MN_EDECODE);
  assert_int_equal(pc_dec_u8(&d, &b), MN_EDECODE);
  assert_int_equal(pc_dec_finish(&d), MN_EDECODE);
  pc_dec_init(&d, BYTES(0x01, 0x01));
  assert_int_equal(pc_dec_u8(&d, &b), 0);
  assert_int_equal(pc_dec_finish(&d), MN_EDECODE); /* a byte left over */
}

/* ---- seeded random round trips of mixed messages ------------------------- */

enum kind { K_U8, K_I8, K_U16, K_U32, K_U64, K_I16, K_I32, K_I64, K_BOOL,
            K_F32, K_F64, K_BYTES, K_OPT, K_UUID, K_COUNT };

struct item {
  enum kind k;
  uint64_t u;
  uint8_t bytes[40];
  size_t n;
};

static uint64_t rnd64(void) {
  uint64_t v = 0;
  for (int i = 0; i < 4; i++)
    v = (v << 16) ^ (uint64_t)(rand() & 0xffff);
  /* favour small values and boundaries now and then */
  switch (rand() % 4) {
  case 0: return v >> (rand() % 64);
  case 1: return v & 0x7f;
  default: return v;
  }
}

static void encode_item(struct pc_enc *e, const struct item *it) {
  union { uint32_t u; float f; } c32 = { .u = (uint32_t)it->u };
  union { uint64_t u; double f; } c64 = { .u = it->u };
  switch (it->k) {
  case K_U8: pc_enc_u8(e, (uint8_t)it->u); break;
  case K_I8: pc_enc_i8(e, (int8_t)it->u); break;
  case K_U16: pc_enc_u16(e, (uint16_t)it->u); break;
  case K_U32: pc_enc_u32(e, (uint32_t)it->u); break;
  case K_U64: pc_enc_u64(e, it->u); break;
  case K_I16: pc_enc_i16(e, (int16_t)it->u); break;
  case K_I32: pc_enc_i32(e, (int32_t)it->u); break;
  case K_I64: pc_enc_i64(e, (int64_t)it->u); break;
  case K_BOOL: pc_enc_bool(e, it->u & 1); break;
  case K_F32: pc_enc_f32(e, c32.f); break;
  case K_F64: pc_enc_f64(e, c64.f); break;
  case K_BYTES: pc_enc_bytes(e, it->bytes, it->n); break;
  case K_OPT:
    if (it->u & 1) {
      pc_enc_some(e);
      pc_enc_u32(e, (uint32_t)(it->u >> 1));
    } else {
      pc_enc_none(e);
    }
    break;
  case K_UUID: pc_enc_uuid(e, it->bytes); break;
  default: break;
  }
}

static void check_item(struct pc_dec *d, const struct item *it) {
  uint8_t u8; int8_t i8; uint16_t u16; uint32_t u32; uint64_t u64;
  int16_t i16; int32_t i32; int64_t i64; bool b; float f; double g;
  const uint8_t *p; size_t n; uint8_t uuid[16];
  switch (it->k) {
  case K_U8: assert_int_equal(pc_dec_u8(d, &u8), 0); assert_int_equal(u8, (uint8_t)it->u); break;
  case K_I8: assert_int_equal(pc_dec_i8(d, &i8), 0); assert_int_equal(i8, (int8_t)it->u); break;
  case K_U16: assert_int_equal(pc_dec_u16(d, &u16), 0); assert_int_equal(u16, (uint16_t)it->u); break;
  case K_U32: assert_int_equal(pc_dec_u32(d, &u32), 0); assert_int_equal(u32, (uint32_t)it->u); break;
  case K_U64: assert_int_equal(pc_dec_u64(d, &u64), 0); assert_true(u64 == it->u); break;
  case K_I16: assert_int_equal(pc_dec_i16(d, &i16), 0); assert_int_equal(i16, (int16_t)it->u); break;
  case K_I32: assert_int_equal(pc_dec_i32(d, &i32), 0); assert_int_equal(i32, (int32_t)it->u); break;
  case K_I64: assert_int_equal(pc_dec_i64(d, &i64), 0); assert_true(i64 == (int64_t)it->u); break;
  case K_BOOL: assert_int_equal(pc_dec_bool(d, &b), 0); assert_int_equal(b, it->u & 1); break;
  case K_F32: {
    union { uint32_t u; float f; } c = { .u = 0 };
    assert_int_equal(pc_dec_f32(d, &f), 0);
    c.f = f;
    assert_int_equal(c.u, (uint32_t)it->u); /* bit exact, NaNs included */
    break;
  }
  case K_F64: {
    union { uint64_t u; double f; } c = { .u = 0 };
    assert_int_equal(pc_dec_f64(d, &g), 0);
    c.f = g;
    assert_true(c.u == it->u);
    break;
  }
  case K_BYTES:
    assert_int_equal(pc_dec_bytes(d, &p, &n), 0);
    assert_int_equal(n, it->n);
    if (n)
      assert_memory_equal(p, it->bytes, n);
    break;
  case K_OPT:
    assert_int_equal(pc_dec_option(d, &b), 0);
    assert_int_equal(b, it->u & 1);
    if (b) {
      assert_int_equal(pc_dec_u32(d, &u32), 0);
      assert_int_equal(u32, (uint32_t)(it->u >> 1));
    }
    break;
  case K_UUID:
    assert_int_equal(pc_dec_uuid(d, uuid), 0);
    assert_memory_equal(uuid, it->bytes, 16);
    break;
  default: break;
  }
}

/* Decodes one item of kind k, values ignored; returns the code. */
static int decode_any(struct pc_dec *d, enum kind k) {
  uint64_t u; uint32_t u32; const uint8_t *p; size_t n; bool b; uint8_t uuid[16];
  switch (k) {
  case K_U8: case K_I8: return pc_dec_raw(d, &p, 1);
  case K_U16: { uint16_t v; return pc_dec_u16(d, &v); }
  case K_U32: return pc_dec_u32(d, &u32);
  case K_U64: return pc_dec_u64(d, &u);
  case K_I16: { int16_t v; return pc_dec_i16(d, &v); }
  case K_I32: { int32_t v; return pc_dec_i32(d, &v); }
  case K_I64: { int64_t v; return pc_dec_i64(d, &v); }
  case K_BOOL: return pc_dec_bool(d, &b);
  case K_F32: return pc_dec_raw(d, &p, 4);
  case K_F64: return pc_dec_raw(d, &p, 8);
  case K_BYTES: return pc_dec_bytes(d, &p, &n);
  case K_OPT: {
    int rc = pc_dec_option(d, &b);
    return rc || !b ? rc : pc_dec_u32(d, &u32);
  }
  case K_UUID: return pc_dec_uuid(d, uuid);
  default: return MN_EINVAL;
  }
}

static void random_round_trips(void **state) {
  srand(20261121);
  for (int round = 0; round < 2000; round++) {
    struct item items[24];
    uint8_t buf[24 * 48];
    size_t count = (size_t)(rand() % 24) + 1;
    struct pc_enc e;
    struct pc_dec d;
    for (size_t i = 0; i < count; i++) {
      items[i].k = (enum kind)(rand() % K_COUNT);
      items[i].u = rnd64();
      items[i].n = items[i].k == K_UUID ? 16 : (size_t)(rand() % 41);
      for (size_t j = 0; j < sizeof items[i].bytes; j++)
        items[i].bytes[j] = (uint8_t)rand();
    }
    pc_enc_init(&e, buf, sizeof buf);
    for (size_t i = 0; i < count; i++)
      encode_item(&e, &items[i]);
    assert_int_equal(pc_enc_error(&e), 0);
    pc_dec_init(&d, buf, pc_enc_len(&e));
    for (size_t i = 0; i < count; i++)
      check_item(&d, &items[i]);
    assert_int_equal(pc_dec_finish(&d), 0);
    /* a strict prefix decodes up to the cut, then fails with MN_ETRUNC */
    size_t cut = (size_t)rand() % pc_enc_len(&e);
    uint8_t *copy = malloc(cut ? cut : 1);
    memcpy(copy, buf, cut);
    pc_dec_init(&d, copy, cut);
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++)
      rc = decode_any(&d, items[i].k);
    assert_int_equal(rc, MN_ETRUNC);
    free(copy);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(examples_from_reference),
      cmocka_unit_test(userspace_request_bytes),
      cmocka_unit_test(varint_limits),
      cmocka_unit_test(every_u16_round_trips),
      cmocka_unit_test(zigzag_extremes),
      cmocka_unit_test(bad_tags),
      cmocka_unit_test(lengths_past_the_end),
      cmocka_unit_test(strings_must_be_utf8),
      cmocka_unit_test(errors_are_sticky),
      cmocka_unit_test(random_round_trips),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
