/* Apps and the incoming-handler driver: the component host is built once per
 * app with every WASI interface; each request gets a fresh store, a fresh
 * instance and a fresh context bound to the running thread, and its response
 * streams to the server's sink as the guest produces it. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define WASI_VERSION   "@0.2.12"
/* Fuel is a deterministic cap, the time budget the usual bound: ten billion
 * units are tens of seconds of interpretation, enough for JavaScript apps
 * (an interpreter in wasm spends thousands of units per line of script). */
#define DEFAULT_FUEL    10000000000ull
#define DEFAULT_TIME_MS 30000u
#define DEFAULT_MEMORY (64u * 1024u * 1024u)

static int define_group(eos_wasi_app *app, const eos_wasi__iface *ifaces, size_t count,
                        const char *version, eos_diag *diag)
{
    for (size_t i = 0; i < count; i++) {
        const eos_wasi__iface *f = &ifaces[i];
        char name[128];
        snprintf(name, sizeof(name), "%s%s", f->name,
                 strncmp(f->name, "wasi:logging/", 13) == 0 ? "@0.1.0-draft" : version);
        const eos_cm_host_func *funcs = f->funcs;
        size_t n = f->count;
        eos_cm_host_func *all = NULL;
        if (f->funcs2) {
            n = f->count + f->count2;
            all = eos_calloc(n, sizeof(*all));
            if (!all)
                return EOS_ENOMEM;
            memcpy(all, f->funcs, f->count * sizeof(*all));
            memcpy(all + f->count, f->funcs2, f->count2 * sizeof(*all));
            funcs = all;
        }
        int rc = eos_cm_host_define(app->host, name, f->types, funcs, n, eos_wasi__dtor, app, diag);
        eos_free(all, n * sizeof(*all));
        if (rc)
            return rc;
    }
    return 0;
}

static int build_host(eos_wasi_app *app, eos_diag *diag)
{
    int rc = eos_cm_host_new(&app->host);
    if (rc)
        return rc;
    struct {
        const eos_wasi__iface *t;
        size_t n;
        const char *v;
    } groups[] = {
        {eos_wasi__io_ifaces, eos_wasi__io_iface_count, WASI_VERSION},
        {eos_wasi__http_ifaces, eos_wasi__http_iface_count, WASI_VERSION},
        {eos_wasi__clock_ifaces, eos_wasi__clock_iface_count, WASI_VERSION},
        {eos_wasi__misc_ifaces, eos_wasi__misc_iface_count, WASI_VERSION},
        {eos_wasi__fs_ifaces, eos_wasi__fs_iface_count, WASI_VERSION},
        {eos_wasi__sock_ifaces, eos_wasi__sock_iface_count, WASI_VERSION},
        {eos_wasi__kv_draft_ifaces, eos_wasi__kv_iface_count, "@0.2.0-draft"},
        {eos_wasi__kv_draft2_ifaces, eos_wasi__kv_iface_count, "@0.2.0-draft2"},
        {eos_wasi__config_ifaces, eos_wasi__config_iface_count, "@0.2.0-draft"},
        {eos_wasi__config_ifaces, eos_wasi__config_iface_count, "@0.2.0-draft-2024-09-27"},
    };
    for (size_t i = 0; i < EOS_ARRAY_LEN(groups) && !rc; i++)
        rc = define_group(app, groups[i].t, groups[i].n, groups[i].v, diag);
    return rc;
}

static void pairs_free(eos_wasi_env **pairs, size_t count)
{
    for (size_t i = 0; *pairs && i < count; i++) {
        if ((*pairs)[i].key)
            eos_free((char *)(*pairs)[i].key, strlen((*pairs)[i].key) + 1);
        if ((*pairs)[i].value)
            eos_free((char *)(*pairs)[i].value, strlen((*pairs)[i].value) + 1);
    }
    eos_free(*pairs, count * sizeof(**pairs));
    *pairs = NULL;
}

static void env_free(eos_wasi_app *app)
{
    pairs_free(&app->env, app->env_count);
    pairs_free(&app->config, app->config_count);
}

/* Copies count key/value pairs into *out (set even on failure, for freeing). */
static int pairs_dup(const eos_wasi_env *in, size_t count, eos_wasi_env **out)
{
    *out = count ? eos_calloc(count, sizeof(**out)) : NULL;
    if (count && !*out)
        return EOS_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        (*out)[i].key = eos_strdup(in[i].key ? in[i].key : "");
        (*out)[i].value = eos_strdup(in[i].value ? in[i].value : "");
        if (!(*out)[i].key || !(*out)[i].value)
            return EOS_ENOMEM;
    }
    return 0;
}

int eos_wasi_app_new(const eos_wasi_app_config *cfg, eos_wasi_app **out, eos_diag *diag)
{
    int rc = 0;
    *out = NULL;
    if (!cfg || !cfg->name || !cfg->name[0] || strchr(cfg->name, '/'))
        return eos_diag_set(diag, EOS_EINVAL, "app", -1,
                            "an app needs a non-empty name without '/'");
    eos_wasi_app *app = eos_calloc(1, sizeof(*app));
    if (!app)
        return EOS_ENOMEM;
    pthread_mutex_init(&app->lock, NULL);
    app->name = eos_strdup(cfg->name);
    if (eos_wasi__pool_init(app, cfg->pool_size, cfg->pool_idle_ms ? cfg->pool_idle_ms : 10000) ||
        !app->name) {
        rc = EOS_ENOMEM;
        goto out;
    }
    eos_hex_encode(cfg->code_hash, 32, app->version_hex);
    app->component = cfg->component;
    app->store = cfg->store;
    app->max_fuel = cfg->max_fuel ? cfg->max_fuel : DEFAULT_FUEL;
    app->max_time_ms = cfg->max_time_ms ? cfg->max_time_ms : DEFAULT_TIME_MS;
    app->max_memory_bytes = cfg->max_memory_bytes ? cfg->max_memory_bytes : DEFAULT_MEMORY;
    app->log_rate = cfg->log_lines_per_sec ? cfg->log_lines_per_sec : 50;
    app->log_burst = cfg->log_burst ? cfg->log_burst : 200;
    app->log_tokens = app->log_burst;
    app->log_last_ns = eos_now_ns();
    app->env_count = cfg->env_count;
    app->config_count = cfg->config_count;
    if ((rc = pairs_dup(cfg->env, cfg->env_count, &app->env)) != 0 ||
        (rc = pairs_dup(cfg->config, cfg->config_count, &app->config)) != 0)
        goto out;
    rc = eos_wasi__out_app_init(app, &cfg->outbound, diag);
    if (rc)
        goto out;
    rc = build_host(app, diag);
out:
    if (rc) {
        eos_wasi_app_free(app);
        return rc;
    }
    *out = app;
    return 0;
}

void eos_wasi_app_free(eos_wasi_app *app)
{
    if (!app)
        return;
    eos_wasi__pool_free(app);
    eos_cm_host_free(app->host);
    eos_wasi__ns_cache_free(app);
    eos_wasi__out_app_free(app);
    env_free(app);
    if (app->name)
        eos_free(app->name, strlen(app->name) + 1);
    pthread_mutex_destroy(&app->lock);
    eos_free(app, sizeof(*app));
}

const eos_cm_host *eos_wasi_app_host(const eos_wasi_app *app)
{
    return app->host;
}

uint64_t eos_wasi_app_log_dropped(const eos_wasi_app *app)
{
    return app->log_dropped;
}

int eos_wasi_app_check(eos_wasi_app *app, eos_diag *diag)
{
    static const eos_wasi_sink no_sink;
    eos_wasi__ctx ctx;
    eos_wasi_outcome outcome;
    eos_wasm_store *store = NULL;
    eos_cm_instance *inst = NULL;
    memset(&outcome, 0, sizeof(outcome));
    eos_wasi__ctx_init(&ctx, app);
    ctx.sink = &no_sink;
    ctx.out = &outcome;
    int rc = eos_wasi__instantiate(app, &ctx, &store, &inst, diag);
    /* Resources the start function created are dropped while ctx lives. */
    eos_cm_instance_free(inst);
    eos_wasm_store_free(store);
    eos_wasi__ctx_fini(&ctx);
    return rc;
}

static void reason_from(eos_wasi_outcome *out, int rc, const eos_diag *d, const char *what)
{
    if (out->reason[0])
        return;
    if (d && d->message[0])
        snprintf(out->reason, sizeof(out->reason), "%s: %.200s", what, d->message);
    else
        snprintf(out->reason, sizeof(out->reason), "%s: %s", what, eos_strerror(rc));
}

int eos_wasi_handle_http(eos_wasi_app *app, const eos_wasi_request *req, const eos_wasi_sink *sink,
                         eos_wasi_outcome *out)
{
    static const eos_wasi_sink no_sink;
    eos_wasi__ctx ctx;
    eos_wasm_store *store = NULL;
    eos_cm_instance *inst = NULL;
    eos_cm_arena *arena = NULL;
    eos_diag d;
    eos_diag_init(&d);
    memset(out, 0, sizeof(*out));
    eos_wasi__ctx_init(&ctx, app);
    ctx.req = req;
    ctx.sink = sink ? sink : &no_sink;
    ctx.out = out;
    bool reusable = false;
    int rc = eos_wasi__acquire(app, &ctx, &store, &inst, &reusable, &d);
    if (rc) {
        reason_from(out, rc, &d, "the app could not be started");
        goto out;
    }
    eos_cm_func *f = eos_cm_instance_func(inst, "wasi:http/incoming-handler@0.2.0#handle");
    if (!f) {
        rc = EOS_ENOTFOUND;
        snprintf(out->reason, sizeof(out->reason),
                 "the app does not export wasi:http/incoming-handler");
        goto out;
    }
    uint32_t req_rep = 0, outparam_rep = 0;
    if ((rc = eos_wasi__http_begin(&ctx, &req_rep, &outparam_rep)))
        goto out;
    eos_cm_val args[2];
    memset(args, 0, sizeof(args));
    args[0].of.handle = req_rep;
    args[1].of.handle = outparam_rep;
    /* Ownership of both moves to the guest with the call. */
    arena = eos_cm_arena_new();
    if (!arena) {
        rc = EOS_ENOMEM;
        goto out;
    }
    rc = eos_cm_call_func(inst, f, args, 2, NULL, 0, arena, &d);
    out->fuel_consumed = eos_wasm_store_fuel_consumed(store);
    if (rc) {
        reason_from(out, rc, &d, eos_is_trap(rc) ? "the app trapped" : "the call failed");
        goto out;
    }
    if (!ctx.outparam_set) {
        rc = EOS_EPROTO;
        snprintf(out->reason, sizeof(out->reason), "the app returned without setting a response");
    } else if (ctx.outparam_err) {
        rc = ctx.outparam_err;
    }
out:
    /* Destructors of resources the guest still holds run here, while ctx
     * lives: a response body left open ends incomplete. A pooled instance
     * is reset (its handles dropped the same way) and kept. */
    eos_wasi__release(app, store, inst, reusable, rc == 0 && !ctx.sink_err);
    eos_cm_arena_free(arena);
    eos_wasi__ctx_fini(&ctx);
    if (!rc && ctx.sink_err)
        rc = ctx.sink_err;
    return rc;
}

int eos_wasi_call(eos_wasi_app *app, const char *name, const eos_cm_val *args, size_t arg_count,
                  eos_cm_val *results, size_t result_count, eos_cm_arena *arena,
                  eos_wasi_outcome *out)
{
    return eos_wasi_call_argv(app, name, NULL, 0, args, arg_count, results, result_count, arena,
                              out);
}

int eos_wasi_call_argv(eos_wasi_app *app, const char *name, const char *const *argv, size_t argc,
                       const eos_cm_val *args, size_t arg_count, eos_cm_val *results,
                       size_t result_count, eos_cm_arena *arena, eos_wasi_outcome *out)
{
    eos_wasi_cmdline cmd = {argv, argc, false, false};
    return eos_wasi_call_cmd(app, name, &cmd, args, arg_count, results, result_count, arena, out);
}

int eos_wasi_call_cmd(eos_wasi_app *app, const char *name, const eos_wasi_cmdline *cmd,
                      const eos_cm_val *args, size_t arg_count, eos_cm_val *results,
                      size_t result_count, eos_cm_arena *arena, eos_wasi_outcome *out)
{
    static const eos_wasi_sink no_sink;
    eos_wasi__ctx ctx;
    eos_wasm_store *store = NULL;
    eos_cm_instance *inst = NULL;
    eos_diag d;
    eos_diag_init(&d);
    memset(out, 0, sizeof(*out));
    eos_wasi__ctx_init(&ctx, app);
    ctx.sink = &no_sink;
    ctx.out = out;
    if (cmd) {
        ctx.argv = cmd->argv;
        ctx.argc = cmd->argc;
        ctx.no_app_env = cmd->no_app_env;
        ctx.no_preopen = cmd->no_preopen;
    }
    int rc = eos_wasi__instantiate(app, &ctx, &store, &inst, &d);
    if (rc) {
        reason_from(out, rc, &d, "the app could not be started");
        goto out;
    }
    eos_cm_func *f = eos_cm_instance_func(inst, name);
    if (!f) {
        rc = EOS_ENOTFOUND;
        snprintf(out->reason, sizeof(out->reason), "the app exports no function %.200s", name);
        goto out;
    }
    rc = eos_cm_call_func(inst, f, args, arg_count, results, result_count, arena, &d);
    out->fuel_consumed = eos_wasm_store_fuel_consumed(store);
    if (rc)
        reason_from(out, rc, &d, eos_is_trap(rc) ? "the app trapped" : "the call failed");
out:
    eos_cm_instance_free(inst);
    eos_wasm_store_free(store);
    eos_wasi__ctx_fini(&ctx);
    return rc;
}

eos_cm_host_fn eos_wasi__find(const char *iface, const char *name)
{
    struct {
        const eos_wasi__iface *t;
        size_t n;
    } groups[] = {
        {eos_wasi__io_ifaces, eos_wasi__io_iface_count},
        {eos_wasi__http_ifaces, eos_wasi__http_iface_count},
        {eos_wasi__clock_ifaces, eos_wasi__clock_iface_count},
        {eos_wasi__misc_ifaces, eos_wasi__misc_iface_count},
        {eos_wasi__fs_ifaces, eos_wasi__fs_iface_count},
        {eos_wasi__sock_ifaces, eos_wasi__sock_iface_count},
        {eos_wasi__kv_draft2_ifaces, eos_wasi__kv_iface_count},
        {eos_wasi__config_ifaces, eos_wasi__config_iface_count},
    };
    for (size_t g = 0; g < EOS_ARRAY_LEN(groups); g++) {
        for (size_t i = 0; i < groups[g].n; i++) {
            const eos_wasi__iface *f = &groups[g].t[i];
            if (strcmp(f->name, iface) != 0)
                continue;
            for (size_t k = 0; k < f->count; k++)
                if (strcmp(f->funcs[k].name, name) == 0)
                    return f->funcs[k].fn;
            for (size_t k = 0; k < f->count2; k++)
                if (strcmp(f->funcs2[k].name, name) == 0)
                    return f->funcs2[k].fn;
        }
    }
    return NULL;
}
