/*
 * forth_words.c: the kernel words of mneme's Forth VMs.
 *
 * Interface: forth_words_install, forth_words_platform, forth_words_add,
 * forth_words_status.
 *
 * SPAWN SEND RECV JOIN KILL ME PARENT TASKS STATUS SERVICE PORT-OPEN
 * PORT-WRITE PORT-READ (forth_task.h documents their stack effects),
 * and the words the platform registered (forth_words_platform) and the
 * services added (forth_words_add: the network words). THROW codes
 * FT_E_MN(err) print mn_strerror(err).
 * A word that must wait returns FORTH_WAIT before consuming anything,
 * after naming the wait queue in ft->wq (and the queue's sequence number
 * taken before the check, so no wake is lost); the task loop waits and
 * the VM runs the word again. Words find their VM's record through
 * forth_host_ctx(), never their own ctx: SPAWNed children share the
 * parent's word headers.
 */
#include <string.h>
#include "mneme/err.h"
#include "mneme/forth_files.h"
#include "mneme/forth_task.h"
#include "mneme/heap.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/postcard.h"
#include "mneme/registry.h"
#include "mneme/sermux.h"
#include "mneme/status.h"

#define SVC_TIMEOUT MN_SEC(5)

static void (*status_hook)(struct forth_task *ft);
#define SVC_REQ_MAX 1024
#define REPLY_RING 2048
#define MAX_PORTS 8

static struct {
  uint16_t port;
  struct sermux_port *p;
} ports[MAX_PORTS];

static struct forth_task *
me(forth_vm *vm)
{
  return forth_host_ctx(vm);
}

static void
say(struct forth_task *ft, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(struct forth_task *ft, const char *fmt, ...)
{
  char b[128];
  va_list ap;
  va_start(ap, fmt);
  int n = kvsnprintf(b, sizeof b, fmt, ap);
  va_end(ap);
  forth_task_out(ft, b, n < (int)sizeof b ? (size_t)n : sizeof b - 1);
}

static void
wait_on(struct forth_task *ft, struct waitq *q, uint32_t seq, uint64_t deadline)
{
  ft->wq = q;
  ft->wseq = seq;
  ft->wdeadline = deadline;
}

/* Pops n cells into v[0..n) (v[n-1] was the top). */
static int
pop_n(forth_vm *vm, forth_cell *v, int n)
{
  if (forth_depth(vm) < n)
    return -4;
  for (int i = n - 1; i >= 0; i--)
    forth_pop(vm, &v[i]);
  return 0;
}

/* ---- tasks ------------------------------------------------------------------ */

static int
w_spawn(forth_vm *vm, void *ctx)
{
  (void)ctx;
  forth_cell xt;
  uint32_t id;
  if (forth_peek(vm, 0, &xt))
    return -4;
  int err = forth_task_spawn_child(me(vm), xt, &id);
  if (err)
    return err;
  forth_pop(vm, &xt);
  return forth_push(vm, (forth_cell)id);
}

static int
w_send(forth_vm *vm, void *ctx)
{
  (void)ctx;
  forth_cell x, id;
  if (forth_peek(vm, 0, &id) || forth_peek(vm, 1, &x))
    return -4;
  struct forth_task *t = forth_task_find((uint32_t)id);
  if (!t || t->ended || (forth_ucell)id > UINT32_MAX)
    return FT_E_NOTASK;
  uint32_t seq = waitq_seq(&t->inbox.not_full);
  int err = kchannel_try_send(&t->inbox, &x);
  if (err == MN_EAGAIN) {
    wait_on(me(vm), &t->inbox.not_full, seq, MN_FOREVER);
    return FORTH_WAIT;
  }
  if (err)
    return FT_E_NOTASK;
  forth_pop(vm, &id);
  forth_pop(vm, &x);
  return 0;
}

static int
w_recv(forth_vm *vm, void *ctx)
{
  (void)ctx;
  struct forth_task *ft = me(vm);
  forth_cell x;
  uint32_t seq = waitq_seq(&ft->inbox.not_empty);
  int err = kchannel_try_recv(&ft->inbox, &x);
  if (err == MN_EAGAIN) {
    wait_on(ft, &ft->inbox.not_empty, seq, MN_FOREVER);
    return FORTH_WAIT;
  }
  if (err)
    return FT_E_NOTASK;
  return forth_push(vm, x);
}

static int
w_join(forth_vm *vm, void *ctx)
{
  (void)ctx;
  struct forth_task *ft = me(vm);
  forth_cell id;
  if (forth_peek(vm, 0, &id))
    return -4;
  struct forth_task *t = forth_task_find((uint32_t)id);
  if (!t || t == ft || (forth_ucell)id > UINT32_MAX)
    return FT_E_NOTASK;
  if (!t->ended) {
    wait_on(ft, &t->done, waitq_seq(&t->done), MN_FOREVER);
    return FORTH_WAIT;
  }
  int code = t->parent == ft->id ? forth_task_reap(t) : t->exit_code;
  forth_pop(vm, &id);
  return forth_push(vm, code);
}

static int
w_kill(forth_vm *vm, void *ctx)
{
  (void)ctx;
  forth_cell id;
  if (forth_pop(vm, &id))
    return -4;
  struct forth_task *t = forth_task_find((uint32_t)id);
  if (!t || (forth_ucell)id > UINT32_MAX)
    return FT_E_NOTASK;
  forth_task_kill(t);
  return t == me(vm) && !(t->flags & FT_SHELL) ? -28 : 0;
}

static int
w_me(forth_vm *vm, void *ctx)
{
  (void)ctx;
  return forth_push(vm, me(vm)->id);
}

static int
w_parent(forth_vm *vm, void *ctx)
{
  (void)ctx;
  return forth_push(vm, me(vm)->parent);
}

static const char *const state_names[] = { "run", "input", "ms", "wait", "done" };

#define TASKS_MAX 64

/* A snapshot of the list first: printing may wait for output room, and
 * meanwhile other VMs may end and be freed. */
static int
w_tasks(forth_vm *vm, void *ctx)
{
  (void)ctx;
  struct forth_task *ft = me(vm);
  struct row {
    uint32_t id, parent;
    const char *state;
    uint64_t fuel, cpu_ms;
    size_t kib;
    char name[TASK_NAME_MAX];
    int self;
  } *rows = kmalloc(TASKS_MAX * sizeof *rows);
  if (!rows)
    return FT_E_NOMEM;
  size_t n = 0;
  for (struct forth_task *t = forth_task_first(); t && n < TASKS_MAX; t = t->next, n++) {
    struct row *r = &rows[n];
    r->id = t->id;
    r->parent = t->parent;
    r->state = t->ended ? "done" : t->killed ? "kill" : state_names[t->state];
    r->fuel = t->vm ? forth_fuel_used(t->vm) : t->fuel;
    r->cpu_ms = t->cpu_ns / 1000000u;
    size_t own = 0, shared = 0;
    if (t->vm)
      forth_memory(t->vm, &own, &shared);
    r->kib = (own + 1023) / 1024;
    memcpy(r->name, t->name, sizeof r->name);
    r->self = t == ft;
  }
  say(ft, "  id parent state        fuel   cpu-ms  KiB name\n");
  for (size_t i = 0; i < n; i++)
    say(ft, "%4u %6u %-5s %11llu %8llu %4zu %s%s\n", (unsigned)rows[i].id,
        (unsigned)rows[i].parent, rows[i].state, (unsigned long long)rows[i].fuel,
        (unsigned long long)rows[i].cpu_ms, rows[i].kib, rows[i].name,
        rows[i].self ? " *" : "");
  kfree(rows);
  return 0;
}

/* Uptime from the status service; the platform clock if it is not up. */
static uint64_t
uptime_ns(void)
{
  static const struct svc_type type = STATUS_TYPE;
  struct svc_client c;
  struct status_req q = { STATUS_UPTIME, 0 };
  struct status_resp r;
  struct status_err e;
  if (svc_connect(&(struct uuid)STATUS_UUID, &type, NULL, NULL, 0, &c))
    return ktime_now();
  int err = svc_call(&c, &q, &r, &e, MN_SEC(1));
  svc_disconnect(&c);
  return err ? ktime_now() : r.u.uptime_ns;
}

void (*forth_status_platform)(struct forth_task *ft);

static int
w_status(forth_vm *vm, void *ctx)
{
  (void)ctx;
  struct forth_task *ft = me(vm);
  struct heap_stats hs;
  struct exec_stats es;
  uint64_t up = uptime_ns();
  heap_stats(kmem_heap(), &hs);
  exec_stats(&es);
  say(ft, "uptime %llu.%03llu s\n", (unsigned long long)(up / 1000000000u),
      (unsigned long long)(up / 1000000u % 1000u));
  say(ft, "heap %zu KiB: %zu KiB in use, %zu KiB free (largest %zu KiB), high water %zu KiB\n",
      hs.total >> 10, hs.in_use >> 10, hs.free >> 10, hs.largest_free >> 10,
      hs.high_water >> 10);
  say(ft, "kernel tasks %zu, switches %llu, forth VMs %u\n", task_list(NULL, 0),
      (unsigned long long)es.switches, forth_task_count());
  if (forth_status_platform)
    forth_status_platform(ft);
  if (status_hook)
    status_hook(ft);
  return 0;
}

/* ---- SERVICE ---------------------------------------------------------------- */

/* Sends the request (args: req u uuid buf cap). 0 or a THROW code. */
static int
fsvc_send(struct forth_task *ft, forth_vm *vm, const forth_cell *a)
{
  if (a[1] < 0 || a[1] > SVC_REQ_MAX)
    return FT_E_SERVICE;
  const uint8_t *req = forth_mem(vm, a[0], (size_t)a[1]);
  const uint8_t *uuid = forth_mem(vm, a[2], PC_UUID_LEN);
  if ((!req && a[1]) || !uuid)
    return -9;
  if (!ft->replies) {
    ft->replies = kmalloc(sizeof *ft->replies);
    if (!ft->replies || bbq_init(ft->replies, REPLY_RING)) {
      kfree(ft->replies);
      ft->replies = NULL;
      return FT_E_NOMEM;
    }
  }
  size_t cap = (size_t)a[1] + 40;
  uint8_t *msg = kmalloc(cap);
  if (!msg)
    return FT_E_NOMEM;
  struct pc_enc e;
  pc_enc_init(&e, msg, cap);
  pc_enc_uuid(&e, uuid);
  pc_enc_u32(&e, ++ft->nonce);
  pc_enc_bytes(&e, req, (size_t)a[1]);
  int err = pc_enc_error(&e) ? MN_EINVAL : svc_user_request(msg, pc_enc_len(&e), ft->replies);
  kfree(msg);
  if (err)
    return FT_E_SERVICE;
  ft->svc_pending = 1;
  ft->svc_deadline = ktime_now() + SVC_TIMEOUT;
  return 0;
}

/* Takes our reply from the ring into buf. 1 found, 0 not yet. */
static int
fsvc_take(struct forth_task *ft, uint8_t *buf, size_t cap, size_t *n)
{
  const uint8_t *p;
  size_t len;
  while (bbq_read(ft->replies, &p, &len) == 0) {
    struct pc_dec d;
    uint32_t rlen, nonce;
    uint8_t id[PC_UUID_LEN];
    pc_dec_init(&d, p, len);
    pc_dec_u32(&d, &rlen);
    size_t hdr = len - pc_dec_remaining(&d);
    if (pc_dec_error(&d) || rlen > len - hdr) {
      bbq_release(ft->replies, len); /* cannot happen: records are whole */
      continue;
    }
    pc_dec_init(&d, p + hdr, rlen);
    pc_dec_uuid(&d, id);
    pc_dec_u32(&d, &nonce);
    size_t rest = pc_dec_remaining(&d);
    int ours = !pc_dec_error(&d) && nonce == ft->nonce;
    if (ours) {
      *n = rest < cap ? rest : cap;
      if (*n)
        memcpy(buf, p + hdr + rlen - rest, *n);
    }
    bbq_release(ft->replies, hdr + rlen);
    if (ours)
      return 1;
  }
  return 0;
}

static int
w_service(forth_vm *vm, void *ctx)
{
  (void)ctx;
  struct forth_task *ft = me(vm);
  forth_cell a[5];
  for (int i = 0; i < 5; i++)
    if (forth_peek(vm, 4 - i, &a[i]))
      return -4;
  if (a[4] < 0)
    return -24;
  uint8_t *buf = forth_mem(vm, a[3], (size_t)a[4]);
  if (!buf && a[4])
    return -9;
  if (!ft->svc_pending) {
    int err = fsvc_send(ft, vm, a);
    if (err)
      return err;
  }
  uint32_t seq = waitq_seq(&ft->replies->readable);
  size_t n;
  if (!fsvc_take(ft, buf, (size_t)a[4], &n)) {
    if (ktime_now() >= ft->svc_deadline) {
      ft->svc_pending = 0;
      return FT_E_SERVICE;
    }
    wait_on(ft, &ft->replies->readable, seq, ft->svc_deadline);
    return FORTH_WAIT;
  }
  ft->svc_pending = 0;
  pop_n(vm, a, 5);
  return forth_push(vm, (forth_cell)n);
}

/* ---- sermux ports ----------------------------------------------------------- */

static struct sermux_port *
port_of(forth_cell n)
{
  for (int i = 0; i < MAX_PORTS; i++)
    if (ports[i].p && ports[i].port == n)
      return ports[i].p;
  return NULL;
}

static int
w_port_open(forth_vm *vm, void *ctx)
{
  (void)ctx;
  forth_cell n;
  if (forth_peek(vm, 0, &n))
    return -4;
  if (n < 0 || n > 0xffff)
    return FT_E_PORT;
  if (!port_of(n)) {
    int slot = -1;
    for (int i = 0; i < MAX_PORTS && slot < 0; i++)
      if (!ports[i].p)
        slot = i;
    struct sermux_port *p;
    if (slot < 0 || sermux_open((uint16_t)n, 0, MN_SEC(1), &p))
      return FT_E_PORT;
    ports[slot].port = (uint16_t)n;
    ports[slot].p = p;
  }
  forth_pop(vm, &n);
  return 0;
}

static int
w_port_write(forth_vm *vm, void *ctx)
{
  (void)ctx;
  struct forth_task *ft = me(vm);
  forth_cell a[3];
  for (int i = 0; i < 3; i++)
    if (forth_peek(vm, 2 - i, &a[i]))
      return -4;
  struct sermux_port *p = port_of(a[2]);
  if (!p)
    return FT_E_PORT;
  if (a[1] < 0)
    return -24;
  const uint8_t *src = forth_mem(vm, a[0], (size_t)a[1]);
  if (!src && a[1])
    return -9;
  if (ft->port_off > (size_t)a[1])
    ft->port_off = 0;
  while (ft->port_off < (size_t)a[1]) {
    uint8_t *g;
    size_t room;
    uint32_t seq = waitq_seq(&p->tx.writable);
    int err = bbq_grant_max(&p->tx, (size_t)a[1] - ft->port_off, &g, &room);
    if (err == MN_EAGAIN) {
      wait_on(ft, &p->tx.writable, seq, MN_FOREVER);
      return FORTH_WAIT;
    }
    if (err)
      return FT_E_PORT;
    memcpy(g, src + ft->port_off, room);
    bbq_commit(&p->tx, room);
    ft->port_off += room;
  }
  ft->port_off = 0;
  pop_n(vm, a, 3);
  return 0;
}

static int
w_port_read(forth_vm *vm, void *ctx)
{
  (void)ctx;
  struct forth_task *ft = me(vm);
  forth_cell a[3];
  for (int i = 0; i < 3; i++)
    if (forth_peek(vm, 2 - i, &a[i]))
      return -4;
  struct sermux_port *p = port_of(a[2]);
  if (!p)
    return FT_E_PORT;
  if (a[1] < 0)
    return -24;
  uint8_t *dst = forth_mem(vm, a[0], (size_t)a[1]);
  if (!dst && a[1])
    return -9;
  const uint8_t *g;
  size_t len, n = 0;
  uint32_t seq = waitq_seq(&p->rx.readable);
  int err = bbq_read(&p->rx, &g, &len);
  if (err == MN_EAGAIN) {
    wait_on(ft, &p->rx.readable, seq, MN_FOREVER);
    return FORTH_WAIT;
  }
  if (!err) {
    n = len < (size_t)a[1] ? len : (size_t)a[1];
    if (n)
      memcpy(dst, g, n);
    bbq_release(&p->rx, n);
  }
  pop_n(vm, a, 3);
  return forth_push(vm, (forth_cell)n);
}

static const struct forth_task_word *plat_words;
static size_t plat_nwords;
static unsigned words_gen;

unsigned
forth_words_generation(void)
{
  return words_gen;
}
static struct {
  const struct forth_task_word *w;
  size_t n;
} extra[12];

int
forth_words_add(const struct forth_task_word *w, size_t n)
{
  for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
    if (!extra[i].w) {
      extra[i].w = w;
      extra[i].n = n;
      words_gen++;
      return 0;
    }
  }
  return MN_ENOSPC;
}

void
forth_words_status(void (*fn)(struct forth_task *ft))
{
  status_hook = fn;
}

static const char *
mn_throw_text(int code)
{
  return code < -1000 && code > -1100 ? mn_strerror(code + 1000) : NULL;
}

void
forth_words_platform(const struct forth_task_word *w, size_t n)
{
  plat_words = w;
  plat_nwords = n;
  words_gen++;
}

int
forth_words_install(struct forth_task *ft)
{
  static const struct {
    const char *name;
    forth_hostfn fn;
  } words[] = {
    { "SPAWN", w_spawn }, { "SEND", w_send }, { "RECV", w_recv },
    { "JOIN", w_join }, { "KILL", w_kill }, { "ME", w_me },
    { "PARENT", w_parent }, { "TASKS", w_tasks }, { "STATUS", w_status },
    { "SERVICE", w_service }, { "PORT-OPEN", w_port_open },
    { "PORT-WRITE", w_port_write }, { "PORT-READ", w_port_read },
  };
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (forth_define(ft->vm, words[i].name, words[i].fn, NULL))
      return MN_ENOMEM;
  if (forth_files_install(ft) || forth_clock_install(ft))
    return MN_ENOMEM;
  for (size_t i = 0; i < plat_nwords; i++)
    if (forth_define(ft->vm, plat_words[i].name, plat_words[i].fn, NULL))
      return MN_ENOMEM;
  for (size_t k = 0; k < sizeof extra / sizeof extra[0]; k++)
    for (size_t i = 0; i < extra[k].n; i++)
      if (forth_define(ft->vm, extra[k].w[i].name, extra[k].w[i].fn, NULL))
        return MN_ENOMEM;
  forth_set_throw_text(mn_throw_text);
  return 0;
}
