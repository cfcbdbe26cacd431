/*
 * libc.h: the only C library functions the inference library uses.
 *
 * The hosted build takes them from libc and libm; a freestanding kernel
 * supplies these few (memcpy, memset, memcmp, strlen, strcmp, expf, sqrtf, powf,
 * cosf, sinf, logf, fabsf) itself.
 */
#ifndef MNEME_INFER_LIBC_H
#define MNEME_INFER_LIBC_H

#include <stddef.h>

#if defined(MN_HOSTED)
#include <math.h>
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
float expf(float x);
float sqrtf(float x);
float powf(float x, float y);
float cosf(float x);
float sinf(float x);
float logf(float x);
float fabsf(float x);
#endif

#endif
