/*
 * string.h for the freestanding x86_64 build: the subset of the C library's
 * string functions that mneme's portable code and the compiler use.
 * Implemented by each platform's libc.c (platform/x86_64, platform/aarch64).
 */
#ifndef MNEME_X86_STRING_H
#define MNEME_X86_STRING_H

#include <stddef.h>

void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

#endif
