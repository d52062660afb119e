/* The componentize-js fetch-handler app through the driver, compared with
 * what `jco serve` answers for the same component and requests (status,
 * the app's headers and the body; recorded from jco 1.35.0, see
 * docs/wasi.md). Headers Node adds itself (date, connection, keep-alive,
 * content-length) are not the app's and are not compared. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <malloc.h>

#include "harness.h"
#include "wasi_testutil.h"

/* AddressSanitizer keeps freed memory in quarantine: resident memory says
 * nothing there, so the bound on it is checked in other builds only. */
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

typedef struct body_src {
    const char *data;
    size_t left;
} body_src;

static int src_read(void *ud, uint8_t *buf, size_t cap, size_t *out_size)
{
    body_src *s = ud;
    size_t n = cap < s->left ? cap : s->left;
    memcpy(buf, s->data, n);
    s->data += n;
    s->left -= n;
    *out_size = n;
    return 0;
}

typedef struct ref_case {
    const char *method, *target, *body;
    uint16_t status;
    const char *headers[3]; /* "name: value" the reference sent, lower-cased names */
    const char *want_body;
} ref_case;

static const ref_case cases[] = {
    {"GET", "/hello", NULL, 200, {"content-type: text/plain"}, "Hello from inside SGX!"},
    {"GET",
     "/json?a=1",
     NULL,
     201,
     {"content-type: application/json", "x-app: js"},
     "{\"method\":\"GET\",\"path\":\"/json\",\"q\":\"?a=1\"}"},
    {"GET", "/nope", NULL, 404, {"content-type: text/plain;charset=UTF-8"}, "Unknown path"},
    {"POST",
     "/echo",
     "abc def",
     200,
     {"x-len: 7", "content-type: text/plain;charset=UTF-8"},
     "ABC DEF"},
};

/* Runs every case `rounds` times, on fresh instances or (pool_size 1) on one
 * instance reset between requests: the answers must not differ. */
static void run_cases(uint32_t pool_size, int rounds)
{
    eos_cm_component *c = wt_load(EOS_WASI_APPS "/fetch-js.wasm");
    if (!c) {
        printf("    SKIP: fetch-js component unavailable\n");
        return;
    }
    eos_wasi_app_config cfg = {.name = "js",
                               .component = c,
                               .max_fuel = 1ull << 40,
                               .max_memory_bytes = 256u << 20,
                               .pool_size = pool_size};
    eos_wasi_app *app = NULL;
    EOS_CHECK_INT(eos_wasi_app_new(&cfg, &app, NULL), 0);
    for (size_t i = 0; app && i < EOS_ARRAY_LEN(cases) * (size_t)rounds; i++) {
        const ref_case *k = &cases[i % EOS_ARRAY_LEN(cases)];
        wt_response r = {.keep_body = true};
        eos_wasi_outcome o;
        eos_wasi_request req = wt_get(k->target);
        req.method = k->method;
        body_src src = {k->body, k->body ? strlen(k->body) : 0};
        if (k->body) {
            req.body_read = src_read;
            req.body_ud = &src;
        }
        eos_wasi_header h = {"content-type", 12, (const uint8_t *)"text/plain", 10};
        req.headers = &h;
        req.header_count = 1;
        eos_wasi_sink s = wt_sink(&r);
        uint64_t t0 = eos_now_ns();
        int rc = eos_wasi_handle_http(app, &req, &s, &o);
        printf("    %s %s -> %s %u (%.2f s, fuel %llu) %s\n", k->method, k->target,
               eos_err_name(rc), r.status, (double)(eos_now_ns() - t0) / 1e9,
               (unsigned long long)o.fuel_consumed, o.reason);
        if (rc == EOS_EUNAVAILABLE) {
            printf("    SKIP: %s\n", o.reason);
            wt_response_free(&r);
            break;
        }
        EOS_CHECK_INT(rc, 0);
        EOS_CHECK_INT(r.status, k->status);
        for (int j = 0; j < 3 && k->headers[j]; j++) {
            char line[128];
            snprintf(line, sizeof(line), "%s\n", k->headers[j]);
            if (!strcasestr(r.headers, line)) {
                printf("    missing header \"%s\" in:\n%s", k->headers[j], r.headers);
                EOS_CHECK(0);
            }
        }
        EOS_CHECK_MEM(r.body, r.body_size, k->want_body, strlen(k->want_body));
        wt_response_free(&r);
    }
    if (app && pool_size) {
        eos_wasi_pool_stats st;
        eos_wasi_app_pool_stats(app, &st);
        EOS_CHECK_INT(st.fresh, 1);
    }
    eos_wasi_app_free(app);
    eos_cm_component_free(c);
}

static void test_matches_jco_serve(void)
{
    run_cases(0, 1);
}

/* StarlingMonkey keeps a whole JavaScript heap in linear memory: a reused
 * instance answers exactly as a fresh one, round after round. */
static void test_pooled_matches(void)
{
    run_cases(1, 3);
}

/* Load, a pooled request, unload, as the server does for an app: the memory
 * comes back (under LeakSanitizer nothing leaks; elsewhere the resident size
 * after the last cycle stays within 1.2x of the first's). */
static void test_load_cycles(void)
{
    size_t first = 0;
    for (int cycle = 0; cycle < 5; cycle++) {
        eos_cm_component *c = wt_load(EOS_WASI_APPS "/fetch-js.wasm");
        if (!c) {
            printf("    SKIP: fetch-js component unavailable\n");
            return;
        }
        eos_wasi_app_config cfg = {
            .name = "js", .component = c, .max_fuel = 1ull << 40, .pool_size = 2};
        eos_wasi_app *app = NULL;
        EOS_CHECK_INT(eos_wasi_app_new(&cfg, &app, NULL), 0);
        for (int i = 0; app && i < 2; i++) {
            wt_response r = {0};
            eos_wasi_sink s = wt_sink(&r);
            eos_wasi_outcome o;
            eos_wasi_request req = wt_get("/hello");
            EOS_CHECK_INT(eos_wasi_handle_http(app, &req, &s, &o), 0);
            wt_response_free(&r);
        }
        eos_wasi_app_free(app);
        eos_cm_component_free(c);
        malloc_trim(0);
        size_t rss = wt_rss();
        if (cycle == 0)
            first = rss;
        printf("    cycle %d: RSS %.1f MB\n", cycle + 1, (double)rss / 1048576);
    }
    if (RSS_BOUND_CHECKED)
        EOS_CHECK(wt_rss() <= first + first / 5);
}

int main(void)
{
    EOS_RUN(test_matches_jco_serve);
    EOS_RUN(test_pooled_matches);
    EOS_RUN(test_load_cycles);
    return eos_test_finish();
}
