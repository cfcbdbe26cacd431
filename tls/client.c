/* The TLS client: BearSSL's client engine over a tls_io transport, with
 * the trust store, SNI and host name checks, ALPN http/1.1, TLS 1.2 ECDHE
 * AEAD suites only, session resumption per host name, the peer's subject
 * and expiry, and every failure in words. */
#include "anchors.h"
#include <mneme/tls.h>
#include <string.h>

#define PEER_MAX 192

/* The X.509 engine the SSL engine sees: BearSSL's minimal engine (which
 * does every check) plus a decoder of the first (the server's own)
 * certificate, for its subject and expiry. */
typedef struct {
    const br_x509_class *vtable;
    br_x509_minimal_context *inner;
    br_x509_decoder_context dec;
    unsigned char dn[512];
    size_t dn_len;
    int dn_over;
    unsigned ncert;
    int chain_seen;
    /* The time the chain is checked at (BearSSL's days and seconds). */
    uint32_t now_days, now_secs;
    /* The first certificate of the chain (in the server's order, as the
     * minimal engine checks them) whose dates do not hold at that time:
     * date_bad 1 expired (date_day its notAfter), 2 not yet valid
     * (date_day its notBefore); date_cert its place (0 the server's own). */
    int date_bad;
    unsigned date_cert;
    uint32_t date_day;
    /* The server's own certificate decoded (its notAfter day). */
    int leaf_ok;
    uint32_t leaf_notafter;
} x509_wrap;

struct tls_client {
    br_ssl_client_context cc;
    br_x509_minimal_context xc;
    x509_wrap xw;
    unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
    tls_io io;
    const char *error;
    int resumed;
    char host[64];
    char info[160];
    char peer[PEER_MAX];
    char why[96];            /* a reason made for this connection */
    unsigned char first[3];  /* the first bytes the server sent */
    unsigned nfirst;
};

/* Session cache: the parameters of the last session with each host name
 * (and the peer description, which a resumed handshake does not carry).
 * Tasks are cooperative: no lock. */
#define CACHE_N 8
static struct {
    char host[64];
    br_ssl_session_parameters sp;
    char peer[PEER_MAX];
    unsigned long long age;
} cache[CACHE_N];
static unsigned long long cache_clock;

void tls_session_cache_clear(void)
{
    memset(cache, 0, sizeof cache);
}

static int cache_find(const char *host)
{
    for (int i = 0; i < CACHE_N; i++)
        if (cache[i].host[0] && !strcmp(cache[i].host, host))
            return i;
    return -1;
}

static void cache_put(struct tls_client *t)
{
    br_ssl_session_parameters sp;
    br_ssl_engine_get_session_parameters(&t->cc.eng, &sp);
    int i = cache_find(t->host);
    if (!sp.session_id_len) {
        if (i >= 0)
            cache[i].host[0] = 0;
        return;
    }
    if (i < 0) {
        i = 0;
        for (int k = 1; k < CACHE_N; k++)
            if (cache[k].age < cache[i].age)
                i = k;
    }
    memcpy(cache[i].host, t->host, sizeof cache[i].host);
    cache[i].sp = sp;
    memcpy(cache[i].peer, t->peer, sizeof cache[i].peer);
    cache[i].age = ++cache_clock;
}

static void dn_put(void *ctx, const void *buf, size_t len)
{
    x509_wrap *w = ctx;
    if (w->dn_len + len > sizeof w->dn) {
        w->dn_over = 1;
        return;
    }
    memcpy(w->dn + w->dn_len, buf, len);
    w->dn_len += len;
}

static void xw_start_chain(const br_x509_class **ctx, const char *server_name)
{
    x509_wrap *w = (x509_wrap *)(void *)ctx;
    w->ncert = 0;
    w->chain_seen = 1;
    w->date_bad = 0;
    w->leaf_ok = 0;
    w->inner->vtable->start_chain(&w->inner->vtable, server_name);
}

static void xw_start_cert(const br_x509_class **ctx, uint32_t length)
{
    x509_wrap *w = (x509_wrap *)(void *)ctx;
    /* Every certificate is decoded (for its dates); only the first one's
     * subject is kept. */
    if (w->ncert == 0) {
        w->dn_len = 0;
        w->dn_over = 0;
        br_x509_decoder_init(&w->dec, dn_put, w);
    } else {
        br_x509_decoder_init(&w->dec, NULL, NULL);
    }
    w->inner->vtable->start_cert(&w->inner->vtable, length);
}

static void xw_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
    x509_wrap *w = (x509_wrap *)(void *)ctx;
    /* BearSSL 0.6's decoder must not be pushed more once it failed (its
     * program would resume past the failure and read out of bounds: found
     * by tls_fuzz) or finished. */
    if (w->dec.err == 0 && !w->dec.decoded)
        br_x509_decoder_push(&w->dec, buf, len);
    w->inner->vtable->append(&w->inner->vtable, buf, len);
}

static void xw_end_cert(const br_x509_class **ctx)
{
    x509_wrap *w = (x509_wrap *)(void *)ctx;
    if (br_x509_decoder_last_error(&w->dec) == 0) {
        const br_x509_decoder_context *d = &w->dec;
        /* BearSSL's own comparison: valid from notBefore to notAfter,
         * both included. */
        int early = w->now_days < d->notbefore_days ||
                    (w->now_days == d->notbefore_days && w->now_secs < d->notbefore_seconds);
        int late = w->now_days > d->notafter_days ||
                   (w->now_days == d->notafter_days && w->now_secs > d->notafter_seconds);
        if (!w->date_bad && (early || late)) {
            w->date_bad = early ? 2 : 1;
            w->date_cert = w->ncert;
            w->date_day = early ? d->notbefore_days : d->notafter_days;
        }
        if (w->ncert == 0) {
            w->leaf_ok = 1;
            w->leaf_notafter = d->notafter_days;
        }
    }
    w->ncert++;
    w->inner->vtable->end_cert(&w->inner->vtable);
}

static unsigned xw_end_chain(const br_x509_class **ctx)
{
    x509_wrap *w = (x509_wrap *)(void *)ctx;
    return w->inner->vtable->end_chain(&w->inner->vtable);
}

static const br_x509_pkey *xw_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
    const x509_wrap *w = (const x509_wrap *)(const void *)ctx;
    return w->inner->vtable->get_pkey((const br_x509_class *const *)&w->inner->vtable, usages);
}

static const br_x509_class xw_vtable = {
    sizeof(x509_wrap), xw_start_chain, xw_start_cert, xw_append,
    xw_end_cert,       xw_end_chain,   xw_get_pkey,
};

/* Appends s to out (NUL-terminated, cap bytes). */
static void cat(char *out, size_t cap, const char *s, size_t n)
{
    size_t l = strlen(out);
    if (l + 1 >= cap)
        return;
    if (n > cap - 1 - l)
        n = cap - 1 - l;
    memcpy(out + l, s, n);
    out[l + n] = 0;
}

static void cats(char *out, size_t cap, const char *s)
{
    cat(out, cap, s, strlen(s));
}

/* Reads a DER tag and length at *p (bounded by end): the content's
 * length, or -1. */
static long der_next(const unsigned char **p, const unsigned char *end, unsigned *tag)
{
    if (end - *p < 2)
        return -1;
    *tag = *(*p)++;
    size_t len = *(*p)++;
    if (len & 0x80) {
        unsigned k = len & 0x7f;
        if (k < 1 || k > 2 || end - *p < (long)k)
            return -1;
        len = 0;
        while (k--)
            len = len << 8 | *(*p)++;
    }
    if ((size_t)(end - *p) < len)
        return -1;
    return (long)len;
}

/* "CN=name, O=org" from a DER distinguished name (CN, O, OU, C only). */
static void dn_text(const unsigned char *dn, size_t n, char *out, size_t cap)
{
    const unsigned char *p = dn, *end = dn + n;
    unsigned tag;
    long len = der_next(&p, end, &tag);
    if (len < 0 || tag != 0x30)
        return;
    end = p + len;
    while (p < end) {
        long sl = der_next(&p, end, &tag); /* SET */
        if (sl < 0 || tag != 0x31)
            return;
        const unsigned char *send = p + sl;
        while (p < send) {
            long al = der_next(&p, send, &tag); /* SEQUENCE */
            if (al < 0 || tag != 0x30)
                return;
            const unsigned char *aend = p + al;
            long ol = der_next(&p, aend, &tag);
            if (ol < 0 || tag != 0x06)
                return;
            const unsigned char *oid = p;
            p += ol;
            long vl = der_next(&p, aend, &tag);
            if (vl < 0)
                return;
            const char *name = NULL;
            if (ol == 3 && oid[0] == 0x55 && oid[1] == 0x04)
                name = oid[2] == 3 ? "CN=" : oid[2] == 10 ? "O=" : oid[2] == 11 ? "OU=" : oid[2] == 6 ? "C=" : NULL;
            if (name) {
                if (out[0])
                    cat(out, cap, ", ", 2);
                cat(out, cap, name, strlen(name));
                char v[64];
                size_t k = 0;
                for (long i = 0; i < vl && k < sizeof v; i++)
                    v[k++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
                cat(out, cap, v, k);
            }
            p = aend;
        }
        p = send;
    }
}

/* Days since 0000-01-01 (BearSSL's count) -> "YYYY-MM-DD". */
static void day_text(uint32_t days, char out[11])
{
    /* days since 1970-01-01, then the civil-from-days algorithm */
    long z = (long)days - 719528 + 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned long doe = (unsigned long)(z - era * 146097);
    unsigned long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = (long)yoe + era * 400;
    unsigned long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned long mp = (5 * doy + 2) / 153;
    unsigned d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    unsigned m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    y += m <= 2;
    if (y < 0 || y > 9999)
        y = 0;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = 0;
}

static void peer_text(struct tls_client *t)
{
    x509_wrap *w = &t->xw;
    t->peer[0] = 0;
    if (!w->chain_seen || w->dn_over || !w->leaf_ok)
        return;
    dn_text(w->dn, w->dn_len, t->peer, sizeof t->peer);
    char d[11];
    day_text(w->leaf_notafter, d);
    cat(t->peer, sizeof t->peer, "; expires ", 10);
    cat(t->peer, sizeof t->peer, d, 10);
}

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
        return "the server does not speak TLS 1.2";
    case BR_ERR_BAD_VERSION:
        return "the server sent something that is not valid TLS (bad record version)";
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

/* BearSSL reports an expired and a not yet valid certificate with one
 * code (BR_ERR_X509_EXPIRED); the wrapper's dates tell which, and when:
 * "certificate expired on 2021-01-01", "intermediate certificate not yet
 * valid (valid from 2040-01-01)". */
static const char *date_reason(struct tls_client *t)
{
    const x509_wrap *w = &t->xw;
    char d[11];
    day_text(w->date_day, d);
    t->why[0] = 0;
    cats(t->why, sizeof t->why, w->date_cert > 0 ? "intermediate certificate " : "certificate ");
    cats(t->why, sizeof t->why, w->date_bad == 1 ? "expired on " : "not yet valid (valid from ");
    cats(t->why, sizeof t->why, d);
    if (w->date_bad != 1)
        cats(t->why, sizeof t->why, ")");
    return t->why;
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
            /* A TLS record starts with a type (20..24) and major version 3. */
            if (t->nfirst >= 2 && (t->first[0] < 20 || t->first[0] > 24 || t->first[1] != 3))
                return fail(t, "the server sent something that is not valid TLS (not a TLS record)");
            if (err == BR_ERR_X509_EXPIRED && t->xw.date_bad)
                return fail(t, date_reason(t));
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
            for (int k = 0; k < n && t->nfirst < sizeof t->first; k++)
                t->first[t->nfirst++] = buf[k];
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
    size_t hl = strlen(host);
    if (hl >= sizeof t->host)
        return fail(t, "host name too long");
    memcpy(t->host, host, hl + 1);
    size_t nta;
    const br_x509_trust_anchor *tas = tls_anchor_array(&nta);
    br_ssl_client_init_full(&t->cc, &t->xc, tas, nta);
    br_ssl_engine_context *e = &t->cc.eng;
    t->xw.vtable = &xw_vtable;
    t->xw.inner = &t->xc;
    br_ssl_engine_set_x509(e, &t->xw.vtable);
    br_ssl_engine_set_versions(e, BR_TLS12, BR_TLS12);
    br_ssl_engine_set_suites(e, suites, sizeof suites / sizeof suites[0]);
    br_x509_minimal_set_minrsa(&t->xc, 256);
    /* Certificates signed with SHA-1 or MD5 are refused (as browsers do):
     * without the hash the chain check says "unsupported". */
    br_x509_minimal_set_hash(&t->xc, br_sha1_ID, NULL);
    br_x509_minimal_set_hash(&t->xc, br_md5_ID, NULL);
    unsigned long long days = (unsigned long long)unix_now / 86400 + 719528;
    br_x509_minimal_set_time(&t->xc, (uint32_t)days, (uint32_t)(unix_now % 86400));
    t->xw.now_days = (uint32_t)days;
    t->xw.now_secs = (uint32_t)(unix_now % 86400);
    br_ssl_engine_set_buffer(e, t->iobuf, sizeof t->iobuf, 1);
    br_ssl_engine_set_protocol_names(e, alpn, 1);
    br_ssl_engine_inject_entropy(e, seed, seed_len);
    int c = cache_find(host);
    if (c >= 0)
        br_ssl_engine_set_session_parameters(e, &cache[c].sp);
    if (!br_ssl_client_reset(&t->cc, host, c >= 0))
        return fail(t, reason(br_ssl_engine_last_error(e)));
    int r = pump(t, BR_SSL_SENDAPP | BR_SSL_RECVAPP);
    if (r <= 0) {
        if (c >= 0)
            cache[c].host[0] = 0;
        return fail(t, "the server closed the connection during the handshake");
    }
    /* A resumed handshake does not show the chain to the X.509 engine. */
    t->resumed = !t->xw.chain_seen;
    if (t->resumed && c >= 0)
        memcpy(t->peer, cache[c].peer, sizeof t->peer);
    else
        peer_text(t);
    cache_put(t);
    return 0;
}

int tls_client_resumed(const struct tls_client *t)
{
    return t->resumed;
}

const char *tls_client_peer(const struct tls_client *t)
{
    return t->peer;
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
    const br_block_ctr_class *ni = br_aes_x86ni_ctr_get_vtable();
    int aesni = ni && t->cc.eng.iaes_ctr == ni && t->cc.eng.ighash == br_ghash_pclmul_get();
    int gcm = sp.cipher_suite != BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 &&
              sp.cipher_suite != BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256;
    /* The key exchange's curve (a resumed handshake has none). */
    int curve = t->resumed ? 0 : br_ssl_engine_get_ecdhe_curve(&t->cc.eng);
    const char *cname = curve == BR_EC_curve25519 ? " x25519"
                        : curve == BR_EC_secp256r1 ? " p256"
                        : curve == BR_EC_secp384r1 ? " p384"
                        : curve == BR_EC_secp521r1 ? " p521"
                                                   : "";
    const char *parts[] = {br_ssl_engine_get_version(&t->cc.eng) == BR_TLS12 ? "TLS 1.2" : "TLS ?",
                           " ", suite_name(sp.cipher_suite), cname, " alpn=", proto ? proto : "none",
                           t->resumed ? " resumed" : "", gcm && aesni ? " aes-ni" : ""};
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
