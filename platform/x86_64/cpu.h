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
#define VEC_SPURIOUS 0xff

/* Loads the GDT, TSS (with IST stacks) and IDT; enables SSE/AVX state. */
void cpu_init(void);

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
