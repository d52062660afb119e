/* libFuzzer target: builds a random component type and a random value of it
 * from the input, lowers the value into a mock linear memory (and to flat
 * core values), lifts it back and requires equality; then lifts the input's
 * raw bytes as that type, which must trap or succeed, never misbehave. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct src {
    const uint8_t *p;
    size_t n;
} src;

static uint32_t take(src *s, uint32_t mod)
{
    uint32_t v = 0;
    for (int i = 0; i < 4 && s->n; i++, s->p++, s->n--)
        v = v << 8 | *s->p;
    return mod ? v % mod : v;
}

static const char *labels[] = {"a",  "b",  "c",  "d",  "e",  "f",  "g",  "h",  "i",  "j",
                               "k",  "l",  "m",  "n",  "o",  "p",  "q",  "r",  "s",  "t",
                               "u",  "v",  "w",  "x",  "y",  "z",  "a1", "b1", "c1", "d1",
                               "e1", "f1", "g1", "h1", "i1", "j1", "k1", "l1", "m1", "n1"};

static const eos_cm_type *gen_type(eos_cm_arena *a, src *s, int depth)
{
    uint32_t k = take(s, depth > 3 ? EOS_CM_STRING + 1 : EOS_CM_FLAGS + 1);
    if (k <= EOS_CM_STRING)
        return eos_cm_prim((eos_cm_kind)k);
    eos_cm_type *t = eos_cm__type_new(a, (uint8_t)k);
    if (!t)
        return NULL;
    uint32_t n = 1 + take(s, 4);
    const eos_cm_type **types = eos_cm_arena_alloc(a, 40 * sizeof(void *));
    if (!types)
        return NULL;
    switch (k) {
    case EOS_CM_LIST:
    case EOS_CM_OPTION:
        t->elem = gen_type(a, s, depth + 1);
        t->count = k == EOS_CM_OPTION ? 2 : 0;
        break;
    case EOS_CM_RESULT:
        t->elem = take(s, 2) ? gen_type(a, s, depth + 1) : NULL;
        t->err = take(s, 2) ? gen_type(a, s, depth + 1) : NULL;
        t->count = 2;
        break;
    case EOS_CM_RECORD:
    case EOS_CM_TUPLE:
    case EOS_CM_VARIANT:
        for (uint32_t i = 0; i < n; i++)
            types[i] = (k == EOS_CM_VARIANT && take(s, 3) == 0) ? NULL : gen_type(a, s, depth + 1);
        t->types = types, t->count = n;
        t->names = k == EOS_CM_TUPLE ? NULL : labels;
        break;
    case EOS_CM_ENUM:
        t->count = n, t->names = labels;
        break;
    case EOS_CM_FLAGS:
        t->count = 1 + take(s, 40), t->names = labels;
        break;
    }
    for (uint32_t i = 0; t->types && i < t->count; i++)
        if (k != EOS_CM_VARIANT && !t->types[i])
            return NULL;
    if ((k == EOS_CM_LIST || k == EOS_CM_OPTION) && !t->elem)
        return NULL;
    eos_cm__type_layout(t);
    return t;
}

static const char *strs[] = {"", "x", "héllo", "日本", "😀z", "\xc3\xa9t\xc3\xa9"};

static int gen_val(eos_cm_arena *a, src *s, const eos_cm_type *t, eos_cm_val *v, int depth)
{
    memset(v, 0, sizeof(*v));
    uint32_t r = take(s, 0);
    switch (t->kind) {
    case EOS_CM_BOOL:
        v->of.b = r & 1;
        break;
    case EOS_CM_S8:
        v->of.s = (int8_t)r;
        break;
    case EOS_CM_U8:
        v->of.u = (uint8_t)r;
        break;
    case EOS_CM_S16:
        v->of.s = (int16_t)r;
        break;
    case EOS_CM_U16:
        v->of.u = (uint16_t)r;
        break;
    case EOS_CM_S32:
        v->of.s = (int32_t)r;
        break;
    case EOS_CM_U32:
        v->of.u = r;
        break;
    case EOS_CM_S64:
        v->of.s = (int64_t)((uint64_t)r << 32 | take(s, 0));
        break;
    case EOS_CM_U64:
        v->of.u = (uint64_t)r << 32 | take(s, 0);
        break;
    case EOS_CM_F32:
        memcpy(&v->of.f32, &r, 4);
        break;
    case EOS_CM_F64: {
        uint64_t b = (uint64_t)r << 32 | take(s, 0);
        memcpy(&v->of.f64, &b, 8);
        break;
    }
    case EOS_CM_CHAR:
        v->of.ch = r % 0x110000;
        if (v->of.ch >= 0xd800 && v->of.ch < 0xe000)
            v->of.ch = 'x';
        break;
    case EOS_CM_STRING:
        v->of.str.ptr = strs[r % 6];
        v->of.str.len = strlen(strs[r % 6]);
        break;
    case EOS_CM_LIST: {
        uint32_t n = r % 5;
        v->of.list.len = n;
        if (t->elem->kind == EOS_CM_U8 || t->elem->kind == EOS_CM_S8) {
            v->of.list.bytes = (const uint8_t *)"abcd";
            break;
        }
        eos_cm_val *items = eos_cm_arena_alloc(a, (n + 1) * sizeof(*items));
        if (!items)
            return -1;
        for (uint32_t i = 0; i < n; i++)
            if (gen_val(a, s, t->elem, &items[i], depth + 1))
                return -1;
        v->of.list.items = items;
        break;
    }
    case EOS_CM_RECORD:
    case EOS_CM_TUPLE: {
        eos_cm_val *items = eos_cm_arena_alloc(a, t->count * sizeof(*items));
        if (!items)
            return -1;
        for (uint32_t i = 0; i < t->count; i++)
            if (gen_val(a, s, t->types[i], &items[i], depth + 1))
                return -1;
        v->of.list.items = items;
        v->of.list.len = t->count;
        break;
    }
    case EOS_CM_VARIANT:
    case EOS_CM_ENUM:
    case EOS_CM_OPTION:
    case EOS_CM_RESULT: {
        uint32_t n = t->kind == EOS_CM_OPTION || t->kind == EOS_CM_RESULT ? 2 : t->count;
        v->of.var.index = r % n;
        const eos_cm_type *ct = t->kind == EOS_CM_VARIANT  ? t->types[v->of.var.index]
                                : t->kind == EOS_CM_OPTION ? (v->of.var.index ? t->elem : NULL)
                                : t->kind == EOS_CM_RESULT ? (v->of.var.index ? t->err : t->elem)
                                                           : NULL;
        if (ct) {
            eos_cm_val *pl = eos_cm_arena_alloc(a, sizeof(*pl));
            if (!pl || gen_val(a, s, ct, pl, depth + 1))
                return -1;
            v->of.var.payload = pl;
        }
        break;
    }
    case EOS_CM_FLAGS:
        v->of.flags.bits =
            ((uint64_t)r << 32 | take(s, 0)) & (t->count >= 64 ? ~0ull : (1ull << t->count) - 1);
        break;
    }
    return 0;
}

#define MEM (64 * 1024)
static uint8_t mem[MEM];
static uint32_t bump;

static uint32_t mock_realloc(void *ud, uint32_t old, uint32_t old_size, uint32_t align, uint32_t n)
{
    bump = (bump + align - 1) / align * align;
    uint32_t p = bump;
    bump += n;
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    src s = {data, size};
    eos_cm_arena *a = eos_cm_arena_new();
    eos_diag d;
    eos_cm__cx cx = {
        .mock_mem = mem, .mock_size = MEM, .mock_realloc = mock_realloc, .copy = true, .diag = &d};
    if (!a)
        return 0;
    cx.arena = a;
    cx.encoding = (uint8_t)take(&s, 3);
    const eos_cm_type *t = gen_type(a, &s, 0);
    eos_cm_val v, back;
    if (t && gen_val(a, &s, t, &v, 0) == 0) {
        bump = 8;
        eos_diag_init(&d);
        uint32_t ptr = mock_realloc(NULL, 0, 0, t->align, t->size);
        if (ptr + (uint64_t)t->size <= MEM && eos_cm__store(&cx, t, &v, ptr, 0) == 0) {
            if (eos_cm__load(&cx, t, ptr, &back, 0) != 0 || !eos_cm_val_equal(t, &v, &back))
                abort();
        }
        uint64_t flat[300];
        uint32_t pos = 0;
        eos_diag_init(&d);
        if (eos_cm__lower_flat(&cx, t, &v, flat, &pos, 300, 0) == 0) {
            uint32_t n = pos;
            pos = 0;
            if (eos_cm__lift_flat(&cx, t, flat, &pos, n, &back, 0) != 0 ||
                !eos_cm_val_equal(t, &v, &back))
                abort();
        }
        /* Lifting arbitrary bytes must be safe. */
        memset(mem, 0, MEM);
        memcpy(mem, data, size < MEM ? size : MEM);
        eos_diag_init(&d);
        static FILE *null;
        if (!null)
            null = fopen("/dev/null", "w");
        if (eos_cm__load(&cx, t, 0, &back, 0) == 0 && null)
            eos_cm_val_print(t, &back, null);
    }
    eos_cm_arena_free(a);
    return 0;
}
