/* File helpers for device files (configfs attributes, Gramine's pseudo
 * files) and the one AES-256-GCM sealing format every backend shares:
 * "EOSSEAL1" | 12-byte nonce | ciphertext | 16-byte tag. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "internal.h"

char *eos_tee__path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = eos_malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

int eos_tee__read_file(const char *path, size_t max_size, uint8_t **out, size_t *out_size,
                       eos_diag *diag)
{
    int rc = 0;
    size_t cap = 4096, len = 0;
    uint8_t *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = eos_diag_set(diag, errno == ENOENT ? EOS_ENOTFOUND : EOS_ESYS, "read", -1,
                          "cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    buf = eos_malloc(cap);
    if (!buf) {
        rc = EOS_ENOMEM;
        goto out;
    }
    for (;;) {
        if (len == cap) {
            if (cap >= max_size) {
                rc = eos_diag_set(diag, EOS_ETOOBIG, "read", -1, "%s is larger than %zu bytes",
                                  path, max_size);
                goto out;
            }
            uint8_t *nb = eos_realloc(buf, cap, cap * 2);
            if (!nb) {
                rc = EOS_ENOMEM;
                goto out;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = eos_diag_set(diag, EOS_ESYS, "read", -1, "cannot read %s: %s", path,
                              strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len == 0) {
        *out = NULL;
        *out_size = 0;
        goto out;
    }
    uint8_t *nb = eos_realloc(buf, cap, len);
    if (!nb) {
        rc = EOS_ENOMEM;
        goto out;
    }
    *out = nb;
    *out_size = len;
    buf = NULL;
out:
    if (buf)
        eos_free(buf, cap);
    if (fd >= 0)
        close(fd);
    return rc;
}

int eos_tee__write_file(const char *path, const uint8_t *data, size_t size, eos_diag *diag)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return eos_diag_set(diag, EOS_ESYS, "write", -1, "cannot open %s for writing: %s", path,
                            strerror(errno));
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = errno;
            close(fd);
            return eos_diag_set(diag, EOS_ESYS, "write", -1, "cannot write %s: %s", path,
                                strerror(e));
        }
        done += (size_t)n;
    }
    if (close(fd) != 0)
        return eos_diag_set(diag, EOS_ESYS, "write", -1, "cannot write %s: %s", path,
                            strerror(errno));
    return 0;
}

/* The AEAD key is HMAC-SHA256(raw key, fixed context), so backends with
 * 16-byte platform keys (Gramine) and 32-byte keys share one format. */
static int derive_key(const uint8_t *raw, size_t raw_size, uint8_t key[32])
{
    static const char ctx[] = "enclave-os seal key v1";
    unsigned int n = 32;
    if (!HMAC(EVP_sha256(), raw, (int)raw_size, (const uint8_t *)ctx, sizeof ctx - 1, key, &n))
        return EOS_ECRYPTO;
    return 0;
}

static int set_aad(EVP_CIPHER_CTX *c, const char *backend, const char *label)
{
    static const char ctx[] = "enclave-os/seal/v1";
    int n;
    /* Each part is NUL-terminated so "ab"+"c" and "a"+"bc" differ. */
    if (!EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)ctx, sizeof ctx) ||
        !EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)backend, (int)strlen(backend) + 1) ||
        !EVP_CipherUpdate(c, NULL, &n, (const uint8_t *)label, (int)strlen(label) + 1))
        return EOS_ECRYPTO;
    return 0;
}

int eos_tee__seal_with_key(const uint8_t *raw_key, size_t raw_key_size, const char *backend,
                           const char *label, const uint8_t *plain, size_t plain_size,
                           uint8_t **out, size_t *out_size, eos_diag *diag)
{
    int rc = 0, n;
    uint8_t key[32];
    uint8_t *buf = NULL;
    size_t size = plain_size + EOS_TEE__SEAL_OVERHEAD;
    EVP_CIPHER_CTX *c = NULL;
    if (plain_size > (1u << 30))
        return eos_diag_set(diag, EOS_ETOOBIG, "seal", -1, "secret too large to seal");
    if ((rc = derive_key(raw_key, raw_key_size, key)) != 0)
        goto out;
    buf = eos_malloc(size);
    c = EVP_CIPHER_CTX_new();
    if (!buf || !c) {
        rc = EOS_ENOMEM;
        goto out;
    }
    memcpy(buf, EOS_TEE__SEAL_MAGIC, 8);
    if (RAND_bytes(buf + 8, 12) != 1 ||
        !EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, buf + 8) ||
        set_aad(c, backend, label) != 0 ||
        (plain_size && !EVP_EncryptUpdate(c, buf + 20, &n, plain, (int)plain_size)) ||
        !EVP_EncryptFinal_ex(c, buf + 20 + plain_size, &n) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, buf + 20 + plain_size)) {
        rc = eos_diag_set(diag, EOS_ECRYPTO, "seal", -1, "AES-256-GCM sealing failed");
        goto out;
    }
    *out = buf;
    *out_size = size;
    buf = NULL;
out:
    EVP_CIPHER_CTX_free(c);
    OPENSSL_cleanse(key, sizeof key);
    eos_free(buf, size);
    return rc;
}

int eos_tee__unseal_with_key(const uint8_t *raw_key, size_t raw_key_size, const char *backend,
                             const char *label, const uint8_t *sealed, size_t sealed_size,
                             uint8_t **out, size_t *out_size, eos_diag *diag)
{
    int rc = 0, n;
    uint8_t key[32], tag[16];
    uint8_t *buf = NULL;
    size_t size = 0;
    EVP_CIPHER_CTX *c = NULL;
    if (sealed_size < EOS_TEE__SEAL_OVERHEAD || memcmp(sealed, EOS_TEE__SEAL_MAGIC, 8) != 0)
        return eos_diag_set(diag, EOS_EMALFORMED, "unseal", 0,
                            "sealed data is truncated or not in the enclave-os sealing format");
    size = sealed_size - EOS_TEE__SEAL_OVERHEAD;
    if ((rc = derive_key(raw_key, raw_key_size, key)) != 0)
        goto out;
    buf = eos_malloc(size ? size : 1);
    c = EVP_CIPHER_CTX_new();
    if (!buf || !c) {
        rc = EOS_ENOMEM;
        goto out;
    }
    memcpy(tag, sealed + sealed_size - 16, 16);
    if (!EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, sealed + 8) ||
        set_aad(c, backend, label) != 0 ||
        (size && !EVP_DecryptUpdate(c, buf, &n, sealed + 20, (int)size)) ||
        !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) ||
        EVP_DecryptFinal_ex(c, buf + size, &n) <= 0) {
        rc = eos_diag_set(diag, EOS_ECORRUPT, "unseal", -1,
                          "sealed data for \"%s\" does not authenticate: it was sealed by "
                          "another platform or enclave, under another label, or was modified",
                          label);
        goto out;
    }
    if (size == 0) {
        /* An empty secret unseals to (NULL, 0). */
        eos_free(buf, 1);
        buf = NULL;
        *out = NULL;
        *out_size = 0;
        goto out;
    }
    *out = buf;
    *out_size = size;
    buf = NULL;
out:
    EVP_CIPHER_CTX_free(c);
    OPENSSL_cleanse(key, sizeof key);
    if (buf) {
        OPENSSL_cleanse(buf, size);
        eos_free(buf, size ? size : 1);
    }
    return rc;
}
