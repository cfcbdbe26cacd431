/*
 * fpu.h: self-tests of the aarch64 platform's FP/SIMD state handling
 * (the FPU word). Each returns 1 (kept), 0 (lost) or -1 (not checked).
 */
#ifndef MNEME_A64_FPU_H
#define MNEME_A64_FPU_H

/* v0-v31 and FPCR survive interrupts whose handler clobbers them. */
int fpu_test_irq(void);
/* d8-d15 and FPCR survive task switches (two tasks, other values). */
int fpu_test_switch(void);

#endif
