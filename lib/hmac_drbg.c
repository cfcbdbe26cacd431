/*
 * hmac_drbg.c: HMAC_DRBG with SHA-256 (NIST SP 800-90A rev. 1, 10.1.2).
 *
 * Interface: hmac_drbg_instantiate, hmac_drbg_reseed, hmac_drbg_generate.
 */
#include <string.h>

#include "mneme/hmac_drbg.h"

/* HMAC_DRBG_Update (10.1.2.2) with provided_data = the parts. */
static void
update(struct hmac_drbg *d, const struct hmac_part *data, size_t n)
{
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += data[i].len;
  for (uint8_t round = 0; round < 2; round++) {
    struct hmac_part p[6];
    size_t k = 0;
    p[k++] = (struct hmac_part){ d->v, SHA256_LEN };
    p[k++] = (struct hmac_part){ &round, 1 };
    for (size_t i = 0; i < n && k < 6; i++)
      p[k++] = data[i];
    hmac_sha256(d->k, SHA256_LEN, p, k, d->k);
    hmac_sha256(d->k, SHA256_LEN, &(struct hmac_part){ d->v, SHA256_LEN }, 1, d->v);
    if (!total)
      break;
  }
}

void
hmac_drbg_instantiate(struct hmac_drbg *d, const void *entropy, size_t entropy_len,
                      const void *nonce, size_t nonce_len,
                      const void *pers, size_t pers_len)
{
  memset(d->k, 0x00, SHA256_LEN);
  memset(d->v, 0x01, SHA256_LEN);
  struct hmac_part p[3] = { { entropy, entropy_len }, { nonce, nonce_len },
                            { pers, pers_len } };
  update(d, p, 3);
  d->reseed_counter = 1;
}

void
hmac_drbg_reseed(struct hmac_drbg *d, const void *entropy, size_t entropy_len,
                 const void *add, size_t add_len)
{
  struct hmac_part p[2] = { { entropy, entropy_len }, { add, add_len } };
  update(d, p, 2);
  d->reseed_counter = 1;
}

int
hmac_drbg_generate(struct hmac_drbg *d, void *out, size_t len,
                   const void *add, size_t add_len)
{
  if (len > HMAC_DRBG_MAX_REQUEST)
    return -1;
  struct hmac_part a = { add, add ? add_len : 0 };
  if (a.len)
    update(d, &a, 1);
  uint8_t *o = out;
  while (len) {
    hmac_sha256(d->k, SHA256_LEN, &(struct hmac_part){ d->v, SHA256_LEN }, 1, d->v);
    size_t n = len < SHA256_LEN ? len : SHA256_LEN;
    memcpy(o, d->v, n);
    o += n;
    len -= n;
  }
  update(d, &a, 1);
  d->reseed_counter++;
  return 0;
}
