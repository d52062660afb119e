/* JSON Web Tokens and key sets: RS256 and ES256 acceptance, and a clear
 * refusal for each way a token or key set can be wrong, with no secret in
 * any message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "eos/auth.h"
#include "harness.h"
#include "jwt_fixture.h"

#define NOW 1767225600 /* 2026-01-01 */

static EVP_PKEY *rsa, *ec, *rsa2;
static eos_auth_jwks *keys;
static const eos_auth_jwt_rules rules = {"https://idp.test", "shop", NOW, 30, 0};

/* A payload with a secret-looking claim, so messages can be searched for it. */
static char *payload(long exp_delta, const char *extra)
{
    char *p = malloc(1024);
    snprintf(p, 1024,
             "{\"iss\":\"https://idp.test\",\"aud\":[\"other\",\"shop\"],\"sub\":\"alice\","
             "\"exp\":%ld,\"iat\":%ld,\"api_key\":\"hunter2-secret\"%s}",
             (long)NOW + exp_delta, (long)NOW - 10, extra ? extra : "");
    return p;
}

/* Verifies and checks the result code; the message must never quote the
 * token, any part of it, or the secret claim. */
static int verify(const char *tok, int want)
{
    eos_auth_identity id;
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_auth_jwt_verify(keys, tok, strlen(tok), &rules, &id, &d);
    EOS_CHECK_INT(rc, want);
    if (rc != 0) {
        EOS_CHECK(d.message[0] != '\0');
        EOS_CHECK(strstr(d.message, "hunter2") == NULL);
        const char *dot = strrchr(tok, '.');
        if (dot && strlen(dot + 1) > 8) {
            char tail[9];
            memcpy(tail, dot + 1, 8);
            tail[8] = 0;
            EOS_CHECK(strstr(d.message, tail) == NULL);
        }
        if (strlen(tok) > 12) {
            char head[13];
            memcpy(head, tok, 12);
            head[12] = 0;
            EOS_CHECK(strstr(d.message, head) == NULL);
        }
    }
    eos_auth_identity_clear(&id);
    return rc;
}

static void test_jwt_accepts_rs256_and_es256(void)
{
    char *p = payload(600, NULL);
    char *t = fixture_token("{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"JWT\"}", p, rsa, NULL, 0);
    eos_auth_identity id;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_auth_jwt_verify(keys, t, strlen(t), &rules, &id, &d), 0);
    EOS_CHECK_STR(id.method, "jwt");
    EOS_CHECK_STR(id.subject, "alice");
    EOS_CHECK_STR(id.issuer, "https://idp.test");
    EOS_CHECK(strstr(id.claims_json, "\"sub\":\"alice\"") != NULL);
    EOS_CHECK_INT(id.expires, NOW + 600);
    eos_auth_identity_clear(&id);
    free(t);
    t = fixture_token("{\"alg\":\"ES256\",\"kid\":\"e1\"}", p, ec, NULL, 0);
    verify(t, 0);
    free(t);
    /* Without kid, any key of the right type may verify it. */
    t = fixture_token("{\"alg\":\"ES256\"}", p, ec, NULL, 0);
    verify(t, 0);
    free(t);
    t = fixture_token("{\"alg\":\"RS256\"}", p, rsa2, NULL, 0);
    verify(t, 0);
    free(t);
    free(p);
}

static void test_jwt_refuses_algorithms(void)
{
    char *p = payload(600, NULL);
    char *t = fixture_token("{\"alg\":\"none\"}", p, NULL, NULL, 0);
    verify(t, EOS_EUNSUPPORTED);
    free(t);
    t = fixture_token("{\"alg\":\"None\",\"kid\":\"r1\"}", p, NULL, NULL, 0);
    verify(t, EOS_EUNSUPPORTED);
    free(t);
    /* HS256 keyed with the RSA public key (PEM and DER): the classic
     * confusion, refused before any key is touched. */
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, rsa);
    char *pem;
    long n = BIO_get_mem_data(b, &pem);
    t = fixture_token("{\"alg\":\"HS256\",\"kid\":\"r1\"}", p, NULL, (unsigned char *)pem,
                      (size_t)n);
    verify(t, EOS_EUNSUPPORTED);
    free(t);
    BIO_free(b);
    t = fixture_token("{\"alg\":\"RS512\",\"kid\":\"r1\"}", p, rsa, NULL, 0);
    verify(t, EOS_EUNSUPPORTED);
    free(t);
    /* An RS256 header naming the EC key, and ES256 naming an RSA key. */
    t = fixture_token("{\"alg\":\"RS256\",\"kid\":\"e1\"}", p, rsa, NULL, 0);
    verify(t, EOS_EVERIFY);
    free(t);
    t = fixture_token("{\"alg\":\"ES256\",\"kid\":\"r1\"}", p, ec, NULL, 0);
    verify(t, EOS_EVERIFY);
    free(t);
    t = fixture_token("{\"alg\":\"ES256\",\"kid\":\"nobody\"}", p, ec, NULL, 0);
    verify(t, EOS_EVERIFY);
    free(t);
    t = fixture_token("{\"alg\":\"RS256\",\"kid\":\"r1\",\"crit\":[\"b64\"]}", p, rsa, NULL, 0);
    verify(t, EOS_EUNSUPPORTED);
    free(t);
    /* Signed by a key not in the set. */
    EVP_PKEY *stranger = EVP_EC_gen("P-256");
    t = fixture_token("{\"alg\":\"ES256\",\"kid\":\"e1\"}", p, stranger, NULL, 0);
    verify(t, EOS_EVERIFY);
    free(t);
    EVP_PKEY_free(stranger);
    free(p);
}

static void test_jwt_refuses_claims(void)
{
    struct {
        long exp;
        const char *extra;
        int want;
    } cases[] = {
        {-31, NULL, EOS_EPERM},                              /* expired beyond the leeway */
        {-20, NULL, 0},                                      /* expired within the leeway */
        {600, ",\"nbf\":1767225700", EOS_EPERM},             /* not yet valid */
        {600, ",\"nbf\":1767225620", 0},                     /* within the leeway */
        {600, ",\"nbf\":\"soon\"", EOS_EMALFORMED},          /* not a number */
    };
    for (size_t i = 0; i < EOS_ARRAY_LEN(cases); i++) {
        char *p = payload(cases[i].exp, cases[i].extra);
        char *t = fixture_token("{\"alg\":\"ES256\",\"kid\":\"e1\"}", p, ec, NULL, 0);
        verify(t, cases[i].want);
        free(t);
        free(p);
    }
    const char *bad[] = {
        "{\"iss\":\"https://evil.test\",\"aud\":\"shop\",\"exp\":1767226000}",
        "{\"iss\":\"https://idp.test\",\"aud\":\"other\",\"exp\":1767226000}",
        "{\"iss\":\"https://idp.test\",\"aud\":[\"a\",\"b\"],\"exp\":1767226000}",
        "{\"iss\":\"https://idp.test\",\"aud\":\"shop\"}",
        "{\"iss\":\"https://idp.test\",\"aud\":\"shop\",\"exp\":1767226000,\"iat\":1767229999}",
    };
    for (size_t i = 0; i < EOS_ARRAY_LEN(bad); i++) {
        char *t = fixture_token("{\"alg\":\"ES256\",\"kid\":\"e1\"}", bad[i], ec, NULL, 0);
        verify(t, EOS_EPERM);
        free(t);
    }
    /* A token without exp passes only when the rules allow it. */
    char *t = fixture_token("{\"alg\":\"ES256\"}", bad[3], ec, NULL, 0);
    eos_auth_jwt_rules lax = rules;
    lax.allow_no_exp = 1;
    eos_auth_identity id;
    EOS_CHECK_INT(eos_auth_jwt_verify(keys, t, strlen(t), &lax, &id, NULL), 0);
    eos_auth_identity_clear(&id);
    free(t);
}

static void test_jwt_refuses_malformed(void)
{
    char *p = payload(600, NULL);
    char *good = fixture_token("{\"alg\":\"ES256\",\"kid\":\"e1\"}", p, ec, NULL, 0);
    const char *fixed[] = {"", ".", "..", "a.b", "a.b.c.d", "e30.e30.", "e30=.e30.AA",
                           "!!!.e30.AA", "W10.e30.AA" /* header [] */, "e30.W10.AA"};
    for (size_t i = 0; i < EOS_ARRAY_LEN(fixed); i++)
        verify(fixed[i], EOS_EMALFORMED);
    /* A flipped signature character, a truncated signature, every prefix. */
    size_t n = strlen(good);
    char *t = strdup(good);
    t[n - 3] = t[n - 3] == 'A' ? 'B' : 'A';
    verify(t, EOS_EVERIFY);
    for (size_t cut = 0; cut < n; cut += 7) {
        t[cut] = 0;
        eos_auth_identity id;
        EOS_CHECK(eos_auth_jwt_verify(keys, t, cut, &rules, &id, NULL) != 0);
        memcpy(t, good, n + 1);
    }
    free(t);
    /* Oversized. */
    char *big = malloc(EOS_AUTH_JWT_MAX_SIZE + 2);
    memset(big, 'A', EOS_AUTH_JWT_MAX_SIZE + 1);
    big[EOS_AUTH_JWT_MAX_SIZE + 1] = 0;
    verify(big, EOS_ETOOBIG);
    free(big);
    free(good);
    free(p);
}

static void test_jwt_jwks_refusals(void)
{
    eos_auth_jwks *k = NULL;
    eos_diag d;
    const char *bad[] = {
        "", "[]", "{\"keys\":{}}", "{\"keys\":[]}",
        "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"AA\",\"y\":\"AA\"}]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
        "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}", /* not on the curve */
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}", /* tiny modulus */
        "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"@@\",\"e\":\"AQAB\"}]}",
    };
    for (size_t i = 0; i < EOS_ARRAY_LEN(bad); i++) {
        eos_diag_init(&d);
        EOS_CHECK(eos_auth_jwks_parse(bad[i], strlen(bad[i]), &k, &d) != 0);
        EOS_CHECK(d.message[0] != '\0');
        EOS_CHECK(strstr(d.message, "c2VjcmV0") == NULL);
    }
    /* A 1024-bit RSA key is refused. */
    EVP_PKEY *weak = EVP_RSA_gen(1024);
    char *jwk = fixture_jwk(weak, "w");
    char set[4200];
    snprintf(set, sizeof set, "{\"keys\":[%s]}", jwk);
    EOS_CHECK_INT(eos_auth_jwks_parse(set, strlen(set), &k, NULL), EOS_EMALFORMED);
    free(jwk);
    EVP_PKEY_free(weak);
    /* Oversized, and too many keys. */
    char *big = malloc(EOS_AUTH_JWKS_MAX_SIZE + 100);
    snprintf(big, 20, "{\"keys\":[");
    size_t n = strlen(big);
    while (n < EOS_AUTH_JWKS_MAX_SIZE + 10)
        big[n++] = ' ';
    memcpy(big + n, "]}", 3);
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_auth_jwks_parse(big, n + 2, &k, &d), EOS_ETOOBIG);
    char *ecjwk = fixture_jwk(ec, "e");
    n = (size_t)snprintf(big, 20, "{\"keys\":[");
    for (int i = 0; i <= EOS_AUTH_JWKS_MAX_KEYS; i++)
        n += (size_t)sprintf(big + n, "%s%s", i ? "," : "", ecjwk);
    memcpy(big + n, "]}", 3);
    EOS_CHECK_INT(eos_auth_jwks_parse(big, n + 2, &k, NULL), EOS_ETOOBIG);
    free(ecjwk);
    free(big);
    /* "enc" keys and unknown types are skipped, not fatal. */
    char *r = fixture_jwk(rsa, "r");
    snprintf(set, sizeof set, "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"},%s]}", r);
    EOS_CHECK_INT(eos_auth_jwks_parse(set, strlen(set), &k, NULL), 0);
    EOS_CHECK_INT(eos_auth_jwks_count(k), 1);
    eos_auth_jwks_free(k);
    free(r);
}

int main(void)
{
    rsa = EVP_RSA_gen(2048);
    rsa2 = EVP_RSA_gen(2048);
    ec = EVP_EC_gen("P-256");
    char *r = fixture_jwk(rsa, "r1"), *e = fixture_jwk(ec, "e1"), *r2 = fixture_jwk(rsa2, "r2");
    char set[16384];
    snprintf(set, sizeof set, "{\"keys\":[%s,%s,%s]}", r, e, r2);
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_auth_jwks_parse(set, strlen(set), &keys, &d), 0);
    EOS_CHECK_INT(eos_auth_jwks_count(keys), 3);
    free(r);
    free(e);
    free(r2);
    EOS_RUN(test_jwt_accepts_rs256_and_es256);
    EOS_RUN(test_jwt_refuses_algorithms);
    EOS_RUN(test_jwt_refuses_claims);
    EOS_RUN(test_jwt_refuses_malformed);
    EOS_RUN(test_jwt_jwks_refusals);
    eos_auth_jwks_free(keys);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa2);
    EVP_PKEY_free(ec);
    return eos_test_finish();
}
