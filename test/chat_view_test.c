/*
 * chat_view_test.c: the chat screen rendered into a memory grid and read
 * back as text (chat/chat_view.c): word wrap, turns and code blocks in
 * their colours, tool segments, UTF-8 with U+FFFD for broken bytes,
 * scrolling, redrawing only what changed; and the conversation store
 * (chat/chat_store.c): round trip, newest first when space is short,
 * hostile input refused (and test/chat_store_fuzz.sh: libFuzzer).
 */
#include "ktest.h"

#include <stdio.h>
#include <string.h>

#include "mneme/chat_session.h"
#include "mneme/chat_view.h"
#include "mneme/err.h"

#define COLS 24
#define ROWS 10

static struct chat_cell grid[COLS * ROWS], shown[COLS * ROWS];

static void add(struct chat_conv *c, int role, const char *text) {
  struct chat_turn *t = chat_conv_add_turn(c, role);
  assert_non_null(t);
  assert_int_equal(chat_turn_append(t, text, strlen(text)), 0);
}

static struct chat_session *session(void) {
  static struct chat_session cs;
  memset(&cs, 0, sizeof cs);
  cs.next_id = 1;
  strcpy(cs.status.backend, "llm-local");
  strcpy(cs.status.provider, "local");
  strcpy(cs.status.model, "m");
  strcpy(cs.status.store, "disk");
  assert_int_equal(chat_conv_new(&cs), 0);
  return &cs;
}

static const char *row(struct chat_view *v, uint32_t r) {
  static char b[COLS * 4 + 1];
  chat_view_row_text(v, r, b, sizeof b);
  return b;
}

static void layout(void **state) {
  (void)state;
  struct chat_session *cs = session();
  struct chat_conv *c = chat_current(cs);
  add(c, LLM_ROLE_USER, "the quick brown fox jumps over the lazy dog");
  add(c, LLM_ROLE_ASSISTANT, "caf\xc3\xa9 \xff!\n```\nx = 1\n```\n\x01" "2 3 + .\x02" "5 \x03ok");
  struct chat_view v;
  chat_view_init(&v, COLS, ROWS, grid, shown);
  v.scroll = 0;
  chat_view_render(&v, cs);
  /* 7 rows of conversation area: the end is shown */
  assert_true(v.total > 7);
  v.scroll = v.total; /* the top */
  chat_view_render(&v, cs);
  assert_string_equal(row(&v, 0), "you");
  assert_int_equal(grid[0].fg, CV_LCYAN);
  assert_string_equal(row(&v, 1), "the quick brown fox");
  assert_string_equal(row(&v, 2), "jumps over the lazy dog");
  assert_int_equal(grid[COLS * 1].fg, CV_WHITE);
  assert_string_equal(row(&v, 3), "");
  assert_string_equal(row(&v, 4), "assistant");
  assert_int_equal(grid[COLS * 4].fg, CV_LGREEN);
  assert_string_equal(row(&v, 5), "caf\xc3\xa9 \xef\xbf\xbd!"); /* U+FFFD for 0xff */
  assert_string_equal(row(&v, 6), "```");
  /* the status, input and help lines */
  assert_non_null(strstr(row(&v, ROWS - 3), "llm-local"));
  assert_string_equal(row(&v, ROWS - 2), "> \xe2\x96\x8f");
  assert_non_null(strstr(row(&v, ROWS - 1), "Enter send"));
  /* scroll down a page: the code block and the tool segments */
  chat_view_scroll(&v, CV_PAGE_DOWN);
  chat_view_render(&v, cs);
  char all[ROWS * (COLS * 4 + 2)] = "";
  for (uint32_t r = 0; r < ROWS - 3; r++) {
    strcat(all, row(&v, r));
    strcat(all, "|");
  }
  assert_non_null(strstr(all, "x = 1|```|[forth] 2 3 + .|[output] 5|ok|"));
  /* code in yellow on blue, forth in magenta */
  for (uint32_t r = 0; r < ROWS - 3; r++) {
    if (!strcmp(row(&v, r), "x = 1")) {
      assert_int_equal(grid[r * COLS].fg, CV_YELLOW);
      assert_int_equal(grid[r * COLS].bg, CV_BLUE);
    }
    if (!strncmp(row(&v, r), "[forth]", 7)) assert_int_equal(grid[r * COLS + 8].fg, CV_LMAGENTA);
  }
  chat_view_scroll(&v, CV_END);
  assert_int_equal(v.scroll, 0);
}

static void wrap_long_word(void **state) {
  (void)state;
  struct chat_session *cs = session();
  add(chat_current(cs), LLM_ROLE_USER, "abcdefghijklmnopqrstuvwxyz0123456789 end");
  struct chat_view v;
  chat_view_init(&v, COLS, ROWS, grid, shown);
  v.scroll = 100;
  chat_view_render(&v, cs);
  assert_string_equal(row(&v, 1), "abcdefghijklmnopqrstuvwx");
  assert_string_equal(row(&v, 2), "yz0123456789 end");
  /* a multi-line input shows its last line and how many before */
  v.input = "first\nsecond line";
  v.input_len = strlen(v.input);
  chat_view_render(&v, cs);
  assert_string_equal(row(&v, ROWS - 2), "[+1] > second line\xe2\x96\x8f");
}

static void redraw_only_changes(void **state) {
  (void)state;
  struct chat_session *cs = session();
  struct chat_conv *c = chat_current(cs);
  add(c, LLM_ROLE_USER, "hi");
  add(c, LLM_ROLE_ASSISTANT, "hello");
  struct chat_view v;
  chat_view_init(&v, COLS, ROWS, grid, shown);
  chat_view_render(&v, cs);
  assert_int_equal(chat_view_flush(&v, NULL, NULL), COLS * ROWS);
  chat_view_render(&v, cs);
  assert_int_equal(chat_view_flush(&v, NULL, NULL), 0);
  /* a streamed delta: a few cells, not the screen */
  assert_int_equal(chat_turn_append(&c->turns[1], " there", 6), 0);
  chat_view_render(&v, cs);
  size_t n = chat_view_flush(&v, NULL, NULL);
  assert_true(n > 0 && n <= 6);
  chat_view_invalidate(&v);
  assert_int_equal(chat_view_flush(&v, NULL, NULL), COLS * ROWS);
}

static void store(void **state) {
  (void)state;
  struct chat_session *cs = session();
  add(chat_current(cs), LLM_ROLE_USER, "old \n\0 bytes");
  chat_current(cs)->turns[0].flags = CHAT_TURN_PARTIAL;
  chat_conv_new(cs);
  add(chat_current(cs), LLM_ROLE_USER, "newer");
  add(chat_current(cs), LLM_ROLE_ASSISTANT, "");
  chat_conv_rename(cs, 1, "ti\ntle", 6);
  chat_current(cs)->stamp = 100;
  static char buf[4096];
  unsigned w;
  size_t n = chat_store_encode(cs->convs, cs->n, buf, sizeof buf, &w);
  assert_int_equal(w, 2);
  struct chat_conv *out[4];
  assert_int_equal(chat_store_decode(buf, n, out, 4), 2);
  assert_string_equal(out[0]->title, "ti tle"); /* newest first */
  assert_int_equal(out[0]->n, 2);
  assert_int_equal(out[0]->turns[1].len, 0);
  assert_int_equal(out[1]->turns[0].flags, CHAT_TURN_PARTIAL);
  assert_int_equal(out[1]->turns[0].len, 5);
  chat_conv_free(out[0]);
  chat_conv_free(out[1]);
  /* room for the newest only */
  n = chat_store_encode(cs->convs, cs->n, buf, 90, &w);
  assert_int_equal(w, 1);
  assert_int_equal(chat_store_decode(buf, n, out, 4), 1);
  assert_string_equal(out[0]->title, "ti tle");
  chat_conv_free(out[0]);
  /* hostile input: every cut of a valid store, and a few lies */
  n = chat_store_encode(cs->convs, cs->n, buf, sizeof buf, &w);
  for (size_t cut = 0; cut < n; cut++) assert_true(chat_store_decode(buf, cut, out, 4) < 0);
  static const char *bad[] = {
      "mneme-chats 1\nconv 1 1 0\n\nturn 9 0 1\nx\nend\n",
      "mneme-chats 1\nconv 1 1 0\n\nturn 1 0 99999999999\nx\nend\n",
      "mneme-chats 1\nconv 1 2 0\n\nturn 1 0 1\nx\nend\n",
      "mneme-chats 1\nconv 1 0 0\n\nconv 1 0 0\n\nend\n",
      "mneme-chats 1\nconv 1 0 0\n\nend\ntrailing",
      "mneme-chats 2\nend\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(chat_store_decode(bad[i], strlen(bad[i]), out, 4), MN_EFORMAT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(layout, ktest_setup),
      cmocka_unit_test_setup(wrap_long_word, ktest_setup),
      cmocka_unit_test_setup(redraw_only_changes, ktest_setup),
      cmocka_unit_test_setup(store, ktest_setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
