/* The store side of an app's secrets, shared by the certificates (registry)
 * and the secret operations: the namespaces app:<name>/secret and
 * app:<name>/secret-meta, and the commitments read back for the Merkle
 * leaves. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int eos_apps__secret_ns_open(eos_apps *apps, const char *app, const char *what, eos_kv_ns **out)
{
    char name[128];
    snprintf(name, sizeof name, "app:%s/%s", app, what);
    return eos_kv_ns_open(apps->kv, name, out, NULL);
}

void eos_apps__secret_entries_free(eos_ratls_secret_entry *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        eos_free((char *)v[i].key, strlen(v[i].key) + 1);
    eos_free(v, n * sizeof *v);
}

/* Every name in the meta namespace with its record; the callback sees each. */
int eos_apps__secret_each(eos_apps *apps, const char *app,
                     int (*fn)(void *arg, const char *key, const uint8_t *meta), void *arg)
{
    eos_kv_ns *ns = NULL;
    eos_kv_list_page page;
    char cursor[EOS_KV_CURSOR_SIZE] = "";
    int rc = eos_apps__secret_ns_open(apps, app, "secret-meta", &ns);
    if (rc != 0)
        return rc;
    do {
        memset(&page, 0, sizeof page);
        if ((rc = eos_kv_list(ns, NULL, 0, cursor, 0, &page, NULL)) != 0)
            break;
        for (size_t i = 0; i < page.count && rc == 0; i++) {
            uint8_t *v = NULL;
            size_t vs = 0;
            if (eos_kv_get(ns, page.keys[i], page.key_sizes[i], &v, &vs, NULL) != 0)
                continue;
            if (vs == EOS_APPS__SECRET_META_SIZE)
                rc = fn(arg, page.keys[i], v);
            eos_free(v, vs);
        }
        snprintf(cursor, sizeof cursor, "%s", page.cursor);
        eos_kv_list_free(&page);
    } while (rc == 0 && cursor[0]);
    eos_kv_ns_close(ns);
    return rc;
}

typedef struct entries {
    eos_ratls_secret_entry *v;
    size_t n, cap;
} entries;

static int add_entry(void *arg, const char *key, const uint8_t *meta)
{
    entries *e = arg;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        eos_ratls_secret_entry *nv = eos_realloc(e->v, e->cap * sizeof *nv, cap * sizeof *nv);
        if (!nv)
            return EOS_ENOMEM;
        e->v = nv;
        e->cap = cap;
    }
    char *k = eos_strdup(key);
    if (!k)
        return EOS_ENOMEM;
    e->v[e->n].key = k;
    memcpy(e->v[e->n].commitment, meta + 32, 32);
    e->n++;
    return 0;
}

int eos_apps__secret_entries(eos_apps *apps, const char *name, eos_ratls_secret_entry **out,
                             size_t *out_count)
{
    entries e = {NULL, 0, 0};
    *out = NULL;
    *out_count = 0;
    if (!apps->kv)
        return 0;
    int rc = eos_apps__secret_each(apps, name, add_entry, &e);
    if (rc != 0) {
        for (size_t i = 0; i < e.n; i++)
            eos_free((char *)e.v[i].key, strlen(e.v[i].key) + 1);
        eos_free(e.v, e.cap * sizeof *e.v);
        return rc;
    }
    /* Shrink to n so the free size is the count's. */
    if (e.cap != e.n) {
        eos_ratls_secret_entry *nv = e.n ? eos_realloc(e.v, e.cap * sizeof *nv, e.n * sizeof *nv)
                                         : NULL;
        if (e.n && !nv) {
            eos_apps__secret_entries_free(e.v, e.n);
            return EOS_ENOMEM;
        }
        if (!e.n)
            eos_free(e.v, e.cap * sizeof *e.v);
        e.v = nv;
    }
    *out = e.v;
    *out_count = e.n;
    return 0;
}

