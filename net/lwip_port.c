/*
 * lwip_port.c: what lwIP needs from mneme (arch/cc.h, lwipopts.h).
 *
 * Interface: net_lwip_malloc, net_lwip_calloc, net_lwip_free,
 * net_lwip_diag, net_lwip_assert, net_lwip_rand, sys_now, and atoi on
 * the freestanding build (lwIP's netif.c uses it).
 *
 * Memory is the kernel heap; the clock is the kernel's, in milliseconds.
 */
#include <stdarg.h>
#include <string.h>
#include "lwip/arch.h"
#include "lwip/sys.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"

void *
net_lwip_malloc(size_t size)
{
  return kmalloc(size);
}

void *
net_lwip_calloc(size_t n, size_t size)
{
  if (size && n > (size_t)-1 / size)
    return NULL;
  return kzalloc(n * size);
}

void
net_lwip_free(void *p)
{
  kfree(p);
}

void
net_lwip_diag(const char *fmt, ...)
{
  char b[160];
  va_list ap;
  va_start(ap, fmt);
  kvsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  klog(LOG_DEBUG, "lwip: %s", b);
}

void
net_lwip_assert(const char *msg, const char *file, int line)
{
  panic("lwip: assertion \"%s\" failed at %s:%d", msg, file, line);
}

uint32_t
net_lwip_rand(void)
{
  static uint64_t s;
  if (!s)
    s = ktime_now() | 1;
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return (uint32_t)(s >> 16);
}

u32_t
sys_now(void)
{
  return (u32_t)(ktime_now() / 1000000u);
}

#ifndef MN_HOSTED
int atoi(const char *s);

int
atoi(const char *s)
{
  int neg = 0, v = 0;
  while (*s == ' ' || *s == '\t')
    s++;
  if (*s == '-' || *s == '+')
    neg = *s++ == '-';
  while (*s >= '0' && *s <= '9')
    v = v * 10 + (*s++ - '0');
  return neg ? -v : v;
}
#endif
