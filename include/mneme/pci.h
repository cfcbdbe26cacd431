/*
 * pci.h: PCI and PCI Express, portable (pci/pci.c; docs/pci.md).
 *
 * Enumeration (ECAM where the platform found it, else the platform's
 * legacy configuration mechanism), BARs (32/64-bit memory, I/O, sizes),
 * capability lists, interrupts (MSI-X, else MSI, else INTx), drivers
 * bound by match/probe, and the `pci` service that lists the devices.
 *
 * The bus code reaches the hardware only through the platform hooks
 * below (plat_pci_*, plat_mmio_map, ...). x86_64 implements them in
 * platform/x86_64/pci_plat.c, aarch64 in platform/aarch64/pci_plat.c.
 */
#ifndef MNEME_PCI_H
#define MNEME_PCI_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/registry.h"

/* ---- platform hooks: every platform with PCI implements these ---------- */

/* One ECAM window (memory-mapped configuration space, 4 KiB a function). */
struct pci_ecam {
  uint64_t base;          /* physical address of bus bus_start's space */
  uint16_t segment;
  uint8_t bus_start, bus_end;
};

/* Fills up to max ECAM windows (x86_64: the ACPI MCFG); returns how many
 * were found (0: use plat_pci_cfg_legacy). */
size_t plat_pci_ecam(struct pci_ecam *out, size_t max);

/*
 * The platform's other configuration mechanism (x86: ports 0xcf8/0xcfc),
 * segment 0 only, aligned 32-bit accesses at off < 256. write 0 reads
 * into *val, 1 writes *val. Returns 0 or MN_ENOTSUP (no such mechanism).
 */
int plat_pci_cfg_legacy(int write, uint8_t bus, uint8_t dev, uint8_t fn,
                        uint16_t off, uint32_t *val);

/* Maps size bytes of device memory at phys uncached; returns the address
 * to use, or NULL (out of page-table memory, or beyond the CPU). */
void *plat_mmio_map(uint64_t phys, size_t size);

/* Port I/O (I/O BARs), width 1, 2 or 4 bytes. A platform without port
 * I/O reads all ones and ignores writes. */
uint32_t plat_pio_read(uint32_t port, unsigned width);
void plat_pio_write(uint32_t port, unsigned width, uint32_t v);

/* The address a device uses to reach kernel memory at p (DMA). */
uint64_t plat_dma_addr(const void *p);

/* Orders this CPU's memory and MMIO accesses against a device's view:
 * everything before is visible to devices before anything after. */
void plat_io_barrier(void);

typedef void (*pci_irq_fn)(void *arg);   /* runs in interrupt context */

struct pci_dev;

/*
 * Allocates an interrupt for a message-signalled source (MSI or MSI-X)
 * of device d calling fn(arg) and returns the message to program: *addr
 * and *data. d names the requester (segment, bus, device, function),
 * which some interrupt controllers must know (the GICv3 ITS translates
 * per requester); others ignore it. Returns an id >= 0, or MN_ENOSPC
 * (no vector left), MN_ENOTSUP.
 */
int plat_msi_alloc(const struct pci_dev *d, pci_irq_fn fn, void *arg, uint64_t *addr,
                   uint32_t *data);

/*
 * Routes the legacy interrupt (INTx, level-triggered, maybe shared) of
 * function bus:dev.fn, whose interrupt pin is pin (1 = INTA) and whose
 * firmware-written line register is line, to fn(arg). fn must make the
 * device deassert the line (read its status). Returns the interrupt
 * number used (>= 0), MN_ENOSPC or MN_ENOTSUP.
 */
int plat_pci_intx(uint8_t bus, uint8_t dev, uint8_t fn_no, uint8_t pin,
                  uint8_t line, pci_irq_fn fn, void *arg);

/* ---- devices ------------------------------------------------------------ */

enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_MEM32, PCI_BAR_MEM64, PCI_BAR_IO };
enum pci_irq_mode { PCI_IRQ_NONE, PCI_IRQ_MSIX, PCI_IRQ_MSI, PCI_IRQ_INTX };

struct pci_bar {
  uint64_t base;          /* bus address (memory) or port (I/O) */
  uint64_t size;
  uint8_t kind;           /* enum pci_bar_kind; a 64-bit BAR's upper half is NONE */
  uint8_t prefetch;
  void *va;               /* mapped by pci_bar_map, else NULL */
};

#define PCI_NAME_MAX 16

struct pci_dev {
  uint16_t segment;
  uint8_t bus, dev, fn;
  uint16_t vendor, device, subsys_vendor, subsys_device;
  uint8_t class_code, subclass, prog_if, revision, header_type;
  uint8_t irq_pin, irq_line;
  uint8_t msi_cap, msix_cap, pcie_cap;   /* capability offsets, 0: none */
  struct pci_bar bar[6];
  volatile uint8_t *cfg;  /* ECAM window of this function, NULL: legacy */
  uint8_t irq_mode;       /* enum pci_irq_mode, set by pci_irq_setup */
  uint16_t irq_vectors;
  char driver[PCI_NAME_MAX];   /* bound driver, "" if none */
  void *drvdata;
};

/* Configuration space of d (off < 4096 with ECAM, < 256 otherwise;
 * out of range or misaligned reads give all ones, writes are ignored). */
uint8_t pci_cfg_read8(const struct pci_dev *d, uint16_t off);
uint16_t pci_cfg_read16(const struct pci_dev *d, uint16_t off);
uint32_t pci_cfg_read32(const struct pci_dev *d, uint16_t off);
void pci_cfg_write16(const struct pci_dev *d, uint16_t off, uint16_t v);
void pci_cfg_write32(const struct pci_dev *d, uint16_t off, uint32_t v);

/* The offset of the first (start 0) or next capability with id after
 * start, or 0. Loops and pointers outside the space end the walk. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t start);

#define PCI_CAP_MSI 0x05
#define PCI_CAP_VENDOR 0x09
#define PCI_CAP_PCIE 0x10
#define PCI_CAP_MSIX 0x11

/* Turns on memory and I/O decoding and bus mastering (DMA). */
void pci_enable(struct pci_dev *d);

/* Maps memory BAR i (NULL if it is not a memory BAR or cannot be mapped). */
void *pci_bar_map(struct pci_dev *d, unsigned i);

/*
 * Sets up d's interrupt: MSI-X (vectors table entries, all calling fn),
 * else MSI (one message), else INTx through the platform. fn only wakes
 * tasks; for INTx it must also make the device drop the line. Returns
 * the mode (enum pci_irq_mode > 0) or MN_ENOTSUP / MN_ENOSPC.
 */
int pci_irq_setup(struct pci_dev *d, unsigned vectors, pci_irq_fn fn, void *arg);

/* ---- enumeration and drivers -------------------------------------------- */

struct pci_driver {
  const char *name;
  /* 1 if this driver drives d */
  int (*match)(const struct pci_dev *d);
  /* Takes d: 0, or an MN_E* code (the device stays unbound). May wait. */
  int (*probe)(struct pci_dev *d);
};

#define PCI_MAX_DEVICES 64

/* Finds every function on every bus reachable from the ECAM windows'
 * first buses (or bus 0), following bridges. Fills up to max devices;
 * returns how many were found (which may exceed max). No kernel needed:
 * the host tests run it over a simulated configuration space. */
size_t pci_enumerate(struct pci_dev *out, size_t max);

/* A short name for a class code: "ethernet", "storage", "bridge", ... */
const char *pci_class_name(uint8_t class_code, uint8_t subclass);

/*
 * Enumerates, binds the first matching driver to each device (probing
 * in the calling task), and registers the pci service. Returns 0 or an
 * MN_E* code (MN_EEXIST: already started).
 */
int pci_start(const struct pci_driver *const *drivers, size_t ndrivers);

/* ---- the pci service (kernel-only) --------------------------------------- */

#define PCI_UUID UUID_INIT(0x70636962, 0x7573, 0x4e11, 0xa3c5, 0x0d15c0000001ull)

enum pci_req_kind { PCI_DEVICE = 0 };   /* resp.dev = device index */

struct pci_req {
  uint8_t kind;
  uint32_t index;
};

struct pci_resp {
  struct pci_dev dev;     /* a copy */
  uint32_t count;         /* devices found */
};

enum pci_err_kind { PCI_NO_SUCH_DEVICE = 0 };

struct pci_err {
  uint8_t kind;
};

#define PCI_TYPE SVC_TYPE(struct pci_req, struct pci_resp, struct pci_err, struct svc_none)

/*
 * Prints the devices through the pci service, one line each
 * ("00:02.0 1af4:1041 ethernet  BAR4 mem64 0x800000000 16K  msix  virtio-net"),
 * with out(arg, text, len). Returns 0 or the connect/call error.
 */
int pci_print(void (*out)(void *arg, const char *s, size_t n), void *arg);

#endif
