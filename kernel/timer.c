/*
 * timer.c: a hierarchical timer wheel.
 *
 * Interface: timer_init, timer_arm, timer_cancel, timer_wheel_init,
 * timer_count, timer_next_deadline, timer_advance.
 *
 * Ticks are 2^TICK_SHIFT ns. Level 0 has 256 slots of one tick; level n
 * (1..4) has 64 slots of 256 * 64^(n-1) ticks. A timer is placed by how
 * far its tick is from the wheel's current tick (`cur`), as in the classic
 * Varghese-Lauck scheme: when `cur` crosses a level-n slot boundary that
 * slot's timers are re-placed ("cascaded") into lower levels. Within the
 * current level-0 slot, a timer fires when the clock reaches its exact
 * deadline, so resolution is not limited to the tick.
 *
 * All wheel state is changed with interrupts off: interrupt handlers never
 * touch timers, but a timer callback may run while a task is between
 * plat_irq_save and restore on another path (never on hosted).
 */
#include <stdint.h>
#include "mneme/platform.h"
#include "mneme/timer.h"

#define TICK_SHIFT 20
#define L0_BITS 8
#define LN_BITS 6
#define L0_SIZE (1u << L0_BITS)
#define LN_SIZE (1u << LN_BITS)
#define LEVELS 5
#define MAX_TICKS 0xffffffffull

static struct {
  struct list l0[L0_SIZE];
  struct list ln[LEVELS - 1][LN_SIZE];
  uint64_t l0_bits[L0_SIZE / 64];
  uint64_t ln_bits[LEVELS - 1];
  uint64_t cur;      /* current tick: every slot before it is processed */
  unsigned count;
} wheel;

static uint64_t
tick_of(uint64_t ns)
{
  return ns >> TICK_SHIFT;
}

void
timer_init(struct timer *t, void (*fn)(struct timer *t))
{
  list_init(&t->node);
  t->deadline = 0;
  t->fn = fn;
  t->armed = 0;
}

static struct list *
slot_for(uint64_t tick)
{
  uint64_t delta = tick > wheel.cur ? tick - wheel.cur : 0;
  if (delta > MAX_TICKS) {
    delta = MAX_TICKS;
    tick = wheel.cur + MAX_TICKS;
  }
  if (delta < L0_SIZE) {
    unsigned i = (unsigned)((delta == 0 ? wheel.cur : tick) & (L0_SIZE - 1));
    wheel.l0_bits[i / 64] |= 1ull << (i % 64);
    return &wheel.l0[i];
  }
  for (unsigned lv = 1; lv < LEVELS; lv++) {
    unsigned shift = L0_BITS + LN_BITS * lv;
    if (delta < (1ull << shift) || lv == LEVELS - 1) {
      unsigned i = (unsigned)((tick >> (shift - LN_BITS)) & (LN_SIZE - 1));
      wheel.ln_bits[lv - 1] |= 1ull << i;
      return &wheel.ln[lv - 1][i];
    }
  }
  return 0; /* unreachable */
}

static void
place(struct timer *t)
{
  list_push_back(slot_for(tick_of(t->deadline)), &t->node);
}

void
timer_arm(struct timer *t, uint64_t deadline_ns)
{
  unsigned long irq = plat_irq_save();
  if (t->armed)
    list_remove(&t->node);
  else
    wheel.count++;
  t->armed = 1;
  t->deadline = deadline_ns;
  place(t);
  plat_irq_restore(irq);
}

void
timer_cancel(struct timer *t)
{
  unsigned long irq = plat_irq_save();
  if (t->armed) {
    list_remove(&t->node);
    t->armed = 0;
    wheel.count--;
  }
  plat_irq_restore(irq);
}

void
timer_wheel_init(uint64_t now_ns)
{
  for (unsigned i = 0; i < L0_SIZE; i++)
    list_init(&wheel.l0[i]);
  for (unsigned lv = 0; lv < LEVELS - 1; lv++) {
    for (unsigned i = 0; i < LN_SIZE; i++)
      list_init(&wheel.ln[lv][i]);
    wheel.ln_bits[lv] = 0;
  }
  for (unsigned i = 0; i < L0_SIZE / 64; i++)
    wheel.l0_bits[i] = 0;
  wheel.cur = tick_of(now_ns);
  wheel.count = 0;
}

unsigned
timer_count(void)
{
  return wheel.count;
}

/* Moves every timer of a higher-level slot to where it belongs now. */
static void
cascade(unsigned lv, unsigned i)
{
  struct list tmp, *n;
  list_init(&tmp);
  while ((n = list_pop_front(&wheel.ln[lv - 1][i])) != 0)
    list_push_back(&tmp, n);
  wheel.ln_bits[lv - 1] &= ~(1ull << i);
  while ((n = list_pop_front(&tmp)) != 0)
    place(list_entry(n, struct timer, node));
}

/* Fires the due timers of level-0 slot i, earliest deadline first. */
static void
fire_slot(unsigned i, uint64_t now_ns)
{
  struct list *head = &wheel.l0[i];
  for (;;) {
    struct timer *best = 0;
    for (struct list *n = head->next; n != head; n = n->next) {
      struct timer *t = list_entry(n, struct timer, node);
      if (t->deadline <= now_ns && (!best || t->deadline < best->deadline))
        best = t;
    }
    if (!best)
      break;
    list_remove(&best->node);
    best->armed = 0;
    wheel.count--;
    best->fn(best);
  }
  if (list_empty(head))
    wheel.l0_bits[i / 64] &= ~(1ull << (i % 64));
}

/* Advances cur by one tick, cascading the slots whose time has come. */
static void
step(void)
{
  wheel.cur++;
  uint64_t c = wheel.cur;
  if (c & (L0_SIZE - 1))
    return;
  for (unsigned lv = 1; lv < LEVELS; lv++) {
    unsigned shift = L0_BITS + LN_BITS * (lv - 1);
    unsigned i = (unsigned)((c >> shift) & (LN_SIZE - 1));
    cascade(lv, i);
    if (i != 0)
      break;
  }
}

void
timer_advance(uint64_t now_ns)
{
  unsigned long irq = plat_irq_save();
  uint64_t target = tick_of(now_ns);
  if (wheel.count == 0 && target > wheel.cur) {
    wheel.cur = target; /* nothing to cascade: jump */
  }
  for (;;) {
    /* Timers in the current slot (including late arrivals) may be due. */
    fire_slot((unsigned)(wheel.cur & (L0_SIZE - 1)), now_ns);
    if (wheel.cur >= target)
      break;
    if (wheel.count == 0) {
      wheel.cur = target;
      continue;
    }
    step();
  }
  plat_irq_restore(irq);
}

static uint64_t
min_in(const struct list *head)
{
  uint64_t m = UINT64_MAX;
  for (const struct list *n = head->next; n != head; n = n->next) {
    const struct timer *t = list_entry(n, const struct timer, node);
    if (t->deadline < m)
      m = t->deadline;
  }
  return m;
}

uint64_t
timer_next_deadline(void)
{
  if (wheel.count == 0)
    return UINT64_MAX;
  /*
   * The earliest of: the first due timer on level 0, and the first cascade
   * of each higher level (a timer armed further ahead, or on a higher level,
   * may still be due before a level-0 timer armed later).
   */
  uint64_t best = UINT64_MAX;
  /* Level 0: the first non-empty slot at or after cur, in wheel order. */
  for (unsigned k = 0; k < L0_SIZE; k++) {
    unsigned i = (unsigned)((wheel.cur + k) & (L0_SIZE - 1));
    if (!(wheel.l0_bits[i / 64] >> (i % 64) & 1))
      continue;
    if (list_empty(&wheel.l0[i])) { /* emptied by cancels */
      wheel.l0_bits[i / 64] &= ~(1ull << (i % 64));
      continue;
    }
    best = min_in(&wheel.l0[i]);
    break;
  }
  /* Higher levels: the start of the first slot that will cascade. */
  for (unsigned lv = 1; lv < LEVELS; lv++) {
    if (!wheel.ln_bits[lv - 1])
      continue;
    unsigned shift = L0_BITS + LN_BITS * (lv - 1);
    uint64_t span = 1ull << shift;
    uint64_t base = (wheel.cur >> shift);
    for (unsigned k = 1; k <= LN_SIZE; k++) {
      unsigned i = (unsigned)((base + k) & (LN_SIZE - 1));
      if (!(wheel.ln_bits[lv - 1] >> i & 1))
        continue;
      if (list_empty(&wheel.ln[lv - 1][i])) {
        wheel.ln_bits[lv - 1] &= ~(1ull << i);
        continue;
      }
      uint64_t at = ((base + k) * span) << TICK_SHIFT;
      if (at < best)
        best = at;
      break;
    }
  }
  return best;
}
