/*
 * console_svc.h: the PC console: the console port service both UEFI
 * platforms offer (platform/uefi/console_port.h: framebuffer text console
 * for output, the keyboard mux for input) with the PS/2 keyboard as one
 * of its keyboards. A shell attaches to the serial port and to the
 * console port the same way.
 */
#ifndef MNEME_X86_CONSOLE_SVC_H
#define MNEME_X86_CONSOLE_SVC_H

#include "console_port.h" /* CONSOLE_UUID, CONSOLE_TYPE, console_get_port */
#include "mneme/serial.h"
#include "mneme/waitq.h"

/* Initializes the wait queues (before interrupts are enabled). */
void x86_console_early_init(void);
/* IRQ 1 handler: decodes scancodes, wakes the keyboard task. */
void x86_console_kbd_irq(void);
/* Registers the service and starts its tasks (after kernel_init); with
 * use_mux the PS/2 driver publishes to the keyboard mux and the console
 * reads the mux. Returns 0, MN_ENOMEM or an svc_register error. */
int x86_console_start(int use_mux);

#endif
