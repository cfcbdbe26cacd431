/*
 * dot_neon_dp.c: the dot kernels for AArch64 CPUs with the dot-product
 * instructions (Armv8.2 DotProd: SDOT; compiled with +dotprod; the code
 * is in dot_neon.h). dot_select.c picks it when ID_AA64ISAR0_EL1 says so.
 *
 * Interface: quant_ops_neon_dp.
 */
#define DOT_SUFFIX neon_dp
#define DOT_OPS_NAME quant_ops_neon_dp
#define DOT_OPS_LABEL "neon-dotprod"
#include "dot_neon.h"
