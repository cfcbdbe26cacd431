/*
 * wizard.h: the setup wizard (chat/wizard.c, docs/chat.md), portable.
 *
 * A state machine over the settings being chosen: network (DHCP or a
 * static address, netmask, gateway, DNS), provider, API key (masked:
 * '*' while typed, only its last four characters afterwards), base URL
 * (compatible servers; empty: the provider's), model (from the
 * provider's list when it has one, else typed), then a connection test
 * that shows the provider's own error. Esc skips it (to the Forth shell).
 *
 * Keys come in as key_events (keyboard.h). The wizard does no I/O: when
 * it needs the model list, the connection test or the settings saved it
 * returns an action; the driver (x86_64's chat console, the WIZARD word)
 * does it and reports back. Every step also reads from typed text: in a
 * list, a number or a name typed and Enter picks it (line mode uses that).
 * wizard_render draws it into a chat_view grid (tests read it back).
 */
#ifndef MNEME_WIZARD_H
#define MNEME_WIZARD_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/chat_view.h"
#include "mneme/keyboard.h"
#include "mneme/settings.h"

enum wizard_step {
  WZ_NET, WZ_IP, WZ_NETMASK, WZ_GATEWAY, WZ_DNS,
  WZ_PROVIDER, WZ_KEY, WZ_BASE_URL, WZ_MODEL, WZ_TEST, WZ_DONE, WZ_SKIPPED,
};

enum wizard_action {
  WZA_NONE,
  WZA_MODELS,   /* fetch the model list for w->s: then wizard_models() */
  WZA_TEST,     /* test the connection with w->s: then wizard_tested() */
  WZA_SAVE,     /* finished: save w->s (wizard_done = 1) */
  WZA_SKIP,     /* skipped: save the settings as they were, wizard_done = 1 */
};

#define WZ_TEXT_MAX 255
#define WZ_MODELS_MAX 4096
#define WZ_MSG_MAX 240

struct wizard {
  struct mn_settings s;      /* what is being chosen */
  int step;                  /* enum wizard_step */
  char text[WZ_TEXT_MAX + 1];/* the field being typed */
  size_t len;
  unsigned sel;              /* a list's highlighted entry */
  char models[WZ_MODELS_MAX];/* NUL-separated names */
  unsigned nmodels;          /* 0: the model is typed */
  unsigned top;              /* first model shown */
  char message[WZ_MSG_MAX];  /* the last error or result */
  int test_rc;               /* the connection test: 0 ok, MN_E*; 1 not run */
};

/* Starts at the network step with cur's settings as the defaults. */
void wizard_init(struct wizard *w, const struct mn_settings *cur);
/* One key (pressed events only). Returns an enum wizard_action. */
int wizard_key(struct wizard *w, const struct key_event *ev);
/* Types a whole line then Enter (line mode). Returns the last action. */
int wizard_line(struct wizard *w, const char *line, size_t n);
/* The model list: n names (NUL-separated in buf) or n < 0 (MN_E*, the
 * provider's message in why); the model is then typed. */
void wizard_models(struct wizard *w, int n, const char *buf, size_t len, const char *why);
/* The connection test's result: 0, or MN_E* and the provider's message. */
void wizard_tested(struct wizard *w, int rc, const char *why);

/* The current step in words: a title and the question ("Network", ...). */
const char *wizard_title(const struct wizard *w);
/* The question, the list and the current value as text lines (line
 * mode), '\n'-separated, into out; returns its length. */
size_t wizard_question(const struct wizard *w, char *out, size_t cap);
/* Draws the wizard into v->grid (flush with chat_view_flush). */
void wizard_render(const struct wizard *w, struct chat_view *v);
/* Forgets the key (zeroes w). */
void wizard_wipe(struct wizard *w);

/* The driver's part (chat/wizard_io.c, needs the kernel): does what an
 * action says: the model list and the connection test through llm-remote
 * (GET /v1/models with w->s: the provider's own error when it fails),
 * saving the settings (skip: the saved ones, only wizard_done set).
 * Waits (call it from a task). Returns the save's result, else 0. */
int wizard_act(struct wizard *w, int action);

#endif
