/*
 * clockrng.c: the x86_64 platform's clock and entropy sources
 * (docs/time.md, docs/entropy.md).
 *
 * Interface: x86_clockrng_start, x86_cmos_time.
 *
 * Time: UEFI GetTime read before ExitBootServices (efi_clockrng.c), with
 * the CMOS RTC (ports 0x70/0x71) as the check and the fallback. Entropy:
 * RDSEED and RDRAND when CPUID has them, the 64 bytes EFI_RNG_PROTOCOL
 * gave at boot, and TSC jitter as the last resort.
 */
#include "boot.h"
#include "x86.h"
#include "mneme/entropy.h"
#include "mneme/err.h"
#include "mneme/log.h"
#include "mneme/wallclock.h"

/* ---- CMOS RTC ---------------------------------------------------------------- */

static uint8_t cmos(uint8_t reg) {
  outb(0x70, reg);
  return inb(0x71);
}

struct rtc_regs {
  uint8_t sec, min, hour, day, month, year, century;
};

static void rtc_read(struct rtc_regs *r) {
  r->sec = cmos(0x00);
  r->min = cmos(0x02);
  r->hour = cmos(0x04);
  r->day = cmos(0x07);
  r->month = cmos(0x08);
  r->year = cmos(0x09);
  r->century = cmos(0x32);
}

static int bcd(uint8_t v) { return (v >> 4) * 10 + (v & 15); }

/* The RTC's time as Unix seconds. 0, or MN_EIO (no RTC, stuck in an
 * update, nonsense values). The RTC is taken as UTC (QEMU's default). */
int x86_cmos_time(int64_t *out) {
  struct rtc_regs a, b;
  int tries = 0;
  do {
    /* Wait out an update in progress (at most ~2 ms on real hardware). */
    for (int spin = 0; cmos(0x0a) & 0x80; spin++)
      if (spin > 100000) return MN_EIO;
    rtc_read(&a);
    rtc_read(&b);
  } while ((a.sec != b.sec || a.min != b.min || a.hour != b.hour || a.day != b.day ||
            a.month != b.month || a.year != b.year) && ++tries < 5);
  if (tries == 5) return MN_EIO;
  uint8_t regb = cmos(0x0b);
  int binary = regb & 0x04, h24 = regb & 0x02;
  int pm = a.hour & 0x80;
  a.hour &= 0x7f;
  struct wallclock_tm t;
  if (binary) {
    t.sec = a.sec; t.min = a.min; t.hour = a.hour;
    t.day = a.day; t.month = a.month; t.year = a.year;
  } else {
    t.sec = bcd(a.sec); t.min = bcd(a.min); t.hour = bcd(a.hour);
    t.day = bcd(a.day); t.month = bcd(a.month); t.year = bcd(a.year);
  }
  if (!h24) { /* 12-hour: 12 AM is 0, 12 PM is 12 */
    if (t.hour == 12) t.hour = 0;
    if (pm) t.hour += 12;
  }
  int century = binary ? a.century : bcd(a.century);
  if (century < 19 || century > 29) century = t.year < 70 ? 20 : 19;
  t.year += century * 100;
  if (t.sec > 59 || t.min > 59 || t.hour > 23 || t.day < 1 || t.day > 31 || t.month < 1 ||
      t.month > 12)
    return MN_EIO;
  *out = wallclock_join(&t);
  return 0;
}

/* ---- entropy sources ----------------------------------------------------------- */

static int rdseed64(uint64_t *v) {
  unsigned char ok;
  __asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
  return ok;
}

static int rdrand64(uint64_t *v) {
  unsigned char ok;
  __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
  return ok;
}

/* Fills up to len bytes (whole words) with fn; retries a word 10 times
 * (Intel's advice for RDRAND; RDSEED may run dry for a while). */
static size_t fill(int (*fn)(uint64_t *), void *buf, size_t len) {
  uint8_t *p = buf;
  size_t n = 0;
  while (n + 8 <= len) {
    uint64_t v;
    int ok = 0;
    for (int i = 0; i < 10 && !(ok = fn(&v)); i++) __asm__ volatile("pause");
    if (!ok) break;
    __builtin_memcpy(p + n, &v, 8);
    n += 8;
  }
  return n;
}

/* RDSEED: conditioned output of the hardware noise source, full entropy. */
static size_t rdseed_source(void *buf, size_t len, unsigned *bits) {
  size_t n = fill(rdseed64, buf, len);
  *bits = (unsigned)n * 8;
  return n;
}

/* RDRAND: a DRBG the hardware reseeds; counted at half its size. */
static size_t rdrand_source(void *buf, size_t len, unsigned *bits) {
  size_t n = fill(rdrand64, buf, len);
  *bits = (unsigned)n * 4;
  return n;
}

/* TSC jitter (uefi_jitter). */
static uint64_t tsc(void) { return rdtsc(); }

static size_t jitter_source(void *buf, size_t len, unsigned *bits) {
  return uefi_jitter(buf, len, bits, tsc, 64);
}

int x86_clockrng_start(void) {
  /* The clock: UEFI's, checked against the RTC; else the RTC's. */
  int64_t rtc = 0;
  int rtc_err = x86_cmos_time(&rtc);
  uefi_clock_set(rtc_err, rtc, "CMOS RTC");

  /* Entropy. */
  uint32_t r[4];
  cpuid(0, 0, r);
  uint32_t max = r[0];
  cpuid(1, 0, r);
  int has_rdrand = (r[2] >> 30) & 1, has_rdseed = 0;
  if (max >= 7) {
    cpuid(7, 0, r);
    has_rdseed = (r[1] >> 18) & 1;
  }
  if (has_rdseed) entropy_add_source("rdseed", rdseed_source);
  if (has_rdrand) entropy_add_source("rdrand", rdrand_source);
  entropy_add_source("tsc-jitter", jitter_source);
  int efi_rng = uefi_entropy_from_efi();
  klog(LOG_INFO, "entropy: sources%s%s%s tsc-jitter", efi_rng ? " EFI_RNG_PROTOCOL" : "",
       has_rdseed ? " rdseed" : "", has_rdrand ? " rdrand" : "");
  return entropy_start();
}
