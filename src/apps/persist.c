/* --persist-apps: every loaded app is kept, sealed, in the store's "sys"
 * namespace (its settings and its component, written in one transaction);
 * restore.c loads them again at start, so a restart serves the same
 * configuration. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int eos_apps__persist_key(char *buf, size_t cap, const char *name, const char *what)
{
    int n = snprintf(buf, cap, "app/%s/%s", name, what);
    return n > 0 && (size_t)n < cap ? n : -1;
}

static int64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return (int64_t)v;
}

/* With a store shared by several nodes, a record's write also bumps the
 * apps version, in the same transaction, and is announced: the other
 * nodes' follower threads (cluster.c) apply it. */

/* Adds one to the version inside txn. */
static int bump(eos_kv_txn *txn, eos_kv_ns *ns, eos_diag *d)
{
    uint8_t *cur = NULL, le[8];
    size_t n = 0;
    int64_t v = 0;
    int rc =
        eos_kv_txn_get(txn, ns, EOS_APPS__VERSION_KEY, strlen(EOS_APPS__VERSION_KEY), &cur, &n, d);
    if (rc == 0 && n == 8)
        v = le64(cur);
    if (rc == 0)
        eos_free(cur, n);
    else if (rc != EOS_ENOTFOUND)
        return rc;
    v++;
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)((uint64_t)v >> (8 * i));
    return eos_kv_txn_set(txn, ns, EOS_APPS__VERSION_KEY, strlen(EOS_APPS__VERSION_KEY), le,
                          sizeof le, d);
}

static int write_once(eos_apps *apps, const eos_kv_item *items, size_t count, int del,
                      int *out_changed, eos_diag *d)
{
    eos_kv_txn *txn = NULL;
    int rc = eos_kv_txn_begin(apps->kv, &txn, d);
    if (rc)
        return rc;
    *out_changed = !del;
    for (size_t i = 0; i < count && rc == 0; i++) {
        if (!del) {
            rc = eos_kv_txn_set(txn, apps->sys_ns, items[i].key, items[i].key_size, items[i].value,
                                items[i].value_size, d);
            continue;
        }
        uint8_t *cur = NULL;
        size_t n = 0;
        rc = eos_kv_txn_get(txn, apps->sys_ns, items[i].key, items[i].key_size, &cur, &n, d);
        if (rc == 0) {
            eos_free(cur, n);
            *out_changed = 1;
            rc = eos_kv_txn_delete(txn, apps->sys_ns, items[i].key, items[i].key_size, d);
        } else if (rc == EOS_ENOTFOUND) {
            rc = 0;
        }
    }
    if (rc == 0 && *out_changed)
        rc = bump(txn, apps->sys_ns, d);
    if (rc) {
        eos_kv_txn_abort(txn);
        return rc;
    }
    return eos_kv_txn_commit(txn, d);
}

static int cluster_write(eos_apps *apps, const eos_kv_item *items, size_t count, int del,
                         eos_diag *d)
{
    int rc = 0, changed = 0;
    for (int attempt = 0; attempt < 16; attempt++) {
        eos_diag local;
        eos_diag_init(&local);
        rc = write_once(apps, items, count, del, &changed, &local);
        if (rc != EOS_ECONFLICT) {
            if (rc)
                return eos_diag_set(d, rc, local.step, -1, "%s", local.message);
            break;
        }
    }
    if (rc == EOS_ECONFLICT)
        return eos_diag_set(d, rc, "cluster", -1, "the apps record kept changing; try again");
    if (changed)
        eos_kv_announce(apps->kv, NULL); /* the others also poll: best effort */
    return 0;
}

int eos_apps__persist_save(eos_apps *apps, const eos_apps_app *a, eos_diag *d)
{
    if (!apps->sys_ns || apps->restoring || !a->bytes)
        return 0;
    int oom = 0;
    yajl_gen g = eos_proto_json_gen_new(&oom);
    if (!g)
        return EOS_ENOMEM;
    yajl_gen_map_open(g);
    yajl_gen_string(g, (const unsigned char *)"route", 5);
    yajl_gen_string(g, (const unsigned char *)a->route, strlen(a->route));
    if (a->hostname) {
        yajl_gen_string(g, (const unsigned char *)"hostname", 8);
        yajl_gen_string(g, (const unsigned char *)a->hostname, strlen(a->hostname));
    }
    const struct {
        const char *key, *value;
    } texts[] = {
        {"env", a->env_json}, {"config", a->config_json},  {"caller_policy", a->caller_policy},
        {"jwks", a->jwks},    {"client_ca", a->client_ca}, {"provenance", a->provenance}};
    for (size_t i = 0; i < EOS_ARRAY_LEN(texts); i++) {
        if (!texts[i].value)
            continue;
        yajl_gen_string(g, (const unsigned char *)texts[i].key, strlen(texts[i].key));
        yajl_gen_string(g, (const unsigned char *)texts[i].value, strlen(texts[i].value));
    }
    if (a->outbound) {
        yajl_gen_string(g, (const unsigned char *)"outbound", 8);
        yajl_gen_string(g, (const unsigned char *)a->outbound, strlen(a->outbound));
    }
    yajl_gen_string(g, (const unsigned char *)"max_fuel", 8);
    yajl_gen_integer(g, (long long)a->max_fuel);
    yajl_gen_string(g, (const unsigned char *)"max_memory_mb", 13);
    yajl_gen_integer(g, (long long)a->max_memory_mb);
    yajl_gen_string(g, (const unsigned char *)"max_request_ms", 14);
    yajl_gen_integer(g, (long long)a->max_request_ms);
    if (a->max_concurrency) {
        yajl_gen_string(g, (const unsigned char *)"max_concurrency", 15);
        yajl_gen_integer(g, (long long)a->max_concurrency);
    }
    if (a->tier_choice) {
        const char *t = eos_apps_tier_name((eos_wasm_tier)(a->tier_choice - 1));
        yajl_gen_string(g, (const unsigned char *)"tier", 4);
        yajl_gen_string(g, (const unsigned char *)t, strlen(t));
    }
    yajl_gen_map_close(g);
    const unsigned char *meta;
    size_t meta_size;
    yajl_gen_get_buf(g, &meta, &meta_size);
    char k1[128], k2[128];
    int n1 = eos_apps__persist_key(k1, sizeof k1, a->name, "meta");
    int n2 = eos_apps__persist_key(k2, sizeof k2, a->name, "code");
    eos_kv_item items[2] = {
        {.key = k1, .key_size = (size_t)n1, .value = (uint8_t *)meta, .value_size = meta_size},
        {.key = k2, .key_size = (size_t)n2, .value = a->bytes, .value_size = a->size},
    };
    int rc = oom                       ? EOS_ENOMEM
             : eos_kv_shared(apps->kv) ? cluster_write(apps, items, 2, 0, d)
                                       : eos_kv_set_many(apps->sys_ns, items, 2, d);
    yajl_gen_free(g);
    return rc;
}

int eos_apps__persist_delete(eos_apps *apps, const char *name, eos_diag *d)
{
    if (!apps->sys_ns)
        return 0;
    char k1[128], k2[128];
    int n1 = eos_apps__persist_key(k1, sizeof k1, name, "meta");
    int n2 = eos_apps__persist_key(k2, sizeof k2, name, "code");
    eos_kv_item items[2] = {{.key = k1, .key_size = (size_t)n1},
                            {.key = k2, .key_size = (size_t)n2}};
    return eos_kv_shared(apps->kv) ? cluster_write(apps, items, 2, 1, d)
                                   : eos_kv_delete_many(apps->sys_ns, items, 2, d);
}
