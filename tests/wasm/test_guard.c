/* Guard-page bounds checks: compiled accesses past a memory's size trap with
 * the interpreter's code and message through the fault handler, growth and
 * restore move the guard, threads trap independently, and faults that are
 * not compiled code's (a host function's bug) still kill the process or
 * reach the handler installed before the engine's. */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "wasm_test.h"

/* What the host "poke" does: 0 nothing, 1 read the guarded memory past its
 * size (a host bug inside the reservation), 2 write through NULL. */
static int poke_mode;

static int host_poke(eos_wasm_caller *c, void *ud, uint64_t *slots)
{
    (void)ud;
    eos_wasm_memory *mem = eos_wasm_instance_memory(eos_wasm_caller_instance(c), 0);
    volatile uint8_t *p = eos_wasm_memory_data(mem);
    if (poke_mode == 1)
        slots[0] = p[(uint32_t)slots[0]];
    else if (poke_mode == 2)
        *(volatile int *)(uintptr_t)slots[0] = 1;
    return 0;
}

static eos_wasm_module *load_as(uint8_t tier, uint8_t bounds)
{
    size_t size = 0;
    uint8_t *b = wt_read(EOS_TEST_GUARD_WASM, &size);
    eos_wasm_module *m = NULL;
    eos_wasm_features f = {.tier = tier, .bounds = bounds};
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_wasm_module_new(b, size, &f, &m, &d), 0);
    free(b);
    return m;
}

static eos_wasm_module *load(void)
{
    return load_as(EOS_WASM_TIER_COMPILED, EOS_WASM_BOUNDS_GUARD);
}

static eos_wasm_instance *instance(eos_wasm_store *s, eos_wasm_module *m)
{
    static const uint8_t i[] = {EOS_WASM_I32};
    eos_wasm_functype t = {1, 1, i, i};
    eos_wasm_extern imp = {.kind = EOS_WASM_EXTERN_FUNC};
    EOS_CHECK_INT(eos_wasm_func_new_host(s, &t, host_poke, NULL, &imp.of.func), 0);
    eos_wasm_instance *inst = NULL;
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, &imp, 1, &inst, NULL), 0);
    return inst;
}

static int call(eos_wasm_store *s, eos_wasm_instance *inst, const char *name, uint32_t arg,
                int32_t *out, eos_diag *d)
{
    eos_wasm_val a = {.type = EOS_WASM_I32, .of.i32 = (int32_t)arg}, r = {0};
    eos_diag_init(d);
    int rc = eos_wasm_func_call(s, eos_wasm_instance_func(inst, name), &a, 1, &r, 1, d);
    *out = r.of.i32;
    return rc;
}

static void expect_oob(eos_wasm_store *s, eos_wasm_instance *inst, const char *name, uint32_t arg)
{
    int32_t out;
    eos_diag d;
    EOS_CHECK_INT(call(s, inst, name, arg, &out, &d), EOS_TRAP_MEMORY_OOB);
    EOS_CHECK(strstr(d.message, "out of bounds memory access") != NULL);
}

static void test_traps(void)
{
    eos_wasm_module *m = load();
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_instance *inst = instance(s, m);
    int32_t out;
    eos_diag d;
    uint8_t *mem = eos_wasm_memory_data(eos_wasm_instance_memory(inst, 0));
    mem[65532] = 5;
    EOS_CHECK_INT(call(s, inst, "load", 65532, &out, &d), 0);
    EOS_CHECK_INT(out, 5);
    EOS_CHECK_INT(eos_wasm_instance_tier(inst), EOS_WASM_TIER_COMPILED);
    /* Many traps in a row: each fault leaves the signal unblocked. */
    for (int k = 0; k < 1000; k++)
        expect_oob(s, inst, "load", 65533 + (uint32_t)k % 8);
    expect_oob(s, inst, "load", 0xffffffffu);
    expect_oob(s, inst, "load_far", 0xffffffffu);
    expect_oob(s, inst, "load_far", 1);
    expect_oob(s, inst, "load_dropped", 65529);
    /* A store straddling the end writes nothing. */
    mem[65535] = 9;
    expect_oob(s, inst, "store", 65532);
    EOS_CHECK_INT(mem[65532], 5);
    EOS_CHECK_INT(mem[65535], 9);
    /* Growth opens the next page; a restore closes it again. */
    EOS_CHECK_INT(eos_wasm_store_snapshot(s), 0);
    EOS_CHECK_INT(call(s, inst, "grow", 1, &out, &d), 0);
    EOS_CHECK_INT(out, 1);
    EOS_CHECK_INT(call(s, inst, "store", 65536 * 2 - 8, &out, &d), 0);
    EOS_CHECK_INT(call(s, inst, "load", 65536 * 2 - 4, &out, &d), 0);
    EOS_CHECK_INT(out, -1);
    expect_oob(s, inst, "load", 65536 * 2 - 3);
    EOS_CHECK_INT(eos_wasm_store_restore(s), 0);
    expect_oob(s, inst, "load", 65536);
    EOS_CHECK_INT(call(s, inst, "grow", 1, &out, &d), 0);
    EOS_CHECK_INT(call(s, inst, "load", 65536, &out, &d), 0);
    EOS_CHECK_INT(out, 0); /* the page written before the restore is zero again */
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

/* What one call leaves behind: its status and result, the global and the
 * first bytes of memory. */
typedef struct {
    int rc;
    int32_t out, g;
    uint8_t mem[32];
    uint64_t fuel;
} outcome;

/* a against the interpreter's b. A fault in guard mode does not count the
 * fuel charged since the function's last call, helper or refill. */
static bool same(const outcome *a, const outcome *b, bool guard)
{
    bool fuel = guard && a->rc == EOS_TRAP_MEMORY_OOB
                    ? a->fuel <= b->fuel && b->fuel - a->fuel < 65536
                    : a->fuel == b->fuel;
    return a->rc == b->rc && a->out == b->out && a->g == b->g && fuel &&
           memcmp(a->mem, b->mem, sizeof(a->mem)) == 0;
}

static outcome run_case(eos_wasm_module *m, const char *name, uint32_t arg)
{
    outcome o = {0};
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_instance *inst = instance(s, m);
    eos_diag d;
    eos_wasm_store_set_fuel(s, 1u << 30);
    o.rc = call(s, inst, name, arg, &o.out, &d);
    o.fuel = eos_wasm_store_fuel_consumed(s);
    if (o.rc != 0)
        o.out = 0;
    EOS_CHECK_INT(call(s, inst, "get_g", 0, &o.g, &d), 0);
    memcpy(o.mem, eos_wasm_memory_data(eos_wasm_instance_memory(inst, 0)), sizeof(o.mem));
    eos_wasm_store_free(s);
    return o;
}

/* Loads and stores next to a faulting access: the compiled tier, with
 * either kind of bounds check, leaves exactly what the interpreter does
 * (the fuel consumed too, but for the guard fault's shortfall). */
static void test_exact(void)
{
    static const struct {
        const char *name;
        uint32_t arg;
    } cases[] = {
        {"load_folded", 65533},  {"load_folded", 0},       {"load_folded", 0xfffffffcu},
        {"load_unused", 65536},  {"load_unused", 65535},   {"store_around", 65533},
        {"store_around", 100},   {"loop_around", 65532},   {"loop_around", 65526},
        {"loop_around", 65536},  {"load_dropped", 65529},
    };
    eos_wasm_module *ref = load_as(EOS_WASM_TIER_INTERP, EOS_WASM_BOUNDS_EXPLICIT);
    eos_wasm_module *exp = load_as(EOS_WASM_TIER_COMPILED, EOS_WASM_BOUNDS_EXPLICIT);
    eos_wasm_module *grd = load();
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        outcome want = run_case(ref, cases[k].name, cases[k].arg);
        outcome o[2] = {run_case(exp, cases[k].name, cases[k].arg),
                        run_case(grd, cases[k].name, cases[k].arg)};
        for (int t = 0; t < 2; t++) {
            if (!same(&o[t], &want, t == 1))
                printf("  %s %s(%u): rc %d out %d g %d fuel %llu, interpreter rc %d out %d g %d "
                       "fuel %llu\n",
                       t ? "guard" : "explicit", cases[k].name, cases[k].arg, o[t].rc,
                       o[t].out, o[t].g, (unsigned long long)o[t].fuel, want.rc, want.out,
                       want.g, (unsigned long long)want.fuel);
            EOS_CHECK(same(&o[t], &want, t == 1));
        }
    }
    /* The reference itself: what came before the fault is done, not after. */
    outcome o = run_case(grd, "store_around", 65533);
    EOS_CHECK_INT(o.rc, EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(o.g, 1);
    EOS_CHECK_INT(o.mem[16], 1);
    EOS_CHECK_INT(o.mem[20], 0);
    o = run_case(grd, "loop_around", 65530);
    EOS_CHECK_INT(o.rc, EOS_TRAP_MEMORY_OOB);
    EOS_CHECK_INT(o.g, 3);
    EOS_CHECK_INT(o.mem[24 + 3], 4);
    EOS_CHECK_INT(o.mem[24 + 4], 0);
    EOS_CHECK_INT(run_case(grd, "load_folded", 65533).rc, EOS_TRAP_MEMORY_OOB);
    eos_wasm_module_free(grd);
    eos_wasm_module_free(exp);
    eos_wasm_module_free(ref);
}

static void *trap_loop(void *arg)
{
    eos_wasm_module *m = arg;
    eos_wasm_store *s;
    if (eos_wasm_store_new(NULL, &s) != 0)
        return (void *)1;
    eos_wasm_instance *inst = instance(s, m);
    uintptr_t bad = 0;
    for (int k = 0; k < 2000; k++) {
        int32_t out;
        eos_diag d;
        if (call(s, inst, "load", k % 2 ? 70000u : 16u, &out, &d) !=
            (k % 2 ? EOS_TRAP_MEMORY_OOB : 0))
            bad++;
    }
    eos_wasm_store_free(s);
    return (void *)bad;
}

static void test_threads(void)
{
    eos_wasm_module *m = load();
    pthread_t t[4];
    for (int k = 0; k < 4; k++)
        EOS_CHECK_INT(pthread_create(&t[k], NULL, trap_loop, m), 0);
    for (int k = 0; k < 4; k++) {
        void *bad = NULL;
        pthread_join(t[k], &bad);
        EOS_CHECK(bad == NULL);
    }
    eos_wasm_module_free(m);
}

static void earlier_handler(int sig)
{
    (void)sig;
    _exit(42);
}

/* Runs a poke of the given mode in a child; returns its wait status. The
 * child may first install its own SIGSEGV handler, before the engine's. */
static int child_poke(int mode, uint32_t arg, bool own_handler)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (own_handler)
            signal(SIGSEGV, earlier_handler);
        eos_wasm_module *m = load();
        eos_wasm_store *s;
        if (!m || eos_wasm_store_new(NULL, &s) != 0)
            _exit(3);
        eos_wasm_instance *inst = instance(s, m);
        int32_t out;
        eos_diag d;
        if (call(s, inst, "load", 1u << 20, &out, &d) != EOS_TRAP_MEMORY_OOB)
            _exit(4);
        poke_mode = mode;
        call(s, inst, "poke", arg, &out, &d);
        _exit(0); /* the fault was swallowed */
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}

static void test_host_faults(void)
{
    /* A host function reading the guarded reservation past the size is not
     * compiled code: the process dies of SIGSEGV as without the engine. */
    int st = child_poke(1, 1u << 20, false);
    EOS_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    /* A handler installed before the engine's gets the faults that are not
     * the engine's. */
    st = child_poke(2, 0, true);
    EOS_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
    st = child_poke(1, 1u << 20, true);
    EOS_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
}

int main(void)
{
    const char *why = NULL;
    if (eos_wasm_bounds_guard_supported(&why) != 0) {
        printf("skipped: %s\n", why);
        return 77;
    }
    /* The children first: they install handlers before the engine does. */
    EOS_RUN(test_host_faults);
    EOS_RUN(test_traps);
    EOS_RUN(test_exact);
    EOS_RUN(test_threads);
    return eos_test_finish();
}
