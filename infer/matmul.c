/*
 * matmul.c: matrix times activation rows on a parallel-for.
 *
 * The rows of every job of one call are numbered as one range and handed
 * out in chunks through an atomic counter, so a thread slowed down by the
 * (shared) machine takes fewer chunks. For a batch of activation rows the
 * loop runs weight row outer, activation row inner: each weight row is
 * read from memory once per batch and stays in L1 while it is dotted with
 * every activation row.
 *
 * Interface: mm_run.
 */
#include "matmul.h"

#include <stdatomic.h>

#include "pack.h"

/* Multiply-adds below which a call runs on the caller's thread alone:
 * waking the workers costs a few microseconds, about what this much work
 * takes on one core. */
#define MM_PAR_MIN (128 * 1024)

struct mm_task {
  const struct quant_ops *ops;
  const struct mm_job *jobs;
  int njobs;
  int total;   /* rows of all jobs */
  int chunk;   /* rows per grab */
  _Atomic int next;
};

/* Rows [r0, r1) of a batch of two tokens or more in 2x2 tiles (AArch64
 * I8MM: two weight rows by two tokens per call); an odd last row or token
 * through dot. Each result is dot's bits. */
static void
rows_2x2(const struct quant_ops *ops, const struct mm_job *j, int r0, int r1)
{
  const struct llama_matrix *w = j->w;
  quant_dot2x2_fn mm = ops->dot2x2[w->type];
  quant_dot_fn dot = ops->dot[w->type];
  size_t xs = j->xq_stride, os = (size_t)j->out_stride;
  int r = r0;
  for (; r + 2 <= r1; r += 2) {
    const uint8_t *row = w->data + (size_t)r * w->row_bytes;
    int b = 0;
    for (; b + 2 <= j->nx; b += 2) {
      float o[4];
      mm(w->n_in, row, w->row_bytes, j->xq + b * xs, xs, o);
      float *out = j->out + b * os + r;
      out[0] = o[0], out[os] = o[1], out[1] = o[2], out[os + 1] = o[3];
    }
    for (; b < j->nx; b++)
      for (int k = 0; k < 2; k++)
        j->out[b * os + r + k] = dot(w->n_in, row + k * w->row_bytes, j->xq + b * xs);
  }
  for (; r < r1; r++)
    for (int b = 0; b < j->nx; b++)
      j->out[b * os + r] = dot(w->n_in, w->data + (size_t)r * w->row_bytes, j->xq + b * xs);
}

static void
rows(const struct quant_ops *ops, const struct mm_job *j, int r0, int r1)
{
  const struct llama_matrix *w = j->w;
  quant_dot_fn dot = ops->dot[w->type];
  quant_dot4_fn dot4 = ops->dot4[w->type];
  const uint8_t *row = w->data + (size_t)r0 * w->row_bytes;
  pack_gemm_fn gemm;
  if (w->packed && j->xinfo && r0 % PACK_ROWS == 0 && r1 % PACK_ROWS == 0 &&
      (gemm = pack_gemm_for(ops, w->type))) {
    gemm(w->n_in, w->packed, r0 / PACK_ROWS, (r1 - r0) / PACK_ROWS, j->xq, j->xq_stride,
         j->xinfo, j->xinfo_stride, j->nx, j->out + r0, (size_t)j->out_stride);
    return;
  }
  if (j->nx >= 2 && ops->dot2x2[w->type]) {
    rows_2x2(ops, j, r0, r1);
    return;
  }
  if (j->nx == 1 && ops->dotr[w->type]) { /* one token: no call per row */
    ops->dotr[w->type](w->n_in, row, w->row_bytes, r1 - r0, j->xq, j->out + r0);
    return;
  }
  for (int r = r0; r < r1; r++, row += w->row_bytes) {
    const uint8_t *x = j->xq;
    float *out = j->out + r;
    int b = 0;
    if (dot4)
      for (; b + 4 <= j->nx; b += 4) {
        float o[4];
        dot4(w->n_in, row, x, j->xq_stride, o);
        for (int k = 0; k < 4; k++, x += j->xq_stride, out += j->out_stride)
          *out = o[k];
      }
    for (; b < j->nx; b++, x += j->xq_stride, out += j->out_stride)
      *out = dot(w->n_in, row, x);
  }
}

/* Runs global rows [g0, g1), which may span jobs. */
static void
span(const struct mm_task *t, int g0, int g1)
{
  int base = 0;
  for (int k = 0; k < t->njobs && g0 < g1; k++) {
    int n = t->jobs[k].w->n_out;
    if (g0 < base + n) {
      int end = g1 < base + n ? g1 : base + n;
      rows(t->ops, &t->jobs[k], g0 - base, end - base);
      g0 = end;
    }
    base += n;
  }
}

static void
worker(void *arg, int ith, int nth)
{
  struct mm_task *t = arg;
  for (;;) {
    int g = atomic_fetch_add_explicit(&t->next, t->chunk, memory_order_relaxed);
    if (g >= t->total)
      return;
    span(t, g, g + t->chunk < t->total ? g + t->chunk : t->total);
  }
}

void
mm_run(const struct par_ops *par, const struct quant_ops *ops,
       const struct mm_job *jobs, int njobs)
{
  struct mm_task t = { ops, jobs, njobs, 0, 0, 0 };
  double work = 0;
  for (int k = 0; k < njobs; k++) {
    t.total += jobs[k].w->n_out;
    work += (double)jobs[k].w->n_out * jobs[k].w->n_in * jobs[k].nx;
  }
  if (par->nthreads <= 1 || work < MM_PAR_MIN) {
    span(&t, 0, t.total);
    return;
  }
  /* chunks of whole 2 x 16-row tiles of the packed kernels */
  t.chunk = t.total / (par->nthreads * 8);
  t.chunk = t.chunk < 32 ? 32 : (t.chunk + 31) & ~31;
  par->run(par->impl, worker, &t);
}
