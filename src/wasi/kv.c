/* wasi:keyvalue store, atomics and batch (0.2.0-draft and 0.2.0-draft2) on
 * the app's store (eos_wasi_store). Each bucket is its own store namespace,
 * "app:<name>/kv:<bucket>", so buckets and apps never see each other's keys
 * and listing a bucket is listing its namespace. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Most keys one batch call or one listing page handles. */
#define BATCH_MAX       10000u
#define PAGE_KEYS       1000u
#define BUCKET_NAME_MAX 255u

typedef struct nscache {
    struct nscache *next;
    char *suffix;
    size_t suffix_size;
    eos_wasi__ns ns;
} nscache;

int eos_wasi__ns_open(eos_wasi_app *app, const char *suffix, size_t suffix_size,
                      const eos_wasi__ns **out)
{
    int rc = 0;
    if (!app->store.ops)
        return EOS_EUNAVAILABLE;
    pthread_mutex_lock(&app->lock);
    for (nscache *c = (nscache *)app->ns_cache; c; c = c->next) {
        if (c->suffix_size == suffix_size && memcmp(c->suffix, suffix, suffix_size) == 0) {
            *out = &c->ns;
            goto out;
        }
    }
    size_t nsz = strlen(app->name) + suffix_size + 6;
    char *name = eos_malloc(nsz);
    nscache *c = eos_calloc(1, sizeof(*c));
    if (!name || !c || !(c->suffix = eos_malloc(suffix_size + 1))) {
        eos_free(name, nsz);
        eos_free(c, sizeof(*c));
        rc = EOS_ENOMEM;
        goto out;
    }
    snprintf(name, nsz, "app:%s/%.*s", app->name, (int)suffix_size, suffix);
    c->ns.ops = app->store.ops;
    c->ns.impl = app->store.impl;
    rc = app->store.ops->ns_open(app->store.impl, name, &c->ns.h);
    eos_free(name, nsz);
    if (rc) {
        eos_free(c->suffix, suffix_size + 1);
        eos_free(c, sizeof(*c));
        goto out;
    }
    memcpy(c->suffix, suffix, suffix_size);
    c->suffix[suffix_size] = 0;
    c->suffix_size = suffix_size;
    c->next = (nscache *)app->ns_cache;
    app->ns_cache = (struct eos_wasi__nscache *)c;
    *out = &c->ns;
out:
    pthread_mutex_unlock(&app->lock);
    return rc;
}

void eos_wasi__ns_cache_free(eos_wasi_app *app)
{
    nscache *c = (nscache *)app->ns_cache;
    while (c) {
        nscache *n = c->next;
        c->ns.ops->ns_close(c->ns.h);
        eos_free(c->suffix, c->suffix_size + 1);
        eos_free(c, sizeof(*c));
        c = n;
    }
    app->ns_cache = NULL;
}

typedef struct bucket {
    const eos_wasi__ns *ns;
} bucket;

typedef struct cas {
    const eos_wasi__ns *ns;
    char *key;
    size_t key_size;
    bool had;
    uint8_t *value;
    size_t value_size;
} cas;

static void cas_free(cas *c)
{
    if (!c)
        return;
    eos_free(c->key, c->key_size + 1);
    eos_free(c->value, c->value_size);
    eos_free(c, sizeof(*c));
}

void eos_wasi__kv_free_obj(eos_wasi__ctx *ctx, uint8_t type, void *obj)
{
    if (type == EOS_WASI__R_KV_BUCKET)
        eos_free(obj, sizeof(bucket));
    else
        cas_free(obj);
}

/* Sets res to err(error) for an eos_err. */
static int kv_err(eos_wasi__ctx *ctx, eos_cm_val *res, int code, const char *what)
{
    eos_cm_val *e = eos_wasi__val_new(ctx, 2);
    if (!e)
        return EOS_ENOMEM;
    if (code == EOS_EPERM) {
        e[0].of.var.index = 1;
    } else {
        char msg[160];
        snprintf(msg, sizeof(msg), "%s: %s", what, eos_strerror(code));
        if (!eos_wasi__val_str(ctx, &e[1], msg, strlen(msg)))
            return EOS_ENOMEM;
        e[0].of.var.index = 2;
        e[0].of.var.payload = &e[1];
    }
    return eos_wasi__err(res, e);
}

static int check_key(const eos_cm_val *k)
{
    return k->of.str.len == 0 || k->of.str.len > EOS_WASI_STORE_MAX_KEY ? EOS_EINVAL : 0;
}

static int kv_open(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    const char *id = args[0].of.str.ptr;
    size_t n = args[0].of.str.len;
    if (n == 0) {
        id = "default";
        n = 7;
    }
    if (n > BUCKET_NAME_MAX || memchr(id, '/', n) || memchr(id, 0, n))
        return eos_wasi__err_case(ctx, &results[0], 0); /* no-such-store */
    char suffix[BUCKET_NAME_MAX + 4];
    int sn = snprintf(suffix, sizeof(suffix), "kv:%.*s", (int)n, id);
    const eos_wasi__ns *ns = NULL;
    int rc = eos_wasi__ns_open(ctx->app, suffix, (size_t)sn, &ns);
    if (rc)
        return kv_err(ctx, &results[0], rc, "opening the bucket failed");
    bucket *b = eos_calloc(1, sizeof(*b));
    if (b)
        b->ns = ns;
    return eos_wasi__ok_handle(ctx, &results[0], eos_wasi__res_new(ctx, EOS_WASI__R_KV_BUCKET, b));
}

static int kv_get(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, bucket, b, EOS_WASI__R_KV_BUCKET);
    eos_cm_val *v = eos_wasi__val_new(ctx, 2);
    if (!v)
        return EOS_ENOMEM;
    int rc = check_key(&args[1]);
    uint8_t *data = NULL;
    size_t size = 0;
    if (!rc)
        rc = b->ns->ops->get(b->ns->h, args[1].of.str.ptr, args[1].of.str.len, &data, &size);
    if (rc == EOS_ENOTFOUND) {
        v[0].of.var.index = 0;
        return eos_wasi__ok(&results[0], v);
    }
    if (rc)
        return kv_err(ctx, &results[0], rc, "get failed");
    bool ok = eos_wasi__val_bytes(ctx, &v[1], data, size);
    eos_free(data, size);
    if (!ok)
        return EOS_ENOMEM;
    v[0].of.var.index = 1;
    v[0].of.var.payload = &v[1];
    return eos_wasi__ok(&results[0], v);
}

static int kv_set(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, bucket, b, EOS_WASI__R_KV_BUCKET);
    int rc = check_key(&args[1]);
    if (!rc)
        rc = b->ns->ops->set(b->ns->h, args[1].of.str.ptr, args[1].of.str.len,
                             args[2].of.list.bytes, args[2].of.list.len);
    return rc ? kv_err(ctx, &results[0], rc, "set failed") : eos_wasi__ok(&results[0], NULL);
}

static int kv_delete(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, bucket, b, EOS_WASI__R_KV_BUCKET);
    int rc = check_key(&args[1]);
    if (!rc)
        rc = b->ns->ops->del(b->ns->h, args[1].of.str.ptr, args[1].of.str.len);
    if (rc == EOS_ENOTFOUND)
        rc = 0; /* the WIT: deleting an absent key is not an error */
    return rc ? kv_err(ctx, &results[0], rc, "delete failed") : eos_wasi__ok(&results[0], NULL);
}

static int kv_exists(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, bucket, b, EOS_WASI__R_KV_BUCKET);
    bool ex = false;
    int rc = check_key(&args[1]);
    if (!rc)
        rc = b->ns->ops->exists(b->ns->h, args[1].of.str.ptr, args[1].of.str.len, &ex);
    if (rc)
        return kv_err(ctx, &results[0], rc, "exists failed");
    return eos_wasi__ok_bool(ctx, &results[0], ex);
}

/* Collects up to PAGE_KEYS names starting at cursor into keys (scratch).
 * skip drops that many names first (draft's numeric cursor). */
static int list_page(eos_wasi__ctx *ctx, const eos_wasi__ns *ns, const char *cursor, uint64_t skip,
                     eos_cm_val *keys, size_t *out_n, char next[EOS_WASI_STORE_CURSOR_SIZE])
{
    char cur[EOS_WASI_STORE_CURSOR_SIZE];
    snprintf(cur, sizeof(cur), "%s", cursor ? cursor : "");
    size_t n = 0;
    for (;;) {
        eos_wasi_store_page page;
        memset(&page, 0, sizeof(page));
        size_t want = PAGE_KEYS - n;
        if (skip)
            want = skip > PAGE_KEYS ? PAGE_KEYS : (size_t)skip;
        int rc = ns->ops->list(ns->h, "", 0, cur, want, &page);
        if (rc)
            return rc;
        for (size_t i = 0; i < page.count; i++) {
            if (skip) {
                skip--;
                continue;
            }
            if (!eos_wasi__val_str(ctx, &keys[n++], page.keys[i], page.key_sizes[i])) {
                ns->ops->list_free(&page);
                return EOS_ENOMEM;
            }
        }
        snprintf(cur, sizeof(cur), "%s", page.cursor);
        ns->ops->list_free(&page);
        if (!cur[0] || n == PAGE_KEYS)
            break;
    }
    *out_n = n;
    snprintf(next, EOS_WASI_STORE_CURSOR_SIZE, "%s", cur);
    return 0;
}

static int list_keys_impl(eos_cm_call *call, const eos_cm_val *args, eos_cm_val *results,
                          bool numeric)
{
    EOS_WASI__SELF(ctx, bucket, b, EOS_WASI__R_KV_BUCKET);
    const eos_cm_val *c = args[1].of.var.index ? args[1].of.var.payload : NULL;
    char in[EOS_WASI_STORE_CURSOR_SIZE] = "";
    uint64_t skip = 0;
    if (c && numeric)
        skip = c->of.u;
    else if (c)
        snprintf(in, sizeof(in), "%.*s", (int)(c->of.str.len < 64 ? c->of.str.len : 64),
                 c->of.str.ptr);
    eos_cm_val *rec = eos_wasi__val_new(ctx, 4);
    eos_cm_val *keys = eos_wasi__val_new(ctx, PAGE_KEYS);
    if (!rec || !keys)
        return EOS_ENOMEM;
    size_t n = 0;
    char next[EOS_WASI_STORE_CURSOR_SIZE];
    int rc = list_page(ctx, b->ns, in, skip, keys, &n, next);
    if (rc)
        return kv_err(ctx, &results[0], rc, "listing keys failed");
    rec[0].of.list.items = &rec[1];
    rec[0].of.list.len = 2;
    rec[1].of.list.items = keys;
    rec[1].of.list.len = n;
    rec[2].of.var.index = next[0] ? 1 : 0;
    rec[2].of.var.payload = &rec[3];
    if (numeric)
        rec[3].of.u = skip + n;
    else if (next[0] && !eos_wasi__val_str(ctx, &rec[3], next, strlen(next)))
        return EOS_ENOMEM;
    return eos_wasi__ok(&results[0], &rec[0]);
}

static int kv_list_u64(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    return list_keys_impl(call, args, results, true);
}

static int kv_list_str(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    return list_keys_impl(call, args, results, false);
}

/* ---- atomics ---- */

static int kv_increment(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, bucket, b, EOS_WASI__R_KV_BUCKET);
    int64_t v = 0;
    int rc = check_key(&args[1]);
    if (!rc)
        rc = b->ns->ops->incr(b->ns->h, args[1].of.str.ptr, args[1].of.str.len,
                              (int64_t)args[2].of.u, &v);
    if (rc)
        return kv_err(ctx, &results[0], rc, "increment failed");
    return eos_wasi__ok_s64(ctx, &results[0], v);
}

/* Makes a cas snapshot of key's current value. */
static int cas_make(const eos_wasi__ns *ns, const char *key, size_t key_size, cas **out)
{
    cas *c = eos_calloc(1, sizeof(*c));
    if (!c || !(c->key = eos_malloc(key_size + 1))) {
        eos_free(c, sizeof(*c));
        return EOS_ENOMEM;
    }
    memcpy(c->key, key, key_size);
    c->key[key_size] = 0;
    c->key_size = key_size;
    c->ns = ns;
    int rc = ns->ops->get(ns->h, key, key_size, &c->value, &c->value_size);
    if (rc == EOS_ENOTFOUND) {
        rc = 0;
        c->value = NULL;
        c->value_size = 0;
    } else if (!rc) {
        c->had = true;
    }
    if (rc) {
        cas_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

static int cas_new(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, bucket, b, EOS_WASI__R_KV_BUCKET);
    cas *c = NULL;
    int rc = check_key(&args[1]);
    if (!rc)
        rc = cas_make(b->ns, args[1].of.str.ptr, args[1].of.str.len, &c);
    if (rc)
        return kv_err(ctx, &results[0], rc, "cas failed");
    return eos_wasi__ok_handle(ctx, &results[0], eos_wasi__res_new(ctx, EOS_WASI__R_KV_CAS, c));
}

static int cas_current(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, cas, c, EOS_WASI__R_KV_CAS);
    eos_cm_val *v = eos_wasi__val_new(ctx, 2);
    if (!v)
        return EOS_ENOMEM;
    if (c->had) {
        if (!eos_wasi__val_bytes(ctx, &v[1], c->value, c->value_size))
            return EOS_ENOMEM;
        v[0].of.var.index = 1;
        v[0].of.var.payload = &v[1];
    }
    return eos_wasi__ok(&results[0], v);
}

static int cas_swap(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    cas *c = eos_wasi__res_take(ctx, args[0].of.handle, EOS_WASI__R_KV_CAS);
    if (!c)
        return EOS_TRAP_HOST;
    static const uint8_t empty[1];
    const uint8_t *expected = c->had ? (c->value ? c->value : empty) : NULL;
    int rc = c->ns->ops->cas(c->ns->h, c->key, c->key_size, expected, c->value_size,
                             args[1].of.list.bytes, args[1].of.list.len);
    eos_cm_val *e = eos_wasi__val_new(ctx, 3);
    if (!rc || !e) {
        cas_free(c);
        return e ? eos_wasi__ok(&results[0], NULL) : EOS_ENOMEM;
    }
    if (rc == EOS_ECONFLICT) {
        /* cas-failed carries a fresh handle at the latest value, for retries. */
        cas *n = NULL;
        rc = cas_make(c->ns, c->key, c->key_size, &n);
        cas_free(c);
        if (!rc) {
            e[1].of.handle = eos_wasi__res_new(ctx, EOS_WASI__R_KV_CAS, n);
            if (!e[1].of.handle)
                return EOS_ENOMEM;
            e[0].of.var.index = 1;
            e[0].of.var.payload = &e[1];
            return eos_wasi__err(&results[0], e);
        }
    } else {
        cas_free(c);
    }
    int r2 = kv_err(ctx, &e[2], rc, "swap failed");
    if (r2)
        return r2;
    e[0].of.var.index = 0;
    e[0].of.var.payload = e[2].of.var.payload;
    return eos_wasi__err(&results[0], e);
}

/* ---- batch ---- */

/* Frees the values get_many handed out. */
static void items_free(eos_wasi_store_item *items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        eos_free(items[i].value, items[i].value_size);
}

static int batch_items(eos_wasi__ctx *ctx, const eos_cm_val *list, bool pairs,
                       eos_wasi_store_item **out)
{
    size_t n = list->of.list.len;
    if (n > BATCH_MAX)
        return EOS_ELIMIT;
    eos_wasi_store_item *items = eos_wasi__scratch_alloc(ctx, (n ? n : 1) * sizeof(*items));
    if (!items)
        return EOS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const eos_cm_val *k =
            pairs ? &list->of.list.items[i].of.list.items[0] : &list->of.list.items[i];
        if (check_key(k))
            return EOS_EINVAL;
        items[i].key = k->of.str.ptr;
        items[i].key_size = k->of.str.len;
        if (pairs) {
            const eos_cm_val *v = &list->of.list.items[i].of.list.items[1];
            items[i].value = (uint8_t *)v->of.list.bytes;
            items[i].value_size = v->of.list.len;
        }
    }
    *out = items;
    return 0;
}

static int kv_get_many(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, bucket, b, EOS_WASI__R_KV_BUCKET);
    eos_wasi_store_item *items = NULL;
    size_t n = args[1].of.list.len;
    int rc = batch_items(ctx, &args[1], false, &items);
    if (!rc)
        rc = b->ns->ops->get_many(b->ns->h, items, n);
    if (rc)
        return kv_err(ctx, &results[0], rc, "get-many failed");
    eos_cm_val *out = eos_wasi__val_new(ctx, 1 + 4 * n);
    if (!out) {
        items_free(items, n);
        return EOS_ENOMEM;
    }
    rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        eos_cm_val *opt = &out[1 + 4 * i];
        if (!items[i].found)
            continue;
        eos_cm_val *tup = opt + 1;
        tup->of.list.items = opt + 2;
        tup->of.list.len = 2;
        if (!eos_wasi__val_str(ctx, &opt[2], items[i].key, items[i].key_size) ||
            !eos_wasi__val_bytes(ctx, &opt[3], items[i].value, items[i].value_size))
            rc = EOS_ENOMEM;
        opt->of.var.index = 1;
        opt->of.var.payload = tup;
    }
    items_free(items, n);
    if (rc)
        return rc;
    /* list<option<tuple>>: the options are every fourth value. */
    eos_cm_val *list = eos_wasi__val_new(ctx, n);
    if (!list)
        return EOS_ENOMEM;
    for (size_t i = 0; i < n; i++)
        list[i] = out[1 + 4 * i];
    out[0].of.list.items = list;
    out[0].of.list.len = n;
    return eos_wasi__ok(&results[0], &out[0]);
}

static int kv_set_many(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, bucket, b, EOS_WASI__R_KV_BUCKET);
    eos_wasi_store_item *items = NULL;
    int rc = batch_items(ctx, &args[1], true, &items);
    if (!rc)
        rc = b->ns->ops->set_many(b->ns->h, items, args[1].of.list.len);
    return rc ? kv_err(ctx, &results[0], rc, "set-many failed") : eos_wasi__ok(&results[0], NULL);
}

static int kv_delete_many(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, bucket, b, EOS_WASI__R_KV_BUCKET);
    eos_wasi_store_item *items = NULL;
    int rc = batch_items(ctx, &args[1], false, &items);
    if (!rc)
        rc = b->ns->ops->delete_many(b->ns->h, items, args[1].of.list.len);
    return rc ? kv_err(ctx, &results[0], rc, "delete-many failed")
              : eos_wasi__ok(&results[0], NULL);
}

#define ERR_T "variant error { no-such-store, access-denied, other(string) }\n"
static const char store_draft_types[] =
    ERR_T "record key-response { keys: list<string>, cursor: option<u64> }\nresource bucket;\n";
static const char store_draft2_types[] =
    ERR_T "record key-response { keys: list<string>, cursor: option<string> }\nresource bucket;\n";
static const char atomics_draft_types[] = ERR_T "resource bucket;\n";
static const char atomics_draft2_types[] =
    ERR_T "resource bucket;\nresource cas;\n"
          "variant cas-error { store-error(error), cas-failed(cas) }\n";
#undef ERR_T

#define B "self: borrow<bucket>"
#define STORE_FUNCS(list_sig, list_fn)                                                             \
    {"open", "func(identifier: string) -> result<bucket, error>", kv_open},                        \
        {"[method]bucket.get", "func(" B ", key: string) -> result<option<list<u8>>, error>",      \
         kv_get},                                                                                  \
        {"[method]bucket.set", "func(" B ", key: string, value: list<u8>) -> result<_, error>",    \
         kv_set},                                                                                  \
        {"[method]bucket.delete", "func(" B ", key: string) -> result<_, error>", kv_delete},      \
        {"[method]bucket.exists", "func(" B ", key: string) -> result<bool, error>", kv_exists},   \
    {                                                                                              \
        "[method]bucket.list-keys", list_sig, list_fn                                              \
    }

static const eos_cm_host_func store_draft_funcs[] = {
    STORE_FUNCS("func(" B ", cursor: option<u64>) -> result<key-response, error>", kv_list_u64)};
static const eos_cm_host_func store_draft2_funcs[] = {
    STORE_FUNCS("func(" B ", cursor: option<string>) -> result<key-response, error>", kv_list_str)};
#undef B
#undef STORE_FUNCS

static const eos_cm_host_func atomics_draft_funcs[] = {
    {"increment", "func(bucket: borrow<bucket>, key: string, delta: u64) -> result<u64, error>",
     kv_increment},
};
static const eos_cm_host_func atomics_draft2_funcs[] = {
    {"increment", "func(bucket: borrow<bucket>, key: string, delta: s64) -> result<s64, error>",
     kv_increment},
    {"[static]cas.new", "func(bucket: borrow<bucket>, key: string) -> result<cas, error>", cas_new},
    {"[method]cas.current", "func(self: borrow<cas>) -> result<option<list<u8>>, error>",
     cas_current},
    {"swap", "func(cas: cas, value: list<u8>) -> result<_, cas-error>", cas_swap},
};
static const eos_cm_host_func batch_funcs[] = {
    {"get-many",
     "func(bucket: borrow<bucket>, keys: list<string>) -> "
     "result<list<option<tuple<string, list<u8>>>>, error>",
     kv_get_many},
    {"set-many",
     "func(bucket: borrow<bucket>, key-values: list<tuple<string, list<u8>>>) -> "
     "result<_, error>",
     kv_set_many},
    {"delete-many", "func(bucket: borrow<bucket>, keys: list<string>) -> result<_, error>",
     kv_delete_many},
};

const eos_wasi__iface eos_wasi__kv_draft_ifaces[] = {
    EOS_WASI__IFACE("wasi:keyvalue/store", store_draft_types, store_draft_funcs),
    EOS_WASI__IFACE("wasi:keyvalue/atomics", atomics_draft_types, atomics_draft_funcs),
    EOS_WASI__IFACE("wasi:keyvalue/batch", atomics_draft_types, batch_funcs),
};
const eos_wasi__iface eos_wasi__kv_draft2_ifaces[] = {
    EOS_WASI__IFACE("wasi:keyvalue/store", store_draft2_types, store_draft2_funcs),
    EOS_WASI__IFACE("wasi:keyvalue/atomics", atomics_draft2_types, atomics_draft2_funcs),
    EOS_WASI__IFACE("wasi:keyvalue/batch", atomics_draft_types, batch_funcs),
};
const size_t eos_wasi__kv_iface_count = 3;
