/* Operations per second of the encrypted store against raw LMDB in the same
 * run, same file system and same LMDB settings: get and set with 100-byte
 * and 10 KiB values on one and two threads, and sets grouped 100 to a
 * transaction. The ratio raw/store is the cost of the crypto and envelope.
 * With a PostgreSQL connection string (second argument, or EOS_BENCH_PG),
 * a second table puts the store on LMDB against the store on PostgreSQL.
 * Usage: bench_kv [seconds per measurement, default 0.5; each cell is the
 * best of three rounds] [conninfo] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "eos/kv.h"
#include "kv_testutil.h"

#define NKEYS 1000
#define BATCH 100

static double seconds = 0.5;
static char *dir;
static eos_kv *kv;
static eos_kv_ns *ns;
static eos_kv *pg_kv;
static eos_kv_ns *pg_ns;
static MDB_env *raw_env;
static MDB_dbi raw_dbi;
static uint8_t *value;

typedef struct job {
    eos_kv_ns *ns;
    int raw, op, tid;
    size_t size;
    long ops;
    int errors;
} job;

enum { OP_GET, OP_SET, OP_BATCH };

static void key_of(long i, char *out)
{
    snprintf(out, 32, "bench/key/%06ld", i % NKEYS);
}

static void *run(void *arg)
{
    job *j = arg;
    char key[32];
    uint64_t end = eos_now_ns() + (uint64_t)(seconds * 1e9);
    long i = j->tid * 7919;
    MDB_txn *rtxn = NULL;
    if (j->raw && j->op == OP_GET) {
        mdb_txn_begin(raw_env, NULL, MDB_RDONLY, &rtxn);
        mdb_txn_reset(rtxn);
    }
    while (eos_now_ns() < end) {
        if (j->op == OP_GET) {
            key_of(i++, key);
            if (j->raw) {
                /* The baseline renews a kept read transaction and copies the
                 * value out, as the store does. */
                MDB_val k = {strlen(key), key}, v;
                mdb_txn_renew(rtxn);
                if (mdb_get(rtxn, raw_dbi, &k, &v) == 0) {
                    uint8_t *copy = malloc(v.mv_size);
                    memcpy(copy, v.mv_data, v.mv_size);
                    free(copy);
                } else {
                    j->errors++;
                }
                mdb_txn_reset(rtxn);
            } else {
                uint8_t *v = NULL;
                size_t n = 0;
                if (eos_kv_get(j->ns, key, strlen(key), &v, &n, NULL) != 0)
                    j->errors++;
                eos_free(v, n);
            }
            j->ops++;
        } else {
            int count = j->op == OP_SET ? 1 : BATCH;
            if (j->raw) {
                MDB_txn *t = NULL;
                int e = mdb_txn_begin(raw_env, NULL, 0, &t);
                for (int b = 0; b < count && e == 0; b++) {
                    key_of(i++, key);
                    MDB_val k = {strlen(key), key}, v = {j->size, value};
                    e = mdb_put(t, raw_dbi, &k, &v, 0);
                }
                if (e == 0)
                    e = mdb_txn_commit(t);
                else
                    mdb_txn_abort(t);
                j->errors += e != 0;
            } else if (count == 1) {
                key_of(i++, key);
                j->errors += eos_kv_set(j->ns, key, strlen(key), value, j->size, NULL) != 0;
            } else {
                eos_kv_item items[BATCH];
                char keys[BATCH][32];
                for (int b = 0; b < BATCH; b++) {
                    key_of(i++, keys[b]);
                    items[b] = (eos_kv_item){keys[b], strlen(keys[b]), value, j->size, 0};
                }
                j->errors += eos_kv_set_many(j->ns, items, BATCH, NULL) != 0;
            }
            j->ops += count;
        }
    }
    if (rtxn)
        mdb_txn_abort(rtxn);
    return NULL;
}

static double measure_on(eos_kv_ns *target, int raw, int op, size_t size, int threads)
{
    pthread_t th[2];
    job jobs[2];
    uint64_t start = eos_now_ns();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job){target, raw, op, t, size, 0, 0};
        pthread_create(&th[t], NULL, run, &jobs[t]);
    }
    long total = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        total += jobs[t].ops;
        if (jobs[t].errors)
            fprintf(stderr, "bench: %d errors\n", jobs[t].errors);
    }
    return (double)total / ((double)(eos_now_ns() - start) / 1e9);
}

static double measure(int raw, int op, size_t size, int threads)
{
    return measure_on(ns, raw, op, size, threads);
}

static void preload_ns(eos_kv_ns *target, size_t size)
{
    eos_kv_item items[BATCH];
    char keys[BATCH][32];
    for (long i = 0; i < NKEYS; i += BATCH) {
        for (int b = 0; b < BATCH; b++) {
            key_of(i + b, keys[b]);
            items[b] = (eos_kv_item){keys[b], strlen(keys[b]), value, size, 0};
        }
        eos_kv_set_many(target, items, BATCH, NULL);
    }
}

static void preload(size_t size)
{
    char key[32];
    MDB_txn *t = NULL;
    eos_kv_item items[BATCH];
    char keys[BATCH][32];
    mdb_txn_begin(raw_env, NULL, 0, &t);
    for (long i = 0; i < NKEYS; i++) {
        key_of(i, key);
        MDB_val k = {strlen(key), key}, v = {size, value};
        mdb_put(t, raw_dbi, &k, &v, 0);
    }
    mdb_txn_commit(t);
    for (long i = 0; i < NKEYS; i += BATCH) {
        for (int b = 0; b < BATCH; b++) {
            key_of(i + b, keys[b]);
            items[b] = (eos_kv_item){keys[b], strlen(keys[b]), value, size, 0};
        }
        eos_kv_set_many(ns, items, BATCH, NULL);
    }
}

/* Best of three alternating rounds, so that both sides meet the same
 * machine load (the numbers are the fastest each managed). */
static void row(const char *what, int op, size_t size, int threads)
{
    double raw = 0, enc = 0;
    for (int round = 0; round < 3; round++) {
        double r = measure(1, op, size, threads);
        double e = measure(0, op, size, threads);
        raw = r > raw ? r : raw;
        enc = e > enc ? e : enc;
    }
    printf("%-18s %6zu B  %d thr  %12.0f  %12.0f  %6.2fx\n", what, size, threads, raw, enc,
           raw / enc);
    fflush(stdout);
}

/* The store on LMDB against the store on PostgreSQL, alternating rounds. */
static void row_pg(const char *what, int op, size_t size, int threads)
{
    double lm = 0, pg = 0;
    for (int round = 0; round < 3; round++) {
        double a = measure_on(ns, 0, op, size, threads);
        double b = measure_on(pg_ns, 0, op, size, threads);
        lm = a > lm ? a : lm;
        pg = b > pg ? b : pg;
    }
    printf("%-18s %6zu B  %d thr  %12.0f  %12.0f  %6.2fx\n", what, size, threads, lm, pg, lm / pg);
    fflush(stdout);
}

static int open_pg(const char *conninfo, eos_tee *tee)
{
    eos_diag d;
    eos_diag_init(&d);
    char *pdir = kvt_mkdtemp();
    char table[64];
    kvt_table_name(pdir, table, sizeof table);
    eos_kv_pg_config pc = {.conninfo = conninfo, .table = table};
    eos_kv_config cfg = {.data_dir = pdir, .tee = tee};
    int rc = eos_kv_backend_pg(&pc, &cfg.backend, &d);
    if (rc == 0)
        rc = eos_kv_open(&cfg, &pg_kv, &d);
    if (rc == 0)
        rc = eos_kv_ns_open(pg_kv, "app:bench", &pg_ns, &d);
    if (rc)
        fprintf(stderr, "bench: PostgreSQL: %s\n", d.message);
    kvt_rmdir(pdir);
    return rc;
}

static void pg_section(const char *conninfo, eos_tee *tee)
{
    if (open_pg(conninfo, tee) != 0)
        return;
    printf("\nstore on LMDB against store on PostgreSQL (same crypto; PostgreSQL over TCP "
           "loopback, synchronous_commit on)\n");
    printf("%-18s %8s  %5s  %12s  %12s  %7s\n", "operation", "value", "", "LMDB/s", "PostgreSQL/s",
           "ratio");
    preload(100);
    preload_ns(pg_ns, 100);
    row_pg("get", OP_GET, 100, 1);
    row_pg("get", OP_GET, 100, 2);
    row_pg("set (durable)", OP_SET, 100, 1);
    row_pg("set (durable)", OP_SET, 100, 2);
    row_pg("set, 100 per txn", OP_BATCH, 100, 1);
    eos_kv_ns_close(pg_ns);
    eos_kv_close(pg_kv);
}

int main(int argc, char **argv)
{
    char path[4200];
    MDB_txn *t = NULL;
    eos_diag d;
    if (argc > 1)
        seconds = atof(argv[1]);
    eos_log_set_level(EOS_LOG_WARN);
    dir = kvt_mkdtemp();
    eos_tee *tee = tee_double_new(0x44);
    eos_kv_config cfg = {.data_dir = dir, .tee = tee, .initial_map_size = (size_t)1 << 30};
    eos_diag_init(&d);
    if (!dir || !tee || eos_kv_open(&cfg, &kv, &d) != 0 ||
        eos_kv_ns_open(kv, "app:bench", &ns, &d) != 0) {
        fprintf(stderr, "bench: %s\n", d.message);
        return 1;
    }
    snprintf(path, sizeof path, "%s/raw.mdb", dir);
    mdb_env_create(&raw_env);
    mdb_env_set_mapsize(raw_env, (size_t)1 << 30);
    mdb_env_set_maxreaders(raw_env, 1024);
    if (mdb_env_open(raw_env, path, MDB_NOSUBDIR | MDB_NOTLS, 0600) != 0)
        return 1;
    mdb_txn_begin(raw_env, NULL, 0, &t);
    mdb_dbi_open(t, NULL, 0, &raw_dbi);
    mdb_txn_commit(t);
    value = malloc(10240);
    for (int i = 0; i < 10240; i++)
        value[i] = (uint8_t)(i * 13);

    const char *conninfo = argc > 2 ? argv[2] : getenv("EOS_BENCH_PG");
    if (conninfo && conninfo[0] && getenv("EOS_BENCH_PG_ONLY")) {
        pg_section(conninfo, tee);
        goto done;
    }
    printf("kv bench: best of 3 x %.2f s per cell, %d keys, data dir %s\n", seconds, NKEYS, dir);
    printf("%-18s %8s  %5s  %12s  %12s  %7s\n", "operation", "value", "", "raw LMDB/s",
           "encrypted/s", "ratio");
    static const size_t sizes[] = {100, 10240};
    for (int s = 0; s < 2; s++) {
        preload(sizes[s]);
        row("get", OP_GET, sizes[s], 1);
        row("get", OP_GET, sizes[s], 2);
    }
    for (int s = 0; s < 2; s++) {
        row("set (fsync each)", OP_SET, sizes[s], 1);
        row("set (fsync each)", OP_SET, sizes[s], 2);
        row("set, 100 per txn", OP_BATCH, sizes[s], 1);
    }
    if (conninfo && conninfo[0])
        pg_section(conninfo, tee);
done:
    eos_kv_ns_close(ns);
    eos_kv_close(kv);
    mdb_env_close(raw_env);
    eos_tee_free(tee);
    kvt_rmdir(dir);
    free(value);
    return 0;
}
