/*
 * wizard_test.c: the setup wizard's state machine (chat/wizard.c) driven
 * with keys, its screen read back from the cell grid: static network,
 * provider, the masked key, base URL, the model list and a typed model,
 * the connection test's error shown, Esc skipping, line-mode answers.
 */
#include "ktest.h"

#include <stdio.h>
#include <string.h>

#include "mneme/err.h"
#include "mneme/wizard.h"

#define COLS 80
#define ROWS 24

static struct chat_cell grid[COLS * ROWS], shown[COLS * ROWS];
static struct chat_view v;
static struct wizard w;

static int key(int code, uint32_t ch) {
  struct key_event ev = {KEY_PRESSED, 0, (uint16_t)code, ch};
  return wizard_key(&w, &ev);
}

static int type(const char *s) {
  while (*s) key(KEY_CHAR, (uint8_t)*s++);
  return key(KEY_ENTER, 0);
}

/* The screen as text, rows joined by '\n'. */
static const char *screen(void) {
  static char b[ROWS * (COLS + 1) + 1];
  size_t n = 0;
  wizard_render(&w, &v);
  for (uint32_t r = 0; r < ROWS; r++) {
    n += chat_view_row_text(&v, r, b + n, sizeof b - n);
    b[n++] = '\n';
  }
  b[n] = 0;
  return b;
}

static void setup_view(void) {
  chat_view_init(&v, COLS, ROWS, grid, shown);
  struct mn_settings s;
  settings_defaults(&s);
  wizard_init(&w, &s);
}

static void full_path(void **state) {
  (void)state;
  setup_view();
  assert_non_null(strstr(screen(), "step 1 of 6: Network"));
  assert_non_null(strstr(screen(), "> 1. DHCP"));
  assert_int_equal(chat_view_flush(&v, NULL, NULL), COLS * ROWS);
  key(KEY_DOWN, 0);
  assert_non_null(strstr(screen(), "> 2. static address"));
  /* only what changed is drawn again: the two entries */
  size_t redrawn = chat_view_flush(&v, NULL, NULL);
  assert_true(redrawn > 0 && redrawn <= 2 * COLS);
  assert_int_equal(key(KEY_ENTER, 0), WZA_NONE);
  assert_int_equal(w.step, WZ_IP);
  type("10.0.2.99x");
  assert_int_equal(w.step, WZ_IP); /* refused */
  assert_non_null(strstr(screen(), "is not an IPv4 address"));
  key(KEY_BACKSPACE, 0);
  key(KEY_ENTER, 0);
  assert_int_equal(w.step, WZ_NETMASK);
  assert_non_null(strstr(screen(), "> 255.255.255.0")); /* prefilled */
  key(KEY_ENTER, 0);
  type("10.0.2.2");
  type("10.0.2.3");
  assert_int_equal(w.step, WZ_PROVIDER);
  assert_int_equal(w.s.net_dhcp, 0);
  assert_int_equal(w.s.net_ip, 0x0a000263u);
  assert_int_equal(w.s.net_gateway, 0x0a000202u);
  assert_int_equal(w.s.net_dns, 0x0a000203u);
  assert_non_null(strstr(screen(), "step 2 of 6: Provider"));
  assert_non_null(strstr(screen(), "6. local"));
  type("openai");
  assert_int_equal(w.step, WZ_KEY);
  key(KEY_CHAR, 's');
  key(KEY_CHAR, 'k');
  type("-secret1234");
  /* the key never appears, only its last four */
  assert_int_equal(w.step, WZ_BASE_URL);
  assert_string_equal(w.s.api_key, "sk-secret1234");
  assert_null(strstr(screen(), "secret"));
  type("ftp://x");
  assert_non_null(strstr(screen(), "starts with http://"));
  while (w.len) key(KEY_BACKSPACE, 0);
  assert_int_equal(type("http://10.0.2.2:8080/v1"), WZA_MODELS);
  assert_string_equal(w.s.base_url, "http://10.0.2.2:8080/v1");
  static const char list[] = "gpt-a\0gpt-b\0gpt-c";
  wizard_models(&w, 3, list, sizeof list, NULL);
  assert_non_null(strstr(screen(), "> 1. gpt-a"));
  key(KEY_DOWN, 0);
  key(KEY_DOWN, 0);
  key(KEY_DOWN, 0); /* stops at the end */
  assert_non_null(strstr(screen(), "> 3. gpt-c"));
  assert_int_equal(type("2"), WZA_TEST);
  assert_string_equal(w.s.model, "gpt-b");
  assert_int_equal(key(KEY_ENTER, 0), WZA_NONE); /* still testing */
  wizard_tested(&w, MN_EHTTP, "HTTP 401: Incorrect API key provided");
  const char *sc = screen();
  assert_non_null(strstr(sc, "connection failed: HTTP 401: Incorrect API key provided"));
  assert_non_null(strstr(sc, "key ...1234"));
  assert_null(strstr(sc, "secret"));
  key(KEY_LEFT, 0);
  assert_int_equal(w.step, WZ_PROVIDER);
  assert_non_null(strstr(screen(), "> 1. openai")); /* the current one */
  key(KEY_ENTER, 0);
  key(KEY_ENTER, 0); /* empty: the key is kept */
  assert_string_equal(w.s.api_key, "sk-secret1234");
  assert_int_equal(key(KEY_ENTER, 0), WZA_MODELS); /* the base URL kept */
  wizard_models(&w, MN_EHTTP, NULL, 0, "HTTP 404: not found");
  assert_non_null(strstr(screen(), "no model list (HTTP 404: not found): type the model's name"));
  while (w.len) key(KEY_BACKSPACE, 0);
  assert_int_equal(type("my-model"), WZA_TEST);
  wizard_tested(&w, 0, NULL);
  assert_non_null(strstr(screen(), "connection OK"));
  assert_int_equal(key(KEY_ENTER, 0), WZA_SAVE);
  assert_int_equal(w.step, WZ_DONE);
  assert_int_equal(w.s.wizard_done, 1);
  assert_string_equal(w.s.model, "my-model");
}

static void skip_and_lines(void **state) {
  (void)state;
  setup_view();
  assert_int_equal(wizard_line(&w, "dhcp\n", 5), WZA_NONE);
  assert_int_equal(w.step, WZ_PROVIDER);
  char q[2048];
  wizard_question(&w, q, sizeof q);
  assert_non_null(strstr(q, "-- setup: Provider --"));
  assert_non_null(strstr(q, "2. anthropic"));
  assert_int_equal(wizard_line(&w, "9\n", 2), WZA_NONE);
  assert_int_equal(w.step, WZ_PROVIDER);
  assert_non_null(strstr(w.message, "choose 1 to 6"));
  assert_int_equal(wizard_line(&w, "6\n", 2), WZA_NONE);
  assert_int_equal(w.step, WZ_TEST);
  assert_string_equal(w.s.provider, "local");
  assert_int_equal(wizard_line(&w, "\n", 1), WZA_SAVE);
  /* Esc anywhere skips */
  setup_view();
  key(KEY_ENTER, 0);
  assert_int_equal(key(KEY_ESC, 0), WZA_SKIP);
  assert_int_equal(w.step, WZ_SKIPPED);
  assert_int_equal(key(KEY_ENTER, 0), WZA_NONE);
  setup_view();
  assert_int_equal(wizard_line(&w, "/skip", 5), WZA_SKIP);
  /* a hostile model list: names cut at the buffer */
  setup_view();
  static char big[WZ_MODELS_MAX + 100];
  memset(big, 'm', sizeof big);
  big[10] = 0;
  w.step = WZ_MODEL;
  wizard_models(&w, 5, big, sizeof big, NULL);
  assert_int_equal(w.nmodels, 1);
  wizard_wipe(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(full_path), cmocka_unit_test(skip_and_lines)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
