/*
 * fpu.c: self-tests of the FPU state handling. The interrupt test loads
 * ymm0-ymm15 and MXCSR with a pattern (entry.S x86_ymm_probe), arms the
 * APIC timer and spins; the timer handler, told to by cpu_fpu_clobber,
 * overwrites every vector register and MXCSR; the pattern must come back
 * intact (the interrupt entry's xsave/xrstor). For the switch test
 * (platform/uefi/fpu_switch.c): the tasks' xmm6-xmm15/MXCSR patterns and
 * entry.S x86_xmm_probe.
 *
 * Interface: fpu_test_irq, fpu_switch_pattern, fpu_switch_probe.
 */
#include "fpu.h"

#include <stdint.h>
#include <string.h>

#include "apic.h"
#include "cpu.h"
#include "mneme/ktime.h"

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

size_t fpu_switch_pattern(uint8_t base, uint8_t in[FPU_SWITCH_MAX]) {
  for (int i = 0; i < 160; i++) in[i] = (uint8_t)(base + i); /* xmm6-xmm15 */
  *(uint32_t *)(in + 160) = base == 0xa0 ? 0x3f80 : 0x5f80; /* MXCSR rounding */
  return 164;
}

void fpu_switch_probe(const uint8_t *in, uint8_t *out, void (*fn)(void)) {
  x86_xmm_probe(in, out, fn);
}
