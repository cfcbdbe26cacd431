/*
 * quant.h: tensor element types of GGUF/ggml files, their dequantization,
 * activation quantization and the dot-product kernels of the inference
 * engine.
 *
 * A weight row of n elements of type t takes quant_row_size(t, n) bytes:
 * n / block elements in blocks of `bytes` bytes (gguf-notes.md has the
 * layouts). A matmul first converts the activation row to the "vector
 * type" of the weight type (Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1, Q8_K
 * for the K-quants, F16 for F16, BF16 for BF16, F32 for F32), as llama.cpp
 * does, then calls the dot kernel of the weight type on each row.
 *
 * Dot kernels come in variants (struct quant_ops), one file each: scalar
 * C (runs anywhere, QEMU TCG included), AVX2 and AVX-512 VNNI; every
 * variant gives the same result up to float summation order.
 * quant_ops_best() picks one at run time with cpuid.
 */
#ifndef MNEME_QUANT_H
#define MNEME_QUANT_H

#include <stddef.h>
#include <stdint.h>

/* ggml type ids, as stored in GGUF tensor infos. */
enum quant_type {
  QUANT_F32 = 0,
  QUANT_F16 = 1,
  QUANT_Q4_0 = 2,
  QUANT_Q4_1 = 3,
  QUANT_Q5_0 = 6,
  QUANT_Q5_1 = 7,
  QUANT_Q8_0 = 8,
  QUANT_Q8_1 = 9,
  QUANT_Q2_K = 10,
  QUANT_Q3_K = 11,
  QUANT_Q4_K = 12,
  QUANT_Q5_K = 13,
  QUANT_Q6_K = 14,
  QUANT_Q8_K = 15,
  QUANT_BF16 = 30,
  QUANT_NTYPES = 31
};

#define QUANT_QK 32   /* elements per Q4_0/Q4_1/Q5_0/Q8_0/Q8_1 block */
#define QUANT_QK_K 256 /* elements per K-quant super-block */

/* ---- block layouts (all fields little-endian, halves are IEEE fp16) ---- */

struct quant_q8_0 { uint16_t d; int8_t qs[32]; };
struct quant_q8_1 { uint16_t d, s; int8_t qs[32]; };       /* s = d*sum(qs) */
struct quant_q4_0 { uint16_t d; uint8_t qs[16]; };
struct quant_q4_1 { uint16_t d, m; uint8_t qs[16]; };
struct quant_q5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };
struct quant_q4_k { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; };
struct quant_q5_k {
  uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128];
};
struct quant_q6_k {
  uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d;
};
struct quant_q8_k { float d; int8_t qs[256]; int16_t bsums[16]; };

/* Facts about one type. */
struct quant_traits {
  const char *name;   /* "Q4_K" */
  uint32_t block;     /* elements per block */
  uint32_t bytes;     /* bytes per block */
  int vec_type;       /* activation type its dot kernel takes; -1: none */
};

/* The traits of a supported type, or NULL for an unknown or unsupported one. */
const struct quant_traits *quant_traits(int type);

/* Bytes of a row of n elements; 0 if the type is unsupported or n is not a
 * multiple of its block size. */
size_t quant_row_size(int type, int64_t n);

/* ---- scalar conversions ------------------------------------------------- */

float quant_f16_to_f32(uint16_t h);
uint16_t quant_f32_to_f16(float f);  /* round to nearest even */
float quant_bf16_to_f32(uint16_t h);
uint16_t quant_f32_to_bf16(float f); /* round to nearest even */

/* ---- rows ---------------------------------------------------------------- */

/* Expands a row of n elements of any supported type to floats.
 * Returns 0, or MN_EINVAL (unsupported type, n not a block multiple). */
int quant_dequantize_row(int type, const void *src, float *dst, int64_t n);

/* Four dot products of one weight row with the activation rows x,
 * x + xs, x + 2 xs, x + 3 xs, into out[0..3]; each equal to the bits to
 * what quant_dot_fn gives for that row. */
typedef void (*quant_dot4_fn)(int n, const void *w, const void *x, size_t xs, float *out);

/* out[r] = dot(n, w + r * row_bytes, x) for r < rows: a matrix against
 * one activation row (token generation) without a call per row; the same
 * bits as dot. */
typedef void (*quant_dotr_fn)(int n, const void *w, size_t row_bytes, int rows,
                              const void *x, float *out);

/* y[i] += a * x[i] for n elements of x in type F32 or F16 (the KV cache:
 * attention scores over a transposed K). */
typedef void (*quant_axpy_fn)(int n, float a, const void *x, float *y);

/* A 2x2 tile: the dot products of the weight rows w and w + ws with the
 * activation rows x and x + xs: out[2 * r + c] = dot(n, w + r * ws,
 * x + c * xs), each the bits of what quant_dot_fn gives (AArch64 I8MM:
 * one SMMLA multiplies 8 quants of two rows by 8 of two columns). */
typedef void (*quant_dot2x2_fn)(int n, const void *w, size_t ws, const void *x, size_t xs,
                                float out[4]);

/* Converts n floats to an activation row of type vtype (F32, F16, BF16,
 * Q8_0, Q8_1, Q8_K) the way llama.cpp's CPU backend does (Q8_0/Q8_1:
 * d = amax/127, values rounded to nearest even; Q8_K: d = max/-127).
 * Returns 0, or MN_EINVAL. */
int quant_quantize_row(int vtype, const float *x, void *dst, int64_t n);

/* Quantizes weights (for tests and test-model writers): Q8_0, Q4_0, Q4_1,
 * Q5_0 with llama.cpp's reference rules; F16, BF16, F32 by conversion.
 * Returns 0, or MN_EINVAL. */
int quant_quantize_weights(int type, const float *x, void *dst, int64_t n);

/* ---- dot kernels --------------------------------------------------------- */

/* sum_i w[i] * x[i] over n elements: w a weight row of the kernel's type,
 * x an activation row of that type's vec_type. n is a block multiple. */
typedef float (*quant_dot_fn)(int n, const void *w, const void *x);

/* Four dot products of one weight row with the activation rows x,
 * x + xs, x + 2 xs, x + 3 xs, into out[0..3]; each equal to the bits to
 * what quant_dot_fn gives for that row. */
typedef void (*quant_dot4_fn)(int n, const void *w, const void *x, size_t xs, float *out);

/* out[r] = dot(n, w + r * row_bytes, x) for r < rows: a matrix against
 * one activation row (token generation) without a call per row; the same
 * bits as dot. */
typedef void (*quant_dotr_fn)(int n, const void *w, size_t row_bytes, int rows,
                              const void *x, float *out);

/* y[i] += a * x[i] for n elements of x in type F32 or F16 (the KV cache:
 * attention scores over a transposed K). */
typedef void (*quant_axpy_fn)(int n, float a, const void *x, float *y);

/* Converts n floats to an activation row of one vec type (n a multiple of
 * its block); every variant gives the scalar variant's bytes exactly. */
typedef void (*quant_row_fn)(const float *x, void *y, int n);

/* A variant of the kernels. dot[t] is set for every supported weight type
 * (a variant without its own kernel for a type points at the scalar one). */
struct quant_ops {
  const char *name;                  /* "scalar", "avx2", "avx512" */
  quant_dot_fn dot[QUANT_NTYPES];
  quant_dot4_fn dot4[QUANT_NTYPES];    /* NULL where the variant has none */
  quant_dotr_fn dotr[QUANT_NTYPES];    /* NULL where the variant has none */
  quant_row_fn quantize[QUANT_NTYPES]; /* set for the vec types */
  quant_axpy_fn axpy[QUANT_NTYPES];    /* set for F32 and F16 */
  quant_dot2x2_fn dot2x2[QUANT_NTYPES]; /* NULL where the variant has none */
};

extern const struct quant_ops quant_ops_scalar;
#if defined(__x86_64__)
extern const struct quant_ops quant_ops_avx2;   /* AVX2 + FMA + F16C */
extern const struct quant_ops quant_ops_avx512; /* + AVX-512 BW/VL/VNNI */
int quant_cpu_has_avx2(void);
int quant_cpu_has_avx512(void);
#endif
#if defined(__aarch64__)
extern const struct quant_ops quant_ops_neon;    /* Advanced SIMD */
extern const struct quant_ops quant_ops_neon_dp; /* + DotProd (SDOT) */
extern const struct quant_ops quant_ops_neon_mm; /* + I8MM (SMMLA 2x2 tiles) */
int quant_cpu_has_dotprod(void);
int quant_cpu_has_i8mm(void);
#endif

/* The fastest variant this CPU (and the OS's saved register state) can run. */
const struct quant_ops *quant_ops_best(void);

/* The variant of that name ("scalar", "avx2", "avx512", "neon",
 * "neon-dotprod", "neon-i8mm"), or NULL if it is
 * unknown or this CPU cannot run it. */
const struct quant_ops *quant_ops_named(const char *name);

#endif
