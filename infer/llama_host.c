/*
 * llama_host.c: the hosted build's allocator for the inference library.
 *
 * Large blocks (64 MiB and more: the repacked weights of a large model,
 * its KV cache) are aligned to 2 MiB
 * and marked for transparent huge pages: a 1 GB model then takes a few
 * hundred page faults at load instead of a quarter million, and its
 * matmuls miss the TLB far less. Where THP is off, madvise fails and the
 * block is ordinary memory.
 *
 * Interface: infer_alloc_libc.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "mneme/llama.h"

#define HUGE_BYTES ((size_t)2 << 20)

static void *
libc_alloc(void *ctx, size_t n)
{
  if (n >= 32 * HUGE_BYTES) { /* rounding up wastes at most 3% */
    void *p = NULL;
    size_t sz = (n + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1);
    if (posix_memalign(&p, HUGE_BYTES, sz) != 0)
      return NULL;
    madvise(p, sz, MADV_HUGEPAGE);
    return p;
  }
  return aligned_alloc(64, (n + 63) & ~(size_t)63);
}

static void
libc_free(void *ctx, void *p, size_t n)
{
  free(p);
}

const struct infer_alloc infer_alloc_libc = { .alloc = libc_alloc, .free = libc_free };
