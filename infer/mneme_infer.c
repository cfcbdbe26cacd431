/*
 * mneme_infer.c: the hosted command-line tool build/hosted/mneme-infer.
 *
 *   mneme-infer -m model.gguf -p "prompt" -n 64 [-t threads] [--temp T]
 *               [--chat] [--seed N] [--tokenize] [--logits FILE]
 *   mneme-infer -m model.gguf --ids "1 403 407" -n 32   (token ids in/out)
 *
 * Streams the generated text on stdout (not the prompt), then prints load
 * time, prompt and generation tokens/s and peak memory on stderr. Other
 * options: -c n_ctx, -b batch, --kv-f32, --kernels scalar|avx2|avx512,
 * --ids-out (print generated ids instead of text), --greedy-ties-low.
 *
 * Interface: main.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "mneme/err.h"
#include "mneme/gguf.h"
#include "mneme/llama.h"
#include "mneme/par.h"
#include "mneme/quant.h"
#include "infer_tok.h"

struct args {
  const char *model, *prompt, *ids, *logits_path, *kernels;
  int n_gen, threads, n_ctx, batch, kv_f32, chat, tokenize, ids_out, debug;
  int bench, reps;
  float temp;
  uint64_t seed;
};

static double
now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void
usage(void)
{
  fprintf(stderr,
          "usage: mneme-infer -m model.gguf (-p prompt | --ids \"1 2 3\") [-n 64]\n"
          "       [-t threads] [--temp T] [--seed N] [--chat] [--tokenize]\n"
          "       [--logits FILE] [-c n_ctx] [-b batch] [--kv-f32]\n"
          "       [--kernels scalar|avx2|avx512] [--ids-out]\n");
  exit(2);
}

static void
parse(struct args *a, int argc, char **argv)
{
  memset(a, 0, sizeof *a);
  a->n_gen = 64;
  a->threads = 1;
  a->temp = 0.8f;
  a->seed = (uint64_t)time(NULL);
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VAL() (v ? (i++, v) : (usage(), ""))
    if (!strcmp(o, "-m")) a->model = VAL();
    else if (!strcmp(o, "-p")) a->prompt = VAL();
    else if (!strcmp(o, "--ids")) a->ids = VAL();
    else if (!strcmp(o, "-n")) a->n_gen = atoi(VAL());
    else if (!strcmp(o, "-t")) a->threads = atoi(VAL());
    else if (!strcmp(o, "-c")) a->n_ctx = atoi(VAL());
    else if (!strcmp(o, "-b")) a->batch = atoi(VAL());
    else if (!strcmp(o, "--temp")) a->temp = strtof(VAL(), NULL);
    else if (!strcmp(o, "--seed")) a->seed = strtoull(VAL(), NULL, 0);
    else if (!strcmp(o, "--logits")) a->logits_path = VAL();
    else if (!strcmp(o, "--kernels")) a->kernels = VAL();
    else if (!strcmp(o, "--kv-f32")) a->kv_f32 = 1;
    else if (!strcmp(o, "--chat")) a->chat = 1;
    else if (!strcmp(o, "--tokenize")) a->tokenize = 1;
    else if (!strcmp(o, "--ids-out")) a->ids_out = 1;
    else if (!strcmp(o, "--debug")) a->debug = 1;
    else if (!strcmp(o, "--bench")) a->bench = atoi(VAL());
    else if (!strcmp(o, "-r")) a->reps = atoi(VAL());
    else usage();
#undef VAL
  }
  if (!a->model || (!a->prompt && !a->ids && !a->bench) || a->n_gen < 0 ||
      a->threads < 1 || a->bench < 0)
    usage();
  if (a->reps < 1)
    a->reps = 5;
}

/* Parses "1 403 407" into ids; returns the count or -1. */
static int
parse_ids(const char *s, int32_t *ids, int cap)
{
  int n = 0;
  while (*s) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s)
      break;
    if (errno || v < 0 || v > INT32_MAX || n == cap)
      return -1;
    ids[n++] = (int32_t)v;
    s = end;
  }
  return n;
}

/* llama-bench's pp<n> and tg<n>: a prompt of n tokens in one call, and n
 * tokens decoded one at a time, each from an empty cache, reps times;
 * prints tokens/s of every repetition. */
static int
bench(struct llama_model *m, int n, int reps)
{
  int32_t *ids = malloc((size_t)n * 4);
  uint32_t r = 1;
  for (int i = 0; i < n; i++) {
    r = r * 1664525u + 1013904223u;
    ids[i] = (int32_t)((r >> 8) % (uint32_t)m->c.vocab);
  }
  for (int t = 0; t < 2; t++) {
    printf("%s%d t/s:", t ? "tg" : "pp", n);
    for (int k = 0; k < reps + 1; k++) { /* the first run warms up */
      llama_reset(m);
      double t0 = now_s();
      int rc = 0;
      if (t == 0)
        rc = llama_forward(m, ids, n);
      else
        for (int i = 0; i < n && !rc; i++)
          rc = llama_forward(m, &ids[i], 1);
      double dt = now_s() - t0;
      if (rc) {
        free(ids);
        return rc;
      }
      if (k)
        printf(" %.1f", n / dt);
    }
    printf("\n");
    fflush(stdout);
  }
  free(ids);
  return 0;
}

/* Prints an intermediate tensor like llama.cpp's eval-callback. */
static void
debug_print(void *ctx, const char *name, int layer, const float *x, int rows, int cols)
{
  double sum = 0;
  fprintf(stderr, "%s-%d {%d, %d}\n", name, layer, cols, rows);
  for (int r = 0; r < rows; r++) {
    const float *v = x + (size_t)r * cols;
    fprintf(stderr, "  [%10.4f %10.4f %10.4f ... %10.4f %10.4f %10.4f]\n", v[0], v[1],
            v[2], v[cols - 3], v[cols - 2], v[cols - 1]);
    for (int c = 0; c < cols; c++)
      sum += v[c];
  }
  fprintf(stderr, "  sum = %f\n", sum);
}

/* The index of the largest logit, the lowest index on ties (as the
 * reference outputs were made). Two passes so the first vectorizes. */
static int
argmax(const float *x, int n)
{
  float m[8];
  int i = 0;
  for (int k = 0; k < 8; k++)
    m[k] = x[0];
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++)
      m[k] = x[i + k] > m[k] ? x[i + k] : m[k];
  for (; i < n; i++)
    m[0] = x[i] > m[0] ? x[i] : m[0];
  for (int k = 1; k < 8; k++)
    m[0] = m[k] > m[0] ? m[k] : m[0];
  for (i = 0; i < n - 1 && x[i] != m[0]; i++)
    ;
  return i;
}

static int
dump_logits(const char *path, const float *x, int n)
{
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(x, 4, (size_t)n, f) != (size_t)n) {
    if (f)
      fclose(f);
    return -1;
  }
  return fclose(f);
}

int
main(int argc, char **argv)
{
  struct args a;
  parse(&a, argc, argv);
  double t0 = now_s();
  struct gguf_map map;
  struct gguf_file gf;
  int rc = gguf_map_file(&map, a.model);
  if (rc) {
    fprintf(stderr, "mneme-infer: %s: %s\n", a.model, mn_strerror(rc));
    return 1;
  }
  if ((rc = gguf_open(&gf, map.addr, map.size))) {
    fprintf(stderr, "mneme-infer: %s: %s (%s at byte %llu)\n", a.model,
            mn_strerror(rc), gf.err_msg ? gf.err_msg : "?",
            (unsigned long long)gf.err_off);
    return 1;
  }
  struct infer_tok *tok = NULL;
  if ((rc = infer_tok_load(&tok, &gf))) {
    fprintf(stderr, "mneme-infer: tokenizer: %s\n", mn_strerror(rc));
    return 1;
  }
  int cap = 1 << 16;
  int32_t *prompt = malloc((size_t)cap * 4);
  int np;
  if (a.bench)
    np = 0;
  else if (a.ids)
    np = parse_ids(a.ids, prompt, cap);
  else
    np = infer_tok_prompt(tok, a.prompt, a.chat, prompt, cap);
  if (np < 0) {
    fprintf(stderr, "mneme-infer: cannot tokenize the prompt\n");
    return 1;
  }
  if (a.tokenize) {
    for (int i = 0; i < np; i++)
      printf("%s%d", i ? " " : "", prompt[i]);
    printf("\n");
    return 0;
  }
  if (np == 0 && !a.bench) {
    fprintf(stderr, "mneme-infer: empty prompt\n");
    return 1;
  }
  struct par_ops par = par_serial;
  if (a.threads > 1 && par_pool_create(&par, a.threads) != 0) {
    fprintf(stderr, "mneme-infer: cannot start %d threads\n", a.threads);
    return 1;
  }
  struct llama_opts lo = { .n_ctx = a.n_ctx, .batch = a.batch, .kv_f32 = a.kv_f32,
                           .par = &par };
  if (a.kernels && !(lo.ops = quant_ops_named(a.kernels))) {
    fprintf(stderr, "mneme-infer: kernels '%s' unknown or not runnable here\n", a.kernels);
    return 1;
  }
  struct llama_model m;
  if ((rc = llama_build(&m, &gf, &lo, &infer_alloc_libc))) {
    fprintf(stderr, "mneme-infer: %s: %s (%s)\n", a.model, mn_strerror(rc), m.err);
    return 1;
  }
  if (a.debug)
    m.debug = debug_print;
  if (a.bench) {
    if ((rc = bench(&m, a.bench, a.reps)))
      fprintf(stderr, "mneme-infer: %s\n", mn_strerror(rc));
    return rc ? 1 : 0;
  }
  double t1 = now_s();
  if (np + a.n_gen > m.n_ctx) {
    fprintf(stderr, "mneme-infer: prompt + %d tokens exceed the context (%d)\n",
            a.n_gen, m.n_ctx);
    return 1;
  }
  if ((rc = llama_forward(&m, prompt, np))) {
    fprintf(stderr, "mneme-infer: %s\n", mn_strerror(rc));
    return 1;
  }
  double t2 = now_s();
  if (a.logits_path && dump_logits(a.logits_path, m.s.logits, m.c.vocab)) {
    fprintf(stderr, "mneme-infer: cannot write %s\n", a.logits_path);
    return 1;
  }
  struct infer_sampler *smp = infer_sampler_new(a.temp, a.seed, m.c.vocab);
  int ngen = 0;
  for (; ngen < a.n_gen; ngen++) {
    int32_t next = a.temp <= 0.f ? argmax(m.s.logits, m.c.vocab)
                                 : infer_sample(smp, m.s.logits, m.c.vocab);
    if (a.ids_out || !tok)
      printf("%s%d", ngen ? " " : "", next);
    else
      infer_tok_emit(tok, next, stdout);
    fflush(stdout);
    if (!a.ids_out && tok && infer_tok_is_eog(tok, next)) {
      ngen++;
      break;
    }
    if (ngen + 1 < a.n_gen && (rc = llama_forward(&m, &next, 1))) {
      fprintf(stderr, "mneme-infer: %s\n", mn_strerror(rc));
      return 1;
    }
  }
  if (a.ids_out || !tok)
    printf("\n");
  else
    infer_tok_emit_end(tok, stdout);
  fflush(stdout);
  double t3 = now_s();
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  int steps = ngen > 1 ? ngen - 1 : 0; /* forward passes after the prompt */
  fprintf(stderr, "load: %.1f ms (kernels %s, %d threads, KV %s, n_ctx %d)\n",
          (t1 - t0) * 1e3, m.ops->name, par.nthreads,
          m.kv_type == QUANT_F16 ? "F16" : "F32", m.n_ctx);
  fprintf(stderr, "prompt: %d tokens, %.2f tokens/s\n", np, np / (t2 - t1));
  fprintf(stderr, "generation: %d tokens, %.2f tokens/s\n", ngen,
          steps ? steps / (t3 - t2) : 0.0);
  fprintf(stderr, "peak memory: %.2f MiB (file %.2f MiB, state+KV %.2f MiB)\n",
          ru.ru_maxrss / 1024.0, map.size / 1048576.0, m.mem_bytes / 1048576.0);
  infer_sampler_free(smp);
  llama_free(&m);
  if (par.impl)
    par_pool_destroy(&par);
  infer_tok_free(tok);
  free(prompt);
  gguf_unmap_file(&map);
  return 0;
}
