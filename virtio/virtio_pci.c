/*
 * virtio_pci.c: the virtio 1.0 PCI transport and split virtqueues
 * (include/mneme/virtio.h).
 *
 * Interface: virtio_pci_match, virtio_pci_init, virtio_negotiate,
 * virtio_queue_setup, virtio_irq_setup, virtio_driver_ok, virtio_fail,
 * virtio_status, virtio_cfg_read, virtq_add, virtq_kick, virtq_get_used,
 * virtq_has_used, virtq_irq_off.
 */
#include <string.h>

#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/virtio.h"

/* Common configuration (virtio 1.0, 4.1.4.3) */
#define C_DFSELECT 0x00
#define C_DF 0x04
#define C_GFSELECT 0x08
#define C_GF 0x0c
#define C_MSIX_CONFIG 0x10
#define C_NUM_QUEUES 0x12
#define C_STATUS 0x14
#define C_GENERATION 0x15
#define C_Q_SELECT 0x16
#define C_Q_SIZE 0x18
#define C_Q_MSIX 0x1a
#define C_Q_ENABLE 0x1c
#define C_Q_NOTIFY_OFF 0x1e
#define C_Q_DESC 0x20
#define C_Q_DRIVER 0x28
#define C_Q_DEVICE 0x30

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

#define NO_VECTOR 0xffff

static void w8(volatile uint8_t *b, unsigned off, uint8_t v) { b[off] = v; }
static void w16(volatile uint8_t *b, unsigned off, uint16_t v) {
  *(volatile uint16_t *)(b + off) = v;
}
static void w32(volatile uint8_t *b, unsigned off, uint32_t v) {
  *(volatile uint32_t *)(b + off) = v;
}
static void w64(volatile uint8_t *b, unsigned off, uint64_t v) {
  w32(b, off, (uint32_t)v);
  w32(b, off + 4, (uint32_t)(v >> 32));
}
static uint8_t r8(volatile uint8_t *b, unsigned off) { return b[off]; }
static uint16_t r16(volatile uint8_t *b, unsigned off) { return *(volatile uint16_t *)(b + off); }
static uint32_t r32(volatile uint8_t *b, unsigned off) { return *(volatile uint32_t *)(b + off); }

int virtio_pci_match(const struct pci_dev *d, unsigned id) {
  if (d->vendor != VIRTIO_VENDOR) return 0;
  if (d->device == 0x1040 + id) return 1;
  return d->device >= 0x1000 && d->device <= 0x103f && d->subsys_device == id;
}

int virtio_pci_init(struct virtio_dev *v, struct pci_dev *d) {
  memset(v, 0, sizeof *v);
  v->pci = d;
  waitq_init(&v->irq);
  pci_enable(d);
  for (uint8_t c = pci_find_cap(d, PCI_CAP_VENDOR, 0); c; c = pci_find_cap(d, PCI_CAP_VENDOR, c)) {
    uint8_t type = pci_cfg_read8(d, c + 3), bar = pci_cfg_read8(d, c + 4);
    uint32_t off = pci_cfg_read32(d, c + 8), len = pci_cfg_read32(d, c + 12);
    if (type < CAP_COMMON || type > CAP_DEVICE || bar >= 6) continue;
    uint8_t *base = pci_bar_map(d, bar);
    if (!base || (uint64_t)off + len > d->bar[bar].size) continue;
    volatile uint8_t *p = base + off;
    switch (type) {
    case CAP_COMMON:
      if (!v->common && len >= 0x38) v->common = p;
      break;
    case CAP_NOTIFY:
      if (!v->notify_base) {
        v->notify_base = p;
        v->notify_mult = pci_cfg_read32(d, c + 16);
      }
      break;
    case CAP_ISR:
      if (!v->isr) v->isr = p;
      break;
    case CAP_DEVICE:
      if (!v->devcfg) {
        v->devcfg = p;
        v->devcfg_len = len;
      }
      break;
    }
  }
  if (!v->common || !v->notify_base || !v->isr) return MN_ENOTSUP;
  w8(v->common, C_STATUS, 0); /* reset */
  for (int i = 0; r8(v->common, C_STATUS) != 0; i++)
    if (i > 1000000) return MN_EIO;
  w8(v->common, C_STATUS, VIRTIO_S_ACKNOWLEDGE);
  w8(v->common, C_STATUS, VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER);
  return 0;
}

int virtio_negotiate(struct virtio_dev *v, uint64_t wanted) {
  w32(v->common, C_DFSELECT, 0);
  uint64_t dev = r32(v->common, C_DF);
  w32(v->common, C_DFSELECT, 1);
  dev |= (uint64_t)r32(v->common, C_DF) << 32;
  if (!(dev & VIRTIO_F_VERSION_1)) return MN_ENOTSUP;
  uint64_t f = dev & (wanted | VIRTIO_F_VERSION_1);
  w32(v->common, C_GFSELECT, 0);
  w32(v->common, C_GF, (uint32_t)f);
  w32(v->common, C_GFSELECT, 1);
  w32(v->common, C_GF, (uint32_t)(f >> 32));
  w8(v->common, C_STATUS, r8(v->common, C_STATUS) | VIRTIO_S_FEATURES_OK);
  if (!(r8(v->common, C_STATUS) & VIRTIO_S_FEATURES_OK)) return MN_EIO;
  v->features = f;
  return 0;
}

static void irq_handler(void *arg) {
  struct virtio_dev *v = arg;
  if (v->irq_mode == PCI_IRQ_INTX) {
    uint8_t isr = *v->isr; /* reading clears it and drops the line */
    if (!isr) return;      /* a device sharing the line */
    v->isr_bits |= isr;
  }
  v->irqs++;
  waitq_wake_all(&v->irq);
}

int virtio_irq_setup(struct virtio_dev *v) {
  int r = pci_irq_setup(v->pci, 1, irq_handler, v);
  if (r < 0) return r;
  v->irq_mode = r;
  if (r == PCI_IRQ_MSIX) {
    w16(v->common, C_MSIX_CONFIG, 0);
    if (r16(v->common, C_MSIX_CONFIG) == NO_VECTOR) return MN_EIO;
  }
  return r;
}

int virtio_queue_setup(struct virtio_dev *v, uint16_t index, uint16_t max, struct virtq *q) {
  memset(q, 0, sizeof *q);
  if (index >= r16(v->common, C_NUM_QUEUES)) return MN_ENOENT;
  w16(v->common, C_Q_SELECT, index);
  uint16_t size = r16(v->common, C_Q_SIZE);
  if (!size) return MN_ENOENT;
  while (size > max) size /= 2; /* sizes are powers of two */
  if (!size) return MN_EINVAL;
  size_t desc_sz = 16u * size, avail_sz = 6u + 2u * size, used_sz = 6u + 8u * size;
  size_t used_off = (desc_sz + avail_sz + 3) & ~(size_t)3;
  uint8_t *mem = kmalloc_aligned(used_off + used_sz, 4096);
  q->cookie = kzalloc(sizeof(void *) * size);
  if (!mem || !q->cookie) {
    kfree(mem);
    kfree(q->cookie);
    return MN_ENOMEM;
  }
  memset(mem, 0, used_off + used_sz);
  q->mem = mem;
  q->index = index;
  q->size = size;
  q->desc = (struct virtq_desc *)mem;
  q->avail = (volatile struct virtq_avail *)(mem + desc_sz);
  q->used = (volatile struct virtq_used *)(mem + used_off);
  for (uint16_t i = 0; i < size; i++) q->desc[i].next = (uint16_t)(i + 1);
  q->free_head = 0;
  q->num_free = size;
  w16(v->common, C_Q_SIZE, size);
  w64(v->common, C_Q_DESC, plat_dma_addr(q->desc));
  w64(v->common, C_Q_DRIVER, plat_dma_addr((const void *)q->avail));
  w64(v->common, C_Q_DEVICE, plat_dma_addr((const void *)q->used));
  if (v->irq_mode == PCI_IRQ_MSIX) {
    w16(v->common, C_Q_MSIX, 0);
    if (r16(v->common, C_Q_MSIX) == NO_VECTOR) return MN_EIO;
  }
  uint16_t noff = r16(v->common, C_Q_NOTIFY_OFF);
  q->notify = (volatile uint16_t *)(v->notify_base + (size_t)noff * v->notify_mult);
  w16(v->common, C_Q_ENABLE, 1);
  return 0;
}

void virtio_driver_ok(struct virtio_dev *v) {
  plat_io_barrier();
  w8(v->common, C_STATUS, r8(v->common, C_STATUS) | VIRTIO_S_DRIVER_OK);
}

void virtio_fail(struct virtio_dev *v) {
  if (v->common) w8(v->common, C_STATUS, r8(v->common, C_STATUS) | VIRTIO_S_FAILED);
}

uint8_t virtio_status(const struct virtio_dev *v) { return r8(v->common, C_STATUS); }

/* Device configuration fields are read with accesses of their own width
 * (virtio 1.0, 4.1.3.1): 32-bit where off and len allow, else 16, else 8. */
void virtio_cfg_read(const struct virtio_dev *v, uint32_t off, void *buf, size_t len) {
  uint8_t *out = buf;
  if (!v->devcfg || off > v->devcfg_len || len > v->devcfg_len - off) {
    memset(buf, 0, len);
    return;
  }
  for (int tries = 0; tries < 16; tries++) {
    uint8_t gen = r8(v->common, C_GENERATION);
    for (size_t i = 0; i < len;) {
      uint32_t at = off + (uint32_t)i;
      if (!(at & 3) && len - i >= 4) {
        uint32_t x = r32(v->devcfg, at);
        memcpy(out + i, &x, 4);
        i += 4;
      } else if (!(at & 1) && len - i >= 2) {
        uint16_t x = r16(v->devcfg, at);
        memcpy(out + i, &x, 2);
        i += 2;
      } else {
        out[i++] = r8(v->devcfg, at);
      }
    }
    if (r8(v->common, C_GENERATION) == gen) return;
  }
}

int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned nout, unsigned nin,
              void *cookie) {
  unsigned n = nout + nin;
  if (!n || n > q->num_free || !cookie) return MN_ENOSPC;
  uint16_t head = q->free_head, i = head, last = head;
  for (unsigned k = 0; k < n; k++) {
    struct virtq_desc *d = &q->desc[i];
    d->addr = plat_dma_addr(bufs[k].addr);
    d->len = bufs[k].len;
    d->flags = (uint16_t)((k + 1 < n ? VIRTQ_DESC_F_NEXT : 0) |
                          (k >= nout ? VIRTQ_DESC_F_WRITE : 0));
    last = i;
    i = d->next;
  }
  q->free_head = q->desc[last].next;
  q->num_free = (uint16_t)(q->num_free - n);
  q->cookie[head] = cookie;
  q->avail->ring[q->avail_idx % q->size] = head;
  plat_io_barrier(); /* the descriptors and ring entry before the index */
  q->avail_idx++;
  q->avail->idx = q->avail_idx;
  q->added++;
  return 0;
}

void virtq_kick(struct virtio_dev *v, struct virtq *q) {
  (void)v;
  if (!q->added) return;
  q->added = 0;
  plat_io_barrier(); /* the index before the flags check and notify */
  if (!(q->used->flags & VIRTQ_USED_F_NO_NOTIFY)) *q->notify = q->index;
}

int virtq_has_used(const struct virtq *q) { return q->last_used != q->used->idx; }

void *virtq_get_used(struct virtq *q, uint32_t *len) {
  while (q->last_used != q->used->idx) {
    plat_io_barrier(); /* the index before the entry */
    volatile struct virtq_used_elem *e = &q->used->ring[q->last_used % q->size];
    uint32_t id = e->id, l = e->len;
    q->last_used++;
    if (id >= q->size || !q->cookie[id]) {
      q->bad_used++;
      continue;
    }
    void *cookie = q->cookie[id];
    q->cookie[id] = NULL;
    uint16_t i = (uint16_t)id, n = 1;
    while ((q->desc[i].flags & VIRTQ_DESC_F_NEXT) && n < q->size) {
      i = q->desc[i].next % q->size;
      n++;
    }
    q->desc[i].next = q->free_head;
    q->free_head = (uint16_t)id;
    q->num_free = (uint16_t)(q->num_free + n);
    *len = l;
    return cookie;
  }
  return NULL;
}

void virtq_irq_off(struct virtq *q, int off) {
  if (off) q->avail->flags |= VIRTQ_AVAIL_F_NO_INTERRUPT;
  else q->avail->flags &= (uint16_t)~VIRTQ_AVAIL_F_NO_INTERRUPT;
  plat_io_barrier();
}
