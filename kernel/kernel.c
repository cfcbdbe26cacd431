/*
 * kernel.c: kernel bring-up and the boot task.
 *
 * Interface: kernel_init, kernel_run, kernel_shutdown, kernel_boot_info.
 *
 * The code that calls kernel_init() becomes the executor's "boot" task;
 * kernel_run() parks it until kernel_shutdown() wakes it.
 */
#include "mneme/err.h"
#include "mneme/kernel.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/registry.h"
#include "mneme/task.h"

static struct {
  const struct boot_info *bi;
  struct waitq stop;
  int stopping, code;
} k;

int
kernel_init(const struct boot_info *bi)
{
  k.bi = bi;
  k.stopping = 0;
  waitq_init(&k.stop);
  int err = kmem_init(bi->regions, bi->nregions);
  if (err)
    return err;
  exec_init();
  svc_registry_init();
  return 0;
}

int
kernel_run(void)
{
  while (!k.stopping)
    waitq_wait(&k.stop, MN_FOREVER);
  return k.code;
}

void
kernel_shutdown(int code)
{
  k.code = code;
  k.stopping = 1;
  waitq_wake_all(&k.stop);
}

const struct boot_info *
kernel_boot_info(void)
{
  return k.bi;
}
