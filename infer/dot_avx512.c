/*
 * dot_avx512.c: the dot kernels for x86 CPUs with AVX-512 F/BW/VL and
 * VNNI (compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni on top
 * of the AVX2 flags; the code is in dot_x86.h).
 *
 * Interface: quant_ops_avx512.
 */
#define DOT_SUFFIX avx512
#define DOT_OPS_NAME quant_ops_avx512
#define DOT_OPS_LABEL "avx512"
#include "dot_x86.h"
