/*
 * llm_local_test.c: the llm-local service (llm/llm_local.c) on the hosted
 * kernel, through the `llm` interface (include/mneme/llm.h), with
 * stories260K: a raw greedy continuation equals the engine's own (the
 * library called directly); conversations reuse their KV cache; cancel by
 * closing the ring; old turns dropped when the context is full; prompts
 * that cannot fit, too many conversations, no memory and bad requests get
 * their error codes; llm_local_load refuses while a conversation is open,
 * keeps the old model when the new one is bad, and replaces it (calling
 * the old one's release hook) otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ktest.h"
#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/gguf.h"
#include "mneme/kchannel.h"
#include "mneme/llama.h"
#include "mneme/llm.h"
#include "mneme/registry.h"
#include "mneme/sample.h"
#include "mneme/tokenizer.h"

static struct gguf_map model;
static int have_model;

static const char *
model_path(void)
{
  const char *p = getenv("LLM_MODELS");
  static char buf[512];
  snprintf(buf, sizeof buf, "%s/stories260K-f32.gguf",
           p ? p : "../shared/testdata/llm/models");
  return buf;
}

/* A fresh kernel with llm-local over the model. */
static void
start(uint32_t n_ctx, uint32_t max_conv, size_t reserve)
{
  if (!have_model)
    skip();
  ktest_boot(48u << 20);
  struct llm_local_config c = { .gguf = model.addr, .gguf_size = model.size,
                                .file_name = "stories260K-f32.gguf", .n_ctx = n_ctx,
                                .max_conversations = max_conv, .mem_reserve = reserve };
  const char *why = NULL;
  assert_int_equal(llm_local_start(&c, &why), 0);
}

struct result {
  int status;                 /* 0, MN_ESERVICE (err), other: transport */
  struct llm_response r;
  struct llm_error e;
  char text[4096];
  size_t len;
};

static struct svc_client client;

static void
connect_llm(void)
{
  static const struct svc_type type = LLM_SVC_TYPE;
  assert_int_equal(svc_connect(&LLM_LOCAL_UUID, &type, NULL, NULL, MN_SEC(5), &client), 0);
}

/*
 * Sends q (with a ring of ring_cap bytes when it generates), reads the
 * stream (closing the ring after cancel_after bytes, if > 0), then the
 * reply.
 */
static void
call(struct llm_request *q, size_t ring_cap, size_t cancel_after, struct result *res)
{
  static const struct svc_type type = LLM_SVC_TYPE;
  memset(res, 0, sizeof *res);
  struct bbq ring;
  struct kchannel ch;
  size_t rsize = svc_reply_size(&type);
  uint8_t *reply = malloc(rsize);
  assert_non_null(reply);
  assert_int_equal(bbq_init(&ring, ring_cap), 0);
  assert_int_equal(kchannel_init(&ch, rsize, 1), 0);
  if (q->op == LLM_OP_GENERATE && !q->out)
    q->out = &ring;
  uint32_t rid;
  assert_int_equal(svc_send(&client, q, &ch, &rid, MN_SEC(5)), 0);
  if (q->out == &ring) {
    for (;;) {
      const uint8_t *p;
      size_t n;
      int rc = bbq_read_grant(&ring, MN_SEC(60), &p, &n);
      if (rc)
        break;
      if (res->len + n < sizeof res->text) {
        memcpy(res->text + res->len, p, n);
        res->len += n;
      }
      bbq_release(&ring, n);
      if (cancel_after && res->len >= cancel_after) {
        bbq_close(&ring);
        break;
      }
    }
  }
  assert_int_equal(kchannel_recv(&ch, reply, MN_SEC(120)), 0);
  const struct svc_reply *r = (const struct svc_reply *)reply;
  res->status = r->status;
  if (r->status == 0)
    memcpy(&res->r, r->body, sizeof res->r);
  else if (r->status == MN_ESERVICE)
    memcpy(&res->e, r->body, sizeof res->e);
  res->text[res->len] = 0;
  if (res->status)
    print_message("# llm-local: status %d, error %d: %s\n", res->status, res->e.code,
                  res->e.message);
  kchannel_destroy(&ch);
  bbq_destroy(&ring);
  free(reply);
}

static void
raw_request(struct llm_request *q, struct llm_message *m, const char *text, uint32_t n)
{
  memset(q, 0, sizeof *q);
  m->role = LLM_ROLE_USER;
  m->text = text;
  m->len = strlen(text);
  q->op = LLM_OP_GENERATE;
  q->flags = LLM_RAW;
  q->max_tokens = n;
  q->messages = m;
  q->n_messages = 1;
  llm_sampling_greedy(&q->sampling);
}

/* The greedy continuation computed with the library directly. */
static void
reference(const char *prompt, int n, char *out, size_t cap)
{
  struct gguf_file f;
  assert_int_equal(gguf_open(&f, model.addr, model.size), 0);
  struct tokenizer t;
  assert_int_equal(tok_init(&t, &f, &tok_malloc), 0);
  int32_t ids[256];
  size_t nids = 0;
  assert_int_equal(tok_encode(&t, prompt, strlen(prompt), TOK_ADD_SPECIAL, ids, 256, &nids), 0);
  struct llama_model m;
  struct llama_opts o = { .n_ctx = 256, .no_repack = 1 };
  assert_int_equal(llama_build(&m, &f, &o, &infer_alloc_libc), 0);
  assert_int_equal(llama_forward(&m, ids, (int)nids), 0);
  struct tok_stream st = { { 0 }, 0 };
  size_t len = 0;
  char buf[1024];
  for (int k = 0; k < n; k++) {
    int32_t next = sample_argmax(m.s.logits, m.c.vocab);
    if (tok_is_eog(&t, next))
      break;
    int w = tok_stream_put(&t, &st, next, 0, buf, sizeof buf);
    assert_true(w >= 0 && len + (size_t)w < cap);
    memcpy(out + len, buf, (size_t)w);
    len += (size_t)w;
    if (k + 1 < n)
      assert_int_equal(llama_forward(&m, &next, 1), 0);
  }
  int w = tok_stream_flush(&st, buf, sizeof buf);
  if (w > 0) {
    memcpy(out + len, buf, (size_t)w);
    len += (size_t)w;
  }
  out[len] = 0;
  llama_free(&m);
  tok_free(&t);
}

static void
test_raw_equals_library(void **state)
{
  (void)state;
  start(256, 4, 0);
  connect_llm();
  struct llm_request q;
  struct llm_message m;
  struct result res;
  raw_request(&q, &m, "Once upon a time", 40);
  call(&q, 64, 0, &res); /* a small ring: the generation waits for the reader */
  assert_int_equal(res.status, 0);
  char want[4096];
  reference("Once upon a time", 40, want, sizeof want);
  assert_string_equal(res.text, want);
  assert_int_equal(res.r.finish, LLM_FINISH_LENGTH);
  assert_int_equal(res.r.usage.completion_tokens, 40);
  assert_true(res.r.usage.prompt_tokens >= 4);
  /* INFO */
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_INFO;
  call(&q, 16, 0, &res);
  assert_int_equal(res.status, 0);
  assert_int_equal(res.r.n_ctx, 256);
  assert_string_equal(res.r.chat_template, "chatml");
  assert_true(res.r.model[0] != 0);
  svc_disconnect(&client);
}

static void
test_conversation_reuses_cache(void **state)
{
  (void)state;
  start(256, 4, 0);
  connect_llm();
  struct llm_request q;
  struct result res;
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_OPEN;
  call(&q, 16, 0, &res);
  assert_int_equal(res.status, 0);
  uint32_t conv = res.r.conv;
  assert_true(conv != 0);
  struct llm_message msgs[3] = { { LLM_ROLE_USER, "Tell me a story.", 16 } };
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_GENERATE;
  q.conv = conv;
  q.max_tokens = 12;
  q.messages = msgs;
  q.n_messages = 1;
  llm_sampling_greedy(&q.sampling);
  call(&q, 256, 0, &res);
  assert_int_equal(res.status, 0);
  assert_int_equal(res.r.usage.cached_tokens, 0);
  uint32_t first = res.r.usage.prompt_tokens;
  assert_true(first > 4);
  char answer[4096];
  memcpy(answer, res.text, res.len + 1);
  msgs[1] = (struct llm_message){ LLM_ROLE_ASSISTANT, answer, strlen(answer) };
  msgs[2] = (struct llm_message){ LLM_ROLE_USER, "And then?", 9 };
  q.n_messages = 3;
  q.out = NULL;
  call(&q, 256, 0, &res);
  assert_int_equal(res.status, 0);
  assert_true(res.r.usage.prompt_tokens > first);
  assert_true(res.r.usage.cached_tokens >= first - 1); /* the first turn was kept */
  /* Sampling with a seed: the same seed gives the same text. */
  struct llm_request s = q;
  llm_sampling_default(&s.sampling);
  s.sampling.seed = 42;
  s.out = NULL;
  struct result a, b;
  call(&s, 256, 0, &a);
  s.out = NULL;
  call(&s, 256, 0, &b);
  assert_int_equal(a.status, 0);
  assert_string_equal(a.text, b.text);
  /* CLOSE, then it is gone */
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_CLOSE;
  q.conv = conv;
  call(&q, 16, 0, &res);
  assert_int_equal(res.status, 0);
  call(&q, 16, 0, &res);
  assert_int_equal(res.status, MN_ESERVICE);
  assert_int_equal(res.e.code, MN_ENOENT);
  svc_disconnect(&client);
}

static void
test_cancel(void **state)
{
  (void)state;
  start(256, 4, 0);
  connect_llm();
  struct llm_request q;
  struct llm_message m;
  struct result res;
  raw_request(&q, &m, "Once upon a time", 200);
  call(&q, 16, 8, &res);
  assert_int_equal(res.status, 0);
  assert_int_equal(res.r.finish, LLM_FINISH_CANCELLED);
  assert_true(res.r.usage.completion_tokens < 200);
  /* The service still serves. */
  raw_request(&q, &m, "Once upon a time", 4);
  call(&q, 256, 0, &res);
  assert_int_equal(res.status, 0);
  assert_int_equal(res.r.finish, LLM_FINISH_LENGTH);
  svc_disconnect(&client);
}

static void
test_context_full(void **state)
{
  (void)state;
  start(256, 4, 0);
  connect_llm();
  static const char *turn = "The little dog ran to the park and played with a red ball all day.";
  struct llm_message msgs[7];
  for (int i = 0; i < 7; i++)
    msgs[i] = (struct llm_message){ i % 2 ? LLM_ROLE_ASSISTANT : LLM_ROLE_USER, turn, strlen(turn) };
  struct llm_request q;
  struct result res;
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_GENERATE;
  q.max_tokens = 4;
  q.messages = msgs;
  q.n_messages = 7;
  llm_sampling_greedy(&q.sampling);
  call(&q, 256, 0, &res);
  assert_int_equal(res.status, 0);
  assert_true(res.r.usage.dropped_messages > 0);
  assert_true(res.r.usage.prompt_tokens + 1 <= 256);
  /* One raw text longer than the context cannot be shortened. */
  char big[4096];
  memset(big, 0, sizeof big);
  for (int i = 0; i < 200; i++)
    strcat(big, "a dog ran. ");
  struct llm_message m;
  raw_request(&q, &m, big, 4);
  call(&q, 256, 0, &res);
  assert_int_equal(res.status, MN_ESERVICE);
  assert_int_equal(res.e.code, MN_ENOSPC);
  svc_disconnect(&client);
}

static void
test_limits_and_bad_requests(void **state)
{
  (void)state;
  start(256, 2, 0);
  connect_llm();
  struct llm_request q;
  struct result res;
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_OPEN;
  call(&q, 16, 0, &res);
  assert_int_equal(res.status, 0);
  call(&q, 16, 0, &res);
  assert_int_equal(res.status, 0);
  call(&q, 16, 0, &res);
  assert_int_equal(res.status, MN_ESERVICE);
  assert_int_equal(res.e.code, MN_EBUSY);
  /* no messages */
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_GENERATE;
  q.max_tokens = 4;
  call(&q, 16, 0, &res);
  assert_int_equal(res.status, MN_ESERVICE);
  assert_int_equal(res.e.code, MN_EINVAL);
  /* unknown conversation, unknown op */
  struct llm_message m = { LLM_ROLE_USER, "hi", 2 };
  q.messages = &m;
  q.n_messages = 1;
  q.conv = 12345;
  call(&q, 16, 0, &res);
  assert_int_equal(res.e.code, MN_ENOENT);
  memset(&q, 0, sizeof q);
  q.op = 99;
  call(&q, 16, 0, &res);
  assert_int_equal(res.e.code, MN_EINVAL);
  svc_disconnect(&client);
  /* A reserve larger than the heap: no memory for a conversation. */
  start(256, 2, 48u << 20);
  connect_llm();
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_OPEN;
  call(&q, 16, 0, &res);
  assert_int_equal(res.status, MN_ESERVICE);
  assert_int_equal(res.e.code, MN_ENOMEM);
  svc_disconnect(&client);
}

static int releases;
static const void *released;

static void
count_release(const void *p, size_t n)
{
  (void)n;
  releases++;
  released = p;
}

static void
test_load_replaces(void **state)
{
  (void)state;
  start(256, 4, 0);
  connect_llm();
  struct llm_request q;
  struct llm_message m;
  struct result res;
  raw_request(&q, &m, "Once upon a time", 12);
  llm_sampling_greedy(&q.sampling);
  call(&q, 256, 0, &res);
  assert_int_equal(res.status, 0);
  char before[4096];
  memcpy(before, res.text, res.len + 1);
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_OPEN;
  call(&q, 16, 0, &res);
  assert_int_equal(res.status, 0);
  uint32_t conv = res.r.conv;
  struct llm_local_config c = { .gguf = model.addr, .gguf_size = model.size,
                                .file_name = "again.gguf", .release = count_release };
  const char *why = NULL;
  releases = 0;
  assert_int_equal(llm_local_load(&c, &why), MN_EBUSY);
  assert_non_null(strstr(why, "conversations are open"));
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_CLOSE;
  q.conv = conv;
  call(&q, 16, 0, &res);
  assert_int_equal(res.status, 0);
  /* not a model: refused, the old one still serves */
  static const uint8_t junk[64] = "GGUF\3\0\0\0";
  struct llm_local_config bad = { .gguf = junk, .gguf_size = sizeof junk, .release = count_release };
  assert_true(llm_local_load(&bad, &why) < 0);
  assert_non_null(why);
  raw_request(&q, &m, "Once upon a time", 12);
  llm_sampling_greedy(&q.sampling);
  call(&q, 256, 0, &res);
  assert_int_equal(res.status, 0);
  assert_string_equal(res.text, before);
  /* replaced: start()'s model had no release hook; the next one's runs */
  assert_int_equal(llm_local_load(&c, &why), 0);
  assert_int_equal(releases, 0);
  struct llm_local_config c2 = c;
  c2.release = NULL;
  assert_int_equal(llm_local_load(&c2, &why), 0);
  assert_int_equal(releases, 1);
  assert_ptr_equal(released, model.addr);
  call(&q, 256, 0, &res);
  assert_int_equal(res.status, 0);
  assert_string_equal(res.text, before);
  svc_disconnect(&client);
}

int
main(void)
{
  have_model = gguf_map_file(&model, model_path()) == 0;
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_raw_equals_library),
    cmocka_unit_test(test_conversation_reuses_cache),
    cmocka_unit_test(test_cancel),
    cmocka_unit_test(test_context_full),
    cmocka_unit_test(test_limits_and_bad_requests),
    cmocka_unit_test(test_load_replaces),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
