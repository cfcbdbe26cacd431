/*
 * fat.h: FAT16 and FAT32 volumes with long file names (a library).
 *
 * Needs no kernel: the volume reaches its disk through struct fat_dev
 * (read, write, flush of whole sectors, volume-relative) and its memory
 * through the caller. Tested on the host against images made by mkfs.fat
 * and read by mtools; used by the files service (files.h).
 *
 * Everything read from the disk is checked: clusters out of range, loops
 * in the FAT, directories that contain themselves, broken long names give
 * errors, never a crash or a hang. Writes are ordered so that a crash
 * loses at most the data being written (docs/fs.md): data, new chain
 * (every FAT copy), flush, link, flush, directory entry, flush. A file's
 * writes are committed that way at fat_close, fat_flush and every
 * FAT_COMMIT_BYTES (new files closed: together, at fat_sync); a crash
 * before loses the writes since the last commit.
 * The volume's dirty flag is set before the first change and cleared by
 * fat_sync_clean/fat_unmount.
 *
 * Paths are UTF-8, '/'-separated, relative to the volume root (a leading
 * '/' is allowed); names compare without regard to ASCII case.
 * One writer per file: two handles writing the same file see stale sizes
 * (the files service refuses a second writer).
 *
 * Errors are MN_E* codes (err.h) and the FAT_E* codes below; fat_strerror
 * names both.
 */
#ifndef MNEME_FAT_H
#define MNEME_FAT_H

#include <stddef.h>
#include <stdint.h>

#define FAT_ENOTDIR (-120)    /* a path component is not a directory */
#define FAT_EISDIR (-121)     /* a directory where a file was wanted */
#define FAT_ENOTEMPTY (-122)  /* removing a directory that has entries */
#define FAT_ECORRUPT (-123)   /* the volume's structures are inconsistent */
#define FAT_ENAME (-124)      /* a name FAT cannot store */

#define FAT_NAME_MAX 255      /* UTF-16 units of a long name */
#define FAT_UTF8_MAX 768      /* bytes of a name in UTF-8, with the NUL */
#define FAT_SECTOR_MAX 4096
#define FAT_CACHE_SECTORS 8   /* FAT sectors kept in memory */
#define FAT_DEPTH_MAX 64      /* directory nesting the check follows */
#define FAT_COMMIT_BYTES (4u << 20) /* a file's writes committed at least this often */
#define FAT_QUEUE_MAX 64      /* new files closed, committed together (fat_sync) */
#define FAT_DCACHE_SLOTS 32   /* directory reads kept: runs of up to 4 KiB in a cluster */
#define FAT_DCACHE_RUN 4096

struct fat_dev {
  void *ctx;
  /* count sectors of sector_size bytes at volume-relative sector. 0 or an error. */
  int (*read)(void *ctx, uint64_t sector, uint32_t count, void *buf);
  int (*write)(void *ctx, uint64_t sector, uint32_t count, const void *buf);
  int (*flush)(void *ctx);
  /* Memory for the mount check (a bitmap of clusters); NULL: no check. */
  void *(*alloc)(void *ctx, size_t n);
  void (*free)(void *ctx, void *p);
  /* DOS date << 16 | time for new entries; NULL: 2026-01-01 00:00. */
  uint32_t (*now)(void *ctx);
  uint32_t sector_size;       /* must equal the volume's bytes per sector */
  uint64_t sectors;           /* volume size in sectors */
  int read_only;
};

/* What the mount check found and what it repaired. */
struct fat_report {
  int was_dirty;              /* not cleanly unmounted */
  int checked;                /* the check ran (memory was available) */
  uint32_t lost_freed;        /* allocated clusters no file used: freed */
  uint32_t lost_found;        /* ... found on a read-only volume */
  uint32_t chains_trimmed;    /* chains longer than the file: tail freed */
  uint32_t mirror_fixed;      /* FAT copy sectors rewritten from the first */
  uint32_t cross_linked;      /* clusters used twice (reported) */
  uint32_t bad_chains;        /* chains out of range or ending early (reported) */
  uint32_t bad_sizes;         /* files larger than their chain (reported) */
  uint32_t bad_names;         /* broken long names (reported) */
  uint32_t dir_loops;         /* directories containing themselves (reported) */
  uint32_t too_deep;          /* directories nested beyond FAT_DEPTH_MAX */
  uint32_t orphans_fixed;     /* long-name entries without their short entry: deleted */
  uint32_t renames_finished;  /* a rename cut after its new entry: the old one deleted */
  uint32_t renames_undone;    /* a rename cut before its new entry: the mark cleared */
};

/* The byte of a short entry's NT-reserved field (offset 12) that marks
 * the entry a rename is moving away from (Windows uses 0x08 and 0x10). */
#define FAT_NT_RENAMING 0x40

struct fat_cache_slot {
  uint32_t sector;            /* FAT-relative sector */
  uint8_t valid, dirty;
  uint32_t used;              /* LRU stamp */
};

/* A new file closed but not committed yet (fat_sync): its entry's cluster and size. */
struct fat_queued {
  uint32_t dir, idx;          /* its short entry (struct fat_loc) */
  uint32_t first, size;
};

struct fat_vol {
  struct fat_dev dev;
  int type;                   /* 16 or 32 */
  uint32_t bps, spc, csize;   /* bytes/sector, sectors/cluster, bytes/cluster */
  uint32_t nfats, fat_start, fat_sectors;
  uint32_t root_start, root_sectors;  /* FAT16 fixed root */
  uint32_t root_cluster;      /* FAT32 */
  uint32_t data_start, nclusters;     /* clusters 2 .. nclusters+1 */
  uint32_t fsinfo;            /* sector, 0: none */
  uint32_t active_fat;        /* FAT32 with mirroring off: the one used */
  int mirror;                 /* write every FAT copy */
  uint32_t free_count, next_free;
  int dirty;                  /* our dirty flag is set on the disk */
  int open_writers;
  int read_only;
  uint32_t stamp;
  struct fat_cache_slot cache[FAT_CACHE_SECTORS];
  uint8_t cbuf[FAT_CACHE_SECTORS][FAT_SECTOR_MAX];
  uint64_t dsec;              /* sector in dbuf (directory), ~0: none */
  uint8_t dbuf[FAT_SECTOR_MAX];
  uint8_t tbuf[FAT_SECTOR_MAX];   /* bounce buffer for partial data sectors */
  char label[12];
  uint32_t nqueued;
  struct fat_queued queued[FAT_QUEUE_MAX];
  /* directory sectors as on the disk (every write goes through them) */
  struct { uint64_t sec; uint32_t n, used; } dc[FAT_DCACHE_SLOTS];
  uint32_t dc_stamp;
  uint8_t dcbuf[FAT_DCACHE_SLOTS][FAT_DCACHE_RUN];
};

enum fat_open_flags {
  FAT_READ = 1,
  FAT_WRITE = 2,
  FAT_CREATE = 4,             /* create if missing */
  FAT_TRUNC = 8,              /* truncate to 0 */
  FAT_EXCL = 16,              /* with CREATE: fail if it exists */
};

/* Where a directory entry is: its short entry and the first LFN entry. */
struct fat_loc {
  uint32_t dir;               /* first cluster of the directory, 0: FAT16 root */
  uint32_t idx;               /* index of the short entry */
  uint32_t first;             /* index of the first LFN entry (= idx if none) */
};

struct fat_file {
  struct fat_vol *v;
  struct fat_loc loc;
  uint32_t first;             /* first cluster, 0: empty */
  uint32_t size, pos;
  uint32_t nclus, last;       /* chain length and last cluster */
  uint32_t cur, cur_idx;      /* a cluster of the chain and its index */
  /* what the disk holds (docs/fs.md, "Write ordering"): writes go to the
   * data clusters at once, the chain and the directory entry at commits */
  uint32_t dfirst, dsize;     /* first cluster and size in the directory entry */
  uint32_t clast;             /* last cluster of the chain linked on disk, 0: none */
  uint32_t pfirst;            /* first cluster not linked yet (in memory), 0: none */
  uint32_t psec_lo, psec_hi;  /* the FAT sectors of the clusters not linked yet */
  uint32_t unsynced;          /* bytes written since the last commit */
  uint8_t attr, flags;
};

struct fat_stat {
  char name[FAT_UTF8_MAX];
  char short_name[13];
  uint32_t size, first_cluster;
  uint8_t attr;               /* 0x10 directory, 0x01 read-only, ... */
  uint16_t date, time;
  int bad_name;               /* the long name was broken: short name shown */
};

#define FAT_ATTR_RO 0x01
#define FAT_ATTR_HIDDEN 0x02
#define FAT_ATTR_SYSTEM 0x04
#define FAT_ATTR_VOLUME 0x08
#define FAT_ATTR_DIR 0x10
#define FAT_ATTR_ARCHIVE 0x20
#define FAT_ATTR_LFN 0x0f

struct fat_dir {
  struct fat_vol *v;
  uint32_t start;             /* 0: FAT16 root */
  uint32_t idx;
  uint32_t cur, cur_idx;      /* cluster cursor */
};

/* Recognizes a FAT16/FAT32 boot sector (512+ bytes). 1 yes, 0 no. */
int fat_probe(const uint8_t *sector, size_t len);

/*
 * Mounts the volume on dev (copied), checking and repairing it when
 * dev->alloc is given (report may be NULL). Returns 0, MN_EIO,
 * MN_EFORMAT (not FAT16/32, or a sector size we cannot use), MN_ENOTSUP
 * (FAT12), FAT_ECORRUPT.
 */
int fat_mount(struct fat_vol *v, const struct fat_dev *dev, struct fat_report *report);
/* Writes what is pending, clears the dirty flag. The volume stays usable.
 * Files open for writing: their writes are not included (fat_flush them)
 * and the flag stays set. */
int fat_sync_clean(struct fat_vol *v);
/* fat_sync_clean; afterwards v must not be used. */
int fat_unmount(struct fat_vol *v);

int fat_open(struct fat_vol *v, const char *path, unsigned flags, struct fat_file *f);
/* Reads up to n bytes at the position; returns the count (0 at the end) or an error. */
long fat_read(struct fat_file *f, void *buf, size_t n);
/* Writes n bytes at the position (past the end: the gap reads as zeros). */
long fat_write(struct fat_file *f, const void *buf, size_t n);
int fat_seek(struct fat_file *f, uint32_t pos);
int fat_truncate(struct fat_file *f, uint32_t size);
/* Commits the file's writes (durable on return), and fat_sync. */
int fat_flush(struct fat_file *f);
/*
 * Closes; commits the file's writes, except for a new file: that waits,
 * with up to FAT_QUEUE_MAX others, for fat_sync (or fat_flush, the
 * volume's changing calls, a full queue) to commit them together. Until
 * then it reads back (stat, open, readdir) as written; a crash loses it.
 */
int fat_close(struct fat_file *f);
/* Commits the new files fat_close left waiting (durable on return). */
int fat_sync(struct fat_vol *v);

int fat_stat(struct fat_vol *v, const char *path, struct fat_stat *st);
int fat_mkdir(struct fat_vol *v, const char *path);
/* Removes a file or an empty directory. */
int fat_unlink(struct fat_vol *v, const char *path);
/* Renames or moves; the target must not exist. */
int fat_rename(struct fat_vol *v, const char *from, const char *to);

int fat_opendir(struct fat_vol *v, const char *path, struct fat_dir *d);
/* Next entry (not . or ..): 0 and *st, MN_ENOENT at the end, or an error. */
int fat_readdir(struct fat_dir *d, struct fat_stat *st);

/* Free and total space in bytes. */
void fat_space(const struct fat_vol *v, uint64_t *free_bytes, uint64_t *total_bytes);

const char *fat_strerror(int err);

#endif
