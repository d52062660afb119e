/* The SGX backend under Gramine: report data goes to
 * <dir>/user_report_data, the DCAP quote comes from <dir>/quote, and the
 * sealing key is Gramine's MRENCLAVE-bound key <dir>/keys/_sgx_mrenclave. The
 * write-then-read pair is process global in Gramine, hence the lock. */
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "internal.h"

#define SGX_MAX_QUOTE (1u << 20)

typedef struct sgx_impl {
    char *dir;
    pthread_mutex_t lock;
    uint8_t measurement[32];
    int have_measurement;
} sgx_impl;

static int sgx_evidence(eos_tee *t, const uint8_t rd[EOS_TEE_REPORT_DATA_SIZE], uint8_t **out,
                        size_t *out_size, eos_diag *diag)
{
    sgx_impl *s = t->impl;
    int rc;
    char *urd = eos_tee__path(s->dir, "user_report_data");
    char *quote = eos_tee__path(s->dir, "quote");
    if (!urd || !quote) {
        rc = EOS_ENOMEM;
        goto out;
    }
    pthread_mutex_lock(&s->lock);
    rc = eos_tee__write_file(urd, rd, 64, diag);
    if (rc == 0)
        rc = eos_tee__read_file(quote, SGX_MAX_QUOTE, out, out_size, diag);
    pthread_mutex_unlock(&s->lock);
    if (rc == 0 && *out_size == 0)
        rc = eos_diag_set(diag, EOS_ETEE, "sgx quote", -1,
                          "%s returned an empty quote; is remote attestation (DCAP) enabled in "
                          "the Gramine manifest (sgx.remote_attestation = \"dcap\")?",
                          quote);
    if (rc != 0)
        eos_diag_set(diag, EOS_ETEE, "sgx quote", -1, "obtaining an SGX quote failed");
out:
    if (urd)
        eos_free(urd, strlen(urd) + 1);
    if (quote)
        eos_free(quote, strlen(quote) + 1);
    return rc;
}

static int sgx_key(sgx_impl *s, uint8_t **key, size_t *key_size, eos_diag *diag)
{
    char *p = eos_tee__path(s->dir, "keys/_sgx_mrenclave");
    if (!p)
        return EOS_ENOMEM;
    int rc = eos_tee__read_file(p, 256, key, key_size, diag);
    if (rc == 0 && *key_size < 16) {
        eos_free(*key, *key_size);
        rc = eos_diag_set(diag, EOS_ETEE, "sgx seal", -1, "%s returned a %zu-byte key", p,
                          *key_size);
    }
    eos_free(p, strlen(p) + 1);
    return rc;
}

static int sgx_seal(eos_tee *t, const char *label, const uint8_t *plain, size_t plain_size,
                    uint8_t **out, size_t *out_size, eos_diag *diag)
{
    uint8_t *key = NULL;
    size_t key_size = 0;
    int rc = sgx_key(t->impl, &key, &key_size, diag);
    if (rc == 0) {
        rc = eos_tee__seal_with_key(key, key_size, "sgx", label, plain, plain_size, out, out_size,
                                    diag);
        OPENSSL_cleanse(key, key_size);
        eos_free(key, key_size);
    }
    return rc;
}

static int sgx_unseal(eos_tee *t, const char *label, const uint8_t *sealed, size_t sealed_size,
                      uint8_t **out, size_t *out_size, eos_diag *diag)
{
    uint8_t *key = NULL;
    size_t key_size = 0;
    int rc = sgx_key(t->impl, &key, &key_size, diag);
    if (rc == 0) {
        rc = eos_tee__unseal_with_key(key, key_size, "sgx", label, sealed, sealed_size, out,
                                      out_size, diag);
        OPENSSL_cleanse(key, key_size);
        eos_free(key, key_size);
    }
    return rc;
}

/* MRENCLAVE comes from the enclave's own quote (over zero report data), so
 * it is exactly what verifiers will see. */
static int sgx_measurement(eos_tee *t, uint8_t out[64], size_t *out_size)
{
    sgx_impl *s = t->impl;
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    int have = s->have_measurement;
    pthread_mutex_unlock(&s->lock);
    if (!have) {
        uint8_t zero[64] = {0}, *q = NULL;
        size_t qsize = 0;
        eos_tee_evidence_info info;
        rc = sgx_evidence(t, zero, &q, &qsize, NULL);
        if (rc == 0)
            rc = eos_tee_parse_sgx_quote(q, qsize, &info, NULL);
        if (rc == 0) {
            pthread_mutex_lock(&s->lock);
            memcpy(s->measurement, info.measurement, 32);
            s->have_measurement = 1;
            pthread_mutex_unlock(&s->lock);
        }
        eos_free(q, qsize);
        if (rc != 0)
            return rc;
    }
    memcpy(out, s->measurement, 32);
    *out_size = 32;
    return 0;
}

static void sgx_destroy(eos_tee *t)
{
    sgx_impl *s = t->impl;
    pthread_mutex_destroy(&s->lock);
    eos_free(s->dir, strlen(s->dir) + 1);
    eos_free(s, sizeof *s);
}

static const eos_tee_ops sgx_ops = {
    .name = "sgx",
    .evidence = sgx_evidence,
    .seal = sgx_seal,
    .unseal = sgx_unseal,
    .measurement = sgx_measurement,
    .destroy = sgx_destroy,
};

int eos_tee__open_sgx(const eos_tee_config *cfg, eos_tee **out, eos_diag *diag)
{
    const char *dir = cfg->sgx_dev_dir ? cfg->sgx_dev_dir : "/dev/attestation";
    struct stat st;
    int rc = 0;
    char *urd = eos_tee__path(dir, "user_report_data");
    char *type = eos_tee__path(dir, "attestation_type");
    uint8_t *tv = NULL;
    size_t tv_size = 0;
    sgx_impl *s = NULL;
    if (!urd || !type) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if (stat(urd, &st) != 0) {
        rc = eos_diag_set(diag, EOS_ENOTFOUND, "sgx", -1,
                          "%s does not exist: not running under Gramine with SGX remote "
                          "attestation",
                          urd);
        goto out;
    }
    /* Gramine reports "none" when the manifest did not enable attestation. */
    if (eos_tee__read_file(type, 64, &tv, &tv_size, NULL) == 0 && tv_size >= 4 &&
        memcmp(tv, "none", 4) == 0) {
        rc = eos_diag_set(diag, EOS_ETEE, "sgx", -1,
                          "Gramine reports attestation_type \"none\": set "
                          "sgx.remote_attestation = \"dcap\" in the manifest");
        goto out;
    }
    s = eos_calloc(1, sizeof *s);
    if (!s || !(s->dir = eos_strdup(dir))) {
        rc = EOS_ENOMEM;
        goto out;
    }
    pthread_mutex_init(&s->lock, NULL);
    if ((rc = eos_tee_new_custom(&sgx_ops, s, out)) != 0) {
        sgx_destroy(&(eos_tee){.impl = s});
        s = NULL;
        goto out;
    }
    s = NULL;
out:
    if (s) {
        if (s->dir)
            eos_free(s->dir, strlen(s->dir) + 1);
        eos_free(s, sizeof *s);
    }
    eos_free(tv, tv_size);
    if (urd)
        eos_free(urd, strlen(urd) + 1);
    if (type)
        eos_free(type, strlen(type) + 1);
    return rc;
}
