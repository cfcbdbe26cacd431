/*
 * uuid.h: 128-bit service identifiers.
 *
 * Stored as the 16 bytes of the canonical text form, in order (RFC 4122
 * byte order), which is also how they go on the wire.
 */
#ifndef MNEME_UUID_H
#define MNEME_UUID_H

#include <stdint.h>
#include <string.h>

struct uuid {
  uint8_t b[16];
};

/* UUID_INIT(0x54c983fa, 0x736f, 0x4223, 0xb90d, 0xc4360a308647) */
#define UUID_INIT(a, b_, c, d, e)                                           \
  { { (uint8_t)((a) >> 24), (uint8_t)((a) >> 16), (uint8_t)((a) >> 8),     \
      (uint8_t)(a), (uint8_t)((b_) >> 8), (uint8_t)(b_),                    \
      (uint8_t)((c) >> 8), (uint8_t)(c), (uint8_t)((d) >> 8), (uint8_t)(d), \
      (uint8_t)((e) >> 40), (uint8_t)((e) >> 32), (uint8_t)((e) >> 24),    \
      (uint8_t)((e) >> 16), (uint8_t)((e) >> 8), (uint8_t)(e) } }

static inline int
uuid_eq(const struct uuid *a, const struct uuid *b)
{
  return memcmp(a->b, b->b, 16) == 0;
}

#endif
