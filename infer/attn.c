/*
 * attn.c: causal attention over the KV cache in work items of up to
 * ATTN_NQ queries sharing a KV head (layout and kernels in attn.h), the
 * scalar reference kernels, and the fallback for variants without
 * attention kernels (the variant's axpy and dot, one query at a time).
 *
 * Per item: the queries rounded to the cache type, scores Q.K^T for
 * every key up to the last query's position (qk), then per query the
 * softmax over its own n_i keys (scaled by 1/sqrt(hd), max subtracted,
 * sum in double, rounded to the cache type), then P.V (pv).
 *
 * Interface: attn_kernels_for, attn_scores_bytes, attn_probs_bytes,
 * attn_layer, attn_scalar_f16, attn_scalar_f32.
 */
#include "attn.h"

#include <stdatomic.h>

#include "libc.h"

/* ---------------------------------------------------------------------------
 * scalar kernels
 */

static float
kv_at(int es, const void *base, size_t i)
{
  return es == 2 ? quant_f16_to_f32(((const uint16_t *)base)[i]) : ((const float *)base)[i];
}

static void
qk_scalar(int es, int n, int hd, const void *k, size_t ks, const float *q, int nq, float *s,
          size_t ss)
{
  for (int i = 0; i < nq; i++) {
    float *si = s + (size_t)i * ss;
    for (int t = 0; t < n; t++)
      si[t] = 0.f;
    for (int d = 0; d < hd; d++) {
      float a = q[(size_t)i * hd + d];
      for (int t = 0; t < n; t++)
        si[t] += a * kv_at(es, k, (size_t)d * ks + t);
    }
  }
}

static void
pv_scalar(int es, const int *n, int hd, const void *v, size_t vs, const float *p, size_t ps,
          int nq, float *o, size_t os)
{
  for (int i = 0; i < nq; i++)
    for (int d = 0; d < hd; d++) {
      float sum = 0.f;
      for (int t = 0; t < n[i]; t++)
        sum += p[(size_t)i * ps + t] * kv_at(es, v, (size_t)d * vs + t);
      o[(size_t)i * os + d] = sum;
    }
}

static void
qk_scalar_f16(int n, int hd, const void *k, size_t ks, const float *q, int nq, float *s, size_t ss)
{
  qk_scalar(2, n, hd, k, ks, q, nq, s, ss);
}

static void
qk_scalar_f32(int n, int hd, const void *k, size_t ks, const float *q, int nq, float *s, size_t ss)
{
  qk_scalar(4, n, hd, k, ks, q, nq, s, ss);
}

static void
pv_scalar_f16(const int *n, int hd, const void *v, size_t vs, const float *p, size_t ps, int nq,
              float *o, size_t os)
{
  pv_scalar(2, n, hd, v, vs, p, ps, nq, o, os);
}

static void
pv_scalar_f32(const int *n, int hd, const void *v, size_t vs, const float *p, size_t ps, int nq,
              float *o, size_t os)
{
  pv_scalar(4, n, hd, v, vs, p, ps, nq, o, os);
}

/* Softmax of n scores (times scale) in place, as floats. */
static void
softmax_f(float *att, int n, float scale)
{
  float mx = -3.0e38f;
  for (int t = 0; t < n; t++) {
    att[t] *= scale;
    mx = att[t] > mx ? att[t] : mx;
  }
  double sum = 0;
  for (int t = 0; t < n; t++) {
    att[t] = expf(att[t] - mx);
    sum += att[t];
  }
  float inv = (float)(1.0 / sum);
  for (int t = 0; t < n; t++)
    att[t] *= inv;
}

static void
softmax_scalar_f16(float *att, int n, float scale)
{
  softmax_f(att, n, scale);
  for (int t = 0; t < n; t++) /* rounded to F16 */
    att[t] = quant_f16_to_f32(quant_f32_to_f16(att[t]));
}

static void
softmax_scalar_f32(float *att, int n, float scale)
{
  softmax_f(att, n, scale);
}

const struct attn_kernels attn_scalar_f16 = { qk_scalar_f16, softmax_scalar_f16, pv_scalar_f16 };
const struct attn_kernels attn_scalar_f32 = { qk_scalar_f32, softmax_scalar_f32, pv_scalar_f32 };

const struct attn_kernels *
attn_kernels_for(const struct quant_ops *ops, int kv_type)
{
  int f16 = kv_type == QUANT_F16;
  if (ops == &quant_ops_scalar)
    return f16 ? &attn_scalar_f16 : &attn_scalar_f32;
#if defined(__x86_64__)
  if (ops == &quant_ops_avx512)
    return f16 ? &attn_avx512_f16 : &attn_avx512_f32;
#endif
  return NULL;
}

/* ---------------------------------------------------------------------------
 * the layer's attention
 */

static size_t
kv_es(const struct llama_model *m)
{
  return m->kv_type == QUANT_F16 ? 2 : 4;
}

size_t
attn_scores_bytes(const struct llama_model *m)
{
  return (size_t)ATTN_NQ * (size_t)m->n_ctx * 4;
}

/* probabilities (ATTN_NQ rows of n_ctx), then the rounded queries and
 * one query's bytes in the cache type */
size_t
attn_probs_bytes(const struct llama_model *m)
{
  size_t hd = (size_t)m->c.head_dim;
  return (size_t)ATTN_NQ * (size_t)m->n_ctx * kv_es(m) + ATTN_NQ * hd * 4 + hd * kv_es(m);
}

struct att_task {
  struct llama_model *m;
  const struct attn_kernels *k;
  int layer, B;
  int hsub;   /* query heads of an item (divides the group's) */
  int tblock; /* tokens of an item */
  int items;
  _Atomic int next;
};

/* Item it: KV head g, query heads h0 .. h0 + hsub - 1 of its group, tokens
 * b0 .. b1 - 1; scratch of thread ith. */
static void
item(struct att_task *t, int it, int ith)
{
  struct llama_model *m = t->m;
  const struct llama_config *c = &m->c;
  struct llama_state *s = &m->s;
  int hd = c->head_dim, gq = c->n_heads / c->n_kv_heads, subs = gq / t->hsub;
  int tb = it % ((t->B + t->tblock - 1) / t->tblock), rest = it / ((t->B + t->tblock - 1) / t->tblock);
  int g = rest / subs, h0 = g * gq + (rest % subs) * t->hsub;
  int b0 = tb * t->tblock, b1 = b0 + t->tblock < t->B ? b0 + t->tblock : t->B;
  size_t kvd = (size_t)c->n_kv_heads * hd, ctx = (size_t)m->n_ctx, es = kv_es(m);
  size_t qd = (size_t)c->n_heads * hd;
  const uint8_t *kc = (const uint8_t *)s->k_cache + ((size_t)t->layer * kvd * ctx + (size_t)g * hd * ctx) * es;
  const uint8_t *vc = (const uint8_t *)s->v_cache + ((size_t)t->layer * kvd * ctx + (size_t)g * hd * ctx) * es;
  float *att = (float *)(void *)((uint8_t *)s->att + (size_t)ith * attn_scores_bytes(m));
  uint8_t *probs = s->attq + (size_t)ith * attn_probs_bytes(m);
  float *qr = (float *)(void *)(probs + ATTN_NQ * ctx * es);
  uint8_t *qk = (uint8_t *)(qr + ATTN_NQ * (size_t)hd);
  int n[ATTN_NQ], nq = 0, nmax = m->pos + b1;
  for (int b = b0; b < b1; b++)
    for (int h = h0; h < h0 + t->hsub; h++, nq++) {
      /* the query rounded to the cache type */
      m->ops->quantize[m->kv_type](s->q + (size_t)b * qd + (size_t)h * hd, qk, hd);
      quant_dequantize_row(m->kv_type, qk, qr + (size_t)nq * hd, hd);
      n[nq] = m->pos + b + 1;
    }
  float scale = 1.f / sqrtf((float)hd);
  if (t->k) {
    t->k->qk(nmax, hd, kc, ctx, qr, nq, att, ctx);
    for (int i = 0; i < nq; i++)
      t->k->softmax(att + (size_t)i * ctx, n[i], scale);
  } else { /* the variant's axpy and dot, one query at a time */
    for (int i = 0; i < nq; i++) {
      float *a = att + (size_t)i * ctx;
      memset(a, 0, (size_t)n[i] * sizeof *a);
      for (int d = 0; d < hd; d++)
        m->ops->axpy[m->kv_type](n[i], qr[(size_t)i * hd + d], kc + (size_t)d * ctx * es, a);
      softmax_f(a, n[i], scale);
      m->ops->quantize[m->kv_type](a, probs + (size_t)i * ctx * es, n[i]);
    }
  }
  /* outputs: query i = (b - b0) * hsub + (h - h0) at xb[b * qd + h * hd] */
  for (int b = b0, i = 0; b < b1; b++, i += t->hsub) {
    float *out = s->xb + (size_t)b * qd + (size_t)h0 * hd;
    if (t->k)
      t->k->pv(n + i, hd, vc, ctx, att + (size_t)i * ctx, ctx, t->hsub, out, (size_t)hd);
    else
      for (int j = 0; j < t->hsub; j++)
        for (int d = 0; d < hd; d++)
          out[(size_t)j * hd + d] = m->ops->dot[m->kv_type](n[i + j], vc + (size_t)d * ctx * es,
                                                          probs + (size_t)(i + j) * ctx * es);
  }
}

static void
att_worker(void *arg, int ith, int nth)
{
  struct att_task *t = arg;
  int it;
  (void)nth;
  while ((it = atomic_fetch_add_explicit(&t->next, 1, memory_order_relaxed)) < t->items)
    item(t, it, ith);
}

void
attn_layer(struct llama_model *m, int l, int B)
{
  const struct llama_config *c = &m->c;
  int gq = c->n_heads / c->n_kv_heads, hsub = gq;
  while (hsub > ATTN_NQ || gq % hsub) /* the largest divisor of gq up to ATTN_NQ */
    hsub--;
  struct att_task t = { m, attn_kernels_for(m->ops, m->kv_type), l, B, hsub, ATTN_NQ / hsub, 0, 0 };
  if (t.tblock > B)
    t.tblock = B;
  /* enough items for every thread: smaller token blocks when needed */
  int nth = m->par->nthreads;
  while (t.tblock > 1 && c->n_kv_heads * (gq / hsub) * ((B + t.tblock - 1) / t.tblock) < 4 * nth)
    t.tblock /= 2;
  t.items = c->n_kv_heads * (gq / hsub) * ((B + t.tblock - 1) / t.tblock);
  double work = (double)B * c->n_heads * (m->pos + B) * c->head_dim * 2;
  if (nth <= 1 || work < 128 * 1024) /* not worth waking the workers */
    att_worker(&t, 0, 1);
  else
    m->par->run(m->par->impl, att_worker, &t);
}
