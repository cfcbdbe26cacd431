/*
 * llama_host.c: the hosted build's allocator for the inference library.
 *
 * Interface: infer_alloc_libc.
 */
#include <stdlib.h>

#include "mneme/llama.h"

static void *
libc_alloc(void *ctx, size_t n)
{
  return aligned_alloc(64, (n + 63) & ~(size_t)63);
}

static void
libc_free(void *ctx, void *p, size_t n)
{
  free(p);
}

const struct infer_alloc infer_alloc_libc = { libc_alloc, libc_free, NULL, NULL };
