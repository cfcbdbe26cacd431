/*
 * fpu.h: self-tests of the FP/SIMD state handling of the UEFI platforms
 * (the monitor's FPU word, run by the QEMU tests). Each returns 1 (the
 * state was kept), 0 (lost) or -1 (not checked: no AVX, no interrupt
 * arrived, the tasks could not run).
 */
#ifndef MNEME_UEFI_FPU_H
#define MNEME_UEFI_FPU_H

#include <stddef.h>
#include <stdint.h>

/* The vector registers and the FP control register (x86_64: ymm0-ymm15
 * and MXCSR; aarch64: v0-v31 and FPCR) hold a pattern while interrupts
 * whose handler clobbers them arrive (each platform's fpu.c). */
int fpu_test_irq(void);

/* Two tasks hold different callee-saved vector registers and FP control
 * values across task switches (x86_64: xmm6-xmm15 and MXCSR; aarch64:
 * d8-d15 and FPCR); 1 if each kept its own (platform/uefi/fpu_switch.c). */
int fpu_test_switch(void);

/* The CPU's part of fpu_test_switch, in each platform's fpu.c: fills in
 * with task base's pattern (base 0xa0 or 0xb0, their control values
 * differ) and returns how many bytes of it the probe gives back; */
#define FPU_SWITCH_MAX 176
size_t fpu_switch_pattern(uint8_t base, uint8_t in[FPU_SWITCH_MAX]);
/* loads in into those registers, calls fn, stores them to out. */
void fpu_switch_probe(const uint8_t *in, uint8_t *out, void (*fn)(void));

#endif
