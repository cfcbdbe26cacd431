/*
 * context.c: task contexts on the hosted platform.
 *
 * Interface: plat_context_init, plat_context_switch, plat_stack_guard.
 *
 * On x86_64 the switch is context_x86_64.S (a few instructions); other
 * host CPUs use ucontext. Under AddressSanitizer every switch is announced
 * with the fiber API so ASan follows the stacks. Guard pages are made with
 * mprotect (the kernel heap is mmapped, so its pages can be protected).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include "mneme/err.h"
#include "mneme/platform.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__has_feature)
#if defined(__SANITIZE_ADDRESS__)
#define MN_ASAN 1
#elif __has_feature(address_sanitizer)
#define MN_ASAN 1
#endif
#endif

#ifdef MN_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__x86_64__)
void mn_context_switch_asm(struct plat_context *from, struct plat_context *to);
void mn_context_start(void);
_Noreturn void mn_context_start_c(void (*entry)(void));

/* Runs first in every new context (from mn_context_start). */
void
mn_context_start_c(void (*entry)(void))
{
#ifdef MN_ASAN
  __sanitizer_finish_switch_fiber(0, 0, 0);
#endif
  entry();
  __builtin_trap();
}

void
plat_context_init(struct plat_context *ctx, void *stack, size_t size,
                  void (*entry)(void))
{
  uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
  uint64_t *sp = (uint64_t *)top;
  *--sp = 0;                      /* fake return address */
  *--sp = (uintptr_t)mn_context_start; /* popped by ret */
  *--sp = 0;                      /* rbp */
  *--sp = 0;                      /* rbx */
  *--sp = (uintptr_t)entry;       /* r12: mn_context_start's argument */
  *--sp = 0;                      /* r13 */
  *--sp = 0;                      /* r14 */
  *--sp = 0;                      /* r15 */
  *--sp = 0x037f00001f80ull;      /* mxcsr 0x1f80, x87 control word 0x037f */
  ctx->sp = sp;
  ctx->stack_lo = stack;
  ctx->stack_size = size;
#ifdef MN_ASAN
  ASAN_UNPOISON_MEMORY_REGION(stack, size);
#endif
}

void
plat_context_switch(struct plat_context *from, struct plat_context *to)
{
#ifdef MN_ASAN
  void *fake = 0;
  __sanitizer_start_switch_fiber(&fake, to->stack_lo, to->stack_size);
  mn_context_switch_asm(from, to);
  __sanitizer_finish_switch_fiber(fake, 0, 0);
#else
  mn_context_switch_asm(from, to);
#endif
}
#else
#include <ucontext.h>
#include <stdlib.h>
/* Other host CPUs: ucontext, with the ucontext_t kept at the stack top. */
void
plat_context_init(struct plat_context *ctx, void *stack, size_t size,
                  void (*entry)(void))
{
  uintptr_t top = ((uintptr_t)stack + size - sizeof(ucontext_t)) & ~(uintptr_t)63;
  ucontext_t *uc = (ucontext_t *)top;
  getcontext(uc);
  uc->uc_stack.ss_sp = stack;
  uc->uc_stack.ss_size = top - (uintptr_t)stack;
  uc->uc_link = 0;
  makecontext(uc, entry, 0);
  ctx->sp = uc;
  ctx->stack_lo = stack;
  ctx->stack_size = size;
}

void
plat_context_switch(struct plat_context *from, struct plat_context *to)
{
  ucontext_t here;
  from->sp = &here;
  swapcontext(&here, (ucontext_t *)to->sp);
}
#endif

void
plat_context_destroy(struct plat_context *ctx)
{
#ifdef MN_ASAN
  /* Frames left on the stack leave poisoned redzones behind: clear them
   * before the memory goes back to the heap. */
  ASAN_UNPOISON_MEMORY_REGION(ctx->stack_lo, ctx->stack_size);
#endif
  ctx->sp = 0;
}

int
plat_stack_guard(void *lo, size_t size, int on)
{
  if (((uintptr_t)lo & 4095) || (size & 4095))
    return MN_EINVAL;
#ifdef MN_ASAN
  if (!on)
    ASAN_UNPOISON_MEMORY_REGION(lo, size);
#endif
  if (mprotect(lo, size, on ? PROT_NONE : PROT_READ | PROT_WRITE) != 0)
    return MN_ENOTSUP;
  return 0;
}
