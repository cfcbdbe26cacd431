/*
 * virtio_blk.c: the virtio block device (virtio 1.0, 5.2) as the blockdev
 * service (include/mneme/blockdev.h).
 *
 * Features: VERSION_1, and RO, BLK_SIZE, FLUSH, SIZE_MAX when offered.
 * Each request is a chain of three descriptors: the 16-byte header, the
 * caller's buffer (DMA straight into or out of it), the status byte.
 * Several requests are in flight at once (a third of the queue).
 *
 * Tasks (the interrupt only wakes v.irq):
 *   <name>       the service: checks each request (range, size, read-only)
 *                and answers bad ones at once; posts good ones, waiting
 *                for a free slot when all are in flight;
 *   <name>-done  collects finished requests and answers them (BLOCKDEV_IO
 *                with the device's status when it is not OK). While
 *                requests are in flight it also looks at the used ring
 *                every POLL_NS, so a device whose interrupt never comes
 *                (a lost MSI, a misrouted INTx line) is slow, not hung;
 *                such completions are counted (polled). A request
 *                the device has not completed in CMD_TIMEOUT is answered
 *                BLOCKDEV_IO (MN_ETIMEDOUT); its slot stays taken until
 *                the device gives it back.
 *
 * Interface: virtio_blk_driver.
 */
#include <string.h>

#include "mneme/blockdev.h"
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/task.h"
#include "mneme/virtio.h"

#define F_SIZE_MAX (1ull << 1)
#define F_RO (1ull << 5)
#define F_BLK_SIZE (1ull << 6)
#define F_FLUSH (1ull << 9)
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define QMAX 64u
#define MAX_BYTES (128u * 1024u)   /* per request */
#define POLL_NS MN_MSEC(10)
#ifndef CMD_TIMEOUT
#define CMD_TIMEOUT MN_SEC(30)     /* the host test makes it shorter */
#endif

struct blk_hdr {
  uint32_t type, reserved;
  uint64_t sector;                 /* in 512-byte units */
};

struct slot {
  struct blk_hdr hdr;
  volatile uint8_t status;
  int busy, abandoned;
  uint64_t deadline;
  struct svc_envelope env;
  uint8_t kind;
};

struct vblk {
  struct virtio_dev v;
  struct virtq q;
  struct slot *slots;
  unsigned nslots, inflight;
  uint64_t polled, timeouts;       /* completions found without interrupt; timed out */
  struct waitq slot_freed;
  struct blockdev_info info;
  struct svc_server *srv;
};

static int nblks;

static int blk_match(const struct pci_dev *d) { return virtio_pci_match(d, VIRTIO_ID_BLOCK); }

static void reply_err(struct vblk *b, const struct svc_envelope *env, uint8_t kind, int32_t code) {
  struct blockdev_err e = {kind, code};
  svc_reply_err(b->srv, env, &e);
}

/* Answers requests past their deadline; returns the next wake-up time. */
static uint64_t check_timeouts(struct vblk *b) {
  if (!b->inflight) return UINT64_MAX;
  uint64_t now = ktime_now(), next = now + POLL_NS;
  for (unsigned i = 0; i < b->nslots; i++) {
    struct slot *s = &b->slots[i];
    if (!s->busy || s->abandoned) continue;
    if (now >= s->deadline) {
      s->abandoned = 1;
      b->timeouts++;
      klog(LOG_ERROR, "%s: request not completed in %d ms", b->info.name,
           (int)(CMD_TIMEOUT / MN_MSEC(1)));
      reply_err(b, &s->env, BLOCKDEV_IO, MN_ETIMEDOUT);
    }
  }
  return next;
}

static int done_task(void *arg) {
  struct vblk *b = arg;
  int timed_out = 0;
  for (;;) {
    uint32_t seq = waitq_seq(&b->v.irq);
    uint32_t len;
    struct slot *s;
    int any = 0;
    while ((s = virtq_get_used(&b->q, &len)) != NULL) {
      any = 1;
      if (timed_out && !b->polled++)
        klog(LOG_DEBUG, "%s: a completion came without its interrupt (late or lost)",
             b->info.name);
      if (s->abandoned) {
        /* answered already (timed out) */
      } else if (s->status == 0) {
        struct blockdev_resp r;
        memset(&r, 0, sizeof r);
        svc_reply_ok(b->srv, &s->env, &r);
      } else {
        reply_err(b, &s->env, BLOCKDEV_IO, s->status);
      }
      s->busy = 0;
      s->abandoned = 0;
      b->inflight--;
      waitq_wake_all(&b->slot_freed);
    }
    timed_out = 0;
    if (any) continue;
    int rc = waitq_wait_seq(&b->v.irq, seq, check_timeouts(b));
    if (rc == MN_ECANCELED) return 0;
    timed_out = rc == MN_ETIMEDOUT;
  }
}

/* A free slot, waiting for one; NULL if the task is being killed. */
static struct slot *get_slot(struct vblk *b) {
  for (;;) {
    uint32_t seq = waitq_seq(&b->slot_freed);
    for (unsigned i = 0; i < b->nslots; i++)
      if (!b->slots[i].busy) return &b->slots[i];
    if (waitq_wait_seq(&b->slot_freed, seq, UINT64_MAX) == MN_ECANCELED) return NULL;
  }
}

static void handle(struct vblk *b, const struct svc_msg *m) {
  const struct blockdev_req *rq = (const struct blockdev_req *)m->body;
  const struct blockdev_info *in = &b->info;
  if (rq->kind == BLOCKDEV_INFO) {
    struct blockdev_resp r;
    memset(&r, 0, sizeof r);
    r.info = *in;
    svc_reply_ok(b->srv, &m->env, &r);
    return;
  }
  if (rq->kind == BLOCKDEV_FLUSH && !(b->v.features & F_FLUSH)) {
    struct blockdev_resp r; /* no write cache to flush */
    memset(&r, 0, sizeof r);
    svc_reply_ok(b->srv, &m->env, &r);
    return;
  }
  if (rq->kind == BLOCKDEV_READ || rq->kind == BLOCKDEV_WRITE) {
    if (!rq->count || rq->lba >= in->sectors || rq->count > in->sectors - rq->lba) {
      reply_err(b, &m->env, BLOCKDEV_RANGE, 0);
      return;
    }
    if (rq->count > in->max_transfer || !rq->buf) {
      reply_err(b, &m->env, BLOCKDEV_BAD_REQUEST, 0);
      return;
    }
    if (rq->kind == BLOCKDEV_WRITE && in->read_only) {
      reply_err(b, &m->env, BLOCKDEV_READ_ONLY, 0);
      return;
    }
  } else if (rq->kind != BLOCKDEV_FLUSH) {
    reply_err(b, &m->env, BLOCKDEV_BAD_REQUEST, 0);
    return;
  }
  struct slot *s = get_slot(b);
  if (!s) return;
  s->busy = 1;
  s->abandoned = 0;
  s->deadline = ktime_deadline(CMD_TIMEOUT);
  s->env = m->env;
  s->kind = rq->kind;
  s->status = 0xff;
  s->hdr.type = rq->kind == BLOCKDEV_READ ? T_IN : rq->kind == BLOCKDEV_WRITE ? T_OUT : T_FLUSH;
  s->hdr.reserved = 0;
  s->hdr.sector = rq->kind == BLOCKDEV_FLUSH ? 0 : rq->lba * (in->sector_size / 512);
  struct virtq_buf bufs[3];
  unsigned n = 0, nout;
  bufs[n++] = (struct virtq_buf){&s->hdr, sizeof s->hdr};
  if (rq->kind == BLOCKDEV_WRITE) bufs[n++] = (struct virtq_buf){rq->buf, rq->count * in->sector_size};
  nout = n;
  if (rq->kind == BLOCKDEV_READ) bufs[n++] = (struct virtq_buf){rq->buf, rq->count * in->sector_size};
  bufs[n++] = (struct virtq_buf){(void *)&s->status, 1};
  if (virtq_add(&b->q, bufs, nout, n - nout, s)) { /* cannot be: a slot was free */
    s->busy = 0;
    reply_err(b, &m->env, BLOCKDEV_IO, -1);
    return;
  }
  if (!b->inflight++) waitq_wake_all(&b->v.irq); /* the done task arms its poll */
  virtq_kick(&b->v, &b->q);
}

static int server_task(void *arg) {
  struct vblk *b = arg;
  SVC_MSG_BUF(m, sizeof(struct blockdev_req));
  while (svc_recv(b->srv, m, MN_FOREVER) == 0)
    if (m->env.kind == SVC_MSG_REQUEST) handle(b, m);
  return 0;
}

static int blk_probe(struct pci_dev *d) {
  static const struct svc_type type = BLOCKDEV_TYPE;
  if (nblks >= BLOCKDEV_MAX_DISKS) return MN_ENOSPC;
  struct vblk *b = kzalloc(sizeof *b);
  if (!b) return MN_ENOMEM;
  waitq_init(&b->slot_freed);
  int err = virtio_pci_init(&b->v, d);
  if (!err) err = virtio_negotiate(&b->v, F_RO | F_BLK_SIZE | F_FLUSH | F_SIZE_MAX);
  if (!err) {
    int mode = virtio_irq_setup(&b->v);
    err = mode < 0 ? mode : 0;
  }
  if (!err) err = virtio_queue_setup(&b->v, 0, QMAX, &b->q);
  if (!err && b->q.size < 3) err = MN_ENOTSUP;
  if (!err) {
    b->nslots = b->q.size / 3;
    b->slots = kzalloc(sizeof *b->slots * b->nslots);
    if (!b->slots) err = MN_ENOMEM;
  }
  struct blockdev_info *in = &b->info;
  if (!err) {
    uint64_t cap512;
    virtio_cfg_read(&b->v, 0, &cap512, 8);
    uint32_t bs = 512;
    if (b->v.features & F_BLK_SIZE) virtio_cfg_read(&b->v, 20, &bs, 4);
    if (bs < 512 || bs > 65536 || (bs & (bs - 1))) bs = 512;
    uint32_t max_bytes = MAX_BYTES;
    if (b->v.features & F_SIZE_MAX) {
      uint32_t sm;
      virtio_cfg_read(&b->v, 8, &sm, 4);
      if (sm >= bs && sm < max_bytes) max_bytes = sm;
    }
    in->sector_size = bs;
    in->sectors = cap512 / (bs / 512);
    in->max_transfer = max_bytes / bs;
    in->read_only = (b->v.features & F_RO) != 0;
    ksnprintf(in->name, sizeof in->name, "virtio-blk%d", nblks);
    if (!in->max_transfer) err = MN_ENOTSUP;
  }
  if (err) {
    virtio_fail(&b->v);
    return err;
  }
  virtio_driver_ok(&b->v);
  /* the first free disk number (an NVMe disk may have taken some) */
  unsigned disk = 0;
  for (; disk < BLOCKDEV_MAX_DISKS; disk++) {
    struct uuid id = BLOCKDEV_UUID_N(disk);
    err = svc_register(&id, in->name, &type, NULL, SVC_ACCEPT_ALL, 16, &b->srv);
    if (err != MN_EEXIST) break;
  }
  if (disk == BLOCKDEV_MAX_DISKS) err = MN_ENOSPC;
  if (err) {
    virtio_fail(&b->v);
    return err;
  }
  char tn[TASK_NAME_MAX];
  ksnprintf(tn, sizeof tn, "%s-done", in->name);
  if (task_spawn(in->name, server_task, b, 0, NULL) || task_spawn(tn, done_task, b, 0, NULL))
    return MN_ENOMEM;
  d->drvdata = b;
  klog(LOG_INFO, "%s: %lu sectors of %u bytes (%lu MiB)%s, %s", in->name,
       (unsigned long)in->sectors, in->sector_size,
       (unsigned long)((in->sectors * in->sector_size) >> 20), in->read_only ? ", read-only" : "",
       b->v.irq_mode == PCI_IRQ_MSIX ? "MSI-X" : "INTx");
  nblks++;
  return 0;
}

const struct pci_driver virtio_blk_driver = {"virtio-blk", blk_match, blk_probe};
