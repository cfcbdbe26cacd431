/*
 * mon.c: the diagnostic words both UEFI platforms share, defined in every
 * Forth VM (forth_words_platform), where the built-in monitor's commands
 * were:
 *   MEM ( -- )       usable memory regions and the kernel heap
 *   PS ( -- )        kernel tasks: state, stack use, switches
 *   CPU ( -- )       the CPU's facts (the platform's mon_cpu.c), then a
 *                    line per core: what it does, jobs, busy time, wakes
 *   FPU ( -- )       checks that the FP/SIMD registers survive interrupts
 *                    and task switches
 *   OVERFLOW ( -- )  a task recursing into its stack's guard page: dump
 *   FAULT-CPU ( n -- ) core n reads address 0x10: a dump naming the core
 * and the cores' lines in STATUS. A fault ends only the task it happens
 * in (task_fault_end: a VM ends with THROW -304 for its joiner, a console
 * session restarts on the next input); with interrupts off (FAULT-CLI)
 * and on other cores (FAULT-CPU) it stops the machine.
 *
 * Interface: mon.h.
 */
#include "mon.h"

#include <stdarg.h>
#include <stdint.h>

#include "boot.h"
#include "dev_words.h"
#include "fpu.h"
#include "mneme/err.h"
#include "mneme/heap.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/platform.h"
#include "mneme/task.h"
#include "smp.h"
#include "xprintf.h"

static struct forth_task *out_ft; /* the VM running the current word */

void mon_printf(const char *fmt, ...) {
  char b[256];
  va_list ap;
  va_start(ap, fmt);
  size_t n = xvsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  if (n >= sizeof b) n = sizeof b - 1;
  if (out_ft) forth_task_out(out_ft, b, n);
  else plat_console_write(b, n);
}

void mon_begin(forth_vm *vm) {
  out_ft = forth_host_ctx(vm);
  mon_printf("\n");
}

void mon_end(void) { out_ft = NULL; }

void mon_to_console(void) { out_ft = NULL; }

static void cmd_mem(void) {
  const struct boot_info *bi = &uefi_boot.info;
  mon_printf("mem: %lu KiB usable (%lu MiB) in %zu regions\n",
             uefi_boot.ram_total >> 10, uefi_boot.ram_total >> 20, bi->nregions);
  for (size_t i = 0; i < bi->nregions && i < 8; i++)
    mon_printf("  %016lx-%016lx %lu KiB\n", (uint64_t)bi->regions[i].base,
               (uint64_t)(bi->regions[i].base + bi->regions[i].size),
               (uint64_t)bi->regions[i].size >> 10);
  if (bi->nregions > 8) mon_printf("  ... %zu more\n", bi->nregions - 8);
  struct heap_stats hs;
  heap_stats(kmem_heap(), &hs);
  mon_printf("heap: %zu KiB total, %zu KiB in use, %zu KiB free, largest free %zu KiB\n",
             hs.total >> 10, hs.in_use >> 10, hs.free >> 10, hs.largest_free >> 10);
}

static void cmd_ps(void) {
  struct task_info ti[32];
  size_t n = task_list(ti, 32);
  mon_printf("  id name                     state    stack used/size  switches\n");
  for (size_t i = 0; i < n && i < 32; i++)
    mon_printf("%4u %-24s %-8s %6zu/%-6zu %10lu\n", ti[i].id, ti[i].name,
               task_state_name(ti[i].state), ti[i].stack_used_max, ti[i].stack_size,
               ti[i].switches);
}

static void cmd_cpu(void) {
  mon_cpu.facts();
  for (int i = 0; i < smp_cores(); i++) mon_cpu.core(i);
}

/* STATUS's platform part: the cores. */
static void status_cores(struct forth_task *ft) {
  struct forth_task *prev = out_ft;
  out_ft = ft;
  mon_printf("cores %d: cpu 0 runs the executor, the others parallel-for jobs\n", smp_cores());
  for (int i = 0; i < smp_cores(); i++) mon_cpu.core(i);
  out_ft = prev;
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
  mon_printf("fpu: %s across interrupts: %s\n", mon_cpu.fpu_irq_regs, irq);
  mon_printf("fpu: %s across task switches: %s\n", mon_cpu.fpu_switch_regs, sw);
}

/* OVERFLOW: a task recursing into the guard page below its stack. */
static volatile uint64_t ovf_limit = UINT64_MAX;

static __attribute__((noinline)) uint64_t recurse(uint64_t n) {
  volatile uint8_t pad[256];
  pad[0] = (uint8_t)n;
  if (n >= ovf_limit) return n;
  return recurse(n + 1) + pad[0];
}

uint64_t mon_overflow(void) { return recurse(0); }

static int ovf_task(void *arg) {
  (void)arg;
  return (int)mon_overflow();
}

static void cmd_overflow(void) {
  int rc = task_spawn("overflow-test", ovf_task, 0, 16 * 1024, 0);
  if (rc) mon_printf("overflow: %s\n", mn_strerror(rc));
  else task_sleep(MN_SEC(5));
}

MON_WORD(w_mem, cmd_mem())
MON_WORD(w_ps, cmd_ps())
MON_WORD(w_cpu, cmd_cpu())
MON_WORD(w_fpu, cmd_fpu())
MON_WORD(w_overflow, cmd_overflow())

static int w_fault_cpu(forth_vm *vm, void *ctx) {
  (void)ctx;
  forth_cell n;
  if (forth_pop(vm, &n)) return -4;
  mon_begin(vm);
  int rc = smp_fault_test((int)n);
  mon_printf("fault-cpu: %s\n", mn_strerror(rc));
  mon_end();
  return 0;
}

void mon_words_register(void) {
  static const struct forth_task_word common[] = {
      {"MEM", w_mem}, {"PS", w_ps}, {"CPU", w_cpu}, {"FPU", w_fpu},
      {"OVERFLOW", w_overflow}, {"FAULT-CPU", w_fault_cpu},
  };
  static struct forth_task_word words[32];
  size_t n = 0;
  for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) words[n++] = common[i];
  for (size_t i = 0; i < mon_cpu.nwords && n < sizeof words / sizeof words[0]; i++)
    words[n++] = mon_cpu.words[i];
  dev_words_register(words, n); /* + PCI, DISKS, ... */
  forth_status_platform = status_cores;
}
