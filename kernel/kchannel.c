/*
 * kchannel.c: bounded multi-producer queues of fixed-size messages.
 *
 * Interface: kchannel_init, kchannel_init_static, kchannel_destroy,
 * kchannel_send, kchannel_try_send, kchannel_recv, kchannel_try_recv,
 * kchannel_close, kchannel_sender_add, kchannel_sender_drop.
 *
 * A ring of cap slots. Waiters sleep on not_full / not_empty; each
 * successful operation wakes one waiter of the other side, close wakes all.
 */
#include <string.h>
#include "mneme/err.h"
#include "mneme/kchannel.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/platform.h"

int
kchannel_init_static(struct kchannel *ch, size_t msg_size, size_t cap,
                     void *storage)
{
  if (!msg_size || !cap || !storage)
    return MN_EINVAL;
  ch->buf = storage;
  ch->msg_size = msg_size;
  ch->cap = cap;
  ch->head = ch->count = 0;
  ch->senders = 1;
  ch->closed = 0;
  ch->owns_buf = 0;
  waitq_init(&ch->not_full);
  waitq_init(&ch->not_empty);
  return 0;
}

int
kchannel_init(struct kchannel *ch, size_t msg_size, size_t cap)
{
  if (!msg_size || !cap || cap > SIZE_MAX / msg_size)
    return MN_EINVAL;
  void *buf = kmalloc(msg_size * cap);
  if (!buf)
    return MN_ENOMEM;
  kchannel_init_static(ch, msg_size, cap, buf);
  ch->owns_buf = 1;
  return 0;
}

void
kchannel_destroy(struct kchannel *ch)
{
  if (ch->owns_buf)
    kfree(ch->buf);
  ch->buf = 0;
}

int
kchannel_try_send_parts(struct kchannel *ch, const void *hdr, size_t hlen,
                        size_t body_off, const void *body, size_t blen)
{
  if (hlen > body_off || body_off > ch->msg_size || blen > ch->msg_size - body_off)
    return MN_EINVAL;
  unsigned long irq = plat_irq_save();
  int err = 0;
  if (ch->closed) {
    err = MN_ECLOSED;
  } else if (ch->count == ch->cap) {
    err = MN_EAGAIN;
  } else {
    size_t slot = ch->head + ch->count;
    if (slot >= ch->cap)
      slot -= ch->cap;
    uint8_t *p = ch->buf + slot * ch->msg_size;
    memcpy(p, hdr, hlen);
    if (body_off > hlen)
      memset(p + hlen, 0, body_off - hlen);
    if (blen)
      memcpy(p + body_off, body, blen);
    if (body_off + blen < ch->msg_size)
      memset(p + body_off + blen, 0, ch->msg_size - body_off - blen);
    ch->count++;
    waitq_wake_one(&ch->not_empty);
  }
  plat_irq_restore(irq);
  return err;
}

int
kchannel_try_send(struct kchannel *ch, const void *msg)
{
  return kchannel_try_send_parts(ch, msg, ch->msg_size, ch->msg_size, 0, 0);
}

int
kchannel_try_recv(struct kchannel *ch, void *msg)
{
  unsigned long irq = plat_irq_save();
  int err = 0;
  if (ch->count == 0) {
    err = ch->closed ? MN_ECLOSED : MN_EAGAIN;
  } else {
    memcpy(msg, ch->buf + ch->head * ch->msg_size, ch->msg_size);
    if (++ch->head == ch->cap)
      ch->head = 0;
    ch->count--;
    waitq_wake_one(&ch->not_full);
  }
  plat_irq_restore(irq);
  return err;
}

int
kchannel_send(struct kchannel *ch, const void *msg, uint64_t timeout_ns)
{
  return kchannel_send_parts(ch, msg, ch->msg_size, ch->msg_size, 0, 0, timeout_ns);
}

struct send_args {
  struct kchannel *ch;
  const void *hdr, *body;
  size_t hlen, body_off, blen;
};

static int
try_send_args(void *arg)
{
  struct send_args *a = arg;
  return kchannel_try_send_parts(a->ch, a->hdr, a->hlen, a->body_off, a->body, a->blen);
}

int
kchannel_send_parts(struct kchannel *ch, const void *hdr, size_t hlen,
                    size_t body_off, const void *body, size_t blen,
                    uint64_t timeout_ns)
{
  struct send_args a = { ch, hdr, body, hlen, body_off, blen };
  return waitq_retry(&ch->not_full, try_send_args, &a, timeout_ns);
}

struct recv_args {
  struct kchannel *ch;
  void *msg;
};

static int
try_recv_args(void *arg)
{
  struct recv_args *a = arg;
  return kchannel_try_recv(a->ch, a->msg);
}

int
kchannel_recv(struct kchannel *ch, void *msg, uint64_t timeout_ns)
{
  struct recv_args a = { ch, msg };
  return waitq_retry(&ch->not_empty, try_recv_args, &a, timeout_ns);
}

void
kchannel_close(struct kchannel *ch)
{
  unsigned long irq = plat_irq_save();
  ch->closed = 1;
  waitq_wake_all(&ch->not_full);
  waitq_wake_all(&ch->not_empty);
  plat_irq_restore(irq);
}

void
kchannel_sender_add(struct kchannel *ch)
{
  ch->senders++;
}

void
kchannel_sender_drop(struct kchannel *ch)
{
  if (ch->senders && --ch->senders == 0)
    kchannel_close(ch);
}
