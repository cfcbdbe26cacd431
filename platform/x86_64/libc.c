/*
 * libc.c: the string functions of include/string.h for the freestanding
 * x86_64 build (the compiler also emits calls to memcpy/memset/memmove).
 * Bulk copies and fills use `rep movsb`/`rep stosb`, fast on modern CPUs.
 *
 * Interface: memcpy, memmove, memset (C standard semantics; the other
 * string functions are platform/uefi/string.c).
 */
#include <stdint.h>
#include <string.h>

void *memcpy(void *restrict d, const void *restrict s, size_t n) {
  void *r = d;
  __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
  return r;
}

void *memmove(void *d, const void *s, size_t n) {
  if ((uintptr_t)d - (uintptr_t)s >= n) return memcpy(d, s, n);
  unsigned char *dp = (unsigned char *)d + n - 1;
  const unsigned char *sp = (const unsigned char *)s + n - 1;
  __asm__ volatile("std; rep movsb; cld"
                   : "+D"(dp), "+S"(sp), "+c"(n) : : "memory");
  return d;
}

void *memset(void *d, int c, size_t n) {
  void *r = d;
  __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return r;
}
