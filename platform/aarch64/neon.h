/*
 * neon.h: the NEON dot kernels checked and timed inside mneme (the
 * QUANT word): every kernel of the NEON variants against the scalar one
 * on the same pseudo-random rows.
 */
#ifndef MNEME_A64_NEON_H
#define MNEME_A64_NEON_H

#include <stddef.h>

/* Checks (and with bench, times) every dot kernel of "neon" and, where
 * the CPU has them, "neon-dotprod" and "neon-i8mm" (its 2x2 tiles too)
 * against "scalar"; prints one line per
 * kernel and a summary through out. Returns the number of mismatches. */
int neon_check(int bench, void (*out)(const char *fmt, ...));

#endif
