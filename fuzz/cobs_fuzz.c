/*
 * cobs_fuzz.c: libFuzzer target for the COBS decoders. The one-shot
 * decoder must agree with cobs_check and, on success, re-encoding and
 * decoding must give the same bytes. The streaming decoder, fed the whole
 * input, must yield exactly what the one-shot decoder makes of each
 * 0x00-separated segment.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mneme/cobs.h>
#include <mneme/err.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_frame(const uint8_t *src, size_t n, uint8_t *out, size_t cap) {
  size_t len = 0, clen = 0;
  int rc = cobs_decode(src, n, out, cap, &len);
  int crc = cobs_check(src, n, &clen);
  if (rc != crc || (rc == 0 && len != clen))
    abort();
  if (rc)
    return;
  size_t elen, dlen;
  uint8_t *enc = malloc(cobs_max_encoded_len(len));
  uint8_t *dec = malloc(len + 1);
  if (cobs_encode(out, len, enc, cobs_max_encoded_len(len), &elen) ||
      cobs_decode(enc, elen, dec, len + 1, &dlen) || dlen != len ||
      memcmp(dec, out, len) != 0 || memchr(enc, 0, elen))
    abort();
  free(enc);
  free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *out = malloc(size + 1), *sbuf = malloc(size + 1);
  struct cobs_stream s;
  one_frame(data, size, out, size);
  cobs_stream_init(&s, sbuf, size + 1);
  size_t start = 0;
  for (size_t i = 0; i < size; i++) {
    int rc = cobs_stream_push(&s, data[i]);
    if (data[i] != 0) {
      if (rc != 0)
        abort();
      continue;
    }
    size_t seg = i - start, len, flen;
    int want = seg == 0 ? 0 : cobs_decode(data + start, seg, out, size, &len);
    if (seg == 0) {
      if (rc != 0)
        abort();
    } else if (want == 0) {
      const uint8_t *f = cobs_stream_frame(&s, &flen);
      if (rc != 1 || flen != len || memcmp(f, out, len) != 0)
        abort();
    } else if (rc != MN_EDECODE) {
      abort();
    }
    start = i + 1;
  }
  free(out);
  free(sbuf);
  return 0;
}
