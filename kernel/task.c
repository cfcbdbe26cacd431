/*
 * task.c: the cooperative executor.
 *
 * Interface: exec_init, exec_stats, task_spawn, task_yield, task_sleep,
 * task_sleep_until, task_join, task_detach, task_exit, task_kill,
 * task_current, task_state_name, task_list, task_wake, task_schedule,
 * task_fault_resumable, task_fault_end.
 *
 * One run queue, FIFO. A task that waits sets its state and calls
 * task_schedule(), which switches directly to the next ready task; if
 * there is none, it fires due timers and asks the platform to sleep until
 * the next deadline or event, on the stack of the task that is giving up
 * the CPU. Timers are also checked every TIMER_CHECK_EVERY switches and
 * host events polled every POLL_EVERY switches, so busy tasks cannot
 * starve sleepers or devices.
 *
 * Stacks: [guard page][canary ... stack ... top]. Each new stack is filled
 * with a pattern so status tools can report a high-water mark. The canary
 * is checked whenever the task is switched out.
 *
 * The run queue and task states are changed with interrupts off, since
 * interrupt handlers may wake tasks.
 */
#include <stdint.h>
#include <string.h>
#include "mneme/err.h"
#include "mneme/kmem.h"
#include "mneme/ktime.h"
#include "mneme/log.h"
#include "mneme/task.h"

#define CANARY 0x6d6e656d65c0ffeeull
#define FILL 0xa5
#define PAGE 4096u
#define GUARD_MIN_STACK (16u * 1024u)
#define TIMER_CHECK_EVERY 16u
#define POLL_EVERY 256u

static struct {
  struct list runq;
  struct list all;
  struct task *current;
  struct task boot;
  struct task *reap;        /* exited detached task to free once off its stack */
  uint32_t next_id;
  unsigned ntasks;
  uint64_t switches, idles;
  unsigned tick;
} ex;

static const char *const state_names[] = { "ready", "running", "waiting", "zombie" };

const char *
task_state_name(enum task_state s)
{
  return (unsigned)s < 4 ? state_names[s] : "?";
}

struct task *
task_current(void)
{
  return ex.current;
}

static void
set_name(struct task *t, const char *name)
{
  size_t i = 0;
  for (; name && name[i] && i < TASK_NAME_MAX - 1; i++)
    t->name[i] = name[i];
  t->name[i] = '\0';
}

static void
on_timeout(struct timer *tm)
{
  struct task *t = list_entry(tm, struct task, timer);
  if (t->state == TASK_WAITING)
    task_wake(t, MN_ETIMEDOUT);
}

static void
task_common_init(struct task *t, const char *name)
{
  list_init(&t->run_node);
  list_init(&t->all_node);
  timer_init(&t->timer, on_timeout);
  waitq_init(&t->joiners);
  t->id = ex.next_id++;
  set_name(t, name);
  list_push_back(&ex.all, &t->all_node);
  ex.ntasks++;
}

void
exec_init(void)
{
  list_init(&ex.runq);
  list_init(&ex.all);
  ex.next_id = 0;
  ex.ntasks = 0;
  ex.switches = ex.idles = 0;
  ex.reap = 0;
  memset(&ex.boot, 0, sizeof ex.boot);
  task_common_init(&ex.boot, "boot");
  ex.boot.state = TASK_RUNNING;
  ex.boot.detached = 1;
  ex.current = &ex.boot;
  timer_wheel_init(plat_now_ns());
}

void
exec_stats(struct exec_stats *out)
{
  out->switches = ex.switches;
  out->idles = ex.idles;
  out->tasks = ex.ntasks;
}

/* ---- stacks -------------------------------------------------------------- */

static void
free_task(struct task *t)
{
  list_remove(&t->all_node);
  ex.ntasks--;
  plat_context_destroy(&t->ctx);
  if (t->guarded)
    plat_stack_guard(t->stack, PAGE, 0);
  kfree(t->stack);
  kfree(t);
}

static int
alloc_stack(struct task *t, size_t size)
{
  size = (size + 15) & ~(size_t)15;
  int want_guard = size >= GUARD_MIN_STACK;
  if (want_guard) {
    t->stack = kmalloc_aligned(size + PAGE, PAGE);
    if (t->stack && plat_stack_guard(t->stack, PAGE, 1) == 0) {
      t->guarded = 1;
      t->stack_lo = t->stack + PAGE;
      t->stack_alloc = size + PAGE;
    } else if (t->stack) {
      t->stack_lo = t->stack;
      t->stack_alloc = size + PAGE;
      size += PAGE;
    }
  } else {
    t->stack = kmalloc_aligned(size, 16);
    t->stack_lo = t->stack;
    t->stack_alloc = size;
  }
  if (!t->stack)
    return MN_ENOMEM;
  t->stack_size = size;
  memset(t->stack_lo, FILL, size);
  memcpy(t->stack_lo, &(uint64_t){ CANARY }, sizeof(uint64_t));
  return 0;
}

static void
check_canary(struct task *t)
{
  uint64_t c;
  if (!t->stack_lo)
    return;
  memcpy(&c, t->stack_lo, sizeof c);
  if (c != CANARY)
    panic("stack overflow in task '%s' (stack %zu bytes)", t->name, t->stack_size);
}

/* ---- switching ----------------------------------------------------------- */

static void
switch_to(struct task *next)
{
  struct task *prev = ex.current;
  check_canary(prev);
  ex.current = next;
  next->state = TASK_RUNNING;
  next->switches++;
  ex.switches++;
  plat_context_switch(&prev->ctx, &next->ctx);
  /* Running as prev again. */
  if (ex.reap && ex.reap != ex.current) {
    free_task(ex.reap);
    ex.reap = 0;
  }
}

static struct task *
pop_ready(void)
{
  struct list *n = list_pop_front(&ex.runq);
  return n ? list_entry(n, struct task, run_node) : 0;
}

void
task_schedule(void)
{
  struct task *next;
  unsigned long irq = plat_irq_save();
  ex.tick++;
  if (timer_count() && (ex.tick % TIMER_CHECK_EVERY) == 0)
    timer_advance(plat_now_ns());
  if (ex.tick % POLL_EVERY == 0) {
    plat_irq_restore(irq);
    plat_wait_event(0);
    irq = plat_irq_save();
  }
  while ((next = pop_ready()) == 0) {
    if (timer_count())
      timer_advance(plat_now_ns());
    if ((next = pop_ready()) != 0)
      break;
    ex.idles++;
    plat_irq_restore(irq);
    plat_wait_event(timer_next_deadline());
    irq = plat_irq_save();
  }
  if (next != ex.current)
    switch_to(next);
  else
    next->state = TASK_RUNNING;
  plat_irq_restore(irq);
}

void
task_wake(struct task *t, int reason)
{
  unsigned long irq = plat_irq_save();
  if (t->state == TASK_WAITING) {
    if (t->waiting_on) {
      list_remove(&t->run_node);
      t->waiting_on = 0;
    }
    t->wake_reason = reason;
    t->state = TASK_READY;
    list_push_back(&ex.runq, &t->run_node);
  }
  plat_irq_restore(irq);
}

/* ---- life cycle ---------------------------------------------------------- */

static void
task_entry(void)
{
  if (ex.reap && ex.reap != ex.current) {
    free_task(ex.reap);
    ex.reap = 0;
  }
  struct task *t = ex.current;
  task_exit(t->fn(t->arg));
}

int
task_spawn(const char *name, task_fn fn, void *arg, size_t stack_size,
           struct task **out)
{
  if (!fn)
    return MN_EINVAL;
  if (stack_size == 0)
    stack_size = TASK_STACK_DEFAULT;
  if (stack_size < TASK_STACK_MIN)
    stack_size = TASK_STACK_MIN;
  if (stack_size > SIZE_MAX / 8) /* no heap holds it; the sums below would wrap */
    return MN_ENOMEM;
#ifdef __SANITIZE_ADDRESS__
  stack_size *= 4; /* instrumented frames are several times larger */
#endif
  struct task *t = kzalloc(sizeof *t);
  if (!t)
    return MN_ENOMEM;
  if (alloc_stack(t, stack_size) != 0) {
    kfree(t);
    return MN_ENOMEM;
  }
  t->fn = fn;
  t->arg = arg;
  t->detached = out == 0;
  plat_context_init(&t->ctx, t->stack_lo, t->stack_size, task_entry);
  unsigned long irq = plat_irq_save();
  task_common_init(t, name);
  t->state = TASK_READY;
  list_push_back(&ex.runq, &t->run_node);
  plat_irq_restore(irq);
  if (out)
    *out = t;
  return 0;
}

void
task_exit(int code)
{
  struct task *t = ex.current;
  if (t == &ex.boot)
    panic("the boot task cannot exit");
  unsigned long irq = plat_irq_save();
  timer_cancel(&t->timer);
  t->exit_code = code;
  t->state = TASK_ZOMBIE;
  waitq_wake_all(&t->joiners);
  if (t->detached) {
    if (ex.reap)
      free_task(ex.reap);
    ex.reap = t;
  }
  plat_irq_restore(irq);
  task_schedule();
  panic("zombie task '%s' was scheduled", t->name);
}

int
task_fault_resumable(uintptr_t *stack_top)
{
  struct task *t = ex.current;
  if (!t || t == &ex.boot || t->faulted || t->state != TASK_RUNNING || !t->stack_lo)
    return 0;
  *stack_top = (uintptr_t)(t->stack_lo + t->stack_size);
  return 1;
}

void
task_fault_end(int code)
{
  struct task *t = ex.current;
  t->faulted = 1;
  /* the stack starts afresh: an overflow may have hit the canary */
  memcpy(t->stack_lo, &(uint64_t){ CANARY }, sizeof(uint64_t));
  if (t->on_fault)
    code = t->on_fault(t);
  task_exit(code);
}

void
task_yield(void)
{
  unsigned long irq = plat_irq_save();
  struct task *t = ex.current;
  t->state = TASK_READY;
  list_push_back(&ex.runq, &t->run_node);
  plat_irq_restore(irq);
  task_schedule();
}

int
task_sleep_until(uint64_t deadline_ns)
{
  struct task *t = ex.current;
  if (t->kill_pending)
    return MN_ECANCELED;
  unsigned long irq = plat_irq_save();
  t->state = TASK_WAITING;
  t->waiting_on = 0;
  t->wake_reason = 0;
  timer_arm(&t->timer, deadline_ns);
  plat_irq_restore(irq);
  task_schedule();
  timer_cancel(&t->timer);
  return t->wake_reason == MN_ECANCELED ? MN_ECANCELED : 0;
}

int
task_sleep(uint64_t ns)
{
  if (ns == 0) {
    task_yield();
    return ex.current->kill_pending ? MN_ECANCELED : 0;
  }
  return task_sleep_until(ktime_deadline(ns));
}

int
task_join(struct task *t, uint64_t timeout_ns, int *code)
{
  if (!t || t == ex.current || t->detached || t->joining)
    return MN_EINVAL;
  uint64_t deadline = ktime_deadline(timeout_ns);
  t->joining = 1; /* the join frees t: no second joiner may hold it */
  while (t->state != TASK_ZOMBIE) {
    int err = waitq_wait_until(&t->joiners, deadline);
    if (err && t->state != TASK_ZOMBIE) {
      t->joining = 0;
      return err;
    }
  }
  if (code)
    *code = t->exit_code;
  free_task(t);
  return 0;
}

void
task_detach(struct task *t)
{
  if (t->state == TASK_ZOMBIE)
    free_task(t);
  else
    t->detached = 1;
}

int
task_kill(struct task *t)
{
  if (!t || t == &ex.boot || t->state == TASK_ZOMBIE)
    return MN_EINVAL;
  t->kill_pending = 1;
  task_wake(t, MN_ECANCELED);
  return 0;
}

struct task *
task_guard_owner(uintptr_t addr)
{
  struct task *t = ex.current;
  if (t && t->guarded && addr >= (uintptr_t)t->stack && addr < (uintptr_t)t->stack_lo)
    return t;
  return 0;
}

static size_t
stack_high_water(const struct task *t)
{
  if (!t->stack_lo)
    return 0;
  size_t i = sizeof(uint64_t);
  while (i < t->stack_size && t->stack_lo[i] == FILL)
    i++;
  return t->stack_size - i;
}

size_t
task_list(struct task_info *info, size_t max)
{
  size_t n = 0;
  for (struct list *l = ex.all.next; l != &ex.all; l = l->next, n++) {
    if (n >= max)
      continue;
    struct task *t = list_entry(l, struct task, all_node);
    info[n].id = t->id;
    memcpy(info[n].name, t->name, TASK_NAME_MAX);
    info[n].state = t->state;
    info[n].stack_size = t->stack_size;
    info[n].stack_used_max = stack_high_water(t);
    info[n].switches = t->switches;
  }
  return n;
}
