/* Type checking of instantiation arguments against a nested component's
 * imports: the argument's type must match the import's, with the imported
 * (abstract) resource types of the nested component substituted by the
 * resources the arguments supply, in import order. */
#include <string.h>

#include "internal.h"

static const eos_cm__rdesc *map_get(const eos_cm__rmapping *m, const eos_cm__rdesc *want)
{
    want = eos_cm__rd_canon(want);
    for (uint32_t i = 0; i < m->len; i++)
        if (m->from[i] == want)
            return m->to[i];
    return NULL;
}

/* Binds want (the nested component's resource) to have; false when want is
 * already bound to another resource. */
static bool map_bind(eos_cm__rmapping *m, const eos_cm__rdesc *want, const eos_cm__rdesc *have)
{
    const eos_cm__rdesc *cur = map_get(m, want);
    if (cur)
        return cur == eos_cm__rd_canon(have);
    if (m->len == EOS_ARRAY_LEN(m->from))
        return true; /* too many to track: checked by name at link time */
    m->from[m->len] = eos_cm__rd_canon(want);
    m->to[m->len++] = eos_cm__rd_canon(have);
    return true;
}

static bool names_same(const eos_cm_type *a, const eos_cm_type *b)
{
    for (uint32_t i = 0; i < a->count; i++)
        if (strcmp(a->names[i], b->names[i]) != 0)
            return false;
    return true;
}

static bool val_match(const eos_cm__rmapping *m, const eos_cm_type *want, const eos_cm_type *have,
                      int depth);

static bool opt_match(const eos_cm__rmapping *m, const eos_cm_type *want, const eos_cm_type *have,
                      int depth)
{
    if (!want || !have)
        return want == have;
    return val_match(m, want, have, depth + 1);
}

static bool val_match(const eos_cm__rmapping *m, const eos_cm_type *want, const eos_cm_type *have,
                      int depth)
{
    if (want == have)
        return true;
    if (depth > EOS_CM_MAX_DEPTH || want->kind != have->kind)
        return false;
    switch (want->kind) {
    case EOS_CM_LIST:
    case EOS_CM_OPTION:
        return opt_match(m, want->elem, have->elem, depth);
    case EOS_CM_RESULT:
        return opt_match(m, want->elem, have->elem, depth) &&
               opt_match(m, want->err, have->err, depth);
    case EOS_CM_ENUM:
    case EOS_CM_FLAGS:
        return want->count == have->count && names_same(want, have);
    case EOS_CM_RECORD:
    case EOS_CM_VARIANT:
        if (want->count != have->count || !names_same(want, have))
            return false;
        /* fall through */
    case EOS_CM_TUPLE:
        if (want->count != have->count)
            return false;
        for (uint32_t i = 0; i < want->count; i++)
            if (!opt_match(m, want->types[i], have->types[i], depth))
                return false;
        return true;
    case EOS_CM_OWN:
    case EOS_CM_BORROW: {
        const eos_cm__rdesc *w = want->rdesc, *h = have->rdesc;
        if (!w || !h || m->any_resource)
            return true; /* host-side types: names decide at link time */
        const eos_cm__rdesc *bound = map_get(m, w);
        return eos_cm__rd_canon(bound ? bound : w) == eos_cm__rd_canon(h);
    }
    default:
        return true;
    }
}

bool eos_cm__func_match(const eos_cm__rmapping *m, const eos_cm_functype *want,
                        const eos_cm_functype *have)
{
    if (want->param_count != have->param_count || want->result_count != have->result_count)
        return false;
    for (uint32_t i = 0; i < want->param_count; i++)
        if (strcmp(want->param_names[i], have->param_names[i]) != 0 ||
            !val_match(m, want->params[i], have->params[i], 0))
            return false;
    for (uint32_t i = 0; i < want->result_count; i++)
        if (!val_match(m, want->results[i], have->results[i], 0))
            return false;
    return true;
}

int eos_cm__extern_match(eos_cm__rmapping *m, uint8_t sort, const eos_cm__typedef *want,
                         const eos_cm__typedef *have, int depth, const char **why)
{
    if (depth > EOS_CM_MAX_DEPTH)
        return 0;
    /* An unknown type (not tracked by the decoder) cannot be checked here. */
    if (!have->of.val || !want->of.val)
        return 0;
    switch (want->kind) {
    case EOS_CM__T_RESOURCE:
        if (have->kind != EOS_CM__T_RESOURCE) {
            *why = "expected resource, found defined type";
            return EOS_EINVALID;
        }
        if (!map_bind(m, want->of.rdesc, have->of.rdesc)) {
            *why = "resource types are not the same";
            return EOS_EINVALID;
        }
        return 0;
    case EOS_CM__T_VAL:
        if (sort != EOS_CM_ITEM_TYPE)
            return 0;
        if (have->kind != EOS_CM__T_VAL) {
            *why = "expected defined type, found resource";
            return EOS_EINVALID;
        }
        if (!val_match(m, want->of.val, have->of.val, 0)) {
            *why = "type mismatch in a type argument";
            return EOS_EINVALID;
        }
        return 0;
    case EOS_CM__T_FUNC:
        if (have->kind != EOS_CM__T_FUNC)
            return 0;
        if (!eos_cm__func_match(m, want->of.func, have->of.func)) {
            m->any_resource = true;
            *why = eos_cm__func_match(m, want->of.func, have->of.func)
                       ? "type mismatch in a function argument: resource types are not the same"
                       : "type mismatch in a function argument";
            m->any_resource = false;
            return EOS_EINVALID;
        }
        return 0;
    case EOS_CM__T_INSTANCE: {
        if (have->kind != EOS_CM__T_INSTANCE)
            return 0;
        const eos_cm__itype *w = want->of.inst, *h = have->of.inst;
        for (uint32_t i = 0; i < w->export_count; i++) {
            const eos_cm__decl *we = &w->exports[i], *he = NULL;
            for (uint32_t j = 0; j < h->export_count && !he; j++)
                if (strcmp(h->exports[j].name, we->name) == 0)
                    he = &h->exports[j];
            if (!he) {
                m->export_name = we->name;
                *why = "missing expected export";
                return EOS_EINVALID;
            }
            if (he->sort != we->sort) {
                m->export_name = we->name;
                *why = "an instance's export has a different kind";
                return EOS_EINVALID;
            }
            int rc = eos_cm__extern_match(m, we->sort, &we->type, &he->type, depth + 1, why);
            if (rc) {
                if (!m->export_name)
                    m->export_name = we->name;
                return rc;
            }
        }
        return 0;
    }
    default:
        return 0;
    }
}

/* ---- Substitution: the types an instance of a nested component exports ---- */

static const eos_cm_type *subst_val(eos_cm_arena *a, const eos_cm__rmapping *m,
                                    const eos_cm_type *t, int depth);

/* A resource defined without a name and exported through a nested component
 * (wit-component's shims) is known by the name it is exported under there,
 * as a direct export names it (export_section). */
static void name_after(const eos_cm__rdesc *to, const eos_cm__rdesc *from)
{
    if (!to->name && from->name)
        ((eos_cm__rdesc *)to)->name = from->name;
}

/* Substitutes an array of member types; returns t's own array when nothing
 * changes, NULL on out of memory (with *oom set). */
static const eos_cm_type *const *subst_types(eos_cm_arena *a, const eos_cm__rmapping *m,
                                             const eos_cm_type *const *v, uint32_t n, int depth,
                                             bool *oom)
{
    const eos_cm_type **out = NULL;
    for (uint32_t i = 0; i < n; i++) {
        const eos_cm_type *s = v[i] ? subst_val(a, m, v[i], depth + 1) : NULL;
        if (v[i] && !s) {
            *oom = true;
            return NULL;
        }
        if (s != v[i] && !out) {
            if (!(out = eos_cm_arena_alloc(a, n * sizeof(*out)))) {
                *oom = true;
                return NULL;
            }
            memcpy(out, v, n * sizeof(*out));
        }
        if (out)
            out[i] = s;
    }
    return out ? out : v;
}

typedef struct eos_cm__memo {
    const eos_cm_type **from, **to;
    uint32_t len, cap;
} eos_cm__memo;

static const eos_cm_type *memo_get(const eos_cm__memo *mm, const eos_cm_type *t)
{
    for (uint32_t i = 0; mm && i < mm->len; i++)
        if (mm->from[i] == t)
            return mm->to[i];
    return NULL;
}

/* Remembers t's copy c; past the cap (or out of memory) copies are simply
 * not shared. */
static void memo_put(eos_cm_arena *a, eos_cm__memo *mm, const eos_cm_type *t, const eos_cm_type *c)
{
    if (!mm)
        return;
    if (mm->len == mm->cap) {
        uint32_t n = mm->cap ? mm->cap * 2 : 16;
        if (n > 4096)
            return;
        const eos_cm_type **f = eos_cm_arena_alloc(a, n * sizeof(*f));
        const eos_cm_type **o = eos_cm_arena_alloc(a, n * sizeof(*o));
        if (!f || !o)
            return;
        if (mm->len) {
            memcpy(f, mm->from, mm->len * sizeof(*f));
            memcpy(o, mm->to, mm->len * sizeof(*o));
        }
        mm->from = f, mm->to = o, mm->cap = n;
    }
    mm->from[mm->len] = t;
    mm->to[mm->len++] = c;
}

static const eos_cm_type *subst_val(eos_cm_arena *a, const eos_cm__rmapping *m,
                                    const eos_cm_type *t, int depth)
{
    if (depth > EOS_CM_MAX_DEPTH || !m->len)
        return t;
    const eos_cm_type *seen = memo_get(m->memo, t);
    if (seen)
        return seen;
    const eos_cm_type *elem = t->elem, *err = t->err;
    const eos_cm_type *const *types = t->types;
    const void *rdesc = t->rdesc;
    bool oom = false;
    switch (t->kind) {
    case EOS_CM_OWN:
    case EOS_CM_BORROW: {
        const eos_cm__rdesc *to = t->rdesc ? map_get(m, t->rdesc) : NULL;
        if (to) {
            name_after(to, t->rdesc);
            rdesc = to;
        }
        break;
    }
    case EOS_CM_LIST:
    case EOS_CM_OPTION:
    case EOS_CM_RESULT:
        if (elem && !(elem = subst_val(a, m, elem, depth + 1)))
            return NULL;
        if (err && !(err = subst_val(a, m, err, depth + 1)))
            return NULL;
        break;
    case EOS_CM_RECORD:
    case EOS_CM_VARIANT:
    case EOS_CM_TUPLE:
        if (types && !(types = subst_types(a, m, t->types, t->count, depth, &oom)) && oom)
            return NULL;
        break;
    default:
        return t;
    }
    if (elem == t->elem && err == t->err && types == t->types && rdesc == t->rdesc)
        return t;
    eos_cm_type *c = eos_cm__type_new(a, t->kind);
    if (!c)
        return NULL;
    *c = *t;
    c->elem = elem, c->err = err, c->types = types, c->rdesc = rdesc;
    if (rdesc != t->rdesc)
        c->rname = ((const eos_cm__rdesc *)rdesc)->name;
    memo_put(a, m->memo, t, c);
    return c;
}

static const eos_cm_functype *subst_func(eos_cm_arena *a, const eos_cm__rmapping *m,
                                         const eos_cm_functype *f)
{
    bool oom = false;
    const eos_cm_type *const *p = subst_types(a, m, f->params, f->param_count, 0, &oom);
    const eos_cm_type *const *r = oom ? NULL : subst_types(a, m, f->results, f->result_count, 0, &oom);
    if (oom)
        return NULL;
    if (p == f->params && r == f->results)
        return f;
    eos_cm_functype *c = eos_cm_arena_alloc(a, sizeof(*c));
    if (!c)
        return NULL;
    *c = *f;
    c->params = p, c->results = r;
    return c;
}

int eos_cm__subst_typedef(eos_cm_arena *a, const eos_cm__rmapping *m, eos_cm__typedef *t,
                          int depth)
{
    if (!m->len || !t->of.val || depth > EOS_CM_MAX_DEPTH)
        return 0;
    if (!m->memo) {
        /* Every mapping is a caller's own object (stack or arena); the memo
         * is state of the substitutions made with it. */
        eos_cm__memo *mm = eos_cm_arena_alloc(a, sizeof(*mm));
        if (!mm)
            return EOS_ENOMEM;
        ((eos_cm__rmapping *)m)->memo = mm;
    }
    switch (t->kind) {
    case EOS_CM__T_RESOURCE: {
        const eos_cm__rdesc *to = map_get(m, t->of.rdesc);
        if (to) {
            name_after(to, t->of.rdesc);
            t->of.rdesc = to;
        }
        return 0;
    }
    case EOS_CM__T_VAL:
        return (t->of.val = subst_val(a, m, t->of.val, 0)) ? 0 : EOS_ENOMEM;
    case EOS_CM__T_FUNC:
        return (t->of.func = subst_func(a, m, t->of.func)) ? 0 : EOS_ENOMEM;
    case EOS_CM__T_INSTANCE: {
        const eos_cm__itype *it = t->of.inst;
        eos_cm__itype *c = eos_cm_arena_alloc(a, sizeof(*c));
        if (!c || !(c->exports = eos_cm_arena_alloc(a, (it->export_count + 1) *
                                                           sizeof(eos_cm__decl))))
            return EOS_ENOMEM;
        c->export_count = it->export_count;
        memcpy(c->exports, it->exports, it->export_count * sizeof(eos_cm__decl));
        c->import_count = 0;
        c->imports = NULL;
        c->declared_count = 0;
        c->declared = it->declared_count
                          ? eos_cm_arena_alloc(a, it->declared_count * sizeof(*c->declared))
                          : NULL;
        if (it->declared_count && !c->declared)
            return EOS_ENOMEM;
        for (uint32_t i = 0; i < it->declared_count; i++) {
            const eos_cm__rdesc *to = map_get(m, it->declared[i]);
            c->declared[c->declared_count++] = to ? to : it->declared[i];
        }
        for (uint32_t i = 0; i < c->export_count; i++) {
            int rc = eos_cm__subst_typedef(a, m, &c->exports[i].type, depth + 1);
            if (rc)
                return rc;
        }
        t->of.inst = c;
        return 0;
    }
    default:
        return 0;
    }
}

bool eos_cm__typedef_has_resources(const eos_cm__typedef *t, int depth)
{
    if (!t->of.val || depth > EOS_CM_MAX_DEPTH)
        return false;
    switch (t->kind) {
    case EOS_CM__T_RESOURCE:
        return true;
    case EOS_CM__T_VAL:
        return eos_cm_type_has_handles(t->of.val);
    case EOS_CM__T_FUNC:
        for (uint32_t i = 0; i < t->of.func->param_count; i++)
            if (eos_cm_type_has_handles(t->of.func->params[i]))
                return true;
        for (uint32_t i = 0; i < t->of.func->result_count; i++)
            if (eos_cm_type_has_handles(t->of.func->results[i]))
                return true;
        return false;
    case EOS_CM__T_INSTANCE:
    case EOS_CM__T_COMPONENT:
        for (uint32_t i = 0; i < t->of.inst->import_count; i++)
            if (eos_cm__typedef_has_resources(&t->of.inst->imports[i].type, depth + 1))
                return true;
        for (uint32_t i = 0; i < t->of.inst->export_count; i++)
            if (eos_cm__typedef_has_resources(&t->of.inst->exports[i].type, depth + 1))
                return true;
        return false;
    default:
        return false;
    }
}

/* ---- Generative resources: fresh types per instance and per import -------- */

static bool in_to(const eos_cm__rmapping *m, const eos_cm__rdesc *rd)
{
    for (uint32_t i = 0; m && i < m->len; i++)
        if (m->to[i] == rd)
            return true;
    return false;
}

static int fresh_rd(eos_cm_arena *a, eos_cm__rmapping *m, const eos_cm__rmapping *keep,
                    const eos_cm__rdesc *rd)
{
    rd = eos_cm__rd_canon(rd);
    if (!rd || in_to(keep, rd) || map_get(m, rd) || m->len == EOS_ARRAY_LEN(m->from))
        return 0;
    /* A new identity for type checking; the same id, so the run-time
     * resource an instance binds to it is found as before. */
    eos_cm__rdesc *f = eos_cm_arena_alloc(a, sizeof(*f));
    if (!f)
        return EOS_ENOMEM;
    *f = *rd;
    f->same = NULL;
    m->from[m->len] = rd;
    m->to[m->len++] = f;
    return 0;
}

static int fresh_val(eos_cm_arena *a, eos_cm__rmapping *m, const eos_cm__rmapping *keep,
                     const eos_cm_type *t, int depth)
{
    if (!t || depth > EOS_CM_MAX_DEPTH)
        return 0;
    int rc = 0;
    switch (t->kind) {
    case EOS_CM_OWN:
    case EOS_CM_BORROW:
        return fresh_rd(a, m, keep, t->rdesc);
    case EOS_CM_LIST:
    case EOS_CM_OPTION:
    case EOS_CM_RESULT:
        if (!(rc = fresh_val(a, m, keep, t->elem, depth + 1)))
            rc = fresh_val(a, m, keep, t->err, depth + 1);
        return rc;
    case EOS_CM_RECORD:
    case EOS_CM_VARIANT:
    case EOS_CM_TUPLE:
        for (uint32_t i = 0; t->types && i < t->count && !rc; i++)
            rc = fresh_val(a, m, keep, t->types[i], depth + 1);
        return rc;
    default:
        return 0;
    }
}

int eos_cm__freshen_collect(eos_cm_arena *a, eos_cm__rmapping *m, const eos_cm__rmapping *keep,
                            const eos_cm__typedef *t, int depth)
{
    if (!t->of.val || depth > EOS_CM_MAX_DEPTH)
        return 0;
    int rc = 0;
    switch (t->kind) {
    case EOS_CM__T_RESOURCE:
        return fresh_rd(a, m, keep, t->of.rdesc);
    case EOS_CM__T_VAL:
        return fresh_val(a, m, keep, t->of.val, 0);
    case EOS_CM__T_FUNC:
        for (uint32_t i = 0; i < t->of.func->param_count && !rc; i++)
            rc = fresh_val(a, m, keep, t->of.func->params[i], 0);
        for (uint32_t i = 0; i < t->of.func->result_count && !rc; i++)
            rc = fresh_val(a, m, keep, t->of.func->results[i], 0);
        return rc;
    case EOS_CM__T_INSTANCE:
        for (uint32_t i = 0; i < t->of.inst->export_count && !rc; i++)
            rc = eos_cm__freshen_collect(a, m, keep, &t->of.inst->exports[i].type, depth + 1);
        return rc;
    default:
        return 0;
    }
}

int eos_cm__freshen_declared(eos_cm_arena *a, eos_cm__rmapping *m, const eos_cm__itype *it,
                             int depth)
{
    if (!it || depth > EOS_CM_MAX_DEPTH)
        return 0;
    int rc = 0;
    for (uint32_t i = 0; i < it->declared_count && !rc; i++)
        rc = fresh_rd(a, m, NULL, it->declared[i]);
    for (uint32_t i = 0; i < it->export_count && !rc; i++)
        if (it->exports[i].type.kind == EOS_CM__T_INSTANCE)
            rc = eos_cm__freshen_declared(a, m, it->exports[i].type.of.inst, depth + 1);
    return rc;
}
