/* End-to-end tests of components built from C: every type through lifted
 * exports in each string encoding, resources defined by the guest and by the
 * host, post-return, and the traps the canonical ABI requires. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eos/cm.h"
#include "cm_testutil.h"
#include "harness.h"

/* The host side of local:types/host: blobs are slots in a small table. */
static uint32_t blob_sizes[16];
static int blob_live[16];
static int dtor_calls, log_calls, reentry_rc;
static char fixture_data; /* the fixture instance's data */
static void *dtor_data;    /* what the last host destructor received */
static eos_cm_instance *current;

static int blob_ctor(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    for (uint32_t i = 1; i < 16; i++)
        if (!blob_live[i]) {
            blob_live[i] = 1;
            blob_sizes[i] = (uint32_t)args[0].of.list.len;
            results[0].of.handle = i;
            return 0;
        }
    return eos_cm_call_trap(call, EOS_TRAP_HOST, "too many blobs");
}

static int blob_size(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    results[0].of.u = blob_sizes[args[0].of.handle];
    return 0;
}

static int host_log(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_CHECK_INT(args[0].of.str.len, 14);
    EOS_CHECK(memcmp(args[0].of.str.ptr, "roundtrip done", 14) == 0);
    log_calls++;
    return 0;
}

static int host_callback(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    /* Calling back into the instance that is calling us must trap. */
    eos_cm_instance *i = eos_cm_call_instance(call);
    eos_cm_func *f = eos_cm_instance_func(i, "frees");
    eos_cm_arena *a = eos_cm_arena_new();
    eos_cm_val r;
    eos_diag d;
    eos_diag_init(&d);
    reentry_rc = eos_cm_call_func(i, f, NULL, 0, &r, 1, a, &d);
    eos_cm_arena_free(a);
    if (reentry_rc)
        return eos_cm_call_trap(call, reentry_rc, "%s", d.message);
    results[0].of.u = 7;
    return 0;
}

static int host_take(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    uint32_t rep = args[0].of.handle;
    results[0].of.u = 100;
    blob_live[rep] = 0; /* the host owns it now and frees it */
    return 0;
}

static int host_peek(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    results[0].of.u = blob_sizes[args[0].of.handle] * 2;
    return 0;
}

static void blob_dtor(void *ud, void *data, uint32_t rep)
{
    dtor_calls++;
    dtor_data = data;
    blob_live[rep] = 0;
}

static const eos_cm_host_func host_funcs[] = {
    {"[constructor]blob", "func(data: list<u8>) -> blob", blob_ctor},
    {"[method]blob.size", "func(self: borrow<blob>) -> u32", blob_size},
    {"log", "func(msg: string)", host_log},
    {"callback", "func() -> u32", host_callback},
    {"take", "func(b: blob) -> u32", host_take},
    {"peek", "func(b: borrow<blob>) -> u32", host_peek},
};

typedef struct fixture {
    uint8_t *bytes;
    eos_cm_component *c;
    eos_cm_host *h;
    eos_wasm_store *s;
    eos_cm_instance *i;
    eos_cm_arena *a;
} fixture;

static int setup(fixture *fx, const char *name)
{
    char path[512];
    size_t size;
    eos_diag d;
    eos_diag_init(&d);
    memset(fx, 0, sizeof(*fx));
    snprintf(path, sizeof(path), "%s/%s", EOS_CM_APPS, name);
    fx->bytes = cmt_read_file(path, &size);
    EOS_CHECK(fx->bytes != NULL);
    if (!fx->bytes)
        return -1;
    int rc = eos_cm_component_new(fx->bytes, size, NULL, &fx->c, &d);
    EOS_CHECK_INT(rc, 0);
    if (rc)
        return rc;
    EOS_CHECK_INT(eos_cm_host_new(&fx->h), 0);
    rc = eos_cm_host_define(fx->h, "local:types/host", "resource blob;", host_funcs,
                            EOS_ARRAY_LEN(host_funcs), blob_dtor, NULL, &d);
    EOS_CHECK_INT(rc, 0);
    if (rc)
        fprintf(stderr, "%s\n", d.message);
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &fx->s), 0);
    rc = eos_cm_instance_new(fx->s, fx->c, fx->h, &fixture_data, &fx->i, &d);
    if (rc && rc != EOS_EUNAVAILABLE)
        fprintf(stderr, "instantiate: %s\n", d.message);
    if (rc)
        return rc;
    current = fx->i;
    fx->a = eos_cm_arena_new();
    return 0;
}

static void teardown(fixture *fx)
{
    eos_cm_arena_free(fx->a);
    eos_cm_instance_free(fx->i);
    eos_wasm_store_free(fx->s);
    eos_cm_host_free(fx->h);
    eos_cm_component_free(fx->c);
    free(fx->bytes);
}

/* Calls name with one argument and checks the result equals it. */
static void echo(fixture *fx, const char *name, const eos_cm_val *arg)
{
    eos_cm_func *f = eos_cm_instance_func(fx->i, name);
    eos_cm_val r;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK(f != NULL);
    if (!f)
        return;
    int rc = eos_cm_call_func(fx->i, f, arg, 1, &r, 1, fx->a, &d);
    if (rc)
        fprintf(stderr, "%s: %s\n", name, d.message);
    EOS_CHECK_INT(rc, 0);
    const eos_cm_type *t = eos_cm_func_type(f)->results[0];
    bool eq = !rc && eos_cm_val_equal(t, arg, &r);
    if (!eq) {
        fprintf(stderr, "%s: sent ", name);
        eos_cm_val_print(t, arg, stderr);
        fprintf(stderr, ", got ");
        if (!rc)
            eos_cm_val_print(t, &r, stderr);
        fprintf(stderr, "\n");
    }
    EOS_CHECK(eq);
    eos_cm_arena_reset(fx->a);
}

static int skip(void)
{
    if (!EOS_CM_HAVE_APPS) {
        printf("SKIP: test components were not built (node/npm tools missing)\n");
        return 1;
    }
    return 0;
}

static void echo_all(const char *file)
{
    fixture fx;
    int rc = setup(&fx, file);
    if (rc == EOS_EUNAVAILABLE) {
        printf("SKIP: engine not available\n");
        teardown(&fx);
        return;
    }
    if (rc) {
        teardown(&fx);
        return;
    }
    eos_cm_val v;
    memset(&v, 0, sizeof(v));
    v.of.b = true, echo(&fx, "echo-bool", &v);
    v.of.s = -100, echo(&fx, "echo-s8", &v);
    v.of.u = 200, echo(&fx, "echo-u8", &v);
    v.of.s = -30000, echo(&fx, "echo-s16", &v);
    v.of.u = 60000, echo(&fx, "echo-u16", &v);
    v.of.s = -2000000000, echo(&fx, "echo-s32", &v);
    v.of.u = 4000000000u, echo(&fx, "echo-u32", &v);
    v.of.s = INT64_MIN, echo(&fx, "echo-s64", &v);
    v.of.u = UINT64_MAX, echo(&fx, "echo-u64", &v);
    v.of.f32 = 1.5f, echo(&fx, "echo-f32", &v);
    v.of.f64 = -2.25e300, echo(&fx, "echo-f64", &v);
    v.of.ch = 0x1f600, echo(&fx, "echo-char", &v);
    v.of.u = 2, echo(&fx, "echo-enum", &v);
    memset(&v, 0, sizeof(v));
    v.of.flags.bits = 1, echo(&fx, "echo-fl1", &v);
    v.of.flags.bits = 0xa5, echo(&fx, "echo-fl8", &v);
    v.of.flags.bits = 0x80000001u, echo(&fx, "echo-fl32", &v);

    static const char *strs[] = {"", "hello", "héllo wörld ✓ 😀", "latin1 only: café"};
    for (size_t i = 0; i < EOS_ARRAY_LEN(strs); i++) {
        memset(&v, 0, sizeof(v));
        v.of.str.ptr = strs[i];
        v.of.str.len = strlen(strs[i]);
        echo(&fx, "echo-string", &v);
    }
    size_t big = 1 << 20;
    char *long_str = malloc(big);
    for (size_t i = 0; i < big; i++)
        long_str[i] = (char)('a' + i % 26);
    v.of.str.ptr = long_str, v.of.str.len = big;
    echo(&fx, "echo-string", &v);
    memset(&v, 0, sizeof(v));
    v.of.list.bytes = (const uint8_t *)long_str, v.of.list.len = big;
    echo(&fx, "echo-bytes", &v);
    v.of.list.len = 0;
    echo(&fx, "echo-bytes", &v);
    free(long_str);

    eos_cm_val items[1000];
    for (int i = 0; i < 1000; i++)
        memset(&items[i], 0, sizeof(items[i])), items[i].of.u = (uint64_t)i * 7;
    memset(&v, 0, sizeof(v));
    v.of.list.items = items, v.of.list.len = 1000;
    echo(&fx, "echo-list", &v);
    v.of.list.len = 0;
    echo(&fx, "echo-list", &v);

    /* list<list<string>>: [["a", "bc"], [], ["ü"]] */
    eos_cm_val s[3] = {{.of.str = {"a", 1}}, {.of.str = {"bc", 2}}, {.of.str = {"ü", 2}}};
    eos_cm_val inner[3];
    memset(inner, 0, sizeof(inner));
    inner[0].of.list.items = s, inner[0].of.list.len = 2;
    inner[2].of.list.items = s + 2, inner[2].of.list.len = 1;
    memset(&v, 0, sizeof(v));
    v.of.list.items = inner, v.of.list.len = 3;
    echo(&fx, "echo-nested", &v);

    eos_cm_val rf[4];
    memset(rf, 0, sizeof(rf));
    rf[0].of.u = 9;
    rf[1].of.str.ptr = "record", rf[1].of.str.len = 6;
    rf[2].of.list.items = items, rf[2].of.list.len = 5;
    rf[3].of.f64 = 3.5;
    memset(&v, 0, sizeof(v));
    v.of.list.items = rf, v.of.list.len = 4;
    echo(&fx, "echo-rec", &v);

    eos_cm_val pl;
    for (uint32_t c = 0; c < 4; c++) {
        memset(&pl, 0, sizeof(pl));
        memset(&v, 0, sizeof(v));
        v.of.var.index = c;
        if (c == 1)
            pl.of.u = 77;
        if (c == 2)
            pl.of.str.ptr = "txt", pl.of.str.len = 3;
        if (c == 3)
            pl.of.u = 1ull << 60;
        v.of.var.payload = c ? &pl : NULL;
        echo(&fx, "echo-var", &v);
    }
    memset(&pl, 0, sizeof(pl));
    pl.of.str.ptr = "opt", pl.of.str.len = 3;
    memset(&v, 0, sizeof(v));
    echo(&fx, "echo-option", &v);
    v.of.var.index = 1, v.of.var.payload = &pl;
    echo(&fx, "echo-option", &v);
    echo(&fx, "echo-result", &v); /* err("opt") */
    eos_cm_val okv = {.of.u = 5};
    v.of.var.index = 0, v.of.var.payload = &okv;
    echo(&fx, "echo-result", &v);
    eos_cm_val tf[2] = {{.of.u = 3}, {.of.str = {"tuple", 5}}};
    memset(&v, 0, sizeof(v));
    v.of.list.items = tf, v.of.list.len = 2;
    echo(&fx, "echo-tuple", &v);

    /* 17 parameters spill to memory. */
    eos_cm_val args[17], r;
    uint64_t want = 0;
    for (int i = 0; i < 17; i++)
        memset(&args[i], 0, sizeof(args[i])), args[i].of.u = (uint64_t)i + 1,
                                              want += (uint64_t)i + 1;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(
        eos_cm_call_func(fx.i, eos_cm_instance_func(fx.i, "sum17"), args, 17, &r, 1, fx.a, &d), 0);
    EOS_CHECK_INT(r.of.u, want);
    teardown(&fx);
}

static void test_echo_utf8(void)
{
    if (!skip())
        echo_all("types-utf8.wasm");
}

static void test_echo_utf16(void)
{
    if (!skip())
        echo_all("types-utf16.wasm");
}

static void test_echo_latin1_utf16(void)
{
    if (!skip())
        echo_all("types-compact-utf16.wasm");
}

static int call0(fixture *fx, const char *name, eos_cm_val *r, eos_diag *d)
{
    eos_diag_init(d);
    eos_cm_func *f = eos_cm_instance_func(fx->i, name);
    EOS_CHECK(f != NULL);
    if (!f)
        return -1;
    /* Functions taking an argument get a live host blob (rep 9). */
    eos_cm_val arg = {.of.handle = 9};
    blob_live[9] = 1;
    return eos_cm_call_func(fx->i, f, &arg, eos_cm_func_type(f)->param_count, r,
                            eos_cm_func_type(f)->result_count, fx->a, d);
}

static void expect_trap(fixture *fx, const char *name, const char *msg)
{
    eos_cm_val r;
    eos_diag d;
    int rc = call0(fx, name, &r, &d);
    EOS_CHECK_INT(rc, EOS_TRAP_CANON);
    if (!strstr(d.message, msg))
        fprintf(stderr, "%s: message \"%s\" lacks \"%s\"\n", name, d.message, msg);
    EOS_CHECK(strstr(d.message, msg) != NULL);
    if (getenv("EOS_TEST_VERBOSE"))
        printf("  %s -> %s\n", name, d.message);
}

static void test_traps(void)
{
    static const struct {
        const char *func, *msg;
    } cases[] = {
        {"bad-utf8", "invalid UTF-8"},
        {"bad-disc", "option discriminant 7 out of range"},
        {"bad-list", "outside linear memory"},
        {"bad-char", "invalid char value 0xd800"},
        {"bad-enum", "enum discriminant 3 out of range"},
        {"drop-bad-handle", "unknown handle index 12345"},
        {"call-callback", "reentrance"},
        {"hold-borrow", "1 borrowed handle(s) not dropped before the call returned"},
    };
    if (skip())
        return;
    for (size_t k = 0; k < EOS_ARRAY_LEN(cases); k++) {
        fixture fx;
        int rc = setup(&fx, "types-utf8.wasm");
        if (rc) {
            if (rc == EOS_EUNAVAILABLE)
                printf("SKIP: engine not available\n");
            teardown(&fx);
            return;
        }
        expect_trap(&fx, cases[k].func, cases[k].msg);
        /* A trapped instance is never entered again. */
        eos_cm_val r;
        eos_diag d;
        EOS_CHECK_INT(call0(&fx, "frees", &r, &d), EOS_TRAP_CANON);
        EOS_CHECK(strstr(d.message, "trapped earlier") != NULL);
        teardown(&fx);
    }
    EOS_CHECK_INT(reentry_rc, EOS_TRAP_CANON);
}

static void test_resources_and_post_return(void)
{
    fixture fx;
    if (skip())
        return;
    int rc = setup(&fx, "types-utf8.wasm");
    if (rc) {
        if (rc == EOS_EUNAVAILABLE)
            printf("SKIP: engine not available\n");
        teardown(&fx);
        return;
    }
    eos_diag d;
    eos_diag_init(&d);
    eos_cm_val arg = {.of.str = {"ann", 3}}, r;
    EOS_CHECK_INT(
        eos_cm_call_func(fx.i, eos_cm_instance_func(fx.i, "greet"), &arg, 1, &r, 1, fx.a, &d), 0);
    EOS_CHECK_INT(r.of.str.len, 10);
    EOS_CHECK(memcmp(r.of.str.ptr, "hello, ann", 10) == 0);
    EOS_CHECK_INT(call0(&fx, "frees", &r, &d), 0);
    EOS_CHECK_INT(r.of.u, 1); /* post-return ran once */

    /* Host resource: construct, method, borrow, move to host, drop -> dtor. */
    arg.of.u = 5;
    dtor_calls = log_calls = 0;
    EOS_CHECK_INT(eos_cm_call_func(fx.i, eos_cm_instance_func(fx.i, "blob-roundtrip"), &arg, 1, &r,
                                   1, fx.a, &d),
                  0);
    EOS_CHECK_INT(r.of.u, 5 + 10 + 100);
    EOS_CHECK_INT(dtor_calls, 1);
    EOS_CHECK(dtor_data == &fixture_data); /* the destructor gets the instance's data */
    EOS_CHECK_INT(log_calls, 1);

    /* Borrows lent to an export must be dropped by it before it returns;
     * dropping a borrow does not destroy the resource. */
    blob_live[9] = 1, blob_sizes[9] = 33;
    arg.of.handle = 9;
    dtor_calls = 0;
    EOS_CHECK_INT(
        eos_cm_call_func(fx.i, eos_cm_instance_func(fx.i, "drop-borrow"), &arg, 1, &r, 1, fx.a, &d),
        0);
    EOS_CHECK_INT(r.of.u, 33);
    EOS_CHECK_INT(dtor_calls, 0);
    EOS_CHECK_INT(blob_live[9], 1);

    /* Guest resource: constructor and static return owned handles (reps for
     * the host), methods take borrows, consume takes ownership back. */
    const char *p = "local:types/counters#";
    char name[128];
#define F(n) (snprintf(name, sizeof(name), "%s%s", p, n), eos_cm_instance_func(fx.i, name))
    eos_cm_val c1, c2, live;
    arg.of.u = 41;
    EOS_CHECK_INT(eos_cm_call_func(fx.i, F("[constructor]counter"), &arg, 1, &c1, 1, fx.a, &d), 0);
    arg.of.u = 2;
    EOS_CHECK_INT(eos_cm_call_func(fx.i, F("[static]counter.make"), &arg, 1, &c2, 1, fx.a, &d), 0);
    EOS_CHECK_INT(eos_cm_call_func(fx.i, F("[method]counter.inc"), &c1, 1, NULL, 0, fx.a, &d), 0);
    EOS_CHECK_INT(eos_cm_call_func(fx.i, F("[method]counter.get"), &c1, 1, &r, 1, fx.a, &d), 0);
    EOS_CHECK_INT(r.of.u, 42);
    EOS_CHECK_INT(eos_cm_call_func(fx.i, F("read-borrow"), &c2, 1, &r, 1, fx.a, &d), 0);
    EOS_CHECK_INT(r.of.u, 20);
    EOS_CHECK_INT(eos_cm_call_func(fx.i, F("live"), NULL, 0, &live, 1, fx.a, &d), 0);
    EOS_CHECK_INT(live.of.u, 2);
    rc = eos_cm_call_func(fx.i, F("consume"), &c2, 1, &r, 1, fx.a, &d);
    if (rc)
        fprintf(stderr, "consume: %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK_INT(r.of.u, 2001); /* 2 live before the drop, 1 after: the destructor ran */
#undef F
    teardown(&fx);
}

static void test_link_errors(void)
{
    if (skip())
        return;
    size_t size;
    uint8_t *b = cmt_read_file(EOS_CM_APPS "/types-utf8.wasm", &size);
    eos_cm_component *c = NULL;
    eos_cm_host *h = NULL;
    eos_wasm_store *s = NULL;
    eos_cm_instance *i = NULL;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_cm_component_new(b, size, NULL, &c, &d), 0);
    EOS_CHECK_INT(eos_cm_host_new(&h), 0);
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    int rc = eos_cm_instance_new(s, c, h, NULL, &i, &d);
    if (rc != EOS_EUNAVAILABLE) {
        EOS_CHECK_INT(rc, EOS_EUNLINKABLE);
        EOS_CHECK(strstr(d.message, "local:types/host") != NULL);
        /* A host function with a different signature is refused at link time. */
        eos_cm_host_func wrong = {"log", "func(msg: u32)", host_log};
        eos_cm_host_func all[EOS_ARRAY_LEN(host_funcs)];
        memcpy(all, host_funcs, sizeof(all));
        all[2] = wrong;
        eos_cm_host_free(h);
        eos_cm_host_new(&h);
        eos_diag_init(&d);
        EOS_CHECK_INT(eos_cm_host_define(h, "local:types/host", "resource blob;", all,
                                         EOS_ARRAY_LEN(all), NULL, NULL, &d),
                      0);
        eos_diag_init(&d);
        EOS_CHECK_INT(eos_cm_instance_new(s, c, h, NULL, &i, &d), EOS_EUNLINKABLE);
        EOS_CHECK(strstr(d.message, "\"log\" has type func(msg: string)") != NULL);
    }
    eos_wasm_store_free(s);
    eos_cm_host_free(h);
    eos_cm_component_free(c);
    free(b);
}

static int concat(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    size_t n = args[0].of.str.len + args[1].of.str.len;
    char *o = eos_cm_call_alloc(call, n);
    if (!o)
        return EOS_ENOMEM;
    memcpy(o, args[0].of.str.ptr, args[0].of.str.len);
    memcpy(o + args[0].of.str.len, args[1].of.str.ptr, args[1].of.str.len);
    results[0].of.str.ptr = o;
    results[0].of.str.len = n;
    return 0;
}

static int sum17(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    uint64_t s = 0;
    for (int i = 0; i < 17; i++)
        s += args[i].of.u;
    results[0].of.u = s;
    return 0;
}

static void test_composed(void)
{
    if (skip())
        return;
    size_t size;
    uint8_t *b = cmt_read_file(EOS_CM_APPS "/composed.wasm", &size);
    eos_cm_component *c = NULL;
    eos_cm_host *h = NULL;
    eos_wasm_store *s = NULL;
    eos_cm_instance *i = NULL;
    eos_cm_arena *a = eos_cm_arena_new();
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_cm_component_new(b, size, NULL, &c, &d), 0);
    EOS_CHECK_INT(eos_cm_host_new(&h), 0);
    eos_cm_host_func f1 = {"host-concat", "func(a: string, b: string) -> string", concat};
    eos_cm_host_func f2 = {"host-sum17",
                           "func(a1: u32, a2: u32, a3: u32, a4: u32, a5: u32, a6: u32, a7: u32, "
                           "a8: u32, a9: u32, a10: u32, a11: u32, a12: u32, a13: u32, a14: u32, "
                           "a15: u32, a16: u32, a17: u32) -> u32",
                           sum17};
    EOS_CHECK_INT(eos_cm_host_define_func(h, "host-concat", NULL, &f1, NULL, &d), 0);
    EOS_CHECK_INT(eos_cm_host_define_func(h, "host-sum17", NULL, &f2, NULL, &d), 0);
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    int rc = eos_cm_instance_new(s, c, h, NULL, &i, &d);
    if (rc == EOS_EUNAVAILABLE) {
        printf("SKIP: engine not available\n");
    } else {
        if (rc)
            fprintf(stderr, "composed: %s\n", d.message);
        EOS_CHECK_INT(rc, 0);
        eos_cm_val r, x = {.of.u = 5};
        /* utf16 strings lowered to the host and back through a return pointer */
        rc = eos_cm_call_func(i, eos_cm_instance_func(i, "concat-test"), NULL, 0, &r, 1, a, &d);
        if (rc)
            fprintf(stderr, "concat-test: %s\n", d.message);
        EOS_CHECK_INT(rc, 0);
        EOS_CHECK_INT(r.of.str.len, 5);
        EOS_CHECK(rc == 0 && memcmp(r.of.str.ptr,
                                    "ab\xc3\xa9"
                                    "d",
                                    5) == 0);
        /* 17 parameters spilled by the guest for a host import */
        EOS_CHECK_INT(
            eos_cm_call_func(i, eos_cm_instance_func(i, "sum-test"), NULL, 0, &r, 1, a, &d), 0);
        EOS_CHECK_INT(r.of.u, 153);
        /* nested component instance calling back into its parent's export */
        EOS_CHECK_INT(eos_cm_call_func(i, eos_cm_instance_func(i, "g"), &x, 1, &r, 1, a, &d), 0);
        EOS_CHECK_INT(r.of.u, 60);
        EOS_CHECK_INT(eos_cm_call_func(i, eos_cm_instance_func(i, "local:composed/inner#g"), &x, 1,
                                       &r, 1, a, &d),
                      0);
        EOS_CHECK_INT(r.of.u, 60);
    }
    eos_cm_arena_free(a);
    eos_cm_instance_free(i);
    eos_wasm_store_free(s);
    eos_cm_host_free(h);
    eos_cm_component_free(c);
    free(b);
}

static uint32_t notes[4];
static int note_count;

static int host_note(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    if (note_count < (int)EOS_ARRAY_LEN(notes))
        notes[note_count] = (uint32_t)args[0].of.u;
    note_count++;
    return 0;
}

/* Replaces the body of the first section with the given id (the binaries
 * here are small: one-byte section sizes). Returns the new size. */
static size_t patch_section(uint8_t *b, size_t size, uint8_t id, const uint8_t *body, uint8_t len)
{
    size_t p = 8;
    while (p + 2 <= size) {
        uint32_t n = 0;
        size_t q = p + 1;
        for (int shift = 0; q < size; shift += 7) {
            n |= (uint32_t)(b[q] & 0x7f) << shift;
            if (!(b[q++] & 0x80))
                break;
        }
        if (b[p] == id && q == p + 2 && len < 0x80) {
            size_t rest = size - (q + n);
            memmove(b + q + len, b + q + n, rest);
            memcpy(b + q, body, len);
            b[p + 1] = len;
            return q + len + rest;
        }
        p = q + n;
    }
    return 0;
}

/* A component's start function runs at the end of instantiation: it calls a
 * host import before the host calls anything, and a trap in it fails the
 * instantiation. Start functions with value arguments or results are refused
 * when decoding. */
static void test_start(void)
{
    if (skip())
        return;
    size_t size = 0, tsize = 0;
    uint8_t *b = cmt_read_file(EOS_CM_APPS "/start.wasm", &size);
    uint8_t *tb = cmt_read_file(EOS_CM_APPS "/start-trap.wasm", &tsize);
    eos_cm_component *c = NULL, *tc = NULL, *bad = NULL;
    eos_cm_host *h = NULL;
    eos_wasm_store *s = NULL;
    eos_cm_instance *i = NULL;
    eos_cm_arena *a = eos_cm_arena_new();
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK(b != NULL && tb != NULL);
    if (!b || !tb)
        goto out;
    EOS_CHECK_INT(eos_cm_component_new(b, size, NULL, &c, &d), 0);
    EOS_CHECK_INT(eos_cm_component_new(tb, tsize, NULL, &tc, &d), 0);
    EOS_CHECK_INT(eos_cm_host_new(&h), 0);
    eos_cm_host_func note = {"host-note", "func(v: u32)", host_note};
    EOS_CHECK_INT(eos_cm_host_define_func(h, "host-note", NULL, &note, NULL, &d), 0);
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    note_count = 0;
    int rc = eos_cm_instance_new(s, c, h, NULL, &i, &d);
    if (rc == EOS_EUNAVAILABLE) {
        printf("SKIP: engine not available\n");
        goto out;
    }
    if (rc)
        fprintf(stderr, "start: %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK_INT(note_count, 1);
    EOS_CHECK_INT(notes[0], 42);
    eos_cm_val r = {0};
    EOS_CHECK_INT(eos_cm_call_func(i, eos_cm_instance_func(i, "started"), NULL, 0, &r, 1, a, &d),
                  0);
    EOS_CHECK_INT(r.of.u, 7);
    EOS_CHECK_INT(note_count, 1); /* the start function ran once */
    eos_cm_instance_free(i);
    i = NULL;

    /* The trap is the instantiation's result, with its message. */
    eos_diag_init(&d);
    rc = eos_cm_instance_new(s, tc, NULL, NULL, &i, &d);
    EOS_CHECK(eos_is_trap(rc));
    EOS_CHECK_INT(rc, EOS_TRAP_UNREACHABLE);
    EOS_CHECK(i == NULL);
    EOS_CHECK(strstr(d.message, "unreachable") != NULL);

    /* (start f (value 0)) and (start f (result)) need component values. */
    static const uint8_t with_arg[] = {0x01, 0x01, 0x00, 0x00};
    static const uint8_t with_result[] = {0x01, 0x00, 0x01};
    static const uint8_t wrong_type[] = {0x02, 0x00, 0x00}; /* "started" returns u32 */
    const struct {
        const uint8_t *body;
        uint8_t len;
        int rc;
        const char *msg;
    } cases[] = {{with_arg, sizeof(with_arg), EOS_EUNSUPPORTED, "value imports"},
                 {with_result, sizeof(with_result), EOS_EUNSUPPORTED, "component values"},
                 {wrong_type, sizeof(wrong_type), EOS_EINVALID, "no parameters and return no"}};
    for (size_t k = 0; k < EOS_ARRAY_LEN(cases); k++) {
        uint8_t *p = malloc(size + 8);
        EOS_CHECK(p != NULL);
        if (!p)
            break;
        memcpy(p, b, size);
        size_t n = patch_section(p, size, 9, cases[k].body, cases[k].len);
        EOS_CHECK(n != 0);
        eos_diag_init(&d);
        EOS_CHECK_INT(eos_cm_component_new(p, n, NULL, &bad, &d), cases[k].rc);
        EOS_CHECK(bad == NULL);
        EOS_CHECK(strstr(d.message, cases[k].msg) != NULL);
        if (!strstr(d.message, cases[k].msg))
            fprintf(stderr, "start case %zu: %s\n", k, d.message);
        eos_cm_component_free(bad);
        bad = NULL;
        free(p);
    }
out:
    eos_cm_arena_free(a);
    eos_cm_instance_free(i);
    eos_wasm_store_free(s);
    eos_cm_host_free(h);
    eos_cm_component_free(c);
    eos_cm_component_free(tc);
    free(b);
    free(tb);
}

/* A guest resource's destructor runs when the guest drops an owned handle
 * (here one the host received and passed back), never when the instance is
 * freed: neither for reps the host kept nor for handles the guest owns. */
static void test_guest_dtor(void)
{
    if (skip())
        return;
    size_t size = 0;
    uint8_t *b = cmt_read_file(EOS_CM_APPS "/dtor.wasm", &size);
    eos_cm_component *c = NULL;
    eos_cm_host *h = NULL;
    eos_wasm_store *s = NULL;
    eos_cm_instance *i = NULL;
    eos_cm_arena *a = eos_cm_arena_new();
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK(b != NULL);
    if (!b)
        goto out;
    EOS_CHECK_INT(eos_cm_component_new(b, size, NULL, &c, &d), 0);
    EOS_CHECK_INT(eos_cm_host_new(&h), 0);
    eos_cm_host_func note = {"host-note", "func(v: u32)", host_note};
    EOS_CHECK_INT(eos_cm_host_define_func(h, "host-note", NULL, &note, NULL, &d), 0);
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    int rc = eos_cm_instance_new(s, c, h, NULL, &i, &d);
    if (rc == EOS_EUNAVAILABLE) {
        printf("SKIP: engine not available\n");
        goto out;
    }
    if (rc)
        fprintf(stderr, "dtor: %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    if (rc)
        goto out;
    note_count = 0;
    eos_cm_val arg = {.of.u = 5}, r1 = {0}, r2 = {0};
    EOS_CHECK_INT(eos_cm_call_func(i, eos_cm_instance_func(i, "make"), &arg, 1, &r1, 1, a, &d), 0);
    EOS_CHECK_INT(r1.of.handle, 5); /* the host holds the guest's rep */
    arg.of.u = 6;
    EOS_CHECK_INT(eos_cm_call_func(i, eos_cm_instance_func(i, "make"), &arg, 1, &r2, 1, a, &d), 0);
    arg.of.u = 7;
    EOS_CHECK_INT(eos_cm_call_func(i, eos_cm_instance_func(i, "keep"), &arg, 1, NULL, 0, a, &d), 0);
    EOS_CHECK_INT(note_count, 0);
    rc = eos_cm_call_func(i, eos_cm_instance_func(i, "consume"), &r1, 1, NULL, 0, a, &d);
    if (rc)
        fprintf(stderr, "consume: %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK_INT(note_count, 1);
    EOS_CHECK_INT(notes[0], 1005);
    /* r2 (held by the host) and rep 7 (held by the guest) are still owned. */
    eos_cm_instance_free(i);
    i = NULL;
    EOS_CHECK_INT(note_count, 1);
out:
    eos_cm_arena_free(a);
    eos_cm_instance_free(i);
    eos_wasm_store_free(s);
    eos_cm_host_free(h);
    eos_cm_component_free(c);
    free(b);
}

/* A composition shaped like WASI-Virt's: the application reaches the host's
 * stream interface through a virtualiser that re-exports it from an inner
 * component. The handle the host returns must lift as the same resource
 * type through every re-export. */
static uint32_t virt_rep_written, virt_value, virt_drops;

static int virt_get_stdout(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *res)
{
    res[0].of.handle = 77;
    return 0;
}

static int virt_write(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *res)
{
    virt_rep_written = args[0].of.handle;
    virt_value = (uint32_t)args[1].of.u;
    res[0].of.u = virt_value + 1;
    return 0;
}

static void virt_dtor(void *ud, void *data, uint32_t rep)
{
    virt_drops += rep == 77;
}

static void test_virt_reexport(void)
{
    if (skip())
        return;
    size_t size = 0;
    uint8_t *b = cmt_read_file(EOS_CM_APPS "/virt.wasm", &size);
    eos_cm_component *c = NULL;
    eos_cm_host *h = NULL;
    eos_wasm_store *s = NULL;
    eos_cm_instance *i = NULL;
    eos_cm_arena *a = eos_cm_arena_new();
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK(b != NULL);
    if (!b)
        goto out;
    EOS_CHECK_INT(eos_cm_component_new(b, size, NULL, &c, &d), 0);
    EOS_CHECK_INT(eos_cm_host_new(&h), 0);
    static const eos_cm_host_func funcs[] = {
        {"get-stdout", "func() -> output-stream", virt_get_stdout},
        {"[method]output-stream.write", "func(self: borrow<output-stream>, v: u32) -> u32",
         virt_write},
    };
    int rc = eos_cm_host_define(h, "test:io/error", "resource error;", NULL, 0, NULL, NULL, &d);
    EOS_CHECK_INT(rc, 0);
    rc = eos_cm_host_define(h, "test:io/streams", "resource output-stream;", funcs,
                            EOS_ARRAY_LEN(funcs), virt_dtor, NULL, &d);
    if (rc)
        fprintf(stderr, "virt: %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    rc = eos_cm_instance_new(s, c, h, NULL, &i, &d);
    if (rc == EOS_EUNAVAILABLE) {
        printf("SKIP: engine not available\n");
        goto out;
    }
    if (rc)
        fprintf(stderr, "virt: %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    if (rc)
        goto out;
    eos_cm_val arg = {.of.u = 41}, r = {0};
    rc = eos_cm_call_func(i, eos_cm_instance_func(i, "run"), &arg, 1, &r, 1, a, &d);
    if (rc)
        fprintf(stderr, "virt run: %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK_INT(r.of.u, 42);
    EOS_CHECK_INT(virt_rep_written, 77);
    EOS_CHECK_INT(virt_value, 41);
    EOS_CHECK_INT(virt_drops, 1);
    arg.of.u = 9;
    rc = eos_cm_call_func(i, eos_cm_instance_func(i, "run-direct"), &arg, 1, &r, 1, a, &d);
    if (rc)
        fprintf(stderr, "virt run-direct: %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK_INT(r.of.u, 10);
    EOS_CHECK_INT(virt_value, 9);
    EOS_CHECK_INT(virt_drops, 2);
out:
    eos_cm_arena_free(a);
    eos_cm_instance_free(i);
    eos_wasm_store_free(s);
    eos_cm_host_free(h);
    eos_cm_component_free(c);
    free(b);
}

/* A nested component that imports a core module and a component and
 * instantiates both, given them by the enclosing component. */
static void test_imported_module_and_component(void)
{
    if (skip())
        return;
    size_t size = 0;
    uint8_t *b = cmt_read_file(EOS_CM_APPS "/imported.wasm", &size);
    eos_cm_component *c = NULL;
    eos_wasm_store *s = NULL;
    eos_cm_instance *i = NULL;
    eos_cm_arena *a = eos_cm_arena_new();
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK(b != NULL);
    if (!b)
        goto out;
    int rc = eos_cm_component_new(b, size, NULL, &c, &d);
    if (rc)
        fprintf(stderr, "imported: %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    if (rc)
        goto out;
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    rc = eos_cm_instance_new(s, c, NULL, NULL, &i, &d);
    if (rc == EOS_EUNAVAILABLE) {
        printf("SKIP: engine not available\n");
        goto out;
    }
    if (rc)
        fprintf(stderr, "imported: %s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    if (rc)
        goto out;
    eos_cm_val arg = {.of.u = 2}, r = {0};
    EOS_CHECK_INT(eos_cm_call_func(i, eos_cm_instance_func(i, "f"), &arg, 1, &r, 1, a, &d), 0);
    EOS_CHECK_INT(r.of.u, 42);
    EOS_CHECK_INT(eos_cm_call_func(i, eos_cm_instance_func(i, "g"), NULL, 0, &r, 1, a, &d), 0);
    EOS_CHECK_INT(r.of.u, 7);
out:
    eos_cm_arena_free(a);
    eos_cm_instance_free(i);
    eos_wasm_store_free(s);
    eos_cm_component_free(c);
    free(b);
}

int main(void)
{
    EOS_RUN(test_echo_utf8);
    EOS_RUN(test_echo_utf16);
    EOS_RUN(test_echo_latin1_utf16);
    EOS_RUN(test_traps);
    EOS_RUN(test_resources_and_post_return);
    EOS_RUN(test_link_errors);
    EOS_RUN(test_composed);
    EOS_RUN(test_start);
    EOS_RUN(test_guest_dtor);
    EOS_RUN(test_virt_reexport);
    EOS_RUN(test_imported_module_and_component);
    return eos_test_finish();
}
