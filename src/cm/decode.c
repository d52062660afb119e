/* Decoder and validator of the component binary format: sections become
 * definitions in index spaces (what each index is and how an instance will
 * produce it), types become eos_cm_type descriptors, and every index, sort
 * and type reference is checked before anything runs. */
#include <string.h>

#include "internal.h"

int eos_cm__rd_fail(eos_cm__rd *r, int code, const char *fmt, const char *detail)
{
    return eos_diag_set(r->diag, code, r->step, r->base + (r->p - r->start), fmt, detail);
}

int eos_cm__rd_u8(eos_cm__rd *r, uint8_t *out)
{
    *out = 0;
    if (r->p >= r->end)
        return EOS_CM__MALFORMED(r, "unexpected end of section");
    *out = *r->p++;
    return 0;
}

int eos_cm__rd_u32(eos_cm__rd *r, uint32_t *out)
{
    uint32_t v = 0;
    *out = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        uint8_t b;
        int rc = eos_cm__rd_u8(r, &b);
        if (rc)
            return rc;
        if (shift == 28 && (b & 0x70))
            return EOS_CM__MALFORMED(r, "integer too large");
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return EOS_CM__MALFORMED(r, "integer representation too long");
}

int eos_cm__rd_name(eos_cm__rd *r, const char **out)
{
    uint32_t len;
    int rc = eos_cm__rd_u32(r, &len);
    if (rc)
        return rc;
    if ((size_t)(r->end - r->p) < len)
        return EOS_CM__MALFORMED(r, "name extends past the end of the section");
    if (!eos_cm__utf8_valid(r->p, len))
        return EOS_CM__MALFORMED(r, "name is not valid UTF-8");
    *out = eos_cm__arena_strndup(r->c->arena, (const char *)r->p, len);
    r->p += len;
    return *out ? 0 : EOS_ENOMEM;
}

/* importname' / exportname': a 0x00 or 0x01 prefix (kebab name or interface
 * name in older encodings) then the name, or 0x02, the name and its
 * attributes: at most one `implements` (0x00, an interface the item, an
 * instance under a plain name, implements) and one `external-id` (0x02, any
 * string). *implements (may be NULL) receives the former or NULL; the item's
 * sort is checked against it by eos_cm__check_implements. */
int eos_cm__rd_extern_name(eos_cm__rd *r, const char **out, const char **implements)
{
    uint8_t b;
    int rc = eos_cm__rd_u8(r, &b);
    if (rc)
        return rc;
    if (implements)
        *implements = NULL;
    if (b > 2)
        return EOS_CM__MALFORMED(r, "unknown import/export name prefix");
    if ((rc = eos_cm__rd_name(r, out)))
        return rc;
    const char *why = NULL;
    if (!eos_cm__extern_name_ok(*out, strlen(*out), true, &why))
        return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                            "invalid component: `%s` is not a valid extern name (%s)", *out,
                            why);
    if (b != 2)
        return 0;
    uint32_t n;
    const char *impl = NULL, *id = NULL, *v;
    if ((rc = eos_cm__rd_u32(r, &n)))
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t kind;
        if ((rc = eos_cm__rd_u8(r, &kind)))
            return rc;
        if (kind != 0x00 && kind != 0x02)
            return EOS_CM__MALFORMED(r, "unknown attribute in an import/export name");
        if ((rc = eos_cm__rd_name(r, &v)))
            return rc;
        if ((kind == 0x00 && impl) || (kind == 0x02 && id))
            return EOS_CM__MALFORMED(r, kind == 0x00
                                            ? "duplicate `implements` attribute in a name"
                                            : "duplicate `external-id` attribute in a name");
        if (kind == 0x02) {
            id = v;
            continue;
        }
        impl = v;
        if (!*v)
            return EOS_CM__INVALID(r, "the `implements` attribute is not a valid name (empty)");
        if (!eos_cm__interface_name_ok(v, strlen(v), &why))
            return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                                "invalid component: `implements` value `%s` must be an interface "
                                "name such as `ns:pkg/iface` (%s)",
                                v, why);
        if (!eos_cm__label_ok(*out, strlen(*out)))
            return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                                "invalid component: name `%s` is not valid with `implements` "
                                "(only a plain kebab-case label is)",
                                *out);
    }
    if (implements)
        *implements = impl;
    return 0;
}

int eos_cm__check_implements(eos_cm__rd *r, const char *name, const char *implements, uint8_t sort)
{
    if (!implements || sort == EOS_CM__S_INSTANCE)
        return 0;
    return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                        "invalid component: `%s`: only instances can have an `implements` "
                        "attribute",
                        name);
}

int eos_cm__grow(void **v, uint32_t *cap, uint32_t len, size_t elem)
{
    if (len < *cap)
        return 0;
    uint32_t n = *cap ? *cap * 2 : 8;
    void *p = eos_realloc(*v, (size_t)*cap * elem, (size_t)n * elem);
    if (!p)
        return EOS_ENOMEM;
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(n - *cap) * elem);
    *v = p;
    *cap = n;
    return 0;
}

int eos_cm__rd_push(eos_cm__rd *r, int sort, const eos_cm__def *d)
{
    eos_cm__space *s = &r->c->spaces[sort];
    if (s->len >= 1000000)
        return EOS_CM__INVALID(r, "too many definitions in one index space");
    if (eos_cm__grow((void **)&s->defs, &s->cap, s->len, sizeof(*d)))
        return EOS_ENOMEM;
    s->defs[s->len++] = *d;
    return 0;
}

const eos_cm__def *eos_cm__def_get(const eos_cm_component *c, int sort, uint32_t index)
{
    if (index >= c->spaces[sort].len)
        return NULL;
    return &c->spaces[sort].defs[index];
}

int eos_cm__rd_idx(eos_cm__rd *r, int sort, uint32_t *out)
{
    int rc = eos_cm__rd_u32(r, out);
    if (rc)
        return rc;
    if (*out >= r->c->spaces[sort].len)
        return EOS_CM__INVALID(r, "index out of range for its index space");
    return 0;
}

/* ---- Type scopes: component, instance type and component type bodies ---- */

static const eos_cm__typedef *scope_type(eos_cm__scope *s, uint32_t i)
{
    if (s->comp) {
        const eos_cm__def *d = eos_cm__def_get(s->comp, EOS_CM__S_TYPE, i);
        return d ? &d->type : NULL;
    }
    return i < s->ntypes ? &s->types[i] : NULL;
}

static int scope_add_type(eos_cm__rd *r, eos_cm__scope *s, eos_cm__typedef t)
{
    if (s->comp) {
        eos_cm__def d = {.how = EOS_CM__D_ALIAS_OUTER, .type = t};
        return eos_cm__rd_push(r, EOS_CM__S_TYPE, &d);
    }
    if (s->ntypes >= 1000000)
        return EOS_CM__INVALID(r, "too many types");
    if (eos_cm__grow((void **)&s->types, &s->tcap, s->ntypes, sizeof(t)))
        return EOS_ENOMEM;
    s->types[s->ntypes++] = t;
    return 0;
}

/* Core type i of a scope, NULL out of range. */
static const eos_cm__typedef *scope_core_type(eos_cm__scope *s, uint32_t i)
{
    if (s->comp) {
        const eos_cm__def *d = eos_cm__def_get(s->comp, EOS_CM__S_CORE_TYPE, i);
        return d ? &d->type : NULL;
    }
    return i < s->nctypes ? &s->ctypes[i] : NULL;
}

static int scope_add_core_type(eos_cm__rd *r, eos_cm__scope *s, const eos_cm__typedef *t)
{
    if (s->nctypes >= 1000000)
        return EOS_CM__INVALID(r, "too many core types");
    if (eos_cm__grow((void **)&s->ctypes, &s->ctcap, s->nctypes, sizeof(*t)))
        return EOS_ENOMEM;
    s->ctypes[s->nctypes++] = *t;
    return 0;
}

static void scope_free(eos_cm__scope *s)
{
    eos_free(s->ctypes, s->ctcap * sizeof(*s->ctypes));
    eos_free(s->declared, s->dcap * sizeof(*s->declared));
    eos_free(s->types, s->tcap * sizeof(*s->types));
    eos_free(s->imports, s->icap * sizeof(*s->imports));
    eos_free(s->exports, s->ecap * sizeof(*s->exports));
    eos_free(s->insts, s->instcap * sizeof(*s->insts));
}

static eos_cm__rdesc *new_rdesc(eos_cm__rd *r, const char *nm)
{
    eos_cm__rdesc *d = eos_cm_arena_alloc(r->c->arena, sizeof(*d));
    if (d) {
        /* Ids are unique in the whole tree of nested components: types
         * declared by a nested component reach the enclosing ones through
         * instance exports and re-exports, and every instance's rmap is
         * indexed by them. */
        eos_cm_component *root = r->c;
        while (root->parent)
            root = root->parent;
        d->name = nm;
        d->id = root->rdesc_count++;
        d->owner = r->c;
    }
    return d;
}

static int valtype(eos_cm__rd *r, eos_cm__scope *s, const eos_cm_type **out)
{
    if (r->p >= r->end)
        return EOS_CM__MALFORMED(r, "unexpected end of section");
    uint8_t b = *r->p;
    if (b >= 0x73 && b <= 0x7f) {
        r->p++;
        *out = eos_cm_prim((eos_cm_kind)(0x7f - b));
        return 0;
    }
    uint32_t i;
    int rc = eos_cm__rd_u32(r, &i);
    if (rc)
        return rc;
    const eos_cm__typedef *t = scope_type(s, i);
    if (!t || t->kind != EOS_CM__T_VAL)
        return EOS_CM__INVALID(r, "value type index does not name a value type");
    *out = t->of.val;
    return 0;
}

static int opt_valtype(eos_cm__rd *r, eos_cm__scope *s, const eos_cm_type **out)
{
    uint8_t b;
    int rc = eos_cm__rd_u8(r, &b);
    if (rc)
        return rc;
    *out = NULL;
    if (b == 0)
        return 0;
    if (b != 1)
        return EOS_CM__MALFORMED(r, "bad optional type flag");
    return valtype(r, s, out);
}

/* A field, case, flag, enum or parameter name: a kebab-case label. */
static int rd_label(eos_cm__rd *r, const char **out)
{
    int rc = eos_cm__rd_name(r, out);
    if (!rc && !eos_cm__label_ok(*out, strlen(*out)))
        rc = eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                          "invalid component: name `%s` is not in kebab case (and not empty)",
                          *out);
    return rc;
}

static int label_vec(eos_cm__rd *r, uint32_t *count, const char ***names)
{
    int rc = eos_cm__rd_u32(r, count);
    if (rc)
        return rc;
    if (*count == 0 || *count > (uint32_t)(r->end - r->p))
        return *count == 0 ? EOS_CM__INVALID(r, "empty label list")
                           : EOS_CM__MALFORMED(r, "label count too large");
    *names = eos_cm_arena_alloc(r->c->arena, *count * sizeof(char *));
    if (!*names)
        return EOS_ENOMEM;
    for (uint32_t i = 0; i < *count; i++) {
        if ((rc = rd_label(r, &(*names)[i])))
            return rc;
        for (uint32_t j = 0; j < i; j++)
            if (strcasecmp((*names)[i], (*names)[j]) == 0)
                return EOS_CM__INVALID(r, "duplicate label");
    }
    return 0;
}

static int handle_type(eos_cm__rd *r, eos_cm__scope *s, uint8_t kind, eos_cm_type *t)
{
    uint32_t i;
    int rc = eos_cm__rd_u32(r, &i);
    if (rc)
        return rc;
    const eos_cm__typedef *rt = scope_type(s, i);
    if (!rt || rt->kind != EOS_CM__T_RESOURCE)
        return EOS_CM__INVALID(r, "own/borrow of a type that is not a resource");
    t->rdesc = rt->of.rdesc;
    t->rname = rt->of.rdesc->name;
    (void)kind;
    return 0;
}

static int defvaltype(eos_cm__rd *r, eos_cm__scope *s, uint8_t op, const eos_cm_type **out)
{
    eos_cm_arena *a = r->c->arena;
    eos_cm_type *t = NULL;
    int rc = 0;
    uint32_t n;
    switch (op) {
    case 0x72: /* record */
    case 0x71: /* variant */
        t = eos_cm__type_new(a, op == 0x72 ? EOS_CM_RECORD : EOS_CM_VARIANT);
        if (!t || (rc = eos_cm__rd_u32(r, &n)))
            return rc ? rc : EOS_ENOMEM;
        if (n == 0 || n > (uint32_t)(r->end - r->p))
            return EOS_CM__INVALID(r, "record or variant without fields or cases");
        {
            const char **names = eos_cm_arena_alloc(a, n * sizeof(char *));
            const eos_cm_type **types = eos_cm_arena_alloc(a, n * sizeof(void *));
            if (!names || !types)
                return EOS_ENOMEM;
            for (uint32_t i = 0; i < n; i++) {
                if ((rc = rd_label(r, &names[i])))
                    return rc;
                for (uint32_t j = 0; j < i; j++)
                    if (strcasecmp(names[i], names[j]) == 0)
                        return EOS_CM__INVALID(r, "duplicate field or case name");
                if (op == 0x72) {
                    rc = valtype(r, s, &types[i]);
                } else {
                    uint8_t z;
                    if (!(rc = opt_valtype(r, s, &types[i])) && !(rc = eos_cm__rd_u8(r, &z)) &&
                        z != 0)
                        return EOS_CM__MALFORMED(r, "variant case refinement is not supported");
                }
                if (rc)
                    return rc;
            }
            t->count = n, t->names = names, t->types = types;
        }
        break;
    case 0x70: /* list */
        t = eos_cm__type_new(a, EOS_CM_LIST);
        if (!t || (rc = valtype(r, s, &t->elem)))
            return rc ? rc : EOS_ENOMEM;
        break;
    case 0x63: { /* map<K, V>: the canonical ABI moves it as list<tuple<K, V>> */
        eos_cm_type *kv = eos_cm__type_new(a, EOS_CM_TUPLE);
        const eos_cm_type **types = eos_cm_arena_alloc(a, 2 * sizeof(void *));
        t = eos_cm__type_new(a, EOS_CM_LIST);
        if (!kv || !types || !t)
            return EOS_ENOMEM;
        if ((rc = valtype(r, s, &types[0])) || (rc = valtype(r, s, &types[1])))
            return rc;
        kv->count = 2, kv->types = types;
        eos_cm__type_layout(kv);
        t->elem = kv;
        break;
    }
    case 0x6f: { /* tuple */
        t = eos_cm__type_new(a, EOS_CM_TUPLE);
        if (!t || (rc = eos_cm__rd_u32(r, &n)))
            return rc ? rc : EOS_ENOMEM;
        if (n == 0 || n > (uint32_t)(r->end - r->p))
            return EOS_CM__INVALID(r, "empty tuple");
        const eos_cm_type **types = eos_cm_arena_alloc(a, n * sizeof(void *));
        if (!types)
            return EOS_ENOMEM;
        for (uint32_t i = 0; i < n; i++)
            if ((rc = valtype(r, s, &types[i])))
                return rc;
        t->count = n, t->types = types;
        break;
    }
    case 0x6e: /* flags */
    case 0x6d: /* enum */
        t = eos_cm__type_new(a, op == 0x6e ? EOS_CM_FLAGS : EOS_CM_ENUM);
        if (!t)
            return EOS_ENOMEM;
        {
            const char **names = NULL;
            if ((rc = label_vec(r, &n, &names)))
                return rc;
            if (op == 0x6e && n > 32)
                return EOS_CM__INVALID(r, "cannot have more than 32 flags");
            t->count = n, t->names = names;
        }
        break;
    case 0x6b: /* option */
        t = eos_cm__type_new(a, EOS_CM_OPTION);
        if (!t || (rc = valtype(r, s, &t->elem)))
            return rc ? rc : EOS_ENOMEM;
        t->count = 2;
        break;
    case 0x6a: /* result */
        t = eos_cm__type_new(a, EOS_CM_RESULT);
        if (!t || (rc = opt_valtype(r, s, &t->elem)) || (rc = opt_valtype(r, s, &t->err)))
            return rc ? rc : EOS_ENOMEM;
        t->count = 2;
        break;
    case 0x69: /* own */
    case 0x68: /* borrow */
        t = eos_cm__type_new(a, op == 0x69 ? EOS_CM_OWN : EOS_CM_BORROW);
        if (!t || (rc = handle_type(r, s, t->kind, t)))
            return rc ? rc : EOS_ENOMEM;
        break;
    case 0x66: /* stream */
    case 0x65: /* future */
    case 0x64: /* error-context */
        return eos_cm__rd_fail(r, EOS_EUNSUPPORTED, "%s",
                               "stream, future and error-context types need the async ABI "
                               "(WASI 0.3), not supported yet");
    case 0x67: /* list<T, N> */
        return eos_cm__rd_fail(r, EOS_EUNSUPPORTED, "%s", "fixed-length list types are not supported");
    default:
        return EOS_CM__MALFORMED(r, "unknown type constructor");
    }
    eos_cm__type_layout(t);
    *out = t;
    return 0;
}

static int functype(eos_cm__rd *r, eos_cm__scope *s, const eos_cm_functype **out)
{
    eos_cm_arena *a = r->c->arena;
    eos_cm_functype *ft = eos_cm_arena_alloc(a, sizeof(*ft));
    uint32_t n;
    int rc;
    if (!ft)
        return EOS_ENOMEM;
    if ((rc = eos_cm__rd_u32(r, &n)))
        return rc;
    if (n > (uint32_t)(r->end - r->p))
        return EOS_CM__MALFORMED(r, "parameter count too large");
    const char **pn = eos_cm_arena_alloc(a, (n + 1) * sizeof(char *));
    const eos_cm_type **pt = eos_cm_arena_alloc(a, (n + 1) * sizeof(void *));
    if (!pn || !pt)
        return EOS_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = rd_label(r, &pn[i])) || (rc = valtype(r, s, &pt[i])))
            return rc;
        for (uint32_t j = 0; j < i; j++)
            if (strcasecmp(pn[i], pn[j]) == 0)
                return EOS_CM__INVALID(r, "duplicate parameter name");
    }
    ft->param_count = n, ft->param_names = pn, ft->params = pt;
    uint8_t b;
    if ((rc = eos_cm__rd_u8(r, &b)))
        return rc;
    if (b == 0) {
        const char **rn = eos_cm_arena_alloc(a, sizeof(char *));
        const eos_cm_type **rt = eos_cm_arena_alloc(a, sizeof(void *));
        if (!rn || !rt)
            return EOS_ENOMEM;
        if ((rc = valtype(r, s, &rt[0])))
            return rc;
        ft->result_count = 1, ft->result_names = rn, ft->results = rt;
    } else if (b == 1) {
        if ((rc = eos_cm__rd_u32(r, &n)))
            return rc;
        if (n > (uint32_t)(r->end - r->p))
            return EOS_CM__MALFORMED(r, "result count too large");
        const char **rn = eos_cm_arena_alloc(a, (n + 1) * sizeof(char *));
        const eos_cm_type **rt = eos_cm_arena_alloc(a, (n + 1) * sizeof(void *));
        if (!rn || !rt)
            return EOS_ENOMEM;
        for (uint32_t i = 0; i < n; i++)
            if ((rc = rd_label(r, &rn[i])) || (rc = valtype(r, s, &rt[i])))
                return rc;
        ft->result_count = n, ft->result_names = rn, ft->results = rt;
    } else {
        return EOS_CM__MALFORMED(r, "bad result list");
    }
    for (uint32_t i = 0; i < ft->result_count; i++)
        if (eos_cm__type_has_borrow(ft->results[i], 0))
            return EOS_CM__INVALID(r, "a function result contains a borrow handle");
    *out = ft;
    return 0;
}

/* Core types: function types are checked for shape; module types are
 * skipped declaration by declaration (their details only matter for module
 * imports, which instantiation refuses). */
static int core_valtype(eos_cm__rd *r, uint8_t *out)
{
    uint8_t b;
    int rc = eos_cm__rd_u8(r, &b);
    if (rc)
        return rc;
    if (b != 0x7f && b != 0x7e && b != 0x7d && b != 0x7c && b != 0x7b && b != 0x70 && b != 0x6f)
        return EOS_CM__MALFORMED(r, "unknown core value type");
    *out = b;
    return 0;
}

static int core_functype_body(eos_cm__rd *r, const eos_wasm_functype **out)
{
    eos_wasm_functype *ft = eos_cm_arena_alloc(r->c->arena, sizeof(*ft));
    if (!ft)
        return EOS_ENOMEM;
    for (int k = 0; k < 2; k++) {
        uint32_t n;
        int rc = eos_cm__rd_u32(r, &n);
        if (rc)
            return rc;
        if (n > (uint32_t)(r->end - r->p))
            return EOS_CM__MALFORMED(r, "core function type too long for its section");
        uint8_t *v = eos_cm_arena_alloc(r->c->arena, n + 1);
        if (!v)
            return EOS_ENOMEM;
        for (uint32_t i = 0; i < n; i++)
            if ((rc = core_valtype(r, &v[i])))
                return rc;
        if (k == 0)
            ft->param_count = n, ft->params = v;
        else
            ft->result_count = n, ft->results = v;
    }
    *out = ft;
    return 0;
}

/* Limits of a memory (max_pages bounds them) or a table (no bound). */
static int core_limits(eos_cm__rd *r, uint64_t max_pages, eos_wasm_limits_type *out)
{
    uint8_t f;
    uint32_t lo, hi = 0;
    int rc = eos_cm__rd_u8(r, &f);
    if (!rc && f > 7) /* bit 0: a maximum; 1: shared; 2: 64-bit */
        return EOS_CM__MALFORMED(r, "unknown limits flags");
    if (!rc)
        rc = eos_cm__rd_u32(r, &lo);
    if (!rc && (f & 1))
        rc = eos_cm__rd_u32(r, &hi);
    if (rc)
        return rc;
    if ((f & 1) && hi < lo)
        return EOS_CM__INVALID(r, "size minimum must not be greater than maximum");
    if (max_pages && !(f & 4) && (lo > max_pages || ((f & 1) && hi > max_pages)))
        return EOS_CM__INVALID(r, "memory size must be at most 65536 pages (4GiB)");
    out->min = lo;
    out->max = hi;
    out->has_max = f & 1;
    return 0;
}

/* A module type's import or export descriptor; types: the function types of
 * the module type's types so far (NULL where unknown). */
static int core_importdesc(eos_cm__rd *r, const eos_wasm_functype *const *types, uint32_t ntypes,
                           eos_wasm_externtype *out)
{
    uint8_t k, m;
    uint32_t v;
    int rc = eos_cm__rd_u8(r, &k);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    switch (k) {
    case 0:
        out->kind = EOS_WASM_EXTERN_FUNC;
        if ((rc = eos_cm__rd_u32(r, &v)))
            return rc;
        if (v >= ntypes)
            return EOS_CM__INVALID(r, "type index out of bounds in a module type");
        out->of.func = types[v];
        return 0;
    case 1:
        out->kind = EOS_WASM_EXTERN_TABLE;
        return (rc = core_valtype(r, &out->of.table.elem_type))
                   ? rc
                   : core_limits(r, 0, &out->of.table.limits);
    case 2:
        out->kind = EOS_WASM_EXTERN_MEMORY;
        return core_limits(r, 65536, &out->of.memory.limits);
    case 3:
        out->kind = EOS_WASM_EXTERN_GLOBAL;
        if ((rc = core_valtype(r, &out->of.global.valtype)) || (rc = eos_cm__rd_u8(r, &m)))
            return rc;
        out->of.global.mutable_ = m == 1;
        return m > 1 ? EOS_CM__MALFORMED(r, "bad global mutability") : 0;
    default:
        return EOS_CM__MALFORMED(r, "unknown core import kind");
    }
}

/* core:type: a function type, bare or as a subtype (0x4f final, or 0x00
 * 0x50 non-final: the 0x00 tells it from a module type, whose 0x50 came
 * first), or a module type (not inside another). */
int eos_cm__rd_core_type(eos_cm__rd *r, bool in_module, eos_cm__typedef *out)
{
    uint8_t b;
    int rc = eos_cm__rd_u8(r, &b);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    out->kind = EOS_CM__T_CORE_FUNC;
    if (b == 0x4f || b == 0x00) {
        uint32_t nsup;
        if (b == 0x00 && ((rc = eos_cm__rd_u8(r, &b)) || b != 0x50))
            return rc ? rc : EOS_CM__MALFORMED(r, "unknown core type");
        if ((rc = eos_cm__rd_u32(r, &nsup)))
            return rc;
        if (nsup)
            return eos_cm__rd_fail(r, EOS_EUNSUPPORTED, "%s",
                                   "core types with supertypes (the GC proposal) are not "
                                   "supported");
        if ((rc = eos_cm__rd_u8(r, &b)))
            return rc;
        if (b != 0x60)
            return b == 0x5e || b == 0x5f
                       ? eos_cm__rd_fail(r, EOS_EUNSUPPORTED, "%s",
                                         "core struct and array types (the GC proposal) are "
                                         "not supported")
                       : EOS_CM__MALFORMED(r, "unknown core type");
        return core_functype_body(r, &out->of.cfunc);
    }
    if (b == 0x60)
        return core_functype_body(r, &out->of.cfunc);
    if (b != 0x50 || in_module)
        return EOS_CM__MALFORMED(r, "unknown core type");
    out->kind = EOS_CM__T_CORE_MODULE;
    uint32_t n, ntypes = 0;
    if ((rc = eos_cm__rd_u32(r, &n)))
        return rc;
    if (n > (uint32_t)(r->end - r->p))
        return EOS_CM__MALFORMED(r, "module type declaration count too large");
    eos_cm__mtype *mt = eos_cm_arena_alloc(r->c->arena, sizeof(*mt));
    const eos_wasm_functype **types = eos_cm_arena_alloc(r->c->arena, (n + 1) * sizeof(void *));
    if (!mt || !types ||
        !(mt->imports = eos_cm_arena_alloc(r->c->arena, (n + 1) * sizeof(eos_cm__coreitem))) ||
        !(mt->exports = eos_cm_arena_alloc(r->c->arena, (n + 1) * sizeof(eos_cm__coreitem))))
        return EOS_ENOMEM;
    out->of.mod = mt;
    for (uint32_t i = 0; i < n; i++) {
        const char *s1, *s2;
        uint32_t ct, idx;
        uint8_t sort, tgt;
        eos_cm__typedef inner;
        if ((rc = eos_cm__rd_u8(r, &b)))
            return rc;
        switch (b) {
        case 0x00:
            if ((rc = eos_cm__rd_name(r, &s1)) || (rc = eos_cm__rd_name(r, &s2)))
                return rc;
            for (uint32_t j = 0; j < mt->import_count; j++)
                if (!strcmp(mt->imports[j].module, s1) && !strcmp(mt->imports[j].name, s2))
                    return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                                        "invalid component: duplicate import name `%s:%s` in a "
                                        "module type",
                                        s1, s2);
            mt->imports[mt->import_count] = (eos_cm__coreitem){s1, s2, {0}};
            rc = core_importdesc(r, types, ntypes, &mt->imports[mt->import_count++].type);
            break;
        case 0x01:
            if (!(rc = eos_cm__rd_core_type(r, true, &inner)))
                types[ntypes++] = inner.of.cfunc;
            break;
        case 0x02:
            /* An outer alias of a core type: sort 0x10, target 0x01. Its
             * function type is not followed (left unknown). */
            if ((rc = eos_cm__rd_u8(r, &sort)))
                return rc;
            if (sort != 0x10)
                return EOS_CM__MALFORMED(r, "invalid leading byte for outer alias kind");
            if ((rc = eos_cm__rd_u8(r, &tgt)))
                return rc;
            if (tgt != 0x01)
                return EOS_CM__MALFORMED(r, "invalid leading byte for outer alias target");
            if ((rc = eos_cm__rd_u32(r, &ct)) || (rc = eos_cm__rd_u32(r, &idx)))
                return rc;
            if (ct == 0 && idx >= ntypes)
                return EOS_CM__INVALID(r, "outer alias type index out of bounds");
            types[ntypes++] = ct == 0 ? types[idx] : NULL;
            break;
        case 0x03:
            if ((rc = eos_cm__rd_name(r, &s1)))
                return rc;
            for (uint32_t j = 0; j < mt->export_count; j++)
                if (!strcmp(mt->exports[j].name, s1))
                    return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                                        "invalid component: export name `%s` already defined in "
                                        "a module type",
                                        s1);
            mt->exports[mt->export_count] = (eos_cm__coreitem){"", s1, {0}};
            rc = core_importdesc(r, types, ntypes, &mt->exports[mt->export_count++].type);
            break;
        default:
            return EOS_CM__MALFORMED(r, "unknown module type declaration");
        }
        if (rc)
            return rc;
    }
    return 0;
}

int eos_cm__rd_deftype(eos_cm__rd *r, eos_cm__scope *s, eos_cm__typedef *out);

/* sort ::= 0x00 core:sort | 0x01 func | 0x02 value | 0x03 type | 0x04
 * component | 0x05 instance, mapped to EOS_CM__S_*. */
int eos_cm__rd_sort(eos_cm__rd *r, uint8_t *out)
{
    uint8_t b, c;
    int rc = eos_cm__rd_u8(r, &b);
    if (rc)
        return rc;
    if (b == 0) {
        if ((rc = eos_cm__rd_u8(r, &c)))
            return rc;
        switch (c) {
        case 0x00:
            *out = EOS_CM__S_CORE_FUNC;
            return 0;
        case 0x01:
            *out = EOS_CM__S_CORE_TABLE;
            return 0;
        case 0x02:
            *out = EOS_CM__S_CORE_MEMORY;
            return 0;
        case 0x03:
            *out = EOS_CM__S_CORE_GLOBAL;
            return 0;
        case 0x04:
            *out = EOS_CM__S_CORE_TAG;
            return 0;
        case 0x10:
            *out = EOS_CM__S_CORE_TYPE;
            return 0;
        case 0x11:
            *out = EOS_CM__S_CORE_MODULE;
            return 0;
        case 0x12:
            *out = EOS_CM__S_CORE_INSTANCE;
            return 0;
        default:
            return EOS_CM__MALFORMED(r, "unknown core sort");
        }
    }
    switch (b) {
    case 1:
        *out = EOS_CM__S_FUNC;
        return 0;
    case 2:
        *out = EOS_CM__S_VALUE;
        return 0;
    case 3:
        *out = EOS_CM__S_TYPE;
        return 0;
    case 4:
        *out = EOS_CM__S_COMPONENT;
        return 0;
    case 5:
        *out = EOS_CM__S_INSTANCE;
        return 0;
    default:
        return EOS_CM__MALFORMED(r, "unknown sort");
    }
}

uint8_t eos_cm__item_kind(uint8_t s)
{
    switch (s) {
    case EOS_CM__S_FUNC:
        return EOS_CM_ITEM_FUNC;
    case EOS_CM__S_INSTANCE:
        return EOS_CM_ITEM_INSTANCE;
    case EOS_CM__S_COMPONENT:
        return EOS_CM_ITEM_COMPONENT;
    case EOS_CM__S_CORE_MODULE:
        return EOS_CM_ITEM_MODULE;
    case EOS_CM__S_VALUE:
        return EOS_CM_ITEM_VALUE;
    default:
        return EOS_CM_ITEM_TYPE;
    }
}

/* externdesc: the sort it declares and its type. Type bounds add a type. */
int eos_cm__rd_externdesc(eos_cm__rd *r, eos_cm__scope *s, const char *nm, uint8_t *out_sort,
                          eos_cm__typedef *out)
{
    uint8_t b;
    uint32_t i;
    int rc = eos_cm__rd_u8(r, &b);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    const eos_cm__typedef *t;
    switch (b) {
    case 0x00:
        if ((rc = eos_cm__rd_u8(r, &b)) || (rc = eos_cm__rd_u32(r, &i)))
            return rc;
        if (b != 0x11)
            return EOS_CM__MALFORMED(r, "bad core module descriptor");
        t = scope_core_type(s, i);
        if (!t)
            return EOS_CM__INVALID(r, "core type index out of range");
        if (t->kind != EOS_CM__T_CORE_MODULE)
            return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                                "invalid component: core type index %u is not a module type", i);
        *out_sort = EOS_CM__S_CORE_MODULE;
        *out = *t;
        return 0;
    case 0x01:
    case 0x04:
    case 0x05:
        if ((rc = eos_cm__rd_u32(r, &i)))
            return rc;
        t = scope_type(s, i);
        if (!t)
            return EOS_CM__INVALID(r, "type index out of range");
        if ((b == 0x01 && t->kind != EOS_CM__T_FUNC) ||
            (b == 0x04 && t->kind != EOS_CM__T_COMPONENT) ||
            (b == 0x05 && t->kind != EOS_CM__T_INSTANCE))
            return EOS_CM__INVALID(r, "descriptor type does not match its sort");
        *out_sort = b == 0x01   ? EOS_CM__S_FUNC
                    : b == 0x04 ? EOS_CM__S_COMPONENT
                                : EOS_CM__S_INSTANCE;
        *out = *t;
        if (b == 0x05) {
            /* Each instance of the type has resources of its own. */
            eos_cm__rmapping m = {.len = 0};
            if ((rc = eos_cm__freshen_declared(r->c->arena, &m, t->of.inst, 0)) ||
                (rc = eos_cm__subst_typedef(r->c->arena, &m, out, 0)))
                return rc;
        }
        return 0;
    case 0x02:
        return eos_cm__rd_fail(r, EOS_EUNSUPPORTED, "%s",
                               "value imports and exports are not supported");
    case 0x03:
        if ((rc = eos_cm__rd_u8(r, &b)))
            return rc;
        *out_sort = EOS_CM__S_TYPE;
        if (b == 0x01) {
            eos_cm__rdesc *d = new_rdesc(r, nm);
            if (!d)
                return EOS_ENOMEM;
            out->kind = EOS_CM__T_RESOURCE;
            out->of.rdesc = d;
            return 0;
        }
        if (b != 0x00 || (rc = eos_cm__rd_u32(r, &i)))
            return rc ? rc : EOS_CM__MALFORMED(r, "bad type bound");
        t = scope_type(s, i);
        if (!t)
            return EOS_CM__INVALID(r, "type index out of range");
        *out = *t;
        return 0;
    default:
        return EOS_CM__MALFORMED(r, "unknown extern descriptor");
    }
}

static int add_decl(eos_cm__rd *r, eos_cm__decl **v, uint32_t *n, uint32_t *cap, const char *nm,
                    uint8_t s, eos_cm__typedef t)
{
    for (uint32_t i = 0; i < *n; i++)
        if (eos_cm__names_conflict((*v)[i].name, nm))
            return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                                "invalid component: name `%s` conflicts with a previous name",
                                nm);
    eos_cm__decls ds = {*v, *n};
    eos_cm__ctx_iter it = {eos_cm__decls_nth, &ds};
    const char *why = NULL;
    if (!eos_cm__annotated_ok(nm, eos_cm__item_kind(s), &t, &it, &why))
        return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                            "invalid component: `%s`: %s", nm, why);
    if (eos_cm__grow((void **)v, cap, *n, sizeof(**v)))
        return EOS_ENOMEM;
    (*v)[(*n)++] = (eos_cm__decl){.name = nm, .sort = eos_cm__item_kind(s), .type = t};
    return 0;
}

static int outer_type(eos_cm__rd *r, eos_cm__scope *s, uint32_t ct, uint32_t i,
                      eos_cm__typedef *out)
{
    eos_cm__scope *o = s;
    const eos_cm_component *oc = NULL;
    /* Past the innermost component's own scope the count goes on through
     * the components that enclose it. */
    for (uint32_t k = 0; k < ct; k++) {
        if (o && o->outer)
            o = o->outer;
        else if (o && o->comp && o->comp->parent)
            oc = o->comp->parent, o = NULL;
        else if (oc && oc->parent)
            oc = oc->parent;
        else
            return EOS_CM__INVALID(r, "outer alias count beyond the enclosing scopes");
    }
    const eos_cm__def *od = oc ? eos_cm__def_get(oc, EOS_CM__S_TYPE, i) : NULL;
    const eos_cm__typedef *t = oc ? (od ? &od->type : NULL) : scope_type(o, i);
    if (!t)
        return EOS_CM__INVALID(r, "outer alias index out of range");
    if (oc && eos_cm__typedef_has_resources(t, 0))
        return EOS_CM__INVALID(r, "outer alias of a type that transitively refers to resources");
    *out = *t;
    return 0;
}

/* Bodies of instance types (0x42) and component types (0x41). */
static int type_body(eos_cm__rd *r, eos_cm__scope *outer, bool component, eos_cm__typedef *out)
{
    eos_cm__scope s = {.outer = outer};
    uint32_t n;
    int rc = eos_cm__rd_u32(r, &n);
    if (rc)
        return rc;
    if (++r->depth > EOS_CM_MAX_DEPTH) {
        rc = EOS_CM__INVALID(r, "types nested too deeply");
        goto out;
    }
    for (uint32_t k = 0; k < n && !rc; k++) {
        uint8_t b;
        const char *nm, *impl;
        eos_cm__typedef t;
        uint8_t st;
        if ((rc = eos_cm__rd_u8(r, &b)))
            break;
        switch (b) {
        case 0x00:
            if (!(rc = eos_cm__rd_core_type(r, false, &t)))
                rc = scope_add_core_type(r, &s, &t);
            break;
        case 0x01:
            if (!(rc = eos_cm__rd_deftype(r, &s, &t)))
                rc = scope_add_type(r, &s, t);
            break;
        case 0x02: {
            uint8_t as, tgt;
            uint32_t a1, a2;
            if ((rc = eos_cm__rd_sort(r, &as)) || (rc = eos_cm__rd_u8(r, &tgt)))
                break;
            if (tgt == 0x02) {
                if ((rc = eos_cm__rd_u32(r, &a1)) || (rc = eos_cm__rd_u32(r, &a2)))
                    break;
                if (as == EOS_CM__S_CORE_TYPE) {
                    eos_cm__scope *o = &s;
                    for (uint32_t j = 0; j < a1 && o; j++)
                        o = o->outer;
                    const eos_cm__typedef *ot = o ? scope_core_type(o, a2) : NULL;
                    rc = !ot ? EOS_CM__INVALID(r, o ? "outer alias index out of range"
                                                    : "outer alias count beyond the "
                                                      "enclosing scopes")
                             : scope_add_core_type(r, &s, ot);
                    break;
                }
                if (as != EOS_CM__S_TYPE) {
                    rc = EOS_CM__INVALID(r, "an outer alias in a type may only refer to types or "
                                            "core types");
                    break;
                }
                if (!(rc = outer_type(r, &s, a1, a2, &t)))
                    rc = scope_add_type(r, &s, t);
            } else if (tgt == 0x00) {
                if ((rc = eos_cm__rd_u32(r, &a1)) || (rc = eos_cm__rd_name(r, &nm)))
                    break;
                if (as != EOS_CM__S_TYPE && as != EOS_CM__S_INSTANCE) {
                    rc = EOS_CM__INVALID(r, "an export alias in a type may only refer to types or "
                                            "instances");
                    break;
                }
                if (a1 >= s.ninsts) {
                    rc = EOS_CM__INVALID(r, "alias of an unknown instance in a type");
                    break;
                }
                const eos_cm__itype *it = s.insts[a1].of.inst;
                const eos_cm__decl *d = NULL;
                for (uint32_t j = 0; j < it->export_count; j++)
                    if (strcmp(it->exports[j].name, nm) == 0)
                        d = &it->exports[j];
                if (!d) {
                    rc = EOS_CM__INVALID(r, "alias of a missing instance export in a type");
                    break;
                }
                if (as == EOS_CM__S_TYPE)
                    rc = scope_add_type(r, &s, d->type);
                else if (as == EOS_CM__S_INSTANCE) {
                    if (!eos_cm__grow((void **)&s.insts, &s.instcap, s.ninsts, sizeof(t)))
                        s.insts[s.ninsts++] = d->type;
                    else
                        rc = EOS_ENOMEM;
                }
            } else {
                rc = EOS_CM__INVALID(r, "unsupported alias in a type");
            }
            break;
        }
        case 0x03:
        case 0x04:
            if (b == 0x03 && !component) {
                rc = EOS_CM__INVALID(r, "import declaration in an instance type");
                break;
            }
            if ((rc = eos_cm__rd_extern_name(r, &nm, &impl)))
                break;
            bool abstract = r->end - r->p >= 2 && r->p[0] == 0x03 && r->p[1] == 0x01;
            if ((rc = eos_cm__rd_externdesc(r, &s, nm, &st, &t)) ||
                (rc = eos_cm__check_implements(r, nm, impl, st)))
                break;
            if (abstract) {
                if (eos_cm__grow((void **)&s.declared, &s.dcap, s.ndeclared, sizeof(*s.declared))) {
                    rc = EOS_ENOMEM;
                    break;
                }
                s.declared[s.ndeclared++] = t.of.rdesc;
            }
            if (st == EOS_CM__S_TYPE && t.kind == EOS_CM__T_VAL && t.of.val->kind > EOS_CM_STRING) {
                /* Give exported value types their WIT name, for printing. */
                eos_cm_type *named = eos_cm__type_new(r->c->arena, 0);
                if (!named) {
                    rc = EOS_ENOMEM;
                    break;
                }
                *named = *t.of.val;
                named->name = nm;
                t.of.val = named;
            }
            /* A component type's declarations are checked here; an instance
             * type's where it types an import or export. */
            if (component && (rc = eos_cm__check_decl_visible(r, s.imports, s.nimports, s.exports,
                                                              s.nexports, st, &t, b == 0x03)))
                break;
            if (b == 0x03)
                rc = add_decl(r, &s.imports, &s.nimports, &s.icap, nm, st, t);
            else
                rc = add_decl(r, &s.exports, &s.nexports, &s.ecap, nm, st, t);
            if (!rc && st == EOS_CM__S_TYPE)
                rc = scope_add_type(r, &s, t);
            if (!rc && st == EOS_CM__S_INSTANCE) {
                if (!eos_cm__grow((void **)&s.insts, &s.instcap, s.ninsts, sizeof(t)))
                    s.insts[s.ninsts++] = t;
                else
                    rc = EOS_ENOMEM;
            }
            break;
        default:
            rc = EOS_CM__MALFORMED(r, "unknown declaration in an instance or component type");
        }
    }
    if (rc)
        goto out;
    eos_cm__itype *it = eos_cm_arena_alloc(r->c->arena, sizeof(*it));
    if (!it) {
        rc = EOS_ENOMEM;
        goto out;
    }
    it->import_count = s.nimports;
    it->export_count = s.nexports;
    it->imports = eos_cm_arena_alloc(r->c->arena, (s.nimports + 1) * sizeof(eos_cm__decl));
    it->exports = eos_cm_arena_alloc(r->c->arena, (s.nexports + 1) * sizeof(eos_cm__decl));
    if (!it->imports || !it->exports) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if (s.nimports)
        memcpy(it->imports, s.imports, s.nimports * sizeof(eos_cm__decl));
    if (s.nexports)
        memcpy(it->exports, s.exports, s.nexports * sizeof(eos_cm__decl));
    if (s.ndeclared) {
        it->declared = eos_cm_arena_alloc(r->c->arena, s.ndeclared * sizeof(*it->declared));
        if (!it->declared) {
            rc = EOS_ENOMEM;
            goto out;
        }
        memcpy(it->declared, s.declared, s.ndeclared * sizeof(*it->declared));
        it->declared_count = s.ndeclared;
    }
    out->kind = component ? EOS_CM__T_COMPONENT : EOS_CM__T_INSTANCE;
    out->of.inst = it;
out:
    r->depth--;
    scope_free(&s);
    return rc;
}

int eos_cm__rd_deftype(eos_cm__rd *r, eos_cm__scope *s, eos_cm__typedef *out)
{
    uint8_t b;
    int rc = eos_cm__rd_u8(r, &b);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    if (b >= 0x73 && b <= 0x7f) {
        out->kind = EOS_CM__T_VAL;
        out->of.val = eos_cm_prim((eos_cm_kind)(0x7f - b));
        return 0;
    }
    switch (b) {
    case 0x40:
        out->kind = EOS_CM__T_FUNC;
        return functype(r, s, &out->of.func);
    case 0x41:
    case 0x42:
        return type_body(r, s, b == 0x41, out);
    case 0x3f: {
        if (!s->comp)
            return EOS_CM__INVALID(r, "resource type definition inside a type");
        uint8_t rep, has;
        if ((rc = eos_cm__rd_u8(r, &rep)) || (rc = eos_cm__rd_u8(r, &has)))
            return rc;
        if (rep != 0x7f)
            return EOS_CM__INVALID(r, "resource representation must be i32");
        eos_cm__rdesc *d = new_rdesc(r, NULL);
        if (!d)
            return EOS_ENOMEM;
        d->defined = true;
        if (has == 1) {
            d->has_dtor = true;
            if ((rc = eos_cm__rd_idx(r, EOS_CM__S_CORE_FUNC, &d->dtor_core_func)))
                return rc;
            /* A destructor takes the rep: [i32] -> [], when its type is known. */
            const eos_cm__def *fd = eos_cm__def_get(r->c, EOS_CM__S_CORE_FUNC, d->dtor_core_func);
            eos_wasm_externtype et;
            if (fd && fd->how == EOS_CM__D_ALIAS_CORE &&
                eos_cm__core_export_type(r->c, fd->a, fd->name, &et, 0) == 1 &&
                et.kind == EOS_WASM_EXTERN_FUNC && et.of.func &&
                (et.of.func->param_count != 1 || et.of.func->params[0] != EOS_WASM_I32 ||
                 et.of.func->result_count != 0))
                return EOS_CM__INVALID(r, "wrong signature for a destructor (want [i32] -> [])");
        } else if (has != 0) {
            return EOS_CM__MALFORMED(r, "bad resource destructor flag");
        }
        out->kind = EOS_CM__T_RESOURCE;
        out->of.rdesc = d;
        return 0;
    }
    default:
        out->kind = EOS_CM__T_VAL;
        return defvaltype(r, s, b, &out->of.val);
    }
}
