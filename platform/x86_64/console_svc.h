/*
 * console_svc.h: the PC console (framebuffer text console for output,
 * PS/2 keyboard for input) as a byte port service, shaped exactly like
 * the serial port service (include/mneme/serial.h: GetPort hands out an
 * rx and a tx ring, one client at a time), under its own UUID. A shell
 * attaches to the serial port and to the console port the same way.
 *
 * rx carries what a terminal would send for each key press (ASCII,
 * control codes for Ctrl+letter, ANSI sequences for arrows, Home/End,
 * Delete; see kbd_to_bytes); tx text goes to the framebuffer console,
 * which understands CR/LF/BS/TAB and ANSI colours and cursor movement.
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
