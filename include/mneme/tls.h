/* mneme/tls.h: TLS (BearSSL) trust store. See docs/tls.md. */
#ifndef MNEME_TLS_H
#define MNEME_TLS_H
#include <stddef.h>

/* Adds every CA certificate in a PEM text (e.g. a private CA) to the trust
 * store. Returns how many were added (>= 1), or a negative error with a
 * reason in *why: no certificate, bad PEM, not a CA, store full. */
int tls_anchors_add_pem(const char *pem, size_t len, const char **why);

/* Number of trusted anchors (built-in Mozilla roots plus added ones). */
size_t tls_anchors_total(void);

/* A TLS 1.2 client (BearSSL) over any byte transport: a net.h TCP
 * connection in the kernel, a socket in host tests. send returns the
 * bytes taken (> 0) or < 0; recv returns bytes read (> 0), 0 when the
 * peer closed, < 0 on error. They may wait (a task waits on its waker). */
typedef struct {
    int (*send)(void *ctx, const void *data, size_t len);
    int (*recv)(void *ctx, void *buf, size_t cap);
    void *ctx;
} tls_io;

struct tls_client;
/* Size of the client state (about 40 KB: contexts and the record buffer). */
size_t tls_client_size(void);

/* Connects: SNI and certificate host name `host`, ALPN http/1.1, TLS 1.2
 * ECDHE with AES-GCM or ChaCha20-Poly1305 only, the chain checked against
 * the trust store at time `unix_now` (seconds since 1970, UTC; a clock
 * before 2024 is reported as "the clock is not set"). `seed` (>= 32
 * bytes from the entropy service) seeds BearSSL's HMAC-DRBG. Returns 0,
 * or -1 with the reason in words from tls_client_error(). */
int tls_client_connect(struct tls_client *t, const tls_io *io, const char *host,
                       long long unix_now, const void *seed, size_t seed_len);
int tls_client_write(struct tls_client *t, const void *data, size_t len);
/* Reads application data: bytes (> 0), 0 at close_notify or close, < 0. */
int tls_client_read(struct tls_client *t, void *buf, size_t cap);
void tls_client_close(struct tls_client *t);
const char *tls_client_error(const struct tls_client *t);
/* "TLS 1.2 ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 x25519 alpn=http/1.1" (the
 * key exchange's curve: x25519, p256 or p384; none when resumed), then
 * " resumed" when the session was resumed and " aes-ni" when AES-GCM runs
 * on AES-NI and PCLMUL (BearSSL's x86ni code, chosen when CPUID has them). */
const char *tls_client_info(struct tls_client *t);
/* The server certificate's subject and expiry after a handshake:
 * "CN=localhost, O=Example; expires 2045-01-01" ("" if not known). */
const char *tls_client_peer(const struct tls_client *t);

/* Session resumption: the parameters of the last session with each host
 * name (8 hosts) are kept; the next connect to that name offers them, and
 * the server may resume (abbreviated handshake, no chain sent). 1 if this
 * connection was resumed. */
int tls_client_resumed(const struct tls_client *t);
/* Forgets every cached session (tests). */
void tls_session_cache_clear(void);
#endif
