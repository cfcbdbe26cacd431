/*
 * sermux_frame_test.c: the wire vector of mnemos-wire.md, interleaved text
 * and frames, every malformed class (bad COBS, short, oversized), and
 * seeded random streams fed in random pieces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mneme/err.h>
#include <mneme/sermux_frame.h>

/* Everything a demux produced from a byte stream, flattened. */
struct event {
  int kind;
  uint16_t port;
  uint8_t data[600];
  size_t len;
};

static struct event events[256];
static size_t nevents;
static uint8_t dbuf[1024];

static void run(struct smx_demux *d, const uint8_t *wire, size_t n,
                size_t max_piece) {
  size_t off = 0;
  nevents = 0;
  while (off < n) {
    struct smx_item it;
    size_t used, piece = max_piece ? (size_t)rand() % max_piece + 1 : n;
    if (piece > n - off)
      piece = n - off;
    int kind = smx_demux_feed(d, wire + off, piece, &used, &it);
    off += used;
    if (kind == SMX_NONE)
      continue;
    assert_true(nevents < 256);
    struct event *e = &events[nevents++];
    e->kind = kind;
    e->port = it.port;
    e->len = it.len;
    assert_true(it.len <= sizeof e->data);
    memcpy(e->data, it.data, it.len);
  }
}

static size_t put_frame(uint8_t *w, uint16_t port, const void *p, size_t n) {
  size_t len;
  assert_int_equal(smx_encode(port, p, n, w, smx_encoded_max(n), &len), 0);
  return len;
}

static size_t put_text(uint8_t *w, const char *s) {
  memcpy(w, s, strlen(s));
  return strlen(s);
}

static void expect(size_t i, int kind, uint16_t port, const void *data,
                   size_t len) {
  assert_true(i < nevents);
  assert_int_equal(events[i].kind, kind);
  if (kind == SMX_FRAME)
    assert_int_equal(events[i].port, port);
  assert_int_equal(events[i].len, len);
  assert_memory_equal(events[i].data, data, len);
}

static void reference_vector(void **state) {
  uint8_t w[16];
  size_t len;
  const uint8_t want[] = {0x07, 0x69, 0x42, 0x01, 0x02, 0x03, 0x04, 0x00};
  assert_int_equal(smx_encode(0x4269, "\x01\x02\x03\x04", 4, w, sizeof w, &len),
                   0);
  assert_int_equal(len, sizeof want);
  assert_memory_equal(w, want, sizeof want);
  struct smx_demux d;
  assert_int_equal(smx_demux_init(&d, dbuf, sizeof dbuf, 512), 0);
  run(&d, want, sizeof want, 0);
  assert_int_equal(nevents, 1);
  expect(0, SMX_FRAME, 0x4269, "\x01\x02\x03\x04", 4);
  assert_int_equal(d.count.frames, 1);
}

static void decode_one_frame(void **state) {
  uint8_t buf[16], frame[8] = {0x07, 0x69, 0x42, 0x01, 0x02, 0x03, 0x04};
  uint16_t port;
  const uint8_t *p;
  size_t len;
  assert_int_equal(smx_decode(frame, 7, buf, sizeof buf, &port, &p, &len), 0);
  assert_int_equal(port, 0x4269);
  assert_int_equal(len, 4);
  assert_memory_equal(p, "\x01\x02\x03\x04", 4);
  assert_int_equal(smx_decode(frame, 7, frame, 7, &port, &p, &len), 0);
  assert_ptr_equal(p, frame + 2); /* in place */
  assert_int_equal(smx_decode("\x03\x01\x02", 3, buf, sizeof buf, &port, &p,
                              &len), MN_ETRUNC);
  assert_int_equal(smx_decode("\x05\x01\x02", 3, buf, sizeof buf, &port, &p,
                              &len), MN_EDECODE);
  assert_int_equal(smx_decode("\x01", 1, buf, sizeof buf, &port, &p, &len),
                   MN_ETRUNC);
  assert_int_equal(smx_decode("", 0, buf, sizeof buf, &port, &p, &len),
                   MN_EDECODE);
}

static void encode_errors(void **state) {
  uint8_t w[16];
  size_t len;
  assert_int_equal(smx_encode(1, "", 0, w, sizeof w, &len), MN_EINVAL);
  assert_int_equal(smx_encode(1, "abcd", 4, w, 7, &len), MN_ENOSPC);
  assert_int_equal(smx_encode(1, "abcd", 4, w, 8, &len), 0);
  assert_int_equal(len, 8);
  /* port 0 and port 1: code bytes 01 and 02 */
  assert_int_equal(smx_encode(0, "x", 1, w, sizeof w, &len), 0);
  assert_memory_equal(w, "\x01\x01\x02x\x00", 5);
  struct smx_demux d;
  assert_int_equal(smx_demux_init(&d, dbuf, 10, 16), MN_EINVAL);
  assert_int_equal(smx_demux_init(&d, dbuf, sizeof dbuf, 2), MN_EINVAL);
}

static void interleaved_text_and_frames(void **state) {
  uint8_t w[512];
  size_t n = 0;
  n += put_text(w + n, "boot: mneme\r\n");
  n += put_frame(w + n, 1, "hello\r\n", 7);
  n += put_text(w + n, "panic: oops in task 'x'\n");
  n += put_frame(w + n, 2, "ab", 2);
  n += put_text(w + n, "no newline then a frame: ");
  n += put_frame(w + n, 0, "\x00\x00", 2);
  n += put_frame(w + n, 13, ": x 1 ;\n", 8);
  n += put_text(w + n, "\x1b[31mred\x1b[0m tail");
  w[n++] = 0;
  for (int pass = 0; pass < 20; pass++) {
    struct smx_demux d;
    smx_demux_init(&d, dbuf, sizeof dbuf, 512);
    run(&d, w, n, pass == 0 ? 0 : (size_t)pass);
    assert_int_equal(nevents, 8);
    expect(0, SMX_TEXT, 0, "boot: mneme\r\n", 13);
    expect(1, SMX_FRAME, 1, "hello\r\n", 7);
    expect(2, SMX_TEXT, 0, "panic: oops in task 'x'\n", 24);
    expect(3, SMX_FRAME, 2, "ab", 2);
    expect(4, SMX_TEXT, 0, "no newline then a frame: ", 25);
    expect(5, SMX_FRAME, 0, "\x00\x00", 2);
    expect(6, SMX_FRAME, 13, ": x 1 ;\n", 8);
    expect(7, SMX_TEXT, 0, "\x1b[31mred\x1b[0m tail", 17);
    assert_int_equal(d.count.frames, 4);
    assert_int_equal(d.count.malformed, 0);
  }
}

static void malformed_classes(void **state) {
  struct smx_demux d;
  uint8_t w[128];
  size_t n = 0;
  smx_demux_init(&d, dbuf, sizeof dbuf, 512);
  d.text_lines = false;
  const uint8_t bad[] = {0x05, 0x01, 0x02, 0x00,  /* runs past the end */
                         0x03, 0x01, 0x02, 0x00,  /* port only: short */
                         0x01, 0x00,              /* empty: short */
                         0x02, 0x07, 0x00,        /* one byte: short */
                         0x00, 0x00};             /* idle delimiters */
  memcpy(w, bad, sizeof bad);
  n = sizeof bad;
  n += put_frame(w + n, 3, "ok", 2);
  run(&d, w, n, 0);
  assert_int_equal(nevents, 2);
  expect(0, SMX_TEXT, 0, "\x05\x01\x02", 3);
  expect(1, SMX_FRAME, 3, "ok", 2);
  assert_int_equal(d.count.malformed, 1);
  assert_int_equal(d.count.short_frames, 3);
  assert_int_equal(d.count.frames, 1);
  assert_int_equal(d.count.oversized, 0);
}

static void oversized_frames(void **state) {
  struct smx_demux d;
  uint8_t w[256], payload[64] = {0};
  size_t n = 0;
  static uint8_t small[32];
  memset(payload + 32, 'z', 32);
  assert_int_equal(smx_demux_init(&d, small, sizeof small, 16), 0);
  d.text_lines = false;
  n += put_frame(w + n, 7, payload + 32, 20);  /* too long on the wire */
  n += put_frame(w + n, 7, payload, 20);       /* zeros: short wire, too long */
  n += put_frame(w + n, 7, payload + 32, 14);  /* exactly 16 bytes */
  run(&d, w, n, 3);
  assert_int_equal(nevents, 1);
  expect(0, SMX_FRAME, 7, payload + 32, 14);
  assert_int_equal(d.count.oversized, 2);
  assert_int_equal(d.count.frames, 1);
}

static void text_lines_and_flush(void **state) {
  struct smx_demux d;
  struct smx_item it;
  static uint8_t small[32];
  smx_demux_init(&d, small, sizeof small, 16); /* runs up to 19 bytes */
  const char *s = "a very long line of boot text without a break";
  size_t i, used;
  size_t total = 0;
  for (i = 0; i < strlen(s); i++)
    if (smx_demux_push(&d, (uint8_t)s[i], &it) == SMX_TEXT)
      total += it.len;
  assert_int_equal(smx_demux_flush_text(&d, &it), SMX_TEXT);
  total += it.len;
  assert_int_equal(total, strlen(s)); /* nothing lost */
  assert_int_equal(smx_demux_flush_text(&d, &it), SMX_NONE);
  assert_int_equal(d.count.text_bytes, strlen(s));
  /* a prompt without newline comes out on flush */
  assert_int_equal(smx_demux_feed(&d, "ok> ", 4, &used, &it), SMX_NONE);
  assert_int_equal(smx_demux_flush_text(&d, &it), SMX_TEXT);
  assert_int_equal(it.len, 4);
  assert_memory_equal(it.data, "ok> ", 4);
}

static void random_streams(void **state) {
  static uint8_t w[40000];
  struct want { int kind; uint16_t port; uint8_t data[300]; size_t len; };
  static struct want wants[256];
  srand(77);
  for (int round = 0; round < 200; round++) {
    bool lines = round % 2 == 0;
    size_t n = 0, nw = 0;
    size_t count = (size_t)rand() % 60 + 1;
    for (size_t k = 0; k < count && nw < 250; k++) {
      struct want *x = &wants[nw++];
      if (lines && rand() % 3 == 0) {
        x->kind = SMX_TEXT;
        x->len = (size_t)rand() % 60 + 1;
        for (size_t j = 0; j + 1 < x->len; j++)
          x->data[j] = (uint8_t)(' ' + rand() % 95);
        x->data[x->len - 1] = '\n';
        memcpy(w + n, x->data, x->len);
        n += x->len;
      } else {
        x->kind = SMX_FRAME;
        x->port = lines ? (uint16_t)(rand() % 256) : (uint16_t)rand();
        x->len = (size_t)rand() % 255 + 1;
        for (size_t j = 0; j < x->len; j++)
          x->data[j] = rand() % 4 == 0 ? 0 : (uint8_t)rand();
        n += put_frame(w + n, x->port, x->data, x->len);
      }
    }
    struct smx_demux d;
    smx_demux_init(&d, dbuf, sizeof dbuf, 512);
    d.text_lines = lines;
    run(&d, w, n, (size_t)(rand() % 64));
    assert_int_equal(nevents, nw);
    for (size_t k = 0; k < nw; k++)
      expect(k, wants[k].kind, wants[k].port, wants[k].data, wants[k].len);
    assert_int_equal(d.count.malformed + d.count.short_frames +
                     d.count.oversized, 0);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reference_vector),
      cmocka_unit_test(decode_one_frame),
      cmocka_unit_test(encode_errors),
      cmocka_unit_test(interleaved_text_and_frames),
      cmocka_unit_test(malformed_classes),
      cmocka_unit_test(oversized_frames),
      cmocka_unit_test(text_lines_and_flush),
      cmocka_unit_test(random_streams),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
