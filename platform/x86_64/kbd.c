/*
 * kbd.c: PS/2 keyboard driver. The firmware leaves the i8042 with
 * scancode translation on, so bytes arrive as set 1: make codes below
 * 0x80, break codes with bit 7 set, 0xE0 prefixing the extended keys
 * (arrows, Home/End, Delete, right Ctrl/Alt). The IRQ 1 handler decodes
 * them with a US layout into key events in a ring; Shift, Ctrl, Alt and
 * Caps Lock are tracked as modifier state.
 *
 * Interface: kbd_init, kbd_irq, kbd_decode, kbd_read, kbd_to_bytes.
 */
#include "kbd.h"

#include "mneme/err.h"
#include "mneme/platform.h"
#include "x86.h"

#define EV_RING 256

static struct key_event ring[EV_RING];
static volatile uint32_t head, tail;
static uint8_t mods, e0;

static const char plain[0x3a] =
    "\0\033" "1234567890-=" "\b\t" "qwertyuiop[]" "\r\0" "asdfghjkl;'`"
    "\0\\" "zxcvbnm,./" "\0*\0 ";
static const char shifted[0x3a] =
    "\0\033" "!@#$%^&*()_+" "\b\t" "QWERTYUIOP{}" "\r\0" "ASDFGHJKL:\"~"
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

static uint32_t ext_key(uint8_t code) {
  switch (code) {
  case 0x48: return KEY_UP;
  case 0x50: return KEY_DOWN;
  case 0x4b: return KEY_LEFT;
  case 0x4d: return KEY_RIGHT;
  case 0x47: return KEY_HOME;
  case 0x4f: return KEY_END;
  case 0x53: return KEY_DELETE;
  case 0x52: return KEY_INSERT;
  case 0x49: return KEY_PGUP;
  case 0x51: return KEY_PGDN;
  case 0x1c: return '\r';  /* keypad Enter */
  case 0x35: return '/';   /* keypad / */
  default: return 0;
  }
}

int kbd_decode(uint8_t sc, struct key_event *ev) {
  if (sc == 0xe0) {
    e0 = 1;
    return 0;
  }
  int ext = e0, down = !(sc & 0x80);
  uint8_t code = sc & 0x7f;
  e0 = 0;
  uint8_t bit = 0;
  if (code == 0x2a || code == 0x36) bit = ext ? 0 : KMOD_SHIFT; /* E0 2A: fake shift */
  else if (code == 0x1d) bit = KMOD_CTRL;
  else if (code == 0x38) bit = KMOD_ALT;
  if (bit || code == 0x2a || code == 0x36) {
    if (down) mods |= bit; else mods &= ~bit;
    return 0;
  }
  if (code == 0x3a && !ext) {
    if (down) mods ^= KMOD_CAPS;
    return 0;
  }
  uint32_t key = 0;
  if (ext) {
    key = ext_key(code);
  } else if (code < sizeof plain) {
    int shift = (mods & KMOD_SHIFT) != 0;
    char c = plain[code];
    if ((mods & KMOD_CAPS) && c >= 'a' && c <= 'z') shift = !shift;
    key = (uint8_t)(shift ? shifted[code] : c);
    if (code == 0x0e) key = 0x7f; /* Backspace sends DEL, like terminals */
  } else if (code >= 0x47 && code <= 0x53 && !(mods & KMOD_SHIFT)) {
    key = ext_key(code); /* keypad with Num Lock off */
  } else if (code == 0x3b) {
    key = KEY_F1;
  }
  if (!key) return 0;
  ev->key = key;
  ev->mods = mods;
  ev->down = (uint8_t)down;
  return 1;
}

void kbd_irq(void) {
  while (inb(0x64) & 1) {
    uint8_t sc = inb(0x60);
    struct key_event ev;
    if (!kbd_decode(sc, &ev)) continue;
    if (head - tail == EV_RING) continue; /* full: drop the newest */
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

static size_t seq(char out[8], const char *s) {
  size_t n = 0;
  while (s[n]) out[n] = s[n], n++;
  return n;
}

size_t kbd_to_bytes(const struct key_event *ev, char out[8]) {
  if (!ev->down) return 0;
  switch (ev->key) {
  case KEY_UP: return seq(out, "\033[A");
  case KEY_DOWN: return seq(out, "\033[B");
  case KEY_RIGHT: return seq(out, "\033[C");
  case KEY_LEFT: return seq(out, "\033[D");
  case KEY_HOME: return seq(out, "\033[H");
  case KEY_END: return seq(out, "\033[F");
  case KEY_DELETE: return seq(out, "\033[3~");
  case KEY_INSERT: return seq(out, "\033[2~");
  case KEY_PGUP: return seq(out, "\033[5~");
  case KEY_PGDN: return seq(out, "\033[6~");
  case KEY_ESC: return seq(out, "\033");
  default: break;
  }
  if (ev->key >= 0x80) return 0;
  size_t n = 0;
  char c = (char)ev->key;
  if (ev->mods & KMOD_ALT) out[n++] = '\033';
  if ((ev->mods & KMOD_CTRL) && ((c >= 'a' && c <= 'z') || (c >= '@' && c <= '_')))
    c = (char)(c & 0x1f);
  out[n++] = c;
  return n;
}
