/*
 * kbd.h: the PS/2 keyboard (i8042, IRQ 1), scancode set 1 (the controller
 * translates), decoded with a US layout into the key events of
 * include/mneme/keyboard.h, which the driver publishes to the keyboard
 * mux.
 */
#ifndef MNEME_X86_KBD_H
#define MNEME_X86_KBD_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/keyboard.h"

/* Enables the first PS/2 port and its interrupt. Returns 0 or MN_ENOTSUP. */
int kbd_init(void);
/* Interrupt handler: decodes into the event ring. */
void kbd_irq(void);
/*
 * Decodes one set-1 scancode byte; returns 1 and fills *ev when it
 * completes a key press or release (modifier keys update the modifier
 * state and give no event).
 */
int kbd_decode(uint8_t sc, struct key_event *ev);
/* Takes up to max events from the ring; returns the count. Events that
 * found the ring full are counted in kbd_lost(). */
size_t kbd_read(struct key_event *ev, size_t max);
uint64_t kbd_lost(void);
/* kbd_to_bytes (the bytes a terminal sends for a key press) is in
 * include/mneme/keyboard.h, shared by every console. */

#endif
