/*
 * chat_word.c: the chat in line mode, for the serial console and the
 * sermux shells (docs/chat.md), and the settings words.
 *
 *   CHAT ( -- )   each line typed is the user's message; the answer
 *                 streams back; Ctrl-C cancels a reply in progress (at
 *                 the prompt: drops the line typed). /exit (or the end
 *                 of input) returns to Forth. /new, /list, /switch N, /rename T,
 *                 /delete N, /model, /status, /tool [off|sandbox|network|
 *                 files|all] (what the model's forth tool may use), /help.
 *   SETTINGS ( -- )                 the saved settings (the key masked)
 *   SETTING! ( c-addr u key-addr ku -- )   sets one key ("provider",
 *                 "api_key", "model", "base_url", "system", "temperature",
 *                 "max_tokens", "tool_forth", "tool_network", "tool_files",
 *                 "wizard_done") and saves;
 *                 THROWs -1024 on a bad key or value (the reason printed)
 *
 *   WIZARD ( -- )   the setup wizard in line mode: each question, the
 *                 answer typed (a number or a name in a list; an empty
 *                 line keeps the value shown); the API key is echoed as
 *                 '*' and kept out of the line history; /skip skips,
 *                 /back returns to the provider. Saves the settings.
 *
 * Interface: chat_words_register.
 */
#include <string.h>

#include "mneme/chat_session.h"
#include "mneme/chat_words.h"
#include "mneme/err.h"
#include "mneme/forth.h"
#include "mneme/forth_task.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/wizard.h"

#define STALL_TIMEOUT MN_SEC(300)   /* no text for this long: cancelled */

static void say(struct forth_task *ft, const char *s) { forth_task_out(ft, s, strlen(s)); }

static void sayf(struct forth_task *ft, const char *fmt, const char *a, unsigned long b) {
  char m[200];
  ksnprintf(m, sizeof m, fmt, a, b);
  say(ft, m);
}

/* Eats input up to a Ctrl-C, if one is waiting. 1: it was there. */
static int take_ctrl_c(struct forth_task *ft) {
  const uint8_t *p;
  size_t len;
  if (!ft->in || ft->in_eof || bbq_read(ft->in, &p, &len)) return 0;
  const uint8_t *c = memchr(p, 3, len);
  bbq_release(ft->in, c ? (size_t)(c - p) + 1 : 0);
  return c != NULL;
}

/* Text of the reply: markers become labels. */
static void show(struct forth_task *ft, const char *s, size_t n) {
  size_t from = 0;
  for (size_t i = 0; i < n; i++) {
    const char *label = s[i] == LLM_MARK_CODE     ? "\n[forth] "
                        : s[i] == LLM_MARK_OUTPUT ? "\n[output] "
                        : s[i] == LLM_MARK_END    ? "\n"
                                                  : NULL;
    if (!label) continue;
    forth_task_out(ft, s + from, i - from);
    say(ft, label);
    from = i + 1;
  }
  forth_task_out(ft, s + from, n - from);
}

static void status_line(struct forth_task *ft, struct chat_session *cs) {
  char m[200];
  const struct chat_status *st = &cs->status;
  ksnprintf(m, sizeof m, "[%s %s, model %s; %u tokens, %u.%u tokens/s, first text after %u ms]\n",
            st->backend, st->provider, st->model, (unsigned)st->tokens,
            (unsigned)(st->tok_per_s_x10 / 10), (unsigned)(st->tok_per_s_x10 % 10),
            (unsigned)(st->ttft_ns / 1000000u));
  say(ft, m);
}

static void reply(struct forth_task *ft, struct chat_session *cs) {
  struct chat_event ev;
  uint64_t last = ktime_now();
  int cancelled = 0;
  forth_task_flush(ft);
  for (;;) {
    chat_poll(cs, MN_MSEC(100), &ev);
    if (ev.kind == CHAT_EV_DONE) break;
    if (ev.kind == CHAT_EV_TEXT) {
      show(ft, ev.text, ev.len);
      forth_task_flush(ft);
      last = ktime_now();
    }
    if (!cancelled && (ft->killed || take_ctrl_c(ft) || ktime_now() - last > STALL_TIMEOUT)) {
      chat_cancel(cs);
      cancelled = 1;
    }
  }
  struct chat_conv *c = chat_current(cs);
  const struct chat_turn *a = &c->turns[c->n - 1];
  const struct chat_status *st = &cs->status;
  say(ft, "\n");
  if (a->flags & CHAT_TURN_ERROR) {
    sayf(ft, "[error: %s]\n", a->text, 0);
  } else {
    if (st->error) sayf(ft, "[the reply broke off: %s; the text so far is kept]\n", st->message, 0);
    else if (st->finish == LLM_FINISH_CANCELLED) say(ft, "[cancelled]\n");
    else if (st->finish == LLM_FINISH_LENGTH) say(ft, "[cut: the token limit]\n");
    status_line(ft, cs);
  }
  if (st->retry_after_s) sayf(ft, "[%s: retry after %lu s]\n", st->provider, st->retry_after_s);
}

static void list(struct forth_task *ft, struct chat_session *cs) {
  for (unsigned i = 0; i < cs->n; i++) {
    char m[120];
    ksnprintf(m, sizeof m, "%c %u: %s (%u messages)\n", i == cs->cur ? '*' : ' ', i + 1,
              cs->convs[i]->title, (unsigned)cs->convs[i]->n);
    say(ft, m);
  }
}

static unsigned arg_num(const char *s) {
  unsigned v = 0;
  while (*s == ' ') s++;
  while (*s >= '0' && *s <= '9') v = v * 10 + (unsigned)(*s++ - '0');
  return v;
}

static int starts(const char *line, const char *cmd) {
  size_t n = strlen(cmd);
  return !strncmp(line, cmd, n) && (line[n] == 0 || line[n] == ' ');
}

static void help(struct forth_task *ft) {
  say(ft, "/new  /list  /switch N  /rename TITLE  /delete N  /model  /status  /exit"
          "   (Ctrl-C cancels a reply)\n"
          "/tool [off|sandbox|network|files|all]: what the model's forth tool may use\n");
}

static int tool_cmd(struct forth_task *ft, struct chat_session *cs, const char *arg) {
  while (*arg == ' ') arg++;
  int rc = *arg ? chat_tool_set(cs, arg) : 0;
  if (rc == MN_EINVAL) {
    say(ft, "[/tool off, on, sandbox, network, files or all]\n");
    return 0;
  }
  char m[96];
  chat_tool_describe(&cs->settings, m, sizeof m);
  sayf(ft, "[%s]\n", m, 0);
  return rc;
}

/* A command line. 1: leave CHAT. */
static int command(struct forth_task *ft, struct chat_session *cs, char *line) {
  int rc = 0;
  if (starts(line, "/exit") || starts(line, "/quit")) return 1;
  if (starts(line, "/new")) {
    rc = chat_conv_new(cs);
    if (rc >= 0) sayf(ft, "[new conversation%s %lu]\n", "", (unsigned long)cs->cur + 1), rc = 0;
  } else if (starts(line, "/list")) {
    list(ft, cs);
  } else if (starts(line, "/switch")) {
    unsigned n = arg_num(line + 7);
    rc = n ? chat_conv_switch(cs, n - 1) : MN_ERANGE;
    if (!rc) {
      struct chat_conv *c = chat_current(cs);
      sayf(ft, "[conversation%s %lu: ", "", (unsigned long)cs->cur + 1);
      say(ft, c->title);
      sayf(ft, "%s, %lu messages]\n", "", c->n);
    }
  } else if (starts(line, "/rename")) {
    const char *t = line + 7;
    while (*t == ' ') t++;
    rc = chat_conv_rename(cs, cs->cur, t, strlen(t));
  } else if (starts(line, "/delete")) {
    unsigned n = arg_num(line + 7);
    rc = n ? chat_conv_delete(cs, n - 1) : MN_ERANGE;
    if (!rc) list(ft, cs);
  } else if (starts(line, "/model")) {
    sayf(ft, "[%s: provider ", cs->status.backend, 0);
    say(ft, cs->status.provider);
    say(ft, ", model ");
    say(ft, cs->status.model);
    say(ft, "; change with SETTING! or the setup wizard]\n");
  } else if (starts(line, "/status")) {
    status_line(ft, cs);
    sayf(ft, "[conversations: %s]\n", cs->status.store, 0);
  } else if (starts(line, "/tool")) {
    rc = tool_cmd(ft, cs, line + 5);
  } else if (starts(line, "/help")) {
    help(ft);
  } else {
    say(ft, "unknown command; ");
    help(ft);
  }
  if (rc < 0) sayf(ft, "[%s]\n", mn_strerror(rc), 0);
  else if (starts(line, "/new") || starts(line, "/rename") || starts(line, "/delete"))
    chat_save(cs);
  return 0;
}

static int w_chat(forth_vm *vm, void *ctx) {
  (void)vm;
  (void)ctx;
  struct forth_task *ft = forth_host_ctx(vm);
  struct chat_session *cs = kmalloc(sizeof *cs);
  char *line = kmalloc(LE_LINE_MAX + 2);
  if (!cs || !line) {
    kfree(cs);
    kfree(line);
    return FT_E_NOMEM;
  }
  chat_session_init(cs);
  struct chat_conv *c = chat_current(cs);
  char m[240];
  ksnprintf(m, sizeof m,
            "\nCHAT: %s (provider %s, model %s); conversation %u of %u, '%s'; saved in %s.\n"
            "/help lists the commands, /exit returns to Forth.\n",
            cs->status.backend, cs->status.provider, cs->status.model, cs->cur + 1, cs->n,
            c->title, cs->status.store);
  say(ft, m);
  for (;;) {
    say(ft, "you> ");
    forth_task_flush(ft);
    int n = forth_task_read_line(ft, line, LE_LINE_MAX + 1);
    if (n == MN_ECANCELED && !ft->killed && !ft->discard) {
      say(ft, "^C\n"); /* at the prompt: the line is dropped */
      continue;
    }
    if (n < 0) break;
    line[n] = 0;
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    if (!n) continue;
    if (line[0] == '/') {
      if (command(ft, cs, line)) break;
      continue;
    }
    int rc = chat_send(cs, line, (size_t)n);
    if (rc == 0) reply(ft, cs);
    else if (rc != MN_EINVAL) {
      c = chat_current(cs);
      sayf(ft, "[error: %s]\n", c->n ? c->turns[c->n - 1].text : mn_strerror(rc), 0);
    }
    chat_save(cs);
  }
  chat_session_fini(cs);
  kfree(cs);
  kfree(line);
  say(ft, "\n[back to Forth]\n");
  return 0;
}

/* ---- settings words -------------------------------------------------------- */

static int w_settings(forth_vm *vm, void *ctx) {
  (void)ctx;
  struct forth_task *ft = forth_host_ctx(vm);
  struct mn_settings *s = kmalloc(sizeof *s);
  if (!s) return FT_E_NOMEM;
  int rc = settings_load(s);
  char hint[16], m[200];
  settings_key_hint(s, hint, sizeof hint);
  ksnprintf(m, sizeof m, "\n%sprovider %s, model %s, base_url %s, api_key %s\n",
            rc == MN_ENOENT ? "(nothing saved yet) " : rc ? "(the store is corrupt) " : "",
            s->provider[0] ? s->provider : "(none)", s->model[0] ? s->model : "(none)",
            s->base_url[0] ? s->base_url : "(the provider's)", hint);
  say(ft, m);
  ksnprintf(m, sizeof m, "max_tokens %u, tool_forth %u, tool_network %u, tool_files %u, dhcp %u, "
            "wizard_done %u, temperature ", (unsigned)s->max_tokens, s->tool_forth,
            s->tool_network, s->tool_files, s->net_dhcp, s->wizard_done);
  say(ft, m);
  if (s->temperature < 0) {
    say(ft, "(the provider's)\n");
  } else {
    uint32_t t = (uint32_t)(s->temperature * 1000 + 0.5f);
    ksnprintf(m, sizeof m, "%u.%u%u%u\n", t / 1000, t / 100 % 10, t / 10 % 10, t % 10);
    say(ft, m);
  }
  for (size_t i = 0; i < sizeof *s; i++) ((volatile char *)s)[i] = 0;
  kfree(s);
  return 0;
}

static int w_setting_store(forth_vm *vm, void *ctx) {
  (void)ctx;
  struct forth_task *ft = forth_host_ctx(vm);
  forth_cell ku, ka, vu, va;
  if (forth_depth(vm) < 4) return -4;
  forth_pop(vm, &ku);
  forth_pop(vm, &ka);
  forth_pop(vm, &vu);
  forth_pop(vm, &va);
  if (ku < 0 || vu < 0 || ku > 32 || vu > 1024) return -24;
  const char *k = forth_mem(vm, ka, (size_t)ku), *v = forth_mem(vm, va, (size_t)vu);
  if ((!k && ku) || (!v && vu)) return -9;
  struct mn_settings *s = kmalloc(sizeof *s);
  char *text = kmalloc(1200);
  if (!s || !text) {
    kfree(s);
    kfree(text);
    return FT_E_NOMEM;
  }
  settings_load(s);
  /* one line of TOML through the settings parser: it checks the value */
  char key[40];
  memcpy(key, k, (size_t)ku);
  key[ku] = 0;
  int quoted = strcmp(key, "temperature") && strcmp(key, "max_tokens") &&
               strcmp(key, "tool_forth") && strcmp(key, "tool_network") &&
               strcmp(key, "tool_files") && strcmp(key, "wizard_done");
  int is_net = !strcmp(key, "dhcp") || !strcmp(key, "ip") || !strcmp(key, "netmask") ||
               !strcmp(key, "gateway") || !strcmp(key, "dns");
  if (!strcmp(key, "dhcp")) quoted = 0;
  size_t n = 0;
  char *cur = kmalloc(SETTINGS_TEXT_MAX);
  int cl = cur ? settings_to_toml(s, cur, SETTINGS_TEXT_MAX) : MN_ENOMEM;
  int rc = cl < 0 ? cl : 0;
  char why[96] = "";
  if (!rc) {
    /* the current settings, then the new line in its table (a later key
     * wins in this parser) */
    const char *table = is_net ? "[net]\n" : !strcmp(key, "wizard_done") ? "[wizard]\n" : "[llm]\n";
    const char *name = !strcmp(key, "wizard_done") ? "done" : key;
    n = (size_t)ksnprintf(text, 1200, "%s%s = %s", table, name, quoted ? "\"" : "");
    for (forth_cell i = 0; i < vu && n + 8 < 1200; i++) {
      char ch = v[i];
      if (quoted && (ch == '"' || ch == '\\')) text[n++] = '\\';
      text[n++] = ch;
    }
    n += (size_t)ksnprintf(text + n, 1200 - n, "%s\n", quoted ? "\"" : "");
    char *all = kmalloc((size_t)cl + n + 1);
    if (!all) {
      rc = MN_ENOMEM;
    } else {
      memcpy(all, cur, (size_t)cl);
      memcpy(all + cl, text, n);
      rc = settings_from_toml(s, all, (size_t)cl + n, why, sizeof why);
      for (size_t i = 0; i < (size_t)cl + n; i++) ((volatile char *)all)[i] = 0;
      kfree(all);
    }
  }
  if (cur)
    for (size_t i = 0; i < SETTINGS_TEXT_MAX; i++) ((volatile char *)cur)[i] = 0;
  kfree(cur);
  for (size_t i = 0; i < 1200; i++) ((volatile char *)text)[i] = 0;
  if (!rc) rc = settings_save(s);
  for (size_t i = 0; i < sizeof *s; i++) ((volatile char *)s)[i] = 0;
  kfree(s);
  kfree(text);
  if (rc) {
    say(ft, "\nSETTING!: ");
    say(ft, why[0] ? "bad value" : mn_strerror(rc));
    say(ft, "\n");
    return FT_E_MN(rc == MN_EFORMAT ? MN_EINVAL : rc);
  }
  return 0;
}

/* ---- WIZARD ------------------------------------------------------------------ */

static void echo_masked(void *ctx, const char *s, size_t n) {
  char b[64];
  size_t m = 0;
  static int esc; /* inside an escape sequence (the editor's redraw): passed on */
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    int pass = esc || (uint8_t)c < 0x20 || c == 0x7f;
    if (c == 0x1b) esc = 1;
    else if (esc == 1) esc = c == '[' ? 2 : 0;
    else if (esc == 2 && c >= 0x40 && c <= 0x7e) esc = 0;
    b[m++] = pass ? c : '*';
    if (m == sizeof b) forth_task_echo(ctx, b, m), m = 0;
  }
  if (m) forth_task_echo(ctx, b, m);
}

static int w_wizard(forth_vm *vm, void *ctx) {
  (void)ctx;
  struct forth_task *ft = forth_host_ctx(vm);
  struct wizard *w = kmalloc(sizeof *w);
  char *line = kmalloc(LE_LINE_MAX + 2), *q = kmalloc(4096);
  struct mn_settings *s = kmalloc(sizeof *s);
  if (!w || !line || !q || !s) {
    kfree(w);
    kfree(line);
    kfree(q);
    kfree(s);
    return FT_E_NOMEM;
  }
  settings_load(s);
  wizard_init(w, s);
  for (size_t i = 0; i < sizeof *s; i++) ((volatile char *)s)[i] = 0;
  kfree(s);
  say(ft, "\nmneme setup: /skip skips it, /back returns to the provider.\n");
  int rc = 0;
  while (w->step != WZ_DONE && w->step != WZ_SKIPPED) {
    wizard_question(w, q, 4096);
    say(ft, q);
    say(ft, w->step == WZ_TEST ? "[Enter saves] " : "? ");
    forth_task_flush(ft);
    int masked = w->step == WZ_KEY && ft->ed;
    le_echo_fn old = masked ? ft->ed->echo : NULL;
    size_t hlen = masked ? ft->ed->hlen : 0;
    if (masked) ft->ed->echo = echo_masked;
    int n = forth_task_read_line(ft, line, LE_LINE_MAX + 1);
    if (masked) {
      ft->ed->echo = old;
      if (ft->ed->hlen >= hlen) ft->ed->hlen = hlen, ft->ed->hpos = -1; /* the key: not in history */
    }
    if (n == MN_ECANCELED && !ft->killed && !ft->discard) {
      say(ft, "^C\n");
      continue;
    }
    if (n < 0) break;
    if (masked) say(ft, "\n");
    int a = wizard_line(w, line, (size_t)n);
    for (int i = 0; i < n; i++) ((volatile char *)line)[i] = 0;
    if (a == WZA_MODELS || a == WZA_TEST) {
      say(ft, w->message);
      say(ft, "\n");
      forth_task_flush(ft);
    }
    rc = wizard_act(w, a);
  }
  if (w->step == WZ_DONE) say(ft, rc ? "[the settings could not be saved]\n" : "[settings saved]\n");
  else if (w->step == WZ_SKIPPED) say(ft, "[setup skipped]\n");
  wizard_wipe(w);
  kfree(w);
  kfree(line);
  kfree(q);
  return 0;
}

int chat_words_register(void) {
  static const struct forth_task_word words[] = {
      {"CHAT", w_chat}, {"SETTINGS", w_settings}, {"SETTING!", w_setting_store},
      {"WIZARD", w_wizard}};
  return forth_words_add(words, sizeof words / sizeof words[0]);
}
