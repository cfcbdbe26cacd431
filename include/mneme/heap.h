/*
 * heap.h: mneme's kernel heap, a TLSF allocator over platform memory.
 *
 * A heap manages one or more disjoint memory regions handed to it by the
 * platform (every usable range of a UEFI memory map, the buffer the hosted
 * platform reserves for --heap). Free runs in constant time, and so does
 * allocation whenever a good fit exists: two-level segregated fit (TLSF)
 * with bitmaps finds a free block with a few bit scans, and boundary tags
 * coalesce a freed block with its free neighbours at once. Only when the
 * good-fit search finds nothing does allocation scan one list first-fit,
 * so that a request fails only if no free block can hold it. All state
 * lives in a caller-provided struct heap; the heap never calls malloc and
 * needs nothing from libc but memcpy.
 *
 * Payloads are aligned to HEAP_ALIGN (16) bytes; heap_alloc_aligned gives
 * any power-of-two alignment. Running out returns NULL and counts a failed
 * request. Frees of pointers that are not live blocks of this heap (double
 * frees, foreign or interior pointers, blocks whose header was overwritten)
 * are detected by a per-block seal, reported through the fault hook and
 * otherwise ignored: the heap is never modified on a bad free.
 *
 * Concurrency: a heap is not locked. The cooperative kernel calls it from
 * one task at a time; interrupt handlers must not allocate or free.
 */
#ifndef MNEME_HEAP_H
#define MNEME_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define HEAP_ALIGN 16       /* alignment of every payload */
#define HEAP_MAX_REGIONS 64 /* regions one heap can manage */
#define HEAP_SL_LOG2 5      /* log2 of second-level lists per size class */
#define HEAP_FL_COUNT 32    /* first-level classes: blocks below 2^40 bytes */

/* Kinds of fault passed to the fault hook. */
enum heap_fault {
  HEAP_FAULT_DOUBLE_FREE = 1, /* the block is already free */
  HEAP_FAULT_BAD_POINTER,     /* not a live block: foreign or interior
                                 pointer, or an overwritten header */
  HEAP_FAULT_CORRUPT,         /* heap metadata is inconsistent (an overflow
                                 past a block, or heap_check failed) */
};

/* Called with the heap's hook argument, the fault kind and the address. */
typedef void heap_fault_fn(void *arg, int fault, const void *addr);

/*
 * Called after a free or a shrinking realloc with the payload size of the
 * free block that operation produced (after coalescing): any request of at
 * most `avail` bytes at default alignment now succeeds. The heap is
 * consistent when the hook runs; the hook may allocate, and may free
 * (which calls the hook again, nested).
 */
typedef void heap_avail_fn(void *arg, size_t avail);

struct heap_stats {
  size_t total;        /* bytes managed: all blocks, headers included */
  size_t in_use;       /* bytes in live blocks, headers included */
  size_t free;         /* bytes in free blocks (total - in_use) */
  size_t largest_free; /* largest request heap_alloc can serve now */
  size_t max_request;  /* largest request that can ever be served (the
                          largest region, empty): more never fits */
  size_t high_water;   /* highest in_use ever reached */
  size_t live;         /* live allocations */
  size_t free_blocks;  /* blocks on the free lists */
  size_t regions;      /* regions added */
  uint64_t allocs;     /* successful allocations since heap_init */
  uint64_t frees;      /* successful frees since heap_init */
  uint64_t failed;     /* requests that returned NULL */
  uint64_t faults;     /* bad frees and corruption reports */
};

struct heap_block; /* private to heap.c */

struct heap_region {
  uintptr_t lo, hi; /* [lo, hi): first block to end of the end marker */
};

/*
 * All of a heap's state. Allocate it anywhere (static, stack, inside
 * another object); treat the fields as private. Do not copy a heap:
 * block seals depend on its address.
 */
struct heap {
  uint32_t fl_bitmap;                  /* first-level classes with blocks */
  uint32_t sl_bitmap[HEAP_FL_COUNT];   /* second-level lists with blocks */
  struct heap_block *lists[HEAP_FL_COUNT][1 << HEAP_SL_LOG2];
  uintptr_t secret;                    /* seal key, from the heap address */
  struct heap_region regions[HEAP_MAX_REGIONS]; /* sorted by address */
  size_t nregions;
  size_t total, in_use, high_water, live, free_blocks, max_block;
  uint64_t allocs, frees, failed, faults;
  heap_fault_fn *fault_fn;
  void *fault_arg;
  heap_avail_fn *avail_fn;
  void *avail_arg;
};

/* Makes h an empty heap with no regions and no hooks. Returns 0. */
int heap_init(struct heap *h);

/* Sets the fault hook (NULL: faults are only counted). */
void heap_set_fault_hook(struct heap *h, heap_fault_fn *fn, void *arg);

/* Sets the memory-available hook (NULL: none). */
void heap_set_avail_hook(struct heap *h, heap_avail_fn *fn, void *arg);

/*
 * Gives the heap the memory [base, base + size), at any alignment. The
 * heap uses the 16-byte-aligned part; a region larger than about 1 TiB is
 * cut to that. Returns 0, MN_ERANGE if the aligned part cannot hold one
 * block (under 48 bytes: the caller may ignore such regions), MN_EINVAL if
 * it overlaps a region already added, the struct heap itself, or wraps
 * around the address space, or MN_ENOSPC if HEAP_MAX_REGIONS are in use.
 */
int heap_add_region(struct heap *h, void *base, size_t size);

/*
 * Returns a block of at least size bytes aligned to HEAP_ALIGN, or NULL
 * (counted in stats.failed) if no free block is large enough. size 0 gives
 * a minimal block, never NULL while memory remains.
 */
void *heap_alloc(struct heap *h, size_t size);

/*
 * Like heap_alloc with the payload aligned to align, any power of two.
 * Returns NULL (counted as failed) if align is not a power of two or no
 * free block can hold the aligned request.
 */
void *heap_alloc_aligned(struct heap *h, size_t size, size_t align);

/*
 * Resizes the block at p to size bytes, keeping its contents up to the
 * smaller size. Shrinks in place; grows in place into a free next block,
 * else slides down into a free previous block, else moves. Returns the
 * block (aligned to HEAP_ALIGN only), or NULL with p untouched and still
 * live if no room (counted as failed) or if p is not a live block (a
 * fault). p == NULL acts as heap_alloc; size 0 shrinks to a minimal block.
 */
void *heap_realloc(struct heap *h, void *p, size_t size);

/*
 * Frees the block at p (NULL: nothing). A pointer that is not a live block
 * of h is reported to the fault hook and otherwise ignored.
 */
void heap_free(struct heap *h, void *p);

/* Returns the usable bytes of the live block at p, or 0 (and a fault) if p
 * is not one. */
size_t heap_usable_size(struct heap *h, const void *p);

/*
 * Returns the free-block payload size that guarantees a request of size
 * bytes at alignment align (a power of two; 1 for heap_alloc) succeeds:
 * compare it with the avail hook's argument or heap_largest_free to retry
 * a waiting request. SIZE_MAX if the request can never succeed.
 */
size_t heap_need(size_t size, size_t align);

/* Returns the largest request heap_alloc can serve now (0 if none). */
size_t heap_largest_free(const struct heap *h);

/* Fills out with the heap's counters; walks at most one free list. */
void heap_stats(const struct heap *h, struct heap_stats *out);

/*
 * Walks every block and free list and verifies all invariants (for tests
 * and debugging; time linear in the number of blocks). Returns 0, or
 * MN_EFORMAT after reporting the first bad block as HEAP_FAULT_CORRUPT.
 */
int heap_check(struct heap *h);

#endif
