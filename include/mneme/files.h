/*
 * files.h: the files service (paths over every mounted FAT volume).
 *
 * At start the service looks at every block device (blockdev.h), reads
 * its partition table (gpt.h) and mounts each FAT16/FAT32 volume (fat.h),
 * checking and repairing it (docs/fs.md). Paths name a volume first:
 * "/boot" is the EFI system partition (the first FAT volume of disk 0),
 * the others are "/disk1", "/disk2"... in the order found. "/" lists the
 * volumes.
 *
 * File handles belong to the task that opened them (req.owner, set by
 * files_call from the calling task): when that task has ended the service
 * closes them. Requests from userspace (the codec) have owner 0: their
 * handles live until closed. One writer per file (MN_EBUSY for a second);
 * an open file cannot be deleted or renamed (MN_EBUSY). After a change,
 * once no file is open for writing and the service is idle, the volume is
 * marked clean.
 *
 * Userspace wire form (postcard), one request layout for every kind:
 *   kind u8, handle u32, flags u32, arg u64, len u32, path str, path2 str,
 *   data bytes
 * response: kind u8, handle u32, value u64, size u64, free u64, total u64,
 *   attr u8, name str, data bytes
 * error: kind u8 (0), code i32 (an MN_E* or FAT_E* code).
 * Userspace reads and writes at most FILES_INLINE bytes per request;
 * kernel callers pass a buffer (req.buf) of any size.
 */
#ifndef MNEME_FILES_H
#define MNEME_FILES_H

#include <stdint.h>
#include "mneme/registry.h"

/* 66696c65-7373-4d2b-9a4e-3b71c2d0e001 */
#define FILES_UUID UUID_INIT(0x66696c65, 0x7373, 0x4d2b, 0x9a4e, 0x3b71c2d0e001ull)
#define FILES_PATH_MAX 256
#define FILES_INLINE 512
#define FILES_MAX_HANDLES 64
#define FILES_MAX_VOLUMES 8

enum files_kind {
  FILES_OPEN,       /* path, flags (FAT_READ...) -> handle, size */
  FILES_CLOSE,      /* handle */
  FILES_READ,       /* handle, len, buf -> value: bytes read (0: end) */
  FILES_WRITE,      /* handle, len, buf -> value: bytes written */
  FILES_SEEK,       /* handle, arg: position */
  FILES_TRUNCATE,   /* handle, arg: size */
  FILES_FSTAT,      /* handle -> value: position, size */
  FILES_STAT,       /* path -> size, attr, name */
  FILES_READDIR,    /* path, arg: index -> name, size, attr; MN_ENOENT past the end */
  FILES_MKDIR,      /* path */
  FILES_UNLINK,     /* path (a file or an empty directory) */
  FILES_RENAME,     /* path -> path2 (same volume) */
  FILES_SPACE,      /* path (a volume) -> free, total, name: "FAT32" */
  FILES_READ_LINE,  /* handle, len, buf -> value: line length without the
                       end of line, attr: 1 a line, 0 end of file */
  FILES_SYNC,       /* everything on disk, volumes marked clean where idle */
  FILES_KIND_COUNT
};

struct files_req {
  uint8_t kind;
  uint32_t owner;           /* task id (files_call sets it); 0 userspace */
  uint32_t handle;
  uint32_t flags;
  uint64_t arg;
  uint32_t len;
  void *buf;                /* kernel callers; NULL: data[] */
  char path[FILES_PATH_MAX];
  char path2[FILES_PATH_MAX];
  uint8_t data[FILES_INLINE];
};

struct files_resp {
  uint8_t kind;
  uint32_t handle;
  uint64_t value, size, free, total;
  uint8_t attr;             /* 0x10 directory, 0x01 read-only */
  char name[FILES_PATH_MAX];
  uint32_t len;             /* bytes in data[] (userspace reads) */
  uint8_t data[FILES_INLINE];
};

struct files_err {
  uint8_t kind;             /* 0 */
  int32_t code;             /* MN_E* or FAT_E* */
};

#define FILES_TYPE SVC_TYPE(struct files_req, struct files_resp, \
                            struct files_err, struct svc_none)

/* Mounts what the block devices hold and starts the service. 0 or MN_E*. */
int files_start(void);

/* Kernel clients: connect (waits up to 1 s for the service), then call.
 * files_call sets q->owner to the calling task and returns 0 or the
 * error code (the service's, or the registry's). */
int files_connect(struct svc_client *c);
int files_call(struct svc_client *c, struct files_req *q, struct files_resp *r);

#endif
