/*
 * bbq.c: bipartite-buffer byte ring.
 *
 * Interface: bbq_init, bbq_init_static, bbq_destroy, bbq_grant_exact,
 * bbq_grant_max, bbq_grant_range, bbq_commit, bbq_read, bbq_release, bbq_send_grant_exact,
 * bbq_send_grant_max, bbq_read_grant, bbq_write_all, bbq_mp_grant_exact,
 * bbq_mp_commit, bbq_close, bbq_used.
 *
 * Invariants: while not inverted (write >= read) the data is
 * [read, write); a wrapped commit sets last = write and write = used,
 * inverting the ring; the reader then reads [read, last) and, reaching
 * last, moves read to 0. Inverted, the writer may use [write, read - 1]:
 * write never catches up with read, so read == write always means empty.
 */
#include <string.h>
#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/platform.h"

int
bbq_init_static(struct bbq *q, void *storage, size_t cap)
{
  if (!storage || !cap)
    return MN_EINVAL;
  memset(q, 0, sizeof *q);
  q->buf = storage;
  q->cap = cap;
  q->last = cap;
  waitq_init(&q->readable);
  waitq_init(&q->writable);
  waitq_init(&q->producers);
  return 0;
}

int
bbq_init(struct bbq *q, size_t cap)
{
  if (!cap)
    return MN_EINVAL;
  void *buf = kmalloc(cap);
  if (!buf)
    return MN_ENOMEM;
  bbq_init_static(q, buf, cap);
  q->owns_buf = 1;
  return 0;
}

void
bbq_destroy(struct bbq *q)
{
  if (q->owns_buf)
    kfree(q->buf);
  q->buf = 0;
}

/* With nothing stored and no grants out, start over at 0. */
static void
maybe_reset(struct bbq *q)
{
  if (q->read == q->write && !q->read_granted && !q->write_granted)
    q->read = q->write = 0;
}

static int
grant_at(struct bbq *q, size_t start, size_t n, int wraps, uint8_t **out)
{
  q->write_granted = 1;
  q->grant_start = start;
  q->grant_len = n;
  q->grant_wraps = wraps;
  *out = q->buf + start;
  return 0;
}

static int
grant(struct bbq *q, size_t min, size_t max, uint8_t **out, size_t *len)
{
  if (q->closed)
    return MN_ECLOSED;
  if (q->write_granted)
    return MN_EBUSY;
  if (min > q->cap)
    return MN_EOVERFLOW;
  maybe_reset(q);
  size_t start, room;
  int wraps = 0;
  if (q->write >= q->read) {
    start = q->write;
    room = q->cap - q->write;
    if (room < min || room == 0) {
      start = 0;
      room = q->read ? q->read - 1 : 0;
      wraps = 1;
    }
  } else {
    start = q->write;
    room = q->read - q->write - 1;
  }
  if (room < min || room == 0)
    return MN_EAGAIN;
  *len = room < max ? room : max;
  return grant_at(q, start, *len, wraps, out);
}

int
bbq_grant_exact(struct bbq *q, size_t n, uint8_t **out)
{
  size_t len;
  if (n == 0)
    return MN_EINVAL;
  unsigned long irq = plat_irq_save();
  int err = grant(q, n, n, out, &len);
  plat_irq_restore(irq);
  return err;
}

int
bbq_grant_max(struct bbq *q, size_t max, uint8_t **out, size_t *len)
{
  if (max == 0)
    return MN_EINVAL;
  unsigned long irq = plat_irq_save();
  int err = grant(q, 1, max, out, len);
  plat_irq_restore(irq);
  return err;
}

int
bbq_grant_range(struct bbq *q, size_t min, size_t max, uint8_t **out, size_t *len)
{
  if (min == 0 || max < min)
    return MN_EINVAL;
  unsigned long irq = plat_irq_save();
  int err = grant(q, min, max, out, len);
  plat_irq_restore(irq);
  return err;
}

void
bbq_commit(struct bbq *q, size_t used)
{
  unsigned long irq = plat_irq_save();
  if (!q->write_granted) {
    plat_irq_restore(irq);
    return;
  }
  if (used > q->grant_len)
    used = q->grant_len;
  q->write_granted = 0;
  if (used) {
    if (q->grant_wraps) {
      q->last = q->write;
      q->write = used;
    } else {
      q->write = q->grant_start + used;
    }
    waitq_wake_one(&q->readable);
  }
  plat_irq_restore(irq);
}

int
bbq_read(struct bbq *q, const uint8_t **out, size_t *len)
{
  unsigned long irq = plat_irq_save();
  int err = 0;
  if (q->read_granted) {
    err = MN_EBUSY;
  } else {
    if (q->write < q->read && q->read == q->last)
      q->read = 0;
    size_t end = q->write >= q->read ? q->write : q->last;
    if (end == q->read) {
      err = q->closed ? MN_ECLOSED : MN_EAGAIN;
    } else {
      q->read_granted = 1;
      q->read_grant_len = end - q->read;
      *out = q->buf + q->read;
      *len = q->read_grant_len;
    }
  }
  plat_irq_restore(irq);
  return err;
}

void
bbq_release(struct bbq *q, size_t used)
{
  unsigned long irq = plat_irq_save();
  if (!q->read_granted) {
    plat_irq_restore(irq);
    return;
  }
  if (used > q->read_grant_len)
    used = q->read_grant_len;
  q->read_granted = 0;
  q->read += used;
  if (q->write < q->read && q->read == q->last)
    q->read = 0;
  maybe_reset(q);
  if (used)
    waitq_wake_one(&q->writable);
  plat_irq_restore(irq);
}

size_t
bbq_used(const struct bbq *q)
{
  if (q->write >= q->read)
    return q->write - q->read;
  return (q->last - q->read) + q->write;
}

/* ---- waiting forms ------------------------------------------------------- */

struct grant_args {
  struct bbq *q;
  size_t n;
  uint8_t **w;
  const uint8_t **r;
  size_t *len;
};

static int
try_grant_max(void *arg)
{
  struct grant_args *a = arg;
  return bbq_grant_max(a->q, a->n, a->w, a->len);
}

static int
try_grant_exact(void *arg)
{
  struct grant_args *a = arg;
  return bbq_grant_exact(a->q, a->n, a->w);
}

static int
try_read(void *arg)
{
  struct grant_args *a = arg;
  return bbq_read(a->q, a->r, a->len);
}

int
bbq_send_grant_max(struct bbq *q, size_t max, uint64_t timeout_ns,
                   uint8_t **out, size_t *len)
{
  struct grant_args a = { q, max, out, 0, len };
  return waitq_retry(&q->writable, try_grant_max, &a, timeout_ns);
}

int
bbq_send_grant_exact(struct bbq *q, size_t n, uint64_t timeout_ns, uint8_t **out)
{
  struct grant_args a = { q, n, out, 0, 0 };
  return waitq_retry(&q->writable, try_grant_exact, &a, timeout_ns);
}

int
bbq_read_grant(struct bbq *q, uint64_t timeout_ns, const uint8_t **out, size_t *len)
{
  struct grant_args a = { q, 0, 0, out, len };
  return waitq_retry(&q->readable, try_read, &a, timeout_ns);
}

int
bbq_write_all(struct bbq *q, const void *data, size_t len, uint64_t timeout_ns)
{
  const uint8_t *p = data;
  uint64_t deadline = ktime_deadline(timeout_ns);
  while (len) {
    uint8_t *g;
    size_t n;
    uint64_t now = plat_now_ns();
    uint64_t left = deadline == UINT64_MAX ? MN_FOREVER
                    : deadline > now ? deadline - now : 0;
    int err = bbq_send_grant_max(q, len, left, &g, &n);
    if (err)
      return err;
    memcpy(g, p, n);
    bbq_commit(q, n);
    p += n;
    len -= n;
  }
  return 0;
}

void
bbq_close(struct bbq *q)
{
  unsigned long irq = plat_irq_save();
  q->closed = 1;
  waitq_wake_all(&q->readable);
  waitq_wake_all(&q->writable);
  waitq_wake_all(&q->producers);
  plat_irq_restore(irq);
}

/* ---- multi-producer front ------------------------------------------------ */

/* Drops the producer lock, or hands it to a waiter (FIFO, no barging). */
static void
mp_release(struct bbq *q)
{
  if (q->producers_waiting) {
    q->producer_handoff = 1; /* producer_busy stays set for the taker */
    waitq_wake_one(&q->producers);
  } else {
    q->producer_busy = 0;
  }
}

int
bbq_mp_grant_exact(struct bbq *q, size_t n, uint64_t timeout_ns, uint8_t **out)
{
  uint64_t deadline = ktime_deadline(timeout_ns);
  if (q->producer_busy) {
    /* Woken waiters look for a handoff first: whoever is woken (the
     * longest waiter, or one whose wait ended) takes it, so a handoff is
     * never lost. */
    q->producers_waiting++;
    for (;;) {
      int err = q->closed ? MN_ECLOSED : waitq_wait_until(&q->producers, deadline);
      if (q->producer_handoff) {
        q->producer_handoff = 0;
        break;
      }
      if (err) {
        q->producers_waiting--;
        return err;
      }
    }
    q->producers_waiting--;
  } else {
    q->producer_busy = 1;
  }
  uint64_t now = plat_now_ns();
  uint64_t left = deadline == UINT64_MAX ? MN_FOREVER
                  : deadline > now ? deadline - now : 0;
  int err = bbq_send_grant_exact(q, n, left, out);
  if (err)
    mp_release(q);
  return err;
}

void
bbq_mp_commit(struct bbq *q, size_t used)
{
  bbq_commit(q, used);
  mp_release(q);
}
