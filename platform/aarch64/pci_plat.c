/*
 * pci_plat.c: the aarch64 side of include/mneme/pci.h's platform hooks.
 * ECAM windows from the ACPI MCFG (QEMU virt: segment 0 at
 * 0x4010000000); no other configuration mechanism and no port I/O (the
 * I/O BARs of virt's PCIe host are reached through memory, which
 * virtio does not need). Device memory is already mapped (mmu.c maps the
 * first TiB, everything but RAM as device nGnRE), so plat_mmio_map only
 * checks the range; DMA addresses are physical (identity map). MSIs go
 * through the GIC: the GICv3 ITS (the requester ID as the device ID) or
 * a GICv2m frame (gic.c). INTx is not routed: that takes the DSDT's _PRT
 * (AML), and every virtio device has MSI-X.
 *
 * Interface: plat_pci_ecam, plat_pci_cfg_legacy, plat_mmio_map,
 * plat_pio_read, plat_pio_write, plat_dma_addr, plat_io_barrier,
 * plat_msi_alloc, plat_pci_intx.
 */
#include <string.h>

#include "acpi.h"
#include "boot.h"
#include "gic.h"
#include "mmu.h"
#include "mneme/err.h"
#include "mneme/pci.h"

size_t plat_pci_ecam(struct pci_ecam *out, size_t max) {
  const uint8_t *m = acpi_find(x86_boot.rsdp, "MCFG");
  if (!m) return 0;
  uint32_t len;
  memcpy(&len, m + 4, 4);
  size_t n = 0;
  for (uint32_t off = 44; off + 16 <= len && n < max; off += 16) {
    const uint8_t *e = m + off;
    memcpy(&out[n].base, e, 8);
    memcpy(&out[n].segment, e + 8, 2);
    out[n].bus_start = e[10];
    out[n].bus_end = e[11];
    if (out[n].base && out[n].bus_end >= out[n].bus_start) n++;
  }
  return n;
}

int plat_pci_cfg_legacy(int write, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
                        uint32_t *val) {
  (void)write, (void)bus, (void)dev, (void)fn, (void)off, (void)val;
  return MN_ENOTSUP;
}

void *plat_mmio_map(uint64_t phys, size_t size) {
  if (!size || phys + size < phys || phys + size > MMU_MAP_TOP) return NULL;
  if (!mmu_is_device(phys) || !mmu_is_device(phys + size - 1)) return NULL;
  return (void *)(uintptr_t)phys;
}

uint32_t plat_pio_read(uint32_t port, unsigned width) {
  (void)port, (void)width;
  return 0xffffffffu;
}

void plat_pio_write(uint32_t port, unsigned width, uint32_t v) { (void)port, (void)width, (void)v; }

uint64_t plat_dma_addr(const void *p) { return (uint64_t)(uintptr_t)p; }

void plat_io_barrier(void) { __asm__ volatile("dsb sy" ::: "memory"); }

int plat_msi_alloc(const struct pci_dev *d, pci_irq_fn fn, void *arg, uint64_t *addr,
                   uint32_t *data) {
  uint32_t rid = (uint32_t)d->bus << 8 | (uint32_t)d->dev << 3 | d->fn;
  return gic_msi_alloc(rid, fn, arg, addr, data);
}

int plat_pci_intx(uint8_t bus, uint8_t dev, uint8_t fn_no, uint8_t pin, uint8_t line,
                  pci_irq_fn fn, void *arg) {
  (void)bus, (void)dev, (void)fn_no, (void)pin, (void)line, (void)fn, (void)arg;
  return MN_ENOTSUP;
}
