/*
 * serial_svc.h: COM1 as the kernel's serial port service.
 */
#ifndef MNEME_X86_SERIAL_SVC_H
#define MNEME_X86_SERIAL_SVC_H

#include "mneme/waitq.h"

/* Woken when console input arrives (serial bytes, key presses). */
extern struct waitq uefi_input_wq;

/* Initializes the wait queues (before interrupts are enabled). */
void uefi_serial_early_init(void);
/* IRQ 4 handler: drains the UART, wakes the rx task. */
void uefi_serial_irq(void);
/* Registers the service and starts its tasks (after kernel_init).
 * Returns 0, MN_ENOMEM or an svc_register error. */
int uefi_serial_start(void);

#endif
