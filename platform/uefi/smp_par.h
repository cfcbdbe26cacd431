/*
 * smp_par.h: the kernel's parallel-for (include/mneme/par.h) over the
 * cores of a UEFI platform, shared by x86_64 and aarch64: the job word,
 * the caller's part, the other cores' worker loop and the fault tests.
 * Each platform's smp.c starts the cores and brings the CPU-specific
 * bits below (smp_arch_*).
 */
#ifndef MNEME_UEFI_SMP_PAR_H
#define MNEME_UEFI_SMP_PAR_H

#include <stdint.h>

#include "mneme/par.h"

#define SMP_CORES_MAX 16

/* What the parallel-for keeps of one core (0: the executor's). */
struct smp_core {
  volatile int sleeping;        /* idle with interrupts to wake it */
  volatile int working;         /* inside a job */
  volatile uint64_t jobs;       /* jobs joined */
  volatile uint64_t busy_ticks; /* smp_arch_ticks inside jobs */
  volatile uint64_t wakeups;    /* wake interrupts sent to it */
};
extern struct smp_core smp_core[SMP_CORES_MAX];

/* Cores running: the first one and the started others. */
int smp_cores(void);
/* The kernel's parallel-for: the calling task yields before a job (at
 * most once a millisecond, so other tasks run between a forward pass's
 * matmuls), then the job runs on the first core and every started one. */
const struct par_ops *smp_par(void);
/* Makes core cpu read an unmapped address (a fault dump naming the core,
 * then the machine halts). Returns MN_ERANGE (no such core), or
 * MN_ETIMEDOUT if the core never ran the job. */
int smp_fault_test(int cpu);

/* For smp.c: the counter's rate (before the cores start); */
void smp_par_init(uint64_t ticks_hz);
/* cores started: 1..n take jobs from now on; */
void smp_par_cores(int n);
/* waits up to ms for *online (with task_sleep); 1 if it came up; */
int smp_wait_online(volatile int *online, int ms);
/* a started core's loop, once its CPU is set up: says *online, enables
 * interrupts, then runs jobs, polling a while, then sleeping; */
_Noreturn void smp_worker(int index, volatile int *online);
/* the fault test with recursion into the stack instead (overflow). */
int smp_fault_on(int cpu, int overflow);

/* The CPU's part, in each platform's smp.c: a cycle counter; a pause in
 * a spin loop; the wake interrupt to core i; interrupts off, on, and on
 * while sleeping until one arrives (one already pending ends it). */
uint64_t smp_arch_ticks(void);
void smp_arch_relax(void);
void smp_arch_wake(int i);
void smp_arch_irq_off(void);
void smp_arch_irq_on(void);
void smp_arch_sleep(void);

#endif
