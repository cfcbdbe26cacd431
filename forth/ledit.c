/*
 * ledit.c: the line editor of a Forth shell on a terminal. When
 * cfg.line_edit is set, the terminal's REFILL and ACCEPT read keys
 * through it: it echoes what is typed and understands backspace, left and
 * right arrows, Ctrl-A / Ctrl-E (start / end), Ctrl-U (erase to the start)
 * and up / down (history of the last LEDIT_HIST lines). The cursor moves
 * by UTF-8 code points, one column each. It works one byte at a time, so
 * a shell whose input runs dry simply resumes later.
 *
 * Interface:
 *   ledit_key    feed one byte
 *   ledit_reset  forget the line being edited
 */
#include "forth_int.h"

static void out(forth_vm *vm, const char *s, size_t n)
{
  vm_type(vm, s, n);
}

static int cont(uint8_t c)
{
  return (c & 0xc0) == 0x80;
}

/* Columns (code points) in buf[a, b). */
static int cols(const uint8_t *buf, int a, int b)
{
  int n = 0;
  for (int i = a; i < b; i++)
    n += !cont(buf[i]);
  return n;
}

static void back(forth_vm *vm, int n)
{
  while (n-- > 0)
    out(vm, "\b", 1);
}

/* Redraws buf[from, len), blanks `extra` columns, puts the cursor back. */
static void redraw(forth_vm *vm, const uint8_t *buf, int from, int extra)
{
  struct ledit *e = vm->ledit;
  out(vm, (const char *)buf + from, (size_t)(e->len - from));
  for (int i = 0; i < extra; i++)
    out(vm, " ", 1);
  back(vm, cols(buf, e->pos, e->len) + extra);
}

/* Bytes a UTF-8 sequence starting with c has. */
static int seqlen(uint8_t c)
{
  return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

static void insert(forth_vm *vm, uint8_t *buf, int cap, uint8_t c)
{
  struct ledit *e = vm->ledit;
  if (e->len >= cap)
    return;
  memmove(buf + e->pos + 1, buf + e->pos, (size_t)(e->len - e->pos));
  buf[e->pos] = c;
  e->len++;
  e->pos++;
  int start = e->pos - 1;
  while (start > 0 && cont(buf[start]))
    start--;
  if (e->pos - start >= seqlen(buf[start])) /* a whole code point */
    redraw(vm, buf, start, 0);
}

static void erase_before(forth_vm *vm, uint8_t *buf, int from)
{
  struct ledit *e = vm->ledit;
  int w = cols(buf, from, e->pos);
  memmove(buf + from, buf + e->pos, (size_t)(e->len - e->pos));
  e->len -= e->pos - from;
  back(vm, w);
  e->pos = from;
  redraw(vm, buf, from, w);
}

static void set_line(forth_vm *vm, uint8_t *buf, int cap, const char *s, int n)
{
  struct ledit *e = vm->ledit;
  int old = cols(buf, 0, e->len);
  back(vm, cols(buf, 0, e->pos));
  if (n > cap)
    n = cap;
  if (n > 0)
    memcpy(buf, s, (size_t)n);
  e->len = e->pos = n;
  out(vm, s, (size_t)n);
  int now = cols(buf, 0, n);
  for (int i = now; i < old; i++)
    out(vm, " ", 1);
  back(vm, old > now ? old - now : 0);
}

static void history(forth_vm *vm, uint8_t *buf, int cap, int dir)
{
  struct ledit *e = vm->ledit;
  int k = e->browse + dir;
  if (k < 0 || k > e->nhist)
    return;
  e->browse = k;
  if (k == e->nhist) {
    set_line(vm, buf, cap, "", 0);
    return;
  }
  const char *h = e->hist[(e->hfirst + k) % LEDIT_HIST];
  set_line(vm, buf, cap, h, (int)strlen(h));
}

static void remember(forth_vm *vm, const uint8_t *buf)
{
  struct ledit *e = vm->ledit;
  if (!e->len || e->len >= LEDIT_HLEN)
    return;
  int slot = (e->hfirst + e->nhist) % LEDIT_HIST;
  if (e->nhist == LEDIT_HIST)
    e->hfirst = (e->hfirst + 1) % LEDIT_HIST;
  else
    e->nhist++;
  memcpy(e->hist[slot], buf, (size_t)e->len);
  e->hist[slot][e->len] = 0;
}

static int escape(forth_vm *vm, uint8_t *buf, int cap, int c)
{
  struct ledit *e = vm->ledit;
  if (e->esc == 1) {
    e->esc = c == '[' || c == 'O' ? 2 : 0;
    return 0;
  }
  e->esc = 0;
  switch (c) {
  case 'D':
    if (e->pos > 0) {
      do e->pos--; while (e->pos > 0 && cont(buf[e->pos]));
      back(vm, 1);
    }
    break;
  case 'C':
    if (e->pos < e->len) {
      int p = e->pos + 1;
      while (p < e->len && cont(buf[p]))
        p++;
      out(vm, (const char *)buf + e->pos, (size_t)(p - e->pos));
      e->pos = p;
    }
    break;
  case 'A': history(vm, buf, cap, -1); break;
  case 'B': history(vm, buf, cap, 1); break;
  case 'H': back(vm, cols(buf, 0, e->pos)); e->pos = 0; break;
  case 'F':
    out(vm, (const char *)buf + e->pos, (size_t)(e->len - e->pos));
    e->pos = e->len;
    break;
  default: break;
  }
  return 0;
}

void ledit_reset(forth_vm *vm)
{
  struct ledit *e = vm->ledit;
  if (!e)
    return;
  e->len = e->pos = e->esc = 0;
  e->browse = e->nhist;
}

/* Feeds byte c for a line in buf (cap bytes). Returns 0 (more), 1 (line
 * done, *n its length), -1 (end of input: Ctrl-D on an empty line) or
 * -28 (Ctrl-C). */
int ledit_key(forth_vm *vm, uint8_t *buf, int cap, int c, cell *n)
{
  struct ledit *e = vm->ledit;
  if (e->esc)
    return escape(vm, buf, cap, c);
  if (e->after_cr && c == '\n') {
    e->after_cr = 0;
    return 0;
  }
  e->after_cr = c == '\r';
  switch (c) {
  case '\r': case '\n':
    out(vm, (const char *)buf + e->pos, (size_t)(e->len - e->pos));
    out(vm, "\r\n", 2);
    remember(vm, buf);
    *n = e->len;
    ledit_reset(vm);
    return 1;
  case 3:
    out(vm, "^C\r\n", 4);
    ledit_reset(vm);
    return -28;
  case 4:
    return e->len ? 0 : -1;
  case 27: e->esc = 1; return 0;
  case 1: back(vm, cols(buf, 0, e->pos)); e->pos = 0; return 0;
  case 5:
    out(vm, (const char *)buf + e->pos, (size_t)(e->len - e->pos));
    e->pos = e->len;
    return 0;
  case 21: erase_before(vm, buf, 0); return 0;
  case 8: case 127:
    if (e->pos > 0) {
      int p = e->pos - 1;
      while (p > 0 && cont(buf[p]))
        p--;
      erase_before(vm, buf, p);
    }
    return 0;
  default:
    if (c >= 32)
      insert(vm, buf, cap, (uint8_t)c);
    return 0;
  }
}
