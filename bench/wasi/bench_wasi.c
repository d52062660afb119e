/* Requests per second through the incoming-handler driver on one core: a
 * fresh store and instance plus handle() per request, for the C hello app and
 * the componentize-js app, against a baseline measured in the same run: the
 * bare instantiate-and-free cost of the same component, without the call. */
#include <stdio.h>
#include <string.h>

#include "wasi_testutil.h"

#define SECONDS 2.0

/* The tier the components run on (the test library is built once per tier). */
#ifndef EOS_BENCH_TIER
#define EOS_BENCH_TIER "interp"
#endif

static double rate(uint64_t n, uint64_t ns)
{
    return ns ? (double)n * 1e9 / (double)ns : 0.0;
}

static void bench(const char *label, const char *file)
{
    eos_cm_component *c = wt_load(file);
    if (!c) {
        printf("%-6s skipped: %s not built\n", label, file);
        return;
    }
    eos_wasi_app_config cfg = {
        .name = "bench", .component = c, .max_fuel = 1ull << 40, .max_memory_bytes = 256u << 20};
    eos_wasi_app *app = NULL;
    if (eos_wasi_app_new(&cfg, &app, NULL)) {
        eos_cm_component_free(c);
        return;
    }
    /* Baseline: instantiation alone. */
    uint64_t n0 = 0, t0 = eos_now_ns(), el0 = 0;
    while ((el0 = eos_now_ns() - t0) < (uint64_t)(SECONDS * 1e9)) {
        eos_wasm_store *s = NULL;
        eos_cm_instance *i = NULL;
        eos_wasm_limits lim = {.fuel = 1ull << 40};
        if (eos_wasm_store_new(&lim, &s) ||
            eos_cm_instance_new(s, c, eos_wasi_app_host(app), NULL, &i, NULL)) {
            eos_wasm_store_free(s);
            printf("%-6s cannot instantiate\n", label);
            goto out;
        }
        eos_cm_instance_free(i);
        eos_wasm_store_free(s);
        n0++;
    }
    uint64_t n = 0, t = eos_now_ns(), el = 0, bytes = 0;
    while ((el = eos_now_ns() - t) < (uint64_t)(SECONDS * 1e9)) {
        wt_response r = {0};
        eos_wasi_sink sink = wt_sink(&r);
        eos_wasi_request req = wt_get("/hello");
        eos_wasi_outcome o;
        int rc = eos_wasi_handle_http(app, &req, &sink, &o);
        if (rc || r.status != 200) {
            printf("%-6s request failed: %s %s\n", label, eos_err_name(rc), o.reason);
            goto out;
        }
        bytes += r.body_size;
        n++;
    }
    double base = rate(n0, el0), full = rate(n, el);
    printf("%-6s %-8s %9.0f req/s through the driver; baseline instantiate+free %9.0f /s; "
           "ratio %.2f\n",
           label, EOS_BENCH_TIER, full, base, base > 0 ? full / base : 0.0);
out:
    eos_wasi_app_free(app);
    eos_cm_component_free(c);
}

int main(int argc, char **argv)
{
    const char *apps = argc > 1 ? argv[1] : EOS_WASI_APPS;
    char p[512];
    snprintf(p, sizeof(p), "%s/hello.wasm", apps);
    bench("C", p);
    snprintf(p, sizeof(p), "%s/fetch-js.wasm", apps);
    bench("JS", p);
    return 0;
}
