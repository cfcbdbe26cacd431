/*
 * fpu.c: self-tests of the FP/SIMD state handling, as on x86_64. The
 * interrupt test loads v0-v31 and FPCR with a pattern (entry.S
 * a64_simd_probe), arms the generic timer and spins until it fires; the
 * interrupt path, told to by exc_fpu_clobber, overwrites every vector
 * register and FPCR; the pattern must come back intact (the exception
 * entry saves and restores the whole FP/SIMD state). For the switch test
 * (platform/uefi/fpu_switch.c): the tasks' d8-d15/FPCR patterns and
 * entry.S a64_callee_probe.
 *
 * Interface: fpu_test_irq, fpu_switch_pattern, fpu_switch_probe.
 */
#include "fpu.h"

#include <stdint.h>
#include <string.h>

#include "a64.h"
#include "exc.h"
#include "gtimer.h"

int a64_simd_probe(const uint8_t *in, uint8_t *out, uint64_t spins,
                   volatile uint64_t *counter);
void a64_callee_probe(const uint8_t *in, uint8_t *out, void (*fn)(void));

#define FPCR_RM_DOWN (2ull << 22) /* round towards minus infinity */
#define FPCR_RM_ZERO (3ull << 22)

int fpu_test_irq(void) {
  static uint8_t in[512 + 8], out[512 + 8];
  for (int i = 0; i < 512; i++) in[i] = (uint8_t)(i * 37 + 11);
  uint64_t fpcr = FPCR_RM_DOWN;
  memcpy(in + 512, &fpcr, 8);
  uint64_t spins = 1u << 18;
  for (int attempt = 0; attempt < 8; attempt++, spins <<= 1) {
    memset(out, 0, sizeof out);
    exc_fpu_clobber = 1;
    SYSREG_WRITE(cntv_cval_el0, a64_counter() + gtimer_hz() / 1000); /* 1 ms */
    SYSREG_WRITE(cntv_ctl_el0, 1);
    isb();
    int hit = a64_simd_probe(in, out, spins, &gtimer_irqs);
    exc_fpu_clobber = 0;
    if (!hit) continue; /* no interrupt while the pattern was loaded */
    return memcmp(in, out, 512 + 8) == 0;
  }
  return -1;
}

size_t fpu_switch_pattern(uint8_t base, uint8_t in[FPU_SWITCH_MAX]) {
  for (int i = 0; i < 64; i++) in[i] = (uint8_t)(base + i); /* d8-d15 */
  uint64_t fpcr = base == 0xa0 ? FPCR_RM_DOWN : FPCR_RM_ZERO;
  memcpy(in + 64, &fpcr, 8);
  return 72;
}

void fpu_switch_probe(const uint8_t *in, uint8_t *out, void (*fn)(void)) {
  a64_callee_probe(in, out, fn);
}
