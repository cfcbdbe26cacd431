/*
 * smp.h: the other cores (application processors) and the parallel-for
 * (include/mneme/par.h) that runs the inference engine's jobs on them.
 */
#ifndef MNEME_X86_SMP_H
#define MNEME_X86_SMP_H

#include <stdint.h>

#include "mneme/par.h"

/* Starts the other cores the MADT lists (from a task: it sleeps while
 * they come up). Once only; x86_par() uses them from then on. */
void smp_start(void);
/* Cores running: the boot processor and the started APs. */
int smp_cores(void);
/* Makes core cpu read an unmapped address (a fault dump naming the core,
 * then the machine halts). Returns MN_ERANGE (no such core), or
 * MN_ETIMEDOUT if the core never ran the job. */
int smp_fault_test(int cpu);
/* The same with core cpu (not 0) recursing into its stack's guard page;
 * MN_EINVAL for core 0. */
int smp_overflow_test(int cpu);
/* The core whose stack guard page holds va, or -1 (for the fault dump). */
int smp_stack_guard_cpu(uint64_t va);

/* The kernel's parallel-for: the calling task yields before a job (at
 * most once a millisecond, so other tasks run between a forward pass's
 * matmuls), then the job runs on
 * the boot processor and every started AP. */
const struct par_ops *x86_par(void);

#endif
