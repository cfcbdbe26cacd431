/*
 * quant_impl.h: what the kernel variants (quant.c, dot_avx2.c,
 * dot_avx512.c, dot_select.c) share inside the library.
 */
#ifndef MNEME_INFER_QUANT_IMPL_H
#define MNEME_INFER_QUANT_IMPL_H

#include "mneme/quant.h"

/* Unpacks the 6-bit scale and min of sub-block j (0..7) of Q4_K/Q5_K. */
void quant_k_scale_min(int j, const uint8_t *scales, uint8_t *sc, uint8_t *m);

float quant_dot_f32_scalar(int n, const void *w, const void *x);
float quant_dot_f16_scalar(int n, const void *w, const void *x);
float quant_dot_bf16_scalar(int n, const void *w, const void *x);
float quant_dot_q8_0_scalar(int n, const void *w, const void *x);
float quant_dot_q4_0_scalar(int n, const void *w, const void *x);
float quant_dot_q4_1_scalar(int n, const void *w, const void *x);
float quant_dot_q5_0_scalar(int n, const void *w, const void *x);
float quant_dot_q4_k_scalar(int n, const void *w, const void *x);
float quant_dot_q5_k_scalar(int n, const void *w, const void *x);
float quant_dot_q6_k_scalar(int n, const void *w, const void *x);

void quant_row_f32_scalar(const float *x, void *y, int n);
void quant_row_f16_scalar(const float *x, void *y, int n);
void quant_row_bf16_scalar(const float *x, void *y, int n);
void quant_row_q8_0_scalar(const float *x, void *y, int n);
void quant_row_q8_1_scalar(const float *x, void *y, int n);
void quant_row_q8_k_scalar(const float *x, void *y, int n);

void quant_axpy_f32_scalar(int n, float a, const void *x, float *y);
void quant_axpy_f16_scalar(int n, float a, const void *x, float *y);

/* Designated initializers of quant_ops.dot with every scalar kernel; a
 * variant lists these first and overrides the types it accelerates. */
#define QUANT_SCALAR_DOTS \
  [QUANT_F32] = quant_dot_f32_scalar, \
  [QUANT_F16] = quant_dot_f16_scalar, \
  [QUANT_BF16] = quant_dot_bf16_scalar, \
  [QUANT_Q8_0] = quant_dot_q8_0_scalar, \
  [QUANT_Q4_0] = quant_dot_q4_0_scalar, \
  [QUANT_Q4_1] = quant_dot_q4_1_scalar, \
  [QUANT_Q5_0] = quant_dot_q5_0_scalar, \
  [QUANT_Q4_K] = quant_dot_q4_k_scalar, \
  [QUANT_Q5_K] = quant_dot_q5_k_scalar, \
  [QUANT_Q6_K] = quant_dot_q6_k_scalar

#define QUANT_SCALAR_ROWS \
  [QUANT_F32] = quant_row_f32_scalar, \
  [QUANT_F16] = quant_row_f16_scalar, \
  [QUANT_BF16] = quant_row_bf16_scalar, \
  [QUANT_Q8_0] = quant_row_q8_0_scalar, \
  [QUANT_Q8_1] = quant_row_q8_1_scalar, \
  [QUANT_Q8_K] = quant_row_q8_k_scalar

#endif
