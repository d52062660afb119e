/* The WASI 0.2 host: the interfaces apps import (io, http, keyvalue, filesystem,
 * clocks, random, logging, cli, sockets), implemented on the component model host
 * API, and the driver that runs one HTTP request through an app's
 * wasi:http/incoming-handler export in a fresh instance, streaming both bodies. */
#ifndef EOS_WASI_H
#define EOS_WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eos/cm.h"
#include "eos/common.h"
#include "eos/wasm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layer's version string, static storage. */
EOS_API const char *eos_wasi_version(void);

/* ---- Storage ---------------------------------------------------------------- */

/* Where wasi:keyvalue buckets and the wasi:filesystem tree live: a key-value
 * store with namespaces, supplied by the embedder (the server backs it with
 * its encrypted store). Namespaces are named "app:<name>/kv:<bucket>" and
 * "app:<name>/fs"; keys are byte strings of 1..EOS_WASI_STORE_MAX_KEY bytes.
 * Every operation borrows its arguments and returns 0 or an eos_err:
 * EOS_ENOTFOUND for an absent key (get, del), EOS_ECONFLICT when a cas or a
 * transaction lost a race, EOS_EINVAL for a bad key or counter. Values
 * handed out are allocated with eos_malloc and freed by the caller with
 * eos_free(value, size). Operations may be called from any thread. */
#define EOS_WASI_STORE_MAX_KEY     4096
#define EOS_WASI_STORE_CURSOR_SIZE 65 /* a listing cursor, with its NUL */

typedef struct eos_wasi_store_ns eos_wasi_store_ns;   /* the implementation's */
typedef struct eos_wasi_store_txn eos_wasi_store_txn; /* the implementation's */

/* One key of a batch; get_many fills value, value_size and found. */
typedef struct eos_wasi_store_item {
    const char *key;
    size_t key_size;
    uint8_t *value; /* set_many: borrowed input; get_many: allocated output or NULL */
    size_t value_size;
    bool found;
} eos_wasi_store_item;

/* A page of key names from list; free the names with list_free. */
typedef struct eos_wasi_store_page {
    char **keys; /* count names (may hold NULs; use key_sizes) */
    size_t *key_sizes;
    size_t count;
    char cursor[EOS_WASI_STORE_CURSOR_SIZE]; /* the next page's, or "" at the end */
} eos_wasi_store_page;

typedef struct eos_wasi_store_ops {
    /* Opens a namespace handle, closed with ns_close. impl is eos_wasi_store.impl. */
    int (*ns_open)(void *impl, const char *name, eos_wasi_store_ns **out);
    void (*ns_close)(eos_wasi_store_ns *ns);
    int (*get)(eos_wasi_store_ns *ns, const char *key, size_t key_size, uint8_t **out,
               size_t *out_size);
    int (*set)(eos_wasi_store_ns *ns, const char *key, size_t key_size, const uint8_t *value,
               size_t value_size);
    int (*del)(eos_wasi_store_ns *ns, const char *key, size_t key_size);
    int (*exists)(eos_wasi_store_ns *ns, const char *key, size_t key_size, bool *out);
    /* Adds delta to a signed 64-bit counter (absent = 0), atomically. */
    int (*incr)(eos_wasi_store_ns *ns, const char *key, size_t key_size, int64_t delta,
                int64_t *out_value);
    /* Stores value only if the key holds exactly expected (NULL: is absent). */
    int (*cas)(eos_wasi_store_ns *ns, const char *key, size_t key_size, const uint8_t *expected,
               size_t expected_size, const uint8_t *value, size_t value_size);
    /* Batches: get_many reads one snapshot; set_many and delete_many (which
     * skips absent keys) apply atomically. */
    int (*get_many)(eos_wasi_store_ns *ns, eos_wasi_store_item *items, size_t count);
    int (*set_many)(eos_wasi_store_ns *ns, const eos_wasi_store_item *items, size_t count);
    int (*delete_many)(eos_wasi_store_ns *ns, const eos_wasi_store_item *items, size_t count);
    /* Up to limit (0: 1000) names starting with prefix, resuming at cursor
     * ("" = the start); a page may be short, even empty, before the end. */
    int (*list)(eos_wasi_store_ns *ns, const char *prefix, size_t prefix_size, const char *cursor,
                size_t limit, eos_wasi_store_page *page);
    void (*list_free)(eos_wasi_store_page *page);
    /* Transactions over any namespaces of the store: writes apply together
     * at commit, which fails with EOS_ECONFLICT when a key changed meanwhile;
     * commit and abort free txn. */
    int (*txn_begin)(void *impl, eos_wasi_store_txn **out);
    int (*txn_set)(eos_wasi_store_txn *txn, eos_wasi_store_ns *ns, const char *key, size_t key_size,
                   const uint8_t *value, size_t value_size);
    int (*txn_delete)(eos_wasi_store_txn *txn, eos_wasi_store_ns *ns, const char *key,
                      size_t key_size);
    int (*txn_commit)(eos_wasi_store_txn *txn);
    void (*txn_abort)(eos_wasi_store_txn *txn);
} eos_wasi_store_ops;

/* A store: its operations and the implementation's state, both borrowed. */
typedef struct eos_wasi_store {
    const eos_wasi_store_ops *ops; /* NULL = no store */
    void *impl;
} eos_wasi_store;

/* ---- Apps ------------------------------------------------------------------- */

typedef struct eos_wasi_app eos_wasi_app;

/* One environment variable given at load (wasi:cli/environment). */
typedef struct eos_wasi_env {
    const char *key;
    const char *value;
} eos_wasi_env;

/* An attested-peer rule's demands on the destination's RA-TLS certificate.
 * Everything is borrowed from the app (valid while it lives). */
typedef struct eos_wasi_peer_policy {
    const char *rule;          /* the rule as given, for messages */
    bool allow_simulated;      /* `;simulated`: accept evidence of a simulated TEE */
    const uint8_t *root;       /* `;root=HEX`: 32 bytes, the configuration root; or NULL */
    const uint8_t *code_hash;  /* `;code=HEX`: 32 bytes, the app's code hash; or NULL */
    const char *app;           /* `;app=NAME`: the app code_hash names; NULL = the one app
                                  the certificate describes */
} eos_wasi_peer_policy;

/* How wasi checks an attested peer without depending on the verifier's
 * layer: the embedder (src/apps) fills it in. verify gets the chain the
 * peer presented (der[0] the leaf, borrowed for the call) and returns 0 to
 * accept, or a negative eos_err with why (NUL-terminated) naming the failed
 * check. Called on the thread running the request; must be thread-safe. */
typedef struct eos_wasi_peer_verifier {
    int (*verify)(void *arg, const uint8_t *const *der, const size_t *der_size, size_t count,
                  const eos_wasi_peer_policy *policy, char *why, size_t why_size);
    void *arg;
} eos_wasi_peer_verifier;

/* What an app may reach through wasi:http/outgoing-handler, given by the
 * embedder at load. With no rules every call is denied (HTTP-request-denied).
 * Rules are `scheme://host[:port]`: scheme http or https (plain http only
 * where a rule says http://), host exact or `*.suffix` (any name below
 * suffix, not suffix itself), port default 443/80 or `*`.
 *
 * An https rule may add `;attested` and then options, each `;`-separated:
 * `;simulated`, `;root=HEX` (64 hex digits), `;code=HEX`, `;app=NAME`. The
 * destination must then be an RA-TLS server whose certificate verifies
 * with the peer verifier (evidence bound to the key, configuration
 * extensions), instead of the CA bundle and the host name; with root, its
 * configuration root must be that; with code, the app the certificate
 * describes (or app NAME) must run that code. A peer that fails is refused
 * with HTTP-request-denied. Options without `;attested` are refused. */
typedef struct eos_wasi_outbound {
    const char *const *allow; /* allow_count rules, copied */
    size_t allow_count;
    const char *ca_file;          /* PEM bundle for TLS peers; NULL = the system's */
    const uint8_t *ca_pem;        /* or the bundle's bytes (copied; wins over ca_file) */
    size_t ca_pem_size;
    const eos_wasi_peer_verifier *verifier; /* borrowed, outlives the app; needed by
                                               `;attested` rules (NULL: such rules fail
                                               the load) */
    uint64_t max_response_bytes;  /* per response body; 0 = 256 MiB */
    uint32_t max_concurrent;      /* calls in flight per app; 0 = 32 */
    uint64_t connect_timeout_ns;  /* defaults when request-options says none; */
    uint64_t first_byte_timeout_ns;    /* 0 = 10 s, 30 s, 30 s */
    uint64_t between_bytes_timeout_ns;
} eos_wasi_outbound;

/* Counters of an app's outgoing calls since load. */
typedef struct eos_wasi_outbound_stats {
    uint64_t calls;     /* calls started (allowed) */
    uint64_t denied;    /* calls refused by the allow-list or the concurrency limit */
    uint64_t errors;    /* calls that ended with an error-code */
    uint64_t bytes_out; /* request body bytes sent */
    uint64_t bytes_in;  /* response body bytes received */
} eos_wasi_outbound_stats;

/* Checks one allow-list rule's syntax; 0 or EOS_EINVAL with diag. */
EOS_API int eos_wasi_outbound_rule_check(const char *rule, eos_diag *diag);

/* Everything an app needs, given once when its component is loaded. */
typedef struct eos_wasi_app_config {
    const char *name;                  /* the app's name (namespaces, log tag, APP_NAME) */
    uint8_t code_hash[32];             /* SHA-256 of the component (APP_VERSION, in hex) */
    const eos_cm_component *component; /* borrowed: must outlive the app */
    const eos_wasi_env *env;           /* env_count variables, copied */
    size_t env_count;
    /* wasi:config/store values (config_count pairs, copied). Keys starting
     * "secret." are never config: store.get("secret.NAME") reads the app's
     * secret NAME from the "secret" namespace of the app's store. */
    const eos_wasi_env *config;
    size_t config_count;
    uint64_t max_fuel;         /* per call; 0 = 10,000,000,000 */
    uint32_t max_time_ms;      /* time budget per call, instantiation included; 0 = 30 s */
    /* Instances kept ready for HTTP requests: after a request that succeeded
     * its instance is reset to its state right after instantiation and
     * reused; 0 = a fresh instance per request. Unused ones are freed after
     * pool_idle_ms (0 = 10 s), checked on each request and by
     * eos_wasi_app_trim(). */
    uint32_t pool_size;
    uint32_t pool_idle_ms;
    uint64_t max_memory_bytes; /* linear memory cap; 0 = 64 MiB */
    eos_wasi_store store;      /* keyvalue and files (borrowed); ops NULL = none */
    /* Log rate limit for stdout/stderr/wasi:logging: lines per second refilled
     * into a bucket of log_burst lines; 0 = 50 per second, burst 200. */
    uint32_t log_lines_per_sec;
    uint32_t log_burst;
    eos_wasi_outbound outbound; /* egress policy; zero = no egress */
} eos_wasi_app_config;

/* Creates an app: copies cfg (not the component), opens the app's store
 * namespaces lazily and builds the component host with every WASI interface
 * defined, once, for all the app's requests. Thread-safe after creation:
 * any number of threads may run requests of one app at the same time.
 * Free with eos_wasi_app_free() after every request has finished. */
EOS_API int eos_wasi_app_new(const eos_wasi_app_config *cfg, eos_wasi_app **out, eos_diag *diag);
/* Frees the app and its host; NULL is allowed. */
EOS_API void eos_wasi_app_free(eos_wasi_app *app);
/* The linked host (borrowed from the app), e.g. for the server's own calls. */
EOS_API const eos_cm_host *eos_wasi_app_host(const eos_wasi_app *app);
/* Frees pooled instances unused for idle_ms or longer (0: all of them), so
 * an idle app gives its memory back. Thread-safe; borrows app. */
EOS_API void eos_wasi_app_trim(eos_wasi_app *app, uint32_t idle_ms);
typedef struct eos_wasi_pool_stats {
    uint32_t ready;  /* instances in the pool now */
    uint64_t reused; /* requests served by a pooled instance */
    uint64_t fresh;  /* requests that had to instantiate (pooling apps only) */
} eos_wasi_pool_stats;
/* The pool's counters, for metrics. Thread-safe; borrows app. */
EOS_API void eos_wasi_app_pool_stats(eos_wasi_app *app, eos_wasi_pool_stats *out);
/* Instantiates the component once, with the app's host, limits and a request
 * context bound, then frees the instance: the check a server makes at load. The
 * component's start function runs as it does for every request (a reactor built
 * by wit-component calls the guest's _initialize there, which may already call
 * the host, e.g. wasi:filesystem/preopens). Returns 0, or the eos_err or trap
 * code of the failed instantiation with diag telling why. Borrows app. */
EOS_API int eos_wasi_app_check(eos_wasi_app *app, eos_diag *diag);
/* Log lines the rate limiter dropped since the app was created. */
EOS_API uint64_t eos_wasi_app_log_dropped(const eos_wasi_app *app);
/* The app's outgoing-call counters. */
EOS_API void eos_wasi_app_outbound_stats(const eos_wasi_app *app, eos_wasi_outbound_stats *out);

/* ---- The incoming-handler driver ------------------------------------------ */

/* A header line; names and values are byte strings (not NUL-terminated). */
typedef struct eos_wasi_header {
    const char *name;
    size_t name_size;
    const uint8_t *value;
    size_t value_size;
} eos_wasi_header;

/* Pulls the next piece of the request body into buf (at most cap bytes).
 * Returns 0 with *out_size > 0 for data, 0 with *out_size == 0 at the end of the
 * body, or an eos_err when the client failed (the app sees a stream error). */
typedef int (*eos_wasi_body_read_fn)(void *ud, uint8_t *buf, size_t cap, size_t *out_size);

/* A request from the server layer. Everything is borrowed for the call. */
typedef struct eos_wasi_request {
    const char *method;    /* "GET", or any token */
    const char *target;    /* path with query, starting with '/' */
    const char *scheme;    /* "https" or "http"; NULL = "https" */
    const char *authority; /* Host, or NULL */
    const eos_wasi_header *headers;
    size_t header_count;
    eos_wasi_body_read_fn body_read; /* NULL = empty body */
    void *body_ud;
} eos_wasi_request;

/* Where the response goes, as the app produces it. Each callback returns 0, or
 * an eos_err to stop (the client went away): the app then sees its body stream
 * closed. headers and data are borrowed for the call only. */
typedef struct eos_wasi_sink {
    /* Status and headers, once, as soon as response-outparam.set is called. */
    int (*head)(void *ud, uint16_t status, const eos_wasi_header *headers, size_t count);
    /* A piece of the body, as written (never more than EOS_WASI_BODY_CHUNK bytes). */
    int (*body)(void *ud, const uint8_t *data, size_t size);
    /* The end of the body, with trailers (count may be 0). complete is false when
     * the app dropped the body without finishing it or trapped after the head:
     * the server should abort the response rather than end it cleanly. */
    int (*end)(void *ud, bool complete, const eos_wasi_header *trailers, size_t count);
    void *ud;
} eos_wasi_sink;

/* Largest body piece handed to a sink, and the write budget check-write offers. */
#define EOS_WASI_BODY_CHUNK (64u * 1024u)

/* What happened in a call, for the server's log and its 500 page. */
typedef struct eos_wasi_outcome {
    bool head_sent;     /* sink->head was called (a 500 can no longer be sent) */
    bool body_complete; /* sink->end was called with complete = true */
    uint16_t status;    /* the status the app set, when head_sent */
    uint64_t fuel_consumed;
    uint64_t body_in_size;  /* request body bytes the app read */
    uint64_t body_out_size; /* response body bytes passed to the sink */
    char reason[256];       /* short reason on failure, fit for a 500 body */
    bool exited;            /* the guest called wasi:cli/exit (the call gave EOS_TRAP_EXIT) */
    uint8_t exit_status;    /* its status: 0 for exit(ok), 1 for exit(err), or the code */
} eos_wasi_outcome;

/* Runs one request: a fresh store with the app's limits, a fresh instance of
 * the component, `wasi:http/incoming-handler@0.2.x#handle`, then frees both.
 * Borrows everything. Returns 0 when the app answered; otherwise
 *   a trap code (EOS_TRAP_OUT_OF_FUEL, EOS_TRAP_EXIT, ...) when the guest stopped,
 *   EOS_EPROTO when the handler returned without setting a response, or set an
 *     error-code (reason names it),
 *   EOS_ENOTFOUND when the component exports no incoming-handler,
 *   EOS_EUNAVAILABLE when the engine cannot instantiate components yet,
 *   or another eos_err from instantiation or the sink.
 * out (required) tells whether the head was already sent, and why it failed.
 * Safe to call from several threads at once for the same app. */
EOS_API int eos_wasi_handle_http(eos_wasi_app *app, const eos_wasi_request *req,
                                 const eos_wasi_sink *sink, eos_wasi_outcome *out);

/* Calls a typed export (`name`, e.g. "hello" or "iface#func") in a fresh
 * instance, with the same host and limits as HTTP requests. Results are
 * lifted into arena (caller-owned). Returns as eos_wasi_handle_http. */
EOS_API int eos_wasi_call(eos_wasi_app *app, const char *name, const eos_cm_val *args,
                          size_t arg_count, eos_cm_val *results, size_t result_count,
                          eos_cm_arena *arena, eos_wasi_outcome *out);
/* As eos_wasi_call, with the command-line arguments that
 * wasi:cli/environment get-arguments gives the instance: argc strings,
 * argv[0] (the program's name) first, borrowed for the call. argv NULL gives
 * the app's name alone as argv[0], as eos_wasi_call does. The environment
 * stays the app's (APP_NAME, APP_VERSION, then its env). A wasi:cli/run
 * component is called with name "wasi:cli/run@0.2.0#run" (any 0.2.x). */
EOS_API int eos_wasi_call_argv(eos_wasi_app *app, const char *name, const char *const *argv,
                               size_t argc, const eos_cm_val *args, size_t arg_count,
                               eos_cm_val *results, size_t result_count, eos_cm_arena *arena,
                               eos_wasi_outcome *out);

/* What one command-line call sees of its world, besides the app's own. */
typedef struct eos_wasi_cmdline {
    const char *const *argv; /* as eos_wasi_call_argv's; NULL: the app's name as argv[0] */
    size_t argc;
    /* The environment is the load's env alone, without APP_NAME and
     * APP_VERSION: for programs that check their exact environment. */
    bool no_app_env;
    /* wasi:filesystem/preopens lists no directory (the app's files stay
     * where they are): for programs that expect no preopened descriptor. */
    bool no_preopen;
} eos_wasi_cmdline;

/* As eos_wasi_call_argv with the options of cmd (borrowed for the call;
 * NULL as all defaults). */
EOS_API int eos_wasi_call_cmd(eos_wasi_app *app, const char *name, const eos_wasi_cmdline *cmd,
                              const eos_cm_val *args, size_t arg_count, eos_cm_val *results,
                              size_t result_count, eos_cm_arena *arena, eos_wasi_outcome *out);

#ifdef __cplusplus
}
#endif
#endif
