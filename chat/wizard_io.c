/*
 * wizard_io.c: what the setup wizard's actions do (wizard.h): the model
 * list and the connection test through llm-remote, saving the settings.
 *
 * Interface: wizard_act.
 */
#include <string.h>

#include "mneme/chat_session.h"
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/llm.h"
#include "mneme/log.h"
#include "mneme/wizard.h"

/* llm-remote's model list, when it is linked in (chat_remote_start says
 * MN_ENOTSUP when it is not). */
int llm_remote_models(char *buf, size_t cap, char *why, size_t why_cap) __attribute__((weak));

/* GET /v1/models with w's settings: how many, or MN_E* and why. */
static int models(struct wizard *w, char *buf, size_t cap, char *why, size_t why_cap) {
  why[0] = 0;
  int rc = llm_remote_models ? chat_remote_start(&w->s) : MN_ENOTSUP;
  if (rc == MN_ENOTSUP) {
    ksnprintf(why, why_cap, "llm-remote is not part of this build");
    return rc;
  }
  if (rc) {
    ksnprintf(why, why_cap, "the settings are refused (%s)", mn_strerror(rc));
    return rc;
  }
  rc = llm_remote_models(buf, cap, why, why_cap);
  if (rc < 0 && !why[0]) ksnprintf(why, why_cap, "%s", mn_strerror(rc));
  return rc;
}

int wizard_act(struct wizard *w, int action) {
  char why[200];
  if (action == WZA_MODELS || action == WZA_TEST) {
    char *buf = kmalloc(WZ_MODELS_MAX);
    if (!buf) {
      if (action == WZA_MODELS) wizard_models(w, MN_ENOMEM, NULL, 0, "out of memory");
      else wizard_tested(w, MN_ENOMEM, "out of memory");
      return 0;
    }
    int n = models(w, buf, WZ_MODELS_MAX, why, sizeof why);
    if (action == WZA_MODELS) {
      size_t len = 0;
      for (int i = 0; i < n && len < WZ_MODELS_MAX; i++)
        len += strnlen(buf + len, WZ_MODELS_MAX - len) + 1;
      wizard_models(w, n, buf, len > WZ_MODELS_MAX ? WZ_MODELS_MAX : len, why);
    } else {
      wizard_tested(w, n < 0 ? n : 0, why);
    }
    kfree(buf);
    klog(LOG_INFO, "wizard: %s with provider %s: %s", action == WZA_MODELS ? "model list" : "test",
         w->s.provider, n < 0 ? mn_strerror(n) : "ok");
    return 0;
  }
  if (action == WZA_SAVE) {
    int rc = settings_save(&w->s);
    klog(LOG_INFO, "wizard: settings saved (provider %s, model %s): %s", w->s.provider,
         w->s.model, rc ? mn_strerror(rc) : "ok");
    return rc;
  }
  if (action == WZA_SKIP) {
    struct mn_settings *s = kmalloc(sizeof *s);
    if (!s) return MN_ENOMEM;
    settings_load(s);
    s->wizard_done = 1;
    int rc = settings_save(s);
    for (size_t i = 0; i < sizeof *s; i++) ((volatile char *)s)[i] = 0;
    kfree(s);
    klog(LOG_INFO, "wizard: skipped%s", rc ? " (the settings were not saved)" : "");
    return rc;
  }
  return 0;
}
