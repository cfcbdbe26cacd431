/*
 * vexp_avx512.h: e^x for 16 floats at once (AVX-512F), for the softmax
 * (attn_avx512.c) and SwiGLU (act_avx512.c) kernels.
 *
 * x = k ln2 + r with k = round(x / ln2) and |r| <= ln2 / 2 (ln2 split in
 * two parts so k ln2 is exact enough), e^r by its Taylor polynomial to
 * degree 7 (relative error below 2^-24 on that interval), times 2^k with
 * vscalefps, which gives inf above about 88.7 and 0 (through the
 * denormals) below about -103, as expf does. Within 2 ulp of expf; the
 * inputs are clamped to [-110, 110] so k stays an ordinary integer.
 */
#ifndef MNEME_INFER_VEXP_AVX512_H
#define MNEME_INFER_VEXP_AVX512_H

#include <immintrin.h>

static inline __m512
vexp512(__m512 x)
{
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-110.f)), _mm512_set1_ps(110.f));
  __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145751953125f), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.428606765330187045e-06f), r);
  __m512 p = _mm512_set1_ps(1.f / 5040.f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 720.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  return _mm512_scalef_ps(p, k);
}

#endif
