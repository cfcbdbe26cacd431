/*
 * gic.h: the ARM Generic Interrupt Controller, version 3 (distributor,
 * redistributor, system-register CPU interface) or version 2 (memory-
 * mapped CPU interface), as the ACPI MADT describes it. Interrupt IDs:
 * 16-31 private (PPI: the timers), 32+ shared (SPI: devices).
 */
#ifndef MNEME_A64_GIC_H
#define MNEME_A64_GIC_H

#include <stdint.h>

#define GIC_MAX_IRQ 256

/* Finds the GIC in the MADT and initializes it (everything masked).
 * Returns 0 or MN_ENOTSUP (no MADT or no usable GIC). */
int gic_init(uintptr_t rsdp);
/* 2 or 3 once initialized, else 0. */
int gic_version(void);
/* Installs handler for interrupt id and enables it (level-triggered
 * SPIs go to this CPU). Returns 0 or MN_EINVAL. */
int gic_enable(unsigned id, void (*handler)(void));
/* Acknowledges and handles every pending interrupt (interrupt context). */
void gic_dispatch(void);
/* Distributor and CPU interface bases (for the CPU word). */
uintptr_t gic_dist_base(void);
uintptr_t gic_cpu_base(void); /* v2: GICC; v3: this CPU's redistributor */

#endif
