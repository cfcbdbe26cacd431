/*
 * heap.c: ALLOCATE / FREE / RESIZE inside the VM's own data space.
 *
 * The heap is the top part of data space, [heap_lo, heap_hi). Its block
 * table (address, size, used) lives in host memory, sorted by address, so
 * a Forth program that writes past the end of a block can damage only its
 * own data, never the allocator. First fit; neighbours merge when freed.
 * The table has a fixed number of entries: when it is full, ALLOCATE fails
 * with an ior like any other exhaustion.
 *
 * Interface:
 *   fheap_init, fheap_alloc, fheap_free, fheap_resize
 */
#include "forth_int.h"

int fheap_init(forth_vm *vm)
{
  if (fheap_grow_table(vm, 1))
    return -1;
  vm->nblocks = 1;
  vm->blocks[0].addr = vm->heap_lo;
  vm->blocks[0].size = vm->heap_hi - vm->heap_lo;
  vm->blocks[0].used = 0;
  return 0;
}

/* Makes room for need entries in the block table (it grows as used, up
 * to maxblocks). 0 or -1. */
int fheap_grow_table(forth_vm *vm, int need)
{
  if (need <= vm->capblocks)
    return 0;
  if (need > vm->maxblocks)
    return -1;
  int nc = vm->capblocks ? vm->capblocks * 2 : 8;
  if (nc < need)
    nc = need;
  if (nc > vm->maxblocks)
    nc = vm->maxblocks;
  struct hblock *b = vm->host.alloc(vm->host.ctx, vm->blocks,
                                    (size_t)vm->capblocks * sizeof *b,
                                    (size_t)nc * sizeof *b);
  if (!b)
    return -1;
  vm->blocks = b;
  vm->capblocks = nc;
  return 0;
}

static int insert_after(forth_vm *vm, int i)
{
  if (fheap_grow_table(vm, vm->nblocks + 1))
    return -1;
  memmove(&vm->blocks[i + 2], &vm->blocks[i + 1],
          (size_t)(vm->nblocks - i - 1) * sizeof vm->blocks[0]);
  vm->nblocks++;
  return 0;
}

static void remove_at(forth_vm *vm, int i)
{
  memmove(&vm->blocks[i], &vm->blocks[i + 1],
          (size_t)(vm->nblocks - i - 1) * sizeof vm->blocks[0]);
  vm->nblocks--;
}

/* Cuts block i to size bytes, the rest becoming a free block. */
static void split(forth_vm *vm, int i, cell size)
{
  struct hblock *b = &vm->blocks[i];
  if (b->size - size < CELL || insert_after(vm, i))
    return;
  b = &vm->blocks[i];
  b[1].addr = b->addr + size;
  b[1].size = b->size - size;
  b[1].used = 0;
  b->size = size;
  if (i + 2 < vm->nblocks && !b[2].used) { /* merge the rest forward */
    b[1].size += b[2].size;
    remove_at(vm, i + 2);
  }
}

static cell round_up(ucell n)
{
  ucell r = (n + sizeof(cell) - 1) & ~(ucell)(sizeof(cell) - 1);
  return r ? (cell)r : CELL;
}

/* Returns the address of n fresh bytes, or 0. */
cell fheap_alloc(forth_vm *vm, ucell n)
{
  if (n > (ucell)(vm->heap_hi - vm->heap_lo))
    return 0;
  cell size = round_up(n);
  for (int i = 0; i < vm->nblocks; i++) {
    struct hblock *b = &vm->blocks[i];
    if (b->used || b->size < size)
      continue;
    split(vm, i, size);
    vm->blocks[i].used = 1;
    return vm->blocks[i].addr;
  }
  return 0;
}

static int find_block(forth_vm *vm, cell addr)
{
  int lo = 0, hi = vm->nblocks - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (vm->blocks[mid].addr == addr)
      return vm->blocks[mid].used ? mid : -1;
    if (vm->blocks[mid].addr < addr)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return -1;
}

/* 0, or -1 if addr is not an allocated block. */
int fheap_free(forth_vm *vm, cell addr)
{
  int i = find_block(vm, addr);
  if (i < 0)
    return -1;
  vm->blocks[i].used = 0;
  if (i + 1 < vm->nblocks && !vm->blocks[i + 1].used) {
    vm->blocks[i].size += vm->blocks[i + 1].size;
    remove_at(vm, i + 1);
  }
  if (i > 0 && !vm->blocks[i - 1].used) {
    vm->blocks[i - 1].size += vm->blocks[i].size;
    remove_at(vm, i);
  }
  return 0;
}

/* New address of the block resized to n bytes (contents kept), or 0 with
 * *err -61 (the old block is then unchanged). */
cell fheap_resize(forth_vm *vm, cell addr, ucell n, int *err)
{
  *err = -61;
  int i = find_block(vm, addr);
  if (i < 0 || n > (ucell)(vm->heap_hi - vm->heap_lo))
    return 0;
  cell size = round_up(n);
  struct hblock *b = &vm->blocks[i];
  if (b->size >= size) {
    split(vm, i, size);
    *err = 0;
    return addr;
  }
  if (i + 1 < vm->nblocks && !b[1].used && b->size + b[1].size >= size) {
    b->size += b[1].size;
    remove_at(vm, i + 1);
    split(vm, i, size);
    *err = 0;
    return addr;
  }
  cell old = b->size;
  cell na = fheap_alloc(vm, (ucell)size);
  if (!na)
    return 0;
  uint8_t *src, *dst;
  vm_ptr2(vm, addr, old, 0, na, old, 1, &src, &dst);
  if (!src || !dst) {
    fheap_free(vm, na);
    return 0;
  }
  memmove(dst, src, (size_t)old);
  fheap_free(vm, addr);
  *err = 0;
  return na;
}
