/*
 * smp_par.c: the kernel's parallel-for over the cores of a UEFI platform
 * (platform/x86_64/smp.c and platform/aarch64/smp.c start the cores).
 *
 * The executor stays on the first core, cooperative; the other cores
 * only run parallel-for jobs. A job is published in one word, `job_state`
 * = job number << 16 | OPEN | cores inside (as infer/par_pthread.c does):
 * a core joins only while the job is open, so the caller never waits for
 * a core that has not started it. The caller (a task on the first core)
 * yields first (at most once a millisecond), so other tasks run between
 * the jobs of a forward pass, then publishes the job, sends the wake
 * interrupt to each sleeping core, does its share, closes the job and
 * waits for the cores inside. An idle core polls for about 30 us
 * (SPIN_NS), then sleeps (hlt, wfi): it says so (`sleeping`) before
 * looking a last time, with interrupts off until it sleeps, so a job
 * published meanwhile is either seen or sends the interrupt that ends
 * the sleep.
 *
 * Interface: smp_par.h.
 */
#include "smp_par.h"

#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/task.h"
#include "mon.h"

/* An idle core polls this long before it sleeps. Longer polls (1 and
 * 20 ms tried, as infer/par_pthread.c's workers spin) made -smp 2 slower
 * under QEMU's multi-threaded TCG on a loaded host: a polling core takes
 * host time from the core doing the work. */
#define SPIN_NS 30000
/* The caller lets the executor's other tasks run before a job when this
 * long has passed since it last did (a yield per job costs a task switch
 * each, dozens of times per token). */
#define YIELD_NS 1000000

#define OPEN (1ull << 15)
#define INSIDE 0x7fffull

struct smp_core smp_core[SMP_CORES_MAX];
static int ncpus = 1;
static par_fn job_fn;
static void *job_arg;
static int job_nth;
static uint64_t job_state; /* job << 16 | OPEN | inside */
static uint64_t spin_ticks, yield_ticks;

static inline uint64_t load_state(void) {
  return __atomic_load_n(&job_state, __ATOMIC_ACQUIRE);
}

void smp_par_init(uint64_t ticks_hz) {
  spin_ticks = ticks_hz / (1000000000ull / SPIN_NS);
  yield_ticks = ticks_hz / (1000000000ull / YIELD_NS);
}

/* Runs the job in state s if it is still open. */
static void join(int index, uint64_t s) {
  struct smp_core *c = &smp_core[index];
  uint64_t job = s >> 16;
  while ((s >> 16) == job && (s & OPEN)) {
    if (__atomic_compare_exchange_n(&job_state, &s, s + 1, 1, __ATOMIC_ACQUIRE,
                                    __ATOMIC_ACQUIRE)) {
      c->working = 1;
      uint64_t t0 = smp_arch_ticks();
      job_fn(job_arg, index, job_nth);
      c->busy_ticks += smp_arch_ticks() - t0;
      c->jobs++;
      c->working = 0;
      __atomic_fetch_sub(&job_state, 1, __ATOMIC_RELEASE);
      return;
    }
  }
}

_Noreturn void smp_worker(int index, volatile int *online) {
  struct smp_core *c = &smp_core[index];
  uint64_t seen = load_state() >> 16;
  __atomic_store_n(online, 1, __ATOMIC_RELEASE);
  smp_arch_irq_on();
  for (;;) {
    uint64_t s = load_state();
    if ((s >> 16) != seen) {
      seen = s >> 16;
      join(index, s);
      continue;
    }
    uint64_t t0 = smp_arch_ticks();
    while ((load_state() >> 16) == seen && smp_arch_ticks() - t0 < spin_ticks)
      smp_arch_relax();
    if ((load_state() >> 16) != seen) continue;
    smp_arch_irq_off();
    __atomic_store_n(&c->sleeping, 1, __ATOMIC_SEQ_CST);
    if ((__atomic_load_n(&job_state, __ATOMIC_SEQ_CST) >> 16) == seen)
      smp_arch_sleep(); /* the wake interrupt (or another) ends it */
    else
      smp_arch_irq_on();
    __atomic_store_n(&c->sleeping, 0, __ATOMIC_RELAXED);
  }
}

static void par_run(void *impl, par_fn fn, void *arg) {
  (void)impl;
  static uint64_t last_yield;
  uint64_t t0 = smp_arch_ticks();
  if (t0 - last_yield >= yield_ticks) { /* between jobs: the rest of the kernel runs */
    task_yield();
    t0 = last_yield = smp_arch_ticks();
  }
  if (ncpus == 1) {
    fn(arg, 0, 1);
  } else {
    job_fn = fn;
    job_arg = arg;
    job_nth = ncpus;
    uint64_t job = (load_state() >> 16) + 1;
    __atomic_store_n(&job_state, job << 16 | OPEN, __ATOMIC_SEQ_CST);
    for (int i = 1; i < ncpus; i++)
      if (__atomic_load_n(&smp_core[i].sleeping, __ATOMIC_SEQ_CST)) {
        smp_core[i].wakeups++;
        smp_arch_wake(i);
      }
    fn(arg, 0, ncpus);
    __atomic_fetch_and(&job_state, ~OPEN, __ATOMIC_SEQ_CST);
    while (load_state() & INSIDE) smp_arch_relax(); /* cores inside finish their items */
  }
  smp_core[0].busy_ticks += smp_arch_ticks() - t0;
  smp_core[0].jobs++;
}

static struct par_ops par = {1, par_run, 0};

const struct par_ops *smp_par(void) { return &par; }

int smp_cores(void) { return ncpus; }

void smp_par_cores(int n) {
  ncpus = n;
  par.nthreads = n;
}

int smp_wait_online(volatile int *online, int ms) {
  for (int i = 0; i < ms; i++) {
    if (__atomic_load_n(online, __ATOMIC_ACQUIRE)) return 1;
    task_sleep(MN_MSEC(1));
  }
  return __atomic_load_n(online, __ATOMIC_ACQUIRE);
}

/* FAULT-CPU: a job that reads an unmapped address on core `target`;
 * OVERFLOW-CPU: one that recurses into the guard page below the core's
 * stack. */
static volatile uint32_t fault_target;

static void fault_job(void *arg, int ith, int nth) {
  (void)nth;
  if ((uint32_t)ith != fault_target) {
    /* the caller's share: keep the job open a while (100 ms), so a core
     * woken from its sleep joins it before it closes */
    uint64_t end = ktime_deadline(MN_MSEC(100));
    while (ith == 0 && ktime_now() < end) smp_arch_relax();
    return;
  }
  if (arg) {
    (void)mon_overflow();
    return;
  }
  uintptr_t a = 0x10;
  __asm__ volatile("" : "+r"(a));
  (void)*(volatile uint64_t *)a;
}

int smp_fault_on(int cpu, int overflow) {
  if (cpu < 0 || cpu >= ncpus) return MN_ERANGE;
  fault_target = (uint32_t)cpu;
  /* until the core joins a job (and faults); on a loaded host a vCPU may
   * miss many jobs in a row, so this waits by the clock, not by count */
  uint64_t deadline = ktime_deadline(MN_SEC(60));
  while (ktime_now() < deadline) {
    par_run(NULL, fault_job, overflow ? (void *)1 : NULL);
    task_sleep(MN_MSEC(1));
  }
  return MN_ETIMEDOUT;
}

int smp_fault_test(int cpu) { return smp_fault_on(cpu, 0); }
