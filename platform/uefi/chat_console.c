/*
 * chat_console.c: the chat on the framebuffer (docs/chat.md). Two
 * virtual consoles share the screen: Alt+F1 the chat, Alt+F2 the Forth
 * shell (the text console, fbcon.c); each keeps its screen while the
 * other is shown. The console's keyboard task hands key events here
 * while the chat is shown (uefi_chat_key).
 *
 * The chat task owns a chat_session and a chat_view: it takes keys (the
 * input line: typing, Backspace, Enter sends, Ctrl+J a new line, Up/Down
 * history, Ctrl-C cancels a reply or clears the line; PgUp/PgDn/Home/End
 * scroll; F2 the conversation list; F3 a new conversation; F4 renames it
 * to the input line), streams replies, and draws the cells that changed.
 * The setup wizard (chat/wizard.c) takes the screen on the first boot
 * (wizard_done 0) and on F5: its keys go to it, its actions (model list,
 * connection test, save) run in this task; saved: the chat (with the new
 * settings), skipped (Esc): the Forth shell.
 * Otherwise mneme boots into the chat when a provider was chosen, else
 * into the Forth shell.
 *
 * Interface: uefi_chat_start, uefi_chat_key, uefi_chat_shown, uefi_chat_show.
 */
#include "chat_console.h"

#include <string.h>

#include "fbcon.h"
#include "mneme/chat_session.h"
#include "mneme/chat_view.h"
#include "mneme/err.h"
#include "mneme/kchannel.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/task.h"
#include "mneme/wizard.h"

#define INPUT_MAX 2048
#define HISTORY 8

static struct {
  struct kchannel keys;
  int ready, shown;
  struct chat_session *cs;
  struct chat_view v;
  char input[INPUT_MAX];
  size_t len;
  char *hist[HISTORY];
  int nhist, hpos;
  unsigned sel;           /* the list's selection */
  struct wizard *wz;      /* the setup wizard, while it runs */
  int wz_start;           /* F5 (or the first boot): start it */
} k;

int uefi_chat_shown(void) { return k.ready && k.shown; }

void uefi_chat_show(int chat) {
  if (!k.ready) return;
  k.shown = chat;
  fbcon_show(!chat);
  if (chat) chat_view_invalidate(&k.v);
  struct key_event none = {KEY_RELEASED, 0, KEY_CHAR, 0}; /* wakes the task to redraw */
  kchannel_try_send(&k.keys, &none);
}

void uefi_chat_key(const struct key_event *ev) {
  if (k.ready) kchannel_try_send(&k.keys, ev); /* full: the key is lost (typing too fast) */
}

static void draw(void *ctx, uint32_t x, uint32_t y, const struct chat_cell *c) {
  (void)ctx;
  fbcon_draw_char(x, y, c->cp, c->fg, c->bg);
}

static void put_utf8(uint32_t cp) {
  char b[4];
  size_t n;
  if (cp < 0x80) b[0] = (char)cp, n = 1;
  else if (cp < 0x800) b[0] = (char)(0xc0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
  else if (cp < 0x10000)
    b[0] = (char)(0xe0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 0x3f)),
    b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
  else
    b[0] = (char)(0xf0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 0x3f)),
    b[2] = (char)(0x80 | (cp >> 6 & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
  if (k.len + n >= INPUT_MAX) return;
  memcpy(k.input + k.len, b, n);
  k.len += n;
}

static void set_input(const char *s) {
  k.len = s ? strlen(s) : 0;
  if (k.len >= INPUT_MAX) k.len = INPUT_MAX - 1;
  if (s) memcpy(k.input, s, k.len);
}

static void remember(void) {
  char *h = kmalloc(k.len + 1);
  if (!h) return;
  memcpy(h, k.input, k.len);
  h[k.len] = 0;
  if (k.nhist == HISTORY) {
    kfree(k.hist[0]);
    memmove(k.hist, k.hist + 1, (HISTORY - 1) * sizeof k.hist[0]);
    k.nhist--;
  }
  k.hist[k.nhist++] = h;
}

/* "/tool [ARG]" typed on the chat screen: the forth tool's permissions
 * shown or changed (docs/chat.md), on the status line. 1: it was. */
static int tool_line(void) {
  static char notice[120];
  if (k.len < 5 || memcmp(k.input, "/tool", 5) || (k.len > 5 && k.input[5] != ' ')) return 0;
  char arg[16];
  size_t n = k.len - 5 < sizeof arg - 1 ? k.len - 5 : sizeof arg - 1;
  memcpy(arg, k.input + 5, n);
  arg[n] = 0;
  const char *w = arg;
  while (*w == ' ') w++;
  int rc = *w ? chat_tool_set(k.cs, w) : 0;
  if (rc == MN_EINVAL) {
    ksnprintf(notice, sizeof notice, "/tool off, on, sandbox, network, files or all");
  } else {
    chat_tool_describe(&k.cs->settings, notice, sizeof notice);
    if (rc) {
      size_t l = strlen(notice);
      ksnprintf(notice + l, sizeof notice - l, " (not saved: %s)", mn_strerror(rc));
    }
  }
  k.v.notice = notice;
  return 1;
}

static void send(void) {
  struct chat_session *cs = k.cs;
  if (!k.len || cs->state != CHAT_IDLE) return;
  remember();
  k.hpos = k.nhist;
  if (tool_line()) {
    k.len = 0;
    return;
  }
  chat_send(cs, k.input, k.len);
  k.len = 0;
  k.v.scroll = 0;
  if (cs->state == CHAT_IDLE) chat_save(cs); /* failed at once */
}

static void draw_wizard(void) {
  wizard_render(k.wz, &k.v);
  chat_view_flush(&k.v, draw, NULL);
}

static void wizard_begin(void) {
  if (k.wz || k.cs->state != CHAT_IDLE) return;
  struct wizard *w = kmalloc(sizeof *w);
  if (!w) {
    k.v.notice = "no memory for the setup wizard";
    return;
  }
  wizard_init(w, &k.cs->settings);
  k.wz = w;
  klog(LOG_INFO, "wizard: started on the screen");
}

static void wizard_keyed(const struct key_event *ev) {
  struct wizard *w = k.wz;
  int a = wizard_key(w, ev);
  if (a == WZA_NONE) return;
  if (a == WZA_MODELS || a == WZA_TEST) draw_wizard(); /* "asking..." while it waits */
  int rc = wizard_act(w, a);
  if (w->step != WZ_DONE && w->step != WZ_SKIPPED) return;
  int done = w->step == WZ_DONE;
  wizard_wipe(w);
  kfree(w);
  k.wz = NULL;
  /* the chat again, with what was saved */
  chat_session_fini(k.cs);
  chat_session_init(k.cs);
  chat_view_invalidate(&k.v);
  if (done) {
    k.v.notice = rc ? "the settings could not be saved" : "settings saved";
  } else {
    uefi_chat_show(0); /* skipped: the Forth shell */
  }
}

static void key(const struct key_event *ev) {
  struct chat_session *cs = k.cs;
  if (ev->kind != KEY_PRESSED) return;
  if (k.wz) {
    wizard_keyed(ev);
    return;
  }
  if (ev->code == KEY_F && ev->ch == 5) {
    wizard_begin();
    return;
  }
  k.v.notice = NULL;
  if (ev->code == KEY_CHAR && (ev->mods & KEYMOD_CTRL)) {
    uint32_t c = ev->ch | 0x20;
    if (c == 'c') {
      if (cs->state != CHAT_IDLE) chat_cancel(cs);
      else k.len = 0;
    } else if (c == 'j' && !k.v.list) {
      put_utf8('\n');
    }
    return;
  }
  if (k.v.list) {
    switch (ev->code) {
    case KEY_UP: if (k.sel) k.sel--; break;
    case KEY_DOWN: if (k.sel + 1 < cs->n) k.sel++; break;
    case KEY_ENTER:
      if (!chat_conv_switch(cs, k.sel)) k.v.list = 0, k.v.scroll = 0;
      break;
    case KEY_DELETE:
      if (!chat_conv_delete(cs, k.sel)) {
        if (k.sel >= cs->n) k.sel = cs->n - 1;
        chat_save(cs);
      }
      break;
    case KEY_ESC: k.v.list = 0; break;
    case KEY_F: if (ev->ch == 2) k.v.list = 0; break;
    default: break;
    }
    return;
  }
  switch (ev->code) {
  case KEY_CHAR:
    if (ev->ch >= 0x20 && ev->ch != 0x7f) put_utf8(ev->ch);
    break;
  case KEY_ENTER:
    if (ev->mods & KEYMOD_SHIFT) put_utf8('\n');
    else send();
    break;
  case KEY_BACKSPACE:
    while (k.len && ((uint8_t)k.input[k.len - 1] & 0xc0) == 0x80) k.len--;
    if (k.len) k.len--;
    break;
  case KEY_UP:
    if (k.hpos > 0) set_input(k.hist[--k.hpos]);
    break;
  case KEY_DOWN:
    if (k.hpos + 1 < k.nhist) set_input(k.hist[++k.hpos]);
    else k.hpos = k.nhist, k.len = 0;
    break;
  case KEY_PAGE_UP: chat_view_scroll(&k.v, CV_PAGE_UP); break;
  case KEY_PAGE_DOWN: chat_view_scroll(&k.v, CV_PAGE_DOWN); break;
  case KEY_HOME: chat_view_scroll(&k.v, CV_TOP); break;
  case KEY_END: chat_view_scroll(&k.v, CV_END); break;
  case KEY_F:
    if (ev->ch == 2) {
      k.v.list = 1;
      k.sel = cs->cur;
    } else if (ev->ch == 3) {
      if (chat_conv_new(cs) < 0) k.v.notice = "no room for another conversation (16)";
      k.v.scroll = 0;
    } else if (ev->ch == 4 && k.len) {
      chat_conv_rename(cs, cs->cur, k.input, k.len);
      k.len = 0;
      chat_save(cs);
    }
    break;
  default:
    break;
  }
}

static int chat_task(void *arg) {
  (void)arg;
  struct chat_session *cs = k.cs;
  chat_session_init(cs);
  if (k.wz_start) wizard_begin();
  for (;;) {
    struct key_event ev;
    uint64_t wait = cs->state != CHAT_IDLE ? MN_MSEC(15) : chat_retry_left(cs) ? MN_SEC(1) : MN_FOREVER;
    if (kchannel_recv(&k.keys, &ev, wait) == 0) {
      key(&ev);
      while (kchannel_try_recv(&k.keys, &ev) == 0) key(&ev);
    }
    if (cs->state != CHAT_IDLE) {
      struct chat_event ce;
      do chat_poll(cs, 0, &ce);
      while (ce.kind == CHAT_EV_TEXT);
      if (ce.kind == CHAT_EV_DONE) chat_save(cs);
    }
    if (k.shown && k.wz) {
      draw_wizard();
    } else if (k.shown) {
      k.v.input = k.input;
      k.v.input_len = k.len;
      chat_view_render(&k.v, cs);
      chat_view_flush(&k.v, draw, NULL);
    }
  }
  return 0;
}

int uefi_chat_start(void) {
  uint32_t cols, rows;
  if (!fbcon_ready()) return MN_ENOTSUP;
  fbcon_size(&cols, &rows);
  if (cols < 20 || rows < 6) return MN_ENOTSUP;
  if (cols > 512) cols = 512;
  struct chat_cell *grid = kmalloc((size_t)cols * rows * sizeof *grid);
  struct chat_cell *shown = kmalloc((size_t)cols * rows * sizeof *shown);
  k.cs = kmalloc(sizeof *k.cs);
  if (!grid || !shown || !k.cs || kchannel_init(&k.keys, sizeof(struct key_event), 64)) {
    kfree(grid);
    kfree(shown);
    kfree(k.cs);
    return MN_ENOMEM;
  }
  memset(k.cs, 0, sizeof *k.cs);
  chat_view_init(&k.v, cols, rows, grid, shown);
  /* into the chat when a provider was chosen, else the Forth shell */
  struct mn_settings *s = kmalloc(sizeof *s);
  int chosen = 0;
  if (s) {
    int rc = settings_load(s);
    chosen = rc == 0 && s->provider[0];
    k.wz_start = !s->wizard_done; /* the first boot: the setup wizard */
    chosen |= k.wz_start;
    memset(s, 0, sizeof *s);
    kfree(s);
  }
  if (task_spawn("chat-screen", chat_task, 0, 64 * 1024, 0)) return MN_ENOMEM;
  k.ready = 1;
  if (chosen) uefi_chat_show(1);
  klog(LOG_INFO, "chat screen: Alt+F1 the chat, Alt+F2 the Forth shell, F5 the setup wizard%s",
       k.wz_start ? " (the setup wizard is shown)" : chosen ? " (the chat is shown)" : "");
  return 0;
}
