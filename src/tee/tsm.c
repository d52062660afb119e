/* TDX and SEV-SNP through Linux configfs-tsm: each evidence request makes a
 * report directory under tsm/report, writes the report data to inblob, reads
 * the quote (TDX) or attestation report (SEV-SNP) from outblob, and removes
 * the directory. `provider` tells which TEE answers. SEV-SNP sealing uses the
 * firmware's derived key (SNP_GET_DERIVED_KEY on /dev/sev-guest), since
 * configfs-tsm has no key interface; TDX has no sealing key at all. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sev-guest.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "internal.h"

#define TSM_MAX_OUTBLOB (1u << 20)

typedef struct tsm_impl {
    char *dir;
    char *sev_dev;
    const char *name; /* "tdx" or "sev-snp" */
    int wait_ms;
    pthread_mutex_t lock;
    uint8_t measurement[48];
    int have_measurement;
} tsm_impl;

static atomic_uint tsm_counter;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Reads an attribute, waiting up to wait_ms for it to appear (see tsm_wait_ms). */
static int read_attr(const char *report, const char *attr, int wait_ms, uint8_t **out,
                     size_t *out_size, eos_diag *diag)
{
    char *p = eos_tee__path(report, attr);
    int rc;
    if (!p)
        return EOS_ENOMEM;
    for (int waited = 0;; waited += 5) {
        rc = eos_tee__read_file(p, TSM_MAX_OUTBLOB, out, out_size, NULL);
        if (rc != EOS_ENOTFOUND || waited >= wait_ms)
            break;
        sleep_ms(5);
    }
    if (rc != 0)
        eos_diag_set(diag, rc, "tsm", -1, "cannot read %s (%s)", p, eos_strerror(rc));
    eos_free(p, strlen(p) + 1);
    return rc;
}

/* Makes a fresh report directory; free *out with eos_free(p, strlen(p) + 1). */
static int make_report_dir(const char *dir, char **out, eos_diag *diag)
{
    char name[64];
    snprintf(name, sizeof name, "eos-%ld-%u", (long)getpid(), atomic_fetch_add(&tsm_counter, 1));
    char *p = eos_tee__path(dir, name);
    if (!p)
        return EOS_ENOMEM;
    if (mkdir(p, 0700) != 0) {
        int e = errno;
        int rc = eos_diag_set(diag, e == ENOENT ? EOS_ENOTFOUND : EOS_ESYS, "tsm", -1,
                              "cannot create the configfs-tsm report %s: %s", p, strerror(e));
        eos_free(p, strlen(p) + 1);
        return rc;
    }
    *out = p;
    return 0;
}

/* In configfs rmdir removes the attributes too; a test directory playing the
 * device keeps its files, and that is harmless. */
static void remove_report_dir(char *p)
{
    (void)rmdir(p);
    eos_free(p, strlen(p) + 1);
}

static int tsm_evidence(eos_tee *t, const uint8_t rd[EOS_TEE_REPORT_DATA_SIZE], uint8_t **out,
                        size_t *out_size, eos_diag *diag)
{
    tsm_impl *s = t->impl;
    char *report = NULL, *inblob = NULL;
    int rc = make_report_dir(s->dir, &report, diag);
    if (rc != 0)
        return rc;
    inblob = eos_tee__path(report, "inblob");
    if (!inblob) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if ((rc = eos_tee__write_file(inblob, rd, 64, diag)) != 0)
        goto out;
    rc = read_attr(report, "outblob", s->wait_ms, out, out_size, diag);
    if (rc == 0 && *out_size == 0)
        rc = eos_diag_set(diag, EOS_ETEE, "tsm", -1, "%s/outblob was empty", report);
out:
    if (inblob)
        eos_free(inblob, strlen(inblob) + 1);
    remove_report_dir(report);
    return rc;
}

static int snp_derived_key(tsm_impl *s, uint8_t key[32], eos_diag *diag)
{
    struct snp_derived_key_req req;
    struct snp_derived_key_resp resp;
    struct snp_guest_request_ioctl io;
    memset(&req, 0, sizeof req);
    memset(&resp, 0, sizeof resp);
    memset(&io, 0, sizeof io);
    /* Root key VCEK (0), mixing in the guest policy (bit 0) and the launch
     * measurement (bit 3): a different image or policy derives another key. */
    req.root_key_select = 0;
    req.guest_field_select = (1u << 0) | (1u << 3);
    io.msg_version = 1;
    io.req_data = (uint64_t)(uintptr_t)&req;
    io.resp_data = (uint64_t)(uintptr_t)&resp;
    int fd = open(s->sev_dev, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return eos_diag_set(diag, EOS_EUNSUPPORTED, "sev-snp seal", -1,
                            "cannot open %s for the SEV-SNP derived sealing key (%s); "
                            "configfs-tsm has no key interface, so sealing needs the sev-guest "
                            "device",
                            s->sev_dev, strerror(errno));
    int r = ioctl(fd, SNP_GET_DERIVED_KEY, &io);
    int e = errno;
    close(fd);
    /* MSG_KEY_RSP: status (u32), 28 reserved bytes, then the 32-byte key. */
    if (r != 0 || eos_tee__le32(resp.data) != 0)
        return eos_diag_set(diag, EOS_ETEE, "sev-snp seal", -1,
                            "SNP_GET_DERIVED_KEY failed (%s, firmware status %u)",
                            r != 0 ? strerror(e) : "ok", eos_tee__le32(resp.data));
    memcpy(key, resp.data + 32, 32);
    OPENSSL_cleanse(&resp, sizeof resp);
    return 0;
}

static int tsm_key(tsm_impl *s, uint8_t key[32], eos_diag *diag)
{
    if (strcmp(s->name, "tdx") == 0)
        return eos_diag_set(diag, EOS_EUNSUPPORTED, "tdx seal", -1,
                            "TDX has no hardware sealing key; persistent secrets on TDX need a "
                            "key broker released against this TD's quote, which this version "
                            "does not include");
    return snp_derived_key(s, key, diag);
}

static int tsm_seal(eos_tee *t, const char *label, const uint8_t *plain, size_t plain_size,
                    uint8_t **out, size_t *out_size, eos_diag *diag)
{
    tsm_impl *s = t->impl;
    uint8_t key[32];
    int rc = tsm_key(s, key, diag);
    if (rc == 0)
        rc =
            eos_tee__seal_with_key(key, 32, s->name, label, plain, plain_size, out, out_size, diag);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

static int tsm_unseal(eos_tee *t, const char *label, const uint8_t *sealed, size_t sealed_size,
                      uint8_t **out, size_t *out_size, eos_diag *diag)
{
    tsm_impl *s = t->impl;
    uint8_t key[32];
    int rc = tsm_key(s, key, diag);
    if (rc == 0)
        rc = eos_tee__unseal_with_key(key, 32, s->name, label, sealed, sealed_size, out, out_size,
                                      diag);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

/* MRTD or the SNP launch measurement, read from the TEE's own evidence. */
static int tsm_measurement(eos_tee *t, uint8_t out[64], size_t *out_size)
{
    tsm_impl *s = t->impl;
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    int have = s->have_measurement;
    pthread_mutex_unlock(&s->lock);
    if (!have) {
        uint8_t zero[64] = {0}, *ev = NULL;
        size_t size = 0;
        eos_tee_evidence_info info;
        rc = tsm_evidence(t, zero, &ev, &size, NULL);
        if (rc == 0)
            rc = eos_tee_parse_evidence(ev, size, &info, NULL);
        if (rc == 0 && info.measurement_size != 48)
            rc = EOS_ETEE;
        if (rc == 0) {
            pthread_mutex_lock(&s->lock);
            memcpy(s->measurement, info.measurement, 48);
            s->have_measurement = 1;
            pthread_mutex_unlock(&s->lock);
        }
        eos_free(ev, size);
        if (rc != 0)
            return rc;
    }
    memcpy(out, s->measurement, 48);
    *out_size = 48;
    return 0;
}

static void tsm_destroy(eos_tee *t)
{
    tsm_impl *s = t->impl;
    pthread_mutex_destroy(&s->lock);
    eos_free(s->dir, strlen(s->dir) + 1);
    eos_free(s->sev_dev, strlen(s->sev_dev) + 1);
    eos_free(s, sizeof *s);
}

static const eos_tee_ops tdx_ops = {
    .name = "tdx",
    .evidence = tsm_evidence,
    .seal = tsm_seal,
    .unseal = tsm_unseal,
    .measurement = tsm_measurement,
    .destroy = tsm_destroy,
};

static const eos_tee_ops snp_ops = {
    .name = "sev-snp",
    .evidence = tsm_evidence,
    .seal = tsm_seal,
    .unseal = tsm_unseal,
    .measurement = tsm_measurement,
    .destroy = tsm_destroy,
};

/* Asks the device which provider serves reports: "tdx_guest" or "sev_guest". */
static int probe_provider(const char *dir, int wait_ms, const char **out_name, eos_diag *diag)
{
    char *report = NULL;
    uint8_t *prov = NULL;
    size_t prov_size = 0;
    int rc = make_report_dir(dir, &report, diag);
    if (rc != 0)
        return rc;
    rc = read_attr(report, "provider", wait_ms, &prov, &prov_size, diag);
    remove_report_dir(report);
    if (rc != 0)
        return rc;
    if (prov_size >= 9 && memcmp(prov, "tdx_guest", 9) == 0)
        *out_name = "tdx";
    else if (prov_size >= 9 && memcmp(prov, "sev_guest", 9) == 0)
        *out_name = "sev-snp";
    else
        rc = eos_diag_set(diag, EOS_EUNSUPPORTED, "tsm", -1,
                          "configfs-tsm provider \"%.*s\" is not supported (expected tdx_guest "
                          "or sev_guest)",
                          (int)(prov_size > 32 ? 32 : prov_size), (const char *)prov);
    eos_free(prov, prov_size);
    return rc;
}

int eos_tee__open_tsm(const eos_tee_config *cfg, const char *want, eos_tee **out, eos_diag *diag)
{
    const char *dir = cfg->tsm_report_dir ? cfg->tsm_report_dir : "/sys/kernel/config/tsm/report";
    const char *name = NULL;
    struct stat st;
    int wait_ms = cfg->tsm_wait_ms > 0 ? cfg->tsm_wait_ms : 2000;
    int rc;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return eos_diag_set(diag, EOS_ENOTFOUND, "tsm", -1,
                            "%s does not exist: the kernel has no configfs-tsm (TDX/SEV-SNP "
                            "guest attestation) or configfs is not mounted",
                            dir);
    if ((rc = probe_provider(dir, wait_ms, &name, diag)) != 0)
        return rc;
    if (want && strcmp(want, name) != 0)
        return eos_diag_set(diag, EOS_ETEE, "tsm", -1,
                            "--tee %s was requested but configfs-tsm is served by %s", want, name);
    tsm_impl *s = eos_calloc(1, sizeof *s);
    if (!s)
        return EOS_ENOMEM;
    s->dir = eos_strdup(dir);
    s->sev_dev = eos_strdup(cfg->sev_guest_dev ? cfg->sev_guest_dev : "/dev/sev-guest");
    s->name = name;
    s->wait_ms = wait_ms;
    pthread_mutex_init(&s->lock, NULL);
    eos_tee *t = NULL;
    if (!s->dir || !s->sev_dev ||
        (rc = eos_tee_new_custom(strcmp(name, "tdx") == 0 ? &tdx_ops : &snp_ops, s, &t)) != 0) {
        pthread_mutex_destroy(&s->lock);
        if (s->dir)
            eos_free(s->dir, strlen(s->dir) + 1);
        if (s->sev_dev)
            eos_free(s->sev_dev, strlen(s->sev_dev) + 1);
        eos_free(s, sizeof *s);
        return rc ? rc : EOS_ENOMEM;
    }
    *out = t;
    return 0;
}
