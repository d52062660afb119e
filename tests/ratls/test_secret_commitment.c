/* The optional per-app leaves: wasi:config values, the caller policy hash
 * and salted commitments to secrets, which show that a secret was set or
 * replaced without revealing it. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "eos/ratls.h"
#include "harness.h"

static const uint8_t ca[4] = {1, 2, 3, 4};

static eos_ratls_merkle *build(const eos_ratls_app *apps, size_t n)
{
    eos_ratls_config cfg = {apps, n, NULL, 0};
    eos_ratls_merkle *m = NULL;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_ratls_merkle_build(ca, sizeof ca, "sim", ca, 4, &cfg, &m, &d), 0);
    return m;
}

static const uint8_t *leaf(const eos_ratls_merkle *m, const char *name)
{
    for (size_t i = 0; i < eos_ratls_merkle_leaf_count(m); i++)
        if (strcmp(eos_ratls_merkle_leaf_name(m, i), name) == 0)
            return eos_ratls_merkle_leaf_hash(m, i);
    return NULL;
}

static void test_secret_leaves(void)
{
    uint8_t salt[32], c1[32], c2[32], c3[32], h[32];
    memset(salt, 7, sizeof salt);
    eos_ratls_secret_commitment("shop", "api-key", salt, (const uint8_t *)"s3cr3t", 6, c1);
    eos_ratls_secret_commitment("shop", "api-key", salt, (const uint8_t *)"s3cr3u", 6, c2);
    salt[0] ^= 1;
    eos_ratls_secret_commitment("shop", "api-key", salt, (const uint8_t *)"s3cr3t", 6, c3);
    /* Another value or another salt gives another commitment. */
    EOS_CHECK(memcmp(c1, c2, 32) != 0);
    EOS_CHECK(memcmp(c1, c3, 32) != 0);

    eos_ratls_app plain = {.name = "shop", .route = "/shop"};
    eos_ratls_merkle *base = build(&plain, 1);
    EOS_CHECK_INT(eos_ratls_merkle_leaf_count(base), 6);

    eos_ratls_secret_entry secrets[2] = {{"signing-key", {0}}, {"api-key", {0}}};
    memcpy(secrets[0].commitment, c2, 32);
    memcpy(secrets[1].commitment, c1, 32);
    uint8_t auth[32];
    memset(auth, 9, sizeof auth);
    eos_ratls_app full = plain;
    full.config_json = "{\"b\":\"2\",\"a\":\"1\"}";
    full.auth_hash = auth;
    full.secrets = secrets;
    full.secret_count = 2;
    eos_ratls_merkle *m = build(&full, 1);
    EOS_CHECK_INT(eos_ratls_merkle_leaf_count(m), 10);
    EOS_CHECK_STR(eos_ratls_merkle_leaf_name(m, 6), "wasm.shop.config");
    EOS_CHECK_STR(eos_ratls_merkle_leaf_name(m, 7), "wasm.shop.auth");
    EOS_CHECK_STR(eos_ratls_merkle_leaf_name(m, 8), "wasm.shop.secret.api-key");
    EOS_CHECK_STR(eos_ratls_merkle_leaf_name(m, 9), "wasm.shop.secret.signing-key");
    SHA256((const uint8_t *)"{\"a\":\"1\",\"b\":\"2\"}", 17, h);
    EOS_CHECK_MEM(leaf(m, "wasm.shop.config"), 32, h, 32);
    SHA256(c1, 32, h);
    EOS_CHECK_MEM(leaf(m, "wasm.shop.secret.api-key"), 32, h, 32);
    /* The leaves every app has are unchanged, and the root moves. */
    EOS_CHECK_MEM(leaf(m, "wasm.shop.code_hash"), 32, leaf(base, "wasm.shop.code_hash"), 32);
    EOS_CHECK(memcmp(eos_ratls_merkle_root(m), eos_ratls_merkle_root(base), 32) != 0);
    /* Replacing the secret changes its leaf and the root. */
    memcpy(secrets[1].commitment, c3, 32);
    eos_ratls_merkle *m2 = build(&full, 1);
    EOS_CHECK(memcmp(leaf(m2, "wasm.shop.secret.api-key"), leaf(m, "wasm.shop.secret.api-key"),
                     32) != 0);
    EOS_CHECK(memcmp(eos_ratls_merkle_root(m2), eos_ratls_merkle_root(m), 32) != 0);
    /* The manifest names the secret and never holds its value. */
    size_t n = 0;
    const char *json = eos_ratls_merkle_manifest_json(m2, &n);
    EOS_CHECK(strstr(json, "wasm.shop.secret.api-key") != NULL);
    EOS_CHECK(strstr(json, "s3cr3t") == NULL);
    /* Repeated or empty names are refused. */
    secrets[0].key = "api-key";
    eos_ratls_config cfg = {&full, 1, NULL, 0};
    eos_ratls_merkle *bad = NULL;
    EOS_CHECK_INT(eos_ratls_merkle_build(ca, 4, "sim", ca, 4, &cfg, &bad, NULL), EOS_EINVAL);
    eos_ratls_merkle_free(base);
    eos_ratls_merkle_free(m);
    eos_ratls_merkle_free(m2);
}

int main(void)
{
    EOS_RUN(test_secret_leaves);
    return eos_test_finish();
}
