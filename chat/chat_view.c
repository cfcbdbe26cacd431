/*
 * chat_view.c: the chat screen as a cell grid (chat_view.h).
 *
 * The conversation is laid out twice per render: once to count its
 * lines (for scrolling) and once to write the visible ones. Word wrap
 * breaks at the last space of a line that would overflow, or mid-word
 * for a word longer than the width. UTF-8 is decoded here; broken
 * sequences become U+FFFD (the platform draws a box for a character its
 * font lacks).
 *
 * Interface: chat_view_init, chat_view_render, chat_view_flush,
 * chat_view_invalidate, chat_view_scroll, chat_view_row_text.
 */
#include <string.h>

#include "mneme/chat_view.h"
#include "mneme/kmem.h"
#include "mneme/log.h"

#define REPLACEMENT 0xfffd
#define LINE_MAX_COLS 512

void chat_view_init(struct chat_view *v, uint32_t cols, uint32_t rows, struct chat_cell *grid,
                    struct chat_cell *shown) {
  memset(v, 0, sizeof *v);
  v->cols = cols > LINE_MAX_COLS ? LINE_MAX_COLS : cols;
  v->rows = rows;
  v->grid = grid;
  v->shown = shown;
  for (size_t i = 0; i < (size_t)cols * rows; i++) {
    grid[i] = (struct chat_cell){' ', CV_GREY, CV_BLACK};
    shown[i] = (struct chat_cell){0, 0xff, 0xff}; /* never equal: all drawn first */
  }
}

void chat_view_invalidate(struct chat_view *v) {
  for (size_t i = 0; i < (size_t)v->cols * v->rows; i++) v->shown[i].fg = 0xff;
}

/* Decodes one UTF-8 character at s[*i] (n bytes); advances *i. */
static uint32_t next_cp(const char *s, size_t n, size_t *i) {
  const uint8_t *p = (const uint8_t *)s + *i;
  size_t left = n - *i;
  uint8_t c = p[0];
  uint32_t cp;
  size_t k;
  if (c < 0x80) {
    (*i)++;
    return c;
  }
  if (c >= 0xc2 && c <= 0xdf) k = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef) k = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4) k = 4, cp = c & 0x07;
  else {
    (*i)++;
    return REPLACEMENT;
  }
  for (size_t j = 1; j < k; j++) {
    if (j >= left || (p[j] & 0xc0) != 0x80) {
      *i += j;
      return REPLACEMENT;
    }
    cp = cp << 6 | (p[j] & 0x3f);
  }
  *i += k;
  if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return REPLACEMENT;
  return cp;
}

/* The layout: lines go to the grid when their number falls in the
 * visible window [first, first + area). */
struct lay {
  struct chat_view *v;
  uint32_t line;             /* lines emitted so far */
  uint32_t first, area;
  int draw;
  struct chat_cell buf[LINE_MAX_COLS];
  uint32_t len;
};

static void emit(struct lay *L, const struct chat_cell *cells, uint32_t n) {
  if (L->draw && L->line >= L->first && L->line < L->first + L->area) {
    struct chat_cell *row = L->v->grid + (size_t)(L->line - L->first) * L->v->cols;
    for (uint32_t x = 0; x < L->v->cols; x++)
      row[x] = x < n ? cells[x] : (struct chat_cell){' ', CV_GREY, CV_BLACK};
  }
  L->line++;
}

/* Ends the line being built (a newline in the text). */
static void newline(struct lay *L) {
  emit(L, L->buf, L->len);
  L->len = 0;
}

/* Adds a character, wrapping at the width. */
static void put(struct lay *L, uint32_t cp, uint8_t fg, uint8_t bg) {
  uint32_t w = L->v->cols;
  if (L->len == w) {
    uint32_t sp = L->len;
    while (sp > 0 && L->buf[sp - 1].cp != ' ') sp--;
    if (cp == ' ') {
      newline(L); /* the space at the break disappears */
      return;
    }
    if (sp > 0 && sp < L->len) {
      struct chat_cell rest[LINE_MAX_COLS];
      uint32_t rn = L->len - sp;
      memcpy(rest, L->buf + sp, rn * sizeof rest[0]);
      emit(L, L->buf, sp);
      memcpy(L->buf, rest, rn * sizeof rest[0]);
      L->len = rn;
    } else {
      newline(L);
    }
  }
  L->buf[L->len++] = (struct chat_cell){cp, fg, bg};
}

static void puts_(struct lay *L, const char *s, uint8_t fg, uint8_t bg) {
  size_t n = strlen(s), i = 0;
  while (i < n) put(L, next_cp(s, n, &i), fg, bg);
}

/* One turn: a header line, then its text. */
static void lay_turn(struct lay *L, const struct chat_turn *t, int last, int streaming) {
  int user = t->role == LLM_ROLE_USER;
  puts_(L, user ? "you" : "assistant", user ? CV_LCYAN : CV_LGREEN, CV_BLACK);
  newline(L);
  uint8_t base = user ? CV_WHITE : CV_GREY;
  if (t->flags & CHAT_TURN_ERROR) base = CV_LRED;
  int code = 0, seg = 0; /* seg: 0 text, 1 tool code, 2 tool output */
  size_t i = 0, n = t->len;
  int line_start = 1;
  while (i < n) {
    /* a fence at the start of a line toggles a code block */
    if (line_start && n - i >= 3 && !memcmp(t->text + i, "```", 3)) code = !code;
    uint8_t c = (uint8_t)t->text[i];
    if (c == LLM_MARK_CODE || c == LLM_MARK_OUTPUT || c == LLM_MARK_END) {
      i++;
      if (L->len) newline(L);
      seg = c == LLM_MARK_CODE ? 1 : c == LLM_MARK_OUTPUT ? 2 : 0;
      if (seg) puts_(L, seg == 1 ? "[forth] " : "[output] ", CV_LMAGENTA, CV_BLACK);
      line_start = 0;
      continue;
    }
    if (c == '\n') {
      i++;
      newline(L);
      line_start = 1;
      continue;
    }
    uint32_t cp = next_cp(t->text, n, &i);
    if (cp == '\t') cp = ' ';
    if (cp < 0x20 || cp == 0x7f) cp = REPLACEMENT;
    uint8_t fg = seg == 1 ? CV_LMAGENTA : seg == 2 ? CV_CYAN : code ? CV_YELLOW : base;
    uint8_t bg = code || seg ? CV_BLUE : CV_BLACK;
    put(L, cp, fg, bg);
    line_start = 0;
  }
  if (last && streaming) put(L, 0x2588, CV_GREY, CV_BLACK); /* the cursor: more to come */
  if (L->len) newline(L);
  if (t->flags & CHAT_TURN_PARTIAL) {
    puts_(L, "[cut short]", CV_LRED, CV_BLACK);
    newline(L);
  }
  newline(L); /* a blank line between turns */
}

static void lay_conv(struct lay *L, struct chat_session *cs) {
  struct chat_conv *c = chat_current(cs);
  if (!c) return;
  for (uint32_t k = 0; k < c->n; k++)
    lay_turn(L, &c->turns[k], k + 1 == c->n, cs->state != CHAT_IDLE);
}

static void lay_list(struct lay *L, struct chat_session *cs) {
  puts_(L, "Conversations (Up/Down choose, Enter opens, Del deletes, Esc closes)", CV_WHITE,
        CV_BLACK);
  newline(L);
  for (unsigned i = 0; i < cs->n; i++) {
    char m[96];
    ksnprintf(m, sizeof m, "%c %u. %s (%u messages)", i == cs->cur ? '>' : ' ', i + 1,
              cs->convs[i]->title, (unsigned)cs->convs[i]->n);
    puts_(L, m, i == cs->cur ? CV_YELLOW : CV_GREY, CV_BLACK);
    newline(L);
  }
}

/* One full-width row of text (cut at the width). */
static void row_text(struct chat_view *v, uint32_t y, const char *s, size_t n, uint8_t fg,
                     uint8_t bg) {
  struct chat_cell *row = v->grid + (size_t)y * v->cols;
  size_t i = 0;
  uint32_t x = 0;
  while (i < n && x < v->cols) {
    uint32_t cp = next_cp(s, n, &i);
    row[x++] = (struct chat_cell){cp < 0x20 ? ' ' : cp, fg, bg};
  }
  for (; x < v->cols; x++) row[x] = (struct chat_cell){' ', fg, bg};
}

void chat_view_render(struct chat_view *v, struct chat_session *cs) {
  uint32_t area = v->rows - 3;
  struct lay *L = kmalloc(sizeof *L);
  if (!L) return;
  /* pass 1: count */
  memset(L, 0, sizeof *L);
  L->v = v;
  if (v->list) lay_list(L, cs);
  else lay_conv(L, cs);
  v->total = L->line;
  uint32_t max_scroll = v->total > area ? v->total - area : 0;
  if (v->scroll > max_scroll) v->scroll = max_scroll;
  /* pass 2: the visible window */
  uint32_t first = v->total > area ? v->total - area - v->scroll : 0;
  memset(L, 0, sizeof *L);
  L->v = v;
  L->first = first;
  L->area = area;
  L->draw = 1;
  if (v->list) lay_list(L, cs);
  else lay_conv(L, cs);
  for (uint32_t y = L->line > first ? L->line - first : 0; y < area; y++)
    row_text(v, y, "", 0, CV_GREY, CV_BLACK);
  kfree(L);
  /* status line */
  char m[256];
  const struct chat_status *st = &cs->status;
  uint32_t left = chat_retry_left(cs);
  if (v->notice) {
    ksnprintf(m, sizeof m, " %s", v->notice);
  } else if (left) {
    ksnprintf(m, sizeof m, " %s: rate limited, retry in %u s | %s", st->provider, left,
              st->message);
  } else if (st->error && cs->state == CHAT_IDLE) {
    ksnprintf(m, sizeof m, " %s %s: %s", st->backend, st->provider, st->message);
  } else {
    ksnprintf(m, sizeof m, " %s %s | %s | %s | %u.%u tok/s, first text %u ms | %s%s",
              st->backend, st->provider, st->model,
              cs->state == CHAT_WAITING ? "waiting" : cs->state == CHAT_STREAMING ? "streaming" : "ready",
              (unsigned)(st->tok_per_s_x10 / 10), (unsigned)(st->tok_per_s_x10 % 10),
              (unsigned)(st->ttft_ns / 1000000u), st->store,
              v->scroll ? " | scrolled" : "");
  }
  row_text(v, v->rows - 3, m, strlen(m), CV_BLACK, st->error || left ? CV_LRED : CV_GREY);
  /* input line: its last line, and how many before it */
  const char *in = v->input ? v->input : "";
  size_t n = v->input_len, from = n, lines = 0;
  while (from > 0 && in[from - 1] != '\n') from--;
  for (size_t i = 0; i < from; i++) lines += in[i] == '\n';
  char pre[24];
  ksnprintf(pre, sizeof pre, lines ? "[+%u] > " : "> ", (unsigned)lines);
  size_t pl = strlen(pre), room = v->cols > pl + 1 ? v->cols - pl - 1 : 0;
  /* the end of the line stays visible (whole characters) */
  size_t start = from;
  size_t count = 0;
  for (size_t i = from; i < n; i++) count += ((uint8_t)in[i] & 0xc0) != 0x80;
  while (count > room && start < n) {
    start++;
    while (start < n && ((uint8_t)in[start] & 0xc0) == 0x80) start++;
    count--;
  }
  char line[LINE_MAX_COLS * 4 + 32];
  size_t ll = 0;
  memcpy(line, pre, pl);
  ll = pl;
  size_t take = n - start < sizeof line - ll - 4 ? n - start : sizeof line - ll - 4;
  memcpy(line + ll, in + start, take);
  ll += take;
  memcpy(line + ll, "\xe2\x96\x8f", 3); /* the caret */
  ll += 3;
  row_text(v, v->rows - 2, line, ll, CV_WHITE, CV_BLACK);
  static const char help[] =
      " Enter send  Ctrl+J newline  Ctrl+C cancel  PgUp/PgDn/Home/End scroll  F2 list  "
      "F3 new  F4 rename  F5 setup  Alt+F2 Forth";
  row_text(v, v->rows - 1, help, sizeof help - 1, CV_BLACK, CV_CYAN);
}

size_t chat_view_flush(struct chat_view *v, chat_draw_fn draw, void *ctx) {
  size_t drawn = 0;
  for (uint32_t y = 0; y < v->rows; y++)
    for (uint32_t x = 0; x < v->cols; x++) {
      size_t i = (size_t)y * v->cols + x;
      const struct chat_cell *a = &v->grid[i];
      struct chat_cell *b = &v->shown[i];
      if (a->cp == b->cp && a->fg == b->fg && a->bg == b->bg) continue;
      if (draw) draw(ctx, x, y, a);
      *b = *a;
      drawn++;
    }
  return drawn;
}

void chat_view_scroll(struct chat_view *v, int how) {
  uint32_t page = v->rows > 4 ? v->rows - 4 : 1;
  switch (how) {
  case CV_PAGE_UP: v->scroll += page; break; /* clamped at the next render */
  case CV_PAGE_DOWN: v->scroll = v->scroll > page ? v->scroll - page : 0; break;
  case CV_TOP: v->scroll = v->total; break;
  case CV_END: v->scroll = 0; break;
  }
}

size_t chat_view_row_text(const struct chat_view *v, uint32_t r, char *out, size_t cap) {
  size_t n = 0, keep = 0;
  if (!cap) return 0;
  for (uint32_t x = 0; x < v->cols && r < v->rows; x++) {
    uint32_t cp = v->grid[(size_t)r * v->cols + x].cp;
    char b[4];
    size_t k;
    if (cp < 0x80) b[0] = (char)cp, k = 1;
    else if (cp < 0x800) b[0] = (char)(0xc0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3f)), k = 2;
    else if (cp < 0x10000)
      b[0] = (char)(0xe0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 0x3f)),
      b[2] = (char)(0x80 | (cp & 0x3f)), k = 3;
    else
      b[0] = (char)(0xf0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 0x3f)),
      b[2] = (char)(0x80 | (cp >> 6 & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), k = 4;
    if (n + k + 1 > cap) break;
    memcpy(out + n, b, k);
    n += k;
    if (cp != ' ') keep = n;
  }
  out[keep] = 0;
  return keep;
}
