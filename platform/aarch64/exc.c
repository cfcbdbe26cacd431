/*
 * exc.c: the C side of the exception vectors. Interrupts go to the GIC's
 * dispatcher (gic.c); every synchronous exception and SError is a fault:
 * the exception class and ESR, the fault address and what it is (a stack
 * guard page names the task that overflowed), the task, all registers
 * and a backtrace through the frame records (x29 chain) are printed on
 * serial and the framebuffer. A synchronous fault in a task (EL1 on
 * SP_EL0, IRQs unmasked, core 0) then ends only that task
 * (task_fault_end on its fresh stack); anything else ends in plat_halt(3).
 *
 * Interface: exc_init, a64_exception, exc_print_addr, plat_backtrace.
 */
#include "exc.h"

#include "a64.h"
#include "boot.h"
#include "gic.h"
#include "mmu.h"
#include "mneme/platform.h"
#include "mneme/task.h"
#include "smp.h"
#include "serial.h"
#include "xprintf.h"

volatile int exc_event_pending;
volatile uint64_t exc_irqs;
volatile int exc_halting;
volatile int exc_fpu_clobber;
static int in_fault;

void exc_init(void) {
  SYSREG_WRITE(vbar_el1, (uint64_t)a64_vectors);
  SYSREG_WRITE(cpacr_el1, SYSREG_READ(cpacr_el1) | (3ull << 20)); /* FPEN */
  isb();
}

static int in_image(uint64_t a) {
  return a >= uefi_boot.image_base && a < uefi_boot.image_base + uefi_boot.image_size;
}

void exc_print_addr(uint64_t a) {
  if (in_image(a))
    xprintf("  %016lx  mneme.efi+0x%lx\n", a, a - uefi_boot.image_base);
  else
    xprintf("  %016lx\n", a);
}

/*
 * Follows the frame records: x29 points at {previous x29, return
 * address}. Stops at a null, misaligned or unmapped record, or a record
 * that does not move up the stack.
 */
static size_t walk_frames(uint64_t fp, uintptr_t *pcs, size_t max) {
  size_t n = 0;
  while (n < max && fp && !(fp & 15) && mmu_is_mapped(fp) && mmu_is_mapped(fp + 8)) {
    const uint64_t *rec = (const uint64_t *)fp;
    uint64_t lr = rec[1];
    if (!lr) break;
    pcs[n++] = lr - 4; /* the call: bl/blr is the instruction before */
    if (rec[0] <= fp) break;
    fp = rec[0];
  }
  return n;
}

size_t plat_backtrace(uintptr_t *pcs, size_t max) {
  return walk_frames((uint64_t)__builtin_frame_address(0), pcs, max);
}

static const char *ec_name(unsigned ec) {
  switch (ec) {
  case 0x00: return "unknown reason (undefined instruction)";
  case 0x07: return "FP/SIMD access trapped";
  case 0x0e: return "illegal execution state";
  case 0x15: return "SVC";
  case 0x18: return "system register access trapped";
  case 0x20: return "instruction abort from EL0";
  case 0x21: return "instruction abort";
  case 0x22: return "PC alignment fault";
  case 0x24: return "data abort from EL0";
  case 0x25: return "data abort";
  case 0x26: return "SP alignment fault";
  case 0x2c: return "floating-point exception";
  case 0x2f: return "SError";
  case 0x3c: return "BRK instruction";
  default: return "exception";
  }
}

static const char *fsc_name(unsigned fsc) {
  switch (fsc & 0x3c) {
  case 0x04: return "translation fault";
  case 0x08: return "access flag fault";
  case 0x0c: return "permission fault";
  }
  if (fsc == 0x21) return "alignment fault";
  if (fsc == 0x10) return "synchronous external abort";
  return "other fault";
}

/* The dump; then a synchronous fault in a task (EL1 on SP_EL0, IRQs
 * unmasked, core 0) ends that task: the frame resumes at task_fault_end
 * on the task's fresh stack. Anything else halts the machine. */
static void fault(struct a64_frame *f) {
  if (in_fault++) {
    static const char msg[] = "\r\n*** nested fault during the dump; halted\r\n";
    serial_write(msg, sizeof msg - 1);
    plat_halt(3);
  }
  unsigned kind = (unsigned)f->kind;
  unsigned ec = (unsigned)(f->esr >> 26) & 0x3f;
  if ((kind & 3) == 3) ec = 0x2f;
  xprintf("\n*** EXCEPTION: %s (EC 0x%02x), ESR %08lx, vector %u, on cpu %d\n", ec_name(ec),
          ec, f->esr, kind, smp_cpu_index());
  if (ec == 0x20 || ec == 0x21 || ec == 0x24 || ec == 0x25) {
    unsigned fsc = (unsigned)f->esr & 0x3f;
    int insn = ec == 0x20 || ec == 0x21;
    xprintf("fault address (FAR) %016lx: %s, level %u, %s\n", f->far, fsc_name(fsc),
            fsc & 3, insn ? "instruction fetch" : (f->esr >> 6) & 1 ? "write" : "read");
    if (mmu_is_guard(f->far)) {
      struct task *g = task_guard_owner(f->far);
      xprintf("the address is a stack guard page: stack overflow of task %s\n",
              g ? g->name : "(unknown: the boot stack?)");
    }
  }
  struct task *t = task_current();
  xprintf("task: %s\n", t ? t->name : "(kernel, no task)");
  uint64_t sp = (kind >= 4 && kind < 8) ? (uint64_t)(f + 1) : f->sp_el0;
  xprintf("pc  %016lx  sp  %016lx  spsr %08lx\n", f->elr, sp, f->spsr);
  exc_print_addr(f->elr);
  for (int i = 0; i < 30; i += 3)
    xprintf("x%-2d %016lx  x%-2d %016lx  x%-2d %016lx\n", i, f->x[i], i + 1,
            f->x[i + 1], i + 2, f->x[i + 2]);
  xprintf("x30 %016lx  sctlr %08lx  ttbr0 %016lx\n", f->x[30],
          SYSREG_READ(sctlr_el1), SYSREG_READ(ttbr0_el1));
  uintptr_t pcs[16];
  size_t n = walk_frames(f->x[29], pcs, 16);
  xprintf("backtrace (frame records):\n");
  for (size_t i = 0; i < n; i++) {
    size_t same = 1;
    while (i + same < n && pcs[i + same] == pcs[i]) same++;
    exc_print_addr(pcs[i]);
    if (same > 1) xprintf("  ... the same %zu more times\n", same - 1);
    i += same - 1;
  }
  uintptr_t top;
  if (kind == 0 && !(f->spsr & 0x80) && (SYSREG_READ(mpidr_el1) & 0xffffff) == 0 &&
      task_fault_resumable(&top)) {
    xprintf("*** task %s ends; the kernel and the other tasks go on\n", t->name);
    f->elr = (uint64_t)(uintptr_t)task_fault_end;
    f->sp_el0 = (uint64_t)top & ~(uint64_t)15;
    f->x[0] = (uint64_t)(int64_t)TASK_EXIT_FAULT;
    f->x[29] = 0;
    f->x[30] = 0;
    in_fault = 0;
    return;
  }
  xprintf("*** machine halted\n");
  plat_halt(3);
}

void a64_exception(struct a64_frame *f) {
  unsigned type = (unsigned)f->kind & 3;
  if (type == 1 || type == 2) {
    exc_irqs++;
    exc_event_pending = 1;
    gic_dispatch();
    if (exc_fpu_clobber) /* fpu.c's test: wreck the vector state */
      __asm__ volatile(
          "movi v0.16b, #0\n movi v1.16b, #0\n movi v2.16b, #0\n movi v3.16b, #0\n"
          "movi v4.16b, #0\n movi v5.16b, #0\n movi v6.16b, #0\n movi v7.16b, #0\n"
          "movi v8.16b, #0\n movi v9.16b, #0\n movi v10.16b, #0\n movi v11.16b, #0\n"
          "movi v12.16b, #0\n movi v13.16b, #0\n movi v14.16b, #0\n movi v15.16b, #0\n"
          "movi v16.16b, #0\n movi v17.16b, #0\n movi v18.16b, #0\n movi v19.16b, #0\n"
          "movi v20.16b, #0\n movi v21.16b, #0\n movi v22.16b, #0\n movi v23.16b, #0\n"
          "movi v24.16b, #0\n movi v25.16b, #0\n movi v26.16b, #0\n movi v27.16b, #0\n"
          "movi v28.16b, #0\n movi v29.16b, #0\n movi v30.16b, #0\n movi v31.16b, #0\n"
          "msr fpcr, xzr"
          : : : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10",
            "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21",
            "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31");
    return;
  }
  if (exc_halting) { /* plat_halt's semihosting call trapped: no host */
    exc_halting = 2;
    f->elr += 4;
    return;
  }
  fault(f);
}
