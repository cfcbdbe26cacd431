/*
 * gtimer.h: the ARM generic timer: the virtual counter is plat_now_ns,
 * the EL1 virtual timer (its interrupt from the ACPI GTDT, PPI 27 if
 * there is none) wakes plat_wait_event at its deadline.
 */
#ifndef MNEME_A64_GTIMER_H
#define MNEME_A64_GTIMER_H

#include <stdint.h>

/* Reads the counter's rate (CNTFRQ_EL0); plat_now_ns works from here. */
void gtimer_early_init(void);
/* Routes the timer interrupt through the GIC. Returns 0 or an MN_E* code. */
int gtimer_init(uintptr_t rsdp);
uint64_t gtimer_hz(void);
unsigned gtimer_irq_id(void);
uint64_t gtimer_ticks_to_ns(uint64_t ticks);
/* Timer interrupts so far. */
extern volatile uint64_t gtimer_irqs;

#endif
