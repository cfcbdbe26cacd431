/*
 * boot_arch.c: aarch64's hooks of the shared UEFI loader
 * (platform/uefi/boot.c, boot_arch.h): the virtual counter, every RAM
 * range of the memory map into a64_ram[] (mmu.c maps them as normal
 * memory, the rest as device memory), the kernel's first stack (its
 * lowest page is the guard, mmu.c), the exception stack and a64_main
 * (a64_stack_call leaves EL2 for EL1 if the firmware ran there).
 *
 * Interface: boot_arch_counter, boot_arch_memory, boot_arch_prepare,
 * boot_arch_enter, a64_boot_stack, a64_exc_stack, a64_ram, a64_nram,
 * a64_entered_el2.
 */
#include "a64.h"
#include "boot.h"
#include "boot_arch.h"

__attribute__((aligned(4096))) uint8_t a64_boot_stack[4096 + A64_BOOT_STACK_SIZE];
__attribute__((aligned(4096))) uint8_t a64_exc_stack[A64_EXC_STACK_SIZE];
struct a64_ram a64_ram[A64_MAX_RAM];
int a64_entered_el2;
size_t a64_nram;

uint64_t boot_arch_counter(void) { return a64_counter(); }

/* RAM of any use (mapped normal memory); the rest is device memory. */
static int ram_type(uint32_t t) {
  return t != EFI_RESERVED && t != EFI_MMIO && t != EFI_MMIO_PORT && t != EFI_UNUSABLE &&
         t <= EFI_PERSISTENT;
}

void boot_arch_memory(uint64_t lo, uint64_t hi, uint32_t type) {
  if (!ram_type(type)) return;
  if (a64_nram > 0 && a64_ram[a64_nram - 1].base + a64_ram[a64_nram - 1].size == lo)
    a64_ram[a64_nram - 1].size += hi - lo;
  else if (a64_nram < A64_MAX_RAM)
    a64_ram[a64_nram++] = (struct a64_ram){lo, hi - lo};
}

void boot_arch_prepare(efi_boot_services *bs) { (void)bs; }

_Noreturn void boot_arch_enter(void) {
  __asm__ volatile("msr daifset, #0xf" ::: "memory");
  a64_stack_call(a64_boot_stack + sizeof(a64_boot_stack), a64_main,
                 a64_exc_stack + sizeof(a64_exc_stack));
}
