/* Validation and translation: type-checks every function body with the
 * algorithm of the spec appendix (operand stack of types, control frames,
 * polymorphic stack after unconditional branches) and, in the same pass,
 * emits the internal form: decoded immediates, resolved branch targets and
 * slot offsets, so nothing is decoded or looked up at run time. */
#include "internal.h"

#include <stdio.h>

static bool is_ref(uint8_t t)
{
    return eos_wasm__is_ref(t);
}

/* ---- function bodies ------------------------------------------------------ */

#define NO_PATCH   UINT32_MAX
#define MAX_LOCALS 50000u
#define UNKNOWN    0

static const uint8_t single_type[256] = {
    [EOS_WASM_I32] = EOS_WASM_I32,         [EOS_WASM_I64] = EOS_WASM_I64,
    [EOS_WASM_F32] = EOS_WASM_F32,         [EOS_WASM_F64] = EOS_WASM_F64,
    [EOS_WASM_FUNCREF] = EOS_WASM_FUNCREF, [EOS_WASM_EXTERNREF] = EOS_WASM_EXTERNREF,
    [EOS_WASM_V128] = EOS_WASM_V128,       [EOS_WASM_EXNREF] = EOS_WASM_EXNREF,
};

const char *const eos_wasm__op_sig[] = {
#define EOS__OP_SIG(name, code, sig, meaning) sig,
    EOS_WASM_OPS(EOS__OP_SIG)
#undef EOS__OP_SIG
};
static const int op_code[] = {
#define EOS__OP_CODE(name, code, sig, meaning) code,
    EOS_WASM_OPS(EOS__OP_CODE)
#undef EOS__OP_CODE
};

#define FAIL(...) eos_wasm__rd_fail(&v->r, __VA_ARGS__)
#define TRY(x)                                                                                     \
    do {                                                                                           \
        if (x)                                                                                     \
            return v->r.err ? v->r.err : EOS_EINVALID;                                             \
    } while (0)

int eos_wasm__v_grow(eos_wasm__vctx *v, void **p, uint32_t *cap, uint32_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    /* Keeps the doubling below from overflowing; no real function comes close. */
    if (need > (1u << 28))
        return FAIL(EOS_ELIMIT, "function too large to translate");
    uint32_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    void *np = eos_realloc(*p, (size_t)*cap * size, (size_t)ncap * size);
    if (!np)
        return FAIL(EOS_ENOMEM, "out of memory translating a function");
    *p = np;
    *cap = ncap;
    return 0;
}

/* Pops a value expected to be of type want (UNKNOWN = any); *out receives the
 * actual type (UNKNOWN from the polymorphic stack). */
int eos_wasm__v_pop(eos_wasm__vctx *v, uint8_t want, uint8_t *out)
{
    eos_wasm__ctl *c = eos_wasm__v_top(v);
    uint8_t t;
    if (v->nvals == c->height) {
        if (!c->unreachable)
            return FAIL(EOS_EINVALID, "type mismatch: operand stack is empty");
        t = UNKNOWN;
    } else {
        t = v->vals[--v->nvals];
        /* A v128 is two entries, its high half on top. */
        if (t == EOS_WASM__V128_HI) {
            if (want != UNKNOWN && want != EOS_WASM_V128)
                return FAIL(EOS_EINVALID, "type mismatch: expected 0x%02x, found v128", want);
            t = v->vals[--v->nvals];
        }
    }
    if (want != UNKNOWN && t != UNKNOWN && t != want && !eos_wasm__val_sub(v->m, t, want))
        return FAIL(EOS_EINVALID, "type mismatch: expected 0x%02x, found 0x%02x", want, t);
    if (out)
        *out = t == UNKNOWN ? want : t;
    return 0;
}

static void label_here(eos_wasm__vctx *v)
{
    v->nlast = 0;
}

static void patch_list(eos_wasm__vctx *v, uint32_t head, uint32_t target)
{
    while (head != NO_PATCH) {
        uint32_t next = v->code[head];
        v->code[head] = target;
        head = next;
    }
}

int eos_wasm__v_emit_target(eos_wasm__vctx *v, eos_wasm__ctl *l)
{
    if (l->kind == EOS_WASM__CTL_LOOP)
        return eos_wasm__v_emit(v, l->target);
    TRY(eos_wasm__v_emit(v, l->patch));
    l->patch = v->len - 1;
    return 0;
}

uint32_t eos_wasm__v_label_arity(const eos_wasm__ctl *l)
{
    return l->kind == EOS_WASM__CTL_LOOP ? l->nparams : l->nresults;
}

const uint8_t *eos_wasm__v_label_types(const eos_wasm__ctl *l)
{
    return l->kind == EOS_WASM__CTL_LOOP ? l->params : l->results;
}

uint32_t eos_wasm__v_label_slots(const eos_wasm__ctl *l)
{
    return eos_wasm__slots_of(eos_wasm__v_label_types(l), eos_wasm__v_label_arity(l));
}

/* Emits a branch to l from the current height (operands already popped and
 * pushed back as the spec algorithm does). */
static int emit_branch(eos_wasm__vctx *v, eos_wasm__ctl *l, uint32_t plain, uint32_t move)
{
    uint32_t arity = eos_wasm__v_label_slots(l);
    uint32_t dst = v->c->local_count + l->height;
    uint32_t cur = v->c->local_count + v->nvals;
    if (cur - arity == dst) {
        TRY(eos_wasm__v_emit_op(v, plain));
        return eos_wasm__v_emit_target(v, l);
    }
    TRY(eos_wasm__v_emit_op(v, move));
    TRY(eos_wasm__v_emit_target(v, l));
    TRY(eos_wasm__v_emit(v, dst));
    return eos_wasm__v_emit(v, arity);
}

static int push_ctl(eos_wasm__vctx *v, uint8_t kind, const uint8_t *params, uint32_t np,
                    const uint8_t *results, uint32_t nr)
{
    TRY(eos_wasm__v_grow(v, (void **)&v->ctls, &v->cap_ctls, v->nctls + 1, sizeof(eos_wasm__ctl)));
    eos_wasm__ctl *c = &v->ctls[v->nctls++];
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->params = params;
    c->nparams = np;
    c->results = results;
    c->nresults = nr;
    c->height = v->nvals;
    c->patch = NO_PATCH;
    c->else_patch = NO_PATCH;
    c->target = v->len;
    c->init_height = v->ninit;
    return eos_wasm__v_push_types(v, params, np);
}

static int read_blocktype(eos_wasm__vctx *v, const uint8_t **params, uint32_t *np,
                          const uint8_t **results, uint32_t *nr)
{
    if (v->r.p >= v->r.end)
        return FAIL(EOS_EMALFORMED, "unexpected end");
    uint8_t b = *v->r.p;
    *np = *nr = 0;
    *params = *results = NULL;
    if (b == 0x40) {
        v->r.p++;
        return 0;
    }
    if (single_type[b]) {
        v->r.p++;
        *results = &single_type[b];
        *nr = 1;
        return 0;
    }
    if (b == 0x63 || b == 0x64) {
        uint8_t t;
        v->r.p++;
        TRY(eos_wasm__read_reftype(&v->r, v->m, b, &t));
        *results = &eos_wasm__codes[t];
        *nr = 1;
        return 0;
    }
    int64_t idx;
    TRY(eos_wasm__rd_sleb(&v->r, 33, &idx));
    if (idx < 0 || idx >= v->m->type_count)
        return FAIL(EOS_EINVALID, "unknown type %lld in block type", (long long)idx);
    const eos_wasm_functype *t = &v->m->types[idx];
    *params = t->params;
    *np = t->param_count;
    *results = t->results;
    *nr = t->result_count;
    return 0;
}

int eos_wasm__v_read_idx(eos_wasm__vctx *v, uint32_t limit, const char *what, uint32_t *out)
{
    TRY(eos_wasm__rd_u32(&v->r, out));
    if (*out >= limit)
        return FAIL(EOS_EINVALID, "unknown %s %u", what, *out);
    return 0;
}

/* Reads a memory index: a single zero byte without multi-memory. */
int eos_wasm__v_read_memidx(eos_wasm__vctx *v, uint32_t *out)
{
    if (v->m->features.disable_multi_memory) {
        uint8_t b;
        TRY(eos_wasm__rd_byte(&v->r, &b));
        if (b != 0)
            return FAIL(EOS_EMALFORMED, "zero byte expected");
        *out = 0;
        if (v->m->memory_count == 0)
            return FAIL(EOS_EINVALID, "unknown memory 0");
        return 0;
    }
    return eos_wasm__v_read_idx(v, v->m->memory_count, "memory", out);
}

static int check_table(eos_wasm__vctx *v, uint32_t *t)
{
    return eos_wasm__v_read_idx(v, v->m->table_count, "table", t);
}

static int do_call(eos_wasm__vctx *v, uint32_t f, bool tail)
{
    eos_wasm_module *m = v->m;
    const eos_wasm_functype *t = &m->types[m->func_types[f]];
    TRY(eos_wasm__v_pop_types(v, t->params, t->param_count));
    if (tail) {
        if (!eos_wasm__results_sub(m, t, v->ft))
            return FAIL(EOS_EINVALID, "type mismatch: tail call results differ");
        if (eos_wasm__v_live(v)) {
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_RETURN_CALL));
            TRY(eos_wasm__v_emit(v, f));
        }
        eos_wasm__v_set_unreachable(v);
        return 0;
    }
    if (eos_wasm__v_live(v)) {
        if (f < m->func_import_count) {
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_CALL_IMPORT));
            TRY(eos_wasm__v_emit(v, f));
        } else {
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_CALL));
            TRY(eos_wasm__v_emit(v, f - m->func_import_count));
        }
    }
    return eos_wasm__v_push_types(v, t->results, t->result_count);
}

static int do_call_indirect(eos_wasm__vctx *v, bool tail)
{
    eos_wasm_module *m = v->m;
    uint32_t ti, tab;
    TRY(eos_wasm__v_read_idx(v, m->type_count, "type", &ti));
    TRY(check_table(v, &tab));
    if (m->tables[tab].elem_type != EOS_WASM_FUNCREF)
        return FAIL(EOS_EINVALID, "type mismatch: call_indirect on a non-funcref table");
    const eos_wasm_functype *t = &m->types[ti];
    TRY(eos_wasm__v_pop(v, eos_wasm__table_at(m, tab), NULL));
    TRY(eos_wasm__v_pop_types(v, t->params, t->param_count));
    if (tail) {
        if (!eos_wasm__results_sub(m, t, v->ft))
            return FAIL(EOS_EINVALID, "type mismatch: tail call results differ");
    }
    if (m->tables[tab].limits.is64)
        TRY(eos_wasm__v_indirect64(v, tab));
    if (eos_wasm__v_live(v)) {
        TRY(eos_wasm__v_emit_op(v, tail ? EOS_WASM_OP_RETURN_CALL_INDIRECT
                                        : EOS_WASM_OP_CALL_INDIRECT));
        TRY(eos_wasm__v_emit(v, m->type_canon[ti]));
        TRY(eos_wasm__v_emit(v, tab));
    }
    if (tail) {
        eos_wasm__v_set_unreachable(v);
        return 0;
    }
    return eos_wasm__v_push_types(v, t->results, t->result_count);
}

static int do_br_table(eos_wasm__vctx *v)
{
    uint32_t n;
    TRY(eos_wasm__rd_u32(&v->r, &n));
    if (n > (size_t)(v->r.end - v->r.p))
        return FAIL(EOS_EMALFORMED, "unexpected end in br_table");
    TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
    const uint8_t *labels = v->r.p;
    uint32_t dflt;
    /* First pass: validate every label (the spec algorithm). */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l;
        TRY(eos_wasm__rd_u32(&v->r, &l));
    }
    TRY(eos_wasm__v_read_idx(v, v->nctls, "label", &dflt));
    eos_wasm__ctl *dl = &v->ctls[v->nctls - 1 - dflt];
    uint32_t arity = eos_wasm__v_label_arity(dl);
    const uint8_t *after = v->r.p;
    v->r.p = labels;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l;
        TRY(eos_wasm__v_read_idx(v, v->nctls, "label", &l));
        eos_wasm__ctl *lc = &v->ctls[v->nctls - 1 - l];
        if (eos_wasm__v_label_arity(lc) != arity)
            return FAIL(EOS_EINVALID, "type mismatch: br_table label arities differ");
        /* Pop and re-push to check the types, keeping the polymorphic stack. */
        uint32_t save = v->nvals;
        const uint8_t *ts = eos_wasm__v_label_types(lc);
        uint8_t popped;
        for (uint32_t k = arity; k-- > 0;)
            TRY(eos_wasm__v_pop(v, ts[k], &popped));
        v->nvals = save;
        if (v->nvals < eos_wasm__v_top(v)->height)
            v->nvals = eos_wasm__v_top(v)->height;
    }
    TRY(eos_wasm__v_pop_types(v, eos_wasm__v_label_types(dl), arity));
    TRY(eos_wasm__v_push_types(v, eos_wasm__v_label_types(dl), arity));
    if (eos_wasm__v_live(v)) {
        TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_BR_TABLE));
        TRY(eos_wasm__v_emit(v, n));
        v->r.p = labels;
        for (uint32_t i = 0; i <= n; i++) {
            uint32_t l;
            TRY(eos_wasm__rd_u32(&v->r, &l));
            eos_wasm__ctl *lc = &v->ctls[v->nctls - 1 - l];
            TRY(eos_wasm__v_emit_target(v, lc));
            TRY(eos_wasm__v_emit(v, v->c->local_count + lc->height));
            TRY(eos_wasm__v_emit(v, eos_wasm__v_label_slots(lc)));
        }
    }
    v->r.p = after;
    eos_wasm__v_set_unreachable(v);
    return 0;
}

static uint8_t sig_type(char c)
{
    switch (c) {
    case 'i':
        return EOS_WASM_I32;
    case 'I':
        return EOS_WASM_I64;
    case 'f':
        return EOS_WASM_F32;
    default:
        return EOS_WASM_F64;
    }
}

static int do_simple(eos_wasm__vctx *v, uint32_t op)
{
    const char *sig = eos_wasm__op_sig[op];
    const char *colon = strchr(sig, ':');
    for (const char *p = colon; p-- > sig;)
        TRY(eos_wasm__v_pop(v, sig_type(*p), NULL));
    TRY(eos_wasm__v_push(v, sig_type(colon[1])));
    return eos_wasm__v_live(v) ? eos_wasm__fuse_simple(v, op) : 0;
}

static int do_block(eos_wasm__vctx *v, uint8_t kind)
{
    const uint8_t *params, *results;
    uint32_t np, nr;
    TRY(read_blocktype(v, &params, &np, &results, &nr));
    if (kind == EOS_WASM__CTL_IF)
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
    TRY(eos_wasm__v_pop_types(v, params, np));
    bool was_live = eos_wasm__v_live(v);
    uint32_t else_at = NO_PATCH;
    if (kind == EOS_WASM__CTL_IF && was_live) {
        TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_BR_UNLESS));
        TRY(eos_wasm__v_emit(v, NO_PATCH));
        else_at = v->len - 1;
    }
    if (kind == EOS_WASM__CTL_LOOP)
        label_here(v);
    TRY(push_ctl(v, kind, params, np, results, nr));
    eos_wasm__v_top(v)->else_patch = else_at;
    /* A loop header charges fuel: every iteration passes through it. */
    if (kind == EOS_WASM__CTL_LOOP && was_live)
        TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_FUEL));
    if (!was_live)
        eos_wasm__v_top(v)->unreachable = false;
    return 0;
}

static int do_else(eos_wasm__vctx *v)
{
    eos_wasm__ctl *c = eos_wasm__v_top(v);
    if (c->kind != EOS_WASM__CTL_IF)
        return FAIL(EOS_EMALFORMED, "else without matching if");
    TRY(eos_wasm__v_pop_types(v, c->results, c->nresults));
    if (v->nvals != c->height)
        return FAIL(EOS_EINVALID, "type mismatch: values left at else");
    if (eos_wasm__v_live(v)) {
        TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_BR));
        TRY(eos_wasm__v_emit_target(v, c));
    }
    if (c->else_patch != NO_PATCH)
        v->code[c->else_patch] = v->len;
    c->else_patch = NO_PATCH;
    eos_wasm__v_locals_reset(v, c->init_height);
    label_here(v);
    c->kind = EOS_WASM__CTL_ELSE;
    c->unreachable = false;
    return eos_wasm__v_push_types(v, c->params, c->nparams);
}

/* Returns 1 when the function's final end was processed. */
static int do_end(eos_wasm__vctx *v, bool *done)
{
    eos_wasm__ctl *c = eos_wasm__v_top(v);
    TRY(eos_wasm__v_pop_types(v, c->results, c->nresults));
    if (v->nvals != c->height)
        return FAIL(EOS_EINVALID, "type mismatch: values left at end of block");
    if (c->kind == EOS_WASM__CTL_IF) {
        if (c->nparams != c->nresults ||
            (c->nparams && memcmp(c->params, c->results, c->nparams) != 0))
            return FAIL(EOS_EINVALID, "type mismatch: if without else must keep its types");
        if (c->else_patch != NO_PATCH)
            v->code[c->else_patch] = v->len;
    }
    if (c->kind == EOS_WASM__CTL_TRY_TABLE)
        TRY(eos_wasm__v_eh_end(v, c));
    label_here(v);
    if (c->kind != EOS_WASM__CTL_LOOP)
        patch_list(v, c->patch, v->len);
    if (c->kind == EOS_WASM__CTL_FUNC) {
        TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_RETURN));
        *done = true;
        return 0;
    }
    const uint8_t *res = c->results;
    uint32_t nr = c->nresults;
    eos_wasm__v_locals_reset(v, c->init_height);
    v->nctls--;
    return eos_wasm__v_push_types(v, res, nr);
}

static int do_br(eos_wasm__vctx *v, bool cond)
{
    uint32_t l;
    if (cond)
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
    TRY(eos_wasm__v_read_idx(v, v->nctls, "label", &l));
    eos_wasm__ctl *lc = &v->ctls[v->nctls - 1 - l];
    TRY(eos_wasm__v_pop_types(v, eos_wasm__v_label_types(lc), eos_wasm__v_label_arity(lc)));
    if (cond) {
        TRY(eos_wasm__v_push_types(v, eos_wasm__v_label_types(lc), eos_wasm__v_label_arity(lc)));
        if (!eos_wasm__v_live(v))
            return 0;
        bool fused;
        TRY(eos_wasm__fuse_br_if(v, lc, &fused));
        if (fused)
            return 0;
        return emit_branch(v, lc, EOS_WASM_OP_BR_IF, EOS_WASM_OP_BR_IF_MOVE);
    }
    if (eos_wasm__v_live(v)) {
        if (lc->kind == EOS_WASM__CTL_FUNC)
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_RETURN));
        else {
            /* Values may sit above the label's results: push them back so the
             * move reads them from the top of the stack. */
            v->nvals += eos_wasm__v_label_slots(lc);
            TRY(emit_branch(v, lc, EOS_WASM_OP_BR, EOS_WASM_OP_BR_MOVE));
        }
    }
    eos_wasm__v_set_unreachable(v);
    return 0;
}

static int do_op(eos_wasm__vctx *v, uint8_t b, bool *done)
{
    eos_wasm_module *m = v->m;
    uint32_t idx;
    uint8_t t, t2;
    /* memory64, table64, custom page sizes: validate_mem64.c */
    if (m->uses_mem64 && eos_wasm__v_mem64_claims(b))
        return eos_wasm__v_mem64(v, b);
    switch (b) {
    case 0x00:
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_UNREACHABLE));
        eos_wasm__v_set_unreachable(v);
        return 0;
    case 0x01:
        return 0;
    case 0x02:
        return do_block(v, EOS_WASM__CTL_BLOCK);
    case 0x03:
        return do_block(v, EOS_WASM__CTL_LOOP);
    case 0x04:
        return do_block(v, EOS_WASM__CTL_IF);
    case 0x05:
        return do_else(v);
    case 0x0b:
        return do_end(v, done);
    case 0x08: /* exception handling (validate_eh.c): throw, throw_ref, legacy rethrow; */
    case 0x0a: /* then try_table, and the legacy try, catch, catch_all and delegate */
    case 0x09:
        return eos_wasm__v_eh(v, b);
    case 0x06:
    case 0x1f: {
        const uint8_t *params, *results;
        uint32_t np, nr, at = UINT32_MAX;
        TRY(read_blocktype(v, &params, &np, &results, &nr));
        if (b == 0x1f)
            TRY(eos_wasm__v_try_table(v, &at));
        else /* an empty TRY_TABLE: the body starts past any label before it */
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_TRY_TABLE) || eos_wasm__v_emit(v, 0));
        TRY(eos_wasm__v_pop_types(v, params, np));
        bool was_live = eos_wasm__v_live(v);
        TRY(push_ctl(v, b == 0x1f ? EOS_WASM__CTL_TRY_TABLE : EOS_WASM__CTL_TRY, params, np,
                     results, nr));
        label_here(v);
        eos_wasm__v_top(v)->else_patch = at;
        if (!was_live)
            eos_wasm__v_top(v)->unreachable = false;
        return 0;
    }
    case 0x07:
    case 0x19: {
        eos_wasm__ctl *c = eos_wasm__v_top(v);
        if (c->kind != EOS_WASM__CTL_TRY && c->kind != EOS_WASM__CTL_CATCH)
            return FAIL(EOS_EMALFORMED, "catch without matching try");
        TRY(eos_wasm__v_pop_types(v, c->results, c->nresults));
        if (v->nvals != c->height)
            return FAIL(EOS_EINVALID, "type mismatch: values left at catch");
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_BR) || eos_wasm__v_emit_target(v, c));
        label_here(v);
        return eos_wasm__v_catch(v, b);
    }
    case 0x18:
        TRY(eos_wasm__v_delegate(v));
        return do_end(v, done);
    case 0x0c:
        return do_br(v, false);
    case 0x0d:
        return do_br(v, true);
    case 0x0e:
        return do_br_table(v);
    case 0x0f:
        TRY(eos_wasm__v_pop_types(v, v->ft->results, v->ft->result_count));
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_RETURN));
        eos_wasm__v_set_unreachable(v);
        return 0;
    case 0x10:
        TRY(eos_wasm__v_read_idx(v, m->func_count, "function", &idx));
        return do_call(v, idx, false);
    case 0x11:
        return do_call_indirect(v, false);
    case 0x14:
    case 0x15:
    case 0xd4:
    case 0xd5:
    case 0xd6:
        return eos_wasm__v_funcref(v, b);
    case 0x12:
    case 0x13:
        if (m->features.disable_tail_call)
            return FAIL(EOS_EMALFORMED, "illegal opcode 0x%02x (tail calls are disabled)", b);
        if (b == 0x13)
            return do_call_indirect(v, true);
        TRY(eos_wasm__v_read_idx(v, m->func_count, "function", &idx));
        return do_call(v, idx, true);
    case 0x1a:
        TRY(eos_wasm__v_pop(v, UNKNOWN, &t));
        if (!eos_wasm__v_live(v))
            return 0;
        if (t == EOS_WASM_V128)
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_DROP));
        return eos_wasm__v_emit_op(v, EOS_WASM_OP_DROP);
    case 0x1b:
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, UNKNOWN, &t));
        TRY(eos_wasm__v_pop(v, UNKNOWN, &t2));
        if (is_ref(t) || is_ref(t2))
            return FAIL(EOS_EINVALID, "type mismatch: select needs a type for references");
        if (t != UNKNOWN && t2 != UNKNOWN && t != t2)
            return FAIL(EOS_EINVALID, "type mismatch: select operands differ");
        TRY(eos_wasm__v_push(v, t != UNKNOWN ? t : t2));
        return eos_wasm__v_live(v)
                   ? eos_wasm__v_emit_op(v, t == EOS_WASM_V128 ? EOS_WASM_OP_SELECT_V128
                                                               : EOS_WASM_OP_SELECT)
                   : 0;
    case 0x1c: {
        uint32_t n;
        TRY(eos_wasm__rd_u32(&v->r, &n));
        if (n != 1)
            return FAIL(EOS_EINVALID, "invalid result arity for select");
        TRY(eos_wasm__rd_byte(&v->r, &t));
        if (t == 0x63 || t == 0x64)
            TRY(eos_wasm__read_reftype(&v->r, m, t, &t));
        else if (!single_type[t])
            return FAIL(EOS_EMALFORMED, "malformed value type");
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, t, NULL));
        TRY(eos_wasm__v_pop(v, t, NULL));
        TRY(eos_wasm__v_push(v, t));
        return eos_wasm__v_live(v)
                   ? eos_wasm__v_emit_op(v, t == EOS_WASM_V128 ? EOS_WASM_OP_SELECT_V128
                                                               : EOS_WASM_OP_SELECT)
                   : 0;
    }
    case 0x20:
        TRY(eos_wasm__v_read_idx(v, v->nlocals, "local", &idx));
        TRY(eos_wasm__v_local_get_check(v, idx));
        TRY(eos_wasm__v_push(v, v->c->local_types[idx]));
        if (!eos_wasm__v_live(v))
            return 0;
        if (v->c->local_types[idx] == EOS_WASM_V128)
            return eos_wasm__v_emit_op(v, EOS_WASM_OP_LOCAL_GET_V128) ||
                   eos_wasm__v_emit(v, v->local_slot[idx]);
        idx = v->local_slot[idx];
        /* local.tee a; local.get b -> LOCAL_TEE_GET a b */
        if (v->nlast >= 1 && v->code[v->last[v->nlast - 1]] == EOS_WASM_OP_LOCAL_TEE &&
            v->last[v->nlast - 1] + 2 == v->len) {
            v->code[v->last[v->nlast - 1]] = EOS_WASM_OP_LOCAL_TEE_GET;
            v->nlast = 0;
            return eos_wasm__v_emit(v, idx);
        }
        return eos_wasm__v_emit_op(v, EOS_WASM_OP_LOCAL_GET) || eos_wasm__v_emit(v, idx);
    case 0x21:
        TRY(eos_wasm__v_read_idx(v, v->nlocals, "local", &idx));
        TRY(eos_wasm__v_pop(v, v->c->local_types[idx], NULL));
        TRY(eos_wasm__v_local_set_mark(v, idx));
        if (!eos_wasm__v_live(v))
            return 0;
        if (v->c->local_types[idx] == EOS_WASM_V128)
            return eos_wasm__v_emit_op(v, EOS_WASM_OP_LOCAL_SET_V128) ||
                   eos_wasm__v_emit(v, v->local_slot[idx]);
        return eos_wasm__fuse_local_set(v, v->local_slot[idx]);
    case 0x22:
        TRY(eos_wasm__v_read_idx(v, v->nlocals, "local", &idx));
        TRY(eos_wasm__v_pop(v, v->c->local_types[idx], NULL));
        TRY(eos_wasm__v_local_set_mark(v, idx));
        TRY(eos_wasm__v_push(v, v->c->local_types[idx]));
        if (!eos_wasm__v_live(v))
            return 0;
        return eos_wasm__v_emit_op(v, v->c->local_types[idx] == EOS_WASM_V128
                                          ? EOS_WASM_OP_LOCAL_TEE_V128
                                          : EOS_WASM_OP_LOCAL_TEE) ||
               eos_wasm__v_emit(v, v->local_slot[idx]);
    case 0x23:
        TRY(eos_wasm__v_read_idx(v, m->global_count, "global", &idx));
        TRY(eos_wasm__v_push(v, m->globals[idx].type.valtype));
        return eos_wasm__v_live(v)
                   ? (eos_wasm__v_emit_op(v, m->globals[idx].type.valtype == EOS_WASM_V128
                                                 ? EOS_WASM_OP_GLOBAL_GET_V128
                                                 : EOS_WASM_OP_GLOBAL_GET) ||
                      eos_wasm__v_emit(v, idx))
                   : 0;
    case 0x24:
        TRY(eos_wasm__v_read_idx(v, m->global_count, "global", &idx));
        if (!m->globals[idx].type.mutable_)
            return FAIL(EOS_EINVALID, "global is immutable");
        TRY(eos_wasm__v_pop(v, m->globals[idx].type.valtype, NULL));
        return eos_wasm__v_live(v)
                   ? (eos_wasm__v_emit_op(v, m->globals[idx].type.valtype == EOS_WASM_V128
                                                 ? EOS_WASM_OP_GLOBAL_SET_V128
                                                 : EOS_WASM_OP_GLOBAL_SET) ||
                      eos_wasm__v_emit(v, idx))
                   : 0;
    case 0x25:
        TRY(check_table(v, &idx));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_push(v, m->tables[idx].elem_type));
        return eos_wasm__v_live(v)
                   ? (eos_wasm__v_emit_op(v, EOS_WASM_OP_TABLE_GET) || eos_wasm__v_emit(v, idx))
                   : 0;
    case 0x26:
        TRY(check_table(v, &idx));
        TRY(eos_wasm__v_pop(v, m->tables[idx].elem_type, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        return eos_wasm__v_live(v)
                   ? (eos_wasm__v_emit_op(v, EOS_WASM_OP_TABLE_SET) || eos_wasm__v_emit(v, idx))
                   : 0;
    case 0x3f:
        TRY(eos_wasm__v_read_memidx(v, &idx));
        TRY(eos_wasm__v_push(v, EOS_WASM_I32));
        return eos_wasm__v_live(v)
                   ? (eos_wasm__v_emit_op(v, EOS_WASM_OP_MEMORY_SIZE) || eos_wasm__v_emit(v, idx))
                   : 0;
    case 0x40:
        TRY(eos_wasm__v_read_memidx(v, &idx));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_push(v, EOS_WASM_I32));
        return eos_wasm__v_live(v)
                   ? (eos_wasm__v_emit_op(v, EOS_WASM_OP_MEMORY_GROW) || eos_wasm__v_emit(v, idx))
                   : 0;
    case 0x41: {
        int64_t k;
        TRY(eos_wasm__rd_sleb(&v->r, 32, &k));
        TRY(eos_wasm__v_push(v, EOS_WASM_I32));
        return eos_wasm__v_live(v) ? (eos_wasm__v_emit_op(v, EOS_WASM_OP_CONST32) ||
                                      eos_wasm__v_emit(v, (uint32_t)k))
                                   : 0;
    }
    case 0x42: {
        int64_t k;
        TRY(eos_wasm__rd_sleb(&v->r, 64, &k));
        TRY(eos_wasm__v_push(v, EOS_WASM_I64));
        return eos_wasm__v_live(v) ? (eos_wasm__v_emit_op(v, EOS_WASM_OP_CONST64) ||
                                      eos_wasm__v_emit(v, (uint32_t)k) ||
                                      eos_wasm__v_emit(v, (uint32_t)((uint64_t)k >> 32)))
                                   : 0;
    }
    case 0x43:
    case 0x44: {
        size_t n = b == 0x43 ? 4 : 8;
        if ((size_t)(v->r.end - v->r.p) < n)
            return FAIL(EOS_EMALFORMED, "unexpected end");
        uint32_t lo, hi = 0;
        memcpy(&lo, v->r.p, 4);
        if (n == 8)
            memcpy(&hi, v->r.p + 4, 4);
        v->r.p += n;
        TRY(eos_wasm__v_push(v, b == 0x43 ? EOS_WASM_F32 : EOS_WASM_F64));
        if (!eos_wasm__v_live(v))
            return 0;
        if (n == 4)
            return eos_wasm__v_emit_op(v, EOS_WASM_OP_CONST32) || eos_wasm__v_emit(v, lo);
        return eos_wasm__v_emit_op(v, EOS_WASM_OP_CONST64) || eos_wasm__v_emit(v, lo) ||
               eos_wasm__v_emit(v, hi);
    }
    case 0xd0: {
        uint32_t heap;
        TRY(eos_wasm__read_heaptype(&v->r, m, &heap));
        int rc = eos_wasm__ref_intern(m, heap, true, &t);
        if (rc)
            return FAIL(rc, "too many distinct reference types in one module");
        TRY(eos_wasm__v_push(v, t));
        return eos_wasm__v_live(v)
                   ? (eos_wasm__v_emit_op(v, EOS_WASM_OP_CONST32) || eos_wasm__v_emit(v, 0))
                   : 0;
    }
    case 0xd1:
        TRY(eos_wasm__v_pop(v, UNKNOWN, &t));
        if (t != UNKNOWN && !is_ref(t))
            return FAIL(EOS_EINVALID, "type mismatch: ref.is_null needs a reference");
        TRY(eos_wasm__v_push(v, EOS_WASM_I32));
        return eos_wasm__v_live(v) ? eos_wasm__v_emit_op(v, EOS_WASM_OP_REF_IS_NULL) : 0;
    case 0xd2:
        TRY(eos_wasm__v_read_idx(v, m->func_count, "function", &idx));
        if (!m->func_declared[idx])
            return FAIL(EOS_EINVALID, "undeclared function reference %u", idx);
        TRY(eos_wasm__v_push(v, eos_wasm__ref_func_type(m, idx)));
        return eos_wasm__v_live(v)
                   ? (eos_wasm__v_emit_op(v, EOS_WASM_OP_REF_FUNC) || eos_wasm__v_emit(v, idx))
                   : 0;
    case 0xfc:
        return eos_wasm__v_prefixed(v);
    case 0xfd:
        m->uses_v128 = true;
        return eos_wasm__v_simd(v);
    case 0xfe: /* threads: atomics */
        return eos_wasm__v_atomic(v);
    default:
        if (b >= 0x28 && b <= 0x3e)
            return eos_wasm__v_memop(v, b);
        if (b >= 0x45 && b <= 0xc4)
            return do_simple(v, v->op_of_code[b]);
        return FAIL(EOS_EMALFORMED, "illegal opcode 0x%02x", b);
    }
}

static int read_locals(eos_wasm__vctx *v)
{
    eos_wasm__code *c = v->c;
    const eos_wasm_functype *ft = v->ft;
    const uint8_t *start = v->r.p;
    uint32_t groups;
    uint64_t total = ft->param_count;
    TRY(eos_wasm__rd_u32(&v->r, &groups));
    for (uint32_t i = 0; i < groups; i++) {
        uint32_t n;
        uint8_t t;
        TRY(eos_wasm__rd_u32(&v->r, &n));
        TRY(eos_wasm__rd_byte(&v->r, &t));
        if (t == 0x63 || t == 0x64)
            TRY(eos_wasm__read_reftype(&v->r, v->m, t, &t));
        total += n;
        if (total > UINT32_MAX)
            return FAIL(EOS_EMALFORMED, "too many locals");
    }
    if (total > MAX_LOCALS)
        return FAIL(EOS_ELIMIT, "too many locals: %llu (at most %u)", (unsigned long long)total,
                    MAX_LOCALS);
    v->nlocals = (uint32_t)total;
    c->local_types = eos_malloc(total ? total : 1);
    if (!c->local_types)
        return FAIL(EOS_ENOMEM, "out of memory");
    TRY(eos_wasm__v_grow(v, (void **)&v->local_slot, &v->cap_local_slot, (uint32_t)total + 1,
                         sizeof(uint32_t)));
    memcpy(c->local_types, ft->params, ft->param_count);
    uint32_t at = ft->param_count;
    v->r.p = start;
    TRY(eos_wasm__rd_u32(&v->r, &groups));
    for (uint32_t i = 0; i < groups; i++) {
        uint32_t n;
        uint8_t t;
        TRY(eos_wasm__rd_u32(&v->r, &n));
        TRY(eos_wasm__rd_byte(&v->r, &t));
        if (t == 0x63 || t == 0x64)
            TRY(eos_wasm__read_reftype(&v->r, v->m, t, &t));
        else if (!single_type[t])
            return FAIL(EOS_EMALFORMED, "malformed value type 0x%02x", t);
        memset(c->local_types + at, t, n);
        at += n;
    }
    /* Slots of the locals: a v128 takes two, so later locals shift. */
    uint32_t slot = 0;
    for (uint32_t i = 0; i < v->nlocals; i++) {
        v->local_slot[i] = slot;
        slot += 1 + (c->local_types[i] == EOS_WASM_V128);
    }
    if (slot > v->nlocals)
        v->m->uses_v128 = true;
    if (memchr(c->local_types, EOS_WASM_EXNREF, v->nlocals))
        v->m->uses_eh = true;
    c->local_count = slot;
    return eos_wasm__v_locals_init(v);
}

/* Checks function fi and translates it into c (normally &m->codes[fi]).
 * Where the interpreter code goes depends on the module: chunks of the
 * module when translated at load, a buffer of its own when translated on
 * the first call (m->lazy: then the check at load keeps nothing). */
static int validate_function(eos_wasm__vctx *v, uint32_t fi, eos_wasm__code *c, bool keep)
{
    eos_wasm_module *m = v->m;
    v->c = c;
    v->ft = &m->types[c->type_index];
    v->r.p = m->bytes + c->body_off;
    v->r.end = v->r.p + c->body_size;
    v->r.index = (int64_t)m->func_import_count + fi;
    v->nvals = v->nctls = v->len = v->max_height = v->nlast = v->nstarts = v->neh = 0;
    TRY(read_locals(v));
    c->param_count = eos_wasm__slots_of(v->ft->params, v->ft->param_count);
    c->result_count = eos_wasm__slots_of(v->ft->results, v->ft->result_count);
    TRY(push_ctl(v, EOS_WASM__CTL_FUNC, NULL, 0, v->ft->results, v->ft->result_count));
    bool done = false;
    while (!done) {
        uint8_t b;
        if (v->r.p >= v->r.end)
            return FAIL(EOS_EMALFORMED, "unexpected end of section or function");
        b = *v->r.p++;
        TRY(do_op(v, b, &done));
    }
    if (v->r.p != v->r.end)
        return FAIL(EOS_EMALFORMED, "section size mismatch: bytes after the function's end");
    c->frame_slots = c->local_count + v->max_height;
    TRY(eos_wasm__v_eh_keep(v, c));
    if (keep) {
        uint32_t *t = m->lazy ? eos_malloc((size_t)(v->len ? v->len : 1) * sizeof(uint32_t))
                              : eos_wasm__code_alloc(m, v->len ? v->len : 1);
        if (!t)
            return FAIL(EOS_ENOMEM, "out of memory");
        eos_wasm__thread_code(t, v->code, v->len, v->starts, v->nstarts);
        c->threaded = t;
        c->code_len = v->len;
    }
    eos_free(c->local_types, 0);
    c->local_types = NULL;
    return 0;
}

static eos_wasm__vctx *vctx_new(eos_wasm_module *m, eos_diag *diag)
{
    eos_wasm__vctx *v = eos_calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    v->m = m;
    eos_wasm__rd_init(&v->r, m->bytes, m->size, diag);
    v->r.section = "code section";
    for (uint32_t op = 0; op < EOS_WASM_OP_COUNT_; op++) {
        int code = op_code[op];
        if (!eos_wasm__op_sig[op])
            continue;
        if (code >= 0 && code < 256)
            v->op_of_code[code] = (uint8_t)op;
        else if (code >= 0xfc00 && code < 0xfc20)
            v->op_of_fc[code - 0xfc00] = (uint8_t)op;
    }
    return v;
}

static void vctx_free(eos_wasm__vctx *v)
{
    eos_free(v->vals, v->cap_vals);
    eos_free(v->ctls, (size_t)v->cap_ctls * sizeof(eos_wasm__ctl));
    eos_free(v->code, (size_t)v->cap * sizeof(uint32_t));
    eos_free(v->starts, (size_t)v->cap_starts * sizeof(uint32_t));
    eos_free(v->local_slot, (size_t)v->cap_local_slot * sizeof(uint32_t));
    eos_free(v->eh, (size_t)v->cap_eh * sizeof(uint32_t));
    eos_free(v->local_unset, v->cap_local_unset);
    eos_free(v->init_stack, (size_t)v->cap_init * sizeof(uint32_t));
    eos_free(v, sizeof(*v));
}

int eos_wasm__validate(eos_wasm_module *m, eos_diag *diag)
{
    eos_wasm__vctx *v = vctx_new(m, diag);
    if (!v)
        return eos_diag_set(diag, EOS_ENOMEM, "code section", -1, "out of memory");
    int rc = 0;
    /* A large module is translated function by function on first call: a
     * request of a JavaScript app enters a few hundred of its thousands of
     * functions (2.4% for hello-js), so most of the code is never needed. */
    uint32_t lazy_min = m->features.lazy_translation_min ? m->features.lazy_translation_min
                                                         : EOS_WASM__LAZY_MIN;
    m->lazy = m->code_sec.end - m->code_sec.off >= lazy_min;
    for (uint32_t i = 0; i < m->type_count; i++) {
        const eos_wasm_functype *t = &m->types[i];
        if (eos_wasm__slots_of(t->params, t->param_count) > t->param_count ||
            eos_wasm__slots_of(t->results, t->result_count) > t->result_count)
            m->uses_v128 = true;
    }
    for (uint32_t i = 0; i < m->global_count; i++)
        if (m->globals[i].type.valtype == EOS_WASM_V128)
            m->uses_v128 = true;
    for (uint32_t i = 0; i < m->code_count && rc == 0; i++) {
        rc = validate_function(v, i, &m->codes[i], !m->lazy);
        if (rc == 0 && !m->lazy)
            m->code_words += m->codes[i].code_len;
    }
    if (rc && !v->r.err)
        rc = eos_wasm__rd_fail(&v->r, rc, "invalid function");
    for (uint32_t i = 0; i < m->code_count; i++) {
        eos_free(m->codes[i].local_types, 0);
        m->codes[i].local_types = NULL;
    }
    vctx_free(v);
    return rc;
}

int eos_wasm__translate(eos_wasm_module *m, eos_wasm__code *c)
{
    eos_wasm__vctx *v = vctx_new(m, NULL);
    if (!v)
        return EOS_ENOMEM;
    /* Other threads may run the module meanwhile: the translation is made
     * on the side and published once; a thread that loses the race drops
     * its copy. */
    eos_wasm__code tmp = *c;
    tmp.threaded = NULL;
    tmp.local_types = NULL;
    int rc = validate_function(v, (uint32_t)(c - m->codes), &tmp, true);
    eos_free(tmp.local_types, 0);
    if (rc == 0) {
        uint32_t *none = NULL;
        if (__atomic_compare_exchange_n(&c->threaded, &none, tmp.threaded, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            __atomic_fetch_add(&m->code_words, tmp.code_len, __ATOMIC_RELAXED);
        else
            eos_free(tmp.threaded, (size_t)tmp.code_len * sizeof(uint32_t));
    }
    vctx_free(v);
    return rc;
}
