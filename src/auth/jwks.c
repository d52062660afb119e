/* JSON Web Key Sets: RSA (n, e) and P-256 (x, y) public keys, read into
 * OpenSSL keys once at load. Sizes are bounded before anything is parsed. */
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "internal.h"

static const uint8_t p256_spki_prefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                           0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                           0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};

static const char *str(yajl_val obj, const char *key)
{
    yajl_val v = eos_auth__member(obj, key);
    return v && YAJL_IS_STRING(v) ? eos_auth__string(v) : NULL;
}

/* Decodes a base64url member; 0, or -1 when absent or malformed. */
static int b64_member(yajl_val obj, const char *key, uint8_t **out, size_t *out_size)
{
    const char *s = str(obj, key);
    if (!s)
        return -1;
    return eos_auth__b64url_decode(s, strlen(s), out, out_size) == 0 ? 0 : -1;
}

static EVP_PKEY *rsa_key(yajl_val jwk)
{
    uint8_t *n = NULL, *e = NULL;
    size_t n_size = 0, e_size = 0;
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    if (b64_member(jwk, "n", &n, &n_size) != 0 || b64_member(jwk, "e", &e, &e_size) != 0)
        goto out;
    /* 2048 to 8192 bits, a small odd exponent: anything else is no key we
     * want to verify with. */
    while (n_size && n[0] == 0)
        memmove(n, n + 1, --n_size);
    if (n_size < 256 || n_size > 1024 || e_size == 0 || e_size > 8)
        goto out;
    bn = BN_bin2bn(n, (int)n_size, NULL);
    be = BN_bin2bn(e, (int)e_size, NULL);
    if (!bn || !be || BN_num_bits(bn) < 2048 || !BN_is_odd(be) || BN_is_one(be))
        goto out;
    if (!(bld = OSSL_PARAM_BLD_new()) || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
        !(params = OSSL_PARAM_BLD_to_param(bld)) ||
        !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
out:
    ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    if (n)
        eos_free(n, n_size + 1);
    if (e)
        eos_free(e, e_size + 1);
    return pkey;
}

static EVP_PKEY *ec_key(yajl_val jwk)
{
    uint8_t *x = NULL, *y = NULL;
    size_t x_size = 0, y_size = 0;
    EVP_PKEY *pkey = NULL;
    const char *crv = str(jwk, "crv");
    if (!crv || strcmp(crv, "P-256") != 0 || b64_member(jwk, "x", &x, &x_size) != 0 ||
        b64_member(jwk, "y", &y, &y_size) != 0 || x_size != 32 || y_size != 32)
        goto out;
    uint8_t der[sizeof p256_spki_prefix + 64];
    const uint8_t *p = der;
    memcpy(der, p256_spki_prefix, sizeof p256_spki_prefix);
    memcpy(der + sizeof p256_spki_prefix, x, 32);
    memcpy(der + sizeof p256_spki_prefix + 32, y, 32);
    /* OpenSSL refuses a point that is not on the curve here. */
    pkey = d2i_PUBKEY(NULL, &p, sizeof der);
out:
    ERR_clear_error();
    if (x)
        eos_free(x, x_size + 1);
    if (y)
        eos_free(y, y_size + 1);
    return pkey;
}

int eos_auth_jwks_parse(const char *json, size_t size, eos_auth_jwks **out, eos_diag *d)
{
    int rc = 0, oom;
    yajl_val root = NULL;
    eos_auth_jwks *ks = NULL;
    if (size > EOS_AUTH_JWKS_MAX_SIZE)
        return eos_diag_set(d, EOS_ETOOBIG, "jwks", -1,
                            "the JWKS is larger than %d bytes", EOS_AUTH_JWKS_MAX_SIZE);
    root = eos_auth__json_parse(json, size, &oom);
    if (oom)
        return EOS_ENOMEM;
    yajl_val keys = eos_auth__member(root, "keys");
    if (!keys || !YAJL_IS_ARRAY(keys)) {
        rc = eos_diag_set(d, EOS_EMALFORMED, "jwks", -1,
                          "the JWKS is not a JSON object with a \"keys\" array");
        goto out;
    }
    if (keys->u.array.len > EOS_AUTH_JWKS_MAX_KEYS) {
        rc = eos_diag_set(d, EOS_ETOOBIG, "jwks", -1, "the JWKS holds more than %d keys",
                          EOS_AUTH_JWKS_MAX_KEYS);
        goto out;
    }
    if (!(ks = eos_calloc(1, sizeof *ks))) {
        rc = EOS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < keys->u.array.len; i++) {
        yajl_val jwk = keys->u.array.values[i];
        const char *kty = str(jwk, "kty"), *use = str(jwk, "use");
        const char *kid = str(jwk, "kid"), *alg = str(jwk, "alg");
        if (!kty || (use && strcmp(use, "sig") != 0))
            continue;
        eos_auth__key *k = &ks->keys[ks->count];
        if (strcmp(kty, "RSA") == 0) {
            k->type = EOS_AUTH__KEY_RSA;
            k->pkey = rsa_key(jwk);
        } else if (strcmp(kty, "EC") == 0) {
            k->type = EOS_AUTH__KEY_EC;
            k->pkey = ec_key(jwk);
        } else {
            continue; /* "oct" (shared secrets) and others are never accepted */
        }
        if (!k->pkey) {
            rc = eos_diag_set(d, EOS_EMALFORMED, "jwks", -1,
                              "key %zu of the JWKS is not a valid %s public key (RSA of 2048 "
                              "bits or more, or EC P-256)",
                              i, kty[0] == 'R' ? "RSA" : "EC");
            goto out;
        }
        if (kid && strlen(kid) < sizeof k->kid)
            strcpy(k->kid, kid);
        if (alg && strlen(alg) < sizeof k->alg)
            strcpy(k->alg, alg);
        ks->count++;
    }
    if (ks->count == 0) {
        rc = eos_diag_set(d, EOS_EMALFORMED, "jwks", -1,
                          "the JWKS holds no RSA or P-256 signing key");
        goto out;
    }
    *out = ks;
    ks = NULL;
out:
    eos_auth_jwks_free(ks);
    yajl_tree_free(root);
    return rc;
}

int eos_auth_jwks_load(const char *path, eos_auth_jwks **out, eos_diag *d)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    int rc;
    if (!f)
        return eos_diag_set(d, EOS_ENOTFOUND, "jwks", -1, "cannot open the JWKS file %s", path);
    buf = eos_malloc(EOS_AUTH_JWKS_MAX_SIZE + 1);
    if (!buf) {
        fclose(f);
        return EOS_ENOMEM;
    }
    size_t n = fread(buf, 1, EOS_AUTH_JWKS_MAX_SIZE + 1, f);
    fclose(f);
    rc = eos_auth_jwks_parse(buf, n, out, d);
    eos_free(buf, EOS_AUTH_JWKS_MAX_SIZE + 1);
    return rc;
}

void eos_auth_jwks_free(eos_auth_jwks *ks)
{
    if (!ks)
        return;
    for (size_t i = 0; i < ks->count; i++)
        EVP_PKEY_free(ks->keys[i].pkey);
    eos_free(ks, sizeof *ks);
}

size_t eos_auth_jwks_count(const eos_auth_jwks *ks)
{
    return ks ? ks->count : 0;
}
