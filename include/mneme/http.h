/* mneme/http.h: HTTP/1.1 responses, parsed by Debian's http-parser
 * (docs/http.md). The parser is streaming: bytes go in as they arrive
 * from the connection, the body comes out through a callback as it is
 * decoded (Content-Length, chunked, or until close). */
#ifndef MNEME_HTTP_H
#define MNEME_HTTP_H
#include <stddef.h>
#include <stdint.h>
#include <http_parser.h>
#include "mneme/uuid.h"

struct bbq;

/* Largest header block accepted (status line and all headers). */
#define HTTP_HEADER_LIMIT 65536

typedef void (*http_body_fn)(void *ctx, const char *data, size_t len);

typedef struct {
    http_parser p;
    http_parser_settings s;
    http_body_fn on_body;
    void *ctx;
    int status;          /* 0 until the status line is complete */
    int headers_done;    /* header block complete */
    int complete;        /* whole message received */
    uint64_t body_bytes; /* body bytes delivered */
    const char *error;   /* the first error, in words; NULL if none */
} http_response;

void http_response_init(http_response *r, http_body_fn on_body, void *ctx);

/* Feeds bytes received; returns 0, or -1 with r->error set (the response
 * is then unusable). Bytes after a complete message are an error. */
int http_response_feed(http_response *r, const char *data, size_t len);

/* The connection closed: returns 0 if the message is complete (or ends at
 * close), -1 with r->error ("connection closed before the body ended",
 * ...) otherwise. */
int http_response_eof(http_response *r);

/* ---- the client (kernel: over the network service, TLS for https) ----
 *
 * http_request() runs in the calling task: it resolves and connects (or
 * reuses a kept-alive connection to the same scheme, host and port),
 * does the TLS handshake for https (certificates checked against the
 * trust store at the wall-clock time, seeded from the entropy service),
 * sends the request, and hands the response to the callbacks as it
 * arrives: the status and each header once, then the body in pieces as
 * they are decoded (the chat reads server-sent events token by token).
 * Redirects (301/302/303/307/308, at most max_redirects, https never to
 * http) are followed for GET. Every failure is an MN_E* code with the
 * reason in words in res->error ("certificate expired", "connect timed
 * out", "body shorter than Content-Length", ...). */

#define HTTP_URL_HOST_MAX 255
#define HTTP_URL_PATH_MAX 2047

struct http_url {
  uint8_t https;                       /* scheme https (else http) */
  uint16_t port;                       /* explicit, or 443 / 80 */
  char host[HTTP_URL_HOST_MAX + 1];    /* name or IPv4 literal */
  char path[HTTP_URL_PATH_MAX + 1];    /* "/" at least; query included */
};

/* Parses "http[s]://host[:port][/path[?query]]". 0, or MN_EINVAL with
 * the reason in *why. */
int http_url_parse(const char *url, size_t len, struct http_url *out, const char **why);

/* Callbacks; return 0 to go on, nonzero to stop (the request then ends
 * with MN_ECANCELED and the connection is not reused). */
typedef int (*http_status_fn)(void *ctx, int status);
typedef int (*http_header_fn)(void *ctx, const char *name, size_t nlen,
                              const char *value, size_t vlen);
typedef int (*http_data_fn)(void *ctx, const char *data, size_t len);

struct http_client_request {
  const char *method;                  /* "GET", "POST", ... */
  const char *url;
  size_t url_len;
  const char *headers;                 /* extra lines, each ending "\r\n"; or NULL */
  const void *body;                    /* POST body (Content-Length is added) */
  size_t body_len;
  uint64_t connect_timeout_ns;         /* name + TCP + TLS handshake; 0: 15 s */
  uint64_t read_timeout_ns;            /* each wait for bytes; 0: 60 s */
  int max_redirects;                   /* < 0: 5 */
  http_status_fn on_status;            /* each may be NULL */
  http_header_fn on_header;
  http_data_fn on_body;
  /* Polled about every 100 ms while waiting for the response's bytes
   * (or NULL): nonzero ends the request with MN_ECANCELED, so a caller
   * that no longer wants the answer (a cancelled chat reply) is not held
   * until a silent server's next bytes or the read timeout. Gets ctx. */
  int (*stop)(void *ctx);
  void *ctx;
};

struct http_client_result {
  int status;                          /* the final response's status, 0 if none */
  uint64_t body_bytes;
  uint8_t reused;                      /* a kept-alive connection was used */
  uint8_t redirects;                   /* how many were followed */
  char error[128];                     /* the reason, when http_request fails */
  char tls[160];                       /* tls_client_info() of the connection, "" for http */
  char peer[192];                      /* tls_client_peer(): subject; expiry ("" for http) */
};

/* 0 when a complete response arrived (any status: 404 is not an error
 * here); else an MN_E* code and res->error. */
int http_request(const struct http_client_request *req, struct http_client_result *res);

/* Closes the kept-alive connections (tests, shutdown). */
void http_client_reset(void);

/* ---- the http service (HTTP_UUID, kernel-only) ----
 *
 * http_request() needs a deep stack (TLS: RSA and EC arithmetic) and
 * waits for the whole exchange. A task with a small stack (a Forth VM)
 * or one that must keep doing other work asks the http service instead:
 * the service runs the request in a worker task of its own and the body
 * streams into a byte ring the caller reads as it arrives (back-pressure:
 * the worker waits while the ring is full). A stream is reference
 * counted between caller and worker, so a caller that gives up early
 * (http_stream_end before the end) leaves nothing dangling: the worker
 * sees the ring closed, stops the request and frees what is left.
 *
 *   struct http_stream *s;
 *   http_stream_start(&req, &s);          // req's strings are copied
 *   while (!http_stream_read(s, buf, cap, timeout, &n) && n) use(buf, n);
 *   err = http_stream_end(s, &res);       // the request's result
 */
#define HTTP_UUID UUID_INIT(0x68747470, 0x6373, 0x4d2b, 0x9b21, 0x7e1d5a000001ull)

struct http_stream;

/* Starts req in the service (on_* callbacks of req are not used; the
 * body goes to the stream). 0, MN_ENOMEM, MN_EBUSY (too many requests
 * running), MN_ENETDOWN (no http service), MN_EINVAL. */
int http_stream_start(const struct http_client_request *req, struct http_stream **out);
/* The response status once its status line came (0 before). */
int http_stream_status(const struct http_stream *s);
/* Reads body bytes: 0 and *got > 0; 0 and *got == 0 at the end of the
 * body (or when the request failed: http_stream_end says why);
 * MN_ETIMEDOUT. */
int http_stream_read(struct http_stream *s, void *buf, size_t cap, uint64_t timeout_ns,
                     size_t *got);
/* The ring the body arrives in (for a caller that waits on its waker);
 * closed at the end. */
struct bbq *http_stream_ring(struct http_stream *s);
/* Ends the stream: the request's MN_ code and result (res may be NULL;
 * if the request still runs it is stopped: MN_ECANCELED). */
int http_stream_end(struct http_stream *s, struct http_client_result *res);

/* Starts the service (the network service's svcstart does, and adds the
 * words HTTP-GET and TLS-INFO). 0, MN_EEXIST, MN_ENOMEM. */
int http_start(void);
#endif
