/* The app table: loaded apps as reference-counted objects, the load pipeline
 * of SPEC 3.2 (hash, validate, link, create, then table + Merkle tree +
 * certificates change together), unload, and lookups for HTTP routing.
 * Readers take a reference, so replacing an app never pulls code from under
 * a request in flight. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <yajl/yajl_tree.h>

#include <openssl/evp.h>

#include "internal.h"

static char *dup_or_null(const char *s)
{
    return s ? eos_strdup(s) : NULL;
}

static void free_str(char *s)
{
    if (s)
        eos_free(s, strlen(s) + 1);
}

void eos_net__app_ref(eos_net__app *a)
{
    atomic_fetch_add(&a->refs, 1);
}

void eos_net__app_unref(eos_net__app *a)
{
    if (!a || atomic_fetch_sub(&a->refs, 1) != 1)
        return;
    eos_wasi_app_free(a->wapp);
    eos_cm_component_free(a->comp);
    for (size_t i = 0; i < a->env_count; i++) {
        free_str((char *)a->env[i].key);
        free_str((char *)a->env[i].value);
    }
    eos_free(a->env, a->env_count * sizeof *a->env);
    eos_free(a->bytes, a->size);
    free_str(a->name);
    free_str(a->route);
    free_str(a->hostname);
    free_str(a->env_json);
    free_str(a->info);
    eos_free(a, sizeof *a);
    /* An app's code and data are tens of MB freed on whichever thread drops
     * the last reference: without a trim, glibc keeps them in that thread's
     * arena and the server's resident size only grows with loads. */
    malloc_trim(0);
}

int eos_net__app_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 63)
        return 0;
    if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static int route_valid(const char *r)
{
    if (!r || r[0] != '/' || strlen(r) > 255)
        return 0;
    if (strncmp(r, "/.well-known/enclave-os", 23) == 0)
        return 0;
    for (const char *p = r; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == '?' || *p == '#' || (unsigned char)*p >= 0x7f)
            return 0;
    return 1;
}

static int hostname_valid(const char *h)
{
    size_t n = h ? strlen(h) : 0;
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

/* Appends s to the JSON generator as a string. */
static void gen_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gen_items(yajl_gen g, const eos_cm_component *c, int exports)
{
    size_t n = exports ? eos_cm_component_export_count(c) : eos_cm_component_import_count(c);
    yajl_gen_array_open(g);
    for (size_t i = 0; i < n; i++) {
        eos_cm_item_desc d;
        if (exports)
            eos_cm_component_export(c, i, &d);
        else
            eos_cm_component_import(c, i, &d);
        /* Interfaces and functions; type imports and exports are details of those. */
        if (d.kind == EOS_CM_ITEM_FUNC || d.kind == EOS_CM_ITEM_INSTANCE)
            gen_str(g, d.name);
    }
    yajl_gen_array_close(g);
}

void eos_net__app_gen_info(yajl_gen g, const eos_net__app *a)
{
    char hex[65];
    yajl_gen_map_open(g);
    gen_str(g, "name");
    gen_str(g, a->name);
    gen_str(g, "route");
    gen_str(g, a->route);
    gen_str(g, "hostname");
    if (a->hostname)
        gen_str(g, a->hostname);
    else
        yajl_gen_null(g);
    gen_str(g, "code_hash");
    eos_hex_encode(a->code_hash, 32, hex);
    gen_str(g, hex);
    gen_str(g, "size");
    yajl_gen_integer(g, (long long)a->size);
    gen_str(g, "exports");
    gen_items(g, a->comp, 1);
    gen_str(g, "imports");
    gen_items(g, a->comp, 0);
    yajl_gen_map_close(g);
}

/* Rebuilds the RA-TLS configuration from a table; borrows everything. */
static int push_config(eos_net_server *srv, eos_net__app *const *v, size_t n, eos_diag *d)
{
    if (!srv->cfg.ratls)
        return 0;
    eos_ratls_app *apps = n ? eos_calloc(n, sizeof *apps) : NULL;
    if (n && !apps)
        return eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
    for (size_t i = 0; i < n; i++) {
        apps[i].name = v[i]->name;
        apps[i].route = v[i]->route;
        apps[i].hostname = v[i]->hostname;
        apps[i].env_json = v[i]->env_json;
        memcpy(apps[i].code_hash, v[i]->code_hash, 32);
    }
    eos_ratls_config cfg = {.apps = apps, .app_count = n};
    int rc = eos_ratls_server_set_config(srv->cfg.ratls, &cfg, d);
    eos_free(apps, n * sizeof *apps);
    return rc;
}

/* Parses a canonical env object into the app's env array. */
static int build_env(eos_net__app *a, const char *env_json, eos_diag *d)
{
    char err[128];
    yajl_val root = yajl_tree_parse(env_json, err, sizeof err);
    int rc = 0;
    if (!root || !YAJL_IS_OBJECT(root)) {
        rc = eos_diag_set(d, EOS_EINVAL, "env", -1, "\"env\" must be an object of strings");
        goto out;
    }
    size_t n = root->u.object.len;
    a->env = n ? eos_calloc(n, sizeof *a->env) : NULL;
    if (n && !a->env) {
        rc = EOS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        yajl_val v = root->u.object.values[i];
        if (!YAJL_IS_STRING(v)) {
            rc = eos_diag_set(d, EOS_EINVAL, "env", -1, "\"env\" value of '%s' must be a string",
                              root->u.object.keys[i]);
            goto out;
        }
        a->env[i].key = eos_strdup(root->u.object.keys[i]);
        a->env[i].value = eos_strdup(YAJL_GET_STRING(v));
        a->env_count = i + 1;
        if (!a->env[i].key || !a->env[i].value) {
            rc = EOS_ENOMEM;
            goto out;
        }
    }
out:
    if (root)
        yajl_tree_free(root);
    return rc;
}

/* Instantiates the app once against its WASI host, so a component that needs
 * something the host lacks, or whose start function traps, is refused at load,
 * not at its first request. The start function runs with a request context
 * bound, as it does for every request: wit-component's reactors call the guest's
 * _initialize there, and wasi-libc's preopen setup then calls the host. */
static int check_link(eos_net__app *a, eos_diag *d)
{
    int rc = eos_wasi_app_check(a->wapp, d);
    if (rc == EOS_EUNAVAILABLE)
        rc = 0;
    return rc;
}

int eos_net__app_create(eos_net_server *srv, const eos_net__load_args *args, eos_net__app **out,
                        eos_diag *d)
{
    int rc;
    eos_net__app *a = eos_calloc(1, sizeof *a);
    if (!a)
        return eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
    atomic_init(&a->refs, 1);
    a->bytes = args->bytes; /* ownership moves to the app, success or not */
    a->size = args->size;
    if (!eos_net__app_name_valid(args->name)) {
        rc = eos_diag_set(d, EOS_EINVAL, "name", -1,
                          "invalid app name '%.64s': use 1 to 63 characters from a-z, 0-9, "
                          "'-', '_' and '.', starting with a letter or digit",
                          args->name ? args->name : "");
        goto out;
    }
    char defroute[80];
    snprintf(defroute, sizeof defroute, "/%s", args->name);
    const char *route = args->route ? args->route : defroute;
    if (!route_valid(route)) {
        rc = eos_diag_set(d, EOS_EINVAL, "route", -1,
                          "invalid route '%.64s': it must start with '/', hold no spaces, '?' or "
                          "'#', and not lie under /.well-known/enclave-os",
                          route);
        goto out;
    }
    if (args->hostname && !hostname_valid(args->hostname)) {
        rc = eos_diag_set(d, EOS_EINVAL, "hostname", -1,
                          "invalid hostname '%.64s': use lower-case letters, digits, '-' and '.'",
                          args->hostname);
        goto out;
    }
    /* Apps run on the connection's worker thread bounded by their fuel: a
     * budget must not let one request hold a worker for long. */
    if (args->max_fuel > EOS_NET__MAX_FUEL || args->max_memory_mb > 4096) {
        rc = eos_diag_set(d, EOS_EINVAL, "limits", -1,
                          "max_fuel may be at most %llu (tens of seconds of work) and "
                          "max_memory_mb at most 4096",
                          (unsigned long long)EOS_NET__MAX_FUEL);
        goto out;
    }
    static const uint8_t elf_magic[4] = {0x7f, 'E', 'L', 'F'};
    if (a->size >= 4 && memcmp(a->bytes, elf_magic, 4) == 0) {
        rc = eos_diag_set(d, EOS_EINVAL, "format", 0,
                          "this is a wasmtime precompiled .cwasm (an ELF file), which this "
                          "server cannot run: send the .wasm component itself (the output of "
                          "'cargo component build', before 'wasmtime compile')");
        goto out;
    }
    if (a->size < 8 || memcmp(a->bytes, "\0asm", 4) != 0) {
        rc = eos_diag_set(d, EOS_EINVAL, "format", 0,
                          "not a WebAssembly binary (no \\0asm header): send a WASI 0.2 "
                          "component (.wasm)");
        goto out;
    }
    if (a->bytes[4] == 1 && a->bytes[5] == 0 && a->bytes[6] == 0 && a->bytes[7] == 0) {
        rc = eos_diag_set(d, EOS_EINVAL, "format", 0,
                          "this is a core WebAssembly module, not a component: build a WASI "
                          "0.2 component (cargo component, or the SDK's eos_add_app)");
        goto out;
    }
    /* Step 2: the code hash of exactly the bytes received. */
    unsigned hlen = 0;
    if (EVP_Digest(a->bytes, a->size, a->code_hash, &hlen, EVP_sha256(), NULL) != 1) {
        rc = eos_diag_set(d, EOS_ETLS, "hash", -1, "SHA-256 failed");
        goto out;
    }
    a->name = eos_strdup(args->name);
    a->route = eos_strdup(route);
    a->hostname = dup_or_null(args->hostname);
    a->max_fuel = args->max_fuel;
    a->max_memory_mb = args->max_memory_mb;
    if (!a->name || !a->route || (args->hostname && !a->hostname)) {
        rc = eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
        goto out;
    }
    if (args->env_json) {
        size_t csize = 0;
        rc = eos_ratls_canonical_env(args->env_json, &a->env_json, &csize, d);
        if (rc < 0)
            goto out;
        rc = build_env(a, a->env_json, d);
        if (rc < 0)
            goto out;
    }
    /* Step 3: decode and validate. */
    rc = eos_cm_component_new(a->bytes, a->size, NULL, &a->comp, d);
    if (rc < 0)
        goto out;
    eos_wasi_app_config wc;
    memset(&wc, 0, sizeof wc);
    wc.name = a->name;
    memcpy(wc.code_hash, a->code_hash, 32);
    wc.component = a->comp;
    wc.env = a->env;
    wc.env_count = a->env_count;
    wc.max_fuel = a->max_fuel;
    wc.max_memory_bytes = a->max_memory_mb << 20;
    wc.kv = srv->cfg.kv;
    rc = eos_wasi_app_new(&wc, &a->wapp, d);
    if (rc < 0)
        goto out;
    rc = check_link(a, d);
    if (rc < 0)
        goto out;
    /* The component keeps no pointer into the bytes; they are kept only when
     * the app must be written to the store. */
    if (!srv->sys_ns || srv->restoring) {
        eos_free(a->bytes, a->size);
        a->bytes = NULL;
    }
out:
    if (rc < 0) {
        eos_net__app_unref(a);
        return rc;
    }
    *out = a;
    return 0;
}

static int find_index(const eos_net__apps *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i]->name, name) == 0)
            return (int)i;
    return -1;
}

int eos_net__apps_install(eos_net_server *srv, eos_net__app *a, eos_diag *d)
{
    eos_net__apps *t = &srv->apps;
    int rc = 0;
    pthread_mutex_lock(&t->mgmt);
    pthread_mutex_lock(&t->lock);
    int at = find_index(t, a->name);
    size_t n = at >= 0 ? t->n : t->n + 1;
    eos_net__app **v = eos_calloc(n, sizeof *v);
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
    /* With --persist-apps the record is written first: an app that could
     * not be kept is not loaded. The bytes are not needed after that. */
    rc = eos_net__persist_save(srv, a, d);
    if (rc < 0) {
        eos_free(v, n * sizeof *v);
        goto out;
    }
    eos_free(a->bytes, a->size);
    a->bytes = NULL;
    /* Steps 5 and 6 before the table changes: a configuration the
     * certificates cannot carry is refused and nothing changes. */
    rc = push_config(srv, v, n, d);
    if (rc < 0) {
        eos_free(v, n * sizeof *v);
        goto out;
    }
    eos_net__app_ref(a);
    pthread_mutex_lock(&t->lock);
    eos_net__app *old = at >= 0 ? t->v[at] : NULL;
    eos_free(t->v, t->n * sizeof *t->v);
    t->v = v;
    t->n = n;
    pthread_mutex_unlock(&t->lock);
    eos_net__app_unref(old);
    atomic_fetch_add(&srv->metrics.loads, 1);
out:
    pthread_mutex_unlock(&t->mgmt);
    return rc;
}

int eos_net__apps_remove(eos_net_server *srv, const char *name, eos_diag *d)
{
    eos_net__apps *t = &srv->apps;
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
    eos_net__app **v = n ? eos_calloc(n, sizeof *v) : NULL;
    if (n && !v) {
        pthread_mutex_unlock(&t->lock);
        rc = EOS_ENOMEM;
        goto out;
    }
    for (size_t i = 0, j = 0; i < t->n; i++)
        if ((int)i != at)
            v[j++] = t->v[i];
    pthread_mutex_unlock(&t->lock);
    rc = push_config(srv, v, n, d);
    if (rc < 0) {
        eos_free(v, n * sizeof *v);
        goto out;
    }
    eos_diag pd;
    eos_diag_init(&pd);
    if (eos_net__persist_delete(srv, name, &pd) < 0 && pd.code != EOS_ENOTFOUND)
        EOS_WARN("net", "app '%s' unloaded but its persisted copy remains: %s", name, pd.message);
    pthread_mutex_lock(&t->lock);
    eos_net__app *old = t->v[at];
    eos_free(t->v, t->n * sizeof *t->v);
    t->v = v;
    t->n = n;
    pthread_mutex_unlock(&t->lock);
    eos_net__app_unref(old);
out:
    pthread_mutex_unlock(&t->mgmt);
    return rc;
}

eos_net__app *eos_net__apps_get(eos_net_server *srv, const char *name)
{
    eos_net__apps *t = &srv->apps;
    eos_net__app *a = NULL;
    pthread_mutex_lock(&t->lock);
    int at = find_index(t, name);
    if (at >= 0) {
        a = t->v[at];
        eos_net__app_ref(a);
    }
    pthread_mutex_unlock(&t->lock);
    return a;
}

/* Routing (SPEC 4): the app whose hostname equals host wins; otherwise the
 * longest route that prefixes path at a '/' boundary. */
eos_net__app *eos_net__apps_route(eos_net_server *srv, const char *host, const char *path,
                                  size_t *out_prefix_len)
{
    eos_net__apps *t = &srv->apps;
    eos_net__app *best = NULL;
    size_t best_len = 0;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; host && i < t->n; i++)
        if (t->v[i]->hostname && strcasecmp(t->v[i]->hostname, host) == 0) {
            best = t->v[i];
            best_len = 0;
            break;
        }
    for (size_t i = 0; !best && i < t->n; i++) {
        const char *r = t->v[i]->route;
        size_t n = strlen(r);
        while (n > 1 && r[n - 1] == '/')
            n--; /* "/app/" routes like "/app" */
        if (n == 1 && r[0] == '/')
            n = 0; /* "/" matches everything */
        if (strncmp(path, r, n) != 0 || (path[n] != 0 && path[n] != '/' && path[n] != '?'))
            continue;
        if (!best || n > best_len) {
            best = t->v[i];
            best_len = n;
        }
    }
    for (size_t i = 0; best && i < t->n; i++)
        if (t->v[i] == best)
            eos_net__app_ref(best);
    pthread_mutex_unlock(&t->lock);
    *out_prefix_len = best_len;
    return best;
}

/* A snapshot of the table with a reference on each app; free with
 * eos_net__apps_snapshot_free(). */
int eos_net__apps_snapshot(eos_net_server *srv, eos_net__app ***out, size_t *out_count)
{
    eos_net__apps *t = &srv->apps;
    pthread_mutex_lock(&t->lock);
    size_t n = t->n;
    eos_net__app **v = n ? eos_calloc(n, sizeof *v) : NULL;
    if (n && !v) {
        pthread_mutex_unlock(&t->lock);
        return EOS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        v[i] = t->v[i];
        eos_net__app_ref(v[i]);
    }
    pthread_mutex_unlock(&t->lock);
    *out = v;
    *out_count = n;
    return 0;
}

void eos_net__apps_snapshot_free(eos_net__app **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        eos_net__app_unref(v[i]);
    eos_free(v, n * sizeof *v);
}

void eos_net__apps_init(eos_net__apps *t)
{
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->mgmt, NULL);
}

void eos_net__apps_fini(eos_net__apps *t)
{
    for (size_t i = 0; i < t->n; i++)
        eos_net__app_unref(t->v[i]);
    eos_free(t->v, t->n * sizeof *t->v);
    t->v = NULL;
    t->n = 0;
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->mgmt);
}
