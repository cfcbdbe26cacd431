/*
 * llama_fuzz.c: libFuzzer target for the model loader and forward pass on
 * outside files: whatever GGUF the reader accepts, llama_build either
 * refuses with an error or builds a model that evaluates a few tokens
 * (ASan/UBSan watch every access). Built and run by test/llama_fuzz.sh.
 * With -DLLAMA_FUZZ_SEEDS it is instead a program writing seed files (small
 * valid models) into the directory given as argv[1].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mneme/gguf.h"
#include "mneme/llama.h"
#include "mneme/quant.h"

#include "gguf_writer.h"

#ifndef LLAMA_FUZZ_SEEDS
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct gguf_file f;
  struct llama_model m;
  if (gguf_open(&f, data, size) != 0)
    return 0;
  struct llama_opts o = { .n_ctx = 6, .batch = 2 };
  if (llama_build(&m, &f, &o, &infer_alloc_libc) != 0)
    return 0;
  int32_t ids[4];
  for (int i = 0; i < 4; i++)
    ids[i] = (int32_t)((size + (size_t)i * 7) % (size_t)m.c.vocab);
  if (llama_forward(&m, ids, 3) == 0)
    llama_forward(&m, ids + 3, 1);
  llama_free(&m);
  return 0;
}
#else
/* A small llama (dim 32, 2 heads, 1 KV head, 1 layer, vocab 8) whose
 * matrices have type wtype; norms F32. */
static void
seed(const char *dir, const char *name, uint32_t wtype, int tied)
{
  struct { const char *n; uint64_t ne[2]; int nd; uint32_t t; } ts[] = {
    { "token_embd.weight", { 32, 8 }, 2, wtype },
    { "output_norm.weight", { 32, 1 }, 1, GGML_TYPE_F32 },
    { "blk.0.attn_norm.weight", { 32, 1 }, 1, GGML_TYPE_F32 },
    { "blk.0.attn_q.weight", { 32, 32 }, 2, wtype },
    { "blk.0.attn_k.weight", { 32, 16 }, 2, wtype },
    { "blk.0.attn_v.weight", { 32, 16 }, 2, wtype },
    { "blk.0.attn_output.weight", { 32, 32 }, 2, wtype },
    { "blk.0.ffn_norm.weight", { 32, 1 }, 1, GGML_TYPE_F32 },
    { "blk.0.ffn_gate.weight", { 32, 64 }, 2, wtype },
    { "blk.0.ffn_up.weight", { 32, 64 }, 2, wtype },
    { "blk.0.ffn_down.weight", { 64, 32 }, 2, wtype },
    { "output.weight", { 32, 8 }, 2, wtype },
  };
  int nt = tied ? 11 : 12;
  struct gw w = { 0 };
  gw_header(&w, 3, (uint64_t)nt, 6);
  gw_kv_str(&w, "general.architecture", "llama");
  gw_kv_u32(&w, "llama.embedding_length", 32);
  gw_kv_u32(&w, "llama.feed_forward_length", 64);
  gw_kv_u32(&w, "llama.block_count", 1);
  gw_kv_u32(&w, "llama.attention.head_count", 2);
  gw_kv_u32(&w, "llama.attention.head_count_kv", 1);
  uint64_t off = 0, sz[12];
  for (int i = 0; i < nt; i++) {
    sz[i] = ggml_row_bytes(ts[i].t, ts[i].ne[0]) * ts[i].ne[1];
    gw_tensor(&w, ts[i].n, (uint32_t)ts[i].nd, ts[i].ne, ts[i].t, off);
    off += (sz[i] + 31) & ~31ull;
  }
  gw_pad(&w, 32);
  for (int i = 0; i < nt; i++) {
    int64_t n = (int64_t)(ts[i].ne[0] * ts[i].ne[1]);
    float *x = malloc((size_t)n * 4);
    uint8_t *q = malloc(sz[i]);
    for (int64_t k = 0; k < n; k++)
      x[k] = (float)((k * 37 + i) % 17) / 17.f - 0.4f;
    quant_quantize_weights((int)ts[i].t, x, q, n);
    gw_bytes(&w, q, sz[i]);
    gw_pad(&w, 32);
    free(x), free(q);
  }
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *fp = fopen(path, "wb");
  if (!fp || fwrite(w.buf, 1, w.len, fp) != w.len)
    exit(1);
  fclose(fp);
  free(w.buf);
}

int
main(int argc, char **argv)
{
  if (argc != 2)
    return 2;
  seed(argv[1], "f32-tied", GGML_TYPE_F32, 1);
  seed(argv[1], "f16", GGML_TYPE_F16, 0);
  seed(argv[1], "q8_0", GGML_TYPE_Q8_0, 0);
  seed(argv[1], "q4_0", GGML_TYPE_Q4_0, 1);
  return 0;
}
#endif
