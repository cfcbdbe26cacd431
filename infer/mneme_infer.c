/*
 * mneme_infer.c: the hosted command-line tool build/hosted/mneme-infer.
 *
 *   mneme-infer -m model.gguf -p "prompt" -n 64 [-t threads] [--temp T]
 *               [--chat] [--seed N] [--tokenize] [--logits [FILE]]
 *   mneme-infer -m model.gguf --ids "1 403 407" -n 32   (token ids in/out)
 *
 * Streams the generated text on stdout (not the prompt), then prints load
 * time, prompt and generation tokens/s and peak memory on stderr. -t
 * defaults to the number of online CPUs (at most 16). Other
 * options: sampling (--top-k, --top-p, --min-p, --repeat-penalty,
 * --repeat-last-n; llama.cpp's defaults), -c n_ctx, -b batch, --kv-f32, --no-repack,
 * --kernels scalar|avx2|avx512, --ids-out (print generated ids instead of
 * text), --debug (intermediate tensors), --bench N -r R [--bench-tg G]
 * (llama-bench's ppN and tgG, G = N by default, 0 skips tg).
 *
 * Interface: main.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "mneme/err.h"
#include "mneme/gguf.h"
#include "mneme/llama.h"
#include "mneme/par.h"
#include "mneme/quant.h"
#include "infer_tok.h"
#include "mneme/sample.h"

struct args {
  const char *model, *prompt, *ids, *logits_path, *kernels;
  int n_gen, threads, n_ctx, batch, kv_f32, chat, tokenize, ids_out, debug;
  int bench, bench_tg, reps;
  int no_repack;
  struct sample_params sp; /* temp, seed, top-k/p, min-p, penalty */
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
          "       [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R]\n"
          "       [--repeat-last-n N]\n"
          "       [--logits [FILE]] [-c n_ctx] [-b batch] [--kv-f32] [--no-repack]\n"
          "       [--kernels scalar|avx2|avx512] [--ids-out]\n");
  exit(2);
}

static void
parse(struct args *a, int argc, char **argv)
{
  memset(a, 0, sizeof *a);
  a->n_gen = 64;
  a->bench_tg = -1;
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  a->threads = ncpu < 1 ? 1 : ncpu > 16 ? 16 : (int)ncpu; /* like llama.cpp: all cores */
  sample_defaults(&a->sp);
  a->sp.seed = (uint64_t)time(NULL);
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
    else if (!strcmp(o, "--temp")) a->sp.temp = strtof(VAL(), NULL);
    else if (!strcmp(o, "--seed")) a->sp.seed = strtoull(VAL(), NULL, 0);
    else if (!strcmp(o, "--top-k")) a->sp.top_k = atoi(VAL());
    else if (!strcmp(o, "--top-p")) a->sp.top_p = strtof(VAL(), NULL);
    else if (!strcmp(o, "--min-p")) a->sp.min_p = strtof(VAL(), NULL);
    else if (!strcmp(o, "--repeat-penalty")) a->sp.repeat_penalty = strtof(VAL(), NULL);
    else if (!strcmp(o, "--repeat-last-n")) a->sp.repeat_last_n = atoi(VAL());
    else if (!strcmp(o, "--logits")) /* a file, or text on stdout */
      a->logits_path = v && v[0] != '-' ? (i++, v) : "-";
    else if (!strcmp(o, "--kernels")) a->kernels = VAL();
    else if (!strcmp(o, "--kv-f32")) a->kv_f32 = 1;
    else if (!strcmp(o, "--no-repack")) a->no_repack = 1;
    else if (!strcmp(o, "--chat")) a->chat = 1;
    else if (!strcmp(o, "--tokenize")) a->tokenize = 1;
    else if (!strcmp(o, "--ids-out")) a->ids_out = 1;
    else if (!strcmp(o, "--debug")) a->debug = 1;
    else if (!strcmp(o, "--bench")) a->bench = atoi(VAL());
    else if (!strcmp(o, "-r")) a->reps = atoi(VAL());
    else if (!strcmp(o, "--bench-tg")) a->bench_tg = atoi(VAL());
    else usage();
#undef VAL
  }
  if (!a->model || (!a->prompt && !a->ids && !a->bench) || a->n_gen < 0 ||
      a->threads < 1 || a->bench < 0)
    usage();
  if (a->reps < 1)
    a->reps = 5;
}

/* Current resident memory split (Linux /proc), in MiB: anonymous, file. */
static void
rss_split(double *anon, double *file)
{
  char line[256];
  FILE *f = fopen("/proc/self/status", "r");
  *anon = *file = 0;
  if (!f)
    return;
  while (fgets(line, sizeof line, f)) {
    long kb;
    if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
      *anon = kb / 1024.0;
    else if (sscanf(line, "RssFile: %ld kB", &kb) == 1)
      *file = kb / 1024.0;
  }
  fclose(f);
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

/* llama-bench's pp<n> and tg<ntg>: a prompt of n random ids in one call,
 * and ntg tokens decoded one at a time, each from an empty cache, reps
 * times after a warm-up run (the whole prompt; one token for tg, as
 * llama-bench does); prints tokens/s of every timed repetition. */
static int
bench(struct llama_model *m, int n, int ntg, int reps)
{
  int nid = n > ntg ? n : ntg;
  int32_t *ids = malloc((size_t)nid * 4);
  if (!ids)
    return MN_ENOMEM;
  uint32_t r = 1;
  for (int i = 0; i < nid; i++) {
    r = r * 1664525u + 1013904223u;
    ids[i] = (int32_t)((r >> 8) % (uint32_t)m->c.vocab);
  }
  for (int t = 0; t < 2; t++) {
    struct rusage r0, r1;
    if (t == 1 && !ntg)
      break;
    if (t == 1)
      n = ntg;
    double wall = 0;
    printf("%s%d t/s:", t ? "tg" : "pp", n);
    for (int k = 0; k < reps + 1; k++) { /* the first run warms up (tg: one token, as llama-bench) */
      if (k == 1)
        getrusage(RUSAGE_SELF, &r0);
      llama_reset(m);
      double t0 = now_s();
      int rc = 0;
      if (t == 0)
        rc = llama_forward(m, ids, n);
      else
        for (int i = 0; i < (k ? n : 1) && !rc; i++)
          rc = llama_forward(m, &ids[i], 1);
      double dt = now_s() - t0;
      if (rc) {
        free(ids);
        return rc;
      }
      if (k) {
        printf(" %.1f", n / dt);
        wall += dt;
      }
    }
    getrusage(RUSAGE_SELF, &r1);
    double cpu = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) + (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
                 ((r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) + (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec)) * 1e-6;
    printf("\n%s%d cpu/wall: %.2f\n", t ? "tg" : "pp", n, cpu / wall);
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
  if (!strcmp(path, "-")) { /* text, one logit per line */
    for (int i = 0; i < n; i++)
      printf("%.7g\n", x[i]);
    return fflush(stdout);
  }
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(x, 4, (size_t)n, f) != (size_t)n) {
    if (f)
      fclose(f);
    return -1;
  }
  return fclose(f);
}

/* Everything a run holds, released by cleanup() whatever happened. */
struct session {
  struct gguf_map map;
  int fd;             /* the model file again, for pread (read_file) */
  int mapped, built;
  struct gguf_file gf;
  struct infer_tok *tok;
  int32_t *prompt;
  int np;
  struct par_ops par;
  struct llama_model m;
  struct infer_sampler *smp;
};

static int
complain(const char *fmt, const char *a, const char *b)
{
  fprintf(stderr, "mneme-infer: ");
  fprintf(stderr, fmt, a, b);
  fprintf(stderr, "\n");
  return 1;
}

/* Maps the model, loads the tokenizer and tokenizes the prompt. */
static int
open_inputs(const struct args *a, struct session *S)
{
  int rc = gguf_map_file(&S->map, a->model);
  if (rc)
    return complain("%s: %s", a->model, mn_strerror(rc));
  S->mapped = 1;
  if ((rc = gguf_open(&S->gf, S->map.addr, S->map.size)))
    return complain("%s: %s", a->model, S->gf.err_msg ? S->gf.err_msg : mn_strerror(rc));
  if ((rc = infer_tok_load(&S->tok, &S->gf)))
    return complain("tokenizer: %s%s", mn_strerror(rc), "");
  int cap = 1 << 16;
  if (!(S->prompt = malloc((size_t)cap * 4)))
    return complain("%s%s", "out of memory", "");
  if (a->bench)
    S->np = 0;
  else if (a->ids)
    S->np = parse_ids(a->ids, S->prompt, cap);
  else
    S->np = infer_tok_prompt(S->tok, a->prompt, a->chat, S->prompt, cap);
  if (S->np < 0)
    return complain("cannot tokenize the prompt%s%s", "", "");
  return 0;
}

/* Drops the mapped file's pages in [p, p + n) (whole pages only): the
 * model has copied them into its repacked weights. */
static void
release_pages(void *ctx, const void *p, size_t n)
{
  uintptr_t pg = 4096, a = ((uintptr_t)p + pg - 1) & ~(pg - 1), e = ((uintptr_t)p + n) & ~(pg - 1);
  (void)ctx;
  if (e > a)
    madvise((void *)a, e - a, MADV_DONTNEED);
}

/* Reads bytes of the mapped file with pread, leaving its pages alone:
 * the model fetches each token's embedding row so, since Linux maps the
 * 64 KiB around every page a read faults in, and a prompt's tokens would
 * otherwise bring most of the embedding into memory. */
static int
read_file(void *ctx, const void *p, void *dst, size_t n)
{
  struct session *S = ctx;
  off_t off = (off_t)((const uint8_t *)p - (const uint8_t *)S->map.addr);
  return S->fd >= 0 && pread(S->fd, dst, n, off) == (ssize_t)n ? 0 : -1;
}

static int
build_model(const struct args *a, struct session *S)
{
  if (a->threads > 1 && par_pool_create(&S->par, a->threads) != 0)
    return complain("cannot start the threads%s%s", "", "");
  struct llama_opts lo = { .n_ctx = a->n_ctx, .batch = a->batch, .kv_f32 = a->kv_f32,
                           .par = &S->par, .no_repack = a->no_repack };
  if (a->kernels && !(lo.ops = quant_ops_named(a->kernels)))
    return complain("kernels '%s' unknown or not runnable here%s", a->kernels, "");
  /* the file is mapped: pages of repacked weights can go */
  struct infer_alloc al = infer_alloc_libc;
  al.release = release_pages;
  al.ctx = S;
  if ((S->fd = open(a->model, O_RDONLY | O_CLOEXEC)) >= 0)
    al.read = read_file;
  int rc = llama_build(&S->m, &S->gf, &lo, &al);
  if (rc)
    return complain("%s: %s", a->model, S->m.err);
  S->built = 1;
  /* the tokenizer and the model have copied what they need of the
   * metadata (hyperparameters, the vocabulary's strings and scores) */
  release_pages(NULL, S->map.addr, S->gf.data_off);
  if (a->debug)
    S->m.debug = debug_print;
  return 0;
}

/* Samples and streams up to n_gen tokens; returns how many. */
static int
generate(const struct args *a, struct session *S, int *ngen)
{
  struct llama_model *m = &S->m;
  if (!(S->smp = infer_sampler_new(&a->sp, m->c.vocab, S->prompt, S->np)))
    return complain("cannot set up the sampler%s%s", "", "");
  int n = 0, rc;
  for (; n < a->n_gen; n++) {
    int32_t next = a->sp.temp <= 0.f && a->sp.repeat_penalty == 1.f
                       ? argmax(m->s.logits, m->c.vocab)
                       : infer_sample(S->smp, m->s.logits, m->c.vocab);
    if (a->ids_out || !S->tok)
      printf("%s%d", n ? " " : "", next);
    else
      infer_tok_emit(S->tok, next, stdout);
    fflush(stdout);
    if (!a->ids_out && S->tok && infer_tok_is_eog(S->tok, next)) {
      n++;
      break;
    }
    if (n + 1 < a->n_gen && (rc = llama_forward(m, &next, 1)))
      return complain("%s%s", mn_strerror(rc), "");
  }
  if (a->ids_out || !S->tok)
    printf("\n");
  else
    infer_tok_emit_end(S->tok, stdout);
  fflush(stdout);
  *ngen = n;
  return 0;
}

static void report_memory(const struct session *S);

static void
report(const struct session *S, double t0, double t1, double t2, double t3, int ngen)
{
  const struct llama_model *m = &S->m;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  int steps = ngen > 1 ? ngen - 1 : 0; /* forward passes after the prompt */
  fprintf(stderr, "load: %.1f ms (kernels %s, %d threads, KV %s, n_ctx %d)\n",
          (t1 - t0) * 1e3, m->ops->name, S->par.nthreads,
          m->kv_type == QUANT_F16 ? "F16" : "F32", m->n_ctx);
  fprintf(stderr, "prompt: %d tokens, %.2f tokens/s\n", S->np, S->np / (t2 - t1));
  fprintf(stderr, "generation: %d tokens, %.2f tokens/s\n", ngen,
          steps ? steps / (t3 - t2) : 0.0);
  report_memory(S);
}

/* Peak resident memory against the file and KV cache sizes. */
static void
report_memory(const struct session *S)
{
  const struct llama_model *m = &S->m;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  size_t kv = 2 * (size_t)m->c.n_layers * m->n_ctx * m->c.n_kv_heads * m->c.head_dim *
              (m->kv_type == QUANT_F16 ? 2 : 4);
  double anon, filer;
  rss_split(&anon, &filer);
  fprintf(stderr, "peak memory: %.2f MiB (file %.2f MiB, KV cache %.2f MiB, "
          "state+KV %.2f MiB; now resident: %.2f MiB anonymous, %.2f MiB file-backed)\n",
          ru.ru_maxrss / 1024.0, S->map.size / 1048576.0, kv / 1048576.0,
          m->mem_bytes / 1048576.0, anon, filer);
}

static int
run(const struct args *a, struct session *S)
{
  double t0 = now_s();
  if (open_inputs(a, S))
    return 1;
  if (a->tokenize) {
    for (int i = 0; i < S->np; i++)
      printf("%s%d", i ? " " : "", S->prompt[i]);
    printf("\n");
    return 0;
  }
  if (S->np == 0 && !a->bench)
    return complain("empty prompt%s%s", "", "");
  if (build_model(a, S))
    return 1;
  int rc;
  if (a->bench) {
    if ((rc = bench(&S->m, a->bench, a->bench_tg >= 0 ? a->bench_tg : a->bench, a->reps)))
      return complain("%s%s", mn_strerror(rc), "");
    report_memory(S);
    return 0;
  }
  double t1 = now_s();
  if (S->np + a->n_gen > S->m.n_ctx)
    return complain("prompt and generation exceed the context%s%s", "", "");
  if ((rc = llama_forward(&S->m, S->prompt, S->np)))
    return complain("%s%s", mn_strerror(rc), "");
  double t2 = now_s();
  if (a->logits_path && dump_logits(a->logits_path, S->m.s.logits, S->m.c.vocab))
    return complain("cannot write %s%s", a->logits_path, "");
  int ngen = 0;
  if (generate(a, S, &ngen))
    return 1;
  report(S, t0, t1, t2, now_s(), ngen);
  return 0;
}

static void
cleanup(struct session *S)
{
  infer_sampler_free(S->smp);
  if (S->built)
    llama_free(&S->m);
  if (S->par.impl)
    par_pool_destroy(&S->par);
  infer_tok_free(S->tok);
  free(S->prompt);
  if (S->mapped)
    gguf_unmap_file(&S->map);
  if (S->fd >= 0)
    close(S->fd);
}

int
main(int argc, char **argv)
{
  struct args a;
  parse(&a, argc, argv);
  struct session S;
  memset(&S, 0, sizeof S);
  S.fd = -1;
  S.par = par_serial;
  int code = run(&a, &S);
  cleanup(&S);
  return code;
}
