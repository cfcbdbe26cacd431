/*
 * forth_task.c: Forth VMs as kernel tasks.
 *
 * Interface: forth_task_create, forth_task_run, forth_task_destroy,
 * forth_task_default_config, forth_task_count, forth_task_find,
 * forth_task_first, forth_task_out, forth_task_echo,
 * forth_task_spawn_child, forth_task_kill, forth_task_reap.
 *
 * The task loop: pull input (watching for Ctrl-C), run the VM for
 * FT_FUEL steps, flush its output, then yield (fuel spent) or wait (the
 * VM said FORTH_WAIT: for input, an MS deadline, or the wait queue a
 * kernel word named in ft->wq). Waits other than input and MS also wake
 * every 50 ms to look for a Ctrl-C, since a task waits on one queue.
 *
 * Output collects in a small buffer and goes to the `out` ring when full
 * and after every slice; while the ring is full the task waits for room
 * and still notices a Ctrl-C (then drops the rest of the slice's output).
 * Several VMs may write one ring (a shell and its children): tasks are
 * cooperative and a grant is committed before the task can switch, so
 * the ring's single-producer rule holds.
 *
 * Children (SPAWN) run in their own task; when one ends its VM is freed
 * at once and a small record (its exit code) stays until its parent
 * JOINs it or ends. A parent that ends kills its running children, which
 * then free themselves.
 */
#include <string.h>
#include "mneme/config.h"
#include "mneme/err.h"
#include "mneme/forth_files.h"
#include "mneme/forth_task.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/wallclock.h"

#define POLL_NS MN_MSEC(50)

static struct forth_task *all;
static uint32_t next_id = 1;

/* The configured sizes ([services.forth_shells]; these are its defaults). */
static struct {
  uint32_t data_bytes, heap_bytes;
  uint16_t stack_cells, rstack_cells, child_stack_cells, child_rstack_cells;
} sizes = { 32u << 10, 32u << 10, 256, 256, 128, 128 };

void
forth_task_configure(const struct mn_config_service *s)
{
  if (!s || s->kind != MN_SVC_FORTH_SHELLS)
    return;
  sizes.data_bytes = s->u.forth_shells.data_bytes;
  sizes.heap_bytes = s->u.forth_shells.heap_bytes;
  sizes.stack_cells = s->u.forth_shells.stack_cells;
  sizes.rstack_cells = s->u.forth_shells.rstack_cells;
  sizes.child_stack_cells = s->u.forth_shells.child_stack_cells;
  sizes.child_rstack_cells = s->u.forth_shells.child_rstack_cells;
}

void
forth_task_default_config(struct forth_config *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->data_bytes = sizes.data_bytes;
  cfg->heap_bytes = sizes.heap_bytes;
  cfg->code_cells = 1u << 20; /* a limit: chunks are allocated as needed */
  cfg->stack_cells = sizes.stack_cells;
  cfg->rstack_cells = sizes.rstack_cells;
  cfg->calls = 512;
  cfg->locals_cells = 128;
  cfg->fstack_cells = 32;
  cfg->code_chunk_cells = 512;
  cfg->interactive = 1;
}

/* A SPAWNed child: small stacks; it shares its parent's dictionary and
 * data space (copy-on-write), so its own part is these and its struct. */
void
forth_task_child_config(struct forth_config *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->code_chunk_cells = 512;
  cfg->stack_cells = sizes.child_stack_cells;
  cfg->rstack_cells = sizes.child_rstack_cells;
  cfg->calls = 256;
  cfg->locals_cells = 64;
  cfg->fstack_cells = 16;
}

unsigned
forth_task_count(void)
{
  unsigned n = 0;
  for (struct forth_task *t = all; t; t = t->next)
    n += !t->ended;
  return n;
}

struct forth_task *
forth_task_first(void)
{
  return all;
}

struct forth_task *
forth_task_find(uint32_t id)
{
  for (struct forth_task *t = all; t; t = t->next)
    if (t->id == id)
      return t;
  return NULL;
}

/* ---- host callbacks --------------------------------------------------------- */

static void *
ft_alloc(void *ctx, void *old, size_t osz, size_t nsz)
{
  (void)ctx;
  (void)osz;
  if (!nsz) {
    kfree(old);
    return NULL;
  }
  return old ? krealloc(old, nsz) : kmalloc(nsz);
}

static uint64_t
ft_now_ms(void *ctx)
{
  (void)ctx;
  return ktime_now() / 1000000u;
}

/* TIME&DATE's clock: the time service (UTC; an unset clock still says
 * what it reads). */
static int64_t
ft_epoch_s(void *ctx)
{
  (void)ctx;
  int64_t t = 0;
  wallclock_now(&t);
  return t;
}

/* Drops pending input and makes the VM throw -28. */
static void
interrupt(struct forth_task *ft)
{
  if (ft->vm && !ft->booting) /* the boot text always completes */
    forth_interrupt(ft->vm);
  ft->line_len = ft->line_pos = 0;
  if (ft->ed)
    lineedit_cancel(ft->ed);
  ft->svc_pending = 0;
  ft->port_off = 0;
  if (ft->running)
    ft->discard = 1;
}

/* Without consuming other input: finds a Ctrl-C in the input ring, drops
 * everything up to it and interrupts. */
static void
scan_ctrl_c(struct forth_task *ft)
{
  const uint8_t *p;
  size_t len;
  if (!ft->in || ft->in_eof || bbq_read(ft->in, &p, &len))
    return;
  size_t i = len;
  while (i && p[i - 1] != 3)
    i--;
  bbq_release(ft->in, i);
  if (i)
    interrupt(ft);
}

/* Writes the output buffer to the out ring; may wait for room if
 * can_wait (never while pulling input: echo must not recurse). */
static void
flush(struct forth_task *ft, int can_wait)
{
  size_t off = 0;
  while (off < ft->olen && ft->out && !ft->discard && !ft->killed) {
    uint8_t *g;
    size_t room;
    uint32_t seq = waitq_seq(&ft->out->writable);
    int err = bbq_grant_max(ft->out, ft->olen - off, &g, &room);
    if (!err) {
      memcpy(g, ft->obuf + off, room);
      bbq_commit(ft->out, room);
      off += room;
      continue;
    }
    if (err != MN_EAGAIN || !can_wait)
      break;
    waitq_wait_seq(&ft->out->writable, seq, ktime_now() + POLL_NS);
    scan_ctrl_c(ft);
  }
  if (off < ft->olen && !can_wait && !ft->discard && !ft->killed) {
    memmove(ft->obuf, ft->obuf + off, ft->olen - off); /* try later */
    ft->olen -= off;
    return;
  }
  ft->olen = 0;
}

static void
put(struct forth_task *ft, const char *s, size_t n, int can_wait)
{
  if (ft->booting || ft->discard || !ft->out)
    return;
  for (size_t i = 0; i < n; i++) {
    if (ft->olen + 2 > FT_OBUF) {
      flush(ft, can_wait);
      if (ft->olen + 2 > FT_OBUF)
        return; /* echo into a full ring: dropped */
    }
    if (s[i] == '\n' && (ft->flags & FT_CRLF))
      ft->obuf[ft->olen++] = '\r';
    ft->obuf[ft->olen++] = s[i];
  }
}

void
forth_task_out(struct forth_task *ft, const char *s, size_t n)
{
  put(ft, s, n, 1);
}

void
forth_task_flush(struct forth_task *ft)
{
  flush(ft, 1);
}

void
forth_task_echo(void *ctx, const char *s, size_t n)
{
  put(ctx, s, n, 0);
}

static void
ft_write(void *ctx, const char *s, size_t n)
{
  put(ctx, s, n, 1);
}

/* Moves input from the ring into the line buffer, through the editor. */
static void
pump(struct forth_task *ft)
{
  while (ft->in && !ft->in_eof) {
    const uint8_t *p;
    size_t len, used = 0, fed = 0;
    int nl = 0;
    ft->in_seq = waitq_seq(&ft->in->readable);
    int err = bbq_read(ft->in, &p, &len);
    if (err == MN_ECLOSED)
      ft->in_eof = 1;
    if (err)
      return;
    while (used < len) {
      uint8_t b = p[used];
      if (b == 3) {
        used++;
        interrupt(ft);
        continue;
      }
      if (ft->ed) {
        if (ft->line_pos < ft->line_len)
          break; /* the VM has not taken the last line yet */
        nl |= b == '\n' || b == '\r';
        used++;
        fed++;
        if (lineedit_feed(ft->ed, b)) {
          ft->line_len = lineedit_take(ft->ed, ft->line, sizeof ft->line);
          ft->line_pos = 0;
        }
      } else {
        if (ft->line_pos == ft->line_len)
          ft->line_pos = ft->line_len = 0;
        if (ft->line_len == sizeof ft->line)
          break;
        ft->line[ft->line_len++] = (char)b;
        used++;
      }
    }
    if (ft->ed && used == len)
      lineedit_burst(ft->ed, fed, nl);
    bbq_release(ft->in, used);
    if (used < len) {
      scan_ctrl_c(ft);
      return;
    }
  }
}

static int
ft_key(void *ctx)
{
  struct forth_task *ft = ctx;
  if (ft->boot_pos < ft->boot_len)
    return (uint8_t)ft->boot[ft->boot_pos++];
  if (ft->booting) {
    ft->booting = 0;
    ft->olen = 0;
  }
  if (ft->line_pos >= ft->line_len)
    pump(ft);
  if (ft->line_pos < ft->line_len)
    return (uint8_t)ft->line[ft->line_pos++];
  if (!ft->in || ft->in_eof) {
    ft->saw_eof = 1;
    return FORTH_KEY_EOF;
  }
  ft->state = FT_WAIT_INPUT;
  return FORTH_KEY_WAIT;
}

/* KEY?: a byte is ready if a line is waiting (or comes with the input
 * that is there now). */
static int
ft_key_ready(void *ctx)
{
  struct forth_task *ft = ctx;
  if (ft->boot_pos < ft->boot_len)
    return 1;
  if (ft->line_pos >= ft->line_len)
    pump(ft);
  return ft->line_pos < ft->line_len || !ft->in || ft->in_eof;
}

static void
host_of(struct forth_task *ft, struct forth_host *h)
{
  memset(h, 0, sizeof *h);
  h->ctx = ft;
  h->alloc = ft_alloc;
  h->write = ft_write;
  h->key = ft_key;
  h->key_ready = ft_key_ready;
  h->now_ms = ft_now_ms;
  h->epoch_s = ft_epoch_s;
  h->open = forth_files_open;
  h->read = forth_files_read;
  h->close = forth_files_close;
  h->files = &forth_files_ops;
}

/* ---- life cycle ------------------------------------------------------------- */

/* Fills the fields every VM record has and links it. */
static int
init_record(struct forth_task *ft, const char *name)
{
  if (kchannel_init(&ft->inbox, sizeof(forth_cell), FT_INBOX))
    return MN_ENOMEM;
  waitq_init(&ft->done);
  ft->id = next_id++;
  ksnprintf(ft->name, sizeof ft->name, "%s", name);
  ft->next = all;
  all = ft;
  return 0;
}

static void
unlink_record(struct forth_task *ft)
{
  for (struct forth_task **p = &all; *p; p = &(*p)->next)
    if (*p == ft) {
      *p = ft->next;
      return;
    }
}

/* ---- the shells' base image ---------------------------------------------- */

/* One VM made once with the kernel words and the shells' boot text, never
 * run after; every shell is a SPAWN of it running QUIT, so the built-in
 * dictionary (headers, code, data) exists once, shared copy-on-write.
 * Made again (the old one freed once its shells are gone) when words were
 * added since. */
static struct forth_task base_ft;
static unsigned base_gen;

static void
base_write(void *ctx, const char *s, size_t n)
{
  (void)ctx;
  klog(LOG_WARN, "forth base: %.*s", (int)n, s); /* the boot text's errors */
}

static int
base_key(void *ctx)
{
  struct forth_task *ft = ctx;
  return ft->boot_pos < ft->boot_len ? (uint8_t)ft->boot[ft->boot_pos++] : FORTH_KEY_EOF;
}

static forth_vm *
shell_base(const struct forth_task_opts *o)
{
  if (base_ft.vm && base_gen == forth_words_generation())
    return base_ft.vm;
  forth_destroy(base_ft.vm); /* its shells keep what they share */
  memset(&base_ft, 0, sizeof base_ft);
  struct forth_host h;
  host_of(&base_ft, &h);
  h.write = base_write;
  h.key = base_key;
  h.key_ready = NULL;
  struct forth_config cfg = o->cfg;
  cfg.interactive = 0;
  base_ft.boot = o->boot;
  base_ft.boot_len = o->boot ? o->boot_len : 0;
  base_gen = forth_words_generation();
  int r;
  if (forth_create(&base_ft.vm, &h, &cfg))
    return NULL;
  if (forth_words_install(&base_ft)) {
    forth_destroy(base_ft.vm);
    base_ft.vm = NULL;
    return NULL;
  }
  do
    r = forth_run(base_ft.vm, 1L << 20);
  while (r == FORTH_YIELD);
  return base_ft.vm;
}

int
forth_task_create(const struct forth_task_opts *o, struct forth_task **out)
{
  struct forth_task *ft = kzalloc(sizeof *ft);
  if (!ft)
    return MN_ENOMEM;
  struct forth_host h;
  host_of(ft, &h);
  ft->in = o->in;
  ft->out = o->out;
  ft->ed = o->ed;
  ft->flags = o->flags;
  if (o->flags & FT_SHELL) { /* a SPAWN of the base image running QUIT */
    forth_vm *base = shell_base(o);
    if (!base || forth_spawn_sized(base, forth_find(base, "QUIT"), &h, &o->cfg, &ft->vm)) {
      kfree(ft);
      return MN_ENOMEM;
    }
    if (init_record(ft, o->name)) {
      forth_destroy(ft->vm);
      kfree(ft);
      return MN_ENOMEM;
    }
    *out = ft;
    return 0;
  }
  ft->boot = o->boot;
  ft->boot_len = o->boot ? o->boot_len : 0;
  ft->booting = ft->boot_len > 0;
  if (forth_create(&ft->vm, &h, &o->cfg)) {
    kfree(ft);
    return MN_ENOMEM;
  }
  if (forth_words_install(ft) || init_record(ft, o->name)) {
    forth_destroy(ft->vm);
    kfree(ft);
    return MN_ENOMEM;
  }
  *out = ft;
  return 0;
}

/* Waits for whatever the VM said it waits for. */
static void
wait_event(struct forth_task *ft)
{
  uint64_t now = ktime_now(), dl = MN_FOREVER;
  uint64_t ms = forth_wait_deadline(ft->vm);
  int input = ft->in && !ft->in_eof;
  if (ms) {
    dl = ms * 1000000u;
    ft->state = FT_WAIT_MS;
  }
  if (ft->wq) {
    ft->state = FT_WAIT_OTHER;
    if (ft->wdeadline < dl)
      dl = ft->wdeadline;
    if (input && dl > now + POLL_NS)
      dl = now + POLL_NS;
    waitq_wait_seq(ft->wq, ft->wseq, dl);
  } else if (input) {
    if (ft->state == FT_WAIT_INPUT && bbq_used(ft->in))
      return; /* the editor holds back no line: more bytes to read */
    waitq_wait_seq(&ft->in->readable, ft->in_seq, dl);
  } else if (dl != MN_FOREVER) {
    task_sleep_until(dl);
  } else {
    task_sleep(POLL_NS); /* nothing can wake it: do not spin */
  }
}

static void finish(struct forth_task *ft);
static void free_record(struct forth_task *ft);
static void drop_children(struct forth_task *ft);

/* A CPU fault in the VM's task (task_fault_end, on a fresh stack): the
 * VM ends here. A child's joiner gets FT_E_FAULT; a shell session ends
 * (its console starts a new one on the next input). */
static int
ft_on_fault(struct task *t)
{
  struct forth_task *ft = t->user;
  static const char msg[] = "\r\n*** CPU fault: this VM ends (its joiner sees THROW -304)\r\n";
  forth_task_out(ft, msg, sizeof msg - 1);
  flush(ft, 1);
  ft->running = 0;
  ft->state = FT_DONE;
  ft->exit_code = FT_E_FAULT;
  if (ft->flags & FT_SHELL) {
    struct lineedit *ed = ft->ed;
    forth_task_destroy(ft);
    kfree(ed);
    return 0;
  }
  drop_children(ft);
  finish(ft);
  if (ft->orphan)
    free_record(ft);
  return FT_E_FAULT;
}

int
forth_task_run(struct forth_task *ft)
{
  ft->task = task_current();
  ft->task->user = ft;
  ft->task->on_fault = ft_on_fault;
  while (!ft->killed) {
    pump(ft);
    ft->wq = NULL;
    ft->state = FT_RUN;
    ft->running = 1;
    uint64_t t0 = ktime_now();
    int r = forth_run(ft->vm, FT_FUEL);
    ft->cpu_ns += ktime_now() - t0;
    ft->running = 0;
    flush(ft, 1);
    ft->discard = 0;
    if (r == FORTH_YIELD) {
      ft->slices++;
      task_yield();
    } else if (r == FORTH_WAIT) {
      wait_event(ft);
    } else {
      break;
    }
  }
  ft->state = FT_DONE;
  ft->fuel = forth_fuel_used(ft->vm);
  ft->exit_code = ft->killed ? -1 : (int)forth_errors(ft->vm);
  return ft->exit_code;
}

/* Marks ft ended: frees the VM, wakes JOINers and senders. */
static void
finish(struct forth_task *ft)
{
  forth_destroy(ft->vm);
  ft->vm = NULL;
  ft->ended = 1;
  kchannel_close(&ft->inbox);
  waitq_wake_all(&ft->done);
}

static void
free_record(struct forth_task *ft)
{
  unlink_record(ft);
  kchannel_destroy(&ft->inbox);
  if (ft->replies) {
    bbq_destroy(ft->replies);
    kfree(ft->replies);
  }
  kfree(ft);
}

/* Kills or reaps every child of ft. */
static void
drop_children(struct forth_task *ft)
{
  struct forth_task *c = all, *next;
  for (; c; c = next) {
    next = c->next;
    if (c->parent != ft->id || c == ft)
      continue;
    if (c->ended) {
      free_record(c);
    } else {
      c->orphan = 1;
      c->parent = 0;
      forth_task_kill(c);
    }
  }
}

void
forth_task_destroy(struct forth_task *ft)
{
  drop_children(ft);
  if (ft->vm)
    finish(ft);
  free_record(ft);
}

int
forth_task_reap(struct forth_task *ft)
{
  int code = ft->exit_code;
  free_record(ft);
  return code;
}

void
forth_task_kill(struct forth_task *ft)
{
  if (ft->ended)
    return;
  if (ft->flags & FT_SHELL) {
    interrupt(ft);
    return;
  }
  ft->killed = 1;
  if (ft->task && ft->task != task_current())
    task_kill(ft->task);
}

static int
child_main(void *arg)
{
  struct forth_task *c = arg;
  if (!c->killed)
    forth_task_run(c);
  else
    c->exit_code = -1;
  drop_children(c);
  finish(c);
  if (c->orphan)
    free_record(c);
  return 0;
}

int
forth_task_spawn_child(struct forth_task *p, forth_cell xt, uint32_t *id)
{
  struct forth_task *c = kzalloc(sizeof *c);
  if (!c)
    return FT_E_NOMEM;
  struct forth_host h;
  host_of(c, &h);
  c->out = p->out;
  c->flags = p->flags & FT_CRLF;
  c->parent = p->id;
  struct forth_config cc;
  forth_task_child_config(&cc);
  int err = forth_spawn_sized(p->vm, xt, &h, &cc, &c->vm);
  if (err) {
    kfree(c);
    return err == MN_EBUSY ? -29 : err == MN_EINVAL ? -13 : FT_E_NOMEM;
  }
  char name[TASK_NAME_MAX];
  ksnprintf(name, sizeof name, "forth-%u", (unsigned)next_id);
  if (init_record(c, name)) {
    forth_destroy(c->vm);
    kfree(c);
    return FT_E_NOMEM;
  }
  if (task_spawn(c->name, child_main, c, FT_STACK, NULL)) {
    forth_destroy(c->vm);
    c->vm = NULL;
    free_record(c);
    return FT_E_NOMEM;
  }
  *id = c->id;
  return 0;
}

int
forth_task_read_line(struct forth_task *ft, char *buf, size_t cap)
{
  for (;;) {
    if (ft->killed || ft->discard)
      return MN_ECANCELED;
    if (ft->line_pos < ft->line_len) {
      size_t n = 0;
      while (ft->line_pos < ft->line_len && n + 1 < cap) {
        char c = ft->line[ft->line_pos++];
        buf[n++] = c;
        if (c == '\n')
          break;
      }
      return (int)n;
    }
    const uint8_t *p;
    size_t len;
    if (ft->ed && ft->in && !ft->in_eof && !bbq_read(ft->in, &p, &len)) {
      const uint8_t *c = memchr(p, 3, len);
      bbq_release(ft->in, c ? (size_t)(c - p) + 1 : 0);
      if (c) {
        lineedit_cancel(ft->ed); /* Ctrl-C: the line typed so far */
        return MN_ECANCELED;
      }
    }
    pump(ft);
    if (ft->discard)
      return MN_ECANCELED; /* Ctrl-C without an editor */
    if (ft->line_pos < ft->line_len)
      continue;
    if (!ft->in || ft->in_eof)
      return MN_ECLOSED;
    flush(ft, 1);
    if (bbq_used(ft->in))
      continue; /* the editor holds no line yet: more bytes to feed */
    waitq_wait_seq(&ft->in->readable, ft->in_seq, ktime_now() + MN_SEC(1));
  }
}
