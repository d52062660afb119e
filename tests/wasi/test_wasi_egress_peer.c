/* Attested outbound rules: their syntax, and the peer-verifier hook that
 * replaces the CA bundle and host-name checks for them, against a TLS
 * upstream on loopback and a stand-in verifier (the RA-TLS one is tested
 * end to end between two servers in tests/e2e/test_egress_attested.py). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "egress_upstream.h"
#include "harness.h"
#include "wasi_testutil.h"

static eos_cm_component *comp;

#define HEX64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void test_syntax(void)
{
    static const char *const good[] = {
        "https://peer.example;attested",
        "https://peer.example:8443;attested;simulated",
        "https://127.0.0.1:*;attested;root=" HEX64,
        "https://*.peers.example;attested;code=" HEX64 ";app=my-app",
        "https://peer.example/;ATTESTED;Simulated;root=" HEX64 ";code=" HEX64,
    };
    for (size_t i = 0; i < EOS_ARRAY_LEN(good); i++)
        EOS_CHECK_INT(eos_wasi_outbound_rule_check(good[i], NULL), 0);
    static const char *const bad[] = {
        "http://peer.example;attested",            /* attested is https only */
        "https://peer.example;simulated",          /* options need ;attested first */
        "https://peer.example;simulated;attested", /* ... before them */
        "https://peer.example;attested;attested",
        "https://peer.example;attested;root=12",
        "https://peer.example;attested;root=" HEX64 "0",
        "https://peer.example;attested;code=zz112233445566778899aabbccddeeff00112233445566778899"
        "aabbccddeeff",
        "https://peer.example;attested;app=a",     /* app= only names code='s app */
        "https://peer.example;attested;app=a b;code=" HEX64,
        "https://peer.example;attested;app=;code=" HEX64,
        "https://peer.example;attested;simulated=1",
        "https://peer.example;attested;root",
        "https://peer.example;attested;colour=blue",
        "https://peer.example;attested;",
        "https://peer.example;",
        "https://;attested",
    };
    for (size_t i = 0; i < EOS_ARRAY_LEN(bad); i++) {
        eos_diag d;
        eos_diag_init(&d);
        EOS_CHECK_INT(eos_wasi_outbound_rule_check(bad[i], &d), EOS_EINVAL);
        EOS_CHECK(d.message[0] != 0);
    }
}

typedef struct fake {
    int calls, accept;
    size_t certs;
    bool simulated, has_root, has_code;
    char rule[256];
} fake;

static int fake_verify(void *arg, const uint8_t *const *der, const size_t *der_size, size_t count,
                       const eos_wasi_peer_policy *p, char *why, size_t why_size)
{
    fake *f = arg;
    f->calls++;
    f->certs = count;
    f->simulated = p->allow_simulated;
    f->has_root = p->root != NULL;
    f->has_code = p->code_hash != NULL;
    snprintf(f->rule, sizeof(f->rule), "%s", p->rule);
    if (count == 0 || !der[0] || der_size[0] < 100)
        return EOS_EVERIFY;
    if (!f->accept) {
        snprintf(why, why_size, "stand-in verifier says no");
        return EOS_EVERIFY;
    }
    return 0;
}

static eos_wasi_app *app_with(const char *rule, const eos_wasi_peer_verifier *v, int want_rc)
{
    eos_wasi_app_config cfg = {.name = "peer",
                               .component = comp,
                               .max_fuel = 1ull << 40,
                               .max_memory_bytes = 256u << 20};
    const char *rules[] = {rule};
    cfg.outbound.allow = rules;
    cfg.outbound.allow_count = 1;
    cfg.outbound.verifier = v;
    cfg.outbound.first_byte_timeout_ns = 2000000000ull;
    eos_wasi_app *app = NULL;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_wasi_app_new(&cfg, &app, &d), want_rc);
    return app;
}

static uint16_t fetch(eos_wasi_app *app, int port, char *body, size_t body_size)
{
    char t[128];
    snprintf(t, sizeof(t), "/fetch?u=https://127.0.0.1:%d/hello", port);
    wt_response r = {.keep_body = true};
    eos_wasi_outcome o;
    eos_wasi_request req = wt_get(t);
    eos_wasi_sink s = wt_sink(&r);
    EOS_CHECK_INT(eos_wasi_handle_http(app, &req, &s, &o), 0);
    size_t n = r.body_size < body_size - 1 ? r.body_size : body_size - 1;
    memcpy(body, r.body ? (const char *)r.body : "", n);
    body[n] = 0;
    uint16_t status = r.status;
    wt_response_free(&r);
    return status;
}

static void test_hook(void)
{
    /* Attested rules need a verifier. */
    EOS_CHECK(app_with("https://127.0.0.1:1;attested", NULL, EOS_EINVAL) == NULL);

    /* The upstream's certificate is for localhost and from a CA the
     * system's bundle does not know: only the verifier decides. */
    eu_server *up = eu_start(EU_CERT_GOOD);
    char rule[256], body[512];
    snprintf(rule, sizeof(rule), "https://127.0.0.1:%d;attested;simulated;code=" HEX64,
             eu_port(up));
    fake f = {.accept = 1};
    eos_wasi_peer_verifier v = {fake_verify, &f};
    eos_wasi_app *app = app_with(rule, &v, 0);
    EOS_CHECK_INT(fetch(app, eu_port(up), body, sizeof(body)), 200);
    EOS_CHECK_STR(body, "HELLO FROM UPSTREAM");
    EOS_CHECK(f.calls >= 1);
    EOS_CHECK(f.certs >= 1);
    EOS_CHECK(f.simulated && f.has_code && !f.has_root);
    EOS_CHECK_STR(f.rule, rule);

    /* Refused: the call fails with a denial, the upstream sees no request. */
    f.accept = 0;
    uint64_t before = eu_requests(up);
    EOS_CHECK_INT(fetch(app, eu_port(up), body, sizeof(body)), 502);
    EOS_CHECK_INT(eu_requests(up), before);
    eos_wasi_outbound_stats st;
    eos_wasi_app_outbound_stats(app, &st);
    EOS_CHECK_INT(st.calls, 2);
    EOS_CHECK_INT(st.denied, 1);
    EOS_CHECK_INT(st.errors, 0);
    eos_wasi_app_free(app);

    /* The same upstream under a plain rule fails the system's bundle. */
    snprintf(rule, sizeof(rule), "https://127.0.0.1:%d", eu_port(up));
    app = app_with(rule, &v, 0);
    f.calls = 0;
    EOS_CHECK_INT(fetch(app, eu_port(up), body, sizeof(body)), 502);
    EOS_CHECK_INT(f.calls, 0);
    eos_wasi_app_free(app);
    eu_stop(up);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    EOS_RUN(test_syntax);
    comp = wt_load(EOS_WASI_APPS "/egress-js.wasm");
    if (!comp) {
        printf("    SKIP: egress-js component unavailable\n");
        return eos_test_finish();
    }
    EOS_RUN(test_hook);
    eos_cm_component_free(comp);
    return eos_test_finish();
}
