/* Tests of the per-store limits: fuel (exact accounting, the out-of-fuel trap,
 * the store usable afterwards), the memory cap, and the call-depth limit on
 * threads with small and large native stacks, including recursion through
 * host functions that re-enter the engine. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "wasm_test.h"

static void test_fuel(void)
{
    eos_wasm_module *m = wt_module();
    eos_wasm_store *s;
    eos_wasm_limits lim = {.fuel = 1000};
    EOS_CHECK_INT(eos_wasm_store_new(&lim, &s), 0);
    const char *target = "inner";
    eos_wasm_instance *inst;
    EOS_CHECK_INT(wt_instantiate(s, m, &target, &inst, NULL), 0);
    EOS_CHECK_INT(eos_wasm_store_fuel_consumed(s), 0);
    int32_t out = 0;
    /* One unit for the call, one per pass through the loop header. */
    EOS_CHECK_INT(wt_call1(s, inst, "count", 10, &out), 0);
    EOS_CHECK_INT(out, 10);
    EOS_CHECK_INT(eos_wasm_store_fuel_consumed(s), 11);
    EOS_CHECK_INT(wt_call1(s, inst, "count", 100, &out), 0);
    EOS_CHECK_INT(eos_wasm_store_fuel_consumed(s), 11 + 101);

    eos_wasm_store_set_fuel(s, 50);
    eos_diag d;
    eos_diag_init(&d);
    eos_wasm_val a = {.type = EOS_WASM_I32, .of.i32 = 1000000}, r;
    EOS_CHECK_INT(eos_wasm_func_call(s, eos_wasm_instance_func(inst, "count"), &a, 1, &r, 1, &d),
                  EOS_TRAP_OUT_OF_FUEL);
    EOS_CHECK(strstr(d.message, "fuel") != NULL);
    EOS_CHECK_INT(eos_wasm_store_fuel_consumed(s), 50);

    /* The store is still usable once refuelled; 0 means unlimited. */
    eos_wasm_store_set_fuel(s, 0);
    EOS_CHECK_INT(wt_call1(s, inst, "count", 5, &out), 0);
    EOS_CHECK_INT(out, 5);
    EOS_CHECK_INT(eos_wasm_store_fuel_consumed(s), 6);
    /* Fuel also bounds plain recursion. */
    eos_wasm_store_set_fuel(s, 100);
    EOS_CHECK_INT(wt_call1(s, inst, "fib", 30, &out), EOS_TRAP_OUT_OF_FUEL);
    eos_wasm_module_free(m);
    eos_wasm_store_free(s);
}

/* The time budget stops a long loop with its own trap, the store stays
 * usable, and an interruption from another thread stops a call. */
static void *interrupt_later(void *arg)
{
    struct timespec t = {0, 20 * 1000 * 1000};
    nanosleep(&t, NULL);
    eos_wasm_store_interrupt(arg);
    return NULL;
}

static void test_deadline(void)
{
    eos_wasm_module *m = wt_module();
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    const char *target = "inner";
    eos_wasm_instance *inst;
    EOS_CHECK_INT(wt_instantiate(s, m, &target, &inst, NULL), 0);
    int32_t out = 0;
    /* Two billion passes would take seconds: 10 ms of budget stops it. */
    eos_wasm_store_set_time_budget(s, 10 * 1000 * 1000);
    eos_diag d;
    eos_diag_init(&d);
    eos_wasm_val a = {.type = EOS_WASM_I32, .of.i32 = 2000000000}, r;
    eos_wasm_func *count = eos_wasm_instance_func(inst, "count");
    EOS_CHECK_INT(eos_wasm_func_call(s, count, &a, 1, &r, 1, &d), EOS_TRAP_DEADLINE);
    EOS_CHECK(strstr(d.message, "time budget") != NULL);
    EOS_CHECK(eos_is_trap(EOS_TRAP_DEADLINE));
    /* A passed deadline stops the next call too; a new budget lets it run. */
    EOS_CHECK_INT(eos_wasm_func_call(s, count, &a, 1, &r, 1, &d), EOS_TRAP_DEADLINE);
    eos_wasm_store_set_time_budget(s, 0);
    EOS_CHECK_INT(wt_call1(s, inst, "count", 200000, &out), 0);
    EOS_CHECK_INT(out, 200000);

    pthread_t th;
    EOS_CHECK_INT(pthread_create(&th, NULL, interrupt_later, s), 0);
    EOS_CHECK_INT(eos_wasm_func_call(s, count, &a, 1, &r, 1, &d), EOS_TRAP_DEADLINE);
    pthread_join(th, NULL);
    /* Fuel is counted exactly across slices. */
    eos_wasm_store_set_deadline(s, 0);
    eos_wasm_store_set_fuel(s, 1000000);
    EOS_CHECK_INT(wt_call1(s, inst, "count", 300000, &out), 0);
    EOS_CHECK_INT(eos_wasm_store_fuel_consumed(s), 300001);
    EOS_CHECK_INT(wt_call1(s, inst, "count", 800000, &out), EOS_TRAP_OUT_OF_FUEL);
    EOS_CHECK_INT(eos_wasm_store_fuel_consumed(s), 1000000);
    eos_wasm_module_free(m);
    eos_wasm_store_free(s);
}

static void test_memory_cap(void)
{
    eos_wasm_module *m = wt_module();
    eos_wasm_store *s;
    eos_wasm_limits lim = {.max_memory_bytes = 4 * 65536};
    EOS_CHECK_INT(eos_wasm_store_new(&lim, &s), 0);
    const char *target = "inner";
    eos_wasm_instance *inst;
    EOS_CHECK_INT(wt_instantiate(s, m, &target, &inst, NULL), 0);
    int32_t out = 0;
    EOS_CHECK_INT(wt_call1(s, inst, "grow", 2, &out), 0);
    EOS_CHECK_INT(out, 1);
    EOS_CHECK_INT(wt_call1(s, inst, "grow", 2, &out), 0);
    EOS_CHECK_INT(out, -1); /* 5 pages would exceed the cap */
    EOS_CHECK_INT(wt_call1(s, inst, "grow", 1, &out), 0);
    EOS_CHECK_INT(out, 3);
    EOS_CHECK_INT(wt_call1(s, inst, "grow", 1, &out), 0);
    EOS_CHECK_INT(out, -1);
    EOS_CHECK_INT(eos_wasm_memory_size(eos_wasm_instance_memory(inst, 0)), 4 * 65536);
    /* A second instance's initial memory no longer fits. */
    eos_wasm_instance *inst2;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(wt_instantiate(s, m, &target, &inst2, &d), EOS_ELIMIT);
    eos_wasm_module_free(m);
    eos_wasm_store_free(s);
}

typedef struct deep_args {
    size_t stack_size;
    int rc_wasm;
    int rc_host;
    int32_t after;
} deep_args;

static void *deep_main(void *p)
{
    deep_args *a = p;
    eos_wasm_module *m = wt_module();
    eos_wasm_store *s;
    eos_wasm_limits lim = {.native_stack_size = a->stack_size};
    eos_wasm_store_new(&lim, &s);
    const char *target = "host_rec";
    eos_wasm_instance *inst;
    int32_t out = 0;
    if (wt_instantiate(s, m, &target, &inst, NULL) == 0) {
        a->rc_wasm = wt_call1(s, inst, "rec", 0, &out);
        a->rc_host = wt_call1(s, inst, "host_rec", 0, &out);
        wt_call1(s, inst, "fib", 10, &a->after);
    }
    eos_wasm_module_free(m);
    eos_wasm_store_free(s);
    return NULL;
}

static void run_deep(size_t stack_size)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack_size);
    pthread_t t;
    deep_args a = {.stack_size = stack_size};
    EOS_CHECK_INT(pthread_create(&t, &attr, deep_main, &a), 0);
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    EOS_CHECK_INT(a.rc_wasm, EOS_TRAP_STACK_EXHAUSTED);
    EOS_CHECK_INT(a.rc_host, EOS_TRAP_STACK_EXHAUSTED);
    EOS_CHECK_INT(a.after, 55);
}

static void test_stack_256k(void)
{
    run_deep(256 * 1024);
}

static void test_stack_8m(void)
{
    run_deep(8 * 1024 * 1024);
}

int main(void)
{
    EOS_RUN(test_fuel);
    EOS_RUN(test_deadline);
    EOS_RUN(test_memory_cap);
    EOS_RUN(test_stack_256k);
    EOS_RUN(test_stack_8m);
    return eos_test_finish();
}
