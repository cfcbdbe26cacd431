/*
 * pci.c: configuration space access, enumeration, BARs, capabilities and
 * interrupt set-up (include/mneme/pci.h). Needs no kernel: everything
 * outside the CPU goes through the platform hooks, so the host tests run
 * it over a simulated bus (test/pci_test.c) and the fuzzer over random
 * configuration space (test/pci_fuzz.c).
 *
 * Interface: pci_cfg_read8/16/32, pci_cfg_write16/32, pci_find_cap,
 * pci_enable, pci_bar_map, pci_irq_setup, pci_enumerate, pci_class_name.
 */
#include <string.h>

#include "mneme/err.h"
#include "mneme/pci.h"

#define MAX_ECAM 4
#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CMD_IO 0x1
#define CMD_MEM 0x2
#define CMD_MASTER 0x4
#define CMD_INTX_OFF 0x400

static struct {
  struct pci_ecam w;
  volatile uint8_t *va;
} ecam[MAX_ECAM];
static size_t necam;

/* ---- configuration space ------------------------------------------------ */

static uint16_t cfg_limit(const struct pci_dev *d) { return d->cfg ? 4096 : 256; }

static uint32_t legacy_read(const struct pci_dev *d, uint16_t off) {
  uint32_t v = 0xffffffffu;
  if (plat_pci_cfg_legacy(0, d->bus, d->dev, d->fn, off & ~3u, &v)) return 0xffffffffu;
  return v;
}

uint32_t pci_cfg_read32(const struct pci_dev *d, uint16_t off) {
  if ((off & 3) || off >= cfg_limit(d)) return 0xffffffffu;
  if (d->cfg) return *(volatile uint32_t *)(d->cfg + off);
  return legacy_read(d, off);
}

uint16_t pci_cfg_read16(const struct pci_dev *d, uint16_t off) {
  if ((off & 1) || off >= cfg_limit(d)) return 0xffff;
  if (d->cfg) return *(volatile uint16_t *)(d->cfg + off);
  return (uint16_t)(legacy_read(d, off) >> (8 * (off & 2)));
}

uint8_t pci_cfg_read8(const struct pci_dev *d, uint16_t off) {
  if (off >= cfg_limit(d)) return 0xff;
  if (d->cfg) return d->cfg[off];
  return (uint8_t)(legacy_read(d, off) >> (8 * (off & 3)));
}

void pci_cfg_write32(const struct pci_dev *d, uint16_t off, uint32_t v) {
  if ((off & 3) || off >= cfg_limit(d)) return;
  if (d->cfg) *(volatile uint32_t *)(d->cfg + off) = v;
  else plat_pci_cfg_legacy(1, d->bus, d->dev, d->fn, off, &v);
}

void pci_cfg_write16(const struct pci_dev *d, uint16_t off, uint16_t v) {
  if ((off & 1) || off >= cfg_limit(d)) return;
  if (d->cfg) {
    *(volatile uint16_t *)(d->cfg + off) = v;
    return;
  }
  uint32_t w = legacy_read(d, off);
  unsigned sh = 8 * (off & 2);
  /* The status register's error bits are write-one-to-clear: writing
   * the command register back must not clear them by accident. */
  if ((off & ~3u) == CFG_COMMAND) w &= 0xffff;
  w = (w & ~(0xffffu << sh)) | (uint32_t)v << sh;
  plat_pci_cfg_legacy(1, d->bus, d->dev, d->fn, off & ~3u, &w);
}

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t start) {
  if (!(pci_cfg_read16(d, CFG_STATUS) & 0x10)) return 0;
  uint8_t head = (d->header_type & 0x7f) == 2 ? 0x14 : 0x34;
  uint8_t p = start ? pci_cfg_read8(d, start + 1) : pci_cfg_read8(d, head);
  for (int n = 0; n < 48; n++) { /* at most 48 capabilities fit in 256 bytes */
    p &= 0xfc;
    if (p < 0x40) return 0;
    if (pci_cfg_read8(d, p) == id) return p;
    p = pci_cfg_read8(d, p + 1);
  }
  return 0;
}

/* ---- enumeration --------------------------------------------------------- */

static void size_bars(struct pci_dev *d) {
  unsigned nbars = (d->header_type & 0x7f) == 0 ? 6 : (d->header_type & 0x7f) == 1 ? 2 : 0;
  if (!nbars) return;
  uint16_t cmd = pci_cfg_read16(d, CFG_COMMAND);
  pci_cfg_write16(d, CFG_COMMAND, cmd & ~(CMD_IO | CMD_MEM)); /* no decoding while sizing */
  for (unsigned i = 0; i < nbars; i++) {
    uint16_t off = (uint16_t)(0x10 + 4 * i);
    uint32_t lo = pci_cfg_read32(d, off);
    pci_cfg_write32(d, off, 0xffffffffu);
    uint32_t lo_sz = pci_cfg_read32(d, off);
    pci_cfg_write32(d, off, lo);
    struct pci_bar *b = &d->bar[i];
    if (lo & 1) {
      uint32_t m = lo_sz & ~3u;
      if (!m) continue;
      if (!(m & 0xffff0000u)) m |= 0xffff0000u; /* 16-bit I/O decoder */
      b->kind = PCI_BAR_IO;
      b->base = lo & ~3u;
      b->size = (uint32_t)(~m + 1);
      continue;
    }
    int is64 = ((lo >> 1) & 3) == 2 && i + 1 < nbars;
    uint64_t mask = 0xffffffff00000000ull | (lo_sz & ~0xfu);
    uint64_t base = lo & ~0xfu;
    if (is64) {
      uint32_t hi = pci_cfg_read32(d, off + 4);
      pci_cfg_write32(d, off + 4, 0xffffffffu);
      uint32_t hi_sz = pci_cfg_read32(d, off + 4);
      pci_cfg_write32(d, off + 4, hi);
      mask = (uint64_t)hi_sz << 32 | (lo_sz & ~0xfu);
      base |= (uint64_t)hi << 32;
    }
    if ((uint32_t)mask == 0 && (!is64 || (mask >> 32) == 0)) {
      if (is64) i++;
      continue;
    }
    b->kind = is64 ? PCI_BAR_MEM64 : PCI_BAR_MEM32;
    b->prefetch = (lo >> 3) & 1;
    b->base = base;
    b->size = ~mask + 1;
    if (is64) i++; /* the upper half */
  }
  pci_cfg_write16(d, CFG_COMMAND, cmd);
}

static void read_function(struct pci_dev *d) {
  uint32_t id = pci_cfg_read32(d, 0x00);
  d->vendor = (uint16_t)id;
  d->device = (uint16_t)(id >> 16);
  uint32_t cls = pci_cfg_read32(d, 0x08);
  d->revision = (uint8_t)cls;
  d->prog_if = (uint8_t)(cls >> 8);
  d->subclass = (uint8_t)(cls >> 16);
  d->class_code = (uint8_t)(cls >> 24);
  d->header_type = pci_cfg_read8(d, 0x0e);
  if ((d->header_type & 0x7f) == 0) {
    uint32_t ss = pci_cfg_read32(d, 0x2c);
    d->subsys_vendor = (uint16_t)ss;
    d->subsys_device = (uint16_t)(ss >> 16);
  }
  d->irq_line = pci_cfg_read8(d, 0x3c);
  d->irq_pin = pci_cfg_read8(d, 0x3d);
  if (d->irq_pin > 4) d->irq_pin = 0;
  d->msi_cap = pci_find_cap(d, PCI_CAP_MSI, 0);
  d->msix_cap = pci_find_cap(d, PCI_CAP_MSIX, 0);
  d->pcie_cap = pci_find_cap(d, PCI_CAP_PCIE, 0);
  size_bars(d);
}

struct scan {
  struct pci_dev *out;
  size_t max, n;
  uint8_t seen[256 / 8];   /* buses scanned in this segment */
};

static void locate(struct pci_dev *d, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn) {
  memset(d, 0, sizeof *d);
  d->segment = seg;
  d->bus = bus;
  d->dev = dev;
  d->fn = fn;
  for (size_t i = 0; i < necam; i++)
    if (ecam[i].w.segment == seg && bus >= ecam[i].w.bus_start && bus <= ecam[i].w.bus_end) {
      d->cfg = ecam[i].va + ((size_t)(bus - ecam[i].w.bus_start) << 20) +
               ((size_t)dev << 15) + ((size_t)fn << 12);
      break;
    }
}

static void scan_bus(struct scan *s, uint16_t seg, uint8_t bus) {
  if (s->seen[bus / 8] & (1u << (bus % 8))) return;
  s->seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
  for (uint8_t dev = 0; dev < 32; dev++) {
    for (uint8_t fn = 0; fn < 8; fn++) {
      struct pci_dev d;
      locate(&d, seg, bus, dev, fn);
      if (!d.cfg && seg != 0) return;
      uint16_t vendor = pci_cfg_read16(&d, 0x00);
      if (vendor == 0xffff || vendor == 0) {
        if (fn == 0) break;
        continue;
      }
      read_function(&d);
      if (s->n < s->max) s->out[s->n] = d;
      s->n++;
      if ((d.header_type & 0x7f) == 1) { /* PCI-to-PCI bridge */
        uint8_t sec = pci_cfg_read8(&d, 0x19);
        if (sec != 0) scan_bus(s, seg, sec);
      }
      if (fn == 0 && !(d.header_type & 0x80)) break; /* single function */
    }
  }
}

size_t pci_enumerate(struct pci_dev *out, size_t max) {
  struct pci_ecam w[MAX_ECAM];
  size_t nw = plat_pci_ecam(w, MAX_ECAM);
  if (nw > MAX_ECAM) nw = MAX_ECAM;
  necam = 0;
  for (size_t i = 0; i < nw; i++) {
    if (w[i].bus_end < w[i].bus_start) continue;
    size_t size = ((size_t)(w[i].bus_end - w[i].bus_start) + 1) << 20;
    volatile uint8_t *va = plat_mmio_map(w[i].base, size);
    if (!va) continue;
    ecam[necam].w = w[i];
    ecam[necam].va = va;
    necam++;
  }
  struct scan s = {out, max, 0, {0}};
  if (!necam) {
    scan_bus(&s, 0, 0);
    return s.n;
  }
  for (size_t i = 0; i < necam; i++) {
    if (i > 0 && ecam[i].w.segment != ecam[i - 1].w.segment) memset(s.seen, 0, sizeof s.seen);
    scan_bus(&s, ecam[i].w.segment, ecam[i].w.bus_start);
  }
  return s.n;
}

/* ---- using a device ------------------------------------------------------- */

void pci_enable(struct pci_dev *d) {
  uint16_t cmd = pci_cfg_read16(d, CFG_COMMAND);
  cmd |= CMD_MASTER;
  for (int i = 0; i < 6; i++) {
    if (d->bar[i].kind == PCI_BAR_IO) cmd |= CMD_IO;
    if (d->bar[i].kind == PCI_BAR_MEM32 || d->bar[i].kind == PCI_BAR_MEM64) cmd |= CMD_MEM;
  }
  pci_cfg_write16(d, CFG_COMMAND, cmd);
}

void *pci_bar_map(struct pci_dev *d, unsigned i) {
  if (i >= 6) return NULL;
  struct pci_bar *b = &d->bar[i];
  if (b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) return NULL;
  if (!b->base || !b->size || b->size > (1ull << 40)) return NULL;
  if (!b->va) b->va = plat_mmio_map(b->base, (size_t)b->size);
  return b->va;
}

static int setup_msix(struct pci_dev *d, unsigned vectors, pci_irq_fn fn, void *arg) {
  uint8_t cap = d->msix_cap;
  uint16_t ctrl = pci_cfg_read16(d, cap + 2);
  unsigned tsize = (ctrl & 0x7ffu) + 1;
  uint32_t tbl = pci_cfg_read32(d, cap + 4);
  unsigned n = vectors < tsize ? vectors : tsize;
  if (!n) n = 1;
  uint64_t off = tbl & ~7u;
  uint8_t *va = pci_bar_map(d, tbl & 7);
  if (!va || off + 16ull * n > d->bar[tbl & 7].size) return MN_ENOTSUP;
  uint64_t addr;
  uint32_t data;
  int id = plat_msi_alloc(d, fn, arg, &addr, &data);
  if (id < 0) return id;
  pci_cfg_write16(d, CFG_COMMAND, pci_cfg_read16(d, CFG_COMMAND) | CMD_INTX_OFF);
  pci_cfg_write16(d, cap + 2, ctrl | 0xc000); /* enabled, all masked */
  for (unsigned i = 0; i < n; i++) {
    volatile uint32_t *e = (volatile uint32_t *)(va + off + 16 * i);
    e[0] = (uint32_t)addr;
    e[1] = (uint32_t)(addr >> 32);
    e[2] = data;
    e[3] = 0; /* unmasked */
  }
  plat_io_barrier();
  pci_cfg_write16(d, cap + 2, (ctrl | 0x8000) & ~0x4000);
  d->irq_vectors = (uint16_t)n;
  return PCI_IRQ_MSIX;
}

static int setup_msi(struct pci_dev *d, pci_irq_fn fn, void *arg) {
  uint8_t cap = d->msi_cap;
  uint16_t ctrl = pci_cfg_read16(d, cap + 2);
  uint64_t addr;
  uint32_t data;
  int id = plat_msi_alloc(d, fn, arg, &addr, &data);
  if (id < 0) return id;
  int is64 = (ctrl & 0x80) != 0;
  if (!is64 && (addr >> 32)) return MN_ENOTSUP;
  pci_cfg_write32(d, cap + 4, (uint32_t)addr);
  uint8_t doff = is64 ? 12 : 8;
  if (is64) pci_cfg_write32(d, cap + 8, (uint32_t)(addr >> 32));
  pci_cfg_write16(d, cap + doff, (uint16_t)data);
  if (ctrl & 0x100) pci_cfg_write32(d, cap + (is64 ? 0x10 : 0x0c), 0); /* unmask */
  pci_cfg_write16(d, CFG_COMMAND, pci_cfg_read16(d, CFG_COMMAND) | CMD_INTX_OFF);
  pci_cfg_write16(d, cap + 2, (uint16_t)((ctrl & ~0x70u) | 1)); /* one message, on */
  d->irq_vectors = 1;
  return PCI_IRQ_MSI;
}

int pci_irq_setup(struct pci_dev *d, unsigned vectors, pci_irq_fn fn, void *arg) {
  int r = MN_ENOTSUP;
  if (d->msix_cap) r = setup_msix(d, vectors, fn, arg);
  if (r < 0 && d->msi_cap) r = setup_msi(d, fn, arg);
  if (r < 0 && d->irq_pin) {
    r = plat_pci_intx(d->bus, d->dev, d->fn, d->irq_pin, d->irq_line, fn, arg);
    if (r >= 0) {
      pci_cfg_write16(d, CFG_COMMAND, pci_cfg_read16(d, CFG_COMMAND) & ~CMD_INTX_OFF);
      d->irq_vectors = 1;
      r = PCI_IRQ_INTX;
    }
  }
  if (r > 0) d->irq_mode = (uint8_t)r;
  return r;
}

const char *pci_class_name(uint8_t c, uint8_t sub) {
  switch (c) {
  case 0x01: return sub == 0x06 ? "sata" : sub == 0x08 ? "nvme" : "storage";
  case 0x02: return sub == 0x00 ? "ethernet" : "network";
  case 0x03: return "display";
  case 0x04: return "multimedia";
  case 0x05: return "memory";
  case 0x06:
    return sub == 0x00 ? "host-bridge" : sub == 0x01 ? "isa-bridge" : sub == 0x04 ? "pci-bridge"
                                                                    : "bridge";
  case 0x07: return "comm";
  case 0x08: return "system";
  case 0x09: return "input";
  case 0x0c: return sub == 0x03 ? "usb" : sub == 0x05 ? "smbus" : "serial-bus";
  case 0x00: return sub == 0x00 ? "unclassified" : "legacy";
  case 0xff: return "vendor";
  default: return "other";
  }
}
