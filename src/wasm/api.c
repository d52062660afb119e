/* Public API glue: module lifetime and introspection, stores and limits,
 * host functions and callers, typed and raw calls, and accessors of
 * memories, tables and globals. */
#include "internal.h"

#include <stdio.h>

void eos_wasm__instances_free(eos_wasm_store *s);
int eos_wasm__ensure_stack(eos_wasm_store *s);

/* ---- modules ---------------------------------------------------------------- */

void eos_wasm__module_clear(eos_wasm_module *m)
{
    eos_wasm__jit_module_free(m);
    eos_wasm__code_free_all(m);
    for (uint32_t i = 0; i < m->elem_count; i++) {
        eos_free(m->elems[i].funcs, 0);
        eos_free(m->elems[i].exprs, 0);
    }
    for (uint32_t i = 0; m->codes && i < m->code_count; i++) {
        eos_free(m->codes[i].local_types, 0);
    }
    eos_wasm__eh_module_clear(m);
    eos_free(m->codes, 0);
    eos_free(m->elems, 0);
    eos_free(m->datas, 0);
    eos_free(m->exports, 0);
    eos_free(m->globals, 0);
    eos_free(m->memories, 0);
    eos_free(m->tables, 0);
    eos_free(m->func_declared, 0);
    eos_free(m->func_types, 0);
    eos_free(m->imports, 0);
    eos_free(m->types, 0);
    eos_free(m->type_canon, 0);
    eos_free(m->type_vals, 0);
    eos_free(m->reftypes, 0);
    eos_free(m->table_inits, 0);
    eos_free(m->types_public, 0);
    eos_free(m->types_public_vals, 0);
    eos_wasm__plan_free(m);
    if (!m->bytes_borrowed)
        eos_free(m->bytes, m->size);
}

int eos_wasm_module_new(const uint8_t *bytes, size_t size, const eos_wasm_features *features,
                        eos_wasm_module **out, eos_diag *diag)
{
    *out = NULL;
    if (!bytes && size)
        return eos_diag_set(diag, EOS_EINVAL, "module", -1, "no module bytes given");
    if (size > UINT32_MAX)
        return eos_diag_set(diag, EOS_ETOOBIG, "module", -1, "the module is larger than 4 GiB");
    eos_wasm_module *m = eos_calloc(1, sizeof(*m));
    if (!m)
        return eos_diag_set(diag, EOS_ENOMEM, "module", -1, "out of memory");
    atomic_init(&m->refs, 1);
    m->start = -1;
    if (features)
        m->features = *features;
    /* The input is read in place; the module keeps a copy of only what
     * instances need once it is ready (eos_wasm__keep_bytes). */
    m->bytes = (uint8_t *)(uintptr_t)(bytes ? bytes : (const uint8_t *)"");
    m->bytes_borrowed = true;
    m->size = size;
    int rc = eos_wasm__decode(m, diag);
    if (rc == 0)
        rc = eos_wasm__validate(m, diag);
    if (rc == 0 && ((rc = eos_wasm__plan_build(m)) != 0 || (rc = eos_wasm__keep_bytes(m)) != 0))
        rc = eos_diag_set(diag, rc, "module", -1, "out of memory preparing instantiation");
    /* After keep_bytes: a background compilation reads the module's own copy. */
    if (rc == 0)
        rc = eos_wasm__jit_module_loaded(m, diag);
    if (rc) {
        eos_wasm__module_clear(m);
        eos_free(m, sizeof(*m));
        return rc;
    }
    *out = m;
    return 0;
}

eos_wasm_module *eos_wasm_module_ref(eos_wasm_module *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void eos_wasm_module_free(eos_wasm_module *m)
{
    if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    eos_wasm__module_clear(m);
    eos_free(m, sizeof(*m));
}

static eos_wasm_externtype externtype_of(const eos_wasm_module *m, uint8_t kind, uint32_t idx)
{
    eos_wasm_externtype t;
    memset(&t, 0, sizeof(t));
    t.kind = kind;
    switch (kind) {
    case EOS_WASM_EXTERN_FUNC:
        t.of.func = eos_wasm__functype_public(m, &m->types[m->func_types[idx]]);
        break;
    case EOS_WASM_EXTERN_TABLE:
        t.of.table = m->tables[idx];
        t.of.table.elem_type = eos_wasm__val_public(t.of.table.elem_type);
        break;
    case EOS_WASM_EXTERN_MEMORY:
        t.of.memory = m->memories[idx];
        break;
    case EOS_WASM_EXTERN_TAG:
        t.of.tag = &m->types[m->tag_types[idx]];
        break;
    default:
        t.of.global = m->globals[idx].type;
        t.of.global.valtype = eos_wasm__val_public(t.of.global.valtype);
        break;
    }
    return t;
}

size_t eos_wasm_module_import_count(const eos_wasm_module *m)
{
    return m->import_count;
}

void eos_wasm_module_import(const eos_wasm_module *m, size_t index, eos_wasm_import_desc *out)
{
    const eos_wasm__import *im = &m->imports[index];
    out->module = im->module;
    out->module_len = im->module_len;
    out->name = im->name;
    out->name_len = im->name_len;
    memset(&out->type, 0, sizeof(out->type));
    out->type.kind = im->kind;
    switch (im->kind) {
    case EOS_WASM_EXTERN_FUNC:
        out->type.of.func = eos_wasm__functype_public(m, &m->types[im->type_index]);
        break;
    case EOS_WASM_EXTERN_TABLE:
        out->type.of.table = im->table;
        out->type.of.table.elem_type = eos_wasm__val_public(im->table.elem_type);
        break;
    case EOS_WASM_EXTERN_MEMORY:
        out->type.of.memory = im->memory;
        break;
    case EOS_WASM_EXTERN_TAG:
        out->type.of.tag = &m->types[im->type_index];
        break;
    default:
        out->type.of.global = im->global;
        out->type.of.global.valtype = eos_wasm__val_public(im->global.valtype);
        break;
    }
}

size_t eos_wasm_module_export_count(const eos_wasm_module *m)
{
    return m->export_count;
}

void eos_wasm_module_export(const eos_wasm_module *m, size_t index, eos_wasm_export_desc *out)
{
    const eos_wasm__export *e = &m->exports[index];
    out->name = e->name;
    out->name_len = e->name_len;
    out->type = externtype_of(m, e->kind, e->index);
}

bool eos_wasm_functype_equal(const eos_wasm_functype *a, const eos_wasm_functype *b)
{
    return eos_wasm__functype_eq(a, b);
}

eos_wasm_tier eos_wasm_instance_tier(const eos_wasm_instance *i)
{
    return i->tier == EOS_WASM__RUN_COMPILED ? EOS_WASM_TIER_COMPILED : EOS_WASM_TIER_INTERP;
}

/* ---- stores -------------------------------------------------------------- */

int eos_wasm_store_new(const eos_wasm_limits *limits, eos_wasm_store **out)
{
    *out = NULL;
    eos_wasm_store *s = eos_calloc(1, sizeof(*s));
    if (!s)
        return EOS_ENOMEM;
    if (limits)
        s->limits = *limits;
    if (!s->limits.native_stack_size)
        s->limits.native_stack_size = 256 * 1024;
    if (!s->limits.max_call_depth)
        s->limits.max_call_depth = 10000;
    eos_wasm_store_set_fuel(s, s->limits.fuel);
    *out = s;
    return 0;
}

/* The value and frame stacks are allocated on the first call, so a store
 * that never runs code costs one small allocation. */
int eos_wasm__ensure_stack(eos_wasm_store *s)
{
    if (s->stack)
        return 0;
    uint32_t depth = s->limits.max_call_depth;
    size_t slots = (size_t)depth * 16;
    if (slots < 65536)
        slots = 65536;
    if (slots > (64u << 20))
        slots = 64u << 20;
    s->stack = eos_malloc(slots * sizeof(uint64_t));
    s->frames = eos_malloc(((size_t)depth + 1) * sizeof(eos_wasm__frame));
    if (!s->stack || !s->frames) {
        eos_free(s->stack, slots * sizeof(uint64_t));
        eos_free(s->frames, ((size_t)depth + 1) * sizeof(eos_wasm__frame));
        s->stack = NULL;
        s->frames = NULL;
        return EOS_ENOMEM;
    }
    s->stack_end = s->stack + slots;
    s->sp = s->stack;
    s->frame_cap = depth;
    return 0;
}

void eos_wasm_store_free(eos_wasm_store *s)
{
    if (!s)
        return;
    eos_wasm__snapshot_free(s->snapshot);
    eos_wasm__instances_free(s);
    eos_wasm__obj *o = s->objs;
    while (o) {
        eos_wasm__obj *next = o->next;
        switch (o->kind) {
        case EOS_WASM__OBJ_FUNC: {
            eos_wasm__host_func *h = (eos_wasm__host_func *)o;
            eos_free((void *)h->own_type.params, 0);
            eos_free(h, sizeof(*h));
            break;
        }
        case EOS_WASM__OBJ_MEM: {
            eos_wasm_memory *m = (eos_wasm_memory *)o;
            eos_wasm__mem_unmap(m);
            eos_free(m, sizeof(*m));
            break;
        }
        case EOS_WASM__OBJ_TABLE: {
            eos_wasm_table *t = (eos_wasm_table *)o;
            eos_free(t->elems, 0);
            eos_free(t, sizeof(*t));
            break;
        }
        default:
            eos_free(o, sizeof(eos_wasm_global));
            break;
        }
        o = next;
    }
    eos_wasm__eh_store_free(s);
    eos_free(s->stack, 0);
    eos_free(s->frames, 0);
    eos_free(s, sizeof(*s));
}

void eos_wasm_store_set_fuel(eos_wasm_store *s, uint64_t fuel)
{
    s->fuel_set = fuel == 0 || fuel > INT64_MAX ? INT64_MAX : (int64_t)fuel;
    eos_wasm__fuel_fill(s, s->fuel_set);
}

uint64_t eos_wasm_store_fuel_consumed(const eos_wasm_store *s)
{
    return (uint64_t)(s->fuel_set - (s->fuel + s->fuel_bank));
}

void eos_wasm_store_set_data(eos_wasm_store *s, void *data)
{
    s->data = data;
}

void *eos_wasm_store_data(const eos_wasm_store *s)
{
    return s->data;
}

/* ---- host functions ------------------------------------------------------ */

int eos_wasm_func_new_host(eos_wasm_store *s, const eos_wasm_functype *type, eos_wasm_host_fn fn,
                           void *ud, eos_wasm_func **out)
{
    *out = NULL;
    eos_wasm__host_func *h = eos_calloc(1, sizeof(*h));
    if (!h)
        return EOS_ENOMEM;
    size_t n = (size_t)type->param_count + type->result_count;
    uint8_t *vals = eos_malloc(n ? n : 1);
    if (!vals) {
        eos_free(h, sizeof(*h));
        return EOS_ENOMEM;
    }
    eos_wasm_func *f = &h->f;
    if (type->param_count)
        memcpy(vals, type->params, type->param_count);
    if (type->result_count)
        memcpy(vals + type->param_count, type->results, type->result_count);
    h->own_type.param_count = type->param_count;
    h->own_type.result_count = type->result_count;
    h->own_type.params = vals;
    h->own_type.results = vals + type->param_count;
    f->type = &h->own_type;
    f->store = s;
    f->host = fn;
    f->ud = ud;
    h->obj.kind = EOS_WASM__OBJ_FUNC;
    h->obj.next = s->objs;
    s->objs = &h->obj;
    *out = f;
    return 0;
}

eos_wasm_store *eos_wasm_caller_store(eos_wasm_caller *c)
{
    return c->store;
}

eos_wasm_instance *eos_wasm_caller_instance(eos_wasm_caller *c)
{
    return c->inst;
}

int eos_wasm_caller_trap(eos_wasm_caller *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->store->trap_msg, sizeof(c->store->trap_msg), fmt, ap);
    va_end(ap);
    return code;
}

/* ---- calls ------------------------------------------------------------------ */

const eos_wasm_functype *eos_wasm_func_type(const eos_wasm_func *f)
{
    if (f->inst)
        return eos_wasm__functype_public(f->inst->module, f->type);
    return f->type;
}

int eos_wasm_func_call_raw(eos_wasm_store *s, eos_wasm_func *f, uint64_t *slots, eos_diag *diag)
{
    if (f->store != s)
        return eos_diag_set(diag, EOS_EINVAL, "call", -1, "the function belongs to another store");
    int rc = eos_wasm__ensure_stack(s);
    if (rc)
        return eos_diag_set(diag, rc, "call", -1, "out of memory for the call stack");
    rc = eos_wasm__exec(s, f, slots);
    if (rc)
        return eos_diag_set(diag, rc, "trap", -1, "%s", s->trap_msg);
    return 0;
}

int eos_wasm_func_call(eos_wasm_store *s, eos_wasm_func *f, const eos_wasm_val *args,
                       size_t arg_count, eos_wasm_val *results, size_t result_count, eos_diag *diag)
{
    const eos_wasm_functype *t = f->type;
    if (arg_count != t->param_count || result_count != t->result_count)
        return eos_diag_set(diag, EOS_EINVAL, "call", -1,
                            "the function takes %u arguments and returns %u results; %zu and "
                            "%zu were given",
                            t->param_count, t->result_count, arg_count, result_count);
    for (size_t i = 0; i < arg_count; i++)
        if (args[i].type != eos_wasm__val_public(t->params[i]) ||
            !eos_wasm__ref_value_ok(f->inst ? f->inst->module : NULL, t->params[i], &args[i]))
            return eos_diag_set(diag, EOS_EINVAL, "call", -1,
                                "argument %zu has type 0x%02x, the function expects 0x%02x", i,
                                args[i].type, t->params[i]);
    /* v128 values take two slots. */
    size_t na = eos_wasm__slots_of(t->params, t->param_count);
    size_t nr = eos_wasm__slots_of(t->results, t->result_count);
    size_t n = na > nr ? na : nr;
    uint64_t local[16];
    uint64_t *slots = n <= 16 ? local : eos_malloc(n * sizeof(uint64_t));
    if (!slots)
        return eos_diag_set(diag, EOS_ENOMEM, "call", -1, "out of memory");
    for (size_t i = 0, k = 0; i < arg_count; i++)
        k += eos_wasm__val_to_slots(&args[i], slots + k);
    int rc = eos_wasm_func_call_raw(s, f, slots, diag);
    if (rc == 0)
        for (size_t i = 0, k = 0; i < result_count; i++)
            k += eos_wasm__slots_to_val(eos_wasm__val_public(t->results[i]), slots + k,
                                        &results[i]);
    if (slots != local)
        eos_free(slots, n * sizeof(uint64_t));
    return rc;
}

/* ---- memories, tables, globals ------------------------------------------- */

uint8_t *eos_wasm_memory_data(eos_wasm_memory *m)
{
    return m->data;
}

uint64_t eos_wasm_memory_size(const eos_wasm_memory *m)
{
    return m->size;
}

void *eos_wasm_memory_ptr(eos_wasm_memory *m, uint64_t offset, uint64_t size)
{
    if (offset > m->size || size > m->size - offset)
        return NULL;
    return m->data + offset;
}

int eos_wasm_memory_grow(eos_wasm_memory *m, uint64_t delta, uint64_t *out_old_pages)
{
    uint64_t old;
    int rc = eos_wasm__memory_grow(m, delta, &old);
    if (out_old_pages)
        *out_old_pages = old;
    return rc;
}

eos_wasm_memorytype eos_wasm_memory_type(const eos_wasm_memory *m)
{
    eos_wasm_memorytype t = m->type;
    t.limits.min = m->size >> eos_wasm__page_log2(&m->type);
    return t;
}

uint64_t eos_wasm_table_size(const eos_wasm_table *t)
{
    return t->size;
}

int eos_wasm_table_get(const eos_wasm_table *t, uint64_t index, eos_wasm_val *out)
{
    if (index >= t->size)
        return EOS_ERANGE;
    memset(out, 0, sizeof(*out));
    out->type = t->type.elem_type;
    if (out->type == EOS_WASM_FUNCREF)
        out->of.funcref = t->elems[index];
    else
        out->of.externref = t->elems[index];
    return 0;
}

int eos_wasm_table_set(eos_wasm_table *t, uint64_t index, eos_wasm_val value)
{
    if (index >= t->size)
        return EOS_ERANGE;
    if (value.type != t->type.elem_type)
        return EOS_EINVAL;
    if (value.type == EOS_WASM_FUNCREF && value.of.funcref && value.of.funcref->store != t->store)
        return EOS_EINVAL;
    if (t->ref_mod && !eos_wasm__ref_value_ok(t->ref_mod, t->ref_type, &value))
        return EOS_EINVAL;
    t->elems[index] =
        value.type == EOS_WASM_FUNCREF ? (void *)value.of.funcref : value.of.externref;
    t->written = true;
    return 0;
}

eos_wasm_tabletype eos_wasm_table_type(const eos_wasm_table *t)
{
    eos_wasm_tabletype ty = t->type;
    ty.limits.min = t->size;
    return ty;
}

eos_wasm_val eos_wasm_global_get(const eos_wasm_global *g)
{
    eos_wasm_val v;
    uint64_t w[2] = {g->val, g->val_hi};
    eos_wasm__slots_to_val(g->type.valtype, w, &v);
    return v;
}

int eos_wasm_global_set(eos_wasm_global *g, eos_wasm_val value)
{
    if (!g->type.mutable_)
        return EOS_EPERM;
    if (value.type != g->type.valtype)
        return EOS_EINVAL;
    if (value.type == EOS_WASM_FUNCREF && value.of.funcref && value.of.funcref->store != g->store)
        return EOS_EINVAL;
    if (g->ref_mod && !eos_wasm__ref_value_ok(g->ref_mod, g->ref_type, &value))
        return EOS_EINVAL;
    uint64_t w[2] = {0, 0};
    eos_wasm__val_to_slots(&value, w);
    g->val = w[0];
    g->val_hi = w[1];
    return 0;
}

eos_wasm_globaltype eos_wasm_global_type(const eos_wasm_global *g)
{
    return g->type;
}

eos_wasm_externtype eos_wasm_extern_type(const eos_wasm_extern *e)
{
    eos_wasm_externtype t;
    memset(&t, 0, sizeof(t));
    t.kind = e->kind;
    switch (e->kind) {
    case EOS_WASM_EXTERN_FUNC:
        t.of.func = e->of.func->type;
        break;
    case EOS_WASM_EXTERN_TABLE:
        t.of.table = eos_wasm_table_type(e->of.table);
        break;
    case EOS_WASM_EXTERN_MEMORY:
        t.of.memory = eos_wasm_memory_type(e->of.memory);
        break;
    case EOS_WASM_EXTERN_TAG:
        t.of.tag = eos_wasm_tag_type(e->of.tag);
        break;
    default:
        t.of.global = e->of.global->type;
        break;
    }
    return t;
}
