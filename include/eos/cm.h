/* The component model: decode, validate, link and instantiate components, and
 * the canonical ABI that moves values between host and guest. Host interfaces
 * (WASI, the server's callers) are written against this header only: component
 * types as descriptors, dynamic values, table-driven host functions.
 *
 * A host interface is its WIT text plus a table:
 *
 *   static int get_random_bytes(eos_cm_call *c, void *ud, const eos_cm_val *args,
 *                               eos_cm_val *res)
 *   {
 *       uint8_t *b = eos_cm_call_alloc(c, args[0].of.u);   // freed after the call
 *       if (!b) return EOS_ENOMEM;
 *       fill(b, args[0].of.u);
 *       res[0].of.list.bytes = b, res[0].of.list.len = args[0].of.u;
 *       return 0;
 *   }
 *   static const eos_cm_host_func random_funcs[] = {
 *       {"get-random-bytes", NULL, get_random_bytes},  // signature from the WIT
 *       {"get-random-u64", NULL, get_random_u64},
 *   };
 *   eos_cm_host_define(host, "wasi:random/random@0.2.3", WASI_RANDOM_WIT, random_funcs, 2,
 *                      NULL, NULL, &diag);
 */
#ifndef EOS_CM_H
#define EOS_CM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "eos/common.h"
#include "eos/wasm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The layer's version string, static storage (never freed). */
EOS_API const char *eos_cm_version(void);

/* ---- Types ---------------------------------------------------------------- */

/* Kinds of component value types, in the order of the binary encodings. */
typedef enum eos_cm_kind {
    EOS_CM_BOOL,    /* of.b */
    EOS_CM_S8,      /* of.s */
    EOS_CM_U8,      /* of.u */
    EOS_CM_S16,     /* of.s */
    EOS_CM_U16,     /* of.u */
    EOS_CM_S32,     /* of.s */
    EOS_CM_U32,     /* of.u */
    EOS_CM_S64,     /* of.s */
    EOS_CM_U64,     /* of.u */
    EOS_CM_F32,     /* of.f32 */
    EOS_CM_F64,     /* of.f64 */
    EOS_CM_CHAR,    /* of.ch: a Unicode scalar value */
    EOS_CM_STRING,  /* of.str: UTF-8, not NUL-terminated */
    EOS_CM_LIST,    /* of.list: items; list<u8> and list<s8> use of.list.bytes */
    EOS_CM_RECORD,  /* of.list: one item per field */
    EOS_CM_TUPLE,   /* of.list: one item per member */
    EOS_CM_VARIANT, /* of.var: case index and payload (NULL when the case has none) */
    EOS_CM_ENUM,    /* of.var: case index, no payload */
    EOS_CM_OPTION,  /* of.var: 0 = none, 1 = some(payload) */
    EOS_CM_RESULT,  /* of.var: 0 = ok, 1 = err, payload when that side has a type */
    EOS_CM_FLAGS,   /* of.flags: bit i set = label i set */
    EOS_CM_OWN,     /* of.handle: the resource's representation (rep) */
    EOS_CM_BORROW   /* of.handle: the resource's representation (rep) */
} eos_cm_kind;

typedef struct eos_cm_type eos_cm_type;
typedef struct eos_cm_resource eos_cm_resource;

/* flat_count saturates here; such types always travel through memory. */
#define EOS_CM_FLAT_CAP 65535

/* A value type. Read-only for users; owned by whoever made it (a component,
 * a host interface or an eos_cm_types builder) and valid as long as that owner. */
struct eos_cm_type {
    uint8_t kind;                    /* eos_cm_kind */
    uint8_t align;                   /* canonical ABI alignment in bytes */
    uint16_t flat_count;             /* core values when flattened, capped at EOS_CM_FLAT_CAP */
    uint32_t size;                   /* canonical ABI size in bytes */
    uint32_t count;                  /* fields, members, cases or labels */
    const eos_cm_type *elem;         /* list, option: element; result: ok (or NULL) */
    const eos_cm_type *err;          /* result: err (or NULL) */
    const char *const *names;        /* record fields, variant/enum cases, flag labels */
    const eos_cm_type *const *types; /* record/tuple members, variant payloads (NULL = none) */
    const void *rdesc;               /* own/borrow: resource identity (internal) */
    const char *rname;               /* own/borrow: resource name */
    const char *name;                /* a type's declared name when known (for printing), or NULL */
};

/* A function type: parameter and result lists (a single unnamed result has
 * result_names[0] == NULL). */
typedef struct eos_cm_functype {
    uint32_t param_count;
    uint32_t result_count;
    const char *const *param_names;
    const eos_cm_type *const *params;
    const char *const *result_names;
    const eos_cm_type *const *results;
} eos_cm_functype;

/* The primitive types (static storage: never freed). */
EOS_API const eos_cm_type *eos_cm_prim(eos_cm_kind kind);

/* Writes a type (or a function type) as WIT text, e.g. "list<tuple<u32, string>>".
 * Named types print their name. Borrows t and out. Returns 0 or EOS_EIO. */
EOS_API int eos_cm_type_print(const eos_cm_type *t, FILE *out);
EOS_API int eos_cm_functype_print(const eos_cm_functype *ft, FILE *out);

/* ---- Values --------------------------------------------------------------- */

/* A dynamic value. Strings, lists and payloads point to memory owned by
 * someone else: lifted arguments borrow guest memory (valid during the host
 * call) or the call's scratch arena; values the host builds borrow the host's
 * memory until the call that consumes them returns. */
typedef struct eos_cm_val eos_cm_val;
struct eos_cm_val {
    union {
        bool b;
        int64_t s;
        uint64_t u;
        float f32;
        double f64;
        uint32_t ch;
        struct {
            const char *ptr;
            size_t len; /* bytes */
        } str;
        struct {
            eos_cm_val *items;    /* record fields, tuple members, list items */
            const uint8_t *bytes; /* list<u8>, list<s8> only */
            size_t len;
        } list;
        struct {
            uint32_t index;
            eos_cm_val *payload;
        } var;
        struct {
            uint64_t bits;        /* labels 0..63 */
            const uint32_t *more; /* labels 64.. (count - 64 + 31) / 32 words, or NULL */
        } flags;
        uint32_t handle;
    } of;
};

/* Scratch memory for lifted values and host results; freed at once. */
typedef struct eos_cm_arena eos_cm_arena;
/* Makes an arena (free with eos_cm_arena_free()). */
EOS_API eos_cm_arena *eos_cm_arena_new(void);
/* Frees every allocation made from the arena; the arena stays usable. */
EOS_API void eos_cm_arena_reset(eos_cm_arena *a);
/* Frees the arena and all its allocations (takes ownership). NULL is allowed. */
EOS_API void eos_cm_arena_free(eos_cm_arena *a);
/* Zeroed memory owned by the arena: it lives until the arena is reset or
 * freed (never free it yourself); NULL on out of memory. */
EOS_API void *eos_cm_arena_alloc(eos_cm_arena *a, size_t size);

/* Writes a value of type t as text (WAVE-like: "[1, 2]", "{a: 1}", "some(3)").
 * Borrows all arguments. */
EOS_API int eos_cm_val_print(const eos_cm_type *t, const eos_cm_val *v, FILE *out);
/* True when two values of type t are equal. Borrows all arguments. */
EOS_API bool eos_cm_val_equal(const eos_cm_type *t, const eos_cm_val *a, const eos_cm_val *b);

/* ---- Walking values ------------------------------------------------------- */

/* One walk over a value and its type, written once for every conversion
 * (lowering into a guest, JSON in both directions). The walk descends into
 * records, tuples, lists and the payload of a variant, option or result case;
 * every other kind, and list<u8> / list<s8> (as of.list.bytes), is a leaf.
 * For each node the visitor learns where it sits, both in the value and in
 * the canonical ABI's layout, so a visitor needs no walk of its own. */

/* Nesting a walk accepts by default (deeper values are refused). */
#define EOS_CM_WALK_MAX_DEPTH 100

/* Where a node sits. */
typedef struct eos_cm_walk_pos {
    int depth;                 /* 0 at the root */
    const eos_cm_type *parent; /* the enclosing record, tuple, list or case; NULL at the root */
    uint32_t index;            /* member or element index, or the case index of a payload */
    const char *name;          /* record field or case name, else NULL */
    uint64_t offset; /* canonical ABI bytes from the parent's start (list elements: from the
                        first element's) */
    uint32_t flat;   /* canonical ABI flat slots from the parent's first (list elements: 0) */
} eos_cm_walk_pos;

/* A visitor over an existing value. pre runs for every node before its
 * children, post (may be NULL) after them; a nonzero result stops the walk
 * and is returned. bad is called when the value does not fit its type (a
 * record with the wrong member count, a case out of range or without its
 * payload, a list without elements, nesting beyond max_depth) with a
 * message saying so; the walk returns what bad returns (nonzero). */
typedef struct eos_cm_walker {
    int (*pre)(void *ud, const eos_cm_type *t, const eos_cm_val *v, const eos_cm_walk_pos *pos);
    int (*post)(void *ud, const eos_cm_type *t, const eos_cm_val *v, const eos_cm_walk_pos *pos);
    int (*bad)(void *ud, const char *why);
    void *ud;
    int max_depth; /* 0 = EOS_CM_WALK_MAX_DEPTH */
} eos_cm_walker;

/* Walks v (of type t) with w. Borrows everything. */
EOS_API int eos_cm_val_walk(const eos_cm_type *t, const eos_cm_val *v, const eos_cm_walker *w);

/* A visitor that builds a value. pre fills a leaf, or the shape of a
 * compound: a list's of.list.len, a variant, enum, option or result's
 * of.var.index; the walk then allocates the members, elements or payload
 * (zeroed, from arena) and builds them in turn. Fields as for eos_cm_walker. */
typedef struct eos_cm_builder {
    int (*pre)(void *ud, const eos_cm_type *t, eos_cm_val *v, const eos_cm_walk_pos *pos);
    int (*post)(void *ud, const eos_cm_type *t, eos_cm_val *v, const eos_cm_walk_pos *pos);
    int (*bad)(void *ud, const char *why);
    void *ud;
    int max_depth;
    eos_cm_arena *arena; /* receives the value's parts: they live as long as it */
} eos_cm_builder;

/* Builds *out (of type t) with b. Borrows everything. */
EOS_API int eos_cm_val_build(const eos_cm_type *t, eos_cm_val *out, const eos_cm_builder *b);

/* The cases of a variant, enum, option (none, some) or result (ok, err), and
 * the payload type of case i (NULL when it has none; borrowed from t).
 * These borrow t. */
EOS_API uint32_t eos_cm_type_case_count(const eos_cm_type *t);
EOS_API const eos_cm_type *eos_cm_type_case(const eos_cm_type *t, uint32_t i);
/* True when values of t can hold an own or borrow handle. */
EOS_API bool eos_cm_type_has_handles(const eos_cm_type *t);

/* ---- Type construction ---------------------------------------------------- */

/* A set of types parsed from WIT text. Resources named in the text are
 * abstract: links match them by name. Free with eos_cm_types_free(). */
typedef struct eos_cm_types eos_cm_types;

/* Creates an empty set; free with eos_cm_types_free() (takes ownership,
 * NULL allowed), which frees every type parsed into it. */
EOS_API int eos_cm_types_new(eos_cm_types **out);
EOS_API void eos_cm_types_free(eos_cm_types *ts);
/* Parses WIT type declarations into the set: `record r { a: u32, b: string }`,
 * `variant`, `enum`, `flags`, `resource r;` (or with a body, ignored), and
 * `type x = list<u8>;`. Later declarations may use earlier ones. wit is
 * borrowed. Errors go to diag with the offset. */
EOS_API int eos_cm_types_declare(eos_cm_types *ts, const char *wit, eos_diag *diag);
/* Parses a type expression ("list<option<u32>>", a declared name). expr is
 * borrowed; the type is owned by ts and lives as long as it. */
EOS_API int eos_cm_types_parse(eos_cm_types *ts, const char *expr, const eos_cm_type **out,
                               eos_diag *diag);
/* Parses "func(a: u32, b: string) -> result<u64, e>" (or "(...) -> ..."). sig
 * is borrowed; the function type is owned by ts. */
EOS_API int eos_cm_types_parse_func(eos_cm_types *ts, const char *sig, const eos_cm_functype **out,
                                    eos_diag *diag);

/* ---- Components ------------------------------------------------------------ */

typedef struct eos_cm_component eos_cm_component;

/* Decodes and validates a component binary; core modules inside are compiled
 * with eos_wasm_module_new (features may be NULL). bytes are borrowed. An
 * invalid component returns EOS_EMALFORMED or EOS_EINVALID with diag naming
 * the section and offset. The component is immutable and may be shared by
 * threads. Free with eos_cm_component_free(). When the engine is not
 * available, decoding still succeeds (for inspection) and instantiation
 * returns EOS_EUNAVAILABLE. */
EOS_API int eos_cm_component_new(const uint8_t *bytes, size_t size,
                                 const eos_wasm_features *features, eos_cm_component **out,
                                 eos_diag *diag);
/* Frees the component (takes ownership). NULL is allowed. */
EOS_API void eos_cm_component_free(eos_cm_component *c);

/* An import or export of a component, for introspection. */
typedef enum eos_cm_item_kind {
    EOS_CM_ITEM_FUNC,
    EOS_CM_ITEM_INSTANCE,
    EOS_CM_ITEM_TYPE,
    EOS_CM_ITEM_COMPONENT,
    EOS_CM_ITEM_MODULE,
    EOS_CM_ITEM_VALUE
} eos_cm_item_kind;

typedef struct eos_cm_item_desc {
    const char *name; /* NUL-terminated, borrowed from the component */
    eos_cm_item_kind kind;
    const eos_cm_functype *func; /* functions */
    size_t member_count;         /* instances: functions and types inside */
} eos_cm_item_desc;

/* The execution tier of the component's core modules together (nested
 * components included), for listings and metrics: compile time, code and
 * functions summed; the state is PENDING while any is, FAILED if any failed,
 * READY when all are. Borrows c; fills out. Thread-safe. */
EOS_API void eos_cm_component_tier_info(const eos_cm_component *c, eos_wasm_tier_info *out);

/* Adds to *out_wasm_size and *out_internal_size (the caller zeroes them)
 * the code section bytes of the component's core modules (nested
 * components included) and the interpreter code made from them so far, as
 * eos_wasm_module_code_size. Borrows c. */
EOS_API void eos_cm_component_code_size(const eos_cm_component *c, size_t *out_wasm_size,
                                        size_t *out_internal_size);

/* Introspection: all borrow c; out receives names and types borrowed from
 * c (valid while it lives, nothing to free). */
EOS_API size_t eos_cm_component_import_count(const eos_cm_component *c);
EOS_API size_t eos_cm_component_export_count(const eos_cm_component *c);
EOS_API void eos_cm_component_import(const eos_cm_component *c, size_t index,
                                     eos_cm_item_desc *out);
EOS_API void eos_cm_component_export(const eos_cm_component *c, size_t index,
                                     eos_cm_item_desc *out);
/* Members of an instance import or export: out gets the member's name, kind
 * and, for functions, type. Returns EOS_ENOTFOUND past the end. */
EOS_API int eos_cm_component_import_member(const eos_cm_component *c, size_t index, size_t member,
                                           eos_cm_item_desc *out);
EOS_API int eos_cm_component_export_member(const eos_cm_component *c, size_t index, size_t member,
                                           eos_cm_item_desc *out);

/* Writes the component's world as WIT-like text (imports and exports with
 * their functions), preceded by its size and SHA-256, for `enclave-os
 * inspect`. bytes are borrowed. Returns 0 or the decode error. */
EOS_API int eos_cm_describe(const uint8_t *bytes, size_t size, FILE *out, eos_diag *diag);

/* ---- Host side ------------------------------------------------------------- */

typedef struct eos_cm_host eos_cm_host;
typedef struct eos_cm_instance eos_cm_instance;
typedef struct eos_cm_call eos_cm_call;

/* A host function. args are the lifted arguments (of the component's
 * declared types, which the link checked against the host's signature);
 * write results[0 .. result_count). Strings and list<u8> arguments borrow guest
 * memory, valid until the function returns; results may borrow host memory or
 * memory from eos_cm_call_alloc(). Return 0, an eos_err (which traps the guest
 * with EOS_TRAP_HOST) or a trap code (eos_cm_call_trap). */
typedef int (*eos_cm_host_fn)(eos_cm_call *call, void *ud, const eos_cm_val *args,
                              eos_cm_val *results);

/* One function of a host interface: its name as the component imports it
 * ("get-random-bytes", "[method]descriptor.read", "[constructor]fields",
 * "[static]fields.from-list"; "[resource-drop]x" is implicit) and its WIT
 * signature ("func(len: u64) -> list<u8>", using types declared for the
 * interface), or NULL to take the signature the interface's WIT text
 * declares for that name (so a WASI interface is its WIT file plus a table
 * of {name, NULL, fn}). */
typedef struct eos_cm_host_func {
    const char *name;
    const char *sig;
    eos_cm_host_fn fn;
} eos_cm_host_func;

/* A host resource type's destructor, called with the rep when the guest drops
 * the last owning handle (or the instance dies holding it). ud is the
 * interface's (eos_cm_host_define); data is the data the embedder attached to
 * the instance (eos_cm_instance_new), as eos_cm_call_data() gives a host
 * function, so a destructor finds the state of the call it belongs to. */
typedef void (*eos_cm_dtor_fn)(void *ud, void *data, uint32_t rep);

/* Makes an empty host (free with eos_cm_host_free(); free instances first).
 * A host is a set of interfaces, immutable once instances use it; share it
 * between instances and threads. */
EOS_API int eos_cm_host_new(eos_cm_host **out);
EOS_API void eos_cm_host_free(eos_cm_host *h);

/* Defines an interface `name` (e.g. "wasi:random/random@0.2.3"): types is WIT
 * text for it (or NULL): bare declarations, or a whole WIT package of which
 * `interface random { ... }` is read (order-independent, @since annotations
 * and doc comments allowed, functions and resource functions declared for
 * the table to use), where `use iface.{a, b as c};` takes
 * types from interfaces defined earlier on h (a relative path such as `types`
 * means the same package and version); funcs is a table of count functions,
 * copied; ud is borrowed and passed to every function of the interface. An
 * import of a compatible version (same major, and same minor for 0.x) links to
 * it. Resources declared in types get dtor (may be NULL) with ud. */
EOS_API int eos_cm_host_define(eos_cm_host *h, const char *name, const char *types,
                               const eos_cm_host_func *funcs, size_t count, eos_cm_dtor_fn dtor,
                               void *ud, eos_diag *diag);
/* Defines a single top-level function import `name`; ownership as for
 * eos_cm_host_define (func copied, ud borrowed). */
EOS_API int eos_cm_host_define_func(eos_cm_host *h, const char *name, const char *types,
                                    const eos_cm_host_func *func, void *ud, eos_diag *diag);

/* Allocates zeroed memory owned by the call: it lives until the host call's
 * results are lowered (never free it). */
EOS_API void *eos_cm_call_alloc(eos_cm_call *call, size_t size);
/* Stops the guest with a trap and a message (formatted, not retained);
 * returns code for `return`. */
EOS_API int eos_cm_call_trap(eos_cm_call *call, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The data the embedder attached to the instance (eos_cm_instance_new's
 * data), borrowed. */
EOS_API void *eos_cm_call_data(eos_cm_call *call);
/* The instance that made the call, borrowed (valid during the call); NULL in
 * a call made by eos_cm_host_call(). */
EOS_API eos_cm_instance *eos_cm_call_instance(eos_cm_call *call);
/* Runs host function fn with ud as a guest of an instance whose data is
 * `data` would, but with no instance: for tests and benchmarks of host
 * interfaces. Memory from eos_cm_call_alloc() lives in arena (caller-owned);
 * a trap message goes to diag (may be NULL). Borrows everything; returns
 * what fn returns. */
EOS_API int eos_cm_host_call(eos_cm_host_fn fn, void *ud, void *data, const eos_cm_val *args,
                             eos_cm_val *results, eos_cm_arena *arena, eos_diag *diag);

/* ---- Instances ------------------------------------------------------------ */

/* Instantiates c in store s, linking its imports against h (NULL = no
 * imports). data is borrowed and returned by eos_cm_call_data(). Link
 * failures return EOS_EUNLINKABLE naming the import; traps during start
 * return the trap. The instance belongs to the caller: free it with
 * eos_cm_instance_free() before the store. */
EOS_API int eos_cm_instance_new(eos_wasm_store *s, const eos_cm_component *c, const eos_cm_host *h,
                                void *data, eos_cm_instance **out, eos_diag *diag);
/* Frees the instance (NULL is allowed). Host destructors run for host
 * resources whose owned handles are still in the instance's handle tables;
 * guest code never runs: guest resource destructors are not called, neither
 * for handles the guest still owns nor for reps of guest resources the host
 * received as own<R> and kept. The canonical ABI runs a destructor only when
 * an owned handle is dropped, and an instance being freed (possibly after a
 * trap) is not entered again: its memory, which those reps point into, goes
 * with it. A host that needs a guest destructor to run passes the own<R>
 * back to a guest function that drops it before freeing the instance. */
EOS_API void eos_cm_instance_free(eos_cm_instance *i);

/* Reuse of an instance (for pools of ready instances). snapshot records the
 * instance's state (its store must hold this instance only), normally right
 * after eos_cm_instance_new; EOS_EUNSUPPORTED when a start function left
 * handles behind. reset returns the instance to that state: handles the
 * guest still holds are dropped (host destructors run, as on free), the
 * store's memories, tables and globals are restored (eos_wasm_store_restore)
 * and data replaces the instance's embedder pointer. Nothing a previous call
 * wrote is visible afterwards. Both borrow i; not during a call. */
EOS_API int eos_cm_instance_snapshot(eos_cm_instance *i);
EOS_API int eos_cm_instance_reset(eos_cm_instance *i, void *data);
/* Replaces the embedder pointer given at creation (borrowed). */
EOS_API void eos_cm_instance_set_data(eos_cm_instance *i, void *data);

typedef struct eos_cm_func eos_cm_func;
/* Finds an exported function: "hello" for a top-level function, or
 * "wasi:http/incoming-handler@0.2.0#handle" for one inside an exported
 * instance (any compatible version matches). Borrowed from the instance. */
EOS_API eos_cm_func *eos_cm_instance_func(eos_cm_instance *i, const char *name);
EOS_API const eos_cm_functype *eos_cm_func_type(const eos_cm_func *f);

/* Calls an exported function: args are lowered into the guest, results
 * lifted into arena (strings and lists copied, so they outlive post-return).
 * Returns 0, an eos_err, or a trap code (diag says what happened). After a
 * trap the instance is never entered again (later calls trap at once): make
 * a new one. Calling an instance that is already running (from one of its
 * own imports) traps: components are not reentrant. */
EOS_API int eos_cm_call_func(eos_cm_instance *i, eos_cm_func *f, const eos_cm_val *args,
                             size_t arg_count, eos_cm_val *results, size_t result_count,
                             eos_cm_arena *arena, eos_diag *diag);

/* Resources: own<R> and borrow<R> values carry the resource's rep (a u32 the
 * resource's implementer chose); the canonical ABI turns reps into handles of
 * the guest instance's table and back. A host function returning own<R> of a
 * host resource hands the rep to the guest; one receiving own<R> takes the
 * rep over (the guest's handle is gone); borrow<R> arguments are only valid
 * during the call. When the guest drops its last handle of a host resource,
 * the interface's destructor runs with the rep. For resources the component
 * defines, an export returning own<R> gives the host the guest's rep, which
 * it passes back as own<R> or borrow<R> arguments; the guest's destructor
 * runs when the guest drops an owned handle, never when the instance is
 * freed (see eos_cm_instance_free). */

#ifdef __cplusplus
}
#endif
#endif
