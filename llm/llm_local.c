/*
 * llm_local.c: the `llm-local` service, the inference engine (infer/)
 * inside the kernel behind the `llm` interface (include/mneme/llm.h).
 *
 * One model (a GGUF file in memory, weights used in place) serves every
 * conversation: each conversation has its own KV cache (a llama_model
 * built over the same weights) and remembers the tokens in it, so the
 * next request of the conversation only evaluates what is new. The
 * service task answers INFO/OPEN/CLOSE itself and starts a task for each
 * GENERATE, so several conversations generate side by side; each
 * generation yields between tokens (and the parallel-for yields before
 * each job), so the rest of the kernel keeps running.
 *
 * Memory limits: a conversation's state comes from the kernel heap only
 * while mem_reserve bytes stay free after it, and there are at most
 * max_conversations of them (one-off requests included).
 *
 * Interface: llm_local_start, llm_local_load, llm_local_model,
 * llm_sampling_greedy, llm_sampling_default.
 */
#include <string.h>

#include "mneme/bbq.h"
#include "mneme/chat.h"
#include "mneme/err.h"
#include "mneme/gguf.h"
#include "mneme/heap.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/llama.h"
#include "mneme/llm.h"
#include "mneme/log.h"
#include "mneme/par.h"
#include "mneme/registry.h"
#include "mneme/sample.h"
#include "mneme/task.h"
#include "mneme/tokenizer.h"

const struct uuid LLM_LOCAL_UUID = {{0x2f, 0x8c, 0x5b, 0x1e, 0x6d, 0x0a, 0x4c, 0x4b,
                                     0x9a, 0x8e, 0x3b, 0x1f, 0x7d, 0x2c, 0x9e, 0x01}};

#define MAX_CONVS 16
#define GEN_STACK (64u * 1024u)
#define WRITE_TIMEOUT MN_SEC(60) /* a reader that stops reading: cancelled */

struct conv {
  uint32_t id;               /* 0: free slot */
  int busy, oneoff;
  struct llama_model m;
  int32_t *toks;             /* [n_ctx]: the tokens in the KV cache */
};

struct gen {
  struct conv *c;
  struct svc_envelope env;
  struct llm_request req;
};

static struct {
  struct llm_local_config cfg;
  struct gguf_file gf;
  struct tokenizer tok;
  int tmpl;                  /* chat_tmpl or MN_ENOTSUP */
  char name[48];
  struct svc_server *srv;
  struct conv convs[MAX_CONVS];
  uint32_t next_id;
  uint32_t n_ctx;
  struct llama_model base;   /* holds the one repacked copy of the weights */
  int have_base;
} L;

void llm_sampling_greedy(struct llm_sampling *s) {
  memset(s, 0, sizeof *s);
  s->top_p = 1.0f;
  s->repeat_penalty = 1.0f;
}

void llm_sampling_default(struct llm_sampling *s) {
  struct sample_params p;
  sample_defaults(&p);
  s->temperature = p.temp;
  s->top_k = p.top_k;
  s->top_p = p.top_p;
  s->min_p = p.min_p;
  s->repeat_penalty = p.repeat_penalty;
  s->repeat_last_n = p.repeat_last_n;
  s->seed = p.seed;
}

/* Copies NUL-terminated src into dst[cap], truncated, NUL-terminated. */
static void copy_str(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = 0;
}

/* ---- memory: the kernel heap, leaving mem_reserve free ------------------- */

static void *model_alloc(void *ctx, size_t n) {
  (void)ctx;
  if (heap_largest_free(kmem_heap()) < n + L.cfg.mem_reserve) return NULL;
  return kmalloc_aligned(n, 64);
}

static void model_free(void *ctx, void *p, size_t n) {
  (void)ctx;
  (void)n;
  kfree(p);
}

static const struct infer_alloc model_al = {.alloc = model_alloc, .free = model_free};

/* The start-up check's: transient, so without the reserve. */
static void *check_alloc(void *ctx, size_t n) {
  (void)ctx;
  return kmalloc_aligned(n, 64);
}

static const struct infer_alloc check_al = {.alloc = check_alloc, .free = model_free};

static void *tok_kalloc(void *ctx, size_t n) {
  (void)ctx;
  return kmalloc(n);
}

static void tok_kfree(void *ctx, void *p) {
  (void)ctx;
  kfree(p);
}

/* ---- conversations --------------------------------------------------------- */

static void conv_free(struct conv *c) {
  llama_free(&c->m);
  kfree(c->toks);
  memset(c, 0, sizeof *c);
}

/* A free slot with a built model, or MN_EBUSY / MN_ENOMEM. */
static int conv_new(int oneoff, struct conv **out, struct llm_error *e) {
  struct conv *c = NULL;
  for (uint32_t i = 0; i < L.cfg.max_conversations; i++)
    if (!L.convs[i].id) {
      c = &L.convs[i];
      break;
    }
  if (!c) {
    e->code = MN_EBUSY;
    copy_str(e->message, sizeof e->message, "too many conversations");
    return MN_EBUSY;
  }
  /* Every conversation runs on the same weights: the one repacked copy
   * L.base holds, else the file's layout in place. */
  struct llama_opts o = {.n_ctx = (int)L.n_ctx, .par = L.cfg.par, .no_repack = !L.have_base,
                         .packed_from = L.have_base ? &L.base : NULL, .ops = L.cfg.ops};
  int rc = llama_build(&c->m, &L.gf, &o, &model_al);
  if (rc) {
    e->code = rc == MN_ENOMEM ? MN_ENOMEM : MN_EIO;
    copy_str(e->message, sizeof e->message, rc == MN_ENOMEM ? "no memory for another KV cache" : "model build failed");
    return e->code;
  }
  c->toks = kmalloc(L.n_ctx * sizeof *c->toks);
  if (!c->toks) {
    llama_free(&c->m);
    e->code = MN_ENOMEM;
    copy_str(e->message, sizeof e->message, "no memory for another conversation");
    return MN_ENOMEM;
  }
  if (++L.next_id == 0) L.next_id = 1;
  c->id = L.next_id;
  c->oneoff = oneoff;
  *out = c;
  return 0;
}

static struct conv *conv_find(uint32_t id) {
  for (int i = 0; i < MAX_CONVS; i++)
    if (id && L.convs[i].id == id) return &L.convs[i];
  return NULL;
}

/* ---- one generation -------------------------------------------------------- */

static const char *role_name(uint32_t r) {
  return r == LLM_ROLE_SYSTEM ? "system" : r == LLM_ROLE_ASSISTANT ? "assistant" : "user";
}

/*
 * The prompt's tokens into ids[cap]: the raw text, or the messages from
 * `first` on (and a leading system message) in the chat template.
 * Returns the count, or an MN_E* code.
 */
static int render(const struct llm_request *q, size_t first, int32_t *ids, size_t cap) {
  unsigned flags = TOK_ADD_SPECIAL;
  char *text = NULL;
  size_t len = 0;
  int rc = 0;
  if (q->flags & LLM_RAW) {
    text = kmalloc(q->messages[0].len + 1);
    if (!text) return MN_ENOMEM;
    memcpy(text, q->messages[0].text, q->messages[0].len);
    len = q->messages[0].len;
  } else {
    if (L.tmpl < 0) return MN_ENOTSUP;
    /* NUL-terminated copies of the kept messages, then the template */
    size_t n = 0, bytes = 0;
    for (size_t i = 0; i < q->n_messages; i++)
      if (i >= first || (i == 0 && q->messages[0].role == LLM_ROLE_SYSTEM))
        n++, bytes += q->messages[i].len + 1;
    struct chat_msg *cm = kmalloc(n * sizeof *cm + bytes);
    if (!cm) return MN_ENOMEM;
    char *p = (char *)(cm + n);
    size_t k = 0;
    for (size_t i = 0; i < q->n_messages; i++) {
      if (!(i >= first || (i == 0 && q->messages[0].role == LLM_ROLE_SYSTEM))) continue;
      memcpy(p, q->messages[i].text, q->messages[i].len);
      p[q->messages[i].len] = 0;
      cm[k].role = role_name(q->messages[i].role);
      cm[k++].content = p;
      p += q->messages[i].len + 1;
    }
    rc = chat_apply(L.tmpl, cm, n, true, NULL, 0, &len);
    if (rc == MN_ENOSPC) rc = 0;
    if (!rc && !(text = kmalloc(len + 1))) rc = MN_ENOMEM;
    if (!rc) rc = chat_apply(L.tmpl, cm, n, true, text, len + 1, &len);
    kfree(cm);
    if (rc) {
      kfree(text);
      return rc;
    }
    flags |= TOK_PARSE_SPECIAL;
  }
  size_t nids = 0;
  rc = tok_encode(&L.tok, text, len, flags, ids, cap, &nids);
  kfree(text);
  if (rc == MN_ENOSPC) return MN_ENOSPC;
  return rc ? rc : (int)nids;
}

static int finish_reply(struct gen *g, uint32_t finish, const struct llm_usage *u) {
  struct llm_response r;
  memset(&r, 0, sizeof r);
  r.op = LLM_OP_GENERATE;
  r.conv = g->c->oneoff ? 0 : g->c->id;
  r.finish = finish;
  r.usage = *u;
  return svc_reply_ok(L.srv, &g->env, &r);
}

static void error_reply(struct gen *g, int code, const char *msg) {
  struct llm_error e;
  memset(&e, 0, sizeof e);
  e.code = code;
  copy_str(e.message, sizeof e.message, msg);
  svc_reply_err(L.srv, &g->env, &e);
}

/* Writes all of s to the client's ring: 0, or MN_ECLOSED (cancelled). */
static int emit(struct bbq *out, const char *s, size_t n) {
  if (n == 0) return 0;
  int rc = bbq_write_all(out, s, n, WRITE_TIMEOUT);
  return rc ? MN_ECLOSED : 0;
}

static int gen_task(void *arg) {
  struct gen *g = arg;
  struct conv *c = g->c;
  struct llama_model *m = &c->m;
  const struct llm_request *q = &g->req;
  struct llm_usage u;
  memset(&u, 0, sizeof u);
  uint32_t finish = LLM_FINISH_STOP;
  const char *err = NULL;
  int errc = 0;
  struct sample_cand *cand = NULL;
  int32_t *recent = NULL;
  int32_t *ids = kmalloc((L.n_ctx + 1) * sizeof *ids);
  uint64_t t0 = ktime_now();
  if (!ids) {
    errc = MN_ENOMEM, err = "no memory for the prompt";
    goto out;
  }
  /* The prompt, dropping the oldest turns while it does not fit. */
  int n = 0;
  size_t first = 0;
  for (;;) {
    n = render(q, first, ids, L.n_ctx + 1);
    int room = n >= 0 && (uint32_t)n + (q->max_tokens ? 1 : 0) <= L.n_ctx;
    if (room || (q->flags & LLM_RAW) || (n < 0 && n != MN_ENOSPC) ||
        first + 1 >= q->n_messages)
      break;
    first++;
    if (first == 1 && q->messages[0].role == LLM_ROLE_SYSTEM) first++;
    if (first >= q->n_messages) break;
  }
  u.dropped_messages = (uint32_t)first;
  if (first && q->messages[0].role == LLM_ROLE_SYSTEM) u.dropped_messages--;
  if (n < 0 || (uint32_t)n >= L.n_ctx) {
    errc = n == MN_ENOTSUP ? MN_ENOTSUP : n == MN_ENOMEM ? MN_ENOMEM : MN_ENOSPC;
    err = errc == MN_ENOTSUP ? "the model's chat template is not supported"
          : errc == MN_ENOMEM ? "no memory for the prompt"
                              : "the prompt does not fit the context";
    goto out;
  }
  if (n == 0) {
    errc = MN_EINVAL, err = "empty prompt";
    goto out;
  }
  /* Reuse the KV cache of the common prefix (at least one token is
   * evaluated: its logits start the generation). */
  int keep = 0;
  while (keep < m->pos && keep < n - 1 && c->toks[keep] == ids[keep]) keep++;
  m->pos = keep;
  u.prompt_tokens = (uint32_t)n;
  u.cached_tokens = (uint32_t)keep;
  int rc = llama_forward(m, ids + keep, n - keep);
  if (rc) {
    m->pos = 0;
    errc = MN_EIO, err = mn_strerror(rc);
    goto out;
  }
  memcpy(c->toks + keep, ids + keep, (size_t)(n - keep) * sizeof *ids);
  uint64_t t1 = ktime_now();
  u.prompt_ns = t1 - t0;

  struct sampler smp;
  struct sample_params sp = {q->sampling.temperature, q->sampling.top_k, q->sampling.top_p,
                             q->sampling.min_p, q->sampling.repeat_penalty,
                             q->sampling.repeat_last_n, q->sampling.seed};
  int greedy = sp.temp <= 0.f && sp.repeat_penalty == 1.f;
  if (!greedy) {
    cand = kmalloc((size_t)m->c.vocab * sizeof *cand);
    recent = kmalloc((size_t)(sp.repeat_last_n > 0 ? sp.repeat_last_n : 1) * sizeof *recent);
    if (!cand || !recent) {
      errc = MN_ENOMEM, err = "no memory for the sampler";
      goto out;
    }
    if (sample_init(&smp, &sp, m->c.vocab, cand, recent)) {
      errc = MN_EINVAL, err = "bad sampling settings";
      goto out;
    }
    for (int i = 0; i < n; i++) sample_accept(&smp, ids[i]);
  }
  struct tok_stream ts;
  memset(&ts, 0, sizeof ts);
  char buf[1024];
  finish = LLM_FINISH_LENGTH;
  for (uint32_t k = 0; k < q->max_tokens; k++) {
    int32_t next;
    if (greedy) {
      next = sample_argmax(m->s.logits, m->c.vocab);
    } else {
      next = sample_next(&smp, m->s.logits);
      sample_accept(&smp, next);
    }
    u.completion_tokens++;
    if (tok_is_eog(&L.tok, next)) {
      finish = LLM_FINISH_STOP;
      break;
    }
    int w = tok_stream_put(&L.tok, &ts, next, 0, buf, sizeof buf);
    if (w > 0 && emit(q->out, buf, (size_t)w)) {
      finish = LLM_FINISH_CANCELLED;
      break;
    }
    if (k + 1 == q->max_tokens) break;
    if (m->pos >= m->n_ctx) break; /* context full: LENGTH */
    c->toks[m->pos] = next;
    if ((rc = llama_forward(m, &next, 1))) {
      finish = LLM_FINISH_ERROR;
      break;
    }
    task_yield();
  }
  if (finish != LLM_FINISH_CANCELLED) {
    int w = tok_stream_flush(&ts, buf, sizeof buf);
    if (w > 0 && emit(q->out, buf, (size_t)w)) finish = LLM_FINISH_CANCELLED;
  }
  u.generate_ns = ktime_now() - t1;
out:
  kfree(ids);
  kfree(cand);
  kfree(recent);
  bbq_close(q->out);
  if (err) error_reply(g, errc, err);
  else finish_reply(g, finish, &u);
  if (c->oneoff) conv_free(c);
  else c->busy = 0;
  kfree(g);
  return 0;
}

/* ---- the service ------------------------------------------------------------- */

static void reply_error(const struct svc_envelope *env, int code, const char *msg) {
  struct llm_error e;
  memset(&e, 0, sizeof e);
  e.code = code;
  copy_str(e.message, sizeof e.message, msg);
  svc_reply_err(L.srv, env, &e);
}

static void fill_info(struct llm_response *r) {
  memcpy(r->model, L.name, sizeof r->model);
  const char *t = L.tmpl >= 0 ? chat_name(L.tmpl) : "none";
  copy_str(r->chat_template, sizeof r->chat_template, t);
  r->n_ctx = L.n_ctx;
  r->max_conversations = L.cfg.max_conversations;
}

static int generate(const struct svc_envelope *env, const struct llm_request *q);

static void serve(const struct svc_envelope *env, const struct llm_request *q) {
  struct llm_response r;
  memset(&r, 0, sizeof r);
  r.op = q->op;
  struct llm_error e;
  memset(&e, 0, sizeof e);
  struct conv *c = NULL;
  switch (q->op) {
  case LLM_OP_INFO:
    fill_info(&r);
    svc_reply_ok(L.srv, env, &r);
    return;
  case LLM_OP_OPEN:
    if (conv_new(0, &c, &e)) {
      svc_reply_err(L.srv, env, &e);
      return;
    }
    r.conv = c->id;
    fill_info(&r);
    svc_reply_ok(L.srv, env, &r);
    return;
  case LLM_OP_CLOSE:
    if (!(c = conv_find(q->conv)) || c->oneoff) return reply_error(env, MN_ENOENT, "no such conversation");
    if (c->busy) return reply_error(env, MN_EBUSY, "the conversation is generating");
    conv_free(c);
    svc_reply_ok(L.srv, env, &r);
    return;
  case LLM_OP_GENERATE:
    break;
  default:
    return reply_error(env, MN_EINVAL, "unknown operation");
  }
  /* GENERATE: the ring is closed whatever happens (the client reads
   * until then). */
  if (q->out) {
    int rc = generate(env, q);
    if (rc) bbq_close(q->out);
    return;
  }
  reply_error(env, MN_EINVAL, "a request needs an output ring");
}

/* Starts a generation task; returns 0, or nonzero after replying with an
 * error. */
static int generate(const struct svc_envelope *env, const struct llm_request *q) {
  struct llm_error e;
  memset(&e, 0, sizeof e);
  struct conv *c = NULL;
  if (!q->messages || q->n_messages == 0 ||
      ((q->flags & LLM_RAW) && q->n_messages != 1))
    return reply_error(env, MN_EINVAL, "a request needs messages and an output ring"), 1;
  for (size_t i = 0; i < q->n_messages; i++)
    if ((!q->messages[i].text && q->messages[i].len) || q->messages[i].role > LLM_ROLE_ASSISTANT)
      return reply_error(env, MN_EINVAL, "bad message"), 1;
  if (q->conv) {
    if (!(c = conv_find(q->conv)) || c->oneoff) return reply_error(env, MN_ENOENT, "no such conversation"), 1;
    if (c->busy) return reply_error(env, MN_EBUSY, "the conversation is generating"), 1;
  } else if (conv_new(1, &c, &e)) {
    svc_reply_err(L.srv, env, &e);
    return 1;
  }
  struct gen *g = kmalloc(sizeof *g);
  int rc = g ? 0 : MN_ENOMEM;
  if (g) {
    g->c = c;
    g->env = *env;
    g->req = *q;
    c->busy = 1;
    rc = task_spawn("llm-gen", gen_task, g, GEN_STACK, 0);
  }
  if (rc) {
    kfree(g);
    if (c->oneoff) conv_free(c);
    else c->busy = 0;
    reply_error(env, rc, "cannot start the generation task");
    return 1;
  }
  return 0;
}

static int llm_task(void *arg) {
  (void)arg;
  SVC_MSG_BUF(msg, sizeof(struct llm_request));
  while (svc_recv(L.srv, msg, MN_FOREVER) == 0) {
    if (msg->env.kind != SVC_MSG_REQUEST) continue;
    struct llm_request q;
    memcpy(&q, msg->body, sizeof q);
    serve(&msg->env, &q);
  }
  return 0;
}

/* Opens cfg's model into L (GGUF, tokenizer, chat template, name, a
 * build to check it); L.srv and the conversations are left alone. */
static int model_open(const struct llm_local_config *cfg, const char **why) {
  L.cfg = *cfg;
  if (!L.cfg.max_conversations || L.cfg.max_conversations > MAX_CONVS)
    L.cfg.max_conversations = 4;
  if (!L.cfg.mem_reserve) L.cfg.mem_reserve = 8u << 20;
  if (!L.cfg.par) L.cfg.par = &par_serial;
  memset(L.name, 0, sizeof L.name);
  int rc = gguf_open(&L.gf, cfg->gguf, cfg->gguf_size);
  if (rc) {
    *why = L.gf.err_msg ? L.gf.err_msg : "not a GGUF file";
    return rc;
  }
  struct tok_alloc ta = {tok_kalloc, tok_kfree, NULL};
  if ((rc = tok_init(&L.tok, &L.gf, &ta))) {
    *why = "no usable tokenizer";
    return rc;
  }
  L.tmpl = chat_from_gguf(&L.gf);
  const char *s;
  size_t len;
  if (gguf_get_str(&L.gf, "general.name", &s, &len) == 0 && len > 0) {
    if (len >= sizeof L.name) len = sizeof L.name - 1;
    memcpy(L.name, s, len);
  } else if (cfg->file_name) {
    copy_str(L.name, sizeof L.name, cfg->file_name);
  }
  /* Build once to check the model (and learn its context length). */
  struct llama_model m;
  struct llama_opts o = {.n_ctx = (int)cfg->n_ctx, .par = L.cfg.par, .no_repack = 1,
                         .ops = L.cfg.ops};
  if (!o.n_ctx) {
    o.n_ctx = 1; /* small: only the shape matters here */
  }
  if ((rc = llama_build(&m, &L.gf, &o, &check_al))) {
    static char buf[128];
    memcpy(buf, m.err, sizeof buf);
    buf[sizeof buf - 1] = 0;
    *why = rc == MN_ENOMEM ? "not enough memory for the model's state" : buf;
    tok_free(&L.tok);
    return rc;
  }
  L.n_ctx = cfg->n_ctx ? cfg->n_ctx
                       : (uint32_t)(m.c.ctx_train < 2048 ? m.c.ctx_train : 2048);
  llama_free(&m);
  /* The weights repacked for the kernels once, shared by every
   * conversation (llama_opts.packed_from); without the memory (the heap
   * reserve stays free) they run in place. */
  struct llama_opts bo = {.n_ctx = 1, .par = L.cfg.par, .ops = L.cfg.ops};
  L.have_base = 0;
  if (llama_build(&L.base, &L.gf, &bo, &model_al) == 0) {
    if (L.base.packed_mem) L.have_base = 1;
    else llama_free(&L.base);
  }
  char how[48];
  if (L.have_base)
    ksnprintf(how, sizeof how, "weights repacked (%lu KiB, shared)",
              (unsigned long)(L.base.packed_bytes >> 10));
  else
    ksnprintf(how, sizeof how, "weights in place");
  klog(LOG_INFO, "llm-local: %s: %d layers, dim %d, vocab %d, n_ctx %u, chat %s, kernels %s, %d threads, %s",
       L.name, m.c.n_layers, m.c.dim, m.c.vocab, L.n_ctx, L.tmpl >= 0 ? chat_name(L.tmpl) : "none",
       m.ops->name, L.cfg.par->nthreads, how);
  return 0;
}

int llm_local_start(const struct llm_local_config *cfg, const char **why) {
  static const char *dummy;
  if (!why) why = &dummy;
  *why = NULL;
  memset(&L, 0, sizeof L);
  int rc = model_open(cfg, why);
  if (rc) {
    memset(&L, 0, sizeof L);
    return rc;
  }
  static const struct svc_type type = LLM_SVC_TYPE;
  if ((rc = svc_register(&LLM_LOCAL_UUID, "llm-local", &type, NULL, SVC_ACCEPT_ALL, 8,
                         &L.srv))) {
    *why = "cannot register the service";
    tok_free(&L.tok);
    L.srv = NULL;
    return rc;
  }
  return task_spawn("llm-local", llm_task, 0, 16 * 1024, 0);
}

int llm_local_load(const struct llm_local_config *cfg, const char **why) {
  static const char *dummy;
  if (!why) why = &dummy;
  *why = NULL;
  if (!L.srv) return llm_local_start(cfg, why);
  for (int i = 0; i < MAX_CONVS; i++)
    if (L.convs[i].id) {
      *why = "conversations are open on the current model (close them first)";
      return MN_EBUSY;
    }
  /* Nothing waits: the service's task answers from L only between our
   * steps, and no step here yields. */
  struct llm_local_config old_cfg = L.cfg;
  struct gguf_file old_gf = L.gf;
  struct tokenizer old_tok = L.tok;
  int old_tmpl = L.tmpl;
  char old_name[sizeof L.name];
  uint32_t old_ctx = L.n_ctx;
  memcpy(old_name, L.name, sizeof old_name);
  struct llama_model old_base = L.base;   /* the old weights' repacked copy */
  int old_have_base = L.have_base;
  int rc = model_open(cfg, why);
  if (rc) {
    L.cfg = old_cfg, L.gf = old_gf, L.tok = old_tok, L.tmpl = old_tmpl, L.n_ctx = old_ctx;
    memcpy(L.name, old_name, sizeof L.name);
    L.base = old_base, L.have_base = old_have_base;
    return rc;
  }
  if (old_have_base) llama_free(&old_base);
  tok_free(&old_tok);
  if (old_cfg.release) old_cfg.release(old_cfg.gguf, old_cfg.gguf_size);
  return 0;
}

const char *llm_local_model(void) { return L.srv ? L.name : NULL; }
