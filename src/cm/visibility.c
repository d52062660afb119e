/* External visibility of types: a component's imports and exports may only
 * mention record, variant, enum, flags and resource types that the outside
 * can name, that is types an import or export of the component introduces
 * (imports only imported ones). An export introduces a new type index, so the
 * type it names is the exported one, not the definition behind it; aliases
 * out of an imported or exported instance keep the names it gives, aliases
 * out of a local bag of exports or a child instance do not. Instance types
 * are checked where they type an import or export, the declarations of a
 * component type eagerly. */
#include <string.h>

#include "internal.h"

static bool is_nominal(uint8_t kind)
{
    return kind == EOS_CM_RECORD || kind == EOS_CM_VARIANT || kind == EOS_CM_ENUM ||
           kind == EOS_CM_FLAGS;
}

/* Declarations that name types for what follows them: the exports of an
 * instance type before the one checked, or a component type's imports and
 * exports. */
typedef struct frame {
    const eos_cm__decl *v;
    uint32_t n;
    const struct frame *up;
} frame;

typedef struct vctx {
    const eos_cm_component *c; /* NULL inside a component type */
    bool imports_only;
    const frame *f;
    const eos_cm_type *bad; /* the first type found without a name */
} vctx;

static const void *type_ptr(const eos_cm__typedef *t)
{
    if (t->kind == EOS_CM__T_RESOURCE)
        return t->of.rdesc;
    if (t->kind == EOS_CM__T_VAL)
        return t->of.val;
    return NULL;
}

static bool in_decls(const eos_cm__decl *v, uint32_t n, const void *p, int depth)
{
    if (depth > EOS_CM_MAX_DEPTH)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (v[i].sort == EOS_CM_ITEM_TYPE && type_ptr(&v[i].type) == p)
            return true;
        if (v[i].sort == EOS_CM_ITEM_INSTANCE && v[i].type.kind == EOS_CM__T_INSTANCE &&
            v[i].type.of.inst &&
            in_decls(v[i].type.of.inst->exports, v[i].type.of.inst->export_count, p, depth + 1))
            return true;
    }
    return false;
}

static bool in_set(const eos_cm_component *c, int which, const void *p)
{
    for (uint32_t i = 0; i < c->vis[which].n; i++)
        if (c->vis[which].v[i] == p)
            return true;
    return false;
}

bool eos_cm__is_visible(const eos_cm_component *c, const void *p)
{
    return in_set(c, 1, p) || in_set(c, 0, p);
}

static bool visible(const vctx *x, const void *p)
{
    for (const frame *f = x->f; f; f = f->up)
        if (in_decls(f->v, f->n, p, 0))
            return true;
    return x->c && (in_set(x->c, 1, p) || (!x->imports_only && in_set(x->c, 0, p)));
}

/* Every nominal type and resource inside t (t itself included unless
 * skip_self) can be named. */
static bool unnamed(const vctx *x, const eos_cm_type *t)
{
    if (!x->bad)
        ((vctx *)x)->bad = t;
    return false;
}

static bool named_inside(const vctx *x, const eos_cm_type *t, bool skip_self, int depth)
{
    if (!t || depth > EOS_CM_MAX_DEPTH)
        return true;
    if (!skip_self && is_nominal(t->kind))
        return visible(x, t) || unnamed(x, t);
    switch (t->kind) {
    case EOS_CM_OWN:
    case EOS_CM_BORROW:
        /* Host-side types (no rdesc) are named by their interface. */
        return !t->rdesc || visible(x, t->rdesc) || unnamed(x, t);
    case EOS_CM_LIST:
    case EOS_CM_OPTION:
    case EOS_CM_RESULT:
        return named_inside(x, t->elem, false, depth + 1) &&
               named_inside(x, t->err, false, depth + 1);
    case EOS_CM_RECORD:
    case EOS_CM_VARIANT:
    case EOS_CM_TUPLE:
        for (uint32_t i = 0; t->types && i < t->count; i++)
            if (!named_inside(x, t->types[i], false, depth + 1))
                return false;
        return true;
    default:
        return true;
    }
}

static bool func_ok(const vctx *x, const eos_cm_functype *f)
{
    if (!f)
        return true;
    for (uint32_t i = 0; i < f->param_count; i++)
        if (!named_inside(x, f->params[i], false, 0))
            return false;
    for (uint32_t i = 0; i < f->result_count; i++)
        if (!named_inside(x, f->results[i], false, 0))
            return false;
    return true;
}

static bool typedef_ok(const vctx *x, uint8_t item_kind, const eos_cm__typedef *t, int depth);

/* An instance type: each export may also mention the types exported before it. */
static bool inst_ok(const vctx *x, const eos_cm__itype *it, int depth)
{
    if (!it || depth > EOS_CM_MAX_DEPTH)
        return true;
    frame f = {it->exports, 0, x->f};
    vctx y = {x->c, x->imports_only, &f, NULL};
    for (uint32_t j = 0; j < it->export_count; j++) {
        f.n = j;
        if (!typedef_ok(&y, it->exports[j].sort, &it->exports[j].type, depth + 1)) {
            ((vctx *)x)->bad = y.bad;
            return false;
        }
    }
    return true;
}

static bool typedef_ok(const vctx *x, uint8_t item_kind, const eos_cm__typedef *t, int depth)
{
    if (!t->of.val)
        return true;
    switch (t->kind) {
    case EOS_CM__T_FUNC:
        return func_ok(x, t->of.func);
    case EOS_CM__T_VAL:
        return named_inside(x, t->of.val, item_kind == EOS_CM_ITEM_TYPE, 0);
    case EOS_CM__T_INSTANCE:
        return inst_ok(x, t->of.inst, depth);
    default:
        return true;
    }
}

static int refuse(eos_cm__rd *r, const vctx *x, uint8_t sort, bool import)
{
    const char *what = sort == EOS_CM__S_FUNC       ? "func"
                       : sort == EOS_CM__S_INSTANCE ? "instance"
                       : sort == EOS_CM__S_TYPE     ? "type"
                                                    : "item";
    const eos_cm_type *t = x->bad;
    const eos_cm__rdesc *rd = t && (t->kind == EOS_CM_OWN || t->kind == EOS_CM_BORROW)
                                  ? (const eos_cm__rdesc *)t->rdesc
                                  : NULL;
    const char *kind = !t                          ? "a record, variant, enum, flags or resource"
                       : rd && rd->name            ? "resource"
                       : rd                        ? "a resource"
                       : t->kind == EOS_CM_RECORD  ? "a record"
                       : t->kind == EOS_CM_VARIANT ? "a variant"
                       : t->kind == EOS_CM_ENUM    ? "an enum"
                                                   : "a flags";
    const char *name = rd && rd->name ? rd->name : "";
    return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                        "invalid component: %s not valid to be used as %s: it mentions %s "
                        "type%s%s%s, not by the type index an %s introduced (the types an %s "
                        "mentions must be %s first)",
                        what, import ? "import" : "export", kind, *name ? " `" : "", name,
                        *name ? "`" : "", import ? "import" : "import or export",
                        import ? "import" : "export", import ? "imported" : "imported or exported");
}

int eos_cm__check_visible(eos_cm__rd *r, uint8_t sort, const eos_cm__typedef *t, bool import)
{
    vctx x = {r->c, import, NULL, NULL};
    if (typedef_ok(&x, eos_cm__item_kind(sort), t, 0))
        return 0;
    return refuse(r, &x, sort, import);
}

int eos_cm__check_decl_visible(eos_cm__rd *r, const eos_cm__decl *imports, uint32_t nimports,
                               const eos_cm__decl *exports, uint32_t nexports, uint8_t sort,
                               const eos_cm__typedef *t, bool import)
{
    frame fi = {imports, nimports, NULL};
    frame fe = {exports, nexports, &fi};
    vctx x = {NULL, import, import ? &fi : &fe, NULL};
    if (typedef_ok(&x, eos_cm__item_kind(sort), t, 0))
        return 0;
    return refuse(r, &x, sort, import);
}

static int add(eos_cm_component *c, int which, const void *p)
{
    if (!p || in_set(c, which, p))
        return 0;
    if (eos_cm__grow((void **)&c->vis[which].v, &c->vis[which].cap, c->vis[which].n,
                     sizeof(void *)))
        return EOS_ENOMEM;
    c->vis[which].v[c->vis[which].n++] = p;
    return 0;
}

static int note_decls(eos_cm_component *c, int which, const eos_cm__itype *it, int depth)
{
    if (!it || depth > EOS_CM_MAX_DEPTH)
        return 0;
    for (uint32_t i = 0; i < it->export_count; i++) {
        const eos_cm__decl *d = &it->exports[i];
        int rc = 0;
        if (d->sort == EOS_CM_ITEM_TYPE)
            rc = add(c, which, type_ptr(&d->type));
        else if (d->sort == EOS_CM_ITEM_INSTANCE && d->type.kind == EOS_CM__T_INSTANCE)
            rc = note_decls(c, which, d->type.of.inst, depth + 1);
        if (rc)
            return rc;
    }
    return 0;
}

int eos_cm__note_visible(eos_cm_component *c, uint8_t sort, const eos_cm__typedef *t, bool import)
{
    if (!t->of.val)
        return 0;
    if (sort == EOS_CM__S_TYPE)
        return add(c, import, type_ptr(t));
    if (sort == EOS_CM__S_INSTANCE && t->kind == EOS_CM__T_INSTANCE)
        return note_decls(c, import, t->of.inst, 0);
    return 0;
}

int eos_cm__vis_same(eos_cm_component *c, const void *p, const void *as)
{
    for (int w = 0; w < 2; w++) {
        int rc = in_set(c, w, as) ? add(c, w, p) : 0;
        if (rc)
            return rc;
    }
    return 0;
}
