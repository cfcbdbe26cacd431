/*
 * postcard_fuzz.c: libFuzzer target for the postcard decoder. The input is
 * both a program and its data: each step's opcode byte picks a decode call
 * that runs on the rest. Decoded values are re-encoded and must decode to
 * the same value; the cursor must never move past the end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mneme/err.h>
#include <mneme/postcard.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_u64(uint64_t v, int bits) {
  uint8_t buf[16];
  struct pc_enc e;
  struct pc_dec d;
  uint64_t back = 0;
  pc_enc_init(&e, buf, sizeof buf);
  pc_enc_u64(&e, v);
  pc_dec_init(&d, buf, pc_enc_len(&e));
  if (bits == 16) {
    uint16_t x;
    if (pc_dec_u16(&d, &x))
      abort();
    back = x;
  } else if (bits == 32) {
    uint32_t x;
    if (pc_dec_u32(&d, &x))
      abort();
    back = x;
  } else if (pc_dec_u64(&d, &back)) {
    abort();
  }
  if (back != v || pc_dec_finish(&d))
    abort();
}

static int step(struct pc_dec *d, uint8_t op) {
  uint16_t u16; uint32_t u32; uint64_t u64; int16_t i16; int32_t i32;
  int64_t i64; uint8_t u8; bool b; float f; double g; const uint8_t *p;
  const char *s; size_t n; uint8_t uuid[16];
  int rc;
  switch (op % 14) {
  case 0: rc = pc_dec_u16(d, &u16); if (!rc) check_u64(u16, 16); return rc;
  case 1: rc = pc_dec_u32(d, &u32); if (!rc) check_u64(u32, 32); return rc;
  case 2: rc = pc_dec_u64(d, &u64); if (!rc) check_u64(u64, 64); return rc;
  case 3: return pc_dec_i16(d, &i16);
  case 4: return pc_dec_i32(d, &i32);
  case 5: return pc_dec_i64(d, &i64);
  case 6: return pc_dec_u8(d, &u8);
  case 7: rc = pc_dec_bool(d, &b); return rc;
  case 8: rc = pc_dec_f32(d, &f); return rc ? rc : pc_dec_f64(d, &g);
  case 9:
    rc = pc_dec_bytes(d, &p, &n);
    if (!rc && n) {
      volatile uint8_t sink = p[n - 1]; /* ASan checks the view */
      (void)sink;
    }
    return rc;
  case 10: return pc_dec_str(d, &s, &n);
  case 11: return pc_dec_seq_len(d, &n);
  case 12: rc = pc_dec_option(d, &b); return rc ? rc : b ? pc_dec_u32(d, &u32) : 0;
  default: return pc_dec_uuid(d, uuid);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct pc_dec d;
  if (size == 0)
    return 0;
  /* op bytes interleaved with the data each op decodes */
  pc_dec_init(&d, data, size);
  while (pc_dec_remaining(&d) > 0) {
    uint8_t op;
    pc_dec_u8(&d, &op);
    size_t before = pc_dec_remaining(&d);
    int rc = step(&d, op);
    if (pc_dec_remaining(&d) > before)
      abort();
    if (rc) {
      if (rc != MN_ETRUNC && rc != MN_EDECODE && rc != MN_EOVERFLOW)
        abort();
      if (pc_dec_error(&d) != rc)
        abort();
      break;
    }
  }
  return 0;
}
