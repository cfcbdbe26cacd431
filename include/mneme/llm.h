/*
 * llm.h: the `llm` interface: a chat-completion service that streams text.
 *
 * One interface for every language model mneme can talk to: `llm-local`
 * (the inference engine inside the kernel, llm/llm_local.c) today, remote
 * APIs (OpenAI, Anthropic, ... over the network service) later, behind
 * the same request and the same stream. A client connects with
 * svc_connect(&LLM_LOCAL_UUID, &LLM_SVC_TYPE, ...) (a remote backend has
 * its own UUID and the same type) and sends struct llm_request:
 *
 *   LLM_OP_INFO      the model: name, context length, chat template.
 *   LLM_OP_OPEN      a conversation: the backend keeps its state (the
 *                    local engine: one KV cache) until LLM_OP_CLOSE.
 *                    Answers conv; MN_EBUSY/MN_ENOMEM when the memory
 *                    limits would be exceeded.
 *   LLM_OP_GENERATE  messages in, text out. The messages are the whole
 *                    conversation so far, as in the OpenAI/Anthropic APIs
 *                    (the backend reuses what it already has: the local
 *                    engine keeps the KV cache of the common prefix).
 *                    conv 0: a one-off conversation. With LLM_RAW the
 *                    single message's text is continued as is (no chat
 *                    template): what GENERATE ( c-addr u n -- ) does.
 *                    The generated text streams into `out` as UTF-8 deltas
 *                    (whole characters); when generation ends the backend
 *                    closes `out`, then replies with the finish reason and
 *                    usage. The reply comes after the stream: send with
 *                    svc_send (a kchannel reply) and read the ring until
 *                    MN_ECLOSED, then take the reply.
 *   LLM_OP_CLOSE     ends a conversation, freeing its state.
 *
 * Cancel: the client closes its ring (bbq_close(out)). The backend sees
 * MN_ECLOSED at its next write, stops, and replies with
 * LLM_FINISH_CANCELLED. A client that disconnects should close first.
 *
 * Memory: requests point into the client's memory (messages, texts, the
 * ring), which must stay valid until the reply. Kernel-only service.
 *
 * Errors (struct llm_error.code, replies with MN_ESERVICE): MN_ENOENT (no
 * model loaded / unknown conversation), MN_EINVAL (bad request),
 * MN_EBUSY (the conversation is generating / too many conversations),
 * MN_ENOMEM (no memory for the state), MN_ENOSPC (the prompt does not fit
 * the context even after dropping old turns), MN_ENOTSUP (the model's
 * chat template is not known), MN_EIO (the backend failed: the message
 * says why).
 */
#ifndef MNEME_LLM_H
#define MNEME_LLM_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/registry.h"
#include "mneme/uuid.h"

struct bbq;

/* 2f8c5b1e-6d0a-4c4b-9a8e-3b1f7d2c9e01 */
extern const struct uuid LLM_LOCAL_UUID;

enum llm_role { LLM_ROLE_SYSTEM = 0, LLM_ROLE_USER = 1, LLM_ROLE_ASSISTANT = 2 };

struct llm_message {
  uint32_t role;             /* enum llm_role */
  const char *text;          /* UTF-8, len bytes (no NUL needed) */
  size_t len;
};

/* Sampling settings; llm_sampling_greedy() or llm_sampling_default()
 * fill them. temperature <= 0 is greedy (ties to the lowest token). */
struct llm_sampling {
  float temperature;
  int32_t top_k;             /* <= 0: off */
  float top_p;               /* >= 1: off */
  float min_p;               /* <= 0: off */
  float repeat_penalty;      /* 1: off */
  int32_t repeat_last_n;
  uint64_t seed;
};

enum llm_op { LLM_OP_INFO = 1, LLM_OP_OPEN, LLM_OP_GENERATE, LLM_OP_CLOSE };

#define LLM_RAW 1u            /* continue messages[0].text, no template */
#define LLM_TOOLS 2u          /* the model may call the `forth` tool (remote) */
#define LLM_TOOL_NET 4u       /* ... and its VM may use the network (HTTP-GET) */
#define LLM_TOOL_FILES 8u     /* ... and the files (File-Access, INCLUDED) */

/* With LLM_TOOLS, a tool call and its result appear in the delta stream
 * between marker bytes (never found in model text: the backends drop
 * these control characters from what the model says):
 *   LLM_MARK_CODE <code the model sent> LLM_MARK_OUTPUT <what it printed,
 *   or the THROW in words> LLM_MARK_END
 * then the model's text goes on. The chat screen shows them apart. */
#define LLM_MARK_CODE '\x01'
#define LLM_MARK_OUTPUT '\x02'
#define LLM_MARK_END '\x03'

struct llm_request {
  uint32_t op;               /* enum llm_op */
  uint32_t conv;             /* from LLM_OP_OPEN; 0: one-off (GENERATE) */
  uint32_t flags;            /* LLM_RAW */
  uint32_t max_tokens;       /* tokens to generate at most (GENERATE) */
  const struct llm_message *messages;
  size_t n_messages;
  struct llm_sampling sampling;
  struct bbq *out;           /* text deltas; closed by the backend at the end */
};

enum llm_finish {
  LLM_FINISH_NONE = 0,
  LLM_FINISH_STOP,           /* the model ended its turn (EOS/EOT) */
  LLM_FINISH_LENGTH,         /* max_tokens, or the context is full */
  LLM_FINISH_CANCELLED,      /* the client closed its ring */
  LLM_FINISH_ERROR,          /* failed midway: text so far was streamed */
};

struct llm_usage {
  uint32_t prompt_tokens;    /* the whole prompt, template included */
  uint32_t cached_tokens;    /* of those, reused from the conversation */
  uint32_t completion_tokens;
  uint32_t dropped_messages; /* oldest turns left out to fit the context */
  uint64_t prompt_ns, generate_ns;
};

struct llm_response {
  uint32_t op;
  uint32_t conv;             /* OPEN: the new conversation */
  uint32_t finish;           /* GENERATE: enum llm_finish */
  struct llm_usage usage;    /* GENERATE */
  /* INFO (and OPEN): the model */
  char model[48];            /* general.name, else the file name */
  char chat_template[16];    /* chatml, llama2, llama3, phi3, ... */
  uint32_t n_ctx;            /* tokens per conversation */
  uint32_t max_conversations;
  /* GENERATE with LLM_FINISH_ERROR: why it stopped ("connection reset
   * by peer", "timed out", the provider's error event), else "" */
  char detail[64];
};

struct llm_error {
  int32_t code;              /* MN_E* */
  char message[92];          /* llm-remote: "HTTP 401: " + the provider's words */
  uint32_t retry_after_s;    /* MN_EBUSY (HTTP 429/503/529): wait this long */
};

#define LLM_SVC_TYPE                                                          \
  SVC_TYPE(struct llm_request, struct llm_response, struct llm_error,        \
           struct svc_none)

void llm_sampling_greedy(struct llm_sampling *s);
void llm_sampling_default(struct llm_sampling *s); /* llama.cpp's defaults */

/* ---- llm-remote: OpenAI-compatible and Anthropic APIs over HTTP(S) ---- */

/* 2f8c5b1e-6d0a-4c4b-9a8e-3b1f7d2c9e02 */
extern const struct uuid LLM_REMOTE_UUID;

struct llm_remote_config {
  const char *provider;      /* openai anthropic groq xai openrouter (compatible: openai) */
  const char *base_url;      /* NULL/"": the provider's; http allowed (local servers) */
  const char *api_key;       /* never printed, logged or traced */
  const char *model;
  const char *system;        /* system prompt, or NULL */
  float temperature;         /* < 0: the provider's default */
  uint32_t max_tokens;       /* 0: 1024 */
  uint8_t stream;            /* server-sent events (else one JSON answer) */
  uint32_t timeout_ms;       /* each wait for bytes (a stalled server); 0: 60 s */
};

/* Registers (or reconfigures) the llm-remote service. The strings are
 * copied. 0 or MN_E*. */
int llm_remote_start(const struct llm_remote_config *cfg);

/* From the saved settings (include/mneme/settings.h; llm/llm_remote_settings.c):
 * the config for s (streaming; the strings point into s). MN_ENOENT: no
 * provider chosen; MN_ENOTSUP: provider "local" (llm-local's). */
struct mn_settings;
int llm_remote_config_from_settings(const struct mn_settings *s, struct llm_remote_config *c);
/* settings_load, then llm_remote_start: 0 or MN_E*. */
int llm_remote_start_from_settings(void);

/* The model list (GET /v1/models) into buf as NUL-separated names;
 * returns how many, or MN_E* with the provider's message in *why. */
int llm_remote_models(char *buf, size_t cap, char *why, size_t why_cap);

/* The `forth` tool (llm/llm_tool.c): runs code in a fresh bare Forth VM
 * (standard words only: no ports or SPAWN; the network and file words
 * refuse with a message and THROW -1018 unless perms allow them) in the
 * calling task, yielding between slices, until it ends or uses its fuel
 * (steps) or time; what it printed (a THROW in words) goes to out[cap],
 * with a last line "error: stopped after ..." when a limit stopped it.
 * 0 or MN_ENOMEM. */
#define LLM_TOOL_FUEL 20000000u
#define LLM_TOOL_MS 5000u
struct llm_tool_limits {
  uint64_t fuel;             /* 0: LLM_TOOL_FUEL */
  uint32_t ms;               /* 0: LLM_TOOL_MS */
  uint32_t perms;            /* LLM_TOOL_NET, LLM_TOOL_FILES: what the user allows */
};
int llm_tool_forth(const char *code, size_t len, const struct llm_tool_limits *lim,
                   char *out, size_t cap, size_t *out_len);

struct forth_vm;
/* ASK ( c-addr u -- ): the text as a one-off user message to llm-remote
 * (with the forth tool); the answer streams onto the VM's terminal, tool
 * calls shown as [forth] code / => output; errors and the finish reason
 * after it. A forth_hostfn (llm_remote_words() adds it to every VM). */
int llm_word_ask(struct forth_vm *vm, void *ctx);
void llm_remote_words(void);

/* ---- llm-local: the in-kernel engine ----------------------------------- */

struct par_ops;
struct quant_ops;

struct llm_local_config {
  const void *gguf;          /* the model file's bytes (outlive the service) */
  size_t gguf_size;
  const char *file_name;     /* for INFO when the file has no general.name */
  const struct par_ops *par; /* the parallel-for (NULL: serial) */
  uint32_t n_ctx;            /* per conversation; 0: min(training, 2048) */
  uint32_t max_conversations;/* 0: 4 */
  size_t mem_reserve;        /* heap bytes left free for the rest (0: 8 MiB) */
  /* called with gguf when another model replaces this one (a buffer
   * LOAD-MODEL allocated), or NULL (the boot loader's memory) */
  void (*release)(const void *gguf, size_t size);
  const struct quant_ops *ops; /* the dot kernels (NULL: quant_ops_best()) */
};

/* Checks the model (GGUF, tokenizer, llama build) and registers the
 * llm-local service; its task serves requests, each generation on a task
 * of its own (several conversations run side by side). Returns 0 or an
 * MN_E* code; *why (if not NULL) says what was wrong with the model. */
int llm_local_start(const struct llm_local_config *cfg, const char **why);

/* Serves another model: starts llm-local with it, or replaces the one
 * it serves (whose release hook is then called). Refused with MN_EBUSY
 * while a conversation is open; on any error the old model stays. */
int llm_local_load(const struct llm_local_config *cfg, const char **why);

/* The name of the model llm-local serves, or NULL. */
const char *llm_local_model(void);

/* ---- the Forth word ------------------------------------------------------ */

struct forth_vm;
/* GENERATE ( c-addr u n -- ): prints the greedy continuation of the text,
 * n tokens at most, through llm-local. A forth_hostfn for a platform's
 * word list (forth_words_platform). */
int llm_word_generate(struct forth_vm *vm, void *ctx);
/* LLM-STATS ( -- ): the last GENERATE's figures: prompt and generated
 * tokens and times, tokens/s (generated tokens after the first, over the
 * generation time, as mneme-infer counts), when the first text came. */
int llm_word_stats(struct forth_vm *vm, void *ctx);
/* LOAD-MODEL ( c-addr u -- ): reads the GGUF file at the path from the
 * files service into memory and serves it with llm-local
 * (llm_local_load), printing what happened; a file larger than the
 * largest free memory region less the kernel's reserve is refused before
 * anything is read. llm_words_set_par gives the parallel-for to use. */
int llm_word_load_model(struct forth_vm *vm, void *ctx);
void llm_words_set_par(const struct par_ops *par);

#endif
