/*
 * nvme_test.c: the NVMe driver on the hosted kernel against a simulated
 * controller (a task of the test polling its registers in plain memory)
 * that keeps a namespace in memory; client tasks make blockdev calls
 * (test/blockdev_clients.h).
 *
 * Checked: bring-up (the firmware's enabled controller disabled first,
 * admin queue registers, Identify, Set Features, the I/O queues created
 * with the right sizes, flags and vectors); INFO (size, LBA size, name,
 * max transfer from MDTS); writes and reads through PRP1/PRP2 and PRP
 * lists, buffers aligned or not to pages, and not dword aligned (bounce);
 * FLUSH sent only with a volatile write cache; bad requests answered
 * without reaching the controller; a media error as BLOCKDEV_IO with the
 * NVMe status; 40 clients at once (more than the slots); 4096-byte LBAs;
 * INTx (masked by the handler through INTMS, unmasked after by the
 * task); a hostile controller's completions (unknown command ids,
 * duplicates, another queue's id, a head out of range) counted and
 * skipped; a command never completed answered MN_ETIMEDOUT; a controller
 * with fatal status failing every request; namespaces the driver cannot
 * use refused at probe; and the library's PRP and Identify parsers.
 */
#include <string.h>

#include "ktest.h"
#include "mneme/blockdev.h"
#include "mneme/err.h"
#include "mneme/task.h"

#define CMD_TIMEOUT MN_MSEC(300)
#include "../nvme/nvme.c"

/* ---- the platform hooks over a simulated function --------------------------- */

#include "blockdev_clients.h"
#include "pci_fake.h"

#define MSIX_TBL 0x2000

static int use_intx;

/* ---- the controller ------------------------------------------------------------ */

#define DISK_BYTES (512u * 1024u)
static uint8_t disk[DISK_BYTES];
static uint32_t lba_size;
static struct {
  int running, stop;
  uint8_t vwc, mdts, lbads, ms, firmware_enabled;
  uint64_t nsze;
  uint64_t fail_from;      /* LBAs from here fail with a media error */
  int withhold;            /* I/O commands are taken but never completed */
  int hostile;             /* bogus completions before each real one */
  uint64_t asq, acq, iosq, iocq;
  uint16_t aqsize, iosize, sq_head[2], cq_tail[2];
  uint8_t phase[2];
  int created_cq, created_sq, set_features;
  uint32_t cq_flags, sq_flags;
  unsigned flushes, io_cmds, prp_lists, masked_irqs, unmasks;
  int mask;
} ctl;

static void post(int q, uint16_t cid, uint16_t status, uint32_t result, uint16_t sqid,
                 uint16_t sqhd) {
  struct nvme_cqe *cq = (struct nvme_cqe *)(uintptr_t)(q ? ctl.iocq : ctl.acq);
  uint16_t size = q ? ctl.iosize : ctl.aqsize;
  struct nvme_cqe e = {result, 0, sqhd, sqid, cid, (uint16_t)(status << 1 | ctl.phase[q])};
  cq[ctl.cq_tail[q]] = e;
  if (++ctl.cq_tail[q] == size) {
    ctl.cq_tail[q] = 0;
    ctl.phase[q] ^= 1;
  }
}

/* Copies between the namespace and host memory along the PRP entries. */
static int dma(const struct nvme_sqe *c, uint64_t off, uint32_t len, int to_host) {
  uint64_t addr = c->prp1;
  uint32_t first = NVME_PAGE - (uint32_t)(addr & (NVME_PAGE - 1));
  if (addr & 3) return 0x13;
  uint32_t n = len < first ? len : first;
  uint64_t pages_after = len > first ? (len - first + NVME_PAGE - 1) / NVME_PAGE : 0;
  const uint64_t *list = NULL;
  if (pages_after > 1) {
    list = (const uint64_t *)(uintptr_t)c->prp2;
    ctl.prp_lists++;
  }
  for (uint64_t i = 0;; i++) {
    if (to_host) memcpy((void *)(uintptr_t)addr, disk + off, n);
    else memcpy(disk + off, (void *)(uintptr_t)addr, n);
    off += n;
    len -= n;
    if (!len) return 0;
    addr = list ? list[i] : c->prp2;
    if (addr & (NVME_PAGE - 1)) return 0x13; /* later entries are page aligned */
    n = len < NVME_PAGE ? len : NVME_PAGE;
  }
}

static void admin_cmd(const struct nvme_sqe *c) {
  uint16_t st = 0;
  uint32_t result = 0;
  uint8_t *p = (uint8_t *)(uintptr_t)c->prp1;
  switch (c->opcode) {
  case NVME_ADM_IDENTIFY:
    memset(p, 0, NVME_PAGE);
    if (c->cdw10 == 1) {
      memcpy(p + 4, "SN-0001             ", 20);
      memcpy(p + 24, "mneme fake NVMe                         ", 40);
      memcpy(p + 64, "1.0     ", 8);
      p[77] = ctl.mdts;
      p[516] = 1;
      p[525] = ctl.vwc;
    } else if (c->cdw10 == 2) {
      p[0] = 1;
    } else if (c->cdw10 == 0 && c->nsid == 1) {
      memcpy(p, &ctl.nsze, 8);
      memcpy(p + 8, &ctl.nsze, 8);
      p[25] = 0;
      p[26] = 0;
      p[128] = ctl.ms;
      p[130] = ctl.lbads;
    } else {
      st = 0x0b; /* invalid namespace */
    }
    break;
  case NVME_ADM_SET_FEATURES:
    ctl.set_features = c->cdw10 == 7 && c->cdw11 == 0;
    result = 0;
    break;
  case NVME_ADM_CREATE_CQ:
    ctl.iocq = c->prp1;
    ctl.iosize = (uint16_t)((c->cdw10 >> 16) + 1);
    ctl.cq_flags = c->cdw11;
    ctl.created_cq = (c->cdw10 & 0xffff) == 1;
    ctl.phase[1] = 1;
    break;
  case NVME_ADM_CREATE_SQ:
    ctl.iosq = c->prp1;
    ctl.sq_flags = c->cdw11;
    ctl.created_sq = (c->cdw10 & 0xffff) == 1 && ctl.created_cq &&
                     (uint16_t)((c->cdw10 >> 16) + 1) == ctl.iosize;
    break;
  default:
    st = 1; /* invalid opcode */
  }
  post(0, c->cid, st, result, 0, ctl.sq_head[0]);
}

static void io_cmd(const struct nvme_sqe *c) {
  uint16_t st = 0;
  ctl.io_cmds++;
  if (ctl.withhold) return;
  if (c->nsid != 1) {
    st = 0x0b;
  } else if (c->opcode == NVME_CMD_FLUSH) {
    ctl.flushes++;
  } else if (c->opcode == NVME_CMD_READ || c->opcode == NVME_CMD_WRITE) {
    uint64_t lba = c->cdw10 | (uint64_t)c->cdw11 << 32;
    uint32_t n = (c->cdw12 & 0xffff) + 1;
    if ((lba + n) * lba_size > DISK_BYTES) st = 0x80; /* LBA out of range */
    else if (lba + n > ctl.fail_from) st = 0x281;     /* media: unrecovered read error */
    else st = (uint16_t)dma(c, lba * lba_size, n * lba_size, c->opcode == NVME_CMD_READ);
  } else {
    st = 1;
  }
  if (ctl.hostile) {
    post(1, 31, 0, 0, 1, ctl.sq_head[1]);     /* a slot never used */
    post(1, 200, 0, 0, 1, ctl.sq_head[1]);    /* no such slot */
    post(1, (uint16_t)(c->cid + 0x100), 0, 0, 1, ctl.sq_head[1]); /* another generation */
    post(1, c->cid, 0, 0, 7, ctl.sq_head[1]); /* another queue */
    post(1, c->cid, 0, 0, 1, 4000);           /* head out of range */
  }
  post(1, c->cid, st, 0, 1, ctl.sq_head[1]);
  if (ctl.hostile) post(1, c->cid, 0, 0, 1, ctl.sq_head[1]); /* again */
}

static int pending(int q) {
  uint32_t head = reg32(NVME_REG_DOORBELLS + 4 + 8 * q);
  return head != ctl.cq_tail[q];
}

/* Free completion entries (the host's head doorbell against our tail). */
static unsigned cq_room(int q) {
  uint32_t head = reg32(NVME_REG_DOORBELLS + 4 + 8 * q);
  return (head + ctl.iosize - ctl.cq_tail[q] - 1) % ctl.iosize;
}

static int controller_task(void *arg) {
  int rdy = 0;
  ctl.running = 1;
  while (!ctl.stop) {
    uint32_t cc = reg32(NVME_REG_CC);
    if (!(cc & 1) && rdy) {
      rdy = 0;
      set32(NVME_REG_CSTS, reg32(NVME_REG_CSTS) & ~1u);
    } else if ((cc & 1) && !rdy) {
      rdy = 1;
      uint32_t aqa = reg32(NVME_REG_AQA);
      ctl.aqsize = (uint16_t)((aqa & 0xfff) + 1);
      assert_int_equal(aqa >> 16, aqa & 0xfff);
      ctl.asq = reg64(NVME_REG_ASQ);
      ctl.acq = reg64(NVME_REG_ACQ);
      assert_int_equal(cc, NVME_CC_EN | NVME_CC_IOSQES | NVME_CC_IOCQES);
      ctl.phase[0] = 1;
      ctl.sq_head[0] = ctl.sq_head[1] = ctl.cq_tail[0] = ctl.cq_tail[1] = 0;
      set32(NVME_REG_CSTS, reg32(NVME_REG_CSTS) | 1);
    }
    if (rdy) {
      int posted = 0;
      uint32_t t = reg32(NVME_REG_DOORBELLS);
      while (ctl.sq_head[0] != t) {
        struct nvme_sqe *sq = (struct nvme_sqe *)(uintptr_t)ctl.asq;
        admin_cmd(&sq[ctl.sq_head[0]]);
        ctl.sq_head[0] = (uint16_t)((ctl.sq_head[0] + 1) % ctl.aqsize);
        posted = 1;
      }
      if (ctl.created_sq) {
        t = reg32(NVME_REG_DOORBELLS + 8);
        while (ctl.sq_head[1] != t && cq_room(1) >= 7) {
          struct nvme_sqe *sq = (struct nvme_sqe *)(uintptr_t)ctl.iosq;
          io_cmd(&sq[ctl.sq_head[1]]);
          ctl.sq_head[1] = (uint16_t)((ctl.sq_head[1] + 1) % ctl.iosize);
          posted = 1;
        }
      }
      if (use_intx) { /* a level: asserted while completions wait, unless masked */
        if (reg32(NVME_REG_INTMS)) ctl.mask = 1, set32(NVME_REG_INTMS, 0);
        if (reg32(NVME_REG_INTMC)) ctl.mask = 0, ctl.unmasks++, set32(NVME_REG_INTMC, 0);
        if (!ctl.mask && (pending(0) || (ctl.created_cq && pending(1)))) {
          irq_fn(irq_arg);
          if (reg32(NVME_REG_INTMS)) ctl.masked_irqs++;
        }
      } else if (posted && irq_fn) {
        irq_fn(irq_arg);
      }
    }
    task_sleep(MN_MSEC(1));
  }
  ctl.running = 0;
  return 0;
}

static struct nvme *ctrl;

/* Sets up the function and the controller; probe's result. */
static int make_ctrl(uint8_t lbads, int intx) {
  memset(&ctl, 0, sizeof ctl);
  use_intx = intx;
  fake_function(0x1b36, 0x0010, 1, 8, 2, 0, 0);
  intx_line = 11;
  cfg[0x3d] = 1;
  pdev.irq_pin = 1;
  if (!intx) fake_msix(0, 2, 0, MSIX_TBL);
  /* CAP: MQES 255, CQR, TO 1 (500 ms), DSTRD 0, NVM command set, MPSMIN 0 */
  uint64_t cap = 255 | 1u << 16 | 1u << 24 | 1ull << 37;
  memcpy(bar + NVME_REG_CAP, &cap, 8);
  ctl.lbads = lbads;
  lba_size = 1u << lbads;
  ctl.nsze = DISK_BYTES / lba_size;
  ctl.vwc = 1;
  ctl.mdts = 5; /* 128 KiB */
  ctl.fail_from = UINT64_MAX;
  for (size_t i = 0; i < DISK_BYTES; i++) disk[i] = (uint8_t)(i / 512 * 31 + i);
  nctrls = 0;
  return 0;
}

static int probe(void) {
  assert_int_equal(task_spawn("fake-nvme", controller_task, NULL, 0, NULL), 0);
  int err = nvme_driver.probe(&pdev);
  ctrl = pdev.drvdata;
  return err;
}

static void stop(void) {
  ctl.stop = 1;
  for (int i = 0; i < 1000 && ctl.running; i++) task_sleep(MN_MSEC(1));
}

static void bring_up_and_io(void **state) {
  make_ctrl(9, 0);
  uint32_t en = NVME_CC_EN; /* the firmware left it running */
  memcpy(bar + NVME_REG_CC, &en, 4);
  assert_int_equal(probe(), 0);
  assert_true(ctl.set_features);
  assert_true(ctl.created_sq);
  assert_int_equal(ctl.iosize, IO_QMAX);
  assert_int_equal(ctl.cq_flags, 3);             /* contiguous, interrupts, vector 0 */
  assert_int_equal(ctl.sq_flags, 1u | 1u << 16); /* contiguous, CQ 1 */
  assert_int_equal(ctrl->irq_mode, PCI_IRQ_MSIX);
  /* 64 KiB written from a page-aligned buffer (a PRP list), read back
   * at an offset within a page (PRP list), 2 sectors across a page
   * (PRP2), and 3 sectors from an odd address (bounce buffer) */
  static uint8_t wbuf[65536] __attribute__((aligned(4096)));
  static uint8_t rbuf[65536 + 8192] __attribute__((aligned(4096)));
  static uint8_t odd[3 * 512 + 1];
  for (size_t i = 0; i < sizeof wbuf; i++) wbuf[i] = (uint8_t)(0xa5 ^ i ^ (i >> 9));
  for (size_t i = 0; i < sizeof odd; i++) odd[i] = (uint8_t)(i * 7);
  struct call calls[] = {
      {.rq = REQ(BLOCKDEV_INFO, 0, 0, NULL)},
      {.rq = REQ(BLOCKDEV_WRITE, 10, 128, wbuf)},
      {.rq = REQ(BLOCKDEV_READ, 10, 128, rbuf + 1000)},
      {.rq = REQ(BLOCKDEV_READ, 300, 2, rbuf + 65536 + 4096 - 512)},
      {.rq = REQ(BLOCKDEV_WRITE, 500, 3, odd + 1)},
      {.rq = REQ(BLOCKDEV_FLUSH, 0, 0, NULL)},
  };
  struct client c = {calls, 6, 0};
  run_clients(&c, 1, NULL);
  for (int i = 0; i < 6; i++) assert_int_equal(calls[i].rc, 0);
  const struct blockdev_info *in = &calls[0].resp.info;
  assert_int_equal(in->sectors, DISK_BYTES / 512);
  assert_int_equal(in->sector_size, 512);
  assert_int_equal(in->max_transfer, 256);
  assert_int_equal(in->read_only, 0);
  assert_string_equal(in->name, "nvme0n1");
  assert_memory_equal(disk + 10 * 512, wbuf, sizeof wbuf);
  assert_memory_equal(rbuf + 1000, wbuf, sizeof wbuf);
  assert_memory_equal(rbuf + 65536 + 4096 - 512, disk + 300 * 512, 1024);
  assert_memory_equal(disk + 500 * 512, odd + 1, 3 * 512);
  assert_int_equal(ctl.flushes, 1);
  assert_int_equal(ctl.io_cmds, 5);
  assert_int_equal(ctl.prp_lists, 2);
  assert_int_equal(ctrl->inflight, 0);
  /* a read into an odd address comes back through the bounce buffer */
  memset(odd, 0, sizeof odd);
  struct call again[] = {{.rq = REQ(BLOCKDEV_READ, 10, 3, odd + 1)}};
  struct client c2 = {again, 1, 0};
  run_clients(&c2, 1, NULL);
  assert_int_equal(again[0].rc, 0);
  assert_memory_equal(odd + 1, wbuf, 3 * 512);
  stop();
}

static void bad_requests_and_errors(void **state) {
  make_ctrl(9, 0);
  ctl.vwc = 0;
  ctl.mdts = 3; /* 32 KiB: 64 sectors */
  assert_int_equal(probe(), 0);
  static uint8_t buf[512 * 300];
  uint64_t n = DISK_BYTES / 512;
  struct call calls[] = {
      {.rq = REQ(BLOCKDEV_READ, n - 1, 2, buf)},
      {.rq = REQ(BLOCKDEV_READ, n, 1, buf)},
      {.rq = REQ(BLOCKDEV_READ, UINT64_MAX, 2, buf)},
      {.rq = REQ(BLOCKDEV_READ, 0, 0, buf)},
      {.rq = REQ(BLOCKDEV_READ, 0, 65, buf)},     /* more than MDTS allows */
      {.rq = REQ(BLOCKDEV_WRITE, 0, 1, NULL)},
      {.rq = REQ(9, 0, 1, buf)},
      {.rq = REQ(BLOCKDEV_FLUSH, 0, 0, NULL)},    /* no write cache: at once */
      {.rq = REQ(BLOCKDEV_INFO, 0, 0, NULL)},
  };
  static const uint8_t want[] = {BLOCKDEV_RANGE, BLOCKDEV_RANGE, BLOCKDEV_RANGE,
                                 BLOCKDEV_RANGE, BLOCKDEV_BAD_REQUEST,
                                 BLOCKDEV_BAD_REQUEST, BLOCKDEV_BAD_REQUEST};
  struct client c = {calls, 9, 0};
  run_clients(&c, 1, NULL);
  for (int i = 0; i < 7; i++) {
    assert_int_equal(calls[i].rc, MN_ESERVICE);
    assert_int_equal(calls[i].err.kind, want[i]);
  }
  assert_int_equal(calls[7].rc, 0);
  assert_int_equal(calls[8].resp.info.max_transfer, 64);
  assert_int_equal(ctl.io_cmds, 0);
  ctl.fail_from = 100;
  struct call io[] = {
      {.rq = REQ(BLOCKDEV_READ, 98, 2, buf)},
      {.rq = REQ(BLOCKDEV_READ, 99, 2, buf)},
  };
  struct client c2 = {io, 2, 0};
  run_clients(&c2, 1, NULL);
  assert_int_equal(io[0].rc, 0);
  assert_int_equal(io[1].rc, MN_ESERVICE);
  assert_int_equal(io[1].err.kind, BLOCKDEV_IO);
  assert_int_equal(io[1].err.code, 0x281);
  stop();
}

static void many_clients_at_once(void **state) {
  make_ctrl(9, 0);
  assert_int_equal(probe(), 0);
  enum { N = 40 };
  static uint8_t bufs[N][1024];
  static struct call calls[N];
  static struct client cs[N];
  for (int i = 0; i < N; i++) {
    calls[i] = (struct call){.rq = REQ(BLOCKDEV_READ, (uint64_t)(3 * i), 2, bufs[i])};
    cs[i] = (struct client){&calls[i], 1, 0};
  }
  assert_true(N > ctrl->nslots);
  run_clients(cs, N, NULL);
  for (int i = 0; i < N; i++) {
    assert_int_equal(calls[i].rc, 0);
    assert_memory_equal(bufs[i], disk + 3 * i * 512, 1024);
  }
  assert_int_equal(ctrl->inflight, 0);
  stop();
}

static void four_k_lbas_and_intx(void **state) {
  make_ctrl(12, 1);
  assert_int_equal(probe(), 0);
  assert_int_equal(ctrl->irq_mode, PCI_IRQ_INTX);
  static uint8_t buf[2 * 4096];
  struct call calls[] = {
      {.rq = REQ(BLOCKDEV_INFO, 0, 0, NULL)},
      {.rq = REQ(BLOCKDEV_READ, 3, 2, buf)},
      {.rq = REQ(BLOCKDEV_READ, DISK_BYTES / 4096 - 1, 2, buf + 4096)},
  };
  struct client c = {calls, 3, 0};
  run_clients(&c, 1, NULL);
  assert_int_equal(calls[0].resp.info.sector_size, 4096);
  assert_int_equal(calls[0].resp.info.sectors, DISK_BYTES / 4096);
  assert_int_equal(calls[0].resp.info.max_transfer, 32);
  assert_int_equal(calls[1].rc, 0);
  assert_memory_equal(buf, disk + 3 * 4096, 2 * 4096);
  assert_int_equal(calls[2].err.kind, BLOCKDEV_RANGE);
  assert_true(ctl.masked_irqs >= 1);      /* the handler dropped the line */
  assert_true(ctl.unmasks >= ctl.masked_irqs);
  assert_int_equal(ctl.mask, 0);          /* and the task raised it again */
  stop();
}

static void hostile_completions(void **state) {
  make_ctrl(9, 0);
  assert_int_equal(probe(), 0);
  ctl.hostile = 1;
  enum { N = 12 };
  static uint8_t bufs[N][512];
  static struct call calls[N];
  static struct client cs[N];
  for (int i = 0; i < N; i++) {
    calls[i] = (struct call){.rq = REQ(BLOCKDEV_READ, (uint64_t)(7 * i), 1, bufs[i])};
    cs[i] = (struct client){&calls[i], 1, 0};
  }
  run_clients(cs, N, NULL);
  for (int i = 0; i < N; i++) {
    assert_int_equal(calls[i].rc, 0);
    assert_memory_equal(bufs[i], disk + 7 * i * 512, 512);
  }
  /* five before each real completion and the duplicate after it */
  assert_int_equal(ctrl->ioq.bad_cqe, 6 * N);
  assert_int_equal(ctrl->inflight, 0);
  stop();
}

static void timeouts_and_fatal_status(void **state) {
  make_ctrl(9, 0);
  assert_int_equal(probe(), 0);
  ctl.withhold = 1;
  static uint8_t buf[512];
  struct call calls[] = {{.rq = REQ(BLOCKDEV_READ, 1, 1, buf)}};
  struct client c = {calls, 1, 0};
  run_clients(&c, 1, NULL);
  assert_int_equal(calls[0].rc, MN_ESERVICE);
  assert_int_equal(calls[0].err.kind, BLOCKDEV_IO);
  assert_int_equal(calls[0].err.code, MN_ETIMEDOUT);
  assert_int_equal(ctrl->timeouts, 1);
  assert_int_equal(ctrl->inflight, 1); /* the slot waits for the controller */
  set32(NVME_REG_CSTS, reg32(NVME_REG_CSTS) | NVME_CSTS_CFS);
  struct call more[] = {{.rq = REQ(BLOCKDEV_READ, 2, 1, buf)},
                        {.rq = REQ(BLOCKDEV_READ, 3, 1, buf)}};
  struct client c2 = {more, 2, 0};
  run_clients(&c2, 1, NULL);
  assert_int_equal(more[0].err.kind, BLOCKDEV_IO);
  assert_int_equal(more[0].err.code, MN_EIO);
  assert_true(ctrl->failed);
  assert_int_equal(more[1].err.code, MN_EIO);
  stop();
}

static void unusable_namespaces_refused(void **state) {
  make_ctrl(9, 0);
  ctl.ms = 8; /* metadata per LBA */
  assert_int_equal(probe(), MN_ENOTSUP);
  stop();
  ktest_boot(8u << 20);
  make_ctrl(9, 0);
  ctl.nsze = 0;
  assert_int_equal(probe(), MN_ENOENT);
  stop();
  ktest_boot(8u << 20);
  make_ctrl(9, 0);
  uint64_t cap = 255 | 1u << 24; /* no NVM command set */
  memcpy(bar + NVME_REG_CAP, &cap, 8);
  assert_int_equal(probe(), MN_ENOTSUP);
  stop();
}

static void library(void **state) {
  uint64_t list[32] __attribute__((aligned(256)));
  uint64_t p1, p2;
  assert_int_equal(nvme_prp(0x10000, 4096, list, 0x9000, 32, &p1, &p2), 0);
  assert_true(p1 == 0x10000 && p2 == 0);
  assert_int_equal(nvme_prp(0x10f00, 512, list, 0x9000, 32, &p1, &p2), 0);
  assert_true(p1 == 0x10f00 && p2 == 0x11000);
  assert_int_equal(nvme_prp(0x10004, 131072, list, 0x9000, 32, &p1, &p2), 0);
  assert_true(p1 == 0x10004 && p2 == 0x9000 && list[0] == 0x11000 && list[31] == 0x30000);
  assert_int_equal(nvme_prp(0x10004, 131072 + 4096, list, 0x9000, 32, &p1, &p2), MN_EOVERFLOW);
  assert_int_equal(nvme_prp(0x10002, 512, list, 0x9000, 32, &p1, &p2), MN_EINVAL);
  assert_int_equal(nvme_prp(0x10000, 0, list, 0x9000, 32, &p1, &p2), MN_EINVAL);
  assert_int_equal(nvme_prp(0x10000, 3 * 4096, list, 0x9f00, 32, &p1, &p2), 0);
  assert_int_equal(nvme_prp(0x10000, 34 * 4096, list, 0x9f00, 64, &p1, &p2), MN_EOVERFLOW);

  static uint8_t id[4096];
  struct nvme_ctrl_info ci;
  memset(id, 0xff, sizeof id);
  memcpy(id + 24, "Model\x01 name", 11);
  nvme_parse_ctrl(id, 4096, &ci);
  assert_int_equal(strlen(ci.model), 40); /* 0xff bytes become '?' */
  assert_memory_equal(ci.model, "Model? name", 11);
  assert_int_equal(ci.max_transfer, 0);   /* MDTS 255: no limit */
  id[77] = 7;
  nvme_parse_ctrl(id, 4096, &ci);
  assert_int_equal(ci.max_transfer, 512 * 1024);
  assert_int_equal(ci.vwc, 1);

  uint64_t sectors;
  uint32_t ss;
  memset(id, 0, sizeof id);
  id[0] = 16;
  id[25] = 1, id[26] = 1;      /* format 1 of 2 */
  id[128 + 2] = 9, id[132 + 2] = 12;
  assert_int_equal(nvme_parse_ns(id, &sectors, &ss), 0);
  assert_true(sectors == 16 && ss == 4096);
  id[26] = 2;                  /* beyond the list */
  assert_int_equal(nvme_parse_ns(id, &sectors, &ss), MN_ENOTSUP);
  id[26] = 1, id[132 + 2] = 30;
  assert_int_equal(nvme_parse_ns(id, &sectors, &ss), MN_ENOTSUP);
  id[132 + 2] = 12;
  memset(id, 0xff, 8);         /* bytes past 2^64 */
  assert_int_equal(nvme_parse_ns(id, &sectors, &ss), MN_ENOTSUP);

  memset(id, 0, sizeof id);
  id[0] = 9, id[4] = 2;
  assert_int_equal(nvme_first_ns(id, 4), 2);
  assert_int_equal(nvme_first_ns(id, 1), 0);
  assert_int_equal(nvme_first_ns(id, 0), 0);
}

static void matches_nvme_only(void **state) {
  struct pci_dev d = {0};
  d.class_code = 1, d.subclass = 8, d.prog_if = 2;
  assert_true(nvme_match(&d));
  d.prog_if = 3; /* NVMe admin-only controllers etc. */
  assert_false(nvme_match(&d));
  d.subclass = 6, d.prog_if = 1;
  assert_false(nvme_match(&d));
}

static int boot(void **state) {
  ktest_boot(8u << 20);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(bring_up_and_io, boot),
      cmocka_unit_test_setup(bad_requests_and_errors, boot),
      cmocka_unit_test_setup(many_clients_at_once, boot),
      cmocka_unit_test_setup(four_k_lbas_and_intx, boot),
      cmocka_unit_test_setup(hostile_completions, boot),
      cmocka_unit_test_setup(timeouts_and_fatal_status, boot),
      cmocka_unit_test_setup(unusable_namespaces_refused, boot),
      cmocka_unit_test_setup(library, boot),
      cmocka_unit_test_setup(matches_nvme_only, boot),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
