/*
 * kchannel_test.c: kchannel and oneshot: FIFO order, many producers on a
 * full channel, close while tasks wait on both ends, timeouts racing
 * wake-ups, the last sender closing, stale oneshot replies.
 */
#include <string.h>
#include "ktest.h"
#include "mneme/err.h"
#include "mneme/kchannel.h"
#include "mneme/oneshot.h"
#include "mneme/task.h"

struct msg {
  uint32_t producer, seq;
};

static void
test_fifo_and_try_variants(void **state)
{
  (void)state;
  struct kchannel ch;
  struct msg m;
  assert_int_equal(kchannel_init(&ch, sizeof m, 3), 0);
  assert_int_equal(kchannel_try_recv(&ch, &m), MN_EAGAIN);
  for (uint32_t i = 0; i < 3; i++)
    assert_int_equal(kchannel_try_send(&ch, &(struct msg){ 0, i }), 0);
  assert_int_equal(kchannel_try_send(&ch, &(struct msg){ 0, 9 }), MN_EAGAIN);
  for (uint32_t i = 0; i < 3; i++) {
    assert_int_equal(kchannel_try_recv(&ch, &m), 0);
    assert_int_equal(m.seq, i);
  }
  /* Wrap around the ring many times. */
  for (uint32_t i = 0; i < 100; i++) {
    assert_int_equal(kchannel_try_send(&ch, &(struct msg){ 1, i }), 0);
    assert_int_equal(kchannel_try_recv(&ch, &m), 0);
    assert_int_equal(m.seq, i);
  }
  assert_int_equal(kchannel_init(&ch, 0, 3), MN_EINVAL);
  kchannel_destroy(&ch);
}

#define PRODUCERS 6
#define PER_PRODUCER 2000

struct prod {
  struct kchannel *ch;
  uint32_t id;
  int err;
};

static int
producer(void *arg)
{
  struct prod *p = arg;
  for (uint32_t i = 0; i < PER_PRODUCER; i++) {
    p->err = kchannel_send(p->ch, &(struct msg){ p->id, i }, MN_FOREVER);
    if (p->err)
      return 1;
    if (i % 7 == 0)
      task_yield();
  }
  kchannel_sender_drop(p->ch);
  return 0;
}

static void
test_many_producers_on_full_channel(void **state)
{
  (void)state;
  struct kchannel ch;
  struct prod p[PRODUCERS];
  struct task *t[PRODUCERS];
  uint32_t next[PRODUCERS] = { 0 };
  assert_int_equal(kchannel_init(&ch, sizeof(struct msg), 2), 0);
  for (int i = 1; i < PRODUCERS; i++)
    kchannel_sender_add(&ch); /* one handle per producer */
  for (int i = 0; i < PRODUCERS; i++) {
    p[i] = (struct prod){ &ch, (uint32_t)i, 0 };
    assert_int_equal(task_spawn("producer", producer, &p[i], 4096, &t[i]), 0);
  }
  struct msg m;
  int got = 0, err;
  while ((err = kchannel_recv(&ch, &m, MN_SEC(10))) == 0) {
    assert_true(m.producer < PRODUCERS);
    assert_int_equal(m.seq, next[m.producer]); /* per-producer order */
    next[m.producer]++;
    got++;
  }
  /* The last sender's drop closed the channel: the receiver drained it. */
  assert_int_equal(err, MN_ECLOSED);
  assert_int_equal(got, PRODUCERS * PER_PRODUCER);
  for (int i = 0; i < PRODUCERS; i++) {
    assert_int_equal(task_join(t[i], MN_FOREVER, 0), 0);
    assert_int_equal(p[i].err, 0);
  }
  kchannel_destroy(&ch);
}

struct waiter {
  struct kchannel *ch;
  int err;
};

static int
blocked_sender(void *arg)
{
  struct waiter *w = arg;
  w->err = kchannel_send(w->ch, &(struct msg){ 9, 9 }, MN_FOREVER);
  return 0;
}

static int
blocked_receiver(void *arg)
{
  struct waiter *w = arg;
  struct msg m;
  w->err = kchannel_recv(w->ch, &m, MN_FOREVER);
  return 0;
}

static void
test_close_wakes_both_ends(void **state)
{
  (void)state;
  struct kchannel full, empty;
  struct waiter s[3], r[3];
  struct task *ts[3], *tr[3];
  kchannel_init(&full, sizeof(struct msg), 1);
  kchannel_init(&empty, sizeof(struct msg), 1);
  kchannel_try_send(&full, &(struct msg){ 1, 1 });
  for (int i = 0; i < 3; i++) {
    s[i] = (struct waiter){ &full, 1 };
    r[i] = (struct waiter){ &empty, 1 };
    task_spawn("s", blocked_sender, &s[i], 4096, &ts[i]);
    task_spawn("r", blocked_receiver, &r[i], 4096, &tr[i]);
  }
  task_yield();
  for (int i = 0; i < 3; i++) {
    assert_int_equal(ts[i]->state, TASK_WAITING);
    assert_int_equal(tr[i]->state, TASK_WAITING);
  }
  kchannel_close(&full);
  kchannel_close(&empty);
  for (int i = 0; i < 3; i++) {
    task_join(ts[i], MN_FOREVER, 0);
    task_join(tr[i], MN_FOREVER, 0);
    assert_int_equal(s[i].err, MN_ECLOSED);
    assert_int_equal(r[i].err, MN_ECLOSED);
  }
  /* What was queued before the close can still be received. */
  struct msg m;
  assert_int_equal(kchannel_try_recv(&full, &m), 0);
  assert_int_equal(kchannel_try_recv(&full, &m), MN_ECLOSED);
  assert_int_equal(kchannel_try_send(&empty, &m), MN_ECLOSED);
  kchannel_destroy(&full);
  kchannel_destroy(&empty);
}

struct racer {
  struct kchannel *ch;
  uint64_t timeout;
  int err;
  struct msg m;
};

static int
timed_receiver(void *arg)
{
  struct racer *r = arg;
  r->err = kchannel_recv(r->ch, &r->m, r->timeout);
  return 0;
}

static void
test_timeout_races_wakeup(void **state)
{
  (void)state;
  /* A send lands around the receiver's deadline. Whichever wins, the
   * outcome must be consistent: the message is received exactly once,
   * either by the waiter or by the next recv. */
  int received_by_waiter = 0, timed_out = 0;
  for (int round = 0; round < 40; round++) {
    struct kchannel ch;
    struct racer r;
    struct task *t;
    kchannel_init(&ch, sizeof(struct msg), 1);
    r = (struct racer){ &ch, MN_USEC(200 + 40 * (round % 10)), 1, { 0, 0 } };
    task_spawn("racer", timed_receiver, &r, 4096, &t);
    task_yield();
    task_sleep(MN_USEC(300));
    int serr = kchannel_try_send(&ch, &(struct msg){ 5, (uint32_t)round });
    task_join(t, MN_FOREVER, 0);
    assert_int_equal(serr, 0);
    struct msg m;
    if (r.err == 0) {
      received_by_waiter++;
      assert_int_equal(r.m.seq, (uint32_t)round);
      assert_int_equal(kchannel_try_recv(&ch, &m), MN_EAGAIN);
    } else {
      timed_out++;
      assert_int_equal(r.err, MN_ETIMEDOUT);
      assert_int_equal(kchannel_try_recv(&ch, &m), 0);
      assert_int_equal(m.seq, (uint32_t)round);
    }
    kchannel_destroy(&ch);
  }
  assert_int_equal(received_by_waiter + timed_out, 40);
}

static void
test_send_timeout_when_full(void **state)
{
  (void)state;
  struct kchannel ch;
  kchannel_init(&ch, sizeof(struct msg), 1);
  kchannel_try_send(&ch, &(struct msg){ 0, 0 });
  uint64_t t0 = ktime_now();
  assert_int_equal(kchannel_send(&ch, &(struct msg){ 0, 1 }, MN_MSEC(5)), MN_ETIMEDOUT);
  assert_true(ktime_now() - t0 >= MN_MSEC(5));
  assert_int_equal(kchannel_len(&ch), 1);
  kchannel_destroy(&ch);
}

/* ---- oneshot ---- */

struct replier {
  struct oneshot *os;
  uint32_t ticket;
  uint64_t delay;
  int err;
};

static int
late_replier(void *arg)
{
  struct replier *r = arg;
  task_sleep(r->delay);
  uint32_t v = 77;
  r->err = oneshot_send(r->os, r->ticket, &v, sizeof v);
  return 0;
}

static void
test_oneshot_reply_and_stale_ticket(void **state)
{
  (void)state;
  struct oneshot os;
  uint32_t v = 0;
  size_t len = 0;
  assert_int_equal(oneshot_init(&os, sizeof v), 0);
  assert_int_equal(oneshot_recv(&os, &v, &len, 0), MN_EINVAL); /* not armed */
  /* 1: reply in time. */
  struct replier r = { &os, oneshot_arm(&os), MN_MSEC(1), 1 };
  struct task *t;
  task_spawn("replier", late_replier, &r, 4096, &t);
  assert_int_equal(oneshot_recv(&os, &v, &len, MN_SEC(5)), 0);
  assert_int_equal(v, 77);
  assert_int_equal(len, sizeof v);
  task_join(t, MN_FOREVER, 0);
  assert_int_equal(r.err, 0);
  /* 2: the receiver gives up; the late reply is refused as stale. */
  r = (struct replier){ &os, oneshot_arm(&os), MN_MSEC(20), 1 };
  task_spawn("replier", late_replier, &r, 4096, &t);
  assert_int_equal(oneshot_recv(&os, &v, &len, MN_MSEC(2)), MN_ETIMEDOUT);
  task_join(t, MN_FOREVER, 0);
  assert_int_equal(r.err, MN_ECANCELED);
  /* 3: reuse after the stale reply: a new arming works. */
  uint32_t tk = oneshot_arm(&os);
  assert_int_equal(oneshot_send(&os, tk - 1, &v, sizeof v), MN_ECANCELED);
  v = 5;
  assert_int_equal(oneshot_send(&os, tk, &v, sizeof v), 0);
  assert_int_equal(oneshot_send(&os, tk, &v, sizeof v), MN_ECANCELED); /* once */
  v = 0;
  assert_int_equal(oneshot_recv(&os, &v, &len, 0), 0);
  assert_int_equal(v, 5);
  /* Too large a reply. */
  tk = oneshot_arm(&os);
  uint64_t big = 1;
  assert_int_equal(oneshot_send(&os, tk, &big, sizeof big), MN_EOVERFLOW);
  oneshot_close(&os);
  assert_int_equal(oneshot_recv(&os, &v, &len, 0), MN_ECLOSED);
  oneshot_destroy(&os);
}

struct os_waiter {
  struct oneshot *os;
  int err;
};

static int
os_wait_1ms(void *arg)
{
  struct os_waiter *w = arg;
  w->err = oneshot_recv(w->os, 0, 0, MN_MSEC(1));
  return 0;
}

/* A close that lands after the receiver's timeout fired but before it ran
 * stays a close: the receiver's timeout does not reopen the slot. */
static void
test_oneshot_close_after_timeout_fired_stays_closed(void **state)
{
  (void)state;
  struct oneshot os;
  assert_int_equal(oneshot_init(&os, 4), 0);
  oneshot_arm(&os);
  struct os_waiter w = { &os, 1 };
  struct task *t;
  assert_int_equal(task_spawn("waiter", os_wait_1ms, &w, 0, &t), 0);
  task_yield(); /* it waits */
  while (t->state != TASK_READY) /* until its timeout has fired */
    task_yield();
  oneshot_close(&os);
  assert_int_equal(task_join(t, MN_FOREVER, 0), 0);
  assert_int_equal(w.err, MN_ETIMEDOUT);
  assert_int_equal(oneshot_recv(&os, 0, 0, 0), MN_ECLOSED);
  uint32_t v = 1;
  assert_int_equal(oneshot_send(&os, os.ticket, &v, sizeof v), MN_ECANCELED);
  oneshot_destroy(&os);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_fifo_and_try_variants, ktest_setup),
    cmocka_unit_test_setup(test_many_producers_on_full_channel, ktest_setup),
    cmocka_unit_test_setup(test_close_wakes_both_ends, ktest_setup),
    cmocka_unit_test_setup(test_timeout_races_wakeup, ktest_setup),
    cmocka_unit_test_setup(test_send_timeout_when_full, ktest_setup),
    cmocka_unit_test_setup(test_oneshot_reply_and_stale_ticket, ktest_setup),
    cmocka_unit_test_setup(test_oneshot_close_after_timeout_fired_stays_closed, ktest_setup),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
