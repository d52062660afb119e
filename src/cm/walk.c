/* The one walk over a component value and its type: which parts a value has
 * (members, elements, a case's payload), whether the value fits its type,
 * and where each part sits in the canonical ABI's memory and flat layouts.
 * Lowering into a guest and the JSON mapping are visitors of this walk. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

/* The walk's state: a reading or a building visitor, normalised. */
typedef struct walk {
    int (*rpre)(void *ud, const eos_cm_type *t, const eos_cm_val *v, const eos_cm_walk_pos *pos);
    int (*rpost)(void *ud, const eos_cm_type *t, const eos_cm_val *v, const eos_cm_walk_pos *pos);
    int (*bpre)(void *ud, const eos_cm_type *t, eos_cm_val *v, const eos_cm_walk_pos *pos);
    int (*bpost)(void *ud, const eos_cm_type *t, eos_cm_val *v, const eos_cm_walk_pos *pos);
    int (*bad)(void *ud, const char *why);
    void *ud;
    int max_depth;
    eos_cm_arena *arena; /* set when building */
} walk;

static uint32_t align_to(uint32_t n, uint32_t a)
{
    return (n + a - 1) / a * a;
}

uint32_t eos_cm_type_case_count(const eos_cm_type *t)
{
    return eos_cm__case_count(t);
}

const eos_cm_type *eos_cm_type_case(const eos_cm_type *t, uint32_t i)
{
    return i < eos_cm__case_count(t) ? eos_cm__case_type(t, i) : NULL;
}

bool eos_cm_type_has_handles(const eos_cm_type *t)
{
    if (!t)
        return false;
    if (t->kind == EOS_CM_OWN || t->kind == EOS_CM_BORROW)
        return true;
    if (eos_cm_type_has_handles(t->elem) || eos_cm_type_has_handles(t->err))
        return true;
    for (uint32_t i = 0; t->types && i < t->count; i++)
        if (eos_cm_type_has_handles(t->types[i]))
            return true;
    return false;
}

/* The offset of a case's payload: after the discriminant, aligned for the
 * most aligned case. */
uint32_t eos_cm__payload_offset(const eos_cm_type *t)
{
    uint32_t n = eos_cm__case_count(t), max_align = 1;
    for (uint32_t i = 0; i < n; i++) {
        const eos_cm_type *c = eos_cm__case_type(t, i);
        if (c && c->align > max_align)
            max_align = c->align;
    }
    return align_to(eos_cm__disc_size(n), max_align);
}

static int bad(const walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(const walk *w, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int rc = w->bad ? w->bad(w->ud, msg) : 0;
    return rc ? rc : EOS_EINVALID;
}

static eos_cm_val *alloc_vals(const walk *w, size_t n)
{
    if (n > SIZE_MAX / sizeof(eos_cm_val) - 1)
        return NULL;
    return eos_cm_arena_alloc(w->arena, (n ? n : 1) * sizeof(eos_cm_val));
}

static bool bytes_list(const eos_cm_type *t)
{
    return t->kind == EOS_CM_LIST && (t->elem->kind == EOS_CM_U8 || t->elem->kind == EOS_CM_S8);
}

static bool has_cases(const eos_cm_type *t)
{
    return t->kind == EOS_CM_VARIANT || t->kind == EOS_CM_ENUM || t->kind == EOS_CM_OPTION ||
           t->kind == EOS_CM_RESULT;
}

/* A case index in range (0 for types without cases). */
static int case_check(const walk *w, const eos_cm_type *t, const eos_cm_val *v)
{
    uint32_t n = eos_cm__case_count(t);
    if (!has_cases(t) || v->of.var.index < n)
        return 0;
    return bad(w, "case index %u out of range (%u cases)", v->of.var.index, n);
}

/* Whether an existing value has the parts its type says, before any
 * visitor looks at it. */
static int check(const walk *w, const eos_cm_type *t, const eos_cm_val *v)
{
    int rc;
    switch (t->kind) {
    case EOS_CM_RECORD:
    case EOS_CM_TUPLE:
        if (v->of.list.len != t->count || !v->of.list.items)
            return bad(w, "%s value has %zu members, the type has %u",
                       t->kind == EOS_CM_RECORD ? "record" : "tuple", v->of.list.len, t->count);
        return 0;
    case EOS_CM_LIST:
        if (v->of.list.len && (bytes_list(t) ? !v->of.list.bytes : !v->of.list.items))
            return bad(w, "list value without elements");
        return 0;
    default:
        rc = case_check(w, t, v);
        if (!rc && has_cases(t) && eos_cm__case_type(t, v->of.var.index) && !v->of.var.payload)
            rc = bad(w, "case %u needs a payload", v->of.var.index);
        return rc;
    }
}

static int node(const walk *w, const eos_cm_type *t, eos_cm_val *v, const eos_cm_walk_pos *pos);

/* Builds the parts of a compound whose shape pre has just set. */
static int make_parts(const walk *w, const eos_cm_type *t, eos_cm_val *v)
{
    int rc;
    switch (t->kind) {
    case EOS_CM_RECORD:
    case EOS_CM_TUPLE:
        v->of.list.len = t->count;
        if (!(v->of.list.items = alloc_vals(w, t->count)))
            return bad(w, "out of memory");
        return 0;
    case EOS_CM_LIST:
        if (!bytes_list(t) && !(v->of.list.items = alloc_vals(w, v->of.list.len)))
            return bad(w, "out of memory");
        return 0;
    default:
        if ((rc = case_check(w, t, v)) || !has_cases(t))
            return rc;
        v->of.var.payload = NULL;
        if (eos_cm__case_type(t, v->of.var.index) && !(v->of.var.payload = alloc_vals(w, 1)))
            return bad(w, "out of memory");
        return 0;
    }
}

/* Visits the parts of a compound, each with its place in the layout. */
static int parts(const walk *w, const eos_cm_type *t, eos_cm_val *v, int depth)
{
    eos_cm_walk_pos p = {.depth = depth + 1, .parent = t};
    int rc;
    switch (t->kind) {
    case EOS_CM_RECORD:
    case EOS_CM_TUPLE: {
        uint32_t off = 0, flat = 0;
        for (uint32_t i = 0; i < t->count; i++) {
            const eos_cm_type *m = t->types[i];
            off = align_to(off, m->align);
            p.index = i;
            p.name = t->kind == EOS_CM_RECORD ? t->names[i] : NULL;
            p.offset = off;
            p.flat = flat;
            if ((rc = node(w, m, &v->of.list.items[i], &p)))
                return rc;
            off += m->size;
            flat += m->flat_count;
        }
        return 0;
    }
    case EOS_CM_LIST:
        if (bytes_list(t))
            return 0; /* a leaf: the visitor has the bytes */
        for (size_t i = 0; i < v->of.list.len; i++) {
            p.index = (uint32_t)i;
            p.offset = (uint64_t)i * t->elem->size;
            if ((rc = node(w, t->elem, &v->of.list.items[i], &p)))
                return rc;
        }
        return 0;
    case EOS_CM_VARIANT:
    case EOS_CM_OPTION:
    case EOS_CM_RESULT: {
        const eos_cm_type *ct = eos_cm__case_type(t, v->of.var.index);
        if (!ct)
            return 0;
        p.index = v->of.var.index;
        p.name = t->kind == EOS_CM_VARIANT ? t->names[v->of.var.index] : NULL;
        p.offset = eos_cm__payload_offset(t);
        p.flat = 1;
        return node(w, ct, v->of.var.payload, &p);
    }
    default:
        return 0;
    }
}

static int node(const walk *w, const eos_cm_type *t, eos_cm_val *v, const eos_cm_walk_pos *pos)
{
    int rc;
    if (pos->depth > w->max_depth)
        return bad(w, "value nested too deeply");
    if (w->arena) {
        if ((rc = w->bpre(w->ud, t, v, pos)) || (rc = make_parts(w, t, v)) ||
            (rc = parts(w, t, v, pos->depth)))
            return rc;
        return w->bpost ? w->bpost(w->ud, t, v, pos) : 0;
    }
    if ((rc = check(w, t, v)) || (rc = w->rpre(w->ud, t, v, pos)) ||
        (rc = parts(w, t, v, pos->depth)))
        return rc;
    return w->rpost ? w->rpost(w->ud, t, v, pos) : 0;
}

int eos_cm_val_walk(const eos_cm_type *t, const eos_cm_val *v, const eos_cm_walker *wk)
{
    walk w = {.rpre = wk->pre,
              .rpost = wk->post,
              .bad = wk->bad,
              .ud = wk->ud,
              .max_depth = wk->max_depth ? wk->max_depth : EOS_CM_WALK_MAX_DEPTH};
    eos_cm_walk_pos root = {0};
    /* Reading never writes through v: only the walk's shared core is typed
     * for building. */
    return node(&w, t, (eos_cm_val *)v, &root);
}

int eos_cm_val_build(const eos_cm_type *t, eos_cm_val *out, const eos_cm_builder *b)
{
    walk w = {.bpre = b->pre,
              .bpost = b->post,
              .bad = b->bad,
              .ud = b->ud,
              .max_depth = b->max_depth ? b->max_depth : EOS_CM_WALK_MAX_DEPTH,
              .arena = b->arena};
    eos_cm_walk_pos root = {0};
    if (!b->arena)
        return EOS_EINVAL;
    return node(&w, t, out, &root);
}
