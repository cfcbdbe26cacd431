/*
 * pci_fuzz.c: libFuzzer target for pci/pci.c, which parses what devices
 * put in their configuration space: the input is the configuration space
 * of the functions (256 bytes each) on buses 0-3 through the legacy
 * mechanism, or on buses 0-1 through an ECAM window (the first byte
 * chooses), and every device
 * found is sized, its capabilities walked and its interrupt set up
 * (MSI-X tables written into BAR memory exactly as large as the BAR).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mneme/pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *in;
static size_t in_len;
static int use_ecam;
static uint8_t ecam[2u << 20]; /* buses 0-1 */
static void *maps[64];
static int nmaps;

#define FN_BYTES 256

/* The function's bytes in the input, or NULL (absent). */
static const uint8_t *fn_data(uint8_t bus, uint8_t dev, uint8_t fn) {
  if (bus > 3) return NULL;
  size_t idx = ((size_t)bus * 32 + dev) * 8 + fn;
  size_t nfn = in_len / FN_BYTES;
  if (!nfn) return NULL;
  /* spread the few functions of a short input over the buses */
  if (idx % 5 != 0) return NULL;
  idx = (idx / 5) % nfn;
  return in + idx * FN_BYTES;
}

int plat_pci_cfg_legacy(int write, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
                        uint32_t *val) {
  if (write) return 0;
  const uint8_t *p = fn_data(bus, dev, fn);
  if (!p || off > FN_BYTES - 4) *val = 0xffffffffu;
  else memcpy(val, p + off, 4);
  return 0;
}

size_t plat_pci_ecam(struct pci_ecam *out, size_t max) {
  if (!use_ecam || !max) return 0;
  out[0] = (struct pci_ecam){0xb0000000u, 0, 0, 1};
  return 1;
}

void *plat_mmio_map(uint64_t phys, size_t size) {
  if (use_ecam && phys == 0xb0000000u) return ecam;
  if (size > 65536 || nmaps == 64) return NULL;
  void *p = malloc(size);
  if (p) memset(p, 0, size);
  maps[nmaps++] = p;
  return p;
}

uint32_t plat_pio_read(uint32_t port, unsigned width) { return 0xffffffffu; }
void plat_pio_write(uint32_t port, unsigned width, uint32_t v) {}
uint64_t plat_dma_addr(const void *p) { return (uint64_t)(uintptr_t)p; }
void plat_io_barrier(void) {}
int plat_msi_alloc(const struct pci_dev *d, pci_irq_fn fn, void *arg, uint64_t *addr,
                   uint32_t *data) {
  (void)d;
  *addr = 0xfee00000u;
  *data = 0x41;
  return 0x41;
}
int plat_pci_intx(uint8_t bus, uint8_t dev, uint8_t fn_no, uint8_t pin, uint8_t line,
                  pci_irq_fn fn, void *arg) {
  return line;
}

static void irq(void *arg) { (void)arg; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  use_ecam = data[0] & 1;
  in = data + 1;
  in_len = size - 1;
  if (use_ecam) {
    memset(ecam, 0xff, sizeof ecam);
    for (unsigned bus = 0; bus < 2; bus++)
      for (unsigned dev = 0; dev < 32; dev++)
        for (unsigned fn = 0; fn < 8; fn++) {
          const uint8_t *p = fn_data((uint8_t)bus, (uint8_t)dev, (uint8_t)fn);
          if (p) memcpy(ecam + ((bus << 20) | (dev << 15) | (fn << 12)), p, FN_BYTES);
        }
  }
  static struct pci_dev devs[PCI_MAX_DEVICES];
  size_t n = pci_enumerate(devs, PCI_MAX_DEVICES);
  if (n > PCI_MAX_DEVICES) n = PCI_MAX_DEVICES;
  for (size_t i = 0; i < n; i++) {
    struct pci_dev *d = &devs[i];
    for (uint8_t id = 0; id < 0x14; id++)
      for (uint8_t c = pci_find_cap(d, id, 0), k = 0; c && k < 64; c = pci_find_cap(d, id, c), k++)
        (void)pci_cfg_read32(d, c);
    (void)pci_class_name(d->class_code, d->subclass);
    for (unsigned b = 0; b < 7; b++) (void)pci_bar_map(d, b);
    (void)pci_irq_setup(d, 4, irq, NULL);
  }
  for (int i = 0; i < nmaps; i++) free(maps[i]);
  nmaps = 0;
  return 0;
}
