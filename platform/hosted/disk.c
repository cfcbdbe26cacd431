/*
 * disk.c: a disk image file as a block device (blockdev.h) on the hosted
 * platform.
 *
 * Interface: hosted_disk_start.
 *
 * One task per disk serves its requests in arrival order with pread,
 * pwrite and fdatasync (the host file is the device; its page cache is
 * the device's write cache, FLUSH empties it). The image's size is the
 * device size, in 512-byte sectors (a partial last sector is ignored).
 * An image that cannot be opened for writing is served read-only.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "hosted.h"
#include "mneme/blockdev.h"
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/task.h"

#define SECTOR 512u
#define MAX_TRANSFER 2048u      /* sectors per request: 1 MiB */

struct disk {
  int fd;
  struct blockdev_info info;
  struct svc_server *srv;
};

static int
serve(struct disk *d, const struct blockdev_req *q, struct blockdev_resp *r,
      struct blockdev_err *e)
{
  memset(r, 0, sizeof *r);
  switch (q->kind) {
  case BLOCKDEV_INFO:
    r->info = d->info;
    return 0;
  case BLOCKDEV_READ:
  case BLOCKDEV_WRITE: {
    if (!q->count || q->count > d->info.max_transfer || q->lba >= d->info.sectors ||
        q->count > d->info.sectors - q->lba) {
      e->kind = BLOCKDEV_RANGE;
      return -1;
    }
    if (!q->buf) {
      e->kind = BLOCKDEV_BAD_REQUEST;
      return -1;
    }
    if (q->kind == BLOCKDEV_WRITE && d->info.read_only) {
      e->kind = BLOCKDEV_READ_ONLY;
      return -1;
    }
    size_t len = (size_t)q->count * SECTOR;
    off_t off = (off_t)(q->lba * SECTOR);
    ssize_t n = q->kind == BLOCKDEV_READ ? pread(d->fd, q->buf, len, off)
                                         : pwrite(d->fd, q->buf, len, off);
    if (n != (ssize_t)len) {
      e->kind = BLOCKDEV_IO;
      e->code = n < 0 ? -1 : (int32_t)n;
      return -1;
    }
    return 0;
  }
  case BLOCKDEV_FLUSH:
    if (!d->info.read_only && fdatasync(d->fd)) {
      e->kind = BLOCKDEV_IO;
      return -1;
    }
    return 0;
  default:
    e->kind = BLOCKDEV_BAD_REQUEST;
    return -1;
  }
}

static int
disk_task(void *arg)
{
  struct disk *d = arg;
  SVC_MSG_BUF(m, sizeof(struct blockdev_req));
  struct blockdev_resp r;
  while (svc_recv(d->srv, m, MN_FOREVER) == 0) {
    struct blockdev_req q;
    struct blockdev_err e = { 0, 0 };
    memcpy(&q, m->body, sizeof q);
    if (serve(d, &q, &r, &e) == 0)
      svc_reply_ok(d->srv, &m->env, &r);
    else
      svc_reply_err(d->srv, &m->env, &e);
  }
  return 0;
}

int
hosted_disk_start(unsigned n, const char *path)
{
  static const struct svc_type type = BLOCKDEV_TYPE;
  if (n >= BLOCKDEV_MAX_DISKS)
    return MN_EINVAL;
  int ro = 0, fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    fd = open(path, O_RDONLY | O_CLOEXEC);
    ro = 1;
  }
  if (fd < 0)
    return MN_ENOENT;
  struct stat st;
  if (fstat(fd, &st) || st.st_size < (off_t)SECTOR) {
    close(fd);
    return MN_EINVAL;
  }
  struct disk *d = kmalloc(sizeof *d);
  if (!d) {
    close(fd);
    return MN_ENOMEM;
  }
  memset(d, 0, sizeof *d);
  d->fd = fd;
  d->info.sectors = (uint64_t)st.st_size / SECTOR;
  d->info.sector_size = SECTOR;
  d->info.max_transfer = MAX_TRANSFER;
  d->info.read_only = (uint8_t)ro;
  snprintf(d->info.name, sizeof d->info.name, "image%u", n);
  int err = svc_register(&(struct uuid)BLOCKDEV_UUID_N(n), d->info.name, &type, NULL,
                         SVC_ACCEPT_ALL, 16, &d->srv);
  if (!err)
    err = task_spawn(d->info.name, disk_task, d, 0, 0);
  if (err) {
    close(fd);
    kfree(d);
    return err;
  }
  klog(LOG_INFO, "%s: %s, %llu sectors%s", d->info.name, path,
       (unsigned long long)d->info.sectors, ro ? ", read-only" : "");
  return 0;
}
