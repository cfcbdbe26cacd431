/* HTTP/1.1 response parsing over Debian's http-parser (callbacks, no
 * allocation): status, end of headers, body pieces as they are decoded,
 * errors in words. */
#include <mneme/http.h>
#include <string.h>

static http_response *owner(http_parser *p)
{
    return (http_response *)p->data;
}

static int on_status(http_parser *p, const char *at, size_t len)
{
    owner(p)->status = (int)p->status_code;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    http_response *r = owner(p);
    r->status = (int)p->status_code;
    r->headers_done = 1;
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    http_response *r = owner(p);
    r->body_bytes += len;
    if (r->on_body)
        r->on_body(r->ctx, at, len);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    owner(p)->complete = 1;
    /* Stop here: the parser would otherwise go on to parse any bytes
     * after this response as the next one, and its callbacks would
     * change this response's status and headers. */
    http_parser_pause(p, 1);
    return 0;
}

void http_response_init(http_response *r, http_body_fn fn, void *ctx)
{
    memset(r, 0, sizeof *r);
    http_parser_init(&r->p, HTTP_RESPONSE);
    r->p.data = r;
    http_parser_settings_init(&r->s);
    r->s.on_status = on_status;
    r->s.on_headers_complete = on_headers_complete;
    r->s.on_body = on_body;
    r->s.on_message_complete = on_message_complete;
    r->on_body = fn;
    r->ctx = ctx;
}

static const char *reason(enum http_errno e)
{
    switch (e) {
    case HPE_HEADER_OVERFLOW:
        return "response headers too large";
    case HPE_INVALID_CHUNK_SIZE:
        return "bad chunk size in a chunked body";
    case HPE_INVALID_CONTENT_LENGTH:
    case HPE_UNEXPECTED_CONTENT_LENGTH:
        return "bad Content-Length";
    case HPE_INVALID_VERSION:
    case HPE_INVALID_CONSTANT:
        return "not an HTTP/1.x response";
    case HPE_INVALID_STATUS:
        return "bad status line";
    case HPE_INVALID_EOF_STATE:
        return "connection closed before the body ended";
    default:
        return http_errno_description(e);
    }
}

int http_response_feed(http_response *r, const char *data, size_t len)
{
    if (r->error)
        return -1;
    if (!len)
        return 0;
    if (r->complete) {
        r->error = "data after the end of the response";
        return -1;
    }
    size_t used = http_parser_execute(&r->p, &r->s, data, len);
    enum http_errno e = HTTP_PARSER_ERRNO(&r->p);
    if (e == HPE_PAUSED && r->complete)
        e = HPE_OK; /* paused at the end of the response */
    if (e != HPE_OK) {
        r->error = reason(e);
        return -1;
    }
    if (used != len) {
        r->error = r->complete ? "data after the end of the response"
                               : "response could not be parsed";
        return -1;
    }
    return 0;
}

int http_response_eof(http_response *r)
{
    if (r->error)
        return -1;
    if (r->complete)
        return 0;
    /* A zero-length execute tells the parser the connection ended: that
     * completes a body delimited by close, and is an error otherwise. */
    http_parser_execute(&r->p, &r->s, NULL, 0);
    if (r->complete)
        return 0;
    enum http_errno e = HTTP_PARSER_ERRNO(&r->p);
    r->error = !r->headers_done ? "connection closed before the response headers ended"
               : e != HPE_OK    ? reason(e)
                                : "connection closed before the body ended";
    return -1;
}
