/* The server side of RA-TLS: an immutable, reference-counted "cert set"
 * (Merkle tree, default leaf, one leaf per app hostname) swapped atomically
 * on configuration change or renewal, installed per handshake by an SSL_CTX
 * certificate callback, plus the 0xFFBB challenge extension that makes a
 * fresh leaf bound to the client's nonce. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/pem.h>

#include "internal.h"

typedef struct cfg_copy {
    eos_ratls_config cfg;
    eos_ratls_app *apps;
    eos_ratls_core_setting *core;
} cfg_copy;

typedef struct app_cert {
    const eos_ratls_app *app; /* into the set's cfg_copy */
    X509 *cert;
    EVP_PKEY *key;
} app_cert;

typedef struct cert_set {
    atomic_int refs;
    cfg_copy *cfg;
    eos_ratls_merkle *merkle;
    const eos_ratls_app *single; /* the only app, when exactly one is loaded */
    int64_t not_before;
    X509 *cert;
    EVP_PKEY *key;
    app_cert *apps;
    size_t app_count;
} cert_set;

struct eos_ratls_server {
    eos_tee *tee;
    X509 *ca;
    EVP_PKEY *ca_key;
    STACK_OF(X509) * chain; /* sent after the leaf: the enclave CA, then operator chain */
    uint8_t *ca_der;
    size_t ca_der_size;
    uint8_t measurement[64];
    size_t measurement_size;
    char *server_name;
    int disable_challenge;
    int64_t renew;
    int64_t (*now)(void *);
    void *now_arg;
    pthread_mutex_t lock;    /* guards cur */
    pthread_mutex_t rebuild; /* one rebuild at a time */
    cert_set *cur;
};

typedef struct nonce_box {
    size_t size;
    uint8_t bytes[EOS_RATLS_NONCE_MAX];
} nonce_box;

static int nonce_idx = -1;
static pthread_once_t nonce_once = PTHREAD_ONCE_INIT;

static void nonce_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    OPENSSL_free(ptr);
}

static void nonce_init(void)
{
    nonce_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, nonce_free);
}

static int64_t srv_now(eos_ratls_server *s)
{
    return s->now ? s->now(s->now_arg) : (int64_t)time(NULL);
}

static char *dup_or_null(const char *s, int *fail)
{
    if (!s)
        return NULL;
    char *d = eos_strdup(s);
    if (!d)
        *fail = 1;
    return d;
}

static void free_str(const char *s)
{
    if (s)
        eos_free((void *)s, strlen(s) + 1);
}

static void cfg_free(cfg_copy *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->cfg.app_count; i++) {
        free_str(c->apps[i].name);
        free_str(c->apps[i].route);
        free_str(c->apps[i].hostname);
        free_str(c->apps[i].env_json);
        free_str(c->apps[i].config_json);
        if (c->apps[i].auth_hash)
            eos_free((void *)c->apps[i].auth_hash, 32);
        for (size_t k = 0; k < c->apps[i].secret_count; k++)
            free_str(c->apps[i].secrets[k].key);
        eos_free((void *)c->apps[i].secrets, c->apps[i].secret_count * sizeof(eos_ratls_secret_entry));
        free_str(c->apps[i].outbound);
    }
    for (size_t i = 0; i < c->cfg.core_count; i++) {
        free_str(c->core[i].name);
        eos_free((void *)c->core[i].value, c->core[i].value_size ? c->core[i].value_size : 1);
    }
    eos_free(c->apps, c->cfg.app_count * sizeof *c->apps);
    eos_free(c->core, c->cfg.core_count * sizeof *c->core);
    eos_free(c, sizeof *c);
}

static cfg_copy *cfg_dup(const eos_ratls_config *in)
{
    int fail = 0;
    cfg_copy *c = eos_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    size_t na = in ? in->app_count : 0, nc = in ? in->core_count : 0;
    if ((na && !(c->apps = eos_calloc(na, sizeof *c->apps))) ||
        (nc && !(c->core = eos_calloc(nc, sizeof *c->core)))) {
        eos_free(c->apps, na * sizeof *c->apps);
        eos_free(c, sizeof *c);
        return NULL;
    }
    c->cfg.apps = c->apps;
    c->cfg.core = c->core;
    c->cfg.app_count = na;
    c->cfg.core_count = nc;
    for (size_t i = 0; i < na; i++) {
        c->apps[i].name = dup_or_null(in->apps[i].name, &fail);
        c->apps[i].route = dup_or_null(in->apps[i].route, &fail);
        c->apps[i].hostname = dup_or_null(in->apps[i].hostname, &fail);
        c->apps[i].env_json = dup_or_null(in->apps[i].env_json, &fail);
        c->apps[i].outbound = dup_or_null(in->apps[i].outbound, &fail);
        memcpy(c->apps[i].code_hash, in->apps[i].code_hash, 32);
        c->apps[i].config_json = dup_or_null(in->apps[i].config_json, &fail);
        if (in->apps[i].auth_hash) {
            uint8_t *h = eos_malloc(32);
            if (h)
                memcpy(h, in->apps[i].auth_hash, 32);
            else
                fail = 1;
            c->apps[i].auth_hash = h;
        }
        size_t ns = in->apps[i].secret_count;
        eos_ratls_secret_entry *sec = ns ? eos_calloc(ns, sizeof *sec) : NULL;
        if (ns && !sec) {
            fail = 1;
            continue;
        }
        c->apps[i].secrets = sec;
        c->apps[i].secret_count = ns;
        for (size_t k = 0; k < ns; k++) {
            sec[k].key = dup_or_null(in->apps[i].secrets[k].key, &fail);
            memcpy(sec[k].commitment, in->apps[i].secrets[k].commitment, 32);
        }
    }
    for (size_t i = 0; i < nc; i++) {
        c->core[i].name = dup_or_null(in->core[i].name, &fail);
        if (in->core[i].value) {
            uint8_t *v = eos_malloc(in->core[i].value_size ? in->core[i].value_size : 1);
            if (v)
                memcpy(v, in->core[i].value, in->core[i].value_size);
            else
                fail = 1;
            c->core[i].value = v;
            c->core[i].value_size = in->core[i].value_size;
        }
    }
    if (fail) {
        cfg_free(c);
        return NULL;
    }
    return c;
}

static void set_free(cert_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->app_count; i++) {
        X509_free(s->apps[i].cert);
        EVP_PKEY_free(s->apps[i].key);
    }
    eos_free(s->apps, s->app_count * sizeof *s->apps);
    X509_free(s->cert);
    EVP_PKEY_free(s->key);
    eos_ratls_merkle_free(s->merkle);
    cfg_free(s->cfg);
    eos_free(s, sizeof *s);
}

static void set_put(cert_set *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1)
        set_free(s);
}

static cert_set *set_get(eos_ratls_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    cert_set *s = srv->cur;
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&srv->lock);
    return s;
}

static void leaf_params(eos_ratls_server *srv, const cert_set *s, const eos_ratls_app *app,
                        eos_ratls__leaf_params *p)
{
    memset(p, 0, sizeof *p);
    p->not_before = s->not_before;
    /* Renewal happens after `renew` seconds; the extra day covers clients
     * whose clocks lag and servers that were idle at renewal time. */
    p->lifetime = srv->renew + 86400;
    p->dns_name = app && app->hostname ? app->hostname : srv->server_name;
    p->root = eos_ratls_merkle_root(s->merkle);
    p->apps_hash = eos_ratls_merkle_apps_hash(s->merkle);
    p->app = app;
}

/* Builds a complete set for cfg (taking ownership of it). */
static int build_set(eos_ratls_server *srv, cfg_copy *cfg, cert_set **out, eos_diag *diag)
{
    int rc;
    const eos_ratls_app **sorted = NULL;
    eos_ratls__leaf_params p;
    cert_set *s = eos_calloc(1, sizeof *s);
    if (!s) {
        cfg_free(cfg);
        return EOS_ENOMEM;
    }
    atomic_init(&s->refs, 1);
    s->cfg = cfg;
    s->not_before = srv_now(srv);
    s->not_before -= s->not_before % 60;
    if ((rc = eos_ratls_merkle_build(srv->ca_der, srv->ca_der_size, eos_tee_name(srv->tee),
                                     srv->measurement, srv->measurement_size, &cfg->cfg, &s->merkle,
                                     diag)) != 0 ||
        (rc = eos_ratls__sorted_apps(&cfg->cfg, &sorted, diag)) != 0)
        goto out;
    if (cfg->cfg.app_count == 1)
        s->single = sorted[0];
    leaf_params(srv, s, s->single, &p);
    if ((rc = eos_ratls__make_leaf(srv->tee, srv->ca, srv->ca_key, &p, &s->cert, &s->key, diag)) !=
        0)
        goto out;
    if (cfg->cfg.app_count && !(s->apps = eos_calloc(cfg->cfg.app_count, sizeof *s->apps))) {
        rc = EOS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < cfg->cfg.app_count; i++) {
        if (!sorted[i]->hostname)
            continue;
        leaf_params(srv, s, sorted[i], &p);
        app_cert *ac = &s->apps[s->app_count++];
        ac->app = sorted[i];
        if ((rc = eos_ratls__make_leaf(srv->tee, srv->ca, srv->ca_key, &p, &ac->cert, &ac->key,
                                       diag)) != 0)
            goto out;
    }
    /* app_count counts built entries; keep the allocation size for freeing. */
    if (s->apps && s->app_count != cfg->cfg.app_count) {
        app_cert *shrunk = eos_realloc(s->apps, cfg->cfg.app_count * sizeof *s->apps,
                                       (s->app_count ? s->app_count : 1) * sizeof *s->apps);
        if (!shrunk) {
            rc = EOS_ENOMEM;
            goto out;
        }
        s->apps = shrunk;
        if (!s->app_count) {
            eos_free(s->apps, sizeof *s->apps);
            s->apps = NULL;
        }
    }
    *out = s;
    s = NULL;
out:
    if (sorted)
        eos_free(sorted, cfg->cfg.app_count * sizeof *sorted);
    if (s && s->apps && s->app_count != cfg->cfg.app_count) {
        /* Free with the allocated size on the error path. */
        for (size_t i = 0; i < s->app_count; i++) {
            X509_free(s->apps[i].cert);
            EVP_PKEY_free(s->apps[i].key);
        }
        eos_free(s->apps, cfg->cfg.app_count * sizeof *s->apps);
        s->apps = NULL;
        s->app_count = 0;
    }
    set_free(s);
    return rc;
}

/* Builds from cfg (owned) and swaps the result in; the old set lives on
 * while handshakes that took it still hold references. */
static int rebuild(eos_ratls_server *srv, cfg_copy *cfg, eos_diag *diag)
{
    cert_set *s = NULL;
    int rc = build_set(srv, cfg, &s, diag);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&srv->lock);
    cert_set *old = srv->cur;
    srv->cur = s;
    pthread_mutex_unlock(&srv->lock);
    set_put(old);
    return 0;
}

int eos_ratls_server_set_config(eos_ratls_server *srv, const eos_ratls_config *cfg, eos_diag *diag)
{
    cfg_copy *c = cfg_dup(cfg);
    if (!c)
        return EOS_ENOMEM;
    pthread_mutex_lock(&srv->rebuild);
    int rc = rebuild(srv, c, diag);
    pthread_mutex_unlock(&srv->rebuild);
    return rc;
}

int eos_ratls_server_renew(eos_ratls_server *srv, eos_diag *diag)
{
    pthread_mutex_lock(&srv->rebuild);
    cert_set *s = set_get(srv);
    cfg_copy *c = cfg_dup(&s->cfg->cfg);
    set_put(s);
    int rc = c ? rebuild(srv, c, diag) : EOS_ENOMEM;
    pthread_mutex_unlock(&srv->rebuild);
    return rc;
}

/* Renewal from inside a handshake: only one handshake rebuilds, the others
 * keep serving the current set (still valid for another day). */
static void maybe_renew(eos_ratls_server *srv, cert_set *s)
{
    if (srv_now(srv) - s->not_before < srv->renew)
        return;
    if (pthread_mutex_trylock(&srv->rebuild) != 0)
        return;
    cert_set *cur = set_get(srv);
    if (cur == s) {
        eos_diag d;
        eos_diag_init(&d);
        cfg_copy *c = cfg_dup(&s->cfg->cfg);
        if (!c || rebuild(srv, c, &d) != 0)
            EOS_ERROR("ratls", "certificate renewal failed: %s", d.message);
    }
    set_put(cur);
    pthread_mutex_unlock(&srv->rebuild);
}

static int cert_cb(SSL *ssl, void *arg)
{
    eos_ratls_server *srv = arg;
    const nonce_box *nonce = SSL_get_ex_data(ssl, nonce_idx);
    /* A TLS 1.3 resumption (PSK accepted, already parsed by now) sends no
     * certificate, so installing one would be wasted work; a challenge on a
     * resumed connection is not answered either (see ext_add). */
    if (SSL_session_reused(ssl))
        return 1;
    cert_set *s = set_get(srv);
    if (!nonce && srv_now(srv) - s->not_before >= srv->renew) {
        maybe_renew(srv, s);
        set_put(s);
        s = set_get(srv);
    }
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    const app_cert *ac = NULL;
    for (size_t i = 0; sni && i < s->app_count; i++)
        if (strcasecmp(s->apps[i].app->hostname, sni) == 0)
            ac = &s->apps[i];
    X509 *cert = ac ? ac->cert : s->cert;
    EVP_PKEY *key = ac ? ac->key : s->key;
    X509 *fresh = NULL;
    EVP_PKEY *fresh_key = NULL;
    int ok = 0;
    if (nonce) {
        eos_ratls__leaf_params p;
        eos_diag d;
        eos_diag_init(&d);
        leaf_params(srv, s, ac ? ac->app : s->single, &p);
        p.not_before = srv_now(srv);
        p.nonce = nonce->bytes;
        p.nonce_size = nonce->size;
        if (eos_ratls__make_leaf(srv->tee, srv->ca, srv->ca_key, &p, &fresh, &fresh_key, &d) != 0) {
            EOS_ERROR("ratls", "challenge certificate failed: %s", d.message);
            goto out;
        }
        cert = fresh;
        key = fresh_key;
    }
    ok = SSL_use_cert_and_key(ssl, cert, key, srv->chain, 1) == 1;
out:
    X509_free(fresh);
    EVP_PKEY_free(fresh_key);
    set_put(s);
    return ok;
}

static int ext_parse(SSL *ssl, unsigned int type, unsigned int context, const unsigned char *in,
                     size_t inlen, X509 *x, size_t chainidx, int *al, void *arg)
{
    eos_ratls_server *srv = arg;
    if (!(context & SSL_EXT_CLIENT_HELLO) || srv->disable_challenge)
        return 1;
    if (inlen < 1 || inlen > EOS_RATLS_NONCE_MAX) {
        *al = SSL_AD_ILLEGAL_PARAMETER;
        return 0;
    }
    nonce_box *b = SSL_get_ex_data(ssl, nonce_idx);
    if (!b) {
        b = OPENSSL_zalloc(sizeof *b);
        if (!b || !SSL_set_ex_data(ssl, nonce_idx, b)) {
            OPENSSL_free(b);
            *al = SSL_AD_INTERNAL_ERROR;
            return 0;
        }
    }
    memcpy(b->bytes, in, inlen);
    b->size = inlen;
    return 1;
}

static int ext_add(SSL *ssl, unsigned int type, unsigned int context, const unsigned char **out,
                   size_t *outlen, X509 *x, size_t chainidx, int *al, void *arg)
{
    /* The echo promises a certificate bound to the nonce, which a resumed
     * handshake does not send: then no echo, and the client knows. */
    if (!(context & SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS) || !SSL_get_ex_data(ssl, nonce_idx) ||
        SSL_session_reused(ssl))
        return 0;
    *out = NULL;
    *outlen = 0;
    return 1;
}

int eos_ratls_server_configure_ctx(eos_ratls_server *srv, SSL_CTX *ctx, eos_diag *diag)
{
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION))
        return eos_diag_set(diag, EOS_ETLS, "tls", -1, "cannot restrict the context to TLS 1.3");
    SSL_CTX_set_cert_cb(ctx, cert_cb, srv);
    if (!SSL_CTX_add_custom_ext(ctx, EOS_RATLS_CHALLENGE_EXT,
                                SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_3_ENCRYPTED_EXTENSIONS, ext_add,
                                NULL, NULL, ext_parse, srv))
        return eos_diag_set(diag, EOS_ETLS, "tls", -1,
                            "cannot register TLS extension 0xFFBB (already registered on this "
                            "SSL_CTX?)");
    return 0;
}

int eos_ratls_server_new(eos_tee *tee, const eos_ratls_server_options *opts, eos_ratls_server **out,
                         eos_diag *diag)
{
    int rc = 0;
    X509 *ca = NULL;
    if (!opts || !opts->data_dir)
        return eos_diag_set(diag, EOS_EINVAL, "ratls", -1,
                            "the RA-TLS server needs a data directory for its sealed CA");
    pthread_once(&nonce_once, nonce_init);
    if (nonce_idx < 0)
        return EOS_ENOMEM;
    eos_ratls_server *srv = eos_calloc(1, sizeof *srv);
    if (!srv)
        return EOS_ENOMEM;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_mutex_init(&srv->rebuild, NULL);
    srv->tee = tee;
    srv->disable_challenge = opts->disable_challenge;
    srv->renew = opts->renew_seconds > 0 ? opts->renew_seconds : 86400;
    srv->now = opts->now;
    srv->now_arg = opts->now_arg;
    srv->server_name = eos_strdup(opts->server_name ? opts->server_name : "enclave-os");
    if (!srv->server_name) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if ((rc = eos_tee_measurement(tee, srv->measurement, &srv->measurement_size)) != 0) {
        rc = eos_diag_set(diag, rc, "ratls", -1, "cannot read the TEE measurement");
        goto out;
    }
    if ((rc = eos_ratls__load_ca(tee, opts, &srv->ca, &srv->ca_key, &srv->chain, diag)) != 0)
        goto out;
    uint8_t *der = NULL;
    int n = i2d_X509(srv->ca, &der);
    if (n <= 0 || !(srv->ca_der = eos_malloc((size_t)n))) {
        OPENSSL_free(der);
        rc = EOS_ENOMEM;
        goto out;
    }
    memcpy(srv->ca_der, der, (size_t)n);
    srv->ca_der_size = (size_t)n;
    OPENSSL_free(der);
    X509_up_ref(srv->ca);
    ca = srv->ca;
    if (!sk_X509_unshift(srv->chain, ca)) {
        rc = EOS_ENOMEM;
        goto out;
    }
    ca = NULL;
    cfg_copy *empty = cfg_dup(NULL);
    if (!empty || (rc = build_set(srv, empty, &srv->cur, diag)) != 0) {
        rc = rc ? rc : EOS_ENOMEM;
        goto out;
    }
    *out = srv;
    srv = NULL;
out:
    X509_free(ca);
    eos_ratls_server_free(srv);
    return rc;
}

int eos_ratls_server_export_ca(eos_ratls_server *srv, uint8_t **out, size_t *out_size)
{
    return eos_ratls__encode_ca(srv->chain, srv->ca_key, out, out_size);
}

void eos_ratls_server_free(eos_ratls_server *srv)
{
    if (!srv)
        return;
    set_put(srv->cur);
    X509_free(srv->ca);
    EVP_PKEY_free(srv->ca_key);
    sk_X509_pop_free(srv->chain, X509_free);
    eos_free(srv->ca_der, srv->ca_der_size);
    free_str(srv->server_name);
    pthread_mutex_destroy(&srv->lock);
    pthread_mutex_destroy(&srv->rebuild);
    eos_free(srv, sizeof *srv);
}

static int copy_out(const void *data, size_t size, int nul, void **out, size_t *out_size)
{
    uint8_t *p = eos_malloc(size + (nul ? 1 : 0));
    if (!p)
        return EOS_ENOMEM;
    memcpy(p, data, size);
    if (nul)
        p[size] = 0;
    *out = p;
    *out_size = size;
    return 0;
}

int eos_ratls_server_manifest(eos_ratls_server *srv, uint8_t **out, size_t *out_size)
{
    cert_set *s = set_get(srv);
    size_t n;
    const uint8_t *m = eos_ratls_merkle_manifest(s->merkle, &n);
    int rc = copy_out(m, n, 0, (void **)out, out_size);
    set_put(s);
    return rc;
}

int eos_ratls_server_manifest_json(eos_ratls_server *srv, char **out, size_t *out_size)
{
    cert_set *s = set_get(srv);
    size_t n;
    const char *j = eos_ratls_merkle_manifest_json(s->merkle, &n);
    int rc = copy_out(j, n, 1, (void **)out, out_size);
    set_put(s);
    return rc;
}

void eos_ratls_server_merkle_root(eos_ratls_server *srv, uint8_t out[32])
{
    cert_set *s = set_get(srv);
    memcpy(out, eos_ratls_merkle_root(s->merkle), 32);
    set_put(s);
}

int eos_ratls_server_ca_der(eos_ratls_server *srv, uint8_t **out, size_t *out_size)
{
    return copy_out(srv->ca_der, srv->ca_der_size, 0, (void **)out, out_size);
}

int eos_ratls_server_cert_chain_pem(eos_ratls_server *srv, char **out, size_t *out_size)
{
    cert_set *s = set_get(srv);
    BIO *b = BIO_new(BIO_s_mem());
    int rc = EOS_ENOMEM;
    if (b && PEM_write_bio_X509(b, s->cert)) {
        int ok = 1;
        for (int i = 0; i < sk_X509_num(srv->chain); i++)
            ok = ok && PEM_write_bio_X509(b, sk_X509_value(srv->chain, i));
        char *data;
        long n = BIO_get_mem_data(b, &data);
        if (ok)
            rc = copy_out(data, (size_t)n, 1, (void **)out, out_size);
    }
    BIO_free(b);
    set_put(s);
    return rc;
}
