/* The other half of the canonical ABI: storing values into guest memory, and
 * lifting/lowering flat core values and whole parameter/result lists (flat
 * when they fit, spilled through memory when they do not). */
#include <math.h>
#include <string.h>

#include "internal.h"

static uint32_t align_to(uint32_t n, uint32_t a)
{
    return (n + a - 1) / a * a;
}

static void wr_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Lowering is a visitor of the value walk (walk.c): each node goes to a
 * memory address or to flat slots, found from its parent's place and the
 * position the walk reports. A list's elements always go to the memory its
 * header points at. */
typedef struct place {
    bool mem;       /* at is a guest address, else a flat slot */
    uint64_t at;    /* where the node starts */
    uint32_t elems; /* a list's: the guest address of its first element */
} place;

typedef struct lowering {
    eos_cm__cx *cx;
    uint64_t *flat;
    uint32_t n; /* flat slots available */
    int depth0; /* the depth of the walk's root in the caller's value */
    place at[EOS_CM_MAX_DEPTH + 1];
} lowering;

static int lower_bad(void *ud, const char *why)
{
    return eos_cm__trap(((lowering *)ud)->cx, "%s", why);
}

/* Allocates a list's elements in the guest (copying list<u8> / list<s8>
 * bytes at once); the walk lowers the other elements into *out_ptr. */
static int list_alloc(eos_cm__cx *cx, const eos_cm_type *t, const eos_cm_val *v, uint32_t *out_ptr)
{
    const eos_cm_type *e = t->elem;
    size_t len = v->of.list.len;
    uint64_t bytes = (uint64_t)len * e->size;
    if (bytes > 0x7fffffffu)
        return eos_cm__trap(cx, "list of %zu elements is too large for the guest", len);
    int rc = eos_cm__realloc(cx, 0, 0, e->align, (uint32_t)bytes, out_ptr);
    if (rc)
        return rc;
    if ((e->kind == EOS_CM_U8 || e->kind == EOS_CM_S8) && len)
        memmove(eos_cm__mem(cx, *out_ptr, bytes), v->of.list.bytes, len);
    return 0;
}

/* The (ptr, len) header of a string or list, after lowering its contents. */
static int lower_ref(eos_cm__cx *cx, const eos_cm_type *t, const eos_cm_val *v, place *pl,
                     uint32_t *out_ptr, uint32_t *out_len)
{
    if (t->kind == EOS_CM_STRING)
        return eos_cm__lower_string(cx, v->of.str.ptr, v->of.str.len, out_ptr, out_len);
    *out_len = (uint32_t)v->of.list.len;
    int rc = list_alloc(cx, t, v, out_ptr);
    if (!rc)
        pl->elems = *out_ptr;
    return rc;
}

/* Flags as 32-bit words, bits past the last label cleared. */
static uint32_t flags_word(const eos_cm_type *t, const eos_cm_val *v, uint32_t w)
{
    uint32_t x = w < 2              ? (uint32_t)(v->of.flags.bits >> (32 * w))
                 : v->of.flags.more ? v->of.flags.more[w - 2]
                                    : 0;
    uint32_t nbits = t->count - 32 * w < 32 ? t->count - 32 * w : 32;
    return nbits < 32 ? x & ((1u << nbits) - 1) : x;
}

static int to_mem(eos_cm__cx *cx, const eos_cm_type *t, const eos_cm_val *v, place *pl)
{
    uint64_t ptr = pl->at;
    if (ptr & (t->align - 1))
        return eos_cm__trap(cx, "pointer %llu is not aligned to %u", (unsigned long long)ptr,
                            t->align);
    if (!eos_cm__mem(cx, ptr, t->size))
        return eos_cm__trap(cx, "value [%llu, +%u) is outside linear memory",
                            (unsigned long long)ptr, t->size);
    uint8_t tmp[8];
    uint32_t a, b;
    int rc;
    switch (t->kind) {
    case EOS_CM_BOOL:
        tmp[0] = v->of.b ? 1 : 0;
        break;
    case EOS_CM_S8:
    case EOS_CM_U8:
    case EOS_CM_S16:
    case EOS_CM_U16:
    case EOS_CM_S32:
    case EOS_CM_U32:
    case EOS_CM_S64:
    case EOS_CM_U64:
        wr_le(tmp, v->of.u, t->size);
        break;
    case EOS_CM_F32:
        memcpy(tmp, &v->of.f32, 4);
        break;
    case EOS_CM_F64:
        memcpy(tmp, &v->of.f64, 8);
        break;
    case EOS_CM_CHAR:
        if (!eos_cm__char_valid(v->of.ch))
            return eos_cm__trap(cx, "invalid char value 0x%x", v->of.ch);
        wr_le(tmp, v->of.ch, 4);
        break;
    case EOS_CM_STRING:
    case EOS_CM_LIST:
        if ((rc = lower_ref(cx, t, v, pl, &a, &b)))
            return rc;
        wr_le(tmp, a, 4);
        wr_le(tmp + 4, b, 4);
        break;
    case EOS_CM_RECORD:
    case EOS_CM_TUPLE:
        return 0; /* the members are the walk's next nodes */
    case EOS_CM_VARIANT:
    case EOS_CM_ENUM:
    case EOS_CM_OPTION:
    case EOS_CM_RESULT: {
        uint32_t ds = eos_cm__disc_size(eos_cm__case_count(t));
        wr_le(eos_cm__mem(cx, ptr, ds), v->of.var.index, ds);
        return 0;
    }
    case EOS_CM_FLAGS:
        for (uint32_t w = 0; w < (t->count + 31) / 32; w++) {
            if (t->size < 4)
                wr_le(eos_cm__mem(cx, ptr, t->size), flags_word(t, v, w), t->size);
            else
                wr_le(eos_cm__mem(cx, ptr + 4 * w, 4), flags_word(t, v, w), 4);
        }
        return 0;
    case EOS_CM_OWN:
    case EOS_CM_BORROW:
        if ((rc = eos_cm__lower_handle(cx, t, v, &a)))
            return rc;
        wr_le(tmp, a, 4);
        break;
    default:
        return eos_cm__trap(cx, "unknown type kind %u", t->kind);
    }
    /* Re-fetch: lowering strings and lists may have grown the memory. */
    uint8_t *p = eos_cm__mem(cx, ptr, t->size);
    if (!p)
        return eos_cm__trap(cx, "value [%llu, +%u) is outside linear memory",
                            (unsigned long long)ptr, t->size);
    memcpy(p, tmp, t->size);
    return 0;
}

static int put(lowering *l, uint64_t slot, uint64_t v)
{
    if (slot >= l->n)
        return eos_cm__trap(l->cx, "too many core values for the signature");
    l->flat[slot] = v;
    return 0;
}

static int to_slots(lowering *l, const eos_cm_type *t, const eos_cm_val *v, place *pl)
{
    eos_cm__cx *cx = l->cx;
    uint64_t at = pl->at;
    uint32_t a, b;
    int rc;
    if (t->flat_count >= EOS_CM_FLAT_CAP)
        return eos_cm__trap(cx, "type too large to pass as flat values");
    switch (t->kind) {
    case EOS_CM_BOOL:
        return put(l, at, v->of.b ? 1 : 0);
    case EOS_CM_S8:
        return put(l, at, (uint32_t)(int32_t)(int8_t)v->of.s);
    case EOS_CM_S16:
        return put(l, at, (uint32_t)(int32_t)(int16_t)v->of.s);
    case EOS_CM_S32:
        return put(l, at, (uint32_t)(int32_t)v->of.s);
    case EOS_CM_U8:
        return put(l, at, (uint8_t)v->of.u);
    case EOS_CM_U16:
        return put(l, at, (uint16_t)v->of.u);
    case EOS_CM_U32:
        return put(l, at, (uint32_t)v->of.u);
    case EOS_CM_S64:
    case EOS_CM_U64:
        return put(l, at, v->of.u);
    case EOS_CM_F32: {
        uint32_t bits;
        memcpy(&bits, &v->of.f32, 4);
        return put(l, at, bits);
    }
    case EOS_CM_F64: {
        uint64_t bits;
        memcpy(&bits, &v->of.f64, 8);
        return put(l, at, bits);
    }
    case EOS_CM_CHAR:
        if (!eos_cm__char_valid(v->of.ch))
            return eos_cm__trap(cx, "invalid char value 0x%x", v->of.ch);
        return put(l, at, v->of.ch);
    case EOS_CM_STRING:
    case EOS_CM_LIST:
        if ((rc = lower_ref(cx, t, v, pl, &a, &b)) || (rc = put(l, at, a)))
            return rc;
        return put(l, at + 1, b);
    case EOS_CM_RECORD:
    case EOS_CM_TUPLE:
        return 0;
    case EOS_CM_VARIANT:
    case EOS_CM_ENUM:
    case EOS_CM_OPTION:
    case EOS_CM_RESULT:
        /* The discriminant, then zeros in the joined slots the case's payload
         * (the walk's next node) does not fill. */
        for (uint32_t i = 0; i < t->flat_count; i++)
            if ((rc = put(l, at + i, i == 0 ? v->of.var.index : 0)))
                return rc;
        return 0;
    case EOS_CM_FLAGS:
        for (uint32_t w = 0; w < (t->count + 31) / 32; w++)
            if ((rc = put(l, at + w, flags_word(t, v, w))))
                return rc;
        return 0;
    case EOS_CM_OWN:
    case EOS_CM_BORROW:
        if ((rc = eos_cm__lower_handle(cx, t, v, &a)))
            return rc;
        return put(l, at, a);
    default:
        return eos_cm__trap(cx, "unknown type kind %u", t->kind);
    }
}

static int lower_pre(void *ud, const eos_cm_type *t, const eos_cm_val *v,
                     const eos_cm_walk_pos *pos)
{
    lowering *l = ud;
    place *pl = &l->at[pos->depth];
    if (pos->depth > 0) {
        const place *up = &l->at[pos->depth - 1];
        pl->mem = up->mem || pos->parent->kind == EOS_CM_LIST;
        if (pos->parent->kind == EOS_CM_LIST)
            pl->at = up->elems + pos->offset;
        else
            pl->at = up->at + (up->mem ? pos->offset : pos->flat);
    }
    return pl->mem ? to_mem(l->cx, t, v, pl) : to_slots(l, t, v, pl);
}

static int lower(lowering *l, const eos_cm_type *t, const eos_cm_val *v, int depth)
{
    if (depth >= EOS_CM_MAX_DEPTH)
        return eos_cm__trap(l->cx, "value nested too deeply");
    /* Scalars, strings, flags and handles have no parts to walk: the common
     * case of a call's arguments goes straight to its place. */
    if (t->kind <= EOS_CM_STRING || t->kind == EOS_CM_FLAGS || t->kind == EOS_CM_OWN ||
        t->kind == EOS_CM_BORROW)
        return l->at[0].mem ? to_mem(l->cx, t, v, &l->at[0]) : to_slots(l, t, v, &l->at[0]);
    eos_cm_walker w = {
        .pre = lower_pre, .bad = lower_bad, .ud = l, .max_depth = EOS_CM_MAX_DEPTH - depth};
    return eos_cm_val_walk(t, v, &w);
}

int eos_cm__store(eos_cm__cx *cx, const eos_cm_type *t, const eos_cm_val *v, uint64_t ptr,
                  int depth)
{
    lowering l;
    l.cx = cx;
    l.at[0].mem = true;
    l.at[0].at = ptr;
    return lower(&l, t, v, depth);
}

/* ---- Flat values -------------------------------------------------------------- */

static int take(eos_cm__cx *cx, const uint64_t *flat, uint32_t *pos, uint32_t n, uint64_t *out)
{
    if (*pos >= n)
        return eos_cm__trap(cx, "not enough core values for the type");
    *out = flat[(*pos)++];
    return 0;
}

int eos_cm__lift_flat(eos_cm__cx *cx, const eos_cm_type *t, const uint64_t *flat, uint32_t *pos,
                      uint32_t n, eos_cm_val *out, int depth)
{
    uint64_t x = 0, y = 0;
    int rc;
    if (depth > EOS_CM_MAX_DEPTH)
        return eos_cm__trap(cx, "value nested too deeply");
    memset(out, 0, sizeof(*out));
    if (t->flat_count >= EOS_CM_FLAT_CAP)
        return eos_cm__trap(cx, "type too large to pass as flat values");
    switch (t->kind) {
    case EOS_CM_RECORD:
    case EOS_CM_TUPLE: {
        eos_cm_val *items = eos_cm_arena_alloc(cx->arena, t->count * sizeof(eos_cm_val));
        if (!items)
            return EOS_ENOMEM;
        out->of.list.items = items;
        out->of.list.len = t->count;
        for (uint32_t i = 0; i < t->count; i++)
            if ((rc = eos_cm__lift_flat(cx, t->types[i], flat, pos, n, &items[i], depth + 1)))
                return rc;
        return 0;
    }
    case EOS_CM_VARIANT:
    case EOS_CM_ENUM:
    case EOS_CM_OPTION:
    case EOS_CM_RESULT: {
        uint32_t start = *pos;
        if ((rc = take(cx, flat, pos, n, &x)))
            return rc;
        uint32_t d = (uint32_t)x, nc = eos_cm__case_count(t);
        if (d >= nc)
            return eos_cm__trap(cx, "%s discriminant %u out of range (%u cases)",
                                t->kind == EOS_CM_ENUM     ? "enum"
                                : t->kind == EOS_CM_OPTION ? "option"
                                : t->kind == EOS_CM_RESULT ? "result"
                                                           : "variant",
                                d, nc);
        out->of.var.index = d;
        const eos_cm_type *ct = eos_cm__case_type(t, d);
        if (ct) {
            eos_cm_val *pl = eos_cm_arena_alloc(cx->arena, sizeof(*pl));
            if (!pl)
                return EOS_ENOMEM;
            out->of.var.payload = pl;
            /* Joined slots hold each case's values in their low bits. */
            if ((rc = eos_cm__lift_flat(cx, ct, flat, pos, n, pl, depth + 1)))
                return rc;
        }
        *pos = start + t->flat_count;
        if (*pos > n)
            return eos_cm__trap(cx, "not enough core values for the type");
        return 0;
    }
    case EOS_CM_FLAGS: {
        uint32_t words = (t->count + 31) / 32;
        uint32_t *more = NULL;
        if (words > 2 && !(more = eos_cm_arena_alloc(cx->arena, (words - 2) * 4)))
            return EOS_ENOMEM;
        for (uint32_t w = 0; w < words; w++) {
            if ((rc = take(cx, flat, pos, n, &x)))
                return rc;
            uint32_t v = (uint32_t)x, nbits = t->count - 32 * w < 32 ? t->count - 32 * w : 32;
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
    default:
        break;
    }
    if ((rc = take(cx, flat, pos, n, &x)))
        return rc;
    switch (t->kind) {
    case EOS_CM_BOOL:
        out->of.b = (uint32_t)x != 0;
        return 0;
    case EOS_CM_S8:
        out->of.s = (int8_t)x;
        return 0;
    case EOS_CM_U8:
        out->of.u = (uint8_t)x;
        return 0;
    case EOS_CM_S16:
        out->of.s = (int16_t)x;
        return 0;
    case EOS_CM_U16:
        out->of.u = (uint16_t)x;
        return 0;
    case EOS_CM_S32:
        out->of.s = (int32_t)x;
        return 0;
    case EOS_CM_U32:
        out->of.u = (uint32_t)x;
        return 0;
    case EOS_CM_S64:
        out->of.s = (int64_t)x;
        return 0;
    case EOS_CM_U64:
        out->of.u = x;
        return 0;
    case EOS_CM_F32: {
        uint32_t b = (uint32_t)x;
        memcpy(&out->of.f32, &b, 4);
        return 0;
    }
    case EOS_CM_F64:
        memcpy(&out->of.f64, &x, 8);
        return 0;
    case EOS_CM_CHAR:
        if (!eos_cm__char_valid((uint32_t)x) || x > 0xffffffffu)
            return eos_cm__trap(cx, "invalid char value 0x%llx (not a Unicode scalar value)",
                                (unsigned long long)x);
        out->of.ch = (uint32_t)x;
        return 0;
    case EOS_CM_STRING:
    case EOS_CM_LIST:
        if ((rc = take(cx, flat, pos, n, &y)))
            return rc;
        if (t->kind == EOS_CM_STRING)
            return eos_cm__lift_string(cx, (uint32_t)x, (uint32_t)y, out);
        /* A flat list is the same (ptr, len) header as one in memory. */
        return eos_cm__load_list(cx, t, (uint32_t)x, (uint32_t)y, out, depth);
    case EOS_CM_OWN:
    case EOS_CM_BORROW:
        return eos_cm__lift_handle(cx, t, (uint32_t)x, out);
    default:
        return eos_cm__trap(cx, "unknown type kind %u", t->kind);
    }
}

int eos_cm__lower_flat(eos_cm__cx *cx, const eos_cm_type *t, const eos_cm_val *v, uint64_t *flat,
                       uint32_t *pos, uint32_t n, int depth)
{
    lowering l;
    l.cx = cx;
    l.flat = flat;
    l.n = n;
    l.at[0].mem = false;
    l.at[0].at = *pos;
    int rc = lower(&l, t, v, depth);
    if (!rc)
        *pos += t->flat_count;
    return rc;
}

/* Layout of a parameter or result list spilled to memory (as a tuple). */
static void tuple_layout(uint32_t count, const eos_cm_type *const *types, uint32_t *size,
                         uint32_t *align)
{
    uint32_t s = 0, a = 1;
    for (uint32_t i = 0; i < count; i++) {
        s = align_to(s, types[i]->align) + types[i]->size;
        if (types[i]->align > a)
            a = types[i]->align;
    }
    *size = align_to(s, a);
    *align = a;
}

static uint32_t flat_total(uint32_t count, const eos_cm_type *const *types)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < count; i++)
        n += types[i]->flat_count;
    return n;
}

int eos_cm__lift_values(eos_cm__cx *cx, uint32_t count, const eos_cm_type *const *types,
                        const uint64_t *flat, uint32_t flat_len, uint32_t max_flat, eos_cm_val *out)
{
    int rc;
    if (flat_total(count, types) <= max_flat) {
        uint32_t pos = 0;
        for (uint32_t i = 0; i < count; i++)
            if ((rc = eos_cm__lift_flat(cx, types[i], flat, &pos, flat_len, &out[i], 0)))
                return rc;
        return 0;
    }
    if (flat_len < 1)
        return eos_cm__trap(cx, "missing pointer to spilled values");
    uint32_t size, align, ptr = (uint32_t)flat[0], off = 0;
    tuple_layout(count, types, &size, &align);
    if (ptr & (align - 1))
        return eos_cm__trap(cx, "pointer %u to spilled values is not aligned to %u", ptr, align);
    if (!eos_cm__mem(cx, ptr, size))
        return eos_cm__trap(cx, "spilled values [%u, +%u) are outside linear memory", ptr, size);
    for (uint32_t i = 0; i < count; i++) {
        off = align_to(off, types[i]->align);
        if ((rc = eos_cm__load(cx, types[i], (uint64_t)ptr + off, &out[i], 0)))
            return rc;
        off += types[i]->size;
    }
    return 0;
}

int eos_cm__lower_values(eos_cm__cx *cx, uint32_t count, const eos_cm_type *const *types,
                         const eos_cm_val *vals, uint64_t *flat, uint32_t max_flat, bool alloc,
                         uint64_t out_ptr)
{
    int rc;
    if (flat_total(count, types) <= max_flat) {
        uint32_t pos = 0;
        for (uint32_t i = 0; i < count; i++)
            if ((rc = eos_cm__lower_flat(cx, types[i], &vals[i], flat, &pos, max_flat, 0)))
                return rc;
        return 0;
    }
    uint32_t size, align, ptr, off = 0;
    tuple_layout(count, types, &size, &align);
    if (alloc) {
        if ((rc = eos_cm__realloc(cx, 0, 0, align, size, &ptr)))
            return rc;
        flat[0] = ptr;
    } else {
        if (out_ptr > 0xffffffffu || (out_ptr & (align - 1)))
            return eos_cm__trap(cx, "return pointer %llu is not aligned to %u",
                                (unsigned long long)out_ptr, align);
        ptr = (uint32_t)out_ptr;
        if (!eos_cm__mem(cx, ptr, size))
            return eos_cm__trap(cx, "return area [%u, +%u) is outside linear memory", ptr, size);
    }
    for (uint32_t i = 0; i < count; i++) {
        off = align_to(off, types[i]->align);
        if ((rc = eos_cm__store(cx, types[i], &vals[i], (uint64_t)ptr + off, 0)))
            return rc;
        off += types[i]->size;
    }
    return 0;
}
