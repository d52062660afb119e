/* Key derivation (HKDF-SHA256), name hashing (HMAC-SHA256) and record
 * sealing (AES-256-GCM) for the store. The hot path reuses per-namespace
 * OpenSSL contexts whose keys are expanded once, taken from a free list. */
#include <stdatomic.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "internal.h"

static const char hkdf_salt[] = "enclave-os kv v1";

/* Bumped in a forked child so every slot refills its nonce buffer: a child
 * must never draw the nonces its parent draws from the same copied buffer. */
static atomic_uint fork_generation;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    atomic_fetch_add(&fork_generation, 1);
}

static void register_fork(void)
{
    pthread_atfork(NULL, NULL, on_fork_child);
}

void eos_kv__crypto_init(void)
{
    pthread_once(&fork_once, register_fork);
}

static int crypto_fail(eos_diag *diag, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "no detail";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return eos_diag_set(diag, EOS_ECRYPTO, "kv crypto", -1, "%s failed in OpenSSL (%s)", what, buf);
}

int eos_kv__hkdf(const uint8_t *ikm, size_t ikm_size, const uint8_t *info, size_t info_size,
                 uint8_t *out, size_t out_size, eos_diag *diag)
{
    int rc = 0;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (!ctx) {
        rc = crypto_fail(diag, "creating the HKDF context");
        goto out;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_size),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)hkdf_salt,
                                          sizeof hkdf_salt - 1),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_size),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_KDF_derive(ctx, out, out_size, params) != 1)
        rc = crypto_fail(diag, "deriving a key with HKDF-SHA256");
out:
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rc;
}

static int mac_init(EVP_MAC_CTX *mac, const uint8_t *key)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_init(mac, key, EOS_KV__KEY_SIZE, params);
}

int eos_kv__hmac(eos_kv *kv, const uint8_t key[EOS_KV__KEY_SIZE], uint8_t tag, const uint8_t *data,
                 size_t size, uint8_t out[EOS_KV__HASH_SIZE], eos_diag *diag)
{
    int rc = 0;
    size_t n = 0;
    EVP_MAC_CTX *mac = EVP_MAC_CTX_new(kv->hmac);
    if (!mac || mac_init(mac, key) != 1 || EVP_MAC_update(mac, &tag, 1) != 1 ||
        EVP_MAC_update(mac, data, size) != 1 ||
        EVP_MAC_final(mac, out, &n, EOS_KV__HASH_SIZE) != 1 || n != EOS_KV__HASH_SIZE)
        rc = crypto_fail(diag, "computing HMAC-SHA256");
    EVP_MAC_CTX_free(mac);
    return rc;
}

void eos_kv__slot_free(eos_kv__slot *s)
{
    if (!s)
        return;
    EVP_CIPHER_CTX_free(s->enc);
    EVP_CIPHER_CTX_free(s->dec);
    EVP_MD_CTX_free(s->hmac_inner);
    EVP_MD_CTX_free(s->hmac_outer);
    EVP_MD_CTX_free(s->hmac_work);
    eos_free(s, sizeof *s);
}

/* Absorbs key ^ pad into a fresh SHA-256 state (one 64-byte block). */
static int hmac_pad(EVP_MD_CTX *md, const EVP_MD *sha256, const uint8_t *key, uint8_t pad)
{
    uint8_t block[64];
    memset(block, pad, sizeof block);
    for (size_t i = 0; i < EOS_KV__KEY_SIZE; i++)
        block[i] ^= key[i];
    int ok =
        EVP_DigestInit_ex(md, sha256, NULL) == 1 && EVP_DigestUpdate(md, block, sizeof block) == 1;
    OPENSSL_cleanse(block, sizeof block);
    return ok;
}

static int slot_new(eos_kv_ns *ns, eos_kv__slot **out, eos_diag *diag)
{
    int rc = 0;
    eos_kv__slot *s = eos_calloc(1, sizeof *s);
    if (!s)
        return eos_diag_set(diag, EOS_ENOMEM, "kv crypto", -1,
                            "out of memory allocating crypto contexts");
    s->nonces_used = sizeof s->nonces; /* empty: filled on first use */
    s->enc = EVP_CIPHER_CTX_new();
    s->dec = EVP_CIPHER_CTX_new();
    s->hmac_inner = EVP_MD_CTX_new();
    s->hmac_outer = EVP_MD_CTX_new();
    s->hmac_work = EVP_MD_CTX_new();
    if (!s->enc || !s->dec || !s->hmac_inner || !s->hmac_outer || !s->hmac_work ||
        EVP_EncryptInit_ex(s->enc, ns->kv->aes, NULL, ns->value_key, NULL) != 1 ||
        EVP_DecryptInit_ex(s->dec, ns->kv->aes, NULL, ns->value_key, NULL) != 1 ||
        !hmac_pad(s->hmac_inner, ns->kv->sha256, ns->name_key, 0x36) ||
        !hmac_pad(s->hmac_outer, ns->kv->sha256, ns->name_key, 0x5c)) {
        rc = crypto_fail(diag, "setting up AES-256-GCM and HMAC contexts");
        goto out;
    }
    *out = s;
    s = NULL;
out:
    eos_kv__slot_free(s);
    return rc;
}

int eos_kv__slot_get(eos_kv_ns *ns, eos_kv__slot **out, eos_diag *diag)
{
    pthread_mutex_lock(&ns->lock);
    eos_kv__slot *s = ns->free_slots;
    if (s)
        ns->free_slots = s->next;
    pthread_mutex_unlock(&ns->lock);
    if (s) {
        *out = s;
        return 0;
    }
    return slot_new(ns, out, diag);
}

void eos_kv__slot_put(eos_kv_ns *ns, eos_kv__slot *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&ns->lock);
    s->next = ns->free_slots;
    ns->free_slots = s;
    pthread_mutex_unlock(&ns->lock);
}

int eos_kv__name_hmac(eos_kv__slot *s, int tag, const void *data, size_t size,
                      uint8_t out[EOS_KV__HASH_SIZE], eos_diag *diag)
{
    uint8_t inner[EOS_KV__HASH_SIZE], t = (uint8_t)tag;
    unsigned int n = 0;
    /* HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)), from the saved states. */
    if (EVP_MD_CTX_copy_ex(s->hmac_work, s->hmac_inner) != 1 ||
        (tag >= 0 && EVP_DigestUpdate(s->hmac_work, &t, 1) != 1) ||
        EVP_DigestUpdate(s->hmac_work, data, size) != 1 ||
        EVP_DigestFinal_ex(s->hmac_work, inner, &n) != 1 ||
        EVP_MD_CTX_copy_ex(s->hmac_work, s->hmac_outer) != 1 ||
        EVP_DigestUpdate(s->hmac_work, inner, sizeof inner) != 1 ||
        EVP_DigestFinal_ex(s->hmac_work, out, &n) != 1)
        return crypto_fail(diag, "hashing a key name with HMAC-SHA256");
    return 0;
}

int eos_kv__dbkey(eos_kv_ns *ns, eos_kv__slot *s, const char *key, size_t key_size,
                  uint8_t out[EOS_KV_DBKEY_SIZE], eos_diag *diag)
{
    memcpy(out, ns->prefix, EOS_KV__PREFIX_SIZE);
    return eos_kv__name_hmac(s, -1, key, key_size, out + EOS_KV__PREFIX_SIZE, diag);
}

/* The associated data of both GCM operations: a domain byte, the envelope
 * header and the backend key (which names namespace and key). */
#define AAD_SIZE (1 + EOS_KV__ENV_HEADER_SIZE + EOS_KV_DBKEY_SIZE)

static void make_aad(uint8_t *aad, uint8_t domain, const uint8_t *header, const uint8_t *dbkey)
{
    aad[0] = domain;
    memcpy(aad + 1, header, EOS_KV__ENV_HEADER_SIZE);
    memcpy(aad + 1 + EOS_KV__ENV_HEADER_SIZE, dbkey, EOS_KV_DBKEY_SIZE);
}

static int gcm_encrypt(EVP_CIPHER_CTX *c, const uint8_t *nonce, const uint8_t *aad,
                       const uint8_t *in, size_t size, uint8_t *out, uint8_t *tag)
{
    int n = 0;
    if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, nonce) != 1 ||
        EVP_EncryptUpdate(c, NULL, &n, aad, AAD_SIZE) != 1)
        return -1;
    if (size && EVP_EncryptUpdate(c, out, &n, in, (int)size) != 1)
        return -1;
    /* Parameters directly rather than through EVP_CIPHER_CTX_ctrl, which
     * only translates to them at a cost on every call. */
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, EOS_KV__TAG_SIZE),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_EncryptFinal_ex(c, out + size, &n) != 1 || EVP_CIPHER_CTX_get_params(c, params) != 1)
        return -1;
    return 0;
}

/* Returns 1 when authentic, 0 when the tag does not match, -1 on failure. */
static int gcm_decrypt(EVP_CIPHER_CTX *c, const uint8_t *nonce, const uint8_t *aad,
                       const uint8_t *in, size_t size, const uint8_t *tag, uint8_t *out)
{
    int n = 0;
    if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) != 1 ||
        EVP_DecryptUpdate(c, NULL, &n, aad, AAD_SIZE) != 1)
        return -1;
    if (size && EVP_DecryptUpdate(c, out, &n, in, (int)size) != 1)
        return -1;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, (void *)tag,
                                          EOS_KV__TAG_SIZE),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_CIPHER_CTX_set_params(c, params) != 1)
        return -1;
    return EVP_DecryptFinal_ex(c, out + size, &n) == 1 ? 1 : 0;
}

int eos_kv__seal(eos_kv_ns *ns, eos_kv__slot *s, const uint8_t *dbkey, const char *key,
                 size_t key_size, const uint8_t *value, size_t value_size, uint8_t *buf,
                 size_t buf_size, uint8_t **out, size_t *out_size, eos_diag *diag)
{
    (void)ns;
    int rc = 0;
    uint8_t nonces[2 * EOS_KV__NONCE_SIZE];
    uint8_t aad[AAD_SIZE];
    size_t size = eos_kv__envelope_size(key_size, value_size);
    uint8_t *env = buf;
    if (size == 0)
        return eos_diag_set(diag, EOS_ETOOBIG, "kv", -1,
                            "a %zu-byte value is above the %u-byte limit", value_size,
                            EOS_KV_MAX_VALUE_SIZE);
    if (size > buf_size) {
        env = eos_malloc(size);
        if (!env)
            return eos_diag_set(diag, EOS_ENOMEM, "kv", -1,
                                "out of memory sealing a %zu-byte value", value_size);
    }
    /* Fresh random nonces for every write: a key never sees a nonce twice
     * (2^-96 per pair), whatever the host replays. */
    unsigned gen = atomic_load(&fork_generation);
    if (s->nonces_used + sizeof nonces > sizeof s->nonces || s->fork_gen != gen) {
        if (RAND_bytes(s->nonces, sizeof s->nonces) != 1) {
            rc = crypto_fail(diag, "drawing random nonces");
            goto out;
        }
        s->nonces_used = 0;
        s->fork_gen = gen;
    }
    memcpy(nonces, s->nonces + s->nonces_used, sizeof nonces);
    /* Never hand out the same bytes twice, even if this write fails. */
    memset(s->nonces + s->nonces_used, 0, sizeof nonces);
    s->nonces_used += sizeof nonces;
    eos_kv__envelope_header(env, key_size, nonces);
    uint8_t *name_ct = env + EOS_KV__ENV_HEADER_SIZE;
    uint8_t *value_ct = name_ct + key_size + EOS_KV__TAG_SIZE;
    make_aad(aad, 'n', env, dbkey);
    if (gcm_encrypt(s->enc, nonces, aad, (const uint8_t *)key, key_size, name_ct,
                    name_ct + key_size) != 0) {
        rc = crypto_fail(diag, "encrypting a key name with AES-256-GCM");
        goto out;
    }
    aad[0] = 'v';
    if (gcm_encrypt(s->enc, nonces + EOS_KV__NONCE_SIZE, aad, value, value_size, value_ct,
                    value_ct + value_size) != 0) {
        rc = crypto_fail(diag, "encrypting a value with AES-256-GCM");
        goto out;
    }
    *out = env;
    *out_size = size;
    env = buf;
out:
    if (env != buf)
        eos_free(env, size);
    return rc;
}

static int open_part(eos_kv__slot *s, uint8_t domain, const uint8_t *dbkey,
                     const eos_kv__envelope *env, const uint8_t *nonce, const uint8_t *ct,
                     size_t size, const uint8_t *tag, uint8_t *out, eos_diag *diag)
{
    uint8_t aad[AAD_SIZE];
    make_aad(aad, domain, env->header, dbkey);
    int ok = gcm_decrypt(s->dec, nonce, aad, ct, size, tag, out);
    if (ok < 0)
        return crypto_fail(diag, "decrypting a record with AES-256-GCM");
    if (ok == 0) {
        ERR_clear_error();
        /* Never hand back plaintext that failed authentication. */
        OPENSSL_cleanse(out, size);
        return eos_diag_set(diag, EOS_ECORRUPT, "kv record", -1,
                            "a stored %s failed authentication: the record was altered, "
                            "truncated, or moved from another key or namespace",
                            domain == 'n' ? "key name" : "value");
    }
    return 0;
}

int eos_kv__open_value(eos_kv__slot *s, const uint8_t *dbkey, const eos_kv__envelope *env,
                       uint8_t *out, eos_diag *diag)
{
    return open_part(s, 'v', dbkey, env, env->value_nonce, env->value_ct, env->value_size,
                     env->value_tag, out, diag);
}

int eos_kv__open_name(eos_kv__slot *s, const uint8_t *dbkey, const eos_kv__envelope *env,
                      uint8_t *out, eos_diag *diag)
{
    return open_part(s, 'n', dbkey, env, env->name_nonce, env->name_ct, env->name_size,
                     env->name_tag, out, diag);
}
