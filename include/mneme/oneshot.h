/*
 * oneshot.h: a reusable single-reply slot.
 *
 * The receiver arms the slot, which returns a ticket; it hands the ticket
 * to whoever will reply (in a message envelope) and waits. The sender puts
 * one reply using the ticket. A reply with a stale ticket (for a request
 * the receiver already gave up on) is refused with MN_ECANCELED, so a slot
 * can be reused safely after a timeout. Storage is allocated once.
 */
#ifndef MNEME_ONESHOT_H
#define MNEME_ONESHOT_H

#include <stddef.h>
#include <stdint.h>
#include "mneme/waitq.h"

enum oneshot_state { ONESHOT_IDLE, ONESHOT_ARMED, ONESHOT_FULL, ONESHOT_CLOSED };

struct oneshot {
  uint8_t *buf;
  size_t cap, len;
  uint32_t ticket;         /* current arming; 0 is never a valid ticket */
  enum oneshot_state state;
  int owns_buf;
  struct waitq wq;
};

/* Returns 0, MN_ENOMEM. */
int oneshot_init(struct oneshot *os, size_t cap);
int oneshot_init_static(struct oneshot *os, void *storage, size_t cap);
void oneshot_destroy(struct oneshot *os);

/* Arms the slot for a new reply and returns its ticket (never 0). */
uint32_t oneshot_arm(struct oneshot *os);

/* Puts a reply. Returns 0, MN_ECANCELED (stale ticket or not armed),
 * MN_EOVERFLOW (len > cap). Never waits; safe from interrupt handlers. */
int oneshot_send(struct oneshot *os, uint32_t ticket, const void *data, size_t len);

/* As oneshot_send, with the reply made of a header and a body. */
int oneshot_send_parts(struct oneshot *os, uint32_t ticket, const void *hdr,
                       size_t hlen, const void *body, size_t blen);

/* Waits for the reply to the current arming; copies it to out (up to cap
 * bytes; out may be NULL to read os->buf directly until the next arm),
 * stores its length. Returns 0, MN_ETIMEDOUT (the arming is then
 * dropped), MN_ECLOSED, MN_ECANCELED, MN_EINVAL (not armed). */
int oneshot_recv(struct oneshot *os, void *out, size_t *len, uint64_t timeout_ns);

/* Closes: a waiting receiver gets MN_ECLOSED, later sends MN_ECANCELED. */
void oneshot_close(struct oneshot *os);

#endif
