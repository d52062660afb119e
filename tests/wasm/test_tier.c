/* Tests of the execution tiers: auto compiles in the background while the
 * interpreter serves, instances keep the tier they started on, the tier and
 * compile time are reported, and runaway code (a tight loop, deep
 * recursion, a memory bomb) stops with the same trap, message and fuel on
 * both tiers. A module freed before its background compile is done is
 * dropped by the compiler. A large module under auto warms up interpreted,
 * then only what ran is compiled, and native code reaches the rest. */
#include <string.h>
#include <time.h>

#include "harness.h"
#include "wasm_test.h"

static eos_wasm_module *load(eos_wasm_tier tier)
{
    size_t size = 0;
    uint8_t *b = wt_read(EOS_TEST_API_WASM, &size);
    eos_wasm_module *m = NULL;
    eos_wasm_features f = {.tier = (uint8_t)tier};
    EOS_CHECK_INT(eos_wasm_module_new(b, size, &f, &m, NULL), 0);
    free(b);
    return m;
}

static eos_wasm_instance *instance(eos_wasm_store *s, eos_wasm_module *m)
{
    static const char *target = "inner";
    eos_wasm_instance *inst = NULL;
    EOS_CHECK_INT(wt_instantiate(s, m, &target, &inst, NULL), 0);
    return inst;
}

static void test_auto(void)
{
    eos_wasm_module *m = load(EOS_WASM_TIER_AUTO);
    eos_wasm_tier_info ti;
    eos_wasm_module_tier_info(m, &ti);
    EOS_CHECK_INT(ti.requested, EOS_WASM_TIER_AUTO);
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    /* The first instance serves at once, on whichever tier is ready. */
    eos_wasm_instance *early = instance(s, m);
    int32_t out = 0;
    EOS_CHECK_INT(wt_call1(s, early, "fib", 15, &out), 0);
    EOS_CHECK_INT(out, 610);
    eos_wasm_tier early_tier = eos_wasm_instance_tier(early);

    EOS_CHECK_INT(eos_wasm_module_wait_compiled(m), 0);
    eos_wasm_module_tier_info(m, &ti);
    EOS_CHECK_INT(ti.state, EOS_WASM_COMPILE_READY);
    EOS_CHECK(ti.compile_ns > 0);
    EOS_CHECK(ti.func_count > 10);
    /* A new instance runs the native code; the early one keeps its tier. */
    eos_wasm_instance *late = instance(s, m);
    EOS_CHECK_INT(wt_call1(s, late, "fib", 20, &out), 0);
    EOS_CHECK_INT(out, 6765);
    EOS_CHECK_INT(eos_wasm_instance_tier(late), EOS_WASM_TIER_COMPILED);
    EOS_CHECK_INT(wt_call1(s, early, "fib", 20, &out), 0);
    EOS_CHECK_INT(eos_wasm_instance_tier(early), early_tier);
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

/* Partial compilation (forced on a small module): interpreted during the
 * warm-up, then the functions that ran are compiled; calls from native code
 * into the others (direct, indirect, tail) run them interpreted, and
 * instances made before the code was ready take it at their next call. */
static void test_partial(void)
{
    size_t size = 0;
    uint8_t *b = wt_read(EOS_TEST_PARTIAL_WASM, &size);
    eos_wasm_module *m = NULL;
    eos_wasm_features f = {.tier = EOS_WASM_TIER_AUTO,
                           .lazy_translation_min = 1,
                           .partial_compile_min = 1,
                           .warm_up_calls = 3};
    EOS_CHECK_INT(eos_wasm_module_new(b, size, &f, &m, NULL), 0);
    free(b);
    eos_wasm_tier_info ti;
    eos_wasm_module_tier_info(m, &ti);
    EOS_CHECK_INT(ti.state, EOS_WASM_COMPILE_WARMING);
    EOS_CHECK_INT(eos_wasm_module_wait_compiled(m), EOS_EAGAIN);
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_instance *early = instance(s, m);
    int32_t out = 0;
    EOS_CHECK_INT(wt_call1(s, early, "hot", 0, &out), 0);
    EOS_CHECK_INT(out, 1);
    EOS_CHECK_INT(wt_call1(s, early, "thot", 0, &out), 0);
    EOS_CHECK_INT(out, 7);
    EOS_CHECK_INT(eos_wasm_instance_tier(early), EOS_WASM_TIER_INTERP);
    /* The third call from the host ends the warm-up. */
    EOS_CHECK_INT(wt_call1(s, early, "hot", 0, &out), 0);
    EOS_CHECK_INT(eos_wasm_module_wait_compiled(m), 0);
    eos_wasm_module_tier_info(m, &ti);
    EOS_CHECK_INT(ti.state, EOS_WASM_COMPILE_READY);
    EOS_CHECK_INT(ti.func_count, 2); /* hot and thot; cold and the export "cold" never ran */
    eos_wasm_instance *late = instance(s, m);
    EOS_CHECK_INT(wt_call1(s, late, "hot", 5, &out), 0);
    EOS_CHECK_INT(out, 30);
    EOS_CHECK_INT(eos_wasm_instance_tier(late), EOS_WASM_TIER_COMPILED);
    EOS_CHECK_INT(wt_call1(s, late, "thot", 4, &out), 0);
    EOS_CHECK_INT(out, 12);
    EOS_CHECK_INT(wt_call1(s, late, "cold", 2, &out), 0);
    EOS_CHECK_INT(out, 6);
    /* The instance made during the warm-up takes the code at its next call. */
    EOS_CHECK_INT(wt_call1(s, early, "hot", 2, &out), 0);
    EOS_CHECK_INT(out, 12);
    EOS_CHECK_INT(eos_wasm_instance_tier(early), EOS_WASM_TIER_COMPILED);
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

/* Modules freed while queued for (or in) a background compile: the
 * compiler drops them without finishing (under the sanitizers: no leak and
 * no use after free), and the queue drains. */
static void test_abandoned(void)
{
    for (int i = 0; i < 8; i++)
        eos_wasm_module_free(load(EOS_WASM_TIER_AUTO));
    for (int i = 0; i < 3000 && eos_wasm_jit_pending() > 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    EOS_CHECK_INT(eos_wasm_jit_pending(), 0);
    /* The compiler still serves the next module. */
    eos_wasm_module *m = load(EOS_WASM_TIER_AUTO);
    EOS_CHECK_INT(eos_wasm_module_wait_compiled(m), 0);
    eos_wasm_module_free(m);
}

static void test_interp_reports(void)
{
    eos_wasm_module *m = load(EOS_WASM_TIER_INTERP);
    eos_wasm_tier_info ti;
    eos_wasm_module_tier_info(m, &ti);
    EOS_CHECK_INT(ti.state, EOS_WASM_COMPILE_NONE);
    EOS_CHECK(eos_wasm_module_wait_compiled(m) != 0);
    eos_wasm_module_free(m);
}

/* Calls name(arg) on tier and returns the trap, its message and the fuel. */
static int run_on(eos_wasm_tier tier, const eos_wasm_limits *lim, const char *name, int32_t arg,
                  char *msg, uint64_t *fuel)
{
    eos_wasm_module *m = load(tier);
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(lim, &s), 0);
    eos_wasm_instance *inst = instance(s, m);
    eos_diag d;
    eos_diag_init(&d);
    eos_wasm_val a = {.type = EOS_WASM_I32, .of.i32 = arg}, r;
    int rc = eos_wasm_func_call(s, eos_wasm_instance_func(inst, name), &a, 1, &r, 1, &d);
    snprintf(msg, 256, "%.200s", d.message);
    *fuel = eos_wasm_store_fuel_consumed(s);
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
    return rc;
}

static void same_on_both(const eos_wasm_limits *lim, const char *name, int32_t arg, int want,
                         bool same_fuel)
{
    char mi[256], mc[256];
    uint64_t fi, fc;
    EOS_CHECK_INT(run_on(EOS_WASM_TIER_INTERP, lim, name, arg, mi, &fi), want);
    EOS_CHECK_INT(run_on(EOS_WASM_TIER_COMPILED, lim, name, arg, mc, &fc), want);
    EOS_CHECK_STR(mc, mi);
    if (same_fuel)
        EOS_CHECK_INT(fc, fi);
}

static void test_runaway(void)
{
    /* A tight loop: out of fuel after exactly the same work. */
    eos_wasm_limits fuel = {.fuel = 100000};
    same_on_both(&fuel, "count", 1 << 30, EOS_TRAP_OUT_OF_FUEL, true);
    /* Deep recursion: the same trap (the depth reached may differ). */
    eos_wasm_limits deep = {0};
    same_on_both(&deep, "rec", 0, EOS_TRAP_STACK_EXHAUSTED, false);
    /* Calls and returns cost the same fuel on both tiers. */
    char mi[256], mc[256];
    uint64_t fi, fc;
    eos_wasm_limits none = {0};
    EOS_CHECK_INT(run_on(EOS_WASM_TIER_COMPILED, &none, "fib", 12, mc, &fc), 0);
    EOS_CHECK_INT(run_on(EOS_WASM_TIER_INTERP, &none, "fib", 12, mi, &fi), 0);
    EOS_CHECK_INT(fc, fi);
}

static void test_memory_bomb(void)
{
    /* Growing past the store's cap fails the same way on both tiers. */
    for (int tier = EOS_WASM_TIER_INTERP; tier <= EOS_WASM_TIER_COMPILED; tier += 2) {
        eos_wasm_module *m = load((eos_wasm_tier)tier);
        eos_wasm_store *s;
        eos_wasm_limits lim = {.max_memory_bytes = 8 * 65536};
        EOS_CHECK_INT(eos_wasm_store_new(&lim, &s), 0);
        eos_wasm_instance *inst = instance(s, m);
        int32_t out = 0;
        EOS_CHECK_INT(wt_call1(s, inst, "grow", 7, &out), 0);
        EOS_CHECK_INT(out, 1);
        EOS_CHECK_INT(wt_call1(s, inst, "grow", 1, &out), 0);
        EOS_CHECK_INT(out, -1);
        EOS_CHECK_INT(wt_call1(s, inst, "grow", 65536, &out), 0);
        EOS_CHECK_INT(out, -1);
        eos_wasm_store_free(s);
        eos_wasm_module_free(m);
    }
}

int main(void)
{
    if (!eos_wasm_jit_available()) {
        printf("no compiled tier in this build\n");
        return 0;
    }
    EOS_RUN(test_auto);
    EOS_RUN(test_abandoned);
    EOS_RUN(test_partial);
    EOS_RUN(test_interp_reports);
    EOS_RUN(test_runaway);
    EOS_RUN(test_memory_bomb);
    return eos_test_finish();
}
