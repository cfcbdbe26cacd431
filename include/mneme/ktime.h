/*
 * ktime.h: time values used across the kernel.
 *
 * Times are nanoseconds of the platform's monotonic clock. Functions that
 * wait take a relative timeout: MN_FOREVER waits without limit, 0 gives up
 * at once if the wait would be needed.
 */
#ifndef MNEME_KTIME_H
#define MNEME_KTIME_H

#include <stdint.h>

#define MN_FOREVER UINT64_MAX
#define MN_USEC(n) ((uint64_t)(n) * 1000u)
#define MN_MSEC(n) ((uint64_t)(n) * 1000000u)
#define MN_SEC(n) ((uint64_t)(n) * 1000000000u)

/* Converts a relative timeout to an absolute deadline (saturating). */
uint64_t ktime_deadline(uint64_t timeout_ns);

/* Now, from the platform clock. */
uint64_t ktime_now(void);

#endif
