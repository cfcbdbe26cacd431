/*
 * libc.c: the string functions of platform/uefi/include/string.h for
 * the freestanding aarch64 build (the compiler also emits calls to
 * memcpy/memset/memmove). Word-at-a-time where both ends allow it.
 *
 * Interface: memcpy, memmove, memset, memcmp, memchr, strlen, strnlen,
 * strcmp, strncmp, strchr (C standard semantics).
 */
#include <stdint.h>
#include <string.h>

void *memcpy(void *restrict d, const void *restrict s, size_t n) {
  unsigned char *dp = d;
  const unsigned char *sp = s;
  if ((((uintptr_t)dp | (uintptr_t)sp) & 7) == 0) {
    for (; n >= 8; n -= 8, dp += 8, sp += 8) *(uint64_t *)dp = *(const uint64_t *)sp;
  }
  while (n--) *dp++ = *sp++;
  return d;
}

void *memmove(void *d, const void *s, size_t n) {
  if ((uintptr_t)d - (uintptr_t)s >= n) return memcpy(d, s, n);
  unsigned char *dp = (unsigned char *)d + n;
  const unsigned char *sp = (const unsigned char *)s + n;
  if ((((uintptr_t)dp | (uintptr_t)sp) & 7) == 0) {
    for (; n >= 8; n -= 8) {
      dp -= 8, sp -= 8;
      *(uint64_t *)dp = *(const uint64_t *)sp;
    }
  }
  while (n--) *--dp = *--sp;
  return d;
}

void *memset(void *d, int c, size_t n) {
  unsigned char *dp = d;
  uint64_t w = (unsigned char)c * 0x0101010101010101ull;
  while (n && ((uintptr_t)dp & 7)) *dp++ = (unsigned char)c, n--;
  for (; n >= 8; n -= 8, dp += 8) *(uint64_t *)dp = w;
  while (n--) *dp++ = (unsigned char)c;
  return d;
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
