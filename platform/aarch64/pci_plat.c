/*
 * pci_plat.c: the aarch64 side of include/mneme/pci.h's platform hooks.
 * ECAM windows from the ACPI MCFG (QEMU virt: segment 0 at
 * 0x4010000000); no other configuration mechanism and no port I/O (the
 * I/O BARs of virt's PCIe host are reached through memory, which
 * virtio does not need). Device memory is already mapped (mmu.c maps the
 * first TiB, everything but RAM as device nGnRE), so plat_mmio_map only
 * checks the range; DMA addresses are physical (identity map). MSIs go
 * through the GIC: the GICv3 ITS (the requester ID as the device ID) or
 * a GICv2m frame (gic.c).
 *
 * INTx without an AML interpreter: the DSDT's _PRT (and the link devices
 * it names) is AML, so the routing is the one QEMU's virt machine fixes
 * (hw/arm/virt.c; its device tree's interrupt-map says the same): INTA-D
 * of slot s on bus 0 go to SPI 3 + (s + pin) % 4 (interrupt IDs 35-38),
 * level-triggered, active high, shared. The machine is recognized by its
 * ACPI tables (MCFG OEM ID "BOCHS ", an ECAM window at one of virt's
 * bases); elsewhere, and behind bridges, INTx is MN_ENOTSUP (MSI/MSI-X
 * are the way: every PCIe device has one of them). Each of the four
 * lines has a short list of handlers, all called on its interrupt (the
 * device that did not raise it finds nothing to do).
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
#include "mneme/platform.h"

size_t plat_pci_ecam(struct pci_ecam *out, size_t max) {
  return acpi_pci_ecam(uefi_boot.rsdp, out, max);
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

/* QEMU virt: the PCIe host's INTA is SPI 3, IDs 35-38 (hw/arm/virt.c). */
#define VIRT_INTX_BASE 35
#define INTX_LINES 4
#define INTX_SHARE 8

static struct intx_line {
  pci_irq_fn fn[INTX_SHARE];
  void *arg[INTX_SHARE];
  unsigned n;
} intx[INTX_LINES];

static void intx_irq(void *arg) {
  struct intx_line *l = arg;
  for (unsigned i = 0; i < l->n; i++) l->fn[i](l->arg[i]);
}

/* 1 on QEMU's virt machine: its ACPI MCFG names QEMU (OEM ID "BOCHS ")
 * and has an ECAM window at one of virt's bases. */
static int is_qemu_virt(void) {
  const uint8_t *m = acpi_find(uefi_boot.rsdp, "MCFG");
  if (!m || memcmp(m + 10, "BOCHS ", 6)) return 0;
  struct pci_ecam e[4];
  size_t n = plat_pci_ecam(e, 4);
  for (size_t i = 0; i < n; i++)
    if (e[i].base == 0x4010000000ull || e[i].base == 0x3f000000ull) return 1;
  return 0;
}

/* The interrupt ID of (bus, dev, pin) on QEMU virt, or MN_ENOTSUP. */
static int intx_route(int virt, uint8_t bus, uint8_t dev, uint8_t pin) {
  if (!virt || bus != 0 || pin < 1 || pin > 4 || dev >= 32) return MN_ENOTSUP;
  return VIRT_INTX_BASE + (dev + pin - 1) % 4;
}

int plat_pci_intx(uint8_t bus, uint8_t dev, uint8_t fn_no, uint8_t pin, uint8_t line,
                  pci_irq_fn fn, void *arg) {
  (void)fn_no, (void)line; /* the line register is the firmware's guess; virt fixes the map */
  static int virt = -1;
  if (virt < 0) virt = is_qemu_virt();
  int id = intx_route(virt, bus, dev, pin);
  if (id < 0) return id;
  struct intx_line *l = &intx[id - VIRT_INTX_BASE];
  unsigned long s = plat_irq_save();
  int rc = 0;
  if (l->n == INTX_SHARE) {
    rc = MN_ENOSPC;
  } else {
    l->fn[l->n] = fn, l->arg[l->n] = arg;
    l->n++;
  }
  plat_irq_restore(s);
  if (rc) return rc;
  if (l->n == 1) { /* the line's first device: the GIC's handler (level) */
    rc = gic_enable_arg((unsigned)id, intx_irq, l);
    if (rc) return rc;
  }
  return id;
}
