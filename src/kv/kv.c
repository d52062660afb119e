/* Opening the store: the sealed master key, the check record that ties it to
 * the data, namespace handles with their derived keys, and the write loop
 * that grows the backend when it is full. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "internal.h"

#define SEALED_NAME       "master.sealed"
#define SEAL_LABEL        "enclave-os kv master key v1"
#define MAX_GROW_ATTEMPTS 24
#define MAX_RETRIES       64

/* Outside the namespace key space: namespace records are exactly 64 bytes. */
static const uint8_t check_dbkey[] = "\0eos.kv.check";

static char *join_path(const char *dir, const char *name, size_t *out_size)
{
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = eos_malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    *out_size = n;
    return p;
}

static int read_file(const char *path, off_t max, uint8_t **out, size_t *out_size, eos_diag *diag)
{
    int rc = 0;
    uint8_t *buf = NULL;
    struct stat st = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? EOS_ENOTFOUND
                               : eos_diag_set(diag, EOS_ESYS, "kv master key", -1,
                                              "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size > max) {
        rc = eos_diag_set(diag, EOS_ECORRUPT, "kv", -1,
                          "the sealed file %s has an impossible size; it was altered", path);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    buf = eos_malloc(size);
    if (!buf) {
        rc = eos_diag_set(diag, EOS_ENOMEM, "kv master key", -1, "out of memory");
        goto out;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            rc = eos_diag_set(diag, EOS_ESYS, "kv master key", -1, "cannot read %s", path);
            goto out;
        }
        got += (size_t)n;
    }
    *out = buf;
    *out_size = size;
    buf = NULL;
out:
    eos_free(buf, st.st_size > 0 ? (size_t)st.st_size : 0);
    close(fd);
    return rc;
}

/* Writes data to path atomically and durably: temporary file, fsync,
 * rename, fsync of the directory. */
static int write_file_durably(const char *dir, const char *path, const char *tmp_name,
                              const uint8_t *data, size_t size, eos_diag *diag)
{
    int rc = 0;
    size_t tmp_size = 0;
    char *tmp = join_path(dir, tmp_name, &tmp_size);
    int fd = -1, dfd = -1;
    if (!tmp)
        return eos_diag_set(diag, EOS_ENOMEM, "kv master key", -1, "out of memory");
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto fail;
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        done += (size_t)n;
    }
    if (fsync(fd) != 0)
        goto fail;
    int closed = close(fd);
    fd = -1;
    if (closed != 0)
        goto fail;
    if (rename(tmp, path) != 0)
        goto fail;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0)
        goto fail;
    goto out;
fail:
    rc = eos_diag_set(diag, EOS_ESYS, "kv", -1, "cannot write %s: %s", path, strerror(errno));
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    eos_free(tmp, tmp_size);
    return rc;
}

static int read_check(eos_kv *kv, uint8_t *out, int *out_found, eos_diag *diag)
{
    eos_kv_btxn *t = NULL;
    const uint8_t *v = NULL;
    size_t vs = 0;
    int rc = kv->be->ops->begin(kv->be, 0, &t, diag);
    if (rc)
        return rc;
    rc = kv->be->ops->get(t, check_dbkey, sizeof check_dbkey - 1, &v, &vs, diag);
    *out_found = rc == 0;
    if (rc == 0 && vs == EOS_KV__HASH_SIZE)
        memcpy(out, v, vs);
    else if (rc == 0)
        rc = eos_diag_set(diag, EOS_ECORRUPT, "kv master key", -1,
                          "the store's key check record is damaged");
    kv->be->ops->abort(t);
    return rc == EOS_ENOTFOUND ? 0 : rc;
}

static int put_check(eos_kv_btxn *t, void *ctx, eos_diag *diag)
{
    eos_kv *kv = ctx;
    uint8_t check[EOS_KV__HASH_SIZE];
    int rc = eos_kv__hkdf(kv->master, sizeof kv->master, (const uint8_t *)"check", 5, check,
                          sizeof check, diag);
    if (rc == 0)
        rc = kv->be->ops->put(t, check_dbkey, sizeof check_dbkey - 1, check, sizeof check, diag);
    return rc;
}

/* Loads the master key (or creates it on first start) and checks that it is
 * the one the stored data was written with. */
#define MARKS_FILE  "kv-marks.sealed"
#define MARKS_LABEL "kv.marks"

/* Loads the high-water marks this node sealed before it stopped and lets
 * the backend check the database against them: a database rolled back below
 * them is refused here, before anything is served. No monotonic counter
 * guards the file itself (none of the supported TEEs has one): a host that
 * puts back an older kv-marks.sealed together with an older database is not
 * caught (docs/operations.md). */
static int load_marks(eos_kv *kv, const eos_kv_config *cfg, eos_diag *diag)
{
    uint8_t *sealed = NULL, *plain = NULL;
    size_t sealed_size = 0, plain_size = 0;
    kv->tee = cfg->tee;
    pthread_mutex_init(&kv->marks_lock, NULL);
    kv->marks_path = join_path(cfg->data_dir, MARKS_FILE, &kv->marks_path_size);
    kv->marks_dir = join_path(cfg->data_dir, "", &kv->marks_dir_size);
    if (!kv->marks_path || !kv->marks_dir)
        return eos_diag_set(diag, EOS_ENOMEM, "kv", -1, "out of memory opening the store");
    int rc = read_file(kv->marks_path, 16 << 20, &sealed, &sealed_size, diag);
    if (rc == EOS_ENOTFOUND) {
        eos_diag_init(diag);
        kv->marks_ready = 1;
        return 0; /* first start on this data directory */
    }
    if (rc)
        return rc;
    eos_diag ud;
    eos_diag_init(&ud);
    rc = eos_tee_unseal(kv->tee, MARKS_LABEL, sealed, sealed_size, &plain, &plain_size, &ud);
    if (rc) {
        rc = eos_diag_set(diag, rc, "kv marks", -1,
                          "cannot unseal the version high-water marks in %s: %s", kv->marks_path,
                          ud.message);
        goto out;
    }
    eos_diag cd;
    eos_diag_init(&cd);
    rc = kv->be->ops->marks_import(kv->be, plain, plain_size, &cd);
    if (rc == EOS_ECORRUPT)
        rc = eos_diag_set(diag, rc, "kv marks", -1,
                          "the database is older than what this node saw before it stopped "
                          "(its version high-water marks are sealed in %s): it was rolled back "
                          "or had old rows put back; refusing to start. %s",
                          kv->marks_path, cd.message);
    else if (rc)
        rc = eos_diag_set(diag, rc, "kv marks", -1, "%s", cd.message);
    else {
        EOS_INFO("kv", "the database holds every version this node saw before it stopped");
        kv->marks_ready = 1;
    }
out:
    if (plain) {
        OPENSSL_cleanse(plain, plain_size);
        eos_free(plain, plain_size);
    }
    eos_free(sealed, sealed_size);
    return rc;
}

int eos_kv_save_marks(eos_kv *kv, int force, eos_diag *diag)
{
    if (!kv || !kv->be->ops->marks_export || !kv->marks_ready)
        return 0;
    uint8_t *plain = NULL, *sealed = NULL;
    size_t plain_size = 0, sealed_size = 0;
    pthread_mutex_lock(&kv->marks_lock);
    int rc = kv->marks_unsealable ? EOS_ENOTFOUND
                                  : kv->be->ops->marks_export(kv->be, force, &plain, &plain_size);
    if (rc == EOS_ENOTFOUND) {
        rc = 0;
        goto out;
    }
    if (rc) {
        rc = eos_diag_set(diag, rc, "kv marks", -1, "out of memory");
        goto out;
    }
    eos_diag sd;
    eos_diag_init(&sd);
    rc = eos_tee_seal(kv->tee, MARKS_LABEL, plain, plain_size, &sealed, &sealed_size, &sd);
    if (rc == EOS_EUNSUPPORTED) {
        EOS_WARN("kv",
                 "the version high-water marks cannot be sealed (%s): a restarted node "
                 "will not detect a database rolled back below what it saw",
                 sd.message);
        kv->marks_unsealable = 1;
        rc = 0;
        goto out;
    }
    if (rc) {
        rc = eos_diag_set(diag, rc, "kv marks", -1, "sealing the marks failed: %s", sd.message);
        goto out;
    }
    rc = write_file_durably(kv->marks_dir, kv->marks_path, MARKS_FILE ".tmp", sealed, sealed_size,
                            diag);
out:
    pthread_mutex_unlock(&kv->marks_lock);
    if (plain) {
        OPENSSL_cleanse(plain, plain_size);
        eos_free(plain, plain_size);
    }
    eos_free(sealed, sealed_size);
    return rc;
}

static int load_master(eos_kv *kv, const eos_kv_config *cfg, eos_diag *diag)
{
    int rc = 0, found = 0;
    size_t path_size = 0, sealed_size = 0, plain_size = 0;
    uint8_t *sealed = NULL, *plain = NULL;
    uint8_t stored[EOS_KV__HASH_SIZE], want[EOS_KV__HASH_SIZE];
    char *path = join_path(cfg->data_dir, SEALED_NAME, &path_size);
    if (!path)
        return eos_diag_set(diag, EOS_ENOMEM, "kv master key", -1, "out of memory");
    if ((rc = read_check(kv, stored, &found, diag)) != 0)
        goto out;
    rc = read_file(path, 65536, &sealed, &sealed_size, diag);
    if (rc == EOS_ENOTFOUND) {
        /* A released key is checked against the store's record below. */
        if (found && !cfg->master_key) {
            rc = eos_diag_set(diag, EOS_ENOTFOUND, "kv master key", -1,
                              "the data directory %s holds a store but no sealed master key "
                              "(%s is missing); restore that file, the data cannot be read "
                              "without it",
                              cfg->data_dir, SEALED_NAME);
            goto out;
        }
        if (cfg->master_key) {
            memcpy(kv->master, cfg->master_key, sizeof kv->master);
            /* Check a released key before sealing it here. */
            if (found &&
                ((rc = eos_kv__hkdf(kv->master, sizeof kv->master, (const uint8_t *)"check", 5,
                                    want, sizeof want, diag)) != 0 ||
                 CRYPTO_memcmp(stored, want, sizeof want) != 0)) {
                rc = rc ? rc
                        : eos_diag_set(diag, EOS_ECORRUPT, "kv master key", -1,
                                       "the key released by the cluster does not belong to "
                                       "this store (another cluster's database?)");
                goto out;
            }
        } else if (RAND_bytes(kv->master, sizeof kv->master) != 1) {
            rc = eos_diag_set(diag, EOS_ECRYPTO, "kv master key", -1,
                              "the OS random generator failed to produce a master key");
            goto out;
        }
        if ((rc = eos_tee_seal(cfg->tee, SEAL_LABEL, kv->master, sizeof kv->master, &sealed,
                               &sealed_size, diag)) != 0)
            goto out;
        if ((rc = write_file_durably(cfg->data_dir, path, SEALED_NAME ".tmp", sealed, sealed_size,
                                     diag)) != 0)
            goto out;
        EOS_INFO("kv", "%s, sealed by the %s TEE in %s",
                 cfg->master_key ? "took the master key released by the cluster"
                                 : "created a new master key",
                 eos_tee_name(cfg->tee), path);
    } else if (rc != 0) {
        goto out;
    } else {
        eos_diag inner;
        eos_diag_init(&inner);
        rc = eos_tee_unseal(cfg->tee, SEAL_LABEL, sealed, sealed_size, &plain, &plain_size, &inner);
        if (rc != 0 || plain_size != sizeof kv->master) {
            rc = eos_diag_set(diag, EOS_ETEE, "kv master key", -1,
                              "the master key sealed in %s cannot be unsealed by the %s TEE "
                              "(%s): it was sealed on another platform or by other code, or "
                              "it was altered. Run on the platform that created this data "
                              "directory, or start with an empty one",
                              path, eos_tee_name(cfg->tee),
                              inner.message[0] ? inner.message : eos_strerror(rc ? rc : EOS_ETEE));
            goto out;
        }
        memcpy(kv->master, plain, sizeof kv->master);
        if (cfg->master_key && CRYPTO_memcmp(kv->master, cfg->master_key, sizeof kv->master)) {
            rc = eos_diag_set(diag, EOS_ECONFLICT, "kv master key", -1,
                              "%s already holds another data key than the one released by the "
                              "cluster; start the node on an empty data directory to join",
                              path);
            goto out;
        }
    }
    if ((rc = eos_kv__hkdf(kv->master, sizeof kv->master, (const uint8_t *)"check", 5, want,
                           sizeof want, diag)) != 0)
        goto out;
    if (found && CRYPTO_memcmp(stored, want, sizeof want) != 0) {
        rc = eos_diag_set(diag, EOS_ECORRUPT, "kv master key", -1,
                          "the master key in %s does not belong to the store in %s (a "
                          "sealed key from another data directory?); restore the matching "
                          "file",
                          path, cfg->data_dir);
        goto out;
    }
    if (kv->be->ops->bind) {
        uint8_t row_key[EOS_KV__KEY_SIZE];
        rc = eos_kv__hkdf(kv->master, sizeof kv->master, (const uint8_t *)"rows", 4, row_key,
                          sizeof row_key, diag);
        if (rc == 0)
            rc = kv->be->ops->bind(kv->be, row_key, diag);
        OPENSSL_cleanse(row_key, sizeof row_key);
        if (rc)
            goto out;
    }
    if (kv->be->ops->marks_import && (rc = load_marks(kv, cfg, diag)) != 0)
        goto out;
    if (!found)
        rc = eos_kv__run_write(kv, put_check, kv, diag);
    if (rc == 0)
        rc = eos_kv__hkdf(kv->master, sizeof kv->master, (const uint8_t *)"ids", 3, kv->id_key,
                          sizeof kv->id_key, diag);
out:
    if (plain) {
        OPENSSL_cleanse(plain, plain_size);
        eos_free(plain, plain_size);
    }
    eos_free(sealed, sealed_size);
    eos_free(path, path_size);
    return rc;
}

int eos_kv_open(const eos_kv_config *cfg, eos_kv **out, eos_diag *diag)
{
    int rc = 0;
    eos_kv *kv = NULL;
    eos_kv_backend *be = cfg ? cfg->backend : NULL;
    size_t path_size = 0;
    char *path = NULL;
    if (!cfg || !cfg->data_dir || !cfg->tee) {
        rc = eos_diag_set(diag, EOS_EINVAL, "kv", -1,
                          "the store needs a data directory and a TEE to seal its key");
        goto out;
    }
    eos_kv__crypto_init();
    kv = eos_calloc(1, sizeof *kv);
    if (!kv) {
        rc = eos_diag_set(diag, EOS_ENOMEM, "kv", -1, "out of memory opening the store");
        goto out;
    }
    kv->aes = EVP_aes_256_gcm();
    kv->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    kv->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!kv->hmac || !kv->sha256) {
        rc = eos_diag_set(diag, EOS_ECRYPTO, "kv", -1, "OpenSSL provides no HMAC-SHA256");
        goto out;
    }
    if (!be) {
        eos_kv_lmdb_config lc = {0};
        path = join_path(cfg->data_dir, "kv.mdb", &path_size);
        if (!path) {
            rc = eos_diag_set(diag, EOS_ENOMEM, "kv", -1, "out of memory opening the store");
            goto out;
        }
        lc.path = path;
        lc.initial_map_size = cfg->initial_map_size;
        if ((rc = eos_kv_backend_lmdb(&lc, &be, diag)) != 0)
            goto out;
    }
    kv->be = be;
    be = NULL;
    if ((rc = load_master(kv, cfg, diag)) != 0)
        goto out;
    *out = kv;
    kv = NULL;
out:
    eos_kv_backend_free(be);
    eos_kv_close(kv);
    eos_free(path, path_size);
    return rc;
}

void eos_kv_close(eos_kv *kv)
{
    if (!kv)
        return;
    if (kv->marks_path) {
        eos_diag d;
        eos_diag_init(&d);
        if (kv->be && eos_kv_save_marks(kv, 0, &d) != 0)
            EOS_WARN("kv", "cannot save the version high-water marks: %s", d.message);
        pthread_mutex_destroy(&kv->marks_lock);
        eos_free(kv->marks_path, kv->marks_path_size);
        eos_free(kv->marks_dir, kv->marks_dir_size);
    }
    eos_kv_backend_free(kv->be);
    EVP_MAC_free(kv->hmac);
    EVP_MD_free(kv->sha256);
    OPENSSL_cleanse(kv->master, sizeof kv->master);
    OPENSSL_cleanse(kv->id_key, sizeof kv->id_key);
    eos_free(kv, sizeof *kv);
}

eos_kv_backend *eos_kv_backend_of(eos_kv *kv)
{
    return kv->be;
}

void eos_kv_master_key(eos_kv *kv, uint8_t out[32])
{
    memcpy(out, kv->master, sizeof kv->master);
}

int eos_kv_shared(eos_kv *kv)
{
    return kv->be->ops->announce != NULL;
}

int eos_kv_announce(eos_kv *kv, eos_diag *diag)
{
    return kv->be->ops->announce ? kv->be->ops->announce(kv->be, diag) : 0;
}

int eos_kv_wait_announce(eos_kv *kv, unsigned timeout_ms)
{
    if (kv->be->ops->wait)
        return kv->be->ops->wait(kv->be, timeout_ms);
    struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    return 0;
}

int eos_kv__root_id(eos_kv *kv, const char *root, size_t root_size,
                    uint8_t out[EOS_KV__ROOT_ID_SIZE], eos_diag *diag)
{
    uint8_t h[EOS_KV__HASH_SIZE];
    int rc = eos_kv__hmac(kv, kv->id_key, 'r', (const uint8_t *)root, root_size, h, diag);
    if (rc == 0)
        memcpy(out, h, EOS_KV__ROOT_ID_SIZE);
    return rc;
}

int eos_kv_ns_open(eos_kv *kv, const char *name, eos_kv_ns **out, eos_diag *diag)
{
    int rc = 0;
    uint8_t keys[2 * EOS_KV__KEY_SIZE], h[EOS_KV__HASH_SIZE];
    uint8_t info[3 + EOS_KV__MAX_NS_NAME];
    size_t size = name ? strlen(name) : 0;
    if (size == 0 || size > EOS_KV__MAX_NS_NAME)
        return eos_diag_set(diag, EOS_EINVAL, "kv", -1, "a namespace name must be 1 to %d bytes",
                            EOS_KV__MAX_NS_NAME);
    const char *slash = memchr(name, '/', size);
    size_t root_size = slash ? (size_t)(slash - name) : size;
    eos_kv_ns *ns = eos_calloc(1, sizeof *ns);
    if (!ns)
        return eos_diag_set(diag, EOS_ENOMEM, "kv", -1, "out of memory opening a namespace");
    ns->kv = kv;
    pthread_mutex_init(&ns->lock, NULL);
    memcpy(info, "ns", 3);
    memcpy(info + 3, name, size);
    if ((rc = eos_kv__hkdf(kv->master, sizeof kv->master, info, 3 + size, keys, sizeof keys,
                           diag)) != 0 ||
        (rc = eos_kv__root_id(kv, name, root_size, ns->prefix, diag)) != 0 ||
        (rc = eos_kv__hmac(kv, kv->id_key, 'n', (const uint8_t *)name, size, h, diag)) != 0)
        goto out;
    memcpy(ns->prefix + EOS_KV__ROOT_ID_SIZE, h, EOS_KV__PREFIX_SIZE - EOS_KV__ROOT_ID_SIZE);
    /* The directory index lives under the same root (so erase_root removes
     * it) in a range of its own. */
    if ((rc = eos_kv__hmac(kv, kv->id_key, 'i', (const uint8_t *)name, size, h, diag)) != 0)
        goto out;
    memcpy(ns->index_prefix, ns->prefix, EOS_KV__ROOT_ID_SIZE);
    memcpy(ns->index_prefix + EOS_KV__ROOT_ID_SIZE, h, EOS_KV__PREFIX_SIZE - EOS_KV__ROOT_ID_SIZE);
    memcpy(ns->name_key, keys, EOS_KV__KEY_SIZE);
    memcpy(ns->value_key, keys + EOS_KV__KEY_SIZE, EOS_KV__KEY_SIZE);
    *out = ns;
    ns = NULL;
out:
    OPENSSL_cleanse(keys, sizeof keys);
    eos_kv_ns_close(ns);
    return rc;
}

void eos_kv_ns_close(eos_kv_ns *ns)
{
    if (!ns)
        return;
    while (ns->free_slots) {
        eos_kv__slot *s = ns->free_slots;
        ns->free_slots = s->next;
        eos_kv__slot_free(s);
    }
    pthread_mutex_destroy(&ns->lock);
    OPENSSL_cleanse(ns, sizeof *ns);
    eos_free(ns, sizeof *ns);
}

/* Sleeps before another run of a transaction that conflicted: growing, with
 * jitter so that writers which collided do not collide again. */
static void backoff(int retry)
{
    unsigned cap = retry < 8 ? 1u << retry : 200;
    unsigned us = 100u * (cap > 200 ? 200 : cap);
    uint8_t r = 0;
    RAND_bytes(&r, 1);
    struct timespec ts = {0, (long)(us + us * r / 256) * 1000L};
    nanosleep(&ts, NULL);
}

int eos_kv__run_write(eos_kv *kv, eos_kv__write_fn fn, void *ctx, eos_diag *diag)
{
    const eos_kv_backend_ops *ops = kv->be->ops;
    int retries = 0;
    for (int attempt = 0;; attempt++) {
        eos_kv_btxn *t = NULL;
        int rc = ops->begin(kv->be, 1, &t, diag);
        if (rc)
            return rc;
        rc = fn(t, ctx, diag);
        if (rc == 0)
            rc = ops->commit(t, diag);
        else
            ops->abort(t);
        if (rc == EOS_EAGAIN && retries < MAX_RETRIES) {
            /* A conflict with another writer or a connection lost before
             * commit: nothing was applied, so run it again. */
            if (diag)
                eos_diag_init(diag);
            backoff(retries++);
            attempt--;
            continue;
        }
        if (rc == EOS_EAGAIN) {
            char last[256];
            snprintf(last, sizeof last, "%.200s",
                     diag && diag->message[0] ? diag->message : "busy");
            if (diag)
                eos_diag_init(diag);
            return eos_diag_set(diag, EOS_EBUSY, "kv", -1,
                                "a write conflicted or lost its connection %d times in a row; "
                                "giving up (%s)",
                                retries, last);
        }
        if (rc != EOS_ELIMIT)
            return rc;
        /* Full: grow with no transaction of ours open, then start over. */
        if (!ops->grow || attempt >= MAX_GROW_ATTEMPTS)
            return eos_diag_set(diag, EOS_ESTORE, "kv", -1,
                                "the %s backend is full and cannot grow further", ops->name);
        if ((rc = ops->grow(kv->be, diag)) != 0)
            return rc;
    }
}
