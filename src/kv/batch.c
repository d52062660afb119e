/* Batch operations: many keys of one namespace read from one snapshot, or
 * written and deleted in one atomic, durable backend transaction (which is
 * also the way to amortise the per-commit fsync). */
#include <string.h>

#include "internal.h"

typedef struct sealed {
    uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    uint8_t *env;
    size_t env_size;
    eos_kv__dirs *dirs; /* NULL when the name has no directory */
} sealed;

typedef struct batch_ctx {
    eos_kv *kv;
    sealed *recs;
    size_t count;
} batch_ctx;

void eos_kv_items_free(eos_kv_item *items, size_t count)
{
    for (size_t i = 0; items && i < count; i++) {
        if (items[i].value)
            eos_free(items[i].value, items[i].value_size);
        items[i].value = NULL;
        items[i].value_size = 0;
        items[i].found = 0;
    }
}

int eos_kv_get_many(eos_kv_ns *ns, eos_kv_item *items, size_t count, eos_diag *diag)
{
    eos_kv *kv = ns->kv;
    eos_kv__slot *s = NULL;
    eos_kv_btxn *t = NULL;
    uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        items[i].value = NULL;
        items[i].value_size = 0;
        items[i].found = 0;
        if ((rc = eos_kv__check_name(items[i].key, items[i].key_size, diag)) != 0)
            return rc;
    }
    if ((rc = eos_kv__slot_get(ns, &s, diag)) != 0)
        return rc;
    if ((rc = kv->be->ops->begin(kv->be, 0, &t, diag)) != 0)
        goto out;
    for (size_t i = 0; i < count && rc == 0; i++) {
        rc = eos_kv__dbkey(ns, s, items[i].key, items[i].key_size, dbkey, diag);
        if (rc == 0)
            rc = eos_kv__read_value(kv, t, s, dbkey, &items[i].value, &items[i].value_size, diag);
        items[i].found = rc == 0;
        if (rc == EOS_ENOTFOUND)
            rc = 0;
    }
    kv->be->ops->abort(t);
out:
    eos_kv__slot_put(ns, s);
    if (rc)
        eos_kv_items_free(items, count);
    return rc;
}

static void free_sealed(sealed *recs, size_t count)
{
    if (!recs)
        return;
    for (size_t i = 0; i < count; i++) {
        eos_free(recs[i].env, recs[i].env_size);
        eos_free(recs[i].dirs, sizeof *recs[i].dirs);
    }
    eos_free(recs, count * sizeof *recs);
}

static int put_all(eos_kv_btxn *t, void *ctx, eos_diag *diag)
{
    batch_ctx *b = ctx;
    int rc = 0;
    for (size_t i = 0; i < b->count && rc == 0; i++)
        rc = eos_kv__put_record(b->kv, t, b->recs[i].dbkey, b->recs[i].env, b->recs[i].env_size,
                                b->recs[i].dirs, diag);
    return rc;
}

static int del_all(eos_kv_btxn *t, void *ctx, eos_diag *diag)
{
    batch_ctx *b = ctx;
    int rc = 0;
    for (size_t i = 0; i < b->count && rc == 0; i++) {
        rc = eos_kv__del_record(b->kv, t, b->recs[i].dbkey, b->recs[i].dirs, diag);
        if (rc == EOS_ENOTFOUND)
            rc = 0;
    }
    return rc;
}

/* Seals (or, for deletes, only hashes) every item, then runs fn once. */
static int run_batch(eos_kv_ns *ns, const eos_kv_item *items, size_t count, int seal,
                     eos_kv__write_fn fn, eos_diag *diag)
{
    batch_ctx b = {ns->kv, NULL, count};
    eos_kv__slot *s = NULL;
    int rc = 0;
    if (count == 0)
        return 0;
    for (size_t i = 0; i < count; i++) {
        if ((rc = eos_kv__check_name(items[i].key, items[i].key_size, diag)) != 0)
            return rc;
        if (seal && items[i].value_size > EOS_KV_MAX_VALUE_SIZE)
            return eos_diag_set(diag, EOS_ETOOBIG, "kv", -1, "a batch value is too large");
        if (seal && !items[i].value && items[i].value_size)
            return eos_diag_set(diag, EOS_EINVAL, "kv", -1, "a batch value pointer is NULL");
    }
    b.recs = eos_calloc(count, sizeof *b.recs);
    if (!b.recs)
        return eos_diag_set(diag, EOS_ENOMEM, "kv", -1, "out of memory for a batch of %zu", count);
    if ((rc = eos_kv__slot_get(ns, &s, diag)) != 0)
        goto out;
    for (size_t i = 0; i < count && rc == 0; i++) {
        sealed *r = &b.recs[i];
        rc = eos_kv__dbkey(ns, s, items[i].key, items[i].key_size, r->dbkey, diag);
        if (rc == 0 && eos_kv__depth(items[i].key, items[i].key_size) > 0) {
            r->dirs = eos_malloc(sizeof *r->dirs);
            rc = r->dirs ? eos_kv__dirs_of(ns, s, items[i].key, items[i].key_size, r->dbkey,
                                           r->dirs, diag)
                         : eos_diag_set(diag, EOS_ENOMEM, "kv", -1, "out of memory");
        }
        if (rc == 0 && seal)
            rc = eos_kv__seal(ns, s, r->dbkey, items[i].key, items[i].key_size,
                              items[i].value ? items[i].value : r->dbkey, items[i].value_size, NULL,
                              0, &r->env, &r->env_size, diag);
    }
    eos_kv__slot_put(ns, s);
    if (rc == 0)
        rc = eos_kv__run_write(ns->kv, fn, &b, diag);
out:
    free_sealed(b.recs, count);
    return rc;
}

int eos_kv_set_many(eos_kv_ns *ns, const eos_kv_item *items, size_t count, eos_diag *diag)
{
    return run_batch(ns, items, count, 1, put_all, diag);
}

int eos_kv_delete_many(eos_kv_ns *ns, const eos_kv_item *items, size_t count, eos_diag *diag)
{
    return run_batch(ns, items, count, 0, del_all, diag);
}
