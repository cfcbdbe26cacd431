/*
 * task.h: the cooperative executor.
 *
 * A task is a function running on its own stack with a name. Tasks run
 * until they wait (on a waitq, a channel, a timer) or yield; the executor
 * then switches straight to the next runnable task. When none is runnable
 * it asks the platform to sleep until the next timer deadline or event.
 *
 * A task ends by returning from its function or calling task_exit(); its
 * exit code is kept until task_join() collects it (or at once if the task
 * was detached). A stack overflow is caught by a canary at the bottom of
 * every stack, checked at every switch, and by a guard page below it where
 * the platform has paging; both panic naming the task.
 */
#ifndef MNEME_TASK_H
#define MNEME_TASK_H

#include <stddef.h>
#include <stdint.h>
#include "mneme/list.h"
#include "mneme/platform.h"
#include "mneme/timer.h"
#include "mneme/waitq.h"

#define TASK_NAME_MAX 24
#define TASK_STACK_DEFAULT (8u * 1024u)
#define TASK_STACK_MIN 2048u

enum task_state {
  TASK_READY,     /* in the run queue */
  TASK_RUNNING,   /* the current task */
  TASK_WAITING,   /* on a wait queue and/or its timer */
  TASK_ZOMBIE,    /* exited, exit code not yet collected */
};

typedef int (*task_fn)(void *arg);

struct task {
  struct plat_context ctx;
  /* scheduling: owned by the executor, changed with interrupts off */
  struct list run_node;        /* run queue or a waitq's waiters */
  struct waitq *waiting_on;
  struct timer timer;          /* timeout of the current wait */
  int wake_reason;             /* result of the current wait */
  enum task_state state;
  int kill_pending;
  /* identity and accounting: read by status tools */
  uint32_t id;
  char name[TASK_NAME_MAX];
  uint64_t switches;           /* times switched in */
  uint64_t run_ns;             /* time spent running, where measured */
  struct list all_node;        /* every task, for status */
  /* life cycle */
  task_fn fn;
  void *arg;
  int exit_code;
  int detached;
  int joining;                 /* a task_join is under way */
  struct waitq joiners;
  uint8_t *stack;              /* allocation (guard page first if any) */
  size_t stack_alloc;
  uint8_t *stack_lo;           /* lowest usable byte: the canary */
  size_t stack_size;
  int guarded;
  void *user;                  /* owner's pointer (e.g. a Forth VM) */
  /* A CPU fault in this task ends it (task_fault_end): this hook, if set,
   * runs first on the task's own stack and returns the exit code. */
  int (*on_fault)(struct task *t);
  int faulted;                 /* task_fault_end has begun */
};

struct task_info {
  uint32_t id;
  char name[TASK_NAME_MAX];
  enum task_state state;
  size_t stack_size;
  size_t stack_used_max;       /* high-water mark, from untouched fill */
  uint64_t switches;
};

/*
 * Starts a task running fn(arg) with a stack of stack_size bytes
 * (0: TASK_STACK_DEFAULT). The new task runs when the current one waits
 * or yields. Returns 0 and the task in *out (may be NULL if the caller
 * will not join: the task is then detached), or MN_ENOMEM, MN_EINVAL.
 */
int task_spawn(const char *name, task_fn fn, void *arg, size_t stack_size,
               struct task **out);

/* Lets every other runnable task run once before the caller continues. */
void task_yield(void);

/* Sleeps for ns (0 yields). Returns 0, or MN_ECANCELED if killed. */
int task_sleep(uint64_t ns);
int task_sleep_until(uint64_t deadline_ns);

/*
 * Waits up to timeout_ns for t to end, stores its exit code in *code
 * (if not NULL) and frees it. Returns 0, MN_ETIMEDOUT (t still alive and
 * still joinable), MN_ECANCELED (the caller is being killed), MN_EINVAL (t
 * is the caller, detached, or being joined by another task).
 */
int task_join(struct task *t, uint64_t timeout_ns, int *code);

/* Lets t free itself when it ends (no join). */
void task_detach(struct task *t);

/* Ends the calling task with an exit code. */
_Noreturn void task_exit(int code);

/*
 * CPU faults (the platform's exception handler, after its dump): when the
 * fault happened in a task with interrupts on (not in the scheduler or
 * other critical code) and that task is not the boot task nor already
 * ending on a fault, task_fault_resumable gives the top of its stack and
 * returns 1; the handler then resumes the task at task_fault_end(code)
 * on that fresh stack, which runs its on_fault hook and exits. The rest
 * of the machine goes on. Returns 0 otherwise (the handler halts).
 */
#define TASK_EXIT_FAULT (-200) /* task_fault_end's code when no hook */
int task_fault_resumable(uintptr_t *stack_top);
_Noreturn void task_fault_end(int code);

/*
 * Asks t to end: its current and future waits return MN_ECANCELED; the
 * task is expected to unwind and exit. Returns 0 or MN_EINVAL.
 */
int task_kill(struct task *t);

struct task *task_current(void);
const char *task_state_name(enum task_state s);

/*
 * Fills up to max entries of info about live tasks (oldest first) and
 * returns how many tasks there are (which may exceed max).
 */
size_t task_list(struct task_info *info, size_t max);

/*
 * For platform fault handlers: the task whose stack guard page holds
 * addr (checks the current task), or NULL.
 */
struct task *task_guard_owner(uintptr_t addr);

/* ---- executor internals used by waitq, timer callbacks, the kernel ------ */

/* Makes a waiting task runnable with the given wait result. */
void task_wake(struct task *t, int reason);

/* Gives up the CPU; the caller has set its state (READY or WAITING). */
void task_schedule(void);

/* Sets up the executor; the caller becomes the task named "boot". */
void exec_init(void);

/* Executor counters. */
struct exec_stats {
  uint64_t switches;
  uint64_t idles;          /* times the platform was asked to sleep */
  unsigned tasks;
};
void exec_stats(struct exec_stats *out);

#endif
