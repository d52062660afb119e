/* Unit tests of the canonical ABI against a mock linear memory: every type
 * lowered and lifted back (flat and in memory, each string encoding), the
 * layout rules, and the traps for invalid guest data and handle misuse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

#define MEM_SIZE (1u << 20)

static uint8_t mem[MEM_SIZE];
static uint32_t bump;

static uint32_t mock_realloc(void *ud, uint32_t old, uint32_t old_size, uint32_t align,
                             uint32_t new_size)
{
    (void)ud, (void)old, (void)old_size;
    bump = (bump + align - 1) / align * align;
    uint32_t p = bump;
    bump += new_size;
    return p;
}

static eos_cm_types *ts;
static eos_cm_arena *arena;
static eos_diag diag;

static void cx_setup(eos_cm__cx *cx, uint8_t enc, eos_cm__table *table)
{
    memset(cx, 0, sizeof(*cx));
    cx->mock_mem = mem;
    cx->mock_size = MEM_SIZE;
    cx->mock_realloc = mock_realloc;
    cx->encoding = enc;
    cx->arena = arena;
    cx->copy = true;
    cx->table = table;
    cx->diag = &diag;
    eos_diag_init(&diag);
    bump = 16;
}

static const eos_cm_type *T(const char *expr)
{
    const eos_cm_type *t = NULL;
    eos_diag d;
    eos_diag_init(&d);
    if (eos_cm_types_parse(ts, expr, &t, &d) != 0)
        fprintf(stderr, "parse %s: %s\n", expr, d.message);
    return t;
}

/* Lowers v into memory and flat form, lifts both back, compares. */
static void roundtrip(const eos_cm_type *t, const eos_cm_val *v)
{
    for (uint8_t enc = 0; enc < 3; enc++) {
        eos_cm__cx cx;
        eos_cm_val back;
        cx_setup(&cx, enc, NULL);
        uint32_t ptr = mock_realloc(NULL, 0, 0, t->align, t->size);
        EOS_CHECK_INT(eos_cm__store(&cx, t, v, ptr, 0), 0);
        EOS_CHECK_INT(eos_cm__load(&cx, t, ptr, &back, 0), 0);
        bool eq = eos_cm_val_equal(t, v, &back);
        if (!eq || diag.code) {
            fprintf(stderr, "memory roundtrip (encoding %u) of ", enc);
            eos_cm_type_print(t, stderr);
            fprintf(stderr, ": %s\n", diag.message);
        }
        EOS_CHECK(eq);
        uint64_t flat[300];
        uint32_t pos = 0, n = t->flat_count;
        EOS_CHECK_INT(eos_cm__lower_flat(&cx, t, v, flat, &pos, 300, 0), 0);
        EOS_CHECK_INT(pos, n);
        pos = 0;
        EOS_CHECK_INT(eos_cm__lift_flat(&cx, t, flat, &pos, n, &back, 0), 0);
        EOS_CHECK(eos_cm_val_equal(t, v, &back));
        eos_cm__cx_dispose(&cx);
        eos_cm_arena_reset(arena);
    }
}

static void test_layout(void)
{
    EOS_CHECK_INT(T("u8")->size, 1);
    EOS_CHECK_INT(T("tuple<u8, u64>")->size, 16);
    EOS_CHECK_INT(T("tuple<u8, u64>")->align, 8);
    EOS_CHECK_INT(T("option<u8>")->size, 2);
    EOS_CHECK_INT(T("result<u64, string>")->size, 16);
    EOS_CHECK_INT(T("result<u64, string>")->flat_count, 3);
    EOS_CHECK_INT(T("string")->flat_count, 2);
    EOS_CHECK_INT(T("fl40")->size, 8);
    EOS_CHECK_INT(T("fl40")->flat_count, 2);
    EOS_CHECK_INT(T("fl8")->size, 1);
    EOS_CHECK_INT(T("fl16")->size, 2);
    EOS_CHECK_INT(T("fl32")->size, 4);
    EOS_CHECK_INT(T("v")->size, 16);
    EOS_CHECK_INT(T("v")->flat_count, 3);
    uint8_t ft[8];
    EOS_CHECK_INT(eos_cm__flatten(T("v"), ft, 8), 3);
    EOS_CHECK_INT(ft[0], EOS_WASM_I32);
    EOS_CHECK_INT(ft[1], EOS_WASM_I64); /* join(i32, i32, i64) */
    EOS_CHECK_INT(ft[2], EOS_WASM_I32);
    EOS_CHECK_INT(eos_cm__flatten(T("variant2"), ft, 8), 2);
    EOS_CHECK_INT(ft[1], EOS_WASM_I32); /* join(f32, i32) */
}

static void test_roundtrip_scalars(void)
{
    static const char *types[] = {"bool", "s8",  "u8",  "s16", "u16",  "s32", "u32",
                                  "s64",  "u64", "f32", "f64", "char", "e"};
    eos_cm_val v;
    for (size_t i = 0; i < EOS_ARRAY_LEN(types); i++) {
        memset(&v, 0, sizeof(v));
        const eos_cm_type *t = T(types[i]);
        switch (t->kind) {
        case EOS_CM_BOOL:
            v.of.b = true;
            break;
        case EOS_CM_S8:
            v.of.s = -5;
            break;
        case EOS_CM_S16:
            v.of.s = -300;
            break;
        case EOS_CM_S32:
            v.of.s = -70000;
            break;
        case EOS_CM_S64:
            v.of.s = INT64_MIN + 3;
            break;
        case EOS_CM_U8:
            v.of.u = 250;
            break;
        case EOS_CM_U16:
            v.of.u = 65000;
            break;
        case EOS_CM_U32:
            v.of.u = 4000000000u;
            break;
        case EOS_CM_U64:
            v.of.u = UINT64_MAX - 1;
            break;
        case EOS_CM_F32:
            v.of.f32 = -0.5f;
            break;
        case EOS_CM_F64:
            v.of.f64 = 1e-300;
            break;
        case EOS_CM_CHAR:
            v.of.ch = 0x10ffff;
            break;
        case EOS_CM_ENUM:
            v.of.var.index = 2;
            break;
        }
        roundtrip(t, &v);
    }
}

static void test_roundtrip_compound(void)
{
    eos_cm_val v, items[4], pl, inner[3];
    memset(&v, 0, sizeof(v));
    memset(items, 0, sizeof(items));
    /* Strings in every encoding: ASCII, Latin-1, BMP and astral characters. */
    static const char *strs[] = {"", "plain", "café", "日本語", "😀 emoji 𝄞", "mixed é 日 😀"};
    for (size_t i = 0; i < EOS_ARRAY_LEN(strs); i++) {
        v.of.str.ptr = strs[i];
        v.of.str.len = strlen(strs[i]);
        roundtrip(T("string"), &v);
    }
    memset(&v, 0, sizeof(v));
    v.of.list.bytes = (const uint8_t *)"\x01\x02\xff", v.of.list.len = 3;
    roundtrip(T("list<u8>"), &v);
    v.of.list.len = 0;
    roundtrip(T("list<u8>"), &v);
    /* record r { a: u8, b: string, c: list<u32>, d: f64 } */
    items[0].of.u = 1;
    items[1].of.str.ptr = "rec", items[1].of.str.len = 3;
    eos_cm_val nums[3] = {{.of.u = 1}, {.of.u = 2}, {.of.u = 0xffffffff}};
    items[2].of.list.items = nums, items[2].of.list.len = 3;
    items[3].of.f64 = 2.5;
    memset(&v, 0, sizeof(v));
    v.of.list.items = items, v.of.list.len = 4;
    roundtrip(T("r"), &v);
    /* variant cases, including the joined i64 slot. */
    for (uint32_t c = 0; c < 4; c++) {
        memset(&pl, 0, sizeof(pl));
        memset(&v, 0, sizeof(v));
        v.of.var.index = c;
        if (c == 1)
            pl.of.u = 123;
        else if (c == 2)
            pl.of.str.ptr = "str", pl.of.str.len = 3;
        else if (c == 3)
            pl.of.u = 0x123456789abcull;
        v.of.var.payload = c ? &pl : NULL;
        roundtrip(T("v"), &v);
    }
    memset(&pl, 0, sizeof(pl));
    pl.of.f32 = 3.25f;
    memset(&v, 0, sizeof(v));
    v.of.var.index = 0, v.of.var.payload = &pl;
    roundtrip(T("variant2"), &v);
    /* flags of 1, 8, 16, 32 and 40 labels */
    static const char *fl[] = {"fl1", "fl8", "fl16", "fl32", "fl40"};
    for (size_t i = 0; i < EOS_ARRAY_LEN(fl); i++) {
        memset(&v, 0, sizeof(v));
        v.of.flags.bits =
            0xa5a5a5a5a5ull & ((T(fl[i])->count >= 64) ? ~0ull : ((1ull << T(fl[i])->count) - 1));
        roundtrip(T(fl[i]), &v);
    }
    /* option<option<u32>>, result<_, string>, tuple, list<list<string>> */
    eos_cm_val some = {.of.var = {1, &nums[1]}};
    memset(&v, 0, sizeof(v));
    v.of.var.index = 1, v.of.var.payload = &some;
    roundtrip(T("option<option<u32>>"), &v);
    memset(&pl, 0, sizeof(pl));
    pl.of.str.ptr = "error", pl.of.str.len = 5;
    memset(&v, 0, sizeof(v));
    v.of.var.index = 1, v.of.var.payload = &pl;
    roundtrip(T("result<_, string>"), &v);
    v.of.var.index = 0, v.of.var.payload = NULL;
    roundtrip(T("result<_, string>"), &v);
    eos_cm_val strs2[2] = {{.of.str = {"x", 1}}, {.of.str = {"yz", 2}}};
    memset(inner, 0, sizeof(inner));
    inner[0].of.list.items = strs2, inner[0].of.list.len = 2;
    inner[2].of.list.items = strs2 + 1, inner[2].of.list.len = 1;
    memset(&v, 0, sizeof(v));
    v.of.list.items = inner, v.of.list.len = 3;
    roundtrip(T("list<list<string>>"), &v);
    eos_cm_val tup[2] = {{.of.ch = 'A'}, {.of.s = -1}};
    memset(&v, 0, sizeof(v));
    v.of.list.items = tup, v.of.list.len = 2;
    roundtrip(T("tuple<char, s64>"), &v);
}

static void test_spill(void)
{
    /* 17 u32 parameters spill to memory when lowered with alloc. */
    const eos_cm_type *u32 = T("u32");
    const eos_cm_type *types[17];
    eos_cm_val vals[17], back[17];
    for (int i = 0; i < 17; i++) {
        types[i] = u32;
        memset(&vals[i], 0, sizeof(vals[i]));
        vals[i].of.u = (uint64_t)i * 3;
    }
    eos_cm__cx cx;
    cx_setup(&cx, 0, NULL);
    uint64_t flat[17] = {0};
    EOS_CHECK_INT(eos_cm__lower_values(&cx, 17, types, vals, flat, 16, true, 0), 0);
    EOS_CHECK_INT(eos_cm__lift_values(&cx, 17, types, flat, 1, 16, back), 0);
    for (int i = 0; i < 17; i++)
        EOS_CHECK_INT(back[i].of.u, (uint64_t)i * 3);
    /* A spilled pointer out of bounds traps. */
    flat[0] = MEM_SIZE - 8;
    EOS_CHECK_INT(eos_cm__lift_values(&cx, 17, types, flat, 1, 16, back), EOS_TRAP_CANON);
    EOS_CHECK(strstr(diag.message, "outside linear memory") != NULL);
    eos_cm_arena_reset(arena);
}

static void expect_load_trap(const char *type, uint32_t ptr, uint8_t enc, const char *msg)
{
    eos_cm__cx cx;
    eos_cm_val v;
    cx_setup(&cx, enc, NULL);
    EOS_CHECK_INT(eos_cm__load(&cx, T(type), ptr, &v, 0), EOS_TRAP_CANON);
    if (!strstr(diag.message, msg))
        fprintf(stderr, "%s: got \"%s\", want \"%s\"\n", type, diag.message, msg);
    EOS_CHECK(strstr(diag.message, msg) != NULL);
    eos_cm_arena_reset(arena);
}

static void put32(uint32_t at, uint32_t v)
{
    memcpy(mem + at, &v, 4);
}

static void test_traps(void)
{
    /* string (ptr 100, len 3) with invalid UTF-8 */
    put32(0, 100), put32(4, 3);
    memcpy(mem + 100, "a\xc3(", 3);
    expect_load_trap("string", 0, 0, "invalid UTF-8");
    /* utf16 with an unpaired surrogate, and a misaligned pointer */
    put32(0, 100), put32(4, 1);
    mem[100] = 0x00, mem[101] = 0xd8;
    expect_load_trap("string", 0, 1, "unpaired surrogate");
    put32(0, 101);
    expect_load_trap("string", 0, 1, "not 2-byte aligned");
    /* latin1+utf16 strings are 2-aligned in their latin1 form too */
    put32(0, 101), put32(4, 1);
    mem[101] = 'a';
    expect_load_trap("string", 0, 2, "not 2-byte aligned");
    /* string length beyond memory */
    put32(0, 100), put32(4, MEM_SIZE);
    expect_load_trap("string", 0, 0, "outside linear memory");
    /* list pointer out of bounds, list pointer misaligned */
    put32(0, MEM_SIZE - 4), put32(4, 2);
    expect_load_trap("list<u32>", 0, 0, "outside linear memory");
    put32(0, 2), put32(4, 1);
    expect_load_trap("list<u32>", 0, 0, "not aligned to 4");
    /* discriminants out of range, invalid char, bad handle */
    mem[0] = 4;
    expect_load_trap("v", 0, 0, "variant discriminant 4 out of range (4 cases)");
    mem[0] = 2;
    expect_load_trap("option<u8>", 0, 0, "option discriminant 2 out of range");
    mem[0] = 2;
    expect_load_trap("result<u8, u8>", 0, 0, "result discriminant 2 out of range");
    mem[0] = 3;
    expect_load_trap("e", 0, 0, "enum discriminant 3 out of range");
    put32(0, 0x110000);
    expect_load_trap("char", 0, 0, "invalid char value 0x110000");
    put32(0, 0xdfff);
    expect_load_trap("char", 0, 0, "invalid char value 0xdfff");
    /* misaligned value and out-of-range pointer */
    expect_load_trap("u32", 2, 0, "not aligned");
    expect_load_trap("u64", MEM_SIZE, 0, "outside linear memory");
    /* unknown flag bits are ignored, as the specification says */
    eos_cm__cx cx;
    eos_cm_val v;
    cx_setup(&cx, 0, NULL);
    mem[0] = 0xff;
    EOS_CHECK_INT(eos_cm__load(&cx, T("fl1"), 0, &v, 0), 0);
    EOS_CHECK_INT(v.of.flags.bits, 1);
    /* flat lifting checks too */
    uint64_t flat[3] = {9, 0, 0};
    uint32_t pos = 0;
    EOS_CHECK_INT(eos_cm__lift_flat(&cx, T("v"), flat, &pos, 3, &v, 0), EOS_TRAP_CANON);
    EOS_CHECK(strstr(diag.message, "discriminant 9") != NULL);
    eos_cm_arena_reset(arena);
}

static uint32_t bad_result;

static uint32_t bad_realloc(void *ud, uint32_t old, uint32_t old_size, uint32_t align,
                            uint32_t new_size)
{
    return bad_result;
}

static void test_bad_realloc(void)
{
    /* A guest realloc returning a misaligned or out-of-bounds block traps. */
    eos_cm__cx cx;
    eos_cm_val v = {.of.str = {"abcd", 4}};
    eos_cm_val items[2] = {{.of.u = 1}, {.of.u = 2}}, l;
    memset(&l, 0, sizeof(l));
    l.of.list.items = items, l.of.list.len = 2;
    uint64_t flat[2];
    uint32_t pos = 0;
    cx_setup(&cx, 0, NULL);
    cx.mock_realloc = bad_realloc;
    bad_result = MEM_SIZE - 2;
    EOS_CHECK_INT(eos_cm__lower_flat(&cx, T("string"), &v, flat, &pos, 2, 0), EOS_TRAP_CANON);
    EOS_CHECK(strstr(diag.message, "realloc returned [1048574, +4), outside linear memory") !=
              NULL);
    cx_setup(&cx, 0, NULL);
    cx.mock_realloc = bad_realloc;
    bad_result = 6;
    pos = 0;
    EOS_CHECK_INT(eos_cm__lower_flat(&cx, T("list<u64>"), &l, flat, &pos, 2, 0), EOS_TRAP_CANON);
    EOS_CHECK(strstr(diag.message, "realloc returned 6, not aligned to 8") != NULL);
    /* utf16 needs 2-byte alignment */
    cx_setup(&cx, 1, NULL);
    cx.mock_realloc = bad_realloc;
    bad_result = 1;
    pos = 0;
    EOS_CHECK_INT(eos_cm__lower_flat(&cx, T("string"), &v, flat, &pos, 2, 0), EOS_TRAP_CANON);
    EOS_CHECK(strstr(diag.message, "not aligned to 2") != NULL);
    eos_cm_arena_reset(arena);
}

static void test_handles(void)
{
    /* Own and borrow handles of one resource type in a table: lending an own
     * handle for a call blocks moving it until the call ends. */
    eos_cm_resource rt = {.name = "blob"};
    const eos_cm_resource *rmap[1] = {&rt};
    eos_cm__table table = {0};
    eos_cm__cx cx;
    cx_setup(&cx, 0, &table);
    cx.rmap = rmap;
    const eos_cm_type *own = T("own<blob>"), *borrow = T("borrow<blob>");
    eos_cm_val v = {.of.handle = 77}, out;
    uint64_t flat[1];
    uint32_t pos = 0;
    EOS_CHECK_INT(eos_cm__lower_flat(&cx, own, &v, flat, &pos, 1, 0), 0);
    uint32_t h = (uint32_t)flat[0];
    EOS_CHECK(h != 0);
    pos = 0;
    EOS_CHECK_INT(eos_cm__lift_flat(&cx, borrow, flat, &pos, 1, &out, 0), 0);
    EOS_CHECK_INT(out.of.handle, 77);
    EOS_CHECK_INT(eos_cm__table_get(&table, h)->lend_count, 1);
    pos = 0;
    EOS_CHECK_INT(eos_cm__lift_flat(&cx, own, flat, &pos, 1, &out, 0), EOS_TRAP_CANON);
    EOS_CHECK(strstr(diag.message, "while it is lent out") != NULL);
    eos_cm__cx_finish(&cx);
    EOS_CHECK_INT(eos_cm__table_get(&table, h)->lend_count, 0);
    eos_diag_init(&diag);
    pos = 0;
    EOS_CHECK_INT(eos_cm__lift_flat(&cx, own, flat, &pos, 1, &out, 0), 0);
    EOS_CHECK_INT(out.of.handle, 77);
    /* The handle is gone now; using it again traps. */
    pos = 0;
    EOS_CHECK_INT(eos_cm__lift_flat(&cx, borrow, flat, &pos, 1, &out, 0), EOS_TRAP_CANON);
    EOS_CHECK(strstr(diag.message, "unknown handle index") != NULL);
    /* A handle of another resource type is refused. */
    eos_cm_resource other = {.name = "other"};
    eos_cm__handle oh = {.rt = &other, .rep = 5, .own = true};
    uint32_t oi;
    EOS_CHECK_INT(eos_cm__table_add(&cx, &table, oh, &oi), 0);
    flat[0] = oi;
    pos = 0;
    eos_diag_init(&diag);
    EOS_CHECK_INT(eos_cm__lift_flat(&cx, own, flat, &pos, 1, &out, 0), EOS_TRAP_CANON);
    EOS_CHECK(strstr(diag.message, "is a other, not a blob") != NULL);
    /* A borrow handle cannot be moved as own. */
    pos = 0;
    v.of.handle = 9;
    EOS_CHECK_INT(eos_cm__lower_flat(&cx, borrow, &v, flat, &pos, 1, 0), 0);
    EOS_CHECK_INT(table.borrows, 1);
    pos = 0;
    eos_diag_init(&diag);
    EOS_CHECK_INT(eos_cm__lift_flat(&cx, own, flat, &pos, 1, &out, 0), EOS_TRAP_CANON);
    EOS_CHECK(strstr(diag.message, "is a borrow where an owned handle was expected") != NULL);
    eos_cm__cx_dispose(&cx);
    eos_cm__table_free(&table);
    eos_cm_arena_reset(arena);
}

static void test_out_of_memory(void)
{
    /* Every allocation failing on the way must give ENOMEM, never a crash. */
    for (long n = 1; n < 40; n++) {
        eos_cm_types *t2 = NULL;
        eos_test_fail_alloc_after(n, 1);
        int rc = eos_cm_types_new(&t2);
        if (rc == 0) {
            eos_diag d;
            eos_diag_init(&d);
            rc = eos_cm_types_declare(t2, "record r { a: u8, b: list<string> } flags f { x, y }",
                                      &d);
        }
        eos_test_fail_alloc_after(0, 0);
        EOS_CHECK(rc == 0 || rc == EOS_ENOMEM);
        eos_cm_types_free(t2);
    }
}

/* The value walk: positions in the canonical ABI layout, shape checks, and
 * building a value from a visitor. */
typedef struct seen {
    int n;
    eos_cm_walk_pos pos[16];
    char why[160];
} seen;

static int seen_pre(void *ud, const eos_cm_type *t, const eos_cm_val *v, const eos_cm_walk_pos *p)
{
    seen *s = ud;
    if (s->n < 16)
        s->pos[s->n] = *p;
    s->n++;
    return 0;
}

static int seen_bad(void *ud, const char *why)
{
    snprintf(((seen *)ud)->why, sizeof(((seen *)ud)->why), "%s", why);
    return EOS_TRAP_CANON;
}

static int count_pre(void *ud, const eos_cm_type *t, eos_cm_val *v, const eos_cm_walk_pos *p)
{
    if (t->kind == EOS_CM_LIST)
        v->of.list.len = 3;
    else
        v->of.u = 10 + p->index;
    return 0;
}

static void test_walk(void)
{
    /* r: a at 0, b (string) at 4, c (list) at 12, d (f64) at 24; flat 0, 1, 3, 5. */
    eos_cm_val items[4], elems[2];
    memset(items, 0, sizeof(items));
    memset(elems, 0, sizeof(elems));
    items[1].of.str.ptr = "x";
    items[1].of.str.len = 1;
    items[2].of.list.items = elems;
    items[2].of.list.len = 2;
    eos_cm_val rec = {.of.list = {.items = items, .len = 4}};
    seen s = {0};
    eos_cm_walker w = {.pre = seen_pre, .bad = seen_bad, .ud = &s};
    EOS_CHECK_INT(eos_cm_val_walk(T("r"), &rec, &w), 0);
    EOS_CHECK_INT(s.n, 7); /* the record, four members, two list elements */
    EOS_CHECK_INT(s.pos[0].depth, 0);
    EOS_CHECK_STR(s.pos[2].name, "b");
    EOS_CHECK_INT(s.pos[2].offset, 4);
    EOS_CHECK_INT(s.pos[3].offset, 12);
    EOS_CHECK_INT(s.pos[3].flat, 3);
    EOS_CHECK_INT(s.pos[5].depth, 2); /* c's second element, 4 bytes after the first */
    EOS_CHECK_INT(s.pos[5].offset, 4);
    EOS_CHECK_INT(s.pos[6].offset, 24);
    EOS_CHECK_INT(s.pos[6].flat, 5);

    /* A case's payload sits after the discriminant, aligned for every case. */
    eos_cm_val big = {.of.u = 7}, var = {.of.var = {.index = 3, .payload = &big}};
    s.n = 0;
    EOS_CHECK_INT(eos_cm_val_walk(T("v"), &var, &w), 0);
    EOS_CHECK_INT(s.n, 2);
    EOS_CHECK_INT(s.pos[1].offset, 8);
    EOS_CHECK_INT(s.pos[1].flat, 1);
    EOS_CHECK_STR(s.pos[1].name, "big");

    /* Values that do not fit their type reach bad, not the visitor. */
    var.of.var.index = 4;
    s.n = 0;
    EOS_CHECK_INT(eos_cm_val_walk(T("v"), &var, &w), EOS_TRAP_CANON);
    EOS_CHECK_INT(s.n, 0);
    EOS_CHECK_STR(s.why, "case index 4 out of range (4 cases)");
    var.of.var.index = 1;
    var.of.var.payload = NULL;
    EOS_CHECK_INT(eos_cm_val_walk(T("v"), &var, &w), EOS_TRAP_CANON);
    EOS_CHECK_STR(s.why, "case 1 needs a payload");

    /* Building: the visitor gives the list's length, the walk its elements. */
    eos_cm_val built;
    eos_cm_builder b = {.pre = count_pre, .arena = arena};
    EOS_CHECK_INT(eos_cm_val_build(T("list<u32>"), &built, &b), 0);
    EOS_CHECK_INT(built.of.list.len, 3);
    EOS_CHECK(built.of.list.items && built.of.list.items[2].of.u == 12);

    EOS_CHECK(eos_cm_type_has_handles(T("list<option<own<blob>>>")));
    EOS_CHECK(!eos_cm_type_has_handles(T("r")));
    EOS_CHECK_INT(eos_cm_type_case_count(T("option<u8>")), 2);
    EOS_CHECK(eos_cm_type_case(T("result<u8>"), 1) == NULL);
}

int main(void)
{
    eos_diag d;
    eos_diag_init(&d);
    arena = eos_cm_arena_new();
    eos_cm_types_new(&ts);
    int rc = eos_cm_types_declare(
        ts,
        "record r { a: u8, b: string, c: list<u32>, d: f64 }\n"
        "variant v { none, num(u32), text(string), big(u64) }\n"
        "variant variant2 { a(f32), b(u32) }\n"
        "enum e { red, green, blue }\n"
        "flags fl1 { a }\n"
        "flags fl8 { a0, a1, a2, a3, a4, a5, a6, a7 }\n"
        "flags fl16 { a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15 }\n"
        "flags fl32 { a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, "
        "a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31 }\n"
        "flags fl40 { a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, "
        "a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31, a32, a33, a34, "
        "a35, a36, a37, a38, a39 }\n"
        "resource blob;\n",
        &d);
    if (rc)
        fprintf(stderr, "declare: %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    EOS_RUN(test_layout);
    EOS_RUN(test_roundtrip_scalars);
    EOS_RUN(test_roundtrip_compound);
    EOS_RUN(test_spill);
    EOS_RUN(test_traps);
    EOS_RUN(test_bad_realloc);
    EOS_RUN(test_handles);
    EOS_RUN(test_out_of_memory);
    EOS_RUN(test_walk);
    eos_cm_types_free(ts);
    eos_cm_arena_free(arena);
    return eos_test_finish();
}
