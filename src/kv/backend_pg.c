/* The PostgreSQL backend: one table of (key, version, tag || value) rows
 * reached through libpq in pipeline mode, serializable write transactions,
 * a pool of connections, and per-row tags that bind each row to its key and
 * version so that the database operator cannot swap or replay rows. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "internal.h"

#define POOL_MAX         64
#define TAG_SIZE         EOS_KV__PG_TAG_SIZE
#define DEFAULT_RETRY_MS 30000
#define DEFAULT_STMT_MS  30000
#define MAX_TABLE_NAME   48

typedef struct pg_conn {
    PGconn *c;
    int pending; /* results of a pipelined ROLLBACK still to read */
    int broken;  /* out of step with the server: never reused */
    struct pg_conn *next;
} pg_conn;

typedef struct pg_be {
    eos_kv_backend base;
    char *conninfo;
    size_t conninfo_size;
    char table[MAX_TABLE_NAME + 1];
    unsigned retry_ms;
    unsigned stmt_ms;
    pthread_mutex_t pool_lock;
    pg_conn *pool;
    size_t pool_len;
    /* Row authentication, set by bind(); rows read before that are not
     * checked (only the store's key check record is). */
    int bound;
    uint8_t row_key[EOS_KV__KEY_SIZE];
    eos_kv__pg_marks *marks;
    eos_kv__pg_listener *listener;
} pg_be;

/* A version this transaction read or wrote, by key id. */
typedef struct seen_ver {
    uint8_t id[16];
    eos_kv__pg_rowkey rk; /* the row key itself, for the sealed marks */
    int64_t ver;
    int written; /* by this transaction, not yet committed */
    int deleted;
} seen_ver;

struct eos_kv_btxn {
    pg_be *be;
    pg_conn *conn;
    int write;
    int begun;   /* BEGIN was sent */
    int started; /* a statement has completed (a lost connection is no longer silent) */
    int lost;    /* the last statement failed because the connection went away */
    uint64_t start_seq;
    PGresult **res; /* results whose bytes the caller may still hold */
    size_t nres, capres;
    seen_ver *seen; /* writes to record in the high-water marks on commit */
    size_t nseen, capseen;
    /* The last row written and its version: if the connection is lost
     * during COMMIT, finding that version in the database says whether the
     * transaction committed. */
    uint8_t *last_key;
    size_t last_key_size;
    int64_t last_ver;
    uint8_t last_tag[EOS_KV__PG_TAG_SIZE];
};

/* Statements, prepared once per connection. */
enum { ST_GET, ST_SEEK_GE, ST_SEEK_GT, ST_PUT, ST_VER, ST_DEL, ST_WAIT, ST_COUNT };
static const char *const st_names[ST_COUNT] = {"eos_get", "eos_seek_ge", "eos_seek_gt", "eos_put",
                                               "eos_ver", "eos_del",     "eos_wait"};

static const char *st_sql(int st)
{
    switch (st) {
    case ST_GET:
        return "SELECT ver, v FROM %s WHERE k = $1";
    case ST_SEEK_GE:
        return "SELECT k, ver, v FROM %s WHERE k >= $1 ORDER BY k LIMIT 1";
    case ST_SEEK_GT:
        return "SELECT k, ver, v FROM %s WHERE k > $1 ORDER BY k LIMIT 1";
    case ST_PUT:
        /* A row only ever moves to a higher version (see put). */
        return "INSERT INTO %s AS t (k, ver, v) VALUES ($1, $2, $3) ON CONFLICT (k) DO UPDATE "
               "SET ver = excluded.ver, v = excluded.v WHERE t.ver < excluded.ver";
    case ST_VER:
        return "SELECT ver, v FROM %s WHERE k = $1";
    case ST_WAIT:
        /* Waits until any transaction writing the row has ended (the
         * conflict check locks it); changes nothing that is kept. */
        return "INSERT INTO %s AS t (k, ver, v) VALUES ($1, -1, ''::bytea) ON CONFLICT (k) DO "
               "UPDATE SET ver = t.ver WHERE false";
    default:
        return "DELETE FROM %s WHERE k = $1";
    }
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void hwm_commit(eos_kv_btxn *t)
{
    for (size_t i = 0; i < t->nseen; i++)
        if (t->seen[i].written)
            eos_kv__pg_mark_commit(t->be->marks, t->seen[i].id, &t->seen[i].rk, t->seen[i].ver,
                                   t->seen[i].deleted);
}

static void put_be64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(u >> (56 - 8 * i));
}

static int64_t get_be64(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    return (int64_t)u;
}

/* One line of libpq's message, without its trailing newline. */
static const char *pq_msg(const PGconn *c, const PGresult *r, char *buf, size_t size)
{
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (!m || !*m)
        m = c ? PQerrorMessage(c) : "no connection";
    snprintf(buf, size, "%s", m && *m ? m : "unknown error");
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = 0;
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    return buf;
}

static int is_conn_state(const char *st)
{
    /* 08: connection exceptions; 57P0x: the server shutting down or starting. */
    return st && (strncmp(st, "08", 2) == 0 || strncmp(st, "57P0", 4) == 0);
}

/* Maps a failed result to an eos_err. EOS_EAGAIN: run the transaction again
 * (serialization failure, deadlock, or a connection lost before commit). */
static int map_result(eos_kv_btxn *t, PGresult *r, const char *what, eos_diag *diag)
{
    char msg[512];
    PGconn *c = t->conn->c;
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    pq_msg(c, r, msg, sizeof msg);
    if (st && (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0))
        return eos_diag_set(diag, EOS_EAGAIN, "postgres", -1,
                            "PostgreSQL %s: serialization conflict (%s), retrying", what, st);
    if (PQstatus(c) == CONNECTION_BAD || is_conn_state(st) || !r ||
        PQresultStatus(r) != PGRES_FATAL_ERROR)
        return eos_diag_set(diag, EOS_EAGAIN, "postgres", -1,
                            "PostgreSQL %s: the connection was lost (%s)", what, msg);
    if (st && strcmp(st, "57014") == 0)
        return eos_diag_set(diag, EOS_ETIMEDOUT, "postgres", -1,
                            "PostgreSQL %s took longer than %u ms and was cancelled; the "
                            "database is overloaded or blocked",
                            what, t->be->stmt_ms);
    if (st && strncmp(st, "53", 2) == 0)
        return eos_diag_set(diag, EOS_ESTORE, "postgres", -1,
                            "PostgreSQL %s: the database is out of resources (%s): %s", what, st,
                            msg);
    return eos_diag_set(diag, EOS_ESTORE, "postgres", -1, "PostgreSQL %s failed (%s): %s", what,
                        st ? st : "no SQLSTATE", msg);
}

static void conn_free(pg_conn *pc)
{
    if (!pc)
        return;
    if (pc->c)
        PQfinish(pc->c);
    eos_free(pc, sizeof *pc);
}

/* Reads the results of a ROLLBACK sent without waiting. Returns 0, or -1
 * when the connection is no longer usable. */
static int drain(pg_conn *pc)
{
    while (pc->pending) {
        PGresult *r = PQgetResult(pc->c);
        if (!r) {
            if (PQstatus(pc->c) == CONNECTION_BAD)
                return -1;
            continue;
        }
        ExecStatusType s = PQresultStatus(r);
        PQclear(r);
        if (s == PGRES_PIPELINE_SYNC)
            pc->pending = 0;
        else if (s == PGRES_FATAL_ERROR && PQstatus(pc->c) == CONNECTION_BAD)
            return -1;
    }
    return 0;
}

/* Server notices (a ROLLBACK after a failed COMMIT, a table that already
 * exists) are expected; keep them out of the server's output. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    EOS_DEBUG("kv", "PostgreSQL: %s", message);
}

static int setup_conn(pg_be *be, PGconn *c, char *msg, size_t msg_size)
{
    char sql[512];
    PGresult *r;
    /* Durability on acknowledgement whatever the server's default; the
     * databases that replicate by consensus have no such setting and are
     * durable on commit anyway, so a refusal here is not an error. */
    PQclear(PQexec(c, "SET synchronous_commit = on"));
    snprintf(sql, sizeof sql, "SET statement_timeout = %u", be->stmt_ms);
    PQclear(PQexec(c, sql));
    for (int i = 0; i < ST_COUNT; i++) {
        snprintf(sql, sizeof sql, st_sql(i), be->table);
        r = PQprepare(c, st_names[i], sql, 0, NULL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            pq_msg(c, r, msg, msg_size);
        PQclear(r);
        if (!ok)
            return -1;
    }
    if (PQenterPipelineMode(c) != 1) {
        pq_msg(c, NULL, msg, msg_size);
        return -1;
    }
    return 0;
}

static PGconn *connect_once(pg_be *be, char *msg, size_t msg_size)
{
    /* Our defaults come first so that the user's connection string wins. */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"5", "enclave-os", be->conninfo, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c) {
        snprintf(msg, msg_size, "out of memory in libpq");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        pq_msg(c, NULL, msg, msg_size);
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    return c;
}

/* Connects, retrying with backoff for up to the configured time. */
static int connect_retry(pg_be *be, int prepare, PGconn **out, eos_diag *diag)
{
    char msg[512] = "";
    int64_t deadline = eos_kv__now_us() + (int64_t)be->retry_ms * 1000;
    unsigned wait = 50;
    for (int attempt = 0;; attempt++) {
        PGconn *c = connect_once(be, msg, sizeof msg);
        if (c && (!prepare || setup_conn(be, c, msg, sizeof msg) == 0)) {
            if (attempt)
                EOS_INFO("kv", "reached PostgreSQL again after %d attempts", attempt + 1);
            *out = c;
            return 0;
        }
        if (c)
            PQfinish(c);
        if (eos_kv__now_us() + (int64_t)wait * 1000 > deadline)
            break;
        if (attempt == 0 || wait >= 2000)
            EOS_WARN("kv", "cannot reach PostgreSQL (%s); retrying for up to %u s", msg,
                     be->retry_ms / 1000);
        sleep_ms(wait);
        wait = wait * 2 > 2000 ? 2000 : wait * 2;
    }
    return eos_diag_set(diag, EOS_ESTORE, "postgres", -1,
                        "cannot reach PostgreSQL after trying for %u ms: %s", be->retry_ms, msg);
}

static int conn_get(pg_be *be, pg_conn **out, eos_diag *diag)
{
    pg_conn *pc;
    for (;;) {
        pthread_mutex_lock(&be->pool_lock);
        pc = be->pool;
        if (pc) {
            be->pool = pc->next;
            be->pool_len--;
        }
        pthread_mutex_unlock(&be->pool_lock);
        if (!pc)
            break;
        if (PQstatus(pc->c) == CONNECTION_OK && drain(pc) == 0) {
            *out = pc;
            return 0;
        }
        conn_free(pc);
    }
    pc = eos_calloc(1, sizeof *pc);
    if (!pc)
        return eos_diag_set(diag, EOS_ENOMEM, "postgres", -1, "out of memory");
    int rc = connect_retry(be, 1, &pc->c, diag);
    if (rc) {
        eos_free(pc, sizeof *pc);
        return rc;
    }
    *out = pc;
    return 0;
}

static void conn_put(pg_be *be, pg_conn *pc)
{
    if (pc->broken || PQstatus(pc->c) != CONNECTION_OK) {
        conn_free(pc);
        return;
    }
    pthread_mutex_lock(&be->pool_lock);
    if (be->pool_len < POOL_MAX) {
        pc->next = be->pool;
        be->pool = pc;
        be->pool_len++;
        pc = NULL;
    }
    pthread_mutex_unlock(&be->pool_lock);
    conn_free(pc);
}

/* write: 0 read, 1 write, 2 the commit probe (each statement sees what
 * has committed by then). */
static const char *begin_sql(int write)
{
    return write == 2 ? "BEGIN ISOLATION LEVEL READ COMMITTED"
           : write    ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                      : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
}

/* Reads one query's result and the NULL after it. */
static PGresult *take_result(PGconn *c)
{
    PGresult *r = PQgetResult(c);
    if (r && PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
        PGresult *extra;
        while ((extra = PQgetResult(c)) != NULL) {
            ExecStatusType s = PQresultStatus(extra);
            PQclear(extra);
            if (s == PGRES_PIPELINE_SYNC)
                break;
        }
    }
    return r;
}

/* Sends BEGIN when the transaction has not, then the statement (st >= 0) or
 * the text sql, then a sync, and reads it all back in one round trip.
 * Returns 0 with *out the statement's result (free with PQclear), or an
 * eos_err. A connection found dead before the transaction did anything is
 * replaced silently. */
static int run(eos_kv_btxn *t, int st, const char *sql, int nparams, const char *const *vals,
               const int *lens, const char *what, PGresult **out, eos_diag *diag)
{
    static const int formats[3] = {1, 1, 1};
    for (int attempt = 0;; attempt++) {
        PGconn *c = t->conn->c;
        int with_begin = !t->begun;
        int sent = (!with_begin ||
                    PQsendQueryParams(c, begin_sql(t->write), 0, NULL, NULL, NULL, NULL, 0)) &&
                   (st >= 0 ? PQsendQueryPrepared(c, st_names[st], nparams, vals, lens, formats, 1)
                            : PQsendQueryParams(c, sql, 0, NULL, NULL, NULL, NULL, 1)) &&
                   PQpipelineSync(c);
        PGresult *rb = NULL, *r = NULL, *sync = NULL;
        if (sent) {
            if (with_begin)
                rb = take_result(c);
            r = take_result(c);
            sync = PQgetResult(c);
        }
        /* The statement's own answer decides; a sync that does not follow
         * (the connection died just after) only retires the connection. */
        int ok = sent && (!with_begin || (rb && PQresultStatus(rb) == PGRES_COMMAND_OK)) && r &&
                 (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
        if (!sync || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
            /* Out of step: the connection cannot be trusted with more. */
            PQclear(sync);
            sync = NULL;
            if (sent)
                t->conn->broken = 1;
        }
        PQclear(sync);
        if (ok) {
            PQclear(rb);
            t->begun = 1;
            t->started = 1;
            *out = r;
            return 0;
        }
        PGresult *bad = rb && PQresultStatus(rb) != PGRES_COMMAND_OK ? rb : r;
        /* The caller's diag keeps its first message: fill it only with the
         * error that is returned, not one that a retry gets past. */
        eos_diag local;
        eos_diag_init(&local);
        int rc = map_result(t, bad, what, &local);
        int lost = PQstatus(c) == CONNECTION_BAD ||
                   is_conn_state(bad ? PQresultErrorField(bad, PG_DIAG_SQLSTATE) : NULL) || !sent ||
                   !r || (bad && PQresultStatus(bad) != PGRES_FATAL_ERROR);
        PQclear(rb);
        PQclear(r);
        t->lost = lost;
        if (with_begin)
            t->begun = 1; /* the server's transaction is in an error state or gone */
        if (!(lost && !t->started && attempt < 3))
            return eos_diag_set(diag, rc, local.step, -1, "%s", local.message);
        /* Nothing of this transaction reached the database: reconnect and
         * run the same statement again. */
        EOS_DEBUG("kv", "PostgreSQL connection lost before use; reconnecting");
        t->begun = 0;
        PQfinish(c);
        t->conn->c = NULL;
        t->conn->broken = 0;
        if ((rc = connect_retry(t->be, 1, &t->conn->c, diag)) != 0)
            return rc;
    }
}

static int keep_result(eos_kv_btxn *t, PGresult *r, eos_diag *diag)
{
    if (t->nres == t->capres) {
        size_t c = t->capres ? 2 * t->capres : 8;
        PGresult **a = eos_realloc(t->res, t->capres * sizeof *a, c * sizeof *a);
        if (!a) {
            PQclear(r);
            return eos_diag_set(diag, EOS_ENOMEM, "postgres", -1, "out of memory");
        }
        t->res = a;
        t->capres = c;
    }
    t->res[t->nres++] = r;
    return 0;
}

static void drop_results(eos_kv_btxn *t)
{
    for (size_t i = 0; i < t->nres; i++)
        PQclear(t->res[i]);
    t->nres = 0;
}

static seen_ver *seen_find(eos_kv_btxn *t, const uint8_t id[16])
{
    for (size_t i = t->nseen; i-- > 0;)
        if (memcmp(t->seen[i].id, id, 16) == 0)
            return &t->seen[i];
    return NULL;
}

static int seen_add(eos_kv_btxn *t, const uint8_t id[16], const uint8_t *k, size_t ks, int64_t ver,
                    int written, int deleted, eos_diag *diag)
{
    seen_ver *s = seen_find(t, id);
    if (!s) {
        if (t->nseen == t->capseen) {
            size_t c = t->capseen ? 2 * t->capseen : 8;
            seen_ver *a = eos_realloc(t->seen, t->capseen * sizeof *a, c * sizeof *a);
            if (!a)
                return eos_diag_set(diag, EOS_ENOMEM, "postgres", -1, "out of memory");
            t->seen = a;
            t->capseen = c;
        }
        s = &t->seen[t->nseen++];
        memcpy(s->id, id, 16);
        eos_kv__pg_rowkey_set(&s->rk, k, ks);
        s->written = 0;
    }
    s->ver = ver;
    s->written |= written;
    s->deleted = deleted;
    return 0;
}

static int pg_begin(eos_kv_backend *b, int write, eos_kv_btxn **out, eos_diag *diag)
{
    pg_be *be = b->impl;
    eos_kv_btxn *t = eos_calloc(1, sizeof *t);
    if (!t)
        return eos_diag_set(diag, EOS_ENOMEM, "postgres", -1, "out of memory");
    t->be = be;
    t->write = write;
    t->start_seq = eos_kv__pg_marks_seq(be->marks);
    int rc = conn_get(be, &t->conn, diag);
    if (rc) {
        eos_free(t, sizeof *t);
        return rc;
    }
    *out = t;
    return 0;
}

static void txn_free(eos_kv_btxn *t)
{
    drop_results(t);
    eos_free(t->res, t->capres * sizeof *t->res);
    eos_free(t->seen, t->capseen * sizeof *t->seen);
    eos_free(t->last_key, t->last_key_size);
    eos_free(t, sizeof *t);
}

static int pg_begin(eos_kv_backend *b, int write, eos_kv_btxn **out, eos_diag *diag);
static int run(eos_kv_btxn *t, int st, const char *sql, int nparams, const char *const *vals,
               const int *lens, const char *what, PGresult **out, eos_diag *diag);
static void pg_abort(eos_kv_btxn *t);

/* After a connection lost during COMMIT, waits for that transaction to end
 * and looks at its last write. 1: the row holds exactly that write (it
 * committed); 0: the row holds an older version (it did not); an eos_err
 * when it cannot be told (the row was deleted or overwritten since). */
static int probe_commit(eos_kv_btxn *t, eos_diag *diag)
{
    eos_kv_btxn *p = NULL;
    PGresult *r = NULL;
    if (!t->last_key)
        return EOS_ESTORE;
    const char *vals[1] = {(const char *)t->last_key};
    int lens[1] = {(int)t->last_key_size};
    int rc = pg_begin(&t->be->base, 2, &p, diag);
    if (rc)
        return rc;
    if ((rc = run(p, ST_WAIT, NULL, 1, vals, lens, "commit check", &r, diag)) == 0) {
        PQclear(r);
        r = NULL;
        rc = run(p, ST_VER, NULL, 1, vals, lens, "commit check", &r, diag);
    }
    if (rc == 0) {
        int64_t ver = PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 8
                          ? get_be64((const uint8_t *)PQgetvalue(r, 0, 0))
                          : -1;
        const uint8_t *v = (const uint8_t *)PQgetvalue(r, 0, 1);
        if (ver == t->last_ver && PQgetlength(r, 0, 1) >= EOS_KV__PG_TAG_SIZE &&
            memcmp(v, t->last_tag, EOS_KV__PG_TAG_SIZE) == 0)
            rc = 1;
        else if (ver >= 0 && ver < t->last_ver)
            rc = 0;
        else
            rc = EOS_ESTORE;
    }
    PQclear(r);
    pg_abort(p); /* rolls back the probe's placeholder row, if it made one */
    return rc;
}

/* Ends the server's transaction without waiting for the answer; the next
 * user of the connection reads it. */
static void rollback_async(eos_kv_btxn *t)
{
    pg_conn *pc = t->conn;
    if (t->begun && pc->c && !pc->broken && PQstatus(pc->c) == CONNECTION_OK) {
        if (PQsendQueryParams(pc->c, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0) &&
            PQpipelineSync(pc->c))
            pc->pending = 1;
        else
            PQfinish(pc->c), pc->c = NULL;
    }
}

static void pg_abort(eos_kv_btxn *t)
{
    rollback_async(t);
    if (t->conn->c)
        conn_put(t->be, t->conn);
    else
        conn_free(t->conn);
    txn_free(t);
}

static int pg_commit(eos_kv_btxn *t, eos_diag *diag)
{
    if (!t->write || !t->begun) {
        pg_abort(t);
        return 0;
    }
    PGresult *r = NULL;
    drop_results(t);
    int rc = run(t, -1, "COMMIT", 0, NULL, NULL, "commit", &r, diag);
    if (rc == 0 && strcmp(PQcmdStatus(r), "COMMIT") != 0)
        rc = eos_diag_set(diag, EOS_EAGAIN, "postgres", -1,
                          "PostgreSQL rolled the transaction back instead of committing it");
    else if (rc == EOS_EAGAIN && t->lost) {
        /* The COMMIT may or may not have been applied: look, never guess. */
        eos_diag inner;
        eos_diag_init(&inner);
        int done = probe_commit(t, &inner);
        if (diag)
            eos_diag_init(diag);
        if (done == 1) {
            EOS_INFO("kv", "the connection to PostgreSQL was lost during a commit that went "
                           "through");
            rc = 0;
        } else if (done == 0) {
            rc = eos_diag_set(diag, EOS_EAGAIN, "postgres", -1,
                              "the connection to PostgreSQL was lost before the commit");
        } else {
            rc = eos_diag_set(diag, EOS_ESTORE, "postgres", -1,
                              "the connection to PostgreSQL was lost while committing, and "
                              "whether the write was applied cannot be told (%s)",
                              inner.message[0] ? inner.message : "no row to look for");
        }
    }
    PQclear(r);
    if (rc == 0) {
        hwm_commit(t);
        t->begun = 0;
    }
    pg_abort(t);
    return rc;
}

/* Checks a row read from the database: its tag and its version against the
 * high-water mark. v, vs: the stored value (tag || data). */
static int check_row(eos_kv_btxn *t, const uint8_t *k, size_t ks, const char *ver_p, int ver_len,
                     const uint8_t *v, size_t vs, eos_diag *diag)
{
    pg_be *be = t->be;
    uint8_t tag[TAG_SIZE], id[16];
    if (ver_len != 8 || vs < TAG_SIZE)
        return eos_diag_set(diag, EOS_ECORRUPT, "postgres", -1,
                            "a row of table %s has the wrong shape; it was altered", be->table);
    int64_t ver = get_be64((const uint8_t *)ver_p);
    if (!be->bound)
        return 0;
    int rc = eos_kv__pg_row_tag(be->row_key, k, ks, ver, v + TAG_SIZE, vs - TAG_SIZE, tag);
    if (rc)
        return eos_diag_set(diag, rc, "postgres", -1, "HMAC failed");
    if (CRYPTO_memcmp(tag, v, TAG_SIZE) != 0)
        return eos_diag_set(diag, EOS_ECORRUPT, "postgres", -1,
                            "a row of table %s fails authentication: it was altered, moved to "
                            "another key or given another version",
                            be->table);
    eos_kv__pg_hlc_observe(be->marks, ver); /* authentic: written by a node of this cluster */
    eos_kv__pg_key_id(k, ks, id);
    seen_ver *own = seen_find(t, id);
    if (own && own->written)
        return 0; /* this transaction's own write, not committed yet */
    int64_t mark = 0;
    if (eos_kv__pg_mark_check(be->marks, id, k, ks, ver, t->start_seq, &mark) != 0)
        return eos_diag_set(diag, EOS_ECORRUPT, "postgres", -1,
                            "a row of table %s is at version %lld but version %lld was "
                            "committed before: the database replayed an old row or was rolled "
                            "back",
                            be->table, (long long)ver, (long long)mark);
    return seen_add(t, id, k, ks, ver, 0, 0, diag) == 0 ? 0 : EOS_ENOMEM;
}

static int pg_get(eos_kv_btxn *t, const uint8_t *key, size_t key_size, const uint8_t **out_val,
                  size_t *out_val_size, eos_diag *diag)
{
    const char *vals[1] = {(const char *)key};
    int lens[1] = {(int)key_size};
    PGresult *r = NULL;
    int rc = run(t, ST_GET, NULL, 1, vals, lens, "read", &r, diag);
    if (rc)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return EOS_ENOTFOUND;
    }
    if ((rc = keep_result(t, r, diag)) != 0)
        return rc;
    const uint8_t *v = (const uint8_t *)PQgetvalue(r, 0, 1);
    size_t vs = (size_t)PQgetlength(r, 0, 1);
    rc = check_row(t, key, key_size, PQgetvalue(r, 0, 0), PQgetlength(r, 0, 0), v, vs, diag);
    if (rc)
        return rc;
    *out_val = v + TAG_SIZE;
    *out_val_size = vs - TAG_SIZE;
    return 0;
}

static int pg_seek(eos_kv_btxn *t, const uint8_t *key, size_t key_size, int after,
                   const uint8_t **out_key, size_t *out_key_size, const uint8_t **out_val,
                   size_t *out_val_size, eos_diag *diag)
{
    const char *vals[1] = {key_size ? (const char *)key : ""};
    int lens[1] = {(int)key_size};
    PGresult *r = NULL;
    int rc = run(t, after ? ST_SEEK_GT : ST_SEEK_GE, NULL, 1, vals, lens, "seek", &r, diag);
    if (rc)
        return rc;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return EOS_ENOTFOUND;
    }
    if ((rc = keep_result(t, r, diag)) != 0)
        return rc;
    const uint8_t *k = (const uint8_t *)PQgetvalue(r, 0, 0);
    size_t ks = (size_t)PQgetlength(r, 0, 0);
    const uint8_t *v = (const uint8_t *)PQgetvalue(r, 0, 2);
    size_t vs = (size_t)PQgetlength(r, 0, 2);
    rc = check_row(t, k, ks, PQgetvalue(r, 0, 1), PQgetlength(r, 0, 1), v, vs, diag);
    if (rc)
        return rc;
    *out_key = k;
    *out_key_size = ks;
    *out_val = v + TAG_SIZE;
    *out_val_size = vs - TAG_SIZE;
    return 0;
}

static int read_ver(eos_kv_btxn *t, const uint8_t *key, size_t key_size, int64_t *out,
                    eos_diag *diag)
{
    const char *vals[1] = {(const char *)key};
    int lens[1] = {(int)key_size};
    PGresult *r = NULL;
    int rc = run(t, ST_VER, NULL, 1, vals, lens, "read", &r, diag);
    if (rc)
        return rc;
    *out = PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 8
               ? get_be64((const uint8_t *)PQgetvalue(r, 0, 0))
               : 0;
    PQclear(r);
    return 0;
}

static int pg_put(eos_kv_btxn *t, const uint8_t *key, size_t key_size, const uint8_t *val,
                  size_t val_size, eos_diag *diag)
{
    pg_be *be = t->be;
    uint8_t id[16], verb[8];
    int rc = 0;
    if (val_size > (size_t)EOS_KV_MAX_VALUE_SIZE + 65536)
        return eos_diag_set(diag, EOS_ETOOBIG, "postgres", -1, "value too large");
    uint8_t *row = eos_malloc(TAG_SIZE + val_size);
    if (!row)
        return eos_diag_set(diag, EOS_ENOMEM, "postgres", -1, "out of memory");
    drop_results(t);
    eos_kv__pg_key_id(key, key_size, id);
    seen_ver *s = seen_find(t, id);
    int64_t floor = s ? s->ver : 0;
    for (int attempt = 0;; attempt++) {
        int64_t ver = eos_kv__pg_hlc_next(be->marks, floor);
        if (val_size)
            memcpy(row + TAG_SIZE, val, val_size);
        if ((rc = eos_kv__pg_row_tag(be->row_key, key, key_size, ver, val, val_size, row)) != 0) {
            rc = eos_diag_set(diag, rc, "postgres", -1, "HMAC failed");
            break;
        }
        put_be64(verb, ver);
        const char *vals[3] = {(const char *)key, (const char *)verb, (const char *)row};
        int lens[3] = {(int)key_size, 8, (int)(TAG_SIZE + val_size)};
        PGresult *r = NULL;
        if ((rc = run(t, ST_PUT, NULL, 3, vals, lens, "write", &r, diag)) != 0)
            break;
        int done = strcmp(PQcmdTuples(r), "0") != 0;
        PQclear(r);
        if (done) {
            rc = seen_add(t, id, key, key_size, ver, 1, 0, diag);
            if (rc == 0 && t->last_key_size != key_size) {
                eos_free(t->last_key, t->last_key_size);
                t->last_key_size = 0;
                if ((t->last_key = eos_malloc(key_size)) == NULL)
                    rc = eos_diag_set(diag, EOS_ENOMEM, "postgres", -1, "out of memory");
                else
                    t->last_key_size = key_size;
            }
            if (rc == 0) {
                memcpy(t->last_key, key, key_size);
                t->last_ver = ver;
                memcpy(t->last_tag, row, EOS_KV__PG_TAG_SIZE);
            }
            break;
        }
        /* The row holds a version at or above ours that this transaction
         * had not read (another node's clock is ahead): go past it. */
        if (attempt >= 3) {
            rc = eos_diag_set(diag, EOS_ECORRUPT, "postgres", -1,
                              "a row of table %s keeps a version from the future", be->table);
            break;
        }
        if ((rc = read_ver(t, key, key_size, &floor, diag)) != 0)
            break;
        /* Unauthenticated here: a version no clock reaches is refused
         * rather than followed to the end of the range. */
        if (floor < 0 || floor > eos_kv__now_us() + (int64_t)86400 * 1000000 * 365) {
            rc = eos_diag_set(diag, EOS_ECORRUPT, "postgres", -1,
                              "a row of table %s has an impossible version %lld; it was altered",
                              be->table, (long long)floor);
            break;
        }
    }
    eos_free(row, TAG_SIZE + val_size);
    return rc;
}

static int pg_del(eos_kv_btxn *t, const uint8_t *key, size_t key_size, eos_diag *diag)
{
    const char *vals[1] = {(const char *)key};
    int lens[1] = {(int)key_size};
    uint8_t id[16];
    PGresult *r = NULL;
    drop_results(t);
    int rc = run(t, ST_DEL, NULL, 1, vals, lens, "delete", &r, diag);
    if (rc)
        return rc;
    int gone = strcmp(PQcmdTuples(r), "0") != 0;
    PQclear(r);
    if (!gone)
        return EOS_ENOTFOUND;
    eos_kv__pg_key_id(key, key_size, id);
    return seen_add(t, id, key, key_size, 1, 1, 1, diag);
}

static int pg_bind(eos_kv_backend *b, const uint8_t key[EOS_KV__KEY_SIZE], eos_diag *diag)
{
    pg_be *be = b->impl;
    (void)diag;
    memcpy(be->row_key, key, sizeof be->row_key);
    be->bound = 1;
    return 0;
}

static int pg_announce(eos_kv_backend *b, eos_diag *diag)
{
    pg_be *be = b->impl;
    int rc = eos_kv__pg_announce(be->listener);
    return rc ? eos_diag_set(diag, rc, "postgres", -1, "cannot reach PostgreSQL to announce") : 0;
}

static int pg_wait(eos_kv_backend *b, unsigned timeout_ms)
{
    pg_be *be = b->impl;
    return eos_kv__pg_wait(be->listener, timeout_ms);
}

static int pg_marks_export(eos_kv_backend *b, int force, uint8_t **out, size_t *out_size)
{
    pg_be *be = b->impl;
    return eos_kv__pg_marks_export(be->marks, force, out, out_size);
}

static int pg_marks_import(eos_kv_backend *b, const uint8_t *in, size_t size, eos_diag *diag)
{
    pg_be *be = b->impl;
    return eos_kv__pg_marks_restore(b, be->marks, be->table, in, size, diag);
}

static void pg_destroy(eos_kv_backend *b)
{
    pg_be *be = b->impl;
    eos_kv__pg_listener_free(be->listener);
    while (be->pool) {
        pg_conn *pc = be->pool;
        be->pool = pc->next;
        conn_free(pc);
    }
    pthread_mutex_destroy(&be->pool_lock);
    eos_kv__pg_marks_free(be->marks);
    OPENSSL_cleanse(be->row_key, sizeof be->row_key);
    if (be->conninfo) {
        OPENSSL_cleanse(be->conninfo, be->conninfo_size);
        eos_free(be->conninfo, be->conninfo_size);
    }
    eos_free(be, sizeof *be);
}

static const eos_kv_backend_ops pg_ops = {
    .name = "postgres",
    .begin = pg_begin,
    .commit = pg_commit,
    .abort = pg_abort,
    .get = pg_get,
    .put = pg_put,
    .del = pg_del,
    .seek = pg_seek,
    .grow = NULL,
    .bind = pg_bind,
    .announce = pg_announce,
    .wait = pg_wait,
    .marks_export = pg_marks_export,
    .marks_import = pg_marks_import,
    .destroy = pg_destroy,
};

/* Creates the table when absent. Several nodes starting together may race
 * on it; the loser's duplicate-object error is harmless. */
static int create_table(pg_be *be, eos_diag *diag)
{
    char sql[256], msg[512];
    PGconn *c = NULL;
    int rc = connect_retry(be, 0, &c, diag);
    if (rc)
        return rc;
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS %s (k bytea PRIMARY KEY, ver bigint NOT NULL, "
             "v bytea NOT NULL)",
             be->table);
    PGresult *r = PQexec(c, sql);
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (PQresultStatus(r) != PGRES_COMMAND_OK &&
        !(st && (strcmp(st, "23505") == 0 || strcmp(st, "42P07") == 0)))
        rc = eos_diag_set(diag, EOS_ESTORE, "postgres", -1, "cannot create table %s: %s", be->table,
                          pq_msg(c, r, msg, sizeof msg));
    PQclear(r);
    PQfinish(c);
    return rc;
}

static int valid_table(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_TABLE_NAME || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

int eos_kv_backend_pg(const eos_kv_pg_config *cfg, eos_kv_backend **out, eos_diag *diag)
{
    int rc = 0;
    const char *table = cfg && cfg->table ? cfg->table : "eos_kv";
    if (!cfg || !cfg->conninfo)
        return eos_diag_set(diag, EOS_EINVAL, "postgres", -1, "no PostgreSQL connection string");
    if (!valid_table(table))
        return eos_diag_set(diag, EOS_EINVAL, "postgres", -1,
                            "table name '%s' must be 1 to %d of [a-z0-9_], not starting with a "
                            "digit",
                            table, MAX_TABLE_NAME);
    if (PQisthreadsafe() != 1)
        return eos_diag_set(diag, EOS_EUNSUPPORTED, "postgres", -1,
                            "this libpq was built without thread safety");
    pg_be *be = eos_calloc(1, sizeof *be);
    if (!be)
        return eos_diag_set(diag, EOS_ENOMEM, "postgres", -1, "out of memory");
    pthread_mutex_init(&be->pool_lock, NULL);
    be->base.ops = &pg_ops;
    be->base.impl = be;
    snprintf(be->table, sizeof be->table, "%s", table);
    be->retry_ms = cfg->retry_ms ? cfg->retry_ms : DEFAULT_RETRY_MS;
    be->stmt_ms = cfg->statement_timeout_ms ? cfg->statement_timeout_ms : DEFAULT_STMT_MS;
    be->conninfo_size = strlen(cfg->conninfo) + 1;
    be->conninfo = eos_malloc(be->conninfo_size);
    if (!be->conninfo || eos_kv__pg_marks_new(&be->marks) != 0) {
        rc = eos_diag_set(diag, EOS_ENOMEM, "postgres", -1, "out of memory");
        goto out;
    }
    memcpy(be->conninfo, cfg->conninfo, be->conninfo_size);
    if (eos_kv__pg_listener_new(be->conninfo, be->table, &be->listener) != 0) {
        rc = eos_diag_set(diag, EOS_ENOMEM, "postgres", -1, "out of memory");
        goto out;
    }
    if ((rc = create_table(be, diag)) != 0)
        goto out;
    /* One connection now, so that a bad table or permission shows at start. */
    pg_conn *pc = NULL;
    if ((rc = conn_get(be, &pc, diag)) != 0)
        goto out;
    conn_put(be, pc);
    *out = &be->base;
    be = NULL;
out:
    if (be)
        pg_destroy(&be->base);
    return rc;
}

int eos_kv_backend_is_pg_uri(const char *s)
{
    return s && (strncmp(s, "postgres://", 11) == 0 || strncmp(s, "postgresql://", 13) == 0 ||
                 strncmp(s, "service=", 8) == 0);
}
