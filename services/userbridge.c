/*
 * userbridge.c: userspace requests over a byte port.
 *
 * Interface: userbridge_start, userbridge_stats.
 *
 * Two tasks. The reader decodes COBS frames from rx and hands each to
 * svc_user_request(), whose replies land in a private reply ring; the
 * writer takes each reply record (varint length + bytes) from that ring,
 * COBS-encodes it and writes it to tx. Buffers are allocated at start.
 */
#include <string.h>
#include "mneme/bbq.h"
#include "mneme/cobs.h"
#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/kmem.h"
#include "mneme/postcard.h"
#include "mneme/registry.h"
#include "mneme/task.h"
#include "mneme/userbridge.h"

static struct {
  struct bbq *rx, *tx;
  struct bbq replies;
  struct cobs_stream dec;
  uint8_t *frame, *enc;
  size_t max_frame;
  struct userbridge_stats st;
} ub;

static int
reader(void *arg)
{
  (void)arg;
  const uint8_t *p;
  size_t len;
  while (bbq_read_grant(ub.rx, MN_FOREVER, &p, &len) == 0) {
    size_t off = 0;
    while (off < len) {
      size_t used;
      int r = cobs_stream_feed(&ub.dec, p + off, len - off, &used);
      off += used;
      if (r == 1) {
        size_t n;
        const uint8_t *f = cobs_stream_frame(&ub.dec, &n);
        ub.st.requests++;
        svc_user_request(f, n, &ub.replies);
      } else if (r < 0) {
        if (r == MN_EOVERFLOW)
          ub.st.oversize++;
        else
          ub.st.bad_frames++;
        /* An empty request is malformed: the kernel answers with an error. */
        svc_user_request((const uint8_t *)"", 0, &ub.replies);
      }
    }
    bbq_release(ub.rx, len);
  }
  return 0;
}

static int
writer(void *arg)
{
  (void)arg;
  const uint8_t *p;
  size_t len;
  while (bbq_read_grant(&ub.replies, MN_FOREVER, &p, &len) == 0) {
    struct pc_dec d;
    uint32_t n;
    pc_dec_init(&d, p, len);
    pc_dec_u32(&d, &n);
    size_t hdr = len - pc_dec_remaining(&d);
    size_t elen;
    if (pc_dec_error(&d) || n > len - hdr ||
        cobs_encode(p + hdr, n, ub.enc, cobs_max_encoded_len(ub.max_frame), &elen)) {
      bbq_release(&ub.replies, len); /* cannot happen: records are ours */
      continue;
    }
    bbq_release(&ub.replies, hdr + n);
    ub.enc[elen++] = 0;
    if (bbq_write_all(ub.tx, ub.enc, elen, MN_FOREVER))
      return 0;
    ub.st.replies++;
  }
  return 0;
}

int
userbridge_start(struct bbq *rx, struct bbq *tx, size_t max_frame)
{
  memset(&ub, 0, sizeof ub);
  ub.rx = rx;
  ub.tx = tx;
  ub.max_frame = max_frame;
  ub.frame = kmalloc(max_frame);
  ub.enc = kmalloc(cobs_max_encoded_len(max_frame) + 1);
  if (!ub.frame || !ub.enc || bbq_init(&ub.replies, 4 * max_frame))
    return MN_ENOMEM;
  cobs_stream_init(&ub.dec, ub.frame, max_frame);
  if (task_spawn("userbridge-rx", reader, 0, 0, 0) ||
      task_spawn("userbridge-tx", writer, 0, 0, 0))
    return MN_ENOMEM;
  return 0;
}

void
userbridge_stats(struct userbridge_stats *out)
{
  *out = ub.st;
}
