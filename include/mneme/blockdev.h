/*
 * blockdev.h: the block device service (one disk).
 *
 * The contract between a disk driver (virtio-blk and NVMe over PCI, an
 * image file on the hosted platform) and its users (GPT, the file
 * systems). Requests are ordinary registry calls: several tasks may hold
 * connections to one disk, and the driver queues their requests and
 * answers each when the device has finished it (DMA and an interrupt on
 * real hardware). The caller's buffer must stay valid until the reply;
 * svc_call guarantees that because the caller waits.
 *
 * Sectors are the device's logical block size (512 or 4096 bytes). A
 * request past the end of the device is refused with BLOCKDEV_RANGE and
 * touches nothing. WRITE returns when the device has accepted the data;
 * FLUSH returns when everything accepted before it is on stable storage
 * (the file system orders its writes with it).
 *
 * Kernel-only (requests carry pointers). A driver registers
 * BLOCKDEV_UUID_N(n) for disk n (0 is the boot disk where the platform
 * knows it, else the first disk found).
 */
#ifndef MNEME_BLOCKDEV_H
#define MNEME_BLOCKDEV_H

#include <stdint.h>
#include "mneme/registry.h"

#define BLOCKDEV_UUID_N(n) \
  UUID_INIT(0x626c6b64, 0x6576, 0x4d2b, 0x8c11, 0x52e9c4000000ull + (n))
#define BLOCKDEV_MAX_DISKS 8

enum blockdev_req_kind {
  BLOCKDEV_INFO = 0,   /* -> resp.info */
  BLOCKDEV_READ = 1,   /* count sectors from lba into buf */
  BLOCKDEV_WRITE = 2,  /* count sectors from buf to lba */
  BLOCKDEV_FLUSH = 3,  /* make every accepted write durable */
};

struct blockdev_req {
  uint8_t kind;
  uint64_t lba;
  uint32_t count;      /* sectors; at most info.max_transfer */
  void *buf;           /* count * sector_size bytes */
};

struct blockdev_info {
  uint64_t sectors;        /* device size in sectors */
  uint32_t sector_size;    /* 512 or 4096 */
  uint32_t max_transfer;   /* sectors per request */
  uint8_t read_only;
  char name[16];           /* "virtio-blk0", "nvme0n1", "image0" */
};

struct blockdev_resp {
  struct blockdev_info info;   /* filled by BLOCKDEV_INFO */
};

enum blockdev_err_kind {
  BLOCKDEV_RANGE = 0,      /* lba + count beyond the device, or count 0 */
  BLOCKDEV_IO = 1,         /* the device reported an error */
  BLOCKDEV_READ_ONLY = 2,  /* a write to a read-only device */
  BLOCKDEV_BAD_REQUEST = 3,
};

struct blockdev_err {
  uint8_t kind;
  int32_t code;            /* the device's own status, for the log */
};

#define BLOCKDEV_TYPE SVC_TYPE(struct blockdev_req, struct blockdev_resp, \
                               struct blockdev_err, struct svc_none)

#endif
