/*
 * sermux_fuzz.c: libFuzzer target for the sermux demultiplexer. The first
 * byte picks max_frame and text_lines; the rest is wire bytes. Every item
 * must lie inside the demux buffer and within the size limits, text must
 * be the input bytes unchanged, and a frame (port 2, which text_lines never takes for text) encoded from the input as
 * payload must come back intact after the hostile bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mneme/err.h>
#include <mneme/sermux_frame.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  size_t max_frame = 3 + data[0] % 64 * 8;
  size_t cap = smx_demux_buf_size(max_frame);
  uint8_t *buf = malloc(cap);
  struct smx_demux d;
  struct smx_item it;
  if (smx_demux_init(&d, buf, cap, max_frame))
    abort();
  d.text_lines = data[0] & 0x80;
  data++, size--;
  for (size_t i = 0; i < size; i++) {
    int k = smx_demux_push(&d, data[i], &it);
    if (k == SMX_NONE)
      continue;
    if (it.data < buf || it.data + it.len > buf + cap)
      abort();
    if (k == SMX_FRAME && (it.len == 0 || it.len > max_frame - 2))
      abort();
    if (k == SMX_TEXT && (it.len == 0 || memchr(it.data, 0, it.len)))
      abort();
  }
  /* after any garbage: a 00, then a good frame, decodes intact */
  size_t n = size < max_frame - 2 ? size : max_frame - 2;
  uint8_t payload[600];
  memcpy(payload, data, n);
  if (n == 0)
    payload[n++] = 'x';
  size_t wlen, wcap = smx_encoded_max(n), got = 0;
  uint8_t *wire = malloc(wcap + 1);
  wire[0] = 0;
  if (smx_encode(0x0002, payload, n, wire + 1, wcap, &wlen))
    abort();
  smx_demux_push(&d, 0, &it); /* ends whatever was pending */
  for (size_t i = 1; i < wlen + 1; i++)
    if (smx_demux_push(&d, wire[i], &it) == SMX_FRAME) {
      if (it.port != 0x0002 || it.len != n || memcmp(it.data, payload, n))
        abort();
      got++;
    }
  if (got != 1)
    abort();
  free(wire);
  free(buf);
  return 0;
}
