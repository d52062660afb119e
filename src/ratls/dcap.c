/* Offline checks of an Intel DCAP quote (SGX v3, TDX v4/v5) whose
 * certification data is a PCK chain (type 5): the attestation key's ECDSA
 * signature over header and body, the QE report's binding of that key, the
 * QE report's signature by the PCK key, and the PCK chain up to a given
 * Intel root. TCB status needs Intel's collateral (TCB info, QE identity,
 * CRLs) from the PCS, which is not fetched: that check is not made here. */
/* See merkle.c: the SHA-256 context API is deprecated but allocation free. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509_vfy.h>

#include "internal.h"

/* DER SubjectPublicKeyInfo prefix of an uncompressed P-256 point. */
static const uint8_t p256_spki_prefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                           0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                           0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};

static EVP_PKEY *p256_from_raw(const uint8_t xy[64])
{
    uint8_t der[sizeof p256_spki_prefix + 64];
    const uint8_t *p = der;
    memcpy(der, p256_spki_prefix, sizeof p256_spki_prefix);
    memcpy(der + sizeof p256_spki_prefix, xy, 64);
    return d2i_PUBKEY(NULL, &p, sizeof der);
}

/* Verifies a raw r || s P-256 signature over data with SHA-256; 1 when valid. */
static int verify_raw_sig(EVP_PKEY *key, const uint8_t sig[64], const uint8_t *data, size_t size)
{
    ECDSA_SIG *s = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
    uint8_t *der = NULL;
    int der_size = 0, ok = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!s || !r || !ss || !md || !ECDSA_SIG_set0(s, r, ss))
        goto out;
    r = ss = NULL;
    if ((der_size = i2d_ECDSA_SIG(s, &der)) <= 0)
        goto out;
    ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
         EVP_DigestVerify(md, der, (size_t)der_size, data, size) == 1;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    BN_free(r);
    BN_free(ss);
    ECDSA_SIG_free(s);
    return ok;
}

static int verify_pck_chain(const eos_tee_evidence_info *info, const char *root_ca_file,
                            EVP_PKEY **out_pck, eos_diag *d)
{
    int rc = EOS_EVERIFY;
    STACK_OF(X509) *certs = sk_X509_new_null();
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    BIO *b = BIO_new_mem_buf(info->cert_data, (int)info->cert_data_size);
    X509 *x;
    while (b && certs && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        sk_X509_push(certs, x);
    ERR_clear_error();
    if (!certs || sk_X509_num(certs) == 0) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "the quote's certification data holds no PCK certificate");
        goto out;
    }
    if (!store || !ctx || X509_STORE_load_file(store, root_ca_file) != 1) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "cannot load the Intel SGX root CA from %s", root_ca_file);
        goto out;
    }
    X509 *pck = sk_X509_value(certs, 0);
    if (!X509_STORE_CTX_init(ctx, store, pck, certs) || X509_verify_cert(ctx) != 1) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "the PCK certificate chain does not lead to the given Intel root (%s)",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        goto out;
    }
    *out_pck = X509_get_pubkey(pck);
    rc = *out_pck ? 0 : EOS_ENOMEM;
out:
    ERR_clear_error();
    BIO_free(b);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_pop_free(certs, X509_free);
    return rc;
}

int eos_ratls__dcap_verify(const eos_tee_evidence_info *info, const char *root_ca_file, eos_diag *d)
{
    int rc = EOS_EVERIFY;
    EVP_PKEY *ak = NULL, *pck = NULL;
    uint8_t h[32];
    static const uint8_t zero[32] = {0};
    if (!info->quote_sig || !info->qe_report)
        return eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1, "not a DCAP quote");
    if (!(ak = p256_from_raw(info->attest_key))) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "the quote's attestation key is not a P-256 point");
        goto out;
    }
    if (!verify_raw_sig(ak, info->quote_sig, info->signed_data, info->signed_size)) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "the attestation key's signature over the quote header and body is "
                     "invalid");
        goto out;
    }
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, info->attest_key, 64);
    SHA256_Update(&c, info->qe_auth, info->qe_auth_size);
    SHA256_Final(h, &c);
    if (memcmp(info->qe_report + 320, h, 32) != 0 || memcmp(info->qe_report + 352, zero, 32)) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "the QE report does not bind the attestation key (report data is not "
                     "SHA-256(attestation key || QE authentication data))");
        goto out;
    }
    if (info->cert_type != 5) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "certification data type %u carries no PCK chain (type 5 is needed for "
                     "offline checks)",
                     info->cert_type);
        goto out;
    }
    if (verify_pck_chain(info, root_ca_file, &pck, d) != 0)
        goto out;
    if (!verify_raw_sig(pck, info->qe_report_sig, info->qe_report, 384)) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "the QE report signature does not verify with the PCK certificate");
        goto out;
    }
    rc = 0;
out:
    EVP_PKEY_free(ak);
    EVP_PKEY_free(pck);
    return rc;
}

int eos_ratls_verify_quote(const uint8_t *quote, size_t size, const char *root_ca_file,
                           eos_diag *diag)
{
    eos_tee_evidence_info info;
    int rc = eos_tee_parse_evidence(quote, size, &info, diag);
    if (rc != 0)
        return rc;
    if (info.kind != EOS_TEE_KIND_SGX && info.kind != EOS_TEE_KIND_TDX)
        return eos_diag_set(diag, EOS_EVERIFY, "quote-signature", -1,
                            "only SGX and TDX DCAP quotes carry DCAP signatures");
    return eos_ratls__dcap_verify(&info, root_ca_file, diag);
}
