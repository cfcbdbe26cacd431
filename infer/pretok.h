/*
 * pretok.h: the pre-tokenizers of byte-level BPE vocabularies (internal
 * to the inference library): split a run of code points into the words
 * that BPE merges never cross. Hand-coded equivalents of the regexes
 * llama.cpp uses for the gpt-2, llama3 and qwen2 families.
 */
#ifndef MNEME_INFER_PRETOK_H
#define MNEME_INFER_PRETOK_H

#include <stddef.h>
#include <stdint.h>

/* Classes of a code point. */
#define PRETOK_LETTER 1
#define PRETOK_NUMBER 2
#define PRETOK_SPACE 4

int pretok_class(uint32_t cp);

/* Splits cp[0..n) into words for pre-tokenizer `pre` (enum tok_pre);
 * writes the end offset of each word to ends[] (room for n entries) and
 * returns the number of words. */
size_t pretok_split(int pre, const uint32_t *cp, size_t n, uint32_t *ends);

#endif
