/* eos_client_verify: the server's manifest and app list over the framed
 * protocol, the RA-TLS checks of the ratls layer, and each listed app
 * confirmed against the manifest once that was checked against the
 * certificate's root. Only confirmed values reach the typed result. */
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>
#include <yajl/yajl_tree.h>

#include "eos/client.h"
#include "eos/ratls.h"

static char *dup_n(const char *s, size_t n)
{
    char *p = eos_malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

static void free_str(char *s)
{
    if (s)
        eos_free(s, strlen(s) + 1);
}

/* Fetches the manifest (binary; free with eos_free(*out, *out_size)) and the
 * wasm_list answer (NUL-terminated; free with eos_client_doc_free). The
 * connection needs no verification of its own: what it brings is used only
 * once the verified certificate's root vouches for the manifest. Returns 0,
 * or -1 when the server gave no manifest. */
static int fetch(const char *hostport, const char *sni, uint8_t **out, size_t *out_size,
                 char **list, size_t *list_size)
{
    eos_client_config cfg;
    eos_client_config_init(&cfg);
    cfg.server_name = sni;
    eos_client *c = NULL;
    eos_diag d;
    eos_diag_init(&d);
    char *doc = NULL;
    size_t doc_size = 0;
    int rc = eos_client_connect(&cfg, hostport, &c, &d);
    if (rc == 0)
        rc = eos_client_manifest(c, &doc, &doc_size, &d);
    if (rc == 0)
        rc = eos_ratls_manifest_from_json(doc, doc_size, out, out_size, &d);
    eos_client_doc_free(doc, doc_size);
    /* The apps' listed values, to be confirmed against the manifest's leaves. */
    if (rc == 0 && eos_client_list(c, list, list_size, &d) != 0)
        *list = NULL;
    eos_client_close(c);
    return rc == 0 ? 0 : -1;
}

/* v's string, "" when v is not one. */
static const char *sval(yajl_val v)
{
    const char *s = v && YAJL_IS_STRING(v) ? v->u.string : NULL;
    return s ? s : "";
}

static yajl_val get(yajl_val v, const char *key, yajl_type t)
{
    const char *path[] = {key, NULL};
    return v ? yajl_tree_get(v, path, t) : NULL;
}

/* The wasm_list entry of the app called name, or NULL. */
static yajl_val listed_app(yajl_val list, const char *name)
{
    yajl_val apps = get(list, "apps", yajl_t_array);
    for (size_t i = 0; apps && i < apps->u.array.len; i++) {
        yajl_val n = get(apps->u.array.values[i], "name", yajl_t_string);
        if (n && strcmp(sval(n), name) == 0)
            return apps->u.array.values[i];
    }
    return NULL;
}

/* The manifest's leaf "wasm.NAME.SUFFIX", or NULL. */
static const uint8_t *leaf(const eos_ratls_manifest *m, const char *name, const char *suffix)
{
    size_t nn = strlen(name), ns = strlen(suffix);
    for (size_t i = 0; i < m->count; i++) {
        const eos_ratls_manifest_entry *e = &m->entries[i];
        if (e->name_len == 5 + nn + 1 + ns && memcmp(e->name, "wasm.", 5) == 0 &&
            memcmp(e->name + 5, name, nn) == 0 && e->name[5 + nn] == '.' &&
            memcmp(e->name + 6 + nn, suffix, ns) == 0)
            return e->hash;
    }
    return NULL;
}

/* 1 when the value's hash is the leaf: SHA-256 of the bytes, or zero for an
 * unset value; an absent leaf matches only an unset value. */
static int matches(const uint8_t *want, const void *value, size_t size, int set)
{
    uint8_t h[32];
    if (!want)
        return !set;
    if (set)
        SHA256(value, size, h);
    else
        memset(h, 0, 32);
    return memcmp(h, want, 32) == 0;
}

/* Confirms the listed values of app a (name set) against the manifest. */
static int confirm_app(const eos_ratls_manifest *m, yajl_val entry, eos_client_verified_app *a,
                       int *mismatch)
{
    const uint8_t *code_leaf = leaf(m, a->name, "code_hash");
    yajl_val hv = get(entry, "code_hash", yajl_t_string);
    if (!entry || !hv || strlen(sval(hv)) != 64 ||
        eos_hex_decode(sval(hv), a->code_hash, 32) != 0)
        return 0; /* not listed: nothing to confirm, nothing shown */
    a->has_code_hash = 1;
    uint8_t h[32];
    SHA256(a->code_hash, 32, h);
    int ok = code_leaf && memcmp(h, code_leaf, 32) == 0;
    yajl_val rv = get(entry, "route", yajl_t_string);
    const char *route = rv ? sval(rv) : NULL;
    ok &= route && matches(leaf(m, a->name, "route"), route, strlen(route), 1);
    yajl_val hn = get(entry, "hostname", yajl_t_string);
    const char *host = hn ? sval(hn) : NULL;
    ok &= matches(leaf(m, a->name, "hostname"), host, host ? strlen(host) : 0, host != NULL);
    /* The listed rules, joined by '\n' as the result keeps them. */
    yajl_val rules = get(entry, "allow_outbound", yajl_t_array);
    size_t len = 0;
    for (size_t i = 0; rules && i < rules->u.array.len; i++)
        if (YAJL_IS_STRING(rules->u.array.values[i]))
            len += strlen(sval(rules->u.array.values[i])) + 1;
    char *joined = NULL;
    if (len) {
        if (!(joined = eos_malloc(len)))
            return EOS_ENOMEM;
        size_t o = 0;
        for (size_t i = 0; i < rules->u.array.len; i++) {
            if (!YAJL_IS_STRING(rules->u.array.values[i]))
                continue;
            const char *r = sval(rules->u.array.values[i]);
            if (o)
                joined[o++] = '\n';
            memcpy(joined + o, r, strlen(r));
            o += strlen(r);
        }
        joined[o] = 0;
    }
    /* The leaf's input is the rules' canonical JSON array (SPEC 5.2). */
    char *canon = NULL;
    size_t canon_size = 0;
    if (joined && eos_ratls_canonical_rules(joined, &canon, &canon_size) != 0) {
        eos_free(joined, len);
        return EOS_ENOMEM;
    }
    ok &= matches(leaf(m, a->name, "outbound"), canon, canon_size, joined != NULL);
    if (canon)
        eos_free(canon, canon_size + 1);
    a->confirmed = ok;
    *mismatch |= !ok;
    yajl_val tv = get(entry, "tier", yajl_t_string);
    if (ok) {
        /* Only values the manifest vouches for are handed on. */
        a->route = eos_strdup(route);
        a->hostname = host ? eos_strdup(host) : NULL;
        a->outbound = joined;
        joined = NULL;
        if (!a->route || (host && !a->hostname))
            return EOS_ENOMEM;
    }
    if (joined)
        eos_free(joined, len);
    if (tv && !(a->tier = eos_strdup(sval(tv))))
        return EOS_ENOMEM;
    return 0;
}

static int is_code_hash_leaf(const eos_ratls_manifest_entry *e)
{
    return e->name_len > 15 && memcmp(e->name, "wasm.", 5) == 0 &&
           memcmp(e->name + e->name_len - 10, ".code_hash", 10) == 0;
}

/* 1 when leaf f belongs to another app whose name extends name with ".":
 * names may hold dots, so "wasm.a.b.route" is app "a.b"'s when it exists. */
static int longer_app_leaf(const eos_ratls_manifest *m, const char *name,
                           const eos_ratls_manifest_entry *f)
{
    size_t nn = strlen(name);
    for (size_t i = 0; i < m->count; i++) {
        const eos_ratls_manifest_entry *g = &m->entries[i];
        if (!is_code_hash_leaf(g) || g->name_len - 15 <= nn + 1 ||
            memcmp(g->name + 5, name, nn) != 0 || g->name[5 + nn] != '.')
            continue;
        size_t prefix = g->name_len - 10 + 1; /* "wasm.NAME2." */
        if (f->name_len > prefix && memcmp(f->name, g->name, prefix - 1) == 0 &&
            f->name[prefix - 1] == '.')
            return 1;
    }
    return 0;
}

/* The app's leaves besides its code hash: its configuration's commitments. */
static int commitments(const eos_ratls_manifest *m, eos_client_verified_app *a)
{
    size_t nn = strlen(a->name), count = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (!count)
                return 0;
            if (!(a->commitments = eos_calloc(count, sizeof *a->commitments)))
                return EOS_ENOMEM;
            a->commitment_count = count;
            count = 0;
        }
        for (size_t j = 0; j < m->count; j++) {
            const eos_ratls_manifest_entry *f = &m->entries[j];
            if (f->name_len <= 5 + nn + 1 || memcmp(f->name, "wasm.", 5) != 0 ||
                memcmp(f->name + 5, a->name, nn) != 0 || f->name[5 + nn] != '.' ||
                (f->name_len == 5 + nn + 10 && memcmp(f->name + 5 + nn, ".code_hash", 10) == 0) ||
                longer_app_leaf(m, a->name, f))
                continue;
            if (pass == 1) {
                eos_client_commitment *c = &a->commitments[count];
                if (!(c->name = dup_n(f->name + 6 + nn, f->name_len - 6 - nn)))
                    return EOS_ENOMEM;
                memcpy(c->hash, f->hash, 32);
            }
            count++;
        }
    }
    return 0;
}

/* Every app of the checked manifest m, its leaves, and the console and
 * egress CA leaves. */
static int collect(const eos_ratls_manifest *m, const char *list_json, eos_client_verify_result *out)
{
    char err[128];
    int rc = 0;
    size_t n = 0;
    yajl_val list = list_json ? yajl_tree_parse(list_json, err, sizeof err) : NULL;
    for (size_t i = 0; i < m->count; i++) {
        const eos_ratls_manifest_entry *e = &m->entries[i];
        n += is_code_hash_leaf(e);
        if (e->name_len == 12 && memcmp(e->name, "core.console", 12) == 0) {
            memcpy(out->console_leaf, e->hash, 32);
            out->has_console = 1;
        }
        if (e->name_len == 16 && memcmp(e->name, "core.outbound_ca", 16) == 0) {
            memcpy(out->outbound_ca_leaf, e->hash, 32);
            out->has_outbound_ca = 2;
        }
    }
    /* The bundle's hash the server names is kept only when it is the leaf's input. */
    const char *ca_path[] = {"outbound_ca", NULL};
    yajl_val ca = list ? yajl_tree_get(list, ca_path, yajl_t_string) : NULL;
    if (out->has_outbound_ca && ca) {
        uint8_t h[32], leafh[32];
        const char *hex = YAJL_GET_STRING(ca);
        if (hex && strlen(hex) == 64 && eos_hex_decode(hex, h, 32) == 0) {
            SHA256(h, 32, leafh);
            if (memcmp(leafh, out->outbound_ca_leaf, 32) == 0) {
                memcpy(out->outbound_ca, h, 32);
                out->has_outbound_ca = 1;
            }
        }
        out->mismatch |= out->has_outbound_ca != 1;
    }
    if (n && !(out->apps = eos_calloc(n, sizeof *out->apps))) {
        rc = EOS_ENOMEM;
        goto out;
    }
    out->app_count = n;
    n = 0;
    for (size_t i = 0; i < m->count && rc == 0; i++) {
        const eos_ratls_manifest_entry *e = &m->entries[i];
        if (!is_code_hash_leaf(e))
            continue;
        eos_client_verified_app *a = &out->apps[n++];
        if (!(a->name = dup_n(e->name + 5, e->name_len - 15)))
            rc = EOS_ENOMEM;
        if (rc == 0)
            rc = commitments(m, a);
        if (rc == 0)
            rc = confirm_app(m, listed_app(list, a->name), a, &out->mismatch);
    }
    out->apps_listed = rc == 0;
out:
    yajl_tree_free(list);
    return rc;
}

/* Splits HOST:PORT (or [V6]:PORT). */
static int split_target(const char *t, char *host, size_t host_size, char *port, size_t port_size)
{
    const char *colon = strrchr(t, ':');
    if (!colon || !colon[1] || strlen(colon + 1) >= port_size)
        return -1;
    const char *h = t;
    size_t hn = (size_t)(colon - t);
    if (hn >= 2 && t[0] == '[' && t[hn - 1] == ']') {
        h++;
        hn -= 2;
    }
    if (hn == 0 || hn >= host_size)
        return -1;
    memcpy(host, h, hn);
    host[hn] = 0;
    strcpy(port, colon + 1);
    return 0;
}

int eos_client_verify(const char *hostport, const eos_ratls_verify_opts *opts,
                      eos_client_verify_result *out, eos_diag *d)
{
    eos_ratls_verify_opts o;
    eos_ratls_manifest m;
    uint8_t *manifest = NULL;
    size_t manifest_size = 0, list_size = 0;
    char *list = NULL, host[256], port[16];
    int rc;
    memset(out, 0, sizeof *out);
    memset(&m, 0, sizeof m);
    out->failed_step = eos_ratls_step_name(EOS_RATLS_STEP_CONNECT);
    if (opts)
        o = *opts;
    else
        memset(&o, 0, sizeof o);
    if (!hostport || split_target(hostport, host, sizeof host, port, sizeof port) != 0)
        return eos_diag_set(d, EOS_EINVAL, "connect", -1, "expected HOST:PORT, got \"%s\"",
                            hostport ? hostport : "");
    if (!(out->detail = eos_calloc(1, sizeof *out->detail)))
        return EOS_ENOMEM;
    if (!o.manifest && fetch(hostport, o.server_name, &manifest, &manifest_size, &list,
                             &list_size) == 0) {
        o.manifest = manifest;
        o.manifest_size = manifest_size;
    }
    eos_ratls_verify_result *r = out->detail;
    rc = eos_ratls_verify_connect(host, port, &o, r, d);
    if (r->manifest_checked) {
        eos_diag md;
        eos_diag_init(&md);
        int prc = eos_ratls_manifest_parse(o.manifest, o.manifest_size, &m, &md);
        if (prc == 0)
            prc = collect(&m, list, out);
        if (prc == EOS_ENOMEM && rc == 0)
            rc = eos_diag_set(d, EOS_ENOMEM, "apps", -1, "out of memory listing the apps");
    }
    if (out->mismatch && rc == 0) {
        rc = eos_diag_set(d, EOS_EVERIFY, "code-hash", -1,
                          "the server lists an app that is not the one in its attested manifest");
        r->failed_step = EOS_RATLS_STEP_CODE_HASH;
    }
    out->failed_step = eos_ratls_step_name(r->failed_step);
    const char *kind = eos_evidence_kind_name((int)r->kind);
    snprintf(out->tee, sizeof out->tee, "%s", kind ? kind : "");
    out->simulated = r->simulated;
    out->debug = r->debug;
    memcpy(out->measurement, r->measurement, sizeof out->measurement);
    out->measurement_size = r->measurement_size;
    out->has_root = r->failed_step == EOS_RATLS_STEP_NONE ||
                    r->failed_step >= EOS_RATLS_STEP_MANIFEST;
    memcpy(out->config_root, r->merkle_root, 32);
    memcpy(out->apps_hash, r->apps_hash, 32);
    out->manifest_checked = r->manifest_checked;
    memcpy(out->cert_sha256, r->cert_sha256, 32);
    out->has_cert = r->has_cert;
    eos_ratls_manifest_free(&m);
    eos_client_doc_free(list, list_size);
    if (manifest)
        eos_free(manifest, manifest_size);
    return rc;
}

void eos_client_verify_result_free(eos_client_verify_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->apps && i < r->app_count; i++) {
        eos_client_verified_app *a = &r->apps[i];
        free_str(a->name);
        free_str(a->route);
        free_str(a->hostname);
        free_str(a->tier);
        free_str(a->outbound);
        for (size_t j = 0; j < a->commitment_count; j++)
            free_str(a->commitments[j].name);
        if (a->commitments)
            eos_free(a->commitments, a->commitment_count * sizeof *a->commitments);
    }
    if (r->apps)
        eos_free(r->apps, r->app_count * sizeof *r->apps);
    if (r->detail)
        eos_free(r->detail, sizeof *r->detail);
    memset(r, 0, sizeof *r);
}
