/*
 * llm_words.c: the Forth word GENERATE ( c-addr u n -- ), a client of the
 * `llm` interface: the greedy continuation of the text, n tokens at
 * most, printed on the VM's terminal as it streams from llm-local.
 *
 * The VM's task waits for the stream (other tasks and VMs keep running);
 * the generation itself runs on llm-local's task. Output: a new line, the
 * continuation, a new line (like mneme-infer's stdout); errors print
 * "GENERATE: ..." instead.
 *
 * Interface: llm_word_generate.
 */
#include <string.h>

#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/forth.h"
#include "mneme/forth_task.h"
#include "mneme/kchannel.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/llm.h"
#include "mneme/registry.h"

#define CHUNK_TIMEOUT MN_SEC(300) /* no text for this long: give up */

static void say(struct forth_task *ft, const char *s) {
  forth_task_out(ft, s, strlen(s));
}

static void say_err(struct forth_task *ft, const char *what, int code, const char *msg) {
  say(ft, "GENERATE: ");
  say(ft, what);
  say(ft, ": ");
  say(ft, msg && *msg ? msg : mn_strerror(code));
  say(ft, "\n");
}

static int generate(struct forth_task *ft, const char *text, size_t len, uint32_t n) {
  static const struct svc_type type = LLM_SVC_TYPE;
  struct svc_client c;
  struct llm_error e;
  memset(&e, 0, sizeof e);
  int rc = svc_connect(&LLM_LOCAL_UUID, &type, NULL, &e, 0, &c);
  if (rc) {
    say_err(ft, "llm-local", rc, rc == MN_ENOENT ? "no model loaded" : NULL);
    return 0;
  }
  struct bbq ring;
  struct kchannel ch;
  size_t rsize = svc_reply_size(&type);
  uint8_t *reply = kmalloc(rsize);
  int have_ring = 0, have_ch = 0;
  if (!reply || bbq_init(&ring, 2048) != 0) {
    say_err(ft, "memory", MN_ENOMEM, NULL);
    goto done;
  }
  have_ring = 1;
  if (kchannel_init(&ch, rsize, 1) != 0) {
    say_err(ft, "memory", MN_ENOMEM, NULL);
    goto done;
  }
  have_ch = 1;
  struct llm_message msg = {LLM_ROLE_USER, text, len};
  struct llm_request q;
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_GENERATE;
  q.flags = LLM_RAW;
  q.max_tokens = n;
  q.messages = &msg;
  q.n_messages = 1;
  llm_sampling_greedy(&q.sampling);
  q.out = &ring;
  uint32_t rid;
  if ((rc = svc_send(&c, &q, &ch, &rid, MN_SEC(5)))) {
    say_err(ft, "send", rc, NULL);
    goto done;
  }
  say(ft, "\n");
  for (;;) {
    const uint8_t *p;
    size_t got;
    rc = bbq_read_grant(&ring, CHUNK_TIMEOUT, &p, &got);
    if (rc) break;
    forth_task_out(ft, (const char *)p, got);
    bbq_release(&ring, got);
  }
  if (rc != MN_ECLOSED) bbq_close(&ring); /* timed out or killed: cancel */
  /* The reply follows the end of the stream. */
  rc = kchannel_recv(&ch, reply, MN_FOREVER); /* the backend always replies */
  if (rc) {
    say_err(ft, "reply", rc, NULL);
    goto done;
  }
  const struct svc_reply *r = (const struct svc_reply *)reply;
  if (r->status == MN_ESERVICE) {
    const struct llm_error *le = (const void *)r->body;
    say_err(ft, "llm-local", le->code, le->message);
  } else if (r->status) {
    say_err(ft, "llm-local", r->status, NULL);
  } else {
    say(ft, "\n");
  }
done:
  svc_disconnect(&c);
  if (have_ch) kchannel_destroy(&ch);
  if (have_ring) bbq_destroy(&ring);
  kfree(reply);
  return 0;
}

int llm_word_generate(forth_vm *vm, void *ctx) {
  (void)ctx;
  struct forth_task *ft = forth_host_ctx(vm);
  forth_cell n, u, addr;
  if (forth_depth(vm) < 3) return -4; /* stack underflow */
  forth_pop(vm, &n);
  forth_pop(vm, &u);
  forth_pop(vm, &addr);
  if (n < 0 || u < 0) return -24; /* invalid numeric argument */
  const char *p = forth_mem(vm, addr, (size_t)u);
  if (!p && u) return -9;
  /* A copy: the VM's memory is the VM's (a SPAWNed child may change it). */
  char *text = kmalloc((size_t)u + 1);
  if (!text) {
    say_err(ft, "memory", MN_ENOMEM, NULL);
    return 0;
  }
  memcpy(text, p, (size_t)u);
  int rc = generate(ft, text, (size_t)u, (uint32_t)(n > 100000 ? 100000 : n));
  kfree(text);
  return rc;
}
