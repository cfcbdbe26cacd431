/*
 * smp.h: the other cores (application processors), started for the
 * parallel-for of platform/uefi/smp_par.h.
 */
#ifndef MNEME_X86_SMP_H
#define MNEME_X86_SMP_H

#include <stdint.h>

#include "smp_par.h"

/* Starts the other cores the MADT lists (from a task: it sleeps while
 * they come up). Once only; smp_par() uses them from then on. */
void smp_start(void);
/* The same with core cpu (not 0) recursing into its stack's guard page;
 * MN_EINVAL for core 0. */
int smp_overflow_test(int cpu);
/* The core whose stack guard page holds va, or -1 (for the fault dump). */
int smp_stack_guard_cpu(uint64_t va);

#endif
