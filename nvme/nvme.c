/*
 * nvme.c: the NVMe driver (include/mneme/nvme.h): one controller's first
 * active namespace as the blockdev service (include/mneme/blockdev.h).
 *
 * Bring-up (in pci_start's task; waits sleep, nothing spins): the
 * controller disabled (CC.EN = 0, CSTS.RDY = 0 awaited up to CAP.TO), the
 * admin queues (8 entries) given, enabled; the interrupt (MSI-X, else MSI,
 * else INTx; the last two masked by INTMS in the handler and unmasked by
 * the task once it has taken the completions); Identify controller, the
 * active namespace list, Identify namespace; Set Features (one queue
 * pair); Create I/O completion queue 1 then submission queue 1 (64
 * entries or CAP.MQES). 4 KiB memory pages (CAP.MPSMIN must allow them).
 *
 * I/O: READ/WRITE with the caller's buffer described by PRP entries (a
 * list per slot for requests over two pages); a buffer that is not
 * 4-byte aligned goes through a bounce buffer. FLUSH goes to the device
 * when it has a volatile write cache, else is answered at once.
 *
 * Tasks (the interrupt only wakes c->irq):
 *   <name>       the service: checks each request, answers bad ones at
 *                once, submits the rest (waiting for a free slot);
 *   <name>-done  takes completions and answers them (BLOCKDEV_IO with the
 *                NVMe status, type << 8 | code); a command unanswered for
 *                30 s is answered BLOCKDEV_IO (MN_ETIMEDOUT) and its slot
 *                kept until the controller completes it; a controller
 *                reporting fatal status (or gone: all ones) fails every
 *                request from then on.
 *
 * Interface: nvme_driver.
 */
#include <string.h>

#include "mneme/blockdev.h"
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/nvme.h"
#include "mneme/task.h"
#include "mneme/waitq.h"

#define ADMIN_Q 8u
#define IO_QMAX 64u
#define NSLOTS_MAX 32u
#define MAX_BYTES (128u * 1024u)           /* per request */
#define PRP_MAX (MAX_BYTES / NVME_PAGE)     /* list entries after the first page */
#define ADMIN_TIMEOUT MN_SEC(5)
#ifndef CMD_TIMEOUT
#define CMD_TIMEOUT MN_SEC(30)   /* the host test makes it shorter */
#endif

struct nslot {
  uint8_t busy, kind, abandoned;   /* abandoned: answered, awaiting the device */
  uint8_t gen;                     /* the command id's upper byte */
  struct svc_envelope env;
  uint64_t *prp;                   /* PRP_MAX entries, within one page */
  void *bounce, *user;
  uint32_t bytes;
  uint64_t deadline;
};

struct nvme {
  struct pci_dev *pci;
  volatile uint8_t *regs;
  uint64_t cap;
  uint32_t dstrd;
  struct nvme_queue aq, ioq;
  uint16_t aout[1], ioout[NSLOTS_MAX];
  uint8_t admin_gen;
  struct waitq irq;
  volatile uint32_t irqs;
  int irq_mode;
  struct nslot slots[NSLOTS_MAX];
  unsigned nslots, inflight;
  struct waitq slot_freed;
  struct nvme_ctrl_info ci;
  uint32_t nsid;
  struct blockdev_info info;
  struct svc_server *srv;
  int failed;
  uint64_t errors, timeouts;
};

static int nctrls;

static uint32_t rd32(const struct nvme *c, unsigned off) {
  return *(volatile uint32_t *)(c->regs + off);
}
static void wr32(struct nvme *c, unsigned off, uint32_t v) {
  *(volatile uint32_t *)(c->regs + off) = v;
}
static uint64_t rd64(const struct nvme *c, unsigned off) {
  return rd32(c, off) | (uint64_t)rd32(c, off + 4) << 32;
}
static void wr64(struct nvme *c, unsigned off, uint64_t v) {
  wr32(c, off, (uint32_t)v);
  wr32(c, off + 4, (uint32_t)(v >> 32));
}
static volatile uint32_t *doorbell(struct nvme *c, unsigned qid, unsigned cq) {
  return (volatile uint32_t *)(c->regs + NVME_REG_DOORBELLS + (2 * qid + cq) * (4u << c->dstrd));
}

static int nvme_match(const struct pci_dev *d) {
  return d->class_code == 0x01 && d->subclass == 0x08 && d->prog_if == 0x02;
}

static void irq_handler(void *arg) {
  struct nvme *c = arg;
  if (c->irq_mode != PCI_IRQ_MSIX) wr32(c, NVME_REG_INTMS, 1); /* drops INTx */
  c->irqs++;
  waitq_wake_all(&c->irq);
}

/* After taking completions: lets the controller interrupt again. */
static void irq_rearm(struct nvme *c) {
  if (c->irq_mode != PCI_IRQ_MSIX) wr32(c, NVME_REG_INTMC, 1);
}

/* Waits (sleeping a millisecond at a time: readiness has no interrupt)
 * for CSTS.RDY == rdy. */
static int wait_ready(struct nvme *c, uint32_t rdy, uint64_t timeout_ns) {
  uint64_t deadline = ktime_deadline(timeout_ns);
  for (;;) {
    uint32_t st = rd32(c, NVME_REG_CSTS);
    if (st == 0xffffffffu) return MN_EIO;
    if ((st & NVME_CSTS_RDY) == rdy) return 0;
    if (rdy && (st & NVME_CSTS_CFS)) return MN_EIO;
    if (ktime_now() >= deadline) return MN_ETIMEDOUT;
    task_sleep(MN_MSEC(1));
  }
}

/* One admin command, waited for. *result gets the completion's dword 0. */
static int admin(struct nvme *c, struct nvme_sqe *cmd, const char *what, uint32_t *result) {
  cmd->cid = (uint16_t)(++c->admin_gen << 8);
  int err = nvme_submit(&c->aq, cmd);
  if (err) return err;
  uint64_t deadline = ktime_deadline(ADMIN_TIMEOUT);
  for (;;) {
    uint32_t seq = waitq_seq(&c->irq);
    struct nvme_cqe e;
    int got = nvme_reap(&c->aq, &e);
    nvme_ack(&c->aq);
    irq_rearm(c);
    if (got) {
      if (result) *result = e.result;
      if (!nvme_status(&e)) return 0;
      klog(LOG_WARN, "nvme%d: %s: status %#x", nctrls, what, (unsigned)nvme_status(&e));
      return MN_EIO;
    }
    if (waitq_wait_seq(&c->irq, seq, deadline) == MN_ETIMEDOUT) {
      klog(LOG_ERROR, "nvme%d: %s: no completion in %d s%s", nctrls, what,
           (int)(ADMIN_TIMEOUT / MN_SEC(1)),
           nvme_cq_pending(&c->aq) ? " (it is there: no interrupt came)" : "");
      return MN_ETIMEDOUT;
    }
  }
}

static void reply_err(struct nvme *c, const struct svc_envelope *env, uint8_t kind, int32_t code) {
  struct blockdev_err e = {kind, code};
  svc_reply_err(c->srv, env, &e);
}

static void reply_ok(struct nvme *c, const struct svc_envelope *env) {
  struct blockdev_resp r;
  memset(&r, 0, sizeof r);
  r.info = c->info;
  svc_reply_ok(c->srv, env, &r);
}

static void slot_free(struct nvme *c, struct nslot *s) {
  kfree(s->bounce);
  s->bounce = s->user = NULL;
  s->busy = s->abandoned = 0;
  c->inflight--;
  waitq_wake_all(&c->slot_freed);
}

/* A completion for slot s with NVMe status st. */
static void finish(struct nvme *c, struct nslot *s, int st) {
  if (s->abandoned) {
    klog(LOG_WARN, "%s: a command answered as timed out completed late (status %#x)",
         c->info.name, (unsigned)st);
  } else if (!st) {
    if (s->bounce && s->kind == BLOCKDEV_READ) memcpy(s->user, s->bounce, s->bytes);
    reply_ok(c, &s->env);
  } else {
    c->errors++;
    reply_err(c, &s->env, BLOCKDEV_IO, st);
  }
  slot_free(c, s);
}

/* Answers every command still waiting with BLOCKDEV_IO (code) and keeps
 * their slots until the controller completes them (or for ever). */
static void abandon(struct nvme *c, struct nslot *s, int32_t code) {
  if (!s->busy || s->abandoned) return;
  s->abandoned = 1;
  reply_err(c, &s->env, BLOCKDEV_IO, code);
}

/* Timed-out commands and a dead controller; returns the next deadline. */
static uint64_t check_timeouts(struct nvme *c) {
  uint64_t now = ktime_now(), next = UINT64_MAX;
  uint32_t st = rd32(c, NVME_REG_CSTS);
  if (!c->failed && (st == 0xffffffffu || (st & NVME_CSTS_CFS))) {
    c->failed = 1;
    klog(LOG_ERROR, "%s: controller %s: failing every request", c->info.name,
         st == 0xffffffffu ? "gone (registers read all ones)" : "reports a fatal error");
  }
  for (unsigned i = 0; i < c->nslots; i++) {
    struct nslot *s = &c->slots[i];
    if (!s->busy || s->abandoned) continue;
    if (c->failed) {
      abandon(c, s, MN_EIO);
    } else if (now >= s->deadline) {
      c->timeouts++;
      klog(LOG_ERROR, "%s: command %u not completed in %d ms", c->info.name, i,
           (int)(CMD_TIMEOUT / MN_MSEC(1)));
      abandon(c, s, MN_ETIMEDOUT);
    } else if (s->deadline < next) {
      next = s->deadline;
    }
  }
  return next;
}

static int done_task(void *arg) {
  struct nvme *c = arg;
  for (;;) {
    uint32_t seq = waitq_seq(&c->irq);
    struct nvme_cqe e;
    unsigned n = 0;
    while (n < c->ioq.size && nvme_reap(&c->ioq, &e)) {
      finish(c, &c->slots[NVME_CID_SLOT(e.cid)], nvme_status(&e));
      n++;
    }
    nvme_ack(&c->ioq);
    irq_rearm(c);
    if (n) {
      task_yield(); /* a busy controller does not starve the other tasks */
      continue;
    }
    uint64_t deadline = c->inflight ? check_timeouts(c) : UINT64_MAX;
    if (waitq_wait_seq(&c->irq, seq, deadline) == MN_ECANCELED) return 0;
  }
}

/* A free slot, waiting for one; NULL if the task is being killed. */
static struct nslot *get_slot(struct nvme *c) {
  for (;;) {
    uint32_t seq = waitq_seq(&c->slot_freed);
    for (unsigned i = 0; i < c->nslots; i++)
      if (!c->slots[i].busy) return &c->slots[i];
    if (waitq_wait_seq(&c->slot_freed, seq, UINT64_MAX) == MN_ECANCELED) return NULL;
  }
}

static void handle(struct nvme *c, const struct svc_msg *m) {
  const struct blockdev_req *rq = (const struct blockdev_req *)m->body;
  const struct blockdev_info *in = &c->info;
  if (rq->kind == BLOCKDEV_INFO) {
    reply_ok(c, &m->env);
    return;
  }
  if (rq->kind == BLOCKDEV_READ || rq->kind == BLOCKDEV_WRITE) {
    if (!rq->count || rq->lba >= in->sectors || rq->count > in->sectors - rq->lba) {
      reply_err(c, &m->env, BLOCKDEV_RANGE, 0);
      return;
    }
    if (rq->count > in->max_transfer || !rq->buf) {
      reply_err(c, &m->env, BLOCKDEV_BAD_REQUEST, 0);
      return;
    }
  } else if (rq->kind != BLOCKDEV_FLUSH) {
    reply_err(c, &m->env, BLOCKDEV_BAD_REQUEST, 0);
    return;
  }
  if (c->failed) {
    reply_err(c, &m->env, BLOCKDEV_IO, MN_EIO);
    return;
  }
  if (rq->kind == BLOCKDEV_FLUSH && !c->ci.vwc) { /* no write cache to flush */
    reply_ok(c, &m->env);
    return;
  }
  struct nslot *s = get_slot(c);
  if (!s) return;
  struct nvme_sqe cmd;
  memset(&cmd, 0, sizeof cmd);
  cmd.cid = (uint16_t)(++s->gen << 8 | (unsigned)(s - c->slots));
  cmd.nsid = c->nsid;
  s->bytes = 0;
  if (rq->kind == BLOCKDEV_FLUSH) {
    cmd.opcode = NVME_CMD_FLUSH;
  } else {
    cmd.opcode = rq->kind == BLOCKDEV_READ ? NVME_CMD_READ : NVME_CMD_WRITE;
    s->bytes = rq->count * in->sector_size;
    void *p = rq->buf;
    if ((uintptr_t)p & 3) { /* PRP entries are dword aligned */
      s->bounce = kmalloc_aligned(s->bytes, NVME_PAGE);
      if (!s->bounce) {
        reply_err(c, &m->env, BLOCKDEV_IO, MN_ENOMEM);
        return;
      }
      s->user = rq->buf;
      if (rq->kind == BLOCKDEV_WRITE) memcpy(s->bounce, rq->buf, s->bytes);
      p = s->bounce;
    }
    int err = nvme_prp(plat_dma_addr(p), s->bytes, s->prp, plat_dma_addr(s->prp), PRP_MAX,
                       &cmd.prp1, &cmd.prp2);
    if (err) {
      kfree(s->bounce);
      s->bounce = s->user = NULL;
      reply_err(c, &m->env, BLOCKDEV_BAD_REQUEST, err);
      return;
    }
    cmd.cdw10 = (uint32_t)rq->lba;
    cmd.cdw11 = (uint32_t)(rq->lba >> 32);
    cmd.cdw12 = rq->count - 1;
  }
  s->busy = 1;
  s->abandoned = 0;
  s->kind = rq->kind;
  s->env = m->env;
  s->deadline = ktime_deadline(CMD_TIMEOUT);
  c->inflight++;
  if (nvme_submit(&c->ioq, &cmd)) { /* cannot be: the slot was free */
    reply_err(c, &m->env, BLOCKDEV_IO, MN_EBUSY);
    slot_free(c, s);
    return;
  }
  if (c->inflight == 1) waitq_wake_all(&c->irq); /* the done task arms its timeout */
}

static int server_task(void *arg) {
  struct nvme *c = arg;
  SVC_MSG_BUF(m, sizeof(struct blockdev_req));
  while (svc_recv(c->srv, m, MN_FOREVER) == 0)
    if (m->env.kind == SVC_MSG_REQUEST) handle(c, m);
  return 0;
}

static void identify_cmd(struct nvme_sqe *cmd, uint32_t cns, uint32_t nsid, const void *buf) {
  memset(cmd, 0, sizeof *cmd);
  cmd->opcode = NVME_ADM_IDENTIFY;
  cmd->nsid = nsid;
  cmd->prp1 = plat_dma_addr(buf);
  cmd->cdw10 = cns;
}

/* Everything up to the I/O queue pair; the caller registers the service. */
static int bring_up(struct nvme *c, struct pci_dev *d, uint8_t *id) {
  c->regs = pci_bar_map(d, 0);
  if (!c->regs || d->bar[0].size < 0x2000) return MN_ENOTSUP;
  c->cap = rd64(c, NVME_REG_CAP);
  if (c->cap == ~0ull) return MN_EIO;
  unsigned mqes = (unsigned)(c->cap & 0xffff) + 1;
  c->dstrd = (uint32_t)(c->cap >> 32) & 0xf;
  uint64_t to = ((c->cap >> 24) & 0xff) * MN_MSEC(500);
  if (!to) to = MN_MSEC(500);
  if (!(c->cap & (1ull << 37))) return MN_ENOTSUP;  /* no NVM command set */
  if ((c->cap >> 48) & 0xf) return MN_ENOTSUP;      /* 4 KiB pages not allowed */
  if (mqes < 2 || NVME_REG_DOORBELLS + 4ull * (4u << c->dstrd) > d->bar[0].size)
    return MN_ENOTSUP;
  uint32_t cc = rd32(c, NVME_REG_CC);
  if (cc & NVME_CC_EN) wr32(c, NVME_REG_CC, cc & ~NVME_CC_EN); /* the firmware's */
  int err = wait_ready(c, 0, to);
  if (err) return err;

  unsigned qsize = mqes < IO_QMAX ? mqes : IO_QMAX;
  struct nvme_sqe *asq = kmalloc_aligned(sizeof *asq * ADMIN_Q, NVME_PAGE);
  struct nvme_cqe *acq = kmalloc_aligned(sizeof *acq * ADMIN_Q, NVME_PAGE);
  struct nvme_sqe *iosq = kmalloc_aligned(sizeof *iosq * qsize, NVME_PAGE);
  struct nvme_cqe *iocq = kmalloc_aligned(sizeof *iocq * qsize, NVME_PAGE);
  c->nslots = qsize - 1 < NSLOTS_MAX ? qsize - 1 : NSLOTS_MAX;
  uint64_t *prps = kmalloc_aligned(PRP_MAX * 8 * c->nslots, NVME_PAGE);
  if (!asq || !acq || !iosq || !iocq || !prps) return MN_ENOMEM;
  for (unsigned i = 0; i < c->nslots; i++) c->slots[i].prp = prps + PRP_MAX * i;
  nvme_queue_init(&c->aq, 0, ADMIN_Q, asq, acq, c->aout, 1, doorbell(c, 0, 0),
                  doorbell(c, 0, 1));
  nvme_queue_init(&c->ioq, 1, (uint16_t)qsize, iosq, iocq, c->ioout, (uint16_t)c->nslots,
                  doorbell(c, 1, 0), doorbell(c, 1, 1));

  int mode = pci_irq_setup(d, 1, irq_handler, c);
  if (mode < 0) return mode;
  c->irq_mode = mode;
  if (mode != PCI_IRQ_MSIX) wr32(c, NVME_REG_INTMC, 1);
  wr32(c, NVME_REG_AQA, (ADMIN_Q - 1) | (ADMIN_Q - 1) << 16);
  wr64(c, NVME_REG_ASQ, plat_dma_addr(asq));
  wr64(c, NVME_REG_ACQ, plat_dma_addr(acq));
  plat_io_barrier();
  wr32(c, NVME_REG_CC, NVME_CC_EN | NVME_CC_IOSQES | NVME_CC_IOCQES);
  err = wait_ready(c, 1, to);
  if (err) return err;

  struct nvme_sqe cmd;
  identify_cmd(&cmd, 1, 0, id);
  if ((err = admin(c, &cmd, "identify controller", NULL))) return err;
  nvme_parse_ctrl(id, NVME_PAGE, &c->ci);
  if (!c->ci.nn) return MN_ENOENT;
  identify_cmd(&cmd, 2, 0, id);
  c->nsid = admin(c, &cmd, "active namespaces", NULL) ? 1 : nvme_first_ns(id, c->ci.nn);
  if (!c->nsid) return MN_ENOENT;
  identify_cmd(&cmd, 0, c->nsid, id);
  if ((err = admin(c, &cmd, "identify namespace", NULL))) return err;
  uint64_t sectors;
  uint32_t ss;
  if ((err = nvme_parse_ns(id, &sectors, &ss))) return err;

  memset(&cmd, 0, sizeof cmd);
  cmd.opcode = NVME_ADM_SET_FEATURES;
  cmd.cdw10 = 0x07; /* number of queues: one pair (0-based counts) */
  uint32_t got = 0;
  if ((err = admin(c, &cmd, "set number of queues", &got))) return err;
  memset(&cmd, 0, sizeof cmd);
  cmd.opcode = NVME_ADM_CREATE_CQ;
  cmd.prp1 = plat_dma_addr(iocq);
  cmd.cdw10 = 1u | (uint32_t)(qsize - 1) << 16;
  cmd.cdw11 = 1u | 2u; /* physically contiguous, interrupts on, vector 0 */
  if ((err = admin(c, &cmd, "create I/O completion queue", NULL))) return err;
  memset(&cmd, 0, sizeof cmd);
  cmd.opcode = NVME_ADM_CREATE_SQ;
  cmd.prp1 = plat_dma_addr(iosq);
  cmd.cdw10 = 1u | (uint32_t)(qsize - 1) << 16;
  cmd.cdw11 = 1u | 1u << 16; /* physically contiguous, completion queue 1 */
  if ((err = admin(c, &cmd, "create I/O submission queue", NULL))) return err;

  struct blockdev_info *in = &c->info;
  uint32_t max_bytes = MAX_BYTES;
  if (c->ci.max_transfer && c->ci.max_transfer < max_bytes) max_bytes = c->ci.max_transfer;
  in->sector_size = ss;
  in->sectors = sectors;
  in->max_transfer = max_bytes / ss;
  in->read_only = 0;
  ksnprintf(in->name, sizeof in->name, "nvme%dn%u", nctrls, (unsigned)c->nsid);
  return in->max_transfer ? 0 : MN_ENOTSUP;
}

static int nvme_probe(struct pci_dev *d) {
  static const struct svc_type type = BLOCKDEV_TYPE;
  struct nvme *c = kzalloc(sizeof *c);
  uint8_t *id = kmalloc_aligned(NVME_PAGE, NVME_PAGE);
  if (!c || !id) {
    kfree(c);
    kfree(id);
    return MN_ENOMEM;
  }
  c->pci = d;
  waitq_init(&c->irq);
  waitq_init(&c->slot_freed);
  pci_enable(d);
  int err = bring_up(c, d, id);
  kfree(id);
  if (err) {
    /* stop the controller; c stays (its interrupt may still come) */
    if (c->regs) wr32(c, NVME_REG_CC, rd32(c, NVME_REG_CC) & ~NVME_CC_EN);
    klog(LOG_ERROR, "nvme%d: %s", nctrls, mn_strerror(err));
    return err;
  }
  /* the first free disk number (virtio-blk disks may have some) */
  unsigned n = 0;
  for (; n < BLOCKDEV_MAX_DISKS; n++) {
    struct uuid u = BLOCKDEV_UUID_N(n);
    err = svc_register(&u, c->info.name, &type, NULL, SVC_ACCEPT_ALL, 16, &c->srv);
    if (err != MN_EEXIST) break;
  }
  if (n == BLOCKDEV_MAX_DISKS) err = MN_ENOSPC;
  if (err) {
    wr32(c, NVME_REG_CC, rd32(c, NVME_REG_CC) & ~NVME_CC_EN);
    return err;
  }
  char tn[TASK_NAME_MAX];
  ksnprintf(tn, sizeof tn, "%s-done", c->info.name);
  if (task_spawn(c->info.name, server_task, c, 0, NULL) || task_spawn(tn, done_task, c, 0, NULL))
    return MN_ENOMEM;
  d->drvdata = c;
  const struct blockdev_info *in = &c->info;
  klog(LOG_INFO, "%s: disk %u, %s (serial %s), %lu sectors of %u bytes (%lu MiB), %u per request, %s, %s",
       in->name, n, c->ci.model, c->ci.serial, (unsigned long)in->sectors, in->sector_size,
       (unsigned long)((in->sectors * in->sector_size) >> 20), in->max_transfer,
       c->irq_mode == PCI_IRQ_MSIX ? "MSI-X" : c->irq_mode == PCI_IRQ_MSI ? "MSI" : "INTx",
       c->ci.vwc ? "write cache" : "no write cache");
  nctrls++;
  return 0;
}

const struct pci_driver nvme_driver = {"nvme", nvme_match, nvme_probe};
