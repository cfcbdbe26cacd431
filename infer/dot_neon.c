/*
 * dot_neon.c: the dot kernels for AArch64 with baseline Advanced SIMD
 * (every Armv8-A CPU; the code is in dot_neon.h).
 *
 * Interface: quant_ops_neon.
 */
#define DOT_SUFFIX neon
#define DOT_OPS_NAME quant_ops_neon
#define DOT_OPS_LABEL "neon"
#include "dot_neon.h"
