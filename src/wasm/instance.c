/* Instantiation: links imports (checking their types against the module's
 * declarations), creates the instance's own functions, globals, tables and
 * memories, applies active segments in order and runs the start function. */
#include "internal.h"

static bool limits_match(uint64_t size, bool has_max, uint64_t max,
                         const eos_wasm_limits_type *want)
{
    if (size < want->min)
        return false;
    if (want->has_max && (!has_max || max > want->max))
        return false;
    return true;
}

static eos_wasm_store *extern_store(const eos_wasm_extern *ex)
{
    switch (ex->kind) {
    case EOS_WASM_EXTERN_FUNC:
        return ex->of.func ? ex->of.func->store : NULL;
    case EOS_WASM_EXTERN_TABLE:
        return ex->of.table ? ex->of.table->store : NULL;
    case EOS_WASM_EXTERN_MEMORY:
        return ex->of.memory ? ex->of.memory->store : NULL;
    case EOS_WASM_EXTERN_TAG:
        return ex->of.tag ? ex->of.tag->store : NULL;
    default:
        return ex->of.global ? ex->of.global->store : NULL;
    }
}

static int link_import(eos_wasm_instance *inst, const eos_wasm__import *im,
                       const eos_wasm_extern *ex, uint32_t *counts, eos_diag *diag)
{
    const eos_wasm_module *m = inst->module;
    if (ex->kind != im->kind)
        goto mismatch;
    /* Objects of another store could be freed under this one. */
    if (extern_store(ex) != inst->store)
        return eos_diag_set(diag, EOS_EUNLINKABLE, "link", -1,
                            "import \"%.*s\" \"%.*s\" was created in another store",
                            (int)im->module_len, im->module, (int)im->name_len, im->name);
    switch (im->kind) {
    case EOS_WASM_EXTERN_FUNC:
        if (!ex->of.func ||
            !eos_wasm__functype_match(ex->of.func->inst ? ex->of.func->inst->module : NULL,
                                      ex->of.func->type, m, &m->types[im->type_index]))
            goto mismatch;
        inst->funcs[counts[0]++] = ex->of.func;
        return 0;
    case EOS_WASM_EXTERN_TABLE: {
        const eos_wasm_table *t = ex->of.table;
        if (!t ||
            !eos_wasm__val_match(t->ref_mod, t->ref_mod ? t->ref_type : t->type.elem_type, m,
                                 im->table.elem_type, true) ||
            t->type.limits.is64 != im->table.limits.is64 ||
            !limits_match(t->size, t->type.limits.has_max, t->max, &im->table.limits))
            goto mismatch;
        inst->tables[counts[1]++] = ex->of.table;
        return 0;
    }
    case EOS_WASM_EXTERN_MEMORY: {
        const eos_wasm_memory *mem = ex->of.memory;
        if (!mem || mem->type.limits.is64 != im->memory.limits.is64 ||
            eos_wasm__page_log2(&mem->type) != eos_wasm__page_log2(&im->memory) ||
            !limits_match(mem->size >> eos_wasm__page_log2(&mem->type), mem->type.limits.has_max,
                          mem->type.limits.max, &im->memory.limits) ||
            mem->type.shared != im->memory.shared) /* threads: sharing must match */
            goto mismatch;
        inst->memories[counts[2]++] = ex->of.memory;
        return 0;
    }
    case EOS_WASM_EXTERN_TAG:
        if (!ex->of.tag || !eos_wasm__functype_eq(&ex->of.tag->type, &m->types[im->type_index]))
            goto mismatch;
        inst->tags[counts[4]++] = ex->of.tag;
        return 0;
    default: {
        const eos_wasm_global *g = ex->of.global;
        if (!g || g->type.mutable_ != im->global.mutable_ ||
            !eos_wasm__val_match(g->ref_mod, g->ref_mod ? g->ref_type : g->type.valtype, m,
                                 im->global.valtype, im->global.mutable_))
            goto mismatch;
        inst->globals[counts[3]++] = ex->of.global;
        return 0;
    }
    }
mismatch:
    return eos_diag_set(diag, EOS_EUNLINKABLE, "link", -1,
                        "incompatible import type for \"%.*s\" \"%.*s\": the provided %s does "
                        "not match the module's declaration",
                        (int)im->module_len, im->module, (int)im->name_len, im->name,
                        ex->kind == 0   ? "function"
                        : ex->kind == 1 ? "table"
                        : ex->kind == 2 ? "memory"
                        : ex->kind == 3 ? "global"
                                        : "tag");
}

static void body_free(eos_wasm_instance *i)
{
    eos_free(i->funcs, 0);
    eos_free(i->tables, 0);
    eos_free(i->memories, 0);
    eos_free(i->globals, 0);
    eos_free(i->tags, 0);
    eos_free(i->own_funcs, 0);
    eos_free(i->elem_dropped, 0);
    eos_free(i->data_dropped, 0);
    eos_free(i, sizeof(*i));
}

/* A freed instance goes to one of its module's spare slots when one is
 * empty: the next instantiation of the module then finds its arrays
 * allocated and its per-function records written (hello-js has 12,698
 * functions: 800 KB of records, most of a fresh instance's cost). The
 * slots are taken and filled with atomic exchanges, so threads share them
 * without a lock; the module frees what is left with its plan. */
static void instance_free(eos_wasm_instance *i)
{
    eos_wasm_module *m = i->module;
    bool kept = false;
    if (i->own_funcs && i->elem_dropped && i->data_dropped && i->globals) {
        for (uint32_t k = 0; k < EOS_WASM__SPARES && !kept; k++) {
            eos_wasm_instance *none = NULL;
            kept = atomic_compare_exchange_strong_explicit(&m->plan.spares[k], &none, i,
                                                           memory_order_release,
                                                           memory_order_relaxed);
        }
    }
    if (!kept)
        body_free(i);
    eos_wasm_module_free(m);
}

static eos_wasm_instance *spare_take(eos_wasm_module *m)
{
    for (uint32_t k = 0; k < EOS_WASM__SPARES; k++) {
        if (!atomic_load_explicit(&m->plan.spares[k], memory_order_relaxed))
            continue;
        eos_wasm_instance *i =
            atomic_exchange_explicit(&m->plan.spares[k], NULL, memory_order_acquire);
        if (i)
            return i;
    }
    return NULL;
}

void eos_wasm__spares_free(eos_wasm_module *m)
{
    for (uint32_t k = 0; k < EOS_WASM__SPARES; k++) {
        eos_wasm_instance *i = atomic_exchange(&m->plan.spares[k], NULL);
        if (i)
            body_free(i);
    }
}

void eos_wasm__instances_free(eos_wasm_store *s)
{
    while (s->instances) {
        eos_wasm_instance *n = s->instances->next;
        instance_free(s->instances);
        s->instances = n;
    }
}

static int alloc_arrays(eos_wasm_instance *i, const eos_wasm_module *m)
{
    /* funcs and own_funcs are written in full by create_objects and linking:
     * no zeroing (they are the largest arrays, one entry per function). */
    i->funcs = eos_malloc((m->func_count + 1) * sizeof(void *));
    i->tables = eos_calloc(m->table_count + 1, sizeof(void *));
    i->memories = eos_calloc(m->memory_count + 1, sizeof(void *));
    i->globals = eos_calloc(m->global_count + 1, sizeof(void *));
    i->own_funcs = eos_malloc((m->code_count + 1) * sizeof(eos_wasm_func));
    i->elem_dropped = eos_calloc(m->elem_count + 1, 1);
    i->data_dropped = eos_calloc(m->data_count + 1, 1);
    if (!i->funcs || !i->tables || !i->memories || !i->globals || !i->own_funcs ||
        !i->elem_dropped || !i->data_dropped)
        return EOS_ENOMEM;
    return 0;
}

/* The module's functions as this instance's: written unless a spare's
 * records already name this instance and store and carry no compiled code
 * (set on a compiled instance's first call). */
static void own_funcs_init(eos_wasm_instance *inst, bool written)
{
    const eos_wasm_module *m = inst->module;
    if (written && m->code_count && inst->own_funcs[0].store == inst->store)
        return;
    for (uint32_t k = 0; k < m->code_count; k++) {
        eos_wasm_func *f = &inst->own_funcs[k];
        const eos_wasm__code *c = &m->codes[k];
        *f = (eos_wasm_func){.type = &m->types[m->type_canon[c->type_index]],
                             .inst = inst,
                             .code = c,
                             .store = inst->store};
        inst->funcs[m->func_import_count + k] = f;
    }
}

static int create_objects(eos_wasm_store *s, eos_wasm_instance *inst, eos_diag *diag)
{
    eos_wasm_module *m = inst->module;
    int rc;
    for (uint32_t k = m->global_import_count; k < m->global_count; k++) {
        eos_wasm_global *g;
        /* Typed references show as funcref or externref outside the module. */
        eos_wasm_globaltype gt = m->globals[k].type;
        gt.valtype = eos_wasm__val_public(gt.valtype);
        eos_wasm_val zero = {.type = gt.valtype};
        if ((rc = eos_wasm_global_new(s, &gt, zero, &g)) != 0)
            return eos_diag_set(diag, rc, "instantiate", -1, "cannot create global %u", k);
        g->ref_mod = m;
        g->ref_type = m->globals[k].type.valtype;
        if (m->plan.global_const[k]) {
            g->val = m->plan.global_init[k];
        } else if (g->type.valtype == EOS_WASM_V128) {
            uint64_t w[2];
            eos_wasm__eval_expr_v128(inst, &m->globals[k].init, w);
            g->val = w[0];
            g->val_hi = w[1];
        } else {
            eos_wasm__eval_expr(inst, &m->globals[k].init, &g->val);
        }
        inst->globals[k] = g;
    }
    for (uint32_t k = m->table_import_count; k < m->table_count; k++) {
        eos_wasm_tabletype tt = m->tables[k];
        tt.elem_type = eos_wasm__val_public(tt.elem_type);
        eos_wasm_val null = {.type = tt.elem_type};
        if ((rc = eos_wasm_table_new(s, &tt, null, &inst->tables[k])) != 0)
            return eos_diag_set(diag, rc, "instantiate", -1,
                                "cannot create table %u of %llu elements", k,
                                (unsigned long long)m->tables[k].limits.min);
        eos_wasm_table *t = inst->tables[k];
        t->ref_mod = m;
        t->ref_type = m->tables[k].elem_type;
        if (m->table_inits && m->table_inits[k].size) {
            uint64_t v = 0;
            eos_wasm__eval_expr(inst, &m->table_inits[k], &v);
            for (uint64_t i = 0; i < t->size; i++)
                t->elems[i] = (void *)(uintptr_t)v;
            t->written = true;
        }
    }
    for (uint32_t k = m->memory_import_count; k < m->memory_count; k++) {
        if ((rc = eos_wasm__memory_new(s, &m->memories[k], eos_wasm__guard_wanted(m),
                                       &inst->memories[k])) != 0)
            return eos_diag_set(diag, rc, "instantiate", -1,
                                "cannot create memory %u of %llu pages (memory limit?)", k,
                                (unsigned long long)m->memories[k].limits.min);
        if (k == 0 && m->plan.has_image &&
            (rc = eos_wasm__mem_apply_image(inst->memories[0], &m->plan.image)) != 0)
            return eos_diag_set(diag, rc, "instantiate", -1, "cannot map memory 0's image");
    }
    return 0;
}

/* Active element and data segments are applied in order, as table.init and
 * memory.init followed by a drop; a trap stops instantiation but leaves the
 * writes already done (visible through shared tables and memories). */
static int init_segments(eos_wasm_instance *inst, eos_diag *diag)
{
    const eos_wasm_module *m = inst->module;
    for (uint32_t k = 0; k < m->elem_count; k++) {
        const eos_wasm__elem *e = &m->elems[k];
        if (e->mode == EOS_WASM_SEG_ACTIVE) {
            uint64_t off = m->plan.elem_off[k];
            if (off == UINT64_MAX)
                eos_wasm__eval_expr(inst, &e->offset, &off);
            int rc = eos_wasm__table_init(inst, e->table, k, off, 0, e->count);
            if (rc)
                return eos_diag_set(diag, rc, "instantiate", -1,
                                    "out of bounds table access: element segment %u", k);
        }
        if (e->mode != EOS_WASM_SEG_PASSIVE)
            inst->elem_dropped[k] = 1;
    }
    /* With an image, memory 0 already holds every active segment. */
    if (m->plan.has_image) {
        memcpy(inst->data_dropped, m->plan.data_dropped, m->data_count);
        return 0;
    }
    for (uint32_t k = 0; k < m->data_count; k++) {
        const eos_wasm__data *d = &m->datas[k];
        if (d->mode != EOS_WASM_SEG_ACTIVE)
            continue;
        uint64_t off = m->plan.data_off[k];
        if (off == UINT64_MAX)
            eos_wasm__eval_expr(inst, &d->offset, &off);
        int rc = eos_wasm__memory_init(inst, d->memory, k, off, 0, d->size);
        if (rc)
            return eos_diag_set(diag, rc, "instantiate", -1,
                                "out of bounds memory access: data segment %u", k);
        inst->data_dropped[k] = 1;
    }
    return 0;
}

int eos_wasm__ensure_stack(eos_wasm_store *s);

int eos_wasm_instantiate(eos_wasm_store *s, eos_wasm_module *m, const eos_wasm_extern *imports,
                         size_t import_count, eos_wasm_instance **out, eos_diag *diag)
{
    int rc;
    *out = NULL;
    if (import_count != m->import_count)
        return eos_diag_set(diag, EOS_EUNLINKABLE, "link", -1,
                            "the module needs %u imports, %zu were given", m->import_count,
                            import_count);
    eos_wasm_instance *inst = spare_take(m);
    bool written = inst != NULL;
    if (inst) {
        /* Only the dropped flags carry over; linking and create_objects
         * rewrite every other entry. A compiled instance's records hold
         * its code: written afresh. */
        written = inst->tier != EOS_WASM__RUN_COMPILED;
        memset(inst->elem_dropped, 0, m->elem_count + 1);
        memset(inst->data_dropped, 0, m->data_count + 1);
        inst->next = NULL;
        inst->tier = EOS_WASM__RUN_UNSET;
    } else if (!(inst = eos_calloc(1, sizeof(*inst)))) {
        return eos_diag_set(diag, EOS_ENOMEM, "instantiate", -1, "out of memory");
    } else if ((rc = alloc_arrays(inst, m)) != 0) {
        inst->module = eos_wasm_module_ref(m);
        rc = eos_diag_set(diag, rc, "instantiate", -1, "out of memory");
        goto fail;
    }
    inst->store = s;
    inst->module = eos_wasm_module_ref(m);
    own_funcs_init(inst, written);
    uint32_t counts[5] = {0, 0, 0, 0, 0};
    if ((rc = eos_wasm__eh_instance(s, inst)) != 0) {
        rc = eos_diag_set(diag, rc, "instantiate", -1, "out of memory");
        goto fail;
    }
    for (uint32_t k = 0; k < m->import_count; k++)
        if ((rc = link_import(inst, &m->imports[k], &imports[k], counts, diag)) != 0)
            goto fail;
    if ((rc = create_objects(s, inst, diag)) != 0)
        goto fail;
    /* From here the instance is part of the store: segments may have written
     * into shared objects, and its functions may be referenced from tables. */
    inst->next = s->instances;
    s->instances = inst;
    if ((rc = init_segments(inst, diag)) != 0)
        return rc;
    if (m->start >= 0) {
        if ((rc = eos_wasm__ensure_stack(s)) != 0)
            return eos_diag_set(diag, rc, "start", -1, "out of memory for the stack");
        uint64_t none[1];
        rc = eos_wasm__exec(s, inst->funcs[m->start], none);
        if (rc)
            return eos_diag_set(diag, rc, "start", -1, "start function trapped: %s", s->trap_msg);
    }
    *out = inst;
    return 0;
fail:
    instance_free(inst);
    return rc;
}

int eos_wasm_instance_export(eos_wasm_instance *i, const char *name, eos_wasm_extern *out)
{
    return eos_wasm_instance_export_len(i, name, strlen(name), out);
}

int eos_wasm_instance_export_len(eos_wasm_instance *i, const char *name, size_t len,
                                 eos_wasm_extern *out)
{
    const eos_wasm_module *m = i->module;
    int64_t k = eos_wasm__export_find(m, name, len);
    if (k >= 0) {
        const eos_wasm__export *e = &m->exports[k];
        out->kind = e->kind;
        switch (e->kind) {
        case EOS_WASM_EXTERN_FUNC:
            out->of.func = i->funcs[e->index];
            break;
        case EOS_WASM_EXTERN_TABLE:
            out->of.table = i->tables[e->index];
            break;
        case EOS_WASM_EXTERN_MEMORY:
            out->of.memory = i->memories[e->index];
            break;
        case EOS_WASM_EXTERN_TAG:
            out->of.tag = i->tags[e->index];
            break;
        default:
            out->of.global = i->globals[e->index];
            break;
        }
        return 0;
    }
    return EOS_ENOTFOUND;
}

eos_wasm_func *eos_wasm_instance_func(eos_wasm_instance *i, const char *name)
{
    eos_wasm_extern e;
    if (eos_wasm_instance_export(i, name, &e) != 0 || e.kind != EOS_WASM_EXTERN_FUNC)
        return NULL;
    return e.of.func;
}

eos_wasm_memory *eos_wasm_instance_memory(eos_wasm_instance *i, uint32_t index)
{
    return index < i->module->memory_count ? i->memories[index] : NULL;
}

const eos_wasm_module *eos_wasm_instance_module(const eos_wasm_instance *i)
{
    return i->module;
}
