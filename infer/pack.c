/*
 * pack.c: repacking Q8_0 / Q4_0 matrices into the row-interleaved layout
 * of pack.h, the activation info, and the plain-C reference kernels of
 * that layout.
 *
 * Interface: pack_supported, pack_size, pack_rows, pack_matrix, pack_xinfo_row,
 * pack_kinfo_row, pack_gemm_q8_0_scalar, pack_gemm_q4_0_scalar,
 * pack_gemm_q4_k_scalar, pack_gemm_q6_k_scalar, pack_gemm_for.
 */
#include "pack.h"

#include <stdatomic.h>

#include "libc.h"
#include "quant_impl.h"

/* quant bytes of one 16-row block; 0 for an unpackable type */
static size_t
qbytes(int type)
{
  return type == QUANT_Q8_0 ? 512 : type == QUANT_Q4_0 ? 256 : type == QUANT_Q4_K ? 2048
       : type == QUANT_Q6_K ? 3072 : 0;
}

/* elements of a block, bytes of a block's scales etc. (16 rows) */
static int
belems(int type)
{
  return type == QUANT_Q4_K || type == QUANT_Q6_K ? 256 : 32;
}

static size_t
mbytes(int type)
{
  return type == QUANT_Q4_K ? 320 : type == QUANT_Q6_K ? 288 : 2 * PACK_ROWS;
}

int
pack_supported(int type, int n_out, int n_in)
{
  return qbytes(type) && n_out > 0 && n_out % PACK_ROWS == 0 && n_in > 0 &&
         n_in % belems(type) == 0;
}

static size_t
group_bytes(int type, int n_in)
{
  return (size_t)(n_in / belems(type)) * (qbytes(type) + mbytes(type));
}

static void
pack_q4_k(const uint8_t *w, size_t row_bytes, int n_in, int g0, int g1, uint8_t *dst)
{
  int nb = n_in / 256;
  size_t gb = group_bytes(QUANT_Q4_K, n_in);
  for (int g = g0; g < g1; g++) {
    uint8_t *q = dst + (size_t)g * gb, *meta = q + (size_t)nb * 2048;
    for (int r = 0; r < PACK_ROWS; r++) {
      const struct quant_q4_k *row =
        (const struct quant_q4_k *)(w + (size_t)(g * PACK_ROWS + r) * row_bytes);
      for (int b = 0; b < nb; b++) {
        const struct quant_q4_k *blk = &row[b];
        uint8_t *o = q + (size_t)b * 2048 + 4 * r, *m = meta + (size_t)b * 320;
        for (int i = 0; i < 32; i++) /* i = 8 p + j */
          memcpy(o + i * 64, blk->qs + 4 * i, 4);
        for (int sb = 0; sb < 8; sb++) {
          uint8_t sc, mn;
          quant_k_scale_min(sb, blk->scales, &sc, &mn);
          m[sb * 16 + r] = sc;
          m[128 + ((sb / 2) * 16 + r) * 2 + sb % 2] = mn;
        }
        memcpy(m + 256 + 2 * r, &blk->d, 2);
        memcpy(m + 288 + 2 * r, &blk->dmin, 2);
      }
    }
  }
}

/* The unsigned 6-bit quants (value + 32) of a Q6_K block, in element
 * order. */
static void
q6_unpack(const struct quant_q6_k *b, uint8_t u[256])
{
  for (int h = 0; h < 2; h++)
    for (int k = 0; k < 32; k++) {
      int l0 = b->ql[64 * h + k], l1 = b->ql[64 * h + 32 + k], q = b->qh[32 * h + k];
      u[128 * h + k] = (uint8_t)((l0 & 15) | (q & 3) << 4);
      u[128 * h + 32 + k] = (uint8_t)((l1 & 15) | ((q >> 2) & 3) << 4);
      u[128 * h + 64 + k] = (uint8_t)((l0 >> 4) | ((q >> 4) & 3) << 4);
      u[128 * h + 96 + k] = (uint8_t)((l1 >> 4) | ((q >> 6) & 3) << 4);
    }
}

static void
pack_q6_k(const uint8_t *w, size_t row_bytes, int n_in, int g0, int g1, uint8_t *dst)
{
  int nb = n_in / 256;
  size_t gb = group_bytes(QUANT_Q6_K, n_in);
  for (int g = g0; g < g1; g++) {
    uint8_t *q = dst + (size_t)g * gb, *meta = q + (size_t)nb * 3072;
    for (int r = 0; r < PACK_ROWS; r++) {
      const struct quant_q6_k *row =
        (const struct quant_q6_k *)(w + (size_t)(g * PACK_ROWS + r) * row_bytes);
      for (int b = 0; b < nb; b++) {
        const struct quant_q6_k *blk = &row[b];
        uint8_t u[256];
        q6_unpack(blk, u);
        uint8_t *lo = q + (size_t)b * 3072 + 4 * r, *hi = lo + 2048, *m = meta + (size_t)b * 288;
        for (int J = 0; J < 32; J++)
          for (int k = 0; k < 4; k++)
            lo[J * 64 + k] = (uint8_t)((u[4 * J + k] & 15) | (u[4 * (J + 32) + k] & 15) << 4);
        for (int J = 0; J < 16; J++)
          for (int k = 0; k < 4; k++)
            hi[J * 64 + k] = (uint8_t)(u[4 * J + k] >> 4 | (u[4 * (J + 16) + k] >> 4) << 2 |
                                       (u[4 * (J + 32) + k] >> 4) << 4 |
                                       (u[4 * (J + 48) + k] >> 4) << 6);
        for (int s = 0; s < 16; s++)
          m[s * 16 + r] = (uint8_t)blk->scales[s];
        memcpy(m + 256 + 2 * r, &blk->d, 2);
      }
    }
  }
}

size_t
pack_size(int type, int n_out, int n_in)
{
  return (size_t)(n_out / PACK_ROWS) * group_bytes(type, n_in);
}

void
pack_rows(int type, const uint8_t *w, size_t row_bytes, int n_in, int g0, int g1,
          uint8_t *dst)
{
  if (type == QUANT_Q4_K) {
    pack_q4_k(w, row_bytes, n_in, g0, g1, dst);
    return;
  }
  if (type == QUANT_Q6_K) {
    pack_q6_k(w, row_bytes, n_in, g0, g1, dst);
    return;
  }
  int nb = n_in / 32;
  size_t qb = qbytes(type), gb = group_bytes(type, n_in);
  size_t bb = type == QUANT_Q8_0 ? sizeof(struct quant_q8_0) : sizeof(struct quant_q4_0);
  for (int g = g0; g < g1; g++) {
    uint8_t *q = dst + (size_t)g * gb, *sc = q + (size_t)nb * qb;
    for (int r = 0; r < PACK_ROWS; r++) {
      const uint8_t *row = w + (size_t)(g * PACK_ROWS + r) * row_bytes;
      for (int b = 0; b < nb; b++) {
        const uint8_t *blk = row + (size_t)b * bb; /* d (2 bytes), then qs */
        memcpy(sc + (size_t)b * 32 + 2 * r, blk, 2);
        uint8_t *o = q + (size_t)b * qb + 4 * r;
        int nj = type == QUANT_Q8_0 ? 8 : 4;
        uint32_t flip = type == QUANT_Q8_0 ? 0x80808080u : 0;
        for (int j = 0; j < nj; j++) {
          uint32_t v;
          memcpy(&v, blk + 2 + 4 * j, 4);
          v ^= flip;
          memcpy(o + j * 64, &v, 4);
        }
      }
    }
  }
}

struct pack_task {
  int type, n_in, ngroups;
  const uint8_t *w;
  size_t row_bytes;
  uint8_t *dst;
  _Atomic int next;
};

/* groups per grab: small enough to balance two threads, large enough that
 * the counter is not contended */
#define PACK_CHUNK 8

static void
pack_worker(void *arg, int ith, int nth)
{
  struct pack_task *t = arg;
  int g;
  (void)ith, (void)nth;
  while ((g = atomic_fetch_add_explicit(&t->next, PACK_CHUNK, memory_order_relaxed)) <
         t->ngroups)
    pack_rows(t->type, t->w, t->row_bytes, t->n_in, g,
              g + PACK_CHUNK < t->ngroups ? g + PACK_CHUNK : t->ngroups, t->dst);
}

void
pack_matrix(const struct par_ops *par, int type, const uint8_t *w, size_t row_bytes, int n_in,
            int g0, int g1, uint8_t *dst)
{
  struct pack_task t = { type, n_in, g1, w, row_bytes, dst, g0 };
  if (par->nthreads > 1 && g1 - g0 > PACK_CHUNK)
    par->run(par->impl, pack_worker, &t);
  else
    pack_rows(type, w, row_bytes, n_in, g0, g1, dst);
}

void
pack_xinfo_row(const void *xq, int n, struct pack_xinfo *xi)
{
  const struct quant_q8_0 *x = xq;
  for (int b = 0; b < n / 32; b++) {
    int s = 0;
    for (int i = 0; i < 32; i++)
      s += x[b].qs[i];
    xi[b].d = quant_f16_to_f32(x[b].d);
    xi[b].c8 = -8 * s;
    xi[b].c128 = -128 * s;
    xi[b].pad = 0;
  }
}

void
pack_kinfo_row(const void *xq, int n, struct pack_kinfo *xi)
{
  const struct quant_q8_k *x = xq;
  for (int b = 0; b < n / 256; b++) {
    xi[b].d = x[b].d;
    for (int s = 0; s < 8; s++)
      xi[b].xs[s] = (int16_t)(x[b].bsums[2 * s] + x[b].bsums[2 * s + 1]);
    xi[b].pad[0] = xi[b].pad[1] = xi[b].pad[2] = 0;
    for (int s = 0; s < 16; s++)
      xi[b].c32[s] = -32 * x[b].bsums[s];
  }
}

/* Row r of packed Q4_K group g against one Q8_K row. */
static float
ref_dot_q4_k(int n, const uint8_t *w, int g, int r, const struct quant_q8_k *x,
             const struct pack_kinfo *xi)
{
  int nb = n / 256;
  const uint8_t *q = w + (size_t)g * group_bytes(QUANT_Q4_K, n), *meta = q + (size_t)nb * 2048;
  float acc = 0;
  for (int b = 0; b < nb; b++) {
    const uint8_t *o = q + (size_t)b * 2048 + 4 * r, *m = meta + (size_t)b * 320;
    int32_t isum = 0, msum = 0;
    for (int sb = 0; sb < 8; sb++) {
      int p = sb / 2, hi = sb % 2, s = 0;
      for (int j = 0; j < 8; j++)
        for (int k = 0; k < 4; k++) {
          int u = o[(p * 8 + j) * 64 + k];
          s += (hi ? u >> 4 : u & 15) * x[b].qs[64 * p + 32 * hi + 4 * j + k];
        }
      isum += m[sb * 16 + r] * s;
      msum += m[128 + ((sb / 2) * 16 + r) * 2 + sb % 2] * xi[b].xs[sb];
    }
    uint16_t d, dmin;
    memcpy(&d, m + 256 + 2 * r, 2);
    memcpy(&dmin, m + 288 + 2 * r, 2);
    acc += xi[b].d * ((float)isum * quant_f16_to_f32(d) - (float)msum * quant_f16_to_f32(dmin));
  }
  return acc;
}

void
pack_gemm_q4_k_scalar(int n, const uint8_t *w, int g0, int ng, const uint8_t *x, size_t xs,
                      const void *xi, size_t xis, int nx, float *out, size_t out_stride)
{
  for (int c = 0; c < nx; c++)
    for (int g = g0; g < g0 + ng; g++)
      for (int r = 0; r < PACK_ROWS; r++)
        out[c * out_stride + (size_t)(g - g0) * PACK_ROWS + r] =
          ref_dot_q4_k(n, w, g, r, (const struct quant_q8_k *)(x + c * xs),
                       (const struct pack_kinfo *)((const uint8_t *)xi + c * xis));
}

/* Row r of packed Q6_K group g against one Q8_K row. */
static float
ref_dot_q6_k(int n, const uint8_t *w, int g, int r, const struct quant_q8_k *x,
             const struct pack_kinfo *xi)
{
  int nb = n / 256;
  const uint8_t *q = w + (size_t)g * group_bytes(QUANT_Q6_K, n), *meta = q + (size_t)nb * 3072;
  float acc = 0;
  for (int b = 0; b < nb; b++) {
    const uint8_t *lo = q + (size_t)b * 3072 + 4 * r, *hi = lo + 2048, *m = meta + (size_t)b * 288;
    int32_t isum = 0;
    for (int sb = 0; sb < 16; sb++) {
      int32_t s = xi[b].c32[sb];
      for (int e = 16 * sb; e < 16 * sb + 16; e++) {
        int J = e / 4, k = e % 4;
        int u = (lo[(J % 32) * 64 + k] >> (4 * (J / 32))) & 15;
        u |= ((hi[(J % 16) * 64 + k] >> (2 * (J / 16))) & 3) << 4;
        s += u * x[b].qs[e];
      }
      isum += (int8_t)m[sb * 16 + r] * s;
    }
    uint16_t d;
    memcpy(&d, m + 256 + 2 * r, 2);
    acc += xi[b].d * ((float)isum * quant_f16_to_f32(d));
  }
  return acc;
}

void
pack_gemm_q6_k_scalar(int n, const uint8_t *w, int g0, int ng, const uint8_t *x, size_t xs,
                      const void *xi, size_t xis, int nx, float *out, size_t out_stride)
{
  for (int c = 0; c < nx; c++)
    for (int g = g0; g < g0 + ng; g++)
      for (int r = 0; r < PACK_ROWS; r++)
        out[c * out_stride + (size_t)(g - g0) * PACK_ROWS + r] =
          ref_dot_q6_k(n, w, g, r, (const struct quant_q8_k *)(x + c * xs),
                       (const struct pack_kinfo *)((const uint8_t *)xi + c * xis));
}

/* One row r of group g against activation c: the layout read element by
 * element. */
static float
ref_dot(int type, int n, const uint8_t *w, int g, int r, const struct quant_q8_0 *x,
        const struct pack_xinfo *xi)
{
  int nb = n / 32;
  size_t qb = qbytes(type);
  const uint8_t *q = w + (size_t)g * group_bytes(type, n), *sc = q + (size_t)nb * qb;
  float acc = 0;
  for (int b = 0; b < nb; b++) {
    const uint8_t *o = q + (size_t)b * qb + 4 * r;
    int32_t s = type == QUANT_Q8_0 ? xi[b].c128 : xi[b].c8;
    for (int j = 0; j < (type == QUANT_Q8_0 ? 8 : 4); j++)
      for (int k = 0; k < 4; k++) {
        int u = o[j * 64 + k];
        if (type == QUANT_Q8_0)
          s += u * x[b].qs[4 * j + k];
        else
          s += (u & 15) * x[b].qs[4 * j + k] + (u >> 4) * x[b].qs[16 + 4 * j + k];
      }
    uint16_t h;
    memcpy(&h, sc + (size_t)b * 32 + 2 * r, 2);
    acc += (float)s * (quant_f16_to_f32(h) * xi[b].d);
  }
  return acc;
}

static void
ref_gemm(int type, int n, const uint8_t *w, int g0, int ng, const uint8_t *x, size_t xs,
         const void *xi, size_t xis, int nx, float *out, size_t out_stride)
{
  for (int c = 0; c < nx; c++)
    for (int g = g0; g < g0 + ng; g++)
      for (int r = 0; r < PACK_ROWS; r++)
        out[c * out_stride + (size_t)(g - g0) * PACK_ROWS + r] =
          ref_dot(type, n, w, g, r, (const struct quant_q8_0 *)(x + c * xs),
                  (const struct pack_xinfo *)((const uint8_t *)xi + c * xis));
}

void
pack_gemm_q8_0_scalar(int n, const uint8_t *w, int g0, int ng, const uint8_t *x, size_t xs,
                      const void *xi, size_t xis, int nx, float *out,
                      size_t out_stride)
{
  ref_gemm(QUANT_Q8_0, n, w, g0, ng, x, xs, xi, xis, nx, out, out_stride);
}

void
pack_gemm_q4_0_scalar(int n, const uint8_t *w, int g0, int ng, const uint8_t *x, size_t xs,
                      const void *xi, size_t xis, int nx, float *out,
                      size_t out_stride)
{
  ref_gemm(QUANT_Q4_0, n, w, g0, ng, x, xs, xi, xis, nx, out, out_stride);
}

pack_gemm_fn
pack_gemm_for(const struct quant_ops *ops, int type)
{
#if defined(__x86_64__)
  if (ops == &quant_ops_avx512)
    return type == QUANT_Q8_0 ? pack_gemm_q8_0_avx512
         : type == QUANT_Q4_0 ? pack_gemm_q4_0_avx512
         : type == QUANT_Q4_K ? pack_gemm_q4_k_avx512
         : type == QUANT_Q6_K ? pack_gemm_q6_k_avx512 : NULL;
  if (ops == &quant_ops_avx2)
    return type == QUANT_Q8_0 ? pack_gemm_q8_0_avx2
         : type == QUANT_Q4_0 ? pack_gemm_q4_0_avx2
         : type == QUANT_Q4_K ? pack_gemm_q4_k_avx2
         : type == QUANT_Q6_K ? pack_gemm_q6_k_avx2 : NULL;
#endif
  (void)ops;
  (void)type;
  return NULL;
}
