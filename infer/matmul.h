/*
 * matmul.h: matrix times activation rows, rows split across threads.
 * Internal to the inference library (llama.c uses it).
 */
#ifndef MNEME_INFER_MATMUL_H
#define MNEME_INFER_MATMUL_H

#include <stddef.h>
#include <stdint.h>

#include "mneme/llama.h"
#include "mneme/par.h"
#include "mneme/quant.h"

/* out[b * out_stride + r] = w.row(r) . x(b), for r < n_out, b < nx, where
 * x(b) = xq + b * xq_stride is an activation row already in the vec_type
 * of w's type. */
struct mm_job {
  const struct llama_matrix *w;
  const uint8_t *xq;
  size_t xq_stride;
  int nx;
  float *out;
  int out_stride;
  const void *xinfo; /* pack_xinfo / pack_kinfo of the rows (packed weights) */
  size_t xinfo_stride; /* bytes from one row's to the next */
};

/* Runs the jobs (independent of each other) on par, their rows chunked
 * across its threads. */
void mm_run(const struct par_ops *par, const struct quant_ops *ops,
            const struct mm_job *jobs, int njobs);

#endif
