/*
 * lineedit.c: a terminal line editor (the shells' line discipline).
 *
 * Interface: lineedit_init, lineedit_feed, lineedit_burst, lineedit_take,
 * lineedit_cancel.
 *
 * The line is a byte buffer and a cursor; UTF-8 sequences move and erase
 * as one character (continuation bytes are skipped), so the terminal's
 * cursor and ours stay together. Echo uses only BS-free ANSI sequences:
 * ESC [ n C / ESC [ n D to move, ESC [ K to clear to the end of the line.
 * History is a byte ring of previous lines, each ended by '\n'.
 */
#include <string.h>
#include "mneme/lineedit.h"

#define CTRL(c) ((c) & 0x1f)
#define ESC 0x1b

static int
is_cont(uint8_t b)
{
  return (b & 0xc0) == 0x80;
}

static void
out(struct lineedit *le, const char *s, size_t n)
{
  if (le->mode == LE_TERMINAL && le->echo && n)
    le->echo(le->ctx, s, n);
}

static void
outs(struct lineedit *le, const char *s)
{
  out(le, s, strlen(s));
}

/* Columns (characters) in buf[a, b). */
static size_t
cols(const struct lineedit *le, size_t a, size_t b)
{
  size_t n = 0;
  for (size_t i = a; i < b; i++)
    n += !is_cont((uint8_t)le->buf[i]);
  return n;
}

/* Moves the terminal cursor n columns: dir 'C' right, 'D' left. */
static void
move(struct lineedit *le, size_t n, char dir)
{
  if (!n)
    return;
  char s[32], d[24];
  size_t k = 0, nd = 0;
  do
    d[nd++] = (char)('0' + n % 10);
  while ((n /= 10) != 0);
  s[k++] = ESC;
  s[k++] = '[';
  while (nd)
    s[k++] = d[--nd];
  s[k++] = dir;
  out(le, s, k);
}

/* Rewrites from the cursor to the end, clears the rest, returns there. */
static void
redraw_tail(struct lineedit *le)
{
  out(le, le->buf + le->cur, le->len - le->cur);
  outs(le, "\x1b[K");
  move(le, cols(le, le->cur, le->len), 'D');
}

void
lineedit_init(struct lineedit *le, enum le_mode mode, le_echo_fn echo, void *ctx)
{
  memset(le, 0, sizeof *le);
  le->mode = (uint8_t)mode;
  le->hpos = -1;
  le->echo = echo;
  le->ctx = ctx;
}

static void
to_terminal(struct lineedit *le)
{
  if (le->mode != LE_AUTO)
    return;
  le->mode = LE_TERMINAL;
  out(le, le->buf, le->len);
  le->cur = le->len;
}

/* The k-th newest history line (0: newest) as [*s, *s + *n); 0 if none. */
static int
hist_get(const struct lineedit *le, int k, const char **s, size_t *n)
{
  size_t end = le->hlen;
  for (;;) {
    if (!end)
      return 0;
    size_t start = end - 1;
    while (start && le->hist[start - 1] != '\n')
      start--;
    if (k-- == 0) {
      *s = le->hist + start;
      *n = end - 1 - start;
      return 1;
    }
    end = start;
  }
}

static void
hist_add(struct lineedit *le, const char *s, size_t n)
{
  const char *last;
  size_t ln;
  if (!n || n + 1 > LE_HIST_BYTES)
    return;
  if (hist_get(le, 0, &last, &ln) && ln == n && !memcmp(last, s, n))
    return;
  while (le->hlen + n + 1 > LE_HIST_BYTES) {
    size_t drop = 0;
    while (le->hist[drop++] != '\n')
      ;
    memmove(le->hist, le->hist + drop, le->hlen - drop);
    le->hlen -= drop;
  }
  memcpy(le->hist + le->hlen, s, n);
  le->hlen += n;
  le->hist[le->hlen++] = '\n';
}

/* Replaces the line with history entry k (-1: empty). */
static void
hist_show(struct lineedit *le, int k)
{
  const char *s = "";
  size_t n = 0;
  if (k >= 0 && !hist_get(le, k, &s, &n))
    return;
  le->hpos = k;
  move(le, cols(le, 0, le->cur), 'D');
  memcpy(le->buf, s, n);
  le->len = le->cur = n;
  out(le, le->buf, n);
  outs(le, "\x1b[K");
}

static void
insert(struct lineedit *le, uint8_t b)
{
  if (le->len >= LE_LINE_MAX) {
    outs(le, "\a"); /* terminal: the line is full */
    return;
  }
  memmove(le->buf + le->cur + 1, le->buf + le->cur, le->len - le->cur);
  le->buf[le->cur++] = (char)b;
  le->len++;
  out(le, (const char *)&b, 1);
  if (le->cur < le->len && !is_cont((uint8_t)le->buf[le->cur]))
    redraw_tail(le);
  if (le->len == LE_LINE_MAX && le->mode != LE_TERMINAL)
    le->ready = 2; /* a piece of an overlong line: hand it out */
}

static void
left(struct lineedit *le)
{
  if (!le->cur)
    return;
  do
    le->cur--;
  while (le->cur && is_cont((uint8_t)le->buf[le->cur]));
  outs(le, "\x1b[D");
}

static void
right(struct lineedit *le)
{
  if (le->cur >= le->len)
    return;
  do
    le->cur++;
  while (le->cur < le->len && is_cont((uint8_t)le->buf[le->cur]));
  outs(le, "\x1b[C");
}

static void
backspace(struct lineedit *le)
{
  if (!le->cur)
    return;
  size_t end = le->cur;
  left(le);
  memmove(le->buf + le->cur, le->buf + end, le->len - end);
  le->len -= end - le->cur;
  redraw_tail(le);
}

static void
kill_start(struct lineedit *le)
{
  move(le, cols(le, 0, le->cur), 'D');
  memmove(le->buf, le->buf + le->cur, le->len - le->cur);
  le->len -= le->cur;
  le->cur = 0;
  redraw_tail(le);
}

static void
enter(struct lineedit *le)
{
  move(le, cols(le, le->cur, le->len), 'C');
  le->cur = le->len;
  outs(le, " ");
  le->ready = 1;
}

/* The final byte of an escape sequence. */
static void
escape(struct lineedit *le, uint8_t b)
{
  switch (b) {
  case 'A': hist_show(le, le->hpos + 1); break;
  case 'B': hist_show(le, le->hpos - 1 < -1 ? -1 : le->hpos - 1); break;
  case 'C': right(le); break;
  case 'D': left(le); break;
  case 'H': move(le, cols(le, 0, le->cur), 'D'); le->cur = 0; break;
  case 'F': move(le, cols(le, le->cur, le->len), 'C'); le->cur = le->len; break;
  case '~':
    if (le->num == 1 || le->num == 7)
      escape(le, 'H');
    else if (le->num == 4 || le->num == 8)
      escape(le, 'F');
    else if (le->num == 3 && le->cur < le->len) {
      right(le);
      backspace(le);
    }
    break;
  }
}

static void
terminal_byte(struct lineedit *le, uint8_t b)
{
  if (le->esc == 1) {
    le->esc = (b == '[' || b == 'O') ? 2 : 0;
    le->num = 0;
    return;
  }
  if (le->esc == 2) {
    if (b >= '0' && b <= '9') {
      le->num = (uint8_t)(le->num * 10 + (b - '0'));
      return;
    }
    le->esc = 0;
    escape(le, b);
    return;
  }
  switch (b) {
  case ESC: le->esc = 1; break;
  case '\r': case '\n': enter(le); break;
  case 8: case 127: backspace(le); break;
  case CTRL('A'): escape(le, 'H'); break;
  case CTRL('E'): escape(le, 'F'); break;
  case CTRL('B'): left(le); break;
  case CTRL('F'): right(le); break;
  case CTRL('U'): kill_start(le); break;
  case CTRL('K'): le->len = le->cur; outs(le, "\x1b[K"); break;
  case CTRL('P'): escape(le, 'A'); break;
  case CTRL('N'): escape(le, 'B'); break;
  default:
    if (b >= 0x20 || b == '\t')
      insert(le, b);
  }
}

int
lineedit_feed(struct lineedit *le, uint8_t b)
{
  int cr = le->last_cr;
  le->last_cr = b == '\r';
  if (b == '\n' && cr && le->mode == LE_TERMINAL)
    return 0; /* CR LF: one Enter */
  if (le->mode != LE_TERMINAL) {
    if (le->mode == LE_AUTO && (b == '\r' || b == 8 || b == 127 || b == ESC ||
                                b == CTRL('A') || b == CTRL('E') ||
                                b == CTRL('U') || b == CTRL('K')))
      to_terminal(le);
    else if (b == '\n')
      le->ready = 1;
    else if (b != '\r')
      insert(le, b);
    if (le->mode != LE_TERMINAL)
      return le->ready != 0;
  }
  terminal_byte(le, b);
  return le->ready != 0;
}

void
lineedit_burst(struct lineedit *le, size_t n, int had_newline)
{
  if (le->mode == LE_AUTO && n && n <= 4 && !had_newline)
    to_terminal(le);
}

size_t
lineedit_take(struct lineedit *le, char *o, size_t cap)
{
  size_t n = le->len < cap ? le->len : cap;
  memcpy(o, le->buf, n);
  if (le->ready == 1) {
    hist_add(le, le->buf, le->len);
    if (n < cap)
      o[n++] = '\n';
  }
  le->len = le->cur = 0;
  le->hpos = -1;
  le->ready = 0;
  le->esc = 0;
  return n;
}

void
lineedit_cancel(struct lineedit *le)
{
  le->len = le->cur = 0;
  le->hpos = -1;
  le->ready = 0;
  le->esc = 0;
}
