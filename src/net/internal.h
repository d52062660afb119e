/* Private declarations of the net layer: yajl glue, the TLS connection
 * helpers and the pieces the server's files share. */
#ifndef EOS_NET_INTERNAL_H
#define EOS_NET_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include <openssl/ssl.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "eos/cm.h"
#include "eos/net.h"
#include "eos/ratls.h"
#include "eos/wasi.h"

/* A yajl parser whose memory goes through the eos allocator hook. When the
 * hook fails, *oom_flag is set (yajl keeps running on libc memory so it
 * cannot crash) and the caller must fail with EOS_ENOMEM after yajl returns.
 * NULL when out of memory. Free with yajl_free(). cb and oom_flag are
 * borrowed for the parser's lifetime. */
yajl_handle eos_net__yajl_new(const yajl_callbacks *cb, void *cb_ctx, int *oom_flag);
/* A JSON generator on the same allocator shim; free with yajl_gen_free(). */
yajl_gen eos_net__yajl_gen_new(int *oom_flag);
/* Copies the generator's document into a NUL-terminated string (free with
 * eos_free(*out, *out_size + 1)) and frees the generator in every case. */
int eos_net__gen_finish(yajl_gen g, char **out, size_t *out_size);
/* Records yajl's last error as an EOS_EMALFORMED diag at offset. Borrows all. */
void eos_net__yajl_error(yajl_handle h, const uint8_t *chunk, size_t chunk_size, int64_t offset,
                         eos_diag *d);

#define EOS_NET__READ_CHUNK 16384
/* Stop reading a connection's requests while this much output waits. */
#define EOS_NET__OUT_HIGH_WATER ((size_t)1 << 20)
/* Bytes a connection may read per wake-up before others get their turn. */
#define EOS_NET__READ_BUDGET ((size_t)256 << 10)

typedef struct eos_net__worker eos_net__worker;
typedef struct eos_net__conn eos_net__conn;

/* A loaded app. Immutable once in the table except for its counters; freed
 * when the last reference goes (the table's, or a request's in flight). */
typedef struct eos_net__app {
    atomic_long refs;
    char *name, *route, *hostname; /* hostname NULL when none */
    char *env_json;                /* canonical env object, or NULL */
    eos_wasi_env *env;
    size_t env_count;
    uint8_t code_hash[32];
    uint8_t *bytes; /* the component, kept only with --persist-apps */
    size_t size;
    uint64_t max_fuel, max_memory_mb;
    eos_cm_component *comp;
    eos_wasi_app *wapp;
    char *info; /* unused; reserved for a cached JSON description */
    atomic_ullong requests, errors, fuel;
} eos_net__app;

typedef struct eos_net__apps {
    pthread_mutex_t lock; /* guards v and n: held only to copy or swap them */
    pthread_mutex_t mgmt; /* serialises loads and unloads with the certificates */
    eos_net__app **v;
    size_t n;
} eos_net__apps;

/* Largest per-call fuel an app may ask for at load. */
#define EOS_NET__MAX_FUEL ((uint64_t)10000000000ull)

typedef struct eos_net__load_args {
    const char *name, *route, *hostname, *env_json;
    uint8_t *bytes; /* taken over by eos_net__app_create */
    size_t size;
    uint64_t max_fuel, max_memory_mb;
} eos_net__load_args;

#define EOS_NET__LAT_BUCKETS 12
typedef struct eos_net__metrics {
    atomic_ullong connections, handshakes, http_requests, http_errors, frames, loads;
    atomic_ullong lat[EOS_NET__LAT_BUCKETS + 1]; /* request latency histogram (+Inf last) */
    atomic_ullong lat_sum_us;
} eos_net__metrics;

struct eos_net_server {
    eos_net_server_config cfg; /* strings point into the copies below */
    char *listen_copy;
    char *tee_copy;
    SSL_CTX *ssl_ctx;
    int listen_fd;
    int stop_fd; /* eventfd: becomes readable once a stop is requested */
    int port;
    atomic_int stopping;
    int nworkers;
    eos_net__worker *workers;
    char *token_copy;
    int apps_ready;
    eos_kv_ns *sys_ns; /* --persist-apps: where apps are kept */
    int restoring;
    eos_net__apps apps;
    eos_net__metrics metrics;
};

typedef enum eos_net__conn_state {
    CONN_HANDSHAKE, /* TLS handshake in progress */
    CONN_SNIFF,     /* waiting for the first bytes to pick a protocol */
    CONN_FRAMED,    /* the framed management protocol */
    CONN_HTTP       /* HTTP/1.1 */
} eos_net__conn_state;

struct eos_net__conn {
    eos_net__worker *w;
    int fd;
    SSL *ssl;
    eos_net__conn_state state;
    int loopback;  /* peer is 127.0.0.0/8 or ::1 */
    char peer[64]; /* "addr:port" for logs */
    uint8_t sniff[4];
    size_t sniff_len;
    eos_net_decoder *dec;
    eos_net_request *req;
    void *http;   /* http.c's state */
    uint8_t *out; /* pending output (plaintext), written from out_off */
    size_t out_off;
    size_t out_len;
    size_t out_cap;
    int write_retry_len;   /* length of the SSL_write to repeat after WANT_*, 0 = none */
    int read_wants_write;  /* SSL_read returned WANT_WRITE */
    int write_wants_read;  /* SSL_write returned WANT_READ */
    int hs_wants_write;    /* handshake needs the socket writable */
    int close_after_flush; /* no more input; close once output is written */
    int dead;
    int ssl_fatal;   /* the TLS session failed: no close_notify may be sent */
    unsigned events; /* current epoll interest */
    uint64_t last_active_ns;
    eos_net__conn *prev, *next; /* the worker's list, least recently active first */
    eos_net__conn *ready_next;  /* the worker's ready list (data buffered inside TLS) */
    int in_ready;
    eos_net__conn *grave_next; /* the worker's list of closed connections to free */
};

struct eos_net__worker {
    eos_net_server *srv;
    int id;
    int epfd;
    pthread_t thread;
    int started;
    int listening;             /* the listening socket is in this worker's epoll */
    uint64_t accept_resume_ns; /* accept paused after EMFILE until then */
    int draining;
    uint64_t drain_deadline_ns;
    eos_net__conn *head, *tail;
    eos_net__conn *ready;
    eos_net__conn *graveyard;
    long nconns;
    uint8_t rbuf[EOS_NET__READ_CHUNK];
};

/* worker.c */
void *eos_net__worker_main(void *arg);
void eos_net__conn_touch(eos_net__conn *c);
void eos_net__mark_ready(eos_net__conn *c);
/* Frees the connections closed since the last call. */
void eos_net__worker_reap(eos_net__worker *w);

/* conn.c: the TLS connection state machine. */
int eos_net__conn_open(eos_net__worker *w, int fd, const struct sockaddr *peer, socklen_t peer_len);
void eos_net__conn_event(eos_net__conn *c, unsigned events);
void eos_net__conn_close(eos_net__conn *c, const char *why);
/* Appends size bytes (borrowed) to the output; EOS_ENOMEM. */
int eos_net__conn_queue(eos_net__conn *c, const uint8_t *bytes, size_t size);
/* True when nothing is in flight: no partial frame, no pending output. */
int eos_net__conn_quiescent(const eos_net__conn *c);

/* proto.c: what the bytes after the handshake mean. */
void eos_net__proto_input(eos_net__conn *c, const uint8_t *data, size_t size);
void eos_net__proto_free(eos_net__conn *c);

/* apps.c: the app table. */
void eos_net__apps_init(eos_net__apps *t);
void eos_net__apps_fini(eos_net__apps *t);
void eos_net__app_ref(eos_net__app *a);
void eos_net__app_unref(eos_net__app *a);
int eos_net__app_name_valid(const char *name);
/* Runs steps 2-4 of a load; takes ownership of args->bytes. *out has one reference. */
int eos_net__app_create(eos_net_server *srv, const eos_net__load_args *args, eos_net__app **out,
                        eos_diag *d);
/* Steps 5-6 and the table swap, atomically; borrows a (the table takes its own reference
 * on success: the caller still drops its own). */
int eos_net__apps_install(eos_net_server *srv, eos_net__app *a, eos_diag *d);
int eos_net__apps_remove(eos_net_server *srv, const char *name, eos_diag *d);
/* Lookups return a new reference (eos_net__app_unref) or NULL. */
eos_net__app *eos_net__apps_get(eos_net_server *srv, const char *name);
eos_net__app *eos_net__apps_route(eos_net_server *srv, const char *host, const char *path,
                                  size_t *out_prefix_len);
int eos_net__apps_snapshot(eos_net_server *srv, eos_net__app ***out, size_t *out_count);
void eos_net__apps_snapshot_free(eos_net__app **v, size_t n);
void eos_net__app_gen_info(yajl_gen g, const eos_net__app *a);

/* persist.c: --persist-apps records (no-ops without it). */
int eos_net__persist_save(eos_net_server *srv, const eos_net__app *a, eos_diag *d);
int eos_net__persist_delete(eos_net_server *srv, const char *name, eos_diag *d);

/* mgmt.c: inner requests (SPEC 3.1). auth_ok says whether the connection
 * itself is authorised (dev loopback or management client certificate).
 * Returns the response document in *out (free with eos_free(*out, *out_size + 1)). */
int eos_net__mgmt_handle(eos_net_server *srv, eos_net_request *req, int conn_authorised, char **out,
                         size_t *out_size);
/* A load from raw bytes (HTTP PUT), same pipeline; takes ownership of args->bytes. */
int eos_net__mgmt_load(eos_net_server *srv, const eos_net__load_args *args, char **out,
                       size_t *out_size);
/* Unloads name; erase also deletes the app's stored data. */
int eos_net__mgmt_unload(eos_net_server *srv, const char *name, int erase, char **out,
                         size_t *out_size);
int eos_net__mgmt_list(eos_net_server *srv, char **out, size_t *out_size);
/* An error document {"status":"error","code","message"}. */
int eos_net__mgmt_error(const char *code, const char *message, char **out, size_t *out_size);
/* True when token matches the server's bearer token (constant time). */
int eos_net__token_ok(eos_net_server *srv, const char *token, size_t len);
/* True when the connection may manage without a token. */
int eos_net__conn_authorised(eos_net__conn *c);

/* http.c: HTTP/1.1. */
void eos_net__http_input(eos_net__conn *c, const uint8_t *data, size_t size);
void eos_net__http_free(eos_net__conn *c);
/* True while part of a request has arrived (a drain lets it finish). */
int eos_net__http_busy(const eos_net__conn *c);

/* callval.c: JSON <-> component values for wasm_call. */
int eos_net__call(eos_net__app *a, const char *func, const char *params_json, size_t params_size,
                  char **out, size_t *out_size);

/* Converts JSON parameters (size bytes, borrowed) to values of ft's
 * parameter types and back to JSON in *out (free with eos_free(*out,
 * *out_size + 1)): the wasm_call mapping without a call, for tests and the
 * fuzzer. EOS_EINVAL with a reason in err when the JSON does not fit. */
int eos_net__params_roundtrip(const eos_cm_functype *ft, const char *json, size_t size, char **out,
                              size_t *out_size, char *err, size_t err_size);

/* tls.c */
int eos_net__tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                             const unsigned char *in, unsigned int inlen, void *arg);

#endif
