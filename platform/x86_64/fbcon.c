/*
 * fbcon.c: framebuffer text console. The text lives in a cell grid
 * (character, colours); a second grid remembers what is on the screen.
 * After each write the two are compared and only differing cells are
 * drawn; a scroll moves the framebuffer's pixels and the remembered grid
 * together, so scrolled text is not redrawn either. Output understands
 * CR, LF (as CR LF), BS, TAB and ANSI CSI sequences: SGR colours (30-37,
 * 40-47, 90-97, 100-107, 0, 1, 7, 22, 27, 39, 49), cursor movement
 * (A B C D G H f), erase (J K).
 *
 * Interface: fbcon_init, fbcon_write, fbcon_ready, fbcon_size,
 * fbcon_cells_drawn.
 */
#include "fbcon.h"

#include <string.h>

#include "mneme/err.h"

struct cell {
  uint8_t ch, attr, cursor;
};

#define DEFAULT_ATTR 0x07

static const uint8_t palette[16][3] = {
    {0, 0, 0},       {170, 0, 0},     {0, 170, 0},     {170, 85, 0},
    {0, 0, 170},     {170, 0, 170},   {0, 170, 170},   {170, 170, 170},
    {85, 85, 85},    {255, 85, 85},   {85, 255, 85},   {255, 255, 85},
    {85, 85, 255},   {255, 85, 255},  {85, 255, 255},  {255, 255, 255},
};

static struct {
  uint32_t *px;
  uint32_t stride, cols, rows;
  uint32_t colour[16];
  struct cell *cur, *shown;
  uint32_t x, y;         /* cursor */
  uint8_t attr;
  int bold, reverse;
  uint32_t scroll_pending;
  int esc;               /* 0 none, 1 after ESC, 2 in CSI */
  int params[8], nparams;
  uint64_t drawn;
  int ready;
  int other;             /* another console (the chat) owns the screen */
} c;

int fbcon_ready(void) { return c.ready; }
uint64_t fbcon_cells_drawn(void) { return c.drawn; }

void fbcon_size(uint32_t *cols, uint32_t *rows) {
  *cols = c.cols;
  *rows = c.rows;
}

int fbcon_init(const struct boot_fb *fb) {
  memset(&c, 0, sizeof c);
  if (!fb->base) return MN_ENOTSUP;
  c.px = (uint32_t *)fb->base;
  c.stride = fb->stride;
  c.cols = fb->width / fbcon_font.width;
  c.rows = fb->height / fbcon_font.height;
  if (!c.cols || !c.rows) return MN_ENOTSUP;
  size_t n = (size_t)c.cols * c.rows * sizeof(struct cell);
  c.cur = boot_alloc(n);
  c.shown = boot_alloc(n);
  if (!c.cur || !c.shown) return MN_ENOMEM;
  for (int i = 0; i < 16; i++) {
    const uint8_t *p = palette[i];
    c.colour[i] = fb->bgr ? ((uint32_t)p[0] << 16 | p[1] << 8 | p[2])
                          : ((uint32_t)p[2] << 16 | p[1] << 8 | p[0]);
  }
  for (size_t i = 0; i < (size_t)c.cols * c.rows; i++) {
    c.cur[i] = (struct cell){' ', DEFAULT_ATTR, 0};
    c.shown[i] = c.cur[i];
  }
  /* Clear the screen (the firmware's logo and text) to the background. */
  for (uint32_t y = 0; y < fb->height; y++) {
    uint32_t *row = c.px + (size_t)y * c.stride;
    uint32_t bg = c.colour[0], w = fb->width;
#if defined(__x86_64__)
    __asm__ volatile("rep stosl" : "+D"(row), "+c"(w) : "a"(bg) : "memory");
#else
    for (uint32_t x = 0; x < w; x++) row[x] = bg;
#endif
  }
  c.attr = DEFAULT_ATTR;
  c.ready = 1;
  return 0;
}

static void draw_cell(uint32_t x, uint32_t y, const struct cell *ce) {
  const struct font_psf *f = &fbcon_font;
  uint32_t fg = c.colour[ce->attr & 15], bg = c.colour[ce->attr >> 4];
  if (ce->cursor) {
    uint32_t t = fg;
    fg = bg;
    bg = t;
  }
  const unsigned char *g = f->bits + (size_t)ce->ch * f->height * f->row_bytes;
  uint32_t *p = c.px + (size_t)y * f->height * c.stride + x * f->width;
  for (uint32_t r = 0; r < f->height; r++, p += c.stride, g += f->row_bytes) {
    uint32_t bits = g[0] << 8 | (f->row_bytes > 1 ? g[1] : 0);
    for (uint32_t i = 0; i < f->width; i++)
      p[i] = (bits & (0x8000u >> i)) ? fg : bg;
  }
  c.drawn++;
}

/* Moves the framebuffer and the shown grid up by k rows (k < rows). */
static void scroll_pixels(uint32_t k) {
  uint32_t h = fbcon_font.height, w = c.cols * fbcon_font.width;
  for (uint32_t y = 0; y < (c.rows - k) * h; y++)
    memcpy(c.px + (size_t)y * c.stride, c.px + (size_t)(y + k * h) * c.stride,
           w * 4);
  memmove(c.shown, c.shown + (size_t)k * c.cols,
          (size_t)(c.rows - k) * c.cols * sizeof(struct cell));
  for (size_t i = (size_t)(c.rows - k) * c.cols; i < (size_t)c.rows * c.cols; i++)
    c.shown[i] = (struct cell){0, 0xff, 0}; /* stale: force a redraw */
}

static void flush(void) {
  if (c.scroll_pending) {
    if (c.scroll_pending < c.rows) scroll_pixels(c.scroll_pending);
    c.scroll_pending = 0;
  }
  struct cell *cc = &c.cur[(size_t)c.y * c.cols + c.x];
  cc->cursor = 1;
  for (uint32_t y = 0; y < c.rows; y++)
    for (uint32_t x = 0; x < c.cols; x++) {
      size_t i = (size_t)y * c.cols + x;
      if (memcmp(&c.cur[i], &c.shown[i], sizeof(struct cell)) == 0) continue;
      draw_cell(x, y, &c.cur[i]);
      c.shown[i] = c.cur[i];
    }
  cc->cursor = 0;
}

static void clear_cells(size_t from, size_t to) {
  for (size_t i = from; i < to; i++)
    c.cur[i] = (struct cell){' ', c.attr, 0};
}

static void newline(void) {
  c.x = 0;
  if (++c.y < c.rows) return;
  c.y = c.rows - 1;
  memmove(c.cur, c.cur + c.cols, (size_t)(c.rows - 1) * c.cols * sizeof(struct cell));
  clear_cells((size_t)(c.rows - 1) * c.cols, (size_t)c.rows * c.cols);
  c.scroll_pending++;
}

static void put(uint8_t ch) {
  if (c.x >= c.cols) newline();
  c.cur[(size_t)c.y * c.cols + c.x] = (struct cell){ch, c.attr, 0};
  c.x++;
}

static void sgr(int p) {
  int fg = c.attr & 15, bg = c.attr >> 4;
  if (c.reverse) {
    int t = fg;
    fg = bg;
    bg = t;
  }
  if (p == 0) fg = 7, bg = 0, c.bold = 0, c.reverse = 0;
  else if (p == 1) c.bold = 1, fg |= 8;
  else if (p == 22) c.bold = 0, fg &= 7;
  else if (p == 7) c.reverse = 1;
  else if (p == 27) c.reverse = 0;
  else if (p >= 30 && p <= 37) fg = (p - 30) | (c.bold ? 8 : 0);
  else if (p == 39) fg = 7 | (c.bold ? 8 : 0);
  else if (p >= 40 && p <= 47) bg = p - 40;
  else if (p == 49) bg = 0;
  else if (p >= 90 && p <= 97) fg = p - 90 + 8;
  else if (p >= 100 && p <= 107) bg = p - 100 + 8;
  if (c.reverse) {
    int t = fg;
    fg = bg;
    bg = t;
  }
  c.attr = (uint8_t)(bg << 4 | fg);
}

static uint32_t clampu(int v, uint32_t max) {
  if (v < 0) return 0;
  return (uint32_t)v >= max ? max - 1 : (uint32_t)v;
}

static void csi(char f) {
  int p0 = c.nparams ? c.params[0] : 0, n = p0 ? p0 : 1;
  size_t here = (size_t)c.y * c.cols + c.x, end = (size_t)c.rows * c.cols;
  switch (f) {
  case 'm':
    if (!c.nparams) sgr(0);
    for (int i = 0; i < c.nparams; i++) sgr(c.params[i]);
    break;
  case 'A': c.y = clampu((int)c.y - n, c.rows); break;
  case 'B': c.y = clampu((int)c.y + n, c.rows); break;
  case 'C': c.x = clampu((int)c.x + n, c.cols); break;
  case 'D': c.x = clampu((int)c.x - n, c.cols); break;
  case 'G': c.x = clampu(n - 1, c.cols); break;
  case 'H':
  case 'f':
    c.y = clampu(n - 1, c.rows);
    c.x = clampu((c.nparams > 1 && c.params[1] ? c.params[1] : 1) - 1, c.cols);
    break;
  case 'J':
    if (p0 == 2) clear_cells(0, end), c.x = c.y = 0;
    else if (p0 == 1) clear_cells(0, here + 1);
    else clear_cells(here, end);
    break;
  case 'K': {
    size_t row = (size_t)c.y * c.cols;
    if (p0 == 2) clear_cells(row, row + c.cols);
    else if (p0 == 1) clear_cells(row, here + 1);
    else clear_cells(here, row + c.cols);
    break;
  }
  default: break;
  }
}

static void byte(uint8_t b) {
  if (c.esc == 1) {
    c.esc = b == '[' ? 2 : 0;
    c.nparams = 0;
    c.params[0] = 0;
    return;
  }
  if (c.esc == 2) {
    if (b >= '0' && b <= '9') {
      if (!c.nparams) c.nparams = 1, c.params[0] = 0;
      int *p = &c.params[c.nparams - 1];
      if (*p < 10000) *p = *p * 10 + (b - '0');
    } else if (b == ';') {
      if (!c.nparams) c.nparams = 1, c.params[0] = 0;
      if (c.nparams < 8) c.params[c.nparams++] = 0;
    } else if (b >= 0x40 && b <= 0x7e) {
      csi((char)b);
      c.esc = 0;
    } else if (b != '?') {
      c.esc = 0;
    }
    return;
  }
  switch (b) {
  case 0x1b: c.esc = 1; break;
  case '\r': c.x = 0; break;
  case '\n': newline(); break;
  case '\b': if (c.x) c.x--; break;
  case '\t': c.x = c.x / 8 * 8 + 8 < c.cols ? c.x / 8 * 8 + 8 : c.cols - 1; break;
  case 0x07: break;
  default: put(b); break;
  }
}

void fbcon_write(const char *s, size_t n) {
  if (!c.ready) return;
  for (size_t i = 0; i < n; i++) byte((uint8_t)s[i]);
  if (c.x >= c.cols) newline();
  if (c.other) { /* kept in the grid, drawn when the console is shown again */
    if (c.scroll_pending) {
      c.scroll_pending = 0;
      for (size_t i = 0; i < (size_t)c.rows * c.cols; i++) c.shown[i].attr = 0xff;
    }
    return;
  }
  flush();
}

void fbcon_show(int text_console) {
  if (!c.ready) return;
  c.other = !text_console;
  if (text_console) {
    c.scroll_pending = 0;
    for (size_t i = 0; i < (size_t)c.rows * c.cols; i++) c.shown[i].attr = 0xff;
    flush();
  }
}

/* A box: a character the font does not have. */
static int box_bit(uint32_t r, uint32_t i, uint32_t w, uint32_t h) {
  return (r == 2 || r == h - 3) ? (i >= 1 && i + 2 <= w) : (r > 2 && r < h - 3 && (i == 1 || i + 2 == w));
}

void fbcon_draw_char(uint32_t x, uint32_t y, uint32_t cp, uint8_t fgc, uint8_t bgc) {
  if (!c.ready || x >= c.cols || y >= c.rows) return;
  const struct font_psf *f = &fbcon_font;
  uint32_t fg = c.colour[fgc & 15], bg = c.colour[bgc & 15];
  uint32_t *p = c.px + (size_t)y * f->height * c.stride + x * f->width;
  const unsigned char *g = cp < 256 ? f->bits + (size_t)cp * f->height * f->row_bytes : NULL;
  for (uint32_t r = 0; r < f->height; r++, p += c.stride) {
    uint32_t bits = g ? (uint32_t)(g[0] << 8 | (f->row_bytes > 1 ? g[1] : 0)) : 0;
    if (g) g += f->row_bytes;
    for (uint32_t i = 0; i < f->width; i++) {
      int on;
      if (g) on = (bits & (0x8000u >> i)) != 0;
      else if (cp == 0x2588) on = 1;            /* full block */
      else if (cp == 0x258f) on = i == 0;       /* left bar: the caret */
      else on = box_bit(r, i, f->width, f->height);
      p[i] = on ? fg : bg;
    }
  }
  c.drawn++;
}
