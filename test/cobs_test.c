/*
 * cobs_test.c: the reference example, empty and zero-only frames, 254-byte
 * runs (with and without the trailing 01), invalid codes, small buffers,
 * the streaming decoder, and seeded random round trips.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mneme/cobs.h>
#include <mneme/err.h>

#define ARR(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void expect_round(const uint8_t *raw, size_t n, const uint8_t *enc,
                         size_t m) {
  uint8_t out[1024];
  size_t len;
  assert_int_equal(cobs_encode(raw, n, out, sizeof out, &len), 0);
  assert_int_equal(len, m);
  assert_memory_equal(out, enc, m);
  assert_true(len <= cobs_max_encoded_len(n));
  assert_int_equal(cobs_decode(enc, m, out, sizeof out, &len), 0);
  assert_int_equal(len, n);
  if (n)
    assert_memory_equal(out, raw, n);
}

static void reference_examples(void **state) {
  const uint8_t raw[] = {0x0a, 0x0b, 0x00, 0x0c};
  const uint8_t enc[] = {0x03, 0x0a, 0x0b, 0x02, 0x0c};
  expect_round(raw, sizeof raw, enc, sizeof enc);
  expect_round(NULL, 0, ARR(0x01));
  expect_round(ARR(0x00), ARR(0x01, 0x01));
  expect_round(ARR(0x00, 0x00), ARR(0x01, 0x01, 0x01));
  expect_round(ARR(0x11, 0x22, 0x00, 0x33), ARR(0x03, 0x11, 0x22, 0x02, 0x33));
  expect_round(ARR(0x11, 0x00, 0x00, 0x00), ARR(0x02, 0x11, 0x01, 0x01, 0x01));
}

static void runs_of_254(void **state) {
  uint8_t raw[600], enc[700], out[700];
  size_t len;
  for (size_t i = 0; i < sizeof raw; i++)
    raw[i] = (uint8_t)(i % 255 + 1);
  /* exactly 254: FF then the bytes, nothing after */
  assert_int_equal(cobs_encode(raw, 254, enc, sizeof enc, &len), 0);
  assert_int_equal(len, 255);
  assert_int_equal(enc[0], 0xff);
  assert_memory_equal(enc + 1, raw, 254);
  assert_int_equal(cobs_decode(enc, 255, out, sizeof out, &len), 0);
  assert_int_equal(len, 254);
  /* the form with a trailing 01 block decodes to the same bytes */
  enc[255] = 0x01;
  assert_int_equal(cobs_decode(enc, 256, out, sizeof out, &len), 0);
  assert_int_equal(len, 254);
  assert_memory_equal(out, raw, 254);
  /* 255 bytes: FF block then 02 block */
  assert_int_equal(cobs_encode(raw, 255, enc, sizeof enc, &len), 0);
  assert_int_equal(len, 257);
  assert_int_equal(enc[255], 0x02);
  assert_int_equal(enc[256], raw[254]);
  /* 254 bytes then a zero: FF ... 01 01 */
  uint8_t z[255];
  memcpy(z, raw, 254);
  z[254] = 0;
  assert_int_equal(cobs_encode(z, 255, enc, sizeof enc, &len), 0);
  assert_int_equal(len, 257);
  assert_int_equal(enc[255], 0x01);
  assert_int_equal(enc[256], 0x01);
  assert_int_equal(cobs_decode(enc, len, out, sizeof out, &len), 0);
  assert_int_equal(len, 255);
  assert_memory_equal(out, z, 255);
  /* 508 = two full runs */
  assert_int_equal(cobs_encode(raw, 508, enc, sizeof enc, &len), 0);
  assert_int_equal(len, 510);
  assert_int_equal(enc[255], 0xff);
  assert_int_equal(len, cobs_max_encoded_len(508) - 1);
}

static void invalid_frames(void **state) {
  uint8_t out[64];
  size_t len;
  assert_int_equal(cobs_decode(NULL, 0, out, sizeof out, &len), MN_EDECODE);
  assert_int_equal(cobs_decode(ARR(0x00), out, sizeof out, &len), MN_EDECODE);
  assert_int_equal(cobs_decode(ARR(0x02, 0x11, 0x00, 0x01), out, sizeof out,
                               &len), MN_EDECODE); /* code 00 mid-frame */
  assert_int_equal(cobs_decode(ARR(0x05, 0x11, 0x22), out, sizeof out, &len),
                   MN_EDECODE); /* runs past the end */
  assert_int_equal(cobs_decode(ARR(0x02, 0x11, 0x03, 0x22), out, sizeof out,
                               &len), MN_EDECODE);
  assert_int_equal(cobs_decode(ARR(0x03, 0x11, 0x00), out, sizeof out, &len),
                   MN_EDECODE); /* data byte zero */
  assert_int_equal(cobs_decode(ARR(0xff, 0x11), out, sizeof out, &len),
                   MN_EDECODE);
}

static void small_buffers(void **state) {
  uint8_t out[8], big[16];
  size_t len;
  const uint8_t raw[] = {1, 2, 3, 0, 4, 5};
  assert_int_equal(cobs_encode(raw, sizeof raw, out, 6, &len), MN_ENOSPC);
  assert_int_equal(cobs_encode(raw, sizeof raw, out, 7, &len), 0);
  assert_int_equal(cobs_encode(raw, 0, out, 0, &len), MN_ENOSPC);
  assert_int_equal(cobs_encode(raw, sizeof raw, big, sizeof big, &len), 0);
  assert_int_equal(cobs_decode(big, len, out, 5, &len), MN_ENOSPC);
  assert_int_equal(cobs_decode(ARR(0x01, 0x01), out, 0, &len), MN_ENOSPC);
}

static void decode_in_place(void **state) {
  uint8_t buf[16] = {0x03, 0x0a, 0x0b, 0x02, 0x0c};
  size_t len;
  assert_int_equal(cobs_decode(buf, 5, buf, sizeof buf, &len), 0);
  assert_int_equal(len, 4);
  assert_memory_equal(buf, "\x0a\x0b\x00\x0c", 4);
}

static void incremental_encoder_pieces(void **state) {
  uint8_t out[32];
  size_t len;
  struct cobs_enc e;
  cobs_enc_init(&e, out, sizeof out);
  cobs_enc_push(&e, "\x0a\x0b", 2);
  cobs_enc_push(&e, "", 1); /* the string's NUL: one zero byte */
  cobs_enc_push(&e, "\x0c", 1);
  assert_int_equal(cobs_enc_finish(&e, &len), 0);
  assert_int_equal(len, 5);
  assert_memory_equal(out, "\x03\x0a\x0b\x02\x0c", 5);
}

static void stream_frames(void **state) {
  uint8_t buf[16];
  struct cobs_stream s;
  const uint8_t wire[] = {0x00, 0x00, 0x03, 0x0a, 0x0b, 0x02, 0x0c, 0x00,
                          0x05, 0x11, 0x00,             /* runs past end */
                          0x01, 0x00,                   /* empty frame */
                          0x02, 0x41, 0x00};
  int events[8], n = 0;
  size_t lens[8];
  cobs_stream_init(&s, buf, sizeof buf);
  for (size_t i = 0; i < sizeof wire; i++) {
    int rc = cobs_stream_push(&s, wire[i]);
    if (rc) {
      events[n] = rc;
      cobs_stream_frame(&s, &lens[n]);
      n++;
    }
  }
  assert_int_equal(n, 4);
  assert_int_equal(events[0], 1);
  assert_int_equal(lens[0], 4);
  assert_int_equal(events[1], MN_EDECODE);
  assert_int_equal(events[2], 1);
  assert_int_equal(lens[2], 0);
  assert_int_equal(events[3], 1);
  assert_int_equal(lens[3], 1);
  assert_int_equal(cobs_stream_frame(&s, &lens[0])[0], 0x41);
}

static void stream_oversize_recovers(void **state) {
  uint8_t buf[4], wire[64];
  size_t len, used;
  struct cobs_stream s;
  cobs_stream_init(&s, buf, sizeof buf);
  assert_int_equal(cobs_encode("abcde", 5, wire, sizeof wire, &len), 0);
  wire[len++] = 0;
  assert_int_equal(cobs_stream_feed(&s, wire, len, &used), MN_EOVERFLOW);
  assert_int_equal(used, len);
  assert_int_equal(cobs_encode("abcd", 4, wire, sizeof wire, &len), 0);
  wire[len++] = 0;
  assert_int_equal(cobs_stream_feed(&s, wire, len, &used), 1);
  const uint8_t *f = cobs_stream_frame(&s, &len);
  assert_int_equal(len, 4);
  assert_memory_equal(f, "abcd", 4);
  /* the implied zero counts towards the size too */
  cobs_stream_init(&s, buf, sizeof buf);
  assert_int_equal(cobs_encode("abc\0", 4, wire, sizeof wire, &len), 0);
  wire[len++] = 0;
  assert_int_equal(cobs_stream_feed(&s, wire, len, &used), 1);
  cobs_stream_frame(&s, &len);
  assert_int_equal(len, 4);
}

static void random_round_trips(void **state) {
  static uint8_t raw[1200], enc[1300], dec[1300], sbuf[1200];
  srand(4242);
  struct cobs_stream s;
  cobs_stream_init(&s, sbuf, sizeof sbuf);
  for (int round = 0; round < 3000; round++) {
    size_t n = (size_t)rand() % (round % 10 == 0 ? 1200 : 300);
    int zero_every = rand() % 4 == 0 ? 0 : rand() % 300 + 1;
    size_t len, dlen;
    for (size_t i = 0; i < n; i++)
      raw[i] = zero_every && rand() % zero_every == 0 ? 0
                                                      : (uint8_t)(rand() % 255 + 1);
    assert_int_equal(cobs_encode(raw, n, enc, sizeof enc, &len), 0);
    assert_true(len <= cobs_max_encoded_len(n));
    assert_null(memchr(enc, 0, len));
    assert_int_equal(cobs_decode(enc, len, dec, sizeof dec, &dlen), 0);
    assert_int_equal(dlen, n);
    assert_memory_equal(dec, raw, n);
    /* the stream decoder, fed in random pieces, agrees */
    enc[len++] = 0;
    size_t off = 0;
    int rc = 0;
    while (off < len) {
      size_t piece = (size_t)rand() % 40 + 1, used;
      if (piece > len - off)
        piece = len - off;
      rc = cobs_stream_feed(&s, enc + off, piece, &used);
      off += used;
      if (rc)
        break;
    }
    assert_int_equal(rc, 1);
    assert_int_equal(off, len);
    const uint8_t *f = cobs_stream_frame(&s, &dlen);
    assert_int_equal(dlen, n);
    assert_memory_equal(f, raw, n);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reference_examples),
      cmocka_unit_test(runs_of_254),
      cmocka_unit_test(invalid_frames),
      cmocka_unit_test(small_buffers),
      cmocka_unit_test(decode_in_place),
      cmocka_unit_test(incremental_encoder_pieces),
      cmocka_unit_test(stream_frames),
      cmocka_unit_test(stream_oversize_recovers),
      cmocka_unit_test(random_round_trips),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
