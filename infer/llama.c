/*
 * llama.c: the llama transformer: hyperparameters and weights from a GGUF
 * file, one arena for activations and KV cache, and the forward pass.
 *
 * Layout follows llama2.c: build_ functions carve the weights out of the
 * mapped file (no copy) and the state out of one allocation; forward()
 * allocates nothing. Arithmetic follows llama.cpp's CPU backend, so that
 * logits can be compared with its reference outputs:
 *  - matmul: activations quantized per row to the weight type's vec type
 *    (matmul.c, quant.c);
 *  - RMSNorm: sum of squares in double, x * (1/sqrt(mean + eps)), times w;
 *  - RoPE: theta_i = pos * base^(-2i/n_rot) by repeated float products;
 *  - attention: K and V cached as F16 (or F32), both transposed (channel
 *    major); the query and the softmax probabilities are rounded to the
 *    cache type before they meet the cache, as in llama.cpp; batched
 *    over the queries sharing a KV head (attn.c);
 *  - SwiGLU: silu(gate) * up with silu(x) = x / (1 + exp(-x)) (act.c).
 *
 * Interface: llama_build, llama_free, llama_forward, llama_reset.
 */
#include "mneme/llama.h"

#include <stdatomic.h>

#include "libc.h"
#include "act.h"
#include "attn.h"
#include "matmul.h"
#include "pack.h"
#include "mneme/err.h"

/* ---------------------------------------------------------------------------
 * errors and names
 */

static void
append(char *dst, size_t cap, const char *s)
{
  size_t n = strlen(dst);
  while (*s && n + 1 < cap)
    dst[n++] = *s++;
  dst[n] = 0;
}

static int
fail(struct llama_model *m, int code, const char *what, const char *name)
{
  m->err[0] = 0;
  append(m->err, sizeof m->err, what);
  if (name) {
    append(m->err, sizeof m->err, ": ");
    append(m->err, sizeof m->err, name);
  }
  return code;
}

/* "blk.<l>.<suffix>" into buf. */
static const char *
blk_name(char *buf, size_t cap, int l, const char *suffix)
{
  char num[12];
  int n = 0;
  do {
    num[n++] = (char)('0' + l % 10);
    l /= 10;
  } while (l);
  buf[0] = 0;
  append(buf, cap, "blk.");
  size_t at = strlen(buf);
  while (n && at + 1 < cap)
    buf[at++] = num[--n];
  buf[at] = 0;
  append(buf, cap, ".");
  append(buf, cap, suffix);
  return buf;
}

/* ---------------------------------------------------------------------------
 * hyperparameters
 */

/* Reads "<arch>.<key>" as u32 or f32; a missing key keeps *out when
 * optional. Returns 0 or MN_EFORMAT. */
static int
hp(struct llama_model *m, const struct gguf_file *f, const char *arch,
   const char *key, void *out, int is_float, int optional)
{
  char full[96] = "";
  append(full, sizeof full, arch);
  append(full, sizeof full, ".");
  append(full, sizeof full, key);
  uint32_t u;
  float x;
  int rc = is_float ? gguf_get_f32(f, full, &x) : gguf_get_u32(f, full, &u);
  if (rc == MN_ENOENT && optional)
    return 0;
  if (rc)
    return fail(m, MN_EFORMAT, "bad or missing hyperparameter", full);
  if (is_float)
    *(float *)out = x;
  else if (u > (1u << 30))
    return fail(m, MN_EFORMAT, "hyperparameter out of range", full);
  else
    *(int *)out = (int)u;
  return 0;
}

static int
build_config(struct llama_model *m, const struct gguf_file *f)
{
  struct llama_config *c = &m->c;
  const char *a;
  size_t alen;
  char arch[32] = "";
  if (gguf_get_str(f, "general.architecture", &a, &alen) || alen >= sizeof arch)
    return fail(m, MN_EFORMAT, "missing general.architecture", NULL);
  memcpy(arch, a, alen);
  arch[alen] = 0;
  int qwen2 = strcmp(arch, "qwen2") == 0;
  if (strcmp(arch, "llama") != 0 && !qwen2)
    return fail(m, MN_ENOTSUP, "unsupported architecture", arch);
  c->rope_base = 10000.f;
  c->norm_eps = 1e-5f;
  c->n_kv_heads = 0;
  c->head_dim = 0;
  c->n_rot = 0;
  c->ctx_train = 2048;
  int rc;
  if ((rc = hp(m, f, arch, "embedding_length", &c->dim, 0, 0)) ||
      (rc = hp(m, f, arch, "feed_forward_length", &c->ffn, 0, 0)) ||
      (rc = hp(m, f, arch, "block_count", &c->n_layers, 0, 0)) ||
      (rc = hp(m, f, arch, "attention.head_count", &c->n_heads, 0, 0)) ||
      (rc = hp(m, f, arch, "attention.head_count_kv", &c->n_kv_heads, 0, 1)) ||
      (rc = hp(m, f, arch, "attention.key_length", &c->head_dim, 0, 1)) ||
      (rc = hp(m, f, arch, "rope.dimension_count", &c->n_rot, 0, 1)) ||
      (rc = hp(m, f, arch, "context_length", &c->ctx_train, 0, 1)) ||
      (rc = hp(m, f, arch, "rope.freq_base", &c->rope_base, 1, 1)) ||
      (rc = hp(m, f, arch, "attention.layer_norm_rms_epsilon", &c->norm_eps, 1, 1)))
    return rc;
  if (!c->n_kv_heads)
    c->n_kv_heads = c->n_heads;
  if ((uint64_t)c->n_layers * 9 > f->n_tensors) /* nine tensors a layer */
    return fail(m, MN_EFORMAT, "block_count exceeds the tensors in the file", NULL);
  if (c->n_heads < 1 || c->dim < 1 || c->ffn < 1 || c->n_layers < 1 ||
      c->n_kv_heads < 1 || c->n_heads % c->n_kv_heads || c->ctx_train < 1)
    return fail(m, MN_EFORMAT, "inconsistent hyperparameters", NULL);
  if (!c->head_dim)
    c->head_dim = c->dim / c->n_heads;
  if (!c->n_rot)
    c->n_rot = c->head_dim;
  if (c->head_dim < 1 || c->head_dim > 512 || c->n_rot > c->head_dim || c->n_rot % 2 ||
      !(c->rope_base > 0.f) || !(c->norm_eps >= 0.f))
    return fail(m, MN_EFORMAT, "inconsistent hyperparameters", NULL);
  /* widths far beyond any model keep every index below 2^31 */
  if (c->dim > (1 << 20) || c->ffn > (1 << 20) || c->n_heads > 4096 ||
      (long long)c->n_heads * c->head_dim > (1 << 20))
    return fail(m, MN_ENOTSUP, "model dimensions too large", NULL);
  c->rope_neox = qwen2; /* llama.cpp's LLAMA_ROPE_TYPE_NEOX for qwen2 */
  c->qkv_bias = qwen2;
  return 0;
}

/* ---------------------------------------------------------------------------
 * weights (carved from the file)
 */

/* Finds a matrix of n_out rows by n_in; n_out < 0 accepts any row count.
 * Returns 0, MN_ENOENT (absent and optional), MN_EFORMAT or MN_ENOTSUP. */
static int
build_matrix(struct llama_model *m, const struct gguf_file *f, const char *name,
             int n_in, int n_out, int optional, struct llama_matrix *out)
{
  struct gguf_tensor t;
  if (gguf_find_tensor(f, name, &t) != 0)
    return optional ? MN_ENOENT : fail(m, MN_EFORMAT, "missing tensor", name);
  if (t.ne[0] != (uint64_t)n_in || (n_out >= 0 && t.ne[1] != (uint64_t)n_out) ||
      t.ne[1] < 1 || t.ne[1] > (1u << 30) || t.ne[2] != 1 || t.ne[3] != 1)
    return fail(m, MN_EFORMAT, "tensor has the wrong shape", name);
  const struct quant_traits *tr = quant_traits((int)t.type);
  size_t rb = quant_row_size((int)t.type, n_in);
  if (!tr || tr->vec_type < 0 || !rb)
    return fail(m, MN_ENOTSUP, "unsupported tensor type", name);
  if (t.nbytes < rb * t.ne[1] || ((uintptr_t)t.data & 3))
    return fail(m, MN_EFORMAT, "tensor data too short or misaligned", name);
  out->data = t.data;
  out->type = (int)t.type;
  out->n_in = n_in;
  out->n_out = (int)t.ne[1];
  out->row_bytes = rb;
  return 0;
}

static int
build_vector(struct llama_model *m, const struct gguf_file *f, const char *name,
             int n, const float **out)
{
  struct gguf_tensor t;
  if (gguf_find_tensor(f, name, &t) != 0)
    return fail(m, MN_EFORMAT, "missing tensor", name);
  if (t.type != GGML_TYPE_F32 || gguf_tensor_nelem(&t) != (uint64_t)n ||
      t.ne[0] != (uint64_t)n || ((uintptr_t)t.data & 3))
    return fail(m, MN_EFORMAT, "norm vector is not F32 of the model width", name);
  *out = (const float *)(const void *)t.data;
  return 0;
}

/* An optional F32 bias vector of n: *out stays NULL when absent. */
static int
build_bias(struct llama_model *m, const struct gguf_file *f, const char *name,
           int n, const float **out)
{
  struct gguf_tensor t;
  *out = NULL;
  if (gguf_find_tensor(f, name, &t) != 0)
    return 0;
  return build_vector(m, f, name, n, out);
}

static int
build_layer(struct llama_model *m, const struct gguf_file *f, int l,
            struct llama_layer *L)
{
  const struct llama_config *c = &m->c;
  int qd = c->n_heads * c->head_dim, kvd = c->n_kv_heads * c->head_dim;
  char nm[64];
  int rc;
  if ((rc = build_vector(m, f, blk_name(nm, sizeof nm, l, "attn_norm.weight"), c->dim, &L->attn_norm)) ||
      (rc = build_matrix(m, f, blk_name(nm, sizeof nm, l, "attn_q.weight"), c->dim, qd, 0, &L->wq)) ||
      (rc = build_matrix(m, f, blk_name(nm, sizeof nm, l, "attn_k.weight"), c->dim, kvd, 0, &L->wk)) ||
      (rc = build_matrix(m, f, blk_name(nm, sizeof nm, l, "attn_v.weight"), c->dim, kvd, 0, &L->wv)) ||
      (rc = build_matrix(m, f, blk_name(nm, sizeof nm, l, "attn_output.weight"), qd, c->dim, 0, &L->wo)) ||
      (rc = build_vector(m, f, blk_name(nm, sizeof nm, l, "ffn_norm.weight"), c->dim, &L->ffn_norm)) ||
      (rc = build_matrix(m, f, blk_name(nm, sizeof nm, l, "ffn_gate.weight"), c->dim, c->ffn, 0, &L->gate)) ||
      (rc = build_matrix(m, f, blk_name(nm, sizeof nm, l, "ffn_up.weight"), c->dim, c->ffn, 0, &L->up)) ||
      (rc = build_matrix(m, f, blk_name(nm, sizeof nm, l, "ffn_down.weight"), c->ffn, c->dim, 0, &L->down)) ||
      (rc = build_bias(m, f, blk_name(nm, sizeof nm, l, "attn_q.bias"), qd, &L->bq)) ||
      (rc = build_bias(m, f, blk_name(nm, sizeof nm, l, "attn_k.bias"), kvd, &L->bk)) ||
      (rc = build_bias(m, f, blk_name(nm, sizeof nm, l, "attn_v.bias"), kvd, &L->bv)))
    return rc;
  if (c->qkv_bias && !(L->bq && L->bk && L->bv))
    return fail(m, MN_EFORMAT, "missing attention bias", blk_name(nm, sizeof nm, l, "attn_*.bias"));
  return 0;
}

static int
build_weights(struct llama_model *m, const struct gguf_file *f)
{
  struct llama_weights *w = &m->w;
  int rc = build_matrix(m, f, "token_embd.weight", m->c.dim, -1, 0, &w->embd);
  if (rc)
    return rc;
  m->c.vocab = w->embd.n_out;
  if (m->c.vocab > (1 << 24))
    return fail(m, MN_ENOTSUP, "vocabulary too large", NULL);
  if ((rc = build_vector(m, f, "output_norm.weight", m->c.dim, &w->out_norm)))
    return rc;
  rc = build_matrix(m, f, "output.weight", m->c.dim, m->c.vocab, 1, &w->output);
  if (rc == MN_ENOENT)
    w->output = w->embd; /* tied */
  else if (rc)
    return rc;
  for (int l = 0; l < m->c.n_layers; l++)
    if ((rc = build_layer(m, f, l, &w->layers[l])))
      return rc;
  return 0;
}

/* ---------------------------------------------------------------------------
 * state (one arena)
 */

struct carve {
  uint8_t *base; /* NULL while measuring */
  size_t off;
};

static void *
take(struct carve *a, size_t n)
{
  void *p = a->base ? a->base + a->off : NULL;
  a->off += (n + 63) & ~(size_t)63;
  return p;
}

/* Lays the arena out (measuring when a->base is NULL). */
static void
layout(struct llama_model *m, struct carve *a)
{
  const struct llama_config *c = &m->c;
  struct llama_state *s = &m->s;
  size_t B = (size_t)m->batch, es = m->kv_type == QUANT_F16 ? 2 : 4;
  size_t qd = (size_t)c->n_heads * c->head_dim, kvd = (size_t)c->n_kv_heads * c->head_dim;
  size_t wide = qd > (size_t)c->dim ? qd : (size_t)c->dim;
  size_t xq_row = m->xq_row;
  size_t nth = (size_t)m->par->nthreads, ctx = (size_t)m->n_ctx;
  s->x = take(a, B * c->dim * 4);
  s->xb = take(a, B * wide * 4);
  s->q = take(a, B * qd * 4);
  s->k = take(a, B * kvd * 4);
  s->v = take(a, B * kvd * 4);
  s->hb = take(a, B * c->ffn * 4);
  s->hb2 = take(a, B * c->ffn * 4);
  s->tmp = take(a, B * c->dim * 4);
  s->rope = take(a, B * c->n_rot * 4);
  for (int i = 0; i < 3; i++)
    s->xq[i] = take(a, B * xq_row);
  for (int i = 0; i < 3; i++)
    s->xinfo[i] = (m->packed_mem || m->packed_shared) ? take(a, B * (wide > (size_t)c->ffn ? wide : (size_t)c->ffn) / 32 *
                                             sizeof(struct pack_xinfo)) : NULL;
  s->logits = take(a, (size_t)c->vocab * 4);
  s->k_cache = take(a, (size_t)c->n_layers * ctx * kvd * es);
  s->v_cache = take(a, (size_t)c->n_layers * ctx * kvd * es);
  s->att = take(a, nth * attn_scores_bytes(m));
  s->attq = take(a, nth * attn_probs_bytes(m));
  s->erow = m->al.read ? take(a, m->w.embd.row_bytes) : NULL;
}

/* Bytes of the widest activation row any matmul quantizes. */
static size_t
widest_activation_row(const struct llama_model *m)
{
  size_t best = quant_row_size(quant_traits(m->w.output.type)->vec_type, m->c.dim);
  for (int l = 0; l < m->c.n_layers; l++) {
    const struct llama_layer *L = &m->w.layers[l];
    const struct llama_matrix *all[7] = { &L->wq, &L->wk, &L->wv, &L->wo,
                                          &L->gate, &L->up, &L->down };
    for (int k = 0; k < 7; k++) {
      size_t r = quant_row_size(quant_traits(all[k]->type)->vec_type, all[k]->n_in);
      best = r > best ? r : best;
    }
  }
  return best;
}

/* Repacks w into dst a slice at a time, handing each slice of the file's
 * rows to the release hook as soon as it is copied: the file's pages and
 * their copy are never both resident for more than a slice. */
static void
pack_released(struct llama_model *m, const struct llama_matrix *w, uint8_t *dst)
{
  const int slice = 64; /* groups: 1024 rows */
  int ng = w->n_out / PACK_ROWS;
  for (int g = 0; g < ng; g += slice) {
    int g1 = g + slice < ng ? g + slice : ng;
    pack_matrix(m->par, w->type, w->data, w->row_bytes, w->n_in, g, g1, dst);
    if (m->al.release)
      m->al.release(m->al.ctx, w->data + (size_t)g * PACK_ROWS * w->row_bytes,
                    (size_t)(g1 - g) * PACK_ROWS * w->row_bytes);
  }
}

/* Repacks every matrix the variant has a packed kernel for into one
 * allocation (infer/pack.h). Without the memory the model simply runs on
 * the file's layout. With share (a model of the same file and kernels),
 * points at its packed weights instead: the layout is the same. */
static void
repack(struct llama_model *m, const struct llama_model *share)
{
  uint8_t *base = NULL;
  size_t total = 0;
  for (int pass = 0; pass < 2; pass++) {
    size_t off = 0;
    for (int l = 0; l <= m->c.n_layers; l++) {
      struct llama_matrix *ms[8];
      int n = 0;
      if (l < m->c.n_layers) {
        struct llama_layer *L = &m->w.layers[l];
        struct llama_matrix *t[7] = { &L->wq, &L->wk, &L->wv, &L->wo, &L->gate, &L->up, &L->down };
        for (int k = 0; k < 7; k++)
          ms[n++] = t[k];
      } else if (m->w.output.data != m->w.embd.data) {
        ms[n++] = &m->w.output;
      }
      for (int k = 0; k < n; k++) {
        struct llama_matrix *w = ms[k];
        if (!pack_gemm_for(m->ops, w->type) || !pack_supported(w->type, w->n_out, w->n_in))
          continue;
        size_t sz = pack_size(w->type, w->n_out, w->n_in);
        if (pass == 1) {
          uint8_t *dst = base + off;
          if (!share)
            pack_released(m, w, dst);
          w->packed = dst;
        }
        off += (sz + 63) & ~(size_t)63;
      }
    }
    total = off;
    if (pass == 0 && share) {
      if (!total || !share->packed_mem || share->packed_bytes != total || share->ops != m->ops)
        return;
      m->packed_shared = base = share->packed_mem;
    } else if (pass == 0) {
      if (!total || !(m->packed_mem = m->al.alloc(m->al.ctx, total)))
        return;
      m->packed_bytes = total;
      base = m->packed_mem;
    }
  }
}

/* Bytes of the matrices a forward pass reads. */
static size_t
weight_bytes(const struct llama_model *m)
{
  size_t n = (size_t)m->w.output.n_out * m->w.output.row_bytes;
  for (int l = 0; l < m->c.n_layers; l++) {
    const struct llama_layer *L = &m->w.layers[l];
    const struct llama_matrix *all[7] = { &L->wq, &L->wk, &L->wv, &L->wo,
                                          &L->gate, &L->up, &L->down };
    for (int k = 0; k < 7; k++)
      n += (size_t)all[k]->n_out * all[k]->row_bytes;
  }
  return n;
}

/* The prompt batch when the caller leaves it to us: 64 tokens when their
 * state is at most 1/32 of the weights, else 32. A batch reads each
 * weight row once for all its tokens; on a 1.1B-shaped model 64 tokens
 * were 10-20% faster than 32 per CPU second (one thread; and half the
 * jobs per token to wake the workers for), 128 no better than 64. On the
 * d256 models, whose weights mostly fit in the caches, 64 gained about 4%
 * for 0.4 MiB more state, against a peak memory limit of the file plus
 * the KV cache plus 10%. */
static int
default_batch(struct llama_model *m)
{
  struct carve a32 = { NULL, 0 }, a64 = { NULL, 0 };
  m->batch = 32;
  layout(m, &a32);
  m->batch = 64;
  layout(m, &a64);
  size_t per32 = a64.off - a32.off; /* the state of 32 more tokens */
  return 2 * per32 <= weight_bytes(m) / 32 ? 64 : 32;
}

int
llama_build(struct llama_model *m, const struct gguf_file *f,
            const struct llama_opts *opts, const struct infer_alloc *al)
{
  static const struct llama_opts defaults;
  const struct llama_opts *o = opts ? opts : &defaults;
  memset(m, 0, sizeof *m);
  m->al = *al;
  m->ops = o->ops ? o->ops : quant_ops_best();
  m->par = o->par ? o->par : &par_serial;
  m->kv_type = o->kv_f32 ? QUANT_F32 : QUANT_F16;
  m->batch = o->batch > 0 ? o->batch : 32; /* 0: default_batch() below */
  if (o->n_ctx < 0 || o->batch < 0 || m->batch > 512 || m->par->nthreads < 1)
    return fail(m, MN_EINVAL, "bad options", NULL);
  int rc = build_config(m, f);
  if (rc)
    return rc;
  m->n_ctx = o->n_ctx ? o->n_ctx : (m->c.ctx_train < 4096 ? m->c.ctx_train : 4096);
  if (m->n_ctx > (1 << 20))
    return fail(m, MN_EINVAL, "context too long", NULL);
  size_t lbytes = sizeof(struct llama_layer) * (size_t)m->c.n_layers;
  if (!(m->w.layers = m->al.alloc(m->al.ctx, lbytes)))
    return fail(m, MN_ENOMEM, "out of memory for the layer table", NULL);
  if ((rc = build_weights(m, f))) {
    m->al.free(m->al.ctx, m->w.layers, lbytes);
    m->w.layers = NULL;
    return rc;
  }
  if (!o->no_repack)
    repack(m, o->packed_from);
  m->xq_row = widest_activation_row(m);
  if (!o->batch)
    m->batch = default_batch(m);
  struct carve a = { NULL, 0 };
  layout(m, &a);
  m->mem_bytes = a.off + lbytes;
  if (!(m->arena = m->al.alloc(m->al.ctx, a.off))) {
    if (m->packed_mem)
      m->al.free(m->al.ctx, m->packed_mem, m->packed_bytes);
    m->packed_mem = NULL;
    m->al.free(m->al.ctx, m->w.layers, lbytes);
    m->w.layers = NULL;
    return fail(m, MN_ENOMEM, "out of memory for the model state", NULL);
  }
  /* touched now, at load (llama.cpp clears its buffers too): otherwise
   * the first prompt pays a page fault for every page of state */
  memset(m->arena, 0, a.off);
  a.base = m->arena;
  a.off = 0;
  layout(m, &a);
  /* rows are read through al.read: the embedding's pages can go, unless
   * the output matmul reads them (tied, not repacked) */
  const struct llama_matrix *e = &m->w.embd;
  if (m->al.read && m->al.release && (m->w.output.data != e->data || m->w.output.packed))
    m->al.release(m->al.ctx, e->data, (size_t)e->n_out * e->row_bytes);
  llama_reset(m);
  return 0;
}

void
llama_free(struct llama_model *m)
{
  size_t lbytes = sizeof(struct llama_layer) * (size_t)m->c.n_layers;
  if (m->arena)
    m->al.free(m->al.ctx, m->arena, m->mem_bytes - lbytes);
  if (m->packed_mem)
    m->al.free(m->al.ctx, m->packed_mem, m->packed_bytes);
  m->packed_mem = NULL;
  if (m->w.layers)
    m->al.free(m->al.ctx, m->w.layers, lbytes);
  m->arena = NULL;
  m->w.layers = NULL;
}

void
llama_reset(struct llama_model *m)
{
  m->pos = 0;
}

/* ---------------------------------------------------------------------------
 * forward pass: matmuls (the activation rows quantized once per vec type)
 */

/* What one matmul call quantizes: its weights' distinct vec types, each
 * held in a slot of s->xq (and s->xinfo, per-block sums for the packed
 * kernels); the rows are n_in wide. */
struct xq_plan {
  const struct llama_matrix *const *w;
  int nw, n_in, nslots;
  int vt[3];      /* vec type of each slot */
  size_t rs[3];   /* bytes of a quantized row in each slot */
  int slot[3];    /* slot of each weight */
};

static void
plan_matmuls(struct llama_model *m, struct xq_plan *p, int n_in,
             const struct llama_matrix *const *w, int nw)
{
  p->w = w;
  p->nw = nw;
  p->n_in = n_in;
  p->nslots = 0;
  for (int k = 0; k < nw; k++) {
    int vt = quant_traits(w[k]->type)->vec_type, slot = 0;
    while (slot < p->nslots && p->vt[slot] != vt)
      slot++;
    if (slot == p->nslots) {
      p->vt[slot] = vt;
      p->rs[slot] = quant_row_size(vt, n_in);
      m->s.xq_type[p->nslots++] = vt;
    }
    p->slot[k] = slot;
  }
}

static size_t
xinfo_stride(int n_in)
{
  return (size_t)(n_in / 32) * sizeof(struct pack_xinfo);
}

/* Quantizes activation row b, x, into every slot of the plan. */
static void
quant_row(struct llama_model *m, const struct xq_plan *p, const float *x, int b)
{
  struct llama_state *s = &m->s;
  for (int k = 0; k < p->nslots; k++) {
    uint8_t *xq = s->xq[k] + b * p->rs[k];
    m->ops->quantize[p->vt[k]](x, xq, p->n_in);
    if (!s->xinfo[k])
      continue;
    void *xi = (uint8_t *)s->xinfo[k] + b * xinfo_stride(p->n_in);
    if (p->vt[k] == QUANT_Q8_0)
      pack_xinfo_row(xq, p->n_in, xi);
    else if (p->vt[k] == QUANT_Q8_K)
      pack_kinfo_row(xq, p->n_in, xi);
  }
}

/* Runs the plan's matmuls on its nx quantized rows, weight k into out[k]. */
static void
run_matmuls(struct llama_model *m, const struct xq_plan *p, int nx, float *const *out)
{
  struct llama_state *s = &m->s;
  struct mm_job jobs[3];
  for (int k = 0; k < p->nw; k++) {
    int slot = p->slot[k];
    jobs[k] = (struct mm_job){ p->w[k], s->xq[slot], p->rs[slot], nx, out[k], p->w[k]->n_out,
                               s->xinfo[slot], xinfo_stride(p->n_in) };
  }
  mm_run(m->par, m->ops, jobs, p->nw);
}

/* ---------------------------------------------------------------------------
 * the per-token row work, on the thread pool
 *
 * Between the matmuls and the attention, each token's row goes through
 * steps that read no other row: the residual add, RMSNorm, the bias, RoPE,
 * the KV cache store, SwiGLU, and the quantization of the next matmul's
 * input. They run as parallel jobs over the batch's rows, with as many
 * steps fused into one job as the data flow allows, since every job costs
 * waking the workers and waiting for all of them: a layer has five such
 * jobs (see layer()) besides its four matmul calls and its attention. A
 * row goes through the same code whatever thread runs it, so the results
 * do not depend on the number of threads.
 */

enum {
  ROW_ADD = 1,     /* x += add (the residual stream) */
  ROW_NORM = 2,    /* xb = rmsnorm(x) * norm */
  ROW_BIAS = 4,    /* qkv_worker: q, k, v += the layer's biases (if any) */
  ROW_ROPE = 8,    /* qkv_worker: q, k rotated; k, v stored in the cache */
  ROW_SWIGLU = 16, /* hb = silu(hb) * hb2 */
  ROW_QUANT = 32,  /* qsrc quantized for the plan's matmuls */
};

/* Rows (tokens) of a batch below which a job runs on the caller alone,
 * as floats touched: waking the workers costs a few microseconds. */
#define ROW_PAR_MIN 4096

struct row_task {
  struct llama_model *m;
  int l, B, steps, chunk;
  const float *add;            /* ROW_ADD: (B, dim) */
  const float *norm;           /* ROW_NORM: (dim) weights */
  const float *qsrc;           /* ROW_QUANT: (B, plan->n_in) */
  const struct xq_plan *plan;
  _Atomic int next;            /* first row not yet claimed */
};

static void
rmsnorm(float *o, const float *x, const float *w, int n, float eps)
{
  double ss = 0;
  for (int i = 0; i < n; i++)
    ss += (double)(x[i] * x[i]);
  float mean = (float)(ss / n);
  float scale = 1.f / sqrtf(mean + eps);
  for (int i = 0; i < n; i++)
    o[i] = (x[i] * scale) * w[i];
}

/* cos/sin of each rotated pair for the B positions pos, pos + 1, ... */
static void
rope_tables(struct llama_model *m, int B)
{
  const struct llama_config *c = &m->c;
  float step = powf(c->rope_base, -2.f / (float)c->n_rot);
  for (int b = 0; b < B; b++) {
    float theta = (float)(m->pos + b), *cs = m->s.rope + (size_t)b * c->n_rot;
    for (int i = 0; i < c->n_rot / 2; i++) {
      cs[2 * i] = cosf(theta);
      cs[2 * i + 1] = sinf(theta);
      theta *= step;
    }
  }
}

/* Rotates n_heads heads of head_dim at v by the table cs. */
static void
rope(const struct llama_config *c, float *v, int n_heads, const float *cs)
{
  int half = c->n_rot / 2;
  for (int h = 0; h < n_heads; h++, v += c->head_dim)
    for (int i = 0; i < half; i++) {
      int i0 = c->rope_neox ? i : 2 * i, i1 = c->rope_neox ? i + half : 2 * i + 1;
      float x0 = v[i0], x1 = v[i1], co = cs[2 * i], si = cs[2 * i + 1];
      v[i0] = x0 * co - x1 * si;
      v[i1] = x0 * si + x1 * co;
    }
}

static void
add_row(float *x, const float *y, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] += y[i];
}

/* Stores n values of one token's k or v (src: channels ch0, ch0 + 1, ...)
 * at position pos + b of a layer's cache (channel major). */
static void
store_kv(struct llama_model *m, uint8_t *cache, const float *src, size_t ch0, int n, int b)
{
  size_t ctx = (size_t)m->n_ctx, p = (size_t)(m->pos + b);
  if (m->kv_type == QUANT_F16) /* rounded by the variant's F16 row kernel */
    for (int c0 = 0; c0 < n; c0 += 256) {
      uint16_t h[256];
      int w = n - c0 < 256 ? n - c0 : 256;
      m->ops->quantize[QUANT_F16](src + c0, h, w);
      for (int ch = 0; ch < w; ch++)
        ((uint16_t *)cache)[(ch0 + c0 + ch) * ctx + p] = h[ch];
    }
  else
    for (int ch = 0; ch < n; ch++)
      ((float *)cache)[(ch0 + ch) * ctx + p] = src[ch];
}

/* KV head h over the batch's rows: its k and v biases (ROW_BIAS); k
 * rotated, then both stored in the layer's caches (ROW_ROPE). The caches
 * are channel major, so a token's values land in head_dim cache lines
 * shared with its neighbour positions: split by rows, two threads would
 * fight over every line (that was 12% of a 2-thread d256 prompt); split
 * by heads, each line has one writer. */
static void
kv_head(const struct row_task *t, int h)
{
  struct llama_model *m = t->m;
  const struct llama_config *c = &m->c;
  struct llama_state *s = &m->s;
  const struct llama_layer *L = &m->w.layers[t->l];
  int hd = c->head_dim;
  size_t kvd = (size_t)c->n_kv_heads * hd, ctx = (size_t)m->n_ctx, ch0 = (size_t)h * hd;
  size_t es = m->kv_type == QUANT_F16 ? 2 : 4;
  uint8_t *kc = (uint8_t *)s->k_cache + (size_t)t->l * ctx * kvd * es;
  uint8_t *vc = (uint8_t *)s->v_cache + (size_t)t->l * ctx * kvd * es;
  for (int b = 0; b < t->B; b++) {
    float *k = s->k + b * kvd + ch0, *v = s->v + b * kvd + ch0;
    if (t->steps & ROW_BIAS) {
      if (L->bk)
        add_row(k, L->bk + ch0, (size_t)hd);
      if (L->bv)
        add_row(v, L->bv + ch0, (size_t)hd);
    }
    if (t->steps & ROW_ROPE) {
      rope(c, k, 1, s->rope + (size_t)b * c->n_rot);
      store_kv(m, kc, k, ch0, hd, b);
      store_kv(m, vc, v, ch0, hd, b);
    }
  }
}

/* Row b of q: its bias (ROW_BIAS), RoPE (ROW_ROPE). */
static void
q_row(const struct row_task *t, int b)
{
  const struct llama_config *c = &t->m->c;
  const struct llama_layer *L = &t->m->w.layers[t->l];
  size_t qd = (size_t)c->n_heads * c->head_dim;
  float *q = t->m->s.q + b * qd;
  if ((t->steps & ROW_BIAS) && L->bq)
    add_row(q, L->bq, qd);
  if (t->steps & ROW_ROPE)
    rope(c, q, c->n_heads, t->m->s.rope + (size_t)b * c->n_rot);
}

/* The Q, K, V job: items 0 .. n_kv_heads - 1 are the KV heads (kv_head),
 * then runs of chunk rows of q (q_row). */
static void
qkv_worker(void *arg, int ith, int nth)
{
  struct row_task *t = arg;
  int nkv = t->m->c.n_kv_heads, items = nkv + (t->B + t->chunk - 1) / t->chunk, i;
  (void)ith, (void)nth;
  while ((i = atomic_fetch_add_explicit(&t->next, 1, memory_order_relaxed)) < items)
    if (i < nkv)
      kv_head(t, i);
    else
      for (int b = (i - nkv) * t->chunk; b < (i - nkv + 1) * t->chunk && b < t->B; b++)
        q_row(t, b);
}

/* The task's steps for row b, in data-flow order. */
static void
row_steps(const struct row_task *t, int b)
{
  struct llama_model *m = t->m;
  const struct llama_config *c = &m->c;
  struct llama_state *s = &m->s;
  size_t dim = (size_t)c->dim, ffn = (size_t)c->ffn;
  if (t->steps & ROW_ADD)
    add_row(s->x + b * dim, t->add + b * dim, dim);
  if (t->steps & ROW_NORM)
    rmsnorm(s->xb + b * dim, s->x + b * dim, t->norm, c->dim, c->norm_eps);
  if (t->steps & ROW_SWIGLU)
    act_swiglu_for(m->ops)(s->hb + b * ffn, s->hb2 + b * ffn, ffn);
  if (t->steps & ROW_QUANT)
    quant_row(m, t->plan, t->qsrc + (size_t)b * t->plan->n_in, b);
}

static void
row_worker(void *arg, int ith, int nth)
{
  struct row_task *t = arg;
  int b0;
  (void)ith, (void)nth;
  while ((b0 = atomic_fetch_add_explicit(&t->next, t->chunk, memory_order_relaxed)) < t->B)
    for (int b = b0; b < b0 + t->chunk && b < t->B; b++)
      row_steps(t, b);
}

/* Runs the job fn (row_worker or qkv_worker) of t, on the pool when the
 * batch is big enough. */
static void
run_rows(struct row_task *t, par_fn fn)
{
  struct llama_model *m = t->m;
  int nth = m->par->nthreads;
  int serial = nth <= 1 || t->B < 2 || (long)t->B * m->c.dim < ROW_PAR_MIN;
  /* runs of consecutive rows, about two per thread: few claims, and the
   * quantized rows of two runs share at most a cache line */
  t->chunk = serial ? t->B : (t->B + 2 * nth - 1) / (2 * nth);
  atomic_store_explicit(&t->next, 0, memory_order_relaxed);
  if (serial)
    fn(t, 0, 1);
  else
    m->par->run(m->par->impl, fn, t);
}

/* Quantizes the nx rows of x (n_in wide) for w, then runs the matmuls:
 * for the output matrix, one row. */
static void
matmul1(struct llama_model *m, const float *x, int nx, const struct llama_matrix *w,
        float *out)
{
  struct xq_plan p;
  plan_matmuls(m, &p, w->n_in, &w, 1);
  for (int b = 0; b < nx; b++)
    quant_row(m, &p, x + (size_t)b * w->n_in, b);
  run_matmuls(m, &p, nx, &out);
}

static void
dbg(struct llama_model *m, const char *name, int l, const float *x, int rows, int cols)
{
  if (m->debug)
    m->debug(m->debug_ctx, name, l, x, rows, cols);
}

/* One layer over the batch's B tokens. The residual add of the previous
 * layer's FFN output (in s->tmp) is fused into this layer's first row job
 * unless l is 0; the last layer does its own. With a debug hook, steps
 * whose intermediate results it shows run as jobs of their own. */
static void
layer(struct llama_model *m, int l, int B)
{
  const struct llama_config *c = &m->c;
  struct llama_state *s = &m->s;
  const struct llama_layer *L = &m->w.layers[l];
  int dim = c->dim, qd = c->n_heads * c->head_dim, kvd = c->n_kv_heads * c->head_dim;
  int fuse = !m->debug;
  struct xq_plan p;
  struct row_task t = { .m = m, .l = l, .B = B };

  /* attention: [residual +] norm + quantize; Q, K, V; bias + RoPE + KV
   * store; attention; quantize; output matrix */
  const struct llama_matrix *qkv[3] = { &L->wq, &L->wk, &L->wv };
  float *qkv_out[3] = { s->q, s->k, s->v };
  plan_matmuls(m, &p, dim, qkv, 3);
  t.steps = (l > 0 && fuse ? ROW_ADD : 0) | ROW_NORM | ROW_QUANT;
  t.add = s->tmp, t.norm = L->attn_norm, t.qsrc = s->xb, t.plan = &p;
  run_rows(&t, row_worker);
  dbg(m, "attn_norm", l, s->xb, B, dim);
  run_matmuls(m, &p, B, qkv_out);
  t.steps = fuse ? ROW_BIAS | ROW_ROPE : ROW_BIAS;
  run_rows(&t, qkv_worker);
  dbg(m, "Qcur", l, s->q, B, qd);
  dbg(m, "Kcur", l, s->k, B, kvd);
  dbg(m, "Vcur", l, s->v, B, kvd);
  if (!fuse) {
    t.steps = ROW_ROPE;
    run_rows(&t, qkv_worker);
  }
  attn_layer(m, l, B);
  dbg(m, "kqv_merged_cont", l, s->xb, B, qd);
  const struct llama_matrix *wo = &L->wo;
  plan_matmuls(m, &p, qd, &wo, 1);
  t.steps = ROW_QUANT, t.qsrc = s->xb;
  run_rows(&t, row_worker);
  run_matmuls(m, &p, B, &s->tmp);
  dbg(m, "kqv_out", l, s->tmp, B, dim);

  /* feed-forward: residual + norm + quantize; gate and up; SwiGLU +
   * quantize; down (its residual add is the next layer's) */
  const struct llama_matrix *gu[2] = { &L->gate, &L->up };
  float *gu_out[2] = { s->hb, s->hb2 };
  plan_matmuls(m, &p, dim, gu, 2);
  t.steps = ROW_ADD | ROW_NORM | ROW_QUANT;
  t.add = s->tmp, t.norm = L->ffn_norm, t.qsrc = s->xb;
  run_rows(&t, row_worker);
  dbg(m, "ffn_inp", l, s->x, B, dim);
  run_matmuls(m, &p, B, gu_out);
  dbg(m, "ffn_gate", l, s->hb, B, c->ffn);
  dbg(m, "ffn_up", l, s->hb2, B, c->ffn);
  const struct llama_matrix *down = &L->down;
  plan_matmuls(m, &p, c->ffn, &down, 1);
  t.steps = ROW_SWIGLU | ROW_QUANT, t.qsrc = s->hb;
  run_rows(&t, row_worker);
  run_matmuls(m, &p, B, &s->tmp);
  dbg(m, "ffn_out", l, s->tmp, B, dim);
  if (!fuse || l == c->n_layers - 1) {
    t.steps = ROW_ADD, t.add = s->tmp;
    run_rows(&t, row_worker);
    dbg(m, "l_out", l, s->x, B, dim);
  }
}

static void
forward_batch(struct llama_model *m, const int32_t *tok, int B, int want_logits)
{
  const struct llama_config *c = &m->c;
  struct llama_state *s = &m->s;
  const struct llama_matrix *e = &m->w.embd;
  for (int b = 0; b < B; b++) {
    const uint8_t *row = e->data + (size_t)tok[b] * e->row_bytes;
    if (s->erow && m->al.read(m->al.ctx, row, s->erow, e->row_bytes) == 0)
      row = s->erow;
    quant_dequantize_row(e->type, row, s->x + (size_t)b * c->dim, c->dim);
  }
  rope_tables(m, B);
  for (int l = 0; l < c->n_layers; l++)
    layer(m, l, B);
  m->pos += B;
  if (want_logits) {
    rmsnorm(s->xb, s->x + (size_t)(B - 1) * c->dim, m->w.out_norm, c->dim, c->norm_eps);
    matmul1(m, s->xb, 1, &m->w.output, s->logits);
  }
}

int
llama_forward(struct llama_model *m, const int32_t *tokens, int n)
{
  if (n < 1)
    return MN_EINVAL;
  if (n > m->n_ctx - m->pos)
    return MN_ENOSPC;
  for (int i = 0; i < n; i++)
    if (tokens[i] < 0 || tokens[i] >= m->c.vocab)
      return MN_ERANGE;
  for (int done = 0; done < n;) {
    int B = n - done < m->batch ? n - done : m->batch;
    forward_batch(m, tokens + done, B, done + B == n);
    done += B;
  }
  return 0;
}
