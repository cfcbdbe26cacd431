/*
 * kernel.h: bringing the kernel up and down.
 *
 * A platform boots, then calls kernel_init() with the memory the kernel
 * may use, registers its drivers as services, and calls kernel_run(),
 * which starts the configured services and runs tasks until
 * kernel_shutdown().
 */
#ifndef MNEME_KERNEL_H
#define MNEME_KERNEL_H

#include "mneme/platform.h"

/* Heap, executor, timers, registry. Returns 0 or MN_ENOMEM. */
int kernel_init(const struct boot_info *bi);

/* Runs tasks until kernel_shutdown(); returns its code. */
int kernel_run(void);

/* Asks kernel_run() to return code once the caller next waits. */
void kernel_shutdown(int code);

/* The boot information kernel_init() was given. */
const struct boot_info *kernel_boot_info(void);

#endif
