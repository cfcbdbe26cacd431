/*
 * paging.h: mneme's own page tables: an identity map of all physical
 * memory, non-executable except the image's code, which is read-only;
 * page 0 unmapped; guard pages for stacks.
 */
#ifndef MNEME_X86_PAGING_H
#define MNEME_X86_PAGING_H

#include <stdint.h>

/* Builds and loads the page tables (NX and CR0.WP on). Returns 0 or MN_ENOMEM. */
int paging_init(void);
/* Maps device memory [phys, phys + size) uncached at the same address.
 * Returns 0, MN_ENOMEM (no page-table pages left) or MN_ERANGE. */
int paging_map_uc(uint64_t phys, uint64_t size);
/* 1 if va is mapped (present) in the current tables. */
int paging_is_mapped(uint64_t va);
/* 1 if va lies in a page made a guard by plat_stack_guard. */
int paging_is_guard(uint64_t va);

#endif
