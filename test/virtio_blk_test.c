/*
 * virtio_blk_test.c: the virtio-blk driver on the hosted kernel against
 * a simulated device (test/virtio_fake.h) that keeps a disk in memory:
 * the test plays the device, client tasks make blockdev calls.
 *
 * Checked: INFO (size, sector size from BLK_SIZE, max transfer,
 * read-only); writes reach the disk and reads return it, through
 * three-descriptor chains (header with the sector in 512-byte units,
 * the caller's buffer, the status byte); bad requests answered without
 * reaching the device (range, count 0, too long, no buffer, unknown
 * kind, read-only); a device error comes back as BLOCKDEV_IO with the
 * device's status; FLUSH reaches the device when it has the feature and
 * is answered at once without; 40 clients at once (more than the slots)
 * all get their own sectors; 4096-byte sectors; a device whose
 * interrupt never comes still completes requests (the driver polls while
 * busy); a request the device never completes is answered BLOCKDEV_IO
 * MN_ETIMEDOUT, and its slot is freed when the device completes it late.
 */
#include <string.h>

#include "ktest.h"
#include "mneme/blockdev.h"
#include "mneme/err.h"
#include "mneme/task.h"

#define CMD_TIMEOUT MN_MSEC(300)
#include "../virtio/virtio_blk.c"

#include "blockdev_clients.h"
#include "virtio_fake.h"

#define DISK_BYTES (512u * 1024u)
static uint8_t disk[DISK_BYTES];
static uint32_t sector_size;
static uint16_t avail_seen;
static unsigned flushes, device_requests;
static uint64_t fail_from = UINT64_MAX; /* 512-byte sectors from here fail */
static int no_irq, stalled;              /* the device never interrupts / never serves */
static struct vblk *blk;

static void make_disk(uint32_t features, uint32_t ss) {
  fake_device(0x1042, features | 1, 1);
  uint64_t cap512 = DISK_BYTES / 512;
  memcpy(bar + DEVCFG, &cap512, 8);
  memcpy(bar + DEVCFG + 20, &ss, 4);
  sector_size = ss;
  for (size_t i = 0; i < DISK_BYTES; i++) disk[i] = (uint8_t)(i / 512 * 31 + i);
  avail_seen = 0;
  flushes = device_requests = 0;
  fail_from = UINT64_MAX;
  no_irq = stalled = 0;
  nblks = 0;
  assert_int_equal(virtio_blk_driver.probe(&pdev), 0);
  blk = pdev.drvdata;
}

/* The device: serves every chain the driver made available. */
static void serve(void) {
  struct virtq *q = &blk->q;
  int any = 0;
  if (stalled) return;
  while (avail_seen != q->avail->idx) {
    uint16_t head = q->avail->ring[avail_seen++ % q->size];
    struct virtq_desc *d[3];
    unsigned n = 0;
    for (uint16_t i = head;; i = q->desc[i].next) {
      assert_true(n < 3);
      d[n++] = &q->desc[i];
      if (!(q->desc[i].flags & VIRTQ_DESC_F_NEXT)) break;
    }
    struct blk_hdr h;
    assert_int_equal(d[0]->len, sizeof h);
    assert_false(d[0]->flags & VIRTQ_DESC_F_WRITE);
    memcpy(&h, (void *)(uintptr_t)d[0]->addr, sizeof h);
    struct virtq_desc *st = d[n - 1];
    assert_int_equal(st->len, 1);
    assert_true(st->flags & VIRTQ_DESC_F_WRITE);
    uint8_t status = 0;
    uint32_t written = 1;
    device_requests++;
    if (h.type == T_FLUSH) {
      assert_int_equal(n, 2);
      flushes++;
    } else {
      assert_int_equal(n, 3);
      uint64_t off = h.sector * 512, len = d[1]->len;
      assert_true(off + len <= DISK_BYTES);
      assert_int_equal(len % sector_size, 0);
      if (h.sector >= fail_from) {
        status = 1; /* VIRTIO_BLK_S_IOERR */
      } else if (h.type == T_IN) {
        assert_true(d[1]->flags & VIRTQ_DESC_F_WRITE);
        memcpy((void *)(uintptr_t)d[1]->addr, disk + off, len);
        written += (uint32_t)len;
      } else {
        assert_int_equal(h.type, T_OUT);
        assert_false(d[1]->flags & VIRTQ_DESC_F_WRITE);
        memcpy(disk + off, (void *)(uintptr_t)d[1]->addr, len);
      }
    }
    *(uint8_t *)(uintptr_t)st->addr = status;
    uint16_t u = q->used->idx;
    q->used->ring[u % q->size].id = head;
    q->used->ring[u % q->size].len = written;
    q->used->idx = (uint16_t)(u + 1);
    any = 1;
  }
  if (any && !no_irq) interrupt();
}

static void reads_and_writes(void **state) {
  make_disk(F_BLK_SIZE | F_FLUSH, 512);
  static uint8_t wbuf[3 * 512], rbuf[5 * 512];
  for (size_t i = 0; i < sizeof wbuf; i++) wbuf[i] = (uint8_t)(0xa5 ^ i);
  struct call calls[] = {
      {.rq = REQ(BLOCKDEV_INFO, 0, 0, NULL)},
      {.rq = REQ(BLOCKDEV_WRITE, 5, 3, wbuf)},
      {.rq = REQ(BLOCKDEV_READ, 4, 5, rbuf)},
      {.rq = REQ(BLOCKDEV_FLUSH, 0, 0, NULL)},
  };
  struct client c = {calls, 4, 0};
  run_clients(&c, 1, serve);
  for (int i = 0; i < 4; i++) assert_int_equal(calls[i].rc, 0);
  const struct blockdev_info *in = &calls[0].resp.info;
  assert_int_equal(in->sectors, DISK_BYTES / 512);
  assert_int_equal(in->sector_size, 512);
  assert_int_equal(in->max_transfer, MAX_BYTES / 512);
  assert_int_equal(in->read_only, 0);
  assert_string_equal(in->name, "virtio-blk0");
  assert_memory_equal(disk + 5 * 512, wbuf, sizeof wbuf);
  assert_memory_equal(rbuf + 512, wbuf, sizeof wbuf);
  assert_int_equal(rbuf[0], (uint8_t)(4 * 31 + 4 * 512));
  assert_int_equal(flushes, 1);
  assert_int_equal(device_requests, 3);
}

static void bad_requests_never_reach_the_device(void **state) {
  make_disk(F_BLK_SIZE, 512);
  static uint8_t buf[512 * 300];
  uint64_t n = DISK_BYTES / 512;
  struct call calls[] = {
      {.rq = REQ(BLOCKDEV_READ, n - 1, 2, buf)},   /* past the end */
      {.rq = REQ(BLOCKDEV_READ, n, 1, buf)},
      {.rq = REQ(BLOCKDEV_READ, UINT64_MAX, 2, buf)},
      {.rq = REQ(BLOCKDEV_READ, 0, 0, buf)},       /* count 0 */
      {.rq = REQ(BLOCKDEV_READ, 0, 300, buf)},     /* more than max_transfer */
      {.rq = REQ(BLOCKDEV_WRITE, 0, 1, NULL)},     /* no buffer */
      {.rq = REQ(9, 0, 1, buf)},                   /* no such kind */
      {.rq = REQ(BLOCKDEV_FLUSH, 0, 0, NULL)},     /* no FLUSH feature: at once */
  };
  static const uint8_t want[] = {BLOCKDEV_RANGE, BLOCKDEV_RANGE, BLOCKDEV_RANGE,
                                 BLOCKDEV_RANGE, BLOCKDEV_BAD_REQUEST,
                                 BLOCKDEV_BAD_REQUEST, BLOCKDEV_BAD_REQUEST};
  struct client c = {calls, 8, 0};
  run_clients(&c, 1, serve);
  for (int i = 0; i < 7; i++) {
    assert_int_equal(calls[i].rc, MN_ESERVICE);
    assert_int_equal(calls[i].err.kind, want[i]);
  }
  assert_int_equal(calls[7].rc, 0);
  assert_int_equal(device_requests, 0);
}

static void device_errors_and_read_only(void **state) {
  make_disk(F_BLK_SIZE | F_RO, 512);
  fail_from = 100;
  static uint8_t buf[1024];
  struct call calls[] = {
      {.rq = REQ(BLOCKDEV_INFO, 0, 0, NULL)},
      {.rq = REQ(BLOCKDEV_WRITE, 1, 1, buf)},
      {.rq = REQ(BLOCKDEV_READ, 99, 2, buf)},
      {.rq = REQ(BLOCKDEV_READ, 98, 2, buf)},
  };
  struct client c = {calls, 4, 0};
  run_clients(&c, 1, serve);
  assert_int_equal(calls[0].resp.info.read_only, 1);
  assert_int_equal(calls[1].rc, MN_ESERVICE);
  assert_int_equal(calls[1].err.kind, BLOCKDEV_READ_ONLY);
  assert_int_equal(calls[2].rc, 0);         /* starts below the failing sectors */
  assert_int_equal(calls[3].rc, 0);
  fail_from = 98;
  struct call again[] = {{.rq = REQ(BLOCKDEV_READ, 98, 2, buf)}};
  struct client c2 = {again, 1, 0};
  run_clients(&c2, 1, serve);
  assert_int_equal(again[0].rc, MN_ESERVICE);
  assert_int_equal(again[0].err.kind, BLOCKDEV_IO);
  assert_int_equal(again[0].err.code, 1);
}

static void many_clients_at_once(void **state) {
  make_disk(F_BLK_SIZE, 512);
  enum { N = 40 };
  static uint8_t bufs[N][1024];
  static struct call calls[N];
  static struct client cs[N];
  for (int i = 0; i < N; i++) {
    calls[i] = (struct call){.rq = REQ(BLOCKDEV_READ, (uint64_t)(3 * i), 2, bufs[i])};
    cs[i] = (struct client){&calls[i], 1, 0};
  }
  assert_true(N > blk->nslots);
  run_clients(cs, N, serve);
  for (int i = 0; i < N; i++) {
    assert_int_equal(calls[i].rc, 0);
    assert_memory_equal(bufs[i], disk + 3 * i * 512, 1024);
  }
  assert_int_equal(blk->inflight, 0);
}

static void four_k_sectors(void **state) {
  make_disk(F_BLK_SIZE, 4096);
  static uint8_t buf[2 * 4096];
  struct call calls[] = {
      {.rq = REQ(BLOCKDEV_INFO, 0, 0, NULL)},
      {.rq = REQ(BLOCKDEV_READ, 3, 2, buf)},
      {.rq = REQ(BLOCKDEV_READ, DISK_BYTES / 4096 - 1, 2, buf + 4096)},
  };
  struct client c = {calls, 3, 0};
  run_clients(&c, 1, serve);
  assert_int_equal(calls[0].resp.info.sector_size, 4096);
  assert_int_equal(calls[0].resp.info.sectors, DISK_BYTES / 4096);
  assert_int_equal(calls[0].resp.info.max_transfer, MAX_BYTES / 4096);
  assert_int_equal(calls[1].rc, 0);
  assert_memory_equal(buf, disk + 3 * 4096, 2 * 4096);
  assert_int_equal(calls[2].err.kind, BLOCKDEV_RANGE);
}

static void lost_interrupts_are_polled(void **state) {
  make_disk(F_BLK_SIZE, 512);
  no_irq = 1;
  static uint8_t buf[3][512];
  struct call calls[3];
  for (int i = 0; i < 3; i++) calls[i] = (struct call){.rq = REQ(BLOCKDEV_READ, (uint64_t)(7 + i), 1, buf[i])};
  struct client c = {calls, 3, 0};
  run_clients(&c, 1, serve);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(calls[i].rc, 0);
    assert_memory_equal(buf[i], disk + (7 + i) * 512, 512);
  }
  assert_true(blk->polled >= 1);
  assert_int_equal(blk->timeouts, 0);
}

static void a_stalled_device_times_out(void **state) {
  make_disk(F_BLK_SIZE, 512);
  stalled = 1;
  static uint8_t buf[512];
  struct call calls[] = {{.rq = REQ(BLOCKDEV_READ, 3, 1, buf)}};
  struct client c = {calls, 1, 0};
  run_clients(&c, 1, serve);
  assert_int_equal(calls[0].rc, MN_ESERVICE);
  assert_int_equal(calls[0].err.kind, BLOCKDEV_IO);
  assert_int_equal(calls[0].err.code, MN_ETIMEDOUT);
  assert_int_equal(blk->timeouts, 1);
  assert_int_equal(blk->inflight, 1); /* the device still owns the buffer */
  stalled = 0;                        /* it completes late: the slot comes back */
  struct call again[] = {{.rq = REQ(BLOCKDEV_READ, 4, 1, buf)}};
  struct client c2 = {again, 1, 0};
  run_clients(&c2, 1, serve);
  assert_int_equal(again[0].rc, 0);
  assert_memory_equal(buf, disk + 4 * 512, 512);
  assert_int_equal(blk->inflight, 0);
}

static void matches_virtio_blk_only(void **state) {
  struct pci_dev d = {0};
  d.vendor = 0x1af4, d.device = 0x1042;
  assert_true(blk_match(&d));
  d.device = 0x1001, d.subsys_device = 2;
  assert_true(blk_match(&d));
  d.device = 0x1041;
  assert_false(blk_match(&d));
}

static int boot(void **state) {
  ktest_boot(8u << 20);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(reads_and_writes, boot),
      cmocka_unit_test_setup(bad_requests_never_reach_the_device, boot),
      cmocka_unit_test_setup(device_errors_and_read_only, boot),
      cmocka_unit_test_setup(many_clients_at_once, boot),
      cmocka_unit_test_setup(four_k_sectors, boot),
      cmocka_unit_test_setup(lost_interrupts_are_polled, boot),
      cmocka_unit_test_setup(a_stalled_device_times_out, boot),
      cmocka_unit_test_setup(matches_virtio_blk_only, boot),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
