/*
 * llm_tool.c: the `forth` tool the remote models may call (LLM_TOOLS).
 *
 * The code the model sent runs in a fresh Forth VM made for the call and
 * destroyed after it: the standard words only (no SPAWN, SERVICE, ports,
 * network or file words: the VM's host gives it no files and no kernel
 * words), its own small data space, the code as its terminal input then
 * the end of input (so QUIT ends when the code is done). It runs in the
 * calling task in slices, yielding between them, so the rest of the
 * kernel keeps running; it stops when it used its fuel (threaded steps)
 * or its time. What it printed is the result (an uncaught THROW is
 * printed by QUIT in words, "... (THROW -n)"); a stop adds a line saying
 * why.
 *
 * Interface: llm_tool_forth.
 */
#include <string.h>

#include "mneme/err.h"
#include "mneme/forth.h"
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
};

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

int llm_tool_forth(const char *code, size_t len, const struct llm_tool_limits *lim,
                   char *out, size_t cap, size_t *out_len) {
  uint64_t fuel = lim && lim->fuel ? lim->fuel : LLM_TOOL_FUEL;
  uint64_t ms = lim && lim->ms ? lim->ms : LLM_TOOL_MS;
  struct run r = {code, len, 0, out, cap > 96 ? cap - 96 : cap, 0, 0};
  *out_len = 0;
  struct forth_host h;
  memset(&h, 0, sizeof h);
  h.ctx = &r;
  h.alloc = vm_alloc;
  h.write = vm_write;
  h.key = vm_key;
  h.now_ms = vm_now_ms;
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
