/*
 * fpu.h: self-tests of the FPU/SSE/AVX state handling (the monitor's
 * `fpu` command, run by the QEMU tests).
 */
#ifndef MNEME_X86_FPU_H
#define MNEME_X86_FPU_H

/*
 * Holds a pattern in ymm0-ymm15 and MXCSR while timer interrupts whose
 * handler clobbers all of them arrive; 1 if the pattern survived, 0 if
 * not, -1 if it could not be checked (no AVX, no interrupt arrived).
 */
int fpu_test_irq(void);

/*
 * Two tasks hold different xmm6-xmm15/MXCSR values across task switches;
 * 1 if each kept its own, 0 if not, -1 if the tasks could not run.
 */
int fpu_test_switch(void);

#endif
