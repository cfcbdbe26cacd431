/*
 * math.h for the freestanding x86_64 build: the float functions mneme's
 * libraries use (infer/libc.h lists them). Implemented in
 * platform/uefi/libm.c.
 */
#ifndef MNEME_X86_MATH_H
#define MNEME_X86_MATH_H

float expf(float x);
float logf(float x);
float powf(float x, float y);
float sqrtf(float x);
float sinf(float x);
float cosf(float x);
float fabsf(float x);

#define INFINITY __builtin_inff()
#define NAN __builtin_nanf("")
#define isnan(x) __builtin_isnan(x)
#define isinf(x) __builtin_isinf(x)

#endif
