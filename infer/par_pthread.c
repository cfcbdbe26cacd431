/*
 * par_pthread.c: the hosted build's parallel-for, a pool of pthreads.
 *
 * A token's forward pass issues a few dozen jobs, each tens of
 * microseconds long, so the workers spin on a job counter between jobs
 * (and sleep on a condition variable after about a millisecond idle).
 * The machine may be shared: a worker the OS has not scheduled must not
 * hold the caller up. So workers join a job only while it is open: the
 * caller publishes a job, does its share (claiming work items like the
 * workers), closes the job, and then waits only for the workers that had
 * joined. Joining and closing are compare-and-swaps on one word,
 * `state` = job number << 16 | open << 15 | number of workers inside.
 *
 * Interface: par_pool_create, par_pool_destroy.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "mneme/err.h"
#include "mneme/par.h"

#define SPINS 20000        /* polls (with a yield every 64) before sleeping */
#define OPEN (1u << 15)
#define INSIDE 0x7fffu

struct pool {
  int n;
  pthread_t *th;
  par_fn fn;                 /* the open job; written before state opens it */
  void *arg;
  _Atomic uint64_t state;    /* job << 16 | OPEN | workers inside */
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

/* Waits for a job number other than `seen`; returns the state seen. */
static uint64_t
wait_job(struct pool *p, uint64_t seen)
{
  uint64_t s;
  for (long i = 0; i < SPINS; i++) {
    s = atomic_load_explicit(&p->state, memory_order_acquire);
    if ((s >> 16) != seen || atomic_load_explicit(&p->stop, memory_order_relaxed))
      return s;
    cpu_relax();
    if (i % 64 == 63)
      sched_yield(); /* let a thread that has work run (shared machine) */
  }
  pthread_mutex_lock(&p->mu);
  atomic_fetch_add(&p->sleepers, 1);
  while (((s = atomic_load(&p->state)) >> 16) == seen && !atomic_load(&p->stop))
    pthread_cond_wait(&p->cv, &p->mu);
  atomic_fetch_sub(&p->sleepers, 1);
  pthread_mutex_unlock(&p->mu);
  return s;
}

static void *
worker(void *v)
{
  struct worker_arg *wa = v;
  struct pool *p = wa->p;
  int ith = wa->ith;
  uint64_t seen = 0;
  free(wa);
  for (;;) {
    uint64_t s = wait_job(p, seen);
    if (atomic_load(&p->stop))
      return NULL;
    seen = s >> 16;
    /* Join if the job is still open. */
    while ((s >> 16) == seen && (s & OPEN) &&
           !atomic_compare_exchange_weak(&p->state, &s, s + 1))
      ;
    if ((s >> 16) != seen || !(s & OPEN))
      continue;
    p->fn(p->arg, ith, p->n);
    atomic_fetch_sub_explicit(&p->state, 1, memory_order_release);
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
  uint64_t s = atomic_load(&p->state);
  uint64_t job = (s >> 16) + 1;
  atomic_store(&p->state, job << 16 | OPEN);
  if (atomic_load(&p->sleepers) > 0) {
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
  }
  fn(arg, 0, p->n);
  atomic_fetch_and(&p->state, ~(uint64_t)OPEN);
  for (long i = 1; atomic_load_explicit(&p->state, memory_order_acquire) & INSIDE; i++) {
    cpu_relax();
    if (i % 64 == 0)
      sched_yield(); /* a worker inside may be waiting for a CPU */
  }
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
  if (!p->th) {
    free(p);
    return MN_ENOMEM;
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
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
