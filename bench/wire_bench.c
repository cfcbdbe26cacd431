/*
 * wire_bench.c: throughput of the wire codecs (COBS, sermux framing and
 * demux, postcard) against memcpy of the same bytes in the same run, and
 * bytes on the wire per payload byte of sermux frames.
 * Prints one line per figure; "x memcpy" ratios are codec/memcpy speed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mneme/cobs.h>
#include <mneme/postcard.h>
#include <mneme/sermux_frame.h>

#define DATA (1 << 20)
#define FRAME 256 /* mnemOS cuts outgoing data at max_frame / 2 */
#define ROUNDS 20

static uint8_t data[DATA], wire[DATA * 2], out[DATA + 4096];
static volatile uint8_t sink;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double mbps(double bytes, double secs) { return bytes / secs / 1e6; }

static double bench_memcpy(void) {
  double t = now();
  for (int r = 0; r < ROUNDS; r++) {
    for (size_t off = 0; off < DATA; off += FRAME)
      memcpy(out + off, data + off, FRAME);
    sink = out[r];
  }
  return mbps((double)DATA * ROUNDS, now() - t);
}

static size_t encode_all(void) {
  size_t w = 0, len;
  for (size_t off = 0; off < DATA; off += FRAME) {
    if (cobs_encode(data + off, FRAME, wire + w, sizeof wire - w, &len))
      abort();
    w += len;
    wire[w++] = 0;
  }
  return w;
}

static void bench_cobs(double ref) {
  size_t w = 0;
  double t = now();
  for (int r = 0; r < ROUNDS; r++)
    w = encode_all();
  double enc = mbps((double)DATA * ROUNDS, now() - t);
  t = now();
  for (int r = 0; r < ROUNDS; r++) {
    size_t start = 0, o = 0, len;
    for (size_t i = 0; i < w; i++)
      if (wire[i] == 0) {
        if (cobs_decode(wire + start, i - start, out + o, sizeof out - o, &len))
          abort();
        o += len;
        start = i + 1;
      }
    sink = out[o - 1];
  }
  double dec = mbps((double)DATA * ROUNDS, now() - t);
  printf("cobs encode: %.0f MB/s (%.2f x memcpy)\n", enc, enc / ref);
  printf("cobs decode: %.0f MB/s (%.2f x memcpy)\n", dec, dec / ref);
}

static void bench_sermux(double ref) {
  size_t w = 0, len;
  for (size_t off = 0; off < DATA; off += FRAME) {
    if (smx_encode(3, data + off, FRAME, wire + w, sizeof wire - w, &len))
      abort();
    w += len;
  }
  static uint8_t dbuf[1024];
  struct smx_demux d;
  struct smx_item it;
  double t = now();
  size_t got = 0;
  for (int r = 0; r < ROUNDS; r++) {
    smx_demux_init(&d, dbuf, sizeof dbuf, SMX_MAX_FRAME_DEFAULT);
    for (size_t i = 0; i < w; i++)
      if (smx_demux_push(&d, wire[i], &it) == SMX_FRAME)
        got += it.len;
  }
  double s = mbps((double)got, now() - t);
  printf("sermux demux (%d-byte frames): %.0f MB/s payload (%.2f x memcpy)\n",
         FRAME, s, s / ref);
  for (size_t n = 1; n <= FRAME; n *= 4)
    if (smx_encode(1, data, n, wire, sizeof wire, &len) == 0)
      printf("sermux wire bytes per payload byte, %zu-byte payload: %.3f\n", n,
             (double)len / (double)n);
}

static void bench_postcard(void) {
  uint8_t buf[128], uuid[16] = {0x54, 0xc9, 0x83, 0xfa};
  const int n = 2000000;
  double t = now();
  for (int i = 0; i < n; i++) {
    struct pc_enc e;
    struct pc_dec dd;
    uint32_t nonce;
    const uint8_t *p;
    size_t len;
    pc_enc_init(&e, buf, sizeof buf);
    pc_enc_uuid(&e, uuid);
    pc_enc_u32(&e, (uint32_t)i);
    pc_enc_bytes(&e, data, 32);
    pc_dec_init(&dd, buf, pc_enc_len(&e));
    pc_dec_uuid(&dd, uuid);
    pc_dec_u32(&dd, &nonce);
    pc_dec_bytes(&dd, &p, &len);
    if (pc_dec_finish(&dd))
      abort();
  }
  printf("postcard request (uuid, nonce, 32 bytes) encode+decode: %.1f ns\n",
         (now() - t) * 1e9 / n);
}

int main(void) {
  srand(1);
  for (size_t i = 0; i < DATA; i++)
    data[i] = rand() % 64 == 0 ? 0 : (uint8_t)rand();
  double ref = bench_memcpy();
  printf("memcpy (%d-byte blocks): %.0f MB/s\n", FRAME, ref);
  bench_cobs(ref);
  bench_sermux(ref);
  bench_postcard();
  return 0;
}
