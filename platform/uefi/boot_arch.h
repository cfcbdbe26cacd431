/*
 * boot_arch.h: what each UEFI platform brings to the shared loader
 * (platform/uefi/boot.c), in platform/<arch>/boot_arch.c.
 */
#ifndef MNEME_UEFI_BOOT_ARCH_H
#define MNEME_UEFI_BOOT_ARCH_H

#include <stdint.h>

#include "efi.h"

/* The CPU's cycle or time counter (uefi_boot.tsc_entry at efi_main). */
uint64_t boot_arch_counter(void);
/* Called with each range of the final memory map and its EFI type. */
void boot_arch_memory(uint64_t lo, uint64_t hi, uint32_t type);
/* Last allocations while boot services are up (x86_64: the page below
 * 1 MiB where the other cores start). */
void boot_arch_prepare(efi_boot_services *bs);
/* Boot services are gone: interrupts off, the kernel stack, the
 * platform's main. */
_Noreturn void boot_arch_enter(void);

#endif
