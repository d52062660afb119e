/* Client certificates: the server asks for one on every connection but
 * requires none, and each request's route decides whether the presented
 * chain must lead to the app's CA. */
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "internal.h"

struct eos_auth_mtls {
    X509_STORE *store;
    STACK_OF(X509_NAME) * names;
};

int eos_auth_mtls_new(const char *ca_file, eos_auth_mtls **out, eos_diag *d)
{
    eos_auth_mtls *m = eos_calloc(1, sizeof *m);
    if (!m)
        return EOS_ENOMEM;
    m->store = X509_STORE_new();
    if (!m->store || X509_STORE_load_file(m->store, ca_file) != 1 ||
        !(m->names = SSL_load_client_CA_file(ca_file))) {
        ERR_clear_error();
        eos_auth_mtls_free(m);
        return eos_diag_set(d, EOS_EINVAL, "mtls", -1,
                            "cannot read the client CA %s (PEM certificates expected)", ca_file);
    }
    *out = m;
    return 0;
}

void eos_auth_mtls_free(eos_auth_mtls *m)
{
    if (!m)
        return;
    X509_STORE_free(m->store);
    sk_X509_NAME_pop_free(m->names, X509_NAME_free);
    eos_free(m, sizeof *m);
}

/* The handshake never fails over a client certificate: the request's
 * policy judges it, so routes open to anyone stay open. */
static int accept_any(int ok, X509_STORE_CTX *ctx)
{
    (void)ok;
    (void)ctx;
    return 1;
}

int eos_auth_mtls_configure_ctx(eos_auth_mtls *m, SSL_CTX *ctx, eos_diag *d)
{
    STACK_OF(X509_NAME) *names = SSL_dup_CA_list(m->names);
    if (!names)
        return eos_diag_set(d, EOS_ENOMEM, "mtls", -1, "out of memory");
    SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
    return 0;
}

static char *name_text(const X509_NAME *n)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *out = NULL;
    if (b && X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
        long len = BIO_get_mem_data(b, &data);
        out = eos_malloc((size_t)len + 1);
        if (out) {
            memcpy(out, data, (size_t)len);
            out[len] = 0;
        }
    }
    BIO_free(b);
    return out;
}

int eos_auth_mtls_verify(const eos_auth_mtls *m, X509 *cert, STACK_OF(X509) * chain,
                         int64_t now, eos_auth_identity *out, eos_diag *d)
{
    int rc = EOS_EVERIFY;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    memset(out, 0, sizeof *out);
    if (!cert) {
        X509_STORE_CTX_free(ctx);
        return eos_diag_set(d, EOS_EVERIFY, "mtls", -1, "no client certificate was presented");
    }
    if (!ctx || !X509_STORE_CTX_init(ctx, m->store, cert, chain)) {
        rc = EOS_ENOMEM;
        goto out;
    }
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
    X509_STORE_CTX_set_time(ctx, 0, now ? (time_t)now : time(NULL));
    if (X509_verify_cert(ctx) != 1) {
        eos_diag_set(d, EOS_EVERIFY, "mtls", -1,
                     "the client certificate does not verify against the app's CA (%s)",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        goto out;
    }
    strcpy(out->method, "mtls");
    out->subject = name_text(X509_get_subject_name(cert));
    out->issuer = name_text(X509_get_issuer_name(cert));
    if (!out->subject || !out->issuer) {
        eos_auth_identity_clear(out);
        rc = EOS_ENOMEM;
        goto out;
    }
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1)
        out->expires = (int64_t)timegm(&tm);
    rc = 0;
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    return rc;
}

int eos_auth_mtls_new_pem(const char *pem, size_t size, eos_auth_mtls **out, eos_diag *d)
{
    eos_auth_mtls *m = eos_calloc(1, sizeof *m);
    BIO *b = BIO_new_mem_buf(pem, (int)size);
    X509 *x;
    int n = 0;
    if (!m || !b || !(m->store = X509_STORE_new()) || !(m->names = sk_X509_NAME_new_null())) {
        BIO_free(b);
        eos_auth_mtls_free(m);
        return EOS_ENOMEM;
    }
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        X509_NAME *name = X509_NAME_dup(X509_get_subject_name(x));
        if (X509_STORE_add_cert(m->store, x) == 1 && name && sk_X509_NAME_push(m->names, name))
            name = NULL;
        X509_NAME_free(name);
        X509_free(x);
        n++;
    }
    ERR_clear_error();
    BIO_free(b);
    if (n == 0) {
        eos_auth_mtls_free(m);
        return eos_diag_set(d, EOS_EINVAL, "mtls", -1,
                            "the client CA holds no PEM certificate");
    }
    *out = m;
    return 0;
}

void eos_auth_request_client_certificates(SSL_CTX *ctx)
{
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
}
