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

/* ---- extensions (docs/entropy.md) ----------------------------------------- */

struct waitq;

/* Without waiting: 0, or MN_EAGAIN while unseeded (then wait on
 * entropy_waitq(), woken when the generator is seeded). */
int entropy_try_get(void *buf, size_t len);
struct waitq *entropy_waitq(void);

/* Bits of entropy needed before the first output. */
#define ENTROPY_SEED_BITS 256

/* Platform side. A source fills up to len bytes of buf and says how many
 * it wrote; *bits is the entropy it vouches for (0 for bytes that only
 * help, like timer jitter on an idle machine). Called from the service's
 * task, at start until seeded and at every reseed. */
typedef size_t (*entropy_source_fn)(void *buf, size_t len, unsigned *bits);
int entropy_add_source(const char *name, entropy_source_fn fn);

/* Mixes len bytes into the pool, vouching for bits of entropy (boot-time
 * bytes such as EFI_RNG_PROTOCOL's). Safe before entropy_start and from
 * interrupt handlers; the generator is (re)seeded when the pool holds
 * ENTROPY_SEED_BITS. */
void entropy_add(const void *buf, size_t len, unsigned bits);

/* Starts the service's task (after kernel_init): it polls the sources
 * until seeded, then reseeds every ENTROPY_RESEED_S seconds. */
#define ENTROPY_RESEED_S 300
int entropy_start(void);

struct entropy_stats {
  int seeded;
  unsigned pool_bits;          /* credited, not yet used to reseed */
  uint64_t reseeds;            /* (re)seedings, the first included */
  uint64_t bytes_out;
  char sources[96];            /* names of the sources that gave entropy */
};
void entropy_stats(struct entropy_stats *st);

/* Forgets everything (tests only): unseeded, no sources. */
void entropy_reset_for_test(void);

#endif
