/* Listing key names of a namespace and erasing whole namespace roots. Names
 * on disk are HMACs, so a listing walks a contiguous range in HMAC order (the
 * namespace's records, or a directory's index entries), decrypting each
 * record's name; the cursor is the name HMAC reached. */
#include <string.h>

#include "internal.h"

#define DEFAULT_LIMIT 1000
#define MAX_LIMIT     10000
/* Records examined per call at most, so a selective prefix over a large
 * namespace returns in bounded time (with a cursor to go on). */
#define SCAN_BUDGET 20000

void eos_kv_list_free(eos_kv_list_page *page)
{
    if (!page)
        return;
    for (size_t i = 0; i < page->count; i++)
        eos_free(page->keys[i], page->key_sizes[i] + 1);
    eos_free(page->keys, 0);
    eos_free(page->key_sizes, 0);
    page->keys = NULL;
    page->key_sizes = NULL;
    page->count = 0;
}

static int page_add(eos_kv_list_page *page, size_t *cap, char *name, size_t size)
{
    if (page->count == *cap) {
        size_t n = *cap ? *cap * 2 : 16;
        char **k = eos_realloc(page->keys, *cap * sizeof *k, n * sizeof *k);
        if (!k)
            return EOS_ENOMEM;
        page->keys = k;
        size_t *s = eos_realloc(page->key_sizes, *cap * sizeof *s, n * sizeof *s);
        if (!s)
            return EOS_ENOMEM;
        page->key_sizes = s;
        *cap = n;
    }
    page->keys[page->count] = name;
    page->key_sizes[page->count] = size;
    page->count++;
    return 0;
}

static int parse_cursor(const char *cursor, uint8_t *out, eos_diag *diag)
{
    if (strlen(cursor) != 2 * EOS_KV__HASH_SIZE ||
        eos_hex_decode(cursor, out, EOS_KV__HASH_SIZE) != 0)
        return eos_diag_set(diag, EOS_EINVAL, "kv list", -1,
                            "the listing cursor is not one this store returned");
    return 0;
}

/* What a listing looks for and how far it has got. */
typedef struct lister {
    eos_kv_ns *ns;
    eos_kv_btxn *t;
    eos_kv__slot *s;
    const char *prefix;
    size_t prefix_size;
    size_t dir_size; /* the part of prefix the index guarantees; 0 on a full scan */
    size_t limit;
    size_t cap;
    eos_kv_list_page *page;
} lister;

/* Authenticates one record's name and adds it to the page if it matches. */
static int take(lister *l, const uint8_t *dbkey, const uint8_t *v, size_t vs, eos_diag *diag)
{
    eos_kv__envelope env;
    int rc = eos_kv__envelope_parse(v, vs, &env, diag);
    if (rc)
        return rc;
    char *name = eos_malloc(env.name_size + 1);
    if (!name)
        return eos_diag_set(diag, EOS_ENOMEM, "kv list", -1, "out of memory listing keys");
    if ((rc = eos_kv__open_name(l->s, dbkey, &env, (uint8_t *)name, diag)) != 0)
        goto out;
    name[env.name_size] = '\0';
    int in_dir = l->dir_size == 0 ||
                 (env.name_size >= l->dir_size && memcmp(name, l->prefix, l->dir_size) == 0);
    if (!in_dir) {
        rc = eos_diag_set(diag, EOS_ECORRUPT, "kv list", -1,
                          "a directory index entry points to a key of another directory; "
                          "the data file was altered");
        goto out;
    }
    if (env.name_size >= l->prefix_size &&
        (l->prefix_size == 0 || memcmp(name, l->prefix, l->prefix_size) == 0)) {
        if (page_add(l->page, &l->cap, name, env.name_size) != 0) {
            rc = eos_diag_set(diag, EOS_ENOMEM, "kv list", -1, "out of memory listing keys");
            goto out;
        }
        name = NULL;
    }
out:
    eos_free(name, env.name_size + 1);
    return rc;
}

/* Walks the range that starts with the first range_size bytes of pos, from
 * pos (pos_size bytes; after: strictly after it). Entries are key_size bytes
 * and end with the 32-byte name hash. From the namespace's own range
 * (index == 0) the entries are the records; from a directory's index range
 * they point to records. */
static int walk(lister *l, uint8_t *pos, size_t pos_size, size_t range_size, size_t key_size,
                int index, int after, eos_diag *diag)
{
    const eos_kv_backend_ops *ops = l->ns->kv->be->ops;
    size_t scanned = 0;
    uint8_t range[EOS_KV__INDEX_KEY_SIZE], dbkey[EOS_KV_DBKEY_SIZE];
    memcpy(range, pos, range_size);
    memcpy(dbkey, l->ns->prefix, EOS_KV__PREFIX_SIZE);
    for (;;) {
        const uint8_t *k = NULL, *v = NULL;
        size_t ks = 0, vs = 0;
        int rc = ops->seek(l->t, pos, pos_size, after, &k, &ks, &v, &vs, diag);
        if (rc == EOS_ENOTFOUND || (rc == 0 && (ks < range_size || memcmp(k, range, range_size))))
            return 0; /* end of the range: cursor stays "" */
        if (rc)
            return rc;
        if (ks != key_size)
            return eos_diag_set(diag, EOS_ECORRUPT, "kv list", -1,
                                "a stored key of %zu bytes lies inside a namespace; the data "
                                "file was altered",
                                ks);
        memcpy(pos, k, ks);
        pos_size = ks;
        after = 1;
        memcpy(dbkey + EOS_KV__PREFIX_SIZE, k + ks - EOS_KV__HASH_SIZE, EOS_KV__HASH_SIZE);
        if (index) {
            rc = ops->get(l->t, dbkey, EOS_KV_DBKEY_SIZE, &v, &vs, diag);
            if (rc == EOS_ENOTFOUND)
                rc = eos_diag_set(diag, EOS_ECORRUPT, "kv list", -1,
                                  "a directory index entry points to a missing record; the "
                                  "data file was altered");
            if (rc)
                return rc;
        }
        if ((rc = take(l, dbkey, v, vs, diag)) != 0)
            return rc;
        if (l->page->count >= l->limit || ++scanned >= SCAN_BUDGET) {
            eos_hex_encode(pos + ks - EOS_KV__HASH_SIZE, EOS_KV__HASH_SIZE, l->page->cursor);
            return 0;
        }
    }
}

/* The longest part of prefix that ends in '/' and is indexed, or 0. */
static size_t indexed_dir(const char *prefix, size_t prefix_size)
{
    size_t n = prefix_size;
    while (n > 0 && prefix[n - 1] != '/')
        n--;
    return n > 0 && eos_kv__depth(prefix, n) <= EOS_KV__MAX_DIRS ? n : 0;
}

int eos_kv_list(eos_kv_ns *ns, const char *prefix, size_t prefix_size, const char *cursor,
                size_t limit, eos_kv_list_page *page, eos_diag *diag)
{
    eos_kv *kv = ns->kv;
    uint8_t pos[EOS_KV__INDEX_KEY_SIZE], hash[EOS_KV__HASH_SIZE];
    int rc = 0, resume = cursor && cursor[0];
    lister l = {ns, NULL, NULL, prefix, prefix_size, 0, 0, 0, page};
    memset(page, 0, sizeof *page);
    if (prefix_size && !prefix)
        return eos_diag_set(diag, EOS_EINVAL, "kv list", -1, "the prefix pointer is NULL");
    /* An empty prefix may come as NULL; memcmp and friends must never see it. */
    if (!prefix)
        l.prefix = "";
    l.limit = limit == 0 ? DEFAULT_LIMIT : limit > MAX_LIMIT ? MAX_LIMIT : limit;
    if (resume && (rc = parse_cursor(cursor, hash, diag)) != 0)
        return rc;
    if ((rc = eos_kv__slot_get(ns, &l.s, diag)) != 0)
        return rc;
    /* A prefix with a directory walks that directory's index; otherwise the
     * whole namespace. */
    l.dir_size = indexed_dir(prefix, prefix_size);
    size_t range_size =
        l.dir_size ? EOS_KV__PREFIX_SIZE + EOS_KV__DIR_ID_SIZE : EOS_KV__PREFIX_SIZE;
    size_t key_size = l.dir_size ? EOS_KV__INDEX_KEY_SIZE : EOS_KV_DBKEY_SIZE;
    if (l.dir_size)
        rc = eos_kv__dir_range(ns, l.s, prefix, l.dir_size, pos, diag);
    else
        memcpy(pos, ns->prefix, EOS_KV__PREFIX_SIZE);
    if (resume)
        memcpy(pos + range_size, hash, EOS_KV__HASH_SIZE);
    if (rc == 0 && (rc = kv->be->ops->begin(kv->be, 0, &l.t, diag)) == 0) {
        rc = walk(&l, pos, resume ? key_size : range_size, range_size, key_size, l.dir_size > 0,
                  resume, diag);
        kv->be->ops->abort(l.t);
    }
    eos_kv__slot_put(ns, l.s);
    if (rc) {
        eos_kv_list_free(page);
        page->cursor[0] = '\0';
    }
    return rc;
}

typedef struct erase_ctx {
    eos_kv *kv;
    uint8_t root[EOS_KV__ROOT_ID_SIZE];
} erase_ctx;

static int erase_all(eos_kv_btxn *t, void *ctx, eos_diag *diag)
{
    erase_ctx *e = ctx;
    const eos_kv_backend_ops *ops = e->kv->be->ops;
    uint8_t key[EOS_KV__INDEX_KEY_SIZE]; /* the longest key in a root */
    for (;;) {
        const uint8_t *k = NULL, *v = NULL;
        size_t ks = 0, vs = 0;
        int rc = ops->seek(t, e->root, sizeof e->root, 0, &k, &ks, &v, &vs, diag);
        if (rc == EOS_ENOTFOUND)
            return 0;
        if (rc)
            return rc;
        if (ks < sizeof e->root || memcmp(k, e->root, sizeof e->root) != 0)
            return 0;
        if (ks > sizeof key)
            return eos_diag_set(diag, EOS_ECORRUPT, "kv erase", -1,
                                "a stored key of %zu bytes lies inside a namespace", ks);
        /* Copy: the key points into the backend's pages, which del changes. */
        memcpy(key, k, ks);
        if ((rc = ops->del(t, key, ks, diag)) != 0)
            return rc;
    }
}

int eos_kv_erase_root(eos_kv *kv, const char *root, eos_diag *diag)
{
    erase_ctx e = {kv, {0}};
    size_t size = root ? strlen(root) : 0;
    if (size == 0 || size > EOS_KV__MAX_NS_NAME || memchr(root, '/', size))
        return eos_diag_set(diag, EOS_EINVAL, "kv erase", -1,
                            "a namespace root is a non-empty name without '/'");
    int rc = eos_kv__root_id(kv, root, size, e.root, diag);
    return rc ? rc : eos_kv__run_write(kv, erase_all, &e, diag);
}
