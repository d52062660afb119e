/* Compact JWS verification for RS256 and ES256 (RFC 7515, 7518, 7519):
 * split, decode, choose the key by kid and type, verify, then judge the
 * registered claims. Every refusal names what was wrong, never the token. */
#include <math.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/ecdsa.h>
#include <openssl/err.h>

#include "internal.h"

#define PART_MAX (12 * 1024)

static int refuse(eos_diag *d, int code, const char *msg)
{
    return eos_diag_set(d, code, "jwt", -1, "%s", msg);
}

/* RS256: RSASSA-PKCS1-v1_5 with SHA-256. ES256: raw r || s (64 bytes). */
static int check_sig(const eos_auth__key *k, const char *input, size_t input_size,
                     const uint8_t *sig, size_t sig_size)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t *der = NULL;
    int der_size = 0, ok = 0;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    if (!md)
        return 0;
    if (k->type == EOS_AUTH__KEY_EC) {
        if (sig_size != 64 || !(es = ECDSA_SIG_new()) || !(r = BN_bin2bn(sig, 32, NULL)) ||
            !(s = BN_bin2bn(sig + 32, 32, NULL)) || !ECDSA_SIG_set0(es, r, s))
            goto out;
        r = s = NULL;
        if ((der_size = i2d_ECDSA_SIG(es, &der)) <= 0)
            goto out;
        sig = der;
        sig_size = (size_t)der_size;
    }
    ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
         EVP_DigestVerify(md, sig, sig_size, (const uint8_t *)input, input_size) == 1;
out:
    ERR_clear_error();
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    return ok;
}

/* A NumericDate claim: 1 and *out when present and numeric, 0 when absent,
 * -1 when present but not a number. */
static int date_claim(yajl_val payload, const char *name, int64_t *out)
{
    yajl_val v = eos_auth__member(payload, name);
    if (!v)
        return 0;
    if (YAJL_IS_INTEGER(v)) {
        *out = YAJL_GET_INTEGER(v);
        return 1;
    }
    if (YAJL_IS_DOUBLE(v) && isfinite(YAJL_GET_DOUBLE(v)) && fabs(YAJL_GET_DOUBLE(v)) < 1e15) {
        *out = (int64_t)floor(YAJL_GET_DOUBLE(v));
        return 1;
    }
    return -1;
}

static int has_audience(yajl_val aud, const char *want)
{
    if (aud && YAJL_IS_STRING(aud))
        return strcmp(eos_auth__string(aud), want) == 0;
    if (aud && YAJL_IS_ARRAY(aud))
        for (size_t i = 0; i < aud->u.array.len; i++)
            if (YAJL_IS_STRING(aud->u.array.values[i]) &&
                strcmp(eos_auth__string(aud->u.array.values[i]), want) == 0)
                return 1;
    return 0;
}

static int check_claims(yajl_val payload, const eos_auth_jwt_rules *rules, int64_t *out_exp,
                        eos_diag *d)
{
    int64_t now = rules->now ? rules->now : (int64_t)time(NULL);
    int64_t leeway = rules->leeway < 0 ? 0 : rules->leeway > 600 ? 600 : rules->leeway;
    int64_t exp = 0, nbf = 0, iat = 0;
    int has_exp = date_claim(payload, "exp", &exp), has_nbf = date_claim(payload, "nbf", &nbf);
    int has_iat = date_claim(payload, "iat", &iat);
    if (has_exp < 0 || has_nbf < 0 || has_iat < 0)
        return refuse(d, EOS_EMALFORMED, "the token's exp, nbf or iat is not a number");
    if (!has_exp && !rules->allow_no_exp)
        return refuse(d, EOS_EPERM, "the token has no expiry (exp)");
    if (has_exp && now - leeway >= exp)
        return refuse(d, EOS_EPERM, "the token has expired");
    if (has_nbf && now + leeway < nbf)
        return refuse(d, EOS_EPERM, "the token is not valid yet (nbf)");
    if (has_iat && now + leeway < iat)
        return refuse(d, EOS_EPERM, "the token was issued in the future (iat)");
    yajl_val iss = eos_auth__member(payload, "iss");
    if (rules->issuer &&
        (!iss || !YAJL_IS_STRING(iss) || strcmp(eos_auth__string(iss), rules->issuer) != 0))
        return refuse(d, EOS_EPERM, "the token's issuer (iss) is not the expected one");
    if (rules->audience && !has_audience(eos_auth__member(payload, "aud"), rules->audience))
        return refuse(d, EOS_EPERM, "the token is not meant for this audience (aud)");
    *out_exp = has_exp ? exp : 0;
    return 0;
}

static char *dup_claim(yajl_val payload, const char *name)
{
    yajl_val v = eos_auth__member(payload, name);
    return eos_strdup(v && YAJL_IS_STRING(v) ? eos_auth__string(v) : "");
}

int eos_auth_jwt_verify(const eos_auth_jwks *keys, const char *token, size_t size,
                        const eos_auth_jwt_rules *rules, eos_auth_identity *out, eos_diag *d)
{
    uint8_t *hdr = NULL, *body = NULL, *sig = NULL;
    size_t hdr_size = 0, body_size = 0, sig_size = 0;
    yajl_val h = NULL, p = NULL;
    int rc = 0, oom = 0;
    int64_t exp = 0;
    memset(out, 0, sizeof *out);
    if (size > EOS_AUTH_JWT_MAX_SIZE)
        return refuse(d, EOS_ETOOBIG, "the token is too large");
    const char *dot1 = memchr(token, '.', size);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', size - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot1 || !dot2 || memchr(dot2 + 1, '.', size - (size_t)(dot2 + 1 - token)))
        return refuse(d, EOS_EMALFORMED, "the token is not a compact JWS (three dot-separated "
                                         "parts)");
    size_t hlen = (size_t)(dot1 - token), blen = (size_t)(dot2 - dot1 - 1);
    size_t slen = size - (size_t)(dot2 + 1 - token);
    if (hlen == 0 || blen == 0 || hlen > PART_MAX || blen > PART_MAX ||
        (rc = eos_auth__b64url_decode(token, hlen, &hdr, &hdr_size)) != 0 ||
        (rc = eos_auth__b64url_decode(dot1 + 1, blen, &body, &body_size)) != 0 ||
        (rc = eos_auth__b64url_decode(dot2 + 1, slen, &sig, &sig_size)) != 0) {
        rc = rc == EOS_ENOMEM ? rc : refuse(d, EOS_EMALFORMED, "the token is not base64url");
        goto out;
    }
    h = eos_auth__json_parse((const char *)hdr, hdr_size, &oom);
    if (!oom)
        p = eos_auth__json_parse((const char *)body, body_size, &oom);
    if (oom) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if (!h || !YAJL_IS_OBJECT(h) || !p || !YAJL_IS_OBJECT(p)) {
        rc = refuse(d, EOS_EMALFORMED, "the token's header or payload is not a JSON object");
        goto out;
    }
    yajl_val alg = eos_auth__member(h, "alg"), kid = eos_auth__member(h, "kid");
    int type = 0;
    if (alg && YAJL_IS_STRING(alg) && strcmp(eos_auth__string(alg), "RS256") == 0)
        type = EOS_AUTH__KEY_RSA;
    else if (alg && YAJL_IS_STRING(alg) && strcmp(eos_auth__string(alg), "ES256") == 0)
        type = EOS_AUTH__KEY_EC;
    if (!eos_auth__string(alg)) {
        rc = refuse(d, EOS_EMALFORMED, "the token's header has no \"alg\"");
        goto out;
    }
    if (!type) {
        rc = refuse(d, EOS_EUNSUPPORTED,
                    "the token's algorithm is refused: only RS256 and ES256 are accepted (never "
                    "none or HMAC)");
        goto out;
    }
    /* Extensions a verifier must understand (RFC 7515 4.1.11): none are. */
    if (eos_auth__member(h, "crit")) {
        rc = refuse(d, EOS_EUNSUPPORTED, "the token names critical header extensions");
        goto out;
    }
    if (kid && !YAJL_IS_STRING(kid)) {
        rc = refuse(d, EOS_EMALFORMED, "the token's kid is not a string");
        goto out;
    }
    /* The key decides the algorithm family as much as the header does: a
     * key is only ever used with the one algorithm its type makes. */
    int found = 0, valid = 0;
    for (size_t i = 0; keys && i < keys->count && !valid; i++) {
        const eos_auth__key *k = &keys->keys[i];
        if (kid && strcmp(k->kid, eos_auth__string(kid)) != 0)
            continue;
        if (k->type != type || (k->alg[0] && strcmp(k->alg, eos_auth__string(alg)) != 0))
            continue;
        found = 1;
        valid = check_sig(k, token, (size_t)(dot2 - token), sig, sig_size);
    }
    if (!found) {
        rc = refuse(d, EOS_EVERIFY, "no key in the JWKS matches the token's kid and algorithm");
        goto out;
    }
    if (!valid) {
        rc = refuse(d, EOS_EVERIFY, "the token's signature does not verify");
        goto out;
    }
    if ((rc = check_claims(p, rules, &exp, d)) != 0)
        goto out;
    strcpy(out->method, "jwt");
    out->subject = dup_claim(p, "sub");
    out->issuer = dup_claim(p, "iss");
    out->claims_json = eos_malloc(body_size + 1);
    if (!out->subject || !out->issuer || !out->claims_json) {
        eos_auth_identity_clear(out);
        rc = EOS_ENOMEM;
        goto out;
    }
    memcpy(out->claims_json, body, body_size + 1);
    out->claims_size = body_size;
    out->expires = exp;
out:
    yajl_tree_free(h);
    yajl_tree_free(p);
    if (hdr)
        eos_free(hdr, hdr_size + 1);
    if (body) {
        OPENSSL_cleanse(body, body_size);
        eos_free(body, body_size + 1);
    }
    if (sig)
        eos_free(sig, sig_size + 1);
    return rc;
}

void eos_auth_identity_clear(eos_auth_identity *id)
{
    if (!id)
        return;
    if (id->subject)
        eos_free(id->subject, strlen(id->subject) + 1);
    if (id->issuer)
        eos_free(id->issuer, strlen(id->issuer) + 1);
    if (id->claims_json)
        eos_free(id->claims_json, id->claims_size + 1);
    memset(id, 0, sizeof *id);
}
