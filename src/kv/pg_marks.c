/* What makes PostgreSQL rows trustworthy to a node: versions from a hybrid
 * clock, row tags that bind key, version and value under a key of the
 * store's, and the per-node high-water marks that catch a replayed row. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "internal.h"

#define MARK_SLOTS  (1u << 16)
#define MAX_ROW_KEY 1024

/* The highest version this process has seen committed for a key, and the
 * local sequence number at which it learnt it: a transaction that started
 * after that point must see at least that version. */
typedef struct mark {
    uint8_t id[16];
    int64_t ver;
    uint64_t seq;
    eos_kv__pg_rowkey rk;
} mark;

struct eos_kv__pg_marks {
    atomic_int_fast64_t hlc; /* last version handed out or seen */
    pthread_mutex_t lock;
    uint64_t seq;
    uint64_t exported_seq; /* seq at the last export */
    mark *slots;
};

int64_t eos_kv__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int eos_kv__pg_marks_new(eos_kv__pg_marks **out)
{
    eos_kv__pg_marks *m = eos_calloc(1, sizeof *m);
    if (!m)
        return EOS_ENOMEM;
    m->slots = eos_calloc(MARK_SLOTS, sizeof *m->slots);
    if (!m->slots) {
        eos_free(m, sizeof *m);
        return EOS_ENOMEM;
    }
    pthread_mutex_init(&m->lock, NULL);
    *out = m;
    return 0;
}

void eos_kv__pg_marks_free(eos_kv__pg_marks *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    eos_free(m->slots, MARK_SLOTS * sizeof *m->slots);
    eos_free(m, sizeof *m);
}

/* Versions are a hybrid clock: microseconds of wall time, pushed past every
 * version seen, so a key's versions grow across nodes whose clocks differ. */
int64_t eos_kv__pg_hlc_next(eos_kv__pg_marks *m, int64_t floor)
{
    int64_t cur = atomic_load(&m->hlc), next;
    do {
        next = eos_kv__now_us();
        if (next <= cur)
            next = cur + 1;
        if (next <= floor)
            next = floor + 1;
    } while (!atomic_compare_exchange_weak(&m->hlc, &cur, next));
    return next;
}

void eos_kv__pg_hlc_observe(eos_kv__pg_marks *m, int64_t ver)
{
    int64_t cur = atomic_load(&m->hlc);
    while (cur < ver && !atomic_compare_exchange_weak(&m->hlc, &cur, ver))
        ;
}

void eos_kv__pg_key_id(const uint8_t *k, size_t ks, uint8_t id[16])
{
    uint8_t h[SHA256_DIGEST_LENGTH];
    SHA256(k, ks, h);
    memcpy(id, h, 16);
}

static mark *slot_of(eos_kv__pg_marks *m, const uint8_t id[16])
{
    uint32_t i = (uint32_t)id[0] | (uint32_t)id[1] << 8 | (uint32_t)id[2] << 16;
    return &m->slots[i & (MARK_SLOTS - 1)];
}

uint64_t eos_kv__pg_marks_seq(eos_kv__pg_marks *m)
{
    pthread_mutex_lock(&m->lock);
    uint64_t s = m->seq;
    pthread_mutex_unlock(&m->lock);
    return s;
}

void eos_kv__pg_rowkey_set(eos_kv__pg_rowkey *rk, const uint8_t *k, size_t ks)
{
    rk->size = ks <= sizeof rk->k ? (uint8_t)ks : 0;
    if (rk->size)
        memcpy(rk->k, k, ks);
}

int eos_kv__pg_mark_check(eos_kv__pg_marks *m, const uint8_t id[16], const uint8_t *k, size_t ks,
                          int64_t ver, uint64_t start_seq, int64_t *out_mark)
{
    int rc = 0;
    pthread_mutex_lock(&m->lock);
    mark *s = slot_of(m, id);
    if (memcmp(s->id, id, 16) == 0 && s->ver) {
        if (ver < s->ver && s->seq <= start_seq) {
            *out_mark = s->ver;
            rc = EOS_ECORRUPT;
        } else if (ver > s->ver) {
            s->ver = ver;
            s->seq = ++m->seq;
            if (!s->rk.size)
                eos_kv__pg_rowkey_set(&s->rk, k, ks);
        }
    } else {
        memcpy(s->id, id, 16);
        s->ver = ver;
        s->seq = ++m->seq;
        eos_kv__pg_rowkey_set(&s->rk, k, ks);
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

void eos_kv__pg_mark_commit(eos_kv__pg_marks *m, const uint8_t id[16], const eos_kv__pg_rowkey *rk,
                            int64_t ver, int deleted)
{
    pthread_mutex_lock(&m->lock);
    mark *s = slot_of(m, id);
    if (deleted) {
        /* A deleted key may come back at any version. */
        if (memcmp(s->id, id, 16) == 0) {
            memset(s, 0, sizeof *s);
            ++m->seq;
        }
    } else if (memcmp(s->id, id, 16) != 0 || ver > s->ver) {
        memcpy(s->id, id, 16);
        s->ver = ver;
        s->seq = ++m->seq;
        s->rk = *rk;
    }
    pthread_mutex_unlock(&m->lock);
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

#define MARKS_MAGIC "EOSMARK1"
#define MARKS_HEAD  (8 + 8 + 4)

int eos_kv__pg_marks_export(eos_kv__pg_marks *m, int force, uint8_t **out, size_t *out_size)
{
    int rc = 0;
    pthread_mutex_lock(&m->lock);
    if (!force && m->seq == m->exported_seq) {
        rc = EOS_ENOTFOUND;
        goto out;
    }
    size_t count = 0, size = MARKS_HEAD;
    for (size_t i = 0; i < MARK_SLOTS; i++)
        if (m->slots[i].ver) {
            count++;
            size += 16 + 8 + 1 + m->slots[i].rk.size;
        }
    uint8_t *b = eos_malloc(size), *p = b + MARKS_HEAD;
    if (!b) {
        rc = EOS_ENOMEM;
        goto out;
    }
    memcpy(b, MARKS_MAGIC, 8);
    put64(b + 8, (uint64_t)atomic_load(&m->hlc));
    for (int i = 0; i < 4; i++)
        b[16 + i] = (uint8_t)(count >> (24 - 8 * i));
    for (size_t i = 0; i < MARK_SLOTS; i++) {
        const mark *s = &m->slots[i];
        if (!s->ver)
            continue;
        memcpy(p, s->id, 16);
        put64(p + 16, (uint64_t)s->ver);
        p[24] = s->rk.size;
        memcpy(p + 25, s->rk.k, s->rk.size);
        p += 25 + s->rk.size;
    }
    m->exported_seq = m->seq;
    *out = b;
    *out_size = size;
out:
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int newer_first(const void *a, const void *b)
{
    int64_t x = ((const mark *)a)->ver, y = ((const mark *)b)->ver;
    return x > y ? -1 : x < y;
}

int eos_kv__pg_marks_import(eos_kv__pg_marks *m, const uint8_t *in, size_t size, size_t max_keys,
                            eos_kv__pg_rowkey **keys, size_t *nkeys)
{
    *keys = NULL;
    *nkeys = 0;
    if (size < MARKS_HEAD || memcmp(in, MARKS_MAGIC, 8) != 0)
        return EOS_ECORRUPT;
    uint64_t clock = get64(in + 8);
    size_t count = (size_t)in[16] << 24 | (size_t)in[17] << 16 | (size_t)in[18] << 8 | in[19];
    if (count > MARK_SLOTS)
        return EOS_ECORRUPT;
    /* Parsed whole into a list first: a file that does not parse loads nothing. */
    mark *list = eos_calloc(count ? count : 1, sizeof *list);
    if (!list)
        return EOS_ENOMEM;
    const uint8_t *p = in + MARKS_HEAD, *end = in + size;
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        if ((size_t)(end - p) < 25 || p[24] > sizeof list[i].rk.k ||
            (size_t)(end - p) < 25u + p[24] || (int64_t)get64(p + 16) <= 0) {
            rc = EOS_ECORRUPT;
            goto out;
        }
        memcpy(list[i].id, p, 16);
        list[i].ver = (int64_t)get64(p + 16);
        list[i].rk.size = p[24];
        memcpy(list[i].rk.k, p + 25, p[24]);
        p += 25 + p[24];
    }
    if (p != end) {
        rc = EOS_ECORRUPT;
        goto out;
    }
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < count; i++) {
        mark *s = slot_of(m, list[i].id);
        if (!s->ver || s->ver < list[i].ver) {
            *s = list[i];
            s->seq = 0; /* set before any transaction of this process */
        }
    }
    m->exported_seq = m->seq;
    pthread_mutex_unlock(&m->lock);
    eos_kv__pg_hlc_observe(m, (int64_t)(clock > INT64_MAX ? 0 : clock));
    qsort(list, count, sizeof *list, newer_first);
    size_t n = 0;
    for (size_t i = 0; i < count && n < max_keys; i++)
        n += list[i].rk.size != 0;
    if (n) {
        *keys = eos_calloc(n, sizeof **keys);
        if (!*keys) {
            rc = EOS_ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < count && *nkeys < n; i++)
            if (list[i].rk.size)
                (*keys)[(*nkeys)++] = list[i].rk;
    }
out:
    eos_free(list, (count ? count : 1) * sizeof *list);
    return rc;
}

int eos_kv__pg_row_tag(const uint8_t key[EOS_KV__KEY_SIZE], const uint8_t *k, size_t ks,
                       int64_t ver, const uint8_t *v, size_t vs, uint8_t out[EOS_KV__PG_TAG_SIZE])
{
    uint8_t msg[8 + 4 + MAX_ROW_KEY + SHA256_DIGEST_LENGTH], full[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    uint64_t u = (uint64_t)ver;
    if (ks > MAX_ROW_KEY)
        return EOS_EINVAL;
    for (int i = 0; i < 8; i++)
        msg[i] = (uint8_t)(u >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        msg[8 + i] = (uint8_t)(ks >> (24 - 8 * i));
    memcpy(msg + 12, k, ks);
    SHA256(vs ? v : msg, vs, msg + 12 + ks);
    if (!HMAC(EVP_sha256(), key, EOS_KV__KEY_SIZE, msg, 12 + ks + SHA256_DIGEST_LENGTH, full, &n))
        return EOS_ECRYPTO;
    memcpy(out, full, EOS_KV__PG_TAG_SIZE);
    return 0;
}

/* Newest sealed marks whose rows are read at start; older ones are checked
 * when their rows are read. */
#define START_CHECKS 1000

int eos_kv__pg_marks_restore(eos_kv_backend *b, eos_kv__pg_marks *m, const char *table,
                             const uint8_t *in, size_t size, eos_diag *diag)
{
    eos_kv__pg_rowkey *keys = NULL;
    size_t n = 0, checked = 0;
    eos_kv_btxn *t = NULL;
    int rc = eos_kv__pg_marks_import(m, in, size, START_CHECKS, &keys, &n);
    if (rc) {
        rc = eos_diag_set(diag, rc, "postgres", -1, "the sealed high-water marks do not parse");
        goto out;
    }
    if (n && (rc = b->ops->begin(b, 0, &t, diag)) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *v = NULL;
        size_t vs = 0;
        rc = b->ops->get(t, keys[i].k, keys[i].size, &v, &vs, diag);
        if (rc == EOS_ENOTFOUND) {
            rc = 0; /* deleted since: a deleted key may come back at any version */
            eos_diag_init(diag);
        }
        if (rc)
            goto out;
        checked++;
    }
    EOS_INFO("postgres",
             "checked the %zu newest of this node's sealed high-water marks against table %s",
             checked, table);
out:
    if (t)
        b->ops->abort(t);
    eos_free(keys, n * sizeof *keys);
    return rc;
}
