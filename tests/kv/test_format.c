/* The on-disk format follows docs/storage.md: this test re-derives every key
 * from the unsealed master key with one-shot OpenSSL calls, finds the record
 * where the document says it is, and decrypts it by hand. It also checks
 * the envelope parser's edge cases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "../../src/kv/internal.h"
#include "eos/kv.h"
#include "harness.h"
#include "kv_testutil.h"

static void hkdf(const uint8_t *master, const char *info, size_t info_size, uint8_t *out,
                 size_t out_size)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    size_t n = out_size;
    EOS_CHECK(c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) == 1 &&
              EVP_PKEY_CTX_set1_hkdf_salt(c, (const uint8_t *)"enclave-os kv v1", 16) == 1 &&
              EVP_PKEY_CTX_set1_hkdf_key(c, master, 32) == 1 &&
              EVP_PKEY_CTX_add1_hkdf_info(c, (const uint8_t *)info, (int)info_size) == 1 &&
              EVP_PKEY_derive(c, out, &n) == 1);
    EVP_PKEY_CTX_free(c);
}

static void hmac(const uint8_t *key, uint8_t tag, const char *data, size_t size, uint8_t *out)
{
    uint8_t *buf = malloc(size + 2);
    size_t off = 0;
    unsigned int n = 0;
    if (tag)
        buf[off++] = tag;
    memcpy(buf + off, data, size);
    HMAC(EVP_sha256(), key, 32, buf, off + size, out, &n);
    free(buf);
}

static int gcm_open(const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_size,
                    const uint8_t *ct, size_t size, const uint8_t *tag, uint8_t *out)
{
    int n = 0, ok;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
         EVP_DecryptUpdate(c, NULL, &n, aad, (int)aad_size) == 1 &&
         EVP_DecryptUpdate(c, out, &n, ct, (int)size) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) == 1 &&
         EVP_DecryptFinal_ex(c, out + n, &n) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok;
}

static void test_format_by_hand(void)
{
    char *dir = kvt_mkdtemp();
    eos_tee *tee = tee_double_new(0x55);
    eos_kv_config cfg = {.data_dir = dir, .tee = tee};
    eos_kv *kv = NULL;
    eos_kv_ns *ns = NULL;
    const char *nsname = "app:shop/kv:cart", *key = "item/42", *value = "two apples";
    EOS_CHECK_INT(eos_kv_open(&cfg, &kv, NULL), 0);
    EOS_CHECK_INT(eos_kv_ns_open(kv, nsname, &ns, NULL), 0);
    EOS_CHECK_INT(eos_kv_set(ns, key, strlen(key), (const uint8_t *)value, strlen(value), NULL), 0);

    /* The master key, unsealed as the TEE would. */
    char path[4200];
    size_t sealed_size = 0, master_size = 0;
    uint8_t *master = NULL;
    snprintf(path, sizeof path, "%s/master.sealed", dir);
    uint8_t *sealed = eos_test_read_file(path, &sealed_size);
    EOS_CHECK_INT(eos_tee_unseal(tee, "enclave-os kv master key v1", sealed, sealed_size, &master,
                                 &master_size, NULL),
                  0);
    EOS_CHECK_INT(master_size, 32);

    /* Keys and the backend key, as documented. */
    uint8_t ids[32], keys[64], h[32], dbkey[64], want_dbkey[64];
    char info[64];
    hkdf(master, "ids", 3, ids, 32);
    memcpy(info, "ns", 3);
    memcpy(info + 3, nsname, strlen(nsname));
    hkdf(master, info, 3 + strlen(nsname), keys, 64);
    hmac(ids, 'r', "app:shop", 8, h);
    memcpy(dbkey, h, 16);
    hmac(ids, 'n', nsname, strlen(nsname), h);
    memcpy(dbkey + 16, h, 16);
    hmac(keys, 0, key, strlen(key), dbkey + 32);
    EOS_CHECK_INT(eos_kv_db_key(ns, key, strlen(key), want_dbkey), 0);
    EOS_CHECK_MEM(dbkey, 64, want_dbkey, 64);

    /* The record, decrypted by hand. */
    eos_kv_backend *be = eos_kv_backend_of(kv);
    eos_kv_btxn *t = NULL;
    const uint8_t *r = NULL;
    size_t rs = 0;
    EOS_CHECK_INT(be->ops->begin(be, 0, &t, NULL), 0);
    EOS_CHECK_INT(be->ops->get(t, dbkey, 64, &r, &rs, NULL), 0);
    size_t n = strlen(key), m = strlen(value);
    EOS_CHECK_INT(rs, 28 + n + 16 + m + 16);
    if (rs == 28 + n + 16 + m + 16) {
        uint8_t aad[1 + 28 + 64], out[64];
        EOS_CHECK_INT(r[0], 1);
        EOS_CHECK_INT(r[1], 0);
        EOS_CHECK_INT(r[2] | (r[3] << 8), n);
        aad[0] = 'n';
        memcpy(aad + 1, r, 28);
        memcpy(aad + 29, dbkey, 64);
        EOS_CHECK(gcm_open(keys + 32, r + 4, aad, sizeof aad, r + 28, n, r + 28 + n, out));
        EOS_CHECK_MEM(out, n, key, n);
        aad[0] = 'v';
        EOS_CHECK(gcm_open(keys + 32, r + 16, aad, sizeof aad, r + 44 + n, m, r + rs - 16, out));
        EOS_CHECK_MEM(out, m, value, m);
    }
    /* The directory index entry of "item/". */
    uint8_t entry[80];
    memcpy(entry, dbkey, 16);
    hmac(ids, 'i', nsname, strlen(nsname), h);
    memcpy(entry + 16, h, 16);
    hmac(keys, 'd', "item/", 5, h);
    memcpy(entry + 32, h, 16);
    memcpy(entry + 48, dbkey + 32, 32);
    EOS_CHECK_INT(be->ops->get(t, entry, sizeof entry, &r, &rs, NULL), 0);
    EOS_CHECK_INT(rs, 0);
    be->ops->abort(t);

    eos_free(master, master_size);
    free(sealed);
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
    eos_tee_free(tee);
    kvt_rmdir(dir);
}

static void test_envelope_parser(void)
{
    uint8_t buf[200];
    eos_kv__envelope env;
    memset(buf, 0, sizeof buf);
    buf[0] = 1;
    buf[2] = 5;
    /* Smallest valid: 5-byte name, empty value. */
    EOS_CHECK_INT(eos_kv__envelope_parse(buf, 60 + 5, &env, NULL), 0);
    EOS_CHECK_INT(env.name_size, 5);
    EOS_CHECK_INT(env.value_size, 0);
    EOS_CHECK(env.value_tag == buf + 65 - 16);
    EOS_CHECK_INT(eos_kv__envelope_parse(buf, 60 + 5 + 7, &env, NULL), 0);
    EOS_CHECK_INT(env.value_size, 7);
    EOS_CHECK_INT(eos_kv__envelope_parse(buf, 64, &env, NULL), EOS_ECORRUPT);
    EOS_CHECK_INT(eos_kv__envelope_parse(buf, 0, &env, NULL), EOS_ECORRUPT);
    buf[0] = 2;
    EOS_CHECK_INT(eos_kv__envelope_parse(buf, 65, &env, NULL), EOS_ECORRUPT);
    buf[0] = 1;
    buf[1] = 1;
    EOS_CHECK_INT(eos_kv__envelope_parse(buf, 65, &env, NULL), EOS_ECORRUPT);
    buf[1] = 0;
    buf[2] = 0;
    EOS_CHECK_INT(eos_kv__envelope_parse(buf, 65, &env, NULL), EOS_ECORRUPT); /* empty name */
    buf[2] = 0x01;
    buf[3] = 0x10; /* 4097 */
    EOS_CHECK_INT(eos_kv__envelope_parse(buf, sizeof buf, &env, NULL), EOS_ECORRUPT);
    EOS_CHECK_INT(eos_kv__envelope_size(EOS_KV_MAX_NAME_SIZE + 1, 0), 0);
    EOS_CHECK_INT(eos_kv__envelope_size(1, (size_t)EOS_KV_MAX_VALUE_SIZE + 1), 0);
    EOS_CHECK_INT(eos_kv__envelope_size(3, 4), 60 + 7);
}

int main(void)
{
    eos_log_set_level(EOS_LOG_WARN);
    EOS_RUN(test_format_by_hand);
    EOS_RUN(test_envelope_parser);
    return eos_test_finish();
}
