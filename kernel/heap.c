/*
 * heap.c: TLSF allocator over platform memory regions.
 *
 * Memory is cut into blocks. Every block starts with a 16-byte header; the
 * payload follows, so payloads are 16-byte aligned. Block sizes (headers
 * included) are multiples of 16, at least MIN_BLOCK.
 *
 *   live block:  [head][seal][payload ...................]
 *   free block:  [head][next][prev][...............][size]   <- footer
 *
 * head is the block size with two flags: FREE (this block) and PREV_FREE
 * (the block before it). A free block keeps its size in its last word, so
 * freeing the block after it can find its start (boundary tags). seal is
 * the block address, size and a per-heap secret mixed together: a free
 * checks it, so a double free, a foreign pointer or an overwritten header
 * is reported instead of corrupting the heap. Each region ends with a
 * 16-byte live end marker of size 0 that nothing coalesces past.
 *
 * Free blocks sit on segregated lists indexed (fl, sl): fl is the power of
 * two of the size, sl one of 32 equal steps inside it (sizes under 512 map
 * to fl 0 in steps of 16). Two levels of bitmaps find the first non-empty
 * list able to hold a request in constant time (good fit: the search rounds
 * the request up to the next list). If that finds nothing, the list of the
 * request's own class is scanned first-fit, so any request that fits in
 * some free block succeeds. Invariants: no two free blocks are adjacent,
 * every free block is on the list of its size, bitmaps mirror the lists.
 *
 * Interface: heap_init, heap_set_fault_hook, heap_set_avail_hook,
 * heap_add_region, heap_alloc, heap_alloc_aligned, heap_realloc, heap_free,
 * heap_usable_size, heap_need, heap_largest_free, heap_stats, heap_check.
 */
#include "mneme/heap.h"

#include "mneme/err.h"

#define HDR ((size_t)16)          /* header bytes before a payload */
#define MIN_BLOCK ((size_t)32)    /* head, next, prev, footer */
#define FREE ((size_t)1)
#define PREV_FREE ((size_t)2)
#define FLAGS ((size_t)15)
#define SL_COUNT (1 << HEAP_SL_LOG2)
#define FL_SHIFT (HEAP_SL_LOG2 + 4) /* 4 = log2(HEAP_ALIGN) */
#define SMALL ((size_t)1 << FL_SHIFT)
#define BLOCK_MAX_LOG2 (HEAP_FL_COUNT + FL_SHIFT - 1)
/* Largest block: sizes stay below 2^BLOCK_MAX_LOG2 and half of size_t. */
#if SIZE_MAX > 0xffffffffu
#define BLOCK_MAX (((size_t)1 << BLOCK_MAX_LOG2) - HEAP_ALIGN)
#else
#define BLOCK_MAX ((SIZE_MAX >> 1) + 1 - HEAP_ALIGN)
#endif

struct heap_block {
  size_t head;
  union {
    uintptr_t seal;          /* live */
    struct heap_block *next; /* free */
  } u;
  struct heap_block *prev; /* free */
};

typedef struct heap_block block;

/* ---- blocks -------------------------------------------------------------- */

static inline size_t
bsize(const block *b)
{
  return b->head & ~FLAGS;
}

static inline block *
at(const void *p, size_t off)
{
  return (block *)(void *)((char *)(uintptr_t)p + off);
}

static inline block *
before(const void *p, size_t off)
{
  return (block *)(void *)((char *)(uintptr_t)p - off);
}

static inline block *
bnext(const block *b)
{
  return at(b, bsize(b));
}

static inline size_t *
footer(const block *b)
{
  return (size_t *)(void *)((char *)(uintptr_t)b + bsize(b) - sizeof(size_t));
}

static inline void *
payload(const block *b)
{
  return (char *)(uintptr_t)b + HDR;
}

static inline uintptr_t
seal_of(const struct heap *h, const block *b, size_t head)
{
  uintptr_t x = (uintptr_t)b ^ h->secret ^ (uintptr_t)(head & ~PREV_FREE);
  x *= (uintptr_t)0x9e3779b97f4a7c15ull;
  return x ^ (x >> 29);
}

static inline int
sealed(const struct heap *h, const block *b)
{
  return b->u.seal == seal_of(h, b, b->head);
}

static inline void
reseal(const struct heap *h, block *b)
{
  b->u.seal = seal_of(h, b, b->head);
}

static inline size_t
round16(size_t n)
{
  return (n + (HEAP_ALIGN - 1)) & ~(size_t)(HEAP_ALIGN - 1);
}

/* Block size for a request of n payload bytes, or 0 if too large. */
static inline size_t
block_size_for(size_t n)
{
  if (n > BLOCK_MAX - HDR - HEAP_ALIGN)
    return 0;
  n = round16(n + HDR);
  return n < MIN_BLOCK ? MIN_BLOCK : n;
}

static inline void
report(struct heap *h, int fault, const void *addr)
{
  h->faults++;
  if (h->fault_fn)
    h->fault_fn(h->fault_arg, fault, addr);
}

/* ---- size classes and free lists ----------------------------------------- */

static inline int
fls_size(size_t x)
{
  return 63 - __builtin_clzll((unsigned long long)x);
}

static inline void
mapping(size_t size, int *fl, int *sl)
{
  if (size < SMALL) {
    *fl = 0;
    *sl = (int)(size / HEAP_ALIGN);
  } else {
    int f = fls_size(size);
    *sl = (int)((size >> (f - HEAP_SL_LOG2)) ^ SL_COUNT);
    *fl = f - FL_SHIFT + 1;
  }
}

static inline void
list_insert(struct heap *h, block *b)
{
  int fl, sl;
  mapping(bsize(b), &fl, &sl);
  block *first = h->lists[fl][sl];
  b->u.next = first;
  b->prev = NULL;
  if (first)
    first->prev = b;
  h->lists[fl][sl] = b;
  h->fl_bitmap |= 1u << fl;
  h->sl_bitmap[fl] |= 1u << sl;
  h->free_blocks++;
}

static inline void
list_remove(struct heap *h, block *b)
{
  int fl, sl;
  mapping(bsize(b), &fl, &sl);
  if (b->prev)
    b->prev->u.next = b->u.next;
  else
    h->lists[fl][sl] = b->u.next;
  if (b->u.next)
    b->u.next->prev = b->prev;
  if (!h->lists[fl][sl]) {
    h->sl_bitmap[fl] &= ~(1u << sl);
    if (!h->sl_bitmap[fl])
      h->fl_bitmap &= ~(1u << fl);
  }
  h->free_blocks--;
}

/* Whether blocks of sizes a and b share a free list: the same bits above
 * the second-level index (sizes under SMALL: the same 16-byte step). */
static inline int
same_list(size_t a, size_t b)
{
  int shift = fls_size(a | b) - HEAP_SL_LOG2;
  if (shift < 4)
    shift = 4;
  return (a >> shift) == (b >> shift);
}

/* Puts nb in old's place on old's list (their sizes share the list). */
static inline void
list_replace(struct heap *h, block *old, block *nb)
{
  nb->u.next = old->u.next;
  nb->prev = old->prev;
  if (nb->u.next)
    nb->u.next->prev = nb;
  if (nb->prev) {
    nb->prev->u.next = nb;
  } else {
    int fl, sl;
    mapping(bsize(old), &fl, &sl);
    h->lists[fl][sl] = nb;
  }
}

/* First non-empty list at or above (fl, sl), in constant time. */
static inline block *
find_list(const struct heap *h, int fl, int sl)
{
  uint32_t slmap = h->sl_bitmap[fl] & (uint32_t)(~0ull << sl);
  if (!slmap) {
    uint32_t flmap = h->fl_bitmap & (uint32_t)(~0ull << (fl + 1));
    if (!flmap)
      return NULL;
    fl = __builtin_ctz(flmap);
    slmap = h->sl_bitmap[fl];
  }
  return h->lists[fl][__builtin_ctz(slmap)];
}

/* A free block of at least size bytes (still on its list), or NULL. */
static inline block *
locate(const struct heap *h, size_t size)
{
  int fl, sl;
  size_t up = size;
  if (up >= SMALL)
    up += ((size_t)1 << (fls_size(up) - HEAP_SL_LOG2)) - 1;
  mapping(up, &fl, &sl);
  if (fl < HEAP_FL_COUNT) {
    block *b = find_list(h, fl, sl);
    if (b)
      return b;
  }
  mapping(size, &fl, &sl); /* first fit in the request's own list */
  for (block *b = h->lists[fl][sl]; b; b = b->u.next)
    if (bsize(b) >= size)
      return b;
  return NULL;
}

/* ---- block state --------------------------------------------------------- */

/* Makes b free: flag, footer, the next block's PREV_FREE; puts it on a list. */
static inline void
make_free(struct heap *h, block *b)
{
  b->head |= FREE;
  *footer(b) = bsize(b);
  block *n = bnext(b);
  n->head |= PREV_FREE;
  list_insert(h, b);
}

/* Makes the free, unlisted block b live: clears flags, seals it. */
static inline void
make_live(struct heap *h, block *b)
{
  b->head &= ~FREE;
  reseal(h, b);
  bnext(b)->head &= ~PREV_FREE;
}

/*
 * Cuts the free, unlisted block b to size bytes if the rest can be a block;
 * the rest goes on a free list. b's next block is live, so the rest is too.
 */
static inline void
trim_free(struct heap *h, block *b, size_t size)
{
  size_t have = bsize(b);
  if (have - size < MIN_BLOCK)
    return;
  block *rest = at(b, size);
  rest->head = have - size;
  b->head = size | (b->head & FLAGS);
  make_free(h, rest); /* rest->next already has PREV_FREE */
}

/* The free block before b if PREV_FREE says there is one, else NULL. Its
 * boundary tags were checked when b's pointer was (live_block). */
static inline block *
prev_free(const block *b)
{
  if (!(b->head & PREV_FREE))
    return NULL;
  return before(b, ((const size_t *)(const void *)b)[-1]);
}

/* ---- regions and pointer checks ------------------------------------------ */

/* Index of the region holding address a, or -1. Binary search. */
static inline int
region_of(const struct heap *h, uintptr_t a)
{
  size_t lo = 0, hi = h->nregions;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (a < h->regions[mid].lo)
      hi = mid;
    else if (a >= h->regions[mid].hi)
      lo = mid + 1;
    else
      return (int)mid;
  }
  return -1;
}

/* Whether b, below the region end hi, has the size and footer of a free
 * block (bounds-checked before the footer is read). */
static inline int
free_shaped(const block *b, uintptr_t hi)
{
  size_t size = bsize(b);
  return size >= MIN_BLOCK && size <= hi - HDR - (uintptr_t)b &&
         (b->head & FLAGS & ~(FREE | PREV_FREE)) == 0 && *footer(b) == size;
}

/* Whether the footer before b (PREV_FREE is set) leads to a free block
 * of that size starting at or after the region start lo. */
static inline int
prev_tags_ok(const block *b, uintptr_t lo)
{
  size_t size = ((const size_t *)(const void *)b)[-1];
  if (size < MIN_BLOCK || size % HEAP_ALIGN || size > (uintptr_t)b - lo)
    return 0;
  const block *p = before(b, size);
  return (p->head & FREE) && bsize(p) == size;
}

/* The mark left in the seal word of a block when it is freed. */
static inline uintptr_t
freed_mark(const struct heap *h, const block *b)
{
  return seal_of(h, b, b->head) ^ (uintptr_t)0x46524545ull; /* "FREE" */
}

/*
 * The live block whose payload is p, or NULL after reporting why not. A
 * freed header (the head of a free block, or one left inside a block it
 * merged into) is a double free; anything else unsealed is a bad pointer.
 * The neighbours are checked too (a write past the end of p, a free block
 * before it overwritten), so the free that follows can trust them.
 */
static inline block *
live_block(struct heap *h, const void *p)
{
  uintptr_t a = (uintptr_t)p;
  int r = region_of(h, a);
  if (r < 0 || a % HEAP_ALIGN || a - h->regions[r].lo < HDR ||
      h->regions[r].hi - a < HDR) {
    report(h, HEAP_FAULT_BAD_POINTER, p);
    return NULL;
  }
  uintptr_t hi = h->regions[r].hi;
  block *b = before(p, HDR);
  if (b->head & FREE) {
    int twice = b->u.seal == freed_mark(h, b) || free_shaped(b, hi);
    report(h, twice ? HEAP_FAULT_DOUBLE_FREE : HEAP_FAULT_BAD_POINTER, p);
    return NULL;
  }
  if (!sealed(h, b) || bsize(b) == 0) {
    report(h, HEAP_FAULT_BAD_POINTER, p);
    return NULL;
  }
  block *n = bnext(b);
  if ((n->head & FREE) ? !free_shaped(n, hi) : !sealed(h, n)) {
    report(h, HEAP_FAULT_CORRUPT, n);
    return NULL;
  }
  if ((b->head & PREV_FREE) && !prev_tags_ok(b, h->regions[r].lo)) {
    report(h, HEAP_FAULT_CORRUPT, b);
    return NULL;
  }
  return b;
}

static inline void
count_use(struct heap *h, long long delta)
{
  h->in_use += (size_t)delta;
  if (h->in_use > h->high_water)
    h->high_water = h->in_use;
}

/* ---- public API ---------------------------------------------------------- */

int
heap_init(struct heap *h)
{
  unsigned char *c = (unsigned char *)h;
  for (size_t i = 0; i < sizeof *h; i++)
    c[i] = 0;
  h->secret = ((uintptr_t)h * (uintptr_t)0xff51afd7ed558ccdull) ^
              (uintptr_t)0x6d6e656d65686561ull;
  return 0;
}

void
heap_set_fault_hook(struct heap *h, heap_fault_fn *fn, void *arg)
{
  h->fault_fn = fn;
  h->fault_arg = arg;
}

void
heap_set_avail_hook(struct heap *h, heap_avail_fn *fn, void *arg)
{
  h->avail_fn = fn;
  h->avail_arg = arg;
}

/* Checks [lo, hi) against the heap and the regions; returns its index. */
static inline int
region_slot(const struct heap *h, uintptr_t lo, uintptr_t hi, size_t *slot)
{
  uintptr_t hs = (uintptr_t)h;
  if (lo < hs + sizeof *h && hs < hi)
    return MN_EINVAL;
  size_t i = 0;
  while (i < h->nregions && h->regions[i].hi <= lo)
    i++;
  if (i < h->nregions && h->regions[i].lo < hi)
    return MN_EINVAL;
  if (h->nregions == HEAP_MAX_REGIONS)
    return MN_ENOSPC;
  *slot = i;
  return 0;
}

int
heap_add_region(struct heap *h, void *base, size_t size)
{
  uintptr_t lo = (uintptr_t)base, end = lo + size;
  if (end < lo)
    return MN_EINVAL;
  uintptr_t alo = (lo + HEAP_ALIGN - 1) & ~(uintptr_t)(HEAP_ALIGN - 1);
  uintptr_t ahi = end & ~(uintptr_t)(HEAP_ALIGN - 1);
  if (alo < lo || ahi < alo || ahi - alo < MIN_BLOCK + HDR)
    return MN_ERANGE;
  if (ahi - alo > BLOCK_MAX + HDR)
    ahi = alo + BLOCK_MAX + HDR;
  size_t slot;
  int err = region_slot(h, alo, ahi, &slot);
  if (err)
    return err;
  for (size_t i = h->nregions; i > slot; i--)
    h->regions[i] = h->regions[i - 1];
  h->regions[slot].lo = alo;
  h->regions[slot].hi = ahi;
  h->nregions++;

  block *b = at((void *)alo, 0), *end_marker = before((void *)ahi, HDR);
  end_marker->head = 0;
  reseal(h, end_marker);
  b->head = ahi - alo - HDR;
  make_free(h, b);
  h->total += bsize(b);
  if (bsize(b) > h->max_block)
    h->max_block = bsize(b);
  return 0;
}

/* Makes the free, unlisted block b (at least size bytes) live. */
static inline void *
take(struct heap *h, block *b, size_t size)
{
  trim_free(h, b, size);
  make_live(h, b);
  count_use(h, (long long)bsize(b));
  h->live++;
  h->allocs++;
  return payload(b);
}

/*
 * Makes the free block b, still on its list, live at size bytes. The rest
 * stays free and takes b's place on the list when it belongs there (the
 * common case of carving from a large block costs no bitmap work).
 */
static inline void *
take_listed(struct heap *h, block *b, size_t size)
{
  size_t have = bsize(b);
  if (have - size < MIN_BLOCK) {
    list_remove(h, b);
    return take(h, b, size);
  }
  block *rest = at(b, size);
  rest->head = (have - size) | FREE; /* its next already has PREV_FREE */
  *footer(rest) = have - size;
  if (same_list(have, have - size)) {
    list_replace(h, b, rest);
  } else {
    list_remove(h, b);
    list_insert(h, rest);
  }
  b->head = size | (b->head & FLAGS);
  return take(h, b, size);
}

void *
heap_alloc(struct heap *h, size_t size)
{
  size_t need = block_size_for(size);
  block *b = need ? locate(h, need) : NULL;
  if (!b) {
    h->failed++;
    return NULL;
  }
  return take_listed(h, b, need);
}

void *
heap_alloc_aligned(struct heap *h, size_t size, size_t align)
{
  if (align == 0 || (align & (align - 1))) {
    h->failed++;
    return NULL;
  }
  if (align <= HEAP_ALIGN)
    return heap_alloc(h, size);
  size_t need = block_size_for(size);
  block *b = NULL;
  if (need && need <= BLOCK_MAX - MIN_BLOCK &&
      align <= BLOCK_MAX - MIN_BLOCK - need)
    b = locate(h, need + align + MIN_BLOCK);
  if (!b) {
    h->failed++;
    return NULL;
  }
  list_remove(h, b);
  uintptr_t p = (uintptr_t)payload(b);
  uintptr_t want = (p + align - 1) & ~(uintptr_t)(align - 1);
  if (want != p && want - p < MIN_BLOCK)
    want = (p + MIN_BLOCK + align - 1) & ~(uintptr_t)(align - 1);
  size_t gap = want - p;
  if (gap) { /* the part before the aligned payload becomes a free block */
    block *lead = b;
    b = at(lead, gap);
    b->head = bsize(lead) - gap;
    lead->head = gap; /* lead's own PREV_FREE is clear: it was free */
    make_free(h, lead);
  }
  return take(h, b, need);
}

/*
 * Frees the block b (live, already accounted as freed): coalesces with free
 * neighbours, lists the result and tells the avail hook.
 */
static inline void
release(struct heap *h, block *b)
{
  b->head |= FREE; /* a stale copy of this header now reads as freed */
  b->u.seal = freed_mark(h, b);
  block *p = prev_free(b), *n = bnext(b);
  size_t next = (n->head & FREE) ? bsize(n) : 0;
  if (p) { /* grow p over b (and n); p moves only if its list changes */
    size_t old = bsize(p), grown = old + bsize(b) + next;
    if (next)
      list_remove(h, n);
    if (!same_list(old, grown))
      list_remove(h, p);
    p->head += grown - old;
    if (!same_list(old, grown))
      list_insert(h, p);
    b = p;
  } else if (next) { /* b absorbs n and takes its place when it can */
    b->head += next;
    if (same_list(next, bsize(b))) {
      list_replace(h, n, b);
    } else {
      list_remove(h, n);
      list_insert(h, b);
    }
  } else {
    list_insert(h, b);
  }
  *footer(b) = bsize(b);
  bnext(b)->head |= PREV_FREE;
  if (h->avail_fn)
    h->avail_fn(h->avail_arg, bsize(b) - HDR);
}

void
heap_free(struct heap *h, void *p)
{
  if (!p)
    return;
  block *b = live_block(h, p);
  if (!b)
    return;
  count_use(h, -(long long)bsize(b));
  h->live--;
  h->frees++;
  release(h, b);
}

/* Cuts the live block b to size bytes, freeing the rest if it can be one. */
static inline void
shrink_live(struct heap *h, block *b, size_t size)
{
  size_t have = bsize(b);
  if (have - size < MIN_BLOCK)
    return;
  block *rest = at(b, size);
  b->head = size | (b->head & FLAGS);
  reseal(h, b);
  rest->head = have - size;
  count_use(h, -(long long)rest->head);
  release(h, rest);
}

/* Copies n bytes from src down to dst < src, the ranges may overlap. */
static inline void
copy_down(char *dst, const char *src, size_t n)
{
  size_t step = (size_t)(src - dst);
  for (size_t off = 0; off < n; off += step)
    __builtin_memcpy(dst + off, src + off, n - off < step ? n - off : step);
}

/*
 * Grows the live block b to at least need bytes using its free neighbours
 * (the next one in place; else the previous one, sliding the data down).
 * Returns the block, or NULL if the neighbours are too small.
 */
static inline block *
grow_live(struct heap *h, block *b, size_t need)
{
  size_t have = bsize(b);
  block *n = bnext(b), *p;
  size_t next_free = (n->head & FREE) ? bsize(n) : 0;
  if (have + next_free >= need) {
    list_remove(h, n);
    b->head += next_free;
  } else if ((p = prev_free(b)) &&
             bsize(p) + have + next_free >= need) {
    list_remove(h, p);
    if (next_free)
      list_remove(h, n);
    p->head += have + next_free;
    copy_down(payload(p), payload(b), have - HDR);
    b = p;
  } else {
    return NULL;
  }
  trim_free(h, b, need);
  make_live(h, b);
  count_use(h, (long long)(bsize(b) - have));
  return b;
}

void *
heap_realloc(struct heap *h, void *p, size_t size)
{
  if (!p)
    return heap_alloc(h, size);
  block *b = live_block(h, p);
  if (!b)
    return NULL;
  size_t need = block_size_for(size);
  if (!need) {
    h->failed++;
    return NULL;
  }
  if (need <= bsize(b)) {
    shrink_live(h, b, need);
    return p;
  }
  block *g = grow_live(h, b, need);
  if (g)
    return payload(g);
  void *q = heap_alloc(h, size);
  if (!q)
    return NULL;
  __builtin_memcpy(q, p, bsize(b) - HDR);
  heap_free(h, p);
  return q;
}

size_t
heap_usable_size(struct heap *h, const void *p)
{
  block *b = live_block(h, p);
  return b ? bsize(b) - HDR : 0;
}

size_t
heap_need(size_t size, size_t align)
{
  size_t need = block_size_for(size);
  if (!need || align == 0 || (align & (align - 1)))
    return SIZE_MAX;
  if (align <= HEAP_ALIGN)
    return need - HDR;
  if (need > BLOCK_MAX - MIN_BLOCK || align > BLOCK_MAX - MIN_BLOCK - need)
    return SIZE_MAX;
  return need + align + MIN_BLOCK - HDR;
}

size_t
heap_largest_free(const struct heap *h)
{
  if (!h->fl_bitmap)
    return 0;
  int fl = fls_size(h->fl_bitmap);
  int sl = fls_size(h->sl_bitmap[fl]);
  size_t best = 0;
  for (const block *b = h->lists[fl][sl]; b; b = b->u.next)
    if (bsize(b) > best)
      best = bsize(b);
  return best - HDR;
}

void
heap_stats(const struct heap *h, struct heap_stats *out)
{
  out->total = h->total;
  out->in_use = h->in_use;
  out->free = h->total - h->in_use;
  out->largest_free = heap_largest_free(h);
  out->max_request = h->max_block ? h->max_block - HDR : 0;
  out->high_water = h->high_water;
  out->live = h->live;
  out->free_blocks = h->free_blocks;
  out->regions = h->nregions;
  out->allocs = h->allocs;
  out->frees = h->frees;
  out->failed = h->failed;
  out->faults = h->faults;
}

/* ---- invariant check ----------------------------------------------------- */

struct walk {
  size_t used, free, live, free_blocks;
};

/* Checks one block of a region walk; returns 0 or MN_EFORMAT. */
static inline int
check_block(const struct heap *h, const block *b, uintptr_t end,
            size_t prev_free, struct walk *w)
{
  size_t size = bsize(b);
  if ((b->head & PREV_FREE) != prev_free ||
      (b->head & FLAGS & ~(FREE | PREV_FREE)))
    return MN_EFORMAT;
  if (size == 0) /* only the end marker has size 0 */
    return ((uintptr_t)b + HDR == end && !(b->head & FREE) && sealed(h, b))
               ? 0 : MN_EFORMAT;
  if (size < MIN_BLOCK || size % HEAP_ALIGN || size > end - HDR - (uintptr_t)b)
    return MN_EFORMAT;
  if (b->head & FREE) {
    if (prev_free || *footer(b) != size)
      return MN_EFORMAT;
    w->free += size;
    w->free_blocks++;
  } else {
    if (!sealed(h, b))
      return MN_EFORMAT;
    w->used += size;
    w->live++;
  }
  return 0;
}

/* Walks every block of every region; reports the first bad one. */
static inline int
check_regions(struct heap *h, struct walk *w)
{
  for (size_t r = 0; r < h->nregions; r++) {
    uintptr_t end = h->regions[r].hi;
    const block *b = at((void *)h->regions[r].lo, 0);
    size_t prev_free = 0;
    for (;;) {
      if (check_block(h, b, end, prev_free, w)) {
        report(h, HEAP_FAULT_CORRUPT, b);
        return MN_EFORMAT;
      }
      if (bsize(b) == 0)
        break;
      prev_free = (b->head & FREE) ? PREV_FREE : 0;
      b = bnext(b);
    }
  }
  return 0;
}

/* Checks one free list: links, class, flags, and its bitmap bits. */
static inline int
check_list(struct heap *h, int fl, int sl, size_t *count)
{
  const block *prev = NULL;
  int bit = (h->sl_bitmap[fl] >> sl) & 1;
  if (bit != (h->lists[fl][sl] != NULL))
    return MN_EFORMAT;
  for (const block *b = h->lists[fl][sl]; b; b = b->u.next) {
    int f, s;
    if (++*count > h->free_blocks || (uintptr_t)b % HEAP_ALIGN ||
        region_of(h, (uintptr_t)b) < 0)
      return MN_EFORMAT;
    mapping(bsize(b), &f, &s);
    if (!(b->head & FREE) || b->prev != prev || f != fl || s != sl)
      return MN_EFORMAT;
    prev = b;
  }
  return 0;
}

int
heap_check(struct heap *h)
{
  struct walk w = { 0, 0, 0, 0 };
  if (check_regions(h, &w))
    return MN_EFORMAT;
  size_t listed = 0;
  for (int fl = 0; fl < HEAP_FL_COUNT; fl++) {
    if (((h->fl_bitmap >> fl) & 1) != (h->sl_bitmap[fl] != 0))
      goto bad;
    for (int sl = 0; sl < SL_COUNT; sl++)
      if (check_list(h, fl, sl, &listed)) {
        report(h, HEAP_FAULT_CORRUPT, h->lists[fl][sl]);
        return MN_EFORMAT;
      }
  }
  /* end markers (size 0) count neither as used nor as live */
  if (listed != w.free_blocks || listed != h->free_blocks ||
      w.used != h->in_use || w.free != h->total - h->in_use ||
      w.live != h->live)
    goto bad;
  return 0;
bad:
  report(h, HEAP_FAULT_CORRUPT, h);
  return MN_EFORMAT;
}
