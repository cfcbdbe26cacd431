/*
 * gen_model.c: writes a random-weight llama model as an F16 GGUF file, for
 * make bench (bench/infer.sh quantizes it with llama-quantize).
 *
 *   gen-model VOCAB.gguf OUT.gguf [tinyllama|tiny] [seed]
 *
 * tinyllama: the TinyLlama-1.1B shape (n_embd 2048, 22 layers, 32 heads,
 * 4 KV heads, n_ff 5632, context 2048, rope base 10000, rms eps 1e-5,
 * untied output); "tiny" the same with 2 layers and n_ff 512 (a quick
 * check of the script). The tokenizer metadata (every tokenizer.* key)
 * is copied byte for byte from VOCAB.gguf, so the vocabulary size is its
 * token count. Matrices are N(0, 0.02) (xorshift64* and Box-Muller from
 * the seed) written as F16; norm weights are 1.0 as F32.
 *
 * The header is built in memory with test/gguf_writer.h; the tensor data
 * (2.2 GB for tinyllama) is generated and written tensor by tensor.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test/gguf_writer.h"
#include "mneme/gguf.h"
#include "mneme/quant.h"

struct shape {
  int dim, layers, heads, kv_heads, ffn, ctx;
};

static uint64_t rng = 1;

static double
uniform(void)
{
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return ((rng * 0x2545F4914F6CDD1DULL) >> 11) * (1.0 / 9007199254740992.0);
}

/* n values of N(0, sd) as F16. */
static void
gauss_f16(uint16_t *out, size_t n, double sd)
{
  for (size_t i = 0; i < n; i += 2) {
    double u = uniform(), v = uniform();
    double r = sqrt(-2.0 * log(u + 1e-300)) * sd;
    out[i] = quant_f32_to_f16((float)(r * cos(2 * M_PI * v)));
    if (i + 1 < n)
      out[i + 1] = quant_f32_to_f16((float)(r * sin(2 * M_PI * v)));
  }
}

struct tinfo {
  char name[64];
  uint64_t ne[2];
  int ndims, type; /* F32 norms, F16 matrices */
  uint64_t off;
};

static uint64_t
tbytes(const struct tinfo *t)
{
  uint64_t n = t->ne[0] * (t->ndims > 1 ? t->ne[1] : 1);
  return n * (t->type == GGML_TYPE_F32 ? 4 : 2);
}

static void
die(const char *msg)
{
  fprintf(stderr, "gen-model: %s\n", msg);
  exit(1);
}

int
main(int argc, char **argv)
{
  if (argc < 3)
    die("usage: gen-model VOCAB.gguf OUT.gguf [tinyllama|tiny] [seed]");
  struct shape s = { 2048, 22, 32, 4, 5632, 2048 };
  if (argc > 3 && strcmp(argv[3], "tiny") == 0)
    s.layers = 2, s.ffn = 512;
  else if (argc > 3 && strcmp(argv[3], "tinyllama") != 0)
    die("unknown shape (tinyllama, tiny)");
  rng = argc > 4 ? strtoull(argv[4], NULL, 0) : 20261201;
  if (!rng)
    rng = 1;

  struct gguf_map vm;
  struct gguf_file vf;
  if (gguf_map_file(&vm, argv[1]) || gguf_open(&vf, vm.addr, vm.size))
    die("cannot read the vocabulary file");
  struct gguf_value toks;
  if (gguf_get_arr(&vf, "tokenizer.ggml.tokens", GGUF_VT_STR, &toks))
    die("vocabulary file without tokenizer.ggml.tokens");
  int vocab = (int)toks.n;

  /* tensors */
  int nt = 3 + 9 * s.layers;
  struct tinfo *t = calloc(nt, sizeof *t);
  int k = 0;
#define T2(nm, a, b) (snprintf(t[k].name, 64, "%s", nm), t[k].ne[0] = a, t[k].ne[1] = b, t[k].ndims = 2, t[k].type = GGML_TYPE_F16, k++)
#define T1(nm, a) (snprintf(t[k].name, 64, "%s", nm), t[k].ne[0] = a, t[k].ndims = 1, t[k].type = GGML_TYPE_F32, k++)
  int hd = s.dim / s.heads, kvd = hd * s.kv_heads;
  T2("token_embd.weight", s.dim, vocab);
  for (int l = 0; l < s.layers; l++) {
    char nm[64];
#define L(x) (snprintf(nm, sizeof nm, "blk.%d." x, l), nm)
    T1(L("attn_norm.weight"), s.dim);
    T2(L("attn_q.weight"), s.dim, s.dim);
    T2(L("attn_k.weight"), s.dim, kvd);
    T2(L("attn_v.weight"), s.dim, kvd);
    T2(L("attn_output.weight"), s.dim, s.dim);
    T1(L("ffn_norm.weight"), s.dim);
    T2(L("ffn_gate.weight"), s.dim, s.ffn);
    T2(L("ffn_up.weight"), s.dim, s.ffn);
    T2(L("ffn_down.weight"), s.ffn, s.dim);
#undef L
  }
  T1("output_norm.weight", s.dim);
  T2("output.weight", s.dim, vocab);
  uint64_t off = 0;
  for (int i = 0; i < nt; i++) {
    t[i].off = off;
    off = (off + tbytes(&t[i]) + 31) & ~(uint64_t)31;
  }

  /* metadata: ours, then every tokenizer.* pair of the vocabulary file */
  int n_tok_kv = 0;
  for (uint64_t i = 0; i < vf.n_kv; i++) {
    const char *key;
    size_t klen;
    struct gguf_value v;
    if (gguf_kv_at(&vf, i, &key, &klen, &v) == 0 && klen > 10 && memcmp(key, "tokenizer.", 10) == 0)
      n_tok_kv++;
  }
  struct gw w = { 0 };
  gw_header(&w, 3, nt, 14 + n_tok_kv);
  gw_kv_str(&w, "general.architecture", "llama");
  gw_kv_str(&w, "general.name", s.layers == 22 ? "tinyllama-shape-random" : "tiny-random");
  gw_kv_u32(&w, "general.file_type", 1); /* MOSTLY_F16 */
  gw_kv_u32(&w, "llama.context_length", s.ctx);
  gw_kv_u32(&w, "llama.embedding_length", s.dim);
  gw_kv_u32(&w, "llama.block_count", s.layers);
  gw_kv_u32(&w, "llama.feed_forward_length", s.ffn);
  gw_kv_u32(&w, "llama.rope.dimension_count", hd);
  gw_kv_u32(&w, "llama.attention.head_count", s.heads);
  gw_kv_u32(&w, "llama.attention.head_count_kv", s.kv_heads);
  gw_kv_f32(&w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
  gw_kv_f32(&w, "llama.rope.freq_base", 10000.0f);
  gw_kv_u32(&w, "llama.vocab_size", vocab);
  gw_kv_u32(&w, "general.alignment", 32);
  for (uint64_t i = 0; i < vf.n_kv; i++) {
    const char *key;
    size_t klen;
    struct gguf_value v;
    if (gguf_kv_at(&vf, i, &key, &klen, &v) || klen <= 10 || memcmp(key, "tokenizer.", 10) != 0)
      continue;
    gw_strn(&w, key, klen);
    gw_u32(&w, v.type);
    /* the value's bytes start before p for strings (length) and arrays
     * (element type and count) */
    size_t back = v.type == GGUF_VT_STR ? 8 : v.type == GGUF_VT_ARR ? 12 : 0;
    gw_bytes(&w, v.p - back, v.size);
  }
  for (int i = 0; i < nt; i++)
    gw_tensor(&w, t[i].name, t[i].ndims, t[i].ne, t[i].type, t[i].off);
  gw_pad(&w, 32);

  FILE *out = fopen(argv[2], "wb");
  if (!out)
    die("cannot create the output file");
  if (fwrite(w.buf, 1, w.len, out) != w.len)
    die("write failed");
  uint64_t maxb = 0;
  for (int i = 0; i < nt; i++)
    maxb = tbytes(&t[i]) > maxb ? tbytes(&t[i]) : maxb;
  uint8_t *buf = malloc(maxb + 32);
  if (!buf)
    die("out of memory");
  uint64_t pos = 0;
  for (int i = 0; i < nt; i++) {
    uint64_t nb = tbytes(&t[i]), n = nb / (t[i].type == GGML_TYPE_F32 ? 4 : 2);
    if (t[i].type == GGML_TYPE_F32)
      for (uint64_t j = 0; j < n; j++)
        ((float *)buf)[j] = 1.0f;
    else
      gauss_f16((uint16_t *)buf, n, 0.02);
    while (pos < t[i].off) {
      fputc(0, out);
      pos++;
    }
    if (fwrite(buf, 1, nb, out) != nb)
      die("write failed (disk full?)");
    pos += nb;
  }
  if (fclose(out))
    die("write failed");
  free(buf);
  free(w.buf);
  free(t);
  return 0;
}
