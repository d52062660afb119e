/* Validation and translation: type-checks every function body with the
 * algorithm of the spec appendix (operand stack of types, control frames,
 * polymorphic stack after unconditional branches) and, in the same pass,
 * emits the internal form: decoded immediates, resolved branch targets and
 * slot offsets, so nothing is decoded or looked up at run time. */
#include "internal.h"

#include <stdio.h>

static bool is_ref(uint8_t t)
{
    return t == EOS_WASM_FUNCREF || t == EOS_WASM_EXTERNREF;
}

/* ---- function bodies ------------------------------------------------------ */

enum { CTL_BLOCK, CTL_LOOP, CTL_IF, CTL_ELSE, CTL_FUNC };
#define NO_PATCH   UINT32_MAX
#define MAX_LOCALS 50000u
#define UNKNOWN    0

typedef struct ctl {
    uint8_t kind;
    bool unreachable;
    uint32_t height;
    const uint8_t *params;
    uint32_t nparams;
    const uint8_t *results;
    uint32_t nresults;
    uint32_t target;     /* loops: code index of the header */
    uint32_t patch;      /* forward branches to the end, linked through their words */
    uint32_t else_patch; /* if: the BR_UNLESS target word */
} ctl;

typedef struct vctx {
    eos_wasm_module *m;
    eos_wasm__rd r;
    eos_wasm__code *c;
    const eos_wasm_functype *ft;
    uint8_t *vals;
    uint32_t nvals, cap_vals;
    ctl *ctls;
    uint32_t nctls, cap_ctls;
    uint32_t *code;
    uint32_t len, cap;
    uint32_t *starts; /* word index of every instruction, for threading */
    uint32_t nstarts, cap_starts;
    uint32_t max_height;
    /* Peephole state for superinstructions: starts of the last instructions
     * emitted since the last label (fusing across a label is never done). */
    uint32_t last[3];
    uint32_t nlast;
    uint8_t op_of_code[256];
    uint8_t op_of_fc[32];
} vctx;

static const uint8_t single_type[256] = {
    [EOS_WASM_I32] = EOS_WASM_I32,         [EOS_WASM_I64] = EOS_WASM_I64,
    [EOS_WASM_F32] = EOS_WASM_F32,         [EOS_WASM_F64] = EOS_WASM_F64,
    [EOS_WASM_FUNCREF] = EOS_WASM_FUNCREF, [EOS_WASM_EXTERNREF] = EOS_WASM_EXTERNREF,
};

static const char *const op_sig[] = {
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

static ctl *top(vctx *v)
{
    return &v->ctls[v->nctls - 1];
}

static bool live(vctx *v)
{
    return !top(v)->unreachable;
}

static int grow(vctx *v, void **p, uint32_t *cap, uint32_t need, size_t size)
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

static int push(vctx *v, uint8_t t)
{
    TRY(grow(v, (void **)&v->vals, &v->cap_vals, v->nvals + 1, 1));
    v->vals[v->nvals++] = t;
    if (v->nvals > v->max_height)
        v->max_height = v->nvals;
    return 0;
}

/* Pops a value expected to be of type want (UNKNOWN = any); *out receives the
 * actual type (UNKNOWN from the polymorphic stack). */
static int pop(vctx *v, uint8_t want, uint8_t *out)
{
    ctl *c = top(v);
    uint8_t t;
    if (v->nvals == c->height) {
        if (!c->unreachable)
            return FAIL(EOS_EINVALID, "type mismatch: operand stack is empty");
        t = UNKNOWN;
    } else {
        t = v->vals[--v->nvals];
    }
    if (want != UNKNOWN && t != UNKNOWN && t != want)
        return FAIL(EOS_EINVALID, "type mismatch: expected 0x%02x, found 0x%02x", want, t);
    if (out)
        *out = t == UNKNOWN ? want : t;
    return 0;
}

static int pop_types(vctx *v, const uint8_t *ts, uint32_t n)
{
    for (uint32_t i = n; i-- > 0;)
        TRY(pop(v, ts[i], NULL));
    return 0;
}

static int push_types(vctx *v, const uint8_t *ts, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        TRY(push(v, ts[i]));
    return 0;
}

static void set_unreachable(vctx *v)
{
    v->nvals = top(v)->height;
    top(v)->unreachable = true;
}

static int emit(vctx *v, uint32_t w)
{
    TRY(grow(v, (void **)&v->code, &v->cap, v->len + 1, sizeof(uint32_t)));
    v->code[v->len++] = w;
    return 0;
}

/* Starts an instruction (remembered for the peephole). */
static void truncate_code(vctx *v, uint32_t at)
{
    v->len = at;
    while (v->nstarts && v->starts[v->nstarts - 1] >= at)
        v->nstarts--;
}

static int emit_op(vctx *v, uint32_t op)
{
    TRY(grow(v, (void **)&v->starts, &v->cap_starts, v->nstarts + 1, sizeof(uint32_t)));
    v->starts[v->nstarts++] = v->len;
    if (v->nlast == 3) {
        v->last[0] = v->last[1];
        v->last[1] = v->last[2];
        v->nlast = 2;
    }
    v->last[v->nlast++] = v->len;
    return emit(v, op);
}

static void label_here(vctx *v)
{
    v->nlast = 0;
}

static void patch_list(vctx *v, uint32_t head, uint32_t target)
{
    while (head != NO_PATCH) {
        uint32_t next = v->code[head];
        v->code[head] = target;
        head = next;
    }
}

static int emit_target(vctx *v, ctl *l)
{
    if (l->kind == CTL_LOOP)
        return emit(v, l->target);
    TRY(emit(v, l->patch));
    l->patch = v->len - 1;
    return 0;
}

static uint32_t label_arity(const ctl *l)
{
    return l->kind == CTL_LOOP ? l->nparams : l->nresults;
}

static const uint8_t *label_types(const ctl *l)
{
    return l->kind == CTL_LOOP ? l->params : l->results;
}

/* Emits a branch to l from the current height (operands already popped and
 * pushed back as the spec algorithm does). */
static int emit_branch(vctx *v, ctl *l, uint32_t plain, uint32_t move)
{
    uint32_t arity = label_arity(l);
    uint32_t dst = v->c->local_count + l->height;
    uint32_t cur = v->c->local_count + v->nvals;
    if (cur - arity == dst) {
        TRY(emit_op(v, plain));
        return emit_target(v, l);
    }
    TRY(emit_op(v, move));
    TRY(emit_target(v, l));
    TRY(emit(v, dst));
    return emit(v, arity);
}

static int push_ctl(vctx *v, uint8_t kind, const uint8_t *params, uint32_t np,
                    const uint8_t *results, uint32_t nr)
{
    TRY(grow(v, (void **)&v->ctls, &v->cap_ctls, v->nctls + 1, sizeof(ctl)));
    ctl *c = &v->ctls[v->nctls++];
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
    return push_types(v, params, np);
}

static int read_blocktype(vctx *v, const uint8_t **params, uint32_t *np, const uint8_t **results,
                          uint32_t *nr)
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
    if (b == EOS_WASM_V128)
        return FAIL(EOS_EUNSUPPORTED, "SIMD (v128) is not supported yet");
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

static int read_idx(vctx *v, uint32_t limit, const char *what, uint32_t *out)
{
    TRY(eos_wasm__rd_u32(&v->r, out));
    if (*out >= limit)
        return FAIL(EOS_EINVALID, "unknown %s %u", what, *out);
    return 0;
}

/* Reads a memory index: a single zero byte without multi-memory. */
static int read_memidx(vctx *v, uint32_t *out)
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
    return read_idx(v, v->m->memory_count, "memory", out);
}

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

static int do_memop(vctx *v, uint8_t opcode)
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
        TRY(pop(v, mo->type, NULL));
        TRY(pop(v, EOS_WASM_I32, NULL));
    } else {
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(push(v, mo->type));
    }
    if (!live(v))
        return 0;
    if (mem != 0) {
        TRY(emit_op(v, mo->store ? EOS_WASM_OP_MEM_STORE : EOS_WASM_OP_MEM_LOAD));
        TRY(emit(v, opcode));
        TRY(emit(v, mem));
        return emit(v, offset);
    }
    /* (local.get a; i32.const k; i32.add) fused earlier, then a load -> LC_LOAD* */
    if ((mo->op == EOS_WASM_OP_LOAD32 || mo->op == EOS_WASM_OP_LOAD8_U) && v->nlast >= 1 &&
        v->code[v->last[v->nlast - 1]] == EOS_WASM_OP_LC_I32_ADD &&
        v->last[v->nlast - 1] + 3 == v->len) {
        uint32_t at = v->last[v->nlast - 1];
        v->code[at] = mo->op == EOS_WASM_OP_LOAD32 ? EOS_WASM_OP_LC_LOAD32 : EOS_WASM_OP_LC_LOAD8_U;
        v->nlast = 0;
        return emit(v, offset);
    }
    /* local.get x; i32.load off  ->  L_LOAD32 x off */
    if (mo->op == EOS_WASM_OP_LOAD32 && v->nlast >= 1 &&
        v->code[v->last[v->nlast - 1]] == EOS_WASM_OP_LOCAL_GET) {
        uint32_t at = v->last[v->nlast - 1];
        uint32_t local = v->code[at + 1];
        truncate_code(v, at);
        v->nlast--;
        TRY(emit_op(v, EOS_WASM_OP_L_LOAD32));
        TRY(emit(v, local));
        return emit(v, offset);
    }
    TRY(emit_op(v, mo->op));
    return emit(v, offset);
}

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
    default:
        return 0;
    }
}

/* Fuses the compare just emitted with a following br_if. Returns true when done. */
static int try_fuse_br_if(vctx *v, ctl *l, bool *done)
{
    *done = false;
    uint32_t arity = label_arity(l);
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
            truncate_code(v, pat);
            v->nlast -= 2;
            TRY(emit_op(v, variant));
            TRY(emit_target(v, l));
            TRY(emit(v, imm));
            *done = true;
            return 0;
        }
    }
    truncate_code(v, at);
    v->nlast--;
    TRY(emit_op(v, fused));
    TRY(emit_target(v, l));
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

/* Emits a simple numeric op, fusing common sequences with the preceding
 * local.get / i32.const instructions. */
static int emit_simple(vctx *v, uint32_t op)
{
    if (op == EOS_WASM_OP_I32_ADD || op == EOS_WASM_OP_I32_SUB) {
        if (v->nlast >= 2) {
            uint32_t a = v->last[v->nlast - 2], b = v->last[v->nlast - 1];
            if (v->code[a] == EOS_WASM_OP_LOCAL_GET && b == a + 2 && b + 2 == v->len &&
                v->code[b] == EOS_WASM_OP_LOCAL_GET) {
                uint32_t la = v->code[a + 1], lb = v->code[b + 1];
                truncate_code(v, a);
                v->nlast -= 2;
                TRY(emit_op(v, op == EOS_WASM_OP_I32_ADD ? EOS_WASM_OP_LL_I32_ADD
                                                         : EOS_WASM_OP_LL_I32_SUB));
                TRY(emit(v, la));
                return emit(v, lb);
            }
            if (op == EOS_WASM_OP_I32_ADD && v->code[a] == EOS_WASM_OP_LOCAL_GET && b == a + 2 &&
                b + 2 == v->len && v->code[b] == EOS_WASM_OP_CONST32) {
                uint32_t la = v->code[a + 1], k = v->code[b + 1];
                truncate_code(v, a);
                v->nlast -= 2;
                TRY(emit_op(v, EOS_WASM_OP_LC_I32_ADD));
                TRY(emit(v, la));
                return emit(v, k);
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
                truncate_code(v, at);
                v->nlast--;
                TRY(emit_op(v, fused));
                return emit(v, imm);
            }
        }
    }
    return emit_op(v, op);
}

static int do_local_set(vctx *v, uint32_t idx)
{
    /* LC_I32_ADD a k; local.set x  ->  LC_I32_ADD_SET a k x */
    if (v->nlast >= 1) {
        uint32_t at = v->last[v->nlast - 1];
        if (v->code[at] == EOS_WASM_OP_LC_I32_ADD && at + 3 == v->len) {
            v->code[at] = EOS_WASM_OP_LC_I32_ADD_SET;
            v->nlast = 0; /* nothing fuses with a set */
            return emit(v, idx);
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
            return emit(v, idx);
        }
    }
    TRY(emit_op(v, EOS_WASM_OP_LOCAL_SET));
    return emit(v, idx);
}

static int check_table(vctx *v, uint32_t *t)
{
    return read_idx(v, v->m->table_count, "table", t);
}

static int do_prefixed(vctx *v)
{
    eos_wasm_module *m = v->m;
    uint32_t sub, a, b;
    uint8_t t;
    TRY(eos_wasm__rd_u32(&v->r, &sub));
    if (sub < 8) {
        uint32_t op = v->op_of_fc[sub];
        const char *sig = op_sig[op];
        TRY(pop(v, sig[0] == 'f' ? EOS_WASM_F32 : EOS_WASM_F64, NULL));
        TRY(push(v, sig[2] == 'i' ? EOS_WASM_I32 : EOS_WASM_I64));
        return live(v) ? emit_op(v, op) : 0;
    }
    switch (sub) {
    case 8: /* memory.init */
        if (!m->has_data_count)
            return FAIL(EOS_EMALFORMED, "data count section required");
        TRY(read_idx(v, m->data_count, "data segment", &a));
        TRY(read_memidx(v, &b));
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(pop(v, EOS_WASM_I32, NULL));
        if (live(v))
            TRY(emit_op(v, EOS_WASM_OP_MEMORY_INIT) || emit(v, a) || emit(v, b));
        return 0;
    case 9: /* data.drop */
        if (!m->has_data_count)
            return FAIL(EOS_EMALFORMED, "data count section required");
        TRY(read_idx(v, m->data_count, "data segment", &a));
        if (live(v))
            TRY(emit_op(v, EOS_WASM_OP_DATA_DROP) || emit(v, a));
        return 0;
    case 10: /* memory.copy */
        TRY(read_memidx(v, &a));
        TRY(read_memidx(v, &b));
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(pop(v, EOS_WASM_I32, NULL));
        if (live(v))
            TRY(emit_op(v, EOS_WASM_OP_MEMORY_COPY) || emit(v, a) || emit(v, b));
        return 0;
    case 11: /* memory.fill */
        TRY(read_memidx(v, &a));
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(pop(v, EOS_WASM_I32, NULL));
        if (live(v))
            TRY(emit_op(v, EOS_WASM_OP_MEMORY_FILL) || emit(v, a));
        return 0;
    case 12: /* table.init elem table */
        TRY(read_idx(v, m->elem_count, "elem segment", &a));
        TRY(check_table(v, &b));
        if (m->elems[a].elem_type != m->tables[b].elem_type)
            return FAIL(EOS_EINVALID, "type mismatch: table.init element type");
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(pop(v, EOS_WASM_I32, NULL));
        if (live(v))
            TRY(emit_op(v, EOS_WASM_OP_TABLE_INIT) || emit(v, a) || emit(v, b));
        return 0;
    case 13:
        TRY(read_idx(v, m->elem_count, "elem segment", &a));
        if (live(v))
            TRY(emit_op(v, EOS_WASM_OP_ELEM_DROP) || emit(v, a));
        return 0;
    case 14: /* table.copy dst src */
        TRY(check_table(v, &a));
        TRY(check_table(v, &b));
        if (m->tables[a].elem_type != m->tables[b].elem_type)
            return FAIL(EOS_EINVALID, "type mismatch: table.copy element types");
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(pop(v, EOS_WASM_I32, NULL));
        if (live(v))
            TRY(emit_op(v, EOS_WASM_OP_TABLE_COPY) || emit(v, a) || emit(v, b));
        return 0;
    case 15: /* table.grow */
        TRY(check_table(v, &a));
        t = m->tables[a].elem_type;
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(pop(v, t, NULL));
        TRY(push(v, EOS_WASM_I32));
        if (live(v))
            TRY(emit_op(v, EOS_WASM_OP_TABLE_GROW) || emit(v, a));
        return 0;
    case 16:
        TRY(check_table(v, &a));
        TRY(push(v, EOS_WASM_I32));
        if (live(v))
            TRY(emit_op(v, EOS_WASM_OP_TABLE_SIZE) || emit(v, a));
        return 0;
    case 17:
        TRY(check_table(v, &a));
        t = m->tables[a].elem_type;
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(pop(v, t, NULL));
        TRY(pop(v, EOS_WASM_I32, NULL));
        if (live(v))
            TRY(emit_op(v, EOS_WASM_OP_TABLE_FILL) || emit(v, a));
        return 0;
    default:
        return FAIL(EOS_EMALFORMED, "illegal opcode 0xfc %u", sub);
    }
}

static int do_call(vctx *v, uint32_t f, bool tail)
{
    eos_wasm_module *m = v->m;
    const eos_wasm_functype *t = &m->types[m->func_types[f]];
    TRY(pop_types(v, t->params, t->param_count));
    if (tail) {
        if (!eos_wasm__functype_eq(
                &(eos_wasm_functype){0, t->result_count, NULL, t->results},
                &(eos_wasm_functype){0, v->ft->result_count, NULL, v->ft->results}))
            return FAIL(EOS_EINVALID, "type mismatch: tail call results differ");
        if (live(v)) {
            TRY(emit_op(v, EOS_WASM_OP_RETURN_CALL));
            TRY(emit(v, f));
        }
        set_unreachable(v);
        return 0;
    }
    if (live(v)) {
        if (f < m->func_import_count) {
            TRY(emit_op(v, EOS_WASM_OP_CALL_IMPORT));
            TRY(emit(v, f));
        } else {
            TRY(emit_op(v, EOS_WASM_OP_CALL));
            TRY(emit(v, f - m->func_import_count));
        }
    }
    return push_types(v, t->results, t->result_count);
}

static int do_call_indirect(vctx *v, bool tail)
{
    eos_wasm_module *m = v->m;
    uint32_t ti, tab;
    TRY(read_idx(v, m->type_count, "type", &ti));
    TRY(check_table(v, &tab));
    if (m->tables[tab].elem_type != EOS_WASM_FUNCREF)
        return FAIL(EOS_EINVALID, "type mismatch: call_indirect on a non-funcref table");
    const eos_wasm_functype *t = &m->types[ti];
    TRY(pop(v, EOS_WASM_I32, NULL));
    TRY(pop_types(v, t->params, t->param_count));
    if (tail) {
        if (!eos_wasm__functype_eq(
                &(eos_wasm_functype){0, t->result_count, NULL, t->results},
                &(eos_wasm_functype){0, v->ft->result_count, NULL, v->ft->results}))
            return FAIL(EOS_EINVALID, "type mismatch: tail call results differ");
    }
    if (live(v)) {
        TRY(emit_op(v, tail ? EOS_WASM_OP_RETURN_CALL_INDIRECT : EOS_WASM_OP_CALL_INDIRECT));
        TRY(emit(v, m->type_canon[ti]));
        TRY(emit(v, tab));
    }
    if (tail) {
        set_unreachable(v);
        return 0;
    }
    return push_types(v, t->results, t->result_count);
}

static int do_br_table(vctx *v)
{
    uint32_t n;
    TRY(eos_wasm__rd_u32(&v->r, &n));
    if (n > (size_t)(v->r.end - v->r.p))
        return FAIL(EOS_EMALFORMED, "unexpected end in br_table");
    TRY(pop(v, EOS_WASM_I32, NULL));
    const uint8_t *labels = v->r.p;
    uint32_t dflt;
    /* First pass: validate every label (the spec algorithm). */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l;
        TRY(eos_wasm__rd_u32(&v->r, &l));
    }
    TRY(read_idx(v, v->nctls, "label", &dflt));
    ctl *dl = &v->ctls[v->nctls - 1 - dflt];
    uint32_t arity = label_arity(dl);
    const uint8_t *after = v->r.p;
    v->r.p = labels;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l;
        TRY(read_idx(v, v->nctls, "label", &l));
        ctl *lc = &v->ctls[v->nctls - 1 - l];
        if (label_arity(lc) != arity)
            return FAIL(EOS_EINVALID, "type mismatch: br_table label arities differ");
        /* Pop and re-push to check the types, keeping the polymorphic stack. */
        uint32_t save = v->nvals;
        const uint8_t *ts = label_types(lc);
        uint8_t popped;
        for (uint32_t k = arity; k-- > 0;)
            TRY(pop(v, ts[k], &popped));
        v->nvals = save;
        if (v->nvals < top(v)->height)
            v->nvals = top(v)->height;
    }
    TRY(pop_types(v, label_types(dl), arity));
    TRY(push_types(v, label_types(dl), arity));
    if (live(v)) {
        TRY(emit_op(v, EOS_WASM_OP_BR_TABLE));
        TRY(emit(v, n));
        v->r.p = labels;
        for (uint32_t i = 0; i <= n; i++) {
            uint32_t l;
            TRY(eos_wasm__rd_u32(&v->r, &l));
            ctl *lc = &v->ctls[v->nctls - 1 - l];
            TRY(emit_target(v, lc));
            TRY(emit(v, v->c->local_count + lc->height));
            TRY(emit(v, arity));
        }
    }
    v->r.p = after;
    set_unreachable(v);
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

static int do_simple(vctx *v, uint32_t op)
{
    const char *sig = op_sig[op];
    const char *colon = strchr(sig, ':');
    for (const char *p = colon; p-- > sig;)
        TRY(pop(v, sig_type(*p), NULL));
    TRY(push(v, sig_type(colon[1])));
    return live(v) ? emit_simple(v, op) : 0;
}

static int do_block(vctx *v, uint8_t kind)
{
    const uint8_t *params, *results;
    uint32_t np, nr;
    TRY(read_blocktype(v, &params, &np, &results, &nr));
    if (kind == CTL_IF)
        TRY(pop(v, EOS_WASM_I32, NULL));
    TRY(pop_types(v, params, np));
    bool was_live = live(v);
    uint32_t else_at = NO_PATCH;
    if (kind == CTL_IF && was_live) {
        TRY(emit_op(v, EOS_WASM_OP_BR_UNLESS));
        TRY(emit(v, NO_PATCH));
        else_at = v->len - 1;
    }
    if (kind == CTL_LOOP)
        label_here(v);
    TRY(push_ctl(v, kind, params, np, results, nr));
    top(v)->else_patch = else_at;
    /* A loop header charges fuel: every iteration passes through it. */
    if (kind == CTL_LOOP && was_live)
        TRY(emit_op(v, EOS_WASM_OP_FUEL));
    if (!was_live)
        top(v)->unreachable = false;
    return 0;
}

static int do_else(vctx *v)
{
    ctl *c = top(v);
    if (c->kind != CTL_IF)
        return FAIL(EOS_EMALFORMED, "else without matching if");
    TRY(pop_types(v, c->results, c->nresults));
    if (v->nvals != c->height)
        return FAIL(EOS_EINVALID, "type mismatch: values left at else");
    if (live(v)) {
        TRY(emit_op(v, EOS_WASM_OP_BR));
        TRY(emit_target(v, c));
    }
    if (c->else_patch != NO_PATCH)
        v->code[c->else_patch] = v->len;
    c->else_patch = NO_PATCH;
    label_here(v);
    c->kind = CTL_ELSE;
    c->unreachable = false;
    return push_types(v, c->params, c->nparams);
}

/* Returns 1 when the function's final end was processed. */
static int do_end(vctx *v, bool *done)
{
    ctl *c = top(v);
    TRY(pop_types(v, c->results, c->nresults));
    if (v->nvals != c->height)
        return FAIL(EOS_EINVALID, "type mismatch: values left at end of block");
    if (c->kind == CTL_IF) {
        if (c->nparams != c->nresults ||
            (c->nparams && memcmp(c->params, c->results, c->nparams) != 0))
            return FAIL(EOS_EINVALID, "type mismatch: if without else must keep its types");
        if (c->else_patch != NO_PATCH)
            v->code[c->else_patch] = v->len;
    }
    label_here(v);
    if (c->kind != CTL_LOOP)
        patch_list(v, c->patch, v->len);
    if (c->kind == CTL_FUNC) {
        TRY(emit_op(v, EOS_WASM_OP_RETURN));
        *done = true;
        return 0;
    }
    const uint8_t *res = c->results;
    uint32_t nr = c->nresults;
    v->nctls--;
    return push_types(v, res, nr);
}

static int do_br(vctx *v, bool cond)
{
    uint32_t l;
    if (cond)
        TRY(pop(v, EOS_WASM_I32, NULL));
    TRY(read_idx(v, v->nctls, "label", &l));
    ctl *lc = &v->ctls[v->nctls - 1 - l];
    TRY(pop_types(v, label_types(lc), label_arity(lc)));
    if (cond) {
        TRY(push_types(v, label_types(lc), label_arity(lc)));
        if (!live(v))
            return 0;
        bool fused;
        TRY(try_fuse_br_if(v, lc, &fused));
        if (fused)
            return 0;
        return emit_branch(v, lc, EOS_WASM_OP_BR_IF, EOS_WASM_OP_BR_IF_MOVE);
    }
    if (live(v)) {
        if (lc->kind == CTL_FUNC)
            TRY(emit_op(v, EOS_WASM_OP_RETURN));
        else {
            /* Values may sit above the label's results: push them back so the
             * move reads them from the top of the stack. */
            v->nvals += label_arity(lc);
            TRY(emit_branch(v, lc, EOS_WASM_OP_BR, EOS_WASM_OP_BR_MOVE));
        }
    }
    set_unreachable(v);
    return 0;
}

static int do_op(vctx *v, uint8_t b, bool *done)
{
    eos_wasm_module *m = v->m;
    uint32_t idx;
    uint8_t t, t2;
    switch (b) {
    case 0x00:
        if (live(v))
            TRY(emit_op(v, EOS_WASM_OP_UNREACHABLE));
        set_unreachable(v);
        return 0;
    case 0x01:
        return 0;
    case 0x02:
        return do_block(v, CTL_BLOCK);
    case 0x03:
        return do_block(v, CTL_LOOP);
    case 0x04:
        return do_block(v, CTL_IF);
    case 0x05:
        return do_else(v);
    case 0x0b:
        return do_end(v, done);
    case 0x0c:
        return do_br(v, false);
    case 0x0d:
        return do_br(v, true);
    case 0x0e:
        return do_br_table(v);
    case 0x0f:
        TRY(pop_types(v, v->ft->results, v->ft->result_count));
        if (live(v))
            TRY(emit_op(v, EOS_WASM_OP_RETURN));
        set_unreachable(v);
        return 0;
    case 0x10:
        TRY(read_idx(v, m->func_count, "function", &idx));
        return do_call(v, idx, false);
    case 0x11:
        return do_call_indirect(v, false);
    case 0x12:
    case 0x13:
        if (m->features.disable_tail_call)
            return FAIL(EOS_EMALFORMED, "illegal opcode 0x%02x (tail calls are disabled)", b);
        if (b == 0x13)
            return do_call_indirect(v, true);
        TRY(read_idx(v, m->func_count, "function", &idx));
        return do_call(v, idx, true);
    case 0x1a:
        TRY(pop(v, UNKNOWN, NULL));
        return live(v) ? emit_op(v, EOS_WASM_OP_DROP) : 0;
    case 0x1b:
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(pop(v, UNKNOWN, &t));
        TRY(pop(v, UNKNOWN, &t2));
        if (is_ref(t) || is_ref(t2))
            return FAIL(EOS_EINVALID, "type mismatch: select needs a type for references");
        if (t != UNKNOWN && t2 != UNKNOWN && t != t2)
            return FAIL(EOS_EINVALID, "type mismatch: select operands differ");
        TRY(push(v, t != UNKNOWN ? t : t2));
        return live(v) ? emit_op(v, EOS_WASM_OP_SELECT) : 0;
    case 0x1c: {
        uint32_t n;
        TRY(eos_wasm__rd_u32(&v->r, &n));
        if (n != 1)
            return FAIL(EOS_EINVALID, "invalid result arity for select");
        TRY(eos_wasm__rd_byte(&v->r, &t));
        if (t == EOS_WASM_V128)
            return FAIL(EOS_EUNSUPPORTED, "SIMD (v128) is not supported yet");
        if (!single_type[t])
            return FAIL(EOS_EMALFORMED, "malformed value type");
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(pop(v, t, NULL));
        TRY(pop(v, t, NULL));
        TRY(push(v, t));
        return live(v) ? emit_op(v, EOS_WASM_OP_SELECT) : 0;
    }
    case 0x20:
        TRY(read_idx(v, v->c->local_count, "local", &idx));
        TRY(push(v, v->c->local_types[idx]));
        if (!live(v))
            return 0;
        /* local.tee a; local.get b -> LOCAL_TEE_GET a b */
        if (v->nlast >= 1 && v->code[v->last[v->nlast - 1]] == EOS_WASM_OP_LOCAL_TEE &&
            v->last[v->nlast - 1] + 2 == v->len) {
            v->code[v->last[v->nlast - 1]] = EOS_WASM_OP_LOCAL_TEE_GET;
            v->nlast = 0;
            return emit(v, idx);
        }
        return emit_op(v, EOS_WASM_OP_LOCAL_GET) || emit(v, idx);
    case 0x21:
        TRY(read_idx(v, v->c->local_count, "local", &idx));
        TRY(pop(v, v->c->local_types[idx], NULL));
        return live(v) ? do_local_set(v, idx) : 0;
    case 0x22:
        TRY(read_idx(v, v->c->local_count, "local", &idx));
        TRY(pop(v, v->c->local_types[idx], NULL));
        TRY(push(v, v->c->local_types[idx]));
        return live(v) ? (emit_op(v, EOS_WASM_OP_LOCAL_TEE) || emit(v, idx)) : 0;
    case 0x23:
        TRY(read_idx(v, m->global_count, "global", &idx));
        TRY(push(v, m->globals[idx].type.valtype));
        return live(v) ? (emit_op(v, EOS_WASM_OP_GLOBAL_GET) || emit(v, idx)) : 0;
    case 0x24:
        TRY(read_idx(v, m->global_count, "global", &idx));
        if (!m->globals[idx].type.mutable_)
            return FAIL(EOS_EINVALID, "global is immutable");
        TRY(pop(v, m->globals[idx].type.valtype, NULL));
        return live(v) ? (emit_op(v, EOS_WASM_OP_GLOBAL_SET) || emit(v, idx)) : 0;
    case 0x25:
        TRY(check_table(v, &idx));
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(push(v, m->tables[idx].elem_type));
        return live(v) ? (emit_op(v, EOS_WASM_OP_TABLE_GET) || emit(v, idx)) : 0;
    case 0x26:
        TRY(check_table(v, &idx));
        TRY(pop(v, m->tables[idx].elem_type, NULL));
        TRY(pop(v, EOS_WASM_I32, NULL));
        return live(v) ? (emit_op(v, EOS_WASM_OP_TABLE_SET) || emit(v, idx)) : 0;
    case 0x3f:
        TRY(read_memidx(v, &idx));
        TRY(push(v, EOS_WASM_I32));
        return live(v) ? (emit_op(v, EOS_WASM_OP_MEMORY_SIZE) || emit(v, idx)) : 0;
    case 0x40:
        TRY(read_memidx(v, &idx));
        TRY(pop(v, EOS_WASM_I32, NULL));
        TRY(push(v, EOS_WASM_I32));
        return live(v) ? (emit_op(v, EOS_WASM_OP_MEMORY_GROW) || emit(v, idx)) : 0;
    case 0x41: {
        int64_t k;
        TRY(eos_wasm__rd_sleb(&v->r, 32, &k));
        TRY(push(v, EOS_WASM_I32));
        return live(v) ? (emit_op(v, EOS_WASM_OP_CONST32) || emit(v, (uint32_t)k)) : 0;
    }
    case 0x42: {
        int64_t k;
        TRY(eos_wasm__rd_sleb(&v->r, 64, &k));
        TRY(push(v, EOS_WASM_I64));
        return live(v) ? (emit_op(v, EOS_WASM_OP_CONST64) || emit(v, (uint32_t)k) ||
                          emit(v, (uint32_t)((uint64_t)k >> 32)))
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
        TRY(push(v, b == 0x43 ? EOS_WASM_F32 : EOS_WASM_F64));
        if (!live(v))
            return 0;
        if (n == 4)
            return emit_op(v, EOS_WASM_OP_CONST32) || emit(v, lo);
        return emit_op(v, EOS_WASM_OP_CONST64) || emit(v, lo) || emit(v, hi);
    }
    case 0xd0:
        TRY(eos_wasm__rd_byte(&v->r, &t));
        if (!is_ref(t))
            return FAIL(EOS_EMALFORMED, "malformed reference type");
        TRY(push(v, t));
        return live(v) ? (emit_op(v, EOS_WASM_OP_CONST32) || emit(v, 0)) : 0;
    case 0xd1:
        TRY(pop(v, UNKNOWN, &t));
        if (t != UNKNOWN && !is_ref(t))
            return FAIL(EOS_EINVALID, "type mismatch: ref.is_null needs a reference");
        TRY(push(v, EOS_WASM_I32));
        return live(v) ? emit_op(v, EOS_WASM_OP_REF_IS_NULL) : 0;
    case 0xd2:
        TRY(read_idx(v, m->func_count, "function", &idx));
        if (!m->func_declared[idx])
            return FAIL(EOS_EINVALID, "undeclared function reference %u", idx);
        TRY(push(v, EOS_WASM_FUNCREF));
        return live(v) ? (emit_op(v, EOS_WASM_OP_REF_FUNC) || emit(v, idx)) : 0;
    case 0xfc:
        return do_prefixed(v);
    case 0xfd:
        return FAIL(EOS_EUNSUPPORTED, "SIMD (v128) is not supported yet");
    default:
        if (b >= 0x28 && b <= 0x3e)
            return do_memop(v, b);
        if (b >= 0x45 && b <= 0xc4)
            return do_simple(v, v->op_of_code[b]);
        return FAIL(EOS_EMALFORMED, "illegal opcode 0x%02x", b);
    }
}

static int read_locals(vctx *v)
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
        total += n;
        if (total > UINT32_MAX)
            return FAIL(EOS_EMALFORMED, "too many locals");
    }
    if (total > MAX_LOCALS)
        return FAIL(EOS_ELIMIT, "too many locals: %llu (at most %u)", (unsigned long long)total,
                    MAX_LOCALS);
    c->local_count = (uint32_t)total;
    c->local_types = eos_malloc(total ? total : 1);
    if (!c->local_types)
        return FAIL(EOS_ENOMEM, "out of memory");
    memcpy(c->local_types, ft->params, ft->param_count);
    uint32_t at = ft->param_count;
    v->r.p = start;
    TRY(eos_wasm__rd_u32(&v->r, &groups));
    for (uint32_t i = 0; i < groups; i++) {
        uint32_t n;
        uint8_t t;
        TRY(eos_wasm__rd_u32(&v->r, &n));
        TRY(eos_wasm__rd_byte(&v->r, &t));
        if (t == EOS_WASM_V128)
            return FAIL(EOS_EUNSUPPORTED, "SIMD (v128) is not supported yet");
        if (!single_type[t])
            return FAIL(EOS_EMALFORMED, "malformed value type 0x%02x", t);
        memset(c->local_types + at, t, n);
        at += n;
    }
    return 0;
}

static int validate_function(vctx *v, uint32_t fi)
{
    eos_wasm_module *m = v->m;
    eos_wasm__code *c = &m->codes[fi];
    v->c = c;
    v->ft = &m->types[c->type_index];
    v->r.p = m->bytes + c->body_off;
    v->r.end = v->r.p + c->body_size;
    v->r.index = (int64_t)m->func_import_count + fi;
    v->nvals = v->nctls = v->len = v->max_height = v->nlast = v->nstarts = 0;
    TRY(read_locals(v));
    c->param_count = v->ft->param_count;
    c->result_count = v->ft->result_count;
    TRY(push_ctl(v, CTL_FUNC, NULL, 0, v->ft->results, v->ft->result_count));
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
    c->code = eos_malloc((size_t)v->len * sizeof(uint32_t));
    if (!c->code)
        return FAIL(EOS_ENOMEM, "out of memory");
    memcpy(c->code, v->code, (size_t)v->len * sizeof(uint32_t));
    c->code_len = v->len;
    TRY(eos_wasm__thread_code(c, v->starts, v->nstarts) ? FAIL(EOS_ENOMEM, "out of memory") : 0);
    eos_free(c->local_types, 0);
    c->local_types = NULL;
    return 0;
}

int eos_wasm__validate(eos_wasm_module *m, eos_diag *diag)
{
    vctx *v = eos_calloc(1, sizeof(*v));
    if (!v)
        return eos_diag_set(diag, EOS_ENOMEM, "code section", -1, "out of memory");
    int rc = 0;
    v->m = m;
    eos_wasm__rd_init(&v->r, m->bytes, m->size, diag);
    v->r.section = "code section";
    for (uint32_t op = 0; op < EOS_WASM_OP_COUNT_; op++) {
        int code = op_code[op];
        if (!op_sig[op])
            continue;
        if (code >= 0 && code < 256)
            v->op_of_code[code] = (uint8_t)op;
        else if (code >= 0xfc00 && code < 0xfc20)
            v->op_of_fc[code - 0xfc00] = (uint8_t)op;
    }
    for (uint32_t i = 0; i < m->code_count && rc == 0; i++)
        rc = validate_function(v, i);
    if (rc && !v->r.err)
        rc = eos_wasm__rd_fail(&v->r, rc, "invalid function");
    for (uint32_t i = 0; i < m->code_count; i++) {
        eos_free(m->codes[i].local_types, 0);
        m->codes[i].local_types = NULL;
    }
    eos_free(v->vals, v->cap_vals);
    eos_free(v->ctls, (size_t)v->cap_ctls * sizeof(ctl));
    eos_free(v->code, (size_t)v->cap * sizeof(uint32_t));
    eos_free(v->starts, (size_t)v->cap_starts * sizeof(uint32_t));
    eos_free(v, sizeof(*v));
    return rc;
}
