/*
 * par_pthread.c: the hosted build's parallel-for, a pool of pthreads.
 *
 * Between jobs the workers spin on a generation counter for a short while
 * (a token's forward pass issues dozens of jobs a few microseconds apart,
 * and waking a sleeping thread costs more than that), then sleep on a
 * condition variable so an idle process does not burn the CPU.
 * A job is published by bumping `gen`; each worker runs its share and
 * bumps `done`; run() returns when done reaches nthreads - 1.
 *
 * Interface: par_pool_create, par_pool_destroy.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "mneme/err.h"
#include "mneme/par.h"

#define SPINS 200000 /* about a millisecond of pause instructions */

struct pool {
  int n;
  pthread_t *th;
  par_fn fn;                 /* written before gen is bumped */
  void *arg;
  _Atomic unsigned gen;      /* job number */
  _Atomic int done;          /* workers finished with the current job */
  _Atomic int sleepers;      /* workers blocked on cv */
  _Atomic int stop;
  pthread_mutex_t mu;        /* guards the cv wait/broadcast handshake */
  pthread_cond_t cv;
};

struct worker_arg {
  struct pool *p;
  int ith;
};

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Waits until gen moves past `seen`; returns the new value. */
static unsigned
wait_gen(struct pool *p, unsigned seen)
{
  unsigned g;
  for (long i = 0; i < SPINS; i++) {
    if ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) != seen)
      return g;
    cpu_relax();
  }
  pthread_mutex_lock(&p->mu);
  atomic_fetch_add(&p->sleepers, 1);
  while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->stop))
    pthread_cond_wait(&p->cv, &p->mu);
  atomic_fetch_sub(&p->sleepers, 1);
  pthread_mutex_unlock(&p->mu);
  return g;
}

static void *
worker(void *v)
{
  struct worker_arg *wa = v;
  struct pool *p = wa->p;
  int ith = wa->ith;
  unsigned seen = 0;
  free(wa);
  for (;;) {
    seen = wait_gen(p, seen);
    if (atomic_load(&p->stop))
      return NULL;
    p->fn(p->arg, ith, p->n);
    atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
  }
}

static void
wake_all(struct pool *p)
{
  if (atomic_load(&p->sleepers) > 0) {
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
  }
}

static void
pool_run(void *impl, par_fn fn, void *arg)
{
  struct pool *p = impl;
  if (p->n == 1) {
    fn(arg, 0, 1);
    return;
  }
  p->fn = fn;
  p->arg = arg;
  atomic_store_explicit(&p->done, 0, memory_order_relaxed);
  atomic_fetch_add(&p->gen, 1);
  wake_all(p);
  fn(arg, 0, p->n);
  while (atomic_load_explicit(&p->done, memory_order_acquire) != p->n - 1)
    cpu_relax();
}

int
par_pool_create(struct par_ops *ops, int n)
{
  if (n < 1 || n > 256)
    return MN_EINVAL;
  struct pool *p = calloc(1, sizeof *p);
  if (!p)
    return MN_ENOMEM;
  p->n = n;
  p->th = calloc((size_t)n, sizeof *p->th);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  if (!p->th) {
    free(p);
    return MN_ENOMEM;
  }
  for (int i = 1; i < n; i++) {
    struct worker_arg *wa = malloc(sizeof *wa);
    if (wa) {
      wa->p = p;
      wa->ith = i;
    }
    if (!wa || pthread_create(&p->th[i], NULL, worker, wa) != 0) {
      free(wa);
      p->n = i; /* the pool runs with the threads it got */
      break;
    }
  }
  ops->nthreads = p->n;
  ops->run = pool_run;
  ops->impl = p;
  return 0;
}

void
par_pool_destroy(struct par_ops *ops)
{
  struct pool *p = ops->impl;
  if (!p)
    return;
  atomic_store(&p->stop, 1);
  atomic_fetch_add(&p->gen, 1);
  pthread_mutex_lock(&p->mu);
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  for (int i = 1; i < p->n; i++)
    pthread_join(p->th[i], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p->th);
  free(p);
  ops->impl = NULL;
}
