/*
 * oneshot.c: a reusable single-reply slot.
 *
 * Interface: oneshot_init, oneshot_init_static, oneshot_destroy,
 * oneshot_arm, oneshot_send, oneshot_recv, oneshot_close.
 */
#include <string.h>
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/oneshot.h"
#include "mneme/platform.h"

int
oneshot_init_static(struct oneshot *os, void *storage, size_t cap)
{
  os->buf = storage;
  os->cap = cap;
  os->len = 0;
  os->ticket = 0;
  os->state = ONESHOT_IDLE;
  os->owns_buf = 0;
  waitq_init(&os->wq);
  return 0;
}

int
oneshot_init(struct oneshot *os, size_t cap)
{
  void *buf = kmalloc(cap ? cap : 1);
  if (!buf)
    return MN_ENOMEM;
  oneshot_init_static(os, buf, cap);
  os->owns_buf = 1;
  return 0;
}

void
oneshot_destroy(struct oneshot *os)
{
  if (os->owns_buf)
    kfree(os->buf);
  os->buf = 0;
}

uint32_t
oneshot_arm(struct oneshot *os)
{
  unsigned long irq = plat_irq_save();
  if (++os->ticket == 0)
    os->ticket = 1;
  os->state = ONESHOT_ARMED;
  os->len = 0;
  uint32_t t = os->ticket;
  plat_irq_restore(irq);
  return t;
}

int
oneshot_send(struct oneshot *os, uint32_t ticket, const void *data, size_t len)
{
  return oneshot_send_parts(os, ticket, data, len, 0, 0);
}

int
oneshot_send_parts(struct oneshot *os, uint32_t ticket, const void *hdr,
                   size_t hlen, const void *body, size_t blen)
{
  unsigned long irq = plat_irq_save();
  int err = 0;
  if (os->state != ONESHOT_ARMED || ticket != os->ticket)
    err = MN_ECANCELED;
  else if (hlen > os->cap || blen > os->cap - hlen)
    err = MN_EOVERFLOW;
  if (!err) {
    if (hlen)
      memcpy(os->buf, hdr, hlen);
    if (blen)
      memcpy(os->buf + hlen, body, blen);
    os->len = hlen + blen;
    os->state = ONESHOT_FULL;
    waitq_wake_one(&os->wq);
  }
  plat_irq_restore(irq);
  return err;
}

int
oneshot_recv(struct oneshot *os, void *out, size_t *len, uint64_t timeout_ns)
{
  uint64_t deadline = UINT64_MAX;
  int have_deadline = 0;
  for (;;) {
    uint32_t seq = waitq_seq(&os->wq);
    if (os->state == ONESHOT_FULL) {
      if (out && os->len)
        memcpy(out, os->buf, os->len);
      if (len)
        *len = os->len;
      os->state = ONESHOT_IDLE;
      return 0;
    }
    if (os->state == ONESHOT_CLOSED)
      return MN_ECLOSED;
    if (os->state != ONESHOT_ARMED)
      return MN_EINVAL;
    if (!have_deadline) {
      deadline = ktime_deadline(timeout_ns);
      have_deadline = 1;
    }
    int err = waitq_wait_seq(&os->wq, seq, deadline);
    if (err && os->state != ONESHOT_FULL) {
      if (os->state == ONESHOT_ARMED)
        os->state = ONESHOT_IDLE; /* late replies are now stale */
      return err;
    }
  }
}

void
oneshot_close(struct oneshot *os)
{
  unsigned long irq = plat_irq_save();
  os->state = ONESHOT_CLOSED;
  waitq_wake_all(&os->wq);
  plat_irq_restore(irq);
}
