/* Requests per second through the incoming-handler driver on one core: a
 * fresh store and instance plus handle() per request, for the C hello app and
 * the componentize-js app, on the interpreter and (when the build has it) the
 * compiled tier, against a baseline measured in the same run: the bare
 * instantiate-and-free cost of the same component, without the call.
 * Rates are per second of this thread's CPU time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasi_testutil.h"

#define SECONDS 2.0

/* CPU time of this thread (page faults included), steadier than wall time
 * on a shared machine. */
static uint64_t cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* A field of /proc/self/status in KiB (VmRSS, VmHWM), 0 when unknown. */
static size_t status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t v = 0, n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            v = strtoul(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* Resets VmHWM to the current RSS (Linux 4.0 and later). */
static void reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}


static double rate(uint64_t n, uint64_t ns)
{
    return ns ? (double)n * 1e9 / (double)ns : 0.0;
}

/* Runs GET /hello for SECONDS of CPU time; 0, or 1 after a failure. */
static int requests(const char *label, eos_wasi_app *app, uint64_t *out_n, uint64_t *out_ns)
{
    uint64_t n = 0, t = cpu_ns(), el = 0;
    while ((el = cpu_ns() - t) < (uint64_t)(SECONDS * 1e9)) {
        wt_response r = {0};
        eos_wasi_sink sink = wt_sink(&r);
        eos_wasi_request req = wt_get("/hello");
        eos_wasi_outcome o;
        int rc = eos_wasi_handle_http(app, &req, &sink, &o);
        if (rc || r.status != 200) {
            printf("%-6s request failed: %s %s\n", label, eos_err_name(rc), o.reason);
            return 1;
        }
        n++;
    }
    *out_n = n;
    *out_ns = el;
    return 0;
}

static void bench(const char *label, const char *file, int tier)
{
    const char *tier_name = tier == EOS_WASM_TIER_COMPILED ? "compiled" : "interp";
    reset_peak();
    size_t idle_kb = status_kb("VmRSS");
    eos_cm_component *c = wt_load_tier(file, tier);
    if (!c) {
        printf("%-6s skipped: %s not built\n", label, file);
        return;
    }
    /* Loading reads the file, decodes, validates and translates. */
    size_t peak_kb = status_kb("VmHWM"), size_kb = 0;
    FILE *cf = fopen(file, "rb");
    if (cf && fseek(cf, 0, SEEK_END) == 0)
        size_kb = (size_t)ftell(cf) / 1024;
    if (cf)
        fclose(cf);
    printf("%-6s %-8s load: peak RSS above idle %.1f MB for a %.1f MB component (%.2fx); "
           "%.1f MB after\n",
           label, tier_name, (double)(peak_kb - idle_kb) / 1024, (double)size_kb / 1024,
           size_kb ? (double)(peak_kb - idle_kb) / (double)size_kb : 0.0,
           (double)(status_kb("VmRSS") - idle_kb) / 1024);
    eos_wasi_app_config cfg = {
        .name = "bench", .component = c, .max_fuel = 1ull << 40, .max_memory_bytes = 256u << 20};
    eos_wasi_app *app = NULL;
    if (eos_wasi_app_new(&cfg, &app, NULL)) {
        eos_cm_component_free(c);
        return;
    }
    /* Baseline: instantiation alone. */
    uint64_t n0 = 0, t0 = cpu_ns(), el0 = 0;
    while ((el0 = cpu_ns() - t0) < (uint64_t)(SECONDS * 1e9)) {
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
    uint64_t n = 0, el = 0;
    if (requests(label, app, &n, &el))
        goto out;
    double base = rate(n0, el0), full = rate(n, el);
    printf("%-6s %-8s %9.0f req/s through the driver; baseline instantiate+free %9.0f /s; "
           "ratio %.2f (instantiation's share of a request)\n",
           label, tier_name, full, base, base > 0 ? full / base : 0.0);
    /* The same requests on pooled instances, reset between requests. */
    eos_wasi_app *pooled = NULL;
    cfg.pool_size = 1;
    if (eos_wasi_app_new(&cfg, &pooled, NULL) == 0 && requests(label, pooled, &n, &el) == 0)
        printf("%-6s %-8s %9.0f req/s on a pooled instance (%.2fx a fresh one)\n", label,
               tier_name, rate(n, el),
               full > 0 ? rate(n, el) / full : 0.0);
    eos_wasi_app_free(pooled);
out:
    eos_wasi_app_free(app);
    eos_cm_component_free(c);
}

/* Each component on the interpreter, then (when the build has it) on the
 * compiled tier, in the same run. */
static void bench_tiers(const char *label, const char *file)
{
    /* EOS_BENCH_TIER=interp skips the compiled tier (hello-js's compile
     * takes minutes). */
    const char *only = getenv("EOS_BENCH_TIER");
    if (!only || strcmp(only, "compiled") != 0)
        bench(label, file, EOS_WASM_TIER_INTERP);
    if (eos_wasm_jit_available() && (!only || strcmp(only, "interp") != 0))
        bench(label, file, EOS_WASM_TIER_COMPILED);
}

/* Usage: bench_wasi [APPS_DIR [COMPONENT.wasm...]]: the test apps, then any
 * other incoming-handler components (e.g. examples/hello-js). */
int main(int argc, char **argv)
{
    const char *apps = argc > 1 ? argv[1] : EOS_WASI_APPS;
    char p[512];
    snprintf(p, sizeof(p), "%s/hello.wasm", apps);
    bench_tiers("C", p);
    snprintf(p, sizeof(p), "%s/fetch-js.wasm", apps);
    bench_tiers("JS", p);
    for (int i = 2; i < argc; i++) {
        const char *base = strrchr(argv[i], '/');
        bench_tiers(base ? base + 1 : argv[i], argv[i]);
    }
    return 0;
}
