/*
 * cpu.h: descriptor tables, interrupt dispatch, exception dumps and the
 * FPU/SSE/AVX setup of the x86_64 platform.
 */
#ifndef MNEME_X86_CPU_H
#define MNEME_X86_CPU_H

#include <stddef.h>
#include <stdint.h>

/* The interrupted state, as entry.S lays it out on the stack. */
struct x86_frame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
  uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector, error;
  uint64_t rip, cs, rflags, rsp, ss;
};

#define VEC_IRQ0 32        /* I/O APIC GSI n arrives on vector 32 + n */
#define VEC_IRQ_MAX 24
#define VEC_DYN0 0x40       /* vectors handed out by cpu_vector_alloc */
#define VEC_DYN_END 0xe0
#define VEC_TIMER 0xf0
#define VEC_WAKE 0xf1      /* IPI: an application processor has work */
#define VEC_SPURIOUS 0xff

/* Processors mneme runs on (more are left halted). */
#define CPU_MAX 16

/* One processor; the GS base points at its record (its parallel-for
 * counters: smp_core in platform/uefi/smp_par.h). */
struct x86_cpu {
  uint32_t index;              /* first: %gs:0 (cpu_index) */
  uint32_t apic_id;
  volatile int online;         /* started and running its loop */
  volatile uint64_t irqs;      /* interrupts taken (APs) */
  uint64_t stack_guard;        /* the guard page below its stack (APs), or 0 */
};
extern struct x86_cpu x86_cpus[CPU_MAX];

/* This processor's index: 0 is the boot processor. */
static inline uint32_t cpu_index(void) {
  uint32_t v;
  __asm__ volatile("movl %%gs:0, %0" : "=r"(v));
  return v;
}

/* Loads the GDT, TSS (with IST stacks) and IDT; enables SSE/AVX state. */
void cpu_init(void);
/* The same on application processor index (its own GDT, TSS and IST
 * stacks; the shared IDT; the boot processor's FPU/AVX settings). */
void cpu_init_ap(uint32_t index);

/* Installs handler for I/O APIC input gsi (< VEC_IRQ_MAX). */
void cpu_set_irq_handler(unsigned gsi, void (*handler)(void));

/*
 * Allocates a vector in [VEC_DYN0, VEC_DYN_END) calling fn(arg) (and
 * sending the EOI) for MSIs and routed PCI interrupts. With share set,
 * a vector already used by shared handlers of the same key (a GSI) is
 * reused (up to 4 handlers each). Returns the vector or MN_ENOSPC.
 */
int cpu_vector_alloc(void (*fn)(void *), void *arg, int share, uint32_t key);

/* Set by every interrupt; plat_wait_event consumes it. */
extern volatile int cpu_event_pending;
/* APIC timer interrupts and NMIs so far. */
extern volatile uint64_t cpu_timer_irqs;
extern volatile uint64_t cpu_nmis;
/* When set, the timer handler overwrites ymm0-15 and MXCSR (fpu.c test). */
extern volatile int cpu_fpu_clobber;

/* Bytes the xsave area takes (512 with fxsave only); 0 before cpu_init. */
extern uint32_t x86_xsave_size;
extern uint64_t x86_xsave_mask;

/* Prints the return addresses found on the stack from rsp up. */
void cpu_print_backtrace(uint64_t rsp);

/* Interrupt entry from entry.S. */
void x86_interrupt(struct x86_frame *f);

#endif
