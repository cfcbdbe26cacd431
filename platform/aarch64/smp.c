/*
 * smp.c: the other cores, started for the kernel's parallel-for
 * (platform/uefi/smp_par.c), as platform/x86_64/smp.c does it on PCs.
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
 * The parallel-for itself (the job word, the worker loop the cores enter,
 * the fault test) is platform/uefi/smp_par.c; this file brings its
 * aarch64 bits: the virtual counter, yield, the wake SGI, and sleeping in
 * wfi with interrupts masked (a pending interrupt still ends it).
 *
 * Interface: smp_start, smp_cpu_index, a64_cpus, the smp_arch_* hooks
 * of smp_par.h.
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

/* What a64_ap_entry reads (entry.S: the same offsets). */
struct a64_ap_boot {
  uint64_t ttbr0, tcr, mair, sctlr, vbar, stack, exc_stack, fn, arg;
};

struct a64_cpu a64_cpus[A64_CPU_MAX];

int smp_cpu_index(void) { return (int)SYSREG_READ(tpidr_el1); }

uint64_t smp_arch_ticks(void) { return a64_counter(); }
void smp_arch_relax(void) { __asm__ volatile("yield"); }
void smp_arch_wake(int i) { gic_send_sgi(GIC_SGI_WAKE, a64_cpus[i].mpidr, a64_cpus[i].cpu_if); }
void smp_arch_irq_off(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
void smp_arch_irq_on(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
void smp_arch_sleep(void) {
  __asm__ volatile("dsb sy\n wfi" ::: "memory"); /* a pending interrupt ends it */
  smp_arch_irq_on();                              /* take it */
}

static _Noreturn void ap_main(void *arg) {
  struct a64_cpu *c = arg;
  SYSREG_WRITE(tpidr_el1, c->index);
  gic_cpu_init();
  smp_worker((int)c->index, &c->online);
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

#define AFF_MASK 0xff00ffffffull

void smp_start(void) {
  static int done;
  if (done++) return;
  smp_par_init(gtimer_hz());
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
  int ncpus = 1, listed = 0, failed = 0;
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
    if (rc != 0 || !smp_wait_online(&c->online, 500)) {
      klog(LOG_WARN, "smp: the core with MPIDR %lx did not start (PSCI %ld)", mpidr, rc);
      failed++;
      if (rc != 0) kfree(stack), kfree(exc), kfree(b); /* never ran */
      continue;
    }
    ncpus++;
  }
  smp_par_cores(ncpus);
  klog(LOG_INFO, "smp: %d cores (the MADT lists %d%s)", ncpus, listed,
       failed ? ", some did not start" : "");
}
