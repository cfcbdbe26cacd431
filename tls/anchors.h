/* tls/anchors.h: the trust store (internal to tls/). The built-in part is
 * generated at build time from Debian's ca-certificates by
 * tools/mkanchors; tls_anchors_add_pem() adds private CAs. */
#ifndef TLS_ANCHORS_H
#define TLS_ANCHORS_H
#include <stddef.h>
#include <bearssl.h>

extern const br_x509_trust_anchor tls_builtin_anchors[];
extern const size_t tls_builtin_anchor_count;

/* The anchors currently trusted: built-in ones then added ones. */
size_t tls_anchor_count(void);
const br_x509_trust_anchor *tls_anchor(size_t i);
/* All anchors in one array (what br_x509_minimal_init wants). */
const br_x509_trust_anchor *tls_anchor_array(size_t *n);
#endif
