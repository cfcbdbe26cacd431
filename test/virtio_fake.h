/*
 * virtio_fake.h: a simulated modern virtio PCI device for the host tests
 * of virtio drivers (virtio_net_test.c, virtio_blk_test.c): the simulated
 * function of pci_fake.h with a 64 KiB BAR4 holding the common
 * configuration, ISR, device configuration, notify area and MSI-X table. The test plays the
 * device: it reads the queues the driver set up and calls interrupt().
 * Include once, after the driver's source.
 */
#ifndef MNEME_TEST_VIRTIO_FAKE_H
#define MNEME_TEST_VIRTIO_FAKE_H

#include <string.h>

#define PCI_FAKE_BAR_BYTES 65536
#include "pci_fake.h"

#define COMMON 0x0000
#define ISR 0x1000
#define DEVCFG 0x2000
#define NOTIFY 0x3000
#define MSIX_TBL 0x4000

static void vcap(uint8_t at, uint8_t next, uint8_t type, uint32_t off, uint32_t len) {
  cfg[at] = PCI_CAP_VENDOR;
  cfg[at + 1] = next;
  cfg[at + 2] = type == 2 ? 20 : 16;
  cfg[at + 3] = type;
  cfg[at + 4] = 4; /* BAR4 */
  memcpy(cfg + at + 8, &off, 4);
  memcpy(cfg + at + 12, &len, 4);
}

/* A modern virtio device of PCI id device_id offering the features in
 * features (the same word in both halves: bit 0 is also VERSION_1) and
 * nqueues queues of 256 entries; the caller fills bar + DEVCFG. */
static void fake_device(uint16_t device_id, uint32_t features, uint8_t nqueues) {
  fake_function(0x1af4, device_id, 0, 0, 0, 4, 1);
  fake_msix(0x50, 2, 4, MSIX_TBL);
  vcap(0x50, 0x60, 1, COMMON, 0x38);
  vcap(0x60, 0x78, 2, NOTIFY, 0x1000);
  uint32_t mult = 4;
  memcpy(cfg + 0x70, &mult, 4);
  vcap(0x78, 0x88, 3, ISR, 4);
  vcap(0x88, 0x00, 4, DEVCFG, 0x100);
  memcpy(bar + COMMON + 0x04, &features, 4);
  bar[COMMON + 0x12] = nqueues;
  bar[COMMON + 0x18] = 0, bar[COMMON + 0x19] = 1; /* 256 entries offered */
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
