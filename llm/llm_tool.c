/*
 * llm_tool.c: the `forth` tool the remote models may call (LLM_TOOLS).
 *
 * The code the model sent runs in a fresh Forth VM made for the call and
 * destroyed after it: the standard words only (no SPAWN, SERVICE or
 * ports), its own small data space, the code as its terminal input then
 * the end of input (so QUIT ends when the code is done). It runs in the
 * calling task in slices, yielding between them, so the rest of the
 * kernel keeps running; it stops when it used its fuel (threaded steps)
 * or its time. What it printed is the result (an uncaught THROW is
 * printed by QUIT in words, "... (THROW -n)"); a stop adds a line saying
 * why.
 *
 * The network and the files only when the user allows them (perms,
 * from the settings' tool_network and tool_files): otherwise every
 * network word (HTTP-GET, TCP-OPEN, ...) and every file word (OPEN-FILE,
 * INCLUDED, BLOCK, ...) prints why it is refused and THROWs -1018 (not
 * permitted). Files allowed: the File-Access words work on the files
 * service (services/forth_files.c's hooks). Network allowed: HTTP-GET
 * ( c-addr u -- status ) prints the body, within the tool's time; the
 * other network words stay refused.
 *
 * Interface: llm_tool_forth.
 */
#include <string.h>

#include "mneme/err.h"
#include "mneme/forth.h"
#include "mneme/forth_files.h"
#include "mneme/http.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/llm.h"
#include "mneme/task.h"

#define SLICE 5000

struct run {
  const char *code;
  size_t len, pos;
  char *out;
  size_t cap, n;
  int cut;
  uint64_t deadline;         /* ktime_now() at which the tool's time ends */
};

/* THROW code of a refused word: FT_E_MN(MN_EACCESS), "not permitted". */
#define E_REFUSED (-1000 + MN_EACCESS)

/* The HTTP stream, when the http service is part of the build. */
int http_stream_start(const struct http_client_request *req, struct http_stream **out)
    __attribute__((weak));
int http_stream_read(struct http_stream *s, void *buf, size_t cap, uint64_t timeout_ns,
                     size_t *got) __attribute__((weak));
int http_stream_end(struct http_stream *s, struct http_client_result *res) __attribute__((weak));

static void *vm_alloc(void *ctx, void *old, size_t old_size, size_t new_size) {
  (void)ctx;
  if (new_size == 0) {
    kfree(old);
    return NULL;
  }
  void *p = kmalloc(new_size);
  if (p && old) memcpy(p, old, old_size < new_size ? old_size : new_size);
  if (p) kfree(old);
  return p;
}

static void vm_write(void *ctx, const char *buf, size_t len) {
  struct run *r = ctx;
  for (size_t i = 0; i < len; i++) {
    char c = buf[i];
    /* the markers must not appear inside the output */
    if (c == LLM_MARK_CODE || c == LLM_MARK_OUTPUT || c == LLM_MARK_END) c = ' ';
    if (r->n < r->cap) r->out[r->n++] = c;
    else r->cut = 1;
  }
}

static int vm_key(void *ctx) {
  struct run *r = ctx;
  if (r->pos >= r->len) return FORTH_KEY_EOF;
  return (unsigned char)r->code[r->pos++];
}

static uint64_t vm_now_ms(void *ctx) {
  (void)ctx;
  return ktime_now() / 1000000u;
}

static void put(struct run *r, const char *s) {
  size_t n = strlen(s);
  for (size_t i = 0; i < n; i++)
    if (r->n < r->cap) r->out[r->n++] = s[i];
}

static void put_num(struct run *r, uint64_t v) {
  char b[24];
  int i = 23;
  b[i] = 0;
  do b[--i] = (char)('0' + v % 10); while ((v /= 10) && i > 0);
  put(r, b + i);
}

/* ---- refused words, HTTP-GET ---- */

/* the first N_FILE_ACCESS work when the files are allowed */
static const char *const file_words[] = {
    "OPEN-FILE", "CREATE-FILE", "READ-FILE", "READ-LINE", "WRITE-FILE", "WRITE-LINE",
    "CLOSE-FILE", "DELETE-FILE", "RENAME-FILE", "FILE-STATUS", "FILE-SIZE", "FILE-POSITION",
    "REPOSITION-FILE", "RESIZE-FILE", "FLUSH-FILE", "INCLUDED", "INCLUDE", "INCLUDE-FILE",
    "REQUIRED", "REQUIRE", "BLOCK", "BUFFER", "LOAD", "THRU", "OPEN-BLOCKS", "BLOCK-FILE",
    "LS", "CAT", "RM", "MKDIR", "DF"};
#define N_FILE_ACCESS 26
static const char *const net_words[] = {
    "HTTP-GET", "TLS-TRUST", "TLS-INFO", "NET", "PING", "PING-US", "RESOLVE", "NETSTAT",
    "TCP-OPEN", "TCP-WRITE", "TCP-READ", "TCP-CLOSE", "TCP-LISTEN", "TCP-ACCEPT",
    "TCP-UNLISTEN"};

struct refusal {
  struct run *r;
  const char *name, *why;
};

static int w_refused(forth_vm *vm, void *ctx) {
  (void)vm;
  struct refusal *f = ctx;
  if (f->r->n && f->r->out[f->r->n - 1] != '\n') put(f->r, "\n");
  put(f->r, f->name);
  put(f->r, ": ");
  put(f->r, f->why);
  put(f->r, "\n");
  return E_REFUSED;
}

static int w_http_get(forth_vm *vm, void *ctx) {
  struct run *r = ctx;
  forth_cell a, u, x;
  if (forth_depth(vm) < 2) return -4;
  forth_peek(vm, 1, &a);
  forth_peek(vm, 0, &u);
  if (u <= 0 || u > 2048) return -24;
  const char *url = forth_mem(vm, a, (size_t)u);
  if (!url) return -9;
  if (!http_stream_start || !http_stream_read || !http_stream_end) {
    put(r, "HTTP-GET: no HTTP client in this build\n");
    return -1000 + MN_ENOTSUP;
  }
  struct http_client_request req = {.method = "GET", .url = url, .url_len = (size_t)u,
                                    .max_redirects = -1};
  struct http_stream *st;
  int err = http_stream_start(&req, &st);
  if (err) {
    put(r, "HTTP-GET: ");
    put(r, mn_strerror(err));
    put(r, "\n");
    return -1000 + err;
  }
  char buf[512];
  size_t n;
  for (;;) {
    uint64_t now = ktime_now();
    if (now >= r->deadline) {
      err = MN_ETIMEDOUT;
      break;
    }
    err = http_stream_read(st, buf, sizeof buf, r->deadline - now, &n);
    if (err || !n) break;
    vm_write(r, buf, n);
  }
  struct http_client_result res;
  int rerr = http_stream_end(st, &res);
  if (!err) err = rerr;
  if (err) {
    put(r, "\nHTTP-GET: ");
    put(r, err == MN_ETIMEDOUT ? "the tool's time ran out" : res.error[0] ? res.error : mn_strerror(err));
    put(r, "\n");
    return -1000 + err;
  }
  forth_pop(vm, &x);
  forth_pop(vm, &x);
  return forth_push(vm, res.status);
}

/* Defines the words the user's permissions refuse (and HTTP-GET when the
 * network is allowed). ref[] lives as long as the VM. */
static int gate(forth_vm *vm, struct run *r, uint32_t perms, struct refusal *ref) {
  size_t k = 0;
  int rc = 0;
  if (perms & LLM_TOOL_FILES) rc = forth_files_install_access(vm);
  for (size_t i = 0; !rc && i < sizeof file_words / sizeof *file_words; i++) {
    if (perms & LLM_TOOL_FILES) {
      if (i < N_FILE_ACCESS) continue; /* the File-Access words, INCLUDED: allowed */
      ref[k] = (struct refusal){r, file_words[i],
                                "not part of the forth tool (it has the File-Access words)"};
    } else {
      ref[k] = (struct refusal){r, file_words[i],
                                "not permitted: the user has not given the forth tool the files "
                                "(/tool files in CHAT, or the setting tool_files)"};
    }
    rc = forth_define(vm, file_words[i], w_refused, &ref[k++]);
  }
  for (size_t i = 0; !rc && i < sizeof net_words / sizeof *net_words; i++) {
    if (perms & LLM_TOOL_NET) {
      if (!strcmp(net_words[i], "HTTP-GET")) {
        rc = forth_define(vm, "HTTP-GET", w_http_get, r);
        continue;
      }
      ref[k] = (struct refusal){r, net_words[i],
                                "not part of the forth tool (its network word is HTTP-GET)"};
    } else {
      ref[k] = (struct refusal){r, net_words[i],
                                "not permitted: the user has not given the forth tool the network "
                                "(/tool network in CHAT, or the setting tool_network)"};
    }
    rc = forth_define(vm, net_words[i], w_refused, &ref[k++]);
  }
  return rc;
}

#define N_REFUSALS (sizeof file_words / sizeof *file_words + sizeof net_words / sizeof *net_words)

int llm_tool_forth(const char *code, size_t len, const struct llm_tool_limits *lim,
                   char *out, size_t cap, size_t *out_len) {
  uint64_t fuel = lim && lim->fuel ? lim->fuel : LLM_TOOL_FUEL;
  uint64_t ms = lim && lim->ms ? lim->ms : LLM_TOOL_MS;
  uint32_t perms = lim ? lim->perms : 0;
  struct run r = {code, len, 0, out, cap > 96 ? cap - 96 : cap, 0, 0, 0};
  *out_len = 0;
  struct forth_host h;
  memset(&h, 0, sizeof h);
  h.ctx = &r;
  h.alloc = vm_alloc;
  h.write = vm_write;
  h.key = vm_key;
  h.now_ms = vm_now_ms;
  if (perms & LLM_TOOL_FILES) { /* the files service's hooks (ctx unused) */
    h.open = forth_files_open;
    h.read = forth_files_read;
    h.close = forth_files_close;
    h.files = &forth_files_ops;
  }
  struct forth_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.data_bytes = 128u * 1024u;
  cfg.heap_bytes = 64u * 1024u;
  cfg.code_cells = 64u * 1024u;
  cfg.stack_cells = 256;
  cfg.rstack_cells = 256;
  cfg.calls = 1024;
  forth_vm *vm = NULL;
  int rc = forth_create(&vm, &h, &cfg);
  if (rc) return rc;
  uint64_t deadline = ktime_now() + ms * 1000000u;
  r.deadline = deadline;
  struct refusal *ref = kmalloc(N_REFUSALS * sizeof *ref);
  rc = ref ? gate(vm, &r, perms, ref) : MN_ENOMEM;
  if (rc) {
    forth_destroy(vm);
    kfree(ref);
    return MN_ENOMEM;
  }
  int st;
  const char *stop = NULL;
  for (;;) {
    st = forth_run(vm, SLICE);
    if (st == FORTH_DONE || st < 0 || st == MN_EINVAL) break;
    if (forth_fuel_used(vm) >= fuel) {
      stop = "fuel";
      break;
    }
    uint64_t now = ktime_now();
    if (now >= deadline) {
      stop = "time";
      break;
    }
    if (st == FORTH_WAIT) {
      /* MS: sleep until its deadline (or ours) */
      uint64_t until = forth_wait_deadline(vm);
      uint64_t until_ns = until ? until * 1000000u : now + MN_MSEC(1);
      task_sleep_until(until_ns < deadline ? until_ns : deadline);
    } else {
      task_yield();
    }
  }
  unsigned long used = forth_fuel_used(vm);
  forth_destroy(vm);
  kfree(ref);
  r.cap = cap; /* room for the closing words */
  if (r.cut) put(&r, "\n[output cut]");
  if (stop) {
    if (r.n && r.out[r.n - 1] != '\n') put(&r, "\n");
    put(&r, "error: stopped after ");
    if (*stop == 'f') {
      put_num(&r, used);
      put(&r, " steps (fuel limit)");
    } else {
      put_num(&r, ms);
      put(&r, " ms (time limit)");
    }
  } else if (st < 0) {
    put(&r, "error: ");
    put(&r, forth_throw_text(st));
  }
  *out_len = r.n;
  return 0;
}
