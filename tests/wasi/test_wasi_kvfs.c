/* A C app calls every keyvalue function and the POSIX file calls through the
 * driver, on an LMDB store: its own assertions must pass, another app must
 * see none of its data, and the data must survive closing and reopening the
 * store. Skips when the component could not be built. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "kv_testutil.h"
#include "wasi_testutil.h"

static eos_tee *tee;
static char *dir;

static eos_kv *open_store(void)
{
    eos_kv *kv = NULL;
    eos_diag d;
    eos_diag_init(&d);
    eos_kv_config cfg = {.data_dir = dir, .tee = tee};
    int rc = eos_kv_open(&cfg, &kv, &d);
    if (rc)
        printf("    store: %s: %s\n", eos_err_name(rc), d.message);
    EOS_CHECK_INT(rc, 0);
    return kv;
}

/* Runs op in app `name`; returns 1 to skip. */
static int run_op(eos_cm_component *c, eos_kv *kv, const char *name, const char *op)
{
    eos_wasi_app_config cfg = {
        .name = name, .component = c, .store = eos_apps_wasi_store(kv), .max_fuel = 1ull << 36};
    eos_wasi_app *app = NULL;
    EOS_CHECK_INT(eos_wasi_app_new(&cfg, &app, NULL), 0);
    if (!app)
        return 1;
    eos_cm_arena *arena = eos_cm_arena_new();
    eos_cm_val arg, res;
    memset(&arg, 0, sizeof(arg));
    memset(&res, 0, sizeof(res));
    arg.of.str.ptr = op;
    arg.of.str.len = strlen(op);
    eos_wasi_outcome o;
    int rc = eos_wasi_call(app, "run", &arg, 1, &res, 1, arena, &o);
    int skip = 0;
    if (rc == EOS_EUNAVAILABLE) {
        printf("    SKIP: %s\n", o.reason);
        skip = 1;
    } else {
        if (rc)
            printf("    %s/%s: %s: %s\n", name, op, eos_err_name(rc), o.reason);
        EOS_CHECK_INT(rc, 0);
        if (!rc) {
            printf("    %s/%s: %.*s (fuel %llu)\n", name, op, (int)res.of.str.len, res.of.str.ptr,
                   (unsigned long long)o.fuel_consumed);
            EOS_CHECK_MEM(res.of.str.ptr, res.of.str.len, "ok", 2);
        }
    }
    eos_cm_arena_free(arena);
    eos_wasi_app_free(app);
    return skip;
}

static void test_kv_and_files(void)
{
    eos_cm_component *c = wt_load(EOS_WASI_APPS "/kvfs.wasm");
    if (!c) {
        printf("    SKIP: kvfs component unavailable\n");
        return;
    }
    tee = tee_double_new(7);
    dir = kvt_mkdtemp();
    eos_kv *kv = open_store();
    if (kv && !run_op(c, kv, "alpha", "write")) {
        run_op(c, kv, "beta", "isolated");
        eos_kv_close(kv);
        kv = open_store();
        if (kv)
            run_op(c, kv, "alpha", "persist");
    }
    eos_kv_close(kv);
    kvt_rmdir(dir);
    eos_tee_free(tee);
    eos_cm_component_free(c);
}

/* The load-time check instantiates with a request context bound: kvfs's start
 * function (wit-component calls _initialize, whose preopen setup calls
 * wasi:filesystem/preopens) must not trap there, with or without a store. */
static void test_check_runs_start_with_host(void)
{
    eos_cm_component *c = wt_load(EOS_WASI_APPS "/kvfs.wasm");
    if (!c) {
        printf("    SKIP: kvfs component unavailable\n");
        return;
    }
    tee = tee_double_new(7);
    dir = kvt_mkdtemp();
    eos_kv *kv = open_store();
    for (int with_kv = 0; with_kv < 2; with_kv++) {
        eos_wasi_app_config cfg = {
            .name = "check", .component = c, .store = eos_apps_wasi_store(with_kv ? kv : NULL)};
        eos_wasi_app *app = NULL;
        EOS_CHECK_INT(eos_wasi_app_new(&cfg, &app, NULL), 0);
        if (!app)
            continue;
        eos_diag d;
        eos_diag_init(&d);
        int rc = eos_wasi_app_check(app, &d);
        if (rc && rc != EOS_EUNAVAILABLE)
            printf("    check: %s: %s\n", eos_err_name(rc), d.message);
        EOS_CHECK(rc == 0 || rc == EOS_EUNAVAILABLE);
        eos_wasi_app_free(app);
    }
    eos_kv_close(kv);
    kvt_rmdir(dir);
    eos_tee_free(tee);
    eos_cm_component_free(c);
}

int main(void)
{
    EOS_RUN(test_kv_and_files);
    EOS_RUN(test_check_runs_start_with_host);
    return eos_test_finish();
}
