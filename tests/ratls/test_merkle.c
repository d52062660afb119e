/* Known answers for the configuration Merkle tree, manifest and report data.
 * The expected values were computed independently with Python's hashlib
 * from SPEC 5.1/5.2 (see docs/attestation.md for the recipe). */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "eos/ratls.h"
#include "harness.h"

static void hex(const char *h, uint8_t *out, size_t n)
{
    EOS_CHECK_INT(eos_hex_decode(h, out, n), 0);
}

static eos_ratls_merkle *build_fixed(void)
{
    uint8_t meas[32];
    memset(meas, 1, 32);
    eos_ratls_app apps[2] = {
        {.name = "zeta", .route = "/zeta"},
        {.name = "alpha",
         .route = "/alpha",
         .hostname = "alpha.example",
         .env_json = "{ \"B\": \"2\", \"A\": \"1\" }"},
    };
    memset(apps[0].code_hash, 2, 32);
    memset(apps[1].code_hash, 3, 32);
    eos_ratls_core_setting core[1] = {{"core.mode", (const uint8_t *)"deterministic", 13}};
    eos_ratls_config cfg = {apps, 2, core, 1};
    eos_ratls_merkle *m = NULL;
    EOS_CHECK_INT(eos_ratls_merkle_build((const uint8_t *)"CA-DER-BYTES", 12, "sim", meas, 32, &cfg,
                                         &m, NULL),
                  0);
    return m;
}

static void test_fixed_tree(void)
{
    eos_ratls_merkle *m = build_fixed();
    uint8_t want[32];
    if (!m)
        return;
    static const char *names[] = {"core.ca_cert",     "core.tee",
                                  "core.mode",        "wasm.alpha.code_hash",
                                  "wasm.alpha.route", "wasm.alpha.hostname",
                                  "wasm.alpha.env",   "wasm.zeta.code_hash",
                                  "wasm.zeta.route",  "wasm.zeta.hostname",
                                  "wasm.zeta.env"};
    EOS_CHECK_INT(eos_ratls_merkle_leaf_count(m), 11);
    for (size_t i = 0; i < 11; i++)
        EOS_CHECK_STR(eos_ratls_merkle_leaf_name(m, i), names[i]);
    hex("bbca2a46c9ca30dae4c653a49a4e5fc9915c8d490565b5d256176ece732855bf", want, 32);
    EOS_CHECK_MEM(eos_ratls_merkle_root(m), 32, want, 32);
    hex("6cb60955dd0dc6cf6b4606522b6df1303ace1142c5eef85a9d894198cb473b41", want, 32);
    EOS_CHECK_MEM(eos_ratls_merkle_apps_hash(m), 32, want, 32);
    hex("d4b3a31b1c4431193c2e287ea59e98e0a9d1245c20b2cacacf4c815ad474ace2", want, 32);
    EOS_CHECK_MEM(eos_ratls_merkle_leaf_hash(m, 1), 32, want, 32);
    static const uint8_t zero[32];
    EOS_CHECK_MEM(eos_ratls_merkle_leaf_hash(m, 9), 32, zero, 32);

    size_t size;
    const uint8_t *bin = eos_ratls_merkle_manifest(m, &size);
    uint8_t h[32];
    EOS_CHECK_INT(size, 573);
    SHA256(bin, size, h);
    hex("c5daca4d2c7adc486cff92e3fee9fd9bafdee13c072818a6b1eed9b8793dc2d9", want, 32);
    EOS_CHECK_MEM(h, 32, want, 32);
    static const uint8_t head[] = {11, 0, 0, 0, 12, 0, 'c', 'o', 'r', 'e', '.'};
    EOS_CHECK_MEM(bin, sizeof head, head, sizeof head);

    /* The manifest parses back and its recomputed root is the tree's. */
    eos_ratls_manifest man;
    EOS_CHECK_INT(eos_ratls_manifest_parse(bin, size, &man, NULL), 0);
    EOS_CHECK_INT(man.count, 11);
    EOS_CHECK_MEM(man.root, 32, eos_ratls_merkle_root(m), 32);
    EOS_CHECK_MEM(man.computed_root, 32, eos_ratls_merkle_root(m), 32);
    EOS_CHECK_INT(man.entries[3].name_len, 20);
    eos_ratls_manifest_free(&man);

    /* The JSON form converts back to the same bytes. */
    size_t js;
    const char *json = eos_ratls_merkle_manifest_json(m, &js);
    EOS_CHECK(
        strncmp(json, "{\"status\":\"manifest\",\"entries\":[{\"name\":\"core.ca_cert\"", 52) == 0);
    uint8_t *back = NULL;
    size_t back_size = 0;
    EOS_CHECK_INT(eos_ratls_manifest_from_json(json, js, &back, &back_size, NULL), 0);
    EOS_CHECK_MEM(back, back_size, bin, size);
    eos_free(back, back_size);
    eos_ratls_merkle_free(m);
}

static void test_empty_config(void)
{
    eos_ratls_merkle *m = NULL;
    static const uint8_t zero[32];
    EOS_CHECK_INT(eos_ratls_merkle_build((const uint8_t *)"x", 1, "sim", NULL, 0, NULL, &m, NULL),
                  0);
    EOS_CHECK_INT(eos_ratls_merkle_leaf_count(m), 2);
    EOS_CHECK_MEM(eos_ratls_merkle_apps_hash(m), 32, zero, 32);
    eos_ratls_merkle_free(m);
}

static void test_bad_config(void)
{
    eos_ratls_app dup[2] = {{.name = "a", .route = "/a"}, {.name = "a", .route = "/b"}};
    eos_ratls_config cfg = {dup, 2, NULL, 0};
    eos_ratls_merkle *m = NULL;
    EOS_CHECK_INT(eos_ratls_merkle_build((const uint8_t *)"x", 1, "sim", NULL, 0, &cfg, &m, NULL),
                  EOS_EEXIST);
    eos_ratls_app bad_env = {.name = "a", .route = "/a", .env_json = "{\"K\": 5}"};
    cfg.apps = &bad_env;
    cfg.app_count = 1;
    EOS_CHECK_INT(eos_ratls_merkle_build((const uint8_t *)"x", 1, "sim", NULL, 0, &cfg, &m, NULL),
                  EOS_EINVAL);
}

/* The outbound allow-list is an optional leaf: absent, the tree is as
 * before; present, it adds wasm.NAME.outbound and changes the root. */
static void test_outbound_leaf(void)
{
    eos_ratls_app a = {.name = "a", .route = "/a"};
    eos_ratls_config cfg = {&a, 1, NULL, 0};
    eos_ratls_merkle *m1 = NULL, *m2 = NULL;
    EOS_CHECK_INT(eos_ratls_merkle_build((const uint8_t *)"x", 1, "sim", NULL, 0, &cfg, &m1, NULL),
                  0);
    a.outbound = "https://api.example.com\nhttp://127.0.0.1:8080";
    EOS_CHECK_INT(eos_ratls_merkle_build((const uint8_t *)"x", 1, "sim", NULL, 0, &cfg, &m2, NULL),
                  0);
    if (m1 && m2) {
        EOS_CHECK_INT(eos_ratls_merkle_leaf_count(m2), eos_ratls_merkle_leaf_count(m1) + 1);
        EOS_CHECK(memcmp(eos_ratls_merkle_root(m1), eos_ratls_merkle_root(m2), 32) != 0);
        int found = 0;
        for (size_t i = 0; i < eos_ratls_merkle_leaf_count(m2); i++)
            found |= strcmp(eos_ratls_merkle_leaf_name(m2, i), "wasm.a.outbound") == 0;
        EOS_CHECK(found);
    }
    /* The leaf's input is the rules' canonical JSON array. */
    char *canon = NULL;
    size_t canon_size = 0;
    EOS_CHECK_INT(eos_ratls_canonical_rules("https://a.example\nhttp://b\"\\x:1", &canon,
                                            &canon_size),
                  0);
    if (canon) {
        EOS_CHECK_STR(canon, "[\"https://a.example\",\"http://b\\\"\\\\x:1\"]");
        EOS_CHECK_INT(canon_size, strlen(canon));
        eos_free(canon, canon_size + 1);
    }
    eos_ratls_merkle_free(m1);
    eos_ratls_merkle_free(m2);
}

static void test_canonical_env(void)
{
    char *out = NULL;
    size_t size = 0;
    EOS_CHECK_INT(eos_ratls_canonical_env("{\"b\":\"x\\\"y\",\"a\":\"\\u0001\",\"c\":\"\\u00e9\"}",
                                          &out, &size, NULL),
                  0);
    EOS_CHECK_STR(out, "{\"a\":\"\\u0001\",\"b\":\"x\\\"y\",\"c\":\"\xc3\xa9\"}");
    eos_free(out, size + 1);
    EOS_CHECK_INT(eos_ratls_canonical_env("{}", &out, &size, NULL), 0);
    EOS_CHECK_STR(out, "{}");
    eos_free(out, size + 1);
    EOS_CHECK_INT(eos_ratls_canonical_env("{\"a\":\"1\",\"a\":\"2\"}", &out, &size, NULL),
                  EOS_EINVAL);
    EOS_CHECK_INT(eos_ratls_canonical_env("[1]", &out, &size, NULL), EOS_EINVAL);
    EOS_CHECK_INT(eos_ratls_canonical_env("{", &out, &size, NULL), EOS_EINVAL);
}

static void test_manifest_malformed(void)
{
    eos_ratls_merkle *m = build_fixed();
    size_t size;
    const uint8_t *bin = eos_ratls_merkle_manifest(m, &size);
    eos_ratls_manifest man;
    int accepted = 0;
    for (size_t n = 0; n < size; n++)
        accepted += eos_ratls_manifest_parse(bin, n, &man, NULL) == 0;
    EOS_CHECK_INT(accepted, 0);
    uint8_t *longer = malloc(size + 1);
    memcpy(longer, bin, size);
    longer[size] = 0;
    EOS_CHECK_INT(eos_ratls_manifest_parse(longer, size + 1, &man, NULL), EOS_EMALFORMED);
    longer[0] = 0xff; /* a count far beyond the buffer */
    EOS_CHECK_INT(eos_ratls_manifest_parse(longer, size, &man, NULL), EOS_EMALFORMED);
    free(longer);
    eos_ratls_merkle_free(m);
    uint8_t *out;
    size_t out_size;
    static const char bad_hash[] =
        "{\"entries\":[{\"name\":\"a\",\"hash\":\"zz\"}],\"root\":\"00\"}";
    EOS_CHECK_INT(eos_ratls_manifest_from_json(bad_hash, strlen(bad_hash), &out, &out_size, NULL),
                  EOS_EMALFORMED);
    EOS_CHECK_INT(eos_ratls_manifest_from_json("nope", 4, &out, &out_size, NULL), EOS_EMALFORMED);
}

static void test_report_data(void)
{
    uint8_t spki[91], rd[64], want[64];
    for (int i = 0; i < 91; i++)
        spki[i] = (uint8_t)i;
    eos_ratls_report_data(spki, sizeof spki, (const uint8_t *)"2026-01-02T03:04Z", 17, rd);
    hex("ebc44cb34184b832ec0f8e916785109b010fba2de10c6e5b7326aaf0b695d5bb25479fbcae096074270081d0"
        "32fc684413aeb1dcc9b1590e8efc34b30645c1d8",
        want, 64);
    EOS_CHECK_MEM(rd, 64, want, 64);
    char tb[18];
    eos_ratls_time_binding(1767323059, tb); /* 2026-01-02T03:04:19Z */
    EOS_CHECK_STR(tb, "2026-01-02T03:04Z");
}

static void test_oom(void)
{
    /* Every allocation failure on the build path is reported, never a crash or leak. */
    for (long n = 1; n < 200; n++) {
        eos_test_fail_alloc_after(n, 1);
        eos_ratls_merkle *m = NULL;
        uint8_t meas[32] = {0};
        eos_ratls_app a = {.name = "a", .route = "/a", .env_json = "{\"x\":\"y\"}"};
        eos_ratls_config cfg = {&a, 1, NULL, 0};
        int rc = eos_ratls_merkle_build((const uint8_t *)"x", 1, "sim", meas, 32, &cfg, &m, NULL);
        eos_test_fail_alloc_after(0, 0);
        if (rc == 0) {
            eos_ratls_merkle_free(m);
            break;
        }
        EOS_CHECK_INT(rc, EOS_ENOMEM);
    }
}

int main(void)
{
    EOS_RUN(test_fixed_tree);
    EOS_RUN(test_empty_config);
    EOS_RUN(test_bad_config);
    EOS_RUN(test_outbound_leaf);
    EOS_RUN(test_canonical_env);
    EOS_RUN(test_manifest_malformed);
    EOS_RUN(test_report_data);
    EOS_RUN(test_oom);
    return eos_test_finish();
}
