/*
 * dot_select.c: picks the dot-kernel variant at run time.
 *
 * On x86_64 it asks cpuid for the instruction sets and xgetbv for whether
 * the OS saves the wide registers (a kernel that has not enabled AVX in
 * XCR0 gets the scalar kernels). On AArch64 Advanced SIMD is always there;
 * ID_AA64ISAR0_EL1 tells whether the dot-product instructions are and
 * ID_AA64ISAR1_EL1 whether the int8 matrix multiply (I8MM: SMMLA) is
 * (Linux emulates the reads for programs at EL0). Elsewhere it is always
 * the scalar one.
 *
 * Interface: quant_ops_best, quant_ops_named, quant_cpu_has_avx2,
 * quant_cpu_has_avx512, quant_cpu_has_dotprod, quant_cpu_has_i8mm.
 */
#include "mneme/quant.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

static int
streq(const char *a, const char *b)
{
  while (*a && *a == *b)
    a++, b++;
  return *a == *b;
}

#if defined(__x86_64__)
static uint64_t
xcr0(void)
{
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t)hi << 32 | lo;
}

int
quant_cpu_has_avx2(void)
{
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return 0;
  int osx = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
  int f16c = (c >> 29) & 1;
  if (!(osx && avx && fma && f16c) || (xcr0() & 6) != 6)
    return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
    return 0;
  return (b >> 5) & 1;
}

int
quant_cpu_has_avx512(void)
{
  unsigned a, b, c, d;
  if (!quant_cpu_has_avx2() || (xcr0() & 0xe6) != 0xe6)
    return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
    return 0;
  int f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
  int vnni = (c >> 11) & 1;
  return f && bw && vl && vnni;
}
#endif

#if defined(__aarch64__)
int
quant_cpu_has_dotprod(void)
{
  uint64_t isar0;
  __asm__ volatile("mrs %0, id_aa64isar0_el1" : "=r"(isar0));
  return ((isar0 >> 44) & 0xf) >= 1;
}

int
quant_cpu_has_i8mm(void)
{
  uint64_t isar1;
  __asm__ volatile("mrs %0, id_aa64isar1_el1" : "=r"(isar1));
  return quant_cpu_has_dotprod() && ((isar1 >> 52) & 0xf) >= 1;
}
#endif

const struct quant_ops *
quant_ops_named(const char *name)
{
  if (streq(name, "scalar"))
    return &quant_ops_scalar;
#if defined(__x86_64__)
  if (streq(name, "avx2") && quant_cpu_has_avx2())
    return &quant_ops_avx2;
  if (streq(name, "avx512") && quant_cpu_has_avx512())
    return &quant_ops_avx512;
#endif
#if defined(__aarch64__)
  if (streq(name, "neon"))
    return &quant_ops_neon;
  if (streq(name, "neon-dotprod") && quant_cpu_has_dotprod())
    return &quant_ops_neon_dp;
  if (streq(name, "neon-i8mm") && quant_cpu_has_i8mm())
    return &quant_ops_neon_mm;
#endif
  return NULL;
}

const struct quant_ops *
quant_ops_best(void)
{
#if defined(__x86_64__)
  if (quant_cpu_has_avx512())
    return &quant_ops_avx512;
  if (quant_cpu_has_avx2())
    return &quant_ops_avx2;
#endif
#if defined(__aarch64__)
  if (quant_cpu_has_i8mm())
    return &quant_ops_neon_mm;
  if (quant_cpu_has_dotprod())
    return &quant_ops_neon_dp;
  return &quant_ops_neon;
#endif
  return &quant_ops_scalar;
}
