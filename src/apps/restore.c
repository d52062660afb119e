/* --persist-apps at start: every app kept in the store's "sys" namespace
 * (persist.c) is loaded again through the usual pipeline; one that cannot
 * be is logged and skipped. Reading a stored app is shared with cluster.c. */
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

int eos_apps__stored_read(eos_apps *apps, const char *name, eos_apps__stored *out, eos_diag *d)
{
    memset(out, 0, sizeof *out);
    int n1 = eos_apps__persist_key(out->keys[0], sizeof out->keys[0], name, "meta");
    int n2 = eos_apps__persist_key(out->keys[1], sizeof out->keys[1], name, "code");
    if (n1 < 0 || n2 < 0)
        return eos_diag_set(d, EOS_EINVAL, "restore", -1, "app name too long");
    out->items[0] = (eos_kv_item){.key = out->keys[0], .key_size = (size_t)n1};
    out->items[1] = (eos_kv_item){.key = out->keys[1], .key_size = (size_t)n2};
    int rc = eos_kv_get_many(apps->sys_ns, out->items, 2, d);
    if (rc < 0)
        return rc;
    if (!out->items[0].found || !out->items[1].found)
        return eos_diag_set(d, EOS_ENOTFOUND, "restore", -1, "incomplete record");
    /* Settings hold caller policies and key sets: no fixed-size copy. */
    char *text = eos_malloc(out->items[0].value_size + 1);
    char err[128];
    yajl_val meta = NULL;
    if (text) {
        memcpy(text, out->items[0].value, out->items[0].value_size);
        text[out->items[0].value_size] = 0;
        meta = yajl_tree_parse(text, err, sizeof err);
        eos_free(text, out->items[0].value_size + 1);
    }
    if (!meta)
        return eos_diag_set(d, EOS_EMALFORMED, "restore", -1, "unreadable settings");
    out->meta = meta;
    out->args.name = name;
    out->args.route = str_of(meta, "route");
    out->args.hostname = str_of(meta, "hostname");
    out->args.env_json = str_of(meta, "env");
    out->args.config_json = str_of(meta, "config");
    out->args.caller_policy = str_of(meta, "caller_policy");
    out->args.jwks = str_of(meta, "jwks");
    out->args.client_ca = str_of(meta, "client_ca");
    out->args.outbound = str_of(meta, "outbound");
    out->args.provenance = str_of(meta, "provenance");
    out->args.max_fuel = uint_of(meta, "max_fuel");
    out->args.max_memory_mb = uint_of(meta, "max_memory_mb");
    out->args.max_request_ms = uint_of(meta, "max_request_ms");
    out->args.max_concurrency = uint_of(meta, "max_concurrency");
    const char *tier = str_of(meta, "tier");
    if (tier && eos_apps_tier_parse(tier, strlen(tier), &out->args.tier) < 0)
        out->args.tier = 0; /* unknown: the server's */
    out->args.bytes = out->items[1].value;
    out->args.size = out->items[1].value_size;
    return 0;
}

void eos_apps__stored_free(eos_apps__stored *s)
{
    if (s->meta)
        yajl_tree_free(s->meta);
    s->meta = NULL;
    eos_kv_items_free(s->items, 2);
}

static void restore_one(eos_apps *apps, const char *name, void *ctx)
{
    (void)ctx;
    eos_apps__stored s;
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_apps__stored_read(apps, name, &s, &d);
    if (rc < 0) {
        EOS_WARN("net", "persisted app '%s' cannot be read: %s", name, d.message);
        eos_apps__stored_free(&s);
        return;
    }
    s.items[1].value = NULL; /* the bytes move to the app */
    eos_apps_app *a = NULL;
    rc = eos_apps__app_create(apps, &s.args, &a, &d);
    if (rc == 0)
        rc = eos_apps__install(apps, a, &d);
    eos_apps_app_unref(a);
    if (rc < 0)
        EOS_WARN("net", "persisted app '%s' cannot be loaded again: %s", name, d.message);
    else
        EOS_INFO("net", "persisted app '%s' loaded again", name);
    eos_apps__stored_free(&s);
}

int eos_apps__stored_each(eos_apps *apps, void (*fn)(eos_apps *, const char *, void *), void *ctx,
                          eos_diag *d)
{
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
                fn(apps, name, ctx);
            }
        }
        snprintf(cursor, sizeof cursor, "%s", page.cursor);
        eos_kv_list_free(&page);
        if (!cursor[0])
            break;
    }
    return rc;
}

int eos_apps_restore(eos_apps *apps, eos_diag *d)
{
    if (!apps->sys_ns)
        return 0;
    apps->restoring = 1;
    int rc = eos_apps__stored_each(apps, restore_one, NULL, d);
    apps->restoring = 0;
    return rc;
}
