/*
 * pci_plat.c: the x86_64 side of include/mneme/pci.h's platform hooks.
 * ECAM windows from the ACPI MCFG; configuration mechanism #1 (ports
 * 0xcf8/0xcfc) as the fallback; device memory mapped uncached through
 * paging_map_uc; port I/O; DMA addresses are physical (identity map);
 * MSIs as fixed, edge interrupts to this CPU's local APIC on vectors
 * from cpu_vector_alloc; INTx through the I/O APIC.
 *
 * INTx routing without an AML interpreter: the interrupt line register
 * the firmware wrote (its legacy IRQ for the pin) is taken as the I/O
 * APIC input, level-triggered, active high as QEMU's chipsets wire it
 * (real PCs route PCI interrupts active low through _PRT: MSI/MSI-X are
 * the way there, and every PCIe device has one of them).
 *
 * Interface: plat_pci_ecam, plat_pci_cfg_legacy, plat_mmio_map,
 * plat_pio_read, plat_pio_write, plat_dma_addr, plat_io_barrier,
 * plat_msi_alloc, plat_pci_intx.
 */
#include <string.h>

#include "acpi.h"
#include "apic.h"
#include "boot.h"
#include "cpu.h"
#include "mneme/err.h"
#include "mneme/pci.h"
#include "mneme/platform.h"
#include "paging.h"
#include "x86.h"

size_t plat_pci_ecam(struct pci_ecam *out, size_t max) {
  return acpi_pci_ecam(uefi_boot.rsdp, out, max);
}

int plat_pci_cfg_legacy(int write, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
                        uint32_t *val) {
  if (dev >= 32 || fn >= 8 || off >= 256 || (off & 3)) return MN_EINVAL;
  uint32_t a = 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 |
               (uint32_t)fn << 8 | off;
  unsigned long s = plat_irq_save(); /* the address/data pair is one access */
  outl(0xcf8, a);
  if (write) outl(0xcfc, *val);
  else *val = inl(0xcfc);
  plat_irq_restore(s);
  return 0;
}

void *plat_mmio_map(uint64_t phys, size_t size) {
  if (!size || paging_map_uc(phys, size)) return NULL;
  return (void *)(uintptr_t)phys;
}

uint32_t plat_pio_read(uint32_t port, unsigned width) {
  if (port > 0xffff) return 0xffffffffu;
  switch (width) {
  case 1: return inb((uint16_t)port);
  case 2: return inw((uint16_t)port);
  default: return inl((uint16_t)port);
  }
}

void plat_pio_write(uint32_t port, unsigned width, uint32_t v) {
  if (port > 0xffff) return;
  switch (width) {
  case 1: outb((uint16_t)port, (uint8_t)v); break;
  case 2: outw((uint16_t)port, (uint16_t)v); break;
  default: outl((uint16_t)port, v); break;
  }
}

uint64_t plat_dma_addr(const void *p) { return (uint64_t)(uintptr_t)p; }

void plat_io_barrier(void) { __asm__ volatile("mfence" ::: "memory"); }

int plat_msi_alloc(const struct pci_dev *d, pci_irq_fn fn, void *arg, uint64_t *addr,
                   uint32_t *data) {
  (void)d;
  int v = cpu_vector_alloc(fn, arg, 0, 0);
  if (v < 0) return v;
  *addr = 0xfee00000u | (apic_lapic_id() & 0xff) << 12;
  *data = (uint32_t)v; /* fixed delivery, edge */
  return v;
}

int plat_pci_intx(uint8_t bus, uint8_t dev, uint8_t fn_no, uint8_t pin, uint8_t line,
                  pci_irq_fn fn, void *arg) {
  (void)bus, (void)dev, (void)fn_no;
  if (!pin || line == 0 || line == 0xff || line >= VEC_IRQ_MAX) return MN_ENOTSUP;
  int v = cpu_vector_alloc(fn, arg, 1, line);
  if (v < 0) return v;
  int rc = apic_route_gsi(line, (uint8_t)v, 1, 0);
  return rc ? rc : line;
}
