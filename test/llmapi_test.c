/*
 * llmapi_test.c: JSON strings, the SSE parser, request bodies, stream
 * decoders and error bodies (llmapi/). The llama.cpp recording in
 * ../shared/testdata/llm/server/ is de-chunked here and decoded with
 * every split; Anthropic streams follow the reference's format.
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

#include "test_files.h"

#define SRV "../shared/testdata/llm/server/"

struct text {
  char s[65536];
  size_t n;
  int calls;
};

/* 1 if s[0..n) is whole, valid UTF-8 characters. */
static int
utf8_whole(const unsigned char *s, size_t n)
{
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    size_t l = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
               (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!l || i + l > n)
      return 0;
    for (size_t k = 1; k < l; k++)
      if ((s[i + k] & 0xc0) != 0x80)
        return 0;
    i += l;
  }
  return 1;
}

static void
on_text(void *ctx, const char *s, size_t n)
{
  struct text *t = ctx;
  if (!utf8_whole((const unsigned char *)s, n))
    fail_msg("a delta of %zu bytes is not whole UTF-8 characters", n);
  assert_true(t->n + n <= sizeof t->s);
  memcpy(t->s + t->n, s, n);
  t->n += n;
  t->calls++;
}

static struct llm_stream st;   /* big: not on the stack */
static struct text got;

/* Feeds body in pieces at the split points (sorted, 0 < p < len). */
static int
decode_split(enum llm_api api, const char *body, size_t len, const size_t *splits, size_t ns)
{
  memset(&got, 0, sizeof got);
  llm_stream_init(&st, api, on_text, &got);
  size_t at = 0;
  for (size_t k = 0; k <= ns; k++) {
    size_t to = k < ns ? splits[k] : len;
    int rc = llm_stream_feed(&st, body + at, to - at);
    if (rc)
      return rc;
    at = to;
  }
  return llm_stream_end(&st);
}

/* ---- JSON strings ------------------------------------------------------ */

static void
test_escape(void **state)
{
  char mem[256];
  struct llm_buf b;
  llm_buf_init(&b, mem, sizeof mem);
  const char in[] = "a\"b\\c\n\r\t\b\f\x01\x1f\x7f h\xc3\xa9 \xf0\x9f\x98\x80 \xff\xc3";
  llm_json_escape(&b, in, sizeof in - 1);
  const char want[] = "a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\x7f h\xc3\xa9 \xf0\x9f\x98\x80 \\ufffd\\ufffd";
  assert_int_equal(b.err, 0);
  assert_int_equal(b.len, sizeof want - 1);
  assert_memory_equal(mem, want, b.len);
  /* Round trip of the valid part. */
  char back[256];
  struct llm_buf r;
  llm_buf_init(&r, back, sizeof back);
  assert_int_equal(llm_json_unescape(mem, b.len, &r), MN_OK);
  assert_memory_equal(back, in, sizeof in - 3);
  /* Too small: MN_ENOSPC, never past cap. */
  llm_buf_init(&b, mem, 5);
  llm_json_escape(&b, in, sizeof in - 1);
  assert_int_equal(b.err, MN_ENOSPC);
  assert_int_equal(b.len, 5);
}

static int
unesc(const char *s, char *out, size_t cap, size_t *n)
{
  struct llm_buf b;
  llm_buf_init(&b, out, cap);
  int rc = llm_json_unescape(s, strlen(s), &b);
  *n = b.len;
  return rc;
}

static void
test_unescape(void **state)
{
  char o[64];
  size_t n;
  assert_int_equal(unesc("\\u00e9\\u20AC\\ud83d\\ude00\\/", o, sizeof o, &n), MN_OK);
  assert_int_equal(n, 2 + 3 + 4 + 1);
  assert_memory_equal(o, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/", n);
  /* Lone surrogates: U+FFFD each. */
  assert_int_equal(unesc("\\ud83dx\\ude00", o, sizeof o, &n), MN_OK);
  assert_memory_equal(o, "\xef\xbf\xbdx\xef\xbf\xbd", n);
  assert_int_equal(unesc("\\u0000", o, sizeof o, &n), MN_OK);
  assert_int_equal(n, 1);
  assert_int_equal(o[0], 0);
  assert_int_equal(unesc("\\x", o, sizeof o, &n), MN_EDECODE);
  assert_int_equal(unesc("\\u12g4", o, sizeof o, &n), MN_EDECODE);
  assert_int_equal(unesc("\\u12", o, sizeof o, &n), MN_EDECODE);
  assert_int_equal(unesc("ab\\", o, sizeof o, &n), MN_EDECODE);
  assert_int_equal(unesc("a\nb", o, sizeof o, &n), MN_EDECODE);
  assert_int_equal(unesc("abcdef", o, 3, &n), MN_ENOSPC);
  assert_int_equal(n, 3);
}

/* ---- SSE --------------------------------------------------------------- */

struct evlog {
  char s[4096];
  size_t n;
  int count;
};

static int
on_ev(void *ctx, const char *e, size_t el, const char *d, size_t dl)
{
  struct evlog *l = ctx;
  l->n += (size_t)snprintf(l->s + l->n, sizeof l->s - l->n, "[%.*s|%.*s]", (int)el, e, (int)dl, d);
  l->count++;
  return 0;
}

static void
sse_all_splits(const char *in, const char *want, int count)
{
  static struct llm_sse s;
  size_t len = strlen(in);
  for (size_t a = 0; a <= len; a++) {
    for (size_t b = a; b <= len; b++) {
      struct evlog l = { .n = 0 };
      llm_sse_init(&s);
      assert_int_equal(llm_sse_feed(&s, in, a, on_ev, &l), 0);
      assert_int_equal(llm_sse_feed(&s, in + a, b - a, on_ev, &l), 0);
      assert_int_equal(llm_sse_feed(&s, in + b, len - b, on_ev, &l), 0);
      l.s[l.n] = 0;
      if (strcmp(l.s, want))
        fail_msg("split %zu/%zu: got %s want %s", a, b, l.s, want);
      assert_int_equal(l.count, count);
    }
  }
}

static void
test_sse(void **state)
{
  /* LF, CRLF, CR; comments; event names; multi-line data; no space after
   * the colon; unknown fields; an event without data is not dispatched. */
  sse_all_splits("data: a\n\n: comment\r\nevent: ping\r\ndata: {}\r\n\r\n"
                 "data:b\rdata: c\r\rid: 7\nretry: 5\n\nevent: x\n\ndata\n\n",
                 "[|a][ping|{}][|b\nc][|]", 4);
  /* An unfinished event at the end is not dispatched. */
  sse_all_splits("data: 1\n\ndata: 2\n", "[|1]", 1);
}

static void
test_sse_overflow(void **state)
{
  static struct llm_sse s;
  static char big[LLM_SSE_LINE_MAX + 100];
  struct evlog l = { .n = 0 };
  llm_sse_init(&s);
  memcpy(big, "data: ", 6);
  memset(big + 6, 'x', sizeof big - 6);
  assert_int_equal(llm_sse_feed(&s, big, sizeof big, on_ev, &l), 0);
  assert_int_equal(llm_sse_feed(&s, "\n\ndata: ok\n\n", 12, on_ev, &l), MN_EOVERFLOW);
  l.s[l.n] = 0;
  assert_string_equal(l.s, "[|ok]");
}

/* ---- requests ---------------------------------------------------------- */

static void
test_requests(void **state)
{
  char mem[1024];
  struct llm_buf b;
  struct llm_msg msgs[] = {
    { LLM_MSG_USER, "Hi \"you\"\n", 9 },
    { LLM_MSG_ASSISTANT, "Hello", 5 },
    { LLM_MSG_USER, "\xc3\xa9t\xc3\xa9", 5 },
  };
  struct llm_chat_req r = { .model = "gpt-x", .system = "Be brief.", .msgs = msgs,
                            .n_msgs = 3, .temperature_milli = 700, .max_tokens = 64,
                            .stream = 1 };
  llm_buf_init(&b, mem, sizeof mem);
  assert_int_equal(llm_build_request(LLM_API_OPENAI, &r, &b), MN_OK);
  const char *want_o =
    "{\"model\":\"gpt-x\",\"max_tokens\":64,\"temperature\":0.7,\"stream\":true,"
    "\"stream_options\":{\"include_usage\":true},\"messages\":["
    "{\"role\":\"system\",\"content\":\"Be brief.\"},"
    "{\"role\":\"user\",\"content\":\"Hi \\\"you\\\"\\n\"},"
    "{\"role\":\"assistant\",\"content\":\"Hello\"},"
    "{\"role\":\"user\",\"content\":\"\xc3\xa9t\xc3\xa9\"}]}";
  assert_int_equal(b.len, strlen(want_o));
  assert_memory_equal(mem, want_o, b.len);

  r.temperature_milli = 0;
  r.max_tokens = 0;
  r.stream = 0;
  llm_buf_init(&b, mem, sizeof mem);
  assert_int_equal(llm_build_request(LLM_API_ANTHROPIC, &r, &b), MN_OK);
  const char *want_a =
    "{\"model\":\"gpt-x\",\"max_tokens\":1024,\"system\":\"Be brief.\",\"temperature\":0,"
    "\"messages\":[{\"role\":\"user\",\"content\":\"Hi \\\"you\\\"\\n\"},"
    "{\"role\":\"assistant\",\"content\":\"Hello\"},"
    "{\"role\":\"user\",\"content\":\"\xc3\xa9t\xc3\xa9\"}]}";
  assert_int_equal(b.len, strlen(want_a));
  assert_memory_equal(mem, want_a, b.len);

  /* The llama.cpp capture's request, rebuilt byte for byte (less seed). */
  struct llm_msg once = { LLM_MSG_USER, "Once upon a time", 16 };
  struct llm_chat_req q = { .model = "stories260K", .msgs = &once, .n_msgs = 1,
                            .temperature_milli = 1250, .max_tokens = 16 };
  llm_buf_init(&b, mem, sizeof mem);
  assert_int_equal(llm_build_request(LLM_API_OPENAI, &q, &b), MN_OK);
  const char *want_q = "{\"model\":\"stories260K\",\"max_tokens\":16,\"temperature\":1.25,"
                       "\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}]}";
  assert_int_equal(b.len, strlen(want_q));
  assert_memory_equal(mem, want_q, b.len);

  /* Tools. */
  struct llm_tool_def forth = { "forth", "Run Forth", "{\"type\":\"object\"}" };
  q.tool = &forth;
  llm_buf_init(&b, mem, sizeof mem);
  assert_int_equal(llm_build_request(LLM_API_ANTHROPIC, &q, &b), MN_OK);
  assert_non_null(memmem(mem, b.len, "\"tools\":[{\"name\":\"forth\",\"description\":\"Run Forth\","
                         "\"input_schema\":{\"type\":\"object\"}}]", 83));

  /* Failures: system role to Anthropic, no model, buffer too small. */
  struct llm_msg sys = { LLM_MSG_SYSTEM, "x", 1 };
  struct llm_chat_req bad = { .model = "m", .msgs = &sys, .n_msgs = 1, .temperature_milli = -1 };
  llm_buf_init(&b, mem, sizeof mem);
  assert_int_equal(llm_build_request(LLM_API_ANTHROPIC, &bad, &b), MN_EINVAL);
  bad.model = NULL;
  assert_int_equal(llm_build_request(LLM_API_OPENAI, &bad, &b), MN_EINVAL);
  llm_buf_init(&b, mem, 20);
  assert_int_equal(llm_build_request(LLM_API_OPENAI, &r, &b), MN_ENOSPC);
}

/* ---- the llama.cpp recording ------------------------------------------- */

static void
test_llamacpp_stream(void **state)
{
  size_t rlen, blen, jlen;
  char *raw = slurp(SRV "raw_stream_true.response.raw", &rlen);
  char *body = dechunk(raw, rlen, &blen);
  char *json = slurp(SRV "stream_false.body.json", &jlen);
  (void)json;

  /* The non-streamed answer of the same request (seed 42, temperature 0). */
  size_t flen;
  char *fraw = slurp(SRV "raw_stream_false.response.raw", &flen);
  const char *fbody = strstr(fraw, "\r\n\r\n") + 4;
  static struct llm_stream fst;
  char mem[1024];
  struct llm_buf want;
  llm_buf_init(&want, mem, sizeof mem);
  assert_int_equal(llm_decode_response(LLM_API_OPENAI, fbody, strlen(fbody), &fst, &want), MN_OK);
  assert_true(want.len > 5);
  assert_int_equal(fst.finish, LLM_FIN_LENGTH);
  assert_int_equal(fst.output_tokens, 16);

  /* Whole, then one byte at a time, then every 2-way split. */
  assert_int_equal(decode_split(LLM_API_OPENAI, body, blen, NULL, 0), MN_OK);
  assert_int_equal(got.n, want.len);
  assert_memory_equal(got.s, mem, want.len);
  assert_int_equal(st.finish, LLM_FIN_LENGTH);
  assert_true(st.done);
  uint32_t events = st.events;
  assert_true(events >= 16);

  memset(&got, 0, sizeof got);
  llm_stream_init(&st, LLM_API_OPENAI, on_text, &got);
  for (size_t i = 0; i < blen; i++)
    assert_int_equal(llm_stream_feed(&st, body + i, 1), 0);
  assert_int_equal(llm_stream_end(&st), MN_OK);
  assert_int_equal(got.n, want.len);
  assert_memory_equal(got.s, mem, want.len);

  for (size_t sp = 1; sp < blen; sp++) {
    assert_int_equal(decode_split(LLM_API_OPENAI, body, blen, &sp, 1), MN_OK);
    if (got.n != want.len || memcmp(got.s, mem, want.len) || st.events != events)
      fail_msg("split at %zu: text differs", sp);
    assert_int_equal(st.finish, LLM_FIN_LENGTH);
    assert_int_equal(st.input_tokens, fst.input_tokens);
    assert_int_equal(st.output_tokens, fst.output_tokens);
  }

  /* Cut anywhere before [DONE]: MN_ETRUNC (or OK once the finish reason
   * came), and the text so far is a prefix of the answer. */
  const char *done = memmem(body, blen, "data: [DONE]", 12);
  assert_non_null(done);
  for (size_t cut = 0; cut < (size_t)(done - body); cut += 7) {
    int rc = decode_split(LLM_API_OPENAI, body, cut, NULL, 0);
    assert_true(rc == MN_ETRUNC || (rc == MN_OK && st.finish == LLM_FIN_LENGTH));
    assert_true(got.n <= want.len);
    assert_memory_equal(got.s, mem, got.n);
  }
  free(raw);
  free(body);
  free(json);
  free(fraw);
}

/* ---- OpenAI edge cases ------------------------------------------------- */

static void
test_openai_tools_usage_utf8(void **state)
{
  const char *s =
    ": keep-alive\r\n\r\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"caf\xc3\"}}]}\r\n\r\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\xa9 \xe2\x82\"}}]}\r\n\r\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\xac\\ud83d\\ude00\"}}]}\r\n\r\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\","
    "\"type\":\"function\",\"function\":{\"name\":\"forth\",\"arguments\":\"\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\"{\\\"code\\\": \\\"2 3\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"mystery\":1,\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\" + .\\\"}\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: not json at all\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":9,\"total_tokens\":21}}\n\n"
    "data: [DONE]\n\n";
  size_t len = strlen(s);
  for (size_t sp = 0; sp <= len; sp++) {
    size_t splits[1] = { sp };
    assert_int_equal(decode_split(LLM_API_OPENAI, s, len, splits, (sp > 0 && sp < len)), MN_OK);
    assert_int_equal(got.n, strlen("caf\xc3\xa9 \xe2\x82\xac\xf0\x9f\x98\x80"));
    assert_memory_equal(got.s, "caf\xc3\xa9 \xe2\x82\xac\xf0\x9f\x98\x80", got.n);
    assert_int_equal(st.finish, LLM_FIN_TOOL_CALLS);
    assert_int_equal(st.input_tokens, 12);
    assert_int_equal(st.output_tokens, 9);
    assert_int_equal(st.bad_events, 1);
    assert_int_equal(st.n_tools, 1);
    assert_string_equal(st.tools[0].name, "forth");
    assert_string_equal(st.tools[0].id, "call_1");
    assert_string_equal(st.tools[0].args, "{\"code\": \"2 3 + .\"}");
  }
}

static void
test_openai_error_event(void **state)
{
  const char *s = "data: {\"choices\":[{\"delta\":{\"content\":\"par\"}}]}\n\n"
                  "data: {\"error\":{\"message\":\"context too long\",\"type\":\"invalid_request_error\"}}\n\n"
                  "data: {\"choices\":[{\"delta\":{\"content\":\"tial\"}}]}\n\n";
  assert_int_equal(decode_split(LLM_API_OPENAI, s, strlen(s), NULL, 0), MN_ESERVICE);
  assert_int_equal(got.n, 3);
  assert_string_equal(st.error.message, "context too long");
  assert_int_equal(st.error.kind, LLM_ERR_BAD_REQUEST);
  assert_int_equal(llm_stream_end(&st), MN_ESERVICE);
}

/* ---- Anthropic --------------------------------------------------------- */

static const char anthropic_stream[] =
  "event: message_start\r\n"
  "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
  "\"content\":[],\"model\":\"claude-x\",\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\r\n\r\n"
  "event: content_block_start\r\n"
  "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\r\n\r\n"
  "event: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n"
  "event: content_block_delta\r\n"
  "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello \xe4\xb8\"}}\r\n\r\n"
  "event: content_block_delta\r\n"
  "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"hmm\"}}\r\n\r\n"
  "event: content_block_delta\r\n"
  "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\x96\\u754c!\"}}\r\n\r\n"
  "event: content_block_stop\r\ndata: {\"type\":\"content_block_stop\",\"index\":0}\r\n\r\n"
  "event: content_block_start\n"
  "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_9\","
  "\"name\":\"forth\",\"input\":{}}}\n\n"
  "event: content_block_delta\n"
  "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\n\n"
  "event: content_block_delta\n"
  "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"code\\\": \\\"1 2\"}}\n\n"
  "event: new_future_event\ndata: {\"type\":\"new_future_event\",\"x\":[1,2]}\n\n"
  "event: content_block_delta\n"
  "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\" + .\\\"}\"}}\n\n"
  "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
  "event: message_delta\n"
  "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n"
  "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

static void
test_anthropic_stream(void **state)
{
  size_t len = sizeof anthropic_stream - 1;
  const char *want = "Hello \xe4\xb8\x96\xe7\x95\x8c!";
  for (size_t sp = 0; sp <= len; sp++) {
    size_t splits[1] = { sp };
    assert_int_equal(decode_split(LLM_API_ANTHROPIC, anthropic_stream, len, splits,
                                  sp > 0 && sp < len), MN_OK);
    assert_int_equal(got.n, strlen(want));
    assert_memory_equal(got.s, want, got.n);
    assert_int_equal(st.finish, LLM_FIN_TOOL_CALLS);
    assert_string_equal(st.finish_raw, "tool_use");
    assert_int_equal(st.input_tokens, 25);
    assert_int_equal(st.output_tokens, 15);
    assert_int_equal(st.n_tools, 1);
    assert_string_equal(st.tools[0].id, "toolu_9");
    assert_string_equal(st.tools[0].name, "forth");
    assert_string_equal(st.tools[0].args, "{\"code\": \"1 2 + .\"}");
  }
  /* One byte at a time. */
  memset(&got, 0, sizeof got);
  llm_stream_init(&st, LLM_API_ANTHROPIC, on_text, &got);
  for (size_t i = 0; i < len; i++)
    assert_int_equal(llm_stream_feed(&st, anthropic_stream + i, 1), 0);
  assert_int_equal(llm_stream_end(&st), MN_OK);
  assert_memory_equal(got.s, want, strlen(want));

  /* Dropped before message_stop: MN_ETRUNC, the text so far kept; a
   * character cut in half at the end shows as U+FFFD. */
  const char *cut = strstr(anthropic_stream, "\x96\\u754c");
  const char *ev_end = strstr(cut, "\r\n\r\n") + 4;
  assert_int_equal(decode_split(LLM_API_ANTHROPIC, anthropic_stream,
                                (size_t)(cut - anthropic_stream) + 1, NULL, 0), MN_ETRUNC);
  assert_string_equal((got.s[got.n] = 0, got.s), "Hello \xef\xbf\xbd");
  assert_int_equal(decode_split(LLM_API_ANTHROPIC, anthropic_stream,
                                (size_t)(ev_end - anthropic_stream), NULL, 0), MN_ETRUNC);
  got.s[got.n] = 0;
  assert_string_equal(got.s, want);
}

static void
test_anthropic_error_event(void **state)
{
  const char *s = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n"
                  "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", "
                  "\"message\": \"Overloaded\"}}\n\n";
  assert_int_equal(decode_split(LLM_API_ANTHROPIC, s, strlen(s), NULL, 0), MN_ESERVICE);
  assert_int_equal(st.error.kind, LLM_ERR_OVERLOADED);
  assert_int_equal(st.error.code, MN_EBUSY);
  assert_string_equal(st.error.type, "overloaded_error");
  assert_string_equal(st.error.message, "Overloaded");
}

static void
test_anthropic_response(void **state)
{
  const char *b = "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":["
                  "{\"type\":\"text\",\"text\":\"Let me \\\"compute\\\".\"},"
                  "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"forth\",\"input\":{\"code\":\"2 3 + .\"}}],"
                  "\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":10,\"output_tokens\":20}}";
  static struct llm_stream s;
  char mem[128];
  struct llm_buf out;
  llm_buf_init(&out, mem, sizeof mem);
  assert_int_equal(llm_decode_response(LLM_API_ANTHROPIC, b, strlen(b), &s, &out), MN_OK);
  assert_int_equal(out.len, 17);
  assert_memory_equal(mem, "Let me \"compute\".", 17);
  assert_int_equal(s.finish, LLM_FIN_TOOL_CALLS);
  assert_int_equal(s.input_tokens, 10);
  assert_int_equal(s.output_tokens, 20);
  assert_string_equal(s.tools[0].args, "{\"code\":\"2 3 + .\"}");
  llm_buf_init(&out, mem, sizeof mem);
  assert_int_equal(llm_decode_response(LLM_API_ANTHROPIC, "[1]", 3, &s, &out), MN_EDECODE);
  assert_int_equal(llm_decode_response(LLM_API_OPENAI, "{\"x\":1}", 7, &s, &out), MN_EDECODE);
  assert_int_equal(llm_decode_response(LLM_API_OPENAI, "{\"x\":", 5, &s, &out), MN_EDECODE);
}

/* ---- HTTP errors ------------------------------------------------------- */

static void
test_http_errors(void **state)
{
  struct llm_api_error e;
  const char *oa = "{\"error\":{\"message\":\"Incorrect API key provided: sk-...abcd.\","
                   "\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}";
  llm_decode_error(401, NULL, oa, strlen(oa), &e);
  assert_int_equal(e.kind, LLM_ERR_AUTH);
  assert_int_equal(e.code, MN_EACCESS);
  assert_string_equal(e.message, "Incorrect API key provided: sk-...abcd.");
  assert_string_equal(e.type, "invalid_request_error");

  const char *an = "{\"type\":\"error\",\"error\":{\"type\":\"permission_error\",\"message\":\"no \\u00e9 access\"}}";
  llm_decode_error(403, NULL, an, strlen(an), &e);
  assert_int_equal(e.kind, LLM_ERR_FORBIDDEN);
  assert_string_equal(e.message, "no \xc3\xa9 access");

  const char *nf = "{\"error\":{\"code\":404,\"message\":\"model not found\",\"type\":\"not_found_error\"}}";
  llm_decode_error(404, NULL, nf, strlen(nf), &e);
  assert_int_equal(e.code, MN_ENOENT);
  assert_string_equal(e.message, "model not found");

  const char *rl = "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\"}}";
  llm_decode_error(429, " 17 ", rl, strlen(rl), &e);
  assert_int_equal(e.kind, LLM_ERR_RATE_LIMIT);
  assert_int_equal(e.code, MN_EBUSY);
  assert_int_equal(e.retry_after_s, 17);
  llm_decode_error(429, "Wed, 21 Oct 2015 07:28:00 GMT", rl, strlen(rl), &e);
  assert_int_equal(e.retry_after_s, 0);
  llm_decode_error(429, "99999999999999999999", rl, strlen(rl), &e);
  assert_int_equal(e.retry_after_s, 86400);

  const char *se = "{\"error\":\"upstream exploded\"}";
  llm_decode_error(502, NULL, se, strlen(se), &e);
  assert_int_equal(e.kind, LLM_ERR_SERVER);
  assert_int_equal(e.code, MN_EIO);
  assert_string_equal(e.message, "upstream exploded");

  const char *html = "<html>\r\n<h1>503 Service Unavailable</h1></html>";
  llm_decode_error(503, "5", html, strlen(html), &e);
  assert_int_equal(e.kind, LLM_ERR_SERVER);
  assert_int_equal(e.retry_after_s, 5);
  assert_string_equal(e.message, "<html>  <h1>503 Service Unavailable</h1></html>");

  llm_decode_error(500, NULL, NULL, 0, &e);
  assert_string_equal(e.message, "");
  static char longmsg[2000];
  memset(longmsg, 'z', sizeof longmsg);
  llm_decode_error(500, NULL, longmsg, sizeof longmsg, &e);
  assert_int_equal(strlen(e.message), LLM_ERR_MSG_MAX - 1);
  /* A long JSON message is cut at a character boundary. */
  static char longjson[2000];
  size_t k = (size_t)snprintf(longjson, sizeof longjson, "{\"error\":{\"message\":\"x");
  for (int i = 0; i < 200; i++)
    k += (size_t)snprintf(longjson + k, sizeof longjson - k, "\xe2\x82\xac");
  k += (size_t)snprintf(longjson + k, sizeof longjson - k, "\"}}");
  llm_decode_error(500, NULL, longjson, k, &e);
  assert_int_equal(strlen(e.message), 1 + 3 * ((LLM_ERR_MSG_MAX - 2) / 3));
  assert_memory_equal(e.message + strlen(e.message) - 3, "\xe2\x82\xac", 3);
}

static void
test_curl_capture(void **state)
{
  /* curl's de-chunked body of the same request (another run, same seed). */
  size_t blen, flen;
  char *body = slurp(SRV "curl_stream_true.body", &blen);
  char *fraw = slurp(SRV "raw_stream_false.response.raw", &flen);
  const char *fbody = strstr(fraw, "\r\n\r\n") + 4;
  static struct llm_stream fst;
  char mem[1024];
  struct llm_buf want;
  llm_buf_init(&want, mem, sizeof mem);
  assert_int_equal(llm_decode_response(LLM_API_OPENAI, fbody, strlen(fbody), &fst, &want), MN_OK);
  for (size_t sp = 1; sp < blen; sp += 3) {
    assert_int_equal(decode_split(LLM_API_OPENAI, body, blen, &sp, 1), MN_OK);
    assert_int_equal(got.n, want.len);
    assert_memory_equal(got.s, mem, want.len);
  }
  free(body);
  free(fraw);
}

static void
test_big_event(void **state)
{
  /* An event with more JSON tokens than LLM_JSON_TOKENS is skipped and
   * reported; the events after it in the same read still count. */
  static char s[16384];
  size_t n = (size_t)snprintf(s, sizeof s, "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"x\":[");
  for (int i = 0; i < LLM_JSON_TOKENS + 10; i++)
    n += (size_t)snprintf(s + n, sizeof s - n, "%s1", i ? "," : "");
  n += (size_t)snprintf(s + n, sizeof s - n, "]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"b\"},"
                        "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
  memset(&got, 0, sizeof got);
  llm_stream_init(&st, LLM_API_OPENAI, on_text, &got);
  assert_int_equal(llm_stream_feed(&st, s, n), MN_EOVERFLOW);
  assert_int_equal(st.big_events, 1);
  assert_int_equal(llm_stream_end(&st), MN_OK);
  assert_int_equal(got.n, 1);
  assert_int_equal(got.s[0], 'b');
}

struct models {
  char names[512];
  size_t n;
};

static void
on_model(void *ctx, const char *id)
{
  struct models *m = ctx;
  m->n += (size_t)snprintf(m->names + m->n, sizeof m->names - m->n, "%s;", id);
}

static void
test_models(void **state)
{
  int tok[64 * 4];
  struct models m = { .n = 0 };
  const char *oa = "{\"object\":\"list\",\"data\":[{\"id\":\"gpt-4o\",\"object\":\"model\",\"owned_by\":\"x\"},"
                   "{\"id\":\"o\\u00e9\",\"object\":\"model\"},{\"object\":\"model\"}]}";
  assert_int_equal(llm_decode_models(oa, strlen(oa), tok, 64, on_model, &m), 2);
  assert_string_equal(m.names, "gpt-4o;o\xc3\xa9;");
  const char *an = "{\"data\":[{\"type\":\"model\",\"id\":\"claude-x\",\"display_name\":\"Claude X\"}],"
                   "\"has_more\":false,\"first_id\":\"claude-x\"}";
  m.n = 0;
  assert_int_equal(llm_decode_models(an, strlen(an), tok, 64, on_model, &m), 1);
  assert_string_equal(m.names, "claude-x;");
  assert_int_equal(llm_decode_models("{\"data\":{}}", 11, tok, 64, NULL, NULL), MN_EDECODE);
  assert_int_equal(llm_decode_models("[", 1, tok, 64, NULL, NULL), MN_EDECODE);
}

static void
test_invalid_utf8(void **state)
{
  /* Invalid bytes and broken sequences become U+FFFD; deltas stay whole. */
  const char *s =
    "data: {\"choices\":[{\"delta\":{\"content\":\"a\xff" "b\xe4\"}}]}\n\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"c\xed\xa0\x80\xf0\x9f\"}}]}\n\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"\x98\"}}]}\n\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"\x80!\xc3\"}}]}\n\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"\xc3\"}}]}\n\n"
    "data: [DONE]\n\n";
  const char *want = "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                     "\xf0\x9f\x98\x80!\xef\xbf\xbd\xef\xbf\xbd";
  assert_int_equal(decode_split(LLM_API_OPENAI, s, strlen(s), NULL, 0), MN_OK);
  got.s[got.n] = 0;
  assert_string_equal(got.s, want);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_escape),
    cmocka_unit_test(test_unescape),
    cmocka_unit_test(test_sse),
    cmocka_unit_test(test_sse_overflow),
    cmocka_unit_test(test_requests),
    cmocka_unit_test(test_llamacpp_stream),
    cmocka_unit_test(test_openai_tools_usage_utf8),
    cmocka_unit_test(test_openai_error_event),
    cmocka_unit_test(test_anthropic_stream),
    cmocka_unit_test(test_anthropic_error_event),
    cmocka_unit_test(test_anthropic_response),
    cmocka_unit_test(test_http_errors),
    cmocka_unit_test(test_curl_capture),
    cmocka_unit_test(test_big_event),
    cmocka_unit_test(test_models),
    cmocka_unit_test(test_invalid_utf8),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
