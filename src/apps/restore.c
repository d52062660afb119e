/* --persist-apps at start: every app kept in the store's "sys" namespace
 * (persist.c) is loaded again through the usual pipeline; one that cannot
 * be is logged and skipped. */
#include <stdio.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "internal.h"

static const char *str_of(yajl_val root, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(root, path, yajl_t_string);
    return v ? YAJL_GET_STRING(v) : NULL;
}

static uint64_t uint_of(yajl_val root, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val v = yajl_tree_get(root, path, yajl_t_number);
    return v && YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) > 0 ? (uint64_t)YAJL_GET_INTEGER(v) : 0;
}

static void restore_one(eos_apps *apps, const char *name)
{
    char k1[128], k2[128];
    int n1 = eos_apps__persist_key(k1, sizeof k1, name, "meta");
    int n2 = eos_apps__persist_key(k2, sizeof k2, name, "code");
    eos_kv_item items[2] = {{.key = k1, .key_size = (size_t)n1},
                            {.key = k2, .key_size = (size_t)n2}};
    eos_diag d;
    eos_diag_init(&d);
    yajl_val meta = NULL;
    int rc = eos_kv_get_many(apps->sys_ns, items, 2, &d);
    if (rc < 0 || !items[0].found || !items[1].found) {
        EOS_WARN("net", "persisted app '%s' cannot be read: %s", name,
                 rc < 0 ? d.message : "incomplete record");
        goto out;
    }
    char text[4096];
    snprintf(text, sizeof text, "%.*s", (int)items[0].value_size, (const char *)items[0].value);
    char err[128];
    meta = yajl_tree_parse(text, err, sizeof err);
    if (!meta) {
        EOS_WARN("net", "persisted app '%s' has unreadable settings", name);
        goto out;
    }
    eos_apps_load_args args;
    memset(&args, 0, sizeof args);
    args.name = name;
    args.route = str_of(meta, "route");
    args.hostname = str_of(meta, "hostname");
    args.env_json = str_of(meta, "env");
    args.max_fuel = uint_of(meta, "max_fuel");
    args.max_memory_mb = uint_of(meta, "max_memory_mb");
    args.bytes = items[1].value; /* moves to the app */
    args.size = items[1].value_size;
    items[1].value = NULL;
    eos_apps_app *a = NULL;
    rc = eos_apps__app_create(apps, &args, &a, &d);
    if (rc == 0)
        rc = eos_apps__install(apps, a, &d);
    eos_apps_app_unref(a);
    if (rc < 0)
        EOS_WARN("net", "persisted app '%s' cannot be loaded again: %s", name, d.message);
    else
        EOS_INFO("net", "persisted app '%s' loaded again", name);
out:
    if (meta)
        yajl_tree_free(meta);
    eos_kv_items_free(items, 2);
}

int eos_apps_restore(eos_apps *apps, eos_diag *d)
{
    if (!apps->sys_ns)
        return 0;
    apps->restoring = 1;
    char cursor[EOS_KV_CURSOR_SIZE] = "";
    int rc = 0;
    for (;;) {
        eos_kv_list_page page;
        memset(&page, 0, sizeof page);
        rc = eos_kv_list(apps->sys_ns, "app/", 4, cursor, 0, &page, d);
        if (rc < 0)
            break;
        for (size_t i = 0; i < page.count; i++) {
            const char *k = page.keys[i];
            size_t n = page.key_sizes[i];
            if (n > 9 && strcmp(k + n - 5, "/meta") == 0) {
                char name[80];
                snprintf(name, sizeof name, "%.*s", (int)(n - 9), k + 4);
                restore_one(apps, name);
            }
        }
        snprintf(cursor, sizeof cursor, "%s", page.cursor);
        eos_kv_list_free(&page);
        if (!cursor[0])
            break;
    }
    apps->restoring = 0;
    return rc;
}
