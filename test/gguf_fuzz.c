/*
 * gguf_fuzz.c: libFuzzer target for the GGUF reader.
 *
 * Opens the input as a GGUF file; when it opens, walks every key/value
 * pair (recursing into nested arrays with gguf_iter), every typed getter
 * and every tensor, touching the first and last byte of each tensor's
 * data, so any out-of-bounds pointer the reader hands out is caught by
 * ASan. Then it loads a tokenizer from the file's metadata, encodes a
 * fixed text and renders every id it produced (hostile tokenizer
 * metadata). Built with -DGGUF_FUZZ_SEEDS it is instead a program that writes
 * a seed corpus into the directory given as its argument.
 * Run by test/gguf_fuzz.sh (briefly, in make test; longer in make fuzz).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mneme/err.h>
#include <mneme/gguf.h>
#include <mneme/tokenizer.h>

#include "gguf_writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static void
walk_value(const struct gguf_value *v, int depth)
{
  int64_t i;
  double d;
  if (gguf_value_i64(v, &i) == 0)
    sink += (uint64_t)i;
  if (gguf_value_f64(v, &d) == 0)
    sink += d == d;
  if (v->type == GGUF_VT_STR && v->n)
    sink += v->p[0] + v->p[v->n - 1];
  if (v->type != GGUF_VT_ARR)
    return;
  struct gguf_iter it;
  struct gguf_value e;
  gguf_iter_init(&it, v);
  while (gguf_iter_next(&it, &e) == 0)
    walk_value(&e, depth + 1);
  if (v->n && v->elem == GGUF_VT_F32)
    sink += gguf_arr_f32(v, v->n - 1) > 0;
}

static void
fuzz_tokenizer(const struct gguf_file *f)
{
  static const char text[] = "Hello <s> w\xc3\xb6rld  \xf0\x9f\xa6\x99!\n 123 'll";
  struct tokenizer t;
  int32_t ids[256];
  size_t n;
  char piece[4096];
  if (tok_init(&t, f, &tok_malloc) != 0)
    return;
  if (tok_encode(&t, text, sizeof text - 1, TOK_ADD_SPECIAL | TOK_PARSE_SPECIAL,
                 ids, 256, &n) == 0)
    for (size_t i = 0; i < n; i++)
      if (ids[i] < 0 || (uint32_t)ids[i] >= t.n_vocab ||
          tok_piece(&t, ids[i], TOK_SHOW_SPECIAL, piece, sizeof piece) == MN_ERANGE)
        abort();
  tok_free(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct gguf_file f;
  if (gguf_open(&f, data, size) != 0)
    return 0;
  for (uint64_t i = 0; i < f.n_kv; i++) {
    const char *key;
    size_t len;
    struct gguf_value v;
    if (gguf_kv_at(&f, i, &key, &len, &v) != 0)
      abort();
    walk_value(&v, 0);
  }
  uint32_t u;
  float x;
  const char *s;
  size_t n;
  sink += gguf_get_u32(&f, "general.alignment", &u);
  sink += gguf_get_f32(&f, "llama.rope.freq_base", &x);
  sink += gguf_get_str(&f, "general.architecture", &s, &n);
  for (uint64_t i = 0; i < f.n_tensors; i++) {
    struct gguf_tensor t;
    if (gguf_tensor_at(&f, i, &t) != 0)
      abort();
    if (t.nbytes)
      sink += t.data[0] + t.data[t.nbytes - 1];
    if (t.data < f.buf || t.data + t.nbytes > f.buf + f.size)
      abort();
  }
  fuzz_tokenizer(&f);
  return 0;
}

#ifdef GGUF_FUZZ_SEEDS
static void
save(const char *dir, const char *name, struct gw *w)
{
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *fp = fopen(path, "wb");
  if (!fp || fwrite(w->buf, 1, w->len, fp) != w->len)
    exit(1);
  fclose(fp);
  free(w->buf);
  memset(w, 0, sizeof *w);
}

int
main(int argc, char **argv)
{
  struct gw w = {0};
  if (argc != 2)
    return 2;
  gw_header(&w, 3, 2, 6);
  gw_kv_u32(&w, "general.alignment", 16);
  gw_kv_str(&w, "general.architecture", "llama");
  gw_kv_f32(&w, "llama.rope.freq_base", 10000.0f);
  gw_kv_bool(&w, "b", 1);
  gw_kv_arr(&w, "tokenizer.ggml.tokens", GGUF_VT_STR, 2);
  gw_str(&w, "<s>"), gw_str(&w, "\xe2\x96\x81" "a");
  gw_kv_arr(&w, "nest", GGUF_VT_ARR, 1);
  gw_u32(&w, GGUF_VT_F32), gw_u64(&w, 1), gw_f32(&w, 1.0f);
  gw_tensor(&w, "a", 2, (uint64_t[]){2, 2}, GGML_TYPE_F32, 0);
  gw_tensor(&w, "q", 1, (uint64_t[]){32}, GGML_TYPE_Q8_0, 16);
  gw_pad(&w, 16);
  for (int i = 0; i < 16 + 34; i++)
    gw_u8(&w, (uint8_t)i);
  save(argv[1], "small-v3", &w);
  gw_header(&w, 2, 1, 1);
  gw_kv_arr(&w, "scores", GGUF_VT_F32, 3);
  gw_f32(&w, 0), gw_f32(&w, -1), gw_f32(&w, 2);
  gw_tensor(&w, "k", 3, (uint64_t[]){256, 1, 1}, GGML_TYPE_Q4_K, 0);
  gw_pad(&w, 32);
  for (int i = 0; i < 144; i++)
    gw_u8(&w, 0);
  save(argv[1], "small-v2", &w);
  gw_header(&w, 3, 0, 5); /* a tiny SentencePiece vocabulary */
  gw_kv_str(&w, "tokenizer.ggml.model", "llama");
  gw_kv_arr(&w, "tokenizer.ggml.tokens", GGUF_VT_STR, 6);
  gw_str(&w, "<unk>"), gw_str(&w, "<s>"), gw_str(&w, "<0x0A>");
  gw_str(&w, "\xe2\x96\x81"), gw_str(&w, "H"), gw_str(&w, "\xe2\x96\x81H");
  gw_kv_arr(&w, "tokenizer.ggml.scores", GGUF_VT_F32, 6);
  for (int i = 0; i < 6; i++)
    gw_f32(&w, (float)-i);
  gw_kv_arr(&w, "tokenizer.ggml.token_type", GGUF_VT_I32, 6);
  gw_u32(&w, 2), gw_u32(&w, 3), gw_u32(&w, 6), gw_u32(&w, 1), gw_u32(&w, 1), gw_u32(&w, 1);
  gw_kv_u32(&w, "tokenizer.ggml.bos_token_id", 1);
  gw_kv_bool(&w, "tokenizer.ggml.add_bos_token", 1);
  save(argv[1], "spm-vocab", &w);
  gw_header(&w, 3, 0, 4); /* a tiny byte-level BPE vocabulary */
  gw_kv_str(&w, "tokenizer.ggml.model", "gpt2");
  gw_kv_str(&w, "tokenizer.ggml.pre", "llama-bpe");
  gw_kv_arr(&w, "tokenizer.ggml.tokens", GGUF_VT_STR, 5);
  gw_str(&w, "H"), gw_str(&w, "e"), gw_str(&w, "He"), gw_str(&w, "\xc4\xa0"),
  gw_str(&w, "<s>");
  gw_kv_arr(&w, "tokenizer.ggml.merges", GGUF_VT_STR, 1);
  gw_str(&w, "H e");
  gw_kv_arr(&w, "tokenizer.ggml.token_type", GGUF_VT_I32, 5);
  for (int i = 0; i < 5; i++)
    gw_u32(&w, i == 4 ? 3 : 1);
  save(argv[1], "bpe-vocab", &w);
  return 0;
}
#endif
