/*
 * kernel_bench.c: kernel core figures on the hosted platform.
 *
 * Prints one line per figure: a request/reply round trip between two
 * tasks through a registry handle (svc_call), a task switch, kchannel
 * throughput, and kmalloc+kfree pairs. The round trip is compared with
 * the bar (200 ns) and aim (100 ns). Each figure is the best of
 * several runs. Times are the process's CPU time, not wall time, so a
 * machine busy with other work does not inflate them (the benchmark is
 * one thread and never sleeps).
 */
#define _GNU_SOURCE
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "mneme/err.h"
#include "mneme/kchannel.h"
#include "mneme/kernel.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/registry.h"
#include "mneme/task.h"

#define ROUNDS 5

static uint64_t
cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct ping { uint64_t v; };
struct pong { uint64_t v; };
struct perr { uint8_t e; };

static const struct uuid PING = UUID_INIT(0x5e1f0000, 0x0001, 0x4000, 0x8000, 0x000000000001ull);

static int
pong_server(void *arg)
{
  struct svc_server *s = arg;
  SVC_MSG_BUF(m, sizeof(struct ping));
  while (svc_recv(s, m, MN_FOREVER) == 0) {
    struct ping p;
    memcpy(&p, m->body, sizeof p);
    svc_reply_ok(s, &m->env, &(struct pong){ p.v + 1 });
  }
  svc_unregister(s);
  return 0;
}

static double
bench_round_trip(long n)
{
  struct svc_type t = SVC_TYPE(struct ping, struct pong, struct perr, struct svc_none);
  struct svc_server *s;
  struct task *st;
  struct svc_client c;
  svc_register(&PING, "ping", &t, 0, SVC_ACCEPT_ALL, 4, &s);
  task_spawn("pong", pong_server, s, 0, &st);
  svc_connect(&PING, &t, 0, 0, 0, &c);
  struct pong r;
  uint64_t t0 = cpu_ns();
  for (long i = 0; i < n; i++)
    if (svc_call(&c, &(struct ping){ (uint64_t)i }, &r, 0, MN_FOREVER) || r.v != (uint64_t)i + 1)
      abort();
  uint64_t dt = cpu_ns() - t0;
  svc_disconnect(&c);
  task_kill(st);
  task_join(st, MN_FOREVER, 0);
  return (double)dt / (double)n;
}

static long switches_left;

static int
switcher(void *arg)
{
  (void)arg;
  while (switches_left-- > 0)
    task_yield();
  return 0;
}

static double
bench_switch(long n)
{
  struct task *a, *b;
  switches_left = n;
  task_spawn("a", switcher, 0, 0, &a);
  task_spawn("b", switcher, 0, 0, &b);
  uint64_t t0 = cpu_ns();
  task_join(a, MN_FOREVER, 0);
  task_join(b, MN_FOREVER, 0);
  return (double)(cpu_ns() - t0) / (double)n;
}

struct chan_arg {
  struct kchannel *ch;
  long n;
};

static int
chan_producer(void *arg)
{
  struct chan_arg *a = arg;
  uint64_t msg[2] = { 0, 0 };
  for (long i = 0; i < a->n; i++) {
    msg[0] = (uint64_t)i;
    kchannel_send(a->ch, msg, MN_FOREVER);
  }
  return 0;
}

static double
bench_kchannel(long n)
{
  struct kchannel ch;
  struct task *t;
  kchannel_init(&ch, 16, 64);
  struct chan_arg a = { &ch, n };
  task_spawn("producer", chan_producer, &a, 0, &t);
  uint64_t msg[2];
  uint64_t t0 = cpu_ns();
  for (long i = 0; i < n; i++)
    if (kchannel_recv(&ch, msg, MN_FOREVER) || msg[0] != (uint64_t)i)
      abort();
  uint64_t dt = cpu_ns() - t0;
  task_join(t, MN_FOREVER, 0);
  kchannel_destroy(&ch);
  return (double)n / ((double)dt / 1e9);
}

static double
bench_alloc(long n)
{
  void *keep[64];
  for (int i = 0; i < 64; i++)
    keep[i] = kmalloc((size_t)(16 + i * 24));
  uint64_t t0 = cpu_ns();
  for (long i = 0; i < n; i++) {
    void *p = kmalloc((size_t)(16 + (i & 255) * 8));
    kfree(p);
  }
  uint64_t dt = cpu_ns() - t0;
  for (int i = 0; i < 64; i++)
    kfree(keep[i]);
  return (double)n / ((double)dt / 1e9);
}

int
main(void)
{
  size_t heap = 8u << 20;
  void *mem = mmap(0, heap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct mem_region r = { (uintptr_t)mem, heap };
  struct boot_info bi = { &r, 1, 0, 0, 0 };
  if (kernel_init(&bi))
    return 1;
  double rt = 1e9, sw = 1e9, ch = 0, al = 0;
  for (int i = 0; i < ROUNDS; i++) {
    double v = bench_round_trip(1000000);
    rt = v < rt ? v : rt;
    v = bench_switch(2000000);
    sw = v < sw ? v : sw;
    v = bench_kchannel(2000000);
    ch = v > ch ? v : ch;
    v = bench_alloc(2000000);
    al = v > al ? v : al;
  }
  printf("registry round trip: %.1f ns (%.2f M round trips/s); bar 200 ns: ratio %.2f; aim 100 ns: ratio %.2f\n",
         rt, 1e3 / rt, rt / 200.0, rt / 100.0);
  printf("task switch: %.1f ns\n", sw);
  printf("kchannel throughput: %.2f M messages/s (16-byte messages, depth 64)\n", ch / 1e6);
  printf("kmalloc+kfree: %.2f M pairs/s\n", al / 1e6);
  return 0;
}
