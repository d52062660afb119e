/* Evidence parsers on valid fixtures (built from the documented layouts, see
 * quote_fixture.h), on every truncation and on random mutations. */
#include <stdlib.h>
#include <string.h>

#include "eos/tee.h"
#include "harness.h"
#include "quote_fixture.h"

static fixture_pck pck;
static uint8_t rd[64];

static void check_all_truncations(const uint8_t *q, size_t size)
{
    eos_tee_evidence_info info;
    int failures = 0;
    for (size_t n = 0; n < size; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, q, n);
        if (eos_tee_parse_evidence(copy, n, &info, NULL) == 0)
            failures++;
        free(copy);
    }
    EOS_CHECK_INT(failures, 0);
}

static void mutate(const uint8_t *q, size_t size)
{
    eos_tee_evidence_info info;
    srand(1234);
    uint8_t *copy = malloc(size);
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, q, size);
        for (int k = 0; k < 1 + rand() % 4; k++)
            copy[(size_t)rand() % (size < 700 ? size : 700)] = (uint8_t)rand();
        eos_diag d;
        eos_diag_init(&d);
        int rc = eos_tee_parse_evidence(copy, size, &info, &d);
        if (rc == 0) /* whatever parses must point inside the buffer */
            EOS_CHECK(info.report_data >= copy && info.report_data + 64 <= copy + size);
        else
            EOS_CHECK(d.message[0] != '\0');
    }
    free(copy);
}

static void test_sgx_v3(void)
{
    uint8_t *q;
    size_t size;
    eos_tee_evidence_info info;
    fixture_quote(3, rd, &pck, 0, &q, &size);
    EOS_CHECK_INT(eos_tee_parse_evidence(q, size, &info, NULL), 0);
    EOS_CHECK_INT(info.kind, EOS_TEE_KIND_SGX);
    EOS_CHECK_INT(info.version, 3);
    EOS_CHECK_INT(info.measurement_size, 32);
    EOS_CHECK_INT(info.measurement[0], 0x22);
    EOS_CHECK_INT(info.signer[31], 0x33);
    EOS_CHECK_MEM(info.report_data, 64, rd, 64);
    EOS_CHECK_INT(info.isv_prod_id, 1);
    EOS_CHECK_INT(info.isv_svn, 2);
    EOS_CHECK_INT(info.qe_svn, 7);
    EOS_CHECK_INT(info.pce_svn, 13);
    EOS_CHECK_INT(info.debug, 0);
    EOS_CHECK_INT(info.cert_type, 5);
    EOS_CHECK_INT(info.qe_auth_size, 32);
    EOS_CHECK_INT(info.signed_size, 432);
    check_all_truncations(q, size);
    mutate(q, size);
    free(q);
    fixture_quote(3, rd, &pck, 1, &q, &size);
    EOS_CHECK_INT(eos_tee_parse_sgx_quote(q, size, &info, NULL), 0);
    EOS_CHECK_INT(info.debug, 1);
    /* Bytes after the quote (padding or anything else) lie outside the
     * signatures: ignored, and counted. */
    uint8_t *longer = calloc(1, size + 8);
    memcpy(longer, q, size);
    EOS_CHECK_INT(eos_tee_parse_evidence(longer, size + 8, &info, NULL), 0);
    EOS_CHECK_INT(info.evidence_size, size);
    EOS_CHECK_INT(info.trailing_size, 8);
    longer[size + 3] = 1;
    EOS_CHECK_INT(eos_tee_parse_evidence(longer, size + 8, &info, NULL), 0);
    EOS_CHECK_INT(info.trailing_size, 8);
    EOS_CHECK_INT(info.signed_size, 432);
    free(longer);
    free(q);
}

static void test_tdx_v4_v5(void)
{
    for (int v = 4; v <= 5; v++) {
        uint8_t *q;
        size_t size;
        eos_tee_evidence_info info;
        fixture_quote(v, rd, &pck, 0, &q, &size);
        EOS_CHECK_INT(eos_tee_parse_evidence(q, size, &info, NULL), 0);
        EOS_CHECK_INT(info.kind, EOS_TEE_KIND_TDX);
        EOS_CHECK_INT(info.version, v);
        EOS_CHECK_INT(info.measurement_size, 48);
        EOS_CHECK_INT(info.measurement[47], 0x44);
        EOS_CHECK_INT(info.mr_config_id[0], 0x45);
        EOS_CHECK_INT(info.rtmr[3][0], 0x53);
        EOS_CHECK_MEM(info.report_data, 64, rd, 64);
        EOS_CHECK_INT(info.signed_size, v == 4 ? 632 : 638);
        EOS_CHECK_INT(info.cert_type, 5);
        check_all_truncations(q, size);
        mutate(q, size);
        /* An SGX parser must not accept TDX and the reverse. */
        EOS_CHECK_INT(eos_tee_parse_sgx_quote(q, size, &info, NULL), EOS_EUNSUPPORTED);
        free(q);
    }
}

static void test_snp(void)
{
    uint8_t r[1184];
    eos_tee_evidence_info info;
    fixture_snp_report(rd, 0, r);
    EOS_CHECK_INT(eos_tee_parse_evidence(r, sizeof r, &info, NULL), 0);
    EOS_CHECK_INT(info.kind, EOS_TEE_KIND_SEV_SNP);
    EOS_CHECK_INT(info.measurement_size, 48);
    EOS_CHECK_INT(info.measurement[0], 0x66);
    EOS_CHECK_INT(info.host_data[31], 0x77);
    EOS_CHECK_INT(info.guest_svn, 3);
    EOS_CHECK_INT(info.debug, 0);
    EOS_CHECK_MEM(info.report_data, 64, rd, 64);
    check_all_truncations(r, sizeof r);
    mutate(r, sizeof r);
    fixture_snp_report(rd, 1, r);
    EOS_CHECK_INT(eos_tee_parse_snp_report(r, sizeof r, &info, NULL), 0);
    EOS_CHECK_INT(info.debug, 1);
    /* Versions and GUEST_SVNs whose first 8 bytes match a DCAP header's
     * version and TEE type are still SNP reports (the key type differs). */
    static const uint32_t look_alike[][2] = {{3, 0}, {4, 0x81}, {5, 0x81}, {2, 0}};
    for (size_t i = 0; i < sizeof look_alike / sizeof look_alike[0]; i++) {
        fixture_snp_report(rd, 0, r);
        r[0] = (uint8_t)look_alike[i][0];
        r[4] = (uint8_t)look_alike[i][1];
        EOS_CHECK_INT(eos_tee_parse_evidence(r, sizeof r, &info, NULL), 0);
        EOS_CHECK_INT(info.kind, EOS_TEE_KIND_SEV_SNP);
        EOS_CHECK_INT(info.guest_svn, look_alike[i][1]);
        EOS_CHECK_INT(info.evidence_size, 1184);
    }
    fixture_snp_report(rd, 1, r);
    r[0x34] = 2; /* unknown signature algorithm */
    EOS_CHECK_INT(eos_tee_parse_snp_report(r, sizeof r, &info, NULL), EOS_EUNSUPPORTED);
}

static void test_sim_format(void)
{
    uint8_t e[203];
    eos_tee_evidence_info info;
    memset(e, 0, sizeof e);
    memcpy(e, "MOCK_QUOTE:", 11);
    memcpy(e + 11, rd, 64);
    memcpy(e + 75, "EOSSIM01", 8);
    e[83] = 1;
    e[85] = 1;
    e[87] = 32;
    memcpy(e + 91, "sim", 3);
    memset(e + 107, 0xcd, 32);
    memcpy(e + 139, EOS_TEE_SIM_MARKER, strlen(EOS_TEE_SIM_MARKER));
    EOS_CHECK_INT(eos_tee_parse_evidence(e, sizeof e, &info, NULL), 0);
    EOS_CHECK_INT(info.kind, EOS_TEE_KIND_SIM);
    EOS_CHECK_INT(info.simulated, 1);
    EOS_CHECK_STR(info.tee_name, "sim");
    EOS_CHECK_INT(info.measurement[0], 0xcd);
    check_all_truncations(e, sizeof e);
    mutate(e, sizeof e);
    e[85] = 0; /* the simulated flag cannot be cleared */
    EOS_CHECK_INT(eos_tee_parse_evidence(e, sizeof e, &info, NULL), EOS_EMALFORMED);
}

static void test_unknown(void)
{
    eos_tee_evidence_info info;
    eos_diag d;
    eos_diag_init(&d);
    static const uint8_t junk[16] = {9, 9, 9, 9};
    EOS_CHECK_INT(eos_tee_parse_evidence(junk, sizeof junk, &info, &d), EOS_EUNSUPPORTED);
    EOS_CHECK(d.message[0] != '\0');
    EOS_CHECK_INT(eos_tee_parse_evidence(NULL, 0, &info, NULL), EOS_EUNSUPPORTED);
    EOS_CHECK_STR(eos_tee_kind_name(EOS_TEE_KIND_TDX), "tdx");
}

int main(void)
{
    for (int i = 0; i < 64; i++)
        rd[i] = (uint8_t)(0xa0 ^ i);
    fixture_pck_new(&pck, NULL);
    EOS_RUN(test_sgx_v3);
    EOS_RUN(test_tdx_v4_v5);
    EOS_RUN(test_snp);
    EOS_RUN(test_sim_format);
    EOS_RUN(test_unknown);
    fixture_pck_free(&pck);
    return eos_test_finish();
}
