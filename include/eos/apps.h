/* The apps layer: the table of loaded apps (registry, persistence, the
 * certificates that follow it), the management operations of SPEC 3
 * (wasm_load, wasm_unload, wasm_list, wasm_call, config_manifest), the JSON
 * <-> component-value mapping of wasm_call, and each app's component
 * lifecycle. It knows no sockets: the server (net) routes requests to apps
 * and runs them on its app threads through the calls below. */
#ifndef EOS_APPS_H
#define EOS_APPS_H

#include <stddef.h>
#include <stdint.h>

#include "eos/auth.h"
#include "eos/common.h"
#include "eos/kv.h"
#include "eos/proto.h"
#include "eos/ratls.h"
#include "eos/wasi.h"
#include "eos/wasm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layer's version string, static storage. */
EOS_API const char *eos_apps_version(void);

typedef struct eos_apps_config {
    eos_ratls_server *ratls; /* borrowed: certificates follow loads; NULL = none */
    eos_kv *kv;              /* borrowed: apps' storage (and persist); NULL = none */
    const char *token;       /* management bearer token ("auth"), copied; NULL = none */
    int persist;             /* keep loaded apps sealed in kv; eos_apps_restore() reloads */
    const char *outbound_ca; /* PEM CA bundle for apps' outgoing TLS, copied; NULL = system */
    /* Vendor trust anchors for attested outbound peers with hardware evidence
     * (sgx_root_ca_file, snp_ca_file, snp_vcek_file, collateral_dir,
     * require_tcb, now; every other field is ignored). Copied, with the
     * files read once: the core leaf "core.peer_anchors" commits to them.
     * NULL = none, and hardware peers are refused. */
    const eos_ratls_verify_opts *peer_anchors;
    /* The web console's hash (32 bytes, copied): the core leaf "core.console"
     * of every configuration, published from the start. NULL = no console. */
    const uint8_t *console_hash;
    uint32_t max_request_ms; /* time budget per request unless an app sets one; 0 = 30 s */
    /* Ready instances kept per app, reset between requests; 0 = a fresh
     * instance per request. Unused ones are freed after pool_idle_ms (0 = 10 s). */
    uint32_t pool_size;
    uint32_t pool_idle_ms;
    /* The execution tier of every load and restore (eos_wasm_tier; 0 = the
     * interpreter). The caller checks first that the TEE allows it. */
    uint8_t tier;
    /* How compiled code checks memory accesses (eos_wasm_bounds; 0 =
     * explicit). The caller checks first that the platform allows guard. */
    uint8_t bounds;
    /* Why the compiled tier is not possible here (static storage), or NULL:
     * a load asking for tier compiled is then refused and auto interprets. */
    const char *no_compiled_tier;
    /* Where compiled code is kept across restarts (borrowed: must outlive
     * the table and eos_wasm_jit_shutdown()); NULL = compile on every load.
     * See eos_apps_code_cache_new(). */
    const eos_wasm_code_cache *code_cache;
} eos_apps_config;

/* The table of apps. Thread-safe: loads and unloads are serialised, lookups
 * run beside them. */
typedef struct eos_apps eos_apps;
/* A loaded app, reference-counted: immutable but for its counters. */
typedef struct eos_apps_app eos_apps_app;

/* Creates an empty table (cfg borrowed, NULL = no ratls, kv or token). Free
 * with eos_apps_free(). EOS_ENOMEM, or the store's error opening "sys". */
EOS_API int eos_apps_new(const eos_apps_config *cfg, eos_apps **out, eos_diag *d);
/* Frees the table and drops its references (apps in flight live on). */
EOS_API void eos_apps_free(eos_apps *apps);
/* With persist: loads the apps kept in the store again. An app that cannot
 * be loaded is logged and skipped. 0 or the store's error. */
EOS_API int eos_apps_restore(eos_apps *apps, eos_diag *d);
/* With persist on a store shared by several nodes (eos_kv_shared): starts
 * the thread that follows the cluster's apps (loads, replacements and
 * unloads made through any node, applied here within a second) and keeps
 * this node's entry in the cluster view. A no-op otherwise; stopped by
 * eos_apps_free(). */
EOS_API int eos_apps_cluster_start(eos_apps *apps, eos_diag *d);
/* The cluster view: {"status":"cluster","node":ID,"version":N,"nodes":[{"node",
 * "root","version","seen_seconds_ago"}...]}, NUL-terminated; free with
 * eos_free(*out, *out_size + 1). Never waits on the store. */
EOS_API int eos_apps_cluster_doc(eos_apps *apps, char **out, size_t *out_size);

/* ---- Joining a cluster: the data key released to an attested peer ---- */

/* Which peers may hold the key: those whose measurement is this node's own,
 * or one of allowed (for an upgrade: old and new both, then the old one
 * removed). The peer's evidence is verified as `enclave-os verify` does
 * (eos_ratls_verify_evidence) for every kind: SGX and TDX quotes against
 * Intel's root CA (verify->sgx_root_ca_file, else root_ca_file), SEV-SNP
 * reports against a VCEK (verify->snp_vcek_file or its collateral, else
 * each of snp_vceks in turn: one per chip) chained to AMD's ASK and ARK
 * (verify->snp_ca_file), the TCB status when verify->collateral_dir is
 * set; never debug, and simulated evidence only for a node that is itself
 * simulated. Everything borrowed. */
typedef struct eos_apps_join_policy {
    const uint8_t *const *allowed;
    const size_t *allowed_sizes;
    size_t allowed_count;
    const char *root_ca_file;
    const eos_ratls_verify_opts *verify; /* NULL = root_ca_file alone */
    const char *const *snp_vceks;
    size_t snp_vcek_count;
} eos_apps_join_policy;

/* Checks a peer's evidence under pol: it verifies, its report data equals
 * want_rd (64 bytes), and its measurement is this node's or allowed.
 * Returns 0, EOS_EPERM (measurement not allowed) or EOS_EVERIFY with the
 * reason in d. Borrows everything. */
EOS_API int eos_apps_join_check(eos_tee *tee, const eos_apps_join_policy *pol, const uint8_t *ev,
                                size_t ev_size, const uint8_t want_rd[EOS_TEE_REPORT_DATA_SIZE],
                                eos_diag *d);

/* A request or grant split into its fields (pointers into the message). */
typedef struct eos_apps_join_msg {
    const uint8_t *pub; /* 32-byte X25519 key */
    const uint8_t *nonce, *sealed, *tag; /* grant only: 12, sealed_size, 16 bytes */
    size_t sealed_size;                  /* the data key (32), then the CA, if any */
    const uint8_t *evidence;
    size_t evidence_size;
} eos_apps_join_msg;

/* Splits a join request (grant = 0) or grant (grant = 1) of untrusted bytes;
 * EOS_EMALFORMED with d when it does not parse. Borrows msg. */
EOS_API int eos_apps_join_parse(const uint8_t *msg, size_t size, int grant, eos_apps_join_msg *out,
                                eos_diag *d);

typedef struct eos_apps_join eos_apps_join;
/* The joiner: an ephemeral key and this TEE's evidence over it, as a request
 * in *req (free with eos_free(*req, *req_size)); *out keeps the private key
 * (free with eos_apps_join_free()). Borrows tee. */
EOS_API int eos_apps_join_request(eos_tee *tee, eos_apps_join **out, uint8_t **req,
                                  size_t *req_size, eos_diag *d);
/* The joiner: checks the member's grant (its evidence, under pol) and
 * recovers the 32-byte data key into key and, when ca is not NULL, the
 * cluster's RA-TLS CA into *ca (eos_ratls_server_options.ca_blob's layout;
 * NULL when the member sent none; wipe, then eos_free(*ca, *ca_size)).
 * Borrows everything else. */
EOS_API int eos_apps_join_accept(eos_apps_join *j, eos_tee *tee, const eos_apps_join_policy *pol,
                                 const uint8_t *grant, size_t size, uint8_t key[32], uint8_t **ca,
                                 size_t *ca_size, eos_diag *d);
EOS_API void eos_apps_join_free(eos_apps_join *j);
/* A member: answers a request when the joiner's evidence verifies under pol,
 * with the data key of kv and (when ratls is not NULL) the cluster's RA-TLS
 * CA with its key, sealed to the joiner's key, in *out (free with
 * eos_free(*out, *out_size)). EOS_EPERM (measurement not allowed) or
 * EOS_EVERIFY with the reason in d otherwise. Borrows everything. */
EOS_API int eos_apps_join_grant(eos_tee *tee, eos_kv *kv, eos_ratls_server *ratls,
                                const eos_apps_join_policy *pol, const uint8_t *req,
                                size_t req_size, uint8_t **out, size_t *out_size, eos_diag *d);
/* Lets this node answer joins (POST /.well-known/enclave-os/cluster/join)
 * under pol; tee and pol are borrowed and must outlive apps. */
EOS_API void eos_apps_join_enable(eos_apps *apps, eos_tee *tee, const eos_apps_join_policy *pol);
/* The endpoint's answer to a request (see eos_apps_join_grant). */
EOS_API int eos_apps_join_answer(eos_apps *apps, const uint8_t *req, size_t req_size, uint8_t **out,
                                 size_t *out_size, eos_diag *d);
/* Loads an app as a wasm_load would; borrows everything. 0 or an eos_err with d. */
EOS_API int eos_apps_load_bytes(eos_apps *apps, const char *name, const uint8_t *bytes,
                                size_t size, const char *route, const char *hostname,
                                const char *env_json, eos_diag *d);

/* ---- Management (SPEC 3) ---- */

/* What a load needs; the caller fills it from a request. */
/* The largest max_concurrency a load may ask for. */
#define EOS_APPS_MAX_CONCURRENCY 1024u

typedef struct eos_apps_load_args {
    const char *name, *route, *hostname, *env_json; /* borrowed */
    /* wasi:config values (JSON object of strings), and the caller policy
     * with its JWKS and client CA (texts); each borrowed or NULL. */
    const char *config_json, *caller_policy, *jwks, *client_ca;
    uint8_t *bytes; /* the component; taken over by the load in every case */
    size_t size;
    uint64_t max_fuel, max_memory_mb;
    /* Outbound allow-list rules joined by '\n' (see eos_wasi_outbound), or
     * NULL for none; borrowed. */
    const char *outbound;
    uint64_t max_concurrency; /* requests run at once; 0: the server's default */
    /* The build provenance uploaded with the component (a JSON object of at
     * most 16 KiB, borrowed) or NULL: kept beside the app and listed by
     * wasm_list for the console; neither attested nor persisted. */
    const char *provenance;
    uint64_t max_request_ms; /* the app's time budget per request; 0 = the server's */
    /* The app's execution tier: 0 = the server's (--tier), else 1 +
     * eos_wasm_tier (see eos_apps_tier_parse). */
    uint8_t tier;
} eos_apps_load_args;

/* Reads "auto", "interp" or "compiled" (n bytes, borrowed) into *out as
 * eos_apps_load_args.tier wants it; "" gives 0 (the server's). 0 or
 * EOS_EINVAL. */
EOS_API int eos_apps_tier_parse(const char *s, size_t n, uint8_t *out);

/* Answers an inner request (a finished eos_proto_request, borrowed).
 * authorised says whether the connection itself may manage (dev loopback or
 * a management client certificate); a request may also carry the token.
 * The answer document goes to *out (free with eos_free(*out, *out_size + 1)).
 * A failed operation is a status "error" document, not an error return;
 * returns EOS_ENOMEM only. */
EOS_API int eos_apps_handle(eos_apps *apps, eos_proto_request *req, int authorised, char **out,
                            size_t *out_size);
/* A load from raw bytes (HTTP PUT), the same pipeline; takes args->bytes. */
EOS_API int eos_apps_load(eos_apps *apps, const eos_apps_load_args *args, char **out,
                          size_t *out_size);
/* Unloads name (borrowed); erase also deletes the app's stored data. */
EOS_API int eos_apps_unload(eos_apps *apps, const char *name, int erase, char **out,
                            size_t *out_size);
/* The wasm_list document. */
EOS_API int eos_apps_list(eos_apps *apps, char **out, size_t *out_size);
/* An error document {"status":"error","code","message"} (strings borrowed). */
EOS_API int eos_apps_error_doc(const char *code, const char *message, char **out,
                               size_t *out_size);
/* True when token (len bytes, borrowed) is the management token (constant time). */
EOS_API int eos_apps_token_ok(eos_apps *apps, const char *token, size_t len);
/* True when a management token is configured. */
EOS_API int eos_apps_has_token(const eos_apps *apps);
/* Successful loads since the table was made. */
EOS_API uint64_t eos_apps_load_count(const eos_apps *apps);

/* ---- Serving ---- */

/* Routing (SPEC 4): the app whose hostname equals host (NULL = none), else
 * the one with the longest route prefixing path at a '/' boundary. Returns a
 * new reference (eos_apps_app_unref) or NULL. *out_prefix_len is the length
 * of the app's route taken off the path: the route whenever path lies under
 * it, whether the app was found by hostname or by route (0 otherwise). */
EOS_API eos_apps_app *eos_apps_route(eos_apps *apps, const char *host, const char *path,
                                     size_t *out_prefix_len);
EOS_API void eos_apps_app_ref(eos_apps_app *a);
/* Drops a reference; NULL is allowed. */
EOS_API void eos_apps_app_unref(eos_apps_app *a);
/* The app's name, borrowed from a. */
EOS_API const char *eos_apps_app_name(const eos_apps_app *a);
/* Stored records the encrypted store found altered (they failed
 * authentication) while apps read them, since the process started; each is
 * also logged with its app, store and key hash. */
EOS_API unsigned long long eos_apps_tamper_count(void);
/* Most requests to run at once set at load (0: the server's default). */
EOS_API uint32_t eos_apps_app_max_concurrency(const eos_apps_app *a);
/* Runs the app's HTTP handler (wasi:http) for req, streaming its response
 * into sink; all borrowed. Counts the request and its fuel. Returns the
 * driver's result, detail in *out. Call from a thread that may block. */
EOS_API int eos_apps_app_serve(eos_apps_app *a, const eos_wasi_request *req,
                               const eos_wasi_sink *sink, eos_wasi_outcome *out);
/* The app's caller configuration (borrowed from a), or NULL when anyone may
 * call it. */
EOS_API const eos_auth_app *eos_apps_app_auth(const eos_apps_app *a);
/* The caller of a management request as the server saw it: who names it
 * for the audit log of secret operations (e.g. "127.0.0.1:5000"), and the
 * TLS client certificate and chain it showed (or NULL), which an app's
 * caller policy judges for its typed functions. All borrowed. */
typedef struct eos_apps_caller {
    const char *who;
    X509 *client_cert;
    STACK_OF(X509) * client_chain;
} eos_apps_caller;
/* Like eos_apps_handle, with the caller (NULL = unknown, no certificate). A
 * wasm_call of an app with a caller policy is judged by the rule of its
 * function, with the bearer token in "authorization" beside "app" and the
 * caller's certificate; a refusal answers code "unauthorized" (401) or
 * "forbidden" (403) with the challenge in "www_authenticate". */
EOS_API int eos_apps_handle_as(eos_apps *apps, eos_proto_request *req, int authorised,
                               const eos_apps_caller *caller, char **out, size_t *out_size);
/* Counts a failed request of a. */
EOS_API void eos_apps_app_count_error(eos_apps_app *a);
/* Adds the time one request of a took, from its head to its answer (µs). */
EOS_API void eos_apps_app_count_time(eos_apps_app *a, uint64_t us);

/* Per-app counters, for the metrics page. */
typedef struct eos_apps_stat {
    char name[64];
    uint64_t requests, errors, fuel;
    eos_wasi_outbound_stats outbound; /* outgoing calls, bytes, errors, denials */
    uint64_t time_us; /* the requests' time, head to answer */
    eos_wasm_tier_info tier; /* eos_cm_component_tier_info of the app */
} eos_apps_stat;
/* "interp", "auto" or "compiled"; and "none", "pending", "ready" or
 * "failed": static strings, for listings and metrics. */
EOS_API const char *eos_apps_tier_name(eos_wasm_tier tier);

/* The sealed cache of compiled code: <data_dir>/code-cache, one file per
 * module and compiler options (SHA-256 of both), sealed with tee (borrowed:
 * must outlive the cache). An entry that fails to unseal or names another
 * key is reported as corrupt: the engine compiles again and replaces it.
 * Free with eos_apps_code_cache_free(). */
typedef struct eos_apps_code_cache eos_apps_code_cache;
EOS_API int eos_apps_code_cache_new(eos_tee *tee, const char *data_dir, eos_apps_code_cache **out,
                                    eos_diag *d);
/* The same cache in dir itself (created if missing; borrowed): several
 * servers may share one directory, each entry being written aside and
 * renamed. Free with eos_apps_code_cache_free(). */
EOS_API int eos_apps_code_cache_open(eos_tee *tee, const char *dir, eos_apps_code_cache **out,
                                     eos_diag *d);
/* The engine's hooks, borrowed from c (NULL when c is NULL). */
EOS_API const eos_wasm_code_cache *eos_apps_code_cache_hooks(eos_apps_code_cache *c);
/* Lookups served, missed, and rejected by the integrity check since start. */
EOS_API void eos_apps_code_cache_stats(const eos_apps_code_cache *c, uint64_t *hits,
                                       uint64_t *misses, uint64_t *rejected);
/* Frees c (takes ownership); NULL is allowed. */
EOS_API void eos_apps_code_cache_free(eos_apps_code_cache *c);
EOS_API const char *eos_apps_compile_state_name(eos_wasm_compile_state state);
/* A copy of every app's counters; free with eos_free(*out, *out_count * sizeof **out). */
EOS_API int eos_apps_stats(eos_apps *apps, eos_apps_stat **out, size_t *out_count);

#ifdef __cplusplus
}
#endif
/* The WASI host's storage for apps on the encrypted store: keyvalue buckets
 * and the file tree become kv namespaces. kv is borrowed and must outlive every
 * app using the result; NULL gives a store with no ops (no keyvalue, no files). */
eos_wasi_store eos_apps_wasi_store(eos_kv *kv);

#endif
