/* The incoming-handler driver end to end on real components: the seed's
 * hello handler, response heads and headers, traps, fuel and memory limits,
 * exit, a handler that never responds, and 100 MB streamed each way with
 * host memory staying bounded. Tests skip (and say why) when the components
 * could not be built or the engine cannot instantiate them. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "wasi_testutil.h"

#define APP(name)   EOS_WASI_APPS "/" name ".wasm"
#define STREAM_SIZE (100ull * 1024 * 1024)
#define RSS_SLACK   (32ull * 1024 * 1024)

/* AddressSanitizer keeps freed memory in quarantine, so resident memory says
 * nothing about what the host holds; the bound is checked in other builds. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_BOUND_CHECKED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_BOUND_CHECKED 0
#endif
#endif
#ifndef RSS_BOUND_CHECKED
#define RSS_BOUND_CHECKED 1
#endif

static eos_wasi_app *app_for(const char *file, eos_cm_component **out_c, uint64_t fuel,
                             uint64_t mem)
{
    *out_c = wt_load(file);
    if (!*out_c)
        return NULL;
    eos_wasi_app_config cfg = {
        .name = "drv", .component = *out_c, .max_fuel = fuel, .max_memory_bytes = mem};
    eos_wasi_app *app = NULL;
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_wasi_app_new(&cfg, &app, &d);
    if (rc)
        printf("    app: %s: %s\n", eos_err_name(rc), d.message);
    EOS_CHECK_INT(rc, 0);
    return app;
}

static void app_done(eos_wasi_app *app, eos_cm_component *c)
{
    eos_wasi_app_free(app);
    eos_cm_component_free(c);
}

/* Runs target; returns the driver's code, or 1 to mean "skip". */
static int run(eos_wasi_app *app, const eos_wasi_request *req, wt_response *r, eos_wasi_outcome *o)
{
    eos_wasi_sink s = wt_sink(r);
    int rc = eos_wasi_handle_http(app, req, &s, o);
    if (rc == EOS_EUNAVAILABLE) {
        printf("    SKIP: %s\n", o->reason);
        return 1;
    }
    return rc;
}

static void test_hello(void)
{
    eos_cm_component *c;
    eos_wasi_app *app = app_for(APP("hello"), &c, 0, 0);
    if (!app) {
        printf("    SKIP: hello component unavailable\n");
        return;
    }
    const char *paths[] = {"/hello", "/other", "/hello?x=1"};
    const char *want[] = {"Hello from inside SGX!", "Unknown path", "Hello from inside SGX!"};
    for (int i = 0; i < 3; i++) {
        wt_response r = {.keep_body = true};
        eos_wasi_outcome o;
        eos_wasi_request req = wt_get(paths[i]);
        int rc = run(app, &req, &r, &o);
        if (rc == 1)
            break;
        if (rc)
            printf("    %s: %s (%s)\n", paths[i], eos_err_name(rc), o.reason);
        EOS_CHECK_INT(rc, 0);
        EOS_CHECK_INT(r.status, 200);
        EOS_CHECK_INT(r.head_calls, 1);
        EOS_CHECK_INT(r.end_calls, 1);
        EOS_CHECK(r.complete);
        EOS_CHECK(o.head_sent && o.body_complete);
        EOS_CHECK_MEM(r.body, r.body_size, want[i], strlen(want[i]));
        EOS_CHECK(strstr(r.headers, "content-type: text/plain") != NULL);
        wt_response_free(&r);
    }
    app_done(app, c);
}

static void expect_failure(const char *target, uint64_t fuel, uint64_t mem, int want,
                           const char *reason_part)
{
    eos_cm_component *c;
    eos_wasi_app *app = app_for(APP("misbehave"), &c, fuel, mem);
    if (!app) {
        printf("    SKIP: misbehave component unavailable\n");
        return;
    }
    wt_response r = {0};
    eos_wasi_outcome o;
    eos_wasi_request req = wt_get(target);
    int rc = run(app, &req, &r, &o);
    if (rc != 1) {
        printf("    %s -> %s: %s\n", target, eos_err_name(rc), o.reason);
        if (want == EOS_TRAP_FIRST)
            EOS_CHECK(eos_is_trap(rc));
        else
            EOS_CHECK_INT(rc, want);
        EOS_CHECK(!o.head_sent);
        EOS_CHECK_INT(r.head_calls, 0);
        EOS_CHECK(o.reason[0] != 0);
        if (reason_part)
            EOS_CHECK(strstr(o.reason, reason_part) != NULL);
    }
    app_done(app, c);
}

static void test_trap(void)
{
    expect_failure("/trap", 0, 0, EOS_TRAP_UNREACHABLE, "trapped");
}

static void test_out_of_fuel(void)
{
    expect_failure("/spin", 2000000, 0, EOS_TRAP_OUT_OF_FUEL, NULL);
}

/* A spinning app with fuel to spare is stopped by the request's time budget. */
static void test_time_budget(void)
{
    eos_cm_component *c = wt_load(APP("misbehave"));
    if (!c) {
        printf("    SKIP: misbehave component unavailable\n");
        return;
    }
    eos_wasi_app_config cfg = {
        .name = "drv", .component = c, .max_fuel = 1ull << 50, .max_time_ms = 50};
    eos_wasi_app *app = NULL;
    EOS_CHECK_INT(eos_wasi_app_new(&cfg, &app, NULL), 0);
    wt_response r = {0};
    eos_wasi_outcome o;
    eos_wasi_request req = wt_get("/spin");
    uint64_t t0 = eos_now_ns();
    int rc = run(app, &req, &r, &o);
    if (rc != 1) {
        printf("    /spin -> %s after %llu ms: %s\n", eos_err_name(rc),
               (unsigned long long)((eos_now_ns() - t0) / 1000000), o.reason);
        EOS_CHECK_INT(rc, EOS_TRAP_DEADLINE);
        EOS_CHECK(strstr(o.reason, "time budget") != NULL);
        EOS_CHECK(!o.head_sent);
    }
    app_done(app, c);
}

/* Pooled instances: requests reuse a reset instance and see nothing an
 * earlier one left behind (memory contents and growth, the heap); a failed
 * request's instance is not reused; idle instances are freed by a trim. */
static void test_pool(void)
{
    eos_cm_component *c = wt_load(APP("misbehave"));
    if (!c) {
        printf("    SKIP: misbehave component unavailable\n");
        return;
    }
    eos_wasi_app_config cfg = {
        .name = "drv", .component = c, .max_fuel = 1ull << 40, .pool_size = 2};
    eos_wasi_app *app = NULL;
    EOS_CHECK_INT(eos_wasi_app_new(&cfg, &app, NULL), 0);
    char first[96] = "";
    for (int i = 0; i < 6; i++) {
        wt_response r = {.keep_body = true};
        eos_wasi_outcome o;
        eos_wasi_request req = wt_get(i == 3 ? "/trap" : "/state");
        int rc = run(app, &req, &r, &o);
        if (rc == 1)
            break;
        if (i == 3) {
            EOS_CHECK_INT(rc, EOS_TRAP_UNREACHABLE);
        } else {
            EOS_CHECK_INT(rc, 0);
            char text[96];
            snprintf(text, sizeof(text), "%.*s", (int)r.body_size, (const char *)r.body);
            if (i == 0) {
                snprintf(first, sizeof(first), "%s", text);
                printf("    /state -> %s\n", text);
            }
            EOS_CHECK(strncmp(text, "seen=1 ", 7) == 0 && strstr(text, "first=-") != NULL);
            EOS_CHECK_STR(text, first);
        }
        wt_response_free(&r);
    }
    eos_wasi_pool_stats st;
    eos_wasi_app_pool_stats(app, &st);
    /* Fresh: the first request and the one after the trap (whose instance,
     * reused, was not given back); every other one reused. */
    EOS_CHECK_INT(st.fresh, 2);
    EOS_CHECK_INT(st.reused, 4);
    EOS_CHECK_INT(st.ready, 1);
    eos_wasi_app_trim(app, 0);
    eos_wasi_app_pool_stats(app, &st);
    EOS_CHECK_INT(st.ready, 0);
    app_done(app, c);
}

static void test_memory_limit(void)
{
    expect_failure("/grow", 1ull << 40, 8u << 20, EOS_TRAP_FIRST, NULL);
}

static void test_exit(void)
{
    expect_failure("/exit", 0, 0, EOS_TRAP_EXIT, "status 1");
}

static void test_no_response(void)
{
    eos_cm_component *c;
    eos_wasi_app *app = app_for(APP("noresp"), &c, 0, 0);
    if (!app) {
        printf("    SKIP: noresp component unavailable\n");
        return;
    }
    wt_response r = {0};
    eos_wasi_outcome o;
    eos_wasi_request req = wt_get("/");
    int rc = run(app, &req, &r, &o);
    if (rc != 1) {
        EOS_CHECK_INT(rc, EOS_EPROTO);
        EOS_CHECK(strstr(o.reason, "without setting a response") != NULL);
        EOS_CHECK_INT(r.head_calls, 0);
    }
    app_done(app, c);
}

static void test_headers_and_status(void)
{
    eos_cm_component *c;
    eos_wasi_app *app = app_for(APP("misbehave"), &c, 0, 0);
    if (!app) {
        printf("    SKIP: misbehave component unavailable\n");
        return;
    }
    wt_response r = {.keep_body = true};
    eos_wasi_outcome o;
    eos_wasi_request req = wt_get("/headers");
    int rc = run(app, &req, &r, &o);
    if (rc != 1) {
        EOS_CHECK_INT(rc, 0);
        EOS_CHECK_INT(r.status, 201);
        EOS_CHECK(strstr(r.headers, "x-test: yes\n") != NULL);
        EOS_CHECK(strstr(r.headers, "content-type: application/x-test\n") != NULL);
        EOS_CHECK_MEM(r.body, r.body_size, "made", 4);
    }
    wt_response_free(&r);
    app_done(app, c);
}

static void test_stream_response(void)
{
    eos_cm_component *c;
    eos_wasi_app *app = app_for(APP("misbehave"), &c, 1ull << 40, 0);
    if (!app) {
        printf("    SKIP: misbehave component unavailable\n");
        return;
    }
    char target[64];
    snprintf(target, sizeof(target), "/stream?%llu", STREAM_SIZE);
    size_t base = wt_rss();
    wt_response r = {0};
    eos_wasi_outcome o;
    eos_wasi_request req = wt_get(target);
    uint64_t t0 = eos_now_ns();
    int rc = run(app, &req, &r, &o);
    if (rc != 1) {
        size_t grown = wt_rss() > base ? wt_rss() - base : 0;
        printf("    100 MB response: %.2f s, RSS +%zu KiB, largest piece %zu bytes\n",
               (double)(eos_now_ns() - t0) / 1e9, grown / 1024, r.max_chunk);
        EOS_CHECK_INT(rc, 0);
        EOS_CHECK_INT(r.body_size, STREAM_SIZE);
        EOS_CHECK(r.complete);
        EOS_CHECK(r.max_chunk <= EOS_WASI_BODY_CHUNK);
        EOS_CHECK(!RSS_BOUND_CHECKED || grown < RSS_SLACK);
    }
    app_done(app, c);
}

typedef struct body_src {
    uint64_t left;
    uint8_t fill[65536];
} body_src;

static int src_read(void *ud, uint8_t *buf, size_t cap, size_t *out_size)
{
    body_src *s = ud;
    size_t n = cap < sizeof(s->fill) ? cap : sizeof(s->fill);
    if (n > s->left)
        n = (size_t)s->left;
    memcpy(buf, s->fill, n);
    s->left -= n;
    *out_size = n;
    return 0;
}

static void test_stream_request(void)
{
    eos_cm_component *c;
    eos_wasi_app *app = app_for(APP("misbehave"), &c, 1ull << 40, 0);
    if (!app) {
        printf("    SKIP: misbehave component unavailable\n");
        return;
    }
    static body_src src;
    memset(src.fill, 'y', sizeof(src.fill));
    src.left = STREAM_SIZE;
    size_t base = wt_rss();
    wt_response r = {.keep_body = true};
    eos_wasi_outcome o;
    eos_wasi_request req = wt_get("/count");
    req.method = "POST";
    req.body_read = src_read;
    req.body_ud = &src;
    uint64_t t0 = eos_now_ns();
    int rc = run(app, &req, &r, &o);
    if (rc != 1) {
        size_t grown = wt_rss() > base ? wt_rss() - base : 0;
        printf("    100 MB request: %.2f s, RSS +%zu KiB\n", (double)(eos_now_ns() - t0) / 1e9,
               grown / 1024);
        EOS_CHECK_INT(rc, 0);
        EOS_CHECK_MEM(r.body, r.body_size, "104857600", 9);
        EOS_CHECK_INT(o.body_in_size, STREAM_SIZE);
        EOS_CHECK(!RSS_BOUND_CHECKED || grown < RSS_SLACK);
    }
    wt_response_free(&r);
    app_done(app, c);
}

static int thread_failures;

static void *hello_worker(void *arg)
{
    eos_wasi_app *app = arg;
    for (int i = 0; i < 100; i++) {
        wt_response r = {.keep_body = true};
        eos_wasi_outcome o;
        eos_wasi_request req = wt_get(i % 2 ? "/hello" : "/nope");
        eos_wasi_sink s = wt_sink(&r);
        int rc = eos_wasi_handle_http(app, &req, &s, &o);
        const char *want = i % 2 ? "Hello from inside SGX!" : "Unknown path";
        if (rc || r.body_size != strlen(want) || memcmp(r.body, want, r.body_size) != 0)
            __atomic_add_fetch(&thread_failures, 1, __ATOMIC_RELAXED);
        wt_response_free(&r);
    }
    return NULL;
}

/* One app serves requests from several threads at once. */
static void test_threads(void)
{
    eos_cm_component *c;
    eos_wasi_app *app = app_for(APP("hello"), &c, 0, 0);
    if (!app) {
        printf("    SKIP: hello component unavailable\n");
        return;
    }
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hello_worker, app);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    EOS_CHECK_INT(thread_failures, 0);
    app_done(app, c);
}

/* The same with a pool smaller than the number of threads: instances move
 * between threads, and some requests run on throwaway ones. */
static void test_threads_pooled(void)
{
    eos_cm_component *c = wt_load(APP("hello"));
    if (!c) {
        printf("    SKIP: hello component unavailable\n");
        return;
    }
    eos_wasi_app_config cfg = {.name = "drv", .component = c, .pool_size = 2, .pool_idle_ms = 1};
    eos_wasi_app *app = NULL;
    EOS_CHECK_INT(eos_wasi_app_new(&cfg, &app, NULL), 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hello_worker, app);
    eos_wasi_app_trim(app, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    EOS_CHECK_INT(thread_failures, 0);
    eos_wasi_pool_stats st;
    eos_wasi_app_pool_stats(app, &st);
    EOS_CHECK(st.ready <= 2);
    app_done(app, c);
}

/* A wasi:cli/run command gets the command line it is called with: argv[0]
 * first; without one, the app's name. Its exit status comes back. */
static void test_command_line(void)
{
    eos_cm_component *c = NULL;
    eos_wasi_app *app = app_for(APP("args"), &c, 0, 0);
    if (!app)
        return;
    static const char *const argv[] = {"prog", "a", "b c"};
    eos_cm_arena *arena = eos_cm_arena_new();
    eos_cm_val res;
    eos_wasi_outcome o;
    EOS_CHECK(arena != NULL);
    int rc = eos_wasi_call_argv(app, "wasi:cli/run@0.2.0#run", argv, 3, NULL, 0, &res, 1, arena,
                                &o);
    if (rc)
        printf("    run: %s: %s\n", eos_err_name(rc), o.reason);
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK(!o.exited);
    /* argv = {"drv"}: the program refuses it and exits with a failure. */
    rc = eos_wasi_call(app, "wasi:cli/run@0.2.0#run", NULL, 0, &res, 1, arena, &o);
    EOS_CHECK_INT(rc, EOS_TRAP_EXIT);
    EOS_CHECK(o.exited && o.exit_status != 0);
    rc = eos_wasi_call_argv(app, "wasi:cli/run@0.2.0#run", argv, 2, NULL, 0, &res, 1, arena, &o);
    EOS_CHECK_INT(rc, EOS_TRAP_EXIT);
    eos_cm_arena_free(arena);
    app_done(app, c);
}

int main(void)
{
    EOS_RUN(test_hello);
    EOS_RUN(test_headers_and_status);
    EOS_RUN(test_trap);
    EOS_RUN(test_out_of_fuel);
    EOS_RUN(test_time_budget);
    EOS_RUN(test_pool);
    EOS_RUN(test_memory_limit);
    EOS_RUN(test_exit);
    EOS_RUN(test_command_line);
    EOS_RUN(test_no_response);
    EOS_RUN(test_threads);
    EOS_RUN(test_threads_pooled);
    EOS_RUN(test_stream_response);
    EOS_RUN(test_stream_request);
    return eos_test_finish();
}
