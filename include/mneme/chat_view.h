/*
 * chat_view.h: the chat screen as a grid of character cells (chat/
 * chat_view.c, docs/chat.md), portable: a platform draws the cells that
 * changed (x86_64: the framebuffer console's font; tests: read the grid).
 *
 *   rows 0 .. rows-4   the conversation: "you" and the assistant's turns
 *                      in their own colours, word-wrapped at the width,
 *                      fenced code blocks (```) in their own colour, tool
 *                      calls (LLM_MARK_*) as [forth] code / [output] text
 *   row rows-3         the status line: backend, provider, model, tokens/s,
 *                      time to first text, where conversations are saved,
 *                      a retry-after countdown or the last error
 *   row rows-2         the input line ("> " and the text being typed; a
 *                      multi-line message shows its last line and [+N])
 *   row rows-1         the help line (the keys)
 * With the list open the conversation area lists the conversations.
 * Scrolling: PgUp/PgDn by a page, Home (the top), End (follow the end).
 */
#ifndef MNEME_CHAT_VIEW_H
#define MNEME_CHAT_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/chat_session.h"

/* VGA colour numbers (0-15), as the framebuffer console's palette. */
enum chat_colour {
  CV_BLACK = 0, CV_RED = 1, CV_GREEN = 2, CV_BROWN = 3, CV_BLUE = 4, CV_MAGENTA = 5,
  CV_CYAN = 6, CV_GREY = 7, CV_DARK = 8, CV_LRED = 9, CV_LGREEN = 10, CV_YELLOW = 11,
  CV_LBLUE = 12, CV_LMAGENTA = 13, CV_LCYAN = 14, CV_WHITE = 15,
};

struct chat_cell {
  uint32_t cp;               /* Unicode scalar; U+FFFD for broken UTF-8 */
  uint8_t fg, bg;
};

struct chat_view {
  uint32_t cols, rows;
  struct chat_cell *grid;    /* cols * rows: what should be on screen */
  struct chat_cell *shown;   /* cols * rows: what the platform drew */
  uint32_t scroll;           /* lines above the end (0: follow the end) */
  uint32_t total;            /* lines of the conversation at the last render */
  int list;                  /* 1: the conversation list is shown */
  const char *input;         /* the text being typed (UTF-8) */
  size_t input_len;
  const char *notice;        /* a one-off message for the status line, or NULL */
};

/* grid and shown hold cols * rows cells each (rows >= 4, cols >= 10). */
void chat_view_init(struct chat_view *v, uint32_t cols, uint32_t rows, struct chat_cell *grid,
                    struct chat_cell *shown);
/* Lays the session out into v->grid. */
void chat_view_render(struct chat_view *v, struct chat_session *cs);
/* Calls draw for every cell that differs from what was drawn, then
 * remembers it. Returns how many. */
typedef void (*chat_draw_fn)(void *ctx, uint32_t x, uint32_t y, const struct chat_cell *c);
size_t chat_view_flush(struct chat_view *v, chat_draw_fn draw, void *ctx);
/* Forgets what was drawn (the screen was cleared: the next flush draws all). */
void chat_view_invalidate(struct chat_view *v);

enum chat_scroll { CV_PAGE_UP, CV_PAGE_DOWN, CV_TOP, CV_END };
void chat_view_scroll(struct chat_view *v, int how);

/* Row r's text as UTF-8 into out (trailing spaces dropped); for tests. */
size_t chat_view_row_text(const struct chat_view *v, uint32_t r, char *out, size_t cap);

#endif
