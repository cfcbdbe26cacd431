/*
 * wallclock.c: the time service (wallclock.h, docs/time.md).
 *
 * Interface: wallclock_now, wallclock_set, wallclock_set_from,
 * wallclock_source, wallclock_split, wallclock_join, wallclock_format.
 *
 * The clock is a pair (Unix seconds, monotonic nanoseconds) taken when it
 * was set; now = seconds + the monotonic time since. The platform sets it
 * once at boot from its clock (UEFI GetTime, CMOS RTC, PL031, the host's
 * clock); a user or a test may set it again.
 */
#include "mneme/err.h"
#include "mneme/ktime.h"
#include "mneme/platform.h"
#include "mneme/wallclock.h"

static int64_t base_s;          /* Unix seconds at base_ns */
static uint64_t base_ns;        /* ktime when set */
static int have;                /* set at least once */
static const char *source = "unset";

int
wallclock_now(int64_t *unix_s)
{
  unsigned long irq = plat_irq_save();
  int64_t s = base_s;
  uint64_t b = base_ns;
  int set = have;
  plat_irq_restore(irq);
  uint64_t now = ktime_now();
  int64_t t = s + (int64_t)((now - b) / 1000000000u);
  *unix_s = t;
  return !set || t < WALLCLOCK_MIN_SET ? MN_ENOENT : 0;
}

void
wallclock_set_from(int64_t unix_s, const char *src)
{
  uint64_t now = ktime_now();
  unsigned long irq = plat_irq_save();
  base_s = unix_s;
  base_ns = now;
  have = 1;
  source = src && src[0] ? src : "set";
  plat_irq_restore(irq);
}

void
wallclock_set(int64_t unix_s)
{
  wallclock_set_from(unix_s, "set by the user");
}

const char *
wallclock_source(void)
{
  return source;
}

/* Days since 1970-01-01 -> civil date (proleptic Gregorian; H. Hinnant's
 * days_from_civil / civil_from_days algorithms). */
void
wallclock_split(int64_t unix_s, struct wallclock_tm *out)
{
  int64_t days = unix_s >= 0 ? unix_s / 86400 : (unix_s - 86399) / 86400;
  int64_t secs = unix_s - days * 86400;
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  out->year = (int)(yoe + era * 400 + (m <= 2));
  out->month = (int)m;
  out->day = (int)d;
  out->hour = (int)(secs / 3600);
  out->min = (int)(secs / 60 % 60);
  out->sec = (int)(secs % 60);
}

/* Fields out of range are carried (month 13 is January of the next year,
 * second 60 the next minute), as mktime does. */
int64_t
wallclock_join(const struct wallclock_tm *tm)
{
  int64_t y = tm->year, m = tm->month - 1;
  y += m >= 0 ? m / 12 : (m - 11) / 12;
  m = m - (m >= 0 ? m / 12 : (m - 11) / 12) * 12 + 1;  /* 1..12 */
  if (m <= 2)
    y--;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + tm->day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  return days * 86400 + (int64_t)tm->hour * 3600 + (int64_t)tm->min * 60 + tm->sec;
}

static char *
put(char *p, int v, int width)
{
  for (int i = width - 1; i >= 0; i--, v /= 10)
    p[i] = (char)('0' + v % 10);
  return p + width;
}

void
wallclock_format(int64_t unix_s, char out[WALLCLOCK_ISO_LEN])
{
  struct wallclock_tm t;
  wallclock_split(unix_s, &t);
  if (t.year < 0 || t.year > 9999) {
    static const char bad[] = "(out of range)";
    for (unsigned i = 0; i < sizeof bad; i++)
      out[i] = bad[i];
    return;
  }
  char *p = put(out, t.year, 4);
  *p++ = '-';
  p = put(p, t.month, 2);
  *p++ = '-';
  p = put(p, t.day, 2);
  *p++ = 'T';
  p = put(p, t.hour, 2);
  *p++ = ':';
  p = put(p, t.min, 2);
  *p++ = ':';
  p = put(p, t.sec, 2);
  *p++ = 'Z';
  *p = 0;
}
