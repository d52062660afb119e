/* Certificate plumbing shared by the DCAP, SEV-SNP and collateral checks:
 * reading PEM/DER certificates and CRLs, and verifying a chain to explicit
 * anchors at a chosen time (never silently the system clock), with CRLs
 * when the caller has them. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "internal.h"

int eos_ratls__read_certs(const uint8_t *data, size_t size, STACK_OF(X509) * *out)
{
    STACK_OF(X509) *certs = sk_X509_new_null();
    BIO *b = BIO_new_mem_buf(data, (int)size);
    X509 *x;
    if (!certs || !b) {
        sk_X509_free(certs);
        BIO_free(b);
        return EOS_ENOMEM;
    }
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(certs, x))
            X509_free(x);
    if (sk_X509_num(certs) == 0) {
        /* AMD's key distribution service and Intel's PCS serve single DER. */
        const uint8_t *p = data;
        x = d2i_X509(NULL, &p, (long)size);
        if (x && !sk_X509_push(certs, x))
            X509_free(x);
    }
    ERR_clear_error();
    BIO_free(b);
    *out = certs;
    return 0;
}

int eos_ratls__read_crls(const uint8_t *data, size_t size, STACK_OF(X509_CRL) * crls)
{
    BIO *b = BIO_new_mem_buf(data, (int)size);
    X509_CRL *c;
    int n = 0;
    if (!b)
        return EOS_ENOMEM;
    while ((c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_CRL_push(crls, c))
            X509_CRL_free(c);
        n++;
    }
    if (n == 0) {
        const uint8_t *p = data;
        c = d2i_X509_CRL(NULL, &p, (long)size);
        if (c && !sk_X509_CRL_push(crls, c))
            X509_CRL_free(c);
        n = c ? 1 : 0;
    }
    ERR_clear_error();
    BIO_free(b);
    return n > 0 ? 0 : EOS_EMALFORMED;
}

/* CRLs are enforced where the collateral has them: a certificate whose
 * issuer published no CRL in it is not failed for the missing CRL. */
static int crl_where_given(int ok, X509_STORE_CTX *ctx)
{
    if (!ok && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNABLE_TO_GET_CRL) {
        X509_STORE_CTX_set_error(ctx, X509_V_OK);
        return 1;
    }
    return ok;
}

int eos_ratls__verify_cert(X509 *leaf, STACK_OF(X509) * untrusted, STACK_OF(X509) * anchors,
                           STACK_OF(X509_CRL) * crls, int64_t now, char *err, size_t err_size)
{
    int rc = EOS_EVERIFY;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    err[0] = '\0';
    if (!store || !ctx) {
        rc = EOS_ENOMEM;
        goto out;
    }
    for (int i = 0; i < sk_X509_num(anchors); i++)
        X509_STORE_add_cert(store, sk_X509_value(anchors, i));
    if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
        rc = EOS_ENOMEM;
        goto out;
    }
    /* Evidence is checked "as of" a time when the caller says so; the
     * default is the current time, taken here once. */
    X509_STORE_CTX_set_time(ctx, 0, now ? (time_t)now : time(NULL));
    if (crls && sk_X509_CRL_num(crls) > 0) {
        X509_STORE_CTX_set0_crls(ctx, crls);
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
        X509_STORE_CTX_set_verify_cb(ctx, crl_where_given);
    }
    if (X509_verify_cert(ctx) == 1) {
        rc = 0;
        goto out;
    }
    int e = X509_STORE_CTX_get_error(ctx);
    snprintf(err, err_size, "%s", X509_verify_cert_error_string(e));
    if (e == X509_V_ERR_CERT_REVOKED)
        rc = EOS_EPERM; /* revoked: the caller reports status Revoked */
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

int eos_ratls__load_certs_file(const char *path, STACK_OF(X509) * *out, eos_diag *d)
{
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = eos_ratls__read_whole(path, 1 << 20, &data, &size, d);
    if (rc != 0)
        return rc;
    rc = eos_ratls__read_certs(data, size, out);
    eos_free(data, size + 1);
    if (rc == 0 && sk_X509_num(*out) == 0) {
        sk_X509_free(*out);
        *out = NULL;
        rc = eos_diag_set(d, EOS_EMALFORMED, "certificate", -1,
                          "%s holds no certificate (PEM or DER expected)", path);
    }
    return rc;
}

int eos_ratls__read_whole(const char *path, size_t max_size, uint8_t **out, size_t *out_size,
                          eos_diag *d)
{
    FILE *f = fopen(path, "rb");
    int rc = 0;
    uint8_t *buf = NULL;
    if (!f)
        return eos_diag_set(d, EOS_ENOTFOUND, "read", -1, "cannot open %s", path);
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        rc = eos_diag_set(d, EOS_ESYS, "read", -1, "cannot read %s", path);
        goto out;
    }
    if ((size_t)n > max_size) {
        rc = eos_diag_set(d, EOS_ETOOBIG, "read", -1, "%s is larger than %zu bytes", path,
                          max_size);
        goto out;
    }
    buf = eos_malloc((size_t)n + 1);
    if (!buf) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        eos_free(buf, (size_t)n + 1);
        rc = eos_diag_set(d, EOS_ESYS, "read", -1, "cannot read %s", path);
        goto out;
    }
    buf[n] = 0;
    *out = buf;
    *out_size = (size_t)n;
out:
    fclose(f);
    return rc;
}
