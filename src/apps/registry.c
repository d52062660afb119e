/* The app table: loaded apps in a copy-on-write array, the table swap of a
 * load (table + Merkle tree + certificates change together, SPEC 3.2 steps
 * 5-6), unload, and lookups for HTTP routing. Readers take a reference, so
 * replacing an app never pulls code from under a request in flight; and the
 * thread that frees pooled instances left idle. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/sha.h>

#include "internal.h"

/* Rebuilds the RA-TLS configuration from a table; borrows everything. Each
 * app's secret commitments are read from the store, where secrets.c keeps
 * them. */
static int push_config(eos_apps *apps, eos_apps_app *const *v, size_t n, eos_diag *d)
{
    int rc = 0;
    if (!apps->ratls)
        return 0;
    eos_ratls_app *ra = n ? eos_calloc(n, sizeof *ra) : NULL;
    if (n && !ra)
        return eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
    for (size_t i = 0; i < n; i++) {
        ra[i].name = v[i]->name;
        ra[i].route = v[i]->route;
        ra[i].hostname = v[i]->hostname;
        ra[i].env_json = v[i]->env_json;
        ra[i].config_json = v[i]->config_json;
        ra[i].auth_hash = v[i]->auth ? eos_auth_app_hash(v[i]->auth) : NULL;
        ra[i].outbound = v[i]->outbound;
        memcpy(ra[i].code_hash, v[i]->code_hash, 32);
        eos_ratls_secret_entry *sec = NULL;
        size_t ns = 0;
        if ((rc = eos_apps__secret_entries(apps, v[i]->name, &sec, &ns)) != 0) {
            rc = eos_diag_set(d, rc, "secret", -1, "cannot read the secrets of app '%s'",
                              v[i]->name);
            goto out;
        }
        ra[i].secrets = sec;
        ra[i].secret_count = ns;
    }
    /* The console, the egress CA bundle and the peers' vendor anchors are
     * part of what the configuration attests (SPEC 5.2); core.outbound_ca's
     * input is the bundle's SHA-256, which wasm_list also names. */
    eos_ratls_core_setting core[3];
    eos_ratls_config cfg = {.apps = ra, .app_count = n, .core = core};
    if (apps->has_console)
        core[cfg.core_count++] =
            (eos_ratls_core_setting){"core.console", apps->console_hash, 32};
    if (apps->outbound_ca_pem)
        core[cfg.core_count++] = (eos_ratls_core_setting){
            "core.outbound_ca", apps->outbound_ca_sha256, 32};
    if (apps->has_peer_anchors)
        core[cfg.core_count++] = (eos_ratls_core_setting){
            "core.peer_anchors", (const uint8_t *)apps->peer_anchors_doc,
            strlen(apps->peer_anchors_doc)};
    rc = eos_ratls_server_set_config(apps->ratls, &cfg, d);
out:
    for (size_t i = 0; i < n; i++)
        eos_apps__secret_entries_free((eos_ratls_secret_entry *)ra[i].secrets, ra[i].secret_count);
    eos_free(ra, n * sizeof *ra);
    return rc;
}

int eos_apps__push_current(eos_apps *apps, eos_diag *d)
{
    eos_apps_app **v = NULL;
    size_t n = 0;
    int rc = eos_apps__snapshot(apps, &v, &n);
    if (rc != 0)
        return rc;
    rc = push_config(apps, v, n, d);
    eos_apps__snapshot_free(v, n);
    return rc;
}

static int find_index(const eos_apps *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i]->name, name) == 0)
            return (int)i;
    return -1;
}

int eos_apps__install(eos_apps *apps, eos_apps_app *a, eos_diag *d)
{
    eos_apps *t = apps;
    int rc = 0;
    pthread_mutex_lock(&t->mgmt);
    pthread_mutex_lock(&t->lock);
    int at = find_index(t, a->name);
    size_t n = at >= 0 ? t->n : t->n + 1;
    eos_apps_app **v = eos_calloc(n, sizeof *v);
    if (!v) {
        pthread_mutex_unlock(&t->lock);
        rc = eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
        goto out;
    }
    if (t->n)
        memcpy(v, t->v, t->n * sizeof *v);
    pthread_mutex_unlock(&t->lock);
    for (size_t i = 0; i < n; i++)
        if (at < 0 ? i == n - 1 : (int)i == at)
            v[i] = a;
    for (size_t i = 0; i < n; i++)
        if (v[i] != a && v[i]->hostname && a->hostname &&
            strcmp(v[i]->hostname, a->hostname) == 0) {
            rc = eos_diag_set(d, EOS_EEXIST, "hostname", -1,
                              "hostname '%s' is already served by app '%s'", a->hostname,
                              v[i]->name);
            eos_free(v, n * sizeof *v);
            goto out;
        }
    /* The same for a route: the first holder would keep every request, and
     * the new app could never be reached there (the replaced app is no
     * longer in v, so a replacement may keep its route). */
    for (size_t i = 0; i < n; i++)
        if (v[i] != a && v[i]->route && a->route && strcmp(v[i]->route, a->route) == 0) {
            rc = eos_diag_set(d, EOS_EEXIST, "route", -1,
                              "route '%s' is already served by app '%s'", a->route, v[i]->name);
            eos_free(v, n * sizeof *v);
            goto out;
        }
    /* With --persist-apps the record is written first: an app that could
     * not be kept is not loaded. The bytes are not needed after that. */
    rc = eos_apps__persist_save(apps, a, d);
    if (rc < 0) {
        eos_free(v, n * sizeof *v);
        goto out;
    }
    eos_free(a->bytes, a->size);
    a->bytes = NULL;
    /* Steps 5 and 6 before the table changes: a configuration the
     * certificates cannot carry is refused and nothing changes. */
    rc = push_config(apps, v, n, d);
    if (rc < 0) {
        eos_free(v, n * sizeof *v);
        goto out;
    }
    eos_apps_app_ref(a);
    pthread_mutex_lock(&t->lock);
    eos_apps_app *old = at >= 0 ? t->v[at] : NULL;
    eos_free(t->v, t->n * sizeof *t->v);
    t->v = v;
    t->n = n;
    pthread_mutex_unlock(&t->lock);
    eos_apps_app_unref(old);
    atomic_fetch_add(&apps->loads, 1);
out:
    pthread_mutex_unlock(&t->mgmt);
    return rc;
}

int eos_apps__remove(eos_apps *apps, const char *name, eos_diag *d)
{
    eos_apps *t = apps;
    int rc = 0;
    pthread_mutex_lock(&t->mgmt);
    pthread_mutex_lock(&t->lock);
    int at = find_index(t, name);
    if (at < 0) {
        pthread_mutex_unlock(&t->lock);
        rc = eos_diag_set(d, EOS_ENOTFOUND, "unload", -1, "no app named '%.64s' is loaded", name);
        goto out;
    }
    size_t n = t->n - 1;
    eos_apps_app **v = n ? eos_calloc(n, sizeof *v) : NULL;
    if (n && !v) {
        pthread_mutex_unlock(&t->lock);
        rc = EOS_ENOMEM;
        goto out;
    }
    for (size_t i = 0, j = 0; i < t->n; i++)
        if ((int)i != at)
            v[j++] = t->v[i];
    pthread_mutex_unlock(&t->lock);
    rc = push_config(apps, v, n, d);
    if (rc < 0) {
        eos_free(v, n * sizeof *v);
        goto out;
    }
    eos_diag pd;
    eos_diag_init(&pd);
    if (eos_apps__persist_delete(apps, name, &pd) < 0 && pd.code != EOS_ENOTFOUND)
        EOS_WARN("net", "app '%s' unloaded but its persisted copy remains: %s", name, pd.message);
    pthread_mutex_lock(&t->lock);
    eos_apps_app *old = t->v[at];
    eos_free(t->v, t->n * sizeof *t->v);
    t->v = v;
    t->n = n;
    pthread_mutex_unlock(&t->lock);
    eos_apps_app_unref(old);
out:
    pthread_mutex_unlock(&t->mgmt);
    return rc;
}

eos_apps_app *eos_apps__get(eos_apps *apps, const char *name)
{
    eos_apps *t = apps;
    eos_apps_app *a = NULL;
    pthread_mutex_lock(&t->lock);
    int at = find_index(t, name);
    if (at >= 0) {
        a = t->v[at];
        eos_apps_app_ref(a);
    }
    pthread_mutex_unlock(&t->lock);
    return a;
}

/* The length of route's prefix of path at a '/' boundary ("/app/" routes
 * like "/app", "/" matches everything with length 0), or -1. */
static long route_match(const char *r, const char *path)
{
    size_t n = strlen(r);
    while (n > 1 && r[n - 1] == '/')
        n--;
    if (n == 1 && r[0] == '/')
        n = 0;
    if (strncmp(path, r, n) != 0 || (path[n] != 0 && path[n] != '/' && path[n] != '?'))
        return -1;
    return (long)n;
}

/* Routing (SPEC 4): the app whose hostname equals host wins; otherwise the
 * longest route that prefixes path at a '/' boundary. Either way the app's
 * route is the prefix taken off the path when the path lies under it, so an
 * app sees the same path whether it was reached by hostname or by route. */
eos_apps_app *eos_apps_route(eos_apps *apps, const char *host, const char *path,
                             size_t *out_prefix_len)
{
    eos_apps *t = apps;
    eos_apps_app *best = NULL;
    size_t best_len = 0;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; host && i < t->n; i++)
        if (t->v[i]->hostname && strcasecmp(t->v[i]->hostname, host) == 0) {
            best = t->v[i];
            long m = route_match(best->route, path);
            best_len = m > 0 ? (size_t)m : 0;
            break;
        }
    for (size_t i = 0; !best && i < t->n; i++) {
        long m = route_match(t->v[i]->route, path);
        if (m < 0)
            continue;
        if (!best || (size_t)m > best_len) {
            best = t->v[i];
            best_len = (size_t)m;
        }
    }
    if (best)
        eos_apps_app_ref(best);
    pthread_mutex_unlock(&t->lock);
    *out_prefix_len = best_len;
    return best;
}

/* A snapshot of the table with a reference on each app; free with
 * eos_apps__snapshot_free(). */
int eos_apps__snapshot(eos_apps *apps, eos_apps_app ***out, size_t *out_count)
{
    eos_apps *t = apps;
    pthread_mutex_lock(&t->lock);
    size_t n = t->n;
    eos_apps_app **v = n ? eos_calloc(n, sizeof *v) : NULL;
    if (n && !v) {
        pthread_mutex_unlock(&t->lock);
        return EOS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        v[i] = t->v[i];
        eos_apps_app_ref(v[i]);
    }
    pthread_mutex_unlock(&t->lock);
    *out = v;
    *out_count = n;
    return 0;
}

void eos_apps__snapshot_free(eos_apps_app **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        eos_apps_app_unref(v[i]);
    eos_free(v, n * sizeof *v);
}

/* Giving pooled instances back: a thread that wakes every half idle period
 * and frees every app's instances unused for longer, so an app that stops
 * receiving requests shrinks to nothing without waiting for one. */
static void *trimmer(void *arg)
{
    eos_apps *t = arg;
    pthread_mutex_lock(&t->trim_lock);
    while (!t->trim_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        uint64_t ns = (uint64_t)until.tv_nsec + (uint64_t)t->pool_idle_ms * 500000u;
        until.tv_sec += (time_t)(ns / 1000000000u);
        until.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&t->trim_cond, &t->trim_lock, &until);
        if (t->trim_stop)
            break;
        pthread_mutex_unlock(&t->trim_lock);
        eos_apps_app **v = NULL;
        size_t n = 0;
        if (eos_apps__snapshot(t, &v, &n) == 0) {
            for (size_t i = 0; i < n; i++)
                eos_wasi_app_trim(v[i]->wapp, t->pool_idle_ms);
            eos_apps__snapshot_free(v, n);
        }
        pthread_mutex_lock(&t->trim_lock);
    }
    pthread_mutex_unlock(&t->trim_lock);
    return NULL;
}

static int trimmer_start(eos_apps *t)
{
    pthread_mutex_init(&t->trim_lock, NULL);
    pthread_cond_init(&t->trim_cond, NULL);
    t->trim_inited = 1;
    if (!t->pool_size)
        return 0;
    if (pthread_create(&t->trim_thread, NULL, trimmer, t) != 0)
        return EOS_ESYS;
    t->trim_running = 1;
    return 0;
}

static void trimmer_stop(eos_apps *t)
{
    if (!t->trim_inited)
        return;
    if (t->trim_running) {
        pthread_mutex_lock(&t->trim_lock);
        t->trim_stop = 1;
        pthread_cond_signal(&t->trim_cond);
        pthread_mutex_unlock(&t->trim_lock);
        pthread_join(t->trim_thread, NULL);
    }
    pthread_cond_destroy(&t->trim_cond);
    pthread_mutex_destroy(&t->trim_lock);
}

/* Reads the egress CA bundle once: apps trust exactly the bytes the
 * core.outbound_ca leaf commits to, whatever later happens to the file. */
static int read_bundle(eos_apps *t, eos_diag *d)
{
    enum { MAX_BUNDLE = 16 << 20 };
    int rc = 0;
    FILE *f = fopen(t->outbound_ca, "rb");
    if (!f)
        return eos_diag_set(d, EOS_EIO, "outbound CA", -1, "cannot open '%s'", t->outbound_ca);
    size_t cap = 64 << 10, n = 0;
    uint8_t *buf = eos_malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= MAX_BUNDLE)
            break;
        uint8_t *nb = eos_realloc(buf, cap, cap * 2);
        if (!nb) {
            eos_free(buf, cap);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (!buf)
        rc = eos_diag_set(d, EOS_ENOMEM, "outbound CA", -1, "out of memory");
    else if (ferror(f) || n == 0 || n == cap)
        rc = eos_diag_set(d, EOS_EIO, "outbound CA", -1,
                          "cannot read '%s' (empty, unreadable or over 16 MiB)", t->outbound_ca);
    fclose(f);
    if (rc < 0) {
        eos_free(buf, cap);
        return rc;
    }
    /* Shrink to size, so the free needs only the size. */
    uint8_t *exact = eos_malloc(n);
    if (!exact) {
        eos_free(buf, cap);
        return eos_diag_set(d, EOS_ENOMEM, "outbound CA", -1, "out of memory");
    }
    memcpy(exact, buf, n);
    eos_free(buf, cap);
    SHA256(exact, n, t->outbound_ca_sha256);
    t->outbound_ca_pem = exact;
    t->outbound_ca_size = n;
    return 0;
}

int eos_apps_new(const eos_apps_config *cfg, eos_apps **out, eos_diag *d)
{
    int rc = EOS_ENOMEM;
    eos_apps *t = eos_calloc(1, sizeof *t);
    if (!t)
        return eos_diag_set(d, EOS_ENOMEM, "apps", -1, "out of memory");
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->mgmt, NULL);
    if ((rc = eos_apps__peer_anchors_init(t, cfg ? cfg->peer_anchors : NULL, d)) < 0)
        goto out;
    if (cfg) {
        t->ratls = cfg->ratls;
        t->kv = cfg->kv;
        if (cfg->outbound_ca && !(t->outbound_ca = eos_strdup(cfg->outbound_ca))) {
            rc = eos_diag_set(d, EOS_ENOMEM, "apps", -1, "out of memory");
            goto out;
        }
        if (cfg->outbound_ca && (rc = read_bundle(t, d)) < 0)
            goto out;
        t->tier = cfg->tier;
        t->bounds = cfg->bounds;
        t->code_cache = cfg->code_cache;
        t->no_compiled_tier = cfg->no_compiled_tier;
        if (cfg->token) {
            t->token = eos_strdup(cfg->token);
            if (!t->token) {
                rc = eos_diag_set(d, EOS_ENOMEM, "apps", -1, "out of memory");
                goto out;
            }
        }
        if (cfg->persist && cfg->kv) {
            rc = eos_kv_ns_open(cfg->kv, "sys", &t->sys_ns, d);
            if (rc < 0)
                goto out;
        }
        if (cfg->console_hash) {
            memcpy(t->console_hash, cfg->console_hash, 32);
            t->has_console = 1;
        }
        /* The first handshake already sees the core leaves. */
        if ((t->has_console || t->outbound_ca_pem || t->has_peer_anchors) &&
            (rc = push_config(t, NULL, 0, d)) < 0)
            goto out;
        t->max_request_ms = cfg->max_request_ms;
        t->pool_size = cfg->pool_size;
        t->pool_idle_ms = cfg->pool_idle_ms;
    }
    if (!t->pool_idle_ms)
        t->pool_idle_ms = 10000;
    rc = trimmer_start(t);
    if (rc < 0) {
        rc = eos_diag_set(d, rc, "apps", -1, "cannot start the instance pool's trimmer");
        goto out;
    }
out:
    if (rc < 0) {
        eos_apps_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void eos_apps_free(eos_apps *t)
{
    if (!t)
        return;
    if (t->cluster_stop)
        t->cluster_stop(t);
    trimmer_stop(t);
    for (size_t i = 0; i < t->n; i++)
        eos_apps_app_unref(t->v[i]);
    eos_free(t->v, t->n * sizeof *t->v);
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->mgmt);
    eos_kv_ns_close(t->sys_ns);
    if (t->token)
        eos_free(t->token, strlen(t->token) + 1);
    if (t->outbound_ca)
        eos_free(t->outbound_ca, strlen(t->outbound_ca) + 1);
    eos_free(t->outbound_ca_pem, t->outbound_ca_size);
    eos_apps__peer_anchors_free(t);
    eos_free(t, sizeof *t);
}

int eos_apps_has_token(const eos_apps *t)
{
    return t->token != NULL;
}

uint64_t eos_apps_load_count(const eos_apps *t)
{
    return atomic_load(&t->loads);
}

int eos_apps_stats(eos_apps *t, eos_apps_stat **out, size_t *out_count)
{
    eos_apps_app **v = NULL;
    size_t n = 0;
    int rc = eos_apps__snapshot(t, &v, &n);
    if (rc < 0)
        return rc;
    eos_apps_stat *s = n ? eos_calloc(n, sizeof *s) : NULL;
    if (n && !s) {
        eos_apps__snapshot_free(v, n);
        return EOS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(s[i].name, sizeof s[i].name, "%s", v[i]->name);
        s[i].requests = atomic_load(&v[i]->requests);
        s[i].errors = atomic_load(&v[i]->errors);
        s[i].fuel = atomic_load(&v[i]->fuel);
        eos_wasi_app_outbound_stats(v[i]->wapp, &s[i].outbound);
        s[i].time_us = atomic_load(&v[i]->time_us);
        eos_cm_component_tier_info(v[i]->comp, &s[i].tier);
    }
    eos_apps__snapshot_free(v, n);
    *out = s;
    *out_count = n;
    return 0;
}

int eos_apps_load_bytes(eos_apps *t, const char *name, const uint8_t *bytes, size_t size,
                        const char *route, const char *hostname, const char *env_json,
                        eos_diag *d)
{
    eos_apps_load_args args;
    memset(&args, 0, sizeof args);
    args.name = name;
    args.route = route;
    args.hostname = hostname;
    args.env_json = env_json;
    args.bytes = eos_malloc(size ? size : 1);
    if (!args.bytes)
        return eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
    memcpy(args.bytes, bytes, size);
    args.size = size;
    eos_apps_app *a = NULL;
    int rc = eos_apps__app_create(t, &args, &a, d);
    if (rc == 0)
        rc = eos_apps__install(t, a, d);
    eos_apps_app_unref(a);
    return rc;
}
