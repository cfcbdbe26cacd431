/*
 * kbd.h: the PS/2 keyboard (i8042, IRQ 1), scancode set 1 (the controller
 * translates), decoded to key events with a US layout.
 */
#ifndef MNEME_X86_KBD_H
#define MNEME_X86_KBD_H

#include <stddef.h>
#include <stdint.h>

/* Special keys: codes above the Unicode range used by key events. */
enum {
  KEY_UP = 0x110000, KEY_DOWN, KEY_LEFT, KEY_RIGHT, KEY_HOME, KEY_END,
  KEY_DELETE, KEY_INSERT, KEY_PGUP, KEY_PGDN, KEY_ESC, KEY_F1,
};

enum { KMOD_SHIFT = 1, KMOD_CTRL = 2, KMOD_ALT = 4, KMOD_CAPS = 8 };

struct key_event {
  uint32_t key;   /* Unicode scalar (layout and Shift/Caps applied) or KEY_* */
  uint8_t mods;   /* KMOD_* at the time of the event */
  uint8_t down;   /* 1 press (or repeat), 0 release */
};

/* Enables the first PS/2 port and its interrupt. Returns 0 or MN_ENOTSUP. */
int kbd_init(void);
/* Interrupt handler. */
void kbd_irq(void);
/*
 * Decodes one set-1 scancode byte; returns 1 and fills *ev when it
 * completes an event for a key (modifier keys update state, no event).
 */
int kbd_decode(uint8_t sc, struct key_event *ev);
/* Takes up to max key events (presses and releases); returns the count. */
size_t kbd_read(struct key_event *ev, size_t max);
/*
 * Turns a key press into the bytes a terminal would send (ASCII, control
 * codes for Ctrl+letter, ANSI sequences for arrows/Home/End/Delete,
 * ESC prefix for Alt). Returns the count (0 for releases and unknown keys).
 */
size_t kbd_to_bytes(const struct key_event *ev, char out[8]);

#endif
