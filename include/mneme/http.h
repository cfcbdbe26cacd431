/* mneme/http.h: HTTP/1.1 responses, parsed by Debian's http-parser
 * (docs/http.md). The parser is streaming: bytes go in as they arrive
 * from the connection, the body comes out through a callback as it is
 * decoded (Content-Length, chunked, or until close). */
#ifndef MNEME_HTTP_H
#define MNEME_HTTP_H
#include <stddef.h>
#include <stdint.h>
#include <http_parser.h>

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
  void *ctx;
};

struct http_client_result {
  int status;                          /* the final response's status, 0 if none */
  uint64_t body_bytes;
  uint8_t reused;                      /* a kept-alive connection was used */
  uint8_t redirects;                   /* how many were followed */
  char error[128];                     /* the reason, when http_request fails */
  char tls[160];                       /* tls_client_info() of the connection, "" for http */
};

/* 0 when a complete response arrived (any status: 404 is not an error
 * here); else an MN_E* code and res->error. */
int http_request(const struct http_client_request *req, struct http_client_result *res);

/* Closes the kept-alive connections (tests, shutdown). */
void http_client_reset(void);
#endif
