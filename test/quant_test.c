/*
 * quant_test.c: tensor types: fp16/bf16 conversion, dequantization against
 * the block layouts written out element by element, llama.cpp's activation
 * quantization rules, and every dot kernel variant (scalar, AVX2,
 * AVX-512) against a double-precision dot of the dequantized rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mneme/err.h"
#include "mneme/quant.h"
#include "../infer/pack.h"
#include "../infer/attn.h"
#include "../infer/act.h"

static uint32_t rng = 12345;

static uint32_t
rnd(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

/* Uniform in [-1, 1). */
static float
frand(void)
{
  return (float)(rnd() >> 8) / (float)(1 << 23) - 1.f;
}

/* ---- conversions ---------------------------------------------------------- */

static void
test_f16_roundtrip_all(void **state)
{
  for (uint32_t h = 0; h < 65536; h++) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff))
      continue; /* NaN */
    assert_int_equal(quant_f32_to_f16(quant_f16_to_f32((uint16_t)h)), h);
  }
}

static void
test_f16_rounding(void **state)
{
  assert_int_equal(quant_f32_to_f16(1.f), 0x3c00);
  assert_int_equal(quant_f32_to_f16(1.f + 0x1p-11f), 0x3c00);        /* tie -> even */
  assert_int_equal(quant_f32_to_f16(1.f + 3 * 0x1p-11f), 0x3c02);    /* tie -> even */
  assert_int_equal(quant_f32_to_f16(1.f + 0x1p-11f + 0x1p-20f), 0x3c01);
  assert_int_equal(quant_f32_to_f16(-2.f), 0xc000);
  assert_int_equal(quant_f32_to_f16(65504.f), 0x7bff);
  assert_int_equal(quant_f32_to_f16(65519.f), 0x7bff);
  assert_int_equal(quant_f32_to_f16(65520.f), 0x7c00);
  assert_int_equal(quant_f32_to_f16(1e9f), 0x7c00);
  assert_int_equal(quant_f32_to_f16(0x1p-24f), 0x0001);
  assert_int_equal(quant_f32_to_f16(0x1p-25f), 0x0000);              /* tie -> even 0 */
  assert_int_equal(quant_f32_to_f16(0x1.8p-25f), 0x0001);
  assert_int_equal(quant_f32_to_f16(3 * 0x1p-25f), 0x0002);          /* tie -> even 2 */
  assert_int_equal(quant_f32_to_f16(0x1p-14f), 0x0400);
  assert_int_equal(quant_f32_to_f16(-0.f), 0x8000);
  assert_true((quant_f32_to_f16(NAN) & 0x7fff) > 0x7c00);
  assert_true(quant_f16_to_f32(0x0001) == 0x1p-24f);
  assert_true(quant_f16_to_f32(0x7bff) == 65504.f);
  assert_true(isinf(quant_f16_to_f32(0xfc00)));
  /* Random floats: the result is one of the two neighbouring halves, the
   * nearer one. */
  for (int i = 0; i < 100000; i++) {
    float f = frand() * ldexpf(1.f, (int)(rnd() % 40) - 26);
    uint16_t h = quant_f32_to_f16(f);
    double e = fabs((double)quant_f16_to_f32(h) - f);
    assert_true(e <= fabs((double)quant_f16_to_f32((uint16_t)(h + 1)) - f));
    if ((h & 0x7fff) != 0)
      assert_true(e <= fabs((double)quant_f16_to_f32((uint16_t)(h - 1)) - f));
  }
}

static void
test_bf16(void **state)
{
  assert_int_equal(quant_f32_to_bf16(1.f), 0x3f80);
  assert_true(quant_bf16_to_f32(0x3f80) == 1.f);
  /* 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even is 1. */
  assert_int_equal(quant_f32_to_bf16(1.f + 0x1p-8f), 0x3f80);
  assert_int_equal(quant_f32_to_bf16(1.f + 0x1p-8f + 0x1p-20f), 0x3f81);
  assert_int_equal(quant_f32_to_bf16(-3.f), 0xc040);
}

/* ---- traits and bad input ------------------------------------------------- */

static void
test_traits(void **state)
{
  assert_int_equal(quant_row_size(QUANT_Q4_K, 512), 288);
  assert_int_equal(quant_row_size(QUANT_Q6_K, 256), 210);
  assert_int_equal(quant_row_size(QUANT_Q8_0, 64), 68);
  assert_int_equal(quant_row_size(QUANT_Q4_0, 33), 0);
  assert_int_equal(quant_row_size(QUANT_F16, 172), 344);
  assert_int_equal(quant_row_size(QUANT_Q2_K, 256), 0); /* unsupported */
  assert_int_equal(quant_row_size(99, 256), 0);
  assert_null(quant_traits(-1));
  assert_string_equal(quant_traits(QUANT_BF16)->name, "BF16");
  float f[32];
  uint8_t buf[64];
  assert_int_equal(quant_dequantize_row(QUANT_Q3_K, buf, f, 256), MN_EINVAL);
  assert_int_equal(quant_dequantize_row(QUANT_Q8_0, buf, f, 31), MN_EINVAL);
  assert_int_equal(quant_quantize_row(QUANT_Q4_0, f, buf, 32), MN_EINVAL);
  assert_int_equal(quant_quantize_row(QUANT_Q8_0, f, buf, 20), MN_EINVAL);
  assert_non_null(quant_ops_best());
  assert_ptr_equal(quant_ops_named("scalar"), &quant_ops_scalar);
  assert_null(quant_ops_named("sse9"));
}

/* ---- dequantization against the layouts ----------------------------------- */

static void
test_dequant_q8_0_q4_0(void **state)
{
  struct quant_q8_0 b8;
  struct quant_q4_0 b4;
  float y[32];
  b8.d = quant_f32_to_f16(0.5f);
  for (int j = 0; j < 32; j++)
    b8.qs[j] = (int8_t)(j * 8 - 128);
  assert_int_equal(quant_dequantize_row(QUANT_Q8_0, &b8, y, 32), 0);
  for (int j = 0; j < 32; j++)
    assert_true(y[j] == 0.5f * (j * 8 - 128));
  b4.d = quant_f32_to_f16(-2.f);
  for (int j = 0; j < 16; j++)
    b4.qs[j] = (uint8_t)(j | (15 - j) << 4);
  assert_int_equal(quant_dequantize_row(QUANT_Q4_0, &b4, y, 32), 0);
  for (int j = 0; j < 16; j++) {
    assert_true(y[j] == -2.f * (j - 8));
    assert_true(y[j + 16] == -2.f * (15 - j - 8));
  }
}

/* Q4_K element i straight from gguf-notes.md. */
static float
q4k_elem(const struct quant_q4_k *b, int i)
{
  int g = i / 64, r = i % 64, sub = 2 * g + (r >= 32);
  const uint8_t *s = b->scales;
  int sc, m;
  if (sub < 4) {
    sc = s[sub] & 63;
    m = s[sub + 4] & 63;
  } else {
    sc = (s[sub + 4] & 0x0F) | ((s[sub - 4] >> 6) << 4);
    m = (s[sub + 4] >> 4) | ((s[sub] >> 6) << 4);
  }
  int q = r < 32 ? b->qs[32 * g + r] & 15 : b->qs[32 * g + r - 32] >> 4;
  return quant_f16_to_f32(b->d) * sc * q - quant_f16_to_f32(b->dmin) * m;
}

/* Q6_K element i straight from gguf-notes.md. */
static float
q6k_elem(const struct quant_q6_k *b, int i)
{
  int h = i / 128, r = i % 128, l = r % 32, part = r / 32;
  const uint8_t *ql = b->ql + 64 * h, *qh = b->qh + 32 * h;
  const int8_t *sc = b->scales + 8 * h;
  int q;
  switch (part) {
  case 0: q = (ql[l] & 15) | ((qh[l] >> 0) & 3) << 4; break;
  case 1: q = (ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4; break;
  case 2: q = (ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4; break;
  default: q = (ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4; break;
  }
  return quant_f16_to_f32(b->d) * sc[l / 16 + 2 * part] * (q - 32);
}

static void
random_bytes(void *p, size_t n)
{
  uint8_t *b = p;
  for (size_t i = 0; i < n; i++)
    b[i] = (uint8_t)rnd();
}

static void
test_dequant_k(void **state)
{
  for (int rep = 0; rep < 20; rep++) {
    struct quant_q4_k b4;
    struct quant_q6_k b6;
    float y[256];
    random_bytes(&b4, sizeof b4);
    random_bytes(&b6, sizeof b6);
    b4.d = quant_f32_to_f16(frand() * 0.01f);
    b4.dmin = quant_f32_to_f16(frand() * 0.01f);
    b6.d = quant_f32_to_f16(frand() * 0.01f);
    assert_int_equal(quant_dequantize_row(QUANT_Q4_K, &b4, y, 256), 0);
    for (int i = 0; i < 256; i++)
      assert_float_equal(y[i], q4k_elem(&b4, i), 1e-6);
    assert_int_equal(quant_dequantize_row(QUANT_Q6_K, &b6, y, 256), 0);
    for (int i = 0; i < 256; i++)
      assert_float_equal(y[i], q6k_elem(&b6, i), 1e-6);
  }
}

/* ---- activation quantization ---------------------------------------------- */

static void
test_quantize_q8_0(void **state)
{
  float x[32] = { 127.f, 0.5f, 1.5f, 2.5f, -2.5f, -0.5f, 3.49f, -126.6f };
  struct quant_q8_0 b;
  assert_int_equal(quant_quantize_row(QUANT_Q8_0, x, &b, 32), 0);
  assert_true(quant_f16_to_f32(b.d) == quant_f16_to_f32(quant_f32_to_f16(1.f)));
  int8_t want[8] = { 127, 0, 2, 2, -2, 0, 3, -127 }; /* ties to even */
  for (int j = 0; j < 8; j++)
    assert_int_equal(b.qs[j], want[j]);
  for (int j = 8; j < 32; j++)
    assert_int_equal(b.qs[j], 0);
  memset(x, 0, sizeof x);
  assert_int_equal(quant_quantize_row(QUANT_Q8_0, x, &b, 32), 0);
  assert_int_equal(b.d, 0);
}

static void
test_quantize_q8_k(void **state)
{
  float x[256];
  struct quant_q8_k b;
  for (int j = 0; j < 256; j++)
    x[j] = frand();
  x[77] = -2.f; /* the value of largest magnitude is negative */
  assert_int_equal(quant_quantize_row(QUANT_Q8_K, x, &b, 256), 0);
  assert_true(b.d == 1.f / (-127.f / -2.f));
  assert_int_equal(b.qs[77], -127);
  for (int k = 0; k < 16; k++) {
    int s = 0;
    for (int j = 0; j < 16; j++)
      s += b.qs[16 * k + j];
    assert_int_equal(b.bsums[k], s);
  }
  for (int j = 0; j < 256; j++)
    assert_true(fabsf(b.qs[j] * b.d - x[j]) <= fabsf(b.d) * 0.5f + 1e-6f);
}

static void
test_quantize_weights(void **state)
{
  static const int types[] = { QUANT_Q8_0, QUANT_Q4_0, QUANT_Q4_1, QUANT_Q5_0 };
  static const float steps[] = { 127.f, 8.f, 15.f, 16.f };
  float x[64], y[64];
  uint8_t buf[256];
  for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
    for (int j = 0; j < 64; j++)
      x[j] = frand();
    assert_int_equal(quant_quantize_weights(types[t], x, buf, 64), 0);
    assert_int_equal(quant_dequantize_row(types[t], buf, y, 64), 0);
    for (int j = 0; j < 64; j++) /* within about one step of the block */
      assert_true(fabsf(y[j] - x[j]) <= 2.f / steps[t] * 1.01f);
  }
}

/* ---- dot kernels ------------------------------------------------------------ */

/* Fills a weight row of n elements of type t with plausible random data. */
static void
make_weights(int t, int n, void *row)
{
  float *x = malloc((size_t)n * 4);
  for (int j = 0; j < n; j++)
    x[j] = frand();
  if (quant_quantize_weights(t, x, row, n) != 0) {
    size_t bytes = quant_row_size(t, n);
    random_bytes(row, bytes);
    for (int b = 0; b < n / 256; b++) {
      if (t == QUANT_Q4_K || t == QUANT_Q5_K) {
        uint16_t *dd = (uint16_t *)((uint8_t *)row + b * quant_traits(t)->bytes);
        dd[0] = quant_f32_to_f16(frand() * 0.01f);
        dd[1] = quant_f32_to_f16(frand() * 0.01f);
      } else if (t == QUANT_Q6_K) {
        struct quant_q6_k *q = (struct quant_q6_k *)row + b;
        q->d = quant_f32_to_f16(frand() * 0.01f);
      }
    }
  }
  free(x);
}

static void
check_dot_type(int t, int n)
{
  const struct quant_traits *tr = quant_traits(t);
  int vt = tr->vec_type;
  void *w = malloc(quant_row_size(t, n)), *xq = malloc(quant_row_size(vt, n));
  float *wf = malloc((size_t)n * 4), *x = malloc((size_t)n * 4), *xf = malloc((size_t)n * 4);
  const char *names[] = { "scalar", "avx2", "avx512", "neon", "neon-dotprod", "neon-i8mm" };
  for (int rep = 0; rep < 8; rep++) {
    make_weights(t, n, w);
    for (int j = 0; j < n; j++)
      x[j] = frand() * (rep + 1);
    assert_int_equal(quant_quantize_row(vt, x, xq, n), 0);
    assert_int_equal(quant_dequantize_row(t, w, wf, n), 0);
    assert_int_equal(quant_dequantize_row(vt, xq, xf, n), 0);
    double ref = 0, mag = 0;
    for (int j = 0; j < n; j++) {
      ref += (double)wf[j] * xf[j];
      mag += fabs((double)wf[j] * xf[j]);
    }
    if (t == QUANT_Q4_1) { /* Q8_1 keeps d*sum(qs) as fp16: allow its rounding */
      const struct quant_q4_1 *wb = w;
      const struct quant_q8_1 *xb = xq;
      for (int b = 0; b < n / 32; b++)
        mag += fabs(quant_f16_to_f32(wb[b].m) * quant_f16_to_f32(xb[b].s)) * 0x1p-11 / 1e-5;
    }
    for (int v = 0; v < 6; v++) {
      const struct quant_ops *ops = quant_ops_named(names[v]);
      if (!ops)
        continue;
      float got = ops->dot[t](n, w, xq);
      if (ops->dot2x2[t]) { /* a 2x2 tile: each product the bits of dot */
        size_t rb = quant_row_size(t, n), xs = quant_row_size(vt, n);
        uint8_t *w2 = malloc(2 * rb), *x2 = malloc(2 * xs);
        float o[4];
        memcpy(w2, w, rb);
        make_weights(t, n, w2 + rb);
        memcpy(x2, xq, xs);
        for (int j = 0; j < n; j++)
          xf[j] = x[j] * -0.61f;
        quant_quantize_row(vt, xf, x2 + xs, n);
        ops->dot2x2[t](n, w2, rb, x2, xs, o);
        for (int k = 0; k < 4; k++) {
          float one = ops->dot[t](n, w2 + (k >> 1) * rb, x2 + (k & 1) * xs);
          assert_memory_equal(&one, &o[k], 4);
        }
        assert_memory_equal(&got, &o[0], 4);
        quant_dequantize_row(vt, xq, xf, n); /* restore xf */
        free(w2), free(x2);
      }
      if (ops->dotr[t]) { /* many weight rows: the same bits as one by one */
        size_t rb = quant_row_size(t, n);
        uint8_t *w3 = malloc(3 * rb);
        float o3[3];
        for (int k = 0; k < 3; k++)
          memcpy(w3 + k * rb, w, rb);
        ops->dotr[t](n, w3, rb, 3, xq, o3);
        for (int k = 0; k < 3; k++)
          assert_memory_equal(&o3[k], &got, 4);
        free(w3);
      }
      if (ops->dot4[t]) { /* four rows at once: the same bits as one by one */
        size_t xs = quant_row_size(vt, n);
        uint8_t *x4 = malloc(4 * xs);
        float o[4];
        for (int k = 0; k < 4; k++)
          memcpy(x4 + k * xs, xq, xs);
        for (int k = 0; k < 4; k++) /* vary the rows: scale each differently */
          if (k != 2) {
            for (int j = 0; j < n; j++)
              xf[j] = x[j] * (float)(k + 1) * 0.37f;
            quant_quantize_row(vt, xf, x4 + k * xs, n);
          }
        ops->dot4[t](n, w, x4, xs, o);
        for (int k = 0; k < 4; k++) {
          float one = ops->dot[t](n, w, x4 + k * xs);
          assert_memory_equal(&one, &o[k], 4);
        }
        assert_memory_equal(&got, &o[2], 4);
        quant_dequantize_row(vt, xq, xf, n); /* restore xf */
        free(x4);
      }
      if (fabs(got - ref) > 1e-5 * mag + 1e-6) {
        printf("# %s %s n=%d: got %.9g want %.9g (mag %g)\n", tr->name,
               names[v], n, got, ref, mag);
        fail();
      }
    }
  }
  free(w), free(xq), free(wf), free(x), free(xf);
}

static void
test_dot_all_variants(void **state)
{
  static const int types[] = { QUANT_F32, QUANT_F16, QUANT_BF16, QUANT_Q8_0,
                               QUANT_Q4_0, QUANT_Q4_1, QUANT_Q5_0, QUANT_Q4_K,
                               QUANT_Q5_K, QUANT_Q6_K };
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    int t = types[i];
    if (quant_traits(t)->block == 1) {
      check_dot_type(t, 172); /* odd tail, like stories260K's ffn_down */
      check_dot_type(t, 7);
    }
    if (quant_traits(t)->block == 32)
      check_dot_type(t, 32 * 3);
    check_dot_type(t, 768);
  }
  printf("# variants here: scalar%s%s%s%s%s\n", quant_ops_named("avx2") ? " avx2" : "",
         quant_ops_named("avx512") ? " avx512" : "", quant_ops_named("neon") ? " neon" : "",
         quant_ops_named("neon-dotprod") ? " neon-dotprod" : "",
         quant_ops_named("neon-i8mm") ? " neon-i8mm" : "");
}

/* Every variant's activation quantization gives the scalar bytes. */
static void
test_quantize_variants(void **state)
{
  static const int vts[] = { QUANT_F32, QUANT_F16, QUANT_BF16, QUANT_Q8_0, QUANT_Q8_1, QUANT_Q8_K };
  const char *names[] = { "avx2", "avx512", "neon", "neon-dotprod", "neon-i8mm" };
  int n = 512;
  float *x = malloc((size_t)n * 4);
  uint8_t *a = malloc(2048), *b = malloc(2048);
  for (int rep = 0; rep < 50; rep++) {
    for (int j = 0; j < n; j++)
      x[j] = frand() * (float)(rep + 1);
    if (rep % 5 == 0) /* ties: halves after scaling, and zero blocks */
      for (int j = 0; j < n; j++)
        x[j] = j < 256 ? 0.f : (float)((j % 17) - 8) * 0.5f;
    x[rep % n] = rep % 2 ? -40.f : 40.f;
    for (size_t k = 0; k < sizeof vts / sizeof *vts; k++) {
      size_t bytes = quant_row_size(vts[k], n);
      quant_ops_scalar.quantize[vts[k]](x, a, n);
      for (int v = 0; v < 5; v++) {
        const struct quant_ops *ops = quant_ops_named(names[v]);
        if (!ops)
          continue;
        memset(b, 0xa5, bytes);
        ops->quantize[vts[k]](x, b, n);
        assert_memory_equal(a, b, bytes);
      }
    }
  }
  free(x), free(a), free(b);
}

/* The attention kernels (infer/attn.h) of every variant that has them,
 * F16 and F32 caches: qk and pv against a double-precision sum of the
 * same values, and each query's results the same bits alone as in a
 * block of 13 queries with other lengths. */
static void
test_attention(void **state)
{
  (void)state;
  const struct quant_ops *variants[] = { &quant_ops_scalar,
#if defined(__x86_64__)
                                         quant_ops_named("avx512"),
#endif
  };
  enum { HD = 40, CTX = 83, NQ = 13 };
  for (size_t vi = 0; vi < sizeof variants / sizeof *variants; vi++)
    for (int kv = 0; kv < 2; kv++) {
      int type = kv ? QUANT_F32 : QUANT_F16, es = kv ? 4 : 2;
      const struct attn_kernels *k = variants[vi] ? attn_kernels_for(variants[vi], type) : NULL;
      if (!k)
        continue;
      uint8_t *K = malloc((size_t)HD * CTX * es), *V = malloc((size_t)HD * CTX * es);
      uint8_t *P = malloc((size_t)NQ * CTX * es);
      float *Kf = malloc(sizeof(float) * HD * CTX), *Vf = malloc(sizeof(float) * HD * CTX);
      float *Pf = malloc(sizeof(float) * NQ * CTX), q[NQ * HD], tmp[CTX];
      float *s = malloc(sizeof(float) * NQ * CTX), *one = malloc(sizeof(float) * CTX);
      float o[NQ * HD], o1[HD];
      int n[NQ];
      for (int i = 0; i < HD * CTX; i++)
        Kf[i] = frand(), Vf[i] = frand();
      for (int d = 0; d < HD; d++) { /* rounded to the cache type */
        assert_int_equal(quant_quantize_row(type, Kf + d * CTX, K + (size_t)d * CTX * es, CTX), 0);
        assert_int_equal(quant_quantize_row(type, Vf + d * CTX, V + (size_t)d * CTX * es, CTX), 0);
        quant_dequantize_row(type, K + (size_t)d * CTX * es, Kf + d * CTX, CTX);
        quant_dequantize_row(type, V + (size_t)d * CTX * es, Vf + d * CTX, CTX);
      }
      for (int i = 0; i < NQ; i++) {
        n[i] = 1 + (int)(rnd() % CTX);
        for (int d = 0; d < HD; d++)
          q[i * HD + d] = frand();
        for (int t = 0; t < CTX; t++)
          tmp[t] = t < n[i] ? (frand() + 1.f) / 40.f : 0.f;
        assert_int_equal(quant_quantize_row(type, tmp, P + (size_t)i * CTX * es, CTX), 0);
        quant_dequantize_row(type, P + (size_t)i * CTX * es, Pf + i * CTX, CTX);
      }
      n[3] = CTX; /* a full row and a single key */
      n[5] = 1;
      k->qk(CTX, HD, K, CTX, q, NQ, s, CTX);
      k->pv(n, HD, V, CTX, Pf, CTX, NQ, o, HD);
      for (int i = 0; i < NQ; i++) {
        for (int t = 0; t < CTX; t++) {
          double ref = 0, mag = 0;
          for (int d = 0; d < HD; d++)
            ref += (double)q[i * HD + d] * Kf[d * CTX + t], mag += fabs(q[i * HD + d] * Kf[d * CTX + t]);
          if (!(fabs(s[i * CTX + t] - ref) <= 1e-6 * (1 + mag)))
            fail_msg("%s qk kv %d query %d key %d: %g vs %g", variants[vi]->name, type, i, t,
                     s[i * CTX + t], ref);
        }
        for (int d = 0; d < HD; d++) {
          double ref = 0, mag = 0;
          for (int t = 0; t < n[i]; t++)
            ref += (double)Pf[i * CTX + t] * Vf[d * CTX + t], mag += fabs(Pf[i * CTX + t] * Vf[d * CTX + t]);
          if (!(fabs(o[i * HD + d] - ref) <= 1e-6 * (1 + mag)))
            fail_msg("%s pv kv %d query %d channel %d: %g vs %g", variants[vi]->name, type, i, d,
                     o[i * HD + d], ref);
        }
        /* alone: the same bits (qk over this query's own keys only) */
        k->qk(n[i], HD, K, CTX, q + i * HD, 1, one, CTX);
        assert_memory_equal(one, s + i * CTX, sizeof(float) * n[i]);
        k->pv(n + i, HD, V, CTX, Pf + i * CTX, CTX, 1, o1, HD);
        assert_memory_equal(o1, o + i * HD, sizeof o1);
      }
      /* softmax: against a double-precision one, within the rounding */
      for (int len = 1; len <= CTX; len += 41) {
        float sc[CTX], ref[CTX], got[CTX];
        double mx = -1e30, sum = 0;
        for (int t = 0; t < len; t++)
          sc[t] = frand() * 30.f, mx = sc[t] * 0.125 > mx ? sc[t] * 0.125 : mx;
        for (int t = 0; t < len; t++)
          sum += exp(sc[t] * 0.125 - mx);
        for (int t = 0; t < len; t++)
          ref[t] = (float)(exp(sc[t] * 0.125 - mx) / sum);
        memcpy(got, sc, sizeof got);
        k->softmax(got, len, 0.125f);
        for (int t = 0; t < len; t++)
          if (!(fabsf(got[t] - ref[t]) <= (kv ? 1e-6f : 1e-3f) * ref[t] + 1e-7f) ||
              (!kv && got[t] != quant_f16_to_f32(quant_f32_to_f16(got[t])))) /* F16 values */
            fail_msg("%s softmax kv %d len %d t %d: %g vs %g", variants[vi]->name, type, len, t,
                     got[t], ref[t]);
      }
      free(K), free(V), free(P), free(Kf), free(Vf), free(Pf), free(s), free(one);
    }
}

/* SwiGLU of every variant against double precision, odd lengths. */
static void
test_swiglu(void **state)
{
  (void)state;
  const struct quant_ops *variants[] = { &quant_ops_scalar,
#if defined(__x86_64__)
                                         quant_ops_named("avx512"),
#endif
  };
  enum { N = 301 };
  float g[N], u[N], y[N];
  for (int i = 0; i < N; i++)
    g[i] = frand() * 12.f, u[i] = frand();
  g[0] = -100.f, g[1] = 100.f, g[2] = 0.f;
  for (size_t vi = 0; vi < sizeof variants / sizeof *variants; vi++) {
    if (!variants[vi])
      continue;
    for (int len = 1; len <= N; len += 100) {
      memcpy(y, g, sizeof y);
      act_swiglu_for(variants[vi])(y, u, (size_t)len);
      for (int i = 0; i < len; i++) {
        double ref = g[i] / (1 + exp(-(double)g[i])) * u[i];
        if (!(fabs(y[i] - ref) <= 1e-6 * fabs(ref) + 1e-30))
          fail_msg("%s swiglu %d: %g vs %g", variants[vi]->name, i, y[i], ref);
      }
      for (int i = len; i < N; i++)
        assert_true(y[i] == g[i]); /* nothing past the end */
    }
  }
}

/* The packed Q8_0 / Q4_0 / Q4_K / Q6_K layouts (infer/pack.h): the scalar reference
 * kernel against the plain dot of the unpacked rows, and every SIMD packed
 * kernel against the scalar reference, for each tile shape (1..7 tokens,
 * odd and even group counts and block counts); the batch split gives
 * the same bits, and so do the AVX2 and AVX-512 kernels of a type. */
static void
test_packed(void **state)
{
  (void)state;
  static const int types[] = { QUANT_Q8_0, QUANT_Q4_0, QUANT_Q4_K, QUANT_Q6_K };
  static const int widths[4][3] = { { 32, 96, 256 }, { 32, 96, 256 }, { 256, 512, 768 },
                                     { 256, 512, 768 } };
  for (int ti = 0; ti < 4; ti++)
    for (int wi = 0; wi < 3; wi++) {
      int t = types[ti], n = widths[ti][wi], rows = 48, nx = 7;
      int vt = quant_traits(t)->vec_type;
      size_t rb = quant_row_size(t, n), xb = quant_row_size(vt, n);
      size_t xis = (size_t)(n / 32) * sizeof(struct pack_xinfo);
      float *wf = malloc(sizeof(float) * rows * n), *xf = malloc(sizeof(float) * nx * n);
      uint8_t *w = malloc(rb * rows), *x = malloc(xb * nx), *pw = malloc(pack_size(t, rows, n));
      uint8_t *xi = malloc(xis * nx);
      float ref[7 * 48], got[7 * 48], one[48];
      for (int i = 0; i < rows * n; i++)
        wf[i] = frand();
      for (int i = 0; i < nx * n; i++)
        xf[i] = frand() * 3.f;
      if (t == QUANT_Q4_K) { /* random quants and scales, small d and dmin */
        for (size_t i = 0; i < rb * rows; i++)
          w[i] = (uint8_t)rnd();
        for (int i = 0; i < rows * n / 256; i++) {
          struct quant_q4_k *k = (struct quant_q4_k *)w + i;
          k->d = quant_f32_to_f16(frand() * 0.01f);
          k->dmin = quant_f32_to_f16(frand() * 0.01f);
        }
      } else if (t == QUANT_Q6_K) { /* random quants and signed scales, small d */
        for (size_t i = 0; i < rb * rows; i++)
          w[i] = (uint8_t)rnd();
        for (int i = 0; i < rows * n / 256; i++) {
          struct quant_q6_k *k = (struct quant_q6_k *)w + i;
          k->d = quant_f32_to_f16(frand() * 0.01f);
        }
      } else {
        for (int r = 0; r < rows; r++)
          assert_int_equal(quant_quantize_weights(t, wf + r * n, w + r * rb, n), 0);
      }
      for (int c = 0; c < nx; c++) {
        assert_int_equal(quant_quantize_row(vt, xf + c * n, x + c * xb, n), 0);
        if (vt == QUANT_Q8_0)
          pack_xinfo_row(x + c * xb, n, (struct pack_xinfo *)(xi + c * xis));
        else
          pack_kinfo_row(x + c * xb, n, (struct pack_kinfo *)(xi + c * xis));
      }
      assert_true(pack_supported(t, rows, n));
      assert_false(pack_supported(t, rows + 8, n));
      if (t != QUANT_Q4_K)
        assert_int_equal(pack_size(t, rows, n), rb * rows);
      memset(pw, 0xa5, pack_size(t, rows, n)); /* every byte must be written */
      pack_rows(t, w, rb, n, 0, rows / PACK_ROWS, pw);
      pack_gemm_fn scalar = t == QUANT_Q8_0 ? pack_gemm_q8_0_scalar
                          : t == QUANT_Q4_0 ? pack_gemm_q4_0_scalar
                          : t == QUANT_Q4_K ? pack_gemm_q4_k_scalar : pack_gemm_q6_k_scalar;
      scalar(n, pw, 0, rows / PACK_ROWS, x, xb, xi, xis, nx, ref, rows);
      for (int c = 0; c < nx; c++)
        for (int r = 0; r < rows; r++) {
          float d = quant_ops_scalar.dot[t](n, w + r * rb, x + c * xb);
          if (!(fabsf(ref[c * rows + r] - d) <= 1e-4f * (1.f + fabsf(d))))
            fail_msg("scalar packed type %d n %d token %d row %d: %g vs dot %g", t, n, c, r,
                     ref[c * rows + r], d);
        }
      const char *names[] = { "avx2", "avx512" };
      float first[7 * 48];
      int nsimd = 0;
      for (int v = 0; v < 2; v++) {
        const struct quant_ops *ops = quant_ops_named(names[v]);
        pack_gemm_fn simd = ops ? pack_gemm_for(ops, t) : NULL;
        if (!simd)
          continue;
        for (int k = 1; k <= nx; k++) { /* k tokens; groups 1 and 2 on */
          memset(got, 0, sizeof got);
          simd(n, pw, 0, 1, x, xb, xi, xis, k, got, rows);
          simd(n, pw, 1, rows / PACK_ROWS - 1, x, xb, xi, xis, k, got + PACK_ROWS, rows);
          for (int c = 0; c < k; c++)
            for (int r = 0; r < rows; r++) {
              float a = got[c * rows + r], e = ref[c * rows + r];
              if (!(fabsf(a - e) <= 1e-5f * (1.f + fabsf(e))))
                fail_msg("%s type %d n %d token %d row %d: %g vs %g", names[v], t, n, c, r, a, e);
            }
          /* one token alone gives the bits of that token in a batch */
          simd(n, pw, 0, rows / PACK_ROWS, x + (k - 1) * xb, xb, xi + (k - 1) * xis, xis, 1,
               one, rows);
          assert_memory_equal(one, got + (k - 1) * rows, sizeof one);
        }
        /* the x86 variants do the same integer and float steps: same bits */
        if (nsimd++)
          assert_memory_equal(first, got, sizeof(float) * nx * rows);
        memcpy(first, got, sizeof first);
      }
      free(wf), free(xf), free(w), free(x), free(pw), free(xi);
    }
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_f16_roundtrip_all),
    cmocka_unit_test(test_f16_rounding),
    cmocka_unit_test(test_bf16),
    cmocka_unit_test(test_traits),
    cmocka_unit_test(test_dequant_q8_0_q4_0),
    cmocka_unit_test(test_dequant_k),
    cmocka_unit_test(test_quantize_q8_0),
    cmocka_unit_test(test_quantize_q8_k),
    cmocka_unit_test(test_quantize_weights),
    cmocka_unit_test(test_dot_all_variants),
    cmocka_unit_test(test_quantize_variants),
    cmocka_unit_test(test_packed),
    cmocka_unit_test(test_attention),
    cmocka_unit_test(test_swiglu),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
