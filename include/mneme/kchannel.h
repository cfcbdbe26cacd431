/*
 * kchannel.h: bounded multi-producer queues of fixed-size messages.
 *
 * send waits while the channel is full, recv while it is empty; the try_
 * variants never wait. Closing wakes every waiter on both ends: senders
 * then get MN_ECLOSED, receivers drain what is left and then get
 * MN_ECLOSED. Each sender handle is counted (kchannel_sender_add/drop);
 * dropping the last one closes the channel. Messages are copied in and out
 * (memcpy of msg_size bytes); the storage is allocated once at init.
 *
 * try_send and try_recv may be called from interrupt handlers.
 */
#ifndef MNEME_KCHANNEL_H
#define MNEME_KCHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include "mneme/waitq.h"

struct kchannel {
  uint8_t *buf;          /* cap * msg_size bytes */
  size_t msg_size, cap;
  size_t head, count;    /* ring position of the oldest message, messages */
  unsigned senders;      /* live sender handles; 0 after the last drop */
  int closed;
  int owns_buf;
  struct waitq not_full, not_empty;
};

/* Allocates room for cap messages. Returns 0, MN_EINVAL or MN_ENOMEM. */
int kchannel_init(struct kchannel *ch, size_t msg_size, size_t cap);

/* As kchannel_init over caller storage of cap * msg_size bytes. */
int kchannel_init_static(struct kchannel *ch, size_t msg_size, size_t cap,
                         void *storage);

/* Frees the storage (if allocated). No task may be waiting on ch. */
void kchannel_destroy(struct kchannel *ch);

/* Returns 0, MN_ECLOSED, MN_ETIMEDOUT, MN_ECANCELED. */
int kchannel_send(struct kchannel *ch, const void *msg, uint64_t timeout_ns);
/* Returns 0, MN_ECLOSED, MN_EAGAIN (full). */
int kchannel_try_send(struct kchannel *ch, const void *msg);

/*
 * Sends a message made of two parts without a temporary copy: hlen bytes
 * of hdr at offset 0 and blen bytes of body at offset body_off (the rest
 * of the slot is zeroed). hlen <= body_off, body_off + blen <= msg_size.
 */
int kchannel_try_send_parts(struct kchannel *ch, const void *hdr, size_t hlen,
                            size_t body_off, const void *body, size_t blen);
int kchannel_send_parts(struct kchannel *ch, const void *hdr, size_t hlen,
                        size_t body_off, const void *body, size_t blen,
                        uint64_t timeout_ns);

/* Returns 0, MN_ECLOSED (closed and empty), MN_ETIMEDOUT, MN_ECANCELED. */
int kchannel_recv(struct kchannel *ch, void *msg, uint64_t timeout_ns);
/* Returns 0, MN_ECLOSED, MN_EAGAIN (empty). */
int kchannel_try_recv(struct kchannel *ch, void *msg);

void kchannel_close(struct kchannel *ch);
void kchannel_sender_add(struct kchannel *ch);
void kchannel_sender_drop(struct kchannel *ch);

static inline size_t
kchannel_len(const struct kchannel *ch)
{
  return ch->count;
}

#endif
