/*
 * acpi.h: finding ACPI tables (through the XSDT, else the RSDT) and the
 * facts the aarch64 platform takes from them: the GIC (MADT), the
 * generic timer's interrupt (GTDT) and the console UART (SPCR).
 */
#ifndef MNEME_A64_ACPI_H
#define MNEME_A64_ACPI_H

#include <stdint.h>

/* Returns the table with signature sig, or NULL (also for a bad RSDP). */
const uint8_t *acpi_find(uintptr_t rsdp, const char sig[4]);

#endif
