/* Every real sample in ../shared/evidence-samples (its README says what each
 * is): parsed, verified to the real Intel or AMD root at a stated time,
 * every one-bit flip of the signed parts refused, and the SEV-SNP TCB
 * evaluated against the real VCEK. Skipped (77) when the samples are absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "eos/ratls.h"
#include "harness.h"

#define S EOS_SAMPLES_DIR "/"

/* 2026-01-01 and 2025-06-01, 00:00 UTC. */
#define T2026 1767225600
#define T2025 1748736000

typedef struct sample {
    const char *path;
    eos_tee_kind kind;
    int version;
    const char *root;   /* Intel root, or the VCEK for SNP */
    const char *snp_ca; /* ASK + ARK */
    int64_t now;
    size_t trailing;
} sample;

static const sample samples[] = {
    {"tdx/cos-113-tdx-quote.dat", EOS_TEE_KIND_TDX, 4, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"tdx/quote_v5_sample.dat", EOS_TEE_KIND_TDX, 5, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"tdx/tdx_prod_quote_SPR_E4.dat", EOS_TEE_KIND_TDX, 4, S "intel_sgx_root_ca.pem", NULL, 0, 39},
    {"teekit/sgx-chinenyeokafor.dat", EOS_TEE_KIND_SGX, 3, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"teekit/sgx-occlum.dat", EOS_TEE_KIND_SGX, 3, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"teekit/sgx-tlsn-quote9.dat", EOS_TEE_KIND_SGX, 3, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"teekit/sgx-tlsn-quotedev.dat", EOS_TEE_KIND_SGX, 3, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"teekit/tdx-v4-azure.dat", EOS_TEE_KIND_TDX, 4, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"teekit/tdx-v4-edgeless.dat", EOS_TEE_KIND_TDX, 4, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"teekit/tdx-v4-gcp-no-nonce.dat", EOS_TEE_KIND_TDX, 4, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"teekit/tdx-v4-gcp.dat", EOS_TEE_KIND_TDX, 4, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"teekit/tdx-v4-moemahhouk.dat", EOS_TEE_KIND_TDX, 4, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"teekit/tdx-v4-phala.dat", EOS_TEE_KIND_TDX, 4, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"teekit/tdx-v4-trustee.dat", EOS_TEE_KIND_TDX, 4, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"teekit/tdx-v4-zkdcap.dat", EOS_TEE_KIND_TDX, 4, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"teekit/tdx-v5-trustee.dat", EOS_TEE_KIND_TDX, 5, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"trustee/td-quote.bin", EOS_TEE_KIND_TDX, 4, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"trustee/tdx_quote_5.dat", EOS_TEE_KIND_TDX, 5, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"trustee/tdx_quote_6.dat", EOS_TEE_KIND_TDX, 4, S "intel_sgx_root_ca.pem", NULL, 0, 0},
    {"snp/attestation.bin", EOS_TEE_KIND_SEV_SNP, 2, S "snp/vcek.testcer", S "snp/ask_ark_milan.pem",
     T2026, 0},
    {"trustee/test-report.bin", EOS_TEE_KIND_SEV_SNP, 2, S "trustee/test-vcek.der",
     S "snp/ask_ark_milan.pem", T2026, 0},
    /* The VLEK expired on 2025-12-10: checked as of 2025-06-01. */
    {"trustee/test-vlek-report.bin", EOS_TEE_KIND_SEV_SNP, 3, S "trustee/test-vlek.der",
     S "snp/ask_ark_milan_vlek.pem", T2025, 0},
    {"trustee/az-genoa-snp.bin", EOS_TEE_KIND_SEV_SNP, 3, S "trustee/vcek-genoa.pem",
     S "snp/ask_ark_genoa.pem", T2026, 0},
};

static void opts_for(const sample *s, eos_ratls_verify_opts *o)
{
    memset(o, 0, sizeof *o);
    o->now = s->now;
    /* Two samples come from debug TEEs (test_collateral_debug_samples). */
    o->allow_debug = 1;
    if (s->kind == EOS_TEE_KIND_SEV_SNP) {
        o->snp_vcek_file = s->root;
        o->snp_ca_file = s->snp_ca;
    } else {
        o->sgx_root_ca_file = s->root;
    }
}

static int verify(const uint8_t *ev, size_t size, const eos_ratls_verify_opts *o,
                  eos_ratls_verify_result *r, eos_diag *d)
{
    eos_diag_init(d);
    return eos_ratls_verify_evidence(ev, size, NULL, o, r, d);
}

/* One sample: kind, version, a full verification, and a flipped bit in
 * the report data, measurement and signature each refused. */
static void check_sample(const sample *s)
{
    char path[512];
    size_t size;
    snprintf(path, sizeof path, S "%s", s->path);
    uint8_t *ev = eos_test_read_file(path, &size);
    eos_tee_evidence_info info;
    eos_ratls_verify_opts o;
    eos_ratls_verify_result r;
    eos_diag d;
    if (!ev) {
        eos_test_fail(__FILE__, __LINE__, "cannot read %s", path);
        return;
    }
    EOS_CHECK_INT(eos_tee_parse_evidence(ev, size, &info, NULL), 0);
    EOS_CHECK_INT(info.kind, s->kind);
    EOS_CHECK_INT(info.version, s->version);
    if (info.kind != EOS_TEE_KIND_SEV_SNP)
        EOS_CHECK_INT(info.trailing_size, s->trailing ? s->trailing : size - info.evidence_size);
    opts_for(s, &o);
    int rc = verify(ev, size, &o, &r, &d);
    if (rc != 0)
        fprintf(stderr, "    %s: %s\n", s->path, d.message);
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK_INT(r.quote_signature, 1);
    size_t rd_off = (size_t)(info.report_data - ev), m_off = (size_t)(info.measurement - ev);
    size_t flips[] = {rd_off + 7, m_off + 3, 2 /* header */, info.signed_size + 40};
    for (size_t i = 0; i < EOS_ARRAY_LEN(flips); i++) {
        if (flips[i] >= size)
            continue;
        ev[flips[i]] ^= 0x10;
        rc = verify(ev, size, &o, &r, &d);
        if (rc == 0)
            fprintf(stderr, "    %s: flip at %zu accepted\n", s->path, flips[i]);
        EOS_CHECK(rc != 0);
        ev[flips[i]] ^= 0x10;
    }
    free(ev);
}

static void test_collateral_every_sample(void)
{
    for (size_t i = 0; i < EOS_ARRAY_LEN(samples); i++)
        check_sample(&samples[i]);
}

/* The two further samples are wrapped: base64 text and an Azure HCL report
 * in JSON holding the SNP report at offset 0x20. */
static void test_collateral_wrapped_samples(void)
{
    size_t size, raw_size;
    uint8_t *b64 = eos_test_read_file(S "teekit/tdx-v4-azure", &size);
    uint8_t *raw = eos_test_read_file(S "teekit/tdx-v4-azure.dat", &raw_size);
    EOS_CHECK(b64 && raw);
    if (!b64 || !raw)
        return;
    while (size && (b64[size - 1] == '\n' || b64[size - 1] == '\r'))
        size--;
    uint8_t *dec = malloc(size);
    int n = EVP_DecodeBlock(dec, b64, (int)size);
    while (n > 0 && size && b64[size - 1] == '=' && size--)
        n--;
    EOS_CHECK_MEM(dec, (size_t)n, raw, raw_size);
    free(dec);
    free(b64);
    free(raw);

    uint8_t *json = eos_test_read_file(S "trustee/evidence-genoa.json", &size);
    char *p = json ? strstr((char *)json, "\"report\"") : NULL;
    EOS_CHECK(p != NULL);
    if (!p)
        return;
    p = strchr(p, '[');
    uint8_t *hcl = malloc(4096);
    size_t len = 0;
    while (p && *p != ']' && len < 4096) {
        char *end;
        long v = strtol(p + 1, &end, 10);
        if (end == p + 1)
            break;
        hcl[len++] = (uint8_t)v;
        p = end;
        while (*p == ' ' || *p == '\n')
            p++;
    }
    EOS_CHECK(len >= 0x20 + 1184);
    sample s = {"", EOS_TEE_KIND_SEV_SNP, 3, S "trustee/vcek-genoa.pem", S "snp/ask_ark_genoa.pem",
                T2026, 0};
    eos_ratls_verify_opts o;
    eos_ratls_verify_result r;
    eos_diag d;
    opts_for(&s, &o);
    EOS_CHECK_INT(verify(hcl + 0x20, 1184, &o, &r, &d), 0);
    EOS_CHECK_INT(r.kind, EOS_TEE_KIND_SEV_SNP);
    free(hcl);
    free(json);
}

/* A debug TEE is refused unless allowed. */
static void test_collateral_debug_samples(void)
{
    for (size_t i = 0; i < EOS_ARRAY_LEN(samples); i++) {
        size_t size;
        char path[512];
        snprintf(path, sizeof path, S "%s", samples[i].path);
        uint8_t *ev = eos_test_read_file(path, &size);
        eos_tee_evidence_info info;
        eos_ratls_verify_opts o;
        eos_ratls_verify_result r;
        eos_diag d;
        EOS_CHECK_INT(eos_tee_parse_evidence(ev, size, &info, NULL), 0);
        int debug = strcmp(samples[i].path, "teekit/tdx-v4-trustee.dat") == 0 ||
                    strcmp(samples[i].path, "snp/attestation.bin") == 0;
        EOS_CHECK_INT(info.debug, debug);
        opts_for(&samples[i], &o);
        o.allow_debug = 0;
        EOS_CHECK_INT(verify(ev, size, &o, &r, &d), debug ? EOS_EVERIFY : 0);
        free(ev);
    }
}

/* Defect 3: the chains are checked at the verification time, not the clock. */
static void test_collateral_verification_time(void)
{
    size_t size;
    uint8_t *ev = eos_test_read_file(S "trustee/test-vlek-report.bin", &size);
    eos_ratls_verify_opts o;
    eos_ratls_verify_result r;
    eos_diag d;
    opts_for(&samples[21], &o);
    EOS_CHECK_INT(verify(ev, size, &o, &r, &d), 0);
    o.now = T2026; /* after the VLEK expired */
    EOS_CHECK_INT(verify(ev, size, &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "expired") != NULL);
    free(ev);
    /* A PCK certificate issued 2026-01-27 is not valid on 2025-06-01. */
    ev = eos_test_read_file(S "tdx/quote_v5_sample.dat", &size);
    opts_for(&samples[1], &o);
    o.now = T2025;
    EOS_CHECK_INT(verify(ev, size, &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_QUOTE_SIGNATURE);
    EOS_CHECK(strstr(d.message, "not yet valid") != NULL);
    free(ev);
}

/* Defect 1: SNP v3 with GUEST_SVN 0 is SNP, not SGX (the real VLEK sample). */
static void test_collateral_snp_detection(void)
{
    size_t size;
    uint8_t *ev = eos_test_read_file(S "trustee/test-vlek-report.bin", &size);
    eos_tee_evidence_info info;
    EOS_CHECK_INT(eos_tee_parse_evidence(ev, size, &info, NULL), 0);
    EOS_CHECK_INT(info.kind, EOS_TEE_KIND_SEV_SNP);
    EOS_CHECK_INT(info.guest_svn, 0);
    free(ev);
}

/* SEV-SNP TCB from the real VCEK: it matches the report's REPORTED_TCB, and
 * a minimum above it makes the status OutOfDate. */
static void test_collateral_snp_tcb(void)
{
    char dir[] = "/tmp/eos-snp-coll-XXXXXX", path[256];
    EOS_CHECK(mkdtemp(dir) != NULL);
    size_t size, vsize;
    uint8_t *vcek = eos_test_read_file(S "snp/vcek.testcer", &vsize);
    snprintf(path, sizeof path, "%s/vcek.der", dir);
    EOS_CHECK_INT(eos_test_write_file(path, vcek, vsize), 0);
    free(vcek);
    uint8_t *ev = eos_test_read_file(S "snp/attestation.bin", &size);
    eos_ratls_verify_opts o;
    eos_ratls_verify_result r;
    eos_diag d;
    memset(&o, 0, sizeof o);
    o.now = T2026;
    o.allow_debug = 1;
    o.collateral_dir = dir;
    /* The VCEK comes from the collateral, but a TCB needs the AMD chain. */
    EOS_CHECK_INT(verify(ev, size, &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_TCB);
    o.snp_ca_file = S "snp/ask_ark_milan.pem";
    EOS_CHECK_INT(verify(ev, size, &o, &r, &d), 0);
    EOS_CHECK_INT(r.tcb_status, EOS_RATLS_TCB_UP_TO_DATE);
    fprintf(stderr, "    snp tcb: %s\n", r.tcb_detail);
    o.require_tcb = EOS_RATLS_TCB_UP_TO_DATE;
    EOS_CHECK_INT(verify(ev, size, &o, &r, &d), 0);
    snprintf(path, sizeof path, "%s/snp_tcb.json", dir);
    static const char minimum[] = "{\"bootloader\":0,\"tee\":0,\"snp\":250,\"microcode\":0}";
    EOS_CHECK_INT(eos_test_write_file(path, minimum, strlen(minimum)), 0);
    EOS_CHECK_INT(verify(ev, size, &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK_INT(r.tcb_status, EOS_RATLS_TCB_OUT_OF_DATE);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_TCB);
    o.require_tcb = EOS_RATLS_TCB_OUT_OF_DATE;
    EOS_CHECK_INT(verify(ev, size, &o, &r, &d), 0);
    EOS_CHECK_INT(eos_test_write_file(path, "{\"bootloader\":", strlen("{\"bootloader\":")), 0);
    EOS_CHECK_INT(verify(ev, size, &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "snp_tcb.json") != NULL);
    unlink(path);
    /* Another chip's VCEK is refused. */
    o.snp_vcek_file = S "trustee/test-vcek.der";
    EOS_CHECK_INT(verify(ev, size, &o, &r, &d), EOS_EVERIFY);
    free(ev);
    snprintf(path, sizeof path, "%s/vcek.der", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    struct stat st;
    if (stat(EOS_SAMPLES_DIR "/README.md", &st) != 0) {
        fprintf(stderr, "skipped: %s is not there\n", EOS_SAMPLES_DIR);
        return 77;
    }
    EOS_RUN(test_collateral_every_sample);
    EOS_RUN(test_collateral_wrapped_samples);
    EOS_RUN(test_collateral_debug_samples);
    EOS_RUN(test_collateral_verification_time);
    EOS_RUN(test_collateral_snp_detection);
    EOS_RUN(test_collateral_snp_tcb);
    return eos_test_finish();
}
