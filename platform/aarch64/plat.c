/*
 * plat.c: the rest of the platform contract for aarch64: halting and new
 * task contexts (the console: platform/uefi/console_port.c).
 *
 * Interface: plat_halt, plat_context_init, plat_context_destroy.
 */
#include <stdint.h>

#include "a64.h"
#include "acpi.h"
#include "boot.h"
#include "exc.h"
#include "mneme/platform.h"

/*
 * Stops the machine: interrupts off; then the semihosting exit call
 * (QEMU started with -semihosting-config enable=on exits with status
 * code * 2 + 1, like x86_64's isa-debug-exit, so the tests see 7 for a
 * fault); without semihosting that call traps (exc.c skips it); then
 * PSCI SYSTEM_OFF through HVC or SMC as the FADT says (without PSCI in
 * the FADT: SMC if the firmware ran at EL2, else HVC; QEMU exits with
 * status 0); then wfi forever.
 */
_Noreturn void plat_halt(int code) {
  __asm__ volatile("msr daifset, #0xf" ::: "memory");
  exc_halting = 1;
  static uint64_t block[2];
  block[0] = 0x20026; /* ADP_Stopped_ApplicationExit */
  block[1] = (uint64_t)code * 2 + 1;
  register uint64_t x0 __asm__("x0") = 0x18; /* SYS_EXIT */
  register uint64_t x1 __asm__("x1") = (uint64_t)block;
  __asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
  int hvc = acpi_psci_hvc(uefi_boot.rsdp);
  if (hvc < 0) hvc = !a64_entered_el2;
  register uint64_t f __asm__("x0") = 0x84000008; /* PSCI SYSTEM_OFF */
  if (hvc) __asm__ volatile("hvc #0" : "+r"(f) : : "memory");
  else __asm__ volatile("smc #0" : "+r"(f) : : "memory");
  for (;;) __asm__ volatile("wfi");
}

/*
 * The first switch to a new context loads x19-x30 and d8-d15 from the
 * frame (entry.S's plat_context_switch) and returns to a64_context_start
 * with entry in x19.
 */
void plat_context_init(struct plat_context *ctx, void *stack, size_t size,
                       void (*entry)(void)) {
  uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
  uint64_t *f = (uint64_t *)(top - 176);
  for (int i = 0; i < 22; i++) f[i] = 0;
  f[0] = (uint64_t)entry;            /* x19 */
  f[11] = (uint64_t)a64_context_start; /* x30 */
  ctx->sp = f;
  ctx->stack_lo = stack;
  ctx->stack_size = size;
}

void plat_context_destroy(struct plat_context *ctx) { ctx->sp = NULL; }
