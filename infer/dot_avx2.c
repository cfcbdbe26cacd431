/*
 * dot_avx2.c: the dot kernels for x86 CPUs with AVX2, FMA and F16C
 * (compiled with -mavx2 -mfma -mf16c; the code is in dot_x86.h).
 *
 * Interface: quant_ops_avx2.
 */
#define DOT_SUFFIX avx2
#define DOT_OPS_NAME quant_ops_avx2
#define DOT_OPS_LABEL "avx2"
#include "dot_x86.h"
