/*
 * wizard.c: the setup wizard's state machine and its screen (wizard.h,
 * docs/chat.md). No I/O: the driver does what the returned action says.
 *
 * Interface: wizard_init, wizard_key, wizard_line, wizard_models,
 * wizard_tested, wizard_title, wizard_question, wizard_render, wizard_wipe.
 */
#include <string.h>

#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/log.h"
#include "mneme/wizard.h"

static const char *const providers[] = {"openai", "anthropic", "groq", "xai", "openrouter", "local"};
#define NPROV (sizeof providers / sizeof providers[0])
static const char *const provider_help[] = {
    "OpenAI, or any compatible server (llama.cpp, Ollama, vLLM: give its base URL)",
    "Anthropic messages API", "Groq", "xAI", "OpenRouter",
    "the kernel's own model (LOAD-MODEL)"};
static const char *const net_choices[] = {"DHCP (automatic)", "static address"};

static void set_text(struct wizard *w, const char *s) {
  w->len = s ? strlen(s) : 0;
  if (w->len > WZ_TEXT_MAX) w->len = WZ_TEXT_MAX;
  if (s) memcpy(w->text, s, w->len);
  w->text[w->len] = 0;
}

static void set_ip_text(struct wizard *w, uint32_t ip) {
  char b[16] = "";
  if (ip) settings_format_ip(ip, b, sizeof b);
  set_text(w, b);
}

/* Enters a step with its field prefilled. */
static void go(struct wizard *w, int step) {
  w->step = step;
  w->sel = 0;
  set_text(w, NULL);
  switch (step) {
  case WZ_NET: w->sel = w->s.net_dhcp ? 0 : 1; break;
  case WZ_IP: set_ip_text(w, w->s.net_ip); break;
  case WZ_NETMASK: set_ip_text(w, w->s.net_netmask ? w->s.net_netmask : 0xffffff00u); break;
  case WZ_GATEWAY: set_ip_text(w, w->s.net_gateway); break;
  case WZ_DNS: set_ip_text(w, w->s.net_dns); break;
  case WZ_PROVIDER:
    for (unsigned i = 0; i < NPROV; i++)
      if (!strcmp(w->s.provider, providers[i])) w->sel = i;
    break;
  case WZ_BASE_URL: set_text(w, w->s.base_url); break;
  case WZ_MODEL:
    if (!w->nmodels) set_text(w, w->s.model);
    break;
  default: break;
  }
}

void wizard_init(struct wizard *w, const struct mn_settings *cur) {
  memset(w, 0, sizeof *w);
  if (cur) w->s = *cur;
  else settings_defaults(&w->s);
  w->test_rc = 1;
  go(w, WZ_NET);
}

void wizard_wipe(struct wizard *w) {
  for (size_t i = 0; i < sizeof *w; i++) ((volatile char *)w)[i] = 0;
}

static const char *model_at(const struct wizard *w, unsigned i) {
  const char *p = w->models;
  while (i--) p += strlen(p) + 1;
  return p;
}

void wizard_models(struct wizard *w, int n, const char *buf, size_t len, const char *why) {
  w->nmodels = 0;
  w->top = 0;
  if (n > 0 && buf && len) {
    size_t cp = len < WZ_MODELS_MAX ? len : WZ_MODELS_MAX;
    memcpy(w->models, buf, cp);
    /* only whole names (their NUL within what was copied) */
    size_t off = 0;
    for (int i = 0; i < n && off < cp; i++) {
      size_t l = strnlen(w->models + off, cp - off);
      if (off + l >= cp || !l) break;
      w->nmodels++;
      off += l + 1;
    }
  }
  if (w->nmodels) {
    w->message[0] = 0;
    w->sel = 0;
    for (unsigned i = 0; i < w->nmodels; i++)
      if (!strcmp(model_at(w, i), w->s.model)) w->sel = i;
    set_text(w, NULL);
  } else {
    ksnprintf(w->message, sizeof w->message, "no model list (%s): type the model's name",
              n < 0 ? (why && why[0] ? why : mn_strerror(n)) : "the provider gave none");
    set_text(w, w->s.model);
  }
}

void wizard_tested(struct wizard *w, int rc, const char *why) {
  w->test_rc = rc;
  if (!rc)
    ksnprintf(w->message, sizeof w->message, "connection OK: %s answers", w->s.provider);
  else
    ksnprintf(w->message, sizeof w->message, "connection failed: %s",
              why && why[0] ? why : mn_strerror(rc));
}

static int list_len(const struct wizard *w) {
  switch (w->step) {
  case WZ_NET: return 2;
  case WZ_PROVIDER: return (int)NPROV;
  case WZ_MODEL: return (int)w->nmodels;
  default: return 0;
  }
}

static const char *list_item(const struct wizard *w, unsigned i) {
  switch (w->step) {
  case WZ_NET: return net_choices[i];
  case WZ_PROVIDER: return providers[i];
  case WZ_MODEL: return model_at(w, i);
  default: return "";
  }
}

/* A list's answer from typed text: a number (1-based) or a name. */
static int pick(struct wizard *w) {
  int n = list_len(w);
  if (!w->len) return (int)w->sel;
  unsigned v = 0, digits = 1;
  for (size_t i = 0; i < w->len; i++) {
    if (w->text[i] < '0' || w->text[i] > '9') digits = 0;
    else v = v * 10 + (unsigned)(w->text[i] - '0');
  }
  if (digits && v >= 1 && v <= (unsigned)n) return (int)v - 1;
  for (int i = 0; i < n; i++)
    if (!strcmp(list_item(w, (unsigned)i), w->text)) return i;
  if (w->step == WZ_NET && (!strcmp(w->text, "dhcp") || !strcmp(w->text, "DHCP"))) return 0;
  if (w->step == WZ_NET && !strcmp(w->text, "static")) return 1;
  return -1;
}

static int ip_step(struct wizard *w, uint32_t *dst, int next) {
  uint32_t ip;
  if (settings_parse_ip(w->text, w->len, &ip) || (w->step != WZ_GATEWAY && w->step != WZ_DNS && !ip)) {
    ksnprintf(w->message, sizeof w->message, "'%s' is not an IPv4 address (a.b.c.d)", w->text);
    return WZA_NONE;
  }
  *dst = ip;
  w->message[0] = 0;
  go(w, next);
  return WZA_NONE;
}

static int enter(struct wizard *w) {
  int i;
  switch (w->step) {
  case WZ_NET:
    if ((i = pick(w)) < 0) break;
    w->s.net_dhcp = i == 0;
    w->message[0] = 0;
    go(w, i == 0 ? WZ_PROVIDER : WZ_IP);
    return WZA_NONE;
  case WZ_IP: return ip_step(w, &w->s.net_ip, WZ_NETMASK);
  case WZ_NETMASK: return ip_step(w, &w->s.net_netmask, WZ_GATEWAY);
  case WZ_GATEWAY: return ip_step(w, &w->s.net_gateway, WZ_DNS);
  case WZ_DNS: return ip_step(w, &w->s.net_dns, WZ_PROVIDER);
  case WZ_PROVIDER:
    if ((i = pick(w)) < 0) break;
    memcpy(w->s.provider, providers[i], strlen(providers[i]) + 1);
    w->message[0] = 0;
    if (!strcmp(providers[i], "local")) {
      w->step = WZ_TEST;
      w->test_rc = 0;
      ksnprintf(w->message, sizeof w->message,
                "provider local: the kernel's own model (no connection needed)");
      return WZA_NONE;
    }
    go(w, WZ_KEY);
    return WZA_NONE;
  case WZ_KEY:
    if (w->len) {
      memcpy(w->s.api_key, w->text, w->len);
      w->s.api_key[w->len] = 0;
    }
    for (size_t k = 0; k < sizeof w->text; k++) ((volatile char *)w->text)[k] = 0;
    w->len = 0;
    go(w, WZ_BASE_URL);
    return WZA_NONE;
  case WZ_BASE_URL:
    if (w->len && strncmp(w->text, "http://", 7) && strncmp(w->text, "https://", 8)) {
      ksnprintf(w->message, sizeof w->message, "a base URL starts with http:// or https://");
      return WZA_NONE;
    }
    memcpy(w->s.base_url, w->text, w->len + 1);
    w->message[0] = 0;
    w->nmodels = 0;
    go(w, WZ_MODEL);
    ksnprintf(w->message, sizeof w->message, "asking %s for its models...", w->s.provider);
    return WZA_MODELS;
  case WZ_MODEL:
    if (w->nmodels && (i = pick(w)) >= 0) {
      const char *m = model_at(w, (unsigned)i);
      size_t l = strlen(m);
      if (l >= sizeof w->s.model) l = sizeof w->s.model - 1;
      memcpy(w->s.model, m, l);
      w->s.model[l] = 0;
    } else if (w->len && w->len < sizeof w->s.model) {
      memcpy(w->s.model, w->text, w->len + 1);
    } else {
      ksnprintf(w->message, sizeof w->message, "type the model's name");
      return WZA_NONE;
    }
    w->step = WZ_TEST;
    w->test_rc = 1;
    set_text(w, NULL);
    ksnprintf(w->message, sizeof w->message, "testing the connection to %s...", w->s.provider);
    return WZA_TEST;
  case WZ_TEST:
    if (w->test_rc == 1) return WZA_NONE; /* still testing */
    w->s.wizard_done = 1;
    w->step = WZ_DONE;
    return WZA_SAVE;
  default:
    return WZA_NONE;
  }
  ksnprintf(w->message, sizeof w->message, "choose 1 to %d (or type a name)", list_len(w));
  set_text(w, NULL);
  return WZA_NONE;
}

static void skip(struct wizard *w) {
  w->step = WZ_SKIPPED;
  w->s.wizard_done = 1;
}

static void back(struct wizard *w) {
  w->message[0] = 0;
  go(w, WZ_PROVIDER);
}

int wizard_key(struct wizard *w, const struct key_event *ev) {
  if (ev->kind != KEY_PRESSED || w->step == WZ_DONE || w->step == WZ_SKIPPED) return WZA_NONE;
  int n = list_len(w);
  switch (ev->code) {
  case KEY_ESC: skip(w); return WZA_SKIP;
  case KEY_ENTER: return enter(w);
  case KEY_UP:
    if (n && w->sel > 0) w->sel--, set_text(w, NULL);
    return WZA_NONE;
  case KEY_DOWN:
    if (n && w->sel + 1 < (unsigned)n) w->sel++, set_text(w, NULL);
    return WZA_NONE;
  case KEY_LEFT:
    if (w->step == WZ_TEST && w->test_rc != 1) back(w);
    return WZA_NONE;
  case KEY_BACKSPACE:
    while (w->len && ((uint8_t)w->text[w->len - 1] & 0xc0) == 0x80) w->len--;
    if (w->len) w->len--;
    w->text[w->len] = 0;
    return WZA_NONE;
  case KEY_CHAR:
    if (ev->mods & KEYMOD_CTRL) return WZA_NONE;
    if (ev->ch >= 0x20 && ev->ch < 0x7f && w->len < WZ_TEXT_MAX && w->step != WZ_TEST) {
      w->text[w->len++] = (char)ev->ch;
      w->text[w->len] = 0;
    }
    return WZA_NONE;
  default:
    return WZA_NONE;
  }
}

int wizard_line(struct wizard *w, const char *line, size_t n) {
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ')) n--;
  while (n && *line == ' ') line++, n--;
  if (w->step == WZ_DONE || w->step == WZ_SKIPPED) return WZA_NONE;
  if ((n == 5 && !memcmp(line, "/skip", 5)) || (n == 1 && line[0] == 0x1b)) {
    skip(w);
    return WZA_SKIP;
  }
  if (n == 5 && !memcmp(line, "/back", 5)) {
    back(w);
    return WZA_NONE;
  }
  if (n) {
    if (n > WZ_TEXT_MAX) n = WZ_TEXT_MAX;
    memcpy(w->text, line, n);
    w->len = n;
    w->text[n] = 0;
  }
  struct key_event ev = {KEY_PRESSED, 0, KEY_ENTER, 0};
  return wizard_key(w, &ev);
}

const char *wizard_title(const struct wizard *w) {
  static const char *const t[] = {"Network", "Address", "Netmask", "Gateway", "DNS server",
                                  "Provider", "API key", "Base URL", "Model",
                                  "Connection test", "Done", "Skipped"};
  return w->step >= 0 && w->step <= WZ_SKIPPED ? t[w->step] : "?";
}

/* The lines of a step: kind 0 text, 1 a list entry (2 highlighted), 3 the
 * field, 4 the message. */
typedef void (*line_fn)(void *ctx, const char *s, int kind);

static void lines(const struct wizard *w, line_fn out, void *ctx, unsigned max_list) {
  char b[WZ_TEXT_MAX + 80];
  switch (w->step) {
  case WZ_NET: out(ctx, "How does mneme reach the network?", 0); break;
  case WZ_IP: out(ctx, "This machine's IPv4 address (a.b.c.d):", 0); break;
  case WZ_NETMASK: out(ctx, "The netmask:", 0); break;
  case WZ_GATEWAY: out(ctx, "The gateway (0.0.0.0: none):", 0); break;
  case WZ_DNS: out(ctx, "The DNS server (0.0.0.0: none):", 0); break;
  case WZ_PROVIDER: out(ctx, "Which language model provider?", 0); break;
  case WZ_KEY: {
    char hint[16];
    settings_key_hint(&w->s, hint, sizeof hint);
    ksnprintf(b, sizeof b, "The API key for %s (now: %s; empty keeps it):", w->s.provider, hint);
    out(ctx, b, 0);
    break;
  }
  case WZ_BASE_URL:
    out(ctx, "The base URL of a compatible server, e.g. http://10.0.2.2:8080/v1", 0);
    out(ctx, "(empty: the provider's own):", 0);
    break;
  case WZ_MODEL:
    out(ctx, w->nmodels ? "Which model? (a number, a name, or Up/Down and Enter)"
                        : "The model's name:", 0);
    break;
  case WZ_TEST: {
    char hint[16];
    settings_key_hint(&w->s, hint, sizeof hint);
    ksnprintf(b, sizeof b, "provider %s, model %s, base URL %s, key %s", w->s.provider,
              w->s.model[0] ? w->s.model : "(none)",
              w->s.base_url[0] ? w->s.base_url : "(the provider's)", hint);
    out(ctx, b, 0);
    out(ctx, w->test_rc == 1 ? "" : "Enter saves these settings; Left (or /back) changes the provider.", 0);
    break;
  }
  case WZ_DONE: out(ctx, "Settings saved.", 0); break;
  case WZ_SKIPPED: out(ctx, "Skipped: the Forth shell.", 0); break;
  default: break;
  }
  unsigned n = (unsigned)list_len(w);
  unsigned first = 0;
  if (n > max_list && w->sel >= max_list) first = w->sel - max_list + 1;
  for (unsigned i = first; i < n && i < first + max_list; i++) {
    ksnprintf(b, sizeof b, "%c %u. %s%s%s", i == w->sel ? '>' : ' ', i + 1, list_item(w, i),
              w->step == WZ_PROVIDER ? "  - " : "",
              w->step == WZ_PROVIDER ? provider_help[i] : "");
    out(ctx, b, i == w->sel ? 2 : 1);
  }
  if (n > first + max_list) {
    ksnprintf(b, sizeof b, "  ... %u more", n - first - max_list);
    out(ctx, b, 1);
  }
  if (w->step <= WZ_MODEL) {
    size_t l = 0;
    b[l++] = '>';
    b[l++] = ' ';
    for (size_t i = 0; i < w->len && l + 1 < sizeof b; i++)
      b[l++] = w->step == WZ_KEY ? '*' : w->text[i];
    b[l] = 0;
    out(ctx, b, 3);
  }
  if (w->message[0]) out(ctx, w->message, 4);
}

/* ---- line mode ---- */

struct qbuf {
  char *out;
  size_t cap, len;
};

static void q_line(void *ctx, const char *s, int kind) {
  struct qbuf *q = ctx;
  if (kind == 3) return; /* line mode: the user types the field */
  size_t l = strlen(s);
  if (q->len + l + 2 > q->cap) return;
  memcpy(q->out + q->len, s, l);
  q->len += l;
  q->out[q->len++] = '\n';
  q->out[q->len] = 0;
}

size_t wizard_question(const struct wizard *w, char *out, size_t cap) {
  struct qbuf q = {out, cap, 0};
  if (cap) out[0] = 0;
  char head[64];
  ksnprintf(head, sizeof head, "-- setup: %s --", wizard_title(w));
  q_line(&q, head, 0);
  lines(w, q_line, &q, 40);
  if (w->step >= WZ_IP && w->step <= WZ_MODEL && w->step != WZ_KEY && w->len && !w->nmodels) {
    char b[WZ_TEXT_MAX + 40];
    ksnprintf(b, sizeof b, "(Enter keeps: %s)", w->text);
    q_line(&q, b, 0);
  }
  return q.len;
}

/* ---- the screen ---- */

struct rend {
  struct chat_view *v;
  uint32_t y, max;
};

static void row_put(struct chat_view *v, uint32_t y, const char *s, uint8_t fg, uint8_t bg) {
  struct chat_cell *row = v->grid + (size_t)y * v->cols;
  size_t n = strlen(s);
  for (uint32_t x = 0; x < v->cols; x++) {
    uint32_t cp = x < n ? (uint8_t)s[x] : ' ';
    if (cp >= 0x80) cp = 0xfffd; /* the wizard's text is ASCII */
    row[x] = (struct chat_cell){cp, fg, bg};
  }
}

static void r_line(void *ctx, const char *s, int kind) {
  struct rend *r = ctx;
  if (r->y >= r->max) return;
  static const uint8_t fg[] = {CV_GREY, CV_GREY, CV_YELLOW, CV_WHITE, CV_YELLOW};
  static const uint8_t bg[] = {CV_BLACK, CV_BLACK, CV_BLUE, CV_BLUE, CV_BLACK};
  if (kind == 3 || kind == 4) r->y++; /* a blank line before */
  if (r->y >= r->max) return;
  row_put(r->v, r->y++, s, fg[kind], bg[kind]);
}

void wizard_render(const struct wizard *w, struct chat_view *v) {
  for (uint32_t y = 0; y < v->rows; y++) row_put(v, y, "", CV_GREY, CV_BLACK);
  char b[96];
  static const int num[] = {1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6};
  ksnprintf(b, sizeof b, " mneme setup - step %d of 6: %s", num[w->step], wizard_title(w));
  row_put(v, 0, b, CV_WHITE, CV_BLUE);
  struct rend r = {v, 2, v->rows - 1};
  uint32_t room = v->rows > 10 ? v->rows - 10 : 1;
  lines(w, r_line, &r, room);
  row_put(v, v->rows - 1,
          w->step == WZ_TEST ? " Enter: save   Left: back to the provider   Esc: skip to the Forth shell"
                             : " Enter: next   Up/Down: choose   Esc: skip to the Forth shell",
          CV_BLACK, CV_GREY);
}
