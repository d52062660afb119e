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
    /* The web console's hash (32 bytes, copied): the core leaf "core.console"
     * of every configuration, published from the start. NULL = no console. */
    const uint8_t *console_hash;
    /* The execution tier of every load and restore (eos_wasm_tier; 0 = the
     * interpreter). The caller checks first that the TEE allows it. */
    uint8_t tier;
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
/* Loads an app as a wasm_load would; borrows everything. 0 or an eos_err with d. */
EOS_API int eos_apps_load_bytes(eos_apps *apps, const char *name, const uint8_t *bytes,
                                size_t size, const char *route, const char *hostname,
                                const char *env_json, eos_diag *d);

/* ---- Management (SPEC 3) ---- */

/* What a load needs; the caller fills it from a request. */
typedef struct eos_apps_load_args {
    const char *name, *route, *hostname, *env_json; /* borrowed */
    uint8_t *bytes; /* the component; taken over by the load in every case */
    size_t size;
    uint64_t max_fuel, max_memory_mb;
    /* The build provenance uploaded with the component (a JSON object of at
     * most 16 KiB, borrowed) or NULL: kept beside the app and listed by
     * wasm_list for the console; neither attested nor persisted. */
    const char *provenance;
} eos_apps_load_args;

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
/* Runs the app's HTTP handler (wasi:http) for req, streaming its response
 * into sink; all borrowed. Counts the request and its fuel. Returns the
 * driver's result, detail in *out. Call from a thread that may block. */
EOS_API int eos_apps_app_serve(eos_apps_app *a, const eos_wasi_request *req,
                               const eos_wasi_sink *sink, eos_wasi_outcome *out);
/* Counts a failed request of a. */
EOS_API void eos_apps_app_count_error(eos_apps_app *a);
/* Adds the time one request of a took, from its head to its answer (µs). */
EOS_API void eos_apps_app_count_time(eos_apps_app *a, uint64_t us);

/* Per-app counters, for the metrics page. */
typedef struct eos_apps_stat {
    char name[64];
    uint64_t requests, errors, fuel;
    uint64_t time_us; /* the requests' time, head to answer */
    eos_wasm_tier_info tier; /* eos_cm_component_tier_info of the app */
} eos_apps_stat;
/* "interp", "auto" or "compiled"; and "none", "pending", "ready" or
 * "failed": static strings, for listings and metrics. */
EOS_API const char *eos_apps_tier_name(eos_wasm_tier tier);
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
