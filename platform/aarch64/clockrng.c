/*
 * clockrng.c: the aarch64 platform's clock and entropy sources
 * (docs/time.md, docs/entropy.md).
 *
 * Interface: a64_clockrng_start.
 *
 * Time: UEFI GetTime read before ExitBootServices (efi_clockrng.c), with
 * QEMU virt's PL031 RTC (0x09010000, recognized by its PrimeCell ID) as
 * the check and the fallback. Entropy: RNDRRS/RNDR (FEAT_RNG, as
 * ID_AA64ISAR0_EL1 says), the bytes EFI_RNG_PROTOCOL gave at boot, and
 * jitter of the virtual counter as the last resort.
 */
#include "boot.h"
#include "a64.h"
#include "mneme/entropy.h"
#include "mneme/err.h"
#include "mneme/log.h"
#include "mneme/wallclock.h"

#define PL031_BASE 0x09010000u

static int pl031_time(int64_t *out) {
  static const uint8_t cell[4] = {0x0d, 0xf0, 0x05, 0xb1}; /* PrimeCell ID */
  for (int i = 0; i < 4; i++)
    if ((mmio_read32(PL031_BASE + 0xff0 + 4 * i) & 0xff) != cell[i]) return MN_ENOENT;
  if ((mmio_read32(PL031_BASE + 0xfe0) & 0xff) != 0x31) return MN_ENOENT; /* PL031 */
  *out = mmio_read32(PL031_BASE); /* RTCDR: seconds since 1970 on QEMU */
  return 0;
}

static int has_rndr(void) {
  uint64_t isar0;
  __asm__ volatile("mrs %0, id_aa64isar0_el1" : "=r"(isar0));
  return (isar0 >> 60) >= 1;
}

/* RNDRRS (reseeded each read) -> NZCV.Z set on failure. */
static int rndrrs(uint64_t *v) {
  uint64_t ok;
  __asm__ volatile("mrs %0, s3_3_c2_c4_1\n cset %1, ne" : "=r"(*v), "=r"(ok) : : "cc");
  return (int)ok;
}

static size_t rndr_source(void *buf, size_t len, unsigned *bits) {
  uint8_t *p = buf;
  size_t n = 0;
  while (n + 8 <= len) {
    uint64_t v;
    int ok = 0;
    for (int i = 0; i < 10 && !(ok = rndrrs(&v)); i++) __asm__ volatile("yield");
    if (!ok) break;
    __builtin_memcpy(p + n, &v, 8);
    n += 8;
  }
  *bits = (unsigned)n * 4; /* counted at half: a DRBG the hardware reseeds */
  return n;
}

/* Counter jitter: see x86_64's TSC jitter (the same health rule). */
static size_t jitter_source(void *buf, size_t len, unsigned *bits) {
  static volatile uint8_t walk[4096];
  uint8_t *out = buf;
  uint64_t prev = a64_counter(), prev_delta = 0;
  unsigned changes = 0;
  for (size_t i = 0; i < len; i++) {
    for (unsigned k = 0; k < 256; k++) walk[(k * 67 + i * 131 + (prev & 63)) & 4095]++;
    uint64_t now = a64_counter(), delta = now - prev;
    prev = now;
    out[i] = (uint8_t)(delta ^ (delta >> 8));
    if (delta != prev_delta) changes++;
    prev_delta = delta;
  }
  *bits = changes * 4 >= len * 3 ? (unsigned)len / 8 : 0;
  return len;
}

int a64_clockrng_start(void) {
  int64_t rtc = 0;
  int rtc_err = pl031_time(&rtc);
  int64_t efi = x86_boot.efi_time_s;
  if (efi >= WALLCLOCK_MIN_SET) {
    wallclock_set_from(efi, "UEFI GetTime");
    if (!rtc_err && (rtc - efi > 5 || efi - rtc > 5))
      klog(LOG_WARN, "time: the PL031 RTC differs from UEFI GetTime by %lld s",
           (long long)(rtc - efi));
  } else if (!rtc_err) {
    wallclock_set_from(rtc, "PL031 RTC");
  }
  int64_t now;
  char iso[WALLCLOCK_ISO_LEN];
  int unset = wallclock_now(&now);
  wallclock_format(now, iso);
  klog(unset ? LOG_WARN : LOG_INFO, "time: %s (%s)%s", iso, wallclock_source(),
       unset ? ": the clock is not set" : "");
  int rndr = has_rndr();
  if (rndr) entropy_add_source("rndrrs", rndr_source);
  entropy_add_source("counter-jitter", jitter_source);
  if (x86_boot.efi_rng_len) {
    entropy_add(x86_boot.efi_rng, x86_boot.efi_rng_len, (unsigned)x86_boot.efi_rng_len * 8);
    __builtin_memset(x86_boot.efi_rng, 0, sizeof x86_boot.efi_rng);
  }
  klog(LOG_INFO, "entropy: sources%s%s counter-jitter",
       x86_boot.efi_rng_len ? " EFI_RNG_PROTOCOL" : "", rndr ? " rndrrs" : "");
  return entropy_start();
}
