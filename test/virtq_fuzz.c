/*
 * virtq_fuzz.c: libFuzzer target for the split virtqueue of
 * virtio/virtio_pci.c against a hostile device: the input is a program
 * of driver operations (add chains of 1-4 buffers, collect finished
 * ones) and device writes to the used ring (any id, any length, any
 * index). After every step: every cookie returned was outstanding and
 * is returned once, and the free descriptors plus the outstanding chains
 * account for the whole table with no descriptor in both.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mneme/kmem.h"
#include "mneme/virtio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What virtio_pci.c needs from the kernel and the platform. */
void *kmalloc_aligned(size_t size, size_t align) { return aligned_alloc(align, (size + align - 1) / align * align); }
void *kzalloc(size_t size) { return calloc(1, size); }
void kfree(void *p) { free(p); }
void waitq_init(struct waitq *q) { memset(q, 0, sizeof *q); }
void waitq_wake_all(struct waitq *q) { (void)q; }
uint64_t plat_dma_addr(const void *p) { return (uint64_t)(uintptr_t)p; }
void plat_io_barrier(void) {}
void pci_enable(struct pci_dev *d) { (void)d; }
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t start) { return 0; }
uint8_t pci_cfg_read8(const struct pci_dev *d, uint16_t off) { return 0xff; }
uint32_t pci_cfg_read32(const struct pci_dev *d, uint16_t off) { return 0xffffffffu; }
void *pci_bar_map(struct pci_dev *d, unsigned i) { return NULL; }
int pci_irq_setup(struct pci_dev *d, unsigned v, pci_irq_fn fn, void *arg) { return -16; }

static uint8_t common[0x40];
static uint16_t notify_area[8];

#define MAXQ 64
static int outstanding[MAXQ];   /* chain length by head, 0: not outstanding */
static uint8_t buffers[4][64];

static void check(struct virtq *q) {
  uint8_t mark[MAXQ] = {0};
  unsigned total = 0;
  for (unsigned h = 0; h < q->size; h++) {
    if (!outstanding[h]) continue;
    uint16_t i = (uint16_t)h;
    for (int k = 0; k < outstanding[h]; k++) {
      if (i >= q->size || mark[i]) abort();
      mark[i] = 1;
      total++;
      i = q->desc[i].next;
    }
  }
  uint16_t i = q->free_head;
  for (unsigned k = 0; k < q->num_free; k++) {
    if (i >= q->size || mark[i]) abort(); /* free and in use, or free twice */
    mark[i] = 1;
    total++;
    i = q->desc[i].next;
  }
  if (total != q->size) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  struct virtio_dev v;
  memset(&v, 0, sizeof v);
  memset(common, 0, sizeof common);
  v.common = common;
  v.notify_base = (volatile uint8_t *)notify_area;
  common[0x12] = 1;                        /* one queue */
  uint16_t qsize = (uint16_t)(1u << (data[0] % 7)); /* 1..64 */
  memcpy(common + 0x18, &qsize, 2);
  struct virtq q;
  if (virtio_queue_setup(&v, 0, MAXQ, &q)) return 0;
  memset(outstanding, 0, sizeof outstanding);
  size_t at = 1;
  uint16_t dev_idx = 0;
  while (at + 1 < size) {
    uint8_t op = data[at++], arg = data[at++];
    switch (op % 4) {
    case 0: { /* add a chain */
      struct virtq_buf b[4];
      unsigned n = 1 + arg % 4, nout = arg / 4 % (n + 1);
      for (unsigned k = 0; k < n; k++) b[k] = (struct virtq_buf){buffers[k], 64};
      uint16_t head = q.free_head;
      int free_before = q.num_free;
      int rc = virtq_add(&q, b, nout, n - nout, &outstanding[head]);
      if (rc == 0) {
        if (outstanding[head]) abort(); /* handed out twice */
        outstanding[head] = (int)n;
      } else if ((int)n <= free_before) {
        abort(); /* refused although there was room */
      }
      virtq_kick(&v, &q);
      break;
    }
    case 1: { /* the device returns an entry: any id, any length */
      uint16_t id = arg;
      if (at < size && (data[at] & 1)) id = (uint16_t)(q.avail->ring[arg % q.size]); /* a real head */
      q.used->ring[dev_idx % q.size].id = id;
      q.used->ring[dev_idx % q.size].len = arg * 97u;
      dev_idx++;
      q.used->idx = dev_idx;
      break;
    }
    case 2: { /* the driver collects */
      uint32_t len;
      void *c;
      while ((c = virtq_get_used(&q, &len)) != NULL) {
        int *slot = c;
        if (slot < outstanding || slot >= outstanding + MAXQ || !*slot) abort();
        *slot = 0;
      }
      break;
    }
    case 3: /* the device writes a wild index */
      dev_idx = (uint16_t)(arg * 257u);
      q.used->idx = dev_idx;
      break;
    }
    check(&q);
  }
  kfree(q.mem);
  kfree(q.cookie);
  return 0;
}
