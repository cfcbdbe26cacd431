/*
 * timer.h: the kernel's timer wheel.
 *
 * A timer is embedded in its owner (a task, a service) and armed with an
 * absolute deadline; when the executor advances the wheel past it, its
 * callback runs in scheduler context and may only wake tasks. Arming and
 * cancelling are O(1); advancing costs O(ticks passed + timers fired).
 *
 * The wheel is hierarchical: 256 slots of one tick (2^20 ns, ~1 ms), then
 * four levels of 64 slots each covering 64 times the level below, about
 * 50 days in all; later deadlines wait in the last level and cascade down.
 * Within its tick a timer fires once the clock reaches its exact deadline.
 */
#ifndef MNEME_TIMER_H
#define MNEME_TIMER_H

#include <stdint.h>
#include "mneme/list.h"

struct timer {
  struct list node;   /* in a wheel slot while armed */
  uint64_t deadline;  /* absolute, ns */
  void (*fn)(struct timer *t);
  int armed;
};

/* Prepares t with its callback; t starts disarmed. */
void timer_init(struct timer *t, void (*fn)(struct timer *t));

/* Arms (or re-arms) t to fire at deadline_ns. */
void timer_arm(struct timer *t, uint64_t deadline_ns);

/* Disarms t if armed; harmless otherwise. */
void timer_cancel(struct timer *t);

/* ---- used by the executor ----------------------------------------------- */

/* Resets the wheel with its clock at now_ns. */
void timer_wheel_init(uint64_t now_ns);

/* Number of armed timers. */
unsigned timer_count(void);

/*
 * Earliest time at which advancing may fire something (UINT64_MAX if no
 * timer is armed). Exact for timers within 256 ticks; for later ones the
 * start of their slot, where the wheel cascades them.
 */
uint64_t timer_next_deadline(void);

/* Fires every timer whose deadline is <= now_ns, in deadline order per tick. */
void timer_advance(uint64_t now_ns);

#endif
