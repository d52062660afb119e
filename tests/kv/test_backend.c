/* The backend contract that the encryption layer relies on, checked on every
 * backend (a future networked backend adds itself here): get, put, del,
 * seek in bytewise order, commit, abort undoing puts and deletes, and
 * growth after EOS_ELIMIT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eos/kv.h"
#include "harness.h"
#include "kv_testutil.h"

static eos_kv_backend *be;
static char *dir;

#define B(s) (const uint8_t *)(s), strlen(s)

static eos_kv_btxn *begin(int write)
{
    eos_kv_btxn *t = NULL;
    EOS_CHECK_INT(be->ops->begin(be, write, &t, NULL), 0);
    return t;
}

static void expect_value(const char *key, const char *want)
{
    eos_kv_btxn *t = begin(0);
    const uint8_t *v = NULL;
    size_t n = 0;
    int rc = be->ops->get(t, B(key), &v, &n, NULL);
    if (want) {
        EOS_CHECK_INT(rc, 0);
        if (rc == 0)
            EOS_CHECK_MEM(v, n, want, strlen(want));
    } else {
        EOS_CHECK_INT(rc, EOS_ENOTFOUND);
    }
    be->ops->abort(t);
}

static void test_put_get_del(void)
{
    eos_kv_btxn *t = begin(1);
    EOS_CHECK_INT(be->ops->put(t, B("b"), B("2"), NULL), 0);
    EOS_CHECK_INT(be->ops->put(t, B("a"), B("1"), NULL), 0);
    EOS_CHECK_INT(be->ops->put(t, B("c"), B(""), NULL), 0);
    EOS_CHECK_INT(be->ops->put(t, B("b"), B("22"), NULL), 0);
    EOS_CHECK_INT(be->ops->del(t, B("zz"), NULL), EOS_ENOTFOUND);
    EOS_CHECK_INT(be->ops->commit(t, NULL), 0);
    expect_value("a", "1");
    expect_value("b", "22");
    expect_value("c", "");
    expect_value("d", NULL);
    t = begin(1);
    EOS_CHECK_INT(be->ops->del(t, B("a"), NULL), 0);
    EOS_CHECK_INT(be->ops->commit(t, NULL), 0);
    expect_value("a", NULL);
}

static void test_abort_undoes(void)
{
    eos_kv_btxn *t = begin(1);
    EOS_CHECK_INT(be->ops->put(t, B("u1"), B("orig"), NULL), 0);
    EOS_CHECK_INT(be->ops->put(t, B("u2"), B("keep"), NULL), 0);
    EOS_CHECK_INT(be->ops->commit(t, NULL), 0);
    t = begin(1);
    EOS_CHECK_INT(be->ops->put(t, B("u1"), B("changed"), NULL), 0);
    EOS_CHECK_INT(be->ops->put(t, B("u1"), B("changed twice"), NULL), 0);
    EOS_CHECK_INT(be->ops->del(t, B("u2"), NULL), 0);
    EOS_CHECK_INT(be->ops->put(t, B("u3"), B("new"), NULL), 0);
    EOS_CHECK_INT(be->ops->del(t, B("u3"), NULL), 0);
    EOS_CHECK_INT(be->ops->put(t, B("u4"), B("new"), NULL), 0);
    const uint8_t *v = NULL;
    size_t n = 0;
    EOS_CHECK_INT(be->ops->get(t, B("u1"), &v, &n, NULL), 0); /* a writer sees its writes */
    EOS_CHECK_MEM(v, n, "changed twice", 13);
    EOS_CHECK_INT(be->ops->get(t, B("u2"), &v, &n, NULL), EOS_ENOTFOUND);
    be->ops->abort(t);
    expect_value("u1", "orig");
    expect_value("u2", "keep");
    expect_value("u3", NULL);
    expect_value("u4", NULL);
}

static void test_seek_order(void)
{
    static const char *keys[] = {"s\x01", "s\x7f", "s\x80", "s\xff", "s\xff\x00", "sa", "sab"};
    eos_kv_btxn *t = begin(1);
    for (int i = 6; i >= 0; i--)
        EOS_CHECK_INT(
            be->ops->put(t, (const uint8_t *)keys[i], i == 4 ? 3 : strlen(keys[i]), B("x"), NULL),
            0);
    EOS_CHECK_INT(be->ops->commit(t, NULL), 0);
    /* Bytewise unsigned order, a prefix before its extensions ('a' is 0x61). */
    static const char *order[] = {"s\x01", "sa", "sab", "s\x7f", "s\x80", "s\xff", "s\xff\x00"};
    static const size_t order_size[] = {2, 2, 3, 2, 2, 2, 3};
    t = begin(0);
    const uint8_t *k = NULL, *v = NULL;
    size_t ks = 0, vs = 0;
    uint8_t pos[8] = "s";
    size_t pos_size = 1;
    int after = 0;
    for (int i = 0; i < 7; i++) {
        EOS_CHECK_INT(be->ops->seek(t, pos, pos_size, after, &k, &ks, &v, &vs, NULL), 0);
        EOS_CHECK_MEM(k, ks, order[i], order_size[i]);
        memcpy(pos, k, ks);
        pos_size = ks;
        after = 1;
    }
    int rc = be->ops->seek(t, pos, pos_size, 1, &k, &ks, &v, &vs, NULL);
    EOS_CHECK(rc == EOS_ENOTFOUND || (rc == 0 && k[0] > 's'));
    /* Inclusive seek lands on an existing key; exclusive skips it. */
    EOS_CHECK_INT(be->ops->seek(t, B("sa"), 0, &k, &ks, &v, &vs, NULL), 0);
    EOS_CHECK_MEM(k, ks, "sa", 2);
    EOS_CHECK_INT(be->ops->seek(t, B("sa"), 1, &k, &ks, &v, &vs, NULL), 0);
    EOS_CHECK_MEM(k, ks, "sab", 3);
    EOS_CHECK_INT(be->ops->seek(t, B("zzzz"), 0, &k, &ks, &v, &vs, NULL), EOS_ENOTFOUND);
    be->ops->abort(t);
}

static void test_full_then_grow(void)
{
    if (!be->ops->grow)
        return;
    static uint8_t big[100000];
    int grown = 0;
    for (int i = 0; i < 40; i++) {
        char key[16];
        snprintf(key, sizeof key, "big%d", i);
        for (int attempt = 0; attempt < 10; attempt++) {
            eos_kv_btxn *t = begin(1);
            int rc = be->ops->put(t, B(key), big, sizeof big, NULL);
            if (rc == 0)
                rc = be->ops->commit(t, NULL);
            else
                be->ops->abort(t);
            if (rc != EOS_ELIMIT) {
                EOS_CHECK_INT(rc, 0);
                break;
            }
            EOS_CHECK_INT(be->ops->grow(be, NULL), 0);
            grown++;
        }
    }
    EOS_CHECK(grown > 0);
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* LMDB never writes pages that one transaction both allocated and freed, so
 * its file can end before the last page its meta page names. Such a file is
 * intact: it must reopen (the free tail is filled in), not be taken for one
 * the host cut short. Random puts and deletes of small and overflow values
 * leave such a tail within a few transactions; every reopen checks every
 * value against a model. */
static uint32_t next_random(uint32_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}

static void test_lmdb_unwritten_free_tail(void)
{
    enum { KEYS = 500 };
    static int model[KEYS]; /* value size, or -1 when absent */
    static uint8_t value[9000];
    char path[4200], key[32];
    snprintf(path, sizeof path, "%s/tail.mdb", dir);
    eos_kv_lmdb_config cfg = {.path = path};
    EOS_CHECK_INT(eos_kv_backend_lmdb(&cfg, &be, NULL), 0);
    for (int i = 0; i < KEYS; i++)
        model[i] = -1;
    /* This seed leaves a free tail after its fourth transaction with the
     * LMDB of Debian 12 (0.9.24). */
    uint32_t rng = 4;
    for (int round = 0; round < 4; round++) {
        eos_kv_btxn *t = begin(1);
        int ops = (int)(next_random(&rng) % 50) + 1;
        for (int j = 0; j < ops; j++) {
            int k = (int)(next_random(&rng) % KEYS);
            snprintf(key, sizeof key, "k%06d", k);
            if (next_random(&rng) % 3 == 0) {
                int rc = be->ops->del(t, B(key), NULL);
                EOS_CHECK(rc == 0 || rc == EOS_ENOTFOUND);
                model[k] = -1;
            } else {
                uint32_t cap = next_random(&rng) % 2 ? 300 : 9000;
                int n = (int)(next_random(&rng) % cap);
                memset(value, k & 0xff, (size_t)n);
                EOS_CHECK_INT(be->ops->put(t, B(key), value, (size_t)n, NULL), 0);
                model[k] = n;
            }
        }
        EOS_CHECK_INT(be->ops->commit(t, NULL), 0);
    }
    eos_kv_backend_free(be);
    long long before = file_size(path);
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_kv_backend_lmdb(&cfg, &be, &d);
    if (rc) {
        fprintf(stderr, "    reopen: %s\n", d.message);
        EOS_CHECK_INT(rc, 0);
        return;
    }
    EOS_CHECK(file_size(path) > before); /* the tail was missing, and is now there */
    eos_kv_btxn *t = begin(0);
    for (int k = 0; k < KEYS; k++) {
        snprintf(key, sizeof key, "k%06d", k);
        const uint8_t *v = NULL;
        size_t n = 0;
        int got = be->ops->get(t, B(key), &v, &n, NULL);
        if (model[k] < 0) {
            EOS_CHECK_INT(got, EOS_ENOTFOUND);
            continue;
        }
        EOS_CHECK_INT(got, 0);
        EOS_CHECK_INT((long long)n, model[k]);
        for (size_t i = 0; got == 0 && i < n; i++)
            if (v[i] != (uint8_t)(k & 0xff)) {
                EOS_CHECK(!"value changed across a reopen");
                break;
            }
    }
    be->ops->abort(t);
    eos_kv_backend_free(be);
}

static void run_all(const char *name)
{
    fprintf(stderr, "-- %s backend\n", name);
    EOS_RUN(test_put_get_del);
    EOS_RUN(test_abort_undoes);
    EOS_RUN(test_seek_order);
    EOS_RUN(test_full_then_grow);
    eos_kv_backend_free(be);
}

int main(void)
{
    dir = kvt_mkdtemp();
    char path[4200];
    snprintf(path, sizeof path, "%s/b.mdb", dir);
    eos_kv_lmdb_config cfg = {.path = path, .initial_map_size = 256 * 1024};
    EOS_CHECK_INT(eos_kv_backend_lmdb(&cfg, &be, NULL), 0);
    run_all("lmdb");
    EOS_RUN(test_lmdb_unwritten_free_tail);
    EOS_CHECK_INT(eos_kv_backend_memory(&be), 0);
    run_all("memory");
    kvt_rmdir(dir);
    return eos_test_finish();
}
