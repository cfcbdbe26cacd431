/*
 * x86_kbd_test.c: the PS/2 keyboard decoder of the x86_64 platform
 * (platform/x86_64/kbd.c), on the host: set-1 scancodes to key events
 * with a US layout and modifiers, and key presses to terminal bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../platform/x86_64/kbd.h"
#include "mneme/platform.h"

/* kbd_read's interrupt masking, for the host. */
unsigned long plat_irq_save(void) { return 0; }
void plat_irq_restore(unsigned long s) { (void)s; }

/* Feeds scancode bytes; returns the last event (code 0xffff if none). */
static struct key_event feed(const uint8_t *sc, size_t n) {
  struct key_event ev = {0, 0, 0xffff, 0}, e;
  for (size_t i = 0; i < n; i++)
    if (kbd_decode(sc[i], &e)) ev = e;
  return ev;
}
#define FEED(...) feed((const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static void reset_mods(void) {
  /* Release every modifier; Caps Lock is toggled back off if on. */
  struct key_event e;
  FEED(0xaa, 0xb6, 0x9d, 0xb8);
  kbd_decode(0x1e, &e);
  if (e.mods & KEYMOD_CAPS_LOCK) FEED(0x3a, 0xba);
  FEED(0x9e);
}

static void test_letters_press_and_release(void **state) {
  (void)state;
  reset_mods();
  struct key_event e = FEED(0x1e);
  assert_int_equal(e.code, KEY_CHAR);
  assert_int_equal(e.ch, 'a');
  assert_int_equal(e.kind, KEY_PRESSED);
  e = FEED(0x9e);
  assert_int_equal(e.ch, 'a');
  assert_int_equal(e.kind, KEY_RELEASED);
  assert_int_equal(FEED(0x10).ch, 'q');
  assert_int_equal(FEED(0x39).ch, ' ');
  assert_int_equal(FEED(0x1c).code, KEY_ENTER);
  assert_int_equal(FEED(0xe0, 0x1c).code, KEY_ENTER); /* keypad Enter */
  assert_int_equal(FEED(0x0e).code, KEY_BACKSPACE);
  assert_int_equal(FEED(0x0f).code, KEY_TAB);
  assert_int_equal(FEED(0x01).code, KEY_ESC);
  e = FEED(0x3b);
  assert_int_equal(e.code, KEY_F);
  assert_int_equal(e.ch, 1);
  assert_int_equal(FEED(0x58).ch, 12);
  char out[8];
  e = FEED(0x1c);
  assert_int_equal(kbd_to_bytes(&e, out), 1);
  assert_int_equal(out[0], '\r');
  e = FEED(0x0e);
  assert_int_equal(kbd_to_bytes(&e, out), 1);
  assert_int_equal(out[0], 0x7f);
  e = FEED(0x3b);
  assert_int_equal(kbd_to_bytes(&e, out), 3);
  assert_memory_equal(out, "\033OP", 3);
}

static void test_shift_and_caps_lock(void **state) {
  (void)state;
  reset_mods();
  struct key_event e = FEED(0x2a, 0x1e);         /* left Shift held */
  assert_int_equal(e.ch, 'A');
  assert_true(e.mods & KEYMOD_SHIFT);
  assert_int_equal(FEED(0x02).ch, '!');
  assert_int_equal(FEED(0x0c).ch, '_');
  assert_int_equal(FEED(0xaa, 0x1e).ch, 'a');    /* released */
  assert_int_equal(FEED(0x36, 0x28).ch, '"');    /* right Shift */
  FEED(0xb6);
  e = FEED(0x3a, 0xba, 0x1e);                    /* Caps Lock on */
  assert_int_equal(e.ch, 'A');
  assert_true(e.mods & KEYMOD_CAPS_LOCK);
  assert_int_equal(FEED(0x02).ch, '1');          /* digits unaffected */
  assert_int_equal(FEED(0x2a, 0x1e).ch, 'a');    /* Shift inverts Caps */
  FEED(0xaa);
  assert_int_equal(FEED(0x3a, 0xba, 0x1e).ch, 'a'); /* Caps Lock off */
}

static void test_extended_keys_to_ansi(void **state) {
  (void)state;
  reset_mods();
  static const struct {
    uint8_t code;
    uint16_t key;
    const char *bytes;
  } cases[] = {
      {0x48, KEY_UP, "\033[A"},    {0x50, KEY_DOWN, "\033[B"},
      {0x4d, KEY_RIGHT, "\033[C"}, {0x4b, KEY_LEFT, "\033[D"},
      {0x47, KEY_HOME, "\033[H"},  {0x4f, KEY_END, "\033[F"},
      {0x53, KEY_DELETE, "\033[3~"}, {0x52, KEY_INSERT, "\033[2~"},
      {0x49, KEY_PAGE_UP, "\033[5~"}, {0x51, KEY_PAGE_DOWN, "\033[6~"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct key_event e = FEED(0xe0, cases[i].code);
    assert_int_equal(e.code, cases[i].key);
    char out[8];
    size_t n = kbd_to_bytes(&e, out);
    assert_int_equal(n, strlen(cases[i].bytes));
    assert_memory_equal(out, cases[i].bytes, n);
    e = FEED(0xe0, (uint8_t)(cases[i].code | 0x80));
    assert_int_equal(e.kind, KEY_RELEASED);
    assert_int_equal(kbd_to_bytes(&e, out), 0);
    /* The keypad (Num Lock off) gives the same keys. */
    assert_int_equal(FEED(cases[i].code).code, cases[i].key);
  }
  /* E0 2A (the fake Shift of Print Screen) does not shift. */
  assert_int_equal(FEED(0xe0, 0x2a, 0x1e).ch, 'a');
  FEED(0xe0, 0xaa);
}

static void test_ctrl_and_alt(void **state) {
  (void)state;
  reset_mods();
  char out[8];
  struct key_event e = FEED(0x1d, 0x2e); /* Ctrl+C */
  assert_true(e.mods & KEYMOD_CTRL);
  assert_int_equal(e.ch, 'c');
  assert_int_equal(kbd_to_bytes(&e, out), 1);
  assert_int_equal(out[0], 3);
  e = FEED(0x9d, 0xe0, 0x1d, 0x20); /* right Ctrl+D */
  assert_int_equal(kbd_to_bytes(&e, out), 1);
  assert_int_equal(out[0], 4);
  FEED(0xe0, 0x9d);
  e = FEED(0x38, 0x2d); /* Alt+x */
  assert_int_equal(kbd_to_bytes(&e, out), 2);
  assert_memory_equal(out, "\033x", 2);
  FEED(0xb8);
  e = FEED(0x2d);
  assert_int_equal(e.mods, 0);
}

static void test_garbage_scancodes(void **state) {
  (void)state;
  srand(1);
  for (int i = 0; i < 200000; i++) {
    struct key_event e;
    if (kbd_decode((uint8_t)rand(), &e)) {
      char out[8];
      size_t n = kbd_to_bytes(&e, out);
      assert_true(n <= 8);
      assert_true((e.mods & ~(KEYMOD_SHIFT | KEYMOD_CTRL | KEYMOD_ALT |
                              KEYMOD_CAPS_LOCK)) == 0);
      assert_true(e.code <= KEY_F);
      assert_true(e.code != KEY_CHAR || e.ch != 0);
    }
  }
  reset_mods();
  assert_int_equal(FEED(0x1e).ch, 'a'); /* still decodes after noise */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_letters_press_and_release),
      cmocka_unit_test(test_shift_and_caps_lock),
      cmocka_unit_test(test_extended_keys_to_ansi),
      cmocka_unit_test(test_ctrl_and_alt),
      cmocka_unit_test(test_garbage_scancodes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
