/*
 * mon.h: the platform's diagnostic words for the Forth shells (what the
 * built-in monitor used to offer), one mon.c per platform: MEM PS CPU FPU
 * OVERFLOW FAULT-CPU and the faults its CPU can take (x86_64: FAULT
 * FAULT-GP FAULT-UD FAULT-DIV FAULT-CLI OVERFLOW-CPU; aarch64: FAULT
 * FAULT-UD FAULT-X FAULT-RO FAULT-CLI QUANT QUANT-BENCH), with the device
 * words of dev_words.c.
 */
#ifndef MNEME_UEFI_MON_H
#define MNEME_UEFI_MON_H

/* Registers the words with forth_words_platform (before the shells). */
void mon_words_register(void);

#endif
