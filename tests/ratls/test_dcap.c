/* Hardware evidence end to end without hardware: backends built with
 * eos_tee_new_custom that return fixture quotes/reports (documented layouts,
 * real ECDSA signatures, a throwaway PCK chain) over the real report data,
 * then the verifier with its offline DCAP checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "eos/ratls.h"
#include "harness.h"
#include "quote_fixture.h"

static char dir[] = "/tmp/eos-ratls-dcap-XXXXXX";
static char root_path[256], other_root[256], vcek_path[256], ark_path[256];
static fixture_pck pck;
static EVP_PKEY *vcek_key;

typedef struct fake {
    int version; /* 3 SGX, 4/5 TDX, 0 SNP */
    int debug;
    int corrupt; /* flip a byte of the signed body after signing */
} fake;

static int fake_evidence(eos_tee *t, const uint8_t rd[64], uint8_t **out, size_t *out_size,
                         eos_diag *d)
{
    fake *f = t->impl;
    uint8_t *q = NULL;
    size_t n = 0;
    if (f->version == 0) {
        n = 1184;
        q = malloc(n);
        fixture_snp_report(rd, f->debug, q);
        fixture_snp_sign(q, vcek_key);
    } else {
        fixture_quote(f->version, rd, &pck, f->debug, &q, &n);
    }
    if (f->corrupt)
        q[60] ^= 1;
    *out = eos_malloc(n);
    memcpy(*out, q, n);
    *out_size = n;
    free(q);
    return 0;
}

static int fake_seal(eos_tee *t, const char *label, const uint8_t *p, size_t ps, uint8_t **out,
                     size_t *out_size, eos_diag *d)
{
    /* Identity "sealing": these tests are about evidence, not secrecy. */
    *out = eos_malloc(ps ? ps : 1);
    memcpy(*out, p, ps);
    *out_size = ps;
    return 0;
}

static int no_seal(eos_tee *t, const char *label, const uint8_t *p, size_t ps, uint8_t **out,
                   size_t *out_size, eos_diag *d)
{
    return eos_diag_set(d, EOS_EUNSUPPORTED, "seal", -1, "no sealing key on this TEE");
}

static int fake_measurement(eos_tee *t, uint8_t out[64], size_t *out_size)
{
    memset(out, 0x22, 32);
    *out_size = 32;
    return 0;
}

static int run_case(const char *name, fake *f, eos_ratls_verify_opts *vo,
                    eos_ratls_verify_result *res)
{
    eos_tee_ops ops = {.name = name,
                       .evidence = fake_evidence,
                       .seal = fake_seal,
                       .unseal = fake_seal,
                       .measurement = fake_measurement};
    /* TDX has no sealing key: the server must still come up (per-run CA). */
    if (strcmp(name, "tdx") == 0)
        ops.seal = ops.unseal = no_seal;
    eos_tee *tee = NULL;
    eos_ratls_server *srv = NULL;
    char sub[300];
    snprintf(sub, sizeof sub, "%s/%s-%d-%d", dir, name, f->version, f->corrupt);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", sub);
    if (system(cmd) != 0)
        return -100;
    eos_tee_new_custom(&ops, f, &tee);
    eos_ratls_server_options o = {.data_dir = sub};
    eos_diag d;
    eos_diag_init(&d);
    if (eos_ratls_server_new(tee, &o, &srv, &d) != 0) {
        fprintf(stderr, "server: %s\n", d.message);
        return -100;
    }
    char *pem = NULL;
    size_t pem_size = 0;
    eos_ratls_server_cert_chain_pem(srv, &pem, &pem_size);
    BIO *b = BIO_new_mem_buf(pem, (int)pem_size);
    uint8_t *der[4] = {0};
    size_t sizes[4] = {0}, count = 0;
    X509 *x;
    while (count < 4 && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        sizes[count] = (size_t)i2d_X509(x, &der[count]);
        count++;
        X509_free(x);
    }
    ERR_clear_error();
    BIO_free(b);
    eos_diag_init(&d);
    int rc = eos_ratls_verify_chain((const uint8_t *const *)der, sizes, count, vo, res, &d);
    if (rc != 0)
        fprintf(stderr, "    (expected or not) %s: %s\n", eos_ratls_step_name(res->failed_step),
                d.message);
    for (size_t i = 0; i < count; i++)
        OPENSSL_free(der[i]);
    eos_free(pem, pem_size + 1);
    eos_ratls_server_free(srv);
    eos_tee_free(tee);
    return rc;
}

static void test_sgx(void)
{
    fake f = {3, 0, 0};
    eos_ratls_verify_opts vo = {.sgx_root_ca_file = root_path};
    eos_ratls_verify_result r;
    EOS_CHECK_INT(run_case("sgx", &f, &vo, &r), 0);
    EOS_CHECK_INT(r.kind, EOS_TEE_KIND_SGX);
    EOS_CHECK_INT(r.quote_signature, 1);
    uint8_t m[32];
    memset(m, 0x22, 32);
    vo.expect_measurement = m;
    vo.expect_measurement_size = 32;
    EOS_CHECK_INT(run_case("sgx", &f, &vo, &r), 0);
    m[0] = 0;
    EOS_CHECK_INT(run_case("sgx", &f, &vo, &r), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_MEASUREMENT);
    vo.expect_measurement = NULL;
    /* Another root: the PCK chain does not lead there. */
    vo.sgx_root_ca_file = other_root;
    EOS_CHECK_INT(run_case("sgx", &f, &vo, &r), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_QUOTE_SIGNATURE);
    /* A body byte changed after signing. */
    vo.sgx_root_ca_file = root_path;
    f.corrupt = 1;
    EOS_CHECK_INT(run_case("sgx", &f, &vo, &r), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_QUOTE_SIGNATURE);
    /* Debug enclaves are refused unless allowed. */
    fake dbg = {3, 1, 0};
    EOS_CHECK_INT(run_case("sgx", &dbg, &vo, &r), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_DEBUG);
    vo.allow_debug = 1;
    EOS_CHECK_INT(run_case("sgx", &dbg, &vo, &r), 0);
}

static void test_tdx(void)
{
    for (int v = 4; v <= 5; v++) {
        fake f = {v, 0, 0};
        eos_ratls_verify_opts vo = {.sgx_root_ca_file = root_path};
        eos_ratls_verify_result r;
        EOS_CHECK_INT(run_case("tdx", &f, &vo, &r), 0);
        EOS_CHECK_INT(r.kind, EOS_TEE_KIND_TDX);
        EOS_CHECK_INT(r.quote_signature, 1);
        EOS_CHECK_INT(r.measurement_size, 48);
        /* Without the root, the signature is simply not checked. */
        vo.sgx_root_ca_file = NULL;
        EOS_CHECK_INT(run_case("tdx", &f, &vo, &r), 0);
        EOS_CHECK_INT(r.quote_signature, 0);
    }
    /* TDX evidence under the SGX OID is a type mismatch. */
    fake f = {4, 0, 0};
    eos_ratls_verify_opts vo = {0};
    eos_ratls_verify_result r;
    EOS_CHECK_INT(run_case("custom-sgx-oid", &f, &vo, &r), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_EVIDENCE_TYPE);
}

static void test_snp(void)
{
    fake f = {0, 0, 0};
    eos_ratls_verify_opts vo = {0};
    eos_ratls_verify_result r;
    EOS_CHECK_INT(run_case("sev-snp", &f, &vo, &r), 0);
    EOS_CHECK_INT(r.kind, EOS_TEE_KIND_SEV_SNP);
    EOS_CHECK_INT(r.measurement[0], 0x66);
    EOS_CHECK_INT(r.quote_signature, 0);
    /* The report signature, with and without the AMD chain. */
    vo.snp_vcek_file = vcek_path;
    EOS_CHECK_INT(run_case("sev-snp", &f, &vo, &r), 0);
    EOS_CHECK_INT(r.quote_signature, 1);
    vo.snp_ca_file = ark_path;
    EOS_CHECK_INT(run_case("sev-snp", &f, &vo, &r), 0);
    vo.snp_ca_file = root_path; /* not the VCEK's issuer */
    EOS_CHECK_INT(run_case("sev-snp", &f, &vo, &r), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_QUOTE_SIGNATURE);
    vo.snp_ca_file = NULL;
    fake bad = {0, 0, 1}; /* a signed byte changed after signing */
    EOS_CHECK_INT(run_case("sev-snp", &bad, &vo, &r), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_QUOTE_SIGNATURE);
    vo.snp_vcek_file = NULL;
    fake dbg = {0, 1, 0};
    EOS_CHECK_INT(run_case("sev-snp", &dbg, &vo, &r), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_DEBUG);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    snprintf(root_path, sizeof root_path, "%s/root.pem", dir);
    snprintf(other_root, sizeof other_root, "%s/other-root.pem", dir);
    fixture_pck other;
    fixture_pck_new(&other, other_root);
    fixture_pck_free(&other);
    fixture_pck_new(&pck, root_path);
    snprintf(vcek_path, sizeof vcek_path, "%s/vcek.pem", dir);
    snprintf(ark_path, sizeof ark_path, "%s/ark.pem", dir);
    fixture_snp_chain(vcek_path, ark_path, &vcek_key);
    EOS_RUN(test_sgx);
    EOS_RUN(test_tdx);
    EOS_RUN(test_snp);
    fixture_pck_free(&pck);
    EVP_PKEY_free(vcek_key);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return eos_test_finish();
}
