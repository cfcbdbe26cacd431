/*
 * heap_bench.c: alloc+free pairs per second of the TLSF heap against
 * glibc malloc/free, measured in the same run with the same size sequence.
 *
 * Two patterns, each run for both allocators:
 *   immediate: allocate one block and free it at once (the allocator's
 *              fast path: LIFO reuse of the same block);
 *   window:    1024 live blocks; each step frees a random one and
 *              allocates a new one in its place (fragmenting, mixed sizes).
 * Sizes: 70% 16..256 bytes, 25% 256..4096, 5% 4096..65536.
 * The two allocators alternate for ROUNDS rounds of OPS pairs and the best
 * round of each counts (the machine is shared; the best round is the
 * least disturbed). Prints one line per figure and one ratio line per
 * pattern (tlsf/glibc, above 1 means the heap is faster).
 * HEAP_BENCH_ONLY=1 runs the first pattern alone (for profiling).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mneme/heap.h"

#define NSIZES 4096
#define WINDOW 1024
#define OPS 1000000
#define ROUNDS 7

static size_t sizes[NSIZES];
static uint32_t slots[NSIZES];
static void *live[WINDOW];
static struct heap heap;
static volatile unsigned char sink;

struct allocator {
  const char *name;
  void *(*alloc)(size_t);
  void (*free)(void *);
};

static void *
heap_a(size_t n)
{
  return heap_alloc(&heap, n);
}

static void
heap_f(void *p)
{
  heap_free(&heap, p);
}

static const struct allocator allocators[] = {
  { "tlsf", heap_a, heap_f },
  { "glibc", malloc, free },
};

static double
now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
make_sizes(void)
{
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < NSIZES; i++) {
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    uint64_t r = x * 0x2545f4914f6cdd1dull;
    unsigned pick = (unsigned)(r % 100);
    r >>= 8;
    sizes[i] = pick < 70 ? 16 + r % 241 : pick < 95 ? 256 + r % 3841
                                                     : 4096 + r % 61441;
    slots[i] = (uint32_t)((r >> 20) % WINDOW);
  }
}

static double
immediate(const struct allocator *a)
{
  double t = now();
  for (size_t i = 0; i < OPS; i++) {
    unsigned char *p = a->alloc(sizes[i % NSIZES]);
    if (!p)
      abort();
    p[0] = (unsigned char)i;
    sink ^= p[0];
    a->free(p);
  }
  return OPS / (now() - t);
}

static double
window(const struct allocator *a)
{
  for (size_t i = 0; i < WINDOW; i++)
    live[i] = a->alloc(sizes[i]);
  double t = now();
  for (size_t i = 0; i < OPS; i++) {
    size_t k = slots[i % NSIZES];
    a->free(live[k]);
    unsigned char *p = a->alloc(sizes[(i * 7) % NSIZES]);
    if (!p)
      abort();
    p[0] = (unsigned char)i;
    live[k] = p;
  }
  double rate = OPS / (now() - t);
  for (size_t i = 0; i < WINDOW; i++)
    a->free(live[i]);
  return rate;
}

int
main(void)
{
  static const struct {
    const char *name;
    double (*run)(const struct allocator *);
  } patterns[] = { { "immediate", immediate }, { "window", window } };
  size_t arena_size = (size_t)256 << 20;
  void *arena = malloc(arena_size);
  if (!arena || heap_init(&heap) || heap_add_region(&heap, arena, arena_size)) {
    fprintf(stderr, "heap_bench: cannot set up a %zu-byte heap\n", arena_size);
    return 1;
  }
  make_sizes();
  size_t np = getenv("HEAP_BENCH_ONLY") ? 1 : 2;
  for (size_t p = 0; p < np; p++) {
    double rate[2] = { 0, 0 };
    for (int round = 0; round < ROUNDS; round++) /* alternate, keep best */
      for (size_t a = 0; a < 2; a++) {
        double r = patterns[p].run(&allocators[a]);
        rate[a] = r > rate[a] ? r : rate[a];
      }
    for (size_t a = 0; a < 2; a++)
      printf("heap %-9s %-5s alloc+free pairs/s %12.0f  (%.1f ns/pair)\n",
             patterns[p].name, allocators[a].name, rate[a], 1e9 / rate[a]);
    printf("heap %-9s ratio tlsf/glibc %.2f\n", patterns[p].name,
           rate[0] / rate[1]);
  }
  if (heap_check(&heap))
    return 1;
  free(arena);
  return 0;
}
