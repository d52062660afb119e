/* --persist-apps: every loaded app is kept, sealed, in the store's "sys"
 * namespace (its settings and its component, written in one transaction);
 * restore.c loads them again at start, so a restart serves the same
 * configuration. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int eos_apps__persist_key(char *buf, size_t cap, const char *name, const char *what)
{
    int n = snprintf(buf, cap, "app/%s/%s", name, what);
    return n > 0 && (size_t)n < cap ? n : -1;
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
    if (a->env_json) {
        yajl_gen_string(g, (const unsigned char *)"env", 3);
        yajl_gen_string(g, (const unsigned char *)a->env_json, strlen(a->env_json));
    }
    yajl_gen_string(g, (const unsigned char *)"max_fuel", 8);
    yajl_gen_integer(g, (long long)a->max_fuel);
    yajl_gen_string(g, (const unsigned char *)"max_memory_mb", 13);
    yajl_gen_integer(g, (long long)a->max_memory_mb);
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
    int rc = oom                        ? EOS_ENOMEM
             : eos_kv_shared(apps->kv) ? eos_apps__cluster_write(apps, items, 2, 0, d)
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
    return eos_kv_shared(apps->kv) ? eos_apps__cluster_write(apps, items, 2, 1, d)
                                   : eos_kv_delete_many(apps->sys_ns, items, 2, d);
}
