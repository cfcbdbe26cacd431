/*
 * fbcon.h: a text console on the GOP framebuffer with a PSF font
 * (converted at build time by tools/psf2c.py): 16 colours, a cursor,
 * scrolling and a subset of ANSI escape sequences; only cells that
 * changed are redrawn.
 */
#ifndef MNEME_X86_FBCON_H
#define MNEME_X86_FBCON_H

#include <stddef.h>
#include <stdint.h>

#include "boot.h"

struct font_psf {
  uint32_t width, height, row_bytes;
  const unsigned char *bits; /* 256 glyphs of height * row_bytes bytes */
};

extern const struct font_psf fbcon_font;

/* Starts the console on fb (clears it). Returns 0, MN_ENOTSUP without a
 * framebuffer, or MN_ENOMEM. */
int fbcon_init(const struct boot_fb *fb);
/* Writes bytes (UTF-8 is not decoded: bytes are Latin-1), then redraws. */
void fbcon_write(const char *s, size_t n);
/* 1 once fbcon_init succeeded. */
int fbcon_ready(void);
/* Console size in cells. */
void fbcon_size(uint32_t *cols, uint32_t *rows);
/* 1: the text console is on screen (drawn at once); 0: another console
 * (the chat) owns the screen, text is kept and drawn when it returns. */
void fbcon_show(int text_console);
/* Draws Unicode character cp at cell (x, y) in palette colours (the
 * chat's screen); a character the font lacks is a box. */
void fbcon_draw_char(uint32_t x, uint32_t y, uint32_t cp, uint8_t fg, uint8_t bg);
/* Cells redrawn since boot (for tests and the bench). */
uint64_t fbcon_cells_drawn(void);

#endif
