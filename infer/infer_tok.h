/*
 * infer_tok.h: mneme-infer's glue to the tokenizer, chat templates and
 * sampler (tool-private). Until those land the tool takes token ids.
 */
#ifndef MNEME_INFER_TOK_H
#define MNEME_INFER_TOK_H

#include <stdint.h>
#include <stdio.h>

#include "mneme/gguf.h"

struct infer_tok;
struct infer_sampler;

/* Loads the tokenizer of f; *tok stays NULL when there is none (ids only).
 * Returns 0 or a negative MN_E* code. */
int infer_tok_load(struct infer_tok **tok, const struct gguf_file *f);
void infer_tok_free(struct infer_tok *tok);
/* Tokenizes the prompt (BOS as the model asks; wrapped in the model's chat
 * template when chat). Returns the count or -1. */
int infer_tok_prompt(struct infer_tok *tok, const char *text, int chat,
                     int32_t *ids, int cap);
/* Writes the text of one generated token (valid UTF-8 across calls). */
void infer_tok_emit(struct infer_tok *tok, int32_t id, FILE *out);
void infer_tok_emit_end(struct infer_tok *tok, FILE *out);
int infer_tok_is_eog(struct infer_tok *tok, int32_t id);

struct sample_params;
/* A sampler with these parameters, primed with the prompt's tokens (for
 * the repetition penalty); NULL if out of memory or a bad parameter. */
struct infer_sampler *infer_sampler_new(const struct sample_params *p, int vocab,
                                        const int32_t *prompt, int np);
int32_t infer_sample(struct infer_sampler *s, const float *logits, int vocab);
void infer_sampler_free(struct infer_sampler *s);

#endif
