/* http/io.h: what the HTTP client (http/client.c) runs on (internal to
 * http/). In the kernel: net.h TCP connections, ktime, the time and
 * entropy services, kmalloc (http/net_io.c, installed when the http
 * service starts); in host tests and the bench: host sockets and the
 * host's clock and getrandom (test/http_probe.c). */
#ifndef HTTP_IO_H
#define HTTP_IO_H
#include <stddef.h>
#include <stdint.h>

struct http_io {
    /* Resolves host (a name or IPv4 literal) and connects within
     * timeout_ns. 0 and *conn, or an MN_E* code. */
    int (*connect)(const char *host, uint16_t port, uint64_t timeout_ns, void **conn);
    /* Reads 1..cap bytes waiting at most timeout_ns: 0 and *got > 0; 0
     * and *got == 0 at the end of the stream; or an MN_E* code
     * (MN_ETIMEDOUT when nothing came in time). */
    int (*read)(void *conn, void *buf, size_t cap, uint64_t timeout_ns, size_t *got);
    /* Writes all of data within timeout_ns. 0 or an MN_E* code. */
    int (*write)(void *conn, const void *data, size_t len, uint64_t timeout_ns);
    void (*close)(void *conn);
    uint64_t (*now_ns)(void);          /* monotonic */
    /* UTC seconds: 0, or MN_ENOENT when the clock is unset. */
    int (*unix_time)(int64_t *s);
    /* Random bytes for TLS: 0, or MN_ETIMEDOUT when not seeded in time. */
    int (*random)(void *buf, size_t len, uint64_t timeout_ns);
    void *(*alloc)(size_t n);
    void (*free)(void *p);
};

/* Sets what the client runs on (before any request). */
void http_client_set_io(const struct http_io *io);
#endif
