/*
 * sample.h: choosing the next token from logits.
 *
 * The steps run in llama.cpp's default order: repetition penalty, top-k,
 * top-p, min-p, temperature, then a draw from the softmax with a seeded
 * generator (the same seed gives the same tokens). Temperature 0 means
 * greedy: the highest logit after the penalty, ties to the lowest id.
 *
 * The caller owns all memory: a candidate array of n_vocab entries and,
 * for the penalty, a ring of repeat_last_n recent ids. Nothing allocates.
 */
#ifndef MNEME_SAMPLE_H
#define MNEME_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

struct sample_params {
  float temp;             /* <= 0: greedy */
  int32_t top_k;          /* <= 0: off */
  float top_p;            /* >= 1: off */
  float min_p;            /* <= 0: off */
  float repeat_penalty;   /* 1: off; > 1 discourages recent tokens */
  int32_t repeat_last_n;  /* how many recent tokens the penalty sees */
  uint64_t seed;
};

struct sample_cand {
  int32_t id;
  float logit;
  float p;
};

struct sampler {
  struct sample_params par;
  uint64_t rng;
  int32_t n_vocab;
  struct sample_cand *cand; /* [n_vocab], caller-owned scratch */
  int32_t *recent;          /* [par.repeat_last_n] ring, caller-owned */
  int32_t n_recent, recent_pos;
};

/* llama.cpp's defaults: temp 0.8, top_k 40, top_p 0.95, min_p 0.05,
 * repeat_penalty 1.0, repeat_last_n 64, seed 0. */
void sample_defaults(struct sample_params *p);

/* Returns 0 or MN_EINVAL (n_vocab < 1, no cand, no recent while
 * repeat_last_n > 0, or a NaN parameter). */
int sample_init(struct sampler *s, const struct sample_params *p,
                int32_t n_vocab, struct sample_cand *cand, int32_t *recent);

/* Records a token (prompt or generated) for the repetition penalty. */
void sample_accept(struct sampler *s, int32_t id);

/* Picks the next token from logits[0..n_vocab). Does not record it:
 * call sample_accept with the result. */
int32_t sample_next(struct sampler *s, const float *logits);

/* Index of the largest logit (ties: the lowest index; NaNs ignored). */
int32_t sample_argmax(const float *logits, int32_t n);

/* The seeded generator: a uniform float in [0, 1). */
float sample_uniform(uint64_t *state);

#endif
