/* Builders for the fixtures in quote_fixture.h. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_* in test code */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "quote_fixture.h"

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca)
{
    X509 *x = X509_new();
    X509V3_CTX ctx;
    ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2);
    X509_set_version(x, 2);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
    ASN1_TIME_set(X509_getm_notBefore(x), time(NULL) - 86400);
    ASN1_TIME_set(X509_getm_notAfter(x), time(NULL) + 86400 * 365);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                                            ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    X509_sign(x, issuer_key, EVP_sha256());
    return x;
}

int fixture_pck_new(fixture_pck *out, const char *root_path)
{
    memset(out, 0, sizeof *out);
    out->root_key = EVP_EC_gen("P-256");
    out->pck_key = EVP_EC_gen("P-256");
    X509 *root = make_cert("Test SGX Root CA", out->root_key, NULL, out->root_key, 1);
    X509 *pck = make_cert("Test SGX PCK Certificate", out->pck_key, root, out->root_key, 0);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, pck);
    PEM_write_bio_X509(b, root);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    out->chain_pem = malloc((size_t)n + 1);
    memcpy(out->chain_pem, data, (size_t)n);
    out->chain_pem[n] = 0;
    out->chain_size = (size_t)n + 1; /* with the NUL, as DCAP quotes carry it */
    BIO_free(b);
    if (root_path) {
        FILE *f = fopen(root_path, "w");
        PEM_write_X509(f, root);
        fclose(f);
    }
    X509_free(root);
    X509_free(pck);
    return 0;
}

void fixture_pck_free(fixture_pck *p)
{
    EVP_PKEY_free(p->root_key);
    EVP_PKEY_free(p->pck_key);
    free(p->chain_pem);
}

static void sign_raw(EVP_PKEY *key, const uint8_t *data, size_t size, uint8_t out[64])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t der[80];
    size_t der_size = sizeof der;
    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key);
    EVP_DigestSign(md, der, &der_size, data, size);
    EVP_MD_CTX_free(md);
    const uint8_t *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_size);
    BN_bn2binpad(ECDSA_SIG_get0_r(s), out, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(s), out + 32, 32);
    ECDSA_SIG_free(s);
}

static void raw_pub(EVP_PKEY *key, uint8_t out[64])
{
    uint8_t pt[65];
    size_t n = sizeof pt;
    EVP_PKEY_get_octet_string_param(key, "pub", pt, sizeof pt, &n);
    memcpy(out, pt + 1, 64);
}

int fixture_quote(int version, const uint8_t rd[64], const fixture_pck *pck, int debug,
                  uint8_t **out, size_t *out_size)
{
    static const uint8_t intel_qe_vendor[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                                0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};
    size_t body_off = 48 + (version == 5 ? 6 : 0);
    size_t body_size = version == 3 ? 384 : 584;
    size_t signed_size = body_off + body_size;
    size_t qe_cert = 384 + 64 + 2 + 32 + 6 + pck->chain_size;
    size_t sig_size = 128 + (version == 3 ? 0 : 6) + qe_cert;
    size_t size = signed_size + 4 + sig_size;
    uint8_t *q = calloc(1, size), *b = q + body_off;
    put16(q, (uint32_t)version);
    put16(q + 2, 2);
    put32(q + 4, version == 3 ? 0 : 0x81);
    put16(q + 8, 7);
    put16(q + 10, 13);
    memcpy(q + 12, intel_qe_vendor, 16);
    if (version == 5) {
        put16(q + 48, 2);
        put32(q + 50, 584);
    }
    if (version == 3) {
        memset(b, 0x11, 16);
        q[body_off + 48] = debug ? 0x06 : 0x04;
        memset(b + 64, 0x22, 32);
        memset(b + 128, 0x33, 32);
        put16(b + 256, 1);
        put16(b + 258, 2);
        memcpy(b + 320, rd, 64);
    } else {
        memset(b, 0x12, 16);
        b[120] = debug ? 1 : 0;
        memset(b + 136, 0x44, 48);
        memset(b + 184, 0x45, 48);
        for (int i = 0; i < 4; i++)
            memset(b + 328 + 48 * i, 0x50 + i, 48);
        memcpy(b + 520, rd, 64);
    }
    put32(q + signed_size, (uint32_t)sig_size);
    uint8_t *s = q + signed_size + 4;
    EVP_PKEY *ak = EVP_EC_gen("P-256");
    sign_raw(ak, q, signed_size, s);
    raw_pub(ak, s + 64);
    uint8_t *c = s + 128;
    if (version != 3) {
        put16(c, 6);
        put32(c + 2, (uint32_t)qe_cert);
        c += 6;
    }
    uint8_t *qe = c, auth[32];
    for (int i = 0; i < 32; i++)
        auth[i] = (uint8_t)i;
    memset(qe, 0x5a, 320);
    SHA256_CTX h;
    SHA256_Init(&h);
    SHA256_Update(&h, s + 64, 64);
    SHA256_Update(&h, auth, 32);
    SHA256_Final(qe + 320, &h);
    sign_raw(pck->pck_key, qe, 384, qe + 384);
    c += 384 + 64;
    put16(c, 32);
    memcpy(c + 2, auth, 32);
    c += 34;
    put16(c, 5);
    put32(c + 2, (uint32_t)pck->chain_size);
    memcpy(c + 6, pck->chain_pem, pck->chain_size);
    EVP_PKEY_free(ak);
    *out = q;
    *out_size = size;
    return 0;
}

void fixture_snp_report(const uint8_t rd[64], int debug, uint8_t out[1184])
{
    memset(out, 0, 1184);
    put32(out, 2);
    put32(out + 4, 3);
    put32(out + 8, (1u << 17) | (debug ? 1u << 19 : 0)); /* policy: SMT allowed, debug */
    put32(out + 0x34, 1);
    memcpy(out + 0x50, rd, 64);
    memset(out + 0x90, 0x66, 48);
    memset(out + 0xC0, 0x77, 32);
    memset(out + 0x110, 0x88, 48);
    memset(out + 0x180, 0x03, 8);
    memset(out + 0x2A0, 0x99, 144);
}

void fixture_snp_sign(uint8_t report[1184], EVP_PKEY *p384)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t der[120];
    size_t der_size = sizeof der;
    EVP_DigestSignInit(md, NULL, EVP_sha384(), NULL, p384);
    EVP_DigestSign(md, der, &der_size, report, 0x2A0);
    EVP_MD_CTX_free(md);
    const uint8_t *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)der_size);
    memset(report + 0x2A0, 0, 1184 - 0x2A0);
    BN_bn2lebinpad(ECDSA_SIG_get0_r(s), report + 0x2A0, 72);
    BN_bn2lebinpad(ECDSA_SIG_get0_s(s), report + 0x2A0 + 72, 72);
    ECDSA_SIG_free(s);
}

void fixture_snp_chain(const char *vcek_path, const char *ark_path, EVP_PKEY **out_vcek_key)
{
    EVP_PKEY *ark_key = EVP_EC_gen("P-384"), *vcek_key = EVP_EC_gen("P-384");
    X509 *ark = make_cert("Test ARK", ark_key, NULL, ark_key, 1);
    X509 *vcek = make_cert("Test VCEK", vcek_key, ark, ark_key, 0);
    FILE *f = fopen(vcek_path, "w");
    PEM_write_X509(f, vcek);
    fclose(f);
    f = fopen(ark_path, "w");
    PEM_write_X509(f, ark);
    fclose(f);
    X509_free(ark);
    X509_free(vcek);
    EVP_PKEY_free(ark_key);
    *out_vcek_key = vcek_key;
}
