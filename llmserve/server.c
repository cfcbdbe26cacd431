/*
 * server.c: the inference appliance's HTTP/1.1 server: a listener task
 * and one task per connection (at most LLMS_MAX_CONNS; the listener
 * waits for a free one), over the network service's TCP rings.
 *
 * A connection reads requests with the protocol's reader (proto.c, over
 * http-parser), keeps alive and takes pipelined requests in order, and
 * answers each before reading the next. Chat completions go to llm-local
 * through the `llm` interface; at most gen_slots generate at a time and
 * the others wait in a first-come, first-served queue. A client that goes
 * away (its connection fails or it closes) while waiting or generating
 * cancels: the ring is closed, llm-local stops at its next token.
 *
 * Nothing a client sends can hurt the kernel: requests are bounded (URL,
 * headers, body, JSON values, messages), a request must arrive within
 * REQUEST_TIMEOUT and an idle connection closes after IDLE_TIMEOUT; every
 * error is a JSON body with a 4xx/5xx status.
 *
 * Interface: llmserve_start, llmserve_stats (include/mneme/llmserve.h).
 */
#include <string.h>

#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/kchannel.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/wallclock.h"
#include "mneme/list.h"
#include "mneme/llm.h"
#include "mneme/llmserve.h"
#include "mneme/log.h"
#include "mneme/net.h"
#include "mneme/task.h"
#include "mneme/waitq.h"

#define IDLE_TIMEOUT MN_SEC(30)      /* keep-alive connection with nothing to say */
#define REQUEST_TIMEOUT MN_SEC(30)   /* from a request's first byte to its last */
#define WRITE_TIMEOUT MN_SEC(30)     /* a client that reads nothing for this long */
#define CHUNK_TIMEOUT MN_SEC(600)    /* llm-local silent this long: give up */
#define CONTENT_MAX (1u << 20)       /* a non-streamed answer's text */
#define EVBUF_SIZE (20u * 1024u)     /* one event / small answer */
#define RING_SIZE 2048u              /* llm-local's deltas */

static const struct svc_type llm_type = LLM_SVC_TYPE;

_Static_assert((int)LLMS_ROLE_SYSTEM == (int)LLM_ROLE_SYSTEM &&
               (int)LLMS_ROLE_USER == (int)LLM_ROLE_USER &&
               (int)LLMS_ROLE_ASSISTANT == (int)LLM_ROLE_ASSISTANT, "llmserve's roles are llm.h's");

struct waiter {
  struct list node;
  int granted;
  uint32_t slot;               /* the slot handed over */
};

/* A generation slot keeps an llm-local conversation open between
 * requests: its KV cache holds the previous prompt and answer, and a
 * request sharing a prefix with them (the same system prompt, a chat's
 * earlier turns, a repeated question) evaluates only what is new. */
#define MAX_SLOTS 8
struct slot {
  uint32_t conv;               /* 0: not opened (or could not be: one-off) */
  int busy;
};

static struct {
  int started;
  struct net_listener *l;
  uint16_t port;
  uint32_t conns;
  struct waitq conn_free;
  uint32_t gen_active, gen_slots, gen_waiting;
  struct list gen_queue;
  struct slot slots[MAX_SLOTS];
  struct waitq gen_wake;
  uint32_t next_id;
  uint64_t last_gen_end;       /* ktime of the last generation's end */
  struct llmserve_stats st;
} S;

#define SLOT_IDLE MN_SEC(5)      /* then the slots' conversations are closed */

struct conn {
  struct net_conn *c;
  struct llms_http h;
  char *ev;                    /* EVBUF_SIZE: events, small bodies */
  uint8_t *tok;                /* jsmn tokens of a chat request */
  char *text;                  /* the request's decoded texts */
  struct llm_message msgs[LLMS_MAX_MESSAGES];
  char *answer;                /* a non-streamed answer's text */
  size_t answer_len, answer_cap;
  struct svc_client llm;
  int have_llm;
  int close_after;             /* answer with Connection: close, then close */
};

/* ---- writing ---------------------------------------------------------------------- */

/* `created`: the wall clock's Unix seconds, as llama.cpp's server gives
 * them (what the clock says even when it counts as unset; never before
 * 1970). */
static int64_t created_now(void) {
  int64_t t = 0;
  wallclock_now(&t);
  return t > 0 ? t : 0;
}

static int peer_gone(struct conn *k) {
  struct net_conn *c = k->c;
  return c->error || (c->rx.closed && bbq_used(&c->rx) == 0);
}

static int put(struct conn *k, const void *p, size_t n) {
  return net_tcp_write(k->c, p, n, WRITE_TIMEOUT);
}

static void count_status(int status) {
  if (status >= 500) S.st.errors_5xx++;
  else if (status >= 400) S.st.errors_4xx++;
}

static int send_head(struct conn *k, int status, const char *ctype, long long len) {
  char h[384], cl[48];
  if (len >= 0) ksnprintf(cl, sizeof cl, "Content-Length: %lld\r\n", len);
  else ksnprintf(cl, sizeof cl, "Transfer-Encoding: chunked\r\n");
  int n = ksnprintf(h, sizeof h,
                    "HTTP/1.1 %d %s\r\nServer: mneme\r\nContent-Type: %s\r\n"
                    "Access-Control-Allow-Origin: *\r\nConnection: %s\r\n%s\r\n",
                    status, llms_reason(status), ctype,
                    k->close_after ? "close" : "keep-alive", cl);
  count_status(status);
  return put(k, h, (size_t)n);
}

static int send_body(struct conn *k, int status, const char *ctype, const char *body, size_t len) {
  int rc = send_head(k, status, ctype, (long long)len);
  return rc ? rc : put(k, body, len);
}

static int send_error(struct conn *k, int status, const char *msg, const char *param,
                      const char *code) {
  size_t n = llms_json_error(k->ev, EVBUF_SIZE, msg, llms_error_type(status), param, code);
  return send_body(k, status, "application/json", k->ev, n);
}

/* One chunk of a chunked body: "data: <json>\n\n". */
static int send_event(struct conn *k, const char *json, size_t len) {
  char pre[24];
  int n = ksnprintf(pre, sizeof pre, "%zx\r\ndata: ", len + 8);
  int rc = put(k, pre, (size_t)n);
  if (!rc) rc = put(k, json, len);
  if (!rc) rc = put(k, "\n\n\r\n", 4);
  return rc;
}

/* ---- llm-local --------------------------------------------------------------------- */

static int llm_connect(struct conn *k) {
  if (k->have_llm) return 0;
  struct llm_error e;
  int rc = svc_connect(&LLM_LOCAL_UUID, &llm_type, NULL, &e, 0, &k->llm);
  if (!rc) k->have_llm = 1;
  return rc;
}

static int llm_info(struct conn *k, struct llm_response *r) {
  int rc = llm_connect(k);
  if (rc) return rc;
  struct llm_request q;
  struct llm_error e;
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_INFO;
  rc = svc_call(&k->llm, &q, r, &e, MN_SEC(10));
  if (rc == MN_ECLOSED) {
    svc_disconnect(&k->llm);
    k->have_llm = 0;
  }
  if (!rc && !S.gen_slots) {
    uint32_t m = r->max_conversations;
    S.gen_slots = m > 1 ? m - 1 : 1; /* one left for the shells' GENERATE */
    if (S.gen_slots > MAX_SLOTS) S.gen_slots = MAX_SLOTS;
  }
  return rc;
}

/* First come, first served: 0 and a generation slot in *slot, or
 * MN_ECANCELED when the client went away while waiting. */
static int slot_take(struct conn *k, uint32_t *slot) {
  if (S.gen_active < S.gen_slots && list_empty(&S.gen_queue)) {
    for (uint32_t i = 0; i < S.gen_slots; i++)
      if (!S.slots[i].busy) {
        S.slots[i].busy = 1;
        S.gen_active++;
        *slot = i;
        return 0;
      }
  }
  struct waiter w;
  w.granted = 0;
  list_push_back(&S.gen_queue, &w.node);
  S.gen_waiting++;
  while (!w.granted) {
    if (peer_gone(k) || task_current()->kill_pending) {
      list_remove(&w.node);
      S.gen_waiting--;
      return MN_ECANCELED;
    }
    waitq_wait(&S.gen_wake, MN_MSEC(200));
  }
  S.gen_waiting--;
  *slot = w.slot;
  return 0;
}

static void slot_give(uint32_t slot) {
  S.last_gen_end = ktime_now();
  if (!list_empty(&S.gen_queue)) { /* handed over, still busy */
    struct list *n = list_pop_front(&S.gen_queue);
    struct waiter *w = (struct waiter *)(void *)((char *)n - offsetof(struct waiter, node));
    w->slot = slot;
    w->granted = 1;
    waitq_wake_all(&S.gen_wake);
  } else {
    S.slots[slot].busy = 0;
    S.gen_active--;
  }
}

/* The slot's conversation, opened on first use; 0 (one-off requests)
 * when llm-local has no room for it. */
static uint32_t slot_conv(struct conn *k, uint32_t slot) {
  struct slot *sl = &S.slots[slot];
  if (!sl->conv) {
    struct llm_request q;
    struct llm_response r;
    struct llm_error e;
    memset(&q, 0, sizeof q);
    q.op = LLM_OP_OPEN;
    if (svc_call(&k->llm, &q, &r, &e, MN_SEC(10)) == 0) sl->conv = r.conv;
  }
  return sl->conv;
}

static int answer_add(struct conn *k, const uint8_t *p, size_t n) {
  if (k->answer_len + n > k->answer_cap) {
    size_t cap = k->answer_cap ? k->answer_cap * 2 : 4096;
    while (cap < k->answer_len + n) cap *= 2;
    if (cap > CONTENT_MAX) return MN_ENOSPC;
    char *a = krealloc(k->answer, cap);
    if (!a) return MN_ENOMEM;
    k->answer = a;
    k->answer_cap = cap;
  }
  memcpy(k->answer + k->answer_len, p, n);
  k->answer_len += n;
  return 0;
}

static void sampling_of(const struct llms_chat *ch, struct llm_sampling *s) {
  if (ch->has_temperature && ch->temperature <= 0) {
    llm_sampling_greedy(s);
    return;
  }
  llm_sampling_default(s);
  if (ch->has_temperature) s->temperature = ch->temperature;
  if (ch->has_top_p) s->top_p = ch->top_p;
  if (ch->has_seed) s->seed = ch->seed;
  else s->seed = ktime_now() ^ ((uint64_t)S.next_id << 32);
}

static int status_of(int code) {
  switch (code) {
  case MN_EINVAL: case MN_ENOSPC: return 400;
  case MN_ENOENT: case MN_EBUSY: case MN_ENOMEM: return 503;
  default: return 500;
  }
}

/* ---- POST /v1/chat/completions --------------------------------------------------------- */

static int chat(struct conn *k) {
  struct llms_chat *ch = kmalloc(sizeof *ch);
  char why[96];
  const char *param = "";
  int rc = 0;
  if (!ch) return send_error(k, 503, "the server is out of memory", NULL, NULL);
  k->tok = kmalloc(LLMS_MAX_TOKENS_JSON * 16u);
  k->text = kmalloc(k->h.body_len + 1);
  if (!k->tok || !k->text) {
    rc = send_error(k, 503, "the server is out of memory", NULL, NULL);
    goto out;
  }
  int st = llms_chat_parse(k->h.body ? k->h.body : "", k->h.body_len, ch, k->text,
                           k->h.body_len + 1, k->tok, why, sizeof why, &param);
  if (st) {
    rc = send_error(k, st, why, param, NULL);
    goto out;
  }
  struct llm_response info;
  if ((rc = llm_info(k, &info))) {
    rc = send_error(k, 503, "no model is loaded", NULL, NULL);
    goto out;
  }
  if (strcmp(ch->model, info.model)) {
    ksnprintf(why, sizeof why, "the model '%s' does not exist (this server has '%s')",
              ch->model, info.model);
    rc = send_error(k, 404, why, "model", "model_not_found");
    goto out;
  }
  uint32_t slot;
  if (slot_take(k, &slot)) {
    S.st.cancelled++;
    rc = MN_ECLOSED;
    goto out;
  }
  S.st.generations++;
  struct llm_request q;
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_GENERATE;
  q.conv = slot_conv(k, slot);
  q.max_tokens = ch->max_tokens ? ch->max_tokens : info.n_ctx;
  for (size_t i = 0; i < ch->n_msgs; i++) {
    k->msgs[i].role = ch->msgs[i].role;   /* LLMS_ROLE_* are enum llm_role's values */
    k->msgs[i].text = ch->msgs[i].text;
    k->msgs[i].len = ch->msgs[i].len;
  }
  q.messages = k->msgs;
  q.n_messages = ch->n_msgs;
  sampling_of(ch, &q.sampling);
  char id[40];
  ksnprintf(id, sizeof id, "chatcmpl-mneme-%u-%llu", ++S.next_id,
            (unsigned long long)(ktime_now() / 1000));
  struct llms_ids ids = {id, info.model, created_now()};
  size_t rsize = svc_reply_size(&llm_type);
  uint8_t *reply = kmalloc(rsize);
  struct bbq ring;
  struct kchannel kc;
  int have_ring = 0, have_kc = 0, started = 0, cancelled = 0;
  size_t n;
  k->answer_len = 0;
  if (!reply || bbq_init(&ring, RING_SIZE)) goto nomem;
  have_ring = 1;
  if (kchannel_init(&kc, rsize, 1)) goto nomem;
  have_kc = 1;
  const struct svc_reply *r = (const struct svc_reply *)reply;
  for (int attempt = 0;; attempt++) {
    q.out = &ring;
    uint32_t rid;
    if ((rc = svc_send(&k->llm, &q, &kc, &rid, MN_SEC(10)))) {
      rc = send_error(k, 503, "the model service does not answer", NULL, NULL);
      goto done;
    }
    uint64_t last = ktime_now();
    int wrc = 0;
    for (;;) {
      const uint8_t *p;
      size_t got;
      int e = bbq_read_grant(&ring, MN_MSEC(100), &p, &got);
      if (e == MN_ETIMEDOUT) {
        if (peer_gone(k) || task_current()->kill_pending || ktime_now() - last > CHUNK_TIMEOUT) {
          bbq_close(&ring); /* cancel */
          cancelled = 1;
        }
        continue;
      }
      if (e) break; /* MN_ECLOSED: the end */
      last = ktime_now();
      if (cancelled || wrc) {
        bbq_release(&ring, got);
        continue;
      }
      if (ch->stream) {
        if (!started) {
          started = 1;
          wrc = send_head(k, 200, "text/event-stream", -1);
          n = llms_json_chunk_role(k->ev, EVBUF_SIZE, &ids);
          if (!wrc) wrc = send_event(k, k->ev, n);
        }
        /* a delta of up to RING_SIZE bytes escapes into at most 6x */
        n = llms_json_chunk_text(k->ev, EVBUF_SIZE, &ids, (const char *)p, got);
        if (!wrc) wrc = n ? send_event(k, k->ev, n) : MN_ENOSPC;
      } else {
        wrc = answer_add(k, p, got);
      }
      bbq_release(&ring, got);
      if (wrc || peer_gone(k)) {
        bbq_close(&ring);
        cancelled = 1;
      }
    }
    if ((rc = kchannel_recv(&kc, reply, MN_FOREVER))) goto done;
    if (r->status == MN_ESERVICE && !started && !cancelled) {
      const struct llm_error *le = (const void *)r->body;
      if (le->code == MN_ENOENT && q.conv) { /* the conversation is gone: one-off */
        S.slots[slot].conv = q.conv = 0;
        bbq_destroy(&ring);
        have_ring = 0;
        if (bbq_init(&ring, RING_SIZE)) goto nomem;
        have_ring = 1;
        continue;
      }
      if (le->code == MN_EBUSY && attempt < 600 && !peer_gone(k)) {
        /* every conversation slot busy (the shells): try again soon */
        S.st.busy_retries++;
        bbq_destroy(&ring);
        have_ring = 0;
        task_sleep(MN_MSEC(100));
        if (bbq_init(&ring, RING_SIZE)) goto nomem;
        have_ring = 1;
        continue;
      }
    }
    break;
  }
  if (cancelled) {
    S.st.cancelled++;
    rc = MN_ECLOSED;
    goto done;
  }
  if (r->status) {
    const struct llm_error *le = (const void *)r->body;
    int code = r->status == MN_ESERVICE ? le->code : r->status;
    const char *msg = r->status == MN_ESERVICE && le->message[0] ? le->message : mn_strerror(code);
    if (started) { /* an error event, then the end */
      n = llms_json_error(k->ev, EVBUF_SIZE, msg, "server_error", NULL, NULL);
      rc = send_event(k, k->ev, n);
      if (!rc) rc = send_event(k, "[DONE]", 6);
      if (!rc) rc = put(k, "0\r\n\r\n", 5);
    } else {
      rc = send_error(k, status_of(code), msg, NULL,
                      code == MN_ENOSPC ? "context_length_exceeded" : NULL);
    }
    goto done;
  }
  const struct llm_response *resp = (const void *)r->body;
  struct llms_usage u = {resp->usage.prompt_tokens, resp->usage.cached_tokens,
                         resp->usage.completion_tokens};
  const char *finish = resp->finish == LLM_FINISH_LENGTH ? "length" : "stop";
  if (ch->stream) {
    if (!started) {
      rc = send_head(k, 200, "text/event-stream", -1);
      n = llms_json_chunk_role(k->ev, EVBUF_SIZE, &ids);
      if (!rc) rc = send_event(k, k->ev, n);
    }
    n = llms_json_chunk_finish(k->ev, EVBUF_SIZE, &ids, finish);
    if (!rc) rc = send_event(k, k->ev, n);
    if (ch->include_usage) {
      n = llms_json_chunk_usage(k->ev, EVBUF_SIZE, &ids, &u);
      if (!rc) rc = send_event(k, k->ev, n);
    }
    if (!rc) rc = send_event(k, "[DONE]", 6);
    if (!rc) rc = put(k, "0\r\n\r\n", 5);
  } else {
    /* the answer: text escaped up to 6x plus the envelope */
    size_t cap = k->answer_len * 6 + 1024;
    char *body = cap <= EVBUF_SIZE ? k->ev : kmalloc(cap);
    if (!body) goto nomem;
    n = llms_json_completion(body, cap, &ids, k->answer ? k->answer : "", k->answer_len, finish,
                             &u);
    rc = send_body(k, 200, "application/json", body, n);
    if (body != k->ev) kfree(body);
  }
  goto done;
nomem:
  rc = send_error(k, 503, "the server is out of memory", NULL, NULL);
done:
  slot_give(slot);
  if (have_kc) kchannel_destroy(&kc);
  if (have_ring) bbq_destroy(&ring);
  kfree(reply);
out:
  kfree(ch);
  kfree(k->tok); /* 256 KiB: not kept while the connection idles */
  kfree(k->text);
  k->tok = NULL;
  k->text = NULL;
  if (k->answer_cap > 65536) {
    kfree(k->answer);
    k->answer = NULL;
    k->answer_cap = 0;
  }
  return rc;
}

/* ---- routing ------------------------------------------------------------------------------- */

static int handle(struct conn *k) {
  const char *path = k->h.path;
  int m = k->h.method;
  S.st.requests++;
  if (!strcmp(path, "/v1/chat/completions") || !strcmp(path, "/chat/completions")) {
    if (m != LLMS_POST) return send_error(k, 405, "use POST for /v1/chat/completions", NULL, NULL);
    return chat(k);
  }
  struct llm_response info;
  if (!strcmp(path, "/v1/models") || !strcmp(path, "/models")) {
    if (m != LLMS_GET) return send_error(k, 405, "use GET for /v1/models", NULL, NULL);
    int have = llm_info(k, &info) == 0;
    size_t n = llms_json_models(k->ev, EVBUF_SIZE, have ? info.model : NULL, created_now());
    return send_body(k, 200, "application/json", k->ev, n);
  }
  if (!strcmp(path, "/health") || !strcmp(path, "/v1/health")) {
    if (m != LLMS_GET) return send_error(k, 405, "use GET for /health", NULL, NULL);
    if (llm_info(k, &info)) return send_error(k, 503, "no model is loaded", NULL, NULL);
    int n = ksnprintf(k->ev, EVBUF_SIZE,
                      "{\"status\":\"ok\",\"requests\":%llu,\"generations\":%llu,"
                      "\"cancelled\":%llu,\"connections\":%u,\"queued\":%u,\"busy_retries\":%llu}",
                      (unsigned long long)S.st.requests, (unsigned long long)S.st.generations,
                      (unsigned long long)S.st.cancelled, S.conns, S.gen_waiting,
                      (unsigned long long)S.st.busy_retries);
    return send_body(k, 200, "application/json", k->ev, (size_t)n);
  }
  return send_error(k, 404, "no such endpoint (this server has /v1/chat/completions, "
                            "/v1/models and /health)", NULL, NULL);
}

/* ---- connections ----------------------------------------------------------------------------- */

/* After an error answer: no more writes, read what the client still
 * sends (briefly) so the answer is not lost to a reset. */
static void linger(struct net_conn *c) {
  net_tcp_shutdown(c);
  uint64_t end = ktime_now() + MN_SEC(2);
  size_t total = 0;
  while (ktime_now() < end && total < (4u << 20)) {
    const uint8_t *p;
    size_t n;
    if (bbq_read_grant(&c->rx, MN_MSEC(200), &p, &n)) {
      if (c->error || c->rx.closed) break;
      continue;
    }
    bbq_release(&c->rx, n);
    net_conn_kick(c);
    total += n;
  }
}

static void *re_kernel(void *p, size_t n) { return krealloc(p, n); }

static int conn_task(void *arg) {
  struct conn *k = arg;
  struct net_conn *c = k->c;
  int bad = 0;
  for (;;) {
    uint64_t deadline = ktime_now() + IDLE_TIMEOUT;
    int started = 0, sent_continue = 0, r = LLMS_MORE, status = 0;
    while (r == LLMS_MORE) {
      const uint8_t *p;
      size_t n, used;
      uint64_t now = ktime_now();
      int e = now >= deadline ? MN_ETIMEDOUT : bbq_read_grant(&c->rx, deadline - now, &p, &n);
      if (e == MN_ETIMEDOUT) {
        if (started) {
          r = LLMS_BAD;
          status = 408;
        }
        break;
      }
      if (e == MN_ECLOSED) {
        r = llms_http_eof(&k->h, &status);
        break;
      }
      if (e) break;
      if (!started) {
        started = 1;
        deadline = now + REQUEST_TIMEOUT;
      }
      r = llms_http_feed(&k->h, (const char *)p, n, &used, &status);
      bbq_release(&c->rx, r == LLMS_BAD ? 0 : used);
      net_conn_kick(c);
      if (r == LLMS_MORE && k->h.expect_continue && k->h.headers_done && !sent_continue) {
        sent_continue = 1;
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (put(k, cont, sizeof cont - 1)) break;
      }
    }
    if (r == LLMS_BAD && status) {
      k->close_after = 1;
      S.st.requests++;
      const char *msg = status == 413 ? "the request body is too large (1 MiB at most)"
                        : status == 414 ? "the request target is too long"
                        : status == 431 ? "the request headers are too large"
                        : status == 408 ? "the request did not arrive in time"
                        : status == 505 ? "only HTTP/1.x is served"
                                        : "the request is not valid HTTP/1.1";
      send_error(k, status, msg, NULL, NULL);
      bad = 1;
      break;
    }
    if (r != LLMS_DONE) break;
    k->close_after = !k->h.keep_alive;
    int rc = handle(k);
    if (rc || k->close_after) break;
    llms_http_reset(&k->h);
  }
  if (bad) linger(c);
  net_tcp_close(c);
  if (k->have_llm) svc_disconnect(&k->llm);
  llms_http_free(&k->h);
  kfree(k->ev);
  kfree(k->tok);
  kfree(k->text);
  kfree(k->answer);
  kfree(k);
  S.conns--;
  S.st.conns_open = S.conns;
  waitq_wake_all(&S.conn_free);
  return 0;
}

static int listen_task(void *arg) {
  (void)arg;
  for (;;) {
    while (S.conns >= LLMS_MAX_CONNS) waitq_wait(&S.conn_free, MN_SEC(1));
    struct net_conn *c;
    int rc = net_tcp_accept(S.l, MN_FOREVER, &c);
    if (rc == MN_ETIMEDOUT) continue;
    if (rc) {
      klog(LOG_ERROR, "llmserve: accept: %s", mn_strerror(rc));
      if (rc == MN_ECLOSED || rc == MN_ECANCELED) return rc;
      task_sleep(MN_MSEC(100));
      continue;
    }
    struct conn *k = kzalloc(sizeof *k);
    if (k) k->ev = kmalloc(EVBUF_SIZE);
    if (!k || !k->ev || llms_http_init(&k->h, LLMS_BODY_MAX, re_kernel, kfree)) {
      if (k) {
        kfree(k->ev);
        kfree(k);
      }
      net_tcp_close(c); /* no memory for it now */
      continue;
    }
    k->c = c;
    S.conns++;
    S.st.conns_total++;
    S.st.conns_open = S.conns;
    if (task_spawn("http-conn", conn_task, k, 16 * 1024, NULL)) {
      S.conns--;
      llms_http_free(&k->h);
      kfree(k->ev);
      kfree(k);
      net_tcp_close(c);
    }
  }
}

/* Closes the slots' conversations once no generation has run for
 * SLOT_IDLE: their KV caches go back to the heap and llm-local may load
 * another model (LOAD-MODEL wants no conversation open). */
static int slots_task(void *arg) {
  (void)arg;
  struct svc_client c;
  while (task_sleep(MN_SEC(1)) == 0) {
    int open = 0;
    for (uint32_t i = 0; i < MAX_SLOTS; i++) open |= S.slots[i].conv != 0;
    if (!open || S.gen_active || ktime_now() - S.last_gen_end < SLOT_IDLE) continue;
    struct llm_error e;
    if (svc_connect(&LLM_LOCAL_UUID, &llm_type, NULL, &e, 0, &c)) continue;
    for (uint32_t i = 0; i < MAX_SLOTS; i++) {
      if (!S.slots[i].conv || S.slots[i].busy) continue;
      struct llm_request q;
      struct llm_response r;
      memset(&q, 0, sizeof q);
      q.op = LLM_OP_CLOSE;
      q.conv = S.slots[i].conv;
      S.slots[i].conv = 0;   /* closed or gone: reopened when next needed */
      svc_call(&c, &q, &r, &e, MN_SEC(10));
    }
    svc_disconnect(&c);
  }
  return 0;
}

int llmserve_start(uint16_t port) {
  if (S.started) return MN_EEXIST;
  int rc = net_tcp_listen(port, &S.l);
  if (rc) return rc;
  waitq_init(&S.conn_free);
  waitq_init(&S.gen_wake);
  list_init(&S.gen_queue);
  S.port = net_listener_port(S.l);
  S.st.port = S.port;
  if ((rc = task_spawn("http-serve", listen_task, NULL, 8 * 1024, NULL))) {
    net_listener_close(S.l);
    return rc;
  }
  if (task_spawn("http-slots", slots_task, NULL, 8 * 1024, NULL))
    klog(LOG_WARN, "llmserve: no task to close idle conversations");
  S.started = 1;
  klog(LOG_INFO, "llmserve: OpenAI-compatible server listening on port %u", S.port);
  return 0;
}

int llmserve_stats(struct llmserve_stats *out) {
  if (!S.started) return MN_ENOENT;
  *out = S.st;
  return 0;
}
