/*
 * mon.h: the platform's diagnostic words for the Forth shells (what the
 * built-in monitor used to offer). platform/uefi/mon.c has the words both
 * UEFI platforms share: MEM PS CPU FPU OVERFLOW FAULT-CPU and the cores'
 * lines in STATUS; each platform's mon_cpu.c adds what its CPU has (the
 * facts CPU prints, the faults it can take: FAULT FAULT-UD FAULT-CLI and
 * x86_64's FAULT-GP FAULT-DIV OVERFLOW-CPU, aarch64's FAULT-X FAULT-RO
 * QUANT QUANT-BENCH). dev_words.c brings the device words.
 */
#ifndef MNEME_UEFI_MON_H
#define MNEME_UEFI_MON_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/forth_task.h"

/* Registers the words with forth_words_platform (before the shells). */
void mon_words_register(void);

/* The words' output: to the terminal of the VM running the word (in order
 * with its own output), else the console. */
void mon_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Around a word's body: note its VM for mon_printf and start a new line
 * (after the echoed input); mon_end forgets the VM. mon_to_console sends
 * what follows to the console (before a fault: the VM may not return). */
void mon_begin(forth_vm *vm);
void mon_end(void);
void mon_to_console(void);
/* Recurses until the stack overflows (OVERFLOW, OVERFLOW-CPU). */
uint64_t mon_overflow(void);

/* A word that runs body between mon_begin and mon_end. */
#define MON_WORD(fname, body)                                                 \
  static int fname(forth_vm *vm, void *ctx) {                               \
    (void)ctx;                                                                \
    mon_begin(vm);                                                            \
    body;                                                                     \
    mon_end();                                                                \
    return 0;                                                                 \
  }

/* What each platform's mon_cpu.c gives. */
struct mon_cpu {
  void (*facts)(void);               /* CPU's lines before the cores' */
  void (*core)(int i);               /* one core's line (CPU and STATUS) */
  const char *fpu_irq_regs;          /* FPU: what survives interrupts */
  const char *fpu_switch_regs;       /* ... and task switches */
  const struct forth_task_word *words; /* its own words (faults, ...) */
  size_t nwords;
};
extern const struct mon_cpu mon_cpu;

#endif
