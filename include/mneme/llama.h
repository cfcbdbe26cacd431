/*
 * llama.h: the llama-architecture transformer (llama, and llama-like
 * files such as TinyLlama, SmolLM, Mistral without sliding window; qwen2:
 * the same with Q/K/V biases and NEOX RoPE) over weights carved from a
 * GGUF file in place.
 *
 * llama_build() reads the hyperparameters and tensors through the GGUF
 * reader, checks every shape and type, and allocates (through the caller's
 * allocator, once) the activations, the KV cache and the per-thread
 * scratch. llama_forward() then evaluates tokens without allocating:
 * a prompt in batches, a generated token alone. It computes as llama.cpp's
 * CPU backend does (activations quantized to the weight's vec type,
 * grouped-query attention with an F16 KV cache by default, RoPE on
 * adjacent pairs, RMSNorm, SwiGLU), so its logits track llama.cpp's.
 */
#ifndef MNEME_LLAMA_H
#define MNEME_LLAMA_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/gguf.h"
#include "mneme/par.h"
#include "mneme/quant.h"

/* ---- allocator ------------------------------------------------------------- */

/* Memory for the model's buffers: alloc returns n bytes aligned to 64 (or
 * NULL); free gets back the same pointer and size. */
struct infer_alloc {
  void *(*alloc)(void *ctx, size_t n);
  void (*free)(void *ctx, void *p, size_t n);
  void *ctx;
  /* Optional (may be NULL): the model no longer reads these bytes of the
   * file buffer (its weights were repacked into memory from alloc), so a
   * platform that maps the file may drop their pages. */
  void (*release)(void *ctx, const void *p, size_t n);
  /* Optional: copies the n bytes of the file buffer at p to dst without
   * reading the buffer itself, returning 0 (or nonzero: the model then
   * reads the buffer). With it, a token's embedding row is read through
   * it and the embedding's pages are released at load: a platform that
   * maps the file keeps none of the embedding resident. */
  int (*read)(void *ctx, const void *p, void *dst, size_t n);
};

#if defined(MN_HOSTED)
extern const struct infer_alloc infer_alloc_libc; /* aligned_alloc/free */
#endif

/* ---- model ------------------------------------------------------------------- */

struct llama_config {
  int dim;          /* embedding length */
  int ffn;          /* feed-forward hidden length */
  int n_layers;
  int n_heads;
  int n_kv_heads;
  int head_dim;
  int n_rot;        /* leading dims of each head that RoPE rotates */
  int vocab;
  int ctx_train;    /* the model's context length */
  float rope_base;
  float norm_eps;
  int rope_neox;    /* 1: rotate (i, i + n_rot/2) pairs (qwen2), 0: (2i, 2i+1) */
  int qkv_bias;     /* 1: Q, K, V have bias vectors (qwen2) */
};

/* A weight matrix: n_out rows of n_in elements of `type`. */
struct llama_matrix {
  const uint8_t *data; /* (n_out, row_bytes), in the model file */
  int type;
  int n_in, n_out;
  size_t row_bytes;
  /* The rows repacked at load into 16-row interleaved blocks for the
   * variant's packed kernel (infer/pack.h), or NULL: use data. */
  const uint8_t *packed;
};

struct llama_layer {
  const float *attn_norm;   /* (dim) */
  struct llama_matrix wq;   /* (n_heads * head_dim, dim) */
  struct llama_matrix wk;   /* (n_kv_heads * head_dim, dim) */
  struct llama_matrix wv;   /* (n_kv_heads * head_dim, dim) */
  const float *bq;          /* (n_heads * head_dim) or NULL (qwen2 biases) */
  const float *bk;          /* (n_kv_heads * head_dim) or NULL */
  const float *bv;          /* (n_kv_heads * head_dim) or NULL */
  struct llama_matrix wo;   /* (dim, n_heads * head_dim) */
  const float *ffn_norm;    /* (dim) */
  struct llama_matrix gate; /* (ffn, dim) */
  struct llama_matrix up;   /* (ffn, dim) */
  struct llama_matrix down; /* (dim, ffn) */
};

struct llama_weights {
  struct llama_matrix embd;   /* (vocab, dim) token_embd */
  struct llama_layer *layers; /* (n_layers) */
  const float *out_norm;      /* (dim) */
  struct llama_matrix output; /* (vocab, dim); token_embd when tied */
};

/* Activations and cache; B is the batch (tokens evaluated together). */
struct llama_state {
  float *x;        /* (B, dim) residual stream */
  float *xb;       /* (B, max(dim, q_dim)) normed input / attention output */
  float *q;        /* (B, n_heads * head_dim) */
  float *k;        /* (B, kv_dim) */
  float *v;        /* (B, kv_dim) */
  float *hb;       /* (B, ffn) gate, then SwiGLU output */
  float *hb2;      /* (B, ffn) up */
  float *tmp;      /* (B, dim) matmul output added to x */
  float *rope;     /* (B, n_rot) cos, sin pairs for each token's position */
  uint8_t *xq[3];  /* (B, row bytes) activations quantized, one per vec type */
  int xq_type[3];  /* vec type held in xq[i]; -1 none */
  float *logits;   /* (vocab) of the last token evaluated */
  void *k_cache;   /* (n_layers, kv_dim, n_ctx) of kv_type (transposed) */
  void *v_cache;   /* (n_layers, kv_dim, n_ctx) of kv_type (transposed) */
  float *att;      /* (nthreads, n_ctx) scores */
  uint8_t *attq;   /* (nthreads, n_ctx + head_dim) probabilities, query in kv_type */
  void *xinfo[3];  /* (B, widest n_in / 32) per-block sums of the Q8_0 rows in xq[i] */
  uint8_t *erow;   /* (embedding row bytes) a row fetched by al.read; NULL without it */
};

struct llama_opts {
  int n_ctx;                   /* KV cache positions; 0: min(ctx_train, 4096) */
  int batch;                   /* tokens per prompt batch (<= 512); 0: 64, or
                                  32 when the weights are small (llama.c) */
  int kv_f32;                  /* 1: F32 KV cache; 0: F16 like llama.cpp */
  const struct quant_ops *ops; /* NULL: quant_ops_best() */
  const struct par_ops *par;   /* NULL: par_serial */
  int no_repack;               /* 1: run on the file's layout (no copy) */
  /* Use this model's repacked weights instead of a copy of one's own:
   * built from the same file with the same kernels, it must outlive the
   * new model (llm-local's conversations share one copy). Ignored if it
   * has none or they do not match. */
  const struct llama_model *packed_from;
};

struct llama_model {
  struct llama_config c;
  struct llama_weights w;
  struct llama_state s;
  int n_ctx, batch, kv_type;
  int pos;                     /* tokens in the KV cache */
  const struct quant_ops *ops;
  const struct par_ops *par;
  struct infer_alloc al;
  size_t mem_bytes;            /* allocated through al */
  void *arena;                 /* the state's allocation */
  size_t xq_row;               /* bytes of the widest quantized activation row */
  /* If set, called with intermediate tensors (rows x cols floats) named as
   * in llama.cpp's eval-callback output ("Qcur", "kqv_out", ...), to find
   * where a forward pass diverges. */
  void (*debug)(void *ctx, const char *name, int layer, const float *x,
                int rows, int cols);
  void *debug_ctx;
  char err[128];               /* after a failed build: what was wrong */
  void *packed_mem;            /* the repacked weights (allocated through al) */
  size_t packed_bytes;
  const void *packed_shared;   /* or another model's (llama_opts.packed_from) */
};

/* Reads the model from an open GGUF file (which must outlive the model)
 * and allocates its state. Returns 0; MN_ENOTSUP (architecture other than
 * llama or qwen2, unsupported tensor type, widths beyond 2^20), MN_EFORMAT
 * (missing or misshapen tensor or hyperparameter), MN_EINVAL (bad
 * options) or MN_ENOMEM. On failure m->err says what, and nothing stays
 * allocated. */
int llama_build(struct llama_model *m, const struct gguf_file *f,
                const struct llama_opts *opts, const struct infer_alloc *al);

/* Releases what llama_build allocated. */
void llama_free(struct llama_model *m);

/* Evaluates n tokens at positions pos .. pos + n - 1, appending them to
 * the KV cache, and fills m->s.logits with the last one's logits.
 * Returns 0; MN_EINVAL (n < 1), MN_ERANGE (a token id out of the
 * vocabulary) or MN_ENOSPC (the context is full; nothing evaluated). */
int llama_forward(struct llama_model *m, const int32_t *tokens, int n);

/* Forgets the KV cache (a new conversation). */
void llama_reset(struct llama_model *m);

#endif
