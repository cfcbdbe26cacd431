/*
 * gpt.h: finding the volumes on a disk (a library, no kernel).
 *
 * A disk is a GUID partition table (its header and entry CRCs checked, the
 * backup header used when the primary is damaged), an MBR with FAT
 * partitions, or a FAT volume without any table (a "superfloppy": the
 * whole disk). Everything read is checked against the disk size; a
 * damaged table gives MN_EFORMAT, never an entry outside the disk.
 */
#ifndef MNEME_GPT_H
#define MNEME_GPT_H

#include <stdint.h>

#define GPT_MAX_PARTS 16

enum gpt_kind { GPT_KIND_NONE, GPT_KIND_GPT, GPT_KIND_MBR, GPT_KIND_RAW };

struct gpt_part {
  uint64_t first, count;      /* sectors */
  uint8_t type[16];           /* GPT type GUID as on disk; MBR: type[0] */
  char name[72];              /* GPT name in UTF-8 (ASCII-only kept) */
  int esp;                    /* the EFI system partition */
};

struct gpt_table {
  enum gpt_kind kind;
  int used_backup;            /* the primary GPT header was damaged */
  uint32_t count;
  struct gpt_part part[GPT_MAX_PARTS];
};

/* Reads count sectors at lba into buf; 0 or an error. */
typedef int (*gpt_read_fn)(void *ctx, uint64_t lba, uint32_t count, void *buf);

/*
 * Scans a disk of `sectors` sectors of sector_size (512..4096) bytes.
 * buf: sector_size bytes of scratch. Returns 0 (t filled; kind NONE when
 * nothing is recognized), MN_EIO, MN_EFORMAT (a GPT both of whose
 * headers are damaged), MN_EINVAL.
 */
int gpt_scan(gpt_read_fn rd, void *ctx, uint32_t sector_size, uint64_t sectors,
             uint8_t *buf, struct gpt_table *t);

/* CRC-32 (IEEE, as GPT uses), continued from crc (start with 0). */
uint32_t gpt_crc32(uint32_t crc, const void *p, uint64_t n);

#endif
