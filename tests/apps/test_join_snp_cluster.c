/* Joining a cluster with SEV-SNP (and any other hardware) evidence: the
 * member verifies the joiner's report as `enclave-os verify` does, with the
 * real AMD samples in ../shared/evidence-samples, then applies the
 * cluster's measurement policy. The member is a stand-in TEE named
 * "sev-snp" whose measurement is chosen by the test. Skipped (77) when the
 * samples are absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eos/apps.h"
#include "eos/tee.h"
#include "harness.h"

#define S     EOS_SAMPLES_DIR "/"
#define T2026 1767225600 /* 2026-01-01 00:00 UTC: every sample's chain is valid */

typedef struct fake {
    uint8_t m[64];
    size_t n;
} fake;

static int fake_measurement(eos_tee *t, uint8_t out[64], size_t *out_size)
{
    fake *f = t->impl;
    memcpy(out, f->m, f->n);
    *out_size = f->n;
    return 0;
}

static const eos_tee_ops fake_ops = {.name = "sev-snp", .measurement = fake_measurement};

static uint8_t *load(const char *path, size_t *out_size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n)
        n = 0;
    fclose(f);
    *out_size = (size_t)n;
    return b;
}

static void test_join_snp(void)
{
    size_t size = 0, dsize = 0;
    uint8_t *ev = load(S "trustee/test-report.bin", &size);
    uint8_t *dbg = load(S "snp/attestation.bin", &dsize);
    EOS_CHECK(ev != NULL && dbg != NULL);
    if (!ev || !dbg)
        return;
    eos_tee_evidence_info info;
    EOS_CHECK_INT(eos_tee_parse_evidence(ev, size, &info, NULL), 0);
    EOS_CHECK_INT(info.kind, EOS_TEE_KIND_SEV_SNP);
    uint8_t rd[64];
    memcpy(rd, info.report_data, 64);

    fake f = {.n = info.measurement_size};
    memcpy(f.m, info.measurement, f.n);
    eos_tee *member = NULL;
    EOS_CHECK_INT(eos_tee_new_custom(&fake_ops, &f, &member), 0);

    eos_ratls_verify_opts vo;
    memset(&vo, 0, sizeof vo);
    vo.now = T2026;
    vo.snp_ca_file = S "snp/ask_ark_milan.pem";
    const char *vceks[] = {S "trustee/test-vcek.der"};
    eos_apps_join_policy pol = {.verify = &vo, .snp_vceks = vceks, .snp_vcek_count = 1};
    eos_diag d;

    /* Genuine, not debug, the member's own measurement: accepted. */
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_apps_join_check(member, &pol, ev, size, rd, &d), 0);

    /* Another chip's VCEK first, then this chip's: each is tried. */
    const char *two[] = {S "snp/vcek.testcer", S "trustee/test-vcek.der"};
    pol.snp_vceks = two;
    pol.snp_vcek_count = 2;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_apps_join_check(member, &pol, ev, size, rd, &d), 0);
    /* Only another chip's: refused, naming the signature step. */
    pol.snp_vcek_count = 1;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_apps_join_check(member, &pol, ev, size, rd, &d), EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "sev-snp") != NULL);
    fprintf(stderr, "    wrong chip: %s\n", d.message);
    pol.snp_vceks = vceks;

    /* No VCEK at all: bare SNP evidence proves nothing unsigned. */
    pol.snp_vcek_count = 0;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_apps_join_check(member, &pol, ev, size, rd, &d), EOS_EVERIFY);
    fprintf(stderr, "    no vcek: %s\n", d.message);
    pol.snp_vcek_count = 1;

    /* The report does not vouch for the key the joiner sent. */
    uint8_t other_rd[64];
    memcpy(other_rd, rd, 64);
    other_rd[0] ^= 1;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_apps_join_check(member, &pol, ev, size, other_rd, &d), EOS_EVERIFY);

    /* A flipped bit of the measurement breaks the signature. */
    uint8_t *bad = malloc(size);
    memcpy(bad, ev, size);
    bad[0x90] ^= 1; /* MEASUREMENT starts at 0x90 */
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_apps_join_check(member, &pol, bad, size, rd, &d), EOS_EVERIFY);
    free(bad);

    /* Genuine, but the cluster runs another build: refused, then allowed for
     * an upgrade with --join-allow. */
    f.m[0] ^= 0xff;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_apps_join_check(member, &pol, ev, size, rd, &d), EOS_EPERM);
    EOS_CHECK(strstr(d.message, "measurement") != NULL && strstr(d.message, "sev-snp") != NULL);
    fprintf(stderr, "    other build: %s\n", d.message);
    const uint8_t *allowed[] = {info.measurement};
    size_t allowed_size = info.measurement_size;
    pol.allowed = allowed;
    pol.allowed_sizes = &allowed_size;
    pol.allowed_count = 1;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_apps_join_check(member, &pol, ev, size, rd, &d), 0);

    /* A debug guest is refused even when it verifies and is allowed. */
    eos_tee_evidence_info dinfo;
    EOS_CHECK_INT(eos_tee_parse_evidence(dbg, dsize, &dinfo, NULL), 0);
    EOS_CHECK_INT(dinfo.debug, 1);
    const char *dv[] = {S "snp/vcek.testcer"};
    const uint8_t *dallowed[] = {dinfo.measurement};
    size_t dallowed_size = dinfo.measurement_size;
    eos_apps_join_policy dpol = {.verify = &vo,
                                 .snp_vceks = dv,
                                 .snp_vcek_count = 1,
                                 .allowed = dallowed,
                                 .allowed_sizes = &dallowed_size,
                                 .allowed_count = 1};
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_apps_join_check(member, &dpol, dbg, dsize, dinfo.report_data, &d),
                  EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "debug") != NULL);
    fprintf(stderr, "    debug guest: %s\n", d.message);

    /* Simulated evidence never joins a node in a TEE. */
    eos_tee *simtee = NULL;
    char dir[] = "/tmp/eos-join-snp-XXXXXX";
    EOS_CHECK(mkdtemp(dir) != NULL);
    eos_tee_config c = {.kind = "sim", .data_dir = dir};
    EOS_CHECK_INT(eos_tee_open(&c, &simtee, NULL), 0);
    uint8_t *sev = NULL;
    size_t sev_size = 0;
    EOS_CHECK_INT(eos_tee_evidence(simtee, rd, &sev, &sev_size, NULL), 0);
    uint8_t sm[64];
    size_t smn = 0;
    EOS_CHECK_INT(eos_tee_measurement(simtee, sm, &smn), 0);
    memcpy(f.m, sm, smn);
    f.n = smn;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_apps_join_check(member, &pol, sev, sev_size, rd, &d), EOS_EVERIFY);
    EOS_CHECK(strstr(d.message, "simulated") != NULL);
    /* ...while a simulated node takes it. */
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_apps_join_check(simtee, &pol, sev, sev_size, rd, &d), 0);
    eos_free(sev, sev_size);
    eos_tee_free(simtee);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EOS_CHECK_INT(system(cmd), 0);

    eos_tee_free(member);
    free(ev);
    free(dbg);
}

int main(void)
{
    struct stat st;
    if (stat(EOS_SAMPLES_DIR "/README.md", &st) != 0) {
        fprintf(stderr, "skipped: %s is not there\n", EOS_SAMPLES_DIR);
        return 77;
    }
    EOS_RUN(test_join_snp);
    return eos_test_finish();
}
