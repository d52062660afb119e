/* One app's life: validating and hashing the bytes of a load, decoding the
 * component and linking it to the WASI host (SPEC 3.2 steps 2-4), its
 * description, serving its HTTP requests, and freeing it once the last
 * reference goes. */
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

void eos_apps_app_ref(eos_apps_app *a)
{
    atomic_fetch_add(&a->refs, 1);
}

void eos_apps_app_unref(eos_apps_app *a)
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
    for (size_t i = 0; i < a->config_count; i++) {
        free_str((char *)a->config[i].key);
        free_str((char *)a->config[i].value);
    }
    eos_free(a->config, a->config_count * sizeof *a->config);
    free_str(a->config_json);
    free_str(a->caller_policy);
    free_str(a->jwks);
    free_str(a->client_ca);
    eos_auth_app_free(a->auth);
    eos_free(a->bytes, a->size);
    free_str(a->name);
    free_str(a->route);
    free_str(a->hostname);
    free_str(a->env_json);
    free_str(a->outbound);
    for (size_t i = 0; i < a->rule_count; i++)
        free_str(a->rules[i]);
    eos_free(a->rules, a->rule_count * sizeof *a->rules);
    free_str(a->provenance);
    eos_free(a, sizeof *a);
    /* An app's code and data are tens of MB freed on whichever thread drops
     * the last reference: without a trim, glibc keeps them in that thread's
     * arena and the server's resident size only grows with loads. */
    malloc_trim(0);
}

int eos_apps__app_name_valid(const char *name)
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

int eos_apps_tier_parse(const char *s, size_t n, uint8_t *out)
{
    static const char *const names[] = {"interp", "auto", "compiled"};
    *out = 0;
    if (n == 0)
        return 0;
    for (uint8_t t = 0; t < 3; t++)
        if (strlen(names[t]) == n && memcmp(s, names[t], n) == 0) {
            *out = (uint8_t)(1 + t);
            return 0;
        }
    return EOS_EINVAL;
}

const char *eos_apps_tier_name(eos_wasm_tier tier)
{
    switch (tier) {
    case EOS_WASM_TIER_AUTO:
        return "auto";
    case EOS_WASM_TIER_COMPILED:
        return "compiled";
    default:
        return "interp";
    }
}

const char *eos_apps_compile_state_name(eos_wasm_compile_state state)
{
    switch (state) {
    case EOS_WASM_COMPILE_PENDING:
        return "pending";
    case EOS_WASM_COMPILE_READY:
        return "ready";
    case EOS_WASM_COMPILE_FAILED:
        return "failed";
    case EOS_WASM_COMPILE_WARMING:
        return "warming";
    default:
        return "none";
    }
}

void eos_apps__app_gen_info(yajl_gen g, const eos_apps_app *a)
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
    if (a->rule_count) {
        /* what the Merkle leaf wasm.NAME.outbound hashes, joined by '\n' */
        gen_str(g, "allow_outbound");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < a->rule_count; i++)
            gen_str(g, a->rules[i]);
        yajl_gen_array_close(g);
    }
    gen_str(g, "exports");
    gen_items(g, a->comp, 1);
    gen_str(g, "imports");
    gen_items(g, a->comp, 0);
    /* The tier asked for, and how far its compilation is: the compiled code
     * runs new instances once "compile" is "ready". */
    eos_wasm_tier_info ti;
    eos_cm_component_tier_info(a->comp, &ti);
    gen_str(g, "tier");
    gen_str(g, eos_apps_tier_name(ti.requested));
    gen_str(g, "compile");
    gen_str(g, eos_apps_compile_state_name(ti.state));
    gen_str(g, "compile_ms");
    char ms[32];
    int msn = snprintf(ms, sizeof ms, "%.3f", (double)ti.compile_ns / 1e6);
    yajl_gen_number(g, ms, (size_t)msn);
    /* "cache": linked from the sealed code cache, not compiled again. */
    gen_str(g, "compiled_from");
    gen_str(g, ti.state != EOS_WASM_COMPILE_READY ? "none" : ti.from_cache ? "cache" : "compiler");
    if (a->provenance) {
        gen_str(g, "provenance");
        gen_str(g, a->provenance);
    }
    yajl_gen_map_close(g);
}

/* Splits the '\n'-joined allow-list into checked rules; keeps the text for
 * the Merkle leaf. */
static int build_rules(eos_apps_app *a, const char *text, eos_diag *d)
{
    if (!(a->outbound = eos_strdup(text)))
        return eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    if (n > 256)
        return eos_diag_set(d, EOS_EINVAL, "allow_outbound", -1, "at most 256 outbound rules");
    if (!(a->rules = eos_calloc(n, sizeof *a->rules)))
        return eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
    const char *p = text;
    for (size_t i = 0; i < n; i++) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char *r = eos_malloc(len + 1);
        if (!r)
            return eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
        memcpy(r, p, len);
        r[len] = 0;
        a->rules[a->rule_count++] = r;
        int rc = eos_wasi_outbound_rule_check(r, d);
        if (rc < 0)
            return rc;
        p = e ? e + 1 : p + len;
    }
    return 0;
}

/* Keeps the provenance uploaded with a load, as it came: a JSON object. */
static int keep_provenance(eos_apps_app *a, const char *text, eos_diag *d)
{
    char err[64];
    yajl_val v = strlen(text) <= 16384 ? yajl_tree_parse(text, err, sizeof err) : NULL;
    int ok = v && YAJL_IS_OBJECT(v);
    yajl_tree_free(v);
    if (!ok)
        return eos_diag_set(d, EOS_EINVAL, "provenance", -1,
                            "the provenance must be a JSON object of at most 16384 bytes");
    a->provenance = eos_strdup(text);
    return a->provenance ? 0 : eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
}

/* Parses a canonical object of strings into a key/value array. */
static int build_pairs(const char *what, const char *env_json, eos_wasi_env **out_pairs,
                       size_t *out_count, eos_diag *d)
{
    char err[128];
    yajl_val root = yajl_tree_parse(env_json, err, sizeof err);
    int rc = 0;
    if (!root || !YAJL_IS_OBJECT(root)) {
        rc = eos_diag_set(d, EOS_EINVAL, what, -1, "\"%s\" must be an object of strings", what);
        goto out;
    }
    size_t n = root->u.object.len;
    eos_wasi_env *pairs = n ? eos_calloc(n, sizeof *pairs) : NULL;
    *out_pairs = pairs;
    if (n && !pairs) {
        rc = EOS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        yajl_val v = root->u.object.values[i];
        if (!YAJL_IS_STRING(v)) {
            rc = eos_diag_set(d, EOS_EINVAL, what, -1, "\"%s\" value of '%s' must be a string",
                              what, root->u.object.keys[i]);
            goto out;
        }
        pairs[i].key = eos_strdup(root->u.object.keys[i]);
        pairs[i].value = eos_strdup(YAJL_GET_STRING(v));
        *out_count = i + 1;
        if (!pairs[i].key || !pairs[i].value) {
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
static int check_link(eos_apps_app *a, eos_diag *d)
{
    int rc = eos_wasi_app_check(a->wapp, d);
    if (rc == EOS_EUNAVAILABLE)
        rc = 0;
    return rc;
}

int eos_apps__app_create(eos_apps *apps, const eos_apps_load_args *args, eos_apps_app **out,
                        eos_diag *d)
{
    int rc;
    eos_apps_app *a = eos_calloc(1, sizeof *a);
    if (!a)
        return eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
    atomic_init(&a->refs, 1);
    a->bytes = args->bytes; /* ownership moves to the app, success or not */
    a->size = args->size;
    if (!eos_apps__app_name_valid(args->name)) {
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
    if (args->tier > 1 + EOS_WASM_TIER_COMPILED) {
        rc = eos_diag_set(d, EOS_EINVAL, "tier", -1, "tier wants auto, interp or compiled");
        goto out;
    }
    if (args->tier == 1 + EOS_WASM_TIER_COMPILED && apps->no_compiled_tier) {
        rc = eos_diag_set(d, EOS_EUNSUPPORTED, "tier", -1,
                          "tier compiled is not possible on this server: %s",
                          apps->no_compiled_tier);
        goto out;
    }
    if (args->max_concurrency > EOS_APPS_MAX_CONCURRENCY) {
        rc = eos_diag_set(d, EOS_EINVAL, "limits", -1, "max_concurrency may be at most %u",
                          (unsigned)EOS_APPS_MAX_CONCURRENCY);
        goto out;
    }
    /* Apps run on app threads bounded by their time budget and fuel: a
     * budget must not let one request hold a thread for long. */
    if (args->max_fuel > EOS_APPS__MAX_FUEL || args->max_memory_mb > 4096 ||
        args->max_request_ms > EOS_APPS__MAX_REQUEST_MS) {
        rc = eos_diag_set(d, EOS_EINVAL, "limits", -1,
                          "max_fuel may be at most %llu (tens of seconds of work), "
                          "max_memory_mb at most 4096 and max_request_ms at most %u",
                          (unsigned long long)EOS_APPS__MAX_FUEL, EOS_APPS__MAX_REQUEST_MS);
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
    a->max_request_ms = args->max_request_ms;
    a->max_concurrency = (uint32_t)args->max_concurrency;
    a->tier_choice = args->tier;
    if (!a->name || !a->route || (args->hostname && !a->hostname)) {
        rc = eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
        goto out;
    }
    if (args->env_json) {
        size_t csize = 0;
        rc = eos_ratls_canonical_env(args->env_json, &a->env_json, &csize, d);
        if (rc < 0)
            goto out;
        rc = build_pairs("env", a->env_json, &a->env, &a->env_count, d);
        if (rc < 0)
            goto out;
    }
    if (args->outbound && args->outbound[0]) {
        rc = build_rules(a, args->outbound, d);
        if (rc < 0)
            goto out;
    }
    if (args->provenance && (rc = keep_provenance(a, args->provenance, d)) < 0)
        goto out;
    if (args->config_json) {
        size_t csize = 0;
        rc = eos_ratls_canonical_env(args->config_json, &a->config_json, &csize, d);
        if (rc < 0)
            goto out;
        rc = build_pairs("config", a->config_json, &a->config, &a->config_count, d);
        if (rc < 0)
            goto out;
        /* "secret." names the app's secrets in wasi:config: never config. */
        for (size_t i = 0; i < a->config_count; i++)
            if (strncmp(a->config[i].key, "secret.", 7) == 0) {
                rc = eos_diag_set(d, EOS_EINVAL, "config", -1,
                                  "config keys may not start with \"secret.\": that prefix reads "
                                  "the app's secrets (enclave-os secret put)");
                goto out;
            }
    }
    if (args->caller_policy) {
        a->caller_policy = eos_strdup(args->caller_policy);
        a->jwks = dup_or_null(args->jwks);
        a->client_ca = dup_or_null(args->client_ca);
        if (!a->caller_policy || (args->jwks && !a->jwks) || (args->client_ca && !a->client_ca)) {
            rc = eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
            goto out;
        }
        rc = eos_auth_app_new(a->caller_policy, strlen(a->caller_policy), a->jwks,
                              a->jwks ? strlen(a->jwks) : 0, a->client_ca,
                              a->client_ca ? strlen(a->client_ca) : 0, &a->auth, d);
        if (rc < 0)
            goto out;
    } else if (args->jwks || args->client_ca) {
        rc = eos_diag_set(d, EOS_EINVAL, "load", -1,
                          "a JWKS or client CA needs a caller policy (--caller-policy) that uses it");
        goto out;
    }
    /* Step 3: decode and validate. */
    eos_wasm_features wf;
    memset(&wf, 0, sizeof wf);
    /* The app's own tier, else the server's; auto stays interpreted where
     * compiled code cannot run. */
    wf.tier = a->tier_choice ? (uint8_t)(a->tier_choice - 1) : apps->tier;
    if (apps->no_compiled_tier)
        wf.tier = EOS_WASM_TIER_INTERP;
    wf.code_cache = apps->code_cache;
    wf.bounds = apps->bounds;
    rc = eos_cm_component_new(a->bytes, a->size, &wf, &a->comp, d);
    if (rc < 0)
        goto out;
    eos_wasi_app_config wc;
    memset(&wc, 0, sizeof wc);
    wc.name = a->name;
    memcpy(wc.code_hash, a->code_hash, 32);
    wc.component = a->comp;
    wc.env = a->env;
    wc.env_count = a->env_count;
    wc.config = a->config;
    wc.config_count = a->config_count;
    wc.max_fuel = a->max_fuel;
    wc.max_memory_bytes = a->max_memory_mb << 20;
    wc.max_time_ms = (uint32_t)(a->max_request_ms ? a->max_request_ms : apps->max_request_ms);
    wc.pool_size = apps->pool_size;
    wc.pool_idle_ms = apps->pool_idle_ms;
    wc.store = eos_apps_wasi_store(apps->kv);
    wc.outbound.allow = (const char *const *)a->rules;
    wc.outbound.allow_count = a->rule_count;
    wc.outbound.ca_file = apps->outbound_ca;
    wc.outbound.ca_pem = apps->outbound_ca_pem;
    wc.outbound.ca_pem_size = apps->outbound_ca_size;
    wc.outbound.verifier = eos_apps__peer_verifier(apps);
    rc = eos_wasi_app_new(&wc, &a->wapp, d);
    if (rc < 0)
        goto out;
    rc = check_link(a, d);
    if (rc < 0)
        goto out;
    /* The component keeps no pointer into the bytes; they are kept only when
     * the app must be written to the store. */
    if (!apps->sys_ns || apps->restoring) {
        eos_free(a->bytes, a->size);
        a->bytes = NULL;
    }
out:
    if (rc < 0) {
        eos_apps_app_unref(a);
        return rc;
    }
    *out = a;
    return 0;
}

const eos_auth_app *eos_apps_app_auth(const eos_apps_app *a)
{
    return a->auth;
}

const char *eos_apps_app_name(const eos_apps_app *a)
{
    return a->name;
}

uint32_t eos_apps_app_max_concurrency(const eos_apps_app *a)
{
    return a->max_concurrency;
}

int eos_apps_app_serve(eos_apps_app *a, const eos_wasi_request *req, const eos_wasi_sink *sink,
                       eos_wasi_outcome *out)
{
    int rc = eos_wasi_handle_http(a->wapp, req, sink, out);
    atomic_fetch_add(&a->requests, 1);
    atomic_fetch_add(&a->fuel, out->fuel_consumed);
    return rc;
}

void eos_apps_app_count_error(eos_apps_app *a)
{
    atomic_fetch_add(&a->errors, 1);
}

void eos_apps_app_count_time(eos_apps_app *a, uint64_t us)
{
    atomic_fetch_add(&a->time_us, us);
}
