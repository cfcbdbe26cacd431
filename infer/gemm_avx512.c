/*
 * gemm_avx512.c: the AVX-512 VNNI kernels of the packed Q8_0 / Q4_0
 * layouts of pack.h (compiled with -mavx512f -mavx512bw -mavx512vl
 * -mavx512vnni).
 *
 * A tile is RG groups of 16 rows (one zmm lane per row) by C tokens:
 * RG * C integer accumulators, started at each block at the activation's
 * correction and fed by vpdpbusd of a 64-byte weight load (reused for the
 * C tokens) with four activation bytes broadcast (reused for the RG
 * groups), then one cvt + FMA per accumulator into RG * C float sums.
 * RG = 2, C = 4 keeps 24 zmm registers live. Every lane computes the
 * sequence of pack.h exactly, whatever the tile: results do not depend on
 * the batch or the thread split.
 *
 * Interface: pack_gemm_q8_0_avx512, pack_gemm_q4_0_avx512.
 */
#include <immintrin.h>

#include "pack.h"

#define INLINE static inline __attribute__((always_inline))
/* every loop but the blocks' is unrolled: the accumulators must be
 * registers */
#define UNROLL _Pragma("GCC unroll 16")

/* blocks of weights read ahead of use (prefetch distance) */
#define PF_BLOCKS 8

INLINE void
tile(const int q4, const int RG, const int C, int n, const uint8_t *w, size_t gbytes,
     const uint8_t *x, size_t xs, const uint8_t *xi, size_t xis, float *out,
     size_t out_stride)
{
  int nb = n / 32;
  const size_t qb = q4 ? 256 : 512;
  __m512 f[2][4];
  UNROLL
  for (int g = 0; g < RG; g++)
    UNROLL
    for (int c = 0; c < C; c++)
      f[g][c] = _mm512_setzero_ps();
  const uint8_t *sc[2];
  UNROLL
  for (int g = 0; g < RG; g++)
    sc[g] = w + g * gbytes + (size_t)nb * qb;
  for (int b = 0; b < nb; b++) {
    __m512i acc[2][4];
    UNROLL
    for (int c = 0; c < C; c++) {
      const struct pack_xinfo *e = (const struct pack_xinfo *)(xi + c * xis) + b;
      __m512i init = _mm512_set1_epi32(q4 ? e->c8 : e->c128);
      UNROLL
      for (int g = 0; g < RG; g++)
        acc[g][c] = init;
    }
    const uint8_t *wq[2];
    UNROLL
    for (int g = 0; g < RG; g++) {
      wq[g] = w + g * gbytes + (size_t)b * qb;
      _mm_prefetch((const char *)(wq[g] + PF_BLOCKS * qb), _MM_HINT_T0);
      if (!q4)
        _mm_prefetch((const char *)(wq[g] + PF_BLOCKS * qb + 256), _MM_HINT_T0);
    }
    const uint8_t *xb = x + (size_t)b * sizeof(struct quant_q8_0) + 2; /* qs */
    if (!q4) {
      UNROLL
      for (int j = 0; j < 8; j++) {
        __m512i wv[2];
        UNROLL
        for (int g = 0; g < RG; g++)
          wv[g] = _mm512_loadu_si512((const void *)(wq[g] + j * 64));
        UNROLL
        for (int c = 0; c < C; c++) {
          int32_t v;
          __builtin_memcpy(&v, xb + c * xs + 4 * j, 4);
          __m512i xv = _mm512_set1_epi32(v);
          UNROLL
          for (int g = 0; g < RG; g++)
            acc[g][c] = _mm512_dpbusd_epi32(acc[g][c], wv[g], xv);
        }
      }
    } else {
      const __m512i m4 = _mm512_set1_epi8(15);
      UNROLL
      for (int j = 0; j < 4; j++) {
        __m512i lo[2], hi[2];
        UNROLL
        for (int g = 0; g < RG; g++) {
          __m512i v = _mm512_loadu_si512((const void *)(wq[g] + j * 64));
          lo[g] = _mm512_and_si512(v, m4);
          hi[g] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        }
        UNROLL
        for (int c = 0; c < C; c++) {
          int32_t v0, v1;
          __builtin_memcpy(&v0, xb + c * xs + 4 * j, 4);
          __builtin_memcpy(&v1, xb + c * xs + 16 + 4 * j, 4);
          __m512i x0 = _mm512_set1_epi32(v0), x1 = _mm512_set1_epi32(v1);
          UNROLL
          for (int g = 0; g < RG; g++) {
            acc[g][c] = _mm512_dpbusd_epi32(acc[g][c], lo[g], x0);
            acc[g][c] = _mm512_dpbusd_epi32(acc[g][c], hi[g], x1);
          }
        }
      }
    }
    UNROLL
    for (int g = 0; g < RG; g++) {
      __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(sc[g] + (size_t)b * 32)));
      UNROLL
      for (int c = 0; c < C; c++) {
        __m512 s = _mm512_mul_ps(dw, _mm512_set1_ps(((const struct pack_xinfo *)(xi + c * xis))[b].d));
        f[g][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[g][c]), s, f[g][c]);
      }
    }
  }
  UNROLL
  for (int g = 0; g < RG; g++)
    UNROLL
    for (int c = 0; c < C; c++)
      _mm512_storeu_ps(out + c * out_stride + g * PACK_ROWS, f[g][c]);
}

/* The tile shapes, instantiated with constant RG and C. */
#define TILES(q4, name)                                                                    \
  static void name##_t(int rg, int cc, int n, const uint8_t *w, size_t gb, const uint8_t *x, \
                       size_t xs, const uint8_t *xi, size_t xis, float *out,               \
                       size_t os)                                                          \
  {                                                                                        \
    switch (rg * 8 + cc) {                                                                 \
    case 8 + 1: tile(q4, 1, 1, n, w, gb, x, xs, xi, xis, out, os); break;                 \
    case 8 + 2: tile(q4, 1, 2, n, w, gb, x, xs, xi, xis, out, os); break;                 \
    case 8 + 3: tile(q4, 1, 3, n, w, gb, x, xs, xi, xis, out, os); break;                 \
    case 8 + 4: tile(q4, 1, 4, n, w, gb, x, xs, xi, xis, out, os); break;                 \
    case 16 + 1: tile(q4, 2, 1, n, w, gb, x, xs, xi, xis, out, os); break;                \
    case 16 + 2: tile(q4, 2, 2, n, w, gb, x, xs, xi, xis, out, os); break;                \
    case 16 + 3: tile(q4, 2, 3, n, w, gb, x, xs, xi, xis, out, os); break;                \
    default: tile(q4, 2, 4, n, w, gb, x, xs, xi, xis, out, os); break;                    \
    }                                                                                      \
  }

TILES(0, q8)
TILES(1, q4)

typedef void (*tile_fn)(int, int, int, const uint8_t *, size_t, const uint8_t *, size_t,
                        const uint8_t *, size_t, float *, size_t);

/* Token chunks of 4 outer, group pairs inner: the tokens' activation rows
 * stay in L1/L2 while the groups stream by; for one token (generation)
 * this is a plain pass over the weights. */
static void
gemm(tile_fn t, int q4, int n, const uint8_t *w, int g0, int ng, const uint8_t *x, size_t xs,
     const uint8_t *xi, size_t xis, int nx, float *out, size_t out_stride)
{
  size_t gb = (size_t)(n / 32) * ((q4 ? 256 : 512) + 2 * PACK_ROWS);
  for (int c = 0; c < nx; c += 4) {
    int cc = nx - c < 4 ? nx - c : 4;
    for (int g = 0; g < ng; g += 2) {
      int rg = ng - g < 2 ? 1 : 2;
      t(rg, cc, n, w + (size_t)(g0 + g) * gb, gb, x + c * xs, xs, xi + c * xis, xis,
        out + c * out_stride + (size_t)g * PACK_ROWS, out_stride);
    }
  }
}

void
pack_gemm_q8_0_avx512(int n, const uint8_t *w, int g0, int ng, const uint8_t *x, size_t xs,
                      const void *xi, size_t xis, int nx, float *out,
                      size_t out_stride)
{
  gemm(q8_t, 0, n, w, g0, ng, x, xs, xi, xis, nx, out, out_stride);
}

void
pack_gemm_q4_0_avx512(int n, const uint8_t *w, int g0, int ng, const uint8_t *x, size_t xs,
                      const void *xi, size_t xis, int nx, float *out,
                      size_t out_stride)
{
  gemm(q4_t, 1, n, w, g0, ng, x, xs, xi, xis, nx, out, out_stride);
}

/* Q4_K super-blocks read ahead of use: a generated token streams the
 * weights from memory, and every line prefetched 8 super-blocks (19 KB)
 * ahead beat 2 by 13% on the 1.1B-shaped model */
#define KPF 8
/* ---- Q4_K ----------------------------------------------------------------
 * One group of 16 rows by C tokens: per super-block and sub-block pair,
 * two accumulators a token (low and high nibbles: sub-blocks 2p, 2p + 1)
 * fed by vpdpbusd, then scaled by the sub-block scales (vpmulld) into the
 * token's isum; the mins against the activation's sub-block sums by
 * vpmaddwd. 4 tokens: 8 + 4 + 4 + 4 zmm live. */
INLINE void
tile_k(const int C, int n, const uint8_t *w, size_t gbytes, const uint8_t *x, size_t xs,
       const uint8_t *xi, size_t xis, float *out, size_t out_stride)
{
  int nb = n / 256;
  const uint8_t *meta = w + (size_t)nb * 2048;
  const __m512i m4 = _mm512_set1_epi8(15);
  __m512 f[4];
  UNROLL
  for (int c = 0; c < C; c++)
    f[c] = _mm512_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *q = w + (size_t)b * 2048, *m = meta + (size_t)b * 320;
    UNROLL
    for (int k = 0; k < 5; k++) /* the meta of KPF super-blocks ahead */
      _mm_prefetch((const char *)(m + KPF * 320 + k * 64), _MM_HINT_T0);
    __m512i isum[4], msum[4];
    UNROLL
    for (int c = 0; c < C; c++)
      isum[c] = msum[c] = _mm512_setzero_si512();
    UNROLL
    for (int p = 0; p < 4; p++) {
      __m512i al[4], ah[4];
      UNROLL
      for (int c = 0; c < C; c++)
        al[c] = ah[c] = _mm512_setzero_si512();
      UNROLL
      for (int j = 0; j < 8; j++) {
        _mm_prefetch((const char *)(q + KPF * 2048 + (p * 8 + j) * 64), _MM_HINT_T0);
        __m512i v = _mm512_loadu_si512((const void *)(q + (p * 8 + j) * 64));
        __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        UNROLL
        for (int c = 0; c < C; c++) {
          const uint8_t *xq = x + c * xs + 4 + (size_t)b * sizeof(struct quant_q8_k) + 64 * p + 4 * j;
          int32_t v0, v1;
          __builtin_memcpy(&v0, xq, 4);
          __builtin_memcpy(&v1, xq + 32, 4);
          al[c] = _mm512_dpbusd_epi32(al[c], lo, _mm512_set1_epi32(v0));
          ah[c] = _mm512_dpbusd_epi32(ah[c], hi, _mm512_set1_epi32(v1));
        }
      }
      __m512i s0 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(m + (2 * p) * 16)));
      __m512i s1 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(m + (2 * p + 1) * 16)));
      __m512i mins = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(m + 128 + p * 32)));
      UNROLL
      for (int c = 0; c < C; c++) {
        isum[c] = _mm512_add_epi32(isum[c], _mm512_mullo_epi32(al[c], s0));
        isum[c] = _mm512_add_epi32(isum[c], _mm512_mullo_epi32(ah[c], s1));
        const struct pack_kinfo *e = (const struct pack_kinfo *)(xi + c * xis) + b;
        int32_t pair;
        __builtin_memcpy(&pair, &e->xs[2 * p], 4);
        msum[c] = _mm512_add_epi32(msum[c], _mm512_madd_epi16(mins, _mm512_set1_epi32(pair)));
      }
    }
    __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(m + 256)));
    __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(m + 288)));
    UNROLL
    for (int c = 0; c < C; c++) {
      const struct pack_kinfo *e = (const struct pack_kinfo *)(xi + c * xis) + b;
      __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(isum[c]), d);
      t = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(msum[c]), dmin, t);
      f[c] = _mm512_fmadd_ps(t, _mm512_set1_ps(e->d), f[c]);
    }
  }
  UNROLL
  for (int c = 0; c < C; c++)
    _mm512_storeu_ps(out + c * out_stride, f[c]);
  (void)gbytes;
}

void
pack_gemm_q4_k_avx512(int n, const uint8_t *w, int g0, int ng, const uint8_t *x, size_t xs,
                      const void *xi, size_t xis, int nx, float *out, size_t out_stride)
{
  size_t gb = (size_t)(n / 256) * (2048 + 320);
  for (int c = 0; c < nx; c += 4) {
    int cc = nx - c < 4 ? nx - c : 4;
    const uint8_t *xc = x + c * xs, *ic = (const uint8_t *)xi + c * xis;
    float *oc = out + c * out_stride;
    for (int g = 0; g < ng; g++) {
      const uint8_t *wg = w + (size_t)(g0 + g) * gb;
      float *o = oc + (size_t)g * PACK_ROWS;
      switch (cc) {
      case 1: tile_k(1, n, wg, gb, xc, xs, ic, xis, o, out_stride); break;
      case 2: tile_k(2, n, wg, gb, xc, xs, ic, xis, o, out_stride); break;
      case 3: tile_k(3, n, wg, gb, xc, xs, ic, xis, o, out_stride); break;
      default: tile_k(4, n, wg, gb, xc, xs, ic, xis, o, out_stride); break;
      }
    }
  }
}
