/* The compiled tier's translator: validated function bodies (read again from
 * the module bytes) into LLVM IR with the interpreter's exact semantics. The
 * operand stack becomes SSA values, block results phi nodes, locals allocas
 * (promoted by mem2reg); traps call a cold helper that unwinds to the entry. */
#include "internal.h"

#include <stddef.h>
#include <stdio.h>

#include <llvm-c/Core.h>

/* The translation state of one chunk of a module (module-wide fields) and of
 * the function being translated. */
typedef struct jfn {
    const eos_wasm_module *m;
    LLVMContextRef cx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMTypeRef t_i1, t_i8, t_i32, t_i64, t_f32, t_f64, t_ptr, t_void;
    LLVMTypeRef t_v128; /* <2 x i64>: every v128 value */
    LLVMAttributeRef a_nounwind, a_noreturn, a_cold;
    unsigned md_invariant;
    LLVMValueRef *fns;     /* typed function of each defined function, once declared */
    uint32_t first, count; /* the chunk: defined functions translated here */
    const uint8_t *sel;    /* the defined functions compiled (1) or interpreted; NULL: all */
    bool oom;
    bool declined; /* a SIMD instruction not translated: the module stays interpreted */

    LLVMValueRef fn, inst, budget, store;
    LLVMValueRef fuel, mbase, msize, slots;
    uint32_t slots_max;
    LLVMValueRef *locals;
    uint8_t *ltypes;
    LLVMBasicBlockRef traps[EOS_WASM__JT_COUNT];
    LLVMValueRef *vs;
    uint32_t nvs, cap_vs;
    struct jctl *ctls;
    uint32_t nctls, cap_ctls;
    bool dead; /* the code being read is unreachable */
    uint32_t dead_depth;
    const uint8_t *p, *end;
    void *arena;
    bool guard; /* guard-page bounds checks: memory accesses are not compared */
} jfn;

static LLVMValueRef numeric(jfn *j, uint32_t op, LLVMValueRef a, LLVMValueRef b);
static void simd(jfn *j);
static void atomic(jfn *j);
static void wide(jfn *j, uint32_t sub);

enum { K_BLOCK, K_LOOP, K_IF, K_ELSE, K_FUNC };

typedef struct jctl {
    uint8_t kind;
    uint32_t height; /* stack height below the block's params */
    const uint8_t *params;
    uint32_t np;
    const uint8_t *results;
    uint32_t nr;
    LLVMBasicBlockRef end_bb, loop_bb, else_bb;
    LLVMValueRef *end_phis;  /* nr */
    LLVMValueRef *loop_phis; /* np */
    LLVMValueRef *if_params; /* np, the values the else arm starts with */
    uint32_t end_preds;
} jctl;

static const uint8_t single_type[256] = {
    [0x7f] = 0x7f, [0x7e] = 0x7e, [0x7d] = 0x7d, [0x7c] = 0x7c, [0x70] = 0x70, [0x6f] = 0x6f, [0x7b] = 0x7b,
};

/* ---- small helpers ------------------------------------------------------ */

static void *jalloc(jfn *j, size_t size)
{
    /* Per-function allocations, freed together when the function is done. */
    void **blk = eos_calloc(1, sizeof(void *) + (size ? size : 1));
    if (!blk) {
        j->oom = true;
        static uint64_t dummy[64];
        return dummy;
    }
    blk[0] = j->arena;
    j->arena = blk;
    return blk + 1;
}

static void arena_free(jfn *j)
{
    while (j->arena) {
        void **next = *(void ***)j->arena;
        eos_free(j->arena, 0);
        j->arena = next;
    }
}

static uint64_t uleb(jfn *j)
{
    uint64_t r = 0;
    unsigned sh = 0;
    uint8_t b;
    do {
        b = *j->p++;
        if (sh < 64)
            r |= (uint64_t)(b & 0x7f) << sh;
        sh += 7;
    } while (b & 0x80);
    return r;
}

static int64_t sleb(jfn *j)
{
    uint64_t r = 0;
    unsigned sh = 0;
    uint8_t b;
    do {
        b = *j->p++;
        if (sh < 64)
            r |= (uint64_t)(b & 0x7f) << sh;
        sh += 7;
    } while (b & 0x80);
    if (sh < 64 && (b & 0x40))
        r |= ~(uint64_t)0 << sh;
    return (int64_t)r;
}

static LLVMTypeRef vt(jfn *j, uint8_t t)
{
    switch (t) {
    case EOS_WASM_I32:
        return j->t_i32;
    case EOS_WASM_F32:
        return j->t_f32;
    case EOS_WASM_F64:
        return j->t_f64;
    case EOS_WASM_V128:
        return j->t_v128;
    default:
        return j->t_i64; /* i64 and references (pointers as integers) */
    }
}

static LLVMValueRef c32(jfn *j, uint64_t v)
{
    return LLVMConstInt(j->t_i32, v, 0);
}

static LLVMValueRef c64(jfn *j, uint64_t v)
{
    return LLVMConstInt(j->t_i64, v, 0);
}

/* A pointer off bytes past base. */
static LLVMValueRef at(jfn *j, LLVMValueRef base, uint64_t off)
{
    if (!off)
        return base;
    LLVMValueRef idx = c64(j, off);
    return LLVMBuildGEP2(j->b, j->t_i8, base, &idx, 1, "");
}

static LLVMValueRef load(jfn *j, LLVMTypeRef t, LLVMValueRef p)
{
    return LLVMBuildLoad2(j->b, t, p, "");
}

/* A load of something fixed for the life of the instance (its object
 * arrays and their entries), so LLVM may hoist and merge it. */
static LLVMValueRef load_fixed(jfn *j, LLVMTypeRef t, LLVMValueRef p)
{
    LLVMValueRef v = LLVMBuildLoad2(j->b, t, p, "");
    LLVMSetMetadata(v, j->md_invariant, LLVMMDNodeInContext(j->cx, NULL, 0));
    return v;
}

static void push(jfn *j, LLVMValueRef v)
{
    if (j->nvs == j->cap_vs) {
        uint32_t cap = j->cap_vs ? j->cap_vs * 2 : 64;
        LLVMValueRef *n = eos_realloc(j->vs, (size_t)j->cap_vs * sizeof(*n), cap * sizeof(*n));
        if (!n) {
            j->oom = true;
            return;
        }
        j->vs = n;
        j->cap_vs = cap;
    }
    j->vs[j->nvs++] = v;
}

static LLVMValueRef pop(jfn *j)
{
    return j->vs[--j->nvs];
}

static LLVMBasicBlockRef new_bb(jfn *j, const char *name)
{
    return LLVMAppendBasicBlockInContext(j->cx, j->fn, name);
}

/* ---- helpers of the runtime (jit_rt.c) ------------------------------------ */

static LLVMValueRef call_rt(jfn *j, int h, LLVMValueRef *args, unsigned n)
{
    const eos_wasm__jit_rt *rt = &eos_wasm__jit_rts[h];
    LLVMTypeRef ps[8];
    unsigned np = 0;
    for (const char *c = rt->sig + 2; *c; c++)
        ps[np++] = *c == 'p' ? j->t_ptr : *c == 'I' ? j->t_i64 : j->t_i32;
    LLVMTypeRef ret = rt->sig[0] == 'v' ? j->t_void : rt->sig[0] == 'I' ? j->t_i64 : j->t_i32;
    LLVMTypeRef ft = LLVMFunctionType(ret, ps, np, 0);
    (void)n;
    /* By name: the linker binds it (code holds no addresses, so it can be
     * cached and loaded by another process). */
    char name[32];
    snprintf(name, sizeof(name), EOS_WASM__RT_SYMBOL, h);
    LLVMValueRef fn = LLVMGetNamedFunction(j->mod, name);
    if (!fn)
        fn = LLVMAddFunction(j->mod, name, ft);
    LLVMValueRef call = LLVMBuildCall2(j->b, ft, fn, args, np, "");
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex, j->a_nounwind);
    return call;
}

/* ---- fuel and memory 0 in locals ------------------------------------------- */

static LLVMValueRef store_field(jfn *j, uint64_t off)
{
    return at(j, j->store, off);
}

/* Writes the fuel counter back to the store before anything that may read it
 * (a call, a helper, a trap). */
static void sync_out(jfn *j)
{
    LLVMBuildStore(j->b, load(j, j->t_i64, j->fuel),
                   store_field(j, offsetof(eos_wasm_store, fuel)));
}

static void reload_mem(jfn *j)
{
    if (!j->m->memory_count)
        return;
    LLVMValueRef mems =
        load_fixed(j, j->t_ptr, at(j, j->inst, offsetof(eos_wasm_instance, memories)));
    LLVMValueRef m0 = load_fixed(j, j->t_ptr, mems);
    LLVMBuildStore(j->b, load(j, j->t_ptr, at(j, m0, offsetof(eos_wasm_memory, data))), j->mbase);
    LLVMBuildStore(j->b, load(j, j->t_i64, at(j, m0, offsetof(eos_wasm_memory, size))), j->msize);
}

/* After a call: fuel and memory 0 may have changed. */
static void sync_in(jfn *j)
{
    LLVMBuildStore(j->b, load(j, j->t_i64, store_field(j, offsetof(eos_wasm_store, fuel))),
                   j->fuel);
    reload_mem(j);
}

/* ---- traps ---------------------------------------------------------------- */

/* Compiled code names its trap by kind (a constant, not a pointer to the
 * message); the helper looks the code and message up here. */
const eos_wasm__jit_trap_kind eos_wasm__jit_trap_kinds[EOS_WASM__JT_COUNT] = {
    [EOS_WASM__JT_UNREACHABLE] = {EOS_TRAP_UNREACHABLE, "unreachable executed"},
    [EOS_WASM__JT_MEM_OOB] = {EOS_TRAP_MEMORY_OOB, "out of bounds memory access"},
    [EOS_WASM__JT_DIV_ZERO] = {EOS_TRAP_INTEGER_DIVIDE_BY_ZERO, "integer divide by zero"},
    [EOS_WASM__JT_INT_OVERFLOW] = {EOS_TRAP_INTEGER_OVERFLOW, "integer overflow"},
    [EOS_WASM__JT_CONVERSION] = {EOS_TRAP_INVALID_CONVERSION, "invalid conversion to integer"},
    [EOS_WASM__JT_TABLE_OOB] = {EOS_TRAP_TABLE_OOB, "out of bounds table access"},
    [EOS_WASM__JT_INDIRECT_OOB] = {EOS_TRAP_TABLE_OOB,
                         "undefined element: call_indirect index out of bounds"},
    [EOS_WASM__JT_UNINIT] = {EOS_TRAP_UNINITIALIZED_ELEMENT, "uninitialized element"},
    [EOS_WASM__JT_SIG] = {EOS_TRAP_INDIRECT_CALL_TYPE, "indirect call type mismatch"},
    [EOS_WASM__JT_STACK] = {EOS_TRAP_STACK_EXHAUSTED, "call stack exhausted"},
    [EOS_WASM__JT_UNALIGNED] = {EOS_TRAP_UNALIGNED_ATOMIC, "unaligned atomic"},
    [EOS_WASM__JT_NULL_FUNC] = {EOS_TRAP_NULL_REFERENCE, "null function reference"},
    [EOS_WASM__JT_NULL_REF] = {EOS_TRAP_NULL_REFERENCE, "null reference"},
};

/* One shared, cold block per trap kind and function. */
static LLVMBasicBlockRef trap_bb(jfn *j, int kind)
{
    if (j->traps[kind])
        return j->traps[kind];
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(j->b);
    LLVMBasicBlockRef bb = new_bb(j, "trap");
    LLVMPositionBuilderAtEnd(j->b, bb);
    sync_out(j);
    LLVMValueRef args[3] = {j->inst, c32(j, (uint32_t)eos_wasm__jit_trap_kinds[kind].code), c32(j, (uint32_t)kind)};
    LLVMValueRef call = call_rt(j, EOS_WASM__RT_TRAP, args, 3);
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex, j->a_noreturn);
    LLVMAddCallSiteAttribute(call, LLVMAttributeFunctionIndex, j->a_cold);
    LLVMBuildUnreachable(j->b);
    LLVMPositionBuilderAtEnd(j->b, cur);
    j->traps[kind] = bb;
    return bb;
}

static void trap_if(jfn *j, LLVMValueRef cond, int kind)
{
    LLVMBasicBlockRef ok = new_bb(j, "ok");
    LLVMBuildCondBr(j->b, cond, trap_bb(j, kind), ok);
    LLVMPositionBuilderAtEnd(j->b, ok);
}

/* ---- memory ------------------------------------------------------------------ */

/* The address of an access of width bytes at addr + off in memory mem, after
 * the interpreter's bounds check (ea + width > size traps). In guard mode
 * there is no check: ea is below 8 GiB + 8, inside the memory's guard
 * reservation, and an access past its size faults into the same trap
 * (guard.c). */
static LLVMValueRef mem_addr(jfn *j, uint32_t mem, LLVMValueRef addr, uint64_t off, unsigned width)
{
    if (j->m->memories[mem].limits.is64) {
        /* memory64: addr + off + width must not pass 2^64 either. */
        uint64_t lim = off > UINT64_MAX - width ? 0 : UINT64_MAX - off - width;
        trap_if(j,
                off > UINT64_MAX - width ? LLVMConstInt(j->t_i1, 1, 0)
                                         : LLVMBuildICmp(j->b, LLVMIntUGT, addr, c64(j, lim), ""),
                EOS_WASM__JT_MEM_OOB);
    }
    LLVMValueRef ea = LLVMBuildZExt(j->b, addr, j->t_i64, "");
    if (off)
        ea = LLVMBuildAdd(j->b, ea, c64(j, off), "");
    LLVMValueRef base, size = NULL;
    if (mem == 0) {
        base = load(j, j->t_ptr, j->mbase);
        if (!j->guard)
            size = load(j, j->t_i64, j->msize);
    } else {
        LLVMValueRef mems =
            load_fixed(j, j->t_ptr, at(j, j->inst, offsetof(eos_wasm_instance, memories)));
        LLVMValueRef mo = load_fixed(j, j->t_ptr, at(j, mems, (uint64_t)mem * sizeof(void *)));
        base = load(j, j->t_ptr, at(j, mo, offsetof(eos_wasm_memory, data)));
        if (!j->guard)
            size = load(j, j->t_i64, at(j, mo, offsetof(eos_wasm_memory, size)));
    }
    if (j->guard)
        return LLVMBuildGEP2(j->b, j->t_i8, base, &ea, 1, "");
    LLVMValueRef end = LLVMBuildAdd(j->b, ea, c64(j, width), "");
    trap_if(j, LLVMBuildICmp(j->b, LLVMIntUGT, end, size, ""), EOS_WASM__JT_MEM_OOB);
    return LLVMBuildGEP2(j->b, j->t_i8, base, &ea, 1, "");
}

static void memop(jfn *j, uint8_t op)
{
    uint32_t align = (uint32_t)uleb(j);
    uint32_t mem = 0;
    if (align & 0x40)
        mem = (uint32_t)uleb(j);
    uint64_t off = uleb(j);
    if (j->dead)
        return;
    static const struct {
        uint8_t width, vt, sign; /* sign: 0 zero-extend, 1 sign-extend, 2 exact */
    } k[] = {
        [0x28 - 0x28] = {4, 0x7f, 2}, [0x29 - 0x28] = {8, 0x7e, 2}, [0x2a - 0x28] = {4, 0x7d, 2},
        [0x2b - 0x28] = {8, 0x7c, 2}, [0x2c - 0x28] = {1, 0x7f, 1}, [0x2d - 0x28] = {1, 0x7f, 0},
        [0x2e - 0x28] = {2, 0x7f, 1}, [0x2f - 0x28] = {2, 0x7f, 0}, [0x30 - 0x28] = {1, 0x7e, 1},
        [0x31 - 0x28] = {1, 0x7e, 0}, [0x32 - 0x28] = {2, 0x7e, 1}, [0x33 - 0x28] = {2, 0x7e, 0},
        [0x34 - 0x28] = {4, 0x7e, 1}, [0x35 - 0x28] = {4, 0x7e, 0}, [0x36 - 0x28] = {4, 0x7f, 2},
        [0x37 - 0x28] = {8, 0x7e, 2}, [0x38 - 0x28] = {4, 0x7d, 2}, [0x39 - 0x28] = {8, 0x7c, 2},
        [0x3a - 0x28] = {1, 0x7f, 0}, [0x3b - 0x28] = {2, 0x7f, 0}, [0x3c - 0x28] = {1, 0x7e, 0},
        [0x3d - 0x28] = {2, 0x7e, 0}, [0x3e - 0x28] = {4, 0x7e, 0},
    };
    unsigned w = k[op - 0x28].width;
    LLVMTypeRef vty = vt(j, k[op - 0x28].vt);
    LLVMTypeRef nt = LLVMIntTypeInContext(j->cx, w * 8);
    /* Without a check the access itself is what traps, and LLVM would
     * delete a load whose value ends up unused and move other memory
     * accesses across one that faults. In guard mode every access is
     * volatile: LLVM keeps each one and their order among themselves (and
     * with calls and global.set, also volatile), so a fault traps exactly
     * where the interpreter's check does, with the same stores done. */
    if (op >= 0x36) {
        LLVMValueRef v = pop(j);
        LLVMValueRef p = mem_addr(j, mem, pop(j), off, w);
        if (k[op - 0x28].sign != 2)
            v = LLVMBuildTrunc(j->b, v, nt, "");
        LLVMValueRef st = LLVMBuildStore(j->b, v, p);
        LLVMSetAlignment(st, 1);
        if (j->guard)
            LLVMSetVolatile(st, 1);
        return;
    }
    LLVMValueRef p = mem_addr(j, mem, pop(j), off, w);
    LLVMValueRef v = LLVMBuildLoad2(j->b, k[op - 0x28].sign == 2 ? vty : nt, p, "");
    LLVMSetAlignment(v, 1);
    if (j->guard)
        LLVMSetVolatile(v, 1);
    if (k[op - 0x28].sign == 1)
        v = LLVMBuildSExt(j->b, v, vty, "");
    else if (k[op - 0x28].sign == 0)
        v = LLVMBuildZExt(j->b, v, vty, "");
    push(j, v);
}

/* ---- globals ------------------------------------------------------------------ */

_Static_assert(offsetof(eos_wasm_global, val_hi) == offsetof(eos_wasm_global, val) + 8,
               "a v128 global is two consecutive slots");

static LLVMValueRef global_ptr(jfn *j, uint32_t g)
{
    LLVMValueRef gs = load_fixed(j, j->t_ptr, at(j, j->inst, offsetof(eos_wasm_instance, globals)));
    LLVMValueRef go = load_fixed(j, j->t_ptr, at(j, gs, (uint64_t)g * sizeof(void *)));
    return at(j, go, offsetof(eos_wasm_global, val));
}

/* Slots hold i32 and f32 zero-extended (the interpreter relies on it). */
static LLVMValueRef to_slot(jfn *j, LLVMValueRef v, uint8_t t)
{
    switch (t) {
    case EOS_WASM_I32:
        return LLVMBuildZExt(j->b, v, j->t_i64, "");
    case EOS_WASM_F32:
        return LLVMBuildZExt(j->b, LLVMBuildBitCast(j->b, v, j->t_i32, ""), j->t_i64, "");
    case EOS_WASM_F64:
        return LLVMBuildBitCast(j->b, v, j->t_i64, "");
    default:
        return v;
    }
}

static LLVMValueRef from_slot(jfn *j, LLVMValueRef v, uint8_t t)
{
    switch (t) {
    case EOS_WASM_I32:
        return LLVMBuildTrunc(j->b, v, j->t_i32, "");
    case EOS_WASM_F32:
        return LLVMBuildBitCast(j->b, LLVMBuildTrunc(j->b, v, j->t_i32, ""), j->t_f32, "");
    case EOS_WASM_F64:
        return LLVMBuildBitCast(j->b, v, j->t_f64, "");
    default:
        return v;
    }
}

/* A value of type t to or from the slots at p: a v128 takes two, bytes 0..7
 * first (its <2 x i64> stored as is). */
static LLVMValueRef put_slot(jfn *j, LLVMValueRef v, uint8_t t, LLVMValueRef p)
{
    LLVMValueRef s = LLVMBuildStore(j->b, t == EOS_WASM_V128 ? v : to_slot(j, v, t), p);
    LLVMSetAlignment(s, 8);
    return s;
}

static LLVMValueRef get_slot(jfn *j, uint8_t t, LLVMValueRef p)
{
    if (t != EOS_WASM_V128)
        return from_slot(j, load(j, j->t_i64, p), t);
    LLVMValueRef v = load(j, j->t_v128, p);
    LLVMSetAlignment(v, 8);
    return v;
}

/* ---- functions and calls ---------------------------------------------------- */

static LLVMTypeRef fn_type(jfn *j, const eos_wasm_functype *ft)
{
    LLVMTypeRef small[16];
    uint32_t n = 2 + ft->param_count;
    LLVMTypeRef *ps = n <= 16 ? small : eos_malloc(n * sizeof(LLVMTypeRef));
    if (!ps) {
        j->oom = true;
        return LLVMFunctionType(j->t_void, NULL, 0, 0);
    }
    ps[0] = j->t_ptr;
    ps[1] = j->t_i32;
    for (uint32_t i = 0; i < ft->param_count; i++)
        ps[2 + i] = vt(j, ft->params[i]);
    LLVMTypeRef ret;
    if (ft->result_count == 0) {
        ret = j->t_void;
    } else if (ft->result_count == 1) {
        ret = vt(j, ft->results[0]);
    } else {
        LLVMTypeRef *rs = jalloc(j, ft->result_count * sizeof(LLVMTypeRef));
        for (uint32_t i = 0; i < ft->result_count && !j->oom; i++)
            rs[i] = vt(j, ft->results[i]);
        ret = LLVMStructTypeInContext(j->cx, rs, ft->result_count, 0);
    }
    LLVMTypeRef t = LLVMFunctionType(ret, ps, n, 0);
    if (ps != small)
        eos_free(ps, 0);
    return t;
}

/* The typed function of defined function index code, declared in this
 * module (defined here or in another chunk of the same module). */
static LLVMValueRef get_fn(jfn *j, uint32_t code)
{
    if (j->fns[code])
        return j->fns[code];
    char name[32];
    snprintf(name, sizeof(name), "f%u", code);
    const eos_wasm_functype *ft = &j->m->types[j->m->codes[code].type_index];
    LLVMValueRef f = LLVMAddFunction(j->mod, name, fn_type(j, ft));
    LLVMSetFunctionCallConv(f, LLVMFastCallConv);
    LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, j->a_nounwind);
    j->fns[code] = f;
    return f;
}

static void build_ret(jfn *j, LLVMValueRef *vals, uint32_t n)
{
    sync_out(j);
    if (n == 0) {
        LLVMBuildRetVoid(j->b);
        return;
    }
    if (n == 1) {
        LLVMBuildRet(j->b, vals[0]);
        return;
    }
    LLVMTypeRef rt = LLVMGetReturnType(LLVMGlobalGetValueType(j->fn));
    LLVMValueRef agg = LLVMGetUndef(rt);
    for (uint32_t i = 0; i < n; i++)
        agg = LLVMBuildInsertValue(j->b, agg, vals[i], i, "");
    LLVMBuildRet(j->b, agg);
}

static void set_dead(jfn *j)
{
    j->dead = true;
    j->dead_depth = 0;
    j->nvs = j->ctls[j->nctls - 1].height;
}

/* Pushes the results of a call returning r (type ft). */
static void push_results(jfn *j, LLVMValueRef r, const eos_wasm_functype *ft)
{
    if (ft->result_count == 1)
        push(j, r);
    else
        for (uint32_t i = 0; i < ft->result_count; i++)
            push(j, LLVMBuildExtractValue(j->b, r, i, ""));
}

static LLVMValueRef slots_for(jfn *j, uint32_t n)
{
    if (n > j->slots_max)
        j->slots_max = n;
    return j->slots;
}

/* A call of callee (an eos_wasm_func pointer known only at run time): its
 * compiled code directly when it has some, the runtime's general path (host
 * functions, interpreted instances) otherwise. */
static void call_dynamic(jfn *j, const eos_wasm_functype *ft, LLVMValueRef callee,
                         LLVMValueRef *args, bool tail)
{
    uint32_t np = ft->param_count, nr = ft->result_count;
    LLVMValueRef budget = tail ? j->budget : LLVMBuildSub(j->b, j->budget, c32(j, 1), "");
    LLVMValueRef fnp = load(j, j->t_ptr, at(j, callee, offsetof(eos_wasm_func, jit_fn)));
    sync_out(j);
    LLVMBasicBlockRef fast = new_bb(j, "fast"), slow = new_bb(j, "slow"), join = NULL;
    LLVMBuildCondBr(j->b, LLVMBuildIsNull(j->b, fnp, ""), slow, fast);

    LLVMPositionBuilderAtEnd(j->b, fast);
    args[0] = load(j, j->t_ptr, at(j, callee, offsetof(eos_wasm_func, inst)));
    args[1] = budget;
    LLVMTypeRef fty = fn_type(j, ft);
    LLVMValueRef r = LLVMBuildCall2(j->b, fty, fnp, args, 2 + np, "");
    LLVMSetInstructionCallConv(r, LLVMFastCallConv);
    LLVMValueRef *fast_vals = jalloc(j, (nr + 1) * sizeof(LLVMValueRef));
    LLVMValueRef *slow_vals = jalloc(j, (nr + 1) * sizeof(LLVMValueRef));
    if (tail) {
        LLVMSetTailCall(r, 1);
        if (nr == 0)
            LLVMBuildRetVoid(j->b);
        else
            LLVMBuildRet(j->b, r);
    } else {
        for (uint32_t i = 0; i < nr; i++)
            fast_vals[i] = nr == 1 ? r : LLVMBuildExtractValue(j->b, r, i, "");
        join = new_bb(j, "join");
        LLVMBuildBr(j->b, join);
    }
    LLVMBasicBlockRef fast_end = LLVMGetInsertBlock(j->b);

    LLVMPositionBuilderAtEnd(j->b, slow);
    uint32_t nps = eos_wasm__slots_of(ft->params, np), nrs = eos_wasm__slots_of(ft->results, nr);
    LLVMValueRef slots = slots_for(j, nps > nrs ? nps : nrs);
    for (uint32_t i = 0, k = 0; i < np; k += 1 + (ft->params[i] == EOS_WASM_V128), i++)
        put_slot(j, args[2 + i], ft->params[i], at(j, slots, (uint64_t)k * 8));
    LLVMValueRef hargs[4] = {j->inst, budget, callee, slots};
    call_rt(j, EOS_WASM__RT_CALL, hargs, 4);
    for (uint32_t i = 0, k = 0; i < nr; k += 1 + (ft->results[i] == EOS_WASM_V128), i++)
        slow_vals[i] = get_slot(j, ft->results[i], at(j, slots, (uint64_t)k * 8));
    if (tail) {
        /* The callee wrote the fuel back; return its results as ours. */
        if (nr == 0) {
            LLVMBuildRetVoid(j->b);
        } else if (nr == 1) {
            LLVMBuildRet(j->b, slow_vals[0]);
        } else {
            LLVMValueRef agg = LLVMGetUndef(LLVMGetReturnType(fty));
            for (uint32_t i = 0; i < nr; i++)
                agg = LLVMBuildInsertValue(j->b, agg, slow_vals[i], i, "");
            LLVMBuildRet(j->b, agg);
        }
        set_dead(j);
        return;
    }
    LLVMBuildBr(j->b, join);
    LLVMBasicBlockRef slow_end = LLVMGetInsertBlock(j->b);
    LLVMPositionBuilderAtEnd(j->b, join);
    for (uint32_t i = 0; i < nr; i++) {
        LLVMValueRef phi = LLVMBuildPhi(j->b, vt(j, ft->results[i]), "");
        LLVMValueRef vals[2] = {fast_vals[i], slow_vals[i]};
        LLVMBasicBlockRef bbs[2] = {fast_end, slow_end};
        LLVMAddIncoming(phi, vals, bbs, 2);
        push(j, phi);
    }
    sync_in(j);
}

static LLVMValueRef *pop_args(jfn *j, uint32_t np)
{
    LLVMValueRef *args = jalloc(j, (2 + np) * sizeof(LLVMValueRef));
    for (uint32_t i = np; i-- > 0;)
        args[2 + i] = pop(j);
    return args;
}

static void do_call(jfn *j, uint32_t fidx, bool tail)
{
    const eos_wasm_module *m = j->m;
    const eos_wasm_functype *ft = &m->types[m->func_types[fidx]];
    LLVMValueRef *args = pop_args(j, ft->param_count);
    if (fidx < m->func_import_count) {
        LLVMValueRef fs =
            load_fixed(j, j->t_ptr, at(j, j->inst, offsetof(eos_wasm_instance, funcs)));
        LLVMValueRef callee = load_fixed(j, j->t_ptr, at(j, fs, (uint64_t)fidx * sizeof(void *)));
        call_dynamic(j, ft, callee, args, tail);
        return;
    }
    uint32_t code = fidx - m->func_import_count;
    if (j->sel && !j->sel[code]) {
        /* Not compiled (partial compilation of a large module): its
         * eos_wasm_func has no native code, so the runtime's general path
         * enters the interpreter for it. */
        LLVMValueRef fs =
            load_fixed(j, j->t_ptr, at(j, j->inst, offsetof(eos_wasm_instance, own_funcs)));
        LLVMValueRef callee = at(j, fs, (uint64_t)code * sizeof(eos_wasm_func));
        call_dynamic(j, ft, callee, args, tail);
        return;
    }
    /* Defined here or in another chunk: the linker resolves "f<k>". */
    LLVMValueRef f = get_fn(j, code);
    LLVMTypeRef fty = LLVMGlobalGetValueType(f);
    args[0] = j->inst;
    args[1] = tail ? j->budget : LLVMBuildSub(j->b, j->budget, c32(j, 1), "");
    sync_out(j);
    LLVMValueRef r = LLVMBuildCall2(j->b, fty, f, args, 2 + ft->param_count, "");
    LLVMSetInstructionCallConv(r, LLVMFastCallConv);
    if (tail) {
        LLVMSetTailCall(r, 1);
        if (ft->result_count == 0)
            LLVMBuildRetVoid(j->b);
        else
            LLVMBuildRet(j->b, r);
        set_dead(j);
        return;
    }
    push_results(j, r, ft);
    sync_in(j);
}

static void do_call_indirect(jfn *j, uint32_t type, uint32_t table, bool tail)
{
    const eos_wasm_functype *ft = &j->m->types[type];
    /* Typed references in the signature: equal bytes may name different
     * types across modules and the helper has no modules to compare by. */
    for (uint32_t i = 0; i < ft->param_count + ft->result_count; i++)
        if ((i < ft->param_count ? ft->params[i] : ft->results[i - ft->param_count]) >=
            EOS_WASM__RT_FIRST) {
            j->declined = true;
            j->p = j->end;
            return;
        }
    LLVMValueRef idx = pop(j);
    LLVMValueRef *args = pop_args(j, ft->param_count);
    LLVMValueRef ts = load_fixed(j, j->t_ptr, at(j, j->inst, offsetof(eos_wasm_instance, tables)));
    LLVMValueRef t = load_fixed(j, j->t_ptr, at(j, ts, (uint64_t)table * sizeof(void *)));
    LLVMValueRef size = load(j, j->t_i64, at(j, t, offsetof(eos_wasm_table, size)));
    LLVMValueRef i64 = LLVMBuildZExt(j->b, idx, j->t_i64, "");
    trap_if(j, LLVMBuildICmp(j->b, LLVMIntUGE, i64, size, ""), EOS_WASM__JT_INDIRECT_OOB);
    LLVMValueRef elems = load(j, j->t_ptr, at(j, t, offsetof(eos_wasm_table, elems)));
    LLVMValueRef ep = LLVMBuildGEP2(j->b, j->t_ptr, elems, &i64, 1, "");
    LLVMValueRef callee = load(j, j->t_ptr, ep);
    trap_if(j, LLVMBuildIsNull(j->b, callee, ""), EOS_WASM__JT_UNINIT);
    LLVMValueRef ctype = load(j, j->t_ptr, at(j, callee, offsetof(eos_wasm_func, type)));
    /* The module's own type object: the callee's when it comes from this
     * module, and the fast path of the check. */
    LLVMValueRef mod = load_fixed(j, j->t_ptr, at(j, j->inst, offsetof(eos_wasm_instance, module)));
    LLVMValueRef types = load_fixed(j, j->t_ptr, at(j, mod, offsetof(eos_wasm_module, types)));
    LLVMValueRef want = at(j, types, (uint64_t)type * sizeof(eos_wasm_functype));
    LLVMBasicBlockRef check = new_bb(j, "sigcheck"), ok = new_bb(j, "sigok");
    LLVMBuildCondBr(j->b, LLVMBuildICmp(j->b, LLVMIntEQ, ctype, want, ""), ok, check);
    LLVMPositionBuilderAtEnd(j->b, check);
    LLVMValueRef sargs[2] = {ctype, want};
    LLVMValueRef same = call_rt(j, EOS_WASM__RT_SIG_EQ, sargs, 2);
    LLVMBuildCondBr(j->b, LLVMBuildICmp(j->b, LLVMIntNE, same, c32(j, 0), ""), ok,
                    trap_bb(j, EOS_WASM__JT_SIG));
    LLVMPositionBuilderAtEnd(j->b, ok);
    call_dynamic(j, ft, callee, args, tail);
}

/* Function references: call_ref and return_call_ref (call_indirect without
 * the table and the signature check, which validation made static),
 * ref.as_non_null, br_on_null and br_on_non_null. A reference is the i64
 * of an eos_wasm_func pointer, 0 for null. */
static LLVMBasicBlockRef branch_target(jfn *j, uint32_t depth);
static void funcref_op(jfn *j, uint8_t op)
{
    uint32_t imm = (op == 0x14 || op == 0x15 || op == 0xd5 || op == 0xd6) ? (uint32_t)uleb(j) : 0;
    if (j->dead)
        return;
    switch (op) {
    case 0x14:
    case 0x15: {
        const eos_wasm_functype *ft = &j->m->types[imm];
        LLVMValueRef r = pop(j);
        LLVMValueRef *args = pop_args(j, ft->param_count);
        trap_if(j, LLVMBuildICmp(j->b, LLVMIntEQ, r, c64(j, 0), ""), EOS_WASM__JT_NULL_FUNC);
        call_dynamic(j, ft, LLVMBuildIntToPtr(j->b, r, j->t_ptr, ""), args, op == 0x15);
        return;
    }
    case 0xd4:
        trap_if(j, LLVMBuildICmp(j->b, LLVMIntEQ, j->vs[j->nvs - 1], c64(j, 0), ""),
                EOS_WASM__JT_NULL_REF);
        return;
    case 0xd5: {
        LLVMValueRef r = pop(j);
        LLVMBasicBlockRef target = branch_target(j, imm), cont = new_bb(j, "cont");
        LLVMBuildCondBr(j->b, LLVMBuildICmp(j->b, LLVMIntEQ, r, c64(j, 0), ""), target, cont);
        LLVMPositionBuilderAtEnd(j->b, cont);
        push(j, r);
        return;
    }
    default: {
        LLVMValueRef r = j->vs[j->nvs - 1];
        LLVMBasicBlockRef target = branch_target(j, imm), cont = new_bb(j, "cont");
        LLVMBuildCondBr(j->b, LLVMBuildICmp(j->b, LLVMIntNE, r, c64(j, 0), ""), target, cont);
        LLVMPositionBuilderAtEnd(j->b, cont);
        pop(j);
        return;
    }
    }
}

/* ---- control --------------------------------------------------------------- */

static LLVMValueRef *make_phis(jfn *j, LLVMBasicBlockRef bb, const uint8_t *types, uint32_t n)
{
    LLVMValueRef *phis = jalloc(j, (n + 1) * sizeof(LLVMValueRef));
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(j->b);
    LLVMPositionBuilderAtEnd(j->b, bb);
    for (uint32_t i = 0; i < n && !j->oom; i++)
        phis[i] = LLVMBuildPhi(j->b, vt(j, types[i]), "");
    if (cur)
        LLVMPositionBuilderAtEnd(j->b, cur);
    return phis;
}

static jctl *push_ctl(jfn *j, uint8_t kind, const uint8_t *params, uint32_t np,
                      const uint8_t *results, uint32_t nr)
{
    if (j->nctls == j->cap_ctls) {
        uint32_t cap = j->cap_ctls ? j->cap_ctls * 2 : 16;
        jctl *n = eos_realloc(j->ctls, (size_t)j->cap_ctls * sizeof(*n), cap * sizeof(*n));
        if (!n) {
            j->oom = true;
            return NULL;
        }
        j->ctls = n;
        j->cap_ctls = cap;
    }
    jctl *c = &j->ctls[j->nctls++];
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->params = params;
    c->np = np;
    c->results = results;
    c->nr = nr;
    c->height = j->nvs - np;
    c->end_bb = new_bb(j, kind == K_FUNC ? "ret" : "end");
    c->end_phis = make_phis(j, c->end_bb, results, nr);
    return c;
}

/* Adds the branch's values (the top n of the stack) to the target's phis. */
static LLVMBasicBlockRef branch_target(jfn *j, uint32_t depth)
{
    jctl *c = &j->ctls[j->nctls - 1 - depth];
    LLVMBasicBlockRef from = LLVMGetInsertBlock(j->b);
    bool loop = c->kind == K_LOOP;
    uint32_t n = loop ? c->np : c->nr;
    LLVMValueRef *phis = loop ? c->loop_phis : c->end_phis;
    for (uint32_t i = 0; i < n; i++)
        LLVMAddIncoming(phis[i], &j->vs[j->nvs - n + i], &from, 1);
    if (!loop)
        c->end_preds++;
    return loop ? c->loop_bb : c->end_bb;
}

/* Falls through to the end of the innermost block (a loop's end included). */
static LLVMBasicBlockRef fallthrough(jfn *j)
{
    jctl *c = &j->ctls[j->nctls - 1];
    LLVMBasicBlockRef from = LLVMGetInsertBlock(j->b);
    for (uint32_t i = 0; i < c->nr; i++)
        LLVMAddIncoming(c->end_phis[i], &j->vs[j->nvs - c->nr + i], &from, 1);
    c->end_preds++;
    return c->end_bb;
}

static void read_blocktype(jfn *j, const uint8_t **params, uint32_t *np, const uint8_t **results,
                           uint32_t *nr)
{
    uint8_t b = *j->p;
    *np = *nr = 0;
    *params = *results = NULL;
    if (b == 0x40) {
        j->p++;
        return;
    }
    if (single_type[b]) {
        j->p++;
        *results = &single_type[b];
        *nr = 1;
        return;
    }
    if (b == 0x63 || b == 0x64) {
        /* A typed reference: one 64-bit value like funcref (validated). */
        j->p++;
        sleb(j);
        *results = &single_type[EOS_WASM_FUNCREF];
        *nr = 1;
        return;
    }
    const eos_wasm_functype *t = &j->m->types[sleb(j)];
    *params = t->params;
    *np = t->param_count;
    *results = t->results;
    *nr = t->result_count;
}

/* Charges units of fuel (a loop header, as the interpreter's FUEL op, or a
 * call). The counter holds one slice of the store's fuel; where it runs out,
 * a helper refills it and checks the deadline, as the interpreter does, so
 * the time budget costs compiled code nothing more than the fuel check. */
static void charge_fuel(jfn *j, uint64_t units)
{
    LLVMValueRef f = LLVMBuildSub(j->b, load(j, j->t_i64, j->fuel), c64(j, units), "");
    LLVMBuildStore(j->b, f, j->fuel);
    LLVMBasicBlockRef refill = new_bb(j, "refill"), ok = new_bb(j, "ok");
    LLVMBuildCondBr(j->b, LLVMBuildICmp(j->b, LLVMIntSLT, f, c64(j, 0), ""), refill, ok);
    LLVMPositionBuilderAtEnd(j->b, refill);
    sync_out(j);
    LLVMValueRef arg = j->inst;
    call_rt(j, EOS_WASM__RT_FUEL, &arg, 1);
    LLVMBuildStore(j->b, load(j, j->t_i64, store_field(j, offsetof(eos_wasm_store, fuel))),
                   j->fuel);
    LLVMBuildBr(j->b, ok);
    LLVMPositionBuilderAtEnd(j->b, ok);
}

static void do_block(jfn *j, uint8_t kind)
{
    const uint8_t *params, *results;
    uint32_t np, nr;
    read_blocktype(j, &params, &np, &results, &nr);
    if (j->dead) {
        j->dead_depth++;
        return;
    }
    LLVMValueRef cond = kind == K_IF ? pop(j) : NULL;
    jctl *c = push_ctl(j, kind, params, np, results, nr);
    if (!c)
        return;
    if (kind == K_LOOP) {
        c->loop_bb = new_bb(j, "loop");
        c->loop_phis = make_phis(j, c->loop_bb, params, np);
        LLVMBasicBlockRef from = LLVMGetInsertBlock(j->b);
        for (uint32_t i = 0; i < np; i++) {
            LLVMAddIncoming(c->loop_phis[i], &j->vs[c->height + i], &from, 1);
            j->vs[c->height + i] = c->loop_phis[i];
        }
        LLVMBuildBr(j->b, c->loop_bb);
        LLVMPositionBuilderAtEnd(j->b, c->loop_bb);
        charge_fuel(j, 1);
    } else if (kind == K_IF) {
        LLVMBasicBlockRef then = new_bb(j, "then");
        c->else_bb = new_bb(j, "else");
        c->if_params = jalloc(j, (np + 1) * sizeof(LLVMValueRef));
        for (uint32_t i = 0; i < np && !j->oom; i++)
            c->if_params[i] = j->vs[c->height + i];
        LLVMBuildCondBr(j->b, LLVMBuildICmp(j->b, LLVMIntNE, cond, c32(j, 0), ""), then,
                        c->else_bb);
        LLVMPositionBuilderAtEnd(j->b, then);
    }
}

static void do_else(jfn *j)
{
    if (j->dead && j->dead_depth > 0)
        return;
    jctl *c = &j->ctls[j->nctls - 1];
    if (!j->dead)
        LLVMBuildBr(j->b, fallthrough(j));
    LLVMPositionBuilderAtEnd(j->b, c->else_bb);
    c->else_bb = NULL;
    c->kind = K_ELSE;
    j->nvs = c->height;
    for (uint32_t i = 0; i < c->np; i++)
        push(j, c->if_params[i]);
    j->dead = false;
}

/* Returns true at the function's end. */
static bool do_end(jfn *j)
{
    if (j->dead && j->dead_depth > 0) {
        j->dead_depth--;
        return false;
    }
    jctl *c = &j->ctls[j->nctls - 1];
    if (!j->dead)
        LLVMBuildBr(j->b, fallthrough(j));
    if (c->kind == K_IF) {
        /* No else: the false path passes the params through as results. */
        LLVMPositionBuilderAtEnd(j->b, c->else_bb);
        j->nvs = c->height;
        for (uint32_t i = 0; i < c->np; i++)
            push(j, c->if_params[i]);
        LLVMBuildBr(j->b, fallthrough(j));
    }
    j->nvs = c->height;
    j->nctls--;
    if (c->end_preds == 0) {
        LLVMDeleteBasicBlock(c->end_bb);
        j->dead = true;
        j->dead_depth = 0;
        return c->kind == K_FUNC;
    }
    LLVMPositionBuilderAtEnd(j->b, c->end_bb);
    j->dead = false;
    if (c->kind == K_FUNC) {
        build_ret(j, c->end_phis, c->nr);
        return true;
    }
    for (uint32_t i = 0; i < c->nr; i++)
        push(j, c->end_phis[i]);
    return false;
}

static void do_br_table(jfn *j)
{
    uint32_t n = (uint32_t)uleb(j);
    uint32_t *labels = jalloc(j, ((size_t)n + 1) * sizeof(uint32_t));
    for (uint32_t i = 0; i <= n && !j->oom; i++)
        labels[i] = (uint32_t)uleb(j);
    if (j->dead || j->oom)
        return;
    LLVMValueRef idx = pop(j);
    LLVMValueRef sw = LLVMBuildSwitch(j->b, idx, branch_target(j, labels[n]), n);
    for (uint32_t i = 0; i < n; i++)
        LLVMAddCase(sw, c32(j, i), branch_target(j, labels[i]));
    set_dead(j);
}

/* ---- the function ------------------------------------------------------------ */

static void prologue(jfn *j, const eos_wasm__code *c, const eos_wasm_functype *ft)
{
    LLVMBasicBlockRef entry = new_bb(j, "entry");
    LLVMPositionBuilderAtEnd(j->b, entry);
    j->inst = LLVMGetParam(j->fn, 0);
    j->budget = LLVMGetParam(j->fn, 1);
    j->store = load_fixed(j, j->t_ptr, at(j, j->inst, offsetof(eos_wasm_instance, store)));
    j->fuel = LLVMBuildAlloca(j->b, j->t_i64, "fuel");
    j->mbase = LLVMBuildAlloca(j->b, j->t_ptr, "mbase");
    j->msize = LLVMBuildAlloca(j->b, j->t_i64, "msize");
    j->slots = LLVMBuildArrayAlloca(j->b, j->t_i64, c32(j, 1), "slots");
    j->slots_max = 1;
    j->locals = jalloc(j, ((size_t)c->local_count + 1) * sizeof(LLVMValueRef));
    j->ltypes = jalloc(j, (size_t)c->local_count + 1);
    if (j->oom)
        return;
    /* Local types: the params, then the body's declarations. */
    memcpy(j->ltypes, ft->params, ft->param_count);
    uint32_t groups = (uint32_t)uleb(j), at_ = ft->param_count;
    for (uint32_t g = 0; g < groups; g++) {
        uint32_t n = (uint32_t)uleb(j);
        uint8_t t = *j->p++;
        if (t == 0x63 || t == 0x64) {
            sleb(j);
            t = EOS_WASM_FUNCREF;
        }
        memset(j->ltypes + at_, t, n);
        at_ += n;
    }
    for (uint32_t i = 0; i < c->local_count; i++)
        j->locals[i] = LLVMBuildAlloca(j->b, vt(j, j->ltypes[i]), "");
    LLVMBuildStore(j->b, load(j, j->t_i64, store_field(j, offsetof(eos_wasm_store, fuel))),
                   j->fuel);
    /* The interpreter's order: the stack check, then the call's fuel. */
    trap_if(j, LLVMBuildICmp(j->b, LLVMIntEQ, j->budget, c32(j, 0), ""), EOS_WASM__JT_STACK);
    LLVMTypeRef pt = j->t_ptr;
    LLVMValueRef fa =
        LLVMGetIntrinsicDeclaration(j->mod, LLVMLookupIntrinsicID("llvm.frameaddress", 17), &pt, 1);
    LLVMValueRef zero = c32(j, 0);
    LLVMValueRef frame = LLVMBuildCall2(
        j->b, LLVMIntrinsicGetType(j->cx, LLVMLookupIntrinsicID("llvm.frameaddress", 17), &pt, 1),
        fa, &zero, 1, "");
    LLVMValueRef limit =
        load(j, j->t_i64, store_field(j, offsetof(eos_wasm_store, jit_stack_limit)));
    trap_if(
        j, LLVMBuildICmp(j->b, LLVMIntULT, LLVMBuildPtrToInt(j->b, frame, j->t_i64, ""), limit, ""),
        EOS_WASM__JT_STACK);
    charge_fuel(j, 1 + (c->local_count >> 6));
    for (uint32_t i = 0; i < c->local_count; i++) {
        LLVMValueRef v =
            i < ft->param_count ? LLVMGetParam(j->fn, 2 + i) : LLVMConstNull(vt(j, j->ltypes[i]));
        LLVMBuildStore(j->b, v, j->locals[i]);
    }
    reload_mem(j);
}

static void do_select(jfn *j)
{
    LLVMValueRef c = pop(j), b = pop(j), a = pop(j);
    push(j, LLVMBuildSelect(j->b, LLVMBuildICmp(j->b, LLVMIntNE, c, c32(j, 0), ""), a, b, ""));
}

static void translate_op(jfn *j, uint8_t op, bool *done);

static bool is_unary(uint8_t op)
{
    return op == 0x45 || op == 0x50 || (op >= 0x67 && op <= 0x69) || (op >= 0x79 && op <= 0x7b) ||
           (op >= 0x8b && op <= 0x91) || (op >= 0x99 && op <= 0x9f) || op >= 0xa7;
}

/* Translates defined function code (index into m->codes) into j->mod. */
static int translate_fn(jfn *j, uint32_t code)
{
    const eos_wasm_module *m = j->m;
    const eos_wasm__code *c = &m->codes[code];
    const eos_wasm_functype *ft = &m->types[c->type_index];
    /* 64-bit and custom-page memories, 64-bit tables: explicit bounds
     * checks only (their memories are never guarded). */
    if (m->uses_mem64 && j->guard) {
        j->declined = true;
        return EOS_EUNSUPPORTED;
    }
    j->fn = get_fn(j, code);
    if (m->uses_eh) {
        /* Exception handling is not translated: the module stays interpreted. */
        j->declined = true;
        return EOS_EUNSUPPORTED;
    }
    j->p = m->bytes + c->body_off;
    j->end = j->p + c->body_size;
    j->nvs = j->nctls = 0;
    j->dead = false;
    memset(j->traps, 0, sizeof(j->traps));
    prologue(j, c, ft);
    push_ctl(j, K_FUNC, NULL, 0, ft->results, ft->result_count);
    bool done = false;
    while (!done && !j->oom && j->p < j->end)
        translate_op(j, *j->p++, &done);
    if (!j->oom && !j->declined)
        LLVMSetOperand(j->slots, 0, c32(j, j->slots_max));
    arena_free(j);
    return j->oom ? EOS_ENOMEM : j->declined ? EOS_EUNSUPPORTED : 0;
}

/* Builds the slots entry of function code: void (inst, budget, slots). */
static void entry_fn(jfn *j, uint32_t code, const char *name)
{
    const eos_wasm_functype *ft = &j->m->types[j->m->codes[code].type_index];
    LLVMTypeRef ps[3] = {j->t_ptr, j->t_i32, j->t_ptr};
    LLVMValueRef e = LLVMAddFunction(j->mod, name, LLVMFunctionType(j->t_void, ps, 3, 0));
    LLVMValueRef f = get_fn(j, code);
    LLVMPositionBuilderAtEnd(j->b, LLVMAppendBasicBlockInContext(j->cx, e, "entry"));
    LLVMValueRef slots = LLVMGetParam(e, 2);
    LLVMValueRef *args = eos_malloc((2 + (size_t)ft->param_count) * sizeof(LLVMValueRef));
    if (!args) {
        j->oom = true;
        LLVMBuildRetVoid(j->b);
        return;
    }
    args[0] = LLVMGetParam(e, 0);
    args[1] = LLVMGetParam(e, 1);
    for (uint32_t i = 0, k = 0; i < ft->param_count; k += 1 + (ft->params[i] == EOS_WASM_V128), i++)
        args[2 + i] = get_slot(j, ft->params[i], at(j, slots, (uint64_t)k * 8));
    LLVMValueRef r =
        LLVMBuildCall2(j->b, LLVMGlobalGetValueType(f), f, args, 2 + ft->param_count, "");
    LLVMSetInstructionCallConv(r, LLVMFastCallConv);
    eos_free(args, 0);
    for (uint32_t i = 0, k = 0; i < ft->result_count; k += 1 + (ft->results[i] == EOS_WASM_V128), i++) {
        LLVMValueRef v = ft->result_count == 1 ? r : LLVMBuildExtractValue(j->b, r, i, "");
        put_slot(j, v, ft->results[i], at(j, slots, (uint64_t)k * 8));
    }
    LLVMBuildRetVoid(j->b);
}

/* The table and bulk instructions after 0xfc 8..17 go to the runtime. */
static void prefixed(jfn *j)
{
    uint32_t sub = (uint32_t)uleb(j);
    if (sub >= 19 && sub <= 22) {
        wide(j, sub);
        return;
    }
    if (sub <= 7) {
        if (!j->dead)
            push(j, numeric(j, 0xfc00 | sub, pop(j), NULL));
        return;
    }
    uint32_t a = 0, b = 0;
    switch (sub) {
    case 8:  /* memory.init seg mem */
    case 12: /* table.init seg table */
    case 10: /* memory.copy dst src */
    case 14: /* table.copy dst src */
        a = (uint32_t)uleb(j);
        b = (uint32_t)uleb(j);
        break;
    default:
        a = (uint32_t)uleb(j);
        break;
    }
    if (j->dead)
        return;
    LLVMValueRef args[6];
    args[0] = j->inst;
    sync_out(j);
    switch (sub) {
    case 8:
    case 12:
    case 10:
    case 14: {
        LLVMValueRef n = pop(j), s = pop(j), d = pop(j);
        int h = sub == 8    ? EOS_WASM__RT_MEMORY_INIT
                : sub == 12 ? EOS_WASM__RT_TABLE_INIT
                : sub == 10 ? EOS_WASM__RT_MEMORY_COPY
                            : EOS_WASM__RT_TABLE_COPY;
        /* init: (mem or table, seg); copy: (dst, src) */
        if (sub == 8 || sub == 12) {
            args[1] = c32(j, b);
            args[2] = c32(j, a);
        } else {
            args[1] = c32(j, a);
            args[2] = c32(j, b);
        }
        args[3] = d;
        args[4] = s;
        args[5] = n;
        call_rt(j, h, args, 6);
        break;
    }
    case 9:
    case 13:
        args[1] = c32(j, a);
        call_rt(j, sub == 9 ? EOS_WASM__RT_DATA_DROP : EOS_WASM__RT_ELEM_DROP, args, 2);
        break;
    case 11: { /* memory.fill mem: d v n */
        LLVMValueRef n = pop(j), v = pop(j), d = pop(j);
        args[1] = c32(j, a);
        args[2] = d;
        args[3] = v;
        args[4] = n;
        call_rt(j, EOS_WASM__RT_MEMORY_FILL, args, 5);
        break;
    }
    case 15: { /* table.grow: init n */
        LLVMValueRef n = pop(j), v = pop(j);
        args[1] = c32(j, a);
        args[2] = v;
        args[3] = n;
        push(j, call_rt(j, EOS_WASM__RT_TABLE_GROW, args, 4));
        break;
    }
    case 16:
        args[1] = c32(j, a);
        push(j, call_rt(j, EOS_WASM__RT_TABLE_SIZE, args, 2));
        break;
    default: { /* 17 table.fill: i v n */
        LLVMValueRef n = pop(j), v = pop(j), i = pop(j);
        args[1] = c32(j, a);
        args[2] = i;
        args[3] = v;
        args[4] = n;
        call_rt(j, EOS_WASM__RT_TABLE_FILL, args, 5);
        break;
    }
    }
    sync_in(j);
}

/* ---- memory64, table64, custom page sizes ------------------------------------ */

/* Calls the runtime's operation sub (exec_mem64.c) with immediates a, b on
 * the top n operands; returns its i64 result. */
static LLVMValueRef mem64_rt(jfn *j, uint32_t sub, uint32_t a, uint32_t b, unsigned n)
{
    LLVMValueRef args[7] = {j->inst,   c32(j, sub), c32(j, a), c32(j, b),
                            c64(j, 0), c64(j, 0),   c64(j, 0)};
    for (unsigned i = n; i-- > 0;)
        args[4 + i] = LLVMBuildZExt(j->b, pop(j), j->t_i64, "");
    sync_out(j);
    LLVMValueRef r = call_rt(j, EOS_WASM__RT_MEM64, args, 7);
    sync_in(j);
    return r;
}

static void push_at(jfn *j, LLVMValueRef v, bool is64)
{
    push(j, is64 ? v : LLVMBuildTrunc(j->b, v, j->t_i32, ""));
}

/* The instructions of a uses_mem64 module whose addresses may be i64, or
 * whose pages may be bytes, go to the runtime; loads and stores are inline
 * (mem_addr). False, with nothing read, for the others. */
static bool mem64_op(jfn *j, uint8_t op)
{
    const eos_wasm_module *m = j->m;
    const uint8_t *start = j->p;
    uint32_t sub, a, b = 0;
    switch (op) {
    case 0x25:
    case 0x26:
        a = (uint32_t)uleb(j);
        if (!m->tables[a].limits.is64) {
            j->p = start;
            return false;
        }
        if (!j->dead && op == 0x25)
            push(j, mem64_rt(j, EOS_WASM__X64_TABLE_GET, a, 0, 1));
        else if (!j->dead)
            mem64_rt(j, EOS_WASM__X64_TABLE_SET, a, 0, 2);
        return true;
    case 0x3f:
    case 0x40:
        a = (uint32_t)uleb(j);
        if (!j->dead)
            push_at(j,
                    mem64_rt(j, op == 0x3f ? EOS_WASM__X64_MEMORY_SIZE : EOS_WASM__X64_MEMORY_GROW,
                             a, 0, op == 0x40),
                    m->memories[a].limits.is64);
        return true;
    case 0xfc:
        break;
    default:
        return false;
    }
    sub = (uint32_t)uleb(j);
    if (sub < 8 || sub == 9 || sub == 13 || sub > 17) {
        j->p = start;
        return false;
    }
    a = (uint32_t)uleb(j);
    if (sub == 8 || sub == 10 || sub == 12 || sub == 14)
        b = (uint32_t)uleb(j);
    if (j->dead)
        return true;
    switch (sub) {
    case 8:
        mem64_rt(j, EOS_WASM__X64_MEMORY_INIT, a, b, 3);
        break;
    case 10:
        mem64_rt(j, EOS_WASM__X64_MEMORY_COPY, a, b, 3);
        break;
    case 11:
        mem64_rt(j, EOS_WASM__X64_MEMORY_FILL, a, 0, 3);
        break;
    case 12:
        mem64_rt(j, EOS_WASM__X64_TABLE_INIT, a, b, 3);
        break;
    case 14:
        mem64_rt(j, EOS_WASM__X64_TABLE_COPY, a, b, 3);
        break;
    case 15:
        push_at(j, mem64_rt(j, EOS_WASM__X64_TABLE_GROW, a, 0, 2), m->tables[a].limits.is64);
        break;
    case 16:
        push_at(j, mem64_rt(j, EOS_WASM__X64_TABLE_SIZE, a, 0, 0), m->tables[a].limits.is64);
        break;
    default:
        mem64_rt(j, EOS_WASM__X64_TABLE_FILL, a, 0, 3);
        break;
    }
    return true;
}

static void translate_op(jfn *j, uint8_t op, bool *done)
{
    LLVMValueRef args[4];
    if (j->m->uses_mem64 && mem64_op(j, op))
        return;
    switch (op) {
    case 0x00:
        if (!j->dead) {
            LLVMBuildBr(j->b, trap_bb(j, EOS_WASM__JT_UNREACHABLE));
            set_dead(j);
        }
        return;
    case 0x01:
        return;
    case 0x02:
        do_block(j, K_BLOCK);
        return;
    case 0x03:
        do_block(j, K_LOOP);
        return;
    case 0x04:
        do_block(j, K_IF);
        return;
    case 0x05:
        do_else(j);
        return;
    case 0x0b:
        *done = do_end(j);
        return;
    case 0x0c:
    case 0x0d: {
        uint32_t l = (uint32_t)uleb(j);
        if (j->dead)
            return;
        if (op == 0x0c) {
            LLVMBuildBr(j->b, branch_target(j, l));
            set_dead(j);
            return;
        }
        LLVMValueRef cnd = pop(j);
        LLVMBasicBlockRef target = branch_target(j, l), cont = new_bb(j, "cont");
        LLVMBuildCondBr(j->b, LLVMBuildICmp(j->b, LLVMIntNE, cnd, c32(j, 0), ""), target, cont);
        LLVMPositionBuilderAtEnd(j->b, cont);
        return;
    }
    case 0x0e:
        do_br_table(j);
        return;
    case 0x0f:
        if (!j->dead) {
            LLVMBuildBr(j->b, branch_target(j, j->nctls - 1));
            set_dead(j);
        }
        return;
    case 0x10:
    case 0x12: {
        uint32_t f = (uint32_t)uleb(j);
        if (!j->dead)
            do_call(j, f, op == 0x12);
        return;
    }
    case 0x11:
    case 0x13: {
        uint32_t y = (uint32_t)uleb(j), t = (uint32_t)uleb(j);
        if (!j->dead)
            do_call_indirect(j, y, t, op == 0x13);
        return;
    }
    case 0x1a:
        if (!j->dead)
            pop(j);
        return;
    case 0x1b:
        if (!j->dead)
            do_select(j);
        return;
    case 0x1c: {
        uint32_t n = (uint32_t)uleb(j);
        for (uint32_t i = 0; i < n; i++) {
            uint8_t t = *j->p++;
            if (t == 0x63 || t == 0x64)
                sleb(j); /* a typed reference's heap type */
        }
        if (!j->dead)
            do_select(j);
        return;
    }
    case 0x20:
    case 0x21:
    case 0x22: {
        uint32_t l = (uint32_t)uleb(j);
        if (j->dead)
            return;
        if (op == 0x20) {
            push(j, load(j, vt(j, j->ltypes[l]), j->locals[l]));
        } else {
            LLVMValueRef v = op == 0x21 ? pop(j) : j->vs[j->nvs - 1];
            LLVMBuildStore(j->b, v, j->locals[l]);
        }
        return;
    }
    case 0x23:
    case 0x24: {
        uint32_t g = (uint32_t)uleb(j);
        if (j->dead)
            return;
        uint8_t t = j->m->globals[g].type.valtype;
        LLVMValueRef p = global_ptr(j, g);
        /* A v128 global: val then val_hi, the two-slot layout. */
        if (op == 0x23) {
            push(j, get_slot(j, t, p));
        } else {
            /* Stays before a later faulting access and after an earlier
             * one (LLVM may move plain stores across volatile accesses). */
            LLVMValueRef st = put_slot(j, pop(j), t, p);
            if (j->guard)
                LLVMSetVolatile(st, 1);
        }
        return;
    }
    case 0x25:
    case 0x26: {
        uint32_t t = (uint32_t)uleb(j);
        if (j->dead)
            return;
        sync_out(j);
        args[0] = j->inst;
        args[1] = c32(j, t);
        if (op == 0x25) {
            args[2] = pop(j);
            push(j, call_rt(j, EOS_WASM__RT_TABLE_GET, args, 3));
        } else {
            args[3] = pop(j);
            args[2] = pop(j);
            call_rt(j, EOS_WASM__RT_TABLE_SET, args, 4);
        }
        return;
    }
    case 0x3f:
    case 0x40: {
        uint32_t mem = (uint32_t)uleb(j);
        if (j->dead)
            return;
        sync_out(j);
        args[0] = j->inst;
        args[1] = c32(j, mem);
        if (op == 0x3f) {
            push(j, call_rt(j, EOS_WASM__RT_MEMORY_SIZE, args, 2));
        } else {
            args[2] = pop(j);
            push(j, call_rt(j, EOS_WASM__RT_MEMORY_GROW, args, 3));
            reload_mem(j);
        }
        return;
    }
    case 0x41: {
        int64_t v = sleb(j);
        if (!j->dead)
            push(j, c32(j, (uint32_t)v));
        return;
    }
    case 0x42: {
        int64_t v = sleb(j);
        if (!j->dead)
            push(j, c64(j, (uint64_t)v));
        return;
    }
    case 0x43: {
        uint32_t bits;
        memcpy(&bits, j->p, 4);
        j->p += 4;
        if (!j->dead)
            push(j, LLVMConstBitCast(c32(j, bits), j->t_f32));
        return;
    }
    case 0x44: {
        uint64_t bits;
        memcpy(&bits, j->p, 8);
        j->p += 8;
        if (!j->dead)
            push(j, LLVMConstBitCast(c64(j, bits), j->t_f64));
        return;
    }
    case 0xd0:
        sleb(j); /* the heap type */
        if (!j->dead)
            push(j, c64(j, 0));
        return;
    case 0x14:
    case 0x15:
    case 0xd4:
    case 0xd5:
    case 0xd6:
        funcref_op(j, op);
        return;
    case 0xd1:
        if (!j->dead)
            push(j, LLVMBuildZExt(j->b, LLVMBuildICmp(j->b, LLVMIntEQ, pop(j), c64(j, 0), ""),
                                  j->t_i32, ""));
        return;
    case 0xd2: {
        uint32_t f = (uint32_t)uleb(j);
        if (j->dead)
            return;
        LLVMValueRef fs =
            load_fixed(j, j->t_ptr, at(j, j->inst, offsetof(eos_wasm_instance, funcs)));
        push(j, LLVMBuildPtrToInt(j->b,
                                  load_fixed(j, j->t_ptr, at(j, fs, (uint64_t)f * sizeof(void *))),
                                  j->t_i64, ""));
        return;
    }
    case 0xfc:
        prefixed(j);
        return;
    case 0xfd:
        simd(j);
        return;
    case 0xfe:
        atomic(j);
        return;
    default:
        break;
    }
    if (op >= 0x28 && op <= 0x3e) {
        memop(j, op);
        return;
    }
    /* Numeric: 0x45..0xc4, no immediates. */
    if (j->dead)
        return;
    if (is_unary(op)) {
        push(j, numeric(j, op, pop(j), NULL));
    } else {
        LLVMValueRef b = pop(j), a = pop(j);
        push(j, numeric(j, op, a, b));
    }
}

/* ---- numeric instructions ------------------------------------------------------ */

static LLVMValueRef intrinsic(jfn *j, const char *name, LLVMTypeRef *tys, unsigned ntys,
                              LLVMValueRef *args, unsigned nargs)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(j->mod, id, tys, ntys);
    return LLVMBuildCall2(j->b, LLVMIntrinsicGetType(j->cx, id, tys, ntys), f, args, nargs, "");
}

static LLVMValueRef intr1(jfn *j, const char *name, LLVMValueRef a)
{
    LLVMTypeRef t = LLVMTypeOf(a);
    return intrinsic(j, name, &t, 1, &a, 1);
}

static LLVMValueRef cmp_i(jfn *j, LLVMIntPredicate p, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildZExt(j->b, LLVMBuildICmp(j->b, p, a, b, ""), j->t_i32, "");
}

static LLVMValueRef cmp_f(jfn *j, LLVMRealPredicate p, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildZExt(j->b, LLVMBuildFCmp(j->b, p, a, b, ""), j->t_i32, "");
}

static LLVMValueRef is_nan(jfn *j, LLVMValueRef a)
{
    return LLVMBuildFCmp(j->b, LLVMRealUNO, a, a, "");
}

/* Rounding as the interpreter does it: a NaN is quieted by adding it to
 * itself, anything else goes to the rounding function. */
static LLVMValueRef rounding(jfn *j, const char *name, LLVMValueRef a)
{
    return LLVMBuildSelect(j->b, is_nan(j, a), LLVMBuildFAdd(j->b, a, a, ""), intr1(j, name, a),
                           "");
}

/* min/max: NaN-propagating (a + b), and -0 ordered below +0. */
static LLVMValueRef minmax(jfn *j, LLVMValueRef a, LLVMValueRef b, bool max)
{
    LLVMTypeRef t = LLVMTypeOf(a);
    LLVMTypeRef it = t == j->t_f32 ? j->t_i32 : j->t_i64;
    LLVMValueRef nan = LLVMBuildOr(j->b, is_nan(j, a), is_nan(j, b), "");
    LLVMValueRef zero = LLVMConstNull(t);
    LLVMValueRef both0 = LLVMBuildAnd(j->b, LLVMBuildFCmp(j->b, LLVMRealOEQ, a, zero, ""),
                                      LLVMBuildFCmp(j->b, LLVMRealOEQ, b, zero, ""), "");
    LLVMValueRef aneg =
        LLVMBuildICmp(j->b, LLVMIntSLT, LLVMBuildBitCast(j->b, a, it, ""), LLVMConstNull(it), "");
    LLVMValueRef zsel =
        max ? LLVMBuildSelect(j->b, aneg, b, a, "") : LLVMBuildSelect(j->b, aneg, a, b, "");
    LLVMValueRef pick = LLVMBuildFCmp(j->b, max ? LLVMRealOGT : LLVMRealOLT, a, b, "");
    LLVMValueRef ord = LLVMBuildSelect(j->b, pick, a, b, "");
    LLVMValueRef r = LLVMBuildSelect(j->b, both0, zsel, ord, "");
    return LLVMBuildSelect(j->b, nan, LLVMBuildFAdd(j->b, a, b, ""), r, "");
}

/* Bit operations on floats go through integers, as in the interpreter. */
static LLVMValueRef fbits(jfn *j, LLVMValueRef a, LLVMValueRef b, uint64_t keep, bool xor_)
{
    LLVMTypeRef t = LLVMTypeOf(a);
    LLVMTypeRef it = t == j->t_f32 ? j->t_i32 : j->t_i64;
    LLVMValueRef ai = LLVMBuildBitCast(j->b, a, it, "");
    LLVMValueRef sign = LLVMConstInt(it, ~keep, 0);
    LLVMValueRef r;
    if (b) { /* copysign */
        LLVMValueRef bi = LLVMBuildBitCast(j->b, b, it, "");
        r = LLVMBuildOr(j->b, LLVMBuildAnd(j->b, ai, LLVMConstInt(it, keep, 0), ""),
                        LLVMBuildAnd(j->b, bi, sign, ""), "");
    } else if (xor_) {
        r = LLVMBuildXor(j->b, ai, sign, "");
    } else {
        r = LLVMBuildAnd(j->b, ai, LLVMConstInt(it, keep, 0), "");
    }
    return LLVMBuildBitCast(j->b, r, t, "");
}

static LLVMValueRef fconst(LLVMTypeRef t, double v)
{
    return LLVMConstReal(t, v);
}

/* Trapping float-to-int: NaN is an invalid conversion, out of (lo, hi) an
 * overflow; lo_incl says whether lo itself is in range. */
static LLVMValueRef trunc_trap(jfn *j, LLVMValueRef a, double lo, bool lo_incl, double hi,
                               LLVMTypeRef rt, bool sign)
{
    LLVMTypeRef t = LLVMTypeOf(a);
    trap_if(j, is_nan(j, a), EOS_WASM__JT_CONVERSION);
    LLVMValueRef lo_ok =
        LLVMBuildFCmp(j->b, lo_incl ? LLVMRealOGE : LLVMRealOGT, a, fconst(t, lo), "");
    LLVMValueRef hi_ok = LLVMBuildFCmp(j->b, LLVMRealOLT, a, fconst(t, hi), "");
    trap_if(j, LLVMBuildNot(j->b, LLVMBuildAnd(j->b, lo_ok, hi_ok, ""), ""), EOS_WASM__JT_INT_OVERFLOW);
    return sign ? LLVMBuildFPToSI(j->b, a, rt, "") : LLVMBuildFPToUI(j->b, a, rt, "");
}

static LLVMValueRef trunc_sat(jfn *j, LLVMValueRef a, LLVMTypeRef rt, bool sign)
{
    LLVMTypeRef tys[2] = {rt, LLVMTypeOf(a)};
    return intrinsic(j, sign ? "llvm.fptosi.sat" : "llvm.fptoui.sat", tys, 2, &a, 1);
}

static LLVMValueRef divrem(jfn *j, uint32_t op, LLVMValueRef a, LLVMValueRef b)
{
    LLVMTypeRef t = LLVMTypeOf(a);
    bool is64 = t == j->t_i64;
    unsigned k = is64 ? op - 0x7f : op - 0x6d; /* div_s div_u rem_s rem_u */
    trap_if(j, LLVMBuildICmp(j->b, LLVMIntEQ, b, LLVMConstNull(t), ""), EOS_WASM__JT_DIV_ZERO);
    LLVMValueRef minus1 = LLVMConstAllOnes(t);
    switch (k) {
    case 0: {
        LLVMValueRef min = LLVMConstInt(t, is64 ? (1ull << 63) : (1ull << 31), 0);
        trap_if(j,
                LLVMBuildAnd(j->b, LLVMBuildICmp(j->b, LLVMIntEQ, a, min, ""),
                             LLVMBuildICmp(j->b, LLVMIntEQ, b, minus1, ""), ""),
                EOS_WASM__JT_INT_OVERFLOW);
        return LLVMBuildSDiv(j->b, a, b, "");
    }
    case 1:
        return LLVMBuildUDiv(j->b, a, b, "");
    case 2: {
        /* x rem -1 is 0; dividing by 1 instead avoids the INT_MIN overflow. */
        LLVMValueRef d = LLVMBuildSelect(j->b, LLVMBuildICmp(j->b, LLVMIntEQ, b, minus1, ""),
                                         LLVMConstInt(t, 1, 0), b, "");
        return LLVMBuildSRem(j->b, a, d, "");
    }
    default:
        return LLVMBuildURem(j->b, a, b, "");
    }
}

static LLVMValueRef shift(jfn *j, LLVMOpcode opc, LLVMValueRef a, LLVMValueRef b)
{
    LLVMTypeRef t = LLVMTypeOf(a);
    LLVMValueRef m = LLVMBuildAnd(j->b, b, LLVMConstInt(t, t == j->t_i64 ? 63 : 31, 0), "");
    return LLVMBuildBinOp(j->b, opc, a, m, "");
}

static LLVMValueRef rotate(jfn *j, bool left, LLVMValueRef a, LLVMValueRef b)
{
    LLVMTypeRef t = LLVMTypeOf(a);
    LLVMValueRef args[3] = {a, a, b};
    return intrinsic(j, left ? "llvm.fshl" : "llvm.fshr", &t, 1, args, 3);
}

static LLVMValueRef bitcount(jfn *j, const char *name, LLVMValueRef a)
{
    LLVMTypeRef t = LLVMTypeOf(a);
    LLVMValueRef args[2] = {a, LLVMConstInt(j->t_i1, 0, 0)};
    return intrinsic(j, name, &t, 1, args, 2);
}

static LLVMValueRef sext_from(jfn *j, LLVMValueRef a, unsigned bits)
{
    LLVMTypeRef t = LLVMTypeOf(a);
    return LLVMBuildSExt(j->b, LLVMBuildTrunc(j->b, a, LLVMIntTypeInContext(j->cx, bits), ""), t,
                         "");
}

/* LLVM folds x * 1.0, x + -0.0 and the like to x (or to a negation), which
 * would let a signalling NaN through unquieted where the hardware (and so
 * the interpreter) quiets it. Such constants go through an empty asm, which
 * LLVM cannot see through. */
static LLVMValueRef opaque(jfn *j, LLVMValueRef v)
{
    LLVMTypeRef ft = LLVMTypeOf(v), it = ft == j->t_f32 ? j->t_i32 : j->t_i64;
    LLVMTypeRef aty = LLVMFunctionType(it, &it, 1, 0);
    LLVMValueRef as =
        LLVMGetInlineAsm(aty, (char *)"", 0, (char *)"=r,0", 4, 0, 0, LLVMInlineAsmDialectATT, 0);
    LLVMValueRef bits = LLVMBuildBitCast(j->b, v, it, "");
    return LLVMBuildBitCast(j->b, LLVMBuildCall2(j->b, aty, as, &bits, 1, ""), ft, "");
}

static LLVMValueRef opaque_identity(jfn *j, LLVMValueRef v)
{
    if (!v || !LLVMIsAConstantFP(v))
        return v;
    LLVMBool loses;
    double d = LLVMConstRealGetDouble(v, &loses);
    if (d != 0.0 && d != 1.0 && d != -1.0)
        return v;
    return opaque(j, v);
}

static LLVMValueRef numeric(jfn *j, uint32_t op, LLVMValueRef a, LLVMValueRef b)
{
    LLVMBuilderRef B = j->b;
    if ((op >= 0x92 && op <= 0x95) || (op >= 0xa0 && op <= 0xa3)) {
        a = opaque_identity(j, a);
        b = opaque_identity(j, b);
    }
    switch (op) {
    case 0x45:
        return cmp_i(j, LLVMIntEQ, a, LLVMConstNull(j->t_i32));
    case 0x50:
        return cmp_i(j, LLVMIntEQ, a, LLVMConstNull(j->t_i64));
    case 0x46:
    case 0x51:
        return cmp_i(j, LLVMIntEQ, a, b);
    case 0x47:
    case 0x52:
        return cmp_i(j, LLVMIntNE, a, b);
    case 0x48:
    case 0x53:
        return cmp_i(j, LLVMIntSLT, a, b);
    case 0x49:
    case 0x54:
        return cmp_i(j, LLVMIntULT, a, b);
    case 0x4a:
    case 0x55:
        return cmp_i(j, LLVMIntSGT, a, b);
    case 0x4b:
    case 0x56:
        return cmp_i(j, LLVMIntUGT, a, b);
    case 0x4c:
    case 0x57:
        return cmp_i(j, LLVMIntSLE, a, b);
    case 0x4d:
    case 0x58:
        return cmp_i(j, LLVMIntULE, a, b);
    case 0x4e:
    case 0x59:
        return cmp_i(j, LLVMIntSGE, a, b);
    case 0x4f:
    case 0x5a:
        return cmp_i(j, LLVMIntUGE, a, b);
    case 0x5b:
    case 0x61:
        return cmp_f(j, LLVMRealOEQ, a, b);
    case 0x5c:
    case 0x62:
        return cmp_f(j, LLVMRealUNE, a, b);
    case 0x5d:
    case 0x63:
        return cmp_f(j, LLVMRealOLT, a, b);
    case 0x5e:
    case 0x64:
        return cmp_f(j, LLVMRealOGT, a, b);
    case 0x5f:
    case 0x65:
        return cmp_f(j, LLVMRealOLE, a, b);
    case 0x60:
    case 0x66:
        return cmp_f(j, LLVMRealOGE, a, b);
    case 0x67:
    case 0x79:
        return bitcount(j, "llvm.ctlz", a);
    case 0x68:
    case 0x7a:
        return bitcount(j, "llvm.cttz", a);
    case 0x69:
    case 0x7b:
        return intr1(j, "llvm.ctpop", a);
    case 0x6a:
    case 0x7c:
        return LLVMBuildAdd(B, a, b, "");
    case 0x6b:
    case 0x7d:
        return LLVMBuildSub(B, a, b, "");
    case 0x6c:
    case 0x7e:
        return LLVMBuildMul(B, a, b, "");
    case 0x6d:
    case 0x6e:
    case 0x6f:
    case 0x70:
    case 0x7f:
    case 0x80:
    case 0x81:
    case 0x82:
        return divrem(j, op, a, b);
    case 0x71:
    case 0x83:
        return LLVMBuildAnd(B, a, b, "");
    case 0x72:
    case 0x84:
        return LLVMBuildOr(B, a, b, "");
    case 0x73:
    case 0x85:
        return LLVMBuildXor(B, a, b, "");
    case 0x74:
    case 0x86:
        return shift(j, LLVMShl, a, b);
    case 0x75:
    case 0x87:
        return shift(j, LLVMAShr, a, b);
    case 0x76:
    case 0x88:
        return shift(j, LLVMLShr, a, b);
    case 0x77:
    case 0x89:
        return rotate(j, true, a, b);
    case 0x78:
    case 0x8a:
        return rotate(j, false, a, b);
    case 0x8b:
        return fbits(j, a, NULL, 0x7fffffffu, false);
    case 0x8c:
        return fbits(j, a, NULL, 0x7fffffffu, true);
    case 0x99:
        return fbits(j, a, NULL, 0x7fffffffffffffffull, false);
    case 0x9a:
        return fbits(j, a, NULL, 0x7fffffffffffffffull, true);
    case 0x98:
        return fbits(j, a, b, 0x7fffffffu, false);
    case 0xa6:
        return fbits(j, a, b, 0x7fffffffffffffffull, false);
    case 0x8d:
    case 0x9b:
        return rounding(j, "llvm.ceil", a);
    case 0x8e:
    case 0x9c:
        return rounding(j, "llvm.floor", a);
    case 0x8f:
    case 0x9d:
        return rounding(j, "llvm.trunc", a);
    case 0x90:
    case 0x9e:
        return rounding(j, "llvm.roundeven", a);
    case 0x91:
    case 0x9f:
        return intr1(j, "llvm.sqrt", a);
    case 0x92:
    case 0xa0:
        return LLVMBuildFAdd(B, a, b, "");
    case 0x93:
    case 0xa1:
        return LLVMBuildFSub(B, a, b, "");
    case 0x94:
    case 0xa2:
        return LLVMBuildFMul(B, a, b, "");
    case 0x95:
    case 0xa3:
        return LLVMBuildFDiv(B, a, b, "");
    case 0x96:
    case 0xa4:
        return minmax(j, a, b, false);
    case 0x97:
    case 0xa5:
        return minmax(j, a, b, true);
    case 0xa7:
        return LLVMBuildTrunc(B, a, j->t_i32, "");
    case 0xa8:
        return trunc_trap(j, a, -2147483648.0, true, 2147483648.0, j->t_i32, true);
    case 0xa9:
        return trunc_trap(j, a, -1.0, false, 4294967296.0, j->t_i32, false);
    case 0xaa:
        return trunc_trap(j, a, -2147483649.0, false, 2147483648.0, j->t_i32, true);
    case 0xab:
        return trunc_trap(j, a, -1.0, false, 4294967296.0, j->t_i32, false);
    case 0xac:
        return LLVMBuildSExt(B, a, j->t_i64, "");
    case 0xad:
        return LLVMBuildZExt(B, a, j->t_i64, "");
    case 0xae:
    case 0xb0:
        return trunc_trap(j, a, -9223372036854775808.0, true, 9223372036854775808.0, j->t_i64,
                          true);
    case 0xaf:
    case 0xb1:
        return trunc_trap(j, a, -1.0, false, 18446744073709551616.0, j->t_i64, false);
    case 0xb2:
    case 0xb4:
        return LLVMBuildSIToFP(B, a, j->t_f32, "");
    case 0xb3:
    case 0xb5:
        return LLVMBuildUIToFP(B, a, j->t_f32, "");
    case 0xb6:
        /* demote(promote(x)) would fold to x, keeping a signalling NaN. */
        if (LLVMIsAInstruction(a) && LLVMGetInstructionOpcode(a) == LLVMFPExt)
            a = opaque(j, a);
        return LLVMBuildFPTrunc(B, a, j->t_f32, "");
    case 0xb7:
    case 0xb9:
        return LLVMBuildSIToFP(B, a, j->t_f64, "");
    case 0xb8:
    case 0xba:
        return LLVMBuildUIToFP(B, a, j->t_f64, "");
    case 0xbb:
        return LLVMBuildFPExt(B, a, j->t_f64, "");
    case 0xbc:
        return LLVMBuildBitCast(B, a, j->t_i32, "");
    case 0xbd:
        return LLVMBuildBitCast(B, a, j->t_i64, "");
    case 0xbe:
        return LLVMBuildBitCast(B, a, j->t_f32, "");
    case 0xbf:
        return LLVMBuildBitCast(B, a, j->t_f64, "");
    case 0xc0:
    case 0xc2:
        return sext_from(j, a, 8);
    case 0xc1:
    case 0xc3:
        return sext_from(j, a, 16);
    case 0xc4:
        return sext_from(j, a, 32);
    case 0xfc00:
    case 0xfc02:
        return trunc_sat(j, a, j->t_i32, true);
    case 0xfc01:
    case 0xfc03:
        return trunc_sat(j, a, j->t_i32, false);
    case 0xfc04:
    case 0xfc06:
        return trunc_sat(j, a, j->t_i64, true);
    default: /* 0xfc05, 0xfc07 */
        return trunc_sat(j, a, j->t_i64, false);
    }
}

/* ---- a chunk of functions ------------------------------------------------------- */

int eos_wasm__jit_translate(const eos_wasm_module *m, struct LLVMOpaqueContext *cx,
                            struct LLVMOpaqueModule *mod, uint32_t first, uint32_t count,
                            const uint8_t *sel)
{
    jfn j;
    memset(&j, 0, sizeof(j));
    j.m = m;
    j.guard = m->features.bounds == EOS_WASM_BOUNDS_GUARD;
    j.sel = sel;
    j.first = first;
    j.count = count;
    j.cx = cx;
    j.mod = mod;
    j.b = LLVMCreateBuilderInContext(cx);
    j.t_i1 = LLVMInt1TypeInContext(cx);
    j.t_i8 = LLVMInt8TypeInContext(cx);
    j.t_i32 = LLVMInt32TypeInContext(cx);
    j.t_i64 = LLVMInt64TypeInContext(cx);
    j.t_f32 = LLVMFloatTypeInContext(cx);
    j.t_f64 = LLVMDoubleTypeInContext(cx);
    j.t_ptr = LLVMPointerTypeInContext(cx, 0);
    j.t_void = LLVMVoidTypeInContext(cx);
    j.t_v128 = LLVMVectorType(j.t_i64, 2);
    j.a_nounwind = LLVMCreateEnumAttribute(cx, LLVMGetEnumAttributeKindForName("nounwind", 8), 0);
    j.a_noreturn = LLVMCreateEnumAttribute(cx, LLVMGetEnumAttributeKindForName("noreturn", 8), 0);
    j.a_cold = LLVMCreateEnumAttribute(cx, LLVMGetEnumAttributeKindForName("cold", 4), 0);
    j.md_invariant = LLVMGetMDKindIDInContext(cx, "invariant.load", 14);
    j.fns = eos_calloc(m->code_count ? m->code_count : 1, sizeof(LLVMValueRef));
    int rc = j.fns ? 0 : EOS_ENOMEM;
    for (uint32_t k = first; k < first + count && rc == 0; k++) {
        if (sel && !sel[k])
            continue;
        rc = translate_fn(&j, k);
        if (rc == 0) {
            char name[32];
            snprintf(name, sizeof(name), "e%u", k);
            entry_fn(&j, k, name);
            if (j.oom)
                rc = EOS_ENOMEM;
        }
    }
    arena_free(&j);
    eos_free(j.fns, 0);
    eos_free(j.vs, 0);
    eos_free(j.ctls, 0);
    LLVMDisposeBuilder(j.b);
    return rc;
}

/* ---- SIMD (v128) ------------------------------------------------------------------
 * A v128 is one <2 x i64> value, bitcast to the lane shape each instruction
 * works on; at the boundaries (slots, globals) it is two 64-bit slots, bytes
 * 0..7 first, which is the same memory layout. Relaxed SIMD takes the
 * interpreter's choices. An instruction not translated declines the module
 * (the interpreter runs it): none is left, the check stays for new ones. */

enum { S_I8, S_I16, S_I32, S_I64, S_F32, S_F64 };

static LLVMTypeRef shape(jfn *j, int s)
{
    static const unsigned lanes[] = {16, 8, 4, 2, 4, 2};
    LLVMTypeRef el = s == S_I8 ? j->t_i8
                     : s == S_I16 ? LLVMInt16TypeInContext(j->cx)
                     : s == S_I32 ? j->t_i32
                     : s == S_I64 ? j->t_i64
                     : s == S_F32 ? j->t_f32
                                  : j->t_f64;
    return LLVMVectorType(el, lanes[s]);
}

static LLVMValueRef as(jfn *j, LLVMValueRef v, int s)
{
    return LLVMBuildBitCast(j->b, v, shape(j, s), "");
}

static LLVMValueRef v128(jfn *j, LLVMValueRef v)
{
    return LLVMBuildBitCast(j->b, v, j->t_v128, "");
}

static LLVMValueRef splat(jfn *j, LLVMValueRef x, unsigned n)
{
    LLVMValueRef v = LLVMGetUndef(LLVMVectorType(LLVMTypeOf(x), n));
    for (unsigned i = 0; i < n; i++)
        v = LLVMBuildInsertElement(j->b, v, x, c32(j, i), "");
    return v;
}

/* A shuffle of a (and b) by the lane indexes idx[0..n). */
static LLVMValueRef shuffle(jfn *j, LLVMValueRef a, LLVMValueRef b, const unsigned *idx,
                            unsigned n)
{
    LLVMValueRef mask[16];
    for (unsigned i = 0; i < n; i++)
        mask[i] = c32(j, idx[i]);
    return LLVMBuildShuffleVector(j->b, a, b ? b : LLVMGetUndef(LLVMTypeOf(a)),
                                  LLVMConstVector(mask, n), "");
}

/* The low or high half of the lanes of a (shape s), extended to twice the width. */
static LLVMValueRef extend_half(jfn *j, LLVMValueRef a, int s, bool high, bool sign)
{
    unsigned n = LLVMGetVectorSize(shape(j, s)), idx[8];
    for (unsigned i = 0; i < n / 2; i++)
        idx[i] = i + (high ? n / 2 : 0);
    LLVMValueRef h = shuffle(j, as(j, a, s), NULL, idx, n / 2);
    LLVMTypeRef wt = shape(j, s + 1);
    return sign ? LLVMBuildSExt(j->b, h, wt, "") : LLVMBuildZExt(j->b, h, wt, "");
}

/* The even (odd) lanes of a, extended to twice the width. */
static LLVMValueRef extend_pairs(jfn *j, LLVMValueRef a, int s, bool odd, bool sign)
{
    unsigned n = LLVMGetVectorSize(shape(j, s)), idx[8];
    for (unsigned i = 0; i < n / 2; i++)
        idx[i] = 2 * i + odd;
    LLVMValueRef h = shuffle(j, as(j, a, s), NULL, idx, n / 2);
    LLVMTypeRef wt = shape(j, s + 1);
    return sign ? LLVMBuildSExt(j->b, h, wt, "") : LLVMBuildZExt(j->b, h, wt, "");
}

static LLVMValueRef vcmp(jfn *j, LLVMValueRef a, LLVMValueRef b, int s, int pred, bool fl)
{
    LLVMValueRef c = fl ? LLVMBuildFCmp(j->b, (LLVMRealPredicate)pred, as(j, a, s), as(j, b, s), "")
                        : LLVMBuildICmp(j->b, (LLVMIntPredicate)pred, as(j, a, s), as(j, b, s), "");
    int is = s == S_F32 ? S_I32 : s == S_F64 ? S_I64 : s;
    return v128(j, LLVMBuildSExt(j->b, c, shape(j, is), ""));
}

static LLVMValueRef vsel_cmp(jfn *j, LLVMValueRef a, LLVMValueRef b, int s, LLVMIntPredicate p)
{
    LLVMValueRef x = as(j, a, s), y = as(j, b, s);
    return v128(j, LLVMBuildSelect(j->b, LLVMBuildICmp(j->b, p, x, y, ""), x, y, ""));
}

/* A shift by the count c (an i32) modulo the lane width. */
static LLVMValueRef vshift(jfn *j, LLVMOpcode opc, LLVMValueRef a, LLVMValueRef c, int s)
{
    unsigned bits = 8u << s, n = 16 / (bits / 8);
    LLVMTypeRef el = LLVMGetElementType(shape(j, s));
    LLVMValueRef k = LLVMBuildAnd(j->b, c, c32(j, bits - 1), "");
    k = bits < 32 ? LLVMBuildTrunc(j->b, k, el, "") : bits > 32 ? LLVMBuildZExt(j->b, k, el, "") : k;
    return v128(j, LLVMBuildBinOp(j->b, opc, as(j, a, s), splat(j, k, n), ""));
}

static LLVMValueRef vsat(jfn *j, const char *name, LLVMValueRef a, LLVMValueRef b, int s)
{
    LLVMTypeRef t = shape(j, s);
    LLVMValueRef args[2] = {as(j, a, s), as(j, b, s)};
    return v128(j, intrinsic(j, name, &t, 1, args, 2));
}

/* Clamps the lanes of x (shape s) to [lo, hi], then narrows them. */
static LLVMValueRef clamp_narrow(jfn *j, LLVMValueRef x, int64_t lo, int64_t hi, LLVMTypeRef nt)
{
    LLVMTypeRef t = LLVMTypeOf(x), el = LLVMGetElementType(t);
    unsigned n = LLVMGetVectorSize(t);
    LLVMValueRef l = splat(j, LLVMConstInt(el, (uint64_t)lo, 1), n);
    LLVMValueRef h = splat(j, LLVMConstInt(el, (uint64_t)hi, 1), n);
    x = LLVMBuildSelect(j->b, LLVMBuildICmp(j->b, LLVMIntSLT, x, l, ""), l, x, "");
    x = LLVMBuildSelect(j->b, LLVMBuildICmp(j->b, LLVMIntSGT, x, h, ""), h, x, "");
    return LLVMBuildTrunc(j->b, x, nt, "");
}

static LLVMValueRef narrow(jfn *j, LLVMValueRef a, LLVMValueRef b, int s, bool sign)
{
    /* s: the wide shape; both operands' lanes side by side, then clamped. */
    unsigned n = LLVMGetVectorSize(shape(j, s)), idx[16];
    for (unsigned i = 0; i < 2 * n; i++)
        idx[i] = i;
    LLVMValueRef w = shuffle(j, as(j, a, s), as(j, b, s), idx, 2 * n);
    unsigned bits = 4u << s;
    int64_t lo = sign ? -((int64_t)1 << (bits - 1)) : 0;
    int64_t hi = sign ? ((int64_t)1 << (bits - 1)) - 1 : ((int64_t)1 << bits) - 1;
    return v128(j, clamp_narrow(j, w, lo, hi, shape(j, s - 1)));
}

static LLVMValueRef vfbits(jfn *j, LLVMValueRef a, int s, bool neg)
{
    int is = s == S_F32 ? S_I32 : S_I64;
    uint64_t sign = s == S_F32 ? 0x80000000u : 0x8000000000000000ull;
    unsigned n = s == S_F32 ? 4 : 2;
    LLVMTypeRef el = LLVMGetElementType(shape(j, is));
    LLVMValueRef x = as(j, a, is);
    x = neg ? LLVMBuildXor(j->b, x, splat(j, LLVMConstInt(el, sign, 0), n), "")
            : LLVMBuildAnd(j->b, x, splat(j, LLVMConstInt(el, ~sign, 0), n), "");
    return v128(j, x);
}

/* minmax on vectors: the same rules lane by lane. */
static LLVMValueRef vminmax(jfn *j, LLVMValueRef a, LLVMValueRef b, int s, bool max)
{
    LLVMValueRef x = as(j, a, s), y = as(j, b, s);
    LLVMTypeRef t = LLVMTypeOf(x), it = shape(j, s == S_F32 ? S_I32 : S_I64);
    LLVMValueRef nan = LLVMBuildOr(j->b, is_nan(j, x), is_nan(j, y), "");
    LLVMValueRef zero = LLVMConstNull(t);
    LLVMValueRef both0 = LLVMBuildAnd(j->b, LLVMBuildFCmp(j->b, LLVMRealOEQ, x, zero, ""),
                                      LLVMBuildFCmp(j->b, LLVMRealOEQ, y, zero, ""), "");
    LLVMValueRef xneg =
        LLVMBuildICmp(j->b, LLVMIntSLT, LLVMBuildBitCast(j->b, x, it, ""), LLVMConstNull(it), "");
    LLVMValueRef zsel =
        max ? LLVMBuildSelect(j->b, xneg, y, x, "") : LLVMBuildSelect(j->b, xneg, x, y, "");
    LLVMValueRef pick = LLVMBuildFCmp(j->b, max ? LLVMRealOGT : LLVMRealOLT, x, y, "");
    LLVMValueRef r = LLVMBuildSelect(j->b, both0, zsel, LLVMBuildSelect(j->b, pick, x, y, ""), "");
    return v128(j, LLVMBuildSelect(j->b, nan, LLVMBuildFAdd(j->b, x, y, ""), r, ""));
}

/* pmin/pmax: b < a ? b : a and a < b ? b : a, the bits of the operand picked. */
static LLVMValueRef vpminmax(jfn *j, LLVMValueRef a, LLVMValueRef b, int s, bool max)
{
    LLVMValueRef x = as(j, a, s), y = as(j, b, s);
    LLVMValueRef c = max ? LLVMBuildFCmp(j->b, LLVMRealOLT, x, y, "")
                         : LLVMBuildFCmp(j->b, LLVMRealOLT, y, x, "");
    return v128(j, LLVMBuildSelect(j->b, c, y, x, ""));
}

static LLVMValueRef all_true(jfn *j, LLVMValueRef a, int s)
{
    LLVMValueRef x = as(j, a, s);
    LLVMValueRef nz = LLVMBuildICmp(j->b, LLVMIntNE, x, LLVMConstNull(LLVMTypeOf(x)), "");
    LLVMTypeRef bt = LLVMTypeOf(nz);
    LLVMValueRef r = intrinsic(j, "llvm.vector.reduce.and", &bt, 1, &nz, 1);
    return LLVMBuildZExt(j->b, r, j->t_i32, "");
}

static LLVMValueRef bitmask(jfn *j, LLVMValueRef a, int s)
{
    LLVMValueRef x = as(j, a, s);
    unsigned n = LLVMGetVectorSize(LLVMTypeOf(x));
    LLVMValueRef neg = LLVMBuildICmp(j->b, LLVMIntSLT, x, LLVMConstNull(LLVMTypeOf(x)), "");
    LLVMValueRef bits = LLVMBuildBitCast(j->b, neg, LLVMIntTypeInContext(j->cx, n), "");
    return LLVMBuildZExt(j->b, bits, j->t_i32, "");
}

/* The memory immediate of a SIMD load or store. */
static void simd_memarg(jfn *j, uint32_t *mem, uint64_t *off)
{
    uint32_t align = (uint32_t)uleb(j);
    *mem = 0;
    if (align & 0x40)
        *mem = (uint32_t)uleb(j);
    *off = uleb(j);
}

static LLVMValueRef simd_load_n(jfn *j, uint32_t mem, LLVMValueRef addr, uint64_t off, unsigned w)
{
    LLVMValueRef p = mem_addr(j, mem, addr, off, w);
    LLVMTypeRef t = w == 16 ? j->t_v128 : LLVMIntTypeInContext(j->cx, w * 8);
    LLVMValueRef v = LLVMBuildLoad2(j->b, t, p, "");
    LLVMSetAlignment(v, 1);
    if (j->guard)
        LLVMSetVolatile(v, 1); /* the only check: it must stay even if unused */
    return v;
}

/* In guard mode a store keeps its place relative to a faulting access, as
 * scalar stores do. */
static void simd_store(jfn *j, LLVMValueRef v, LLVMValueRef p)
{
    LLVMValueRef st = LLVMBuildStore(j->b, v, p);
    LLVMSetAlignment(st, 1);
    if (j->guard)
        LLVMSetVolatile(st, 1);
}

/* Loads and stores, 0x00..0x0b and 0x54..0x5d. */
static void simd_mem(jfn *j, uint32_t op)
{
    uint32_t mem;
    uint64_t off;
    simd_memarg(j, &mem, &off);
    uint8_t lane = 0;
    if (op >= 0x54 && op <= 0x5b)
        lane = *j->p++;
    if (j->dead)
        return;
    if (op == 0x0b) {
        LLVMValueRef v = pop(j);
        LLVMValueRef p = mem_addr(j, mem, pop(j), off, 16);
        simd_store(j, v, p);
        return;
    }
    if (op >= 0x58 && op <= 0x5b) { /* store lane */
        int s = (int)(op - 0x58);
        LLVMValueRef v = pop(j);
        LLVMValueRef p = mem_addr(j, mem, pop(j), off, 1u << s);
        LLVMValueRef e = LLVMBuildExtractElement(j->b, as(j, v, s), c32(j, lane), "");
        simd_store(j, e, p);
        return;
    }
    if (op >= 0x54 && op <= 0x57) { /* load lane */
        int s = (int)(op - 0x54);
        LLVMValueRef v = pop(j);
        LLVMValueRef e = simd_load_n(j, mem, pop(j), off, 1u << s);
        push(j, v128(j, LLVMBuildInsertElement(j->b, as(j, v, s), e, c32(j, lane), "")));
        return;
    }
    LLVMValueRef addr = pop(j), r;
    switch (op) {
    case 0x00:
        r = simd_load_n(j, mem, addr, off, 16);
        break;
    case 0x01: case 0x02: case 0x03: case 0x04: case 0x05: case 0x06: {
        int s = (int)(op - 0x01) / 2; /* the narrow shape */
        unsigned n = 8 >> s;
        LLVMValueRef x = simd_load_n(j, mem, addr, off, 8);
        x = LLVMBuildBitCast(j->b, x, LLVMVectorType(LLVMGetElementType(shape(j, s)), n), "");
        r = (op & 1) ? LLVMBuildSExt(j->b, x, shape(j, s + 1), "")
                     : LLVMBuildZExt(j->b, x, shape(j, s + 1), "");
        break;
    }
    case 0x07: case 0x08: case 0x09: case 0x0a: {
        int s = (int)(op - 0x07);
        r = splat(j, simd_load_n(j, mem, addr, off, 1u << s), 16u >> s);
        break;
    }
    default: { /* 0x5c, 0x5d: load32_zero, load64_zero */
        int s = op == 0x5c ? S_I32 : S_I64;
        LLVMValueRef e = simd_load_n(j, mem, addr, off, op == 0x5c ? 4 : 8);
        r = LLVMBuildInsertElement(j->b, LLVMConstNull(shape(j, s)), e, c32(j, 0), "");
        break;
    }
    }
    push(j, v128(j, r));
}

/* Lane access 0x15..0x22. */
static void simd_lane(jfn *j, uint32_t op)
{
    uint8_t lane = *j->p++;
    if (j->dead)
        return;
    static const int8_t sh[] = {S_I8, S_I8, S_I8, S_I16, S_I16, S_I16, S_I32,
                                S_I32, S_I64, S_I64, S_F32, S_F32, S_F64, S_F64};
    static const uint8_t kind[] = {1, 2, 0, 1, 2, 0, 3, 0, 3, 0, 3, 0, 3, 0}; /* 0 replace */
    int s = sh[op - 0x15];
    if (kind[op - 0x15] == 0) {
        LLVMValueRef x = pop(j), v = pop(j);
        if (s < S_I32)
            x = LLVMBuildTrunc(j->b, x, LLVMGetElementType(shape(j, s)), "");
        push(j, v128(j, LLVMBuildInsertElement(j->b, as(j, v, s), x, c32(j, lane), "")));
        return;
    }
    LLVMValueRef e = LLVMBuildExtractElement(j->b, as(j, pop(j), s), c32(j, lane), "");
    if (kind[op - 0x15] == 1)
        e = LLVMBuildSExt(j->b, e, j->t_i32, "");
    else if (kind[op - 0x15] == 2)
        e = LLVMBuildZExt(j->b, e, j->t_i32, "");
    push(j, e);
}

static LLVMValueRef swizzle(jfn *j, LLVMValueRef a, LLVMValueRef b)
{
    LLVMValueRef x = as(j, a, S_I8), idx = as(j, b, S_I8), r = LLVMConstNull(shape(j, S_I8));
    for (unsigned i = 0; i < 16; i++) {
        LLVMValueRef k = LLVMBuildExtractElement(j->b, idx, c32(j, i), "");
        LLVMValueRef in = LLVMBuildICmp(j->b, LLVMIntULT, k, LLVMConstInt(j->t_i8, 16, 0), "");
        LLVMValueRef e = LLVMBuildExtractElement(
            j->b, x, LLVMBuildAnd(j->b, k, LLVMConstInt(j->t_i8, 15, 0), ""), "");
        e = LLVMBuildSelect(j->b, in, e, LLVMConstInt(j->t_i8, 0, 0), "");
        r = LLVMBuildInsertElement(j->b, r, e, c32(j, i), "");
    }
    return v128(j, r);
}

/* Operations of one v128 operand; NULL: not translated. */
static LLVMValueRef simd_unary(jfn *j, uint32_t op, LLVMValueRef a)
{
    switch (op) {
    case 0x4d:
        return LLVMBuildNot(j->b, a, "");
    case 0x5e: { /* f32x4.demote_f64x2_zero */
        LLVMValueRef d = LLVMBuildFPTrunc(j->b, as(j, a, S_F64), LLVMVectorType(j->t_f32, 2), "");
        unsigned idx[4] = {0, 1, 2, 3};
        return v128(j, shuffle(j, d, LLVMConstNull(LLVMTypeOf(d)), idx, 4));
    }
    case 0x5f: { /* f64x2.promote_low_f32x4 */
        unsigned idx[2] = {0, 1};
        return v128(j, LLVMBuildFPExt(j->b, shuffle(j, as(j, a, S_F32), NULL, idx, 2),
                                      shape(j, S_F64), ""));
    }
    case 0x60: case 0x80: case 0xa0: case 0xc0: {
        int s = (int)(op - 0x60) / 0x20;
        LLVMValueRef x = as(j, a, s), z = LLVMConstNull(LLVMTypeOf(x));
        return v128(j, LLVMBuildSelect(j->b, LLVMBuildICmp(j->b, LLVMIntSLT, x, z, ""),
                                       LLVMBuildSub(j->b, z, x, ""), x, ""));
    }
    case 0x61: case 0x81: case 0xa1: case 0xc1: {
        int s = (int)(op - 0x61) / 0x20;
        LLVMValueRef x = as(j, a, s);
        return v128(j, LLVMBuildSub(j->b, LLVMConstNull(LLVMTypeOf(x)), x, ""));
    }
    case 0x62:
        return v128(j, intr1(j, "llvm.ctpop", as(j, a, S_I8)));
    case 0x67: case 0x68: case 0x69: case 0x6a: case 0x74: case 0x75: case 0x7a: case 0x94: {
        static const char *const names[] = {"llvm.ceil", "llvm.floor", "llvm.trunc",
                                            "llvm.roundeven"};
        int s = op <= 0x6a ? S_F32 : S_F64;
        int k = op <= 0x6a ? (int)(op - 0x67) : op == 0x74 ? 0 : op == 0x75 ? 1 : op == 0x7a ? 2 : 3;
        return v128(j, rounding(j, names[k], as(j, a, s)));
    }
    case 0x7c: case 0x7d: case 0x7e: case 0x7f: {
        int s = op <= 0x7d ? S_I8 : S_I16;
        bool sign = !(op & 1);
        return v128(j, LLVMBuildAdd(j->b, extend_pairs(j, a, s, false, sign),
                                    extend_pairs(j, a, s, true, sign), ""));
    }
    case 0x87: case 0x88: case 0x89: case 0x8a:
    case 0xa7: case 0xa8: case 0xa9: case 0xaa:
    case 0xc7: case 0xc8: case 0xc9: case 0xca: {
        int s = (int)(op - 0x87) / 0x20;
        unsigned k = (op - 0x87) % 0x20;
        return v128(j, extend_half(j, a, s, k & 1, k < 2));
    }
    case 0xe0:
        return vfbits(j, a, S_F32, false);
    case 0xe1:
        return vfbits(j, a, S_F32, true);
    case 0xec:
        return vfbits(j, a, S_F64, false);
    case 0xed:
        return vfbits(j, a, S_F64, true);
    case 0xe3:
        return v128(j, intr1(j, "llvm.sqrt", as(j, a, S_F32)));
    case 0xef:
        return v128(j, intr1(j, "llvm.sqrt", as(j, a, S_F64)));
    case 0xf8:
        return v128(j, trunc_sat(j, as(j, a, S_F32), shape(j, S_I32), true));
    case 0xf9:
        return v128(j, trunc_sat(j, as(j, a, S_F32), shape(j, S_I32), false));
    case 0xfa:
        return v128(j, LLVMBuildSIToFP(j->b, as(j, a, S_I32), shape(j, S_F32), ""));
    case 0xfb:
        return v128(j, LLVMBuildUIToFP(j->b, as(j, a, S_I32), shape(j, S_F32), ""));
    case 0xfc: case 0xfd: {
        LLVMValueRef t = trunc_sat(j, as(j, a, S_F64), LLVMVectorType(j->t_i32, 2), op == 0xfc);
        unsigned idx[4] = {0, 1, 2, 3};
        return v128(j, shuffle(j, t, LLVMConstNull(LLVMTypeOf(t)), idx, 4));
    }
    case 0xfe: case 0xff: {
        unsigned idx[2] = {0, 1};
        LLVMValueRef lo = shuffle(j, as(j, a, S_I32), NULL, idx, 2);
        return v128(j, op == 0xfe ? LLVMBuildSIToFP(j->b, lo, shape(j, S_F64), "")
                                  : LLVMBuildUIToFP(j->b, lo, shape(j, S_F64), ""));
    }
    default:
        return NULL;
    }
}

static LLVMValueRef extmul(jfn *j, LLVMValueRef a, LLVMValueRef b, int s, bool high, bool sign)
{
    return v128(j, LLVMBuildMul(j->b, extend_half(j, a, s, high, sign),
                                extend_half(j, b, s, high, sign), ""));
}

/* Operations of two v128 operands; NULL: not translated. */
static LLVMValueRef simd_binary(jfn *j, uint32_t op, LLVMValueRef a, LLVMValueRef b)
{
    static const int8_t ipred[] = {LLVMIntEQ,  LLVMIntNE,  LLVMIntSLT, LLVMIntULT, LLVMIntSGT,
                                   LLVMIntUGT, LLVMIntSLE, LLVMIntULE, LLVMIntSGE, LLVMIntUGE};
    static const int8_t fpred[] = {LLVMRealOEQ, LLVMRealUNE, LLVMRealOLT,
                                   LLVMRealOGT, LLVMRealOLE, LLVMRealOGE};
    static const int8_t i64pred[] = {LLVMIntEQ,  LLVMIntNE,  LLVMIntSLT,
                                     LLVMIntSGT, LLVMIntSLE, LLVMIntSGE};
    if (op >= 0x23 && op <= 0x40)
        return vcmp(j, a, b, (int)(op - 0x23) / 10, ipred[(op - 0x23) % 10], false);
    if (op >= 0x41 && op <= 0x4c)
        return vcmp(j, a, b, op <= 0x46 ? S_F32 : S_F64, fpred[(op - 0x41) % 6], true);
    if (op >= 0xd6 && op <= 0xdb)
        return vcmp(j, a, b, S_I64, i64pred[op - 0xd6], false);
    switch (op) {
    case 0x0e:
        return swizzle(j, a, b);
    case 0x4e:
        return LLVMBuildAnd(j->b, a, b, "");
    case 0x4f:
        return LLVMBuildAnd(j->b, a, LLVMBuildNot(j->b, b, ""), "");
    case 0x50:
        return LLVMBuildOr(j->b, a, b, "");
    case 0x51:
        return LLVMBuildXor(j->b, a, b, "");
    case 0x65: case 0x66: case 0x85: case 0x86:
        return narrow(j, a, b, op <= 0x66 ? S_I16 : S_I32, op & 1);
    case 0x6e: case 0x8e: case 0xae: case 0xce: {
        int s = (int)(op - 0x6e) / 0x20;
        return v128(j, LLVMBuildAdd(j->b, as(j, a, s), as(j, b, s), ""));
    }
    case 0x71: case 0x91: case 0xb1: case 0xd1: {
        int s = (int)(op - 0x71) / 0x20;
        return v128(j, LLVMBuildSub(j->b, as(j, a, s), as(j, b, s), ""));
    }
    case 0x95: case 0xb5: case 0xd5: {
        int s = (int)(op - 0x75) / 0x20;
        return v128(j, LLVMBuildMul(j->b, as(j, a, s), as(j, b, s), ""));
    }
    case 0x6f: case 0x8f:
        return vsat(j, "llvm.sadd.sat", a, b, op == 0x6f ? S_I8 : S_I16);
    case 0x70: case 0x90:
        return vsat(j, "llvm.uadd.sat", a, b, op == 0x70 ? S_I8 : S_I16);
    case 0x72: case 0x92:
        return vsat(j, "llvm.ssub.sat", a, b, op == 0x72 ? S_I8 : S_I16);
    case 0x73: case 0x93:
        return vsat(j, "llvm.usub.sat", a, b, op == 0x73 ? S_I8 : S_I16);
    case 0x76: case 0x96: case 0xb6:
        return vsel_cmp(j, a, b, (int)(op - 0x76) / 0x20, LLVMIntSLT);
    case 0x77: case 0x97: case 0xb7:
        return vsel_cmp(j, a, b, (int)(op - 0x77) / 0x20, LLVMIntULT);
    case 0x78: case 0x98: case 0xb8:
        return vsel_cmp(j, a, b, (int)(op - 0x78) / 0x20, LLVMIntSGT);
    case 0x79: case 0x99: case 0xb9:
        return vsel_cmp(j, a, b, (int)(op - 0x79) / 0x20, LLVMIntUGT);
    case 0x7b: case 0x9b: {
        int s = op == 0x7b ? S_I8 : S_I16;
        LLVMTypeRef wt = LLVMVectorType(LLVMIntTypeInContext(j->cx, 16u << s), 16u >> s);
        LLVMValueRef x = LLVMBuildZExt(j->b, as(j, a, s), wt, "");
        LLVMValueRef y = LLVMBuildZExt(j->b, as(j, b, s), wt, "");
        LLVMValueRef one = splat(j, LLVMConstInt(LLVMGetElementType(wt), 1, 0), 16u >> s);
        LLVMValueRef r = LLVMBuildLShr(j->b, LLVMBuildAdd(j->b, LLVMBuildAdd(j->b, x, y, ""), one, ""),
                                       one, "");
        return v128(j, LLVMBuildTrunc(j->b, r, shape(j, s), ""));
    }
    case 0x82: { /* i16x8.q15mulr_sat_s */
        LLVMTypeRef wt = LLVMVectorType(j->t_i32, 8);
        LLVMValueRef x = LLVMBuildSExt(j->b, as(j, a, S_I16), wt, "");
        LLVMValueRef y = LLVMBuildSExt(j->b, as(j, b, S_I16), wt, "");
        LLVMValueRef r = LLVMBuildAdd(j->b, LLVMBuildMul(j->b, x, y, ""),
                                      splat(j, c32(j, 0x4000), 8), "");
        r = LLVMBuildAShr(j->b, r, splat(j, c32(j, 15), 8), "");
        return v128(j, clamp_narrow(j, r, -32768, 32767, shape(j, S_I16)));
    }
    case 0x9c: case 0x9d: case 0x9e: case 0x9f:
    case 0xbc: case 0xbd: case 0xbe: case 0xbf:
    case 0xdc: case 0xdd: case 0xde: case 0xdf: {
        int s = (int)(op - 0x9c) / 0x20;
        unsigned k = (op - 0x9c) % 0x20;
        return extmul(j, a, b, s, k & 1, k < 2);
    }
    case 0x112: { /* relaxed_dot_i8x16_i7x16_s: b signed, pair sums wrap to 16 bits */
        LLVMTypeRef wt = shape(j, S_I16), nt = LLVMVectorType(LLVMGetElementType(wt), 16);
        LLVMValueRef p = LLVMBuildMul(j->b, LLVMBuildSExt(j->b, as(j, a, S_I8), nt, ""),
                                      LLVMBuildSExt(j->b, as(j, b, S_I8), nt, ""), "");
        unsigned ev[8] = {0, 2, 4, 6, 8, 10, 12, 14}, od[8] = {1, 3, 5, 7, 9, 11, 13, 15};
        return v128(j, LLVMBuildAdd(j->b, shuffle(j, p, NULL, ev, 8), shuffle(j, p, NULL, od, 8), ""));
    }
    case 0xba: { /* i32x4.dot_i16x8_s */
        LLVMTypeRef wt = LLVMVectorType(j->t_i32, 8);
        LLVMValueRef p = LLVMBuildMul(j->b, LLVMBuildSExt(j->b, as(j, a, S_I16), wt, ""),
                                      LLVMBuildSExt(j->b, as(j, b, S_I16), wt, ""), "");
        unsigned ev[4] = {0, 2, 4, 6}, od[4] = {1, 3, 5, 7};
        return v128(j, LLVMBuildAdd(j->b, shuffle(j, p, NULL, ev, 4), shuffle(j, p, NULL, od, 4), ""));
    }
    case 0xe4: case 0xf0:
        return v128(j, LLVMBuildFAdd(j->b, as(j, a, op == 0xe4 ? S_F32 : S_F64),
                                     as(j, b, op == 0xe4 ? S_F32 : S_F64), ""));
    case 0xe5: case 0xf1:
        return v128(j, LLVMBuildFSub(j->b, as(j, a, op == 0xe5 ? S_F32 : S_F64),
                                     as(j, b, op == 0xe5 ? S_F32 : S_F64), ""));
    case 0xe6: case 0xf2:
        return v128(j, LLVMBuildFMul(j->b, as(j, a, op == 0xe6 ? S_F32 : S_F64),
                                     as(j, b, op == 0xe6 ? S_F32 : S_F64), ""));
    case 0xe7: case 0xf3:
        return v128(j, LLVMBuildFDiv(j->b, as(j, a, op == 0xe7 ? S_F32 : S_F64),
                                     as(j, b, op == 0xe7 ? S_F32 : S_F64), ""));
    case 0xe8: case 0xe9:
        return vminmax(j, a, b, S_F32, op == 0xe9);
    case 0xf4: case 0xf5:
        return vminmax(j, a, b, S_F64, op == 0xf5);
    case 0xea: case 0xeb:
        return vpminmax(j, a, b, S_F32, op == 0xeb);
    case 0xf6: case 0xf7:
        return vpminmax(j, a, b, S_F64, op == 0xf7);
    default:
        return NULL;
    }
}

/* Shifts, splats, tests and bitmasks: a v128 and a scalar or a scalar result. */
static bool simd_mixed(jfn *j, uint32_t op)
{
    if (op >= 0x0f && op <= 0x14) {
        int s = (int)(op - 0x0f);
        LLVMValueRef x = pop(j);
        if (s < S_I32)
            x = LLVMBuildTrunc(j->b, x, LLVMGetElementType(shape(j, s)), "");
        push(j, v128(j, splat(j, x, LLVMGetVectorSize(shape(j, s)))));
        return true;
    }
    switch (op) {
    case 0x53: {
        LLVMValueRef w = LLVMBuildBitCast(j->b, pop(j), LLVMIntTypeInContext(j->cx, 128), "");
        push(j, LLVMBuildZExt(j->b, LLVMBuildICmp(j->b, LLVMIntNE, w, LLVMConstNull(LLVMTypeOf(w)), ""),
                              j->t_i32, ""));
        return true;
    }
    case 0x63: case 0x83: case 0xa3: case 0xc3:
        push(j, all_true(j, pop(j), (int)(op - 0x63) / 0x20));
        return true;
    case 0x64: case 0x84: case 0xa4: case 0xc4:
        push(j, bitmask(j, pop(j), (int)(op - 0x64) / 0x20));
        return true;
    case 0x6b: case 0x8b: case 0xab: case 0xcb:
    case 0x6c: case 0x8c: case 0xac: case 0xcc:
    case 0x6d: case 0x8d: case 0xad: case 0xcd: {
        int s = (int)(op - 0x6b) / 0x20;
        unsigned k = (op - 0x6b) % 0x20;
        LLVMValueRef c = pop(j), a = pop(j);
        push(j, vshift(j, k == 0 ? LLVMShl : k == 1 ? LLVMAShr : LLVMLShr, a, c, s));
        return true;
    }
    case 0x52: /* bitselect, and the relaxed lane selects (the same bits) */
    case 0x109: case 0x10a: case 0x10b: case 0x10c: {
        LLVMValueRef c = pop(j), y = pop(j), x = pop(j);
        push(j, LLVMBuildOr(j->b, LLVMBuildAnd(j->b, x, c, ""),
                            LLVMBuildAnd(j->b, y, LLVMBuildNot(j->b, c, ""), ""), ""));
        return true;
    }
    case 0x105: case 0x106: case 0x107: case 0x108: { /* relaxed (n)madd: fused */
        int s = op <= 0x106 ? S_F32 : S_F64;
        LLVMValueRef c = as(j, pop(j), s), y = as(j, pop(j), s), x = as(j, pop(j), s);
        if (op == 0x106 || op == 0x108)
            x = LLVMBuildFNeg(j->b, x, "");
        LLVMTypeRef t = shape(j, s);
        LLVMValueRef args[3] = {x, y, c};
        push(j, v128(j, intrinsic(j, "llvm.fma", &t, 1, args, 3)));
        return true;
    }
    case 0x113: { /* relaxed_dot_i8x16_i7x16_add_s: b signed, sums of four */
        LLVMValueRef c = as(j, pop(j), S_I32), y = pop(j), x = pop(j);
        LLVMTypeRef wt = LLVMVectorType(j->t_i32, 16);
        LLVMValueRef p = LLVMBuildMul(j->b, LLVMBuildSExt(j->b, as(j, x, S_I8), wt, ""),
                                      LLVMBuildSExt(j->b, as(j, y, S_I8), wt, ""), "");
        LLVMValueRef r = c;
        for (unsigned k = 0; k < 4; k++) {
            unsigned idx[4] = {k, 4 + k, 8 + k, 12 + k};
            r = LLVMBuildAdd(j->b, r, shuffle(j, p, NULL, idx, 4), "");
        }
        push(j, v128(j, r));
        return true;
    }
    default:
        return false;
    }
}

/* Whether 0xfd op (not a load, store, lane or constant) is translated. */
static bool simd_known(uint32_t op)
{
    if (op >= 0x0e && op <= 0x14)
        return true;
    if (op >= 0x23 && op <= 0x53)
        return true;
    if (op >= 0x100 && op <= 0x113)
        return true;
    if (op >= 0x5e && op <= 0xff)
        return op != 0xa2 && op != 0xa5 && op != 0xa6 && op != 0xaf && op != 0xb0 &&
               op != 0xb2 && op != 0xb3 && op != 0xb4 && op != 0xbb && op != 0xc2 &&
               op != 0xc5 && op != 0xc6 && op != 0xcf && op != 0xd0 && op != 0xd2 &&
               op != 0xd3 && op != 0xd4 && op != 0xe2 && op != 0xee && op != 0x9a;
    return false;
}

static void simd(jfn *j)
{
    uint32_t op = (uint32_t)uleb(j);
    if (op <= 0x0b || (op >= 0x54 && op <= 0x5d)) {
        simd_mem(j, op);
        return;
    }
    if (op >= 0x15 && op <= 0x22) {
        simd_lane(j, op);
        return;
    }
    if (op == 0x0c || op == 0x0d) {
        const uint8_t *imm = j->p;
        j->p += 16;
        if (j->dead)
            return;
        if (op == 0x0c) {
            uint64_t w[2];
            memcpy(w, imm, 16); /* little-endian host, as everywhere here */
            LLVMValueRef e[2] = {c64(j, w[0]), c64(j, w[1])};
            push(j, LLVMConstVector(e, 2));
        } else {
            unsigned idx[16];
            for (unsigned i = 0; i < 16; i++)
                idx[i] = imm[i];
            LLVMValueRef b = pop(j), a = pop(j);
            push(j, v128(j, shuffle(j, as(j, a, S_I8), as(j, b, S_I8), idx, 16)));
        }
        return;
    }
    if (!simd_known(op)) {
        /* Relaxed SIMD and anything else not translated: the module is
         * declined as a whole (tier auto keeps it interpreted). */
        j->declined = true;
        j->p = j->end;
        return;
    }
    if (j->dead)
        return;
    /* Relaxed SIMD takes the interpreter's deterministic choices (see
     * docs/architecture.md): most are the plain instruction. */
    static const uint16_t relaxed_as[] = {[0x00] = 0x0e, [0x01] = 0xf8, [0x02] = 0xf9,
                                          [0x03] = 0xfc, [0x04] = 0xfd, [0x0d] = 0xe8,
                                          [0x0e] = 0xe9, [0x0f] = 0xf4, [0x10] = 0xf5,
                                          [0x11] = 0x82};
    if (op >= 0x100 && op <= 0x111 && relaxed_as[op - 0x100])
        op = relaxed_as[op - 0x100];
    if (simd_mixed(j, op))
        return;
    LLVMValueRef r;
    if ((r = simd_unary(j, op, j->vs[j->nvs - 1])) != NULL) {
        j->vs[j->nvs - 1] = r;
        return;
    }
    LLVMValueRef b = pop(j), a = pop(j);
    r = simd_binary(j, op, a, b);
    if (!r) {
        j->declined = true;
        j->p = j->end;
        r = a;
    }
    push(j, r);
}

/* ---- threads (atomics) and wide arithmetic -----------------------------------
 * Atomic loads, stores and read-modify-writes are LLVM's sequentially
 * consistent atomics after the interpreter's checks, bounds then alignment,
 * both explicit even in guard mode so that an access that is both out of
 * bounds and misaligned reports the bounds as the interpreter does. notify
 * and wait call the runtime, which runs them as the interpreter does. */

/* The address of an atomic access of 1 << log2 bytes at addr + off. */
static LLVMValueRef atomic_addr(jfn *j, uint32_t mem, LLVMValueRef addr, uint64_t off,
                                unsigned log2)
{
    LLVMValueRef ea = LLVMBuildAdd(j->b, LLVMBuildZExt(j->b, addr, j->t_i64, ""), c64(j, off), "");
    LLVMValueRef mems =
        load_fixed(j, j->t_ptr, at(j, j->inst, offsetof(eos_wasm_instance, memories)));
    LLVMValueRef mo = load_fixed(j, j->t_ptr, at(j, mems, (uint64_t)mem * sizeof(void *)));
    LLVMValueRef base = load(j, j->t_ptr, at(j, mo, offsetof(eos_wasm_memory, data)));
    LLVMValueRef size = load(j, j->t_i64, at(j, mo, offsetof(eos_wasm_memory, size)));
    LLVMValueRef end = LLVMBuildAdd(j->b, ea, c64(j, 1u << log2), "");
    trap_if(j, LLVMBuildICmp(j->b, LLVMIntUGT, end, size, ""), EOS_WASM__JT_MEM_OOB);
    if (log2) {
        LLVMValueRef low = LLVMBuildAnd(j->b, ea, c64(j, (1u << log2) - 1), "");
        trap_if(j, LLVMBuildICmp(j->b, LLVMIntNE, low, c64(j, 0), ""), EOS_WASM__JT_UNALIGNED);
    }
    return LLVMBuildGEP2(j->b, j->t_i8, base, &ea, 1, "");
}

static LLVMValueRef to_i64(jfn *j, LLVMValueRef v)
{
    return LLVMTypeOf(v) == j->t_i64 ? v : LLVMBuildZExt(j->b, v, j->t_i64, "");
}

static void atomic(jfn *j)
{
    const LLVMAtomicOrdering sc = LLVMAtomicOrderingSequentiallyConsistent;
    uint32_t sub = (uint32_t)uleb(j);
    if (sub == 0x03) { /* atomic.fence and its zero byte */
        j->p++;
        if (!j->dead)
            LLVMBuildFence(j->b, sc, 0, "");
        return;
    }
    uint32_t align = (uint32_t)uleb(j), mem = 0;
    if (align & 0x40)
        mem = (uint32_t)uleb(j);
    uint64_t off = uleb(j);
    if (j->dead)
        return;
    uint8_t type, log2;
    eos_wasm__atomic_shape(sub, &type, &log2);
    LLVMTypeRef vty = vt(j, type), nt = LLVMIntTypeInContext(j->cx, 8u << log2);
    if (sub <= 0x02) { /* notify, wait32, wait64 */
        LLVMValueRef args[7] = {j->inst, c32(j, sub), c32(j, mem), c32(j, (uint32_t)off),
                                NULL,    NULL,        c64(j, 0)};
        if (sub != 0x00)
            args[6] = pop(j);
        args[5] = to_i64(j, pop(j));
        args[4] = to_i64(j, pop(j));
        sync_out(j);
        push(j, LLVMBuildTrunc(j->b, call_rt(j, EOS_WASM__RT_ATOMIC, args, 7), j->t_i32, ""));
        return;
    }
    uint32_t group = (sub - 0x10) / 7;
    if (group == 0) {
        LLVMValueRef v = LLVMBuildLoad2(j->b, nt, atomic_addr(j, mem, pop(j), off, log2), "");
        LLVMSetOrdering(v, sc);
        LLVMSetAlignment(v, 1u << log2);
        push(j, nt == vty ? v : LLVMBuildZExt(j->b, v, vty, ""));
        return;
    }
    LLVMValueRef b = group == 8 ? pop(j) : NULL;
    LLVMValueRef a = pop(j);
    LLVMValueRef p = atomic_addr(j, mem, pop(j), off, log2);
    if (nt != vty) {
        a = LLVMBuildTrunc(j->b, a, nt, "");
        if (b)
            b = LLVMBuildTrunc(j->b, b, nt, "");
    }
    LLVMValueRef r;
    if (group == 1) {
        LLVMValueRef st = LLVMBuildStore(j->b, a, p);
        LLVMSetOrdering(st, sc);
        LLVMSetAlignment(st, 1u << log2);
        return;
    } else if (group == 8) { /* the expected value wrapped to the width, as above */
        r = LLVMBuildExtractValue(j->b, LLVMBuildAtomicCmpXchg(j->b, p, a, b, sc, sc, 0), 0, "");
    } else {
        static const LLVMAtomicRMWBinOp ops[] = {LLVMAtomicRMWBinOpAdd, LLVMAtomicRMWBinOpSub,
                                                 LLVMAtomicRMWBinOpAnd, LLVMAtomicRMWBinOpOr,
                                                 LLVMAtomicRMWBinOpXor, LLVMAtomicRMWBinOpXchg};
        r = LLVMBuildAtomicRMW(j->b, ops[group - 2], p, a, sc, 0);
    }
    push(j, nt == vty ? r : LLVMBuildZExt(j->b, r, vty, ""));
}

/* i64.add128, i64.sub128 (two i64 pairs, low half first) and
 * i64.mul_wide_s/u, each giving the low then the high half. */
static void wide(jfn *j, uint32_t sub)
{
    if (j->dead)
        return;
    LLVMTypeRef t128 = LLVMIntTypeInContext(j->cx, 128);
    LLVMValueRef c = LLVMConstInt(t128, 64, 0), r;
    if (sub <= 20) {
        LLVMValueRef bh = pop(j), bl = pop(j), ah = pop(j), al = pop(j);
        LLVMValueRef a =
            LLVMBuildOr(j->b, LLVMBuildShl(j->b, LLVMBuildZExt(j->b, ah, t128, ""), c, ""),
                        LLVMBuildZExt(j->b, al, t128, ""), "");
        LLVMValueRef bb =
            LLVMBuildOr(j->b, LLVMBuildShl(j->b, LLVMBuildZExt(j->b, bh, t128, ""), c, ""),
                        LLVMBuildZExt(j->b, bl, t128, ""), "");
        r = sub == 19 ? LLVMBuildAdd(j->b, a, bb, "") : LLVMBuildSub(j->b, a, bb, "");
    } else {
        LLVMValueRef y = pop(j), x = pop(j);
        if (sub == 21)
            r = LLVMBuildMul(j->b, LLVMBuildSExt(j->b, x, t128, ""),
                             LLVMBuildSExt(j->b, y, t128, ""), "");
        else
            r = LLVMBuildMul(j->b, LLVMBuildZExt(j->b, x, t128, ""),
                             LLVMBuildZExt(j->b, y, t128, ""), "");
    }
    push(j, LLVMBuildTrunc(j->b, r, j->t_i64, ""));
    push(j, LLVMBuildTrunc(j->b, LLVMBuildLShr(j->b, r, c, ""), j->t_i64, ""));
}
