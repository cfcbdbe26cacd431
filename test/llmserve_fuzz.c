/*
 * llmserve_fuzz.c: libFuzzer target for what the OpenAI-compatible
 * server reads from the network (llmserve/proto.c): the bytes are fed to
 * the request reader in pieces whose sizes come from the first byte,
 * pipelined requests one after another as the server does; every
 * complete request's body goes through the chat decoder, and what it
 * decoded is written back out as an answer (as the server would).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mneme/llmserve.h"

static void *re(void *p, size_t n) { return realloc(p, n); }

static void chat(const char *body, size_t len) {
  static struct llms_chat c;
  static char tok[LLMS_MAX_TOKENS_JSON * 16];
  static char out[1 << 16];
  char *text = malloc(len + 1), why[96];
  const char *param;
  if (!text) return;
  if (llms_chat_parse(body, len, &c, text, len + 1, tok, why, sizeof why, &param) == 0) {
    struct llms_ids ids = {"chatcmpl-f", c.model, 0};
    struct llms_usage u = {1, 0, 2};
    for (size_t i = 0; i < c.n_msgs; i++) {
      if (c.msgs[i].text < text || c.msgs[i].text + c.msgs[i].len > text + len + 1) abort();
      llms_json_chunk_text(out, sizeof out, &ids, c.msgs[i].text, c.msgs[i].len);
    }
    if (c.n_msgs) llms_json_completion(out, sizeof out, &ids, c.msgs[0].text, c.msgs[0].len, "stop", &u);
  } else {
    llms_json_error(out, sizeof out, why, "invalid_request_error", param, NULL);
  }
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t step = (size_t)(data[0] % 64) + 1;
  const char *p = (const char *)data + 1;
  size_t n = size - 1;
  struct llms_http h;
  if (llms_http_init(&h, 1 << 16, re, free)) return 0;
  size_t off = 0;
  int requests = 0;
  while (off < n && requests < 64) {
    size_t take = n - off < step ? n - off : step, used;
    int status = 0;
    int r = llms_http_feed(&h, p + off, take, &used, &status);
    if (used > take) abort();
    off += used;
    if (r == LLMS_BAD) {
      if (status < 400 || status > 599) abort();
      break;
    }
    if (r == LLMS_DONE) {
      if (h.body_len > (1 << 16) || strlen(h.path) >= LLMS_URL_MAX) abort();
      chat(h.body ? h.body : "", h.body_len);
      requests++;
      llms_http_reset(&h);
    } else if (used != take) {
      abort(); /* the reader takes everything while it wants more */
    }
  }
  int status;
  llms_http_eof(&h, &status);
  llms_http_free(&h);
  return 0;
}
