/* Exception handling through the host API: tags made by the host and linked
 * as imports, exceptions thrown by wasm or by a host function and caught by
 * try_table handlers across host frames and tail calls, and an exception no
 * handler takes, which reaches the host as EOS_TRAP_EXCEPTION with its tag
 * and payload kept in the store; then the legacy form (try, catch,
 * catch_all, delegate, rethrow). */
#include <string.h>

#include "eos/wasm.h"
#include "harness.h"

/* The module, from this text (the bytes are its binary form):
 *
 * (module
 *   (type $ti (func (param i32)))
 *   (import "host" "tag" (tag $ht (type $ti)))
 *   (import "host" "call" (func $call (param i32)))
 *   (tag $e (export "e") (param i32 i64))
 *   (export "ht" (tag $ht))
 *   (func $throw_e (export "throw_e") (param i32)
 *     (throw $e (local.get 0) (i64.const 7)))
 *   (func (export "throw_host") (param i32)
 *     (throw $ht (local.get 0)))
 *   (func (export "throw_null")
 *     (throw_ref (ref.null exn)))
 *   (func (export "catch_host") (param i32) (result i32)
 *     (i32.const 1000)
 *     (block $h (result i32)
 *       (try_table (catch $ht $h)
 *         (i32.const 1) (i32.const 2) (drop) (drop)
 *         (call $call (local.get 0)))
 *       (i32.const -1))
 *     (i32.add))
 *   (func $tail_host (param i32)
 *     (block $x
 *       (try_table (catch_all $x)
 *         (return_call $call (local.get 0)))))
 *   (func (export "catch_tail_host") (param i32) (result i32)
 *     (block $h (result i32)
 *       (try_table (catch $ht $h) (call $tail_host (local.get 0)))
 *       (i32.const -1)))
 *   (func $tail_e (param i32) (return_call $throw_e (local.get 0)))
 *   (func (export "catch_tail") (param i32) (result i32)
 *     (block $h (result i32 i64)
 *       (try_table (catch $e $h) (call $tail_e (local.get 0)))
 *       (return (i32.const -1)))
 *     (drop))
 *   (func (export "loop") (param i32) (result i32)
 *     (local $sum i32)
 *     (loop $l
 *       (block $h (result i32 i64)
 *         (try_table (catch $e $h) (call $throw_e (local.get 0)))
 *         (unreachable))
 *       (drop)
 *       (local.set $sum (i32.add (local.get $sum)))
 *       (br_if $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
 *     (local.get $sum))
 *   (func (export "rethrow") (param i32)
 *     (block $h (result exnref)
 *       (try_table (catch_all_ref $h) (call $throw_e (local.get 0)))
 *       (unreachable))
 *     (throw_ref))) */
static const uint8_t eh_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x17, 0x05, 0x60,
    0x01, 0x7f, 0x00, 0x60, 0x02, 0x7f, 0x7e, 0x00, 0x60, 0x00, 0x00, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x02, 0x7f, 0x7e, 0x02, 0x19, 0x02,
    0x04, 0x68, 0x6f, 0x73, 0x74, 0x03, 0x74, 0x61, 0x67, 0x04, 0x00, 0x00,
    0x04, 0x68, 0x6f, 0x73, 0x74, 0x04, 0x63, 0x61, 0x6c, 0x6c, 0x00, 0x00,
    0x03, 0x0b, 0x0a, 0x00, 0x00, 0x02, 0x03, 0x00, 0x03, 0x00, 0x03, 0x03,
    0x00, 0x0d, 0x03, 0x01, 0x00, 0x01, 0x07, 0x6b, 0x0a, 0x01, 0x65, 0x04,
    0x01, 0x02, 0x68, 0x74, 0x04, 0x00, 0x07, 0x74, 0x68, 0x72, 0x6f, 0x77,
    0x5f, 0x65, 0x00, 0x01, 0x0a, 0x74, 0x68, 0x72, 0x6f, 0x77, 0x5f, 0x68,
    0x6f, 0x73, 0x74, 0x00, 0x02, 0x0a, 0x74, 0x68, 0x72, 0x6f, 0x77, 0x5f,
    0x6e, 0x75, 0x6c, 0x6c, 0x00, 0x03, 0x0a, 0x63, 0x61, 0x74, 0x63, 0x68,
    0x5f, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x04, 0x0f, 0x63, 0x61, 0x74, 0x63,
    0x68, 0x5f, 0x74, 0x61, 0x69, 0x6c, 0x5f, 0x68, 0x6f, 0x73, 0x74, 0x00,
    0x06, 0x0a, 0x63, 0x61, 0x74, 0x63, 0x68, 0x5f, 0x74, 0x61, 0x69, 0x6c,
    0x00, 0x08, 0x04, 0x6c, 0x6f, 0x6f, 0x70, 0x00, 0x09, 0x07, 0x72, 0x65,
    0x74, 0x68, 0x72, 0x6f, 0x77, 0x00, 0x0a, 0x0a, 0xad, 0x01, 0x0a, 0x08,
    0x00, 0x20, 0x00, 0x42, 0x07, 0x08, 0x01, 0x0b, 0x06, 0x00, 0x20, 0x00,
    0x08, 0x00, 0x0b, 0x05, 0x00, 0xd0, 0x69, 0x0a, 0x0b, 0x1c, 0x00, 0x41,
    0xe8, 0x07, 0x02, 0x7f, 0x1f, 0x40, 0x01, 0x00, 0x00, 0x00, 0x41, 0x01,
    0x41, 0x02, 0x1a, 0x1a, 0x20, 0x00, 0x10, 0x00, 0x0b, 0x41, 0x7f, 0x0b,
    0x6a, 0x0b, 0x0f, 0x00, 0x02, 0x40, 0x1f, 0x40, 0x01, 0x02, 0x00, 0x20,
    0x00, 0x12, 0x00, 0x0b, 0x0b, 0x0b, 0x12, 0x00, 0x02, 0x7f, 0x1f, 0x40,
    0x01, 0x00, 0x00, 0x00, 0x20, 0x00, 0x10, 0x05, 0x0b, 0x41, 0x7f, 0x0b,
    0x0b, 0x06, 0x00, 0x20, 0x00, 0x12, 0x01, 0x0b, 0x14, 0x00, 0x02, 0x04,
    0x1f, 0x40, 0x01, 0x00, 0x01, 0x00, 0x20, 0x00, 0x10, 0x07, 0x0b, 0x41,
    0x7f, 0x0f, 0x0b, 0x1a, 0x0b, 0x27, 0x01, 0x01, 0x7f, 0x03, 0x40, 0x02,
    0x04, 0x1f, 0x40, 0x01, 0x00, 0x01, 0x00, 0x20, 0x00, 0x10, 0x01, 0x0b,
    0x00, 0x0b, 0x1a, 0x20, 0x01, 0x6a, 0x21, 0x01, 0x20, 0x00, 0x41, 0x01,
    0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b, 0x20, 0x01, 0x0b, 0x11, 0x00, 0x02,
    0x69, 0x1f, 0x40, 0x01, 0x03, 0x00, 0x20, 0x00, 0x10, 0x01, 0x0b, 0x00,
    0x0b, 0x0a, 0x0b, 0x00, 0x69, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x01, 0x23,
    0x04, 0x00, 0x04, 0x63, 0x61, 0x6c, 0x6c, 0x01, 0x07, 0x74, 0x68, 0x72,
    0x6f, 0x77, 0x5f, 0x65, 0x05, 0x09, 0x74, 0x61, 0x69, 0x6c, 0x5f, 0x68,
    0x6f, 0x73, 0x74, 0x07, 0x06, 0x74, 0x61, 0x69, 0x6c, 0x5f, 0x65, 0x02,
    0x08, 0x01, 0x09, 0x01, 0x01, 0x03, 0x73, 0x75, 0x6d, 0x03, 0x22, 0x06,
    0x04, 0x01, 0x00, 0x01, 0x68, 0x05, 0x01, 0x00, 0x01, 0x78, 0x06, 0x01,
    0x00, 0x01, 0x68, 0x08, 0x01, 0x00, 0x01, 0x68, 0x09, 0x02, 0x00, 0x01,
    0x6c, 0x01, 0x01, 0x68, 0x0a, 0x01, 0x00, 0x01, 0x68, 0x04, 0x05, 0x01,
    0x00, 0x02, 0x74, 0x69, 0x0b, 0x08, 0x02, 0x00, 0x02, 0x68, 0x74, 0x01,
    0x01, 0x65,
};

static const uint8_t i32_t[] = {EOS_WASM_I32};

/* host "call" (x): below 100 it throws tag "host" "tag" with 2x itself;
 * otherwise it calls "throw_host" (x + 1) of the instance in ud, so the
 * exception crosses this host frame on its way to the caller's handler. */
typedef struct host_ctx {
    eos_wasm_tag *tag;
    eos_wasm_instance *target;
} host_ctx;

static int host_call(eos_wasm_caller *c, void *ud, uint64_t *slots)
{
    host_ctx *h = ud;
    int32_t x = (int32_t)slots[0];
    if (x < 100) {
        eos_wasm_val v = {.type = EOS_WASM_I32, .of.i32 = 2 * x};
        return eos_wasm_caller_throw(c, h->tag, &v, 1);
    }
    eos_wasm_func *f = eos_wasm_instance_func(h->target, "throw_host");
    uint64_t s[1] = {(uint32_t)(x + 1)};
    return eos_wasm_func_call_raw(eos_wasm_caller_store(c), f, s, NULL);
}

static int setup(eos_wasm_store *s, eos_wasm_module *m, host_ctx *h, eos_wasm_instance **out)
{
    eos_wasm_functype ft = {1, 0, i32_t, NULL};
    eos_wasm_extern im[2] = {{.kind = EOS_WASM_EXTERN_TAG}, {.kind = EOS_WASM_EXTERN_FUNC}};
    im[0].of.tag = h->tag;
    int rc = eos_wasm_func_new_host(s, &ft, host_call, h, &im[1].of.func);
    return rc ? rc : eos_wasm_instantiate(s, m, im, 2, out, NULL);
}

static int call1(eos_wasm_store *s, eos_wasm_instance *inst, const char *name, int32_t arg,
                 int32_t *result)
{
    eos_wasm_func *f = eos_wasm_instance_func(inst, name);
    if (!f)
        return EOS_ENOTFOUND;
    eos_wasm_val a = {.type = EOS_WASM_I32, .of.i32 = arg}, r = {0};
    size_t nr = eos_wasm_func_type(f)->result_count;
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_wasm_func_call(s, f, &a, eos_wasm_func_type(f)->param_count, &r, nr, &d);
    if (result)
        *result = r.of.i32;
    return rc;
}

static void test_tags_and_linking(void)
{
    eos_wasm_module *m = NULL;
    EOS_CHECK_INT(eos_wasm_module_new(eh_wasm, sizeof(eh_wasm), NULL, &m, NULL), 0);
    /* Imports and exports of kind tag, with their payload types. */
    eos_wasm_import_desc id;
    eos_wasm_module_import(m, 0, &id);
    EOS_CHECK_INT(id.type.kind, EOS_WASM_EXTERN_TAG);
    EOS_CHECK_INT(id.type.of.tag->param_count, 1);
    EOS_CHECK_INT(id.type.of.tag->params[0], EOS_WASM_I32);
    eos_wasm_export_desc ed;
    eos_wasm_module_export(m, 0, &ed);
    EOS_CHECK_INT(ed.type.kind, EOS_WASM_EXTERN_TAG);
    EOS_CHECK_INT(ed.type.of.tag->param_count, 2);

    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    static const uint8_t i64_t[] = {EOS_WASM_I64};
    eos_wasm_functype bad = {1, 0, i64_t, NULL}, good = {1, 0, i32_t, NULL};
    eos_wasm_functype with_result = {0, 1, NULL, i32_t};
    eos_wasm_tag *wrong, *tag, *none;
    EOS_CHECK_INT(eos_wasm_tag_new(s, &with_result, &none), EOS_EINVAL);
    EOS_CHECK_INT(eos_wasm_tag_new(s, &bad, &wrong), 0);
    EOS_CHECK_INT(eos_wasm_tag_new(s, &good, &tag), 0);
    EOS_CHECK(eos_wasm_tag_type(tag)->params[0] == EOS_WASM_I32);

    host_ctx h = {wrong, NULL};
    eos_wasm_instance *i1, *i2;
    EOS_CHECK_INT(setup(s, m, &h, &i1), EOS_EUNLINKABLE);
    h.tag = tag;
    EOS_CHECK_INT(setup(s, m, &h, &i1), 0);
    EOS_CHECK_INT(setup(s, m, &h, &i2), 0);

    /* The imported tag keeps its identity; defined tags are new per instance. */
    eos_wasm_extern e1, e2;
    EOS_CHECK_INT(eos_wasm_instance_export(i1, "ht", &e1), 0);
    EOS_CHECK_INT(e1.kind, EOS_WASM_EXTERN_TAG);
    EOS_CHECK(e1.of.tag == tag);
    EOS_CHECK_INT(eos_wasm_extern_type(&e1).of.tag->param_count, 1);
    EOS_CHECK_INT(eos_wasm_instance_export(i1, "e", &e1), 0);
    EOS_CHECK_INT(eos_wasm_instance_export(i2, "e", &e2), 0);
    EOS_CHECK(e1.of.tag != e2.of.tag);

    /* A tag of another store does not link. */
    eos_wasm_store *s2;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s2), 0);
    eos_wasm_instance *i3;
    EOS_CHECK_INT(setup(s2, m, &h, &i3), EOS_EUNLINKABLE);
    eos_wasm_store_free(s2);

    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

static void test_uncaught_and_caught(void)
{
    eos_wasm_module *m = NULL;
    EOS_CHECK_INT(eos_wasm_module_new(eh_wasm, sizeof(eh_wasm), NULL, &m, NULL), 0);
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_functype good = {1, 0, i32_t, NULL};
    host_ctx h = {NULL, NULL}, h2;
    EOS_CHECK_INT(eos_wasm_tag_new(s, &good, &h.tag), 0);
    eos_wasm_instance *inst, *other;
    EOS_CHECK_INT(setup(s, m, &h, &inst), 0);
    h2 = h;
    EOS_CHECK_INT(setup(s, m, &h2, &other), 0);
    h.target = other; /* throw_host of another instance sharing the tag */
    h2.target = other;

    /* Uncaught: a trap-like error with its message, tag and payload kept. */
    eos_wasm_tag *got = NULL;
    eos_wasm_val vals[4];
    EOS_CHECK_INT(eos_wasm_store_exception(s, &got, vals, 4), 0);
    EOS_CHECK(got == NULL);
    eos_wasm_func *f = eos_wasm_instance_func(inst, "throw_e");
    eos_wasm_val a = {.type = EOS_WASM_I32, .of.i32 = 5};
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_wasm_func_call(s, f, &a, 1, NULL, 0, &d);
    EOS_CHECK_INT(rc, EOS_TRAP_EXCEPTION);
    EOS_CHECK(eos_is_trap(rc));
    EOS_CHECK_STR(eos_strerror(rc), "uncaught exception");
    EOS_CHECK(strstr(d.message, "uncaught exception") != NULL);
    EOS_CHECK_INT(eos_wasm_store_exception(s, &got, vals, 4), 2);
    eos_wasm_extern e;
    EOS_CHECK_INT(eos_wasm_instance_export(inst, "e", &e), 0);
    EOS_CHECK(got == e.of.tag);
    EOS_CHECK_INT(vals[0].of.i32, 5);
    EOS_CHECK_INT(vals[1].of.i64, 7);

    /* Rethrown through an exnref: the same exception, payload intact. */
    EOS_CHECK_INT(call1(s, inst, "rethrow", 9, NULL), EOS_TRAP_EXCEPTION);
    EOS_CHECK_INT(eos_wasm_store_exception(s, &got, vals, 4), 2);
    EOS_CHECK_INT(vals[0].of.i32, 9);
    EOS_CHECK_INT(call1(s, inst, "throw_null", 0, NULL), EOS_TRAP_NULL_REFERENCE);

    /* Thrown by the host function itself, caught by the wasm caller, with
     * the operand stack below the handler kept (1000 + 2 * 21). */
    int32_t r = 0;
    EOS_CHECK_INT(call1(s, inst, "catch_host", 21, &r), 0);
    EOS_CHECK_INT(r, 1042);
    /* Thrown by wasm of another instance under a host frame: 1000 + 301. */
    EOS_CHECK_INT(call1(s, inst, "catch_host", 300, &r), 0);
    EOS_CHECK_INT(r, 1301);
    /* A tail call leaves its frame's handlers behind: the caller catches. */
    EOS_CHECK_INT(call1(s, inst, "catch_tail_host", 4, &r), 0);
    EOS_CHECK_INT(r, 8);
    EOS_CHECK_INT(call1(s, inst, "catch_tail", 4, &r), 0);
    EOS_CHECK_INT(r, 4);
    /* Many throws and catches in one call reuse their exceptions. */
    EOS_CHECK_INT(call1(s, inst, "loop", 20000, &r), 0);
    EOS_CHECK_INT(r, (int32_t)(20000u * 20001u / 2u));
    /* A host function called directly lets its exception reach the host. */
    EOS_CHECK_INT(call1(s, other, "throw_host", 3, NULL), EOS_TRAP_EXCEPTION);
    EOS_CHECK_INT(eos_wasm_store_exception(s, &got, vals, 4), 1);
    EOS_CHECK(got == h.tag);
    EOS_CHECK_INT(vals[0].of.i32, 3);

    eos_wasm_store_free(s);
    eos_wasm_module_free(m);
}

/* The legacy form, assembled by hand (each function (i32) -> i32, tag 0
 * without payload, tag 1 with an i32), in the order of the exports:
 *   catch:             try (throw 1 x) catch 1 (x + 1) end
 *   catch_all_rethrow: try (try (throw 1 x) catch_all (rethrow 0) end)
 *                      catch 1 (x + 100) end
 *   delegate:          try (block (try (try (throw 1 x) delegate 1)
 *                      catch_all 7 end)) catch 1 (x + 1000) end
 *   delegate_caller:   try (throw 1 x) delegate 0 (to the caller)
 *   wrap:              try (call delegate_caller x) catch 1 (x + 2000) end
 *   nested_rethrow:    try (try (throw 1 x) catch 1 drop (try (throw 1 9)
 *                      catch 1 drop (rethrow 1) end) end) catch 1 (x + 300) end
 *   empty:             try x catch 0 1 catch_all 2 end
 *   catch_tag0:        try (throw 0) catch 1 catch 0 x catch_all 2 end
 * and modules that must be refused: rethrow outside a catch (three ways),
 * catch_all without try, delegate after a catch. */
static const uint8_t legacy_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0d, 0x03, 0x60,
    0x00, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x00, 0x03,
    0x09, 0x08, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x0d, 0x05,
    0x02, 0x00, 0x00, 0x00, 0x02, 0x07, 0x67, 0x08, 0x05, 0x63, 0x61, 0x74,
    0x63, 0x68, 0x00, 0x00, 0x11, 0x63, 0x61, 0x74, 0x63, 0x68, 0x5f, 0x61,
    0x6c, 0x6c, 0x5f, 0x72, 0x65, 0x74, 0x68, 0x72, 0x6f, 0x77, 0x00, 0x01,
    0x08, 0x64, 0x65, 0x6c, 0x65, 0x67, 0x61, 0x74, 0x65, 0x00, 0x02, 0x0f,
    0x64, 0x65, 0x6c, 0x65, 0x67, 0x61, 0x74, 0x65, 0x5f, 0x63, 0x61, 0x6c,
    0x6c, 0x65, 0x72, 0x00, 0x03, 0x04, 0x77, 0x72, 0x61, 0x70, 0x00, 0x04,
    0x0e, 0x6e, 0x65, 0x73, 0x74, 0x65, 0x64, 0x5f, 0x72, 0x65, 0x74, 0x68,
    0x72, 0x6f, 0x77, 0x00, 0x05, 0x05, 0x65, 0x6d, 0x70, 0x74, 0x79, 0x00,
    0x06, 0x0a, 0x63, 0x61, 0x74, 0x63, 0x68, 0x5f, 0x74, 0x61, 0x67, 0x30,
    0x00, 0x07, 0x0a, 0xa0, 0x01, 0x08, 0x0e, 0x00, 0x06, 0x7f, 0x20, 0x00,
    0x08, 0x01, 0x07, 0x01, 0x41, 0x01, 0x6a, 0x0b, 0x0b, 0x15, 0x00, 0x06,
    0x7f, 0x06, 0x7f, 0x20, 0x00, 0x08, 0x01, 0x19, 0x09, 0x00, 0x0b, 0x07,
    0x01, 0x41, 0xe4, 0x00, 0x6a, 0x0b, 0x0b, 0x1c, 0x00, 0x06, 0x7f, 0x02,
    0x7f, 0x06, 0x7f, 0x06, 0x7f, 0x20, 0x00, 0x08, 0x01, 0x18, 0x01, 0x19,
    0x41, 0x07, 0x0b, 0x0b, 0x07, 0x01, 0x41, 0xe8, 0x07, 0x6a, 0x0b, 0x0b,
    0x0a, 0x00, 0x06, 0x7f, 0x20, 0x00, 0x08, 0x01, 0x18, 0x00, 0x0b, 0x0f,
    0x00, 0x06, 0x7f, 0x20, 0x00, 0x10, 0x03, 0x07, 0x01, 0x41, 0xd0, 0x0f,
    0x6a, 0x0b, 0x0b, 0x21, 0x00, 0x06, 0x7f, 0x06, 0x7f, 0x20, 0x00, 0x08,
    0x01, 0x07, 0x01, 0x1a, 0x06, 0x7f, 0x41, 0x09, 0x08, 0x01, 0x07, 0x01,
    0x1a, 0x09, 0x01, 0x0b, 0x0b, 0x07, 0x01, 0x41, 0xac, 0x02, 0x6a, 0x0b,
    0x0b, 0x0e, 0x00, 0x06, 0x7f, 0x20, 0x00, 0x07, 0x00, 0x41, 0x01, 0x19,
    0x41, 0x02, 0x0b, 0x0b, 0x10, 0x00, 0x06, 0x7f, 0x08, 0x00, 0x07, 0x01,
    0x07, 0x00, 0x20, 0x00, 0x19, 0x41, 0x02, 0x0b, 0x0b,
};
static const uint8_t bad_rethrow[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60,
    0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x09,
    0x00, 0x0b,
};
static const uint8_t bad_rethrow_block[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60,
    0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x02,
    0x40, 0x09, 0x00, 0x0b, 0x0b,
};
static const uint8_t bad_rethrow_try[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60,
    0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x0a, 0x01, 0x08, 0x00, 0x06,
    0x40, 0x09, 0x00, 0x18, 0x00, 0x0b,
};
static const uint8_t bad_catch[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60,
    0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x05, 0x01, 0x03, 0x00, 0x19,
    0x0b,
};
static const uint8_t bad_delegate[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60,
    0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x06,
    0x40, 0x19, 0x18, 0x00, 0x0b,
};

static void test_legacy(void)
{
    eos_wasm_module *m = NULL;
    EOS_CHECK_INT(eos_wasm_module_new(legacy_wasm, sizeof(legacy_wasm), NULL, &m, NULL), 0);
    eos_wasm_store *s;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_wasm_instance *inst;
    EOS_CHECK_INT(eos_wasm_instantiate(s, m, NULL, 0, &inst, NULL), 0);
    static const struct {
        const char *name;
        int rc;
        int32_t want;
    } cases[] = {{"catch", 0, 6},           {"catch_all_rethrow", 0, 105},
                 {"delegate", 0, 1005},     {"delegate_caller", EOS_TRAP_EXCEPTION, 0},
                 {"wrap", 0, 2005},         {"nested_rethrow", 0, 305},
                 {"empty", 0, 5},           {"catch_tag0", 0, 5}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int32_t r = 0;
        EOS_CHECK_INT(call1(s, inst, cases[i].name, 5, &r), cases[i].rc);
        if (cases[i].rc == 0)
            EOS_CHECK_INT(r, cases[i].want);
    }
    /* Catching again and again keeps what rethrow needs bounded. */
    for (int i = 0; i < 5000; i++)
        EOS_CHECK_INT(call1(s, inst, "catch_all_rethrow", i, NULL), 0);
    eos_wasm_store_free(s);
    eos_wasm_module_free(m);

    EOS_CHECK_INT(eos_wasm_module_new(bad_rethrow, sizeof(bad_rethrow), NULL, &m, NULL),
                  EOS_EINVALID);
    EOS_CHECK_INT(
        eos_wasm_module_new(bad_rethrow_block, sizeof(bad_rethrow_block), NULL, &m, NULL),
        EOS_EINVALID);
    EOS_CHECK_INT(eos_wasm_module_new(bad_rethrow_try, sizeof(bad_rethrow_try), NULL, &m, NULL),
                  EOS_EINVALID);
    EOS_CHECK_INT(eos_wasm_module_new(bad_catch, sizeof(bad_catch), NULL, &m, NULL),
                  EOS_EMALFORMED);
    EOS_CHECK_INT(eos_wasm_module_new(bad_delegate, sizeof(bad_delegate), NULL, &m, NULL),
                  EOS_EMALFORMED);
}

static void test_compiled_tier_declines(void)
{
    eos_wasm_features ft = {.tier = EOS_WASM_TIER_AUTO};
    eos_wasm_module *m = NULL;
    EOS_CHECK_INT(eos_wasm_module_new(eh_wasm, sizeof(eh_wasm), &ft, &m, NULL), 0);
    eos_wasm_module_free(m);
    if (!eos_wasm_jit_available())
        return;
    ft.tier = EOS_WASM_TIER_COMPILED;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_wasm_module_new(eh_wasm, sizeof(eh_wasm), &ft, &m, &d), EOS_EUNSUPPORTED);
}

int main(void)
{
    EOS_RUN(test_tags_and_linking);
    EOS_RUN(test_uncaught_and_caught);
    EOS_RUN(test_legacy);
    EOS_RUN(test_compiled_tier_declines);
    return eos_test_finish();
}
