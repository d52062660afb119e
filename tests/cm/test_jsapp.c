/* The componentize-js app (a fetch handler on StarlingMonkey, ~12.8 MB):
 * decodes and validates in under a second, describes its world, and
 * instantiates against stub host interfaces built from its own imports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eos/cm.h"
#include "cm_testutil.h"
#include "harness.h"

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- A minimal wasi:http host, enough for a fetch handler to answer ---- */

static uint32_t next_rep = 100;
static char body[256];
static size_t body_len;
static int status_set = -1;
static uint32_t response_status = 200;
static char missing[128];

#define HOSTFN(name) static int name(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)

static eos_cm_val *payload(eos_cm_call *c)
{
    return eos_cm_call_alloc(c, sizeof(eos_cm_val));
}

/* result/option/variant case with an optional payload. */
static int ret_case(eos_cm_call *c, eos_cm_val *r, uint32_t index, const eos_cm_val *pl)
{
    r->of.var.index = index;
    if (pl) {
        eos_cm_val *p = payload(c);
        if (!p)
            return EOS_ENOMEM;
        *p = *pl;
        r->of.var.payload = p;
    }
    return 0;
}

HOSTFN(new_rep)
{
    r[0].of.handle = next_rep++;
    return 0;
}
HOSTFN(ok_new_rep)
{
    eos_cm_val h = {.of.handle = next_rep++};
    return ret_case(c, r, 0, &h);
}
HOSTFN(ok_unit)
{
    r[0].of.var.index = 0;
    return 0;
}
HOSTFN(none)
{
    r[0].of.var.index = 0;
    return 0;
}
HOSTFN(empty_list)
{
    r[0].of.list.len = 0;
    return 0;
}
HOSTFN(false_)
{
    r[0].of.b = false;
    return 0;
}
HOSTFN(true_)
{
    r[0].of.b = true;
    return 0;
}
HOSTFN(nothing)
{
    return 0;
}
HOSTFN(u64_now)
{
    r[0].of.u = eos_now_ns();
    return 0;
}
HOSTFN(u64_one)
{
    r[0].of.u = 1;
    return 0;
}
HOSTFN(wall_now)
{
    eos_cm_val *f = eos_cm_call_alloc(c, 2 * sizeof(eos_cm_val));
    if (!f)
        return EOS_ENOMEM;
    f[0].of.u = 1800000000;
    r[0].of.list.items = f, r[0].of.list.len = 2;
    return 0;
}
HOSTFN(random_bytes)
{
    uint64_t n = a[0].of.u > 4096 ? 4096 : a[0].of.u;
    uint8_t *b = eos_cm_call_alloc(c, (size_t)n);
    if (!b)
        return EOS_ENOMEM;
    for (uint64_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 131 + 7);
    r[0].of.list.bytes = b, r[0].of.list.len = (size_t)n;
    return 0;
}
HOSTFN(random_u64)
{
    r[0].of.u = 0x1234567890abcdefull;
    return 0;
}
HOSTFN(seed)
{
    eos_cm_val *f = eos_cm_call_alloc(c, 2 * sizeof(eos_cm_val));
    if (!f)
        return EOS_ENOMEM;
    f[0].of.u = 1, f[1].of.u = 2;
    r[0].of.list.items = f, r[0].of.list.len = 2;
    return 0;
}
HOSTFN(poll_all)
{
    size_t n = a[0].of.list.len;
    eos_cm_val *v = eos_cm_call_alloc(c, (n + 1) * sizeof(eos_cm_val));
    if (!v)
        return EOS_ENOMEM;
    for (size_t i = 0; i < n; i++)
        v[i].of.u = i;
    r[0].of.list.items = v, r[0].of.list.len = n;
    return 0;
}
HOSTFN(check_write)
{
    eos_cm_val n = {.of.u = 65536};
    return ret_case(c, r, 0, &n);
}
HOSTFN(write_bytes)
{
    size_t n = a[1].of.list.len;
    if (body_len + n < sizeof(body)) {
        memcpy(body + body_len, a[1].of.list.bytes, n);
        body_len += n;
    }
    r[0].of.var.index = 0;
    return 0;
}
HOSTFN(read_closed)
{
    eos_cm_val closed = {.of.var = {1, NULL}}; /* stream-error::closed */
    return ret_case(c, r, 1, &closed);
}
HOSTFN(method_get)
{
    r[0].of.var.index = 0;
    return 0;
}
HOSTFN(some_path)
{
    eos_cm_val p = {.of.str = {"/", 1}};
    return ret_case(c, r, 1, &p);
}
HOSTFN(some_authority)
{
    eos_cm_val p = {.of.str = {"localhost", 9}};
    return ret_case(c, r, 1, &p);
}
HOSTFN(some_http)
{
    eos_cm_val p = {.of.var = {0, NULL}};
    return ret_case(c, r, 1, &p);
}
HOSTFN(status_code)
{
    r[0].of.u = response_status;
    return 0;
}
HOSTFN(set_status)
{
    response_status = (uint32_t)a[1].of.u;
    r[0].of.var.index = 0;
    return 0;
}
HOSTFN(outparam_set)
{
    status_set = (int)a[1].of.var.index;
    return 0;
}

static const struct {
    const char *name;
    eos_cm_host_fn fn;
} http_impls[] = {
    {"now", u64_now},
    {"resolution", u64_one},
    {"subscribe-duration", new_rep},
    {"subscribe-instant", new_rep},
    {"get-random-bytes", random_bytes},
    {"get-random-u64", random_u64},
    {"insecure-seed", seed},
    {"[method]pollable.ready", true_},
    {"[method]pollable.block", nothing},
    {"poll", poll_all},
    {"[method]output-stream.check-write", check_write},
    {"[method]output-stream.write", write_bytes},
    {"[method]output-stream.blocking-write-and-flush", write_bytes},
    {"[method]output-stream.flush", ok_unit},
    {"[method]output-stream.blocking-flush", ok_unit},
    {"[method]output-stream.subscribe", new_rep},
    {"[method]input-stream.subscribe", new_rep},
    {"[method]input-stream.read", read_closed},
    {"[method]input-stream.blocking-read", read_closed},
    {"get-stdout", new_rep},
    {"get-stderr", new_rep},
    {"get-stdin", new_rep},
    {"get-terminal-stdin", none},
    {"get-terminal-stdout", none},
    {"get-terminal-stderr", none},
    {"get-environment", empty_list},
    {"get-arguments", empty_list},
    {"initial-cwd", none},
    {"get-directories", empty_list},
    {"[constructor]fields", new_rep},
    {"[static]fields.from-list", ok_new_rep},
    {"[method]fields.entries", empty_list},
    {"[method]fields.get", empty_list},
    {"[method]fields.has", false_},
    {"[method]fields.set", ok_unit},
    {"[method]fields.append", ok_unit},
    {"[method]fields.delete", ok_unit},
    {"[method]fields.clone", new_rep},
    {"[method]incoming-request.method", method_get},
    {"[method]incoming-request.path-with-query", some_path},
    {"[method]incoming-request.scheme", some_http},
    {"[method]incoming-request.authority", some_authority},
    {"[method]incoming-request.headers", new_rep},
    {"[method]incoming-request.consume", ok_new_rep},
    {"[method]incoming-body.stream", ok_new_rep},
    {"[static]incoming-body.finish", new_rep},
    {"[constructor]outgoing-response", new_rep},
    {"[method]outgoing-response.set-status-code", set_status},
    {"[method]outgoing-response.status-code", status_code},
    {"[method]outgoing-response.headers", new_rep},
    {"[method]outgoing-response.body", ok_new_rep},
    {"[method]outgoing-body.write", ok_new_rep},
    {"[static]outgoing-body.finish", ok_unit},
    {"[static]response-outparam.set", outparam_set},
    {"http-error-code", none},
    {"filesystem-error-code", none},
};

static int not_here(eos_cm_call *c, void *ud, const eos_cm_val *a, eos_cm_val *r)
{
    if (!missing[0])
        snprintf(missing, sizeof(missing), "%s", (const char *)ud);
    return eos_cm_call_trap(c, EOS_TRAP_HOST, "not implemented in this test host");
}

static eos_cm_host_fn http_impl(const char *name)
{
    for (size_t i = 0; i < EOS_ARRAY_LEN(http_impls); i++)
        if (strcmp(http_impls[i].name, name) == 0)
            return http_impls[i].fn;
    return NULL;
}

static char first_called[128];

static int stub(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    const char *name = ud;
    if (!first_called[0])
        snprintf(first_called, sizeof(first_called), "%s", name);
    return eos_cm_call_trap(call, EOS_TRAP_HOST, "stub %s called", name);
}

static char *slurp(const char *path)
{
    size_t n;
    char *b = (char *)cmt_read_file(path, &n);
    if (b) {
        char *z = realloc(b, n + 1);
        if (!z) {
            free(b);
            return NULL;
        }
        z[n] = 0;
        b = z;
    }
    return b;
}

/* Defines every imported interface from jco's WASI 0.2.12 WIT packages, in
 * dependency order, with stub functions: the link then checks each of the
 * component's imported function types against the WIT declarations. */
static int define_from_wit(eos_cm_host *h, const eos_cm_component *c, int *linked, bool with_impls)
{
    static const char *order[] = {"io", "clocks", "random", "filesystem", "cli", "sockets", "http"};
    *linked = 0;
    for (size_t o = 0; o < EOS_ARRAY_LEN(order); o++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/wasi-%s/package.wit", EOS_WASI_WIT_DIR, order[o]);
        char *text = slurp(path);
        if (!text)
            return EOS_ENOTFOUND;
        /* Interfaces of this package that other interfaces use come first. */
        static const char *first[] = {"error",      "poll",  "streams", "monotonic-clock",
                                      "wall-clock", "types", "network"};
        for (int pass = 0; pass < 2; pass++) {
            for (size_t i = 0; i < eos_cm_component_import_count(c); i++) {
                eos_cm_item_desc im, m;
                eos_cm_component_import(c, i, &im);
                char prefix[64];
                snprintf(prefix, sizeof(prefix), "wasi:%s/", order[o]);
                if (im.kind != EOS_CM_ITEM_INSTANCE ||
                    strncmp(im.name, prefix, strlen(prefix)) != 0)
                    continue;
                const char *iname = im.name + strlen(prefix);
                bool is_first = false;
                for (size_t k = 0; k < EOS_ARRAY_LEN(first); k++)
                    if (strncmp(iname, first[k], strlen(first[k])) == 0 &&
                        iname[strlen(first[k])] == '@')
                        is_first = true;
                if (is_first != (pass == 0))
                    continue;
                eos_cm_host_func *funcs = calloc(im.member_count + 1, sizeof(*funcs));
                size_t nf = 0;
                for (size_t k = 0; eos_cm_component_import_member(c, i, k, &m) == 0; k++)
                    if (m.kind == EOS_CM_ITEM_FUNC) {
                        eos_cm_host_fn fn = with_impls ? http_impl(m.name) : NULL;
                        if (with_impls && strncmp(im.name, "wasi:clocks/wall-clock@", 23) == 0)
                            fn = wall_now;
                        funcs[nf].name = m.name, funcs[nf].fn = fn           ? fn
                                                                : with_impls ? not_here
                                                                             : stub;
                        nf++;
                    }
                /* Defined under the WIT's version; the import's own version
                 * (0.2.10 for http) links by semver. */
                char name[256];
                snprintf(name, sizeof(name), "%.*s@0.2.12", (int)(strchr(im.name, '@') - im.name),
                         im.name);
                eos_diag d;
                eos_diag_init(&d);
                int rc = eos_cm_host_define(h, name, text, funcs, nf, NULL, (void *)im.name, &d);
                free(funcs);
                if (rc) {
                    fprintf(stderr, "%s: %s\n", name, d.message);
                    free(text);
                    return rc;
                }
                (*linked)++;
            }
        }
        free(text);
    }
    return 0;
}

/* Defines every imported interface with stub functions (no signature, so
 * any type links) and its resources. */
static int define_stubs(eos_cm_host *h, const eos_cm_component *c)
{
    for (size_t i = 0; i < eos_cm_component_import_count(c); i++) {
        eos_cm_item_desc im, m;
        eos_cm_component_import(c, i, &im);
        if (im.kind != EOS_CM_ITEM_INSTANCE)
            continue;
        eos_cm_host_func *funcs = calloc(im.member_count + 1, sizeof(*funcs));
        char *types = calloc(1, 8192);
        size_t nf = 0, tl = 0;
        for (size_t k = 0; eos_cm_component_import_member(c, i, k, &m) == 0; k++) {
            if (m.kind == EOS_CM_ITEM_FUNC) {
                funcs[nf].name = m.name;
                funcs[nf].fn = stub;
                nf++;
            }
        }
        for (size_t k = 0; eos_cm_component_import_member(c, i, k, &m) == 0; k++)
            if (m.kind == EOS_CM_ITEM_TYPE && tl + strlen(m.name) + 16 < 8192)
                tl += (size_t)sprintf(types + tl, "resource %s;\n", m.name);
        (void)types;
        eos_diag d;
        eos_diag_init(&d);
        /* ud is the interface name, for the stub's message. */
        int rc = eos_cm_host_define(h, im.name, NULL, funcs, nf, NULL, (void *)im.name, &d);
        free(funcs);
        free(types);
        if (rc)
            return rc;
    }
    return 0;
}

static void test_jsapp(void)
{
    if (!EOS_CM_HAVE_APPS) {
        printf("SKIP: the componentize-js component was not built (node/npm tools missing)\n");
        return;
    }
    size_t size;
    uint8_t *b = cmt_read_file(EOS_CM_APPS "/fetch-js.wasm", &size);
    EOS_CHECK(b != NULL);
    if (!b)
        return;
    eos_cm_component *c = NULL;
    eos_diag d;
    eos_diag_init(&d);
    /* CPU time of this thread, not wall time: the budget is about the work,
     * and other processes on a loaded machine must not fail the test. */
    uint64_t t0 = thread_cpu_ns();
    int rc = eos_cm_component_new(b, size, NULL, &c, &d);
    uint64_t t1 = thread_cpu_ns();
    EOS_CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "%s\n", d.message);
        free(b);
        return;
    }
    double ms = (double)(t1 - t0) / 1e6;
    printf("componentize-js app: %zu bytes decoded and validated in %.1f ms of CPU time\n", size, ms);
    /* The one-second budget holds for optimised builds; sanitizers slow the
     * engine's validation several times. */
#if defined(__SANITIZE_ADDRESS__)
    EOS_CHECK(ms < 10000.0);
#else
    EOS_CHECK(ms < 1000.0);
#endif

    /* The description names its imports and the exported handler. */
    char *text = NULL;
    size_t text_size = 0;
    FILE *out = open_memstream(&text, &text_size);
    EOS_CHECK_INT(eos_cm_describe(b, size, out, &d), 0);
    fclose(out);
    static const char *want[] = {
        "sha256: ",
        "import wasi:io/poll@0.2.12",
        "import wasi:io/streams@0.2.12",
        "import wasi:http/types@0.2.10",
        "import wasi:http/outgoing-handler@0.2.10",
        "import wasi:cli/stdout@0.2.12",
        "import wasi:clocks/monotonic-clock@0.2.12",
        "import wasi:filesystem/preopens@0.2.12",
        "import wasi:random/random@0.2.12",
        "export wasi:http/incoming-handler@0.2.10 {",
        "handle: func(request: own<incoming-request>, response-out: own<response-outparam>);",
        "[method]output-stream.blocking-write-and-flush: func(self: borrow<output-stream>, "
        "contents: list<u8>) -> result<_, stream-error>;"};
    for (size_t i = 0; i < EOS_ARRAY_LEN(want); i++) {
        if (!strstr(text, want[i]))
            fprintf(stderr, "describe output lacks: %s\n", want[i]);
        EOS_CHECK(strstr(text, want[i]) != NULL);
    }
    free(text);

    eos_cm_host *h = NULL;
    eos_wasm_store *s = NULL;
    eos_cm_instance *i = NULL;
    EOS_CHECK_INT(eos_cm_host_new(&h), 0);
    int linked = 0;
    rc = define_from_wit(h, c, &linked, false);
    if (rc == EOS_ENOTFOUND) {
        printf("jco's WIT files are missing: linking against untyped stubs\n");
        eos_cm_host_free(h);
        eos_cm_host_new(&h);
        EOS_CHECK_INT(define_stubs(h, c), 0);
    } else {
        EOS_CHECK_INT(rc, 0);
        printf("%d imported interfaces defined from the WASI WIT text\n", linked);
    }
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    eos_diag_init(&d);
    t0 = eos_now_ns();
    rc = eos_cm_instance_new(s, c, h, NULL, &i, &d);
    t1 = eos_now_ns();
    if (rc == EOS_EUNAVAILABLE) {
        printf("SKIP: instantiation (engine not available)\n");
    } else {
        if (rc)
            fprintf(stderr, "instantiate: %s\n", d.message);
        EOS_CHECK_INT(rc, 0);
        printf("instantiated in %.1f ms\n", (double)(t1 - t0) / 1e6);
        eos_cm_func *f =
            i ? eos_cm_instance_func(i, "wasi:http/incoming-handler@0.2.3#handle") : NULL;
        EOS_CHECK(f != NULL);
        if (f) {
            /* With stub interfaces the handler gets as far as its first
             * host call, which traps with the stub's name. */
            eos_cm_val args[2] = {{.of.handle = 1}, {.of.handle = 2}};
            eos_cm_arena *a = eos_cm_arena_new();
            eos_diag_init(&d);
            rc = eos_cm_call_func(i, f, args, 2, NULL, 0, a, &d);
            printf("handle() with stubs: rc=%s, first host call: %s, message: %s\n",
                   eos_err_name(rc), first_called[0] ? first_called : "(none)", d.message);
            EOS_CHECK(rc != 0);
            eos_cm_arena_free(a);
        }
    }
    eos_cm_instance_free(i);
    eos_wasm_store_free(s);
    eos_cm_host_free(h);
    eos_cm_component_free(c);
    free(b);
}

/* With a minimal wasi:http host the JavaScript fetch handler answers. */
static void test_jsapp_http(void)
{
    if (!EOS_CM_HAVE_APPS) {
        printf("SKIP: the componentize-js component was not built (node/npm tools missing)\n");
        return;
    }
    size_t size;
    uint8_t *b = cmt_read_file(EOS_CM_APPS "/fetch-js.wasm", &size);
    eos_cm_component *c = NULL;
    eos_cm_host *h = NULL;
    eos_wasm_store *s = NULL;
    eos_cm_instance *i = NULL;
    eos_cm_arena *a = eos_cm_arena_new();
    eos_diag d;
    eos_diag_init(&d);
    int linked = 0, rc;
    EOS_CHECK_INT(eos_cm_component_new(b, size, NULL, &c, &d), 0);
    EOS_CHECK_INT(eos_cm_host_new(&h), 0);
    rc = define_from_wit(h, c, &linked, true);
    if (rc == EOS_ENOTFOUND) {
        printf("SKIP: jco's WIT files are missing\n");
        goto out;
    }
    EOS_CHECK_INT(eos_wasm_store_new(NULL, &s), 0);
    rc = eos_cm_instance_new(s, c, h, NULL, &i, &d);
    if (rc == EOS_EUNAVAILABLE) {
        printf("SKIP: engine not available\n");
        goto out;
    }
    EOS_CHECK_INT(rc, 0);
    if (rc)
        goto out;
    eos_cm_func *f = eos_cm_instance_func(i, "wasi:http/incoming-handler@0.2.0#handle");
    EOS_CHECK(f != NULL);
    eos_cm_val args[2] = {{.of.handle = 1}, {.of.handle = 2}};
    uint64_t t0 = eos_now_ns();
    rc = f ? eos_cm_call_func(i, f, args, 2, NULL, 0, a, &d) : -1;
    uint64_t t1 = eos_now_ns();
    if (rc)
        fprintf(stderr, "handle: %s (%s; first unimplemented: %s)\n", d.message, eos_err_name(rc),
                missing[0] ? missing : "none");
    EOS_CHECK_INT(rc, 0);
    EOS_CHECK_INT(status_set, 0); /* response-outparam.set(ok(response)) */
    static const char want[] = "hello from enclave-os\n";
    EOS_CHECK_MEM(body, body_len, want, sizeof(want) - 1);
    printf("fetch handler answered %u \"%.*s\" in %.1f ms\n", response_status,
           (int)(body_len && body[body_len - 1] == '\n' ? body_len - 1 : body_len), body,
           (double)(t1 - t0) / 1e6);
    /* The server's model: a fresh store and instance for every request. */
    if (!rc && f) {
        const int n = 20;
        t0 = eos_now_ns();
        for (int k = 0; k < n && !rc; k++) {
            eos_wasm_store *s2 = NULL;
            eos_cm_instance *i2 = NULL;
            rc = eos_wasm_store_new(NULL, &s2);
            if (!rc)
                rc = eos_cm_instance_new(s2, c, h, NULL, &i2, &d);
            if (!rc)
                rc = eos_cm_call_func(
                    i2, eos_cm_instance_func(i2, "wasi:http/incoming-handler@0.2.0#handle"), args,
                    2, NULL, 0, a, &d);
            eos_cm_instance_free(i2);
            eos_wasm_store_free(s2);
            eos_cm_arena_reset(a);
        }
        t1 = eos_now_ns();
        EOS_CHECK_INT(rc, 0);
        printf("fresh instance + request: %.2f ms each (%d runs)\n", (double)(t1 - t0) / 1e6 / n,
               n);
    }
out:
    eos_cm_instance_free(i);
    eos_wasm_store_free(s);
    eos_cm_host_free(h);
    eos_cm_component_free(c);
    eos_cm_arena_free(a);
    free(b);
}

int main(void)
{
    EOS_RUN(test_jsapp);
    EOS_RUN(test_jsapp_http);
    return eos_test_finish();
}
