/*
 * neon.c: checks and times the inference engine's NEON dot kernels
 * against the scalar ones (see neon.h). Rows of 1024 elements: weights
 * quantized from pseudo-random floats with the library's own quantizer
 * (F32, F16, Q8_0, Q4_0, Q4_1, Q5_0) or random blocks with sane scales
 * (the K-quants); activations quantized to each type's vec type. The
 * quantized kernels must give the scalar bits exactly (the same integer
 * sums and float operations); F32, F16 and BF16 sum in another order and must
 * agree to a relative 1e-5 of the sum of the absolute products. The I8MM
 * variant's 2x2 tiles (two weight rows by two activation rows) must give
 * the scalar bits for each of their four products; QUANT-BENCH times a
 * tile against the same four products by the dot-product kernel.
 *
 * Interface: neon_check.
 */
#include "neon.h"

#include <stdint.h>
#include <string.h>

#include "mneme/platform.h"
#include "mneme/quant.h"

#define N 1024

static float xf[N], wf[N];
static uint8_t wq[N * 4 + 64], xq[N * 4 + 512];
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}

static float frnd(void) { return ((float)(rnd() & 0xffff) / 32768.0f - 1.0f); }

static float fabs_(float v) { return v < 0 ? -v : v; }

/* Random blocks of a K-quant with finite, modest scales. */
static void random_kquant(int t, uint8_t *w, size_t bytes, size_t bsz) {
  for (size_t i = 0; i < bytes; i++) w[i] = (uint8_t)rnd();
  for (size_t b = 0; b < bytes; b += bsz) {
    uint16_t d = quant_f32_to_f16(0.01f + (float)(rnd() & 255) / 4096.0f);
    uint16_t m = quant_f32_to_f16((float)(rnd() & 255) / 8192.0f);
    if (t == QUANT_Q6_K) {
      memcpy(w + b + 208, &d, 2);
    } else {
      memcpy(w + b, &d, 2);
      memcpy(w + b + 2, &m, 2);
    }
  }
}

static int make_rows(int t) {
  const struct quant_traits *tr = quant_traits(t);
  if (!tr) return -1;
  for (int i = 0; i < N; i++) xf[i] = frnd(), wf[i] = frnd();
  size_t wb = quant_row_size(t, N);
  if (t == QUANT_Q4_K || t == QUANT_Q5_K || t == QUANT_Q6_K)
    random_kquant(t, wq, wb, tr->bytes);
  else if (quant_quantize_weights(t, wf, wq, N))
    return -1;
  return quant_quantize_row(tr->vec_type, xf, xq, N) ? -1 : 0;
}

/* The fastest of 5 runs of iters calls (after one warm-up run: under
 * QEMU the first run also translates the code). */
static uint64_t time_dot(quant_dot_fn f, int iters, float *sink) {
  uint64_t best = UINT64_MAX;
  for (int r = 0; r < 6; r++) {
    uint64_t t0 = plat_now_ns();
    float s = 0;
    for (int i = 0; i < iters; i++) s += f(N, wq, xq);
    *sink += s;
    uint64_t t = plat_now_ns() - t0;
    if (r > 0 && t < best) best = t;
  }
  return best;
}

/* Two weight rows and two activation rows of type t (2x2 tiles). */
static uint8_t w2[2 * N * 2], x2[2 * N * 2];
static size_t w2b, x2b;

static int make_rows2(int t) {
  w2b = quant_row_size(t, N), x2b = quant_row_size(quant_traits(t)->vec_type, N);
  if (2 * w2b > sizeof w2 || 2 * x2b > sizeof x2) return -1;
  for (int r = 0; r < 2; r++) {
    if (make_rows(t)) return -1;
    memcpy(w2 + r * w2b, wq, w2b);
    memcpy(x2 + r * x2b, xq, x2b);
  }
  return 0;
}

/* As time_dot: a 2x2 tile (mm), or its four products by dot. */
static uint64_t time_tile(quant_dot2x2_fn mm, quant_dot_fn dot, int iters, float *sink) {
  uint64_t best = UINT64_MAX;
  for (int r = 0; r < 6; r++) {
    uint64_t t0 = plat_now_ns();
    float s = 0, o[4];
    for (int i = 0; i < iters; i++) {
      if (mm) {
        mm(N, w2, w2b, x2, x2b, o);
      } else {
        for (int k = 0; k < 4; k++) o[k] = dot(N, w2 + (k >> 1) * w2b, x2 + (k & 1) * x2b);
      }
      s += o[0] + o[1] + o[2] + o[3];
    }
    *sink += s;
    uint64_t t = plat_now_ns() - t0;
    if (r > 0 && t < best) best = t;
  }
  return best;
}

/* The I8MM variant's 2x2 tiles against the scalar dot, bit for bit. */
static int check_tiles(const struct quant_ops *mmv, const struct quant_ops *dp, int bench,
                       int *checked, float *sink, void (*out)(const char *fmt, ...)) {
  static const int types[] = {QUANT_Q8_0, QUANT_Q4_0, QUANT_Q4_1, QUANT_Q5_0,
                              QUANT_Q4_K, QUANT_Q5_K, QUANT_Q6_K};
  const struct quant_ops *sc = quant_ops_named("scalar");
  int bad = 0;
  for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
    int t = types[k], ok = 1;
    quant_dot2x2_fn mm = mmv->dot2x2[t];
    if (!mm) {
      out("quant: %s %-5s 2x2 MISSING\n", mmv->name, quant_traits(t)->name);
      bad++;
      continue;
    }
    for (int round = 0; round < 8 && ok; round++) {
      if (make_rows2(t)) {
        out("quant: %s: cannot make test rows\n", quant_traits(t)->name);
        return bad + 1;
      }
      float o[4];
      mm(N, w2, w2b, x2, x2b, o);
      for (int j = 0; j < 4; j++) {
        float want = sc->dot[t](N, w2 + (j >> 1) * w2b, x2 + (j & 1) * x2b);
        ok &= memcmp(&want, &o[j], sizeof want) == 0;
      }
    }
    (*checked)++;
    if (!ok) bad++;
    if (bench && ok && dp) {
      int iters = 25;
      uint64_t td = time_tile(NULL, dp->dot[t], iters, sink);
      uint64_t tm = time_tile(mm, NULL, iters, sink);
      out("quant: %s %-5s 2x2 agrees; %lu ns neon-dotprod, %lu ns i8mm per 2x2 tile of rows "
          "of %d; %lu.%02lux\n", mmv->name, quant_traits(t)->name,
          (unsigned long)(td / iters), (unsigned long)(tm / iters), N,
          (unsigned long)(td / (tm ? tm : 1)), (unsigned long)(td * 100 / (tm ? tm : 1) % 100));
    } else {
      out("quant: %s %-5s 2x2 %s\n", mmv->name, quant_traits(t)->name,
          ok ? "agrees" : "DIFFERS");
    }
  }
  return bad;
}

int neon_check(int bench, void (*out)(const char *fmt, ...)) {
  static const int types[] = {QUANT_F32,  QUANT_F16,  QUANT_BF16, QUANT_Q8_0, QUANT_Q4_0,
                              QUANT_Q4_1, QUANT_Q5_0, QUANT_Q4_K, QUANT_Q5_K, QUANT_Q6_K};
  static const char *const names[3] = {"neon", "neon-dotprod", "neon-i8mm"};
  const struct quant_ops *vars[3] = {quant_ops_named(names[0]), quant_ops_named(names[1]),
                                     quant_ops_named(names[2])};
  const struct quant_ops *sc = quant_ops_named("scalar");
  int bad = 0, checked = 0;
  float sink = 0;
  for (size_t v = 0; v < 3; v++) {
    if (!vars[v]) {
      out("quant: %s: not on this CPU\n", names[v]);
      continue;
    }
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
      int t = types[k];
      int ok = 1;
      float ws = 0, got = 0;
      for (int round = 0; round < 8 && ok; round++) {
        if (make_rows(t)) {
          out("quant: %s: cannot make test rows\n", quant_traits(t)->name);
          return bad + 1;
        }
        ws = sc->dot[t](N, wq, xq);
        got = vars[v]->dot[t](N, wq, xq);
        if (t == QUANT_F32 || t == QUANT_F16 || t == QUANT_BF16) {
          float mag = 0;
          for (int i = 0; i < N; i++) mag += fabs_(xf[i] * wf[i]);
          ok = fabs_(got - ws) <= 1e-5f * mag + 1e-6f;
        } else {
          ok = memcmp(&got, &ws, sizeof got) == 0;
        }
      }
      checked++;
      if (!ok) bad++;
      if (bench && ok) {
        int iters = 50;
        uint64_t ts = time_dot(sc->dot[t], iters, &sink);
        uint64_t tv = time_dot(vars[v]->dot[t], iters, &sink);
        out("quant: %s %-5s %s; %lu ns scalar, %lu ns per row of %d; %lu.%02lux\n",
            vars[v]->name, quant_traits(t)->name, "agrees", (unsigned long)(ts / iters),
            (unsigned long)(tv / iters), N, (unsigned long)(ts / (tv ? tv : 1)),
            (unsigned long)(ts * 100 / (tv ? tv : 1) % 100));
      } else {
        out("quant: %s %-5s %s (scalar %d.%06d, got %d.%06d)\n", vars[v]->name,
            quant_traits(t)->name, ok ? "agrees" : "DIFFERS", (int)ws,
            (int)(fabs_(ws - (int)ws) * 1e6f), (int)got, (int)(fabs_(got - (int)got) * 1e6f));
      }
    }
  }
  /* sink keeps the timed calls from being optimized away */
  if (vars[2]) bad += check_tiles(vars[2], vars[1], bench, &checked, &sink, out);
  /* axpy (the KV cache): y += a x for F32 and F16 x */
  for (size_t v = 0; v < 3; v++) {
    if (!vars[v]) continue;
    for (int t = QUANT_F32; t <= QUANT_F16; t++) {
      static float y1[N], y2[N];
      if (make_rows(t)) return bad + 1;
      for (int i = 0; i < N; i++) y1[i] = y2[i] = frnd();
      sc->axpy[t](N, 0.75f, wq, y1);
      vars[v]->axpy[t](N, 0.75f, wq, y2);
      int ok = 1;
      for (int i = 0; i < N && ok; i++)
        ok = fabs_(y1[i] - y2[i]) <= 1e-6f * (fabs_(y1[i]) + 1.0f);
      checked++;
      if (!ok) bad++;
      out("quant: %s axpy %s %s\n", vars[v]->name, quant_traits(t)->name,
          ok ? "agrees" : "DIFFERS");
    }
  }
  out("quant: %d kernels checked, %d differ%s\n", checked, bad, sink == 12345.f ? "." : "");
  return bad;
}
