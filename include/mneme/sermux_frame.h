/*
 * sermux_frame.h: the serial mux wire framing, shared by the kernel's
 * sermux service and the host terminal (tools/mnemeterm).
 *
 * A frame on the wire is COBS(port as u16 little-endian || payload) then
 * one 0x00. A decoded frame shorter than 3 bytes is malformed (a frame has
 * at least one payload byte). Bytes that do not decode as frames (boot
 * messages, panics) come out of the demultiplexer as text runs.
 *
 * Text and frames on one line (text_lines mode, on by default): a run that
 * starts with a text byte (tab, CR, LF, ESC, 0x20..0x7E, 0x80..0xFF) is
 * text and ends at LF (included), at a 0x00, or before a byte that can
 * start a frame (0x01..0x08, other control bytes, 0x7F). A frame for a
 * port below 0x100, or whose port has a zero byte, always starts with
 * code 01 or 02, so it is never mistaken for text. Turn text_lines off
 * where no text is expected (the kernel reading what the host sends):
 * then every run up to a 0x00 is a frame candidate, and one that does not
 * decode comes out as text and counts as malformed.
 */
#ifndef MNEME_SERMUX_FRAME_H
#define MNEME_SERMUX_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mneme/cobs.h>

#define SMX_MAX_FRAME_DEFAULT 512 /* decoded bytes: port + payload */
#define SMX_PORT_LEN 2

/* Wire bytes for a frame with n payload bytes, delimiter included. */
static inline size_t smx_encoded_max(size_t n) {
  return cobs_max_encoded_len(n + SMX_PORT_LEN) + 1;
}

/*
 * Encodes one frame into dst: COBS(port LE || payload) then 00.
 * Returns 0, MN_EINVAL (empty payload) or MN_ENOSPC (dst too small;
 * smx_encoded_max(n) always suffices). Splitting data into frames of at
 * most max_frame/2 bytes (as mnemOS does) is the caller's business.
 */
int smx_encode(uint16_t port, const void *payload, size_t n, void *dst,
               size_t cap, size_t *out_len);

/*
 * Decodes one frame src[0..n) (the bytes between two 0x00, delimiter not
 * included) into dst; *port, *payload and *len describe it (payload points
 * into dst; dst may equal src). Returns 0, MN_EDECODE (not valid COBS),
 * MN_ETRUNC (shorter than 3 bytes) or MN_ENOSPC (dst too small; n bytes
 * always suffice).
 */
int smx_decode(const void *src, size_t n, void *dst, size_t cap,
               uint16_t *port, const uint8_t **payload, size_t *len);

/* ---- demultiplexer -------------------------------------------------------- */

enum smx_kind {
  SMX_NONE = 0,  /* nothing to report yet */
  SMX_FRAME = 1, /* item.port, item.data, item.len: a frame's payload */
  SMX_TEXT = 2,  /* item.data, item.len: bytes that are not a frame */
};

struct smx_item {
  uint16_t port;
  const uint8_t *data; /* into the demux buffer: valid until next push */
  size_t len;
};

struct smx_counters {
  uint64_t frames;     /* good frames delivered */
  uint64_t text_bytes; /* bytes delivered as text */
  uint64_t malformed;  /* runs ended by 00 that were not valid COBS */
  uint64_t oversized;  /* frames longer than max_frame (dropped) */
  uint64_t short_frames; /* valid COBS, under 3 bytes (dropped) */
};

struct smx_demux {
  uint8_t *buf;     /* raw bytes of the run in progress */
  size_t cap;       /* cobs_max_encoded_len(max_frame) */
  size_t len;
  size_t max_frame; /* largest decoded frame accepted */
  bool text_lines;  /* see the top of this file */
  bool text_run;    /* the run in progress is text */
  bool discarding;  /* an oversized frame: skip to the next 00 */
  bool emitted;     /* buf was handed out: reset at the next push */
  bool held;        /* a byte waits to start the next run */
  uint8_t held_byte;
  struct smx_counters count;
};

/* Buffer bytes a demux needs for frames of up to max_frame bytes. */
static inline size_t smx_demux_buf_size(size_t max_frame) {
  return cobs_max_encoded_len(max_frame);
}

/* Returns 0 or MN_EINVAL (max_frame < 3 or cap below
 * smx_demux_buf_size(max_frame)). text_lines starts on. */
int smx_demux_init(struct smx_demux *d, void *buf, size_t cap,
                   size_t max_frame);

/* Feeds one wire byte; returns an smx_kind and fills *item for
 * SMX_FRAME/SMX_TEXT. Never fails: bad input is counted. */
int smx_demux_push(struct smx_demux *d, uint8_t byte, struct smx_item *item);

/* Feeds bytes until an item is ready or the input ends; *used gets the
 * bytes consumed. Returns like smx_demux_push. */
int smx_demux_feed(struct smx_demux *d, const void *in, size_t n,
                   size_t *used, struct smx_item *item);

/* Hands out what is pending as text (idle line: a prompt without LF).
 * Returns SMX_TEXT or SMX_NONE; frames in progress are left alone. */
int smx_demux_flush_text(struct smx_demux *d, struct smx_item *item);

#endif
