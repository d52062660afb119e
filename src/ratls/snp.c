/* Offline check of an SEV-SNP attestation report's signature: ECDSA P-384
 * with SHA-384 over bytes 0..0x29F, R and S stored little endian in 72-byte
 * fields at 0x2A0, verified with the chip's VCEK certificate, optionally
 * chained to AMD's ASK/ARK. The VCEK itself comes from AMD's key
 * distribution service for the chip and TCB in the report; it is not fetched
 * here. */
#include <string.h>

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "internal.h"

static X509 *load_cert(const char *path)
{
    BIO *b = BIO_new_file(path, "rb");
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    if (!x && b) {
        /* AMD's KDS serves the VCEK as DER. */
        (void)BIO_reset(b);
        x = d2i_X509_bio(b, NULL);
    }
    BIO_free(b);
    ERR_clear_error();
    return x;
}

static int check_vcek_chain(X509 *vcek, const char *ca_file, eos_diag *d)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = EOS_EVERIFY;
    if (!store || !ctx || X509_STORE_load_file(store, ca_file) != 1) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "cannot load the AMD ASK/ARK certificates from %s", ca_file);
        goto out;
    }
    if (!X509_STORE_CTX_init(ctx, store, vcek, NULL) || X509_verify_cert(ctx) != 1) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "the VCEK certificate does not chain to the AMD certificates in %s (%s)",
                     ca_file, X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        goto out;
    }
    rc = 0;
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

int eos_ratls__snp_verify(const eos_tee_evidence_info *info, const char *vcek_file,
                          const char *ca_file, eos_diag *d)
{
    int rc = EOS_EVERIFY;
    X509 *vcek = load_cert(vcek_file);
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = NULL, *s = NULL;
    uint8_t *der = NULL;
    int der_size = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    const uint8_t *raw = info->signed_data + 0x2A0;
    if (!vcek) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "cannot read the VCEK certificate %s (PEM or DER)", vcek_file);
        goto out;
    }
    if (ca_file && check_vcek_chain(vcek, ca_file, d) != 0)
        goto out;
    r = BN_lebin2bn(raw, 72, NULL);
    s = BN_lebin2bn(raw + 72, 72, NULL);
    if (!sig || !r || !s || !md || !ECDSA_SIG_set0(sig, r, s)) {
        rc = EOS_ENOMEM;
        goto out;
    }
    r = s = NULL;
    if ((der_size = i2d_ECDSA_SIG(sig, &der)) <= 0 ||
        EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, X509_get0_pubkey(vcek)) != 1 ||
        EVP_DigestVerify(md, der, (size_t)der_size, info->signed_data, info->signed_size) != 1) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "the SEV-SNP report signature does not verify with the VCEK in %s", vcek_file);
        goto out;
    }
    rc = 0;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    X509_free(vcek);
    return rc;
}
