/*
 * apic.h: ACPI MADT parsing, the local APIC and I/O APIC (the legacy PIC
 * is remapped and masked), the TSC clock calibrated against the PIT, and
 * the one-shot APIC timer behind plat_wait_event.
 */
#ifndef MNEME_X86_APIC_H
#define MNEME_X86_APIC_H

#include <stdint.h>

/* Starts the TSC/APIC timer calibration window (first thing at boot). */
void apic_calibrate_start(void);

/*
 * Finds the MADT through the RSDP, masks the PIC, enables the local APIC,
 * calibrates the TSC and APIC timer. Returns 0, or MN_ENOTSUP when there is
 * no ACPI/MADT or no local APIC.
 */
int apic_init(uintptr_t rsdp);

/* Routes ISA interrupt irq (MADT overrides applied) to vector 32 + GSI and
 * unmasks it; returns the GSI used, or a negative MN_E* code. */
int apic_route_isa(unsigned irq);

/* Routes I/O APIC input gsi to vector (level or edge triggered, active
 * low or high) on this CPU, unmasked. Returns 0 or MN_ENOENT (no such
 * input). */
int apic_route_gsi(uint32_t gsi, uint8_t vector, int level, int active_low);

/* This CPU's local APIC id (the destination of MSIs). */
uint32_t apic_lapic_id(void);

/* The ACPI table with signature sig (through the XSDT or RSDT), or NULL. */
const uint8_t *apic_acpi_table(const char sig[4]);

/* Acknowledges the interrupt being handled. */
void apic_eoi(void);

/* Fires the APIC timer interrupt once, ns from now. */
void apic_timer_arm(uint64_t ns);

#define APIC_MAX_CPUS 64

/* The local APIC ids of the enabled processors the MADT lists (the boot
 * processor among them); returns their number. */
int apic_cpus(const uint32_t **ids);
/* This processor's local APIC id; the boot processor's. */
uint32_t apic_self_id(void);
uint32_t apic_bsp_id(void);
/* Sends an IPI (ICR low word: vector, delivery mode, level) to id. */
void apic_send_ipi(uint32_t id, uint32_t low);
/* On an application processor: enables its local APIC (in the boot
 * processor's mode) with its timer firing every period_ns. */
void apic_ap_init(uint64_t period_ns);

/* TSC ticks per second, as calibrated. */
uint64_t apic_tsc_hz(void);

/* Converts a TSC value to nanoseconds since boot entry. */
uint64_t apic_tsc_to_ns(uint64_t tsc);

#endif
