/*
 * svc_fuzz.c: libFuzzer target for the services' parsers of outside
 * bytes: mnemeterm's tracing decoder (records from a target) and the
 * pseudo-keyboard's byte decoder. The first byte picks the parser.
 * Invariants: no crash or sanitizer report; key events are well formed
 * (kind, code in range, ch a Unicode scalar, at most 4 per byte).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "mneme/keyboard.h"
#include "trace_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_keys(const uint8_t *p, size_t n)
{
  struct kbd_decoder d = { 0 };
  for (size_t i = 0; i < n; i++) {
    struct key_event ev[4];
    int k = kbd_decode_byte(&d, p[i], ev);
    if (k < 0 || k > 4 || k % 2)
      abort();
    for (int j = 0; j < k; j++)
      if (ev[j].kind > KEY_RELEASED || ev[j].code > KEY_F || ev[j].ch > 0x10ffff ||
          (ev[j].ch >= 0xd800 && ev[j].ch < 0xe000))
        abort();
  }
}

static void
fuzz_trace(const uint8_t *p, size_t n)
{
  static FILE *out;
  if (!out)
    out = fopen("/dev/null", "w");
  struct trace_decoder td;
  trace_decoder_init(&td, 1, 2);
  /* in two pieces, so a record may be cut across feeds */
  size_t cut = n ? p[0] % (n + 1) : 0;
  trace_feed(&td, p, cut, out);
  trace_feed(&td, p + cut, n - cut, out);
  trace_decoder_free(&td);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  if (data[0] & 1)
    fuzz_keys(data + 1, size - 1);
  else
    fuzz_trace(data + 1, size - 1);
  return 0;
}
