/*
 * infer_kernels.c: dot-kernel throughput per type and variant (make bench).
 *
 * For each weight type: a 32000 x 256 matrix against one activation row
 * (the output layer at batch 1, memory-bound) and a 768 x 256 matrix
 * against 32 rows (a prompt batch, compute-bound). Prints the best of a
 * few repetitions in thread CPU time (the machine is shared: the minimum
 * of CPU time is the figure least disturbed by other load) in ns per
 * row-dot and GB/s of weights.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mneme/quant.h"
#include "../infer/pack.h"

static double
now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: robust to a loaded machine */
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
fill(uint8_t *p, size_t n, int type, size_t row, int n_in)
{
  uint32_t r = 1;
  for (size_t i = 0; i < n; i++) {
    r = r * 1664525u + 1013904223u;
    p[i] = (uint8_t)(r >> 24);
  }
  /* keep fp16 scales finite: rewrite each block's first half as 0x2000 */
  const struct quant_traits *t = quant_traits(type);
  if (t->block == 1)
    return;
  for (size_t off = 0; off + t->bytes <= n; off += t->bytes) {
    uint16_t h = 0x2000;
    size_t at = type == QUANT_Q6_K ? off + 208 : off;
    memcpy(p + at, &h, 2);
    if (type == QUANT_Q4_K || type == QUANT_Q5_K || type == QUANT_Q4_1)
      memcpy(p + off + 2, &h, 2);
  }
  (void)row, (void)n_in;
}

static double
run(const struct quant_ops *ops, int type, const uint8_t *w, size_t rb, int rows,
    const uint8_t *x, size_t xb, int nx, int n)
{
  double best = 1e9;
  volatile float sink = 0;
  for (int rep = 0; rep < 9; rep++) {
    double t0 = now();
    if (nx == 1 && ops->dotr[type]) {
      static float o[32000];
      ops->dotr[type](n, w, rb, rows, x, o);
      sink += o[rows - 1];
    } else
    for (int r = 0; r < rows; r++) {
      int b = 0;
      float o[4];
      if (ops->dot4[type])
        for (; b + 4 <= nx; b += 4) {
          ops->dot4[type](n, w + (size_t)r * rb, x + (size_t)b * xb, xb, o);
          sink += o[0];
        }
      for (; b < nx; b++)
        sink += ops->dot[type](n, w + (size_t)r * rb, x + (size_t)b * xb);
    }
    double dt = now() - t0;
    best = dt < best ? dt : best;
  }
  (void)sink;
  return best;
}

int
main(void)
{
  static const int types[] = { QUANT_F32, QUANT_F16, QUANT_Q8_0, QUANT_Q4_0,
                               QUANT_Q4_K, QUANT_Q6_K, QUANT_Q5_K, QUANT_Q4_1,
                               QUANT_Q5_0 };
  const char *variants[] = { "scalar", "avx2", "avx512" };
  const int n = 256;
  float xf[256 * 32];
  for (int i = 0; i < 256 * 32; i++)
    xf[i] = (float)((i * 37) % 101) / 50.f - 1.f;
  for (size_t k = 0; k < sizeof types / sizeof *types; k++) {
    int t = types[k], vt = quant_traits(t)->vec_type;
    size_t rb = quant_row_size(t, n), xb = quant_row_size(vt, n);
    uint8_t *w = malloc(rb * 32000), *x = malloc(xb * 32);
    fill(w, rb * 32000, t, rb, n);
    for (int b = 0; b < 32; b++)
      quant_quantize_row(vt, xf + b * 256, x + b * xb, n);
    for (int v = 0; v < 3; v++) {
      const struct quant_ops *ops = quant_ops_named(variants[v]);
      if (!ops)
        continue;
      double tg = run(ops, t, w, rb, 32000, x, xb, 1, n);
      double pp = run(ops, t, w, rb, 768, x, xb, 32, n);
      printf("kernel %-5s %-6s  batch1 %6.2f ns/row %6.1f GB/s   batch32 %6.2f ns/dot\n",
             quant_traits(t)->name, variants[v], tg / 32000 * 1e9,
             rb * 32000 / tg / 1e9, pp / (768 * 32) * 1e9);
    }
    /* the packed layout (infer/pack.h) of the types that have one */
    for (int v = 0; v < 3; v++) {
      const struct quant_ops *ops = quant_ops_named(variants[v]);
      pack_gemm_fn gemm = ops ? pack_gemm_for(ops, t) : NULL;
      if (!gemm || !pack_supported(t, 32000, n))
        continue;
      uint8_t *pw = malloc(pack_size(t, 32000, n));
      struct pack_xinfo xi[32 * 8];
      static float o[32000 * 2];
      pack_rows(t, w, rb, n, 0, 32000 / PACK_ROWS, pw);
      for (int b = 0; b < 32; b++)
        if (vt == QUANT_Q8_0)
          pack_xinfo_row(x + b * xb, n, xi + b * (n / 32));
        else
          pack_kinfo_row(x + b * xb, n, (struct pack_kinfo *)(xi + b * (n / 32)));
      double best1 = 1e9, best32 = 1e9;
      for (int rep = 0; rep < 9; rep++) {
        double t0 = now();
        gemm(n, pw, 0, 32000 / PACK_ROWS, x, xb, xi, sizeof *xi * (n / 32), 1, o, 32000);
        double t1 = now();
        gemm(n, pw, 0, 768 / PACK_ROWS, x, xb, xi, sizeof *xi * (n / 32), 32, o, 768);
        double t2 = now();
        best1 = t1 - t0 < best1 ? t1 - t0 : best1;
        best32 = t2 - t1 < best32 ? t2 - t1 : best32;
      }
      printf("kernel %-5s %-6s  batch1 %6.2f ns/row %6.1f GB/s   batch32 %6.2f ns/dot (packed)\n",
             quant_traits(t)->name, variants[v], best1 / 32000 * 1e9,
             rb * 32000 / best1 / 1e9, best32 / (768 * 32) * 1e9);
      free(pw);
    }
    free(w), free(x);
  }
  return 0;
}
