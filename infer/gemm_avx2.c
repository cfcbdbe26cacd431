/*
 * gemm_avx2.c: AVX2 kernels of the packed Q8_0 / Q4_0 layouts of pack.h,
 * for x86 CPUs without AVX-512 (compiled with -mavx2 -mfma -mf16c).
 *
 * The layout is the AVX-512 one: per block and step j, 64 bytes hold four
 * quants of each of the 16 rows of a group, rows 0..7 in the first 32
 * bytes (one ymm lane of 32 bits per row) and rows 8..15 in the next 32.
 * AVX2 has no vpdpbusd; vpmaddubsw (u8 x s8 pairs added into i16) then
 * vpmaddwd by ones (pairs of i16 into i32) add the four products of a
 * lane into the row's 32-bit sum:
 *   Q4_0: the nibbles (0..15) are the u8 operand as they are: a pair of
 *     products is at most 2 * 15 * 127, no saturation; the block's sum
 *     starts at the activation's correction (-8 * sum), as pack.h says;
 *   Q8_0: the stored u = q + 128 would saturate, so the quant is made
 *     signed again (u ^ 0x80 = q) and the sign moved to the activation:
 *     |q| (u8, at most 128) times sign(q) * x (at most 127), pairs at
 *     most 32512; the sum is then sum q x, what pack.h's correction
 *     turns the unsigned sum into.
 * Each block's integer sum is exact, so every lane computes the sequence
 * of pack.h: acc += float(isum) * (d_w * d_x) by FMA, like the AVX-512
 * kernels. A tile is one group (16 rows, two ymm halves) by C <= 2
 * tokens; results do not depend on the tile, batch or thread split.
 *
 * Interface: pack_gemm_q8_0_avx2, pack_gemm_q4_0_avx2.
 */
#include <immintrin.h>

#include "pack.h"

#define INLINE static inline __attribute__((always_inline))
#if defined(__clang__) /* "GCC unroll" would unroll the loops over C before it is known */
#define UNROLL _Pragma("clang loop unroll(full)")
#else
#define UNROLL _Pragma("GCC unroll 8")
#endif

INLINE __m256i
bcast4(const uint8_t *p)
{
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

INLINE void
tile2(const int q4, const int C, int n, const uint8_t *w, const uint8_t *x, size_t xs,
      const uint8_t *xi, size_t xis, float *out, size_t out_stride)
{
  int nb = n / 32;
  const size_t qb = q4 ? 256 : 512;
  const uint8_t *sc = w + (size_t)nb * qb;
  const __m256i ones = _mm256_set1_epi16(1), m4 = _mm256_set1_epi8(15);
  const __m256i flip = _mm256_set1_epi8((char)0x80);
  __m256 f[2][2];
  UNROLL
  for (int h = 0; h < 2; h++)
    UNROLL
    for (int c = 0; c < C; c++)
      f[h][c] = _mm256_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t *wq = w + (size_t)b * qb;
    const uint8_t *xb = x + (size_t)b * sizeof(struct quant_q8_0) + 2; /* qs */
    __m256i acc[2][2];
    UNROLL
    for (int c = 0; c < C; c++) {
      const struct pack_xinfo *e = (const struct pack_xinfo *)(xi + c * xis) + b;
      __m256i init = q4 ? _mm256_set1_epi32(e->c8) : _mm256_setzero_si256();
      acc[0][c] = acc[1][c] = init;
    }
    if (!q4) {
      UNROLL
      for (int j = 0; j < 8; j++) {
        __m256i q[2], aq[2];
        UNROLL
        for (int h = 0; h < 2; h++) {
          q[h] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(wq + j * 64 + h * 32)), flip);
          aq[h] = _mm256_abs_epi8(q[h]);
        }
        UNROLL
        for (int c = 0; c < C; c++) {
          __m256i xv = bcast4(xb + c * xs + 4 * j);
          UNROLL
          for (int h = 0; h < 2; h++) {
            __m256i p = _mm256_maddubs_epi16(aq[h], _mm256_sign_epi8(xv, q[h]));
            acc[h][c] = _mm256_add_epi32(acc[h][c], _mm256_madd_epi16(p, ones));
          }
        }
      }
    } else {
      UNROLL
      for (int j = 0; j < 4; j++) {
        __m256i lo[2], hi[2];
        UNROLL
        for (int h = 0; h < 2; h++) {
          __m256i v = _mm256_loadu_si256((const __m256i *)(wq + j * 64 + h * 32));
          lo[h] = _mm256_and_si256(v, m4);
          hi[h] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        }
        UNROLL
        for (int c = 0; c < C; c++) {
          __m256i x0 = bcast4(xb + c * xs + 4 * j), x1 = bcast4(xb + c * xs + 16 + 4 * j);
          UNROLL
          for (int h = 0; h < 2; h++) {
            __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo[h], x0),
                                         _mm256_maddubs_epi16(hi[h], x1));
            acc[h][c] = _mm256_add_epi32(acc[h][c], _mm256_madd_epi16(p, ones));
          }
        }
      }
    }
    UNROLL
    for (int h = 0; h < 2; h++) {
      __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(sc + (size_t)b * 32 + h * 16)));
      UNROLL
      for (int c = 0; c < C; c++) {
        __m256 s = _mm256_mul_ps(dw, _mm256_set1_ps(((const struct pack_xinfo *)(xi + c * xis))[b].d));
        f[h][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[h][c]), s, f[h][c]);
      }
    }
  }
  UNROLL
  for (int h = 0; h < 2; h++)
    UNROLL
    for (int c = 0; c < C; c++)
      _mm256_storeu_ps(out + c * out_stride + h * 8, f[h][c]);
}

/* Token pairs outer, groups inner (the activation rows stay in cache
 * while the groups stream by). */
INLINE void
gemm2(const int q4, int n, const uint8_t *w, int g0, int ng, const uint8_t *x, size_t xs,
      const uint8_t *xi, size_t xis, int nx, float *out, size_t out_stride)
{
  size_t gb = (size_t)(n / 32) * ((q4 ? 256 : 512) + 2 * PACK_ROWS);
  for (int c = 0; c < nx; c += 2)
    for (int g = 0; g < ng; g++) {
      const uint8_t *wg = w + (size_t)(g0 + g) * gb;
      float *o = out + c * out_stride + (size_t)g * PACK_ROWS;
      if (nx - c >= 2)
        tile2(q4, 2, n, wg, x + c * xs, xs, xi + c * xis, xis, o, out_stride);
      else
        tile2(q4, 1, n, wg, x + c * xs, xs, xi + c * xis, xis, o, out_stride);
    }
}

void
pack_gemm_q8_0_avx2(int n, const uint8_t *w, int g0, int ng, const uint8_t *x, size_t xs,
                    const void *xi, size_t xis, int nx, float *out, size_t out_stride)
{
  gemm2(0, n, w, g0, ng, x, xs, xi, xis, nx, out, out_stride);
}

void
pack_gemm_q4_0_avx2(int n, const uint8_t *w, int g0, int ng, const uint8_t *x, size_t xs,
                    const void *xi, size_t xis, int nx, float *out, size_t out_stride)
{
  gemm2(1, n, w, g0, ng, x, xs, xi, xis, nx, out, out_stride);
}
