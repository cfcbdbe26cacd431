/*
 * platform.h: the port contract between the portable kernel core and a
 * platform (hosted Linux process, x86_64 UEFI, ...).
 *
 * The kernel core calls only these functions for anything that touches
 * hardware or the host. A platform implements all of them, boots, calls
 * kernel_init(), registers its drivers as services, and calls kernel_run().
 *
 * Interrupts: a platform's interrupt handlers only wake tasks (through
 * waitq_wake_* or bbq/kchannel try-operations, which are interrupt-safe
 * because they run under plat_irq_save()). They never switch tasks.
 */
#ifndef MNEME_PLATFORM_H
#define MNEME_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* ---- boot ---------------------------------------------------------------- */

struct mem_region {
  uintptr_t base;
  size_t size;
};

struct boot_info {
  const struct mem_region *regions; /* usable RAM for the kernel heap */
  size_t nregions;
  const uint8_t *config;            /* baked configuration (postcard) */
  size_t config_len;
  const char *cmdline;              /* may be NULL */
};

/* ---- clock, idle, console ------------------------------------------------ */

/* Monotonic time in nanoseconds since an arbitrary origin. */
uint64_t plat_now_ns(void);

/*
 * Waits until an event (interrupt, readable host fd) or until the monotonic
 * time reaches deadline_ns (UINT64_MAX: no deadline), dispatching events,
 * which wake tasks. A deadline in the past polls without waiting. Called by
 * the executor when nothing is runnable, and now and then while busy.
 */
void plat_wait_event(uint64_t deadline_ns);

/* Writes bytes to the platform console (early boot, log, panic). */
void plat_console_write(const char *s, size_t n);

/* Stops the machine (hosted: exits the process with code). */
_Noreturn void plat_halt(int code);

/* ---- interrupts ---------------------------------------------------------- */

/* Disables interrupts, returning the previous state for plat_irq_restore. */
unsigned long plat_irq_save(void);
void plat_irq_restore(unsigned long state);

/* ---- task contexts ------------------------------------------------------- */

/*
 * Saved CPU state of a task that is not running: its stack pointer (the
 * registers are saved on the task's own stack), and the stack's bounds
 * (set by plat_context_init; used by sanitizers and fault handlers).
 */
struct plat_context {
  void *sp;
  void *stack_lo;
  size_t stack_size;
};

/*
 * Prepares ctx so that the first plat_context_switch() to it calls entry()
 * on the stack [stack, stack + size). entry never returns.
 */
void plat_context_init(struct plat_context *ctx, void *stack, size_t size,
                       void (*entry)(void));

/* Forgets a context whose task has ended, before its stack is freed. */
void plat_context_destroy(struct plat_context *ctx);

/* Saves the running state into from and resumes to. */
void plat_context_switch(struct plat_context *from, struct plat_context *to);

/*
 * Makes the page(s) at [lo, lo + size) fault on access (on = 1) or usable
 * again (on = 0), for stack guard pages. Returns 0, or MN_ENOTSUP where the
 * platform has no paging (the executor then relies on its canary alone).
 */
int plat_stack_guard(void *lo, size_t size, int on);

/* ---- diagnostics --------------------------------------------------------- */

/* Fills pcs with up to max return addresses of the caller; returns count. */
size_t plat_backtrace(uintptr_t *pcs, size_t max);

#endif
