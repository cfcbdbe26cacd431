/*
 * mon_cpu.c: x86_64's part of the diagnostic words (platform/uefi/mon.c
 * has the shared ones):
 *   CPU ( -- )      TSC rate, xsave, console size, lost input, NMIs, then
 *                   a line per core (APIC id, hlt/job, jobs, wake IPIs)
 *   FPU ( -- )      checks ymm0-15/MXCSR across interrupts and
 *                   xmm6-15/MXCSR across task switches
 *   FAULT ( -- )    reads address 0x10 (unmapped): page fault dump
 *   FAULT-GP ( -- ) reads a non-canonical address: #GP dump
 *   FAULT-UD ( -- ) executes ud2: #UD dump
 *   FAULT-DIV ( -- ) divides by zero: #DE dump
 *   FAULT-CLI ( -- ) FAULT with interrupts off (as in kernel critical
 *                   code): the dump, then the machine halts
 *   OVERFLOW-CPU ( n -- ) core n (not 0) recurses into its stack's guard page
 * A fault ends only the task it happens in (cpu.c, task_fault_end).
 *
 * Interface: mon_cpu (mon.h).
 */
#include <stdint.h>
#include <string.h>

#include "apic.h"
#include "cpu.h"
#include "fbcon.h"
#include "kbd.h"
#include "mneme/err.h"
#include "mon.h"
#include "serial.h"
#include "smp.h"
#include "x86.h"
#include "xprintf.h"

static void facts(void) {
  uint32_t cols = 0, rows = 0;
  fbcon_size(&cols, &rows);
  mon_printf("tsc %lu kHz, xsave mask 0x%lx (%u bytes), console %ux%u cells\n",
             apic_tsc_hz() / 1000, x86_xsave_mask, x86_xsave_size, cols, rows);
  mon_printf("lost input: %lu serial bytes (receive ring full), %lu key events; "
             "%lu NMIs\n", serial_rx_dropped(), kbd_lost(), cpu_nmis);
}

static void core(int i) {
  uint64_t khz = apic_tsc_hz() / 1000;
  const struct x86_cpu *c = &x86_cpus[i];
  const struct smp_core *p = &smp_core[i];
  mon_printf("cpu %d apic %u %-10s jobs %lu, busy %lu ms, wake IPIs %lu, interrupts %lu\n", i,
             c->apic_id, i == 0 ? "executor" : p->working ? "job" : p->sleeping ? "hlt" : "polling",
             p->jobs, khz ? p->busy_ticks / khz : 0, p->wakeups, i == 0 ? cpu_timer_irqs : c->irqs);
}

static void cmd_fault(const char *kind) {
  mon_to_console(); /* the VM may not come back: the dump goes to the console */
  if (!strcmp(kind, "div")) {
    xprintf("dividing by zero\n");
    uint64_t q = 1, d = 0;
    __asm__ volatile("" : "+r"(d));
    __asm__ volatile("xor %%edx, %%edx\n\tdiv %1" : "+a"(q) : "r"(d) : "rdx");
  }
  if (!strcmp(kind, "cli")) { /* interrupts off: kernel critical code */
    xprintf("reading address 0x10 with interrupts off\n");
    __asm__ volatile("cli");
  }
  if (!strcmp(kind, "ud")) {
    xprintf("executing ud2\n");
    __asm__ volatile("ud2");
  }
  uintptr_t a = !strcmp(kind, "gp") ? 0x8000000000000000ull : 0x10;
  __asm__ volatile("" : "+r"(a)); /* hide the constant from the optimizer */
  xprintf("reading address %lx\n", (uint64_t)a);
  xprintf("read %lx\n", (uint64_t)*(volatile uint64_t *)a);
}

MON_WORD(w_fault, cmd_fault(""))
MON_WORD(w_fault_gp, cmd_fault("gp"))
MON_WORD(w_fault_ud, cmd_fault("ud"))
MON_WORD(w_fault_div, cmd_fault("div"))
MON_WORD(w_fault_cli, cmd_fault("cli"))

static int w_overflow_cpu(forth_vm *vm, void *ctx) {
  (void)ctx;
  forth_cell n;
  if (forth_pop(vm, &n)) return -4;
  mon_begin(vm);
  int rc = smp_overflow_test((int)n);
  mon_printf("overflow-cpu: %s\n", mn_strerror(rc));
  mon_end();
  return 0;
}

static const struct forth_task_word words[] = {
    {"FAULT", w_fault},       {"FAULT-GP", w_fault_gp},   {"FAULT-UD", w_fault_ud},
    {"FAULT-DIV", w_fault_div}, {"FAULT-CLI", w_fault_cli}, {"OVERFLOW-CPU", w_overflow_cpu},
};

const struct mon_cpu mon_cpu = {
    .facts = facts,
    .core = core,
    .fpu_irq_regs = "ymm0-15 and MXCSR",
    .fpu_switch_regs = "xmm6-15 and MXCSR",
    .words = words,
    .nwords = sizeof words / sizeof words[0],
};
