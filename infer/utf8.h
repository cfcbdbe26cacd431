/*
 * utf8.h: UTF-8 and byte-level-BPE character helpers shared by the
 * tokenizer's encoder and decoder (internal to the inference library).
 */
#ifndef MNEME_INFER_UTF8_H
#define MNEME_INFER_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Writes code point cp as UTF-8 (1 to 4 bytes); returns the length. */
size_t utf8_put(uint32_t cp, char *out);
/* Length a lead byte announces, as llama.cpp counts characters (1 for a
 * stray continuation byte). */
size_t utf8_len(uint8_t c);
/* Decodes the code point at s[*i] (n bytes in all) as llama.cpp does: a
 * malformed sequence gives U+FFFD and consumes one byte. */
uint32_t utf8_get(const uint8_t *s, size_t n, size_t *i);
/* Strict validation: bytes still needed after lead byte c (-1: not a lead
 * byte), and the range [*lo, *hi] allowed for the next byte. */
int utf8_need(uint8_t c, uint8_t *lo, uint8_t *hi);

/* GPT-2's byte-level map: the printable character standing for a byte,
 * and back (-1: the character stands for no byte). */
uint32_t bytelevel_from_byte(int b);
int bytelevel_to_byte(uint32_t cp);

#endif
