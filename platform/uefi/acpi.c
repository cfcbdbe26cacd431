/*
 * acpi.c: ACPI table lookup (see acpi.h).
 *
 * Interface: acpi_find, acpi_pci_ecam, acpi_psci_hvc.
 */
#include "acpi.h"

#include <string.h>

#include "mneme/pci.h"

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

size_t acpi_pci_ecam(uintptr_t rsdp, struct pci_ecam *out, size_t max) {
  const uint8_t *m = acpi_find(rsdp, "MCFG");
  if (!m) return 0;
  uint32_t len = rd32(m + 4);
  size_t n = 0;
  for (uint32_t off = 44; off + 16 <= len && n < max; off += 16) {
    const uint8_t *e = m + off;
    memcpy(&out[n].base, e, 8);
    memcpy(&out[n].segment, e + 8, 2);
    out[n].bus_start = e[10];
    out[n].bus_end = e[11];
    if (out[n].base && out[n].bus_end >= out[n].bus_start) n++;
  }
  return n;
}

int acpi_psci_hvc(uintptr_t rsdp) {
  const uint8_t *f = acpi_find(rsdp, "FACP");
  if (!f || rd32(f + 4) < 131) return -1;
  uint16_t flags = (uint16_t)(f[129] | f[130] << 8);
  if (!(flags & 1)) return -1; /* PSCI_COMPLIANT */
  return (flags >> 1) & 1;     /* PSCI_USE_HVC */
}
