/*
 * dot_neon_mm.c: the dot kernels for AArch64 CPUs with the int8 matrix
 * multiply instructions (Armv8.6 I8MM, optional from v8.2; compiled with
 * +dotprod+i8mm). The single dot products are dot_neon.h's SDOT ones; on
 * top, 2x2 tiles (quant_dot2x2_fn) for the 32-element block types Q8_0,
 * Q4_0, Q4_1 and Q5_0: SMMLA multiplies a 2x8 matrix of i8 (8 quants of
 * two weight rows) by an 8x2 one (8 quants of two activation rows) into
 * the four i32 sums of a 2x2 tile, so each instruction does 32 useful
 * multiply-adds (SDOT does 16) and the tile needs no horizontal sums.
 * The K-quants Q4_K, Q5_K (32-element sub-blocks) and Q6_K (16-element
 * ones) have tiles too: each sub-block's 2x2 integer sums are scaled by
 * the two rows' sub-block scales and summed as the scalar kernel does.
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
static void mm_q4_k(int n, const void *w, size_t ws, const void *x, size_t xs, float out[4]);
static void mm_q5_k(int n, const void *w, size_t ws, const void *x, size_t xs, float out[4]);
static void mm_q6_k(int n, const void *w, size_t ws, const void *x, size_t xs, float out[4]);

#define DOT_EXTRA_OPS                                                                     \
  .dot2x2 = {[QUANT_Q8_0] = mm_q8_0, [QUANT_Q4_0] = mm_q4_0, [QUANT_Q4_1] = mm_q4_1,       \
             [QUANT_Q5_0] = mm_q5_0, [QUANT_Q4_K] = mm_q4_k, [QUANT_Q5_K] = mm_q5_k,   \
             [QUANT_Q6_K] = mm_q6_k},

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

/* The 2x2 sums of 16 elements: rows w0, w1 against x0, x1. */
static inline int32x4_t
mm16(int32x4_t acc, int8x16_t w0, int8x16_t w1, const int8_t *x0, const int8_t *x1)
{
  int8x16_t a = vld1q_s8(x0), b = vld1q_s8(x1);
  acc = vmmlaq_s32(acc, zip_lo(w0, w1), zip_lo(a, b));
  return vmmlaq_s32(acc, zip_hi(w0, w1), zip_hi(a, b));
}

/* The quants of sub-blocks j (lo: elements 0-15, 16-31) and j + 1 (hi) of
 * a Q4_K/Q5_K super-block as dot_q45_k_ decodes them (qh NULL: Q4_K). */
static inline void
k45_quants(const uint8_t *qs, const uint8_t *qh, int j, int8x16_t *l0, int8x16_t *l1,
           int8x16_t *h0, int8x16_t *h1)
{
  const uint8_t *q = qs + 32 * (j / 2);
  uint8x16_t q0 = vld1q_u8(q), q1 = vld1q_u8(q + 16);
  *l0 = vreinterpretq_s8_u8(vandq_u8(q0, vdupq_n_u8(15)));
  *l1 = vreinterpretq_s8_u8(vandq_u8(q1, vdupq_n_u8(15)));
  *h0 = vreinterpretq_s8_u8(vshrq_n_u8(q0, 4));
  *h1 = vreinterpretq_s8_u8(vshrq_n_u8(q1, 4));
  if (qh) {
    uint8x16_t qh0 = vld1q_u8(qh), qh1 = vld1q_u8(qh + 16);
    uint8x16_t bl = vdupq_n_u8((uint8_t)(1u << j)), bh = vdupq_n_u8((uint8_t)(2u << j));
    uint8x16_t sixteen = vdupq_n_u8(16);
    *l0 = vorrq_s8(*l0, vreinterpretq_s8_u8(vandq_u8(vtstq_u8(qh0, bl), sixteen)));
    *l1 = vorrq_s8(*l1, vreinterpretq_s8_u8(vandq_u8(vtstq_u8(qh1, bl), sixteen)));
    *h0 = vorrq_s8(*h0, vreinterpretq_s8_u8(vandq_u8(vtstq_u8(qh0, bh), sixteen)));
    *h1 = vorrq_s8(*h1, vreinterpretq_s8_u8(vandq_u8(vtstq_u8(qh1, bh), sixteen)));
  }
}

/* Lane k of a tile: row k >> 1, column k & 1. */
static inline int32x4_t
row_scales(int s0, int s1)
{
  int32_t v[4] = {s0, s0, s1, s1};
  return vld1q_s32(v);
}

/* Q4_K (a5 NULL) and Q5_K: two rows (ws bytes apart) by two Q8_K rows. */
static void
mm_q45_k(int nb, const uint8_t *w, int q5, size_t ws, const void *x, size_t xs, float out[4])
{
  const struct quant_q8_k *b[2] = {x, (const void *)((const uint8_t *)x + xs)};
  float s[4] = {0.f, 0.f, 0.f, 0.f};
  for (int i = 0; i < nb; i++) {
    const uint8_t *scales[2], *qs[2], *qh[2] = {NULL, NULL};
    uint16_t dh[2], mh[2];
    for (int r = 0; r < 2; r++) {
      if (q5) {
        const struct quant_q5_k *a = (const void *)(w + r * ws);
        scales[r] = a[i].scales, qs[r] = a[i].qs, qh[r] = a[i].qh, dh[r] = a[i].d,
        mh[r] = a[i].dmin;
      } else {
        const struct quant_q4_k *a = (const void *)(w + r * ws);
        scales[r] = a[i].scales, qs[r] = a[i].qs, dh[r] = a[i].d, mh[r] = a[i].dmin;
      }
    }
    int32x4_t sumi = vdupq_n_s32(0);
    int summ[4] = {0, 0, 0, 0};
    for (int j = 0; j < 8; j += 2) {
      uint8_t sc0[2], m0[2], sc1[2], m1[2];
      int8x16_t l0[2], l1[2], h0[2], h1[2];
      for (int r = 0; r < 2; r++) {
        quant_k_scale_min(j, scales[r], &sc0[r], &m0[r]);
        quant_k_scale_min(j + 1, scales[r], &sc1[r], &m1[r]);
        k45_quants(qs[r], qh[r], j, &l0[r], &l1[r], &h0[r], &h1[r]);
      }
      const int8_t *y0 = b[0][i].qs + 32 * j, *y1 = b[1][i].qs + 32 * j;
      int32x4_t tl = mm32(l0[0], l1[0], l0[1], l1[1], y0, y1);
      int32x4_t th = mm32(h0[0], h1[0], h0[1], h1[1], y0 + 32, y1 + 32);
      sumi = vmlaq_s32(sumi, tl, row_scales(sc0[0], sc0[1]));
      sumi = vmlaq_s32(sumi, th, row_scales(sc1[0], sc1[1]));
      for (int k = 0; k < 4; k++) {
        const int16_t *bs = b[k & 1][i].bsums;
        summ[k] += m0[k >> 1] * (bs[2 * j] + bs[2 * j + 1]);
        summ[k] += m1[k >> 1] * (bs[2 * j + 2] + bs[2 * j + 3]);
      }
    }
    int si[4];
    vst1q_s32(si, sumi);
    for (int k = 0; k < 4; k++) {
      const struct quant_q8_k *bc = &b[k & 1][i];
      s[k] += bc->d * quant_f16_to_f32(dh[k >> 1]) * (float)si[k] -
              bc->d * quant_f16_to_f32(mh[k >> 1]) * (float)summ[k];
    }
  }
  memcpy(out, s, sizeof s);
}

static void
mm_q4_k(int n, const void *w, size_t ws, const void *x, size_t xs, float out[4])
{
  mm_q45_k(n / 256, w, 0, ws, x, xs, out);
}

static void
mm_q5_k(int n, const void *w, size_t ws, const void *x, size_t xs, float out[4])
{
  mm_q45_k(n / 256, w, 1, ws, x, xs, out);
}

/* The 16-element quants v0 (elements 0-15) and v1 (16-31) of quarter
 * quarter of half h of a Q6_K super-block, as dot_q6_k_ decodes them. */
static inline void
q6_quants(const struct quant_q6_k *a, int h, int quarter, int8x16_t *v0, int8x16_t *v1)
{
  const uint8_t *ql = a->ql + 64 * h, *qh = a->qh + 32 * h;
  uint8x16_t qh0 = vld1q_u8(qh), qh1 = vld1q_u8(qh + 16);
  const uint8_t *lp = ql + (quarter & 1) * 32;
  uint8x16_t l0 = vld1q_u8(lp), l1 = vld1q_u8(lp + 16);
  if (quarter >= 2) {
    l0 = vshrq_n_u8(l0, 4);
    l1 = vshrq_n_u8(l1, 4);
  } else {
    l0 = vandq_u8(l0, vdupq_n_u8(15));
    l1 = vandq_u8(l1, vdupq_n_u8(15));
  }
  int8x16_t sh = vdupq_n_s8((int8_t)(-2 * quarter));
  uint8x16_t hb0 = vandq_u8(vshlq_u8(qh0, sh), vdupq_n_u8(3));
  uint8x16_t hb1 = vandq_u8(vshlq_u8(qh1, sh), vdupq_n_u8(3));
  *v0 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(l0, vshlq_n_u8(hb0, 4))), vdupq_n_s8(32));
  *v1 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(l1, vshlq_n_u8(hb1, 4))), vdupq_n_s8(32));
}

static void
mm_q6_k(int n, const void *w, size_t ws, const void *x, size_t xs, float out[4])
{
  const struct quant_q6_k *a[2] = {w, (const void *)((const uint8_t *)w + ws)};
  const struct quant_q8_k *b[2] = {x, (const void *)((const uint8_t *)x + xs)};
  float s[4] = {0.f, 0.f, 0.f, 0.f};
  for (int i = 0; i < n / 256; i++) {
    int32x4_t sumi = vdupq_n_s32(0);
    for (int h = 0; h < 2; h++) {
      for (int quarter = 0; quarter < 4; quarter++) {
        int8x16_t v0[2], v1[2];
        q6_quants(&a[0][i], h, quarter, &v0[0], &v1[0]);
        q6_quants(&a[1][i], h, quarter, &v0[1], &v1[1]);
        const int8_t *y0 = b[0][i].qs + 128 * h + 32 * quarter;
        const int8_t *y1 = b[1][i].qs + 128 * h + 32 * quarter;
        int sc = 8 * h + 2 * quarter;
        int32x4_t t0 = mm16(vdupq_n_s32(0), v0[0], v0[1], y0, y1);
        int32x4_t t1 = mm16(vdupq_n_s32(0), v1[0], v1[1], y0 + 16, y1 + 16);
        sumi = vmlaq_s32(sumi, t0, row_scales(a[0][i].scales[sc], a[1][i].scales[sc]));
        sumi = vmlaq_s32(sumi, t1, row_scales(a[0][i].scales[sc + 1], a[1][i].scales[sc + 1]));
      }
    }
    int si[4];
    vst1q_s32(si, sumi);
    for (int k = 0; k < 4; k++)
      s[k] += b[k & 1][i].d * quant_f16_to_f32(a[k >> 1][i].d) * (float)si[k];
  }
  memcpy(out, s, sizeof s);
}
