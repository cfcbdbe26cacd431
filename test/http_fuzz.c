/* libFuzzer target: HTTP/1.1 responses. First the parser alone
 * (http/response.c over Debian's http-parser): the input is split at a
 * point taken from its first byte and fed in two pieces, then the
 * connection "closes"; the decoded body must never exceed what was fed.
 * Then the whole client (http/client.c) over a fake transport that
 * answers every connection with the same bytes in pieces: headers,
 * redirects (Location resolved against the URL), keep-alive; it must end
 * with a status or a reason, never crash or loop. */
#include "../http/io.h"
#include <mneme/err.h>
#include <mneme/http.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t got;

static void count(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    (void)data;
    got += len;
}

/* the fake transport: each connection reads the input from the start */
static const uint8_t *in;
static size_t in_len;
struct fconn {
    size_t pos;
    unsigned step;
};

static int f_connect(const char *host, uint16_t port, uint64_t t, void **c)
{
    struct fconn *f = calloc(1, sizeof *f);
    if (!f)
        return MN_ENOMEM;
    f->step = in_len ? in[0] : 1;
    *c = f;
    return 0;
}

static int f_read(void *c, void *buf, size_t cap, uint64_t t, size_t *n)
{
    struct fconn *f = c;
    size_t k = f->step % 97 + 1;
    f->step = f->step * 5 + 3;
    if (k > cap)
        k = cap;
    if (k > in_len - f->pos)
        k = in_len - f->pos;
    memcpy(buf, in + f->pos, k);
    f->pos += k;
    *n = k;
    return 0;
}

static int f_write(void *c, const void *d, size_t len, uint64_t t)
{
    return 0;
}

static void f_close(void *c)
{
    free(c);
}

static uint64_t f_now(void)
{
    return 0;
}

static int f_time(int64_t *s)
{
    *s = 1800000000;
    return 0;
}

static int f_random(void *b, size_t n, uint64_t t)
{
    memset(b, 7, n);
    return 0;
}

static const struct http_io fake = {f_connect, f_read, f_write, f_close, f_now,
                                    f_time,    f_random, malloc, free};

/* TLS is not part of this target (tls_fuzz.sh fuzzes it): a redirect to
 * https fails its handshake here. */
#include <mneme/tls.h>
size_t tls_client_size(void)
{
    return 16;
}
int tls_client_connect(struct tls_client *t, const tls_io *io, const char *host, long long now,
                       const void *seed, size_t len)
{
    return -1;
}
int tls_client_write(struct tls_client *t, const void *d, size_t n)
{
    abort();
}
int tls_client_read(struct tls_client *t, void *b, size_t n)
{
    abort();
}
void tls_client_close(struct tls_client *t)
{
}
const char *tls_client_error(const struct tls_client *t)
{
    return "TLS is not in the HTTP fuzz target";
}
const char *tls_client_info(struct tls_client *t)
{
    abort();
}
const char *tls_client_peer(const struct tls_client *t)
{
    abort();
}

static uint64_t client_body;

static int on_header(void *ctx, const char *n, size_t nl, const char *v, size_t vl)
{
    if (nl > 256 || vl > 8192)
        abort();
    return 0;
}

static int on_body(void *ctx, const char *d, size_t n)
{
    client_body += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    size_t cut = data[0] % size;
    const uint8_t *body = data + 1;
    size_t blen = size - 1;
    if (cut > blen)
        cut = blen;
    http_response r;
    got = 0;
    http_response_init(&r, count, NULL);
    if (http_response_feed(&r, (const char *)body, cut) == 0)
        http_response_feed(&r, (const char *)body + cut, blen - cut);
    http_response_eof(&r);
    if (got > blen || (r.error && r.error[0] == 0))
        abort();

    in = data;
    in_len = size;
    client_body = 0;
    http_client_set_io(&fake);
    struct http_client_request req = {.url = "http://fuzz.test:8080/a/b?q",
                                      .url_len = 27,
                                      .max_redirects = 3,
                                      .on_header = on_header,
                                      .on_body = on_body};
    struct http_client_result res;
    int err = http_request(&req, &res);
    if ((err && !res.error[0]) || client_body != res.body_bytes || client_body > size)
        abort();
    http_client_reset();
    return 0;
}
