/*
 * hmac_drbg.h: HMAC_DRBG with SHA-256 (NIST SP 800-90A rev. 1, 10.1.2),
 * the generator behind the entropy service (entropy.h, docs/entropy.md).
 *
 * No prediction resistance flag and no reseed counter limit of its own:
 * the entropy service reseeds it periodically and counts generate calls.
 */
#ifndef MNEME_HMAC_DRBG_H
#define MNEME_HMAC_DRBG_H

#include <stddef.h>
#include <stdint.h>
#include "mneme/sha256.h"

struct hmac_drbg {
  uint8_t k[SHA256_LEN];
  uint8_t v[SHA256_LEN];
  uint64_t reseed_counter;  /* generate calls since (re)seeding */
};

/* Largest request per generate call (SP 800-90A: 2^19 bits). */
#define HMAC_DRBG_MAX_REQUEST 65536

/* Instantiate: seed_material = entropy_input || nonce || personalization. */
void hmac_drbg_instantiate(struct hmac_drbg *d, const void *entropy, size_t entropy_len,
                           const void *nonce, size_t nonce_len,
                           const void *pers, size_t pers_len);

/* Reseed with entropy_input || additional_input. */
void hmac_drbg_reseed(struct hmac_drbg *d, const void *entropy, size_t entropy_len,
                      const void *add, size_t add_len);

/* Generate len (<= HMAC_DRBG_MAX_REQUEST) bytes; add may be NULL.
 * Returns 0, or -1 if len is too large. */
int hmac_drbg_generate(struct hmac_drbg *d, void *out, size_t len,
                       const void *add, size_t add_len);

#endif
