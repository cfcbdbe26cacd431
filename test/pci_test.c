/*
 * pci_test.c: pci/pci.c over a simulated bus (the platform hooks are
 * implemented here): enumeration through a bridge and multi-function
 * devices, a bridge pointing back at its own bus, single-function devices
 * that answer on every function number; BAR sizing (32/64-bit memory,
 * prefetchable, I/O, absent) with the BARs and decoding restored after;
 * capability walks, including a looping list; MSI-X, MSI and INTx set-up
 * with the messages the platform handed out; ECAM windows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mneme/err.h"
#include "mneme/pci.h"

/* ---- the simulated bus --------------------------------------------------- */

struct fdev {
  uint8_t bus, dev, fn;
  uint8_t cfg[256];
  uint32_t bar_mask[6];   /* writable bits of each BAR (0: none) */
  uint32_t bar_ro[6];     /* its read-only type bits */
  int alias_all_fns;      /* answers on every function number */
};

static struct fdev fdevs[16];
static int nfdevs;
static int cfg_writes_while_decoding; /* BAR writes with decoding on */
static struct pci_ecam ecam_windows[2];
static size_t necam;
static uint8_t *ecam_mem;

static struct fdev *find(uint8_t bus, uint8_t dev, uint8_t fn) {
  for (int i = 0; i < nfdevs; i++)
    if (fdevs[i].bus == bus && fdevs[i].dev == dev &&
        (fdevs[i].fn == fn || fdevs[i].alias_all_fns))
      return &fdevs[i];
  return NULL;
}

static struct fdev *add(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor, uint16_t device,
                        uint8_t cls, uint8_t sub, uint8_t hdr) {
  struct fdev *f = &fdevs[nfdevs++];
  memset(f, 0, sizeof *f);
  f->bus = bus, f->dev = dev, f->fn = fn;
  memcpy(f->cfg, &vendor, 2);
  memcpy(f->cfg + 2, &device, 2);
  f->cfg[0x0b] = cls;
  f->cfg[0x0a] = sub;
  f->cfg[0x0e] = hdr;
  return f;
}

static void set32(struct fdev *f, unsigned off, uint32_t v) { memcpy(f->cfg + off, &v, 4); }
static uint32_t get32(const uint8_t *p, unsigned off) {
  uint32_t v;
  memcpy(&v, p + off, 4);
  return v;
}

static void set_bar(struct fdev *f, int i, uint32_t value, uint32_t mask) {
  set32(f, 0x10 + 4 * i, value);
  f->bar_mask[i] = mask;
  f->bar_ro[i] = value & ~mask;
}

static void add_cap(struct fdev *f, uint8_t at, uint8_t id, uint8_t next) {
  f->cfg[0x06] |= 0x10;
  if (!f->cfg[0x34]) f->cfg[0x34] = at;
  f->cfg[at] = id;
  f->cfg[at + 1] = next;
}

int plat_pci_cfg_legacy(int write, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
                        uint32_t *val) {
  assert_true(off % 4 == 0 && off < 256);
  struct fdev *f = find(bus, dev, fn);
  if (!write) {
    *val = f ? get32(f->cfg, off) : 0xffffffffu;
    return 0;
  }
  if (!f) return 0;
  if (off >= 0x10 && off < 0x28 && (off - 0x10) / 4 < 6) {
    int i = (off - 0x10) / 4;
    if (f->cfg[0x04] & 3) cfg_writes_while_decoding++;
    uint32_t m = f->bar_mask[i];
    set32(f, off, m ? ((*val & m) | f->bar_ro[i]) : 0);
    return 0;
  }
  if (off == 0x04) { /* status bits are write-one-to-clear */
    uint16_t status;
    memcpy(&status, f->cfg + 6, 2);
    status &= (uint16_t)~(*val >> 16);
    uint32_t v = (*val & 0xffff) | (uint32_t)status << 16;
    set32(f, off, v);
    return 0;
  }
  set32(f, off, *val);
  return 0;
}

size_t plat_pci_ecam(struct pci_ecam *out, size_t max) {
  size_t n = necam < max ? necam : max;
  memcpy(out, ecam_windows, n * sizeof *out);
  return n;
}

/* Device memory: the ECAM window, else a BAR (MSI-X tables live there). */
static uint8_t bar_mem[4][65536];
static uint64_t bar_mem_base[4];
static int nbar_mem;

void *plat_mmio_map(uint64_t phys, size_t size) {
  if (necam && phys == ecam_windows[0].base) return ecam_mem;
  for (int i = 0; i < nbar_mem; i++)
    if (bar_mem_base[i] == phys) return size <= sizeof bar_mem[i] ? bar_mem[i] : NULL;
  if (nbar_mem == 4 || size > sizeof bar_mem[0]) return NULL;
  bar_mem_base[nbar_mem] = phys;
  memset(bar_mem[nbar_mem], 0xee, sizeof bar_mem[0]);
  return bar_mem[nbar_mem++];
}

uint32_t plat_pio_read(uint32_t port, unsigned width) { return 0xffffffffu; }
void plat_pio_write(uint32_t port, unsigned width, uint32_t v) {}
uint64_t plat_dma_addr(const void *p) { return (uint64_t)(uintptr_t)p; }
void plat_io_barrier(void) {}

static int msi_allocs, intx_routes;
static void *last_arg;
static uint8_t intx_line;

int plat_msi_alloc(const struct pci_dev *d, pci_irq_fn fn, void *arg, uint64_t *addr,
                   uint32_t *data) {
  (void)d;
  msi_allocs++;
  last_arg = arg;
  *addr = 0xfee00000u;
  *data = 0x40 + (uint32_t)msi_allocs;
  return 0x40 + msi_allocs;
}

int plat_pci_intx(uint8_t bus, uint8_t dev, uint8_t fn_no, uint8_t pin, uint8_t line,
                  pci_irq_fn fn, void *arg) {
  intx_routes++;
  intx_line = line;
  last_arg = arg;
  return line;
}

static void irq(void *arg) { (void)arg; }

static int setup(void **state) {
  nfdevs = 0;
  necam = 0;
  nbar_mem = 0;
  msi_allocs = intx_routes = 0;
  cfg_writes_while_decoding = 0;
  /* bus 0: host bridge; a multi-function device (fn 0 and 2); a bridge to
   * bus 2; a single-function device that answers on every fn; a bridge
   * whose secondary bus is its own (0). */
  add(0, 0, 0, 0x8086, 0x29c0, 0x06, 0x00, 0);
  add(0, 1, 0, 0x8086, 0x2918, 0x06, 0x01, 0x80);
  add(0, 1, 2, 0x8086, 0x2922, 0x01, 0x06, 0);
  struct fdev *br = add(0, 3, 0, 0x1b36, 0x000c, 0x06, 0x04, 1);
  br->cfg[0x18] = 0, br->cfg[0x19] = 2, br->cfg[0x1a] = 2;
  struct fdev *one = add(0, 4, 0, 0x1234, 0x1111, 0x03, 0x00, 0);
  one->alias_all_fns = 1;
  struct fdev *loopbr = add(0, 5, 0, 0x1b36, 0x000c, 0x06, 0x04, 1);
  loopbr->cfg[0x19] = 0;
  /* bus 2: a NIC with every kind of BAR and MSI-X + MSI */
  struct fdev *nic = add(2, 0, 0, 0x1af4, 0x1041, 0x02, 0x00, 0);
  set_bar(nic, 0, 0x0000800c, 0xffffc000u);  /* 64-bit prefetchable, 16 KiB ... */
  set_bar(nic, 1, 0x000000e0, 0xffffffffu);  /* ... at 0xe000008000 */
  set_bar(nic, 2, 0x00006061, 0xffffffe0u);  /* I/O, 32 ports */
  set_bar(nic, 3, 0xc1041000, 0xfffff000u);  /* 32-bit, 4 KiB */
  nic->cfg[0x3d] = 1, nic->cfg[0x3c] = 11;
  add_cap(nic, 0x40, PCI_CAP_MSIX, 0x50);
  nic->cfg[0x42] = 2;                        /* table size 3 */
  set32(nic, 0x44, 0x00000800 | 3);          /* table in BAR3 at 0x800 */
  add_cap(nic, 0x50, PCI_CAP_MSI, 0x60);
  nic->cfg[0x52] = 0x80;                     /* 64-bit */
  add_cap(nic, 0x60, PCI_CAP_VENDOR, 0x70);
  add_cap(nic, 0x70, PCI_CAP_VENDOR, 0x00);
  return 0;
}

static struct pci_dev *find_dev(struct pci_dev *d, size_t n, uint8_t bus, uint8_t dev,
                                uint8_t fn) {
  for (size_t i = 0; i < n; i++)
    if (d[i].bus == bus && d[i].dev == dev && d[i].fn == fn) return &d[i];
  return NULL;
}

static void enumerates_through_bridges(void **state) {
  struct pci_dev d[16];
  size_t n = pci_enumerate(d, 16);
  assert_int_equal(n, 7); /* the aliased device once, fn 1 absent, bus 0 not rescanned */
  assert_non_null(find_dev(d, n, 0, 1, 2));
  assert_null(find_dev(d, n, 0, 4, 1));
  struct pci_dev *nic = find_dev(d, n, 2, 0, 0);
  assert_non_null(nic);
  assert_int_equal(nic->vendor, 0x1af4);
  assert_int_equal(nic->device, 0x1041);
  assert_int_equal(nic->class_code, 0x02);
  assert_null(nic->cfg); /* no ECAM: the legacy mechanism */
  assert_string_equal(pci_class_name(nic->class_code, nic->subclass), "ethernet");
  assert_string_equal(pci_class_name(0x06, 0x04), "pci-bridge");
  /* only max are stored, all are counted */
  assert_int_equal(pci_enumerate(d, 2), 7);
}

static void sizes_bars(void **state) {
  struct pci_dev d[16];
  size_t n = pci_enumerate(d, 16);
  struct pci_dev *nic = find_dev(d, n, 2, 0, 0);
  assert_int_equal(nic->bar[0].kind, PCI_BAR_MEM64);
  assert_int_equal(nic->bar[0].prefetch, 1);
  assert_true(nic->bar[0].base == 0xe000008000ull);
  assert_true(nic->bar[0].size == 16384);
  assert_int_equal(nic->bar[1].kind, PCI_BAR_NONE); /* upper half */
  assert_int_equal(nic->bar[2].kind, PCI_BAR_IO);
  assert_true(nic->bar[2].base == 0x6060 && nic->bar[2].size == 32);
  assert_int_equal(nic->bar[3].kind, PCI_BAR_MEM32);
  assert_true(nic->bar[3].base == 0xc1041000u && nic->bar[3].size == 4096);
  assert_int_equal(nic->bar[4].kind, PCI_BAR_NONE);
  assert_int_equal(cfg_writes_while_decoding, 0);
  /* the BARs hold their addresses again */
  struct fdev *f = find(2, 0, 0);
  assert_int_equal(get32(f->cfg, 0x10), 0x0000800c);
  assert_int_equal(get32(f->cfg, 0x14), 0x000000e0);
  assert_int_equal(get32(f->cfg, 0x18), 0x00006061);
}

static void walks_capabilities(void **state) {
  struct pci_dev d[16];
  size_t n = pci_enumerate(d, 16);
  struct pci_dev *nic = find_dev(d, n, 2, 0, 0);
  assert_int_equal(nic->msix_cap, 0x40);
  assert_int_equal(nic->msi_cap, 0x50);
  assert_int_equal(nic->pcie_cap, 0);
  uint8_t c = pci_find_cap(nic, PCI_CAP_VENDOR, 0);
  assert_int_equal(c, 0x60);
  assert_int_equal(pci_find_cap(nic, PCI_CAP_VENDOR, c), 0x70);
  assert_int_equal(pci_find_cap(nic, PCI_CAP_VENDOR, 0x70), 0);
  /* a list that loops back on itself ends */
  struct fdev *f = find(2, 0, 0);
  f->cfg[0x71] = 0x40;
  assert_int_equal(pci_find_cap(nic, 0x33, 0), 0);
  /* a pointer into the header ends the walk */
  f->cfg[0x71] = 0x08;
  assert_int_equal(pci_find_cap(nic, 0x33, 0), 0);
  /* no capability list bit: none */
  f->cfg[0x06] = 0;
  assert_int_equal(pci_find_cap(nic, PCI_CAP_MSIX, 0), 0);
}

static void msix_then_msi_then_intx(void **state) {
  struct pci_dev d[16];
  size_t n = pci_enumerate(d, 16);
  struct pci_dev *nic = find_dev(d, n, 2, 0, 0);
  struct fdev *f = find(2, 0, 0);
  int arg;
  assert_int_equal(pci_irq_setup(nic, 8, irq, &arg), PCI_IRQ_MSIX);
  assert_int_equal(nic->irq_vectors, 3); /* the table has 3 entries */
  assert_ptr_equal(last_arg, &arg);
  uint16_t ctrl;
  memcpy(&ctrl, f->cfg + 0x42, 2);
  assert_int_equal(ctrl & 0xc000, 0x8000); /* enabled, not function-masked */
  assert_true(f->cfg[0x05] & 0x04);        /* INTx disabled */
  uint8_t *tbl = (uint8_t *)nic->bar[3].va + 0x800;
  for (int i = 0; i < 3; i++) {
    assert_int_equal(get32(tbl, 16 * i), 0xfee00000u);
    assert_int_equal(get32(tbl, 16 * i + 4), 0);
    assert_int_equal(get32(tbl, 16 * i + 8), 0x41);
    assert_int_equal(get32(tbl, 16 * i + 12), 0); /* unmasked */
  }
  assert_int_equal(get32(tbl, 48), 0xeeeeeeeeu); /* nothing past the table */

  /* a table outside its BAR: MSI instead */
  nic->msix_cap = 0x40;
  set32(f, 0x44, 0x00000ff8 | 3);
  nic->irq_mode = 0;
  assert_int_equal(pci_irq_setup(nic, 1, irq, &arg), PCI_IRQ_MSI);
  assert_int_equal(get32(f->cfg, 0x54), 0xfee00000u);
  assert_int_equal(get32(f->cfg, 0x58), 0);
  assert_int_equal(f->cfg[0x5c], 0x42);
  assert_int_equal(f->cfg[0x52] & 0x71, 1); /* one message, enabled */

  /* neither: INTx on the firmware's line */
  nic->msix_cap = nic->msi_cap = 0;
  assert_int_equal(pci_irq_setup(nic, 1, irq, &arg), PCI_IRQ_INTX);
  assert_int_equal(intx_line, 11);
  assert_false(f->cfg[0x05] & 0x04); /* INTx enabled again */
  nic->irq_pin = 0;
  assert_int_equal(pci_irq_setup(nic, 1, irq, &arg), MN_ENOTSUP);
}

static void enable_turns_on_decoding_and_dma(void **state) {
  struct pci_dev d[16];
  size_t n = pci_enumerate(d, 16);
  struct pci_dev *nic = find_dev(d, n, 2, 0, 0);
  struct fdev *f = find(2, 0, 0);
  f->cfg[0x06] = 0x10, f->cfg[0x07] = 0xf9; /* error bits set (write 1 to clear) */
  pci_enable(nic);
  assert_int_equal(f->cfg[0x04] & 7, 7);
  assert_int_equal(f->cfg[0x07], 0xf9); /* the status register was not written */
  assert_null(pci_bar_map(nic, 2)); /* I/O */
  assert_null(pci_bar_map(nic, 1)); /* an upper half */
  assert_null(pci_bar_map(nic, 9));
  assert_non_null(pci_bar_map(nic, 3));
}

/* Configuration space reads through an ECAM window. */
static void reads_through_ecam(void **state) {
  static uint8_t mem[2 << 20];
  memset(mem, 0xff, sizeof mem);
  ecam_mem = mem;
  ecam_windows[0] = (struct pci_ecam){0xb0000000u, 0, 0, 1};
  necam = 1;
  /* bus 0 dev 2 fn 0: a device without BARs; everything else absent */
  uint8_t *c = mem + (2 << 15);
  memset(c, 0, 4096);
  c[0] = 0xf4, c[1] = 0x1a, c[2] = 0x42, c[3] = 0x10; /* 1af4:1042 */
  c[0x0b] = 0x01;
  c[0x06] = 0x10;
  c[0x34] = 0x48;
  c[0x48] = PCI_CAP_PCIE;
  struct pci_dev d[4];
  size_t n = pci_enumerate(d, 4);
  assert_int_equal(n, 1);
  assert_ptr_equal(d[0].cfg, c);
  assert_int_equal(d[0].device, 0x1042);
  assert_int_equal(d[0].pcie_cap, 0x48);
  assert_int_equal(pci_cfg_read32(&d[0], 4096), 0xffffffffu); /* out of range */
  assert_int_equal(pci_cfg_read16(&d[0], 3), 0xffff);         /* misaligned */
  pci_cfg_write16(&d[0], 0x04, 0x0006);
  assert_int_equal(c[4], 6);
  necam = 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(enumerates_through_bridges, setup),
      cmocka_unit_test_setup(sizes_bars, setup),
      cmocka_unit_test_setup(walks_capabilities, setup),
      cmocka_unit_test_setup(msix_then_msi_then_intx, setup),
      cmocka_unit_test_setup(enable_turns_on_decoding_and_dma, setup),
      cmocka_unit_test_setup(reads_through_ecam, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
