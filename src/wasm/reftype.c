/* Typed references of the function-references proposal: the one-byte codes
 * that stand for them (see internal.h), their reading and their subtyping,
 * within a module and across modules when imports are linked. */
#include "internal.h"

#define RT_FUNC_SLOTS   (EOS_WASM__RT_EXTERN_FIRST - EOS_WASM__RT_FIRST)
#define RT_EXTERN_SLOTS (256u - EOS_WASM__RT_EXTERN_FIRST)

#define C4(i)  (i), (i) + 1, (i) + 2, (i) + 3
#define C16(i) C4(i), C4((i) + 4), C4((i) + 8), C4((i) + 12)
#define C64(i) C16(i), C16((i) + 16), C16((i) + 32), C16((i) + 48)
const uint8_t eos_wasm__codes[256] = {C64(0), C64(64), C64(128), C64(192)};

static bool extern_like(uint32_t heap)
{
    return heap == EOS_WASM__HT_EXTERN || heap == EOS_WASM__HT_NOEXTERN;
}

eos_wasm__reftype eos_wasm__ref_info(const eos_wasm_module *m, uint8_t t)
{
    if (t == EOS_WASM_FUNCREF)
        return (eos_wasm__reftype){EOS_WASM__HT_FUNC, true};
    if (t == EOS_WASM_EXTERNREF)
        return (eos_wasm__reftype){EOS_WASM__HT_EXTERN, true};
    if (t == EOS_WASM_EXNREF)
        return (eos_wasm__reftype){EOS_WASM__HT_EXN, true};
    /* Entries keep heap + 1, so that a zero entry is free. */
    eos_wasm__reftype e = m->reftypes[t - EOS_WASM__RT_FIRST];
    e.heap--;
    return e;
}

/* The table is allocated whole on first use and entries are only added
 * while the module loads: a function translated lazily later, from any
 * thread, finds every code it needs already there and only reads. */
int eos_wasm__ref_intern(eos_wasm_module *m, uint32_t heap, bool nullable, uint8_t *out)
{
    if (nullable && heap == EOS_WASM__HT_FUNC) {
        *out = EOS_WASM_FUNCREF;
        return 0;
    }
    if (nullable && heap == EOS_WASM__HT_EXTERN) {
        *out = EOS_WASM_EXTERNREF;
        return 0;
    }
    if (heap == EOS_WASM__HT_EXN) {
        *out = EOS_WASM_EXNREF;
        return 0;
    }
    if (!m->reftypes) {
        m->reftypes = eos_calloc(256 - EOS_WASM__RT_FIRST, sizeof(eos_wasm__reftype));
        if (!m->reftypes)
            return EOS_ENOMEM;
    }
    bool ext = extern_like(heap);
    uint32_t first = ext ? RT_FUNC_SLOTS : 0, n = ext ? RT_EXTERN_SLOTS : RT_FUNC_SLOTS;
    for (uint32_t i = first; i < first + n; i++) {
        eos_wasm__reftype *e = &m->reftypes[i];
        if (e->heap == heap + 1 && e->nullable == nullable) {
            *out = (uint8_t)(EOS_WASM__RT_FIRST + i);
            return 0;
        }
        if (e->heap == 0) {
            e->heap = heap + 1;
            e->nullable = nullable;
            m->reftype_count++;
            *out = (uint8_t)(EOS_WASM__RT_FIRST + i);
            return 0;
        }
    }
    return EOS_ELIMIT;
}

int eos_wasm__read_heaptype(eos_wasm__rd *r, const eos_wasm_module *m, uint32_t *heap)
{
    int64_t v;
    if (eos_wasm__rd_sleb(r, 33, &v))
        return r->err;
    if (v >= 0) {
        if (v >= m->type_count)
            return eos_wasm__rd_fail(r, EOS_EINVALID, "unknown type %lld", (long long)v);
        *heap = (uint32_t)v;
        return 0;
    }
    switch (v + 0x80) {
    case 0x70:
        *heap = EOS_WASM__HT_FUNC;
        return 0;
    case 0x6f:
        *heap = EOS_WASM__HT_EXTERN;
        return 0;
    case 0x73:
        *heap = EOS_WASM__HT_NOFUNC;
        return 0;
    case 0x72:
        *heap = EOS_WASM__HT_NOEXTERN;
        return 0;
    case 0x69:
        *heap = EOS_WASM__HT_EXN;
        return 0;
    case 0x6e:
    case 0x6d:
    case 0x6c:
    case 0x6b:
    case 0x6a:
    case 0x71:
        return eos_wasm__rd_fail(r, EOS_EUNSUPPORTED, "GC heap type 0x%02x is not supported",
                                 (unsigned)(v + 0x80));
    default:
        return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed heap type");
    }
}

int eos_wasm__read_reftype(eos_wasm__rd *r, eos_wasm_module *m, uint8_t b, uint8_t *out)
{
    uint32_t heap;
    bool nullable = true;
    switch (b) {
    case EOS_WASM_FUNCREF:
    case EOS_WASM_EXTERNREF:
    case EOS_WASM_EXNREF:
        *out = b;
        return 0;
    case 0x73:
        heap = EOS_WASM__HT_NOFUNC;
        break;
    case 0x72:
        heap = EOS_WASM__HT_NOEXTERN;
        break;
    case 0x63:
    case 0x64:
        if (eos_wasm__read_heaptype(r, m, &heap))
            return r->err;
        nullable = b == 0x63;
        break;
    default:
        return eos_wasm__rd_fail(r, EOS_EMALFORMED, "malformed reference type 0x%02x", b);
    }
    int rc = eos_wasm__ref_intern(m, heap, nullable, out);
    if (rc)
        return eos_wasm__rd_fail(r, rc, "too many distinct reference types in one module");
    return 0;
}

static bool heap_sub(const eos_wasm_module *m, uint32_t a, uint32_t b)
{
    if (a == b)
        return true;
    bool ca = a < EOS_WASM__HT_FUNC, cb = b < EOS_WASM__HT_FUNC;
    if (ca && cb)
        return m->type_canon[a] == m->type_canon[b];
    if (b == EOS_WASM__HT_FUNC)
        return ca || a == EOS_WASM__HT_NOFUNC;
    if (b == EOS_WASM__HT_EXTERN)
        return a == EOS_WASM__HT_NOEXTERN;
    if (cb)
        return a == EOS_WASM__HT_NOFUNC;
    return false;
}

bool eos_wasm__val_sub(const eos_wasm_module *m, uint8_t a, uint8_t b)
{
    if (a == b || a == 0)
        return true;
    if (!eos_wasm__is_ref(a) || !eos_wasm__is_ref(b))
        return false;
    eos_wasm__reftype ra = eos_wasm__ref_info(m, a), rb = eos_wasm__ref_info(m, b);
    if (ra.nullable && !rb.nullable)
        return false;
    return heap_sub(m, ra.heap, rb.heap);
}

bool eos_wasm__results_sub(const eos_wasm_module *m, const eos_wasm_functype *a,
                           const eos_wasm_functype *b)
{
    if (a->result_count != b->result_count)
        return false;
    for (uint32_t i = 0; i < a->result_count; i++)
        if (!eos_wasm__val_sub(m, a->results[i], b->results[i]))
            return false;
    return true;
}

bool eos_wasm__defaultable(const eos_wasm_module *m, uint8_t t)
{
    return t < EOS_WASM__RT_FIRST || m->reftypes[t - EOS_WASM__RT_FIRST].nullable;
}

uint8_t eos_wasm__ref_func_type(eos_wasm_module *m, uint32_t f)
{
    uint8_t t;
    if (eos_wasm__ref_intern(m, m->func_types[f], false, &t))
        return EOS_WASM_FUNCREF;
    return t;
}

/* ---- across modules --------------------------------------------------------
 * Type indices mean nothing outside their module: concrete heap types are
 * compared by the structure of their function types. A type may name
 * itself; past a few levels the comparison assumes the rest matches. */

static bool functype_match_d(const eos_wasm_module *ma, const eos_wasm_functype *a,
                             const eos_wasm_module *mb, const eos_wasm_functype *b, int depth);

static bool val_match_d(const eos_wasm_module *ma, uint8_t a, const eos_wasm_module *mb,
                        uint8_t b, bool eq, int depth)
{
    if (!eos_wasm__is_ref(a) || !eos_wasm__is_ref(b))
        return a == b;
    if (a == EOS_WASM_EXNREF || b == EOS_WASM_EXNREF)
        return a == b;
    eos_wasm__reftype ra = {a == EOS_WASM_EXTERNREF ? EOS_WASM__HT_EXTERN : EOS_WASM__HT_FUNC, true};
    eos_wasm__reftype rb = {b == EOS_WASM_EXTERNREF ? EOS_WASM__HT_EXTERN : EOS_WASM__HT_FUNC, true};
    if (a >= EOS_WASM__RT_FIRST && ma)
        ra = eos_wasm__ref_info(ma, a);
    if (b >= EOS_WASM__RT_FIRST && mb)
        rb = eos_wasm__ref_info(mb, b);
    if (eq ? ra.nullable != rb.nullable : (ra.nullable && !rb.nullable))
        return false;
    bool ca = ra.heap < EOS_WASM__HT_FUNC, cb = rb.heap < EOS_WASM__HT_FUNC;
    if (ca && cb)
        return depth > 8 || functype_match_d(ma, &ma->types[ra.heap], mb, &mb->types[rb.heap],
                                             depth + 1);
    if (ra.heap == rb.heap)
        return true;
    if (eq)
        return false;
    if (rb.heap == EOS_WASM__HT_FUNC)
        return ca || ra.heap == EOS_WASM__HT_NOFUNC;
    if (rb.heap == EOS_WASM__HT_EXTERN)
        return ra.heap == EOS_WASM__HT_NOEXTERN;
    return cb && ra.heap == EOS_WASM__HT_NOFUNC;
}

static bool functype_match_d(const eos_wasm_module *ma, const eos_wasm_functype *a,
                             const eos_wasm_module *mb, const eos_wasm_functype *b, int depth)
{
    if (a->param_count != b->param_count || a->result_count != b->result_count)
        return false;
    for (uint32_t i = 0; i < a->param_count; i++)
        if (!val_match_d(ma, a->params[i], mb, b->params[i], true, depth))
            return false;
    for (uint32_t i = 0; i < a->result_count; i++)
        if (!val_match_d(ma, a->results[i], mb, b->results[i], true, depth))
            return false;
    return true;
}

bool eos_wasm__val_match(const eos_wasm_module *ma, uint8_t a, const eos_wasm_module *mb,
                         uint8_t b, bool eq)
{
    return val_match_d(ma, a, mb, b, eq, 0);
}

bool eos_wasm__functype_match(const eos_wasm_module *ma, const eos_wasm_functype *a,
                              const eos_wasm_module *mb, const eos_wasm_functype *b)
{
    return functype_match_d(ma, a, mb, b, 0);
}

/* ---- the API's view ---------------------------------------------------------
 * Hosts see typed references as funcref or externref: a module whose types
 * use them keeps a second, public copy of its function types. */

int eos_wasm__ref_public_types(eos_wasm__rd *r, eos_wasm_module *m)
{
    size_t n = 0;
    bool typed = false;
    for (uint32_t i = 0; i < m->type_count; i++) {
        const eos_wasm_functype *t = &m->types[i];
        n += (size_t)t->param_count + t->result_count;
        for (uint32_t k = 0; k < t->param_count; k++)
            typed |= t->params[k] >= EOS_WASM__RT_FIRST;
        for (uint32_t k = 0; k < t->result_count; k++)
            typed |= t->results[k] >= EOS_WASM__RT_FIRST;
    }
    if (!typed)
        return 0;
    m->types_public = eos_calloc(m->type_count, sizeof(eos_wasm_functype));
    m->types_public_vals = eos_malloc(n ? n : 1);
    if (!m->types_public || !m->types_public_vals)
        return eos_wasm__rd_fail(r, EOS_ENOMEM, "out of memory decoding types");
    uint8_t *p = m->types_public_vals;
    for (uint32_t i = 0; i < m->type_count; i++) {
        const eos_wasm_functype *t = &m->types[i];
        eos_wasm_functype *u = &m->types_public[i];
        *u = *t;
        u->params = p;
        for (uint32_t k = 0; k < t->param_count; k++)
            *p++ = eos_wasm__val_public(t->params[k]);
        u->results = p;
        for (uint32_t k = 0; k < t->result_count; k++)
            *p++ = eos_wasm__val_public(t->results[k]);
    }
    return 0;
}

const eos_wasm_functype *eos_wasm__functype_public(const eos_wasm_module *m,
                                                   const eos_wasm_functype *t)
{
    if (!m || !m->types_public || t < m->types || t >= m->types + m->type_count)
        return t;
    return &m->types_public[t - m->types];
}

bool eos_wasm__ref_value_ok(const eos_wasm_module *m, uint8_t t, const eos_wasm_val *v)
{
    if (!m || t < EOS_WASM__RT_FIRST)
        return true;
    eos_wasm__reftype r = eos_wasm__ref_info(m, t);
    const void *p = v->type == EOS_WASM_FUNCREF ? (const void *)v->of.funcref : v->of.externref;
    if (!p)
        return r.nullable;
    if (r.heap == EOS_WASM__HT_NOFUNC || r.heap == EOS_WASM__HT_NOEXTERN)
        return false;
    if (r.heap >= EOS_WASM__HT_FUNC)
        return true;
    const eos_wasm_func *f = v->of.funcref;
    return eos_wasm__functype_match(f->inst ? f->inst->module : NULL, f->type, m,
                                    &m->types[r.heap]);
}
