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
#endif
