/*
 * xprintf.h: a small printf for the x86_64 platform's own messages (boot
 * log, exception dumps, the built-in monitor). Output goes to
 * plat_console_write (serial and the framebuffer console).
 */
#ifndef MNEME_X86_XPRINTF_H
#define MNEME_X86_XPRINTF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Formats into buf (always NUL-terminated when size > 0); returns the
 * length the full output would have. Conversions: %s %c %d %u %x %p %%,
 * with l/ll/z length modifiers, '-' or '0' flags and a width.
 */
size_t xvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t xsnprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Formats and writes to the console (at most 511 bytes per call). */
void xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
