/*
 * gemm_k_avx2.c: AVX2 kernels of the packed Q4_K and Q6_K layouts of
 * pack.h (the K-quants: 256-element super-blocks against Q8_K
 * activations), for x86 CPUs without AVX-512 (compiled with -mavx2 -mfma
 * -mf16c). The QEMU x86_64 machine the in-kernel engine runs on is one.
 *
 * The layouts are the AVX-512 ones, read as two halves: in every 64-byte
 * vector of quants, rows 0..7 are the first 32 bytes and rows 8..15 the
 * next 32, so a ymm register holds eight rows, one 32-bit lane (four
 * consecutive quants) per row, and the per-row metadata (scales, mins, d)
 * of a half is the first or second half of its 16-entry array. A tile is
 * one group (both halves, one after the other within each super-block) by
 * C <= CMAX tokens; the activation bytes of a step are broadcast to all
 * eight lanes.
 *
 * AVX2 has no vpdpbusd: vpmaddubsw (u8 quants x s8 activations, pairs
 * added into i16) does the products, vpmaddwd the widening:
 *   Q4_K: nibbles 0..15, so a vpmaddubsw pair is at most 2 * 15 * 128 =
 *     3840 and eight steps (a 32-element sub-block) summed in i16 at most
 *     30720: no saturation. The sub-block's i16 pairs then go through one
 *     vpmaddwd by the row's scale (both i16 halves of a lane hold it),
 *     which adds them and scales in one go into the 32-bit isum. The mins
 *     (pairs of sub-blocks, as the layout stores them) take vpmaddwd
 *     against the activation's pair of 32-element sums (pack_kinfo.xs).
 *   Q6_K: quants u = value + 32, 0..63 (built from the low-bit and
 *     high-bit vectors as the AVX-512 kernel does); a vpmaddubsw pair is at
 *     most 2 * 63 * 128 = 16128, so every step goes straight through
 *     vpmaddwd by the row's signed scale into isum (no i16 sums). The -32
 *     offset is taken off once per super-block: isum -= 32 * sum_s scale_s
 *     * bsum_s, the sum by vpmaddwd of (scale_2k, scale_2k+1) row pairs
 *     against the Q8_K row's own 16-element sums (bsums 2k, 2k + 1).
 * The integer sums are exact, so isum (and msum) equal the scalar
 * reference's, and the float steps per super-block are those of the
 * AVX-512 kernels (Q4_K: t = isum * d; t -= msum * dmin; f += t * d_x by
 * FMA; Q6_K: f += d_x * (isum * d) by FMA): results do not depend on the
 * tile, the batch or the thread split.
 *
 * Interface: pack_gemm_q4_k_avx2, pack_gemm_q6_k_avx2.
 */
#include <immintrin.h>

#include "pack.h"

#define INLINE static inline __attribute__((always_inline))
/* every loop but the super-blocks' is unrolled: the accumulators must be
 * registers */
#if defined(__clang__) /* "GCC unroll" would unroll the loops over C before it is known */
#define UNROLL _Pragma("clang loop unroll(full)")
#define ROLLED _Pragma("clang loop unroll(disable)")
#else
#define UNROLL _Pragma("GCC unroll 16")
#define ROLLED _Pragma("GCC unroll 1")
#endif

/* tokens per tile: 1..4 (4 measured faster than 2 at a batch of 32) */
#define CMAX 4

INLINE __m256i
bcast4(const void *p)
{
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

/* The eight bytes at p (one half's scales of one sub-block), each widened
 * to both i16 halves of its row's 32-bit lane: signed or unsigned. */
INLINE __m256i
scales16(const uint8_t *p, const int sgn)
{
  const __m128i dup = _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  __m128i b = _mm_shuffle_epi8(_mm_loadl_epi64((const __m128i *)p), dup);
  return sgn ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b);
}

/* ---- Q4_K ---------------------------------------------------------------- */

INLINE void
tile_q4k(const int C, int n, const uint8_t *w, const uint8_t *x, size_t xs, const uint8_t *xi,
         size_t xis, float *out, size_t out_stride)
{
  int nb = n / 256;
  const uint8_t *meta = w + (size_t)nb * 2048;
  const __m256i m4 = _mm256_set1_epi8(15);
  __m256 f[2][CMAX];
  UNROLL
  for (int h = 0; h < 2; h++)
    UNROLL
    for (int c = 0; c < C; c++)
      f[h][c] = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *q = w + (size_t)b * 2048, *m = meta + (size_t)b * 320;
    _mm_prefetch((const char *)(q + 2 * 2048), _MM_HINT_T0);
    _mm_prefetch((const char *)(q + 2 * 2048 + 1024), _MM_HINT_T0);
    const struct pack_kinfo *e[CMAX];
    const uint8_t *xq[CMAX];
    UNROLL
    for (int c = 0; c < C; c++) {
      e[c] = (const struct pack_kinfo *)(xi + c * xis) + b;
      xq[c] = x + c * xs + (size_t)b * sizeof(struct quant_q8_k) + 4; /* qs */
    }
    ROLLED
    for (int h = 0; h < 2; h++) {
      __m256i isum[CMAX], msum[CMAX];
      UNROLL
      for (int c = 0; c < C; c++)
        isum[c] = msum[c] = _mm256_setzero_si256();
      ROLLED
      for (int p = 0; p < 4; p++) {
        __m256i a0[CMAX], a1[CMAX]; /* i16 sums: sub-blocks 2p, 2p + 1 */
        UNROLL
        for (int c = 0; c < C; c++)
          a0[c] = a1[c] = _mm256_setzero_si256();
        UNROLL
        for (int j = 0; j < 8; j++) {
          __m256i v = _mm256_loadu_si256((const __m256i *)(q + (p * 8 + j) * 64 + h * 32));
          __m256i lo = _mm256_and_si256(v, m4);
          __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
          UNROLL
          for (int c = 0; c < C; c++) {
            const uint8_t *xp = xq[c] + 64 * p + 4 * j;
            a0[c] = _mm256_add_epi16(a0[c], _mm256_maddubs_epi16(lo, bcast4(xp)));
            a1[c] = _mm256_add_epi16(a1[c], _mm256_maddubs_epi16(hi, bcast4(xp + 32)));
          }
        }
        __m256i s0 = scales16(m + (2 * p) * 16 + 8 * h, 0);
        __m256i s1 = scales16(m + (2 * p + 1) * 16 + 8 * h, 0);
        __m256i mins = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(m + 128 + p * 32 + h * 16)));
        UNROLL
        for (int c = 0; c < C; c++) {
          isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(a0[c], s0));
          isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(a1[c], s1));
          msum[c] = _mm256_add_epi32(msum[c], _mm256_madd_epi16(mins, bcast4(&e[c]->xs[2 * p])));
        }
      }
      __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(m + 256 + h * 16)));
      __m256 dmin = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(m + 288 + h * 16)));
      UNROLL
      for (int c = 0; c < C; c++) {
        __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(isum[c]), d);
        t = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum[c]), dmin, t);
        f[h][c] = _mm256_fmadd_ps(t, _mm256_set1_ps(e[c]->d), f[h][c]);
      }
    }
  }
  UNROLL
  for (int h = 0; h < 2; h++)
    UNROLL
    for (int c = 0; c < C; c++)
      _mm256_storeu_ps(out + c * out_stride + h * 8, f[h][c]);
}

/* ---- Q6_K ---------------------------------------------------------------- */

INLINE void
tile_q6k(const int C, int n, const uint8_t *w, const uint8_t *x, size_t xs, const uint8_t *xi,
         size_t xis, float *out, size_t out_stride)
{
  int nb = n / 256;
  const uint8_t *meta = w + (size_t)nb * 3072;
  const __m256i m0f = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30);
  __m256 f[2][CMAX];
  UNROLL
  for (int h = 0; h < 2; h++)
    UNROLL
    for (int c = 0; c < C; c++)
      f[h][c] = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *lo = w + (size_t)b * 3072, *hi = lo + 2048, *m = meta + (size_t)b * 288;
    _mm_prefetch((const char *)(lo + 2 * 3072), _MM_HINT_T0);
    _mm_prefetch((const char *)(lo + 2 * 3072 + 1024), _MM_HINT_T0);
    _mm_prefetch((const char *)(lo + 2 * 3072 + 2048), _MM_HINT_T0);
    const struct quant_q8_k *xb[CMAX];
    UNROLL
    for (int c = 0; c < C; c++)
      xb[c] = (const struct quant_q8_k *)(x + c * xs) + b;
    ROLLED
    for (int h = 0; h < 2; h++) {
      __m256i isum[CMAX];
      UNROLL
      for (int c = 0; c < C; c++)
        isum[c] = _mm256_setzero_si256();
      ROLLED
      for (int p = 0; p < 4; p++) {
        __m256i sc[4]; /* sub-blocks p + 4 t */
        UNROLL
        for (int t = 0; t < 4; t++)
          sc[t] = scales16(m + (p + 4 * t) * 16 + 8 * h, 1);
        UNROLL
        for (int i = 4 * p; i < 4 * p + 4; i++) {
          __m256i la = _mm256_loadu_si256((const __m256i *)(lo + i * 64 + h * 32));
          __m256i lb = _mm256_loadu_si256((const __m256i *)(lo + (i + 16) * 64 + h * 32));
          __m256i hv = _mm256_loadu_si256((const __m256i *)(hi + i * 64 + h * 32));
          __m256i u[4]; /* steps i, i + 16, i + 32, i + 48: bits 0-3 | bits 4-5 */
          u[0] = _mm256_or_si256(_mm256_and_si256(la, m0f),
                                 _mm256_and_si256(_mm256_slli_epi16(hv, 4), m30));
          u[1] = _mm256_or_si256(_mm256_and_si256(lb, m0f),
                                 _mm256_and_si256(_mm256_slli_epi16(hv, 2), m30));
          u[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(la, 4), m0f),
                                 _mm256_and_si256(hv, m30));
          u[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lb, 4), m0f),
                                 _mm256_and_si256(_mm256_srli_epi16(hv, 2), m30));
          UNROLL
          for (int c = 0; c < C; c++)
            UNROLL
            for (int t = 0; t < 4; t++) {
              __m256i pr = _mm256_maddubs_epi16(u[t], bcast4(xb[c]->qs + 4 * (i + 16 * t)));
              isum[c] = _mm256_add_epi32(isum[c], _mm256_madd_epi16(pr, sc[t]));
            }
        }
      }
      /* the offset: -32 * sum_s scale_s * bsum_s */
      __m256i corr[CMAX];
      UNROLL
      for (int c = 0; c < C; c++)
        corr[c] = _mm256_setzero_si256();
      UNROLL
      for (int k = 0; k < 8; k++) {
        __m128i pair = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(m + (2 * k) * 16 + 8 * h)),
                                         _mm_loadl_epi64((const __m128i *)(m + (2 * k + 1) * 16 + 8 * h)));
        __m256i sp = _mm256_cvtepi8_epi16(pair);
        UNROLL
        for (int c = 0; c < C; c++)
          corr[c] = _mm256_add_epi32(corr[c], _mm256_madd_epi16(sp, bcast4(&xb[c]->bsums[2 * k])));
      }
      __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(m + 256 + h * 16)));
      UNROLL
      for (int c = 0; c < C; c++) {
        __m256i s = _mm256_sub_epi32(isum[c], _mm256_slli_epi32(corr[c], 5));
        f[h][c] = _mm256_fmadd_ps(_mm256_set1_ps(xb[c]->d),
                                  _mm256_mul_ps(_mm256_cvtepi32_ps(s), d), f[h][c]);
      }
    }
  }
  UNROLL
  for (int h = 0; h < 2; h++)
    UNROLL
    for (int c = 0; c < C; c++)
      _mm256_storeu_ps(out + c * out_stride + h * 8, f[h][c]);
  (void)xi, (void)xis;
}

/* One function per tile shape, so that C is a constant in each (clang
 * merges calls of one inline function with different constants into one
 * with a variable C, whose loops then stay loops over memory). */
#define SHAPES(tile)                                                                       \
  static void tile##_1(TILE_ARGS) { tile(1, n, w, x, xs, xi, xis, out, out_stride); }      \
  static void tile##_2(TILE_ARGS) { tile(2, n, w, x, xs, xi, xis, out, out_stride); }      \
  static void tile##_3(TILE_ARGS) { tile(3, n, w, x, xs, xi, xis, out, out_stride); }      \
  static void tile##_4(TILE_ARGS) { tile(4, n, w, x, xs, xi, xis, out, out_stride); }      \
  static void (*const tile##_c[CMAX])(TILE_ARGS) = { tile##_1, tile##_2, tile##_3, tile##_4 };
#define TILE_ARGS                                                                          \
  int n, const uint8_t *w, const uint8_t *x, size_t xs, const uint8_t *xi, size_t xis,     \
    float *out, size_t out_stride

SHAPES(tile_q4k)
SHAPES(tile_q6k)

/* Token chunks of CMAX outer, groups inner: the chunk's activation rows
 * stay in cache while the groups stream by; for one token (generation)
 * this is a plain pass over the weights. */
#define GEMM(name, tile, qbytes, mbytes)                                                   \
  void name(int n, const uint8_t *w, int g0, int ng, const uint8_t *x, size_t xs,          \
            const void *xi, size_t xis, int nx, float *out, size_t out_stride)             \
  {                                                                                        \
    size_t gb = (size_t)(n / 256) * ((qbytes) + (mbytes));                                 \
    for (int c = 0; c < nx; c += CMAX) {                                                   \
      const uint8_t *xc = x + c * xs, *ic = (const uint8_t *)xi + c * xis;                \
      float *oc = out + c * out_stride;                                                    \
      void (*t)(TILE_ARGS) = tile##_c[(nx - c < CMAX ? nx - c : CMAX) - 1];                \
      for (int g = 0; g < ng; g++)                                                         \
        t(n, w + (size_t)(g0 + g) * gb, xc, xs, ic, xis, oc + (size_t)g * PACK_ROWS,       \
          out_stride);                                                                     \
    }                                                                                      \
  }

GEMM(pack_gemm_q4_k_avx2, tile_q4k, 2048, 320)
GEMM(pack_gemm_q6_k_avx2, tile_q6k, 3072, 288)
