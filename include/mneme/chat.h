/*
 * chat.h: chat prompt formats, as llama.cpp renders them, without a
 * template engine.
 *
 * A GGUF file carries its chat format as a Jinja template
 * (tokenizer.chat_template). Like llama.cpp, mneme does not run Jinja: it
 * recognizes the family by marker strings in the template and renders
 * that family's format in C. Families: chatml (<|im_start|>), llama2
 * ([INST], with its system-message variants), llama3
 * (<|start_header_id|>), phi3 (<|user|> ... <|end|>). A file without a
 * template gets chatml, llama.cpp's default.
 *
 * The rendered prompt contains special-token text (<|im_start|>, ...):
 * tokenize it with TOK_PARSE_SPECIAL, and with TOK_ADD_SPECIAL for BOS.
 */
#ifndef MNEME_CHAT_H
#define MNEME_CHAT_H

#include <stdbool.h>
#include <stddef.h>

#include <mneme/gguf.h>

enum chat_tmpl {
  CHAT_CHATML = 0,
  CHAT_LLAMA2,           /* [INST] without system-message support */
  CHAT_LLAMA2_SYS,       /* ... with <<SYS>> */
  CHAT_LLAMA2_SYS_BOS,   /* ... and <s> before each later [INST] */
  CHAT_LLAMA2_SYS_STRIP, /* ... and contents trimmed */
  CHAT_LLAMA3,
  CHAT_PHI3,
  CHAT_COUNT
};

struct chat_msg {
  const char *role;    /* "system", "user", "assistant" (NUL-terminated) */
  const char *content; /* NUL-terminated */
};

/* Recognizes a Jinja chat template's family. Returns a chat_tmpl, or
 * MN_ENOTSUP for a template of another family. */
int chat_detect(const char *tmpl, size_t len);

/* The family of f's tokenizer.chat_template; CHAT_CHATML if it has none.
 * Returns a chat_tmpl or MN_ENOTSUP. */
int chat_from_gguf(const struct gguf_file *f);

/* By name: "chatml", "llama2", "llama2-sys", "llama2-sys-bos",
 * "llama2-sys-strip", "llama3", "phi3". Returns a chat_tmpl or
 * MN_ENOENT. */
int chat_by_name(const char *name);
const char *chat_name(int tmpl);

/* Renders msgs[0..n) in format tmpl into out (NUL-terminated when it
 * fits), ending with the assistant's header when add_assistant. *len
 * gets the prompt's length (without the NUL) even when it does not fit.
 * Returns 0, MN_ENOSPC (cap < *len + 1) or MN_EINVAL (bad tmpl). */
int chat_apply(int tmpl, const struct chat_msg *msgs, size_t n,
               bool add_assistant, char *out, size_t cap, size_t *len);

#endif
