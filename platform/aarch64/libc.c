/*
 * libc.c: the string functions of platform/uefi/include/string.h for
 * the freestanding aarch64 build (the compiler also emits calls to
 * memcpy/memset/memmove). Word-at-a-time where both ends allow it.
 *
 * Interface: memcpy, memmove, memset (C standard semantics; the other
 * string functions are platform/uefi/string.c).
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
