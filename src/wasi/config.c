/* wasi:config/store (0.2.0-draft as wasmtime serve has it, and
 * 0.2.0-draft-2024-09-27 as Spin has it): the values given at load, which
 * are in the app's Merkle leaf, and the app's secrets under the documented
 * "secret." prefix, read from the app's sealed "secret" namespace of the
 * encrypted store. get-all lists the configuration only, never secrets. */
#include <string.h>

#include "internal.h"

#define SECRET_PREFIX "secret."

/* Sets res to err(io(msg)). */
static int config_err(eos_wasi__ctx *ctx, eos_cm_val *res, const char *msg)
{
    eos_cm_val *e = eos_wasi__val_new(ctx, 2);
    if (!e || !eos_wasi__val_str(ctx, &e[1], msg, strlen(msg)))
        return EOS_ENOMEM;
    e[0].of.var.index = 1;
    e[0].of.var.payload = &e[1];
    eos_wasi__val_result(res, true, e);
    return 0;
}

static const eos_wasi_env *find(const eos_wasi_app *app, const char *key, size_t len)
{
    for (size_t i = 0; i < app->config_count; i++)
        if (strlen(app->config[i].key) == len && memcmp(app->config[i].key, key, len) == 0)
            return &app->config[i];
    return NULL;
}

static int config_get(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    (void)ud;
    EOS_WASI__ENTER(ctx, call);
    const char *key = args[0].of.str.ptr;
    size_t len = args[0].of.str.len;
    eos_cm_val *opt = eos_wasi__val_new(ctx, 2);
    if (!opt)
        return EOS_ENOMEM;
    const eos_wasi_env *e = find(ctx->app, key, len);
    size_t plen = sizeof SECRET_PREFIX - 1;
    if (e) {
        if (!eos_wasi__val_str(ctx, &opt[1], e->value, strlen(e->value)))
            return EOS_ENOMEM;
        opt[0].of.var.index = 1;
        opt[0].of.var.payload = &opt[1];
    } else if (len > plen && memcmp(key, SECRET_PREFIX, plen) == 0 && ctx->app->store.ops) {
        const eos_wasi__ns *ns = NULL;
        uint8_t *data = NULL;
        size_t size = 0;
        int rc = eos_wasi__ns_open(ctx->app, "secret", 6, &ns);
        if (rc == 0)
            rc = ns->ops->get(ns->h, key + plen, len - plen, &data, &size);
        if (rc != 0 && rc != EOS_ENOTFOUND)
            return config_err(ctx, &results[0], "the secret store is not available");
        if (rc == 0) {
            bool ok = eos_wasi__val_str(ctx, &opt[1], (const char *)data, size);
            /* The plaintext lives on only in the guest's own memory. */
            memset(data, 0, size);
            eos_free(data, size);
            if (!ok)
                return EOS_ENOMEM;
            opt[0].of.var.index = 1;
            opt[0].of.var.payload = &opt[1];
        }
    }
    eos_wasi__val_result(&results[0], false, opt);
    return 0;
}

static int config_get_all(eos_cm_call *call, void *ud, const eos_cm_val *args,
                          eos_cm_val *results)
{
    (void)ud;
    (void)args;
    EOS_WASI__ENTER(ctx, call);
    size_t n = ctx->app->config_count;
    eos_cm_val *v = eos_wasi__val_new(ctx, 1 + 3 * n);
    if (!v)
        return EOS_ENOMEM;
    v[0].of.list.items = n ? &v[1] : NULL;
    v[0].of.list.len = n;
    eos_cm_val *pairs = &v[1], *strs = &v[1 + n];
    for (size_t i = 0; i < n; i++) {
        const eos_wasi_env *e = &ctx->app->config[i];
        pairs[i].of.list.items = &strs[2 * i];
        pairs[i].of.list.len = 2;
        if (!eos_wasi__val_str(ctx, &strs[2 * i], e->key, strlen(e->key)) ||
            !eos_wasi__val_str(ctx, &strs[2 * i + 1], e->value, strlen(e->value)))
            return EOS_ENOMEM;
    }
    eos_wasi__val_result(&results[0], false, &v[0]);
    return 0;
}

static const char store_types[] = "variant error { upstream(string), io(string) }\n";
static const eos_cm_host_func store_funcs[] = {
    {"get", "func(key: string) -> result<option<string>, error>", config_get},
    {"get-all", "func() -> result<list<tuple<string, string>>, error>", config_get_all},
};

const eos_wasi__iface eos_wasi__config_ifaces[] = {
    EOS_WASI__IFACE("wasi:config/store", store_types, store_funcs),
};
const size_t eos_wasi__config_iface_count = 1;
