/*
 * nvme.h: NVM Express over PCI (nvme/; docs/nvme.md).
 *
 * Two parts:
 *
 * - nvme/nvme_queue.c, a library with no kernel: submission/completion
 *   queue pairs over memory the caller gives (commands copied in at the
 *   tail, completions taken by phase tag and checked: an entry naming no
 *   outstanding command, another queue, or a submission head out of range
 *   is counted and skipped, never trusted), PRP lists for a buffer, and
 *   the Identify data a driver needs (checked: a namespace with an LBA
 *   size other than 512..64 KiB, metadata or a zero size is refused).
 *   The host tests and the fuzz target run it on plain memory.
 * - nvme/nvme.c, the driver (nvme_driver for pci_start): resets and
 *   enables the controller, the admin queue pair and one I/O queue pair
 *   (MSI-X, else MSI, else INTx masked through INTMS/INTMC), Identify
 *   controller and the first active namespace, then registers that
 *   namespace as the blockdev service (include/mneme/blockdev.h) named
 *   "nvmeNn1".
 */
#ifndef MNEME_NVME_H
#define MNEME_NVME_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/pci.h"

/* Controller registers (BAR0) */
#define NVME_REG_CAP 0x00
#define NVME_REG_VS 0x08
#define NVME_REG_INTMS 0x0c
#define NVME_REG_INTMC 0x10
#define NVME_REG_CC 0x14
#define NVME_REG_CSTS 0x1c
#define NVME_REG_AQA 0x24
#define NVME_REG_ASQ 0x28
#define NVME_REG_ACQ 0x30
#define NVME_REG_DOORBELLS 0x1000

#define NVME_CC_EN 1u
#define NVME_CC_IOSQES (6u << 16)
#define NVME_CC_IOCQES (4u << 20)
#define NVME_CSTS_RDY 1u
#define NVME_CSTS_CFS 2u

/* Admin opcodes */
#define NVME_ADM_CREATE_SQ 0x01
#define NVME_ADM_CREATE_CQ 0x05
#define NVME_ADM_IDENTIFY 0x06
#define NVME_ADM_SET_FEATURES 0x09
/* NVM opcodes */
#define NVME_CMD_FLUSH 0x00
#define NVME_CMD_WRITE 0x01
#define NVME_CMD_READ 0x02

#define NVME_PAGE 4096u
#define NVME_CID_FREE 0xffffu
#define NVME_CID_SLOT(cid) ((cid) & 0xffu)

/* A submission queue entry (64 bytes). */
struct nvme_sqe {
  uint8_t opcode, flags;
  uint16_t cid;
  uint32_t nsid;
  uint64_t rsvd;
  uint64_t mptr;
  uint64_t prp1, prp2;
  uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

/* A completion queue entry (16 bytes). */
struct nvme_cqe {
  uint32_t result;
  uint32_t rsvd;
  uint16_t sq_head, sq_id;
  uint16_t cid;
  uint16_t status;   /* bit 0: phase; 1-8 status code; 9-11 type; 15 DNR */
};

/* The status of a completion without the phase bit: 0 is success;
 * (type << 8) | code otherwise. */
static inline int nvme_status(const struct nvme_cqe *c) { return (c->status >> 1) & 0x7ff; }

/* One submission/completion queue pair; the memory and doorbells are the
 * caller's. A command id is (generation << 8) | slot, slot < nslots (the
 * caller's slots, at most 255), so a stale or repeated completion for a
 * slot used again since does not match; at most size - 1 commands are
 * outstanding. */
struct nvme_queue {
  struct nvme_sqe *sq;
  volatile struct nvme_cqe *cq;
  volatile uint32_t *sq_db, *cq_db;
  uint16_t qid, size;             /* entries in each of sq and cq */
  uint16_t sq_tail, cq_head;
  uint8_t phase;                  /* the phase tag of new completions */
  uint16_t nslots;
  uint16_t *outstanding;          /* per slot: the command id, or NVME_CID_FREE */
  uint16_t noutstanding;
  uint16_t reaped;                /* completions taken since the last ack */
  uint64_t bad_cqe;               /* completions naming nothing of ours */
};

/*
 * Sets up q over sq (size entries), cq (size entries, zeroed here),
 * outstanding (nslots entries) and the doorbells. nslots must be below
 * size and 256. Returns 0 or MN_EINVAL.
 */
int nvme_queue_init(struct nvme_queue *q, uint16_t qid, uint16_t size, struct nvme_sqe *sq,
                    volatile struct nvme_cqe *cq, uint16_t *outstanding, uint16_t nslots,
                    volatile uint32_t *sq_db, volatile uint32_t *cq_db);

/* Copies cmd (its cid's slot must be free) to the tail and rings the
 * doorbell. Returns 0, MN_EINVAL (slot out of range or cid
 * NVME_CID_FREE), MN_EBUSY (slot outstanding) or MN_ENOSPC (queue full). */
int nvme_submit(struct nvme_queue *q, const struct nvme_sqe *cmd);

/* Takes the next completion (phase tag matching) into *out: 1 if it
 * names an outstanding command id of this queue (its slot is no longer
 * outstanding), 0 if none is waiting. Bad entries are consumed, counted
 * in bad_cqe and skipped; at most size entries are looked at per call. */
int nvme_reap(struct nvme_queue *q, struct nvme_cqe *out);

/* Writes the completion head doorbell if entries were taken. */
void nvme_ack(struct nvme_queue *q);

/* 1 if a completion is waiting at the head (phase tag). */
int nvme_cq_pending(const struct nvme_queue *q);

/*
 * PRP entries for len bytes at bus address addr (dword aligned): prp1,
 * and prp2 as the second page or the bus address of list (list_dma),
 * which receives one entry per page after the first (list holds
 * list_max entries and must not cross a page). Returns 0, MN_EINVAL
 * (misaligned, empty) or MN_EOVERFLOW (more pages than the list holds).
 */
int nvme_prp(uint64_t addr, uint32_t len, uint64_t *list, uint64_t list_dma, unsigned list_max,
             uint64_t *prp1, uint64_t *prp2);

/* What Identify Controller gives a driver. */
struct nvme_ctrl_info {
  char model[41], serial[21], firmware[9];
  uint32_t max_transfer;   /* bytes per command (MDTS; 0: no limit) */
  uint32_t nn;             /* namespaces */
  uint8_t vwc;             /* volatile write cache present: FLUSH matters */
};

/* Parses a 4096-byte Identify Controller page; min_page is the
 * controller's minimum page size (CAP.MPSMIN). Returns 0. */
int nvme_parse_ctrl(const uint8_t *id, uint32_t min_page, struct nvme_ctrl_info *out);

/* Parses a 4096-byte Identify Namespace page: *sectors and
 * *sector_size (the formatted LBA size). Returns 0, MN_ENOENT (size 0:
 * inactive), MN_ENOTSUP (LBA size outside 512..65536, metadata, or a
 * format index beyond the list). */
int nvme_parse_ns(const uint8_t *id, uint64_t *sectors, uint32_t *sector_size);

/* The first active namespace id in a 4096-byte active namespace list
 * (CNS 2) that is at most nn, or 0. */
uint32_t nvme_first_ns(const uint8_t *list, uint32_t nn);

/* The driver, for pci_start (class 01:08:02). */
extern const struct pci_driver nvme_driver;

#endif
