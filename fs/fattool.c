/*
 * fattool.c: mneme-fat, the FAT library on a disk image from the host
 * shell (tests, the power-cut test, the benchmark).
 *
 *   mneme-fat [-r] IMAGE[@N] COMMAND [ARGS]
 *     IMAGE@N: the Nth volume (1-based) the partition table lists;
 *     IMAGE alone: the first. -r: read-only.
 *   ls [PATH]  cat PATH  put HOSTFILE PATH  get PATH HOSTFILE  rm PATH
 *   mkdir PATH  mv FROM TO  trunc PATH SIZE  df  check  parts
 *   stream DIR N SIZE   write files DIR/fNNNN (deterministic bytes),
 *                       printing "done NAME" after each is closed and
 *                       committed (fat_sync)
 *   verify DIR          check every fNNNN against its expected bytes
 *   walk                list every directory and read every file, going
 *                       on after errors (for hostile images)
 *   bench-write PATH MB  bench-read PATH  bench-small DIR N
 * Exit status: 0 ok, 1 an error (printed), 2 usage.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "mneme/err.h"
#include "mneme/fat.h"
#include "mneme/gpt.h"

struct img {
  int fd;
  uint64_t base;              /* byte offset of the volume */
  uint32_t ss;
};

static int
img_read(void *ctx, uint64_t sec, uint32_t n, void *buf)
{
  struct img *m = ctx;
  size_t len = (size_t)n * m->ss;
  return pread(m->fd, buf, len, (off_t)(m->base + sec * m->ss)) == (ssize_t)len ? 0 : -1;
}

static int
img_write(void *ctx, uint64_t sec, uint32_t n, const void *buf)
{
  struct img *m = ctx;
  size_t len = (size_t)n * m->ss;
  return pwrite(m->fd, buf, len, (off_t)(m->base + sec * m->ss)) == (ssize_t)len ? 0 : -1;
}

static int noflush;            /* MNEME_FAT_NOFLUSH: the bench's comparison */

static int
img_flush(void *ctx)
{
  struct img *m = ctx;
  return noflush ? 0 : fdatasync(m->fd);
}

static int
raw_read(void *ctx, uint64_t lba, uint32_t n, void *buf)
{
  struct img *m = ctx;
  size_t len = (size_t)n * m->ss;
  return pread(m->fd, buf, len, (off_t)(lba * m->ss)) == (ssize_t)len ? 0 : -1;
}

static void *
h_alloc(void *ctx, size_t n)
{
  (void)ctx;
  return malloc(n);
}

static void
h_free(void *ctx, void *p)
{
  (void)ctx;
  free(p);
}

static uint32_t
h_now(void *ctx)
{
  (void)ctx;
  time_t t = time(NULL);
  struct tm tm;
  localtime_r(&t, &tm);
  uint32_t date = (uint32_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
  uint32_t tim = (uint32_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
  return date << 16 | tim;
}

static int
die(const char *what, int err)
{
  fprintf(stderr, "mneme-fat: %s: %s\n", what, fat_strerror(err));
  return 1;
}

/* The bytes of stream file i at offset o. */
static uint8_t
pattern(uint32_t i, uint32_t o)
{
  uint32_t x = i * 2654435761u ^ o * 40503u;
  x ^= x >> 13;
  return (uint8_t)(x * 0x5bd1e995u >> 24);
}

static double
now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
print_report(const struct fat_report *r)
{
  printf("dirty %d checked %d lost_freed %u lost_found %u trimmed %u mirror_fixed %u "
         "orphans_fixed %u cross_linked %u bad_chains %u bad_sizes %u bad_names %u "
         "dir_loops %u too_deep %u renames_finished %u renames_undone %u\n",
         r->was_dirty, r->checked, r->lost_freed, r->lost_found, r->chains_trimmed,
         r->mirror_fixed, r->orphans_fixed, r->cross_linked, r->bad_chains, r->bad_sizes,
         r->bad_names, r->dir_loops, r->too_deep, r->renames_finished, r->renames_undone);
}

static uint8_t buf[1 << 20];

/* Lists dir and reads its files, recursively; counts errors. */
static void
walk(struct fat_vol *v, const char *dir, int depth, unsigned *errors)
{
  struct fat_dir d;
  struct fat_stat st;
  int err = fat_opendir(v, dir, &d);
  if (err) {
    printf("error opendir %s: %s\n", dir, fat_strerror(err));
    ++*errors;
    return;
  }
  unsigned n = 0;
  while (!(err = fat_readdir(&d, &st))) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") ? dir : "", st.name);
    printf("%s%s %u %s\n", st.attr & FAT_ATTR_DIR ? "d" : "-", st.bad_name ? "!" : "",
           st.size, path);
    if (++n > 100000)
      break;
    if (st.attr & FAT_ATTR_DIR) {
      if (depth < 40)
        walk(v, path, depth + 1, errors);
      continue;
    }
    struct fat_file f;
    int e2 = fat_open(v, path, FAT_READ, &f);
    long r = 0;
    while (!e2 && (r = fat_read(&f, buf, sizeof buf)) > 0)
      ;
    if (e2 || r < 0) {
      printf("error reading %s: %s\n", path, fat_strerror(e2 ? e2 : (int)r));
      ++*errors;
    }
  }
  if (err != MN_ENOENT) {
    printf("error readdir %s: %s\n", dir, fat_strerror(err));
    ++*errors;
  }
}

static int
usage(void)
{
  fprintf(stderr, "usage: mneme-fat [-r] IMAGE[@N] ls|cat|put|get|rm|mkdir|mv|trunc|df|check|"
                  "parts|stream|verify|bench-write|bench-read|bench-small ...\n");
  return 2;
}

int
main(int argc, char **argv)
{
  int ro = 0, ai = 1;
  if (ai < argc && !strcmp(argv[ai], "-r"))
    ro = 1, ai++;
  if (argc - ai < 2)
    return usage();
  char path[4096];
  snprintf(path, sizeof path, "%s", argv[ai]);
  int partno = 1;
  char *at = strrchr(path, '@');
  if (at) {
    *at = 0;
    partno = atoi(at + 1);
  }
  const char *cmd = argv[ai + 1];
  char **args = argv + ai + 2;
  int nargs = argc - ai - 2;
  static struct img m;
  m.fd = open(path, ro ? O_RDONLY : O_RDWR);
  if (m.fd < 0) {
    perror(path);
    return 1;
  }
  m.ss = 512;
  struct stat sb;
  fstat(m.fd, &sb);
  uint64_t disk = (uint64_t)sb.st_size / m.ss;
  static uint8_t sbuf[4096];
  static struct gpt_table t;
  int err = gpt_scan(raw_read, &m, m.ss, disk, sbuf, &t);
  if (err)
    return die("partition table", err);
  if (!strcmp(cmd, "parts")) {
    static const char *kinds[] = { "none", "gpt", "mbr", "raw" };
    printf("%s%s\n", kinds[t.kind], t.used_backup ? " (backup header)" : "");
    for (uint32_t i = 0; i < t.count; i++)
      printf("%u %llu %llu%s %s\n", i + 1, (unsigned long long)t.part[i].first,
             (unsigned long long)t.part[i].count, t.part[i].esp ? " esp" : "", t.part[i].name);
    return 0;
  }
  if (t.count == 0) {
    /* nothing recognized: try the whole disk (the mount says why not) */
    t.count = 1;
    t.part[0].first = 0;
    t.part[0].count = disk;
  }
  if (partno < 1 || (uint32_t)partno > t.count) {
    fprintf(stderr, "mneme-fat: no volume %d on %s\n", partno, path);
    return 1;
  }
  m.base = t.part[partno - 1].first * m.ss;
  struct fat_dev dev = { &m, img_read, img_write, img_flush, h_alloc, h_free, h_now,
                         m.ss, t.part[partno - 1].count, ro };
  noflush = getenv("MNEME_FAT_NOFLUSH") != NULL;
  if (getenv("MNEME_FAT_NOCHECK"))
    dev.alloc = NULL;
  static struct fat_vol v;
  struct fat_report rep;
  err = fat_mount(&v, &dev, &rep);
  if (err)
    return die("mount", err);
  int rc = 0;
  struct fat_file f;
  if (!strcmp(cmd, "check")) {
    print_report(&rep);
  } else if (!strcmp(cmd, "walk")) {
    unsigned errors = 0;
    print_report(&rep);
    walk(&v, "/", 0, &errors);
    printf("walk-errors %u\n", errors);
  } else if (!strcmp(cmd, "ls")) {
    struct fat_dir d;
    struct fat_stat st;
    err = fat_opendir(&v, nargs ? args[0] : "/", &d);
    while (!err && !(err = fat_readdir(&d, &st)))
      printf("%s%s %u %s\n", st.attr & FAT_ATTR_DIR ? "d" : "-", st.bad_name ? "!" : "",
             st.size, st.name);
    if (err != MN_ENOENT)
      rc = die("ls", err);
  } else if (!strcmp(cmd, "cat") && nargs == 1) {
    err = fat_open(&v, args[0], FAT_READ, &f);
    long n = 0;
    while (!err && (n = fat_read(&f, buf, sizeof buf)) > 0)
      fwrite(buf, 1, (size_t)n, stdout);
    if (err || n < 0)
      rc = die("cat", err ? err : (int)n);
  } else if (!strcmp(cmd, "get") && nargs == 2) {
    FILE *o = fopen(args[1], "wb");
    err = o ? fat_open(&v, args[0], FAT_READ, &f) : MN_EIO;
    long n = 0;
    while (!err && (n = fat_read(&f, buf, sizeof buf)) > 0)
      fwrite(buf, 1, (size_t)n, o);
    if (o)
      fclose(o);
    if (err || n < 0)
      rc = die("get", err ? err : (int)n);
  } else if (!strcmp(cmd, "put") && nargs == 2) {
    FILE *in = strcmp(args[0], "-") ? fopen(args[0], "rb") : stdin;
    err = in ? fat_open(&v, args[1], FAT_WRITE | FAT_CREATE | FAT_TRUNC, &f) : MN_EIO;
    size_t n;
    while (!err && (n = fread(buf, 1, sizeof buf, in)) > 0) {
      long w = fat_write(&f, buf, n);
      if (w < 0)
        err = (int)w;
    }
    if (!err)
      err = fat_close(&f);
    if (err)
      rc = die("put", err);
  } else if (!strcmp(cmd, "rm") && nargs == 1) {
    if ((err = fat_unlink(&v, args[0])))
      rc = die("rm", err);
  } else if (!strcmp(cmd, "mkdir") && nargs == 1) {
    if ((err = fat_mkdir(&v, args[0])))
      rc = die("mkdir", err);
  } else if (!strcmp(cmd, "mv") && nargs == 2) {
    if ((err = fat_rename(&v, args[0], args[1])))
      rc = die("mv", err);
  } else if (!strcmp(cmd, "trunc") && nargs == 2) {
    err = fat_open(&v, args[0], FAT_WRITE | FAT_READ, &f);
    if (!err)
      err = fat_truncate(&f, (uint32_t)strtoul(args[1], NULL, 0));
    if (!err)
      err = fat_close(&f);
    if (err)
      rc = die("trunc", err);
  } else if (!strcmp(cmd, "df")) {
    uint64_t fr, tot;
    fat_space(&v, &fr, &tot);
    printf("FAT%d %llu free of %llu bytes, cluster %u\n", v.type, (unsigned long long)fr,
           (unsigned long long)tot, v.csize);
  } else if (!strcmp(cmd, "stream") && nargs == 3) {
    unsigned n = (unsigned)atoi(args[1]), size = (unsigned)atoi(args[2]);
    fat_mkdir(&v, args[0]);
    for (unsigned i = 0; i < n && !err; i++) {
      char name[1024];
      snprintf(name, sizeof name, "%s/f%04u", args[0], i);
      unsigned len = size / 2 + (i * 7919u) % (size + 1);
      err = fat_open(&v, name, FAT_WRITE | FAT_CREATE | FAT_TRUNC, &f);
      for (unsigned o = 0; o < len && !err;) {
        unsigned k = len - o < 3000 ? len - o : 3000;
        for (unsigned j = 0; j < k; j++)
          buf[j] = pattern(i, o + j);
        long w = fat_write(&f, buf, k);
        err = w < 0 ? (int)w : 0;
        o += k;
      }
      if (!err)
        err = fat_close(&f);
      if (!err)
        err = fat_sync(&v);     /* "done": committed */
      if (!err) {
        printf("done %s %u\n", name, len);
        fflush(stdout);
      }
    }
    if (err)
      rc = die("stream", err);
  } else if (!strcmp(cmd, "verify") && nargs == 1) {
    struct fat_dir d;
    struct fat_stat st;
    unsigned ok = 0, bad = 0;
    err = fat_opendir(&v, args[0], &d);
    while (!err && !(err = fat_readdir(&d, &st))) {
      unsigned i;
      if (sscanf(st.name, "f%u", &i) != 1)
        continue;
      char name[1024];
      snprintf(name, sizeof name, "%s/%s", args[0], st.name);
      struct fat_file g;
      int e2 = fat_open(&v, name, FAT_READ, &g);
      uint32_t o = 0;
      long n = 0;
      int good = !e2;
      while (good && (n = fat_read(&g, buf, sizeof buf)) > 0) {
        for (long j = 0; j < n; j++)
          good &= buf[j] == pattern(i, o + (uint32_t)j);
        o += (uint32_t)n;
      }
      if (good && n == 0) {
        printf("ok %s %u\n", st.name, o);
        ok++;
      } else {
        printf("bad %s\n", st.name);
        bad++;
      }
    }
    if (err != MN_ENOENT)
      rc = die("verify", err);
    printf("verified %u ok %u bad\n", ok, bad);
    if (bad)
      rc = 1;
  } else if (!strcmp(cmd, "bench-write") && nargs == 2) {
    uint32_t mb = (uint32_t)atoi(args[1]);
    memset(buf, 0x5a, sizeof buf);
    double t0 = now_s();
    err = fat_open(&v, args[0], FAT_WRITE | FAT_CREATE | FAT_TRUNC, &f);
    for (uint32_t i = 0; i < mb && !err; i++) {
      long w = fat_write(&f, buf, sizeof buf);
      err = w < 0 ? (int)w : 0;
    }
    if (!err)
      err = fat_close(&f);
    if (!err)
      err = fat_sync_clean(&v);
    if (err)
      return die("bench-write", err);
    printf("%.3f\n", now_s() - t0);
  } else if (!strcmp(cmd, "bench-read") && nargs == 1) {
    double t0 = now_s();
    err = fat_open(&v, args[0], FAT_READ, &f);
    long n = 0;
    uint64_t total = 0;
    while (!err && (n = fat_read(&f, buf, sizeof buf)) > 0)
      total += (uint64_t)n;
    if (err || n < 0)
      return die("bench-read", err ? err : (int)n);
    printf("%.3f %llu\n", now_s() - t0, (unsigned long long)total);
  } else if (!strcmp(cmd, "bench-small") && nargs == 2) {
    unsigned n = (unsigned)atoi(args[1]);
    double t0 = now_s();
    err = fat_mkdir(&v, args[0]);
    for (unsigned i = 0; i < n && !err; i++) {
      char name[1024];
      snprintf(name, sizeof name, "%s/small%04u.txt", args[0], i);
      err = fat_open(&v, name, FAT_WRITE | FAT_CREATE | FAT_TRUNC, &f);
      if (!err) {
        long w = fat_write(&f, name, strlen(name));
        err = w < 0 ? (int)w : 0;
        int cerr = fat_close(&f);
        if (!err)
          err = cerr;
      }
    }
    if (!err)
      err = fat_sync_clean(&v);
    if (err)
      return die("bench-small", err);
    printf("%.3f\n", now_s() - t0);
  } else {
    return usage();
  }
  err = fat_unmount(&v);
  if (err && !rc)
    rc = die("unmount", err);
  close(m.fd);
  return rc;
}
