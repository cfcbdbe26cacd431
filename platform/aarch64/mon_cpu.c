/*
 * mon_cpu.c: aarch64's part of the diagnostic words (platform/uefi/mon.c
 * has the shared ones):
 *   CPU ( -- )      CPU, GIC, timer, UART, console and MMU facts, then a
 *                   line per core (MPIDR, wfi/job, jobs, wake SGIs)
 *   FPU ( -- )      checks v0-v31/FPCR across interrupts and d8-d15/FPCR
 *                   across task switches
 *   FAULT ( -- )    reads address 0x10 (unmapped): data abort dump
 *   FAULT-UD ( -- ) executes an undefined instruction: dump
 *   FAULT-X ( -- )  jumps into a data page (not executable): dump
 *   FAULT-RO ( -- ) writes to mneme's code (read-only): dump
 *   FAULT-CLI ( -- ) FAULT with IRQs masked (as in kernel critical code):
 *                   the dump, then the machine halts
 *   QUANT ( -- )    the NEON dot kernels checked against the scalar ones
 *   QUANT-BENCH ( -- ) the same, timed: ns per row, scalar and NEON
 * A fault ends only the task it happens in (exc.c, task_fault_end).
 *
 * Interface: mon_cpu (mon.h).
 */
#include <stdint.h>
#include <string.h>

#include "a64.h"
#include "exc.h"
#include "fbcon.h"
#include "gic.h"
#include "gtimer.h"
#include "mmu.h"
#include "mon.h"
#include "neon.h"
#include "pl011.h"
#include "serial.h"
#include "smp.h"
#include "xprintf.h"

static void core(int i) {
  uint64_t khz = gtimer_hz() / 1000;
  const struct smp_core *p = &smp_core[i];
  mon_printf("cpu %d mpidr %lx %-10s jobs %lu, busy %lu ms, wake SGIs %lu\n", i, a64_cpus[i].mpidr,
             i == 0 ? "executor" : p->working ? "job" : p->sleeping ? "wfi" : "polling", p->jobs,
             khz ? p->busy_ticks / khz : 0, p->wakeups);
}

static void facts(void) {
  uint32_t cols = 0, rows = 0;
  fbcon_size(&cols, &rows);
  uint64_t midr = SYSREG_READ(midr_el1), isar0 = SYSREG_READ(id_aa64isar0_el1);
  uint64_t isar1 = SYSREG_READ(id_aa64isar1_el1);
  mon_printf("cpu: MIDR %08lx, EL%lu, %s%s%s\n", midr, (SYSREG_READ(currentel) >> 2) & 3,
          ((isar0 >> 44) & 0xf) ? "dotprod " : "", ((isar1 >> 52) & 0xf) ? "i8mm " : "",
          "neon");
  mon_printf("gic: v%d, distributor %lx, %s %lx, MSI %s; timer %lu kHz on interrupt %u, "
          "%lu interrupts\n", gic_version(), (uint64_t)gic_dist_base(),
          gic_version() == 3 ? "redistributor" : "cpu interface",
          (uint64_t)gic_cpu_base(), gic_msi_kind(), gtimer_hz() / 1000, gtimer_irq_id(), gtimer_irqs);
  mon_printf("uart: pl011 at %lx, interrupt %u; lost input: %lu bytes (ring full), "
          "%lu overruns\n", (uint64_t)pl011_base(), pl011_irq_id(), serial_rx_dropped(),
          pl011_overruns());
  mon_printf("console %ux%u cells; mmu: %u table pages; %lu interrupts in all\n", cols,
          rows, mmu_table_pages(), exc_irqs);
}

static uint64_t data_word = 0xd65f03c0d65f03c0ull; /* ret; ret */

static void cmd_fault(const char *kind) {
  mon_to_console(); /* the VM may not come back: the dump goes to the console */
  if (!strcmp(kind, "cli")) { /* IRQs masked: kernel critical code */
    xprintf("reading address 0x10 with interrupts masked\n");
    __asm__ volatile("msr daifset, #2");
  }
  if (!strcmp(kind, "ud")) {
    xprintf("executing an undefined instruction\n");
    __asm__ volatile("udf #0");
  }
  if (!strcmp(kind, "x")) {
    void (*fn)(void) = (void (*)(void))(uintptr_t)&data_word;
    __asm__ volatile("" : "+r"(fn));
    xprintf("calling %lx (a data page)\n", (uint64_t)(uintptr_t)fn);
    fn();
    xprintf("returned from a data page\n");
    return;
  }
  if (!strcmp(kind, "ro")) {
    volatile uint32_t *code = (volatile uint32_t *)(uintptr_t)&facts;
    __asm__ volatile("" : "+r"(code));
    xprintf("writing to %lx (code)\n", (uint64_t)(uintptr_t)code);
    *code = 0xd503201f; /* nop */
    xprintf("wrote to code\n");
    return;
  }
  uintptr_t a = 0x10;
  __asm__ volatile("" : "+r"(a)); /* hide the constant from the optimizer */
  xprintf("reading address %lx\n", (uint64_t)a);
  xprintf("read %lx\n", (uint64_t)*(volatile uint64_t *)a);
}

MON_WORD(w_fault, cmd_fault(""))
MON_WORD(w_fault_ud, cmd_fault("ud"))
MON_WORD(w_fault_x, cmd_fault("x"))
MON_WORD(w_fault_ro, cmd_fault("ro"))
MON_WORD(w_fault_cli, cmd_fault("cli"))
MON_WORD(w_quant, neon_check(0, mon_printf))
MON_WORD(w_quant_bench, neon_check(1, mon_printf))

static const struct forth_task_word words[] = {
    {"FAULT", w_fault},       {"FAULT-UD", w_fault_ud}, {"FAULT-X", w_fault_x},
    {"FAULT-RO", w_fault_ro}, {"FAULT-CLI", w_fault_cli}, {"QUANT", w_quant},
    {"QUANT-BENCH", w_quant_bench},
};

const struct mon_cpu mon_cpu = {
    .facts = facts,
    .core = core,
    .fpu_irq_regs = "v0-v31 and FPCR",
    .fpu_switch_regs = "d8-d15 and FPCR",
    .words = words,
    .nwords = sizeof words / sizeof words[0],
};
