/*
 * heap_fuzz.c: libFuzzer harness for the TLSF heap (kernel/heap.c).
 *
 * The input picks up to three regions (odd bases and sizes) inside a static
 * arena, then a sequence of operations: alloc, aligned alloc, realloc, free,
 * and hostile frees (an interior pointer of a live block, a second free of
 * the block just freed). A shadow model keeps every live block's size and
 * fill byte; contents are verified on every free and realloc, every fault
 * must be the expected one, and heap_check runs after every operation.
 * Any mismatch aborts, which libFuzzer reports as a crash.
 *
 * Build and run: test/heap_fuzz.sh (clang -fsanitize=fuzzer,address,...).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mneme/heap.h"

#define ARENA 65536
#define SLOTS 32

static _Alignas(4096) unsigned char arena[ARENA];
static struct heap heap;
static void *ptr[SLOTS];
static size_t len[SLOTS];
static unsigned char tag[SLOTS];
static int last_fault, nfaults;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_fault(void *arg, int fault, const void *addr)
{
  last_fault = fault;
  nfaults++;
}

static void
expect(int ok)
{
  if (!ok)
    abort();
}

static void
verify(size_t i)
{
  const unsigned char *c = ptr[i];
  for (size_t k = 0; k < len[i]; k++)
    expect(c[k] == tag[i]);
}

/* An operation that must be refused with the given fault, heap unchanged. */
static void
hostile(void *p, int fault)
{
  struct heap_stats before, after;
  heap_stats(&heap, &before);
  int n = nfaults;
  heap_free(&heap, p);
  heap_stats(&heap, &after);
  expect(nfaults == n + 1 && last_fault == fault);
  expect(after.live == before.live && after.in_use == before.in_use);
}

static void
set(size_t i, void *p, size_t n, unsigned char t)
{
  ptr[i] = p;
  len[i] = n;
  tag[i] = t;
  memset(p, t, n);
}

static void
op(const uint8_t *d)
{
  size_t i = d[1] % SLOTS, n = (size_t)d[2] | (size_t)d[3] << 8;
  size_t align = (size_t)1 << (d[4] % 13);
  switch (d[0] % 6) {
  case 0: case 1: /* alloc or aligned alloc into an empty slot */
    if (!ptr[i]) {
      void *p = d[0] % 6 ? heap_alloc_aligned(&heap, n, align)
                         : heap_alloc(&heap, n);
      if (p) {
        expect((uintptr_t)p % (d[0] % 6 ? align : 16) == 0);
        set(i, p, n, d[4]);
      }
    }
    break;
  case 2: /* realloc */
    if (ptr[i]) {
      void *p = heap_realloc(&heap, ptr[i], n);
      size_t keep = len[i] < n ? len[i] : n;
      if (p) {
        len[i] = keep;
        ptr[i] = p;
        verify(i);
        set(i, p, n, tag[i]);
      } else {
        verify(i);
      }
    }
    break;
  case 3: /* free, then free again */
    if (ptr[i]) {
      verify(i);
      heap_free(&heap, ptr[i]);
      if (d[4] & 1)
        hostile(ptr[i], HEAP_FAULT_DOUBLE_FREE);
      ptr[i] = NULL;
    }
    break;
  case 4: /* interior pointers of a live block */
    if (ptr[i] && heap_usable_size(&heap, ptr[i]) >= 32) {
      memset(ptr[i], 0, 32); /* no header (stale or fake) left there */
      len[i] = len[i] < 32 ? len[i] : 32;
      tag[i] = 0;
      hostile((char *)ptr[i] + 16 + 16 * (d[4] % 2), HEAP_FAULT_BAD_POINTER);
      hostile((char *)ptr[i] + 1 + d[4] % 15, HEAP_FAULT_BAD_POINTER);
      verify(i);
    }
    break;
  default: { /* the stats agree with the shadow */
    struct heap_stats s;
    heap_stats(&heap, &s);
    size_t live = 0;
    for (size_t k = 0; k < SLOTS; k++)
      live += ptr[k] != NULL;
    expect(s.live == live && s.in_use + s.free == s.total);
    expect(s.largest_free <= s.free && s.high_water >= s.in_use);
  }
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 9)
    return 0;
  memset(ptr, 0, sizeof ptr);
  memset(arena, 0, sizeof arena); /* nothing left from the last input */
  heap_init(&heap);
  heap_set_fault_hook(&heap, on_fault, NULL);
  nfaults = 0;
  for (int r = 0; r < 3; r++) { /* regions: [r * ARENA/3 + off, + len) */
    size_t off = data[r * 3] % 64;
    size_t n = ((size_t)data[r * 3 + 1] | (size_t)data[r * 3 + 2] << 8) %
               (ARENA / 3 - 64);
    heap_add_region(&heap, arena + r * (ARENA / 3) + off, n);
  }
  for (size_t k = 9; k + 5 <= size; k += 5) {
    op(data + k);
    expect(heap_check(&heap) == 0);
  }
  for (size_t i = 0; i < SLOTS; i++)
    if (ptr[i]) {
      verify(i);
      heap_free(&heap, ptr[i]);
    }
  struct heap_stats s;
  heap_stats(&heap, &s);
  expect(s.in_use == 0 && s.live == 0 && s.free_blocks == s.regions);
  expect(s.faults == (uint64_t)nfaults);
  expect(heap_check(&heap) == 0);
  return 0;
}
