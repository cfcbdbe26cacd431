/*
 * smp.c: the other cores and the kernel's parallel-for (par.h), as
 * platform/x86_64/smp.c does it on PCs.
 *
 * Starting: the MADT's GICC entries list the cores (enabled ones, by
 * MPIDR). For each one besides this, smp_start fills a boot record (the
 * first core's TTBR0, TCR, MAIR, SCTLR and vectors, a stack, an exception
 * stack, the entry function), cleans it to memory (the new core reads it
 * with its MMU off) and calls PSCI CPU_ON (HVC or SMC as the FADT says)
 * with a64_ap_entry (entry.S) and the record, then waits with task_sleep
 * until the core says it is online. The core turns its MMU on with the
 * same tables, sets up its share of the GIC (gic_cpu_init: the wake SGI)
 * and enters the worker loop.
 *
 * The executor stays on the first core, cooperative; the others only run
 * parallel-for jobs, published in one word (job << 16 | OPEN | cores
 * inside), joined only while open, as on x86_64. An idle core polls for
 * about 30 us, then sleeps in wfi with interrupts masked (a pending
 * interrupt still ends it): it says so (`sleeping`) before looking a last
 * time, and the caller sends the wake SGI to every sleeping core after
 * publishing a job, so none is missed.
 *
 * Interface: smp_start, smp_cores, smp_cpu_index, smp_fault_test,
 * a64_par, a64_cpus.
 */
#include "smp.h"

#include <string.h>

#include "a64.h"
#include "acpi.h"
#include "boot.h"
#include "gic.h"
#include "gtimer.h"
#include "mmu.h"
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/task.h"

#define AP_STACK (64u * 1024u)
#define AP_EXC_STACK (32u * 1024u)
#define SPIN_NS 30000

#define OPEN (1ull << 15)
#define INSIDE 0x7fffull

/* What a64_ap_entry reads (entry.S: the same offsets). */
struct a64_ap_boot {
  uint64_t ttbr0, tcr, mair, sctlr, vbar, stack, exc_stack, fn, arg;
};

struct a64_cpu a64_cpus[A64_CPU_MAX];
static int ncpus = 1;
static par_fn job_fn;
static void *job_arg;
static int job_nth;
static uint64_t job_state; /* job << 16 | OPEN | inside */
static uint64_t spin_ticks;

static inline uint64_t load_state(void) {
  return __atomic_load_n(&job_state, __ATOMIC_ACQUIRE);
}

int smp_cpu_index(void) { return (int)SYSREG_READ(tpidr_el1); }

/* Runs the job in state s if it is still open. */
static void join(struct a64_cpu *c, uint64_t s) {
  uint64_t job = s >> 16;
  while ((s >> 16) == job && (s & OPEN)) {
    if (__atomic_compare_exchange_n(&job_state, &s, s + 1, 1, __ATOMIC_ACQUIRE,
                                    __ATOMIC_ACQUIRE)) {
      c->working = 1;
      uint64_t t0 = a64_counter();
      job_fn(job_arg, (int)c->index, job_nth);
      c->busy_ticks += a64_counter() - t0;
      c->jobs++;
      c->working = 0;
      __atomic_fetch_sub(&job_state, 1, __ATOMIC_RELEASE);
      return;
    }
  }
}

static _Noreturn void ap_main(void *arg) {
  struct a64_cpu *c = arg;
  SYSREG_WRITE(tpidr_el1, c->index);
  gic_cpu_init();
  uint64_t seen = load_state() >> 16;
  __atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
  __asm__ volatile("msr daifclr, #2" ::: "memory");
  for (;;) {
    uint64_t s = load_state();
    if ((s >> 16) != seen) {
      seen = s >> 16;
      join(c, s);
      continue;
    }
    uint64_t t0 = a64_counter();
    while ((load_state() >> 16) == seen && a64_counter() - t0 < spin_ticks)
      __asm__ volatile("yield");
    if ((load_state() >> 16) != seen) continue;
    __asm__ volatile("msr daifset, #2" ::: "memory");
    __atomic_store_n(&c->sleeping, 1, __ATOMIC_SEQ_CST);
    if ((__atomic_load_n(&job_state, __ATOMIC_SEQ_CST) >> 16) == seen)
      __asm__ volatile("dsb sy\n wfi" ::: "memory"); /* the wake SGI ends it */
    __asm__ volatile("msr daifclr, #2" ::: "memory"); /* take it */
    __atomic_store_n(&c->sleeping, 0, __ATOMIC_RELAXED);
  }
}

static void par_run(void *impl, par_fn fn, void *arg) {
  (void)impl;
  task_yield(); /* between jobs: the rest of the kernel runs */
  struct a64_cpu *me = &a64_cpus[0];
  uint64_t t0 = a64_counter();
  if (ncpus == 1) {
    fn(arg, 0, 1);
  } else {
    job_fn = fn;
    job_arg = arg;
    job_nth = ncpus;
    uint64_t job = (load_state() >> 16) + 1;
    __atomic_store_n(&job_state, job << 16 | OPEN, __ATOMIC_SEQ_CST);
    for (int i = 1; i < ncpus; i++)
      if (__atomic_load_n(&a64_cpus[i].sleeping, __ATOMIC_SEQ_CST)) {
        a64_cpus[i].wakeups++;
        gic_send_sgi(GIC_SGI_WAKE, a64_cpus[i].mpidr, a64_cpus[i].cpu_if);
      }
    fn(arg, 0, ncpus);
    __atomic_fetch_and(&job_state, ~OPEN, __ATOMIC_SEQ_CST);
    while (load_state() & INSIDE) __asm__ volatile("yield"); /* cores inside finish */
  }
  me->busy_ticks += a64_counter() - t0;
  me->jobs++;
}

static struct par_ops par = {1, par_run, 0};

const struct par_ops *a64_par(void) { return &par; }

int smp_cores(void) { return ncpus; }

/* FAULT-CPU: a job that reads an unmapped address on core `target`. */
static volatile uint32_t fault_target;

static void fault_job(void *arg, int ith, int nth) {
  (void)arg;
  (void)nth;
  if ((uint32_t)ith != fault_target) {
    /* the caller's share: keep the job open a while (100 ms), so a core
     * woken from wfi joins it before it closes */
    uint64_t t0 = a64_counter();
    while (ith == 0 && a64_counter() - t0 < gtimer_hz() / 10) __asm__ volatile("yield");
    return;
  }
  uintptr_t a = 0x10;
  __asm__ volatile("" : "+r"(a));
  (void)*(volatile uint64_t *)a;
}

int smp_fault_test(int cpu) {
  if (cpu < 0 || cpu >= ncpus) return MN_ERANGE;
  fault_target = (uint32_t)cpu;
  for (int i = 0; i < 100; i++) { /* until the core joins a job (and faults) */
    par_run(NULL, fault_job, NULL);
    task_sleep(MN_MSEC(1));
  }
  return MN_ETIMEDOUT;
}

/* PSCI CPU_ON (SMC64 function 0xc4000003). Returns PSCI's status (0: on). */
static int64_t psci_cpu_on(uint64_t mpidr, uint64_t entry, uint64_t ctx) {
  int hvc = acpi_psci_hvc(uefi_boot.rsdp);
  if (hvc < 0) hvc = !a64_entered_el2;
  register uint64_t x0 __asm__("x0") = 0xc4000003;
  register uint64_t x1 __asm__("x1") = mpidr;
  register uint64_t x2 __asm__("x2") = entry;
  register uint64_t x3 __asm__("x3") = ctx;
  if (hvc)
    __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
  else
    __asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) : : "memory");
  return (int64_t)x0;
}

/* Writes [p, p + n) back to memory (a core with its MMU off reads it). */
static void clean_to_poc(const void *p, size_t n) {
  for (uintptr_t a = (uintptr_t)p & ~63ul; a < (uintptr_t)p + n; a += 64)
    __asm__ volatile("dc cvac, %0" : : "r"(a) : "memory");
  __asm__ volatile("dsb sy" ::: "memory");
}

static int wait_online(struct a64_cpu *c, int ms) {
  for (int i = 0; i < ms; i++) {
    if (__atomic_load_n(&c->online, __ATOMIC_ACQUIRE)) return 1;
    task_sleep(MN_MSEC(1));
  }
  return __atomic_load_n(&c->online, __ATOMIC_ACQUIRE);
}

#define AFF_MASK 0xff00ffffffull

void smp_start(void) {
  static int done;
  if (done++) return;
  spin_ticks = gtimer_hz() / (1000000000ull / SPIN_NS);
  uint64_t me = SYSREG_READ(mpidr_el1) & AFF_MASK;
  a64_cpus[0].mpidr = me;
  const uint8_t *m = acpi_find(uefi_boot.rsdp, "APIC");
  uint64_t regs[4];
  if (!m || mmu_regs(regs)) {
    klog(LOG_INFO, "smp: 1 core (%s)", m ? "firmware page tables" : "no MADT");
    return;
  }
  uint32_t len;
  memcpy(&len, m + 4, 4);
  int listed = 0, failed = 0;
  for (uint32_t off = 44; off + 2 <= len && ncpus < A64_CPU_MAX;) {
    const uint8_t *e = m + off;
    uint8_t type = e[0], elen = e[1];
    if (elen < 2) break;
    off += elen;
    if (type != 0x0b || elen < 76) continue; /* GICC */
    uint32_t flags, cpu_if;
    uint64_t mpidr;
    memcpy(&flags, e + 12, 4);
    memcpy(&cpu_if, e + 4, 4);
    memcpy(&mpidr, e + 68, 8);
    if (!(flags & 1)) continue; /* not enabled */
    listed++;
    mpidr &= AFF_MASK;
    if (mpidr == me) {
      a64_cpus[0].cpu_if = cpu_if;
      continue;
    }
    struct a64_cpu *c = &a64_cpus[ncpus];
    memset(c, 0, sizeof *c);
    c->index = (uint32_t)ncpus;
    c->mpidr = mpidr;
    c->cpu_if = cpu_if;
    uint8_t *stack = kmalloc_aligned(AP_STACK, 4096);
    uint8_t *exc = kmalloc_aligned(AP_EXC_STACK, 4096);
    struct a64_ap_boot *b = kmalloc_aligned(sizeof *b, 64);
    if (!stack || !exc || !b) {
      klog(LOG_WARN, "smp: no memory for a core's stacks");
      kfree(stack), kfree(exc), kfree(b);
      break;
    }
    *b = (struct a64_ap_boot){regs[0], regs[1], regs[2], regs[3], SYSREG_READ(vbar_el1),
                              (uint64_t)(stack + AP_STACK), (uint64_t)(exc + AP_EXC_STACK),
                              (uint64_t)ap_main, (uint64_t)c};
    clean_to_poc(b, sizeof *b);
    clean_to_poc(c, sizeof *c);
    int64_t rc = psci_cpu_on(mpidr, (uint64_t)a64_ap_entry, (uint64_t)b);
    if (rc != 0 || !wait_online(c, 500)) {
      klog(LOG_WARN, "smp: the core with MPIDR %lx did not start (PSCI %ld)", mpidr, rc);
      failed++;
      if (rc != 0) kfree(stack), kfree(exc), kfree(b); /* never ran */
      continue;
    }
    ncpus++;
  }
  par.nthreads = ncpus;
  klog(LOG_INFO, "smp: %d cores (the MADT lists %d%s)", ncpus, listed,
       failed ? ", some did not start" : "");
}
