/*
 * a64.h: AArch64 instruction and system register wrappers, MMIO
 * accessors and the loader state shared by the aarch64 platform's
 * modules. Header only, apart from the declarations at the end.
 */
#ifndef MNEME_A64_H
#define MNEME_A64_H

#include <stddef.h>
#include <stdint.h>

#define SYSREG_READ(name)                                   \
  ({                                                        \
    uint64_t v_;                                            \
    __asm__ volatile("mrs %0, " #name : "=r"(v_));          \
    v_;                                                     \
  })
#define SYSREG_WRITE(name, v) \
  __asm__ volatile("msr " #name ", %0" : : "r"((uint64_t)(v)) : "memory")

static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }
static inline void dsb_sy(void) { __asm__ volatile("dsb sy" ::: "memory"); }

static inline uint32_t mmio_read32(uintptr_t a) {
  uint32_t v;
  __asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
  return v;
}
static inline void mmio_write32(uintptr_t a, uint32_t v) {
  __asm__ volatile("str %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}
static inline void mmio_write64(uintptr_t a, uint64_t v) {
  __asm__ volatile("str %0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}
static inline void mmio_write8(uintptr_t a, uint8_t v) {
  __asm__ volatile("strb %w0, [%1]" : : "rZ"(v), "r"(a) : "memory");
}

/* The virtual counter (CNTVCT_EL0) and its rate. */
static inline uint64_t a64_counter(void) {
  isb();
  return SYSREG_READ(cntvct_el0);
}

/* ---- loader state beyond struct uefi_boot (boot.c) ----------------------- */

/* A range of the UEFI memory map that is RAM of any kind (for the MMU:
 * mapped normal cacheable; everything else is mapped as device memory). */
struct a64_ram {
  uint64_t base, size;
};
#define A64_MAX_RAM 128
extern struct a64_ram a64_ram[A64_MAX_RAM];
extern size_t a64_nram;

/* The kernel's stack (lowest page: guard) and the exception stack. */
extern uint8_t a64_boot_stack[];
extern uint8_t a64_exc_stack[];
#define A64_BOOT_STACK_SIZE (64u << 10)
#define A64_EXC_STACK_SIZE (32u << 10)

/* 1 if the firmware ran at EL2 (a64_stack_call then moved to EL1). */
extern int a64_entered_el2;

/* Platform main, entered on the kernel stack after ExitBootServices. */
_Noreturn void a64_main(void);
/* Sets the clock, registers the entropy sources, starts the entropy
 * service (clockrng.c). After kernel_init. */
int a64_clockrng_start(void);

/* entry.S */
extern char a64_vectors[];
_Noreturn void a64_stack_call(void *sp, void (*fn)(void), void *exc_sp);
void a64_context_start(void);
void a64_ap_entry(void); /* PSCI CPU_ON's entry point, x0 = struct a64_ap_boot * */
void a64_mmu_enable(uint64_t ttbr0, uint64_t tcr, uint64_t mair, uint64_t sctlr);

#endif
