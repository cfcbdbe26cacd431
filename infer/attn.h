/*
 * attn.h: causal attention of a batch of queries over the KV cache
 * (internal to the inference library; llama.c uses it).
 *
 * Cache layout (llama.c): per layer and KV head, K and V transposed, one
 * row of n_ctx positions per channel d: K(d, t) = k[d * ks + t], of the
 * cache type (F16 or F32). A work item is one KV head, up to ATTN_NQ of
 * the query heads that share it and a block of consecutive tokens: its
 * queries (ATTN_NQ at most) meet every K and V row once, so each cache
 * load serves all of them instead of one. Query i at position p_i sees
 * keys 0 .. p_i (the causal mask: n_i = p_i + 1 keys).
 *
 * Kernels (one set per variant and cache type; the scalar set is the
 * reference every SIMD set is tested against):
 *   qk: s[i * ss + t] = sum_d q[i * hd + d] * K(d, t), for i < nq and
 *       t < n, the sum in d order from 0 (the query already rounded to
 *       the cache type, as llama.cpp takes it);
 *   softmax: att[t] = e^(scale att_t - m) / sum_u e^(scale att_u - m)
 *       for t < n, in place, m the largest scaled score, the sum in
 *       double, rounded to the cache type's precision (kept as float);
 *   pv: o[i * os + d] = sum_{t < n[i]} P_i(t) * V(d, t), for i < nq and
 *       d < hd, P_i(t) = p[i * ps + t] (the softmax probabilities).
 * Every result depends on its own query's values only, never on nq, the
 * other queries' lengths or where the block starts: a prompt batch, a
 * different split across threads and one token at a time give the same
 * bits.
 */
#ifndef MNEME_INFER_ATTN_H
#define MNEME_INFER_ATTN_H

#include <stddef.h>

#include "mneme/llama.h"
#include "mneme/quant.h"

#define ATTN_NQ 16 /* queries of one work item at most */

typedef void (*attn_qk_fn)(int n, int hd, const void *k, size_t ks, const float *q, int nq,
                           float *s, size_t ss);
typedef void (*attn_softmax_fn)(float *att, int n, float scale);
typedef void (*attn_pv_fn)(const int *n, int hd, const void *v, size_t vs, const float *p,
                           size_t ps, int nq, float *o, size_t os);

struct attn_kernels {
  attn_qk_fn qk;
  attn_softmax_fn softmax;
  attn_pv_fn pv;
};

extern const struct attn_kernels attn_scalar_f16, attn_scalar_f32;
#if defined(__x86_64__)
extern const struct attn_kernels attn_avx512_f16, attn_avx512_f32; /* attn_avx512.c */
#endif

/* The kernels of variant ops for cache type kv_type (QUANT_F16 or
 * QUANT_F32), or NULL: then attn_layer uses the variant's axpy and dot
 * one query at a time. */
const struct attn_kernels *attn_kernels_for(const struct quant_ops *ops, int kv_type);

/* Scratch bytes attn_layer needs per thread (m->s.att and m->s.attq). */
size_t attn_scores_bytes(const struct llama_model *m);
size_t attn_probs_bytes(const struct llama_model *m);

/* Attention of layer l for the B tokens of the batch (positions m->pos
 * .. m->pos + B - 1, already in the cache), from m->s.q into m->s.xb, on
 * m->par's threads. */
void attn_layer(struct llama_model *m, int l, int B);

#endif
