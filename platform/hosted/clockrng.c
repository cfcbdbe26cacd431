/*
 * clockrng.c: the hosted platform's clock and entropy (docs/time.md,
 * docs/entropy.md): the host's real-time clock sets the time service, and
 * getrandom() is the entropy service's source.
 *
 * Interface: hosted_clockrng_start.
 */
#include <errno.h>
#include <sys/random.h>
#include <time.h>

#include "hosted.h"
#include "mneme/entropy.h"
#include "mneme/err.h"
#include "mneme/log.h"
#include "mneme/wallclock.h"

static size_t
getrandom_source(void *buf, size_t len, unsigned *bits)
{
  ssize_t n;
  do
    n = getrandom(buf, len, GRND_NONBLOCK);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return 0; /* EAGAIN: the host's pool is not ready yet; asked again */
  *bits = (unsigned)n * 8;
  return (size_t)n;
}

int
hosted_clockrng_start(void)
{
  struct timespec ts;
  if (!clock_gettime(CLOCK_REALTIME, &ts))
    wallclock_set_from((int64_t)ts.tv_sec, "host clock");
  int err = entropy_add_source("getrandom", getrandom_source);
  if (!err)
    err = entropy_start();
  return err;
}
