/*
 * efi_clockrng.c: what the time and entropy services take from UEFI while
 * boot services are up (docs/time.md, docs/entropy.md): GetTime, and 64
 * bytes from EFI_RNG_PROTOCOL when the firmware has one. Shared by the
 * x86_64 and aarch64 loaders (boot.c); the platform's main hands both to
 * the services after kernel_init.
 *
 * Interface: efi_clockrng_collect.
 */
#include "boot.h"
#include "efi.h"
#include "mneme/wallclock.h"

void efi_clockrng_collect(void *system_table) {
  efi_system_table *st = system_table;
  x86_boot.efi_time_s = INT64_MIN;
  x86_boot.efi_rng_len = 0;
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
    x86_boot.efi_time_s = s;
  }
  efi_guid g = EFI_RNG_PROTOCOL_GUID;
  efi_rng *rng = NULL;
  if (st->boot_services->locate_protocol(&g, NULL, (void **)&rng) == EFI_SUCCESS && rng &&
      rng->get_rng(rng, NULL, sizeof x86_boot.efi_rng, x86_boot.efi_rng) == EFI_SUCCESS)
    x86_boot.efi_rng_len = sizeof x86_boot.efi_rng;
}
