/*
 * infer_tok.c: mneme-infer's glue to the tokenizer and sampler.
 * (Placeholder until the tokenizer lands: no tokenizer, plain
 * temperature sampling.)
 *
 * Interface: infer_tok_load, infer_tok_free, infer_tok_prompt,
 * infer_tok_emit, infer_tok_emit_end, infer_tok_is_eog, infer_sampler_new,
 * infer_sample, infer_sampler_free.
 */
#include "infer_tok.h"

#include <math.h>
#include <stdlib.h>

int
infer_tok_load(struct infer_tok **tok, const struct gguf_file *f)
{
  *tok = NULL;
  return 0;
}

void infer_tok_free(struct infer_tok *tok) {}

int
infer_tok_prompt(struct infer_tok *tok, const char *text, int chat, int32_t *ids,
                 int cap)
{
  return -1;
}

void
infer_tok_emit(struct infer_tok *tok, int32_t id, FILE *out)
{
  fprintf(out, "%d ", id);
}

void infer_tok_emit_end(struct infer_tok *tok, FILE *out) { fputc('\n', out); }

int
infer_tok_is_eog(struct infer_tok *tok, int32_t id)
{
  return 0;
}

struct infer_sampler {
  float temp;
  uint64_t state;
};

struct infer_sampler *
infer_sampler_new(float temp, uint64_t seed, int vocab)
{
  struct infer_sampler *s = malloc(sizeof *s);
  if (s) {
    s->temp = temp;
    s->state = seed * 2654435761u + 1;
  }
  return s;
}

int32_t
infer_sample(struct infer_sampler *s, const float *logits, int vocab)
{
  float mx = logits[0];
  for (int i = 1; i < vocab; i++)
    mx = logits[i] > mx ? logits[i] : mx;
  double sum = 0;
  for (int i = 0; i < vocab; i++)
    sum += exp((logits[i] - mx) / s->temp);
  s->state ^= s->state << 13, s->state ^= s->state >> 7, s->state ^= s->state << 17;
  double r = (double)(s->state >> 11) / 9007199254740992.0 * sum;
  for (int i = 0; i < vocab; i++)
    if ((r -= exp((logits[i] - mx) / s->temp)) <= 0)
      return i;
  return vocab - 1;
}

void infer_sampler_free(struct infer_sampler *s) { free(s); }
