/* Function references through the API, built for each tier: typed
 * references show as funcref to the host, values the host writes into typed
 * places (arguments, tables, globals) are checked against the type, since
 * call_ref trusts it; bad modules get clear errors. The modules are
 * assembled by hand below. */
#include <string.h>

#include "harness.h"
#include "eos/wasm.h"

/* types: 0 (i32)->i32, 1 ((ref null 0) i32)->i32, 2 (f64)->f64
 * funcs: inc (0), apply (1: call_ref 0 on its first argument), fneg (2),
 *        first (0: call_ref on table element 0)
 * table "tab": (ref 0), 2 elements, initialised with ref.func inc
 * global "g": (mut (ref null 0)) = ref.null 0 */
static const uint8_t typed_mod[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x12, 0x03, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x60, 0x02, 0x63, 0x00, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7c, 0x01, 0x7c, 0x03, 0x05, 0x04, 0x00,
    0x01, 0x02, 0x00, 0x04, 0x0a, 0x01, 0x40, 0x00, 0x64, 0x00, 0x00, 0x02, 0xd2, 0x00, 0x0b, 0x06,
    0x07, 0x01, 0x63, 0x00, 0x01, 0xd0, 0x00, 0x0b, 0x07, 0x28, 0x06, 0x03, 0x69, 0x6e, 0x63, 0x00,
    0x00, 0x05, 0x61, 0x70, 0x70, 0x6c, 0x79, 0x00, 0x01, 0x04, 0x66, 0x6e, 0x65, 0x67, 0x00, 0x02,
    0x05, 0x66, 0x69, 0x72, 0x73, 0x74, 0x00, 0x03, 0x03, 0x74, 0x61, 0x62, 0x01, 0x00, 0x01, 0x67,
    0x03, 0x00, 0x0a, 0x23, 0x04, 0x07, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x0b, 0x08, 0x00, 0x20,
    0x01, 0x20, 0x00, 0x14, 0x00, 0x0b, 0x05, 0x00, 0x20, 0x00, 0x9a, 0x0b, 0x0a, 0x00, 0x20, 0x00,
    0x41, 0x00, 0x25, 0x00, 0x14, 0x00, 0x0b,
};

static const uint8_t gc_heap[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x63, 0x6e, 0x00,
};

static const uint8_t unknown_heap[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60, 0x01, 0x63, 0x05, 0x00,
};

static const uint8_t cut_heap[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x01, 0x63,
};

static const uint8_t unset_local[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02,
    0x01, 0x00, 0x0a, 0x0a, 0x01, 0x08, 0x01, 0x01, 0x64, 0x00, 0x20, 0x00, 0x1a, 0x0b,
};

static const uint8_t set_in_block[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02,
    0x01, 0x00, 0x09, 0x05, 0x01, 0x03, 0x00, 0x01, 0x00, 0x0a, 0x14, 0x01, 0x12, 0x01, 0x01, 0x64,
    0x00, 0x02, 0x40, 0xd2, 0x00, 0x21, 0x00, 0x20, 0x00, 0x1a, 0x0b, 0x20, 0x00, 0x1a, 0x0b,
};

static const uint8_t set_then_get[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02,
    0x01, 0x00, 0x09, 0x05, 0x01, 0x03, 0x00, 0x01, 0x00, 0x0a, 0x0e, 0x01, 0x0c, 0x01, 0x01, 0x64,
    0x00, 0xd2, 0x00, 0x21, 0x00, 0x20, 0x00, 0x1a, 0x0b,
};

static const uint8_t table_no_init[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x04, 0x05, 0x01, 0x64, 0x70, 0x00, 0x01,
};


#ifndef EOS_TEST_TIER
#define EOS_TEST_TIER EOS_WASM_TIER_INTERP
#endif

/* return_call of a function returning (ref 0) from one returning funcref:
 * valid, results are matched by subtyping. */
static const uint8_t tail_sub[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0d, 0x03, 0x60, 0x00, 0x00, 0x60, 0x00,
    0x01, 0x64, 0x00, 0x60, 0x00, 0x01, 0x70, 0x03, 0x04, 0x03, 0x00, 0x01, 0x02, 0x09, 0x05, 0x01,
    0x03, 0x00, 0x01, 0x00, 0x0a, 0x0e, 0x03, 0x02, 0x00, 0x0b, 0x04, 0x00, 0xd2, 0x00, 0x0b, 0x04,
    0x00, 0x12, 0x01, 0x0b,
};


static int load(const uint8_t *b, size_t n, eos_wasm_module **m, eos_diag *d)
{
    eos_diag_init(d);
    eos_wasm_features f = {.tier = EOS_TEST_TIER};
    return eos_wasm_module_new(b, n, &f, m, d);
}

static void test_api_view(void)
{
    eos_wasm_module *m;
    eos_diag d;
    EOS_CHECK_INT(load(typed_mod, sizeof(typed_mod), &m, &d), 0);
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_instance *inst;
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, NULL, 0, &inst, &d), 0);

    eos_wasm_func *apply = eos_wasm_instance_func(inst, "apply");
    eos_wasm_func *inc = eos_wasm_instance_func(inst, "inc");
    eos_wasm_func *fneg = eos_wasm_instance_func(inst, "fneg");
    EOS_CHECK(apply && inc && fneg);
    const eos_wasm_functype *t = eos_wasm_func_type(apply);
    EOS_CHECK_INT(t->param_count, 2);
    EOS_CHECK_INT(t->params[0], EOS_WASM_FUNCREF);
    EOS_CHECK_INT(t->params[1], EOS_WASM_I32);

    eos_wasm_extern tab, g;
    EOS_CHECK_INT(eos_wasm_instance_export(inst, "tab", &tab), 0);
    EOS_CHECK_INT(eos_wasm_instance_export(inst, "g", &g), 0);
    EOS_CHECK_INT(eos_wasm_table_type(tab.of.table).elem_type, EOS_WASM_FUNCREF);
    EOS_CHECK_INT(eos_wasm_global_type(g.of.global).valtype, EOS_WASM_FUNCREF);
    for (size_t i = 0; i < eos_wasm_module_export_count(m); i++) {
        eos_wasm_export_desc e;
        eos_wasm_module_export(m, i, &e);
        if (e.type.kind == EOS_WASM_EXTERN_FUNC)
            for (uint32_t k = 0; k < e.type.of.func->param_count; k++)
                EOS_CHECK(e.type.of.func->params[k] < 0x80);
    }
    eos_wasm_module_free(m);
    eos_wasm_store_free(s);
}

static void test_calls_and_checks(void)
{
    eos_wasm_module *m;
    eos_diag d;
    EOS_CHECK_INT(load(typed_mod, sizeof(typed_mod), &m, &d), 0);
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_instance *inst;
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, NULL, 0, &inst, &d), 0);
    eos_wasm_func *apply = eos_wasm_instance_func(inst, "apply");
    eos_wasm_func *inc = eos_wasm_instance_func(inst, "inc");
    eos_wasm_func *fneg = eos_wasm_instance_func(inst, "fneg");
    eos_wasm_func *first = eos_wasm_instance_func(inst, "first");

    eos_wasm_val args[2] = {{.type = EOS_WASM_FUNCREF, .of.funcref = inc},
                            {.type = EOS_WASM_I32, .of.i32 = 41}};
    eos_wasm_val r = {0};
    EOS_CHECK_INT(eos_wasm_func_call(s, apply, args, 2, &r, 1, &d), 0);
    EOS_CHECK_INT(r.of.i32, 42);
    /* A null reference traps in call_ref. */
    args[0].of.funcref = NULL;
    EOS_CHECK_INT(eos_wasm_func_call(s, apply, args, 2, &r, 1, &d), EOS_TRAP_NULL_REFERENCE);
    EOS_CHECK(strstr(d.message, "null function reference") != NULL);
    /* A function of another type is refused before the call. */
    args[0].of.funcref = fneg;
    EOS_CHECK_INT(eos_wasm_func_call(s, apply, args, 2, &r, 1, &d), EOS_EINVAL);

    eos_wasm_extern tab, g;
    EOS_CHECK_INT(eos_wasm_instance_export(inst, "tab", &tab), 0);
    EOS_CHECK_INT(eos_wasm_instance_export(inst, "g", &g), 0);
    eos_wasm_val v = {.type = EOS_WASM_FUNCREF, .of.funcref = fneg};
    EOS_CHECK_INT(eos_wasm_global_set(g.of.global, v), EOS_EINVAL);
    v.of.funcref = inc;
    EOS_CHECK_INT(eos_wasm_global_set(g.of.global, v), 0);
    v.of.funcref = NULL;
    EOS_CHECK_INT(eos_wasm_global_set(g.of.global, v), 0);

    /* The table was filled by its initializer; it holds no nulls. */
    eos_wasm_val a = {.type = EOS_WASM_I32, .of.i32 = 5};
    EOS_CHECK_INT(eos_wasm_func_call(s, first, &a, 1, &r, 1, &d), 0);
    EOS_CHECK_INT(r.of.i32, 6);
    EOS_CHECK_INT(eos_wasm_table_set(tab.of.table, 0, v), EOS_EINVAL);
    v.of.funcref = fneg;
    EOS_CHECK_INT(eos_wasm_table_set(tab.of.table, 0, v), EOS_EINVAL);
    v.of.funcref = inc;
    EOS_CHECK_INT(eos_wasm_table_set(tab.of.table, 1, v), 0);
    eos_wasm_module_free(m);
    eos_wasm_store_free(s);
}

static void test_bad_modules(void)
{
    eos_wasm_module *m = NULL;
    eos_diag d;
    EOS_CHECK_INT(load(gc_heap, sizeof(gc_heap), &m, &d), EOS_EUNSUPPORTED);
    EOS_CHECK(strstr(d.message, "GC heap type") != NULL);
    EOS_CHECK_INT(load(unknown_heap, sizeof(unknown_heap), &m, &d), EOS_EINVALID);
    EOS_CHECK(strstr(d.message, "unknown type") != NULL);
    EOS_CHECK_INT(load(cut_heap, sizeof(cut_heap), &m, &d), EOS_EMALFORMED);
    EOS_CHECK_INT(load(unset_local, sizeof(unset_local), &m, &d), EOS_EINVALID);
    EOS_CHECK(strstr(d.message, "uninitialized local") != NULL);
    /* Set inside a block, the local is unset again after its end. */
    EOS_CHECK_INT(load(set_in_block, sizeof(set_in_block), &m, &d), EOS_EINVALID);
    EOS_CHECK(strstr(d.message, "uninitialized local") != NULL);
    EOS_CHECK_INT(load(table_no_init, sizeof(table_no_init), &m, &d), EOS_EINVALID);
    EOS_CHECK_INT(load(set_then_get, sizeof(set_then_get), &m, &d), 0);
    eos_wasm_module_free(m);
    EOS_CHECK_INT(load(tail_sub, sizeof(tail_sub), &m, &d), 0);
    eos_wasm_module_free(m);
}

/* Every one-byte code is taken: a module needing more reference types than
 * there are codes is refused with a clear error, not a crash. */
static void test_too_many_types(void)
{
    enum { N = 200 };
    uint8_t b[8 + 6 + N * 5];
    size_t n = 0;
    static const uint8_t hdr[] = {0, 0x61, 0x73, 0x6d, 1, 0, 0, 0};
    memcpy(b, hdr, 8);
    n = 8;
    /* type i: (func (param (ref i))), N types */
    size_t body = 2 + N * 5;
    b[n++] = 1;
    b[n++] = (uint8_t)(0x80 | (body & 0x7f));
    b[n++] = (uint8_t)(body >> 7);
    b[n++] = (uint8_t)(0x80 | (N & 0x7f));
    b[n++] = (uint8_t)(N >> 7);
    for (int i = 0; i < N; i++) {
        b[n++] = 0x60;
        b[n++] = 1;
        b[n++] = 0x64;
        b[n++] = (uint8_t)(i < 64 ? i : 0); /* s33: one byte below 64 */
        b[n++] = 0;
    }
    eos_wasm_module *m = NULL;
    eos_diag d;
    /* Only 64 distinct heap types fit one byte each: the rest repeat type 0. */
    EOS_CHECK_INT(load(b, n, &m, &d), 0);
    eos_wasm_module_free(m);
    for (int i = 0; i < N; i++)
        b[8 + 5 + i * 5 + 3] = (uint8_t)(i % 64);
    for (int i = 0; i < N; i++)
        b[8 + 5 + i * 5 + 2] = i < 64 ? 0x64 : 0x63;
    EOS_CHECK_INT(load(b, n, &m, &d), EOS_ELIMIT);
    EOS_CHECK(strstr(d.message, "too many") != NULL);
}

/* Cross-module call_indirect: module xa exports a table holding a function
 * of type ((ref null $a)) with $a = (i32); xb_other calls it as
 * ((ref null $b)) with $b = (f64), xb_same with $b = (i32). Both modules
 * write these types with the same bytes, so only the structure tells them
 * apart. */
static const uint8_t xa[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x02, 0x60, 0x01, 0x7f, 0x00, 0x60,
    0x01, 0x63, 0x00, 0x00, 0x03, 0x02, 0x01, 0x01, 0x04, 0x04, 0x01, 0x70, 0x00, 0x01, 0x07, 0x05,
    0x01, 0x01, 0x74, 0x01, 0x00, 0x09, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00, 0x0a, 0x04,
    0x01, 0x02, 0x00, 0x0b,
};

static const uint8_t xb_other[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0d, 0x03, 0x60, 0x01, 0x7c, 0x00, 0x60,
    0x01, 0x63, 0x00, 0x00, 0x60, 0x00, 0x00, 0x02, 0x09, 0x01, 0x01, 0x61, 0x01, 0x74, 0x01, 0x70,
    0x00, 0x01, 0x03, 0x02, 0x01, 0x02, 0x07, 0x05, 0x01, 0x01, 0x67, 0x00, 0x00, 0x0a, 0x0b, 0x01,
    0x09, 0x00, 0xd0, 0x00, 0x41, 0x00, 0x11, 0x01, 0x00, 0x0b,
};

static const uint8_t xb_same[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0d, 0x03, 0x60, 0x01, 0x7f, 0x00, 0x60,
    0x01, 0x63, 0x00, 0x00, 0x60, 0x00, 0x00, 0x02, 0x09, 0x01, 0x01, 0x61, 0x01, 0x74, 0x01, 0x70,
    0x00, 0x01, 0x03, 0x02, 0x01, 0x02, 0x07, 0x05, 0x01, 0x01, 0x67, 0x00, 0x00, 0x0a, 0x0b, 0x01,
    0x09, 0x00, 0xd0, 0x00, 0x41, 0x00, 0x11, 0x01, 0x00, 0x0b,
};


static void test_cross_module_call_indirect(void)
{
    eos_wasm_module *a, *b;
    eos_diag d;
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    EOS_CHECK_INT(load(xa, sizeof(xa), &a, &d), 0);
    eos_wasm_instance *ia, *ib;
    EOS_CHECK_INT(eos_wasm_instantiate(s, a, NULL, 0, &ia, &d), 0);
    eos_wasm_extern t;
    EOS_CHECK_INT(eos_wasm_instance_export(ia, "t", &t), 0);
    int rc = load(xb_other, sizeof(xb_other), &b, &d);
    if (EOS_TEST_TIER == EOS_WASM_TIER_COMPILED) {
        /* The compiled tier declines a call_indirect of a typed signature. */
        EOS_CHECK_INT(rc, EOS_EUNSUPPORTED);
    } else {
        EOS_CHECK_INT(rc, 0);
        EOS_CHECK_INT(eos_wasm_instantiate(s, b, &t, 1, &ib, &d), 0);
        EOS_CHECK_INT(eos_wasm_func_call(s, eos_wasm_instance_func(ib, "g"), NULL, 0, NULL, 0, &d),
                      EOS_TRAP_INDIRECT_CALL_TYPE);
        eos_wasm_module_free(b);
        EOS_CHECK_INT(load(xb_same, sizeof(xb_same), &b, &d), 0);
        EOS_CHECK_INT(eos_wasm_instantiate(s, b, &t, 1, &ib, &d), 0);
        EOS_CHECK_INT(eos_wasm_func_call(s, eos_wasm_instance_func(ib, "g"), NULL, 0, NULL, 0, &d),
                      0);
        eos_wasm_module_free(b);
    }
    eos_wasm_module_free(a);
    eos_wasm_store_free(s);
}

int main(void)
{
    EOS_RUN(test_api_view);
    EOS_RUN(test_calls_and_checks);
    EOS_RUN(test_bad_modules);
    EOS_RUN(test_too_many_types);
    EOS_RUN(test_cross_module_call_indirect);
    return eos_test_finish();
}
