/*
 * act.c: the scalar activation kernels and the choice per variant (act.h).
 *
 * Interface: act_swiglu_scalar, act_swiglu_for.
 */
#include "act.h"

#include "libc.h"

void
act_swiglu_scalar(float *g, const float *u, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    float x = g[i];
    g[i] = x / (1.f + expf(-x)) * u[i];
  }
}

act_swiglu_fn
act_swiglu_for(const struct quant_ops *ops)
{
#if defined(__x86_64__)
  if (ops == &quant_ops_avx512)
    return act_swiglu_avx512;
#endif
  (void)ops;
  return act_swiglu_scalar;
}
