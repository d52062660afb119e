/* The WASI host's storage (eos_wasi_store) on the encrypted store: each
 * operation is the eos_kv call of the same name, so keyvalue buckets and the
 * file tree are kv namespaces. The server wires it into every app it loads. */
#include <string.h>

#include "eos/kv.h"
#include "eos/wasi.h"
#include "eos/apps.h"

_Static_assert(EOS_WASI_STORE_MAX_KEY == EOS_KV_MAX_NAME_SIZE, "key limits differ");
_Static_assert(EOS_WASI_STORE_CURSOR_SIZE == EOS_KV_CURSOR_SIZE, "cursor sizes differ");

/* The store's handles are kv's own, under the WASI host's opaque names. */
#define NS(ns)   ((eos_kv_ns *)(ns))
#define TXN(txn) ((eos_kv_txn *)(txn))

static int ns_open(void *impl, const char *name, eos_wasi_store_ns **out)
{
    eos_kv_ns *ns = NULL;
    int rc = eos_kv_ns_open(impl, name, &ns, NULL);
    *out = (eos_wasi_store_ns *)ns;
    return rc;
}

static void ns_close(eos_wasi_store_ns *ns)
{
    eos_kv_ns_close(NS(ns));
}

static int get(eos_wasi_store_ns *ns, const char *key, size_t key_size, uint8_t **out,
               size_t *out_size)
{
    return eos_kv_get(NS(ns), key, key_size, out, out_size, NULL);
}

static int set(eos_wasi_store_ns *ns, const char *key, size_t key_size, const uint8_t *value,
               size_t value_size)
{
    return eos_kv_set(NS(ns), key, key_size, value, value_size, NULL);
}

static int del(eos_wasi_store_ns *ns, const char *key, size_t key_size)
{
    return eos_kv_delete(NS(ns), key, key_size, NULL);
}

static int exists(eos_wasi_store_ns *ns, const char *key, size_t key_size, bool *out)
{
    int ex = 0;
    int rc = eos_kv_exists(NS(ns), key, key_size, &ex, NULL);
    *out = ex != 0;
    return rc;
}

static int incr(eos_wasi_store_ns *ns, const char *key, size_t key_size, int64_t delta,
                int64_t *out_value)
{
    return eos_kv_incr(NS(ns), key, key_size, delta, out_value, NULL);
}

static int cas(eos_wasi_store_ns *ns, const char *key, size_t key_size, const uint8_t *expected,
               size_t expected_size, const uint8_t *value, size_t value_size)
{
    return eos_kv_cas(NS(ns), key, key_size, expected, expected_size, value, value_size, NULL);
}

/* Batches go through kv's own item array, which a batch call allocates. */
static eos_kv_item *kv_items(const eos_wasi_store_item *items, size_t count)
{
    eos_kv_item *k = eos_calloc(count ? count : 1, sizeof(*k));
    for (size_t i = 0; k && i < count; i++) {
        k[i].key = items[i].key;
        k[i].key_size = items[i].key_size;
        k[i].value = items[i].value;
        k[i].value_size = items[i].value_size;
    }
    return k;
}

static void kv_items_free(eos_kv_item *k, size_t count)
{
    eos_free(k, (count ? count : 1) * sizeof(*k));
}

static int get_many(eos_wasi_store_ns *ns, eos_wasi_store_item *items, size_t count)
{
    eos_kv_item *k = kv_items(items, count);
    if (!k)
        return EOS_ENOMEM;
    int rc = eos_kv_get_many(NS(ns), k, count, NULL);
    for (size_t i = 0; !rc && i < count; i++) {
        items[i].value = k[i].value; /* ownership moves to the caller */
        items[i].value_size = k[i].value_size;
        items[i].found = k[i].found != 0;
    }
    kv_items_free(k, count);
    return rc;
}

typedef int (*kv_batch_fn)(eos_kv_ns *ns, const eos_kv_item *items, size_t count, eos_diag *diag);

static int write_batch(kv_batch_fn fn, eos_wasi_store_ns *ns, const eos_wasi_store_item *items,
                       size_t count)
{
    eos_kv_item *k = kv_items(items, count);
    if (!k)
        return EOS_ENOMEM;
    int rc = fn(NS(ns), k, count, NULL);
    kv_items_free(k, count);
    return rc;
}

static int set_many(eos_wasi_store_ns *ns, const eos_wasi_store_item *items, size_t count)
{
    return write_batch(eos_kv_set_many, ns, items, count);
}

static int delete_many(eos_wasi_store_ns *ns, const eos_wasi_store_item *items, size_t count)
{
    return write_batch(eos_kv_delete_many, ns, items, count);
}

/* A page's names move between kv's page and the WASI host's unchanged. */
static int list(eos_wasi_store_ns *ns, const char *prefix, size_t prefix_size, const char *cursor,
                size_t limit, eos_wasi_store_page *page)
{
    eos_kv_list_page p;
    memset(&p, 0, sizeof(p));
    memset(page, 0, sizeof(*page));
    int rc = eos_kv_list(NS(ns), prefix, prefix_size, cursor, limit, &p, NULL);
    if (rc)
        return rc;
    page->keys = p.keys;
    page->key_sizes = p.key_sizes;
    page->count = p.count;
    memcpy(page->cursor, p.cursor, sizeof(page->cursor));
    return 0;
}

static void list_free(eos_wasi_store_page *page)
{
    eos_kv_list_page p;
    memset(&p, 0, sizeof(p));
    p.keys = page->keys;
    p.key_sizes = page->key_sizes;
    p.count = page->count;
    eos_kv_list_free(&p);
    page->keys = NULL;
    page->key_sizes = NULL;
    page->count = 0;
}

static int txn_begin(void *impl, eos_wasi_store_txn **out)
{
    eos_kv_txn *t = NULL;
    int rc = eos_kv_txn_begin(impl, &t, NULL);
    *out = (eos_wasi_store_txn *)t;
    return rc;
}

static int txn_set(eos_wasi_store_txn *txn, eos_wasi_store_ns *ns, const char *key, size_t key_size,
                   const uint8_t *value, size_t value_size)
{
    return eos_kv_txn_set(TXN(txn), NS(ns), key, key_size, value, value_size, NULL);
}

static int txn_delete(eos_wasi_store_txn *txn, eos_wasi_store_ns *ns, const char *key,
                      size_t key_size)
{
    return eos_kv_txn_delete(TXN(txn), NS(ns), key, key_size, NULL);
}

static int txn_commit(eos_wasi_store_txn *txn)
{
    return eos_kv_txn_commit(TXN(txn), NULL);
}

static void txn_abort(eos_wasi_store_txn *txn)
{
    eos_kv_txn_abort(TXN(txn));
}

static const eos_wasi_store_ops kv_store_ops = {
    .ns_open = ns_open,
    .ns_close = ns_close,
    .get = get,
    .set = set,
    .del = del,
    .exists = exists,
    .incr = incr,
    .cas = cas,
    .get_many = get_many,
    .set_many = set_many,
    .delete_many = delete_many,
    .list = list,
    .list_free = list_free,
    .txn_begin = txn_begin,
    .txn_set = txn_set,
    .txn_delete = txn_delete,
    .txn_commit = txn_commit,
    .txn_abort = txn_abort,
};

/* The store for eos_wasi_app_config.store: borrows kv (NULL = no store). */
eos_wasi_store eos_apps_wasi_store(eos_kv *kv)
{
    eos_wasi_store st = {.ops = kv ? &kv_store_ops : NULL, .impl = kv};
    return st;
}
