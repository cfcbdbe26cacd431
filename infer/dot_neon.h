/*
 * dot_neon.h: the AArch64 NEON dot kernels, written once and compiled
 * twice: by dot_neon.c (baseline Armv8 Advanced SIMD: i8 products widened
 * with smull and summed pairwise) and by dot_neon_dp.c (with the Armv8.2
 * dot-product instructions, SDOT: four i8 products per i32 lane in one
 * instruction). The including file defines DOT_SUFFIX, DOT_OPS_NAME and
 * DOT_OPS_LABEL first, and may define DOT_EXTRA_OPS: more initializers
 * of the ops (dot_neon_mm.c's I8MM 2x2 tiles).
 *
 * The quantized kernels compute the same integer block sums as the scalar
 * ones in quant.c and combine them with the same float operations in the
 * same order, so they give the scalar kernels' bits exactly; the F32 and
 * F16 kernels sum in a different order (four vector accumulators).
 */
#include <arm_neon.h>

#include "libc.h"
#include "quant_impl.h"

#define DOT_CAT2(a, b) a##b
#define DOT_CAT(a, b) DOT_CAT2(a, b)
#define DOT_FN(name) DOT_CAT(name, DOT_SUFFIX)

/* acc + the sums of four i8 x i8 products per i32 lane. */
static inline int32x4_t
DOT_FN(dot16_)(int32x4_t acc, int8x16_t a, int8x16_t b)
{
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(acc, a, b);
#else
  int16x8_t p0 = vmull_s8(vget_low_s8(a), vget_low_s8(b));
  int16x8_t p1 = vmull_high_s8(a, b);
  return vpadalq_s16(vpadalq_s16(acc, p0), p1);
#endif
}
#define dot16 DOT_FN(dot16_)

/* sum of a[i] * b[i] over 32 i8 pairs. */
static inline int
DOT_FN(dot32_)(const int8_t *a, const int8_t *b)
{
  int32x4_t acc = dot16(vdupq_n_s32(0), vld1q_s8(a), vld1q_s8(b));
  acc = dot16(acc, vld1q_s8(a + 16), vld1q_s8(b + 16));
  return vaddvq_s32(acc);
}

/* ---- F32, F16 ------------------------------------------------------------ */

static float
DOT_FN(dot_f32_)(int n, const void *w, const void *x)
{
  const float *a = w, *b = x;
  float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
    s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
  }
  float s = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
  for (; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static float
DOT_FN(dot_f16_)(int n, const void *w, const void *x)
{
  const uint16_t *a = w, *b = x;
  float32x4_t s0 = vdupq_n_f32(0), s1 = s0;
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    float16x8_t ah = vreinterpretq_f16_u16(vld1q_u16(a + i));
    float16x8_t bh = vreinterpretq_f16_u16(vld1q_u16(b + i));
    s0 = vfmaq_f32(s0, vcvt_f32_f16(vget_low_f16(ah)), vcvt_f32_f16(vget_low_f16(bh)));
    s1 = vfmaq_f32(s1, vcvt_high_f32_f16(ah), vcvt_high_f32_f16(bh));
  }
  float s = vaddvq_f32(vaddq_f32(s0, s1));
  for (; i < n; i++)
    s += quant_f16_to_f32(a[i]) * quant_f16_to_f32(b[i]);
  return s;
}

static float
DOT_FN(dot_bf16_)(int n, const void *w, const void *x)
{
  const uint16_t *a = w, *b = x;
  float32x4_t s0 = vdupq_n_f32(0), s1 = s0;
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    uint16x8_t av = vld1q_u16(a + i), bv = vld1q_u16(b + i);
    s0 = vfmaq_f32(s0, vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(av), 16)),
                   vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(bv), 16)));
    s1 = vfmaq_f32(s1, vreinterpretq_f32_u32(vshll_high_n_u16(av, 16)),
                   vreinterpretq_f32_u32(vshll_high_n_u16(bv, 16)));
  }
  float s = vaddvq_f32(vaddq_f32(s0, s1));
  for (; i < n; i++)
    s += quant_bf16_to_f32(a[i]) * quant_bf16_to_f32(b[i]);
  return s;
}

static void
DOT_FN(axpy_f16_)(int n, float c, const void *x, float *y)
{
  const uint16_t *v = x;
  int i = 0;
  float32x4_t cv = vdupq_n_f32(c);
  for (; i + 4 <= n; i += 4) {
    float32x4_t xv = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(v + i)));
    vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), cv, xv));
  }
  for (; i < n; i++)
    y[i] += c * quant_f16_to_f32(v[i]);
}

static void
DOT_FN(axpy_f32_)(int n, float c, const void *x, float *y)
{
  const float *v = x;
  int i = 0;
  float32x4_t cv = vdupq_n_f32(c);
  for (; i + 4 <= n; i += 4)
    vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), cv, vld1q_f32(v + i)));
  for (; i < n; i++)
    y[i] += c * v[i];
}

/* ---- 32-element blocks: Q8_0, Q4_0, Q4_1, Q5_0 --------------------------- */

static float
DOT_FN(dot_q8_0_)(int n, const void *w, const void *x)
{
  const struct quant_q8_0 *a = w, *b = x;
  float s = 0.f;
  for (int i = 0; i < n / 32; i++) {
    int sumi = DOT_FN(dot32_)(a[i].qs, b[i].qs);
    s += (float)sumi * (quant_f16_to_f32(a[i].d) * quant_f16_to_f32(b[i].d));
  }
  return s;
}

/* The 32 nibbles of a Q4 block: low nibbles (elements 0-15), then high. */
static inline void
DOT_FN(nibbles_)(const uint8_t *qs, int8x16_t *lo, int8x16_t *hi)
{
  uint8x16_t q = vld1q_u8(qs);
  *lo = vreinterpretq_s8_u8(vandq_u8(q, vdupq_n_u8(15)));
  *hi = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
}

static float
DOT_FN(dot_q4_0_)(int n, const void *w, const void *x)
{
  const struct quant_q4_0 *a = w;
  const struct quant_q8_0 *b = x;
  float s = 0.f;
  for (int i = 0; i < n / 32; i++) {
    int8x16_t lo, hi;
    DOT_FN(nibbles_)(a[i].qs, &lo, &hi);
    lo = vsubq_s8(lo, vdupq_n_s8(8));
    hi = vsubq_s8(hi, vdupq_n_s8(8));
    int32x4_t acc = dot16(vdupq_n_s32(0), lo, vld1q_s8(b[i].qs));
    acc = dot16(acc, hi, vld1q_s8(b[i].qs + 16));
    int sumi = vaddvq_s32(acc);
    s += (float)sumi * (quant_f16_to_f32(a[i].d) * quant_f16_to_f32(b[i].d));
  }
  return s;
}

static float
DOT_FN(dot_q4_1_)(int n, const void *w, const void *x)
{
  const struct quant_q4_1 *a = w;
  const struct quant_q8_1 *b = x;
  float s = 0.f;
  for (int i = 0; i < n / 32; i++) {
    int8x16_t lo, hi;
    DOT_FN(nibbles_)(a[i].qs, &lo, &hi);
    int32x4_t acc = dot16(vdupq_n_s32(0), lo, vld1q_s8(b[i].qs));
    acc = dot16(acc, hi, vld1q_s8(b[i].qs + 16));
    int sumi = vaddvq_s32(acc);
    s += (float)sumi * (quant_f16_to_f32(a[i].d) * quant_f16_to_f32(b[i].d)) +
         quant_f16_to_f32(a[i].m) * quant_f16_to_f32(b[i].s);
  }
  return s;
}

/* 16 at the bytes whose bit (of the 16 bits at p) is set, else 0. */
static inline int8x16_t
DOT_FN(bits16_)(const uint8_t *p)
{
  static const uint8_t m[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  uint8x16_t v = vcombine_u8(vdup_n_u8(p[0]), vdup_n_u8(p[1]));
  return vreinterpretq_s8_u8(vandq_u8(vtstq_u8(v, vld1q_u8(m)), vdupq_n_u8(16)));
}

static float
DOT_FN(dot_q5_0_)(int n, const void *w, const void *x)
{
  const struct quant_q5_0 *a = w;
  const struct quant_q8_0 *b = x;
  float s = 0.f;
  for (int i = 0; i < n / 32; i++) {
    int8x16_t lo, hi;
    DOT_FN(nibbles_)(a[i].qs, &lo, &hi);
    lo = vsubq_s8(vorrq_s8(lo, DOT_FN(bits16_)(a[i].qh)), vdupq_n_s8(16));
    hi = vsubq_s8(vorrq_s8(hi, DOT_FN(bits16_)(a[i].qh + 2)), vdupq_n_s8(16));
    int32x4_t acc = dot16(vdupq_n_s32(0), lo, vld1q_s8(b[i].qs));
    acc = dot16(acc, hi, vld1q_s8(b[i].qs + 16));
    int sumi = vaddvq_s32(acc);
    s += (float)sumi * (quant_f16_to_f32(a[i].d) * quant_f16_to_f32(b[i].d));
  }
  return s;
}

/* ---- K-quants: Q4_K, Q5_K, Q6_K ------------------------------------------ */

/* Q4_K and Q5_K share this: a5 is NULL for Q4_K. */
static float
DOT_FN(dot_q45_k_)(int nb, const struct quant_q4_k *a4, const struct quant_q5_k *a5,
                   const struct quant_q8_k *b)
{
  float s = 0.f;
  for (int i = 0; i < nb; i++) {
    const uint8_t *scales = a5 ? a5[i].scales : a4[i].scales;
    const uint8_t *qs = a5 ? a5[i].qs : a4[i].qs;
    uint16_t dh = a5 ? a5[i].d : a4[i].d, mh = a5 ? a5[i].dmin : a4[i].dmin;
    int sumi = 0, summ = 0;
    for (int j = 0; j < 8; j += 2) {
      uint8_t sc0, m0, sc1, m1;
      quant_k_scale_min(j, scales, &sc0, &m0);
      quant_k_scale_min(j + 1, scales, &sc1, &m1);
      const uint8_t *q = qs + 32 * (j / 2);
      const int8_t *y = b[i].qs + 32 * j;
      uint8x16_t q0 = vld1q_u8(q), q1 = vld1q_u8(q + 16);
      int8x16_t l0 = vreinterpretq_s8_u8(vandq_u8(q0, vdupq_n_u8(15)));
      int8x16_t l1 = vreinterpretq_s8_u8(vandq_u8(q1, vdupq_n_u8(15)));
      int8x16_t h0 = vreinterpretq_s8_u8(vshrq_n_u8(q0, 4));
      int8x16_t h1 = vreinterpretq_s8_u8(vshrq_n_u8(q1, 4));
      if (a5) {
        uint8x16_t qh0 = vld1q_u8(a5[i].qh), qh1 = vld1q_u8(a5[i].qh + 16);
        uint8x16_t bl = vdupq_n_u8((uint8_t)(1u << j)), bh = vdupq_n_u8((uint8_t)(2u << j));
        uint8x16_t sixteen = vdupq_n_u8(16);
        l0 = vorrq_s8(l0, vreinterpretq_s8_u8(vandq_u8(vtstq_u8(qh0, bl), sixteen)));
        l1 = vorrq_s8(l1, vreinterpretq_s8_u8(vandq_u8(vtstq_u8(qh1, bl), sixteen)));
        h0 = vorrq_s8(h0, vreinterpretq_s8_u8(vandq_u8(vtstq_u8(qh0, bh), sixteen)));
        h1 = vorrq_s8(h1, vreinterpretq_s8_u8(vandq_u8(vtstq_u8(qh1, bh), sixteen)));
      }
      int32x4_t accl = dot16(dot16(vdupq_n_s32(0), l0, vld1q_s8(y)), l1, vld1q_s8(y + 16));
      int32x4_t acch =
          dot16(dot16(vdupq_n_s32(0), h0, vld1q_s8(y + 32)), h1, vld1q_s8(y + 48));
      sumi += sc0 * vaddvq_s32(accl);
      sumi += sc1 * vaddvq_s32(acch);
      summ += m0 * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
      summ += m1 * (b[i].bsums[2 * j + 2] + b[i].bsums[2 * j + 3]);
    }
    s += b[i].d * quant_f16_to_f32(dh) * (float)sumi -
         b[i].d * quant_f16_to_f32(mh) * (float)summ;
  }
  return s;
}

static float
DOT_FN(dot_q4_k_)(int n, const void *w, const void *x)
{
  return DOT_FN(dot_q45_k_)(n / 256, w, NULL, x);
}

static float
DOT_FN(dot_q5_k_)(int n, const void *w, const void *x)
{
  return DOT_FN(dot_q45_k_)(n / 256, NULL, w, x);
}

static float
DOT_FN(dot_q6_k_)(int n, const void *w, const void *x)
{
  const struct quant_q6_k *a = w;
  const struct quant_q8_k *b = x;
  float s = 0.f;
  for (int i = 0; i < n / 256; i++) {
    int sumi = 0;
    for (int h = 0; h < 2; h++) {
      const uint8_t *ql = a[i].ql + 64 * h, *qh = a[i].qh + 32 * h;
      uint8x16_t qh0 = vld1q_u8(qh), qh1 = vld1q_u8(qh + 16);
      for (int quarter = 0; quarter < 4; quarter++) {
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
        uint8x16_t h0 = vandq_u8(vshlq_u8(qh0, sh), vdupq_n_u8(3));
        uint8x16_t h1 = vandq_u8(vshlq_u8(qh1, sh), vdupq_n_u8(3));
        int8x16_t v0 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(l0, vshlq_n_u8(h0, 4))),
                                vdupq_n_s8(32));
        int8x16_t v1 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(l1, vshlq_n_u8(h1, 4))),
                                vdupq_n_s8(32));
        const int8_t *y = b[i].qs + 128 * h + 32 * quarter;
        int s0 = vaddvq_s32(dot16(vdupq_n_s32(0), v0, vld1q_s8(y)));
        int s1 = vaddvq_s32(dot16(vdupq_n_s32(0), v1, vld1q_s8(y + 16)));
        sumi += a[i].scales[8 * h + 2 * quarter] * s0;
        sumi += a[i].scales[8 * h + 2 * quarter + 1] * s1;
      }
    }
    s += b[i].d * quant_f16_to_f32(a[i].d) * (float)sumi;
  }
  return s;
}

const struct quant_ops DOT_OPS_NAME = {
  .name = DOT_OPS_LABEL,
  .dot = {
    [QUANT_F32] = DOT_FN(dot_f32_),
    [QUANT_F16] = DOT_FN(dot_f16_),
    [QUANT_BF16] = DOT_FN(dot_bf16_),
    [QUANT_Q8_0] = DOT_FN(dot_q8_0_),
    [QUANT_Q4_0] = DOT_FN(dot_q4_0_),
    [QUANT_Q4_1] = DOT_FN(dot_q4_1_),
    [QUANT_Q5_0] = DOT_FN(dot_q5_0_),
    [QUANT_Q4_K] = DOT_FN(dot_q4_k_),
    [QUANT_Q5_K] = DOT_FN(dot_q5_k_),
    [QUANT_Q6_K] = DOT_FN(dot_q6_k_),
  },
  .quantize = { QUANT_SCALAR_ROWS },
  .axpy = { [QUANT_F32] = DOT_FN(axpy_f32_), [QUANT_F16] = DOT_FN(axpy_f16_) },
#ifdef DOT_EXTRA_OPS
  DOT_EXTRA_OPS
#endif
};
