/*
 * chat_bench_client.c: the chat screen's streaming path in a hosted
 * kernel in a process, for bench/llm_stream.sh: the chat core
 * (chat_session: settings from a file, llm-remote over test/http_posix.c,
 * plain HTTP to 127.0.0.1), the chat screen's layout (chat_view) and its
 * glyphs drawn into a memory framebuffer (1280x800, 32 bits per pixel,
 * the 8x16 PSF1 font given, as the x86_64 chat console draws them).
 * Not a unit test by itself.
 *
 *   chat_bench_client SETTINGS.toml FONT.psf QUESTION
 *
 * The question is sent as the user's message; after each piece of the
 * reply the screen is laid out and the changed cells drawn, then stderr
 * gets "@@T <CLOCK_MONOTONIC ns> <bytes of the reply on the screen>";
 * "@@T0 <ns>" when the message is sent. At the end: "@@ DONE <finish>
 * <cells drawn> <a checksum of the framebuffer>" on stdout, and the
 * screen's rows as text (to check what was drawn).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ktest.h"
#include "mneme/chat_session.h"
#include "mneme/chat_view.h"
#include "mneme/err.h"
#include "mneme/llm.h"

extern const char *hosted_settings_path;

#define FB_W 1280
#define FB_H 800
#define COLS (FB_W / 8)
#define ROWS (FB_H / 16)

static uint32_t fb[FB_W * FB_H];
static uint8_t glyphs[512][16];
static unsigned nglyphs;

/* The VGA palette the console uses. */
static const uint32_t palette[16] = {
  0x000000, 0xaa0000, 0x00aa00, 0xaa5500, 0x0000aa, 0xaa00aa, 0x00aaaa, 0xaaaaaa,
  0x555555, 0xff5555, 0x55ff55, 0xffff55, 0x5555ff, 0xff55ff, 0x55ffff, 0xffffff,
};

static uint64_t
mono_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int
load_font(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  uint8_t h[4];
  int ok = fread(h, 1, 4, f) == 4 && h[0] == 0x36 && h[1] == 0x04 && h[3] == 16;
  nglyphs = ok ? ((h[2] & 1) ? 512 : 256) : 0;
  if (ok)
    ok = fread(glyphs, 16, nglyphs, f) == nglyphs;
  fclose(f);
  return ok ? 0 : -1;
}

static size_t drawn;

/* One cell: its glyph (a box for what the font lacks) in its colours. */
static void
draw(void *ctx, uint32_t x, uint32_t y, const struct chat_cell *c)
{
  (void)ctx;
  static const uint8_t box[16] = { 0, 0, 0x7e, 0x42, 0x42, 0x42, 0x42, 0x42,
                                   0x42, 0x42, 0x42, 0x42, 0x7e, 0, 0, 0 };
  const uint8_t *g = c->cp < 128 && c->cp < nglyphs ? glyphs[c->cp] : box;
  uint32_t fg = palette[c->fg & 15], bg = palette[c->bg & 15];
  for (uint32_t r = 0; r < 16; r++) {
    uint32_t *p = fb + (y * 16 + r) * FB_W + x * 8;
    for (uint32_t b = 0; b < 8; b++)
      p[b] = (g[r] & (0x80 >> b)) ? fg : bg;
  }
  drawn++;
}

int
main(int argc, char **argv)
{
  if (argc < 4) {
    fprintf(stderr, "usage: %s SETTINGS.toml FONT.psf QUESTION\n", argv[0]);
    return 2;
  }
  if (load_font(argv[2])) {
    fprintf(stderr, "chat_bench_client: %s is not an 8x16 PSF1 font\n", argv[2]);
    return 2;
  }
  hosted_settings_path = argv[1];
  ktest_boot(32u << 20);
  /* links llm-remote in: the chat reaches it through a weak reference */
  static int (*volatile link)(const struct llm_remote_config *) = llm_remote_start;
  (void)link;
  static struct chat_session cs;
  static struct chat_cell grid[COLS * ROWS], shown[COLS * ROWS];
  static struct chat_view v;
  if (chat_session_init(&cs))
    return 3;
  if (!cs.use_remote) {
    fprintf(stderr, "chat_bench_client: the settings do not choose a remote provider\n");
    return 3;
  }
  chat_view_init(&v, COLS, ROWS, grid, shown);
  chat_view_render(&v, &cs);
  chat_view_flush(&v, draw, NULL);
  fprintf(stderr, "@@T0 %llu\n", (unsigned long long)mono_ns());
  int rc = chat_send(&cs, argv[3], strlen(argv[3]));
  if (rc) {
    printf("@@ ERROR %d\n", rc);
    return 0;
  }
  struct chat_conv *c = chat_current(&cs);
  struct chat_event ev;
  uint64_t deadline = mono_ns() + 120ull * 1000000000ull;
  for (;;) {
    rc = chat_poll(&cs, MN_SEC(1), &ev);
    if (rc || mono_ns() > deadline)
      break;
    if (ev.kind == CHAT_EV_NONE)
      continue;
    chat_view_render(&v, &cs);
    chat_view_flush(&v, draw, NULL);
    fprintf(stderr, "@@T %llu %u\n", (unsigned long long)mono_ns(), c->turns[c->n - 1].len);
    if (ev.kind == CHAT_EV_DONE)
      break;
  }
  uint64_t sum = 0;
  for (size_t i = 0; i < FB_W * FB_H; i++)
    sum = sum * 31 + fb[i];
  printf("@@ DONE finish=%u error=%d cells=%zu fb=%016llx\n", cs.status.finish, cs.status.error,
         drawn, (unsigned long long)sum);
  char row[COLS * 4 + 1];
  for (uint32_t r = 0; r < ROWS; r++) {
    size_t n = chat_view_row_text(&v, r, row, sizeof row);
    printf("%.*s\n", (int)n, row);
  }
  fflush(stdout);
  _exit(0);
}
