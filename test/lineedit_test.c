/*
 * lineedit_test.c: the shells' line editor. Plain lines, the switch to
 * terminal mode (CR, a short burst, editing keys), editing keys and their
 * echo, history, UTF-8 characters as one column, overlong lines in
 * pieces, CR LF as one Enter, hostile bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mneme/lineedit.h>

static char echo[8192];
static size_t echo_len;

static void
on_echo(void *ctx, const char *s, size_t n)
{
  (void)ctx;
  if (echo_len + n < sizeof echo) {
    memcpy(echo + echo_len, s, n);
    echo_len += n;
  }
  echo[echo_len] = 0;
}

static struct lineedit le;
static char line[LE_LINE_MAX + 2];

static void
start(enum le_mode mode)
{
  lineedit_init(&le, mode, on_echo, NULL);
  echo_len = 0;
  echo[0] = 0;
}

/* Feeds s; returns the line that completes (NULL if none). */
static const char *
feed(const char *s, size_t n)
{
  const char *got = NULL;
  for (size_t i = 0; i < n; i++)
    if (lineedit_feed(&le, (uint8_t)s[i])) {
      size_t k = lineedit_take(&le, line, sizeof line);
      line[k] = 0;
      got = line;
    }
  return got;
}

#define FEED(s) feed((s), sizeof(s) - 1)

static void
plain_lines(void **state)
{
  (void)state;
  start(LE_PLAIN);
  assert_null(FEED("2 3 +"));
  assert_string_equal(FEED(" .\n"), "2 3 + .\n");
  assert_string_equal(FEED("x\r\n"), "x\n");
  assert_int_equal(echo_len, 0);
  /* DEL is just a byte in plain mode: the VM handles it */
  start(LE_PLAIN);
  assert_string_equal(FEED("ab\x7f\n"), "ab\x7f\n");
}

static void
auto_mode(void **state)
{
  (void)state;
  start(LE_AUTO);
  assert_string_equal(FEED("1 2 .\n"), "1 2 .\n");
  assert_int_equal(echo_len, 0);
  lineedit_burst(&le, 6, 1);
  assert_int_equal(le.mode, LE_AUTO);
  /* a CR: a raw terminal; what was held is echoed */
  assert_null(FEED("ab"));
  assert_string_equal(FEED("\r"), "ab\n");
  assert_int_equal(le.mode, LE_TERMINAL);
  assert_string_equal(echo, "ab ");
  /* a short burst without a newline also means a raw terminal */
  start(LE_AUTO);
  assert_null(FEED("x"));
  lineedit_burst(&le, 1, 0);
  assert_int_equal(le.mode, LE_TERMINAL);
  assert_string_equal(echo, "x");
  /* a long burst without a newline (a long line) does not */
  start(LE_AUTO);
  lineedit_burst(&le, 200, 0);
  assert_int_equal(le.mode, LE_AUTO);
  /* backspace switches too, and edits */
  start(LE_AUTO);
  assert_string_equal(FEED("abc\x7f\n"), "ab\n");
  assert_int_equal(le.mode, LE_TERMINAL);
}

static void
editing(void **state)
{
  (void)state;
  start(LE_TERMINAL);
  /* "3 4 +X" BS, Ctrl-A "10 ", Ctrl-E " .", Enter */
  assert_string_equal(FEED("3 4 +X\x7f\x01" "10 \x05 .\r"), "10 3 4 + .\n");
  assert_non_null(strstr(echo, "3 4 +X"));
  assert_non_null(strstr(echo, "\x1b[D\x1b[K")); /* BS at the end */
  /* left, left, insert */
  start(LE_TERMINAL);
  assert_string_equal(FEED("2 .\x1b[D\x1b[D" "5\r"), "25 .\n");
  /* Ctrl-U erases to the start, Ctrl-K to the end */
  start(LE_TERMINAL);
  assert_string_equal(FEED("99 \x15" "1 .\r"), "1 .\n");
  assert_string_equal(FEED("1 2 3\x1b[D\x1b[D\x0b\r"), "1 2\n");
  /* Home/End as ESC [ H / ESC [ F / ESC [ 1 ~ / ESC O F, delete ESC [ 3 ~ */
  start(LE_TERMINAL);
  assert_string_equal(FEED("bc\x1b[Ha\x1b[F!\r"), "abc!\n");
  assert_string_equal(FEED("bc\x1b[1~a\x1bOF!\r"), "abc!\n");
  assert_string_equal(FEED("abc\x1b[H\x1b[3~\r"), "bc\n");
  /* right at the end and left at the start do nothing */
  start(LE_TERMINAL);
  assert_string_equal(FEED("\x1b[D\x1b[Cx\x1b[C\r"), "x\n");
  /* backspace on an empty line, other control bytes ignored */
  assert_string_equal(FEED("\x7f\x08\x02\x06\x07q\r"), "q\n");
}

static void
history(void **state)
{
  (void)state;
  start(LE_TERMINAL);
  FEED("one\r");
  FEED("two\r");
  FEED("two\r"); /* a repeat is stored once */
  assert_string_equal(FEED("\x1b[A\r"), "two\n");
  assert_string_equal(FEED("\x1b[A\x1b[A\r"), "one\n");
  /* beyond the oldest stays there; down returns to an empty line */
  assert_string_equal(FEED("\x1b[A\x1b[A\x1b[A\x1b[A\x1b[A\r"), "one\n");
  assert_string_equal(FEED("\x1b[A\x1b[B\x1b[B\r"), "\n");
  /* Ctrl-P / Ctrl-N */
  assert_string_equal(FEED("\x10\x10\x0e\r"), "one\n");
  /* many long lines: the oldest are dropped, never overflow */
  char big[300];
  memset(big, 'z', sizeof big - 1);
  big[sizeof big - 2] = '\r';
  big[sizeof big - 1] = 0;
  for (int i = 0; i < 40; i++)
    feed(big, strlen(big));
  assert_true(le.hlen <= LE_HIST_BYTES);
  const char *got = FEED("\x1b[A\r");
  assert_int_equal(strlen(got), 298 + 1);
}

static void
utf8(void **state)
{
  (void)state;
  start(LE_TERMINAL);
  /* "é" is two bytes, one column: left moves over both */
  assert_string_equal(FEED("a\xc3\xa9\x1b[Dx\r"), "ax\xc3\xa9\n");
  /* backspace removes the whole character */
  assert_string_equal(FEED("b\xc3\xa9\x7f\r"), "b\n");
  /* a lone continuation byte or invalid bytes are kept (the VM rejects them) */
  assert_string_equal(FEED("\xff\xfe\r"), "\xff\xfe\n");
}

static void
long_lines(void **state)
{
  (void)state;
  static char big[5000];
  memset(big, 'a', sizeof big);
  /* plain: handed out in LE_LINE_MAX pieces without a line end */
  start(LE_PLAIN);
  size_t total = 0, pieces = 0;
  for (size_t i = 0; i < sizeof big; i++)
    if (lineedit_feed(&le, 'a')) {
      size_t k = lineedit_take(&le, line, sizeof line);
      assert_int_equal(k, LE_LINE_MAX);
      total += k;
      pieces++;
    }
  assert_int_equal(pieces, sizeof big / LE_LINE_MAX);
  assert_true(lineedit_feed(&le, '\n'));
  total += lineedit_take(&le, line, sizeof line);
  assert_int_equal(total, sizeof big + 1);
  /* terminal: the line is full, the rest rings the bell */
  start(LE_TERMINAL);
  assert_null(feed(big, sizeof big));
  assert_non_null(strchr(echo, '\a'));
  const char *got = FEED("\r");
  assert_int_equal(strlen(got), LE_LINE_MAX + 1);
}

static void
hostile(void **state)
{
  (void)state;
  /* random bytes in every mode: no crash, lines stay within bounds */
  srand(7);
  for (int mode = LE_AUTO; mode <= LE_TERMINAL; mode++) {
    start((enum le_mode)mode);
    for (int i = 0; i < 200000; i++) {
      if (lineedit_feed(&le, (uint8_t)rand())) {
        size_t k = lineedit_take(&le, line, sizeof line);
        assert_true(k <= LE_LINE_MAX + 1);
      }
      assert_true(le.len <= LE_LINE_MAX && le.cur <= le.len);
      if (echo_len > 4096)
        echo_len = 0;
    }
  }
  /* cancel drops the line */
  start(LE_TERMINAL);
  FEED("abc");
  lineedit_cancel(&le);
  assert_string_equal(FEED("d\r"), "d\n");
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(plain_lines), cmocka_unit_test(auto_mode),
    cmocka_unit_test(editing), cmocka_unit_test(history),
    cmocka_unit_test(utf8), cmocka_unit_test(long_lines),
    cmocka_unit_test(hostile),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
