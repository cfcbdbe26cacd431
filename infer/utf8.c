/*
 * utf8.c: UTF-8 encoding and decoding with llama.cpp's rules for bad
 * input, a strict validator for the streaming detokenizer, and GPT-2's
 * byte-level character map.
 *
 * Interface:
 *   utf8_put, utf8_len, utf8_get, utf8_need
 *   bytelevel_from_byte, bytelevel_to_byte
 */
#include "utf8.h"

/* GPT-2 maps each byte to a printable character: bytes that are printable
 * Latin-1 map to themselves; the 68 others (0x00-0x20, 0x7f-0xa0, 0xad),
 * in order, to U+0100 onwards. */
static int
byte_is_self(int b)
{
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
}

uint32_t
bytelevel_from_byte(int b)
{
  if (byte_is_self(b))
    return (uint32_t)b;
  if (b <= 0x20)
    return 0x100 + (uint32_t)b;
  if (b <= 0xa0)
    return 0x100 + 33 + (uint32_t)(b - 0x7f);
  return 0x100 + 67; /* 0xad */
}

int
bytelevel_to_byte(uint32_t cp)
{
  if (cp < 0x100)
    return byte_is_self((int)cp) ? (int)cp : -1;
  uint32_t k = cp - 0x100;
  if (k <= 32)
    return (int)k;
  if (k <= 66)
    return (int)(0x7f + k - 33);
  return k == 67 ? 0xad : -1;
}

size_t
utf8_put(uint32_t cp, char *out)
{
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xc0 | cp >> 6);
    out[1] = (char)(0x80 | (cp & 63));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xe0 | cp >> 12);
    out[1] = (char)(0x80 | (cp >> 6 & 63));
    out[2] = (char)(0x80 | (cp & 63));
    return 3;
  }
  out[0] = (char)(0xf0 | (cp >> 18 & 7));
  out[1] = (char)(0x80 | (cp >> 12 & 63));
  out[2] = (char)(0x80 | (cp >> 6 & 63));
  out[3] = (char)(0x80 | (cp & 63));
  return 4;
}

size_t
utf8_len(uint8_t c)
{
  static const uint8_t len[16] = {1, 1, 1, 1, 1, 1, 1, 1,
                                  1, 1, 1, 1, 2, 2, 3, 4};
  return len[c >> 4];
}

uint32_t
utf8_get(const uint8_t *s, size_t n, size_t *i)
{
  uint8_t c = s[*i];
  size_t k = c < 0x80 ? 1 : c < 0xc0 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf8 ? 4 : 0;
  if (k == 0 || *i + k > n) {
    (*i)++;
    return k == 1 ? c : 0xfffd;
  }
  uint32_t cp = k == 1 ? c : (uint32_t)(c & (0x7f >> k));
  for (size_t j = 1; j < k; j++) {
    if ((s[*i + j] & 0xc0) != 0x80) {
      (*i)++;
      return 0xfffd;
    }
    cp = cp << 6 | (s[*i + j] & 63);
  }
  *i += k;
  return cp;
}

/* Bytes a UTF-8 sequence needs after lead byte c (-1: not a lead byte),
 * and the valid range of its second byte. */
int
utf8_need(uint8_t c, uint8_t *lo, uint8_t *hi)
{
  *lo = 0x80, *hi = 0xbf;
  if (c < 0x80)
    return 0;
  if (c >= 0xc2 && c <= 0xdf)
    return 1;
  if (c >= 0xe0 && c <= 0xef) {
    if (c == 0xe0)
      *lo = 0xa0;
    if (c == 0xed)
      *hi = 0x9f; /* no surrogates */
    return 2;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (c == 0xf0)
      *lo = 0x90;
    if (c == 0xf4)
      *hi = 0x8f;
    return 3;
  }
  return -1;
}
