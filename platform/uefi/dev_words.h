/*
 * dev_words.h: the Forth words over the portable device drivers that
 * both UEFI platforms (x86_64, aarch64) define beside their own
 * diagnostic words (platform/<arch>/mon.c): PCI, DISKS, SECTOR,
 * SECTOR-FILL, ARP-PROBE, NET-SEND, NET-RECV, GENERATE, LLM-STATS.
 */
#ifndef MNEME_UEFI_DEV_WORDS_H
#define MNEME_UEFI_DEV_WORDS_H

#include <stddef.h>

#include "mneme/forth_task.h"

/* The words (a static table) and their number. */
size_t dev_words(const struct forth_task_word **out);

/* Registers the platform's own words w[0..n) and the device words with
 * forth_words_platform (one table; called once, before the shells). */
void dev_words_register(const struct forth_task_word *w, size_t n);

#endif
