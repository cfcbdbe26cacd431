/*
 * par.c: the serial parallel-for, for platforms without threads.
 *
 * Interface: par_serial.
 */
#include "mneme/par.h"

static void
serial_run(void *impl, par_fn fn, void *arg)
{
  fn(arg, 0, 1);
}

const struct par_ops par_serial = { 1, serial_run, 0 };
