/*
 * x86_fbcon_test.c: the framebuffer text console of the x86_64 platform
 * (platform/uefi/fbcon.c), on the host, drawing into an array with a
 * made-up font: text and cursor pixels, colours, that only changed cells
 * are redrawn (also when scrolling), escape sequences, and that hostile
 * byte streams never draw outside the framebuffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fbcon_fake.h"

#define COLS 10
#define ROWS 4
#define W (COLS * 8)
#define H (ROWS * 16)
#define STRIDE (W + 16) /* padding the console must not touch */
#define SENTINEL 0xdeadbeefu

static uint32_t fb[STRIDE * H];

#define GREY 0xaaaaaau

static int setup(void **state) {
  (void)state;
  for (int c = 0; c < 256; c++)
    for (int r = 0; r < 16; r++)
      glyphs[c][r] = c == ' ' ? 0 : (unsigned char)(c * 7 + r * 13 + 1);
  for (size_t i = 0; i < sizeof fb / 4; i++) fb[i] = SENTINEL;
  arena_used = 0;
  struct boot_fb bfb = {(uintptr_t)fb, sizeof fb, W, H, STRIDE, 1};
  assert_int_equal(fbcon_init(&bfb), 0);
  return 0;
}

static void put(const char *s) { fbcon_write(s, strlen(s)); }

/* 1 if cell (col,row) shows character ch in fg on bg. */
static int cell_is(int col, int row, unsigned char ch, uint32_t fg, uint32_t bg) {
  for (int y = 0; y < 16; y++)
    for (int x = 0; x < 8; x++) {
      uint32_t want = (glyphs[ch][y] & (0x80 >> x)) ? fg : bg;
      if (fb[(row * 16 + y) * STRIDE + col * 8 + x] != want) return 0;
    }
  return 1;
}

static void assert_padding_untouched(void) {
  for (int y = 0; y < H; y++)
    for (int x = W; x < STRIDE; x++) assert_int_equal(fb[y * STRIDE + x], SENTINEL);
}

static void test_init_clears_screen(void **state) {
  (void)state;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) assert_int_equal(fb[y * STRIDE + x], 0);
  assert_padding_untouched();
  uint32_t cols, rows;
  fbcon_size(&cols, &rows);
  assert_int_equal(cols, COLS);
  assert_int_equal(rows, ROWS);
}

static void test_text_and_cursor(void **state) {
  (void)state;
  put("AB");
  assert_true(cell_is(0, 0, 'A', GREY, 0));
  assert_true(cell_is(1, 0, 'B', GREY, 0));
  assert_true(cell_is(2, 0, ' ', 0, GREY)); /* cursor: inverse */
  assert_true(cell_is(3, 0, ' ', GREY, 0));
}

static void test_redraws_only_changes(void **state) {
  (void)state;
  uint64_t d0 = fbcon_cells_drawn();
  put("AB");
  assert_int_equal(fbcon_cells_drawn() - d0, 3); /* A, B, the cursor */
  put("C");
  assert_int_equal(fbcon_cells_drawn() - d0, 5); /* C over the cursor, cursor */
  put("");
  assert_int_equal(fbcon_cells_drawn() - d0, 5);
}

static void test_colours(void **state) {
  (void)state;
  put("\033[31;44mR\033[0mn\033[1;32mG\033[7mV");
  assert_true(cell_is(0, 0, 'R', 0xaa0000, 0x0000aa));
  assert_true(cell_is(1, 0, 'n', GREY, 0));
  assert_true(cell_is(2, 0, 'G', 0x55ff55, 0));
  assert_true(cell_is(3, 0, 'V', 0, 0x55ff55));
}

static void test_scroll_moves_pixels(void **state) {
  (void)state;
  put("L0\nL1\nL2\nL3");
  assert_true(cell_is(1, 3, '3', GREY, 0));
  uint64_t d0 = fbcon_cells_drawn();
  put("\n");
  /* Scrolled: the text moved up without being redrawn. */
  assert_true(cell_is(0, 0, 'L', GREY, 0) && cell_is(1, 0, '1', GREY, 0));
  assert_true(cell_is(1, 2, '3', GREY, 0));
  assert_true(cell_is(0, 3, ' ', 0, GREY)); /* cursor on the new line */
  assert_true(cell_is(1, 3, ' ', GREY, 0));
  assert_true(fbcon_cells_drawn() - d0 <= COLS + 2);
  /* Long lines wrap (and scroll again). */
  put("0123456789abc");
  assert_true(cell_is(9, 2, '9', GREY, 0));
  assert_true(cell_is(2, 3, 'c', GREY, 0));
  assert_true(cell_is(1, 1, '3', GREY, 0));
  assert_padding_untouched();
}

static void test_cursor_movement_and_erase(void **state) {
  (void)state;
  put("hello\rj\tx");
  assert_true(cell_is(0, 0, 'j', GREY, 0));
  assert_true(cell_is(1, 0, 'e', GREY, 0));
  assert_true(cell_is(8, 0, 'x', GREY, 0));
  put("\033[2;3HX\b\bY");
  assert_true(cell_is(2, 1, 'X', 0, GREY)); /* under the cursor */
  assert_true(cell_is(1, 1, 'Y', GREY, 0));
  put("\033[1;1H\033[K");
  for (int x = 0; x < COLS; x++)
    assert_true(cell_is(x, 0, ' ', x == 0 ? 0 : GREY, x == 0 ? GREY : 0));
  put("\033[2J");
  for (int y = 0; y < ROWS; y++)
    for (int x = 1; x < COLS; x++) assert_true(cell_is(x, y, ' ', GREY, 0));
  assert_true(cell_is(0, 0, ' ', 0, GREY));
  put("\033[99;99HZ"); /* clamped to the screen */
  assert_padding_untouched();
}

static void test_hostile_bytes(void **state) {
  (void)state;
  srand(3);
  char buf[64];
  for (int i = 0; i < 20000; i++) {
    for (size_t j = 0; j < sizeof buf; j++) {
      int r = rand() % 8;
      buf[j] = r == 0 ? '\033' : r == 1 ? '[' : r == 2 ? (char)('0' + rand() % 10)
             : r == 3 ? ';' : (char)rand();
    }
    fbcon_write(buf, sizeof buf);
  }
  assert_padding_untouched();
  put("\033[0m\033[2J\033[Hok");
  assert_true(cell_is(0, 0, 'o', GREY, 0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_init_clears_screen, setup),
      cmocka_unit_test_setup(test_text_and_cursor, setup),
      cmocka_unit_test_setup(test_redraws_only_changes, setup),
      cmocka_unit_test_setup(test_colours, setup),
      cmocka_unit_test_setup(test_scroll_moves_pixels, setup),
      cmocka_unit_test_setup(test_cursor_movement_and_erase, setup),
      cmocka_unit_test_setup(test_hostile_bytes, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
