/*
 * blockdev_probe.c: test aids for blockdev drivers (include/mneme/
 * virtio.h): list the disks, print a sector's checksum and first bytes,
 * fill a sector and flush. The platform words DISKS, SECTOR and
 * SECTOR-FILL run them; the QEMU tests compare with the disk image.
 *
 * Interface: blockdev_list, blockdev_sector, blockdev_sector_fill.
 */
#include <stdarg.h>
#include <string.h>

#include "mneme/blockdev.h"
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/virtio.h"

typedef void (*out_fn)(void *arg, const char *s, size_t n);

static void say(out_fn out, void *arg, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(out_fn out, void *arg, const char *fmt, ...) {
  char b[200];
  va_list ap;
  va_start(ap, fmt);
  int n = kvsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  out(arg, b, n < (int)sizeof b ? (size_t)n : sizeof b - 1);
}

static const char *const err_names[] = {"out of range", "i/o error", "read-only", "bad request"};

/* Connects to disk n and gets its info. */
static int open_disk(unsigned n, struct svc_client *c, struct blockdev_info *info) {
  static const struct svc_type type = BLOCKDEV_TYPE;
  if (n >= BLOCKDEV_MAX_DISKS) return MN_ENOENT;
  int err = svc_connect(&(struct uuid)BLOCKDEV_UUID_N(n), &type, NULL, NULL, 0, c);
  if (err) return err;
  struct blockdev_req rq = {BLOCKDEV_INFO, 0, 0, NULL};
  struct blockdev_resp r;
  struct blockdev_err e;
  err = svc_call(c, &rq, &r, &e, MN_SEC(5));
  if (err) {
    svc_disconnect(c);
    return err;
  }
  *info = r.info;
  return 0;
}

/* One request; prints the blockdev error if there is one. */
static int call(struct svc_client *c, const struct blockdev_req *rq, out_fn out, void *arg) {
  struct blockdev_resp r;
  struct blockdev_err e;
  int err = svc_call(c, rq, &r, &e, MN_SEC(10));
  if (err == MN_ESERVICE)
    say(out, arg, "disk: %s (device status %d)\n", e.kind < 4 ? err_names[e.kind] : "error",
        (int)e.code);
  else if (err)
    say(out, arg, "disk: %s\n", mn_strerror(err));
  return err;
}

int blockdev_list(out_fn out, void *arg) {
  int found = 0;
  for (unsigned n = 0; n < BLOCKDEV_MAX_DISKS; n++) {
    struct svc_client c;
    struct blockdev_info in;
    if (open_disk(n, &c, &in)) continue;
    svc_disconnect(&c);
    found++;
    say(out, arg, "disk %u: %s %lu sectors of %u bytes (%lu MiB), %u per request%s\n", n,
        in.name, (unsigned long)in.sectors, in.sector_size,
        (unsigned long)((in.sectors * in.sector_size) >> 20), in.max_transfer,
        in.read_only ? ", read-only" : "");
  }
  if (!found) say(out, arg, "no disks\n");
  return found;
}

int blockdev_sector(unsigned disk, uint64_t lba, out_fn out, void *arg) {
  struct svc_client c;
  struct blockdev_info in;
  int err = open_disk(disk, &c, &in);
  if (err) {
    say(out, arg, "disk %u: %s\n", disk, mn_strerror(err));
    return err;
  }
  uint8_t *buf = kmalloc(in.sector_size);
  if (!buf) {
    svc_disconnect(&c);
    return MN_ENOMEM;
  }
  struct blockdev_req rq = {BLOCKDEV_READ, lba, 1, buf};
  err = call(&c, &rq, out, arg);
  if (!err) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */
    for (uint32_t i = 0; i < in.sector_size; i++) h = (h ^ buf[i]) * 0x100000001b3ull;
    char text[33];
    for (int i = 0; i < 32; i++) text[i] = buf[i] >= 32 && buf[i] < 127 ? (char)buf[i] : '.';
    text[32] = 0;
    say(out, arg, "sector %lu: fnv %016lx '%s'\n", (unsigned long)lba, (unsigned long)h, text);
  }
  kfree(buf);
  svc_disconnect(&c);
  return err;
}

int blockdev_sector_fill(unsigned disk, uint64_t lba, uint8_t byte, out_fn out, void *arg) {
  struct svc_client c;
  struct blockdev_info in;
  int err = open_disk(disk, &c, &in);
  if (err) {
    say(out, arg, "disk %u: %s\n", disk, mn_strerror(err));
    return err;
  }
  uint8_t *buf = kmalloc(in.sector_size);
  if (!buf) {
    svc_disconnect(&c);
    return MN_ENOMEM;
  }
  memset(buf, byte, in.sector_size);
  struct blockdev_req rq = {BLOCKDEV_WRITE, lba, 1, buf};
  err = call(&c, &rq, out, arg);
  if (!err) {
    struct blockdev_req fl = {BLOCKDEV_FLUSH, 0, 0, NULL};
    err = call(&c, &fl, out, arg);
  }
  if (!err) say(out, arg, "sector %lu: written and flushed\n", (unsigned long)lba);
  kfree(buf);
  svc_disconnect(&c);
  return err;
}
