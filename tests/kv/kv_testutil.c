/* The kv test helpers: the TEE double (AES-256-GCM with a fixed key and the
 * label as associated data; layout nonce || ciphertext || tag) and files. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "harness.h"
#include "kv_testutil.h"

typedef struct td {
    uint8_t key[32];
} td;

static int gcm(const td *d, int enc, const char *label, const uint8_t *nonce, const uint8_t *in,
               size_t size, uint8_t *out, uint8_t *tag)
{
    int n = 0, ok = 0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, d->key, nonce, enc) == 1 &&
        EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)label, (int)strlen(label)) == 1 &&
        EVP_CipherUpdate(c, out, &n, in, (int)size) == 1 &&
        (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1) &&
        EVP_CipherFinal_ex(c, out + n, &n) == 1 &&
        (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1))
        ok = 1;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

static int td_seal(eos_tee *t, const char *label, const uint8_t *plain, size_t plain_size,
                   uint8_t **out, size_t *out_size, eos_diag *diag)
{
    size_t n = 12 + plain_size + 16;
    uint8_t *buf = eos_malloc(n);
    if (!buf)
        return EOS_ENOMEM;
    if (RAND_bytes(buf, 12) != 1 ||
        !gcm(t->impl, 1, label, buf, plain, plain_size, buf + 12, buf + 12 + plain_size)) {
        eos_free(buf, n);
        return eos_diag_set(diag, EOS_ETEE, "tee double", -1, "sealing failed");
    }
    *out = buf;
    *out_size = n;
    return 0;
}

static int td_unseal(eos_tee *t, const char *label, const uint8_t *sealed, size_t sealed_size,
                     uint8_t **out, size_t *out_size, eos_diag *diag)
{
    if (sealed_size < 28)
        return eos_diag_set(diag, EOS_ETEE, "tee double", -1, "sealed blob too short");
    size_t n = sealed_size - 28;
    uint8_t *buf = eos_malloc(n);
    if (!buf)
        return EOS_ENOMEM;
    if (!gcm(t->impl, 0, label, sealed, sealed + 12, n, buf,
             (uint8_t *)(uintptr_t)(sealed + 12 + n))) {
        eos_free(buf, n);
        return eos_diag_set(diag, EOS_ETEE, "tee double", -1,
                            "sealed blob fails authentication on this platform");
    }
    *out = buf;
    *out_size = n;
    return 0;
}

static void td_destroy(eos_tee *t)
{
    eos_free(t->impl, sizeof(td));
}

static const eos_tee_ops td_ops = {
    .name = "test-double",
    .seal = td_seal,
    .unseal = td_unseal,
    .destroy = td_destroy,
};

eos_tee *tee_double_new(uint8_t key_byte)
{
    eos_tee *t = NULL;
    td *d = eos_malloc(sizeof *d);
    if (!d)
        return NULL;
    memset(d->key, key_byte, sizeof d->key);
    if (eos_tee_new_custom(&td_ops, d, &t) != 0) {
        eos_free(d, sizeof *d);
        return NULL;
    }
    return t;
}

char *kvt_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/eos-kv-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(buf))
        return NULL;
    return strdup(buf);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void kvt_rmdir(char *dir)
{
    if (!dir)
        return;
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

char *kvt_pg_conninfo(const char *file)
{
    size_t n = 0;
    char *s = (char *)eos_test_read_file(file, &n);
    if (!s || n == 0) {
        free(s);
        fprintf(stderr, "cannot read a connection string from %s\n", file);
        return NULL;
    }
    char *t = realloc(s, n + 1);
    if (!t) {
        free(s);
        return NULL;
    }
    t[n] = 0;
    while (n && (t[n - 1] == '\n' || t[n - 1] == ' '))
        t[--n] = 0;
    return t;
}

void kvt_table_name(const char *dir, char *out, size_t size)
{
    const char *base = strrchr(dir, '/');
    base = base ? base + 1 : dir;
    /* mkdtemp's suffix mixes cases; hex keeps every name distinct. */
    size_t o = (size_t)snprintf(out, size, "t_");
    for (const char *p = base; *p && o + 3 < size; p++)
        o += (size_t)snprintf(out + o, size - o, "%02x", (unsigned char)*p);
}

eos_kv *kvt_open(const char *dir, eos_tee *tee)
{
    eos_kv *kv = NULL;
    eos_diag d;
    eos_diag_init(&d);
    eos_kv_config cfg = {.data_dir = dir, .tee = tee};
    int rc = eos_kv_open(&cfg, &kv, &d);
    if (rc)
        fprintf(stderr, "    open: %s: %s\n", eos_err_name(rc), d.message);
    EOS_CHECK_INT(rc, 0);
    return kv;
}

uint8_t *kvt_raw_record(eos_kv *kv, eos_kv_ns *ns, const char *key, size_t *out_size)
{
    eos_kv_backend *be = eos_kv_backend_of(kv);
    eos_kv_btxn *t = NULL;
    uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    const uint8_t *v = NULL;
    uint8_t *copy = NULL;
    EOS_CHECK_INT(eos_kv_db_key(ns, key, strlen(key), dbkey), 0);
    EOS_CHECK_INT(be->ops->begin(be, 0, &t, NULL), 0);
    if (be->ops->get(t, dbkey, sizeof dbkey, &v, out_size, NULL) == 0 &&
        (copy = malloc(*out_size ? *out_size : 1)) != NULL)
        memcpy(copy, v, *out_size);
    be->ops->abort(t);
    EOS_CHECK(copy != NULL);
    return copy;
}

void kvt_put_raw(eos_kv *kv, eos_kv_ns *ns, const char *key, const uint8_t *raw, size_t size)
{
    eos_kv_backend *be = eos_kv_backend_of(kv);
    eos_kv_btxn *t = NULL;
    uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    EOS_CHECK_INT(eos_kv_db_key(ns, key, strlen(key), dbkey), 0);
    EOS_CHECK_INT(be->ops->begin(be, 1, &t, NULL), 0);
    EOS_CHECK_INT(be->ops->put(t, dbkey, sizeof dbkey, raw, size, NULL), 0);
    EOS_CHECK_INT(be->ops->commit(t, NULL), 0);
}
