/* wasi:config/store: the values given at load, and a secret read through
 * the documented "secret." prefix from the app's sealed "secret" namespace;
 * get-all never lists a secret. Host functions are called directly. */
#include <stdio.h>
#include <string.h>

#include "eos/apps.h"
#include "eos/wasi.h"
#include "harness.h"
#include "internal.h"
#include "kv_testutil.h"
#include "wasi_testutil.h"

static eos_wasi_app *app;
static eos_kv *kv;
static eos_wasi__ctx *bound; /* the data of the calls made by call() */

static int call(const char *fn, eos_cm_val *args, eos_cm_val *res)
{
    static eos_cm_arena *arena;
    eos_cm_host_fn f = eos_wasi__find("wasi:config/store", fn);
    EOS_CHECK(f != NULL);
    if (!arena)
        arena = eos_cm_arena_new();
    return f ? eos_cm_host_call(f, app, bound, args, res, arena, NULL) : -1;
}

static eos_cm_val s(const char *str)
{
    eos_cm_val v;
    memset(&v, 0, sizeof(v));
    v.of.str.ptr = str;
    v.of.str.len = strlen(str);
    return v;
}

/* get(key): "" for none, else the value copied into out. */
static int get(const char *key, char *out, size_t size)
{
    eos_cm_val args[1] = {s(key)}, res[1];
    EOS_CHECK_INT(call("get", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 0); /* ok */
    const eos_cm_val *opt = res[0].of.var.payload;
    if (opt->of.var.index == 0)
        return 0;
    snprintf(out, size, "%.*s", (int)opt->of.var.payload->of.str.len,
             opt->of.var.payload->of.str.ptr);
    return 1;
}

static void test_secret_config_store(void)
{
    eos_wasi__ctx ctx;
    eos_wasi__ctx_init(&ctx, app);
    bound = &ctx;
    char v[128];
    EOS_CHECK_INT(get("greeting", v, sizeof v), 1);
    EOS_CHECK_STR(v, "hello");
    EOS_CHECK_INT(get("missing", v, sizeof v), 0);
    EOS_CHECK_INT(get("secret.api-key", v, sizeof v), 0);
    /* The server stores a secret in the app's sealed namespace. */
    eos_kv_ns *ns = NULL;
    EOS_CHECK_INT(eos_kv_ns_open(kv, "app:unit/secret", &ns, NULL), 0);
    EOS_CHECK_INT(eos_kv_set(ns, "api-key", 7, (const uint8_t *)"s3cr3t-value", 12, NULL), 0);
    eos_kv_ns_close(ns);
    EOS_CHECK_INT(get("secret.api-key", v, sizeof v), 1);
    EOS_CHECK_STR(v, "s3cr3t-value");
    /* get-all: the configuration, and never a secret. */
    eos_cm_val res[1];
    EOS_CHECK_INT(call("get-all", NULL, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 0);
    const eos_cm_val *list = res[0].of.var.payload;
    EOS_CHECK_INT(list->of.list.len, 2);
    for (size_t i = 0; i < list->of.list.len; i++) {
        const eos_cm_val *pair = &list->of.list.items[i];
        EOS_CHECK(memcmp(pair->of.list.items[0].of.str.ptr, "secret", 6) != 0);
        EOS_CHECK(memmem(pair->of.list.items[1].of.str.ptr, pair->of.list.items[1].of.str.len,
                         "s3cr3t", 6) == NULL);
    }
    eos_wasi__ctx_fini(&ctx);
    bound = NULL;
}

int main(void)
{
    eos_tee *tee = tee_double_new(3);
    char *dir = kvt_mkdtemp();
    eos_kv_config kcfg = {.data_dir = dir, .tee = tee};
    eos_kv_backend_memory(&kcfg.backend);
    EOS_CHECK_INT(eos_kv_open(&kcfg, &kv, NULL), 0);
    eos_wasi_env config[2] = {{"greeting", "hello"}, {"mode", "test"}};
    eos_wasi_app_config cfg = {
        .name = "unit", .store = eos_apps_wasi_store(kv), .config = config, .config_count = 2};
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_wasi_app_new(&cfg, &app, &d), 0);
    EOS_RUN(test_secret_config_store);
    eos_wasi_app_free(app);
    eos_kv_close(kv);
    kvt_rmdir(dir);
    eos_tee_free(tee);
    return eos_test_finish();
}
