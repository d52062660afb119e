/* The client library's typed calls against a running server, driven by
 * test_client.py: load (with route, hostname, config and an allow-list),
 * list, call, verify (every field of the typed result) and unload.
 *   client_calls HOST:PORT HELLO.wasm [TYPED.wasm]
 * Exits 0 when every check passed. */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eos/client.h"
#include "eos/ratls.h"
#include "harness.h"

static uint8_t *slurp(const char *path, size_t *size)
{
    uint8_t *b = eos_test_read_file(path, size);
    if (!b) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    return b;
}

static void check_status(const char *doc, const char *want)
{
    char needle[64];
    snprintf(needle, sizeof needle, "\"status\":\"%s\"", want);
    if (!strstr(doc, needle))
        fprintf(stderr, "answer without %s: %s\n", needle, doc);
    EOS_CHECK(strstr(doc, needle) != NULL);
}

static const eos_client_verified_app *find(const eos_client_verify_result *v, const char *name)
{
    for (size_t i = 0; i < v->app_count; i++)
        if (strcmp(v->apps[i].name, name) == 0)
            return &v->apps[i];
    return NULL;
}

static const uint8_t *commitment(const eos_client_verified_app *a, const char *name)
{
    for (size_t i = 0; i < a->commitment_count; i++)
        if (strcmp(a->commitments[i].name, name) == 0)
            return a->commitments[i].hash;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: client_calls HOST:PORT HELLO.wasm [TYPED.wasm]\n");
        return 2;
    }
    const char *addr = argv[1];
    eos_diag d;
    eos_diag_init(&d);
    eos_client *c = NULL;
    char *doc = NULL;
    size_t doc_size = 0, hello_size = 0;
    uint8_t *hello = slurp(argv[2], &hello_size);
    EOS_CHECK_INT(eos_client_connect(NULL, addr, &c, &d), 0);

    /* load with the options whose leaves verify confirms */
    static const char *const rules[] = {"https://api.example.com", "https://*.example.org"};
    eos_client_load_args la = {
        .name = "cc-hello",
        .route = "/cc",
        .hostname = "cc.example",
        .config_json = "{\"greeting\":\"hi\"}",
        .allow_outbound = rules,
        .allow_outbound_count = 2,
        .bytes = hello,
        .size = hello_size,
    };
    EOS_CHECK_INT(eos_client_load(c, &la, &doc, &doc_size, &d), 0);
    check_status(doc, "loaded");
    eos_client_doc_free(doc, doc_size);

    EOS_CHECK_INT(eos_client_list(c, &doc, &doc_size, &d), 0);
    EOS_CHECK(strstr(doc, "\"name\":\"cc-hello\"") != NULL);
    eos_client_doc_free(doc, doc_size);

    /* call: an answer either way; the typed example adds when given */
    if (argc > 3) {
        size_t typed_size = 0;
        uint8_t *typed = slurp(argv[3], &typed_size);
        eos_client_load_args ta = {.name = "cc-typed", .bytes = typed, .size = typed_size};
        EOS_CHECK_INT(eos_client_load(c, &ta, &doc, &doc_size, &d), 0);
        check_status(doc, "loaded");
        eos_client_doc_free(doc, doc_size);
        EOS_CHECK_INT(eos_client_call(c, "cc-typed", "add", "[2,3]", &doc, &doc_size, &d), 0);
        check_status(doc, "ok");
        EOS_CHECK(strstr(doc, "\"returns\":[5]") != NULL);
        eos_client_doc_free(doc, doc_size);
        free(typed);
    }
    EOS_CHECK_INT(eos_client_call(c, "cc-nope", "f", NULL, &doc, &doc_size, &d), 0);
    check_status(doc, "error");
    eos_client_doc_free(doc, doc_size);

    /* verify: simulated refused by default, then every field */
    eos_client_verify_result v;
    EOS_CHECK_INT(eos_client_verify(addr, NULL, &v, &d), EOS_EVERIFY);
    EOS_CHECK_STR(v.failed_step, "simulated");
    eos_client_verify_result_free(&v);
    eos_ratls_verify_opts o;
    memset(&o, 0, sizeof o);
    o.allow_simulated = 1;
    EOS_CHECK_INT(eos_client_verify(addr, &o, &v, &d), 0);
    EOS_CHECK_STR(v.failed_step, "none");
    EOS_CHECK_STR(v.tee, "sim");
    EOS_CHECK(v.simulated && v.has_root && v.manifest_checked && v.has_cert && v.apps_listed);
    EOS_CHECK(v.measurement_size > 0 && !v.mismatch);
    EOS_CHECK(v.detail != NULL);
    if (v.detail)
        EOS_CHECK_MEM(v.cert_sha256, 32, v.detail->cert_sha256, 32);
    const eos_client_verified_app *a = find(&v, "cc-hello");
    EOS_CHECK(a != NULL);
    if (a) {
        uint8_t code[32], leaf[32];
        SHA256(hello, hello_size, code);
        EOS_CHECK(a->has_code_hash && a->confirmed);
        EOS_CHECK_MEM(a->code_hash, 32, code, 32);
        EOS_CHECK_STR(a->route, "/cc");
        EOS_CHECK_STR(a->hostname, "cc.example");
        EOS_CHECK_STR(a->outbound, "https://api.example.com\nhttps://*.example.org");
        EOS_CHECK(a->tier != NULL);
        const uint8_t *route = commitment(a, "route");
        SHA256((const uint8_t *)"/cc", 3, leaf);
        EOS_CHECK(route && memcmp(route, leaf, 32) == 0);
        EOS_CHECK(commitment(a, "config") != NULL);
        EOS_CHECK(commitment(a, "env") != NULL);
        EOS_CHECK(commitment(a, "code_hash") == NULL);
    }
    eos_client_verify_result_free(&v);

    /* a wrong expected root fails at its step, the result still filled */
    uint8_t zero[32] = {0};
    o.expect_root = zero;
    EOS_CHECK_INT(eos_client_verify(addr, &o, &v, &d), EOS_EVERIFY);
    EOS_CHECK_STR(v.failed_step, "expect-root");
    EOS_CHECK(v.has_cert && v.has_root);
    eos_client_verify_result_free(&v);
    EOS_CHECK_INT(eos_client_verify("no-port", &o, &v, &d), EOS_EINVAL);
    eos_client_verify_result_free(&v);

    EOS_CHECK_INT(eos_client_unload(c, "cc-hello", 0, NULL, &doc, &doc_size, &d), 0);
    check_status(doc, "unloaded");
    eos_client_doc_free(doc, doc_size);
    if (argc > 3) {
        EOS_CHECK_INT(eos_client_unload(c, "cc-typed", 0, NULL, &doc, &doc_size, &d), 0);
        eos_client_doc_free(doc, doc_size);
    }
    eos_client_close(c);
    free(hello);
    return eos_test_finish();
}
