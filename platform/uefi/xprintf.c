/*
 * xprintf.c: a small, allocation-free printf (see xprintf.h).
 *
 * Interface: xvsnprintf, xsnprintf, xprintf.
 */
#include "xprintf.h"

#include <stdint.h>
#include <string.h>

#include "mneme/platform.h"

struct out {
  char *buf;
  size_t size, len;
};

static void emit(struct out *o, char c) {
  if (o->len + 1 < o->size) o->buf[o->len] = c;
  o->len++;
}

static void emit_num(struct out *o, uint64_t v, unsigned base, int width,
                     char pad, int neg, int left) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v);
  if (neg) {
    if (pad == '0') emit(o, '-');
    width--;
  }
  if (!left)
    for (int i = n; i < width; i++) emit(o, pad);
  if (neg && pad != '0') emit(o, '-');
  for (int i = n; i > 0; i--) emit(o, tmp[i - 1]);
  if (left)
    for (int i = n; i < width; i++) emit(o, ' ');
}

size_t xvsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
  struct out o = {buf, size, 0};
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      emit(&o, *fmt);
      continue;
    }
    fmt++;
    char pad = ' ';
    int width = 0, lng = 0, left = 0;
    if (*fmt == '-') left = 1, fmt++;
    if (*fmt == '0' && !left) pad = '0', fmt++;
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l' || *fmt == 'z') lng++, fmt++;
    switch (*fmt) {
    case 'd': {
      int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
      emit_num(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, width, pad, v < 0,
               left);
      break;
    }
    case 'u':
    case 'x': {
      uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
      emit_num(&o, v, *fmt == 'u' ? 10 : 16, width, pad, 0, left);
      break;
    }
    case 'p':
      emit_num(&o, (uintptr_t)va_arg(ap, void *), 16, 16, '0', 0, 0);
      break;
    case 'c':
      emit(&o, (char)va_arg(ap, int));
      break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      if (!s) s = "(null)";
      int n = (int)strnlen(s, 4096);
      if (!left)
        for (int i = n; i < width; i++) emit(&o, ' ');
      for (int i = 0; i < n; i++) emit(&o, s[i]);
      if (left)
        for (int i = n; i < width; i++) emit(&o, ' ');
      break;
    }
    case '%':
      emit(&o, '%');
      break;
    default:
      emit(&o, '?');
      if (!*fmt) fmt--;
      break;
    }
  }
  if (size) buf[o.len < size ? o.len : size - 1] = 0;
  return o.len;
}

size_t xsnprintf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t n = xvsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

void xprintf(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  size_t n = xvsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  plat_console_write(buf, n < sizeof buf ? n : sizeof buf - 1);
}
