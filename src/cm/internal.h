/* Private structures of the component layer: the decoded component (index
 * spaces of definitions), resource identities, the canonical ABI context and
 * run-time instances. Shared by decode, abi, host and instance files. */
#ifndef EOS_CM_INTERNAL_H
#define EOS_CM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "eos/cm.h"

#define EOS_CM_MAX_FLAT_PARAMS  16
#define EOS_CM_MAX_FLAT_RESULTS 1
/* Nesting limit for types and values so recursion over guest input stays bounded. */
#define EOS_CM_MAX_DEPTH 100

/* Arena: chunks of memory freed together. */
struct eos_cm_arena {
    struct eos_cm__chunk *head;
};
char *eos_cm__arena_strndup(eos_cm_arena *a, const char *s, size_t len);

/* ---- Decoded component ---------------------------------------------------- */

/* Resource identity: one per resource type definition or abstract (sub
 * resource) import/export in a component or instance type. Instances map it
 * to a run-time eos_cm_resource. */
typedef struct eos_cm__rdesc {
    const char *name;
    uint32_t id;  /* unique in the tree of nested components (rmap index) */
    bool defined; /* (resource (rep i32) (dtor f)?) in the component */
    bool has_dtor;
    uint32_t dtor_core_func;
    const struct eos_cm_component *owner; /* the component whose types declare it */
    /* Set on the new type index an export of the resource introduces: the
     * same resource type, but a different name for external visibility. */
    const struct eos_cm__rdesc *same;
} eos_cm__rdesc;

/* The resource an rdesc stands for (itself, or the one it re-exports). */
static inline const eos_cm__rdesc *eos_cm__rd_canon(const eos_cm__rdesc *d)
{
    return d && d->same ? d->same : d;
}

typedef enum {
    EOS_CM__T_VAL,       /* val */
    EOS_CM__T_FUNC,      /* func */
    EOS_CM__T_INSTANCE,  /* inst */
    EOS_CM__T_COMPONENT, /* comp */
    EOS_CM__T_RESOURCE,  /* rdesc */
    EOS_CM__T_CORE_FUNC, /* a core function type (only for checks) */
    EOS_CM__T_CORE_MODULE
} eos_cm__tkind;

struct eos_cm__itype;

/* A core module type's import (module, name) or export (name). */
typedef struct eos_cm__coreitem {
    const char *module, *name;
    eos_wasm_externtype type; /* a function's type may be NULL: unknown */
} eos_cm__coreitem;

typedef struct eos_cm__mtype {
    uint32_t import_count, export_count;
    eos_cm__coreitem *imports, *exports;
} eos_cm__mtype;

/* An entry of the type index space. */
typedef struct eos_cm__typedef {
    uint8_t kind; /* eos_cm__tkind */
    union {
        const eos_cm_type *val;
        const eos_cm_functype *func;
        const struct eos_cm__itype *inst; /* instance and component types */
        const eos_cm__rdesc *rdesc;
        const eos_cm__mtype *mod;       /* core module types */
        const eos_wasm_functype *cfunc; /* core function types */
    } of;
} eos_cm__typedef;

/* An export of an instance type or an import/export of a component type. */
typedef struct eos_cm__decl {
    const char *name;
    uint8_t sort; /* eos_cm_item_kind */
    eos_cm__typedef type;
} eos_cm__decl;

typedef struct eos_cm__itype {
    uint32_t import_count;
    eos_cm__decl *imports; /* component types only */
    uint32_t export_count;
    eos_cm__decl *exports;
    /* Abstract resources the type's own declarations introduce (sub
     * resource): each use of the type as an import gets fresh ones. */
    const struct eos_cm__rdesc **declared;
    uint32_t declared_count;
} eos_cm__itype;

/* Sorts, with values for the index spaces. */
enum {
    EOS_CM__S_CORE_FUNC,
    EOS_CM__S_CORE_TABLE,
    EOS_CM__S_CORE_MEMORY,
    EOS_CM__S_CORE_GLOBAL,
    EOS_CM__S_CORE_TYPE,
    EOS_CM__S_CORE_MODULE,
    EOS_CM__S_CORE_INSTANCE,
    EOS_CM__S_FUNC,
    EOS_CM__S_VALUE,
    EOS_CM__S_TYPE,
    EOS_CM__S_COMPONENT,
    EOS_CM__S_INSTANCE,
    EOS_CM__S_CORE_TAG, /* core sort 0x04 (exception handling) */
    EOS_CM__S_COUNT
};

/* How a definition comes to be. */
enum {
    EOS_CM__D_IMPORT,        /* a = import index */
    EOS_CM__D_ALIAS_EXPORT,  /* a = instance index, name */
    EOS_CM__D_ALIAS_CORE,    /* a = core instance index, name */
    EOS_CM__D_ALIAS_OUTER,   /* a = count, b = index; name = the module or component
                              * when the outer scope defines it, else NULL */
    EOS_CM__D_CANON_LIFT,    /* a = core func, b = type index, opts */
    EOS_CM__D_CANON_LOWER,   /* a = func, opts */
    EOS_CM__D_RESOURCE_NEW,  /* rdesc */
    EOS_CM__D_RESOURCE_DROP, /* rdesc */
    EOS_CM__D_RESOURCE_REP,  /* rdesc */
    EOS_CM__D_MODULE,        /* a = index in modules */
    EOS_CM__D_COMPONENT,     /* a = index in components */
    EOS_CM__D_INSTANTIATE,   /* a = module/component index, args */
    EOS_CM__D_EXPORTS,       /* args = inline exports */
    EOS_CM__D_EXPORT         /* re-export: a = sort index of the exported item */
};

typedef struct eos_cm__arg {
    const char *name;
    uint8_t sort; /* EOS_CM__S_* */
    uint32_t index;
} eos_cm__arg;

typedef enum { EOS_CM__UTF8, EOS_CM__UTF16, EOS_CM__LATIN1_UTF16 } eos_cm__encoding;

typedef struct eos_cm__opts {
    uint8_t encoding;
    bool has_memory, has_realloc, has_post_return;
    uint32_t memory, realloc, post_return; /* core memory / core func indices */
} eos_cm__opts;

typedef struct eos_cm__def {
    uint8_t how; /* EOS_CM__D_* */
    uint32_t a, b;
    const char *name;
    eos_cm__arg *args;
    uint32_t arg_count;
    eos_cm__opts opts;
    const eos_cm__rdesc *rdesc;
    eos_cm__typedef type; /* funcs, instances, components, types: their type */
} eos_cm__def;

typedef struct eos_cm__space {
    eos_cm__def *defs;
    uint32_t len, cap;
} eos_cm__space;

typedef struct eos_cm__import {
    const char *name;
    uint8_t sort;
    eos_cm__typedef type;
    uint32_t index; /* index in its sort's space */
} eos_cm__import;

typedef struct eos_cm__export {
    const char *name;
    uint8_t sort;
    uint32_t index; /* the exported item in its sort's space */
    uint32_t self;  /* the index the export itself adds (its type as ascribed) */
} eos_cm__export;

struct eos_cm_component {
    eos_cm_arena *arena;
    struct eos_cm_component *parent; /* enclosing component (nested ones) */
    eos_cm__space spaces[EOS_CM__S_COUNT];
    eos_wasm_module **modules;
    uint32_t module_count, module_cap;
    struct eos_cm_component **components;
    uint32_t component_count, component_cap;
    eos_cm__import *imports;
    uint32_t import_count, import_cap;
    eos_cm__export *exports;
    uint32_t export_count, export_cap;
    uint32_t rdesc_count;
    /* Types (eos_cm_type or eos_cm__rdesc pointers) the component's imports
     * (vis[1]) and exports (vis[0]) give a name to: the only record, variant,
     * enum, flags and resource types its imports and exports may mention. */
    struct {
        const void **v;
        uint32_t n, cap;
    } vis[2];
    bool engine_missing; /* core modules could not be compiled (no engine) */
    /* Start functions (func indices, taking and returning nothing), run in
     * order once every other definition is instantiated. */
    uint32_t *starts;
    uint32_t start_count, start_cap;
};

/* Decodes a (nested) component body; internal entry point of decode.c. */
int eos_cm__decode(const uint8_t *bytes, size_t size, const eos_wasm_features *features,
                   struct eos_cm_component *parent, int depth, int64_t base_offset,
                   eos_cm_component **out, eos_diag *diag);
/* The type of a function/instance definition (for imports, aliases, lifts). */
const eos_cm__def *eos_cm__def_get(const eos_cm_component *c, int sort, uint32_t index);

/* ---- Decoder internals (decode.c, decode_sections.c) ---------------------- */

typedef struct eos_cm__rd {
    const uint8_t *p, *start, *end;
    int64_t base;
    eos_diag *diag;
    const char *step;
    eos_cm_component *c;
    const eos_wasm_features *features;
    int depth;
} eos_cm__rd;

#define EOS_CM__MALFORMED(r, what)                                                                 \
    eos_cm__rd_fail((r), EOS_EMALFORMED, "malformed component: %s", (what))
#define EOS_CM__INVALID(r, what) eos_cm__rd_fail((r), EOS_EINVALID, "invalid component: %s", (what))

typedef struct eos_cm__scope {
    struct eos_cm__scope *outer;
    eos_cm_component *comp; /* a component's own eos_cm__scope */
    eos_cm__typedef *types;
    uint32_t ntypes, tcap;
    eos_cm__decl *imports, *exports;
    uint32_t nimports, icap, nexports, ecap;
    eos_cm__typedef *insts; /* instances imported inside a component type */
    uint32_t ninsts, instcap;
    eos_cm__typedef *ctypes; /* core types of a type body */
    uint32_t nctypes, ctcap;
    const eos_cm__rdesc **declared; /* abstract resources a type body declares */
    uint32_t ndeclared, dcap;
} eos_cm__scope;

int eos_cm__rd_fail(eos_cm__rd *r, int code, const char *fmt, const char *detail);
int eos_cm__rd_u8(eos_cm__rd *r, uint8_t *out);
int eos_cm__rd_u32(eos_cm__rd *r, uint32_t *out);
int eos_cm__rd_name(eos_cm__rd *r, const char **out);
int eos_cm__rd_extern_name(eos_cm__rd *r, const char **out, const char **implements);
/* EOS_EINVALID when an `implements` attribute names an item not an instance. */
int eos_cm__check_implements(eos_cm__rd *r, const char *name, const char *implements, uint8_t sort);
int eos_cm__grow(void **v, uint32_t *cap, uint32_t len, size_t elem);
int eos_cm__rd_push(eos_cm__rd *r, int sort, const eos_cm__def *d);
int eos_cm__rd_idx(eos_cm__rd *r, int sort, uint32_t *out);
int eos_cm__rd_sort(eos_cm__rd *r, uint8_t *out);
uint8_t eos_cm__item_kind(uint8_t sort);
int eos_cm__rd_externdesc(eos_cm__rd *r, eos_cm__scope *s, const char *nm, uint8_t *out_sort,
                          eos_cm__typedef *out);
int eos_cm__rd_deftype(eos_cm__rd *r, eos_cm__scope *s, eos_cm__typedef *out);
int eos_cm__rd_core_type(eos_cm__rd *r, bool in_module, eos_cm__typedef *out);

/* ---- Names (names.c) -------------------------------------------------------- */

/* A kebab-case label (record fields, cases, flags, parameters). */
bool eos_cm__label_ok(const char *s, size_t len);
/* An import or export name of the component model's grammar; on false *why
 * says what is wrong (static text). */
bool eos_cm__extern_name_ok(const char *s, size_t len, bool import, const char **why);
/* An interface name `ns:pkg/iface@version?`; on false *why says why. */
bool eos_cm__interface_name_ok(const char *s, size_t len, const char **why);
/* True when two import (or export) names are not strongly unique. */
bool eos_cm__names_conflict(const char *a, const char *b);

/* The names around an annotated one (the other imports, or exports, of the
 * same component or type): nth gives entry i, false past the end. */
typedef struct eos_cm__ctx_iter {
    bool (*nth)(void *ud, uint32_t i, const char **name, const struct eos_cm__typedef **type);
    void *ud;
} eos_cm__ctx_iter;
/* Checks a [constructor], [method] or [static] name against its item (an
 * eos_cm_item_kind and type) and the resources the context names; plain
 * names pass. On false *why says what is wrong. */
bool eos_cm__annotated_ok(const char *name, uint8_t item_kind, const struct eos_cm__typedef *type,
                          const eos_cm__ctx_iter *it, const char **why);
/* An eos_cm__ctx_iter over n declarations (ud: an eos_cm__decls). */
typedef struct eos_cm__decls {
    const struct eos_cm__decl *v;
    uint32_t n;
} eos_cm__decls;
bool eos_cm__decls_nth(void *ud, uint32_t i, const char **name,
                       const struct eos_cm__typedef **type);

/* ---- Instantiation type checks (subtype.c) ---------------------------------- */

/* A substitution of a nested component's imported resources by the ones the
 * instantiation supplies. */
typedef struct eos_cm__rmapping {
    const eos_cm__rdesc *from[64], *to[64];
    uint32_t len;
    bool any_resource;       /* handles match whatever their resources (to explain a mismatch) */
    const char *export_name; /* set with a mismatch inside an instance: the export's name */
    /* The copies substitution made (old -> new type), so that a type met
     * twice is copied once and keeps one identity. */
    struct eos_cm__memo *memo;
} eos_cm__rmapping;

/* Checks an argument of type have (of sort, an eos_cm_item_kind) against an
 * import of type want, binding the import's resources in m. Returns 0 or
 * EOS_EINVALID with *why set (static text). */
int eos_cm__extern_match(eos_cm__rmapping *m, uint8_t sort, const eos_cm__typedef *want,
                         const eos_cm__typedef *have, int depth, const char **why);
bool eos_cm__func_match(const eos_cm__rmapping *m, const eos_cm_functype *want,
                        const eos_cm_functype *have);
/* Rewrites t (in place; new parts in arena a) with m's resources substituted:
 * the type an instantiated component's export has in the instantiating one.
 * Returns 0 or EOS_ENOMEM. */
int eos_cm__subst_typedef(eos_cm_arena *a, const eos_cm__rmapping *m, eos_cm__typedef *t,
                          int depth);
/* Adds to m, for every resource t mentions that keep does not map to, a
 * fresh resource type (same run-time id): what an instance of a component
 * gets for the resources it defines. Returns 0 or EOS_ENOMEM. */
int eos_cm__freshen_collect(eos_cm_arena *a, eos_cm__rmapping *m, const eos_cm__rmapping *keep,
                            const eos_cm__typedef *t, int depth);
/* Adds to m fresh resource types for those instance type it (and the
 * instance types inside it) declares. Returns 0 or EOS_ENOMEM. */
int eos_cm__freshen_declared(eos_cm_arena *a, eos_cm__rmapping *m, const eos_cm__itype *it,
                             int depth);
/* True when a type is or mentions a resource (which may not be aliased
 * across a component boundary). */
bool eos_cm__typedef_has_resources(const eos_cm__typedef *t, int depth);

/* ---- External visibility (visibility.c) ------------------------------------- */

/* eos_cm__def.b of a type the component's type section defines. */
#define EOS_CM__TYPE_LOCAL 1
/* Checks that a component-level import or export of sort (EOS_CM__S_*) and
 * type t mentions only types the component imports or exports. Returns 0 or
 * EOS_EINVALID. */
int eos_cm__check_visible(eos_cm__rd *r, uint8_t sort, const eos_cm__typedef *t, bool import);
/* Records the types an import or export of sort and type t names (for an
 * instance, the types it exports, recursively). Returns 0 or EOS_ENOMEM. */
int eos_cm__note_visible(eos_cm_component *c, uint8_t sort, const eos_cm__typedef *t, bool import);
/* Type p (a nested component's imported type) is named wherever type as
 * (the argument given for it) is. Returns 0 or EOS_ENOMEM. */
int eos_cm__vis_same(eos_cm_component *c, const void *p, const void *as);
/* Whether an import or export of the component names type p. */
bool eos_cm__is_visible(const eos_cm_component *c, const void *p);
/* Checks an import or export declaration of a component type body against
 * the declarations before it: imports may mention only imported types,
 * exports imported or exported ones. Returns 0 or EOS_EINVALID. */
int eos_cm__check_decl_visible(eos_cm__rd *r, const eos_cm__decl *imports, uint32_t nimports,
                               const eos_cm__decl *exports, uint32_t nexports, uint8_t sort,
                               const eos_cm__typedef *t, bool import);

/* ---- Core instances (corecheck.c) -------------------------------------------- */

/* The type of core instance inst's export `name` as far as decoding knows
 * it: 1 known (*out filled), 2 only its kind known, 0 the instance certainly
 * has no such export, -1 unknown (an imported module, say). */
int eos_cm__core_export_type(const eos_cm_component *c, uint32_t inst, const char *name,
                             eos_wasm_externtype *out, int depth);
/* Checks a core module instantiation d: argument names unique, every import
 * supplied with an item of its kind and type. Returns 0 or EOS_EINVALID. */
int eos_cm__check_core_instantiate(eos_cm__rd *r, const eos_cm__def *d);
/* The type of core module definition (index) of c, NULL when unknown. */
const eos_cm__mtype *eos_cm__module_type(eos_cm_component *c, uint32_t index);
/* Checks module type have against want (an import of a nested component):
 * have may import less and must export at least as much, with matching
 * types. Returns 0 or EOS_EINVALID with the reason in diag. */
int eos_cm__module_match(eos_cm__rd *r, const eos_cm__mtype *want, const eos_cm__mtype *have);

/* ---- Types ----------------------------------------------------------------- */

/* Makes a type in arena a of kind with the given parts; computes size, align
 * and flat count. Returns NULL on out of memory. Borrowed arrays are copied. */
eos_cm_type *eos_cm__type_new(eos_cm_arena *a, uint8_t kind);
/* Computes size, align and flat_count of t from its parts. */
void eos_cm__type_layout(eos_cm_type *t);
bool eos_cm__type_equal(const eos_cm_type *a, const eos_cm_type *b, int depth);
bool eos_cm__functype_equal(const eos_cm_functype *a, const eos_cm_functype *b);
/* Flattens t's core value types into out (at most cap); returns the full count. */
uint32_t eos_cm__flatten(const eos_cm_type *t, uint8_t *out, uint32_t cap);
/* Core signature of a lifted/lowered function: params then results. Returns
 * false when t would need more than cap entries. */
typedef struct eos_cm__flatsig {
    uint32_t param_count, result_count;
    bool params_spill, results_spill; /* passed through memory */
    uint8_t params[EOS_CM_MAX_FLAT_PARAMS + 1];
    uint8_t results[EOS_CM_MAX_FLAT_RESULTS + 1];
} eos_cm__flatsig;
void eos_cm__flatsig_of(const eos_cm_functype *ft, bool lower, eos_cm__flatsig *out);
bool eos_cm__type_has_borrow(const eos_cm_type *t, int depth);

/* ---- Canonical ABI ----------------------------------------------------------- */

/* A handle table entry. */
typedef struct eos_cm__handle {
    const eos_cm_resource *rt; /* NULL = free slot */
    uint32_t rep;
    bool own;
    uint32_t lend_count; /* borrows of this own handle currently lent out */
    uint32_t scope;      /* borrow: the call that received it (its id) */
    uint32_t next_free;
} eos_cm__handle;

typedef struct eos_cm__table {
    eos_cm__handle *v;
    uint32_t len, cap, free_head; /* free_head: index + 1, 0 = none */
    uint32_t borrows;             /* borrow handles lent into the current call */
} eos_cm__table;

/* Run-time resource type. */
struct eos_cm_resource {
    const char *name;
    eos_cm_dtor_fn host_dtor; /* host resources */
    void *host_ud;
    struct eos_cm_instance *owner; /* component-defined resources */
    struct eos_cm__ci *owner_ci;
    eos_wasm_func *dtor; /* their core destructor, or NULL */
};

/* Everything lifting and lowering needs about one side of a call. */
typedef struct eos_cm__cx {
    eos_wasm_store *store;
    eos_wasm_memory *memory; /* NULL when the options have none */
    eos_wasm_func *realloc;  /* NULL when none */
    uint8_t encoding;
    eos_cm__table *table;               /* the guest instance's handle table */
    struct eos_cm__ci *ci;              /* the guest component instance */
    const eos_cm_resource *const *rmap; /* rdesc id -> resource (the guest's) */
    eos_cm_arena *arena;                /* lifted values */
    bool copy;                          /* copy strings/bytes out of guest memory when lifting */
    uint32_t scope;                     /* current call's id, for borrows */
    uint32_t borrow_count;              /* borrows handed to the callee in this call */
    struct eos_cm__lent *lent;          /* own handles lent for this call */
    uint32_t lent_len, lent_cap;
    eos_diag *diag;
    /* Host-side test hooks: a mock memory and realloc for unit tests. */
    uint8_t *mock_mem;
    uint64_t mock_size;
    uint32_t (*mock_realloc)(void *ud, uint32_t old, uint32_t old_size, uint32_t align,
                             uint32_t new_size);
    void *mock_ud;
} eos_cm__cx;

typedef struct eos_cm__lent {
    uint32_t handle;
} eos_cm__lent;

/* Traps with EOS_TRAP_CANON and the message. */
int eos_cm__trap(eos_cm__cx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Lifting and lowering in memory and flat form. */
int eos_cm__load(eos_cm__cx *cx, const eos_cm_type *t, uint64_t ptr, eos_cm_val *out, int depth);
/* Lifts a list (or byte string) of len elements at ptr, checked for
 * alignment and bounds; items live in cx->arena. Shared by the memory and
 * flat paths. */
int eos_cm__load_list(eos_cm__cx *cx, const eos_cm_type *t, uint32_t ptr, uint32_t len,
                      eos_cm_val *out, int depth);
int eos_cm__store(eos_cm__cx *cx, const eos_cm_type *t, const eos_cm_val *v, uint64_t ptr,
                  int depth);
/* Flat values are uint64_t slots (i32 low bits, f32/f64 bit patterns). */
int eos_cm__lift_flat(eos_cm__cx *cx, const eos_cm_type *t, const uint64_t *flat, uint32_t *pos,
                      uint32_t n, eos_cm_val *out, int depth);
int eos_cm__lower_flat(eos_cm__cx *cx, const eos_cm_type *t, const eos_cm_val *v, uint64_t *flat,
                       uint32_t *pos, uint32_t n, int depth);
/* Lifts/lowers a whole parameter or result list following the flattening
 * rules: flat when it fits in max_flat, otherwise through memory (ptr in
 * flat[0]; when lowering with alloc, realloc provides the space). */
int eos_cm__lift_values(eos_cm__cx *cx, uint32_t count, const eos_cm_type *const *types,
                        const uint64_t *flat, uint32_t flat_len, uint32_t max_flat,
                        eos_cm_val *out);
int eos_cm__lower_values(eos_cm__cx *cx, uint32_t count, const eos_cm_type *const *types,
                         const eos_cm_val *vals, uint64_t *flat, uint32_t max_flat, bool alloc,
                         uint64_t out_ptr);
/* Guest memory access through cx (real or mock). */
uint8_t *eos_cm__mem(eos_cm__cx *cx, uint64_t ptr, uint64_t size);
int eos_cm__realloc(eos_cm__cx *cx, uint32_t old, uint32_t old_size, uint32_t align,
                    uint32_t new_size, uint32_t *out);
/* Handle table operations; each traps through cx on misuse. */
int eos_cm__table_add(eos_cm__cx *cx, eos_cm__table *t, eos_cm__handle h, uint32_t *out);
void eos_cm__table_free(eos_cm__table *t);
int eos_cm__table_remove(eos_cm__cx *cx, eos_cm__table *t, uint32_t idx, eos_cm__handle *out);
eos_cm__handle *eos_cm__table_get(eos_cm__table *t, uint32_t idx);
int eos_cm__lift_handle(eos_cm__cx *cx, const eos_cm_type *t, uint32_t idx, eos_cm_val *out);
int eos_cm__lower_handle(eos_cm__cx *cx, const eos_cm_type *t, const eos_cm_val *v, uint32_t *out);
/* Ends a call: releases lent own handles and checks borrows were dropped. */
int eos_cm__cx_finish(eos_cm__cx *cx);
void eos_cm__cx_dispose(eos_cm__cx *cx);

/* Strings. */
int eos_cm__lift_string(eos_cm__cx *cx, uint32_t ptr, uint32_t tagged_len, eos_cm_val *out);
int eos_cm__lower_string(eos_cm__cx *cx, const char *s, size_t len, uint32_t *out_ptr,
                         uint32_t *out_len);
bool eos_cm__utf8_valid(const uint8_t *s, size_t len);

/* ---- WIT text --------------------------------------------------------------- */

typedef struct eos_cm__named {
    const char *name;
    const eos_cm_type *type;    /* NULL for resources */
    const eos_cm__rdesc *rdesc; /* resources */
} eos_cm__named;

typedef struct eos_cm__nfunc {
    const char *name;
    const eos_cm_functype *type;
} eos_cm__nfunc;

struct eos_cm_types {
    eos_cm_arena *arena;
    struct eos_cm__named *names;
    uint32_t name_count, name_cap;
    eos_cm__nfunc *funcs; /* functions declared in the text */
    uint32_t func_count, func_cap;
};
/* Looks up `name` used from interface `path` (relative or absolute). */
typedef const eos_cm__named *(*eos_cm__use_fn)(void *ud, const char *path, const char *name);
/* Declares WIT text into ts; with iface set and the text a whole package,
 * only `interface <iface's name>` is read. Function declarations are kept
 * (eos_cm__types_func), resource functions under their component names. */
int eos_cm__types_declare(eos_cm_types *ts, const char *wit, eos_cm__use_fn resolve, void *ud,
                          const char *iface, eos_diag *diag);
const eos_cm_functype *eos_cm__types_func(const eos_cm_types *ts, const char *name);
const eos_cm__named *eos_cm__types_lookup(const eos_cm_types *ts, const char *name);
/* Resource identities of a type set (host interfaces), by name. */
const eos_cm__rdesc *eos_cm__types_rdesc(const eos_cm_types *ts, const char *name);

/* ---- Host and instances ------------------------------------------------------- */

typedef struct eos_cm__hfunc {
    const char *name;
    const eos_cm_functype *type;
    eos_cm_host_fn fn;
    void *ud;
} eos_cm__hfunc;

typedef struct eos_cm__hiface {
    const char *name; /* full name with version */
    bool is_func;     /* a top-level function import */
    eos_cm_types *types;
    eos_cm__hfunc *funcs;
    uint32_t func_count;
    eos_cm_resource **resources; /* one per resource declared in types */
    const char **resource_names;
    uint32_t resource_count;
} eos_cm__hiface;

struct eos_cm_host {
    eos_cm__hiface *ifaces;
    uint32_t count, cap;
};

/* Finds a host interface compatible with an import name (semver rules). */
const eos_cm__hiface *eos_cm__host_find(const eos_cm_host *h, const char *name);
/* True when versions a and b are compatible: same major, same minor for 0.x. */
bool eos_cm__name_compatible(const char *want, const char *have);

/* ---- Run-time instances ----------------------------------------------------- */

typedef struct eos_cm__ci eos_cm__ci;
typedef struct eos_cm__rinst eos_cm__rinst;

/* The run-time value of one definition. */
typedef struct eos_cm__item {
    bool done;
    eos_wasm_func *core_func;
    eos_wasm_table *table;
    eos_wasm_memory *memory;
    eos_wasm_global *global;
    eos_wasm_tag *tag;
    eos_wasm_instance *core_inst;
    struct eos_cm_func *func;
    eos_cm__rinst *inst;
    const eos_cm_resource *resource;
    const eos_cm_component *comp;
    /* components: the instance whose definition this is, where the
     * component's outer aliases find what exists only at run time */
    struct eos_cm__ci *env;
    const eos_wasm_module *module; /* core modules (defined, aliased or imported) */
} eos_cm__item;

/* A component instance's value: named items. */
struct eos_cm__rinst {
    uint32_t count;
    const char **names;
    eos_cm__item *items;
    uint32_t hint; /* where the next name lookup starts: aliases come in order */
};

/* A component function at run time: lifted from core code or given by the host. */
struct eos_cm_func {
    const eos_cm_functype *type;
    eos_cm__ci *ci; /* lifted: the callee's instance; host: the importer */
    const eos_cm__hfunc *host;
    eos_wasm_func *core;
    eos_wasm_memory *memory;
    eos_wasm_func *realloc, *post_return;
    uint8_t encoding;
    eos_cm__flatsig sig;
};

/* One (possibly nested) component instance. */
struct eos_cm__ci {
    struct eos_cm_instance *root;
    const eos_cm_component *c;
    eos_cm__item *items[EOS_CM__S_COUNT];
    const eos_cm_resource **rmap;
    eos_cm__item *imports; /* nested: the instantiation arguments, by import */
    eos_cm__ci *outer;     /* nested: the instance that defines its component */
    eos_cm__table table;
    bool may_enter, may_leave;
    bool trapped; /* a trap left the guest's state unknown: never enter again */
    eos_cm__ci *next;
};

struct eos_cm_instance {
    eos_wasm_store *store;
    const eos_cm_host *host;
    void *data;
    eos_cm_arena *arena;
    eos_cm__ci *cis; /* every component instance, for cleanup */
    eos_cm__ci *top;
    uint32_t next_scope;
};

struct eos_cm_call {
    eos_cm_instance *inst;
    void *data; /* the instance's data, for eos_cm_call_data() */
    eos_cm_arena *arena;
    eos_wasm_caller *caller;
    eos_diag *diag;
};

/* Calls a component function with values (host -> lifted, or lifted -> lifted
 * through a lowered import). Results are copied into arena. */
int eos_cm__invoke(eos_cm_func *f, const eos_cm_val *args, eos_cm_val *results, eos_cm_arena *arena,
                   eos_wasm_caller *caller, eos_diag *diag);
/* Makes the core function for `canon lower` and the resource builtins. */
int eos_cm__make_lowered(eos_cm__ci *ci, const eos_cm__def *d, eos_cm_func *callee,
                         eos_wasm_func **out, eos_diag *diag);
int eos_cm__make_builtin(eos_cm__ci *ci, const eos_cm__def *d, eos_wasm_func **out);
/* True when core function f has exactly the given signature. */
bool eos_cm__core_sig_is(const eos_wasm_func *f, uint32_t np, const uint8_t *p, uint32_t nr,
                         const uint8_t *r);
/* EOS_EINVALID unless f (when given) has realloc's core type. */
int eos_cm__check_realloc(const eos_wasm_func *f, eos_diag *diag);
/* Resolves the core memory/function indices of canonical options. */
int eos_cm__resolve_core(eos_cm__ci *ci, int sort, uint32_t index, eos_cm__item *out,
                         eos_diag *diag);

/* The canonical ABI's view of variant-like types, shared by lifting and
 * lowering: a Unicode scalar value test, and the cases of variant, option
 * and result (the payload type of case i, NULL when it has none). */
static inline bool eos_cm__char_valid(uint32_t c)
{
    return c < 0xd800 || (c >= 0xe000 && c <= 0x10ffff);
}

static inline const eos_cm_type *eos_cm__case_type(const eos_cm_type *t, uint32_t i)
{
    switch (t->kind) {
    case EOS_CM_VARIANT:
        return t->types[i];
    case EOS_CM_OPTION:
        return i == 1 ? t->elem : NULL;
    case EOS_CM_RESULT:
        return i == 0 ? t->elem : t->err;
    default:
        return NULL;
    }
}

static inline uint32_t eos_cm__case_count(const eos_cm_type *t)
{
    return t->kind == EOS_CM_OPTION || t->kind == EOS_CM_RESULT ? 2 : t->count;
}

/* Bytes of the discriminant of a type with n cases. */
static inline uint32_t eos_cm__disc_size(uint32_t n)
{
    return n <= 256 ? 1 : n <= 65536 ? 2 : 4;
}

/* walk.c: where a case's payload starts in memory. */
uint32_t eos_cm__payload_offset(const eos_cm_type *t);

#endif
