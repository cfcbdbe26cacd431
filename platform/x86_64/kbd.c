/*
 * kbd.c: PS/2 keyboard driver. The firmware leaves the i8042 with
 * scancode translation on, so bytes arrive as set 1: make codes below
 * 0x80, break codes with bit 7 set, 0xE0 prefixing the extended keys
 * (arrows, Home/End, Delete, right Ctrl/Alt, keypad Enter and /). The
 * IRQ 1 handler decodes them with a US layout into struct key_event
 * (include/mneme/keyboard.h) in a ring; Shift, Ctrl, Alt and Caps Lock
 * are tracked as modifier state. kbd_to_bytes (services/kbd_decode.c)
 * turns presses back into what a terminal would send.
 *
 * Interface: kbd_init, kbd_irq, kbd_decode, kbd_read, kbd_lost.
 */
#include "kbd.h"

#include "mneme/err.h"
#include "mneme/platform.h"
#include "x86.h"

#define EV_RING 256

static struct key_event ring[EV_RING];
static volatile uint32_t head, tail;
static volatile uint64_t lost;
static uint8_t mods, e0;

/* Set 1 make codes 0x00-0x39 with a US layout; 0: not a character. */
static const char plain[0x3a] =
    "\0\0" "1234567890-=" "\0\0" "qwertyuiop[]" "\0\0" "asdfghjkl;'`"
    "\0\\" "zxcvbnm,./" "\0*\0 ";
static const char shifted[0x3a] =
    "\0\0" "!@#$%^&*()_+" "\0\0" "QWERTYUIOP{}" "\0\0" "ASDFGHJKL:\"~"
    "\0|" "ZXCVBNM<>?" "\0*\0 ";

static int wait_write(void) {
  for (int i = 0; i < 100000; i++)
    if (!(inb(0x64) & 2)) return 0;
  return -1;
}

int kbd_init(void) {
  if (inb(0x64) == 0xff) return MN_ENOTSUP; /* no controller */
  if (wait_write()) return MN_ENOTSUP;
  outb(0x64, 0xad); /* disable port 1 while configuring */
  for (int i = 0; i < 64 && (inb(0x64) & 1); i++) (void)inb(0x60);
  wait_write();
  outb(0x64, 0x20);
  uint8_t cfg = 0;
  for (int i = 0; i < 100000; i++)
    if (inb(0x64) & 1) {
      cfg = inb(0x60);
      break;
    }
  cfg |= 0x01;  /* port 1 interrupt */
  cfg &= ~0x10; /* port 1 clock on */
  wait_write();
  outb(0x64, 0x60);
  wait_write();
  outb(0x60, cfg);
  wait_write();
  outb(0x64, 0xae); /* enable port 1 */
  return 0;
}

/* Extended (E0) keys and the keypad with Num Lock off. */
static uint16_t nav_key(uint8_t code) {
  switch (code) {
  case 0x48: return KEY_UP;
  case 0x50: return KEY_DOWN;
  case 0x4b: return KEY_LEFT;
  case 0x4d: return KEY_RIGHT;
  case 0x47: return KEY_HOME;
  case 0x4f: return KEY_END;
  case 0x53: return KEY_DELETE;
  case 0x52: return KEY_INSERT;
  case 0x49: return KEY_PAGE_UP;
  case 0x51: return KEY_PAGE_DOWN;
  default: return 0xffff;
  }
}

/* Fills ev for a non-modifier key; returns 0 for keys mneme ignores. */
static int key_for(uint8_t code, int ext, struct key_event *ev) {
  ev->code = KEY_CHAR;
  ev->ch = 0;
  if (ext) {
    if (code == 0x1c) return ev->code = KEY_ENTER, 1;
    if (code == 0x35) return ev->ch = '/', 1;
    uint16_t k = nav_key(code);
    return k != 0xffff ? (ev->code = k, 1) : 0;
  }
  switch (code) {
  case 0x01: return ev->code = KEY_ESC, 1;
  case 0x0e: return ev->code = KEY_BACKSPACE, 1;
  case 0x0f: return ev->code = KEY_TAB, 1;
  case 0x1c: return ev->code = KEY_ENTER, 1;
  default: break;
  }
  if (code >= 0x3b && code <= 0x44) return ev->code = KEY_F, ev->ch = code - 0x3a, 1;
  if (code == 0x57 || code == 0x58) return ev->code = KEY_F, ev->ch = code - 0x56 + 10, 1;
  if (code >= 0x47 && code <= 0x53 && code != 0x4a && code != 0x4e) {
    uint16_t k = nav_key(code); /* keypad, Num Lock off */
    return k != 0xffff ? (ev->code = k, 1) : 0;
  }
  if (code == 0x4a) return ev->ch = '-', 1;
  if (code == 0x4e) return ev->ch = '+', 1;
  if (code >= sizeof plain || !plain[code]) return 0;
  int shift = (mods & KEYMOD_SHIFT) != 0;
  char c = plain[code];
  if ((mods & KEYMOD_CAPS_LOCK) && c >= 'a' && c <= 'z') shift = !shift;
  ev->ch = (uint8_t)(shift ? shifted[code] : c);
  return 1;
}

int kbd_decode(uint8_t sc, struct key_event *ev) {
  if (sc == 0xe0) {
    e0 = 1;
    return 0;
  }
  if (sc == 0xe1 || sc == 0x00 || sc == 0xff || sc == 0xfa || sc == 0xfe) {
    e0 = 0; /* Pause prefix, errors, ACK, resend: no key */
    return 0;
  }
  int ext = e0, down = !(sc & 0x80);
  uint8_t code = sc & 0x7f;
  e0 = 0;
  uint8_t bit = 0;
  if (code == 0x2a || code == 0x36) {
    if (ext) return 0; /* E0 2A / E0 36: the fake Shifts of Print Screen */
    bit = KEYMOD_SHIFT;
  } else if (code == 0x1d) {
    bit = KEYMOD_CTRL;
  } else if (code == 0x38) {
    bit = KEYMOD_ALT;
  }
  if (bit) {
    if (down) mods |= bit;
    else mods &= (uint8_t)~bit;
    return 0;
  }
  if (code == 0x3a && !ext) {
    if (down) mods ^= KEYMOD_CAPS_LOCK;
    return 0;
  }
  if (!key_for(code, ext, ev)) return 0;
  ev->kind = down ? KEY_PRESSED : KEY_RELEASED;
  ev->mods = mods;
  return 1;
}

void kbd_irq(void) {
  while (inb(0x64) & 1) {
    uint8_t sc = inb(0x60);
    struct key_event ev;
    if (!kbd_decode(sc, &ev)) continue;
    if (head - tail == EV_RING) {
      lost++;
      continue;
    }
    ring[head % EV_RING] = ev;
    head++;
  }
}

size_t kbd_read(struct key_event *ev, size_t max) {
  unsigned long s = plat_irq_save();
  size_t n = 0;
  while (n < max && tail != head) ev[n++] = ring[tail++ % EV_RING];
  plat_irq_restore(s);
  return n;
}

uint64_t kbd_lost(void) { return lost; }
