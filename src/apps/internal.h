/* Private declarations of the apps layer: the app object, the table, and the
 * pieces its files share (load pipeline, persistence, the JSON mapping). */
#ifndef EOS_APPS_INTERNAL_H
#define EOS_APPS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "eos/apps.h"
#include "eos/auth.h"
#include "eos/cm.h"

/* A loaded app. Immutable once in the table except for its counters; freed
 * when the last reference goes (the table's, or a request's in flight). */
struct eos_apps_app {
    atomic_long refs;
    char *name, *route, *hostname; /* hostname NULL when none */
    char *env_json;                /* canonical env object, or NULL */
    char *outbound;                /* allow-list rules joined by '\n', or NULL */
    char **rules;                  /* the same, split */
    size_t rule_count;
    eos_wasi_env *env;
    size_t env_count;
    char *config_json; /* canonical wasi:config object, or NULL (attested leaf) */
    eos_wasi_env *config;
    size_t config_count;
    /* Caller identity: the texts given at load (kept for persistence) and
     * their parsed form; auth NULL when the app has no caller policy. */
    char *caller_policy, *jwks, *client_ca;
    eos_auth_app *auth;
    uint8_t code_hash[32];
    uint8_t *bytes; /* the component, kept only with persist */
    size_t size;
    uint64_t max_fuel, max_memory_mb, max_request_ms;
    uint32_t max_concurrency; /* 0: the server's default */
    uint8_t tier_choice;      /* eos_apps_load_args.tier: 0 = the server's */
    eos_cm_component *comp;
    eos_wasi_app *wapp;
    atomic_ullong requests, errors, fuel, time_us;
    char *provenance; /* as uploaded (JSON), or NULL */
};

typedef struct eos_apps__cluster eos_apps__cluster;

struct eos_apps {
    pthread_mutex_t lock; /* guards v and n: held only to copy or swap them */
    pthread_mutex_t mgmt; /* serialises loads and unloads with the certificates */
    eos_apps_app **v;
    size_t n;
    eos_ratls_server *ratls; /* borrowed */
    eos_kv *kv;              /* borrowed */
    char *token;
    char *outbound_ca; /* NULL: the system bundle */
    uint8_t *outbound_ca_pem; /* its bytes, read once: what apps trust and the leaf commits */
    size_t outbound_ca_size;
    uint8_t outbound_ca_sha256[32]; /* core.outbound_ca's input (SPEC 5.2) */
    /* Attested outbound peers: the vendor anchors (file paths copied) and
     * the text core.peer_anchors commits to, one "NAME=SHA-256" line per
     * anchor file; has_peer_anchors 0 = none given. */
    eos_ratls_verify_opts peer_anchors;
    char *peer_sgx_root_ca, *peer_snp_ca, *peer_snp_vcek, *peer_collateral;
    char *peer_anchors_doc;
    int has_peer_anchors;
    eos_wasi_peer_verifier peer_verifier; /* verify_peer with apps as its argument */
    eos_kv_ns *sys_ns; /* persist: where apps are kept */
    int restoring;
    atomic_ullong loads;
    eos_apps__cluster *cluster; /* the follower thread, when the store is shared */
    void (*cluster_stop)(eos_apps *apps);
    eos_tee *join_tee;          /* set by eos_apps_join_enable(), borrowed */
    const eos_apps_join_policy *join_policy;
    uint8_t console_hash[32]; /* the core.console leaf's input, when has_console */
    int has_console;
    /* Requests: the default time budget and the instance pools, whose idle
     * instances a thread of the registry frees. */
    uint32_t max_request_ms, pool_size, pool_idle_ms;
    pthread_mutex_t trim_lock;
    pthread_cond_t trim_cond;
    pthread_t trim_thread;
    int trim_inited, trim_running, trim_stop;
    uint8_t tier; /* eos_wasm_tier of every load */
    uint8_t bounds;                        /* eos_wasm_bounds of every load */
    const eos_wasm_code_cache *code_cache; /* borrowed from the config */
    const char *no_compiled_tier;          /* from the config */
};


/* Largest per-call fuel an app may ask for at load. */
#define EOS_APPS__MAX_FUEL ((uint64_t)10000000000ull)
/* Longest time budget per request an app may ask for at load (one hour). */
#define EOS_APPS__MAX_REQUEST_MS 3600000u

/* app.c */
int eos_apps__app_name_valid(const char *name);
/* Runs steps 2-4 of a load; takes ownership of args->bytes. *out has one reference. */
int eos_apps__app_create(eos_apps *apps, const eos_apps_load_args *args, eos_apps_app **out,
                         eos_diag *d);
/* Writes a's wasm_list entry into g (borrowed). */
void eos_apps__app_gen_info(yajl_gen g, const eos_apps_app *a);

/* registry.c */
/* Steps 5-6 and the table swap, atomically; borrows a (the table takes its own
 * reference on success: the caller still drops its own). */
int eos_apps__install(eos_apps *apps, eos_apps_app *a, eos_diag *d);
int eos_apps__remove(eos_apps *apps, const char *name, eos_diag *d);
/* A new reference (eos_apps_app_unref) or NULL. */
eos_apps_app *eos_apps__get(eos_apps *apps, const char *name);
/* A snapshot of the table with a reference on each app; free with
 * eos_apps__snapshot_free(). */
int eos_apps__snapshot(eos_apps *apps, eos_apps_app ***out, size_t *out_count);
void eos_apps__snapshot_free(eos_apps_app **v, size_t n);

/* persist.c: persist records (no-ops without it). Borrow everything. */
/* The key of an app's record: "app/NAME/WHAT" in buf; its length, or -1. */
int eos_apps__persist_key(char *buf, size_t cap, const char *name, const char *what);
int eos_apps__persist_save(eos_apps *apps, const eos_apps_app *a, eos_diag *d);
int eos_apps__persist_delete(eos_apps *apps, const char *name, eos_diag *d);

/* secretstore.c / secrets.c: an app's secrets in app:<name>/secret (values)
 * and app:<name>/secret-meta (per name: salt, commitment, time). */
#define EOS_APPS__SECRET_META_SIZE (32 + 32 + 8)
/* Opens app:<app>/<what>; close with eos_kv_ns_close. */
int eos_apps__secret_ns_open(eos_apps *apps, const char *app, const char *what, eos_kv_ns **out);
/* Calls fn for every secret name of app with its meta record. */
int eos_apps__secret_each(eos_apps *apps, const char *app,
                          int (*fn)(void *arg, const char *key, const uint8_t *meta), void *arg);
/* The commitments of app name's secrets, for its Merkle leaves; free with
 * eos_apps__secret_entries_free(). 0 with none when the store is absent. */
int eos_apps__secret_entries(eos_apps *apps, const char *name, eos_ratls_secret_entry **out,
                             size_t *out_count);
void eos_apps__secret_entries_free(eos_ratls_secret_entry *v, size_t n);
/* The secret_put / secret_delete / secret_list operations; who names the
 * caller for the audit log. Answer documents as eos_apps_handle's. */
int eos_apps__secret_op(eos_apps *apps, eos_proto_op op, yajl_val body, const char *who,
                        char **out, size_t *out_size);
/* registry.c: rebuilds the certificates from the current table (a secret
 * changed). Call with apps->mgmt held. */
int eos_apps__push_current(eos_apps *apps, eos_diag *d);
/* restore.c: an app as the store holds it. args' strings point into meta
 * and args.bytes is items[1].value (clear that to take the bytes). */
typedef struct eos_apps__stored {
    eos_apps_load_args args;
    void *meta; /* yajl_val */
    eos_kv_item items[2];
    char keys[2][128];
} eos_apps__stored;
/* Reads app name's record; free *out with eos_apps__stored_free() whatever
 * the result. */
int eos_apps__stored_read(eos_apps *apps, const char *name, eos_apps__stored *out, eos_diag *d);
void eos_apps__stored_free(eos_apps__stored *s);
/* Calls fn with the name of every app the store holds. */
int eos_apps__stored_each(eos_apps *apps, void (*fn)(eos_apps *, const char *, void *), void *ctx,
                          eos_diag *d);

/* cluster.c: apps replicated through a store shared by several nodes. */
/* The version of the apps table in the store, bumped by persist.c with
 * every record's write when the store is shared. */
#define EOS_APPS__VERSION_KEY "apps/version"
/* Stops the follower thread; eos_apps_free() calls it through
 * apps->cluster_stop (no file cycle). NULL cluster is allowed. */
void eos_apps__cluster_stop(eos_apps *apps);

/* callval.c: JSON <-> component values for wasm_call. Borrows a, the
 * parameters and cmd (the command line get-arguments gives, argv[0] first,
 * argv NULL = the app's name alone, and the call's environment options);
 * *out is the result document (free with eos_free(*out, *out_size + 1)). */
int eos_apps__call(eos_apps_app *a, const char *func, const char *params_json, size_t params_size,
                   const eos_wasi_cmdline *cmd, char **out, size_t *out_size);

/* Converts JSON parameters (size bytes, borrowed) to values of ft's
 * parameter types and back to JSON in *out (free with eos_free(*out,
 * *out_size + 1)): the wasm_call mapping without a call, for tests and the
 * fuzzer. EOS_EINVAL with a reason in err when the JSON does not fit. */
int eos_apps__params_roundtrip(const eos_cm_functype *ft, const char *json, size_t size, char **out,
                               size_t *out_size, char *err, size_t err_size);

/* The verifier of attested outbound rules (wasi_peer.c), static storage. */
/* The verifier of apps' attested outbound rules, with apps' vendor anchors
 * (borrowed; lives as long as apps). */
const eos_wasi_peer_verifier *eos_apps__peer_verifier(eos_apps *apps);
/* Sets up apps' peer verifier: copies the vendor anchors (NULL = none) and
 * hashes their files for the core.peer_anchors leaf. 0, or EOS_EIO /
 * EOS_ENOMEM with diag. */
int eos_apps__peer_anchors_init(eos_apps *apps, const eos_ratls_verify_opts *anchors,
                                eos_diag *d);
/* Frees what eos_apps__peer_anchors_init() copied. */
void eos_apps__peer_anchors_free(eos_apps *apps);

#endif
