/*
 * virtio_fake.h: a simulated modern virtio PCI device for the host tests
 * of virtio drivers (virtio_net_test.c, virtio_blk_test.c): the platform
 * hooks of include/mneme/pci.h over a 256-byte configuration space and a
 * 64 KiB BAR4 of plain memory holding the common configuration, ISR,
 * device configuration, notify area and MSI-X table. The test plays the
 * device: it reads the queues the driver set up and calls interrupt().
 * Include once, after the driver's source.
 */
#ifndef MNEME_TEST_VIRTIO_FAKE_H
#define MNEME_TEST_VIRTIO_FAKE_H

#include <string.h>

#include "mneme/err.h"
#include "mneme/pci.h"


static uint8_t cfg[256];
static uint8_t bar[65536] __attribute__((aligned(4096)));
static pci_irq_fn irq_fn;
static void *irq_arg;
static int msi_allocs;

#define COMMON 0x0000
#define ISR 0x1000
#define DEVCFG 0x2000
#define NOTIFY 0x3000
#define MSIX_TBL 0x4000

int plat_pci_cfg_legacy(int write, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
                        uint32_t *val) {
  if (!write) memcpy(val, cfg + off, 4);
  else if (off == 0x04) memcpy(cfg + off, val, 2); /* status: write-one-to-clear */
  else memcpy(cfg + off, val, 4);
  return 0;
}
size_t plat_pci_ecam(struct pci_ecam *out, size_t max) { return 0; }
void *plat_mmio_map(uint64_t phys, size_t size) {
  return phys == 0xfe000000u && size <= sizeof bar ? bar : NULL;
}
uint32_t plat_pio_read(uint32_t port, unsigned width) { return 0xffffffffu; }
void plat_pio_write(uint32_t port, unsigned width, uint32_t v) {}
uint64_t plat_dma_addr(const void *p) { return (uint64_t)(uintptr_t)p; }
void plat_io_barrier(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
int plat_msi_alloc(const struct pci_dev *d, pci_irq_fn fn, void *arg, uint64_t *addr,
                   uint32_t *data) {
  (void)d;
  irq_fn = fn;
  irq_arg = arg;
  msi_allocs++;
  *addr = 0xfee00000u;
  *data = 0x41;
  return 0x41;
}
int plat_pci_intx(uint8_t bus, uint8_t dev, uint8_t fn_no, uint8_t pin, uint8_t line,
                  pci_irq_fn fn, void *arg) {
  return MN_ENOTSUP;
}

static void vcap(uint8_t at, uint8_t next, uint8_t type, uint32_t off, uint32_t len) {
  cfg[at] = PCI_CAP_VENDOR;
  cfg[at + 1] = next;
  cfg[at + 2] = type == 2 ? 20 : 16;
  cfg[at + 3] = type;
  cfg[at + 4] = 4; /* BAR4 */
  memcpy(cfg + at + 8, &off, 4);
  memcpy(cfg + at + 12, &len, 4);
}

static struct pci_dev pdev;

/* A modern virtio device of PCI id device_id offering the features in
 * features (the same word in both halves: bit 0 is also VERSION_1) and
 * nqueues queues of 256 entries; the caller fills bar + DEVCFG. */
static void fake_device(uint16_t device_id, uint32_t features, uint8_t nqueues) {
  memset(cfg, 0, sizeof cfg);
  memset(bar, 0, sizeof bar);
  cfg[0] = 0xf4, cfg[1] = 0x1a;
  memcpy(cfg + 2, &device_id, 2);
  cfg[0x06] = 0x10;
  cfg[0x34] = 0x40;
  cfg[0x40] = PCI_CAP_MSIX, cfg[0x41] = 0x50, cfg[0x42] = 1; /* 2 entries */
  uint32_t t = MSIX_TBL | 4;
  memcpy(cfg + 0x44, &t, 4);
  vcap(0x50, 0x60, 1, COMMON, 0x38);
  vcap(0x60, 0x78, 2, NOTIFY, 0x1000);
  uint32_t mult = 4;
  memcpy(cfg + 0x70, &mult, 4);
  vcap(0x78, 0x88, 3, ISR, 4);
  vcap(0x88, 0x00, 4, DEVCFG, 0x100);
  memcpy(bar + COMMON + 0x04, &features, 4);
  bar[COMMON + 0x12] = nqueues;
  bar[COMMON + 0x18] = 0, bar[COMMON + 0x19] = 1; /* 256 entries offered */
  memset(&pdev, 0, sizeof pdev);
  pdev.vendor = 0x1af4;
  pdev.device = device_id;
  pdev.msix_cap = 0x40;
  pdev.bar[4] = (struct pci_bar){0xfe000000u, sizeof bar, PCI_BAR_MEM64, 1, NULL};
}

static void interrupt(void) {
  assert_non_null(irq_fn);
  irq_fn(irq_arg);
}

/* Lets the driver's tasks run until cond holds (at most 1 s). */
#define SETTLE(cond)                                                     \
  do {                                                                   \
    for (int i_ = 0; i_ < 1000 && !(cond); i_++) task_sleep(MN_MSEC(1)); \
    assert_true(cond);                                                   \
  } while (0)

#endif
