/*
 * kbd_decode.c: bytes from a terminal to key events (the pseudo-keyboard),
 * and key presses back to a terminal's bytes (the consoles).
 *
 * Interface: kbd_decode_byte, kbd_to_bytes.
 *
 * A small state machine: plain bytes, ESC, CSI (ESC [) with an optional
 * number, and UTF-8 sequences. Needs nothing of the kernel (fuzzed on its
 * own by test/svc_fuzz.c).
 */
#include "mneme/keyboard.h"

enum { KD_NORMAL, KD_ESC, KD_CSI, KD_CSI_NUM, KD_UTF8 };

/* Stores the press and release of one key at out; returns 2. */
static int
key(struct key_event *out, uint16_t code, uint8_t mods, uint32_t ch)
{
  out[0] = (struct key_event){ KEY_PRESSED, mods, code, ch };
  out[1] = (struct key_event){ KEY_RELEASED, mods, code, ch };
  return 2;
}

static int
decode_csi(struct kbd_decoder *d, uint8_t b, struct key_event *out)
{
  static const uint8_t letters[] = { 'A', 'B', 'C', 'D', 'H', 'F' };
  static const uint16_t codes[] = { KEY_UP, KEY_DOWN, KEY_RIGHT, KEY_LEFT,
                                    KEY_HOME, KEY_END };
  if (d->state == KD_CSI && b >= '0' && b <= '9') {
    d->num = (uint8_t)(b - '0');
    d->state = KD_CSI_NUM;
    return 0;
  }
  int n = 0;
  if (d->state == KD_CSI) {
    for (size_t i = 0; i < sizeof letters; i++)
      if (b == letters[i])
        n = key(out, codes[i], 0, 0);
  } else if (b == '~') {
    static const uint16_t tilde[] = { 0, KEY_HOME, KEY_INSERT, KEY_DELETE,
                                      KEY_END, KEY_PAGE_UP, KEY_PAGE_DOWN };
    if (d->num >= 1 && d->num <= 6)
      n = key(out, tilde[d->num], 0, 0);
  } else if (b >= '0' && b <= '9') {
    return 0; /* longer numbers: not a key we know; wait for the end */
  }
  d->state = KD_NORMAL;
  return n; /* an unknown sequence is ignored */
}

static int
decode_plain(struct kbd_decoder *d, uint8_t b, struct key_event *out)
{
  if (b == '\r' || b == '\n')
    return key(out, KEY_ENTER, 0, 0);
  if (b == 0x7f || b == 0x08)
    return key(out, KEY_BACKSPACE, 0, 0);
  if (b == '\t')
    return key(out, KEY_TAB, 0, 0);
  if (b == 0x1b) {
    d->state = KD_ESC;
    return 0;
  }
  if (b >= 1 && b <= 26)
    return key(out, KEY_CHAR, KEYMOD_CTRL, (uint32_t)('a' + b - 1));
  if (b < 0x20)
    return 0;
  if (b < 0x80) {
    uint8_t mods = b >= 'A' && b <= 'Z' ? KEYMOD_SHIFT : 0;
    return key(out, KEY_CHAR, mods, b);
  }
  if (b >= 0xc2 && b <= 0xf4) {
    d->need = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
    d->num = d->need; /* the sequence length, for the overlong check */
    d->cp = b & (0x3fu >> d->need);
    d->state = KD_UTF8;
  }
  return 0; /* a stray continuation byte or an invalid lead is ignored */
}

int
kbd_decode_byte(struct kbd_decoder *d, uint8_t b, struct key_event out[4])
{
  switch (d->state) {
  case KD_ESC:
    d->state = KD_NORMAL;
    if (b == '[') {
      d->state = KD_CSI;
      return 0;
    }
    {
      int n = key(out, KEY_ESC, 0, 0);
      return n + decode_plain(d, b, out + n);
    }
  case KD_CSI:
  case KD_CSI_NUM:
    return decode_csi(d, b, out);
  case KD_UTF8:
    if ((b & 0xc0) != 0x80) {
      d->state = KD_NORMAL;
      return decode_plain(d, b, out);
    }
    d->cp = d->cp << 6 | (b & 0x3f);
    if (--d->need)
      return 0;
    d->state = KD_NORMAL;
    {
      static const uint32_t min[] = { 0, 0x80, 0x800, 0x10000 };
      if (d->cp < min[d->num] || d->cp > 0x10ffff ||
          (d->cp >= 0xd800 && d->cp < 0xe000))
        return 0; /* overlong, beyond Unicode, or a surrogate */
    }
    return key(out, KEY_CHAR, 0, d->cp);
  default:
    return decode_plain(d, b, out);
  }
}

static size_t seq(char out[8], const char *s) {
  size_t n = 0;
  while (s[n]) out[n] = s[n], n++;
  return n;
}

size_t kbd_to_bytes(const struct key_event *ev, char out[8]) {
  if (ev->kind != KEY_PRESSED) return 0;
  switch (ev->code) {
  case KEY_ENTER: return seq(out, "\r");
  case KEY_BACKSPACE: return seq(out, "\x7f");
  case KEY_TAB: return seq(out, "\t");
  case KEY_ESC: return seq(out, "\033");
  case KEY_UP: return seq(out, "\033[A");
  case KEY_DOWN: return seq(out, "\033[B");
  case KEY_RIGHT: return seq(out, "\033[C");
  case KEY_LEFT: return seq(out, "\033[D");
  case KEY_HOME: return seq(out, "\033[H");
  case KEY_END: return seq(out, "\033[F");
  case KEY_INSERT: return seq(out, "\033[2~");
  case KEY_DELETE: return seq(out, "\033[3~");
  case KEY_PAGE_UP: return seq(out, "\033[5~");
  case KEY_PAGE_DOWN: return seq(out, "\033[6~");
  case KEY_F:
    if (ev->ch >= 1 && ev->ch <= 4) {
      out[0] = '\033', out[1] = 'O', out[2] = (char)('P' + ev->ch - 1);
      return 3;
    }
    return 0;
  case KEY_CHAR: break;
  default: return 0;
  }
  if (ev->ch == 0 || ev->ch >= 0x80) return 0; /* the layout is ASCII */
  size_t n = 0;
  char c = (char)ev->ch;
  if (ev->mods & KEYMOD_ALT) out[n++] = '\033';
  if (ev->mods & KEYMOD_CTRL) {
    if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 1);
    else if (c >= '@' && c <= '_') c = (char)(c & 0x1f);
  }
  out[n++] = c;
  return n;
}
