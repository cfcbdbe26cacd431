/*
 * pretok_dump.c: prints how a pre-tokenizer splits each test string of a
 * llama.cpp vocabulary .inp file: one line per test, each word as hex
 * bytes, words separated by spaces. test/pretok_regex.sh compares this
 * with the family's real regex run by Python's regex module.
 *   pretok-dump gpt2|llama3|qwen2 file.inp
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mneme/tokenizer.h>

#include "../infer/pretok.h"

static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
  size_t k = 0;
  for (size_t i = 0; i < n;) { /* the .inp files are valid UTF-8 */
    unsigned c = s[i];
    size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    uint32_t v = len == 1 ? c : c & (0x7f >> len);
    for (size_t j = 1; j < len && i + j < n; j++)
      v = v << 6 | (s[i + j] & 63);
    cp[k++] = v;
    i += len;
  }
  return k;
}

static void
print_cp(uint32_t c)
{
  if (c < 0x80)
    printf("%02x", c);
  else if (c < 0x800)
    printf("%02x%02x", 0xc0 | c >> 6, 0x80 | (c & 63));
  else if (c < 0x10000)
    printf("%02x%02x%02x", 0xe0 | c >> 12, 0x80 | (c >> 6 & 63), 0x80 | (c & 63));
  else
    printf("%02x%02x%02x%02x", 0xf0 | c >> 18, 0x80 | (c >> 12 & 63),
           0x80 | (c >> 6 & 63), 0x80 | (c & 63));
}

int
main(int argc, char **argv)
{
  static const char sep[] = "\n__ggml_vocab_test__\n";
  if (argc != 3)
    return 2;
  int pre = strcmp(argv[1], "llama3") == 0 ? TOK_PRE_LLAMA3
          : strcmp(argv[1], "qwen2") == 0 ? TOK_PRE_QWEN2 : TOK_PRE_GPT2;
  FILE *fp = fopen(argv[2], "rb");
  if (!fp)
    return 1;
  static char text[1 << 20];
  size_t n = fread(text, 1, sizeof text - 1, fp);
  fclose(fp);
  text[n] = 0;
  static uint32_t cp[1 << 20], ends[1 << 20];
  for (char *p = text, *q; (q = strstr(p, sep)) != NULL; p = q + sizeof sep - 1) {
    size_t ncp = utf8_decode((unsigned char *)p, (size_t)(q - p), cp);
    size_t nw = pretok_split(pre, cp, ncp, ends);
    for (size_t w = 0, start = 0; w < nw; start = ends[w++]) {
      printf(w ? " " : "");
      for (size_t i = start; i < ends[w]; i++)
        print_cp(cp[i]);
    }
    printf("\n");
  }
  return 0;
}
