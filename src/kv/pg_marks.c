/* What makes PostgreSQL rows trustworthy to a node: versions from a hybrid
 * clock, row tags that bind key, version and value under a key of the
 * store's, and the per-node high-water marks that catch a replayed row. */
#include <stdatomic.h>
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
} mark;

struct eos_kv__pg_marks {
    atomic_int_fast64_t hlc; /* last version handed out or seen */
    pthread_mutex_t lock;
    uint64_t seq;
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

int eos_kv__pg_mark_check(eos_kv__pg_marks *m, const uint8_t id[16], int64_t ver,
                          uint64_t start_seq, int64_t *out_mark)
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
        }
    } else {
        memcpy(s->id, id, 16);
        s->ver = ver;
        s->seq = ++m->seq;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

void eos_kv__pg_mark_commit(eos_kv__pg_marks *m, const uint8_t id[16], int64_t ver, int deleted)
{
    pthread_mutex_lock(&m->lock);
    mark *s = slot_of(m, id);
    if (deleted) {
        /* A deleted key may come back at any version. */
        if (memcmp(s->id, id, 16) == 0)
            memset(s, 0, sizeof *s);
    } else if (memcmp(s->id, id, 16) != 0 || ver > s->ver) {
        memcpy(s->id, id, 16);
        s->ver = ver;
        s->seq = ++m->seq;
    }
    pthread_mutex_unlock(&m->lock);
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
