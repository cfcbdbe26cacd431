/*
 * kmem.h: the kernel heap as the rest of the kernel sees it.
 *
 * One heap (include/mneme/heap.h) over every region the platform gave at
 * boot. Allocation never panics: running out returns NULL (MN_ENOMEM).
 * A task may instead wait for memory: kmalloc_wait() retries whenever
 * memory is freed, until its timeout.
 */
#ifndef MNEME_KMEM_H
#define MNEME_KMEM_H

#include <stddef.h>
#include <stdint.h>
#include "mneme/platform.h"

struct heap;

/* Hands the platform's regions to the kernel heap. Returns 0 or MN_ENOMEM. */
int kmem_init(const struct mem_region *regions, size_t n);

void *kmalloc(size_t size);
void *kmalloc_aligned(size_t size, size_t align);
void *kzalloc(size_t size);
void *krealloc(void *p, size_t size);
void kfree(void *p);

/*
 * Allocates size bytes, waiting up to timeout_ns for memory to be freed
 * if none is available now. Returns 0 and the block in *out, MN_ETIMEDOUT,
 * MN_ENOMEM (the request can never be met: larger than the whole heap),
 * or MN_ECANCELED.
 */
int kmalloc_wait(size_t size, uint64_t timeout_ns, void **out);

/* The kernel heap (for statistics). */
struct heap *kmem_heap(void);

#endif
