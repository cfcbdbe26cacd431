/*
 * hid.c: USB HID keyboards (include/mneme/usb.h): the report descriptor
 * parser for keyboard input reports, report decoding into key presses and
 * releases (US layout, the same events as the PS/2 driver), and software
 * key repeat (the caller supplies the time, so it runs on the host).
 *
 * Interface: hid_boot_layout, hid_parse_keyboard, hid_kbd_init,
 * hid_kbd_report, hid_kbd_next_repeat, hid_kbd_repeat,
 * hid_kbd_release_all, hid_usage_key.
 */
#include <string.h>

#include "mneme/err.h"
#include "mneme/usb.h"

#define MAX_REPORT_BITS 4096u   /* 512 bytes */
#define MAX_DEPTH 16
#define MAX_PUSH 4
#define MAX_USAGES 16

#define U_ROLLOVER 0x01
#define U_CAPS 0x39
#define U_NUMLOCK 0x53

void hid_boot_layout(struct hid_kbd_layout *l) {
  memset(l, 0, sizeof *l);
  l->report_bits = 64;
  l->mod_off = 0;
  l->arr_off = 16;
  l->arr_count = 6;
  l->arr_size = 8;
  l->arr_min = 0;
  l->bmp_off = -1;
}

/* ---- report descriptor ---------------------------------------------------- */

struct globals {
  uint32_t page;
  int32_t lmin, lmax;
  uint32_t size, count, id;
};

static uint32_t item_u(const uint8_t *p, unsigned n) {
  uint32_t v = 0;
  for (unsigned i = 0; i < n; i++) v |= (uint32_t)p[i] << (8 * i);
  return v;
}

static int32_t item_s(const uint8_t *p, unsigned n) {
  uint32_t v = item_u(p, n);
  if (n == 1) return (int8_t)v;
  if (n == 2) return (int16_t)v;
  return (int32_t)v;
}

int hid_parse_keyboard(const uint8_t *d, size_t len, struct hid_kbd_layout *l) {
  static const unsigned sizes[4] = {0, 1, 2, 4};
  struct globals g, stack[MAX_PUSH];
  unsigned sp = 0, depth = 0;
  uint32_t usages[MAX_USAGES], nusages = 0, umin = 0, umax = 0;
  int have_min = 0, have_max = 0;
  uint16_t bits[256];        /* input bits so far, per report ID */
  int found_id = -1;         /* the report ID whose keys we took */
  struct hid_kbd_layout k;
  memset(&g, 0, sizeof g);
  memset(bits, 0, sizeof bits);
  memset(&k, 0, sizeof k);
  k.mod_off = k.arr_off = k.bmp_off = -1;
  if (!d) return MN_EPROTO;
  for (size_t off = 0; off < len;) {
    uint8_t b = d[off];
    if (b == 0xfe) { /* long item: size, tag, data; nothing we use */
      if (len - off < 3 || d[off + 1] > len - off - 3) return MN_EPROTO;
      off += 3u + d[off + 1];
      continue;
    }
    unsigned n = sizes[b & 3], type = (b >> 2) & 3, tag = b >> 4;
    if (n > len - off - 1) return MN_EPROTO;
    const uint8_t *p = d + off + 1;
    off += 1 + n;
    uint32_t u = item_u(p, n);
    if (type == 1) { /* global */
      switch (tag) {
      case 0: g.page = u; break;
      case 1: g.lmin = item_s(p, n); break;
      case 2: g.lmax = item_s(p, n); break;
      case 7: if (u > 32) return MN_EPROTO; g.size = u; break;
      case 8: if (u == 0 || u > 255) return MN_EPROTO; g.id = u; break;
      case 9: if (u > MAX_REPORT_BITS) return MN_EPROTO; g.count = u; break;
      case 10: if (sp == MAX_PUSH) return MN_EPROTO; stack[sp++] = g; break;
      case 11: if (!sp) return MN_EPROTO; g = stack[--sp]; break;
      default: break;
      }
      continue;
    }
    if (type == 2) { /* local */
      if (tag == 0) {
        if (nusages < MAX_USAGES) usages[nusages++] = n == 4 ? u : (g.page << 16 | u);
      } else if (tag == 1) {
        umin = n == 4 ? u & 0xffff : u;
        have_min = 1;
      } else if (tag == 2) {
        umax = n == 4 ? u & 0xffff : u;
        have_max = 1;
      }
      continue;
    }
    if (type != 0) continue; /* reserved */
    /* main */
    if (tag == 10) {
      if (++depth > MAX_DEPTH) return MN_EPROTO;
    } else if (tag == 12) {
      if (!depth) return MN_EPROTO;
      depth--;
    } else if (tag == 8) { /* input */
      uint32_t nbits = g.size * g.count;
      uint32_t at = bits[g.id];
      if (at + nbits > MAX_REPORT_BITS) return MN_EPROTO;
      bits[g.id] = (uint16_t)(at + nbits);
      int constant = u & 1, variable = (u >> 1) & 1;
      uint32_t page = g.page;
      if (!have_min && nusages) page = usages[0] >> 16;
      int ours = found_id < 0 || (uint32_t)found_id == g.id;
      if (!constant && page == 7 && ours && g.count) {
        uint32_t lo = have_min ? umin : nusages ? (usages[0] & 0xffff) : 0;
        uint32_t hi = have_max ? umax : lo + g.count - 1;
        if (variable && g.size == 1) {
          if (lo == 0xe0 && g.count >= 8 && k.mod_off < 0) {
            k.mod_off = (int32_t)at;
            found_id = (int)g.id;
          } else if (hi >= lo && k.bmp_off < 0) {
            uint32_t cnt = hi - lo + 1 < g.count ? hi - lo + 1 : g.count;
            k.bmp_off = (int32_t)at;
            k.bmp_min = (uint16_t)lo;
            k.bmp_count = (uint16_t)cnt;
            found_id = (int)g.id;
          }
        } else if (!variable && g.size >= 1 && g.size <= 16 && k.arr_off < 0 &&
                   g.count <= HID_KEYS_MAX) {
          int32_t base = (int32_t)lo - g.lmin;
          if (base >= 0 && base <= 0xffff && lo <= 0xffff) {
            k.arr_off = (int32_t)at;
            k.arr_count = (uint8_t)g.count;
            k.arr_size = (uint8_t)g.size;
            k.arr_min = (uint16_t)base;
            found_id = (int)g.id;
          }
        }
      }
    }
    /* every main item ends the local items */
    nusages = 0;
    have_min = have_max = 0;
    umin = umax = 0;
  }
  if (depth) return MN_EPROTO;
  if (found_id < 0 || (k.arr_off < 0 && k.bmp_off < 0)) return MN_ENOENT;
  k.report_id = (uint8_t)found_id;
  k.report_bits = bits[found_id];
  *l = k;
  return 0;
}

/* ---- decoding --------------------------------------------------------------- */

static uint32_t get_bits(const uint8_t *r, uint32_t off, unsigned n) {
  uint32_t v = 0;
  for (unsigned i = 0; i < n; i++) {
    uint32_t bit = off + i;
    v |= (uint32_t)((r[bit >> 3] >> (bit & 7)) & 1) << i;
  }
  return v;
}

static uint8_t keymods(uint8_t m, uint8_t locks) {
  uint8_t k = locks;
  if (m & 0x11) k |= KEYMOD_CTRL;
  if (m & 0x22) k |= KEYMOD_SHIFT;
  if (m & 0x44) k |= KEYMOD_ALT;
  if (m & 0x88) k |= KEYMOD_META;
  return k;
}

/* Usages 0x04-0x38 with a US layout: plain and shifted. */
static const char plain[0x3a] =
    "\0\0\0\0" "abcdefghijklmnopqrstuvwxyz" "1234567890" "\0\0\0\0 " "-=[]\\\\;'`,./";
static const char shifted[0x3a] =
    "\0\0\0\0" "ABCDEFGHIJKLMNOPQRSTUVWXYZ" "!@#$%^&*()" "\0\0\0\0 " "_+{}||:\"~<>?";

int hid_usage_key(uint16_t usage, uint8_t mods, struct key_event *ev) {
  ev->mods = mods;
  ev->code = KEY_CHAR;
  ev->ch = 0;
  switch (usage) {
  case 0x28: case 0x58: ev->code = KEY_ENTER; return 1;
  case 0x29: ev->code = KEY_ESC; return 1;
  case 0x2a: ev->code = KEY_BACKSPACE; return 1;
  case 0x2b: ev->code = KEY_TAB; return 1;
  case 0x49: ev->code = KEY_INSERT; return 1;
  case 0x4a: ev->code = KEY_HOME; return 1;
  case 0x4b: ev->code = KEY_PAGE_UP; return 1;
  case 0x4c: ev->code = KEY_DELETE; return 1;
  case 0x4d: ev->code = KEY_END; return 1;
  case 0x4e: ev->code = KEY_PAGE_DOWN; return 1;
  case 0x4f: ev->code = KEY_RIGHT; return 1;
  case 0x50: ev->code = KEY_LEFT; return 1;
  case 0x51: ev->code = KEY_DOWN; return 1;
  case 0x52: ev->code = KEY_UP; return 1;
  case 0x54: ev->ch = '/'; return 1;
  case 0x55: ev->ch = '*'; return 1;
  case 0x56: ev->ch = '-'; return 1;
  case 0x57: ev->ch = '+'; return 1;
  case 0x64: ev->ch = (mods & KEYMOD_SHIFT) ? '|' : '\\'; return 1;
  default: break;
  }
  if (usage >= 0x3a && usage <= 0x45) return ev->code = KEY_F, ev->ch = usage - 0x39u, 1;
  if (usage >= 0x68 && usage <= 0x73) return ev->code = KEY_F, ev->ch = usage - 0x68u + 13, 1;
  if (usage >= 0x59 && usage <= 0x63) { /* keypad 1-9, 0, . */
    static const char num[] = "1234567890.";
    static const uint16_t nav[] = {KEY_END, KEY_DOWN, KEY_PAGE_DOWN, KEY_LEFT, 0, KEY_RIGHT,
                                   KEY_HOME, KEY_UP, KEY_PAGE_UP, KEY_INSERT, KEY_DELETE};
    unsigned i = usage - 0x59u;
    if (mods & KEYMOD_NUM_LOCK) return ev->ch = (uint8_t)num[i], 1;
    if (!nav[i]) return 0;
    ev->code = nav[i];
    return 1;
  }
  if (usage >= sizeof plain || !plain[usage]) return 0;
  int shift = (mods & KEYMOD_SHIFT) != 0;
  char c = plain[usage];
  if ((mods & KEYMOD_CAPS_LOCK) && c >= 'a' && c <= 'z') shift = !shift;
  ev->ch = (uint8_t)(shift ? shifted[usage] : c);
  return 1;
}

void hid_kbd_init(struct hid_kbd *k, const struct hid_kbd_layout *l) {
  memset(k, 0, sizeof *k);
  k->layout = *l;
}

static int held(const uint16_t *list, unsigned n, uint16_t u) {
  for (unsigned i = 0; i < n; i++)
    if (list[i] == u) return 1;
  return 0;
}

static void add_key(uint16_t *list, unsigned *n, uint8_t *mods, uint16_t u) {
  if (u >= 0xe0 && u <= 0xe7) {
    *mods |= (uint8_t)(1u << (u - 0xe0));
    return;
  }
  if (u < 4 || held(list, *n, u) || *n == HID_KEYS_MAX) return;
  list[(*n)++] = u;
}

static int emit(struct key_event *out, int n, int max, uint8_t kind, uint16_t usage,
                uint8_t mods) {
  struct key_event ev;
  if (!hid_usage_key(usage, mods, &ev)) return n;
  ev.kind = kind;
  if (n < max) out[n] = ev;
  return n + 1 > max ? max : n + 1;
}

int hid_kbd_report(struct hid_kbd *k, const uint8_t *r, size_t len, uint64_t now,
                   struct key_event *out, int max) {
  const struct hid_kbd_layout *l = &k->layout;
  if (!r) return 0;
  if (l->report_id) {
    if (len < 1 || r[0] != l->report_id) return 0; /* another report */
    r++;
    len--;
  }
  uint32_t need = 0;
  if (l->mod_off >= 0) need = (uint32_t)l->mod_off + 8;
  if (l->arr_off >= 0 && (uint32_t)l->arr_off + (uint32_t)l->arr_count * l->arr_size > need)
    need = (uint32_t)l->arr_off + (uint32_t)l->arr_count * l->arr_size;
  if (l->bmp_off >= 0 && (uint32_t)l->bmp_off + l->bmp_count > need)
    need = (uint32_t)l->bmp_off + l->bmp_count;
  if (len > MAX_REPORT_BITS / 8 || (uint64_t)len * 8 < need) {
    k->bad_reports++;
    return 0;
  }
  uint16_t now_held[HID_KEYS_MAX];
  unsigned nn = 0;
  uint8_t m = l->mod_off >= 0 ? (uint8_t)get_bits(r, (uint32_t)l->mod_off, 8) : 0;
  if (l->arr_off >= 0) {
    for (unsigned i = 0; i < l->arr_count; i++) {
      uint32_t v = get_bits(r, (uint32_t)l->arr_off + i * l->arr_size, l->arr_size);
      uint32_t u = v + l->arr_min;
      if (!u) continue;
      if (u == U_ROLLOVER) { /* too many keys: the state is unknown */
        k->reports++;
        return 0;
      }
      if (u <= 0xffff) add_key(now_held, &nn, &m, (uint16_t)u);
    }
  }
  if (l->bmp_off >= 0)
    for (unsigned i = 0; i < l->bmp_count; i++)
      if (get_bits(r, (uint32_t)l->bmp_off + i, 1)) add_key(now_held, &nn, &m, (uint16_t)(l->bmp_min + i));
  k->reports++;
  int n = 0;
  uint8_t mods = keymods(m, k->locks);
  for (unsigned i = 0; i < k->nheld; i++) {
    uint16_t u = k->held[i];
    if (held(now_held, nn, u)) continue;
    n = emit(out, n, max, KEY_RELEASED, u, mods);
    if (u == k->repeat) k->repeat = 0;
  }
  for (unsigned i = 0; i < nn; i++) {
    uint16_t u = now_held[i];
    if (held(k->held, k->nheld, u)) continue;
    if (u == U_CAPS || u == U_NUMLOCK) {
      k->locks ^= u == U_CAPS ? KEYMOD_CAPS_LOCK : KEYMOD_NUM_LOCK;
      mods = keymods(m, k->locks);
      continue;
    }
    struct key_event ev;
    if (!hid_usage_key(u, mods, &ev)) continue;
    n = emit(out, n, max, KEY_PRESSED, u, mods);
    k->repeat = u;
    k->repeat_at = now + HID_REPEAT_DELAY_NS;
  }
  k->mods = m;
  memcpy(k->held, now_held, nn * sizeof now_held[0]);
  k->nheld = (uint8_t)nn;
  return n;
}

uint64_t hid_kbd_next_repeat(const struct hid_kbd *k) {
  return k->repeat ? k->repeat_at : UINT64_MAX;
}

int hid_kbd_repeat(struct hid_kbd *k, uint64_t now, struct key_event *ev) {
  if (!k->repeat || now < k->repeat_at) return 0;
  if (!hid_usage_key(k->repeat, keymods(k->mods, k->locks), ev)) {
    k->repeat = 0;
    return 0;
  }
  ev->kind = KEY_PRESSED;
  k->repeat_at += HID_REPEAT_RATE_NS;
  if (k->repeat_at <= now) k->repeat_at = now + HID_REPEAT_RATE_NS; /* late: no burst */
  return 1;
}

int hid_kbd_release_all(struct hid_kbd *k, struct key_event *out, int max) {
  int n = 0;
  uint8_t mods = keymods(k->mods, k->locks);
  for (unsigned i = 0; i < k->nheld; i++) n = emit(out, n, max, KEY_RELEASED, k->held[i], mods);
  k->nheld = 0;
  k->mods = 0;
  k->repeat = 0;
  return n;
}
