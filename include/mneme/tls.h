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
#endif
