/*
 * virtio.h: virtio 1.0 over PCI (the modern interface), a transport for
 * any virtio device driver (virtio/virtio_pci.c; docs/virtio.md).
 *
 * A driver: virtio_pci_init (finds the common/notify/ISR/device
 * capabilities, maps them, resets the device, sets ACKNOWLEDGE|DRIVER),
 * virtio_negotiate (features; VERSION_1 is required, FEATURES_OK
 * checked), virtio_irq_setup (MSI-X, else INTx), virtio_queue_setup
 * for each queue, virtio_driver_ok. Then it posts buffers with
 * virtq_add + virtq_kick and collects them with virtq_get_used; the
 * interrupt only wakes v->irq.
 *
 * Split virtqueues: a descriptor table, the available ring (driver to
 * device) and the used ring (device to driver) in one DMA allocation.
 * Memory the device reads or writes must come from the kernel heap
 * (plat_dma_addr gives the device's address for it).
 */
#ifndef MNEME_VIRTIO_H
#define MNEME_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/pci.h"
#include "mneme/waitq.h"

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2

#define VIRTIO_F_VERSION_1 (1ull << 32)

/* Device status bits */
#define VIRTIO_S_ACKNOWLEDGE 1
#define VIRTIO_S_DRIVER 2
#define VIRTIO_S_DRIVER_OK 4
#define VIRTIO_S_FEATURES_OK 8
#define VIRTIO_S_NEEDS_RESET 64
#define VIRTIO_S_FAILED 128

struct virtq_desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2

struct virtq_avail {
  uint16_t flags;
  uint16_t idx;
  uint16_t ring[];
};
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_used_elem {
  uint32_t id;
  uint32_t len;
};

struct virtq_used {
  uint16_t flags;
  uint16_t idx;
  struct virtq_used_elem ring[];
};
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq {
  uint16_t index, size;
  struct virtq_desc *desc;
  volatile struct virtq_avail *avail;
  volatile struct virtq_used *used;
  uint16_t free_head, num_free;   /* free descriptors, chained by next */
  uint16_t last_used;             /* next used entry to collect */
  uint16_t avail_idx;             /* our copy of avail->idx */
  uint16_t added;                 /* buffers added since the last kick */
  void **cookie;                  /* per head descriptor */
  volatile uint16_t *notify;
  void *mem;
  uint64_t bad_used;              /* used entries naming no buffer of ours */
};

struct virtio_dev {
  struct pci_dev *pci;
  volatile uint8_t *common, *isr, *devcfg, *notify_base;
  uint32_t notify_mult, devcfg_len;
  uint64_t features;              /* negotiated */
  struct waitq irq;               /* woken by every interrupt */
  volatile uint32_t irqs;         /* interrupts taken */
  volatile uint32_t isr_bits;     /* INTx: ISR bits the handler read */
  int irq_mode;                   /* enum pci_irq_mode */
};

/* A buffer for virtq_add. */
struct virtq_buf {
  void *addr;
  uint32_t len;
};

/* 1 if d is a virtio device of type id (modern 0x1040 + id, or the
 * transitional id with the type as subsystem id). */
int virtio_pci_match(const struct pci_dev *d, unsigned id);

/* Finds and maps the capabilities, resets the device and sets
 * ACKNOWLEDGE | DRIVER. Returns 0, MN_ENOTSUP (no modern interface),
 * MN_ENOMEM (a mapping failed), MN_EIO (the reset did not finish). */
int virtio_pci_init(struct virtio_dev *v, struct pci_dev *d);

/* Accepts the device's features that are in wanted (VERSION_1 is always
 * wanted and required), sets FEATURES_OK and checks that it stuck.
 * Returns 0, MN_ENOTSUP (no VERSION_1), MN_EIO (features refused). */
int virtio_negotiate(struct virtio_dev *v, uint64_t wanted);

/* Sets up queue index with at most max entries (a power of two; the
 * device may offer fewer). Returns 0, MN_ENOENT (no such queue),
 * MN_ENOMEM. */
int virtio_queue_setup(struct virtio_dev *v, uint16_t index, uint16_t max, struct virtq *q);

/* Interrupts: MSI-X with one vector for configuration changes and every
 * queue, else INTx (the handler reads the ISR). Returns the mode or a
 * pci_irq_setup error. Call before the queues are set up. */
int virtio_irq_setup(struct virtio_dev *v);

/* Sets DRIVER_OK: the device may use the queues. */
void virtio_driver_ok(struct virtio_dev *v);

/* Marks the device FAILED (the driver gave up on it). */
void virtio_fail(struct virtio_dev *v);

/* Device status and its configuration space (bytes of struct
 * virtio_*_config at off; reads retried until config_generation is
 * stable). */
uint8_t virtio_status(const struct virtio_dev *v);
void virtio_cfg_read(const struct virtio_dev *v, uint32_t off, void *buf, size_t len);

/*
 * Adds a chain of nout device-readable then nin device-writable buffers
 * and makes it available; cookie comes back from virtq_get_used.
 * Returns 0 or MN_ENOSPC (not enough free descriptors).
 */
int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned nout, unsigned nin,
              void *cookie);

/* Notifies the device of the buffers added since the last kick (unless
 * it asked not to be). */
void virtq_kick(struct virtio_dev *v, struct virtq *q);

/* Takes one finished chain: returns its cookie and the bytes the device
 * wrote in *len, or NULL when none is finished. Entries naming no chain
 * of ours are counted (bad_used) and skipped. */
void *virtq_get_used(struct virtq *q, uint32_t *len);

/* 1 if a used entry is waiting. */
int virtq_has_used(const struct virtq *q);

/* Asks the device not to interrupt for this queue (off = 1) or to again. */
void virtq_irq_off(struct virtq *q, int off);

/* Drivers on this transport (virtio/), for pci_start. */
extern const struct pci_driver virtio_net_driver;   /* netdev.h */
extern const struct pci_driver virtio_blk_driver;   /* blockdev.h */

/*
 * Test aid for netdev drivers (virtio/netdev_probe.c), no network stack
 * needed: takes interface 0 (GET_DEVICE; it stays taken), sends an ARP
 * request for target from ip (broadcast), and waits up to timeout_ns for
 * the reply, printing what happened and the interface's counters with
 * out(arg, ...). Returns 0 (a reply came), MN_ETIMEDOUT, or the error of
 * getting the device (MN_ESERVICE: another client has it).
 */
int netdev_arp_probe(const uint8_t ip[4], const uint8_t target[4], uint64_t timeout_ns,
                     void (*out)(void *arg, const char *s, size_t n), void *arg);

/*
 * More netdev test aids (same file, same interface 0), with test frames
 * of ethertype 0x88b5: broadcast, our MAC as source, a 4-byte sequence
 * number, then bytes computed from it. netdev_send_frames queues count
 * of them of len bytes (0: lengths cycling through 60..1514, as
 * netdev_recv_frames expects). netdev_recv_frames drops what is queued,
 * prints "net-recv: ready", then takes frames until count test frames
 * came (or 3 s pass without one), checks each and prints the counts.
 * They return 0, or MN_EIO (missing or bad frames) or the device error.
 */
int netdev_send_frames(uint32_t count, size_t len,
                       void (*out)(void *arg, const char *s, size_t n), void *arg);
int netdev_recv_frames(uint32_t count, void (*out)(void *arg, const char *s, size_t n),
                       void (*flush)(void *arg), void *arg);

/*
 * Test aids for blockdev drivers (virtio/blockdev_probe.c), printing with
 * out(arg, ...): blockdev_list prints every disk (BLOCKDEV_INFO) and
 * returns how many; blockdev_sector reads sector lba of disk n and prints
 * its FNV-1a 64 hash and first 32 bytes; blockdev_sector_fill writes it
 * filled with byte, then flushes. They return 0 or an MN_E* code (the
 * blockdev error is printed).
 */
int blockdev_list(void (*out)(void *arg, const char *s, size_t n), void *arg);
int blockdev_sector(unsigned disk, uint64_t lba,
                    void (*out)(void *arg, const char *s, size_t n), void *arg);
int blockdev_sector_fill(unsigned disk, uint64_t lba, uint8_t byte,
                         void (*out)(void *arg, const char *s, size_t n), void *arg);

#endif
