/*
 * dot_neon_mm.c: the dot kernels for AArch64 CPUs with the int8 matrix
 * multiply instructions (Armv8.6 I8MM, optional from v8.2; compiled with
 * +dotprod+i8mm). The single dot products are dot_neon.h's SDOT ones; on
 * top, 2x2 tiles (quant_dot2x2_fn) for the 32-element block types Q8_0,
 * Q4_0, Q4_1 and Q5_0: SMMLA multiplies a 2x8 matrix of i8 (8 quants of
 * two weight rows) by an 8x2 one (8 quants of two activation rows) into
 * the four i32 sums of a 2x2 tile, so each instruction does 32 useful
 * multiply-adds (SDOT does 16) and the tile needs no horizontal sums.
 * The matmul uses them for prompt batches (two tokens or more); one token
 * (a matrix times one vector) gains nothing from them.
 *
 * Each of the four results combines the same integer block sums with the
 * same float operations in the same order as the scalar kernel, so it is
 * the scalar kernel's bits. dot_select.c picks this variant when
 * ID_AA64ISAR1_EL1 reports I8MM (and ID_AA64ISAR0_EL1 DotProd).
 *
 * Interface: quant_ops_neon_mm.
 */
#define DOT_SUFFIX neon_mm
#define DOT_OPS_NAME quant_ops_neon_mm
#define DOT_OPS_LABEL "neon-i8mm"

#include <stddef.h>

static void mm_q8_0(int n, const void *w, size_t ws, const void *x, size_t xs, float out[4]);
static void mm_q4_0(int n, const void *w, size_t ws, const void *x, size_t xs, float out[4]);
static void mm_q4_1(int n, const void *w, size_t ws, const void *x, size_t xs, float out[4]);
static void mm_q5_0(int n, const void *w, size_t ws, const void *x, size_t xs, float out[4]);

#define DOT_EXTRA_OPS                                                                     \
  .dot2x2 = {[QUANT_Q8_0] = mm_q8_0, [QUANT_Q4_0] = mm_q4_0, [QUANT_Q4_1] = mm_q4_1,       \
             [QUANT_Q5_0] = mm_q5_0},

#include "dot_neon.h"

#if !defined(__ARM_FEATURE_MATMUL_INT8)
#error "dot_neon_mm.c needs -march=...+i8mm"
#endif

/* The 64-bit halves: (a.lo, b.lo) and (a.hi, b.hi) as one register each. */
static inline int8x16_t
zip_lo(int8x16_t a, int8x16_t b)
{
  return vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}

static inline int8x16_t
zip_hi(int8x16_t a, int8x16_t b)
{
  return vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}

/* The 2x2 integer sums of one 32-element block: weight rows 0 and 1 (each
 * as elements 0-15 and 16-31) against the activation quants x0 and x1.
 * Lanes: w0.x0, w0.x1, w1.x0, w1.x1. */
static inline int32x4_t
mm32(int8x16_t w0l, int8x16_t w0h, int8x16_t w1l, int8x16_t w1h, const int8_t *x0,
     const int8_t *x1)
{
  int8x16_t x0l = vld1q_s8(x0), x0h = vld1q_s8(x0 + 16);
  int8x16_t x1l = vld1q_s8(x1), x1h = vld1q_s8(x1 + 16);
  int32x4_t acc = vmmlaq_s32(vdupq_n_s32(0), zip_lo(w0l, w1l), zip_lo(x0l, x1l));
  acc = vmmlaq_s32(acc, zip_hi(w0l, w1l), zip_hi(x0l, x1l));
  acc = vmmlaq_s32(acc, zip_lo(w0h, w1h), zip_lo(x0h, x1h));
  return vmmlaq_s32(acc, zip_hi(w0h, w1h), zip_hi(x0h, x1h));
}

static void
mm_q8_0(int n, const void *w, size_t ws, const void *x, size_t xs, float out[4])
{
  const struct quant_q8_0 *a0 = w, *a1 = (const void *)((const uint8_t *)w + ws);
  const struct quant_q8_0 *b0 = x, *b1 = (const void *)((const uint8_t *)x + xs);
  float s00 = 0.f, s01 = 0.f, s10 = 0.f, s11 = 0.f;
  for (int i = 0; i < n / 32; i++) {
    int32x4_t t = mm32(vld1q_s8(a0[i].qs), vld1q_s8(a0[i].qs + 16), vld1q_s8(a1[i].qs),
                       vld1q_s8(a1[i].qs + 16), b0[i].qs, b1[i].qs);
    float da0 = quant_f16_to_f32(a0[i].d), da1 = quant_f16_to_f32(a1[i].d);
    float db0 = quant_f16_to_f32(b0[i].d), db1 = quant_f16_to_f32(b1[i].d);
    s00 += (float)vgetq_lane_s32(t, 0) * (da0 * db0);
    s01 += (float)vgetq_lane_s32(t, 1) * (da0 * db1);
    s10 += (float)vgetq_lane_s32(t, 2) * (da1 * db0);
    s11 += (float)vgetq_lane_s32(t, 3) * (da1 * db1);
  }
  out[0] = s00, out[1] = s01, out[2] = s10, out[3] = s11;
}

static void
mm_q4_0(int n, const void *w, size_t ws, const void *x, size_t xs, float out[4])
{
  const struct quant_q4_0 *a0 = w, *a1 = (const void *)((const uint8_t *)w + ws);
  const struct quant_q8_0 *b0 = x, *b1 = (const void *)((const uint8_t *)x + xs);
  float s00 = 0.f, s01 = 0.f, s10 = 0.f, s11 = 0.f;
  int8x16_t eight = vdupq_n_s8(8);
  for (int i = 0; i < n / 32; i++) {
    int8x16_t w0l, w0h, w1l, w1h;
    DOT_FN(nibbles_)(a0[i].qs, &w0l, &w0h);
    DOT_FN(nibbles_)(a1[i].qs, &w1l, &w1h);
    int32x4_t t = mm32(vsubq_s8(w0l, eight), vsubq_s8(w0h, eight), vsubq_s8(w1l, eight),
                       vsubq_s8(w1h, eight), b0[i].qs, b1[i].qs);
    float da0 = quant_f16_to_f32(a0[i].d), da1 = quant_f16_to_f32(a1[i].d);
    float db0 = quant_f16_to_f32(b0[i].d), db1 = quant_f16_to_f32(b1[i].d);
    s00 += (float)vgetq_lane_s32(t, 0) * (da0 * db0);
    s01 += (float)vgetq_lane_s32(t, 1) * (da0 * db1);
    s10 += (float)vgetq_lane_s32(t, 2) * (da1 * db0);
    s11 += (float)vgetq_lane_s32(t, 3) * (da1 * db1);
  }
  out[0] = s00, out[1] = s01, out[2] = s10, out[3] = s11;
}

static void
mm_q4_1(int n, const void *w, size_t ws, const void *x, size_t xs, float out[4])
{
  const struct quant_q4_1 *a0 = w, *a1 = (const void *)((const uint8_t *)w + ws);
  const struct quant_q8_1 *b0 = x, *b1 = (const void *)((const uint8_t *)x + xs);
  float s00 = 0.f, s01 = 0.f, s10 = 0.f, s11 = 0.f;
  for (int i = 0; i < n / 32; i++) {
    int8x16_t w0l, w0h, w1l, w1h;
    DOT_FN(nibbles_)(a0[i].qs, &w0l, &w0h);
    DOT_FN(nibbles_)(a1[i].qs, &w1l, &w1h);
    int32x4_t t = mm32(w0l, w0h, w1l, w1h, b0[i].qs, b1[i].qs);
    float da0 = quant_f16_to_f32(a0[i].d), da1 = quant_f16_to_f32(a1[i].d);
    float ma0 = quant_f16_to_f32(a0[i].m), ma1 = quant_f16_to_f32(a1[i].m);
    float db0 = quant_f16_to_f32(b0[i].d), db1 = quant_f16_to_f32(b1[i].d);
    float sb0 = quant_f16_to_f32(b0[i].s), sb1 = quant_f16_to_f32(b1[i].s);
    s00 += (float)vgetq_lane_s32(t, 0) * (da0 * db0) + ma0 * sb0;
    s01 += (float)vgetq_lane_s32(t, 1) * (da0 * db1) + ma0 * sb1;
    s10 += (float)vgetq_lane_s32(t, 2) * (da1 * db0) + ma1 * sb0;
    s11 += (float)vgetq_lane_s32(t, 3) * (da1 * db1) + ma1 * sb1;
  }
  out[0] = s00, out[1] = s01, out[2] = s10, out[3] = s11;
}

static void
mm_q5_0(int n, const void *w, size_t ws, const void *x, size_t xs, float out[4])
{
  const struct quant_q5_0 *a0 = w, *a1 = (const void *)((const uint8_t *)w + ws);
  const struct quant_q8_0 *b0 = x, *b1 = (const void *)((const uint8_t *)x + xs);
  float s00 = 0.f, s01 = 0.f, s10 = 0.f, s11 = 0.f;
  int8x16_t sixteen = vdupq_n_s8(16);
  for (int i = 0; i < n / 32; i++) {
    int8x16_t w0l, w0h, w1l, w1h;
    DOT_FN(nibbles_)(a0[i].qs, &w0l, &w0h);
    DOT_FN(nibbles_)(a1[i].qs, &w1l, &w1h);
    w0l = vsubq_s8(vorrq_s8(w0l, DOT_FN(bits16_)(a0[i].qh)), sixteen);
    w0h = vsubq_s8(vorrq_s8(w0h, DOT_FN(bits16_)(a0[i].qh + 2)), sixteen);
    w1l = vsubq_s8(vorrq_s8(w1l, DOT_FN(bits16_)(a1[i].qh)), sixteen);
    w1h = vsubq_s8(vorrq_s8(w1h, DOT_FN(bits16_)(a1[i].qh + 2)), sixteen);
    int32x4_t t = mm32(w0l, w0h, w1l, w1h, b0[i].qs, b1[i].qs);
    float da0 = quant_f16_to_f32(a0[i].d), da1 = quant_f16_to_f32(a1[i].d);
    float db0 = quant_f16_to_f32(b0[i].d), db1 = quant_f16_to_f32(b1[i].d);
    s00 += (float)vgetq_lane_s32(t, 0) * (da0 * db0);
    s01 += (float)vgetq_lane_s32(t, 1) * (da0 * db1);
    s10 += (float)vgetq_lane_s32(t, 2) * (da1 * db0);
    s11 += (float)vgetq_lane_s32(t, 3) * (da1 * db1);
  }
  out[0] = s00, out[1] = s01, out[2] = s10, out[3] = s11;
}
