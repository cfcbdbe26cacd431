/*
 * mon.c: the platform's diagnostic words, defined in every Forth VM
 * (forth_words_platform), as on x86_64:
 *   MEM ( -- )      usable memory regions and the kernel heap
 *   PS ( -- )       kernel tasks: state, stack use, switches
 *   CPU ( -- )      CPU, GIC, timer, UART, console and MMU facts, the cores
 *   FPU ( -- )      checks that FP/SIMD state survives interrupts and
 *                   task switches
 *   FAULT ( -- )    reads address 0x10 (unmapped): data abort dump
 *   FAULT-UD ( -- ) executes an undefined instruction: dump
 *   FAULT-X ( -- )  jumps into a data page (not executable): dump
 *   FAULT-RO ( -- ) writes to mneme's code (read-only): dump
 *   FAULT-CLI ( -- ) FAULT with IRQs masked (as in kernel critical code):
 *                   the dump, then the machine halts
 *   OVERFLOW ( -- ) a task recursing into its stack guard page: dump
 *   QUANT ( -- )    the NEON dot kernels checked against the scalar ones
 *   QUANT-BENCH ( -- ) the same, timed: ns per row, scalar and NEON
 *   FAULT-CPU ( n -- ) core n reads address 0x10: a dump naming the core
 * and the device words shared with x86_64 (platform/uefi/dev_words.c:
 * PCI, DISKS, SECTOR, SECTOR-FILL, ARP-PROBE, NET-SEND, NET-RECV,
 * GENERATE, LLM-STATS, LOAD-MODEL).
 * A fault ends only the task it happens in (exc.c, task_fault_end: a VM
 * ends with THROW -304 for its joiner, a console session restarts on the
 * next input); FAULT-CLI and faults on other cores (FAULT-CPU) stop the
 * machine. Output goes to the calling VM's
 * terminal (forth_task_out), in order with its own.
 *
 * Interface: mon_words_register.
 */
#include "mon.h"

#include "neon.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "a64.h"
#include "boot.h"
#include "dev_words.h"
#include "exc.h"
#include "fbcon.h"
#include "fpu.h"
#include "gic.h"
#include "mmu.h"
#include "mneme/err.h"
#include "mneme/forth_task.h"
#include "mneme/heap.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/platform.h"
#include "mneme/task.h"
#include "pl011.h"
#include "serial.h"
#include "smp.h"
#include "gtimer.h"
#include "xprintf.h"

static struct forth_task *out_ft; /* the VM running the current word */

static void mprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void mprintf(const char *fmt, ...) {
  char b[256];
  va_list ap;
  va_start(ap, fmt);
  size_t n = xvsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  if (n >= sizeof b) n = sizeof b - 1;
  if (out_ft) forth_task_out(out_ft, b, n);
  else plat_console_write(b, n);
}

static void cmd_mem(void) {
  const struct boot_info *bi = &x86_boot.info;
  mprintf("mem: %lu KiB usable (%lu MiB) in %zu regions\n",
          x86_boot.ram_total >> 10, x86_boot.ram_total >> 20, bi->nregions);
  for (size_t i = 0; i < bi->nregions && i < 8; i++)
    mprintf("  %016lx-%016lx %lu KiB\n", (uint64_t)bi->regions[i].base,
            (uint64_t)(bi->regions[i].base + bi->regions[i].size),
            (uint64_t)bi->regions[i].size >> 10);
  if (bi->nregions > 8) mprintf("  ... %zu more\n", bi->nregions - 8);
  struct heap_stats hs;
  heap_stats(kmem_heap(), &hs);
  mprintf("heap: %zu KiB total, %zu KiB in use, %zu KiB free, largest free %zu KiB\n",
          hs.total >> 10, hs.in_use >> 10, hs.free >> 10, hs.largest_free >> 10);
}

static void cmd_ps(void) {
  struct task_info ti[32];
  size_t n = task_list(ti, 32);
  mprintf("  id name                     state    stack used/size  switches\n");
  for (size_t i = 0; i < n && i < 32; i++)
    mprintf("%4u %-24s %-8s %6zu/%-6zu %10lu\n", ti[i].id, ti[i].name,
            task_state_name(ti[i].state), ti[i].stack_used_max,
            ti[i].stack_size, ti[i].switches);
}

/* One line per core (CPU and STATUS). */
static void cores(void) {
  uint64_t khz = gtimer_hz() / 1000;
  for (int i = 0; i < smp_cores(); i++) {
    const struct a64_cpu *c = &a64_cpus[i];
    mprintf("cpu %d mpidr %lx %-10s jobs %lu, busy %lu ms, wake SGIs %lu\n", i, c->mpidr,
            i == 0 ? "executor" : c->working ? "job" : c->sleeping ? "wfi" : "polling", c->jobs,
            khz ? c->busy_ticks / khz : 0, c->wakeups);
  }
}

static void status_cores(struct forth_task *ft) {
  struct forth_task *prev = out_ft;
  out_ft = ft;
  mprintf("cores %d: cpu 0 runs the executor, the others parallel-for jobs\n", smp_cores());
  cores();
  out_ft = prev;
}

static void cmd_cpu(void) {
  uint32_t cols = 0, rows = 0;
  fbcon_size(&cols, &rows);
  uint64_t midr = SYSREG_READ(midr_el1), isar0 = SYSREG_READ(id_aa64isar0_el1);
  uint64_t isar1 = SYSREG_READ(id_aa64isar1_el1);
  mprintf("cpu: MIDR %08lx, EL%lu, %s%s%s\n", midr, (SYSREG_READ(currentel) >> 2) & 3,
          ((isar0 >> 44) & 0xf) ? "dotprod " : "", ((isar1 >> 52) & 0xf) ? "i8mm " : "",
          "neon");
  mprintf("gic: v%d, distributor %lx, %s %lx, MSI %s; timer %lu kHz on interrupt %u, "
          "%lu interrupts\n", gic_version(), (uint64_t)gic_dist_base(),
          gic_version() == 3 ? "redistributor" : "cpu interface",
          (uint64_t)gic_cpu_base(), gic_msi_kind(), gtimer_hz() / 1000, gtimer_irq_id(), gtimer_irqs);
  mprintf("uart: pl011 at %lx, interrupt %u; lost input: %lu bytes (ring full), "
          "%lu overruns\n", (uint64_t)pl011_base(), pl011_irq_id(), serial_rx_dropped(),
          pl011_overruns());
  mprintf("console %ux%u cells; mmu: %u table pages; %lu interrupts in all\n", cols,
          rows, mmu_table_pages(), exc_irqs);
  cores();
}

static const char *verdict(int r) {
  return r > 0 ? "ok" : r == 0 ? "FAILED" : "not checked";
}

/* The checks wait (other VMs may run words meanwhile): print after. */
static void cmd_fpu(void) {
  struct forth_task *ft = out_ft;
  const char *irq = verdict(fpu_test_irq());
  const char *sw = verdict(fpu_test_switch());
  out_ft = ft;
  mprintf("fpu: v0-v31 and FPCR across interrupts: %s\n", irq);
  mprintf("fpu: d8-d15 and FPCR across task switches: %s\n", sw);
}

static uint64_t data_word = 0xd65f03c0d65f03c0ull; /* ret; ret */

static void cmd_fault(const char *kind) {
  out_ft = NULL; /* the VM may not come back: the dump goes to the console */
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
    volatile uint32_t *code = (volatile uint32_t *)(uintptr_t)&cmd_cpu;
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

/* overflow: a task recursing into the guard page below its stack. */
static volatile uint64_t ovf_limit = UINT64_MAX;

static __attribute__((noinline)) uint64_t recurse(uint64_t n) {
  volatile uint8_t pad[256];
  pad[0] = (uint8_t)n;
  if (n >= ovf_limit) return n;
  return recurse(n + 1) + pad[0];
}

static int ovf_task(void *arg) {
  (void)arg;
  return (int)recurse(0);
}

static void cmd_overflow(void) {
  int rc = task_spawn("overflow-test", ovf_task, 0, 16 * 1024, 0);
  if (rc) mprintf("overflow: %s\n", mn_strerror(rc));
  else task_sleep(MN_SEC(5));
}

/* The words: each notes its VM for mprintf; output starts on a new line
 * (after the echoed input). */
#define WORD(fname, body)                                                     \
  static int fname(forth_vm *vm, void *ctx) {                               \
    (void)ctx;                                                                \
    out_ft = forth_host_ctx(vm);                                              \
    mprintf("\n");                                                           \
    body;                                                                     \
    out_ft = NULL;                                                            \
    return 0;                                                                 \
  }
WORD(w_mem, cmd_mem())
WORD(w_ps, cmd_ps())
WORD(w_cpu, cmd_cpu())
WORD(w_fpu, cmd_fpu())
WORD(w_fault, cmd_fault(""))
WORD(w_fault_ud, cmd_fault("ud"))
WORD(w_fault_x, cmd_fault("x"))
WORD(w_fault_ro, cmd_fault("ro"))
WORD(w_fault_cli, cmd_fault("cli"))
WORD(w_overflow, cmd_overflow())
WORD(w_quant, neon_check(0, mprintf))

static int w_fault_cpu(forth_vm *vm, void *ctx) {
  (void)ctx;
  forth_cell n;
  if (forth_pop(vm, &n)) return -4;
  out_ft = forth_host_ctx(vm);
  mprintf("\n");
  int rc = smp_fault_test((int)n);
  mprintf("fault-cpu: %s\n", mn_strerror(rc));
  out_ft = NULL;
  return 0;
}
WORD(w_quant_bench, neon_check(1, mprintf))

void mon_words_register(void) {
  static const struct forth_task_word words[] = {
      {"MEM", w_mem},           {"PS", w_ps},           {"CPU", w_cpu},
      {"FPU", w_fpu},
      {"FAULT", w_fault},       {"FAULT-UD", w_fault_ud}, {"FAULT-X", w_fault_x},
      {"FAULT-RO", w_fault_ro}, {"FAULT-CLI", w_fault_cli},
      {"OVERFLOW", w_overflow}, {"QUANT", w_quant},
      {"QUANT-BENCH", w_quant_bench}, {"FAULT-CPU", w_fault_cpu},
  };
  dev_words_register(words, sizeof words / sizeof words[0]); /* + PCI, DISKS, ... */
  forth_status_platform = status_cores;
}
