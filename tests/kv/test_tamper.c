/* The untrusted host edits the data directory: values flipped, swapped,
 * moved between keys and namespaces, truncated, the file cut short, the
 * sealed key replaced. Every case is reported (EOS_ECORRUPT, EOS_ETEE),
 * never answered with data. Also: no plaintext name or value on disk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eos/kv.h"
#include "harness.h"
#include "kv_testutil.h"

#define S(str) str, strlen(str)
#define V(str) (const uint8_t *)(str), strlen(str)

static eos_tee *tee;
static char *dir;
static char dbpath[4200];

static eos_kv *open_store(void)
{
    return kvt_open(dir, tee);
}

static void fresh_dir(void)
{
    kvt_rmdir(dir);
    dir = kvt_mkdtemp();
    snprintf(dbpath, sizeof dbpath, "%s/kv.mdb", dir);
}

static void expect_corrupt(eos_kv_ns *ns, const char *key)
{
    uint8_t *v = NULL;
    size_t n = 0;
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_kv_get(ns, key, strlen(key), &v, &n, &d);
    EOS_CHECK_INT(rc, EOS_ECORRUPT);
    EOS_CHECK(d.message[0] != '\0');
    if (rc == 0)
        eos_free(v, n);
}

static void test_flip_and_swap_on_disk(void)
{
    fresh_dir();
    eos_kv *kv = open_store();
    eos_kv_ns *ns = NULL;
    EOS_CHECK_INT(eos_kv_ns_open(kv, "app:t", &ns, NULL), 0);
    EOS_CHECK_INT(eos_kv_set(ns, S("alice"), V("balance=100; note=first record"), NULL), 0);
    EOS_CHECK_INT(eos_kv_set(ns, S("bobby"), V("balance=999; note=other record"), NULL), 0);
    EOS_CHECK_INT(eos_kv_set(ns, S("carol"), V("a value whose byte will be flipped"), NULL), 0);
    EOS_CHECK_INT(eos_kv_set(ns, S("dave"), V("a value whose name byte is flipped"), NULL), 0);
    size_t na, nb, nc, nd, fsize;
    uint8_t *ra = kvt_raw_record(kv, ns, "alice", &na);
    uint8_t *rb = kvt_raw_record(kv, ns, "bobby", &nb);
    uint8_t *rc_ = kvt_raw_record(kv, ns, "carol", &nc);
    uint8_t *rd = kvt_raw_record(kv, ns, "dave", &nd);
    eos_kv_ns_close(ns);
    eos_kv_close(kv);

    /* LMDB copies pages on write, so stale copies of a record may also be in
     * the file: edit every copy, as a host rolling the data would. */
    uint8_t *file = eos_test_read_file(dbpath, &fsize);
    uint8_t *orig = malloc(fsize);
    memcpy(orig, file, fsize);
    EOS_CHECK(file != NULL);
    EOS_CHECK_INT(na, nb);
    int found[4] = {0};
    for (size_t off = 0; na == nb && off + na <= fsize; off++) {
        if (memcmp(orig + off, ra, na) == 0) {
            memcpy(file + off, rb, nb); /* swap alice's and bobby's records */
            found[0]++;
        } else if (memcmp(orig + off, rb, nb) == 0) {
            memcpy(file + off, ra, na);
            found[1]++;
        }
        if (off + nc <= fsize && memcmp(orig + off, rc_, nc) == 0) {
            file[off + nc - 20] ^= 0x01; /* a bit of carol's value ciphertext */
            found[2]++;
        }
        if (off + nd <= fsize && memcmp(orig + off, rd, nd) == 0) {
            file[off + 28] ^= 0x80; /* a bit of dave's name ciphertext */
            found[3]++;
        }
    }
    for (int i = 0; i < 4; i++)
        EOS_CHECK(found[i] > 0);
    EOS_CHECK_INT(eos_test_write_file(dbpath, file, fsize), 0);
    free(orig);
    free(file);

    kv = open_store();
    EOS_CHECK_INT(eos_kv_ns_open(kv, "app:t", &ns, NULL), 0);
    expect_corrupt(ns, "alice");
    expect_corrupt(ns, "bobby");
    expect_corrupt(ns, "carol");
    int ex = 0;
    EOS_CHECK_INT(eos_kv_exists(ns, S("dave"), &ex, NULL), EOS_ECORRUPT);
    eos_kv_list_page page;
    EOS_CHECK_INT(eos_kv_list(ns, NULL, 0, NULL, 0, &page, NULL), EOS_ECORRUPT);
    EOS_CHECK_INT(page.count, 0);
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
    free(ra);
    free(rb);
    free(rc_);
    free(rd);
}

static void test_moved_truncated_altered(void)
{
    fresh_dir();
    eos_kv *kv = open_store();
    eos_kv_ns *a = NULL, *b = NULL;
    EOS_CHECK_INT(eos_kv_ns_open(kv, "app:a", &a, NULL), 0);
    EOS_CHECK_INT(eos_kv_ns_open(kv, "app:b", &b, NULL), 0);
    EOS_CHECK_INT(eos_kv_set(a, S("key"), V("secret of a"), NULL), 0);
    EOS_CHECK_INT(eos_kv_set(b, S("key"), V("secret of b"), NULL), 0);
    EOS_CHECK_INT(eos_kv_set(a, S("other"), V("other of a"), NULL), 0);
    size_t n;
    uint8_t *r = kvt_raw_record(kv, a, "key", &n);
    /* Moved to the same name in another namespace. */
    kvt_put_raw(kv, b, "key", r, n);
    expect_corrupt(b, "key");
    /* Moved to another name in the same namespace. */
    kvt_put_raw(kv, a, "other", r, n);
    expect_corrupt(a, "other");
    /* Truncated by a few bytes, to the header, to nothing. */
    kvt_put_raw(kv, a, "t1", r, n - 3);
    expect_corrupt(a, "t1");
    kvt_put_raw(kv, a, "t2", r, 20);
    expect_corrupt(a, "t2");
    kvt_put_raw(kv, a, "t3", r, 0);
    expect_corrupt(a, "t3");
    /* Header fields: version, flags, name size. */
    for (int field = 0; field < 4; field++) {
        uint8_t *m = malloc(n);
        memcpy(m, r, n);
        m[field] ^= 0x01;
        kvt_put_raw(kv, a, "key", m, n);
        expect_corrupt(a, "key");
        free(m);
    }
    /* The original bytes put back are accepted again. */
    kvt_put_raw(kv, a, "key", r, n);
    uint8_t *v = NULL;
    size_t vn = 0;
    EOS_CHECK_INT(eos_kv_get(a, S("key"), &v, &vn, NULL), 0);
    EOS_CHECK_MEM(v, vn, "secret of a", 11);
    eos_free(v, vn);
    /* Increment and compare-and-swap refuse corrupt records too. */
    int64_t c;
    EOS_CHECK_INT(eos_kv_incr(a, S("t1"), 1, &c, NULL), EOS_ECORRUPT);
    EOS_CHECK_INT(eos_kv_cas(a, S("t1"), NULL, 0, V("x"), NULL), EOS_ECORRUPT);
    eos_kv_txn *t = NULL;
    EOS_CHECK_INT(eos_kv_txn_begin(kv, &t, NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_get(t, a, S("t2"), &v, &vn, NULL), EOS_ECORRUPT);
    eos_kv_txn_abort(t);
    free(r);
    eos_kv_ns_close(a);
    eos_kv_ns_close(b);
    eos_kv_close(kv);
}

/* The directory index is host-controlled too: an entry whose record is gone,
 * or one forged to pull a key of another directory into a listing, is
 * reported. */
static void test_index_tamper(void)
{
    fresh_dir();
    eos_kv *kv = open_store();
    eos_kv_ns *ns = NULL;
    eos_kv_backend *be = eos_kv_backend_of(kv);
    eos_kv_btxn *t = NULL;
    eos_kv_list_page page;
    uint8_t ka[EOS_KV_DBKEY_SIZE], kb[EOS_KV_DBKEY_SIZE], kc[EOS_KV_DBKEY_SIZE];
    uint8_t entry[80];
    EOS_CHECK_INT(eos_kv_ns_open(kv, "app:idx", &ns, NULL), 0);
    EOS_CHECK_INT(eos_kv_set(ns, S("dir/a"), V("a"), NULL), 0);
    EOS_CHECK_INT(eos_kv_set(ns, S("dir/b"), V("b"), NULL), 0);
    EOS_CHECK_INT(eos_kv_set(ns, S("other/c"), V("c"), NULL), 0);
    EOS_CHECK_INT(eos_kv_db_key(ns, S("dir/a"), ka), 0);
    EOS_CHECK_INT(eos_kv_db_key(ns, S("dir/b"), kb), 0);
    EOS_CHECK_INT(eos_kv_db_key(ns, S("other/c"), kc), 0);
    /* Find dir/b's index entry: 80 bytes, same root, ending in its hash. */
    int found = 0;
    EOS_CHECK_INT(be->ops->begin(be, 0, &t, NULL), 0);
    const uint8_t *k = NULL, *v = NULL;
    size_t ks = 0, vs = 0;
    uint8_t pos[80];
    size_t pos_size = 16;
    memcpy(pos, kb, 16);
    int after = 0;
    while (be->ops->seek(t, pos, pos_size, after, &k, &ks, &v, &vs, NULL) == 0 &&
           memcmp(k, kb, 16) == 0 && ks <= sizeof pos) {
        if (ks == 80 && memcmp(k + 48, kb + 32, 32) == 0) {
            memcpy(entry, k, 80);
            found = 1;
        }
        memcpy(pos, k, ks);
        pos_size = ks;
        after = 1;
    }
    be->ops->abort(t);
    EOS_CHECK(found);

    /* A forged entry in dir/ pointing at other/c. */
    memcpy(entry + 48, kc + 32, 32);
    EOS_CHECK_INT(be->ops->begin(be, 1, &t, NULL), 0);
    EOS_CHECK_INT(be->ops->put(t, entry, 80, entry, 0, NULL), 0);
    EOS_CHECK_INT(be->ops->commit(t, NULL), 0);
    EOS_CHECK_INT(eos_kv_list(ns, S("dir/"), NULL, 0, &page, NULL), EOS_ECORRUPT);
    EOS_CHECK_INT(eos_kv_delete(ns, S("other/c"), NULL), 0); /* now it points nowhere */
    EOS_CHECK_INT(eos_kv_list(ns, S("dir/"), NULL, 0, &page, NULL), EOS_ECORRUPT);
    EOS_CHECK_INT(be->ops->begin(be, 1, &t, NULL), 0);
    EOS_CHECK_INT(be->ops->del(t, entry, 80, NULL), 0);
    EOS_CHECK_INT(be->ops->commit(t, NULL), 0);
    EOS_CHECK_INT(eos_kv_list(ns, S("dir/"), NULL, 0, &page, NULL), 0);
    EOS_CHECK_INT(page.count, 2);
    eos_kv_list_free(&page);
    /* A record removed under its index entry. */
    EOS_CHECK_INT(be->ops->begin(be, 1, &t, NULL), 0);
    EOS_CHECK_INT(be->ops->del(t, ka, sizeof ka, NULL), 0);
    EOS_CHECK_INT(be->ops->commit(t, NULL), 0);
    EOS_CHECK_INT(eos_kv_list(ns, S("dir/"), NULL, 0, &page, NULL), EOS_ECORRUPT);
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
}

static void test_truncated_file(void)
{
    fresh_dir();
    eos_kv *kv = open_store();
    eos_kv_ns *ns = NULL;
    uint8_t val[2000];
    memset(val, 7, sizeof val);
    EOS_CHECK_INT(eos_kv_ns_open(kv, "app:trunc", &ns, NULL), 0);
    for (int i = 0; i < 100; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        EOS_CHECK_INT(eos_kv_set(ns, S(k), val, sizeof val, NULL), 0);
    }
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
    size_t size = 0;
    uint8_t *file = eos_test_read_file(dbpath, &size);
    free(file);
    EOS_CHECK(size > 65536);
    EOS_CHECK_INT(truncate(dbpath, (off_t)(size / 2)), 0);
    eos_kv_config cfg = {.data_dir = dir, .tee = tee};
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_kv_open(&cfg, &kv, &d), EOS_ECORRUPT);
    EOS_CHECK(strstr(d.message, "truncated") != NULL);
    /* The refused file is left as it was found, for the operator to inspect. */
    struct stat st;
    EOS_CHECK_INT(stat(dbpath, &st), 0);
    EOS_CHECK_INT((long long)st.st_size, (long long)(size / 2));
    EOS_CHECK_INT(truncate(dbpath, 100), 0);
    eos_diag_init(&d);
    int rc = eos_kv_open(&cfg, &kv, &d);
    EOS_CHECK(rc == EOS_ECORRUPT || rc == EOS_ESTORE);
    EOS_CHECK(d.message[0] != '\0');
}

static void test_sealed_key_errors(void)
{
    fresh_dir();
    eos_kv *kv = open_store();
    eos_kv_ns *ns = NULL;
    EOS_CHECK_INT(eos_kv_ns_open(kv, "sys", &ns, NULL), 0);
    EOS_CHECK_INT(eos_kv_set(ns, S("k"), V("v"), NULL), 0);
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
    char sealed[4300], saved[4300];
    snprintf(sealed, sizeof sealed, "%s/master.sealed", dir);
    snprintf(saved, sizeof saved, "%s/master.saved", dir);

    /* Another platform cannot unseal. */
    eos_tee *other = tee_double_new(0x99);
    eos_kv_config cfg = {.data_dir = dir, .tee = other};
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_kv_open(&cfg, &kv, &d), EOS_ETEE);
    EOS_CHECK(strstr(d.message, "cannot be unsealed") != NULL);
    eos_tee_free(other);

    /* An altered sealed key cannot be unsealed either. */
    size_t n = 0;
    uint8_t *blob = eos_test_read_file(sealed, &n);
    blob[n / 2] ^= 1;
    EOS_CHECK_INT(eos_test_write_file(sealed, blob, n), 0);
    blob[n / 2] ^= 1;
    cfg.tee = tee;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_kv_open(&cfg, &kv, &d), EOS_ETEE);

    /* A missing sealed key is not silently replaced. */
    EOS_CHECK_INT(unlink(sealed), 0);
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_kv_open(&cfg, &kv, &d), EOS_ENOTFOUND);
    EOS_CHECK(strstr(d.message, "no sealed master key") != NULL);

    /* A valid sealed key from another data directory does not fit. */
    char *other_dir = kvt_mkdtemp();
    eos_kv_config cfg2 = {.data_dir = other_dir, .tee = tee};
    EOS_CHECK_INT(eos_kv_open(&cfg2, &kv, NULL), 0);
    eos_kv_close(kv);
    char other_sealed[4300];
    snprintf(other_sealed, sizeof other_sealed, "%s/master.sealed", other_dir);
    size_t on = 0;
    uint8_t *oblob = eos_test_read_file(other_sealed, &on);
    EOS_CHECK_INT(eos_test_write_file(sealed, oblob, on), 0);
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_kv_open(&cfg, &kv, &d), EOS_ECORRUPT);
    EOS_CHECK(strstr(d.message, "does not belong") != NULL);
    free(oblob);
    kvt_rmdir(other_dir);

    /* The original works again. */
    EOS_CHECK_INT(eos_test_write_file(sealed, blob, n), 0);
    free(blob);
    kv = open_store();
    eos_kv_close(kv);
}

static void test_no_plaintext_on_disk(void)
{
    fresh_dir();
    eos_kv *kv = open_store();
    eos_kv_ns *ns = NULL;
    static const char *names[] = {"canary-name-Quetzalcoatl", "canary-bucket-key-Xylophone"};
    static const char *values[] = {"canary-value-Zanzibar-0123456789",
                                   "canary-value-Kilimanjaro-abcdef"};
    EOS_CHECK_INT(eos_kv_ns_open(kv, "app:canary-namespace-Okapi", &ns, NULL), 0);
    for (int i = 0; i < 2; i++)
        EOS_CHECK_INT(eos_kv_set(ns, S(names[i]), V(values[i]), NULL), 0);
    eos_kv_txn *t = NULL;
    EOS_CHECK_INT(eos_kv_txn_begin(kv, &t, NULL), 0);
    EOS_CHECK_INT(eos_kv_txn_set(t, ns, S("canary-txn-Wombat"), V("canary-txn-Value-Ibis"), NULL),
                  0);
    EOS_CHECK_INT(eos_kv_txn_commit(t, NULL), 0);
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
    static const char *needles[] = {"Quetzalcoatl", "Xylophone", "Zanzibar", "Kilimanjaro",
                                    "Okapi",        "Wombat",    "Ibis",     "canary"};
    static const char *files[] = {"kv.mdb", "kv.mdb-lock", "master.sealed"};
    for (size_t f = 0; f < 3; f++) {
        char path[4300];
        size_t size = 0;
        snprintf(path, sizeof path, "%s/%s", dir, files[f]);
        uint8_t *data = eos_test_read_file(path, &size);
        EOS_CHECK(data != NULL);
        for (size_t i = 0; data && i < sizeof needles / sizeof *needles; i++) {
            if (memmem(data, size, needles[i], strlen(needles[i])))
                eos_test_fail(__FILE__, __LINE__, "%s holds \"%s\" in plaintext", files[f],
                              needles[i]);
        }
        free(data);
    }
}

int main(void)
{
    tee = tee_double_new(0x22);
    EOS_RUN(test_flip_and_swap_on_disk);
    EOS_RUN(test_moved_truncated_altered);
    EOS_RUN(test_index_tamper);
    EOS_RUN(test_truncated_file);
    EOS_RUN(test_sealed_key_errors);
    EOS_RUN(test_no_plaintext_on_disk);
    kvt_rmdir(dir);
    eos_tee_free(tee);
    return eos_test_finish();
}
