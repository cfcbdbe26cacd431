/* The TLS client: BearSSL's client engine over a tls_io transport, with
 * the trust store, SNI and host name checks, ALPN http/1.1, TLS 1.2 ECDHE
 * AEAD suites only, and every failure in words. */
#include "anchors.h"
#include <mneme/tls.h>
#include <string.h>

struct tls_client {
    br_ssl_client_context cc;
    br_x509_minimal_context xc;
    unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
    tls_io io;
    const char *error;
    char info[160];
};

size_t tls_client_size(void)
{
    return sizeof(struct tls_client);
}

static const uint16_t suites[] = {
    BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,       BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,       BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

static const char *alpn[] = {"http/1.1"};

static const char *reason(int err)
{
    if (err >= BR_ERR_SEND_FATAL_ALERT)
        return "handshake failure: we sent a fatal alert";
    if (err >= BR_ERR_RECV_FATAL_ALERT) {
        switch (err - BR_ERR_RECV_FATAL_ALERT) {
        case 40:
            return "handshake failure: the server refused our offer (TLS 1.2, ECDHE with AES-GCM or "
                   "ChaCha20-Poly1305 only)";
        case 70:
            return "handshake failure: the server does not speak TLS 1.2";
        case 112:
            return "the server does not know this host name (SNI)";
        default:
            return "handshake failure: the server sent a fatal alert";
        }
    }
    switch (err) {
    case BR_ERR_X509_NOT_TRUSTED:
        return "certificate from an unknown issuer (not signed by a trusted CA, "
               "self-signed, or an intermediate is missing)";
    case BR_ERR_X509_EXPIRED:
        return "certificate expired or not yet valid";
    case BR_ERR_X509_TIME_UNKNOWN:
        return "the clock is not set: certificate dates cannot be checked";
    case BR_ERR_X509_BAD_SERVER_NAME:
        return "host name mismatch: the certificate is for another name";
    case BR_ERR_X509_WEAK_PUBLIC_KEY:
        return "certificate key too weak (RSA under 2048 bits)";
    case BR_ERR_X509_BAD_SIGNATURE:
        return "certificate signature is invalid";
    case BR_ERR_X509_UNSUPPORTED:
        return "certificate uses an unsupported algorithm (e.g. SHA-1 or MD5)";
    case BR_ERR_X509_NOT_CA:
        return "an issuer in the chain is not a CA";
    case BR_ERR_X509_FORBIDDEN_KEY_USAGE:
    case BR_ERR_WRONG_KEY_USAGE:
        return "certificate key usage does not allow a TLS server";
    case BR_ERR_X509_EMPTY_CHAIN:
        return "the server sent no certificate";
    case BR_ERR_X509_CRITICAL_EXTENSION:
        return "certificate has an unknown critical extension";
    case BR_ERR_UNSUPPORTED_VERSION:
    case BR_ERR_BAD_VERSION:
        return "the server does not speak TLS 1.2";
    case BR_ERR_BAD_CIPHER_SUITE:
        return "the server chose a suite we do not allow (only ECDHE with AES-GCM "
               "or ChaCha20-Poly1305)";
    case BR_ERR_BAD_SIGNATURE:
        return "handshake failure: the server's key exchange signature is invalid";
    case BR_ERR_BAD_MAC:
        return "record authentication failed (data altered in transit)";
    case BR_ERR_IO:
        return "connection failed or closed during the handshake";
    case BR_ERR_NO_RANDOM:
        return "no entropy to seed the random generator";
    default:
        if (err >= BR_ERR_X509_OK && err < BR_ERR_X509_OK + 40)
            return "bad certificate (cannot be decoded)";
        return "handshake failure: the server sent something that is not valid TLS";
    }
}

static int fail(struct tls_client *t, const char *why)
{
    if (!t->error)
        t->error = why;
    return -1;
}

/* Moves records until `want` state bits show, or fails. */
static int pump(struct tls_client *t, unsigned want)
{
    br_ssl_engine_context *e = &t->cc.eng;
    for (;;) {
        unsigned st = br_ssl_engine_current_state(e);
        if (st & BR_SSL_CLOSED) {
            int err = br_ssl_engine_last_error(e);
            if (err == BR_ERR_OK)
                return 0;
            return fail(t, reason(err));
        }
        if (st & BR_SSL_SENDREC) {
            size_t len;
            unsigned char *buf = br_ssl_engine_sendrec_buf(e, &len);
            int n = t->io.send(t->io.ctx, buf, len);
            if (n <= 0) {
                br_ssl_engine_close(e);
                return fail(t, "connection failed while sending");
            }
            br_ssl_engine_sendrec_ack(e, (size_t)n);
            continue;
        }
        if (st & want)
            return 1;
        if (st & BR_SSL_RECVREC) {
            size_t len;
            unsigned char *buf = br_ssl_engine_recvrec_buf(e, &len);
            int n = t->io.recv(t->io.ctx, buf, len);
            if (n <= 0) {
                int hs = !(st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP)) && !t->info[0];
                return fail(t, n < 0 ? "connection failed while receiving"
                               : hs  ? "the server closed the connection during the handshake"
                                     : "the server closed the connection without close_notify");
            }
            br_ssl_engine_recvrec_ack(e, (size_t)n);
            continue;
        }
        return fail(t, "TLS engine stalled");
    }
}

int tls_client_connect(struct tls_client *t, const tls_io *io, const char *host,
                       long long unix_now, const void *seed, size_t seed_len)
{
    memset(t, 0, sizeof *t);
    t->io = *io;
    if (!host || !host[0])
        return fail(t, "no host name to check the certificate against");
    if (unix_now < 1704067200LL) /* 2024-01-01 */
        return fail(t, "the clock is not set: certificate dates cannot be checked");
    if (!seed || seed_len < 32)
        return fail(t, "no entropy to seed the random generator");
    size_t nta;
    const br_x509_trust_anchor *tas = tls_anchor_array(&nta);
    br_ssl_client_init_full(&t->cc, &t->xc, tas, nta);
    br_ssl_engine_context *e = &t->cc.eng;
    br_ssl_engine_set_versions(e, BR_TLS12, BR_TLS12);
    br_ssl_engine_set_suites(e, suites, sizeof suites / sizeof suites[0]);
    br_x509_minimal_set_minrsa(&t->xc, 256);
    unsigned long long days = (unsigned long long)unix_now / 86400 + 719528;
    br_x509_minimal_set_time(&t->xc, (uint32_t)days, (uint32_t)(unix_now % 86400));
    br_ssl_engine_set_buffer(e, t->iobuf, sizeof t->iobuf, 1);
    br_ssl_engine_set_protocol_names(e, alpn, 1);
    br_ssl_engine_inject_entropy(e, seed, seed_len);
    if (!br_ssl_client_reset(&t->cc, host, 0))
        return fail(t, reason(br_ssl_engine_last_error(e)));
    int r = pump(t, BR_SSL_SENDAPP | BR_SSL_RECVAPP);
    if (r <= 0)
        return fail(t, "the server closed the connection during the handshake");
    return 0;
}

int tls_client_write(struct tls_client *t, const void *data, size_t len)
{
    br_ssl_engine_context *e = &t->cc.eng;
    const unsigned char *p = data;
    size_t left = len;
    while (left) {
        if (pump(t, BR_SSL_SENDAPP) <= 0)
            return fail(t, "connection closed while sending");
        size_t room;
        unsigned char *buf = br_ssl_engine_sendapp_buf(e, &room);
        size_t n = left < room ? left : room;
        memcpy(buf, p, n);
        br_ssl_engine_sendapp_ack(e, n);
        p += n;
        left -= n;
    }
    br_ssl_engine_flush(e, 0);
    if (pump(t, BR_SSL_SENDAPP | BR_SSL_RECVAPP) < 0)
        return -1;
    return (int)len;
}

int tls_client_read(struct tls_client *t, void *buf, size_t cap)
{
    br_ssl_engine_context *e = &t->cc.eng;
    int r = pump(t, BR_SSL_RECVAPP);
    if (r <= 0)
        return r;
    size_t len;
    unsigned char *p = br_ssl_engine_recvapp_buf(e, &len);
    size_t n = len < cap ? len : cap;
    memcpy(buf, p, n);
    br_ssl_engine_recvapp_ack(e, n);
    return (int)n;
}

void tls_client_close(struct tls_client *t)
{
    br_ssl_engine_close(&t->cc.eng);
    if (!t->error)
        pump(t, 0);
}

const char *tls_client_error(const struct tls_client *t)
{
    return t->error ? t->error : "no error";
}

static const char *suite_name(unsigned s)
{
    switch (s) {
    case BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: return "ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
    case BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: return "ECDHE_RSA_WITH_AES_128_GCM_SHA256";
    case BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: return "ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
    case BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: return "ECDHE_RSA_WITH_AES_256_GCM_SHA384";
    case BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: return "ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256";
    case BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: return "ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
    default: return "unknown suite";
    }
}

const char *tls_client_info(struct tls_client *t)
{
    br_ssl_session_parameters sp;
    br_ssl_engine_get_session_parameters(&t->cc.eng, &sp);
    const char *proto = br_ssl_engine_get_selected_protocol(&t->cc.eng);
    const char *parts[] = {br_ssl_engine_get_version(&t->cc.eng) == BR_TLS12 ? "TLS 1.2" : "TLS ?",
                           " ", suite_name(sp.cipher_suite), " alpn=", proto ? proto : "none"};
    size_t n = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t l = strlen(parts[i]);
        if (n + l >= sizeof t->info)
            break;
        memcpy(t->info + n, parts[i], l);
        n += l;
    }
    t->info[n] = 0;
    return t->info;
}
