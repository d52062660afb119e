/* Listing key names of a namespace and erasing whole namespace roots. Names
 * on disk are HMACs, so a listing walks the namespace's contiguous range in
 * HMAC order, decrypting each record's name; the cursor is the HMAC reached. */
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

/* Walks the namespace from pos; fills page. */
static int scan(eos_kv_ns *ns, eos_kv_btxn *t, eos_kv__slot *s, uint8_t *pos, size_t pos_size,
                int after, const char *prefix, size_t prefix_size, size_t limit,
                eos_kv_list_page *page, eos_diag *diag)
{
    const eos_kv_backend_ops *ops = ns->kv->be->ops;
    size_t cap = 0, scanned = 0;
    for (;;) {
        const uint8_t *k = NULL, *v = NULL;
        size_t ks = 0, vs = 0;
        eos_kv__envelope env;
        int rc = ops->seek(t, pos, pos_size, after, &k, &ks, &v, &vs, diag);
        if (rc == EOS_ENOTFOUND ||
            (rc == 0 && (ks < EOS_KV__PREFIX_SIZE || memcmp(k, ns->prefix, EOS_KV__PREFIX_SIZE))))
            return 0; /* end of the namespace: cursor stays "" */
        if (rc)
            return rc;
        if (ks != EOS_KV_DBKEY_SIZE)
            return eos_diag_set(diag, EOS_ECORRUPT, "kv list", -1,
                                "a stored key of %zu bytes lies inside a namespace; the data "
                                "file was altered",
                                ks);
        memcpy(pos, k, EOS_KV_DBKEY_SIZE);
        pos_size = EOS_KV_DBKEY_SIZE;
        after = 1;
        if ((rc = eos_kv__envelope_parse(v, vs, &env, diag)) != 0)
            return rc;
        char *name = eos_malloc(env.name_size + 1);
        if (!name)
            return eos_diag_set(diag, EOS_ENOMEM, "kv list", -1, "out of memory listing keys");
        if ((rc = eos_kv__open_name(s, pos, &env, (uint8_t *)name, diag)) != 0) {
            eos_free(name, env.name_size + 1);
            return rc;
        }
        name[env.name_size] = '\0';
        if (env.name_size >= prefix_size &&
            (prefix_size == 0 || memcmp(name, prefix, prefix_size) == 0)) {
            if (page_add(page, &cap, name, env.name_size) != 0) {
                eos_free(name, env.name_size + 1);
                return eos_diag_set(diag, EOS_ENOMEM, "kv list", -1, "out of memory listing keys");
            }
        } else {
            eos_free(name, env.name_size + 1);
        }
        if (page->count >= limit || ++scanned >= SCAN_BUDGET) {
            eos_hex_encode(pos + EOS_KV__PREFIX_SIZE, EOS_KV__HASH_SIZE, page->cursor);
            return 0;
        }
    }
}

int eos_kv_list(eos_kv_ns *ns, const char *prefix, size_t prefix_size, const char *cursor,
                size_t limit, eos_kv_list_page *page, eos_diag *diag)
{
    eos_kv *kv = ns->kv;
    eos_kv__slot *s = NULL;
    eos_kv_btxn *t = NULL;
    uint8_t pos[EOS_KV_DBKEY_SIZE];
    size_t pos_size = EOS_KV__PREFIX_SIZE;
    int rc = 0;
    memset(page, 0, sizeof *page);
    if (prefix_size && !prefix)
        return eos_diag_set(diag, EOS_EINVAL, "kv list", -1, "the prefix pointer is NULL");
    limit = limit == 0 ? DEFAULT_LIMIT : limit > MAX_LIMIT ? MAX_LIMIT : limit;
    memcpy(pos, ns->prefix, EOS_KV__PREFIX_SIZE);
    if (cursor && cursor[0]) {
        if ((rc = parse_cursor(cursor, pos + EOS_KV__PREFIX_SIZE, diag)) != 0)
            return rc;
        pos_size = EOS_KV_DBKEY_SIZE;
    }
    if ((rc = eos_kv__slot_get(ns, &s, diag)) != 0)
        return rc;
    if ((rc = kv->be->ops->begin(kv->be, 0, &t, diag)) == 0) {
        rc = scan(ns, t, s, pos, pos_size, pos_size == EOS_KV_DBKEY_SIZE, prefix, prefix_size,
                  limit, page, diag);
        kv->be->ops->abort(t);
    }
    eos_kv__slot_put(ns, s);
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
    uint8_t key[EOS_KV_DBKEY_SIZE];
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
