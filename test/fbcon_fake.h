/*
 * fbcon_fake.h: what the framebuffer console (platform/uefi/fbcon.c)
 * takes from the platform, on the host: a font of 8x16 glyphs the test
 * fills (glyphs[ch][row]) and boot_alloc over a static arena of
 * FBCON_FAKE_ARENA bytes that the test empties (arena_used = 0) before
 * each fbcon_init. Include once.
 */
#ifndef MNEME_TEST_FBCON_FAKE_H
#define MNEME_TEST_FBCON_FAKE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../platform/uefi/fbcon.h"

#ifndef FBCON_FAKE_ARENA
#define FBCON_FAKE_ARENA (1 << 16)
#endif

static unsigned char glyphs[256][16];
const struct font_psf fbcon_font = {8, 16, 1, &glyphs[0][0]};

static uint8_t arena[FBCON_FAKE_ARENA] __attribute__((aligned(4096)));
static size_t arena_used;

void *boot_alloc(size_t size) {
  size = (size + 4095) & ~(size_t)4095;
  if (arena_used + size > sizeof arena) return NULL;
  void *p = arena + arena_used;
  arena_used += size;
  memset(p, 0, size);
  return p;
}

#endif
