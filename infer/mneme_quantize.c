/*
 * mneme_quantize.c: the hosted tool mneme-quantize: an F32/F16 GGUF model
 * to Q8_0 or Q4_0, writing the bytes llama.cpp's llama-quantize writes.
 *
 *   mneme-quantize IN.gguf OUT.gguf Q8_0|Q4_0
 *
 * What llama-quantize does, and so this tool (checked byte for byte by
 * test/quantize_tool.sh on stories260K-f32):
 *  - metadata: every key of the input in order, without
 *    general.quantization_version and general.file_type, then those two
 *    (2, and the file type: 7 MOSTLY_Q8_0, 2 MOSTLY_Q4_0);
 *  - tensors ordered as llama.cpp's loader keeps them: tensors outside the
 *    blocks first, then block 0, 1, ... (numerically), by name within each;
 *    data aligned to general.alignment (default 32), zero padding;
 *  - a tensor whose name ends in "weight" and has 2 or more dimensions is
 *    quantized: to the file type, except the output matrix (or the token
 *    embedding when there is none) for Q4_0, which gets Q6_K; a row length
 *    the type's block does not divide falls back (Q6_K to Q8_0, then to
 *    F16 when not a multiple of 32); 1-D tensors are copied;
 *  - quantization with ggml's reference rules (quant_quantize_weights).
 * Q6_K itself is not implemented: a model that needs it (the output
 * matrix of a Q4_0 file whose width is a multiple of 256) is refused.
 * Q4_K_M is not implemented.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test/gguf_writer.h"
#include "mneme/gguf.h"
#include "mneme/quant.h"

static void
die(const char *a, const char *b)
{
  fprintf(stderr, "mneme-quantize: %s%s\n", a, b ? b : "");
  exit(1);
}

struct tin {
  struct gguf_tensor t;
  char name[GGUF_MAX_NAME + 1];
  int layer;      /* blk.N. -> N, else -1 */
  uint32_t otype; /* output type */
  uint64_t off, nbytes;
};

static int
cmp(const void *a, const void *b)
{
  const struct tin *x = a, *y = b;
  if (x->layer != y->layer)
    return x->layer < y->layer ? -1 : 1;
  return strcmp(x->name, y->name);
}

static int
ends_with(const char *s, const char *suf)
{
  size_t n = strlen(s), m = strlen(suf);
  return n >= m && strcmp(s + n - m, suf) == 0;
}

int
main(int argc, char **argv)
{
  if (argc != 4)
    die("usage: mneme-quantize IN.gguf OUT.gguf Q8_0|Q4_0", NULL);
  uint32_t qt, ftype;
  if (!strcmp(argv[3], "Q8_0") || !strcmp(argv[3], "q8_0"))
    qt = GGML_TYPE_Q8_0, ftype = 7;
  else if (!strcmp(argv[3], "Q4_0") || !strcmp(argv[3], "q4_0"))
    qt = GGML_TYPE_Q4_0, ftype = 2;
  else
    die("unsupported type (Q8_0, Q4_0): ", argv[3]);
  struct gguf_map map;
  struct gguf_file f;
  if (gguf_map_file(&map, argv[1]))
    die("cannot read ", argv[1]);
  if (gguf_open(&f, map.addr, map.size))
    die("not a valid GGUF file: ", f.err_msg);
  uint32_t align = f.alignment;

  /* tensors, their output types and order */
  struct tin *t = calloc(f.n_tensors ? f.n_tensors : 1, sizeof *t);
  if (!t)
    die("out of memory", NULL);
  int has_output = gguf_find_tensor(&f, "output.weight", &(struct gguf_tensor){ 0 }) == 0;
  for (uint64_t i = 0; i < f.n_tensors; i++) {
    struct tin *x = &t[i];
    gguf_tensor_at(&f, i, &x->t);
    memcpy(x->name, x->t.name, x->t.name_len);
    x->layer = -1;
    if (sscanf(x->name, "blk.%d.", &x->layer) != 1)
      x->layer = -1;
    x->otype = x->t.type;
    if (ends_with(x->name, "weight") && x->t.n_dims >= 2) {
      if (x->t.type != GGML_TYPE_F32 && x->t.type != GGML_TYPE_F16)
        die("input tensors must be F32 or F16: ", x->name);
      uint32_t want = qt;
      if (qt == GGML_TYPE_Q4_0 && (!strcmp(x->name, "output.weight") ||
                                   (!has_output && !strcmp(x->name, "token_embd.weight"))))
        want = GGML_TYPE_Q6_K;
      if (want == GGML_TYPE_Q6_K && x->t.ne[0] % 256)
        want = GGML_TYPE_Q8_0;
      if (x->t.ne[0] % 32)
        want = GGML_TYPE_F16;
      if (want == GGML_TYPE_Q6_K)
        die("Q6_K quantization (for this output matrix) is not implemented: ", x->name);
      x->otype = want;
    }
    uint64_t rows = gguf_tensor_nelem(&x->t) / x->t.ne[0];
    x->nbytes = rows * ggml_row_bytes(x->otype, x->t.ne[0]);
  }
  qsort(t, f.n_tensors, sizeof *t, cmp);
  uint64_t off = 0;
  for (uint64_t i = 0; i < f.n_tensors; i++) {
    t[i].off = off;
    off += (t[i].nbytes + align - 1) / align * align;
  }

  /* header */
  struct gw w = { 0 };
  uint64_t nkv = 0;
  for (int pass = 0; pass < 2; pass++)
    for (uint64_t i = 0; i < f.n_kv; i++) {
      const char *key;
      size_t klen;
      struct gguf_value v;
      gguf_kv_at(&f, i, &key, &klen, &v);
      if ((klen == 28 && !memcmp(key, "general.quantization_version", 28)) ||
          (klen == 17 && !memcmp(key, "general.file_type", 17)))
        continue;
      if (pass == 0) {
        nkv++;
        continue;
      }
      if (i == 0 || w.len == 0)
        gw_header(&w, 3, f.n_tensors, nkv + 2);
      gw_strn(&w, key, klen);
      gw_u32(&w, v.type);
      size_t back = v.type == GGUF_VT_STR ? 8 : v.type == GGUF_VT_ARR ? 12 : 0;
      gw_bytes(&w, v.p - back, v.size);
    }
  if (w.len == 0)
    gw_header(&w, 3, f.n_tensors, 2);
  gw_kv_u32(&w, "general.quantization_version", 2);
  gw_kv_u32(&w, "general.file_type", ftype);
  for (uint64_t i = 0; i < f.n_tensors; i++)
    gw_tensor(&w, t[i].name, t[i].t.n_dims, t[i].t.ne, t[i].otype, t[i].off);
  gw_pad(&w, align);

  FILE *out = fopen(argv[2], "wb");
  if (!out || fwrite(w.buf, 1, w.len, out) != w.len)
    die("cannot write ", argv[2]);
  static const uint8_t zeros[256];
  for (uint64_t i = 0; i < f.n_tensors; i++) {
    struct tin *x = &t[i];
    if (x->otype == x->t.type) {
      if (fwrite(x->t.data, 1, x->nbytes, out) != x->nbytes)
        die("write failed", NULL);
    } else {
      int64_t n = (int64_t)x->t.ne[0];
      uint64_t rows = gguf_tensor_nelem(&x->t) / (uint64_t)n;
      size_t ib = ggml_row_bytes(x->t.type, n), ob = ggml_row_bytes(x->otype, n);
      float *row = malloc(sizeof(float) * n);
      uint8_t *q = malloc(ob);
      if (!row || !q)
        die("out of memory", NULL);
      for (uint64_t r = 0; r < rows; r++) {
        quant_dequantize_row((int)x->t.type, x->t.data + r * ib, row, n);
        if (quant_quantize_weights((int)x->otype, row, q, n) || fwrite(q, 1, ob, out) != ob)
          die("cannot quantize ", x->name);
      }
      free(row), free(q);
    }
    uint64_t pad = (align - x->nbytes % align) % align;
    while (pad) {
      size_t k = pad < sizeof zeros ? pad : sizeof zeros;
      if (fwrite(zeros, 1, k, out) != k)
        die("write failed", NULL);
      pad -= k;
    }
  }
  if (fclose(out))
    die("write failed", NULL);
  free(w.buf);
  free(t);
  gguf_unmap_file(&map);
  return 0;
}
