/*
 * lineedit.h: a terminal line editor (the shells' line discipline).
 *
 * Bytes from a terminal go in one at a time; complete lines come out. In
 * TERMINAL mode the editor echoes what is typed and understands
 * backspace (BS, DEL), left/right arrows, Home/End, Ctrl-A/E (start/end
 * of line), Ctrl-U (erase to the start), Ctrl-K (erase to the end) and
 * history with the up/down arrows (ANSI escape sequences ESC [ A..D, H,
 * F, ESC O x, ESC [ n ~). Enter is CR or LF (CR LF counts once).
 *
 * In PLAIN mode (a line-mode client such as a cooked `nc`) bytes are
 * collected without echo up to LF. AUTO starts as PLAIN and becomes
 * TERMINAL at the first byte only a raw terminal sends (CR, BS, DEL, ESC,
 * Ctrl-A/E/U/K) or at a short burst of input without a newline (a key
 * typed on a raw terminal), echoing what it holds so far.
 *
 * A line longer than LE_LINE_MAX is handed out in pieces without a line
 * end (the consumer sees one overlong line: the Forth VM reports it).
 */
#ifndef MNEME_LINEEDIT_H
#define MNEME_LINEEDIT_H

#include <stddef.h>
#include <stdint.h>

#define LE_LINE_MAX 1024
#define LE_HIST_BYTES 2048

enum le_mode { LE_AUTO, LE_PLAIN, LE_TERMINAL };

typedef void (*le_echo_fn)(void *ctx, const char *s, size_t n);

struct lineedit {
  char buf[LE_LINE_MAX];
  size_t len, cur;          /* bytes in buf, cursor position */
  uint8_t mode, esc, num, last_cr;
  int ready;                /* 1: line complete, 2: piece of a long line */
  char hist[LE_HIST_BYTES]; /* previous lines, each ended by '\n' */
  size_t hlen;
  int hpos;                 /* lines back in history; -1: a new line */
  le_echo_fn echo;
  void *ctx;
};

void lineedit_init(struct lineedit *le, enum le_mode mode, le_echo_fn echo,
                   void *ctx);

/* Feeds one byte. Returns 1 when a line (or a piece) is ready: take it
 * with lineedit_take before feeding more. */
int lineedit_feed(struct lineedit *le, uint8_t b);

/* Tells the editor a burst of n input bytes ended (AUTO mode's guess). */
void lineedit_burst(struct lineedit *le, size_t n, int had_newline);

/* Copies the ready line into out (cap >= LE_LINE_MAX + 1), followed by
 * '\n' unless it is a piece of an overlong line; returns its length. */
size_t lineedit_take(struct lineedit *le, char *out, size_t cap);

/* Drops the line being edited (Ctrl-C). */
void lineedit_cancel(struct lineedit *le);

#endif
