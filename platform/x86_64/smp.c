/*
 * smp.c: the other cores, started for the kernel's parallel-for
 * (platform/uefi/smp_par.c).
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
 * The parallel-for itself (the job word, the worker loop the cores enter,
 * the fault tests) is platform/uefi/smp_par.c; this file brings its x86
 * bits: the TSC, pause, the VEC_WAKE IPI, and sleeping in hlt with
 * interrupts off until the `sti; hlt`.
 *
 * Each AP's stack (64 KiB from the heap) has an unmapped guard page below
 * it: an overflow gives the fault dump, naming the core and its stack.
 *
 * Interface: smp_start, smp_overflow_test, smp_stack_guard_cpu,
 * x86_ap_main, the smp_arch_* hooks of smp_par.h.
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

extern const uint8_t x86_tramp_start[], x86_tramp_end[], x86_tramp_prot32[],
    x86_tramp_long64[];

uint64_t smp_arch_ticks(void) { return rdtsc(); }
void smp_arch_relax(void) { cpu_relax(); }
void smp_arch_wake(int i) { apic_send_ipi(x86_cpus[i].apic_id, VEC_WAKE); }
void smp_arch_irq_off(void) { __asm__ volatile("cli" ::: "memory"); }
void smp_arch_irq_on(void) { __asm__ volatile("sti" ::: "memory"); }
void smp_arch_sleep(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

_Noreturn void x86_ap_main(struct x86_cpu *c);

_Noreturn void x86_ap_main(struct x86_cpu *c) {
  cpu_init_ap(c->index);
  apic_ap_init(AP_TIMER_NS);
  smp_worker((int)c->index, &c->online);
}

int smp_overflow_test(int cpu) {
  if (cpu == 0) return MN_EINVAL; /* core 0's jobs run on a task's stack: OVERFLOW */
  return smp_fault_on(cpu, 1);
}

int smp_stack_guard_cpu(uint64_t va) {
  for (int i = 1; i < smp_cores(); i++)
    if (x86_cpus[i].stack_guard && va - x86_cpus[i].stack_guard < 4096) return i;
  return -1;
}

void smp_start(void) {
  static int done;
  if (done++) return;
  smp_par_init(apic_tsc_hz());
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
  int ncpus = 1, failed = 0;
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
    if (!smp_wait_online(&c->online, 1)) {
      apic_send_ipi(c->apic_id, 0x4600 | (base >> 12));
      smp_wait_online(&c->online, 200);
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
  smp_par_cores(ncpus);
  klog(LOG_INFO, "smp: %d cores (the MADT lists %d%s)", ncpus, n,
       failed ? ", some did not start" : "");
}
