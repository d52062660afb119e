/* memory64, table64 and custom page sizes at their edges: a 64-bit memory
 * grown past the store's limit (and its type's) fails with -1 and keeps
 * running; an address plus offset past 2^64 traps instead of wrapping; a
 * 64-bit table index is checked whole; a memory that cannot be had is
 * refused at instantiation; 1-byte pages count bytes. The modules are
 * assembled here so the test needs no text-format tool. */
#include <stdio.h>
#include <string.h>

#include "eos/wasm.h"
#include "harness.h"

/* Built once per tier (test_mem64_compiled: the compiled tier's explicit
 * 64-bit bounds checks and runtime helpers). */
#ifndef EOS_TEST_TIER
#define EOS_TEST_TIER EOS_WASM_TIER_INTERP
#endif

/* (memory (export "mem") i64 1 100000) (table i64 1 1 funcref) (elem (i64.const 0) 5)
 * grow: (param i64) (result i64) memory.grow
 * size: (result i64) memory.size
 * load_wrap: (param i64) (result i32) i32.load offset=0xfffffffffffffff0
 * load: (param i64) (result i32) i32.load
 * store: (param i64 i32) i32.store offset=16
 * call: (param i64) (result i32) call_indirect (type (result i32)), element 0 returns 42 */
static const uint8_t mem64_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x18, 0x05, 0x60, 0x01, 0x7e, 0x01, 0x7e,
    0x60, 0x00, 0x01, 0x7e, 0x60, 0x01, 0x7e, 0x01, 0x7f, 0x60, 0x02, 0x7e, 0x7f, 0x00, 0x60, 0x00,
    0x01, 0x7f, 0x03, 0x08, 0x07, 0x00, 0x01, 0x02, 0x02, 0x03, 0x04, 0x02, 0x04, 0x05, 0x01, 0x70,
    0x05, 0x01, 0x01, 0x05, 0x06, 0x01, 0x05, 0x01, 0xa0, 0x8d, 0x06, 0x07, 0x31, 0x06, 0x04, 0x67,
    0x72, 0x6f, 0x77, 0x00, 0x00, 0x04, 0x73, 0x69, 0x7a, 0x65, 0x00, 0x01, 0x09, 0x6c, 0x6f, 0x61,
    0x64, 0x5f, 0x77, 0x72, 0x61, 0x70, 0x00, 0x02, 0x04, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x03, 0x05,
    0x73, 0x74, 0x6f, 0x72, 0x65, 0x00, 0x04, 0x04, 0x63, 0x61, 0x6c, 0x6c, 0x00, 0x06, 0x09, 0x07,
    0x01, 0x00, 0x42, 0x00, 0x0b, 0x01, 0x05, 0x0a, 0x3d, 0x07, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00,
    0x0b, 0x04, 0x00, 0x3f, 0x00, 0x0b, 0x10, 0x00, 0x20, 0x00, 0x28, 0x02, 0xf0, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b, 0x09,
    0x00, 0x20, 0x00, 0x20, 0x01, 0x36, 0x02, 0x10, 0x0b, 0x04, 0x00, 0x41, 0x2a, 0x0b, 0x07, 0x00,
    0x20, 0x00, 0x11, 0x04, 0x00, 0x0b,
};

/* (memory 5 (pagesize 1)); size: (result i32); grow: (param i32) (result i32) */
static const uint8_t pages1_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x02, 0x60, 0x00, 0x01, 0x7f, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x03, 0x03, 0x02, 0x00, 0x01, 0x05, 0x04, 0x01, 0x08, 0x05, 0x00, 0x07,
    0x0f, 0x02, 0x04, 0x73, 0x69, 0x7a, 0x65, 0x00, 0x00, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x01,
    0x0a, 0x0d, 0x02, 0x04, 0x00, 0x3f, 0x00, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b,
};

/* (memory i64 0x1_0000_0000_0000): valid, more than any store gives */
static const uint8_t huge_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7e, 0x03,
    0x02, 0x01, 0x00, 0x05, 0x09, 0x01, 0x04, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x07, 0x08,
    0x01, 0x04, 0x73, 0x69, 0x7a, 0x65, 0x00, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x3f, 0x00, 0x0b,
};

/* (memory i64 1)
 * vload: (param i64) (result i32) lane 0 of v128.load offset=8
 * vload_wrap: the same with offset=0xfffffffffffffff0
 * vstore: (param i64) v128.store offset=16 of bytes 1..16
 * vlane: (param i64) (result i32) lane 0 of v128.load32_lane offset=4 */
static const uint8_t simd64_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x02, 0x60, 0x01, 0x7e, 0x01, 0x7f,
    0x60, 0x01, 0x7e, 0x00, 0x03, 0x05, 0x04, 0x00, 0x00, 0x01, 0x00, 0x05, 0x03, 0x01, 0x04, 0x01,
    0x07, 0x27, 0x04, 0x05, 0x76, 0x6c, 0x6f, 0x61, 0x64, 0x00, 0x00, 0x0a, 0x76, 0x6c, 0x6f, 0x61,
    0x64, 0x5f, 0x77, 0x72, 0x61, 0x70, 0x00, 0x01, 0x06, 0x76, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x00,
    0x02, 0x05, 0x76, 0x6c, 0x61, 0x6e, 0x65, 0x00, 0x03, 0x0a, 0x5c, 0x04, 0x0b, 0x00, 0x20, 0x00,
    0xfd, 0x00, 0x04, 0x08, 0xfd, 0x1b, 0x00, 0x0b, 0x14, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x04, 0xf0,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0xfd, 0x1b, 0x00, 0x0b, 0x1a, 0x00, 0x20,
    0x00, 0xfd, 0x0c, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
    0x0e, 0x0f, 0x10, 0xfd, 0x0b, 0x04, 0x10, 0x0b, 0x1e, 0x00, 0x20, 0x00, 0xfd, 0x0c, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x56,
    0x02, 0x04, 0x00, 0xfd, 0x1b, 0x00, 0x0b,
};

/* (table $tab i64 2 2 funcref) (elem (i64.const 0) $f42 $f7) (elem $seg $f7)
 * call: (param i64) (result i32) call_indirect; f42 returns 42, f7 returns 7
 * tset, tfill, tcopy, tinit: (param i64) each writes entry i: table.set null,
 * table.fill with $f7, table.copy from entry 1, table.init from $seg */
static const uint8_t table64_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0e, 0x03, 0x60, 0x00, 0x01, 0x7f, 0x60,
    0x01, 0x7e, 0x01, 0x7f, 0x60, 0x01, 0x7e, 0x00, 0x03, 0x08, 0x07, 0x00, 0x00, 0x01, 0x02, 0x02,
    0x02, 0x02, 0x04, 0x05, 0x01, 0x70, 0x05, 0x02, 0x02, 0x07, 0x27, 0x05, 0x04, 0x63, 0x61, 0x6c,
    0x6c, 0x00, 0x02, 0x04, 0x74, 0x73, 0x65, 0x74, 0x00, 0x03, 0x05, 0x74, 0x66, 0x69, 0x6c, 0x6c,
    0x00, 0x04, 0x05, 0x74, 0x63, 0x6f, 0x70, 0x79, 0x00, 0x05, 0x05, 0x74, 0x69, 0x6e, 0x69, 0x74,
    0x00, 0x06, 0x09, 0x0e, 0x02, 0x02, 0x00, 0x42, 0x00, 0x0b, 0x00, 0x02, 0x00, 0x01, 0x01, 0x00,
    0x01, 0x01, 0x0a, 0x42, 0x07, 0x04, 0x00, 0x41, 0x2a, 0x0b, 0x04, 0x00, 0x41, 0x07, 0x0b, 0x07,
    0x00, 0x20, 0x00, 0x11, 0x00, 0x00, 0x0b, 0x08, 0x00, 0x20, 0x00, 0xd0, 0x70, 0x26, 0x00, 0x0b,
    0x0b, 0x00, 0x20, 0x00, 0xd2, 0x01, 0x42, 0x01, 0xfc, 0x11, 0x00, 0x0b, 0x0c, 0x00, 0x20, 0x00,
    0x42, 0x01, 0x42, 0x01, 0xfc, 0x0e, 0x00, 0x00, 0x0b, 0x0c, 0x00, 0x20, 0x00, 0x41, 0x00, 0x41,
    0x01, 0xfc, 0x0c, 0x01, 0x00, 0x0b, 0x00, 0x27, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x01, 0x0a, 0x02,
    0x00, 0x03, 0x66, 0x34, 0x32, 0x01, 0x02, 0x66, 0x37, 0x04, 0x04, 0x01, 0x00, 0x01, 0x74, 0x05,
    0x06, 0x01, 0x00, 0x03, 0x74, 0x61, 0x62, 0x08, 0x06, 0x01, 0x01, 0x03, 0x73, 0x65, 0x67,
};

static eos_wasm_module *load(const uint8_t *b, size_t n)
{
    eos_wasm_features f = {.tier = EOS_TEST_TIER};
    eos_wasm_module *m = NULL;
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_wasm_module_new(b, n, &f, &m, &d);
    if (rc)
        fprintf(stderr, "module: %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    return m;
}

/* Calls export name with up to two arguments of types ts; 0 or a trap. */
static int call(eos_wasm_store *s, eos_wasm_instance *inst, const char *name, const char *ts,
                uint64_t a, uint64_t b, uint64_t *out)
{
    eos_wasm_val args[2], r = {0};
    uint64_t v[2] = {a, b};
    size_t n = strlen(ts);
    for (size_t i = 0; i < n; i++) {
        args[i].type = ts[i] == 'I' ? EOS_WASM_I64 : EOS_WASM_I32;
        if (ts[i] == 'I')
            args[i].of.i64 = (int64_t)v[i];
        else
            args[i].of.i32 = (int32_t)v[i];
    }
    eos_wasm_func *f = eos_wasm_instance_func(inst, name);
    EOS_CHECK(f != NULL);
    size_t nr = strstr(name, "store") ? 0 : 1;
    int rc = eos_wasm_func_call(s, f, args, n, &r, nr, NULL);
    if (out)
        *out = r.type == EOS_WASM_I64 ? (uint64_t)r.of.i64 : (uint32_t)r.of.i32;
    return rc;
}

static void test_grow_and_overflow(void)
{
    eos_wasm_module *m = load(mem64_wasm, sizeof(mem64_wasm));
    eos_wasm_store *s;
    eos_wasm_limits lim = {.max_memory_bytes = 1u << 20}; /* 16 pages */
    EOS_CHECK_INT(eos_wasm_store_new(&lim, &s), 0);
    eos_wasm_instance *inst;
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, NULL, 0, &inst, NULL), 0);
    uint64_t r = 0;
    EOS_CHECK_INT(call(s, inst, "grow", "I", 10, 0, &r), 0);
    EOS_CHECK(r == 1);
    /* Within the type's maximum (100000) but past the store's limit. */
    EOS_CHECK_INT(call(s, inst, "grow", "I", 100, 0, &r), 0);
    EOS_CHECK(r == UINT64_MAX);
    /* Past the type's maximum, past 2^48 pages, and a delta whose byte count
     * wraps 64 bits. */
    EOS_CHECK_INT(call(s, inst, "grow", "I", 200000, 0, &r), 0);
    EOS_CHECK(r == UINT64_MAX);
    EOS_CHECK_INT(call(s, inst, "grow", "I", UINT64_C(1) << 48, 0, &r), 0);
    EOS_CHECK(r == UINT64_MAX);
    EOS_CHECK_INT(call(s, inst, "grow", "I", UINT64_MAX, 0, &r), 0);
    EOS_CHECK(r == UINT64_MAX);
    EOS_CHECK_INT(call(s, inst, "grow", "I", UINT64_C(1) << 60, 0, &r), 0);
    EOS_CHECK(r == UINT64_MAX);
    EOS_CHECK_INT(call(s, inst, "size", "", 0, 0, &r), 0);
    EOS_CHECK(r == 11);
    EOS_CHECK_INT(call(s, inst, "grow", "I", 5, 0, &r), 0);
    EOS_CHECK(r == 11);
    EOS_CHECK_INT(call(s, inst, "grow", "I", 1, 0, &r), 0);
    EOS_CHECK(r == UINT64_MAX);

    /* The last byte of the memory and one past it. */
    uint64_t size = 16u << 16;
    EOS_CHECK_INT(call(s, inst, "store", "Ii", size - 20, 7, NULL), 0);
    EOS_CHECK_INT(call(s, inst, "load", "I", size - 4, 0, &r), 0);
    EOS_CHECK(r == 7);
    EOS_CHECK_INT(call(s, inst, "load", "I", size - 3, 0, &r), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(call(s, inst, "load", "I", UINT64_C(1) << 63, 0, &r), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(call(s, inst, "load", "I", UINT64_MAX - 1, 0, &r), EOS_TRAP_MEMORY_OOB);
    /* addr + offset wraps to 0, 0x10 and 0x30: every one traps. */
    EOS_CHECK_INT(call(s, inst, "load_wrap", "I", 0x10, 0, &r), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(call(s, inst, "load_wrap", "I", 0x20, 0, &r), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(call(s, inst, "load_wrap", "I", 0x40, 0, &r), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(call(s, inst, "load_wrap", "I", 0, 0, &r), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(call(s, inst, "store", "Ii", UINT64_MAX - 8, 1, NULL), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(call(s, inst, "store", "Ii", UINT64_MAX - 15, 1, NULL), EOS_TRAP_MEMORY_OOB);
    /* Nothing was written by the trapping stores. */
    EOS_CHECK_INT(call(s, inst, "load", "I", 0, 0, &r), 0);
    EOS_CHECK(r == 0);

    /* A table64 index with high bits set is out of bounds, not element 0. */
    EOS_CHECK_INT(call(s, inst, "call", "I", 0, 0, &r), 0);
    EOS_CHECK(r == 42);
    EOS_CHECK_INT(call(s, inst, "call", "I", UINT64_C(1) << 32, 0, &r), EOS_TRAP_TABLE_OOB);
    EOS_CHECK_INT(call(s, inst, "call", "I", UINT64_MAX, 0, &r), EOS_TRAP_TABLE_OOB);

    eos_wasm_memorytype mt = eos_wasm_memory_type(eos_wasm_instance_memory(inst, 0));
    EOS_CHECK(mt.limits.is64 && mt.limits.min == 16);
    EOS_CHECK_INT(eos_wasm_instance_tier(inst), EOS_TEST_TIER);
    eos_wasm_module_free(m);
    eos_wasm_store_free(s);
}

/* A store restore puts back a table64 written without growing it, by each
 * of its writers. */
static void test_table64_restore(void)
{
    eos_wasm_module *m = load(table64_wasm, sizeof(table64_wasm));
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_instance *inst;
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, NULL, 0, &inst, NULL), 0);
    EOS_CHECK_INT(eos_wasm_store_snapshot(s), 0);
    static const char *const writers[] = {"tset", "tfill", "tcopy", "tinit"};
    for (size_t w = 0; w < sizeof writers / sizeof *writers; w++) {
        eos_wasm_val arg = {.type = EOS_WASM_I64, .of.i64 = 0};
        eos_wasm_func *f = eos_wasm_instance_func(inst, writers[w]);
        EOS_CHECK(f != NULL);
        if (!f)
            continue;
        EOS_CHECK_INT(eos_wasm_func_call(s, f, &arg, 1, NULL, 0, NULL), 0);
        uint64_t r = 0;
        int rc = call(s, inst, "call", "I", 0, 0, &r);
        if (w == 0)
            EOS_CHECK_INT(rc, EOS_TRAP_UNINITIALIZED_ELEMENT);
        else
            EOS_CHECK(rc == 0 && r == 7);
        EOS_CHECK_INT(eos_wasm_store_restore(s), 0);
        EOS_CHECK_INT(call(s, inst, "call", "I", 0, 0, &r), 0);
        EOS_CHECK(r == 42);
        EOS_CHECK_INT(call(s, inst, "call", "I", 1, 0, &r), 0);
        EOS_CHECK(r == 7);
    }
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

static void test_limits_refused(void)
{
    eos_wasm_module *m = load(huge_wasm, sizeof(huge_wasm));
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_instance *inst;
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, NULL, 0, &inst, NULL), EOS_ELIMIT);
    /* The host cannot make one either; a valid 64-bit type can. */
    eos_wasm_memorytype big = {.limits = {.min = UINT64_C(1) << 48, .is64 = true}};
    eos_wasm_memory *mem;
    EOS_CHECK_INT(eos_wasm_memory_new(s, &big, &mem), EOS_ELIMIT);
    eos_wasm_memorytype bad = {.limits = {.min = (UINT64_C(1) << 48) + 1, .is64 = true}};
    EOS_CHECK_INT(eos_wasm_memory_new(s, &bad, &mem), EOS_EINVAL);
    eos_wasm_memorytype ok = {.limits = {.min = 1, .is64 = true}};
    EOS_CHECK_INT(eos_wasm_memory_new(s, &ok, &mem), 0);
    uint64_t old = 0;
    EOS_CHECK_INT(eos_wasm_memory_grow(mem, UINT64_C(1) << 47, &old), EOS_ELIMIT);
    EOS_CHECK_INT(eos_wasm_memory_grow(mem, 1, &old), 0);
    EOS_CHECK(old == 1 && eos_wasm_memory_size(mem) == 2u << 16);
    eos_wasm_module_free(m);
    eos_wasm_store_free(s);
}

static void test_byte_pages(void)
{
    eos_wasm_module *m = load(pages1_wasm, sizeof(pages1_wasm));
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_instance *inst;
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, NULL, 0, &inst, NULL), 0);
    uint64_t r = 0;
    EOS_CHECK_INT(call(s, inst, "size", "", 0, 0, &r), 0);
    EOS_CHECK(r == 5);
    EOS_CHECK_INT(call(s, inst, "grow", "i", 3, 0, &r), 0);
    EOS_CHECK(r == 5);
    EOS_CHECK(eos_wasm_memory_size(eos_wasm_instance_memory(inst, 0)) == 8);
    /* 2^32 bytes is the most an i32 memory of 1-byte pages may hold. */
    EOS_CHECK_INT(call(s, inst, "grow", "i", UINT32_MAX, 0, &r), 0);
    EOS_CHECK(r == UINT32_MAX);
    eos_wasm_memorytype mt = eos_wasm_memory_type(eos_wasm_instance_memory(inst, 0));
    EOS_CHECK(mt.page_size == 1 && mt.limits.min == 8);
    EOS_CHECK_INT(eos_wasm_instance_tier(inst), EOS_TEST_TIER);
    eos_wasm_module_free(m);
    eos_wasm_store_free(s);
}

/* SIMD loads and stores on a 64-bit memory: the offset is added exactly. */
static void test_simd(void)
{
    eos_wasm_module *m = load(simd64_wasm, sizeof(simd64_wasm));
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_instance *inst;
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, NULL, 0, &inst, NULL), 0);
    uint64_t r = 0;
    EOS_CHECK_INT(call(s, inst, "vstore", "I", 0, 0, NULL), 0);
    EOS_CHECK_INT(call(s, inst, "vload", "I", 8, 0, &r), 0);
    EOS_CHECK(r == 0x04030201);
    EOS_CHECK_INT(call(s, inst, "vlane", "I", 12, 0, &r), 0);
    EOS_CHECK(r == 0x04030201);
    EOS_CHECK_INT(call(s, inst, "vload", "I", 65536 - 24, 0, &r), 0);
    EOS_CHECK_INT(call(s, inst, "vload", "I", 65536 - 23, 0, &r), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(call(s, inst, "vload", "I", UINT64_MAX - 8, 0, &r), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(call(s, inst, "vload_wrap", "I", 0x10, 0, &r), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(call(s, inst, "vload_wrap", "I", 0x20, 0, &r), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(call(s, inst, "vstore", "I", UINT64_MAX - 15, 0, NULL), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(call(s, inst, "vstore", "I", UINT64_MAX - 31, 0, NULL), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(call(s, inst, "vlane", "I", UINT64_MAX - 3, 0, &r), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(call(s, inst, "vlane", "I", 65536 - 8, 0, &r), 0);
    EOS_CHECK_INT(call(s, inst, "vlane", "I", 65536 - 7, 0, &r), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(eos_wasm_instance_tier(inst), EOS_TEST_TIER);
    eos_wasm_module_free(m);
    eos_wasm_store_free(s);
}

int main(void)
{
    EOS_RUN(test_grow_and_overflow);
    EOS_RUN(test_table64_restore);
    EOS_RUN(test_limits_refused);
    EOS_RUN(test_byte_pages);
    EOS_RUN(test_simd);
    return eos_test_finish();
}
