/*
 * acpi.c: ACPI table lookup (see acpi.h).
 *
 * Interface: acpi_find.
 */
#include "acpi.h"

#include <stddef.h>
#include <string.h>

static int checksum_ok(const void *p, size_t n) {
  uint8_t sum = 0;
  for (size_t i = 0; i < n; i++) sum += ((const uint8_t *)p)[i];
  return sum == 0;
}

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

const uint8_t *acpi_find(uintptr_t rsdp, const char sig[4]) {
  const uint8_t *r = (const uint8_t *)rsdp;
  if (!r || memcmp(r, "RSD PTR ", 8) != 0 || !checksum_ok(r, 20)) return NULL;
  int xsdt = r[15] >= 2 && rd64(r + 24);
  const uint8_t *sdt = xsdt ? (const uint8_t *)rd64(r + 24)
                            : (const uint8_t *)(uintptr_t)rd32(r + 16);
  if (!sdt) return NULL;
  uint32_t len = rd32(sdt + 4);
  size_t esz = xsdt ? 8 : 4;
  for (size_t off = 36; off + esz <= len; off += esz) {
    uint64_t a = xsdt ? rd64(sdt + off) : rd32(sdt + off);
    const uint8_t *t = (const uint8_t *)a;
    if (t && memcmp(t, sig, 4) == 0) return t;
  }
  return NULL;
}
