/* The backend contract that the encryption layer relies on, checked on every
 * backend (a future networked backend adds itself here): get, put, del,
 * seek in bytewise order, commit, abort undoing puts and deletes, and
 * growth after EOS_ELIMIT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eos/kv.h"
#include "harness.h"
#include "kv_testutil.h"

static eos_kv_backend *be;

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
    char *dir = kvt_mkdtemp();
    char path[4200];
    snprintf(path, sizeof path, "%s/b.mdb", dir);
    eos_kv_lmdb_config cfg = {.path = path, .initial_map_size = 256 * 1024};
    EOS_CHECK_INT(eos_kv_backend_lmdb(&cfg, &be, NULL), 0);
    run_all("lmdb");
    EOS_CHECK_INT(eos_kv_backend_memory(&be), 0);
    run_all("memory");
    kvt_rmdir(dir);
    return eos_test_finish();
}
