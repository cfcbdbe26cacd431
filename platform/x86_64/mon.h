/*
 * mon.h: the platform's diagnostic words for the Forth shells (what the
 * built-in monitor used to offer): MEM PS CPU FPU FAULT FAULT-GP FAULT-UD
 * OVERFLOW.
 */
#ifndef MNEME_X86_MON_H
#define MNEME_X86_MON_H

/* Registers the words with forth_words_platform (before the shells). */
void mon_words_register(void);

#endif
