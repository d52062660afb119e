/* Validation and translation of the memory and table instructions of a
 * module with a 64-bit memory or table, or a memory of 1-byte pages
 * (memory64, table64, custom page sizes). Addresses and indices take the
 * type of their memory or table; every such instruction of the module, on
 * 32-bit memories and tables too, becomes one EOS_WASM_OP_MEM64 whose
 * handler (exec_mem64.c) reads full 64-bit slots: i32 operands are kept
 * zero-extended, so one exact bounds check serves both widths. Modules
 * without these types keep the fast path of validate_mem.c. */
#include "internal.h"

#define FAIL(...) eos_wasm__rd_fail(&v->r, __VA_ARGS__)
#define TRY(x)                                                                                     \
    do {                                                                                           \
        if (x)                                                                                     \
            return v->r.err ? v->r.err : EOS_EINVALID;                                             \
    } while (0)

/* Natural alignment (log2) and value type of loads and stores 0x28..0x3e. */
static const struct {
    uint8_t align, type;
} access[] = {
    {2, EOS_WASM_I32}, {3, EOS_WASM_I64}, {2, EOS_WASM_F32}, {3, EOS_WASM_F64}, {0, EOS_WASM_I32},
    {0, EOS_WASM_I32}, {1, EOS_WASM_I32}, {1, EOS_WASM_I32}, {0, EOS_WASM_I64}, {0, EOS_WASM_I64},
    {1, EOS_WASM_I64}, {1, EOS_WASM_I64}, {2, EOS_WASM_I64}, {2, EOS_WASM_I64}, {2, EOS_WASM_I32},
    {3, EOS_WASM_I64}, {2, EOS_WASM_F32}, {3, EOS_WASM_F64}, {0, EOS_WASM_I32}, {1, EOS_WASM_I32},
    {0, EOS_WASM_I64}, {1, EOS_WASM_I64}, {2, EOS_WASM_I64},
};

bool eos_wasm__v_mem64_claims(uint8_t b)
{
    return b == 0x25 || b == 0x26 || (b >= 0x28 && b <= 0x40) || b == 0xfc;
}

/* Emits MEM64 sub with its n immediates (when the code is reachable). */
static int emit(eos_wasm__vctx *v, uint32_t sub, uint32_t n, const uint32_t *imm)
{
    if (!eos_wasm__v_live(v))
        return 0;
    TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_MEM64));
    TRY(eos_wasm__v_emit(v, sub));
    TRY(eos_wasm__v_emit(v, 3 + n));
    for (uint32_t i = 0; i < n; i++)
        TRY(eos_wasm__v_emit(v, imm[i]));
    return 0;
}

static int pop(eos_wasm__vctx *v, uint8_t t)
{
    return eos_wasm__v_pop(v, t, NULL);
}

/* The narrower of two address types: the length operand of a copy between a
 * 32-bit and a 64-bit memory or table is an i32. */
static uint8_t min_at(uint8_t a, uint8_t b)
{
    return a == EOS_WASM_I32 || b == EOS_WASM_I32 ? EOS_WASM_I32 : EOS_WASM_I64;
}

static int memop(eos_wasm__vctx *v, uint8_t opcode)
{
    eos_wasm_module *m = v->m;
    uint32_t align, mem = 0;
    uint64_t offset;
    TRY(eos_wasm__rd_u32(&v->r, &align));
    if ((align & 0x40) && !m->features.disable_multi_memory) {
        align &= ~0x40u;
        TRY(eos_wasm__rd_u32(&v->r, &mem));
    }
    TRY(eos_wasm__rd_uleb(&v->r, 64, &offset));
    if (mem >= m->memory_count)
        return FAIL(EOS_EINVALID, "unknown memory %u", mem);
    if (align > access[opcode - 0x28].align)
        return FAIL(EOS_EINVALID, "alignment must not be larger than natural");
    uint8_t at = eos_wasm__mem_at(m, mem);
    if (at == EOS_WASM_I32 && offset > UINT32_MAX)
        return FAIL(EOS_EINVALID, "offset out of range");
    if (opcode >= 0x36) {
        TRY(pop(v, access[opcode - 0x28].type));
        TRY(pop(v, at));
    } else {
        TRY(pop(v, at));
        TRY(eos_wasm__v_push(v, access[opcode - 0x28].type));
    }
    uint32_t imm[4] = {opcode, mem, (uint32_t)offset, (uint32_t)(offset >> 32)};
    return emit(v, EOS_WASM__X64_ACCESS, 4, imm);
}

static int table_idx(eos_wasm__vctx *v, uint32_t *t)
{
    return eos_wasm__v_read_idx(v, v->m->table_count, "table", t);
}

/* The 0xfc instructions with addresses: memory.init, copy, fill and the
 * table instructions. Others go to validate_mem.c (*mine false). */
static int prefixed(eos_wasm__vctx *v, bool *mine)
{
    eos_wasm_module *m = v->m;
    const uint8_t *start = v->r.p;
    uint32_t sub, imm[2];
    uint8_t t;
    TRY(eos_wasm__rd_u32(&v->r, &sub));
    *mine = true;
    switch (sub) {
    case 8: /* memory.init data mem */
        if (!m->has_data_count)
            return FAIL(EOS_EMALFORMED, "data count section required");
        TRY(eos_wasm__v_read_idx(v, m->data_count, "data segment", &imm[0]));
        TRY(eos_wasm__v_read_memidx(v, &imm[1]));
        TRY(pop(v, EOS_WASM_I32));
        TRY(pop(v, EOS_WASM_I32));
        TRY(pop(v, eos_wasm__mem_at(m, imm[1])));
        return emit(v, EOS_WASM__X64_MEMORY_INIT, 2, imm);
    case 10: /* memory.copy dst src */
        TRY(eos_wasm__v_read_memidx(v, &imm[0]));
        TRY(eos_wasm__v_read_memidx(v, &imm[1]));
        TRY(pop(v, min_at(eos_wasm__mem_at(m, imm[0]), eos_wasm__mem_at(m, imm[1]))));
        TRY(pop(v, eos_wasm__mem_at(m, imm[1])));
        TRY(pop(v, eos_wasm__mem_at(m, imm[0])));
        return emit(v, EOS_WASM__X64_MEMORY_COPY, 2, imm);
    case 11: /* memory.fill */
        TRY(eos_wasm__v_read_memidx(v, &imm[0]));
        TRY(pop(v, eos_wasm__mem_at(m, imm[0])));
        TRY(pop(v, EOS_WASM_I32));
        TRY(pop(v, eos_wasm__mem_at(m, imm[0])));
        return emit(v, EOS_WASM__X64_MEMORY_FILL, 1, imm);
    case 12: /* table.init elem table */
        TRY(eos_wasm__v_read_idx(v, m->elem_count, "elem segment", &imm[0]));
        TRY(table_idx(v, &imm[1]));
        if (!eos_wasm__val_sub(m, m->elems[imm[0]].elem_type, m->tables[imm[1]].elem_type))
            return FAIL(EOS_EINVALID, "type mismatch: table.init element type");
        TRY(pop(v, EOS_WASM_I32));
        TRY(pop(v, EOS_WASM_I32));
        TRY(pop(v, eos_wasm__table_at(m, imm[1])));
        return emit(v, EOS_WASM__X64_TABLE_INIT, 2, imm);
    case 14: /* table.copy dst src */
        TRY(table_idx(v, &imm[0]));
        TRY(table_idx(v, &imm[1]));
        if (!eos_wasm__val_sub(m, m->tables[imm[1]].elem_type, m->tables[imm[0]].elem_type))
            return FAIL(EOS_EINVALID, "type mismatch: table.copy element types");
        TRY(pop(v, min_at(eos_wasm__table_at(m, imm[0]), eos_wasm__table_at(m, imm[1]))));
        TRY(pop(v, eos_wasm__table_at(m, imm[1])));
        TRY(pop(v, eos_wasm__table_at(m, imm[0])));
        return emit(v, EOS_WASM__X64_TABLE_COPY, 2, imm);
    case 15: /* table.grow */
        TRY(table_idx(v, &imm[0]));
        t = m->tables[imm[0]].elem_type;
        TRY(pop(v, eos_wasm__table_at(m, imm[0])));
        TRY(pop(v, t));
        TRY(eos_wasm__v_push(v, eos_wasm__table_at(m, imm[0])));
        return emit(v, EOS_WASM__X64_TABLE_GROW, 1, imm);
    case 16: /* table.size */
        TRY(table_idx(v, &imm[0]));
        TRY(eos_wasm__v_push(v, eos_wasm__table_at(m, imm[0])));
        return emit(v, EOS_WASM__X64_TABLE_SIZE, 1, imm);
    case 17: /* table.fill */
        TRY(table_idx(v, &imm[0]));
        t = m->tables[imm[0]].elem_type;
        TRY(pop(v, eos_wasm__table_at(m, imm[0])));
        TRY(pop(v, t));
        TRY(pop(v, eos_wasm__table_at(m, imm[0])));
        return emit(v, EOS_WASM__X64_TABLE_FILL, 1, imm);
    default:
        v->r.p = start;
        *mine = false;
        return 0;
    }
}

int eos_wasm__v_mem64(eos_wasm__vctx *v, uint8_t b)
{
    eos_wasm_module *m = v->m;
    uint32_t idx;
    switch (b) {
    case 0x25: /* table.get */
        TRY(table_idx(v, &idx));
        TRY(pop(v, eos_wasm__table_at(m, idx)));
        TRY(eos_wasm__v_push(v, m->tables[idx].elem_type));
        return emit(v, EOS_WASM__X64_TABLE_GET, 1, &idx);
    case 0x26: /* table.set */
        TRY(table_idx(v, &idx));
        TRY(pop(v, m->tables[idx].elem_type));
        TRY(pop(v, eos_wasm__table_at(m, idx)));
        return emit(v, EOS_WASM__X64_TABLE_SET, 1, &idx);
    case 0x3f: /* memory.size */
        TRY(eos_wasm__v_read_memidx(v, &idx));
        TRY(eos_wasm__v_push(v, eos_wasm__mem_at(m, idx)));
        return emit(v, EOS_WASM__X64_MEMORY_SIZE, 1, &idx);
    case 0x40: /* memory.grow */
        TRY(eos_wasm__v_read_memidx(v, &idx));
        TRY(pop(v, eos_wasm__mem_at(m, idx)));
        TRY(eos_wasm__v_push(v, eos_wasm__mem_at(m, idx)));
        return emit(v, EOS_WASM__X64_MEMORY_GROW, 1, &idx);
    case 0xfc: {
        bool mine;
        TRY(prefixed(v, &mine));
        return mine ? 0 : eos_wasm__v_prefixed(v);
    }
    default:
        return memop(v, b);
    }
}

/* call_indirect through a 64-bit table: its index is checked whole before
 * the call, which then reads it as a valid 32-bit index. */
int eos_wasm__v_indirect64(eos_wasm__vctx *v, uint32_t table)
{
    return emit(v, EOS_WASM__X64_INDIRECT, 1, &table);
}

int eos_wasm__v_simd_addr64(eos_wasm__vctx *v, uint32_t mem, uint64_t off, uint32_t width,
                            uint32_t depth)
{
    uint32_t imm[5] = {mem, (uint32_t)off, (uint32_t)(off >> 32), width, depth};
    return emit(v, EOS_WASM__X64_SIMD_ADDR, 5, imm);
}
