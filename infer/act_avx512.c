/*
 * act_avx512.c: the activation kernels of act.h for AVX-512 (compiled
 * with the AVX-512 flags of dot_avx512.c): 16 elements a step, e^x by
 * vexp512, the tail masked.
 *
 * Interface: act_swiglu_avx512.
 */
#include "act.h"

#include <immintrin.h>

#include "vexp_avx512.h"

void
act_swiglu_avx512(float *g, const float *u, size_t n)
{
  __m512 one = _mm512_set1_ps(1.f);
  for (size_t i = 0; i < n; i += 16) {
    __mmask16 k = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
    __m512 x = _mm512_maskz_loadu_ps(k, g + i);
    __m512 e = vexp512(_mm512_sub_ps(_mm512_setzero_ps(), x));
    __m512 y = _mm512_mul_ps(_mm512_div_ps(x, _mm512_add_ps(one, e)), _mm512_maskz_loadu_ps(k, u + i));
    _mm512_mask_storeu_ps(g + i, k, y);
  }
}
