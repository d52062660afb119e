/* Decoding of a component's sections into index spaces: core modules and
 * instances, nested components and instances, aliases, types, canonical
 * definitions, imports and exports, with their validation rules. */
#include <string.h>

#include "internal.h"

/* ---- Sections ------------------------------------------------------------ */

static int core_module_section(eos_cm__rd *r, const uint8_t *body, size_t size)
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
    /* A core module in a component imports each (module, name) pair once:
     * instantiation supplies imports by name through instances. */
    size_t ni = m ? eos_wasm_module_import_count(m) : 0;
    for (size_t i = 1; i < ni; i++) {
        eos_wasm_import_desc a, b;
        eos_wasm_module_import(m, i, &a);
        for (size_t j = 0; j < i; j++) {
            eos_wasm_module_import(m, j, &b);
            if (a.module_len == b.module_len && a.name_len == b.name_len &&
                !memcmp(a.module, b.module, a.module_len) && !memcmp(a.name, b.name, a.name_len)) {
                eos_wasm_module_free(m);
                return eos_diag_set(r->diag, EOS_EINVALID, "core module", r->base + (body - r->start),
                                    "invalid component: duplicate import name `%.*s:%.*s` in a "
                                    "core module", (int)a.module_len, a.module, (int)a.name_len,
                                    a.name);
            }
        }
    }
    if (eos_cm__grow((void **)&c->modules, &c->module_cap, c->module_count, sizeof(*c->modules))) {
        eos_wasm_module_free(m);
        return EOS_ENOMEM;
    }
    c->modules[c->module_count] = m;
    eos_cm__def d = {.how = EOS_CM__D_MODULE, .a = c->module_count++};
    return eos_cm__rd_push(r, EOS_CM__S_CORE_MODULE, &d);
}

/* Reads the head shared by core and component instance definitions: 0x00
 * instantiates the module or component (sort target) named next, 0x01
 * bundles inline exports. Then the argument count, checked against the bytes
 * left, and an arena array for the arguments. *out_b receives the 0x00/0x01
 * byte; d borrows the component's arena. */
static int instance_expr_head(eos_cm__rd *r, int target, const char *unknown, eos_cm__def *d,
                              uint8_t *out_b)
{
    uint32_t m;
    int rc = eos_cm__rd_u8(r, out_b);
    if (rc)
        return rc;
    if (*out_b == 0x00) {
        d->how = EOS_CM__D_INSTANTIATE;
        if ((rc = eos_cm__rd_idx(r, target, &d->a)))
            return rc;
    } else if (*out_b == 0x01) {
        d->how = EOS_CM__D_EXPORTS;
    } else {
        return EOS_CM__MALFORMED(r, unknown);
    }
    if ((rc = eos_cm__rd_u32(r, &m)))
        return rc;
    if (m > (uint32_t)(r->end - r->p))
        return EOS_CM__MALFORMED(r, "argument count too large");
    d->arg_count = m;
    d->args = eos_cm_arena_alloc(r->c->arena, (m + 1) * sizeof(eos_cm__arg));
    return d->args ? 0 : EOS_ENOMEM;
}

static int core_instance_section(eos_cm__rd *r)
{
    uint32_t n;
    int rc = eos_cm__rd_u32(r, &n);
    for (uint32_t k = 0; k < n && !rc; k++) {
        uint8_t b;
        eos_cm__def d = {0};
        if ((rc = instance_expr_head(r, EOS_CM__S_CORE_MODULE, "unknown core instance expression",
                                     &d, &b)))
            break;
        for (uint32_t j = 0; j < d.arg_count && !rc; j++) {
            eos_cm__arg *a = &d.args[j];
            uint8_t s;
            if ((rc = eos_cm__rd_name(r, &a->name)) || (rc = eos_cm__rd_u8(r, &s)))
                break;
            switch (s) {
            case 0x00:
                a->sort = EOS_CM__S_CORE_FUNC;
                break;
            case 0x01:
                a->sort = EOS_CM__S_CORE_TABLE;
                break;
            case 0x02:
                a->sort = EOS_CM__S_CORE_MEMORY;
                break;
            case 0x03:
                a->sort = EOS_CM__S_CORE_GLOBAL;
                break;
            case 0x04:
                a->sort = EOS_CM__S_CORE_TAG;
                break;
            case 0x12:
                a->sort = EOS_CM__S_CORE_INSTANCE;
                break;
            default:
                rc = EOS_CM__MALFORMED(r, "unknown core sort in an instance");
                break;
            }
            if (rc)
                break;
            if (b == 0x00 && a->sort != EOS_CM__S_CORE_INSTANCE) {
                rc = EOS_CM__INVALID(r, "core instantiation arguments must be instances");
                break;
            }
            rc = eos_cm__rd_idx(r, a->sort, &a->index);
            for (uint32_t q = 0; q < j && !rc && b == 0x01; q++)
                if (strcmp(d.args[q].name, a->name) == 0)
                    rc = EOS_CM__INVALID(r, "duplicate export name in a core instance");
        }
        if (!rc && b == 0x00)
            rc = eos_cm__check_core_instantiate(r, &d);
        if (!rc)
            rc = eos_cm__rd_push(r, EOS_CM__S_CORE_INSTANCE, &d);
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

/* The resources an instance's exports mention other than the arguments
 * (those its component defines or declares) are new for each instance. */
static int fresh_resources(eos_cm__rd *r, const eos_cm__rmapping *args, eos_cm__typedef *t)
{
    eos_cm__rmapping *m = eos_cm_arena_alloc(r->c->arena, sizeof(*m));
    if (!m)
        return EOS_ENOMEM;
    m->len = 0;
    int rc = eos_cm__freshen_collect(r->c->arena, m, args, t, 0);
    return rc ? rc : eos_cm__subst_typedef(r->c->arena, m, t, 0);
}

static int instance_type_of_component(eos_cm__rd *r, const eos_cm_component *sub,
                                      const eos_cm__rmapping *map, eos_cm__typedef *out)
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
        it->exports[i].sort = eos_cm__item_kind(e->sort);
        it->exports[i].type = item_type((eos_cm_component *)sub, e->sort, e->self);
        /* The nested component's imported resources are the arguments' here. */
        int rc = eos_cm__subst_typedef(r->c->arena, map, &it->exports[i].type, 0);
        if (rc)
            return rc;
    }
    out->kind = EOS_CM__T_INSTANCE;
    out->of.inst = it;
    return fresh_resources(r, map, out);
}

/* A nested component's type, from its imports and exports: an instance that
 * exports the component (and any alias of that export) then still knows what
 * instantiating it takes and gives, without the definition at hand. */
static int component_type_of(eos_cm_component *c, const eos_cm_component *sub, eos_cm__typedef *out)
{
    eos_cm__itype *it = eos_cm_arena_alloc(c->arena, sizeof(*it));
    if (!it)
        return EOS_ENOMEM;
    it->imports = eos_cm_arena_alloc(c->arena, (sub->import_count + 1) * sizeof(eos_cm__decl));
    it->exports = eos_cm_arena_alloc(c->arena, (sub->export_count + 1) * sizeof(eos_cm__decl));
    if (!it->imports || !it->exports)
        return EOS_ENOMEM;
    it->import_count = sub->import_count;
    for (uint32_t i = 0; i < sub->import_count; i++) {
        it->imports[i].name = sub->imports[i].name;
        it->imports[i].sort = eos_cm__item_kind(sub->imports[i].sort);
        it->imports[i].type = sub->imports[i].type;
    }
    it->export_count = sub->export_count;
    for (uint32_t i = 0; i < sub->export_count; i++) {
        const eos_cm__export *e = &sub->exports[i];
        it->exports[i].name = e->name;
        it->exports[i].sort = eos_cm__item_kind(e->sort);
        it->exports[i].type = item_type((eos_cm_component *)sub, e->sort, e->self);
    }
    out->kind = EOS_CM__T_COMPONENT;
    out->of.inst = it;
    return 0;
}

/* The instantiation d of a component known only by its type (an import):
 * the arguments are checked against the type's imports and the instance
 * gets the type's exports, with the arguments' resources substituted. */
static int instantiate_typed(eos_cm__rd *r, const eos_cm__def *cd, eos_cm__def *d)
{
    if (cd->type.kind != EOS_CM__T_COMPONENT || !cd->type.of.inst)
        return eos_cm__rd_fail(r, EOS_EUNSUPPORTED, "%s",
                               "instantiating a component whose type is not known");
    const eos_cm__itype *ct = cd->type.of.inst;
    eos_cm__rmapping *map = eos_cm_arena_alloc(r->c->arena, sizeof(*map));
    eos_cm__itype *it = eos_cm_arena_alloc(r->c->arena, sizeof(*it));
    if (!map || !it ||
        !(it->exports = eos_cm_arena_alloc(r->c->arena, (ct->export_count + 1) *
                                                            sizeof(eos_cm__decl))))
        return EOS_ENOMEM;
    for (uint32_t i = 0; i < ct->import_count; i++) {
        const eos_cm__decl *im = &ct->imports[i];
        const eos_cm__arg *found = NULL;
        for (uint32_t j = 0; j < d->arg_count; j++)
            if (strcmp(d->args[j].name, im->name) == 0 &&
                eos_cm__item_kind(d->args[j].sort) == im->sort)
                found = &d->args[j];
        if (!found)
            return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                                "invalid component: instantiation: missing import named `%s` "
                                "(no argument of that name and kind)",
                                im->name);
        const char *why = NULL;
        eos_cm__typedef have = item_type(r->c, found->sort, found->index);
        if (eos_cm__extern_match(map, im->sort, &im->type, &have, 0, &why))
            return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                                "invalid component: instantiation argument `%s`: %s%s%s%s",
                                im->name, why, map->export_name ? " `" : "",
                                map->export_name ? map->export_name : "",
                                map->export_name ? "`" : "");
    }
    it->export_count = ct->export_count;
    for (uint32_t i = 0; i < ct->export_count; i++) {
        it->exports[i] = ct->exports[i];
        int rc = eos_cm__subst_typedef(r->c->arena, map, &it->exports[i].type, 0);
        if (rc)
            return rc;
    }
    d->type.kind = EOS_CM__T_INSTANCE;
    d->type.of.inst = it;
    return fresh_resources(r, map, &d->type);
}

static int instance_section(eos_cm__rd *r)
{
    uint32_t n;
    int rc = eos_cm__rd_u32(r, &n);
    for (uint32_t k = 0; k < n && !rc; k++) {
        uint8_t b;
        eos_cm__def d = {0};
        if ((rc =
                 instance_expr_head(r, EOS_CM__S_COMPONENT, "unknown instance expression", &d, &b)))
            break;
        uint32_t m = d.arg_count;
        const char *impl = NULL;
        for (uint32_t j = 0; j < m && !rc; j++) {
            eos_cm__arg *a = &d.args[j];
            if (b == 0x00)
                rc = eos_cm__rd_name(r, &a->name);
            else
                rc = eos_cm__rd_extern_name(r, &a->name, &impl);
            if (rc || (rc = eos_cm__rd_sort(r, &a->sort)) ||
                (rc = eos_cm__rd_idx(r, a->sort, &a->index)) ||
                (b != 0x00 && (rc = eos_cm__check_implements(r, a->name, impl, a->sort))))
                break;
            for (uint32_t q = 0; q < j; q++)
                if (b == 0x00 ? strcmp(d.args[q].name, a->name) == 0
                              : eos_cm__names_conflict(d.args[q].name, a->name))
                    rc = EOS_CM__INVALID(r, "duplicate instance argument or export name");
        }
        if (rc)
            break;
        if (b == 0x00) {
            const eos_cm__def *cd = eos_cm__def_get(r->c, EOS_CM__S_COMPONENT, d.a);
            const eos_cm_component *sub = cd->how == EOS_CM__D_COMPONENT ? r->c->components[cd->a]
                                          : cd->how == EOS_CM__D_ALIAS_OUTER
                                              ? (const eos_cm_component *)(const void *)cd->name
                                              : NULL;
            if (!sub) {
                /* An imported component: its component type says what it
                 * imports and exports. */
                rc = instantiate_typed(r, cd, &d);
                if (!rc)
                    rc = eos_cm__rd_push(r, EOS_CM__S_INSTANCE, &d);
                continue;
            }
            eos_cm__rmapping *map = eos_cm_arena_alloc(r->c->arena, sizeof(*map));
            if (!map) {
                rc = EOS_ENOMEM;
                break;
            }
            for (uint32_t i = 0; i < sub->import_count && !rc; i++) {
                const eos_cm__arg *found = NULL;
                for (uint32_t j = 0; j < m; j++)
                    if (strcmp(d.args[j].name, sub->imports[i].name) == 0 &&
                        d.args[j].sort == sub->imports[i].sort)
                        found = &d.args[j];
                if (!found) {
                    rc = eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                                      "invalid component: instantiation: missing import named "
                                      "`%s` (no argument of that name and kind)",
                                      sub->imports[i].name);
                    break;
                }
                const char *why = NULL;
                eos_cm__typedef have = item_type(r->c, found->sort, found->index);
                if (found->sort == EOS_CM__S_CORE_MODULE &&
                    sub->imports[i].type.kind == EOS_CM__T_CORE_MODULE &&
                    sub->imports[i].type.of.mod) {
                    const eos_cm__mtype *hm = eos_cm__module_type(r->c, found->index);
                    if (hm && (rc = eos_cm__module_match(r, sub->imports[i].type.of.mod, hm)))
                        break;
                }
                if (eos_cm__extern_match(map, eos_cm__item_kind(sub->imports[i].sort),
                                         &sub->imports[i].type, &have, 0, &why))
                    rc = eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                                      "invalid component: instantiation argument `%s`: %s%s%s%s",
                                      sub->imports[i].name, why, map->export_name ? " `" : "",
                                      map->export_name ? map->export_name : "",
                                      map->export_name ? "`" : "");
                /* The child's exports mention its imported type: it is the
                 * argument here, named as the argument is. */
                else if (sub->imports[i].sort == EOS_CM__S_TYPE &&
                         sub->imports[i].type.kind == EOS_CM__T_VAL && have.kind == EOS_CM__T_VAL)
                    rc = eos_cm__vis_same(r->c, sub->imports[i].type.of.val, have.of.val);
            }
            if (!rc)
                rc = instance_type_of_component(r, sub, map, &d.type);
        } else {
            eos_cm__itype *it = eos_cm_arena_alloc(r->c->arena, sizeof(*it));
            if (!it ||
                !(it->exports = eos_cm_arena_alloc(r->c->arena, (m + 1) * sizeof(eos_cm__decl)))) {
                rc = EOS_ENOMEM;
                break;
            }
            it->export_count = m;
            for (uint32_t j = 0; j < m && !rc; j++) {
                it->exports[j].name = d.args[j].name;
                it->exports[j].sort = eos_cm__item_kind(d.args[j].sort);
                it->exports[j].type = item_type(r->c, d.args[j].sort, d.args[j].index);
                /* A resource this component defines is known in the bag
                 * under the export's own type index, as with a component's
                 * exports; a re-exported one (wit-component's bundles of
                 * aliases) keeps the type it has. */
                if (d.args[j].sort == EOS_CM__S_TYPE &&
                    it->exports[j].type.kind == EOS_CM__T_RESOURCE &&
                    it->exports[j].type.of.rdesc->defined &&
                    it->exports[j].type.of.rdesc->owner == r->c) {
                    eos_cm__rdesc *named = eos_cm_arena_alloc(r->c->arena, sizeof(*named));
                    if (!named) {
                        rc = EOS_ENOMEM;
                        break;
                    }
                    *named = *it->exports[j].type.of.rdesc;
                    named->same = eos_cm__rd_canon(it->exports[j].type.of.rdesc);
                    it->exports[j].type.of.rdesc = named;
                }
            }
            /* Annotated names in the bag refer to the bag's own resources. */
            eos_cm__decls ds = {it->exports, m};
            eos_cm__ctx_iter ci = {eos_cm__decls_nth, &ds};
            const char *why = NULL;
            for (uint32_t j = 0; j < m && !rc; j++)
                if (!eos_cm__annotated_ok(it->exports[j].name, it->exports[j].sort,
                                          &it->exports[j].type, &ci, &why))
                    rc = eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                                      "invalid component: `%s`: %s", it->exports[j].name, why);
            if (rc)
                break;
            d.type.kind = EOS_CM__T_INSTANCE;
            d.type.of.inst = it;
        }
        if (!rc)
            rc = eos_cm__rd_push(r, EOS_CM__S_INSTANCE, &d);
    }
    return rc;
}

static int alias_section(eos_cm__rd *r, eos_cm__scope *s)
{
    uint32_t n;
    int rc = eos_cm__rd_u32(r, &n);
    for (uint32_t k = 0; k < n && !rc; k++) {
        uint8_t st, tgt;
        eos_cm__def d = {0};
        if ((rc = eos_cm__rd_sort(r, &st)) || (rc = eos_cm__rd_u8(r, &tgt)))
            break;
        if (tgt == 0x00) {
            d.how = EOS_CM__D_ALIAS_EXPORT;
            if ((rc = eos_cm__rd_idx(r, EOS_CM__S_INSTANCE, &d.a)) ||
                (rc = eos_cm__rd_name(r, &d.name)))
                break;
            const eos_cm__itype *it = r->c->spaces[EOS_CM__S_INSTANCE].defs[d.a].type.of.inst;
            const eos_cm__decl *e = NULL;
            for (uint32_t j = 0; it && j < it->export_count; j++)
                if (strcmp(it->exports[j].name, d.name) == 0)
                    e = &it->exports[j];
            if (!e || e->sort != eos_cm__item_kind(st) || st == EOS_CM__S_VALUE) {
                rc = EOS_CM__INVALID(
                    r, "alias of an instance export that does not exist with that sort");
                break;
            }
            d.type = e->type;
        } else if (tgt == 0x01) {
            d.how = EOS_CM__D_ALIAS_CORE;
            if (st > EOS_CM__S_CORE_GLOBAL && st != EOS_CM__S_CORE_TAG) {
                rc = EOS_CM__INVALID(r, "core export alias of an unsupported sort");
                break;
            }
            if ((rc = eos_cm__rd_idx(r, EOS_CM__S_CORE_INSTANCE, &d.a)) ||
                (rc = eos_cm__rd_name(r, &d.name)))
                break;
            eos_wasm_externtype et;
            static const uint8_t kinds[] = {EOS_WASM_EXTERN_FUNC, EOS_WASM_EXTERN_TABLE,
                                            EOS_WASM_EXTERN_MEMORY, EOS_WASM_EXTERN_GLOBAL};
            int known = eos_cm__core_export_type(r->c, d.a, d.name, &et, 0);
            uint8_t kind = st == EOS_CM__S_CORE_TAG ? EOS_WASM_EXTERN_TAG : kinds[st];
            if (known == 0 || (known > 0 && et.kind != kind)) {
                rc = eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                                  "invalid component: core instance %u has no export named "
                                  "`%s`%s", d.a, d.name, known == 0 ? "" : " of that kind");
                break;
            }
        } else if (tgt == 0x02) {
            uint32_t ct, i;
            if ((rc = eos_cm__rd_u32(r, &ct)) || (rc = eos_cm__rd_u32(r, &i)))
                break;
            if (st != EOS_CM__S_TYPE && st != EOS_CM__S_CORE_MODULE && st != EOS_CM__S_COMPONENT &&
                st != EOS_CM__S_CORE_TYPE) {
                rc = EOS_CM__INVALID(r,
                                     "outer alias of a sort other than type, module or component");
                break;
            }
            eos_cm_component *o = r->c;
            for (uint32_t j = 0; j < ct && o; j++)
                o = o->parent;
            if (!o || i >= o->spaces[st].len) {
                rc = EOS_CM__INVALID(r, "outer alias out of range");
                break;
            }
            d = o->spaces[st].defs[i];
            if (st == EOS_CM__S_CORE_MODULE || st == EOS_CM__S_COMPONENT) {
                /* Modules and components the outer scope defines are kept by
                 * pointer (it owns them). Others (imported, aliased from an
                 * instance) exist only once the outer component is
                 * instantiated: name stays NULL and the instance fetches them
                 * from the enclosing instance a levels up, index b. */
                if (d.how == EOS_CM__D_ALIAS_OUTER) {
                    d.a += ct;
                } else {
                    if (d.how == EOS_CM__D_MODULE)
                        d.name = (const char *)(void *)o->modules[d.a];
                    else if (d.how == EOS_CM__D_COMPONENT)
                        d.name = (const char *)(void *)o->components[d.a];
                    else
                        d.name = NULL;
                    d.a = ct;
                    d.b = i;
                }
                d.how = EOS_CM__D_ALIAS_OUTER;
            }
            if (st == EOS_CM__S_TYPE && ct > 0 && eos_cm__typedef_has_resources(&d.type, 0)) {
                rc = EOS_CM__INVALID(r, "outer alias of a type that transitively refers to "
                                        "resources");
                break;
            }
        } else {
            rc = EOS_CM__MALFORMED(r, "unknown alias target");
            break;
        }
        (void)s;
        rc = eos_cm__rd_push(r, st, &d);
    }
    return rc;
}

static int type_section(eos_cm__rd *r, eos_cm__scope *s)
{
    uint32_t n;
    int rc = eos_cm__rd_u32(r, &n);
    for (uint32_t k = 0; k < n && !rc; k++) {
        eos_cm__def d = {.how = EOS_CM__D_ALIAS_OUTER, .b = EOS_CM__TYPE_LOCAL};
        if (!(rc = eos_cm__rd_deftype(r, s, &d.type)))
            rc = eos_cm__rd_push(r, EOS_CM__S_TYPE, &d);
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

static int canon_opts(eos_cm__rd *r, eos_cm__opts *o)
{
    uint32_t n;
    int rc = eos_cm__rd_u32(r, &n);
    bool enc = false;
    for (uint32_t k = 0; k < n && !rc; k++) {
        uint8_t b;
        if ((rc = eos_cm__rd_u8(r, &b)))
            break;
        switch (b) {
        case 0x00:
        case 0x01:
        case 0x02:
            if (enc)
                return EOS_CM__INVALID(r, "conflicting string encodings");
            enc = true;
            o->encoding = b;
            break;
        case 0x03:
            if (o->has_memory)
                return EOS_CM__INVALID(r, "duplicate memory option");
            o->has_memory = true;
            rc = eos_cm__rd_idx(r, EOS_CM__S_CORE_MEMORY, &o->memory);
            break;
        case 0x04:
            if (o->has_realloc)
                return EOS_CM__INVALID(r, "duplicate realloc option");
            o->has_realloc = true;
            rc = eos_cm__rd_idx(r, EOS_CM__S_CORE_FUNC, &o->realloc);
            break;
        case 0x05:
            if (o->has_post_return)
                return EOS_CM__INVALID(r, "duplicate post-return option");
            o->has_post_return = true;
            rc = eos_cm__rd_idx(r, EOS_CM__S_CORE_FUNC, &o->post_return);
            break;
        default:
            return eos_cm__rd_fail(r, EOS_EUNSUPPORTED, "%s",
                                   "canonical option not supported (async is out of scope)");
        }
    }
    return rc;
}

/* The type of a core function when it is an export of a module instantiated
 * in this component (how lifted functions are always defined); NULL when it
 * cannot be known before instantiation (no engine, builtins, lowered funcs). */
static const eos_wasm_functype *core_func_type(const eos_cm_component *c, uint32_t func)
{
    const eos_cm__def *f = eos_cm__def_get(c, EOS_CM__S_CORE_FUNC, func);
    if (!f || f->how != EOS_CM__D_ALIAS_CORE)
        return NULL;
    const eos_cm__def *in = eos_cm__def_get(c, EOS_CM__S_CORE_INSTANCE, f->a);
    if (!in || in->how != EOS_CM__D_INSTANTIATE)
        return NULL;
    const eos_cm__def *md = eos_cm__def_get(c, EOS_CM__S_CORE_MODULE, in->a);
    if (!md || md->how != EOS_CM__D_MODULE || !c->modules[md->a])
        return NULL;
    const eos_wasm_module *m = c->modules[md->a];
    size_t len = strlen(f->name);
    for (size_t i = 0, n = eos_wasm_module_export_count(m); i < n; i++) {
        eos_wasm_export_desc e;
        eos_wasm_module_export(m, i, &e);
        if (e.name_len == len && memcmp(e.name, f->name, len) == 0)
            return e.type.kind == EOS_WASM_EXTERN_FUNC ? e.type.of.func : NULL;
    }
    return NULL;
}

static bool sig_matches(const eos_wasm_functype *ct, uint32_t np, const uint8_t *p, uint32_t nr,
                        const uint8_t *res)
{
    if (ct->param_count != np || ct->result_count != nr)
        return false;
    return (np == 0 || memcmp(ct->params, p, np) == 0) &&
           (nr == 0 || memcmp(ct->results, res, nr) == 0);
}

static int canon_section(eos_cm__rd *r)
{
    uint32_t n;
    int rc = eos_cm__rd_u32(r, &n);
    for (uint32_t k = 0; k < n && !rc; k++) {
        uint8_t b, z;
        eos_cm__def d = {0};
        uint32_t ti;
        if ((rc = eos_cm__rd_u8(r, &b)))
            break;
        switch (b) {
        case 0x00: /* lift */
            d.how = EOS_CM__D_CANON_LIFT;
            if ((rc = eos_cm__rd_u8(r, &z)) ||
                (rc = eos_cm__rd_idx(r, EOS_CM__S_CORE_FUNC, &d.a)) ||
                (rc = canon_opts(r, &d.opts)) || (rc = eos_cm__rd_idx(r, EOS_CM__S_TYPE, &d.b)))
                break;
            if (z != 0)
                return EOS_CM__MALFORMED(r, "canon lift of a non-function");
            d.type = r->c->spaces[EOS_CM__S_TYPE].defs[d.b].type;
            if (d.type.kind != EOS_CM__T_FUNC)
                return EOS_CM__INVALID(r, "canon lift with a type that is not a function type");
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
                    return EOS_CM__INVALID(
                        r, "canon lift needs a memory option for this function type");
                if ((params_mem || fs.params_spill) && !d.opts.has_realloc)
                    return EOS_CM__INVALID(
                        r, "canon lift needs a realloc option for this function type");
                const eos_wasm_functype *ct = core_func_type(r->c, d.a);
                if (ct && !sig_matches(ct, fs.param_count, fs.params, fs.result_count, fs.results))
                    return EOS_CM__INVALID(r, "canon lift: the core function's type does not "
                                              "match the flattened component function type");
                static const uint8_t i32x4[4] = {EOS_WASM_I32, EOS_WASM_I32, EOS_WASM_I32,
                                                 EOS_WASM_I32};
                ct = d.opts.has_realloc ? core_func_type(r->c, d.opts.realloc) : NULL;
                if (ct && !sig_matches(ct, 4, i32x4, 1, i32x4))
                    return EOS_CM__INVALID(r,
                                           "realloc must have type (func (param i32 i32 i32 i32) "
                                           "(result i32))");
                ct = d.opts.has_post_return ? core_func_type(r->c, d.opts.post_return) : NULL;
                if (ct && !sig_matches(ct, fs.result_count, fs.results, 0, NULL))
                    return EOS_CM__INVALID(r, "post-return must take the lifted function's core "
                                              "results and return nothing");
            }
            rc = eos_cm__rd_push(r, EOS_CM__S_FUNC, &d);
            break;
        case 0x01: /* lower */
            d.how = EOS_CM__D_CANON_LOWER;
            if ((rc = eos_cm__rd_u8(r, &z)) || (rc = eos_cm__rd_idx(r, EOS_CM__S_FUNC, &d.a)) ||
                (rc = canon_opts(r, &d.opts)))
                break;
            if (z != 0)
                return EOS_CM__MALFORMED(r, "canon lower of a non-function");
            if (d.opts.has_post_return)
                return EOS_CM__INVALID(r, "post-return is only allowed on canon lift");
            d.type = r->c->spaces[EOS_CM__S_FUNC].defs[d.a].type;
            if (d.type.kind != EOS_CM__T_FUNC)
                return EOS_CM__INVALID(r, "canon lower of a function without a known type");
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
                    return EOS_CM__INVALID(
                        r, "canon lower needs a memory option for this function type");
                if (res_mem && !d.opts.has_realloc)
                    return EOS_CM__INVALID(
                        r, "canon lower needs a realloc option for this function type");
            }
            rc = eos_cm__rd_push(r, EOS_CM__S_CORE_FUNC, &d);
            break;
        case 0x02:
        case 0x03:
        case 0x04:
            d.how = b == 0x02   ? EOS_CM__D_RESOURCE_NEW
                    : b == 0x03 ? EOS_CM__D_RESOURCE_DROP
                                : EOS_CM__D_RESOURCE_REP;
            if ((rc = eos_cm__rd_idx(r, EOS_CM__S_TYPE, &ti)))
                break;
            d.type = r->c->spaces[EOS_CM__S_TYPE].defs[ti].type;
            if (d.type.kind != EOS_CM__T_RESOURCE)
                return EOS_CM__INVALID(r, "resource builtin on a type that is not a resource");
            if (b != 0x03 && (!d.type.of.rdesc->defined || d.type.of.rdesc->owner != r->c))
                return EOS_CM__INVALID(
                    r, "resource.new/rep of a resource not defined by this component");
            d.rdesc = d.type.of.rdesc;
            rc = eos_cm__rd_push(r, EOS_CM__S_CORE_FUNC, &d);
            break;
        default:
            return eos_cm__rd_fail(
                r, EOS_EUNSUPPORTED, "%s",
                "canonical builtin not supported (threads and async are out of scope)");
        }
    }
    return rc;
}

static bool imports_nth(void *ud, uint32_t i, const char **name, const eos_cm__typedef **type)
{
    const eos_cm_component *c = ud;
    if (i >= c->import_count)
        return false;
    *name = c->imports[i].name;
    *type = &c->imports[i].type;
    return true;
}

static bool exports_nth(void *ud, uint32_t i, const char **name, const eos_cm__typedef **type)
{
    const eos_cm_component *c = ud;
    if (i >= c->export_count)
        return false;
    *name = c->exports[i].name;
    *type = &c->spaces[c->exports[i].sort].defs[c->exports[i].self].type;
    return true;
}

/* Checks an annotated import or export name against the component's others. */
static int check_annotated(eos_cm__rd *r, const char *nm, uint8_t sort, const eos_cm__typedef *t,
                           bool import)
{
    eos_cm__ctx_iter it = {import ? imports_nth : exports_nth, r->c};
    const char *why = NULL;
    if (eos_cm__annotated_ok(nm, eos_cm__item_kind(sort), t, &it, &why))
        return 0;
    return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                        "invalid component: `%s`: %s", nm, why);
}

static int import_section(eos_cm__rd *r, eos_cm__scope *s)
{
    uint32_t n;
    int rc = eos_cm__rd_u32(r, &n);
    eos_cm_component *c = r->c;
    for (uint32_t k = 0; k < n && !rc; k++) {
        eos_cm__import im = {0};
        const char *impl;
        if ((rc = eos_cm__rd_extern_name(r, &im.name, &impl)) ||
            (rc = eos_cm__rd_externdesc(r, s, im.name, &im.sort, &im.type)) ||
            (rc = eos_cm__check_implements(r, im.name, impl, im.sort)))
            break;
        for (uint32_t j = 0; j < c->import_count; j++)
            if (eos_cm__names_conflict(c->imports[j].name, im.name))
                return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                                    "invalid component: import name `%s` conflicts with a "
                                    "previous name", im.name);
        if (im.sort == EOS_CM__S_TYPE && im.type.kind == EOS_CM__T_VAL &&
            im.type.of.val->kind > EOS_CM_STRING) {
            eos_cm_type *named = eos_cm__type_new(c->arena, 0);
            if (!named)
                return EOS_ENOMEM;
            *named = *im.type.of.val;
            named->name = im.name;
            im.type.of.val = named;
        }
        if ((rc = check_annotated(r, im.name, im.sort, &im.type, true)) ||
            (rc = eos_cm__check_visible(r, im.sort, &im.type, true)) ||
            (rc = eos_cm__note_visible(c, im.sort, &im.type, true)))
            return rc;
        im.index = c->spaces[im.sort].len;
        eos_cm__def d = {.how = EOS_CM__D_IMPORT, .a = c->import_count, .type = im.type};
        if (im.sort == EOS_CM__S_CORE_MODULE || im.sort == EOS_CM__S_COMPONENT)
            d.how = EOS_CM__D_IMPORT; /* refused at instantiation */
        if ((rc = eos_cm__rd_push(r, im.sort, &d)))
            break;
        if (eos_cm__grow((void **)&c->imports, &c->import_cap, c->import_count, sizeof(im)))
            return EOS_ENOMEM;
        c->imports[c->import_count++] = im;
    }
    return rc;
}

/* An export's type ascription: the item's type must be a subtype of the
 * ascribed one, which replaces it (an instance then shows only the exports
 * the ascription lists). */
static int check_ascription(eos_cm__rd *r, const char *name, bool abstract, eos_cm__typedef *t,
                            eos_cm__typedef *have)
{
    const char *why = NULL;
    eos_cm__rmapping *m = NULL;
    if (t->kind == EOS_CM__T_INSTANCE && have->kind == EOS_CM__T_INSTANCE && have->of.inst) {
        m = eos_cm_arena_alloc(r->c->arena, sizeof(*m));
        if (!m)
            return EOS_ENOMEM;
        m->len = 0;
        if (!eos_cm__extern_match(m, EOS_CM_ITEM_INSTANCE, t, have, 0, &why)) {
            int rc = eos_cm__subst_typedef(r->c->arena, m, t, 0);
            if (!rc)
                *have = *t;
            return rc;
        }
    } else if (t->kind == EOS_CM__T_RESOURCE) {
        if (have->kind == EOS_CM__T_RESOURCE &&
            (abstract || eos_cm__rd_canon(t->of.rdesc) == eos_cm__rd_canon(have->of.rdesc)))
            return 0;
        why = have->kind == EOS_CM__T_RESOURCE ? "resource types are not the same"
                                               : "expected a resource type";
    } else {
        return 0;
    }
    return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                        "invalid component: ascribed type of export `%s` is not compatible with "
                        "the exported item (%s%s%s%s)",
                        name, why, m && m->export_name ? " `" : "",
                        m && m->export_name ? m->export_name : "", m && m->export_name ? "`" : "");
}

static int export_section(eos_cm__rd *r, eos_cm__scope *s)
{
    uint32_t n;
    int rc = eos_cm__rd_u32(r, &n);
    eos_cm_component *c = r->c;
    for (uint32_t k = 0; k < n && !rc; k++) {
        eos_cm__export e = {0};
        uint8_t has;
        const char *impl;
        if ((rc = eos_cm__rd_extern_name(r, &e.name, &impl)) ||
            (rc = eos_cm__rd_sort(r, &e.sort)) || (rc = eos_cm__rd_idx(r, e.sort, &e.index)) ||
            (rc = eos_cm__check_implements(r, e.name, impl, e.sort)) ||
            (rc = eos_cm__rd_u8(r, &has)))
            break;
        if ((e.sort < EOS_CM__S_FUNC && e.sort != EOS_CM__S_CORE_MODULE) ||
            e.sort == EOS_CM__S_CORE_TAG)
            return EOS_CM__INVALID(r, "export of a core item other than a module");
        eos_cm__def d = c->spaces[e.sort].defs[e.index];
        bool fresh = false;
        if (has == 1) {
            uint8_t st;
            eos_cm__typedef t;
            bool abstract = r->end - r->p >= 2 && r->p[0] == 0x03 && r->p[1] == 0x01;
            if ((rc = eos_cm__rd_externdesc(r, s, e.name, &st, &t)))
                break;
            if (st != e.sort)
                return EOS_CM__INVALID(r, "export type ascription of a different sort");
            if ((rc = check_ascription(r, e.name, abstract, &t, &d.type)))
                return rc;
            /* Ascribed (sub resource), the export is a new abstract type. */
            fresh = abstract;
            if (st == EOS_CM__S_FUNC && t.kind == EOS_CM__T_FUNC && d.type.kind == EOS_CM__T_FUNC &&
                !eos_cm__functype_equal(t.of.func, d.type.of.func))
                return EOS_CM__INVALID(r, "export type ascription does not match the function");
            if (st == EOS_CM__S_FUNC)
                d.type = t; /* the ascribed type carries the exported resource names */
        } else if (has != 0) {
            return EOS_CM__MALFORMED(r, "bad export type flag");
        }
        /* An exported resource is known by its export name (an imported one
         * re-exported by a wit-component shim included). */
        if (e.sort == EOS_CM__S_TYPE && d.type.kind == EOS_CM__T_RESOURCE &&
            (!d.type.of.rdesc->name || !d.type.of.rdesc->defined))
            ((eos_cm__rdesc *)d.type.of.rdesc)->name = e.name;
        if (e.sort == EOS_CM__S_TYPE && d.type.kind == EOS_CM__T_RESOURCE) {
            /* The export's new type index: the same resource under the
             * name the outside knows it by. */
            eos_cm__rdesc *named = eos_cm_arena_alloc(c->arena, sizeof(*named));
            if (!named)
                return EOS_ENOMEM;
            *named = *d.type.of.rdesc;
            named->same = fresh ? NULL : eos_cm__rd_canon(d.type.of.rdesc);
            d.type.of.rdesc = named;
        }
        for (uint32_t j = 0; j < c->export_count; j++)
            if (eos_cm__names_conflict(c->exports[j].name, e.name))
                return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                                    "invalid component: export name `%s` conflicts with a "
                                    "previous name", e.name);
        if ((rc = check_annotated(r, e.name, e.sort, &d.type, false)) ||
            (rc = eos_cm__check_visible(r, e.sort, &d.type, false)))
            return rc;
        /* An exported record, variant, enum or flags type is a new type named
         * by the export (as an imported one is by its import). */
        if (e.sort == EOS_CM__S_TYPE && d.type.kind == EOS_CM__T_VAL && d.type.of.val &&
            d.type.of.val->kind > EOS_CM_STRING && !d.type.of.val->name) {
            eos_cm_type *named = eos_cm__type_new(c->arena, 0);
            if (!named)
                return EOS_ENOMEM;
            *named = *d.type.of.val;
            named->name = e.name;
            d.type.of.val = named;
        }
        /* The export introduces a new index aliasing the item. */
        eos_cm__def alias = d;
        alias.how = EOS_CM__D_EXPORT;
        alias.a = e.index;
        alias.b = e.sort;
        e.self = c->spaces[e.sort].len;
        if ((rc = eos_cm__rd_push(r, e.sort, &alias)) ||
            (rc = eos_cm__note_visible(c, e.sort, &d.type, false)))
            break;
        if (eos_cm__grow((void **)&c->exports, &c->export_cap, c->export_count, sizeof(e)))
            return EOS_ENOMEM;
        c->exports[c->export_count++] = e;
    }
    return rc;
}

/* A start function with arguments or results needs value imports or value
 * definitions, which no toolchain emits and this layer does not implement, so
 * only start functions of type (func) are accepted. */
static int start_section(eos_cm__rd *r)
{
    uint32_t f, n, res;
    int rc;
    if ((rc = eos_cm__rd_idx(r, EOS_CM__S_FUNC, &f)) || (rc = eos_cm__rd_u32(r, &n)))
        return rc;
    if (n != 0)
        return eos_cm__rd_fail(r, EOS_EUNSUPPORTED, "%s",
                               "start functions that take arguments are not supported: their "
                               "arguments are component values, which need value imports or "
                               "value definitions (not implemented)");
    if ((rc = eos_cm__rd_u32(r, &res)))
        return rc;
    if (res != 0)
        return eos_cm__rd_fail(r, EOS_EUNSUPPORTED, "%s",
                               "start functions that return results are not supported: results "
                               "define component values, which are not implemented");
    const eos_cm__def *d = eos_cm__def_get(r->c, EOS_CM__S_FUNC, f);
    const eos_cm_functype *ft =
        d && d->type.kind == EOS_CM__T_FUNC ? d->type.of.func : NULL;
    if (!ft)
        return EOS_CM__INVALID(r, "the start function's type is unknown");
    if (ft->param_count != 0 || ft->result_count != 0)
        return EOS_CM__INVALID(r, "the start function's type does not match the start section "
                                  "(it must take no parameters and return no results)");
    eos_cm_component *c = r->c;
    if (eos_cm__grow((void **)&c->starts, &c->start_cap, c->start_count, sizeof(*c->starts)))
        return EOS_ENOMEM;
    c->starts[c->start_count++] = f;
    return 0;
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
    eos_free(c->starts, c->start_cap * sizeof(*c->starts));
    for (int w = 0; w < 2; w++)
        eos_free(c->vis[w].v, c->vis[w].cap * sizeof(void *));
    eos_cm_arena *a = c->arena;
    bool nested = c->parent != NULL;
    eos_free(c, sizeof(*c));
    if (!nested)
        eos_cm_arena_free(a);
}

static const char *section_step[] = {
    "custom section",    "core module section", "core instance section", "core type section",
    "component section", "instance section",    "alias section",         "type section",
    "canon section",     "start section",       "import section",        "export section",
    "value section"};

int eos_cm__decode(const uint8_t *bytes, size_t size, const eos_wasm_features *features,
                   eos_cm_component *parent, int depth, int64_t base_offset, eos_cm_component **out,
                   eos_diag *diag)
{
    static const uint8_t preamble[8] = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};
    int rc = 0;
    *out = NULL;
    eos_cm_component *c = eos_calloc(1, sizeof(*c));
    if (!c)
        return EOS_ENOMEM;
    c->parent = parent;
    c->arena = parent ? parent->arena : eos_cm_arena_new();
    eos_cm__rd r = {.p = bytes,
                    .start = bytes,
                    .end = bytes + size,
                    .base = base_offset,
                    .diag = diag,
                    .step = "preamble",
                    .c = c,
                    .features = features,
                    .depth = depth};
    eos_cm__scope s = {.comp = c};
    if (!c->arena) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if (size < 8 || memcmp(bytes, preamble, 4) != 0) {
        rc = EOS_CM__MALFORMED(&r, "not a WebAssembly binary (bad magic)");
        goto out;
    }
    if (bytes[6] == 0 && bytes[7] == 0) {
        rc = eos_cm__rd_fail(&r, EOS_EINVALID, "%s",
                             "this is a core WebAssembly module, not a component: wrap it with "
                             "`wasm-tools component new` (or jco) before loading");
        goto out;
    }
    if (memcmp(bytes + 4, preamble + 4, 4) != 0) {
        rc = EOS_CM__MALFORMED(&r, "unsupported component binary version (expected 0x0d, layer 1)");
        goto out;
    }
    if (depth > 16) {
        rc = EOS_CM__INVALID(&r, "components nested too deeply");
        goto out;
    }
    r.p += 8;
    while (r.p < r.end && !rc) {
        uint8_t id;
        uint32_t len;
        r.step = "section header";
        if ((rc = eos_cm__rd_u8(&r, &id)) || (rc = eos_cm__rd_u32(&r, &len)))
            break;
        if ((size_t)(r.end - r.p) < len) {
            rc = EOS_CM__MALFORMED(&r, "section extends past the end of the binary");
            break;
        }
        const uint8_t *body = r.p, *end = r.p + len;
        const uint8_t *saved_end = r.end;
        r.end = end;
        r.step = id < EOS_ARRAY_LEN(section_step) ? section_step[id] : "unknown section";
        switch (id) {
        case 0: { /* custom: its name must be whole UTF-8; the contents are free */
            const char *nm;
            rc = eos_cm__rd_name(&r, &nm);
            r.p = end;
            break;
        }
        case 1:
            rc = core_module_section(&r, body, len);
            r.p = end;
            break;
        case 2:
            rc = core_instance_section(&r);
            break;
        case 3: {
            uint32_t n;
            rc = eos_cm__rd_u32(&r, &n);
            for (uint32_t k = 0; k < n && !rc; k++) {
                eos_cm__def d = {.how = EOS_CM__D_ALIAS_OUTER};
                if (!(rc = eos_cm__rd_core_type(&r, false, &d.type)))
                    rc = eos_cm__rd_push(&r, EOS_CM__S_CORE_TYPE, &d);
            }
            break;
        }
        case 4: {
            eos_cm_component *sub = NULL;
            rc = eos_cm__decode(body, len, features, c, depth + 1, base_offset + (body - bytes),
                                &sub, diag);
            if (rc)
                break;
            if (eos_cm__grow((void **)&c->components, &c->component_cap, c->component_count,
                             sizeof(*c->components))) {
                eos_cm_component_free(sub);
                rc = EOS_ENOMEM;
                break;
            }
            c->components[c->component_count] = sub;
            if (sub->engine_missing)
                c->engine_missing = true;
            eos_cm__def d = {.how = EOS_CM__D_COMPONENT, .a = c->component_count++};
            rc = component_type_of(c, sub, &d.type);
            if (!rc)
                rc = eos_cm__rd_push(&r, EOS_CM__S_COMPONENT, &d);
            r.p = end;
            break;
        }
        case 5:
            rc = instance_section(&r);
            break;
        case 6:
            rc = alias_section(&r, &s);
            break;
        case 7:
            rc = type_section(&r, &s);
            break;
        case 8:
            rc = canon_section(&r);
            break;
        case 9:
            rc = start_section(&r);
            break;
        case 10:
            rc = import_section(&r, &s);
            break;
        case 11:
            rc = export_section(&r, &s);
            break;
        case 12:
            rc = eos_cm__rd_fail(&r, EOS_EUNSUPPORTED, "%s", "value definitions are not supported");
            break;
        default:
            rc = EOS_CM__MALFORMED(&r, "unknown section id");
            break;
        }
        if (!rc && r.p != end)
            rc = EOS_CM__MALFORMED(&r, "section size does not match its contents");
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
