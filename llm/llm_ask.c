/*
 * llm_ask.c: the Forth word ASK ( c-addr u -- ), a minimal client of
 * llm-remote: the text goes as a one-off user message (with the `forth`
 * tool offered) and the answer streams onto the VM's terminal as it
 * comes. A tool call shows as a line "[forth] <code>" and its output as
 * "=> <output>". After the answer: a line "ASK: <finish> (<in> in, <out>
 * out)" ("ASK: error: <why>" when the answer broke off), or on failure
 * "ASK: <the error>". A rate limit with retry-after up to 60 s is
 * honoured: a countdown ("retry in 3 2 1"), then the question again
 * (once). Ctrl-C cancels (the ring is closed). The tool follows the saved
 * settings when the chat's settings store is linked in: tool_forth off
 * offers none; tool_network and tool_files let its VM use them.
 *
 * Interface: llm_word_ask, llm_remote_words.
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
#include "mneme/settings.h"
#include "mneme/task.h"

#define RETRY_MAX_S 60

/* The saved settings, when chat/settings_store.c is part of the build. */
int settings_load(struct mn_settings *s) __attribute__((weak));

/* LLM_TOOLS and the tool's permissions from the settings (the tool
 * without network or files when there are none). */
static uint32_t tool_flags(void) {
  if (!settings_load) return LLM_TOOLS;
  struct mn_settings *s = kmalloc(sizeof *s);
  if (!s) return LLM_TOOLS;
  settings_load(s);
  uint32_t f = s->tool_forth ? LLM_TOOLS : 0;
  if (f && s->tool_network) f |= LLM_TOOL_NET;
  if (f && s->tool_files) f |= LLM_TOOL_FILES;
  for (size_t i = 0; i < sizeof *s; i++) ((volatile char *)s)[i] = 0;
  kfree(s);
  return f;
}

static void say(struct forth_task *ft, const char *s) {
  forth_task_out(ft, s, strlen(s));
}

static void say_num(struct forth_task *ft, uint64_t v) {
  char b[24];
  int i = 23;
  b[i] = 0;
  do b[--i] = (char)('0' + v % 10); while ((v /= 10) && i > 0);
  say(ft, b + i);
}

static int interrupted(struct forth_task *ft) {
  const uint8_t *p;
  size_t len;
  if (ft->killed) return 1;
  if (!ft->in || ft->in_eof || bbq_read(ft->in, &p, &len)) return 0;
  int found = memchr(p, 3, len) != NULL;
  bbq_release(ft->in, 0);
  return found;
}

/* One question; 0, or the seconds to wait before asking again. */
static uint32_t ask(struct forth_task *ft, const char *text, size_t len) {
  static const struct svc_type type = LLM_SVC_TYPE;
  struct svc_client c;
  struct llm_error e;
  memset(&e, 0, sizeof e);
  int rc = svc_connect(&LLM_REMOTE_UUID, &type, NULL, &e, 0, &c);
  if (rc) {
    say(ft, "ASK: llm-remote is not running\n");
    return 0;
  }
  uint32_t retry = 0;
  struct bbq ring;
  struct kchannel ch;
  size_t rsize = svc_reply_size(&type);
  uint8_t *reply = kmalloc(rsize);
  int have_ring = 0, have_ch = 0;
  if (!reply || bbq_init(&ring, 4096) != 0) goto nomem;
  have_ring = 1;
  if (kchannel_init(&ch, rsize, 1) != 0) goto nomem;
  have_ch = 1;
  struct llm_message msg = {LLM_ROLE_USER, text, len};
  struct llm_request q;
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_GENERATE;
  q.flags = tool_flags();
  q.messages = &msg;
  q.n_messages = 1;
  q.out = &ring;
  uint32_t rid;
  if ((rc = svc_send(&c, &q, &ch, &rid, MN_SEC(5)))) {
    say(ft, "ASK: ");
    say(ft, mn_strerror(rc));
    say(ft, "\n");
    goto done;
  }
  for (;;) {
    const uint8_t *p;
    size_t got;
    rc = bbq_read_grant(&ring, MN_MSEC(100), &p, &got);
    if (rc == MN_ETIMEDOUT) {
      if (interrupted(ft)) break;
      continue;
    }
    if (rc) break;
    if (interrupted(ft)) {
      bbq_release(&ring, 0);
      break;
    }
    size_t i = 0;
    while (i < got) { /* the tool markers as words */
      size_t j = i;
      while (j < got && p[j] > 3) j++;
      if (j > i) forth_task_out(ft, (const char *)p + i, j - i);
      if (j < got) {
        say(ft, p[j] == LLM_MARK_CODE ? "\n[forth] " : p[j] == LLM_MARK_OUTPUT ? "\n=> " : "\n");
        j++;
      }
      i = j;
    }
    bbq_release(&ring, got);
    forth_task_flush(ft); /* text as it comes, not when the buffer is full */
  }
  if (rc != MN_ECLOSED) bbq_close(&ring); /* Ctrl-C or killed: cancel */
  if ((rc = kchannel_recv(&ch, reply, MN_FOREVER))) { /* the backend always replies */
    say(ft, "\nASK: ");
    say(ft, mn_strerror(rc));
    say(ft, "\n");
    goto done;
  }
  const struct svc_reply *r = (const struct svc_reply *)reply;
  if (r->status == MN_ESERVICE) {
    const struct llm_error *le = (const void *)r->body;
    say(ft, "\nASK: ");
    say(ft, le->message[0] ? le->message : mn_strerror(le->code));
    say(ft, " (");
    say(ft, mn_strerror(le->code));
    say(ft, ")\n");
    if (le->code == MN_EBUSY && le->retry_after_s && le->retry_after_s <= RETRY_MAX_S)
      retry = le->retry_after_s;
  } else if (r->status) {
    say(ft, "\nASK: ");
    say(ft, mn_strerror(r->status));
    say(ft, "\n");
  } else {
    const struct llm_response *lr = (const void *)r->body;
    static const char *const fin[] = {"none", "stop", "length", "cancelled", "error"};
    say(ft, "\nASK: ");
    say(ft, lr->finish < 5 ? fin[lr->finish] : "?");
    if (lr->finish == LLM_FINISH_ERROR) {
      say(ft, ": ");
      say(ft, lr->detail);
    }
    say(ft, " (");
    say_num(ft, lr->usage.prompt_tokens);
    say(ft, " in, ");
    say_num(ft, lr->usage.completion_tokens);
    say(ft, " out)\n");
  }
  goto done;
nomem:
  say(ft, "ASK: no memory\n");
done:
  svc_disconnect(&c);
  if (have_ch) kchannel_destroy(&ch);
  if (have_ring) bbq_destroy(&ring);
  kfree(reply);
  return retry;
}

int llm_word_ask(forth_vm *vm, void *ctx) {
  (void)ctx;
  struct forth_task *ft = forth_host_ctx(vm);
  forth_cell u, addr;
  if (forth_depth(vm) < 2) return -4;
  forth_pop(vm, &u);
  forth_pop(vm, &addr);
  if (u < 0) return -24;
  const char *p = forth_mem(vm, addr, (size_t)u);
  if (!p && u) return -9;
  char *text = kmalloc((size_t)u + 1);
  if (!text) {
    say(ft, "ASK: no memory\n");
    return 0;
  }
  memcpy(text, p, (size_t)u);
  say(ft, "\n");
  uint32_t wait = ask(ft, text, (size_t)u);
  if (wait) { /* retry-after: count down, then once more */
    say(ft, "ASK: retry in");
    for (uint32_t s = wait; s > 0 && !interrupted(ft); s--) {
      say(ft, " ");
      say_num(ft, s);
      forth_task_flush(ft);
      task_sleep(MN_SEC(1));
    }
    say(ft, "\n");
    if (!interrupted(ft)) ask(ft, text, (size_t)u);
  }
  kfree(text);
  return 0;
}

void llm_remote_words(void) {
  static const struct forth_task_word w[] = {{"ASK", llm_word_ask}};
  static int done;
  if (!done && forth_words_add(w, 1) == 0) done = 1;
}
