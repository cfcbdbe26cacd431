/*
 * tokenizer_fuzz.c: libFuzzer target for tokenizing outside text.
 *
 * The first input byte picks the vocabulary (llama-spm: SentencePiece;
 * gpt-2: byte-level BPE) and whether special tokens are parsed; the rest
 * is the text. Checks: every id is in range; streaming detokenization
 * gives valid UTF-8; and when the text is valid UTF-8 (and, for SPM,
 * free of U+2581) the pieces give the text back exactly (SPM: after the
 * one space it adds). Run by test/tokenizer_fuzz.sh from the repository
 * root, since the vocabularies are read from ../shared/testdata.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mneme/gguf.h>
#include <mneme/tokenizer.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gguf_map maps[2];
static struct gguf_file files[2];
static struct tokenizer toks[2];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
  static const char *const paths[2] = {
    "../shared/testdata/llm/vocab/ggml-vocab-llama-spm.gguf",
    "../shared/testdata/llm/vocab/ggml-vocab-gpt-2.gguf",
  };
  (void)argc, (void)argv;
  for (int i = 0; i < 2; i++)
    if (gguf_map_file(&maps[i], paths[i]) ||
        gguf_open(&files[i], maps[i].addr, maps[i].size) ||
        tok_init(&toks[i], &files[i], &tok_malloc)) {
      fprintf(stderr, "cannot load %s\n", paths[i]);
      abort();
    }
  return 0;
}

/* Strict UTF-8 check (no overlongs, surrogates or values past U+10FFFF). */
static int
valid_utf8(const uint8_t *s, size_t n)
{
  for (size_t i = 0; i < n;) {
    uint8_t c = s[i];
    size_t k = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1
             : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 9;
    if (k == 9 || (k && i + k >= n))
      return 0;
    uint8_t lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
    uint8_t hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    if (k && (s[i + 1] < lo || s[i + 1] > hi))
      return 0;
    for (size_t j = 2; j <= k; j++)
      if ((s[i + j] & 0xc0) != 0x80)
        return 0;
    i += k + 1;
  }
  return 1;
}

static int
has_2581(const uint8_t *s, size_t n)
{
  for (size_t i = 0; i + 2 < n; i++)
    if (s[i] == 0xe2 && s[i + 1] == 0x96 && s[i + 2] == 0x81)
      return 1;
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 4096)
    return 0;
  const struct tokenizer *t = &toks[data[0] & 1];
  unsigned flags = data[0] & 2 ? TOK_PARSE_SPECIAL | TOK_ADD_SPECIAL : 0;
  const char *text = (const char *)data + 1;
  size_t len = size - 1, n;
  static int32_t ids[3 * 4096 + 8];
  static char out[4 * 4096 * 8], buf[1024];
  if (tok_encode(t, text, len, flags, ids, sizeof ids / sizeof ids[0], &n))
    abort();
  struct tok_stream st = {0};
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (ids[i] < 0 || (uint32_t)ids[i] >= t->n_vocab)
      abort();
    int k = tok_stream_put(t, &st, ids[i], TOK_SHOW_SPECIAL, buf, sizeof buf);
    if (k < 0)
      abort();
    memcpy(out + m, buf, (size_t)k);
    m += (size_t)k;
  }
  m += (size_t)tok_stream_flush(&st, out + m, 3);
  if (!valid_utf8((const uint8_t *)out, m))
    abort();
  if (flags || !valid_utf8(data + 1, len))
    return 0;
  size_t skip = t->kind == TOK_SPM && len > 0;
  if (t->kind == TOK_SPM && has_2581(data + 1, len))
    return 0;
  if (m != len + skip || memcmp(out + skip, text, len) != 0 ||
      (skip && out[0] != ' '))
    abort();
  return 0;
}
