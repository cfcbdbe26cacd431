/*
 * settings_store.c: settings_load and settings_save (settings.h) over the
 * platform's raw store (plat_settings_get/put), in the TOML form of
 * lib/settings.c. A corrupt store gives the defaults and a log line with
 * the reason (never the key's value).
 *
 * Interface: settings_load, settings_save.
 */
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/log.h"
#include "mneme/settings.h"

int settings_load(struct mn_settings *s) {
  settings_defaults(s);
  char *buf = kmalloc(SETTINGS_TEXT_MAX);
  if (!buf) return MN_ENOMEM;
  int n = plat_settings_get(buf, SETTINGS_TEXT_MAX);
  int rc = 0;
  if (n == MN_ENOENT || n == MN_ENOTSUP) {
    rc = MN_ENOENT;
  } else if (n < 0) {
    klog(LOG_WARN, "settings: cannot read the store (%s): using the defaults", mn_strerror(n));
    rc = n == MN_ENOSPC ? MN_EFORMAT : n;
  } else {
    char why[96];
    rc = settings_from_toml(s, buf, (size_t)n, why, sizeof why);
    if (rc) klog(LOG_WARN, "settings: the saved settings are corrupt (%s): using the defaults", why);
  }
  kfree(buf);
  return rc;
}

int settings_save(const struct mn_settings *s) {
  char *buf = kmalloc(SETTINGS_TEXT_MAX);
  if (!buf) return MN_ENOMEM;
  int n = settings_to_toml(s, buf, SETTINGS_TEXT_MAX);
  int rc = n < 0 ? n : plat_settings_put(buf, (size_t)n);
  /* the text holds the key: not left behind in the heap */
  for (size_t i = 0; i < SETTINGS_TEXT_MAX; i++) ((volatile char *)buf)[i] = 0;
  kfree(buf);
  if (rc && rc != MN_ENOSPC && rc != MN_ENOTSUP) rc = MN_EIO;
  return rc;
}
