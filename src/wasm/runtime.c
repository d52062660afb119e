/* Run-time objects of a store: memories, tables, globals, instances (linking,
 * initialisation of globals and segments, start function), and the segment
 * operations shared by instantiation and the bulk-memory instructions. */
#include "internal.h"

#include <stdio.h>

static void obj_link(eos_wasm_store *s, eos_wasm__obj *o, uint8_t kind)
{
    o->kind = kind;
    o->next = s->objs;
    s->objs = o;
}

bool eos_wasm__functype_eq(const eos_wasm_functype *a, const eos_wasm_functype *b)
{
    if (a == b)
        return true;
    return a->param_count == b->param_count && a->result_count == b->result_count &&
           (a->param_count == 0 || memcmp(a->params, b->params, a->param_count) == 0) &&
           (a->result_count == 0 || memcmp(a->results, b->results, a->result_count) == 0);
}

/* ---- memories ------------------------------------------------------------- */

static uint64_t memory_cap(const eos_wasm_store *s)
{
    return s->limits.max_memory_bytes ? s->limits.max_memory_bytes : UINT64_MAX;
}

/* The most pages a memory type allows: 4 GiB of addresses for i32, 2^64
 * bytes for i64 (2^48 pages of 64 KiB). */
static uint64_t memory_type_pages(const eos_wasm_memorytype *type)
{
    unsigned p = eos_wasm__page_log2(type);
    if (!type->limits.is64)
        return UINT64_C(1) << (32 - p);
    return p ? UINT64_C(1) << (64 - p) : UINT64_MAX;
}

/* The most pages a memory may really reach in s: its type's maximum, and
 * never more bytes than the store's limit or, without one, 4 GiB, so that
 * pages times page size always fits 64 bits. */
static uint64_t memory_pages(const eos_wasm_store *s, const eos_wasm_memorytype *type)
{
    unsigned p = eos_wasm__page_log2(type);
    uint64_t bytes = s->limits.max_memory_bytes ? s->limits.max_memory_bytes : UINT64_C(1) << 32;
    uint64_t pages = bytes >> p;
    if (type->limits.has_max && type->limits.max < pages)
        pages = type->limits.max;
    return pages < memory_type_pages(type) ? pages : memory_type_pages(type);
}

int eos_wasm_memory_new(eos_wasm_store *s, const eos_wasm_memorytype *type, eos_wasm_memory **out)
{
    return eos_wasm__memory_new(s, type, false, out);
}

int eos_wasm__memory_new(eos_wasm_store *s, const eos_wasm_memorytype *type, bool guard,
                         eos_wasm_memory **out)
{
    *out = NULL;
    const eos_wasm_limits_type *l = &type->limits;
    unsigned p = eos_wasm__page_log2(type);
    uint64_t type_pages = memory_type_pages(type);
    if (l->min > type_pages || (l->has_max && (l->max > type_pages || l->max < l->min)) ||
        (type->page_size != 0 && type->page_size != 1 && type->page_size != EOS_WASM_PAGE_SIZE) ||
        (type->shared && !l->has_max)) /* threads: a shared memory has a maximum */
        return EOS_EINVAL;
    /* The pages a memory of this type may really have (memory_pages). */
    if (l->min > memory_pages(s, type))
        return EOS_ELIMIT;
    uint64_t size = l->min << p;
    if (size > memory_cap(s) - s->memory_total)
        return EOS_ELIMIT;
    eos_wasm_memory *m = eos_calloc(1, sizeof(*m));
    if (!m)
        return EOS_ENOMEM;
    /* Address space for the largest the memory may become, so growth never
     * moves it; pages come zeroed from the kernel. The base is never NULL,
     * even for an empty memory, so pointer arithmetic stays defined. */
    uint64_t max_pages = memory_pages(s, type);
    uint64_t reserve = max_pages << p;
    if (reserve > memory_cap(s))
        reserve = memory_cap(s);
    m->store = s;
    /* A guarded memory that cannot be had (address space or the handler's
     * registry full) is mapped as usual: its instance then runs
     * interpreted, slower but correct. */
    if (guard && eos_wasm__guard_map(m, size) != 0) {
        static atomic_bool warned;
        if (!atomic_exchange(&warned, true))
            EOS_WARN("wasm", "no address space for a guarded memory: its instance is "
                             "interpreted (said once)");
    }
    if (!m->guarded && eos_wasm__mem_map(m, size, reserve) != 0) {
        eos_free(m, sizeof(*m));
        return EOS_ENOMEM;
    }
    m->type = *type;
    m->max_pages = max_pages;
    s->memory_total += size;
    obj_link(s, &m->obj, EOS_WASM__OBJ_MEM);
    *out = m;
    return 0;
}

int eos_wasm__memory_grow(eos_wasm_memory *m, uint64_t delta, uint64_t *out_old_pages)
{
    unsigned p = eos_wasm__page_log2(&m->type);
    uint64_t old = m->size >> p;
    *out_old_pages = old;
    if (delta == 0)
        return 0;
    if (delta > m->max_pages || old + delta > m->max_pages)
        return EOS_ELIMIT;
    uint64_t add = delta << p;
    eos_wasm_store *s = m->store;
    if (add > memory_cap(s) - s->memory_total)
        return EOS_ELIMIT;
    if (eos_wasm__mem_resize(m, m->size + add) != 0)
        return EOS_ELIMIT;
    s->memory_total += add;
    return 0;
}

/* ---- tables --------------------------------------------------------------- */

static uint64_t table_cap(const eos_wasm_store *s)
{
    return s->limits.max_table_elems ? s->limits.max_table_elems : 10000000u;
}

int eos_wasm_table_new(eos_wasm_store *s, const eos_wasm_tabletype *type, eos_wasm_val init,
                       eos_wasm_table **out)
{
    *out = NULL;
    if (type->limits.min > table_cap(s) ||
        (type->limits.has_max && type->limits.max < type->limits.min))
        return EOS_ELIMIT;
    if (type->elem_type == EOS_WASM_FUNCREF && init.of.funcref && init.of.funcref->store != s)
        return EOS_EINVAL;
    eos_wasm_table *t = eos_calloc(1, sizeof(*t));
    if (!t)
        return EOS_ENOMEM;
    t->elems = eos_calloc(type->limits.min ? type->limits.min : 1, sizeof(void *));
    if (!t->elems) {
        eos_free(t, sizeof(*t));
        return EOS_ENOMEM;
    }
    void *v = type->elem_type == EOS_WASM_FUNCREF ? (void *)init.of.funcref : init.of.externref;
    for (uint64_t i = 0; v && i < type->limits.min; i++)
        t->elems[i] = v;
    t->size = type->limits.min;
    t->max = type->limits.has_max ? type->limits.max : UINT32_MAX;
    t->type = *type;
    t->store = s;
    obj_link(s, &t->obj, EOS_WASM__OBJ_TABLE);
    *out = t;
    return 0;
}

int eos_wasm__table_grow(eos_wasm_table *t, uint64_t delta, void *init, uint64_t *out_old)
{
    *out_old = t->size;
    if (delta == 0)
        return 0;
    uint64_t n = t->size + delta;
    if (delta > t->max || n > t->max || n > table_cap(t->store))
        return EOS_ELIMIT;
    void **p = eos_realloc(t->elems, (t->size ? t->size : 1) * sizeof(void *), n * sizeof(void *));
    if (!p)
        return EOS_ELIMIT;
    for (uint64_t i = t->size; i < n; i++)
        p[i] = init;
    t->elems = p;
    t->written = true;
    t->size = n;
    return 0;
}

int eos_wasm__table_copy(eos_wasm_table *dt, eos_wasm_table *st, uint64_t d, uint64_t s, uint64_t n)
{
    /* Written so that no sum wraps (64-bit operands of table64). */
    if (n > st->size || s > st->size - n || n > dt->size || d > dt->size - n)
        return EOS_TRAP_TABLE_OOB;
    if (n)
        memmove(dt->elems + d, st->elems + s, n * sizeof(void *));
    dt->written = true;
    return 0;
}

/* ---- globals -------------------------------------------------------------- */

int eos_wasm_global_new(eos_wasm_store *s, const eos_wasm_globaltype *type, eos_wasm_val value,
                        eos_wasm_global **out)
{
    *out = NULL;
    if (value.type != type->valtype)
        return EOS_EINVAL;
    if (value.type == EOS_WASM_FUNCREF && value.of.funcref && value.of.funcref->store != s)
        return EOS_EINVAL;
    eos_wasm_global *g = eos_calloc(1, sizeof(*g));
    if (!g)
        return EOS_ENOMEM;
    g->store = s;
    g->type = *type;
    uint64_t w[2] = {0, 0};
    eos_wasm__val_to_slots(&value, w);
    g->val = w[0];
    g->val_hi = w[1];
    obj_link(s, &g->obj, EOS_WASM__OBJ_GLOBAL);
    *out = g;
    return 0;
}

/* ---- constant expressions and segments ----------------------------------- */

/* Evaluates e for inst, or, with inst NULL, only when it needs no instance
 * (EOS_EAGAIN when it reads a global or names a function). */
static int eval_in(const eos_wasm_module *m, eos_wasm_instance *inst, const eos_wasm__expr *e,
                   uint64_t *out, uint64_t *out_hi)
{
    uint64_t st[256];
    uint32_t n = 0;
    eos_wasm__rd r;
    eos_wasm__rd_init(&r, m->bytes + e->off, e->size, NULL);
    for (;;) {
        uint8_t op;
        int64_t sv;
        uint32_t idx;
        if (eos_wasm__rd_byte(&r, &op))
            return EOS_EINVALID;
        switch (op) {
        case 0x0b:
            /* A v128 result takes two entries (only when out_hi is given). */
            if (n == 2 && !out_hi)
                return EOS_EAGAIN;
            *out = st[0];
            if (out_hi)
                *out_hi = n == 2 ? st[1] : 0;
            return 0;
        case 0xfd:
            eos_wasm__rd_u32(&r, &idx);
            memcpy(&st[n], r.p, 8);
            memcpy(&st[n + 1], r.p + 8, 8);
            r.p += 16;
            n += 2;
            break;
        case 0x41:
            eos_wasm__rd_sleb(&r, 32, &sv);
            st[n++] = (uint32_t)sv;
            break;
        case 0x42:
            eos_wasm__rd_sleb(&r, 64, &sv);
            st[n++] = (uint64_t)sv;
            break;
        case 0x43: {
            uint32_t b;
            memcpy(&b, r.p, 4);
            r.p += 4;
            st[n++] = b;
            break;
        }
        case 0x44: {
            uint64_t b;
            memcpy(&b, r.p, 8);
            r.p += 8;
            st[n++] = b;
            break;
        }
        case 0x23:
            eos_wasm__rd_u32(&r, &idx);
            if (!inst)
                return EOS_EAGAIN;
            st[n++] = inst->globals[idx]->val;
            if (inst->globals[idx]->type.valtype == EOS_WASM_V128)
                st[n++] = inst->globals[idx]->val_hi;
            break;
        case 0xd0: {
            int64_t heap; /* a heap type: s33 */
            eos_wasm__rd_sleb(&r, 33, &heap);
            st[n++] = 0;
            break;
        }
        case 0xd2:
            eos_wasm__rd_u32(&r, &idx);
            if (!inst)
                return EOS_EAGAIN;
            st[n++] = (uint64_t)(uintptr_t)inst->funcs[idx];
            break;
        case 0x6a:
            n--;
            st[n - 1] = (uint32_t)(st[n - 1] + st[n]);
            break;
        case 0x6b:
            n--;
            st[n - 1] = (uint32_t)(st[n - 1] - st[n]);
            break;
        case 0x6c:
            n--;
            st[n - 1] = (uint32_t)(st[n - 1] * st[n]);
            break;
        case 0x7c:
            n--;
            st[n - 1] = st[n - 1] + st[n];
            break;
        case 0x7d:
            n--;
            st[n - 1] = st[n - 1] - st[n];
            break;
        case 0x7e:
            n--;
            st[n - 1] = st[n - 1] * st[n];
            break;
        default:
            return EOS_EINVALID;
        }
    }
}

int eos_wasm__eval_expr(eos_wasm_instance *inst, const eos_wasm__expr *e, uint64_t *out)
{
    return eval_in(inst->module, inst, e, out, NULL);
}

int eos_wasm__eval_expr_v128(eos_wasm_instance *inst, const eos_wasm__expr *e, uint64_t *out)
{
    return eval_in(inst->module, inst, e, &out[0], &out[1]);
}

int eos_wasm__eval_const(const eos_wasm_module *m, const eos_wasm__expr *e, uint64_t *out)
{
    return eval_in(m, NULL, e, out, NULL);
}

int eos_wasm__table_init(eos_wasm_instance *inst, uint32_t tab, uint32_t seg, uint64_t d,
                         uint64_t s, uint64_t n)
{
    eos_wasm_table *t = inst->tables[tab];
    const eos_wasm__elem *e = &inst->module->elems[seg];
    uint64_t count = inst->elem_dropped[seg] ? 0 : e->count;
    if (n > count || s > count - n || n > t->size || d > t->size - n)
        return EOS_TRAP_TABLE_OOB;
    for (uint64_t k = 0; k < n; k++) {
        void *v;
        if (e->funcs) {
            v = inst->funcs[e->funcs[s + k]];
        } else {
            uint64_t x = 0;
            eos_wasm__eval_expr(inst, &e->exprs[s + k], &x);
            v = (void *)(uintptr_t)x;
        }
        t->elems[d + k] = v;
    }
    t->written = true;
    return 0;
}

int eos_wasm__memory_init(eos_wasm_instance *inst, uint32_t mem, uint32_t seg, uint64_t d,
                          uint64_t s, uint64_t n)
{
    eos_wasm_memory *m = inst->memories[mem];
    const eos_wasm__data *ds = &inst->module->datas[seg];
    uint64_t size = inst->data_dropped[seg] ? 0 : ds->size;
    if (n > size || s > size - n || n > m->size || d > m->size - n)
        return EOS_TRAP_MEMORY_OOB;
    if (n)
        memcpy(m->data + d, inst->module->bytes + ds->off + s, n);
    return 0;
}
