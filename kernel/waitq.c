/*
 * waitq.c: wait queues.
 *
 * Interface: waitq_init, waitq_wait, waitq_wait_until, waitq_wait_seq,
 * waitq_retry, waitq_wake_one, waitq_wake_all, ktime_deadline, ktime_now.
 *
 * A waiting task is linked into the queue through its run_node (a task is
 * never both ready and waiting) and, with a deadline, its timer is armed;
 * whichever comes first, a wake or the timer, makes it ready again and the
 * other is undone.
 */
#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/task.h"
#include "mneme/waitq.h"

uint64_t
ktime_now(void)
{
  return plat_now_ns();
}

uint64_t
ktime_deadline(uint64_t timeout_ns)
{
  if (timeout_ns == MN_FOREVER)
    return UINT64_MAX;
  uint64_t now = plat_now_ns();
  return timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
}

void
waitq_init(struct waitq *q)
{
  list_init(&q->waiters);
  q->seq = 0;
}

int
waitq_wait_seq(struct waitq *q, uint32_t seq, uint64_t deadline_ns)
{
  struct task *t = task_current();
  unsigned long irq = plat_irq_save();
  if (t->kill_pending) {
    plat_irq_restore(irq);
    return MN_ECANCELED;
  }
  if (q->seq != seq) {
    plat_irq_restore(irq);
    return 0;
  }
  if (deadline_ns != UINT64_MAX && deadline_ns <= plat_now_ns()) {
    plat_irq_restore(irq);
    return MN_ETIMEDOUT;
  }
  t->state = TASK_WAITING;
  t->waiting_on = q;
  t->wake_reason = 0;
  list_push_back(&q->waiters, &t->run_node);
  if (deadline_ns != UINT64_MAX)
    timer_arm(&t->timer, deadline_ns);
  plat_irq_restore(irq);
  task_schedule();
  if (deadline_ns != UINT64_MAX)
    timer_cancel(&t->timer);
  return t->wake_reason;
}

int
waitq_wait_until(struct waitq *q, uint64_t deadline_ns)
{
  return waitq_wait_seq(q, q->seq, deadline_ns);
}

int
waitq_wait(struct waitq *q, uint64_t timeout_ns)
{
  return waitq_wait_until(q, ktime_deadline(timeout_ns));
}

int
waitq_retry(struct waitq *q, int (*attempt)(void *arg), void *arg,
            uint64_t timeout_ns)
{
  uint64_t deadline = UINT64_MAX;
  int have_deadline = 0;
  for (;;) {
    uint32_t seq = waitq_seq(q);
    int err = attempt(arg);
    if (err != MN_EAGAIN)
      return err;
    if (!have_deadline) { /* the clock is read only if we must wait */
      deadline = ktime_deadline(timeout_ns);
      have_deadline = 1;
    }
    if ((err = waitq_wait_seq(q, seq, deadline)) != 0)
      return err;
  }
}

void
waitq_wake_one(struct waitq *q)
{
  unsigned long irq = plat_irq_save();
  q->seq++;
  struct list *n = q->waiters.next;
  if (n != &q->waiters)
    task_wake(list_entry(n, struct task, run_node), 0);
  plat_irq_restore(irq);
}

void
waitq_wake_all(struct waitq *q)
{
  unsigned long irq = plat_irq_save();
  q->seq++;
  while (q->waiters.next != &q->waiters)
    task_wake(list_entry(q->waiters.next, struct task, run_node), 0);
  plat_irq_restore(irq);
}
