/*
 * gpt.c: GUID partition tables, MBRs, and FAT volumes without a table.
 *
 * Interface: gpt_scan, gpt_crc32 (see gpt.h).
 */
#include <string.h>
#include "mneme/err.h"
#include "mneme/fat.h"
#include "mneme/gpt.h"

static const uint8_t esp_guid[16] = {
  0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11,
  0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B,
};

static uint32_t
le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
le64(const uint8_t *p)
{
  return le32(p) | (uint64_t)le32(p + 4) << 32;
}

uint32_t
gpt_crc32(uint32_t crc, const void *p, uint64_t n)
{
  const uint8_t *b = p;
  crc = ~crc;
  while (n--) {
    crc ^= *b++;
    for (int k = 0; k < 8; k++)
      crc = crc >> 1 ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

/* Reads and checks the GPT whose header is at lba. 0 or MN_EFORMAT/MN_EIO. */
static int
read_gpt(gpt_read_fn rd, void *ctx, uint32_t ss, uint64_t sectors, uint8_t *buf,
         uint64_t lba, struct gpt_table *t)
{
  if (rd(ctx, lba, 1, buf))
    return MN_EIO;
  if (memcmp(buf, "EFI PART", 8))
    return MN_EFORMAT;
  uint32_t hsize = le32(buf + 12);
  if (hsize < 92 || hsize > ss)
    return MN_EFORMAT;
  uint32_t hcrc = le32(buf + 16);
  memset(buf + 16, 0, 4);
  if (gpt_crc32(0, buf, hsize) != hcrc)
    return MN_EFORMAT;
  uint64_t my = le64(buf + 24), first_use = le64(buf + 40), last_use = le64(buf + 48);
  uint64_t elba = le64(buf + 72);
  uint32_t nent = le32(buf + 80), esize = le32(buf + 84), ecrc = le32(buf + 88);
  if (my != lba || first_use > last_use || last_use >= sectors)
    return MN_EFORMAT;
  if (esize < 128 || esize > ss || esize % 8 || ss % esize || nent > 4096)
    return MN_EFORMAT;
  uint64_t esec = ((uint64_t)nent * esize + ss - 1) / ss;
  if (elba < 1 || elba >= sectors || esec > sectors - elba)
    return MN_EFORMAT;
  uint32_t crc = 0;
  t->count = 0;
  for (uint64_t s = 0; s < esec; s++) {
    if (rd(ctx, elba + s, 1, buf))
      return MN_EIO;
    for (uint32_t off = 0; off < ss; off += esize) {
      uint64_t i = (s * ss + off) / esize;
      if (i >= nent)
        break;
      crc = gpt_crc32(crc, buf + off, esize);
      const uint8_t *e = buf + off;
      static const uint8_t zero[16];
      if (!memcmp(e, zero, 16))
        continue;
      uint64_t a = le64(e + 32), b = le64(e + 40);
      if (a > b || a < first_use || b > last_use || t->count == GPT_MAX_PARTS)
        continue;
      struct gpt_part *p = &t->part[t->count++];
      memset(p, 0, sizeof *p);
      memcpy(p->type, e, 16);
      p->first = a;
      p->count = b - a + 1;
      p->esp = !memcmp(e, esp_guid, 16);
      size_t o = 0;
      for (int k = 0; k < 36 && o + 1 < sizeof p->name; k++) {
        uint16_t c = (uint16_t)(e[56 + 2 * k] | e[57 + 2 * k] << 8);
        if (!c)
          break;
        p->name[o++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
      }
      p->name[o] = 0;
    }
  }
  if (crc != ecrc) {
    t->count = 0;
    return MN_EFORMAT;
  }
  t->kind = GPT_KIND_GPT;
  return 0;
}

int
gpt_scan(gpt_read_fn rd, void *ctx, uint32_t ss, uint64_t sectors, uint8_t *buf,
         struct gpt_table *t)
{
  memset(t, 0, sizeof *t);
  if (ss < 512 || ss > 4096 || (ss & (ss - 1)) || !rd || !buf)
    return MN_EINVAL;
  if (sectors < 1)
    return 0;
  if (rd(ctx, 0, 1, buf))
    return MN_EIO;
  if (fat_probe(buf, ss)) {
    t->kind = GPT_KIND_RAW;
    t->count = 1;
    t->part[0].first = 0;
    t->part[0].count = sectors;
    return 0;
  }
  if (buf[510] != 0x55 || buf[511] != 0xAA)
    return 0;
  int protective = 0;
  uint8_t mbr[64];
  memcpy(mbr, buf + 446, 64);
  for (int i = 0; i < 4; i++)
    protective |= mbr[16 * i + 4] == 0xEE;
  if (protective && sectors > 2) {
    int err = read_gpt(rd, ctx, ss, sectors, buf, 1, t);
    if (err == MN_EIO)
      return err;
    if (!err)
      return 0;
    /* the backup header, at the last sector */
    err = read_gpt(rd, ctx, ss, sectors, buf, sectors - 1, t);
    if (err == MN_EIO)
      return err;
    if (err)
      return MN_EFORMAT;
    t->used_backup = 1;
    return 0;
  }
  for (int i = 0; i < 4; i++) {
    const uint8_t *e = mbr + 16 * i;
    uint8_t type = e[4];
    uint64_t a = le32(e + 8), n = le32(e + 12);
    if (!type || !n || a == 0 || a >= sectors || n > sectors - a)
      continue;
    if (type != 0x01 && type != 0x04 && type != 0x06 && type != 0x0B &&
        type != 0x0C && type != 0x0E && type != 0xEF)
      continue;
    struct gpt_part *p = &t->part[t->count++];
    p->first = a;
    p->count = n;
    p->type[0] = type;
    p->esp = type == 0xEF;
  }
  if (t->count)
    t->kind = GPT_KIND_MBR;
  return 0;
}
