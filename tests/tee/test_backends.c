/* The TEE backends against directories that play the devices: Gramine's
 * /dev/attestation (plain files), configfs-tsm (a thread that answers each
 * report directory the way the kernel would), the simulation, and `auto`. */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "eos/tee.h"
#include "harness.h"
#include "quote_fixture.h"

static char root[] = "/tmp/eos-tee-test-XXXXXX";
static fixture_pck pck;

static void write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    fwrite(data, 1, size, f);
    fclose(f);
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void test_sim(void)
{
    char dir[200], exe[200];
    snprintf(dir, sizeof dir, "%s/sim", root);
    mkdir(dir, 0700);
    snprintf(exe, sizeof exe, "%s/binary", root);
    write_file(exe, "abc", 3);
    eos_tee_config cfg = {.kind = "sim", .data_dir = dir, .sim_binary = exe};
    eos_tee *t = NULL;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_tee_open(&cfg, &t, &d), 0);
    EOS_CHECK_STR(eos_tee_name(t), "sim");
    uint8_t m[64], want[32], rd[64], *ev = NULL, *sealed = NULL, *plain = NULL;
    size_t ms = 0, ev_size = 0, sealed_size = 0, plain_size = 0;
    EOS_CHECK_INT(eos_tee_measurement(t, m, &ms), 0);
    SHA256((const uint8_t *)"abc", 3, want);
    EOS_CHECK_MEM(m, ms, want, 32);
    memset(rd, 0x42, 64);
    EOS_CHECK_INT(eos_tee_evidence(t, rd, &ev, &ev_size, &d), 0);
    EOS_CHECK_INT(ev_size, 203);
    eos_tee_evidence_info info;
    EOS_CHECK_INT(eos_tee_parse_evidence(ev, ev_size, &info, NULL), 0);
    EOS_CHECK_INT(info.simulated, 1);
    EOS_CHECK_MEM(info.report_data, 64, rd, 64);
    EOS_CHECK_MEM(info.measurement, 32, want, 32);
    eos_free(ev, ev_size);

    EOS_CHECK_INT(
        eos_tee_seal(t, "test.secret", (const uint8_t *)"hello", 5, &sealed, &sealed_size, &d), 0);
    EOS_CHECK_INT(sealed_size, 5 + 36);
    EOS_CHECK_INT(eos_tee_unseal(t, "test.secret", sealed, sealed_size, &plain, &plain_size, &d),
                  0);
    EOS_CHECK_MEM(plain, plain_size, "hello", 5);
    eos_free(plain, plain_size);
    EOS_CHECK_INT(eos_tee_unseal(t, "other.label", sealed, sealed_size, &plain, &plain_size, NULL),
                  EOS_ECORRUPT);
    sealed[20] ^= 1;
    EOS_CHECK_INT(eos_tee_unseal(t, "test.secret", sealed, sealed_size, &plain, &plain_size, NULL),
                  EOS_ECORRUPT);
    sealed[20] ^= 1;
    EOS_CHECK_INT(eos_tee_unseal(t, "test.secret", sealed, 10, &plain, &plain_size, NULL),
                  EOS_EMALFORMED);
    eos_tee_free(t);

    /* The key persists: a new instance unseals what the old one sealed. */
    EOS_CHECK_INT(eos_tee_open(&cfg, &t, &d), 0);
    EOS_CHECK_INT(eos_tee_unseal(t, "test.secret", sealed, sealed_size, &plain, &plain_size, &d),
                  0);
    eos_free(plain, plain_size);
    struct stat st;
    char key[256];
    snprintf(key, sizeof key, "%s/sim-seal.key", dir);
    EOS_CHECK_INT(stat(key, &st), 0);
    EOS_CHECK_INT(st.st_mode & 0777, 0600);
    eos_tee_free(t);
    eos_free(sealed, sealed_size);

    /* Without a data directory, sealing explains itself. */
    cfg.data_dir = NULL;
    EOS_CHECK_INT(eos_tee_open(&cfg, &t, &d), 0);
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_tee_seal(t, "x", (const uint8_t *)"a", 1, &sealed, &sealed_size, &d),
                  EOS_EINVAL);
    EOS_CHECK(strstr(d.message, "data directory") != NULL);
    eos_tee_free(t);
}

static void test_auto_refuses(void)
{
    eos_tee_config cfg = {.kind = "auto",
                          .sgx_dev_dir = "/nonexistent/attestation",
                          .tsm_report_dir = "/nonexistent/tsm"};
    eos_tee *t = NULL;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_tee_open(&cfg, &t, &d), EOS_ENOTFOUND);
    EOS_CHECK(strstr(d.message, "--tee sim") != NULL);
    cfg.kind = "bogus";
    EOS_CHECK_INT(eos_tee_open(&cfg, &t, NULL), EOS_EINVAL);
}

static void test_sgx_gramine(void)
{
    char dir[200], p[300];
    uint8_t zero[64] = {0}, rd[64], *q = NULL, *ev = NULL, got[64];
    size_t qsize = 0, ev_size = 0;
    snprintf(dir, sizeof dir, "%s/attestation", root);
    mkdir(dir, 0700);
    snprintf(p, sizeof p, "%s/keys", dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/keys/_sgx_mrenclave", dir);
    write_file(p, "0123456789abcdef", 16);
    snprintf(p, sizeof p, "%s/user_report_data", dir);
    write_file(p, zero, 64);
    snprintf(p, sizeof p, "%s/attestation_type", dir);
    write_file(p, "dcap", 4);
    /* Gramine computes the quote over what was written; the stand-in quote
     * is fixed, which is all the backend's file protocol needs. */
    fixture_quote(3, zero, &pck, 0, &q, &qsize);
    snprintf(p, sizeof p, "%s/quote", dir);
    write_file(p, q, qsize);

    eos_tee_config cfg = {.kind = "auto", .sgx_dev_dir = dir, .tsm_report_dir = "/nonexistent"};
    eos_tee *t = NULL;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_tee_open(&cfg, &t, &d), 0);
    EOS_CHECK_STR(eos_tee_name(t), "sgx");
    memset(rd, 0x17, 64);
    EOS_CHECK_INT(eos_tee_evidence(t, rd, &ev, &ev_size, &d), 0);
    EOS_CHECK_MEM(ev, ev_size, q, qsize);
    snprintf(p, sizeof p, "%s/user_report_data", dir);
    EOS_CHECK_INT(read_file(p, got, 64), 64);
    EOS_CHECK_MEM(got, 64, rd, 64);
    eos_free(ev, ev_size);
    uint8_t m[64];
    size_t ms = 0;
    EOS_CHECK_INT(eos_tee_measurement(t, m, &ms), 0);
    EOS_CHECK_INT(ms, 32);
    EOS_CHECK_INT(m[0], 0x22);
    uint8_t *sealed = NULL, *plain = NULL;
    size_t ss = 0, ps = 0;
    EOS_CHECK_INT(eos_tee_seal(t, "k", (const uint8_t *)"secret", 6, &sealed, &ss, &d), 0);
    EOS_CHECK_INT(eos_tee_unseal(t, "k", sealed, ss, &plain, &ps, &d), 0);
    EOS_CHECK_MEM(plain, ps, "secret", 6);
    eos_free(plain, ps);
    eos_tee_free(t);
    /* Another MRENCLAVE key cannot unseal it. */
    snprintf(p, sizeof p, "%s/keys/_sgx_mrenclave", dir);
    write_file(p, "fedcba9876543210", 16);
    EOS_CHECK_INT(eos_tee_open(&cfg, &t, &d), 0);
    EOS_CHECK_INT(eos_tee_unseal(t, "k", sealed, ss, &plain, &ps, NULL), EOS_ECORRUPT);
    eos_tee_free(t);
    eos_free(sealed, ss);
    /* Attestation disabled in the manifest is reported as such. */
    snprintf(p, sizeof p, "%s/attestation_type", dir);
    write_file(p, "none", 4);
    eos_diag_init(&d);
    cfg.kind = "sgx";
    EOS_CHECK_INT(eos_tee_open(&cfg, &t, &d), EOS_ETEE);
    EOS_CHECK(strstr(d.message, "dcap") != NULL);
    free(q);
}

/* The configfs-tsm stand-in: answers every report directory with provider
 * and, once inblob holds 64 bytes, an outblob over those bytes. */
typedef struct tsm_emu {
    char dir[200];
    const char *provider;
    atomic_int stop;
} tsm_emu;

static void *tsm_thread(void *arg)
{
    tsm_emu *e = arg;
    while (!atomic_load(&e->stop)) {
        DIR *dh = opendir(e->dir);
        struct dirent *de;
        while (dh && (de = readdir(dh)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            char p[600], in[64];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s/provider", e->dir, de->d_name);
            if (stat(p, &st) != 0)
                write_file(p, e->provider, strlen(e->provider));
            snprintf(p, sizeof p, "%s/%s/outblob", e->dir, de->d_name);
            if (stat(p, &st) == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s/inblob", e->dir, de->d_name);
            if (read_file(p, (uint8_t *)in, 64) != 64)
                continue;
            snprintf(p, sizeof p, "%s/%s/outblob", e->dir, de->d_name);
            char tmp[620];
            snprintf(tmp, sizeof tmp, "%s.tmp", p);
            if (strcmp(e->provider, "tdx_guest\n") == 0) {
                uint8_t *q;
                size_t n;
                fixture_quote(4, (uint8_t *)in, &pck, 0, &q, &n);
                write_file(tmp, q, n);
                free(q);
            } else {
                uint8_t r[1184];
                fixture_snp_report((uint8_t *)in, 0, r);
                write_file(tmp, r, sizeof r);
            }
            rename(tmp, p);
        }
        if (dh)
            closedir(dh);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void run_tsm(const char *provider, const char *kind, eos_tee_kind want_kind)
{
    tsm_emu e = {.provider = provider};
    pthread_t th;
    snprintf(e.dir, sizeof e.dir, "%s/tsm-%s", root, kind);
    mkdir(e.dir, 0700);
    pthread_create(&th, NULL, tsm_thread, &e);
    eos_tee_config cfg = {.kind = "auto",
                          .sgx_dev_dir = "/nonexistent",
                          .tsm_report_dir = e.dir,
                          .sev_guest_dev = "/nonexistent/sev-guest"};
    eos_tee *t = NULL;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_tee_open(&cfg, &t, &d), 0);
    if (t) {
        EOS_CHECK_STR(eos_tee_name(t), kind);
        uint8_t rd[64], *ev = NULL, m[64];
        size_t n = 0, ms = 0;
        memset(rd, 0x5c, 64);
        EOS_CHECK_INT(eos_tee_evidence(t, rd, &ev, &n, &d), 0);
        eos_tee_evidence_info info;
        EOS_CHECK_INT(eos_tee_parse_evidence(ev, n, &info, NULL), 0);
        EOS_CHECK_INT(info.kind, want_kind);
        EOS_CHECK_MEM(info.report_data, 64, rd, 64);
        eos_free(ev, n);
        EOS_CHECK_INT(eos_tee_measurement(t, m, &ms), 0);
        EOS_CHECK_INT(ms, 48);
        uint8_t *s = NULL;
        size_t ss = 0;
        eos_diag_init(&d);
        EOS_CHECK_INT(eos_tee_seal(t, "k", (const uint8_t *)"x", 1, &s, &ss, &d), EOS_EUNSUPPORTED);
        EOS_CHECK(d.message[0] != '\0');
        eos_tee_free(t);
    }
    /* Asking for the other TSM kind by name is refused. */
    cfg.kind = want_kind == EOS_TEE_KIND_TDX ? "sev-snp" : "tdx";
    EOS_CHECK_INT(eos_tee_open(&cfg, &t, NULL), EOS_ETEE);
    atomic_store(&e.stop, 1);
    pthread_join(th, NULL);
}

static void test_tsm_tdx(void)
{
    run_tsm("tdx_guest\n", "tdx", EOS_TEE_KIND_TDX);
}

static void test_tsm_snp(void)
{
    run_tsm("sev_guest\n", "sev-snp", EOS_TEE_KIND_SEV_SNP);
}

static void test_custom(void)
{
    eos_tee *t = NULL;
    eos_tee_ops nameless = {.name = NULL};
    EOS_CHECK_INT(eos_tee_new_custom(&nameless, NULL, &t), EOS_EINVAL);

    /* A backend may provide only part of the interface; the rest reports
     * EOS_EUNSUPPORTED instead of crashing. */
    eos_tee_ops partial = {.name = "partial"};
    EOS_CHECK_INT(eos_tee_new_custom(&partial, NULL, &t), 0);
    uint8_t rd[EOS_TEE_REPORT_DATA_SIZE] = {0}, m[64], *out = NULL;
    size_t out_size = 0, m_size = 0;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_tee_evidence(t, rd, &out, &out_size, &d), EOS_EUNSUPPORTED);
    EOS_CHECK(strstr(d.message, "partial") != NULL);
    EOS_CHECK_INT(eos_tee_seal(t, "l", rd, sizeof rd, &out, &out_size, NULL), EOS_EUNSUPPORTED);
    EOS_CHECK_INT(eos_tee_unseal(t, "l", rd, sizeof rd, &out, &out_size, NULL), EOS_EUNSUPPORTED);
    EOS_CHECK_INT(eos_tee_measurement(t, m, &m_size), EOS_EUNSUPPORTED);
    eos_tee_free(t);
}

int main(void)
{
    if (!mkdtemp(root))
        return 1;
    fixture_pck_new(&pck, NULL);
    EOS_RUN(test_sim);
    EOS_RUN(test_auto_refuses);
    EOS_RUN(test_sgx_gramine);
    EOS_RUN(test_tsm_tdx);
    EOS_RUN(test_tsm_snp);
    EOS_RUN(test_custom);
    fixture_pck_free(&pck);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0)
        return 1;
    return eos_test_finish();
}
