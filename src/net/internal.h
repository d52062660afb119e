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
typedef struct eos_net__job eos_net__job;

/* Work that may take long (an app's handler, a load, a wasm_call) runs on
 * the pool's app threads, never on a worker, so no connection waits for
 * another's app. A job is the exchange between the connection (on its
 * worker) and the app thread: request bytes flow in and response bytes flow
 * out through two bounded buffers, and the app thread wakes the worker
 * through its eventfd whenever there is something to pass on. */
typedef void (*eos_net__job_fn)(eos_net__job *j);

/* Above this much unread request body the connection stops reading. */
#define EOS_NET__JOB_IN_HIGH ((size_t)256 << 10)
/* Above this much response not yet taken by the worker the app waits. */
#define EOS_NET__JOB_OUT_HIGH ((size_t)256 << 10)

struct eos_net__job {
    atomic_int refs;
    eos_net__job_fn run;     /* on an app thread */
    eos_net__job_fn destroy; /* frees the job when the last reference goes */
    eos_net__worker *w;      /* the worker of the connection */
    eos_net__conn *conn;     /* worker only: NULL once the connection is gone */
    eos_net__job *next;      /* the pool's queue */
    eos_net__job *wake_next; /* the worker's wake list (under its wake_lock) */
    int in_wake;             /* on the worker's wake list (under its wake_lock) */
    int submitted;           /* worker only: handed to the app threads */
    atomic_int waiting;      /* the app waits for the client (idle timeouts apply) */
    pthread_mutex_t lock;
    pthread_cond_t cond; /* the app thread waits here for input or output room */
    /* Under lock: */
    int gone;     /* the connection went away: reads and writes fail */
    int done;     /* run returned */
    int in_end;   /* the request body is complete */
    int in_error; /* the request body failed (HTTP status, e.g. 413) */
    uint8_t *in;
    size_t in_off, in_len, in_cap;
    uint8_t *out;
    size_t out_len, out_cap;
};

/* jobs.c. The connection side (worker thread): */
/* Prepares j with one reference (the connection's). */
int eos_net__job_init(eos_net__job *j, eos_net__conn *c, eos_net__job_fn run,
                      eos_net__job_fn destroy);
void eos_net__job_ref(eos_net__job *j);
void eos_net__job_unref(eos_net__job *j);
/* Hands j to the app threads (they take their own reference). EOS_EBUSY when
 * the queue is full. */
int eos_net__job_submit(eos_net_server *srv, eos_net__job *j);
/* Appends request body bytes (borrowed); EOS_ENOMEM. Returns 1 when the
 * unread input is above EOS_NET__JOB_IN_HIGH (stop reading), else 0. */
int eos_net__job_feed(eos_net__job *j, const uint8_t *data, size_t size);
/* Ends the request body; status != 0 marks it failed with that HTTP status. */
void eos_net__job_end_input(eos_net__job *j, int status);
/* True while the unread input is above EOS_NET__JOB_IN_HIGH. */
int eos_net__job_input_full(eos_net__job *j);
/* Moves the response bytes produced so far to the connection's output;
 * returns 1 once the job is done and everything was moved, 0 while it runs,
 * EOS_ENOMEM. */
int eos_net__job_take(eos_net__job *j, eos_net__conn *c);
/* The connection lets go of a finished job (drops its reference). */
void eos_net__job_release(eos_net__job *j);
/* The connection went away: wakes the app thread and drops the reference. */
void eos_net__job_detach(eos_net__job *j);
/* The app thread side: */
/* Reads request body bytes, waiting for them; 0 with *out_size == 0 at the
 * end, EOS_ECLOSED when the connection went away, EOS_EIO when the body failed. */
int eos_net__job_read(eos_net__job *j, uint8_t *buf, size_t cap, size_t *out_size);
/* Appends response bytes, waiting while the client is behind; EOS_ECLOSED
 * when the connection went away, EOS_ENOMEM. */
int eos_net__job_write(eos_net__job *j, const void *data, size_t size);
/* Wakes the worker to pass on what is new. */
void eos_net__job_wake(eos_net__job *j);
/* The HTTP status the body failed with (0 when it did not). */
int eos_net__job_in_error(eos_net__job *j);

/* The pool of app threads: `base` threads are kept; while jobs queue and some
 * threads are only waiting for slow clients, more are started, up to `max`,
 * and those extra ones leave after a while idle. */
typedef struct eos_net__pool {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a job was queued, or the pool stops */
    eos_net__job *head, *tail;
    size_t queued, max_queued;
    int ready; /* lock and conditions initialised */
    int stopping;
    int base, max;
    int alive, idle;
    /* Every thread started and not yet joined: threads are joined, never
     * detached, so their thread-local destructors (OpenSSL's among them)
     * have run before the server is freed. */
    pthread_t *tids;
    int ntids, cap_tids;
    pthread_t *exited; /* threads that left on their own, to join */
    int nexited;
    atomic_long busy;         /* threads running a job */
    atomic_long client_waits; /* of those, waiting for their client */
    atomic_ullong rejected;   /* jobs refused because the queue was full */
} eos_net__pool;

int eos_net__pool_start(eos_net_server *srv, int nthreads, eos_diag *d);
/* Lets the queued and running jobs finish, then joins the threads. */
void eos_net__pool_stop(eos_net_server *srv);
/* The worker's side of its eventfd: runs the connections of woken jobs. */
void eos_net__worker_wake(eos_net__worker *w);
/* Drops the jobs still on a worker's wake list (after the pool stopped). */
void eos_net__worker_wake_clear(eos_net__worker *w);

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
    eos_net__pool pool;
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
    int input_paused;      /* not reading: a job holds the connection's input */
    eos_net__job *job;     /* the request running on an app thread, or NULL */
    uint8_t *stash;        /* input received after the pause, processed on resume */
    size_t stash_len, stash_cap;
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
    int wake_fd; /* eventfd: app threads have news for this worker */
    pthread_mutex_t wake_lock;
    eos_net__job *wake_head; /* jobs with news (each holds a reference) */
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
/* Closes an idle connection, with a 408 when a request was cut short. */
void eos_net__conn_expire(eos_net__conn *c);
/* Appends size bytes (borrowed) to the output; EOS_ENOMEM. */
int eos_net__conn_queue(eos_net__conn *c, const uint8_t *bytes, size_t size);
/* Keeps size bytes (borrowed) of input that arrived after a pause, for
 * eos_net__conn_resume(); EOS_ENOMEM closes the connection. */
void eos_net__conn_stash(eos_net__conn *c, const uint8_t *data, size_t size);
/* Reads again: processes the stash, then what TLS holds. */
void eos_net__conn_resume(eos_net__conn *c);
/* True when nothing is in flight: no partial frame, no pending output. */
int eos_net__conn_quiescent(const eos_net__conn *c);

/* proto.c: what the bytes after the handshake mean. */
void eos_net__proto_input(eos_net__conn *c, const uint8_t *data, size_t size);
void eos_net__proto_free(eos_net__conn *c);
/* Passes on what the connection's job produced (both protocols). */
void eos_net__proto_pump(eos_net__conn *c);

/* wasi_store.c: the apps' storage for the WASI host, on kv (borrowed; NULL
 * gives a store with no ops: apps without keyvalue and files). */
eos_wasi_store eos_net__wasi_store(eos_kv *kv);

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

/* httpjob.c: HTTP requests on the app threads. */
typedef struct eos_net__http_job eos_net__http_job;
/* What a request job copies (everything borrowed for the call). */
typedef struct eos_net__http_req {
    eos_net__app *app; /* the app to run (a new reference is taken), or NULL: management */
    const char *method, *target, *authority;
    const eos_wasi_header *headers;
    size_t header_count;
    int has_body, is_head, keep_alive;
    int http10; /* an HTTP/1.0 client: no chunked responses */
    uint64_t start_ns;
    int manage_method; /* management: 'P' loads name, 'D' unloads it */
    const char *name, *route, *hostname;
    int erase;
} eos_net__http_req;
int eos_net__http_job_new(eos_net__conn *c, const eos_net__http_req *r, eos_net__http_job **out);
eos_net__job *eos_net__http_job_base(eos_net__http_job *hj);
/* Management PUT: the component (taken over). */
void eos_net__http_job_give_body(eos_net__http_job *hj, uint8_t *bytes, size_t size);
/* Once done: the connection must close after this response. */
int eos_net__http_job_closes(const eos_net__http_job *hj);
const char *eos_net__http_reason(int status);
/* A response head with a content-length; returns its length (at most cap - 1). */
size_t eos_net__http_format_head(char *buf, size_t cap, int status, const char *ctype, size_t size,
                                 int keep_alive);
/* The HTTP status of a management answer document. */
int eos_net__http_doc_status(const char *doc);
/* Adds a request that started at start_ns to the latency histogram. */
void eos_net__http_observe(eos_net_server *srv, uint64_t start_ns);

/* http.c: HTTP/1.1. */
void eos_net__http_input(eos_net__conn *c, const uint8_t *data, size_t size);
void eos_net__http_free(eos_net__conn *c);
/* True while part of a request has arrived (a drain lets it finish). */
int eos_net__http_busy(const eos_net__conn *c);
/* Passes on what the connection's job produced; finishes it when done. */
void eos_net__http_pump(eos_net__conn *c);
/* The connection idled out: queues a 408 when a request was cut short. */
void eos_net__http_expire(eos_net__conn *c);

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
