/*
 * sha256.h: SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), small and
 * freestanding, for the entropy service's HMAC-DRBG (hmac_drbg.h).
 */
#ifndef MNEME_SHA256_H
#define MNEME_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_BLOCK 64

struct sha256 {
  uint32_t h[8];
  uint64_t bytes;          /* message length so far */
  uint8_t buf[SHA256_BLOCK];
  size_t nbuf;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_LEN]);
void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

/* HMAC-SHA-256 over the concatenation of up to n parts. */
struct hmac_part {
  const void *p;
  size_t len;
};
void hmac_sha256(const uint8_t *key, size_t key_len, const struct hmac_part *parts,
                 size_t n, uint8_t out[SHA256_LEN]);

#endif
