/* http_probe: host tool for tests and the bench. Runs mneme's HTTP client
 * (http/client.c, TLS by tls/client.c) over host sockets instead of the
 * network service (http/io.h), with the host's clock and getrandom.
 *
 *   http_probe [options] URL
 *     -c CA.pem     add a private CA to the trust store (repeatable)
 *     -n N          make the request N times (keep-alive reuse is shown)
 *     -s            print the body's sha256 instead of the body
 *     -q            do not print the body
 *     -X METHOD  -d DATA  -H "Name: value"   method, body, extra header
 *     -t MS  -T MS  read and connect(+handshake) timeouts
 *     -r N          at most N redirects
 *   http_probe -c CA.pem -k N URL    N full TLS handshakes to URL's host
 *                                    and port (no session cache): the
 *                                    median handshake time
 *
 * Prints "tls: ...", "peer: ...", "status: N", "reused: 0|1",
 * "redirects: N", "bytes: N", "seconds: S", then on failure
 * "error: <reason>" and exits 1. */
#include "../http/io.h"
#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <mneme/err.h>
#include <mneme/http.h>
#include <mneme/tls.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int wait_fd(int fd, short ev, uint64_t timeout_ns)
{
    struct pollfd p = {fd, ev, 0};
    int ms = timeout_ns / 1000000u > 2000000000u ? 2000000000 : (int)(timeout_ns / 1000000u);
    int r = poll(&p, 1, ms);
    return r > 0 ? 0 : r == 0 ? MN_ETIMEDOUT : MN_EIO;
}

static int h_connect(const char *host, uint16_t port, uint64_t timeout_ns, void **conn)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
    char ps[8];
    snprintf(ps, sizeof ps, "%u", port);
    if (getaddrinfo(host, ps, &hints, &ai))
        return MN_ENONAME;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int err = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            err = errno == ECONNREFUSED ? MN_ECONNREFUSED : MN_EIO;
        } else if (!(err = wait_fd(fd, POLLOUT, timeout_ns))) {
            int e = 0;
            socklen_t el = sizeof e;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
            err = e == 0 ? 0 : e == ECONNREFUSED ? MN_ECONNREFUSED : MN_EIO;
        }
    }
    freeaddrinfo(ai);
    if (err) {
        close(fd);
        return err;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *conn = (void *)(intptr_t)(fd + 1);
    return 0;
}

static int fd_of(void *c)
{
    return (int)(intptr_t)c - 1;
}

static int h_read(void *c, void *buf, size_t cap, uint64_t timeout_ns, size_t *got)
{
    *got = 0;
    for (;;) {
        ssize_t n = recv(fd_of(c), buf, cap, 0);
        if (n >= 0) {
            *got = (size_t)n;
            return 0;
        }
        if (errno != EAGAIN)
            return errno == ECONNRESET ? MN_ECONNRESET : MN_EIO;
        int err = wait_fd(fd_of(c), POLLIN, timeout_ns);
        if (err)
            return err;
    }
}

static int h_write(void *c, const void *d, size_t len, uint64_t timeout_ns)
{
    const char *p = d;
    while (len) {
        ssize_t n = send(fd_of(c), p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN)
            return errno == ECONNRESET || errno == EPIPE ? MN_ECONNRESET : MN_EIO;
        int err = wait_fd(fd_of(c), POLLOUT, timeout_ns);
        if (err)
            return err;
    }
    return 0;
}

static void h_close(void *c)
{
    close(fd_of(c));
}

static int h_time(int64_t *s)
{
    *s = (int64_t)time(NULL);
    return 0;
}

static int h_random(void *b, size_t n, uint64_t t)
{
    return getrandom(b, n, 0) == (ssize_t)n ? 0 : MN_EIO;
}

static const struct http_io host_io = {h_connect, h_read, h_write, h_close, now_ns,
                                       h_time,    h_random, malloc,  free};

struct sink {
    int mode; /* 0 print, 1 sha256, 2 quiet */
    br_sha256_context sha;
};

static int on_body(void *ctx, const char *d, size_t n)
{
    struct sink *s = ctx;
    if (s->mode == 0)
        fwrite(d, 1, n, stdout);
    else if (s->mode == 1)
        br_sha256_update(&s->sha, d, n);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int tls_send(void *ctx, const void *d, size_t n)
{
    return h_write(ctx, d, n, 10000000000ull) ? -1 : (int)n;
}

static int tls_recv(void *ctx, void *b, size_t n)
{
    size_t got;
    return h_read(ctx, b, n, 10000000000ull, &got) ? -1 : (int)got;
}

/* N full handshakes: median time from TCP connected to handshake done. */
static int handshakes(const char *url, int n)
{
    struct http_url u;
    const char *why;
    if (http_url_parse(url, strlen(url), &u, &why)) {
        printf("error: %s\n", why);
        return 1;
    }
    struct tls_client *t = malloc(tls_client_size());
    uint64_t *ms = calloc((size_t)n, sizeof *ms);
    for (int i = 0; i < n; i++) {
        void *c;
        if (h_connect(u.host, u.port, 10000000000ull, &c)) {
            printf("error: connect\n");
            return 1;
        }
        tls_session_cache_clear();
        unsigned char seed[32];
        h_random(seed, sizeof seed, 0);
        tls_io io = {tls_send, tls_recv, c};
        uint64_t t0 = now_ns();
        if (tls_client_connect(t, &io, u.host, (long long)time(NULL), seed, sizeof seed) < 0) {
            printf("error: %s\n", tls_client_error(t));
            return 1;
        }
        ms[i] = now_ns() - t0;
        tls_client_close(t);
        h_close(c);
    }
    qsort(ms, (size_t)n, sizeof *ms, cmp_u64);
    printf("tls: %s\nhandshake-us: %llu\n", tls_client_info(t), (unsigned long long)(ms[n / 2] / 1000));
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    static char buf[65536];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    struct http_client_request req = {.max_redirects = -1};
    struct sink sink = {0};
    int count = 1, hs = 0, opt;
    static char headers[4096];
    size_t hl = 0;
    http_client_set_io(&host_io);
    while ((opt = getopt(argc, argv, "c:n:sqX:d:H:t:T:r:k:")) != -1) {
        switch (opt) {
        case 'c': {
            size_t len;
            const char *why;
            char *pem = slurp(optarg, &len);
            if (!pem || tls_anchors_add_pem(pem, len, &why) < 0) {
                printf("error: CA %s: %s\n", optarg, pem ? why : "cannot read");
                return 2;
            }
            break;
        }
        case 'n': count = atoi(optarg); break;
        case 's': sink.mode = 1; break;
        case 'q': sink.mode = 2; break;
        case 'X': req.method = optarg; break;
        case 'd': req.body = optarg; req.body_len = strlen(optarg); break;
        case 'H': hl += (size_t)snprintf(headers + hl, sizeof headers - hl, "%s\r\n", optarg); break;
        case 't': req.read_timeout_ns = strtoull(optarg, 0, 10) * 1000000ull; break;
        case 'T': req.connect_timeout_ns = strtoull(optarg, 0, 10) * 1000000ull; break;
        case 'r': req.max_redirects = atoi(optarg); break;
        case 'k': hs = atoi(optarg); break;
        default: return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: http_probe [-c CA.pem] [-n N] [-s|-q] [-X M] [-d DATA] [-H H] "
                        "[-t MS] [-T MS] [-r N] [-k N] URL\n");
        return 2;
    }
    if (hs > 0)
        return handshakes(argv[optind], hs);
    req.url = argv[optind];
    req.url_len = strlen(req.url);
    req.headers = hl ? headers : NULL;
    req.on_body = on_body;
    req.ctx = &sink;
    struct http_client_result res;
    for (int i = 0; i < count; i++) {
        br_sha256_init(&sink.sha);
        uint64_t t0 = now_ns();
        int err = http_request(&req, &res);
        double secs = (double)(now_ns() - t0) / 1e9;
        if (sink.mode == 0 && res.body_bytes)
            printf("\n");
        if (res.tls[0])
            printf("tls: %s\npeer: %s\n", res.tls, res.peer);
        printf("status: %d\nreused: %d\nredirects: %d\nbytes: %llu\nseconds: %.6f\n", res.status,
               res.reused, res.redirects, (unsigned long long)res.body_bytes, secs);
        if (sink.mode == 1) {
            unsigned char h[32];
            br_sha256_out(&sink.sha, h);
            printf("sha256: ");
            for (int k = 0; k < 32; k++)
                printf("%02x", h[k]);
            printf("\n");
        }
        if (err) {
            printf("error: %s (%s)\n", res.error, mn_strerror(err));
            return 1;
        }
    }
    http_client_reset();
    return 0;
}
