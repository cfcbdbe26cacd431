/*
 * x86_fuzz.c: libFuzzer target for the x86_64 platform's parsers of
 * outside bytes: PS/2 scancodes (kbd_decode, kbd_to_bytes) and the
 * framebuffer console's escape sequences (fbcon_write into a small
 * framebuffer with guard pixels around it). The first input byte splits
 * the rest between the two.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../platform/x86_64/kbd.h"
#include "mneme/platform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

unsigned long plat_irq_save(void) { return 0; }
void plat_irq_restore(unsigned long s) { (void)s; }

#define W 56
#define H 48
#define STRIDE 64
#define GUARD 0x5a5a5a5au
static uint32_t fb[STRIDE * H + STRIDE];
#define FBCON_FAKE_ARENA (1 << 15)
#include "fbcon_fake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  size_t split = (size_t)data[0] * (size - 1) / 255;
  const uint8_t *kb = data + 1, *con = data + 1 + split;
  size_t nkb = split, ncon = size - 1 - split;
  for (size_t i = 0; i < nkb; i++) {
    struct key_event ev;
    if (kbd_decode(kb[i], &ev)) {
      char out[8];
      if (kbd_to_bytes(&ev, out) > 8) abort();
    }
  }
  for (size_t i = 0; i < sizeof fb / 4; i++) fb[i] = GUARD;
  arena_used = 0;
  for (int c = 0; c < 256; c++)
    for (int r = 0; r < 16; r++) glyphs[c][r] = (unsigned char)(c ^ (r * 29));
  struct boot_fb bfb = {(uintptr_t)fb, sizeof fb, W, H, STRIDE, 0};
  if (fbcon_init(&bfb)) abort();
  fbcon_write((const char *)con, ncon);
  for (int y = 0; y < H; y++)
    for (int x = W; x < STRIDE; x++)
      if (fb[y * STRIDE + x] != GUARD) abort(); /* drew outside the screen */
  for (int x = 0; x < STRIDE; x++)
    if (fb[H * STRIDE + x] != GUARD) abort();
  return 0;
}
