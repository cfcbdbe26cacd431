/*
 * apic.c: interrupts and time. ACPI: RSDP -> XSDT (or RSDT) -> MADT gives
 * the local APIC address, the I/O APICs and the ISA interrupt overrides.
 * The local APIC is used through MMIO, or through MSRs when the firmware
 * left it in x2APIC mode. The 8259 PIC is remapped to 0xe0 (so a stray interrupt cannot look like
 * an exception) and masked. The TSC, calibrated against PIT channel 2 over
 * a window that overlaps the boot (apic_calibrate_start), is the monotonic
 * clock; the local APIC timer, calibrated in the same window, is armed
 * one-shot for the next deadline so that idle is `hlt`.
 *
 * Interface: apic_calibrate_start, apic_init, apic_route_isa, apic_route_gsi,
 * apic_lapic_id, apic_acpi_table, apic_eoi, apic_tsc_hz,
 * apic_timer_arm, apic_tsc_to_ns, plat_now_ns, plat_wait_event, plat_irq_save,
 * plat_irq_restore.
 */
#include "apic.h"

#include "acpi.h"

#include <string.h>

#include "boot.h"
#include "cpu.h"
#include "mneme/err.h"
#include "mneme/platform.h"
#include "x86.h"

#define LAPIC_ID 0x20
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0

struct isa_override {
  uint8_t irq;
  uint32_t gsi;
  uint16_t flags;
};

static uintptr_t lapic;
static uint32_t lapic_id;
static struct {
  uintptr_t base;
  uint32_t gsi_base, count;
} ioapics[4];
static int nioapics;
static struct isa_override overrides[16];
static int noverrides;
static uint64_t tsc_hz = 1000000000; /* until calibrated */
static uint64_t ns_per_tsc_q32;      /* ns per TSC tick, 32.32 fixed point */
static uint64_t lapic_hz;            /* APIC timer ticks/s (divider 16) */
static uint64_t lapic_per_ns_q32;    /* APIC timer ticks per ns, 32.32 */

static int x2apic; /* the firmware left the local APIC in x2APIC mode */
static uint32_t cpu_ids[APIC_MAX_CPUS]; /* enabled processors of the MADT */
static int ncpu_ids;

/* Local APIC registers: MMIO, or MSRs 0x800 + reg / 16 in x2APIC mode. */
static uint32_t lapic_read(uint32_t reg) {
  return x2apic ? (uint32_t)rdmsr(0x800 + (reg >> 4)) : mmio_read32(lapic + reg);
}
static void lapic_write(uint32_t reg, uint32_t v) {
  if (x2apic) wrmsr(0x800 + (reg >> 4), v);
  else mmio_write32(lapic + reg, v);
}

void apic_eoi(void) {
  if (lapic) lapic_write(LAPIC_EOI, 0);
}

static void parse_madt(const uint8_t *m) {
  uint32_t len = *(const uint32_t *)(m + 4);
  lapic = *(const uint32_t *)(m + 36);
  for (uint32_t off = 44; off + 2 <= len;) {
    uint8_t type = m[off], elen = m[off + 1];
    if (elen < 2) break;
    const uint8_t *e = m + off;
    if (type == 1 && nioapics < 4) {
      ioapics[nioapics].base = *(const uint32_t *)(e + 4);
      ioapics[nioapics].gsi_base = *(const uint32_t *)(e + 8);
      nioapics++;
    } else if (type == 2 && noverrides < 16) {
      overrides[noverrides].irq = e[3];
      overrides[noverrides].gsi = *(const uint32_t *)(e + 4);
      overrides[noverrides].flags = *(const uint16_t *)(e + 8);
      noverrides++;
    } else if (type == 5) {
      lapic = *(const uint64_t *)(e + 4);
    } else if (type == 0 && elen >= 8 && ncpu_ids < APIC_MAX_CPUS) {
      uint32_t fl = *(const uint32_t *)(e + 4);
      if (fl & 3) cpu_ids[ncpu_ids++] = e[3]; /* enabled or online capable */
    } else if (type == 9 && elen >= 16 && ncpu_ids < APIC_MAX_CPUS) {
      uint32_t fl = *(const uint32_t *)(e + 8);
      if (fl & 3) cpu_ids[ncpu_ids++] = *(const uint32_t *)(e + 4);
    }
    off += elen;
  }
}

static uint32_t ioapic_read(uintptr_t base, uint32_t reg) {
  mmio_write32(base, reg);
  return mmio_read32(base + 0x10);
}
static void ioapic_write(uintptr_t base, uint32_t reg, uint32_t v) {
  mmio_write32(base, reg);
  mmio_write32(base + 0x10, v);
}

static void pic_disable(void) {
  outb(0x20, 0x11);
  outb(0xa0, 0x11);
  outb(0x21, 0xe0);
  outb(0xa1, 0xe8);
  outb(0x21, 4);
  outb(0xa1, 2);
  outb(0x21, 1);
  outb(0xa1, 1);
  outb(0x21, 0xff);
  outb(0xa1, 0xff);
}

/* The calibration window's start: the TSC, PIT channel 2 and APIC timer
 * counts read together (cal_sample). */
static uint64_t cal_tsc0;
static uint16_t cal_pit0;
static uint32_t cal_lapic0;
static int cal_started;

static uint16_t pit2_read(void) {
  outb(0x43, 0x80); /* latch channel 2 */
  uint8_t lo = inb(0x42);
  return (uint16_t)(lo | inb(0x42) << 8);
}

/*
 * The PIT and APIC timer counts with the TSC at that moment. Of 8 tries,
 * the one whose reads took least: a port read can wait for a lock, and a
 * virtual CPU can be preempted between the reads (QEMU on a loaded host),
 * and one such stall between the counters and the TSC in a short window
 * made the clock run up to 12 times slow.
 */
static void cal_sample(uint64_t *tsc, uint16_t *pit, uint32_t *lapic_left) {
  uint64_t best = ~0ull;
  for (int i = 0; i < 8; i++) {
    uint64_t a = rdtsc();
    uint16_t p = pit2_read();
    uint32_t l = lapic_read(LAPIC_TIMER_CUR);
    uint64_t b = rdtsc();
    if (b - a < best) {
      best = b - a;
      *tsc = a + (b - a) / 2;
      *pit = p;
      *lapic_left = l;
    }
  }
}

/*
 * Starts the calibration window: PIT channel 2 counts down from 0xffff
 * (55 ms at 1.193182 MHz) while the APIC timer counts down from its
 * maximum; apic_init() later reads both counters and the TSC, so the
 * window overlaps the rest of the boot instead of costing a busy wait.
 */
void apic_calibrate_start(void) {
  wrmsr(0x1b, rdmsr(0x1b) | (1u << 11)); /* APIC global enable */
  lapic = rdmsr(0x1b) & 0xffffff000ull;   /* the architectural base */
  x2apic = (rdmsr(0x1b) >> 10) & 1;
  lapic_write(LAPIC_TIMER_DIV, 3);        /* divide by 16 */
  lapic_write(LAPIC_LVT_TIMER, 1u << 16); /* masked */
  outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
  outb(0x43, 0xb0);                        /* ch 2, lo/hi, mode 0 */
  outb(0x42, 0xff);
  outb(0x42, 0xff);
  lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
  cal_sample(&cal_tsc0, &cal_pit0, &cal_lapic0);
  cal_started = 1;
}

/*
 * Without a working PIT (some recent PCs have none): the TSC rate from
 * CPUID leaf 0x15 or 0x16 (or a 2 GHz guess), then the APIC timer
 * measured against the TSC over 2 ms.
 */
static void calibrate_without_pit(uint64_t *tsc, uint64_t *lapic_ticks) {
  uint32_t r[4];
  cpuid(0, 0, r);
  uint32_t max = r[0];
  *tsc = 0;
  if (max >= 0x15) {
    cpuid(0x15, 0, r);
    if (r[0] && r[1] && r[2]) *tsc = (uint64_t)r[2] * r[1] / r[0];
  }
  if (!*tsc && max >= 0x16) {
    cpuid(0x16, 0, r);
    *tsc = (uint64_t)(r[0] & 0xffff) * 1000000u;
  }
  if (!*tsc) *tsc = 2000000000ull;
  lapic_write(LAPIC_TIMER_INIT, 0xffffffffu);
  uint64_t t0 = rdtsc();
  while (rdtsc() - t0 < *tsc / 500) cpu_relax();
  *lapic_ticks = (uint64_t)(0xffffffffu - lapic_read(LAPIC_TIMER_CUR)) * 500;
}

/* The window's least length in PIT ticks (10 ms): the boot usually takes
 * longer than that between start and end, so it rarely costs a wait. */
#define CAL_TICKS 11932u

/* Ends the window (at least 10 ms long) and derives the rates. */
static void calibrate(void) {
  uint32_t ticks, left;
  uint64_t t1;
  uint16_t c;
  for (int tries = 0; tries < 3; tries++) {
    if (!cal_started || (inb(0x61) & 0x20)) /* never started, or > 55 ms */
      apic_calibrate_start();
    long spins = 0;
    do {
      cal_sample(&t1, &c, &left);
      ticks = (uint32_t)(uint16_t)(cal_pit0 - c);
      if (++spins > 250000 && ticks == 0) break; /* the PIT does not count */
    } while (ticks < CAL_TICKS);
    if (!(inb(0x61) & 0x20)) break; /* else the count wrapped meanwhile: again */
    cal_started = 0;
  }
  if (ticks < CAL_TICKS) {
    calibrate_without_pit(&tsc_hz, &lapic_hz);
  } else {
    uint64_t ns = (uint64_t)ticks * 1000000000ull / 1193182;
    tsc_hz = (t1 - cal_tsc0) * 1000000000ull / ns;
    lapic_hz = (uint64_t)(cal_lapic0 - left) * 1000000000ull / ns;
  }
  lapic_write(LAPIC_TIMER_INIT, 0);
  if (!tsc_hz) tsc_hz = 1;
  if (!lapic_hz) lapic_hz = 1;
  ns_per_tsc_q32 = (1000000000ull << 32) / tsc_hz;
  if (lapic_hz > (1ull << 32)) lapic_hz = 1ull << 32;
  lapic_per_ns_q32 = (lapic_hz << 32) / 1000000000ull;
}

int apic_init(uintptr_t rsdp) {
  pic_disable();
  const uint8_t *madt = acpi_find(rsdp, "APIC");
  if (!madt) return MN_ENOTSUP;
  uintptr_t cal_base = lapic;
  parse_madt(madt);
  if (cal_started && lapic != cal_base) cal_started = 0; /* measure again */
  if (!lapic) return MN_ENOTSUP;
  wrmsr(0x1b, rdmsr(0x1b) | (1u << 11)); /* APIC global enable */
  x2apic = (rdmsr(0x1b) >> 10) & 1;
  lapic_id = x2apic ? lapic_read(LAPIC_ID) : lapic_read(LAPIC_ID) >> 24;
  lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
  for (int i = 0; i < nioapics; i++) { /* mask every input */
    uint32_t n = ((ioapic_read(ioapics[i].base, 1) >> 16) & 0xff) + 1;
    ioapics[i].count = n;
    for (uint32_t j = 0; j < n; j++)
      ioapic_write(ioapics[i].base, 0x10 + 2 * j, 1u << 16);
  }
  calibrate();
  lapic_write(LAPIC_LVT_TIMER, VEC_TIMER); /* one-shot */
  return 0;
}

int apic_route_isa(unsigned irq) {
  uint32_t gsi = irq;
  uint16_t flags = 0;
  for (int i = 0; i < noverrides; i++)
    if (overrides[i].irq == irq) gsi = overrides[i].gsi, flags = overrides[i].flags;
  if (gsi >= VEC_IRQ_MAX) return MN_ERANGE;
  for (int i = 0; i < nioapics; i++) {
    if (gsi < ioapics[i].gsi_base || gsi >= ioapics[i].gsi_base + ioapics[i].count)
      continue;
    uint32_t lo = VEC_IRQ0 + gsi;
    if ((flags & 3) == 3) lo |= 1u << 13;          /* active low */
    if (((flags >> 2) & 3) == 3) lo |= 1u << 15;   /* level triggered */
    uint32_t pin = gsi - ioapics[i].gsi_base;
    ioapic_write(ioapics[i].base, 0x11 + 2 * pin, lapic_id << 24);
    ioapic_write(ioapics[i].base, 0x10 + 2 * pin, lo);
    return (int)gsi;
  }
  return MN_ENOENT;
}

int apic_route_gsi(uint32_t gsi, uint8_t vector, int level, int active_low) {
  for (int i = 0; i < nioapics; i++) {
    if (gsi < ioapics[i].gsi_base || gsi >= ioapics[i].gsi_base + ioapics[i].count)
      continue;
    uint32_t lo = vector;
    if (active_low) lo |= 1u << 13;
    if (level) lo |= 1u << 15;
    uint32_t pin = gsi - ioapics[i].gsi_base;
    ioapic_write(ioapics[i].base, 0x11 + 2 * pin, lapic_id << 24);
    ioapic_write(ioapics[i].base, 0x10 + 2 * pin, lo);
    return 0;
  }
  return MN_ENOENT;
}

uint32_t apic_lapic_id(void) { return lapic_id; }

const uint8_t *apic_acpi_table(const char sig[4]) { return acpi_find(uefi_boot.rsdp, sig); }

uint64_t apic_tsc_hz(void) { return tsc_hz; }

int apic_cpus(const uint32_t **ids) {
  *ids = cpu_ids;
  return ncpu_ids;
}

uint32_t apic_self_id(void) {
  if (!lapic) return 0;
  return x2apic ? lapic_read(LAPIC_ID) : lapic_read(LAPIC_ID) >> 24;
}

uint32_t apic_bsp_id(void) { return lapic_id; }

void apic_send_ipi(uint32_t id, uint32_t low) {
  if (!lapic) return;
  unsigned long s = plat_irq_save();
  if (x2apic) {
    wrmsr(0x830, (uint64_t)id << 32 | low);
  } else {
    mmio_write32(lapic + 0x310, id << 24);
    mmio_write32(lapic + 0x300, low);
    for (int i = 0; i < 1000000 && (mmio_read32(lapic + 0x300) & (1u << 12)); i++)
      cpu_relax(); /* delivery pending: a few cycles */
  }
  plat_irq_restore(s);
}

void apic_ap_init(uint64_t period_ns) {
  uint64_t base = rdmsr(0x1b) | (1u << 11);
  if (x2apic) base |= 1u << 10;
  wrmsr(0x1b, base);
  lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
  lapic_write(LAPIC_TIMER_DIV, 3); /* divide by 16, as calibrated */
  lapic_write(LAPIC_LVT_TIMER, VEC_TIMER | (1u << 17)); /* periodic */
  uint64_t ticks = (uint64_t)(((unsigned __int128)period_ns * lapic_per_ns_q32) >> 32) + 1;
  if (ticks > 0xffffffffu) ticks = 0xffffffffu;
  lapic_write(LAPIC_TIMER_INIT, (uint32_t)ticks);
}

void apic_timer_arm(uint64_t ns) {
  if (!lapic) return;
  uint64_t ticks = (uint64_t)(((unsigned __int128)ns * lapic_per_ns_q32) >> 32) + 1;
  if (ticks > 0xffffffffu) ticks = 0xffffffffu;
  lapic_write(LAPIC_TIMER_INIT, (uint32_t)ticks);
}

uint64_t apic_tsc_to_ns(uint64_t tsc) {
  uint64_t d = tsc - uefi_boot.tsc_entry;
  return (uint64_t)(((unsigned __int128)d * ns_per_tsc_q32) >> 32);
}

uint64_t plat_now_ns(void) { return apic_tsc_to_ns(rdtsc()); }

unsigned long plat_irq_save(void) {
  unsigned long f;
  __asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
  return f & (1ul << 9);
}

void plat_irq_restore(unsigned long state) {
  if (state & (1ul << 9)) __asm__ volatile("sti" ::: "memory");
}

/*
 * Idles until an interrupt or the deadline: arms the APIC timer one-shot
 * for the deadline, then `sti; hlt` (atomic: an interrupt cannot slip in
 * between). An interrupt that arrived since the last call (recorded in
 * cpu_event_pending) returns at once, so a wake-up racing with the
 * executor's decision to idle is never lost.
 */
void plat_wait_event(uint64_t deadline_ns) {
  unsigned long s = plat_irq_save();
  for (;;) {
    if (cpu_event_pending) break;
    uint64_t now = plat_now_ns();
    if (deadline_ns <= now) {
      /* Poll: let pending interrupts in. */
      __asm__ volatile("sti; nop; cli" ::: "memory");
      break;
    }
    if (lapic && deadline_ns != UINT64_MAX) {
      uint64_t ticks = (uint64_t)(((unsigned __int128)(deadline_ns - now) *
                                   lapic_per_ns_q32) >> 32) + 1;
      if (ticks > 0xffffffffu) ticks = 0xffffffffu;
      lapic_write(LAPIC_TIMER_INIT, (uint32_t)ticks);
    }
    __asm__ volatile("sti; hlt; cli" ::: "memory");
  }
  cpu_event_pending = 0;
  plat_irq_restore(s);
}
