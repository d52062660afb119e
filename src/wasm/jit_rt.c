/* The run-time side of compiled code: the entry with its trap landing pad,
 * and the helpers compiled code calls for traps, calls it cannot make
 * directly, and the table, memory and bulk instructions. Every check and
 * message is the interpreter's. */
#include "internal.h"

#include <setjmp.h>
#include <stdio.h>

/* Where a trap in compiled code unwinds to: the innermost eos_wasm__jit_run.
 * Compiled frames hold no resources, so jumping over them is safe; host
 * frames are never jumped over (a host call returns its trap instead). */
typedef struct landing {
    jmp_buf jb;
    int code;
} landing;

/* The interpreter's reserve of native stack for host re-entry (exec.c). */
#define NATIVE_RESERVE(size) ((size) / 8 + 24 * 1024)

static _Noreturn void rt_trap(eos_wasm_instance *inst, int32_t code, const char *msg)
{
    eos_wasm_store *s = inst->store;
    if (code == EOS_TRAP_OUT_OF_FUEL)
        s->fuel = s->fuel_bank = 0;
    if (msg)
        eos_wasm__trap(s, code, msg);
    landing *l = s->jit_jmp;
    l->code = code;
    longjmp(l->jb, 1);
}

/* A fault of compiled code in a guarded memory (guard.c resumes the thread
 * here): the out-of-bounds trap, with the message of the explicit check.
 * The fuel counter kept in a register since the last call, helper or
 * refill is not written back (storing it at every charge made loops 17-30%
 * slower): the store counts the fuel up to that point, less than
 * one slice (65,536 units) short of the interpreter. */
_Noreturn void eos_wasm__jit_guard_trap(eos_wasm_store *s)
{
    const eos_wasm__jit_trap_kind *k = &eos_wasm__jit_trap_kinds[EOS_WASM__JT_MEM_OOB];
    eos_wasm__trap(s, k->code, k->msg);
    landing *l = s->jit_jmp;
    l->code = k->code;
    longjmp(l->jb, 1);
}

/* A trap of compiled code, by kind. */
static _Noreturn void rt_trap_kind(eos_wasm_instance *inst, int32_t code, uint32_t kind)
{
    rt_trap(inst, code,
            kind < EOS_WASM__JT_COUNT ? eos_wasm__jit_trap_kinds[kind].msg : "trap in compiled code");
}

int eos_wasm__jit_run(eos_wasm_store *s, eos_wasm_func *f, uint64_t *slots)
{
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    size_t size = s->limits.native_stack_size;
    if (s->native_depth == 0)
        s->native_base = here;
    else if (s->native_base > here && s->native_base - here + NATIVE_RESERVE(size) > size)
        return eos_wasm__trap(s, EOS_TRAP_STACK_EXHAUSTED,
                              "call stack exhausted (native stack, host re-entry)");
    const uint32_t depth = s->depth;
    if (depth + 1 >= s->frame_cap)
        return eos_wasm__trap(s, EOS_TRAP_STACK_EXHAUSTED, "call stack exhausted");
    uintptr_t usable = size - NATIVE_RESERVE(size);
    s->jit_stack_limit = s->native_base > usable ? s->native_base - usable : 0;
    void *const saved = s->jit_jmp;
    void (*entry)(eos_wasm_instance *, uint32_t, uint64_t *) =
        (void (*)(eos_wasm_instance *, uint32_t, uint64_t *))f->jit_entry;
    landing land;
    int rc = 0;
    s->native_depth++;
    if (setjmp(land.jb) == 0) {
        s->jit_jmp = &land;
        entry(f->inst, s->frame_cap - depth - 1, slots);
    } else {
        rc = land.code;
    }
    s->jit_jmp = saved;
    s->native_depth--;
    s->depth = depth;
    return rc;
}

/* A call compiled code cannot make directly: a host function, or a function
 * of an instance that is interpreted. */
static void rt_call(eos_wasm_instance *inst, uint32_t budget, eos_wasm_func *callee,
                    uint64_t *slots)
{
    eos_wasm_store *s = inst->store;
    uint32_t saved = s->depth;
    s->depth = budget < s->frame_cap ? s->frame_cap - budget : 0;
    int rc = callee->code ? eos_wasm__exec(s, callee, slots)
                          : eos_wasm__call_host(s, inst, callee, slots);
    s->depth = saved;
    if (rc)
        rt_trap(inst, rc, NULL);
}

static uint32_t rt_sig_eq(const eos_wasm_functype *a, const eos_wasm_functype *b)
{
    return eos_wasm__functype_eq(a, b);
}

/* The end of a slice of fuel (s->fuel below zero): refills it from the
 * store's bank, or traps when the fuel or the time budget is spent. */
static void rt_fuel(eos_wasm_instance *inst)
{
    int rc = eos_wasm__fuel_refill(inst->store);
    if (rc)
        rt_trap(inst, rc, NULL);
}

/* Bulk operations cost one unit per 4 KiB (or 4096 elements) moved. */
static void charge(eos_wasm_instance *inst, uint64_t n)
{
    eos_wasm_store *s = inst->store;
    s->fuel -= (int64_t)(n >> 12);
    if (s->fuel < 0)
        rt_fuel(inst);
}

static uint32_t rt_memory_size(eos_wasm_instance *inst, uint32_t mem)
{
    return (uint32_t)(inst->memories[mem]->size / EOS_WASM_PAGE_SIZE);
}

static uint32_t rt_memory_grow(eos_wasm_instance *inst, uint32_t mem, uint32_t delta)
{
    uint64_t old;
    if (eos_wasm__memory_grow(inst->memories[mem], delta, &old) == 0)
        return (uint32_t)old;
    return UINT32_MAX;
}

static void rt_memory_fill(eos_wasm_instance *inst, uint32_t mem, uint32_t d, uint32_t val,
                           uint32_t n)
{
    eos_wasm_memory *m = inst->memories[mem];
    charge(inst, n);
    if ((uint64_t)d + n > m->size)
        rt_trap(inst, EOS_TRAP_MEMORY_OOB, "out of bounds memory access");
    memset(m->data + d, (uint8_t)val, n);
}

static void rt_memory_copy(eos_wasm_instance *inst, uint32_t md, uint32_t ms, uint32_t d,
                           uint32_t sa, uint32_t n)
{
    eos_wasm_memory *dm = inst->memories[md], *sm = inst->memories[ms];
    charge(inst, n);
    if ((uint64_t)d + n > dm->size || (uint64_t)sa + n > sm->size)
        rt_trap(inst, EOS_TRAP_MEMORY_OOB, "out of bounds memory access");
    memmove(dm->data + d, sm->data + sa, n);
}

static void rt_memory_init(eos_wasm_instance *inst, uint32_t mem, uint32_t seg, uint32_t d,
                           uint32_t sa, uint32_t n)
{
    charge(inst, n);
    int rc = eos_wasm__memory_init(inst, mem, seg, d, sa, n);
    if (rc)
        rt_trap(inst, rc, "out of bounds memory access");
}

static void rt_data_drop(eos_wasm_instance *inst, uint32_t seg)
{
    inst->data_dropped[seg] = 1;
}

static void rt_table_init(eos_wasm_instance *inst, uint32_t tab, uint32_t seg, uint32_t d,
                          uint32_t sa, uint32_t n)
{
    charge(inst, n);
    int rc = eos_wasm__table_init(inst, tab, seg, d, sa, n);
    if (rc)
        rt_trap(inst, rc, "out of bounds table access");
}

static void rt_table_copy(eos_wasm_instance *inst, uint32_t td, uint32_t ts, uint32_t d,
                          uint32_t sa, uint32_t n)
{
    charge(inst, n);
    int rc = eos_wasm__table_copy(inst->tables[td], inst->tables[ts], d, sa, n);
    if (rc)
        rt_trap(inst, rc, "out of bounds table access");
}

static void rt_elem_drop(eos_wasm_instance *inst, uint32_t seg)
{
    inst->elem_dropped[seg] = 1;
}

static uint32_t rt_table_grow(eos_wasm_instance *inst, uint32_t t, uint64_t init, uint32_t n)
{
    uint64_t old;
    charge(inst, n);
    if (eos_wasm__table_grow(inst->tables[t], n, (void *)(uintptr_t)init, &old) == 0)
        return (uint32_t)old;
    return UINT32_MAX;
}

static uint32_t rt_table_size(eos_wasm_instance *inst, uint32_t t)
{
    return (uint32_t)inst->tables[t]->size;
}

static void rt_table_fill(eos_wasm_instance *inst, uint32_t t, uint32_t i, uint64_t val, uint32_t n)
{
    eos_wasm_table *tb = inst->tables[t];
    charge(inst, n);
    if ((uint64_t)i + n > tb->size)
        rt_trap(inst, EOS_TRAP_TABLE_OOB, "out of bounds table access");
    for (uint64_t k = 0; k < n; k++)
        tb->elems[i + k] = (void *)(uintptr_t)val;
    tb->written = true;
}

static uint64_t rt_table_get(eos_wasm_instance *inst, uint32_t t, uint32_t i)
{
    eos_wasm_table *tb = inst->tables[t];
    if (i >= tb->size)
        rt_trap(inst, EOS_TRAP_TABLE_OOB, "out of bounds table access");
    return (uint64_t)(uintptr_t)tb->elems[i];
}

static void rt_table_set(eos_wasm_instance *inst, uint32_t t, uint32_t i, uint64_t v)
{
    eos_wasm_table *tb = inst->tables[t];
    if (i >= tb->size)
        rt_trap(inst, EOS_TRAP_TABLE_OOB, "out of bounds table access");
    tb->elems[i] = (void *)(uintptr_t)v;
    tb->written = true;
}

/* threads: memory.atomic.notify (operands a, b) or wait32/64 (a, b, c) on
 * memory mem at offset off, as the interpreter runs it; its result. */
static uint64_t rt_atomic(eos_wasm_instance *inst, uint32_t sub, uint32_t mem, uint32_t off,
                          uint64_t a, uint64_t b, uint64_t c)
{
    const uint32_t ip[4] = {EOS_WASM_OP_ATOMIC, sub, mem, off};
    uint64_t st[3] = {a, b, c};
    unsigned n = sub == 0x00 ? 2 : 3;
    int trap = 0;
    const char *msg = NULL;
    if (!eos_wasm__atomic_exec(inst->store, inst, ip, st + n, &trap, &msg))
        rt_trap(inst, trap, msg == inst->store->trap_msg ? NULL : msg);
    return st[0];
}

/* memory64, table64 and custom page sizes: the interpreter's operation sub
 * (exec_mem64.c, immediates a and b) on its operands x, y, z, deepest
 * first, zero-extended; returns its result (0 when it has none). */
static uint64_t rt_mem64(eos_wasm_instance *inst, uint32_t sub, uint32_t a, uint32_t b, uint64_t x,
                         uint64_t y, uint64_t z)
{
    static const uint8_t operands[] = {
        [EOS_WASM__X64_MEMORY_SIZE] = 0, [EOS_WASM__X64_MEMORY_GROW] = 1,
        [EOS_WASM__X64_MEMORY_FILL] = 3, [EOS_WASM__X64_MEMORY_COPY] = 3,
        [EOS_WASM__X64_MEMORY_INIT] = 3, [EOS_WASM__X64_TABLE_GET] = 1,
        [EOS_WASM__X64_TABLE_SET] = 2,   [EOS_WASM__X64_TABLE_SIZE] = 0,
        [EOS_WASM__X64_TABLE_GROW] = 2,  [EOS_WASM__X64_TABLE_FILL] = 3,
        [EOS_WASM__X64_TABLE_COPY] = 3,  [EOS_WASM__X64_TABLE_INIT] = 3,
        [EOS_WASM__X64_INDIRECT] = 1,
    };
    const uint32_t ip[5] = {0, sub, 5, a, b};
    uint64_t st[4] = {x, y, z, 0};
    int trap;
    const char *msg;
    uint64_t n;
    uint64_t *sp = eos_wasm__mem64_exec(inst, ip, st + operands[sub], &trap, &msg, &n);
    if (!sp)
        rt_trap(inst, trap, msg);
    charge(inst, n);
    return sp > st ? sp[-1] : 0;
}

const eos_wasm__jit_rt eos_wasm__jit_rts[EOS_WASM__RT_COUNT_] = {
    [EOS_WASM__RT_TRAP] = {(void *)rt_trap_kind, "v:pii"},
    [EOS_WASM__RT_CALL] = {(void *)rt_call, "v:pipp"},
    [EOS_WASM__RT_SIG_EQ] = {(void *)rt_sig_eq, "i:pp"},
    [EOS_WASM__RT_MEMORY_SIZE] = {(void *)rt_memory_size, "i:pi"},
    [EOS_WASM__RT_MEMORY_GROW] = {(void *)rt_memory_grow, "i:pii"},
    [EOS_WASM__RT_MEMORY_FILL] = {(void *)rt_memory_fill, "v:piiii"},
    [EOS_WASM__RT_MEMORY_COPY] = {(void *)rt_memory_copy, "v:piiiii"},
    [EOS_WASM__RT_MEMORY_INIT] = {(void *)rt_memory_init, "v:piiiii"},
    [EOS_WASM__RT_DATA_DROP] = {(void *)rt_data_drop, "v:pi"},
    [EOS_WASM__RT_TABLE_INIT] = {(void *)rt_table_init, "v:piiiii"},
    [EOS_WASM__RT_TABLE_COPY] = {(void *)rt_table_copy, "v:piiiii"},
    [EOS_WASM__RT_ELEM_DROP] = {(void *)rt_elem_drop, "v:pi"},
    [EOS_WASM__RT_TABLE_GROW] = {(void *)rt_table_grow, "i:piIi"},
    [EOS_WASM__RT_TABLE_SIZE] = {(void *)rt_table_size, "i:pi"},
    [EOS_WASM__RT_TABLE_FILL] = {(void *)rt_table_fill, "v:piiIi"},
    [EOS_WASM__RT_TABLE_GET] = {(void *)rt_table_get, "I:pii"},
    [EOS_WASM__RT_TABLE_SET] = {(void *)rt_table_set, "v:piiI"},
    [EOS_WASM__RT_FUEL] = {(void *)rt_fuel, "v:p"},
    [EOS_WASM__RT_ATOMIC] = {(void *)rt_atomic, "I:piiiIII"},
    [EOS_WASM__RT_MEM64] = {(void *)rt_mem64, "I:piiiIII"},
};
