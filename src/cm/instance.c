/* Instantiation: each definition of a component is produced on demand (core
 * instances from modules and their named arguments, lowered and lifted
 * functions, nested component instances, resource types), imports come from
 * the host's interfaces, and core instances are created in their declared
 * order so start functions (wit-component's fixup modules) run as written. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int link_fail(eos_diag *diag, const char *fmt, const char *a, const char *b)
{
    return eos_diag_set(diag, EOS_EUNLINKABLE, "link", -1, fmt, a, b);
}

static void *ialloc(eos_cm__ci *ci, size_t size)
{
    return eos_cm_arena_alloc(ci->root->arena, size);
}

static int ci_new(eos_cm_instance *root, const eos_cm_component *c, eos_cm__ci **out)
{
    eos_cm__ci *ci = eos_cm_arena_alloc(root->arena, sizeof(*ci));
    if (!ci)
        return EOS_ENOMEM;
    ci->root = root;
    ci->c = c;
    ci->may_enter = true;
    ci->may_leave = true;
    for (int s = 0; s < EOS_CM__S_COUNT; s++) {
        uint32_t n = c->spaces[s].len;
        ci->items[s] = eos_cm_arena_alloc(root->arena, (n + 1) * sizeof(eos_cm__item));
        if (!ci->items[s])
            return EOS_ENOMEM;
    }
    /* rdesc ids count over the whole tree of nested components (decode.c). */
    const eos_cm_component *top = c;
    while (top->parent)
        top = top->parent;
    ci->rmap = eos_cm_arena_alloc(root->arena, (top->rdesc_count + 1) * sizeof(eos_cm_resource *));
    ci->imports = eos_cm_arena_alloc(root->arena, (c->import_count + 1) * sizeof(eos_cm__item));
    if (!ci->rmap || !ci->imports)
        return EOS_ENOMEM;
    ci->next = root->cis;
    root->cis = ci;
    *out = ci;
    return 0;
}

/* ---- Resolving definitions --------------------------------------------------- */

/* Name lookups during linking start where the previous one ended: toolchains
 * list a module's imports, an instance's exports and its aliases in the same
 * order, so a run of lookups is linear instead of quadratic. Returns the
 * index found (and moves *hint past it) or UINT32_MAX. */
static uint32_t find_from(uint32_t *hint, uint32_t count, const char *name, size_t len,
                          const char *(*name_at)(const void *, uint32_t), const void *v)
{
    uint32_t start = *hint < count ? *hint : 0;
    for (uint32_t n = 0, k = start; n < count; n++, k = k + 1 == count ? 0 : k + 1) {
        const char *s = name_at(v, k);
        if (strncmp(s, name, len) == 0 && s[len] == 0) {
            *hint = k + 1;
            return k;
        }
    }
    return UINT32_MAX;
}

static const char *arg_name(const void *v, uint32_t k)
{
    return ((const eos_cm__arg *)v)[k].name;
}

static const char *hfunc_name(const void *v, uint32_t k)
{
    return ((const eos_cm__hfunc *)v)[k].name;
}

static const char *str_at(const void *v, uint32_t k)
{
    return ((const char *const *)v)[k];
}

static int get(eos_cm__ci *ci, int sort, uint32_t i, eos_cm__item *out, eos_diag *diag);

/* Finds export name (len bytes, not NUL-terminated) of core instance inst;
 * *hint is where the search starts in an instance made of exports. */
static int core_export(eos_cm__ci *ci, uint32_t inst, const char *name, size_t len,
                       uint32_t *hint, eos_wasm_extern *out, eos_diag *diag)
{
    eos_cm__item it;
    int rc = get(ci, EOS_CM__S_CORE_INSTANCE, inst, &it, diag);
    if (rc)
        return rc;
    if (it.core_inst) {
        if (eos_wasm_instance_export_len(it.core_inst, name, len, out) != 0)
            return eos_diag_set(diag, EOS_EUNLINKABLE, "link", -1,
                                "core instance has no export \"%.*s\"", (int)len, name);
        return 0;
    }
    const eos_cm__def *d = eos_cm__def_get(ci->c, EOS_CM__S_CORE_INSTANCE, inst);
    uint32_t k = find_from(hint, d->arg_count, name, len, arg_name, d->args);
    if (k != UINT32_MAX) {
        eos_cm__item x;
        if ((rc = get(ci, d->args[k].sort, d->args[k].index, &x, diag)))
            return rc;
        switch (d->args[k].sort) {
        case EOS_CM__S_CORE_FUNC:
            out->kind = EOS_WASM_EXTERN_FUNC, out->of.func = x.core_func;
            break;
        case EOS_CM__S_CORE_TABLE:
            out->kind = EOS_WASM_EXTERN_TABLE, out->of.table = x.table;
            break;
        case EOS_CM__S_CORE_MEMORY:
            out->kind = EOS_WASM_EXTERN_MEMORY, out->of.memory = x.memory;
            break;
        case EOS_CM__S_CORE_GLOBAL:
            out->kind = EOS_WASM_EXTERN_GLOBAL, out->of.global = x.global;
            break;
        case EOS_CM__S_CORE_TAG:
            out->kind = EOS_WASM_EXTERN_TAG, out->of.tag = x.tag;
            break;
        default:
            return eos_diag_set(diag, EOS_EUNLINKABLE, "link", -1,
                                "core export \"%.*s\" is not a core item", (int)len, name);
        }
        return 0;
    }
    return eos_diag_set(diag, EOS_EUNLINKABLE, "link", -1, "core instance has no export \"%.*s\"",
                        (int)len, name);
}

static int instantiate_core(eos_cm__ci *ci, const eos_cm__def *d, eos_cm__item *out, eos_diag *diag)
{
    const eos_cm__def *md = eos_cm__def_get(ci->c, EOS_CM__S_CORE_MODULE, d->a);
    eos_wasm_module *m = md->how == EOS_CM__D_ALIAS_OUTER ? (eos_wasm_module *)md->name
                         : md->how == EOS_CM__D_MODULE    ? ci->c->modules[md->a]
                                                          : NULL;
    if (!m && md->how != EOS_CM__D_MODULE) {
        /* An imported (or re-exported) module: the instantiation argument
         * the enclosing component supplied. */
        eos_cm__item mi;
        int grc = get(ci, EOS_CM__S_CORE_MODULE, d->a, &mi, diag);
        if (grc)
            return grc;
        m = (eos_wasm_module *)mi.module;
    }
    if (!m)
        return eos_diag_set(diag, EOS_EUNAVAILABLE, "instantiate", -1,
                            "core module %u cannot be instantiated (imported modules are not "
                            "supported, or the engine is not available)",
                            d->a);
    size_t n = eos_wasm_module_import_count(m);
    eos_wasm_extern *ext = eos_calloc(n ? n : 1, sizeof(*ext));
    int rc = 0;
    if (!ext)
        return EOS_ENOMEM;
    /* Imports are grouped by module name: one argument lookup per group, and
     * the group's names looked up from where the previous one was found. */
    const eos_cm__arg *arg = NULL;
    uint32_t arg_hint = 0, field_hint = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        eos_wasm_import_desc im;
        eos_wasm_module_import(m, i, &im);
        if (!arg || strncmp(arg->name, im.module, im.module_len) != 0 ||
            arg->name[im.module_len] != 0) {
            uint32_t k = find_from(&arg_hint, d->arg_count, im.module, im.module_len, arg_name,
                                   d->args);
            if (k == UINT32_MAX) {
                rc = eos_diag_set(diag, EOS_EUNLINKABLE, "link", -1,
                                  "core module import \"%.*s\" \"%.*s\" has no instantiation "
                                  "argument",
                                  (int)im.module_len, im.module, (int)im.name_len, im.name);
                break;
            }
            arg = &d->args[k];
            field_hint = 0;
        }
        rc = core_export(ci, arg->index, im.name, im.name_len, &field_hint, &ext[i], diag);
    }
    if (!rc)
        rc = eos_wasm_instantiate(ci->root->store, m, ext, n, &out->core_inst, diag);
    eos_free(ext, (n ? n : 1) * sizeof(*ext));
    return rc;
}

static eos_cm__item *rinst_find(eos_cm__rinst *ri, const char *name)
{
    uint32_t k = find_from(&ri->hint, ri->count, name, strlen(name), str_at, ri->names);
    return k == UINT32_MAX ? NULL : &ri->items[k];
}

/* Binds the resources an imported instance type declares to run-time types:
 * the host interface's resource of the same name, or a fresh type named after
 * it when the host declares none (first binding wins for shared ones). */
static int bind_resources(eos_cm__ci *ci, const eos_cm__itype *it, const eos_cm__hiface *hi,
                          eos_cm__rinst *ri)
{
    for (uint32_t i = 0; i < it->export_count; i++) {
        const eos_cm__decl *d = &it->exports[i];
        if (d->sort != EOS_CM_ITEM_TYPE || d->type.kind != EOS_CM__T_RESOURCE)
            continue;
        const eos_cm__rdesc *rd = d->type.of.rdesc;
        if (ci->rmap[rd->id])
            continue;
        eos_cm_resource *r = NULL;
        for (uint32_t k = 0; hi && k < hi->resource_count; k++)
            if (strcmp(hi->resources[k]->name, d->name) == 0)
                r = hi->resources[k];
        if (ri) {
            eos_cm__item *x = rinst_find(ri, d->name);
            if (x && x->resource)
                r = (eos_cm_resource *)x->resource;
        }
        if (!r) {
            r = ialloc(ci, sizeof(*r));
            if (!r)
                return EOS_ENOMEM;
            r->name = d->name;
        }
        ci->rmap[rd->id] = r;
    }
    return 0;
}

static int host_func(eos_cm__ci *ci, const char *iname, const char *fname, const eos_cm__hiface *hi,
                     uint32_t *hint, const eos_cm_functype *want, eos_cm_func **out,
                     eos_diag *diag)
{
    const eos_cm__hfunc *hf = NULL;
    uint32_t k = hi ? find_from(hint, hi->func_count, fname, strlen(fname), hfunc_name, hi->funcs)
                    : UINT32_MAX;
    if (k != UINT32_MAX)
        hf = &hi->funcs[k];
    if (!hf)
        return eos_diag_set(diag, EOS_EUNLINKABLE, "link", -1,
                            "import %s: function \"%s\" is not provided by the host", iname, fname);
    if (hf->type && !eos_cm__functype_equal(want, hf->type)) {
        char a[200] = "", b[200] = "";
        FILE *fa = fmemopen(a, sizeof(a) - 1, "w"), *fb = fmemopen(b, sizeof(b) - 1, "w");
        if (fa) {
            eos_cm_functype_print(want, fa);
            fclose(fa);
        }
        if (fb) {
            eos_cm_functype_print(hf->type, fb);
            fclose(fb);
        }
        return eos_diag_set(diag, EOS_EUNLINKABLE, "link", -1,
                            "import %s: function \"%s\" has type %s in the component but %s in "
                            "the host",
                            iname, fname, a, b);
    }
    eos_cm_func *f = ialloc(ci, sizeof(*f));
    if (!f)
        return EOS_ENOMEM;
    f->host = hf;
    f->type = want;
    f->ci = ci;
    *out = f;
    return 0;
}

static int root_import(eos_cm__ci *ci, uint32_t idx, eos_cm__item *out, eos_diag *diag)
{
    const eos_cm__import *im = &ci->c->imports[idx];
    const eos_cm__hiface *hi = eos_cm__host_find(ci->root->host, im->name);
    if (im->sort == EOS_CM__S_FUNC) {
        if (!hi || !hi->is_func)
            return link_fail(diag, "import \"%s\" (a function) is not provided by the host%s",
                             im->name, "");
        uint32_t hint = 0;
        return host_func(ci, im->name, hi->funcs[0].name, hi, &hint, im->type.of.func, &out->func,
                         diag);
    }
    if (im->sort == EOS_CM__S_TYPE) {
        if (im->type.kind == EOS_CM__T_RESOURCE && !ci->rmap[im->type.of.rdesc->id]) {
            eos_cm_resource *r = ialloc(ci, sizeof(*r));
            if (!r)
                return EOS_ENOMEM;
            r->name = im->name;
            ci->rmap[im->type.of.rdesc->id] = r;
        }
        return 0;
    }
    if (im->sort != EOS_CM__S_INSTANCE)
        return link_fail(diag,
                         "import \"%s\": only instance, function and type imports can be "
                         "satisfied by the host%s",
                         im->name, "");
    if (!hi || hi->is_func)
        return link_fail(diag,
                         "import \"%s\" is not provided by the host (no compatible "
                         "interface is defined)%s",
                         im->name, "");
    const eos_cm__itype *it = im->type.of.inst;
    int rc = bind_resources(ci, it, hi, NULL);
    if (rc)
        return rc;
    eos_cm__rinst *ri = ialloc(ci, sizeof(*ri));
    if (!ri)
        return EOS_ENOMEM;
    ri->names = ialloc(ci, (it->export_count + 1) * sizeof(char *));
    ri->items = ialloc(ci, (it->export_count + 1) * sizeof(eos_cm__item));
    if (!ri->names || !ri->items)
        return EOS_ENOMEM;
    uint32_t hint = 0;
    for (uint32_t i = 0; i < it->export_count; i++) {
        const eos_cm__decl *d = &it->exports[i];
        ri->names[ri->count] = d->name;
        eos_cm__item *x = &ri->items[ri->count++];
        if (d->sort == EOS_CM_ITEM_FUNC) {
            if ((rc = host_func(ci, im->name, d->name, hi, &hint, d->type.of.func, &x->func,
                                diag)))
                return rc;
        } else if (d->sort == EOS_CM_ITEM_TYPE && d->type.kind == EOS_CM__T_RESOURCE) {
            x->resource = ci->rmap[d->type.of.rdesc->id];
        } else if (d->sort != EOS_CM_ITEM_TYPE) {
            return link_fail(diag, "import \"%s\": member \"%s\" is not a function or type",
                             im->name, d->name);
        }
    }
    out->inst = ri;
    return 0;
}

static int nested_instance(eos_cm__ci *ci, const eos_cm__def *d, eos_cm__item *out, eos_diag *diag);

/* Raw calls into core functions skip the engine's type checks, so every
 * core function the ABI calls that way is checked once, here. */
bool eos_cm__core_sig_is(const eos_wasm_func *f, uint32_t np, const uint8_t *p, uint32_t nr,
                         const uint8_t *r)
{
    const eos_wasm_functype *ct = eos_wasm_func_type(f);
    if (!ct || ct->param_count != np || ct->result_count != nr)
        return false;
    return (np == 0 || memcmp(ct->params, p, np) == 0) &&
           (nr == 0 || memcmp(ct->results, r, nr) == 0);
}

static const uint8_t i32x4[4] = {EOS_WASM_I32, EOS_WASM_I32, EOS_WASM_I32, EOS_WASM_I32};

int eos_cm__check_realloc(const eos_wasm_func *f, eos_diag *diag)
{
    if (f && !eos_cm__core_sig_is(f, 4, i32x4, 1, i32x4))
        return eos_diag_set(diag, EOS_EINVALID, "canon", -1,
                            "realloc must have type (func (param i32 i32 i32 i32) (result i32))");
    return 0;
}

static int lifted(eos_cm__ci *ci, const eos_cm__def *d, eos_cm_func **out, eos_diag *diag)
{
    eos_cm_func *f = ialloc(ci, sizeof(*f));
    eos_cm__item x;
    int rc;
    if (!f)
        return EOS_ENOMEM;
    f->type = d->type.of.func;
    f->ci = ci;
    f->encoding = d->opts.encoding;
    eos_cm__flatsig_of(f->type, false, &f->sig);
    if ((rc = get(ci, EOS_CM__S_CORE_FUNC, d->a, &x, diag)))
        return rc;
    f->core = x.core_func;
    if (d->opts.has_memory) {
        if ((rc = get(ci, EOS_CM__S_CORE_MEMORY, d->opts.memory, &x, diag)))
            return rc;
        f->memory = x.memory;
    }
    if (d->opts.has_realloc) {
        if ((rc = get(ci, EOS_CM__S_CORE_FUNC, d->opts.realloc, &x, diag)))
            return rc;
        f->realloc = x.core_func;
    }
    if (d->opts.has_post_return) {
        if ((rc = get(ci, EOS_CM__S_CORE_FUNC, d->opts.post_return, &x, diag)))
            return rc;
        f->post_return = x.core_func;
    }
    /* The core function must have exactly the flattened signature. */
    if (!eos_cm__core_sig_is(f->core, f->sig.param_count, f->sig.params, f->sig.result_count,
                             f->sig.results))
        return eos_diag_set(diag, EOS_EINVALID, "canon lift", -1,
                            "canon lift: the core function's type does not match the flattened "
                            "component function type");
    if ((rc = eos_cm__check_realloc(f->realloc, diag)))
        return rc;
    if (f->post_return &&
        !eos_cm__core_sig_is(f->post_return, f->sig.result_count, f->sig.results, 0, NULL))
        return eos_diag_set(diag, EOS_EINVALID, "canon lift", -1,
                            "post-return must take the lifted function's core results and "
                            "return nothing");
    *out = f;
    return 0;
}

int eos_cm__resolve_core(eos_cm__ci *ci, int sort, uint32_t index, eos_cm__item *out,
                         eos_diag *diag)
{
    return get(ci, sort, index, out, diag);
}

static int get(eos_cm__ci *ci, int sort, uint32_t i, eos_cm__item *out, eos_diag *diag)
{
    const eos_cm__def *d = eos_cm__def_get(ci->c, sort, i);
    eos_cm__item *slot = &ci->items[sort][i];
    eos_cm__item x = {0};
    int rc = 0;
    if (!d)
        return eos_diag_set(diag, EOS_EINVALID, "instantiate", -1, "definition index out of range");
    if (slot->done) {
        *out = *slot;
        return 0;
    }
    switch (d->how) {
    case EOS_CM__D_IMPORT:
        if (ci->root->top == ci) {
            if (!ci->imports[d->a].done) {
                rc = root_import(ci, d->a, &ci->imports[d->a], diag);
                ci->imports[d->a].done = !rc;
            }
        }
        x = ci->imports[d->a];
        if (sort == EOS_CM__S_TYPE && d->type.kind == EOS_CM__T_RESOURCE)
            x.resource = ci->rmap[d->type.of.rdesc->id];
        break;
    case EOS_CM__D_ALIAS_CORE: {
        eos_wasm_extern e;
        uint32_t hint = 0;
        if ((rc = core_export(ci, d->a, d->name, strlen(d->name), &hint, &e, diag)))
            break;
        static const uint8_t want[] = {[EOS_CM__S_CORE_FUNC] = EOS_WASM_EXTERN_FUNC,
                                       [EOS_CM__S_CORE_TABLE] = EOS_WASM_EXTERN_TABLE,
                                       [EOS_CM__S_CORE_MEMORY] = EOS_WASM_EXTERN_MEMORY,
                                       [EOS_CM__S_CORE_GLOBAL] = EOS_WASM_EXTERN_GLOBAL,
                                       [EOS_CM__S_CORE_TAG] = EOS_WASM_EXTERN_TAG};
        if ((sort > EOS_CM__S_CORE_GLOBAL && sort != EOS_CM__S_CORE_TAG) ||
            e.kind != want[sort]) {
            rc = link_fail(diag, "core export \"%s\" has a different kind than its alias%s",
                           d->name, "");
            break;
        }
        x.core_func = e.kind == EOS_WASM_EXTERN_FUNC ? e.of.func : NULL;
        x.table = e.kind == EOS_WASM_EXTERN_TABLE ? e.of.table : NULL;
        x.memory = e.kind == EOS_WASM_EXTERN_MEMORY ? e.of.memory : NULL;
        x.global = e.kind == EOS_WASM_EXTERN_GLOBAL ? e.of.global : NULL;
        x.tag = e.kind == EOS_WASM_EXTERN_TAG ? e.of.tag : NULL;
        break;
    }
    case EOS_CM__D_ALIAS_EXPORT: {
        eos_cm__item in;
        if ((rc = get(ci, EOS_CM__S_INSTANCE, d->a, &in, diag)))
            break;
        /* The instance's type names resources that this component's types
         * (of aliased functions too) now use: bind them to the instance's. */
        const eos_cm__def *id = eos_cm__def_get(ci->c, EOS_CM__S_INSTANCE, d->a);
        if (in.inst && id && id->type.kind == EOS_CM__T_INSTANCE && id->type.of.inst &&
            (rc = bind_resources(ci, id->type.of.inst, NULL, in.inst)))
            break;
        eos_cm__item *m = in.inst ? rinst_find(in.inst, d->name) : NULL;
        if (sort == EOS_CM__S_TYPE) {
            if (d->type.kind == EOS_CM__T_RESOURCE) {
                const eos_cm_resource *r = m && m->resource ? m->resource : NULL;
                if (r && !ci->rmap[d->type.of.rdesc->id])
                    ci->rmap[d->type.of.rdesc->id] = r;
                x.resource = ci->rmap[d->type.of.rdesc->id];
            }
            break;
        }
        if (!m) {
            rc = link_fail(diag, "instance has no export \"%s\"%s", d->name, "");
            break;
        }
        x = *m;
        break;
    }
    case EOS_CM__D_ALIAS_OUTER:
        if (sort == EOS_CM__S_TYPE && d->type.kind == EOS_CM__T_RESOURCE) {
            const eos_cm__rdesc *rd = d->type.of.rdesc;
            if (!ci->rmap[rd->id] && rd->defined) {
                eos_cm_resource *r = ialloc(ci, sizeof(*r));
                if (!r)
                    return EOS_ENOMEM;
                r->name = rd->name;
                r->owner = ci->root;
                r->owner_ci = ci;
                ci->rmap[rd->id] = r;
                if (rd->has_dtor) {
                    eos_cm__item dt;
                    if ((rc = get(ci, EOS_CM__S_CORE_FUNC, rd->dtor_core_func, &dt, diag)))
                        break;
                    r->dtor = dt.core_func;
                }
            }
            x.resource = ci->rmap[rd->id];
        } else if (sort == EOS_CM__S_COMPONENT || sort == EOS_CM__S_CORE_MODULE) {
            eos_cm__ci *o = ci;
            for (uint32_t k = 0; k < d->a && o; k++)
                o = o->outer;
            if (!d->name) {
                /* Only the enclosing instance has it (an argument it got). */
                if (!o) {
                    rc = link_fail(diag,
                                   "outer alias of a %s whose enclosing instance is not "
                                   "known%s",
                                   sort == EOS_CM__S_COMPONENT ? "component" : "module", "");
                    break;
                }
                rc = get(o, sort, d->b, &x, diag);
            } else if (sort == EOS_CM__S_COMPONENT) {
                x.comp = (const eos_cm_component *)d->name;
                x.env = o;
            } else {
                x.module = (const eos_wasm_module *)d->name;
            }
        }
        break;
    case EOS_CM__D_CANON_LIFT:
        rc = lifted(ci, d, &x.func, diag);
        break;
    case EOS_CM__D_CANON_LOWER: {
        eos_cm__item callee;
        if (!(rc = get(ci, EOS_CM__S_FUNC, d->a, &callee, diag)))
            rc = eos_cm__make_lowered(ci, d, callee.func, &x.core_func, diag);
        break;
    }
    case EOS_CM__D_RESOURCE_NEW:
    case EOS_CM__D_RESOURCE_DROP:
    case EOS_CM__D_RESOURCE_REP:
        rc = eos_cm__make_builtin(ci, d, &x.core_func);
        break;
    case EOS_CM__D_MODULE:
        x.module = ci->c->modules[d->a];
        break;
    case EOS_CM__D_COMPONENT:
        x.comp = ci->c->components[d->a];
        x.env = ci;
        break;
    case EOS_CM__D_INSTANTIATE:
        if (sort == EOS_CM__S_CORE_INSTANCE)
            rc = instantiate_core(ci, d, &x, diag);
        else
            rc = nested_instance(ci, d, &x, diag);
        break;
    case EOS_CM__D_EXPORTS:
        if (sort == EOS_CM__S_INSTANCE) {
            eos_cm__rinst *ri = ialloc(ci, sizeof(*ri));
            if (!ri || !(ri->names = ialloc(ci, (d->arg_count + 1) * sizeof(char *))) ||
                !(ri->items = ialloc(ci, (d->arg_count + 1) * sizeof(eos_cm__item)))) {
                rc = EOS_ENOMEM;
                break;
            }
            for (uint32_t k = 0; k < d->arg_count && !rc; k++) {
                ri->names[k] = d->args[k].name;
                rc = get(ci, d->args[k].sort, d->args[k].index, &ri->items[k], diag);
            }
            ri->count = d->arg_count;
            x.inst = ri;
        }
        break;
    case EOS_CM__D_EXPORT:
        rc = get(ci, sort, d->a, &x, diag);
        break;
    default:
        rc = eos_diag_set(diag, EOS_EINVALID, "instantiate", -1, "unknown definition kind");
    }
    if (rc)
        return rc;
    x.done = true;
    *slot = x;
    *out = x;
    return 0;
}

/* Runs a component's start functions once all its definitions exist (they
 * take and return nothing; the decoder refuses others). A trap fails the
 * instantiation with the trap's code and message. */
static int run_starts(eos_cm__ci *ci, eos_diag *diag)
{
    for (uint32_t k = 0; k < ci->c->start_count; k++) {
        eos_cm__item f;
        int rc = get(ci, EOS_CM__S_FUNC, ci->c->starts[k], &f, diag);
        if (rc)
            return rc;
        if (!f.func)
            return eos_diag_set(diag, EOS_EINVALID, "start", -1,
                                "the start function is not a function");
        if ((rc = eos_cm__invoke(f.func, NULL, NULL, ci->root->arena, NULL, diag)))
            return rc;
    }
    return 0;
}

static int nested_instance(eos_cm__ci *ci, const eos_cm__def *d, eos_cm__item *out, eos_diag *diag)
{
    eos_cm__item comp;
    int rc = get(ci, EOS_CM__S_COMPONENT, d->a, &comp, diag);
    if (rc)
        return rc;
    if (!comp.comp)
        return link_fail(diag, "instantiating an imported component is not supported%s%s", "", "");
    eos_cm__ci *child;
    if ((rc = ci_new(ci->root, comp.comp, &child)))
        return rc;
    child->outer = comp.env;
    const eos_cm_component *c = comp.comp;
    for (uint32_t i = 0; i < c->import_count; i++) {
        const eos_cm__import *im = &c->imports[i];
        const eos_cm__arg *arg = NULL;
        for (uint32_t k = 0; k < d->arg_count; k++)
            if (strcmp(d->args[k].name, im->name) == 0)
                arg = &d->args[k];
        if (!arg)
            return link_fail(diag, "nested component import \"%s\" is not supplied%s", im->name,
                             "");
        if ((rc = get(ci, arg->sort, arg->index, &child->imports[i], diag)))
            return rc;
        child->imports[i].done = true;
        if (im->sort == EOS_CM__S_TYPE && im->type.kind == EOS_CM__T_RESOURCE &&
            !child->rmap[im->type.of.rdesc->id])
            child->rmap[im->type.of.rdesc->id] = child->imports[i].resource;
        if (im->sort == EOS_CM__S_INSTANCE && im->type.kind == EOS_CM__T_INSTANCE &&
            (rc = bind_resources(child, im->type.of.inst, NULL, child->imports[i].inst)))
            return rc;
    }
    /* Core and component instances in declaration order, as for the root. */
    for (uint32_t k = 0; k < c->spaces[EOS_CM__S_CORE_INSTANCE].len; k++) {
        eos_cm__item tmp;
        if ((rc = get(child, EOS_CM__S_CORE_INSTANCE, k, &tmp, diag)))
            return rc;
    }
    for (uint32_t k = 0; k < c->spaces[EOS_CM__S_INSTANCE].len; k++) {
        eos_cm__item tmp;
        if ((rc = get(child, EOS_CM__S_INSTANCE, k, &tmp, diag)))
            return rc;
    }
    eos_cm__rinst *ri = ialloc(ci, sizeof(*ri));
    if (!ri || !(ri->names = ialloc(ci, (c->export_count + 1) * sizeof(char *))) ||
        !(ri->items = ialloc(ci, (c->export_count + 1) * sizeof(eos_cm__item))))
        return EOS_ENOMEM;
    for (uint32_t k = 0; k < c->export_count; k++) {
        ri->names[k] = c->exports[k].name;
        if ((rc = get(child, c->exports[k].sort, c->exports[k].index, &ri->items[k], diag)))
            return rc;
    }
    ri->count = c->export_count;
    out->inst = ri;
    return run_starts(child, diag);
}

int eos_cm_instance_new(eos_wasm_store *s, const eos_cm_component *c, const eos_cm_host *h,
                        void *data, eos_cm_instance **out, eos_diag *diag)
{
    int rc;
    *out = NULL;
    if (!s || !c)
        return EOS_EINVAL;
    if (c->engine_missing)
        return eos_diag_set(diag, EOS_EUNAVAILABLE, "instantiate", -1,
                            "the WebAssembly engine is not available in this build, so the "
                            "component cannot be instantiated");
    eos_cm_instance *i = eos_calloc(1, sizeof(*i));
    if (!i)
        return EOS_ENOMEM;
    i->store = s;
    i->host = h;
    i->data = data;
    if (!(i->arena = eos_cm_arena_new())) {
        eos_free(i, sizeof(*i));
        return EOS_ENOMEM;
    }
    if ((rc = ci_new(i, c, &i->top)))
        goto out;
    /* Imports first (so link errors come before any code runs), then every
     * core and component instance in order, then the exports. */
    for (uint32_t k = 0; k < c->import_count; k++) {
        eos_cm__item tmp;
        if ((rc = get(i->top, c->imports[k].sort, c->imports[k].index, &tmp, diag)))
            goto out;
    }
    for (uint32_t k = 0; k < c->spaces[EOS_CM__S_CORE_INSTANCE].len; k++) {
        eos_cm__item tmp;
        if ((rc = get(i->top, EOS_CM__S_CORE_INSTANCE, k, &tmp, diag)))
            goto out;
    }
    for (uint32_t k = 0; k < c->spaces[EOS_CM__S_INSTANCE].len; k++) {
        eos_cm__item tmp;
        if ((rc = get(i->top, EOS_CM__S_INSTANCE, k, &tmp, diag)))
            goto out;
    }
    for (uint32_t k = 0; k < c->export_count; k++) {
        eos_cm__item tmp;
        if ((rc = get(i->top, c->exports[k].sort, c->exports[k].index, &tmp, diag)))
            goto out;
    }
    rc = run_starts(i->top, diag);
out:
    if (rc) {
        eos_cm_instance_free(i);
        return rc;
    }
    *out = i;
    return 0;
}

/* Only host destructors run here: a guest destructor would re-enter an
 * instance that is being torn down (perhaps after a trap), and the canonical
 * ABI runs one only on an explicit drop of an owned handle. */
void eos_cm_instance_free(eos_cm_instance *i)
{
    if (!i)
        return;
    for (eos_cm__ci *ci = i->cis; ci; ci = ci->next) {
        for (uint32_t k = 0; k < ci->table.len; k++) {
            eos_cm__handle *h = &ci->table.v[k];
            if (h->rt && h->own && h->rt->host_dtor)
                h->rt->host_dtor(h->rt->host_ud, i->data, h->rep);
        }
        eos_cm__table_free(&ci->table);
    }
    eos_cm_arena_free(i->arena);
    eos_free(i, sizeof(*i));
}

eos_cm_func *eos_cm_instance_func(eos_cm_instance *i, const char *name)
{
    const eos_cm_component *c = i->top->c;
    const char *hash = strchr(name, '#');
    size_t ilen = hash ? (size_t)(hash - name) : strlen(name);
    for (uint32_t k = 0; k < c->export_count; k++) {
        const eos_cm__export *e = &c->exports[k];
        eos_cm__item *x = &i->top->items[e->sort][e->index];
        if (!hash) {
            if (e->sort == EOS_CM__S_FUNC && strcmp(e->name, name) == 0)
                return x->func;
            continue;
        }
        if (e->sort != EOS_CM__S_INSTANCE || !x->inst)
            continue;
        char want[512];
        if (ilen >= sizeof(want))
            return NULL;
        memcpy(want, name, ilen);
        want[ilen] = 0;
        if (!eos_cm__name_compatible(want, e->name) && !eos_cm__name_compatible(e->name, want))
            continue;
        eos_cm__item *m = rinst_find(x->inst, hash + 1);
        if (m && m->func)
            return m->func;
    }
    return NULL;
}

const eos_cm_functype *eos_cm_func_type(const eos_cm_func *f)
{
    return f->type;
}
