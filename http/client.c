/* The HTTP/1.1 client (include/mneme/http.h): URLs, requests over plain
 * TCP or TLS, responses through http/response.c (Debian's http-parser),
 * kept-alive connections, redirects, timeouts, every failure in words.
 * It runs on a struct http_io (http/io.h): the network service in the
 * kernel, host sockets in host tests and the bench. No formatted
 * printing: it builds the same for the kernel and the host. */
#include "io.h"
#include <mneme/err.h>
#include <mneme/http.h>
#include <mneme/tls.h>
#include <string.h>

#define KEEP_MAX 4                      /* idle connections kept */
#define BUF_SIZE 16384                  /* read buffer */
#define NAME_MAX_LEN 256                /* a header's name */
#define VALUE_MAX_LEN 8192              /* a header's value */
#define HEAD_EXTRA 1024                 /* request line and our headers */
#define DEF_CONNECT_NS 15000000000ull
#define DEF_READ_NS 60000000000ull
#define DEF_REDIRECTS 5
#define SEED_WAIT_NS 10000000000ull

static const struct http_io *io;

void http_client_set_io(const struct http_io *i)
{
    io = i;
}

/* ---- small string helpers ------------------------------------------------ */

struct sb {
    char *p;
    size_t n, cap;
};

static void sb_put(struct sb *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap)
        n = b->n + 1 < b->cap ? b->cap - 1 - b->n : 0;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_str(struct sb *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_num(struct sb *b, uint64_t v)
{
    char d[24];
    int i = sizeof d;
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    sb_put(b, d + i, sizeof d - (size_t)i);
}

static int fail(struct http_client_result *res, int err, const char *a, const char *b, const char *c)
{
    struct sb s = {res->error, 0, sizeof res->error};
    res->error[0] = 0;
    sb_str(&s, a);
    if (b)
        sb_str(&s, b);
    if (c)
        sb_str(&s, c);
    return err;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static int ieq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++)
        if (lower(a[i]) != lower(b[i]))
            return 0;
    return 1;
}

/* ---- URLs ----------------------------------------------------------------- */

int http_url_parse(const char *url, size_t len, struct http_url *out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    memset(out, 0, sizeof *out);
    size_t i;
    if (len >= 7 && ieq(url, 7, "http://")) {
        i = 7;
    } else if (len >= 8 && ieq(url, 8, "https://")) {
        i = 8;
        out->https = 1;
    } else {
        *why = "the URL must start with http:// or https://";
        return MN_EINVAL;
    }
    out->port = out->https ? 443 : 80;
    size_t h = i;
    while (i < len && url[i] != '/' && url[i] != ':' && url[i] != '?' && url[i] != '#') {
        char c = url[i];
        if (c == '@') {
            *why = "user names in URLs are not supported";
            return MN_EINVAL;
        }
        if (c == '[') {
            *why = "IPv6 addresses are not supported";
            return MN_EINVAL;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.')) {
            *why = "the host name has a character that is not a letter, digit, '-' or '.'";
            return MN_EINVAL;
        }
        i++;
    }
    if (i == h) {
        *why = "the URL has no host name";
        return MN_EINVAL;
    }
    if (i - h > HTTP_URL_HOST_MAX) {
        *why = "the host name is too long";
        return MN_EINVAL;
    }
    for (size_t k = h; k < i; k++)
        out->host[k - h] = lower(url[k]);
    if (i < len && url[i] == ':') {
        i++;
        unsigned long port = 0;
        size_t d = i;
        while (i < len && url[i] >= '0' && url[i] <= '9' && i - d < 6)
            port = port * 10 + (unsigned long)(url[i++] - '0');
        if (i == d || port < 1 || port > 65535 || (i < len && url[i] != '/' && url[i] != '?' && url[i] != '#')) {
            *why = "bad port number in the URL (1 to 65535)";
            return MN_EINVAL;
        }
        out->port = (uint16_t)port;
    }
    size_t p = 0;
    if (i >= len || url[i] != '/')
        out->path[p++] = '/';
    for (; i < len && url[i] != '#'; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f) {
            *why = "the URL has a space or a control character (encode it as %XX)";
            return MN_EINVAL;
        }
        if (p >= HTTP_URL_PATH_MAX) {
            *why = "the URL's path is too long";
            return MN_EINVAL;
        }
        out->path[p++] = (char)c;
    }
    out->path[p] = 0;
    return 0;
}

/* Location (absolute, scheme-relative, absolute path or relative path)
 * against base, into *out. 0 or MN_EPROTO with *why. */
static int url_join(const struct http_url *base, const char *loc, size_t len, struct http_url *out,
                    const char **why)
{
    if ((len >= 7 && ieq(loc, 7, "http://")) || (len >= 8 && ieq(loc, 8, "https://")))
        return http_url_parse(loc, len, out, why) ? MN_EPROTO : 0;
    char *tmp = io->alloc(HTTP_URL_HOST_MAX + HTTP_URL_PATH_MAX + 64);
    if (!tmp) {
        *why = "out of memory";
        return MN_ENOMEM;
    }
    struct sb b = {tmp, 0, HTTP_URL_HOST_MAX + HTTP_URL_PATH_MAX + 64};
    sb_str(&b, base->https ? "https:" : "http:");
    if (len >= 2 && loc[0] == '/' && loc[1] == '/') {
        sb_put(&b, loc, len);
    } else {
        sb_str(&b, "//");
        sb_str(&b, base->host);
        sb_str(&b, ":");
        sb_num(&b, base->port);
        if (len && loc[0] == '/') {
            sb_put(&b, loc, len);
        } else {
            const char *slash = base->path;
            for (const char *q = base->path; *q && *q != '?'; q++)
                if (*q == '/')
                    slash = q;
            sb_put(&b, base->path, (size_t)(slash - base->path) + 1);
            sb_put(&b, loc, len);
        }
    }
    int err = http_url_parse(tmp, b.n, out, why) ? MN_EPROTO : 0;
    io->free(tmp);
    return err;
}

/* ---- connections ---------------------------------------------------------- */

struct hconn {
    uint8_t https;
    uint16_t port;
    char host[HTTP_URL_HOST_MAX + 1];
    void *tc;                     /* the transport's connection */
    struct tls_client *tls;       /* https only */
    uint64_t timeout_ns;          /* for the TLS callbacks' waits */
    uint64_t deadline;            /* 0: none; else the handshake's end */
    int err;                      /* the transport's last error */
    int (*stop)(void *ctx);       /* the request's stop poll, while it reads */
    void *stop_ctx;
};

#define STOP_POLL_NS 100000000ull /* how often a waiting read asks stop */

/* io->read, in slices of STOP_POLL_NS when the request has a stop poll:
 * MN_ECANCELED as soon as it says stop. */
static int sliced_read(struct hconn *c, void *b, size_t cap, uint64_t timeout_ns, size_t *got)
{
    if (!c->stop)
        return io->read(c->tc, b, cap, timeout_ns, got);
    uint64_t end = io->now_ns() + timeout_ns;
    for (;;) {
        uint64_t now = io->now_ns(), left = end > now ? end - now : 0;
        int err = io->read(c->tc, b, cap, left < STOP_POLL_NS ? left : STOP_POLL_NS, got);
        if (err != MN_ETIMEDOUT)
            return err;
        if (c->stop(c->stop_ctx))
            return MN_ECANCELED;
        if (io->now_ns() >= end)
            return MN_ETIMEDOUT;
    }
}

static struct hconn *idle[KEEP_MAX];

static void conn_free(struct hconn *c)
{
    if (c->tls)
        io->free(c->tls);
    io->free(c);
}

static void conn_close(struct hconn *c, int polite)
{
    if (c->tls && polite)
        tls_client_close(c->tls);
    io->close(c->tc);
    conn_free(c);
}

static uint64_t wait_for(struct hconn *c)
{
    if (!c->deadline)
        return c->timeout_ns;
    uint64_t now = io->now_ns();
    return now >= c->deadline ? 0 : c->deadline - now;
}

static int tls_send(void *ctx, const void *d, size_t n)
{
    struct hconn *c = ctx;
    int err = io->write(c->tc, d, n, wait_for(c));
    if (err) {
        c->err = err;
        return -1;
    }
    return (int)n;
}

static int tls_recv(void *ctx, void *b, size_t n)
{
    struct hconn *c = ctx;
    size_t got;
    uint64_t w = wait_for(c);
    int err = w ? sliced_read(c, b, n, w, &got) : MN_ETIMEDOUT;
    if (err) {
        c->err = err;
        return -1;
    }
    return (int)got;
}

static void host_port(struct sb *b, const struct http_url *u)
{
    sb_str(b, u->host);
    if (u->port != (u->https ? 443 : 80)) {
        sb_str(b, ":");
        sb_num(b, u->port);
    }
}

static int conn_open(const struct http_url *u, uint64_t timeout_ns, struct hconn **out,
                     struct http_client_result *res)
{
    uint64_t deadline = io->now_ns() + timeout_ns;
    struct hconn *c = io->alloc(sizeof *c);
    if (!c)
        return fail(res, MN_ENOMEM, "out of memory", 0, 0);
    memset(c, 0, sizeof *c);
    c->https = u->https;
    c->port = u->port;
    memcpy(c->host, u->host, sizeof c->host);
    char where[HTTP_URL_HOST_MAX + 16];
    struct sb w = {where, 0, sizeof where};
    sb_str(&w, u->host);
    sb_str(&w, ":");
    sb_num(&w, u->port);
    int err = io->connect(u->host, u->port, timeout_ns, &c->tc);
    if (err) {
        io->free(c);
        if (err == MN_ETIMEDOUT)
            return fail(res, err, "connect to ", where, " timed out");
        if (err == MN_ENONAME)
            return fail(res, err, "name not found: ", u->host, 0);
        fail(res, err, "connect to ", where, ": ");
        struct sb e = {res->error, strlen(res->error), sizeof res->error};
        sb_str(&e, mn_strerror(err));
        return err;
    }
    if (u->https) {
        int64_t now = 0;
        io->unix_time(&now); /* an unset clock is said by the TLS client */
        unsigned char seed[32];
        err = io->random(seed, sizeof seed, SEED_WAIT_NS);
        if (err) {
            io->close(c->tc);
            io->free(c);
            return fail(res, MN_ETLS, "no entropy to seed TLS (the random generator is not seeded)", 0,
                        0);
        }
        c->tls = io->alloc(tls_client_size());
        if (!c->tls) {
            io->close(c->tc);
            io->free(c);
            return fail(res, MN_ENOMEM, "out of memory", 0, 0);
        }
        c->deadline = deadline;
        tls_io t = {tls_send, tls_recv, c};
        int r = tls_client_connect(c->tls, &t, u->host, (long long)now, seed, sizeof seed);
        memset(seed, 0, sizeof seed);
        c->deadline = 0;
        if (r < 0) {
            if (c->err == MN_ETIMEDOUT)
                fail(res, MN_ETIMEDOUT, "TLS handshake with ", where, " timed out");
            else
                fail(res, MN_ETLS, "TLS: ", tls_client_error(c->tls), 0);
            err = c->err == MN_ETIMEDOUT ? MN_ETIMEDOUT : MN_ETLS;
            conn_close(c, 0);
            return err;
        }
    }
    *out = c;
    return 0;
}

static struct hconn *conn_take(const struct http_url *u)
{
    for (int i = 0; i < KEEP_MAX; i++) {
        struct hconn *c = idle[i];
        if (c && c->https == u->https && c->port == u->port && !strcmp(c->host, u->host)) {
            idle[i] = NULL;
            return c;
        }
    }
    return NULL;
}

static void conn_keep(struct hconn *c)
{
    c->stop = NULL; /* the request's, not the connection's */
    for (int i = 0; i < KEEP_MAX; i++)
        if (!idle[i]) {
            idle[i] = c;
            return;
        }
    conn_close(idle[0], 1); /* the oldest slot goes */
    idle[0] = c;
}

void http_client_reset(void)
{
    for (int i = 0; i < KEEP_MAX; i++)
        if (idle[i]) {
            conn_close(idle[i], 1);
            idle[i] = NULL;
        }
}

static int conn_write(struct hconn *c, const void *d, size_t n, uint64_t timeout_ns)
{
    c->timeout_ns = timeout_ns;
    if (c->tls)
        return tls_client_write(c->tls, d, n) < 0 ? (c->err ? c->err : MN_ETLS) : 0;
    return io->write(c->tc, d, n, timeout_ns);
}

/* 0 and *got (0 at the end), or an error. A TLS connection closed
 * without close_notify ends the stream too: the HTTP framing says
 * whether the body was whole. */
static int conn_read(struct hconn *c, void *b, size_t cap, uint64_t timeout_ns, size_t *got)
{
    c->timeout_ns = timeout_ns;
    *got = 0;
    if (!c->tls)
        return sliced_read(c, b, cap, timeout_ns, got);
    c->err = 0;
    int n = tls_client_read(c->tls, b, cap);
    if (n >= 0) {
        *got = (size_t)n;
        return 0;
    }
    if (c->err)
        return c->err;
    const char *e = tls_client_error(c->tls);
    return !strcmp(e, "the server closed the connection without close_notify") ? 0 : MN_ETLS;
}

/* ---- one exchange ------------------------------------------------------- */

struct rctx {
    http_response r;
    const struct http_client_request *req;
    struct http_client_result *res;
    const char *method;
    int follow;                   /* redirects are followed for this method */
    int redirect;                 /* this response is a redirect to follow */
    int stop;                     /* a callback asked to stop */
    int status_told;
    const char *error;            /* a header failure */
    char *name, *value;           /* the header being read */
    size_t nlen, vlen;
    int in_value;
    char *location;               /* the redirect's Location */
    size_t loc_len;
};

static struct rctx *rc_of(http_parser *p)
{
    return (struct rctx *)p->data;
}

static void tell_status(struct rctx *x)
{
    if (x->status_told || x->redirect)
        return;
    x->status_told = 1;
    if (x->req->on_status && !x->stop && x->req->on_status(x->req->ctx, x->r.status))
        x->stop = 1;
}

static int header_done(struct rctx *x)
{
    if (!x->in_value)
        return 0;
    x->in_value = 0;
    if (ieq(x->name, x->nlen, "location")) {
        memcpy(x->location, x->value, x->vlen);
        x->loc_len = x->vlen;
    }
    if (!x->redirect) {
        tell_status(x);
        if (x->req->on_header && !x->stop &&
            x->req->on_header(x->req->ctx, x->name, x->nlen, x->value, x->vlen))
            x->stop = 1;
    }
    x->nlen = x->vlen = 0;
    return 0;
}

static int cb_status(http_parser *p, const char *at, size_t len)
{
    struct rctx *x = rc_of(p);
    x->r.status = (int)p->status_code;
    int s = x->r.status;
    x->redirect = x->follow && (s == 301 || s == 302 || s == 303 || s == 307 || s == 308);
    return 0;
}

static int cb_field(http_parser *p, const char *at, size_t len)
{
    struct rctx *x = rc_of(p);
    header_done(x);
    if (x->nlen + len > NAME_MAX_LEN) {
        x->error = "a response header name is too long";
        return 1;
    }
    memcpy(x->name + x->nlen, at, len);
    x->nlen += len;
    return 0;
}

static int cb_value(http_parser *p, const char *at, size_t len)
{
    struct rctx *x = rc_of(p);
    x->in_value = 1;
    if (x->vlen + len > VALUE_MAX_LEN) {
        x->error = "a response header value is too long (over 8 KB)";
        return 1;
    }
    memcpy(x->value + x->vlen, at, len);
    x->vlen += len;
    return 0;
}

static int cb_headers_complete(http_parser *p)
{
    struct rctx *x = rc_of(p);
    header_done(x);
    x->r.status = (int)p->status_code;
    x->r.headers_done = 1;
    if (x->redirect && !x->loc_len) {
        x->redirect = 0; /* no Location: this is the final response */
    }
    tell_status(x);
    /* A response to HEAD has no body whatever its headers say. */
    return !strcmp(x->method, "HEAD") ? 1 : 0;
}

static void cb_body(void *ctx, const char *d, size_t n)
{
    struct rctx *x = ctx;
    if (x->redirect || x->stop)
        return;
    x->res->body_bytes += n;
    if (x->req->on_body && x->req->on_body(x->req->ctx, d, n))
        x->stop = 1;
}

enum { RETRY = 1, REDIRECT = 2 };

static int send_request(struct hconn *c, const struct http_url *u, const char *method,
                        const struct http_client_request *req, int with_body, uint64_t timeout)
{
    size_t hl = req->headers ? strlen(req->headers) : 0;
    size_t cap = HEAD_EXTRA + strlen(u->path) + strlen(u->host) + hl;
    char *head = io->alloc(cap);
    if (!head)
        return MN_ENOMEM;
    struct sb b = {head, 0, cap};
    sb_str(&b, method);
    sb_str(&b, " ");
    sb_str(&b, u->path);
    sb_str(&b, " HTTP/1.1\r\nHost: ");
    host_port(&b, u);
    sb_str(&b, "\r\nUser-Agent: mneme\r\nAccept-Encoding: identity\r\n");
    if (with_body || !strcmp(method, "POST") || !strcmp(method, "PUT")) {
        sb_str(&b, "Content-Length: ");
        sb_num(&b, with_body ? req->body_len : 0);
        sb_str(&b, "\r\n");
    }
    if (hl)
        sb_put(&b, req->headers, hl);
    sb_str(&b, "\r\n");
    int err = conn_write(c, head, b.n, timeout);
    io->free(head);
    if (!err && with_body && req->body_len)
        err = conn_write(c, req->body, req->body_len, timeout);
    return err;
}

static int exchange(const struct http_client_request *req, struct http_client_result *res,
                    const struct http_url *u, const char *method, int with_body, struct rctx *x,
                    char *buf)
{
    uint64_t cto = req->connect_timeout_ns ? req->connect_timeout_ns : DEF_CONNECT_NS;
    uint64_t rto = req->read_timeout_ns ? req->read_timeout_ns : DEF_READ_NS;
    for (int attempt = 0;; attempt++) {
        struct hconn *c = attempt ? NULL : conn_take(u);
        int reused = c != NULL;
        if (!c) {
            int err = conn_open(u, cto, &c, res);
            if (err)
                return err;
        }
        res->reused = (uint8_t)reused;
        res->tls[0] = 0;
        if (c->tls) {
            struct sb t = {res->tls, 0, sizeof res->tls};
            sb_str(&t, tls_client_info(c->tls));
            struct sb pe = {res->peer, 0, sizeof res->peer};
            sb_str(&pe, tls_client_peer(c->tls));
        }
        int err = send_request(c, u, method, req, with_body, rto);
        if (err) {
            if (!reused) {
                if (err == MN_ETLS)
                    fail(res, err, "TLS: ", tls_client_error(c->tls), 0);
                else
                    fail(res, err, "sending the request: ", mn_strerror(err), 0);
            }
            conn_close(c, 0);
            if (reused)
                continue; /* the server had closed the kept-alive connection */
            return err;
        }
        /* the response */
        char *name = x->name, *value = x->value, *location = x->location;
        memset(x, 0, sizeof *x);
        x->name = name;
        x->value = value;
        x->location = location;
        x->req = req;
        x->res = res;
        x->method = method;
        x->follow = !strcmp(method, "GET") || !strcmp(method, "HEAD");
        http_response_init(&x->r, cb_body, x);
        x->r.p.data = x;
        x->r.s.on_status = cb_status;
        x->r.s.on_header_field = cb_field;
        x->r.s.on_header_value = cb_value;
        x->r.s.on_headers_complete = cb_headers_complete;
        uint64_t got_any = 0;
        int eof = 0;
        c->stop = req->stop;
        c->stop_ctx = req->ctx;
        res->body_bytes = 0;
        while (!x->r.complete) {
            size_t n;
            err = conn_read(c, buf, BUF_SIZE, rto, &n);
            if (err || n == 0) {
                if (reused && !got_any) {
                    conn_close(c, 0);
                    break; /* retry on a new connection */
                }
                if (err) {
                    int e = err;
                    if (e == MN_ETIMEDOUT) {
                        fail(res, e, "read timed out: no data from ", u->host, " in time");
                    } else if (e == MN_ECANCELED) {
                        fail(res, e, "cancelled while waiting for ", u->host, 0);
                    } else if (e == MN_ETLS) {
                        fail(res, e, "TLS: ", tls_client_error(c->tls), 0);
                    } else {
                        fail(res, e, "reading the response: ", mn_strerror(e), 0);
                    }
                    conn_close(c, 0);
                    return e;
                }
                eof = 1;
                if (http_response_eof(&x->r) < 0) {
                    int short_body = x->r.headers_done && x->r.p.content_length > 0 &&
                                     x->r.p.content_length != (uint64_t)-1;
                    if (short_body) {
                        fail(res, MN_EPROTO, "body shorter than Content-Length (", 0, 0);
                        struct sb e = {res->error, strlen(res->error), sizeof res->error};
                        sb_num(&e, x->r.body_bytes);
                        sb_str(&e, " bytes, then the connection closed)");
                    } else {
                        fail(res, MN_EPROTO, x->r.error, 0, 0);
                    }
                    conn_close(c, 0);
                    return MN_EPROTO;
                }
                break;
            }
            got_any += n;
            if (http_response_feed(&x->r, buf, n) < 0) {
                conn_close(c, 0);
                return fail(res, MN_EPROTO, x->error ? x->error : x->r.error, 0, 0);
            }
            if (x->stop) {
                conn_close(c, 0);
                res->status = x->r.status;
                return fail(res, MN_ECANCELED, "stopped by the caller", 0, 0);
            }
        }
        if (!x->r.complete && !eof)
            continue; /* the retry above */
        res->status = x->r.status;
        if (!eof && http_should_keep_alive(&x->r.p))
            conn_keep(c);
        else
            conn_close(c, 1);
        return x->redirect ? REDIRECT : 0;
    }
}

int http_request(const struct http_client_request *req, struct http_client_result *res)
{
    memset(res, 0, sizeof *res);
    if (!io)
        return fail(res, MN_ENETDOWN, "the network is not started (no HTTP transport)", 0, 0);
    const char *why = NULL;
    struct http_url *u = io->alloc(sizeof *u * 2);
    struct rctx *x = io->alloc(sizeof *x);
    char *mem = io->alloc(BUF_SIZE + NAME_MAX_LEN + 2 * VALUE_MAX_LEN);
    int err = 0;
    if (!u || !x || !mem) {
        err = fail(res, MN_ENOMEM, "out of memory", 0, 0);
        goto out;
    }
    x->name = mem + BUF_SIZE;
    x->value = x->name + NAME_MAX_LEN;
    x->location = x->value + VALUE_MAX_LEN;
    if (http_url_parse(req->url, req->url_len, &u[0], &why)) {
        err = fail(res, MN_EINVAL, why, 0, 0);
        goto out;
    }
    const char *method = req->method ? req->method : "GET";
    int with_body = req->body != NULL;
    int max = req->max_redirects < 0 ? DEF_REDIRECTS : req->max_redirects;
    for (;;) {
        err = exchange(req, res, &u[0], method, with_body, x, mem);
        if (err != REDIRECT)
            break;
        err = 0;
        if (res->redirects >= max) {
            err = fail(res, MN_EPROTO, "too many redirects", 0, 0);
            break;
        }
        int e = url_join(&u[0], x->location, x->loc_len, &u[1], &why);
        if (e) {
            err = fail(res, e, "bad redirect Location: ", why, 0);
            break;
        }
        if (u[0].https && !u[1].https) {
            err = fail(res, MN_EPROTO, "redirect from https to http refused", 0, 0);
            break;
        }
        u[0] = u[1];
        res->redirects++;
        if (res->status == 303) {
            method = "GET";
            with_body = 0;
        }
    }
out:
    if (mem)
        io->free(mem);
    if (x)
        io->free(x);
    if (u)
        io->free(u);
    return err;
}
