/* libFuzzer target: bytes from a hostile server fed to the TLS client
 * (tls/client.c over BearSSL) as its received records, the input split
 * into reads at sizes taken from its first bytes. Whatever comes, the
 * client must fail with a reason in words, never crash or loop. */
#include <mneme/tls.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t *in;
static size_t in_len, in_pos;
static uint8_t step;

static int fz_send(void *ctx, const void *d, size_t n)
{
    return (int)n;
}

static int fz_recv(void *ctx, void *b, size_t n)
{
    if (in_pos >= in_len)
        return 0;
    size_t k = step ? step : 1;
    if (k > n)
        k = n;
    if (k > in_len - in_pos)
        k = in_len - in_pos;
    memcpy(b, in + in_pos, k);
    in_pos += k;
    step = (uint8_t)(step * 5 + 3);
    return (int)k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tls_client *t;
    if (!t)
        t = malloc(tls_client_size());
    if (size < 1)
        return 0;
    step = data[0];
    in = data + 1;
    in_len = size - 1;
    in_pos = 0;
    static const uint8_t seed[32] = {1, 2, 3};
    tls_io io = {fz_send, fz_recv, NULL};
    if (tls_client_connect(t, &io, "localhost", 1800000000LL, seed, sizeof seed) == 0) {
        char buf[512];
        while (tls_client_read(t, buf, sizeof buf) > 0)
            ;
    }
    const char *e = tls_client_error(t);
    if (!e || !e[0])
        abort();
    return 0;
}
