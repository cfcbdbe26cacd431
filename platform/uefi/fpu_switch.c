/*
 * fpu_switch.c: the task-switch self-test of the FP/SIMD state, shared by
 * the UEFI platforms: two tasks keep different callee-saved vector
 * registers and FP control values (each platform's fpu_switch_pattern)
 * across task_yield (its fpu_switch_probe); plat_context_switch must
 * keep each task's.
 *
 * Interface: fpu_test_switch (fpu.h).
 */
#include "fpu.h"

#include <string.h>

#include "mneme/ktime.h"
#include "mneme/task.h"

static int switch_task(void *arg) {
  uint8_t in[FPU_SWITCH_MAX], out[FPU_SWITCH_MAX];
  size_t n = fpu_switch_pattern((uint8_t)(uintptr_t)arg, in);
  for (int round = 0; round < 20; round++) {
    fpu_switch_probe(in, out, task_yield);
    if (memcmp(in, out, n) != 0) return 1;
  }
  return 0;
}

int fpu_test_switch(void) {
  struct task *a, *b;
  if (task_spawn("fpu-a", switch_task, (void *)(uintptr_t)0xa0, 0, &a)) return -1;
  if (task_spawn("fpu-b", switch_task, (void *)(uintptr_t)0xb0, 0, &b)) {
    task_join(a, MN_FOREVER, NULL);
    return -1;
  }
  int ca = -1, cb = -1;
  task_join(a, MN_SEC(30), &ca);
  task_join(b, MN_SEC(30), &cb);
  return ca == 0 && cb == 0;
}
