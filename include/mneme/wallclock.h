/*
 * wallclock.h: the time service: UTC wall-clock time (docs/time.md).
 *
 * The platform reads a clock once at boot (x86_64: UEFI GetTime, then the
 * CMOS RTC; aarch64: UEFI GetTime, then the PL031 RTC; hosted: the host's
 * clock) and the service keeps it ticking with the monotonic clock
 * (ktime_now). A machine whose clock reads before 2024 is "unset": TLS
 * says "the clock is not set" rather than failing vaguely.
 */
#ifndef MNEME_WALLCLOCK_H
#define MNEME_WALLCLOCK_H

#include <stdint.h>

/* Seconds since 1970-01-01 00:00:00 UTC into *unix_s. 0, or MN_ENOENT
 * when the clock is unset (*unix_s then holds what the clock says). */
int wallclock_now(int64_t *unix_s);

/* Sets the clock (a user's SET-TIME, a test). */
void wallclock_set(int64_t unix_s);

/* Broken-down UTC time (for TIME&DATE, logs, HTTP dates). */
struct wallclock_tm {
  int year, month, day;      /* 1970.., 1..12, 1..31 */
  int hour, min, sec;
};
void wallclock_split(int64_t unix_s, struct wallclock_tm *out);
int64_t wallclock_join(const struct wallclock_tm *tm);

/* Extensions (docs/time.md). */

/* The first second counted as "set": 2024-01-01T00:00:00Z. */
#define WALLCLOCK_MIN_SET 1704067200

/* "2026-12-02T01:52:00Z" (ISO 8601, UTC) into out (21 bytes with NUL). */
#define WALLCLOCK_ISO_LEN 21
void wallclock_format(int64_t unix_s, char out[WALLCLOCK_ISO_LEN]);

/* Where the clock came from ("UEFI GetTime", "CMOS RTC", "host clock",
 * "set by the user", or "unset"): for DATE and the log. */
const char *wallclock_source(void);

/* A platform's reading at boot: sets the clock with its source name. */
void wallclock_set_from(int64_t unix_s, const char *source);

#endif
