/* TCB status from Intel collateral: Intel's QVL sample collateral in
 * ../shared/evidence-samples/teekit against its sample quotes, and
 * collateral built here and signed by a test root against real quotes, for
 * every level, the QE identity, TDX module identities, expiry, tampering,
 * revocation and truncation. Skipped (77) when the samples are absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collateral_builder.h"
#include "eos/ratls.h"
#include "harness.h"

#define S EOS_SAMPLES_DIR "/"
#define T2025 1748736000 /* 2025-06-01 */
#define ZERO48 "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
#define ONE48  "010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

static int verify_file(const char *path, const eos_ratls_verify_opts *o, eos_ratls_verify_result *r,
                       eos_diag *d)
{
    size_t size = 0;
    uint8_t *ev = eos_test_read_file(path, &size);
    eos_diag_init(d);
    int rc = eos_ratls_verify_evidence(ev, size, NULL, o, r, d);
    free(ev);
    return rc;
}

static void test_collateral_teekit_sgx(void)
{
    eos_ratls_verify_opts o;
    eos_ratls_verify_result r;
    eos_diag d;
    memset(&o, 0, sizeof o);
    o.sgx_root_ca_file = S "teekit/sgx_trustedRootCaCert.pem";
    o.collateral_dir = S "teekit";
    o.now = T2025;
    o.allow_debug = 1;
    int rc = verify_file(S "teekit/sgx_quote.dat", &o, &r, &d);
    if (rc)
        fprintf(stderr, "    %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK_INT(r.tcb_status, EOS_RATLS_TCB_UP_TO_DATE);
    fprintf(stderr, "    sgx sample: %s\n", r.tcb_detail);
    /* Without collateral the sample has no PCK chain to check. */
    o.collateral_dir = NULL;
    EOS_CHECK_INT(verify_file(S "teekit/sgx_quote.dat", &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_QUOTE_SIGNATURE);
    /* The real Intel root is not the QVL test root that signed this. */
    o.collateral_dir = S "teekit";
    o.sgx_root_ca_file = S "intel_sgx_root_ca.pem";
    EOS_CHECK_INT(verify_file(S "teekit/sgx_quote.dat", &o, &r, &d), EOS_EVERIFY);
}

static void test_collateral_teekit_tdx(void)
{
    eos_ratls_verify_opts o;
    eos_ratls_verify_result r;
    eos_diag d;
    memset(&o, 0, sizeof o);
    o.sgx_root_ca_file = S "teekit/tdx_trustedRootCaCert.pem";
    o.collateral_dir = S "teekit";
    o.now = T2025;
    o.allow_debug = 1;
    /* Its TCB info signature verifies; its QE is not the one the sample
     * QE identity names, which is refused. */
    EOS_CHECK_INT(verify_file(S "teekit/tdx_quote.dat", &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_TCB);
    EOS_CHECK(strstr(d.message, "quoting enclave") != NULL);
}

/* Intel's real collateral of 2023-02 (tests/ratls/vectors) against a real
 * TDX quote with the same FMSPC, as of 2023-03-01. */
static void test_collateral_real_intel(void)
{
    eos_ratls_verify_opts o;
    eos_ratls_verify_result r;
    eos_diag d;
    memset(&o, 0, sizeof o);
    o.sgx_root_ca_file = S "intel_sgx_root_ca.pem";
    o.collateral_dir = EOS_VECTORS "/intel-tdx-2023-02";
    o.now = 1677628800;
    o.require_tcb = EOS_RATLS_TCB_UP_TO_DATE;
    int rc = verify_file(S "teekit/tdx-v4-edgeless.dat", &o, &r, &d);
    if (rc)
        fprintf(stderr, "    %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK_INT(r.tcb_status, EOS_RATLS_TCB_UP_TO_DATE);
    EOS_CHECK(strstr(r.tcb_detail, "2022-11-09") != NULL);
    /* Today the collateral is long out of date. */
    o.now = 0;
    o.require_tcb = EOS_RATLS_TCB_UNKNOWN;
    EOS_CHECK_INT(verify_file(S "teekit/tdx-v4-edgeless.dat", &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_TCB);
    /* Another FMSPC's quote (Phala, B0C06F000000) is not judged by it. */
    o.now = 1677628800;
    EOS_CHECK_INT(verify_file(S "teekit/tdx-v4-phala.dat", &o, &r, &d), EOS_EVERIFY);
}

static const char *const sgx_comps = "4,4,3,3,255,255,0,0,0,0,0,0,0,0,0,0";
static const char *const sgx_qe =
    "\"id\":\"QE\",\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
    "\"attributes\":\"11000000000000000000000000000000\","
    "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\","
    "\"mrsigner\":\"8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF\","
    "\"isvprodid\":1";

/* Every Intel status, from collateral signed by a test root, for the real
 * Occlum SGX quote: the platform's exact SVNs sit at the second level, under
 * a first level it does not reach. */
static void test_collateral_levels(void)
{
    builder b;
    builder_init(&b, S "intel_sgx_root_ca.pem");
    eos_ratls_verify_opts o;
    eos_ratls_verify_result r;
    eos_diag d;
    memset(&o, 0, sizeof o);
    o.sgx_root_ca_file = b.anchors;
    o.collateral_dir = b.dir;
    for (int st = EOS_RATLS_TCB_UP_TO_DATE; st <= EOS_RATLS_TCB_REVOKED; st++) {
        char levels[2048];
        snprintf(levels, sizeof levels, "%s,%s",
                 builder_sgx_level("5,4,3,3,255,255,0,0,0,0,0,0,0,0,0,0", 11, "UpToDate"),
                 builder_sgx_level(sgx_comps, 11, eos_ratls_tcb_status_name(st)));
        builder_tcb_info(&b, "SGX", "30606a000000", levels, NULL, 0);
        builder_qe_identity(&b, sgx_qe, "{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-01-01T00:00:00Z\","
                                        "\"tcbStatus\":\"UpToDate\"}");
        o.require_tcb = EOS_RATLS_TCB_UNKNOWN;
        int rc = verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d);
        EOS_CHECK_INT(r.tcb_status, st);
        EOS_CHECK_INT(rc, st == EOS_RATLS_TCB_REVOKED ? EOS_EVERIFY : 0);
        if (rc && st != EOS_RATLS_TCB_REVOKED)
            fprintf(stderr, "    %s: %s\n", eos_ratls_tcb_status_name(st), d.message);
        /* Required levels: this one passes, the one before it does not. */
        o.require_tcb = (eos_ratls_tcb_status)st;
        EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d),
                      st == EOS_RATLS_TCB_REVOKED ? EOS_EVERIFY : 0);
        o.require_tcb = (eos_ratls_tcb_status)(st - 1);
        if (st > EOS_RATLS_TCB_UP_TO_DATE) {
            EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), EOS_EVERIFY);
            EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_TCB);
        }
    }
    /* An out-of-date QE makes an up-to-date platform OutOfDate, and a
     * platform that needs configuration OutOfDateConfigurationNeeded. */
    o.require_tcb = EOS_RATLS_TCB_UNKNOWN;
    builder_qe_identity(&b, sgx_qe,
                        "{\"tcb\":{\"isvsvn\":9},\"tcbDate\":\"2025-01-01T00:00:00Z\","
                        "\"tcbStatus\":\"UpToDate\"},{\"tcb\":{\"isvsvn\":8},\"tcbDate\":"
                        "\"2024-01-01T00:00:00Z\",\"tcbStatus\":\"OutOfDate\"}");
    builder_tcb_info(&b, "SGX", "30606a000000", builder_sgx_level(sgx_comps, 11, "UpToDate"),
                     NULL, 0);
    EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), 0);
    EOS_CHECK_INT(r.tcb_status, EOS_RATLS_TCB_OUT_OF_DATE);
    builder_tcb_info(&b, "SGX", "30606a000000",
                     builder_sgx_level(sgx_comps, 11, "ConfigurationNeeded"), NULL, 0);
    EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), 0);
    EOS_CHECK_INT(r.tcb_status, EOS_RATLS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
    /* A platform below every level is not supported. */
    builder_tcb_info(&b, "SGX", "30606a000000",
                     builder_sgx_level("4,4,3,3,255,255,0,0,0,0,0,0,0,0,0,0", 12, "UpToDate"),
                     NULL, 0);
    EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "below every level") != NULL);
    builder_free(&b);
}

static const char *const td_qe =
    "\"id\":\"TD_QE\",\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
    "\"attributes\":\"11000000000000000000000000000000\","
    "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\","
    "\"mrsigner\":\"DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5\","
    "\"isvprodid\":2";

/* TDX 1.5 (the v5 sample: TEE_TCB_SVN 0b 01 04): the module identity
 * TDX_01 judges SVN 0x0b, the levels judge the rest. */
static void test_collateral_tdx_module(void)
{
    builder b;
    builder_init(&b, S "intel_sgx_root_ca.pem");
    eos_ratls_verify_opts o;
    eos_ratls_verify_result r;
    eos_diag d;
    memset(&o, 0, sizeof o);
    o.sgx_root_ca_file = b.anchors;
    o.collateral_dir = b.dir;
    const char *sgx = "4,4,2,2,4,1,0,5,0,0,0,0,0,0,0,0";
    char levels[2048];
    snprintf(levels, sizeof levels, "%s",
             builder_tdx_level(sgx, 13, "99,99,4,0,0,0,0,0,0,0,0,0,0,0,0,0", "UpToDate"));
    builder_qe_identity(&b, td_qe, "{\"tcb\":{\"isvsvn\":7},\"tcbDate\":\"2024-01-01T00:00:00Z\","
                                   "\"tcbStatus\":\"UpToDate\"}");
    const char *module_ok =
        "[{\"id\":\"TDX_01\",\"mrsigner\":\"" ZERO48 "\",\"attributes\":\"0000000000000000\","
        "\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":[{\"tcb\":{\"isvsvn\":11},"
        "\"tcbDate\":\"2024-11-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}]";
    const char *module_old =
        "[{\"id\":\"TDX_01\",\"mrsigner\":\"" ZERO48 "\",\"attributes\":\"0000000000000000\","
        "\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":[{\"tcb\":{\"isvsvn\":12},"
        "\"tcbDate\":\"2025-11-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"},{\"tcb\":{\"isvsvn\":"
        "11},\"tcbDate\":\"2024-11-13T00:00:00Z\",\"tcbStatus\":\"OutOfDate\"}]}]";
    const char *module_other =
        "[{\"id\":\"TDX_01\",\"mrsigner\":\"" ONE48 "\",\"attributes\":\"0000000000000000\","
        "\"attributesMask\":\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":[{\"tcb\":{\"isvsvn\":1},"
        "\"tcbDate\":\"2024-11-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}]";
    builder_tcb_info(&b, "TDX", "90c06f000000", levels, module_ok, 1);
    int rc = verify_file(S "tdx/quote_v5_sample.dat", &o, &r, &d);
    if (rc)
        fprintf(stderr, "    %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK_INT(r.tcb_status, EOS_RATLS_TCB_UP_TO_DATE);
    builder_tcb_info(&b, "TDX", "90c06f000000", levels, module_old, 1);
    EOS_CHECK_INT(verify_file(S "tdx/quote_v5_sample.dat", &o, &r, &d), 0);
    EOS_CHECK_INT(r.tcb_status, EOS_RATLS_TCB_OUT_OF_DATE);
    builder_tcb_info(&b, "TDX", "90c06f000000", levels, module_other, 1);
    EOS_CHECK_INT(verify_file(S "tdx/quote_v5_sample.dat", &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "TDX module") != NULL);
    /* TEE_TCB_SVN[2] = 4 is below a level asking 5. */
    snprintf(levels, sizeof levels, "%s,%s",
             builder_tdx_level(sgx, 13, "0,0,5,0,0,0,0,0,0,0,0,0,0,0,0,0", "UpToDate"),
             builder_tdx_level(sgx, 13, "0,0,4,0,0,0,0,0,0,0,0,0,0,0,0,0", "OutOfDate"));
    builder_tcb_info(&b, "TDX", "90c06f000000", levels, module_ok, 1);
    EOS_CHECK_INT(verify_file(S "tdx/quote_v5_sample.dat", &o, &r, &d), 0);
    EOS_CHECK_INT(r.tcb_status, EOS_RATLS_TCB_OUT_OF_DATE);
    /* SGX collateral for a TDX quote is refused. */
    builder_tcb_info(&b, "SGX", "90c06f000000", builder_sgx_level(sgx, 13, "UpToDate"), NULL, 0);
    EOS_CHECK_INT(verify_file(S "tdx/quote_v5_sample.dat", &o, &r, &d), EOS_EVERIFY);
    builder_free(&b);
}

/* Clear refusals: tampered, expired, truncated and foreign collateral, a
 * revoked TCB signing certificate, missing files, a missing anchor. */
static void test_collateral_refusals(void)
{
    builder b;
    builder_init(&b, S "intel_sgx_root_ca.pem");
    eos_ratls_verify_opts o;
    eos_ratls_verify_result r;
    eos_diag d;
    memset(&o, 0, sizeof o);
    o.sgx_root_ca_file = b.anchors;
    o.collateral_dir = b.dir;
    const char *qe_levels = "{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-01-01T00:00:00Z\","
                            "\"tcbStatus\":\"UpToDate\"}";
    const char *lv = builder_sgx_level(sgx_comps, 11, "UpToDate");
    builder_qe_identity(&b, sgx_qe, qe_levels);
    builder_tcb_info(&b, "SGX", "30606a000000", lv, NULL, 0);
    EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), 0);
    /* One changed byte inside the signed body. */
    builder_tamper(&b, "tcbInfo.json", "\"UpToDate\"", "\"UpToDatf\"");
    EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_TCB);
    builder_tcb_info(&b, "SGX", "30606a000000", lv, NULL, 0);
    builder_tamper(&b, "qeIdentity.json", "\"isvprodid\":1", "\"isvprodid\":2");
    EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "QE identity signature") != NULL);
    builder_qe_identity(&b, sgx_qe, qe_levels);
    /* Truncated at every tenth byte: a refusal each time, never a crash. */
    for (size_t cut = 0; cut < 600; cut += 10) {
        builder_truncate(&b, "tcbInfo.json", cut);
        EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), EOS_EVERIFY);
        EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_TCB);
    }
    /* Out of date (nextUpdate passed) and another FMSPC. */
    builder_tcb_info(&b, "SGX", "30606a000000", lv, NULL, -1);
    EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "nextUpdate") != NULL);
    builder_tcb_info(&b, "SGX", "30606a000001", lv, NULL, 0);
    EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "FMSPC") != NULL);
    /* The QE of another vendor. */
    builder_tcb_info(&b, "SGX", "30606a000000", lv, NULL, 0);
    builder_qe_identity(&b, td_qe, qe_levels);
    EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), EOS_EVERIFY);
    builder_qe_identity(&b, sgx_qe, qe_levels);
    /* The test root revokes its TCB signing certificate. */
    builder_revoke_signer(&b);
    EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "revoked") != NULL);
    builder_unrevoke(&b);
    EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), 0);
    /* Without the root that signed it, the collateral is not trusted. */
    o.sgx_root_ca_file = S "intel_sgx_root_ca.pem";
    EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_TCB);
    /* No collateral files, and a required level without collateral. */
    o.sgx_root_ca_file = b.anchors;
    o.collateral_dir = "/nonexistent";
    EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "tcbInfo.json") != NULL);
    o.collateral_dir = NULL;
    o.require_tcb = EOS_RATLS_TCB_OUT_OF_DATE;
    EOS_CHECK_INT(verify_file(S "teekit/sgx-occlum.dat", &o, &r, &d), EOS_EVERIFY);
    EOS_CHECK_INT(r.failed_step, EOS_RATLS_STEP_TCB);
    builder_free(&b);
}

int main(void)
{
    struct stat st;
    if (stat(EOS_SAMPLES_DIR "/README.md", &st) != 0) {
        fprintf(stderr, "skipped: %s is not there\n", EOS_SAMPLES_DIR);
        return 77;
    }
    EOS_RUN(test_collateral_teekit_sgx);
    EOS_RUN(test_collateral_teekit_tdx);
    EOS_RUN(test_collateral_real_intel);
    EOS_RUN(test_collateral_levels);
    EOS_RUN(test_collateral_tdx_module);
    EOS_RUN(test_collateral_refusals);
    return eos_test_finish();
}
