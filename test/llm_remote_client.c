/*
 * llm_remote_client.c: a hosted kernel in a process, with llm-remote over
 * test/http_posix.c (plain HTTP to 127.0.0.1), asking one question: the
 * driver of test/llm_remote_mock.py (the Python mock servers) and of
 * bench/llm_stream.sh. Not a unit test by itself.
 *
 *   llm_remote_client BASE_URL PROVIDER STREAM(0/1) TOOLS(0/1) TIMEOUT_MS QUESTION [models]
 *
 * stdout: the answer as it streams, the tool markers shown as <CODE>,
 * <OUT>, <END>; then a line "@@ FINISH <stop|length|cancelled|error>
 * in=N out=N detail=..." or "@@ ERROR <code> retry=N msg=...". With
 * LLM_CLIENT_TIMES=1, stderr gets "@@T <CLOCK_MONOTONIC ns> <bytes so
 * far>" for every piece read from the ring, and "@@T0 <ns>" when the
 * request was sent. "models" lists the models instead ("@@ MODEL id").
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ktest.h"
#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/kchannel.h"
#include "mneme/llm.h"
#include "mneme/registry.h"

static uint64_t
mono_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
  if (argc < 7) {
    fprintf(stderr, "usage: %s BASE_URL PROVIDER STREAM TOOLS TIMEOUT_MS QUESTION [models]\n", argv[0]);
    return 2;
  }
  int times = getenv("LLM_CLIENT_TIMES") && atoi(getenv("LLM_CLIENT_TIMES"));
  ktest_boot(32u << 20);
  const char *key = getenv("LLM_API_KEY");
  struct llm_remote_config c = { .provider = argv[2], .base_url = argv[1], .api_key = key,
                                 .model = "mock-model", .temperature = -1.0f,
                                 .max_tokens = 64, .stream = (uint8_t)atoi(argv[3]),
                                 .timeout_ms = (uint32_t)atoi(argv[5]) };
  int rc = llm_remote_start(&c);
  if (rc) {
    printf("@@ ERROR %d retry=0 msg=bad configuration\n", rc);
    return 0;
  }
  if (argc > 7 && !strcmp(argv[7], "models")) {
    char buf[4096], why[128];
    int n = llm_remote_models(buf, sizeof buf, why, sizeof why);
    if (n < 0) {
      printf("@@ ERROR %d retry=0 msg=%s\n", n, why);
      return 0;
    }
    for (size_t off = 0; n-- > 0; off += strlen(buf + off) + 1)
      printf("@@ MODEL %s\n", buf + off);
    return 0;
  }
  static const struct svc_type type = LLM_SVC_TYPE;
  struct svc_client cl;
  struct llm_error e;
  if (svc_connect(&LLM_REMOTE_UUID, &type, NULL, &e, 0, &cl))
    return 3;
  struct bbq ring;
  struct kchannel ch;
  size_t rsize = svc_reply_size(&type);
  if (bbq_init(&ring, 4096) || kchannel_init(&ch, rsize, 1))
    return 3;
  struct llm_message m = { LLM_ROLE_USER, argv[6], strlen(argv[6]) };
  struct llm_request q;
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_GENERATE;
  q.flags = atoi(argv[4]) ? LLM_TOOLS : 0;
  q.messages = &m;
  q.n_messages = 1;
  q.out = &ring;
  uint32_t rid;
  if (times)
    fprintf(stderr, "@@T0 %llu\n", (unsigned long long)mono_ns());
  if (svc_send(&cl, &q, &ch, &rid, MN_SEC(5)))
    return 3;
  size_t total = 0;
  for (;;) {
    const uint8_t *p;
    size_t got;
    rc = bbq_read_grant(&ring, MN_SEC(120), &p, &got);
    if (rc)
      break;
    total += got;
    if (times)
      fprintf(stderr, "@@T %llu %zu\n", (unsigned long long)mono_ns(), total);
    for (size_t i = 0; i < got; i++) {
      if (p[i] == LLM_MARK_CODE)
        fputs("<CODE>", stdout);
      else if (p[i] == LLM_MARK_OUTPUT)
        fputs("<OUT>", stdout);
      else if (p[i] == LLM_MARK_END)
        fputs("<END>", stdout);
      else
        putchar(p[i]);
    }
    fflush(stdout);
    bbq_release(&ring, got);
  }
  uint8_t *reply = malloc(rsize);
  if (!reply || kchannel_recv(&ch, reply, MN_SEC(120)))
    return 4;
  const struct svc_reply *r = (const struct svc_reply *)reply;
  if (r->status == MN_ESERVICE) {
    const struct llm_error *le = (const void *)r->body;
    printf("\n@@ ERROR %d retry=%u msg=%s\n", le->code, le->retry_after_s, le->message);
  } else if (r->status) {
    printf("\n@@ ERROR %d retry=0 msg=transport\n", r->status);
  } else {
    const struct llm_response *lr = (const void *)r->body;
    static const char *const fin[] = { "none", "stop", "length", "cancelled", "error" };
    printf("\n@@ FINISH %s in=%u out=%u detail=%s\n", lr->finish < 5 ? fin[lr->finish] : "?",
           lr->usage.prompt_tokens, lr->usage.completion_tokens, lr->detail);
  }
  free(reply);
  return 0;
}
