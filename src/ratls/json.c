/* Small JSON pieces of the layer: string escaping for rendered output, the
 * canonical forms of an app's env object and allow-list (hashed into the
 * Merkle tree), and reading the JSON manifest back into the binary form. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "internal.h"

size_t eos_ratls__json_string(char *out, const char *s, size_t n)
{
    char *o = out;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20) {
            o += sprintf(o, "\\u%04x", c);
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    *o = '\0';
    return (size_t)(o - out);
}

int eos_ratls_canonical_rules(const char *rules, char **out, size_t *out_size)
{
    /* Each byte escapes to at most 6 ("\u00xx"), plus quotes and commas. */
    size_t n = strlen(rules), cap = 6 * n + 2 * (n + 1) + 3;
    char *buf = eos_malloc(cap);
    if (!buf)
        return EOS_ENOMEM;
    size_t o = 0;
    buf[o++] = '[';
    for (const char *p = rules;;) {
        size_t len = strcspn(p, "\n");
        if (o > 1)
            buf[o++] = ',';
        o += eos_ratls__json_string(buf + o, p, len);
        if (!p[len])
            break;
        p += len + 1;
    }
    buf[o++] = ']';
    buf[o] = '\0';
    /* Hand back a block of exactly o + 1 bytes so the caller can free it. */
    char *exact = eos_realloc(buf, cap, o + 1);
    if (!exact) {
        eos_free(buf, cap);
        return EOS_ENOMEM;
    }
    *out = exact;
    *out_size = o;
    return 0;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Parses text (any length) with yajl, which needs a NUL-terminated copy. */
static yajl_val parse_tree(const char *text, size_t size, char *err, size_t err_size, int *oom)
{
    char *copy = eos_malloc(size + 1);
    *oom = 0;
    if (!copy) {
        snprintf(err, err_size, "out of memory");
        *oom = 1;
        return NULL;
    }
    memcpy(copy, text, size);
    copy[size] = '\0';
    yajl_val v = yajl_tree_parse(copy, err, err_size);
    eos_free(copy, size + 1);
    return v;
}

int eos_ratls_canonical_env(const char *env_json, char **out, size_t *out_size, eos_diag *diag)
{
    char err[128] = "";
    int rc = 0;
    const char **keys = NULL;
    size_t n = 0, cap = 3;
    char *buf = NULL;
    int oom;
    yajl_val v = parse_tree(env_json, strlen(env_json), err, sizeof err, &oom);
    if (oom)
        return EOS_ENOMEM;
    if (!v || !YAJL_IS_OBJECT(v)) {
        rc = eos_diag_set(diag, EOS_EINVAL, "env", -1, "env must be a JSON object (%s)",
                          v ? "not an object" : err);
        goto out;
    }
    n = v->u.object.len;
    if (n) {
        keys = eos_calloc(n, sizeof *keys);
        if (!keys) {
            rc = EOS_ENOMEM;
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        yajl_val val = v->u.object.values[i];
        if (!YAJL_IS_STRING(val)) {
            rc = eos_diag_set(diag, EOS_EINVAL, "env", -1, "env value of \"%s\" must be a string",
                              v->u.object.keys[i]);
            goto out;
        }
        keys[i] = v->u.object.keys[i];
        cap += 6 * (strlen(keys[i]) + strlen(val->u.string)) + 6;
    }
    if (n)
        qsort(keys, n, sizeof *keys, cmp_keys);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(keys[i - 1], keys[i]) == 0) {
            rc = eos_diag_set(diag, EOS_EINVAL, "env", -1, "env key \"%s\" appears twice", keys[i]);
            goto out;
        }
    }
    buf = eos_malloc(cap);
    if (!buf) {
        rc = EOS_ENOMEM;
        goto out;
    }
    char *o = buf;
    *o++ = '{';
    for (size_t i = 0; i < n; i++) {
        const char *path[] = {keys[i], NULL};
        yajl_val val = yajl_tree_get(v, path, yajl_t_string);
        if (i)
            *o++ = ',';
        o += eos_ratls__json_string(o, keys[i], strlen(keys[i]));
        *o++ = ':';
        o += eos_ratls__json_string(o, val->u.string, strlen(val->u.string));
    }
    *o++ = '}';
    *o = '\0';
    size_t len = (size_t)(o - buf);
    /* Hand back a block of exactly len + 1 bytes so the caller can free it. */
    char *exact = eos_realloc(buf, cap, len + 1);
    if (!exact) {
        rc = EOS_ENOMEM;
        goto out;
    }
    buf = NULL;
    *out = exact;
    *out_size = len;
out:
    if (buf)
        eos_free(buf, cap);
    if (keys)
        eos_free(keys, n * sizeof *keys);
    yajl_tree_free(v);
    return rc;
}

int eos_ratls_manifest_from_json(const char *json, size_t json_size, uint8_t **out,
                                 size_t *out_size, eos_diag *diag)
{
    char err[128] = "";
    int rc = 0;
    uint8_t *bin = NULL;
    size_t size = 36;
    static const char *entries_path[] = {"entries", NULL};
    static const char *root_path[] = {"root", NULL};
    static const char *name_path[] = {"name", NULL};
    static const char *hash_path[] = {"hash", NULL};
    int oom;
    yajl_val v = parse_tree(json, json_size, err, sizeof err, &oom);
    if (oom)
        return EOS_ENOMEM;
    yajl_val entries = v ? yajl_tree_get(v, entries_path, yajl_t_array) : NULL;
    yajl_val root = v ? yajl_tree_get(v, root_path, yajl_t_string) : NULL;
    if (!entries || !root) {
        rc = eos_diag_set(diag, EOS_EMALFORMED, "manifest", -1,
                          "manifest JSON needs \"entries\" (array) and \"root\" (hex)%s%s",
                          v ? "" : ": ", v ? "" : err);
        goto out;
    }
    size_t count = entries->u.array.len;
    for (size_t i = 0; i < count; i++) {
        yajl_val name = yajl_tree_get(entries->u.array.values[i], name_path, yajl_t_string);
        yajl_val hash = yajl_tree_get(entries->u.array.values[i], hash_path, yajl_t_string);
        if (!name || !hash || strlen(name->u.string) > 0xffff) {
            rc = eos_diag_set(diag, EOS_EMALFORMED, "manifest", -1,
                              "manifest entry %zu needs a \"name\" and a \"hash\"", i);
            goto out;
        }
        size += 2 + strlen(name->u.string) + 32;
    }
    bin = eos_malloc(size);
    if (!bin) {
        rc = EOS_ENOMEM;
        goto out;
    }
    eos_ratls__put_le32(bin, (uint32_t)count);
    uint8_t *p = bin + 4;
    for (size_t i = 0; i < count; i++) {
        yajl_val name = yajl_tree_get(entries->u.array.values[i], name_path, yajl_t_string);
        yajl_val hash = yajl_tree_get(entries->u.array.values[i], hash_path, yajl_t_string);
        size_t n = strlen(name->u.string);
        p[0] = (uint8_t)n;
        p[1] = (uint8_t)(n >> 8);
        memcpy(p + 2, name->u.string, n);
        if (eos_hex_decode(hash->u.string, p + 2 + n, 32) != 0) {
            rc = eos_diag_set(diag, EOS_EMALFORMED, "manifest", -1,
                              "manifest entry \"%s\" has a hash that is not 64 hex digits",
                              name->u.string);
            goto out;
        }
        p += 2 + n + 32;
    }
    if (eos_hex_decode(root->u.string, p, 32) != 0) {
        rc = eos_diag_set(diag, EOS_EMALFORMED, "manifest", -1,
                          "manifest root is not 64 hex digits");
        goto out;
    }
    *out = bin;
    *out_size = size;
    bin = NULL;
out:
    eos_free(bin, size);
    yajl_tree_free(v);
    return rc;
}
