/*
 * sample.c: token sampling with llama.cpp's default step order.
 *
 * Candidates are (id, logit) pairs in the caller's array. Top-k selects
 * with a partial heap sort; top-p needs the survivors sorted, which a
 * heap sort does in place, so nothing is allocated. The generator is
 * xorshift64* seeded through splitmix64.
 *
 * Interface:
 *   sample_defaults, sample_init, sample_accept, sample_next,
 *   sample_argmax, sample_uniform
 */
#include <mneme/err.h>
#include <mneme/sample.h>

#include "libc.h"

void
sample_defaults(struct sample_params *p)
{
  *p = (struct sample_params){.temp = 0.8f, .top_k = 40, .top_p = 0.95f,
                              .min_p = 0.05f, .repeat_penalty = 1.0f,
                              .repeat_last_n = 64, .seed = 0};
}

static uint64_t
splitmix(uint64_t x)
{
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return (x ^ (x >> 31)) | 1; /* never 0: xorshift would stick */
}

float
sample_uniform(uint64_t *s)
{
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return (float)((x * 0x2545f4914f6cdd1dull) >> 40) * (1.0f / 16777216.0f);
}

int
sample_init(struct sampler *s, const struct sample_params *p,
            int32_t n_vocab, struct sample_cand *cand, int32_t *recent)
{
  if (n_vocab < 1 || !cand || (p->repeat_last_n > 0 && !recent) ||
      p->temp != p->temp || p->top_p != p->top_p || p->min_p != p->min_p ||
      p->repeat_penalty != p->repeat_penalty)
    return MN_EINVAL;
  *s = (struct sampler){.par = *p, .rng = splitmix(p->seed),
                        .n_vocab = n_vocab, .cand = cand, .recent = recent};
  if (s->par.repeat_last_n < 0)
    s->par.repeat_last_n = 0;
  return 0;
}

void
sample_accept(struct sampler *s, int32_t id)
{
  if (s->par.repeat_last_n == 0)
    return;
  s->recent[s->recent_pos] = id;
  s->recent_pos = (s->recent_pos + 1) % s->par.repeat_last_n;
  if (s->n_recent < s->par.repeat_last_n)
    s->n_recent++;
}

int32_t
sample_argmax(const float *x, int32_t n)
{
  int32_t best = 0;
  for (int32_t i = 1; i < n; i++)
    if (x[i] > x[best] || x[best] != x[best])
      best = i;
  return best;
}

/* ---- candidate steps ------------------------------------------------------ */

/* a ranks before b: higher logit, then lower id. */
static int
before(const struct sample_cand *a, const struct sample_cand *b)
{
  return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

/* Sifts c[i] down a heap of n whose root is the *last* in rank order. */
static void
sift(struct sample_cand *c, size_t n, size_t i)
{
  for (;;) {
    size_t m = i, l = 2 * i + 1, r = l + 1;
    if (l < n && before(&c[m], &c[l]))
      m = l;
    if (r < n && before(&c[m], &c[r]))
      m = r;
    if (m == i)
      return;
    struct sample_cand t = c[i];
    c[i] = c[m], c[m] = t;
    i = m;
  }
}

/* Keeps the k best of c[0..n) in c[0..k), sorted best first. */
static size_t
top_k(struct sample_cand *c, size_t n, size_t k)
{
  if (k > n)
    k = n;
  for (size_t i = k / 2; i-- > 0;) /* heap of the k kept, worst at root */
    sift(c, k, i);
  for (size_t i = k; i < n; i++)
    if (before(&c[i], &c[0])) {
      c[0] = c[i];
      sift(c, k, 0);
    }
  for (size_t end = k; end > 1; end--) { /* heap sort: worst to the end */
    struct sample_cand t = c[0];
    c[0] = c[end - 1], c[end - 1] = t;
    sift(c, end - 1, 0);
  }
  return k;
}

/* Softmax of the sorted candidates into .p. */
static void
softmax(struct sample_cand *c, size_t n)
{
  float max = c[0].logit, sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += c[i].p = expf(c[i].logit - max);
  for (size_t i = 0; i < n; i++)
    c[i].p /= sum;
}

static void
penalize(struct sampler *s, struct sample_cand *c)
{
  float pen = s->par.repeat_penalty;
  if (pen == 1.0f || s->n_recent == 0)
    return;
  for (int32_t i = 0; i < s->n_recent; i++) {
    int32_t id = s->recent[i];
    int seen = 0; /* penalize each distinct id once */
    for (int32_t j = 0; j < i && !seen; j++)
      seen = s->recent[j] == id;
    if (seen || id < 0 || id >= s->n_vocab)
      continue;
    float *l = &c[id].logit;
    *l = *l <= 0 ? *l * pen : *l / pen;
  }
}

int32_t
sample_next(struct sampler *s, const float *logits)
{
  struct sample_cand *c = s->cand;
  size_t n = (size_t)s->n_vocab;
  for (size_t i = 0; i < n; i++)
    c[i] = (struct sample_cand){(int32_t)i, logits[i] == logits[i] ? logits[i] : -__builtin_inff(), 0};
  penalize(s, c);
  if (s->par.temp <= 0)
    return top_k(c, n, 1) ? c[0].id : 0;
  n = top_k(c, n, s->par.top_k > 0 ? (size_t)s->par.top_k : n);
  if (s->par.top_p < 1.0f) {
    softmax(c, n);
    float cum = 0;
    for (size_t i = 0; i < n; i++)
      if ((cum += c[i].p) >= s->par.top_p) {
        n = i + 1;
        break;
      }
  }
  if (s->par.min_p > 0) {
    float min = c[0].logit + logf(s->par.min_p);
    size_t keep = 1;
    while (keep < n && c[keep].logit >= min)
      keep++;
    n = keep;
  }
  for (size_t i = 0; i < n; i++)
    c[i].logit /= s->par.temp;
  softmax(c, n);
  float r = sample_uniform(&s->rng), cum = 0;
  for (size_t i = 0; i < n; i++)
    if (r < (cum += c[i].p))
      return c[i].id;
  return c[n - 1].id;
}
