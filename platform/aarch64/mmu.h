/*
 * mmu.h: the aarch64 platform's translation tables: an identity map of
 * the first TiB of physical addresses with 4 KiB granules. RAM (every
 * RAM range of the UEFI memory map) is normal write-back memory, not
 * executable; the framebuffer normal non-cacheable; mneme.efi's code
 * read-only and executable, its read-only data read-only; everything
 * else device memory (nGnRE), never executable. The lowest 2 MiB (page
 * 0) and the page below the boot stack are unmapped.
 */
#ifndef MNEME_A64_MMU_H
#define MNEME_A64_MMU_H

#include <stdint.h>

#define MMU_MAP_TOP (1ull << 40) /* the identity map's end */

/* Builds the tables from the loader's facts and switches to them.
 * Returns 0, or MN_ENOMEM (the loader arena is too small). */
int mmu_init(void);
/* The TTBR0, TCR, MAIR and SCTLR values in use (the other cores load
 * them). 0, or MN_ENOTSUP (still on the firmware's tables). */
int mmu_regs(uint64_t out[4]);
/* 1 if a read of va would not fault. */
int mmu_is_mapped(uint64_t va);
/* 1 if va is mapped as device memory (MMIO: PCI BARs, ECAM). */
int mmu_is_device(uint64_t va);
/* 1 if va is in a page made a guard by plat_stack_guard (or the boot
 * stack's). */
int mmu_is_guard(uint64_t va);
/* Page-table pages in use. */
unsigned mmu_table_pages(void);

#endif
