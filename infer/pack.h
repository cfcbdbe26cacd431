/*
 * pack.h: weights repacked at load into row-interleaved blocks, and the
 * matmul kernels that read them (internal to the inference library).
 *
 * A packed matrix is a sequence of groups of PACK_ROWS (16) consecutive
 * rows. For Q8_0 and Q4_0 a group holds, for each of the row's nb = n/32
 * blocks in order, the quants of the 16 rows' block b interleaved four
 * bytes at a time, then (after all nb blocks) the 16 fp16 scales of every
 * block:
 *
 *   Q8_0x16 quants, 512 bytes a block: byte [(j * 16 + r) * 4 + k] =
 *     qs[4j + k] of row r, plus 128 (as u8), j = 0..7, k = 0..3
 *   Q4_0x16 quants, 256 bytes a block: byte [(j * 16 + r) * 4 + k] =
 *     qs[4j + k] of row r (low nibble: element 4j + k, high nibble:
 *     element 16 + 4j + k, both 0..15 meaning value - 8), j = 0..3
 *   scales, 32 bytes a block: d of rows 0..15 (fp16)
 *
 * So 64 bytes of quants are one 512-bit register whose 32-bit lane r holds
 * four consecutive quants of row r: one vpdpbusd with four activation
 * bytes broadcast to every lane adds those four products to all sixteen
 * rows at once, and the lanes of the accumulator are the sixteen rows'
 * dot products: no horizontal sums, and one activation load serves 16
 * rows while one weight load serves every token of a batch. The quants
 * are unsigned (vpdpbusd multiplies u8 by i8), so the kernel starts each
 * block's integer sum at -offset * sum(x) (offset 128 for Q8_0, 8 for
 * Q4_0), which the activation info below holds. A packed matrix takes the
 * same bytes as the file's.
 *
 * The activation side is the ordinary Q8_0 row plus, per block, a
 * struct pack_xinfo: the block scale as float and the two corrections.
 *
 * Q4_Kx16 (256-element super-blocks, activations Q8_K): per super-block
 * 2048 bytes of quants, byte [((p * 8 + j) * 16 + r) * 4 + k] = qs[32 p +
 * 4 j + k] of row r (low nibble: element 64 p + 4 j + k of sub-block 2p,
 * high nibble: element 64 p + 32 + 4 j + k of sub-block 2p + 1); then,
 * after all super-blocks, 320 bytes of each: the 6-bit sub-block scales
 * unpacked, byte [s * 16 + r] = scale of sub-block s of row r (128); the
 * mins in pairs, byte [(i * 16 + r) * 2 + e] = min of sub-block 2i + e
 * of row r (128; widened to 16-bit pairs for vpmaddwd against the
 * activation's sub-block sums); d of the 16 rows (32) and dmin (32).
 * 2.8% more than the file's bytes. The activation info (struct
 * pack_kinfo) holds d and the eight 32-element sums of each super-block.
 * Per super-block and row: isum = sum_s scale_s * (q . x)_s, msum =
 * sum_s min_s * xsum_s, result += d_x * (float(isum) * d - float(msum) *
 * dmin).
 *
 * Q6_Kx16 (256-element super-blocks, activations Q8_K; the same bytes
 * as the file's): each element's 6-bit quant u = value + 32 (0..63) is
 * split into its low four bits and its high two. Element e = 4 J + k of
 * row r (J = 0..63 a step of four elements, k = 0..3):
 *   low bits, 2048 bytes: nibble J / 32 (0: low, 1: high) of byte
 *     [((J % 32) * 16 + r) * 4 + k];
 *   high bits, 1024 bytes from byte 2048: bits 2 (J / 16), 2 (J / 16) + 1
 *     of byte [((J % 16) * 16 + r) * 4 + k];
 * then, after all super-blocks, 288 bytes of each: the 16 signed scales
 * of its 16-element sub-blocks, byte [s * 16 + r] = scale s of row r
 * (256), and d of the 16 rows (32). One iteration i = 0..15 of the kernel
 * loads low-bit vectors i and i + 16 and high-bit vector i and builds the
 * four u vectors of steps i, i + 16, i + 32 and i + 48 (sub-blocks i / 4
 * + 4t, t = 0..3). The activation info (struct pack_kinfo) adds -32
 * times each 16-element sum (c32), the start of each sub-block's integer
 * sum, so sub = sum u * x - 32 sum x = sum (u - 32) x. Per super-block and
 * row: isum = sum_s scale_s * sub_s; result += d_x * (float(isum) * d).
 *
 * Each row's result is sum over blocks, in order, of
 * float(isum_b) * (d_w * d_x) (an FMA), the same whatever the batch, the
 * tile or the thread split, so generation and prompt batches give the same
 * bits. pack_gemm_scalar is the plain-C reference the SIMD kernels are
 * tested against (it rounds the FMA twice: equal up to float rounding).
 */
#ifndef MNEME_INFER_PACK_H
#define MNEME_INFER_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/par.h"
#include "mneme/quant.h"

#define PACK_ROWS 16

struct pack_xinfo {
  float d;      /* the activation block's scale */
  int32_t c8;   /* -8 * sum of its quants (Q4_0 weights) */
  int32_t c128; /* -128 * sum of its quants (Q8_0 weights) */
  int32_t pad;
};

struct pack_kinfo {
  float d;        /* the Q8_K super-block's scale */
  int16_t xs[8];  /* sums of its eight 32-element sub-blocks */
  int32_t pad[3];
  int32_t c32[16]; /* -32 * sums of its 16-element sub-blocks (Q6_K) */
};

/* 1 if matrices of this type and row count can be packed. */
int pack_supported(int type, int n_out, int n_in);

/* Bytes of the packed form of an n_out x n_in matrix (= the file's). */
size_t pack_size(int type, int n_out, int n_in);

/* Repacks rows [g0 * 16, g1 * 16) of w (row_bytes apart) into dst, which
 * is the packed matrix's start. */
void pack_rows(int type, const uint8_t *w, size_t row_bytes, int n_in, int g0, int g1,
               uint8_t *dst);

/* pack_rows of groups [g0, g1), shared out among par's threads (load
 * time). */
void pack_matrix(const struct par_ops *par, int type, const uint8_t *w, size_t row_bytes,
                 int n_in, int g0, int g1, uint8_t *dst);

/* The activation info of one Q8_0 row of n elements. */
void pack_xinfo_row(const void *xq, int n, struct pack_xinfo *xi);
/* ... and of one Q8_K row (n / 256 entries). */
void pack_kinfo_row(const void *xq, int n, struct pack_kinfo *xi);

/* out[c * out_stride + r] = packed row (16 g0 + r) . x(c) for c < nx and
 * the 16 * ng rows of groups [g0, g0 + ng); x(c) = x + c * xs (Q8_0 or
 * Q8_K), its info (struct pack_xinfo or pack_kinfo entries) at byte
 * offset c * xis from xi. */
typedef void (*pack_gemm_fn)(int n, const uint8_t *w, int g0, int ng, const uint8_t *x,
                             size_t xs, const void *xi, size_t xis, int nx,
                             float *out, size_t out_stride);

void pack_gemm_q8_0_scalar(int n, const uint8_t *w, int g0, int ng, const uint8_t *x,
                           size_t xs, const void *xi, size_t xis, int nx,
                           float *out, size_t out_stride);
void pack_gemm_q4_0_scalar(int n, const uint8_t *w, int g0, int ng, const uint8_t *x,
                           size_t xs, const void *xi, size_t xis, int nx,
                           float *out, size_t out_stride);
void pack_gemm_q4_k_scalar(int n, const uint8_t *w, int g0, int ng, const uint8_t *x,
                           size_t xs, const void *xi, size_t xis, int nx,
                           float *out, size_t out_stride);
void pack_gemm_q6_k_scalar(int n, const uint8_t *w, int g0, int ng, const uint8_t *x,
                           size_t xs, const void *xi, size_t xis, int nx,
                           float *out, size_t out_stride);
#if defined(__x86_64__)
void pack_gemm_q8_0_avx512(int n, const uint8_t *w, int g0, int ng, const uint8_t *x,
                           size_t xs, const void *xi, size_t xis, int nx,
                           float *out, size_t out_stride);
void pack_gemm_q4_0_avx512(int n, const uint8_t *w, int g0, int ng, const uint8_t *x,
                           size_t xs, const void *xi, size_t xis, int nx,
                           float *out, size_t out_stride);
void pack_gemm_q4_k_avx512(int n, const uint8_t *w, int g0, int ng, const uint8_t *x,
                           size_t xs, const void *xi, size_t xis, int nx,
                           float *out, size_t out_stride);
void pack_gemm_q6_k_avx512(int n, const uint8_t *w, int g0, int ng, const uint8_t *x,
                           size_t xs, const void *xi, size_t xis, int nx,
                           float *out, size_t out_stride);
/* gemm_avx2.c: the same layouts without VNNI (vpmaddubsw + vpmaddwd) */
void pack_gemm_q8_0_avx2(int n, const uint8_t *w, int g0, int ng, const uint8_t *x,
                         size_t xs, const void *xi, size_t xis, int nx,
                         float *out, size_t out_stride);
void pack_gemm_q4_0_avx2(int n, const uint8_t *w, int g0, int ng, const uint8_t *x,
                         size_t xs, const void *xi, size_t xis, int nx,
                         float *out, size_t out_stride);
/* gemm_k_avx2.c: the Q4_K / Q6_K layouts, the same way */
void pack_gemm_q4_k_avx2(int n, const uint8_t *w, int g0, int ng, const uint8_t *x,
                         size_t xs, const void *xi, size_t xis, int nx,
                         float *out, size_t out_stride);
void pack_gemm_q6_k_avx2(int n, const uint8_t *w, int g0, int ng, const uint8_t *x,
                         size_t xs, const void *xi, size_t xis, int nx,
                         float *out, size_t out_stride);
#endif

/* The packed kernel of a variant for a type, or NULL (no packing then). */
pack_gemm_fn pack_gemm_for(const struct quant_ops *ops, int type);

#endif
