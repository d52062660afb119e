/* Announcements between nodes that share a PostgreSQL store: NOTIFY on a
 * channel named after the table, and a dedicated LISTEN connection to wait
 * on. Databases without LISTEN/NOTIFY (CockroachDB) refuse both; callers
 * then fall back to polling, so a refusal only makes waits run to their
 * timeout. */
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "internal.h"

struct eos_kv__pg_listener {
    pthread_mutex_t lock;        /* one waiter on conn at a time */
    pthread_mutex_t notify_lock; /* one announcer on notify_conn */
    char *conninfo;
    size_t conninfo_size;
    char channel[80];
    PGconn *conn;           /* LISTENs */
    PGconn *notify_conn;    /* NOTIFYs, so that a waiter never holds up an announcement */
    atomic_int unsupported; /* the database refused LISTEN: only poll */
};

static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static PGconn *open_conn(eos_kv__pg_listener *l)
{
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"5", "enclave-os listener", l->conninfo, NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, ignore_notice, NULL);
    return c;
}

/* Connects and listens; leaves l->conn NULL when the database is down. */
static void reconnect(eos_kv__pg_listener *l)
{
    char sql[128];
    if (l->conn)
        PQfinish(l->conn);
    if (!(l->conn = open_conn(l)))
        return;
    snprintf(sql, sizeof sql, "LISTEN %s", l->channel);
    PGresult *r = PQexec(l->conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        EOS_INFO("kv", "the database does not deliver LISTEN/NOTIFY (%s); nodes poll instead",
                 PQresultErrorField(r, PG_DIAG_SQLSTATE) ? PQresultErrorField(r, PG_DIAG_SQLSTATE)
                                                         : "no SQLSTATE");
        l->unsupported = 1;
    }
    PQclear(r);
}

int eos_kv__pg_listener_new(const char *conninfo, const char *table, eos_kv__pg_listener **out)
{
    eos_kv__pg_listener *l = eos_calloc(1, sizeof *l);
    if (!l)
        return EOS_ENOMEM;
    l->conninfo_size = strlen(conninfo) + 1;
    l->conninfo = eos_malloc(l->conninfo_size);
    if (!l->conninfo) {
        eos_free(l, sizeof *l);
        return EOS_ENOMEM;
    }
    memcpy(l->conninfo, conninfo, l->conninfo_size);
    snprintf(l->channel, sizeof l->channel, "%s_changed", table);
    pthread_mutex_init(&l->lock, NULL);
    pthread_mutex_init(&l->notify_lock, NULL);
    *out = l;
    return 0;
}

void eos_kv__pg_listener_free(eos_kv__pg_listener *l)
{
    if (!l)
        return;
    if (l->conn)
        PQfinish(l->conn);
    if (l->notify_conn)
        PQfinish(l->notify_conn);
    pthread_mutex_destroy(&l->lock);
    pthread_mutex_destroy(&l->notify_lock);
    eos_free(l->conninfo, l->conninfo_size);
    eos_free(l, sizeof *l);
}

int eos_kv__pg_announce(eos_kv__pg_listener *l)
{
    char sql[128];
    int rc = 0;
    if (l->unsupported)
        return 0;
    pthread_mutex_lock(&l->notify_lock);
    if (l->notify_conn && PQstatus(l->notify_conn) != CONNECTION_OK) {
        PQfinish(l->notify_conn);
        l->notify_conn = NULL;
    }
    if (!l->notify_conn)
        l->notify_conn = open_conn(l);
    if (!l->notify_conn) {
        rc = EOS_ESTORE;
    } else {
        snprintf(sql, sizeof sql, "NOTIFY %s", l->channel);
        PGresult *r = PQexec(l->notify_conn, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = EOS_ESTORE;
        PQclear(r);
    }
    pthread_mutex_unlock(&l->notify_lock);
    return rc;
}

int eos_kv__pg_wait(eos_kv__pg_listener *l, unsigned timeout_ms)
{
    int got = 0;
    pthread_mutex_lock(&l->lock);
    if (!l->conn || PQstatus(l->conn) != CONNECTION_OK)
        reconnect(l);
    if (!l->conn || l->unsupported) {
        pthread_mutex_unlock(&l->lock);
        sleep_ms(timeout_ms);
        return 0;
    }
    for (;;) {
        PGnotify *n;
        PQconsumeInput(l->conn);
        while ((n = PQnotifies(l->conn)) != NULL) {
            got = 1;
            PQfreemem(n);
        }
        if (got || timeout_ms == 0 || PQstatus(l->conn) != CONNECTION_OK)
            break;
        struct pollfd p = {PQsocket(l->conn), POLLIN, 0};
        int e = poll(&p, 1, (int)timeout_ms);
        if (e <= 0)
            break;
        timeout_ms = 0; /* read what arrived, then return */
    }
    pthread_mutex_unlock(&l->lock);
    return got;
}
