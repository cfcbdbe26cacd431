/*
 * heap_test.c: tests of the TLSF heap (kernel/heap.c).
 *
 * Regions are carved from a static arena at chosen offsets, so unaligned
 * bases, tiny regions and gaps between regions are exact. Every test ends
 * with heap_check, and a seeded random-operation stress compares the heap
 * against a shadow model of the live blocks and their contents.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mneme/err.h"
#include "mneme/heap.h"

#define ARENA_SIZE (1u << 20)
static _Alignas(4096) unsigned char arena[ARENA_SIZE];

struct faults {
  int count, last;
  const void *addr;
};

static void
on_fault(void *arg, int fault, const void *addr)
{
  struct faults *f = arg;
  f->count++;
  f->last = fault;
  f->addr = addr;
}

static struct faults faults;

/* A heap with a fault recorder and one region [arena + off, + size). */
static void
setup_heap(struct heap *h, size_t off, size_t size)
{
  memset(&faults, 0, sizeof faults);
  memset(arena, 0, sizeof arena);
  assert_int_equal(heap_init(h), 0);
  heap_set_fault_hook(h, on_fault, &faults);
  if (size)
    assert_int_equal(heap_add_region(h, arena + off, size), 0);
}

static struct heap_stats
stats(const struct heap *h)
{
  struct heap_stats s;
  heap_stats(h, &s);
  return s;
}

static int
in_arena(const void *p, size_t n)
{
  const unsigned char *c = p;
  return c >= arena && c + n <= arena + ARENA_SIZE;
}

/* ---- regions ------------------------------------------------------------- */

static void
test_add_region_errors(void **state)
{
  struct heap h;
  setup_heap(&h, 0, 0);
  assert_int_equal(heap_add_region(&h, arena + 1, 47), MN_ERANGE);
  assert_int_equal(heap_add_region(&h, arena + 1, 62), MN_ERANGE);
  assert_int_equal(heap_add_region(&h, arena, 0), MN_ERANGE);
  assert_int_equal(heap_add_region(&h, (void *)(UINTPTR_MAX - 64), 4096),
                   MN_EINVAL);
  assert_int_equal(heap_add_region(&h, arena + 4096, 4096), 0);
  assert_int_equal(heap_add_region(&h, arena + 4096 + 100, 64), MN_EINVAL);
  assert_int_equal(heap_add_region(&h, arena + 4000, 200), MN_EINVAL);
  assert_int_equal(heap_add_region(&h, arena + 8000, 4096), MN_EINVAL);
  assert_int_equal(heap_add_region(&h, &h, sizeof h + 64), MN_EINVAL);
  assert_int_equal(heap_add_region(&h, arena, 4096), 0); /* touching: ok */
  assert_int_equal(stats(&h).regions, 2);
  assert_int_equal(stats(&h).max_request, 4096 - 32);
  assert_int_equal(stats(&h).total, 2 * (4096 - 16));
  assert_int_equal(heap_check(&h), 0);
  assert_int_equal(faults.count, 0);
}

static void
test_region_table_full(void **state)
{
  struct heap h;
  setup_heap(&h, 0, 0);
  for (int i = 0; i < HEAP_MAX_REGIONS; i++) /* added in reverse order */
    assert_int_equal(heap_add_region(&h, arena + (63 - i) * 256, 64), 0);
  assert_int_equal(heap_add_region(&h, arena + 64 * 256, 64), MN_ENOSPC);
  assert_int_equal(heap_check(&h), 0);
  void *p[HEAP_MAX_REGIONS];
  for (int i = 0; i < HEAP_MAX_REGIONS; i++) {
    p[i] = heap_alloc(&h, 32);
    assert_non_null(p[i]);
  }
  assert_null(heap_alloc(&h, 1));
  for (int i = 0; i < HEAP_MAX_REGIONS; i++)
    heap_free(&h, p[i]);
  assert_int_equal(heap_check(&h), 0);
  assert_int_equal(stats(&h).free_blocks, HEAP_MAX_REGIONS);
  assert_int_equal(faults.count, 0);
}

static void
test_unaligned_and_tiny_regions(void **state)
{
  struct heap h;
  setup_heap(&h, 0, 0);
  /* 48 aligned bytes: one block with 16 payload bytes */
  assert_int_equal(heap_add_region(&h, arena + 3, 48 + 13), 0);
  for (size_t off = 1; off < 16; off++)
    assert_int_equal(heap_add_region(&h, arena + off * 1024 + off,
                                     200 + off * 7), 0);
  assert_int_equal(heap_check(&h), 0);
  struct heap_stats s = stats(&h);
  size_t n = 0, bytes = 0;
  void *p[256];
  while ((p[n] = heap_alloc(&h, 16)) != NULL) {
    assert_int_equal((uintptr_t)p[n] % HEAP_ALIGN, 0);
    assert_true(in_arena(p[n], 16));
    memset(p[n], 0xa5, heap_usable_size(&h, p[n]));
    bytes += heap_usable_size(&h, p[n]) + 16;
    n++;
    assert_true(n < 256);
  }
  assert_int_equal(bytes, stats(&h).in_use);
  assert_true(bytes > s.total - 16 * 32); /* little left over */
  assert_int_equal(heap_check(&h), 0);
  for (size_t i = 0; i < n; i++)
    heap_free(&h, p[i]);
  assert_int_equal(stats(&h).free_blocks, 16);
  assert_int_equal(stats(&h).in_use, 0);
  assert_int_equal(heap_check(&h), 0);
  assert_int_equal(faults.count, 0);
}

/* ---- exhaustion, coalescing, fragmentation ------------------------------- */

static void
test_exhaustion_and_recovery(void **state)
{
  struct heap h;
  setup_heap(&h, 0, 64 * 1024);
  struct heap_stats s0 = stats(&h);
  assert_int_equal(s0.largest_free, 64 * 1024 - 32);
  assert_int_equal(s0.max_request, s0.largest_free);
  void *p[4096];
  size_t n = 0;
  while ((p[n] = heap_alloc(&h, 100)) != NULL)
    n++;
  assert_int_equal(stats(&h).failed, 1);
  assert_null(heap_alloc(&h, 100));
  assert_null(heap_alloc_aligned(&h, 16, 64));
  assert_null(heap_alloc(&h, SIZE_MAX));
  assert_null(heap_alloc(&h, SIZE_MAX - 8));
  assert_null(heap_alloc_aligned(&h, SIZE_MAX / 2, 1u << 30));
  assert_int_equal(stats(&h).failed, 6);
  assert_int_equal(stats(&h).live, n);
  assert_int_equal(heap_check(&h), 0);
  for (size_t i = 0; i < n; i++)
    heap_free(&h, p[i]);
  struct heap_stats s = stats(&h);
  assert_int_equal(s.free_blocks, 1);
  assert_int_equal(s.in_use, 0);
  assert_int_equal(s.largest_free, s0.largest_free);
  assert_int_equal(s.high_water, n * 128);
  assert_int_equal(s.frees, n);
  /* exactly the largest request fits, one byte more does not */
  assert_null(heap_alloc(&h, s.largest_free + 1));
  void *big = heap_alloc(&h, s.largest_free);
  assert_non_null(big);
  assert_int_equal(stats(&h).largest_free, 0);
  heap_free(&h, big);
  assert_int_equal(heap_check(&h), 0);
  assert_int_equal(faults.count, 0);
}

static uint64_t rng_state;

static uint64_t
rng(void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

/* Frees n blocks in the given order and checks they coalesce into one. */
static void
free_in_order(struct heap *h, void **p, const size_t *order, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    heap_free(h, p[order[i]]);
    if (i % 16 == 0)
      assert_int_equal(heap_check(h), 0);
  }
  assert_int_equal(stats(h).free_blocks, 1);
  assert_int_equal(stats(h).in_use, 0);
}

static void
test_coalescing_orders(void **state)
{
  enum { N = 200 };
  struct heap h;
  void *p[N];
  size_t order[N];
  setup_heap(&h, 0, 256 * 1024);
  size_t whole = stats(&h).largest_free;
  for (int pattern = 0; pattern < 4; pattern++) {
    for (size_t i = 0; i < N; i++) {
      p[i] = heap_alloc(&h, 1 + (i * 37) % 700);
      assert_non_null(p[i]);
    }
    for (size_t i = 0; i < N; i++) { /* forward, backward, odd-even, shuffled */
      order[i] = pattern == 0 ? i : pattern == 1 ? N - 1 - i
               : pattern == 2 ? (i < N / 2 ? 2 * i + 1 : 2 * (i - N / 2)) : i;
    }
    rng_state = 42;
    for (size_t i = N - 1; pattern == 3 && i > 0; i--) {
      size_t j = rng() % (i + 1), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    free_in_order(&h, p, order, N);
    assert_int_equal(stats(&h).largest_free, whole);
  }
  assert_int_equal(faults.count, 0);
}

static void
test_fragmentation(void **state)
{
  enum { N = 512 };
  struct heap h;
  void *p[N];
  setup_heap(&h, 0, 128 * 1024);
  for (size_t i = 0; i < N; i++)
    assert_non_null(p[i] = heap_alloc(&h, 200));
  for (size_t i = 0; i < N; i += 2)
    heap_free(&h, p[i]);
  struct heap_stats s = stats(&h);
  assert_true(s.free > 256 * 200);
  assert_int_equal(s.free_blocks, N / 2 + 1); /* holes and the tail */
  /* holes are 224-byte blocks; the tail after the last block is larger */
  size_t tail = s.largest_free;
  assert_int_equal(tail, 128 * 1024 - 16 - N * 224 - 16);
  void *q = heap_alloc(&h, tail + 16);
  assert_null(q);
  void *r[N / 2];
  for (size_t i = 0; i < N / 2; i++) { /* same-size requests refill holes */
    r[i] = heap_alloc(&h, 200);
    assert_ptr_equal(r[i], p[2 * ((N / 2 - 1) - i)]) ;
  }
  (void)r;
  assert_int_equal(heap_check(&h), 0);
  for (size_t i = 0; i < N; i++)
    heap_free(&h, p[i]);
  assert_int_equal(stats(&h).free_blocks, 1);
  assert_int_equal(heap_check(&h), 0);
  assert_int_equal(faults.count, 0);
}

/* ---- alignment ------------------------------------------------------------ */

static void
test_alignment_every_power(void **state)
{
  struct heap h;
  setup_heap(&h, 8, 512 * 1024 - 8); /* base not aligned to anything big */
  void *p[13 * 4];
  size_t n = 0;
  for (size_t align = 1; align <= 4096; align <<= 1) {
    static const size_t sizes[] = { 0, 1, 100, 5000 };
    for (size_t k = 0; k < 4; k++) {
      void *q = heap_alloc_aligned(&h, sizes[k], align);
      assert_non_null(q);
      assert_int_equal((uintptr_t)q % align, 0);
      assert_int_equal((uintptr_t)q % HEAP_ALIGN, 0);
      assert_true(heap_usable_size(&h, q) >= sizes[k]);
      memset(q, (int)n, heap_usable_size(&h, q));
      p[n++] = q;
      assert_int_equal(heap_check(&h), 0);
    }
  }
  for (size_t i = 0; i < n; i++) {
    const unsigned char *c = p[i];
    size_t u = heap_usable_size(&h, p[i]);
    for (size_t j = 0; j < u; j++)
      assert_int_equal(c[j], (unsigned char)i);
  }
  for (size_t i = 0; i < n; i += 2)
    heap_free(&h, p[i]);
  for (size_t i = 1; i < n; i += 2)
    heap_free(&h, p[i]);
  assert_int_equal(stats(&h).free_blocks, 1);
  void *big = heap_alloc_aligned(&h, 1000, 65536);
  assert_non_null(big);
  assert_int_equal((uintptr_t)big % 65536, 0);
  heap_free(&h, big);
  uint64_t failed = stats(&h).failed;
  assert_null(heap_alloc_aligned(&h, 16, 0));
  assert_null(heap_alloc_aligned(&h, 16, 24));
  assert_null(heap_alloc_aligned(&h, 16, 3));
  assert_int_equal(stats(&h).failed, failed + 3);
  assert_int_equal(stats(&h).free_blocks, 1);
  assert_int_equal(heap_check(&h), 0);
  assert_int_equal(faults.count, 0);
}

/* ---- realloc --------------------------------------------------------------- */

static void
fill(void *p, size_t n, unsigned seed)
{
  unsigned char *c = p;
  for (size_t i = 0; i < n; i++)
    c[i] = (unsigned char)(seed + i * 7);
}

static int
filled(const void *p, size_t n, unsigned seed)
{
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++)
    if (c[i] != (unsigned char)(seed + i * 7))
      return 0;
  return 1;
}

static void
test_realloc_in_place(void **state)
{
  struct heap h;
  setup_heap(&h, 0, 64 * 1024);
  void *a = heap_alloc(&h, 100);
  fill(a, 100, 1);
  void *b = heap_realloc(&h, a, 5000); /* next block is free: grows in place */
  assert_ptr_equal(b, a);
  assert_true(filled(b, 100, 1));
  assert_true(heap_usable_size(&h, b) >= 5000);
  fill(b, 5000, 2);
  size_t used = stats(&h).in_use;
  void *c = heap_realloc(&h, b, 1000); /* shrinks in place, tail freed */
  assert_ptr_equal(c, a);
  assert_true(filled(c, 1000, 2));
  assert_int_equal(stats(&h).in_use, used - 4000);
  assert_int_equal(stats(&h).free_blocks, 1); /* tail merged with the rest */
  assert_ptr_equal(heap_realloc(&h, c, 1000), c);
  assert_ptr_equal(heap_realloc(&h, c, 990), c); /* too little to split */
  void *z = heap_realloc(&h, c, 0);
  assert_ptr_equal(z, a);
  assert_int_equal(heap_usable_size(&h, z), 16);
  assert_int_equal(stats(&h).live, 1);
  heap_free(&h, z);
  assert_int_equal(heap_check(&h), 0);
  assert_int_equal(faults.count, 0);
}

static void
test_realloc_slides_and_moves(void **state)
{
  struct heap h;
  setup_heap(&h, 0, 64 * 1024);
  void *a = heap_alloc(&h, 3000);
  void *b = heap_alloc(&h, 200);
  void *c = heap_alloc(&h, 200);
  fill(b, 200, 3);
  heap_free(&h, a);
  /* next of b is live, previous is free: slide down into a's space */
  void *b2 = heap_realloc(&h, b, 2000);
  assert_ptr_equal(b2, a);
  assert_true(filled(b2, 200, 3));
  assert_int_equal(heap_check(&h), 0);
  /* neither neighbour can help: move past c */
  fill(b2, 2000, 4);
  void *b3 = heap_realloc(&h, b2, 8000);
  assert_true((char *)b3 > (char *)c);
  assert_true(filled(b3, 2000, 4));
  assert_int_equal(stats(&h).live, 2);
  assert_int_equal(heap_check(&h), 0);
  /* no room anywhere: NULL, the block stays live and intact */
  uint64_t failed = stats(&h).failed;
  assert_null(heap_realloc(&h, b3, 63000));
  assert_null(heap_realloc(&h, b3, SIZE_MAX));
  assert_int_equal(stats(&h).failed, failed + 2);
  assert_true(filled(b3, 2000, 4));
  void *n = heap_realloc(&h, NULL, 50); /* acts as alloc */
  assert_non_null(n);
  heap_free(&h, n);
  heap_free(&h, b3);
  heap_free(&h, c);
  assert_int_equal(stats(&h).free_blocks, 1);
  assert_int_equal(heap_check(&h), 0);
  assert_int_equal(faults.count, 0);
}

/* ---- hostile frees and corruption ---------------------------------------- */

static void
test_hostile_frees(void **state)
{
  struct heap h;
  setup_heap(&h, 0, 64 * 1024);
  void *a = heap_alloc(&h, 64), *b = heap_alloc(&h, 64);
  void *c = heap_alloc(&h, 64);
  memset(c, 0, 64);
  heap_free(&h, a);
  struct heap_stats s = stats(&h);
  heap_free(&h, a);
  assert_int_equal(faults.count, 1);
  assert_int_equal(faults.last, HEAP_FAULT_DOUBLE_FREE);
  assert_ptr_equal(faults.addr, a);
  heap_free(&h, b); /* merges into a's block; b's header is now stale */
  heap_free(&h, b);
  assert_int_equal(faults.last, HEAP_FAULT_DOUBLE_FREE);
  int local;
  void *foreign[] = { &local, (char *)c + 16, (char *)c + 8, (char *)c - 16,
                      arena + 64 * 1024 + 4096, arena, (char *)c + 1,
                      (void *)(uintptr_t)16 };
  for (size_t i = 0; i < sizeof foreign / sizeof *foreign; i++) {
    heap_free(&h, foreign[i]);
    assert_int_equal(faults.last, HEAP_FAULT_BAD_POINTER);
    assert_ptr_equal(faults.addr, foreign[i]);
  }
  assert_null(heap_realloc(&h, (char *)c + 32, 10));
  assert_int_equal(heap_usable_size(&h, &local), 0);
  assert_int_equal(faults.count, 2 + 8 + 2);
  assert_int_equal(stats(&h).faults, 12);
  assert_int_equal(stats(&h).live, 1);
  assert_int_equal(stats(&h).frees, s.frees + 1);
  assert_int_equal(heap_check(&h), 0);
  heap_free(&h, c);
  assert_int_equal(stats(&h).free_blocks, 1);
  assert_int_equal(heap_check(&h), 0);
}

static void
test_overflow_detected(void **state)
{
  struct heap h;
  setup_heap(&h, 0, 64 * 1024);
  unsigned char *a = heap_alloc(&h, 64), *b = heap_alloc(&h, 64);
  size_t u = heap_usable_size(&h, a);
  memset(a, 0x41, u + 8); /* clobbers b's header */
  heap_free(&h, a);
  assert_int_equal(faults.last, HEAP_FAULT_CORRUPT);
  heap_free(&h, b);
  assert_int_equal(faults.last, HEAP_FAULT_BAD_POINTER);
  assert_int_equal(faults.count, 2);
  assert_int_equal(heap_check(&h), MN_EFORMAT);
  assert_int_equal(faults.count, 3);
}

static void
test_check_finds_corruption(void **state)
{
  struct heap h;
  setup_heap(&h, 0, 64 * 1024);
  unsigned char *a = heap_alloc(&h, 64), *b = heap_alloc(&h, 64);
  unsigned char *c = heap_alloc(&h, 64);
  heap_free(&h, b);
  assert_int_equal(heap_check(&h), 0);
  /* use after free: the free block's list link is overwritten */
  unsigned char saved[16];
  memcpy(saved, b, 16);
  memset(b, 0x5a, 16);
  assert_int_equal(heap_check(&h), MN_EFORMAT);
  memcpy(b, saved, 16);
  assert_int_equal(heap_check(&h), 0);
  void *link = a + 4; /* in the region but not a block: misaligned */
  memcpy(b - 8, &link, sizeof link);
  assert_int_equal(heap_check(&h), MN_EFORMAT);
  memcpy(b, saved, 16);
  memset(b - 8, 0, 8); /* b was the only block on its list */
  assert_int_equal(heap_check(&h), 0);
  /* a free block's footer is overwritten: freeing the block after it sees
     boundary tags that disagree and leaves the heap alone */
  size_t *foot = (size_t *)(void *)(b + 80 - 16 - sizeof(size_t));
  size_t keep = *foot;
  assert_int_equal(keep, 80);
  static const size_t bad[] = { 48, 96, 81, 0, 1u << 20 };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    *foot = bad[i];
    assert_int_equal(heap_check(&h), MN_EFORMAT);
    heap_free(&h, c);
    assert_int_equal(faults.last, HEAP_FAULT_CORRUPT);
    assert_ptr_equal(faults.addr, c - 16);
  }
  assert_int_equal(faults.count, 2 + 2 * 5);
  assert_int_equal(stats(&h).live, 2);
  *foot = keep;
  assert_int_equal(heap_check(&h), 0);
  heap_free(&h, c);
  heap_free(&h, a);
  assert_int_equal(stats(&h).free_blocks, 1);
  assert_int_equal(heap_check(&h), 0);
  assert_int_equal(faults.count, 12);
}

/* ---- hooks ---------------------------------------------------------------- */

struct avail_log {
  int calls;
  size_t last;
};

static void
on_avail(void *arg, size_t avail)
{
  struct avail_log *l = arg;
  l->calls++;
  l->last = avail;
}

static void
test_avail_hook(void **state)
{
  struct heap h;
  struct avail_log log = { 0, 0 };
  setup_heap(&h, 0, 16 * 1024);
  heap_set_avail_hook(&h, on_avail, &log);
  void *p[3];
  for (int i = 0; i < 3; i++)
    p[i] = heap_alloc(&h, 4000);
  void *fill_up = heap_alloc(&h, stats(&h).largest_free);
  assert_non_null(fill_up);
  assert_null(heap_alloc(&h, 5000)); /* a waiter would now wait */
  heap_free(&h, p[0]);
  assert_int_equal(log.calls, 1);
  assert_int_equal(log.last, 4000);
  assert_null(heap_alloc(&h, 5000));
  heap_free(&h, p[1]); /* coalesces with p[0]'s block */
  assert_int_equal(log.calls, 2);
  assert_int_equal(log.last, 8016);
  assert_true(heap_need(5000, 1) <= log.last); /* the waiter retries */
  assert_true(heap_need(8016, 1) <= log.last);
  assert_true(heap_need(8017, 1) > log.last);
  assert_true(heap_need(5000, 4096) > log.last);
  assert_int_equal(heap_need(SIZE_MAX, 1), SIZE_MAX);
  assert_int_equal(heap_need(16, 3), SIZE_MAX);
  assert_int_equal(heap_need(16, 0), SIZE_MAX);
  void *w = heap_alloc(&h, log.last); /* fits exactly */
  assert_non_null(w);
  heap_realloc(&h, p[2], 100); /* a shrink frees a tail: the hook runs */
  assert_int_equal(log.calls, 3);
  assert_int_equal(log.last, 4000 - 112 - 16);
  heap_free(&h, w);
  heap_free(&h, p[2]);
  heap_free(&h, fill_up);
  assert_int_equal(log.calls, 6);
  assert_int_equal(log.last, stats(&h).largest_free);
  assert_int_equal(heap_check(&h), 0);
  assert_int_equal(faults.count, 0);
}

/* A waiter served from inside the hook, as a kernel might do it. */
struct reentrant {
  struct heap *h;
  size_t want;
  void *got;
};

static void
serve_waiter(void *arg, size_t avail)
{
  struct reentrant *r = arg;
  if (!r->got && heap_need(r->want, 1) <= avail) {
    r->got = heap_alloc(r->h, r->want);
    assert_non_null(r->got);
    assert_int_equal(heap_check(r->h), 0);
  }
}

static void
test_avail_hook_may_allocate(void **state)
{
  struct heap h;
  setup_heap(&h, 0, 8 * 1024);
  struct reentrant r = { &h, 3000, NULL };
  heap_set_avail_hook(&h, serve_waiter, &r);
  void *a = heap_alloc(&h, 2000), *b = heap_alloc(&h, 2000);
  void *c = heap_alloc(&h, stats(&h).largest_free);
  assert_non_null(c);
  heap_free(&h, a); /* 2000 bytes free: not enough for the waiter */
  assert_null(r.got);
  heap_free(&h, b); /* coalesced to 4032: the waiter gets its block */
  assert_ptr_equal(r.got, a);
  heap_free(&h, r.got); /* the hook runs again and must not re-serve */
  heap_free(&h, c);
  assert_int_equal(stats(&h).free_blocks, 1);
  assert_int_equal(heap_check(&h), 0);
  assert_int_equal(faults.count, 0);
}

/* ---- random operations against a shadow model ----------------------------- */

#define SLOTS 512

struct shadow {
  void *p[SLOTS];
  size_t size[SLOTS];
  unsigned seed[SLOTS];
  size_t live, in_use, high;
  uint64_t failed;
};

static size_t size_cap; /* sizes are below this */

static size_t
random_size(void)
{
  uint64_t r = rng();
  if (size_cap < 100000)
    return (r >> 8) % size_cap;
  switch (r % 8) {
  case 0: return 0;
  case 1: case 2: case 3: return (r >> 8) % 64;
  case 4: case 5: return (r >> 8) % 1024;
  case 6: return (r >> 8) % 16384;
  default: return (r >> 8) % 100000;
  }
}

static void
use_grew(struct shadow *m)
{
  if (m->in_use > m->high)
    m->high = m->in_use;
}

static void
shadow_drop(struct heap *h, struct shadow *m, size_t i)
{
  assert_true(filled(m->p[i], m->size[i], m->seed[i]));
  m->in_use -= heap_usable_size(h, m->p[i]) + 16;
  heap_free(h, m->p[i]);
  m->p[i] = NULL;
  m->live--;
}

static void
shadow_set(struct heap *h, struct shadow *m, size_t i, void *p, size_t size)
{
  if (!p) {
    m->failed++;
    return;
  }
  m->p[i] = p;
  m->size[i] = size;
  m->seed[i] = (unsigned)rng();
  fill(p, size, m->seed[i]);
  m->in_use += heap_usable_size(h, p) + 16;
  use_grew(m);
  m->live++;
}

static void
random_op(struct heap *h, struct shadow *m)
{
  size_t i = rng() % SLOTS, size = random_size();
  uint64_t op = rng() % 10;
  if (m->p[i] && op < 4) {
    shadow_drop(h, m, i);
  } else if (m->p[i]) { /* realloc */
    size_t old_use = heap_usable_size(h, m->p[i]) + 16, keep = m->size[i];
    void *q = heap_realloc(h, m->p[i], size);
    if (!q) {
      m->failed++;
      assert_true(filled(m->p[i], keep, m->seed[i]));
      return;
    }
    keep = keep < size ? keep : size;
    assert_true(filled(q, keep, m->seed[i]));
    m->in_use += heap_usable_size(h, q) + 16 - old_use;
    use_grew(m);
    m->p[i] = q;
    m->size[i] = size;
    fill(q, size, m->seed[i]);
  } else {
    size_t align = op < 7 ? 1 : (size_t)1 << (rng() % 13);
    size_t largest = heap_largest_free(h);
    void *p = op < 7 ? heap_alloc(h, size)
                     : heap_alloc_aligned(h, size, align);
    assert_int_equal((uintptr_t)p % align, 0);
    if (heap_need(size, align) <= largest) /* the promise to waiters */
      assert_non_null(p);
    if (!p && align == 1) /* and it is exact at default alignment */
      assert_true(heap_need(size, 1) > largest);
    shadow_set(h, m, i, p, size);
  }
}

static void
check_against_shadow(struct heap *h, struct shadow *m)
{
  struct heap_stats s = stats(h);
  assert_int_equal(heap_check(h), 0);
  assert_int_equal(s.live, m->live);
  assert_int_equal(s.in_use, m->in_use);
  assert_int_equal(s.failed, m->failed);
  assert_int_equal(s.in_use + s.free, s.total);
  assert_true(s.high_water >= s.in_use);
  assert_true(s.largest_free <= s.free);
  /* the largest free block is exact: it fits, one byte more does not */
  if (s.largest_free) {
    void *p = heap_alloc(h, s.largest_free);
    assert_non_null(p);
    if (m->in_use + heap_usable_size(h, p) + 16 > m->high)
      m->high = m->in_use + heap_usable_size(h, p) + 16;
    heap_free(h, p);
  }
  assert_null(heap_alloc(h, s.largest_free + 1));
  heap_stats(h, &s);
  assert_int_equal(s.failed, m->failed + 1);
  assert_int_equal(s.high_water, m->high);
}

static void
stress(uint64_t seed, size_t ops, size_t cap)
{
  static struct shadow m;
  struct heap h;
  memset(&m, 0, sizeof m);
  setup_heap(&h, 0, 0);
  rng_state = seed;
  size_cap = cap;
  /* four regions with odd bases and sizes, one tiny, gaps between them */
  assert_int_equal(heap_add_region(&h, arena + 3, 300000), 0);
  assert_int_equal(heap_add_region(&h, arena + 310001, 99), 0);
  assert_int_equal(heap_add_region(&h, arena + 320007, 500000), 0);
  assert_int_equal(heap_add_region(&h, arena + 830000, 200000), 0);
  for (size_t n = 0; n < ops; n++) {
    random_op(&h, &m);
    if (n % 97 == 0) {
      check_against_shadow(&h, &m);
      m.failed++; /* the probe above */
    }
  }
  for (size_t i = 0; i < SLOTS; i++)
    if (m.p[i])
      shadow_drop(&h, &m, i);
  check_against_shadow(&h, &m);
  assert_int_equal(stats(&h).free_blocks, 4);
  assert_int_equal(stats(&h).max_request, stats(&h).largest_free);
  assert_int_equal(faults.count, 0);
}

static void
test_random_stress(void **state)
{
  for (uint64_t seed = 1; seed <= 8; seed++) /* mostly full, large sizes */
    stress(seed * 0x9e3779b97f4a7c15ull, 20000, 100000);
  for (uint64_t seed = 1; seed <= 4; seed++) /* many small blocks */
    stress(seed * 0xbf58476d1ce4e5b9ull, 20000, 600);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_add_region_errors),
    cmocka_unit_test(test_region_table_full),
    cmocka_unit_test(test_unaligned_and_tiny_regions),
    cmocka_unit_test(test_exhaustion_and_recovery),
    cmocka_unit_test(test_coalescing_orders),
    cmocka_unit_test(test_fragmentation),
    cmocka_unit_test(test_alignment_every_power),
    cmocka_unit_test(test_realloc_in_place),
    cmocka_unit_test(test_realloc_slides_and_moves),
    cmocka_unit_test(test_hostile_frees),
    cmocka_unit_test(test_overflow_detected),
    cmocka_unit_test(test_check_finds_corruption),
    cmocka_unit_test(test_avail_hook),
    cmocka_unit_test(test_avail_hook_may_allocate),
    cmocka_unit_test(test_random_stress),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
