/* The LMDB backend: one environment file, one unnamed database, default
 * (durable) sync. Read transactions are pooled and renewed (MDB_NOTLS), and
 * a process-local rwlock keeps transactions out while the map grows. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "internal.h"

#define DEFAULT_MAP_SIZE ((size_t)64 << 20)
#define READ_POOL_MAX    64
#define MAX_READERS      1024

typedef struct lmdb_be lmdb_be;

struct eos_kv_btxn {
    lmdb_be *be;
    MDB_txn *txn;
    int write;
    struct eos_kv_btxn *next; /* read pool link */
};

struct lmdb_be {
    eos_kv_backend base;
    MDB_env *env;
    MDB_dbi dbi;
    /* Readers and writers hold it shared for the life of a transaction; grow
     * holds it exclusive, because LMDB may only resize with no transaction
     * of this process active. Writers are preferred so growth cannot starve. */
    pthread_rwlock_t resize;
    pthread_mutex_t pool_lock;
    eos_kv_btxn *pool; /* reset read transactions ready to renew */
    size_t pool_len;
    /* The map size at which a writer last found the map full, so that two
     * writers failing together grow it once, not twice. */
    atomic_size_t full_at;
};

static int map_err(int e, const char *what, eos_diag *diag)
{
    switch (e) {
    case 0:
        return 0;
    case MDB_NOTFOUND:
        return EOS_ENOTFOUND;
    case MDB_MAP_FULL:
        /* Not a failure the caller sees: the store grows the map and retries. */
        return EOS_ELIMIT;
    case ENOMEM:
        return eos_diag_set(diag, EOS_ENOMEM, "lmdb", -1, "out of memory in LMDB %s", what);
    case MDB_READERS_FULL:
        return eos_diag_set(diag, EOS_EBUSY, "lmdb", -1,
                            "LMDB %s: too many concurrent readers (%d slots)", what, MAX_READERS);
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        return eos_diag_set(diag, EOS_ECORRUPT, "lmdb", -1,
                            "LMDB %s: the data file is damaged or not an LMDB file (%s); "
                            "restore it from a backup",
                            what, mdb_strerror(e));
    default:
        return eos_diag_set(diag, EOS_ESTORE, "lmdb", -1, "LMDB %s failed: %s", what,
                            mdb_strerror(e));
    }
}

static int resize_adopt(lmdb_be *be, eos_diag *diag)
{
    /* Another process grew the map: adopt its size (0 = read from file). */
    pthread_rwlock_wrlock(&be->resize);
    int e = mdb_env_set_mapsize(be->env, 0);
    pthread_rwlock_unlock(&be->resize);
    return map_err(e, "adopting a larger map", diag);
}

static int lmdb_begin(eos_kv_backend *b, int write, eos_kv_btxn **out, eos_diag *diag)
{
    lmdb_be *be = b->impl;
    eos_kv_btxn *t = NULL;
    int rc = 0;
    if (!write) {
        pthread_mutex_lock(&be->pool_lock);
        t = be->pool;
        if (t) {
            be->pool = t->next;
            be->pool_len--;
        }
        pthread_mutex_unlock(&be->pool_lock);
    }
    if (!t) {
        t = eos_calloc(1, sizeof *t);
        if (!t)
            return eos_diag_set(diag, EOS_ENOMEM, "lmdb", -1,
                                "out of memory starting a transaction");
        t->be = be;
    }
    t->write = write;
    for (int attempt = 0;; attempt++) {
        pthread_rwlock_rdlock(&be->resize);
        int e = t->txn ? mdb_txn_renew(t->txn)
                       : mdb_txn_begin(be->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
        if (e == 0) {
            *out = t;
            return 0;
        }
        pthread_rwlock_unlock(&be->resize);
        if (e == MDB_MAP_RESIZED && attempt < 3) {
            rc = resize_adopt(be, diag);
            if (rc == 0)
                continue;
        } else {
            rc = map_err(e, write ? "starting a write transaction" : "starting a read", diag);
        }
        break;
    }
    if (t->txn)
        mdb_txn_abort(t->txn);
    eos_free(t, sizeof *t);
    return rc;
}

static void finish(eos_kv_btxn *t)
{
    lmdb_be *be = t->be;
    int pooled = 0;
    if (!t->write && t->txn) {
        /* Keep the handle and its reader slot for the next read. */
        mdb_txn_reset(t->txn);
        pthread_mutex_lock(&be->pool_lock);
        if (be->pool_len < READ_POOL_MAX) {
            t->next = be->pool;
            be->pool = t;
            be->pool_len++;
            pooled = 1;
        }
        pthread_mutex_unlock(&be->pool_lock);
        if (!pooled)
            mdb_txn_abort(t->txn);
    }
    pthread_rwlock_unlock(&be->resize);
    if (!pooled)
        eos_free(t, sizeof *t);
}

static int note_full(lmdb_be *be, int e)
{
    if (e == MDB_MAP_FULL) {
        MDB_envinfo info;
        mdb_env_info(be->env, &info);
        atomic_store(&be->full_at, info.me_mapsize);
    }
    return e;
}

static int lmdb_commit(eos_kv_btxn *t, eos_diag *diag)
{
    int rc = 0;
    if (t->write) {
        rc = map_err(note_full(t->be, mdb_txn_commit(t->txn)), "committing", diag);
        t->txn = NULL;
    }
    finish(t);
    return rc;
}

static void lmdb_abort(eos_kv_btxn *t)
{
    if (t->write) {
        mdb_txn_abort(t->txn);
        t->txn = NULL;
    }
    finish(t);
}

static int lmdb_get(eos_kv_btxn *t, const uint8_t *key, size_t key_size, const uint8_t **out_val,
                    size_t *out_val_size, eos_diag *diag)
{
    MDB_val k = {key_size, (void *)key}, v = {0, NULL};
    int e = mdb_get(t->txn, t->be->dbi, &k, &v);
    if (e)
        return map_err(e, "reading", diag);
    *out_val = v.mv_data;
    *out_val_size = v.mv_size;
    return 0;
}

static int lmdb_put(eos_kv_btxn *t, const uint8_t *key, size_t key_size, const uint8_t *val,
                    size_t val_size, eos_diag *diag)
{
    MDB_val k = {key_size, (void *)key}, v = {val_size, (void *)val};
    return map_err(note_full(t->be, mdb_put(t->txn, t->be->dbi, &k, &v, 0)), "writing", diag);
}

static int lmdb_del(eos_kv_btxn *t, const uint8_t *key, size_t key_size, eos_diag *diag)
{
    MDB_val k = {key_size, (void *)key};
    return map_err(note_full(t->be, mdb_del(t->txn, t->be->dbi, &k, NULL)), "deleting", diag);
}

static int lmdb_seek(eos_kv_btxn *t, const uint8_t *key, size_t key_size, int after,
                     const uint8_t **out_key, size_t *out_key_size, const uint8_t **out_val,
                     size_t *out_val_size, eos_diag *diag)
{
    MDB_cursor *c = NULL;
    MDB_val k = {key_size, (void *)key}, v = {0, NULL};
    int e = mdb_cursor_open(t->txn, t->be->dbi, &c);
    if (e)
        return map_err(e, "opening a cursor", diag);
    e = key_size ? mdb_cursor_get(c, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(c, &k, &v, MDB_FIRST);
    if (e == 0 && after && k.mv_size == key_size && memcmp(k.mv_data, key, key_size) == 0)
        e = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    mdb_cursor_close(c);
    if (e)
        return map_err(e, "iterating", diag);
    *out_key = k.mv_data;
    *out_key_size = k.mv_size;
    *out_val = v.mv_data;
    *out_val_size = v.mv_size;
    return 0;
}

static int lmdb_grow(eos_kv_backend *b, eos_diag *diag)
{
    lmdb_be *be = b->impl;
    MDB_envinfo info;
    pthread_rwlock_wrlock(&be->resize);
    mdb_env_info(be->env, &info);
    if (info.me_mapsize > atomic_load(&be->full_at)) {
        /* Another writer grew it since this one found it full. */
        pthread_rwlock_unlock(&be->resize);
        return 0;
    }
    size_t next = info.me_mapsize * 2;
    int e = next > info.me_mapsize ? mdb_env_set_mapsize(be->env, next) : ENOSPC;
    pthread_rwlock_unlock(&be->resize);
    if (e == 0)
        EOS_DEBUG("kv", "grew the LMDB map to %zu bytes", next);
    return map_err(e, "growing the map", diag);
}

static void lmdb_destroy(eos_kv_backend *b)
{
    lmdb_be *be = b->impl;
    while (be->pool) {
        eos_kv_btxn *t = be->pool;
        be->pool = t->next;
        mdb_txn_abort(t->txn);
        eos_free(t, sizeof *t);
    }
    if (be->env)
        mdb_env_close(be->env);
    pthread_rwlock_destroy(&be->resize);
    pthread_mutex_destroy(&be->pool_lock);
    eos_free(be, sizeof *be);
}

static const eos_kv_backend_ops lmdb_ops = {
    .name = "lmdb",
    .begin = lmdb_begin,
    .commit = lmdb_commit,
    .abort = lmdb_abort,
    .get = lmdb_get,
    .put = lmdb_put,
    .del = lmdb_del,
    .seek = lmdb_seek,
    .grow = lmdb_grow,
    .destroy = lmdb_destroy,
};

/* Whether every page from have_pages up to need_pages is in the free list
 * (the FREE_DBI records, by freeing transaction, a count then page numbers).
 * The file must already reach need_pages, so that reading a cut-off part of
 * the free list's own tree finds zeros (an LMDB error), not a fault. */
static int missing_pages_are_free(lmdb_be *be, uint64_t have_pages, uint64_t need_pages)
{
    uint64_t missing = need_pages - have_pages;
    uint8_t *seen = eos_calloc(1, (size_t)(missing + 7) / 8);
    if (!seen)
        return 0;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val key, val;
    uint64_t found = 0;
    if (mdb_txn_begin(be->env, NULL, MDB_RDONLY, &txn) == 0 &&
        mdb_cursor_open(txn, 0, &cur) == 0) {
        int e = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
        for (; e == 0; e = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
            size_t n = 0;
            if (val.mv_size < sizeof n)
                break;
            memcpy(&n, val.mv_data, sizeof n);
            if (n > val.mv_size / sizeof n - 1)
                break;
            for (size_t i = 1; i <= n; i++) {
                size_t pg;
                memcpy(&pg, (const uint8_t *)val.mv_data + i * sizeof pg, sizeof pg);
                if (pg < have_pages || pg >= need_pages)
                    continue;
                uint64_t bit = pg - have_pages;
                if (!(seen[bit / 8] & (1u << (bit % 8)))) {
                    seen[bit / 8] |= (uint8_t)(1u << (bit % 8));
                    found++;
                }
            }
        }
    }
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    eos_free(seen, (size_t)(missing + 7) / 8);
    return found == missing;
}

/* LMDB trusts the file to hold every page its meta page mentions; a file cut
 * short by the host would fault (SIGBUS) on first touch, so check first.
 * LMDB itself leaves the file short when the highest pages were allocated and
 * freed by one transaction (it never writes those "loose" pages): a shortfall
 * made only of free pages is extended with zeros, any other is refused. */
static int check_file_size(lmdb_be *be, const char *path, eos_diag *diag)
{
    MDB_envinfo info;
    MDB_stat st;
    struct stat fs;
    int fd = -1;
    if (mdb_env_info(be->env, &info) || mdb_env_stat(be->env, &st) || stat(path, &fs) ||
        mdb_env_get_fd(be->env, &fd))
        return eos_diag_set(diag, EOS_ESTORE, "lmdb", -1, "cannot inspect %s", path);
    uint64_t need = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    if ((uint64_t)fs.st_size >= need)
        return 0;
    uint64_t have_pages = (uint64_t)fs.st_size / st.ms_psize;
    if (have_pages >= 2 && ftruncate(fd, (off_t)need) == 0) {
        if (missing_pages_are_free(be, have_pages, need / st.ms_psize)) {
            EOS_INFO("kv", "extended %s by %llu free pages LMDB had not written", path,
                      (unsigned long long)(need / st.ms_psize - have_pages));
            return 0;
        }
        if (ftruncate(fd, fs.st_size) != 0)
            EOS_WARN("kv", "cannot restore the size of %s: %s", path, strerror(errno));
    }
    return eos_diag_set(diag, EOS_ECORRUPT, "lmdb", fs.st_size,
                        "the data file %s is %lld bytes but its pages need %llu: it was "
                        "truncated; restore it from a backup",
                        path, (long long)fs.st_size, (unsigned long long)need);
}

int eos_kv_backend_lmdb(const eos_kv_lmdb_config *cfg, eos_kv_backend **out, eos_diag *diag)
{
    int rc = 0, e;
    MDB_txn *txn = NULL;
    pthread_rwlockattr_t attr;
    lmdb_be *be = eos_calloc(1, sizeof *be);
    if (!be)
        return eos_diag_set(diag, EOS_ENOMEM, "lmdb", -1, "out of memory opening LMDB");
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&be->resize, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&be->pool_lock, NULL);
    be->base.ops = &lmdb_ops;
    be->base.impl = be;
    size_t map = cfg->initial_map_size ? cfg->initial_map_size : DEFAULT_MAP_SIZE;
    if ((e = mdb_env_create(&be->env)) != 0) {
        rc = map_err(e, "creating the environment", diag);
        goto out;
    }
    if ((e = mdb_env_set_maxreaders(be->env, MAX_READERS)) != 0 ||
        (e = mdb_env_set_mapsize(be->env, map)) != 0) {
        rc = map_err(e, "configuring the environment", diag);
        goto out;
    }
    /* MDB_NOTLS: read transactions belong to handles, not threads, so they can
     * be pooled. No MDB_NOSYNC or MDB_NOMETASYNC: a commit is on disk when it
     * returns. */
    e = mdb_env_open(be->env, cfg->path, MDB_NOSUBDIR | MDB_NOTLS, 0600);
    if (e) {
        rc = map_err(e, "opening the data file", NULL);
        eos_diag_set(diag, rc, "lmdb", -1,
                     "cannot open the data file %s: %s; check that its directory exists "
                     "and is writable",
                     cfg->path, mdb_strerror(e));
        goto out;
    }
    if ((rc = check_file_size(be, cfg->path, diag)) != 0)
        goto out;
    /* Reader slots left by a process killed mid-read would pin old pages
     * and make the file grow; free them. */
    int dead = 0;
    mdb_reader_check(be->env, &dead);
    if ((e = mdb_txn_begin(be->env, NULL, 0, &txn)) != 0) {
        rc = map_err(e, "opening the database", diag);
        goto out;
    }
    if ((e = mdb_dbi_open(txn, NULL, 0, &be->dbi)) != 0) {
        mdb_txn_abort(txn);
        rc = map_err(e, "opening the database", diag);
        goto out;
    }
    if ((e = mdb_txn_commit(txn)) != 0) {
        rc = map_err(e, "opening the database", diag);
        goto out;
    }
    *out = &be->base;
    be = NULL;
out:
    if (be)
        lmdb_destroy(&be->base);
    return rc;
}

void eos_kv_backend_free(eos_kv_backend *b)
{
    if (b && b->ops->destroy)
        b->ops->destroy(b);
}
