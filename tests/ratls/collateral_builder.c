/* See collateral_builder.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "collateral_builder.h"
#include "harness.h"

static void die(const char *what)
{
    fprintf(stderr, "collateral builder: %s\n", what);
    abort();
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       int ca, long serial)
{
    X509 *x = X509_new();
    X509V3_CTX ctx;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x));
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                                            ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (ca) {
        e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
        die("cannot sign a certificate");
    return x;
}

static void path_of(const builder *b, const char *file, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", b->dir, file);
}

static void write_text(const builder *b, const char *file, const char *text, size_t n)
{
    char path[160];
    path_of(b, file, path, sizeof path);
    if (eos_test_write_file(path, text, n) != 0)
        die("cannot write a collateral file");
}

void builder_init(builder *b, const char *intel_root_pem)
{
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "/tmp/eos-collateral-XXXXXX");
    if (!mkdtemp(b->dir))
        die("mkdtemp");
    snprintf(b->anchors, sizeof b->anchors, "%s.anchors.pem", b->dir);
    b->root_key = EVP_EC_gen("P-256");
    b->sign_key = EVP_EC_gen("P-256");
    b->root = make_cert(b->root_key, "Test SGX Root CA", NULL, NULL, 1, 1);
    b->signer = make_cert(b->sign_key, "Test SGX TCB Signing", b->root, b->root_key, 0, 77);
    char path[160];
    path_of(b, "tcbSignChain.pem", path, sizeof path);
    FILE *f = fopen(path, "w");
    PEM_write_X509(f, b->signer);
    PEM_write_X509(f, b->root);
    fclose(f);
    f = fopen(b->anchors, "w");
    FILE *in = fopen(intel_root_pem, "r");
    int c;
    while (in && (c = fgetc(in)) != EOF)
        fputc(c, f);
    if (in)
        fclose(in);
    fputc('\n', f);
    PEM_write_X509(f, b->root);
    fclose(f);
}

void builder_free(builder *b)
{
    static const char *const files[] = {"tcbSignChain.pem", "tcbInfo.json", "qeIdentity.json",
                                        "rootCaCrl.pem"};
    char path[160];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        path_of(b, files[i], path, sizeof path);
        unlink(path);
    }
    rmdir(b->dir);
    unlink(b->anchors);
    X509_free(b->root);
    X509_free(b->signer);
    EVP_PKEY_free(b->root_key);
    EVP_PKEY_free(b->sign_key);
}

static char *ring(void)
{
    static char bufs[8][4096];
    static int next;
    return bufs[next++ % 8];
}

static void svn_list(char *out, size_t size, const char *csv)
{
    size_t n = (size_t)snprintf(out, size, "[");
    const char *p = csv;
    for (int i = 0; i < 16; i++) {
        n += (size_t)snprintf(out + n, size - n, "%s{\"svn\":%ld}", i ? "," : "",
                              strtol(p, (char **)&p, 10));
        if (*p == ',')
            p++;
    }
    snprintf(out + n, size - n, "]");
}

const char *builder_sgx_level(const char *comps, int pcesvn, const char *status)
{
    char sgx[1024];
    char *out = ring();
    svn_list(sgx, sizeof sgx, comps);
    snprintf(out, 4096,
             "{\"tcb\":{\"sgxtcbcomponents\":%s,\"pcesvn\":%d},\"tcbDate\":"
             "\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"%s\",\"advisoryIDs\":[\"INTEL-SA-00000\"]}",
             sgx, pcesvn, status);
    return out;
}

const char *builder_tdx_level(const char *sgx_csv, int pcesvn, const char *tdx_csv,
                              const char *status)
{
    char sgx[1024], tdx[1024];
    char *out = ring();
    svn_list(sgx, sizeof sgx, sgx_csv);
    svn_list(tdx, sizeof tdx, tdx_csv);
    snprintf(out, 4096,
             "{\"tcb\":{\"sgxtcbcomponents\":%s,\"pcesvn\":%d,\"tdxtcbcomponents\":%s},"
             "\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"%s\"}",
             sgx, pcesvn, tdx, status);
    return out;
}

/* {"<key>":body,"signature":"<r||s hex>"} with the test signing key. */
static void write_signed(builder *b, const char *file, const char *key, const char *body)
{
    size_t n = strlen(body), dsize = 0;
    unsigned char der[128];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    dsize = sizeof der;
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, b->sign_key) != 1 ||
        EVP_DigestSign(md, der, &dsize, (const unsigned char *)body, n) != 1)
        die("cannot sign collateral");
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dsize);
    unsigned char raw[64];
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32);
    ECDSA_SIG_free(sig);
    char hex[129];
    for (int i = 0; i < 64; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    size_t total = n + 256;
    char *doc = malloc(total);
    int len = snprintf(doc, total, "{\"%s\":%s,\"signature\":\"%s\"}", key, body, hex);
    write_text(b, file, doc, (size_t)len);
    free(doc);
}

void builder_tcb_info(builder *b, const char *id, const char *fmspc, const char *levels,
                      const char *modules, int flag)
{
    size_t size = strlen(levels) + (modules ? strlen(modules) : 0) + 1024;
    char *body = malloc(size);
    const char *issue = flag < 0 ? "2023-01-01T00:00:00Z" : "2024-01-01T00:00:00Z";
    const char *next = flag < 0 ? "2024-01-01T00:00:00Z" : "2099-01-01T00:00:00Z";
    int n = snprintf(body, size,
                     "{\"id\":\"%s\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
                     "\"fmspc\":\"%s\",\"pceId\":\"0000\",\"tcbType\":0,"
                     "\"tcbEvaluationDataNumber\":17",
                     id, issue, next, fmspc);
    if (flag > 0)
        n += snprintf(body + n, size - (size_t)n,
                      ",\"tdxModule\":{\"mrsigner\":\"%096d\",\"attributes\":\"0000000000000000\","
                      "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"}",
                      0);
    if (modules)
        n += snprintf(body + n, size - (size_t)n, ",\"tdxModuleIdentities\":%s", modules);
    snprintf(body + n, size - (size_t)n, ",\"tcbLevels\":[%s]}", levels);
    write_signed(b, "tcbInfo.json", "tcbInfo", body);
    free(body);
}

void builder_qe_identity(builder *b, const char *fields, const char *levels)
{
    size_t size = strlen(fields) + strlen(levels) + 512;
    char *body = malloc(size);
    snprintf(body, size,
             "{%s,\"version\":2,\"issueDate\":\"2024-01-01T00:00:00Z\",\"nextUpdate\":"
             "\"2099-01-01T00:00:00Z\",\"tcbEvaluationDataNumber\":17,\"tcbLevels\":[%s]}",
             fields, levels);
    write_signed(b, "qeIdentity.json", "enclaveIdentity", body);
    free(body);
}

/* The file's text (malloc'd, NUL-terminated; free with free()). */
static char *read_text(const builder *b, const char *file, size_t *out_size)
{
    char path[160];
    path_of(b, file, path, sizeof path);
    char *text = (char *)eos_test_read_file(path, out_size);
    if (!text)
        die("cannot read a collateral file");
    return text;
}

void builder_tamper(builder *b, const char *file, const char *from, const char *to)
{
    size_t n;
    char *text = read_text(b, file, &n);
    char *at = strstr(text, from);
    if (!at || strlen(from) != strlen(to))
        die("nothing to tamper with");
    memcpy(at, to, strlen(to));
    write_text(b, file, text, n);
    free(text);
}

void builder_truncate(builder *b, const char *file, size_t size)
{
    size_t n;
    char *text = read_text(b, file, &n);
    write_text(b, file, text, size < n ? size : n);
    free(text);
}

void builder_revoke_signer(builder *b)
{
    X509_CRL *crl = X509_CRL_new();
    X509_REVOKED *rev = X509_REVOKED_new();
    ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL) - 3600, 0, 0);
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(b->root));
    X509_CRL_set1_lastUpdate(crl, t);
    ASN1_TIME_free(t);
    t = ASN1_TIME_adj(NULL, time(NULL) + 86400, 0, 0);
    X509_CRL_set1_nextUpdate(crl, t);
    X509_REVOKED_set_serialNumber(rev, X509_get_serialNumber(b->signer));
    ASN1_TIME_free(t);
    t = ASN1_TIME_adj(NULL, time(NULL) - 60, 0, 0);
    X509_REVOKED_set_revocationDate(rev, t);
    ASN1_TIME_free(t);
    X509_CRL_add0_revoked(crl, rev);
    X509_CRL_sort(crl);
    if (!X509_CRL_sign(crl, b->root_key, EVP_sha256()))
        die("cannot sign the CRL");
    char path[160];
    path_of(b, "rootCaCrl.pem", path, sizeof path);
    FILE *f = fopen(path, "w");
    PEM_write_X509_CRL(f, crl);
    fclose(f);
    X509_CRL_free(crl);
}

void builder_unrevoke(builder *b)
{
    char path[160];
    path_of(b, "rootCaCrl.pem", path, sizeof path);
    unlink(path);
}
