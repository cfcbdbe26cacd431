/*
 * tls_anchors_test.c: the trust store. The built-in anchors generated from
 * Debian's ca-certificates are there; a PEM CA added at run time becomes an
 * anchor equal to the generated one for the same certificate; bad PEM text,
 * PEM without a certificate and an undecodable certificate are refused
 * with their reasons.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mneme/tls.h>
#include "anchors.h"

#define ROOT "/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (install ca-certificates)", path);
    static char text[16384];
    *len = fread(text, 1, sizeof text, f);
    fclose(f);
    return text;
}

static void test_builtin(void **state)
{
    (void)state;
    assert_true(tls_builtin_anchor_count >= 100);
    for (size_t i = 0; i < tls_builtin_anchor_count; i++) {
        const br_x509_trust_anchor *ta = tls_anchor(i);
        assert_non_null(ta);
        assert_true(ta->dn.len > 0);
        assert_true(ta->flags & BR_X509_TA_CA);
        assert_true(ta->pkey.key_type == BR_KEYTYPE_RSA || ta->pkey.key_type == BR_KEYTYPE_EC);
    }
}

static void test_add_matches_builtin(void **state)
{
    (void)state;
    size_t len;
    char *pem = slurp(ROOT, &len);
    size_t before = tls_anchors_total();
    const char *why = NULL;
    assert_int_equal(tls_anchors_add_pem(pem, len, &why), 1);
    assert_int_equal(tls_anchors_total(), before + 1);
    const br_x509_trust_anchor *added = tls_anchor(before);
    int found = 0;
    for (size_t i = 0; i < tls_builtin_anchor_count; i++) {
        const br_x509_trust_anchor *ta = tls_anchor(i);
        if (ta->dn.len != added->dn.len || memcmp(ta->dn.data, added->dn.data, ta->dn.len))
            continue;
        assert_int_equal(ta->pkey.key_type, BR_KEYTYPE_RSA);
        assert_int_equal(added->pkey.key_type, BR_KEYTYPE_RSA);
        assert_int_equal(ta->pkey.key.rsa.nlen, added->pkey.key.rsa.nlen);
        assert_memory_equal(ta->pkey.key.rsa.n, added->pkey.key.rsa.n, ta->pkey.key.rsa.nlen);
        assert_memory_equal(ta->pkey.key.rsa.e, added->pkey.key.rsa.e, ta->pkey.key.rsa.elen);
        found = 1;
    }
    assert_true(found);
    assert_null(tls_anchor(before + 1));
}

static void test_refused(void **state)
{
    (void)state;
    size_t before = tls_anchors_total();
    const char *why = NULL;
    const char *none = "hello, no PEM here\n";
    assert_true(tls_anchors_add_pem(none, strlen(none), &why) < 0);
    assert_string_equal(why, "no certificate in the PEM text");
    const char *key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert_true(tls_anchors_add_pem(key, strlen(key), &why) < 0);
    assert_string_equal(why, "no certificate in the PEM text");
    const char *junk = "-----BEGIN CERTIFICATE-----\nMIIBAAAAAAAA\n-----END CERTIFICATE-----\n";
    assert_true(tls_anchors_add_pem(junk, strlen(junk), &why) < 0);
    assert_string_equal(why, "not a certificate that can be read");
    assert_int_equal(tls_anchors_total(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin),
        cmocka_unit_test(test_add_matches_builtin),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
