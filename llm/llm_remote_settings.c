/*
 * llm_remote_settings.c: llm-remote from the user's saved settings
 * (include/mneme/settings.h; stored by the platform, edited by the setup
 * wizard). Its own file, so that programs without a settings store can
 * use llm-remote.
 *
 * Interface: llm_remote_config_from_settings, llm_remote_start_from_settings.
 */
#include <string.h>

#include "mneme/err.h"
#include "mneme/llm.h"
#include "mneme/settings.h"

int llm_remote_config_from_settings(const struct mn_settings *s, struct llm_remote_config *c) {
  memset(c, 0, sizeof *c);
  if (!s->provider[0]) return MN_ENOENT;
  if (!strcmp(s->provider, "local")) return MN_ENOTSUP; /* llm-local's */
  /* the settings' strings are NUL-terminated within their arrays */
  if (!memchr(s->provider, 0, sizeof s->provider) || !memchr(s->api_key, 0, sizeof s->api_key) ||
      !memchr(s->model, 0, sizeof s->model) || !memchr(s->base_url, 0, sizeof s->base_url) ||
      !memchr(s->system, 0, sizeof s->system))
    return MN_EINVAL;
  c->provider = s->provider;
  c->base_url = s->base_url[0] ? s->base_url : NULL;
  c->api_key = s->api_key;
  c->model = s->model;
  c->system = s->system[0] ? s->system : NULL;
  c->temperature = s->temperature;
  c->max_tokens = s->max_tokens;
  c->stream = 1;
  return 0;
}

int llm_remote_start_from_settings(void) {
  static struct mn_settings s; /* the strings are copied by llm_remote_start */
  int rc = settings_load(&s);
  if (rc && rc != MN_EFORMAT) return rc;
  struct llm_remote_config c;
  rc = llm_remote_config_from_settings(&s, &c);
  if (!rc) rc = llm_remote_start(&c);
  memset(s.api_key, 0, sizeof s.api_key);
  return rc;
}
