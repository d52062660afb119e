/* The translator's peephole: folds the last few emitted instructions into
 * superinstructions (compare-and-branch, operands taken from a local or a
 * constant, local copies). It never looks across a label, whose position
 * other code may branch to. */
#include "internal.h"

#define FAIL(...) eos_wasm__rd_fail(&v->r, __VA_ARGS__)
#define TRY(x)                                                                                     \
    do {                                                                                           \
        if (x)                                                                                     \
            return v->r.err ? v->r.err : EOS_EINVALID;                                             \
    } while (0)

/* The variant of a fused compare-and-branch whose right operand is a local
 * (or a constant). */
static uint32_t fused_cmp_variant(uint32_t op, bool local)
{
    switch (op) {
    case EOS_WASM_OP_BR_IF_I32_NE:
        return local ? EOS_WASM_OP_BR_IF_I32_NE_L : EOS_WASM_OP_BR_IF_I32_NE_C;
    case EOS_WASM_OP_BR_IF_I32_EQ:
        return local ? EOS_WASM_OP_BR_IF_I32_EQ_L : EOS_WASM_OP_BR_IF_I32_EQ_C;
    case EOS_WASM_OP_BR_IF_I32_LT_S:
        return local ? EOS_WASM_OP_BR_IF_I32_LT_S_L : EOS_WASM_OP_BR_IF_I32_LT_S_C;
    case EOS_WASM_OP_BR_IF_I32_LT_U:
        return local ? EOS_WASM_OP_BR_IF_I32_LT_U_L : EOS_WASM_OP_BR_IF_I32_LT_U_C;
    case EOS_WASM_OP_BR_IF_I32_GE_S:
        return local ? EOS_WASM_OP_BR_IF_I32_GE_S_L : EOS_WASM_OP_BR_IF_I32_GE_S_C;
    case EOS_WASM_OP_BR_IF_I32_GE_U:
        return local ? EOS_WASM_OP_BR_IF_I32_GE_U_L : EOS_WASM_OP_BR_IF_I32_GE_U_C;
    case EOS_WASM_OP_BR_IF_I32_GT_S:
        return local ? EOS_WASM_OP_BR_IF_I32_GT_S_L : EOS_WASM_OP_BR_IF_I32_GT_S_C;
    case EOS_WASM_OP_BR_IF_I32_LE_S:
        return local ? EOS_WASM_OP_BR_IF_I32_LE_S_L : EOS_WASM_OP_BR_IF_I32_LE_S_C;
    case EOS_WASM_OP_BR_IF_I32_GT_U:
        return local ? EOS_WASM_OP_BR_IF_I32_GT_U_L : EOS_WASM_OP_BR_IF_I32_GT_U_C;
    case EOS_WASM_OP_BR_IF_I32_LE_U:
        return local ? EOS_WASM_OP_BR_IF_I32_LE_U_L : EOS_WASM_OP_BR_IF_I32_LE_U_C;
    default:
        return 0;
    }
}

/* Fuses the compare just emitted with a following br_if. Returns true when done. */
int eos_wasm__fuse_br_if(eos_wasm__vctx *v, eos_wasm__ctl *l, bool *done)
{
    *done = false;
    uint32_t arity = eos_wasm__v_label_slots(l);
    if (v->nlast == 0 || v->c->local_count + v->nvals - arity != v->c->local_count + l->height)
        return 0;
    uint32_t at = v->last[v->nlast - 1];
    uint32_t fused;
    switch (v->code[at]) {
    case EOS_WASM_OP_I32_EQZ:
        fused = EOS_WASM_OP_BR_IF_I32_EQZ;
        break;
    case EOS_WASM_OP_I32_NE:
        fused = EOS_WASM_OP_BR_IF_I32_NE;
        break;
    case EOS_WASM_OP_I32_EQ:
        fused = EOS_WASM_OP_BR_IF_I32_EQ;
        break;
    case EOS_WASM_OP_I32_LT_S:
        fused = EOS_WASM_OP_BR_IF_I32_LT_S;
        break;
    case EOS_WASM_OP_I32_LT_U:
        fused = EOS_WASM_OP_BR_IF_I32_LT_U;
        break;
    case EOS_WASM_OP_I32_GE_S:
        fused = EOS_WASM_OP_BR_IF_I32_GE_S;
        break;
    case EOS_WASM_OP_I32_GE_U:
        fused = EOS_WASM_OP_BR_IF_I32_GE_U;
        break;
    case EOS_WASM_OP_I32_GT_S:
        fused = EOS_WASM_OP_BR_IF_I32_GT_S;
        break;
    case EOS_WASM_OP_I32_LE_S:
        fused = EOS_WASM_OP_BR_IF_I32_LE_S;
        break;
    case EOS_WASM_OP_I32_GT_U:
        fused = EOS_WASM_OP_BR_IF_I32_GT_U;
        break;
    case EOS_WASM_OP_I32_LE_U:
        fused = EOS_WASM_OP_BR_IF_I32_LE_U;
        break;
    case EOS_WASM_OP_F64_LT:
        fused = EOS_WASM_OP_BR_IF_F64_LT;
        break;
    case EOS_WASM_OP_F64_GT:
        fused = EOS_WASM_OP_BR_IF_F64_GT;
        break;
    case EOS_WASM_OP_F64_LE:
        fused = EOS_WASM_OP_BR_IF_F64_LE;
        break;
    case EOS_WASM_OP_F64_GE:
        fused = EOS_WASM_OP_BR_IF_F64_GE;
        break;
    case EOS_WASM_OP_F64_EQ:
        fused = EOS_WASM_OP_BR_IF_F64_EQ;
        break;
    case EOS_WASM_OP_F64_NE:
        fused = EOS_WASM_OP_BR_IF_F64_NE;
        break;
    default:
        return 0;
    }
    if (at + 1 != v->len)
        return 0;
    /* An operand pushed just before the compare by local.get or i32.const
     * becomes an immediate of the branch. */
    if (fused_cmp_variant(fused, true) && v->nlast >= 2) {
        uint32_t pat = v->last[v->nlast - 2];
        uint32_t prev = v->code[pat];
        if (pat + 2 == at && (prev == EOS_WASM_OP_LOCAL_GET || prev == EOS_WASM_OP_CONST32)) {
            uint32_t imm = v->code[pat + 1];
            uint32_t variant = fused_cmp_variant(fused, prev == EOS_WASM_OP_LOCAL_GET);
            eos_wasm__v_truncate(v, pat);
            v->nlast -= 2;
            TRY(eos_wasm__v_emit_op(v, variant));
            TRY(eos_wasm__v_emit_target(v, l));
            TRY(eos_wasm__v_emit(v, imm));
            *done = true;
            return 0;
        }
    }
    eos_wasm__v_truncate(v, at);
    v->nlast--;
    TRY(eos_wasm__v_emit_op(v, fused));
    TRY(eos_wasm__v_emit_target(v, l));
    *done = true;
    return 0;
}

/* The variant of a binary op whose right operand is a local (or a 32-bit
 * constant), or 0 when there is none. */
static uint32_t operand_variant(uint32_t op, bool local)
{
    switch (op) {
    case EOS_WASM_OP_I32_ADD:
        return local ? EOS_WASM_OP_I32_ADD_L : EOS_WASM_OP_I32_ADD_C;
    case EOS_WASM_OP_I32_SUB:
        return local ? EOS_WASM_OP_I32_SUB_L : EOS_WASM_OP_I32_SUB_C;
    case EOS_WASM_OP_I32_MUL:
        return local ? EOS_WASM_OP_I32_MUL_L : EOS_WASM_OP_I32_MUL_C;
    case EOS_WASM_OP_I32_AND:
        return local ? EOS_WASM_OP_I32_AND_L : EOS_WASM_OP_I32_AND_C;
    case EOS_WASM_OP_I32_OR:
        return local ? EOS_WASM_OP_I32_OR_L : EOS_WASM_OP_I32_OR_C;
    case EOS_WASM_OP_I32_XOR:
        return local ? EOS_WASM_OP_I32_XOR_L : EOS_WASM_OP_I32_XOR_C;
    case EOS_WASM_OP_I32_SHL:
        return local ? EOS_WASM_OP_I32_SHL_L : EOS_WASM_OP_I32_SHL_C;
    case EOS_WASM_OP_I32_SHR_S:
        return local ? EOS_WASM_OP_I32_SHR_S_L : EOS_WASM_OP_I32_SHR_S_C;
    case EOS_WASM_OP_I32_SHR_U:
        return local ? EOS_WASM_OP_I32_SHR_U_L : EOS_WASM_OP_I32_SHR_U_C;
    case EOS_WASM_OP_I32_ROTL:
        return local ? 0 : EOS_WASM_OP_I32_ROTL_C;
    case EOS_WASM_OP_I64_ADD:
        return local ? EOS_WASM_OP_I64_ADD_L : 0;
    case EOS_WASM_OP_I64_SUB:
        return local ? EOS_WASM_OP_I64_SUB_L : 0;
    case EOS_WASM_OP_I64_MUL:
        return local ? EOS_WASM_OP_I64_MUL_L : 0;
    case EOS_WASM_OP_I64_AND:
        return local ? EOS_WASM_OP_I64_AND_L : 0;
    case EOS_WASM_OP_I64_OR:
        return local ? EOS_WASM_OP_I64_OR_L : 0;
    case EOS_WASM_OP_I64_XOR:
        return local ? EOS_WASM_OP_I64_XOR_L : 0;
    case EOS_WASM_OP_I64_SHL:
        return local ? EOS_WASM_OP_I64_SHL_L : 0;
    case EOS_WASM_OP_I64_SHR_U:
        return local ? EOS_WASM_OP_I64_SHR_U_L : 0;
    case EOS_WASM_OP_F64_ADD:
        return local ? EOS_WASM_OP_F64_ADD_L : 0;
    case EOS_WASM_OP_F64_SUB:
        return local ? EOS_WASM_OP_F64_SUB_L : 0;
    case EOS_WASM_OP_F64_MUL:
        return local ? EOS_WASM_OP_F64_MUL_L : 0;
    case EOS_WASM_OP_F64_DIV:
        return local ? EOS_WASM_OP_F64_DIV_L : 0;
    case EOS_WASM_OP_F32_ADD:
        return local ? EOS_WASM_OP_F32_ADD_L : 0;
    case EOS_WASM_OP_F32_SUB:
        return local ? EOS_WASM_OP_F32_SUB_L : 0;
    case EOS_WASM_OP_F32_MUL:
        return local ? EOS_WASM_OP_F32_MUL_L : 0;
    case EOS_WASM_OP_F32_DIV:
        return local ? EOS_WASM_OP_F32_DIV_L : 0;
    default:
        return 0;
    }
}

/* The variant of an i64 or f64 binary op whose right operand is a 64-bit
 * constant (two immediate words), or 0 when there is none. */
static uint32_t const64_variant(uint32_t op)
{
    switch (op) {
    case EOS_WASM_OP_I64_ADD:
        return EOS_WASM_OP_I64_ADD_C;
    case EOS_WASM_OP_I64_SUB:
        return EOS_WASM_OP_I64_SUB_C;
    case EOS_WASM_OP_I64_MUL:
        return EOS_WASM_OP_I64_MUL_C;
    case EOS_WASM_OP_I64_AND:
        return EOS_WASM_OP_I64_AND_C;
    case EOS_WASM_OP_I64_OR:
        return EOS_WASM_OP_I64_OR_C;
    case EOS_WASM_OP_I64_XOR:
        return EOS_WASM_OP_I64_XOR_C;
    case EOS_WASM_OP_I64_SHL:
        return EOS_WASM_OP_I64_SHL_C;
    case EOS_WASM_OP_I64_SHR_S:
        return EOS_WASM_OP_I64_SHR_S_C;
    case EOS_WASM_OP_I64_SHR_U:
        return EOS_WASM_OP_I64_SHR_U_C;
    case EOS_WASM_OP_I64_ROTL:
        return EOS_WASM_OP_I64_ROTL_C;
    case EOS_WASM_OP_F64_ADD:
        return EOS_WASM_OP_F64_ADD_C;
    case EOS_WASM_OP_F64_SUB:
        return EOS_WASM_OP_F64_SUB_C;
    case EOS_WASM_OP_F64_MUL:
        return EOS_WASM_OP_F64_MUL_C;
    case EOS_WASM_OP_F64_DIV:
        return EOS_WASM_OP_F64_DIV_C;
    default:
        return 0;
    }
}

/* Emits a simple numeric op, fusing common sequences with the preceding
 * local.get / i32.const instructions. */
int eos_wasm__fuse_simple(eos_wasm__vctx *v, uint32_t op)
{
    if (op == EOS_WASM_OP_I32_ADD || op == EOS_WASM_OP_I32_SUB) {
        if (v->nlast >= 2) {
            uint32_t a = v->last[v->nlast - 2], b = v->last[v->nlast - 1];
            if (v->code[a] == EOS_WASM_OP_LOCAL_GET && b == a + 2 && b + 2 == v->len &&
                v->code[b] == EOS_WASM_OP_LOCAL_GET) {
                uint32_t la = v->code[a + 1], lb = v->code[b + 1];
                eos_wasm__v_truncate(v, a);
                v->nlast -= 2;
                TRY(eos_wasm__v_emit_op(v, op == EOS_WASM_OP_I32_ADD ? EOS_WASM_OP_LL_I32_ADD
                                                                     : EOS_WASM_OP_LL_I32_SUB));
                TRY(eos_wasm__v_emit(v, la));
                return eos_wasm__v_emit(v, lb);
            }
            if (op == EOS_WASM_OP_I32_ADD && v->code[a] == EOS_WASM_OP_LOCAL_GET && b == a + 2 &&
                b + 2 == v->len && v->code[b] == EOS_WASM_OP_CONST32) {
                uint32_t la = v->code[a + 1], k = v->code[b + 1];
                eos_wasm__v_truncate(v, a);
                v->nlast -= 2;
                TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_LC_I32_ADD));
                TRY(eos_wasm__v_emit(v, la));
                return eos_wasm__v_emit(v, k);
            }
        }
    }
    /* local.get y; op -> op_L y   and   i32.const k; op -> op_C k */
    if (v->nlast >= 1) {
        uint32_t at = v->last[v->nlast - 1];
        uint32_t prev = v->code[at];
        if (at + 2 == v->len && (prev == EOS_WASM_OP_LOCAL_GET || prev == EOS_WASM_OP_CONST32)) {
            uint32_t fused = operand_variant(op, prev == EOS_WASM_OP_LOCAL_GET);
            if (fused) {
                uint32_t imm = v->code[at + 1];
                eos_wasm__v_truncate(v, at);
                v->nlast--;
                TRY(eos_wasm__v_emit_op(v, fused));
                return eos_wasm__v_emit(v, imm);
            }
        }
    }
    /* i64.const / f64.const k; op -> op_C lo hi (validation typed the
     * constant as the op's operand) */
    if (v->nlast >= 1) {
        uint32_t at = v->last[v->nlast - 1];
        uint32_t fused = const64_variant(op);
        if (fused && at + 3 == v->len && v->code[at] == EOS_WASM_OP_CONST64) {
            uint32_t lo = v->code[at + 1], hi = v->code[at + 2];
            eos_wasm__v_truncate(v, at);
            v->nlast--;
            TRY(eos_wasm__v_emit_op(v, fused));
            TRY(eos_wasm__v_emit(v, lo));
            return eos_wasm__v_emit(v, hi);
        }
    }
    return eos_wasm__v_emit_op(v, op);
}

int eos_wasm__fuse_local_set(eos_wasm__vctx *v, uint32_t idx)
{
    /* LC_I32_ADD a k; local.set x  ->  LC_I32_ADD_SET a k x */
    if (v->nlast >= 1) {
        uint32_t at = v->last[v->nlast - 1];
        if (v->code[at] == EOS_WASM_OP_LC_I32_ADD && at + 3 == v->len) {
            v->code[at] = EOS_WASM_OP_LC_I32_ADD_SET;
            v->nlast = 0; /* nothing fuses with a set */
            return eos_wasm__v_emit(v, idx);
        }
    }
    /* local.get a; local.set b -> LOCAL_COPY a b;  const k; local.set b -> LOCAL_SET_C32 */
    if (v->nlast >= 1) {
        uint32_t at = v->last[v->nlast - 1];
        uint32_t prev = v->code[at];
        if (at + 2 == v->len && (prev == EOS_WASM_OP_LOCAL_GET || prev == EOS_WASM_OP_CONST32)) {
            v->code[at] =
                prev == EOS_WASM_OP_LOCAL_GET ? EOS_WASM_OP_LOCAL_COPY : EOS_WASM_OP_LOCAL_SET_C32;
            v->nlast = 0;
            return eos_wasm__v_emit(v, idx);
        }
    }
    TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_LOCAL_SET));
    return eos_wasm__v_emit(v, idx);
}
