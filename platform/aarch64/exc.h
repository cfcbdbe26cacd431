/*
 * exc.h: exceptions and interrupt dispatch of the aarch64 platform.
 */
#ifndef MNEME_A64_EXC_H
#define MNEME_A64_EXC_H

#include <stddef.h>
#include <stdint.h>

/* The interrupted state, as entry.S lays it out on the exception stack. */
struct a64_frame {
  uint64_t x[31];
  uint64_t sp_el0;
  uint64_t elr, spsr, esr, far;
  uint64_t kind; /* vector: (source * 4) + (0 sync, 1 irq, 2 fiq, 3 serror) */
  uint64_t pad;
  __uint128_t q[32];
  uint64_t fpcr, fpsr;
};

/* Installs the vectors (VBAR_EL1) and enables FP/SIMD at EL1. */
void exc_init(void);

/* Set by every interrupt; plat_wait_event consumes it. */
extern volatile int exc_event_pending;
extern volatile uint64_t exc_irqs;

/* Prints "  ADDR  mneme.efi+0xOFF" (or the bare address outside it). */
void exc_print_addr(uint64_t a);

/* The C side of every vector (entry.S). */
void a64_exception(struct a64_frame *f);

/* When set, interrupts overwrite v0-v31 and FPCR (fpu.c's test). */
extern volatile int exc_fpu_clobber;

/* 1 once plat_halt runs: an exception then ends in the halt path. */
extern volatile int exc_halting;

#endif
