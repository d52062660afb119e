/* External visibility of types: a component's own function imports and
 * exports (and exported types) may only mention record, variant, enum and
 * flags types and resources that the component imports or exports, so that
 * the outside can name them. Types reached through aliases of imported or
 * nested instances count as named by where they come from. */
#include <string.h>

#include "internal.h"

static bool is_nominal(uint8_t kind)
{
    return kind == EOS_CM_RECORD || kind == EOS_CM_VARIANT || kind == EOS_CM_ENUM ||
           kind == EOS_CM_FLAGS;
}

/* Whether t is a type this component's type section defined (and so has no
 * name outside unless exported or imported under one). */
static bool defined_here(const eos_cm_component *c, const eos_cm_type *t)
{
    const eos_cm__space *s = &c->spaces[EOS_CM__S_TYPE];
    for (uint32_t i = 0; i < s->len; i++)
        if (s->defs[i].b == EOS_CM__TYPE_LOCAL && s->defs[i].type.kind == EOS_CM__T_VAL &&
            s->defs[i].type.of.val == t)
            return true;
    return false;
}

/* Whether a type declaration inside instance type it (recursively) is the
 * resource rd or the value type v. */
static bool in_instance(const eos_cm__itype *it, const eos_cm__rdesc *rd, const eos_cm_type *v,
                        int depth)
{
    if (!it || depth > EOS_CM_MAX_DEPTH)
        return false;
    for (uint32_t i = 0; i < it->export_count; i++) {
        const eos_cm__typedef *t = &it->exports[i].type;
        if (!t->of.val)
            continue;
        if (rd && t->kind == EOS_CM__T_RESOURCE && t->of.rdesc == rd)
            return true;
        if (v && t->kind == EOS_CM__T_VAL && t->of.val == v)
            return true;
        if (t->kind == EOS_CM__T_INSTANCE && in_instance(t->of.inst, rd, v, depth + 1))
            return true;
    }
    return false;
}

/* Whether the component exports resource rd or value type v, directly or
 * inside an exported instance. */
static bool exported(const eos_cm_component *c, const eos_cm__rdesc *rd, const eos_cm_type *v)
{
    for (uint32_t i = 0; i < c->export_count; i++) {
        const eos_cm__export *e = &c->exports[i];
        const eos_cm__def *d = eos_cm__def_get(c, e->sort, e->index);
        if (!d || !d->type.of.val)
            continue;
        if (e->sort == EOS_CM__S_TYPE && ((rd && d->type.kind == EOS_CM__T_RESOURCE &&
                                           d->type.of.rdesc == rd) ||
                                          (v && d->type.kind == EOS_CM__T_VAL &&
                                           d->type.of.val == v)))
            return true;
        if (e->sort == EOS_CM__S_INSTANCE && d->type.kind == EOS_CM__T_INSTANCE &&
            in_instance(d->type.of.inst, rd, v, 0))
            return true;
    }
    return false;
}

/* Every nominal type and resource inside t (t itself included unless
 * skip_self) is named. */
static bool named_inside(const eos_cm_component *c, const eos_cm_type *t, bool skip_self,
                         int depth)
{
    if (!t || depth > EOS_CM_MAX_DEPTH)
        return true;
    if (!skip_self && is_nominal(t->kind))
        return t->name || !defined_here(c, t) || exported(c, NULL, t);
    switch (t->kind) {
    case EOS_CM_OWN:
    case EOS_CM_BORROW: {
        const eos_cm__rdesc *rd = t->rdesc;
        return !rd || rd->owner != c || !rd->defined || exported(c, rd, NULL);
    }
    case EOS_CM_LIST:
    case EOS_CM_OPTION:
    case EOS_CM_RESULT:
        return named_inside(c, t->elem, false, depth + 1) &&
               named_inside(c, t->err, false, depth + 1);
    case EOS_CM_RECORD:
    case EOS_CM_VARIANT:
    case EOS_CM_TUPLE:
        for (uint32_t i = 0; t->types && i < t->count; i++)
            if (!named_inside(c, t->types[i], false, depth + 1))
                return false;
        return true;
    default:
        return true;
    }
}

int eos_cm__check_visible(eos_cm__rd *r, uint8_t sort, const eos_cm__typedef *t, bool import)
{
    const eos_cm_component *c = r->c;
    bool ok = true;
    if (sort == EOS_CM__S_FUNC && t->kind == EOS_CM__T_FUNC && t->of.func) {
        const eos_cm_functype *f = t->of.func;
        for (uint32_t i = 0; ok && i < f->param_count; i++)
            ok = named_inside(c, f->params[i], false, 0);
        for (uint32_t i = 0; ok && i < f->result_count; i++)
            ok = named_inside(c, f->results[i], false, 0);
    } else if (sort == EOS_CM__S_TYPE && t->kind == EOS_CM__T_VAL && t->of.val) {
        ok = named_inside(c, t->of.val, true, 0);
    }
    if (ok)
        return 0;
    return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                        "invalid component: %s not valid to be used as %s (a type it mentions "
                        "is neither imported nor exported)",
                        sort == EOS_CM__S_FUNC ? "func" : "type", import ? "import" : "export");
}
