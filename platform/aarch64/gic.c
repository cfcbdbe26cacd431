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
#include "mneme/err.h"
#include "mneme/platform.h"

/* Distributor registers (both versions). */
#define GICD_CTLR 0x0000
#define GICD_TYPER 0x0004
#define GICD_IGROUPR 0x0080
#define GICD_ISENABLER 0x0100
#define GICD_ICENABLER 0x0180
#define GICD_IPRIORITYR 0x0400
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
static void (*handlers[GIC_MAX_IRQ])(void);

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

int gic_init(uintptr_t rsdp) {
  const uint8_t *m = acpi_find(rsdp, "APIC");
  if (!m) return MN_ENOTSUP;
  uint32_t len = rd32(m + 4);
  uintptr_t redist_range = 0, cpu_redist = 0;
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
    if (redist_range) gicr = find_redist(redist_range, redist_len);
    if (!gicr && cpu_redist) gicr = cpu_redist;
    if (!gicr) return MN_ENOTSUP;
    init_v3();
  } else if (version >= 1 && gicc) {
    version = 2;
    init_v2();
  } else {
    version = 0;
    return MN_ENOTSUP;
  }
  return 0;
}

int gic_enable(unsigned id, void (*handler)(void)) {
  if (id >= GIC_MAX_IRQ || !version) return MN_EINVAL;
  unsigned long s = plat_irq_save();
  handlers[id] = handler;
  uint32_t bit = 1u << (id % 32);
  if (version == 3 && id < 32) {
    mmio_write32(gicr + GICR_SGI + GICD_ISENABLER, bit);
  } else {
    mmio_write8(gicd + GICD_IPRIORITYR + id, PRIO);
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
    if (id >= 1020) return; /* spurious: nothing pending */
    if (id < GIC_MAX_IRQ && handlers[id]) handlers[id]();
    if (version == 3)
      __asm__ volatile("msr S3_0_C12_C12_1, %0" : : "r"(iar));
    else
      mmio_write32(gicc + GICC_EOIR, (uint32_t)iar);
  }
}
