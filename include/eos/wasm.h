/* The WebAssembly engine: decode and validate modules, instantiate them in a
 * store, call their exports, and give host functions bounds-checked access to
 * guest memory. Modules are immutable and shared across threads; everything
 * created at run time (instances, memories, tables, globals, functions)
 * belongs to one store, used by one thread at a time, and dies with it. */
#ifndef EOS_WASM_H
#define EOS_WASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eos/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Value types, with their binary-format encodings. */
typedef enum eos_wasm_valtype {
    EOS_WASM_I32 = 0x7f,
    EOS_WASM_I64 = 0x7e,
    EOS_WASM_F32 = 0x7d,
    EOS_WASM_F64 = 0x7c,
    EOS_WASM_V128 = 0x7b,
    EOS_WASM_FUNCREF = 0x70,
    EOS_WASM_EXTERNREF = 0x6f,
    EOS_WASM_EXNREF = 0x69 /* exception handling: a caught exception, or null */
} eos_wasm_valtype;

typedef enum eos_wasm_externkind {
    EOS_WASM_EXTERN_FUNC = 0,
    EOS_WASM_EXTERN_TABLE = 1,
    EOS_WASM_EXTERN_MEMORY = 2,
    EOS_WASM_EXTERN_GLOBAL = 3,
    EOS_WASM_EXTERN_TAG = 4 /* exception handling */
} eos_wasm_externkind;

typedef struct eos_wasm_module eos_wasm_module;
typedef struct eos_wasm_store eos_wasm_store;
typedef struct eos_wasm_instance eos_wasm_instance;
typedef struct eos_wasm_func eos_wasm_func;
typedef struct eos_wasm_memory eos_wasm_memory;
typedef struct eos_wasm_table eos_wasm_table;
typedef struct eos_wasm_global eos_wasm_global;
typedef struct eos_wasm_caller eos_wasm_caller;
typedef struct eos_wasm_tag eos_wasm_tag;

/* A typed value. Floats are kept as bit patterns so NaN payloads survive.
 * A null reference is ref == NULL; externref values are opaque to the engine. */
typedef struct eos_wasm_val {
    uint8_t type; /* eos_wasm_valtype */
    union {
        int32_t i32;
        int64_t i64;
        uint32_t f32_bits;
        uint64_t f64_bits;
        uint8_t v128[16];
        eos_wasm_func *funcref;
        void *externref;
    } of;
} eos_wasm_val;

/* Function signature. Arrays are owned by whoever made the type (the module,
 * or the host that passed it to eos_wasm_func_new_host, which copies it). */
typedef struct eos_wasm_functype {
    uint32_t param_count;
    uint32_t result_count;
    const uint8_t *params;  /* eos_wasm_valtype each */
    const uint8_t *results; /* eos_wasm_valtype each */
} eos_wasm_functype;

typedef struct eos_wasm_limits_type {
    uint64_t min;
    uint64_t max;
    bool has_max;
    bool is64; /* i64 addresses or indices (memory64, table64) */
} eos_wasm_limits_type;

typedef struct eos_wasm_tabletype {
    uint8_t elem_type; /* EOS_WASM_FUNCREF or EOS_WASM_EXTERNREF */
    eos_wasm_limits_type limits;
} eos_wasm_tabletype;

typedef struct eos_wasm_memorytype {
    eos_wasm_limits_type limits; /* in pages */
    uint32_t page_size;          /* bytes: 65536 (0 means that too) or 1 (custom page sizes) */
    bool shared; /* threads: may be shared between threads; requires a maximum */
} eos_wasm_memorytype;

typedef struct eos_wasm_globaltype {
    uint8_t valtype;
    bool mutable_;
} eos_wasm_globaltype;

/* The type of an import or export. */
typedef struct eos_wasm_externtype {
    eos_wasm_externkind kind;
    union {
        const eos_wasm_functype *func;
        eos_wasm_tabletype table;
        eos_wasm_memorytype memory;
        eos_wasm_globaltype global;
        const eos_wasm_functype *tag; /* the payload as params; no results */
    } of;
} eos_wasm_externtype;

/* A run-time object given as an import or found as an export. */
typedef struct eos_wasm_extern {
    eos_wasm_externkind kind;
    union {
        eos_wasm_func *func;
        eos_wasm_table *table;
        eos_wasm_memory *memory;
        eos_wasm_global *global;
        eos_wasm_tag *tag;
    } of;
} eos_wasm_extern;

/* ---- Modules ---------------------------------------------------------- */

/* How a module's code runs. The interpreter starts at once; the compiled tier
 * translates every function to native code with LLVM inside the process (same
 * semantics, traps, fuel and limits as the interpreter). */
typedef enum eos_wasm_tier {
    EOS_WASM_TIER_INTERP = 0,   /* interpret only */
    EOS_WASM_TIER_AUTO = 1,     /* interpret at once, compile in the background; instances
                                   made once the code is ready run it */
    EOS_WASM_TIER_COMPILED = 2, /* compile before eos_wasm_module_new returns */
} eos_wasm_tier;

/* How compiled code keeps memory accesses in bounds. EXPLICIT compares every
 * address with the memory's size (safe everywhere). GUARD gives each 32-bit
 * memory of the module's instances 8 GiB of address space, inaccessible past
 * the memory's size, and lets a fault of compiled code there become the
 * out-of-bounds trap: faster code, but a process-wide SIGSEGV/SIGBUS handler
 * (chaining to the previous one) and 8 GiB of address space per memory.
 * Linux on x86-64 and AArch64 only, never under SGX (the enclave's address
 * space is fixed and small); see eos_wasm_bounds_guard_supported(). The
 * interpreter always checks explicitly. */
typedef enum eos_wasm_bounds {
    EOS_WASM_BOUNDS_EXPLICIT = 0,
    EOS_WASM_BOUNDS_GUARD = 1,
} eos_wasm_bounds;

/* 0 when this build and platform can run EOS_WASM_BOUNDS_GUARD, else
 * EOS_EUNSUPPORTED and, when why is given, a static reason (sanitizer
 * builds, other systems, no compiled tier). */
EOS_API int eos_wasm_bounds_guard_supported(const char **why);

/* A store of compiled code across restarts, provided by the embedder (the
 * server seals entries to the TEE in its data directory). Entries are keyed
 * by the module's bytes and an options string naming the compiler version,
 * CPU and code options; the engine adds no integrity check of its own
 * beyond structure, so get must authenticate what it returns. */
typedef struct eos_wasm_code_cache {
    /* The entry for (wasm, options), both borrowed: 0 and *out (free with
     * eos_free(*out, *out_size)), EOS_ENOTFOUND, or another error when an
     * entry exists but fails its integrity check (the engine then compiles
     * and puts a fresh one). Called from compiling threads. */
    int (*get)(void *ctx, const uint8_t *wasm, size_t wasm_size, const char *options, uint8_t **out,
               size_t *out_size);
    /* Stores code for (wasm, options); all borrowed. Errors are ignored. */
    int (*put)(void *ctx, const uint8_t *wasm, size_t wasm_size, const char *options,
               const uint8_t *code, size_t code_size);
    void *ctx;
} eos_wasm_code_cache;

/* Feature switches for decoding and the execution tier; a zeroed struct (or
 * NULL) means the default feature set: WebAssembly 2.0 plus tail calls,
 * extended constant expressions, multi-memory, fixed-width and relaxed SIMD,
 * exception handling, memory64 and table64, custom page sizes, function
 * references, threads' atomics on one thread and wide arithmetic,
 * interpreted. The compiled tier translates all of them but exception
 * handling: tier compiled refuses such modules (EOS_EUNSUPPORTED, naming what
 * it does not translate) and tier auto keeps them interpreted. */
typedef struct eos_wasm_features {
    bool disable_tail_call;
    bool disable_extended_const;
    bool disable_multi_memory;
    /* At most one table, as in WebAssembly 1.0 (reference types lifted it). */
    bool disable_multi_table;
    /* Constant expressions read imported globals only, as in WebAssembly 2.0
     * (by default any earlier immutable global, as in 3.0). */
    bool wasm2_const_globals;
    uint8_t tier; /* eos_wasm_tier */
    /* eos_wasm_bounds of compiled code; GUARD where unsupported fails the
     * load with EOS_EUNSUPPORTED. Interpreted code ignores it. */
    uint8_t bounds;
    /* Modules whose code section has at least this many bytes are validated
     * at load but translated for the interpreter one function at a time, on
     * its first call; 0 = 1 MiB, UINT32_MAX = never (everything at load). */
    uint32_t lazy_translation_min;
    /* Under tier auto, lazily translated modules with at least this many
     * bytes of function bodies (a language runtime) are compiled in part:
     * interpreted first, then, after warm_up_calls calls from the host, the
     * functions that have run are compiled at full optimisation and the rest
     * stay interpreted. 0 = 4 MiB, UINT32_MAX = never (all compiled quickly). */
    uint32_t partial_compile_min;
    uint32_t warm_up_calls; /* 0 = 64 */
    /* Where compiled code is looked up before compiling and kept after
     * (borrowed: must outlive the module and eos_wasm_jit_shutdown()); NULL
     * = always compile. */
    const eos_wasm_code_cache *code_cache;
} eos_wasm_features;

/* Decodes, validates and prepares bytes for execution. bytes are borrowed
 * (not retained). On failure returns an eos_err and, when diag is given, the
 * section, function index and byte offset of the problem. The module is
 * immutable and may be shared by any number of threads and stores.
 * Free with eos_wasm_module_free(). */
EOS_API int eos_wasm_module_new(const uint8_t *bytes, size_t size,
                                const eos_wasm_features *features, eos_wasm_module **out,
                                eos_diag *diag);
/* Adds a reference; every reference is dropped with eos_wasm_module_free().
 * Thread-safe. Returns m. */
EOS_API eos_wasm_module *eos_wasm_module_ref(eos_wasm_module *m);
/* Drops a reference (takes ownership of it); the module is freed with the
 * last one. Stores that instantiated it hold their own reference. NULL is
 * allowed. */
EOS_API void eos_wasm_module_free(eos_wasm_module *m);

/* Introspection. Strings and types are borrowed from the module and live as
 * long as it does. Names are UTF-8, not NUL-terminated: use the lengths. */
typedef struct eos_wasm_import_desc {
    const char *module;
    size_t module_len;
    const char *name;
    size_t name_len;
    eos_wasm_externtype type;
} eos_wasm_import_desc;

typedef struct eos_wasm_export_desc {
    const char *name;
    size_t name_len;
    eos_wasm_externtype type;
} eos_wasm_export_desc;

/* Both borrow m; out receives pointers borrowed from m (nothing to free). */
EOS_API size_t eos_wasm_module_import_count(const eos_wasm_module *m);
EOS_API void eos_wasm_module_import(const eos_wasm_module *m, size_t index,
                                    eos_wasm_import_desc *out);
EOS_API size_t eos_wasm_module_export_count(const eos_wasm_module *m);
EOS_API void eos_wasm_module_export(const eos_wasm_module *m, size_t index,
                                    eos_wasm_export_desc *out);

/* True when this build has the compiled tier (LLVM was found). Without it,
 * EOS_WASM_TIER_COMPILED fails with EOS_EUNSUPPORTED and AUTO interprets. */
EOS_API bool eos_wasm_jit_available(void);
/* The background compilations queued or running (tier auto), process-wide.
 * Thread-safe. */
EOS_API size_t eos_wasm_jit_pending(void);
/* Stops the background compiler before exit: queued compilations are dropped
 * (their modules stay interpreted), running ones stop at their next chunk of
 * functions, and the compile threads are joined, so the compiler's static
 * destructors never run under one. Later loads with tier auto stay
 * interpreted; tier compiled still compiles on the loading thread. */
EOS_API void eos_wasm_jit_shutdown(void);
/* The same, waiting at most ms milliseconds (UINT_MAX: without limit) for
 * the running compilations to stop. Returns how many compile threads still
 * run (detached): then the caller must leave the code cache and its TEE
 * alive and end the process with _exit, never through exit(). */
EOS_API size_t eos_wasm_jit_shutdown_within(unsigned ms);

typedef enum eos_wasm_compile_state {
    EOS_WASM_COMPILE_NONE = 0,    /* interpreted only (tier interp, or no LLVM) */
    EOS_WASM_COMPILE_PENDING = 1, /* queued or compiling in the background */
    EOS_WASM_COMPILE_READY = 2,   /* native code ready: new instances run it */
    EOS_WASM_COMPILE_FAILED = 3,  /* compilation failed: the module stays interpreted */
    EOS_WASM_COMPILE_WARMING = 4, /* interpreted until the functions that run are known,
                                     then compiled in part (partial_compile_min) */
} eos_wasm_compile_state;

/* The module's tier and the cost of compiling it, for listings and metrics. */
typedef struct eos_wasm_tier_info {
    eos_wasm_tier requested;
    eos_wasm_compile_state state;
    uint64_t compile_ns; /* wall time of the compilation (0 until ready) */
    uint64_t code_size;  /* bytes of function bodies compiled (0 until ready) */
    uint32_t func_count; /* functions compiled */
    bool from_cache;     /* the code came from the code cache (compile_ns is its load) */
} eos_wasm_tier_info;

/* Fills out (borrowed) for m (borrowed). Thread-safe. */
EOS_API void eos_wasm_module_tier_info(const eos_wasm_module *m, eos_wasm_tier_info *out);
/* Blocks until a background compilation of m has finished; returns 0 when
 * the native code is ready, EOS_EAGAIN at once while a partially compiled
 * module warms up, or an eos_err when there is none (not requested,
 * unavailable or failed). Borrows m. Thread-safe. */
EOS_API int eos_wasm_module_wait_compiled(eos_wasm_module *m);

/* The size of the module's code section and of the interpreter's code made
 * from it so far, in bytes (for memory reports; a lazily translated module's
 * grows as its functions are first called). Borrows m. */
EOS_API void eos_wasm_module_code_size(const eos_wasm_module *m, size_t *out_wasm_size,
                                       size_t *out_internal_size);

/* True when two function types are equal (same params and results). Borrows
 * both. */
EOS_API bool eos_wasm_functype_equal(const eos_wasm_functype *a, const eos_wasm_functype *b);

/* ---- Stores and limits ------------------------------------------------ */

/* Limits enforced on everything running in a store. Zero means "default".
 * Fuel is charged one unit per function call (plus one per 64 locals of the
 * callee), one per loop iteration (each pass through a loop header) and one
 * per 4 KiB (or 4096 elements) moved by bulk memory and table instructions.
 * Wasm-to-wasm calls use the store's own stacks, not the native stack;
 * max_call_depth (default 10,000 frames) bounds them. native_stack_size bounds
 * how deep host functions may re-enter the engine on the calling thread. */
typedef struct eos_wasm_limits {
    uint64_t fuel;             /* units for the next calls; 0 = unlimited */
    uint64_t max_memory_bytes; /* cap on the sum of all linear memories; 0 = 4 GiB each */
    uint64_t max_table_elems;  /* cap on each table's length; 0 = 10,000,000 */
    uint32_t max_call_depth;   /* wasm frames; 0 = derived from native_stack_size */
    size_t native_stack_size;  /* bytes of native stack the calling thread has; 0 = 256 KiB */
} eos_wasm_limits;

/* Creates an empty store. limits is copied; NULL means defaults.
 * Free with eos_wasm_store_free(), which frees everything created in it. */
EOS_API int eos_wasm_store_new(const eos_wasm_limits *limits, eos_wasm_store **out);
/* Frees the store and all its instances and objects (takes ownership of s).
 * NULL is allowed. */
EOS_API void eos_wasm_store_free(eos_wasm_store *s);

/* Sets the fuel available to the following calls (0 = unlimited) and resets
 * the consumed counter. Borrows s, as do the other store accessors. */
EOS_API void eos_wasm_store_set_fuel(eos_wasm_store *s, uint64_t fuel);
/* Fuel consumed since the last eos_wasm_store_set_fuel(). */
EOS_API uint64_t eos_wasm_store_fuel_consumed(const eos_wasm_store *s);

/* A time budget for the following calls, honoured by the interpreter at the
 * same points where it charges fuel (checked every 65,536 units, so a
 * guest stops within well under a millisecond of interpretation past it):
 * a call running past it stops with EOS_TRAP_DEADLINE. set_deadline takes
 * an absolute CLOCK_MONOTONIC time in ns (0 = none); set_time_budget one
 * relative to now (0 = none). Both clear an earlier interruption. Borrow s;
 * call them from the thread that uses the store. */
EOS_API void eos_wasm_store_set_deadline(eos_wasm_store *s, uint64_t deadline_ns);
EOS_API void eos_wasm_store_set_time_budget(eos_wasm_store *s, uint64_t budget_ns);
/* Makes the store's running call (and later ones, until the next
 * set_deadline) stop with EOS_TRAP_DEADLINE at the next check. The only
 * store function safe to call from another thread, e.g. a watchdog timer. */
EOS_API void eos_wasm_store_interrupt(eos_wasm_store *s);

/* Reuse. snapshot records the state of every memory, table, global and
 * instance in s (normally right after instantiation); restore returns them
 * to it, so the store can serve another request as if it were fresh:
 * memory contents and sizes, table contents and sizes, global values and
 * dropped segments all come back. Large memories are restored by remapping
 * (the kernel drops the pages written since), small ones by copying.
 * Objects created after the snapshot stay in the store, unchanged. Fuel and
 * the time budget are set separately. restore fails with EOS_EINVAL without
 * a snapshot and EOS_EBUSY during a call. Both borrow s. */
EOS_API int eos_wasm_store_snapshot(eos_wasm_store *s);
EOS_API int eos_wasm_store_restore(eos_wasm_store *s);

/* An opaque pointer for the embedder (host functions reach it through the
 * caller). Borrowed: the store never frees it. */
EOS_API void eos_wasm_store_set_data(eos_wasm_store *s, void *data);
EOS_API void *eos_wasm_store_data(const eos_wasm_store *s);

/* ---- Host functions ----------------------------------------------------- */

/* A host function. Arguments arrive in slots[0 .. param_count) and results
 * are written to slots[0 .. result_count) (the array holds the larger of the
 * two counts, in slots). One slot per value: i32 in the low 32 bits, i64 as is, f32 and
 * f64 as bit patterns, references as pointers cast to uint64_t; a v128 takes
 * two consecutive slots. Return 0, or a trap code (normally through
 * eos_wasm_caller_trap) to stop the guest. */
typedef int (*eos_wasm_host_fn)(eos_wasm_caller *caller, void *ud, uint64_t *slots);

/* Creates a host function in store s. type is copied; ud is borrowed and
 * passed to fn on every call. The function lives as long as the store. */
EOS_API int eos_wasm_func_new_host(eos_wasm_store *s, const eos_wasm_functype *type,
                                   eos_wasm_host_fn fn, void *ud, eos_wasm_func **out);

/* What a host function may reach while it runs. The caller is valid only
 * during the host call; the store returned is borrowed (never free it). */
EOS_API eos_wasm_store *eos_wasm_caller_store(eos_wasm_caller *c);
/* The instance whose code made the call, borrowed; NULL when the host called
 * the host. */
EOS_API eos_wasm_instance *eos_wasm_caller_instance(eos_wasm_caller *c);
/* Records a trap message (fmt is formatted into the store: nothing is
 * retained) and returns code (a trap code), so a host function can
 * `return eos_wasm_caller_trap(c, EOS_TRAP_HOST, "...")`. */
EOS_API int eos_wasm_caller_trap(eos_wasm_caller *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- Instances ------------------------------------------------------------ */

/* Instantiates m in s: checks and links imports (one eos_wasm_extern per
 * module import, in import order; borrowed), initialises globals, tables and
 * memories (data and element segments), then runs the start function.
 * A link failure returns EOS_EUNLINKABLE, a trap during initialisation or
 * start returns the trap code; diag says which. The instance belongs to s. */
EOS_API int eos_wasm_instantiate(eos_wasm_store *s, eos_wasm_module *m,
                                 const eos_wasm_extern *imports, size_t import_count,
                                 eos_wasm_instance **out, eos_diag *diag);

/* Looks up an export by name (NUL-terminated, borrowed). Returns 0 or
 * EOS_ENOTFOUND; the object in out is owned by the instance's store. */
EOS_API int eos_wasm_instance_export(eos_wasm_instance *i, const char *name, eos_wasm_extern *out);
/* The same with an explicit length, for names that contain NUL bytes. */
EOS_API int eos_wasm_instance_export_len(eos_wasm_instance *i, const char *name, size_t name_len,
                                         eos_wasm_extern *out);
/* Shorthand for a function export (owned by the store); NULL when absent or
 * not a function. */
EOS_API eos_wasm_func *eos_wasm_instance_func(eos_wasm_instance *i, const char *name);
/* The instance's memory number index (imported or defined, owned by the
 * store), or NULL. */
EOS_API eos_wasm_memory *eos_wasm_instance_memory(eos_wasm_instance *i, uint32_t index);
/* The tier the instance runs on: EOS_WASM_TIER_COMPILED or _INTERP. An
 * instance picks it on its first call (its start function included) and
 * keeps it. Borrows i. */
EOS_API eos_wasm_tier eos_wasm_instance_tier(const eos_wasm_instance *i);
/* The module the instance was made from (borrowed). */
EOS_API const eos_wasm_module *eos_wasm_instance_module(const eos_wasm_instance *i);

/* ---- Calling ------------------------------------------------------------ */

/* The function's type, borrowed for the life of the function. */
EOS_API const eos_wasm_functype *eos_wasm_func_type(const eos_wasm_func *f);

/* Calls f with typed arguments (checked against its type; args borrowed) and
 * writes its results into the caller's array. Returns 0, an eos_err for bad
 * arguments, or a trap code with diag describing the trap. The store stays
 * usable after a trap. May be called from inside a host function (re-entry),
 * within the call-depth limit. */
EOS_API int eos_wasm_func_call(eos_wasm_store *s, eos_wasm_func *f, const eos_wasm_val *args,
                               size_t arg_count, eos_wasm_val *results, size_t result_count,
                               eos_diag *diag);
/* The same without type checks, slots (borrowed) laid out as for host
 * functions. */
EOS_API int eos_wasm_func_call_raw(eos_wasm_store *s, eos_wasm_func *f, uint64_t *slots,
                                   eos_diag *diag);

/* ---- Memories, tables, globals -------------------------------------------- */

/* Creates a memory, table or global owned by s (for host-provided imports);
 * type is copied, the object is freed with the store. */
EOS_API int eos_wasm_memory_new(eos_wasm_store *s, const eos_wasm_memorytype *type,
                                eos_wasm_memory **out);
EOS_API int eos_wasm_table_new(eos_wasm_store *s, const eos_wasm_tabletype *type, eos_wasm_val init,
                               eos_wasm_table **out);
EOS_API int eos_wasm_global_new(eos_wasm_store *s, const eos_wasm_globaltype *type,
                                eos_wasm_val value, eos_wasm_global **out);

/* Base of linear memory. The pointer is invalidated by any growth (a guest
 * memory.grow during a call included): fetch it again after calling wasm. */
EOS_API uint8_t *eos_wasm_memory_data(eos_wasm_memory *m);
/* Current size in bytes. The accessors below borrow the object. */
EOS_API uint64_t eos_wasm_memory_size(const eos_wasm_memory *m);
/* Bounds-checked access: a pointer to [offset, offset + size) or NULL when
 * any byte of it is outside the memory (overflow-safe). */
EOS_API void *eos_wasm_memory_ptr(eos_wasm_memory *m, uint64_t offset, uint64_t size);
/* Grows by delta pages; returns 0 and the old size in pages, or EOS_ELIMIT.
 * Invalidates pointers from eos_wasm_memory_data(). */
EOS_API int eos_wasm_memory_grow(eos_wasm_memory *m, uint64_t delta, uint64_t *out_old_pages);
EOS_API eos_wasm_memorytype eos_wasm_memory_type(const eos_wasm_memory *m);

/* Table and global accessors borrow the object; reference values are
 * owned by the store. */
EOS_API uint64_t eos_wasm_table_size(const eos_wasm_table *t);
EOS_API int eos_wasm_table_get(const eos_wasm_table *t, uint64_t index, eos_wasm_val *out);
EOS_API int eos_wasm_table_set(eos_wasm_table *t, uint64_t index, eos_wasm_val value);
EOS_API eos_wasm_tabletype eos_wasm_table_type(const eos_wasm_table *t);

EOS_API eos_wasm_val eos_wasm_global_get(const eos_wasm_global *g);
EOS_API int eos_wasm_global_set(eos_wasm_global *g, eos_wasm_val value);
EOS_API eos_wasm_globaltype eos_wasm_global_type(const eos_wasm_global *g);

/* The type of a run-time object, for link checks by embedders. Borrows e;
 * function types in the result are borrowed from the object. */
EOS_API eos_wasm_externtype eos_wasm_extern_type(const eos_wasm_extern *e);

/* ---- Exception handling: tags and exceptions ------------------------------ */

/* A tag identifies a kind of exception; its type lists the payload (params,
 * no results). Instances that import the same tag share it, so a handler in
 * one catches what the other throws. type is copied; the tag lives as long
 * as the store. 0, EOS_EINVAL (a result type) or EOS_ENOMEM. */
EOS_API int eos_wasm_tag_new(eos_wasm_store *s, const eos_wasm_functype *type, eos_wasm_tag **out);
/* The tag's payload type, borrowed from the tag. */
EOS_API const eos_wasm_functype *eos_wasm_tag_type(const eos_wasm_tag *t);
/* Throws an exception of tag (of the caller's store) with payload vals
 * from a host function: `return eos_wasm_caller_throw(c, tag, vals, n);`.
 * Wasm handlers of the callers catch it like one thrown by wasm. Returns
 * EOS_TRAP_EXCEPTION, or EOS_TRAP_HOST when the payload does not match. */
EOS_API int eos_wasm_caller_throw(eos_wasm_caller *c, eos_wasm_tag *tag, const eos_wasm_val *vals,
                                  size_t count);
/* An exception no wasm handler caught ends the call with EOS_TRAP_EXCEPTION
 * ("uncaught exception"); the store keeps it until the next one. This gives
 * its tag (borrowed from the store) and up to max payload values into vals
 * (when given); returns the payload count, or 0 with *tag NULL when the
 * store holds none. Borrows s. */
EOS_API size_t eos_wasm_store_exception(const eos_wasm_store *s, eos_wasm_tag **tag,
                                        eos_wasm_val *vals, size_t max);

#ifdef __cplusplus
}
#endif
#endif
