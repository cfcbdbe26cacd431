/*
 * fpu.c: self-tests of the FPU state handling. The interrupt test loads
 * ymm0-ymm15 and MXCSR with a pattern (entry.S x86_ymm_probe), arms the
 * APIC timer and spins; the timer handler, told to by cpu_fpu_clobber,
 * overwrites every vector register and MXCSR; the pattern must come back
 * intact (the interrupt entry's xsave/xrstor). The switch test runs two
 * tasks that keep different xmm6-xmm15/MXCSR values across task_yield
 * (entry.S x86_xmm_probe): plat_context_switch must keep each task's.
 *
 * Interface: fpu_test_irq, fpu_test_switch.
 */
#include "fpu.h"

#include <stdint.h>
#include <string.h>

#include "apic.h"
#include "cpu.h"
#include "mneme/ktime.h"
#include "mneme/task.h"

void x86_ymm_probe(const uint8_t *in, uint8_t *out, uint64_t spins);
void x86_xmm_probe(const uint8_t *in, uint8_t *out, void (*fn)(void));

int fpu_test_irq(void) {
  if (!(x86_xsave_mask & 4)) return -1;
  static uint8_t in[512 + 16], out[512 + 16];
  for (int i = 0; i < 512; i++) in[i] = (uint8_t)(i * 37 + 11);
  *(uint32_t *)(in + 512) = 0x3f80; /* round down, exceptions masked */
  uint64_t spins = 1u << 20;
  for (int attempt = 0; attempt < 8; attempt++, spins <<= 1) {
    memset(out, 0, sizeof out);
    uint64_t before = cpu_timer_irqs;
    cpu_fpu_clobber = 1;
    apic_timer_arm(MN_MSEC(1) / 10);
    x86_ymm_probe(in, out, spins);
    cpu_fpu_clobber = 0;
    if (cpu_timer_irqs == before) continue; /* no interrupt: spin longer */
    return memcmp(in, out, 512 + 4) == 0;
  }
  return -1;
}

static int switch_task(void *arg) {
  uint8_t base = (uint8_t)(uintptr_t)arg;
  uint8_t in[176], out[176];
  for (int i = 0; i < 160; i++) in[i] = (uint8_t)(base + i);
  *(uint32_t *)(in + 160) = base == 0xa0 ? 0x3f80 : 0x5f80; /* rounding */
  for (int round = 0; round < 20; round++) {
    x86_xmm_probe(in, out, task_yield);
    if (memcmp(in, out, 164) != 0) return 1;
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
