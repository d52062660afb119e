/* The interpreter's EOS_WASM_OP_MEM64 (memory64, table64, custom page
 * sizes): memory and table instructions whose addresses are full 64-bit
 * slots (i32 ones zero-extended). Every bounds check is written so that no
 * sum can wrap: an address plus offset past 2^64 is out of bounds. */
#include "internal.h"

#define MEM_OOB   "out of bounds memory access"
#define TABLE_OOB "out of bounds table access"

/* [at, at + n) lies within size bytes or elements. */
static bool within(uint64_t at, uint64_t n, uint64_t size)
{
    return n <= size && at <= size - n;
}

static int access_mem(eos_wasm_instance *inst, const uint32_t *ip, uint64_t *sp)
{
    uint32_t kind = ip[3];
    eos_wasm_memory *mem = inst->memories[ip[4]];
    uint64_t offset = (uint64_t)ip[5] | ((uint64_t)ip[6] << 32);
    uint32_t w = eos_wasm__access_width(kind);
    uint64_t addr = kind >= 0x36 ? sp[-2] : sp[-1];
    if (addr > UINT64_MAX - offset || !within(addr + offset, w, mem->size))
        return EOS_TRAP_MEMORY_OOB;
    eos_wasm__access_move(kind, mem->data + addr + offset, sp);
    return 0;
}

/* -1 in the address type of a memory or table (a failed grow). */
static uint64_t minus_one(bool is64)
{
    return is64 ? UINT64_MAX : UINT32_MAX;
}

uint64_t *eos_wasm__mem64_exec(eos_wasm_instance *inst, const uint32_t *ip, uint64_t *sp, int *trap,
                               const char **msg, uint64_t *charge)
{
    *charge = 0;
    *msg = MEM_OOB;
    *trap = EOS_TRAP_MEMORY_OOB;
    switch (ip[1]) {
    case EOS_WASM__X64_ACCESS:
        if (access_mem(inst, ip, sp) != 0)
            return NULL;
        return ip[3] >= 0x36 ? sp - 2 : sp;
    case EOS_WASM__X64_MEMORY_SIZE: {
        const eos_wasm_memory *mem = inst->memories[ip[3]];
        *sp = mem->size >> eos_wasm__page_log2(&mem->type);
        return sp + 1;
    }
    case EOS_WASM__X64_MEMORY_GROW: {
        eos_wasm_memory *mem = inst->memories[ip[3]];
        uint64_t old;
        if (eos_wasm__memory_grow(mem, sp[-1], &old) == 0)
            sp[-1] = old;
        else
            sp[-1] = minus_one(mem->type.limits.is64);
        return sp;
    }
    case EOS_WASM__X64_MEMORY_FILL: {
        eos_wasm_memory *mem = inst->memories[ip[3]];
        uint64_t n = sp[-1], d = sp[-3];
        if (!within(d, n, mem->size))
            return NULL;
        memset(mem->data + d, (uint8_t)sp[-2], n);
        *charge = n;
        return sp - 3;
    }
    case EOS_WASM__X64_MEMORY_COPY: {
        eos_wasm_memory *md = inst->memories[ip[3]], *ms = inst->memories[ip[4]];
        uint64_t n = sp[-1], s = sp[-2], d = sp[-3];
        if (!within(d, n, md->size) || !within(s, n, ms->size))
            return NULL;
        memmove(md->data + d, ms->data + s, n);
        *charge = n;
        return sp - 3;
    }
    case EOS_WASM__X64_SIMD_ADDR: {
        /* The SIMD access after this one checks the folded address again. */
        const eos_wasm_memory *mem = inst->memories[ip[3]];
        uint64_t offset = (uint64_t)ip[4] | ((uint64_t)ip[5] << 32), *a = sp - ip[7];
        if (*a > UINT64_MAX - offset || !within(*a + offset, ip[6], mem->size))
            return NULL;
        *a += offset;
        return sp;
    }
    case EOS_WASM__X64_MEMORY_INIT:
        if ((*trap = eos_wasm__memory_init(inst, ip[4], ip[3], sp[-3], sp[-2], sp[-1])) != 0)
            return NULL;
        *charge = sp[-1];
        return sp - 3;
    default:
        break;
    }
    *msg = TABLE_OOB;
    *trap = EOS_TRAP_TABLE_OOB;
    /* Word 3 is a table, but for table.init an element segment. */
    eos_wasm_table *t = ip[1] == EOS_WASM__X64_TABLE_INIT ? NULL : inst->tables[ip[3]];
    switch (ip[1]) {
    case EOS_WASM__X64_TABLE_GET:
        if (sp[-1] >= t->size)
            return NULL;
        sp[-1] = (uint64_t)(uintptr_t)t->elems[sp[-1]];
        return sp;
    case EOS_WASM__X64_TABLE_SET:
        if (sp[-2] >= t->size)
            return NULL;
        t->elems[sp[-2]] = (void *)(uintptr_t)sp[-1];
        t->written = true;
        return sp - 2;
    case EOS_WASM__X64_TABLE_SIZE:
        *sp = t->size;
        return sp + 1;
    case EOS_WASM__X64_TABLE_GROW: {
        uint64_t old, n = sp[-1];
        if (eos_wasm__table_grow(t, n, (void *)(uintptr_t)sp[-2], &old) == 0) {
            sp[-2] = old;
            *charge = n;
        } else {
            sp[-2] = minus_one(t->type.limits.is64);
        }
        return sp - 1;
    }
    case EOS_WASM__X64_TABLE_FILL: {
        uint64_t n = sp[-1], i = sp[-3];
        if (!within(i, n, t->size))
            return NULL;
        void *val = (void *)(uintptr_t)sp[-2];
        for (uint64_t k = 0; k < n; k++)
            t->elems[i + k] = val;
        t->written = true;
        *charge = n;
        return sp - 3;
    }
    case EOS_WASM__X64_TABLE_COPY:
        if (eos_wasm__table_copy(t, inst->tables[ip[4]], sp[-3], sp[-2], sp[-1]) != 0)
            return NULL;
        *charge = sp[-1];
        return sp - 3;
    case EOS_WASM__X64_TABLE_INIT:
        if (eos_wasm__table_init(inst, ip[4], ip[3], sp[-3], sp[-2], sp[-1]) != 0)
            return NULL;
        *charge = sp[-1];
        return sp - 3;
    case EOS_WASM__X64_INDIRECT:
        if (sp[-1] >= t->size) {
            *msg = "undefined element: call_indirect index out of bounds";
            return NULL;
        }
        return sp;
    default:
        *msg = "internal error: unknown memory64 operation";
        *trap = EOS_TRAP_UNREACHABLE;
        return NULL;
    }
}
