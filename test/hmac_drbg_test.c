/*
 * hmac_drbg_test.c: SHA-256 (FIPS 180-2 examples), HMAC-SHA-256 (RFC 4231)
 * and HMAC_DRBG (a NIST CAVP SHA-256 vector, then random cases checked
 * against test/hmac_drbg_ref.py, written with Python's hmac module).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mneme/hmac_drbg.h"
#include "mneme/sha256.h"

static void
unhex(const char *h, uint8_t *out, size_t *len)
{
  size_t n = strlen(h) / 2;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    sscanf(h + 2 * i, "%2x", &v);
    out[i] = (uint8_t)v;
  }
  *len = n;
}

static void
tohex(const uint8_t *p, size_t n, char *out)
{
  for (size_t i = 0; i < n; i++)
    sprintf(out + 2 * i, "%02x", p[i]);
  out[2 * n] = 0;
}

static void
check_sha(const void *msg, size_t len, const char *want)
{
  uint8_t d[32];
  char h[65];
  sha256(msg, len, d);
  tohex(d, 32, h);
  assert_string_equal(h, want);
}

static void
test_sha256(void **state)
{
  (void)state;
  check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  check_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* A million 'a', fed in uneven pieces. */
  static char a[1000000];
  memset(a, 'a', sizeof a);
  struct sha256 s;
  sha256_init(&s);
  for (size_t off = 0, step = 1; off < sizeof a; off += step, step = step * 3 % 1013 + 1)
    sha256_update(&s, a + off, off + step > sizeof a ? sizeof a - off : step);
  uint8_t d[32];
  char h[65];
  sha256_final(&s, d);
  tohex(d, 32, h);
  assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void
test_hmac_rfc4231(void **state)
{
  (void)state;
  uint8_t key[131], d[32];
  char h[65];
  memset(key, 0x0b, 20);
  hmac_sha256(key, 20, &(struct hmac_part){ "Hi There", 8 }, 1, d);
  tohex(d, 32, h);
  assert_string_equal(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  /* Case 2, the data in two parts. */
  struct hmac_part p[2] = { { "what do ya want ", 16 }, { "for nothing?", 12 } };
  hmac_sha256((const uint8_t *)"Jefe", 4, p, 2, d);
  tohex(d, 32, h);
  assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  /* Case 6: a key longer than the block. */
  memset(key, 0xaa, sizeof key);
  static const char m6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
  hmac_sha256(key, 131, &(struct hmac_part){ m6, sizeof m6 - 1 }, 1, d);
  tohex(d, 32, h);
  assert_string_equal(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

/* Instantiate, reseed if asked, generate twice, return the second. */
static void
run(const char *e, const char *n, const char *p, const char *r, const char *add,
    size_t outlen, char *hex)
{
  uint8_t eb[256], nb[256], pb[256], rb[256], ab[256], out[512];
  size_t el = 0, nl = 0, pl = 0, rl = 0, al = 0;
  unhex(e, eb, &el);
  unhex(n, nb, &nl);
  unhex(p, pb, &pl);
  unhex(r, rb, &rl);
  unhex(add, ab, &al);
  struct hmac_drbg d;
  hmac_drbg_instantiate(&d, eb, el, nb, nl, pb, pl);
  if (rl)
    hmac_drbg_reseed(&d, rb, rl, NULL, 0);
  assert_int_equal(hmac_drbg_generate(&d, out, outlen, al ? ab : NULL, al), 0);
  assert_int_equal(hmac_drbg_generate(&d, out, outlen, al ? ab : NULL, al), 0);
  tohex(out, outlen, hex);
}

static void
test_drbg_cavp(void **state)
{
  (void)state;
  char hex[1025];
  /* CAVP HMAC_DRBG.rsp, [SHA-256] no reseed, no personalization, no
   * additional input, COUNT = 0. */
  run("ca851911349384bffe89de1cbdc46e6831e44d34a4fb935ee285dd14b71a7488",
      "659ba96c601dc69fc902940805ec0ca8", "", "", "", 128, hex);
  assert_string_equal(hex,
      "e528e9abf2dece54d47c7e75e5fe302149f817ea9fb4bee6f4199697d04d5b89"
      "d54fbb978a15b5c443c9ec21036d2460b6f73ebad0dc2aba6e624abf07745bc1"
      "07694bb7547bb0995f70de25d6b29e2d3011bb19d27676c07162c8b5ccde0668"
      "961df86803482cb37ed6d5c0bb8d50cf1f50d476aa0458bdaba806f48be9dcb8");
  /* Personalization, reseed and additional input (from the Python
   * reference: hmac_drbg_ref.py E N 6d6e656d65 R 40 a0a1a2a3). */
  run("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
      "2021222324252627", "6d6e656d65",
      "4041424344454647484950515253545556575859606162636465666768696a6b6c6d6e6f",
      "a0a1a2a3", 40, hex);
  assert_string_equal(hex, "50737ad2a8888f67baee1c61b0845d12dbe2f07fda579e313c9fcb4ca5cc734406732c152fdf627f");
}

/* Random sizes and inputs against the Python reference. */
static void
test_drbg_against_python(void **state)
{
  (void)state;
  if (access("test/hmac_drbg_ref.py", R_OK) || system("python3 -c 1 2>/dev/null")) {
    skip();
    return;
  }
  srand(11);
  for (int c = 0; c < 12; c++) {
    char e[129], n[65], p[65], r[129], a[65], want[1100], got[1100], cmd[1024];
    size_t sizes[5] = { 16 + rand() % 48, (size_t)(rand() % 32), (size_t)(rand() % 32),
                        (size_t)(c % 2 ? 32 + rand() % 32 : 0), (size_t)(c % 3 ? rand() % 32 : 0) };
    char *bufs[5] = { e, n, p, r, a };
    for (int k = 0; k < 5; k++) {
      for (size_t i = 0; i < sizes[k]; i++)
        sprintf(bufs[k] + 2 * i, "%02x", rand() & 0xff);
      bufs[k][2 * sizes[k]] = 0;
    }
    size_t outlen = 1 + (size_t)rand() % 500;
    snprintf(cmd, sizeof cmd, "python3 test/hmac_drbg_ref.py %s %s %s %s %zu %s", e,
             n[0] ? n : "-", p[0] ? p : "-", r[0] ? r : "-", outlen, a[0] ? a : "-");
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    assert_non_null(fgets(want, sizeof want, f));
    assert_int_equal(pclose(f), 0);
    want[strcspn(want, "\n")] = 0;
    run(e, n, p, r, a, outlen, got);
    assert_string_equal(got, want);
  }
}

static void
test_drbg_limits(void **state)
{
  (void)state;
  struct hmac_drbg d;
  static uint8_t big[HMAC_DRBG_MAX_REQUEST + 1];
  hmac_drbg_instantiate(&d, "0123456789abcdef0123456789abcdef", 32, NULL, 0, NULL, 0);
  assert_int_equal(hmac_drbg_generate(&d, big, sizeof big, NULL, 0), -1);
  assert_int_equal(hmac_drbg_generate(&d, big, HMAC_DRBG_MAX_REQUEST, NULL, 0), 0);
  assert_int_equal(d.reseed_counter, 2);
  /* Two outputs in a row differ. */
  uint8_t x[32], y[32];
  hmac_drbg_generate(&d, x, 32, NULL, 0);
  hmac_drbg_generate(&d, y, 32, NULL, 0);
  assert_memory_not_equal(x, y, 32);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sha256),
    cmocka_unit_test(test_hmac_rfc4231),
    cmocka_unit_test(test_drbg_cavp),
    cmocka_unit_test(test_drbg_against_python),
    cmocka_unit_test(test_drbg_limits),
  };
  return cmocka_run_group_tests(tests, 0, 0);
}
