/* The certificate manager: extension contents of generated certificates,
 * per-app selection by SNI, atomic replacement on configuration change,
 * renewal, the sealed CA across restarts, an operator CA, and challenge
 * mode, all over in-memory TLS 1.3 handshakes. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "harness.h"
#include "eos/ratls.h"

static char dir[] = "/tmp/eos-ratls-srv-XXXXXX";
static eos_tee *tee;
static int64_t fake_now = 1767323059; /* 2026-01-02T03:04:19Z */

static int64_t clock_fn(void *arg)
{
    return fake_now;
}

/* Runs a TLS 1.3 handshake between a fresh client and the server context
 * over a BIO pair. Returns the server's leaf (caller frees) or NULL. */
static X509 *handshake_ex(SSL_CTX *sctx, const char *sni, const uint8_t *nonce, size_t nonce_size,
                          int *echoed, STACK_OF(X509) * *chain_out, SSL_SESSION *resume,
                          SSL_SESSION **sess_out, int *reused);

typedef struct ch_arg {
    const uint8_t *nonce;
    size_t size;
    int echoed;
} ch_arg;

static int ch_add(SSL *s, unsigned int t, unsigned int ctx, const unsigned char **out,
                  size_t *outlen, X509 *x, size_t ci, int *al, void *arg)
{
    ch_arg *a = arg;
    if (!(ctx & SSL_EXT_CLIENT_HELLO) || !a->nonce)
        return 0;
    *out = a->nonce;
    *outlen = a->size;
    return 1;
}

static int ch_parse(SSL *s, unsigned int t, unsigned int ctx, const unsigned char *in, size_t inlen,
                    X509 *x, size_t ci, int *al, void *arg)
{
    ((ch_arg *)arg)->echoed = 1;
    return 1;
}

static X509 *handshake(SSL_CTX *sctx, const char *sni, const uint8_t *nonce, size_t nonce_size,
                       int *echoed, STACK_OF(X509) * *chain_out)
{
    return handshake_ex(sctx, sni, nonce, nonce_size, echoed, chain_out, NULL, NULL, NULL);
}

static X509 *handshake_ex(SSL_CTX *sctx, const char *sni, const uint8_t *nonce, size_t nonce_size,
                          int *echoed, STACK_OF(X509) * *chain_out, SSL_SESSION *resume,
                          SSL_SESSION **sess_out, int *reused)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    ch_arg a = {nonce, nonce_size, 0};
    SSL_CTX_add_custom_ext(cctx, EOS_RATLS_CHALLENGE_EXT,
                           SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS, ch_add, NULL,
                           &a, ch_parse, &a);
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    BIO *cb, *sb;
    BIO_new_bio_pair(&cb, 0, &sb, 0);
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    if (sni)
        SSL_set_tlsext_host_name(c, sni);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    if (resume)
        SSL_set_session(c, resume);
    X509 *leaf = NULL;
    for (int i = 0; i < 50; i++) {
        int rc = SSL_do_handshake(c), rs = SSL_do_handshake(s);
        if (rc == 1 && rs == 1) {
            leaf = SSL_get1_peer_certificate(c);
            if (chain_out) {
                STACK_OF(X509) *ch = SSL_get_peer_cert_chain(c);
                *chain_out = sk_X509_dup(ch);
                for (int k = 0; k < sk_X509_num(*chain_out); k++)
                    X509_up_ref(sk_X509_value(*chain_out, k));
            }
            if (reused)
                *reused = SSL_session_reused(c);
            if (sess_out) {
                uint8_t b[4];
                SSL_write(s, "x", 1); /* flushes the session tickets */
                SSL_read(c, b, sizeof b);
                *sess_out = SSL_get1_session(c);
            }
            break;
        }
    }
    if (echoed)
        *echoed = a.echoed;
    SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(cctx);
    ERR_clear_error();
    return leaf;
}

static const ASN1_OCTET_STRING *ext(X509 *x, const char *oid, int *critical)
{
    ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
    int i = X509_get_ext_by_OBJ(x, o, -1);
    ASN1_OBJECT_free(o);
    if (i < 0)
        return NULL;
    if (critical)
        *critical = X509_EXTENSION_get_critical(X509_get_ext(x, i));
    return X509_EXTENSION_get_data(X509_get_ext(x, i));
}

static eos_ratls_server *new_server(const char *d, int renew)
{
    eos_ratls_server *srv = NULL;
    eos_diag dg;
    eos_diag_init(&dg);
    eos_ratls_server_options o = {
        .data_dir = d, .server_name = "enclave.test", .now = clock_fn, .renew_seconds = renew};
    EOS_CHECK_INT(eos_ratls_server_new(tee, &o, &srv, &dg), 0);
    return srv;
}

static SSL_CTX *server_ctx(eos_ratls_server *srv)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    EOS_CHECK_INT(eos_ratls_server_configure_ctx(srv, ctx, NULL), 0);
    return ctx;
}

static void test_extensions(void)
{
    eos_ratls_server *srv = new_server(dir, 0);
    uint8_t code[32];
    memset(code, 0x5a, 32);
    eos_ratls_app app = {.name = "shop", .route = "/shop", .hostname = "shop.test"};
    memcpy(app.code_hash, code, 32);
    eos_ratls_config cfg = {&app, 1, NULL, 0};
    EOS_CHECK_INT(eos_ratls_server_set_config(srv, &cfg, NULL), 0);
    SSL_CTX *ctx = server_ctx(srv);
    STACK_OF(X509) *chain = NULL;
    X509 *leaf = handshake(ctx, NULL, NULL, 0, NULL, &chain);
    EOS_CHECK(leaf != NULL);
    if (!leaf)
        return;
    int crit = -1;
    const ASN1_OCTET_STRING *ev = ext(leaf, EOS_RATLS_OID_SGX_QUOTE, &crit);
    EOS_CHECK(ev != NULL);
    EOS_CHECK_INT(crit, 0);
    EOS_CHECK_INT(ASN1_STRING_length(ev), 203);
    EOS_CHECK(memcmp(ASN1_STRING_get0_data(ev), "MOCK_QUOTE:", 11) == 0);
    /* Report data = SHA-512(SHA-256(SPKI) || "2026-01-02T03:04Z"), NotBefore on the minute. */
    uint8_t *spki = NULL, rd[64];
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &spki);
    eos_ratls_report_data(spki, (size_t)n, (const uint8_t *)"2026-01-02T03:04Z", 17, rd);
    OPENSSL_free(spki);
    EOS_CHECK_MEM(ASN1_STRING_get0_data(ev) + 11, 64, rd, 64);
    EOS_CHECK_INT(ASN1_TIME_cmp_time_t(X509_get0_notBefore(leaf), 1767323040), 0);
    uint8_t root[32];
    eos_ratls_server_merkle_root(srv, root);
    const ASN1_OCTET_STRING *r = ext(leaf, EOS_RATLS_OID_CONFIG_ROOT, &crit);
    EOS_CHECK(r != NULL);
    EOS_CHECK_INT(crit, 0);
    if (r)
        EOS_CHECK_MEM(ASN1_STRING_get0_data(r), ASN1_STRING_length(r), root, 32);
    /* One app loaded: the default certificate carries 2.1 to 2.3. */
    const ASN1_OCTET_STRING *nm = ext(leaf, EOS_RATLS_OID_APP_NAME, NULL);
    const ASN1_OCTET_STRING *rt = ext(leaf, EOS_RATLS_OID_APP_ROUTE, NULL);
    const ASN1_OCTET_STRING *ch = ext(leaf, EOS_RATLS_OID_APP_CODE_HASH, NULL);
    const ASN1_OCTET_STRING *ah = ext(leaf, EOS_RATLS_OID_APPS_HASH, NULL);
    EOS_CHECK(nm && rt && ch && ah);
    if (nm && rt && ch && ah) {
        EOS_CHECK_MEM(ASN1_STRING_get0_data(nm), ASN1_STRING_length(nm), "shop", 4);
        EOS_CHECK_MEM(ASN1_STRING_get0_data(rt), ASN1_STRING_length(rt), "/shop", 5);
        EOS_CHECK_MEM(ASN1_STRING_get0_data(ch), ASN1_STRING_length(ch), code, 32);
        uint8_t want[32], buf[36];
        memcpy(buf, "shop", 4);
        memcpy(buf + 4, code, 32);
        SHA256(buf, 36, want);
        EOS_CHECK_MEM(ASN1_STRING_get0_data(ah), ASN1_STRING_length(ah), want, 32);
    }
    /* The chain is leaf + enclave CA, and the verifier accepts it. */
    EOS_CHECK_INT(sk_X509_num(chain), 2);
    uint8_t *der[2] = {NULL, NULL};
    size_t sizes[2];
    for (int i = 0; i < 2; i++)
        sizes[i] = (size_t)i2d_X509(sk_X509_value(chain, i), &der[i]);
    eos_ratls_verify_opts vo = {.allow_simulated = 1, .now = fake_now + 5};
    eos_ratls_verify_result res;
    EOS_CHECK_INT(eos_ratls_verify_chain((const uint8_t *const *)der, sizes, 2, &vo, &res, NULL),
                  0);
    EOS_CHECK_INT(res.has_app, 1);
    EOS_CHECK_STR(res.app_name, "shop");
    vo.allow_simulated = 0;
    EOS_CHECK_INT(eos_ratls_verify_chain((const uint8_t *const *)der, sizes, 2, &vo, &res, NULL),
                  EOS_EVERIFY);
    EOS_CHECK_INT(res.failed_step, EOS_RATLS_STEP_SIMULATED);
    /* Only the leaf: the chain step fails. */
    EOS_CHECK_INT(eos_ratls_verify_chain((const uint8_t *const *)der, sizes, 1, &vo, &res, NULL),
                  EOS_EVERIFY);
    EOS_CHECK_INT(res.failed_step, EOS_RATLS_STEP_CHAIN);
    for (int i = 0; i < 2; i++)
        OPENSSL_free(der[i]);
    sk_X509_pop_free(chain, X509_free);
    X509_free(leaf);
    /* The PEM getter serves the same chain. */
    char *pem = NULL;
    size_t pem_size = 0;
    EOS_CHECK_INT(eos_ratls_server_cert_chain_pem(srv, &pem, &pem_size), 0);
    EOS_CHECK(strstr(pem, "BEGIN CERTIFICATE") != NULL);
    eos_free(pem, pem_size + 1);
    SSL_CTX_free(ctx);
    eos_ratls_server_free(srv);
}

static void test_sni_and_swap(void)
{
    eos_ratls_server *srv = new_server(dir, 0);
    SSL_CTX *ctx = server_ctx(srv);
    eos_ratls_app apps[2] = {{.name = "a", .route = "/a", .hostname = "a.test"},
                             {.name = "b", .route = "/b"}};
    memset(apps[0].code_hash, 1, 32);
    memset(apps[1].code_hash, 2, 32);
    X509 *before = handshake(ctx, NULL, NULL, 0, NULL, NULL);
    EOS_CHECK(before && !ext(before, EOS_RATLS_OID_APP_NAME, NULL));
    eos_ratls_config cfg = {apps, 2, NULL, 0};
    EOS_CHECK_INT(eos_ratls_server_set_config(srv, &cfg, NULL), 0);
    X509 *def = handshake(ctx, "other.test", NULL, 0, NULL, NULL);
    X509 *a = handshake(ctx, "A.TEST", NULL, 0, NULL, NULL);
    EOS_CHECK(def && a);
    if (def && a && before) {
        /* Two apps: the default carries no single-app extensions. */
        EOS_CHECK(ext(def, EOS_RATLS_OID_APP_NAME, NULL) == NULL);
        const ASN1_OCTET_STRING *nm = ext(a, EOS_RATLS_OID_APP_NAME, NULL);
        EOS_CHECK(nm && ASN1_STRING_length(nm) == 1 && ASN1_STRING_get0_data(nm)[0] == 'a');
        /* New configuration, new root in every certificate presented after. */
        const ASN1_OCTET_STRING *r0 = ext(before, EOS_RATLS_OID_CONFIG_ROOT, NULL);
        const ASN1_OCTET_STRING *r1 = ext(def, EOS_RATLS_OID_CONFIG_ROOT, NULL);
        const ASN1_OCTET_STRING *r2 = ext(a, EOS_RATLS_OID_CONFIG_ROOT, NULL);
        EOS_CHECK(ASN1_OCTET_STRING_cmp(r0, r1) != 0);
        EOS_CHECK(ASN1_OCTET_STRING_cmp(r1, r2) == 0);
        EOS_CHECK(X509_cmp(before, def) != 0);
    }
    X509_free(before);
    X509_free(def);
    X509_free(a);
    /* An invalid configuration changes nothing. */
    uint8_t root[32], root2[32];
    eos_ratls_server_merkle_root(srv, root);
    apps[1].name = "a";
    EOS_CHECK_INT(eos_ratls_server_set_config(srv, &cfg, NULL), EOS_EEXIST);
    eos_ratls_server_merkle_root(srv, root2);
    EOS_CHECK_MEM(root2, 32, root, 32);
    SSL_CTX_free(ctx);
    eos_ratls_server_free(srv);
}

static void test_renewal(void)
{
    eos_ratls_server *srv = new_server(dir, 3600);
    SSL_CTX *ctx = server_ctx(srv);
    X509 *x1 = handshake(ctx, NULL, NULL, 0, NULL, NULL);
    fake_now += 600;
    X509 *x2 = handshake(ctx, NULL, NULL, 0, NULL, NULL);
    fake_now += 3600;
    X509 *x3 = handshake(ctx, NULL, NULL, 0, NULL, NULL);
    EOS_CHECK(x1 && x2 && x3);
    if (x1 && x2 && x3) {
        EOS_CHECK_INT(X509_cmp(x1, x2), 0); /* cached: the same certificate */
        EOS_CHECK(X509_cmp(x2, x3) != 0);   /* renewed after its lifetime */
        EOS_CHECK_INT(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x3), fake_now - fake_now % 60), 0);
    }
    X509_free(x1);
    X509_free(x2);
    X509_free(x3);
    EOS_CHECK_INT(eos_ratls_server_renew(srv, NULL), 0);
    SSL_CTX_free(ctx);
    eos_ratls_server_free(srv);
}

static void test_ca_persists(void)
{
    eos_ratls_server *s1 = new_server(dir, 0), *s2 = new_server(dir, 0);
    uint8_t *a = NULL, *b = NULL;
    size_t as = 0, bs = 0;
    eos_ratls_server_ca_der(s1, &a, &as);
    eos_ratls_server_ca_der(s2, &b, &bs);
    EOS_CHECK_MEM(a, as, b, bs);
    eos_free(a, as);
    eos_free(b, bs);
    eos_ratls_server_free(s1);
    eos_ratls_server_free(s2);
    /* A corrupted sealed CA is an error, never silently replaced. */
    char p[256];
    snprintf(p, sizeof p, "%s/ratls-ca.sealed", dir);
    /* Flip the byte's bits: writing a fixed value left the file intact
     * whenever the byte already had it (one run in 256). */
    FILE *f = fopen(p, "r+b");
    fseek(f, 30, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 30, SEEK_SET);
    fputc(c ^ 0xff, f);
    fclose(f);
    eos_ratls_server *s3 = NULL;
    eos_ratls_server_options o = {.data_dir = dir};
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_ratls_server_new(tee, &o, &s3, &d), EOS_ECORRUPT);
    unlink(p);
}

static void test_operator_ca(void)
{
    char cert[256], key[256], sub[200];
    snprintf(sub, sizeof sub, "%s/op", dir);
    snprintf(cert, sizeof cert, "%s/op-ca.pem", dir);
    snprintf(key, sizeof key, "%s/op-key.pem", dir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
             "-nodes -keyout %s -out %s -subj /CN=operator-ca -days 30 "
             "-addext basicConstraints=critical,CA:TRUE 2>/dev/null",
             sub, key, cert);
    EOS_CHECK_INT(system(cmd), 0);
    eos_ratls_server *srv = NULL;
    eos_ratls_server_options o = {.data_dir = sub, .ca_cert_file = cert, .ca_key_file = key};
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_ratls_server_new(tee, &o, &srv, &d), 0);
    eos_ratls_server_free(srv);
    /* Given once: later starts unseal it without the files. */
    unlink(key);
    eos_ratls_server_options o2 = {.data_dir = sub};
    EOS_CHECK_INT(eos_ratls_server_new(tee, &o2, &srv, &d), 0);
    SSL_CTX *ctx = server_ctx(srv);
    STACK_OF(X509) *chain = NULL;
    X509 *leaf = handshake(ctx, NULL, NULL, 0, NULL, &chain);
    EOS_CHECK(leaf != NULL);
    uint8_t *der[2] = {NULL, NULL};
    size_t sizes[2] = {0, 0};
    for (int i = 0; chain && i < 2 && i < sk_X509_num(chain); i++)
        sizes[i] = (size_t)i2d_X509(sk_X509_value(chain, i), &der[i]);
    eos_ratls_verify_opts vo = {.allow_simulated = 1, .ca_file = cert};
    eos_ratls_verify_result res;
    EOS_CHECK_INT(eos_ratls_verify_chain((const uint8_t *const *)der, sizes, 2, &vo, &res, NULL),
                  0);
    EOS_CHECK_INT(res.chain_anchored, 1);
    for (int i = 0; i < 2; i++)
        OPENSSL_free(der[i]);
    sk_X509_pop_free(chain, X509_free);
    X509_free(leaf);
    SSL_CTX_free(ctx);
    eos_ratls_server_free(srv);
    /* A key that does not match is refused. */
    o.ca_key_file = cert;
    EOS_CHECK(eos_ratls_server_new(tee, &o, &srv, NULL) != 0);
}

static void test_challenge(void)
{
    eos_ratls_server *srv = new_server(dir, 0);
    SSL_CTX *ctx = server_ctx(srv);
    uint8_t nonce[64];
    for (int i = 0; i < 64; i++)
        nonce[i] = (uint8_t)(255 - i);
    int echoed = 0;
    STACK_OF(X509) *chain = NULL;
    X509 *x = handshake(ctx, NULL, nonce, 64, &echoed, &chain);
    EOS_CHECK(x != NULL);
    EOS_CHECK_INT(echoed, 1);
    uint8_t *der[2] = {NULL, NULL};
    size_t sizes[2] = {0, 0};
    for (int i = 0; chain && i < 2; i++)
        sizes[i] = (size_t)i2d_X509(sk_X509_value(chain, i), &der[i]);
    eos_ratls_verify_opts vo = {
        .allow_simulated = 1, .nonce = nonce, .nonce_size = 64, .now = fake_now};
    eos_ratls_verify_result res;
    EOS_CHECK_INT(eos_ratls_verify_chain((const uint8_t *const *)der, sizes, 2, &vo, &res, NULL),
                  0);
    nonce[0] ^= 1; /* another nonce is not bound */
    EOS_CHECK_INT(eos_ratls_verify_chain((const uint8_t *const *)der, sizes, 2, &vo, &res, NULL),
                  EOS_EVERIFY);
    EOS_CHECK_INT(res.failed_step, EOS_RATLS_STEP_CHALLENGE);
    for (int i = 0; i < 2; i++)
        OPENSSL_free(der[i]);
    sk_X509_pop_free(chain, X509_free);
    /* Two challenges get two different leaves. */
    X509 *y = handshake(ctx, NULL, nonce, 8, &echoed, NULL);
    EOS_CHECK(y && X509_cmp(x, y) != 0);
    X509_free(x);
    X509_free(y);
    /* A resumed handshake sends no certificate, so the nonce is not echoed. */
    SSL_SESSION *sess = NULL;
    int reused = 0;
    X509_free(handshake_ex(ctx, NULL, NULL, 0, NULL, NULL, NULL, &sess, NULL));
    EOS_CHECK(sess != NULL);
    X509 *r = handshake_ex(ctx, NULL, nonce, 8, &echoed, NULL, sess, NULL, &reused);
    EOS_CHECK_INT(reused, 1);
    EOS_CHECK_INT(echoed, 0);
    X509_free(r);
    SSL_SESSION_free(sess);
    /* No nonce: no echo. A 65-byte nonce fails the handshake. */
    X509 *z = handshake(ctx, NULL, NULL, 0, &echoed, NULL);
    EOS_CHECK_INT(echoed, 0);
    X509_free(z);
    uint8_t big[65] = {0};
    EOS_CHECK(handshake(ctx, NULL, big, 65, &echoed, NULL) == NULL);
    SSL_CTX_free(ctx);
    eos_ratls_server_free(srv);

    /* With challenges disabled the nonce is ignored and never echoed, so a
     * verifier knows it was not bound. */
    eos_ratls_server_options o = {.data_dir = dir, .disable_challenge = 1};
    EOS_CHECK_INT(eos_ratls_server_new(tee, &o, &srv, NULL), 0);
    ctx = server_ctx(srv);
    echoed = -1;
    X509 *w = handshake(ctx, NULL, nonce, 8, &echoed, NULL);
    EOS_CHECK(w != NULL);
    EOS_CHECK_INT(echoed, 0);
    X509_free(w);
    SSL_CTX_free(ctx);
    eos_ratls_server_free(srv);
}

typedef struct race_arg {
    SSL_CTX *ctx;
    int failures;
} race_arg;

static void *race_client(void *p)
{
    race_arg *a = p;
    for (int i = 0; i < 40; i++) {
        X509 *x = handshake(a->ctx, (i & 1) ? "r.test" : NULL, NULL, 0, NULL, NULL);
        if (!x || !ext(x, EOS_RATLS_OID_CONFIG_ROOT, NULL))
            a->failures++;
        X509_free(x);
    }
    return NULL;
}

static void test_concurrent_swap(void)
{
    /* Handshakes on two threads while the configuration changes under them:
     * every handshake completes with a whole certificate of some set. */
    eos_ratls_server *srv = new_server(dir, 0);
    SSL_CTX *ctx = server_ctx(srv);
    race_arg a = {ctx, 0}, b = {ctx, 0};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, race_client, &a);
    pthread_create(&t2, NULL, race_client, &b);
    for (int i = 0; i < 15; i++) {
        eos_ratls_app app = {.name = "r", .route = "/r", .hostname = "r.test"};
        memset(app.code_hash, i, 32);
        eos_ratls_config cfg = {&app, (size_t)(i & 1), NULL, 0};
        EOS_CHECK_INT(eos_ratls_server_set_config(srv, &cfg, NULL), 0);
    }
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    EOS_CHECK_INT(a.failures + b.failures, 0);
    SSL_CTX_free(ctx);
    eos_ratls_server_free(srv);
}

static void test_oom(void)
{
    /* Every allocation failure while creating the server or changing its
     * configuration is an error, never a crash, a leak or a half change. */
    eos_ratls_app app = {.name = "o", .route = "/o", .hostname = "o.test", .env_json = "{}"};
    eos_ratls_config cfg = {&app, 1, NULL, 0};
    int created = 0;
    for (long n = 1; n < 400 && !created; n++) {
        eos_ratls_server *srv = NULL;
        eos_ratls_server_options o = {.data_dir = dir};
        eos_test_fail_alloc_after(n, 1);
        int rc = eos_ratls_server_new(tee, &o, &srv, NULL);
        if (rc == 0)
            rc = eos_ratls_server_set_config(srv, &cfg, NULL);
        eos_test_fail_alloc_after(0, 0);
        if (rc == 0)
            created = 1;
        else
            EOS_CHECK(rc == EOS_ENOMEM || rc == EOS_ECRYPTO || rc == EOS_ESYS);
        eos_ratls_server_free(srv);
    }
    EOS_CHECK_INT(created, 1);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    eos_tee_config tc = {.kind = "sim", .data_dir = dir};
    if (eos_tee_open(&tc, &tee, NULL) != 0)
        return 1;
    EOS_RUN(test_extensions);
    EOS_RUN(test_sni_and_swap);
    EOS_RUN(test_renewal);
    EOS_RUN(test_ca_persists);
    EOS_RUN(test_operator_ca);
    EOS_RUN(test_challenge);
    EOS_RUN(test_concurrent_swap);
    EOS_RUN(test_oom);
    eos_tee_free(tee);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    return eos_test_finish();
}
