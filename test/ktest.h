/*
 * ktest.h: boots a fresh hosted kernel inside a unit test.
 *
 * ktest_boot(size) gives the kernel a new heap of size bytes and resets
 * the executor, timers and registry; the test's own thread becomes the
 * "boot" task, so a test spawns tasks and joins them. Assertions belong
 * in the test body (on the boot task), not inside spawned tasks: tasks
 * record what they saw and the test checks it after joining.
 */
#ifndef MNEME_KTEST_H
#define MNEME_KTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/mman.h>
#include "mneme/kernel.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

static void *ktest_mem;
static size_t ktest_mem_size;
static struct mem_region ktest_region;
static struct boot_info ktest_bi;

static inline void
ktest_boot(size_t heap_size)
{
  if (ktest_mem)
    munmap(ktest_mem, ktest_mem_size);
  ktest_mem = mmap(0, heap_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(ktest_mem != MAP_FAILED);
#ifdef __SANITIZE_ADDRESS__
  /* Stacks of the previous kernel's tasks left redzones here. */
  ASAN_UNPOISON_MEMORY_REGION(ktest_mem, heap_size);
#endif
  ktest_mem_size = heap_size;
  ktest_region.base = (uintptr_t)ktest_mem;
  ktest_region.size = heap_size;
  ktest_bi.regions = &ktest_region;
  ktest_bi.nregions = 1;
  assert_int_equal(kernel_init(&ktest_bi), 0);
}

static inline int
ktest_setup(void **state)
{
  (void)state;
  ktest_boot(1u << 20);
  return 0;
}

#endif
