/* libFuzzer target: HTTP/1.1 responses (http/response.c over Debian's
 * http-parser). The input is split at a point taken from its first byte
 * and fed in two pieces, then the connection "closes"; the decoded body
 * must never exceed what was fed. */
#include <mneme/http.h>
#include <stdint.h>
#include <stdlib.h>

static size_t got;

static void count(void *ctx, const char *data, size_t len)
{
    (void)ctx;
    (void)data;
    got += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    size_t cut = data[0] % size;
    data++;
    size--;
    if (cut > size)
        cut = size;
    http_response r;
    got = 0;
    http_response_init(&r, count, NULL);
    if (http_response_feed(&r, (const char *)data, cut) == 0)
        http_response_feed(&r, (const char *)data + cut, size - cut);
    http_response_eof(&r);
    if (got > size || (r.error && r.error[0] == 0))
        abort();
    return 0;
}
