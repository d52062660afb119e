/* The egress policy of an app: allow-list rules given at load, the TLS trust
 * store built once from the operator's CA bundle, the concurrency limit and
 * the counters. The call machinery itself is in outgoing.c. */
#include <ctype.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "outgoing.h"

const uint8_t eos_wasi__error_code_has_payload[39] = {
    [17] = 1, [21] = 1, [22] = 1, [23] = 1, [26] = 1, [28] = 1,
    [29] = 1, [31] = 1, [32] = 1, [38] = 1,
};

int eos_wasi__error_code_val(eos_wasi__ctx *ctx, eos_cm_val *v, uint32_t index)
{
    v->of.var.index = index;
    v->of.var.payload = NULL;
    if (index < 39 && eos_wasi__error_code_has_payload[index]) {
        /* Every case this host produces with a payload carries an option,
         * given as none. */
        eos_cm_val *p = eos_wasi__val_new(ctx, 1);
        if (!p)
            return EOS_ENOMEM;
        eos_wasi__val_option(p, NULL);
        v->of.var.payload = p;
    }
    return 0;
}

#define RULE_ERR(...) eos_diag_set(diag, EOS_EINVAL, "outbound rule", 0, __VA_ARGS__)

/* Parses one `;name[=value]` option of an attested rule, [o, oend). */
static int rule_option(const char *s, const char *o, const char *oend, eos_wasi__orule *r,
                       unsigned *seen, eos_diag *diag)
{
    static const char *const names[] = {"attested", "simulated", "root", "code", "app"};
    const char *eq = memchr(o, '=', (size_t)(oend - o));
    size_t nl = (size_t)((eq ? eq : oend) - o);
    const char *v = eq ? eq + 1 : oend;
    size_t vl = (size_t)(oend - v);
    unsigned k = 0;
    while (k < 5 && !(strlen(names[k]) == nl && strncasecmp(names[k], o, nl) == 0))
        k++;
    if (k == 5)
        return RULE_ERR("'%s': unknown option '%.*s' (attested, simulated, root=HEX, "
                        "code=HEX, app=NAME)", s, (int)(oend - o), o);
    if (*seen & (1u << k))
        return RULE_ERR("'%s': option '%s' is given twice", s, names[k]);
    *seen |= 1u << k;
    if (k != 0 && !(*seen & 1u))
        return RULE_ERR("'%s': '%s' needs ';attested' first", s, names[k]);
    if ((k <= 1) != !eq)
        return RULE_ERR("'%s': option '%s' %s", s, names[k],
                        k <= 1 ? "takes no value" : "needs a value");
    if (k == 2 || k == 3) {
        char hex[65];
        uint8_t *dst = k == 2 ? r->root : r->code;
        if (vl != 64)
            return RULE_ERR("'%s': %s= wants 64 hex digits", s, names[k]);
        memcpy(hex, v, 64);
        hex[64] = 0;
        if (eos_hex_decode(hex, dst, 32))
            return RULE_ERR("'%s': %s= wants 64 hex digits", s, names[k]);
        if (k == 2)
            r->policy.root = r->root;
        else
            r->policy.code_hash = r->code;
    } else if (k == 4) {
        if (vl == 0 || vl > 63)
            return RULE_ERR("'%s': app= wants an app name of 1 to 63 characters", s);
        for (size_t i = 0; i < vl; i++)
            if (!(isalnum((unsigned char)v[i]) || v[i] == '-' || v[i] == '_' || v[i] == '.'))
                return RULE_ERR("'%s': app= wants letters, digits, '-', '_', '.'", s);
        if (!(r->app = eos_malloc(vl + 1)))
            return EOS_ENOMEM;
        memcpy(r->app, v, vl);
        r->app[vl] = 0;
        r->policy.app = r->app;
    } else if (k == 0) {
        r->attested = true;
    } else {
        r->policy.allow_simulated = true;
    }
    return 0;
}

static void rule_free(eos_wasi__orule *r)
{
    eos_free(r->host, r->host ? strlen(r->host) + 1 : 0);
    eos_free(r->text, r->text ? strlen(r->text) + 1 : 0);
    eos_free(r->app, r->app ? strlen(r->app) + 1 : 0);
    memset(r, 0, sizeof(*r));
}

/* Parses `scheme://host[:port][;option...]` into r (host lower-cased,
 * allocated; free with rule_free, also after an error). */
static int rule_parse(const char *s, eos_wasi__orule *r, eos_diag *diag)
{
    memset(r, 0, sizeof(*r));
    const char *h;
    if (strncasecmp(s, "https://", 8) == 0) {
        r->https = true;
        h = s + 8;
    } else if (strncasecmp(s, "http://", 7) == 0) {
        h = s + 7;
    } else {
        return RULE_ERR("'%s': the rule must start with https:// or http://", s);
    }
    const char *semi = strchr(h, ';');
    const char *end = semi ? semi : h + strlen(h);
    if (end > h && end[-1] == '/')
        end--;
    const char *colon = NULL;
    for (const char *p = h; p < end; p++)
        if (*p == ':')
            colon = p;
    const char *hend = colon ? colon : end;
    size_t hlen = (size_t)(hend - h);
    if (hlen == 0 || hlen > 253)
        return RULE_ERR("'%s': no host", s);
    if (hlen >= 2 && h[0] == '*' && h[1] == '.') {
        r->wildcard = true;
        h += 2;
        hlen -= 2;
        if (!hlen)
            return RULE_ERR("'%s': no host", s);
    }
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)h[i];
        if (!(isalnum(c) || c == '-' || c == '.' || c == '_'))
            return RULE_ERR("'%s': the host may hold letters, digits, '-', '.' only "
                            "(and a leading '*.')", s);
    }
    r->port = r->https ? 443 : 80;
    if (colon) {
        const char *p = colon + 1;
        if (end - p == 1 && *p == '*') {
            r->port = -1;
        } else {
            long v = 0;
            if (p == end)
                return RULE_ERR("'%s': empty port", s);
            for (; p < end; p++) {
                if (!isdigit((unsigned char)*p) || (v = v * 10 + (*p - '0')) > 65535)
                    return RULE_ERR("'%s': bad port", s);
            }
            if (v == 0)
                return RULE_ERR("'%s': bad port", s);
            r->port = (int)v;
        }
    }
    unsigned seen = 0;
    for (const char *o = semi; o; ) {
        o++;
        const char *oend = strchr(o, ';');
        int rc = rule_option(s, o, oend ? oend : o + strlen(o), r, &seen, diag);
        if (rc)
            return rc;
        o = oend;
    }
    if (r->attested && !r->https)
        return RULE_ERR("'%s': an attested peer is reached over https only", s);
    if (r->app && !r->policy.code_hash)
        return RULE_ERR("'%s': app=NAME names whose code=HEX is pinned; give code= too", s);
    r->host = eos_malloc(hlen + 1);
    r->text = eos_strdup(s);
    if (!r->host || !r->text)
        return EOS_ENOMEM;
    for (size_t i = 0; i < hlen; i++)
        r->host[i] = (char)tolower((unsigned char)h[i]);
    r->host[hlen] = 0;
    r->policy.rule = r->text;
    return 0;
}

int eos_wasi_outbound_rule_check(const char *rule, eos_diag *diag)
{
    eos_wasi__orule r;
    if (!rule)
        return eos_diag_set(diag, EOS_EINVAL, "outbound rule", 0, "no rule");
    int rc = rule_parse(rule, &r, diag);
    rule_free(&r);
    return rc;
}

static bool host_match(const eos_wasi__orule *r, const char *host)
{
    if (!r->wildcard)
        return strcmp(r->host, host) == 0;
    size_t hl = strlen(host), rl = strlen(r->host);
    return hl > rl + 1 && host[hl - rl - 1] == '.' && strcmp(host + hl - rl, r->host) == 0;
}

const eos_wasi__orule *eos_wasi__out_allowed(const eos_wasi__outapp *oa, bool https,
                                             const char *host, int port, char *why,
                                             size_t why_size)
{
    const eos_wasi__orule *near = NULL;
    for (size_t i = 0; oa && i < oa->rule_count; i++) {
        const eos_wasi__orule *r = &oa->rules[i];
        if (!host_match(r, host))
            continue;
        if (r->https == https && (r->port < 0 || r->port == port))
            return r;
        if (!near)
            near = r;
    }
    if (near)
        snprintf(why, why_size, "rule '%s' allows only %s on %s", near->text,
                 near->https ? "https" : "plain http",
                 near->port < 0 ? "any port" : "its port");
    else if (!oa || !oa->rule_count)
        snprintf(why, why_size, "the app has no outbound rules");
    else
        snprintf(why, why_size, "no rule of %zu matches the host", oa->rule_count);
    return NULL;
}

/* Adds every certificate of a PEM bundle held in memory (the bytes the
 * configuration commits to, so no file can change under it); 1 when at
 * least one was added. */
static int store_load_pem(X509_STORE *store, const uint8_t *pem, size_t size)
{
    if (size > INT_MAX)
        return 0;
    BIO *b = BIO_new_mem_buf(pem, (int)size);
    STACK_OF(X509_INFO) *infos = b ? PEM_X509_INFO_read_bio(b, NULL, NULL, NULL) : NULL;
    int added = 0, ok = infos != NULL;
    for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
        X509_INFO *xi = sk_X509_INFO_value(infos, i);
        if (xi->x509 && X509_STORE_add_cert(store, xi->x509) != 1)
            ok = 0;
        added += xi->x509 != NULL;
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    BIO_free(b);
    return ok && added > 0;
}

/* Runs instead of OpenSSL's chain verification on an attested call: the
 * peer's whole chain, as presented, goes to the embedder's verifier. */
static int peer_verify(X509_STORE_CTX *xs, void *arg)
{
    eos_wasi__peercheck *pc = arg;
    enum { MAX_CERTS = 8 };
    uint8_t *der[MAX_CERTS] = {0};
    size_t size[MAX_CERTS] = {0};
    size_t n = 0;
    int ok = 0;
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    STACK_OF(X509) *rest = X509_STORE_CTX_get0_untrusted(xs);
    for (int i = -1; leaf && i < (rest ? sk_X509_num(rest) : 0) && n < MAX_CERTS; i++) {
        X509 *x = i < 0 ? leaf : sk_X509_value(rest, i);
        if (i >= 0 && X509_cmp(x, leaf) == 0)
            continue; /* the leaf heads the presented chain too */
        int len = i2d_X509(x, NULL);
        unsigned char *p = len > 0 ? eos_malloc((size_t)len) : NULL;
        if (!p)
            goto out;
        der[n] = p;
        size[n++] = (size_t)len;
        i2d_X509(x, &p);
    }
    if (!n) {
        snprintf(pc->why, sizeof(pc->why), "the peer presented no certificate");
        goto out;
    }
    pc->why[0] = 0;
    const eos_wasi_peer_verifier *v = pc->oa->verifier;
    ok = v->verify(v->arg, (const uint8_t *const *)der, size, n, &pc->rule->policy, pc->why,
                   sizeof(pc->why)) == 0;
    if (!ok && !pc->why[0])
        snprintf(pc->why, sizeof(pc->why), "the peer verifier refused the peer");
out:
    if (!ok) {
        pc->refused = true;
        X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
    }
    for (size_t i = 0; i < n; i++)
        eos_free(der[i], size[i]);
    return ok;
}

void eos_wasi__out_peer_install(SSL_CTX *ctx, eos_wasi__peercheck *pc)
{
    SSL_CTX_set_cert_verify_callback(ctx, peer_verify, pc);
    /* RA-TLS servers speak TLS 1.3 only; a resumed session would skip the
     * check, and curl is told to keep none. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int eos_wasi__out_app_init(eos_wasi_app *app, const eos_wasi_outbound *cfg, eos_diag *diag)
{
    pthread_once(&curl_once, curl_init_once);
    eos_wasi__outapp *oa = eos_calloc(1, sizeof(*oa));
    if (!oa)
        return EOS_ENOMEM;
    app->outbound = oa;
    oa->max_response = cfg->max_response_bytes ? cfg->max_response_bytes : (256ull << 20);
    oa->max_concurrent = cfg->max_concurrent ? cfg->max_concurrent : 32;
    oa->connect_ns = cfg->connect_timeout_ns ? cfg->connect_timeout_ns : 10000000000ull;
    oa->first_byte_ns = cfg->first_byte_timeout_ns ? cfg->first_byte_timeout_ns : 30000000000ull;
    oa->between_ns =
        cfg->between_bytes_timeout_ns ? cfg->between_bytes_timeout_ns : 30000000000ull;
    if (cfg->allow_count) {
        oa->rules = eos_calloc(cfg->allow_count, sizeof(*oa->rules));
        if (!oa->rules)
            return EOS_ENOMEM;
        for (size_t i = 0; i < cfg->allow_count; i++) {
            int rc = rule_parse(cfg->allow[i] ? cfg->allow[i] : "", &oa->rules[i], diag);
            if (rc) {
                rule_free(&oa->rules[i]);
                return rc;
            }
            oa->rule_count++;
            if (oa->rules[i].attested && !cfg->verifier)
                return eos_diag_set(diag, EOS_EINVAL, "outbound rule", 0,
                                    "'%s': attested rules need a peer verifier, and this "
                                    "host has none", cfg->allow[i]);
        }
    }
    oa->verifier = cfg->verifier;
    /* The trust store is built once and shared (reference-counted by
     * OpenSSL) by every TLS context of the app's calls; without rules no
     * call is ever made. */
    if (!oa->rule_count)
        return 0;
    if (!(oa->store = X509_STORE_new()))
        return EOS_ENOMEM;
    int ok = cfg->ca_pem    ? store_load_pem(oa->store, cfg->ca_pem, cfg->ca_pem_size)
             : cfg->ca_file ? X509_STORE_load_file(oa->store, cfg->ca_file)
                            : X509_STORE_set_default_paths(oa->store);
    if (ok != 1)
        return eos_diag_set(diag, EOS_EINVAL, "outbound CA", 0,
                            "the CA bundle %s could not be loaded",
                            cfg->ca_pem ? "(given)" : cfg->ca_file ? cfg->ca_file
                                                                   : "(system default)");
    return 0;
}

void eos_wasi__out_app_free(eos_wasi_app *app)
{
    eos_wasi__outapp *oa = app->outbound;
    if (!oa)
        return;
    for (size_t i = 0; i < oa->rule_count; i++)
        rule_free(&oa->rules[i]);
    eos_free(oa->rules, oa->rules ? sizeof(*oa->rules) * oa->rule_count : 0);
    X509_STORE_free(oa->store);
    eos_free(oa, sizeof(*oa));
    app->outbound = NULL;
}

void eos_wasi_app_outbound_stats(const eos_wasi_app *app, eos_wasi_outbound_stats *out)
{
    memset(out, 0, sizeof(*out));
    eos_wasi__outapp *oa = app ? app->outbound : NULL;
    if (!oa)
        return;
    out->calls = atomic_load(&oa->calls);
    out->denied = atomic_load(&oa->denied);
    out->errors = atomic_load(&oa->errors);
    out->bytes_out = atomic_load(&oa->bytes_out);
    out->bytes_in = atomic_load(&oa->bytes_in);
}
