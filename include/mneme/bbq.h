/*
 * bbq.h: a bipartite-buffer byte ring (single producer, single consumer).
 *
 * The producer asks for a contiguous write grant, fills it, and commits
 * how much it used; the consumer gets a contiguous read grant of what is
 * there and releases what it consumed. Grants are pointers into the ring:
 * no copy. When the end of the ring is too short for a grant, the grant is
 * placed at the start and the tail is skipped (the "bipartite" trick), so
 * every grant is contiguous.
 *
 * The try-forms never wait (safe from interrupt handlers); the send_/
 * read_ forms wait with a timeout. Several producers share one ring
 * through the mp_ front, which serializes whole grant+commit pairs.
 * Closing wakes everyone: writers get MN_ECLOSED, readers drain and then
 * get MN_ECLOSED.
 */
#ifndef MNEME_BBQ_H
#define MNEME_BBQ_H

#include <stddef.h>
#include <stdint.h>
#include "mneme/waitq.h"

struct bbq {
  uint8_t *buf;
  size_t cap;
  /* ring indices: data is [read, write) when write >= read ("not
   * inverted"), else [read, last) then [0, write) */
  size_t read, write, last;
  size_t grant_start, grant_len;   /* outstanding write grant */
  int write_granted, grant_wraps;
  size_t read_grant_len;
  int read_granted;
  int closed, owns_buf;
  struct waitq readable, writable;
  /* multi-producer front: a FIFO lock, handed to the longest waiter */
  int producer_busy;
  unsigned producers_waiting;      /* in bbq_mp_grant_exact's wait */
  int producer_handoff;            /* the lock was passed on: a waiter takes it */
  struct waitq producers;
};

int bbq_init(struct bbq *q, size_t cap);                 /* 0, MN_ENOMEM, MN_EINVAL */
int bbq_init_static(struct bbq *q, void *storage, size_t cap);
void bbq_destroy(struct bbq *q);

/* Write grant of exactly n bytes: 0, MN_EAGAIN (no room now), MN_EBUSY
 * (a grant is outstanding), MN_EOVERFLOW (n > cap: never), MN_ECLOSED. */
int bbq_grant_exact(struct bbq *q, size_t n, uint8_t **out);
/* Write grant of 1..max bytes, as large as fits contiguously. */
int bbq_grant_max(struct bbq *q, size_t max, uint8_t **out, size_t *len);
/* Write grant of min..max bytes, as large as fits contiguously (at the
 * start of the ring if the end has fewer than min). */
int bbq_grant_range(struct bbq *q, size_t min, size_t max, uint8_t **out, size_t *len);
/* Publishes the first used bytes of the write grant and ends it. */
void bbq_commit(struct bbq *q, size_t used);

/* Read grant of everything contiguous: 0, MN_EAGAIN (empty), MN_EBUSY,
 * MN_ECLOSED (closed and empty). */
int bbq_read(struct bbq *q, const uint8_t **out, size_t *len);
/* Consumes the first used bytes of the read grant and ends it. */
void bbq_release(struct bbq *q, size_t used);

/* Waiting forms; also MN_ETIMEDOUT, MN_ECANCELED. */
int bbq_send_grant_exact(struct bbq *q, size_t n, uint64_t timeout_ns, uint8_t **out);
int bbq_send_grant_max(struct bbq *q, size_t max, uint64_t timeout_ns,
                       uint8_t **out, size_t *len);
int bbq_read_grant(struct bbq *q, uint64_t timeout_ns, const uint8_t **out, size_t *len);

/* Copies all of data in, waiting for room as needed (may split it). */
int bbq_write_all(struct bbq *q, const void *data, size_t len, uint64_t timeout_ns);

/* Multi-producer front: grant under a producer lock, which commit drops.
 * The lock is first come, first served: a producer that releases it and
 * at once asks again queues behind those already waiting, so one producer
 * that always has data cannot starve the others (issue 9: a shell's
 * endless output kept the other ports' frames off a busy serial line). */
int bbq_mp_grant_exact(struct bbq *q, size_t n, uint64_t timeout_ns, uint8_t **out);
void bbq_mp_commit(struct bbq *q, size_t used);

void bbq_close(struct bbq *q);

/* Bytes readable now (both parts). */
size_t bbq_used(const struct bbq *q);

#endif
