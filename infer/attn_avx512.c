/*
 * attn_avx512.c: the attention kernels of attn.h for AVX-512 (compiled
 * with the AVX-512 flags of dot_avx512.c), F16 and F32 caches.
 *
 * The cache's rows are positions (K and V transposed), so a 512-bit
 * register holds 16 consecutive positions of one channel:
 *   qk: per chunk of 16 keys, one register per query (up to 8 at a time)
 *       accumulates q_i[d] * K(d, chunk) over d in order (one FMA per
 *       query per channel; each K load serves all the queries);
 *   pv: per channel d, one register per query accumulates P_i(chunk) *
 *       V(d, chunk) over the chunks below its n_i (the last one masked),
 *       then the eight queries' horizontal sums in one tree (hsum8);
 *       each V load serves all the queries.
 * Lanes and chunks are per position, so a query's results do not depend
 * on the others in its item (attn.h).
 *
 * Interface: attn_avx512_f16, attn_avx512_f32.
 */
#include "attn.h"

#include <immintrin.h>

#include "vexp_avx512.h"

#define QB 8 /* queries per register tile */

static inline __attribute__((always_inline)) __m512
load16(int es, const void *base, size_t i, __mmask16 k)
{
  if (es == 2)
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, (const uint16_t *)base + i));
  return _mm512_maskz_loadu_ps(k, (const float *)base + i);
}

static inline __mmask16
tail_mask(int left)
{
  return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

/* nq (1..QB, a constant after inlining) queries */
static inline __attribute__((always_inline)) void
qk_tile(int es, int nq, int n, int hd, const void *k, size_t ks, const float *q, float *s,
        size_t ss)
{
  for (int t = 0; t < n; t += 16) {
    __mmask16 msk = tail_mask(n - t);
    __m512 acc[QB];
#pragma GCC unroll 8
    for (int i = 0; i < QB; i++)
      acc[i] = _mm512_setzero_ps();
    for (int d = 0; d < hd; d++) {
      __m512 kv = load16(es, k, (size_t)d * ks + t, msk);
#pragma GCC unroll 8
      for (int i = 0; i < QB; i++)
        if (i < nq)
          acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(q[(size_t)i * hd + d]), kv, acc[i]);
    }
#pragma GCC unroll 8
    for (int i = 0; i < QB; i++)
      if (i < nq)
        _mm512_mask_storeu_ps(s + (size_t)i * ss + t, msk, acc[i]);
  }
}

static inline __attribute__((always_inline)) void
qk_any(int es, int n, int hd, const void *k, size_t ks, const float *q, int nq, float *s, size_t ss)
{
  for (int i0 = 0; i0 < nq; i0 += QB) {
    const float *qi = q + (size_t)i0 * hd;
    float *si = s + (size_t)i0 * ss;
    switch (nq - i0 < QB ? nq - i0 : QB) {
    case 1: qk_tile(es, 1, n, hd, k, ks, qi, si, ss); break;
    case 2: qk_tile(es, 2, n, hd, k, ks, qi, si, ss); break;
    case 3: qk_tile(es, 3, n, hd, k, ks, qi, si, ss); break;
    case 4: qk_tile(es, 4, n, hd, k, ks, qi, si, ss); break;
    case 5: qk_tile(es, 5, n, hd, k, ks, qi, si, ss); break;
    case 6: qk_tile(es, 6, n, hd, k, ks, qi, si, ss); break;
    case 7: qk_tile(es, 7, n, hd, k, ks, qi, si, ss); break;
    default: qk_tile(es, 8, n, hd, k, ks, qi, si, ss); break;
    }
  }
}

/* hsum8: the horizontal sums of a0..a7 into out[0..7], by a fixed tree
 * (the same additions whatever the other queries hold): halves of pairs,
 * then quarters, then within 128-bit lanes. */
#define halves(x, y, lo, hi) \
  _mm512_add_ps(_mm512_shuffle_f32x4(x, y, lo), _mm512_shuffle_f32x4(x, y, hi))

static inline __attribute__((always_inline)) void
hsum8(__m512 a0, __m512 a1, __m512 a2, __m512 a3, __m512 a4, __m512 a5, __m512 a6, __m512 a7,
      float *out)
{
  __m512 b0 = halves(a0, a1, 0x44, 0xee), b1 = halves(a2, a3, 0x44, 0xee);
  __m512 b2 = halves(a4, a5, 0x44, 0xee), b3 = halves(a6, a7, 0x44, 0xee);
  /* c0 (c1), 128-bit lane l: four partial sums of query l (4 + l) */
  __m512 c0 = halves(b0, b1, 0x88, 0xdd), c1 = halves(b2, b3, 0x88, 0xdd);
  __m512 d = _mm512_add_ps(_mm512_shuffle_ps(c0, c1, 0x44), _mm512_shuffle_ps(c0, c1, 0xee));
  __m512 e = _mm512_add_ps(_mm512_shuffle_ps(d, d, 0x88), _mm512_shuffle_ps(d, d, 0xdd));
  /* e, 128-bit lane l: query l, query 4 + l, query l, query 4 + l */
  __m512 f = _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0), e);
  _mm256_storeu_ps(out, _mm512_castps512_ps256(f));
}

static inline __attribute__((always_inline)) void
pv_tile(int es, int nq, const int *n, int hd, const void *v, size_t vs, const float *p,
        size_t ps, float *o, size_t os)
{
  int nmax = 0;
  for (int i = 0; i < nq; i++)
    nmax = n[i] > nmax ? n[i] : nmax;
  for (int d = 0; d < hd; d++) {
    __m512 acc[QB];
#pragma GCC unroll 8
    for (int i = 0; i < QB; i++)
      acc[i] = _mm512_setzero_ps();
    for (int t = 0; t < nmax; t += 16) {
      __m512 vv = load16(es, v, (size_t)d * vs + t, tail_mask(nmax - t));
#pragma GCC unroll 8
      for (int i = 0; i < QB; i++)
        if (i < nq && t < n[i]) {
          __mmask16 mi = tail_mask(n[i] - t);
          acc[i] = _mm512_mask3_fmadd_ps(_mm512_maskz_loadu_ps(mi, p + (size_t)i * ps + t), vv,
                                         acc[i], mi);
        }
    }
    float sums[QB];
    hsum8(acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7], sums);
#pragma GCC unroll 8
    for (int i = 0; i < QB; i++)
      if (i < nq)
        o[(size_t)i * os + d] = sums[i];
  }
}

static inline __attribute__((always_inline)) void
pv_any(int es, const int *n, int hd, const void *v, size_t vs, const float *p, size_t ps, int nq,
       float *o, size_t os)
{
  for (int i0 = 0; i0 < nq; i0 += QB) {
    const float *pi = p + (size_t)i0 * ps;
    float *oi = o + (size_t)i0 * os;
    switch (nq - i0 < QB ? nq - i0 : QB) {
    case 1: pv_tile(es, 1, n + i0, hd, v, vs, pi, ps, oi, os); break;
    case 2: pv_tile(es, 2, n + i0, hd, v, vs, pi, ps, oi, os); break;
    case 3: pv_tile(es, 3, n + i0, hd, v, vs, pi, ps, oi, os); break;
    case 4: pv_tile(es, 4, n + i0, hd, v, vs, pi, ps, oi, os); break;
    case 5: pv_tile(es, 5, n + i0, hd, v, vs, pi, ps, oi, os); break;
    case 6: pv_tile(es, 6, n + i0, hd, v, vs, pi, ps, oi, os); break;
    case 7: pv_tile(es, 7, n + i0, hd, v, vs, pi, ps, oi, os); break;
    default: pv_tile(es, 8, n + i0, hd, v, vs, pi, ps, oi, os); break;
    }
  }
}

/* Softmax (attn.h): the maximum, then e^(x - max) by vexp512 with the
 * sum in double (two 8-lane halves), then the rounding. */
static inline __attribute__((always_inline)) void
softmax_any(int es, float *att, int n, float scale)
{
  __m512 vs = _mm512_set1_ps(scale), vm = _mm512_set1_ps(-3.0e38f);
  for (int t = 0; t < n; t += 16) {
    __mmask16 k = tail_mask(n - t);
    __m512 x = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, att + t), vs);
    _mm512_mask_storeu_ps(att + t, k, x);
    vm = _mm512_mask_max_ps(vm, k, vm, x);
  }
  __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vm));
  __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
  for (int t = 0; t < n; t += 16) {
    __mmask16 k = tail_mask(n - t);
    __m512 e = _mm512_maskz_mov_ps(k, vexp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, att + t), mx)));
    _mm512_mask_storeu_ps(att + t, k, e);
    s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
    s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
  }
  __m512 inv = _mm512_set1_ps((float)(1.0 / _mm512_reduce_add_pd(_mm512_add_pd(s0, s1))));
  for (int t = 0; t < n; t += 16) {
    __mmask16 k = tail_mask(n - t);
    __m512 pr = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, att + t), inv);
    if (es == 2) /* rounded to F16 */
      pr = _mm512_cvtph_ps(_mm512_cvtps_ph(pr, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    _mm512_mask_storeu_ps(att + t, k, pr);
  }
}

static void
softmax_f16(float *att, int n, float scale)
{
  softmax_any(2, att, n, scale);
}

static void
softmax_f32(float *att, int n, float scale)
{
  softmax_any(4, att, n, scale);
}

static void
qk_f16(int n, int hd, const void *k, size_t ks, const float *q, int nq, float *s, size_t ss)
{
  qk_any(2, n, hd, k, ks, q, nq, s, ss);
}

static void
qk_f32(int n, int hd, const void *k, size_t ks, const float *q, int nq, float *s, size_t ss)
{
  qk_any(4, n, hd, k, ks, q, nq, s, ss);
}

static void
pv_f16(const int *n, int hd, const void *v, size_t vs, const float *p, size_t ps, int nq, float *o,
       size_t os)
{
  pv_any(2, n, hd, v, vs, p, ps, nq, o, os);
}

static void
pv_f32(const int *n, int hd, const void *v, size_t vs, const float *p, size_t ps, int nq, float *o,
       size_t os)
{
  pv_any(4, n, hd, v, vs, p, ps, nq, o, os);
}

const struct attn_kernels attn_avx512_f16 = { qk_f16, softmax_f16, pv_f16 };
const struct attn_kernels attn_avx512_f32 = { qk_f32, softmax_f32, pv_f32 };
