/*
 * fat_fuzz.c: libFuzzer target for the disk formats (fs/gpt.c, fs/fat.c).
 *
 * The input is the first bytes of a disk of 65536 sectors (the rest reads
 * as zeros). The harness finds the volumes (gpt_scan), mounts each FAT
 * volume read-write (the check repairs), walks every directory, reads
 * every file, then creates, writes, renames, truncates and deletes, and
 * unmounts. Writes land in a private copy (sectors outside the input are
 * kept in a small table; when it is full writes fail, as a bad disk
 * would). Whatever the bytes, this must end without a sanitizer report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mneme/err.h"
#include "mneme/fat.h"
#include "mneme/gpt.h"

#define SS 512
#define DISK_SECTORS 65536
#define EXTRA 256

static uint8_t *prefix;
static size_t prefix_sectors;
static struct {
  uint64_t sec;
  uint8_t data[SS];
} extra[EXTRA];
static int nextra;
static uint64_t base;
static unsigned budget;        /* entries and reads left */

static uint8_t *
sector(uint64_t s, int create)
{
  if (s < prefix_sectors)
    return prefix + s * SS;
  for (int i = 0; i < nextra; i++)
    if (extra[i].sec == s)
      return extra[i].data;
  if (!create || nextra == EXTRA)
    return NULL;
  extra[nextra].sec = s;
  memset(extra[nextra].data, 0, SS);
  return extra[nextra++].data;
}

static int
disk_read(void *ctx, uint64_t lba, uint32_t n, void *buf)
{
  (void)ctx;
  if (lba + n > DISK_SECTORS)
    return -1;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t *s = sector(lba + i, 0);
    if (s)
      memcpy((uint8_t *)buf + (size_t)i * SS, s, SS);
    else
      memset((uint8_t *)buf + (size_t)i * SS, 0, SS);
  }
  return 0;
}

static int
vol_read(void *ctx, uint64_t sec, uint32_t n, void *buf)
{
  return disk_read(ctx, base + sec, n, buf);
}

static int
vol_write(void *ctx, uint64_t sec, uint32_t n, const void *buf)
{
  (void)ctx;
  if (base + sec + n > DISK_SECTORS)
    return -1;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t *s = sector(base + sec + i, 1);
    if (!s)
      return -1;
    memcpy(s, (const uint8_t *)buf + (size_t)i * SS, SS);
  }
  return 0;
}

static int
vol_flush(void *ctx)
{
  (void)ctx;
  return 0;
}

static void *
fz_alloc(void *ctx, size_t n)
{
  (void)ctx;
  return n > (16u << 20) ? NULL : malloc(n);
}

static void
fz_free(void *ctx, void *p)
{
  (void)ctx;
  free(p);
}

static uint8_t data[70000];

static void
walk(struct fat_vol *v, const char *dir, int depth)
{
  struct fat_dir d;
  struct fat_stat st;
  if (fat_opendir(v, dir, &d))
    return;
  while (budget && !fat_readdir(&d, &st)) {
    budget--;
    char path[2048];
    size_t n = strlen(dir);
    if (n + strlen(st.name) + 2 > sizeof path)
      continue;
    memcpy(path, dir, n);
    if (n > 1)
      path[n++] = '/';
    memcpy(path + n, st.name, strlen(st.name) + 1);
    if (st.attr & FAT_ATTR_DIR) {
      if (depth < 6)
        walk(v, path, depth + 1);
      continue;
    }
    struct fat_file f;
    if (!fat_open(v, path, FAT_READ, &f)) {
      fat_read(&f, data, sizeof data);
      fat_seek(&f, f.size / 2);
      fat_read(&f, data, 100);
      fat_close(&f);
    }
  }
}

static void
exercise(struct fat_vol *v)
{
  struct fat_file f;
  memset(data, 'x', sizeof data);
  fat_mkdir(v, "/fz dir");
  if (!fat_open(v, "/fz dir/a long file name.txt", FAT_READ | FAT_WRITE | FAT_CREATE, &f)) {
    fat_write(&f, data, 5000);
    fat_seek(&f, 100);
    fat_write(&f, "hello", 5);
    fat_truncate(&f, 700);
    fat_truncate(&f, 3000);
    fat_close(&f);
  }
  fat_rename(v, "/fz dir/a long file name.txt", "/moved.txt");
  fat_rename(v, "/fz dir", "/fz dir 2");
  budget = 500;
  walk(v, "/", 0);
  fat_unlink(v, "/moved.txt");
  fat_unlink(v, "/fz dir 2");
  uint64_t fr, tot;
  fat_space(v, &fr, &tot);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
  if (len > 128 * SS)
    len = 128 * SS;
  prefix_sectors = (len + SS - 1) / SS;
  prefix = calloc(prefix_sectors ? prefix_sectors : 1, SS);
  memcpy(prefix, in, len);
  nextra = 0;
  static uint8_t buf[SS];
  static struct gpt_table t;
  if (gpt_scan(disk_read, NULL, SS, DISK_SECTORS, buf, &t) == 0) {
    for (uint32_t i = 0; i < t.count && i < 4; i++) {
      static struct fat_vol v;
      base = t.part[i].first;
      struct fat_dev dev = { NULL, vol_read, vol_write, vol_flush, fz_alloc, fz_free, NULL,
                             SS, t.part[i].count, 0 };
      struct fat_report r;
      if (fat_mount(&v, &dev, &r) == 0) {
        budget = 2000;
        walk(&v, "/", 0);
        exercise(&v);
        fat_unmount(&v);
      }
    }
  }
  free(prefix);
  return 0;
}
