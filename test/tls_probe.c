/* tls_probe: host test tool. Connects to 127.0.0.1:PORT, runs the TLS
 * client (tls/client.c) with host name HOST and the private CA in
 * CA.pem added to the trust store, sends GET / and prints the status, the
 * TLS info and the body (parsed by http/response.c). On failure prints
 * "error: <reason>" and exits 1.
 *
 *   tls_probe PORT HOST CA.pem */
#include <arpa/inet.h>
#include <mneme/http.h>
#include <mneme/tls.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int io_send(void *ctx, const void *d, size_t n)
{
    return (int)send(*(int *)ctx, d, n, MSG_NOSIGNAL);
}

static int io_recv(void *ctx, void *b, size_t n)
{
    return (int)recv(*(int *)ctx, b, n, 0);
}

static void print_body(void *ctx, const char *d, size_t n)
{
    fwrite(d, 1, n, stdout);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: tls_probe PORT HOST CA.pem\n");
        return 2;
    }
    static char pem[65536];
    FILE *f = fopen(argv[3], "rb");
    if (!f) {
        perror(argv[3]);
        return 2;
    }
    size_t plen = fread(pem, 1, sizeof pem, f);
    fclose(f);
    const char *why;
    if (tls_anchors_add_pem(pem, plen, &why) < 0) {
        printf("error: CA: %s\n", why);
        return 1;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("connect");
        return 2;
    }
    unsigned char seed[32];
    if (getrandom(seed, sizeof seed, 0) != sizeof seed)
        return 2;
    static _Alignas(64) unsigned char tstore[65536];
    if (tls_client_size() > sizeof tstore)
        return 2;
    struct tls_client *t = (struct tls_client *)tstore;
    tls_io io = {io_send, io_recv, &fd};
    if (tls_client_connect(t, &io, argv[2], (long long)time(NULL), seed, sizeof seed) < 0) {
        printf("error: %s\n", tls_client_error(t));
        return 1;
    }
    printf("tls: %s\n", tls_client_info(t));
    char req[256];
    int rl = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", argv[2]);
    if (tls_client_write(t, req, (size_t)rl) < 0) {
        printf("error: %s\n", tls_client_error(t));
        return 1;
    }
    http_response r;
    http_response_init(&r, print_body, NULL);
    char buf[4096];
    int n;
    while (!r.complete && (n = tls_client_read(t, buf, sizeof buf)) > 0)
        if (http_response_feed(&r, buf, (size_t)n) < 0)
            break;
    if (!r.complete && http_response_eof(&r) < 0) {
        printf("\nerror: http: %s\n", r.error);
        return 1;
    }
    printf("\nstatus: %d\n", r.status);
    tls_client_close(t);
    close(fd);
    return 0;
}
