/* Published quotes (tests/tee/vectors/README.md): a TDX quote from a real
 * TD, with the offline DCAP checks anchored at the Intel root certificate
 * carried at the end of its own PCK chain, and Intel's SGX v3 sample. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "eos/ratls.h"
#include "harness.h"

static uint8_t *quote;
static size_t quote_size;

static uint8_t *load_hex(const char *path, size_t *out_size)
{
    FILE *f = fopen(path, "r");
    static char hex[20000];
    size_t n = f ? fread(hex, 1, sizeof hex - 1, f) : 0;
    if (f)
        fclose(f);
    while (n && (hex[n - 1] == '\n' || hex[n - 1] == ' '))
        n--;
    hex[n] = 0;
    *out_size = n / 2;
    uint8_t *b = malloc(*out_size);
    EOS_CHECK_INT(eos_hex_decode(hex, b, *out_size), 0);
    return b;
}

static void test_sgx_v3_sample(void)
{
    size_t size = 0;
    uint8_t *q = load_hex(EOS_VECTORS_DIR "/sgx_v3_quote.hex", &size);
    eos_tee_evidence_info info;
    EOS_CHECK_INT(eos_tee_parse_evidence(q, size, &info, NULL), 0);
    EOS_CHECK_INT(info.kind, EOS_TEE_KIND_SGX);
    EOS_CHECK_INT(info.version, 3);
    EOS_CHECK_INT(info.cert_type, 1);
    EOS_CHECK_INT(info.qe_auth_size, 0);
    EOS_CHECK_INT(info.pce_svn, 3);
    /* Signature and QE binding verify; the missing PCK chain is what stops it. */
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_ratls_verify_quote(q, size, "/nonexistent", &d), EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "type 1") != NULL);
    q[100] ^= 1;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_ratls_verify_quote(q, size, "/nonexistent", &d), EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "header and body") != NULL);
    free(q);
}

static void test_parse(void)
{
    eos_tee_evidence_info info;
    char hex[129];
    EOS_CHECK_INT(eos_tee_parse_evidence(quote, quote_size, &info, NULL), 0);
    EOS_CHECK_INT(info.kind, EOS_TEE_KIND_TDX);
    EOS_CHECK_INT(info.version, 4);
    EOS_CHECK_INT(info.debug, 0);
    EOS_CHECK_INT(info.cert_type, 5);
    EOS_CHECK_INT(info.signed_size, 632);
    eos_hex_encode(info.measurement, 48, hex);
    EOS_CHECK_STR(hex, "7ba9e262ce6979087e34632603f354dd8f8a870f5947d116af8114db6c9d0d74c48bec4280"
                       "e5b4f4a37025a10905bb29");
    eos_hex_encode(info.rtmr[0], 48, hex);
    EOS_CHECK_STR(hex, "4574c098915caf3e82057817dbd135c1ed0ee1b39ac300c921479e2f5ebf5726a13ee0c874"
                       "5ac891b6aee7c4f9664610");
    EOS_CHECK_INT(info.attributes, 0x10000000); /* SEPT_VE_DISABLE, not DEBUG */
    eos_hex_encode(info.report_data, 16, hex);
    EOS_CHECK_STR(hex, "7148f47ef58b475fce69b386e2d6b4c9");
}

/* The Intel root is the last certificate of the quote's own chain; for this
 * test it is written out as the anchor. */
static void write_root(const char *path)
{
    eos_tee_evidence_info info;
    eos_tee_parse_evidence(quote, quote_size, &info, NULL);
    BIO *b = BIO_new_mem_buf(info.cert_data, (int)info.cert_data_size);
    X509 *x, *last = NULL;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        X509_free(last);
        last = x;
    }
    ERR_clear_error();
    BIO_free(b);
    FILE *f = fopen(path, "w");
    PEM_write_X509(f, last);
    fclose(f);
    X509_free(last);
}

static void test_dcap_signatures(void)
{
    char path[] = "/tmp/eos-intel-root-XXXXXX";
    int fd = mkstemp(path);
    EOS_CHECK(fd >= 0);
    write_root(path);
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_ratls_verify_quote(quote, quote_size, path, &d), 0);
    if (d.message[0])
        fprintf(stderr, "    %s\n", d.message);
    /* One flipped bit in the TD report breaks the attestation key's signature. */
    quote[200] ^= 1;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_ratls_verify_quote(quote, quote_size, path, &d), EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "header and body") != NULL);
    quote[200] ^= 1;
    unlink(path);
    close(fd);
}

int main(void)
{
    quote = load_hex(EOS_VECTORS_DIR "/tdx_v4_quote.hex", &quote_size);
    EOS_RUN(test_parse);
    EOS_RUN(test_sgx_v3_sample);
    EOS_RUN(test_dcap_signatures);
    free(quote);
    return eos_test_finish();
}
