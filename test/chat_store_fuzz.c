/* libFuzzer target: the conversation store's decoder (chat/chat_store.c),
 * which reads bytes from a disk or a UEFI variable. Any input decodes or
 * is refused whole; what decodes encodes back to the same bytes when
 * there is room (the newest-first order is the file's). kmalloc/kfree
 * are malloc/free here. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mneme/chat_session.h"
#include "mneme/err.h"
#include "mneme/kmem.h"

void *kmalloc(size_t size) { return malloc(size ? size : 1); }
void kfree(void *p) { free(p); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct chat_conv *c[CHAT_MAX_CONVS];
  int n = chat_store_decode((const char *)data, size, c, CHAT_MAX_CONVS);
  if (n < 0) {
    if (n != MN_EFORMAT && n != MN_ENOMEM)
      abort();
    return 0;
  }
  for (int i = 0; i < n; i++)
    c[i]->stamp = (uint64_t)(n - i); /* the file's order */
  static char out[1 << 20];
  unsigned w;
  size_t len = chat_store_encode(c, (unsigned)n, out, sizeof out, &w);
  unsigned nonempty = 0;
  for (int i = 0; i < n; i++)
    nonempty += c[i]->n != 0;
  if (w != nonempty)
    abort();
  struct chat_conv *d[CHAT_MAX_CONVS];
  int m = chat_store_decode(out, len, d, CHAT_MAX_CONVS);
  if (m != (int)w)
    abort();
  for (int i = 0; i < m; i++)
    chat_conv_free(d[i]);
  for (int i = 0; i < n; i++)
    chat_conv_free(c[i]);
  return 0;
}
