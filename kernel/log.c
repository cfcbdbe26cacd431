/*
 * log.c: kernel log, panic, and a small freestanding printf.
 *
 * Interface: klog, klog_set_level, klog_level, klog_set_sink, panic,
 * panic_set_hook, kvsnprintf, ksnprintf.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/platform.h"
#include "mneme/task.h"

static int log_level = LOG_INFO;
static klog_sink_fn log_sink;
static panic_hook_fn panic_hook;

/* ---- formatting ---------------------------------------------------------- */

struct out {
  char *buf;
  size_t size, len;
};

static void
put(struct out *o, char c)
{
  if (o->len + 1 < o->size)
    o->buf[o->len] = c;
  o->len++;
}

static void
pad(struct out *o, int n, char c)
{
  while (n-- > 0)
    put(o, c);
}

static void
put_str(struct out *o, const char *s, int width, int prec, int left)
{
  int n = 0;
  if (!s)
    s = "(null)";
  while (s[n] && (prec < 0 || n < prec))
    n++;
  if (!left)
    pad(o, width - n, ' ');
  for (int i = 0; i < n; i++)
    put(o, s[i]);
  if (left)
    pad(o, width - n, ' ');
}

static void
put_num(struct out *o, uint64_t v, int neg, unsigned base, int upper,
        int width, int zero, int left)
{
  char tmp[24];
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  int n = 0;
  do {
    tmp[n++] = digits[v % base];
    v /= base;
  } while (v);
  int total = n + neg;
  if (!left && !zero)
    pad(o, width - total, ' ');
  if (neg)
    put(o, '-');
  if (!left && zero)
    pad(o, width - total, '0');
  while (n)
    put(o, tmp[--n]);
  if (left)
    pad(o, width - total, ' ');
}

/* Reads a signed or unsigned argument of the given length modifier. */
static uint64_t
arg_int(va_list *ap, int lmod, int is_signed, int *neg)
{
  int64_t s = 0;
  uint64_t u = 0;
  *neg = 0;
  if (is_signed) {
    switch (lmod) {
    case 'l': s = va_arg(*ap, long); break;
    case 'L': s = va_arg(*ap, long long); break;
    case 'z': s = (int64_t)va_arg(*ap, size_t); break;
    case 'j': s = va_arg(*ap, intmax_t); break;
    case 't': s = va_arg(*ap, ptrdiff_t); break;
    default: s = va_arg(*ap, int); break;
    }
    if (lmod == 'H')
      s = (signed char)s;
    else if (lmod == 'h')
      s = (short)s;
    *neg = s < 0;
    return *neg ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
  }
  switch (lmod) {
  case 'l': u = va_arg(*ap, unsigned long); break;
  case 'L': u = va_arg(*ap, unsigned long long); break;
  case 'z': u = va_arg(*ap, size_t); break;
  case 'j': u = va_arg(*ap, uintmax_t); break;
  case 't': u = (uint64_t)va_arg(*ap, ptrdiff_t); break;
  default: u = va_arg(*ap, unsigned); break;
  }
  if (lmod == 'H')
    u = (unsigned char)u;
  else if (lmod == 'h')
    u = (unsigned short)u;
  return u;
}

static const char *
parse_lmod(const char *f, int *lmod)
{
  *lmod = 0;
  if (*f == 'h') {
    *lmod = f[1] == 'h' ? 'H' : 'h';
    return f + (f[1] == 'h' ? 2 : 1);
  }
  if (*f == 'l') {
    *lmod = f[1] == 'l' ? 'L' : 'l';
    return f + (f[1] == 'l' ? 2 : 1);
  }
  if (*f == 'z' || *f == 'j' || *f == 't') {
    *lmod = *f;
    return f + 1;
  }
  return f;
}

int
kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap0)
{
  struct out o = { buf, size, 0 };
  va_list ap;
  va_copy(ap, ap0);
  for (const char *f = fmt; *f; f++) {
    if (*f != '%') {
      put(&o, *f);
      continue;
    }
    int left = 0, zero = 0, width = 0, prec = -1, lmod, neg;
    for (f++; *f == '-' || *f == '0'; f++)
      *f == '-' ? (left = 1) : (zero = 1);
    if (*f == '*') {
      width = va_arg(ap, int);
      f++;
    }
    while (*f >= '0' && *f <= '9')
      width = width * 10 + (*f++ - '0');
    if (*f == '.') {
      prec = 0;
      f++;
      if (*f == '*') {
        prec = va_arg(ap, int);
        f++;
      }
      while (*f >= '0' && *f <= '9')
        prec = prec * 10 + (*f++ - '0');
    }
    f = parse_lmod(f, &lmod);
    switch (*f) {
    case 'd': case 'i': {
      uint64_t v = arg_int(&ap, lmod, 1, &neg);
      put_num(&o, v, neg, 10, 0, width, zero, left);
      break;
    }
    case 'u': case 'x': case 'X': case 'o': {
      uint64_t v = arg_int(&ap, lmod, 0, &neg);
      unsigned base = *f == 'u' ? 10 : *f == 'o' ? 8 : 16;
      put_num(&o, v, 0, base, *f == 'X', width, zero, left);
      break;
    }
    case 'p':
      put(&o, '0');
      put(&o, 'x');
      put_num(&o, (uintptr_t)va_arg(ap, void *), 0, 16, 0, width, zero, left);
      break;
    case 's':
      put_str(&o, va_arg(ap, const char *), width, prec, left);
      break;
    case 'c':
      put(&o, (char)va_arg(ap, int));
      break;
    case '%':
      put(&o, '%');
      break;
    case '\0':
      f--;
      break;
    default:
      put(&o, '%');
      put(&o, *f);
      break;
    }
  }
  va_end(ap);
  if (size)
    buf[o.len < size ? o.len : size - 1] = '\0';
  return (int)o.len;
}

int
ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = kvsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

/* ---- log ----------------------------------------------------------------- */

static const char level_names[][6] = { "TRACE", "DEBUG", "INFO", "WARN", "ERROR" };

void
klog_set_level(int level)
{
  log_level = level;
}

int
klog_level(void)
{
  return log_level;
}

void
klog_set_sink(klog_sink_fn fn)
{
  log_sink = fn;
}

void
klog(int level, const char *fmt, ...)
{
  char line[256];
  if (level < log_level || level < LOG_TRACE || level > LOG_ERROR)
    return;
  uint64_t ms = plat_now_ns() / 1000000u;
  int n = ksnprintf(line, sizeof line, "[%6llu.%03llu] %-5s ",
                    (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000),
                    level_names[level]);
  va_list ap;
  va_start(ap, fmt);
  size_t off = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
  n = (int)off + kvsnprintf(line + off, sizeof line - off - 1, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n < sizeof line - 2 ? (size_t)n : sizeof line - 2;
  line[len++] = '\n';
  line[len] = '\0';
  plat_console_write(line, len);
  if (log_sink)
    log_sink(level, line, len - 1);
}

/* ---- panic --------------------------------------------------------------- */

void
panic_set_hook(panic_hook_fn fn)
{
  panic_hook = fn;
}

void
panic(const char *fmt, ...)
{
  char msg[200], line[64];
  va_list ap;
  va_start(ap, fmt);
  kvsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (panic_hook)
    panic_hook(msg); /* a test hook may longjmp away */
  plat_irq_save();
  struct task *t = task_current();
  int n = ksnprintf(line, sizeof line, "\npanic: ");
  plat_console_write(line, (size_t)n);
  plat_console_write(msg, __builtin_strlen(msg));
  n = ksnprintf(line, sizeof line, "\n  task: %s\n  backtrace:",
                t ? t->name : "(none)");
  plat_console_write(line, (size_t)n);
  uintptr_t pcs[16];
  size_t np = plat_backtrace(pcs, 16);
  for (size_t i = 0; i < np; i++) {
    n = ksnprintf(line, sizeof line, " %p", (void *)pcs[i]);
    plat_console_write(line, (size_t)n);
  }
  plat_console_write("\n", 1);
  plat_halt(70);
}
