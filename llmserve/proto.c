/*
 * proto.c: the OpenAI-compatible server's protocol, without the kernel:
 * requests read by Debian's http-parser, chat requests decoded with jsmn
 * (through llmapi's helpers), answers written as the OpenAI API's JSON
 * (the shapes of ../shared/testdata/llm/server/, llama.cpp's recording).
 *
 * Interface: include/mneme/llmserve.h (the reader, the decoder, the
 * bodies).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http_parser.h"
#include "json_tok.h"
#include "mneme/err.h"
#include "mneme/llmapi.h"
#include "mneme/llmserve.h"

/* ---- the request reader ------------------------------------------------------- */

struct hp {
  http_parser p;
  http_parser_settings s;
};

enum { ST_IDLE, ST_STARTED, ST_DONE };

static struct llms_http *of(http_parser *p) { return p->data; }

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int on_begin(http_parser *p) {
  of(p)->state = ST_STARTED;
  return 0;
}

static int on_url(http_parser *p, const char *at, size_t n) {
  struct llms_http *h = of(p);
  h->state = ST_STARTED;
  if (h->url_len + n >= sizeof h->path) {
    h->url_over = 1;
    h->status = 414;
    return 1;
  }
  memcpy(h->path + h->url_len, at, n);
  h->url_len += n;
  h->path[h->url_len] = 0;
  return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n) {
  struct llms_http *h = of(p);
  if (h->hdr_is_expect >= 0) { /* a new field begins after a value */
    h->hdr_name_len = 0;
    h->hdr_name_over = 0;
    h->hdr_is_expect = -1;
  }
  for (size_t i = 0; i < n; i++) {
    if (h->hdr_name_len < sizeof h->hdr_name) h->hdr_name[h->hdr_name_len++] = (char)lower(at[i]);
    else h->hdr_name_over = 1;
  }
  return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n) {
  struct llms_http *h = of(p);
  if (h->hdr_is_expect < 0)
    h->hdr_is_expect = !h->hdr_name_over && h->hdr_name_len == 6 && !memcmp(h->hdr_name, "expect", 6);
  if (h->hdr_is_expect && n >= 3 && at[0] == '1' && at[1] == '0' && at[2] == '0')
    h->expect_continue = 1;
  return 0;
}

static int on_headers_complete(http_parser *p) {
  struct llms_http *h = of(p);
  h->headers_done = 1;
  switch (p->method) {
  case HTTP_GET: h->method = LLMS_GET; break;
  case HTTP_POST: h->method = LLMS_POST; break;
  case HTTP_HEAD: h->method = LLMS_HEAD; break;
  case HTTP_OPTIONS: h->method = LLMS_OPTIONS; break;
  default: h->method = LLMS_OTHER; break;
  }
  if ((p->flags & F_CONTENTLENGTH) && p->content_length > h->body_max) {
    h->status = 413;
    return -1;
  }
  /* the path: up to '?' or '#' */
  for (size_t i = 0; i < h->url_len; i++)
    if (h->path[i] == '?' || h->path[i] == '#') {
      h->path[i] = 0;
      break;
    }
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  struct llms_http *h = of(p);
  if (n > h->body_max - h->body_len) {
    h->status = 413;
    return 1;
  }
  if (h->body_len + n > h->body_cap) {
    size_t cap = h->body_cap ? h->body_cap : 4096;
    while (cap < h->body_len + n) cap *= 2;
    if (cap > h->body_max) cap = h->body_max;
    char *nb = h->re(h->body, cap + 1);   /* + 1: room for a NUL */
    if (!nb) {
      h->status = 413;
      return 1;
    }
    h->body = nb;
    h->body_cap = cap;
  }
  memcpy(h->body + h->body_len, at, n);
  h->body_len += n;
  return 0;
}

static int on_message_complete(http_parser *p) {
  struct llms_http *h = of(p);
  h->keep_alive = http_should_keep_alive(p);
  h->state = ST_DONE;
  http_parser_pause(p, 1);
  return 0;
}

static void start(struct llms_http *h) {
  struct hp *x = h->parser;
  http_parser_init(&x->p, HTTP_REQUEST);
  x->p.data = h;
  h->method = LLMS_OTHER;
  h->path[0] = 0;
  h->url_len = 0;
  h->url_over = 0;
  h->body_len = 0;
  h->keep_alive = 0;
  h->expect_continue = 0;
  h->headers_done = 0;
  h->state = ST_IDLE;
  h->status = 0;
  h->hdr_name_len = 0;
  h->hdr_name_over = 0;
  h->hdr_is_expect = -1;
}

int llms_http_init(struct llms_http *h, size_t body_max, llms_realloc_fn re, llms_free_fn fr) {
  memset(h, 0, sizeof *h);
  h->re = re;
  h->fr = fr;
  h->body_max = body_max;
  struct hp *x = re(NULL, sizeof *x);
  if (!x) return MN_ENOMEM;
  memset(x, 0, sizeof *x);
  http_parser_settings_init(&x->s);
  x->s.on_message_begin = on_begin;
  x->s.on_url = on_url;
  x->s.on_header_field = on_header_field;
  x->s.on_header_value = on_header_value;
  x->s.on_headers_complete = on_headers_complete;
  x->s.on_body = on_body;
  x->s.on_message_complete = on_message_complete;
  h->parser = x;
  start(h);
  return 0;
}

void llms_http_reset(struct llms_http *h) {
  /* a large body's buffer is not kept between requests */
  if (h->body_cap > 65536) {
    h->fr(h->body);
    h->body = NULL;
    h->body_cap = 0;
  }
  start(h);
}

void llms_http_free(struct llms_http *h) {
  if (h->body) h->fr(h->body);
  if (h->parser) h->fr(h->parser);
  h->body = NULL;
  h->parser = NULL;
}

int llms_http_feed(struct llms_http *h, const char *data, size_t len, size_t *used, int *status) {
  struct hp *x = h->parser;
  *used = 0;
  if (h->state == ST_DONE) return LLMS_DONE;
  if (!len) return LLMS_MORE;
  size_t n = http_parser_execute(&x->p, &x->s, data, len);
  enum http_errno e = HTTP_PARSER_ERRNO(&x->p);
  *used = n;
  if (x->p.upgrade) { /* CONNECT or Upgrade: not served here */
    *status = 400;
    return LLMS_BAD;
  }
  if (h->state == ST_DONE && (e == HPE_PAUSED || e == HPE_OK)) {
    if (h->body) h->body[h->body_len] = 0;
    return LLMS_DONE;
  }
  if (e != HPE_OK) {
    *status = h->status ? h->status
              : e == HPE_HEADER_OVERFLOW ? 431
              : e == HPE_INVALID_VERSION ? 505 : 400;
    return LLMS_BAD;
  }
  return LLMS_MORE;
}

int llms_http_eof(struct llms_http *h, int *status) {
  if (h->state == ST_IDLE) return LLMS_MORE;
  *status = 400;
  return LLMS_BAD;
}

/* ---- the chat request ----------------------------------------------------------- */

static void set_why(char *why, size_t cap, const char *s) {
  size_t n = strlen(s);
  if (!cap) return;
  if (n >= cap) n = cap - 1;
  memcpy(why, s, n);
  why[n] = 0;
}

/* A JSON number into a double (no libc: the kernel has no strtod). */
static int jnum(const struct llm_jdoc *d, int i, double *out) {
  if (llm_jtype(d, i) != LLM_J_NUMBER) return MN_EDECODE;
  size_t n;
  const char *s = llm_jraw(d, i, &n);
  size_t k = 0;
  int neg = 0, digits = 0;
  double v = 0;
  if (k < n && (s[k] == '-' || s[k] == '+')) neg = s[k++] == '-';
  for (; k < n && s[k] >= '0' && s[k] <= '9'; k++, digits++) v = v * 10 + (s[k] - '0');
  if (k < n && s[k] == '.') {
    double f = 0.1;
    for (k++; k < n && s[k] >= '0' && s[k] <= '9'; k++, digits++, f /= 10) v += (s[k] - '0') * f;
  }
  if (!digits) return MN_EDECODE;
  if (k < n && (s[k] == 'e' || s[k] == 'E')) {
    int eneg = 0, ex = 0, ed = 0;
    k++;
    if (k < n && (s[k] == '-' || s[k] == '+')) eneg = s[k++] == '-';
    for (; k < n && s[k] >= '0' && s[k] <= '9'; k++, ed++)
      if (ex < 400) ex = ex * 10 + (s[k] - '0');
    if (!ed) return MN_EDECODE;
    for (; ex > 0; ex--) v = eneg ? v / 10 : v * 10;
  }
  if (k != n) return MN_EDECODE;
  *out = neg ? -v : v;
  return 0;
}

static int jbool(const struct llm_jdoc *d, int i, int *out) {
  if (llm_jtype(d, i) != LLM_J_BOOL) return MN_EDECODE;
  size_t n;
  *out = llm_jraw(d, i, &n)[0] == 't';
  return 0;
}

/* Appends message i's content to text; *len its length. 0 or MN_E*:
 * MN_ENOTSUP for a non-text part. */
static int content(const struct llm_jdoc *d, int v, struct llm_buf *text) {
  int t = llm_jtype(d, v);
  if (t == LLM_J_NULL || t == LLM_J_NONE) return 0;
  if (t == LLM_J_STRING) return llm_jstr(d, v, text);
  if (t != LLM_J_ARRAY) return MN_EDECODE;
  int n = llm_jlen(d, v), i = v + 1;
  for (int k = 0; k < n && i < d->n; k++) {
    int part = i;
    i = llm_jskip(d, i);
    if (llm_jtype(d, part) != LLM_J_OBJECT) return MN_EDECODE;
    int ty = llm_jget(d, part, "type");
    if (!llm_jstr_eq(d, ty, "text")) return MN_ENOTSUP;
    int rc = llm_jstr(d, llm_jget(d, part, "text"), text);
    if (rc) return rc;
  }
  return 0;
}

#define BAD(msg, prm) do { set_why(why, why_cap, msg); *param = prm; return 400; } while (0)

int llms_chat_parse(const char *js, size_t len, struct llms_chat *out, char *textmem,
                    size_t cap, void *tokmem, char *why, size_t why_cap,
                    const char **param) {
  memset(out, 0, sizeof *out);
  *param = "";
  if (why_cap) why[0] = 0;
  int ntok = llm_jparse(js, len, tokmem, LLMS_MAX_TOKENS_JSON);
  if (ntok == MN_ENOSPC) {
    set_why(why, why_cap, "the request has too many JSON values");
    return 413;
  }
  if (ntok < 0) BAD("the body is not valid JSON", "");
  struct llm_jdoc d = {js, tokmem, ntok};
  if (llm_jtype(&d, 0) != LLM_J_OBJECT) BAD("the body is not a JSON object", "");
  /* jsmn stops after the first value: nothing but spaces may follow */
  size_t end;
  const char *root = llm_jraw(&d, 0, &end);
  for (size_t k = (size_t)(root - js) + end; k < len; k++)
    if (js[k] != ' ' && js[k] != '\n' && js[k] != '\r' && js[k] != '\t')
      BAD("the body is not valid JSON", "");

  struct llm_buf text;
  llm_buf_init(&text, textmem, cap);
  int v = llm_jget(&d, 0, "model");
  if (llm_jtype(&d, v) != LLM_J_STRING) BAD("you must provide a model parameter", "model");
  {
    struct llm_buf mb;
    llm_buf_init(&mb, out->model, sizeof out->model - 1);
    if (llm_jstr(&d, v, &mb) || mb.err) BAD("the model name is too long or badly encoded", "model");
    out->model[mb.len] = 0;
  }
  v = llm_jget(&d, 0, "messages");
  if (llm_jtype(&d, v) != LLM_J_ARRAY) BAD("messages must be an array", "messages");
  int nm = llm_jlen(&d, v);
  if (nm < 1) BAD("messages must not be empty", "messages");
  if (nm > LLMS_MAX_MESSAGES) BAD("too many messages (at most 256)", "messages");
  int i = v + 1;
  for (int k = 0; k < nm && i < ntok; k++) {
    int m = i;
    i = llm_jskip(&d, i);
    if (llm_jtype(&d, m) != LLM_J_OBJECT) BAD("each message must be an object", "messages");
    int r = llm_jget(&d, m, "role");
    uint32_t role;
    if (llm_jstr_eq(&d, r, "system") || llm_jstr_eq(&d, r, "developer")) role = LLMS_ROLE_SYSTEM;
    else if (llm_jstr_eq(&d, r, "user")) role = LLMS_ROLE_USER;
    else if (llm_jstr_eq(&d, r, "assistant")) role = LLMS_ROLE_ASSISTANT;
    else if (llm_jstr_eq(&d, r, "tool") || llm_jstr_eq(&d, r, "function"))
      BAD("tool messages are not supported", "messages");
    else BAD("a message's role must be system, developer, user or assistant", "messages");
    size_t start = text.len;
    int rc = content(&d, llm_jget(&d, m, "content"), &text);
    if (rc == MN_ENOTSUP) BAD("only text content is supported", "messages");
    if (rc == MN_ENOSPC || text.err) {
      set_why(why, why_cap, "the messages are too long");
      return 413;
    }
    if (rc) BAD("a message's content must be a string or an array of text parts", "messages");
    out->msgs[out->n_msgs].role = role;
    out->msgs[out->n_msgs].text = textmem + start;
    out->msgs[out->n_msgs].len = text.len - start;
    out->n_msgs++;
  }
  if ((v = llm_jget(&d, 0, "stream")) >= 0 && llm_jtype(&d, v) != LLM_J_NULL &&
      jbool(&d, v, &out->stream))
    BAD("stream must be a boolean", "stream");
  if ((v = llm_jget(&d, 0, "stream_options")) >= 0 && llm_jtype(&d, v) != LLM_J_NULL) {
    if (llm_jtype(&d, v) != LLM_J_OBJECT) BAD("stream_options must be an object", "stream_options");
    int u = llm_jget(&d, v, "include_usage");
    if (u >= 0 && jbool(&d, u, &out->include_usage))
      BAD("include_usage must be a boolean", "stream_options");
  }
  static const char *const maxkeys[] = {"max_completion_tokens", "max_tokens"};
  for (int k = 0; k < 2; k++) {
    if ((v = llm_jget(&d, 0, maxkeys[k])) < 0 || llm_jtype(&d, v) == LLM_J_NULL) continue;
    uint32_t mt;
    if (llm_juint(&d, v, &mt) || mt == 0)
      BAD("max_tokens must be a positive integer", maxkeys[k]);
    out->max_tokens = mt;
    break;
  }
  double x;
  if ((v = llm_jget(&d, 0, "temperature")) >= 0 && llm_jtype(&d, v) != LLM_J_NULL) {
    if (jnum(&d, v, &x) || x < 0 || x > 2) BAD("temperature must be a number from 0 to 2", "temperature");
    out->has_temperature = 1;
    out->temperature = (float)x;
  }
  if ((v = llm_jget(&d, 0, "top_p")) >= 0 && llm_jtype(&d, v) != LLM_J_NULL) {
    if (jnum(&d, v, &x) || x < 0 || x > 1) BAD("top_p must be a number from 0 to 1", "top_p");
    out->has_top_p = 1;
    out->top_p = (float)x;
  }
  if ((v = llm_jget(&d, 0, "seed")) >= 0 && llm_jtype(&d, v) != LLM_J_NULL) {
    if (jnum(&d, v, &x) || x != (double)(int64_t)x || x < -9.2e18 || x > 9.2e18)
      BAD("seed must be an integer", "seed");
    out->has_seed = 1;
    out->seed = (uint64_t)(int64_t)x;
  }
  if ((v = llm_jget(&d, 0, "n")) >= 0 && llm_jtype(&d, v) != LLM_J_NULL) {
    uint32_t nn;
    if (llm_juint(&d, v, &nn) || nn != 1) BAD("only n = 1 is supported", "n");
  }
  if ((v = llm_jget(&d, 0, "tools")) >= 0 && llm_jtype(&d, v) != LLM_J_NULL && llm_jlen(&d, v) > 0)
    BAD("tools are not supported by this server", "tools");
  return 0;
}

/* ---- response bodies ---------------------------------------------------------------- */

static void put_str(struct llm_buf *b, const char *s, size_t n) {
  llm_buf_put(b, "\"", 1);
  llm_json_escape(b, s, n);
  llm_buf_put(b, "\"", 1);
}

static void put_u64(struct llm_buf *b, uint64_t v) {
  char t[24];
  int i = 24;
  do t[--i] = (char)('0' + v % 10); while ((v /= 10) && i > 0);
  llm_buf_put(b, t + i, (size_t)(24 - i));
}

static void put_i64(struct llm_buf *b, int64_t v) {
  if (v < 0) {
    llm_buf_put(b, "-", 1);
    put_u64(b, (uint64_t)0 - (uint64_t)v);
  } else {
    put_u64(b, (uint64_t)v);
  }
}

static void put_str_or_null(struct llm_buf *b, const char *s) {
  if (s && *s) put_str(b, s, strlen(s));
  else llm_buf_puts(b, "null");
}

size_t llms_json_error(char *out, size_t cap, const char *message, const char *type,
                     const char *param, const char *code) {
  struct llm_buf bb, *b = &bb;
  llm_buf_init(b, out, cap);
  llm_buf_puts(b, "{\"error\":{\"message\":");
  put_str(b, message, strlen(message));
  llm_buf_puts(b, ",\"type\":");
  put_str(b, type, strlen(type));
  llm_buf_puts(b, ",\"param\":");
  put_str_or_null(b, param);
  llm_buf_puts(b, ",\"code\":");
  put_str_or_null(b, code);
  llm_buf_puts(b, "}}");
  return b->err ? 0 : b->len;
}

const char *llms_error_type(int status) {
  switch (status) {
  case 401: return "authentication_error";
  case 404: return "not_found_error";
  case 429: return "rate_limit_error";
  case 503: return "server_unavailable";
  default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

const char *llms_reason(int status) {
  switch (status) {
  case 100: return "Continue";
  case 200: return "OK";
  case 204: return "No Content";
  case 400: return "Bad Request";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 413: return "Payload Too Large";
  case 414: return "URI Too Long";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  case 505: return "HTTP Version Not Supported";
  default: return "Error";
  }
}

static void head(struct llm_buf *b, const struct llms_ids *ids, const char *object) {
  llm_buf_puts(b, "{\"id\":");
  put_str(b, ids->id, strlen(ids->id));
  llm_buf_puts(b, ",\"object\":\"");
  llm_buf_puts(b, object);
  llm_buf_puts(b, "\",\"created\":");
  put_i64(b, ids->created);
  llm_buf_puts(b, ",\"model\":");
  put_str(b, ids->model, strlen(ids->model));
  llm_buf_puts(b, ",\"system_fingerprint\":\"mneme\"");
}

static void usage(struct llm_buf *b, const struct llms_usage *u) {
  llm_buf_puts(b, "\"usage\":{\"prompt_tokens\":");
  put_u64(b, u->prompt_tokens);
  llm_buf_puts(b, ",\"completion_tokens\":");
  put_u64(b, u->completion_tokens);
  llm_buf_puts(b, ",\"total_tokens\":");
  put_u64(b, (uint64_t)u->prompt_tokens + u->completion_tokens);
  llm_buf_puts(b, ",\"prompt_tokens_details\":{\"cached_tokens\":");
  put_u64(b, u->cached_tokens);
  llm_buf_puts(b, "}}");
}

size_t llms_json_completion(char *out, size_t cap, const struct llms_ids *ids, const char *text,
                          size_t len, const char *finish, const struct llms_usage *u) {
  struct llm_buf bb, *b = &bb;
  llm_buf_init(b, out, cap);
  head(b, ids, "chat.completion");
  llm_buf_puts(b, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
  put_str(b, text, len);
  llm_buf_puts(b, "},\"logprobs\":null,\"finish_reason\":\"");
  llm_buf_puts(b, finish);
  llm_buf_puts(b, "\"}],");
  usage(b, u);
  llm_buf_puts(b, "}");
  return b->err ? 0 : b->len;
}

size_t llms_json_chunk_role(char *out, size_t cap, const struct llms_ids *ids) {
  struct llm_buf bb, *b = &bb;
  llm_buf_init(b, out, cap);
  head(b, ids, "chat.completion.chunk");
  llm_buf_puts(b, ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
                  "\"logprobs\":null,\"finish_reason\":null}]}");
  return b->err ? 0 : b->len;
}

size_t llms_json_chunk_text(char *out, size_t cap, const struct llms_ids *ids, const char *text,
                          size_t len) {
  struct llm_buf bb, *b = &bb;
  llm_buf_init(b, out, cap);
  head(b, ids, "chat.completion.chunk");
  llm_buf_puts(b, ",\"choices\":[{\"index\":0,\"delta\":{\"content\":");
  put_str(b, text, len);
  llm_buf_puts(b, "},\"logprobs\":null,\"finish_reason\":null}]}");
  return b->err ? 0 : b->len;
}

size_t llms_json_chunk_finish(char *out, size_t cap, const struct llms_ids *ids, const char *finish) {
  struct llm_buf bb, *b = &bb;
  llm_buf_init(b, out, cap);
  head(b, ids, "chat.completion.chunk");
  llm_buf_puts(b, ",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"");
  llm_buf_puts(b, finish);
  llm_buf_puts(b, "\"}]}");
  return b->err ? 0 : b->len;
}

size_t llms_json_chunk_usage(char *out, size_t cap, const struct llms_ids *ids,
                           const struct llms_usage *u) {
  struct llm_buf bb, *b = &bb;
  llm_buf_init(b, out, cap);
  head(b, ids, "chat.completion.chunk");
  llm_buf_puts(b, ",\"choices\":[],");
  usage(b, u);
  llm_buf_puts(b, "}");
  return b->err ? 0 : b->len;
}

size_t llms_json_models(char *out, size_t cap, const char *model, int64_t created) {
  struct llm_buf bb, *b = &bb;
  llm_buf_init(b, out, cap);
  llm_buf_puts(b, "{\"object\":\"list\",\"data\":[");
  if (model) {
    llm_buf_puts(b, "{\"id\":");
    put_str(b, model, strlen(model));
    llm_buf_puts(b, ",\"object\":\"model\",\"created\":");
    put_i64(b, created);
    llm_buf_puts(b, ",\"owned_by\":\"mneme\"}");
  }
  llm_buf_puts(b, "]}");
  return b->err ? 0 : b->len;
}
