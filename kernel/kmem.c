/*
 * kmem.c: the kernel heap and waiting for memory.
 *
 * Interface: kmem_init, kmalloc, kmalloc_aligned, kzalloc, krealloc,
 * kfree, kmalloc_wait, kmem_heap.
 *
 * One TLSF heap (heap.c) over every region from the platform. The heap's
 * "memory became available" hook wakes tasks in kmalloc_wait(), which then
 * retry; interrupt handlers never allocate.
 */
#include <string.h>
#include "mneme/err.h"
#include "mneme/heap.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/waitq.h"

static struct heap kheap;
static struct waitq mem_waiters;

static void
on_avail(void *arg, size_t avail)
{
  (void)arg;
  (void)avail;
  if (waitq_has_waiters(&mem_waiters))
    waitq_wake_all(&mem_waiters);
}

static void
on_fault(void *arg, int fault, const void *addr)
{
  (void)arg;
  panic("heap: %s at %p", fault == HEAP_FAULT_DOUBLE_FREE ? "double free"
        : fault == HEAP_FAULT_BAD_POINTER ? "free of a bad pointer"
        : "corrupted heap", addr);
}

int
kmem_init(const struct mem_region *regions, size_t n)
{
  heap_init(&kheap);
  waitq_init(&mem_waiters);
  heap_set_avail_hook(&kheap, on_avail, 0);
  heap_set_fault_hook(&kheap, on_fault, 0);
  int added = 0;
  for (size_t i = 0; i < n; i++)
    if (heap_add_region(&kheap, (void *)regions[i].base, regions[i].size) == 0)
      added++;
  return added ? 0 : MN_ENOMEM;
}

struct heap *
kmem_heap(void)
{
  return &kheap;
}

void *
kmalloc(size_t size)
{
  return heap_alloc(&kheap, size);
}

void *
kmalloc_aligned(size_t size, size_t align)
{
  return heap_alloc_aligned(&kheap, size, align);
}

void *
kzalloc(size_t size)
{
  void *p = heap_alloc(&kheap, size);
  if (p)
    memset(p, 0, size);
  return p;
}

void *
krealloc(void *p, size_t size)
{
  return heap_realloc(&kheap, p, size);
}

void
kfree(void *p)
{
  if (p)
    heap_free(&kheap, p);
}

struct alloc_args {
  size_t size;
  void **out;
};

static int
try_alloc(void *arg)
{
  struct alloc_args *a = arg;
  *a->out = heap_alloc(&kheap, a->size);
  return *a->out ? 0 : MN_EAGAIN;
}

int
kmalloc_wait(size_t size, uint64_t timeout_ns, void **out)
{
  struct heap_stats st;
  heap_stats(&kheap, &st);
  if (heap_need(size, 1) > st.max_request)
    return MN_ENOMEM;
  struct alloc_args a = { size, out };
  return waitq_retry(&mem_waiters, try_alloc, &a, timeout_ns);
}
