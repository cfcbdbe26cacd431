/*
 * llm_remote_settings.c: llm-remote from the user's saved settings
 * (include/mneme/settings.h; stored by the platform, edited by the setup
 * wizard). Its own file, so that programs without a settings store can
 * use llm-remote (llm_remote_config_from_settings is llm_remote.c's).
 *
 * Interface: llm_remote_start_from_settings.
 */
#include <string.h>

#include "mneme/err.h"
#include "mneme/llm.h"
#include "mneme/settings.h"

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
