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
#if defined(__AVX512BW__) && defined(__AVX512VL__)
#define DOT_K512 1 /* 512-bit Q4_K/Q6_K dot4 kernels below */
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

#define INLINE static inline __attribute__((always_inline))

/* The kernels below come as "columns" functions: one weight row against
 * nc activation rows (x, x + xs, ...), the weight's blocks decoded once.
 * dot() is nc = 1 and dot4() nc = 4; each column gets exactly the same
 * sequence of operations either way, so the results do not depend on how
 * a batch is split. */

/* One Q8_0 x Q8_0 block: w pre-split into |w| and w (for the signs). */
INLINE __m256
q8_block(__m256 acc, __m256i aw, __m256i w, float dw, const struct quant_q8_0 *b)
{
  __m256i p = dot_u8i8(aw, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)b->qs), w));
  return _mm256_fmadd_ps(_mm256_set1_ps(dw * h2f(b->d)), _mm256_cvtepi32_ps(p), acc);
}

/* Q8_0 and Q4_0 share the loop; q4 selects the weight decoding. */
INLINE __m256i
q4_0_bytes(const struct quant_q4_0 *blk)
{
  __m128i t = _mm_loadu_si128((const __m128i *)blk->qs);
  __m256i v = _mm256_set_m128i(_mm_srli_epi16(t, 4), t);
  return _mm256_sub_epi8(_mm256_and_si256(v, _mm256_set1_epi8(15)), _mm256_set1_epi8(8));
}

INLINE void
q8q4_cols(int n, const void *w, int q4, const uint8_t *x, size_t xs, float *out, const int nc)
{
  const struct quant_q8_0 *a8 = w;
  const struct quant_q4_0 *a4 = w;
  __m256 acc0[4], acc1[4];
  for (int c = 0; c < nc; c++)
    acc0[c] = acc1[c] = _mm256_setzero_ps();
  int nb = n / 32, i = 0;
  for (; i < nb; i += 2) {
    __m256i w0 = q4 ? q4_0_bytes(&a4[i]) : _mm256_loadu_si256((const __m256i *)a8[i].qs);
    __m256i aw0 = _mm256_sign_epi8(w0, w0);
    float d0 = h2f(q4 ? a4[i].d : a8[i].d);
    if (i + 1 < nb) {
      __m256i w1 = q4 ? q4_0_bytes(&a4[i + 1]) : _mm256_loadu_si256((const __m256i *)a8[i + 1].qs);
      __m256i aw1 = _mm256_sign_epi8(w1, w1);
      float d1 = h2f(q4 ? a4[i + 1].d : a8[i + 1].d);
      for (int c = 0; c < nc; c++) {
        const struct quant_q8_0 *b = (const struct quant_q8_0 *)(x + c * xs);
        acc0[c] = q8_block(acc0[c], aw0, w0, d0, &b[i]);
        acc1[c] = q8_block(acc1[c], aw1, w1, d1, &b[i + 1]);
      }
    } else {
      for (int c = 0; c < nc; c++) {
        const struct quant_q8_0 *b = (const struct quant_q8_0 *)(x + c * xs);
        acc0[c] = q8_block(acc0[c], aw0, w0, d0, &b[i]);
      }
    }
  }
  for (int c = 0; c < nc; c++)
    out[c] = hsum8(_mm256_add_ps(acc0[c], acc1[c]));
}

static float
DOT_FN(dot_q8_0_)(int n, const void *w, const void *x)
{
  float r;
  q8q4_cols(n, w, 0, x, 0, &r, 1);
  return r;
}

static void
DOT_FN(dot4_q8_0_)(int n, const void *w, const void *x, size_t xs, float *out)
{
  q8q4_cols(n, w, 0, x, xs, out, 4);
}

static float
DOT_FN(dot_q4_0_)(int n, const void *w, const void *x)
{
  float r;
  q8q4_cols(n, w, 1, x, 0, &r, 1);
  return r;
}

static void
DOT_FN(dot4_q4_0_)(int n, const void *w, const void *x, size_t xs, float *out)
{
  q8q4_cols(n, w, 1, x, xs, out, 4);
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

/* The eight 6-bit scales (sc) and mins (m) of a Q4_K/Q5_K block, unpacked
 * four at a time from the 12 packed bytes as 32-bit words. */
static inline void
k_scales(const uint8_t *packed, uint8_t sc[8], uint8_t m[8])
{
  uint32_t w0, w1, w2, a, b;
  memcpy(&w0, packed, 4);
  memcpy(&w1, packed + 4, 4);
  memcpy(&w2, packed + 8, 4);
  a = w0 & 0x3f3f3f3f;
  b = (w2 & 0x0f0f0f0f) | ((w0 >> 6) & 0x03030303) << 4;
  memcpy(sc, &a, 4);
  memcpy(sc + 4, &b, 4);
  a = w1 & 0x3f3f3f3f;
  b = ((w2 >> 4) & 0x0f0f0f0f) | ((w1 >> 6) & 0x03030303) << 4;
  memcpy(m, &a, 4);
  memcpy(m + 4, &b, 4);
}

/* sum_j m[j] * (bsums[2j] + bsums[2j+1]) for the eight sub-blocks. */
static inline int
k_mins(const uint8_t m[8], const int16_t *bsums)
{
  __m128i lo = _mm_loadu_si128((const __m128i *)bsums);
  __m128i hi = _mm_loadu_si128((const __m128i *)(bsums + 8));
  __m128i pairs = _mm_hadd_epi16(lo, hi);
  __m128i mm = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)m));
  __m128i p = _mm_madd_epi16(pairs, mm);
  p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4e));
  p = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0xb1));
  return _mm_cvtsi128_si32(p);
}

INLINE void
q4k_cols(int n, const struct quant_q4_k *a, const uint8_t *x, size_t xs, float *out,
         const int nc)
{
  const __m256i m4 = _mm256_set1_epi8(15);
  __m256 acc[4];
  float mins[4];
  for (int c = 0; c < nc; c++) {
    acc[c] = _mm256_setzero_ps();
    mins[c] = 0.f;
  }
  for (int i = 0; i < n / 256; i++) {
    uint8_t sc[8], m[8];
    k_scales(a[i].scales, sc, m);
    __m256i q[8];
    for (int g = 0; g < 4; g++) {
      __m256i v = _mm256_loadu_si256((const __m256i *)(a[i].qs + 32 * g));
      q[2 * g] = _mm256_and_si256(v, m4);
      q[2 * g + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
    }
    float dw = h2f(a[i].d), mw = h2f(a[i].dmin);
    for (int c = 0; c < nc; c++) {
      const struct quant_q8_k *b = (const struct quant_q8_k *)(x + c * xs) + i;
      int summ = k_mins(m, b->bsums);
      __m256i sumi = _mm256_setzero_si256();
      for (int j = 0; j < 8; j++)
        sumi = _mm256_add_epi32(sumi, scaled_dot(q[j], _mm256_loadu_si256((const __m256i *)(b->qs + 32 * j)),
                                                 _mm256_set1_epi16(sc[j])));
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(b->d * dw), _mm256_cvtepi32_ps(sumi), acc[c]);
      mins[c] += b->d * mw * (float)summ;
    }
  }
  for (int c = 0; c < nc; c++)
    out[c] = hsum8(acc[c]) - mins[c];
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
    k_scales(a[i].scales, sc, m);
    int summ = k_mins(m, b[i].bsums);
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

#ifndef DOT_K512
static void
DOT_FN(dot4_q4_k_)(int n, const void *w, const void *x, size_t xs, float *out)
{
  q4k_cols(n, w, x, xs, out, 4);
}
#endif

static inline __m256i
pair16(int lo, int hi)
{
  return _mm256_set_m128i(_mm_set1_epi16((short)hi), _mm_set1_epi16((short)lo));
}

INLINE void
q6k_cols(int n, const struct quant_q6_k *a, const uint8_t *x, size_t xs, float *out,
         const int nc)
{
  const __m256i m4 = _mm256_set1_epi8(15), m2 = _mm256_set1_epi8(3 << 4);
  __m256 acc[4];
  for (int c = 0; c < nc; c++)
    acc[c] = _mm256_setzero_ps();
  for (int i = 0; i < n / 256; i++) {
    const int8_t *sc = a[i].scales;
    __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
    __m256i q[8];
    for (int h = 0; h < 2; h++) {
      const uint8_t *ql = a[i].ql + 64 * h;
      __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
      __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
      __m256i hb = _mm256_loadu_si256((const __m256i *)(a[i].qh + 32 * h));
      q[4 * h] = _mm256_or_si256(_mm256_and_si256(l0, m4),
                                 _mm256_and_si256(_mm256_slli_epi16(hb, 4), m2));
      q[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                     _mm256_and_si256(_mm256_slli_epi16(hb, 2), m2));
      q[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                     _mm256_and_si256(hb, m2));
      q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                     _mm256_and_si256(_mm256_srli_epi16(hb, 2), m2));
    }
    float dw = h2f(a[i].d);
    for (int c = 0; c < nc; c++) {
      const struct quant_q8_k *b = (const struct quant_q8_k *)(x + c * xs) + i;
      __m256i offv = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)b->bsums));
      __m256i sumi = _mm256_setzero_si256();
      for (int j = 0; j < 8; j++)
        sumi = _mm256_add_epi32(sumi, scaled_dot(q[j], _mm256_loadu_si256((const __m256i *)(b->qs + 32 * j)),
                                                 pair16(sc[2 * j], sc[2 * j + 1])));
      __m256i total = _mm256_sub_epi32(sumi, _mm256_slli_epi32(offv, 5));
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(b->d * dw), _mm256_cvtepi32_ps(total), acc[c]);
    }
  }
  for (int c = 0; c < nc; c++)
    out[c] = hsum8(acc[c]);
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
    __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
    __m256i offv = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)b[i].bsums));
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
    __m256i total = _mm256_sub_epi32(sumi, _mm256_slli_epi32(offv, 5));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(total), acc);
  }
  return hsum8(acc);
}

#ifndef DOT_K512
static void
DOT_FN(dot4_q6_k_)(int n, const void *w, const void *x, size_t xs, float *out)
{
  q6k_cols(n, w, x, xs, out, 4);
}
#endif

/* ---- Q5_K (activations Q8_K), Q5_0 (activations Q8_0) ------------------------ */

static float
DOT_FN(dot_q5_k_)(int n, const void *w, const void *x)
{
  const struct quant_q5_k *a = w;
  const struct quant_q8_k *b = x;
  const __m256i m4 = _mm256_set1_epi8(15), one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  float mins = 0.f;
  for (int i = 0; i < n / 256; i++) {
    uint8_t sc[8], m[8];
    k_scales(a[i].scales, sc, m);
    int summ = k_mins(m, b[i].bsums);
    __m256i hb = _mm256_loadu_si256((const __m256i *)a[i].qh);
    __m256i sumi = _mm256_setzero_si256();
    for (int g = 0; g < 4; g++) {
      __m256i q = _mm256_loadu_si256((const __m256i *)(a[i].qs + 32 * g));
      __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * g), one), 4);
      __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * g + 1), one), 4);
      __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4), h0);
      __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), h1);
      sumi = _mm256_add_epi32(sumi, scaled_dot(lo, _mm256_loadu_si256((const __m256i *)(b[i].qs + 64 * g)),
                                               _mm256_set1_epi16(sc[2 * g])));
      sumi = _mm256_add_epi32(sumi, scaled_dot(hi, _mm256_loadu_si256((const __m256i *)(b[i].qs + 64 * g + 32)),
                                               _mm256_set1_epi16(sc[2 * g + 1])));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(b[i].d * h2f(a[i].d)), _mm256_cvtepi32_ps(sumi), acc);
    mins += b[i].d * h2f(a[i].dmin) * (float)summ;
  }
  return hsum8(acc) - mins;
}

static float
DOT_FN(dot_q4_1_)(int n, const void *w, const void *x)
{
  const struct quant_q4_1 *a = w;
  const struct quant_q8_1 *b = x;
  __m256 acc = _mm256_setzero_ps();
  float mins = 0.f;
  for (int i = 0; i < n / 32; i++) {
    __m128i t = _mm_loadu_si128((const __m128i *)a[i].qs);
    __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(15));
    __m256i p = dot_u8i8(q, _mm256_loadu_si256((const __m256i *)b[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * h2f(b[i].d)), _mm256_cvtepi32_ps(p), acc);
    mins += h2f(a[i].m) * h2f(b[i].s);
  }
  return hsum8(acc) + mins;
}

/* The 32 bits of a Q5_0 block's qh as bytes 0x10 (bit set) or 0. */
static inline __m256i
bits_to_bytes(uint32_t qh)
{
  const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                        2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
  __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), pick);
  v = _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
  return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

static float
DOT_FN(dot_q5_0_)(int n, const void *w, const void *x)
{
  const struct quant_q5_0 *a = w;
  const struct quant_q8_0 *b = x;
  __m256 acc = _mm256_setzero_ps();
  for (int i = 0; i < n / 32; i++) {
    uint32_t qh;
    memcpy(&qh, a[i].qh, 4);
    __m128i t = _mm_loadu_si128((const __m128i *)a[i].qs);
    __m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(15));
    q = _mm256_sub_epi8(_mm256_or_si256(q, bits_to_bytes(qh)), _mm256_set1_epi8(16));
    __m256i p = dot_i8i8(q, _mm256_loadu_si256((const __m256i *)b[i].qs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(a[i].d) * h2f(b[i].d)), _mm256_cvtepi32_ps(p), acc);
  }
  return hsum8(acc);
}

#ifdef DOT_K512
/* ---- 512-bit K-quant kernels ----------------------------------------------
 * Two 32-byte groups per register: for Q4_K a group's 32 bytes are
 * broadcast to both halves and shifted by 0 or 4 per half (low, high
 * nibbles: sub-blocks 2g and 2g+1, whose activations are 64 contiguous
 * bytes); for Q6_K the 64 bytes of ql of a half are one load and the 32
 * bytes of qh are broadcast and shifted per half. The sub-block scales are
 * spread over the 16-bit lanes with one vpermw. Used for dot4 (batches);
 * on one row the 256-bit kernels are as fast (Zen 4 splits 512-bit
 * operations) and need less setup. */

/* vpermw indices spreading sub-block scales over 16-bit lanes, and the
 * per-half 16-bit shift counts. */
static const int16_t q4k_spread[4][32] __attribute__((aligned(64))) = {
  { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 },
  { 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3 },
  { 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5 },
  { 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7 },
};
static const int16_t q6k_spread[4][32] __attribute__((aligned(64))) = {
  { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3 },
  { 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7 },
  { 8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11 },
  { 12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13, 14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15 },
};
static const int16_t shifts16[3][32] __attribute__((aligned(64))) = {
  { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4 },
  { 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2 },
  { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2 },
};

#define LOAD16(t) _mm512_load_si512((const void *)(t))

/* Adds the upper 8 int32 lanes to the lower 8: the same per-lane integer
 * sums as the 256-bit kernels, so the float steps and the results are
 * identical to theirs (dot4 here, dot from the 256-bit code). */
INLINE __m256i
fold(__m512i v)
{
  return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

INLINE void
q4k_cols512(int n, const struct quant_q4_k *a, const uint8_t *x, size_t xs, float *out,
            const int nc)
{
  const __m512i m4 = _mm512_set1_epi8(15), sh = LOAD16(shifts16[0]);
  __m256 acc[4];
  float mins[4];
  for (int c = 0; c < nc; c++) {
    acc[c] = _mm256_setzero_ps();
    mins[c] = 0.f;
  }
  for (int i = 0; i < n / 256; i++) {
    uint8_t sc[8], m[8];
    k_scales(a[i].scales, sc, m);
    __m512i sc16 = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)sc)));
    __m512i q[4], s16[4];
    for (int g = 0; g < 4; g++) {
      __m512i v = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(a[i].qs + 32 * g)));
      q[g] = _mm512_and_si512(_mm512_srlv_epi16(v, sh), m4);
      s16[g] = _mm512_permutexvar_epi16(LOAD16(q4k_spread[g]), sc16);
    }
    float dw = h2f(a[i].d), mw = h2f(a[i].dmin);
    for (int c = 0; c < nc; c++) {
      const struct quant_q8_k *b = (const struct quant_q8_k *)(x + c * xs) + i;
      int summ = k_mins(m, b->bsums);
      __m512i sumi = _mm512_setzero_si512();
      for (int g = 0; g < 4; g++)
        sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(
                   q[g], _mm512_loadu_si512((const void *)(b->qs + 64 * g))), s16[g]));
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(b->d * dw), _mm256_cvtepi32_ps(fold(sumi)), acc[c]);
      mins[c] += b->d * mw * (float)summ;
    }
  }
  for (int c = 0; c < nc; c++)
    out[c] = hsum8(acc[c]) - mins[c];
}

INLINE void
q6k_cols512(int n, const struct quant_q6_k *a, const uint8_t *x, size_t xs, float *out,
            const int nc)
{
  const __m512i m4 = _mm512_set1_epi8(15), m30 = _mm512_set1_epi8(0x30);
  const __m512i sh01 = LOAD16(shifts16[1]), sh23 = LOAD16(shifts16[2]);
  __m256 acc[4];
  for (int c = 0; c < nc; c++)
    acc[c] = _mm256_setzero_ps();
  for (int i = 0; i < n / 256; i++) {
    __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)a[i].scales));
    __m512i sc512 = _mm512_castsi256_si512(sc16);
    __m512i q[4], s16[4];
    for (int h = 0; h < 2; h++) {
      __m512i l = _mm512_loadu_si512((const void *)(a[i].ql + 64 * h));
      __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(a[i].qh + 32 * h)));
      q[2 * h] = _mm512_or_si512(_mm512_and_si512(l, m4),
                                 _mm512_and_si512(_mm512_sllv_epi16(hb, sh01), m30));
      q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                     _mm512_and_si512(_mm512_srlv_epi16(hb, sh23), m30));
    }
    for (int k = 0; k < 4; k++)
      s16[k] = _mm512_permutexvar_epi16(LOAD16(q6k_spread[k]), sc512);
    float dw = h2f(a[i].d);
    for (int c = 0; c < nc; c++) {
      const struct quant_q8_k *b = (const struct quant_q8_k *)(x + c * xs) + i;
      __m256i offv = _mm256_madd_epi16(sc16, _mm256_loadu_si256((const __m256i *)b->bsums));
      __m512i sumi = _mm512_setzero_si512();
      for (int k = 0; k < 4; k++)
        sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(
                   q[k], _mm512_loadu_si512((const void *)(b->qs + 64 * k))), s16[k]));
      __m256i total = _mm256_sub_epi32(fold(sumi), _mm256_slli_epi32(offv, 5));
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(b->d * dw), _mm256_cvtepi32_ps(total), acc[c]);
    }
  }
  for (int c = 0; c < nc; c++)
    out[c] = hsum8(acc[c]);
}

static void
DOT_FN(dot4_q4_k_)(int n, const void *w, const void *x, size_t xs, float *out)
{
  q4k_cols512(n, w, x, xs, out, 4);
}

static void
DOT_FN(dot4_q6_k_)(int n, const void *w, const void *x, size_t xs, float *out)
{
  q6k_cols512(n, w, x, xs, out, 4);
}
#endif

/* ---- activation quantization ------------------------------------------------ */

static void
DOT_FN(row_f16_)(const float *x, void *y, int n)
{
  uint16_t *h = y;
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128((__m128i *)(h + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; i++)
    h[i] = quant_f32_to_f16(x[i]);
}

static inline float
hmax8(__m256 v)
{
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

/* 32 int32 (four vectors, in order) to 32 int8 at dst, saturating. */
static inline void
pack32(__m256i a, __m256i b, __m256i c, __m256i d, int8_t *dst)
{
  __m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
  __m256i r = _mm256_packs_epi16(ab, cd);
  r = _mm256_permutevar8x32_epi32(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256((__m256i *)dst, r);
}

static void
DOT_FN(row_q8_0_)(const float *x, void *y, int n)
{
  struct quant_q8_0 *b = y;
  const __m256 sign = _mm256_set1_ps(-0.f);
  for (int i = 0; i < n / 32; i++, x += 32) {
    __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
    __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
    __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                             _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
    float amax = hmax8(m), id = amax != 0.f ? 127.f / amax : 0.f;
    b[i].d = quant_f32_to_f16(amax / 127.f);
    __m256 mul = _mm256_set1_ps(id);
    pack32(_mm256_cvtps_epi32(_mm256_mul_ps(v0, mul)), _mm256_cvtps_epi32(_mm256_mul_ps(v1, mul)),
           _mm256_cvtps_epi32(_mm256_mul_ps(v2, mul)), _mm256_cvtps_epi32(_mm256_mul_ps(v3, mul)),
           b[i].qs);
  }
}

static inline int
hsum8i(__m256i v)
{
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

static void
DOT_FN(row_q8_k_)(const float *x, void *y, int n)
{
  struct quant_q8_k *b = y;
  const __m256 sign = _mm256_set1_ps(-0.f);
  for (int i = 0; i < n / 256; i++, x += 256) {
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < 256; j += 8)
      m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
    float amax = hmax8(m);
    if (amax == 0.f) {
      memset(&b[i], 0, sizeof b[i]);
      continue;
    }
    /* the first element of largest magnitude, with its sign */
    __m256 am = _mm256_set1_ps(amax);
    int j = 0, bit = 0;
    for (;; j += 8) {
      int mask = _mm256_movemask_ps(
          _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)), am, _CMP_EQ_OQ));
      if (mask) {
        bit = __builtin_ctz((unsigned)mask);
        break;
      }
    }
    float iscale = -127.f / x[j + bit];
    __m256 mul = _mm256_set1_ps(iscale);
    const __m256i top = _mm256_set1_epi32(127);
    for (int k = 0; k < 256; k += 32) {
      __m256i q[4];
      for (int u = 0; u < 4; u++)
        q[u] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8 * u), mul)), top);
      pack32(q[0], q[1], q[2], q[3], b[i].qs + k);
      b[i].bsums[k / 16] = (int16_t)hsum8i(_mm256_add_epi32(q[0], q[1]));
      b[i].bsums[k / 16 + 1] = (int16_t)hsum8i(_mm256_add_epi32(q[2], q[3]));
    }
    b[i].d = 1.f / iscale;
  }
}

/* ---- many rows, one activation row ---------------------------------------- */

#define DOTR(type)                                                              \
  static void DOT_FN(dotr_##type##_)(int n, const void *w, size_t rb, int rows,   \
                                     const void *x, float *out)                \
  {                                                                            \
    const uint8_t *row = w;                                                    \
    for (int r = 0; r < rows; r++, row += rb)                                  \
      out[r] = DOT_FN(dot_##type##_)(n, row, x);                               \
  }
DOTR(q8_0)
DOTR(q4_0)
DOTR(q4_k)
DOTR(q5_k)
DOTR(q6_k)

/* ---- axpy over the KV cache ------------------------------------------------- */

static void
DOT_FN(axpy_f32_)(int n, float a, const void *x, float *y)
{
  const float *v = x;
  __m256 va = _mm256_set1_ps(a);
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(v + i), _mm256_loadu_ps(y + i)));
  for (; i < n; i++)
    y[i] += a * v[i];
}

static void
DOT_FN(axpy_f16_)(int n, float a, const void *x, float *y)
{
  const uint16_t *v = x;
  __m256 va = _mm256_set1_ps(a);
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + i))),
                                            _mm256_loadu_ps(y + i)));
  for (; i < n; i++)
    y[i] += a * h2f(v[i]);
}

const struct quant_ops DOT_OPS_NAME = {
  .name = DOT_OPS_LABEL,
  .dot = {
    [QUANT_F32] = DOT_FN(dot_f32_),
    [QUANT_F16] = DOT_FN(dot_f16_),
    [QUANT_BF16] = DOT_FN(dot_bf16_),
    [QUANT_Q8_0] = DOT_FN(dot_q8_0_),
    [QUANT_Q4_0] = DOT_FN(dot_q4_0_),
    [QUANT_Q4_1] = DOT_FN(dot_q4_1_),
    [QUANT_Q5_0] = DOT_FN(dot_q5_0_),
    [QUANT_Q4_K] = DOT_FN(dot_q4_k_),
    [QUANT_Q5_K] = DOT_FN(dot_q5_k_),
    [QUANT_Q6_K] = DOT_FN(dot_q6_k_),
  },
  .dot4 = {
    [QUANT_Q8_0] = DOT_FN(dot4_q8_0_),
    [QUANT_Q4_0] = DOT_FN(dot4_q4_0_),
    [QUANT_Q4_K] = DOT_FN(dot4_q4_k_),
    [QUANT_Q6_K] = DOT_FN(dot4_q6_k_),
  },
  .dotr = {
    [QUANT_Q8_0] = DOT_FN(dotr_q8_0_),
    [QUANT_Q4_0] = DOT_FN(dotr_q4_0_),
    [QUANT_Q4_K] = DOT_FN(dotr_q4_k_),
    [QUANT_Q5_K] = DOT_FN(dotr_q5_k_),
    [QUANT_Q6_K] = DOT_FN(dotr_q6_k_),
  },
  .axpy = {
    [QUANT_F32] = DOT_FN(axpy_f32_),
    [QUANT_F16] = DOT_FN(axpy_f16_),
  },
  .quantize = {
    [QUANT_F32] = quant_row_f32_scalar,
    [QUANT_F16] = DOT_FN(row_f16_),
    [QUANT_BF16] = quant_row_bf16_scalar,
    [QUANT_Q8_0] = DOT_FN(row_q8_0_),
    [QUANT_Q8_1] = quant_row_q8_1_scalar,
    [QUANT_Q8_K] = DOT_FN(row_q8_k_),
  },
};
