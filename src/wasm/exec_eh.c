/* Exception handling at run time: tags, exception objects and the search
 * for a handler. An exception is made by throw (or given by a host) and
 * caught by a try_table handler of some frame; one no handler takes ends the
 * call with EOS_TRAP_EXCEPTION and stays in the store for the embedder. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

/* What a legacy catch block caught, for rethrow: entries are sorted by
 * (depth, k) and those of blocks left since are dropped lazily, when a
 * later catch pushes over them. */
typedef struct caught {
    uint32_t depth, k;
    eos_wasm__exn *x;
} caught;

typedef struct eos_wasm__eh {
    caught *caught;
    uint32_t ncaught, cap_caught;
    eos_wasm_tag *tags;
    eos_wasm__exn *all;     /* every exception made, freed with the store */
    eos_wasm__exn *spares;  /* caught without a reference: reused by throws */
    eos_wasm__exn *pending; /* escaped a nested call, to be rethrown by its caller */
    eos_wasm__exn *last;    /* the last one that escaped to the host */
} eos_wasm__eh;

/* Handler clause kinds, as validate_eh.c writes them. */
enum { CATCH, CATCH_REF, CATCH_ALL, CATCH_ALL_REF, LEGACY_CATCH, LEGACY_CATCH_ALL, DELEGATE };

static eos_wasm__eh *eh_of(eos_wasm_store *s)
{
    if (!s->eh)
        s->eh = eos_calloc(1, sizeof(eos_wasm__eh));
    return s->eh;
}

int eos_wasm_tag_new(eos_wasm_store *s, const eos_wasm_functype *type, eos_wasm_tag **out)
{
    *out = NULL;
    if (!type || type->result_count)
        return EOS_EINVAL;
    eos_wasm__eh *eh = eh_of(s);
    eos_wasm_tag *t = eh ? eos_calloc(1, sizeof(*t)) : NULL;
    uint8_t *params = t ? eos_malloc(type->param_count + 1) : NULL;
    if (!params) {
        eos_free(t, sizeof(*t));
        return EOS_ENOMEM;
    }
    if (type->param_count)
        memcpy(params, type->params, type->param_count);
    t->store = s;
    t->type.param_count = type->param_count;
    t->type.params = params;
    t->type.results = params;
    t->slots = eos_wasm__slots_of(params, type->param_count);
    t->next = eh->tags;
    eh->tags = t;
    *out = t;
    return 0;
}

const eos_wasm_functype *eos_wasm_tag_type(const eos_wasm_tag *t)
{
    return &t->type;
}

int eos_wasm__eh_instance(eos_wasm_store *s, eos_wasm_instance *inst)
{
    const eos_wasm_module *m = inst->module;
    if (!m->tag_count)
        return 0;
    /* A spare instance of the same module keeps its array. */
    if (!inst->tags && !(inst->tags = eos_calloc(m->tag_count, sizeof(eos_wasm_tag *))))
        return EOS_ENOMEM;
    for (uint32_t k = m->tag_import_count; k < m->tag_count; k++) {
        int rc = eos_wasm_tag_new(s, &m->types[m->tag_types[k]], &inst->tags[k]);
        if (rc)
            return rc;
    }
    return 0;
}

void eos_wasm__eh_store_free(eos_wasm_store *s)
{
    eos_wasm__eh *eh = s->eh;
    if (!eh)
        return;
    while (eh->tags) {
        eos_wasm_tag *n = eh->tags->next;
        eos_free((void *)eh->tags->type.params, 0);
        eos_free(eh->tags, sizeof(eos_wasm_tag));
        eh->tags = n;
    }
    while (eh->all) {
        eos_wasm__exn *n = eh->all->next;
        eos_free(eh->all, 0);
        eh->all = n;
    }
    eos_free(eh->caught, 0);
    eos_free(eh, sizeof(*eh));
    s->eh = NULL;
}

eos_wasm__exn *eos_wasm__exn_new(eos_wasm_store *s, eos_wasm_tag *tag, const uint64_t *payload)
{
    eos_wasm__eh *eh = eh_of(s);
    if (!eh)
        return NULL;
    /* Reuse a caught one when it is large enough (the common case: the
     * same few tags thrown again and again). */
    eos_wasm__exn *x = NULL, **link = &eh->spares;
    for (int tries = 0; *link && tries < 4; tries++, link = &(*link)->spare)
        if ((*link)->cap >= tag->slots) {
            x = *link;
            *link = x->spare;
            break;
        }
    if (!x) {
        uint32_t cap = tag->slots < 4 ? 4 : tag->slots;
        x = eos_malloc(sizeof(*x) + (size_t)cap * sizeof(uint64_t));
        if (!x)
            return NULL;
        x->cap = cap;
        x->next = eh->all;
        eh->all = x;
    }
    x->spare = NULL;
    x->tag = tag;
    x->nslots = tag->slots;
    x->exposed = false;
    if (tag->slots)
        memcpy(x->payload, payload, tag->slots * sizeof(uint64_t));
    return x;
}

const uint32_t *eos_wasm__eh_find(const eos_wasm__code *c, const uint32_t *cbase, uint32_t pos,
                                  eos_wasm_instance *inst, const eos_wasm__exn *x)
{
again:
    for (uint32_t i = 0; i < c->eh_count; i++) {
        const uint32_t *e = c->eh + 3 * (size_t)i;
        if (pos < e[0] || pos >= e[1])
            continue;
        const uint32_t *h = cbase + e[2];
        for (uint32_t k = 0; k < h[1]; k++) {
            const uint32_t *cl = h + 2 + 5 * (size_t)k;
            uint32_t kind = cl[0] & 15;
            if (kind == DELEGATE) {
                /* Strictly before this try: the search ends. */
                pos = cl[2];
                goto again;
            }
            if (kind == CATCH_ALL || kind == CATCH_ALL_REF || kind == LEGACY_CATCH_ALL ||
                inst->tags[cl[1]] == x->tag)
                return cl;
        }
    }
    return NULL;
}

static int caught_push(eos_wasm__eh *eh, uint32_t depth, uint32_t k, eos_wasm__exn *x)
{
    while (eh->ncaught && (eh->caught[eh->ncaught - 1].depth > depth ||
                           (eh->caught[eh->ncaught - 1].depth == depth &&
                            eh->caught[eh->ncaught - 1].k >= k)))
        eh->ncaught--;
    if (eh->ncaught == eh->cap_caught) {
        uint32_t cap = eh->cap_caught ? 2 * eh->cap_caught : 16;
        caught *n = eos_realloc(eh->caught, eh->cap_caught * sizeof(caught), cap * sizeof(caught));
        if (!n)
            return EOS_ENOMEM;
        eh->caught = n;
        eh->cap_caught = cap;
    }
    eh->caught[eh->ncaught++] = (caught){depth, k, x};
    x->exposed = true; /* a rethrow may throw it again */
    return 0;
}

eos_wasm__exn *eos_wasm__eh_rethrow(eos_wasm_store *s, uint32_t depth, uint32_t k)
{
    eos_wasm__eh *eh = s->eh;
    for (uint32_t i = eh ? eh->ncaught : 0; i-- > 0;)
        if (eh->caught[i].depth == depth && eh->caught[i].k == k)
            return eh->caught[i].x;
    return NULL;
}

uint64_t *eos_wasm__eh_catch(eos_wasm_store *s, const uint32_t *h, uint64_t *fp, eos_wasm__exn *x,
                             uint32_t depth)
{
    uint64_t *d = fp + h[3];
    uint32_t kind = h[0] & 15;
    if (kind == CATCH || kind == CATCH_REF || kind == LEGACY_CATCH) {
        memcpy(d, x->payload, x->nslots * sizeof(uint64_t));
        d += x->nslots;
    }
    if (kind == LEGACY_CATCH || kind == LEGACY_CATCH_ALL) {
        if (caught_push(s->eh, depth, h[0] >> 4, x))
            return NULL;
    } else if (kind == CATCH_REF || kind == CATCH_ALL_REF) {
        x->exposed = true;
        *d++ = (uint64_t)(uintptr_t)x;
    } else if (!x->exposed && s->eh) {
        x->spare = s->eh->spares;
        s->eh->spares = x;
    }
    return d;
}

eos_wasm__exn *eos_wasm__eh_take(eos_wasm_store *s, int rc)
{
    if (rc != EOS_TRAP_EXCEPTION || !s->eh || !s->eh->pending)
        return NULL;
    eos_wasm__exn *x = s->eh->pending;
    s->eh->pending = NULL;
    if (s->eh->last == x)
        s->eh->last = NULL;
    return x;
}

int eos_wasm__eh_uncaught(eos_wasm_store *s, eos_wasm__exn *x)
{
    if (s->eh)
        s->eh->pending = s->eh->last = x;
    return eos_wasm__trap(s, EOS_TRAP_EXCEPTION, "uncaught exception");
}

size_t eos_wasm_store_exception(const eos_wasm_store *s, eos_wasm_tag **tag, eos_wasm_val *vals,
                                size_t max)
{
    const eos_wasm__exn *x = s->eh ? s->eh->last : NULL;
    *tag = x ? x->tag : NULL;
    if (!x)
        return 0;
    const eos_wasm_functype *t = &x->tag->type;
    const uint64_t *p = x->payload;
    for (uint32_t i = 0; i < t->param_count; i++) {
        eos_wasm_val v;
        p += eos_wasm__slots_to_val(t->params[i], p, &v);
        if (vals && i < max)
            vals[i] = v;
    }
    return t->param_count;
}

int eos_wasm_caller_throw(eos_wasm_caller *c, eos_wasm_tag *tag, const eos_wasm_val *vals,
                          size_t count)
{
    eos_wasm_store *s = c->store;
    if (!tag || tag->store != s || count != tag->type.param_count)
        return eos_wasm_caller_trap(c, EOS_TRAP_HOST, "host throw: wrong tag or payload");
    uint64_t slots[64];
    uint32_t n = 0;
    for (size_t i = 0; i < count; i++) {
        if (vals[i].type != tag->type.params[i] || n + 2 > 64)
            return eos_wasm_caller_trap(c, EOS_TRAP_HOST, "host throw: payload does not match");
        n += eos_wasm__val_to_slots(&vals[i], slots + n);
    }
    eos_wasm__exn *x = eos_wasm__exn_new(s, tag, slots);
    if (!x)
        return eos_wasm_caller_trap(c, EOS_TRAP_HOST, "out of memory for an exception");
    return eos_wasm__eh_uncaught(s, x);
}
