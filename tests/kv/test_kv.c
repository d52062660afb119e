/* The store's operations and their error paths, on LMDB and on the
 * in-memory backend (or, when KV_TEST_PG names a file holding a libpq
 * connection string, on PostgreSQL): get/set/delete/exists, increment,
 * compare-and-swap, batches, listing with cursors, transactions, namespace
 * isolation and erasure, reopening, map growth, threads and allocation
 * failures. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eos/kv.h"
#include "harness.h"
#include "kv_testutil.h"

static eos_tee *tee;
static char *dir;
static int use_memory;
static char *pg_conninfo;

static eos_kv *open_store(size_t map_size)
{
    eos_kv *kv = NULL;
    eos_diag d;
    eos_diag_init(&d);
    eos_kv_config cfg = {.data_dir = dir, .tee = tee, .initial_map_size = map_size};
    int rc = 0;
    if (use_memory)
        EOS_CHECK_INT(eos_kv_backend_memory(&cfg.backend), 0);
    if (pg_conninfo) {
        /* A table per data directory, as a store per directory on LMDB. */
        char table[64];
        kvt_table_name(dir, table, sizeof table);
        eos_kv_pg_config pc = {.conninfo = pg_conninfo, .table = table, .retry_ms = 5000};
        rc = eos_kv_backend_pg(&pc, &cfg.backend, &d);
        if (rc)
            fprintf(stderr, "    postgres: %s: %s\n", eos_err_name(rc), d.message);
        EOS_CHECK_INT(rc, 0);
    }
    rc = eos_kv_open(&cfg, &kv, &d);
    if (rc)
        fprintf(stderr, "    open: %s: %s\n", eos_err_name(rc), d.message);
    EOS_CHECK_INT(rc, 0);
    if (!kv) /* every later step needs the store */
        exit(eos_test_finish());
    return kv;
}

static eos_kv_ns *ns_open(eos_kv *kv, const char *name)
{
    eos_kv_ns *ns = NULL;
    EOS_CHECK_INT(eos_kv_ns_open(kv, name, &ns, NULL), 0);
    return ns;
}

#define S(str) str, strlen(str)
#define V(str) (const uint8_t *)(str), strlen(str)

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_value(eos_kv_ns *ns, const char *key, const char *want)
{
    uint8_t *v = NULL;
    size_t n = 0;
    int rc = eos_kv_get(ns, key, strlen(key), &v, &n, NULL);
    EOS_CHECK_INT(rc, 0);
    if (rc == 0)
        EOS_CHECK_MEM(v, n, want, strlen(want));
    eos_free(v, n);
}

static void test_basic(void)
{
    eos_kv *kv = open_store(0);
    eos_kv_ns *ns = ns_open(kv, "app:one");
    uint8_t *v = NULL;
    size_t n = 0;
    int ex = -1;
    EOS_CHECK_INT(eos_kv_get(ns, S("missing"), &v, &n, NULL), EOS_ENOTFOUND);
    EOS_CHECK_INT(eos_kv_exists(ns, S("missing"), &ex, NULL), 0);
    EOS_CHECK_INT(ex, 0);
    EOS_CHECK_INT(eos_kv_set(ns, S("k"), V("v1"), NULL), 0);
    check_value(ns, "k", "v1");
    EOS_CHECK_INT(eos_kv_set(ns, S("k"), V("second value"), NULL), 0);
    check_value(ns, "k", "second value");
    EOS_CHECK_INT(eos_kv_exists(ns, S("k"), &ex, NULL), 0);
    EOS_CHECK_INT(ex, 1);
    /* Empty values are values, distinct from absence. */
    EOS_CHECK_INT(eos_kv_set(ns, S("empty"), NULL, 0, NULL), 0);
    EOS_CHECK_INT(eos_kv_get(ns, S("empty"), &v, &n, NULL), 0);
    EOS_CHECK(v != NULL);
    EOS_CHECK_INT(n, 0);
    eos_free(v, n);
    /* Names are bytes: embedded NULs are fine. */
    EOS_CHECK_INT(eos_kv_set(ns, "a\0b", 3, V("nul"), NULL), 0);
    EOS_CHECK_INT(eos_kv_get(ns, "a\0c", 3, &v, &n, NULL), EOS_ENOTFOUND);
    EOS_CHECK_INT(eos_kv_get(ns, "a\0b", 3, &v, &n, NULL), 0);
    eos_free(v, n);
    EOS_CHECK_INT(eos_kv_delete(ns, S("k"), NULL), 0);
    EOS_CHECK_INT(eos_kv_delete(ns, S("k"), NULL), EOS_ENOTFOUND);
    EOS_CHECK_INT(eos_kv_get(ns, S("k"), &v, &n, NULL), EOS_ENOTFOUND);
    /* A large value goes through the heap envelope path. */
    size_t big = 300000;
    uint8_t *b = malloc(big);
    for (size_t i = 0; i < big; i++)
        b[i] = (uint8_t)(i * 7);
    EOS_CHECK_INT(eos_kv_set(ns, S("big"), b, big, NULL), 0);
    EOS_CHECK_INT(eos_kv_get(ns, S("big"), &v, &n, NULL), 0);
    EOS_CHECK_MEM(v, n, b, big);
    eos_free(v, n);
    free(b);
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
}

static void test_invalid(void)
{
    eos_kv *kv = open_store(0);
    eos_kv_ns *ns = ns_open(kv, "app:inv");
    eos_kv_ns *bad = NULL;
    eos_diag d;
    uint8_t *v = NULL;
    size_t n = 0;
    char *longname = calloc(1, EOS_KV_MAX_NAME_SIZE + 2);
    memset(longname, 'x', EOS_KV_MAX_NAME_SIZE + 1);
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_kv_set(ns, "", 0, V("x"), &d), EOS_EINVAL);
    EOS_CHECK(strstr(d.message, "key name") != NULL);
    EOS_CHECK_INT(eos_kv_set(ns, longname, EOS_KV_MAX_NAME_SIZE + 1, V("x"), NULL), EOS_EINVAL);
    EOS_CHECK_INT(eos_kv_set(ns, longname, EOS_KV_MAX_NAME_SIZE, V("x"), NULL), 0);
    EOS_CHECK_INT(eos_kv_get(ns, longname, EOS_KV_MAX_NAME_SIZE, &v, &n, NULL), 0);
    eos_free(v, n);
    EOS_CHECK_INT(eos_kv_get(ns, NULL, 3, &v, &n, NULL), EOS_EINVAL);
    EOS_CHECK_INT(
        eos_kv_set(ns, S("k"), (const uint8_t *)"x", (size_t)EOS_KV_MAX_VALUE_SIZE + 1, NULL),
        EOS_ETOOBIG);
    EOS_CHECK_INT(eos_kv_set(ns, S("k"), NULL, 5, NULL), EOS_EINVAL);
    EOS_CHECK_INT(eos_kv_ns_open(kv, "", &bad, NULL), EOS_EINVAL);
    EOS_CHECK_INT(eos_kv_erase_root(kv, "a/b", NULL), EOS_EINVAL);
    eos_kv_list_page page;
    EOS_CHECK_INT(eos_kv_list(ns, NULL, 0, "not-a-cursor", 10, &page, NULL), EOS_EINVAL);
    eos_kv_config cfg = {0};
    eos_kv *kv2 = NULL;
    EOS_CHECK_INT(eos_kv_open(&cfg, &kv2, NULL), EOS_EINVAL);
    if (!use_memory) {
        eos_kv_config missing = {.data_dir = "/nonexistent/eos-kv", .tee = tee};
        eos_diag_init(&d);
        EOS_CHECK_INT(eos_kv_open(&missing, &kv2, &d), EOS_ESTORE);
        EOS_CHECK(strstr(d.message, "/nonexistent/eos-kv/kv.mdb") != NULL);
    }
    free(longname);
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
}

static void test_isolation(void)
{
    eos_kv *kv = open_store(0);
    eos_kv_ns *a = ns_open(kv, "app:alpha");
    eos_kv_ns *b = ns_open(kv, "app:beta");
    eos_kv_ns *a2 = ns_open(kv, "app:alpha");
    uint8_t ka[EOS_KV_DBKEY_SIZE], kb[EOS_KV_DBKEY_SIZE];
    EOS_CHECK_INT(eos_kv_set(a, S("same"), V("from alpha"), NULL), 0);
    EOS_CHECK_INT(eos_kv_set(b, S("same"), V("from beta"), NULL), 0);
    check_value(a, "same", "from alpha");
    check_value(b, "same", "from beta");
    check_value(a2, "same", "from alpha"); /* a second handle derives the same keys */
    EOS_CHECK_INT(eos_kv_db_key(a, S("same"), ka), 0);
    EOS_CHECK_INT(eos_kv_db_key(b, S("same"), kb), 0);
    EOS_CHECK(memcmp(ka, kb, sizeof ka) != 0);
    EOS_CHECK_INT(eos_kv_delete(a, S("same"), NULL), 0);
    check_value(b, "same", "from beta");
    eos_kv_list_page page;
    EOS_CHECK_INT(eos_kv_list(a, NULL, 0, NULL, 0, &page, NULL), 0);
    EOS_CHECK_INT(page.count, 0);
    EOS_CHECK_STR(page.cursor, "");
    eos_kv_list_free(&page);
    EOS_CHECK_INT(eos_kv_list(b, NULL, 0, NULL, 0, &page, NULL), 0);
    EOS_CHECK_INT(page.count, 1);
    if (page.count == 1)
        EOS_CHECK_STR(page.keys[0], "same");
    eos_kv_list_free(&page);
    eos_kv_ns_close(a);
    eos_kv_ns_close(a2);
    eos_kv_ns_close(b);
    eos_kv_close(kv);
}

static void test_incr_cas(void)
{
    eos_kv *kv = open_store(0);
    eos_kv_ns *ns = ns_open(kv, "app:c");
    int64_t v = 0;
    EOS_CHECK_INT(eos_kv_incr(ns, S("n"), 5, &v, NULL), 0);
    EOS_CHECK_INT(v, 5);
    EOS_CHECK_INT(eos_kv_incr(ns, S("n"), -7, &v, NULL), 0);
    EOS_CHECK_INT(v, -2);
    EOS_CHECK_INT(eos_kv_incr(ns, S("n"), INT64_MIN, &v, NULL), EOS_ERANGE);
    EOS_CHECK_INT(eos_kv_incr(ns, S("n"), 0, &v, NULL), 0);
    EOS_CHECK_INT(v, -2);
    EOS_CHECK_INT(eos_kv_set(ns, S("s"), V("abc"), NULL), 0);
    EOS_CHECK_INT(eos_kv_incr(ns, S("s"), 1, &v, NULL), EOS_EINVAL);

    EOS_CHECK_INT(eos_kv_cas(ns, S("c"), NULL, 0, V("first"), NULL), 0);
    EOS_CHECK_INT(eos_kv_cas(ns, S("c"), NULL, 0, V("again"), NULL), EOS_ECONFLICT);
    EOS_CHECK_INT(eos_kv_cas(ns, S("c"), V("wrong"), V("x"), NULL), EOS_ECONFLICT);
    EOS_CHECK_INT(eos_kv_cas(ns, S("c"), V("firs"), V("x"), NULL), EOS_ECONFLICT);
    EOS_CHECK_INT(eos_kv_cas(ns, S("c"), V("first"), V("second"), NULL), 0);
    check_value(ns, "c", "second");
    EOS_CHECK_INT(eos_kv_cas(ns, S("absent"), V("x"), V("y"), NULL), EOS_ECONFLICT);
    EOS_CHECK_INT(eos_kv_set(ns, S("e"), (const uint8_t *)"", 0, NULL), 0);
    EOS_CHECK_INT(eos_kv_cas(ns, S("e"), NULL, 0, V("y"), NULL), EOS_ECONFLICT);
    EOS_CHECK_INT(eos_kv_cas(ns, S("e"), (const uint8_t *)"", 0, V("y"), NULL), 0);
    check_value(ns, "e", "y");
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
}

static void test_batch(void)
{
    eos_kv *kv = open_store(0);
    eos_kv_ns *ns = ns_open(kv, "app:batch");
    eos_kv_item items[3] = {
        {"k1", 2, (uint8_t *)"one", 3, 0},
        {"k2", 2, (uint8_t *)"two", 3, 0},
        {"k3", 2, NULL, 0, 0},
    };
    EOS_CHECK_INT(eos_kv_set_many(ns, items, 3, NULL), 0);
    eos_kv_item get[4] = {{"k1", 2, NULL, 0, 0},
                          {"nope", 4, NULL, 0, 0},
                          {"k3", 2, NULL, 0, 0},
                          {"k2", 2, NULL, 0, 0}};
    EOS_CHECK_INT(eos_kv_get_many(ns, get, 4, NULL), 0);
    EOS_CHECK_INT(get[0].found, 1);
    EOS_CHECK_MEM(get[0].value, get[0].value_size, "one", 3);
    EOS_CHECK_INT(get[1].found, 0);
    EOS_CHECK(get[1].value == NULL);
    EOS_CHECK_INT(get[2].found, 1);
    EOS_CHECK_INT(get[2].value_size, 0);
    EOS_CHECK_MEM(get[3].value, get[3].value_size, "two", 3);
    eos_kv_items_free(get, 4);
    eos_kv_item del[2] = {{"k1", 2, NULL, 0, 0}, {"never", 5, NULL, 0, 0}};
    EOS_CHECK_INT(eos_kv_delete_many(ns, del, 2, NULL), 0);
    int ex = 1;
    EOS_CHECK_INT(eos_kv_exists(ns, S("k1"), &ex, NULL), 0);
    EOS_CHECK_INT(ex, 0);
    EOS_CHECK_INT(eos_kv_set_many(ns, items, 0, NULL), 0);
    eos_kv_item badi[2] = {{"ok", 2, (uint8_t *)"x", 1, 0}, {"", 0, (uint8_t *)"x", 1, 0}};
    EOS_CHECK_INT(eos_kv_set_many(ns, badi, 2, NULL), EOS_EINVAL);
    EOS_CHECK_INT(eos_kv_exists(ns, S("ok"), &ex, NULL), 0);
    EOS_CHECK_INT(ex, 0); /* all or nothing */
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
}

static void test_list(void)
{
    eos_kv *kv = open_store(0);
    eos_kv_ns *ns = ns_open(kv, "app:list");
    eos_kv_ns *other = ns_open(kv, "app:list/kv:other");
    enum { N = 250 };
    char name[64];
    static int seen[N];
    memset(seen, 0, sizeof seen);
    eos_kv_item *items = calloc(N, sizeof *items);
    char(*names)[16] = calloc(N, 16);
    for (int i = 0; i < N; i++) {
        snprintf(names[i], 16, "%s/%03d", i % 2 ? "odd" : "even", i);
        items[i].key = names[i];
        items[i].key_size = strlen(names[i]);
        items[i].value = (uint8_t *)"v";
        items[i].value_size = 1;
    }
    EOS_CHECK_INT(eos_kv_set_many(ns, items, N, NULL), 0);
    EOS_CHECK_INT(eos_kv_set(other, S("odd/999"), V("elsewhere"), NULL), 0);
    /* All keys in pages of 7. */
    char cursor[EOS_KV_CURSOR_SIZE] = "";
    int total = 0, pages = 0;
    do {
        eos_kv_list_page page;
        EOS_CHECK_INT(eos_kv_list(ns, NULL, 0, cursor, 7, &page, NULL), 0);
        EOS_CHECK(page.count <= 7);
        for (size_t i = 0; i < page.count; i++) {
            int idx = atoi(page.keys[i] + (page.keys[i][0] == 'o' ? 4 : 5));
            EOS_CHECK(idx >= 0 && idx < N);
            snprintf(name, sizeof name, "%s", names[idx]);
            EOS_CHECK_STR(page.keys[i], name);
            EOS_CHECK_INT(page.key_sizes[i], strlen(name));
            seen[idx]++;
            total++;
        }
        memcpy(cursor, page.cursor, sizeof cursor);
        eos_kv_list_free(&page);
        pages++;
    } while (cursor[0] && pages < 1000);
    EOS_CHECK_INT(total, N);
    for (int i = 0; i < N; i++)
        EOS_CHECK_INT(seen[i], 1);
    /* A prefix selects half. */
    total = 0;
    cursor[0] = '\0';
    do {
        eos_kv_list_page page;
        EOS_CHECK_INT(eos_kv_list(ns, S("odd/"), cursor, 10, &page, NULL), 0);
        for (size_t i = 0; i < page.count; i++, total++)
            EOS_CHECK(strncmp(page.keys[i], "odd/", 4) == 0);
        memcpy(cursor, page.cursor, sizeof cursor);
        eos_kv_list_free(&page);
    } while (cursor[0]);
    EOS_CHECK_INT(total, N / 2);
    free(items);
    free(names);
    eos_kv_ns_close(ns);
    eos_kv_ns_close(other);
    eos_kv_close(kv);
}

/* Collects every name listed under prefix, page by page, sorted and joined
 * with spaces, into out. */
static void list_all(eos_kv_ns *ns, const char *prefix, size_t limit, char *out, size_t out_size)
{
    char cursor[EOS_KV_CURSOR_SIZE] = "";
    char *names[64];
    size_t n = 0;
    int rounds = 0;
    do {
        eos_kv_list_page page;
        int rc = eos_kv_list(ns, prefix, strlen(prefix), cursor, limit, &page, NULL);
        EOS_CHECK_INT(rc, 0);
        if (rc)
            break;
        for (size_t i = 0; i < page.count && n < 64; i++)
            names[n++] = strdup(page.keys[i]);
        memcpy(cursor, page.cursor, sizeof cursor);
        eos_kv_list_free(&page);
    } while (cursor[0] && ++rounds < 1000);
    qsort(names, n, sizeof *names, cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        snprintf(out + strlen(out), out_size - strlen(out), "%s%s", i ? " " : "", names[i]);
        free(names[i]);
    }
}

static void test_list_directories(void)
{
    eos_kv *kv = open_store(0);
    eos_kv_ns *ns = ns_open(kv, "app:dirs/fs");
    char got[2048];
    static const char *names[] = {"a/b/c", "a/b/d", "a/x", "a/b", "ab/c", "a/", "top"};
    for (size_t i = 0; i < 7; i++)
        EOS_CHECK_INT(eos_kv_set(ns, S(names[i]), V("v"), NULL), 0);
    EOS_CHECK_INT(eos_kv_set(ns, S("a/b/d"), V("overwritten"), NULL), 0);
    int64_t c = 0;
    EOS_CHECK_INT(eos_kv_incr(ns, S("a/ctr"), 1, &c, NULL), 0);
    EOS_CHECK_INT(eos_kv_cas(ns, S("a/b/cas"), NULL, 0, V("x"), NULL), 0);
    for (size_t limit = 1; limit <= 1000; limit *= 10) {
        list_all(ns, "a/", limit, got, sizeof got);
        EOS_CHECK_STR(got, "a/ a/b a/b/c a/b/cas a/b/d a/ctr a/x");
        list_all(ns, "a/b/", limit, got, sizeof got);
        EOS_CHECK_STR(got, "a/b/c a/b/cas a/b/d");
        list_all(ns, "a/b", limit, got, sizeof got);
        EOS_CHECK_STR(got, "a/b a/b/c a/b/cas a/b/d");
        list_all(ns, "a", limit, got, sizeof got);
        EOS_CHECK_STR(got, "a/ a/b a/b/c a/b/cas a/b/d a/ctr a/x ab/c");
        list_all(ns, "a/b/c/", limit, got, sizeof got);
        EOS_CHECK_STR(got, "");
    }
    /* Deletes take their index entries with them, on every path. */
    EOS_CHECK_INT(eos_kv_delete(ns, S("a/b/c"), NULL), 0);
    eos_kv_item del[1] = {{"a/b/cas", 7, NULL, 0, 0}};
    EOS_CHECK_INT(eos_kv_delete_many(ns, del, 1, NULL), 0);
    eos_kv_txn *t = NULL;
    EOS_CHECK_INT(eos_kv_txn_begin(kv, &t, NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_delete(t, ns, S("a/x"), NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_set(t, ns, S("a/b/new"), V("n"), NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_commit(t, NULL), 0);
    eos_kv_item add[1] = {{"a/b/batch", 9, (uint8_t *)"b", 1, 0}};
    EOS_CHECK_INT(eos_kv_set_many(ns, add, 1, NULL), 0);
    list_all(ns, "a/", 3, got, sizeof got);
    EOS_CHECK_STR(got, "a/ a/b a/b/batch a/b/d a/b/new a/ctr");
    list_all(ns, "a/b/", 3, got, sizeof got);
    EOS_CHECK_STR(got, "a/b/batch a/b/d a/b/new");
    /* Deeper than the index reaches: listing falls back to a scan. */
    char deep[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(deep, "d/");
    strcat(deep, "leaf");
    EOS_CHECK_INT(eos_kv_set(ns, S(deep), V("deep"), NULL), 0);
    deep[2 * 36] = '\0';
    list_all(ns, deep, 0, got, sizeof got);
    EOS_CHECK(strstr(got, "leaf") != NULL);
    list_all(ns, "d/d/", 0, got, sizeof got);
    EOS_CHECK(strstr(got, "leaf") != NULL);
    /* Erasing the root removes records and index entries alike. */
    uint8_t dbkey[EOS_KV_DBKEY_SIZE];
    EOS_CHECK_INT(eos_kv_db_key(ns, S("top"), dbkey), 0);
    EOS_CHECK_INT(eos_kv_erase_root(kv, "app:dirs", NULL), 0);
    eos_kv_backend *be = eos_kv_backend_of(kv);
    eos_kv_btxn *bt = NULL;
    const uint8_t *k = NULL, *v = NULL;
    size_t ks = 0, vs = 0;
    EOS_CHECK_INT(be->ops->begin(be, 0, &bt, NULL), 0);
    int rc = be->ops->seek(bt, dbkey, 16, 0, &k, &ks, &v, &vs, NULL);
    EOS_CHECK(rc == EOS_ENOTFOUND || (rc == 0 && (ks < 16 || memcmp(k, dbkey, 16) != 0)));
    be->ops->abort(bt);
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
}

static void test_txn(void)
{
    eos_kv *kv = open_store(0);
    eos_kv_ns *a = ns_open(kv, "app:t1");
    eos_kv_ns *b = ns_open(kv, "app:t2");
    eos_kv_txn *t = NULL;
    uint8_t *v = NULL;
    size_t n = 0;
    EOS_CHECK_INT(eos_kv_set(a, S("gone"), V("soon"), NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_begin(kv, &t, NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_set(t, a, S("x"), V("ax"), NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_set(t, b, S("x"), V("bx"), NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_set(t, b, S("x"), V("bx2"), NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_delete(t, a, S("gone"), NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_get(t, b, S("x"), &v, &n, NULL), 0);
    EOS_CHECK_MEM(v, n, "bx2", 3);
    eos_free(v, n);
    EOS_CHECK_INT(eos_kv_txn_get(t, a, S("gone"), &v, &n, NULL), EOS_ENOTFOUND);
    /* Nothing visible outside before commit. */
    EOS_CHECK_INT(eos_kv_get(a, S("x"), &v, &n, NULL), EOS_ENOTFOUND);
    check_value(a, "gone", "soon");
    EOS_CHECK_INT(eos_kv_txn_commit(t, NULL), 0);
    check_value(a, "x", "ax");
    check_value(b, "x", "bx2");
    EOS_CHECK_INT(eos_kv_get(a, S("gone"), &v, &n, NULL), EOS_ENOTFOUND);

    /* Reading a key that does not exist, then creating it, commits. */
    EOS_CHECK_INT(eos_kv_txn_begin(kv, &t, NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_get(t, a, S("fresh"), &v, &n, NULL), EOS_ENOTFOUND);
    EOS_CHECK_INT(eos_kv_txn_set(t, a, S("fresh"), V("new"), NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_commit(t, NULL), 0);
    check_value(a, "fresh", "new");

    /* Abort discards. */
    EOS_CHECK_INT(eos_kv_txn_begin(kv, &t, NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_set(t, a, S("x"), V("never"), NULL), 0);
    eos_kv_txn_abort(t);
    check_value(a, "x", "ax");

    /* A read that changed underneath makes commit fail with nothing applied. */
    EOS_CHECK_INT(eos_kv_txn_begin(kv, &t, NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_get(t, a, S("x"), &v, &n, NULL), 0);
    eos_free(v, n);
    EOS_CHECK_INT(eos_kv_txn_get(t, a, S("absent"), &v, &n, NULL), EOS_ENOTFOUND);
    EOS_CHECK_INT(eos_kv_txn_set(t, b, S("y"), V("dependent"), NULL), 0);
    EOS_CHECK_INT(eos_kv_set(a, S("x"), V("changed"), NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_commit(t, NULL), EOS_ECONFLICT);
    EOS_CHECK_INT(eos_kv_get(b, S("y"), &v, &n, NULL), EOS_ENOTFOUND);
    /* Same for a key that appeared. */
    EOS_CHECK_INT(eos_kv_txn_begin(kv, &t, NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_get(t, a, S("absent"), &v, &n, NULL), EOS_ENOTFOUND);
    EOS_CHECK_INT(eos_kv_txn_set(t, b, S("y"), V("dependent"), NULL), 0);
    EOS_CHECK_INT(eos_kv_set(a, S("absent"), V("now here"), NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_commit(t, NULL), EOS_ECONFLICT);
    /* And an unchanged read commits. */
    EOS_CHECK_INT(eos_kv_txn_begin(kv, &t, NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_get(t, a, S("x"), &v, &n, NULL), 0);
    eos_free(v, n);
    EOS_CHECK_INT(eos_kv_txn_set(t, a, S("x"), V("next"), NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_commit(t, NULL), 0);
    check_value(a, "x", "next");
    eos_kv_ns_close(a);
    eos_kv_ns_close(b);
    eos_kv_close(kv);
}

static void test_erase_root(void)
{
    eos_kv *kv = open_store(0);
    eos_kv_ns *x = ns_open(kv, "app:x");
    eos_kv_ns *xb = ns_open(kv, "app:x/kv:bucket");
    eos_kv_ns *y = ns_open(kv, "app:y");
    uint8_t *v = NULL;
    size_t n = 0;
    for (int i = 0; i < 50; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        EOS_CHECK_INT(eos_kv_set(x, S(k), V("x"), NULL), 0);
        EOS_CHECK_INT(eos_kv_set(xb, S(k), V("xb"), NULL), 0);
        EOS_CHECK_INT(eos_kv_set(y, S(k), V("y"), NULL), 0);
    }
    EOS_CHECK_INT(eos_kv_erase_root(kv, "app:x", NULL), 0);
    EOS_CHECK_INT(eos_kv_get(x, S("k1"), &v, &n, NULL), EOS_ENOTFOUND);
    EOS_CHECK_INT(eos_kv_get(xb, S("k49"), &v, &n, NULL), EOS_ENOTFOUND);
    check_value(y, "k1", "y");
    eos_kv_list_page page;
    EOS_CHECK_INT(eos_kv_list(y, NULL, 0, NULL, 0, &page, NULL), 0);
    EOS_CHECK_INT(page.count, 50);
    eos_kv_list_free(&page);
    EOS_CHECK_INT(eos_kv_erase_root(kv, "app:none", NULL), 0);
    eos_kv_ns_close(x);
    eos_kv_ns_close(xb);
    eos_kv_ns_close(y);
    eos_kv_close(kv);
}

static void test_reopen_and_grow(void)
{
    if (use_memory)
        return;
    char *saved = dir;
    dir = kvt_mkdtemp();
    eos_kv *kv = open_store(64 * 1024);
    eos_kv_ns *ns = ns_open(kv, "app:grow");
    uint8_t val[8192];
    memset(val, 0xab, sizeof val);
    eos_kv_item items[32];
    char names[32][16];
    /* 4 MiB through a 64 KiB initial map, in batches and single writes. */
    for (int round = 0; round < 16; round++) {
        for (int i = 0; i < 32; i++) {
            snprintf(names[i], 16, "r%d-%d", round, i);
            items[i] = (eos_kv_item){names[i], strlen(names[i]), val, sizeof val, 0};
        }
        EOS_CHECK_INT(eos_kv_set_many(ns, items, 32, NULL), 0);
    }
    for (int i = 0; i < 8; i++) {
        snprintf(names[0], 16, "single%d", i);
        EOS_CHECK_INT(eos_kv_set(ns, S(names[0]), val, sizeof val, NULL), 0);
    }
    /* Reads after growth reuse pooled read transactions. */
    uint8_t *g = NULL;
    size_t gn = 0;
    EOS_CHECK_INT(eos_kv_get(ns, S("r3-3"), &g, &gn, NULL), 0);
    EOS_CHECK_MEM(g, gn, val, sizeof val);
    eos_free(g, gn);
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
    kv = open_store(64 * 1024);
    ns = ns_open(kv, "app:grow");
    uint8_t *v = NULL;
    size_t n = 0;
    EOS_CHECK_INT(eos_kv_get(ns, S("r15-31"), &v, &n, NULL), 0);
    EOS_CHECK_MEM(v, n, val, sizeof val);
    eos_free(v, n);
    EOS_CHECK_INT(eos_kv_set(ns, S("after"), val, sizeof val, NULL), 0);
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
    kvt_rmdir(dir);
    dir = saved;
}

typedef struct worker {
    eos_kv *kv;
    int id;
    int errors;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    eos_kv_ns *ns = NULL;
    char key[32], val[32];
    if (eos_kv_ns_open(w->kv, "app:threads", &ns, NULL) != 0) {
        w->errors++;
        return NULL;
    }
    for (int i = 0; i < 40; i++) {
        int64_t c = 0;
        if (eos_kv_incr(ns, S("counter"), 1, &c, NULL) != 0)
            w->errors++;
        snprintf(key, sizeof key, "t%d-%d", w->id, i);
        snprintf(val, sizeof val, "value %d %d", w->id, i);
        if (eos_kv_set(ns, S(key), V(val), NULL) != 0)
            w->errors++;
        /* Bulk that makes the map grow while other threads read. */
        static const uint8_t bulk[3000];
        snprintf(key, sizeof key, "bulk%d-%d", w->id, i);
        if (eos_kv_set(ns, S(key), bulk, sizeof bulk, NULL) != 0)
            w->errors++;
        snprintf(key, sizeof key, "t%d-%d", w->id, i);
        for (int j = 0; j < 5; j++) {
            uint8_t *v = NULL;
            size_t n = 0;
            if (eos_kv_get(ns, S(key), &v, &n, NULL) != 0 || n != strlen(val) ||
                memcmp(v, val, n) != 0)
                w->errors++;
            eos_free(v, n);
        }
    }
    eos_kv_ns_close(ns);
    return NULL;
}

static void test_threads(void)
{
    char *saved = dir;
    dir = kvt_mkdtemp();
    eos_kv *kv = open_store(64 * 1024);
    pthread_t th[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){kv, i, 0};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        EOS_CHECK_INT(w[i].errors, 0);
    }
    eos_kv_ns *ns = ns_open(kv, "app:threads");
    int64_t c = 0;
    EOS_CHECK_INT(eos_kv_incr(ns, S("counter"), 0, &c, NULL), 0);
    EOS_CHECK_INT(c, 160);
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
    kvt_rmdir(dir);
    dir = saved;
}

/* Every allocation of each operation fails in turn: the result is success or
 * EOS_ENOMEM, never a crash or a leak (ASan checks the latter), and the
 * store stays consistent. */
static void test_alloc_failures(void)
{
    eos_kv *kv = open_store(0);
    eos_kv_ns *ns = ns_open(kv, "app:oom");
    EOS_CHECK_INT(eos_kv_set(ns, S("base"), V("base value"), NULL), 0);
    for (long fail = 1; fail < 60; fail++) {
        uint8_t *v = NULL;
        size_t n = 0;
        int64_t c = 0;
        eos_kv_list_page page;
        eos_kv_txn *t = NULL;
        eos_kv_item items[2] = {{"b1", 2, (uint8_t *)"x", 1, 0}, {"d/b2", 4, (uint8_t *)"y", 1, 0}};
        int rc;
#define TRY(expr)                                                                                  \
    do {                                                                                           \
        eos_test_fail_alloc_after(fail, 0);                                                        \
        rc = (expr);                                                                               \
        eos_test_fail_alloc_after(0, 0);                                                           \
        EOS_CHECK(rc == 0 || rc == EOS_ENOMEM);                                                    \
    } while (0)
        TRY(eos_kv_set(ns, S("k"), V("value"), NULL));
        TRY(eos_kv_set(ns, S("dir/sub/k"), V("value"), NULL));
        TRY(eos_kv_list(ns, S("dir/"), NULL, 0, &page, NULL));
        if (rc == 0)
            eos_kv_list_free(&page);
        TRY(eos_kv_get(ns, S("base"), &v, &n, NULL));
        if (rc == 0) {
            EOS_CHECK_MEM(v, n, "base value", 10);
            eos_free(v, n);
        }
        TRY(eos_kv_incr(ns, S("ctr"), 1, &c, NULL));
        TRY(eos_kv_set_many(ns, items, 2, NULL));
        TRY(eos_kv_list(ns, NULL, 0, NULL, 0, &page, NULL));
        if (rc == 0)
            eos_kv_list_free(&page);
        eos_test_fail_alloc_after(fail, 0);
        rc = eos_kv_txn_begin(kv, &t, NULL);
        if (rc == 0) {
            rc = eos_kv_txn_set(t, ns, S("t/k"), V("tv"), NULL);
            if (rc == 0)
                rc = eos_kv_txn_delete(t, ns, S("t/gone"), NULL);
            if (rc == 0)
                rc = eos_kv_txn_get(t, ns, S("base"), &v, &n, NULL);
            if (rc == 0)
                eos_free(v, n);
            if (rc == 0)
                rc = eos_kv_txn_commit(t, NULL);
            else
                eos_kv_txn_abort(t);
        }
        eos_test_fail_alloc_after(0, 0);
        EOS_CHECK(rc == 0 || rc == EOS_ENOMEM);
#undef TRY
    }
    check_value(ns, "base", "base value");
    check_value(ns, "k", "value");
    check_value(ns, "dir/sub/k", "value");
    char got[512];
    list_all(ns, "dir/", 0, got, sizeof got);
    EOS_CHECK_STR(got, "dir/sub/k");
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
}

static void run_all(void)
{
    EOS_RUN(test_basic);
    EOS_RUN(test_invalid);
    EOS_RUN(test_isolation);
    EOS_RUN(test_incr_cas);
    EOS_RUN(test_batch);
    EOS_RUN(test_list);
    EOS_RUN(test_list_directories);
    EOS_RUN(test_txn);
    EOS_RUN(test_erase_root);
    EOS_RUN(test_reopen_and_grow);
    EOS_RUN(test_threads);
    EOS_RUN(test_alloc_failures);
}

int main(void)
{
    tee = tee_double_new(0x11);
    if (getenv("KV_TEST_DEBUG"))
        eos_log_set_level(EOS_LOG_DEBUG);
    if (getenv("KV_TEST_PG")) {
        pg_conninfo = kvt_pg_conninfo(getenv("KV_TEST_PG"));
        EOS_CHECK(pg_conninfo != NULL);
        dir = kvt_mkdtemp();
        fprintf(stderr, "-- postgres backend\n");
        if (pg_conninfo)
            run_all();
        kvt_rmdir(dir);
        free(pg_conninfo);
        eos_tee_free(tee);
        return eos_test_finish();
    }
    dir = kvt_mkdtemp();
    fprintf(stderr, "-- lmdb backend\n");
    run_all();
    kvt_rmdir(dir);
    dir = kvt_mkdtemp();
    use_memory = 1;
    fprintf(stderr, "-- memory backend\n");
    run_all();
    kvt_rmdir(dir);
    eos_tee_free(tee);
    return eos_test_finish();
}
