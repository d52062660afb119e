/* The canonical ABI: loading and storing component values in guest linear
 * memory, lifting and lowering flat core values, spilling argument and result
 * lists through memory, and the per-instance handle tables. Every guest
 * pointer, length, discriminant and handle is checked; violations trap with
 * EOS_TRAP_CANON and say exactly what was wrong. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Lifting a list allocates one eos_cm_val per element: cap it so a guest
 * cannot make the host allocate without bound. */
#define EOS_CM__MAX_LIFT_ITEMS (16u << 20)

int eos_cm__trap(eos_cm__cx *cx, const char *fmt, ...)
{
    if (cx->diag && cx->diag->code == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cx->diag->message, sizeof(cx->diag->message), fmt, ap);
        va_end(ap);
        cx->diag->code = EOS_TRAP_CANON;
        cx->diag->step = "canonical ABI";
        cx->diag->offset = -1;
    }
    return EOS_TRAP_CANON;
}

uint8_t *eos_cm__mem(eos_cm__cx *cx, uint64_t ptr, uint64_t size)
{
    if (cx->mock_mem) {
        if (ptr > cx->mock_size || size > cx->mock_size - ptr)
            return NULL;
        return cx->mock_mem + ptr;
    }
    if (!cx->memory)
        return NULL;
    return eos_wasm_memory_ptr(cx->memory, ptr, size);
}

int eos_cm__realloc(eos_cm__cx *cx, uint32_t old, uint32_t old_size, uint32_t align,
                    uint32_t new_size, uint32_t *out)
{
    uint32_t p;
    if (cx->mock_realloc) {
        p = cx->mock_realloc(cx->mock_ud, old, old_size, align, new_size);
    } else {
        if (!cx->realloc)
            return eos_cm__trap(cx, "the guest has no realloc function to receive the value");
        /* The type was checked when the component was validated or linked,
         * so the unchecked call is safe and spares the per-call checks. */
        uint64_t slots[4] = {old, old_size, align, new_size};
        int rc = eos_wasm_func_call_raw(cx->store, cx->realloc, slots, cx->diag);
        if (rc)
            return rc;
        p = (uint32_t)slots[0];
    }
    if (p & (align - 1))
        return eos_cm__trap(cx, "realloc returned %u, not aligned to %u", p, align);
    if (!eos_cm__mem(cx, p, new_size))
        return eos_cm__trap(cx, "realloc returned [%u, +%u), outside linear memory", p, new_size);
    *out = p;
    return 0;
}

static uint32_t align_to(uint32_t n, uint32_t a)
{
    return (n + a - 1) / a * a;
}

static uint32_t disc_size(uint32_t n)
{
    return n <= 256 ? 1 : n <= 65536 ? 2 : 4;
}

static uint64_t rd_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* ---- Handles --------------------------------------------------------------- */

int eos_cm__table_add(eos_cm__cx *cx, eos_cm__table *t, eos_cm__handle h, uint32_t *out)
{
    uint32_t i;
    if (t->free_head) {
        i = t->free_head - 1;
        t->free_head = t->v[i].next_free;
    } else {
        if (t->len >= (1u << 28))
            return eos_cm__trap(cx, "handle table is full");
        if (t->len == t->cap) {
            uint32_t n = t->cap ? t->cap * 2 : 16;
            eos_cm__handle *v = eos_realloc(t->v, t->cap * sizeof(*v), n * sizeof(*v));
            if (!v)
                return EOS_ENOMEM;
            t->v = v;
            t->cap = n;
        }
        i = t->len++;
    }
    h.next_free = 0;
    t->v[i] = h;
    *out = i + 1; /* handle 0 is never valid */
    return 0;
}

eos_cm__handle *eos_cm__table_get(eos_cm__table *t, uint32_t idx)
{
    if (idx == 0 || idx > t->len || !t->v[idx - 1].rt)
        return NULL;
    return &t->v[idx - 1];
}

int eos_cm__table_remove(eos_cm__cx *cx, eos_cm__table *t, uint32_t idx, eos_cm__handle *out)
{
    eos_cm__handle *h = eos_cm__table_get(t, idx);
    if (!h)
        return eos_cm__trap(cx, "unknown handle index %u", idx);
    *out = *h;
    memset(h, 0, sizeof(*h));
    h->next_free = t->free_head;
    t->free_head = idx;
    return 0;
}

void eos_cm__table_free(eos_cm__table *t)
{
    eos_free(t->v, t->cap * sizeof(*t->v));
    memset(t, 0, sizeof(*t));
}

static const eos_cm_resource *resolve_rt(eos_cm__cx *cx, const eos_cm_type *t)
{
    const eos_cm__rdesc *d = t->rdesc;
    if (!cx->rmap || !d)
        return NULL;
    return cx->rmap[d->id];
}

int eos_cm__lift_handle(eos_cm__cx *cx, const eos_cm_type *t, uint32_t idx, eos_cm_val *out)
{
    const eos_cm_resource *rt = resolve_rt(cx, t);
    eos_cm__handle *h = eos_cm__table_get(cx->table, idx);
    if (!h)
        return eos_cm__trap(cx, "unknown handle index %u", idx);
    if (rt && h->rt != rt)
        return eos_cm__trap(cx, "handle %u is a %s, not a %s", idx,
                            h->rt->name ? h->rt->name : "resource",
                            rt->name ? rt->name : "resource");
    if (t->kind == EOS_CM_OWN) {
        if (!h->own)
            return eos_cm__trap(cx, "handle %u is a borrow where an owned handle was expected",
                                idx);
        if (h->lend_count)
            return eos_cm__trap(cx, "cannot move owned handle %u while it is lent out", idx);
        eos_cm__handle gone;
        int rc = eos_cm__table_remove(cx, cx->table, idx, &gone);
        if (rc)
            return rc;
        out->of.handle = gone.rep;
        return 0;
    }
    if (h->own) {
        /* Lending: the own handle cannot be dropped until the call returns. */
        if (cx->lent_len == cx->lent_cap) {
            uint32_t n = cx->lent_cap ? cx->lent_cap * 2 : 8;
            eos_cm__lent *v = eos_realloc(cx->lent, cx->lent_cap * sizeof(*v), n * sizeof(*v));
            if (!v)
                return EOS_ENOMEM;
            cx->lent = v;
            cx->lent_cap = n;
        }
        cx->lent[cx->lent_len++].handle = idx;
        h->lend_count++;
    }
    out->of.handle = h->rep;
    return 0;
}

int eos_cm__lower_handle(eos_cm__cx *cx, const eos_cm_type *t, const eos_cm_val *v, uint32_t *out)
{
    const eos_cm_resource *rt = resolve_rt(cx, t);
    if (!cx->table)
        return eos_cm__trap(cx, "handles cannot be passed here");
    if (t->kind == EOS_CM_BORROW && rt && rt->owner_ci && rt->owner_ci == cx->ci) {
        /* A borrow of the guest's own resource is passed as its rep. */
        *out = v->of.handle;
        return 0;
    }
    eos_cm__handle h = {
        .rt = rt, .rep = v->of.handle, .own = t->kind == EOS_CM_OWN, .scope = cx->scope};
    if (!h.rt)
        return eos_cm__trap(cx, "handle of an unknown resource type");
    int rc = eos_cm__table_add(cx, cx->table, h, out);
    if (!rc && !h.own) {
        cx->table->borrows++;
        cx->borrow_count++;
    }
    return rc;
}

int eos_cm__cx_finish(eos_cm__cx *cx)
{
    for (uint32_t i = 0; i < cx->lent_len; i++) {
        eos_cm__handle *h = eos_cm__table_get(cx->table, cx->lent[i].handle);
        if (h && h->lend_count)
            h->lend_count--;
    }
    cx->lent_len = 0;
    return 0;
}

void eos_cm__cx_dispose(eos_cm__cx *cx)
{
    eos_free(cx->lent, cx->lent_cap * sizeof(*cx->lent));
    cx->lent = NULL;
    cx->lent_cap = cx->lent_len = 0;
}

/* ---- Loading from memory ----------------------------------------------------- */

int eos_cm__load_list(eos_cm__cx *cx, const eos_cm_type *t, uint32_t ptr, uint32_t len,
                      eos_cm_val *out, int depth)
{
    const eos_cm_type *e = t->elem;
    if (ptr & (e->align - 1))
        return eos_cm__trap(cx, "list pointer %u is not aligned to %u", ptr, e->align);
    uint64_t bytes = (uint64_t)len * e->size;
    const uint8_t *p = eos_cm__mem(cx, ptr, bytes);
    if (!p)
        return eos_cm__trap(cx, "list [%u, +%llu) is outside linear memory", ptr,
                            (unsigned long long)bytes);
    out->of.list.len = len;
    if (e->kind == EOS_CM_U8 || e->kind == EOS_CM_S8) {
        if (cx->copy && len) {
            uint8_t *c = eos_cm_arena_alloc(cx->arena, len);
            if (!c)
                return EOS_ENOMEM;
            memcpy(c, p, len);
            p = c;
        }
        out->of.list.bytes = p;
        return 0;
    }
    if (len > EOS_CM__MAX_LIFT_ITEMS)
        return eos_cm__trap(cx, "list of %u elements is too long to lift", len);
    eos_cm_val *items = eos_cm_arena_alloc(cx->arena, (size_t)len * sizeof(eos_cm_val));
    if (!items && len)
        return EOS_ENOMEM;
    out->of.list.items = items;
    for (uint32_t i = 0; i < len; i++) {
        int rc = eos_cm__load(cx, e, (uint64_t)ptr + (uint64_t)i * e->size, &items[i], depth + 1);
        if (rc)
            return rc;
    }
    return 0;
}

static int load_case(eos_cm__cx *cx, const eos_cm_type *t, uint32_t ncases,
                     const eos_cm_type *(*case_type)(const eos_cm_type *, uint32_t), uint64_t ptr,
                     eos_cm_val *out, int depth)
{
    uint32_t ds = disc_size(ncases);
    const uint8_t *p = eos_cm__mem(cx, ptr, ds);
    if (!p)
        return eos_cm__trap(cx, "variant at %llu is outside linear memory",
                            (unsigned long long)ptr);
    uint32_t d = (uint32_t)rd_le(p, ds);
    if (d >= ncases)
        return eos_cm__trap(cx, "%s discriminant %u out of range (%u cases)",
                            t->kind == EOS_CM_ENUM     ? "enum"
                            : t->kind == EOS_CM_OPTION ? "option"
                            : t->kind == EOS_CM_RESULT ? "result"
                                                       : "variant",
                            d, ncases);
    out->of.var.index = d;
    const eos_cm_type *ct = case_type(t, d);
    if (!ct)
        return 0;
    uint32_t max_align = 1;
    for (uint32_t i = 0; i < ncases; i++) {
        const eos_cm_type *c = case_type(t, i);
        if (c && c->align > max_align)
            max_align = c->align;
    }
    eos_cm_val *pl = eos_cm_arena_alloc(cx->arena, sizeof(*pl));
    if (!pl)
        return EOS_ENOMEM;
    out->of.var.payload = pl;
    return eos_cm__load(cx, ct, ptr + align_to(ds, max_align), pl, depth + 1);
}

int eos_cm__load(eos_cm__cx *cx, const eos_cm_type *t, uint64_t ptr, eos_cm_val *out, int depth)
{
    if (depth > EOS_CM_MAX_DEPTH)
        return eos_cm__trap(cx, "value nested too deeply");
    memset(out, 0, sizeof(*out));
    if (ptr & (t->align - 1))
        return eos_cm__trap(cx, "pointer %llu is not aligned to %u", (unsigned long long)ptr,
                            t->align);
    const uint8_t *p = eos_cm__mem(cx, ptr, t->size);
    if (!p)
        return eos_cm__trap(cx, "value [%llu, +%u) is outside linear memory",
                            (unsigned long long)ptr, t->size);
    switch (t->kind) {
    case EOS_CM_BOOL:
        out->of.b = p[0] != 0;
        return 0;
    case EOS_CM_S8:
        out->of.s = (int8_t)p[0];
        return 0;
    case EOS_CM_U8:
        out->of.u = p[0];
        return 0;
    case EOS_CM_S16:
        out->of.s = (int16_t)rd_le(p, 2);
        return 0;
    case EOS_CM_U16:
        out->of.u = rd_le(p, 2);
        return 0;
    case EOS_CM_S32:
        out->of.s = (int32_t)rd_le(p, 4);
        return 0;
    case EOS_CM_U32:
        out->of.u = rd_le(p, 4);
        return 0;
    case EOS_CM_S64:
        out->of.s = (int64_t)rd_le(p, 8);
        return 0;
    case EOS_CM_U64:
        out->of.u = rd_le(p, 8);
        return 0;
    case EOS_CM_F32: {
        uint32_t b = (uint32_t)rd_le(p, 4);
        memcpy(&out->of.f32, &b, 4);
        return 0;
    }
    case EOS_CM_F64: {
        uint64_t b = rd_le(p, 8);
        memcpy(&out->of.f64, &b, 8);
        return 0;
    }
    case EOS_CM_CHAR: {
        uint32_t c = (uint32_t)rd_le(p, 4);
        if (!eos_cm__char_valid(c))
            return eos_cm__trap(cx, "invalid char value 0x%x (not a Unicode scalar value)", c);
        out->of.ch = c;
        return 0;
    }
    case EOS_CM_STRING:
        return eos_cm__lift_string(cx, (uint32_t)rd_le(p, 4), (uint32_t)rd_le(p + 4, 4), out);
    case EOS_CM_LIST:
        return eos_cm__load_list(cx, t, (uint32_t)rd_le(p, 4), (uint32_t)rd_le(p + 4, 4), out,
                                 depth);
    case EOS_CM_RECORD:
    case EOS_CM_TUPLE: {
        eos_cm_val *items = eos_cm_arena_alloc(cx->arena, t->count * sizeof(eos_cm_val));
        if (!items)
            return EOS_ENOMEM;
        out->of.list.items = items;
        out->of.list.len = t->count;
        uint32_t off = 0;
        for (uint32_t i = 0; i < t->count; i++) {
            off = align_to(off, t->types[i]->align);
            int rc = eos_cm__load(cx, t->types[i], ptr + off, &items[i], depth + 1);
            if (rc)
                return rc;
            off += t->types[i]->size;
        }
        return 0;
    }
    case EOS_CM_VARIANT:
    case EOS_CM_ENUM:
    case EOS_CM_OPTION:
    case EOS_CM_RESULT:
        return load_case(cx, t, eos_cm__case_count(t), eos_cm__case_type, ptr, out, depth);
    case EOS_CM_FLAGS: {
        /* Bits past the last label are ignored, as the specification says. */
        uint32_t words = (t->count + 31) / 32;
        if (t->count <= 16) {
            out->of.flags.bits = rd_le(p, t->size) & ((1ull << t->count) - 1);
            return 0;
        }
        uint32_t *more = NULL;
        if (words > 2 && !(more = eos_cm_arena_alloc(cx->arena, (words - 2) * 4)))
            return EOS_ENOMEM;
        for (uint32_t w = 0; w < words; w++) {
            uint32_t v = (uint32_t)rd_le(p + 4 * w, 4);
            uint32_t nbits = t->count - 32 * w < 32 ? t->count - 32 * w : 32;
            if (nbits < 32)
                v &= (1u << nbits) - 1;
            if (w < 2)
                out->of.flags.bits |= (uint64_t)v << (32 * w);
            else
                more[w - 2] = v;
        }
        out->of.flags.more = more;
        return 0;
    }
    case EOS_CM_OWN:
    case EOS_CM_BORROW:
        return eos_cm__lift_handle(cx, t, (uint32_t)rd_le(p, 4), out);
    default:
        return eos_cm__trap(cx, "unknown type kind %u", t->kind);
    }
}
