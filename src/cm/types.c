/* Component value types: the arena they live in, the primitive types, the
 * canonical ABI layout (size, alignment, flattening) and structural equality
 * used when linking imports against host signatures. */
#include <string.h>

#include "internal.h"

typedef struct eos_cm__chunk {
    struct eos_cm__chunk *next;
    size_t size, used;
    max_align_t data[];
} eos_cm__chunk;

#define EOS_CM__CHUNK 16384

eos_cm_arena *eos_cm_arena_new(void)
{
    return eos_calloc(1, sizeof(eos_cm_arena));
}

void eos_cm_arena_reset(eos_cm_arena *a)
{
    if (!a)
        return;
    eos_cm__chunk *c = a->head;
    while (c) {
        eos_cm__chunk *next = c->next;
        eos_free(c, sizeof(*c) + c->size);
        c = next;
    }
    a->head = NULL;
}

void eos_cm_arena_free(eos_cm_arena *a)
{
    if (!a)
        return;
    eos_cm_arena_reset(a);
    eos_free(a, sizeof(*a));
}

void *eos_cm_arena_alloc(eos_cm_arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    eos_cm__chunk *c = a->head;
    if (!c || c->size - c->used < size) {
        /* Large requests get their own chunk so a big list does not waste a
         * partly used one; small ones share. */
        size_t csize = size > EOS_CM__CHUNK / 4 ? size : EOS_CM__CHUNK;
        eos_cm__chunk *n = eos_malloc(sizeof(*n) + csize);
        if (!n)
            return NULL;
        n->size = csize;
        n->used = 0;
        if (c && size > EOS_CM__CHUNK / 4) {
            n->next = c->next; /* keep the current small chunk at the head */
            c->next = n;
        } else {
            n->next = c;
            a->head = n;
        }
        c = n;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *eos_cm__arena_strndup(eos_cm_arena *a, const char *s, size_t len)
{
    char *p = eos_cm_arena_alloc(a, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = 0;
    }
    return p;
}

#define EOS_CM__PRIM(k, sz, flat)                                                                  \
    {                                                                                              \
        .kind = (k), .align = (sz), .flat_count = (flat), .size = (sz)                             \
    }

static const eos_cm_type prims[] = {
    EOS_CM__PRIM(EOS_CM_BOOL, 1, 1),
    EOS_CM__PRIM(EOS_CM_S8, 1, 1),
    EOS_CM__PRIM(EOS_CM_U8, 1, 1),
    EOS_CM__PRIM(EOS_CM_S16, 2, 1),
    EOS_CM__PRIM(EOS_CM_U16, 2, 1),
    EOS_CM__PRIM(EOS_CM_S32, 4, 1),
    EOS_CM__PRIM(EOS_CM_U32, 4, 1),
    EOS_CM__PRIM(EOS_CM_S64, 8, 1),
    EOS_CM__PRIM(EOS_CM_U64, 8, 1),
    EOS_CM__PRIM(EOS_CM_F32, 4, 1),
    EOS_CM__PRIM(EOS_CM_F64, 8, 1),
    EOS_CM__PRIM(EOS_CM_CHAR, 4, 1),
    {.kind = EOS_CM_STRING, .align = 4, .flat_count = 2, .size = 8},
};

const eos_cm_type *eos_cm_prim(eos_cm_kind kind)
{
    if ((unsigned)kind > EOS_CM_STRING)
        return NULL;
    return &prims[kind];
}

eos_cm_type *eos_cm__type_new(eos_cm_arena *a, uint8_t kind)
{
    eos_cm_type *t = eos_cm_arena_alloc(a, sizeof(*t));
    if (t)
        t->kind = kind;
    return t;
}

static uint32_t align_to(uint32_t n, uint32_t align)
{
    return (n + align - 1) / align * align;
}

static uint32_t disc_size(uint32_t cases)
{
    return cases <= 256 ? 1 : cases <= 65536 ? 2 : 4;
}

/* Sizes are capped so hostile nesting cannot overflow 32 bits; a type that
 * large cannot be lifted from a 4 GiB memory anyway. */
#define EOS_CM__SIZE_CAP (1u << 30)

static uint32_t cap_add(uint32_t a, uint32_t b)
{
    return a + b > EOS_CM__SIZE_CAP || a + b < a ? EOS_CM__SIZE_CAP : a + b;
}

static void layout_variant(eos_cm_type *t, uint32_t n, const eos_cm_type *const *cases)
{
    uint32_t ds = disc_size(n), align = ds, max_size = 0, max_flat = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!cases[i])
            continue;
        if (cases[i]->align > align)
            align = cases[i]->align;
        if (cases[i]->size > max_size)
            max_size = cases[i]->size;
        if (cases[i]->flat_count > max_flat)
            max_flat = cases[i]->flat_count;
    }
    uint32_t case_align = 1;
    for (uint32_t i = 0; i < n; i++)
        if (cases[i] && cases[i]->align > case_align)
            case_align = cases[i]->align;
    t->align = (uint8_t)align;
    t->size = align_to(cap_add(align_to(ds, case_align), max_size), align);
    t->flat_count = (uint16_t)(max_flat + 1 > EOS_CM_FLAT_CAP ? EOS_CM_FLAT_CAP : max_flat + 1);
}

void eos_cm__type_layout(eos_cm_type *t)
{
    switch (t->kind) {
    case EOS_CM_LIST:
    case EOS_CM_STRING:
        t->size = 8, t->align = 4, t->flat_count = 2;
        break;
    case EOS_CM_OWN:
    case EOS_CM_BORROW:
        t->size = 4, t->align = 4, t->flat_count = 1;
        break;
    case EOS_CM_RECORD:
    case EOS_CM_TUPLE: {
        uint32_t s = 0, align = 1, flat = 0;
        for (uint32_t i = 0; i < t->count; i++) {
            const eos_cm_type *f = t->types[i];
            s = cap_add(align_to(s, f->align), f->size);
            if (f->align > align)
                align = f->align;
            flat += f->flat_count;
        }
        t->align = (uint8_t)align;
        t->size = align_to(s, align);
        t->flat_count = (uint16_t)(flat > EOS_CM_FLAT_CAP ? EOS_CM_FLAT_CAP : flat);
        break;
    }
    case EOS_CM_VARIANT:
        layout_variant(t, t->count, t->types);
        break;
    case EOS_CM_ENUM:
        t->size = t->align = (uint8_t)disc_size(t->count);
        t->flat_count = 1;
        break;
    case EOS_CM_OPTION: {
        const eos_cm_type *cases[2] = {NULL, t->elem};
        layout_variant(t, 2, cases);
        break;
    }
    case EOS_CM_RESULT: {
        const eos_cm_type *cases[2] = {t->elem, t->err};
        layout_variant(t, 2, cases);
        break;
    }
    case EOS_CM_FLAGS:
        if (t->count <= 8)
            t->size = t->align = 1;
        else if (t->count <= 16)
            t->size = t->align = 2;
        else
            t->size = 4 * ((t->count + 31) / 32), t->align = 4;
        t->flat_count = (uint16_t)((t->count + 31) / 32);
        if (t->flat_count == 0)
            t->flat_count = 1;
        break;
    default:
        break;
    }
}

static uint8_t join(uint8_t a, uint8_t b)
{
    if (a == b)
        return a;
    if ((a == EOS_WASM_I32 && b == EOS_WASM_F32) || (a == EOS_WASM_F32 && b == EOS_WASM_I32))
        return EOS_WASM_I32;
    return EOS_WASM_I64;
}

static uint32_t flatten_into(const eos_cm_type *t, uint8_t *out, uint32_t cap, uint32_t n);

static uint32_t flatten_variant(uint32_t count, const eos_cm_type *const *cases, uint8_t *out,
                                uint32_t cap, uint32_t n)
{
    uint32_t start = n;
    if (n < cap)
        out[n] = EOS_WASM_I32;
    n++;
    uint32_t width = 0;
    uint8_t tmp[256];
    for (uint32_t i = 0; i < count; i++) {
        if (!cases[i])
            continue;
        uint32_t k = flatten_into(cases[i], tmp, sizeof(tmp), 0);
        for (uint32_t j = 0; j < k && j < sizeof(tmp); j++) {
            uint32_t at = start + 1 + j;
            if (j < width) {
                if (at < cap)
                    out[at] = join(out[at], tmp[j]);
            } else if (at < cap) {
                out[at] = tmp[j];
            }
        }
        if (k > width)
            width = k;
    }
    return n + width;
}

static uint32_t flatten_into(const eos_cm_type *t, uint8_t *out, uint32_t cap, uint32_t n)
{
#define PUT(v)                                                                                     \
    do {                                                                                           \
        if (n < cap)                                                                               \
            out[n] = (v);                                                                          \
        n++;                                                                                       \
    } while (0)
    switch (t->kind) {
    case EOS_CM_S64:
    case EOS_CM_U64:
        PUT(EOS_WASM_I64);
        break;
    case EOS_CM_F32:
        PUT(EOS_WASM_F32);
        break;
    case EOS_CM_F64:
        PUT(EOS_WASM_F64);
        break;
    case EOS_CM_STRING:
    case EOS_CM_LIST:
        PUT(EOS_WASM_I32);
        PUT(EOS_WASM_I32);
        break;
    case EOS_CM_RECORD:
    case EOS_CM_TUPLE:
        for (uint32_t i = 0; i < t->count && n <= cap; i++)
            n = flatten_into(t->types[i], out, cap, n);
        break;
    case EOS_CM_VARIANT:
        n = flatten_variant(t->count, t->types, out, cap, n);
        break;
    case EOS_CM_OPTION: {
        const eos_cm_type *cases[2] = {NULL, t->elem};
        n = flatten_variant(2, cases, out, cap, n);
        break;
    }
    case EOS_CM_RESULT: {
        const eos_cm_type *cases[2] = {t->elem, t->err};
        n = flatten_variant(2, cases, out, cap, n);
        break;
    }
    case EOS_CM_FLAGS:
        for (uint32_t i = 0; i < t->flat_count; i++)
            PUT(EOS_WASM_I32);
        break;
    default:
        PUT(EOS_WASM_I32);
        break;
    }
#undef PUT
    return n;
}

uint32_t eos_cm__flatten(const eos_cm_type *t, uint8_t *out, uint32_t cap)
{
    return flatten_into(t, out, cap, 0);
}

void eos_cm__flatsig_of(const eos_cm_functype *ft, bool lower, eos_cm__flatsig *out)
{
    memset(out, 0, sizeof(*out));
    uint32_t n = 0;
    for (uint32_t i = 0; i < ft->param_count && n <= EOS_CM_MAX_FLAT_PARAMS; i++)
        n = flatten_into(ft->params[i], out->params, EOS_CM_MAX_FLAT_PARAMS + 1, n);
    if (n > EOS_CM_MAX_FLAT_PARAMS) {
        out->params_spill = true;
        out->params[0] = EOS_WASM_I32;
        n = 1;
    }
    out->param_count = n;
    uint32_t r = 0;
    for (uint32_t i = 0; i < ft->result_count && r <= EOS_CM_MAX_FLAT_RESULTS; i++)
        r = flatten_into(ft->results[i], out->results, EOS_CM_MAX_FLAT_RESULTS + 1, r);
    if (r > EOS_CM_MAX_FLAT_RESULTS) {
        out->results_spill = true;
        if (lower) {
            /* A lowered import takes a return pointer as its last parameter. */
            if (out->param_count < EOS_CM_MAX_FLAT_PARAMS + 1)
                out->params[out->param_count] = EOS_WASM_I32;
            out->param_count++;
            r = 0;
        } else {
            out->results[0] = EOS_WASM_I32;
            r = 1;
        }
    }
    out->result_count = r;
}

bool eos_cm__type_has_borrow(const eos_cm_type *t, int depth)
{
    if (!t || depth > EOS_CM_MAX_DEPTH)
        return false;
    if (t->kind == EOS_CM_BORROW)
        return true;
    if (eos_cm__type_has_borrow(t->elem, depth + 1) || eos_cm__type_has_borrow(t->err, depth + 1))
        return true;
    if (t->types)
        for (uint32_t i = 0; i < t->count; i++)
            if (eos_cm__type_has_borrow(t->types[i], depth + 1))
                return true;
    return false;
}

static bool names_equal(const eos_cm_type *a, const eos_cm_type *b)
{
    if (!a->names || !b->names)
        return a->names == b->names;
    for (uint32_t i = 0; i < a->count; i++)
        if (strcmp(a->names[i], b->names[i]) != 0)
            return false;
    return true;
}

static bool opt_equal(const eos_cm_type *a, const eos_cm_type *b, int depth)
{
    if (!a || !b)
        return a == b;
    return eos_cm__type_equal(a, b, depth + 1);
}

bool eos_cm__type_equal(const eos_cm_type *a, const eos_cm_type *b, int depth)
{
    if (a == b)
        return true;
    if (depth > EOS_CM_MAX_DEPTH || a->kind != b->kind || a->count != b->count)
        return false;
    switch (a->kind) {
    case EOS_CM_LIST:
    case EOS_CM_OPTION:
        return opt_equal(a->elem, b->elem, depth);
    case EOS_CM_RESULT:
        return opt_equal(a->elem, b->elem, depth) && opt_equal(a->err, b->err, depth);
    case EOS_CM_ENUM:
    case EOS_CM_FLAGS:
        return names_equal(a, b);
    case EOS_CM_RECORD:
    case EOS_CM_VARIANT:
        if (!names_equal(a, b))
            return false;
        /* fall through */
    case EOS_CM_TUPLE:
        for (uint32_t i = 0; i < a->count; i++)
            if (!opt_equal(a->types[i], b->types[i], depth))
                return false;
        return true;
    case EOS_CM_OWN:
    case EOS_CM_BORROW:
        /* Resources of different type spaces meet at links: their names decide. */
        {
            const char *x = a->rdesc ? ((const eos_cm__rdesc *)a->rdesc)->name : a->rname;
            const char *y = b->rdesc ? ((const eos_cm__rdesc *)b->rdesc)->name : b->rname;
            return x && y && strcmp(x, y) == 0;
        }
    default:
        return true;
    }
}

bool eos_cm__functype_equal(const eos_cm_functype *a, const eos_cm_functype *b)
{
    if (a->param_count != b->param_count || a->result_count != b->result_count)
        return false;
    for (uint32_t i = 0; i < a->param_count; i++)
        if (!eos_cm__type_equal(a->params[i], b->params[i], 0))
            return false;
    for (uint32_t i = 0; i < a->result_count; i++)
        if (!eos_cm__type_equal(a->results[i], b->results[i], 0))
            return false;
    return true;
}
