/*
 * test_files.h: reading test data in the host unit tests (cmocka): a
 * whole file, and the body of a recorded HTTP response sent with chunked
 * transfer encoding. Either fails the test on a missing file or a bad
 * recording. The caller frees what they return.
 */
#ifndef MNEME_TEST_FILES_H
#define MNEME_TEST_FILES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* The file at path (relative to the repository root, where the tests
 * run), NUL-terminated; its length in *len. */
static inline char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s (run from the repository root)", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *p = malloc((size_t)n + 1);
  assert_non_null(p);
  assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  p[n] = 0;
  *len = (size_t)n;
  return p;
}

/* The body of a raw HTTP response with chunked transfer encoding; its
 * length in *blen. */
static inline char *dechunk(const char *raw, size_t rlen, size_t *blen) {
  const char *hdr_end = strstr(raw, "\r\n\r\n");
  assert_non_null(hdr_end);
  const char *p = hdr_end + 4, *end = raw + rlen;
  char *out = malloc(rlen);
  assert_non_null(out);
  size_t n = 0;
  for (;;) {
    char *e;
    unsigned long sz = strtoul(p, &e, 16);
    assert_true(e[0] == '\r' && e[1] == '\n');
    p = e + 2;
    if (sz == 0) break;
    assert_true(p + sz + 2 <= end);
    memcpy(out + n, p, sz);
    n += sz;
    p += sz + 2;
  }
  *blen = n;
  return out;
}

#endif
