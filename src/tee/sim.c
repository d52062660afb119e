/* The simulation backend: no hardware, any Linux. Evidence is `MOCK_QUOTE:`,
 * the report data and a simulated report (layout in eos/tee.h). Sealing uses a
 * random key kept in a file in the data directory: it protects nothing against
 * anyone who can read that directory, and every artefact says "simulated". */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "internal.h"

#define SIM_KEY_FILE "sim-seal.key"

typedef struct sim_impl {
    char *key_path; /* NULL when no data directory was configured */
    uint8_t measurement[32];
} sim_impl;

static int hash_file(const char *path, uint8_t out[32], eos_diag *diag)
{
    int rc = 0;
    uint8_t buf[16384];
    unsigned int n = 32;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (!md) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if (fd < 0) {
        rc =
            eos_diag_set(diag, EOS_ESYS, "sim measurement", -1,
                         "cannot open %s to measure the running binary: %s", path, strerror(errno));
        goto out;
    }
    if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        rc = EOS_ECRYPTO;
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = eos_diag_set(diag, EOS_ESYS, "sim measurement", -1, "cannot read %s: %s", path,
                              strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)r);
    }
    if (!EVP_DigestFinal_ex(md, out, &n))
        rc = EOS_ECRYPTO;
out:
    if (fd >= 0)
        close(fd);
    EVP_MD_CTX_free(md);
    return rc;
}

static int sim_evidence(eos_tee *t, const uint8_t rd[EOS_TEE_REPORT_DATA_SIZE], uint8_t **out,
                        size_t *out_size, eos_diag *diag)
{
    sim_impl *s = t->impl;
    size_t size = EOS_TEE_MOCK_PREFIX_SIZE + 64 + EOS_TEE_SIM_REPORT_SIZE;
    uint8_t *b = eos_calloc(1, size);
    if (!b)
        return EOS_ENOMEM;
    memcpy(b, EOS_TEE_MOCK_PREFIX, EOS_TEE_MOCK_PREFIX_SIZE);
    memcpy(b + 11, rd, 64);
    uint8_t *r = b + 75;
    memcpy(r, "EOSSIM01", 8);
    r[8] = 1;  /* version */
    r[10] = 1; /* flags: simulated */
    r[12] = 32;
    memcpy(r + 16, "sim", 3);
    memcpy(r + 32, s->measurement, 32);
    memcpy(r + 64, EOS_TEE_SIM_MARKER, sizeof EOS_TEE_SIM_MARKER - 1);
    *out = b;
    *out_size = size;
    return 0;
}

/* Loads the key file, creating it (0600, exclusively) on first use. */
static int sim_key(sim_impl *s, uint8_t key[32], eos_diag *diag)
{
    uint8_t *data = NULL;
    size_t size = 0;
    int rc;
    if (!s->key_path)
        return eos_diag_set(diag, EOS_EINVAL, "sim seal", -1,
                            "the simulation seals to a key file in the data directory, and no "
                            "data directory was configured");
    rc = eos_tee__read_file(s->key_path, 64, &data, &size, diag);
    if (rc == EOS_ENOTFOUND) {
        eos_diag_init(diag);
        if (RAND_bytes(key, 32) != 1)
            return EOS_ECRYPTO;
        int fd = open(s->key_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST)
            return sim_key(s, key, diag); /* another process created it first */
        if (fd < 0 || write(fd, key, 32) != 32 || fsync(fd) != 0) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            return eos_diag_set(diag, EOS_ESYS, "sim seal", -1,
                                "cannot create the simulation sealing key %s: %s", s->key_path,
                                strerror(e));
        }
        close(fd);
        EOS_WARN("tee",
                 "created simulation sealing key %s: sealed data is NOT protected "
                 "(simulated TEE)",
                 s->key_path);
        return 0;
    }
    if (rc != 0)
        return rc;
    if (size != 32) {
        eos_free(data, size);
        return eos_diag_set(diag, EOS_ECORRUPT, "sim seal", -1,
                            "%s is not a 32-byte key; remove it only if nothing sealed with it "
                            "is needed",
                            s->key_path);
    }
    memcpy(key, data, 32);
    OPENSSL_cleanse(data, size);
    eos_free(data, size);
    return 0;
}

static int sim_seal(eos_tee *t, const char *label, const uint8_t *plain, size_t plain_size,
                    uint8_t **out, size_t *out_size, eos_diag *diag)
{
    uint8_t key[32];
    int rc = sim_key(t->impl, key, diag);
    if (rc == 0)
        rc = eos_tee__seal_with_key(key, 32, "sim", label, plain, plain_size, out, out_size, diag);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

static int sim_unseal(eos_tee *t, const char *label, const uint8_t *sealed, size_t sealed_size,
                      uint8_t **out, size_t *out_size, eos_diag *diag)
{
    uint8_t key[32];
    int rc = sim_key(t->impl, key, diag);
    if (rc == 0)
        rc = eos_tee__unseal_with_key(key, 32, "sim", label, sealed, sealed_size, out, out_size,
                                      diag);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

static int sim_measurement(eos_tee *t, uint8_t out[64], size_t *out_size)
{
    sim_impl *s = t->impl;
    memcpy(out, s->measurement, 32);
    *out_size = 32;
    return 0;
}

static void sim_destroy(eos_tee *t)
{
    sim_impl *s = t->impl;
    if (s->key_path)
        eos_free(s->key_path, strlen(s->key_path) + 1);
    eos_free(s, sizeof *s);
}

static const eos_tee_ops sim_ops = {
    .name = "sim",
    .evidence = sim_evidence,
    .seal = sim_seal,
    .unseal = sim_unseal,
    .measurement = sim_measurement,
    .destroy = sim_destroy,
};

int eos_tee__open_sim(const eos_tee_config *cfg, eos_tee **out, eos_diag *diag)
{
    int rc;
    sim_impl *s = eos_calloc(1, sizeof *s);
    if (!s)
        return EOS_ENOMEM;
    if (cfg->data_dir) {
        s->key_path = eos_tee__path(cfg->data_dir, SIM_KEY_FILE);
        if (!s->key_path) {
            rc = EOS_ENOMEM;
            goto fail;
        }
    }
    rc = hash_file(cfg->sim_binary ? cfg->sim_binary : "/proc/self/exe", s->measurement, diag);
    if (rc != 0)
        goto fail;
    eos_tee *t = NULL;
    if ((rc = eos_tee_new_custom(&sim_ops, s, &t)) != 0)
        goto fail;
    EOS_WARN("tee", "SIMULATED TEE: no hardware protection; evidence is marked simulated and "
                    "sealed data is readable by anyone with access to the data directory");
    *out = t;
    return 0;
fail:
    if (s->key_path)
        eos_free(s->key_path, strlen(s->key_path) + 1);
    eos_free(s, sizeof *s);
    return rc;
}
