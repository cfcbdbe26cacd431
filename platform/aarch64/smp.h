/*
 * smp.h: the other cores of the aarch64 platform (started through PSCI)
 * for the parallel-for of platform/uefi/smp_par.h, as on x86_64
 * (platform/x86_64/smp.h).
 */
#ifndef MNEME_A64_SMP_H
#define MNEME_A64_SMP_H

#include <stdint.h>

#include "smp_par.h"

#define A64_CPU_MAX SMP_CORES_MAX

/* One core: its identity and state (its parallel-for counters: smp_core
 * in platform/uefi/smp_par.h). */
struct a64_cpu {
  uint32_t index;           /* 0: the first core (the executor) */
  uint32_t cpu_if;          /* GICv2 CPU interface number (MADT) */
  uint64_t mpidr;           /* affinity (MADT) */
  volatile int online;
};
extern struct a64_cpu a64_cpus[A64_CPU_MAX];

/* Starts the other cores the MADT lists (PSCI CPU_ON), from a task: it
 * sleeps while they come up. Once only; smp_par() uses them from then on. */
void smp_start(void);
/* The core running this code (0: the first). */
int smp_cpu_index(void);

#endif
