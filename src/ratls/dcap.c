/* Offline checks of an Intel DCAP quote (SGX v3, TDX v4/v5): the attestation
 * key's ECDSA signature over header and body, the QE report's binding of that
 * key, the QE report's signature by the PCK key, and the PCK chain (the
 * quote's own, type 5, or one from the collateral) up to a given Intel root
 * at the verification time, against Intel's CRLs when given. TCB status is
 * evaluated from the collateral in tcb.c. */
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

int eos_ratls__p256_verify_raw(EVP_PKEY *key, const uint8_t sig[64], const uint8_t *data, size_t size)
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

/* The PCK chain: the quote's own (certification data type 5) unless the
 * caller brings one (collateral for quotes that carry only a PPID). */
static int verify_pck_chain(const eos_tee_evidence_info *info, const eos_ratls__dcap_ctx *c,
                            X509 **out_pck, eos_diag *d)
{
    int rc = EOS_EVERIFY;
    STACK_OF(X509) *own = NULL;
    STACK_OF(X509) *certs = c->pck_chain;
    char err[160];
    if (!certs) {
        if (info->cert_type != 5)
            return eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                                "certification data type %u carries no PCK chain (type 5 is "
                                "needed for offline checks, or pckCert.pem in the collateral)",
                                info->cert_type);
        if ((rc = eos_ratls__read_certs(info->cert_data, info->cert_data_size, &own)) != 0)
            return rc;
        certs = own;
        rc = EOS_EVERIFY;
    }
    if (sk_X509_num(certs) == 0) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "the quote's certification data holds no PCK certificate");
        goto out;
    }
    X509 *pck = sk_X509_value(certs, 0);
    rc = eos_ratls__verify_cert(pck, certs, c->anchors, c->crls, c->now, err, sizeof err);
    if (rc == EOS_EPERM) {
        eos_diag_set(d, EOS_EPERM, "quote-signature", -1,
                     "the PCK certificate is revoked by Intel's CRL");
    } else if (rc != 0) {
        eos_diag_set(d, rc, "quote-signature", -1,
                     "the PCK certificate chain does not lead to the given Intel root (%s)", err);
        goto out;
    }
    if (!X509_up_ref(pck)) {
        rc = EOS_ENOMEM;
        goto out;
    }
    *out_pck = pck;
out:
    sk_X509_pop_free(own, X509_free);
    return rc;
}

int eos_ratls__dcap_verify(const eos_tee_evidence_info *info, const eos_ratls__dcap_ctx *c,
                           X509 **out_pck, eos_diag *d)
{
    int rc = EOS_EVERIFY, chain_rc;
    EVP_PKEY *ak = NULL;
    X509 *pck = NULL;
    uint8_t h[32];
    static const uint8_t zero[32] = {0};
    if (!info->quote_sig || !info->qe_report)
        return eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1, "not a DCAP quote");
    if (!(ak = p256_from_raw(info->attest_key))) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "the quote's attestation key is not a P-256 point");
        goto out;
    }
    if (!eos_ratls__p256_verify_raw(ak, info->quote_sig, info->signed_data, info->signed_size)) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "the attestation key's signature over the quote header and body is "
                     "invalid");
        goto out;
    }
    SHA256_CTX sc;
    SHA256_Init(&sc);
    SHA256_Update(&sc, info->attest_key, 64);
    SHA256_Update(&sc, info->qe_auth, info->qe_auth_size);
    SHA256_Final(h, &sc);
    if (memcmp(info->qe_report + 320, h, 32) != 0 || memcmp(info->qe_report + 352, zero, 32)) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "the QE report does not bind the attestation key (report data is not "
                     "SHA-256(attestation key || QE authentication data))");
        goto out;
    }
    chain_rc = verify_pck_chain(info, c, &pck, d);
    if (chain_rc != 0 && chain_rc != EOS_EPERM) {
        rc = chain_rc == EOS_ENOMEM ? EOS_ENOMEM : EOS_EVERIFY;
        goto out;
    }
    if (!eos_ratls__p256_verify_raw(X509_get0_pubkey(pck), info->qe_report_sig, info->qe_report, 384)) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "the QE report signature does not verify with the PCK certificate");
        goto out;
    }
    /* Every signature holds; a revoked PCK is reported as such (EOS_EPERM)
     * so the caller can name the TCB status. */
    rc = chain_rc;
    if (out_pck) {
        *out_pck = pck;
        pck = NULL;
    }
out:
    EVP_PKEY_free(ak);
    X509_free(pck);
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
    eos_ratls__dcap_ctx c;
    memset(&c, 0, sizeof c);
    /* An unreadable root leaves no anchor: the signatures are still
     * checked and reported first, and the chain then fails. */
    if (eos_ratls__load_certs_file(root_ca_file, &c.anchors, NULL) != 0 &&
        !(c.anchors = sk_X509_new_null()))
        return EOS_ENOMEM;
    rc = eos_ratls__dcap_verify(&info, &c, NULL, diag);
    sk_X509_pop_free(c.anchors, X509_free);
    return rc == EOS_EPERM ? EOS_EVERIFY : rc;
}
