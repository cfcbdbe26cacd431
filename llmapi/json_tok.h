/*
 * json_tok.h: llmapi's private helpers over jsmn tokens (llmapi/json.c).
 * A document is the text plus its tokens; values are token indexes, -1 for
 * "absent" (every helper accepts -1 and answers "absent"/"wrong type").
 */
#ifndef LLMAPI_JSON_TOK_H
#define LLMAPI_JSON_TOK_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/llmapi.h"

enum { LLM_J_NONE, LLM_J_OBJECT, LLM_J_ARRAY, LLM_J_STRING, LLM_J_NUMBER,
       LLM_J_BOOL, LLM_J_NULL };

struct llm_jdoc {
  const char *js;
  const void *tok;
  int n;
};

size_t llm_utf8_len(const unsigned char *s, size_t n);
/* Parses js into max tokens at tokmem: the token count, MN_ENOSPC (more
 * than max tokens) or MN_EDECODE. */
int llm_jparse(const char *js, size_t len, void *tokmem, int max);
int llm_jskip(const struct llm_jdoc *d, int i);
int llm_jtype(const struct llm_jdoc *d, int i);
const char *llm_jraw(const struct llm_jdoc *d, int i, size_t *len);
int llm_jget(const struct llm_jdoc *d, int obj, const char *key);
int llm_jindex(const struct llm_jdoc *d, int arr, int idx);
int llm_jlen(const struct llm_jdoc *d, int i);
int llm_jstr(const struct llm_jdoc *d, int i, struct llm_buf *out);
int llm_jstr_eq(const struct llm_jdoc *d, int i, const char *lit);
int llm_juint(const struct llm_jdoc *d, int i, uint32_t *v);

#endif
