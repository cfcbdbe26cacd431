/*
 * quant.c: ggml tensor types: traits, fp16/bf16 conversion, dequantization,
 * activation quantization and the scalar dot kernels.
 *
 * The scalar kernels are the reference the SIMD variants (dot_avx2.c,
 * dot_avx512.c) are tested against, and the path for CPUs without them
 * (QEMU TCG). They follow the arithmetic of llama.cpp's CPU backend: the
 * integer products of a block are summed exactly, then scaled by the
 * product of the two block scales and accumulated in float.
 *
 * Interface: quant_traits, quant_row_size, quant_f16_to_f32,
 * quant_f32_to_f16, quant_bf16_to_f32, quant_f32_to_bf16,
 * quant_dequantize_row, quant_quantize_row, quant_quantize_weights,
 * quant_ops_scalar, and for the SIMD variants (quant_impl.h):
 * quant_k_scale_min, quant_dot_*_scalar, quant_row_*_scalar,
 * quant_axpy_*_scalar.
 */
#include "mneme/quant.h"

#include "libc.h"
#include "quant_impl.h"
#include "mneme/err.h"

/* ---------------------------------------------------------------------------
 * traits
 */

static const struct quant_traits traits[QUANT_NTYPES] = {
  [QUANT_F32]  = { "F32",  1, 4, QUANT_F32 },
  [QUANT_F16]  = { "F16",  1, 2, QUANT_F16 },
  [QUANT_BF16] = { "BF16", 1, 2, QUANT_BF16 },
  [QUANT_Q4_0] = { "Q4_0", 32, 18, QUANT_Q8_0 },
  [QUANT_Q4_1] = { "Q4_1", 32, 20, QUANT_Q8_1 },
  [QUANT_Q5_0] = { "Q5_0", 32, 22, QUANT_Q8_0 },
  [QUANT_Q8_0] = { "Q8_0", 32, 34, QUANT_Q8_0 },
  [QUANT_Q8_1] = { "Q8_1", 32, 36, -1 },
  [QUANT_Q4_K] = { "Q4_K", 256, 144, QUANT_Q8_K },
  [QUANT_Q5_K] = { "Q5_K", 256, 176, QUANT_Q8_K },
  [QUANT_Q6_K] = { "Q6_K", 256, 210, QUANT_Q8_K },
  [QUANT_Q8_K] = { "Q8_K", 256, 292, -1 },
};

const struct quant_traits *
quant_traits(int type)
{
  if (type < 0 || type >= QUANT_NTYPES || !traits[type].name)
    return NULL;
  return &traits[type];
}

size_t
quant_row_size(int type, int64_t n)
{
  const struct quant_traits *t = quant_traits(type);
  if (!t || n < 0 || n % t->block)
    return 0;
  return (size_t)(n / t->block) * t->bytes;
}

/* ---------------------------------------------------------------------------
 * scalar conversions
 */

static uint32_t
f2u(float f)
{
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static float
u2f(uint32_t u)
{
  float f;
  memcpy(&f, &u, 4);
  return f;
}

float
quant_f16_to_f32(uint16_t h)
{
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e == 0x1f)
    return u2f(sign | 0x7f800000 | (m << 13));
  if (e)
    return u2f(sign | ((e + 112) << 23) | (m << 13));
  float v = (float)m * 0x1p-24f; /* zero or subnormal */
  return sign ? -v : v;
}

/* Rounds the integer r to drop `shift` low bits, to nearest even. */
static uint32_t
round_shift(uint32_t r, unsigned shift)
{
  uint32_t h = r >> shift, rem = r & ((1u << shift) - 1), half = 1u << (shift - 1);
  if (rem > half || (rem == half && (h & 1)))
    h++;
  return h;
}

uint16_t
quant_f32_to_f16(float f)
{
  uint32_t x = f2u(f), sign = (x >> 16) & 0x8000, ax = x & 0x7fffffff;
  if (ax > 0x7f800000)
    return (uint16_t)(sign | 0x7e00);             /* NaN */
  if (ax >= 0x47800000)
    return (uint16_t)(sign | 0x7c00);             /* >= 65536: inf */
  if (ax >= 0x38800000)                           /* normal half */
    return (uint16_t)(sign | round_shift(ax - 0x38000000, 13));
  uint32_t e = ax >> 23;
  if (e < 102)
    return (uint16_t)sign;                        /* below half of 2^-24 */
  uint32_t mant = (ax & 0x7fffff) | 0x800000;     /* subnormal half */
  return (uint16_t)(sign | round_shift(mant, 126 - e));
}

float
quant_bf16_to_f32(uint16_t h)
{
  return u2f((uint32_t)h << 16);
}

uint16_t
quant_f32_to_bf16(float f)
{
  uint32_t x = f2u(f);
  if ((x & 0x7fffffff) > 0x7f800000)
    return (uint16_t)((x >> 16) | 64);            /* quiet NaN */
  return (uint16_t)((x + 0x7fff + ((x >> 16) & 1)) >> 16);
}

/* Rounds to the nearest integer, ties to even, for |v| < 2^22. */
static int
nearest_int(float v)
{
  float t = v + 12582912.f;
  return (int)(f2u(t) & 0x7fffff) - 0x400000;
}

/* ---------------------------------------------------------------------------
 * dequantization
 */

/* Unpacks the 6-bit scale and min of sub-block j of a Q4_K/Q5_K block. */
void
quant_k_scale_min(int j, const uint8_t *s, uint8_t *sc, uint8_t *m)
{
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (uint8_t)((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4));
    *m = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
  }
}

static void
deq_q4_0(const struct quant_q4_0 *b, float *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++, y += 32) {
    float d = quant_f16_to_f32(b[i].d);
    for (int j = 0; j < 16; j++) {
      y[j] = d * ((b[i].qs[j] & 15) - 8);
      y[j + 16] = d * ((b[i].qs[j] >> 4) - 8);
    }
  }
}

static void
deq_q4_1(const struct quant_q4_1 *b, float *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++, y += 32) {
    float d = quant_f16_to_f32(b[i].d), m = quant_f16_to_f32(b[i].m);
    for (int j = 0; j < 16; j++) {
      y[j] = d * (b[i].qs[j] & 15) + m;
      y[j + 16] = d * (b[i].qs[j] >> 4) + m;
    }
  }
}

static void
deq_q5_0(const struct quant_q5_0 *b, float *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++, y += 32) {
    float d = quant_f16_to_f32(b[i].d);
    uint32_t qh;
    memcpy(&qh, b[i].qh, 4);
    for (int j = 0; j < 16; j++) {
      int lo = (b[i].qs[j] & 15) | (((qh >> j) & 1) << 4);
      int hi = (b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      y[j] = d * (lo - 16);
      y[j + 16] = d * (hi - 16);
    }
  }
}

static void
deq_q8_0(const struct quant_q8_0 *b, float *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++, y += 32) {
    float d = quant_f16_to_f32(b[i].d);
    for (int j = 0; j < 32; j++)
      y[j] = d * b[i].qs[j];
  }
}

static void
deq_q8_1(const struct quant_q8_1 *b, float *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++, y += 32) {
    float d = quant_f16_to_f32(b[i].d);
    for (int j = 0; j < 32; j++)
      y[j] = d * b[i].qs[j];
  }
}

static void
deq_q4_k(const struct quant_q4_k *b, float *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++) {
    float d = quant_f16_to_f32(b[i].d), dmin = quant_f16_to_f32(b[i].dmin);
    for (int g = 0; g < 4; g++) {
      const uint8_t *q = b[i].qs + 32 * g;
      uint8_t sc0, m0, sc1, m1;
      quant_k_scale_min(2 * g, b[i].scales, &sc0, &m0);
      quant_k_scale_min(2 * g + 1, b[i].scales, &sc1, &m1);
      float d0 = d * sc0, n0 = dmin * m0, d1 = d * sc1, n1 = dmin * m1;
      for (int l = 0; l < 32; l++)
        *y++ = d0 * (q[l] & 15) - n0;
      for (int l = 0; l < 32; l++)
        *y++ = d1 * (q[l] >> 4) - n1;
    }
  }
}

static void
deq_q5_k(const struct quant_q5_k *b, float *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++) {
    float d = quant_f16_to_f32(b[i].d), dmin = quant_f16_to_f32(b[i].dmin);
    for (int g = 0; g < 4; g++) {
      const uint8_t *q = b[i].qs + 32 * g;
      uint8_t sc0, m0, sc1, m1;
      quant_k_scale_min(2 * g, b[i].scales, &sc0, &m0);
      quant_k_scale_min(2 * g + 1, b[i].scales, &sc1, &m1);
      float d0 = d * sc0, n0 = dmin * m0, d1 = d * sc1, n1 = dmin * m1;
      for (int l = 0; l < 32; l++)
        *y++ = d0 * ((q[l] & 15) | (((b[i].qh[l] >> (2 * g)) & 1) << 4)) - n0;
      for (int l = 0; l < 32; l++)
        *y++ = d1 * ((q[l] >> 4) | (((b[i].qh[l] >> (2 * g + 1)) & 1) << 4)) - n1;
    }
  }
}

/* The 6-bit value of element l (0..127) of half h of a Q6_K block, minus 32. */
static int
q6_value(const struct quant_q6_k *b, int h, int l)
{
  const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
  int quarter = l / 32, k = l % 32;
  int low = quarter & 1 ? ql[k + 32] : ql[k];
  low = quarter >= 2 ? low >> 4 : low & 15;
  int high = (qh[k] >> (2 * quarter)) & 3;
  return (low | high << 4) - 32;
}

static void
deq_q6_k(const struct quant_q6_k *b, float *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++) {
    float d = quant_f16_to_f32(b[i].d);
    for (int h = 0; h < 2; h++)
      for (int l = 0; l < 128; l++)
        *y++ = d * b[i].scales[8 * h + l / 16] * q6_value(&b[i], h, l);
  }
}

static void
deq_q8_k(const struct quant_q8_k *b, float *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++)
    for (int j = 0; j < 256; j++)
      *y++ = b[i].d * b[i].qs[j];
}

int
quant_dequantize_row(int type, const void *src, float *dst, int64_t n)
{
  const struct quant_traits *t = quant_traits(type);
  if (!t || n < 0 || n % t->block)
    return MN_EINVAL;
  int64_t nb = n / t->block;
  const uint16_t *h = src;
  switch (type) {
  case QUANT_F32: memcpy(dst, src, (size_t)n * 4); break;
  case QUANT_F16: for (int64_t i = 0; i < n; i++) dst[i] = quant_f16_to_f32(h[i]); break;
  case QUANT_BF16: for (int64_t i = 0; i < n; i++) dst[i] = quant_bf16_to_f32(h[i]); break;
  case QUANT_Q4_0: deq_q4_0(src, dst, nb); break;
  case QUANT_Q4_1: deq_q4_1(src, dst, nb); break;
  case QUANT_Q5_0: deq_q5_0(src, dst, nb); break;
  case QUANT_Q8_0: deq_q8_0(src, dst, nb); break;
  case QUANT_Q8_1: deq_q8_1(src, dst, nb); break;
  case QUANT_Q4_K: deq_q4_k(src, dst, nb); break;
  case QUANT_Q5_K: deq_q5_k(src, dst, nb); break;
  case QUANT_Q6_K: deq_q6_k(src, dst, nb); break;
  case QUANT_Q8_K: deq_q8_k(src, dst, nb); break;
  default: return MN_EINVAL;
  }
  return 0;
}

/* ---------------------------------------------------------------------------
 * activation quantization (llama.cpp's CPU rules)
 */

static float
absmax(const float *x, int n)
{
  float m = 0.f;
  for (int j = 0; j < n; j++) {
    float a = fabsf(x[j]);
    m = a > m ? a : m;
  }
  return m;
}

static void
quantize_q8_0(const float *x, struct quant_q8_0 *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++, x += 32) {
    float amax = absmax(x, 32), d = amax / 127.f;
    float id = amax != 0.f ? 127.f / amax : 0.f;
    y[i].d = quant_f32_to_f16(d);
    for (int j = 0; j < 32; j++)
      y[i].qs[j] = (int8_t)nearest_int(x[j] * id);
  }
}

static void
quantize_q8_1(const float *x, struct quant_q8_1 *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++, x += 32) {
    float amax = absmax(x, 32), d = amax / 127.f;
    float id = amax != 0.f ? 127.f / amax : 0.f;
    int sum = 0;
    y[i].d = quant_f32_to_f16(d);
    for (int j = 0; j < 32; j++) {
      y[i].qs[j] = (int8_t)nearest_int(x[j] * id);
      sum += y[i].qs[j];
    }
    y[i].s = quant_f32_to_f16(d * (float)sum);
  }
}

static void
quantize_q8_k(const float *x, struct quant_q8_k *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++, x += 256) {
    float max = 0.f, amax = 0.f;
    for (int j = 0; j < 256; j++) {
      float a = fabsf(x[j]);
      if (a > amax) {
        amax = a;
        max = x[j];
      }
    }
    memset(&y[i], 0, sizeof y[i]);
    if (amax == 0.f)
      continue;
    float iscale = -127.f / max;
    for (int j = 0; j < 256; j++) {
      int v = nearest_int(iscale * x[j]);
      y[i].qs[j] = (int8_t)(v < 127 ? v : 127);
      y[i].bsums[j / 16] = (int16_t)(y[i].bsums[j / 16] + y[i].qs[j]);
    }
    y[i].d = 1.f / iscale;
  }
}

int
quant_quantize_row(int vtype, const float *x, void *dst, int64_t n)
{
  const struct quant_traits *t = quant_traits(vtype);
  if (!t || n < 0 || n % t->block)
    return MN_EINVAL;
  int64_t nb = n / t->block;
  uint16_t *h = dst;
  switch (vtype) {
  case QUANT_F32: memcpy(dst, x, (size_t)n * 4); break;
  case QUANT_F16: for (int64_t i = 0; i < n; i++) h[i] = quant_f32_to_f16(x[i]); break;
  case QUANT_BF16: for (int64_t i = 0; i < n; i++) h[i] = quant_f32_to_bf16(x[i]); break;
  case QUANT_Q8_0: quantize_q8_0(x, dst, nb); break;
  case QUANT_Q8_1: quantize_q8_1(x, dst, nb); break;
  case QUANT_Q8_K: quantize_q8_k(x, dst, nb); break;
  default: return MN_EINVAL;
  }
  return 0;
}

/* ---------------------------------------------------------------------------
 * weight quantization (llama.cpp's reference rules, for tests)
 */

/* The value of largest magnitude in x[0..n), with its sign. */
static float
signed_max(const float *x, int n)
{
  float amax = 0.f, max = 0.f;
  for (int j = 0; j < n; j++)
    if (fabsf(x[j]) > amax) {
      amax = fabsf(x[j]);
      max = x[j];
    }
  return max;
}

static int
clampi(int v, int lo, int hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

static void
quantize_w_q4_0(const float *x, struct quant_q4_0 *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++, x += 32) {
    float d = signed_max(x, 32) / -8.f, id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = quant_f32_to_f16(d);
    for (int j = 0; j < 16; j++) {
      int lo = clampi((int)(x[j] * id + 8.5f), 0, 15);
      int hi = clampi((int)(x[j + 16] * id + 8.5f), 0, 15);
      y[i].qs[j] = (uint8_t)(lo | hi << 4);
    }
  }
}

static void
quantize_w_q4_1(const float *x, struct quant_q4_1 *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++, x += 32) {
    float mn = x[0], mx = x[0];
    for (int j = 1; j < 32; j++) {
      mn = x[j] < mn ? x[j] : mn;
      mx = x[j] > mx ? x[j] : mx;
    }
    float d = (mx - mn) / 15.f, id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = quant_f32_to_f16(d);
    y[i].m = quant_f32_to_f16(mn);
    for (int j = 0; j < 16; j++) {
      int lo = clampi((int)((x[j] - mn) * id + 0.5f), 0, 15);
      int hi = clampi((int)((x[j + 16] - mn) * id + 0.5f), 0, 15);
      y[i].qs[j] = (uint8_t)(lo | hi << 4);
    }
  }
}

static void
quantize_w_q5_0(const float *x, struct quant_q5_0 *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++, x += 32) {
    float d = signed_max(x, 32) / -16.f, id = d != 0.f ? 1.f / d : 0.f;
    uint32_t qh = 0;
    y[i].d = quant_f32_to_f16(d);
    for (int j = 0; j < 16; j++) {
      int lo = clampi((int)(x[j] * id + 16.5f), 0, 31);
      int hi = clampi((int)(x[j + 16] * id + 16.5f), 0, 31);
      y[i].qs[j] = (uint8_t)((lo & 15) | (hi & 15) << 4);
      qh |= (uint32_t)(lo >> 4) << j | (uint32_t)(hi >> 4) << (j + 16);
    }
    memcpy(y[i].qh, &qh, 4);
  }
}

static void
quantize_w_q8_0(const float *x, struct quant_q8_0 *y, int64_t nb)
{
  for (int64_t i = 0; i < nb; i++, x += 32) {
    float d = absmax(x, 32) / 127.f, id = d != 0.f ? 1.f / d : 0.f;
    y[i].d = quant_f32_to_f16(d);
    for (int j = 0; j < 32; j++) {
      /* roundf (halves away from zero), exactly: v - trunc(v) is exact */
      float v = x[j] * id;
      int q = (int)v;
      float fr = v - (float)q;
      q += fr >= 0.5f ? 1 : fr <= -0.5f ? -1 : 0;
      y[i].qs[j] = (int8_t)q;
    }
  }
}

int
quant_quantize_weights(int type, const float *x, void *dst, int64_t n)
{
  const struct quant_traits *t = quant_traits(type);
  if (!t || n < 0 || n % t->block)
    return MN_EINVAL;
  int64_t nb = n / t->block;
  switch (type) {
  case QUANT_F32: case QUANT_F16: case QUANT_BF16:
    return quant_quantize_row(type, x, dst, n);
  case QUANT_Q4_0: quantize_w_q4_0(x, dst, nb); break;
  case QUANT_Q4_1: quantize_w_q4_1(x, dst, nb); break;
  case QUANT_Q5_0: quantize_w_q5_0(x, dst, nb); break;
  case QUANT_Q8_0: quantize_w_q8_0(x, dst, nb); break;
  default: return MN_EINVAL;
  }
  return 0;
}

/* ---------------------------------------------------------------------------
 * scalar dot kernels
 */

float
quant_dot_f32_scalar(int n, const void *w, const void *x)
{
  const float *a = w, *b = x;
  float s[4] = { 0 };
  int i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; k++)
      s[k] += a[i + k] * b[i + k];
  for (; i < n; i++)
    s[0] += a[i] * b[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

float
quant_dot_f16_scalar(int n, const void *w, const void *x)
{
  const uint16_t *a = w, *b = x;
  float s = 0.f;
  for (int i = 0; i < n; i++)
    s += quant_f16_to_f32(a[i]) * quant_f16_to_f32(b[i]);
  return s;
}

float
quant_dot_bf16_scalar(int n, const void *w, const void *x)
{
  const uint16_t *a = w, *b = x;
  float s = 0.f;
  for (int i = 0; i < n; i++)
    s += quant_bf16_to_f32(a[i]) * quant_bf16_to_f32(b[i]);
  return s;
}

float
quant_dot_q8_0_scalar(int n, const void *w, const void *x)
{
  const struct quant_q8_0 *a = w, *b = x;
  float s = 0.f;
  for (int i = 0; i < n / 32; i++) {
    int sumi = 0;
    for (int j = 0; j < 32; j++)
      sumi += a[i].qs[j] * b[i].qs[j];
    s += (float)sumi * (quant_f16_to_f32(a[i].d) * quant_f16_to_f32(b[i].d));
  }
  return s;
}

float
quant_dot_q4_0_scalar(int n, const void *w, const void *x)
{
  const struct quant_q4_0 *a = w;
  const struct quant_q8_0 *b = x;
  float s = 0.f;
  for (int i = 0; i < n / 32; i++) {
    int sumi = 0;
    for (int j = 0; j < 16; j++)
      sumi += ((a[i].qs[j] & 15) - 8) * b[i].qs[j] +
              ((a[i].qs[j] >> 4) - 8) * b[i].qs[j + 16];
    s += (float)sumi * (quant_f16_to_f32(a[i].d) * quant_f16_to_f32(b[i].d));
  }
  return s;
}

float
quant_dot_q4_1_scalar(int n, const void *w, const void *x)
{
  const struct quant_q4_1 *a = w;
  const struct quant_q8_1 *b = x;
  float s = 0.f;
  for (int i = 0; i < n / 32; i++) {
    int sumi = 0;
    for (int j = 0; j < 16; j++)
      sumi += (a[i].qs[j] & 15) * b[i].qs[j] + (a[i].qs[j] >> 4) * b[i].qs[j + 16];
    s += (float)sumi * (quant_f16_to_f32(a[i].d) * quant_f16_to_f32(b[i].d)) +
         quant_f16_to_f32(a[i].m) * quant_f16_to_f32(b[i].s);
  }
  return s;
}

float
quant_dot_q5_0_scalar(int n, const void *w, const void *x)
{
  const struct quant_q5_0 *a = w;
  const struct quant_q8_0 *b = x;
  float s = 0.f;
  for (int i = 0; i < n / 32; i++) {
    uint32_t qh;
    memcpy(&qh, a[i].qh, 4);
    int sumi = 0;
    for (int j = 0; j < 16; j++) {
      int lo = ((a[i].qs[j] & 15) | (((qh >> j) & 1) << 4)) - 16;
      int hi = ((a[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16;
      sumi += lo * b[i].qs[j] + hi * b[i].qs[j + 16];
    }
    s += (float)sumi * (quant_f16_to_f32(a[i].d) * quant_f16_to_f32(b[i].d));
  }
  return s;
}

/* Q4_K and Q5_K share this: q5 is NULL for Q4_K. */
static float
dot_q45_k(int nb, const struct quant_q4_k *a4, const struct quant_q5_k *a5,
          const struct quant_q8_k *b)
{
  float s = 0.f;
  for (int i = 0; i < nb; i++) {
    const uint8_t *scales = a5 ? a5[i].scales : a4[i].scales;
    const uint8_t *qs = a5 ? a5[i].qs : a4[i].qs;
    uint16_t dh = a5 ? a5[i].d : a4[i].d, mh = a5 ? a5[i].dmin : a4[i].dmin;
    int sumi = 0, summ = 0;
    for (int j = 0; j < 8; j++) {
      uint8_t sc, m;
      quant_k_scale_min(j, scales, &sc, &m);
      const uint8_t *q = qs + 32 * (j / 2);
      const int8_t *y = b[i].qs + 32 * j;
      int shift = (j & 1) * 4, sub = 0;
      for (int l = 0; l < 32; l++) {
        int v = (q[l] >> shift) & 15;
        if (a5)
          v |= ((a5[i].qh[l] >> j) & 1) << 4;
        sub += v * y[l];
      }
      sumi += sc * sub;
      summ += m * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
    }
    s += b[i].d * quant_f16_to_f32(dh) * (float)sumi -
         b[i].d * quant_f16_to_f32(mh) * (float)summ;
  }
  return s;
}

float
quant_dot_q4_k_scalar(int n, const void *w, const void *x)
{
  return dot_q45_k(n / 256, w, NULL, x);
}

float
quant_dot_q5_k_scalar(int n, const void *w, const void *x)
{
  return dot_q45_k(n / 256, NULL, w, x);
}

float
quant_dot_q6_k_scalar(int n, const void *w, const void *x)
{
  const struct quant_q6_k *a = w;
  const struct quant_q8_k *b = x;
  float s = 0.f;
  for (int i = 0; i < n / 256; i++) {
    int sumi = 0;
    for (int h = 0; h < 2; h++)
      for (int sb = 0; sb < 8; sb++) {
        int sub = 0;
        for (int l = 16 * sb; l < 16 * sb + 16; l++)
          sub += q6_value(&a[i], h, l) * b[i].qs[128 * h + l];
        sumi += a[i].scales[8 * h + sb] * sub;
      }
    s += b[i].d * quant_f16_to_f32(a[i].d) * (float)sumi;
  }
  return s;
}

void quant_row_f32_scalar(const float *x, void *y, int n) { quant_quantize_row(QUANT_F32, x, y, n); }
void quant_row_f16_scalar(const float *x, void *y, int n) { quant_quantize_row(QUANT_F16, x, y, n); }
void quant_row_bf16_scalar(const float *x, void *y, int n) { quant_quantize_row(QUANT_BF16, x, y, n); }
void quant_row_q8_0_scalar(const float *x, void *y, int n) { quantize_q8_0(x, y, n / 32); }
void quant_row_q8_1_scalar(const float *x, void *y, int n) { quantize_q8_1(x, y, n / 32); }
void quant_row_q8_k_scalar(const float *x, void *y, int n) { quantize_q8_k(x, y, n / 256); }

void
quant_axpy_f32_scalar(int n, float a, const void *x, float *y)
{
  const float *v = x;
  for (int i = 0; i < n; i++)
    y[i] += a * v[i];
}

void
quant_axpy_f16_scalar(int n, float a, const void *x, float *y)
{
  const uint16_t *v = x;
  for (int i = 0; i < n; i++)
    y[i] += a * quant_f16_to_f32(v[i]);
}

const struct quant_ops quant_ops_scalar = {
  .name = "scalar",
  .dot = { QUANT_SCALAR_DOTS },
  .quantize = { QUANT_SCALAR_ROWS },
  .axpy = { [QUANT_F32] = quant_axpy_f32_scalar, [QUANT_F16] = quant_axpy_f16_scalar },
};
