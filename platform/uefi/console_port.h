/*
 * console_port.h: the console port service both UEFI platforms offer
 * (console_port.c: the framebuffer for output, the keyboard mux for
 * input; x86_64's console_svc.c adds the PS/2 keyboard), shaped exactly
 * like the serial port service (include/mneme/serial.h: GetPort hands out
 * an rx and a tx ring, one client at a time), under its own UUID.
 *
 * rx carries what a terminal would send for each key press (ASCII,
 * control codes for Ctrl+letter, ANSI sequences for arrows, Home/End,
 * Delete; see kbd_to_bytes); tx text goes to the framebuffer console,
 * which understands CR/LF/BS/TAB and ANSI colours and cursor movement.
 */
#ifndef MNEME_UEFI_CONSOLE_PORT_H
#define MNEME_UEFI_CONSOLE_PORT_H

#include <stdint.h>

#include "mneme/bbq.h"
#include "mneme/serial.h"

/* f098cffb-eba0-407a-930d-63d9d357c5bd */
#define CONSOLE_UUID UUID_INIT(0xf098cffb, 0xeba0, 0x407a, 0x930d, 0x63d9d357c5bdull)
#define CONSOLE_TYPE SERIAL_TYPE

struct key_event;

/* Registers the service and starts its tasks (after kernel_init): the
 * framebuffer writer and, with use_mux, the reader of the keyboard mux.
 * Returns 0, MN_ENOMEM or an svc_register error. */
int console_port_start(int use_mux);
/* Hands one key event to the console (or the chat screen, or switches
 * screens on Alt+F1/F2); waits for room in rx. 0, or -1 when the port is
 * closed. For a platform's keyboard read without the mux. */
int console_port_key(const struct key_event *ev);
/* Gets the console port: like serial_get_port. */
int console_get_port(uint64_t timeout_ns, struct bbq **rx, struct bbq **tx);

#endif
