/*
 * plat.c: the rest of the platform contract for x86_64: halting and new
 * task contexts (the console: platform/uefi/console_port.c).
 *
 * Interface: plat_halt, plat_context_init, plat_context_destroy.
 */
#include <stdint.h>

#include "mneme/platform.h"
#include "x86.h"

void x86_context_start(void); /* entry.S */

/*
 * Stops the machine: interrupts off, then under a hypervisor a write to
 * QEMU's isa-debug-exit port (QEMU exits with status code * 2 + 1 when
 * started with -device isa-debug-exit,iobase=0xf4), then hlt forever.
 */
_Noreturn void plat_halt(int code) {
  __asm__ volatile("cli");
  uint32_t r[4];
  cpuid(1, 0, r);
  if (r[2] & (1u << 31)) outb(0xf4, (uint8_t)code);
  for (;;) __asm__ volatile("hlt");
}

void plat_context_init(struct plat_context *ctx, void *stack, size_t size,
                       void (*entry)(void)) {
  uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
  uint64_t *f = (uint64_t *)(top - 256);
  for (int i = 0; i < 32; i++) f[i] = 0;
  ((uint32_t *)f)[0] = 0x1f80;          /* MXCSR: exceptions masked */
  ((uint16_t *)f)[2] = 0x037f;          /* x87 control word */
  f[200 / 8] = (uint64_t)entry;         /* r12 */
  f[240 / 8] = (uint64_t)x86_context_start;
  ctx->sp = f;
  ctx->stack_lo = stack;
  ctx->stack_size = size;
}

void plat_context_destroy(struct plat_context *ctx) { ctx->sp = NULL; }
