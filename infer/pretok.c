/*
 * pretok.c: word splitting for byte-level BPE, without a regex engine.
 *
 * Each family's regex is an ordered list of alternatives tried at the
 * current position; the first that matches wins and the scan resumes
 * after it. Here each alternative is a small function returning the match
 * length (0: no match). L = letter (\p{L}), N = number (\p{N}),
 * S = whitespace (\s), O = anything else that is an assigned code point
 * (as in llama.cpp, an unassigned one matches no class and becomes a
 * word of its own).
 *
 * gpt-2:   's|'t|'re|'ve|'m|'ll|'d | ?L+ | ?N+ | ?O+ | S+(?!\S) | S+
 * llama3:  (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\nLN]?L+ | N{1,3}
 *          | ?O+[\r\n]* | S*[\r\n]+ | S+(?!\S) | S+
 * qwen2:   as llama3 with N instead of N{1,3}.
 *
 * Interface:
 *   pretok_class   letter / number / whitespace class of a code point
 *   pretok_split   word ends for a pre-tokenizer
 */
#include <mneme/tokenizer.h>

#include "pretok.h"

#include "unicode_tab.h"

static int
is_space(uint32_t c)
{
  return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
         c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

int
pretok_class(uint32_t cp)
{
  if (is_space(cp))
    return PRETOK_SPACE;
  if (cp > 0x10ffff)
    return 3; /* no class, like an unassigned code point */
  size_t lo = 0, hi = sizeof unicode_runs / sizeof unicode_runs[0];
  while (hi - lo > 1) { /* last run starting at or before cp */
    size_t mid = (lo + hi) / 2;
    if (unicode_runs[mid] >> 2 <= cp)
      lo = mid;
    else
      hi = mid;
  }
  return (int)(unicode_runs[lo] & 3);
}

/* The text being split: code points and their classes on demand. */
struct scan {
  const uint32_t *cp;
  size_t n;
};

static uint32_t
at(const struct scan *s, size_t i)
{
  return i < s->n ? s->cp[i] : 0xffffffffu;
}

static int
cls(const struct scan *s, size_t i)
{
  return i < s->n ? pretok_class(s->cp[i]) : -1;
}

static int
is_other(const struct scan *s, size_t i)
{
  return cls(s, i) == 0;
}

static uint32_t
lower(uint32_t c)
{
  return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* 's 't 're 've 'm 'll 'd, optionally ignoring case. */
static size_t
contraction(const struct scan *s, size_t i, int fold)
{
  if (at(s, i) != '\'')
    return 0;
  uint32_t a = at(s, i + 1), b = at(s, i + 2);
  if (fold)
    a = lower(a), b = lower(b);
  if (a == 's' || a == 't' || a == 'm' || a == 'd')
    return 2;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
    return 3;
  return 0;
}

/* Length of the run of class k starting at i, at most max. */
static size_t
run(const struct scan *s, size_t i, int k, size_t max)
{
  size_t j = i;
  while (j - i < max && cls(s, j) == k)
    j++;
  return j - i;
}

static size_t
run_other(const struct scan *s, size_t i)
{
  size_t j = i;
  while (is_other(s, j))
    j++;
  return j - i;
}

/* S+(?!\S) then S+: a whitespace run, minus its last character when a
 * non-space follows and the run is longer than one. */
static size_t
spaces(const struct scan *s, size_t i)
{
  size_t k = run(s, i, PRETOK_SPACE, SIZE_MAX);
  if (k > 1 && i + k < s->n)
    return k - 1;
  return k;
}

static int
is_nl(uint32_t c)
{
  return c == '\r' || c == '\n';
}

/* One gpt-2 word at i (length > 0). */
static size_t
word_gpt2(const struct scan *s, size_t i)
{
  size_t k, sp = at(s, i) == ' ';
  if ((k = contraction(s, i, 0)))
    return k;
  if ((k = run(s, i + sp, PRETOK_LETTER, SIZE_MAX)))
    return sp + k;
  if ((k = run(s, i + sp, PRETOK_NUMBER, SIZE_MAX)))
    return sp + k;
  if ((k = run_other(s, i + sp)))
    return sp + k;
  if ((k = spaces(s, i)))
    return k;
  return 1;
}

/* One llama3 (digits = 3) or qwen2 (digits = 1) word at i. */
static size_t
word_llama3(const struct scan *s, size_t i, size_t digits)
{
  size_t k;
  if ((k = contraction(s, i, 1)))
    return k;
  /* [^\r\n\p{L}\p{N}]?\p{L}+ */
  size_t pre = cls(s, i) != PRETOK_LETTER && cls(s, i) != PRETOK_NUMBER &&
               !is_nl(at(s, i)) && i < s->n;
  if ((k = run(s, i + pre, PRETOK_LETTER, SIZE_MAX)))
    return pre + k;
  if ((k = run(s, i, PRETOK_NUMBER, digits)))
    return k;
  /* ' ?[^\s\p{L}\p{N}]+[\r\n]*' */
  size_t sp = at(s, i) == ' ';
  if ((k = run_other(s, i + sp))) {
    size_t j = i + sp + k;
    while (is_nl(at(s, j)))
      j++;
    return j - i;
  }
  /* \s*[\r\n]+ : up to the last newline of the whitespace run */
  size_t ws = run(s, i, PRETOK_SPACE, SIZE_MAX), last = 0;
  for (size_t j = 0; j < ws; j++)
    if (is_nl(at(s, i + j)))
      last = j + 1;
  if (last)
    return last;
  if ((k = spaces(s, i)))
    return k;
  return 1;
}

size_t
pretok_split(int pre, const uint32_t *cp, size_t n, uint32_t *ends)
{
  struct scan s = {cp, n};
  size_t i = 0, w = 0;
  while (i < n) {
    size_t k;
    if (pre == TOK_PRE_LLAMA3)
      k = word_llama3(&s, i, 3);
    else if (pre == TOK_PRE_QWEN2)
      k = word_llama3(&s, i, 1);
    else
      k = word_gpt2(&s, i);
    i += k;
    ends[w++] = (uint32_t)i;
  }
  return w;
}
