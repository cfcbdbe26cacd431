/*
 * pci_fake.h: a simulated PCI function for the host tests of PCI drivers
 * (nvme_test.c, xhci_test.c, and virtio_fake.h for the virtio tests):
 * the platform hooks of include/mneme/pci.h over a 256-byte
 * configuration space (cfg) and one memory BAR of plain memory (bar,
 * PCI_FAKE_BAR_BYTES long, mapped at 0xfe000000). The driver's interrupt
 * handler is kept in irq_fn/irq_arg for the test, which plays the
 * device, to call. Include once, after the driver's source.
 */
#ifndef MNEME_TEST_PCI_FAKE_H
#define MNEME_TEST_PCI_FAKE_H

#include <string.h>

#include "mneme/err.h"
#include "mneme/pci.h"

#ifndef PCI_FAKE_BAR_BYTES
#define PCI_FAKE_BAR_BYTES 16384
#endif
#define PCI_FAKE_BAR_PHYS 0xfe000000u

static uint8_t cfg[256];
static uint8_t bar[PCI_FAKE_BAR_BYTES] __attribute__((aligned(4096)));
static struct pci_dev pdev;
static pci_irq_fn irq_fn;
static void *irq_arg;
static int msi_allocs;
static int intx_line; /* plat_pci_intx's answer; 0: the function has no INTx */

int plat_pci_cfg_legacy(int write, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
                        uint32_t *val) {
  if (!write) memcpy(val, cfg + off, 4);
  else if (off == 0x04) memcpy(cfg + off, val, 2); /* status: write-one-to-clear */
  else memcpy(cfg + off, val, 4);
  return 0;
}
size_t plat_pci_ecam(struct pci_ecam *out, size_t max) { return 0; }
void *plat_mmio_map(uint64_t phys, size_t size) {
  return phys == PCI_FAKE_BAR_PHYS && size <= sizeof bar ? bar : NULL;
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
  if (!intx_line) return MN_ENOTSUP;
  irq_fn = fn;
  irq_arg = arg;
  return intx_line;
}

/* A new function: configuration space, BAR contents, pdev and the
 * interrupt cleared; IDs and class in both cfg and pdev, a capability
 * list announced in the status register, and bar[] as BAR bar_no (64-bit
 * memory). */
static void fake_function(uint16_t vendor, uint16_t device, uint8_t class_code,
                          uint8_t subclass, uint8_t prog_if, unsigned bar_no, int prefetch) {
  memset(cfg, 0, sizeof cfg);
  memset(bar, 0, sizeof bar);
  memset(&pdev, 0, sizeof pdev);
  irq_fn = NULL;
  irq_arg = NULL;
  intx_line = 0;
  memcpy(cfg, &vendor, 2);
  memcpy(cfg + 2, &device, 2);
  cfg[0x06] = 0x10;
  cfg[0x09] = prog_if, cfg[0x0a] = subclass, cfg[0x0b] = class_code;
  pdev.vendor = vendor;
  pdev.device = device;
  pdev.class_code = class_code, pdev.subclass = subclass, pdev.prog_if = prog_if;
  pdev.bar[bar_no] =
      (struct pci_bar){PCI_FAKE_BAR_PHYS, sizeof bar, PCI_BAR_MEM64, prefetch, NULL};
}

/* An MSI-X capability at 0x40 (the first of the list), next pointing on,
 * with nvec vectors and its table at table_off in BAR bir. */
static void fake_msix(uint8_t next, unsigned nvec, unsigned bir, uint32_t table_off) {
  cfg[0x34] = 0x40;
  cfg[0x40] = PCI_CAP_MSIX, cfg[0x41] = next, cfg[0x42] = (uint8_t)(nvec - 1);
  uint32_t t = table_off | bir;
  memcpy(cfg + 0x44, &t, 4);
  pdev.msix_cap = 0x40;
}

/* The BAR's registers, as the device sees them. */
static inline uint32_t reg32(unsigned off) {
  uint32_t v;
  memcpy(&v, bar + off, 4);
  return v;
}
static inline void set32(unsigned off, uint32_t v) { memcpy(bar + off, &v, 4); }
static inline uint64_t reg64(unsigned off) {
  return reg32(off) | (uint64_t)reg32(off + 4) << 32;
}

#endif
