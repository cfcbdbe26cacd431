/*
 * registry_test.c: services: call round trips, mismatched type
 * fingerprints, duplicate registration, waiting for a service, hello
 * accept/reject, asynchronous replies to a kchannel, unregistering,
 * stale replies after a client timeout.
 */
#include <string.h>
#include "ktest.h"
#include "mneme/err.h"
#include "mneme/registry.h"
#include "mneme/task.h"

struct add_req { int32_t a, b; };
struct add_resp { int32_t sum; };
struct add_err { uint8_t why; };
struct add_hello { uint32_t password; };

static const struct uuid ADD_UUID = UUID_INIT(0x0a0b0c0d, 0x1111, 0x4222, 0x8333, 0x444455556666ull);

struct adder {
  struct svc_server *srv;
  int handled, hellos;
  uint64_t delay;          /* before each reply */
  int last_reply_err;
};

static int
adder_task(void *arg)
{
  struct adder *a = arg;
  SVC_MSG_BUF(m, sizeof(struct add_req));
  while (svc_recv(a->srv, m, MN_FOREVER) == 0) {
    if (m->env.kind == SVC_MSG_HELLO) {
      struct add_hello h;
      memcpy(&h, m->body, sizeof h);
      a->hellos++;
      if (h.password == 1234)
        svc_accept(a->srv, &m->env);
      else
        svc_reject(a->srv, &m->env, &(struct add_err){ 7 });
      continue;
    }
    struct add_req r;
    memcpy(&r, m->body, sizeof r);
    if (a->delay)
      task_sleep(a->delay);
    a->handled++;
    if (r.a < 0)
      a->last_reply_err = svc_reply_err(a->srv, &m->env, &(struct add_err){ 1 });
    else
      a->last_reply_err = svc_reply_ok(a->srv, &m->env, &(struct add_resp){ r.a + r.b });
  }
  svc_unregister(a->srv); /* asked to stop: the server task unregisters */
  return 0;
}

static const struct svc_type *
add_type(void)
{
  static struct svc_type t;
  t = SVC_TYPE(struct add_req, struct add_resp, struct add_err, struct add_hello);
  return &t;
}

static struct task *
start_adder(struct adder *a, unsigned flags)
{
  struct task *t;
  assert_int_equal(svc_register(&ADD_UUID, "adder", add_type(), 0, flags, 4, &a->srv), 0);
  assert_int_equal(task_spawn("adder", adder_task, a, 0, &t), 0);
  return t;
}

static void
stop_adder(struct adder *a, struct task *t)
{
  (void)a;
  task_kill(t);
  task_join(t, MN_FOREVER, 0);
}

static void
test_call_round_trip_and_service_error(void **state)
{
  (void)state;
  struct adder a = { 0 };
  struct task *t = start_adder(&a, SVC_ACCEPT_ALL);
  struct svc_client c;
  assert_int_equal(svc_connect(&ADD_UUID, add_type(), 0, 0, 0, &c), 0);
  struct add_resp resp;
  struct add_err err;
  for (int i = 0; i < 100; i++) {
    assert_int_equal(svc_call(&c, &(struct add_req){ i, 2 * i }, &resp, &err, MN_SEC(1)), 0);
    assert_int_equal(resp.sum, 3 * i);
  }
  assert_int_equal(svc_call(&c, &(struct add_req){ -1, 0 }, &resp, &err, MN_SEC(1)), MN_ESERVICE);
  assert_int_equal(err.why, 1);
  assert_int_equal(a.handled, 101);
  struct svc_info info[4];
  assert_int_equal(svc_list(info, 4), 1);
  assert_string_equal(info[0].name, "adder");
  assert_int_equal(info[0].requests, 101);
  assert_int_equal(info[0].user_visible, 0);
  svc_disconnect(&c);
  stop_adder(&a, t);
}

struct other_req { int64_t a; };

static void
test_mismatched_types_are_refused(void **state)
{
  (void)state;
  struct adder a = { 0 };
  struct task *t = start_adder(&a, SVC_ACCEPT_ALL);
  struct svc_client c;
  struct svc_type wrong = SVC_TYPE(struct other_req, struct add_resp, struct add_err,
                                   struct add_hello);
  assert_int_equal(svc_connect(&ADD_UUID, &wrong, 0, 0, 0, &c), MN_EMISMATCH);
  /* Same sizes but other names: still refused. */
  struct svc_type renamed = *add_type();
  renamed.names = "add_req|add_resp|add_err|add_hello";
  assert_int_equal(svc_connect(&ADD_UUID, &renamed, 0, 0, 0, &c), MN_EMISMATCH);
  assert_int_equal(a.handled, 0);
  stop_adder(&a, t);
}

static void
test_duplicate_registration(void **state)
{
  (void)state;
  struct svc_server *s1, *s2;
  assert_int_equal(svc_register(&ADD_UUID, "one", add_type(), 0, 0, 1, &s1), 0);
  assert_int_equal(svc_register(&ADD_UUID, "two", add_type(), 0, 0, 1, &s2), MN_EEXIST);
  svc_unregister(s1);
  assert_int_equal(svc_register(&ADD_UUID, "two", add_type(), 0, 0, 1, &s2), 0);
  svc_unregister(s2);
}

struct late {
  struct adder *a;
  struct task *t;
};

static int
register_later(void *arg)
{
  struct late *l = arg;
  task_sleep(MN_MSEC(5));
  l->t = start_adder(l->a, SVC_ACCEPT_ALL);
  return 0;
}

static void
test_wait_for_service(void **state)
{
  (void)state;
  struct svc_client c;
  /* Not there, no waiting. */
  assert_int_equal(svc_connect(&ADD_UUID, add_type(), 0, 0, 0, &c), MN_ENOENT);
  /* Not there, wait too short. */
  assert_int_equal(svc_connect(&ADD_UUID, add_type(), 0, 0, MN_MSEC(2), &c), MN_ETIMEDOUT);
  /* Registered while we wait. */
  struct adder a = { 0 };
  struct late l = { &a, 0 };
  struct task *reg;
  task_spawn("later", register_later, &l, 0, &reg);
  assert_int_equal(svc_connect(&ADD_UUID, add_type(), 0, 0, MN_SEC(5), &c), 0);
  struct add_resp resp;
  assert_int_equal(svc_call(&c, &(struct add_req){ 2, 3 }, &resp, 0, MN_SEC(1)), 0);
  assert_int_equal(resp.sum, 5);
  svc_disconnect(&c);
  task_join(reg, MN_FOREVER, 0);
  stop_adder(&a, l.t);
}

static void
test_hello_accept_and_reject(void **state)
{
  (void)state;
  struct adder a = { 0 };
  struct task *t = start_adder(&a, 0);
  struct svc_client c;
  struct add_err err = { 0 };
  assert_int_equal(svc_connect(&ADD_UUID, add_type(), &(struct add_hello){ 1 }, &err,
                               MN_SEC(1), &c), MN_EREJECTED);
  assert_int_equal(err.why, 7);
  assert_int_equal(svc_connect(&ADD_UUID, add_type(), &(struct add_hello){ 1234 }, &err,
                               MN_SEC(1), &c), 0);
  assert_int_equal(a.hellos, 2);
  struct add_resp resp;
  assert_int_equal(svc_call(&c, &(struct add_req){ 1, 1 }, &resp, 0, MN_SEC(1)), 0);
  assert_int_equal(resp.sum, 2);
  svc_disconnect(&c);
  stop_adder(&a, t);
}

static void
test_async_replies_to_kchannel(void **state)
{
  (void)state;
  struct adder a = { 0 };
  struct task *t = start_adder(&a, SVC_ACCEPT_ALL);
  struct svc_client c;
  struct kchannel replies;
  size_t rsize = svc_reply_size(add_type());
  assert_int_equal(kchannel_init(&replies, rsize, 8), 0);
  assert_int_equal(svc_connect(&ADD_UUID, add_type(), 0, 0, 0, &c), 0);
  uint32_t ids[3];
  for (int i = 0; i < 3; i++)
    assert_int_equal(svc_send(&c, &(struct add_req){ i, 10 }, &replies, &ids[i], MN_SEC(1)), 0);
  _Alignas(16) uint8_t buf[128];
  struct svc_reply *r = (struct svc_reply *)buf;
  for (int i = 0; i < 3; i++) {
    assert_int_equal(kchannel_recv(&replies, buf, MN_SEC(1)), 0);
    assert_int_equal(r->request_id, ids[i]);
    assert_int_equal(r->client_id, c.client_id);
    assert_int_equal(r->status, 0);
    struct add_resp resp;
    memcpy(&resp, r->body, sizeof resp);
    assert_int_equal(resp.sum, i + 10);
  }
  /* A reply channel too small for the reply type is refused. */
  struct kchannel tiny;
  kchannel_init(&tiny, 4, 1);
  assert_int_equal(svc_send(&c, &(struct add_req){ 0, 0 }, &tiny, 0, 0), MN_EINVAL);
  kchannel_destroy(&tiny);
  svc_disconnect(&c);
  stop_adder(&a, t);
  kchannel_destroy(&replies);
}

static void
test_timeout_then_stale_reply_is_dropped(void **state)
{
  (void)state;
  struct adder a = { 0 };
  a.delay = MN_MSEC(10);
  struct task *t = start_adder(&a, SVC_ACCEPT_ALL);
  struct svc_client c;
  assert_int_equal(svc_connect(&ADD_UUID, add_type(), 0, 0, 0, &c), 0);
  struct add_resp resp = { -1 };
  assert_int_equal(svc_call(&c, &(struct add_req){ 1, 1 }, &resp, 0, MN_MSEC(2)), MN_ETIMEDOUT);
  /* The next call gets its own answer, not the late one. */
  a.delay = 0;
  task_sleep(MN_MSEC(15));
  assert_int_equal(a.last_reply_err, MN_ECANCELED); /* the late reply was refused */
  assert_int_equal(svc_call(&c, &(struct add_req){ 20, 22 }, &resp, 0, MN_SEC(1)), 0);
  assert_int_equal(resp.sum, 42);
  svc_disconnect(&c);
  stop_adder(&a, t);
}

static void
test_unregistered_service_closes_calls(void **state)
{
  (void)state;
  struct adder a = { 0 };
  struct task *t = start_adder(&a, SVC_ACCEPT_ALL);
  struct svc_client c;
  assert_int_equal(svc_connect(&ADD_UUID, add_type(), 0, 0, 0, &c), 0);
  stop_adder(&a, t);
  struct add_resp resp;
  assert_int_equal(svc_call(&c, &(struct add_req){ 1, 1 }, &resp, 0, MN_SEC(1)), MN_ECLOSED);
  svc_disconnect(&c);
}

struct caller {
  struct svc_client *c;
  int result;
};

static int
caller_task(void *arg)
{
  struct caller *k = arg;
  struct add_resp resp;
  k->result = svc_call(k->c, &(struct add_req){ 1, 1 }, &resp, 0, MN_FOREVER);
  return 0;
}

/*
 * Requests still queued when the server unregisters will never be served:
 * their callers must hear MN_ECLOSED instead of waiting forever, and an
 * asynchronous caller gets a reply with status MN_ECLOSED.
 */
static void
test_unregister_fails_queued_requests(void **state)
{
  (void)state;
  struct svc_server *srv;
  assert_int_equal(svc_register(&ADD_UUID, "adder", add_type(), 0, SVC_ACCEPT_ALL, 4, &srv), 0);
  struct svc_client c, c2;
  assert_int_equal(svc_connect(&ADD_UUID, add_type(), 0, 0, 0, &c), 0);
  assert_int_equal(svc_connect(&ADD_UUID, add_type(), 0, 0, 0, &c2), 0);
  struct kchannel replies;
  assert_int_equal(kchannel_init(&replies, svc_reply_size(add_type()), 4), 0);
  uint32_t id;
  assert_int_equal(svc_send(&c2, &(struct add_req){ 2, 2 }, &replies, &id, 0), 0);
  struct caller k = { &c, 1 };
  struct task *t;
  assert_int_equal(task_spawn("caller", caller_task, &k, 0, &t), 0);
  task_yield(); /* the caller queues its request and waits */
  struct svc_info info[1];
  assert_int_equal(svc_list(info, 1), 1);
  assert_int_equal(info[0].queued, 2);
  svc_unregister(srv); /* the server stops without serving them */
  int err = task_join(t, MN_MSEC(200), 0);
  if (err) {
    task_kill(t);
    task_join(t, MN_FOREVER, 0);
  }
  assert_int_equal(err, 0);
  assert_int_equal(k.result, MN_ECLOSED);
  _Alignas(16) uint8_t buf[128];
  struct svc_reply *r = (struct svc_reply *)buf;
  assert_int_equal(kchannel_try_recv(&replies, buf), 0);
  assert_int_equal(r->request_id, id);
  assert_int_equal(r->status, MN_ECLOSED);
  svc_disconnect(&c);
  svc_disconnect(&c2);
  kchannel_destroy(&replies);
}

/*
 * A reply to a client that has disconnected must not reach whatever uses
 * its memory next: here a new client in the same struct, whose first
 * request has the same oneshot ticket as the old client's last one.
 */
static void
test_reply_to_disconnected_client_is_dropped(void **state)
{
  (void)state;
  struct adder a = { 0 };
  a.delay = MN_MSEC(10);
  struct task *t = start_adder(&a, SVC_ACCEPT_ALL);
  struct svc_client c;
  struct add_resp resp = { -1 };
  assert_int_equal(svc_connect(&ADD_UUID, add_type(), 0, 0, 0, &c), 0);
  assert_int_equal(svc_call(&c, &(struct add_req){ 1, 1 }, &resp, 0, MN_MSEC(2)), MN_ETIMEDOUT);
  svc_disconnect(&c);
  assert_int_equal(svc_connect(&ADD_UUID, add_type(), 0, 0, 0, &c), 0);
  assert_int_equal(svc_call(&c, &(struct add_req){ 20, 22 }, &resp, 0, MN_SEC(1)), 0);
  assert_int_equal(resp.sum, 42);
  svc_disconnect(&c);
  stop_adder(&a, t);
}

static int
connect_forever(void *arg)
{
  struct svc_client c;
  *(int *)arg = svc_connect(&ADD_UUID, add_type(), 0, 0, MN_FOREVER, &c);
  return 0;
}

/* A task killed while it waits for a service to appear hears that it was
 * cancelled, not that there is no such service. */
static void
test_kill_while_waiting_for_service(void **state)
{
  (void)state;
  int result = 1;
  struct task *t;
  assert_int_equal(task_spawn("connector", connect_forever, &result, 0, &t), 0);
  task_yield();
  assert_int_equal(task_kill(t), 0);
  assert_int_equal(task_join(t, MN_SEC(1), 0), 0);
  assert_int_equal(result, MN_ECANCELED);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_call_round_trip_and_service_error, ktest_setup),
    cmocka_unit_test_setup(test_mismatched_types_are_refused, ktest_setup),
    cmocka_unit_test_setup(test_duplicate_registration, ktest_setup),
    cmocka_unit_test_setup(test_wait_for_service, ktest_setup),
    cmocka_unit_test_setup(test_hello_accept_and_reject, ktest_setup),
    cmocka_unit_test_setup(test_async_replies_to_kchannel, ktest_setup),
    cmocka_unit_test_setup(test_timeout_then_stale_reply_is_dropped, ktest_setup),
    cmocka_unit_test_setup(test_unregistered_service_closes_calls, ktest_setup),
    cmocka_unit_test_setup(test_unregister_fails_queued_requests, ktest_setup),
    cmocka_unit_test_setup(test_reply_to_disconnected_client_is_dropped, ktest_setup),
    cmocka_unit_test_setup(test_kill_while_waiting_for_service, ktest_setup),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
