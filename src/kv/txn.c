/* Store transactions: writes are sealed when made and buffered; reads see
 * the transaction's own writes and remember the GCM tag they saw, so commit
 * can apply everything in one backend transaction and refuse (ECONFLICT)
 * when anything read has changed since: optimistic, serialisable. */
#include <string.h>

#include "internal.h"

typedef struct txn_write {
    uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    uint8_t *env; /* NULL: delete */
    size_t env_size;
    eos_kv__dirs *dirs; /* NULL when the name has no directory */
} txn_write;

typedef struct txn_read {
    uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    int present;
    uint8_t tag[EOS_KV__TAG_SIZE]; /* the value tag seen: unique per write */
} txn_read;

struct eos_kv_txn {
    eos_kv *kv;
    txn_write *w;
    size_t nw, capw;
    txn_read *r;
    size_t nr, capr;
};

int eos_kv_txn_begin(eos_kv *kv, eos_kv_txn **out, eos_diag *diag)
{
    eos_kv_txn *t = eos_calloc(1, sizeof *t);
    if (!t)
        return eos_diag_set(diag, EOS_ENOMEM, "kv txn", -1, "out of memory");
    t->kv = kv;
    *out = t;
    return 0;
}

void eos_kv_txn_abort(eos_kv_txn *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nw; i++) {
        eos_free(t->w[i].env, t->w[i].env_size);
        eos_free(t->w[i].dirs, sizeof *t->w[i].dirs);
    }
    eos_free(t->w, t->capw * sizeof *t->w);
    eos_free(t->r, t->capr * sizeof *t->r);
    eos_free(t, sizeof *t);
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 8;
    void *p = eos_realloc(*arr, *cap * elem, c * elem);
    if (!p)
        return EOS_ENOMEM;
    *arr = p;
    *cap = c;
    return 0;
}

static txn_write *find_write(eos_kv_txn *t, const uint8_t *dbkey)
{
    for (size_t i = 0; i < t->nw; i++)
        if (memcmp(t->w[i].dbkey, dbkey, EOS_KV_DBKEY_SIZE) == 0)
            return &t->w[i];
    return NULL;
}

static int note_read(eos_kv_txn *t, const uint8_t *dbkey, const uint8_t *raw, size_t raw_size)
{
    for (size_t i = 0; i < t->nr; i++)
        if (memcmp(t->r[i].dbkey, dbkey, EOS_KV_DBKEY_SIZE) == 0)
            return 0;
    if (grow((void **)&t->r, &t->capr, t->nr, sizeof *t->r))
        return EOS_ENOMEM;
    txn_read *r = &t->r[t->nr++];
    memcpy(r->dbkey, dbkey, EOS_KV_DBKEY_SIZE);
    r->present = raw != NULL;
    memset(r->tag, 0, sizeof r->tag);
    if (raw && raw_size >= EOS_KV__TAG_SIZE)
        memcpy(r->tag, raw + raw_size - EOS_KV__TAG_SIZE, EOS_KV__TAG_SIZE);
    return 0;
}

static int decrypt_env(eos_kv__slot *s, const uint8_t *dbkey, const uint8_t *raw, size_t raw_size,
                       uint8_t **out, size_t *out_size, eos_diag *diag)
{
    eos_kv__envelope env;
    int rc = eos_kv__envelope_parse(raw, raw_size, &env, diag);
    if (rc)
        return rc;
    uint8_t *buf = eos_malloc(env.value_size);
    if (!buf)
        return eos_diag_set(diag, EOS_ENOMEM, "kv txn", -1, "out of memory");
    if ((rc = eos_kv__open_value(s, dbkey, &env, buf, diag)) != 0) {
        eos_free(buf, env.value_size);
        return rc;
    }
    *out = buf;
    *out_size = env.value_size;
    return 0;
}

int eos_kv_txn_get(eos_kv_txn *t, eos_kv_ns *ns, const char *key, size_t key_size, uint8_t **out,
                   size_t *out_size, eos_diag *diag)
{
    eos_kv *kv = t->kv;
    eos_kv__slot *s = NULL;
    eos_kv_btxn *bt = NULL;
    uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    const uint8_t *raw = NULL;
    size_t raw_size = 0;
    int rc = eos_kv__check_name(key, key_size, diag);
    if (rc || (rc = eos_kv__slot_get(ns, &s, diag)) != 0)
        return rc;
    if ((rc = eos_kv__dbkey(ns, s, key, key_size, dbkey, diag)) != 0)
        goto out;
    txn_write *w = find_write(t, dbkey);
    if (w) {
        rc = w->env ? decrypt_env(s, dbkey, w->env, w->env_size, out, out_size, diag)
                    : EOS_ENOTFOUND;
        goto out;
    }
    if ((rc = kv->be->ops->begin(kv->be, 0, &bt, diag)) != 0)
        goto out;
    rc = kv->be->ops->get(bt, dbkey, EOS_KV_DBKEY_SIZE, &raw, &raw_size, diag);
    if (rc == 0 || rc == EOS_ENOTFOUND) {
        int found = rc == 0;
        rc = note_read(t, dbkey, found ? raw : NULL, raw_size);
        if (rc)
            rc = eos_diag_set(diag, rc, "kv txn", -1, "out of memory");
        else if (!found)
            rc = EOS_ENOTFOUND;
        else
            rc = decrypt_env(s, dbkey, raw, raw_size, out, out_size, diag);
    }
    kv->be->ops->abort(bt);
out:
    eos_kv__slot_put(ns, s);
    return rc;
}

/* Records a write (env == NULL: delete), replacing an earlier one to the
 * same key. Takes ownership of env and dirs. */
static int add_write(eos_kv_txn *t, const uint8_t *dbkey, uint8_t *env, size_t env_size,
                     eos_kv__dirs *dirs, eos_diag *diag)
{
    txn_write *w = find_write(t, dbkey);
    if (!w) {
        if (grow((void **)&t->w, &t->capw, t->nw, sizeof *t->w)) {
            eos_free(env, env_size);
            eos_free(dirs, sizeof *dirs);
            return eos_diag_set(diag, EOS_ENOMEM, "kv txn", -1, "out of memory");
        }
        w = &t->w[t->nw++];
        memcpy(w->dbkey, dbkey, EOS_KV_DBKEY_SIZE);
    } else {
        eos_free(w->env, w->env_size);
        eos_free(w->dirs, sizeof *w->dirs);
    }
    w->env = env;
    w->env_size = env_size;
    w->dirs = dirs;
    return 0;
}

/* The backend key and, when the name has directories, its index keys. */
static int keys_of(eos_kv_ns *ns, eos_kv__slot *s, const char *key, size_t key_size, uint8_t *dbkey,
                   eos_kv__dirs **out_dirs, eos_diag *diag)
{
    *out_dirs = NULL;
    int rc = eos_kv__dbkey(ns, s, key, key_size, dbkey, diag);
    if (rc || eos_kv__depth(key, key_size) == 0)
        return rc;
    eos_kv__dirs *d = eos_malloc(sizeof *d);
    if (!d)
        return eos_diag_set(diag, EOS_ENOMEM, "kv txn", -1, "out of memory");
    if ((rc = eos_kv__dirs_of(ns, s, key, key_size, dbkey, d, diag)) != 0) {
        eos_free(d, sizeof *d);
        return rc;
    }
    *out_dirs = d;
    return 0;
}

int eos_kv_txn_set(eos_kv_txn *t, eos_kv_ns *ns, const char *key, size_t key_size,
                   const uint8_t *value, size_t value_size, eos_diag *diag)
{
    eos_kv__slot *s = NULL;
    eos_kv__dirs *dirs = NULL;
    uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    uint8_t *env = NULL;
    size_t env_size = 0;
    int rc = eos_kv__check_name(key, key_size, diag);
    if (rc)
        return rc;
    if (!value && value_size)
        return eos_diag_set(diag, EOS_EINVAL, "kv txn", -1, "a value pointer is NULL");
    if (value_size > EOS_KV_MAX_VALUE_SIZE)
        return eos_diag_set(diag, EOS_ETOOBIG, "kv txn", -1, "a %zu-byte value is too large",
                            value_size);
    if ((rc = eos_kv__slot_get(ns, &s, diag)) != 0)
        return rc;
    rc = keys_of(ns, s, key, key_size, dbkey, &dirs, diag);
    if (rc == 0)
        rc = eos_kv__seal(ns, s, dbkey, key, key_size, value ? value : dbkey, value_size, NULL, 0,
                          &env, &env_size, diag);
    eos_kv__slot_put(ns, s);
    if (rc) {
        eos_free(dirs, sizeof *dirs);
        return rc;
    }
    return add_write(t, dbkey, env, env_size, dirs, diag);
}

int eos_kv_txn_delete(eos_kv_txn *t, eos_kv_ns *ns, const char *key, size_t key_size,
                      eos_diag *diag)
{
    uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    eos_kv__slot *s = NULL;
    eos_kv__dirs *dirs = NULL;
    int rc = eos_kv__check_name(key, key_size, diag);
    if (rc || (rc = eos_kv__slot_get(ns, &s, diag)) != 0)
        return rc;
    rc = keys_of(ns, s, key, key_size, dbkey, &dirs, diag);
    eos_kv__slot_put(ns, s);
    return rc ? rc : add_write(t, dbkey, NULL, 0, dirs, diag);
}

static int apply(eos_kv_btxn *bt, void *ctx, eos_diag *diag)
{
    eos_kv_txn *t = ctx;
    const eos_kv_backend_ops *ops = t->kv->be->ops;
    int rc = 0;
    for (size_t i = 0; i < t->nr; i++) {
        const uint8_t *raw = NULL;
        size_t raw_size = 0;
        rc = ops->get(bt, t->r[i].dbkey, EOS_KV_DBKEY_SIZE, &raw, &raw_size, diag);
        if (rc != 0 && rc != EOS_ENOTFOUND)
            return rc;
        int present = rc == 0;
        rc = 0;
        if (present != t->r[i].present || (present && (raw_size < EOS_KV__TAG_SIZE ||
                                                       memcmp(raw + raw_size - EOS_KV__TAG_SIZE,
                                                              t->r[i].tag, EOS_KV__TAG_SIZE) != 0)))
            return eos_diag_set(diag, EOS_ECONFLICT, "kv txn", -1,
                                "a key read by the transaction changed before it committed; "
                                "run the transaction again");
    }
    for (size_t i = 0; i < t->nw && rc == 0; i++) {
        txn_write *w = &t->w[i];
        rc = w->env ? eos_kv__put_record(t->kv, bt, w->dbkey, w->env, w->env_size, w->dirs, diag)
                    : eos_kv__del_record(t->kv, bt, w->dbkey, w->dirs, diag);
        if (rc == EOS_ENOTFOUND)
            rc = 0;
    }
    return rc;
}

int eos_kv_txn_commit(eos_kv_txn *t, eos_diag *diag)
{
    int rc = t->nw ? eos_kv__run_write(t->kv, apply, t, diag) : 0;
    eos_kv_txn_abort(t);
    return rc;
}
