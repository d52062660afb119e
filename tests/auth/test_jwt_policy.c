/* Caller policies: rule matching by route prefix and typed function, the
 * 401/403 decisions with WWW-Authenticate, identity headers, and client
 * certificates over a real TLS 1.3 handshake, with and without one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "eos/auth.h"
#include "harness.h"
#include "jwt_fixture.h"

#define NOW 1767225600

static EVP_PKEY *ec;
static eos_auth_jwks *keys;

static const char policy_json[] =
    "{\"issuer\":\"https://idp.test\",\"audience\":\"shop\",\"leeway\":30,\"default\":\"jwt\","
    "\"rules\":[{\"prefix\":\"/\",\"require\":\"none\"},"
    "{\"prefix\":\"/api\",\"require\":\"jwt\"},"
    "{\"prefix\":\"/api/admin\",\"require\":\"jwt\",\"claims\":{\"role\":\"admin\"}},"
    "{\"prefix\":\"/partner/\",\"require\":\"mtls\"},"
    "{\"prefix\":\"/either\",\"require\":\"any\"},"
    "{\"function\":\"transfer\",\"require\":\"mtls\"},"
    "{\"function\":\"get-price\",\"require\":\"none\"}]}";

static void test_jwt_policy_matching(void)
{
    eos_auth_policy *p = NULL;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_auth_policy_parse(policy_json, strlen(policy_json), &p, &d), 0);
    EOS_CHECK_INT(eos_auth_policy_requirement(p, "/", NULL), EOS_AUTH_REQUIRE_NONE);
    EOS_CHECK_INT(eos_auth_policy_requirement(p, "/index.html", NULL), EOS_AUTH_REQUIRE_NONE);
    EOS_CHECK_INT(eos_auth_policy_requirement(p, "/api", NULL), EOS_AUTH_REQUIRE_JWT);
    EOS_CHECK_INT(eos_auth_policy_requirement(p, "/api/orders?x=1", NULL), EOS_AUTH_REQUIRE_JWT);
    EOS_CHECK_INT(eos_auth_policy_requirement(p, "/apix", NULL), EOS_AUTH_REQUIRE_NONE);
    EOS_CHECK_INT(eos_auth_policy_requirement(p, "/partner/x", NULL), EOS_AUTH_REQUIRE_MTLS);
    EOS_CHECK_INT(eos_auth_policy_requirement(p, NULL, "transfer"), EOS_AUTH_REQUIRE_MTLS);
    EOS_CHECK_INT(eos_auth_policy_requirement(p, NULL, "get-price"), EOS_AUTH_REQUIRE_NONE);
    EOS_CHECK_INT(eos_auth_policy_requirement(p, NULL, "other"), EOS_AUTH_REQUIRE_JWT);
    eos_auth_policy_free(p);
    const char *bad[] = {"", "[]", "{\"rules\":{}}", "{\"rules\":[{\"prefix\":\"api\",\"require\":\"jwt\"}]}",
                         "{\"rules\":[{\"prefix\":\"/a\",\"function\":\"f\",\"require\":\"jwt\"}]}",
                         "{\"rules\":[{\"prefix\":\"/a\",\"require\":\"maybe\"}]}",
                         "{\"rules\":[{\"prefix\":\"/a\",\"require\":\"jwt\",\"claims\":{\"n\":1}}]}",
                         "{\"leeway\":9999}", "{\"default\":\"all\"}"};
    for (size_t i = 0; i < EOS_ARRAY_LEN(bad); i++) {
        eos_diag_init(&d);
        EOS_CHECK(eos_auth_policy_parse(bad[i], strlen(bad[i]), &p, &d) != 0);
        EOS_CHECK(d.message[0] != '\0');
    }
}

static char *bearer(const char *payload)
{
    char *t = fixture_token("{\"alg\":\"ES256\",\"kid\":\"e1\"}", payload, ec, NULL, 0);
    char *h = malloc(strlen(t) + 8);
    sprintf(h, "Bearer %s", t);
    free(t);
    return h;
}

static int collect(void *arg, const char *name, const char *value)
{
    char *buf = arg;
    size_t n = strlen(buf);
    snprintf(buf + n, 4096 - n, "%s: %s\n", name, value);
    return 0;
}

static void test_jwt_policy_decisions(void)
{
    eos_auth_policy *p = NULL;
    eos_auth_decision dec;
    eos_diag d;
    EOS_CHECK_INT(eos_auth_policy_parse(policy_json, strlen(policy_json), &p, NULL), 0);
    eos_auth_request req = {"/api/orders", NULL, NULL, NULL, NULL, NOW};
    /* No token: 401 with a Bearer challenge. */
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_auth_check(p, keys, NULL, &req, &dec, &d), 0);
    EOS_CHECK_INT(dec.status, 401);
    EOS_CHECK_STR(dec.www_authenticate, "Bearer realm=\"enclave-os\"");
    /* A good token: allowed, with the identity headers. */
    char *user = bearer("{\"iss\":\"https://idp.test\",\"aud\":\"shop\",\"sub\":\"alice\","
                        "\"exp\":1767226000,\"role\":\"user\"}");
    char *admin = bearer("{\"iss\":\"https://idp.test\",\"aud\":\"shop\",\"sub\":\"bob\","
                         "\"exp\":1767226000,\"role\":[\"user\",\"admin\"]}");
    char *expired = bearer("{\"iss\":\"https://idp.test\",\"aud\":\"shop\",\"sub\":\"eve\","
                           "\"exp\":1767220000}");
    req.authorization = user;
    EOS_CHECK_INT(eos_auth_check(p, keys, NULL, &req, &dec, NULL), 0);
    EOS_CHECK_INT(dec.status, 0);
    EOS_CHECK_STR(dec.identity.subject, "alice");
    char headers[4096] = "";
    EOS_CHECK_INT(eos_auth_identity_headers(&dec.identity, collect, headers), 0);
    EOS_CHECK(strstr(headers, "x-eos-auth-method: jwt\n") != NULL);
    EOS_CHECK(strstr(headers, "x-eos-auth-subject: alice\n") != NULL);
    EOS_CHECK(strstr(headers, "x-eos-auth-issuer: https://idp.test\n") != NULL);
    EOS_CHECK(strstr(headers, "x-eos-auth-claims: ey") != NULL);
    eos_auth_decision_clear(&dec);
    /* The admin prefix needs role=admin: 403 for alice, allowed for bob. */
    req.path = "/api/admin/users";
    EOS_CHECK_INT(eos_auth_check(p, keys, NULL, &req, &dec, NULL), 0);
    EOS_CHECK_INT(dec.status, 403);
    EOS_CHECK(strstr(dec.www_authenticate, "insufficient_scope") != NULL);
    EOS_CHECK(dec.identity.subject == NULL);
    req.authorization = admin;
    EOS_CHECK_INT(eos_auth_check(p, keys, NULL, &req, &dec, NULL), 0);
    EOS_CHECK_INT(dec.status, 0);
    eos_auth_decision_clear(&dec);
    /* Expired and garbage tokens: 401 invalid_token, nothing of them logged. */
    req.authorization = expired;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_auth_check(p, keys, NULL, &req, &dec, &d), 0);
    EOS_CHECK_INT(dec.status, 401);
    EOS_CHECK(strstr(dec.www_authenticate, "invalid_token") != NULL);
    EOS_CHECK(strstr(d.message, "expired") != NULL);
    EOS_CHECK(strstr(d.message, expired + 7) == NULL);
    req.authorization = "Bearer not.a.token";
    EOS_CHECK_INT(eos_auth_check(p, keys, NULL, &req, &dec, NULL), 0);
    EOS_CHECK_INT(dec.status, 401);
    req.authorization = "Basic YWxpY2U6c2VjcmV0";
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_auth_check(p, keys, NULL, &req, &dec, &d), 0);
    EOS_CHECK_INT(dec.status, 401);
    EOS_CHECK(strstr(d.message, "YWxpY2U6c2VjcmV0") == NULL);
    /* Open routes need nothing; an mTLS route without a certificate is 401. */
    req.path = "/index.html";
    req.authorization = NULL;
    EOS_CHECK_INT(eos_auth_check(p, keys, NULL, &req, &dec, NULL), 0);
    EOS_CHECK_INT(dec.status, 0);
    EOS_CHECK_STR(dec.identity.method, "");
    req.path = NULL;
    req.function = "transfer";
    EOS_CHECK_INT(eos_auth_check(p, keys, NULL, &req, &dec, NULL), 0);
    EOS_CHECK_INT(dec.status, 401);
    EOS_CHECK(strncmp(dec.www_authenticate, "ClientCertificate", 17) == 0);
    /* Reserved header names, any case. */
    EOS_CHECK(eos_auth_is_identity_header("X-EOS-Auth-Subject", 18));
    EOS_CHECK(eos_auth_is_identity_header("x-eos-auth-anything", 19));
    EOS_CHECK(!eos_auth_is_identity_header("x-eos-other", 11));
    free(user);
    free(admin);
    free(expired);
    eos_auth_policy_free(p);
}

/* A CA and certificates for the TLS test. */
static X509 *cert_for(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, int ca,
                      const char *eku)
{
    X509 *x = X509_new();
    X509V3_CTX ctx;
    static long serial = 1;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                                            ca ? "critical,CA:TRUE" : "CA:FALSE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    if (eku) {
        e = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, eku);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
    return x;
}

/* Runs a TLS 1.3 handshake over a memory BIO pair; the server SSL is
 * returned for inspection. */
static SSL *handshake(SSL_CTX *sctx, SSL_CTX *cctx, SSL **out_client)
{
    SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
    BIO *sb, *cb;
    BIO_new_bio_pair(&sb, 0, &cb, 0);
    SSL_set_bio(s, sb, sb);
    SSL_set_bio(c, cb, cb);
    SSL_set_accept_state(s);
    SSL_set_connect_state(c);
    for (int i = 0; i < 20; i++) {
        int a = SSL_do_handshake(c), b = SSL_do_handshake(s);
        if (a == 1 && b == 1)
            break;
    }
    /* TLS 1.3 sends the client's certificate in its second flight; one
     * read on the server processes it. */
    char buf[1];
    SSL_write(c, "x", 1);
    SSL_read(s, buf, 1);
    *out_client = c;
    return s;
}

static void test_jwt_policy_mtls_handshake(void)
{
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *srv_key = EVP_EC_gen("P-256");
    EVP_PKEY *cli_key = EVP_EC_gen("P-256"), *other_key = EVP_EC_gen("P-256");
    X509 *ca = cert_for(ca_key, "Test Client CA", NULL, NULL, 1, NULL);
    X509 *other_ca = cert_for(other_key, "Other CA", NULL, NULL, 1, NULL);
    X509 *srv = cert_for(srv_key, "server", ca, ca_key, 0, "serverAuth");
    X509 *cli = cert_for(cli_key, "partner-42", ca, ca_key, 0, "clientAuth");
    X509 *stranger = cert_for(cli_key, "stranger", other_ca, other_key, 0, "clientAuth");
    char ca_path[] = "/tmp/eos-client-ca-XXXXXX";
    int fd = mkstemp(ca_path);
    FILE *f = fdopen(fd, "w");
    PEM_write_X509(f, ca);
    fclose(f);
    eos_auth_mtls *m = NULL;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_auth_mtls_new(ca_path, &m, &d), 0);
    EOS_CHECK(eos_auth_mtls_new("/nonexistent", &(eos_auth_mtls *){NULL}, NULL) != 0);
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(sctx, TLS1_3_VERSION);
    SSL_CTX_use_certificate(sctx, srv);
    SSL_CTX_use_PrivateKey(sctx, srv_key);
    EOS_CHECK_INT(eos_auth_mtls_configure_ctx(m, sctx, NULL), 0);
    eos_auth_policy *p = NULL;
    EOS_CHECK_INT(eos_auth_policy_parse(policy_json, strlen(policy_json), &p, NULL), 0);
    for (int round = 0; round < 3; round++) {
        SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
        if (round == 1) {
            SSL_CTX_use_certificate(cctx, cli);
            SSL_CTX_use_PrivateKey(cctx, cli_key);
        } else if (round == 2) {
            SSL_CTX_use_certificate(cctx, stranger);
            SSL_CTX_use_PrivateKey(cctx, cli_key);
        }
        SSL *c = NULL, *s = handshake(sctx, cctx, &c);
        /* The handshake succeeds either way: the route decides. */
        EOS_CHECK_INT(SSL_is_init_finished(s), 1);
        X509 *peer = SSL_get0_peer_certificate(s);
        EOS_CHECK_INT(peer != NULL, round != 0);
        eos_auth_request req = {"/partner/orders", NULL, NULL, peer, SSL_get_peer_cert_chain(s), 0};
        eos_auth_decision dec;
        EOS_CHECK_INT(eos_auth_check(p, keys, m, &req, &dec, NULL), 0);
        EOS_CHECK_INT(dec.status, round == 1 ? 0 : 401);
        if (round == 1) {
            EOS_CHECK_STR(dec.identity.method, "mtls");
            EOS_CHECK_STR(dec.identity.subject, "CN=partner-42");
            EOS_CHECK_STR(dec.identity.issuer, "CN=Test Client CA");
        } else {
            EOS_CHECK(strncmp(dec.www_authenticate, "ClientCertificate", 17) == 0);
        }
        eos_auth_decision_clear(&dec);
        /* "any" takes the certificate, or else a token. */
        req.path = "/either";
        EOS_CHECK_INT(eos_auth_check(p, keys, m, &req, &dec, NULL), 0);
        EOS_CHECK_INT(dec.status, round == 1 ? 0 : 401);
        if (round != 1)
            EOS_CHECK(strstr(dec.www_authenticate, "Bearer") != NULL &&
                      strstr(dec.www_authenticate, "ClientCertificate") != NULL);
        eos_auth_decision_clear(&dec);
        SSL_free(s);
        SSL_free(c);
        SSL_CTX_free(cctx);
    }
    eos_auth_policy_free(p);
    eos_auth_mtls_free(m);
    SSL_CTX_free(sctx);
    unlink(ca_path);
    X509_free(ca);
    X509_free(other_ca);
    X509_free(srv);
    X509_free(cli);
    X509_free(stranger);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(srv_key);
    EVP_PKEY_free(cli_key);
    EVP_PKEY_free(other_key);
}

/* The app bundle: policy, JWKS and CA checked together, and one hash. */
static void test_jwt_policy_app_bundle(void)
{
    char *e = fixture_jwk(ec, "e1");
    char set[4200];
    snprintf(set, sizeof set, "{\"keys\":[%s]}", e);
    free(e);
    const char *jwt_only = "{\"rules\":[{\"prefix\":\"/api\",\"require\":\"jwt\"}]}";
    const char *mtls_only = "{\"rules\":[{\"prefix\":\"/p\",\"require\":\"mtls\"}]}";
    eos_auth_app *a = NULL, *b = NULL;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_auth_app_new(jwt_only, strlen(jwt_only), set, strlen(set), NULL, 0, &a, &d),
                  0);
    EOS_CHECK_INT(eos_auth_app_wants_client_certs(a), 0);
    /* A missing JWKS or CA is a load error, not a silent refusal later. */
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_auth_app_new(jwt_only, strlen(jwt_only), NULL, 0, NULL, 0, &b, &d),
                  EOS_EINVAL);
    EOS_CHECK(strstr(d.message, "--jwks") != NULL);
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_auth_app_new(mtls_only, strlen(mtls_only), set, strlen(set), NULL, 0, &b, &d),
                  EOS_EINVAL);
    EOS_CHECK(strstr(d.message, "--client-ca") != NULL);
    EOS_CHECK_INT(eos_auth_app_new(mtls_only, strlen(mtls_only), NULL, 0, "junk", 4, &b, NULL),
                  EOS_EINVAL);
    /* The hash covers the keys too. */
    const char *other = "{\"keys\":[]}";
    (void)other;
    char set2[4200];
    snprintf(set2, sizeof set2, "%s ", set);
    EOS_CHECK_INT(eos_auth_app_new(jwt_only, strlen(jwt_only), set2, strlen(set2), NULL, 0, &b, NULL),
                  0);
    EOS_CHECK(memcmp(eos_auth_app_hash(a), eos_auth_app_hash(b), 32) != 0);
    eos_auth_request req = {"/api/x", NULL, NULL, NULL, NULL, NOW};
    eos_auth_decision dec;
    EOS_CHECK_INT(eos_auth_app_check(a, &req, &dec, NULL), 0);
    EOS_CHECK_INT(dec.status, 401);
    eos_auth_app_free(a);
    eos_auth_app_free(b);
}

int main(void)
{
    ec = EVP_EC_gen("P-256");
    char *e = fixture_jwk(ec, "e1");
    char set[4200];
    snprintf(set, sizeof set, "{\"keys\":[%s]}", e);
    free(e);
    EOS_CHECK_INT(eos_auth_jwks_parse(set, strlen(set), &keys, NULL), 0);
    EOS_RUN(test_jwt_policy_matching);
    EOS_RUN(test_jwt_policy_decisions);
    EOS_RUN(test_jwt_policy_mtls_handshake);
    EOS_RUN(test_jwt_policy_app_bundle);
    eos_auth_jwks_free(keys);
    EVP_PKEY_free(ec);
    return eos_test_finish();
}
