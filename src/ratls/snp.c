/* Offline checks of an SEV-SNP attestation report: the signature (ECDSA
 * P-384 with SHA-384 over bytes 0..0x29F, R and S stored little endian in
 * 72-byte fields at 0x2A0) with the chip's VCEK (or the cloud's VLEK),
 * chained to AMD's ASK/ARK at the verification time; then the TCB: the
 * VCEK is issued for one TCB, which must be the report's REPORTED_TCB, for
 * the chip named by CHIP_ID, and no component may be below a given minimum.
 * The certificates come from AMD's key distribution service; they are not
 * fetched here. */
#include <string.h>

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "internal.h"

int eos_ratls__snp_verify(const eos_tee_evidence_info *info, const eos_ratls__snp_ctx *c,
                          eos_diag *d)
{
    int rc = EOS_EVERIFY;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = NULL, *s = NULL;
    uint8_t *der = NULL;
    int der_size = 0;
    char err[160];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    const uint8_t *raw = info->signed_data + 0x2A0;
    if (c->anchors) {
        STACK_OF(X509) *untrusted = sk_X509_new_null();
        if (!untrusted) {
            rc = EOS_ENOMEM;
            goto out;
        }
        /* The ASK is an intermediate, the ARK the self-signed anchor; both
         * arrive in one file, so both are offered as anchors and candidates. */
        for (int i = 0; i < sk_X509_num(c->anchors); i++)
            sk_X509_push(untrusted, sk_X509_value(c->anchors, i));
        rc = eos_ratls__verify_cert(c->cert, untrusted, c->anchors, c->crls, c->now, err,
                                    sizeof err);
        sk_X509_free(untrusted);
        if (rc == EOS_EPERM) {
            eos_diag_set(d, EOS_EPERM, "quote-signature", -1,
                         "the VCEK certificate is revoked by AMD's CRL");
            goto out;
        }
        if (rc != 0) {
            eos_diag_set(d, rc, "quote-signature", -1,
                         "the VCEK certificate does not chain to the given AMD ASK/ARK (%s)", err);
            goto out;
        }
        rc = EOS_EVERIFY;
    }
    r = BN_lebin2bn(raw, 72, NULL);
    s = BN_lebin2bn(raw + 72, 72, NULL);
    if (!sig || !r || !s || !md || !ECDSA_SIG_set0(sig, r, s)) {
        rc = EOS_ENOMEM;
        goto out;
    }
    r = s = NULL;
    if ((der_size = i2d_ECDSA_SIG(sig, &der)) <= 0 ||
        EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, X509_get0_pubkey(c->cert)) != 1 ||
        EVP_DigestVerify(md, der, (size_t)der_size, info->signed_data, info->signed_size) != 1) {
        eos_diag_set(d, EOS_EVERIFY, "quote-signature", -1,
                     "the SEV-SNP report signature does not verify with the given VCEK");
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
    return rc;
}

void eos_ratls__snp_tcb_decode(const eos_tee_evidence_info *info, const uint8_t tcb[8],
                               eos_ratls__snp_tcb *out)
{
    memset(out, 0, sizeof *out);
    /* Turin (family 0x1A) adds an FMC version and packs the fields
     * differently; Milan and Genoa use bytes 0, 1, 6 and 7. */
    if (info->cpuid_family == 0x1A) {
        out->fmc = tcb[0];
        out->bootloader = tcb[1];
        out->tee = tcb[2];
        out->snp = tcb[3];
    } else {
        out->bootloader = tcb[0];
        out->tee = tcb[1];
        out->snp = tcb[6];
    }
    out->microcode = tcb[7];
}

/* An INTEGER extension of the VCEK (1.3.6.1.4.1.3704.1.3.x); -1 when absent. */
static long cert_int(X509 *x, const char *oid)
{
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    int i = obj ? X509_get_ext_by_OBJ(x, obj, -1) : -1;
    long v = -1;
    ASN1_OBJECT_free(obj);
    if (i < 0)
        return -1;
    const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(x, i));
    const uint8_t *p = ASN1_STRING_get0_data(os);
    ASN1_INTEGER *ai = d2i_ASN1_INTEGER(NULL, &p, ASN1_STRING_length(os));
    if (ai) {
        v = ASN1_INTEGER_get(ai);
        ASN1_INTEGER_free(ai);
    }
    ERR_clear_error();
    return v;
}

/* The hardware ID (1.3.6.1.4.1.3704.1.4), raw or wrapped in an OCTET STRING;
 * 0 and 64 bytes in out when present. */
static int cert_hwid(X509 *x, uint8_t out[64])
{
    ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.3704.1.4", 1);
    int i = obj ? X509_get_ext_by_OBJ(x, obj, -1) : -1;
    ASN1_OBJECT_free(obj);
    if (i < 0)
        return -1;
    const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(x, i));
    const uint8_t *p = ASN1_STRING_get0_data(os);
    int n = ASN1_STRING_length(os);
    if (n == 66 && p[0] == 0x04 && p[1] == 64)
        p += 2, n = 64;
    if (n != 64)
        return -1;
    memcpy(out, p, 64);
    return 0;
}

int eos_ratls__snp_tcb_status(const eos_tee_evidence_info *info, const eos_ratls__snp_ctx *c,
                       eos_ratls_verify_result *r, eos_diag *d)
{
    eos_ratls__snp_tcb rep;
    uint8_t hwid[64];
    static const uint8_t zero[64] = {0};
    eos_ratls__snp_tcb_decode(info, info->tcb, &rep);
    long bl = cert_int(c->cert, "1.3.6.1.4.1.3704.1.3.1");
    long tee = cert_int(c->cert, "1.3.6.1.4.1.3704.1.3.2");
    long snp = cert_int(c->cert, "1.3.6.1.4.1.3704.1.3.3");
    long ucode = cert_int(c->cert, "1.3.6.1.4.1.3704.1.3.8");
    if (bl < 0 || tee < 0 || snp < 0 || ucode < 0)
        return eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                            "the VCEK lacks its TCB extensions (1.3.6.1.4.1.3704.1.3.x)");
    /* A VCEK is derived from one TCB; a report signed with it while stating
     * another TCB is a VCEK from the wrong TCB (or a forged statement). */
    if (bl != rep.bootloader || tee != rep.tee || snp != rep.snp || ucode != rep.microcode)
        return eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                            "the VCEK was issued for TCB bootloader %ld, TEE %ld, SNP %ld, "
                            "microcode %ld, but the report states %u, %u, %u, %u: fetch the "
                            "VCEK for the report's REPORTED_TCB",
                            bl, tee, snp, ucode, rep.bootloader, rep.tee, rep.snp,
                            rep.microcode);
    if (cert_hwid(c->cert, hwid) == 0 && memcmp(info->chip_id, zero, 64) != 0 &&
        memcmp(hwid, info->chip_id, 64) != 0)
        return eos_diag_set(d, EOS_EVERIFY, "tcb", -1,
                            "the VCEK belongs to another chip than the report's CHIP_ID");
    r->tcb_status = EOS_RATLS_TCB_UP_TO_DATE;
    snprintf(r->tcb_detail, sizeof r->tcb_detail,
             "bootloader %u, TEE %u, SNP %u, microcode %u", rep.bootloader, rep.tee, rep.snp,
             rep.microcode);
    if (c->min_set) {
        const eos_ratls__snp_tcb *m = &c->min;
        if (rep.bootloader < m->bootloader || rep.tee < m->tee || rep.snp < m->snp ||
            rep.microcode < m->microcode || rep.fmc < m->fmc) {
            r->tcb_status = EOS_RATLS_TCB_OUT_OF_DATE;
            size_t n = strlen(r->tcb_detail);
            snprintf(r->tcb_detail + n, sizeof r->tcb_detail - n,
                     "; below the minimum %u, %u, %u, %u", m->bootloader, m->tee, m->snp,
                     m->microcode);
        }
    }
    return 0;
}
