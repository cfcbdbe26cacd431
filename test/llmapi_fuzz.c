/*
 * llmapi_fuzz.c: libFuzzer target for the SSE parser and both stream
 * decoders (fed in two pieces at a split the input chooses), the
 * non-streamed decoders, error bodies and the JSON unescaper.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mneme/llmapi.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct llm_stream st;
static size_t total;

/* Every delta must be whole, valid UTF-8 (the decoders' contract). */
static void
on_text(void *ctx, const char *s, size_t n)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  if (n == 0)
    abort();
  while (i < n) {
    unsigned c = u[i];
    size_t l = c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 : (c >= 0xe0 && c <= 0xef) ? 3 :
               (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
    if (!l || i + l > n)
      abort();
    uint32_t cp = l == 1 ? c : c & (0xff >> (l + 1));
    for (size_t k = 1; k < l; k++) {
      if ((u[i + k] & 0xc0) != 0x80)
        abort();
      cp = (cp << 6) | (u[i + k] & 0x3f);
    }
    if ((l == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (l == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      abort();
    total += cp;
    i += l;
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  int api = data[0] & 1;
  size_t split = data[1] % (size - 1);
  const char *p = (const char *)data + 2;
  size_t n = size - 2;
  if (split > n)
    split = n;
  llm_stream_init(&st, api, on_text, NULL);
  llm_stream_feed(&st, p, split);
  llm_stream_feed(&st, p + split, n - split);
  llm_stream_end(&st);

  static char mem[4096];
  struct llm_buf out;
  llm_buf_init(&out, mem, sizeof mem);
  llm_decode_response(api, p, n, &st, &out);
  struct llm_api_error e;
  llm_decode_error(429, (data[0] & 2) ? "12" : NULL, p, n, &e);
  static int tok[256 * 4];
  llm_decode_models(p, n, tok, 256, NULL, NULL);
  llm_buf_init(&out, mem, sizeof mem);
  llm_json_get_string(p, n, "code", tok, 256, &out); /* a tool call's arguments */
  llm_buf_init(&out, mem, sizeof mem);
  llm_json_unescape(p, n, &out);
  llm_buf_init(&out, mem, sizeof mem);
  llm_json_escape(&out, p, n);
  return 0;
}
