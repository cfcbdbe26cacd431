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

/* Counter jitter (uefi_jitter). */
static size_t jitter_source(void *buf, size_t len, unsigned *bits) {
  return uefi_jitter(buf, len, bits, a64_counter, 256);
}

int a64_clockrng_start(void) {
  int64_t rtc = 0;
  int rtc_err = pl031_time(&rtc);
  uefi_clock_set(rtc_err, rtc, "PL031 RTC");
  int rndr = has_rndr();
  if (rndr) entropy_add_source("rndrrs", rndr_source);
  entropy_add_source("counter-jitter", jitter_source);
  int efi_rng = uefi_entropy_from_efi();
  klog(LOG_INFO, "entropy: sources%s%s counter-jitter", efi_rng ? " EFI_RNG_PROTOCOL" : "",
       rndr ? " rndrrs" : "");
  return entropy_start();
}
