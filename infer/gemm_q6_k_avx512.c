/*
 * gemm_q6_k_avx512.c: the AVX-512 VNNI kernel of the packed Q6_K layout
 * of pack.h (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni).
 *
 * One group of 16 rows (one zmm lane per row) by C tokens. Per
 * super-block, iteration i = 0..15 loads the low-bit vectors i and i + 16
 * and the high-bit vector i and builds the unsigned quants (0..63) of
 * steps i, i + 16, i + 32, i + 48: four sub-blocks (i / 4 + 4 t) are open
 * at once. Each sub-block's accumulator starts at the activation's -32 *
 * sum (pack_kinfo.c32) and takes four vpdpbusd (u8 quants by the i8
 * activation bytes broadcast); after four iterations the four closed
 * sub-blocks are scaled (vpmulld by the sign-extended scales) into the
 * token's isum. C = 4: 16 + 4 + 4 zmm live. The integer sums are exact,
 * and each lane's float arithmetic is that of pack_gemm_q6_k_scalar (one
 * multiply, one FMA per super-block): the result does not depend on the
 * tile or the thread split.
 *
 * Interface: pack_gemm_q6_k_avx512.
 */
#include <immintrin.h>

#include "pack.h"

#define INLINE static inline __attribute__((always_inline))
/* every loop but the super-blocks' is unrolled: the accumulators must be
 * registers */
#define UNROLL _Pragma("GCC unroll 16")
/* super-blocks of weights read ahead of use (prefetch distance) */
#define Q6PF 8

INLINE void
tile_q6(const int C, int n, const uint8_t *w, const uint8_t *x, size_t xs, const uint8_t *xi,
        size_t xis, float *out, size_t out_stride)
{
  int nb = n / 256;
  const uint8_t *meta = w + (size_t)nb * 3072;
  const __m512i m0f = _mm512_set1_epi8(0x0f), m3f = _mm512_set1_epi8(0x3f);
  __m512 f[4];
  UNROLL
  for (int c = 0; c < C; c++)
    f[c] = _mm512_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *lo = w + (size_t)b * 3072, *hi = lo + 2048, *m = meta + (size_t)b * 288;
    UNROLL
    for (int k = 0; k < 5; k++) /* the meta of Q6PF super-blocks ahead */
      _mm_prefetch((const char *)(m + Q6PF * 288 + k * 64), _MM_HINT_T0);
    const struct pack_kinfo *e[4];
    const uint8_t *xq[4];
    __m512i isum[4];
    UNROLL
    for (int c = 0; c < C; c++) {
      e[c] = (const struct pack_kinfo *)(xi + c * xis) + b;
      xq[c] = x + c * xs + (size_t)b * sizeof(struct quant_q8_k) + 4; /* qs */
      isum[c] = _mm512_setzero_si512();
    }
    UNROLL
    for (int p = 0; p < 4; p++) {
      __m512i acc[4][4]; /* [t][c]: sub-block p + 4 t */
      UNROLL
      for (int t = 0; t < 4; t++)
        UNROLL
        for (int c = 0; c < C; c++)
          acc[t][c] = _mm512_set1_epi32(e[c]->c32[p + 4 * t]);
      UNROLL
      for (int i = 4 * p; i < 4 * p + 4; i++) {
        /* each line read Q6PF super-blocks ahead: a generated token
         * streams the weights from memory, faster than the hardware
         * prefetcher alone brings them */
        _mm_prefetch((const char *)(lo + Q6PF * 3072 + i * 64), _MM_HINT_T0);
        _mm_prefetch((const char *)(lo + Q6PF * 3072 + (i + 16) * 64), _MM_HINT_T0);
        _mm_prefetch((const char *)(hi + Q6PF * 3072 + i * 64), _MM_HINT_T0);
        __m512i la = _mm512_loadu_si512((const void *)(lo + i * 64));
        __m512i lb = _mm512_loadu_si512((const void *)(lo + (i + 16) * 64));
        __m512i h = _mm512_loadu_si512((const void *)(hi + i * 64));
        __m512i u[4];
        /* bits 0-3 from the low-bit vector, 4-5 from the high-bit vector
         * shifted into place (ternary logic 0xca: mask ? b : c), then 6-7
         * cleared */
        u[0] = _mm512_ternarylogic_epi32(m0f, la, _mm512_slli_epi16(h, 4), 0xca);
        u[1] = _mm512_ternarylogic_epi32(m0f, lb, _mm512_slli_epi16(h, 2), 0xca);
        u[2] = _mm512_ternarylogic_epi32(m0f, _mm512_srli_epi16(la, 4), h, 0xca);
        u[3] = _mm512_ternarylogic_epi32(m0f, _mm512_srli_epi16(lb, 4), _mm512_srli_epi16(h, 2), 0xca);
        UNROLL
        for (int t = 0; t < 4; t++)
          u[t] = _mm512_and_si512(u[t], m3f);
        UNROLL
        for (int c = 0; c < C; c++)
          UNROLL
          for (int t = 0; t < 4; t++) {
            int32_t v;
            __builtin_memcpy(&v, xq[c] + 4 * (i + 16 * t), 4);
            acc[t][c] = _mm512_dpbusd_epi32(acc[t][c], u[t], _mm512_set1_epi32(v));
          }
      }
      UNROLL
      for (int t = 0; t < 4; t++) {
        __m512i s = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(m + (p + 4 * t) * 16)));
        UNROLL
        for (int c = 0; c < C; c++)
          isum[c] = _mm512_add_epi32(isum[c], _mm512_mullo_epi32(acc[t][c], s));
      }
    }
    __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(m + 256)));
    UNROLL
    for (int c = 0; c < C; c++)
      f[c] = _mm512_fmadd_ps(_mm512_set1_ps(e[c]->d), _mm512_mul_ps(_mm512_cvtepi32_ps(isum[c]), d), f[c]);
  }
  UNROLL
  for (int c = 0; c < C; c++)
    _mm512_storeu_ps(out + c * out_stride, f[c]);
}

void
pack_gemm_q6_k_avx512(int n, const uint8_t *w, int g0, int ng, const uint8_t *x, size_t xs,
                      const void *xi, size_t xis, int nx, float *out, size_t out_stride)
{
  size_t gb = (size_t)(n / 256) * (3072 + 288);
  for (int c = 0; c < nx; c += 4) {
    int cc = nx - c < 4 ? nx - c : 4;
    const uint8_t *xc = x + c * xs, *ic = (const uint8_t *)xi + c * xis;
    float *oc = out + c * out_stride;
    for (int g = 0; g < ng; g++) {
      const uint8_t *wg = w + (size_t)(g0 + g) * gb;
      float *o = oc + (size_t)g * PACK_ROWS;
      switch (cc) {
      case 1: tile_q6(1, n, wg, xc, xs, ic, xis, o, out_stride); break;
      case 2: tile_q6(2, n, wg, xc, xs, ic, xis, o, out_stride); break;
      case 3: tile_q6(3, n, wg, xc, xs, ic, xis, o, out_stride); break;
      default: tile_q6(4, n, wg, xc, xs, ic, xis, o, out_stride); break;
      }
    }
  }
}
