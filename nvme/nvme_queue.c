/*
 * nvme_queue.c: NVMe queue pairs, PRP lists and Identify data, with no
 * kernel (include/mneme/nvme.h). Everything read from the controller is
 * checked before use: a completion's command id against the outstanding
 * commands of this queue, its queue id and submission head against the
 * queue; Identify fields against what the driver can use.
 *
 * Interface: nvme_queue_init, nvme_submit, nvme_reap, nvme_ack,
 * nvme_cq_pending, nvme_prp, nvme_parse_ctrl, nvme_parse_ns, nvme_first_ns.
 */
#include <string.h>

#include "mneme/err.h"
#include "mneme/nvme.h"
#include "mneme/pci.h"

int nvme_queue_init(struct nvme_queue *q, uint16_t qid, uint16_t size, struct nvme_sqe *sq,
                    volatile struct nvme_cqe *cq, uint16_t *outstanding, uint16_t nslots,
                    volatile uint32_t *sq_db, volatile uint32_t *cq_db) {
  if (size < 2 || !nslots || nslots >= size || nslots > 255 || !sq || !cq || !outstanding)
    return MN_EINVAL;
  memset(q, 0, sizeof *q);
  q->sq = sq;
  q->cq = cq;
  q->sq_db = sq_db;
  q->cq_db = cq_db;
  q->qid = qid;
  q->size = size;
  q->phase = 1;
  q->nslots = nslots;
  q->outstanding = outstanding;
  for (uint16_t i = 0; i < nslots; i++) outstanding[i] = NVME_CID_FREE;
  memset(sq, 0, sizeof *sq * size);
  for (uint16_t i = 0; i < size; i++) {
    struct nvme_cqe z = {0};
    memcpy((void *)&cq[i], &z, sizeof z);
  }
  return 0;
}

int nvme_submit(struct nvme_queue *q, const struct nvme_sqe *cmd) {
  unsigned slot = NVME_CID_SLOT(cmd->cid);
  if (slot >= q->nslots || cmd->cid == NVME_CID_FREE) return MN_EINVAL;
  if (q->outstanding[slot] != NVME_CID_FREE) return MN_EBUSY;
  /* Slots are fewer than entries, so the ring cannot overflow while the
   * controller keeps up; it may still be slow to move its head, which we
   * do not trust, so outstanding commands are the bound. */
  if (q->noutstanding >= q->size - 1) return MN_ENOSPC;
  q->sq[q->sq_tail] = *cmd;
  q->outstanding[slot] = cmd->cid;
  q->noutstanding++;
  q->sq_tail = (uint16_t)((q->sq_tail + 1) % q->size);
  plat_io_barrier(); /* the entry before the doorbell */
  if (q->sq_db) *q->sq_db = q->sq_tail;
  return 0;
}

int nvme_cq_pending(const struct nvme_queue *q) {
  return (q->cq[q->cq_head].status & 1) == q->phase;
}

int nvme_reap(struct nvme_queue *q, struct nvme_cqe *out) {
  for (unsigned looked = 0; looked < q->size; looked++) {
    if (!nvme_cq_pending(q)) return 0;
    plat_io_barrier(); /* the phase tag before the rest of the entry */
    struct nvme_cqe c;
    memcpy(&c, (const void *)&q->cq[q->cq_head], sizeof c);
    if (++q->cq_head == q->size) {
      q->cq_head = 0;
      q->phase ^= 1;
    }
    q->reaped++;
    unsigned slot = NVME_CID_SLOT(c.cid);
    if (slot >= q->nslots || q->outstanding[slot] != c.cid || c.sq_id != q->qid ||
        c.sq_head >= q->size) {
      q->bad_cqe++;
      continue;
    }
    q->outstanding[slot] = NVME_CID_FREE;
    q->noutstanding--;
    *out = c;
    return 1;
  }
  return 0;
}

void nvme_ack(struct nvme_queue *q) {
  if (!q->reaped) return;
  q->reaped = 0;
  plat_io_barrier();
  if (q->cq_db) *q->cq_db = q->cq_head;
}

int nvme_prp(uint64_t addr, uint32_t len, uint64_t *list, uint64_t list_dma, unsigned list_max,
             uint64_t *prp1, uint64_t *prp2) {
  if (!len || (addr & 3)) return MN_EINVAL;
  uint64_t first_end = (addr & ~(uint64_t)(NVME_PAGE - 1)) + NVME_PAGE;
  *prp1 = addr;
  *prp2 = 0;
  if (addr + len <= first_end) return 0;
  uint64_t rest = addr + len - first_end;
  uint64_t pages = (rest + NVME_PAGE - 1) / NVME_PAGE;
  if (pages == 1) {
    *prp2 = first_end;
    return 0;
  }
  if (pages > list_max || pages > NVME_PAGE / 8 || !list || (list_dma & 7) ||
      (list_dma & (NVME_PAGE - 1)) + pages * 8 > NVME_PAGE)
    return MN_EOVERFLOW;
  for (uint64_t i = 0; i < pages; i++) list[i] = first_end + i * NVME_PAGE;
  *prp2 = list_dma;
  return 0;
}

/* Copies an ASCII field, spaces at the end dropped, non-printables as '?'. */
static void field(char *out, const uint8_t *in, size_t n) {
  size_t end = n;
  while (end && (in[end - 1] == ' ' || in[end - 1] == 0)) end--;
  for (size_t i = 0; i < end; i++) out[i] = in[i] >= 32 && in[i] < 127 ? (char)in[i] : '?';
  out[end] = 0;
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

int nvme_parse_ctrl(const uint8_t *id, uint32_t min_page, struct nvme_ctrl_info *out) {
  memset(out, 0, sizeof *out);
  field(out->serial, id + 4, 20);
  field(out->model, id + 24, 40);
  field(out->firmware, id + 64, 8);
  uint8_t mdts = id[77];
  /* 2^mdts pages; anything past 1 GiB is as good as no limit */
  if (mdts && mdts < 20 && min_page) {
    uint64_t m = (uint64_t)min_page << mdts;
    out->max_transfer = m > (1u << 30) ? 0 : (uint32_t)m;
  }
  out->nn = le32(id + 516);
  out->vwc = id[525] & 1;
  return 0;
}

int nvme_parse_ns(const uint8_t *id, uint64_t *sectors, uint32_t *sector_size) {
  uint64_t nsze = le64(id);
  if (!nsze) return MN_ENOENT;
  uint8_t nlbaf = id[25], flbas = id[26];
  unsigned fmt = flbas & 0xf;
  if (fmt > nlbaf || fmt >= 16) return MN_ENOTSUP;
  const uint8_t *lbaf = id + 128 + 4 * fmt;
  uint16_t ms = (uint16_t)(lbaf[0] | lbaf[1] << 8);
  uint8_t lbads = lbaf[2];
  if (ms || lbads < 9 || lbads > 16) return MN_ENOTSUP;
  *sector_size = 1u << lbads;
  /* bytes must fit in 64 bits */
  if (nsze > (UINT64_MAX >> lbads)) return MN_ENOTSUP;
  *sectors = nsze;
  return 0;
}

uint32_t nvme_first_ns(const uint8_t *list, uint32_t nn) {
  for (unsigned i = 0; i < NVME_PAGE / 4; i++) {
    uint32_t id = le32(list + 4 * i);
    if (!id) return 0;   /* the list ends at the first zero */
    if (id <= nn) return id;
  }
  return 0;
}
