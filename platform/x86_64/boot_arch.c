/*
 * boot_arch.c: x86_64's hooks of the shared UEFI loader
 * (platform/uefi/boot.c, boot_arch.h): the TSC, the page below 1 MiB for
 * the other cores' trampoline, the kernel's first stack (its lowest page
 * is the guard, paging.c) and x86_main.
 *
 * Interface: boot_arch_counter, boot_arch_memory, boot_arch_prepare,
 * boot_arch_enter, x86_boot_stack.
 */
#include "boot.h"
#include "boot_arch.h"
#include "x86.h"

#define BOOT_STACK_SIZE (64u << 10)

__attribute__((aligned(4096))) uint8_t x86_boot_stack[4096 + BOOT_STACK_SIZE];

void x86_stack_call(void *sp, void (*fn)(void)); /* entry.S */

uint64_t boot_arch_counter(void) { return rdtsc(); }

void boot_arch_memory(uint64_t lo, uint64_t hi, uint32_t type) {
  (void)lo, (void)hi, (void)type;
}

void boot_arch_prepare(efi_boot_services *bs) {
  uint64_t tramp = 0x9f000; /* below 1 MiB: where the other cores start */
  if (bs->allocate_pages(EFI_ALLOCATE_MAX_ADDRESS, EFI_LOADER_DATA, 1, &tramp) == EFI_SUCCESS)
    uefi_boot.trampoline = (uintptr_t)tramp;
}

_Noreturn void boot_arch_enter(void) {
  __asm__ volatile("cli");
  x86_stack_call(x86_boot_stack + sizeof x86_boot_stack, x86_main);
  __builtin_unreachable();
}
