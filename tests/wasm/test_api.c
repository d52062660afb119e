/* Tests of the embedding API: host functions, re-entry, typed calls and their
 * errors, exports, memory and global access, traps, and a module shared by
 * two threads. */
#include <pthread.h>
#include <string.h>

#include "harness.h"
#include "wasm_test.h"

static void test_host_and_reentry(void)
{
    eos_wasm_module *m = wt_module();
    EOS_CHECK(m != NULL);
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    const char *target = "inner";
    eos_wasm_instance *inst;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(wt_instantiate(s, m, &target, &inst, &d), 0);
    eos_wasm_module_free(m); /* the store keeps its own reference */

    eos_wasm_val args[2] = {{.type = EOS_WASM_I32, .of.i32 = 40},
                            {.type = EOS_WASM_I32, .of.i32 = 2}};
    eos_wasm_val r;
    eos_wasm_func *add = eos_wasm_instance_func(inst, "call_add");
    EOS_CHECK_INT(eos_wasm_func_call(s, add, args, 2, &r, 1, NULL), 0);
    EOS_CHECK_INT(r.type, EOS_WASM_I32);
    EOS_CHECK_INT(r.of.i32, 42);

    int32_t out = 0;
    EOS_CHECK_INT(wt_call1(s, inst, "outer", 5, &out), 0);
    EOS_CHECK_INT(out, 16); /* inner(5) * ... = 15, + 1 */

    /* Wrong argument count and type are errors, not traps. */
    EOS_CHECK_INT(eos_wasm_func_call(s, add, args, 1, &r, 1, NULL), EOS_EINVAL);
    args[1].type = EOS_WASM_I64;
    EOS_CHECK_INT(eos_wasm_func_call(s, add, args, 2, &r, 1, NULL), EOS_EINVAL);

    /* Traps report a code and a message; the store stays usable. */
    eos_wasm_val dv[2] = {{.type = EOS_WASM_I32, .of.i32 = 1}, {.type = EOS_WASM_I32}};
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_wasm_func_call(s, eos_wasm_instance_func(inst, "div"), dv, 2, &r, 1, &d),
                  EOS_TRAP_INTEGER_DIVIDE_BY_ZERO);
    EOS_CHECK(strstr(d.message, "divide by zero") != NULL);
    EOS_CHECK_INT(wt_call1(s, inst, "fib", 15, &out), 0);
    EOS_CHECK_INT(out, 610);
    eos_wasm_store_free(s);
}

static void test_exports_memory_globals(void)
{
    eos_wasm_module *m = wt_module();
    eos_wasm_store *s;
    eos_wasm_store_new(NULL, &s);
    const char *target = "inner";
    eos_wasm_instance *inst;
    EOS_CHECK_INT(wt_instantiate(s, m, &target, &inst, NULL), 0);
    EOS_CHECK(eos_wasm_module_export_count(m) > 5);
    eos_wasm_extern e;
    EOS_CHECK_INT(eos_wasm_instance_export(inst, "nope", &e), EOS_ENOTFOUND);
    EOS_CHECK(eos_wasm_instance_func(inst, "mem") == NULL);
    EOS_CHECK_INT(eos_wasm_instance_export(inst, "mem", &e), 0);
    EOS_CHECK_INT(e.kind, EOS_WASM_EXTERN_MEMORY);
    eos_wasm_memory *mem = eos_wasm_instance_memory(inst, 0);
    EOS_CHECK(mem == e.of.memory);
    EOS_CHECK_INT(eos_wasm_memory_size(mem), 65536);
    EOS_CHECK(memcmp(eos_wasm_memory_ptr(mem, 16, 5), "hello", 5) == 0);
    EOS_CHECK(eos_wasm_memory_ptr(mem, 65532, 4) != NULL);
    EOS_CHECK(eos_wasm_memory_ptr(mem, 65533, 4) == NULL);
    EOS_CHECK(eos_wasm_memory_ptr(mem, UINT64_MAX, 2) == NULL);
    EOS_CHECK(eos_wasm_memory_ptr(mem, 1, UINT64_MAX) == NULL);
    eos_wasm_val sv[2] = {{.type = EOS_WASM_I32, .of.i32 = 100},
                          {.type = EOS_WASM_I32, .of.i32 = 0x01020304}};
    EOS_CHECK_INT(
        eos_wasm_func_call(s, eos_wasm_instance_func(inst, "store"), sv, 2, NULL, 0, NULL), 0);
    uint32_t word;
    memcpy(&word, eos_wasm_memory_ptr(mem, 100, 4), 4);
    EOS_CHECK_INT(word, 0x01020304);
    sv[0].of.i32 = 65534;
    EOS_CHECK_INT(
        eos_wasm_func_call(s, eos_wasm_instance_func(inst, "store"), sv, 2, NULL, 0, NULL),
        EOS_TRAP_MEMORY_OOB);

    EOS_CHECK_INT(eos_wasm_instance_export(inst, "g", &e), 0);
    EOS_CHECK_INT(eos_wasm_global_get(e.of.global).of.i32, 7);
    eos_wasm_val nv = {.type = EOS_WASM_I32, .of.i32 = 9};
    EOS_CHECK_INT(eos_wasm_global_set(e.of.global, nv), 0);
    EOS_CHECK_INT(eos_wasm_global_get(e.of.global).of.i32, 9);
    nv.type = EOS_WASM_I64;
    EOS_CHECK_INT(eos_wasm_global_set(e.of.global, nv), EOS_EINVAL);

    /* Import introspection. */
    eos_wasm_import_desc id;
    EOS_CHECK_INT(eos_wasm_module_import_count(m), 2);
    eos_wasm_module_import(m, 1, &id);
    EOS_CHECK(id.name_len == 7 && memcmp(id.name, "reenter", 7) == 0);
    EOS_CHECK_INT(id.type.of.func->param_count, 1);
    eos_wasm_module_free(m);
    eos_wasm_store_free(s);
}

static void test_bad_modules(void)
{
    static const uint8_t junk[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0x01, 0x05, 0x01, 0x60};
    eos_wasm_module *m = NULL;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_wasm_module_new(junk, sizeof(junk), NULL, &m, &d), EOS_EMALFORMED);
    EOS_CHECK(m == NULL);
    EOS_CHECK(strstr(d.message, "type section") != NULL);
    /* A function whose body adds an i32 to an i64. */
    static const uint8_t bad[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1,    4, 1,    0x60, 0,    0,   3,
                                  2, 1,   0,   10,  9, 1, 7, 0, 0x41, 1, 0x42, 1,    0x6a, 0x0b};
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_wasm_module_new(bad, sizeof(bad), NULL, &m, &d), EOS_EINVALID);
    EOS_CHECK(strstr(d.message, "type mismatch") != NULL);
    EOS_CHECK(strstr(d.message, "function 0") != NULL);
    EOS_CHECK(d.offset > 0);
    /* SIMD (a v128 type) loads on both tiers. */
    static const uint8_t simd[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b};
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_wasm_module_new(simd, sizeof(simd), NULL, &m, &d), 0);
    eos_wasm_module_free(m);
    m = NULL;
    if (eos_wasm_jit_available()) {
        eos_wasm_features cf = {.tier = EOS_WASM_TIER_COMPILED};
        eos_diag_init(&d);
        EOS_CHECK_INT(eos_wasm_module_new(simd, sizeof(simd), &cf, &m, &d), 0);
        eos_wasm_module_free(m);
        m = NULL;
    }
}

/* A v128 crosses eos_wasm_func_call as 16 bytes (two slots inside). */
static void test_v128_call(void)
{
    /* (func (export "dbl") (param v128) (result v128)
     *   (i32x4.add (local.get 0) (local.get 0))) */
    static const uint8_t wasm[] = {
        0, 'a', 's', 'm', 1, 0, 0,  0,  1, 6, 1, 0x60, 1, 0x7b, 1, 0x7b, 3,    2, 1,   0, 7, 7, 1,
        3, 'd', 'b', 'l', 0, 0, 10, 11, 1, 9, 0, 0x20, 0, 0x20, 0, 0xfd, 0xae, 1, 0x0b};
    eos_diag d;
    eos_diag_init(&d);
    eos_wasm_module *m = NULL;
    EOS_CHECK_INT(eos_wasm_module_new(wasm, sizeof(wasm), NULL, &m, &d), 0);
    eos_wasm_store *s = NULL;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_instance *inst = NULL;
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, NULL, 0, &inst, &d), 0);
    eos_wasm_extern e;
    EOS_CHECK_INT(eos_wasm_instance_export(inst, "dbl", &e), 0);
    eos_wasm_val arg = {.type = EOS_WASM_V128}, res;
    uint32_t lanes[4] = {1, 0x7fffffff, 0xffffffff, 40};
    memcpy(arg.of.v128, lanes, 16);
    EOS_CHECK_INT(eos_wasm_func_call(s, e.of.func, &arg, 1, &res, 1, &d), 0);
    EOS_CHECK_INT(res.type, EOS_WASM_V128);
    memcpy(lanes, res.of.v128, 16);
    EOS_CHECK_INT(lanes[0], 2);
    EOS_CHECK_INT(lanes[1], 0xfffffffe);
    EOS_CHECK_INT(lanes[2], 0xfffffffe);
    EOS_CHECK_INT(lanes[3], 80);
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
    /* Tier auto compiles a SIMD module; the v128 crosses into compiled code
     * through the two slots. */
    eos_wasm_features auto_ = {.tier = EOS_WASM_TIER_AUTO};
    EOS_CHECK_INT(eos_wasm_module_new(wasm, sizeof(wasm), &auto_, &m, &d), 0);
    if (eos_wasm_jit_available())
        EOS_CHECK_INT(eos_wasm_module_wait_compiled(m), 0);
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, NULL, 0, &inst, &d), 0);
    EOS_CHECK_INT(eos_wasm_func_call(s, eos_wasm_instance_func(inst, "dbl"), &arg, 1, &res, 1, &d),
                  0);
    memcpy(lanes, res.of.v128, 16);
    EOS_CHECK_INT(lanes[3], 80);
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

/* host "rev" (i32 a, v128 v, i64 b) -> (v128 with its bytes reversed, a + b):
 * v takes slots 1 and 2, b slot 3; the results take slots 0..2. */
static int host_rev(eos_wasm_caller *c, void *ud, uint64_t *slots)
{
    (void)c;
    (void)ud;
    uint8_t v[16], r[16];
    memcpy(v, slots + 1, 16);
    for (int i = 0; i < 16; i++)
        r[i] = v[15 - i];
    uint32_t sum = (uint32_t)slots[0] + (uint32_t)slots[3];
    memcpy(slots, r, 16);
    slots[2] = sum;
    return 0;
}

/* v128 through host functions (call and tail call) and a v128 global, on
 * tier (the compiled tier's boundary crossings too). */
static void v128_host_on(eos_wasm_tier tier)
{
    size_t size = 0;
    uint8_t *b = wt_read(EOS_TEST_SIMD_WASM, &size);
    EOS_CHECK(b != NULL);
    eos_diag d;
    eos_diag_init(&d);
    eos_wasm_module *m = NULL;
    eos_wasm_features f = {.tier = (uint8_t)tier};
    EOS_CHECK_INT(eos_wasm_module_new(b, size, &f, &m, &d), 0);
    free(b);
    eos_wasm_store *s = NULL;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    static const uint8_t params[] = {EOS_WASM_I32, EOS_WASM_V128, EOS_WASM_I64};
    static const uint8_t results[] = {EOS_WASM_V128, EOS_WASM_I32};
    eos_wasm_functype ft = {3, 2, params, results};
    eos_wasm_extern imp = {.kind = EOS_WASM_EXTERN_FUNC};
    EOS_CHECK_INT(eos_wasm_func_new_host(s, &ft, host_rev, NULL, &imp.of.func), 0);
    eos_wasm_instance *inst = NULL;
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, &imp, 1, &inst, &d), 0);
    const char *names[] = {"go", "tail"};
    for (int k = 0; k < 2; k++) {
        eos_wasm_val arg = {.type = EOS_WASM_V128}, res[2];
        for (int i = 0; i < 16; i++)
            arg.of.v128[i] = (uint8_t)i;
        EOS_CHECK_INT(
            eos_wasm_func_call(s, eos_wasm_instance_func(inst, names[k]), &arg, 1, res, 2, &d), 0);
        EOS_CHECK_INT(res[0].type, EOS_WASM_V128);
        EOS_CHECK_INT(res[0].of.v128[0], 15);
        EOS_CHECK_INT(res[0].of.v128[15], 0);
        EOS_CHECK_INT(res[1].of.i32, k == 0 ? 12 : 10);
    }
    eos_wasm_val g;
    EOS_CHECK_INT(eos_wasm_func_call(s, eos_wasm_instance_func(inst, "bump"), NULL, 0, &g, 1, &d),
                  0);
    uint32_t lanes[4];
    memcpy(lanes, g.of.v128, 16);
    EOS_CHECK_INT(lanes[0], 2);
    EOS_CHECK_INT(lanes[3], 5);
    eos_wasm_extern e;
    EOS_CHECK_INT(eos_wasm_instance_export(inst, "g", &e), 0);
    g = eos_wasm_global_get(e.of.global);
    memcpy(lanes, g.of.v128, 16);
    EOS_CHECK_INT(lanes[1], 3);
    lanes[2] = 40;
    memcpy(g.of.v128, lanes, 16);
    EOS_CHECK_INT(eos_wasm_global_set(e.of.global, g), 0);
    EOS_CHECK_INT(eos_wasm_func_call(s, eos_wasm_instance_func(inst, "bump"), NULL, 0, &g, 1, &d),
                  0);
    memcpy(lanes, g.of.v128, 16);
    EOS_CHECK_INT(lanes[2], 41);
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

static void test_v128_host(void)
{
    v128_host_on(EOS_WASM_TIER_INTERP);
    if (eos_wasm_jit_available())
        v128_host_on(EOS_WASM_TIER_COMPILED);
}

static uint64_t rotl64(uint64_t x, unsigned k)
{
    k &= 63;
    return k ? x << k | x >> (64 - k) : x;
}

/* The translator turns "const; op" into one instruction with the constant
 * as an immediate: the results must equal the plain operations. */
static void test_constant_operands(void)
{
    eos_wasm_module *m = wt_module();
    EOS_CHECK(m != NULL);
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    const char *target = "inner";
    eos_wasm_instance *inst;
    EOS_CHECK_INT(wt_instantiate(s, m, &target, &inst, NULL), 0);
    eos_wasm_module_free(m);
    static const uint64_t xs[] = {0, 1, 0x8000000000000000u, 0xfedcba9876543210u, ~0ull};
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
        uint64_t x = xs[i];
        x = x * 0x9e3779b97f4a7c15u + 0x0123456789abcdefu;
        x = rotl64(x, 91) ^ 0xff00ff00ff00ff00u;
        x = ((x & 0x7fffffff0000ffffu) - 0x100000001u) | 0x8000000000000000u;
        x = (uint64_t)((int64_t)x >> 3); /* the top bit is set: a sign fill */
        x = ((x ^ 0x5555u) << 1) >> 6;
        uint64_t slot = xs[i];
        EOS_CHECK_INT(eos_wasm_func_call_raw(s, eos_wasm_instance_func(inst, "const_ops64"), &slot,
                                             NULL),
                      0);
        EOS_CHECK(slot == x);
        uint32_t y = (uint32_t)xs[i] ^ 0x80000001u;
        uint64_t slot32 = y;
        EOS_CHECK_INT(
            eos_wasm_func_call_raw(s, eos_wasm_instance_func(inst, "rotl_c32"), &slot32, NULL), 0);
        EOS_CHECK(slot32 == (uint32_t)(y << 5 | y >> 27));
    }
    static const double ds[] = {0.0, -1.5, 3.25e300, 1e-310};
    for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
        double want = ((ds[i] + 1.5) * -0.25 - 3) / 7, got;
        uint64_t slot;
        memcpy(&slot, &ds[i], 8);
        EOS_CHECK_INT(
            eos_wasm_func_call_raw(s, eos_wasm_instance_func(inst, "const_f64"), &slot, NULL), 0);
        memcpy(&got, &slot, 8);
        EOS_CHECK(memcmp(&got, &want, 8) == 0);
    }
    static const uint32_t us[] = {0, 7, 8, 0x80000000u, 0x80000001u, ~0u};
    for (size_t i = 0; i < sizeof(us) / sizeof(us[0]); i++) {
        for (size_t j = 0; j < sizeof(us) / sizeof(us[0]); j++) {
            uint32_t x = us[i], y = us[j], r = 0;
            r |= x > 0x80000000u ? 0 : 1;
            r |= x <= 7 ? 0 : 2;
            r |= x > y ? 0 : 4;
            r |= x <= y ? 0 : 8;
            r |= x > (y ^ r) ? 0 : 16;
            r |= x <= (y ^ r) ? 0 : 32;
            uint64_t slots[2] = {x, y};
            EOS_CHECK_INT(
                eos_wasm_func_call_raw(s, eos_wasm_instance_func(inst, "cmp_u"), slots, NULL), 0);
            EOS_CHECK(slots[0] == r);
        }
    }
    eos_wasm_store_free(s);
}

static eos_wasm_module *shared_module;

static void *thread_main(void *arg)
{
    long *ok = arg;
    for (int k = 0; k < 20; k++) {
        eos_wasm_store *s;
        eos_wasm_instance *inst;
        const char *target = "inner";
        int32_t out = 0;
        if (eos_wasm_store_new(NULL, &s) ||
            wt_instantiate(s, shared_module, &target, &inst, NULL) ||
            wt_call1(s, inst, "fib", 18, &out) || out != 2584)
            *ok = 0;
        eos_wasm_store_free(s);
    }
    return NULL;
}

static void test_threads_share_module(void)
{
    shared_module = wt_module();
    pthread_t t[2];
    long ok[2] = {1, 1};
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, thread_main, &ok[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    EOS_CHECK_INT(ok[0], 1);
    EOS_CHECK_INT(ok[1], 1);
    eos_wasm_module_free(shared_module);
}

int main(void)
{
    EOS_RUN(test_host_and_reentry);
    EOS_RUN(test_v128_call);
    EOS_RUN(test_v128_host);
    EOS_RUN(test_exports_memory_globals);
    EOS_RUN(test_bad_modules);
    EOS_RUN(test_constant_operands);
    EOS_RUN(test_threads_share_module);
    return eos_test_finish();
}
