/*
 * llm_remote_test.c: the llm-remote service (llm/llm_remote.c) on the
 * hosted kernel, through the `llm` interface, over a scripted
 * http_request (this file's: the transport's contract of mneme/http.h,
 * with the body handed over in the pieces a script chooses and a yield
 * between pieces, as bytes arriving from a network would be).
 *
 * Checked: llama.cpp's recorded stream (de-chunked) gives, at every
 * split tried, the same text, finish and usage as its recorded
 * non-streamed answer, which llm-remote also decodes; an Anthropic stream
 * with pings, comments, CRLF, an unknown event, thinking deltas and a
 * character split between two deltas; the request's URL, headers and
 * body; HTTP 401/403/404/500/529 with JSON bodies (code plus the
 * provider's message); 429 with retry-after (the retry_after_s, and a
 * request refused at once until then); a connection dropped mid-stream
 * and a stall (the partial answer kept, LLM_FINISH_ERROR); failures
 * before any text; cancel by closing the ring; the forth tool in both API
 * styles (`2 3 + .` answers "5 ", an endless loop is stopped by its fuel
 * while another task keeps running, and the model gets the error); the
 * model list; the key never in replies.
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

#include "ktest.h"
#include "test_files.h"
#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/http.h"
#include "mneme/kchannel.h"
#include "mneme/llm.h"
#include "mneme/registry.h"
#include "mneme/settings.h"
#include "mneme/task.h"

#define SRV "../shared/testdata/llm/server/"
#define KEY "sk-test-SECRET-4242"

/* ---- the scripted transport ---------------------------------------------- */

struct answer {
  int status;
  const char *retry_after;
  const char *body;            /* NULL: none */
  size_t len;                  /* 0: strlen(body) */
  size_t split;                /* piece size; 0: whole */
  const size_t *cuts;          /* explicit piece ends (sorted, ended by 0) */
  int end_rc;                  /* what http_request returns after the body */
  size_t stop_at;              /* end_rc after this many bytes (0: all) */
};

#define MAX_REQ 8
static struct answer script[MAX_REQ];
static int n_script, n_req;
static char req_url[MAX_REQ][512], req_method[MAX_REQ][8];
static char *req_headers[MAX_REQ], *req_body[MAX_REQ];
static int stopped_by_client;

static void
script_reset(void)
{
  for (int i = 0; i < MAX_REQ; i++) {
    free(req_headers[i]);
    free(req_body[i]);
    req_headers[i] = req_body[i] = NULL;
  }
  memset(script, 0, sizeof script);
  n_script = n_req = 0;
  stopped_by_client = 0;
}

static void
script_add(struct answer a)
{
  assert_true(n_script < MAX_REQ);
  script[n_script++] = a;
}

int
http_request(const struct http_client_request *req, struct http_client_result *res)
{
  memset(res, 0, sizeof *res);
  if (n_req >= n_script) {
    snprintf(res->error, sizeof res->error, "connection refused");
    return MN_ECONNRESET;
  }
  int i = n_req++;
  snprintf(req_url[i], sizeof req_url[i], "%.*s", (int)req->url_len, req->url);
  snprintf(req_method[i], sizeof req_method[i], "%s", req->method);
  req_headers[i] = strdup(req->headers ? req->headers : "");
  req_body[i] = calloc(1, req->body_len + 1);
  if (req->body_len)
    memcpy(req_body[i], req->body, req->body_len);
  const struct answer *a = &script[i];
  if (a->status == 0) { /* never connected */
    snprintf(res->error, sizeof res->error, "connect timed out");
    return a->end_rc ? a->end_rc : MN_ETIMEDOUT;
  }
  res->status = a->status;
  if (req->on_status && req->on_status(req->ctx, a->status))
    goto stopped;
  if (a->retry_after && req->on_header &&
      req->on_header(req->ctx, "Retry-After", 11, a->retry_after, strlen(a->retry_after)))
    goto stopped;
  if (req->on_header && req->on_header(req->ctx, "Content-Type", 12, "x", 1))
    goto stopped;
  size_t len = a->body ? (a->len ? a->len : strlen(a->body)) : 0;
  size_t lim = a->stop_at ? a->stop_at : len, pos = 0;
  const size_t *cut = a->cuts;
  while (pos < lim) {
    size_t n = a->split ? a->split : lim - pos;
    if (cut && *cut) {
      n = *cut > pos ? *cut - pos : 1;
      cut++;
    }
    if (n > lim - pos)
      n = lim - pos;
    if (req->on_body && req->on_body(req->ctx, a->body + pos, n))
      goto stopped;
    pos += n;
    res->body_bytes += n;
    task_yield();
  }
  if (a->end_rc)
    snprintf(res->error, sizeof res->error, "%s", mn_strerror(a->end_rc));
  return a->end_rc;
stopped:
  stopped_by_client = 1;
  snprintf(res->error, sizeof res->error, "canceled");
  return MN_ECANCELED;
}

void
http_client_reset(void)
{
}

/* ---- a client of the llm interface ------------------------------------------ */

struct result {
  int status;                  /* 0, MN_ESERVICE (e), other: transport */
  struct llm_response r;
  struct llm_error e;
  char text[65536];
  size_t n;
};

static void
start(const char *provider, int stream)
{
  ktest_boot(32u << 20);
  script_reset();
  struct llm_remote_config c = { .provider = provider, .base_url = "http://10.0.2.2:8080",
                                 .api_key = KEY, .model = "stories260K", .system = "Be brief.",
                                 .temperature = 0.0f, .max_tokens = 16, .stream = (uint8_t)stream,
                                 .timeout_ms = 2000 };
  assert_int_equal(llm_remote_start(&c), 0);
}

/* Sends GENERATE and reads the ring to its end; cancel_after > 0 closes
 * the ring after that many bytes. */
static void
generate(const char *text, uint32_t flags, size_t cancel_after, struct result *out)
{
  static const struct svc_type type = LLM_SVC_TYPE;
  memset(out, 0, sizeof *out);
  struct svc_client c;
  struct llm_error e;
  assert_int_equal(svc_connect(&LLM_REMOTE_UUID, &type, NULL, &e, 0, &c), 0);
  struct bbq ring;
  assert_int_equal(bbq_init(&ring, 256), 0);
  struct kchannel ch;
  size_t rsize = svc_reply_size(&type);
  assert_int_equal(kchannel_init(&ch, rsize, 1), 0);
  struct llm_message m = { LLM_ROLE_USER, text, strlen(text) };
  struct llm_request q;
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_GENERATE;
  q.flags = flags;
  q.messages = &m;
  q.n_messages = 1;
  q.out = &ring;
  uint32_t rid;
  assert_int_equal(svc_send(&c, &q, &ch, &rid, MN_SEC(5)), 0);
  for (;;) {
    const uint8_t *p;
    size_t got;
    int rc = bbq_read_grant(&ring, MN_SEC(20), &p, &got);
    if (rc == MN_ECLOSED)
      break;
    assert_int_equal(rc, 0);
    assert_true(out->n + got < sizeof out->text);
    memcpy(out->text + out->n, p, got);
    out->n += got;
    bbq_release(&ring, got);
    if (cancel_after && out->n >= cancel_after) {
      bbq_close(&ring);
      break;
    }
  }
  uint8_t *reply = malloc(rsize);
  assert_int_equal(kchannel_recv(&ch, reply, MN_SEC(20)), 0);
  const struct svc_reply *r = (const struct svc_reply *)reply;
  out->status = r->status;
  if (r->status == 0)
    memcpy(&out->r, r->body, sizeof out->r);
  else if (r->status == MN_ESERVICE)
    memcpy(&out->e, r->body, sizeof out->e);
  free(reply);
  svc_disconnect(&c);
  kchannel_destroy(&ch);
  bbq_destroy(&ring);
  /* the key is in no reply */
  assert_null(memmem(out->text, out->n, "SECRET", 6));
  assert_null(strstr(out->e.message, "SECRET"));
  assert_null(strstr(out->r.detail, "SECRET"));
}

/* ---- recorded data -------------------------------------------------------------- */

static const char *
body_of(const char *raw)
{
  const char *b = strstr(raw, "\r\n\r\n");
  assert_non_null(b);
  return b + 4;
}

/* ---- tests ------------------------------------------------------------------------ */

/* The recorded stream at several splits equals the recorded answer. */
static void
test_openai_recorded(void **state)
{
  (void)state;
  size_t rlen, flen, blen;
  char *raw = slurp(SRV "raw_stream_true.response.raw", &rlen);
  char *fraw = slurp(SRV "raw_stream_false.response.raw", &flen);
  char *body = dechunk(raw, rlen, &blen);
  /* non-streamed first: the reference text */
  start("openai", 0);
  script_add((struct answer){ .status = 200, .body = body_of(fraw) });
  static struct result ref, got;
  generate("Once upon a time", 0, 0, &ref);
  assert_int_equal(ref.status, 0);
  assert_int_equal(ref.r.finish, LLM_FINISH_LENGTH);
  assert_int_equal(ref.r.usage.prompt_tokens, 46);
  assert_int_equal(ref.r.usage.completion_tokens, 16);
  assert_true(ref.n > 10);
  assert_memory_equal(ref.text, "\"Here?\" Asked Jack.\n", ref.n);
  /* the request */
  assert_string_equal(req_method[0], "POST");
  assert_string_equal(req_url[0], "http://10.0.2.2:8080/v1/chat/completions");
  assert_non_null(strstr(req_headers[0], "Authorization: Bearer " KEY "\r\n"));
  assert_non_null(strstr(req_body[0], "\"model\":\"stories260K\""));
  assert_non_null(strstr(req_body[0], "{\"role\":\"system\",\"content\":\"Be brief.\"}"));
  assert_non_null(strstr(req_body[0], "{\"role\":\"user\",\"content\":\"Once upon a time\"}"));
  assert_null(strstr(req_body[0], "\"stream\""));
  assert_null(strstr(req_body[0], "tools"));
  size_t splits[] = { 0, 1, 2, 3, 7, 64, 237, 1000 };
  for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++) {
    start("openai", 1);
    script_add((struct answer){ .status = 200, .body = body, .len = blen, .split = splits[s] });
    generate("Once upon a time", 0, 0, &got);
    assert_int_equal(got.status, 0);
    assert_int_equal(got.n, ref.n);
    assert_memory_equal(got.text, ref.text, ref.n);
    assert_int_equal(got.r.finish, LLM_FINISH_LENGTH);
    assert_int_equal(got.r.usage.prompt_tokens, 46);
    assert_int_equal(got.r.usage.completion_tokens, 16);
    assert_non_null(strstr(req_body[0], "\"stream\":true"));
    assert_non_null(strstr(req_headers[0], "Accept: text/event-stream"));
  }
  free(raw);
  free(fraw);
  free(body);
}

/* Anthropic's format with everything a client must survive. */
static const char anthropic_stream[] =
    ": a comment\r\n"
    "event: message_start\r\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":"
    "\"assistant\",\"content\":[],\"model\":\"claude\",\"usage\":{\"input_tokens\":25,"
    "\"output_tokens\":1}}}\r\n\r\n"
    "event: ping\ndata: {\"type\": \"ping\"}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\","
    "\"thinking\":\"\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\","
    "\"thinking\":\"hmm\"}}\n\n"
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Caf\xc3\"}}\n\n"
    "event: future_event\ndata: {\"type\":\"future_event\",\"x\":[1,2]}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"\xa9 \\u00e9t\\u00e9 \xf0\x9f\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"new_delta\","
    "\"blob\":\"?\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"\x99\x82 ok\"}}\n\n"
    "event: content_block_stop\r\ndata: {\"type\":\"content_block_stop\",\"index\":1}\r\n\r\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":"
    "null},\"usage\":{\"output_tokens\":9}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
static const char anthropic_text[] = "Caf\xc3\xa9 \xc3\xa9t\xc3\xa9 \xf0\x9f\x99\x82 ok";

static void
test_anthropic_stream(void **state)
{
  (void)state;
  static struct result got;
  size_t len = sizeof anthropic_stream - 1;
  for (size_t split = 0; split <= 13; split++) {
    start("anthropic", 1);
    script_add((struct answer){ .status = 200, .body = anthropic_stream, .split = split });
    generate("Hi", 0, 0, &got);
    assert_int_equal(got.status, 0);
    assert_int_equal(got.n, strlen(anthropic_text));
    assert_memory_equal(got.text, anthropic_text, got.n);
    assert_int_equal(got.r.finish, LLM_FINISH_STOP);
    assert_int_equal(got.r.usage.prompt_tokens, 25);
    assert_int_equal(got.r.usage.completion_tokens, 9);
    if (split == 0) {
      assert_string_equal(req_url[0], "http://10.0.2.2:8080/v1/messages");
      assert_non_null(strstr(req_headers[0], "x-api-key: " KEY "\r\n"));
      assert_non_null(strstr(req_headers[0], "anthropic-version: 2023-06-01\r\n"));
      assert_null(strstr(req_headers[0], "Authorization"));
      assert_non_null(strstr(req_body[0], "\"system\":\"Be brief.\""));
      assert_non_null(strstr(req_body[0], "\"max_tokens\":16"));
    }
  }
  /* every 2-way split */
  for (size_t cut = 1; cut < len; cut += 5) {
    start("anthropic", 1);
    size_t cuts[] = { cut, 0 };
    script_add((struct answer){ .status = 200, .body = anthropic_stream, .cuts = cuts });
    generate("Hi", 0, 0, &got);
    assert_int_equal(got.status, 0);
    assert_memory_equal(got.text, anthropic_text, got.n);
    assert_int_equal(got.n, strlen(anthropic_text));
  }
  /* non-streamed */
  start("anthropic", 0);
  script_add((struct answer){ .status = 200,
                              .body = "{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\","
                                      "\"content\":[{\"type\":\"text\",\"text\":\"Hello \\u00e9\"}],"
                                      "\"stop_reason\":\"max_tokens\",\"usage\":{\"input_tokens\":"
                                      "5,\"output_tokens\":16}}" });
  generate("Hi", 0, 0, &got);
  assert_int_equal(got.status, 0);
  assert_int_equal(got.n, 8);
  assert_memory_equal(got.text, "Hello \xc3\xa9", 8);
  assert_int_equal(got.r.finish, LLM_FINISH_LENGTH);
  assert_int_equal(got.r.usage.prompt_tokens, 5);
}

struct err_case {
  const char *provider;
  int status;
  const char *retry;
  const char *body;
  int code;
  const char *msg;
  uint32_t retry_s;
};

static void
test_http_errors(void **state)
{
  (void)state;
  static const struct err_case cases[] = {
    { "openai", 401, NULL,
      "{\"error\":{\"message\":\"Incorrect API key provided\",\"type\":\"invalid_request_error\"}}",
      MN_EACCESS, "HTTP 401: Incorrect API key provided", 0 },
    { "anthropic", 403, NULL,
      "{\"type\":\"error\",\"error\":{\"type\":\"permission_error\",\"message\":\"Your key may not use this model\"}}",
      MN_EACCESS, "HTTP 403: Your key may not use this model", 0 },
    { "openai", 404, NULL,
      "{\"error\":{\"message\":\"The model `nope` does not exist\",\"type\":\"invalid_request_error\"}}",
      MN_ENOENT, "HTTP 404: The model `nope` does not exist", 0 },
    { "openai", 500, NULL, "{\"error\":{\"message\":\"internal failure\",\"type\":\"server_error\"}}",
      MN_EIO, "HTTP 500: internal failure", 0 },
    { "anthropic", 529, NULL,
      "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}",
      MN_EBUSY, "HTTP 529: Overloaded", 0 },
    { "openai", 502, NULL, "<html><body>Bad gateway</body></html>", MN_EIO, "HTTP 502: ", 0 },
  };
  static struct result got;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    for (int stream = 0; stream < 2; stream++) {
      start(cases[i].provider, stream);
      script_add((struct answer){ .status = cases[i].status, .body = cases[i].body, .split = 9 });
      generate("Hi", 0, 0, &got);
      assert_int_equal(got.status, MN_ESERVICE);
      assert_int_equal(got.n, 0);
      assert_int_equal(got.e.code, cases[i].code);
      assert_int_equal(strncmp(got.e.message, cases[i].msg, strlen(cases[i].msg)), 0);
      assert_int_equal(got.e.retry_after_s, 0);
    }
  }
  /* 429 with retry-after: the seconds, then refused at once until then */
  start("openai", 1);
  script_add((struct answer){ .status = 429, .retry_after = "2",
                              .body = "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"rate_limit_exceeded\"}}" });
  size_t rlen, blen;
  char *raw = slurp(SRV "raw_stream_true.response.raw", &rlen);
  char *body = dechunk(raw, rlen, &blen);
  script_add((struct answer){ .status = 200, .body = body, .len = blen, .split = 100 });
  uint64_t t0 = ktime_now();
  generate("Hi", 0, 0, &got);
  assert_int_equal(got.status, MN_ESERVICE);
  assert_int_equal(got.e.code, MN_EBUSY);
  assert_int_equal(got.e.retry_after_s, 2);
  assert_string_equal(got.e.message, "HTTP 429: Rate limit reached");
  generate("Hi", 0, 0, &got);
  assert_int_equal(got.status, MN_ESERVICE);
  assert_int_equal(got.e.code, MN_EBUSY);
  assert_true(got.e.retry_after_s >= 1 && got.e.retry_after_s <= 2);
  assert_int_equal(n_req, 1); /* not asked again */
  task_sleep_until(t0 + MN_SEC(2) + MN_MSEC(10));
  generate("Hi", 0, 0, &got);
  assert_int_equal(got.status, 0);
  assert_int_equal(n_req, 2);
  assert_int_equal(got.r.finish, LLM_FINISH_LENGTH);
  free(raw);
  free(body);
  /* never connected */
  start("openai", 1);
  script_add((struct answer){ .status = 0, .end_rc = MN_ETIMEDOUT });
  generate("Hi", 0, 0, &got);
  assert_int_equal(got.status, MN_ESERVICE);
  assert_int_equal(got.e.code, MN_ETIMEDOUT);
  assert_string_equal(got.e.message, "connect timed out");
  /* an error event before any text */
  start("anthropic", 1);
  script_add((struct answer){ .status = 200,
                              .body = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
                                      "\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n" });
  generate("Hi", 0, 0, &got);
  assert_int_equal(got.status, MN_ESERVICE);
  assert_int_equal(got.e.code, MN_EBUSY);
  assert_string_equal(got.e.message, "Overloaded");
}

/* Dropped mid-stream and stalled: the text so far, LLM_FINISH_ERROR. */
static void
test_dropped_and_stalled(void **state)
{
  (void)state;
  size_t rlen, blen;
  char *raw = slurp(SRV "raw_stream_true.response.raw", &rlen);
  char *body = dechunk(raw, rlen, &blen);
  static struct result got;
  static const int rcs[] = { MN_ECONNRESET, MN_ETIMEDOUT };
  static const char *const why[] = { "connection reset by peer", "timed out" };
  for (int k = 0; k < 2; k++) {
    for (size_t stop = blen / 7; stop < blen * 9 / 10; stop += blen / 5) {
      start("openai", 1);
      script_add((struct answer){ .status = 200, .body = body, .len = blen, .split = 50,
                                  .end_rc = rcs[k], .stop_at = stop });
      generate("Hi", 0, 0, &got);
      assert_int_equal(got.status, 0);
      assert_int_equal(got.r.finish, LLM_FINISH_ERROR);
      assert_string_equal(got.r.detail, why[k]);
      assert_true(got.n > 0 && got.n < 20);
      assert_memory_equal(got.text, "\"Here?\" Asked Jack.\n", got.n); /* a prefix */
    }
    /* before any text: an error reply */
    start("anthropic", 1);
    script_add((struct answer){ .status = 200, .body = anthropic_stream, .end_rc = rcs[k],
                                .stop_at = 40 });
    generate("Hi", 0, 0, &got);
    assert_int_equal(got.status, MN_ESERVICE);
    assert_int_equal(got.e.code, rcs[k]);
  }
  /* ended without its last event and no transport error */
  start("anthropic", 1);
  const char *stop = strstr(anthropic_stream, "event: message_delta");
  script_add((struct answer){ .status = 200, .body = anthropic_stream,
                              .stop_at = (size_t)(stop - anthropic_stream) });
  generate("Hi", 0, 0, &got);
  assert_int_equal(got.status, 0);
  assert_int_equal(got.r.finish, LLM_FINISH_ERROR);
  assert_string_equal(got.r.detail, "the answer ended early");
  free(raw);
  free(body);
}

static void
test_cancel(void **state)
{
  (void)state;
  size_t rlen, blen;
  char *raw = slurp(SRV "raw_stream_true.response.raw", &rlen);
  char *body = dechunk(raw, rlen, &blen);
  static struct result got;
  start("openai", 1);
  script_add((struct answer){ .status = 200, .body = body, .len = blen, .split = 20 });
  generate("Hi", 0, 3, &got);
  assert_int_equal(got.status, 0);
  assert_int_equal(got.r.finish, LLM_FINISH_CANCELLED);
  assert_true(stopped_by_client);
  free(raw);
  free(body);
}

/* ---- the forth tool ---------------------------------------------------------------- */

static char openai_call[2048];
static const char openai_after[] =
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The sum is 5.\"},"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":6}}\n\n"
    "data: [DONE]\n\n";

static void
make_openai_call(const char *code_json)
{
  /* the arguments in three fragments, the code split inside */
  size_t n = strlen(code_json), h = n / 2;
  snprintf(openai_call, sizeof openai_call,
           "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":"
           "\"Let me run it.\"},\"finish_reason\":null}]}\n\n"
           "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":"
           "\"call_7\",\"type\":\"function\",\"function\":{\"name\":\"forth\",\"arguments\":\"\"}}]},"
           "\"finish_reason\":null}]}\n\n"
           "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
           "{\"arguments\":\"{\\\"code\\\": \\\"%.*s\"}}]},\"finish_reason\":null}]}\n\n"
           "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
           "{\"arguments\":\"%s\\\"}\"}}]},\"finish_reason\":null}]}\n\n"
           "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
           "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":12}}\n\n"
           "data: [DONE]\n\n",
           (int)h, code_json, code_json + h);
}

static int ticks_stop, ticks;
static int
ticker(void *arg)
{
  (void)arg;
  while (!ticks_stop) {
    ticks++;
    task_sleep(MN_MSEC(5));
  }
  return 0;
}

static void
test_tool_openai(void **state)
{
  (void)state;
  static struct result got;
  for (size_t split = 0; split < 12; split += 5) {
    start("openai", 1);
    make_openai_call("2 3 + .");
    script_add((struct answer){ .status = 200, .body = openai_call, .split = split });
    script_add((struct answer){ .status = 200, .body = openai_after, .split = split });
    generate("What is 2+3? Use forth.", LLM_TOOLS, 0, &got);
    assert_int_equal(got.status, 0);
    const char want[] = "Let me run it.\x01" "2 3 + .\x02" "5 \x03The sum is 5.";
    assert_int_equal(got.n, sizeof want - 1);
    assert_memory_equal(got.text, want, got.n);
    assert_int_equal(got.r.finish, LLM_FINISH_STOP);
    assert_int_equal(got.r.usage.prompt_tokens, 50);
    assert_int_equal(got.r.usage.completion_tokens, 18);
    assert_int_equal(n_req, 2);
    assert_non_null(strstr(req_body[0], "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"forth\""));
    /* the call and its result went back */
    assert_non_null(strstr(req_body[1],
                           "{\"role\":\"assistant\",\"content\":\"Let me run it.\",\"tool_calls\":"
                           "[{\"id\":\"call_7\",\"type\":\"function\",\"function\":{\"name\":\"forth\","
                           "\"arguments\":\"{\\\"code\\\": \\\"2 3 + .\\\"}\"}}]}"));
    assert_non_null(strstr(req_body[1], "{\"role\":\"tool\",\"tool_call_id\":\"call_7\",\"content\":\"5 \"}"));
  }
  /* without LLM_TOOLS no tool is offered, and a call is not run */
  start("openai", 1);
  make_openai_call("2 3 + .");
  script_add((struct answer){ .status = 200, .body = openai_call });
  generate("Hi", 0, 0, &got);
  assert_int_equal(got.status, 0);
  assert_int_equal(n_req, 1);
  assert_null(strstr(req_body[0], "tools"));
  assert_memory_equal(got.text, "Let me run it.", got.n);
}

static char anthropic_call[2048];

static void
test_tool_anthropic_endless(void **state)
{
  (void)state;
  static struct result got;
  start("anthropic", 1);
  snprintf(anthropic_call, sizeof anthropic_call,
           "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
           "{\"input_tokens\":40,\"output_tokens\":1}}}\n\n"
           "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
           "\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"forth\","
           "\"input\":{}}}\n\n"
           "event: ping\ndata: {\"type\":\"ping\"}\n\n"
           "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
           "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"code\\\": \\\": x begin\"}}\n\n"
           "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
           "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\" again ; x\\\"}\"}}\n\n"
           "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
           "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
           "\"tool_use\"},\"usage\":{\"output_tokens\":20}}\n\n"
           "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
  script_add((struct answer){ .status = 200, .body = anthropic_call, .split = 17 });
  script_add((struct answer){ .status = 200, .body = anthropic_stream, .split = 31 });
  ticks = ticks_stop = 0;
  struct task *t;
  assert_int_equal(task_spawn("ticker", ticker, NULL, 16 * 1024, &t), 0);
  generate("Loop forever", LLM_TOOLS, 0, &got);
  ticks_stop = 1;
  task_join(t, MN_SEC(1), NULL);
  assert_int_equal(got.status, 0);
  const char *mark = memchr(got.text, LLM_MARK_OUTPUT, got.n);
  assert_non_null(mark);
  assert_memory_equal(got.text, "\x01: x begin again ; x\x02", (size_t)(mark - got.text) + 1);
  assert_non_null(memmem(got.text, got.n, "steps (fuel limit)\x03", 19));
  const char *end = memchr(got.text, LLM_MARK_END, got.n);
  assert_non_null(end);
  assert_memory_equal(end + 1, anthropic_text, strlen(anthropic_text));
  assert_true(ticks > 2); /* the kernel kept running while the VM looped */
  assert_int_equal(n_req, 2);
  assert_non_null(strstr(req_body[0], "\"tools\":[{\"name\":\"forth\""));
  assert_non_null(strstr(req_body[1], "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"forth\","
                                      "\"input\":{\"code\": \": x begin again ; x\"}}"));
  assert_non_null(strstr(req_body[1], "\"tool_result\",\"tool_use_id\":\"toolu_1\""));
  assert_non_null(strstr(req_body[1], "(fuel limit)"));
  assert_int_equal(got.r.usage.prompt_tokens, 65);
}

/* A THROW comes back in words; bad arguments get an error, not a crash. */
static void
test_tool_errors(void **state)
{
  (void)state;
  ktest_boot(8u << 20);
  char out[512];
  size_t n;
  assert_int_equal(llm_tool_forth("1 0 /", 5, NULL, out, sizeof out, &n), 0);
  out[n] = 0;
  assert_non_null(strstr(out, "(THROW -10)"));
  assert_int_equal(llm_tool_forth("nosuchword", 10, NULL, out, sizeof out, &n), 0);
  out[n] = 0;
  assert_non_null(strstr(out, "(THROW -13)"));
  const char *io = "s\" /etc/passwd\" r/o open-file . .\ns\" /etc/passwd\" included\n1 2 + .";
  assert_int_equal(llm_tool_forth(io, strlen(io), NULL, out, sizeof out, &n), 0);
  out[n] = 0;
  /* no files unless the user allows them: refused with the reason */
  assert_non_null(strstr(out, "OPEN-FILE: not permitted: the user has not given the forth tool the files"));
  assert_non_null(strstr(out, "INCLUDED: not permitted"));
  assert_non_null(strstr(out, "(THROW -1018)"));
  assert_non_null(strstr(out, "3 "));
  assert_null(strstr(out, "root"));
  const char *many = ": x 100000 0 do 42 emit loop ; x";
  assert_int_equal(llm_tool_forth(many, strlen(many), NULL, out, sizeof out, &n), 0);
  assert_true(n <= sizeof out);
  assert_non_null(memmem(out, n, "[output cut]", 12));
  struct llm_tool_limits lim = { .fuel = 1000000000, .ms = 200 };
  uint64_t t0 = ktime_now();
  assert_int_equal(llm_tool_forth(": y begin again ; y", 19, &lim, out, sizeof out, &n), 0);
  out[n] = 0;
  assert_non_null(strstr(out, "200 ms (time limit)"));
  assert_true(ktime_now() - t0 < MN_SEC(5));

  static struct result got;
  start("openai", 1);
  static char bad[2048];
  snprintf(bad, sizeof bad,
           "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":"
           "\"c1\",\"function\":{\"name\":\"forth\",\"arguments\":\"{\\\"src\\\":1}\"}}]},"
           "\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n");
  script_add((struct answer){ .status = 200, .body = bad });
  script_add((struct answer){ .status = 200, .body = openai_after });
  generate("Hi", LLM_TOOLS, 0, &got);
  assert_int_equal(got.status, 0);
  static const char shown[] = "\x01\x02" "error: the arguments need a \"code\" string\x03";
  assert_non_null(memmem(got.text, got.n, shown, sizeof shown - 1));
  assert_non_null(strstr(req_body[1], "\"content\":\"error: the arguments need a \\\"code\\\" string\""));
}

/* The tool's permissions: the network and file words refuse with their
 * reason and THROW -1018 unless allowed; allowed, they are the real ones
 * (no files service and no HTTP client in this test: their own errors,
 * not a refusal); the other network and shell words stay refused. */
static void
test_tool_perms(void **state)
{
  (void)state;
  ktest_boot(8u << 20);
  static char out[2048];
  size_t n;
  const char *code = "s\" /boot/note.txt\" r/o open-file . .\n"
                     "s\" http://10.0.2.2/\" http-get .\n"
                     "s\" 10.0.2.2\" 80 tcp-open .\n"
                     "s\" /\" ls\n"
                     "7 .";
  struct llm_tool_limits lim = { 0, 0, 0 };
  assert_int_equal(llm_tool_forth(code, strlen(code), &lim, out, sizeof out, &n), 0);
  out[n] = 0;
  assert_non_null(strstr(out, "OPEN-FILE: not permitted: the user has not given the forth tool the files "
                              "(/tool files in CHAT, or the setting tool_files)"));
  assert_non_null(strstr(out, "HTTP-GET: not permitted: the user has not given the forth tool the network"));
  assert_non_null(strstr(out, "TCP-OPEN: not permitted"));
  assert_non_null(strstr(out, "LS: not permitted"));
  assert_non_null(strstr(out, "7 "));
  lim.perms = LLM_TOOL_FILES;
  assert_int_equal(llm_tool_forth(code, strlen(code), &lim, out, sizeof out, &n), 0);
  out[n] = 0;
  assert_null(strstr(out, "OPEN-FILE:"));      /* the real word: an ior, no THROW */
  assert_non_null(strstr(out, "HTTP-GET: not permitted"));
  assert_non_null(strstr(out, "LS: not part of the forth tool"));
  assert_non_null(strstr(out, "7 "));
  lim.perms = LLM_TOOL_NET;
  assert_int_equal(llm_tool_forth(code, strlen(code), &lim, out, sizeof out, &n), 0);
  out[n] = 0;
  assert_non_null(strstr(out, "OPEN-FILE: not permitted"));
  assert_null(strstr(out, "HTTP-GET: not permitted"));
  assert_non_null(strstr(out, "HTTP-GET: no HTTP client in this build"));
  assert_non_null(strstr(out, "TCP-OPEN: not part of the forth tool (its network word is HTTP-GET)"));

  /* the request's flags reach the tool */
  static struct result got;
  static const char refused[] = "OPEN-FILE: not permitted";
  for (int allow = 0; allow < 2; allow++) {
    start("openai", 1);
    make_openai_call("1 drop s\\\\\\\" /boot/note.txt\\\\\\\" r/o open-file . .");
    script_add((struct answer){ .status = 200, .body = openai_call });
    script_add((struct answer){ .status = 200, .body = openai_after });
    generate("Read it", LLM_TOOLS | (allow ? LLM_TOOL_FILES : 0), 0, &got);
    assert_int_equal(got.status, 0);
    assert_int_equal(n_req, 2);
    if (allow) assert_null(memmem(got.text, got.n, refused, sizeof refused - 1));
    else assert_non_null(memmem(got.text, got.n, refused, sizeof refused - 1));
  }
}

static void
test_models(void **state)
{
  (void)state;
  start("openai", 1);
  script_add((struct answer){ .status = 200,
                              .body = "{\"object\":\"list\",\"data\":[{\"id\":\"gpt-4o\",\"object\":\"model\"},"
                                      "{\"id\":\"stories260K\"}]}", .split = 7 });
  script_add((struct answer){ .status = 401,
                              .body = "{\"error\":{\"message\":\"Incorrect API key provided\"}}" });
  char buf[256], why[96];
  assert_int_equal(llm_remote_models(buf, sizeof buf, why, sizeof why), 2);
  assert_string_equal(buf, "gpt-4o");
  assert_string_equal(buf + 7, "stories260K");
  assert_string_equal(req_method[0], "GET");
  assert_string_equal(req_url[0], "http://10.0.2.2:8080/v1/models");
  assert_int_equal(llm_remote_models(buf, sizeof buf, why, sizeof why), MN_EACCESS);
  assert_string_equal(why, "HTTP 401: Incorrect API key provided");
  /* bad configurations */
  struct llm_remote_config c = { .provider = "nosuch", .model = "m" };
  assert_int_equal(llm_remote_start(&c), MN_EINVAL);
  c.provider = "openai";
  c.base_url = "ftp://x";
  assert_int_equal(llm_remote_start(&c), MN_EINVAL);
  /* a base URL ending in /v1 is not doubled; default provider URLs */
  c.base_url = "http://h:1/v1/";
  assert_int_equal(llm_remote_start(&c), 0);
  script_add((struct answer){ .status = 0, .end_rc = MN_ECONNRESET });
  script_add((struct answer){ .status = 0, .end_rc = MN_ECONNRESET });
  assert_int_equal(llm_remote_models(buf, sizeof buf, why, sizeof why), MN_ECONNRESET);
  assert_string_equal(req_url[2], "http://h:1/v1/models");
  c.base_url = NULL;
  c.provider = "groq";
  assert_int_equal(llm_remote_start(&c), 0);
  llm_remote_models(buf, sizeof buf, why, sizeof why);
  assert_string_equal(req_url[3], "https://api.groq.com/openai/v1/models");
}

static void
test_settings(void **state)
{
  (void)state;
  static struct mn_settings s;
  struct llm_remote_config c;
  memset(&s, 0, sizeof s);
  assert_int_equal(llm_remote_config_from_settings(&s, &c), MN_ENOENT);
  strcpy(s.provider, "local");
  assert_int_equal(llm_remote_config_from_settings(&s, &c), MN_ENOTSUP);
  strcpy(s.provider, "anthropic");
  strcpy(s.api_key, KEY);
  strcpy(s.model, "claude-x");
  s.temperature = 0.5f;
  s.max_tokens = 99;
  assert_int_equal(llm_remote_config_from_settings(&s, &c), 0);
  assert_string_equal(c.provider, "anthropic");
  assert_null(c.base_url);
  assert_null(c.system);
  assert_string_equal(c.model, "claude-x");
  assert_int_equal(c.max_tokens, 99);
  assert_true(c.stream);
  memset(s.model, 'x', sizeof s.model); /* not terminated */
  assert_int_equal(llm_remote_config_from_settings(&s, &c), MN_EINVAL);
  /* and a started service uses them */
  strcpy(s.model, "claude-x");
  strcpy(s.base_url, "http://127.0.0.1:9");
  strcpy(s.system, "Terse.");
  ktest_boot(16u << 20);
  script_reset();
  assert_int_equal(llm_remote_config_from_settings(&s, &c), 0);
  assert_int_equal(llm_remote_start(&c), 0);
  script_add((struct answer){ .status = 200, .body = anthropic_stream });
  static struct result got;
  generate("Hi", 0, 0, &got);
  assert_int_equal(got.status, 0);
  assert_string_equal(req_url[0], "http://127.0.0.1:9/v1/messages");
  assert_non_null(strstr(req_body[0], "\"model\":\"claude-x\",\"max_tokens\":99,\"system\":\"Terse.\","
                                      "\"temperature\":0.5,\"stream\":true"));
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_openai_recorded),
    cmocka_unit_test(test_anthropic_stream),
    cmocka_unit_test(test_http_errors),
    cmocka_unit_test(test_dropped_and_stalled),
    cmocka_unit_test(test_cancel),
    cmocka_unit_test(test_tool_openai),
    cmocka_unit_test(test_tool_anthropic_endless),
    cmocka_unit_test(test_tool_errors),
    cmocka_unit_test(test_tool_perms),
    cmocka_unit_test(test_models),
    cmocka_unit_test(test_settings),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
