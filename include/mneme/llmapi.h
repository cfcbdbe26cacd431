/*
 * llmapi.h: the protocol core of the remote LLM clients (docs/llmapi.md).
 *
 * Needs no kernel and allocates nothing: every buffer is the caller's.
 * What is here:
 *   - JSON string escaping and unescaping (exact: control characters,
 *     \u escapes with surrogate pairs, UTF-8 passed through) and small
 *     helpers over jsmn tokens (Debian libjsmn-dev);
 *   - a server-sent-events parser fed bytes in any split;
 *   - request bodies for OpenAI-compatible chat completions and Anthropic
 *     messages;
 *   - stream decoders turning events into text deltas, a finish reason,
 *     usage and complete tool calls; non-streamed answers; HTTP error
 *     bodies decoded into a code plus the provider's own message.
 * Not here: HTTP, TLS, the `llm` service (the transport feeds the body).
 *
 * Errors are MN_* codes (mneme/err.h).
 */
#ifndef MNEME_LLMAPI_H
#define MNEME_LLMAPI_H

#include <stddef.h>
#include <stdint.h>

/* ---- JSON strings ------------------------------------------------------ */

/* An output buffer owned by the caller. Appends past cap set err to
 * MN_ENOSPC and keep len <= cap; the text is never NUL-terminated. */
struct llm_buf {
  char *p;
  size_t len, cap;
  int err;
};

void llm_buf_init(struct llm_buf *b, char *mem, size_t cap);
void llm_buf_put(struct llm_buf *b, const char *s, size_t n);
void llm_buf_puts(struct llm_buf *b, const char *s);

/* Appends s[0..n) as the inside of a JSON string: " \ and control
 * characters escaped (\n \r \t \b \f, others \u00XX), valid UTF-8 passed
 * through, each byte of invalid UTF-8 replaced by \ufffd. */
void llm_json_escape(struct llm_buf *b, const char *s, size_t n);

/* Decodes the inside of a JSON string (no quotes) into UTF-8. \u escapes:
 * a surrogate pair becomes one character, a lone surrogate U+FFFD.
 * MN_EDECODE: a bad escape or a raw control character; MN_ENOSPC: out is
 * too small (the output is then incomplete). */
int llm_json_unescape(const char *s, size_t n, struct llm_buf *out);

/* ---- server-sent events ------------------------------------------------ */

#define LLM_SSE_LINE_MAX 8192
#define LLM_SSE_DATA_MAX 16384
#define LLM_SSE_EVENT_MAX 64

/* Called once per event (a blank line after at least one data line).
 * event is "" when the event had no `event:` line (OpenAI), else its name.
 * Multiple data lines are joined with '\n'. A non-zero return stops
 * llm_sse_feed, which returns it. */
typedef int (*llm_sse_fn)(void *ctx, const char *event, size_t event_len,
                          const char *data, size_t data_len);

struct llm_sse {
  char line[LLM_SSE_LINE_MAX];
  size_t line_len;
  char event[LLM_SSE_EVENT_MAX];
  size_t event_len;
  char data[LLM_SSE_DATA_MAX];
  size_t data_len;
  int has_data;
  int after_cr;        /* the previous byte ended a line with CR */
  int overflow;        /* the current line or event is too long */
};

void llm_sse_init(struct llm_sse *s);
/* Feeds bytes in any split. Lines end with LF, CR or CRLF; `:` lines are
 * comments; fields other than data and event are ignored. Returns 0, the
 * callback's non-zero value, or MN_EOVERFLOW when an event is longer than
 * the buffers (that event is dropped; the parser stays usable). */
int llm_sse_feed(struct llm_sse *s, const char *buf, size_t len, llm_sse_fn fn, void *ctx);

/* ---- requests ---------------------------------------------------------- */

enum llm_api { LLM_API_OPENAI = 0, LLM_API_ANTHROPIC = 1 };
enum llm_msg_role { LLM_MSG_SYSTEM = 0, LLM_MSG_USER = 1, LLM_MSG_ASSISTANT = 2 };

struct llm_msg {
  int role;                    /* enum llm_msg_role */
  const char *text;            /* UTF-8, len bytes */
  size_t len;
};

/* A tool call the assistant made and its result, sent after the messages
 * (in order) as each API wants them: OpenAI an assistant message with
 * tool_calls then a "tool" message; Anthropic an assistant message with a
 * tool_use block then a user message with its tool_result. Strings are
 * NUL-terminated; args is the call's arguments as a JSON object text
 * ("{}" when NULL or empty), sent as is: the caller checks it is an
 * object (llm_json_get_string answers MN_EDECODE if not). */
struct llm_tool_turn {
  const char *text;            /* the assistant's text before the call */
  size_t len;
  const char *id, *name, *args;
  const char *result;          /* what the tool answered */
  size_t result_len;
};

/* One tool offered to the model (mneme offers `forth`). */
struct llm_tool_def {
  const char *name;
  const char *description;
  const char *schema_json;     /* the parameters' JSON schema, as is */
};

struct llm_chat_req {
  const char *model;
  const char *system;          /* NULL: none */
  const struct llm_msg *msgs;
  size_t n_msgs;
  int temperature_milli;       /* < 0: not sent; 700 is 0.7 */
  int max_tokens;              /* <= 0: not sent (Anthropic: 1024) */
  int stream;
  const struct llm_tool_def *tool;   /* NULL: no tools */
  const struct llm_tool_turn *turns; /* after msgs; NULL: none */
  size_t n_turns;
};

/* Writes the JSON body of a request. OpenAI: the system prompt becomes
 * the first message, stream adds stream_options.include_usage. Anthropic:
 * system is a top-level string, system-role messages are refused.
 * MN_EINVAL: bad request; MN_ENOSPC: out too small. */
int llm_build_request(enum llm_api api, const struct llm_chat_req *req, struct llm_buf *out);

/* ---- answers ----------------------------------------------------------- */

enum llm_finish_kind {
  LLM_FIN_NONE = 0, LLM_FIN_STOP, LLM_FIN_LENGTH, LLM_FIN_TOOL_CALLS,
  LLM_FIN_CONTENT_FILTER, LLM_FIN_OTHER
};

#define LLM_TOOL_CALLS_MAX 4
#define LLM_TOOL_ID_MAX 96
#define LLM_TOOL_NAME_MAX 64
#define LLM_TOOL_ARGS_MAX 8192

struct llm_tool_call {
  int index;                   /* the provider's index */
  char id[LLM_TOOL_ID_MAX];
  char name[LLM_TOOL_NAME_MAX];
  char args[LLM_TOOL_ARGS_MAX];   /* the arguments JSON, NUL-terminated */
  size_t args_len;
  int overflow;                /* something did not fit: the call is unusable */
};

/* What went wrong, with the provider's own words. */
enum llm_err_kind {
  LLM_ERR_NONE = 0, LLM_ERR_AUTH, LLM_ERR_FORBIDDEN, LLM_ERR_NOT_FOUND,
  LLM_ERR_RATE_LIMIT, LLM_ERR_SERVER, LLM_ERR_OVERLOADED, LLM_ERR_BAD_REQUEST,
  LLM_ERR_OTHER
};

#define LLM_ERR_MSG_MAX 256

struct llm_api_error {
  int kind;                    /* enum llm_err_kind */
  int code;                    /* the MN_* code for it */
  int http_status;             /* 0: came inside a stream */
  uint32_t retry_after_s;      /* 429/503 retry-after seconds, 0: none */
  char type[64];               /* the provider's error type, "" if none */
  char message[LLM_ERR_MSG_MAX];   /* the provider's message, NUL-terminated */
};

/* Decodes an HTTP error answer: status, the retry-after header's value
 * (NULL if absent; seconds form) and the body (JSON of either API, or
 * anything else, kept as text). Never fails. */
void llm_decode_error(int http_status, const char *retry_after, const char *body,
                      size_t len, struct llm_api_error *err);

/* Text deltas: whole, valid UTF-8 characters only (invalid bytes in the
 * answer arrive as U+FFFD). */
typedef void (*llm_text_fn)(void *ctx, const char *text, size_t len);

#define LLM_JSON_TOKENS 512

struct llm_stream {
  int api;                     /* enum llm_api */
  llm_text_fn on_text;
  void *ctx;
  struct llm_sse sse;
  unsigned char pend[4];       /* an incomplete UTF-8 character held back */
  size_t pend_len;
  int done;                    /* [DONE] or message_stop seen */
  int finish;                  /* enum llm_finish_kind */
  char finish_raw[32];
  uint32_t input_tokens, output_tokens;
  int failed;                  /* an error event came: see error */
  struct llm_api_error error;
  struct llm_tool_call tools[LLM_TOOL_CALLS_MAX];
  int n_tools;
  int block_tool[16];          /* Anthropic: content block index -> tool slot + 1 */
  uint32_t events;             /* events decoded */
  uint32_t bad_events;         /* events whose JSON did not parse (skipped) */
  uint32_t big_events;         /* events too big to decode (skipped) */
  int overflow_now;
  char scratch[LLM_SSE_DATA_MAX];
  int tokmem[LLM_JSON_TOKENS * 4];   /* jsmn tokens; private */
};

void llm_stream_init(struct llm_stream *st, enum llm_api api, llm_text_fn fn, void *ctx);
/* Feeds body bytes (after HTTP de-chunking) in any split. Returns 0;
 * MN_ESERVICE when an error event came (st->error); MN_EOVERFLOW when an
 * event was too big for the buffers or LLM_JSON_TOKENS (skipped and
 * counted in big_events; every byte was consumed, the stream goes on if
 * the caller feeds on). */
int llm_stream_feed(struct llm_stream *st, const char *buf, size_t len);
/* The body ended. Flushes a held-back partial character as U+FFFD.
 * Returns 0 after a complete answer, MN_ETRUNC when the stream was cut
 * before its end (the text delivered so far stands), MN_ESERVICE after an
 * error event. */
int llm_stream_end(struct llm_stream *st);

/* A non-streamed answer: text into out, finish, usage, tool calls.
 * st is used as the state (no callback needed). MN_EDECODE: not an
 * answer; MN_ESERVICE: the body is an error (st->error). */
int llm_decode_response(enum llm_api api, const char *body, size_t len,
                        struct llm_stream *st, struct llm_buf *out);

/* The model list (GET /v1/models of OpenAI-compatible servers and of
 * Anthropic: {"data": [{"id": ...}, ...]}). Calls fn with each id, in
 * order, NUL-terminated (cut at 127 bytes); returns the number of models
 * or MN_EDECODE. tokmem: caller's scratch for ntok jsmn tokens (16 bytes
 * each). */
/* The string member key of the JSON object args[0..len) (a tool call's
 * arguments), unescaped into out. 0; MN_ENOENT: no such string member;
 * MN_EDECODE: args is not a JSON object; MN_ENOSPC: out too small.
 * tokmem: scratch for ntok jsmn tokens (16 bytes each). */
int llm_json_get_string(const char *args, size_t len, const char *key, int *tokmem,
                        int ntok, struct llm_buf *out);

typedef void (*llm_model_fn)(void *ctx, const char *id);
int llm_decode_models(const char *body, size_t len, int *tokmem, int ntok,
                      llm_model_fn fn, void *ctx);

#endif
