/*
 * entropy.h: the entropy service: random bytes for keys (docs/entropy.md).
 *
 * Sources, mixed into one HMAC-DRBG (SHA-256): RDSEED/RDRAND where CPUID
 * says so, EFI_RNG_PROTOCOL at boot, RNDR on aarch64 when present, TSC or
 * counter jitter as a last resort; getrandom() on hosted. Until the
 * generator has been seeded with enough entropy (256 bits), callers wait;
 * it never returns predictable bytes.
 */
#ifndef MNEME_ENTROPY_H
#define MNEME_ENTROPY_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf with len random bytes, waiting (as a task, never spinning)
 * until the generator is seeded. 0, or MN_ETIMEDOUT if it was not seeded
 * within timeout_ns. */
int entropy_get(void *buf, size_t len, uint64_t timeout_ns);

#endif
