/*
 * userbridge.h: userspace requests over a byte port.
 *
 * Carries the userspace message path (registry.h: svc_user_request) over
 * any pair of byte rings, such as a serial port or a sermux port: each
 * COBS frame (terminated by 0x00) read from rx is one serialized request;
 * each reply is written to tx as one COBS frame and a 0x00. A frame that
 * does not decode is answered with a MALFORMED error reply (nonce 0) and
 * counted; nothing the peer sends can stop the bridge.
 */
#ifndef MNEME_USERBRIDGE_H
#define MNEME_USERBRIDGE_H

#include <stdint.h>

struct bbq;

struct userbridge_stats {
  uint64_t requests, replies, bad_frames, oversize;
};

/* Starts the bridge task on the rings. max_frame: largest request.
 * Returns 0, MN_ENOMEM. */
int userbridge_start(struct bbq *rx, struct bbq *tx, size_t max_frame);

void userbridge_stats(struct userbridge_stats *out);

#endif
