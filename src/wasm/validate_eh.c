/* Exception handling at load: the tag section and tag types, and the checks
 * and translation of throw, throw_ref and try_table. A try_table's handlers
 * become one TRY_TABLE instruction ahead of its body, and the body's extent
 * is listed per function, so the normal path costs nothing and a throw looks
 * up its handlers by code position (exec_eh.c). */
#include "internal.h"

#define FAIL(...) eos_wasm__rd_fail(&v->r, __VA_ARGS__)
#define TRY(x)                                                                                     \
    do {                                                                                           \
        if (x)                                                                                     \
            return v->r.err ? v->r.err : EOS_EINVALID;                                             \
    } while (0)

/* Handler clause kinds: try_table's four, then the legacy ones (their
 * catch nesting in bits 4 and up) and delegate, which goes on searching
 * from another code position (UINT32_MAX: in the caller). */
enum { CATCH, CATCH_REF, CATCH_ALL, CATCH_ALL_REF, LEGACY_CATCH, LEGACY_CATCH_ALL, DELEGATE };

int eos_wasm__read_tagtype(eos_wasm__rd *r, eos_wasm_module *m, uint32_t *type_index)
{
    uint8_t attr;
    if (eos_wasm__rd_byte(r, &attr) || eos_wasm__rd_u32(r, type_index))
        return r->err;
    /* Attribute 0 (exception) is the only one defined. */
    if (attr != 0)
        return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed tag attribute %u", attr);
    if (*type_index >= m->type_count)
        return eos_wasm__rd_fail(r, EOS_EINVALID, "unknown type %u", *type_index);
    if (m->types[*type_index].result_count)
        return eos_wasm__rd_fail(r, EOS_EINVALID, "non-empty tag result type");
    return 0;
}

/* Called once the imports are known: the imported tags' types, and whether
 * any type mentions exnref (the compiled tier then declines the module). */
int eos_wasm__tag_spaces(eos_wasm__rd *r, eos_wasm_module *m)
{
    m->tag_types = eos_calloc(m->tag_import_count + 1, sizeof(uint32_t));
    if (!m->tag_types)
        return eos_wasm__rd_fail(r, EOS_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < m->import_count; i++)
        if (m->imports[i].kind == EOS_WASM_EXTERN_TAG)
            m->tag_types[m->tag_count++] = m->imports[i].type_index;
    for (uint32_t i = 0; i < m->type_count; i++) {
        const eos_wasm_functype *t = &m->types[i];
        if ((t->param_count && memchr(t->params, EOS_WASM_EXNREF, t->param_count)) ||
            (t->result_count && memchr(t->results, EOS_WASM_EXNREF, t->result_count)))
            m->uses_eh = true;
    }
    if (m->tag_import_count)
        m->uses_eh = true;
    return 0;
}

int eos_wasm__decode_tags(eos_wasm__rd *r, eos_wasm_module *m)
{
    uint32_t n;
    if (eos_wasm__rd_u32(r, &n))
        return r->err;
    if (n > (size_t)(r->end - r->p))
        return eos_wasm__rd_fail(r, EOS_EMALFORMED, "unexpected end: count %u too large", n);
    uint32_t *types = eos_calloc((size_t)m->tag_count + n + 1, sizeof(uint32_t));
    if (!types)
        return eos_wasm__rd_fail(r, EOS_ENOMEM, "out of memory");
    memcpy(types, m->tag_types, m->tag_count * sizeof(uint32_t));
    eos_free(m->tag_types, 0);
    m->tag_types = types;
    for (uint32_t i = 0; i < n; i++)
        if (eos_wasm__read_tagtype(r, m, &m->tag_types[m->tag_count++]))
            return r->err;
    if (n)
        m->uses_eh = true;
    return 0;
}

void eos_wasm__eh_module_clear(eos_wasm_module *m)
{
    eos_free(m->tag_types, 0);
    m->tag_types = NULL;
    for (uint32_t i = 0; m->codes && i < m->code_count; i++) {
        eos_free(m->codes[i].eh, 0);
        m->codes[i].eh = NULL;
    }
}

/* Legacy catch blocks enclosing control frame at: what a rethrow names. */
static uint32_t catch_nesting(const eos_wasm__vctx *v, uint32_t at)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < at; i++)
        k += v->ctls[i].kind == EOS_WASM__CTL_CATCH || v->ctls[i].kind == EOS_WASM__CTL_CATCH_ALL;
    return k;
}

static int add_body(eos_wasm__vctx *v, uint32_t begin, uint32_t end, uint32_t at)
{
    TRY(eos_wasm__v_grow(v, (void **)&v->eh, &v->cap_eh, v->neh + 3, sizeof(uint32_t)));
    v->eh[v->neh++] = begin;
    v->eh[v->neh++] = end;
    v->eh[v->neh++] = at;
    return 0;
}

static int read_tag(eos_wasm__vctx *v, const eos_wasm_functype **t, uint32_t *idx)
{
    TRY(eos_wasm__v_read_idx(v, v->m->tag_count, "tag", idx));
    *t = &v->m->types[v->m->tag_types[*idx]];
    return 0;
}

int eos_wasm__v_eh(eos_wasm__vctx *v, uint8_t op)
{
    v->m->uses_eh = true;
    if (op == 0x08) {
        const eos_wasm_functype *t;
        uint32_t idx;
        TRY(read_tag(v, &t, &idx));
        for (uint32_t i = t->param_count; i-- > 0;)
            TRY(eos_wasm__v_pop(v, t->params[i], NULL));
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_THROW) || eos_wasm__v_emit(v, idx));
    } else if (op == 0x0a) {
        TRY(eos_wasm__v_pop(v, EOS_WASM_EXNREF, NULL));
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_THROW_REF));
    } else {
        uint32_t l;
        TRY(eos_wasm__v_read_idx(v, v->nctls, "label", &l));
        uint32_t at = v->nctls - 1 - l;
        uint8_t kind = v->ctls[at].kind;
        if (kind != EOS_WASM__CTL_CATCH && kind != EOS_WASM__CTL_CATCH_ALL)
            return FAIL(EOS_EINVALID, "invalid rethrow label %u", l);
        if (eos_wasm__v_live(v))
            TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_RETHROW) ||
                eos_wasm__v_emit(v, catch_nesting(v, at)));
    }
    eos_wasm__v_set_unreachable(v);
    return 0;
}

/* A handler's values must match (be subtypes of) what its label takes. */
static bool label_takes(const eos_wasm_module *m, const eos_wasm__ctl *l, const uint8_t *ts,
                        uint32_t n, bool ref)
{
    if (eos_wasm__v_label_arity(l) != n + ref)
        return false;
    const uint8_t *lt = eos_wasm__v_label_types(l);
    for (uint32_t i = 0; i < n; i++)
        if (!eos_wasm__val_sub(m, ts[i], lt[i]))
            return false;
    return !ref || lt[n] == EOS_WASM_EXNREF;
}

int eos_wasm__v_try_table(eos_wasm__vctx *v, uint32_t *at)
{
    v->m->uses_eh = true;
    uint32_t n;
    TRY(eos_wasm__rd_u32(&v->r, &n));
    if (n > (size_t)(v->r.end - v->r.p))
        return FAIL(EOS_EMALFORMED, "unexpected end in try_table");
    bool live = eos_wasm__v_live(v);
    *at = UINT32_MAX;
    if (live) {
        *at = v->len;
        TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_TRY_TABLE) || eos_wasm__v_emit(v, n));
    }
    for (uint32_t i = 0; i < n; i++) {
        uint8_t kind;
        uint32_t tag = 0, l;
        const eos_wasm_functype *t = NULL;
        TRY(eos_wasm__rd_byte(&v->r, &kind));
        if (kind > CATCH_ALL_REF)
            return FAIL(EOS_EMALFORMED, "malformed catch clause kind %u", kind);
        if (kind == CATCH || kind == CATCH_REF)
            TRY(read_tag(v, &t, &tag));
        TRY(eos_wasm__v_read_idx(v, v->nctls, "label", &l));
        eos_wasm__ctl *lc = &v->ctls[v->nctls - 1 - l];
        bool ref = kind == CATCH_REF || kind == CATCH_ALL_REF;
        if (!label_takes(v->m, lc, t ? t->params : NULL, t ? t->param_count : 0, ref))
            return FAIL(EOS_EINVALID, "type mismatch: catch clause %u does not match label %u",
                        i, l);
        if (live) {
            TRY(eos_wasm__v_emit(v, kind) || eos_wasm__v_emit(v, tag));
            TRY(eos_wasm__v_emit_target(v, lc));
            TRY(eos_wasm__v_emit(v, v->c->local_count + lc->height) ||
                eos_wasm__v_emit(v, eos_wasm__v_label_slots(lc)));
        }
    }
    return 0;
}

int eos_wasm__v_eh_end(eos_wasm__vctx *v, const eos_wasm__ctl *l)
{
    if (l->else_patch == UINT32_MAX)
        return 0; /* dead code: nothing was emitted */
    /* Inner bodies end first, so the list is innermost first. */
    return add_body(v, l->target, v->len, l->else_patch);
}

/* A legacy try's body is listed at its first catch (or delegate), with one
 * TRY_TABLE of one clause per catch, placed where the catch's code starts
 * (never run: the body's end branches over it). The catch's code finds the
 * payload where the try began, like a branch to a try_table's label. */
int eos_wasm__v_catch(eos_wasm__vctx *v, uint8_t op)
{
    v->m->uses_eh = true;
    eos_wasm__ctl *c = eos_wasm__v_top(v);
    if (c->kind == EOS_WASM__CTL_TRY)
        c->else_patch = v->len; /* the body's end */
    const eos_wasm_functype *t = NULL;
    uint32_t tag = 0;
    if (op == 0x07)
        TRY(read_tag(v, &t, &tag));
    uint32_t k = catch_nesting(v, v->nctls - 1);
    uint32_t at = v->len;
    uint32_t kind = (op == 0x07 ? LEGACY_CATCH : LEGACY_CATCH_ALL) | k << 4;
    TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_TRY_TABLE) || eos_wasm__v_emit(v, 1) ||
        eos_wasm__v_emit(v, kind) || eos_wasm__v_emit(v, tag) || eos_wasm__v_emit(v, at + 7) ||
        eos_wasm__v_emit(v, v->c->local_count + c->height) ||
        eos_wasm__v_emit(v, t ? eos_wasm__slots_of(t->params, t->param_count) : 0));
    TRY(add_body(v, c->target, c->else_patch, at));
    c->kind = op == 0x07 ? EOS_WASM__CTL_CATCH : EOS_WASM__CTL_CATCH_ALL;
    c->unreachable = false;
    v->nvals = c->height;
    v->nlast = 0;
    for (uint32_t i = 0; t && i < t->param_count; i++)
        TRY(eos_wasm__v_push(v, t->params[i]));
    return 0;
}

int eos_wasm__v_delegate(eos_wasm__vctx *v)
{
    v->m->uses_eh = true;
    eos_wasm__ctl *c = eos_wasm__v_top(v);
    if (c->kind != EOS_WASM__CTL_TRY)
        return FAIL(EOS_EMALFORMED, "delegate without matching try");
    uint32_t l;
    /* The label is counted from outside the try. */
    TRY(eos_wasm__v_read_idx(v, v->nctls - 1, "label", &l));
    const eos_wasm__ctl *lc = &v->ctls[v->nctls - 2 - l];
    /* Searching on from where the label's block starts finds the handlers
     * around it (its own when it is a try); from a catch of a try, where its
     * body ended (past its own handlers); the function's label means the
     * caller's. Either lies before this try, so the search ends. */
    uint32_t from = lc->target;
    if (lc->kind == EOS_WASM__CTL_CATCH || lc->kind == EOS_WASM__CTL_CATCH_ALL)
        from = lc->else_patch;
    if (v->nctls - 2 - l == 0)
        from = UINT32_MAX;
    uint32_t at = v->len;
    TRY(add_body(v, c->target, at, at));
    TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_TRY_TABLE) || eos_wasm__v_emit(v, 1) ||
        eos_wasm__v_emit(v, DELEGATE) || eos_wasm__v_emit(v, 0) || eos_wasm__v_emit(v, from) ||
        eos_wasm__v_emit(v, 0) || eos_wasm__v_emit(v, 0));
    v->nlast = 0;
    return 0;
}

int eos_wasm__v_eh_keep(eos_wasm__vctx *v, eos_wasm__code *c)
{
    /* A lazily translated function is translated again on its first call,
     * to the same words: the list made at load stays. */
    if (!v->neh || c->eh)
        return 0;
    c->eh = eos_malloc(v->neh * sizeof(uint32_t));
    if (!c->eh)
        return FAIL(EOS_ENOMEM, "out of memory");
    memcpy(c->eh, v->eh, v->neh * sizeof(uint32_t));
    c->eh_count = v->neh / 3;
    return 0;
}
