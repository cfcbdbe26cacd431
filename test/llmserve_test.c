/*
 * llmserve_test.c: the OpenAI-compatible server's protocol (llmserve/
 * proto.c): the request reader over http-parser (every split, pipelining,
 * keep-alive, limits, Expect), the chat request decoder (the recorded
 * llama.cpp request, content parts, every refusal) and the answers'
 * JSON, read back with llmapi's OpenAI decoders (the client side mneme's
 * llm-remote uses) so the two ends agree.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mneme/err.h>
#include <mneme/llmapi.h>
#include <mneme/llmserve.h>

#include "test_files.h"

#define SRV "../shared/testdata/llm/server/"

static void *re(void *p, size_t n) { return realloc(p, n); }

/* Feeds all of s in pieces of `step` bytes; returns the final result and
 * the bytes taken. */
static int feed_split(struct llms_http *h, const char *s, size_t len, size_t step,
                      size_t *taken, int *status) {
  size_t off = 0;
  int r = LLMS_MORE;
  while (off < len) {
    size_t n = len - off < step ? len - off : step, used;
    r = llms_http_feed(h, s + off, n, &used, status);
    off += used;
    if (r != LLMS_MORE) break;
    assert_int_equal(used, n);
  }
  *taken = off;
  return r;
}

static void test_recorded_request_every_split(void **st) {
  (void)st;
  size_t len;
  char *raw = slurp(SRV "raw_stream_false.request.raw", &len);
  for (size_t step = 1; step <= len; step = step < 16 ? step + 1 : step * 2) {
    struct llms_http h;
    assert_int_equal(llms_http_init(&h, LLMS_BODY_MAX, re, free), 0);
    size_t taken;
    int status = 0;
    assert_int_equal(feed_split(&h, raw, len, step, &taken, &status), LLMS_DONE);
    assert_int_equal(taken, len);
    assert_int_equal(h.method, LLMS_POST);
    assert_string_equal(h.path, "/v1/chat/completions");
    assert_int_equal(h.body_len, 138);
    assert_int_equal(h.keep_alive, 0); /* Connection: close */
    struct llms_chat *c = malloc(sizeof *c);
    char *text = malloc(h.body_len + 1), why[96];
    void *tok = malloc(LLMS_MAX_TOKENS_JSON * 16);
    const char *param;
    assert_int_equal(llms_chat_parse(h.body, h.body_len, c, text, h.body_len + 1, tok, why,
                                     sizeof why, &param), 0);
    assert_string_equal(c->model, "stories260K");
    assert_int_equal(c->n_msgs, 1);
    assert_int_equal(c->msgs[0].role, LLMS_ROLE_USER);
    assert_int_equal(c->msgs[0].len, 16);
    assert_memory_equal(c->msgs[0].text, "Once upon a time", 16);
    assert_int_equal(c->max_tokens, 16);
    assert_true(c->has_temperature && c->temperature == 0.0f);
    assert_true(c->has_seed && c->seed == 42);
    assert_int_equal(c->stream, 0);
    free(c);
    free(text);
    free(tok);
    llms_http_free(&h);
  }
  free(raw);
}

static void test_pipelined_keepalive(void **st) {
  (void)st;
  const char two[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                     "POST /v1/models?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                     "Connection: close\r\n\r\nabcGET";
  struct llms_http h;
  assert_int_equal(llms_http_init(&h, 1024, re, free), 0);
  size_t used;
  int status = 0;
  assert_int_equal(llms_http_feed(&h, two, sizeof two - 1, &used, &status), LLMS_DONE);
  assert_int_equal(h.method, LLMS_GET);
  assert_string_equal(h.path, "/health");
  assert_int_equal(h.keep_alive, 1);
  assert_int_equal(h.body_len, 0);
  size_t off = used;
  /* done until reset: feeding more takes nothing */
  assert_int_equal(llms_http_feed(&h, two + off, 3, &used, &status), LLMS_DONE);
  assert_int_equal(used, 0);
  llms_http_reset(&h);
  assert_int_equal(llms_http_feed(&h, two + off, sizeof two - 1 - off, &used, &status), LLMS_DONE);
  assert_int_equal(h.method, LLMS_POST);
  assert_string_equal(h.path, "/v1/models");
  assert_int_equal(h.body_len, 3);
  assert_memory_equal(h.body, "abc", 3);
  assert_int_equal(h.keep_alive, 0);
  off += used;
  assert_string_equal(two + off, "GET");
  llms_http_reset(&h);
  assert_int_equal(llms_http_feed(&h, two + off, 3, &used, &status), LLMS_MORE);
  assert_int_equal(llms_http_eof(&h, &status), LLMS_BAD);
  assert_int_equal(status, 400);
  llms_http_reset(&h);
  assert_int_equal(llms_http_eof(&h, &status), LLMS_MORE); /* clean end between requests */
  llms_http_free(&h);
}

static int one(const char *req, size_t body_max, int *status, struct llms_http *keep) {
  struct llms_http h;
  assert_int_equal(llms_http_init(&h, body_max, re, free), 0);
  size_t taken;
  *status = 0;
  int r = feed_split(&h, req, strlen(req), 7, &taken, status);
  if (keep) *keep = h;
  else llms_http_free(&h);
  return r;
}

static void test_limits_and_garbage(void **st) {
  (void)st;
  int status;
  assert_int_equal(one("POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2000\r\n\r\n", 1000,
                       &status, NULL), LLMS_BAD);
  assert_int_equal(status, 413);
  /* chunked bodies are counted as they come */
  char big[3000];
  strcpy(big, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n");
  size_t n = strlen(big);
  memset(big + n, 'a', 1024);
  strcpy(big + n + 1024, "\r\n400\r\n");
  n = strlen(big);
  memset(big + n, 'b', 600);
  big[n + 600] = 0;
  assert_int_equal(one(big, 1500, &status, NULL), LLMS_BAD);
  assert_int_equal(status, 413);
  char url[600] = "GET /";
  memset(url + 5, 'x', 400);
  strcpy(url + 405, " HTTP/1.1\r\n\r\n");
  assert_int_equal(one(url, 1000, &status, NULL), LLMS_BAD);
  assert_int_equal(status, 414);
  char *hdr = malloc(70000);
  strcpy(hdr, "GET / HTTP/1.1\r\nX: ");
  memset(hdr + 19, 'y', 69000);
  hdr[69019] = 0;
  assert_int_equal(one(hdr, 1000, &status, NULL), LLMS_BAD);
  assert_int_equal(status, 431);
  free(hdr);
  assert_int_equal(one("\x16\x03\x01\x02\x00\x01", 1000, &status, NULL), LLMS_BAD);
  assert_int_equal(status, 400);
  assert_int_equal(one("GET / HTTP/1.1\r\nContent-Length: zz\r\n\r\n", 1000, &status, NULL), LLMS_BAD);
  assert_int_equal(status, 400);
  assert_int_equal(one("CONNECT a:1 HTTP/1.1\r\n\r\n", 1000, &status, NULL), LLMS_BAD);
  assert_int_equal(status, 400);
  assert_int_equal(one("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", 1000,
                       &status, NULL), LLMS_BAD);
  /* HTTP/1.0 closes unless asked */
  struct llms_http h;
  assert_int_equal(one("GET /health HTTP/1.0\r\n\r\n", 1000, &status, &h), LLMS_DONE);
  assert_int_equal(h.keep_alive, 0);
  llms_http_free(&h);
  assert_int_equal(one("DELETE /health HTTP/1.1\r\n\r\n", 1000, &status, &h), LLMS_DONE);
  assert_int_equal(h.method, LLMS_OTHER);
  llms_http_free(&h);
}

static void test_expect_continue(void **st) {
  (void)st;
  struct llms_http h;
  assert_int_equal(llms_http_init(&h, 1000, re, free), 0);
  const char r[] = "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nEXPECT: 100-continue\r\n"
                   "Content-Length: 2\r\n\r\n";
  size_t used;
  int status;
  assert_int_equal(llms_http_feed(&h, r, sizeof r - 1, &used, &status), LLMS_MORE);
  assert_true(h.headers_done);
  assert_true(h.expect_continue);
  assert_int_equal(llms_http_feed(&h, "{}", 2, &used, &status), LLMS_DONE);
  llms_http_reset(&h);
  const char r2[] = "POST / HTTP/1.1\r\nX-Expect: 100-continue\r\nContent-Length: 1\r\n\r\n";
  assert_int_equal(llms_http_feed(&h, r2, sizeof r2 - 1, &used, &status), LLMS_MORE);
  assert_false(h.expect_continue);
  llms_http_free(&h);
}

/* ---- chat requests ---- */

struct parsed {
  struct llms_chat c;
  char text[4096], why[96];
  char tok[LLMS_MAX_TOKENS_JSON * 16];
  const char *param;
};

static int parse(struct parsed *p, const char *js) {
  return llms_chat_parse(js, strlen(js), &p->c, p->text, sizeof p->text, p->tok, p->why,
                         sizeof p->why, &p->param);
}

static void test_chat_fields(void **st) {
  (void)st;
  struct parsed *p = malloc(sizeof *p);
  assert_int_equal(parse(p, "{\"model\":\"m\",\"messages\":["
                            "{\"role\":\"developer\",\"content\":\"be \\\"brief\\\"\\n\"},"
                            "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
                            "{\"type\":\"text\",\"text\":\"\\u00e9\"}]},"
                            "{\"role\":\"assistant\",\"content\":null},"
                            "{\"role\":\"user\",\"content\":\"q\"}],"
                            "\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                            "\"max_completion_tokens\":7,\"temperature\":0.5,\"top_p\":1e-1,"
                            "\"seed\":-1,\"n\":1,\"tools\":[],\"unknown\":{\"x\":[1,2]}} \n"), 0);
  assert_int_equal(p->c.n_msgs, 4);
  assert_int_equal(p->c.msgs[0].role, LLMS_ROLE_SYSTEM);
  assert_int_equal(p->c.msgs[0].len, 11);
  assert_memory_equal(p->c.msgs[0].text, "be \"brief\"\n", 11);
  assert_int_equal(p->c.msgs[1].len, 3);
  assert_memory_equal(p->c.msgs[1].text, "a\xc3\xa9", 3);
  assert_int_equal(p->c.msgs[2].role, LLMS_ROLE_ASSISTANT);
  assert_int_equal(p->c.msgs[2].len, 0);
  assert_true(p->c.stream && p->c.include_usage);
  assert_int_equal(p->c.max_tokens, 7);
  assert_true(p->c.temperature > 0.49f && p->c.temperature < 0.51f);
  assert_true(p->c.top_p > 0.099f && p->c.top_p < 0.101f);
  assert_true(p->c.seed == UINT64_MAX);
  free(p);
}

static void test_chat_refusals(void **st) {
  (void)st;
  static const struct {
    const char *js, *param;
  } bad[] = {
      {"", ""},
      {"[]", ""},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]} x", ""},
      {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model"},
      {"{\"model\":5,\"messages\":[]}", "model"},
      {"{\"model\":\"m\"}", "messages"},
      {"{\"model\":\"m\",\"messages\":[]}", "messages"},
      {"{\"model\":\"m\",\"messages\":[1]}", "messages"},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", "messages"},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}", "messages"},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":5}]}", "messages"},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", "messages"},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\\x\"}]}", ""},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":\"yes\"}", "stream"},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}", "max_tokens"},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":-3}", "max_tokens"},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":3}", "temperature"},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":\"hot\"}", "temperature"},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_p\":1.5}", "top_p"},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"seed\":1.5}", "seed"},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":2}", "n"},
      {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"tools\":[{}]}", "tools"},
  };
  struct parsed *p = malloc(sizeof *p);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int st2 = parse(p, bad[i].js);
    if (st2 != 400) fail_msg("case %zu (%s): %d", i, bad[i].js, st2);
    if (strcmp(p->param, bad[i].param)) fail_msg("case %zu: param %s", i, p->param);
    assert_true(strlen(p->why) > 5);
  }
  /* too many JSON values: 413 */
  size_t cap = 200000;
  char *js = malloc(cap);
  strcpy(js, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"x\":[");
  size_t n = strlen(js);
  for (int i = 0; i < 20000; i++) { js[n++] = '1'; js[n++] = ','; }
  strcpy(js + n, "1]}");
  assert_int_equal(parse(p, js), 413);
  free(js);
  /* texts larger than the caller's buffer: 413 */
  char *longmsg = malloc(10000);
  strcpy(longmsg, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"");
  n = strlen(longmsg);
  memset(longmsg + n, 'z', 5000);
  strcpy(longmsg + n + 5000, "\"}]}");
  assert_int_equal(parse(p, longmsg), 413);
  free(longmsg);
  free(p);
}

/* ---- answers, read back by llmapi's OpenAI decoders ---- */

static char got_text[4096];
static size_t got_len;
static void on_text(void *ctx, const char *t, size_t n) {
  (void)ctx;
  memcpy(got_text + got_len, t, n);
  got_len += n;
}

static char model_seen[128];
static void on_model(void *ctx, const char *id) {
  (void)ctx;
  snprintf(model_seen, sizeof model_seen, "%s", id);
}

static void test_answers_decode(void **st) {
  (void)st;
  struct llms_ids ids = {"chatcmpl-1", "stories260K", 1700000000};
  struct llms_usage u = {46, 3, 16};
  char out[4096];
  const char *text = "\"Here?\" Asked \xe2\x80\x94 Jack.\n";
  size_t n = llms_json_completion(out, sizeof out, &ids, text, strlen(text), "length", &u);
  assert_true(n > 0);
  struct llm_stream *s = malloc(sizeof *s);
  char tb[256];
  struct llm_buf b;
  llm_buf_init(&b, tb, sizeof tb);
  assert_int_equal(llm_decode_response(LLM_API_OPENAI, out, n, s, &b), 0);
  assert_int_equal(b.len, strlen(text));
  assert_memory_equal(tb, text, b.len);
  assert_int_equal(s->finish, LLM_FIN_LENGTH);
  assert_int_equal(s->input_tokens, 46);
  assert_int_equal(s->output_tokens, 16);
  /* the stream: role, two deltas, finish, usage, [DONE] */
  char sse[8192];
  size_t len = 0;
  const char *parts[] = {"\"Here", "?\" \xe2\x80\x94\n"};
  for (int i = -1; i < 4; i++) {
    size_t m = i < 0 ? llms_json_chunk_role(out, sizeof out, &ids)
               : i < 2 ? llms_json_chunk_text(out, sizeof out, &ids, parts[i], strlen(parts[i]))
               : i == 2 ? llms_json_chunk_finish(out, sizeof out, &ids, "stop")
                        : llms_json_chunk_usage(out, sizeof out, &ids, &u);
    assert_true(m > 0);
    len += (size_t)sprintf(sse + len, "data: %.*s\n\n", (int)m, out);
  }
  len += (size_t)sprintf(sse + len, "data: [DONE]\n\n");
  got_len = 0;
  llm_stream_init(s, LLM_API_OPENAI, on_text, NULL);
  assert_int_equal(llm_stream_feed(s, sse, len), 0);
  assert_int_equal(llm_stream_end(s), 0);
  assert_int_equal(got_len, strlen(parts[0]) + strlen(parts[1]));
  assert_memory_equal(got_text, "\"Here?\" \xe2\x80\x94\n", got_len);
  assert_int_equal(s->finish, LLM_FIN_STOP);
  assert_int_equal(s->output_tokens, 16);
  assert_int_equal(s->bad_events, 0);
  /* errors and models */
  n = llms_json_error(out, sizeof out, "bad \"thing\"", llms_error_type(400), "model", NULL);
  struct llm_api_error e;
  llm_decode_error(400, NULL, out, n, &e);
  assert_string_equal(e.message, "bad \"thing\"");
  assert_string_equal(e.type, "invalid_request_error");
  n = llms_json_models(out, sizeof out, "stories260K", 0);
  int tok[64 * 4];
  assert_int_equal(llm_decode_models(out, n, tok, 64, on_model, NULL), 1);
  assert_string_equal(model_seen, "stories260K");
  /* too small a buffer: 0, never a cut body */
  assert_int_equal(llms_json_completion(out, 40, &ids, text, strlen(text), "stop", &u), 0);
  free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_recorded_request_every_split),
      cmocka_unit_test(test_pipelined_keepalive),
      cmocka_unit_test(test_limits_and_garbage),
      cmocka_unit_test(test_expect_continue),
      cmocka_unit_test(test_chat_fields),
      cmocka_unit_test(test_chat_refusals),
      cmocka_unit_test(test_answers_decode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
