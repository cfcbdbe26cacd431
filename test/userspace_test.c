/*
 * userspace_test.c: the serialized userspace path, byte for byte: a
 * request in mnemOS's format reaches a service through its codec and the
 * reply lands in the caller's ring; every failure gets an error reply
 * with the caller's nonce; nothing malformed can crash the kernel.
 */
#include <stdlib.h>
#include <string.h>
#include "ktest.h"
#include "mneme/bbq.h"
#include "mneme/err.h"
#include "mneme/postcard.h"
#include "mneme/registry.h"
#include "mneme/task.h"

struct dbl_req { uint32_t v; };
struct dbl_resp { uint32_t v; };
struct dbl_err { uint8_t kind; };

/* 9c3c4b52-8f4e-4c55-9a9d-2f1d7c6e5b4a */
static const struct uuid DBL = UUID_INIT(0x9c3c4b52, 0x8f4e, 0x4c55, 0x9a9d, 0x2f1d7c6e5b4aull);
static const struct uuid HIDDEN = UUID_INIT(0x11111111, 0x2222, 0x4333, 0x8444, 0x555566667777ull);

static int
dec(const uint8_t *in, size_t len, void *out)
{
  struct pc_dec d;
  pc_dec_init(&d, in, len);
  pc_dec_u32(&d, &((struct dbl_req *)out)->v);
  return pc_dec_finish(&d) ? MN_EDECODE : 0;
}

static void
enc_resp(struct pc_enc *e, const void *p)
{
  pc_enc_u32(e, ((const struct dbl_resp *)p)->v);
}

static void
enc_err(struct pc_enc *e, const void *p)
{
  pc_enc_variant(e, ((const struct dbl_err *)p)->kind);
}

static const struct svc_codec codec = { dec, enc_resp, enc_err };

static int
doubler(void *arg)
{
  struct svc_server *s = arg;
  SVC_MSG_BUF(m, sizeof(struct dbl_req));
  while (svc_recv(s, m, MN_FOREVER) == 0) {
    struct dbl_req r;
    memcpy(&r, m->body, sizeof r);
    if (r.v == 0)
      svc_reply_err(s, &m->env, &(struct dbl_err){ 1 });
    else
      svc_reply_ok(s, &m->env, &(struct dbl_resp){ 2 * r.v });
  }
  svc_unregister(s);
  return 0;
}

static struct task *server_task, *hidden_task;
static struct bbq ring;

static int
setup(void **state)
{
  ktest_setup(state);
  struct svc_type t = SVC_TYPE(struct dbl_req, struct dbl_resp, struct dbl_err, struct svc_none);
  struct svc_server *s, *h;
  assert_int_equal(svc_register(&DBL, "doubler", &t, &codec, SVC_ACCEPT_ALL, 4, &s), 0);
  assert_int_equal(svc_register(&HIDDEN, "hidden", &t, 0, SVC_ACCEPT_ALL, 4, &h), 0);
  task_spawn("doubler", doubler, s, 0, &server_task);
  task_spawn("hidden", doubler, h, 0, &hidden_task);
  assert_int_equal(bbq_init(&ring, 256), 0);
  return 0;
}

/* Builds a request: 10 uuid | nonce | len | bytes. */
static size_t
request(uint8_t *out, const struct uuid *id, uint32_t nonce, const uint8_t *req, size_t n)
{
  struct pc_enc e;
  pc_enc_init(&e, out, 512);
  pc_enc_uuid(&e, id->b);
  pc_enc_u32(&e, nonce);
  pc_enc_bytes(&e, req, n);
  return pc_enc_len(&e);
}

/* Waits for one record in the ring; returns its length, copies it. */
static size_t
take_record(uint8_t *out)
{
  const uint8_t *p;
  size_t n;
  assert_int_equal(bbq_read_grant(&ring, MN_SEC(1), &p, &n), 0);
  size_t len = p[0]; /* records here are < 128 bytes: one-byte varint */
  assert_true(len < 128 && len + 1 <= n);
  memcpy(out, p + 1, len);
  bbq_release(&ring, len + 1);
  return len;
}

static void
expect(const uint8_t *got, size_t n, const struct uuid *id, const uint8_t *tail, size_t tn)
{
  assert_int_equal(n, 17 + tn);
  assert_int_equal(got[0], 0x10);
  assert_memory_equal(got + 1, id->b, 16);
  assert_memory_equal(got + 17, tail, tn);
}

static void
test_ok_reply_bytes(void **state)
{
  (void)state;
  uint8_t msg[64], rec[128];
  const uint8_t req[] = { 0x05 };
  size_t n = request(msg, &DBL, 300, req, 1);
  /* 10 <uuid> AC 02 01 05 */
  assert_int_equal(n, 17 + 2 + 1 + 1);
  assert_int_equal(msg[17], 0xac);
  assert_int_equal(msg[18], 0x02);
  assert_int_equal(svc_user_request(msg, n, &ring), 0);
  size_t rn = take_record(rec);
  expect(rec, rn, &DBL, (const uint8_t[]){ 0xac, 0x02, 0x00, 0x0a }, 4);
}

static void
test_service_error_reply_bytes(void **state)
{
  (void)state;
  uint8_t msg[64], rec[128];
  size_t n = request(msg, &DBL, 7, (const uint8_t[]){ 0x00 }, 1);
  assert_int_equal(svc_user_request(msg, n, &ring), 0);
  size_t rn = take_record(rec);
  expect(rec, rn, &DBL, (const uint8_t[]){ 0x07, 0x01, 0x01 }, 3);
}

static void
test_kernel_errors_carry_the_nonce(void **state)
{
  (void)state;
  uint8_t msg[64], rec[128];
  const struct uuid unknown = UUID_INIT(0xdeadbeef, 0, 0x4000, 0x8000, 1ull);
  /* Unknown service. */
  size_t n = request(msg, &unknown, 1000, (const uint8_t[]){ 1 }, 1);
  assert_int_equal(svc_user_request(msg, n, &ring), 0);
  size_t rn = take_record(rec);
  expect(rec, rn, &SVC_REGISTRY_UUID, (const uint8_t[]){ 0xe8, 0x07, 0x01, SVC_UERR_UNKNOWN_SERVICE }, 4);
  /* A kernel-only service. */
  n = request(msg, &HIDDEN, 5, (const uint8_t[]){ 1 }, 1);
  assert_int_equal(svc_user_request(msg, n, &ring), 0);
  rn = take_record(rec);
  expect(rec, rn, &SVC_REGISTRY_UUID, (const uint8_t[]){ 0x05, 0x01, SVC_UERR_NOT_USER_VISIBLE }, 3);
  /* Request bytes that are not a u32 (an over-long varint). */
  n = request(msg, &DBL, 6, (const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 6);
  assert_int_equal(svc_user_request(msg, n, &ring), 0);
  rn = take_record(rec);
  expect(rec, rn, &SVC_REGISTRY_UUID, (const uint8_t[]){ 0x06, 0x01, SVC_UERR_DECODE }, 3);
  /* Request bytes with trailing garbage. */
  n = request(msg, &DBL, 8, (const uint8_t[]){ 0x01, 0x02 }, 2);
  assert_int_equal(svc_user_request(msg, n, &ring), 0);
  rn = take_record(rec);
  expect(rec, rn, &SVC_REGISTRY_UUID, (const uint8_t[]){ 0x08, 0x01, SVC_UERR_DECODE }, 3);
}

static void
test_malformed_messages(void **state)
{
  (void)state;
  uint8_t msg[64], rec[128];
  size_t n = request(msg, &DBL, 9, (const uint8_t[]){ 1 }, 1);
  /* Every truncation: a MALFORMED reply, never a crash; the nonce is
   * kept once it could be decoded. */
  for (size_t cut = 0; cut < n; cut++) {
    assert_int_equal(svc_user_request(msg, cut, &ring), 0);
    size_t rn = take_record(rec);
    uint8_t nonce = cut >= 18 ? 9 : 0;
    expect(rec, rn, &SVC_REGISTRY_UUID, (const uint8_t[]){ nonce, 0x01, SVC_UERR_MALFORMED }, 3);
  }
  /* A wrong UUID length prefix. */
  msg[0] = 0x0f;
  assert_int_equal(svc_user_request(msg, n, &ring), 0);
  take_record(rec);
  /* Random bytes: each gets exactly one reply. */
  srand(99);
  for (int i = 0; i < 2000; i++) {
    uint8_t junk[40];
    size_t jn = (size_t)(rand() % 40);
    for (size_t k = 0; k < jn; k++)
      junk[k] = (uint8_t)rand();
    if (i % 3 == 0 && jn > 17) /* sometimes a real UUID */
      memcpy(junk, msg, 17), junk[0] = 0x10, memcpy(junk + 1, DBL.b, 16);
    assert_int_equal(svc_user_request(junk, jn, &ring), 0);
    take_record(rec);
  }
}

static void
test_full_ring_is_reported(void **state)
{
  (void)state;
  uint8_t msg[64];
  const struct uuid unknown = UUID_INIT(0xdeadbeef, 0, 0x4000, 0x8000, 1ull);
  size_t n = request(msg, &unknown, 1, (const uint8_t[]){ 1 }, 1);
  int err = 0, i;
  for (i = 0; i < 100 && (err = svc_user_request(msg, n, &ring)) == 0; i++)
    ;
  assert_int_equal(err, MN_ENOSPC);
  assert_true(i >= 256 / 22 - 1);
  /* Service replies that find the ring full are counted as lost. */
  n = request(msg, &DBL, 2, (const uint8_t[]){ 3 }, 1);
  assert_int_equal(svc_user_request(msg, n, &ring), 0);
  task_sleep(MN_MSEC(1));
  struct svc_info info[4];
  svc_list(info, 4);
  assert_string_equal(info[0].name, "doubler");
  assert_int_equal(info[0].replies_lost, 1);
}

/*
 * A reply that does not fit in the room left at the end of the ring goes
 * to its start (as every bbq grant does) when there is room there, instead
 * of being dropped as if the ring were full.
 */
static void
test_reply_wraps_to_ring_start(void **state)
{
  (void)state;
  uint8_t msg[64], rec[128], *g;
  const struct uuid unknown = UUID_INIT(0xdeadbeef, 0, 0x4000, 0x8000, 1ull);
  /* 240 bytes of other records; the reader has consumed 200 of them:
   * 16 bytes left at the end, 199 at the start. */
  assert_int_equal(bbq_grant_exact(&ring, 240, &g), 0);
  memset(g, 0, 240);
  bbq_commit(&ring, 240);
  const uint8_t *p;
  size_t len;
  assert_int_equal(bbq_read(&ring, &p, &len), 0);
  bbq_release(&ring, 200);
  size_t n = request(msg, &unknown, 77, (const uint8_t[]){ 1 }, 1);
  assert_int_equal(svc_user_request(msg, n, &ring), 0); /* 22 bytes */
  n = request(msg, &DBL, 78, (const uint8_t[]){ 4 }, 1);
  assert_int_equal(svc_user_request(msg, n, &ring), 0);
  task_sleep(MN_MSEC(1)); /* the doubler replies */
  struct svc_info info[4];
  svc_list(info, 4);
  assert_int_equal(info[0].replies_lost, 0);
  assert_int_equal(bbq_read(&ring, &p, &len), 0);
  assert_int_equal(len, 40);
  bbq_release(&ring, 40);
  size_t rn = take_record(rec);
  expect(rec, rn, &SVC_REGISTRY_UUID, (const uint8_t[]){ 77, 0x01, SVC_UERR_UNKNOWN_SERVICE }, 3);
  rn = take_record(rec);
  expect(rec, rn, &DBL, (const uint8_t[]){ 78, 0x00, 0x08 }, 3);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(test_ok_reply_bytes, setup),
    cmocka_unit_test_setup(test_service_error_reply_bytes, setup),
    cmocka_unit_test_setup(test_kernel_errors_carry_the_nonce, setup),
    cmocka_unit_test_setup(test_malformed_messages, setup),
    cmocka_unit_test_setup(test_full_ring_is_reported, setup),
    cmocka_unit_test_setup(test_reply_wraps_to_ring_start, setup),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
