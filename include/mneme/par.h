/*
 * par.h: the parallel-for the inference library runs its matmuls and
 * attention on. The library creates no threads; each platform supplies
 * one of these (the hosted build: a pthread pool, infer/par_pthread.c;
 * a kernel without threads: par_serial, which runs everything on the
 * calling thread).
 */
#ifndef MNEME_PAR_H
#define MNEME_PAR_H

/* A parallel job, called concurrently by up to nth threads, each with a
 * distinct ith in [0, nth) (for per-thread scratch). A thread that is late
 * may not be called at all, so a job must not split work by ith: each call
 * claims items from a shared atomic counter until none are left. */
typedef void (*par_fn)(void *arg, int ith, int nth);

struct par_ops {
  int nthreads; /* nth passed to jobs (>= 1) */
  /* Calls fn(arg, 0, nthreads) on the caller's thread and fn(arg, i,
   * nthreads) on the workers that are ready, and returns when every call
   * has returned. */
  void (*run)(void *impl, par_fn fn, void *arg);
  void *impl;
};

/* One thread: run() calls fn(arg, 0, 1). */
extern const struct par_ops par_serial;

#if defined(MN_HOSTED)
/* A pool of n - 1 worker threads that spin briefly, then sleep, between
 * jobs. Returns 0, MN_EINVAL (n < 1 or > 256) or MN_ENOMEM. */
int par_pool_create(struct par_ops *ops, int n);
void par_pool_destroy(struct par_ops *ops);
#endif

#endif
