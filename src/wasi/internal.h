/* Private to the WASI host: the per-call context (resource table, scratch
 * memory, HTTP state), the stream and pollable objects shared by io, http,
 * filesystem and cli, and the host-function tables each interface file exports. */
#ifndef EOS_WASI_INTERNAL_H
#define EOS_WASI_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "eos/cm.h"
#include "eos/wasi.h"

/* Kinds of host resources, stored beside each rep in the resource table. */
typedef enum eos_wasi__rtype {
    EOS_WASI__R_FREE = 0,
    EOS_WASI__R_ERROR,        /* wasi:io/error.error */
    EOS_WASI__R_POLLABLE,     /* wasi:io/poll.pollable */
    EOS_WASI__R_INPUT,        /* wasi:io/streams.input-stream */
    EOS_WASI__R_OUTPUT,       /* wasi:io/streams.output-stream */
    EOS_WASI__R_FIELDS,       /* wasi:http/types.fields */
    EOS_WASI__R_IN_REQUEST,   /* incoming-request */
    EOS_WASI__R_OUT_RESPONSE, /* outgoing-response */
    EOS_WASI__R_IN_BODY,      /* incoming-body */
    EOS_WASI__R_OUT_BODY,     /* outgoing-body */
    EOS_WASI__R_FUT_TRAILERS, /* future-trailers */
    EOS_WASI__R_OUTPARAM,     /* response-outparam */
    EOS_WASI__R_REQ_OPTIONS,  /* request-options */
    EOS_WASI__R_OUT_REQUEST,  /* outgoing-request */
    EOS_WASI__R_KV_BUCKET,    /* wasi:keyvalue/store.bucket */
    EOS_WASI__R_KV_CAS,       /* wasi:keyvalue/atomics.cas (draft2) */
    EOS_WASI__R_FS_DESC,      /* wasi:filesystem/types.descriptor */
    EOS_WASI__R_FS_DIRSTREAM, /* directory-entry-stream */
    EOS_WASI__R_IN_RESPONSE,  /* incoming-response (outgoing.c) */
    EOS_WASI__R_FUT_RESPONSE, /* future-incoming-response (outgoing.c) */
    EOS_WASI__R_OTHER         /* resources the host never hands out */
} eos_wasi__rtype;

typedef struct eos_wasi__slot {
    uint8_t type; /* eos_wasi__rtype */
    void *obj;
    uint32_t next_free;
} eos_wasi__slot;

/* A block of scratch memory for host results, freed at the next host call. */
typedef struct eos_wasi__scratch {
    struct eos_wasi__scratch *next;
    size_t size;
} eos_wasi__scratch;

typedef struct eos_wasi__ctx eos_wasi__ctx;

/* Input streams: read fills buf with at most cap bytes. Return 0 with
 * *out_size (0 allowed: nothing available now), EOS_ECLOSED at the end, or
 * another eos_err for last-operation-failed. */
typedef struct eos_wasi__istream {
    int (*read)(eos_wasi__ctx *ctx, void *impl, uint8_t *buf, size_t cap, size_t *out_size);
    void (*release)(eos_wasi__ctx *ctx, void *impl);
    /* Optional: waits until bytes may be available (a blocking read calls it
     * instead of sleeping); the source bounds the wait with its own timeouts. */
    void (*wait)(eos_wasi__ctx *ctx, void *impl);
    void *impl;
    bool closed;
} eos_wasi__istream;

/* Output streams: space reports how many bytes may be written now (the
 * check-write budget), write consumes them, flush pushes buffered bytes out
 * (blocking or not). Return 0, EOS_ECLOSED or another eos_err. */
typedef struct eos_wasi__ostream {
    int (*space)(eos_wasi__ctx *ctx, void *impl, uint64_t *out_space);
    int (*write)(eos_wasi__ctx *ctx, void *impl, const uint8_t *data, size_t size);
    int (*flush)(eos_wasi__ctx *ctx, void *impl, bool blocking);
    void (*release)(eos_wasi__ctx *ctx, void *impl);
    void *impl;
    uint64_t permit; /* bytes the last check-write allowed and not yet written */
    bool closed;
    bool failed;
} eos_wasi__ostream;

/* A pollable is ready at once, at a monotonic deadline, or when its output
 * stream has room. */
typedef struct eos_wasi__pollable {
    uint8_t kind;        /* EOS_WASI__POLL_* */
    uint64_t deadline;   /* ns on eos_now_ns()'s clock, for POLL_CLOCK */
    uint32_t stream_rep; /* for POLL_OUTPUT */
    /* For POLL_OUTGOING: an outgoing call (a reference held) and what about
     * it is awaited (EOS_WASI__OWAIT_*). */
    struct eos_wasi__ocall *call;
    uint8_t what;
} eos_wasi__pollable;

enum {
    EOS_WASI__POLL_READY = 0,
    EOS_WASI__POLL_CLOCK = 1,
    EOS_WASI__POLL_OUTPUT = 2,
    EOS_WASI__POLL_OUTGOING = 3
};

/* An io error: an eos_err and a message for to-debug-string. */
typedef struct eos_wasi__ioerr {
    int code;
    int http_err; /* wasi:http error-code case + 1 for http-error-code, 0 none */
    char msg[128];
} eos_wasi__ioerr;

/* HTTP header fields. Names are stored lower-cased. */
typedef struct eos_wasi__field {
    char *name;
    size_t name_size;
    uint8_t *value;
    size_t value_size;
} eos_wasi__field;

typedef struct eos_wasi__fields {
    eos_wasi__field *items;
    size_t len, cap;
    bool immutable;
} eos_wasi__fields;

/* The response that will reach the sink, shared by outgoing-response,
 * outgoing-body and the body's output stream. */
typedef struct eos_wasi__resp {
    uint16_t status;
    eos_wasi__fields *headers;
    uint32_t refs;
    bool sent; /* given to response-outparam.set: head went to the sink */
    bool body_taken;
    bool stream_taken;
    bool body_done;     /* finished or dropped */
    bool body_complete; /* finished cleanly */
    bool ended;         /* sink->end was called */
    eos_wasi__fields *trailers;
    uint8_t *pending; /* body written before the head was sent (bounded) */
    size_t pending_size;
} eos_wasi__resp;

/* Pending body bytes kept before response-outparam.set, at most. */
#define EOS_WASI__PENDING_MAX (4u * EOS_WASI_BODY_CHUNK)

/* The per-call context. One per request (or typed call); the driver gives it
 * to the instance as its data, so host functions (eos_cm_call_data) and
 * resource destructors (their data argument) receive it. */
struct eos_wasi__ctx {
    eos_wasi_app *app;
    eos_wasi__slot *slots;
    uint32_t slot_len, slot_cap, free_head;
    eos_wasi__scratch *scratch;
    const eos_wasi_request *req;
    const eos_wasi_sink *sink;
    eos_wasi_outcome *out;
    bool request_taken;
    bool outparam_set;
    int outparam_err; /* 0, or EOS_EPROTO when set with an error-code */
    int sink_err;     /* first sink failure */
    bool body_in_done;
    uint8_t *iobuf; /* EOS_WASI_BODY_CHUNK bytes for reads, reused by every call */
    struct eos_wasi__outctx *outgoing; /* outgoing HTTP calls (outgoing.c), lazily */
    int http_err; /* error-code case + 1 for the next stream error (outgoing.c) */
    /* wasi:cli/environment get-arguments (borrowed for the call); NULL =
     * the app's name alone, as argv[0]. */
    const char *const *argv;
    size_t argc;
    bool no_app_env; /* environment without APP_NAME, APP_VERSION */
    bool no_preopen; /* preopens lists nothing */
};

/* App state shared by every call of one app. */
struct eos_wasi_app {
    char *name;
    char version_hex[65];
    eos_wasi_env *env; /* copies */
    size_t env_count;
    eos_wasi_env *config; /* wasi:config values, copies */
    size_t config_count;
    uint64_t max_fuel;
    uint32_t max_time_ms;
    uint64_t max_memory_bytes;
    const eos_cm_component *component;
    eos_wasi_store store; /* ops NULL: no store */
    eos_cm_host *host;
    pthread_mutex_t lock; /* guards the rate limiter and the namespace cache */
    double log_tokens;
    uint64_t log_last_ns;
    double log_rate, log_burst;
    uint64_t log_dropped;
    uint64_t log_dropped_pending;
    struct eos_wasi__nscache *ns_cache;
    /* Ready instances for reuse (pool.c), most recently used last. */
    pthread_mutex_t pool_lock;
    struct eos_wasi__pooled *pool;
    uint32_t pool_len, pool_max, pool_idle_ms;
    uint32_t pool_out; /* snapshotted instances serving a request now */
    uint64_t pool_reused, pool_fresh;
    struct eos_wasi__outapp *outbound; /* the egress policy and counters (outgoing.c) */
};

/* ---- pool.c ---- */
/* A store and instance for one call bound to ctx, with the app's fuel and
 * time budget: a reset one from the pool, or a fresh one (snapshotted when
 * the app pools). *out_reusable says whether it may go back to the pool. */
int eos_wasi__acquire(eos_wasi_app *app, eos_wasi__ctx *ctx, eos_wasm_store **out_store,
                      eos_cm_instance **out_inst, bool *out_reusable, eos_diag *diag);
/* Gives them back after the call (ctx still bound, for handle destructors):
 * reset into the pool when reusable and ok, freed otherwise. Takes
 * ownership of both (NULL allowed). */
void eos_wasi__release(eos_wasi_app *app, eos_wasm_store *store, eos_cm_instance *inst,
                       bool reusable, bool ok);
/* Sets up the pool (max instances, idle time) and frees it with every
 * pooled instance (app teardown). */
int eos_wasi__pool_init(eos_wasi_app *app, uint32_t max, uint32_t idle_ms);
void eos_wasi__pool_free(eos_wasi_app *app);
/* A fresh store and instance with the app's limits, bound to ctx. */
int eos_wasi__instantiate(eos_wasi_app *app, eos_wasi__ctx *ctx, eos_wasm_store **out_store,
                          eos_cm_instance **out_inst, eos_diag *diag);

/* ---- ctx.c ---- */
void eos_wasi__ctx_init(eos_wasi__ctx *ctx, eos_wasi_app *app);
/* Frees every resource still in the table, the table and the scratch. */
void eos_wasi__ctx_fini(eos_wasi__ctx *ctx);
/* Adds obj to the table; returns the rep (> 0) or 0 on out of memory. */
uint32_t eos_wasi__res_add(eos_wasi__ctx *ctx, eos_wasi__rtype type, void *obj);
/* The object behind rep when it has the type, else NULL. */
void *eos_wasi__res_get(eos_wasi__ctx *ctx, uint32_t rep, eos_wasi__rtype type);
/* Removes rep from the table without freeing the object (ownership moved). */
void *eos_wasi__res_take(eos_wasi__ctx *ctx, uint32_t rep, eos_wasi__rtype type);
/* Removes and frees rep's object (the destructor path). */
void eos_wasi__res_drop(eos_wasi__ctx *ctx, uint32_t rep);
/* The destructor given to every interface: drops rep in the call's context
 * (data; NULL outside a driver call, when there is nothing to drop). */
void eos_wasi__dtor(void *ud, void *data, uint32_t rep);
/* Scratch memory valid until the next host call resets it; NULL on OOM. */
void *eos_wasi__scratch_alloc(eos_wasi__ctx *ctx, size_t size);
void eos_wasi__scratch_reset(eos_wasi__ctx *ctx);
/* A new error resource with a message; returns its rep (0 on OOM). */
uint32_t eos_wasi__ioerr_new(eos_wasi__ctx *ctx, int code, const char *msg);
/* Adds a ready or clock pollable; returns its rep (0 on OOM). */
uint32_t eos_wasi__pollable_new(eos_wasi__ctx *ctx, uint8_t kind, uint64_t deadline,
                                uint32_t stream_rep);
/* Records why the guest is being stopped (kept for the server's 500 reason)
 * and returns EOS_TRAP_HOST. */
int eos_wasi__trap(eos_wasi__ctx *ctx, const char *why);

/* ---- hostfn.c: the helper layer every host function is written against ----
 *
 * As lauxlib serves Lua's C functions, these write once what each host
 * function would otherwise repeat: entering the call, checking handle
 * arguments, adding new resources, and building results in scratch memory.
 * A typical method is
 *
 *   static int get_flags(eos_cm_call *call, void *ud, const eos_cm_val *args,
 *                        eos_cm_val *results)
 *   {
 *       EOS_WASI__SELF(ctx, fdesc, d, EOS_WASI__R_FS_DESC);
 *       return eos_wasi__ok_flags(ctx, &results[0], d->flags);
 *   }
 *
 * Every helper returning int returns 0 or EOS_ENOMEM, to be returned as is. */

/* The call's context (the instance data the driver bound), with the previous
 * call's scratch freed; NULL outside a driver call. Borrowed. */
eos_wasi__ctx *eos_wasi__enter(eos_cm_call *call);
/* Starts a host function: ctx is the call's context, or the guest traps. */
#define EOS_WASI__ENTER(ctx, call)                                                                 \
    eos_wasi__ctx *ctx = eos_wasi__enter(call);                                                    \
    if (!ctx)                                                                                      \
    return EOS_TRAP_HOST
/* A handle argument (a borrow or own value) naming a live resource of rtype,
 * bound to var; any other handle traps the guest. */
#define EOS_WASI__ARG(ctx, T, var, val, rtype)                                                     \
    T *var = eos_wasi__res_get((ctx), (val).of.handle, (rtype));                                   \
    if (!var)                                                                                      \
    return EOS_TRAP_HOST
/* The prologue of a method: enter, then `self` (args[0]) as var. For host
 * functions with the usual parameter names (call, args). */
#define EOS_WASI__SELF(ctx, T, var, rtype)                                                         \
    EOS_WASI__ENTER(ctx, call);                                                                    \
    EOS_WASI__ARG(ctx, T, var, args[0], rtype)

/* Adds a new host object as a resource: returns its rep, or 0 after freeing
 * obj as the table would (takes ownership; NULL obj gives 0). */
uint32_t eos_wasi__res_new(eos_wasi__ctx *ctx, eos_wasi__rtype type, void *obj);

/* Value builders; strings and bytes are copied into scratch. */
eos_cm_val *eos_wasi__val_new(eos_wasi__ctx *ctx, size_t count);
bool eos_wasi__val_str(eos_wasi__ctx *ctx, eos_cm_val *v, const char *s, size_t len);
bool eos_wasi__val_bytes(eos_wasi__ctx *ctx, eos_cm_val *v, const uint8_t *b, size_t len);
/* Sets v to result ok (payload may be NULL) or err. */
void eos_wasi__val_result(eos_cm_val *v, bool is_err, eos_cm_val *payload);
/* Sets v to some(payload) or, for NULL, none. */
void eos_wasi__val_option(eos_cm_val *v, eos_cm_val *payload);

/* Result wrapping: res becomes ok(...) or err(...). */
int eos_wasi__ok(eos_cm_val *res, eos_cm_val *payload);
int eos_wasi__ok_u64(eos_wasi__ctx *ctx, eos_cm_val *res, uint64_t v);
int eos_wasi__ok_s64(eos_wasi__ctx *ctx, eos_cm_val *res, int64_t v);
int eos_wasi__ok_bool(eos_wasi__ctx *ctx, eos_cm_val *res, bool v);
int eos_wasi__ok_case(eos_wasi__ctx *ctx, eos_cm_val *res, uint32_t index); /* enum */
int eos_wasi__ok_flags(eos_wasi__ctx *ctx, eos_cm_val *res, uint64_t bits);
int eos_wasi__ok_str(eos_wasi__ctx *ctx, eos_cm_val *res, const char *s, size_t len);
int eos_wasi__ok_bytes(eos_wasi__ctx *ctx, eos_cm_val *res, const uint8_t *b, size_t len);
/* ok(own handle rep); rep 0 (the resource could not be made) is EOS_ENOMEM. */
int eos_wasi__ok_handle(eos_wasi__ctx *ctx, eos_cm_val *res, uint32_t rep);
int eos_wasi__err(eos_cm_val *res, eos_cm_val *payload);
/* err(case) of an enum or a variant case without payload. */
int eos_wasi__err_case(eos_wasi__ctx *ctx, eos_cm_val *res, uint32_t index);
/* A plain own handle result; rep 0 is EOS_ENOMEM. */
int eos_wasi__ret_handle(eos_cm_val *res, uint32_t rep);
/* option<string> of s (NULL = none), copied. */
int eos_wasi__ret_opt_str(eos_wasi__ctx *ctx, eos_cm_val *res, const char *s);

/* ---- io.c ---- */
/* New stream resources from a template; return the rep, or 0 after releasing
 * tmpl->impl (ownership of impl moves to the stream either way). */
uint32_t eos_wasi__istream_new(eos_wasi__ctx *ctx, const eos_wasi__istream *tmpl);
uint32_t eos_wasi__ostream_new(eos_wasi__ctx *ctx, const eos_wasi__ostream *tmpl);
void eos_wasi__istream_free(eos_wasi__ctx *ctx, eos_wasi__istream *s);
void eos_wasi__ostream_free(eos_wasi__ctx *ctx, eos_wasi__ostream *s);
/* True when a pollable is ready now. */
bool eos_wasi__pollable_ready(eos_wasi__ctx *ctx, const eos_wasi__pollable *p);

/* ---- http.c / fields.c ---- */
eos_wasi__fields *eos_wasi__fields_new(void);
void eos_wasi__fields_free(eos_wasi__fields *f);
eos_wasi__fields *eos_wasi__fields_clone(const eos_wasi__fields *f, bool immutable);
/* Validation: 0, or the header-error case (1 invalid-syntax, 2 forbidden). */
int eos_wasi__field_name_check(const char *name, size_t size);
bool eos_wasi__field_value_valid(const uint8_t *v, size_t size);
/* Mutations; return 0 or the header-error case index + 1 (1 invalid-syntax,
 * 2 forbidden, 3 immutable), or EOS_ENOMEM. */
int eos_wasi__fields_append(eos_wasi__fields *f, const char *name, size_t name_size,
                            const uint8_t *value, size_t value_size);
int eos_wasi__fields_delete(eos_wasi__fields *f, const char *name, size_t name_size);
/* Appends without any check (names lower-cased): for headers from the server. */
int eos_wasi__fields_push(eos_wasi__fields *f, const char *name, size_t name_size,
                          const uint8_t *value, size_t value_size);
bool eos_wasi__fields_has(const eos_wasi__fields *f, const char *name, size_t name_size);
void eos_wasi__resp_release(eos_wasi__ctx *ctx, eos_wasi__resp *r);
/* Ends the response towards the sink when it was sent and its body is done. */
void eos_wasi__resp_maybe_end(eos_wasi__ctx *ctx, eos_wasi__resp *r);
void eos_wasi__http_free_obj(eos_wasi__ctx *ctx, uint8_t type, void *obj);
const char *eos_wasi__error_code_name(uint32_t index);
#define EOS_WASI__HDR_INVALID   1
#define EOS_WASI__HDR_FORBIDDEN 2
#define EOS_WASI__HDR_IMMUTABLE 3

/* Creates the incoming-request and response-outparam reps of ctx->req. */
int eos_wasi__http_begin(eos_wasi__ctx *ctx, uint32_t *out_req, uint32_t *out_outparam);

/* ---- outgoing.c: wasi:http/outgoing-handler on libcurl ---- */
typedef struct eos_wasi__ocall eos_wasi__ocall;
enum { EOS_WASI__OWAIT_HEAD = 0, EOS_WASI__OWAIT_BODY = 1, EOS_WASI__OWAIT_SEND = 2 };
/* Sets up and frees the app's egress state (copies cfg). */
int eos_wasi__out_app_init(eos_wasi_app *app, const eos_wasi_outbound *cfg, eos_diag *diag);
void eos_wasi__out_app_free(eos_wasi_app *app);
/* Frees the call context's transfers (after every resource is gone). */
void eos_wasi__out_ctx_fini(eos_wasi__ctx *ctx);
/* Readiness of a POLL_OUTGOING pollable, and a wait of at most max_ns for
 * any transfer of the context to make progress. */
bool eos_wasi__out_ready(eos_wasi__ctx *ctx, eos_wasi__ocall *c, uint8_t what);
void eos_wasi__out_wait(eos_wasi__ctx *ctx, uint64_t max_ns);
/* References: each resource, stream and pollable of a call holds one. */
eos_wasi__ocall *eos_wasi__ocall_ref(eos_wasi__ocall *c);
void eos_wasi__ocall_release(eos_wasi__ocall *c);
/* False when nothing can ever make the call progress (not sent, or done). */
bool eos_wasi__out_can_progress(eos_wasi__ocall *c);
/* A pollable over the call (EOS_WASI__OWAIT_*, or 3: the transfer's end). */
uint32_t eos_wasi__out_pollable(eos_wasi__ctx *ctx, eos_wasi__ocall *c, uint8_t what);
/* future-trailers.get of a response body. */
int eos_wasi__out_trailers(eos_wasi__ctx *ctx, eos_wasi__ocall *c, bool *taken, eos_cm_val *res);
/* http.c: incoming-body over a response, outgoing-body over a request
 * (each takes a reference); 0 on OOM. */
uint32_t eos_wasi__in_body_resource(eos_wasi__ctx *ctx, eos_wasi__ocall *c);
uint32_t eos_wasi__out_body_resource(eos_wasi__ctx *ctx, eos_wasi__ocall *c);
/* Resource types of outgoing.c, freed by it. */
bool eos_wasi__out_free_obj(eos_wasi__ctx *ctx, uint8_t type, void *obj);
/* Host functions of outgoing.c, listed in http.c's table. */
#define EOS_WASI__OUT_FN(n)                                                                        \
    int n(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
EOS_WASI__OUT_FN(eos_wasi__oreq_new);
EOS_WASI__OUT_FN(eos_wasi__oreq_body);
EOS_WASI__OUT_FN(eos_wasi__oreq_method);
EOS_WASI__OUT_FN(eos_wasi__oreq_set_method);
EOS_WASI__OUT_FN(eos_wasi__oreq_path);
EOS_WASI__OUT_FN(eos_wasi__oreq_set_path);
EOS_WASI__OUT_FN(eos_wasi__oreq_scheme);
EOS_WASI__OUT_FN(eos_wasi__oreq_set_scheme);
EOS_WASI__OUT_FN(eos_wasi__oreq_authority);
EOS_WASI__OUT_FN(eos_wasi__oreq_set_authority);
EOS_WASI__OUT_FN(eos_wasi__oreq_headers);
EOS_WASI__OUT_FN(eos_wasi__opts_new);
EOS_WASI__OUT_FN(eos_wasi__opts_get_connect);
EOS_WASI__OUT_FN(eos_wasi__opts_set_connect);
EOS_WASI__OUT_FN(eos_wasi__opts_get_first);
EOS_WASI__OUT_FN(eos_wasi__opts_set_first);
EOS_WASI__OUT_FN(eos_wasi__opts_get_between);
EOS_WASI__OUT_FN(eos_wasi__opts_set_between);
EOS_WASI__OUT_FN(eos_wasi__iresp_status);
EOS_WASI__OUT_FN(eos_wasi__iresp_headers);
EOS_WASI__OUT_FN(eos_wasi__iresp_consume);
EOS_WASI__OUT_FN(eos_wasi__fut_subscribe);
EOS_WASI__OUT_FN(eos_wasi__fut_get);
EOS_WASI__OUT_FN(eos_wasi__outgoing_handle);
/* The response body's stream and trailers (incoming-body of a response). */
uint32_t eos_wasi__out_body_stream(eos_wasi__ctx *ctx, eos_wasi__ocall *c);
/* The request body's output stream (outgoing-body of a request) and its end. */
uint32_t eos_wasi__out_req_stream(eos_wasi__ctx *ctx, eos_wasi__ocall *c);
void eos_wasi__out_req_finish(eos_wasi__ctx *ctx, eos_wasi__ocall *c, bool complete);
/* An error-code value (case index, a none payload where the case has one). */
int eos_wasi__error_code_val(eos_wasi__ctx *ctx, eos_cm_val *v, uint32_t index);
extern const uint8_t eos_wasi__error_code_has_payload[39];

/* ---- kv.c / fs.c ---- */
void eos_wasi__kv_free_obj(eos_wasi__ctx *ctx, uint8_t type, void *obj);
void eos_wasi__fs_free_obj(eos_wasi__ctx *ctx, uint8_t type, void *obj);
/* A namespace of the app's store, with the operations that reach it. */
typedef struct eos_wasi__ns {
    const eos_wasi_store_ops *ops;
    void *impl; /* the store's, for txn_begin */
    eos_wasi_store_ns *h;
} eos_wasi__ns;
/* The app's store namespace `app:<name>/<suffix>` (cached; borrowed from the
 * app). EOS_EUNAVAILABLE when the app has no store. */
int eos_wasi__ns_open(eos_wasi_app *app, const char *suffix, size_t suffix_size,
                      const eos_wasi__ns **out);
void eos_wasi__ns_cache_free(eos_wasi_app *app);

/* ---- fsstore.c: the file tree on the store, callable without a guest ---- */
#define EOS_WASI__FS_CHUNK    (64u * 1024u)
#define EOS_WASI__FS_PATH_MAX 4000u
#define EOS_WASI__FS_MAX_SIZE (1ull << 40)
#define EOS_WASI__FSMETA_SIZE 17
enum {
    EOS_WASI__FS_FILE = 6,
    EOS_WASI__FS_DIR = 3,
    EOS_WASI__FS_SYMLINK = 5
}; /* descriptor-type */
enum {
    EOS_WASI__O_CREAT = 1,
    EOS_WASI__O_DIRECTORY = 2,
    EOS_WASI__O_EXCL = 4,
    EOS_WASI__O_TRUNC = 8
}; /* open-flags bits */
/* Results > 0 are filesystem error-code cases + 1; < 0 are eos_err. */
enum {
    EOS_WASI__FS_ACCESS = 1,
    EOS_WASI__FS_BADF = 4,
    EOS_WASI__FS_BUSY = 5,
    EOS_WASI__FS_EXIST = 8,
    EOS_WASI__FS_FBIG = 9,
    EOS_WASI__FS_INVAL = 13,
    EOS_WASI__FS_IO = 14,
    EOS_WASI__FS_ISDIR = 15,
    EOS_WASI__FS_LOOP = 16,
    EOS_WASI__FS_NAMETOOLONG = 19,
    EOS_WASI__FS_NOENT = 21,
    EOS_WASI__FS_NOSPC = 24,
    EOS_WASI__FS_NOTDIR = 25,
    EOS_WASI__FS_NOTEMPTY = 26,
    EOS_WASI__FS_NOTSUP = 28,
    EOS_WASI__FS_OVERFLOW = 31,
    EOS_WASI__FS_PERM = 32,
    EOS_WASI__FS_RDONLY = 34,
};
typedef struct eos_wasi__fsmeta {
    uint8_t type;
    uint64_t size;
    uint64_t mtime_ns;
} eos_wasi__fsmeta;
typedef struct eos_wasi__fsdirent {
    uint8_t type;
    char *name;
} eos_wasi__fsdirent;
/* Resolves rel against base; *out is freed with eos_free(p, strlen(p) + 1). */
/* The checks every guest path gets before it is looked up: not empty, not
 * absolute, no NUL byte. 0 or an EOS_WASI__FS_* code. */
static inline int eos_wasi__fs_rel_check(const char *rel, size_t rel_size)
{
    if (rel_size == 0)
        return EOS_WASI__FS_NOENT;
    if (rel[0] == '/')
        return EOS_WASI__FS_PERM;
    if (memchr(rel, 0, rel_size))
        return EOS_WASI__FS_INVAL;
    return 0;
}
int eos_wasi__fs_path_join(const char *base, const char *rel, size_t rel_size, char **out);
int eos_wasi__fs_stat(const eos_wasi__ns *ns, const char *path, eos_wasi__fsmeta *out);
int eos_wasi__fs_open(const eos_wasi__ns *ns, const char *path, uint32_t oflags, bool write,
                      eos_wasi__fsmeta *out);
int eos_wasi__fs_mkdir(const eos_wasi__ns *ns, const char *path);
int eos_wasi__fs_read(const eos_wasi__ns *ns, const char *path, uint64_t offset, uint8_t *buf,
                      size_t len, size_t *out_n);
int eos_wasi__fs_write(const eos_wasi__ns *ns, const char *path, uint64_t offset,
                       const uint8_t *data, size_t len, bool append, uint64_t *out_end);
int eos_wasi__fs_truncate(const eos_wasi__ns *ns, const char *path, uint64_t size);
int eos_wasi__fs_set_mtime(const eos_wasi__ns *ns, const char *path, uint64_t mtime_ns);
int eos_wasi__fs_readdir(const eos_wasi__ns *ns, const char *path, eos_wasi__fsdirent **out,
                         size_t *out_count);
void eos_wasi__fs_dirents_free(eos_wasi__fsdirent *ents, size_t count);
int eos_wasi__fs_remove(const eos_wasi__ns *ns, const char *path, bool dir);
int eos_wasi__fs_rename(const eos_wasi__ns *ns, const char *from, const char *to);
/* Creates a symbolic link at path whose target is target (len bytes, stored
 * as given; the caller checked it). */
int eos_wasi__fs_symlink(const eos_wasi__ns *ns, const char *path, const char *target, size_t len);

/* ---- fspath.c: lookups with symbolic links ---- */
/* Resolves rel (rel_size bytes, borrowed) against the directory base: "."
 * and ".." by name, links in every component but the last, and in the last
 * too when follow or when rel ends with a slash (*out_slash says so, for the
 * caller's not-directory checks). Nothing resolves above base: ".." there
 * and absolute link targets give not-permitted, over 40 links loop. The last
 * component need not exist. *out: free with eos_free(p, strlen(p) + 1). */
int eos_wasi__fs_resolve(const eos_wasi__ns *ns, const char *base, const char *rel, size_t rel_size,
                         bool follow, char **out, bool *out_slash);
/* The target of the link at path (invalid when path is no link); *out: free
 * with eos_free(p, strlen(p) + 1). */
int eos_wasi__fs_readlink(const eos_wasi__ns *ns, const char *path, char **out);

/* ---- clocks.c ---- */
int eos_wasi__random(uint8_t *buf, size_t size);

/* ---- cli.c ---- */
/* Logs one line from the app unless the rate limiter refuses it. */
void eos_wasi__app_log(eos_wasi_app *app, eos_log_level level, const char *stream,
                       const char *context, const char *msg, size_t msg_size);
/* The token bucket itself, exposed for tests: true when a line may pass. */
bool eos_wasi__rate_take(eos_wasi_app *app, uint64_t now_ns);

/* ---- Interface tables (one per interface; wit.c holds their types). ---- */
typedef struct eos_wasi__iface {
    const char *name;  /* without version */
    const char *types; /* WIT declarations */
    const eos_cm_host_func *funcs;
    size_t count;
    const eos_cm_host_func *funcs2; /* a second table appended (or NULL) */
    size_t count2;
} eos_wasi__iface;

#define EOS_WASI__IFACE(n, t, f)                                                                   \
    {                                                                                              \
        .name = (n), .types = (t), .funcs = (f), .count = EOS_ARRAY_LEN(f)                         \
    }

extern const eos_cm_host_func eos_wasi__fields_funcs[];
extern const size_t eos_wasi__fields_func_count;

extern const eos_wasi__iface eos_wasi__io_ifaces[];
extern const size_t eos_wasi__io_iface_count;
extern const eos_wasi__iface eos_wasi__http_ifaces[];
extern const size_t eos_wasi__http_iface_count;
extern const eos_wasi__iface eos_wasi__clock_ifaces[];
extern const size_t eos_wasi__clock_iface_count;
extern const eos_wasi__iface eos_wasi__misc_ifaces[];
extern const size_t eos_wasi__misc_iface_count;
extern const eos_wasi__iface eos_wasi__fs_ifaces[];
extern const size_t eos_wasi__fs_iface_count;
extern const eos_wasi__iface eos_wasi__sock_ifaces[];
extern const size_t eos_wasi__sock_iface_count;
/* keyvalue: interfaces per draft version. */
extern const eos_wasi__iface eos_wasi__kv_draft_ifaces[];
extern const eos_wasi__iface eos_wasi__kv_draft2_ifaces[];
extern const size_t eos_wasi__kv_iface_count;
/* wasi:config/store, defined under each draft version apps use. */
extern const eos_wasi__iface eos_wasi__config_ifaces[];
extern const size_t eos_wasi__config_iface_count;

/* Finds a host function by interface (unversioned) and name, for tests. */
eos_cm_host_fn eos_wasi__find(const char *iface, const char *name);

#endif
