/*
 * config_test.c: TOML -> tools/mkconfig.py -> bytes (compiled in by
 * lib/module.mk) -> mn_config_decode, for config/hosted.toml and
 * test/config_full.toml; and malformed bytes of every class.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mneme/config.h>
#include <mneme/err.h>
#include <mneme/postcard.h>

extern const uint8_t test_config_hosted[], test_config_full[];
extern const size_t test_config_hosted_len, test_config_full_len;

static void assert_str(struct mn_str s, const char *want) {
  assert_int_equal(s.len, strlen(want));
  assert_memory_equal(s.ptr, want, s.len);
}

/* Each service's dependencies come before it. */
static void assert_dependency_order(const struct mn_config *c) {
  for (size_t i = 0; i < c->nservices; i++)
    for (size_t k = 0; k < c->services[i].ndeps; k++) {
      size_t j;
      for (j = 0; j < i; j++)
        if (c->services[j].kind == c->services[i].deps[k])
          break;
      assert_true(j < i);
    }
}

static void hosted_round_trip(void **state) {
  struct mn_config c;
  const struct mn_config_service *s;
  assert_int_equal(mn_config_decode(&c, test_config_hosted, test_config_hosted_len), 0);
  assert_true(c.kernel.heap == 256 * 1024);
  assert_int_equal(c.kernel.max_tasks, 64);
  assert_int_equal(c.kernel.stack_size, 16384);
  assert_int_equal(c.kernel.log_level, MN_LOG_INFO);
  assert_int_equal(c.nservices, MN_SVC_COUNT - 1); /* net: --net starts it */
  assert_null(mn_config_find(&c, MN_SVC_NET));
  assert_int_equal(c.services[0].kind, MN_SVC_SERIAL);
  assert_dependency_order(&c);
  assert_non_null(s = mn_config_find(&c, MN_SVC_SERMUX));
  assert_int_equal(s->u.sermux.ports, 16);
  assert_int_equal(s->u.sermux.max_frame, 512);
  assert_int_equal(s->ndeps, 1);
  assert_int_equal(s->deps[0], MN_SVC_SERIAL);
  assert_non_null(s = mn_config_find(&c, MN_SVC_LOOPBACK));
  assert_int_equal(s->u.loopback.port, 0);
  assert_non_null(s = mn_config_find(&c, MN_SVC_HELLO));
  assert_int_equal(s->u.hello.port, 1);
  assert_int_equal(s->u.hello.interval_ms, 1000);
  assert_str(s->u.hello.message, "hello\r\n");
  assert_non_null(s = mn_config_find(&c, MN_SVC_PSEUDO_KEYBOARD));
  assert_int_equal(s->u.pseudo_keyboard.port, 2);
  assert_int_equal(s->ndeps, 2);
  assert_non_null(s = mn_config_find(&c, MN_SVC_TRACING));
  assert_int_equal(s->u.tracing.port, 3);
  assert_int_equal(s->u.tracing.max_level, MN_LOG_INFO);
  assert_int_equal(s->u.tracing.heartbeat_ms, 1000);
  assert_non_null(s = mn_config_find(&c, MN_SVC_FORTH_SHELLS));
  assert_int_equal(s->u.forth_shells.nports, 4);
  for (int i = 0; i < 4; i++)
    assert_int_equal(s->u.forth_shells.ports[i], 10 + i);
  /* the VM sizes' defaults */
  assert_int_equal(s->u.forth_shells.data_bytes, 32 << 10);
  assert_int_equal(s->u.forth_shells.heap_bytes, 32 << 10);
  assert_int_equal(s->u.forth_shells.stack_cells, 256);
  assert_int_equal(s->u.forth_shells.rstack_cells, 256);
  assert_int_equal(s->u.forth_shells.child_stack_cells, 128);
  assert_int_equal(s->u.forth_shells.child_rstack_cells, 128);
  assert_int_equal(c.platform.kind, MN_PLATFORM_HOSTED);
  assert_str(c.platform.u.hosted.serial, "stdio");
}

static void full_round_trip(void **state) {
  struct mn_config c;
  const struct mn_config_service *s;
  assert_int_equal(mn_config_decode(&c, test_config_full, test_config_full_len), 0);
  assert_true(c.kernel.heap == 64u << 20);
  assert_int_equal(c.kernel.max_tasks, 300);
  assert_int_equal(c.kernel.stack_size, 65536);
  assert_int_equal(c.kernel.log_level, MN_LOG_WARN);
  assert_int_equal(c.nservices, MN_SVC_COUNT - 2); /* no status, loopback */
  assert_null(mn_config_find(&c, MN_SVC_STATUS));
  assert_null(mn_config_find(&c, MN_SVC_LOOPBACK));
  assert_dependency_order(&c);
  assert_non_null(s = mn_config_find(&c, MN_SVC_SERMUX));
  assert_int_equal(s->u.sermux.ports, 32);
  assert_int_equal(s->u.sermux.max_frame, 1024);
  assert_non_null(s = mn_config_find(&c, MN_SVC_HELLO));
  assert_int_equal(s->u.hello.port, 5);
  assert_int_equal(s->u.hello.interval_ms, 250);
  assert_str(s->u.hello.message, "h\xc3\xa9llo, world\n");
  assert_non_null(s = mn_config_find(&c, MN_SVC_PSEUDO_KEYBOARD));
  assert_int_equal(s->u.pseudo_keyboard.port, 7);
  assert_non_null(s = mn_config_find(&c, MN_SVC_TRACING));
  assert_int_equal(s->u.tracing.port, 9);
  assert_int_equal(s->u.tracing.max_level, MN_LOG_TRACE);
  assert_int_equal(s->u.tracing.heartbeat_ms, 5000);
  assert_non_null(s = mn_config_find(&c, MN_SVC_FORTH_SHELLS));
  assert_int_equal(s->u.forth_shells.nports, 2);
  assert_int_equal(s->u.forth_shells.ports[0], 20);
  assert_int_equal(s->u.forth_shells.ports[1], 21);
  assert_int_equal(s->u.forth_shells.data_bytes, 16 << 10);
  assert_int_equal(s->u.forth_shells.heap_bytes, 0);
  assert_int_equal(s->u.forth_shells.stack_cells, 64);
  assert_int_equal(s->u.forth_shells.rstack_cells, 48);
  assert_int_equal(s->u.forth_shells.child_stack_cells, 32);
  assert_int_equal(s->u.forth_shells.child_rstack_cells, 24);
  assert_int_equal(c.platform.kind, MN_PLATFORM_X86_64);
  assert_int_equal(c.platform.u.x86_64.serial_port, 0x2f8);
  assert_int_equal(c.platform.u.x86_64.framebuffer, 0);
  assert_non_null(s = mn_config_find(&c, MN_SVC_NET));
  assert_int_equal(s->u.net.dhcp, 0);
  assert_int_equal(s->u.net.address, 0xc0a80714);
  assert_int_equal(s->u.net.netmask, 0xffff0000);
  assert_int_equal(s->u.net.gateway, 0xc0a80701);
  assert_int_equal(s->u.net.ndns, 2);
  assert_int_equal(s->u.net.dns[0], 0xc0a80735);
  assert_int_equal(s->u.net.dns[1], 0x09090909);
  assert_int_equal(s->u.net.dns_port, 5353);
  assert_string_equal(mn_service_name(MN_SVC_NET), "net");
  assert_string_equal(mn_service_name(MN_SVC_PSEUDO_KEYBOARD), "pseudo_keyboard");
  assert_string_equal(mn_service_name(MN_SVC_COUNT), "?");
}

/* Every strict prefix is an error, in a buffer of exactly that size (ASan
 * catches any read past it); so is one byte too many. */
static void truncations_and_trailing_bytes(void **state) {
  const uint8_t *srcs[] = {test_config_hosted, test_config_full};
  size_t lens[] = {test_config_hosted_len, test_config_full_len};
  for (int k = 0; k < 2; k++) {
    for (size_t n = 0; n < lens[k]; n++) {
      struct mn_config c;
      uint8_t *copy = malloc(n ? n : 1);
      memcpy(copy, srcs[k], n);
      int rc = mn_config_decode(&c, copy, n);
      assert_true(rc == MN_ETRUNC || rc == MN_EFORMAT);
      assert_int_equal(c.nservices, 0); /* cleared on error */
      free(copy);
    }
    uint8_t *longer = malloc(lens[k] + 1);
    memcpy(longer, srcs[k], lens[k]);
    longer[lens[k]] = 0;
    struct mn_config c;
    assert_int_equal(mn_config_decode(&c, longer, lens[k] + 1), MN_EDECODE);
    free(longer);
  }
}

/* Every one-byte change decodes or fails cleanly. */
static void mutations_never_crash(void **state) {
  size_t n = test_config_full_len;
  uint8_t *copy = malloc(n);
  static const uint8_t vals[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, 0x10};
  for (size_t i = 0; i < n; i++)
    for (size_t v = 0; v < sizeof vals; v++) {
      struct mn_config c;
      memcpy(copy, test_config_full, n);
      copy[i] = vals[v];
      int rc = mn_config_decode(&c, copy, n);
      assert_true(rc == 0 || rc == MN_ETRUNC || rc == MN_EDECODE ||
                  rc == MN_EOVERFLOW || rc == MN_ERANGE || rc == MN_EFORMAT);
      if (rc == 0)
        assert_dependency_order(&c);
    }
  free(copy);
}

/* Builds config bytes by hand: header, kernel, then the caller's part. */
static void start(struct pc_enc *e, uint8_t *buf, size_t cap, uint32_t version,
                  uint8_t level) {
  pc_enc_init(e, buf, cap);
  pc_enc_raw(e, "MNCF", 4);
  pc_enc_u32(e, version);
  pc_enc_u64(e, 1 << 20);
  pc_enc_u16(e, 8);
  pc_enc_u32(e, 4096);
  pc_enc_u8(e, level);
}

static void hosted_platform(struct pc_enc *e) {
  pc_enc_variant(e, MN_PLATFORM_HOSTED);
  pc_enc_str(e, "stdio", 5);
}

static int decode(struct pc_enc *e) {
  struct mn_config c;
  assert_int_equal(pc_enc_error(e), 0);
  return mn_config_decode(&c, e->buf, pc_enc_len(e));
}

static void malformed_bytes(void **state) {
  uint8_t buf[128];
  struct pc_enc e;
  /* minimal valid: no services */
  start(&e, buf, sizeof buf, 1, MN_LOG_INFO);
  pc_enc_seq_len(&e, 0);
  hosted_platform(&e);
  assert_int_equal(decode(&e), 0);
  /* wrong magic, wrong version */
  buf[0] = 'X';
  assert_int_equal(decode(&e), MN_EFORMAT);
  start(&e, buf, sizeof buf, 2, MN_LOG_INFO);
  pc_enc_seq_len(&e, 0);
  hosted_platform(&e);
  assert_int_equal(decode(&e), MN_EFORMAT);
  /* a heap below the schema's minimum */
  pc_enc_init(&e, buf, sizeof buf);
  pc_enc_raw(&e, "MNCF", 4);
  pc_enc_u32(&e, 1);
  pc_enc_u64(&e, 100);
  pc_enc_u16(&e, 8);
  pc_enc_u32(&e, 4096);
  pc_enc_u8(&e, 0);
  pc_enc_seq_len(&e, 0);
  hosted_platform(&e);
  assert_int_equal(decode(&e), MN_ERANGE);
  /* log level out of range */
  start(&e, buf, sizeof buf, 1, 5);
  pc_enc_seq_len(&e, 0);
  hosted_platform(&e);
  assert_int_equal(decode(&e), MN_ERANGE);
  /* unknown service kind */
  start(&e, buf, sizeof buf, 1, 0);
  pc_enc_seq_len(&e, 1);
  pc_enc_variant(&e, MN_SVC_COUNT);
  pc_enc_seq_len(&e, 0);
  hosted_platform(&e);
  assert_int_equal(decode(&e), MN_EDECODE);
  /* a service twice */
  start(&e, buf, sizeof buf, 1, 0);
  pc_enc_seq_len(&e, 2);
  pc_enc_variant(&e, MN_SVC_STATUS);
  pc_enc_seq_len(&e, 0);
  pc_enc_variant(&e, MN_SVC_STATUS);
  pc_enc_seq_len(&e, 0);
  hosted_platform(&e);
  assert_int_equal(decode(&e), MN_EDECODE);
  /* a dependency that is not listed before its user */
  start(&e, buf, sizeof buf, 1, 0);
  pc_enc_seq_len(&e, 2);
  pc_enc_variant(&e, MN_SVC_LOOPBACK);
  pc_enc_u16(&e, 0);
  pc_enc_seq_len(&e, 1);
  pc_enc_variant(&e, MN_SVC_SERMUX);
  pc_enc_variant(&e, MN_SVC_SERMUX);
  pc_enc_u16(&e, 16);
  pc_enc_u32(&e, 512);
  pc_enc_seq_len(&e, 0);
  hosted_platform(&e);
  assert_int_equal(decode(&e), MN_EDECODE);
  /* too many shell ports; zero ports */
  for (int nports = 0; nports <= 9; nports += 9) {
    start(&e, buf, sizeof buf, 1, 0);
    pc_enc_seq_len(&e, 1);
    pc_enc_variant(&e, MN_SVC_FORTH_SHELLS);
    pc_enc_seq_len(&e, (size_t)nports);
    for (int i = 0; i < nports; i++)
      pc_enc_u16(&e, (uint16_t)(10 + i));
    pc_enc_seq_len(&e, 0);
    hosted_platform(&e);
    assert_int_equal(decode(&e), MN_ERANGE);
  }
  /* tracing level out of range */
  start(&e, buf, sizeof buf, 1, 0);
  pc_enc_seq_len(&e, 1);
  pc_enc_variant(&e, MN_SVC_TRACING);
  pc_enc_u16(&e, 3);
  pc_enc_u8(&e, 9);
  pc_enc_u32(&e, 1000);
  pc_enc_seq_len(&e, 0);
  hosted_platform(&e);
  assert_int_equal(decode(&e), MN_ERANGE);
  /* a port that overflows u16; a string that is not UTF-8 */
  start(&e, buf, sizeof buf, 1, 0);
  pc_enc_seq_len(&e, 1);
  pc_enc_variant(&e, MN_SVC_LOOPBACK);
  pc_enc_u32(&e, 70000);
  pc_enc_seq_len(&e, 0);
  hosted_platform(&e);
  assert_int_equal(decode(&e), MN_EOVERFLOW);
  start(&e, buf, sizeof buf, 1, 0);
  pc_enc_seq_len(&e, 0);
  pc_enc_variant(&e, MN_PLATFORM_HOSTED);
  pc_enc_str(&e, "\xff", 1);
  assert_int_equal(decode(&e), MN_EDECODE);
  /* unknown platform; bad bool */
  start(&e, buf, sizeof buf, 1, 0);
  pc_enc_seq_len(&e, 0);
  pc_enc_variant(&e, 3);
  assert_int_equal(decode(&e), MN_EDECODE);
  /* aarch64: one bool */
  start(&e, buf, sizeof buf, 1, 0);
  pc_enc_seq_len(&e, 0);
  pc_enc_variant(&e, MN_PLATFORM_AARCH64);
  pc_enc_u8(&e, 1);
  struct mn_config c;
  assert_int_equal(mn_config_decode(&c, buf, pc_enc_len(&e)), 0);
  assert_int_equal(c.platform.kind, MN_PLATFORM_AARCH64);
  assert_int_equal(c.platform.u.aarch64.framebuffer, 1);
  start(&e, buf, sizeof buf, 1, 0);
  pc_enc_seq_len(&e, 0);
  pc_enc_variant(&e, MN_PLATFORM_AARCH64);
  pc_enc_u8(&e, 2);
  assert_int_equal(decode(&e), MN_EDECODE);
  start(&e, buf, sizeof buf, 1, 0);
  pc_enc_seq_len(&e, 0);
  pc_enc_variant(&e, MN_PLATFORM_X86_64);
  pc_enc_u16(&e, 0x3f8);
  pc_enc_u8(&e, 2);
  assert_int_equal(decode(&e), MN_EDECODE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hosted_round_trip),
      cmocka_unit_test(full_round_trip),
      cmocka_unit_test(truncations_and_trailing_bytes),
      cmocka_unit_test(mutations_never_crash),
      cmocka_unit_test(malformed_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
