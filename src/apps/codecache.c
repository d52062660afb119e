/* The cache of compiled code in the data directory: one file per module and
 * compiler options under <data_dir>/code-cache, named by SHA-256 of both and
 * sealed to the TEE, so a restart links native code instead of compiling it
 * and an entry that fails to unseal is compiled again, never run. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "eos/tee.h"

/* Bound into every sealed entry besides its key. */
#define SEAL_LABEL "enclave-os code cache v1"

struct eos_apps_code_cache {
    eos_wasm_code_cache hooks;
    eos_tee *tee;
    char *dir;
    size_t dir_len;
    atomic_uint_fast64_t hits, misses, rejected;
};

/* key = SHA-256(SHA-256(wasm) || options). */
static int entry_key(const uint8_t *wasm, size_t wasm_size, const char *options, uint8_t key[32])
{
    uint8_t h[32];
    unsigned hl = 0;
    int ok = EVP_Digest(wasm, wasm_size, h, &hl, EVP_sha256(), NULL) == 1;
    EVP_MD_CTX *c = ok ? EVP_MD_CTX_new() : NULL;
    ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(c, h, 32) == 1 &&
         EVP_DigestUpdate(c, options, strlen(options)) == 1 &&
         EVP_DigestFinal_ex(c, key, &hl) == 1;
    EVP_MD_CTX_free(c);
    return ok ? 0 : EOS_ECRYPTO;
}

static char *entry_path(const eos_apps_code_cache *c, const uint8_t key[32], const char *suffix)
{
    size_t n = c->dir_len + 1 + 64 + strlen(suffix) + 1;
    char *p = eos_malloc(n);
    if (!p)
        return NULL;
    int at = snprintf(p, n, "%s/", c->dir);
    for (int i = 0; i < 32; i++)
        at += snprintf(p + at, n - (size_t)at, "%02x", key[i]);
    snprintf(p + at, n - (size_t)at, "%s", suffix);
    return p;
}

static int read_file(const char *path, uint8_t **out, size_t *out_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? EOS_ENOTFOUND : EOS_EIO;
    int rc = EOS_EIO;
    uint8_t *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0)
        goto out;
    size_t size = (size_t)st.st_size, got = 0;
    if (!(buf = eos_malloc(size))) {
        rc = EOS_ENOMEM;
        goto out;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got == size) {
        *out = buf;
        *out_size = size;
        buf = NULL;
        rc = 0;
    }
out:
    eos_free(buf, buf ? (size_t)st.st_size : 0);
    close(fd);
    return rc;
}

static int cache_get(void *ctx, const uint8_t *wasm, size_t wasm_size, const char *options,
                     uint8_t **out, size_t *out_size)
{
    eos_apps_code_cache *c = ctx;
    uint8_t key[32];
    uint8_t *sealed = NULL, *plain = NULL;
    size_t sealed_size = 0, plain_size = 0;
    char *path = NULL;
    int rc = entry_key(wasm, wasm_size, options, key);
    if (rc < 0)
        goto out;
    if (!(path = entry_path(c, key, ".sealed"))) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if ((rc = read_file(path, &sealed, &sealed_size)) < 0)
        goto out;
    /* The entry must unseal here and name the key it was asked under: a file
     * copied over another entry's name is as bad as a corrupted one. */
    rc = eos_tee_unseal(c->tee, SEAL_LABEL, sealed, sealed_size, &plain, &plain_size, NULL);
    if (rc < 0 || plain_size < 32 || memcmp(plain, key, 32) != 0) {
        rc = EOS_ECORRUPT;
        goto out;
    }
    if (!(*out = eos_malloc(plain_size - 32))) {
        rc = EOS_ENOMEM;
        goto out;
    }
    memcpy(*out, plain + 32, plain_size - 32);
    *out_size = plain_size - 32;
    rc = 0;
out:
    if (rc == 0)
        atomic_fetch_add(&c->hits, 1);
    else if (rc == EOS_ECORRUPT)
        atomic_fetch_add(&c->rejected, 1);
    else
        atomic_fetch_add(&c->misses, 1);
    if (rc == EOS_ECORRUPT)
        EOS_WARN("compile", "code cache entry %s failed its integrity check", path);
    eos_free(sealed, sealed_size);
    eos_free(plain, plain_size);
    eos_free(path, path ? strlen(path) + 1 : 0);
    return rc;
}

static int cache_put(void *ctx, const uint8_t *wasm, size_t wasm_size, const char *options,
                     const uint8_t *code, size_t code_size)
{
    eos_apps_code_cache *c = ctx;
    uint8_t key[32];
    uint8_t *plain = NULL, *sealed = NULL;
    size_t sealed_size = 0;
    char *path = NULL, *tmp = NULL;
    int fd = -1;
    int rc = entry_key(wasm, wasm_size, options, key);
    if (rc < 0)
        goto out;
    rc = EOS_ENOMEM;
    path = entry_path(c, key, ".sealed");
    /* Servers sharing the directory may write one entry at once: each
     * writes its own file aside. */
    char suffix[64];
    static atomic_uint seq;
    snprintf(suffix, sizeof(suffix), ".%ld.%u.tmp", (long)getpid(), atomic_fetch_add(&seq, 1));
    tmp = entry_path(c, key, suffix);
    if (!path || !tmp || !(plain = eos_malloc(code_size + 32)))
        goto out;
    memcpy(plain, key, 32);
    memcpy(plain + 32, code, code_size);
    rc = eos_tee_seal(c->tee, SEAL_LABEL, plain, code_size + 32, &sealed, &sealed_size, NULL);
    if (rc < 0)
        goto out;
    /* Written aside, then renamed: a reader sees the old entry or the whole new one. */
    rc = EOS_EIO;
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        goto out;
    size_t done = 0;
    while (done < sealed_size) {
        ssize_t w = write(fd, sealed + done, sealed_size - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    if (done != sealed_size || fsync(fd) != 0)
        goto out;
    close(fd);
    fd = -1;
    if (rename(tmp, path) == 0)
        rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0 && tmp)
        unlink(tmp);
    if (rc < 0)
        EOS_WARN("compile", "cannot keep compiled code in the cache: %s", eos_strerror(rc));
    eos_free(plain, plain ? code_size + 32 : 0);
    eos_free(sealed, sealed_size);
    eos_free(path, path ? strlen(path) + 1 : 0);
    eos_free(tmp, tmp ? strlen(tmp) + 1 : 0);
    return rc;
}

int eos_apps_code_cache_open(eos_tee *tee, const char *dir, eos_apps_code_cache **out, eos_diag *d)
{
    *out = NULL;
    eos_apps_code_cache *c = eos_calloc(1, sizeof(*c));
    size_t n = strlen(dir) + 1;
    if (!c || !(c->dir = eos_malloc(n))) {
        eos_free(c, c ? sizeof(*c) : 0);
        return eos_diag_set(d, EOS_ENOMEM, "code-cache", -1, "out of memory");
    }
    memcpy(c->dir, dir, n);
    c->dir_len = n - 1;
    if (mkdir(c->dir, 0700) != 0 && errno != EEXIST) {
        int e = errno;
        eos_apps_code_cache_free(c);
        return eos_diag_set(d, EOS_EIO, "code-cache", -1, "cannot create %s: %s", dir, strerror(e));
    }
    c->tee = tee;
    c->hooks.get = cache_get;
    c->hooks.put = cache_put;
    c->hooks.ctx = c;
    *out = c;
    return 0;
}

int eos_apps_code_cache_new(eos_tee *tee, const char *data_dir, eos_apps_code_cache **out,
                            eos_diag *d)
{
    *out = NULL;
    size_t n = strlen(data_dir) + sizeof("/code-cache");
    char *dir = eos_malloc(n);
    if (!dir)
        return eos_diag_set(d, EOS_ENOMEM, "code-cache", -1, "out of memory");
    snprintf(dir, n, "%s/code-cache", data_dir);
    int rc = eos_apps_code_cache_open(tee, dir, out, d);
    eos_free(dir, n);
    return rc;
}

const eos_wasm_code_cache *eos_apps_code_cache_hooks(eos_apps_code_cache *c)
{
    return c ? &c->hooks : NULL;
}

void eos_apps_code_cache_stats(const eos_apps_code_cache *c, uint64_t *hits, uint64_t *misses,
                               uint64_t *rejected)
{
    eos_apps_code_cache *m = (eos_apps_code_cache *)c;
    *hits = c ? atomic_load(&m->hits) : 0;
    *misses = c ? atomic_load(&m->misses) : 0;
    *rejected = c ? atomic_load(&m->rejected) : 0;
}

void eos_apps_code_cache_free(eos_apps_code_cache *c)
{
    if (!c)
        return;
    eos_free(c->dir, c->dir_len + 1);
    eos_free(c, sizeof(*c));
}
