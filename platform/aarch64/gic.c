/*
 * gic.c: the GIC (see gic.h). The MADT gives the distributor (GICD
 * entry: base and version), the CPU interface (GICC entry: the v2
 * interface base, or this CPU's redistributor) and the redistributor
 * discovery ranges (GICR entries). Version 3 uses the ICC system
 * registers with affinity routing; version 2 the memory-mapped CPU
 * interface. Interrupts are level or edge as the firmware configured
 * them; all are group 1 (v3) or group 0 (v2, no security extensions)
 * at one priority, so they never preempt each other.
 *
 * Interface: gic_init, gic_version, gic_enable, gic_dispatch,
 * gic_dist_base, gic_cpu_base.
 */
#include "gic.h"

#include <string.h>

#include "a64.h"
#include "acpi.h"
#include "boot.h"
#include "mneme/err.h"
#include "mneme/platform.h"

/* Distributor registers (both versions). */
#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ICENABLER 0x0180
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR 0x0c00
#define GICD_ITARGETSR 0x0800
#define GICD_IROUTER 0x6000
#define GICD_PIDR2 0xffe8
/* Redistributor (v3): RD frame, then the SGI frame 64 KiB above. */
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_SGI 0x10000
/* CPU interface (v2). */
#define GICC_CTLR 0x00
#define GICC_PMR 0x04
#define GICC_BPR 0x08
#define GICC_IAR 0x0c
#define GICC_EOIR 0x10

#define PRIO 0xa0

static int version;
static uintptr_t gicd, gicc, gicr;
static uintptr_t redist_base; /* the redistributor discovery range */
static uint64_t redist_size;
struct handler {
  void (*fn)(void *);
  void *arg;
};
static struct handler handlers[GIC_MAX_IRQ];
static struct handler lpi_handlers[GIC_MAX_LPI];

/* Message-signalled interrupts: a GICv2m frame (SPIs set by a write) or
 * a GICv3 ITS (LPIs translated from a requester's event). */
static uintptr_t v2m;            /* GICv2m frame */
static unsigned v2m_spi, v2m_nspi, v2m_used;
static uintptr_t its;            /* ITS control frame */
static uint8_t *lpi_prop;        /* LPI configuration table (one byte per LPI) */
static uint64_t *its_cmdq;       /* command queue, one page */
static unsigned its_cmd_wr;      /* next command slot */
static unsigned its_itt_entry;   /* ITT entry size */
static uint64_t its_rdbase;      /* MAPC's target: address >> 16 or processor number */
static unsigned lpi_used;
#define ITS_DEVICES 64           /* requesters with an ITT */
static struct its_dev {
  uint32_t id;
  unsigned events;
} its_devs[ITS_DEVICES];
static unsigned its_ndevs;

static uint64_t rd64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static uint32_t rd32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

static uint64_t mmio_read64(uintptr_t a) {
  uint64_t v;
  __asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
  return v;
}

int gic_version(void) { return version; }
uintptr_t gic_dist_base(void) { return gicd; }
uintptr_t gic_cpu_base(void) { return version == 3 ? gicr : gicc; }

/* Affinity of this CPU as GICR_TYPER[63:32] and GICD_IROUTER hold it. */
static uint64_t my_affinity(void) {
  uint64_t m = SYSREG_READ(mpidr_el1);
  return (m & 0xffffff) | ((m >> 32) & 0xff) << 24;
}

/* Finds this CPU's redistributor in a discovery range. */
static uintptr_t find_redist(uintptr_t base, uint64_t len) {
  uint64_t aff = my_affinity();
  for (uintptr_t r = base; !len || r < base + len;) {
    uint64_t typer = mmio_read64(r + GICR_TYPER);
    if ((typer >> 32) == aff) return r;
    if (typer & (1u << 4)) break;                  /* Last */
    r += (typer & (1u << 1)) ? 0x40000 : 0x20000;  /* VLPIS: 4 frames */
  }
  return 0;
}

static void call_handler(void *arg) { ((void (*)(void))arg)(); }

static void wait_rwp(uintptr_t reg) {
  for (int i = 0; i < 1000000 && (mmio_read32(reg) & (1u << 31)); i++) {
  }
}

static void init_v3(void) {
  mmio_write32(gicd + GICD_CTLR, 0);
  wait_rwp(gicd + GICD_CTLR);
  /* ARE (affinity routing) and both groups' enables: one value serves
   * the single-security and the non-secure views. */
  mmio_write32(gicd + GICD_CTLR, (1u << 4) | (1u << 1) | 1u);
  wait_rwp(gicd + GICD_CTLR);
  /* Wake the redistributor. */
  uint32_t w = mmio_read32(gicr + GICR_WAKER);
  mmio_write32(gicr + GICR_WAKER, w & ~(1u << 1));
  for (int i = 0; i < 1000000 && (mmio_read32(gicr + GICR_WAKER) & (1u << 2)); i++) {
  }
  uintptr_t sgi = gicr + GICR_SGI;
  mmio_write32(sgi + GICD_ICENABLER, 0xffffffffu);
  mmio_write32(sgi + GICD_IGROUPR, 0xffffffffu);
  for (unsigned i = 0; i < 32; i += 4)
    mmio_write32(sgi + GICD_IPRIORITYR + i, PRIO * 0x01010101u);
  /* The CPU interface through system registers. */
  uint64_t sre;
  __asm__ volatile("mrs %0, S3_0_C12_C12_5" : "=r"(sre));
  __asm__ volatile("msr S3_0_C12_C12_5, %0" : : "r"(sre | 1));
  isb();
  __asm__ volatile("msr S3_0_C4_C6_0, %0" : : "r"(0xffull));  /* PMR */
  __asm__ volatile("msr S3_0_C12_C12_3, %0" : : "r"(0ull));   /* BPR1 */
  __asm__ volatile("msr S3_0_C12_C12_7, %0" : : "r"(1ull));   /* IGRPEN1 */
  isb();
}

static void init_v2(void) {
  mmio_write32(gicd + GICD_CTLR, 0);
  mmio_write32(gicd + GICD_ICENABLER, 0xffffffffu);
  for (unsigned i = 0; i < 32; i += 4)
    mmio_write32(gicd + GICD_IPRIORITYR + i, PRIO * 0x01010101u);
  mmio_write32(gicd + GICD_CTLR, 1);
  mmio_write32(gicc + GICC_PMR, 0xff);
  mmio_write32(gicc + GICC_BPR, 0);
  mmio_write32(gicc + GICC_CTLR, 1);
}

/* Enables SPI/PPI id for h, edge-triggered if edge (else as configured). */
static int enable(unsigned id, void (*fn)(void *), void *arg, int edge) {
  if (id >= GIC_MAX_IRQ || !version) return MN_EINVAL;
  unsigned long s = plat_irq_save();
  handlers[id] = (struct handler){fn, arg};
  uint32_t bit = 1u << (id % 32);
  if (version == 3 && id < 32) {
    mmio_write32(gicr + GICR_SGI + GICD_ISENABLER, bit);
  } else {
    mmio_write8(gicd + GICD_IPRIORITYR + id, PRIO);
    if (edge && id >= 32) {
      uintptr_t c = gicd + GICD_ICFGR + 4 * (id / 16);
      mmio_write32(c, mmio_read32(c) | 2u << (2 * (id % 16)));
    }
    if (version == 3) {
      uintptr_t g = gicd + GICD_IGROUPR + 4 * (id / 32);
      mmio_write32(g, mmio_read32(g) | bit);
      mmio_write64(gicd + GICD_IROUTER + 8 * id, my_affinity());
    } else if (id >= 32) {
      mmio_write8(gicd + GICD_ITARGETSR + id, 1);
    }
    mmio_write32(gicd + GICD_ISENABLER + 4 * (id / 32), bit);
  }
  plat_irq_restore(s);
  return 0;
}

int gic_enable(unsigned id, void (*handler)(void)) {
  return enable(id, call_handler, (void *)handler, 0);
}

int gic_enable_arg(unsigned id, void (*fn)(void *), void *arg) {
  return enable(id, fn, arg, 0);
}

/* ---- GICv2m ----------------------------------------------------------- */

#define V2M_TYPER 0x008
#define V2M_SETSPI 0x040

static int v2m_alloc(void (*fn)(void *), void *arg, uint64_t *addr, uint32_t *data) {
  if (v2m_used >= v2m_nspi) return MN_ENOSPC;
  unsigned id = v2m_spi + v2m_used++;
  int rc = enable(id, fn, arg, 1);
  if (rc) return rc;
  *addr = v2m + V2M_SETSPI;
  *data = id;
  return (int)id;
}

/* ---- GICv3 ITS -------------------------------------------------------- */

#define GICR_CTLR 0x0000
#define GICR_PROPBASER 0x0070
#define GICR_PENDBASER 0x0078
#define GITS_CTLR 0x0000
#define GITS_TYPER 0x0008
#define GITS_CBASER 0x0080
#define GITS_CWRITER 0x0088
#define GITS_CREADR 0x0090
#define GITS_BASER 0x0100
#define GITS_TRANSLATER 0x10040
#define LPI_BASE 8192u
#define LPI_IDBITS 14           /* INTIDs below 16384: 8192 LPIs */
#define CACHE_WB (7ull << 59)   /* GITS_BASER/CBASER inner cacheability */
#define SH_INNER (1ull << 10)

/* Pages from the loader arena aligned to align (a power of two >= 4 KiB). */
static void *arena_aligned(size_t size, size_t align) {
  uint8_t *p = boot_alloc(size + align - 4096);
  if (!p) return NULL;
  return (void *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
}

static uint64_t mmio_read64v(uintptr_t a) { return mmio_read64(a); }

/* Queues one command (four doublewords) and waits until the ITS took it. */
static int its_cmd(uint64_t d0, uint64_t d1, uint64_t d2, uint64_t d3) {
  uint64_t *c = its_cmdq + 4 * its_cmd_wr;
  c[0] = d0, c[1] = d1, c[2] = d2, c[3] = d3;
  its_cmd_wr = (its_cmd_wr + 1) % (4096 / 32);
  dsb_sy();
  mmio_write64(its + GITS_CWRITER, (uint64_t)its_cmd_wr * 32);
  for (long i = 0; i < 10000000; i++)
    if (mmio_read64v(its + GITS_CREADR) == (uint64_t)its_cmd_wr * 32) return 0;
  return MN_ETIMEDOUT;
}

#define CMD_SYNC 0x05
#define CMD_MAPD 0x08
#define CMD_MAPC 0x09
#define CMD_MAPTI 0x0a
#define CMD_INV 0x0c

/* The ITS's tables (devices, collections: flat, 4 KiB pages), its command
 * queue, the redistributor's LPI tables; LPIs on; collection 0 mapped to
 * this CPU. 0 or MN_ENOTSUP / MN_ENOMEM. */
static int its_init(uintptr_t base) {
  if (!(mmio_read64(gicr + GICR_TYPER) & 1)) return MN_ENOTSUP; /* no LPIs */
  if (((mmio_read32(gicd + GICD_TYPER) >> 19) & 0x1f) + 1 < LPI_IDBITS) return MN_ENOTSUP;
  uint64_t typer = mmio_read64(base + GITS_TYPER);
  its_itt_entry = (unsigned)((typer >> 4) & 0xf) + 1;
  /* The redistributor's tables: configuration and pending (64 KiB aligned). */
  lpi_prop = arena_aligned((1u << LPI_IDBITS) - LPI_BASE, 4096);
  uint8_t *pend = arena_aligned(64 << 10, 64 << 10);
  its_cmdq = arena_aligned(4096, 4096);
  if (!lpi_prop || !pend || !its_cmdq) return MN_ENOMEM;
  mmio_write64(gicr + GICR_PROPBASER,
               (uintptr_t)lpi_prop | (7ull << 7) | SH_INNER | (LPI_IDBITS - 1));
  mmio_write64(gicr + GICR_PENDBASER, (uintptr_t)pend | (7ull << 7) | SH_INNER | (1ull << 62));
  dsb_sy();
  mmio_write32(gicr + GICR_CTLR, mmio_read32(gicr + GICR_CTLR) | 1); /* EnableLPIs */
  /* Device and collection tables. */
  for (unsigned n = 0; n < 8; n++) {
    uintptr_t r = base + GITS_BASER + 8 * n;
    uint64_t v = mmio_read64(r);
    unsigned type = (unsigned)(v >> 56) & 7;
    if (type != 1 && type != 4) continue;  /* devices, collections */
    unsigned pages = type == 1 ? 16 : 1;    /* 16: device IDs of buses 0-31 */
    void *t = arena_aligned(pages * 4096ul, 4096);
    if (!t) return MN_ENOMEM;
    v &= (0x7ull << 56) | (0x1full << 48);  /* keep type and entry size */
    v |= 1ull << 63 | CACHE_WB | SH_INNER | (uintptr_t)t | (pages - 1);
    mmio_write64(r, v);
    if (!(mmio_read64(r) >> 63)) return MN_ENOTSUP;
  }
  mmio_write64(base + GITS_CBASER, 1ull << 63 | CACHE_WB | SH_INNER | (uintptr_t)its_cmdq);
  mmio_write64(base + GITS_CWRITER, 0);
  mmio_write32(base + GITS_CTLR, 1);
  its = base;
  its_rdbase = (typer >> 19) & 1 ? gicr >> 16 : (mmio_read64(gicr + GICR_TYPER) >> 8) & 0xffff;
  int rc = its_cmd(CMD_MAPC, 0, 1ull << 63 | its_rdbase << 16 | 0, 0);
  if (!rc) rc = its_cmd(CMD_SYNC, 0, its_rdbase << 16, 0);
  if (rc) its = 0;
  return rc;
}

#define ITS_EVENT_BITS 5 /* events a requester: 32 */

static int its_alloc(uint32_t devid, void (*fn)(void *), void *arg, uint64_t *addr,
                     uint32_t *data) {
  struct its_dev *dv = NULL;
  for (unsigned i = 0; i < its_ndevs; i++)
    if (its_devs[i].id == devid) dv = &its_devs[i];
  if (!dv) {
    if (its_ndevs >= ITS_DEVICES || devid >= 16 * 4096 / 8) return MN_ENOSPC;
    size_t itt = (size_t)its_itt_entry << ITS_EVENT_BITS;
    void *t = arena_aligned(itt < 4096 ? 4096 : itt, 4096);
    if (!t) return MN_ENOMEM;
    int rc = its_cmd(CMD_MAPD | (uint64_t)devid << 32, ITS_EVENT_BITS - 1,
                     1ull << 63 | (uintptr_t)t, 0);
    if (rc) return rc;
    dv = &its_devs[its_ndevs++];
    dv->id = devid;
    dv->events = 0;
  }
  if (dv->events >= 1u << ITS_EVENT_BITS || lpi_used >= GIC_MAX_LPI) return MN_ENOSPC;
  unsigned ev = dv->events++, lpi = lpi_used++;
  lpi_handlers[lpi] = (struct handler){fn, arg};
  lpi_prop[lpi] = PRIO | 1; /* priority, enabled */
  dsb_sy();
  int rc = its_cmd(CMD_MAPTI | (uint64_t)devid << 32, ev | (uint64_t)(LPI_BASE + lpi) << 32, 0, 0);
  if (!rc) rc = its_cmd(CMD_INV | (uint64_t)devid << 32, ev, 0, 0);
  if (!rc) rc = its_cmd(CMD_SYNC, 0, its_rdbase << 16, 0);
  if (rc) return rc;
  *addr = its + GITS_TRANSLATER;
  *data = ev;
  return (int)(LPI_BASE + lpi);
}

int gic_msi_alloc(uint32_t requester, void (*fn)(void *), void *arg, uint64_t *addr,
                  uint32_t *data) {
  if (its) return its_alloc(requester, fn, arg, addr, data);
  if (v2m) return v2m_alloc(fn, arg, addr, data);
  return MN_ENOTSUP;
}

const char *gic_msi_kind(void) { return its ? "ITS" : v2m ? "GICv2m" : "none"; }

int gic_init(uintptr_t rsdp) {
  const uint8_t *m = acpi_find(rsdp, "APIC");
  if (!m) return MN_ENOTSUP;
  uint32_t len = rd32(m + 4);
  uintptr_t redist_range = 0, cpu_redist = 0, v2m_base = 0, its_base = 0;
  uint64_t redist_len = 0;
  for (uint32_t off = 44; off + 2 <= len;) {
    const uint8_t *e = m + off;
    uint8_t type = e[0], elen = e[1];
    if (elen < 2) break;
    if (type == 0x0b && elen >= 76 && !gicc) { /* GICC */
      gicc = rd64(e + 32);
      cpu_redist = rd64(e + 60);
    } else if (type == 0x0c && elen >= 24) { /* GICD */
      gicd = rd64(e + 8);
      version = e[20];
    } else if (type == 0x0d && elen >= 24 && !v2m_base) { /* GIC MSI frame */
      v2m_base = rd64(e + 8);
      if (rd32(e + 16) & 1) {
        v2m_nspi = (uint16_t)(e[20] | e[21] << 8);
        v2m_spi = (uint16_t)(e[22] | e[23] << 8);
      }
    } else if (type == 0x0f && elen >= 20 && !its_base) { /* GIC ITS */
      its_base = rd64(e + 8);
    } else if (type == 0x0e && elen >= 16 && !redist_range) { /* GICR */
      redist_range = rd64(e + 4);
      redist_len = rd32(e + 12);
    }
    off += elen;
  }
  if (!gicd) return MN_ENOTSUP;
  if (version == 0) version = (int)((mmio_read32(gicd + GICD_PIDR2) >> 4) & 0xf);
  if (version >= 3) {
    version = 3;
    redist_base = redist_range, redist_size = redist_len;
    if (redist_range) gicr = find_redist(redist_range, redist_len);
    if (!gicr && cpu_redist) gicr = cpu_redist;
    if (!gicr) return MN_ENOTSUP;
    init_v3();
    if (its_base && its_init(its_base)) its = 0;
  } else if (version >= 1 && gicc) {
    version = 2;
    init_v2();
  } else {
    version = 0;
    return MN_ENOTSUP;
  }
  if (!its && v2m_base) {
    if (!v2m_nspi) {
      uint32_t t = mmio_read32(v2m_base + V2M_TYPER);
      v2m_spi = (t >> 16) & 0x3ff;
      v2m_nspi = t & 0x3ff;
    }
    if (v2m_nspi && v2m_spi >= 32 && v2m_spi + v2m_nspi <= GIC_MAX_IRQ) v2m = v2m_base;
  }
  return 0;
}

static void wake_noop(void *arg) { (void)arg; }

int gic_cpu_init(void) {
  if (!version) return MN_ENOTSUP;
  handlers[GIC_SGI_WAKE] = (struct handler){wake_noop, NULL};
  uint32_t bit = 1u << GIC_SGI_WAKE;
  if (version == 3) {
    uintptr_t r = redist_base ? find_redist(redist_base, redist_size) : 0;
    if (!r) return MN_ENOTSUP;
    mmio_write32(r + GICR_WAKER, mmio_read32(r + GICR_WAKER) & ~(1u << 1));
    for (int i = 0; i < 1000000 && (mmio_read32(r + GICR_WAKER) & (1u << 2)); i++) {
    }
    uintptr_t sgi = r + GICR_SGI;
    mmio_write32(sgi + GICD_ICENABLER, 0xffffffffu);
    mmio_write32(sgi + GICD_IGROUPR, 0xffffffffu);
    for (unsigned i = 0; i < 32; i += 4)
      mmio_write32(sgi + GICD_IPRIORITYR + i, PRIO * 0x01010101u);
    mmio_write32(sgi + GICD_ISENABLER, bit);
    uint64_t sre;
    __asm__ volatile("mrs %0, S3_0_C12_C12_5" : "=r"(sre));
    __asm__ volatile("msr S3_0_C12_C12_5, %0" : : "r"(sre | 1));
    isb();
    __asm__ volatile("msr S3_0_C4_C6_0, %0" : : "r"(0xffull));  /* PMR */
    __asm__ volatile("msr S3_0_C12_C12_3, %0" : : "r"(0ull));   /* BPR1 */
    __asm__ volatile("msr S3_0_C12_C12_7, %0" : : "r"(1ull));   /* IGRPEN1 */
    isb();
  } else {
    /* the banked private interrupts and this core's CPU interface */
    mmio_write32(gicd + GICD_ICENABLER, 0xffffffffu);
    for (unsigned i = 0; i < 32; i += 4)
      mmio_write32(gicd + GICD_IPRIORITYR + i, PRIO * 0x01010101u);
    mmio_write32(gicd + GICD_ISENABLER, bit);
    mmio_write32(gicc + GICC_PMR, 0xff);
    mmio_write32(gicc + GICC_BPR, 0);
    mmio_write32(gicc + GICC_CTLR, 1);
  }
  return 0;
}

#define GICD_SGIR 0x0f00

void gic_send_sgi(unsigned id, uint64_t mpidr, unsigned cpu_if) {
  if (version == 3) {
    uint64_t v = ((mpidr >> 32) & 0xff) << 48 | ((mpidr >> 16) & 0xff) << 32 |
                 (uint64_t)(id & 0xf) << 24 | ((mpidr >> 8) & 0xff) << 16 |
                 (1ull << (mpidr & 0xf));
    __asm__ volatile("dsb ishst\n msr S3_0_C12_C11_5, %0\n isb" : : "r"(v) : "memory");
  } else if (version == 2) {
    dsb_sy();
    mmio_write32(gicd + GICD_SGIR, (1u << (16 + (cpu_if & 7))) | (id & 0xf));
  }
}

void gic_dispatch(void) {
  for (int n = 0; n < 64; n++) {
    uint64_t iar;
    if (version == 3) {
      __asm__ volatile("mrs %0, S3_0_C12_C12_0" : "=r"(iar));
      iar &= 0xffffff;
    } else {
      iar = mmio_read32(gicc + GICC_IAR);
    }
    unsigned id = (unsigned)iar & (version == 3 ? 0xffffff : 0x3ff);
    if (id >= 1020 && id < 1024) return; /* spurious: nothing pending */
    struct handler *h = id < GIC_MAX_IRQ                        ? &handlers[id]
                        : id >= LPI_BASE && id - LPI_BASE < GIC_MAX_LPI ? &lpi_handlers[id - LPI_BASE]
                                                                     : NULL;
    if (h && h->fn) h->fn(h->arg);
    if (version == 3)
      __asm__ volatile("msr S3_0_C12_C12_1, %0" : : "r"(iar));
    else
      mmio_write32(gicc + GICC_EOIR, (uint32_t)iar);
  }
}
