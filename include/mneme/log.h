/*
 * log.h: the kernel log and panic.
 *
 * klog() formats a line (a small printf: %d %i %u %x %X %o %p %s %c %%,
 * flags '-' '0', width, precision for %s, length modifiers hh h l ll z j t)
 * and writes it to the platform console, prefixed with the time and level.
 * Messages below the current level are dropped. Tracing (when up) gets a
 * copy through the log sink hook.
 */
#ifndef MNEME_LOG_H
#define MNEME_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void klog(int level, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
void klog_set_level(int level);
int klog_level(void);

/* Optional second destination for log lines (e.g. tracing). */
typedef void (*klog_sink_fn)(int level, const char *line, size_t len);
void klog_set_sink(klog_sink_fn fn);

/*
 * Prints "panic: <message>", the current task and a backtrace, then stops
 * the machine. For broken invariants only, never for bad input.
 */
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Tests may catch panics: the hook runs instead of halting if it returns. */
typedef void (*panic_hook_fn)(const char *msg);
void panic_set_hook(panic_hook_fn fn);

/* Formatting into a buffer; returns the length the output would have. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

#endif
