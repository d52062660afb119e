/* Private declarations of the apps layer: the app object, the table, and the
 * pieces its files share (load pipeline, persistence, the JSON mapping). */
#ifndef EOS_APPS_INTERNAL_H
#define EOS_APPS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <yajl/yajl_gen.h>

#include "eos/apps.h"
#include "eos/cm.h"

/* A loaded app. Immutable once in the table except for its counters; freed
 * when the last reference goes (the table's, or a request's in flight). */
struct eos_apps_app {
    atomic_long refs;
    char *name, *route, *hostname; /* hostname NULL when none */
    char *env_json;                /* canonical env object, or NULL */
    eos_wasi_env *env;
    size_t env_count;
    uint8_t code_hash[32];
    uint8_t *bytes; /* the component, kept only with persist */
    size_t size;
    uint64_t max_fuel, max_memory_mb;
    eos_cm_component *comp;
    eos_wasi_app *wapp;
    atomic_ullong requests, errors, fuel, time_us;
    char *provenance; /* as uploaded (JSON), or NULL */
};

struct eos_apps {
    pthread_mutex_t lock; /* guards v and n: held only to copy or swap them */
    pthread_mutex_t mgmt; /* serialises loads and unloads with the certificates */
    eos_apps_app **v;
    size_t n;
    eos_ratls_server *ratls; /* borrowed */
    eos_kv *kv;              /* borrowed */
    char *token;
    eos_kv_ns *sys_ns; /* persist: where apps are kept */
    int restoring;
    atomic_ullong loads;
    uint8_t console_hash[32]; /* the core.console leaf's input, when has_console */
    int has_console;
    uint8_t tier; /* eos_wasm_tier of every load */
};

/* Largest per-call fuel an app may ask for at load. */
#define EOS_APPS__MAX_FUEL ((uint64_t)10000000000ull)

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

/* callval.c: JSON <-> component values for wasm_call. Borrows a and the
 * parameters; *out is the result document (free with eos_free(*out, *out_size + 1)). */
int eos_apps__call(eos_apps_app *a, const char *func, const char *params_json, size_t params_size,
                   char **out, size_t *out_size);

/* Converts JSON parameters (size bytes, borrowed) to values of ft's
 * parameter types and back to JSON in *out (free with eos_free(*out,
 * *out_size + 1)): the wasm_call mapping without a call, for tests and the
 * fuzzer. EOS_EINVAL with a reason in err when the JSON does not fit. */
int eos_apps__params_roundtrip(const eos_cm_functype *ft, const char *json, size_t size, char **out,
                               size_t *out_size, char *err, size_t err_size);

#endif
