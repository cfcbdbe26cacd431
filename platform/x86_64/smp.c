/*
 * smp.c: the other cores and the kernel's parallel-for (par.h).
 *
 * Starting: the MADT lists the processors (apic.c). For each one besides
 * the boot processor, smp_start copies the trampoline (trampoline.S) to
 * the page below 1 MiB that boot.c reserved, writes the core's stack and
 * record into its data, and sends INIT, then SIPI (again after 1 ms if the
 * core has not answered), waiting with task_sleep (the rest of the kernel
 * runs meanwhile). The core comes up in long mode on mneme's page tables
 * and enters x86_ap_main: its own GDT, TSS and IST stacks (cpu_init_ap),
 * the shared IDT, the boot processor's FPU/AVX settings (its own state),
 * its local APIC with a periodic timer (every 100 ms: a core never sleeps
 * without a bound), then the worker loop.
 *
 * The executor stays on the boot processor, cooperative; the other cores
 * only run parallel-for jobs. A job is published in one word, `state` =
 * job number << 16 | OPEN | cores inside (as infer/par_pthread.c does):
 * a core joins only while the job is open, so the caller never waits for a
 * core that has not started it. The caller (a task on the boot processor)
 * yields first (at most once a millisecond), so other tasks run between the jobs of a forward pass,
 * then publishes the job, sends a wake-up IPI to each sleeping core, does
 * its share, closes the job and waits for the cores inside. An idle core
 * polls for about 30 us (SPIN_NS), then sleeps in hlt: it says so (`sleeping`)
 * before looking a last time, with interrupts off until the `sti; hlt`, so
 * a job published meanwhile is either seen or sends the IPI that ends the
 * hlt.
 *
 * Each AP's stack (64 KiB from the heap) has an unmapped guard page below
 * it: an overflow gives the fault dump, naming the core and its stack.
 *
 * Interface: smp_start, x86_par, smp_cores, smp_fault_test,
 * smp_overflow_test, smp_stack_guard_cpu, x86_ap_main.
 */
#include "smp.h"

#include <string.h>

#include "apic.h"
#include "boot.h"
#include "cpu.h"
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/platform.h"
#include "mneme/task.h"
#include "x86.h"

/* Offsets of the trampoline's data (trampoline.S has the same). */
#define T_GDT 0xf00
#define T_GDTR 0xf20
#define T_FAR32 0xf28
#define T_FAR64 0xf30
#define T_CR3 0xf38
#define T_EFER 0xf40
#define T_STACK 0xf48
#define T_ENTRY 0xf50
#define T_ARG 0xf58

#define AP_STACK (64u * 1024u)
#define AP_TIMER_NS MN_MSEC(100)
/* An idle core polls this long before it sleeps in hlt. Longer polls
 * (1 and 20 ms tried, as infer/par_pthread.c's workers spin) made -smp 2
 * slower under QEMU's multi-threaded TCG on a loaded host: a polling core
 * takes host time from the core doing the work. */
#define SPIN_NS 30000
/* The caller lets the executor's other tasks run before a job when this
 * long has passed since it last did (a yield per job costs a task switch
 * each, dozens of times per token). */
#define YIELD_NS 1000000

#define OPEN (1ull << 15)
#define INSIDE 0x7fffull

extern const uint8_t x86_tramp_start[], x86_tramp_end[], x86_tramp_prot32[],
    x86_tramp_long64[];

static int ncpus = 1;
static par_fn job_fn;
static void *job_arg;
static int job_nth;
static uint64_t job_state; /* job << 16 | OPEN | inside */
static uint64_t spin_ticks, yield_ticks;

static inline uint64_t load_state(void) {
  return __atomic_load_n(&job_state, __ATOMIC_ACQUIRE);
}

/* Runs the job in state s if it is still open. */
static void join(struct x86_cpu *c, uint64_t s) {
  uint64_t job = s >> 16;
  while ((s >> 16) == job && (s & OPEN)) {
    if (__atomic_compare_exchange_n(&job_state, &s, s + 1, 1, __ATOMIC_ACQUIRE,
                                    __ATOMIC_ACQUIRE)) {
      c->working = 1;
      uint64_t t0 = rdtsc();
      job_fn(job_arg, (int)c->index, job_nth);
      c->busy_tsc += rdtsc() - t0;
      c->jobs++;
      c->working = 0;
      __atomic_fetch_sub(&job_state, 1, __ATOMIC_RELEASE);
      return;
    }
  }
}

_Noreturn void x86_ap_main(struct x86_cpu *c);

_Noreturn void x86_ap_main(struct x86_cpu *c) {
  cpu_init_ap(c->index);
  apic_ap_init(AP_TIMER_NS);
  uint64_t seen = load_state() >> 16;
  __atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
  __asm__ volatile("sti");
  for (;;) {
    uint64_t s = load_state();
    if ((s >> 16) != seen) {
      seen = s >> 16;
      join(c, s);
      continue;
    }
    uint64_t t0 = rdtsc();
    while ((load_state() >> 16) == seen && rdtsc() - t0 < spin_ticks) cpu_relax();
    if ((load_state() >> 16) != seen) continue;
    __asm__ volatile("cli" ::: "memory");
    __atomic_store_n(&c->sleeping, 1, __ATOMIC_SEQ_CST);
    if ((__atomic_load_n(&job_state, __ATOMIC_SEQ_CST) >> 16) == seen)
      __asm__ volatile("sti; hlt" ::: "memory"); /* an IPI or the timer ends it */
    else
      __asm__ volatile("sti" ::: "memory");
    __atomic_store_n(&c->sleeping, 0, __ATOMIC_RELAXED);
  }
}

static void par_run(void *impl, par_fn fn, void *arg) {
  (void)impl;
  static uint64_t last_yield;
  uint64_t t0 = rdtsc();
  if (t0 - last_yield >= yield_ticks) { /* between jobs: the rest of the kernel runs */
    task_yield();
    t0 = last_yield = rdtsc();
  }
  struct x86_cpu *me = &x86_cpus[0];
  if (ncpus == 1) {
    fn(arg, 0, 1);
  } else {
    job_fn = fn;
    job_arg = arg;
    job_nth = ncpus;
    uint64_t job = (load_state() >> 16) + 1;
    __atomic_store_n(&job_state, job << 16 | OPEN, __ATOMIC_SEQ_CST);
    for (int i = 1; i < ncpus; i++)
      if (__atomic_load_n(&x86_cpus[i].sleeping, __ATOMIC_SEQ_CST)) {
        x86_cpus[i].wakeups++;
        apic_send_ipi(x86_cpus[i].apic_id, VEC_WAKE);
      }
    fn(arg, 0, ncpus);
    __atomic_fetch_and(&job_state, ~OPEN, __ATOMIC_SEQ_CST);
    while (load_state() & INSIDE) cpu_relax(); /* cores inside finish their items */
  }
  me->busy_tsc += rdtsc() - t0;
  me->jobs++;
}

static struct par_ops par = {1, par_run, 0};

const struct par_ops *x86_par(void) { return &par; }

int smp_cores(void) { return ncpus; }

/* FAULT-CPU: a job that reads an unmapped address on core `target`;
 * OVERFLOW-CPU: one that recurses into the guard page below the core's
 * stack. */
static volatile uint32_t fault_target;
static volatile uint64_t ovf_limit = UINT64_MAX;

static __attribute__((noinline)) uint64_t recurse(uint64_t n) {
  volatile uint8_t pad[256];
  pad[0] = (uint8_t)n;
  if (n >= ovf_limit) return n;
  return recurse(n + 1) + pad[0];
}

static void fault_job(void *arg, int ith, int nth) {
  (void)nth;
  if ((uint32_t)ith != fault_target) return;
  if (arg) {
    (void)recurse(0);
    return;
  }
  uintptr_t a = 0x10;
  __asm__ volatile("" : "+r"(a));
  (void)*(volatile uint64_t *)a;
}

static int fault_on(int cpu, void *arg) {
  if (cpu < 0 || cpu >= ncpus) return MN_ERANGE;
  fault_target = (uint32_t)cpu;
  /* until the core joins a job (and faults); on a loaded host a vCPU may
   * miss many jobs in a row, so this waits by the clock, not by count */
  uint64_t deadline = ktime_deadline(MN_SEC(60));
  while (ktime_now() < deadline) {
    par_run(NULL, fault_job, arg);
    task_sleep(MN_MSEC(1));
  }
  return MN_ETIMEDOUT;
}

int smp_fault_test(int cpu) { return fault_on(cpu, NULL); }

int smp_overflow_test(int cpu) {
  if (cpu == 0) return MN_EINVAL; /* core 0's jobs run on a task's stack: OVERFLOW */
  return fault_on(cpu, (void *)1);
}

int smp_stack_guard_cpu(uint64_t va) {
  for (int i = 1; i < ncpus; i++)
    if (x86_cpus[i].stack_guard && va - x86_cpus[i].stack_guard < 4096) return i;
  return -1;
}

/* Waits up to ms for core c to come up. */
static int wait_online(struct x86_cpu *c, int ms) {
  for (int i = 0; i < ms; i++) {
    if (__atomic_load_n(&c->online, __ATOMIC_ACQUIRE)) return 1;
    task_sleep(MN_MSEC(1));
  }
  return __atomic_load_n(&c->online, __ATOMIC_ACQUIRE);
}

void smp_start(void) {
  static int done;
  if (done++) return;
  spin_ticks = apic_tsc_hz() / (1000000000ull / SPIN_NS);
  yield_ticks = apic_tsc_hz() / (1000000000ull / YIELD_NS);
  x86_cpus[0].apic_id = apic_bsp_id();
  const uint32_t *ids;
  int n = apic_cpus(&ids);
  if (n <= 1) {
    klog(LOG_INFO, "smp: 1 core (the MADT lists %d)", n);
    return;
  }
  if (!uefi_boot.trampoline || (read_cr3() >> 32)) {
    klog(LOG_WARN, "smp: 1 core: %s", !uefi_boot.trampoline ? "no page below 1 MiB for the trampoline"
                                                             : "page tables above 4 GiB");
    return;
  }
  uint8_t *t = (uint8_t *)uefi_boot.trampoline;
  uint32_t base = (uint32_t)uefi_boot.trampoline;
  memcpy(t, x86_tramp_start, (size_t)(x86_tramp_end - x86_tramp_start));
  *(uint32_t *)(void *)(t + T_GDTR + 2) = base + T_GDT;
  *(uint32_t *)(void *)(t + T_FAR32) = base + (uint32_t)(x86_tramp_prot32 - x86_tramp_start);
  *(uint32_t *)(void *)(t + T_FAR64) = base + (uint32_t)(x86_tramp_long64 - x86_tramp_start);
  *(uint64_t *)(void *)(t + T_CR3) = read_cr3();
  *(uint64_t *)(void *)(t + T_EFER) = rdmsr(0xc0000080u);
  *(uint64_t *)(void *)(t + T_ENTRY) = (uint64_t)x86_ap_main;
  int failed = 0;
  for (int i = 0; i < n && ncpus < CPU_MAX; i++) {
    if (ids[i] == x86_cpus[0].apic_id) continue;
    struct x86_cpu *c = &x86_cpus[ncpus];
    memset(c, 0, sizeof *c);
    c->index = (uint32_t)ncpus;
    c->apic_id = ids[i];
    /* [guard page][stack]: an overflow faults on the guard (a dump
     * naming the core) rather than running over the heap. */
    uint8_t *stack = kmalloc_aligned(4096 + AP_STACK, 4096);
    if (!stack) {
      klog(LOG_WARN, "smp: no memory for a stack");
      break;
    }
    int guarded = plat_stack_guard(stack, 4096, 1) == 0;
    if (guarded) c->stack_guard = (uint64_t)stack;
    else klog(LOG_WARN, "smp: core %d's stack has no guard page", ncpus);
    *(uint64_t *)(void *)(t + T_STACK) = (uint64_t)(stack + 4096 + AP_STACK);
    *(uint64_t *)(void *)(t + T_ARG) = (uint64_t)c;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    apic_send_ipi(c->apic_id, 0x4500); /* INIT, assert */
    task_sleep(MN_MSEC(10));
    apic_send_ipi(c->apic_id, 0x4600 | (base >> 12)); /* SIPI: start at base */
    if (!wait_online(c, 1)) {
      apic_send_ipi(c->apic_id, 0x4600 | (base >> 12));
      wait_online(c, 200);
    }
    if (!c->online) {
      klog(LOG_WARN, "smp: the core with local APIC id %u did not start", c->apic_id);
      apic_send_ipi(c->apic_id, 0x4500); /* INIT again keeps it from starting late */
      if (guarded) plat_stack_guard(stack, 4096, 0);
      c->stack_guard = 0;
      kfree(stack); /* it never ran */
      failed++;
      continue;
    }
    ncpus++;
  }
  par.nthreads = ncpus;
  klog(LOG_INFO, "smp: %d cores (the MADT lists %d%s)", ncpus, n,
       failed ? ", some did not start" : "");
}
