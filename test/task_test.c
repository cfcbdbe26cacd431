/*
 * task_test.c: the executor: spawn/join, yield order, sleeping, timeouts,
 * kill, stack overflow detection, status information, waiting for memory.
 */
#include <string.h>
#include "ktest.h"
#include "mneme/err.h"
#include "mneme/log.h"
#include "mneme/task.h"
#include "../platform/hosted/hosted.h"

static char trace[64];
static int ntrace;

static int
ret_arg(void *arg)
{
  return (int)(intptr_t)arg;
}

static void
test_spawn_join_exit_code(void **state)
{
  (void)state;
  struct task *t;
  int code = 0;
  assert_int_equal(task_spawn("seven", ret_arg, (void *)7, 0, &t), 0);
  assert_string_equal(t->name, "seven");
  assert_int_equal(t->state, TASK_READY);
  assert_int_equal(task_join(t, MN_FOREVER, &code), 0);
  assert_int_equal(code, 7);
}

static int
exits_early(void *arg)
{
  (void)arg;
  task_exit(42);
}

static void
test_task_exit(void **state)
{
  (void)state;
  struct task *t;
  int code = 0;
  assert_int_equal(task_spawn("x", exits_early, 0, 0, &t), 0);
  assert_int_equal(task_join(t, MN_FOREVER, &code), 0);
  assert_int_equal(code, 42);
}

static int
yielder(void *arg)
{
  for (int i = 0; i < 3; i++) {
    trace[ntrace++] = *(char *)arg;
    task_yield();
  }
  return 0;
}

static void
test_yield_round_robin(void **state)
{
  (void)state;
  struct task *a, *b, *c;
  ntrace = 0;
  task_spawn("a", yielder, "a", 0, &a);
  task_spawn("b", yielder, "b", 0, &b);
  task_spawn("c", yielder, "c", 0, &c);
  task_join(a, MN_FOREVER, 0);
  task_join(b, MN_FOREVER, 0);
  task_join(c, MN_FOREVER, 0);
  trace[ntrace] = 0;
  assert_string_equal(trace, "abcabcabc");
}

static int
sleeper(void *arg)
{
  uint64_t ms = (uint64_t)(intptr_t)arg;
  task_sleep(MN_MSEC(ms));
  trace[ntrace++] = (char)('0' + ms / 10);
  return 0;
}

static void
test_sleepers_wake_in_deadline_order(void **state)
{
  (void)state;
  struct task *t[5];
  int ms[5] = { 40, 10, 30, 0, 20 };
  ntrace = 0;
  uint64_t t0 = ktime_now();
  for (int i = 0; i < 5; i++)
    task_spawn("sleeper", sleeper, (void *)(intptr_t)ms[i], 0, &t[i]);
  for (int i = 0; i < 5; i++)
    task_join(t[i], MN_FOREVER, 0);
  trace[ntrace] = 0;
  assert_string_equal(trace, "01234");
  assert_true(ktime_now() - t0 >= MN_MSEC(40));
}

static int
waits_forever(void *arg)
{
  struct waitq *q = arg;
  return waitq_wait(q, MN_FOREVER);
}

static void
test_join_timeout_then_kill(void **state)
{
  (void)state;
  struct waitq q;
  struct task *t;
  int code = 0;
  waitq_init(&q);
  task_spawn("stuck", waits_forever, &q, 0, &t);
  uint64_t t0 = ktime_now();
  assert_int_equal(task_join(t, MN_MSEC(20), &code), MN_ETIMEDOUT);
  assert_true(ktime_now() - t0 >= MN_MSEC(20));
  assert_int_equal(t->state, TASK_WAITING);
  assert_int_equal(task_kill(t), 0);
  assert_int_equal(task_join(t, MN_FOREVER, &code), 0);
  assert_int_equal(code, MN_ECANCELED);
}

static int
wait_with_timeout(void *arg)
{
  struct waitq *q = arg;
  return waitq_wait(q, MN_MSEC(5));
}

static void
test_wait_timeout_and_wake(void **state)
{
  (void)state;
  struct waitq q;
  struct task *t1, *t2;
  int c1, c2;
  waitq_init(&q);
  task_spawn("w1", wait_with_timeout, &q, 0, &t1);
  task_spawn("w2", waits_forever, &q, 0, &t2);
  task_yield(); /* both wait now */
  assert_true(waitq_has_waiters(&q));
  task_join(t1, MN_FOREVER, &c1); /* times out */
  assert_int_equal(c1, MN_ETIMEDOUT);
  waitq_wake_one(&q); /* only w2 is left to wake */
  task_join(t2, MN_FOREVER, &c2);
  assert_int_equal(c2, 0);
  assert_false(waitq_has_waiters(&q));
}

static int
detached_worker(void *arg)
{
  (*(int *)arg)++;
  return 0;
}

static void
test_detached_tasks_free_themselves(void **state)
{
  (void)state;
  int count = 0;
  struct exec_stats st;
  ktest_boot(4u << 20);
  for (int i = 0; i < 100; i++)
    assert_int_equal(task_spawn("d", detached_worker, &count, 2048, 0), 0);
  task_sleep(MN_MSEC(1));
  task_yield();
  assert_int_equal(count, 100);
  exec_stats(&st);
  assert_int_equal(st.tasks, 1); /* only boot is left */
}

static int
deep(int n)
{
  volatile char buf[256];
  buf[0] = (char)n;
  if (n == 0)
    return buf[0];
  return deep(n - 1) + buf[0];
}

static int
overflower(void *arg)
{
  (void)arg;
  return deep(100000);
}

static int
canary_smasher(void *arg)
{
  (void)arg;
  /* What a small overflow does: overwrite the bottom of the stack. */
  memset(task_current()->stack_lo, 0, 8);
  task_yield();
  return 0;
}

static jmp_buf panic_jmp;
static char panic_msg[200];

static void
on_panic(const char *msg)
{
  strncpy(panic_msg, msg, sizeof panic_msg - 1);
  longjmp(panic_jmp, 1);
}

static void
expect_overflow_panic(const char *name, task_fn fn, size_t stack)
{
  struct task *t;
  panic_msg[0] = 0;
  panic_set_hook(on_panic);
  assert_int_equal(task_spawn(name, fn, 0, stack, &t), 0);
  if (setjmp(panic_jmp) == 0) {
    task_join(t, MN_FOREVER, 0);
    panic_set_hook(0);
    fail_msg("no panic");
  }
  panic_set_hook(0);
#ifdef __SANITIZE_ADDRESS__
  {
    /* longjmp skipped the frames that switched away from this stack:
     * clear the redzones they left below us. */
    volatile char here;
    ASAN_UNPOISON_MEMORY_REGION((char *)&here - 65536, 65536);
  }
#endif
  assert_non_null(strstr(panic_msg, "stack overflow"));
  assert_non_null(strstr(panic_msg, name));
  ktest_boot(1u << 20); /* the executor is in no state to go on */
}

static void
test_canary_catches_overflow(void **state)
{
  (void)state;
  expect_overflow_panic("smash-canary", canary_smasher, 4096);
}

static void
test_guard_page_catches_overflow(void **state)
{
  (void)state;
#ifdef __SANITIZE_ADDRESS__
  /* ASan owns SIGSEGV and its instrumented frames are larger: skipped. */
  (void)overflower;
  skip();
#else
  hosted_fault_init();
  expect_overflow_panic("recurse-forever", overflower, 16384);
#endif
}

static __attribute__((noinline)) int
use_stack(void)
{
  volatile char buf[3000];
  for (int i = 0; i < 3000; i++)
    buf[i] = (char)i;
  return buf[2999];
}

static int
shallow_recursion(void *arg)
{
  (void)arg;
  return use_stack();
}

static void
test_task_list_and_high_water(void **state)
{
  (void)state;
  struct task *t;
  struct task_info info[8];
  task_spawn("hw", shallow_recursion, 0, 8192, &t);
  size_t n = task_list(info, 8);
  assert_int_equal(n, 2);
  assert_string_equal(info[0].name, "boot");
  assert_string_equal(info[1].name, "hw");
  assert_int_equal(info[1].state, TASK_READY);
  assert_true(info[1].stack_used_max < 128); /* only the initial frame */
  task_yield();
  n = task_list(info, 8);
  assert_int_equal(info[1].state, TASK_ZOMBIE);
  assert_true(info[1].stack_used_max > 3000);
  assert_true(info[1].stack_used_max < 8192);
  task_join(t, 0, 0);
  assert_int_equal(task_list(info, 8), 1);
}

struct memwait {
  size_t size;
  int err;
  void *p;
};

static int
alloc_waiter(void *arg)
{
  struct memwait *w = arg;
  task_sleep(MN_MSEC(1)); /* let the test fill the heap first */
  w->err = kmalloc_wait(w->size, MN_SEC(5), &w->p);
  return 0;
}

static void
test_wait_for_memory(void **state)
{
  (void)state;
  ktest_boot(256 * 1024);
  struct memwait w = { 16 * 1024, 1, 0 };
  struct task *t;
  assert_int_equal(task_spawn("hungry", alloc_waiter, &w, 4096, &t), 0);
  /* Fill the heap. */
  void *blocks[64];
  int n = 0;
  while (n < 64 && (blocks[n] = kmalloc(8192)) != 0)
    n++;
  assert_true(n > 4);
  assert_null(kmalloc(64 * 1024));
  task_sleep(MN_MSEC(5));
  assert_int_equal(w.err, 1); /* still waiting */
  for (int i = 0; i < n; i++)
    kfree(blocks[i]);
  task_join(t, MN_FOREVER, 0);
  assert_int_equal(w.err, 0);
  assert_non_null(w.p);
  kfree(w.p);
  /* Never satisfiable: refused at once. */
  void *p;
  assert_int_equal(kmalloc_wait(1u << 30, MN_SEC(1), &p), MN_ENOMEM);
  /* Timeout. */
  void *big = kmalloc(128 * 1024);
  assert_non_null(big);
  assert_int_equal(kmalloc_wait(200 * 1024, MN_MSEC(10), &p), MN_ETIMEDOUT);
  kfree(big);
}

/* Stack sizes no heap can hold are refused, not wrapped around. */
static void
test_huge_stack_size_is_refused(void **state)
{
  (void)state;
  struct exec_stats before, after;
  exec_stats(&before);
  const size_t sizes[] = { SIZE_MAX, SIZE_MAX - 8, SIZE_MAX - 100, SIZE_MAX - 4096,
                           SIZE_MAX / 4 + 1, SIZE_MAX / 2 };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    struct task *t = 0;
    assert_int_equal(task_spawn("huge", ret_arg, 0, sizes[i], &t), MN_ENOMEM);
  }
  exec_stats(&after);
  assert_int_equal(after.tasks, before.tasks);
  task_yield(); /* nothing bogus in the run queue */
}

struct joiner {
  struct task *t;
  int err, code;
};

static int
join_it(void *arg)
{
  struct joiner *j = arg;
  j->err = task_join(j->t, MN_FOREVER, &j->code);
  return 0;
}

/* Only one task may join a task (the join frees it): a second joiner is
 * refused instead of touching (and freeing again) a freed task. */
static void
test_second_joiner_is_refused(void **state)
{
  (void)state;
  struct waitq q;
  struct task *t, *j1, *j2;
  waitq_init(&q);
  assert_int_equal(task_spawn("stuck", waits_forever, &q, 0, &t), 0);
  struct joiner a = { t, 1, 0 }, b = { t, 1, 0 };
  assert_int_equal(task_spawn("j1", join_it, &a, 0, &j1), 0);
  assert_int_equal(task_spawn("j2", join_it, &b, 0, &j2), 0);
  task_yield(); /* both joiners are waiting, or refused */
  assert_int_equal(task_kill(t), 0);
  assert_int_equal(task_join(j1, MN_FOREVER, 0), 0);
  assert_int_equal(task_join(j2, MN_FOREVER, 0), 0);
  assert_int_equal(a.err, 0);
  assert_int_equal(a.code, MN_ECANCELED);
  assert_int_equal(b.err, MN_EINVAL);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_spawn_join_exit_code, ktest_setup),
    cmocka_unit_test_setup(test_task_exit, ktest_setup),
    cmocka_unit_test_setup(test_yield_round_robin, ktest_setup),
    cmocka_unit_test_setup(test_sleepers_wake_in_deadline_order, ktest_setup),
    cmocka_unit_test_setup(test_join_timeout_then_kill, ktest_setup),
    cmocka_unit_test_setup(test_wait_timeout_and_wake, ktest_setup),
    cmocka_unit_test_setup(test_detached_tasks_free_themselves, ktest_setup),
    cmocka_unit_test_setup(test_canary_catches_overflow, ktest_setup),
    cmocka_unit_test_setup(test_guard_page_catches_overflow, ktest_setup),
    cmocka_unit_test_setup(test_task_list_and_high_water, ktest_setup),
    cmocka_unit_test_setup(test_wait_for_memory, ktest_setup),
    cmocka_unit_test_setup(test_huge_stack_size_is_refused, ktest_setup),
    cmocka_unit_test_setup(test_second_joiner_is_refused, ktest_setup),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
