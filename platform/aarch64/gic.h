/*
 * gic.h: the ARM Generic Interrupt Controller, version 3 (distributor,
 * redistributor, system-register CPU interface) or version 2 (memory-
 * mapped CPU interface), as the ACPI MADT describes it, with its MSI
 * controller (GICv3 ITS or GICv2m frame) when there is one. Interrupt IDs:
 * 16-31 private (PPI: the timers), 32+ shared (SPI: devices).
 */
#ifndef MNEME_A64_GIC_H
#define MNEME_A64_GIC_H

#include <stdint.h>

#define GIC_MAX_IRQ 256
#define GIC_MAX_LPI 256 /* LPIs (8192 up) handed out for MSIs */

/* Finds the GIC in the MADT and initializes it (everything masked).
 * Returns 0 or MN_ENOTSUP (no MADT or no usable GIC). */
int gic_init(uintptr_t rsdp);
/* 2 or 3 once initialized, else 0. */
int gic_version(void);
/* Installs handler for interrupt id and enables it (level-triggered
 * SPIs go to this CPU). Returns 0 or MN_EINVAL. */
int gic_enable(unsigned id, void (*handler)(void));
/* The same with an argument for the handler. */
int gic_enable_arg(unsigned id, void (*fn)(void *), void *arg);
/*
 * A message-signalled interrupt calling fn(arg): through the ITS (GICv3;
 * an LPI, translated from the event *data of requester, the PCI requester
 * ID taken as the ITS device ID, as QEMU's IORT maps it) or the GICv2m
 * frame (an edge-triggered SPI). *addr and *data are the message. Returns
 * the interrupt ID, or MN_ENOTSUP (neither), MN_ENOSPC, MN_ENOMEM,
 * MN_ETIMEDOUT (the ITS did not take a command).
 */
int gic_msi_alloc(uint32_t requester, void (*fn)(void *), void *arg, uint64_t *addr,
                  uint32_t *data);
/* "ITS", "GICv2m" or "none". */
const char *gic_msi_kind(void);
/* The software-generated interrupt that wakes an idle core (its handler
 * does nothing: the wfi ends). */
#define GIC_SGI_WAKE 1
/* This core's share of the GIC (another core than the first): its
 * redistributor (v3) or banked registers and CPU interface (v2), with
 * GIC_SGI_WAKE enabled. 0 or MN_ENOTSUP. */
int gic_cpu_init(void);
/* Sends SGI id to the core with affinity mpidr (v3; Aff0 < 16) or CPU
 * interface number cpu_if (v2). */
void gic_send_sgi(unsigned id, uint64_t mpidr, unsigned cpu_if);
/* Acknowledges and handles every pending interrupt (interrupt context). */
void gic_dispatch(void);
/* Distributor and CPU interface bases (for the CPU word). */
uintptr_t gic_dist_base(void);
uintptr_t gic_cpu_base(void); /* v2: GICC; v3: this CPU's redistributor */

#endif
