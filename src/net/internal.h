/* Private declarations of the net layer: the workers and their connections
 * (a transport table: TLS, plain TCP), the protocols spoken on a connection
 * (a protocol table: framed, HTTP), and the jobs that carry a request to the
 * app threads and its answer back. */
#ifndef EOS_NET_INTERNAL_H
#define EOS_NET_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "eos/apps.h"
#include <openssl/x509.h>

#include "eos/net.h"
#include "eos/proto.h"
#include "eos/ratls.h"

#define EOS_NET__READ_CHUNK 16384
/* Stop reading a connection's requests while this much output waits. */
#define EOS_NET__OUT_HIGH_WATER ((size_t)1 << 20)
/* Bytes a connection may read per wake-up before others get their turn. */
#define EOS_NET__READ_BUDGET ((size_t)256 << 10)

typedef struct eos_net__worker eos_net__worker;
typedef struct eos_net__conn eos_net__conn;
typedef struct eos_net__job eos_net__job;

/* A connection's pending output: plaintext written from off up to len;
 * retry is the length of a write the transport wants repeated with the same
 * bytes (0 = none), so the buffer must not move under it. */
typedef struct eos_net__outbuf {
    uint8_t *p;
    size_t off, len, cap, retry;
} eos_net__outbuf;

/* outbuf.c: appends size bytes (borrowed); EOS_ENOMEM. */
int eos_net__outbuf_add(eos_net__outbuf *ob, const uint8_t *bytes, size_t size);

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
    eos_net__job *next;      /* its lane's queue */
    /* Whose share of the app threads it takes (set before submit): */
    char lane_name[64];          /* the app's name; "" for the server's own work */
    unsigned lane_limit;         /* the app's max_concurrency; 0: the default */
    struct eos_net__lane *lane;  /* under the pool's lock, while queued or running */
    int in_queue;                /* under the pool's lock: waiting in its lane's queue */
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
/* Says whose share of the app threads j takes: name (borrowed, copied) is the
 * app's, limit its max_concurrency (0: the pool's default). Before submit. */
void eos_net__job_set_lane(eos_net__job *j, const char *name, unsigned limit);
/* The work/done hand-off, in one place (libuv's uv_queue_work as the model):
 * j->run is the work, run on an app thread when its lane's turn comes; when
 * it returns the worker is woken and the connection takes the rest (done).
 * The app threads take their own reference. EOS_EBUSY when j's lane queue or
 * the whole queue is full (answer 503 with Retry-After). */
int eos_net__job_submit(eos_net_server *srv, eos_net__job *j);
/* Lanes of the server's own work (app names start with a letter or digit):
 * management requests, and framed wasm_call requests, which have their own
 * so that a slow call never holds a load or an unload up. */
#define EOS_NET__LANE_MANAGE ""
#define EOS_NET__LANE_CALLS "-calls"
/* One line per lane for the metrics: calls fn(arg, l) with each lane (borrowed)
 * under the pool's lock (fn must not block). */
void eos_net__pool_lanes(eos_net_server *srv,
                         void (*fn)(void *arg, const struct eos_net__lane *l), void *arg);
/* The client of a queued job went away: when j is an app's request still
 * waiting in its queue, takes it out unrun (counted as dropped) and returns
 * 1; returns 0 when it runs already or must run (the server's own work). */
int eos_net__job_unqueue(eos_net_server *srv, eos_net__job *j);
/* Appends request body bytes (borrowed); EOS_ENOMEM. Returns 1 when the
 * unread input is above EOS_NET__JOB_IN_HIGH (stop reading), else 0. */
int eos_net__job_feed(eos_net__job *j, const uint8_t *data, size_t size);
/* Ends the request body; status != 0 marks it failed with that HTTP status. */
void eos_net__job_end_input(eos_net__job *j, int status);
/* True while the unread input is above EOS_NET__JOB_IN_HIGH. */
int eos_net__job_input_full(eos_net__job *j);
/* Moves the response bytes produced so far to a connection's output ob;
 * returns 1 once the job is done and everything was moved, 0 while it runs,
 * EOS_ENOMEM. */
int eos_net__job_take(eos_net__job *j, eos_net__outbuf *ob);
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
/* One app's share of the app threads: its own queue, served in turn with the
 * others' (round robin), and at most `limit` of its jobs run at once, so one
 * app's slow requests can never take every thread. */
typedef struct eos_net__lane {
    char name[64];
    eos_net__job *head, *tail;
    size_t queued, running;
    unsigned limit;
    unsigned long long rejected; /* refused: its queue was full */
    unsigned long long dropped;  /* left the queue unrun: their clients had gone */
} eos_net__lane;

/* An app thread as the pool sees it, for deprioritising long jobs: its
 * kernel thread id, when its current job started (0: none) and whether its
 * priority was lowered. Under the pool's lock. */
typedef struct eos_net__runner {
    struct eos_net__runner *next;
    eos_net_server *srv;
    int tid;
    uint64_t job_start_ns;
    int demoted;
} eos_net__runner;

typedef struct eos_net__pool {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a job was queued or a lane has room, or the pool stops */
    eos_net__lane **lanes;
    size_t nlanes, cap_lanes;
    size_t rr;              /* the lane whose turn is next */
    size_t queued, max_queued;
    size_t lane_max_queued; /* per lane */
    unsigned default_limit; /* an app's concurrency unless it set max_concurrency */
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
    atomic_ullong dropped;    /* queued app requests dropped: their clients had gone */
    /* Short requests win the CPU: a job that has run for longer than a slice
     * gets its thread's priority lowered (nice) by the watcher thread until
     * it ends, so a newly arrived request preempts it. */
    eos_net__runner *runners;
    pthread_t watcher;
    int watcher_started;
    int watcher_idle;         /* waits for a job to start */
    pthread_cond_t watch;     /* CLOCK_MONOTONIC: a job started, or the pool stops */
    int base_nice;            /* the threads' priority; demoted: base_nice + EOS_NET__DEMOTE */
    int demote_off;           /* lowering or restoring failed: not done any more */
    int respawn;              /* threads that left with their priority stuck low */
    atomic_ullong demotions;  /* jobs that ran past the slice */
} eos_net__pool;

/* How long a job runs before its thread yields the CPU to shorter ones, and
 * by how much its nice value rises then. */
#define EOS_NET__SLICE_NS (10ull * 1000000ull)
#define EOS_NET__DEMOTE 10

int eos_net__pool_start(eos_net_server *srv, int nthreads, eos_diag *d);
/* Lets the queued and running jobs finish, then joins the threads. */
void eos_net__pool_stop(eos_net_server *srv);
/* The worker's side of its eventfd: runs the connections of woken jobs. */
void eos_net__worker_wake(eos_net__worker *w);
/* Drops the jobs still on a worker's wake list (after the pool stopped). */
void eos_net__worker_wake_clear(eos_net__worker *w);

#define EOS_NET__LAT_BUCKETS 12
typedef struct eos_net__metrics {
    atomic_ullong connections, handshakes, http_requests, http_errors, frames;
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
    eos_apps *apps;   /* cfg.apps, or the server's own empty table */
    const struct eos_net__transport *transport; /* TLS, or plain TCP (cfg.plain_tcp) */
    const struct eos_net__protocol *first_proto; /* picks the protocol (sniff.c) */
    int own_apps;     /* apps was made by the server and is freed with it */
    eos_net__metrics metrics;
    eos_net__pool pool;
};

/* A transport: how a connection's bytes cross the socket (Redis'
 * ConnectionType). TLS and plain TCP are interchangeable behind it; the
 * connection keeps the buffering, back-pressure and the protocol. Return
 * conventions: > 0 progress (bytes, or 1 = done), 0 wait (the want flags
 * on the connection say for what), < 0 the connection is finished. */
typedef struct eos_net__transport {
    const char *name;
    /* Sets up the transport's state on a freshly accepted c; 0 or an eos_err. */
    int (*open)(eos_net_server *srv, eos_net__conn *c);
    /* Drives the handshake: 1 established, 0 wait, -1 failed. */
    int (*handshake)(eos_net__conn *c);
    /* Reads into buf: bytes, 0 wait, -1 the peer finished or failed. */
    int (*read)(eos_net__conn *c, uint8_t *buf, size_t cap);
    /* Writes size bytes: bytes written, 0 wait (then the same bytes must be
     * offered again), -1 failed. */
    int (*write)(eos_net__conn *c, const uint8_t *data, size_t size);
    /* True when input is buffered inside the transport, where epoll cannot see it. */
    int (*pending)(const eos_net__conn *c);
    /* Best-effort orderly close (TLS close_notify), then frees the state. */
    void (*close)(eos_net__conn *c);
    /* The ALPN protocol agreed ("http/1.1"), the SNI name, whether the peer
     * showed a verified certificate, the version ("TLSv1.3"); NULL / 0
     * when the transport has none. */
    const char *(*alpn)(const eos_net__conn *c, size_t *out_len);
    const char *(*server_name)(const eos_net__conn *c);
    int (*peer_verified)(const eos_net__conn *c);
    /* The client's certificate and the chain it sent (borrowed from the
     * connection), or NULL when it showed none. */
    X509 *(*peer_cert)(const eos_net__conn *c, STACK_OF(X509) * *out_chain);
    const char *(*version)(const eos_net__conn *c);
} eos_net__transport;

extern const eos_net__transport eos_net__transport_tls; /* conn_tls.c */
extern const eos_net__transport eos_net__transport_tcp; /* conn_tcp.c */

/* A protocol spoken on an established connection. Each keeps its own state
 * in c->ps; the connection never looks inside. */
typedef struct eos_net__protocol {
    const char *name;
    /* Takes received plaintext (borrowed). */
    void (*input)(eos_net__conn *c, const uint8_t *data, size_t size);
    /* Passes on what the connection's job produced; finishes it when done. */
    void (*pump)(eos_net__conn *c);
    /* True while part of a request has arrived (a drain lets it finish). */
    int (*busy)(const eos_net__conn *c);
    /* The connection idled out: returns 1 when the protocol wants its
     * output written once more before the close (HTTP's 408), else 0. */
    int (*expire)(eos_net__conn *c);
    /* Frees the protocol's state; the connection is closing. */
    void (*free)(eos_net__conn *c);
} eos_net__protocol;

extern const eos_net__protocol eos_net__proto_sniff;  /* sniff.c: picks one of: */
extern const eos_net__protocol eos_net__proto_framed; /* framed.c */
extern const eos_net__protocol eos_net__proto_http;   /* http.c */

/* Switches c to protocol p (its state starts empty) and feeds it data. */
void eos_net__conn_switch(eos_net__conn *c, const eos_net__protocol *p, const uint8_t *data,
                          size_t size);

struct eos_net__conn {
    eos_net__worker *w;
    int fd;
    const eos_net__transport *tr;
    void *ts;                    /* the transport's state (TLS: the SSL) */
    const eos_net__protocol *proto; /* NULL during the handshake */
    void *ps;                    /* the protocol's state */
    int loopback;  /* peer is 127.0.0.0/8 or ::1 */
    char peer[64]; /* "addr:port" for logs */
    eos_net__outbuf out;   /* pending output (plaintext) */
    int read_wants_write;  /* the transport's read waits for the socket to be writable */
    int write_wants_read;  /* the transport's write waits for it to be readable */
    int hs_wants_write;    /* the handshake needs the socket writable */
    int close_after_flush; /* no more input; close once output is written */
    int input_paused;      /* not reading: a job holds the connection's input */
    eos_net__job *job;     /* the request running on an app thread, or NULL */
    int peer_fin;          /* the peer's end was seen while a job held the input */
    uint8_t *stash;        /* input received after the pause, processed on resume */
    size_t stash_len, stash_cap;
    int dead;
    unsigned events; /* current epoll interest */
    uint64_t last_active_ns;
    eos_net__conn *prev, *next; /* the worker's list, least recently active first */
    eos_net__conn *ready_next;  /* the worker's ready list (data buffered in the transport) */
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

/* conn.c: a connection over its transport. */
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
/* Reads again: processes the stash, then what the transport holds. */
void eos_net__conn_resume(eos_net__conn *c);
/* True when nothing is in flight: no partial request, no pending output. */
int eos_net__conn_quiescent(const eos_net__conn *c);
/* True when the connection may manage without a token (dev loopback, or a
 * verified management client certificate). */
int eos_net__conn_authorised(const eos_net__conn *c);

/* http_job.c: HTTP requests on the app threads. */
typedef struct eos_net__http_job eos_net__http_job;
/* What a request job copies (everything borrowed for the call). */
typedef struct eos_net__http_req {
    eos_apps_app *app; /* the app to run (a new reference is taken), or NULL: management */
    const char *method, *target, *authority;
    const eos_wasi_header *headers;
    size_t header_count;
    int has_body, is_head, keep_alive;
    int http10; /* an HTTP/1.0 client: no chunked responses */
    uint64_t start_ns;
    int manage_method; /* management: 'P' loads name, 'D' unloads it */
    const char *name, *route, *hostname;
    const char *outbound; /* allow-list rules joined by '\n', or NULL */
    const char *env_json;             /* management PUT: x-enclave-os-env, or NULL */
    const char *provenance;           /* management PUT: x-enclave-os-provenance, or NULL */
    uint64_t max_fuel, max_memory_mb; /* x-enclave-os-max-fuel / -max-memory-mb; 0 = default */
    uint64_t max_concurrency;         /* x-enclave-os-max-concurrency; 0 = default */
    uint8_t tier;                     /* x-enclave-os-tier (eos_apps_tier_parse); 0 = default */
    int erase;
} eos_net__http_req;
int eos_net__http_job_new(eos_net__conn *c, const eos_net__http_req *r, eos_net__http_job **out);
eos_net__job *eos_net__http_job_base(eos_net__http_job *hj);
/* Management PUT: the component (taken over). */
void eos_net__http_job_give_body(eos_net__http_job *hj, uint8_t *bytes, size_t size);
/* Once done: the connection must close after this response. */
int eos_net__http_job_closes(const eos_net__http_job *hj);
const char *eos_net__http_reason(int status);

/* http_console.c: the console's pages, sent by http.c. */
typedef struct eos_net__page {
    int status;
    const char *ctype;
    char extra[160];     /* more header lines, each ending in CRLF */
    const uint8_t *body; /* static storage, or owned below */
    size_t size;
    char *owned; /* eos_free(owned, owned_size) by eos_net__page_free() */
    size_t owned_size;
    int console; /* carries the console's CSP and security headers */
} eos_net__page;
/* GET console[/PATH]: rest is what follows "console" (borrowed). Never fails. */
void eos_net__console_page(const eos_net_server *srv, const char *rest, eos_net__page *p);
/* GET logs for an authorised client: the events after last_id (last_len
 * bytes, may be NULL) or ?after=N in query. 0 or EOS_ENOMEM. */
int eos_net__logs_page(const eos_net_server *srv, const char *last_id, size_t last_len,
                       const char *query, eos_net__page *p);
/* The response head of p (at most cap - 1 bytes; 0 when it does not fit). */
size_t eos_net__page_head(const eos_net__page *p, int keep_alive, char *buf, size_t cap);
void eos_net__page_free(eos_net__page *p);
/* serve --console-test-tamper-manifest: one bit of the first leaf flipped in
 * the binary and the JSON manifest alike (tests only). */
void eos_net__tamper_manifest(uint8_t *bin, size_t size);
void eos_net__tamper_manifest_json(char *doc);
/* A header value of n digits (at most 19): 0, or -1 when not a whole number. */
int eos_net__parse_count(const char *v, size_t n, uint64_t *out);
/* A response head with a content-length; returns its length (at most cap - 1). */
size_t eos_net__http_format_head(char *buf, size_t cap, int status, const char *ctype, size_t size,
                                 int keep_alive);
/* The HTTP status of a management answer document. */
int eos_net__http_doc_status(const char *doc);
/* Adds a request that started at start_ns to the latency histogram. */
void eos_net__http_observe(eos_net_server *srv, uint64_t start_ns);

/* metrics.c: the metrics page's text (*out_len bytes, NUL-terminated) in
 * *out; free with eos_free(*out, *out_cap). 0 or EOS_ENOMEM. */
int eos_net__metrics_text(eos_net_server *srv, char **out, size_t *out_len, size_t *out_cap);

/* tls.c */
int eos_net__tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                             const unsigned char *in, unsigned int inlen, void *arg);

#endif
