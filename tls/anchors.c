/* The trust store: Mozilla's roots (generated, tls_builtin_anchors) plus
 * private CAs added from PEM at run time into a fixed pool (no malloc). */
#include "anchors.h"
#include <mneme/tls.h>
#include <string.h>

#define EXTRA_MAX 16
#define POOL_BYTES 16384

static br_x509_trust_anchor extra[EXTRA_MAX];
static size_t extra_n;
static unsigned char pool[POOL_BYTES];
static size_t pool_used;

typedef struct {
    unsigned char *p;
    size_t n, cap;
    int overflow;
} sink;

static void sink_put(void *ctx, const void *data, size_t len)
{
    sink *s = ctx;
    if (s->n + len > s->cap) {
        s->overflow = 1;
        return;
    }
    memcpy(s->p + s->n, data, len);
    s->n += len;
}

static unsigned char *pool_copy(const void *p, size_t n)
{
    if (pool_used + n > POOL_BYTES)
        return NULL;
    unsigned char *d = pool + pool_used;
    memcpy(d, p, n);
    pool_used += n;
    return d;
}

static unsigned char der_buf[8192];
static unsigned char dn_buf[1024];

/* Adds the certificate in der_buf[0..n); 0 or a reason. */
static const char *add_der(size_t n)
{
    if (extra_n >= EXTRA_MAX)
        return "trust store full";
    br_x509_decoder_context dc;
    sink dn = {dn_buf, 0, sizeof dn_buf, 0};
    br_x509_decoder_init(&dc, sink_put, &dn);
    br_x509_decoder_push(&dc, der_buf, n);
    const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
    if (!pk || dn.overflow)
        return "not a certificate that can be read";
    if (!br_x509_decoder_isCA(&dc))
        return "not a CA certificate";
    size_t mark = pool_used;
    br_x509_trust_anchor *ta = &extra[extra_n];
    memset(ta, 0, sizeof *ta);
    ta->flags = BR_X509_TA_CA;
    ta->dn.data = pool_copy(dn.p, dn.n);
    ta->dn.len = dn.n;
    ta->pkey.key_type = pk->key_type;
    int ok = ta->dn.data != NULL;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        ta->pkey.key.rsa.n = pool_copy(pk->key.rsa.n, pk->key.rsa.nlen);
        ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
        ta->pkey.key.rsa.e = pool_copy(pk->key.rsa.e, pk->key.rsa.elen);
        ta->pkey.key.rsa.elen = pk->key.rsa.elen;
        ok = ok && ta->pkey.key.rsa.n && ta->pkey.key.rsa.e;
    } else if (pk->key_type == BR_KEYTYPE_EC) {
        ta->pkey.key.ec.curve = pk->key.ec.curve;
        ta->pkey.key.ec.q = pool_copy(pk->key.ec.q, pk->key.ec.qlen);
        ta->pkey.key.ec.qlen = pk->key.ec.qlen;
        ok = ok && ta->pkey.key.ec.q;
    } else {
        ok = 0;
    }
    if (!ok) {
        pool_used = mark;
        return "trust store full";
    }
    extra_n++;
    return NULL;
}

int tls_anchors_add_pem(const char *pem, size_t len, const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    br_pem_decoder_context pc;
    br_pem_decoder_init(&pc);
    size_t off = 0;
    int in_cert = 0, added = 0;
    sink der = {der_buf, 0, sizeof der_buf, 0};
    while (off < len) {
        off += br_pem_decoder_push(&pc, pem + off, len - off);
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ:
            in_cert = !strcmp(br_pem_decoder_name(&pc), "CERTIFICATE");
            der.n = 0;
            der.overflow = 0;
            br_pem_decoder_setdest(&pc, in_cert ? sink_put : NULL, &der);
            break;
        case BR_PEM_END_OBJ:
            if (in_cert) {
                const char *e = der.overflow ? "certificate too large" : add_der(der.n);
                if (e) {
                    *why = e;
                    return -1;
                }
                added++;
            }
            in_cert = 0;
            break;
        case BR_PEM_ERROR:
            *why = "bad PEM";
            return -1;
        default:
            break;
        }
    }
    if (!added) {
        *why = "no certificate in the PEM text";
        return -1;
    }
    return added;
}

size_t tls_anchor_count(void)
{
    return tls_builtin_anchor_count + extra_n;
}

size_t tls_anchors_total(void)
{
    return tls_anchor_count();
}

const br_x509_trust_anchor *tls_anchor(size_t i)
{
    if (i < tls_builtin_anchor_count)
        return &tls_builtin_anchors[i];
    i -= tls_builtin_anchor_count;
    return i < extra_n ? &extra[i] : NULL;
}

/* One contiguous array (BearSSL's X.509 engine wants one): built-in
 * anchors then added ones, rebuilt when an anchor was added. */
const br_x509_trust_anchor *tls_anchor_array(size_t *n)
{
    static br_x509_trust_anchor all[1024 + EXTRA_MAX];
    static size_t built = (size_t)-1;
    size_t total = tls_anchor_count();
    if (tls_builtin_anchor_count > 1024)
        total = 0;
    if (built != total) {
        for (size_t i = 0; i < total; i++)
            all[i] = *tls_anchor(i);
        built = total;
    }
    *n = total;
    return all;
}
