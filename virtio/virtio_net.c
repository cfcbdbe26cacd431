/*
 * virtio_net.c: the virtio network device (virtio 1.0, 5.1) as the
 * netdev service (include/mneme/netdev.h).
 *
 * Features: VERSION_1, MAC and STATUS when offered; no offloads and no
 * mergeable RX buffers, so every frame arrives whole in one 2 KiB buffer
 * behind the 12-byte virtio_net_hdr. All RX buffers are posted ahead.
 *
 * Tasks (the interrupt only wakes v.irq):
 *   <name>-rx   takes received frames from the used ring into the rx byte
 *               ring as records (when it is full, yields once so that the
 *               reader can catch up, then drops and counts the frame),
 *               posts the buffers again, follows the link status;
 *   <name>-tx   takes records from the tx byte ring, copies each into a
 *               free TX buffer and posts it; completed TX buffers are
 *               collected without interrupts, which it turns on only
 *               while it waits for a free buffer;
 *   <name>      the service: GET_DEVICE hands the rings to one client.
 *
 * Interface: virtio_net_driver.
 */
#include <string.h>

#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/netdev.h"
#include "mneme/task.h"
#include "mneme/virtio.h"

#define F_MAC (1ull << 5)
#define F_STATUS (1ull << 16)
#define NET_HDR 12u         /* struct virtio_net_hdr with num_buffers */
#define BUF 2048u
#define QMAX 128u
#define RING_BYTES (64u * 1024u)
#define CFG_MAC 0
#define CFG_STATUS 6
#define STATUS_LINK_UP 1

struct vnet {
  struct virtio_dev v;
  struct virtq rxq, txq;
  uint8_t *rxbuf, *txbuf;       /* qsize buffers of BUF bytes each */
  uint16_t *tx_free;            /* free TX buffer numbers (a stack) */
  uint16_t ntx_free;
  struct bbq rx, tx;
  struct netdev_state st;
  uint8_t mac[6];
  int assigned;
  struct svc_server *srv;
  char name[16];
};

static int nnets;

static int net_match(const struct pci_dev *d) { return virtio_pci_match(d, VIRTIO_ID_NET); }

static void post_rx(struct vnet *n, uint8_t *buf) {
  struct virtq_buf b = {buf, BUF};
  virtq_add(&n->rxq, &b, 0, 1, buf);
}

static void update_link(struct vnet *n) {
  uint32_t up = 1;
  if (n->v.features & F_STATUS) {
    uint16_t s;
    virtio_cfg_read(&n->v, CFG_STATUS, &s, 2);
    up = s & STATUS_LINK_UP;
  }
  if (up != n->st.link_up) {
    n->st.link_up = up;
    klog(LOG_INFO, "%s: link %s", n->name, up ? "up" : "down");
    waitq_wake_all(&n->st.link_changed);
  }
}

/* One received buffer: its frame into the rx ring as a record. */
static void receive(struct vnet *n, const uint8_t *buf, uint32_t len) {
  struct netdev_counters *c = &n->st.count;
  if (len < NET_HDR + 14 || len > BUF || len - NET_HDR > NETDEV_FRAME_MAX) {
    c->rx_errors++;
    return;
  }
  uint32_t flen = len - NET_HDR;
  uint8_t *g;
  int err = bbq_grant_exact(&n->rx, NETDEV_REC_HDR + flen, &g);
  if (err == MN_EAGAIN) { /* let a reader that is behind catch up once */
    task_yield();
    err = bbq_grant_exact(&n->rx, NETDEV_REC_HDR + flen, &g);
  }
  if (err) {
    c->rx_dropped++;
    return;
  }
  g[0] = (uint8_t)flen;
  g[1] = (uint8_t)(flen >> 8);
  memcpy(g + NETDEV_REC_HDR, buf + NET_HDR, flen);
  bbq_commit(&n->rx, NETDEV_REC_HDR + flen);
  c->rx_packets++;
  c->rx_bytes += flen;
}

/* Interrupts for the RX queue are off while the task works through it
 * and back on (then checked once more) before it waits. */
static int rx_task(void *arg) {
  struct vnet *n = arg;
  for (;;) {
    uint32_t seq = waitq_seq(&n->v.irq);
    virtq_irq_off(&n->rxq, 1);
    int any = 0;
    uint32_t len;
    uint8_t *buf;
    while ((buf = virtq_get_used(&n->rxq, &len)) != NULL) {
      receive(n, buf, len);
      post_rx(n, buf);
      any = 1;
    }
    if (any) virtq_kick(&n->v, &n->rxq);
    update_link(n);
    if (virtio_status(&n->v) & VIRTIO_S_NEEDS_RESET) {
      klog(LOG_ERROR, "%s: the device needs a reset; stopped", n->name);
      n->st.link_up = 0;
      waitq_wake_all(&n->st.link_changed);
      return MN_EIO;
    }
    virtq_irq_off(&n->rxq, 0);
    if (any || virtq_has_used(&n->rxq)) continue;
    if (waitq_wait_seq(&n->v.irq, seq, UINT64_MAX) == MN_ECANCELED) return 0;
  }
}

static void reclaim_tx(struct vnet *n) {
  uint32_t len;
  uint8_t *buf;
  while ((buf = virtq_get_used(&n->txq, &len)) != NULL)
    n->tx_free[n->ntx_free++] = (uint16_t)((size_t)(buf - n->txbuf) / BUF);
}

/* Waits for a free TX buffer: interrupts for the TX queue are on only
 * while waiting. Returns 0 or MN_ECANCELED. */
static int wait_tx_buffer(struct vnet *n) {
  reclaim_tx(n);
  if (n->ntx_free) return 0;
  virtq_kick(&n->v, &n->txq);
  virtq_irq_off(&n->txq, 0);
  int rc = 0;
  for (;;) {
    uint32_t seq = waitq_seq(&n->v.irq);
    reclaim_tx(n);
    if (n->ntx_free) break;
    if (waitq_wait_seq(&n->v.irq, seq, UINT64_MAX) == MN_ECANCELED) {
      rc = MN_ECANCELED;
      break;
    }
  }
  virtq_irq_off(&n->txq, 1);
  return rc;
}

static int tx_task(void *arg) {
  struct vnet *n = arg;
  struct netdev_counters *c = &n->st.count;
  for (;;) {
    const uint8_t *p;
    size_t len;
    if (bbq_read_grant(&n->tx, MN_FOREVER, &p, &len)) return 0;
    size_t at = 0;
    while (len - at >= NETDEV_REC_HDR) {
      size_t flen = p[at] | (size_t)p[at + 1] << 8;
      if (flen > len - at - NETDEV_REC_HDR) { /* cannot be: records are whole */
        c->tx_errors++;
        at = len;
        break;
      }
      const uint8_t *frame = p + at + NETDEV_REC_HDR;
      at += NETDEV_REC_HDR + flen;
      if (flen < 14 || flen > NETDEV_FRAME_MAX) {
        c->tx_errors++;
        continue;
      }
      if (wait_tx_buffer(n)) return 0;
      uint16_t k = n->tx_free[--n->ntx_free];
      uint8_t *buf = n->txbuf + (size_t)k * BUF;
      memset(buf, 0, NET_HDR);
      memcpy(buf + NET_HDR, frame, flen);
      struct virtq_buf b = {buf, (uint32_t)(NET_HDR + flen)};
      if (virtq_add(&n->txq, &b, 1, 0, buf)) { /* cannot be: a buffer was free */
        n->tx_free[n->ntx_free++] = k;
        c->tx_dropped++;
        continue;
      }
      c->tx_packets++;
      c->tx_bytes += flen;
    }
    bbq_release(&n->tx, len);
    virtq_kick(&n->v, &n->txq);
    reclaim_tx(n);
  }
}

static int server_task(void *arg) {
  struct vnet *n = arg;
  SVC_MSG_BUF(m, sizeof(struct netdev_req));
  while (svc_recv(n->srv, m, MN_FOREVER) == 0) {
    if (m->env.kind != SVC_MSG_REQUEST) continue;
    if (n->assigned) {
      struct netdev_err e = {NETDEV_ALREADY_ASSIGNED};
      svc_reply_err(n->srv, &m->env, &e);
      continue;
    }
    struct netdev_resp r;
    memset(&r, 0, sizeof r);
    r.rx = &n->rx;
    r.tx = &n->tx;
    r.state = &n->st;
    memcpy(r.mac, n->mac, 6);
    r.mtu = 1500;
    memcpy(r.name, n->name, sizeof r.name);
    if (svc_reply_ok(n->srv, &m->env, &r) == 0) n->assigned = 1;
  }
  return 0;
}

static int net_probe(struct pci_dev *d) {
  static const struct svc_type type = NETDEV_TYPE;
  struct vnet *n = kzalloc(sizeof *n);
  if (!n) return MN_ENOMEM;
  ksnprintf(n->name, sizeof n->name, "virtio-net%d", nnets);
  int err = virtio_pci_init(&n->v, d);
  if (!err) err = virtio_negotiate(&n->v, F_MAC | F_STATUS);
  if (!err) {
    int mode = virtio_irq_setup(&n->v);
    err = mode < 0 ? mode : 0;
  }
  if (!err) err = virtio_queue_setup(&n->v, 0, QMAX, &n->rxq);
  if (!err) err = virtio_queue_setup(&n->v, 1, QMAX, &n->txq);
  if (!err) {
    n->rxbuf = kmalloc_aligned((size_t)n->rxq.size * BUF, 4096);
    n->txbuf = kmalloc_aligned((size_t)n->txq.size * BUF, 4096);
    n->tx_free = kmalloc(sizeof(uint16_t) * n->txq.size);
    if (!n->rxbuf || !n->txbuf || !n->tx_free || bbq_init(&n->rx, RING_BYTES) ||
        bbq_init(&n->tx, RING_BYTES))
      err = MN_ENOMEM;
  }
  if (err) {
    virtio_fail(&n->v);
    return err; /* the device is failed: what was allocated stays with it */
  }
  waitq_init(&n->st.link_changed);
  if (n->v.features & F_MAC) {
    virtio_cfg_read(&n->v, CFG_MAC, n->mac, 6);
  } else { /* a locally administered address from the PCI location */
    static const uint8_t base[6] = {0x02, 0x6d, 0x6e, 0x00, 0x00, 0x00};
    memcpy(n->mac, base, 6);
    n->mac[4] = d->bus;
    n->mac[5] = (uint8_t)(d->dev << 3 | d->fn);
  }
  for (uint16_t i = 0; i < n->txq.size; i++) n->tx_free[n->ntx_free++] = i;
  virtq_irq_off(&n->txq, 1);
  for (uint16_t i = 0; i < n->rxq.size; i++) post_rx(n, n->rxbuf + (size_t)i * BUF);
  virtio_driver_ok(&n->v);
  virtq_kick(&n->v, &n->rxq);
  n->st.link_up = 0;
  update_link(n);
  struct uuid id = NETDEV_UUID_N(nnets);
  err = svc_register(&id, n->name, &type, NULL, SVC_ACCEPT_ALL, 4, &n->srv);
  if (err) {
    virtio_fail(&n->v);
    return err;
  }
  char tn[TASK_NAME_MAX];
  ksnprintf(tn, sizeof tn, "%s-rx", n->name);
  if (task_spawn(tn, rx_task, n, 0, NULL)) return MN_ENOMEM;
  ksnprintf(tn, sizeof tn, "%s-tx", n->name);
  if (task_spawn(tn, tx_task, n, 0, NULL)) return MN_ENOMEM;
  if (task_spawn(n->name, server_task, n, 0, NULL)) return MN_ENOMEM;
  d->drvdata = n;
  klog(LOG_INFO, "%s: %02x:%02x:%02x:%02x:%02x:%02x, %u+%u buffers, %s, link %s", n->name,
       n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5], n->rxq.size,
       n->txq.size, n->v.irq_mode == PCI_IRQ_MSIX ? "MSI-X" : "INTx",
       n->st.link_up ? "up" : "down");
  nnets++;
  return 0;
}

const struct pci_driver virtio_net_driver = {"virtio-net", net_match, net_probe};
