/*
 * x86.h: instruction wrappers (port I/O, MSRs, control registers, CPUID,
 * TSC) shared by the x86_64 platform's modules. Header only.
 */
#ifndef MNEME_X86_X86_H
#define MNEME_X86_X86_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) {
  __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline void outw(uint16_t port, uint16_t v) {
  __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint16_t inw(uint16_t port) {
  uint16_t v;
  __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline void outl(uint16_t port, uint32_t v) {
  __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint32_t inl(uint16_t port) {
  uint32_t v;
  __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
                   "d"((uint32_t)(v >> 32)));
}
static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
  __asm__ volatile("cpuid"
                   : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                   : "a"(leaf), "c"(sub));
}
#define X86_CR_READ(n)                                           \
  static inline uint64_t read_cr##n(void) {                      \
    uint64_t v;                                                  \
    __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));            \
    return v;                                                    \
  }                                                              \
  static inline void write_cr##n(uint64_t v) {                   \
    __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");   \
  }
X86_CR_READ(0)
X86_CR_READ(2)
X86_CR_READ(3)
X86_CR_READ(4)
#undef X86_CR_READ

static inline void xsetbv(uint32_t reg, uint64_t v) {
  __asm__ volatile("xsetbv" : : "c"(reg), "a"((uint32_t)v),
                   "d"((uint32_t)(v >> 32)));
}
static inline void invlpg(uintptr_t va) {
  __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}
static inline void cpu_relax(void) { __asm__ volatile("pause"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }

/* MMIO accessors. */
static inline uint32_t mmio_read32(uintptr_t a) {
  return *(volatile uint32_t *)a;
}
static inline void mmio_write32(uintptr_t a, uint32_t v) {
  *(volatile uint32_t *)a = v;
}

#endif
