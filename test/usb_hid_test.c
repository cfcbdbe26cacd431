/*
 * usb_hid_test.c: usb/usb_desc.c and usb/hid.c on the host: device and
 * configuration descriptors (good, hostile, without HID); report
 * descriptors (the HID spec's boot keyboard, one with a report ID, an
 * n-key-rollover bitmap, a mouse, malformed ones); boot reports decoded
 * into presses and releases with Shift, Ctrl, Caps Lock, Num Lock, the
 * editing keys; rollover errors; key repeat timing; release on unplug.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mneme/err.h"
#include "mneme/usb.h"

#define MS 1000000ull

/* The HID 1.11 specification's boot keyboard (appendix B.1; QEMU's usb-kbd). */
static const uint8_t boot_desc[] = {
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00,
    0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x01,
    0x95, 0x05, 0x75, 0x01, 0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, 0x95, 0x01,
    0x75, 0x03, 0x91, 0x01, 0x95, 0x06, 0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07,
    0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xc0};

/* A composite: a mouse report (ID 1) before the keyboard (ID 2), the
 * keyboard's modifier byte then 10 keys of 16 bits. */
static const uint8_t id_desc[] = {
    0x05, 0x01, 0x09, 0x02, 0xa1, 0x01, 0x85, 0x01, 0x05, 0x09, 0x19, 0x01, 0x29, 0x03,
    0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0xc0,
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x85, 0x02, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7,
    0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x0a, 0x75, 0x10,
    0x15, 0x00, 0x26, 0xff, 0x00, 0x19, 0x00, 0x2a, 0xff, 0x00, 0x81, 0x00, 0xc0};

/* n-key rollover: modifiers, then a bitmap of usages 0x00-0x67. */
static const uint8_t nkro_desc[] = {
    0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00,
    0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x19, 0x00, 0x29, 0x67, 0x95, 0x68,
    0x81, 0x02, 0xc0};

static const uint8_t mouse_desc[] = {
    0x05, 0x01, 0x09, 0x02, 0xa1, 0x01, 0x05, 0x09, 0x19, 0x01, 0x29, 0x03, 0x15, 0x00,
    0x25, 0x01, 0x75, 0x01, 0x95, 0x03, 0x81, 0x02, 0x75, 0x05, 0x95, 0x01, 0x81, 0x01,
    0x05, 0x01, 0x09, 0x30, 0x09, 0x31, 0x15, 0x81, 0x25, 0x7f, 0x75, 0x08, 0x95, 0x02,
    0x81, 0x06, 0xc0};

static void parse_boot_descriptor(void **state) {
  (void)state;
  struct hid_kbd_layout l, b;
  assert_int_equal(hid_parse_keyboard(boot_desc, sizeof boot_desc, &l), 0);
  hid_boot_layout(&b);
  assert_int_equal(l.report_id, 0);
  assert_int_equal(l.mod_off, 0);
  assert_int_equal(l.arr_off, 16);
  assert_int_equal(l.arr_count, 6);
  assert_int_equal(l.arr_size, 8);
  assert_int_equal(l.bmp_off, -1);
  assert_int_equal(l.report_bits, 64);
  assert_memory_equal(&l, &b, sizeof l);
}

static void parse_other_layouts(void **state) {
  (void)state;
  struct hid_kbd_layout l;
  assert_int_equal(hid_parse_keyboard(id_desc, sizeof id_desc, &l), 0);
  assert_int_equal(l.report_id, 2);
  assert_int_equal(l.mod_off, 0);
  assert_int_equal(l.arr_off, 8);
  assert_int_equal(l.arr_count, 10);
  assert_int_equal(l.arr_size, 16);
  assert_int_equal(hid_parse_keyboard(nkro_desc, sizeof nkro_desc, &l), 0);
  assert_int_equal(l.arr_off, -1);
  assert_int_equal(l.bmp_off, 8);
  assert_int_equal(l.bmp_min, 0);
  assert_int_equal(l.bmp_count, 0x68);
  assert_int_equal(hid_parse_keyboard(mouse_desc, sizeof mouse_desc, &l), MN_ENOENT);
}

static void parse_malformed(void **state) {
  (void)state;
  struct hid_kbd_layout l;
  /* every truncation of a good descriptor is an error or no keyboard */
  for (size_t n = 0; n < sizeof boot_desc; n++) {
    int err = hid_parse_keyboard(boot_desc, n, &l);
    assert_true(err == MN_EPROTO || err == MN_ENOENT);
  }
  static const uint8_t unbalanced[] = {0xc0};
  assert_int_equal(hid_parse_keyboard(unbalanced, sizeof unbalanced, &l), MN_EPROTO);
  static const uint8_t open[] = {0xa1, 0x01, 0x05, 0x07};
  assert_int_equal(hid_parse_keyboard(open, sizeof open, &l), MN_EPROTO);
  static const uint8_t huge[] = {0x05, 0x07, 0x75, 0x08, 0x97, 0xff, 0xff, 0xff, 0x7f, 0x81, 0x00};
  assert_int_equal(hid_parse_keyboard(huge, sizeof huge, &l), MN_EPROTO);
  static const uint8_t big_size[] = {0x05, 0x07, 0x75, 0x40, 0x95, 0x01, 0x81, 0x00};
  assert_int_equal(hid_parse_keyboard(big_size, sizeof big_size, &l), MN_EPROTO);
  static const uint8_t pop[] = {0xb4};
  assert_int_equal(hid_parse_keyboard(pop, sizeof pop, &l), MN_EPROTO);
  static const uint8_t long_item[] = {0xfe, 0x10, 0x00, 0x01};
  assert_int_equal(hid_parse_keyboard(long_item, sizeof long_item, &l), MN_EPROTO);
  assert_int_equal(hid_parse_keyboard(NULL, 0, &l), MN_EPROTO);
}

/* Feeds a boot report; returns the event count. */
static int boot(struct hid_kbd *k, uint8_t mods, const uint8_t *keys, int nkeys, uint64_t t,
                struct key_event *ev) {
  uint8_t r[8] = {mods, 0};
  for (int i = 0; i < nkeys; i++) r[2 + i] = keys[i];
  return hid_kbd_report(k, r, sizeof r, t, ev, 16);
}

static void boot_reports(void **state) {
  (void)state;
  struct hid_kbd_layout l;
  struct hid_kbd k;
  struct key_event ev[16];
  hid_boot_layout(&l);
  hid_kbd_init(&k, &l);
  const uint8_t a = 0x04, c = 0x06, one = 0x1e, enter = 0x28;
  assert_int_equal(boot(&k, 0, &a, 1, 0, ev), 1);
  assert_int_equal(ev[0].kind, KEY_PRESSED);
  assert_int_equal(ev[0].code, KEY_CHAR);
  assert_int_equal(ev[0].ch, 'a');
  assert_int_equal(boot(&k, 0, &a, 1, 0, ev), 0); /* still held: nothing new */
  assert_int_equal(boot(&k, 0, NULL, 0, 0, ev), 1);
  assert_int_equal(ev[0].kind, KEY_RELEASED);
  assert_int_equal(ev[0].ch, 'a');
  /* left shift, then right shift */
  assert_int_equal(boot(&k, 0x02, &a, 1, 0, ev), 1);
  assert_int_equal(ev[0].ch, 'A');
  assert_true(ev[0].mods & KEYMOD_SHIFT);
  boot(&k, 0, NULL, 0, 0, ev);
  assert_int_equal(boot(&k, 0x20, &one, 1, 0, ev), 1);
  assert_int_equal(ev[0].ch, '!');
  boot(&k, 0, NULL, 0, 0, ev);
  /* Ctrl-C as the PS/2 driver gives it */
  assert_int_equal(boot(&k, 0x01, &c, 1, 0, ev), 1);
  assert_int_equal(ev[0].ch, 'c');
  assert_int_equal(ev[0].mods & KEYMOD_CTRL, KEYMOD_CTRL);
  boot(&k, 0, NULL, 0, 0, ev);
  /* two keys at once, one released */
  const uint8_t two[2] = {a, enter};
  assert_int_equal(boot(&k, 0, two, 2, 0, ev), 2);
  assert_int_equal(ev[1].code, KEY_ENTER);
  assert_int_equal(boot(&k, 0, &enter, 1, 0, ev), 1);
  assert_int_equal(ev[0].kind, KEY_RELEASED);
  assert_int_equal(ev[0].ch, 'a');
  boot(&k, 0, NULL, 0, 0, ev);
  /* Caps Lock: no event itself, letters shifted, digits not */
  const uint8_t caps = 0x39;
  assert_int_equal(boot(&k, 0, &caps, 1, 0, ev), 0);
  boot(&k, 0, NULL, 0, 0, ev);
  assert_int_equal(boot(&k, 0, &a, 1, 0, ev), 1);
  assert_int_equal(ev[0].ch, 'A');
  assert_true(ev[0].mods & KEYMOD_CAPS_LOCK);
  boot(&k, 0, &one, 1, 0, ev);
  assert_int_equal(ev[0].kind, KEY_RELEASED);
  assert_int_equal(ev[1].ch, '1');
  boot(&k, 0, NULL, 0, 0, ev);
  boot(&k, 0, &caps, 1, 0, ev);
  boot(&k, 0, NULL, 0, 0, ev);
  /* editing keys and keypad with and without Num Lock */
  static const struct {
    uint8_t usage;
    uint16_t code;
  } keys[] = {{0x2a, KEY_BACKSPACE}, {0x4a, KEY_HOME}, {0x4d, KEY_END}, {0x4c, KEY_DELETE},
              {0x50, KEY_LEFT},      {0x4f, KEY_RIGHT}, {0x52, KEY_UP},  {0x51, KEY_DOWN},
              {0x29, KEY_ESC},       {0x5f, KEY_HOME}, {0x3a, KEY_F}};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    assert_int_equal(boot(&k, 0, &keys[i].usage, 1, 0, ev), 1);
    assert_int_equal(ev[0].code, keys[i].code);
    boot(&k, 0, NULL, 0, 0, ev);
  }
  const uint8_t num = 0x53, kp7 = 0x5f;
  boot(&k, 0, &num, 1, 0, ev);
  boot(&k, 0, NULL, 0, 0, ev);
  assert_int_equal(boot(&k, 0, &kp7, 1, 0, ev), 1);
  assert_int_equal(ev[0].code, KEY_CHAR);
  assert_int_equal(ev[0].ch, '7');
  /* rollover error: the report is ignored (7 still held) */
  const uint8_t roll[6] = {1, 1, 1, 1, 1, 1};
  assert_int_equal(boot(&k, 0, roll, 6, 0, ev), 0);
  assert_int_equal(k.nheld, 1);
  /* too short a report counts as bad and changes nothing */
  uint8_t shortr[3] = {0, 0, 0x04};
  assert_int_equal(hid_kbd_report(&k, shortr, sizeof shortr, 0, ev, 16), 0);
  assert_int_equal(k.bad_reports, 1);
  /* unplugged: the held key is released */
  assert_int_equal(hid_kbd_release_all(&k, ev, 16), 1);
  assert_int_equal(ev[0].kind, KEY_RELEASED);
  assert_int_equal(k.nheld, 0);
}

static void report_protocol(void **state) {
  (void)state;
  struct hid_kbd_layout l;
  struct hid_kbd k;
  struct key_event ev[16];
  assert_int_equal(hid_parse_keyboard(id_desc, sizeof id_desc, &l), 0);
  hid_kbd_init(&k, &l);
  uint8_t r[22] = {2, 0x02, 0x05, 0x00};
  assert_int_equal(hid_kbd_report(&k, r, sizeof r, 0, ev, 16), 1);
  assert_int_equal(ev[0].ch, 'B');
  r[0] = 1; /* the mouse's report: ignored */
  assert_int_equal(hid_kbd_report(&k, r, 2, 0, ev, 16), 0);
  assert_int_equal(hid_parse_keyboard(nkro_desc, sizeof nkro_desc, &l), 0);
  hid_kbd_init(&k, &l);
  uint8_t b[14] = {0};
  b[1 + 0x04 / 8] |= 1 << (0x04 % 8);   /* a */
  b[1 + 0x28 / 8] |= 1 << (0x28 % 8);   /* enter */
  assert_int_equal(hid_kbd_report(&k, b, sizeof b, 0, ev, 16), 2);
  assert_int_equal(ev[0].ch, 'a');
  assert_int_equal(ev[1].code, KEY_ENTER);
}

static void key_repeat(void **state) {
  (void)state;
  struct hid_kbd_layout l;
  struct hid_kbd k;
  struct key_event ev[16], r;
  hid_boot_layout(&l);
  hid_kbd_init(&k, &l);
  assert_int_equal(hid_kbd_next_repeat(&k), UINT64_MAX);
  const uint8_t x = 0x1b, shift = 0xe1 - 0xe0;
  boot(&k, 1 << shift, &x, 1, 1000 * MS, ev);
  assert_int_equal(hid_kbd_next_repeat(&k), 1500 * MS);
  assert_int_equal(hid_kbd_repeat(&k, 1499 * MS, &r), 0);
  assert_int_equal(hid_kbd_repeat(&k, 1500 * MS, &r), 1);
  assert_int_equal(r.kind, KEY_PRESSED);
  assert_int_equal(r.ch, 'X');
  assert_int_equal(hid_kbd_repeat(&k, 1510 * MS, &r), 0);
  assert_int_equal(hid_kbd_next_repeat(&k), 1500 * MS + HID_REPEAT_RATE_NS);
  int n = 0;
  for (uint64_t t = 1500 * MS + 1; t <= 2510 * MS; t += MS) n += hid_kbd_repeat(&k, t, &r);
  assert_int_equal(n, 30); /* 30 a second */
  /* a late timer gives one repeat, not a burst */
  assert_int_equal(hid_kbd_repeat(&k, 9000 * MS, &r), 1);
  assert_int_equal(hid_kbd_repeat(&k, 9000 * MS, &r), 0);
  boot(&k, 0, NULL, 0, 9001 * MS, ev);
  assert_int_equal(hid_kbd_next_repeat(&k), UINT64_MAX);
  assert_int_equal(hid_kbd_repeat(&k, 99999 * MS, &r), 0);
  /* Caps Lock does not repeat */
  const uint8_t caps = 0x39;
  boot(&k, 0, &caps, 1, 0, ev);
  assert_int_equal(hid_kbd_next_repeat(&k), UINT64_MAX);
}

/* A configuration: interface 0 a mouse, interface 1 a boot keyboard. */
static const uint8_t config[] = {
    9, 2, 59, 0, 2, 1, 0, 0xa0, 50,
    9, 4, 0, 0, 1, 3, 1, 2, 0,  9, 0x21, 0x11, 0x01, 0, 1, 0x22, 50, 0,  7, 5, 0x81, 3, 4, 0, 10,
    9, 4, 1, 0, 1, 3, 1, 1, 0,  9, 0x21, 0x11, 0x01, 0, 1, 0x22, 63, 0,  7, 5, 0x82, 3, 8, 0, 10};

static void descriptors(void **state) {
  (void)state;
  static const uint8_t dev[18] = {18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x27, 0x06, 0x01, 0x00,
                                  0, 0, 1, 2, 3, 1};
  struct usb_device_info di;
  assert_int_equal(usb_parse_device(dev, 8, &di), 0);
  assert_int_equal(di.max_packet0, 64);
  assert_int_equal(usb_parse_device(dev, 18, &di), 0);
  assert_int_equal(di.vendor, 0x0627);
  assert_int_equal(di.num_configs, 1);
  uint8_t bad[18];
  memcpy(bad, dev, sizeof bad);
  bad[7] = 7;
  assert_int_equal(usb_parse_device(bad, 18, &di), MN_EPROTO);
  bad[7] = 64;
  bad[1] = 2;
  assert_int_equal(usb_parse_device(bad, 18, &di), MN_EPROTO);
  assert_int_equal(usb_parse_device(dev, 7, &di), MN_EPROTO);

  struct usb_hid_iface h;
  assert_int_equal(usb_find_hid(config, sizeof config, &h), 0);
  assert_int_equal(h.config_value, 1);
  assert_int_equal(h.iface, 1);
  assert_int_equal(h.protocol, 1);
  assert_int_equal(h.ep_addr, 0x82);
  assert_int_equal(h.ep_max_packet, 8);
  assert_int_equal(h.report_len, 63);
  /* every truncation: an error or a result, never a read past the end */
  for (size_t n = 0; n < sizeof config; n++) {
    int err = usb_find_hid(config, n, &h);
    assert_true(err == 0 || err == MN_EPROTO || err == MN_ENOENT);
  }
  uint8_t c2[sizeof config];
  memcpy(c2, config, sizeof c2);
  c2[9] = 0; /* a zero-length descriptor would loop for ever */
  assert_int_equal(usb_find_hid(c2, sizeof c2, &h), MN_EPROTO);
  memcpy(c2, config, sizeof c2);
  c2[9] = 200; /* past the end */
  assert_int_equal(usb_find_hid(c2, sizeof c2, &h), MN_EPROTO);
  memcpy(c2, config, sizeof c2);
  c2[14] = c2[39] = 8; /* no HID interfaces: a mass storage device */
  assert_int_equal(usb_find_hid(c2, sizeof c2, &h), MN_ENOENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_boot_descriptor), cmocka_unit_test(parse_other_layouts),
      cmocka_unit_test(parse_malformed),       cmocka_unit_test(boot_reports),
      cmocka_unit_test(report_protocol),       cmocka_unit_test(key_repeat),
      cmocka_unit_test(descriptors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
