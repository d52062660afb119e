/* The configuration Merkle tree of SPEC 5.2: named leaves in a fixed order,
 * each the SHA-256 of its input (zero for an absent input), a root over the
 * concatenated leaf hashes, and the manifest in binary and JSON forms. */
/* The one-shot SHA-2 context API is deprecated in OpenSSL 3 but is the
 * allocation-free way to hash a few pieces; it remains available. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "internal.h"

struct eos_ratls_merkle {
    size_t count, cap;
    char **names;
    uint8_t (*hashes)[32];
    uint8_t root[32];
    uint8_t apps_hash[32];
    uint8_t *manifest;
    size_t manifest_size;
    char *json;
    size_t json_size; /* without the NUL */
    size_t json_cap;
};

static int add_leaf(eos_ratls_merkle *m, const char *prefix, const char *name, const char *suffix,
                    const uint8_t *input, size_t input_size)
{
    if (m->count == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 16;
        char **nn = eos_realloc(m->names, m->cap * sizeof *nn, ncap * sizeof *nn);
        if (!nn)
            return EOS_ENOMEM;
        m->names = nn;
        uint8_t(*nh)[32] = eos_realloc(m->hashes, m->cap * 32, ncap * 32);
        if (!nh)
            return EOS_ENOMEM;
        m->hashes = nh;
        m->cap = ncap;
    }
    size_t a = strlen(prefix), b = strlen(name), c = strlen(suffix);
    char *full = eos_malloc(a + b + c + 1);
    if (!full)
        return EOS_ENOMEM;
    memcpy(full, prefix, a);
    memcpy(full + a, name, b);
    memcpy(full + a + b, suffix, c + 1);
    m->names[m->count] = full;
    if (input)
        SHA256(input, input_size, m->hashes[m->count]);
    else
        memset(m->hashes[m->count], 0, 32);
    m->count++;
    return 0;
}

static int cmp_apps(const void *a, const void *b)
{
    const eos_ratls_app *x = *(const eos_ratls_app *const *)a;
    const eos_ratls_app *y = *(const eos_ratls_app *const *)b;
    return strcmp(x->name, y->name);
}

/* Sorted pointers to the apps; refuses duplicates and unusable names. Free
 * *out with eos_free(*out, count * sizeof **out). */
int eos_ratls__sorted_apps(const eos_ratls_config *cfg, const eos_ratls_app ***out, eos_diag *diag)
{
    const eos_ratls_app **v = NULL;
    *out = NULL;
    if (!cfg || cfg->app_count == 0)
        return 0;
    v = eos_calloc(cfg->app_count, sizeof *v);
    if (!v)
        return EOS_ENOMEM;
    for (size_t i = 0; i < cfg->app_count; i++) {
        const eos_ratls_app *a = &cfg->apps[i];
        if (!a->name || !a->name[0] || strlen(a->name) > 1024 || !a->route) {
            eos_free(v, cfg->app_count * sizeof *v);
            return eos_diag_set(diag, EOS_EINVAL, "config", -1,
                                "every app needs a name (1 to 1024 bytes) and a route");
        }
        v[i] = a;
    }
    qsort(v, cfg->app_count, sizeof *v, cmp_apps);
    for (size_t i = 1; i < cfg->app_count; i++) {
        if (strcmp(v[i - 1]->name, v[i]->name) == 0) {
            const char *name = v[i]->name;
            eos_free(v, cfg->app_count * sizeof *v);
            return eos_diag_set(diag, EOS_EEXIST, "config", -1,
                                "app \"%s\" appears twice in the configuration", name);
        }
    }
    *out = v;
    return 0;
}

static int render(eos_ratls_merkle *m)
{
    SHA256_CTX c;
    SHA256_Init(&c);
    for (size_t i = 0; i < m->count; i++)
        SHA256_Update(&c, m->hashes[i], 32);
    SHA256_Final(m->root, &c);

    size_t bin = 4 + 32, json = 64 + 64;
    for (size_t i = 0; i < m->count; i++) {
        size_t n = strlen(m->names[i]);
        if (n > 0xffff)
            return EOS_ETOOBIG;
        bin += 2 + n + 32;
        json += 6 * n + 64 + 32; /* worst case escaping of every byte as \u00xx */
    }
    m->manifest = eos_malloc(bin);
    m->json = eos_malloc(json);
    m->json_cap = json;
    if (!m->manifest || !m->json)
        return EOS_ENOMEM;
    m->manifest_size = bin;
    uint8_t *p = m->manifest;
    eos_ratls__put_le32(p, (uint32_t)m->count);
    p += 4;
    char *j = m->json, hex[65];
    j += sprintf(j, "{\"status\":\"manifest\",\"entries\":[");
    for (size_t i = 0; i < m->count; i++) {
        size_t n = strlen(m->names[i]);
        p[0] = (uint8_t)n;
        p[1] = (uint8_t)(n >> 8);
        memcpy(p + 2, m->names[i], n);
        memcpy(p + 2 + n, m->hashes[i], 32);
        p += 2 + n + 32;
        eos_hex_encode(m->hashes[i], 32, hex);
        j += sprintf(j, "%s{\"name\":", i ? "," : "");
        j += eos_ratls__json_string(j, m->names[i], n);
        j += sprintf(j, ",\"hash\":\"%s\"}", hex);
    }
    memcpy(p, m->root, 32);
    eos_hex_encode(m->root, 32, hex);
    j += sprintf(j, "],\"root\":\"%s\"}", hex);
    m->json_size = (size_t)(j - m->json);
    return 0;
}

void eos_ratls_secret_commitment(const char *app, const char *key, const uint8_t salt[32],
                                 const uint8_t *value, size_t value_size, uint8_t out[32])
{
    static const char tag[] = "enclave-os secret v1";
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, tag, sizeof tag); /* with its NUL */
    SHA256_Update(&c, app, strlen(app) + 1);
    SHA256_Update(&c, key, strlen(key) + 1);
    SHA256_Update(&c, salt, 32);
    SHA256_Update(&c, value, value_size);
    SHA256_Final(out, &c);
}

static int cmp_secrets(const void *a, const void *b)
{
    return strcmp((*(const eos_ratls_secret_entry *const *)a)->key,
                  (*(const eos_ratls_secret_entry *const *)b)->key);
}

/* The leaves an app has only when they are set: config, auth, secrets. */
static int add_optional_leaves(eos_ratls_merkle *m, const eos_ratls_app *a, eos_diag *diag)
{
    int rc = 0;
    const eos_ratls_secret_entry **sorted = NULL;
    if (a->config_json) {
        char *cfg = NULL;
        size_t cfg_size = 0;
        if ((rc = eos_ratls_canonical_env(a->config_json, &cfg, &cfg_size, diag)) != 0)
            return rc;
        rc = add_leaf(m, "wasm.", a->name, ".config", (const uint8_t *)cfg, cfg_size);
        eos_free(cfg, cfg_size + 1);
        if (rc != 0)
            return rc;
    }
    if (a->auth_hash && (rc = add_leaf(m, "wasm.", a->name, ".auth", a->auth_hash, 32)) != 0)
        return rc;
    if (a->secret_count == 0)
        return 0;
    if (!(sorted = eos_calloc(a->secret_count, sizeof *sorted)))
        return EOS_ENOMEM;
    for (size_t i = 0; i < a->secret_count; i++)
        sorted[i] = &a->secrets[i];
    qsort(sorted, a->secret_count, sizeof *sorted, cmp_secrets);
    for (size_t i = 0; i < a->secret_count && rc == 0; i++) {
        const char *key = sorted[i]->key;
        if (!key || !key[0] || (i > 0 && strcmp(sorted[i - 1]->key, key) == 0)) {
            rc = eos_diag_set(diag, EOS_EINVAL, "config", -1,
                              "app \"%s\" has an empty or repeated secret name", a->name);
            break;
        }
        size_t n = strlen(key);
        char *suffix = eos_malloc(n + 9);
        if (!suffix) {
            rc = EOS_ENOMEM;
            break;
        }
        memcpy(suffix, ".secret.", 8);
        memcpy(suffix + 8, key, n + 1);
        rc = add_leaf(m, "wasm.", a->name, suffix, sorted[i]->commitment, 32);
        eos_free(suffix, n + 9);
    }
    eos_free(sorted, a->secret_count * sizeof *sorted);
    return rc;
}

int eos_ratls_merkle_build(const uint8_t *ca_der, size_t ca_der_size, const char *tee_name,
                           const uint8_t *measurement, size_t measurement_size,
                           const eos_ratls_config *cfg, eos_ratls_merkle **out, eos_diag *diag)
{
    int rc = 0;
    const eos_ratls_app **apps = NULL;
    size_t app_count = cfg ? cfg->app_count : 0;
    uint8_t *tee_leaf = NULL;
    size_t tee_size = strlen(tee_name) + 1 + measurement_size;
    eos_ratls_merkle *m = eos_calloc(1, sizeof *m);
    if (!m)
        return EOS_ENOMEM;
    if ((rc = eos_ratls__sorted_apps(cfg, &apps, diag)) != 0)
        goto out;
    tee_leaf = eos_malloc(tee_size);
    if (!tee_leaf) {
        rc = EOS_ENOMEM;
        goto out;
    }
    memcpy(tee_leaf, tee_name, strlen(tee_name) + 1);
    if (measurement_size)
        memcpy(tee_leaf + strlen(tee_name) + 1, measurement, measurement_size);
    if ((rc = add_leaf(m, "core.ca_cert", "", "", ca_der, ca_der_size)) != 0 ||
        (rc = add_leaf(m, "core.tee", "", "", tee_leaf, tee_size)) != 0)
        goto out;
    for (size_t i = 0; cfg && i < cfg->core_count; i++) {
        const eos_ratls_core_setting *s = &cfg->core[i];
        if (!s->name || strncmp(s->name, "core.", 5) != 0) {
            rc = eos_diag_set(diag, EOS_EINVAL, "config", -1,
                              "core setting names start with \"core.\"");
            goto out;
        }
        if ((rc = add_leaf(m, s->name, "", "", s->value, s->value_size)) != 0)
            goto out;
    }
    SHA256_CTX ah;
    SHA256_Init(&ah);
    for (size_t i = 0; i < app_count; i++) {
        const eos_ratls_app *a = apps[i];
        char *env = NULL;
        size_t env_size = 0;
        if (a->env_json && (rc = eos_ratls_canonical_env(a->env_json, &env, &env_size, diag)) != 0)
            goto out;
        if ((rc = add_leaf(m, "wasm.", a->name, ".code_hash", a->code_hash, 32)) != 0 ||
            (rc = add_leaf(m, "wasm.", a->name, ".route", (const uint8_t *)a->route,
                           strlen(a->route))) != 0 ||
            (rc = add_leaf(m, "wasm.", a->name, ".hostname", (const uint8_t *)a->hostname,
                           a->hostname ? strlen(a->hostname) : 0)) != 0 ||
            (rc = add_leaf(m, "wasm.", a->name, ".env", (const uint8_t *)env, env_size)) != 0) {
            if (env)
                eos_free(env, env_size + 1);
            goto out;
        }
        if (env)
            eos_free(env, env_size + 1);
        if ((rc = add_optional_leaves(m, a, diag)) != 0)
            goto out;
        if (a->outbound) {
            char *rules = NULL;
            size_t rules_size = 0;
            if ((rc = eos_ratls_canonical_rules(a->outbound, &rules, &rules_size)) != 0)
                goto out;
            rc = add_leaf(m, "wasm.", a->name, ".outbound", (const uint8_t *)rules, rules_size);
            eos_free(rules, rules_size + 1);
            if (rc != 0)
                goto out;
        }
        SHA256_Update(&ah, a->name, strlen(a->name));
        SHA256_Update(&ah, a->code_hash, 32);
    }
    SHA256_Final(m->apps_hash, &ah);
    if (app_count == 0)
        memset(m->apps_hash, 0, 32);
    if ((rc = render(m)) != 0)
        goto out;
    *out = m;
    m = NULL;
out:
    eos_free(tee_leaf, tee_size);
    if (apps)
        eos_free(apps, app_count * sizeof *apps);
    eos_ratls_merkle_free(m);
    return rc;
}

void eos_ratls_merkle_free(eos_ratls_merkle *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->count; i++)
        eos_free(m->names[i], strlen(m->names[i]) + 1);
    eos_free(m->names, m->cap * sizeof *m->names);
    eos_free(m->hashes, m->cap * 32);
    eos_free(m->manifest, m->manifest_size);
    if (m->json)
        eos_free(m->json, m->json_cap);
    eos_free(m, sizeof *m);
}

const uint8_t *eos_ratls_merkle_root(const eos_ratls_merkle *m)
{
    return m->root;
}
const uint8_t *eos_ratls_merkle_apps_hash(const eos_ratls_merkle *m)
{
    return m->apps_hash;
}
size_t eos_ratls_merkle_leaf_count(const eos_ratls_merkle *m)
{
    return m->count;
}
const char *eos_ratls_merkle_leaf_name(const eos_ratls_merkle *m, size_t i)
{
    return i < m->count ? m->names[i] : NULL;
}
const uint8_t *eos_ratls_merkle_leaf_hash(const eos_ratls_merkle *m, size_t i)
{
    return i < m->count ? m->hashes[i] : NULL;
}
const uint8_t *eos_ratls_merkle_manifest(const eos_ratls_merkle *m, size_t *out_size)
{
    *out_size = m->manifest_size;
    return m->manifest;
}
const char *eos_ratls_merkle_manifest_json(const eos_ratls_merkle *m, size_t *out_size)
{
    *out_size = m->json_size;
    return m->json;
}

int eos_ratls_manifest_parse(const uint8_t *buf, size_t size, eos_ratls_manifest *out,
                             eos_diag *diag)
{
    memset(out, 0, sizeof *out);
    if (size < 36)
        return eos_diag_set(diag, EOS_EMALFORMED, "manifest", (int64_t)size,
                            "manifest is shorter than its count and root");
    uint32_t count = eos_ratls__le32(buf);
    /* Each entry takes at least 34 bytes, which bounds count before allocating. */
    if (count > (size - 36) / 34)
        return eos_diag_set(diag, EOS_EMALFORMED, "manifest", 0,
                            "manifest count %u does not fit in %zu bytes", count, size);
    eos_ratls_manifest_entry *e = NULL;
    if (count) {
        e = eos_calloc(count, sizeof *e);
        if (!e)
            return EOS_ENOMEM;
    }
    SHA256_CTX c;
    SHA256_Init(&c);
    size_t off = 4;
    for (uint32_t i = 0; i < count; i++) {
        if (size - off < 2 + 32 + 32)
            goto truncated;
        size_t n = (size_t)buf[off] | (size_t)buf[off + 1] << 8;
        if (size - off - 2 < n + 32 + 32)
            goto truncated;
        e[i].name = (const char *)buf + off + 2;
        e[i].name_len = n;
        e[i].hash = buf + off + 2 + n;
        SHA256_Update(&c, e[i].hash, 32);
        off += 2 + n + 32;
    }
    if (size - off != 32) {
        eos_free(e, count * sizeof *e);
        return eos_diag_set(diag, EOS_EMALFORMED, "manifest", (int64_t)off,
                            "manifest has %zu bytes after its entries, expected the 32-byte "
                            "root",
                            size - off);
    }
    memcpy(out->root, buf + off, 32);
    SHA256_Final(out->computed_root, &c);
    out->entries = e;
    out->count = count;
    return 0;
truncated:
    eos_free(e, count * sizeof *e);
    return eos_diag_set(diag, EOS_EMALFORMED, "manifest", (int64_t)off,
                        "manifest is truncated inside an entry");
}

void eos_ratls_manifest_free(eos_ratls_manifest *m)
{
    if (m && m->entries)
        eos_free(m->entries, m->count * sizeof *m->entries);
    if (m) {
        m->entries = NULL;
        m->count = 0;
    }
}
