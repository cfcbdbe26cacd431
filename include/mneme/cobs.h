/*
 * cobs.h: Consistent Overhead Byte Stuffing with 0x00 as frame delimiter.
 *
 * An encoded frame contains no 0x00; the sender appends one 0x00 after it.
 * The encoder writes the shortest form (no trailing 01 block after a final
 * full 254-byte run); the decoders accept that form and the one with the
 * trailing 01. Rules: docs/wire.md. Freestanding, no allocation.
 */
#ifndef MNEME_COBS_H
#define MNEME_COBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest encoding of n bytes, delimiter not included: n + n/254 + 1. */
static inline size_t cobs_max_encoded_len(size_t n) { return n + n / 254 + 1; }

/* ---- encoder -------------------------------------------------------------- */

/* Incremental encoder: push the frame's bytes in any number of pieces,
 * then finish. Errors are sticky. */
struct cobs_enc {
  uint8_t *dst;
  size_t cap;
  size_t len;      /* bytes written, including reserved code bytes */
  size_t code_pos; /* where the open block's code byte goes */
  uint8_t code;    /* open block's code so far (1 + data bytes) */
  bool open;       /* a block is open (false right after a full block) */
  int err;         /* MN_ENOSPC once dst is full */
};

void cobs_enc_init(struct cobs_enc *e, void *dst, size_t cap);
/* Returns 0 or MN_ENOSPC (sticky). */
int cobs_enc_push(struct cobs_enc *e, const void *src, size_t n);
/* Closes the last block; *len gets the encoded length (no delimiter).
 * Returns 0 or MN_ENOSPC. */
int cobs_enc_finish(struct cobs_enc *e, size_t *len);

/* One-shot encode of src[0..n) into dst (no delimiter appended).
 * Returns 0 or MN_ENOSPC (cap < cobs_max_encoded_len(n) may be enough
 * when the data has zeros; never more is needed). */
int cobs_encode(const void *src, size_t n, void *dst, size_t cap,
                size_t *out_len);

/* Decodes exactly one frame src[0..n) without its delimiter. dst may equal
 * src (in-place decoding). Returns 0, MN_EDECODE (empty input, a 0x00
 * anywhere, or a block running past the end) or MN_ENOSPC (dst too small;
 * n bytes of dst always suffice). */
int cobs_decode(const void *src, size_t n, void *dst, size_t cap,
                size_t *out_len);

/* Checks one frame src[0..n) like cobs_decode without writing anything;
 * *out_len gets the decoded length. Returns 0 or MN_EDECODE. */
int cobs_check(const void *src, size_t n, size_t *out_len);

/* ---- streaming decoder ---------------------------------------------------- */

/* Decodes a byte stream (a UART) frame by frame into a caller buffer. */
struct cobs_stream {
  uint8_t *buf;
  size_t cap;
  size_t len;       /* decoded bytes of the frame in progress */
  size_t frame_len; /* length of the last completed frame */
  uint8_t code;     /* current block's code */
  uint8_t left;     /* data bytes still due in the current block */
  bool in_frame;    /* a byte arrived since the last delimiter */
  bool have_block;  /* the frame's first code byte was seen */
  bool over;        /* frame larger than cap: rest of frame is skipped */
};

void cobs_stream_init(struct cobs_stream *s, void *buf, size_t cap);
/*
 * Feeds one byte. Returns 0 (no frame finished; empty frames between two
 * delimiters are ignored), 1 (a frame ended: see cobs_stream_frame), or,
 * at the delimiter that ends a bad frame, MN_EDECODE (invalid encoding) or
 * MN_EOVERFLOW (decoded frame larger than cap). The stream is ready for
 * the next frame after any non-zero return.
 */
int cobs_stream_push(struct cobs_stream *s, uint8_t byte);
/* Feeds bytes until one push returns non-zero or the input ends; *used
 * gets the number of bytes consumed. Returns what the last push returned. */
int cobs_stream_feed(struct cobs_stream *s, const void *in, size_t n,
                     size_t *used);
/* The last completed frame; valid until the next push. */
const uint8_t *cobs_stream_frame(const struct cobs_stream *s, size_t *len);

#endif
