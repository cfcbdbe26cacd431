/*
 * efi_clockrng.c: what the time and entropy services take from UEFI while
 * boot services are up (docs/time.md, docs/entropy.md): GetTime, and 64
 * bytes from EFI_RNG_PROTOCOL when the firmware has one. Shared by the
 * x86_64 and aarch64 loaders (boot.c). After kernel_init, the platform's
 * clockrng.c hands both to the services with the helpers below, beside
 * its own sources (an RTC, the CPU's random instructions, its counter).
 *
 * Interface: efi_clockrng_collect, uefi_clock_set, uefi_entropy_from_efi,
 * uefi_jitter (boot.h).
 */
#include "boot.h"
#include "efi.h"
#include "mneme/entropy.h"
#include "mneme/log.h"
#include "mneme/wallclock.h"

void efi_clockrng_collect(void *system_table) {
  efi_system_table *st = system_table;
  uefi_boot.efi_time_s = INT64_MIN;
  uefi_boot.efi_rng_len = 0;
  efi_runtime_services *rt = st->runtime_services;
  efi_time t;
  if (rt && rt->get_time && rt->get_time(&t, NULL) == EFI_SUCCESS && t.month >= 1 &&
      t.month <= 12 && t.day >= 1 && t.day <= 31 && t.hour < 24 && t.minute < 60 &&
      t.second < 61) {
    struct wallclock_tm tm = {t.year, t.month, t.day, t.hour, t.minute, t.second};
    int64_t s = wallclock_join(&tm);
    /* UEFI 2.x: Localtime = UTC + TimeZone (minutes); unspecified: the
     * clock is taken as UTC, as QEMU's is. */
    if (t.timezone != EFI_UNSPECIFIED_TIMEZONE && t.timezone >= -1440 && t.timezone <= 1440)
      s -= (int64_t)t.timezone * 60;
    uefi_boot.efi_time_s = s;
  }
  efi_guid g = EFI_RNG_PROTOCOL_GUID;
  efi_rng *rng = NULL;
  if (st->boot_services->locate_protocol(&g, NULL, (void **)&rng) == EFI_SUCCESS && rng &&
      rng->get_rng(rng, NULL, sizeof uefi_boot.efi_rng, uefi_boot.efi_rng) == EFI_SUCCESS)
    uefi_boot.efi_rng_len = sizeof uefi_boot.efi_rng;
}

void uefi_clock_set(int rtc_err, int64_t rtc, const char *rtc_name) {
  int64_t efi = uefi_boot.efi_time_s;
  if (efi >= WALLCLOCK_MIN_SET) {
    wallclock_set_from(efi, "UEFI GetTime");
    if (!rtc_err && (rtc - efi > 5 || efi - rtc > 5))
      klog(LOG_WARN, "time: the %s differs from UEFI GetTime by %lld s", rtc_name,
           (long long)(rtc - efi));
  } else if (!rtc_err) {
    wallclock_set_from(rtc, rtc_name);
  }
  int64_t now;
  char iso[WALLCLOCK_ISO_LEN];
  int unset = wallclock_now(&now);
  wallclock_format(now, iso);
  klog(unset ? LOG_WARN : LOG_INFO, "time: %s (%s)%s", iso, wallclock_source(),
       unset ? ": the clock is not set" : "");
}

int uefi_entropy_from_efi(void) {
  if (!uefi_boot.efi_rng_len) return 0;
  entropy_add(uefi_boot.efi_rng, uefi_boot.efi_rng_len, (unsigned)uefi_boot.efi_rng_len * 8);
  __builtin_memset(uefi_boot.efi_rng, 0, sizeof uefi_boot.efi_rng);
  return 1;
}

/* The time a small memory walk takes varies with caches, interrupts and
 * (under emulation) the host. The deltas are mixed in; 1 bit is counted
 * per 8 samples, and none when they barely vary (a stuck or coarse
 * counter). */
size_t uefi_jitter(void *buf, size_t len, unsigned *bits, uint64_t (*counter)(void),
                   unsigned walk_steps) {
  static volatile uint8_t walk[4096];
  uint8_t *out = buf;
  uint64_t prev = counter(), prev_delta = 0;
  unsigned changes = 0;
  for (size_t i = 0; i < len; i++) {
    for (unsigned k = 0; k < walk_steps; k++) walk[(k * 67 + i * 131 + (prev & 63)) & 4095]++;
    uint64_t now = counter(), delta = now - prev;
    prev = now;
    out[i] = (uint8_t)(delta ^ (delta >> 8));
    if (delta != prev_delta) changes++;
    prev_delta = delta;
  }
  *bits = changes * 4 >= len * 3 ? (unsigned)len / 8 : 0;
  return len;
}
