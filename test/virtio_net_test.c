/*
 * virtio_net_test.c: the virtio PCI transport and the virtio-net driver
 * on the hosted kernel, against a simulated device: the test plays the
 * device (configuration space through the platform hooks, the BAR as
 * plain memory, the queues read and written as a device would, the
 * MSI-X handler called as the interrupt).
 *
 * Checked: capabilities found and the device brought up (features,
 * DRIVER_OK, MSI-X vectors, all RX buffers posted); received frames
 * become records in the rx ring, in order and intact; a full rx ring
 * drops and counts; bad used entries (ids past the table, short or oversized
 * lengths) are counted and the driver goes on; records written to the
 * tx ring reach the TX queue behind a zeroed virtio_net_hdr, bad
 * records are counted; the TX buffers run out and come back on
 * completion; the link goes down and up on configuration interrupts;
 * a second GET_DEVICE is refused.
 */
#include <string.h>

#include "ktest.h"
#include "mneme/err.h"
#include "mneme/netdev.h"
#include "mneme/task.h"

#include "../virtio/virtio_net.c"

#include "virtio_fake.h"

static void make_device(void) {
  fake_device(0x1041, 0x00010021u, 2); /* MAC, STATUS (and VERSION_1) */
  static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  memcpy(bar + DEVCFG, mac, 6);
  bar[DEVCFG + 6] = 1; /* link up */
}

static struct vnet *nic;
static uint16_t rx_avail_seen, tx_avail_seen;

/* The device receives a frame into the next RX buffer the driver posted. */
static void device_rx(const uint8_t *frame, uint32_t flen, uint32_t claim_len) {
  struct virtq *q = &nic->rxq;
  assert_true(rx_avail_seen != q->avail->idx);
  uint16_t id = q->avail->ring[rx_avail_seen % q->size];
  rx_avail_seen++;
  struct virtq_desc *d = &q->desc[id];
  assert_true(d->flags & VIRTQ_DESC_F_WRITE);
  assert_int_equal(d->len, BUF);
  uint8_t *buf = (uint8_t *)(uintptr_t)d->addr;
  memset(buf, 0, NET_HDR);
  if (flen) memcpy(buf + NET_HDR, frame, flen);
  uint16_t u = q->used->idx;
  q->used->ring[u % q->size].id = id;
  q->used->ring[u % q->size].len = claim_len ? claim_len : NET_HDR + flen;
  q->used->idx = (uint16_t)(u + 1);
}

static void device_used_raw(struct virtq *q, uint32_t id, uint32_t len) {
  uint16_t u = q->used->idx;
  q->used->ring[u % q->size].id = id;
  q->used->ring[u % q->size].len = len;
  q->used->idx = (uint16_t)(u + 1);
}

static struct netdev_resp dev;

static void bring_up(void) {
  static const struct svc_type type = NETDEV_TYPE;
  make_device();
  nnets = 0;
  rx_avail_seen = tx_avail_seen = 0;
  assert_int_equal(virtio_net_driver.probe(&pdev), 0);
  nic = pdev.drvdata;
  assert_non_null(nic);
  assert_int_equal(bar[COMMON + 0x14], VIRTIO_S_ACKNOWLEDGE | VIRTIO_S_DRIVER |
                                           VIRTIO_S_FEATURES_OK | VIRTIO_S_DRIVER_OK);
  assert_true(nic->v.features == (VIRTIO_F_VERSION_1 | F_MAC | F_STATUS));
  assert_int_equal(nic->v.irq_mode, PCI_IRQ_MSIX);
  assert_int_equal(nic->rxq.size, QMAX);
  assert_int_equal(nic->rxq.avail->idx, QMAX); /* every RX buffer posted */
  assert_int_equal(nic->txq.avail->idx, 0);
  struct svc_client c;
  assert_int_equal(svc_connect(&(struct uuid)NETDEV_UUID, &type, NULL, NULL, MN_SEC(1), &c), 0);
  struct netdev_req rq = {NETDEV_GET_DEVICE};
  struct netdev_err e;
  assert_int_equal(svc_call(&c, &rq, &dev, &e, MN_SEC(1)), 0);
  assert_memory_equal(dev.mac, "\x52\x54\x00\x12\x34\x56", 6);
  assert_string_equal(dev.name, "virtio-net0");
  assert_int_equal(dev.mtu, 1500);
  assert_int_equal(dev.state->link_up, 1);
  /* one client only */
  assert_int_equal(svc_call(&c, &rq, &(struct netdev_resp){0}, &e, MN_SEC(1)), MN_ESERVICE);
  assert_int_equal(e.kind, NETDEV_ALREADY_ASSIGNED);
}

static void make_frame(uint8_t *f, size_t n, uint8_t seed) {
  for (size_t i = 0; i < n; i++) f[i] = (uint8_t)(seed + i * 7);
}

/* Reads one record from the rx ring (waiting up to 1 s). */
static size_t read_record(uint8_t *out) {
  const uint8_t *p;
  size_t len;
  assert_int_equal(bbq_read_grant(dev.rx, MN_SEC(1), &p, &len), 0);
  assert_true(len >= 2);
  size_t fl = p[0] | (size_t)p[1] << 8;
  assert_true(fl + 2 <= len);
  memcpy(out, p + 2, fl);
  bbq_release(dev.rx, fl + 2);
  return fl;
}

static void receives_frames(void **state) {
  bring_up();
  uint8_t f[NETDEV_FRAME_MAX], got[NETDEV_FRAME_MAX];
  static const size_t sizes[] = {60, 1514, 14, 333};
  for (int i = 0; i < 4; i++) {
    make_frame(f, sizes[i], (uint8_t)i);
    device_rx(f, (uint32_t)sizes[i], 0);
  }
  interrupt();
  for (int i = 0; i < 4; i++) {
    make_frame(f, sizes[i], (uint8_t)i);
    assert_int_equal(read_record(got), sizes[i]);
    assert_memory_equal(got, f, sizes[i]);
  }
  assert_int_equal(dev.state->count.rx_packets, 4);
  assert_int_equal(dev.state->count.rx_bytes, 60 + 1514 + 14 + 333);
  /* the buffers were posted again */
  SETTLE(nic->rxq.avail->idx == QMAX + 4);
  assert_int_equal(nic->rxq.num_free, 0);
}

static void bad_used_entries_are_counted(void **state) {
  bring_up();
  uint8_t f[64];
  make_frame(f, sizeof f, 9);
  device_rx(f, 10, 0);                    /* shorter than a header + Ethernet header */
  device_rx(f, 64, NET_HDR + 1515);       /* longer than a frame */
  device_rx(f, 64, 100000);               /* longer than the buffer */
  device_used_raw(&nic->rxq, 5000, 100);  /* no such descriptor */
  device_used_raw(&nic->rxq, QMAX, 100);  /* one past the table */
  device_rx(f, 64, 0);                    /* a good one after all that */
  interrupt();
  uint8_t got[NETDEV_FRAME_MAX];
  assert_int_equal(read_record(got), 64);
  assert_memory_equal(got, f, 64);
  assert_int_equal(dev.state->count.rx_errors, 3);
  assert_int_equal(dev.state->count.rx_packets, 1);
  assert_int_equal(nic->rxq.bad_used, 2);
  SETTLE(nic->rxq.avail->idx == QMAX + 4); /* the 4 real buffers reposted */
}

static void full_rx_ring_drops(void **state) {
  bring_up();
  uint8_t f[NETDEV_FRAME_MAX];
  make_frame(f, sizeof f, 1);
  unsigned fits = RING_BYTES / (NETDEV_FRAME_MAX + 2);
  unsigned sent = 0;
  for (unsigned round = 0; round < 2; round++) {
    for (unsigned i = 0; i < 40; i++, sent++) device_rx(f, NETDEV_FRAME_MAX, 0);
    interrupt();
    SETTLE(dev.state->count.rx_packets + dev.state->count.rx_dropped == sent);
  }
  assert_true(dev.state->count.rx_packets >= fits - 1 && dev.state->count.rx_packets <= fits);
  assert_int_equal(dev.state->count.rx_dropped, sent - dev.state->count.rx_packets);
  /* reading makes room again */
  uint8_t got[NETDEV_FRAME_MAX];
  while (bbq_used(dev.rx)) assert_int_equal(read_record(got), NETDEV_FRAME_MAX);
  uint64_t before = dev.state->count.rx_packets;
  device_rx(f, 100, 0);
  interrupt();
  assert_int_equal(read_record(got), 100);
  assert_int_equal(dev.state->count.rx_packets, before + 1);
}

/* Writes one record to the tx ring. */
static void send_record(const uint8_t *f, size_t n) {
  uint8_t *g;
  assert_int_equal(bbq_send_grant_exact(dev.tx, n + 2, MN_SEC(1), &g), 0);
  g[0] = (uint8_t)n, g[1] = (uint8_t)(n >> 8);
  memcpy(g + 2, f, n);
  bbq_commit(dev.tx, n + 2);
}

/* The device takes the next TX buffer: checks it and completes it. */
static void device_tx(const uint8_t *want, size_t n, int complete) {
  struct virtq *q = &nic->txq;
  assert_true(tx_avail_seen != q->avail->idx);
  uint16_t id = q->avail->ring[tx_avail_seen % q->size];
  tx_avail_seen++;
  struct virtq_desc *d = &q->desc[id];
  assert_false(d->flags & (VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT));
  assert_int_equal(d->len, NET_HDR + n);
  const uint8_t *buf = (const uint8_t *)(uintptr_t)d->addr;
  static const uint8_t zero[NET_HDR];
  assert_memory_equal(buf, zero, NET_HDR);
  assert_memory_equal(buf + NET_HDR, want, n);
  if (complete) device_used_raw(q, id, 0);
}

static void transmits_frames(void **state) {
  bring_up();
  uint8_t f[NETDEV_FRAME_MAX];
  make_frame(f, 60, 3);
  send_record(f, 60);
  send_record(f, 5);                   /* too short: counted, not sent */
  make_frame(f, NETDEV_FRAME_MAX, 4);
  send_record(f, NETDEV_FRAME_MAX);
  SETTLE(nic->txq.avail->idx == 2);
  assert_int_equal(dev.state->count.tx_errors, 1);
  assert_int_equal(dev.state->count.tx_packets, 2);
  assert_int_equal(dev.state->count.tx_bytes, 60 + NETDEV_FRAME_MAX);
  make_frame(f, 60, 3);
  device_tx(f, 60, 1);
  make_frame(f, NETDEV_FRAME_MAX, 4);
  device_tx(f, NETDEV_FRAME_MAX, 1);
  /* the notify register was written with the queue's index */
  assert_int_equal(*nic->txq.notify, 1);
}

static void tx_waits_for_buffers(void **state) {
  bring_up();
  uint8_t f[100];
  unsigned total = QMAX + 20;
  /* the device completes nothing: QMAX frames go out, then the driver waits */
  for (unsigned i = 0; i < QMAX; i++) {
    make_frame(f, sizeof f, (uint8_t)i);
    send_record(f, sizeof f);
  }
  SETTLE(nic->txq.avail->idx == QMAX);
  for (unsigned i = QMAX; i < total; i++) {
    make_frame(f, sizeof f, (uint8_t)i);
    send_record(f, sizeof f);
  }
  task_sleep(MN_MSEC(20));
  assert_int_equal(nic->txq.avail->idx, QMAX);
  assert_false(nic->txq.avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT); /* it asked */
  /* completions and an interrupt let the rest go */
  for (unsigned i = 0; i < total; i++) {
    if (i == QMAX) { /* wait for the rest to be posted */
      interrupt();
      SETTLE(nic->txq.avail->idx == total);
    }
    make_frame(f, sizeof f, (uint8_t)i);
    device_tx(f, sizeof f, 1);
  }
  assert_int_equal(dev.state->count.tx_packets, total);
  assert_int_equal(dev.state->count.tx_dropped, 0);
}

static void follows_the_link(void **state) {
  bring_up();
  uint32_t seq = waitq_seq(&dev.state->link_changed);
  bar[DEVCFG + 6] = 0;
  interrupt();
  SETTLE(dev.state->link_up == 0);
  assert_true(waitq_seq(&dev.state->link_changed) != seq);
  bar[DEVCFG + 6] = 1;
  interrupt();
  SETTLE(dev.state->link_up == 1);
}

static void refuses_a_legacy_only_device(void **state) {
  make_device();
  cfg[0x51] = 0; /* the list ends before the notify, ISR and device capabilities */
  assert_int_equal(virtio_net_driver.probe(&pdev), MN_ENOTSUP);
  make_device();
  memset(bar + COMMON + 0x04, 0, 4); /* no VERSION_1 */
  assert_int_equal(virtio_net_driver.probe(&pdev), MN_ENOTSUP);
  assert_true(bar[COMMON + 0x14] & VIRTIO_S_FAILED);
}

static void matches_virtio_net_only(void **state) {
  struct pci_dev d = {0};
  d.vendor = 0x1af4, d.device = 0x1041;
  assert_true(net_match(&d));
  d.device = 0x1000, d.subsys_device = 1;
  assert_true(net_match(&d));
  d.subsys_device = 2;
  assert_false(net_match(&d));
  d.device = 0x1042;
  assert_false(net_match(&d));
  d.vendor = 0x8086, d.device = 0x1041;
  assert_false(net_match(&d));
}

static int boot(void **state) {
  ktest_boot(8u << 20);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(receives_frames, boot),
      cmocka_unit_test_setup(bad_used_entries_are_counted, boot),
      cmocka_unit_test_setup(full_rx_ring_drops, boot),
      cmocka_unit_test_setup(transmits_frames, boot),
      cmocka_unit_test_setup(tx_waits_for_buffers, boot),
      cmocka_unit_test_setup(follows_the_link, boot),
      cmocka_unit_test_setup(refuses_a_legacy_only_device, boot),
      cmocka_unit_test_setup(matches_virtio_net_only, boot),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
