/*
 * config_fuzz.c: libFuzzer target for mn_config_decode. Accepted bytes
 * must give a consistent struct: known kinds, no service twice, each
 * dependency listed before its user, strings inside the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <mneme/config.h>
#include <mneme/err.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void in_input(struct mn_str s, const uint8_t *data, size_t size) {
  if (s.len && ((const uint8_t *)s.ptr < data ||
                (const uint8_t *)s.ptr + s.len > data + size))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct mn_config c;
  if (mn_config_decode(&c, data, size) != 0)
    return 0;
  if (c.nservices > MN_SVC_COUNT || c.kernel.log_level > MN_LOG_ERROR)
    abort();
  for (size_t i = 0; i < c.nservices; i++) {
    const struct mn_config_service *s = &c.services[i];
    if ((unsigned)s->kind >= MN_SVC_COUNT || mn_config_find(&c, s->kind) != s)
      abort();
    for (size_t k = 0; k < s->ndeps; k++) {
      const struct mn_config_service *dep = mn_config_find(&c, s->deps[k]);
      if (!dep || dep >= s)
        abort();
    }
    if (s->kind == MN_SVC_HELLO)
      in_input(s->u.hello.message, data, size);
    if (s->kind == MN_SVC_FORTH_SHELLS &&
        (s->u.forth_shells.nports == 0 ||
         s->u.forth_shells.nports > MN_CONFIG_MAX_SHELLS))
      abort();
  }
  if (c.platform.kind == MN_PLATFORM_HOSTED)
    in_input(c.platform.u.hosted.serial, data, size);
  return 0;
}
