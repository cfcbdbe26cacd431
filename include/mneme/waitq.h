/*
 * waitq.h: wait queues, the only way a task waits.
 *
 * A task that needs a condition checks it, and if it does not hold, waits
 * on the queue that is woken when the condition may have changed, then
 * checks again. Every wait has a timeout.
 *
 * Interrupt handlers may wake a queue. To close the window between the
 * check and the wait, snapshot the queue's sequence number before checking
 * and wait with waitq_wait_seq(): it returns at once if a wake came since.
 */
#ifndef MNEME_WAITQ_H
#define MNEME_WAITQ_H

#include <stdint.h>
#include "mneme/list.h"

struct waitq {
  struct list waiters;     /* struct task.wait_node, FIFO */
  volatile uint32_t seq;   /* incremented by every wake */
};

#define WAITQ_INIT(q) { { &(q).waiters, &(q).waiters }, 0 }

void waitq_init(struct waitq *q);

/*
 * Blocks the current task until woken or until timeout_ns passes.
 * Returns 0 when woken, MN_ETIMEDOUT, or MN_ECANCELED when the task is
 * being killed. Spurious returns are possible: re-check the condition.
 */
int waitq_wait(struct waitq *q, uint64_t timeout_ns);

/* As waitq_wait, against an absolute deadline (UINT64_MAX: none). */
int waitq_wait_until(struct waitq *q, uint64_t deadline_ns);

/* As waitq_wait_until, but returns 0 at once if q->seq != seq. */
int waitq_wait_seq(struct waitq *q, uint32_t seq, uint64_t deadline_ns);

static inline uint32_t
waitq_seq(const struct waitq *q)
{
  return q->seq;
}

/*
 * The usual way to wait for a condition: calls attempt(arg) until it
 * returns something other than MN_EAGAIN, waiting on q (woken when the
 * condition may have changed) in between, for at most timeout_ns in all.
 * Returns what attempt returned, or MN_ETIMEDOUT / MN_ECANCELED.
 */
int waitq_retry(struct waitq *q, int (*attempt)(void *arg), void *arg,
                uint64_t timeout_ns);

/* Wakes the longest waiter / every waiter. Safe from interrupt handlers. */
void waitq_wake_one(struct waitq *q);
void waitq_wake_all(struct waitq *q);

static inline int
waitq_has_waiters(const struct waitq *q)
{
  return !list_empty(&q->waiters);
}

#endif
