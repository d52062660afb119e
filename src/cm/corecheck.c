/* Validation of core instances before anything runs: the exports a core
 * instance has (from its module or its inline exports), so that aliases name
 * existing exports, and module instantiation arguments that supply every
 * import with an item of a matching kind and type. */
#include <string.h>

#include "internal.h"

/* The kind of a core sort's items, as eos_wasm_externkind. */
static int sort_kind(uint8_t sort)
{
    switch (sort) {
    case EOS_CM__S_CORE_FUNC:
        return EOS_WASM_EXTERN_FUNC;
    case EOS_CM__S_CORE_TABLE:
        return EOS_WASM_EXTERN_TABLE;
    case EOS_CM__S_CORE_MEMORY:
        return EOS_WASM_EXTERN_MEMORY;
    case EOS_CM__S_CORE_GLOBAL:
        return EOS_WASM_EXTERN_GLOBAL;
    case EOS_CM__S_CORE_TAG:
        return EOS_WASM_EXTERN_TAG;
    default:
        return -1;
    }
}

/* The type of core item (sort, index) when it comes from a known module's
 * export; 1 known (full type in *out), 2 only the kind known, -1 unknown. */
static int core_item_type(const eos_cm_component *c, uint8_t sort, uint32_t index,
                          eos_wasm_externtype *out, int depth)
{
    const eos_cm__def *d = eos_cm__def_get(c, sort, index);
    int kind = sort_kind(sort);
    if (!d || kind < 0)
        return -1;
    memset(out, 0, sizeof(*out));
    out->kind = (eos_wasm_externkind)kind;
    if (d->how == EOS_CM__D_ALIAS_CORE) {
        eos_wasm_externtype t;
        int k = eos_cm__core_export_type(c, d->a, d->name, &t, depth + 1);
        if (k == 1 && (int)t.kind == kind) {
            *out = t;
            return 1;
        }
    }
    return 2;
}

int eos_cm__core_export_type(const eos_cm_component *c, uint32_t inst, const char *name,
                             eos_wasm_externtype *out, int depth)
{
    const eos_cm__def *in = eos_cm__def_get(c, EOS_CM__S_CORE_INSTANCE, inst);
    if (!in || depth > 8)
        return -1;
    if (in->how == EOS_CM__D_INSTANTIATE) {
        const eos_cm__def *md = eos_cm__def_get(c, EOS_CM__S_CORE_MODULE, in->a);
        if (!md || md->how != EOS_CM__D_MODULE || !c->modules[md->a])
            return -1;
        const eos_wasm_module *m = c->modules[md->a];
        size_t len = strlen(name);
        for (size_t i = 0, n = eos_wasm_module_export_count(m); i < n; i++) {
            eos_wasm_export_desc e;
            eos_wasm_module_export(m, i, &e);
            if (e.name_len == len && memcmp(e.name, name, len) == 0) {
                *out = e.type;
                return 1;
            }
        }
        return 0;
    }
    if (in->how == EOS_CM__D_EXPORTS) {
        for (uint32_t i = 0; i < in->arg_count; i++)
            if (strcmp(in->args[i].name, name) == 0)
                return core_item_type(c, in->args[i].sort, in->args[i].index, out, depth);
        return 0;
    }
    return -1;
}

static bool limits_match(const eos_wasm_limits_type *want, const eos_wasm_limits_type *have)
{
    if (have->min < want->min)
        return false;
    return !want->has_max || (have->has_max && have->max <= want->max);
}

static bool functype_same(const eos_wasm_functype *a, const eos_wasm_functype *b)
{
    return a->param_count == b->param_count && a->result_count == b->result_count &&
           !memcmp(a->params, b->params, a->param_count) &&
           !memcmp(a->results, b->results, a->result_count);
}

/* Whether an export of type have satisfies an import of type want; *why
 * says why not. */
static bool extern_matches(const eos_wasm_externtype *want, const eos_wasm_externtype *have,
                           bool full, const char **why)
{
    if (want->kind != have->kind) {
        *why = "an import is given an item of another kind";
        return false;
    }
    if (!full)
        return true;
    switch (want->kind) {
    case EOS_WASM_EXTERN_FUNC:
        if (want->of.func && have->of.func && !functype_same(want->of.func, have->of.func)) {
            *why = "an imported function is given one of another type";
            return false;
        }
        return true;
    case EOS_WASM_EXTERN_TABLE:
        if (want->of.table.elem_type != have->of.table.elem_type ||
            !limits_match(&want->of.table.limits, &have->of.table.limits)) {
            *why = "an imported table is given one of another element type or limits";
            return false;
        }
        return true;
    case EOS_WASM_EXTERN_MEMORY:
        if (!limits_match(&want->of.memory.limits, &have->of.memory.limits)) {
            *why = "an imported memory is given one with other limits";
            return false;
        }
        return true;
    case EOS_WASM_EXTERN_GLOBAL:
        if (want->of.global.valtype != have->of.global.valtype ||
            want->of.global.mutable_ != have->of.global.mutable_) {
            *why = "an imported global is given one of another type";
            return false;
        }
        return true;
    case EOS_WASM_EXTERN_TAG:
        if (want->of.tag && have->of.tag && !functype_same(want->of.tag, have->of.tag)) {
            *why = "an imported tag is given one of another type";
            return false;
        }
        return true;
    default:
        return true;
    }
}

int eos_cm__check_core_instantiate(eos_cm__rd *r, const eos_cm__def *d)
{
    const eos_cm_component *c = r->c;
    const char *why = NULL;
    for (uint32_t i = 0; i < d->arg_count && !why; i++)
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(d->args[i].name, d->args[j].name) == 0)
                why = "duplicate module instantiation argument name";
    const eos_cm__def *md = eos_cm__def_get(c, EOS_CM__S_CORE_MODULE, d->a);
    const eos_wasm_module *m = md && md->how == EOS_CM__D_MODULE ? c->modules[md->a] : NULL;
    for (size_t i = 0, n = m ? eos_wasm_module_import_count(m) : 0; i < n && !why; i++) {
        eos_wasm_import_desc im;
        eos_wasm_module_import(m, i, &im);
        const eos_cm__arg *arg = NULL;
        for (uint32_t k = 0; k < d->arg_count && !arg; k++)
            if (strlen(d->args[k].name) == im.module_len &&
                !memcmp(d->args[k].name, im.module, im.module_len))
                arg = &d->args[k];
        if (!arg) {
            why = "missing module instantiation argument";
            break;
        }
        char name[256];
        if (im.name_len >= sizeof(name))
            continue;
        memcpy(name, im.name, im.name_len);
        name[im.name_len] = 0;
        eos_wasm_externtype have;
        int k = eos_cm__core_export_type(c, arg->index, name, &have, 0);
        if (k == 0)
            why = "an instantiation argument does not export an item the module imports";
        else if (k > 0)
            extern_matches(&im.type, &have, k == 1, &why);
    }
    if (!why)
        return 0;
    return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                        "invalid component: %s", why);
}

/* ---- Module types: nested components importing core modules ---------------- */

static eos_cm__mtype *mtype_of_module(eos_cm_arena *a, const eos_wasm_module *m)
{
    eos_cm__mtype *mt = eos_cm_arena_alloc(a, sizeof(*mt));
    if (!mt)
        return NULL;
    size_t ni = eos_wasm_module_import_count(m), ne = eos_wasm_module_export_count(m);
    mt->imports = eos_cm_arena_alloc(a, (ni + 1) * sizeof(eos_cm__coreitem));
    mt->exports = eos_cm_arena_alloc(a, (ne + 1) * sizeof(eos_cm__coreitem));
    if (!mt->imports || !mt->exports)
        return NULL;
    for (size_t i = 0; i < ni; i++) {
        eos_wasm_import_desc d;
        eos_wasm_module_import(m, i, &d);
        eos_cm__coreitem *it = &mt->imports[mt->import_count++];
        it->module = eos_cm__arena_strndup(a, d.module, d.module_len);
        it->name = eos_cm__arena_strndup(a, d.name, d.name_len);
        it->type = d.type;
        if (!it->module || !it->name)
            return NULL;
    }
    for (size_t i = 0; i < ne; i++) {
        eos_wasm_export_desc d;
        eos_wasm_module_export(m, i, &d);
        eos_cm__coreitem *it = &mt->exports[mt->export_count++];
        it->module = "";
        it->name = eos_cm__arena_strndup(a, d.name, d.name_len);
        it->type = d.type;
        if (!it->name)
            return NULL;
    }
    return mt;
}

const eos_cm__mtype *eos_cm__module_type(eos_cm_component *c, uint32_t index)
{
    for (int hops = 0; hops < 64; hops++) {
        const eos_cm__def *d = eos_cm__def_get(c, EOS_CM__S_CORE_MODULE, index);
        if (!d)
            return NULL;
        if (d->type.kind == EOS_CM__T_CORE_MODULE && d->type.of.mod)
            return d->type.of.mod;
        if (d->how == EOS_CM__D_MODULE)
            return c->modules[d->a] ? mtype_of_module(c->arena, c->modules[d->a]) : NULL;
        if (d->how == EOS_CM__D_ALIAS_OUTER && d->name)
            return mtype_of_module(c->arena, (const eos_wasm_module *)(const void *)d->name);
        if (d->how != EOS_CM__D_EXPORT)
            return NULL;
        index = d->a;
    }
    return NULL;
}

static const eos_cm__coreitem *find_item(const eos_cm__coreitem *v, uint32_t n, const char *module,
                                         const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (!strcmp(v[i].name, name) && (!module || !strcmp(v[i].module, module)))
            return &v[i];
    return NULL;
}

int eos_cm__module_match(eos_cm__rd *r, const eos_cm__mtype *want, const eos_cm__mtype *have)
{
    const char *why = NULL, *what = NULL, *mod = "", *name = "";
    for (uint32_t i = 0; i < have->import_count && !what; i++) {
        const eos_cm__coreitem *hi = &have->imports[i];
        const eos_cm__coreitem *wi =
            find_item(want->imports, want->import_count, hi->module, hi->name);
        mod = hi->module, name = hi->name;
        /* What the importer will supply (want's import) must do for have's. */
        if (!wi)
            what = "missing expected import";
        else if (!extern_matches(&hi->type, &wi->type, true, &why))
            what = "type mismatch in import";
    }
    if (what)
        return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                            "invalid component: core module argument: %s `%s::%s` (the module "
                            "imports something the component's import type does not provide)",
                            what, mod, name);
    for (uint32_t i = 0; i < want->export_count && !what; i++) {
        const eos_cm__coreitem *we = &want->exports[i];
        const eos_cm__coreitem *he = find_item(have->exports, have->export_count, NULL, we->name);
        name = we->name;
        if (!he)
            what = "missing expected export";
        else if (!extern_matches(&we->type, &he->type, true, &why))
            what = "type mismatch in export";
    }
    if (what)
        return eos_diag_set(r->diag, EOS_EINVALID, r->step, r->base + (r->p - r->start),
                            "invalid component: core module argument: %s `%s` (the module does "
                            "not export what the component's import type requires)",
                            what, name);
    return 0;
}
