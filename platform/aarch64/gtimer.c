/*
 * gtimer.c: the generic timer (see timer.h) and the platform's clock and
 * idle: plat_now_ns, plat_wait_event, plat_irq_save, plat_irq_restore.
 *
 * Idle: with interrupts masked, an interrupt that arrived since the last
 * call (exc_event_pending) returns at once; otherwise the timer is armed
 * for the deadline and the CPU waits in `wfi`, which wakes on a pending
 * interrupt even while it is masked, so none slips in between the check
 * and the wait. Interrupts are then unmasked for a moment to run their
 * handlers.
 */
#include "gtimer.h"

#include <string.h>

#include "a64.h"
#include "acpi.h"
#include "exc.h"
#include "gic.h"
#include "mneme/err.h"
#include "mneme/platform.h"

volatile uint64_t gtimer_irqs;
static uint64_t hz = 1000000000;
static uint64_t ns_per_tick_q32 = 1ull << 32;
static uint64_t ticks_per_ns_q32 = 1ull << 32;
static unsigned irq_id = 27;
static int armed_ok;

void gtimer_early_init(void) {
  uint64_t f = SYSREG_READ(cntfrq_el0) & 0xffffffffu;
  if (f == 0) f = 62500000; /* firmware left it unset: QEMU's rate */
  hz = f;
  ns_per_tick_q32 = (1000000000ull << 32) / f;
  ticks_per_ns_q32 = (f << 32) / 1000000000ull; /* f < 2^32 */
  SYSREG_WRITE(cntv_ctl_el0, 0);
}

uint64_t gtimer_hz(void) { return hz; }
unsigned gtimer_irq_id(void) { return irq_id; }

uint64_t gtimer_ticks_to_ns(uint64_t ticks) {
  return (uint64_t)(((unsigned __int128)ticks * ns_per_tick_q32) >> 32);
}

uint64_t plat_now_ns(void) { return gtimer_ticks_to_ns(a64_counter()); }

static void gtimer_irq(void) {
  gtimer_irqs++;
  SYSREG_WRITE(cntv_ctl_el0, 0); /* off until the next wait arms it */
}

int gtimer_init(uintptr_t rsdp) {
  const uint8_t *g = acpi_find(rsdp, "GTDT");
  if (g) {
    uint32_t len, v;
    memcpy(&len, g + 4, 4);
    if (len >= 72) {
      memcpy(&v, g + 64, 4); /* virtual EL1 timer GSIV */
      if (v >= 16 && v < 32) irq_id = v;
    }
  }
  int rc = gic_enable(irq_id, gtimer_irq);
  armed_ok = rc == 0;
  return rc;
}

unsigned long plat_irq_save(void) {
  unsigned long d = SYSREG_READ(daif);
  __asm__ volatile("msr daifset, #2" ::: "memory");
  return d;
}

void plat_irq_restore(unsigned long state) {
  if (!(state & (1ul << 7))) __asm__ volatile("msr daifclr, #2" ::: "memory");
}

static inline void irq_window(void) {
  __asm__ volatile("msr daifclr, #2\n isb\n msr daifset, #2" ::: "memory");
}

void plat_wait_event(uint64_t deadline_ns) {
  unsigned long s = plat_irq_save();
  for (;;) {
    if (exc_event_pending) break;
    uint64_t now = plat_now_ns();
    if (deadline_ns <= now) {
      irq_window(); /* poll: let pending interrupts in */
      break;
    }
    if (armed_ok && deadline_ns != UINT64_MAX) {
      uint64_t ticks = (uint64_t)(((unsigned __int128)(deadline_ns - now) *
                                   ticks_per_ns_q32) >> 32) + 1;
      SYSREG_WRITE(cntv_cval_el0, a64_counter() + ticks);
      SYSREG_WRITE(cntv_ctl_el0, 1);
      isb();
    }
    __asm__ volatile("dsb sy\n wfi" ::: "memory");
    irq_window();
  }
  exc_event_pending = 0;
  plat_irq_restore(s);
}
