/*
 * llmapi.c: request bodies, stream decoders, non-streamed answers and
 * error bodies for OpenAI-compatible chat completions and Anthropic
 * messages (docs/llmapi.md).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mneme/err.h"
#include "mneme/llmapi.h"
#include "json_tok.h"

/* ---- requests ---------------------------------------------------------- */

static void
put_uint(struct llm_buf *b, uint32_t v)
{
  char d[10];
  int n = 0;
  do {
    d[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n)
    llm_buf_put(b, &d[--n], 1);
}

static void
put_str(struct llm_buf *b, const char *s, size_t n)
{
  llm_buf_put(b, "\"", 1);
  llm_json_escape(b, s, n);
  llm_buf_put(b, "\"", 1);
}

static void
put_key(struct llm_buf *b, const char *k)
{
  llm_buf_put(b, ",\"", 2);
  llm_buf_puts(b, k);
  llm_buf_put(b, "\":", 2);
}

/* A tool call by the assistant and its result, in the API's shape. */
static int
put_tool_turn(enum llm_api api, const struct llm_tool_turn *t, struct llm_buf *out)
{
  const char *id = t->id ? t->id : "";
  const char *args = t->args && *t->args ? t->args : "{}";
  if (!t->name || (t->len && !t->text) || (t->result_len && !t->result))
    return MN_EINVAL;
  const char *res = t->result ? t->result : "";
  if (api == LLM_API_OPENAI) {
    llm_buf_puts(out, "{\"role\":\"assistant\",\"content\":");
    if (t->len)
      put_str(out, t->text, t->len);
    else
      llm_buf_puts(out, "null");
    llm_buf_puts(out, ",\"tool_calls\":[{\"id\":");
    put_str(out, id, strlen(id));
    llm_buf_puts(out, ",\"type\":\"function\",\"function\":{\"name\":");
    put_str(out, t->name, strlen(t->name));
    llm_buf_puts(out, ",\"arguments\":");
    put_str(out, args, strlen(args));
    llm_buf_puts(out, "}}]},{\"role\":\"tool\",\"tool_call_id\":");
    put_str(out, id, strlen(id));
    llm_buf_puts(out, ",\"content\":");
    put_str(out, res, t->result_len);
    llm_buf_puts(out, "}");
    return 0;
  }
  llm_buf_puts(out, "{\"role\":\"assistant\",\"content\":[");
  if (t->len) {
    llm_buf_puts(out, "{\"type\":\"text\",\"text\":");
    put_str(out, t->text, t->len);
    llm_buf_puts(out, "},");
  }
  llm_buf_puts(out, "{\"type\":\"tool_use\",\"id\":");
  put_str(out, id, strlen(id));
  llm_buf_puts(out, ",\"name\":");
  put_str(out, t->name, strlen(t->name));
  llm_buf_puts(out, ",\"input\":");
  llm_buf_puts(out, args); /* an object: the caller checked */
  llm_buf_puts(out, "}]},{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":");
  put_str(out, id, strlen(id));
  llm_buf_puts(out, ",\"content\":");
  put_str(out, res, t->result_len);
  llm_buf_puts(out, "}]}");
  return 0;
}

int
llm_build_request(enum llm_api api, const struct llm_chat_req *r, struct llm_buf *out)
{
  static const char *const roles[] = { "system", "user", "assistant" };
  if (!r->model || (api != LLM_API_OPENAI && api != LLM_API_ANTHROPIC) ||
      (r->n_msgs && !r->msgs))
    return MN_EINVAL;
  llm_buf_puts(out, "{\"model\":");
  put_str(out, r->model, strlen(r->model));
  if (api == LLM_API_ANTHROPIC) {
    put_key(out, "max_tokens");
    put_uint(out, r->max_tokens > 0 ? (uint32_t)r->max_tokens : 1024);
    if (r->system) {
      put_key(out, "system");
      put_str(out, r->system, strlen(r->system));
    }
  } else if (r->max_tokens > 0) {
    put_key(out, "max_tokens");
    put_uint(out, (uint32_t)r->max_tokens);
  }
  if (r->temperature_milli >= 0) {
    uint32_t t = (uint32_t)r->temperature_milli;
    put_key(out, "temperature");
    put_uint(out, t / 1000);
    if (t % 1000) {
      char f[4] = { '.', (char)('0' + t / 100 % 10), (char)('0' + t / 10 % 10),
                    (char)('0' + t % 10) };
      size_t fl = 4;
      while (f[fl - 1] == '0')
        fl--;
      llm_buf_put(out, f, fl);
    }
  }
  if (r->stream) {
    put_key(out, "stream");
    llm_buf_puts(out, "true");
    if (api == LLM_API_OPENAI)
      llm_buf_puts(out, ",\"stream_options\":{\"include_usage\":true}");
  }
  if (r->tool) {
    const struct llm_tool_def *t = r->tool;
    if (!t->name || !t->schema_json)
      return MN_EINVAL;
    const char *desc = t->description ? t->description : "";
    if (api == LLM_API_OPENAI) {
      llm_buf_puts(out, ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":");
      put_str(out, t->name, strlen(t->name));
      llm_buf_puts(out, ",\"description\":");
      put_str(out, desc, strlen(desc));
      llm_buf_puts(out, ",\"parameters\":");
      llm_buf_puts(out, t->schema_json);
      llm_buf_puts(out, "}}]");
    } else {
      llm_buf_puts(out, ",\"tools\":[{\"name\":");
      put_str(out, t->name, strlen(t->name));
      llm_buf_puts(out, ",\"description\":");
      put_str(out, desc, strlen(desc));
      llm_buf_puts(out, ",\"input_schema\":");
      llm_buf_puts(out, t->schema_json);
      llm_buf_puts(out, "}]");
    }
  }
  llm_buf_puts(out, ",\"messages\":[");
  int first = 1;
  if (api == LLM_API_OPENAI && r->system) {
    llm_buf_puts(out, "{\"role\":\"system\",\"content\":");
    put_str(out, r->system, strlen(r->system));
    llm_buf_puts(out, "}");
    first = 0;
  }
  for (size_t i = 0; i < r->n_msgs; i++) {
    const struct llm_msg *m = &r->msgs[i];
    if (m->role < 0 || m->role > LLM_MSG_ASSISTANT || (m->len && !m->text))
      return MN_EINVAL;
    if (api == LLM_API_ANTHROPIC && m->role == LLM_MSG_SYSTEM)
      return MN_EINVAL;
    if (!first)
      llm_buf_puts(out, ",");
    first = 0;
    llm_buf_puts(out, "{\"role\":\"");
    llm_buf_puts(out, roles[m->role]);
    llm_buf_puts(out, "\",\"content\":");
    put_str(out, m->text ? m->text : "", m->len);
    llm_buf_puts(out, "}");
  }
  for (size_t i = 0; i < r->n_turns; i++) {
    if (!first)
      llm_buf_puts(out, ",");
    first = 0;
    int rc = put_tool_turn(api, &r->turns[i], out);
    if (rc)
      return rc;
  }
  llm_buf_puts(out, "]}");
  return out->err ? out->err : MN_OK;
}

/* ---- errors ------------------------------------------------------------ */

/* Copies the JSON string at i, unescaped, NUL-terminated (cut to fit). */
static void
jcopy(const struct llm_jdoc *d, int i, char *dst, size_t cap)
{
  struct llm_buf b;
  llm_buf_init(&b, dst, cap - 1);
  if (llm_jtype(d, i) == LLM_J_STRING) {
    if (llm_jstr(d, i, &b) == MN_EDECODE)
      b.len = 0;
  }
  if (b.err && b.len) {
    /* Cut to fit: never leave half a character at the end. */
    size_t start = b.len - 1, back = 0;
    while (start > 0 && back < 3 && ((unsigned char)dst[start] & 0xc0) == 0x80) {
      start--;
      back++;
    }
    if (!llm_utf8_len((const unsigned char *)dst + start, b.len - start))
      b.len = start;
  }
  dst[b.len] = 0;
}

/* Fills type and message from {"error":{"type","message"}} or
 * {"error":"text"} or {"message":...}; 1 if anything was found. */
static int
error_fields(const struct llm_jdoc *d, int root, struct llm_api_error *e)
{
  int er = llm_jget(d, root, "error");
  if (llm_jtype(d, er) == LLM_J_STRING) {
    jcopy(d, er, e->message, sizeof e->message);
    return 1;
  }
  int obj = llm_jtype(d, er) == LLM_J_OBJECT ? er : root;
  int msg = llm_jget(d, obj, "message");
  int typ = llm_jget(d, obj, "type");
  if (llm_jtype(d, typ) != LLM_J_STRING)
    typ = llm_jget(d, obj, "code");
  if (msg < 0 && er < 0)
    return 0;
  jcopy(d, msg, e->message, sizeof e->message);
  jcopy(d, typ, e->type, sizeof e->type);
  return 1;
}

static void
kind_from_type(struct llm_api_error *e)
{
  if (!strcmp(e->type, "overloaded_error")) e->kind = LLM_ERR_OVERLOADED;
  else if (!strcmp(e->type, "rate_limit_error")) e->kind = LLM_ERR_RATE_LIMIT;
  else if (!strcmp(e->type, "authentication_error")) e->kind = LLM_ERR_AUTH;
  else if (!strcmp(e->type, "permission_error")) e->kind = LLM_ERR_FORBIDDEN;
  else if (!strcmp(e->type, "not_found_error")) e->kind = LLM_ERR_NOT_FOUND;
  else if (!strcmp(e->type, "invalid_request_error")) e->kind = LLM_ERR_BAD_REQUEST;
  else if (!strcmp(e->type, "api_error")) e->kind = LLM_ERR_SERVER;
  else e->kind = LLM_ERR_OTHER;
}

static const int kind_code[] = {
  [LLM_ERR_NONE] = MN_OK, [LLM_ERR_AUTH] = MN_EACCESS, [LLM_ERR_FORBIDDEN] = MN_EACCESS,
  [LLM_ERR_NOT_FOUND] = MN_ENOENT, [LLM_ERR_RATE_LIMIT] = MN_EBUSY,
  [LLM_ERR_SERVER] = MN_EIO, [LLM_ERR_OVERLOADED] = MN_EBUSY,
  [LLM_ERR_BAD_REQUEST] = MN_EINVAL, [LLM_ERR_OTHER] = MN_EREJECTED,
};

void
llm_decode_error(int status, const char *retry_after, const char *body, size_t len,
                 struct llm_api_error *e)
{
  int tok[128 * 4];
  memset(e, 0, sizeof *e);
  e->http_status = status;
  if (status == 401) e->kind = LLM_ERR_AUTH;
  else if (status == 403) e->kind = LLM_ERR_FORBIDDEN;
  else if (status == 404) e->kind = LLM_ERR_NOT_FOUND;
  else if (status == 429) e->kind = LLM_ERR_RATE_LIMIT;
  else if (status == 529) e->kind = LLM_ERR_OVERLOADED;
  else if (status >= 500 && status <= 599) e->kind = LLM_ERR_SERVER;
  else if (status == 400 || status == 413 || status == 422) e->kind = LLM_ERR_BAD_REQUEST;
  else e->kind = LLM_ERR_OTHER;
  e->code = kind_code[e->kind];
  if (retry_after) {
    const char *p = retry_after;
    while (*p == ' ' || *p == '\t')
      p++;
    uint64_t v = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
      v = v < 100000000 ? v * 10 + (uint64_t)(*p - '0') : v;
    while (*p == ' ' || *p == '\t')
      p++;
    if (digits && !*p)
      e->retry_after_s = v > 86400 ? 86400 : (uint32_t)v;
  }
  int n = body ? llm_jparse(body, len, tok, 128) : MN_EDECODE;
  if (n > 0) {
    struct llm_jdoc d = { body, tok, n };
    if (error_fields(&d, 0, e))
      return;
  }
  /* Not JSON (a proxy's HTML page, plain text): keep its printable start. */
  size_t k = 0;
  for (size_t i = 0; body && i < len && k + 1 < sizeof e->message; i++) {
    unsigned char c = (unsigned char)body[i];
    e->message[k++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
  }
  e->message[k] = 0;
}

/* ---- streams ----------------------------------------------------------- */

void
llm_stream_init(struct llm_stream *st, enum llm_api api, llm_text_fn fn, void *ctx)
{
  memset(st, 0, sizeof *st);
  st->api = api;
  st->on_text = fn;
  st->ctx = ctx;
  llm_sse_init(&st->sse);
}

static const char replacement[] = "\xef\xbf\xbd";   /* U+FFFD */

/* Bytes a UTF-8 sequence starting with c has; 0: c cannot start one. */
static size_t
seq_len(unsigned char c)
{
  return c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 : (c >= 0xe0 && c <= 0xef) ? 3 :
         (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
}

/* Emits whole, valid UTF-8 characters only: a character split between two
 * deltas waits for the rest; each invalid byte (or broken sequence)
 * becomes U+FFFD. */
static void
emit_text(struct llm_stream *st, const char *s, size_t n)
{
  const unsigned char *u = (const unsigned char *)s;
  if (!st->on_text || n == 0)
    return;
  size_t i = 0;
  while (st->pend_len && i < n) {
    if ((u[i] & 0xc0) != 0x80) {           /* the held character is broken */
      st->on_text(st->ctx, replacement, 3);
      st->pend_len = 0;
      break;
    }
    st->pend[st->pend_len++] = u[i++];
    if (st->pend_len == seq_len(st->pend[0])) {
      if (llm_utf8_len(st->pend, st->pend_len))
        st->on_text(st->ctx, (const char *)st->pend, st->pend_len);
      else
        st->on_text(st->ctx, replacement, 3);
      st->pend_len = 0;
    }
  }
  size_t run = i;
  while (i < n) {
    if (u[i] < 0x80) {
      i++;
      continue;
    }
    size_t l = llm_utf8_len(u + i, n - i);
    if (l) {
      i += l;
      continue;
    }
    size_t need = seq_len(u[i]), k = 1;
    while (i + k < n && k < need && (u[i + k] & 0xc0) == 0x80)
      k++;
    if (need && i + k == n && k < need) {   /* incomplete at the end: hold */
      if (i > run)
        st->on_text(st->ctx, s + run, i - run);
      memcpy(st->pend, u + i, k);
      st->pend_len = k;
      return;
    }
    if (i > run)
      st->on_text(st->ctx, s + run, i - run);
    st->on_text(st->ctx, replacement, 3);
    i++;
    run = i;
  }
  if (n > run)
    st->on_text(st->ctx, s + run, n - run);
}

static void
set_finish(struct llm_stream *st, const struct llm_jdoc *d, int i)
{
  if (llm_jtype(d, i) != LLM_J_STRING)
    return;
  jcopy(d, i, st->finish_raw, sizeof st->finish_raw);
  const char *f = st->finish_raw;
  if (!strcmp(f, "stop") || !strcmp(f, "end_turn") || !strcmp(f, "stop_sequence"))
    st->finish = LLM_FIN_STOP;
  else if (!strcmp(f, "length") || !strcmp(f, "max_tokens"))
    st->finish = LLM_FIN_LENGTH;
  else if (!strcmp(f, "tool_calls") || !strcmp(f, "tool_use") || !strcmp(f, "function_call"))
    st->finish = LLM_FIN_TOOL_CALLS;
  else if (!strcmp(f, "content_filter") || !strcmp(f, "refusal"))
    st->finish = LLM_FIN_CONTENT_FILTER;
  else
    st->finish = LLM_FIN_OTHER;
}

/* Appends the decoded string at i to the text output. */
static void
text_from(struct llm_stream *st, const struct llm_jdoc *d, int i)
{
  struct llm_buf b;
  llm_buf_init(&b, st->scratch, sizeof st->scratch);
  if (llm_jstr(d, i, &b) == MN_EDECODE)
    return;
  emit_text(st, b.p, b.len);
}

static struct llm_tool_call *
tool_slot(struct llm_stream *st, int index)
{
  for (int k = 0; k < st->n_tools; k++)
    if (st->tools[k].index == index)
      return &st->tools[k];
  if (st->n_tools == LLM_TOOL_CALLS_MAX)
    return NULL;
  struct llm_tool_call *t = &st->tools[st->n_tools++];
  memset(t, 0, sizeof *t);
  t->index = index;
  return t;
}

static void
tool_append(struct llm_tool_call *t, const struct llm_jdoc *d, int i)
{
  if (llm_jtype(d, i) != LLM_J_STRING)
    return;
  struct llm_buf b;
  llm_buf_init(&b, t->args + t->args_len, sizeof t->args - 1 - t->args_len);
  if (llm_jstr(d, i, &b) != MN_OK)
    t->overflow = 1;
  t->args_len += b.len;
  t->args[t->args_len] = 0;
}

static void
tool_ident(struct llm_tool_call *t, const struct llm_jdoc *d, int id, int name)
{
  if (llm_jtype(d, id) == LLM_J_STRING)
    jcopy(d, id, t->id, sizeof t->id);
  if (llm_jtype(d, name) == LLM_J_STRING) {
    size_t n;
    llm_jraw(d, name, &n);
    if (n >= sizeof t->name)
      t->overflow = 1;
    jcopy(d, name, t->name, sizeof t->name);
  }
}

static void
usage_from(struct llm_stream *st, const struct llm_jdoc *d, int u)
{
  uint32_t v;
  if (!llm_juint(d, llm_jget(d, u, "prompt_tokens"), &v)) st->input_tokens = v;
  if (!llm_juint(d, llm_jget(d, u, "completion_tokens"), &v)) st->output_tokens = v;
  if (!llm_juint(d, llm_jget(d, u, "input_tokens"), &v)) st->input_tokens = v;
  if (!llm_juint(d, llm_jget(d, u, "output_tokens"), &v)) st->output_tokens = v;
}

static int
stream_error(struct llm_stream *st, const struct llm_jdoc *d, int root)
{
  memset(&st->error, 0, sizeof st->error);
  error_fields(d, root, &st->error);
  kind_from_type(&st->error);
  st->error.code = kind_code[st->error.kind];
  st->failed = 1;
  return MN_ESERVICE;
}

/* One OpenAI chunk (or, with whole=1, a non-streamed answer). */
static int
openai_object(struct llm_stream *st, const struct llm_jdoc *d, int whole)
{
  if (llm_jget(d, 0, "error") >= 0)
    return stream_error(st, d, 0);
  int choices = llm_jget(d, 0, "choices");
  int c0 = llm_jindex(d, choices, 0);
  int delta = llm_jget(d, c0, whole ? "message" : "delta");
  int content = llm_jget(d, delta, "content");
  if (llm_jtype(d, content) == LLM_J_STRING)
    text_from(st, d, content);
  int calls = llm_jget(d, delta, "tool_calls");
  for (int k = 0; k < llm_jlen(d, calls) && llm_jtype(d, calls) == LLM_J_ARRAY; k++) {
    int call = llm_jindex(d, calls, k);
    uint32_t idx = (uint32_t)k;
    llm_juint(d, llm_jget(d, call, "index"), &idx);
    struct llm_tool_call *t = tool_slot(st, (int)idx);
    if (!t)
      continue;
    int fn = llm_jget(d, call, "function");
    tool_ident(t, d, llm_jget(d, call, "id"), llm_jget(d, fn, "name"));
    tool_append(t, d, llm_jget(d, fn, "arguments"));
  }
  set_finish(st, d, llm_jget(d, c0, "finish_reason"));
  int usage = llm_jget(d, 0, "usage");
  if (llm_jtype(d, usage) == LLM_J_OBJECT)
    usage_from(st, d, usage);
  return 0;
}

static int
anthropic_event(struct llm_stream *st, const struct llm_jdoc *d)
{
  int type = llm_jget(d, 0, "type");
  if (llm_jstr_eq(d, type, "error"))
    return stream_error(st, d, 0);
  if (llm_jstr_eq(d, type, "message_start")) {
    int msg = llm_jget(d, 0, "message");
    usage_from(st, d, llm_jget(d, msg, "usage"));
  } else if (llm_jstr_eq(d, type, "content_block_start")) {
    uint32_t idx;
    int block = llm_jget(d, 0, "content_block");
    if (llm_juint(d, llm_jget(d, 0, "index"), &idx) || idx >= 16)
      return 0;
    int btype = llm_jget(d, block, "type");
    if (llm_jstr_eq(d, btype, "tool_use")) {
      struct llm_tool_call *t = tool_slot(st, (int)idx);
      if (!t)
        return 0;
      st->block_tool[idx] = (int)(t - st->tools) + 1;
      tool_ident(t, d, llm_jget(d, block, "id"), llm_jget(d, block, "name"));
    } else if (llm_jstr_eq(d, btype, "text")) {
      text_from(st, d, llm_jget(d, block, "text"));
    }
  } else if (llm_jstr_eq(d, type, "content_block_delta")) {
    int delta = llm_jget(d, 0, "delta");
    int dtype = llm_jget(d, delta, "type");
    if (llm_jstr_eq(d, dtype, "text_delta")) {
      text_from(st, d, llm_jget(d, delta, "text"));
    } else if (llm_jstr_eq(d, dtype, "input_json_delta")) {
      uint32_t idx;
      if (llm_juint(d, llm_jget(d, 0, "index"), &idx) || idx >= 16 || !st->block_tool[idx])
        return 0;
      tool_append(&st->tools[st->block_tool[idx] - 1], d, llm_jget(d, delta, "partial_json"));
    }
  } else if (llm_jstr_eq(d, type, "message_delta")) {
    int delta = llm_jget(d, 0, "delta");
    set_finish(st, d, llm_jget(d, delta, "stop_reason"));
    usage_from(st, d, llm_jget(d, 0, "usage"));
  } else if (llm_jstr_eq(d, type, "message_stop")) {
    st->done = 1;
  }
  return 0;
}

static int
on_event(void *ctx, const char *event, size_t elen, const char *data, size_t dlen)
{
  struct llm_stream *st = ctx;
  if (st->done || st->failed)
    return 0;   /* nothing counts after the end */
  if (st->api == LLM_API_OPENAI && dlen == 6 && memcmp(data, "[DONE]", 6) == 0) {
    st->done = 1;
    return 0;
  }
  if (elen == 4 && memcmp(event, "ping", 4) == 0)
    return 0;
  int n = llm_jparse(data, dlen, st->tokmem, LLM_JSON_TOKENS);
  if (n == MN_ENOSPC) {
    st->big_events++;
    st->overflow_now = 1;
    return 0;
  }
  if (n < 1 || llm_jtype(&(struct llm_jdoc){ data, st->tokmem, n }, 0) != LLM_J_OBJECT) {
    st->bad_events++;
    return 0;
  }
  struct llm_jdoc d = { data, st->tokmem, n };
  st->events++;
  if (st->api == LLM_API_OPENAI)
    return openai_object(st, &d, 0);
  return anthropic_event(st, &d);
}

int
llm_stream_feed(struct llm_stream *st, const char *buf, size_t len)
{
  if (st->failed)
    return MN_ESERVICE;
  st->overflow_now = 0;
  int rc = llm_sse_feed(&st->sse, buf, len, on_event, st);
  if (rc == MN_EOVERFLOW)
    st->big_events++;
  if (rc == 0 && st->overflow_now)
    rc = MN_EOVERFLOW;
  return rc;
}

int
llm_stream_end(struct llm_stream *st)
{
  if (st->pend_len && st->on_text) {
    st->on_text(st->ctx, replacement, 3);
    st->pend_len = 0;
  }
  /* An answer with tool calls: arguments never sent mean "{}". */
  for (int k = 0; k < st->n_tools; k++)
    if (st->tools[k].args_len == 0) {
      memcpy(st->tools[k].args, "{}", 3);
      st->tools[k].args_len = 2;
    }
  if (st->failed)
    return MN_ESERVICE;
  /* OpenAI servers that omit [DONE] still send a finish reason. */
  if (st->done || (st->api == LLM_API_OPENAI && st->finish != LLM_FIN_NONE))
    return MN_OK;
  return MN_ETRUNC;
}

static void
collect_text(void *ctx, const char *s, size_t n)
{
  llm_buf_put(ctx, s, n);
}

int
llm_decode_response(enum llm_api api, const char *body, size_t len, struct llm_stream *st,
                    struct llm_buf *out)
{
  llm_stream_init(st, api, collect_text, out);
  int n = llm_jparse(body, len, st->tokmem, LLM_JSON_TOKENS);
  if (n < 1)
    return MN_EDECODE;
  struct llm_jdoc d = { body, st->tokmem, n };
  if (llm_jtype(&d, 0) != LLM_J_OBJECT)
    return MN_EDECODE;
  int rc;
  if (api == LLM_API_OPENAI) {
    if (llm_jget(&d, 0, "choices") < 0 && llm_jget(&d, 0, "error") < 0)
      return MN_EDECODE;
    rc = openai_object(st, &d, 1);
  } else {
    int type = llm_jget(&d, 0, "type");
    if (llm_jstr_eq(&d, type, "error")) {
      rc = stream_error(st, &d, 0);
    } else if (!llm_jstr_eq(&d, type, "message")) {
      return MN_EDECODE;
    } else {
      int content = llm_jget(&d, 0, "content");
      for (int k = 0; k < llm_jlen(&d, content) && llm_jtype(&d, content) == LLM_J_ARRAY; k++) {
        int blk = llm_jindex(&d, content, k);
        int bt = llm_jget(&d, blk, "type");
        if (llm_jstr_eq(&d, bt, "text")) {
          text_from(st, &d, llm_jget(&d, blk, "text"));
        } else if (llm_jstr_eq(&d, bt, "tool_use")) {
          struct llm_tool_call *t = tool_slot(st, k);
          if (!t)
            continue;
          tool_ident(t, &d, llm_jget(&d, blk, "id"), llm_jget(&d, blk, "name"));
          int in = llm_jget(&d, blk, "input");
          if (in >= 0) {
            size_t rl;
            const char *raw = llm_jraw(&d, in, &rl);
            if (llm_jtype(&d, in) == LLM_J_OBJECT && rl < sizeof t->args) {
              memcpy(t->args, raw, rl);
              t->args[rl] = 0;
              t->args_len = rl;
            } else {
              t->overflow = 1;
            }
          }
        }
      }
      set_finish(st, &d, llm_jget(&d, 0, "stop_reason"));
      usage_from(st, &d, llm_jget(&d, 0, "usage"));
      rc = 0;
    }
  }
  st->done = 1;
  int end = llm_stream_end(st);
  if (rc)
    return rc;
  if (end == MN_OK && out->err)
    return out->err;
  return end;
}

int
llm_decode_models(const char *body, size_t len, int *tokmem, int ntok, llm_model_fn fn,
                  void *ctx)
{
  int n = llm_jparse(body, len, tokmem, ntok);
  if (n < 1)
    return MN_EDECODE;
  struct llm_jdoc d = { body, tokmem, n };
  int data = llm_jget(&d, 0, "data");
  if (llm_jtype(&d, data) != LLM_J_ARRAY)
    return MN_EDECODE;
  int count = 0;
  for (int k = 0; k < llm_jlen(&d, data); k++) {
    int id = llm_jget(&d, llm_jindex(&d, data, k), "id");
    if (llm_jtype(&d, id) != LLM_J_STRING)
      continue;
    char name[128];
    jcopy(&d, id, name, sizeof name);
    if (fn)
      fn(ctx, name);
    count++;
  }
  return count;
}

int
llm_json_get_string(const char *args, size_t len, const char *key, int *tokmem, int ntok,
                    struct llm_buf *out)
{
  int n = llm_jparse(args, len, tokmem, ntok);
  if (n == MN_ENOSPC)
    return MN_ENOSPC;
  if (n <= 0)
    return MN_EDECODE;
  struct llm_jdoc d = { args, tokmem, n };
  if (llm_jtype(&d, 0) != LLM_J_OBJECT || llm_jskip(&d, 0) != n)
    return MN_EDECODE;
  int v = llm_jget(&d, 0, key);
  if (v < 0 || llm_jtype(&d, v) != LLM_J_STRING)
    return MN_ENOENT;
  return llm_jstr(&d, v, out);
}
