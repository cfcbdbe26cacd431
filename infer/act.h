/*
 * act.h: element-wise activation kernels of the forward pass (internal to
 * the inference library; llama.c uses them).
 *
 *   swiglu: g[i] = g[i] / (1 + e^-g[i]) * u[i] for i < n (SiLU of the
 *           gate times up, in place in the gate).
 *
 * The scalar kernel (expf) is the reference the SIMD one is tested
 * against; act_avx512.c's e^x is within 2 ulp of expf (vexp_avx512.h).
 *
 * Interface: act_swiglu_for, act_swiglu_scalar.
 */
#ifndef MNEME_INFER_ACT_H
#define MNEME_INFER_ACT_H

#include <stddef.h>

#include "mneme/quant.h"

typedef void (*act_swiglu_fn)(float *g, const float *u, size_t n);

void act_swiglu_scalar(float *g, const float *u, size_t n);
#if defined(__x86_64__)
void act_swiglu_avx512(float *g, const float *u, size_t n); /* act_avx512.c */
#endif

/* The kernel for variant ops (the scalar one when it has none). */
act_swiglu_fn act_swiglu_for(const struct quant_ops *ops);

#endif
