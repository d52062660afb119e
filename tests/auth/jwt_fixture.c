/* See jwt_fixture.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>

#include "jwt_fixture.h"

char *fixture_b64url(const unsigned char *data, size_t size)
{
    char *out = malloc(size * 2 + 8);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)size);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = 0;
    for (int i = 0; i < n; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    return out;
}

static char *bn_b64(EVP_PKEY *key, const char *param)
{
    BIGNUM *bn = NULL;
    EVP_PKEY_get_bn_param(key, param, &bn);
    int n = BN_num_bytes(bn);
    unsigned char *buf = malloc((size_t)n);
    BN_bn2bin(bn, buf);
    char *s = fixture_b64url(buf, (size_t)n);
    free(buf);
    BN_free(bn);
    return s;
}

char *fixture_jwk(EVP_PKEY *key, const char *kid)
{
    char *out = malloc(4096);
    if (EVP_PKEY_is_a(key, "RSA")) {
        char *n = bn_b64(key, OSSL_PKEY_PARAM_RSA_N), *e = bn_b64(key, OSSL_PKEY_PARAM_RSA_E);
        snprintf(out, 4096, "{\"kty\":\"RSA\",\"kid\":\"%s\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"}",
                 kid, n, e);
        free(n);
        free(e);
    } else {
        unsigned char pub[65];
        size_t len = 0;
        EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &len);
        char *x = fixture_b64url(pub + 1, 32), *y = fixture_b64url(pub + 33, 32);
        snprintf(out, 4096, "{\"kty\":\"EC\",\"kid\":\"%s\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
                 kid, x, y);
        free(x);
        free(y);
    }
    return out;
}

char *fixture_token(const char *header, const char *payload, EVP_PKEY *key,
                    const unsigned char *hmac_key, size_t hmac_key_size)
{
    char *h = fixture_b64url((const unsigned char *)header, strlen(header));
    char *p = fixture_b64url((const unsigned char *)payload, strlen(payload));
    size_t in_size = strlen(h) + strlen(p) + 2;
    char *input = malloc(in_size);
    snprintf(input, in_size, "%s.%s", h, p);
    unsigned char sig[1024];
    size_t sig_size = 0;
    if (hmac_key) {
        unsigned int n = 0;
        HMAC(EVP_sha256(), hmac_key, (int)hmac_key_size, (const unsigned char *)input,
             strlen(input), sig, &n);
        sig_size = n;
    } else if (key) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char der[1024];
        size_t der_size = sizeof der;
        EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key);
        EVP_DigestSign(md, der, &der_size, (const unsigned char *)input, strlen(input));
        EVP_MD_CTX_free(md);
        if (EVP_PKEY_is_a(key, "EC")) {
            const unsigned char *q = der;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)der_size);
            BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
            BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
            ECDSA_SIG_free(es);
            sig_size = 64;
        } else {
            memcpy(sig, der, der_size);
            sig_size = der_size;
        }
    }
    char *s = fixture_b64url(sig, sig_size);
    size_t total = strlen(input) + strlen(s) + 2;
    char *tok = malloc(total);
    snprintf(tok, total, "%s.%s", input, s);
    free(h);
    free(p);
    free(input);
    free(s);
    return tok;
}
