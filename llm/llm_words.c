/*
 * llm_words.c: the Forth word GENERATE ( c-addr u n -- ), a client of the
 * `llm` interface: the greedy continuation of the text, n tokens at
 * most, printed on the VM's terminal as it streams from llm-local.
 *
 * The VM's task waits for the stream (other tasks and VMs keep running);
 * the generation itself runs on llm-local's task. Ctrl-C cancels it (the
 * ring is closed; the VM is then interrupted as usual). Output: a new line, the
 * continuation, a new line (like mneme-infer's stdout); errors print
 * "GENERATE: ..." instead.
 *
 * LOAD-MODEL ( c-addr u -- ) reads a GGUF file through the files service
 * into the kernel heap and hands it to llm-local (llm_local_load).
 *
 * Interface: llm_word_generate, llm_word_stats, llm_word_load_model,
 * llm_words_set_par.
 */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/fat.h"
#include "mneme/files.h"
#include "mneme/heap.h"
#include "mneme/log.h"
#include "mneme/forth.h"
#include "mneme/forth_task.h"
#include "mneme/kchannel.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/llm.h"
#include "mneme/registry.h"

#define CHUNK_TIMEOUT MN_SEC(300) /* no text for this long: give up */

/* The last GENERATE's figures, for LLM-STATS. */
static struct llm_usage last_usage;
static uint64_t last_first_text_ns, last_start_ns;
static int have_last;
static uint32_t last_finish;

static void say(struct forth_task *ft, const char *s) {
  forth_task_out(ft, s, strlen(s));
}

static void say_err(struct forth_task *ft, const char *what, int code, const char *msg) {
  say(ft, "GENERATE: ");
  say(ft, what);
  say(ft, ": ");
  say(ft, msg && *msg ? msg : mn_strerror(code));
  say(ft, "\n");
}

/* 1 if a Ctrl-C waits in the VM's input (left there: the VM's task loop
 * interrupts the VM with it once the word returns) or the VM is killed. */
static int interrupted(struct forth_task *ft) {
  const uint8_t *p;
  size_t len;
  if (ft->killed) return 1;
  if (!ft->in || ft->in_eof || bbq_read(ft->in, &p, &len)) return 0;
  int found = memchr(p, 3, len) != NULL;
  bbq_release(ft->in, 0);
  return found;
}

static int generate(struct forth_task *ft, const char *text, size_t len, uint32_t n) {
  static const struct svc_type type = LLM_SVC_TYPE;
  struct svc_client c;
  struct llm_error e;
  memset(&e, 0, sizeof e);
  int rc = svc_connect(&LLM_LOCAL_UUID, &type, NULL, &e, 0, &c);
  if (rc) {
    say_err(ft, "llm-local", rc, rc == MN_ENOENT ? "no model loaded" : NULL);
    return 0;
  }
  struct bbq ring;
  struct kchannel ch;
  size_t rsize = svc_reply_size(&type);
  uint8_t *reply = kmalloc(rsize);
  int have_ring = 0, have_ch = 0;
  if (!reply || bbq_init(&ring, 2048) != 0) {
    say_err(ft, "memory", MN_ENOMEM, NULL);
    goto done;
  }
  have_ring = 1;
  if (kchannel_init(&ch, rsize, 1) != 0) {
    say_err(ft, "memory", MN_ENOMEM, NULL);
    goto done;
  }
  have_ch = 1;
  struct llm_message msg = {LLM_ROLE_USER, text, len};
  struct llm_request q;
  memset(&q, 0, sizeof q);
  q.op = LLM_OP_GENERATE;
  q.flags = LLM_RAW;
  q.max_tokens = n;
  q.messages = &msg;
  q.n_messages = 1;
  llm_sampling_greedy(&q.sampling);
  q.out = &ring;
  uint32_t rid;
  if ((rc = svc_send(&c, &q, &ch, &rid, MN_SEC(5)))) {
    say_err(ft, "send", rc, NULL);
    goto done;
  }
  say(ft, "\n");
  uint64_t start = ktime_now(), first = 0, last = start;
  for (;;) {
    const uint8_t *p;
    size_t got;
    rc = bbq_read_grant(&ring, MN_MSEC(100), &p, &got);
    if (rc == MN_ETIMEDOUT) { /* Ctrl-C cancels; a silent backend times out */
      if (interrupted(ft) || ktime_now() - last > CHUNK_TIMEOUT) break;
      continue;
    }
    if (rc) break;
    last = ktime_now();
    if (!first) first = last;
    if (interrupted(ft)) {
      bbq_release(&ring, 0);
      break;
    }
    forth_task_out(ft, (const char *)p, got);
    bbq_release(&ring, got);
    forth_task_flush(ft); /* text as it comes (as ASK), not when the buffer is full */
  }
  if (rc != MN_ECLOSED) bbq_close(&ring); /* timed out or killed: cancel */
  /* The reply follows the end of the stream. */
  rc = kchannel_recv(&ch, reply, MN_FOREVER); /* the backend always replies */
  if (rc) {
    say_err(ft, "reply", rc, NULL);
    goto done;
  }
  const struct svc_reply *r = (const struct svc_reply *)reply;
  if (r->status == MN_ESERVICE) {
    const struct llm_error *le = (const void *)r->body;
    say_err(ft, "llm-local", le->code, le->message);
  } else if (r->status) {
    say_err(ft, "llm-local", r->status, NULL);
  } else {
    say(ft, "\n");
    memcpy(&last_usage, &((const struct llm_response *)(const void *)r->body)->usage,
           sizeof last_usage);
    last_finish = ((const struct llm_response *)(const void *)r->body)->finish;
    last_start_ns = start;
    last_first_text_ns = first;
    have_last = 1;
  }
done:
  svc_disconnect(&c);
  if (have_ch) kchannel_destroy(&ch);
  if (have_ring) bbq_destroy(&ring);
  kfree(reply);
  return 0;
}

static void say_num(struct forth_task *ft, uint64_t v) {
  char b[24];
  int i = 23;
  b[i] = 0;
  do b[--i] = (char)('0' + v % 10); while ((v /= 10) && i > 0);
  say(ft, b + i);
}

/* x/1000 with three decimals. */
static void say_milli(struct forth_task *ft, uint64_t v) {
  say_num(ft, v / 1000);
  char b[5] = {'.', (char)('0' + v / 100 % 10), (char)('0' + v / 10 % 10), (char)('0' + v % 10), 0};
  say(ft, b);
}

int llm_word_stats(forth_vm *vm, void *ctx) {
  (void)ctx;
  struct forth_task *ft = forth_host_ctx(vm);
  say(ft, "\n");
  if (!have_last) {
    say(ft, "LLM-STATS: no GENERATE yet\n");
    return 0;
  }
  const struct llm_usage *u = &last_usage;
  uint32_t steps = u->completion_tokens > 1 ? u->completion_tokens - 1 : 0;
  say(ft, "prompt ");
  say_num(ft, u->prompt_tokens);
  say(ft, " tokens in ");
  say_milli(ft, u->prompt_ns / 1000);
  say(ft, " ms; generated ");
  say_num(ft, u->completion_tokens);
  say(ft, " tokens in ");
  say_milli(ft, u->generate_ns / 1000);
  say(ft, " ms: ");
  say_milli(ft, u->generate_ns ? (uint64_t)steps * 1000000000000ull / u->generate_ns : 0);
  say(ft, " tokens/s; first text ");
  say_milli(ft, last_first_text_ns > last_start_ns ? (last_first_text_ns - last_start_ns) / 1000 : 0);
  say(ft, " ms after the request, ");
  say_milli(ft, last_first_text_ns / 1000);
  say(ft, " ms after boot entry; finish ");
  static const char *const fin[] = {"none", "stop", "length", "cancelled", "error"};
  say(ft, last_finish < 5 ? fin[last_finish] : "?");
  say(ft, "\n");
  return 0;
}

int llm_word_generate(forth_vm *vm, void *ctx) {
  (void)ctx;
  struct forth_task *ft = forth_host_ctx(vm);
  forth_cell n, u, addr;
  if (forth_depth(vm) < 3) return -4; /* stack underflow */
  forth_pop(vm, &n);
  forth_pop(vm, &u);
  forth_pop(vm, &addr);
  if (n < 0 || u < 0) return -24; /* invalid numeric argument */
  const char *p = forth_mem(vm, addr, (size_t)u);
  if (!p && u) return -9;
  /* A copy: the VM's memory is the VM's (a SPAWNed child may change it). */
  char *text = kmalloc((size_t)u + 1);
  if (!text) {
    say_err(ft, "memory", MN_ENOMEM, NULL);
    return 0;
  }
  memcpy(text, p, (size_t)u);
  int rc = generate(ft, text, (size_t)u, (uint32_t)(n > 100000 ? 100000 : n));
  kfree(text);
  return rc;
}

/* ---- LOAD-MODEL ------------------------------------------------------------ */

#define LOAD_KEEP (24u << 20) /* heap kept free beside the model: its state, the kernel */
#define LOAD_CHUNK (1u << 20)

static const struct par_ops *load_par;

void llm_words_set_par(const struct par_ops *par) { load_par = par; }

static void release_loaded(const void *p, size_t n) {
  (void)n;
  kfree((void *)(uintptr_t)p);
}

static void sayf(struct forth_task *ft, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sayf(struct forth_task *ft, const char *fmt, ...) {
  char b[256];
  va_list ap;
  va_start(ap, fmt);
  kvsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  say(ft, b);
}

/* Reads the file at q->path (opened: handle h, size bytes) into buf. */
static int read_all(struct svc_client *c, struct files_req *q, struct files_resp *r, uint32_t h,
                    uint8_t *buf, uint64_t size) {
  uint64_t off = 0;
  while (off < size) {
    memset(q, 0, offsetof(struct files_req, data));
    q->kind = FILES_READ;
    q->handle = h;
    q->buf = buf + off;
    q->len = size - off < LOAD_CHUNK ? (uint32_t)(size - off) : LOAD_CHUNK;
    int err = files_call(c, q, r);
    if (err) return err;
    if (!r->value) return MN_ETRUNC; /* shorter than its size */
    off += r->value;
  }
  return 0;
}

static void load_model(struct forth_task *ft, const char *path) {
  struct svc_client c;
  int err = files_connect(&c);
  if (err) {
    sayf(ft, "LOAD-MODEL: no files service (%s)\n", mn_strerror(err));
    return;
  }
  struct files_req *q = kmalloc(sizeof *q);
  struct files_resp *r = kmalloc(sizeof *r);
  uint8_t *buf = NULL;
  uint64_t size = 0, t0 = ktime_now();
  if (!q || !r) {
    err = MN_ENOMEM;
    goto out;
  }
  memset(q, 0, offsetof(struct files_req, data));
  q->kind = FILES_OPEN;
  q->flags = FAT_READ;
  memcpy(q->path, path, strlen(path) + 1);
  if ((err = files_call(&c, q, r))) goto out;
  uint32_t h = r->handle;
  size = r->size;
  size_t avail = heap_largest_free(kmem_heap());
  if (size > avail || avail - size < LOAD_KEEP ||
      !(buf = kmalloc_aligned((size_t)size ? (size_t)size : 1, 4096))) {
    sayf(ft, "LOAD-MODEL: %s: %lu MiB does not fit in memory (largest free region %lu MiB, "
             "%u MiB kept for the kernel and the model's state)\n",
         path, (unsigned long)((size + (1u << 20) - 1) >> 20), (unsigned long)(avail >> 20),
         LOAD_KEEP >> 20);
    err = 0;
  } else {
    err = read_all(&c, q, r, h, buf, size);
  }
  memset(q, 0, offsetof(struct files_req, data));
  q->kind = FILES_CLOSE;
  q->handle = h;
  files_call(&c, q, r);
  if (!buf || err) goto out;
  uint64_t t1 = ktime_now();
  const char *base = path;
  for (const char *s = path; *s; s++)
    if (*s == '/') base = s + 1;
  struct llm_local_config lc = {.gguf = buf, .gguf_size = (size_t)size,
                                .file_name = base, .par = load_par,
                                .release = release_loaded};
  const char *why = NULL;
  err = llm_local_load(&lc, &why);
  if (err) {
    sayf(ft, "LOAD-MODEL: %s: %s (%s)\n", path, why ? why : "refused", mn_strerror(err));
    kfree(buf);
    buf = NULL;
    err = 0;
    goto out;
  }
  klog(LOG_INFO, "llm-local: model %s loaded from %s, %lu KiB", llm_local_model(), path,
       (unsigned long)(size >> 10));
  sayf(ft, "LOAD-MODEL: %s: model %s, %lu KiB read in %lu ms\n", path, llm_local_model(),
       (unsigned long)(size >> 10), (unsigned long)((t1 - t0) / 1000000));
out:
  if (err) {
    sayf(ft, "LOAD-MODEL: %s: %s\n", path, mn_strerror(err));
    kfree(buf);
  }
  kfree(q);
  kfree(r);
  svc_disconnect(&c);
}

int llm_word_load_model(forth_vm *vm, void *ctx) {
  (void)ctx;
  struct forth_task *ft = forth_host_ctx(vm);
  forth_cell u, addr;
  if (forth_depth(vm) < 2) return -4;
  forth_pop(vm, &u);
  forth_pop(vm, &addr);
  if (u < 0) return -24;
  const char *p = forth_mem(vm, addr, (size_t)u);
  if (!p && u) return -9;
  char path[FILES_PATH_MAX];
  size_t o = 0;
  if (!u || p[0] != '/') path[o++] = '/';
  if ((size_t)u + o >= sizeof path) {
    say(ft, "\nLOAD-MODEL: path too long\n");
    return 0;
  }
  memcpy(path + o, p, (size_t)u);
  path[o + (size_t)u] = 0;
  say(ft, "\n");
  load_model(ft, path);
  return 0;
}
