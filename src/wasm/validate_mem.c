/* Validation and translation of the memory and table instructions: loads
 * and stores (with their address-folding superinstructions) and the 0xfc
 * prefix (saturating truncation, bulk memory, table operations). The
 * per-function state is declared in internal.h, next to the helpers it uses. */
#include "internal.h"

#define FAIL(...) eos_wasm__rd_fail(&v->r, __VA_ARGS__)
#define TRY(x)                                                                                     \
    do {                                                                                           \
        if (x)                                                                                     \
            return v->r.err ? v->r.err : EOS_EINVALID;                                             \
    } while (0)

/* Loads and stores 0x28..0x3e: internal op, natural alignment (log2), value
 * type, and whether it stores. */
static const struct memop {
    uint8_t op, align, type, store;
} memops[] = {
    {EOS_WASM_OP_LOAD32, 2, EOS_WASM_I32, 0},     {EOS_WASM_OP_LOAD64, 3, EOS_WASM_I64, 0},
    {EOS_WASM_OP_LOAD32, 2, EOS_WASM_F32, 0},     {EOS_WASM_OP_LOAD64, 3, EOS_WASM_F64, 0},
    {EOS_WASM_OP_LOAD8_S32, 0, EOS_WASM_I32, 0},  {EOS_WASM_OP_LOAD8_U, 0, EOS_WASM_I32, 0},
    {EOS_WASM_OP_LOAD16_S32, 1, EOS_WASM_I32, 0}, {EOS_WASM_OP_LOAD16_U, 1, EOS_WASM_I32, 0},
    {EOS_WASM_OP_LOAD8_S64, 0, EOS_WASM_I64, 0},  {EOS_WASM_OP_LOAD8_U, 0, EOS_WASM_I64, 0},
    {EOS_WASM_OP_LOAD16_S64, 1, EOS_WASM_I64, 0}, {EOS_WASM_OP_LOAD16_U, 1, EOS_WASM_I64, 0},
    {EOS_WASM_OP_LOAD32_S64, 2, EOS_WASM_I64, 0}, {EOS_WASM_OP_LOAD32, 2, EOS_WASM_I64, 0},
    {EOS_WASM_OP_STORE32, 2, EOS_WASM_I32, 1},    {EOS_WASM_OP_STORE64, 3, EOS_WASM_I64, 1},
    {EOS_WASM_OP_STORE32, 2, EOS_WASM_F32, 1},    {EOS_WASM_OP_STORE64, 3, EOS_WASM_F64, 1},
    {EOS_WASM_OP_STORE8, 0, EOS_WASM_I32, 1},     {EOS_WASM_OP_STORE16, 1, EOS_WASM_I32, 1},
    {EOS_WASM_OP_STORE8, 0, EOS_WASM_I64, 1},     {EOS_WASM_OP_STORE16, 1, EOS_WASM_I64, 1},
    {EOS_WASM_OP_STORE32, 2, EOS_WASM_I64, 1},
};

int eos_wasm__v_memop(eos_wasm__vctx *v, uint8_t opcode)
{
    const struct memop *mo = &memops[opcode - 0x28];
    uint32_t align, offset, mem = 0;
    TRY(eos_wasm__rd_u32(&v->r, &align));
    if ((align & 0x40) && !v->m->features.disable_multi_memory) {
        align &= ~0x40u;
        TRY(eos_wasm__rd_u32(&v->r, &mem));
    }
    TRY(eos_wasm__rd_u32(&v->r, &offset));
    if (mem >= v->m->memory_count)
        return FAIL(EOS_EINVALID, "unknown memory %u", mem);
    if (align > mo->align)
        return FAIL(EOS_EINVALID, "alignment must not be larger than natural");
    if (mo->store) {
        TRY(eos_wasm__v_pop(v, mo->type, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
    } else {
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_push(v, mo->type));
    }
    if (!eos_wasm__v_live(v))
        return 0;
    if (mem != 0) {
        TRY(eos_wasm__v_emit_op(v, mo->store ? EOS_WASM_OP_MEM_STORE : EOS_WASM_OP_MEM_LOAD));
        TRY(eos_wasm__v_emit(v, opcode));
        TRY(eos_wasm__v_emit(v, mem));
        return eos_wasm__v_emit(v, offset);
    }
    /* (local.get a; i32.const k; i32.add) fused earlier, then a load -> LC_LOAD* */
    if ((mo->op == EOS_WASM_OP_LOAD32 || mo->op == EOS_WASM_OP_LOAD8_U) && v->nlast >= 1 &&
        v->code[v->last[v->nlast - 1]] == EOS_WASM_OP_LC_I32_ADD &&
        v->last[v->nlast - 1] + 3 == v->len) {
        uint32_t at = v->last[v->nlast - 1];
        v->code[at] = mo->op == EOS_WASM_OP_LOAD32 ? EOS_WASM_OP_LC_LOAD32 : EOS_WASM_OP_LC_LOAD8_U;
        v->nlast = 0;
        return eos_wasm__v_emit(v, offset);
    }
    /* local.get x; i32.load off  ->  L_LOAD32 x off */
    if (mo->op == EOS_WASM_OP_LOAD32 && v->nlast >= 1 &&
        v->code[v->last[v->nlast - 1]] == EOS_WASM_OP_LOCAL_GET) {
        uint32_t at = v->last[v->nlast - 1];
        uint32_t local = v->code[at + 1];
        eos_wasm__v_truncate(v, at);
        v->nlast--;
        TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_L_LOAD32));
        TRY(eos_wasm__v_emit(v, local));
        return eos_wasm__v_emit(v, offset);
    }
    TRY(eos_wasm__v_emit_op(v, mo->op));
    return eos_wasm__v_emit(v, offset);
}

static int check_table(eos_wasm__vctx *v, uint32_t *t)
{
    return eos_wasm__v_read_idx(v, v->m->table_count, "table", t);
}

int eos_wasm__v_prefixed(eos_wasm__vctx *v)
{
    eos_wasm_module *m = v->m;
    uint32_t sub, a, b;
    uint8_t t;
    TRY(eos_wasm__rd_u32(&v->r, &sub));
    if (sub < 8) {
        uint32_t op = v->op_of_fc[sub];
        const char *sig = eos_wasm__op_sig[op];
        TRY(eos_wasm__v_pop(v, sig[0] == 'f' ? EOS_WASM_F32 : EOS_WASM_F64, NULL));
        TRY(eos_wasm__v_push(v, sig[2] == 'i' ? EOS_WASM_I32 : EOS_WASM_I64));
        return eos_wasm__v_live(v) ? eos_wasm__v_emit_op(v, op) : 0;
    }
    switch (sub) {
    case 8: /* memory.init */
        if (!m->has_data_count)
            return FAIL(EOS_EMALFORMED, "data count section required");
        TRY(eos_wasm__v_read_idx(v, m->data_count, "data segment", &a));
        TRY(eos_wasm__v_read_memidx(v, &b));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_MEMORY_INIT) || eos_wasm__v_emit(v, a) ||
                eos_wasm__v_emit(v, b));
        return 0;
    case 9: /* data.drop */
        if (!m->has_data_count)
            return FAIL(EOS_EMALFORMED, "data count section required");
        TRY(eos_wasm__v_read_idx(v, m->data_count, "data segment", &a));
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_DATA_DROP) || eos_wasm__v_emit(v, a));
        return 0;
    case 10: /* memory.copy */
        TRY(eos_wasm__v_read_memidx(v, &a));
        TRY(eos_wasm__v_read_memidx(v, &b));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_MEMORY_COPY) || eos_wasm__v_emit(v, a) ||
                eos_wasm__v_emit(v, b));
        return 0;
    case 11: /* memory.fill */
        TRY(eos_wasm__v_read_memidx(v, &a));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_MEMORY_FILL) || eos_wasm__v_emit(v, a));
        return 0;
    case 12: /* table.init elem table */
        TRY(eos_wasm__v_read_idx(v, m->elem_count, "elem segment", &a));
        TRY(check_table(v, &b));
        if (!eos_wasm__val_sub(m, m->elems[a].elem_type, m->tables[b].elem_type))
            return FAIL(EOS_EINVALID, "type mismatch: table.init element type");
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_TABLE_INIT) || eos_wasm__v_emit(v, a) ||
                eos_wasm__v_emit(v, b));
        return 0;
    case 13:
        TRY(eos_wasm__v_read_idx(v, m->elem_count, "elem segment", &a));
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_ELEM_DROP) || eos_wasm__v_emit(v, a));
        return 0;
    case 14: /* table.copy dst src */
        TRY(check_table(v, &a));
        TRY(check_table(v, &b));
        if (!eos_wasm__val_sub(m, m->tables[b].elem_type, m->tables[a].elem_type))
            return FAIL(EOS_EINVALID, "type mismatch: table.copy element types");
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_TABLE_COPY) || eos_wasm__v_emit(v, a) ||
                eos_wasm__v_emit(v, b));
        return 0;
    case 15: /* table.grow */
        TRY(check_table(v, &a));
        t = m->tables[a].elem_type;
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, t, NULL));
        TRY(eos_wasm__v_push(v, EOS_WASM_I32));
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_TABLE_GROW) || eos_wasm__v_emit(v, a));
        return 0;
    case 16:
        TRY(check_table(v, &a));
        TRY(eos_wasm__v_push(v, EOS_WASM_I32));
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_TABLE_SIZE) || eos_wasm__v_emit(v, a));
        return 0;
    case 17:
        TRY(check_table(v, &a));
        t = m->tables[a].elem_type;
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, t, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_TABLE_FILL) || eos_wasm__v_emit(v, a));
        return 0;
    case 19: /* wide arithmetic: i64.add128, sub128, mul_wide_s, mul_wide_u */
    case 20:
    case 21:
    case 22:
        return eos_wasm__v_wide(v, sub);
    default:
        return FAIL(EOS_EMALFORMED, "illegal opcode 0xfc %u", sub);
    }
}
