/* Helpers shared by the engine's unit tests: loading the test module and
 * instantiating it with host imports whose behaviour the tests choose. */
#ifndef EOS_WASM_TEST_H
#define EOS_WASM_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eos/wasm.h"

static inline uint8_t *wt_read(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return b;
}

/* host "add": slots[0] = slots[0] + slots[1] */
static inline int wt_host_add(eos_wasm_caller *c, void *ud, uint64_t *slots)
{
    (void)c;
    (void)ud;
    slots[0] = (uint32_t)((uint32_t)slots[0] + (uint32_t)slots[1]);
    return 0;
}

/* host "reenter": calls the export named by *(const char **)ud with arg (+1
 * for recursion through the host), propagating traps. */
static inline int wt_host_reenter(eos_wasm_caller *c, void *ud, uint64_t *slots)
{
    const char *name = *(const char **)ud;
    eos_wasm_instance *inst = eos_wasm_caller_instance(c);
    eos_wasm_func *f = eos_wasm_instance_func(inst, name);
    if (!f)
        return eos_wasm_caller_trap(c, EOS_TRAP_HOST, "no export %s", name);
    uint64_t s[1] = {(uint32_t)slots[0] + (strcmp(name, "host_rec") == 0 ? 1 : 0)};
    int rc = eos_wasm_func_call_raw(eos_wasm_caller_store(c), f, s, NULL);
    if (rc)
        return rc;
    slots[0] = s[0];
    return 0;
}

/* Instantiates the API test module in s; *target selects what "reenter" calls. */
static inline int wt_instantiate(eos_wasm_store *s, eos_wasm_module *m, const char **target,
                                 eos_wasm_instance **out, eos_diag *diag)
{
    static const uint8_t ii[] = {EOS_WASM_I32, EOS_WASM_I32}, i[] = {EOS_WASM_I32};
    eos_wasm_functype add_t = {2, 1, ii, i}, re_t = {1, 1, i, i};
    eos_wasm_extern imports[2] = {{.kind = EOS_WASM_EXTERN_FUNC}, {.kind = EOS_WASM_EXTERN_FUNC}};
    int rc = eos_wasm_func_new_host(s, &add_t, wt_host_add, NULL, &imports[0].of.func);
    if (rc == 0)
        rc = eos_wasm_func_new_host(s, &re_t, wt_host_reenter, (void *)target, &imports[1].of.func);
    if (rc)
        return rc;
    return eos_wasm_instantiate(s, m, imports, 2, out, diag);
}

/* The tier the tests run on: the same tests are built once per tier. */
#ifndef EOS_TEST_TIER
#define EOS_TEST_TIER EOS_WASM_TIER_INTERP
#endif

static inline eos_wasm_module *wt_module(void)
{
    size_t size;
    uint8_t *b = wt_read(EOS_TEST_API_WASM, &size);
    if (!b)
        return NULL;
    eos_wasm_module *m = NULL;
    eos_wasm_features f = {.tier = EOS_TEST_TIER};
    eos_wasm_module_new(b, size, &f, &m, NULL);
    free(b);
    return m;
}

static inline int wt_call1(eos_wasm_store *s, eos_wasm_instance *i, const char *name, int32_t arg,
                           int32_t *out)
{
    eos_wasm_val a = {.type = EOS_WASM_I32, .of.i32 = arg}, r;
    eos_wasm_func *f = eos_wasm_instance_func(i, name);
    if (!f)
        return EOS_ENOTFOUND;
    int rc = eos_wasm_func_call(s, f, &a, 1, &r, 1, NULL);
    if (rc == 0)
        *out = r.of.i32;
    return rc;
}

#endif
