/*
 * dot_x86.h: the x86 SIMD dot kernels, written once and compiled twice:
 * by dot_avx2.c (AVX2 + FMA + F16C) and by dot_avx512.c (adding AVX-512
 * BW/VL/VNNI, which turns the u8 x i8 multiply-add pairs into one vpdpbusd
 * and widens the F32/F16 loops). The including file defines DOT_SUFFIX
 * and DOT_OPS_NAME before including this.
 *
 * Every kernel computes the same integer block sums as the scalar ones in
 * quant.c; only the order of the float accumulation differs.
 */
#include <immintrin.h>

#include "libc.h"
#include "quant_impl.h"

#define DOT_CAT2(a, b) a##b
#define DOT_CAT(a, b) DOT_CAT2(a, b)
#define DOT_FN(name) DOT_CAT(name, DOT_SUFFIX)

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define DOT_VNNI 1
#endif

static inline float
hsum8(__m256 v)
{
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

static inline float
h2f(uint16_t h)
{
  return _cvtsh_ss(h);
}

/* Sums of four u8 x i8 products per int32 lane (a unsigned, b signed;
 * every pair sum of maddubs stays below 2^15 for the values we feed). */
static inline __m256i
dot_u8i8(__m256i a, __m256i b)
{
#ifdef DOT_VNNI
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), a, b);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1));
#endif
}

/* The same for two signed operands (a in -127..127 or -128 with |b| < 128). */
static inline __m256i
dot_i8i8(__m256i a, __m256i b)
{
  return dot_u8i8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

/* ---- F32, F16, BF16 ----------------------------------------------------- */

#ifdef __AVX512F__
static float
DOT_FN(dot_f32_)(int n, const void *w, const void *x)
{
  const float *a = w, *b = x;
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  float s = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
  for (; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static float
DOT_FN(dot_f16_)(int n, const void *w, const void *x)
{
  const uint16_t *a = w, *b = x;
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512 a0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a + i)));
    __m512 b0 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(b + i)));
    __m512 a1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(a + i + 16)));
    __m512 b1 = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(b + i + 16)));
    s0 = _mm512_fmadd_ps(a0, b0, s0);
    s1 = _mm512_fmadd_ps(a1, b1, s1);
  }
  float s = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
  for (; i < n; i++)
    s += h2f(a[i]) * h2f(b[i]);
  return s;
}
#else
static float
DOT_FN(dot_f32_)(int n, const void *w, const void *x)
{
  const float *a = w, *b = x;
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  float s = hsum8(_mm256_add_ps(s0, s1));
  for (; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static float
DOT_FN(dot_f16_)(int n, const void *w, const void *x)
{
  const uint16_t *a = w, *b = x;
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 a0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i)));
    __m256 b0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i)));
    __m256 a1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i + 8)));
    __m256 b1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i + 8)));
    s0 = _mm256_fmadd_ps(a0, b0, s0);
    s1 = _mm256_fmadd_ps(a1, b1, s1);
  }
  float s = hsum8(_mm256_add_ps(s0, s1));
  for (; i < n; i++)
    s += h2f(a[i]) * h2f(b[i]);
  return s;
}
#endif

static inline __m256
bf16x8(const uint16_t *p)
{
  __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

static float
DOT_FN(dot_bf16_)(int n, const void *w, const void *x)
{
  const uint16_t *a = w, *b = x;
  __m256 s0 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8)
    s0 = _mm256_fmadd_ps(bf16x8(a + i), bf16x8(b + i), s0);
  float s = hsum8(s0);
  for (; i < n; i++)
    s += quant_bf16_to_f32(a[i]) * quant_bf16_to_f32(b[i]);
  return s;
}

/* ---- Q8_0, Q4_0 (activations Q8_0) --------------------------------------- */

static float
DOT_FN(dot_q8_0_)(int n, const void *w, const void *x)
{
  const struct quant_q8_0 *a = w, *b = x;
  int nb = n / 32, i = 0;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (; i + 2 <= nb; i += 2) {
    __m256i p0 = dot_i8i8(_mm256_loadu_si256((const __m256i *)a[i].qs),
                          _mm256_loadu_si256((const __m256i *)b[i].qs));
    __m256i p1 = dot_i8i8(_mm256_loadu_si256((const __m256i *)a[i + 1].qs),
                          _mm256_loadu_si256((const __m256i *)b[i + 1].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * h2f(b[i].d)),
                           _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i + 1].d) * h2f(b[i + 1].d)),
                           _mm256_cvtepi32_ps(p1), acc1);
  }
  for (; i < nb; i++) {
    __m256i p0 = dot_i8i8(_mm256_loadu_si256((const __m256i *)a[i].qs),
                          _mm256_loadu_si256((const __m256i *)b[i].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * h2f(b[i].d)),
                           _mm256_cvtepi32_ps(p0), acc0);
  }
  return hsum8(_mm256_add_ps(acc0, acc1));
}

/* The 32 nibbles of a Q4_0/Q4_1 block in element order, as bytes 0..15. */
static inline __m256i
nibbles32(const uint8_t *qs)
{
  __m128i t = _mm_loadu_si128((const __m128i *)qs);
  __m256i v = _mm256_set_m128i(_mm_srli_epi16(t, 4), t);
  return _mm256_and_si256(v, _mm256_set1_epi8(15));
}

static float
DOT_FN(dot_q4_0_)(int n, const void *w, const void *x)
{
  const struct quant_q4_0 *a = w;
  const struct quant_q8_0 *b = x;
  int nb = n / 32, i = 0;
  const __m256i eight = _mm256_set1_epi8(8);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (; i + 2 <= nb; i += 2) {
    __m256i q0 = _mm256_sub_epi8(nibbles32(a[i].qs), eight);
    __m256i q1 = _mm256_sub_epi8(nibbles32(a[i + 1].qs), eight);
    __m256i p0 = dot_i8i8(q0, _mm256_loadu_si256((const __m256i *)b[i].qs));
    __m256i p1 = dot_i8i8(q1, _mm256_loadu_si256((const __m256i *)b[i + 1].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * h2f(b[i].d)),
                           _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i + 1].d) * h2f(b[i + 1].d)),
                           _mm256_cvtepi32_ps(p1), acc1);
  }
  for (; i < nb; i++) {
    __m256i q0 = _mm256_sub_epi8(nibbles32(a[i].qs), eight);
    __m256i p0 = dot_i8i8(q0, _mm256_loadu_si256((const __m256i *)b[i].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * h2f(b[i].d)),
                           _mm256_cvtepi32_ps(p0), acc0);
  }
  return hsum8(_mm256_add_ps(acc0, acc1));
}

/* ---- Q4_K, Q6_K (activations Q8_K) ---------------------------------------- */

/* u8 x i8 products of 32 bytes, summed in pairs to 16 i16 and multiplied
 * by the sub-block scales (lo for the first 16 bytes, hi for the last 16),
 * summed to 8 i32. */
static inline __m256i
scaled_dot(__m256i q, __m256i y, __m256i scales16)
{
  return _mm256_madd_epi16(_mm256_maddubs_epi16(q, y), scales16);
}

static float
DOT_FN(dot_q4_k_)(int n, const void *w, const void *x)
{
  const struct quant_q4_k *a = w;
  const struct quant_q8_k *b = x;
  const __m256i m4 = _mm256_set1_epi8(15);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0.f;
  for (int i = 0; i < n / 256; i++) {
    uint8_t sc[8], m[8];
    int summ = 0;
    for (int j = 0; j < 8; j++) {
      quant_k_scale_min(j, a[i].scales, &sc[j], &m[j]);
      summ += m[j] * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
    }
    __m256i sumi = _mm256_setzero_si256();
    for (int g = 0; g < 4; g++) {
      __m256i q = _mm256_loadu_si256((const __m256i *)(a[i].qs + 32 * g));
      __m256i ylo = _mm256_loadu_si256((const __m256i *)(b[i].qs + 64 * g));
      __m256i yhi = _mm256_loadu_si256((const __m256i *)(b[i].qs + 64 * g + 32));
      __m256i lo = _mm256_and_si256(q, m4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
      sumi = _mm256_add_epi32(sumi, scaled_dot(lo, ylo, _mm256_set1_epi16(sc[2 * g])));
      sumi = _mm256_add_epi32(sumi, scaled_dot(hi, yhi, _mm256_set1_epi16(sc[2 * g + 1])));
    }
    float d = b[i].d * h2f(a[i].d);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi), acc);
    mins += b[i].d * h2f(a[i].dmin) * (float)summ;
  }
  return hsum8(acc) - mins;
}

static inline __m256i
pair16(int lo, int hi)
{
  return _mm256_set_m128i(_mm_set1_epi16((short)hi), _mm_set1_epi16((short)lo));
}

static float
DOT_FN(dot_q6_k_)(int n, const void *w, const void *x)
{
  const struct quant_q6_k *a = w;
  const struct quant_q8_k *b = x;
  const __m256i m4 = _mm256_set1_epi8(15), m2 = _mm256_set1_epi8(3 << 4);
  __m256 acc = _mm256_setzero_ps();
  for (int i = 0; i < n / 256; i++) {
    const int8_t *sc = a[i].scales;
    int off = 0;
    for (int k = 0; k < 16; k++)
      off += sc[k] * b[i].bsums[k];
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; h++) {
      const uint8_t *ql = a[i].ql + 64 * h;
      const int8_t *y = b[i].qs + 128 * h;
      __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
      __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
      __m256i hb = _mm256_loadu_si256((const __m256i *)(a[i].qh + 32 * h));
      __m256i q0 = _mm256_or_si256(_mm256_and_si256(l0, m4),
                                   _mm256_and_si256(_mm256_slli_epi16(hb, 4), m2));
      __m256i q1 = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                   _mm256_and_si256(_mm256_slli_epi16(hb, 2), m2));
      __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                   _mm256_and_si256(hb, m2));
      __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_and_si256(_mm256_srli_epi16(hb, 2), m2));
      const int8_t *s = sc + 8 * h;
      sumi = _mm256_add_epi32(sumi, scaled_dot(q0, _mm256_loadu_si256((const __m256i *)y),
                                               pair16(s[0], s[1])));
      sumi = _mm256_add_epi32(sumi, scaled_dot(q1, _mm256_loadu_si256((const __m256i *)(y + 32)),
                                               pair16(s[2], s[3])));
      sumi = _mm256_add_epi32(sumi, scaled_dot(q2, _mm256_loadu_si256((const __m256i *)(y + 64)),
                                               pair16(s[4], s[5])));
      sumi = _mm256_add_epi32(sumi, scaled_dot(q3, _mm256_loadu_si256((const __m256i *)(y + 96)),
                                               pair16(s[6], s[7])));
    }
    float d = b[i].d * h2f(a[i].d);
    __m256i total = _mm256_sub_epi32(sumi, _mm256_setr_epi32(32 * off, 0, 0, 0, 0, 0, 0, 0));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(total), acc);
  }
  return hsum8(acc);
}

const struct quant_ops DOT_OPS_NAME = {
  .name = DOT_OPS_LABEL,
  .dot = {
    [QUANT_F32] = DOT_FN(dot_f32_),
    [QUANT_F16] = DOT_FN(dot_f16_),
    [QUANT_BF16] = DOT_FN(dot_bf16_),
    [QUANT_Q8_0] = DOT_FN(dot_q8_0_),
    [QUANT_Q4_0] = DOT_FN(dot_q4_0_),
    [QUANT_Q4_1] = quant_dot_q4_1_scalar,
    [QUANT_Q5_0] = quant_dot_q5_0_scalar,
    [QUANT_Q4_K] = DOT_FN(dot_q4_k_),
    [QUANT_Q5_K] = quant_dot_q5_k_scalar,
    [QUANT_Q6_K] = DOT_FN(dot_q6_k_),
  },
};
