/*
 * forth_clock.c: the Forth words of the time and entropy services
 * (docs/time.md, docs/entropy.md).
 *
 * Interface: forth_clock_install.
 *
 *   DATE ( -- )          prints the UTC time in ISO 8601 and its source,
 *                        or says that the clock is not set
 *   SET-DATE ( sec min hour day month year -- )   sets the clock (UTC;
 *                        TIME&DATE's order, so TIME&DATE SET-DATE is a no-op)
 *   RANDOM ( -- u )      a random cell from the entropy service; waits
 *                        (without holding the CPU) until it is seeded
 *
 * TIME&DATE itself is the Forth core's, fed by the time service through
 * the VM's epoch_s hook (forth_task.c).
 */
#include <string.h>

#include "mneme/entropy.h"
#include "mneme/err.h"
#include "mneme/forth_task.h"
#include "mneme/log.h"
#include "mneme/waitq.h"
#include "mneme/wallclock.h"

static void
out(forth_vm *vm, const char *s)
{
  forth_task_out(forth_host_ctx(vm), s, strlen(s));
}

static int
w_date(forth_vm *vm, void *ctx)
{
  (void)ctx;
  int64_t t;
  int err = wallclock_now(&t);
  char iso[WALLCLOCK_ISO_LEN], line[96];
  wallclock_format(t, iso);
  if (err)
    ksnprintf(line, sizeof line, "clock not set (reads %s)\n", iso);
  else
    ksnprintf(line, sizeof line, "%s (%s)\n", iso, wallclock_source());
  out(vm, line);
  return 0;
}

static int
w_set_date(forth_vm *vm, void *ctx)
{
  (void)ctx;
  if (forth_depth(vm) < 6)
    return -4;
  forth_cell v[6];
  for (int i = 5; i >= 0; i--)
    forth_pop(vm, &v[i]);
  struct wallclock_tm tm = { (int)v[5], (int)v[4], (int)v[3], (int)v[2], (int)v[1], (int)v[0] };
  if (tm.year < 1970 || tm.year > 9999 || tm.month < 1 || tm.month > 12 || tm.day < 1 ||
      tm.day > 31 || tm.hour < 0 || tm.hour > 23 || tm.min < 0 || tm.min > 59 ||
      tm.sec < 0 || tm.sec > 60)
    return -24; /* invalid numeric argument */
  wallclock_set(wallclock_join(&tm));
  return 0;
}

static int
w_random(forth_vm *vm, void *ctx)
{
  (void)ctx;
  struct forth_task *ft = forth_host_ctx(vm);
  forth_cell u;
  uint32_t seq = waitq_seq(entropy_waitq());
  if (entropy_try_get(&u, sizeof u) == MN_EAGAIN) {
    ft->wq = entropy_waitq();
    ft->wseq = seq;
    ft->wdeadline = UINT64_MAX;
    return FORTH_WAIT;
  }
  return forth_push(vm, u);
}

int
forth_clock_install(struct forth_task *ft)
{
  if (forth_define(ft->vm, "DATE", w_date, NULL) ||
      forth_define(ft->vm, "SET-DATE", w_set_date, NULL) ||
      forth_define(ft->vm, "RANDOM", w_random, NULL))
    return MN_ENOMEM;
  return 0;
}
