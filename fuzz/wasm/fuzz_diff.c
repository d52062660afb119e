/* Differential libFuzzer target for the two tiers: a module accepted by the
 * engine is instantiated twice, interpreted and compiled, each in its own
 * store with the same stub imports, and every exported function is called
 * with zero arguments under the same fuel. Results, traps, fuel consumed,
 * globals and memories must agree; any difference aborts. NaN results agree
 * whatever their payloads (LLVM may fold a NaN differently from the CPU).
 * EOS_FUZZ_BOUNDS=guard compiles with guard-page bounds checks (a build
 * without sanitizers: under them the mode is refused and the run stops);
 * fuel consumed is then not compared after an out-of-bounds trap, which
 * guard mode counts up to the last call. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eos/wasm.h"
#include "stub_imports.h"

#define FUEL 20000
/* LLVM's O2 pipeline takes about a second per few KiB of code: larger inputs
 * would only slow the search (and trip libFuzzer's timeout). */
#define MAX_INPUT 2048

static uint8_t bounds = EOS_WASM_BOUNDS_EXPLICIT;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *b = getenv("EOS_FUZZ_BOUNDS"), *why = NULL;
    if (b && strcmp(b, "guard") == 0) {
        if (eos_wasm_bounds_guard_supported(&why) != 0) {
            fprintf(stderr, "fuzz_diff: EOS_FUZZ_BOUNDS=guard is not available: %s\n", why);
            exit(1);
        }
        bounds = EOS_WASM_BOUNDS_GUARD;
    }
    return 0;
}

typedef struct side {
    eos_wasm_module *m;
    eos_wasm_store *s;
    eos_wasm_instance *inst;
    eos_wasm_extern *imports;
    int rc;
} side;

/* Loads and instantiates data on tier; rc is the first failure. */
static void side_open(side *x, const uint8_t *data, size_t size, eos_wasm_tier tier)
{
    memset(x, 0, sizeof(*x));
    eos_wasm_features f = {.tier = (uint8_t)tier,
                           .bounds = tier == EOS_WASM_TIER_INTERP ? 0 : bounds};
    if ((x->rc = eos_wasm_module_new(data, size, &f, &x->m, NULL)) != 0)
        return;
    eos_wasm_limits lim = {.fuel = FUEL,
                           .max_memory_bytes = 64u << 20,
                           .max_table_elems = 100000,
                           .max_call_depth = 500};
    if ((x->rc = eos_wasm_store_new(&lim, &x->s)) != 0)
        return;
    size_t n = eos_wasm_module_import_count(x->m);
    x->imports = calloc(n + 1, sizeof(*x->imports));
    for (size_t i = 0; i < n; i++) {
        eos_wasm_import_desc d;
        eos_wasm_module_import(x->m, i, &d);
        if ((x->rc = make_import(x->s, &d, &x->imports[i])) != 0)
            return;
    }
    x->rc = eos_wasm_instantiate(x->s, x->m, x->imports, n, &x->inst, NULL);
}

static void side_close(side *x)
{
    free(x->imports);
    eos_wasm_store_free(x->s);
    eos_wasm_module_free(x->m);
}

static void fail(const char *what, const char *name)
{
    fprintf(stderr, "fuzz_diff: the tiers differ: %s (%s)\n", what, name ? name : "-");
    abort();
}

static bool same_value(uint8_t t, uint64_t a, uint64_t b)
{
    if (t == EOS_WASM_F32) {
        float x, y;
        uint32_t ua = (uint32_t)a, ub = (uint32_t)b;
        memcpy(&x, &ua, 4);
        memcpy(&y, &ub, 4);
        return ua == ub || (isnan(x) && isnan(y));
    }
    if (t == EOS_WASM_F64) {
        double x, y;
        memcpy(&x, &a, 8);
        memcpy(&y, &b, 8);
        return a == b || (isnan(x) && isnan(y));
    }
    if (t == EOS_WASM_I32)
        return (uint32_t)a == (uint32_t)b;
    if (t == EOS_WASM_I64)
        return a == b;
    return (a == 0) == (b == 0); /* references: store-local pointers */
}

/* v128: lane shapes are not known, so each 64-bit half agrees if it is equal
 * or a NaN as f64 on both sides, else each 32-bit part equal or NaN as f32. */
static bool same_v128(const uint64_t *a, const uint64_t *b)
{
    for (int h = 0; h < 2; h++) {
        if (same_value(EOS_WASM_F64, a[h], b[h]))
            continue;
        if (!same_value(EOS_WASM_F32, a[h], b[h]) ||
            !same_value(EOS_WASM_F32, a[h] >> 32, b[h] >> 32))
            return false;
    }
    return true;
}

/* Memories and globals of both instances, by index and by export. */
static void compare_state(side *a, side *b, const char *name)
{
    for (uint32_t k = 0;; k++) {
        eos_wasm_memory *ma = eos_wasm_instance_memory(a->inst, k);
        eos_wasm_memory *mb = eos_wasm_instance_memory(b->inst, k);
        if (!ma || !mb)
            break;
        if (eos_wasm_memory_size(ma) != eos_wasm_memory_size(mb))
            fail("memory size", name);
        if (memcmp(eos_wasm_memory_data(ma), eos_wasm_memory_data(mb), eos_wasm_memory_size(ma)))
            fail("memory contents", name);
    }
    for (size_t i = 0; i < eos_wasm_module_export_count(a->m); i++) {
        eos_wasm_export_desc d;
        eos_wasm_module_export(a->m, i, &d);
        if (d.type.kind != EOS_WASM_EXTERN_GLOBAL)
            continue;
        eos_wasm_extern ea, eb;
        if (eos_wasm_instance_export_len(a->inst, d.name, d.name_len, &ea) ||
            eos_wasm_instance_export_len(b->inst, d.name, d.name_len, &eb))
            fail("global export", name);
        eos_wasm_val va = eos_wasm_global_get(ea.of.global), vb = eos_wasm_global_get(eb.of.global);
        uint64_t wa[2], wb[2];
        memcpy(wa, va.of.v128, 16);
        memcpy(wb, vb.of.v128, 16);
        if (va.type == EOS_WASM_V128 ? !same_v128(wa, wb)
                                     : !same_value(va.type, (uint64_t)va.of.i64, (uint64_t)vb.of.i64))
            fail("global value", name);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!eos_wasm_jit_available() || size > MAX_INPUT)
        return 0;
    side a, b;
    side_open(&a, data, size, EOS_WASM_TIER_INTERP);
    side_open(&b, data, size, EOS_WASM_TIER_COMPILED);
    /* A module the compiled tier declines (EOS_EUNSUPPORTED: an
     * instruction it does not translate) runs interpreted: nothing to compare. */
    if (a.rc == 0 && b.rc == EOS_EUNSUPPORTED)
        goto out;
    /* A module either tier rejects must be rejected by both. */
    if ((a.rc == 0) != (b.rc == 0) && a.rc != EOS_TRAP_STACK_EXHAUSTED &&
        b.rc != EOS_TRAP_STACK_EXHAUSTED)
        fail("load or instantiation", NULL);
    if (a.rc || b.rc)
        goto out;
    compare_state(&a, &b, "instantiation");
    for (size_t i = 0; i < eos_wasm_module_export_count(a.m); i++) {
        eos_wasm_export_desc d;
        eos_wasm_module_export(a.m, i, &d);
        if (d.type.kind != EOS_WASM_EXTERN_FUNC)
            continue;
        char name[256];
        if (d.name_len >= sizeof(name) || memchr(d.name, 0, d.name_len))
            continue;
        memcpy(name, d.name, d.name_len);
        name[d.name_len] = 0;
        eos_wasm_func *fa = eos_wasm_instance_func(a.inst, name);
        eos_wasm_func *fb = eos_wasm_instance_func(b.inst, name);
        const eos_wasm_functype *t = eos_wasm_func_type(fa);
        /* Slots, not values: a v128 takes two. */
        size_t np = t->param_count, nr = t->result_count;
        for (uint32_t k = 0; k < t->param_count; k++)
            np += t->params[k] == EOS_WASM_V128;
        for (uint32_t k = 0; k < t->result_count; k++)
            nr += t->results[k] == EOS_WASM_V128;
        size_t n = np > nr ? np : nr;
        uint64_t *sa = calloc(n + 1, sizeof(uint64_t)), *sb = calloc(n + 1, sizeof(uint64_t));
        eos_wasm_store_set_fuel(a.s, FUEL);
        eos_wasm_store_set_fuel(b.s, FUEL);
        int ra = eos_wasm_func_call_raw(a.s, fa, sa, NULL);
        int rb = eos_wasm_func_call_raw(b.s, fb, sb, NULL);
        /* Compiled frames live on the native stack, whose limit in bytes is
         * reached at another depth than the interpreter's frame count: past
         * a stack exhaustion on either side, the runs may differ. */
        bool stack = ra == EOS_TRAP_STACK_EXHAUSTED || rb == EOS_TRAP_STACK_EXHAUSTED;
        if (!stack) {
            if (ra != rb)
                fail("trap code", name);
            bool guard_oob = bounds == EOS_WASM_BOUNDS_GUARD && rb == EOS_TRAP_MEMORY_OOB;
            if (!guard_oob &&
                eos_wasm_store_fuel_consumed(a.s) != eos_wasm_store_fuel_consumed(b.s))
                fail("fuel consumed", name);
            for (uint32_t k = 0, at = 0; ra == 0 && k < t->result_count;
                 at += 1 + (t->results[k] == EOS_WASM_V128), k++)
                if (t->results[k] == EOS_WASM_V128 ? !same_v128(sa + at, sb + at)
                                                   : !same_value(t->results[k], sa[at], sb[at]))
                    fail("result", name);
            compare_state(&a, &b, name);
        }
        free(sa);
        free(sb);
        if (stack)
            break;
    }
out:
    side_close(&a);
    side_close(&b);
    return 0;
}
