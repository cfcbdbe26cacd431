/*
 * acpi.h: finding ACPI tables (through the XSDT, else the RSDT), shared by
 * both UEFI platforms, and the facts read from them that are not one
 * driver's: the PCI ECAM windows (MCFG) and aarch64's PSCI conduit (FADT).
 * The MADT, GTDT and SPCR are read by their drivers (apic.c, gic.c,
 * gtimer.c, pl011.c).
 */
#ifndef MNEME_UEFI_ACPI_H
#define MNEME_UEFI_ACPI_H

#include <stddef.h>
#include <stdint.h>

struct pci_ecam;

/* Returns the table with signature sig, or NULL (also for a bad RSDP). */
const uint8_t *acpi_find(uintptr_t rsdp, const char sig[4]);

/* The MCFG's ECAM windows (at most max) into out; how many. */
size_t acpi_pci_ecam(uintptr_t rsdp, struct pci_ecam *out, size_t max);

/* The PSCI conduit the FADT's ARM boot flags name: 1 HVC, 0 SMC, -1 no
 * FADT or no PSCI. */
int acpi_psci_hvc(uintptr_t rsdp);

#endif
