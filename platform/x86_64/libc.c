/*
 * libc.c: the string functions of include/string.h for the freestanding
 * x86_64 build (the compiler also emits calls to memcpy/memset/memmove).
 * Bulk copies and fills use `rep movsb`/`rep stosb`, fast on modern CPUs.
 *
 * Interface: memcpy, memmove, memset, memcmp, memchr, strlen, strnlen,
 * strcmp, strncmp, strchr (C standard semantics).
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

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *p = a, *q = b;
  for (size_t i = 0; i < n; i++)
    if (p[i] != q[i]) return p[i] - q[i];
  return 0;
}

void *memchr(const void *s, int c, size_t n) {
  const unsigned char *p = s;
  for (size_t i = 0; i < n; i++)
    if (p[i] == (unsigned char)c) return (void *)(p + i);
  return NULL;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

size_t strnlen(const char *s, size_t max) {
  size_t n = 0;
  while (n < max && s[n]) n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (; n > 0; n--, a++, b++) {
    if (*a != *b) return (unsigned char)*a - (unsigned char)*b;
    if (!*a) return 0;
  }
  return 0;
}

char *strchr(const char *s, int c) {
  for (;; s++) {
    if (*s == (char)c) return (char *)s;
    if (!*s) return NULL;
  }
}
