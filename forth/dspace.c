/*
 * dspace.c: data space in pages, shared copy-on-write between VMs.
 *
 * Data space [base, base + size) is 1 KiB pages. A page entry points into
 * a refcounted segment (each entry holds one reference) or is NULL (never
 * written: reads zero). New data goes to two private windows, contiguous
 * segments of the VM's own that grow page by page as they are written:
 * one in the dictionary zone [base, dict_end) from HERE up, one in the
 * heap zone [heap_lo, heap_hi). The inner interpreter's fast path checks
 * only the dictionary window (one compare, as with flat memory); all else
 * comes here.
 *
 * SPAWN freezes the parent (dspace_freeze): both windows become shared
 * pages and every page loses `own`; the child copies the page table
 * (dspace_share), taking a reference per entry. A store to a page that is
 * not `own` copies it first (unless the VM holds the only reference), so
 * a child that only reads costs nothing and each page it writes costs one
 * page. A range that spans pages must be contiguous for C words: pages
 * that are not already adjacent in one segment are copied together into
 * one new segment, and a range that reaches into a window's region grows
 * the window over it.
 *
 * Interface: vm_ptr, vm_rptr, vm_ptr2, vm_access, vm_get, vm_set,
 *   dspace_init, dspace_freeze, dspace_share, dspace_free, dspace_usage
 */
#include "forth_int.h"
#include <mneme/err.h>

static const uint8_t zero_page[PAGE_BYTES];

#define PFLOOR(x) ((ucell)(x) & ~(PAGE_BYTES - 1))
#define PCEIL(x) (((ucell)(x) + PAGE_BYTES - 1) & ~(PAGE_BYTES - 1))

static void sync_fast(forth_vm *vm)
{
  struct dwin *w = &vm->win[0];
  vm->pmem = w->mem;
  vm->plo = w->lo;
  vm->plim = w->len >= 16 ? w->len - 15 : 0;
}

int dspace_init(forth_vm *vm, size_t dict, size_t heap)
{
  vm->base = VM_BASE;
  vm->size = (ucell)(dict + heap);
  vm->npages = (size_t)(vm->size >> PAGE_SHIFT);
  vm->pages = vm->host.alloc(vm->host.ctx, NULL, 0, vm->npages * sizeof *vm->pages);
  if (!vm->pages)
    return -1;
  memset(vm->pages, 0, vm->npages * sizeof *vm->pages);
  vm->dict_end = (cell)(vm->base + dict);
  vm->heap_lo = vm->dict_end;
  vm->heap_hi = (cell)(vm->base + dict + heap);
  vm->win[0] = (struct dwin){NULL, vm->base, 0, 0, (ucell)vm->dict_end};
  vm->win[1] = (struct dwin){NULL, (ucell)vm->heap_lo, 0, 0, (ucell)vm->heap_hi};
  sync_fast(vm);
  return 0;
}

static struct dpage *entry(forth_vm *vm, ucell a)
{
  return &vm->pages[(a - vm->base) >> PAGE_SHIFT];
}

/* Releases seg; if that frees it, only after the current C word, whose
 * pointers into it stay readable until then. */
static void bury(forth_vm *vm, void *seg)
{
  if (vm_seg_refs(seg) > 1 || vm->ngrave == (int)(sizeof vm->grave / sizeof vm->grave[0]))
    vm_seg_release(seg);
  else
    vm->grave[vm->ngrave++] = seg;
}

void dspace_flush(forth_vm *vm)
{
  while (vm->ngrave)
    vm_seg_release(vm->grave[--vm->ngrave]);
}

static void drop(forth_vm *vm, struct dpage *e)
{
  if (e->seg)
    bury(vm, e->seg);
  e->data = NULL;
  e->seg = NULL;
  e->own = 0;
}

/* Grows window w to cover [lo, hi) (page aligned, inside its region),
 * taking over the pages it now covers. 0 or -1 (no memory). */
static int grow(forth_vm *vm, struct dwin *w, ucell lo, ucell hi)
{
  ucell olo = w->lo, ohi = w->lo + w->len;
  ucell nlo = w->len && olo < lo ? olo : lo;
  ucell nhi = w->len && ohi > hi ? ohi : hi;
  if (!w->len)
    olo = ohi = nlo;
  uint8_t *m = w->mem;
  int fresh = 0; /* m is new: zero where nothing was copied (cfg.zeroed) */
  if (!m || nlo != olo || nhi - nlo > w->cap) {
    fresh = 1;
    /* past 4 pages twice the room, so writing on page by page copies
     * little (the part not yet used is never touched) */
    ucell need = nhi - nlo;
    ucell cap = need >= 4 * PAGE_BYTES ? 2 * need : need;
    if (vm->cfg.zeroed)
      cap = w->hi - nlo; /* the host's zero pages cost nothing until used */
    if (cap > w->hi - nlo)
      cap = w->hi - nlo;
    m = vm_seg_alloc(vm, (size_t)cap);
    if (!m)
      return vm->oom = -1;
    if (w->mem) {
      memcpy(m + (olo - nlo), w->mem, (size_t)w->len);
      bury(vm, w->mem);
    }
    w->cap = cap;
  }
  for (ucell p = nlo; p < nhi; p += PAGE_BYTES) {
    if (p >= olo && p < ohi)
      continue;
    struct dpage *e = entry(vm, p);
    if (e->data || !fresh || !vm->cfg.zeroed)
      memcpy(m + (p - nlo), e->data ? e->data : zero_page, PAGE_BYTES);
    drop(vm, e);
  }
  w->mem = m;
  w->lo = nlo;
  w->len = nhi - nlo;
  sync_fast(vm);
  return 0;
}

/* Makes page entry e the VM's own. 0 or -1. */
static int own_page(forth_vm *vm, struct dpage *e)
{
  if (e->own)
    return 0;
  if (e->seg && vm_seg_refs(e->seg) == 1) { /* nobody else holds it */
    e->own = 1;
    return 0;
  }
  uint8_t *c = vm_seg_alloc(vm, PAGE_BYTES);
  if (!c)
    return vm->oom = -1;
  memcpy(c, e->data ? e->data : zero_page, PAGE_BYTES);
  drop(vm, e);
  e->data = e->seg = c;
  e->own = 1;
  return 0;
}

/* Pages [first, last] as one contiguous run, copied if they are not one
 * already; made the VM's own if write. NULL if no memory. */
static uint8_t *run(forth_vm *vm, size_t first, size_t last, int write)
{
  struct dpage *e = vm->pages;
  int ok = e[first].data != NULL;
  for (size_t k = first; ok && k <= last; k++)
    ok = e[k].data && e[k].data == e[first].data + (k - first) * PAGE_BYTES &&
         (!write || e[k].own || vm_seg_refs(e[k].seg) == 1);
  if (ok) {
    for (size_t k = first; write && k <= last; k++)
      e[k].own = 1;
    return e[first].data;
  }
  size_t n = last - first + 1;
  uint8_t *c = vm_seg_alloc(vm, n * PAGE_BYTES);
  if (!c) {
    vm->oom = 1;
    return NULL;
  }
  vm_seg_ref(c, (long)n - 1);
  for (size_t k = first; k <= last; k++) {
    uint8_t *d = c + (k - first) * PAGE_BYTES;
    memcpy(d, e[k].data ? e[k].data : zero_page, PAGE_BYTES);
    drop(vm, &e[k]);
    e[k].data = d;
    e[k].seg = c;
    e[k].own = 1;
  }
  return c;
}

/* The slow path of every data-space access: host address of [a, a+n),
 * writable if write, or NULL if not all valid (or no memory). */
uint8_t *vm_access(forth_vm *vm, ucell a, ucell n, int write)
{
  ucell o = a - vm->base;
  if (o > vm->size || n > vm->size - o)
    return NULL;
  if (!n)
    return (uint8_t *)zero_page;
  ucell end = a + n;
  struct dwin *w = a < (ucell)vm->heap_lo ? &vm->win[0] : &vm->win[1];
  ucell zlo = w == vm->win ? vm->base : (ucell)vm->heap_lo;
  if (end > w->hi || a < zlo)
    return NULL; /* spans the dictionary and the heap */
  if (end > w->lo) {
    if (a >= w->lo && end <= w->lo + w->len)
      return w->mem + (a - w->lo);
    if (!write && a >= w->lo && (o >> PAGE_SHIFT) == ((o + n - 1) >> PAGE_SHIFT)) {
      struct dpage *e = entry(vm, a); /* frozen, not yet copied */
      return (e->data ? e->data : (uint8_t *)zero_page) + (o & (PAGE_BYTES - 1));
    }
    if (grow(vm, w, PFLOOR(a < w->lo ? a : w->lo), PCEIL(end)))
      return NULL;
    return w->mem + (a - w->lo);
  }
  size_t first = (size_t)(o >> PAGE_SHIFT), last = (size_t)((o + n - 1) >> PAGE_SHIFT);
  struct dpage *e = &vm->pages[first];
  if (first == last) {
    if (!write)
      return (e->data ? e->data : (uint8_t *)zero_page) + (o & (PAGE_BYTES - 1));
    if (own_page(vm, e))
      return NULL;
    return e->data + (o & (PAGE_BYTES - 1));
  }
  uint8_t *r = run(vm, first, last, write);
  return r ? r + (o & (PAGE_BYTES - 1)) : NULL;
}

void *vm_ptr(forth_vm *vm, cell addr, cell len)
{
  if (len < 0)
    return NULL;
  return vm_access(vm, (ucell)addr, (ucell)len, 1);
}

const void *vm_rptr(forth_vm *vm, cell addr, cell len)
{
  if (len < 0)
    return NULL;
  return vm_access(vm, (ucell)addr, (ucell)len, 0);
}

void vm_ptr2(forth_vm *vm, cell a1, cell n1, int w1, cell a2, cell n2, int w2,
             uint8_t **p1, uint8_t **p2)
{
  *p1 = n1 < 0 ? NULL : vm_access(vm, (ucell)a1, (ucell)n1, w1);
  *p2 = n2 < 0 ? NULL : vm_access(vm, (ucell)a2, (ucell)n2, w2);
  if (*p1 && *p2)
    *p1 = vm_access(vm, (ucell)a1, (ucell)n1, w1);
}

cell vm_get(forth_vm *vm, cell addr)
{
  cell x = 0;
  const uint8_t *p = vm_access(vm, (ucell)addr, sizeof x, 0);
  if (p)
    memcpy(&x, p, sizeof x);
  return x;
}

void vm_set(forth_vm *vm, cell addr, cell x)
{
  uint8_t *p = vm_access(vm, (ucell)addr, sizeof x, 1);
  if (p)
    memcpy(p, &x, sizeof x);
}

/* Turns the windows into shared pages: from now on every store to data
 * that exists copies its page first. 0 or -1. */
int dspace_freeze(forth_vm *vm)
{
  for (int i = 0; i < 2; i++) {
    struct dwin *w = &vm->win[i];
    if (w->len) {
      for (ucell p = 0; p < w->len; p += PAGE_BYTES) {
        struct dpage *e = entry(vm, w->lo + p);
        e->data = w->mem + p;
        e->seg = w->mem;
      }
      vm_seg_ref(w->mem, (long)(w->len >> PAGE_SHIFT) - 1);
    }
    w->mem = NULL;
    w->len = w->cap = 0;
  }
  for (size_t k = 0; k < vm->npages; k++)
    vm->pages[k].own = 0;
  /* New data goes on from HERE and from the top of the used heap. */
  vm->win[0].lo = PFLOOR(vm->here);
  ucell top = (ucell)vm->heap_lo;
  for (int b = 0; b < vm->nblocks; b++)
    if (vm->blocks[b].used)
      top = (ucell)(vm->blocks[b].addr + vm->blocks[b].size);
  vm->win[1].lo = PFLOOR(top);
  sync_fast(vm);
  return 0;
}

/* `to` (a new VM) shares from's frozen pages. 0 or -1. */
int dspace_share(forth_vm *from, forth_vm *to)
{
  to->base = from->base;
  to->size = from->size;
  to->npages = from->npages;
  to->pages = to->host.alloc(to->host.ctx, NULL, 0, to->npages * sizeof *to->pages);
  if (!to->pages)
    return -1;
  memcpy(to->pages, from->pages, to->npages * sizeof *to->pages);
  for (size_t k = 0; k < to->npages; k++)
    if (to->pages[k].seg)
      vm_seg_ref(to->pages[k].seg, 1);
  for (int i = 0; i < 2; i++) {
    to->win[i] = from->win[i];
    to->win[i].mem = NULL;
    to->win[i].len = to->win[i].cap = 0;
  }
  sync_fast(to);
  return 0;
}

void dspace_free(forth_vm *vm)
{
  if (vm->pages) {
    for (size_t k = 0; k < vm->npages; k++)
      drop(vm, &vm->pages[k]);
    vm->host.alloc(vm->host.ctx, vm->pages, vm->npages * sizeof *vm->pages, 0);
    vm->pages = NULL;
  }
  for (int i = 0; i < 2; i++)
    if (vm->win[i].mem)
      vm_seg_release(vm->win[i].mem);
  vm->win[0].mem = vm->win[1].mem = NULL;
  dspace_flush(vm);
}

/* Bytes of data space: the VM's own (windows, pages only it holds, the
 * page table) and its shares of pages others hold too. */
void dspace_usage(forth_vm *vm, size_t *own, size_t *shared)
{
  size_t o = vm->npages * sizeof *vm->pages, s = 0;
  for (int i = 0; i < 2; i++)
    o += (size_t)vm->win[i].cap;
  for (size_t k = 0; k < vm->npages; k++) {
    const struct dpage *e = &vm->pages[k];
    if (!e->seg)
      continue;
    /* entries of this VM holding the same segment */
    long mine = 0;
    for (size_t j = 0; j < vm->npages; j++)
      mine += vm->pages[j].seg == e->seg;
    if (vm_seg_refs(e->seg) <= mine)
      o += PAGE_BYTES;
    else
      s += PAGE_BYTES;
  }
  *own = o;
  *shared = s;
}
