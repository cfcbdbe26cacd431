/*
 * http_response_test.c: HTTP/1.1 responses through http/response.c and
 * Debian's http-parser: a chunked body fed split at every byte boundary
 * (and byte by byte) arrives whole, Content-Length bodies, a body shorter
 * than its Content-Length reported at close, a body ended by close, a
 * 100 KB header block refused, garbage refused, data after the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mneme/http.h>

typedef struct {
    char buf[4096];
    size_t n;
    int calls;
} body;

static void collect(void *ctx, const char *data, size_t len)
{
    body *b = ctx;
    assert_true(b->n + len <= sizeof b->buf);
    memcpy(b->buf + b->n, data, len);
    b->n += len;
    b->calls++;
}

static const char chunked[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "5\r\nhello\r\n"
    "1;ext=1\r\n,\r\n"
    "a\r\n world 123\r\n"
    "0\r\n"
    "X-Trailer: yes\r\n"
    "\r\n";

static void test_chunked_every_split(void **state)
{
    (void)state;
    size_t n = strlen(chunked);
    for (size_t cut = 0; cut <= n; cut++) {
        http_response r;
        body b = {0};
        http_response_init(&r, collect, &b);
        assert_int_equal(http_response_feed(&r, chunked, cut), 0);
        assert_int_equal(http_response_feed(&r, chunked + cut, n - cut), 0);
        assert_true(r.complete);
        assert_int_equal(r.status, 200);
        assert_int_equal(b.n, 16);
        assert_memory_equal(b.buf, "hello, world 123", 16);
        assert_int_equal(http_response_eof(&r), 0);
    }
    /* Byte by byte: the body still arrives as it is decoded. */
    http_response r;
    body b = {0};
    http_response_init(&r, collect, &b);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(http_response_feed(&r, chunked + i, 1), 0);
    assert_true(r.complete);
    assert_int_equal(b.calls, 16);
    assert_memory_equal(b.buf, "hello, world 123", 16);
}

static void test_content_length(void **state)
{
    (void)state;
    const char *m = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here!";
    http_response r;
    body b = {0};
    http_response_init(&r, collect, &b);
    assert_int_equal(http_response_feed(&r, m, strlen(m)), 0);
    assert_true(r.complete);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.body_bytes, 9);
    assert_memory_equal(b.buf, "not here!", 9);
    assert_int_equal(http_response_feed(&r, "x", 1), -1);
    assert_string_equal(r.error, "data after the end of the response");
}

/* A second response in the same bytes is refused, and the parser does
 * not go on into it: the first response's status and body stay. (The
 * client then followed the second one's redirect: found by fuzzing.) */
static void test_two_responses_in_one_read(void **state)
{
    (void)state;
    const char *m = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here!"
                    "HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 2\r\n\r\nhi";
    http_response r;
    body b = {0};
    http_response_init(&r, collect, &b);
    assert_int_equal(http_response_feed(&r, m, strlen(m)), -1);
    assert_string_equal(r.error, "data after the end of the response");
    assert_true(r.complete);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.body_bytes, 9);
    assert_memory_equal(b.buf, "not here!", 9);
}

static void test_short_body(void **state)
{
    (void)state;
    const char *m = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this";
    http_response r;
    body b = {0};
    http_response_init(&r, collect, &b);
    assert_int_equal(http_response_feed(&r, m, strlen(m)), 0);
    assert_false(r.complete);
    assert_int_equal(http_response_eof(&r), -1);
    assert_string_equal(r.error, "connection closed before the body ended");

    http_response_init(&r, collect, &b);
    assert_int_equal(http_response_feed(&r, "HTTP/1.1 200 OK\r\nConte", 22), 0);
    assert_int_equal(http_response_eof(&r), -1);
    assert_string_equal(r.error, "connection closed before the response headers ended");
}

static void test_close_delimited(void **state)
{
    (void)state;
    const char *m = "HTTP/1.0 200 OK\r\n\r\nuntil close";
    http_response r;
    body b = {0};
    http_response_init(&r, collect, &b);
    assert_int_equal(http_response_feed(&r, m, strlen(m)), 0);
    assert_int_equal(http_response_eof(&r), 0);
    assert_true(r.complete);
    assert_int_equal(b.n, 11);
}

static void test_huge_header(void **state)
{
    (void)state;
    http_response r;
    http_response_init(&r, NULL, NULL);
    const char *start = "HTTP/1.1 200 OK\r\nX-Big: ";
    assert_int_equal(http_response_feed(&r, start, strlen(start)), 0);
    char fill[1024];
    memset(fill, 'a', sizeof fill);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = http_response_feed(&r, fill, sizeof fill);
    assert_int_equal(rc, -1);
    assert_string_equal(r.error, "response headers too large");
    assert_int_equal(http_response_feed(&r, "\r\n\r\n", 4), -1);
}

static void test_garbage(void **state)
{
    (void)state;
    const char *bad[] = {
        "SSH-2.0-OpenSSH\r\n",
        "HTTP/1.1 abc OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
    };
    const char *why[] = {
        "not an HTTP/1.x response",
        "bad status line",
        "bad chunk size in a chunked body",
        "bad Content-Length",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_response r;
        http_response_init(&r, NULL, NULL);
        assert_int_equal(http_response_feed(&r, bad[i], strlen(bad[i])), -1);
        assert_string_equal(r.error, why[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunked_every_split), cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_two_responses_in_one_read),
        cmocka_unit_test(test_short_body),          cmocka_unit_test(test_close_delimited),
        cmocka_unit_test(test_huge_header),         cmocka_unit_test(test_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
