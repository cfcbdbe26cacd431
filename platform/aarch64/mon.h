/*
 * mon.h: the aarch64 platform's diagnostic Forth words (mon.c).
 */
#ifndef MNEME_A64_MON_H
#define MNEME_A64_MON_H

/* Registers MEM PS CPU FPU FAULT FAULT-UD FAULT-X FAULT-RO OVERFLOW QUANT
 * QUANT-BENCH with
 * forth_words_platform (before the shells start). */
void mon_words_register(void);

#endif
