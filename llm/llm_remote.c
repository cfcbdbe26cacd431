/*
 * llm_remote.c: the `llm-remote` service, OpenAI-compatible chat
 * completions and Anthropic messages over HTTP(S), behind the `llm`
 * interface (include/mneme/llm.h; the protocol is llmapi/, the transport
 * http_request of include/mneme/http.h).
 *
 * The service task answers INFO/OPEN/CLOSE itself (the APIs are
 * stateless: a conversation is only an id) and starts a task for each
 * GENERATE, which builds the request body from the messages, runs
 * http_request in that task and feeds the body as it arrives to the
 * stream decoder; text deltas (whole UTF-8 characters, the tool markers
 * dropped) go to the client's ring as they come.
 *
 * Ends of a generation:
 *   - the answer ended: reply with the finish reason and usage;
 *   - the client closed its ring: the request is stopped at the next
 *     bytes (http_request's callbacks say stop), LLM_FINISH_CANCELLED;
 *   - an HTTP error status (401, 403, 404, 429, 5xx, ...) before any
 *     text: an error reply, the code from llm_decode_error and the
 *     message "HTTP <status>: <the provider's own message>"; 429/503/529
 *     with retry-after also set retry_after_s, and GENERATE requests
 *     arriving before that time are refused at once (MN_EBUSY, the seconds
 *     left) without asking the server;
 *   - the connection dropped, the server stalled past the read timeout,
 *     or an error event, after some text: LLM_FINISH_ERROR with the reason
 *     in detail (the text so far stands); before any text: an error reply.
 *
 * Tool calls (LLM_TOOLS): the `forth` tool is offered; when the model
 * ends its turn with tool calls, each one's code runs in a fresh Forth VM
 * (llm_tool_forth), the code and its output stream between the
 * LLM_MARK_* bytes, the call and its result are appended to the
 * conversation, and the request is sent again, at most TOOL_ROUNDS times.
 *
 * The API key goes only into the request's header lines, which are wiped
 * after use; it is never logged, traced or put in a reply.
 *
 * Interface: llm_remote_start, llm_remote_models, llm_remote_config_from_settings.
 */
#include <string.h>

#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/http.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/llm.h"
#include "mneme/llmapi.h"
#include "mneme/log.h"
#include "mneme/registry.h"
#include "mneme/settings.h"
#include "mneme/task.h"

const struct uuid LLM_REMOTE_UUID = {{0x2f, 0x8c, 0x5b, 0x1e, 0x6d, 0x0a, 0x4c, 0x4b,
                                      0x9a, 0x8e, 0x3b, 0x1f, 0x7d, 0x2c, 0x9e, 0x02}};

#define GEN_STACK (112u * 1024u) /* http_request: BearSSL's RSA/EC code is deep */
#define WRITE_TIMEOUT MN_SEC(60)  /* a reader that stops reading: cancelled */
#define BODY_MAX (256u * 1024u)    /* a non-streamed answer or an error body */
#define TOOL_ROUNDS 8
#define TOOL_OUT_MAX 4096
#define ROUND_TEXT_MAX 4096

struct rcfg {
  char provider[16];
  char base[256];
  char key[256];
  char model[128];
  char system[2048];
  int has_system;
  int api;                   /* enum llm_api */
  int temp_milli;            /* < 0: not sent */
  uint32_t max_tokens;
  int stream;
  uint64_t timeout_ns;
};

static struct {
  struct rcfg cfg;
  struct svc_server *srv;
  int started;
  uint64_t not_before;       /* retry-after: no request before this */
  uint32_t next_conv;
} R;

static const struct {
  const char *name, *base;
  int api;
} providers[] = {
    {"openai", "https://api.openai.com", LLM_API_OPENAI},
    {"anthropic", "https://api.anthropic.com", LLM_API_ANTHROPIC},
    {"groq", "https://api.groq.com/openai", LLM_API_OPENAI},
    {"xai", "https://api.x.ai", LLM_API_OPENAI},
    {"openrouter", "https://openrouter.ai/api", LLM_API_OPENAI},
};

static const struct llm_tool_def forth_tool = {
    "forth",
    "Run Forth (Forth 2012 standard words) in a fresh sandboxed Forth VM on this "
    "machine (the mneme OS) and get back what it printed. Print results with . or "
    "TYPE. No network or files; limited steps and time.",
    "{\"type\":\"object\",\"properties\":{\"code\":{\"type\":\"string\","
    "\"description\":\"Forth source text to interpret\"}},\"required\":[\"code\"]}"};

static void copy_str(char *dst, size_t cap, const char *src) {
  size_t n = src ? strlen(src) : 0;
  if (n >= cap) n = cap - 1;
  if (n) memcpy(dst, src, n);
  dst[n] = 0;
}

static void cat_str(char *dst, size_t cap, const char *src) {
  size_t l = strlen(dst);
  if (l + 1 < cap) copy_str(dst + l, cap - l, src);
}

static void cat_num(char *dst, size_t cap, uint64_t v) {
  char b[24];
  int i = 23;
  b[i] = 0;
  do b[--i] = (char)('0' + v % 10); while ((v /= 10) && i > 0);
  cat_str(dst, cap, b + i);
}

/* The endpoint: base (trailing '/' dropped) + "/v1" unless it ends so,
 * + what. */
static void endpoint(const struct rcfg *c, const char *what, char *url, size_t cap) {
  copy_str(url, cap, c->base);
  size_t n = strlen(url);
  while (n && url[n - 1] == '/') url[--n] = 0;
  if (!(n >= 3 && !memcmp(url + n - 3, "/v1", 3))) cat_str(url, cap, "/v1");
  cat_str(url, cap, what);
}

/* The header lines with the key; the caller wipes them after use. */
static void auth_headers(const struct rcfg *c, int stream, char *h, size_t cap) {
  h[0] = 0;
  if (c->api == LLM_API_ANTHROPIC) {
    if (c->key[0]) {
      cat_str(h, cap, "x-api-key: ");
      cat_str(h, cap, c->key);
      cat_str(h, cap, "\r\n");
    }
    cat_str(h, cap, "anthropic-version: 2023-06-01\r\n");
  } else if (c->key[0]) {
    cat_str(h, cap, "Authorization: Bearer ");
    cat_str(h, cap, c->key);
    cat_str(h, cap, "\r\n");
  }
  cat_str(h, cap, "Content-Type: application/json\r\n");
  cat_str(h, cap, stream ? "Accept: text/event-stream\r\n" : "Accept: application/json\r\n");
}

static void wipe(void *p, size_t n) {
  volatile char *v = p;
  while (n--) *v++ = 0;
}

/* ---- one HTTP exchange: status, retry-after, body to the decoder -------- */

struct xfer {
  int status;
  char retry_after[16];
  char *body;                /* non-streamed answer or error body */
  size_t body_len, body_cap;
  int (*on_stream)(void *ctx, const char *p, size_t n); /* 200 + streaming */
  void *ctx;
  struct bbq *watch;         /* stop when closed (the client cancelled) */
};

static int x_status(void *ctx, int status) {
  struct xfer *x = ctx;
  x->status = status;
  return x->watch && x->watch->closed;
}

static int x_header(void *ctx, const char *name, size_t nlen, const char *value, size_t vlen) {
  struct xfer *x = ctx;
  static const char ra[] = "retry-after";
  if (nlen == sizeof ra - 1) {
    size_t i = 0;
    for (; i < nlen; i++) {
      char c = name[i];
      if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
      if (c != ra[i]) break;
    }
    if (i == nlen) {
      if (vlen >= sizeof x->retry_after) vlen = sizeof x->retry_after - 1;
      memcpy(x->retry_after, value, vlen);
      x->retry_after[vlen] = 0;
    }
  }
  return x->watch && x->watch->closed;
}

/* http_request's stop poll: the client closed its ring (cancel), even
 * while the server is silent. */
static int x_stop(void *ctx) {
  struct xfer *x = ctx;
  return x->watch && x->watch->closed;
}

static int x_body(void *ctx, const char *data, size_t len) {
  struct xfer *x = ctx;
  if (x->watch && x->watch->closed) return 1;
  if (x->status == 200 && x->on_stream) return x->on_stream(x->ctx, data, len);
  if (x->body_len + len > x->body_cap) {
    size_t want = x->body_cap ? x->body_cap * 2 : 4096;
    while (want < x->body_len + len) want *= 2;
    if (want > BODY_MAX) want = BODY_MAX;
    if (want > x->body_cap) {
      char *nb = krealloc(x->body, want);
      if (!nb) return 1;
      x->body = nb;
      x->body_cap = want;
    }
    if (x->body_len + len > x->body_cap) len = x->body_cap - x->body_len; /* cut */
  }
  memcpy(x->body + x->body_len, data, len);
  x->body_len += len;
  return 0;
}

/* ---- generation ------------------------------------------------------------ */

struct turn {
  char id[LLM_TOOL_ID_MAX];
  char *args;                /* a JSON object text */
  char *text;                /* the assistant's text of that round */
  size_t text_len;
  char *result;
  size_t result_len;
};

struct gen {
  struct svc_envelope env;
  struct llm_request req;
  struct rcfg cfg;
  struct llm_stream st;
  int emitted;               /* text reached the client */
  int cancelled;
  char round_text[ROUND_TEXT_MAX];
  size_t round_len;
  struct turn turns[TOOL_ROUNDS * LLM_TOOL_CALLS_MAX];
  int n_turns;
  int tokmem[LLM_JSON_TOKENS * 4];
};

/* Writes to the client's ring: 0, or 1 when it is closed (cancel). */
static int emit(struct gen *g, const char *s, size_t n) {
  if (g->cancelled) return 1;
  if (n == 0) return 0;
  if (bbq_write_all(g->req.out, s, n, WRITE_TIMEOUT)) {
    g->cancelled = 1;
    return 1;
  }
  g->emitted = 1;
  return 0;
}

/* Model text: the marker bytes dropped, the rest to the ring (and kept
 * for a tool-call turn). */
static void on_text(void *ctx, const char *s, size_t n) {
  struct gen *g = ctx;
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && s[j] != LLM_MARK_CODE && s[j] != LLM_MARK_OUTPUT && s[j] != LLM_MARK_END) j++;
    if (j > i) {
      size_t k = j - i;
      if (g->round_len + k <= sizeof g->round_text) {
        memcpy(g->round_text + g->round_len, s + i, k);
        g->round_len += k;
      }
      if (emit(g, s + i, k)) return;
    }
    i = j + 1;
  }
}

static int on_stream(void *ctx, const char *p, size_t n) {
  struct gen *g = ctx;
  llm_stream_feed(&g->st, p, n); /* errors are in st: decided at the end */
  return g->cancelled;
}

static uint32_t finish_of(int kind) {
  switch (kind) {
  case LLM_FIN_LENGTH:
    return LLM_FINISH_LENGTH;
  default:
    return LLM_FINISH_STOP;
  }
}

static void reply_error(const struct svc_envelope *env, int code, const char *msg, uint32_t retry) {
  struct llm_error e;
  memset(&e, 0, sizeof e);
  e.code = code;
  e.retry_after_s = retry;
  copy_str(e.message, sizeof e.message, msg);
  svc_reply_err(R.srv, env, &e);
}

/* Builds the request body: the caller's messages then the tool turns. */
static char *build_body(struct gen *g, size_t *len) {
  const struct llm_request *q = &g->req;
  size_t n = q->n_messages;
  struct llm_msg *m = kzalloc((n ? n : 1) * sizeof *m);
  struct llm_tool_turn *tt = kzalloc((g->n_turns ? (size_t)g->n_turns : 1) * sizeof *tt);
  if (!m || !tt) {
    kfree(m);
    kfree(tt);
    return NULL;
  }
  size_t k = 0, bytes = 4096 + strlen(g->cfg.system) * 6 + strlen(g->cfg.model) * 6;
  const char *system = g->cfg.has_system ? g->cfg.system : NULL;
  char *sys_copy = NULL;
  for (size_t i = 0; i < q->n_messages; i++) {
    const struct llm_message *qm = &q->messages[i];
    bytes += qm->len * 6 + 64;
    if (qm->role == LLM_ROLE_SYSTEM && !(q->flags & LLM_RAW)) {
      if (g->cfg.api == LLM_API_ANTHROPIC) { /* Anthropic: the top-level string */
        kfree(sys_copy);
        sys_copy = kmalloc(qm->len + 1);
        if (sys_copy) {
          memcpy(sys_copy, qm->text, qm->len);
          sys_copy[qm->len] = 0;
        }
        system = sys_copy;
        continue;
      }
      system = NULL; /* the conversation has its own */
    }
    m[k].role = (q->flags & LLM_RAW) ? LLM_MSG_USER : (int)qm->role;
    m[k].text = qm->text;
    m[k++].len = qm->len;
  }
  if (system && g->cfg.api == LLM_API_OPENAI) {
    for (size_t i = 0; i < k; i++)
      if (m[i].role == LLM_MSG_SYSTEM) system = NULL;
  }
  for (int t = 0; t < g->n_turns; t++) {
    struct turn *tu = &g->turns[t];
    tt[t].text = tu->text;
    tt[t].len = tu->text_len;
    tt[t].id = tu->id;
    tt[t].name = "forth";
    tt[t].args = tu->args;
    tt[t].result = tu->result;
    tt[t].result_len = tu->result_len;
    bytes += (tu->text_len + tu->result_len + strlen(tu->args)) * 6 + 256;
  }
  struct llm_chat_req cr;
  memset(&cr, 0, sizeof cr);
  cr.model = g->cfg.model;
  cr.system = system;
  cr.msgs = m;
  cr.n_msgs = k;
  cr.temperature_milli = g->cfg.temp_milli;
  cr.max_tokens = (int)(q->max_tokens ? q->max_tokens : g->cfg.max_tokens);
  cr.stream = g->cfg.stream;
  cr.tool = (q->flags & LLM_TOOLS) ? &forth_tool : NULL;
  cr.turns = tt;
  cr.n_turns = (size_t)g->n_turns;
  char *body = kmalloc(bytes);
  struct llm_buf b;
  int rc = MN_ENOMEM;
  if (body) {
    llm_buf_init(&b, body, bytes);
    rc = llm_build_request((enum llm_api)g->cfg.api, &cr, &b);
  }
  kfree(m);
  kfree(tt);
  kfree(sys_copy);
  if (rc) {
    kfree(body);
    return NULL;
  }
  *len = b.len;
  return body;
}

/* Runs one tool call: markers, code, output; appends the turn. */
static void run_tool(struct gen *g, const struct llm_tool_call *tc) {
  char *code = kmalloc(LLM_TOOL_ARGS_MAX);
  char *out = kmalloc(TOOL_OUT_MAX);
  struct turn *tu = &g->turns[g->n_turns];
  memset(tu, 0, sizeof *tu);
  tu->args = kmalloc(tc->args_len + 1);
  if (!code || !out || !tu->args) {
    kfree(code);
    kfree(out);
    kfree(tu->args);
    tu->args = NULL;
    return;
  }
  copy_str(tu->id, sizeof tu->id, tc->id);
  struct llm_buf cb;
  llm_buf_init(&cb, code, LLM_TOOL_ARGS_MAX);
  int rc = tc->overflow ? MN_ENOSPC
                        : llm_json_get_string(tc->args, tc->args_len, "code", g->tokmem,
                                              LLM_JSON_TOKENS, &cb);
  /* sent back as is only when it is a whole JSON object (MN_ENOSPC: too
   * many tokens to tell) */
  if ((rc == 0 || rc == MN_ENOENT) && !tc->overflow) copy_str(tu->args, tc->args_len + 1, tc->args);
  else copy_str(tu->args, tc->args_len + 1, tc->args_len >= 2 ? "{}" : "");
  size_t olen = 0;
  if (strcmp(tc->name, "forth") != 0) {
    copy_str(out, TOOL_OUT_MAX, "error: no such tool (the only tool is forth)");
    olen = strlen(out);
  } else if (rc) {
    copy_str(out, TOOL_OUT_MAX,
             rc == MN_ENOENT ? "error: the arguments need a \"code\" string"
             : rc == MN_ENOSPC ? "error: the arguments are too long or too complex"
                               : "error: the arguments are not a JSON object");
    olen = strlen(out);
  }
  char mark = LLM_MARK_CODE;
  emit(g, &mark, 1);
  if (!rc) { /* the code, without marker bytes */
    for (size_t i = 0; i < cb.len; i++)
      if (cb.p[i] == LLM_MARK_CODE || cb.p[i] == LLM_MARK_OUTPUT || cb.p[i] == LLM_MARK_END)
        cb.p[i] = ' ';
    emit(g, cb.p, cb.len);
  }
  mark = LLM_MARK_OUTPUT;
  emit(g, &mark, 1);
  struct llm_tool_limits lim = {0, 0, g->req.flags & (LLM_TOOL_NET | LLM_TOOL_FILES)};
  if (!olen && !g->cancelled && llm_tool_forth(cb.p, cb.len, &lim, out, TOOL_OUT_MAX, &olen)) {
    copy_str(out, TOOL_OUT_MAX, "error: no memory for a Forth VM");
    olen = strlen(out);
  }
  emit(g, out, olen);
  mark = LLM_MARK_END;
  emit(g, &mark, 1);
  kfree(code);
  tu->result = out;
  tu->result_len = olen;
  if (g->round_len) {
    tu->text = kmalloc(g->round_len);
    if (tu->text) {
      memcpy(tu->text, g->round_text, g->round_len);
      tu->text_len = g->round_len;
    }
    g->round_len = 0;
  }
  g->n_turns++;
}

static void free_turns(struct gen *g) {
  for (int t = 0; t < g->n_turns; t++) {
    kfree(g->turns[t].args);
    kfree(g->turns[t].text);
    kfree(g->turns[t].result);
  }
  g->n_turns = 0;
}

static int gen_task(void *arg) {
  struct gen *g = arg;
  const struct llm_request *q = &g->req;
  struct llm_response r;
  memset(&r, 0, sizeof r);
  r.op = LLM_OP_GENERATE;
  r.conv = q->conv;
  copy_str(r.model, sizeof r.model, g->cfg.model);
  copy_str(r.chat_template, sizeof r.chat_template, g->cfg.provider);
  uint32_t finish = LLM_FINISH_STOP;
  int err = 0;
  uint32_t retry = 0;
  char msg[sizeof ((struct llm_error *)0)->message];
  msg[0] = 0;
  char url[HTTP_URL_PATH_MAX + HTTP_URL_HOST_MAX + 16];
  char *hdr = kmalloc(512);
  uint64_t t0 = ktime_now(), t_first = 0;
  endpoint(&g->cfg, g->cfg.api == LLM_API_ANTHROPIC ? "/messages" : "/chat/completions", url,
           sizeof url);
  if (!hdr) {
    err = MN_ENOMEM;
    copy_str(msg, sizeof msg, "no memory for the request");
    goto out;
  }
  for (int round = 0;; round++) {
    size_t blen = 0;
    char *body = build_body(g, &blen);
    if (!body) {
      err = MN_ENOMEM;
      copy_str(msg, sizeof msg, "no memory for the request (or a bad message)");
      break;
    }
    llm_stream_init(&g->st, (enum llm_api)g->cfg.api, on_text, g);
    g->round_len = 0;
    struct xfer x;
    memset(&x, 0, sizeof x);
    x.on_stream = g->cfg.stream ? on_stream : NULL;
    x.ctx = g;
    x.watch = q->out;
    auth_headers(&g->cfg, g->cfg.stream, hdr, 512);
    struct http_client_request hr;
    memset(&hr, 0, sizeof hr);
    hr.method = "POST";
    hr.url = url;
    hr.url_len = strlen(url);
    hr.headers = hdr;
    hr.body = body;
    hr.body_len = blen;
    hr.read_timeout_ns = g->cfg.timeout_ns;
    hr.max_redirects = 0;
    hr.on_status = x_status;
    hr.on_header = x_header;
    hr.on_body = x_body;
    hr.stop = x_stop;
    hr.ctx = &x;
    struct http_client_result res;
    memset(&res, 0, sizeof res);
    int rc = http_request(&hr, &res);
    wipe(hdr, 512);
    kfree(body);
    if (!t_first && g->emitted) t_first = ktime_now();
    if (g->cancelled || (q->out->closed && rc == MN_ECANCELED)) {
      finish = LLM_FINISH_CANCELLED;
      kfree(x.body);
      break;
    }
    if (x.status != 200 && x.status != 0) {
      /* an HTTP error with the provider's words */
      struct llm_api_error *le = &g->st.error;
      llm_decode_error(x.status, x.retry_after[0] ? x.retry_after : NULL, x.body, x.body_len, le);
      kfree(x.body);
      copy_str(msg, sizeof msg, "HTTP ");
      cat_num(msg, sizeof msg, (uint64_t)x.status);
      cat_str(msg, sizeof msg, ": ");
      cat_str(msg, sizeof msg, le->message[0] ? le->message : le->type);
      err = le->code ? le->code : MN_EHTTP;
      retry = le->retry_after_s;
      if (retry) R.not_before = ktime_now() + MN_SEC(retry);
      break;
    }
    if (rc && x.status == 0) { /* never got an answer */
      kfree(x.body);
      err = rc;
      copy_str(msg, sizeof msg, res.error[0] ? res.error : mn_strerror(rc));
      break;
    }
    int end;
    if (g->cfg.stream) {
      end = llm_stream_end(&g->st);
    } else if (rc) {
      end = MN_ETRUNC;
    } else {
      char *text = kmalloc(x.body_len + 16);
      struct llm_buf tb;
      llm_buf_init(&tb, text, text ? x.body_len + 16 : 0);
      end = text ? llm_decode_response((enum llm_api)g->cfg.api, x.body, x.body_len, &g->st, &tb)
                 : MN_ENOMEM;
      if (!end) on_text(g, tb.p, tb.len);
      kfree(text);
    }
    kfree(x.body);
    r.usage.prompt_tokens += g->st.input_tokens;
    r.usage.completion_tokens += g->st.output_tokens;
    if (g->cancelled) {
      finish = LLM_FINISH_CANCELLED;
      break;
    }
    if (end == 0 && rc == 0) {
      if (g->st.finish == LLM_FIN_TOOL_CALLS && (q->flags & LLM_TOOLS) && g->st.n_tools &&
          round < TOOL_ROUNDS) {
        for (int k = 0; k < g->st.n_tools && !g->cancelled; k++) run_tool(g, &g->st.tools[k]);
        if (g->cancelled) {
          finish = LLM_FINISH_CANCELLED;
          break;
        }
        continue;
      }
      finish = finish_of(g->st.finish);
      break;
    }
    /* The answer stopped before its end. */
    const char *why = end == MN_ESERVICE ? (g->st.error.message[0] ? g->st.error.message
                                                                   : g->st.error.type)
                      : rc ? (res.error[0] ? res.error : mn_strerror(rc))
                      : end == MN_EDECODE ? "the answer is not the API's JSON"
                                          : "the answer ended early";
    if (!g->emitted) {
      err = end == MN_ESERVICE ? (g->st.error.code ? g->st.error.code : MN_EIO)
            : rc             ? rc
                             : MN_EPROTO;
      copy_str(msg, sizeof msg, why);
      if (end == MN_ESERVICE && rc == 0 && g->st.error.retry_after_s) retry = g->st.error.retry_after_s;
    } else {
      finish = LLM_FINISH_ERROR;
      copy_str(r.detail, sizeof r.detail, why);
    }
    break;
  }
out:
  r.usage.prompt_ns = t_first ? t_first - t0 : 0;
  r.usage.generate_ns = ktime_now() - (t_first ? t_first : t0);
  kfree(hdr);
  free_turns(g);
  bbq_close(q->out);
  if (err) reply_error(&g->env, err, msg, retry);
  else {
    r.finish = finish;
    svc_reply_ok(R.srv, &g->env, &r);
  }
  wipe(&g->cfg, sizeof g->cfg);
  kfree(g);
  return 0;
}

/* ---- the service --------------------------------------------------------------- */

/* Starts a generation task: 0, or 1 after replying with an error. */
static int generate(const struct svc_envelope *env, const struct llm_request *q) {
  if (!q->messages || q->n_messages == 0 || ((q->flags & LLM_RAW) && q->n_messages != 1))
    return reply_error(env, MN_EINVAL, "a request needs messages", 0), 1;
  for (size_t i = 0; i < q->n_messages; i++)
    if ((!q->messages[i].text && q->messages[i].len) || q->messages[i].role > LLM_ROLE_ASSISTANT)
      return reply_error(env, MN_EINVAL, "bad message", 0), 1;
  if (!R.cfg.model[0]) return reply_error(env, MN_EINVAL, "no model configured", 0), 1;
  uint64_t now = ktime_now();
  if (now < R.not_before) {
    uint32_t left = (uint32_t)((R.not_before - now + MN_SEC(1) - 1) / MN_SEC(1));
    char m[64] = "rate limited: retry in ";
    cat_num(m, sizeof m, left);
    cat_str(m, sizeof m, " s");
    return reply_error(env, MN_EBUSY, m, left), 1;
  }
  struct gen *g = kzalloc(sizeof *g);
  if (!g) return reply_error(env, MN_ENOMEM, "no memory for a generation", 0), 1;
  g->env = *env;
  g->req = *q;
  g->cfg = R.cfg;
  int rc = task_spawn("llm-remote-gen", gen_task, g, GEN_STACK, 0);
  if (rc) {
    wipe(&g->cfg, sizeof g->cfg);
    kfree(g);
    reply_error(env, rc, "cannot start the generation task", 0);
    return 1;
  }
  return 0;
}

static void serve(const struct svc_envelope *env, const struct llm_request *q) {
  struct llm_response r;
  memset(&r, 0, sizeof r);
  r.op = q->op;
  switch (q->op) {
  case LLM_OP_OPEN:
    if (++R.next_conv == 0) R.next_conv = 1;
    r.conv = R.next_conv;
    /* fall through */
  case LLM_OP_INFO:
    copy_str(r.model, sizeof r.model, R.cfg.model);
    copy_str(r.chat_template, sizeof r.chat_template, R.cfg.provider);
    r.max_conversations = 0xffffffffu;
    svc_reply_ok(R.srv, env, &r);
    return;
  case LLM_OP_CLOSE:
    r.conv = q->conv;
    svc_reply_ok(R.srv, env, &r);
    return;
  case LLM_OP_GENERATE:
    if (!q->out) return reply_error(env, MN_EINVAL, "a request needs an output ring", 0);
    /* a refused GENERATE closes the ring too (the client reads until then) */
    if (generate(env, q)) bbq_close(q->out);
    return;
  default:
    reply_error(env, MN_EINVAL, "unknown operation", 0);
  }
}

static int remote_task(void *arg) {
  (void)arg;
  SVC_MSG_BUF(msg, sizeof(struct llm_request));
  while (svc_recv(R.srv, msg, MN_FOREVER) == 0) {
    if (msg->env.kind != SVC_MSG_REQUEST) continue;
    struct llm_request q;
    memcpy(&q, msg->body, sizeof q);
    serve(&msg->env, &q);
  }
  return 0;
}

static int config_from(const struct llm_remote_config *c, struct rcfg *o, int *api) {
  memset(o, 0, sizeof *o);
  const char *prov = c->provider && *c->provider ? c->provider : "openai";
  const char *base = NULL;
  for (size_t i = 0; i < sizeof providers / sizeof providers[0]; i++)
    if (!strcmp(prov, providers[i].name)) {
      base = providers[i].base;
      *api = providers[i].api;
    }
  if (!base) return MN_EINVAL;
  if (c->base_url && *c->base_url) base = c->base_url;
  if (strlen(base) >= sizeof o->base || (c->api_key && strlen(c->api_key) >= sizeof o->key) ||
      (c->model && strlen(c->model) >= sizeof o->model) ||
      (c->system && strlen(c->system) >= sizeof o->system))
    return MN_EINVAL;
  if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8)) return MN_EINVAL;
  copy_str(o->provider, sizeof o->provider, prov);
  copy_str(o->base, sizeof o->base, base);
  copy_str(o->key, sizeof o->key, c->api_key);
  copy_str(o->model, sizeof o->model, c->model);
  copy_str(o->system, sizeof o->system, c->system);
  o->has_system = c->system && *c->system;
  o->api = *api;
  o->temp_milli = c->temperature < 0 ? -1 : (int)(c->temperature * 1000.0f + 0.5f);
  if (o->temp_milli > 2000) o->temp_milli = 2000;
  o->max_tokens = c->max_tokens ? c->max_tokens : 1024;
  o->stream = c->stream;
  o->timeout_ns = c->timeout_ms ? MN_MSEC(c->timeout_ms) : MN_SEC(60);
  return 0;
}

int llm_remote_start(const struct llm_remote_config *cfg) {
  struct rcfg c;
  int api = 0;
  int rc = config_from(cfg, &c, &api);
  if (rc) {
    wipe(&c, sizeof c);
    return rc;
  }
  R.cfg = c;
  wipe(&c, sizeof c);
  R.not_before = 0;
  /* Registered already (in this kernel): the new settings are taken. */
  static const struct svc_type type = LLM_SVC_TYPE;
  struct svc_server *srv;
  rc = svc_register(&LLM_REMOTE_UUID, "llm-remote", &type, NULL, SVC_ACCEPT_ALL, 8, &srv);
  if (rc == MN_EEXIST && R.started) return 0;
  if (rc) return rc;
  R.srv = srv;
  if ((rc = task_spawn("llm-remote", remote_task, 0, 16 * 1024, 0))) return rc;
  R.started = 1;
  llm_remote_words();
  klog(LOG_INFO, "llm-remote: %s, model %s, %s%s", R.cfg.provider, R.cfg.model, R.cfg.base,
       R.cfg.stream ? ", streaming" : "");
  return 0;
}

/* ---- saved settings -------------------------------------------------------- */

int llm_remote_config_from_settings(const struct mn_settings *s, struct llm_remote_config *c) {
  memset(c, 0, sizeof *c);
  if (!s->provider[0]) return MN_ENOENT;
  if (!strcmp(s->provider, "local")) return MN_ENOTSUP; /* llm-local's */
  /* the settings' strings are NUL-terminated within their arrays */
  if (!memchr(s->provider, 0, sizeof s->provider) || !memchr(s->api_key, 0, sizeof s->api_key) ||
      !memchr(s->model, 0, sizeof s->model) || !memchr(s->base_url, 0, sizeof s->base_url) ||
      !memchr(s->system, 0, sizeof s->system))
    return MN_EINVAL;
  c->provider = s->provider;
  c->base_url = s->base_url[0] ? s->base_url : NULL;
  c->api_key = s->api_key;
  c->model = s->model;
  c->system = s->system[0] ? s->system : NULL;
  c->temperature = s->temperature;
  c->max_tokens = s->max_tokens;
  c->stream = 1;
  return 0;
}

/* ---- the model list ------------------------------------------------------------ */

struct models {
  char *buf;
  size_t cap, len;
  int n;
};

static void add_model(void *ctx, const char *id) {
  struct models *m = ctx;
  size_t l = strlen(id) + 1;
  if (m->len + l > m->cap) return;
  memcpy(m->buf + m->len, id, l);
  m->len += l;
  m->n++;
}

struct models_job {
  char *buf, *why;
  size_t cap, why_cap;
  int rc;
};

static int models_in_task(char *buf, size_t cap, char *why, size_t why_cap);

static int models_task(void *arg) {
  struct models_job *j = arg;
  j->rc = models_in_task(j->buf, j->cap, j->why, j->why_cap);
  return 0;
}

/* On a task of its own: http_request needs a deep stack, and the caller
 * may be a Forth VM's task with a small one. */
int llm_remote_models(char *buf, size_t cap, char *why, size_t why_cap) {
  struct models_job j = {buf, why, cap, why_cap, MN_EIO};
  struct task *t;
  int rc = task_spawn("llm-models", models_task, &j, GEN_STACK, &t);
  if (rc) return rc;
  task_join(t, MN_FOREVER, NULL);
  return j.rc;
}

static int models_in_task(char *buf, size_t cap, char *why, size_t why_cap) {
  char w[sizeof ((struct llm_error *)0)->message];
  w[0] = 0;
  if (!R.started) {
    copy_str(why, why_cap, "llm-remote is not configured");
    return MN_ENOENT;
  }
  struct rcfg *c = kmalloc(sizeof *c);
  char *hdr = kmalloc(512);
  int *tok = kmalloc(4096 * 16);
  char url[HTTP_URL_PATH_MAX + HTTP_URL_HOST_MAX + 16];
  int rc = 0;
  struct xfer x;
  memset(&x, 0, sizeof x);
  if (!c || !hdr || !tok) {
    rc = MN_ENOMEM;
    copy_str(w, sizeof w, "no memory");
    goto out;
  }
  *c = R.cfg;
  endpoint(c, "/models", url, sizeof url);
  auth_headers(c, 0, hdr, 512);
  struct http_client_request hr;
  memset(&hr, 0, sizeof hr);
  hr.method = "GET";
  hr.url = url;
  hr.url_len = strlen(url);
  hr.headers = hdr;
  hr.read_timeout_ns = c->timeout_ns;
  hr.max_redirects = -1;
  hr.on_status = x_status;
  hr.on_header = x_header;
  hr.on_body = x_body;
  hr.ctx = &x;
  struct http_client_result res;
  memset(&res, 0, sizeof res);
  rc = http_request(&hr, &res);
  wipe(hdr, 512);
  if (rc) {
    copy_str(w, sizeof w, res.error[0] ? res.error : mn_strerror(rc));
    goto out;
  }
  if (x.status != 200) {
    struct llm_api_error *le = kmalloc(sizeof *le);
    if (!le) {
      rc = MN_ENOMEM;
      goto out;
    }
    llm_decode_error(x.status, x.retry_after[0] ? x.retry_after : NULL, x.body, x.body_len, le);
    copy_str(w, sizeof w, "HTTP ");
    cat_num(w, sizeof w, (uint64_t)x.status);
    cat_str(w, sizeof w, ": ");
    cat_str(w, sizeof w, le->message[0] ? le->message : le->type);
    rc = le->code ? le->code : MN_EHTTP;
    kfree(le);
    goto out;
  }
  struct models m = {buf, cap, 0, 0};
  rc = llm_decode_models(x.body, x.body_len, tok, 4096, add_model, &m);
  if (rc < 0) copy_str(w, sizeof w, "the model list is not the API's JSON");
  else rc = m.n;
out:
  if (c) wipe(c, sizeof *c);
  kfree(c);
  kfree(hdr);
  kfree(tok);
  kfree(x.body);
  if (why && why_cap) copy_str(why, why_cap, w);
  return rc;
}
