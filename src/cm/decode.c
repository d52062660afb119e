/* Decoder and validator of the component binary format: sections become
 * definitions in index spaces (what each index is and how an instance will
 * produce it), types become eos_cm_type descriptors, and every index, sort
 * and type reference is checked before anything runs. */
#include <string.h>

#include "internal.h"

typedef struct rd {
    const uint8_t *p, *start, *end;
    int64_t base;
    eos_diag *diag;
    const char *step;
    eos_cm_component *c;
    const eos_wasm_features *features;
    int depth;
} rd;

static int fail(rd *r, int code, const char *fmt, const char *detail)
{
    return eos_diag_set(r->diag, code, r->step, r->base + (r->p - r->start), fmt, detail);
}

#define MALFORMED(r, what) fail((r), EOS_EMALFORMED, "malformed component: %s", (what))
#define INVALID(r, what) fail((r), EOS_EINVALID, "invalid component: %s", (what))

static int u8(rd *r, uint8_t *out)
{
    *out = 0;
    if (r->p >= r->end)
        return MALFORMED(r, "unexpected end of section");
    *out = *r->p++;
    return 0;
}

static int u32(rd *r, uint32_t *out)
{
    uint32_t v = 0;
    *out = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        uint8_t b;
        int rc = u8(r, &b);
        if (rc)
            return rc;
        if (shift == 28 && (b & 0x70))
            return MALFORMED(r, "integer too large");
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return MALFORMED(r, "integer representation too long");
}

static int name(rd *r, const char **out)
{
    uint32_t len;
    int rc = u32(r, &len);
    if (rc)
        return rc;
    if ((size_t)(r->end - r->p) < len)
        return MALFORMED(r, "name extends past the end of the section");
    if (!eos_cm__utf8_valid(r->p, len))
        return MALFORMED(r, "name is not valid UTF-8");
    *out = eos_cm__arena_strndup(r->c->arena, (const char *)r->p, len);
    r->p += len;
    return *out ? 0 : EOS_ENOMEM;
}

/* importname' / exportname': a 0x00 or 0x01 prefix (kebab name or interface
 * name in older encodings), then the name. */
static int extern_name(rd *r, const char **out)
{
    uint8_t b;
    int rc = u8(r, &b);
    if (rc)
        return rc;
    if (b > 1)
        return MALFORMED(r, "unknown import/export name prefix");
    return name(r, out);
}

static int grow(void **v, uint32_t *cap, uint32_t len, size_t elem)
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

static int push(rd *r, int sort, const eos_cm__def *d)
{
    eos_cm__space *s = &r->c->spaces[sort];
    if (s->len >= 1000000)
        return INVALID(r, "too many definitions in one index space");
    if (grow((void **)&s->defs, &s->cap, s->len, sizeof(*d)))
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

static int idx(rd *r, int sort, uint32_t *out)
{
    int rc = u32(r, out);
    if (rc)
        return rc;
    if (*out >= r->c->spaces[sort].len)
        return INVALID(r, "index out of range for its index space");
    return 0;
}

/* ---- Type scopes: component, instance type and component type bodies ---- */

typedef struct scope {
    struct scope *outer;
    eos_cm_component *comp; /* a component's own scope */
    eos_cm__typedef *types;
    uint32_t ntypes, tcap;
    eos_cm__decl *imports, *exports;
    uint32_t nimports, icap, nexports, ecap;
    eos_cm__typedef *insts; /* instances imported inside a component type */
    uint32_t ninsts, instcap;
} scope;

static const eos_cm__typedef *scope_type(scope *s, uint32_t i)
{
    if (s->comp) {
        const eos_cm__def *d = eos_cm__def_get(s->comp, EOS_CM__S_TYPE, i);
        return d ? &d->type : NULL;
    }
    return i < s->ntypes ? &s->types[i] : NULL;
}

static int scope_add_type(rd *r, scope *s, eos_cm__typedef t)
{
    if (s->comp) {
        eos_cm__def d = {.how = EOS_CM__D_ALIAS_OUTER, .type = t};
        return push(r, EOS_CM__S_TYPE, &d);
    }
    if (s->ntypes >= 1000000)
        return INVALID(r, "too many types");
    if (grow((void **)&s->types, &s->tcap, s->ntypes, sizeof(t)))
        return EOS_ENOMEM;
    s->types[s->ntypes++] = t;
    return 0;
}

static void scope_free(scope *s)
{
    eos_free(s->types, s->tcap * sizeof(*s->types));
    eos_free(s->imports, s->icap * sizeof(*s->imports));
    eos_free(s->exports, s->ecap * sizeof(*s->exports));
    eos_free(s->insts, s->instcap * sizeof(*s->insts));
}

static eos_cm__rdesc *new_rdesc(rd *r, const char *nm)
{
    eos_cm__rdesc *d = eos_cm_arena_alloc(r->c->arena, sizeof(*d));
    if (d) {
        d->name = nm;
        d->id = r->c->rdesc_count++;
    }
    return d;
}

static int valtype(rd *r, scope *s, const eos_cm_type **out)
{
    if (r->p >= r->end)
        return MALFORMED(r, "unexpected end of section");
    uint8_t b = *r->p;
    if (b >= 0x73 && b <= 0x7f) {
        r->p++;
        *out = eos_cm_prim((eos_cm_kind)(0x7f - b));
        return 0;
    }
    uint32_t i;
    int rc = u32(r, &i);
    if (rc)
        return rc;
    const eos_cm__typedef *t = scope_type(s, i);
    if (!t || t->kind != EOS_CM__T_VAL)
        return INVALID(r, "value type index does not name a value type");
    *out = t->of.val;
    return 0;
}

static int opt_valtype(rd *r, scope *s, const eos_cm_type **out)
{
    uint8_t b;
    int rc = u8(r, &b);
    if (rc)
        return rc;
    *out = NULL;
    if (b == 0)
        return 0;
    if (b != 1)
        return MALFORMED(r, "bad optional type flag");
    return valtype(r, s, out);
}

static int label_vec(rd *r, uint32_t *count, const char ***names)
{
    int rc = u32(r, count);
    if (rc)
        return rc;
    if (*count == 0 || *count > (uint32_t)(r->end - r->p))
        return *count == 0 ? INVALID(r, "empty label list") : MALFORMED(r, "label count too large");
    *names = eos_cm_arena_alloc(r->c->arena, *count * sizeof(char *));
    if (!*names)
        return EOS_ENOMEM;
    for (uint32_t i = 0; i < *count; i++) {
        if ((rc = name(r, &(*names)[i])))
            return rc;
        for (uint32_t j = 0; j < i; j++)
            if (strcasecmp((*names)[i], (*names)[j]) == 0)
                return INVALID(r, "duplicate label");
    }
    return 0;
}

static int handle_type(rd *r, scope *s, uint8_t kind, eos_cm_type *t)
{
    uint32_t i;
    int rc = u32(r, &i);
    if (rc)
        return rc;
    const eos_cm__typedef *rt = scope_type(s, i);
    if (!rt || rt->kind != EOS_CM__T_RESOURCE)
        return INVALID(r, "own/borrow of a type that is not a resource");
    t->rdesc = rt->of.rdesc;
    t->rname = rt->of.rdesc->name;
    (void)kind;
    return 0;
}

static int defvaltype(rd *r, scope *s, uint8_t op, const eos_cm_type **out)
{
    eos_cm_arena *a = r->c->arena;
    eos_cm_type *t = NULL;
    int rc = 0;
    uint32_t n;
    switch (op) {
    case 0x72: /* record */
    case 0x71: /* variant */
        t = eos_cm__type_new(a, op == 0x72 ? EOS_CM_RECORD : EOS_CM_VARIANT);
        if (!t || (rc = u32(r, &n)))
            return rc ? rc : EOS_ENOMEM;
        if (n == 0 || n > (uint32_t)(r->end - r->p))
            return INVALID(r, "record or variant without fields or cases");
        {
            const char **names = eos_cm_arena_alloc(a, n * sizeof(char *));
            const eos_cm_type **types = eos_cm_arena_alloc(a, n * sizeof(void *));
            if (!names || !types)
                return EOS_ENOMEM;
            for (uint32_t i = 0; i < n; i++) {
                if ((rc = name(r, &names[i])))
                    return rc;
                for (uint32_t j = 0; j < i; j++)
                    if (strcasecmp(names[i], names[j]) == 0)
                        return INVALID(r, "duplicate field or case name");
                if (op == 0x72) {
                    rc = valtype(r, s, &types[i]);
                } else {
                    uint8_t z;
                    if (!(rc = opt_valtype(r, s, &types[i])) && !(rc = u8(r, &z)) && z != 0)
                        return MALFORMED(r, "variant case refinement is not supported");
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
    case 0x6f: { /* tuple */
        t = eos_cm__type_new(a, EOS_CM_TUPLE);
        if (!t || (rc = u32(r, &n)))
            return rc ? rc : EOS_ENOMEM;
        if (n == 0 || n > (uint32_t)(r->end - r->p))
            return INVALID(r, "empty tuple");
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
            if (op == 0x6e && n > 32 * 1024)
                return INVALID(r, "too many flags");
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
    default:
        return MALFORMED(r, "unknown type constructor");
    }
    eos_cm__type_layout(t);
    *out = t;
    return 0;
}

static int functype(rd *r, scope *s, const eos_cm_functype **out)
{
    eos_cm_arena *a = r->c->arena;
    eos_cm_functype *ft = eos_cm_arena_alloc(a, sizeof(*ft));
    uint32_t n;
    int rc;
    if (!ft)
        return EOS_ENOMEM;
    if ((rc = u32(r, &n)))
        return rc;
    if (n > (uint32_t)(r->end - r->p))
        return MALFORMED(r, "parameter count too large");
    const char **pn = eos_cm_arena_alloc(a, (n + 1) * sizeof(char *));
    const eos_cm_type **pt = eos_cm_arena_alloc(a, (n + 1) * sizeof(void *));
    if (!pn || !pt)
        return EOS_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = name(r, &pn[i])) || (rc = valtype(r, s, &pt[i])))
            return rc;
        for (uint32_t j = 0; j < i; j++)
            if (strcasecmp(pn[i], pn[j]) == 0)
                return INVALID(r, "duplicate parameter name");
    }
    ft->param_count = n, ft->param_names = pn, ft->params = pt;
    uint8_t b;
    if ((rc = u8(r, &b)))
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
        if ((rc = u32(r, &n)))
            return rc;
        if (n > (uint32_t)(r->end - r->p))
            return MALFORMED(r, "result count too large");
        const char **rn = eos_cm_arena_alloc(a, (n + 1) * sizeof(char *));
        const eos_cm_type **rt = eos_cm_arena_alloc(a, (n + 1) * sizeof(void *));
        if (!rn || !rt)
            return EOS_ENOMEM;
        for (uint32_t i = 0; i < n; i++)
            if ((rc = name(r, &rn[i])) || (rc = valtype(r, s, &rt[i])))
                return rc;
        ft->result_count = n, ft->result_names = rn, ft->results = rt;
    } else {
        return MALFORMED(r, "bad result list");
    }
    for (uint32_t i = 0; i < ft->result_count; i++)
        if (eos_cm__type_has_borrow(ft->results[i], 0))
            return INVALID(r, "a function result contains a borrow handle");
    *out = ft;
    return 0;
}

/* Core types: function types are checked for shape; module types are
 * skipped declaration by declaration (their details only matter for module
 * imports, which instantiation refuses). */
static int core_valtype(rd *r)
{
    uint8_t b;
    int rc = u8(r, &b);
    if (rc)
        return rc;
    if (b != 0x7f && b != 0x7e && b != 0x7d && b != 0x7c && b != 0x7b && b != 0x70 && b != 0x6f)
        return MALFORMED(r, "unknown core value type");
    return 0;
}

static int core_functype_body(rd *r)
{
    uint32_t n;
    int rc;
    for (int k = 0; k < 2; k++) {
        if ((rc = u32(r, &n)))
            return rc;
        for (uint32_t i = 0; i < n; i++)
            if ((rc = core_valtype(r)))
                return rc;
    }
    return 0;
}

static int core_limits(rd *r)
{
    uint8_t f;
    uint32_t v;
    int rc = u8(r, &f);
    if (!rc)
        rc = u32(r, &v);
    if (!rc && (f & 1))
        rc = u32(r, &v);
    return rc;
}

static int core_importdesc(rd *r)
{
    uint8_t k;
    uint32_t v;
    int rc = u8(r, &k);
    if (rc)
        return rc;
    switch (k) {
    case 0:
        return u32(r, &v);
    case 1:
        return (rc = core_valtype(r)) ? rc : core_limits(r);
    case 2:
        return core_limits(r);
    case 3: {
        uint8_t m;
        return (rc = core_valtype(r)) ? rc : u8(r, &m);
    }
    default:
        return MALFORMED(r, "unknown core import kind");
    }
}

static int core_type(rd *r, bool in_module)
{
    uint8_t b;
    int rc = u8(r, &b);
    if (rc)
        return rc;
    if (b == 0x60)
        return core_functype_body(r);
    if (b != 0x50 || in_module)
        return MALFORMED(r, "unknown core type");
    uint32_t n;
    if ((rc = u32(r, &n)))
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        const char *s1, *s2;
        uint32_t v;
        if ((rc = u8(r, &b)))
            return rc;
        switch (b) {
        case 0x00:
            rc = name(r, &s1);
            if (!rc)
                rc = name(r, &s2);
            if (!rc)
                rc = core_importdesc(r);
            break;
        case 0x01:
            rc = core_type(r, true);
            break;
        case 0x02:
            rc = u8(r, &b);
            if (!rc)
                rc = u8(r, &b);
            if (!rc)
                rc = u32(r, &v);
            if (!rc)
                rc = u32(r, &v);
            break;
        case 0x03:
            rc = name(r, &s1);
            if (!rc)
                rc = core_importdesc(r);
            break;
        default:
            return MALFORMED(r, "unknown module type declaration");
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int deftype(rd *r, scope *s, eos_cm__typedef *out);

/* sort ::= 0x00 core:sort | 0x01 func | 0x02 value | 0x03 type | 0x04
 * component | 0x05 instance, mapped to EOS_CM__S_*. */
static int sort(rd *r, uint8_t *out)
{
    uint8_t b, c;
    int rc = u8(r, &b);
    if (rc)
        return rc;
    if (b == 0) {
        if ((rc = u8(r, &c)))
            return rc;
        switch (c) {
        case 0x00: *out = EOS_CM__S_CORE_FUNC; return 0;
        case 0x01: *out = EOS_CM__S_CORE_TABLE; return 0;
        case 0x02: *out = EOS_CM__S_CORE_MEMORY; return 0;
        case 0x03: *out = EOS_CM__S_CORE_GLOBAL; return 0;
        case 0x10: *out = EOS_CM__S_CORE_TYPE; return 0;
        case 0x11: *out = EOS_CM__S_CORE_MODULE; return 0;
        case 0x12: *out = EOS_CM__S_CORE_INSTANCE; return 0;
        default: return MALFORMED(r, "unknown core sort");
        }
    }
    switch (b) {
    case 1: *out = EOS_CM__S_FUNC; return 0;
    case 2: *out = EOS_CM__S_VALUE; return 0;
    case 3: *out = EOS_CM__S_TYPE; return 0;
    case 4: *out = EOS_CM__S_COMPONENT; return 0;
    case 5: *out = EOS_CM__S_INSTANCE; return 0;
    default: return MALFORMED(r, "unknown sort");
    }
}

static uint8_t item_kind(uint8_t s)
{
    switch (s) {
    case EOS_CM__S_FUNC: return EOS_CM_ITEM_FUNC;
    case EOS_CM__S_INSTANCE: return EOS_CM_ITEM_INSTANCE;
    case EOS_CM__S_COMPONENT: return EOS_CM_ITEM_COMPONENT;
    case EOS_CM__S_CORE_MODULE: return EOS_CM_ITEM_MODULE;
    case EOS_CM__S_VALUE: return EOS_CM_ITEM_VALUE;
    default: return EOS_CM_ITEM_TYPE;
    }
}

/* externdesc: the sort it declares and its type. Type bounds add a type. */
static int externdesc(rd *r, scope *s, const char *nm, uint8_t *out_sort, eos_cm__typedef *out)
{
    uint8_t b;
    uint32_t i;
    int rc = u8(r, &b);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    const eos_cm__typedef *t;
    switch (b) {
    case 0x00:
        if ((rc = u8(r, &b)) || (rc = u32(r, &i)))
            return rc;
        if (b != 0x11)
            return MALFORMED(r, "bad core module descriptor");
        *out_sort = EOS_CM__S_CORE_MODULE;
        out->kind = EOS_CM__T_CORE_MODULE;
        return 0;
    case 0x01:
    case 0x04:
    case 0x05:
        if ((rc = u32(r, &i)))
            return rc;
        t = scope_type(s, i);
        if (!t)
            return INVALID(r, "type index out of range");
        if ((b == 0x01 && t->kind != EOS_CM__T_FUNC) ||
            (b == 0x04 && t->kind != EOS_CM__T_COMPONENT) ||
            (b == 0x05 && t->kind != EOS_CM__T_INSTANCE))
            return INVALID(r, "descriptor type does not match its sort");
        *out_sort = b == 0x01 ? EOS_CM__S_FUNC : b == 0x04 ? EOS_CM__S_COMPONENT : EOS_CM__S_INSTANCE;
        *out = *t;
        return 0;
    case 0x02:
        return fail(r, EOS_EUNSUPPORTED, "%s", "value imports and exports are not supported");
    case 0x03:
        if ((rc = u8(r, &b)))
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
        if (b != 0x00 || (rc = u32(r, &i)))
            return rc ? rc : MALFORMED(r, "bad type bound");
        t = scope_type(s, i);
        if (!t)
            return INVALID(r, "type index out of range");
        *out = *t;
        return 0;
    default:
        return MALFORMED(r, "unknown extern descriptor");
    }
}

static int add_decl(rd *r, eos_cm__decl **v, uint32_t *n, uint32_t *cap, const char *nm,
                    uint8_t s, eos_cm__typedef t)
{
    for (uint32_t i = 0; i < *n; i++)
        if (strcmp((*v)[i].name, nm) == 0)
            return INVALID(r, "duplicate import or export name");
    if (grow((void **)v, cap, *n, sizeof(**v)))
        return EOS_ENOMEM;
    (*v)[(*n)++] = (eos_cm__decl){.name = nm, .sort = item_kind(s), .type = t};
    return 0;
}

static int outer_type(rd *r, scope *s, uint32_t ct, uint32_t i, eos_cm__typedef *out)
{
    scope *o = s;
    for (uint32_t k = 0; k < ct && o; k++)
        o = o->outer;
    if (!o)
        return INVALID(r, "outer alias count beyond the enclosing scopes");
    const eos_cm__typedef *t = scope_type(o, i);
    if (!t)
        return INVALID(r, "outer alias index out of range");
    *out = *t;
    return 0;
}

/* Bodies of instance types (0x42) and component types (0x41). */
static int type_body(rd *r, scope *outer, bool component, eos_cm__typedef *out)
{
    scope s = {.outer = outer};
    uint32_t n;
    int rc = u32(r, &n);
    if (rc)
        return rc;
    if (++r->depth > EOS_CM_MAX_DEPTH) {
        rc = INVALID(r, "types nested too deeply");
        goto out;
    }
    for (uint32_t k = 0; k < n && !rc; k++) {
        uint8_t b;
        const char *nm;
        eos_cm__typedef t;
        uint8_t st;
        if ((rc = u8(r, &b)))
            break;
        switch (b) {
        case 0x00:
            rc = core_type(r, false);
            break;
        case 0x01:
            if (!(rc = deftype(r, &s, &t)))
                rc = scope_add_type(r, &s, t);
            break;
        case 0x02: {
            uint8_t as, tgt;
            uint32_t a1, a2;
            if ((rc = sort(r, &as)) || (rc = u8(r, &tgt)))
                break;
            if (tgt == 0x02) {
                if ((rc = u32(r, &a1)) || (rc = u32(r, &a2)))
                    break;
                if (as != EOS_CM__S_TYPE) {
                    rc = INVALID(r, "only type outer aliases are allowed in types");
                    break;
                }
                if (!(rc = outer_type(r, &s, a1, a2, &t)))
                    rc = scope_add_type(r, &s, t);
            } else if (tgt == 0x00) {
                if ((rc = u32(r, &a1)) || (rc = name(r, &nm)))
                    break;
                if (a1 >= s.ninsts) {
                    rc = INVALID(r, "alias of an unknown instance in a type");
                    break;
                }
                const eos_cm__itype *it = s.insts[a1].of.inst;
                const eos_cm__decl *d = NULL;
                for (uint32_t j = 0; j < it->export_count; j++)
                    if (strcmp(it->exports[j].name, nm) == 0)
                        d = &it->exports[j];
                if (!d) {
                    rc = INVALID(r, "alias of a missing instance export in a type");
                    break;
                }
                if (as == EOS_CM__S_TYPE)
                    rc = scope_add_type(r, &s, d->type);
                else if (as == EOS_CM__S_INSTANCE) {
                    if (!grow((void **)&s.insts, &s.instcap, s.ninsts, sizeof(t)))
                        s.insts[s.ninsts++] = d->type;
                    else
                        rc = EOS_ENOMEM;
                }
            } else {
                rc = INVALID(r, "unsupported alias in a type");
            }
            break;
        }
        case 0x03:
        case 0x04:
            if (b == 0x03 && !component) {
                rc = INVALID(r, "import declaration in an instance type");
                break;
            }
            if ((rc = extern_name(r, &nm)) || (rc = externdesc(r, &s, nm, &st, &t)))
                break;
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
            if (b == 0x03)
                rc = add_decl(r, &s.imports, &s.nimports, &s.icap, nm, st, t);
            else
                rc = add_decl(r, &s.exports, &s.nexports, &s.ecap, nm, st, t);
            if (!rc && st == EOS_CM__S_TYPE)
                rc = scope_add_type(r, &s, t);
            if (!rc && st == EOS_CM__S_INSTANCE) {
                if (!grow((void **)&s.insts, &s.instcap, s.ninsts, sizeof(t)))
                    s.insts[s.ninsts++] = t;
                else
                    rc = EOS_ENOMEM;
            }
            break;
        default:
            rc = MALFORMED(r, "unknown declaration in an instance or component type");
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
    out->kind = component ? EOS_CM__T_COMPONENT : EOS_CM__T_INSTANCE;
    out->of.inst = it;
out:
    r->depth--;
    scope_free(&s);
    return rc;
}

static int deftype(rd *r, scope *s, eos_cm__typedef *out)
{
    uint8_t b;
    int rc = u8(r, &b);
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
            return INVALID(r, "resource type definition inside a type");
        uint8_t rep, has;
        if ((rc = u8(r, &rep)) || (rc = u8(r, &has)))
            return rc;
        if (rep != 0x7f)
            return INVALID(r, "resource representation must be i32");
        eos_cm__rdesc *d = new_rdesc(r, NULL);
        if (!d)
            return EOS_ENOMEM;
        d->defined = true;
        if (has == 1) {
            d->has_dtor = true;
            if ((rc = idx(r, EOS_CM__S_CORE_FUNC, &d->dtor_core_func)))
                return rc;
        } else if (has != 0) {
            return MALFORMED(r, "bad resource destructor flag");
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

/* ---- Sections ------------------------------------------------------------ */

static int core_module_section(rd *r, const uint8_t *body, size_t size)
{
    eos_cm_component *c = r->c;
    eos_wasm_module *m = NULL;
    eos_diag sub;
    eos_diag_init(&sub);
    int rc = eos_wasm_module_new(body, size, r->features, &m, &sub);
    if (rc == EOS_EUNAVAILABLE) {
        c->engine_missing = true;
        m = NULL;
    } else if (rc) {
        return eos_diag_set(r->diag, rc == EOS_ENOMEM ? rc : EOS_EINVALID, "core module",
                            r->base + (body - r->start) + (sub.offset > 0 ? sub.offset : 0),
                            "invalid core module inside the component: %s", sub.message);
    }
    if (grow((void **)&c->modules, &c->module_cap, c->module_count, sizeof(*c->modules))) {
        eos_wasm_module_free(m);
        return EOS_ENOMEM;
    }
    c->modules[c->module_count] = m;
    eos_cm__def d = {.how = EOS_CM__D_MODULE, .a = c->module_count++};
    return push(r, EOS_CM__S_CORE_MODULE, &d);
}

static int core_instance_section(rd *r)
{
    uint32_t n;
    int rc = u32(r, &n);
    for (uint32_t k = 0; k < n && !rc; k++) {
        uint8_t b;
        eos_cm__def d = {0};
        uint32_t m;
        if ((rc = u8(r, &b)))
            break;
        if (b == 0x00) {
            d.how = EOS_CM__D_INSTANTIATE;
            if ((rc = idx(r, EOS_CM__S_CORE_MODULE, &d.a)))
                break;
        } else if (b == 0x01) {
            d.how = EOS_CM__D_EXPORTS;
        } else {
            rc = MALFORMED(r, "unknown core instance expression");
            break;
        }
        if ((rc = u32(r, &m)))
            break;
        if (m > (uint32_t)(r->end - r->p)) {
            rc = MALFORMED(r, "argument count too large");
            break;
        }
        d.arg_count = m;
        d.args = eos_cm_arena_alloc(r->c->arena, (m + 1) * sizeof(eos_cm__arg));
        if (!d.args) {
            rc = EOS_ENOMEM;
            break;
        }
        for (uint32_t j = 0; j < m && !rc; j++) {
            eos_cm__arg *a = &d.args[j];
            uint8_t s;
            if ((rc = name(r, &a->name)) || (rc = u8(r, &s)))
                break;
            switch (s) {
            case 0x00: a->sort = EOS_CM__S_CORE_FUNC; break;
            case 0x01: a->sort = EOS_CM__S_CORE_TABLE; break;
            case 0x02: a->sort = EOS_CM__S_CORE_MEMORY; break;
            case 0x03: a->sort = EOS_CM__S_CORE_GLOBAL; break;
            case 0x12: a->sort = EOS_CM__S_CORE_INSTANCE; break;
            default: rc = MALFORMED(r, "unknown core sort in an instance"); break;
            }
            if (rc)
                break;
            if (b == 0x00 && a->sort != EOS_CM__S_CORE_INSTANCE) {
                rc = INVALID(r, "core instantiation arguments must be instances");
                break;
            }
            rc = idx(r, a->sort, &a->index);
        }
        if (!rc)
            rc = push(r, EOS_CM__S_CORE_INSTANCE, &d);
    }
    return rc;
}

/* The type of a definition's item, for building instance types. */
static eos_cm__typedef item_type(eos_cm_component *c, uint8_t s, uint32_t i)
{
    eos_cm__typedef t = {0};
    const eos_cm__def *d = eos_cm__def_get(c, s, i);
    if (d)
        t = d->type;
    return t;
}

static int instance_type_of_component(rd *r, const eos_cm_component *sub, eos_cm__typedef *out)
{
    eos_cm__itype *it = eos_cm_arena_alloc(r->c->arena, sizeof(*it));
    if (!it)
        return EOS_ENOMEM;
    it->exports = eos_cm_arena_alloc(r->c->arena, (sub->export_count + 1) * sizeof(eos_cm__decl));
    if (!it->exports)
        return EOS_ENOMEM;
    it->export_count = sub->export_count;
    for (uint32_t i = 0; i < sub->export_count; i++) {
        const eos_cm__export *e = &sub->exports[i];
        it->exports[i].name = e->name;
        it->exports[i].sort = item_kind(e->sort);
        it->exports[i].type = item_type((eos_cm_component *)sub, e->sort, e->index);
    }
    out->kind = EOS_CM__T_INSTANCE;
    out->of.inst = it;
    return 0;
}

static int instance_section(rd *r)
{
    uint32_t n;
    int rc = u32(r, &n);
    for (uint32_t k = 0; k < n && !rc; k++) {
        uint8_t b;
        eos_cm__def d = {0};
        uint32_t m;
        if ((rc = u8(r, &b)))
            break;
        if (b == 0x00) {
            d.how = EOS_CM__D_INSTANTIATE;
            if ((rc = idx(r, EOS_CM__S_COMPONENT, &d.a)))
                break;
        } else if (b == 0x01) {
            d.how = EOS_CM__D_EXPORTS;
        } else {
            rc = MALFORMED(r, "unknown instance expression");
            break;
        }
        if ((rc = u32(r, &m)))
            break;
        if (m > (uint32_t)(r->end - r->p)) {
            rc = MALFORMED(r, "argument count too large");
            break;
        }
        d.arg_count = m;
        d.args = eos_cm_arena_alloc(r->c->arena, (m + 1) * sizeof(eos_cm__arg));
        if (!d.args) {
            rc = EOS_ENOMEM;
            break;
        }
        for (uint32_t j = 0; j < m && !rc; j++) {
            eos_cm__arg *a = &d.args[j];
            if (b == 0x00)
                rc = name(r, &a->name);
            else
                rc = extern_name(r, &a->name);
            if (rc || (rc = sort(r, &a->sort)) || (rc = idx(r, a->sort, &a->index)))
                break;
            for (uint32_t q = 0; q < j; q++)
                if (strcmp(d.args[q].name, a->name) == 0)
                    rc = INVALID(r, "duplicate instance argument or export name");
        }
        if (rc)
            break;
        if (b == 0x00) {
            const eos_cm__def *cd = eos_cm__def_get(r->c, EOS_CM__S_COMPONENT, d.a);
            const eos_cm_component *sub = cd->how == EOS_CM__D_COMPONENT ? r->c->components[cd->a]
                                                                         : NULL;
            if (!sub) {
                rc = fail(r, EOS_EUNSUPPORTED, "%s",
                          "instantiating an imported component is not supported");
                break;
            }
            for (uint32_t i = 0; i < sub->import_count && !rc; i++) {
                bool found = false;
                for (uint32_t j = 0; j < m; j++)
                    if (strcmp(d.args[j].name, sub->imports[i].name) == 0)
                        found = d.args[j].sort == sub->imports[i].sort;
                if (!found)
                    rc = INVALID(r, "a nested component's import is not supplied");
            }
            if (!rc)
                rc = instance_type_of_component(r, sub, &d.type);
        } else {
            eos_cm__itype *it = eos_cm_arena_alloc(r->c->arena, sizeof(*it));
            if (!it || !(it->exports = eos_cm_arena_alloc(r->c->arena, (m + 1) * sizeof(eos_cm__decl)))) {
                rc = EOS_ENOMEM;
                break;
            }
            it->export_count = m;
            for (uint32_t j = 0; j < m; j++) {
                it->exports[j].name = d.args[j].name;
                it->exports[j].sort = item_kind(d.args[j].sort);
                it->exports[j].type = item_type(r->c, d.args[j].sort, d.args[j].index);
            }
            d.type.kind = EOS_CM__T_INSTANCE;
            d.type.of.inst = it;
        }
        if (!rc)
            rc = push(r, EOS_CM__S_INSTANCE, &d);
    }
    return rc;
}

static int alias_section(rd *r, scope *s)
{
    uint32_t n;
    int rc = u32(r, &n);
    for (uint32_t k = 0; k < n && !rc; k++) {
        uint8_t st, tgt;
        eos_cm__def d = {0};
        if ((rc = sort(r, &st)) || (rc = u8(r, &tgt)))
            break;
        if (tgt == 0x00) {
            d.how = EOS_CM__D_ALIAS_EXPORT;
            if ((rc = idx(r, EOS_CM__S_INSTANCE, &d.a)) || (rc = name(r, &d.name)))
                break;
            const eos_cm__itype *it = r->c->spaces[EOS_CM__S_INSTANCE].defs[d.a].type.of.inst;
            const eos_cm__decl *e = NULL;
            for (uint32_t j = 0; it && j < it->export_count; j++)
                if (strcmp(it->exports[j].name, d.name) == 0)
                    e = &it->exports[j];
            if (!e || e->sort != item_kind(st) || st == EOS_CM__S_VALUE) {
                rc = INVALID(r, "alias of an instance export that does not exist with that sort");
                break;
            }
            d.type = e->type;
        } else if (tgt == 0x01) {
            d.how = EOS_CM__D_ALIAS_CORE;
            if (st > EOS_CM__S_CORE_GLOBAL) {
                rc = INVALID(r, "core export alias of an unsupported sort");
                break;
            }
            if ((rc = idx(r, EOS_CM__S_CORE_INSTANCE, &d.a)) || (rc = name(r, &d.name)))
                break;
        } else if (tgt == 0x02) {
            uint32_t ct, i;
            if ((rc = u32(r, &ct)) || (rc = u32(r, &i)))
                break;
            if (st != EOS_CM__S_TYPE && st != EOS_CM__S_CORE_MODULE && st != EOS_CM__S_COMPONENT &&
                st != EOS_CM__S_CORE_TYPE) {
                rc = INVALID(r, "outer alias of a sort other than type, module or component");
                break;
            }
            eos_cm_component *o = r->c;
            for (uint32_t j = 0; j < ct && o; j++)
                o = o->parent;
            if (!o || i >= o->spaces[st].len) {
                rc = INVALID(r, "outer alias out of range");
                break;
            }
            d = o->spaces[st].defs[i];
            if (o != r->c && d.how != EOS_CM__D_ALIAS_OUTER && st != EOS_CM__S_TYPE &&
                st != EOS_CM__S_CORE_TYPE) {
                /* Modules and components of an outer scope: keep a pointer. */
                d.how = EOS_CM__D_ALIAS_OUTER;
                d.name = (const char *)(st == EOS_CM__S_CORE_MODULE ? (void *)o->modules[d.a]
                                                                      : (void *)o->components[d.a]);
            }
            if (st == EOS_CM__S_TYPE && d.type.kind == EOS_CM__T_RESOURCE && ct > 0) {
                rc = INVALID(r, "outer alias of a resource type");
                break;
            }
        } else {
            rc = MALFORMED(r, "unknown alias target");
            break;
        }
        (void)s;
        rc = push(r, st, &d);
    }
    return rc;
}

static int type_section(rd *r, scope *s)
{
    uint32_t n;
    int rc = u32(r, &n);
    for (uint32_t k = 0; k < n && !rc; k++) {
        eos_cm__def d = {.how = EOS_CM__D_ALIAS_OUTER};
        if (!(rc = deftype(r, s, &d.type)))
            rc = push(r, EOS_CM__S_TYPE, &d);
    }
    return rc;
}

static bool needs_memory(const eos_cm_type *t, int depth)
{
    if (!t || depth > EOS_CM_MAX_DEPTH)
        return false;
    if (t->kind == EOS_CM_STRING || t->kind == EOS_CM_LIST)
        return true;
    if (needs_memory(t->elem, depth + 1) || needs_memory(t->err, depth + 1))
        return true;
    for (uint32_t i = 0; t->types && i < t->count; i++)
        if (needs_memory(t->types[i], depth + 1))
            return true;
    return false;
}

static int canon_opts(rd *r, eos_cm__opts *o)
{
    uint32_t n;
    int rc = u32(r, &n);
    bool enc = false;
    for (uint32_t k = 0; k < n && !rc; k++) {
        uint8_t b;
        if ((rc = u8(r, &b)))
            break;
        switch (b) {
        case 0x00:
        case 0x01:
        case 0x02:
            if (enc)
                return INVALID(r, "conflicting string encodings");
            enc = true;
            o->encoding = b;
            break;
        case 0x03:
            if (o->has_memory)
                return INVALID(r, "duplicate memory option");
            o->has_memory = true;
            rc = idx(r, EOS_CM__S_CORE_MEMORY, &o->memory);
            break;
        case 0x04:
            if (o->has_realloc)
                return INVALID(r, "duplicate realloc option");
            o->has_realloc = true;
            rc = idx(r, EOS_CM__S_CORE_FUNC, &o->realloc);
            break;
        case 0x05:
            if (o->has_post_return)
                return INVALID(r, "duplicate post-return option");
            o->has_post_return = true;
            rc = idx(r, EOS_CM__S_CORE_FUNC, &o->post_return);
            break;
        default:
            return fail(r, EOS_EUNSUPPORTED, "%s",
                        "canonical option not supported (async is out of scope)");
        }
    }
    return rc;
}

static int canon_section(rd *r)
{
    uint32_t n;
    int rc = u32(r, &n);
    for (uint32_t k = 0; k < n && !rc; k++) {
        uint8_t b, z;
        eos_cm__def d = {0};
        uint32_t ti;
        if ((rc = u8(r, &b)))
            break;
        switch (b) {
        case 0x00: /* lift */
            d.how = EOS_CM__D_CANON_LIFT;
            if ((rc = u8(r, &z)) || (rc = idx(r, EOS_CM__S_CORE_FUNC, &d.a)) ||
                (rc = canon_opts(r, &d.opts)) || (rc = idx(r, EOS_CM__S_TYPE, &d.b)))
                break;
            if (z != 0)
                return MALFORMED(r, "canon lift of a non-function");
            d.type = r->c->spaces[EOS_CM__S_TYPE].defs[d.b].type;
            if (d.type.kind != EOS_CM__T_FUNC)
                return INVALID(r, "canon lift with a type that is not a function type");
            {
                const eos_cm_functype *ft = d.type.of.func;
                bool mem = false, params_mem = false;
                eos_cm__flatsig fs;
                eos_cm__flatsig_of(ft, false, &fs);
                for (uint32_t i = 0; i < ft->param_count; i++)
                    params_mem |= needs_memory(ft->params[i], 0);
                for (uint32_t i = 0; i < ft->result_count; i++)
                    mem |= needs_memory(ft->results[i], 0);
                mem |= params_mem || fs.params_spill || fs.results_spill;
                if (mem && !d.opts.has_memory)
                    return INVALID(r, "canon lift needs a memory option for this function type");
                if ((params_mem || fs.params_spill) && !d.opts.has_realloc)
                    return INVALID(r, "canon lift needs a realloc option for this function type");
            }
            rc = push(r, EOS_CM__S_FUNC, &d);
            break;
        case 0x01: /* lower */
            d.how = EOS_CM__D_CANON_LOWER;
            if ((rc = u8(r, &z)) || (rc = idx(r, EOS_CM__S_FUNC, &d.a)) ||
                (rc = canon_opts(r, &d.opts)))
                break;
            if (z != 0)
                return MALFORMED(r, "canon lower of a non-function");
            if (d.opts.has_post_return)
                return INVALID(r, "post-return is only allowed on canon lift");
            d.type = r->c->spaces[EOS_CM__S_FUNC].defs[d.a].type;
            if (d.type.kind != EOS_CM__T_FUNC)
                return INVALID(r, "canon lower of a function without a known type");
            {
                const eos_cm_functype *ft = d.type.of.func;
                bool mem = false, res_mem = false;
                eos_cm__flatsig fs;
                eos_cm__flatsig_of(ft, true, &fs);
                for (uint32_t i = 0; i < ft->param_count; i++)
                    mem |= needs_memory(ft->params[i], 0);
                for (uint32_t i = 0; i < ft->result_count; i++)
                    res_mem |= needs_memory(ft->results[i], 0);
                mem |= res_mem || fs.params_spill || fs.results_spill;
                if (mem && !d.opts.has_memory)
                    return INVALID(r, "canon lower needs a memory option for this function type");
                if (res_mem && !d.opts.has_realloc)
                    return INVALID(r, "canon lower needs a realloc option for this function type");
            }
            rc = push(r, EOS_CM__S_CORE_FUNC, &d);
            break;
        case 0x02:
        case 0x03:
        case 0x04:
            d.how = b == 0x02 ? EOS_CM__D_RESOURCE_NEW
                    : b == 0x03 ? EOS_CM__D_RESOURCE_DROP : EOS_CM__D_RESOURCE_REP;
            if ((rc = idx(r, EOS_CM__S_TYPE, &ti)))
                break;
            d.type = r->c->spaces[EOS_CM__S_TYPE].defs[ti].type;
            if (d.type.kind != EOS_CM__T_RESOURCE)
                return INVALID(r, "resource builtin on a type that is not a resource");
            if (b != 0x03 && !d.type.of.rdesc->defined)
                return INVALID(r, "resource.new/rep of a resource not defined by this component");
            d.rdesc = d.type.of.rdesc;
            rc = push(r, EOS_CM__S_CORE_FUNC, &d);
            break;
        default:
            return fail(r, EOS_EUNSUPPORTED, "%s",
                        "canonical builtin not supported (threads and async are out of scope)");
        }
    }
    return rc;
}

static int import_section(rd *r, scope *s)
{
    uint32_t n;
    int rc = u32(r, &n);
    eos_cm_component *c = r->c;
    for (uint32_t k = 0; k < n && !rc; k++) {
        eos_cm__import im = {0};
        if ((rc = extern_name(r, &im.name)) || (rc = externdesc(r, s, im.name, &im.sort, &im.type)))
            break;
        for (uint32_t j = 0; j < c->import_count; j++)
            if (strcmp(c->imports[j].name, im.name) == 0)
                return INVALID(r, "duplicate import name");
        if (im.sort == EOS_CM__S_TYPE && im.type.kind == EOS_CM__T_VAL &&
            im.type.of.val->kind > EOS_CM_STRING) {
            eos_cm_type *named = eos_cm__type_new(c->arena, 0);
            if (!named)
                return EOS_ENOMEM;
            *named = *im.type.of.val;
            named->name = im.name;
            im.type.of.val = named;
        }
        im.index = c->spaces[im.sort].len;
        eos_cm__def d = {.how = EOS_CM__D_IMPORT, .a = c->import_count, .type = im.type};
        if (im.sort == EOS_CM__S_CORE_MODULE || im.sort == EOS_CM__S_COMPONENT)
            d.how = EOS_CM__D_IMPORT; /* refused at instantiation */
        if ((rc = push(r, im.sort, &d)))
            break;
        if (grow((void **)&c->imports, &c->import_cap, c->import_count, sizeof(im)))
            return EOS_ENOMEM;
        c->imports[c->import_count++] = im;
    }
    return rc;
}

static int export_section(rd *r, scope *s)
{
    uint32_t n;
    int rc = u32(r, &n);
    eos_cm_component *c = r->c;
    for (uint32_t k = 0; k < n && !rc; k++) {
        eos_cm__export e = {0};
        uint8_t has;
        if ((rc = extern_name(r, &e.name)) || (rc = sort(r, &e.sort)) ||
            (rc = idx(r, e.sort, &e.index)) || (rc = u8(r, &has)))
            break;
        if (e.sort < EOS_CM__S_FUNC && e.sort != EOS_CM__S_CORE_MODULE)
            return INVALID(r, "export of a core item other than a module");
        eos_cm__def d = c->spaces[e.sort].defs[e.index];
        if (has == 1) {
            uint8_t st;
            eos_cm__typedef t;
            if ((rc = externdesc(r, s, e.name, &st, &t)))
                break;
            if (st != e.sort)
                return INVALID(r, "export type ascription of a different sort");
            if (st == EOS_CM__S_FUNC && t.kind == EOS_CM__T_FUNC && d.type.kind == EOS_CM__T_FUNC &&
                !eos_cm__functype_equal(t.of.func, d.type.of.func))
                return INVALID(r, "export type ascription does not match the function");
            if (st == EOS_CM__S_FUNC)
                d.type = t; /* the ascribed type carries the exported resource names */
        } else if (has != 0) {
            return MALFORMED(r, "bad export type flag");
        }
        if (e.sort == EOS_CM__S_TYPE && d.type.kind == EOS_CM__T_RESOURCE && !d.type.of.rdesc->name)
            ((eos_cm__rdesc *)d.type.of.rdesc)->name = e.name;
        if (e.sort == EOS_CM__S_FUNC && d.type.kind == EOS_CM__T_FUNC) {
            const eos_cm_functype *ft = d.type.of.func;
            for (uint32_t i = 0; i < ft->param_count; i++)
                (void)ft;
        }
        for (uint32_t j = 0; j < c->export_count; j++)
            if (strcmp(c->exports[j].name, e.name) == 0)
                return INVALID(r, "duplicate export name");
        /* The export introduces a new index aliasing the item. */
        eos_cm__def alias = d;
        alias.how = EOS_CM__D_EXPORT;
        alias.a = e.index;
        alias.b = e.sort;
        if ((rc = push(r, e.sort, &alias)))
            break;
        if (grow((void **)&c->exports, &c->export_cap, c->export_count, sizeof(e)))
            return EOS_ENOMEM;
        c->exports[c->export_count++] = e;
    }
    return rc;
}

static int start_section(rd *r)
{
    uint32_t f, n, res;
    int rc;
    if ((rc = idx(r, EOS_CM__S_FUNC, &f)) || (rc = u32(r, &n)))
        return rc;
    if (n != 0)
        return fail(r, EOS_EUNSUPPORTED, "%s", "start functions with value arguments are not supported");
    if ((rc = u32(r, &res)))
        return rc;
    if (res != 0)
        return fail(r, EOS_EUNSUPPORTED, "%s", "start functions with results are not supported");
    r->c->has_start = true;
    return fail(r, EOS_EUNSUPPORTED, "%s", "component start functions are not supported");
}

void eos_cm_component_free(eos_cm_component *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->module_count; i++)
        eos_wasm_module_free(c->modules[i]);
    eos_free(c->modules, c->module_cap * sizeof(*c->modules));
    for (uint32_t i = 0; i < c->component_count; i++)
        eos_cm_component_free(c->components[i]);
    eos_free(c->components, c->component_cap * sizeof(*c->components));
    for (int s = 0; s < EOS_CM__S_COUNT; s++)
        eos_free(c->spaces[s].defs, c->spaces[s].cap * sizeof(eos_cm__def));
    eos_free(c->imports, c->import_cap * sizeof(*c->imports));
    eos_free(c->exports, c->export_cap * sizeof(*c->exports));
    eos_cm_arena *a = c->arena;
    bool nested = c->parent != NULL;
    eos_free(c, sizeof(*c));
    if (!nested)
        eos_cm_arena_free(a);
}

static const char *section_step[] = {
    "custom section", "core module section", "core instance section", "core type section",
    "component section", "instance section", "alias section", "type section",
    "canon section", "start section", "import section", "export section", "value section"};

int eos_cm__decode(const uint8_t *bytes, size_t size, const eos_wasm_features *features,
                   eos_cm_component *parent, int depth, int64_t base_offset,
                   eos_cm_component **out, eos_diag *diag)
{
    static const uint8_t preamble[8] = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};
    int rc = 0;
    *out = NULL;
    eos_cm_component *c = eos_calloc(1, sizeof(*c));
    if (!c)
        return EOS_ENOMEM;
    c->parent = parent;
    c->arena = parent ? parent->arena : eos_cm_arena_new();
    rd r = {.p = bytes, .start = bytes, .end = bytes + size, .base = base_offset, .diag = diag,
            .step = "preamble", .c = c, .features = features, .depth = depth};
    scope s = {.comp = c};
    if (!c->arena) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if (size < 8 || memcmp(bytes, preamble, 4) != 0) {
        rc = MALFORMED(&r, "not a WebAssembly binary (bad magic)");
        goto out;
    }
    if (bytes[6] == 0 && bytes[7] == 0) {
        rc = fail(&r, EOS_EINVALID, "%s",
                  "this is a core WebAssembly module, not a component: wrap it with "
                  "`wasm-tools component new` (or jco) before loading");
        goto out;
    }
    if (memcmp(bytes + 4, preamble + 4, 4) != 0) {
        rc = MALFORMED(&r, "unsupported component binary version (expected 0x0d, layer 1)");
        goto out;
    }
    if (depth > 16) {
        rc = INVALID(&r, "components nested too deeply");
        goto out;
    }
    r.p += 8;
    while (r.p < r.end && !rc) {
        uint8_t id;
        uint32_t len;
        r.step = "section header";
        if ((rc = u8(&r, &id)) || (rc = u32(&r, &len)))
            break;
        if ((size_t)(r.end - r.p) < len) {
            rc = MALFORMED(&r, "section extends past the end of the binary");
            break;
        }
        const uint8_t *body = r.p, *end = r.p + len;
        const uint8_t *saved_end = r.end;
        r.end = end;
        r.step = id < EOS_ARRAY_LEN(section_step) ? section_step[id] : "unknown section";
        switch (id) {
        case 0: r.p = end; break;
        case 1: rc = core_module_section(&r, body, len); r.p = end; break;
        case 2: rc = core_instance_section(&r); break;
        case 3: {
            uint32_t n;
            rc = u32(&r, &n);
            for (uint32_t k = 0; k < n && !rc; k++) {
                eos_cm__def d = {.how = EOS_CM__D_ALIAS_OUTER};
                if (!(rc = core_type(&r, false)))
                    rc = push(&r, EOS_CM__S_CORE_TYPE, &d);
            }
            break;
        }
        case 4: {
            eos_cm_component *sub = NULL;
            rc = eos_cm__decode(body, len, features, c, depth + 1, base_offset + (body - bytes),
                                &sub, diag);
            if (rc)
                break;
            if (grow((void **)&c->components, &c->component_cap, c->component_count,
                     sizeof(*c->components))) {
                eos_cm_component_free(sub);
                rc = EOS_ENOMEM;
                break;
            }
            c->components[c->component_count] = sub;
            if (sub->engine_missing)
                c->engine_missing = true;
            eos_cm__def d = {.how = EOS_CM__D_COMPONENT, .a = c->component_count++};
            rc = push(&r, EOS_CM__S_COMPONENT, &d);
            r.p = end;
            break;
        }
        case 5: rc = instance_section(&r); break;
        case 6: rc = alias_section(&r, &s); break;
        case 7: rc = type_section(&r, &s); break;
        case 8: rc = canon_section(&r); break;
        case 9: rc = start_section(&r); break;
        case 10: rc = import_section(&r, &s); break;
        case 11: rc = export_section(&r, &s); break;
        case 12:
            rc = fail(&r, EOS_EUNSUPPORTED, "%s", "value definitions are not supported");
            break;
        default: rc = MALFORMED(&r, "unknown section id"); break;
        }
        if (!rc && r.p != end)
            rc = MALFORMED(&r, "section size does not match its contents");
        r.end = saved_end;
        r.p = end;
    }
out:
    if (rc) {
        if (rc == EOS_ENOMEM)
            eos_diag_set(diag, rc, r.step, -1, "out of memory while decoding the component");
        eos_cm_component_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int eos_cm_component_new(const uint8_t *bytes, size_t size, const eos_wasm_features *features,
                         eos_cm_component **out, eos_diag *diag)
{
    if (!bytes || !out)
        return EOS_EINVAL;
    return eos_cm__decode(bytes, size, features, NULL, 0, 0, out, diag);
}
