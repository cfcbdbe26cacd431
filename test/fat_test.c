/*
 * fat_test.c: unit tests of the FAT library (fs/fat.c) and the partition
 * scanner (fs/gpt.c) on images in memory, made by a small formatter here
 * (FAT16, and a small FAT32 the way Linux reads one: 16-bit FAT size 0).
 *
 * Besides the operations, a crash test: every device write of a workload
 * is logged, and for every prefix of the log (the disk as a crash at that
 * moment would leave it) the volume must mount, its check must leave it
 * without problems, and every file must read back as a prefix of what was
 * written to it (docs/fs.md, write ordering).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "mneme/err.h"
#include "mneme/fat.h"
#include "mneme/gpt.h"

#define SS 512

struct mem {
  uint8_t *img;
  uint64_t sectors;
  /* the write log */
  int logging;
  size_t nlog, cap;
  struct logent { uint64_t sec; uint8_t data[SS]; } *log;
  unsigned flushes;
  size_t nmark, mcap, *marks;  /* the log's length at each flush */
};

static int
m_read(void *ctx, uint64_t s, uint32_t n, void *buf)
{
  struct mem *m = ctx;
  assert_true(s + n <= m->sectors);
  memcpy(buf, m->img + s * SS, (size_t)n * SS);
  return 0;
}

static int
m_write(void *ctx, uint64_t s, uint32_t n, const void *buf)
{
  struct mem *m = ctx;
  assert_true(s + n <= m->sectors);
  memcpy(m->img + s * SS, buf, (size_t)n * SS);
  for (uint32_t i = 0; m->logging && i < n; i++) {
    if (m->nlog == m->cap) {
      m->cap = m->cap ? m->cap * 2 : 256;
      m->log = realloc(m->log, m->cap * sizeof *m->log);
    }
    m->log[m->nlog].sec = s + i;
    memcpy(m->log[m->nlog++].data, (const uint8_t *)buf + (size_t)i * SS, SS);
  }
  return 0;
}

static int
m_flush(void *ctx)
{
  struct mem *m = ctx;
  m->flushes++;
  if (m->logging) {
    if (m->nmark == m->mcap) {
      m->mcap = m->mcap ? m->mcap * 2 : 256;
      m->marks = realloc(m->marks, m->mcap * sizeof *m->marks);
    }
    m->marks[m->nmark++] = m->nlog;
  }
  return 0;
}

static void *
m_alloc(void *ctx, size_t n)
{
  (void)ctx;
  return malloc(n);
}

static void
m_free(void *ctx, void *p)
{
  (void)ctx;
  free(p);
}

static struct fat_dev
dev_of(struct mem *m)
{
  struct fat_dev d = { m, m_read, m_write, m_flush, m_alloc, m_free, NULL, SS, m->sectors, 0 };
  return d;
}

static void
put16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
  put16(p, (uint16_t)v);
  put16(p + 2, (uint16_t)(v >> 16));
}

/* Formats a volume of nclus one-sector clusters: FAT16 or FAT32. */
static void
format(struct mem *m, int type, uint32_t nclus)
{
  uint32_t rsvd = type == 32 ? 32 : 1, rootents = type == 32 ? 0 : 512;
  uint32_t fatsz = ((nclus + 2) * (uint32_t)(type / 8) + SS - 1) / SS;
  uint32_t total = rsvd + 2 * fatsz + rootents * 32 / SS + nclus;
  memset(m, 0, sizeof *m);
  m->sectors = total;
  m->img = calloc(total, SS);
  uint8_t *b = m->img;
  memcpy(b, "\xEB\x58\x90MNEMETST", 11);
  put16(b + 11, SS);
  b[13] = 1;
  put16(b + 14, (uint16_t)rsvd);
  b[16] = 2;
  put16(b + 17, (uint16_t)rootents);
  b[21] = 0xF8;
  if (type == 16) {
    if (total < 65536)
      put16(b + 19, (uint16_t)total);
    else
      put32(b + 32, total);
    put16(b + 22, (uint16_t)fatsz);
    b[0x26] = 0x29;
    memcpy(b + 0x2B, "TEST16     FAT16   ", 19);
  } else {
    put32(b + 32, total);
    put32(b + 36, fatsz);
    put32(b + 44, 2);
    put16(b + 48, 1);
    put16(b + 50, 6);
    b[0x42] = 0x29;
    memcpy(b + 0x47, "TEST32     FAT32   ", 19);
    uint8_t *fi = m->img + SS;
    put32(fi, 0x41615252);
    put32(fi + 484, 0x61417272);
    put32(fi + 488, 0xFFFFFFFF);
    put32(fi + 492, 3);
    put32(fi + 508, 0xAA550000);
  }
  b[510] = 0x55;
  b[511] = 0xAA;
  for (int k = 0; k < 2; k++) {
    uint8_t *f = m->img + (size_t)(rsvd + (uint32_t)k * fatsz) * SS;
    if (type == 16) {
      put16(f, 0xFFF8);
      put16(f + 2, 0xFFFF);
    } else {
      put32(f, 0x0FFFFFF8);
      put32(f + 4, 0x0FFFFFFF);
      put32(f + 8, 0x0FFFFFFF);  /* the root directory */
    }
  }
}

static uint8_t
pat(uint32_t seed, uint32_t o)
{
  uint32_t x = seed * 2654435761u ^ o * 40503u;
  x ^= x >> 13;
  return (uint8_t)(x * 0x5bd1e995u >> 24);
}

static void
fill(uint8_t *b, uint32_t seed, uint32_t off, uint32_t n)
{
  for (uint32_t i = 0; i < n; i++)
    b[i] = pat(seed, off + i);
}

static void
write_file(struct fat_vol *v, const char *path, uint32_t seed, uint32_t n, uint32_t chunk)
{
  struct fat_file f;
  static uint8_t b[65536];
  assert_int_equal(fat_open(v, path, FAT_WRITE | FAT_CREATE | FAT_TRUNC, &f), 0);
  for (uint32_t o = 0; o < n; o += chunk) {
    uint32_t k = n - o < chunk ? n - o : chunk;
    fill(b, seed, o, k);
    assert_int_equal(fat_write(&f, b, k), (long)k);
  }
  fat_close(&f);
}

/* 1: the file is seed's bytes, of length n (or any length if n < 0, within max). */
static int
file_is(struct fat_vol *v, const char *path, uint32_t seed, long n, uint32_t *size)
{
  struct fat_file f;
  static uint8_t b[65536];
  if (fat_open(v, path, FAT_READ, &f))
    return 0;
  if (size)
    *size = f.size;
  if (n >= 0 && f.size != (uint32_t)n)
    return 0;
  uint32_t o = 0;
  long r;
  while ((r = fat_read(&f, b, sizeof b)) > 0) {
    for (long i = 0; i < r; i++)
      if (b[i] != pat(seed, o + (uint32_t)i))
        return 0;
    o += (uint32_t)r;
  }
  return r == 0 && o == f.size;
}

static void
no_problems(const struct fat_report *r)
{
  assert_int_equal(r->cross_linked, 0);
  assert_int_equal(r->bad_chains, 0);
  assert_int_equal(r->bad_sizes, 0);
  assert_int_equal(r->bad_names, 0);
  assert_int_equal(r->dir_loops, 0);
  assert_int_equal(r->lost_found, 0);
}

static void
ops(int type)
{
  struct mem m;
  format(&m, type, 5000);
  struct fat_dev d = dev_of(&m);
  struct fat_vol *v = malloc(sizeof *v);
  struct fat_report r;
  assert_int_equal(fat_mount(v, &d, &r), 0);
  assert_int_equal(v->type, type);
  no_problems(&r);
  uint64_t fr0, tot;
  fat_space(v, &fr0, &tot);
  assert_int_equal(tot, 5000 * SS);
  /* files, long and unicode names, directories */
  write_file(v, "/a.txt", 1, 10000, 777);
  write_file(v, "/A long name, with spaces & more.text", 2, 3000, 3000);
  write_file(v, "/\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80.txt", 3, 1, 1);
  assert_int_equal(fat_mkdir(v, "/dir"), 0);
  assert_int_equal(fat_mkdir(v, "/dir"), MN_EEXIST);
  assert_int_equal(fat_mkdir(v, "/dir/sub"), 0);
  write_file(v, "/dir/sub/deep.bin", 4, 70000, 4096);
  assert_true(file_is(v, "/a.txt", 1, 10000, NULL));
  assert_true(file_is(v, "/A.TXT", 1, 10000, NULL));   /* case-insensitive */
  assert_true(file_is(v, "/a long name, with spaces & more.TEXT", 2, 3000, NULL));
  assert_true(file_is(v, "/\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80.txt", 3, 1, NULL));
  assert_true(file_is(v, "dir/./sub/../sub/deep.bin", 4, 70000, NULL));
  struct fat_stat st;
  assert_int_equal(fat_stat(v, "/dir/sub", &st), 0);
  assert_true(st.attr & FAT_ATTR_DIR);
  assert_int_equal(fat_stat(v, "/nope", &st), MN_ENOENT);
  assert_int_equal(fat_stat(v, "/a.txt/x", &st), FAT_ENOTDIR);
  struct fat_file f;
  assert_int_equal(fat_open(v, "/dir", FAT_READ, &f), FAT_EISDIR);
  /* bad names */
  assert_int_equal(fat_open(v, "/bad:name", FAT_WRITE | FAT_CREATE, &f), FAT_ENAME);
  assert_int_equal(fat_open(v, "/bad\xff", FAT_WRITE | FAT_CREATE, &f), FAT_ENAME);
  assert_int_equal(fat_open(v, "/trailing.", FAT_WRITE | FAT_CREATE, &f), FAT_ENAME);
  char longname[300];
  memset(longname, 'x', sizeof longname);
  longname[0] = '/';
  longname[299] = 0;
  assert_int_equal(fat_open(v, longname, FAT_WRITE | FAT_CREATE, &f), FAT_ENAME);
  longname[256] = 0;
  assert_int_equal(fat_open(v, longname, FAT_WRITE | FAT_CREATE, &f), 0);
  fat_close(&f);
  /* short names collide into ~N */
  for (int i = 0; i < 12; i++) {
    char n[64];
    snprintf(n, sizeof n, "/dir/Long file name number %d.txt", i);
    write_file(v, n, 10 + (uint32_t)i, 100, 100);
  }
  int count = 0;
  struct fat_dir dd;
  assert_int_equal(fat_opendir(v, "/dir", &dd), 0);
  char shorts[16][13];
  while (fat_readdir(&dd, &st) == 0) {
    for (int k = 0; k < count && k < 16; k++)
      assert_string_not_equal(shorts[k], st.short_name);
    if (count < 16)
      memcpy(shorts[count], st.short_name, 13);
    count++;
  }
  assert_int_equal(count, 13);
  /* seek, overwrite, write past the end, truncate */
  assert_int_equal(fat_open(v, "/a.txt", FAT_READ | FAT_WRITE, &f), 0);
  fat_seek(&f, 20000);
  assert_int_equal(fat_write(&f, "end", 3), 3);
  assert_int_equal(f.size, 20003);
  fat_seek(&f, 15000);
  uint8_t b[8];
  assert_int_equal(fat_read(&f, b, 8), 8);
  assert_memory_equal(b, "\0\0\0\0\0\0\0\0", 8);
  assert_int_equal(fat_truncate(&f, 512), 0);
  assert_int_equal(fat_truncate(&f, 1000), 0);
  fat_seek(&f, 512);
  assert_int_equal(fat_read(&f, b, 8), 8);
  assert_memory_equal(b, "\0\0\0\0\0\0\0\0", 8);
  fat_close(&f);
  assert_int_equal(fat_open(v, "/a.txt", FAT_READ, &f), 0);
  assert_int_equal(f.size, 1000);
  assert_int_equal(fat_read(&f, b, 4), 4);
  for (int i = 0; i < 4; i++)
    assert_int_equal(b[i], pat(1, (uint32_t)i));
  assert_int_equal(fat_write(&f, "x", 1), MN_EACCESS);
  fat_close(&f);
  /* rename and move */
  assert_int_equal(fat_rename(v, "/a.txt", "/dir/sub/moved a.txt"), 0);
  assert_int_equal(fat_stat(v, "/a.txt", &st), MN_ENOENT);
  assert_int_equal(fat_stat(v, "/dir/sub/moved a.txt", &st), 0);
  assert_int_equal(st.size, 1000);
  assert_int_equal(fat_rename(v, "/dir/sub", "/sub moved"), 0);
  assert_true(file_is(v, "/sub moved/deep.bin", 4, 70000, NULL));
  assert_true(file_is(v, "/sub moved/../sub moved/deep.bin", 4, 70000, NULL));
  assert_int_equal(fat_rename(v, "/dir", "/dir/inside"), MN_EINVAL);
  assert_int_equal(fat_rename(v, "/sub moved", "/dir"), MN_EEXIST);
  /* delete */
  assert_int_equal(fat_unlink(v, "/sub moved"), FAT_ENOTEMPTY);
  assert_int_equal(fat_unlink(v, "/sub moved/deep.bin"), 0);
  assert_int_equal(fat_unlink(v, "/sub moved/moved a.txt"), 0);
  assert_int_equal(fat_unlink(v, "/sub moved"), 0);
  assert_int_equal(fat_unlink(v, "/"), MN_EACCESS);
  assert_int_equal(fat_unmount(v), 0);
  /* remount: nothing to repair, free space consistent */
  uint64_t fr1;
  fat_space(v, &fr1, &tot);
  assert_int_equal(fat_mount(v, &d, &r), 0);
  no_problems(&r);
  assert_int_equal(r.lost_freed + r.chains_trimmed + r.mirror_fixed + r.orphans_fixed, 0);
  assert_int_equal(r.was_dirty, 0);
  uint64_t fr2;
  fat_space(v, &fr2, &tot);
  assert_int_equal(fr1, fr2);
  /* fill the disk: ENOSPC, then everything still consistent */
  assert_int_equal(fat_open(v, "/fill", FAT_WRITE | FAT_CREATE, &f), 0);
  static uint8_t big[65536];
  long w;
  while ((w = fat_write(&f, big, sizeof big)) > 0)
    ;
  assert_int_equal(w, MN_ENOSPC);
  fat_close(&f);
  assert_int_equal(fat_unlink(v, "/fill"), 0);
  assert_int_equal(fat_unmount(v), 0);
  assert_int_equal(fat_mount(v, &d, &r), 0);
  no_problems(&r);
  assert_int_equal(r.lost_freed, 0);
  fat_space(v, &fr2, &tot);
  assert_int_equal(fr1, fr2);
  free(v);
  free(m.img);
}

static void test_ops_fat16(void **s) { (void)s; ops(16); }
static void test_ops_fat32(void **s) { (void)s; ops(32); }

/* The workload whose every crash point is checked. */
static void
workload(struct fat_vol *v)
{
  struct fat_file f;
  static uint8_t b[20000];
  assert_int_equal(fat_open(v, "/keep.txt", FAT_WRITE | FAT_READ, &f), 0);
  fat_seek(&f, f.size);
  for (uint32_t o = 3000; o < 13000; o += 2500) {
    fill(b, 1, o, 2500);
    assert_int_equal(fat_write(&f, b, 2500), 2500);
  }
  fat_close(&f);
  write_file(v, "/new file with a long name.bin", 2, 20000, 1700);
  assert_int_equal(fat_mkdir(v, "/d"), 0);
  write_file(v, "/d/c.txt", 3, 700, 700);
  write_file(v, "/d/stay.txt", 4, 1500, 1500);
  assert_int_equal(fat_mkdir(v, "/e"), 0);
  /* renames: a file out of its directory, the directory into another
   * (its .. follows), both back */
  assert_int_equal(fat_rename(v, "/d/c.txt", "/c renamed.txt"), 0);
  assert_int_equal(fat_rename(v, "/d", "/e/d moved"), 0);
  assert_int_equal(fat_rename(v, "/e/d moved", "/d"), 0);
  assert_int_equal(fat_rename(v, "/c renamed.txt", "/d/c.txt"), 0);
  assert_int_equal(fat_open(v, "/keep.txt", FAT_WRITE | FAT_READ, &f), 0);
  assert_int_equal(fat_truncate(&f, 100), 0);
  fat_close(&f);
  /* a file left open with writes not committed while another is written;
   * committed (fat_flush), then appended after the other file took the
   * clusters that follow it (its new chain in another FAT sector than
   * its last cluster: the link is a write of its own) */
  struct fat_file g;
  assert_int_equal(fat_open(v, "/grow.bin", FAT_WRITE | FAT_CREATE, &g), 0);
  for (uint32_t o = 0; o < 3000; o += 1000) {
    fill(b, 5, o, 1000);
    assert_int_equal(fat_write(&g, b, 1000), 1000);
  }
  write_file(v, "/other.bin", 6, 2000, 2000);
  assert_int_equal(fat_flush(&g), 0);
  write_file(v, "/big.bin", 7, 140000, 16384);
  for (uint32_t o = 3000; o < 6000; o += 1500) {
    fill(b, 5, o, 1500);
    assert_int_equal(fat_write(&g, b, 1500), 1500);
  }
  assert_int_equal(fat_close(&g), 0);
  assert_int_equal(fat_unlink(v, "/big.bin"), 0);
  assert_int_equal(fat_unlink(v, "/new file with a long name.bin"), 0);
  assert_int_equal(fat_unlink(v, "/d/c.txt"), 0);
  assert_int_equal(fat_unlink(v, "/d/stay.txt"), 0);
  assert_int_equal(fat_unlink(v, "/d"), 0);
  assert_int_equal(fat_unlink(v, "/e"), 0);
}

/* After a crash during the renames: c.txt under one name at most, with
 * its bytes; the directory in one place at most, its .. right. */
static void
renames_ok(struct fat_vol *v, size_t p, size_t nlog)
{
  static const char *const names[] = { "/d/c.txt", "/c renamed.txt", "/e/d moved/c.txt" };
  struct fat_stat st;
  int n = 0;
  for (int i = 0; i < 3; i++)
    if (fat_stat(v, names[i], &st) == 0) {
      n++;
      if (!file_is(v, names[i], 3, -1, NULL))
        fail_msg("crash point %zu/%zu: %s holds wrong bytes", p, nlog, names[i]);
    }
  if (n > 1)
    fail_msg("crash point %zu/%zu: c.txt under %d names", p, nlog, n);
  int at_d = fat_stat(v, "/d", &st) == 0, at_e = fat_stat(v, "/e/d moved", &st) == 0;
  if (at_d && at_e)
    fail_msg("crash point %zu/%zu: the directory in two places", p, nlog);
  uint32_t size;
  if (at_d && fat_stat(v, "/d/stay.txt", &st) == 0 &&
      !file_is(v, "/d/../d/stay.txt", 4, -1, &size))
    fail_msg("crash point %zu/%zu: /d/.. or stay.txt wrong", p, nlog);
  if (at_e && !file_is(v, "/e/d moved/../d moved/stay.txt", 4, 1500, &size))
    fail_msg("crash point %zu/%zu: /e/d moved/.. or stay.txt wrong", p, nlog);
}

static void
crash(int type)
{
  struct mem m;
  format(&m, type, 4200);
  struct fat_dev d = dev_of(&m);
  struct fat_vol *v = malloc(sizeof *v);
  struct fat_report r;
  assert_int_equal(fat_mount(v, &d, &r), 0);
  write_file(v, "/keep.txt", 1, 3000, 3000);
  assert_int_equal(fat_sync_clean(v), 0);
  uint8_t *base = malloc(m.sectors * SS);
  memcpy(base, m.img, m.sectors * SS);
  m.logging = 1;
  workload(v);
  assert_int_equal(fat_unmount(v), 0);
  m.logging = 0;
  size_t nlog = m.nlog;
  assert_true(nlog > 50);
  struct mem c = m;
  c.img = malloc(m.sectors * SS);
  c.log = NULL;
  /* Crash point p, two ways: the first p writes landed; or, between the
   * flushes around p (writes a..b-1, which a disk may complete in any
   * order), those before the flush at a and the epoch's writes from p on,
   * not a..p-1. Each epoch's every prefix and every suffix. */
  assert_true(m.nmark > 10);
  for (size_t pv = 0; pv <= 2 * nlog + 1; pv++) {
    size_t p = pv / 2, a = 0, b = nlog;
    for (size_t k = 0; k < m.nmark; k++) {
      if (m.marks[k] <= p)
        a = m.marks[k];
      else if (m.marks[k] < b)
        b = m.marks[k];
    }
    if (pv % 2 && p == a)
      continue;                 /* the same disk as the first way */
    memcpy(c.img, base, m.sectors * SS);
    for (size_t i = 0; i < (pv % 2 ? a : p); i++)
      memcpy(c.img + m.log[i].sec * SS, m.log[i].data, SS);
    for (size_t i = p; pv % 2 && i < b; i++)
      memcpy(c.img + m.log[i].sec * SS, m.log[i].data, SS);
    struct fat_dev cd = dev_of(&c);
    assert_int_equal(fat_mount(v, &cd, &r), 0);
    no_problems(&r);
    /* keep.txt: always a prefix of its bytes, never less than 100 */
    uint32_t size;
    if (!file_is(v, "/keep.txt", 1, -1, &size) || size < 100)
      fail_msg("crash point %zu/%zu: keep.txt damaged (size %u)", p, nlog, size);
    struct fat_stat st;
    if (fat_stat(v, "/new file with a long name.bin", &st) == 0 &&
        !file_is(v, "/new file with a long name.bin", 2, -1, NULL))
      fail_msg("crash point %zu/%zu: the new file holds wrong bytes", p, nlog);
    static const struct { const char *name; uint32_t seed; } more[] = {
      { "/grow.bin", 5 }, { "/other.bin", 6 }, { "/big.bin", 7 } };
    for (int i = 0; i < 3; i++)
      if (fat_stat(v, more[i].name, &st) == 0 && !file_is(v, more[i].name, more[i].seed, -1, NULL))
        fail_msg("crash point %zu/%zu%s: %s holds wrong bytes", p, nlog, pv % 2 ? " (reordered)" : "",
                 more[i].name);
    renames_ok(v, p, nlog);
    assert_int_equal(fat_unmount(v), 0);
    /* after the repairs, a second mount finds nothing at all */
    assert_int_equal(fat_mount(v, &cd, &r), 0);
    no_problems(&r);
    if (r.lost_freed || r.chains_trimmed || r.mirror_fixed || r.orphans_fixed || r.was_dirty ||
        r.renames_finished || r.renames_undone)
      fail_msg("crash point %zu/%zu: repairs left work for a second mount", p, nlog);
  }
  free(c.img);
  free(base);
  free(m.marks);
  free(m.log);
  free(m.img);
  free(v);
}

static void test_crash_fat16(void **s) { (void)s; crash(16); }
static void test_crash_fat32(void **s) { (void)s; crash(32); }

static void
test_gpt(void **s)
{
  (void)s;
  struct mem m;
  format(&m, 16, 4200);
  uint8_t buf[SS];
  struct gpt_table t;
  /* a raw FAT volume: the whole disk */
  assert_int_equal(gpt_scan(m_read, &m, SS, m.sectors, buf, &t), 0);
  assert_int_equal(t.kind, GPT_KIND_RAW);
  assert_int_equal(t.count, 1);
  assert_int_equal(t.part[0].count, m.sectors);
  /* an MBR with one FAT16 partition at 64 */
  struct mem disk = { calloc(m.sectors + 64, SS), m.sectors + 64, 0, 0, 0, NULL, 0, 0, 0, NULL };
  memcpy(disk.img + 64 * SS, m.img, m.sectors * SS);
  uint8_t *e = disk.img + 446;
  e[4] = 0x06;
  put32(e + 8, 64);
  put32(e + 12, (uint32_t)m.sectors);
  disk.img[510] = 0x55;
  disk.img[511] = 0xAA;
  assert_int_equal(gpt_scan(m_read, &disk, SS, disk.sectors, buf, &t), 0);
  assert_int_equal(t.kind, GPT_KIND_MBR);
  assert_int_equal(t.part[0].first, 64);
  /* a partition past the end is dropped */
  put32(e + 12, (uint32_t)m.sectors + 1);
  assert_int_equal(gpt_scan(m_read, &disk, SS, disk.sectors, buf, &t), 0);
  assert_int_equal(t.count, 0);
  /* a protective MBR with a damaged GPT: refused */
  e[4] = 0xEE;
  memcpy(disk.img + SS, "EFI PART", 8);
  assert_int_equal(gpt_scan(m_read, &disk, SS, disk.sectors, buf, &t), MN_EFORMAT);
  assert_int_equal(gpt_crc32(0, "123456789", 9), 0xCBF43926u);
  free(disk.img);
  free(m.img);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_ops_fat16),
    cmocka_unit_test(test_ops_fat32),
    cmocka_unit_test(test_crash_fat16),
    cmocka_unit_test(test_crash_fat32),
    cmocka_unit_test(test_gpt),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
