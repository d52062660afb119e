/* Validation and translation of the function-references instructions
 * (call_ref, return_call_ref, ref.as_non_null, br_on_null, br_on_non_null)
 * and the rule that a non-defaultable local is read only once set: locals
 * set inside a block count as unset again after its end. */
#include "internal.h"

#define FAIL(...) eos_wasm__rd_fail(&v->r, __VA_ARGS__)
#define TRY(x)                                                                                     \
    do {                                                                                           \
        if (x)                                                                                     \
            return v->r.err ? v->r.err : EOS_EINVALID;                                             \
    } while (0)

/* The non-null version of reference type t (0, the bottom type, stays). */
static int non_null(eos_wasm__vctx *v, uint8_t t, uint8_t *out)
{
    if (t == 0) {
        *out = 0;
        return 0;
    }
    eos_wasm__reftype r = eos_wasm__ref_info(v->m, t);
    int rc = eos_wasm__ref_intern(v->m, r.heap, false, out);
    if (rc)
        return FAIL(rc, "too many distinct reference types in one module");
    return 0;
}

static int pop_ref(eos_wasm__vctx *v, uint8_t *t)
{
    TRY(eos_wasm__v_pop(v, 0, t));
    if (*t != 0 && !eos_wasm__is_ref(*t))
        return FAIL(EOS_EINVALID, "type mismatch: expected a reference, found 0x%02x", *t);
    return 0;
}

static int call_ref(eos_wasm__vctx *v, bool tail)
{
    eos_wasm_module *m = v->m;
    uint32_t ti;
    uint8_t t;
    TRY(eos_wasm__v_read_idx(v, m->type_count, "type", &ti));
    TRY(pop_ref(v, &t));
    if (t != 0) {
        eos_wasm__reftype r = eos_wasm__ref_info(m, t);
        if (r.heap != EOS_WASM__HT_NOFUNC &&
            (r.heap >= EOS_WASM__HT_FUNC || m->type_canon[r.heap] != m->type_canon[ti]))
            return FAIL(EOS_EINVALID, "type mismatch: call_ref operand is not of type %u", ti);
    }
    const eos_wasm_functype *ft = &m->types[ti];
    TRY(eos_wasm__v_pop_types(v, ft->params, ft->param_count));
    if (tail) {
        if (!eos_wasm__results_sub(m, ft, v->ft))
            return FAIL(EOS_EINVALID, "type mismatch: tail call results differ");
    }
    if (eos_wasm__v_live(v))
        TRY(eos_wasm__v_emit_op(v, tail ? EOS_WASM_OP_RETURN_CALL_REF : EOS_WASM_OP_CALL_REF));
    if (tail) {
        eos_wasm__v_set_unreachable(v);
        return 0;
    }
    return eos_wasm__v_push_types(v, ft->results, ft->result_count);
}

static int emit_br_on(eos_wasm__vctx *v, uint32_t op, eos_wasm__ctl *l)
{
    if (!eos_wasm__v_live(v))
        return 0;
    TRY(eos_wasm__v_emit_op(v, op));
    TRY(eos_wasm__v_emit_target(v, l));
    TRY(eos_wasm__v_emit(v, v->c->local_count + l->height));
    return eos_wasm__v_emit(v, eos_wasm__v_label_slots(l));
}

static int br_on_null(eos_wasm__vctx *v, bool non)
{
    uint32_t li;
    uint8_t t, nn;
    TRY(eos_wasm__v_read_idx(v, v->nctls, "label", &li));
    eos_wasm__ctl *l = &v->ctls[v->nctls - 1 - li];
    const uint8_t *ts = eos_wasm__v_label_types(l);
    uint32_t n = eos_wasm__v_label_arity(l);
    TRY(pop_ref(v, &t));
    TRY(non_null(v, t, &nn));
    if (!non) {
        TRY(eos_wasm__v_pop_types(v, ts, n));
        TRY(eos_wasm__v_push_types(v, ts, n));
        TRY(eos_wasm__v_push(v, nn));
        return emit_br_on(v, EOS_WASM_OP_BR_ON_NULL, l);
    }
    if (n == 0 || !eos_wasm__is_ref(ts[n - 1]))
        return FAIL(EOS_EINVALID, "type mismatch: br_on_non_null label needs a reference last");
    TRY(eos_wasm__v_push(v, nn));
    TRY(eos_wasm__v_pop_types(v, ts, n));
    TRY(eos_wasm__v_push_types(v, ts, n));
    /* Emitted with the reference still counted: the branch carries it. */
    TRY(emit_br_on(v, EOS_WASM_OP_BR_ON_NON_NULL, l));
    return eos_wasm__v_pop(v, 0, NULL);
}

int eos_wasm__v_funcref(eos_wasm__vctx *v, uint8_t b)
{
    uint8_t t, nn;
    switch (b) {
    case 0x14:
        return call_ref(v, false);
    case 0x15:
        if (v->m->features.disable_tail_call)
            return FAIL(EOS_EMALFORMED, "illegal opcode 0x15 (tail calls are disabled)");
        return call_ref(v, true);
    case 0xd4:
        TRY(pop_ref(v, &t));
        TRY(non_null(v, t, &nn));
        TRY(eos_wasm__v_push(v, nn));
        return eos_wasm__v_live(v) ? eos_wasm__v_emit_op(v, EOS_WASM_OP_REF_AS_NON_NULL) : 0;
    case 0xd5:
        return br_on_null(v, false);
    default:
        return br_on_null(v, true);
    }
}

/* ---- non-defaultable locals -------------------------------------------- */

int eos_wasm__v_locals_init(eos_wasm__vctx *v)
{
    TRY(eos_wasm__v_grow(v, (void **)&v->local_unset, &v->cap_local_unset, v->nlocals + 1, 1));
    v->ninit = 0;
    for (uint32_t i = 0; i < v->nlocals; i++)
        v->local_unset[i] = i >= v->ft->param_count &&
                            !eos_wasm__defaultable(v->m, v->c->local_types[i]);
    return 0;
}

int eos_wasm__v_local_get_check(eos_wasm__vctx *v, uint32_t idx)
{
    if (v->local_unset[idx])
        return FAIL(EOS_EINVALID, "uninitialized local %u", idx);
    return 0;
}

int eos_wasm__v_local_set_mark(eos_wasm__vctx *v, uint32_t idx)
{
    if (!v->local_unset[idx])
        return 0;
    TRY(eos_wasm__v_grow(v, (void **)&v->init_stack, &v->cap_init, v->ninit + 1, sizeof(uint32_t)));
    v->local_unset[idx] = 0;
    v->init_stack[v->ninit++] = idx;
    return 0;
}

void eos_wasm__v_locals_reset(eos_wasm__vctx *v, uint32_t height)
{
    while (v->ninit > height)
        v->local_unset[v->init_stack[--v->ninit]] = 1;
}
