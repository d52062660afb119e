/* Certificates: the report-data binding, leaf certificates with the evidence
 * and configuration extensions of SPEC 5.1 (raw bytes as the OCTET STRING
 * value of each non-critical extension), and small X.509 helpers. */
/* The one-shot SHA-2 context API is deprecated in OpenSSL 3 but is the
 * allocation-free way to hash a few pieces; it remains available. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "internal.h"

int eos_ratls_report_data(const uint8_t *spki_der, size_t spki_size, const uint8_t *binding,
                          size_t binding_size, uint8_t out[64])
{
    uint8_t h[32];
    SHA512_CTX c;
    SHA256(spki_der, spki_size, h);
    SHA512_Init(&c);
    SHA512_Update(&c, h, 32);
    SHA512_Update(&c, binding, binding_size);
    SHA512_Final(out, &c);
    return 0;
}

void eos_ratls_time_binding(int64_t unix_time, char out[18])
{
    struct tm tm;
    time_t t = (time_t)unix_time;
    gmtime_r(&t, &tm);
    /* strftime keeps the compiler's format-truncation analysis quiet; the
     * output is always 17 characters for years 0000-9999. */
    if (strftime(out, 18, "%Y-%m-%dT%H:%MZ", &tm) != 17)
        memset(out, 0, 18);
}

const char *eos_ratls__evidence_oid(const char *tee_name)
{
    if (strcmp(tee_name, "tdx") == 0)
        return EOS_RATLS_OID_TDX_QUOTE;
    if (strcmp(tee_name, "sev-snp") == 0)
        return EOS_RATLS_OID_SNP_REPORT;
    return EOS_RATLS_OID_SGX_QUOTE;
}

static int add_raw_ext(X509 *x, const char *oid, const uint8_t *data, size_t size)
{
    int ok = 0;
    ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
    ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
    X509_EXTENSION *ext = NULL;
    if (obj && os && ASN1_OCTET_STRING_set(os, data, (int)size) &&
        (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) && X509_add_ext(x, ext, -1))
        ok = 1;
    X509_EXTENSION_free(ext);
    ASN1_OCTET_STRING_free(os);
    ASN1_OBJECT_free(obj);
    return ok ? 0 : EOS_ECRYPTO;
}

static int add_v3_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : EOS_ECRYPTO;
}

static int set_serial(X509 *x)
{
    uint8_t b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return EOS_ECRYPTO;
    b[0] &= 0x7f; /* positive */
    b[0] |= 0x01; /* and of full length */
    BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    return ok ? 0 : EOS_ECRYPTO;
}

static int add_leaf_exts(X509 *x, X509 *ca, const eos_ratls__leaf_params *p)
{
    char san[300];
    snprintf(san, sizeof san, "DNS:%s", p->dns_name);
    if (add_v3_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
        add_v3_ext(x, ca, NID_key_usage, "critical,digitalSignature") != 0 ||
        add_v3_ext(x, ca, NID_ext_key_usage, "serverAuth") != 0 ||
        add_v3_ext(x, ca, NID_subject_alt_name, san) != 0 ||
        add_v3_ext(x, ca, NID_authority_key_identifier, "keyid") != 0)
        return EOS_ECRYPTO;
    if (add_raw_ext(x, EOS_RATLS_OID_CONFIG_ROOT, p->root, 32) != 0 ||
        add_raw_ext(x, EOS_RATLS_OID_APPS_HASH, p->apps_hash, 32) != 0)
        return EOS_ECRYPTO;
    if (p->app && (add_raw_ext(x, EOS_RATLS_OID_APP_NAME, (const uint8_t *)p->app->name,
                               strlen(p->app->name)) != 0 ||
                   add_raw_ext(x, EOS_RATLS_OID_APP_ROUTE, (const uint8_t *)p->app->route,
                               strlen(p->app->route)) != 0 ||
                   add_raw_ext(x, EOS_RATLS_OID_APP_CODE_HASH, p->app->code_hash, 32) != 0))
        return EOS_ECRYPTO;
    return 0;
}

int eos_ratls__make_leaf(eos_tee *tee, X509 *ca_cert, EVP_PKEY *ca_key,
                         const eos_ratls__leaf_params *p, X509 **out_cert, EVP_PKEY **out_key,
                         eos_diag *diag)
{
    int rc = EOS_ECRYPTO;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    uint8_t *spki = NULL, *ev = NULL, rd[64];
    size_t ev_size = 0;
    int spki_size;
    char tb[18];
    int64_t nb = p->not_before - p->not_before % 60;

    if (strlen(p->dns_name) > 250)
        return eos_diag_set(diag, EOS_EINVAL, "leaf", -1, "server name is too long");
    if (!(key = EVP_EC_gen("P-256")) || !(x = X509_new()))
        goto crypto;
    if (!X509_set_version(x, 2) || set_serial(x) != 0 ||
        !X509_set_issuer_name(x, X509_get_subject_name(ca_cert)) ||
        !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                                    (const uint8_t *)p->dns_name, -1, -1, 0) ||
        !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(nb + p->lifetime)) ||
        !X509_set_pubkey(x, key))
        goto crypto;
    if ((spki_size = i2d_PUBKEY(key, &spki)) <= 0)
        goto crypto;
    if (p->nonce) {
        eos_ratls_report_data(spki, (size_t)spki_size, p->nonce, p->nonce_size, rd);
    } else {
        eos_ratls_time_binding(nb, tb);
        eos_ratls_report_data(spki, (size_t)spki_size, (const uint8_t *)tb, 17, rd);
    }
    if ((rc = eos_tee_evidence(tee, rd, &ev, &ev_size, diag)) != 0)
        goto out;
    rc = EOS_ECRYPTO;
    if (add_raw_ext(x, eos_ratls__evidence_oid(eos_tee_name(tee)), ev, ev_size) != 0 ||
        add_leaf_exts(x, ca_cert, p) != 0 || !X509_sign(x, ca_key, EVP_sha256()))
        goto crypto;
    *out_cert = x;
    *out_key = key;
    x = NULL;
    key = NULL;
    rc = 0;
    goto out;
crypto:
    rc = eos_diag_set(diag, EOS_ECRYPTO, "leaf", -1,
                      "building the RA-TLS leaf certificate failed in OpenSSL");
out:
    OPENSSL_free(spki);
    eos_free(ev, ev_size);
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}
