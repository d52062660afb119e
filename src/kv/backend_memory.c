/* An in-memory backend: a sorted array behind one lock, with an undo log so
 * a write transaction can be aborted. For tests and ephemeral state; it
 * shows that the store needs nothing from LMDB beyond the vtable. */
#include <string.h>

#include "internal.h"

typedef struct mem_entry {
    uint8_t *key;
    size_t key_size;
    uint8_t *val;
    size_t val_size;
} mem_entry;

typedef struct mem_undo {
    mem_entry old; /* old.val == NULL with old.key set: the key was absent */
    int had;
} mem_undo;

typedef struct mem_be {
    eos_kv_backend base;
    pthread_mutex_t lock; /* held by every transaction for its whole life */
    mem_entry *e;
    size_t n, cap;
} mem_be;

struct eos_kv_btxn {
    mem_be *be;
    int write;
    mem_undo *undo;
    size_t nundo, capundo;
};

static int cmp(const uint8_t *a, size_t as, const uint8_t *b, size_t bs)
{
    int c = memcmp(a, b, as < bs ? as : bs);
    return c ? c : (as > bs) - (as < bs);
}

/* Index of the first entry >= key. */
static size_t lower_bound(mem_be *be, const uint8_t *key, size_t key_size)
{
    size_t lo = 0, hi = be->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp(be->e[mid].key, be->e[mid].key_size, key, key_size) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int found_at(mem_be *be, size_t i, const uint8_t *key, size_t key_size)
{
    return i < be->n && cmp(be->e[i].key, be->e[i].key_size, key, key_size) == 0;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *d = eos_malloc(n);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static int mem_begin(eos_kv_backend *b, int write, eos_kv_btxn **out, eos_diag *diag)
{
    mem_be *be = b->impl;
    eos_kv_btxn *t = eos_calloc(1, sizeof *t);
    if (!t)
        return eos_diag_set(diag, EOS_ENOMEM, "memory backend", -1, "out of memory");
    t->be = be;
    t->write = write;
    pthread_mutex_lock(&be->lock);
    *out = t;
    return 0;
}

static void free_entry(mem_entry *e)
{
    eos_free(e->key, e->key_size);
    eos_free(e->val, e->val_size);
}

static void end(eos_kv_btxn *t)
{
    for (size_t i = 0; i < t->nundo; i++)
        free_entry(&t->undo[i].old);
    eos_free(t->undo, t->capundo * sizeof *t->undo);
    pthread_mutex_unlock(&t->be->lock);
    eos_free(t, sizeof *t);
}

static int mem_commit(eos_kv_btxn *t, eos_diag *diag)
{
    end(t);
    return 0;
}

/* Puts entry e (ownership taken) in place of key, or removes key when
 * e->val is NULL; used both forwards and by undo. */
static void place(mem_be *be, mem_entry *e, mem_entry *out_old, int *out_had)
{
    size_t i = lower_bound(be, e->key, e->key_size);
    int had = found_at(be, i, e->key, e->key_size);
    if (out_had)
        *out_had = had;
    if (had) {
        if (out_old)
            *out_old = be->e[i];
        else
            free_entry(&be->e[i]);
        if (e->val) {
            be->e[i] = *e;
        } else {
            eos_free(e->key, e->key_size);
            memmove(be->e + i, be->e + i + 1, (be->n - i - 1) * sizeof *be->e);
            be->n--;
        }
    } else if (e->val) {
        /* Capacity was reserved by the caller. */
        memmove(be->e + i + 1, be->e + i, (be->n - i) * sizeof *be->e);
        be->e[i] = *e;
        be->n++;
    } else {
        eos_free(e->key, e->key_size);
    }
}

static void mem_abort(eos_kv_btxn *t)
{
    mem_be *be = t->be;
    while (t->nundo) {
        mem_undo *u = &t->undo[--t->nundo];
        mem_entry e = u->old;
        if (!u->had) {
            eos_free(e.val, e.val_size);
            e.val = NULL;
        }
        place(be, &e, NULL, NULL);
    }
    end(t);
}

static int mem_get(eos_kv_btxn *t, const uint8_t *key, size_t key_size, const uint8_t **out_val,
                   size_t *out_val_size, eos_diag *diag)
{
    size_t i = lower_bound(t->be, key, key_size);
    if (!found_at(t->be, i, key, key_size))
        return EOS_ENOTFOUND;
    *out_val = t->be->e[i].val;
    *out_val_size = t->be->e[i].val_size;
    return 0;
}

static int change(eos_kv_btxn *t, const uint8_t *key, size_t key_size, const uint8_t *val,
                  size_t val_size, eos_diag *diag)
{
    mem_be *be = t->be;
    mem_entry e = {dup_bytes(key, key_size), key_size, NULL, val_size};
    mem_entry old = {0};
    int had = 0;
    if (!e.key)
        goto nomem;
    if (val && !(e.val = dup_bytes(val, val_size)))
        goto nomem;
    if (t->nundo == t->capundo) {
        size_t c = t->capundo ? 2 * t->capundo : 8;
        mem_undo *u = eos_realloc(t->undo, t->capundo * sizeof *u, c * sizeof *u);
        if (!u)
            goto nomem;
        t->undo = u;
        t->capundo = c;
    }
    if (be->n == be->cap) {
        size_t c = be->cap ? 2 * be->cap : 64;
        mem_entry *a = eos_realloc(be->e, be->cap * sizeof *a, c * sizeof *a);
        if (!a)
            goto nomem;
        be->e = a;
        be->cap = c;
    }
    mem_entry keycopy = {dup_bytes(key, key_size), key_size, NULL, 0};
    if (!keycopy.key)
        goto nomem;
    place(be, &e, &old, &had);
    if (!had) {
        old = keycopy;
    } else {
        eos_free(keycopy.key, key_size);
    }
    t->undo[t->nundo].old = old;
    t->undo[t->nundo].had = had;
    t->nundo++;
    return 0;
nomem:
    free_entry(&e);
    return eos_diag_set(diag, EOS_ENOMEM, "memory backend", -1, "out of memory");
}

static int mem_put(eos_kv_btxn *t, const uint8_t *key, size_t key_size, const uint8_t *val,
                   size_t val_size, eos_diag *diag)
{
    /* A non-NULL pointer marks "present" even for an empty value. */
    return change(t, key, key_size, val ? val : key, val_size, diag);
}

static int mem_del(eos_kv_btxn *t, const uint8_t *key, size_t key_size, eos_diag *diag)
{
    size_t i = lower_bound(t->be, key, key_size);
    if (!found_at(t->be, i, key, key_size))
        return EOS_ENOTFOUND;
    return change(t, key, key_size, NULL, 0, diag);
}

static int mem_seek(eos_kv_btxn *t, const uint8_t *key, size_t key_size, int after,
                    const uint8_t **out_key, size_t *out_key_size, const uint8_t **out_val,
                    size_t *out_val_size, eos_diag *diag)
{
    mem_be *be = t->be;
    size_t i = lower_bound(be, key, key_size);
    if (after && found_at(be, i, key, key_size))
        i++;
    if (i >= be->n)
        return EOS_ENOTFOUND;
    *out_key = be->e[i].key;
    *out_key_size = be->e[i].key_size;
    *out_val = be->e[i].val;
    *out_val_size = be->e[i].val_size;
    return 0;
}

static void mem_destroy(eos_kv_backend *b)
{
    mem_be *be = b->impl;
    for (size_t i = 0; i < be->n; i++)
        free_entry(&be->e[i]);
    eos_free(be->e, be->cap * sizeof *be->e);
    pthread_mutex_destroy(&be->lock);
    eos_free(be, sizeof *be);
}

static const eos_kv_backend_ops mem_ops = {
    .name = "memory",
    .begin = mem_begin,
    .commit = mem_commit,
    .abort = mem_abort,
    .get = mem_get,
    .put = mem_put,
    .del = mem_del,
    .seek = mem_seek,
    .grow = NULL,
    .destroy = mem_destroy,
};

int eos_kv_backend_memory(eos_kv_backend **out)
{
    mem_be *be = eos_calloc(1, sizeof *be);
    if (!be)
        return EOS_ENOMEM;
    pthread_mutex_init(&be->lock, NULL);
    be->base.ops = &mem_ops;
    be->base.impl = be;
    *out = &be->base;
    return 0;
}
