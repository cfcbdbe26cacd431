/*
 * smp.h: the other cores of the aarch64 platform (started through PSCI)
 * and the parallel-for (include/mneme/par.h) that runs the inference
 * engine's jobs on them, as on x86_64 (platform/x86_64/smp.h).
 */
#ifndef MNEME_A64_SMP_H
#define MNEME_A64_SMP_H

#include <stdint.h>

#include "mneme/par.h"

#define A64_CPU_MAX 16

/* One core: its identity, state and counters. */
struct a64_cpu {
  uint32_t index;           /* 0: the first core (the executor) */
  uint32_t cpu_if;          /* GICv2 CPU interface number (MADT) */
  uint64_t mpidr;           /* affinity (MADT) */
  volatile int online, sleeping, working;
  uint64_t jobs, busy_ticks, wakeups;
};
extern struct a64_cpu a64_cpus[A64_CPU_MAX];

/* Starts the other cores the MADT lists (PSCI CPU_ON), from a task: it
 * sleeps while they come up. Once only; a64_par() uses them from then on. */
void smp_start(void);
/* Cores running: the first one and the started others. */
int smp_cores(void);
/* The core running this code (0: the first). */
int smp_cpu_index(void);
/* Makes core cpu read an unmapped address (a dump naming the core, then
 * the machine halts). Returns MN_ERANGE (no such core) or MN_ETIMEDOUT. */
int smp_fault_test(int cpu);
/* The kernel's parallel-for: the calling task yields before each job,
 * then the job runs on the first core and every started one. */
const struct par_ops *a64_par(void);

#endif
