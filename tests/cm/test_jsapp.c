/* The componentize-js app (a fetch handler on StarlingMonkey, ~12.8 MB):
 * decodes and validates in under a second, describes its world, and
 * instantiates against stub host interfaces built from its own imports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eos/cm.h"
#include "harness.h"

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return b;
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
    char *b = (char *)read_file(path, &n);
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
static int define_from_wit(eos_cm_host *h, const eos_cm_component *c, int *linked)
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
        static const char *first[] = {"error", "poll", "streams", "monotonic-clock", "wall-clock",
                                      "types", "network"};
        for (int pass = 0; pass < 2; pass++) {
            for (size_t i = 0; i < eos_cm_component_import_count(c); i++) {
                eos_cm_item_desc im, m;
                eos_cm_component_import(c, i, &im);
                char prefix[64];
                snprintf(prefix, sizeof(prefix), "wasi:%s/", order[o]);
                if (im.kind != EOS_CM_ITEM_INSTANCE || strncmp(im.name, prefix, strlen(prefix)) != 0)
                    continue;
                const char *iname = im.name + strlen(prefix);
                bool is_first = false;
                for (size_t k = 0; k < EOS_ARRAY_LEN(first); k++)
                    if (strncmp(iname, first[k], strlen(first[k])) == 0 && iname[strlen(first[k])] == '@')
                        is_first = true;
                if (is_first != (pass == 0))
                    continue;
                eos_cm_host_func *funcs = calloc(im.member_count + 1, sizeof(*funcs));
                size_t nf = 0;
                for (size_t k = 0; eos_cm_component_import_member(c, i, k, &m) == 0; k++)
                    if (m.kind == EOS_CM_ITEM_FUNC)
                        funcs[nf].name = m.name, funcs[nf].fn = stub, nf++;
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
    uint8_t *b = read_file(EOS_CM_APPS "/fetch-js.wasm", &size);
    EOS_CHECK(b != NULL);
    if (!b)
        return;
    eos_cm_component *c = NULL;
    eos_diag d;
    eos_diag_init(&d);
    uint64_t t0 = eos_now_ns();
    int rc = eos_cm_component_new(b, size, NULL, &c, &d);
    uint64_t t1 = eos_now_ns();
    EOS_CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "%s\n", d.message);
        free(b);
        return;
    }
    double ms = (double)(t1 - t0) / 1e6;
    printf("componentize-js app: %zu bytes decoded and validated in %.1f ms\n", size, ms);
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
        "sha256: ", "import wasi:io/poll@0.2.12", "import wasi:io/streams@0.2.12",
        "import wasi:http/types@0.2.10", "import wasi:http/outgoing-handler@0.2.10",
        "import wasi:cli/stdout@0.2.12", "import wasi:clocks/monotonic-clock@0.2.12",
        "import wasi:filesystem/preopens@0.2.12", "import wasi:random/random@0.2.12",
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
    rc = define_from_wit(h, c, &linked);
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
        eos_cm_func *f = i ? eos_cm_instance_func(i, "wasi:http/incoming-handler@0.2.3#handle") : NULL;
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

int main(void)
{
    EOS_RUN(test_jsapp);
    return eos_test_finish();
}
