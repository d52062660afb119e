/* Tests of host-created objects used as imports (memory, table, global,
 * functions), indirect calls through a host table holding functions of two
 * instances, trap messages from host functions, and extern types. */
#include <string.h>

#include "harness.h"
#include "wasm_test.h"

static int host_fail(eos_wasm_caller *c, void *ud, uint64_t *slots)
{
    (void)ud;
    (void)slots;
    EOS_CHECK(eos_wasm_store_data(eos_wasm_caller_store(c)) == (void *)0x1234);
    return eos_wasm_caller_trap(c, EOS_TRAP_HOST, "denied by policy %d", 7);
}

static int host_nine(eos_wasm_caller *c, void *ud, uint64_t *slots)
{
    (void)c;
    (void)ud;
    slots[0] = 9;
    return 0;
}

static eos_wasm_module *load(void)
{
    size_t size = 0;
    uint8_t *b = wt_read(EOS_TEST_OBJECTS_WASM, &size);
    eos_wasm_module *m = NULL;
    eos_diag d;
    eos_diag_init(&d);
    if (b)
        eos_wasm_module_new(b, size, NULL, &m, &d);
    free(b);
    return m;
}

static void test_host_objects(void)
{
    eos_wasm_module *m = load();
    EOS_CHECK(m != NULL);
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_store_set_data(s, (void *)0x1234);

    eos_wasm_memorytype mt = {.limits = {.min = 1, .max = 4, .has_max = true}};
    eos_wasm_tabletype tt = {EOS_WASM_FUNCREF, {.min = 2, .max = 10, .has_max = true}};
    eos_wasm_globaltype gt = {EOS_WASM_I32, true};
    eos_wasm_val null = {.type = EOS_WASM_FUNCREF}, g0 = {.type = EOS_WASM_I32, .of.i32 = 5};
    static const uint8_t i32[] = {EOS_WASM_I32};
    eos_wasm_functype ft = {0, 1, NULL, i32};
    eos_wasm_extern im[4] = {{.kind = EOS_WASM_EXTERN_MEMORY},
                             {.kind = EOS_WASM_EXTERN_TABLE},
                             {.kind = EOS_WASM_EXTERN_GLOBAL},
                             {.kind = EOS_WASM_EXTERN_FUNC}};
    EOS_CHECK_INT(eos_wasm_memory_new(s, &mt, &im[0].of.memory), 0);
    EOS_CHECK_INT(eos_wasm_table_new(s, &tt, null, &im[1].of.table), 0);
    EOS_CHECK_INT(eos_wasm_global_new(s, &gt, g0, &im[2].of.global), 0);
    EOS_CHECK_INT(eos_wasm_func_new_host(s, &ft, host_fail, NULL, &im[3].of.func), 0);

    /* A wrong import type is a link error that names the import. */
    eos_wasm_extern bad[4];
    memcpy(bad, im, sizeof(bad));
    bad[0] = im[2];
    eos_wasm_instance *inst;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, bad, 4, &inst, &d), EOS_EUNLINKABLE);
    EOS_CHECK(strstr(d.message, "mem") != NULL);
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, im, 3, &inst, NULL), EOS_EUNLINKABLE);
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, im, 4, &inst, NULL), 0);

    /* The host writes memory, the guest reads it. */
    uint32_t v = 0xdeadbeef;
    memcpy(eos_wasm_memory_data(im[0].of.memory), &v, 4);
    eos_wasm_val r;
    EOS_CHECK_INT(
        eos_wasm_func_call(s, eos_wasm_instance_func(inst, "load0"), NULL, 0, &r, 1, NULL), 0);
    EOS_CHECK_INT((uint32_t)r.of.i32, 0xdeadbeef);
    uint64_t old = 0;
    EOS_CHECK_INT(eos_wasm_memory_grow(im[0].of.memory, 3, &old), 0);
    EOS_CHECK_INT(old, 1);
    EOS_CHECK_INT(eos_wasm_memory_grow(im[0].of.memory, 1, &old), EOS_ELIMIT);
    EOS_CHECK_INT(eos_wasm_memory_type(im[0].of.memory).limits.min, 4);

    /* Globals are shared both ways. */
    EOS_CHECK_INT(eos_wasm_func_call(s, eos_wasm_instance_func(inst, "getg"), NULL, 0, &r, 1, NULL),
                  0);
    EOS_CHECK_INT(r.of.i32, 5);
    eos_wasm_val a = {.type = EOS_WASM_I32, .of.i32 = 11};
    EOS_CHECK_INT(eos_wasm_func_call(s, eos_wasm_instance_func(inst, "setg"), &a, 1, NULL, 0, NULL),
                  0);
    EOS_CHECK_INT(eos_wasm_global_get(im[2].of.global).of.i32, 11);

    /* The table holds a wasm function and a host function; slot 2 after growth
     * is out of bounds until set. */
    eos_wasm_val fv = {.type = EOS_WASM_FUNCREF};
    fv.of.funcref = eos_wasm_instance_func(inst, "seven");
    EOS_CHECK_INT(eos_wasm_table_set(im[1].of.table, 0, fv), 0);
    eos_wasm_func *nine;
    EOS_CHECK_INT(eos_wasm_func_new_host(s, &ft, host_nine, NULL, &nine), 0);
    fv.of.funcref = nine;
    EOS_CHECK_INT(eos_wasm_table_set(im[1].of.table, 1, fv), 0);
    EOS_CHECK_INT(eos_wasm_table_set(im[1].of.table, 2, fv), EOS_ERANGE);
    int32_t out = 0;
    EOS_CHECK_INT(wt_call1(s, inst, "callt", 0, &out), 0);
    EOS_CHECK_INT(out, 7);
    EOS_CHECK_INT(wt_call1(s, inst, "callt", 1, &out), 0);
    EOS_CHECK_INT(out, 9);
    EOS_CHECK_INT(wt_call1(s, inst, "callt", 2, &out), EOS_TRAP_TABLE_OOB);
    EOS_CHECK_INT(eos_wasm_table_size(im[1].of.table), 2);
    eos_wasm_val got;
    EOS_CHECK_INT(eos_wasm_table_get(im[1].of.table, 1, &got), 0);
    EOS_CHECK(got.of.funcref == nine);

    /* A host trap carries its code and message to the caller. */
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_wasm_func_call(s, eos_wasm_instance_func(inst, "fail"), NULL, 0, &r, 1, &d),
                  EOS_TRAP_HOST);
    EOS_CHECK(strstr(d.message, "denied by policy 7") != NULL);

    /* Function references returned to the host can be called. */
    EOS_CHECK_INT(eos_wasm_func_call(s, eos_wasm_instance_func(inst, "ref"), NULL, 0, &r, 1, NULL),
                  0);
    EOS_CHECK_INT(r.type, EOS_WASM_FUNCREF);
    EOS_CHECK(r.of.funcref == eos_wasm_instance_func(inst, "seven"));
    eos_wasm_extern ex = {.kind = EOS_WASM_EXTERN_FUNC, .of.func = r.of.funcref};
    eos_wasm_externtype et = eos_wasm_extern_type(&ex);
    EOS_CHECK(eos_wasm_functype_equal(et.of.func, &ft));
    ex.kind = EOS_WASM_EXTERN_TABLE;
    ex.of.table = im[1].of.table;
    EOS_CHECK_INT(eos_wasm_extern_type(&ex).of.table.elem_type, EOS_WASM_FUNCREF);
    EOS_CHECK(eos_wasm_instance_module(inst) == m);

    /* Objects never cross stores: linking and calling across them is refused. */
    eos_wasm_store *s2;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s2), 0);
    eos_wasm_instance *inst2;
    EOS_CHECK_INT(eos_wasm_instantiate(s2, m, im, 4, &inst2, NULL), EOS_EUNLINKABLE);
    EOS_CHECK_INT(
        eos_wasm_func_call(s2, eos_wasm_instance_func(inst, "seven"), NULL, 0, &r, 1, NULL),
        EOS_EINVAL);
    eos_wasm_store_free(s2);
    eos_wasm_module_free(m);
    eos_wasm_store_free(s);
}

int main(void)
{
    EOS_RUN(test_host_objects);
    return eos_test_finish();
}
