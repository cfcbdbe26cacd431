/*
 * llmserve.h: the inference appliance: an OpenAI-compatible HTTP/1.1
 * server over the network service, answering with the `llm` interface
 * (llm-local) (docs/llmserve.md).
 *
 *   POST /v1/chat/completions  streamed (server-sent events, chunked) or
 *                              one JSON answer; usage, finish_reason
 *   GET  /v1/models            the loaded model
 *   GET  /health               {"status":"ok"} (503 while no model)
 *
 * Two parts:
 *   - the protocol (llmserve/proto.c): a request reader over Debian's
 *     http-parser and the chat request decoder (jsmn via llmapi) plus the
 *     response bodies. Needs no kernel; the caller brings the allocator.
 *     Unit-tested and fuzzed on the host.
 *   - the server (llmserve/server.c): a listener task and one task per
 *     connection (at most LLMS_MAX_CONNS); keep-alive and pipelining; the
 *     generations queued first come, first served; a client that goes
 *     away cancels its generation.
 */
#ifndef MNEME_LLMSERVE_H
#define MNEME_LLMSERVE_H

#include <stddef.h>
#include <stdint.h>


#define LLMS_BODY_MAX (1u << 20)     /* request bodies larger: 413 */
#define LLMS_URL_MAX 256             /* longer request targets: 414 */
#define LLMS_MAX_MESSAGES 256
#define LLMS_MAX_TOKENS_JSON 16384   /* jsmn tokens of a request body */
#define LLMS_MAX_CONNS 32

/* ---- the request reader ---------------------------------------------------- */

enum llms_method { LLMS_OTHER = 0, LLMS_GET, LLMS_POST, LLMS_HEAD, LLMS_OPTIONS };

typedef void *(*llms_realloc_fn)(void *p, size_t n);
typedef void (*llms_free_fn)(void *p);

struct llms_http {
  /* the request, once llms_http_feed says LLMS_DONE */
  int method;                  /* enum llms_method */
  char path[LLMS_URL_MAX];     /* the target without ?query, NUL-terminated */
  char *body;                  /* body_len bytes (owned: llms_http_free) */
  size_t body_len;
  int keep_alive;              /* the client keeps the connection */
  int expect_continue;         /* "Expect: 100-continue" (valid after headers) */
  int headers_done;
  /* private */
  void *parser;                /* http_parser + settings, allocated */
  size_t body_cap, body_max;
  size_t url_len;
  int url_over, state, status, hdr_is_expect;
  char hdr_name[8];
  size_t hdr_name_len;
  int hdr_name_over;
  llms_realloc_fn re;
  llms_free_fn fr;
};

enum {
  LLMS_MORE = 0,               /* feed more bytes */
  LLMS_DONE = 1,               /* a whole request is in */
  LLMS_BAD = 2,                /* answer status (llms_http.status) and close */
};

/* Sets up a reader; bodies over body_max are refused (413). 0, MN_ENOMEM. */
int llms_http_init(struct llms_http *h, size_t body_max, llms_realloc_fn re, llms_free_fn fr);
/* Forgets the request, ready for the next on the same connection. */
void llms_http_reset(struct llms_http *h);
void llms_http_free(struct llms_http *h);
/* Feeds bytes; *used says how many were taken (after LLMS_DONE the rest
 * belongs to the next request). Returns LLMS_MORE, LLMS_DONE or LLMS_BAD
 * (then *status is the HTTP status to answer: 400, 413, 414, 431, 505). */
int llms_http_feed(struct llms_http *h, const char *data, size_t len, size_t *used,
                   int *status);
/* The peer closed: LLMS_BAD with a status when a request was under way
 * (400), else LLMS_MORE (a clean end between requests). */
int llms_http_eof(struct llms_http *h, int *status);

/* ---- the chat request --------------------------------------------------------- */

/* Roles as llm.h's enum llm_role (this header stays apart from llm.h
 * and llmapi.h, which both name a struct llm_error). */
enum { LLMS_ROLE_SYSTEM = 0, LLMS_ROLE_USER = 1, LLMS_ROLE_ASSISTANT = 2 };

struct llms_msg {
  uint32_t role;
  const char *text;
  size_t len;
};

struct llms_chat {
  char model[64];
  struct llms_msg msgs[LLMS_MAX_MESSAGES];      /* texts point into text */
  size_t n_msgs;
  int stream, include_usage;
  uint32_t max_tokens;         /* 0: not given */
  int has_temperature, has_top_p, has_seed;
  float temperature, top_p;
  uint64_t seed;
};

/* Decodes a /v1/chat/completions body. Texts (content strings, or the
 * text parts of content arrays, joined) are unescaped into text[cap].
 * tokmem holds LLMS_MAX_TOKENS_JSON jsmn tokens (16 bytes each). Returns
 * 0, or an HTTP status (400, 413) with the reason in why[why_cap] and
 * the offending field in param (a static string, "" if none). */
int llms_chat_parse(const char *js, size_t len, struct llms_chat *out, char *text,
                    size_t cap, void *tokmem, char *why, size_t why_cap,
                    const char **param);

/* ---- response bodies ------------------------------------------------------------ */

/* Each writes JSON into out[cap] and returns its length, or 0 when it
 * does not fit. */

/* {"error":{"message":...,"type":...,"param":...,"code":...}}; param or
 * code NULL/"" write null. */
size_t llms_json_error(char *out, size_t cap, const char *message, const char *type,
                       const char *param, const char *code);
/* "invalid_request_error" and friends for a status. */
const char *llms_error_type(int status);
const char *llms_reason(int status);   /* "OK", "Bad Request", ... */

struct llms_ids {
  const char *id;              /* "chatcmpl-..." */
  const char *model;
  int64_t created;
};

struct llms_usage {
  uint32_t prompt_tokens, cached_tokens, completion_tokens;
};

/* finish: "stop" or "length". The non-streamed answer: */
size_t llms_json_completion(char *out, size_t cap, const struct llms_ids *ids, const char *text,
                            size_t len, const char *finish, const struct llms_usage *u);
/* One streamed event's JSON (without "data: "): the first delta (the
 * role), a text delta, the finish (delta {}), the usage (choices []). */
size_t llms_json_chunk_role(char *out, size_t cap, const struct llms_ids *ids);
size_t llms_json_chunk_text(char *out, size_t cap, const struct llms_ids *ids, const char *text,
                            size_t len);
size_t llms_json_chunk_finish(char *out, size_t cap, const struct llms_ids *ids,
                              const char *finish);
size_t llms_json_chunk_usage(char *out, size_t cap, const struct llms_ids *ids,
                             const struct llms_usage *u);
/* The model list: one model, or none (model NULL). */
size_t llms_json_models(char *out, size_t cap, const char *model, int64_t created);

/* ---- the server ----------------------------------------------------------------- */

/* Listens on port (all addresses) and serves the llm-local service.
 * 0, or the network service's error. */
int llmserve_start(uint16_t port);

/* A line for STATUS-like tools: requests served, errors, open connections. */
struct llmserve_stats {
  uint16_t port;
  uint32_t conns_open, conns_total;
  uint64_t requests, errors_4xx, errors_5xx, generations, cancelled;
  uint64_t busy_retries;        /* llm-local said MN_EBUSY: tried again */
};
int llmserve_stats(struct llmserve_stats *out);

#endif
