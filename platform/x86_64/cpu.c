/*
 * cpu.c: GDT with a 64-bit TSS whose interrupt stack table gives double
 * faults, NMIs, page faults and machine checks their own stacks (so a task
 * stack overflow still gets a dump), the other exceptions one more (task
 * stacks can be small; exceptions are fatal, so they do not nest) and
 * hardware interrupts a shared one;
 * the IDT over entry.S's stubs; the C side of interrupt dispatch; the
 * exception dump (vector, error code, registers, task, backtrace) that
 * ends in plat_halt; and the FPU setup: SSE, and AVX/AVX-512 state through
 * XSAVE where the CPU has it, saved by every interrupt entry.
 *
 * Interface: cpu_init, cpu_set_irq_handler, cpu_vector_alloc, cpu_event_pending,
 * cpu_print_backtrace, x86_interrupt, plat_backtrace.
 */
#include "cpu.h"

#include <string.h>

#include "apic.h"
#include "boot.h"
#include "mneme/err.h"
#include "mneme/platform.h"
#include "mneme/task.h"
#include "paging.h"
#include "serial.h"
#include "smp.h"
#include "x86.h"
#include "xprintf.h"

struct tss {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3, iomap;
} __attribute__((packed));

struct idt_gate {
  uint16_t off_lo, sel;
  uint8_t ist, type;
  uint16_t off_mid;
  uint32_t off_hi, zero;
};

#define IST_STACK 16384
enum { IST_DF = 1, IST_NMI, IST_PF, IST_MC, IST_IRQ, IST_EXC, IST_COUNT = 6 };

/* Per processor: a GDT (its TSS descriptor), a TSS and the IST stacks. */
static uint64_t gdts[CPU_MAX][5];
static struct tss tsss[CPU_MAX];
static struct idt_gate idt[256];
__attribute__((aligned(4096))) static uint8_t ist_stacks[CPU_MAX][IST_COUNT][IST_STACK];
struct x86_cpu x86_cpus[CPU_MAX];
static void (*irq_handlers[VEC_IRQ_MAX])(void);
#define DYN_SHARE 4
static struct dyn_vec {
  void (*fn[DYN_SHARE])(void *);
  void *arg[DYN_SHARE];
  int used, shared;
  uint32_t key;
} dyn[VEC_DYN_END - VEC_DYN0];

extern const uint8_t x86_isr_table[]; /* entry.S: 256 stubs, 16 bytes each */

volatile int cpu_event_pending;
volatile uint64_t cpu_timer_irqs;
volatile uint64_t cpu_nmis;
volatile int cpu_fpu_clobber;
uint32_t x86_xsave_size;
uint64_t x86_xsave_mask;
static volatile int in_fault;

struct __attribute__((packed)) dtr {
  uint16_t limit;
  uint64_t base;
};

static void load_gdt(uint32_t cpu) {
  uint64_t *gdt = gdts[cpu];
  struct tss *tssp = &tsss[cpu];
  gdt[0] = 0;
  gdt[1] = 0x00af9a000000ffffull; /* 0x08: kernel code, 64-bit */
  gdt[2] = 0x00cf92000000ffffull; /* 0x10: kernel data */
  uint64_t base = (uint64_t)tssp, limit = sizeof *tssp - 1;
  gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
           (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
  gdt[4] = base >> 32;
  for (int i = 0; i < IST_COUNT; i++)
    tssp->ist[i] = (uint64_t)&ist_stacks[cpu][i][IST_STACK];
  tssp->iomap = sizeof *tssp;
  struct dtr d = {5 * sizeof *gdt - 1, (uint64_t)gdt};
  __asm__ volatile(
      "lgdt %0\n"
      "pushq $0x08\n"
      "leaq 1f(%%rip), %%rax\n"
      "pushq %%rax\n"
      "lretq\n"
      "1: movl $0x10, %%eax\n"
      "movl %%eax, %%ds\n movl %%eax, %%es\n movl %%eax, %%ss\n"
      "xorl %%eax, %%eax\n movl %%eax, %%fs\n movl %%eax, %%gs\n"
      "movw $0x18, %%ax\n ltr %%ax\n"
      :
      : "m"(d)
      : "rax", "memory");
  /* %gs:0 is the processor's index (cpu_index): the GS base is its record */
  x86_cpus[cpu].index = cpu;
  wrmsr(0xc0000101u, (uint64_t)&x86_cpus[cpu]);
}

static void lidt(void) {
  struct dtr d = {sizeof idt - 1, (uint64_t)idt};
  __asm__ volatile("lidt %0" : : "m"(d));
}

static void load_idt(void) {
  for (int v = 0; v < 256; v++) {
    uint64_t a = (uint64_t)(x86_isr_table + 16 * v);
    struct idt_gate *g = &idt[v];
    g->off_lo = a & 0xffff;
    g->sel = 0x08;
    g->type = 0x8e; /* present, DPL 0, interrupt gate */
    g->off_mid = (a >> 16) & 0xffff;
    g->off_hi = a >> 32;
    g->ist = v >= 32 ? IST_IRQ : IST_EXC;
  }
  idt[8].ist = IST_DF;
  idt[2].ist = IST_NMI;
  idt[14].ist = IST_PF;
  idt[18].ist = IST_MC;
  lidt();
}

/* Enables SSE and, where present, XSAVE with x87/SSE/AVX/AVX-512 state. */
static void fpu_init(void) {
  uint32_t r[4];
  write_cr0((read_cr0() & ~(1ull << 2)) | (1ull << 1) | (1ull << 5));
  uint64_t cr4 = read_cr4() | (1ull << 9) | (1ull << 10);
  cpuid(1, 0, r);
  x86_xsave_size = 512;
  if (r[2] & (1u << 26)) { /* XSAVE */
    write_cr4(cr4 | (1ull << 18));
    uint32_t d[4];
    cpuid(0xd, 0, d);
    uint64_t supported = ((uint64_t)d[3] << 32) | d[0];
    uint64_t want = 3; /* x87, SSE */
    if ((r[2] & (1u << 28)) && (supported & 4)) want |= 4; /* AVX */
    if ((supported & 0xe0) == 0xe0 && (want & 4)) want |= 0xe0; /* AVX-512 */
    xsetbv(0, want);
    cpuid(0xd, 0, d);
    if (d[1] + 64 <= 4096) { /* entry.S reserves 4 KiB for the area */
      x86_xsave_mask = want;
      x86_xsave_size = d[1];
    } else {
      xsetbv(0, 3);
      x86_xsave_mask = 3;
      x86_xsave_size = 576;
    }
  } else {
    write_cr4(cr4);
  }
  __asm__ volatile("fninit");
  uint32_t mxcsr = 0x1f80;
  __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
}

void cpu_init(void) {
  load_gdt(0);
  load_idt();
  fpu_init();
  x86_cpus[0].online = 1;
}

/* The boot processor's FPU settings (x86_xsave_mask) on this one. */
static void fpu_init_ap(void) {
  uint32_t r[4];
  write_cr0((read_cr0() & ~(1ull << 2)) | (1ull << 1) | (1ull << 5));
  uint64_t cr4 = read_cr4() | (1ull << 9) | (1ull << 10);
  cpuid(1, 0, r);
  if (x86_xsave_mask) {
    write_cr4(cr4 | (1ull << 18));
    xsetbv(0, x86_xsave_mask);
  } else {
    write_cr4(cr4);
  }
  __asm__ volatile("fninit");
  uint32_t mxcsr = 0x1f80;
  __asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
}

void cpu_init_ap(uint32_t index) {
  load_gdt(index);
  lidt();
  fpu_init_ap();
}

void cpu_set_irq_handler(unsigned gsi, void (*handler)(void)) {
  if (gsi < VEC_IRQ_MAX) irq_handlers[gsi] = handler;
}

int cpu_vector_alloc(void (*fn)(void *), void *arg, int share, uint32_t key) {
  unsigned long s = plat_irq_save();
  int found = -1;
  for (int v = 0; v < VEC_DYN_END - VEC_DYN0 && found < 0; v++)
    if (share && dyn[v].used && dyn[v].shared && dyn[v].key == key && dyn[v].used < DYN_SHARE)
      found = v;
  for (int v = 0; v < VEC_DYN_END - VEC_DYN0 && found < 0; v++)
    if (!dyn[v].used) found = v;
  if (found >= 0) {
    struct dyn_vec *d = &dyn[found];
    d->fn[d->used] = fn;
    d->arg[d->used] = arg;
    d->used++;
    d->shared = share;
    d->key = key;
  }
  plat_irq_restore(s);
  return found < 0 ? MN_ENOSPC : VEC_DYN0 + found;
}

static const char *const exc_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
    "#OF overflow", "#BR bound range", "#UD invalid opcode",
    "#NM device not available", "#DF double fault", "coprocessor overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault",
    "#GP general protection", "#PF page fault", "reserved 15",
    "#MF x87 error", "#AC alignment check", "#MC machine check",
    "#XM SIMD error", "#VE virtualization", "#CP control protection",
};

static void print_addr(uint64_t a) {
  uint64_t base = uefi_boot.image_base;
  if (a >= base && a < base + uefi_boot.image_size)
    xprintf("  %016lx  mneme.efi+0x%lx\n", a, a - base);
  else
    xprintf("  %016lx\n", a);
}

/* 1 if a is in an executable section of the image. */
static int in_code(uint64_t a) {
  for (size_t i = 0; i < uefi_boot.nsections; i++) {
    const struct boot_section *s = &uefi_boot.sections[i];
    if (s->exec && a >= s->base && a < s->base + s->size) return 1;
  }
  return 0;
}

/* 1 if ret follows a call instruction (E8 rel32, FF /2 with a register
 * or memory operand) inside the image's code. */
static int after_call(uint64_t ret) {
  if (!in_code(ret) || !in_code(ret - 7)) return 0;
  const uint8_t *p = (const uint8_t *)ret;
  if (p[-5] == 0xe8) return 1;
  if (p[-2] == 0xff && ((p[-1] >> 3) & 7) == 2) return 1;             /* call *%reg */
  if (p[-3] == 0xff && ((p[-2] >> 3) & 7) == 2) return 1;             /* disp8 */
  if (p[-6] == 0xff && ((p[-5] >> 3) & 7) == 2) return 1;             /* disp32/rip */
  if (p[-7] == 0xff && ((p[-6] >> 3) & 7) == 2) return 1;             /* sib+disp32 */
  return 0;
}

/*
 * The Microsoft x64 ABI keeps no frame-pointer chain (rbp points into the
 * frame, wherever the compiler likes), so backtraces scan the stack for
 * return addresses: words that point into mneme.efi's code right after a
 * call instruction. Stops at the first unmapped page or after max hits.
 */
static size_t scan_stack(uint64_t sp, uintptr_t *pcs, size_t max) {
  size_t n = 0;
  sp &= ~7ull;
  if (!paging_is_mapped(sp)) sp = (sp | 4095) + 1; /* overflowed into a guard */
  for (int i = 0; i < 8192 && n < max; i++, sp += 8) {
    if ((sp & 4095) == 0 || i == 0)
      if (!paging_is_mapped(sp)) break;
    uint64_t v = *(const uint64_t *)sp;
    if (after_call(v)) pcs[n++] = v;
  }
  return n;
}

void cpu_print_backtrace(uint64_t rsp) {
  uintptr_t pcs[16];
  size_t n = scan_stack(rsp, pcs, 16);
  xprintf("backtrace (return addresses on the stack):\n");
  for (size_t i = 0; i < n; i++) {
    size_t same = 1;
    while (i + same < n && pcs[i + same] == pcs[i]) same++;
    print_addr(pcs[i]);
    if (same > 1) xprintf("  ... the same %zu more times\n", same - 1);
    i += same - 1;
  }
}

size_t plat_backtrace(uintptr_t *pcs, size_t max) {
  uint64_t sp;
  __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
  return scan_stack(sp, pcs, max);
}

/* Vectors a task may survive: divide error, overflow, bound, invalid
 * opcode, general protection, page fault, x87/alignment/SIMD errors. */
static int task_fault_vector(uint64_t v) {
  return v == 0 || v == 4 || v == 5 || v == 6 || v == 13 || v == 14 ||
         v == 16 || v == 17 || v == 19;
}

/* The dump; then the faulting task ends (returns, with the frame set to
 * resume at task_fault_end on the task's fresh stack) or the machine
 * halts. */
static void fault(struct x86_frame *f, uint32_t cpu) {
  if (__atomic_fetch_add(&in_fault, 1, __ATOMIC_SEQ_CST)) {
    static const char msg[] = "\r\n*** nested fault during the dump; halted\r\n";
    serial_write(msg, sizeof msg - 1);
    plat_halt(3);
  }
  const char *name = f->vector < 32 && exc_names[f->vector]
                         ? exc_names[f->vector] : "exception";
  xprintf("\n*** EXCEPTION %lu: %s, error code 0x%lx, on cpu %u (local APIC %u)\n",
          f->vector, name, f->error, cpu, x86_cpus[cpu].apic_id);
  if (f->vector == 14) {
    uint64_t cr2 = read_cr2();
    xprintf("fault address (cr2) %016lx: %s, %s%s\n", cr2,
            f->error & 1 ? "protection violation" : "page not present",
            f->error & 2 ? "write" : "read",
            f->error & 16 ? ", instruction fetch" : "");
    if (paging_is_guard(cr2)) {
      struct task *g = task_guard_owner(cr2);
      int gc = smp_stack_guard_cpu(cr2);
      if (gc > 0)
        xprintf("the address is a stack guard page: stack overflow of cpu %d's stack\n", gc);
      else
        xprintf("the address is a stack guard page: stack overflow of task %s\n",
                g ? g->name : "(unknown: the boot stack?)");
    }
  }
  if (cpu == 0) {
    struct task *t = task_current();
    xprintf("task: %s\n", t ? t->name : "(kernel, no task)");
  } else {
    xprintf("task: none (cpu %u runs parallel-for jobs)\n", cpu);
  }
  xprintf("rip %016lx  cs %04lx  rflags %016lx\n", f->rip, f->cs, f->rflags);
  print_addr(f->rip);
  xprintf("rsp %016lx  ss %04lx\n", f->rsp, f->ss);
  xprintf("rax %016lx  rbx %016lx  rcx %016lx\n", f->rax, f->rbx, f->rcx);
  xprintf("rdx %016lx  rsi %016lx  rdi %016lx\n", f->rdx, f->rsi, f->rdi);
  xprintf("rbp %016lx  r8  %016lx  r9  %016lx\n", f->rbp, f->r8, f->r9);
  xprintf("r10 %016lx  r11 %016lx  r12 %016lx\n", f->r10, f->r11, f->r12);
  xprintf("r13 %016lx  r14 %016lx  r15 %016lx\n", f->r13, f->r14, f->r15);
  xprintf("cr0 %016lx  cr3 %016lx  cr4 %016lx\n", read_cr0(), read_cr3(),
          read_cr4());
  cpu_print_backtrace(f->rsp);
  uintptr_t top;
  if (cpu == 0 && (f->rflags & 0x200) && task_fault_vector(f->vector) &&
      task_fault_resumable(&top)) {
    struct task *t = task_current();
    xprintf("*** task %s ends; the kernel and the other tasks go on\n", t->name);
    /* Microsoft x64 ABI: the argument in rcx, a 16-byte aligned stack
     * minus the return address, 32 bytes of shadow space above it. */
    uint64_t sp = ((uint64_t)top & ~(uint64_t)15) - 64;
    *(uint64_t *)(sp - 8) = 0;
    f->rsp = sp - 8;
    f->rip = (uint64_t)(uintptr_t)task_fault_end;
    f->rcx = (uint64_t)(int64_t)TASK_EXIT_FAULT;
    f->rflags &= ~(uint64_t)0x400; /* DF clear, as the ABI expects */
    __atomic_store_n(&in_fault, 0, __ATOMIC_SEQ_CST);
    return;
  }
  xprintf("*** machine halted\n");
  plat_halt(3);
}

void x86_interrupt(struct x86_frame *f) {
  uint64_t v = f->vector;
  uint32_t cpu = cpu_index();
  if (v < 32) {
    if (v == 2) { /* NMI: counted (printing here could cut into output) */
      __atomic_fetch_add(&cpu_nmis, 1, __ATOMIC_RELAXED);
      return;
    }
    fault(f, cpu);
    return;
  }
  if (cpu != 0) { /* an application processor: only its timer and wake-ups */
    x86_cpus[cpu].irqs++;
    if (v == VEC_TIMER || v == VEC_WAKE) apic_eoi();
    return;
  }
  cpu_event_pending = 1;
  if (v >= VEC_IRQ0 && v < VEC_IRQ0 + VEC_IRQ_MAX) {
    void (*h)(void) = irq_handlers[v - VEC_IRQ0];
    if (h) h();
    apic_eoi();
  } else if (v >= VEC_DYN0 && v < VEC_DYN_END) {
    struct dyn_vec *d = &dyn[v - VEC_DYN0];
    for (int i = 0; i < d->used; i++) d->fn[i](d->arg[i]);
    apic_eoi();
  } else if (v == VEC_TIMER) {
    cpu_timer_irqs++;
    if (cpu_fpu_clobber) { /* fpu.c's test: wreck the vector state */
      uint32_t m = 0x1f80;
      __asm__ volatile(
          "vxorps %%ymm0, %%ymm0, %%ymm0\n vxorps %%ymm1, %%ymm1, %%ymm1\n"
          "vxorps %%ymm2, %%ymm2, %%ymm2\n vxorps %%ymm3, %%ymm3, %%ymm3\n"
          "vxorps %%ymm4, %%ymm4, %%ymm4\n vxorps %%ymm5, %%ymm5, %%ymm5\n"
          "vxorps %%ymm6, %%ymm6, %%ymm6\n vxorps %%ymm7, %%ymm7, %%ymm7\n"
          "vxorps %%ymm8, %%ymm8, %%ymm8\n vxorps %%ymm9, %%ymm9, %%ymm9\n"
          "vxorps %%ymm10, %%ymm10, %%ymm10\n vxorps %%ymm11, %%ymm11, %%ymm11\n"
          "vxorps %%ymm12, %%ymm12, %%ymm12\n vxorps %%ymm13, %%ymm13, %%ymm13\n"
          "vxorps %%ymm14, %%ymm14, %%ymm14\n vxorps %%ymm15, %%ymm15, %%ymm15\n"
          "ldmxcsr %0"
          : : "m"(m)
          : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
            "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    }
    apic_eoi();
  }
  /* Legacy PIC spurious vectors (0xe0-0xef) and 0xff take no EOI. */
}
