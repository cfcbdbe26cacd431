/*
 * mon.c: the platform's diagnostic words, defined in every Forth VM
 * (forth_words_platform), where the built-in monitor's commands were:
 *   MEM ( -- )      usable memory regions and the kernel heap
 *   PS ( -- )       kernel tasks: state, stack use, switches
 *   CPU ( -- )      TSC rate, xsave, console size, lost input, NMIs
 *   FPU ( -- )      checks that SSE/AVX state survives interrupts and
 *                   task switches
 *   FAULT ( -- )    reads address 0x10 (unmapped): page fault dump
 *   FAULT-GP ( -- ) reads a non-canonical address: #GP dump
 *   FAULT-UD ( -- ) executes ud2: #UD dump
 *   FAULT-DIV ( -- ) divides by zero: #DE dump
 *   FAULT-CLI ( -- ) FAULT with interrupts off (as in kernel critical
 *                   code): the dump, then the machine halts
 *   OVERFLOW ( -- ) a task recursing into its stack guard page: dump
 *   FAULT-CPU ( n -- ) core n reads address 0x10: a dump naming the core
 *   OVERFLOW-CPU ( n -- ) core n (not 0) recurses into its stack's guard page
 * and the device words shared with aarch64 (platform/uefi/dev_words.c:
 * PCI, DISKS, SECTOR, SECTOR-FILL, ARP-PROBE, NET-SEND, NET-RECV,
 * GENERATE, LLM-STATS, LOAD-MODEL).
 * A fault ends only the task it happens in (cpu.c, task_fault_end: a VM
 * ends with THROW -304 for its joiner, a console session restarts on the
 * next input); with interrupts off (FAULT-CLI) and on other cores
 * (FAULT-CPU) it stops the machine. Output goes to the calling VM's
 * terminal (forth_task_out), in order with its own.
 *
 * Interface: mon_words_register.
 */
#include "mon.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "apic.h"
#include "boot.h"
#include "cpu.h"
#include "dev_words.h"
#include "fbcon.h"
#include "fpu.h"
#include "kbd.h"
#include "mneme/err.h"
#include "mneme/forth_task.h"
#include "mneme/heap.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/platform.h"
#include "mneme/task.h"
#include "serial.h"
#include "smp.h"
#include "x86.h"
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
  uint64_t khz = apic_tsc_hz() / 1000;
  for (int i = 0; i < smp_cores(); i++) {
    const struct x86_cpu *c = &x86_cpus[i];
    mprintf("cpu %d apic %u %-10s jobs %lu, busy %lu ms, wake IPIs %lu, interrupts %lu\n", i,
            c->apic_id, i == 0 ? "executor" : c->working ? "job" : c->sleeping ? "hlt" : "polling",
            c->jobs, khz ? c->busy_tsc / khz : 0, c->wakeups, i == 0 ? cpu_timer_irqs : c->irqs);
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
  mprintf("tsc %lu kHz, xsave mask 0x%lx (%u bytes), console %ux%u cells\n",
          apic_tsc_hz() / 1000, x86_xsave_mask, x86_xsave_size, cols, rows);
  mprintf("lost input: %lu serial bytes (receive ring full), %lu key events; "
          "%lu NMIs\n", serial_rx_dropped(), kbd_lost(), cpu_nmis);
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
  mprintf("fpu: ymm0-15 and MXCSR across interrupts: %s\n", irq);
  mprintf("fpu: xmm6-15 and MXCSR across task switches: %s\n", sw);
}

static void cmd_fault(const char *kind) {
  out_ft = NULL; /* the VM may not come back: the dump goes to the console */
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
WORD(w_fault_gp, cmd_fault("gp"))
WORD(w_fault_ud, cmd_fault("ud"))
WORD(w_fault_div, cmd_fault("div"))
WORD(w_fault_cli, cmd_fault("cli"))
WORD(w_overflow, cmd_overflow())

static int fault_cpu(forth_vm *vm, int overflow) {
  forth_cell n;
  if (forth_pop(vm, &n)) return -4;
  out_ft = forth_host_ctx(vm);
  mprintf("\n");
  int rc = overflow ? smp_overflow_test((int)n) : smp_fault_test((int)n);
  mprintf("%s: %s\n", overflow ? "overflow-cpu" : "fault-cpu", mn_strerror(rc));
  out_ft = NULL;
  return 0;
}

static int w_fault_cpu(forth_vm *vm, void *ctx) {
  (void)ctx;
  return fault_cpu(vm, 0);
}

static int w_overflow_cpu(forth_vm *vm, void *ctx) {
  (void)ctx;
  return fault_cpu(vm, 1);
}

void mon_words_register(void) {
  static const struct forth_task_word words[] = {
      {"MEM", w_mem},     {"PS", w_ps},             {"CPU", w_cpu},
      {"FPU", w_fpu},     {"FAULT", w_fault},       {"FAULT-GP", w_fault_gp},
      {"FAULT-UD", w_fault_ud}, {"FAULT-DIV", w_fault_div},
      {"FAULT-CLI", w_fault_cli}, {"OVERFLOW", w_overflow},
      {"FAULT-CPU", w_fault_cpu}, {"OVERFLOW-CPU", w_overflow_cpu},
  };
  dev_words_register(words, sizeof words / sizeof words[0]); /* + PCI, DISKS, ... */
  forth_status_platform = status_cores;
}
