/* The enclave CA: generated inside the TEE on first start (or the operator's
 * intermediate given once with --ca-cert/--ca-key) and kept sealed in the
 * data directory as [u32 LE PEM size][certificates, PEM][private key, DER]. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "internal.h"

#define CA_FILE  "ratls-ca.sealed"
#define CA_LABEL "ratls.ca"

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = eos_malloc(a + b + 2);
    if (p)
        snprintf(p, a + b + 2, "%s/%s", dir, name);
    return p;
}

static int read_all(const char *path, uint8_t **out, size_t *out_size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? EOS_ENOTFOUND : EOS_ESYS;
    int rc = 0;
    long n = (fseek(f, 0, SEEK_END) == 0) ? ftell(f) : -1;
    if (n < 0 || n > (1 << 24) || fseek(f, 0, SEEK_SET) != 0) {
        rc = EOS_ESYS;
        goto out;
    }
    *out = eos_malloc(n ? (size_t)n : 1);
    if (!*out) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if (fread(*out, 1, (size_t)n, f) != (size_t)n) {
        eos_free(*out, n ? (size_t)n : 1);
        rc = EOS_ESYS;
        goto out;
    }
    *out_size = n ? (size_t)n : 1;
out:
    fclose(f);
    return rc;
}

/* Writes through a temporary file and rename, so a crash never leaves half a CA. */
static int write_atomic(const char *path, const uint8_t *data, size_t size, eos_diag *diag)
{
    size_t n = strlen(path) + 8;
    char *tmp = eos_malloc(n);
    if (!tmp)
        return EOS_ENOMEM;
    snprintf(tmp, n, "%s.tmp", path);
    int rc = 0;
    /* Sealed, but still nobody else's business: owner-only permissions. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f || fwrite(data, 1, size, f) != size || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        rc = eos_diag_set(diag, EOS_ESYS, "ca", -1, "cannot write %s: %s", tmp, strerror(errno));
        if (f)
            fclose(f);
        else if (fd >= 0)
            close(fd);
        goto out;
    }
    fclose(f);
    if (rename(tmp, path) != 0)
        rc = eos_diag_set(diag, EOS_ESYS, "ca", -1, "cannot rename %s: %s", tmp, strerror(errno));
out:
    eos_free(tmp, n);
    return rc;
}

static int generate_ca(eos_tee *tee, X509 **out_cert, EVP_PKEY **out_key)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509V3_CTX ctx;
    char cn[64];
    uint8_t serial[16];
    BIGNUM *bn = NULL;
    int ok = 0;
    snprintf(cn, sizeof cn, "enclave-os enclave CA (%s)", eos_tee_name(tee));
    if (!key || !x || RAND_bytes(serial, sizeof serial) != 1)
        goto out;
    serial[0] = (serial[0] & 0x7f) | 1;
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
        !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                                    (const uint8_t *)cn, -1, -1, 0) ||
        !X509_set_issuer_name(x, X509_get_subject_name(x)) ||
        !ASN1_TIME_set(X509_getm_notBefore(x), time(NULL) - 3600) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), time(NULL) + 10L * 366 * 86400) ||
        !X509_set_pubkey(x, key))
        goto out;
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    static const struct {
        int nid;
        const char *value;
    } exts[] = {
        {NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
        {NID_key_usage, "critical,keyCertSign,cRLSign"},
        {NID_subject_key_identifier, "hash"},
    };
    for (size_t i = 0; i < EOS_ARRAY_LEN(exts); i++) {
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid, exts[i].value);
        int added = e && X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
        if (!added)
            goto out;
    }
    if (!X509_sign(x, key, EVP_sha256()))
        goto out;
    *out_cert = x;
    *out_key = key;
    x = NULL;
    key = NULL;
    ok = 1;
out:
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(key);
    return ok ? 0 : EOS_ECRYPTO;
}

/* Serialises certs (PEM) and key (DER) into the sealed blob layout. */
static int encode(STACK_OF(X509) * certs, EVP_PKEY *key, uint8_t **out, size_t *out_size)
{
    BIO *b = BIO_new(BIO_s_mem());
    uint8_t *kd = NULL;
    int kn, rc = EOS_ECRYPTO;
    for (int i = 0; b && i < sk_X509_num(certs); i++)
        if (!PEM_write_bio_X509(b, sk_X509_value(certs, i)))
            goto out;
    if (!b || (kn = i2d_PrivateKey(key, &kd)) <= 0)
        goto out;
    char *pem;
    long pn = BIO_get_mem_data(b, &pem);
    *out_size = 4 + (size_t)pn + (size_t)kn;
    *out = eos_malloc(*out_size);
    if (!*out) {
        rc = EOS_ENOMEM;
        goto out;
    }
    eos_ratls__put_le32(*out, (uint32_t)pn);
    memcpy(*out + 4, pem, (size_t)pn);
    memcpy(*out + 4 + pn, kd, (size_t)kn);
    rc = 0;
out:
    if (kd)
        OPENSSL_clear_free(kd, (size_t)kn);
    BIO_free(b);
    return rc;
}

static int decode(const uint8_t *d, size_t size, STACK_OF(X509) * *out_certs, EVP_PKEY **out_key)
{
    if (size < 4 || eos_ratls__le32(d) > size - 4)
        return EOS_ECORRUPT;
    size_t pn = eos_ratls__le32(d);
    STACK_OF(X509) *certs = sk_X509_new_null();
    BIO *b = BIO_new_mem_buf(d + 4, (int)pn);
    X509 *x;
    const uint8_t *kp = d + 4 + pn;
    while (b && certs && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        sk_X509_push(certs, x);
    ERR_clear_error();
    EVP_PKEY *key = d2i_AutoPrivateKey(NULL, &kp, (long)(size - 4 - pn));
    BIO_free(b);
    if (!certs || sk_X509_num(certs) == 0 || !key ||
        !X509_check_private_key(sk_X509_value(certs, 0), key)) {
        sk_X509_pop_free(certs, X509_free);
        EVP_PKEY_free(key);
        return EOS_ECORRUPT;
    }
    *out_certs = certs;
    *out_key = key;
    return 0;
}

static int load_operator(const eos_ratls_server_options *o, STACK_OF(X509) * *out_certs,
                         EVP_PKEY **out_key, eos_diag *diag)
{
    BIO *cb = BIO_new_file(o->ca_cert_file, "r"), *kb = BIO_new_file(o->ca_key_file, "r");
    STACK_OF(X509) *certs = sk_X509_new_null();
    EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    X509 *x;
    int rc = 0;
    while (cb && certs && (x = PEM_read_bio_X509(cb, NULL, NULL, NULL)) != NULL)
        sk_X509_push(certs, x);
    ERR_clear_error();
    if (!certs || sk_X509_num(certs) == 0 || !key) {
        rc = eos_diag_set(diag, EOS_EINVAL, "ca", -1,
                          "cannot read the operator CA: --ca-cert %s must hold PEM "
                          "certificates and --ca-key %s a PEM private key",
                          o->ca_cert_file, o->ca_key_file);
        goto out;
    }
    if (!X509_check_private_key(sk_X509_value(certs, 0), key) ||
        X509_check_ca(sk_X509_value(certs, 0)) == 0) {
        rc = eos_diag_set(diag, EOS_EINVAL, "ca", -1,
                          "--ca-key does not match --ca-cert, or the certificate is not a CA");
        goto out;
    }
    *out_certs = certs;
    *out_key = key;
    certs = NULL;
    key = NULL;
out:
    sk_X509_pop_free(certs, X509_free);
    EVP_PKEY_free(key);
    BIO_free(cb);
    BIO_free(kb);
    return rc;
}

int eos_ratls__encode_ca(STACK_OF(X509) * certs, EVP_PKEY *key, uint8_t **out, size_t *out_size)
{
    return encode(certs, key, out, out_size);
}

int eos_ratls__load_ca(eos_tee *tee, const eos_ratls_server_options *o, X509 **out_cert,
                       EVP_PKEY **out_key, STACK_OF(X509) * *out_chain, eos_diag *diag)
{
    int rc = 0;
    char *path = join(o->data_dir, CA_FILE);
    uint8_t *blob = NULL, *plain = NULL;
    size_t blob_size = 0, plain_size = 0;
    STACK_OF(X509) *certs = NULL;
    EVP_PKEY *key = NULL;
    if (!path)
        return EOS_ENOMEM;
    if (o->ca_cert_file || o->ca_key_file) {
        if (!o->ca_cert_file || !o->ca_key_file) {
            rc = eos_diag_set(diag, EOS_EINVAL, "ca", -1, "--ca-cert and --ca-key go together");
            goto out;
        }
        if ((rc = load_operator(o, &certs, &key, diag)) != 0)
            goto out;
    } else if (o->ca_blob) {
        /* A CA handed over by the cluster: sealed here like an operator's. */
        if ((rc = decode(o->ca_blob, o->ca_blob_size, &certs, &key)) != 0) {
            rc = eos_diag_set(diag, rc, "ca", -1, "the CA handed over does not hold a CA");
            goto out;
        }
        EOS_INFO("ratls", "took the cluster's CA, handed over on joining; sealed in %s", path);
    } else if ((rc = read_all(path, &blob, &blob_size)) == 0) {
        if ((rc = eos_tee_unseal(tee, CA_LABEL, blob, blob_size, &plain, &plain_size, diag)) != 0)
            goto out;
        if ((rc = decode(plain, plain_size, &certs, &key)) != 0) {
            rc = eos_diag_set(diag, rc, "ca", -1, "%s unsealed but does not hold a CA", path);
            goto out;
        }
        goto done;
    } else if (rc != EOS_ENOTFOUND) {
        rc = eos_diag_set(diag, rc, "ca", -1, "cannot read %s", path);
        goto out;
    } else {
        X509 *x = NULL;
        if ((rc = generate_ca(tee, &x, &key)) != 0) {
            rc = eos_diag_set(diag, rc, "ca", -1, "generating the enclave CA failed");
            goto out;
        }
        certs = sk_X509_new_null();
        if (!certs || !sk_X509_push(certs, x)) {
            X509_free(x);
            rc = EOS_ENOMEM;
            goto out;
        }
        EOS_INFO("ratls", "generated a new enclave CA, sealed in %s", path);
    }
    /* A new or operator-given CA is sealed now so later starts need nothing. */
    if ((rc = encode(certs, key, &plain, &plain_size)) != 0)
        goto out;
    eos_diag sd;
    eos_diag_init(&sd);
    rc = eos_tee_seal(tee, CA_LABEL, plain, plain_size, &blob, &blob_size, &sd);
    if (rc == EOS_EUNSUPPORTED) {
        /* A TEE without a sealing key (TDX) still gets a working CA: one per
         * start, attested like any other through core.ca_cert. Clients that
         * pin the CA must then pin the measurement instead. */
        EOS_WARN("ratls", "the enclave CA cannot be sealed (%s); it lives for this run only",
                 sd.message);
        rc = 0;
        goto done;
    }
    if (rc != 0) {
        eos_diag_set(diag, rc, sd.step, -1, "%s", sd.message);
        goto out;
    }
    if ((rc = write_atomic(path, blob, blob_size, diag)) != 0)
        goto out;
done:
    *out_cert = sk_X509_shift(certs);
    *out_key = key;
    *out_chain = certs;
    certs = NULL;
    key = NULL;
out:
    if (plain) {
        OPENSSL_cleanse(plain, plain_size);
        eos_free(plain, plain_size);
    }
    eos_free(blob, blob_size);
    sk_X509_pop_free(certs, X509_free);
    EVP_PKEY_free(key);
    eos_free(path, strlen(path) + 1);
    return rc;
}
