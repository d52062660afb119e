/* wasi:http/outgoing-handler end to end: a componentize-js app calls fetch()
 * against upstreams on loopback (plain and TLS with a test CA), through the
 * allow-list, and against peers that misbehave; every bad peer ends the
 * request with an error the app sees, within the configured timeouts. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "egress_upstream.h"
#include "harness.h"
#include "wasi_testutil.h"

static eos_cm_component *comp;
static char ca_path[64];

typedef struct call_result {
    int rc;
    uint16_t status;
    char body[512];
    size_t body_size;
    char headers[4096];
} call_result;

typedef struct body_src {
    const char *d;
    size_t left;
} body_src;

static int src_read(void *ud, uint8_t *buf, size_t cap, size_t *out_size)
{
    body_src *s = ud;
    size_t n = cap < s->left ? cap : s->left;
    memcpy(buf, s->d, n);
    s->d += n;
    s->left -= n;
    *out_size = n;
    return 0;
}

static call_result run(eos_wasi_app *app, const char *target, const char *body)
{
    call_result cr = {0};
    wt_response r = {.keep_body = true};
    eos_wasi_outcome o;
    eos_wasi_request req = wt_get(target);
    body_src src = {body, body ? strlen(body) : 0};
    if (body) {
        req.method = "POST";
        req.body_read = src_read;
        req.body_ud = &src;
    }
    eos_wasi_sink s = wt_sink(&r);
    cr.rc = eos_wasi_handle_http(app, &req, &s, &o);
    cr.status = r.status;
    cr.body_size = r.body_size;
    size_t n = r.body_size < sizeof(cr.body) - 1 ? r.body_size : sizeof(cr.body) - 1;
    if (r.body)
        memcpy(cr.body, r.body, n);
    cr.body[n] = 0;
    snprintf(cr.headers, sizeof(cr.headers), "%s", r.headers);
    if (cr.rc)
        printf("    (driver: %d %s)\n", cr.rc, o.reason);
    wt_response_free(&r);
    return cr;
}

static eos_wasi_app *app_with(const char *const *rules, size_t n, const char *ca,
                              uint64_t max_resp)
{
    eos_wasi_app_config cfg = {.name = "egress",
                               .component = comp,
                               .max_fuel = 1ull << 40,
                               .max_memory_bytes = 256u << 20};
    cfg.outbound.allow = rules;
    cfg.outbound.allow_count = n;
    cfg.outbound.ca_file = ca;
    cfg.outbound.max_response_bytes = max_resp;
    cfg.outbound.first_byte_timeout_ns = 500000000ull;
    cfg.outbound.between_bytes_timeout_ns = 500000000ull;
    eos_wasi_app *app = NULL;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_wasi_app_new(&cfg, &app, &d), 0);
    return app;
}

static void target(char *buf, size_t size, const char *route, const char *scheme,
                   const char *host, int port, const char *path)
{
    snprintf(buf, size, "/%s?u=%s://%s:%d%s", route, scheme, host, port, path);
}

static void test_rules(void)
{
    static const char *const good[] = {"https://api.example.com", "https://*.example.com:8443",
                                       "http://127.0.0.1:8080", "https://h:*"};
    for (size_t i = 0; i < EOS_ARRAY_LEN(good); i++)
        EOS_CHECK_INT(eos_wasi_outbound_rule_check(good[i], NULL), 0);
    static const char *const bad[] = {"ftp://x", "https://", "https://a b", "https://x:0",
                                      "https://x:70000", "api.example.com", "https://*."};
    for (size_t i = 0; i < EOS_ARRAY_LEN(bad); i++)
        EOS_CHECK_INT(eos_wasi_outbound_rule_check(bad[i], NULL), EOS_EINVAL);
}

static void test_plain(void)
{
    eu_server *up = eu_start(EU_CERT_NONE);
    EOS_CHECK(up != NULL);
    char rule[64], t[256];
    snprintf(rule, sizeof(rule), "http://127.0.0.1:%d", eu_port(up));
    const char *rules[] = {rule};
    eos_wasi_app *app = app_with(rules, 1, NULL, 1u << 20);

    target(t, sizeof(t), "fetch", "http", "127.0.0.1", eu_port(up), "/hello");
    call_result r = run(app, t, NULL);
    EOS_CHECK_INT(r.status, 200);
    EOS_CHECK_STR(r.body, "HELLO FROM UPSTREAM");
    EOS_CHECK(strstr(r.headers, "x-upstream-status: 200") != NULL);
    EOS_CHECK(strstr(r.headers, "x-upstream-type: text/plain") != NULL);

    /* A request body goes up and comes back. */
    target(t, sizeof(t), "post", "http", "127.0.0.1", eu_port(up), "/echo");
    r = run(app, t, "sent through the enclave");
    EOS_CHECK_INT(r.status, 200);
    EOS_CHECK_STR(r.body, "sent through the enclave");

    /* Redirects are the app's to follow. */
    target(t, sizeof(t), "fetch", "http", "127.0.0.1", eu_port(up), "/redirect");
    r = run(app, t, NULL);
    EOS_CHECK_INT(r.status, 200);
    EOS_CHECK(strstr(r.headers, "x-upstream-status: 302") != NULL);

    /* Misbehaving peers: each ends in an error the app reports. */
    static const char *const bad[] = {"/silent", "/huge-headers", "/truncated", "/reset",
                                      "/big?n=2000000"};
    for (size_t i = 0; i < EOS_ARRAY_LEN(bad); i++) {
        target(t, sizeof(t), "fetch", "http", "127.0.0.1", eu_port(up), bad[i]);
        uint64_t t0 = eos_now_ns();
        r = run(app, t, NULL);
        printf("    %s -> %u %s (%.2f s)\n", bad[i], r.status, r.body,
               (eos_now_ns() - t0) / 1e9);
        EOS_CHECK_INT(r.status, 502);
    }
    /* A port nobody listens on. */
    eos_wasi_outbound_stats st;
    eos_wasi_app_outbound_stats(app, &st);
    EOS_CHECK_INT(st.calls, 8);
    EOS_CHECK_INT(st.errors, 5);
    EOS_CHECK_INT(st.denied, 0);
    EOS_CHECK(st.bytes_in > 1000000);
    eos_wasi_app_free(app);
    eu_stop(up);
}

static void test_denied(void)
{
    eu_server *up = eu_start(EU_CERT_NONE);
    char rule[64], t[256];
    snprintf(rule, sizeof(rule), "https://127.0.0.1:%d", eu_port(up));
    const char *rules[] = {rule, "http://*.example.com"};
    eos_wasi_app *none = app_with(NULL, 0, NULL, 0);
    eos_wasi_app *tls_only = app_with(rules, 2, NULL, 0);
    target(t, sizeof(t), "fetch", "http", "127.0.0.1", eu_port(up), "/hello");
    call_result r = run(none, t, NULL);
    EOS_CHECK_INT(r.status, 502);
    r = run(tls_only, t, NULL);
    EOS_CHECK_INT(r.status, 502);
    target(t, sizeof(t), "fetch", "http", "localhost", eu_port(up), "/hello");
    r = run(tls_only, t, NULL);
    EOS_CHECK_INT(r.status, 502);
    /* the wildcard is for names below example.com only */
    r = run(tls_only, "/fetch?u=http://example.com/", NULL);
    EOS_CHECK_INT(r.status, 502);
    EOS_CHECK_INT(eu_requests(up), 0);
    eos_wasi_outbound_stats st;
    eos_wasi_app_outbound_stats(tls_only, &st);
    EOS_CHECK_INT(st.denied, 3);
    EOS_CHECK_INT(st.calls, 0);
    eos_wasi_app_free(none);
    eos_wasi_app_free(tls_only);
    eu_stop(up);
}

static void test_tls(void)
{
    eu_server *good = eu_start(EU_CERT_GOOD);
    eu_server *expired = eu_start(EU_CERT_EXPIRED);
    const char *rules[] = {"https://localhost:*", "https://127.0.0.1:*"};
    eos_wasi_app *app = app_with(rules, 2, ca_path, 0);
    eos_wasi_app *sys = app_with(rules, 2, NULL, 0);
    char t[256];
    target(t, sizeof(t), "fetch", "https", "localhost", eu_port(good), "/hello");
    call_result r = run(app, t, NULL);
    EOS_CHECK_INT(r.status, 200);
    EOS_CHECK_STR(r.body, "HELLO FROM UPSTREAM");
    /* the system bundle does not know the test CA */
    r = run(sys, t, NULL);
    EOS_CHECK_INT(r.status, 502);
    /* the certificate names localhost, not 127.0.0.1 */
    target(t, sizeof(t), "fetch", "https", "127.0.0.1", eu_port(good), "/hello");
    r = run(app, t, NULL);
    EOS_CHECK_INT(r.status, 502);
    target(t, sizeof(t), "fetch", "https", "localhost", eu_port(expired), "/hello");
    r = run(app, t, NULL);
    EOS_CHECK_INT(r.status, 502);
    eos_wasi_outbound_stats st;
    eos_wasi_app_outbound_stats(app, &st);
    EOS_CHECK_INT(st.calls, 3);
    EOS_CHECK_INT(st.errors, 2);
    eos_wasi_app_free(app);
    eos_wasi_app_free(sys);
    eu_stop(good);
    eu_stop(expired);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* the upstream writes to peers that hung up */
    snprintf(ca_path, sizeof(ca_path), "/tmp/eos-egress-ca-%d.pem", (int)getpid());
    EOS_RUN(test_rules);
    comp = wt_load(EOS_WASI_APPS "/egress-js.wasm");
    if (!comp) {
        printf("    SKIP: egress-js component unavailable\n");
        return eos_test_finish();
    }
    if (eu_ca_write(ca_path))
        printf("    could not write the test CA\n");
    EOS_RUN(test_plain);
    EOS_RUN(test_denied);
    EOS_RUN(test_tls);
    unlink(ca_path);
    eos_cm_component_free(comp);
    return eos_test_finish();
}
