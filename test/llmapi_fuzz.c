/*
 * llmapi_fuzz.c: libFuzzer target for the SSE parser and both stream
 * decoders (fed in two pieces at a split the input chooses), the
 * non-streamed decoders, error bodies and the JSON unescaper.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mneme/llmapi.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct llm_stream st;
static size_t total;

static void
on_text(void *ctx, const char *s, size_t n)
{
  /* Touch every byte: ASan checks the pointer range. */
  for (size_t i = 0; i < n; i++)
    total += (unsigned char)s[i];
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
  struct llm_error e;
  llm_decode_error(429, (data[0] & 2) ? "12" : NULL, p, n, &e);
  static int tok[256 * 4];
  llm_decode_models(p, n, tok, 256, NULL, NULL);
  llm_buf_init(&out, mem, sizeof mem);
  llm_json_unescape(p, n, &out);
  llm_buf_init(&out, mem, sizeof mem);
  llm_json_escape(&out, p, n);
  return 0;
}
