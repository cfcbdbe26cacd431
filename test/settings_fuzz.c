/* libFuzzer target: the settings TOML parser (lib/settings.c). Any input
 * either parses (and then its re-serialization parses back to the same
 * settings) or gives MN_EFORMAT with the defaults and a reason. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mneme/err.h"
#include "mneme/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct mn_settings s, d, b;
  char why[96], text[SETTINGS_TEXT_MAX];
  int rc = settings_from_toml(&s, (const char *)data, size, why, sizeof why);
  if (rc) {
    settings_defaults(&d);
    if (rc != MN_EFORMAT || memcmp(&s, &d, sizeof s) || !why[0])
      abort();
    return 0;
  }
  int n = settings_to_toml(&s, text, sizeof text);
  if (n < 0)
    abort();
  if (settings_from_toml(&b, text, (size_t)n, why, sizeof why))
    abort();
  /* temperature is written with three decimals */
  float dt = s.temperature - b.temperature;
  s.temperature = b.temperature;
  if (dt > 0.001f || dt < -0.001f || memcmp(&s, &b, sizeof s))
    abort();
  return 0;
}
