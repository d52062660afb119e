/* TLS setup of the server: a TLS 1.3-only context, ALPN, and the default
 * certificate (a fresh ECDSA P-256 key with a self-signed certificate). This
 * is the single place certificates are installed; RA-TLS plugs in through
 * the eos_net_tls_hook taking the SSL_CTX. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "internal.h"

static int tls_fail(eos_diag *d, const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return eos_diag_set(d, EOS_ETLS, "tls", -1, "%s failed (%s)", what, e ? buf : "no detail");
}

int eos_net__tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                             const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char ours[] = "\x08http/1.1";
    unsigned char *sel = NULL;
    /* Only http/1.1 is spoken over ALPN; a client offering nothing we know
     * simply gets no ALPN and the protocol is picked by sniffing. */
    if (SSL_select_next_proto(&sel, outlen, ours, sizeof ours - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

int eos_net_tls_server_ctx_setup(SSL_CTX *ctx, eos_diag *d)
{
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION))
        return tls_fail(d, "restricting TLS to version 1.3");
    /* Partial writes and a movable buffer let a connection keep appending to
     * its output while an SSL_write waits for the socket; released buffers
     * keep idle connections small. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    /* No session tickets: a resumed session presents no certificate, and with
     * RA-TLS the certificate is the evidence a client must see each time. */
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_alpn_select_cb(ctx, eos_net__tls_alpn_select, NULL);
    return 0;
}

int eos_net_tls_install_self_signed(void *ud, SSL_CTX *ctx, eos_diag *d)
{
    int rc = EOS_ETLS;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    (void)ud;

    key = EVP_EC_gen("P-256");
    if (!key) {
        rc = tls_fail(d, "generating the ECDSA P-256 server key");
        goto out;
    }
    cert = X509_new();
    if (!cert) {
        rc = tls_fail(d, "allocating the certificate");
        goto out;
    }
    uint8_t serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) {
        rc = tls_fail(d, "drawing the certificate serial");
        goto out;
    }
    serial[0] &= 0x7f; /* a positive INTEGER */
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    X509_NAME *name = X509_get_subject_name(cert);
    ok = ok && X509_set_version(cert, 2) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"enclave-os",
                                    -1, -1, 0) &&
         X509_NAME_add_entry_by_txt(
             name, "O", MBSTRING_ASC,
             (const unsigned char *)"enclave-os (self-signed, no attestation)", -1, -1, 0) &&
         X509_set_issuer_name(cert, name) && X509_gmtime_adj(X509_getm_notBefore(cert), -60) &&
         X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 24 * 3600) && X509_set_pubkey(cert, key) &&
         X509_sign(cert, key, EVP_sha256()) > 0;
    if (!ok) {
        rc = tls_fail(d, "building the self-signed certificate");
        goto out;
    }
    if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        rc = tls_fail(d, "installing the server certificate");
        goto out;
    }
    rc = 0;
out:
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}
