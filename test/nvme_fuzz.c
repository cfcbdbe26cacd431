/*
 * nvme_fuzz.c: libFuzzer over nvme/nvme_queue.c with a hostile
 * controller. The input is a program: submit a command, write any
 * completion entry (any command id, queue id, head, phase) anywhere in
 * the completion queue, take completions, ring the head doorbell; PRP
 * entries for any address and length; Identify pages of any bytes.
 * Checked after every step: a completion is returned only for a command
 * id outstanding on this queue and only once; the outstanding count
 * matches; the head stays in the queue; PRP entries cover exactly the
 * buffer, page by page, and never overrun the list; parsed Identify
 * data stays within its bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mneme/err.h"
#include "mneme/nvme.h"

void plat_io_barrier(void) {}

#define QSIZE 16
#define NSLOTS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct nvme_sqe sq[QSIZE];
  static struct nvme_cqe cq[QSIZE];
  static uint16_t outstanding[NSLOTS];
  static uint8_t id[4096];
  uint32_t sqdb = 0, cqdb = 0;
  struct nvme_queue q;
  if (nvme_queue_init(&q, 1, QSIZE, sq, cq, outstanding, NSLOTS, &sqdb, &cqdb)) abort();
  uint16_t model[NSLOTS];
  unsigned nmodel = 0;
  for (int i = 0; i < NSLOTS; i++) model[i] = NVME_CID_FREE;
  size_t i = 0;
  while (i < size) {
    uint8_t op = data[i++] % 6;
    if (op == 0 && i + 2 <= size) { /* submit */
      struct nvme_sqe c = {0};
      c.cid = (uint16_t)(data[i] | data[i + 1] << 8);
      i += 2;
      unsigned slot = NVME_CID_SLOT(c.cid);
      int want = slot >= NSLOTS || c.cid == NVME_CID_FREE ? MN_EINVAL
                 : model[slot] != NVME_CID_FREE            ? MN_EBUSY
                                                            : 0;
      int r = nvme_submit(&q, &c);
      if (r != want) abort();
      if (!r) {
        model[slot] = c.cid;
        nmodel++;
        if (sqdb != q.sq_tail || sq[(q.sq_tail + QSIZE - 1) % QSIZE].cid != c.cid) abort();
      }
    } else if (op == 1 && i + 8 <= size) { /* the controller writes an entry */
      struct nvme_cqe e = {0};
      unsigned at = data[i] % QSIZE;
      e.cid = (uint16_t)(data[i + 1] | data[i + 2] << 8);
      e.sq_id = data[i + 3] & 3;
      e.sq_head = (uint16_t)(data[i + 4] | data[i + 5] << 8);
      e.status = (uint16_t)(data[i + 6] | data[i + 7] << 8);
      i += 8;
      cq[at] = e;
    } else if (op == 2) { /* take completions */
      struct nvme_cqe e;
      while (nvme_reap(&q, &e)) {
        unsigned slot = NVME_CID_SLOT(e.cid);
        if (slot >= NSLOTS || model[slot] != e.cid || e.sq_id != 1 || e.sq_head >= QSIZE) abort();
        model[slot] = NVME_CID_FREE;
        nmodel--;
      }
      if (q.cq_head >= QSIZE) abort();
    } else if (op == 3) {
      nvme_ack(&q);
      if (cqdb != q.cq_head || q.reaped) abort();
    } else if (op == 4 && i + 12 <= size) { /* PRP entries */
      uint64_t addr;
      uint32_t len;
      memcpy(&addr, data + i, 8);
      memcpy(&len, data + i + 8, 4);
      i += 12;
      addr &= 0xffffffffffull;
      len &= 0x3ffff;
      static uint64_t list[64];
      unsigned max = data[i - 1] % 65;
      memset(list, 0xaa, sizeof list);
      uint64_t p1, p2;
      int r = nvme_prp(addr, len, list, 0x100000, max, &p1, &p2);
      if (r) continue;
      if (p1 != addr || !len || (addr & 3)) abort();
      uint64_t first_end = (addr | 4095) + 1;
      if (addr + len <= first_end) {
        if (p2) abort();
      } else {
        uint64_t pages = (addr + len - first_end + 4095) / 4096;
        if (pages == 1) {
          if (p2 != first_end) abort();
        } else {
          if (p2 != 0x100000 || pages > max) abort();
          for (uint64_t k = 0; k < pages; k++)
            if (list[k] != first_end + 4096 * k) abort();
          for (uint64_t k = pages; k < 64; k++)
            if (list[k] != 0xaaaaaaaaaaaaaaaaull) abort();
        }
      }
    } else if (op == 5) { /* Identify pages from the rest of the input */
      memset(id, 0, sizeof id);
      size_t n = size - i < sizeof id ? size - i : sizeof id;
      memcpy(id, data + i, n);
      struct nvme_ctrl_info ci;
      nvme_parse_ctrl(id, 4096, &ci);
      if (strlen(ci.model) > 40 || strlen(ci.serial) > 20 || strlen(ci.firmware) > 8) abort();
      uint64_t sectors;
      uint32_t ss;
      if (!nvme_parse_ns(id, &sectors, &ss)) {
        if (ss < 512 || ss > 65536 || (ss & (ss - 1)) || !sectors) abort();
      }
      uint32_t ns = nvme_first_ns(id, ci.nn);
      if (ns > ci.nn) abort();
      break;
    }
    if (q.noutstanding != nmodel) abort();
  }
  return 0;
}
