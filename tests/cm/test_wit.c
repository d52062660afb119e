/* WIT text for host interfaces: type declarations, type expressions,
 * function signatures, printing, and the semver rules of import linking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "internal.h"

static char *print_type(const eos_cm_type *t)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    eos_cm_type_print(t, f);
    fclose(f);
    return buf;
}

static void test_parse_and_print(void)
{
    eos_cm_types *ts;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_cm_types_new(&ts), 0);
    EOS_CHECK_INT(eos_cm_types_declare(ts,
                                       "// comment\n"
                                       "use wasi:io/poll@0.2.0.{pollable};\n"
                                       "resource descriptor { read: func(); }\n"
                                       "record stat { size: u64, %type: u8 }\n"
                                       "variant err { io(string), closed }\n"
                                       "type bytes = list<u8>;\n"
                                       "get: func() -> u32;\n",
                                       &d),
                  0);
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"list<tuple<u32, string>>", "list<tuple<u32, string>>"},
        {"option<result<_, err>>", "option<result<_, err>>"},
        {"result", "result"},
        {"result<stat>", "result<stat>"},
        {"borrow<descriptor>", "borrow<descriptor>"},
        {"descriptor", "own<descriptor>"},
        {"bytes", "bytes"},
        {"float64", "f64"},
    };
    for (size_t i = 0; i < EOS_ARRAY_LEN(cases); i++) {
        const eos_cm_type *t = NULL;
        EOS_CHECK_INT(eos_cm_types_parse(ts, cases[i].in, &t, &d), 0);
        if (t) {
            char *s = print_type(t);
            EOS_CHECK_STR(s, cases[i].out);
            free(s);
        }
    }
    const eos_cm_type *t;
    EOS_CHECK_INT(eos_cm_types_parse(ts, "list<nope>", &t, &d), EOS_EINVALID);
    EOS_CHECK(strstr(d.message, "unknown type name") != NULL);
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_cm_types_parse(ts, "list<u8", &t, &d), EOS_EINVALID);

    const eos_cm_functype *ft = NULL;
    eos_diag_init(&d);
    EOS_CHECK_INT(
        eos_cm_types_parse_func(
            ts, "func(self: borrow<descriptor>, len: u64) -> result<bytes, err>", &ft, &d),
        0);
    EOS_CHECK_INT(ft->param_count, 2);
    EOS_CHECK_INT(ft->result_count, 1);
    EOS_CHECK_STR(ft->param_names[1], "len");
    EOS_CHECK_INT(ft->results[0]->kind, EOS_CM_RESULT);
    EOS_CHECK_INT(eos_cm_types_parse_func(ts, "func()", &ft, &d), 0);
    EOS_CHECK_INT(ft->result_count, 0);
    EOS_CHECK_INT(eos_cm_types_parse_func(ts, "func() -> (a: u32, b: string)", &ft, &d), 0);
    EOS_CHECK_INT(ft->result_count, 2);
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    eos_cm_functype_print(ft, f);
    fclose(f);
    EOS_CHECK_STR(buf, "func() -> (a: u32, b: string)");
    free(buf);
    eos_cm_types_free(ts);
}

static void test_semver(void)
{
    EOS_CHECK(eos_cm__name_compatible("wasi:io/streams@0.2.3", "wasi:io/streams@0.2.0"));
    EOS_CHECK(eos_cm__name_compatible("wasi:io/streams@0.2.0", "wasi:io/streams@0.2.12"));
    EOS_CHECK(!eos_cm__name_compatible("wasi:io/streams@0.2.3", "wasi:io/streams@0.3.0"));
    EOS_CHECK(!eos_cm__name_compatible("wasi:io/streams@0.2.3", "wasi:io/poll@0.2.3"));
    EOS_CHECK(eos_cm__name_compatible("a:b/c@1.2.0", "a:b/c@1.9.1"));
    EOS_CHECK(!eos_cm__name_compatible("a:b/c@1.2.0", "a:b/c@2.0.0"));
    EOS_CHECK(!eos_cm__name_compatible("a:b/c@0.0.1", "a:b/c@0.0.2"));
    EOS_CHECK(eos_cm__name_compatible("wasi:keyvalue/store@0.2.0-draft",
                                      "wasi:keyvalue/store@0.2.0-draft"));
    EOS_CHECK(!eos_cm__name_compatible("wasi:keyvalue/store@0.2.0-draft",
                                       "wasi:keyvalue/store@0.2.0-draft2"));
    EOS_CHECK(!eos_cm__name_compatible("wasi:io/streams", "wasi:io/streams@0.2.0"));
    EOS_CHECK(eos_cm__name_compatible("hello", "hello"));

    eos_cm_host *h;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_cm_host_new(&h), 0);
    eos_cm_host_func f = {"get", "func() -> u64", NULL};
    EOS_CHECK_INT(
        eos_cm_host_define(h, "wasi:clocks/wall-clock@0.2.0", NULL, &f, 1, NULL, NULL, &d), 0);
    EOS_CHECK_INT(
        eos_cm_host_define(h, "wasi:clocks/wall-clock@0.2.12", NULL, &f, 1, NULL, NULL, &d), 0);
    EOS_CHECK(eos_cm__host_find(h, "wasi:clocks/wall-clock@0.2.12") == &h->ifaces[1]);
    EOS_CHECK(eos_cm__host_find(h, "wasi:clocks/wall-clock@0.2.5") == &h->ifaces[0]);
    EOS_CHECK(eos_cm__host_find(h, "wasi:clocks/wall-clock@0.3.0") == NULL);
    /* A bad signature names the interface and function. */
    eos_cm_host_func bad = {"now", "func() -> nope", NULL};
    EOS_CHECK_INT(eos_cm_host_define(h, "x:y/z", NULL, &bad, 1, NULL, NULL, &d), EOS_EINVALID);
    EOS_CHECK(strstr(d.message, "x:y/z.now:") != NULL);
    eos_cm_host_free(h);
}

static void test_use(void)
{
    /* Interfaces use types of interfaces defined before them, by relative or
     * absolute path; the types are the same objects. */
    eos_cm_host *h;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_cm_host_new(&h), 0);
    EOS_CHECK_INT(
        eos_cm_host_define(h, "wasi:io/poll@0.2.3", "resource pollable;", NULL, 0, NULL, NULL, &d),
        0);
    EOS_CHECK_INT(eos_cm_host_define(h, "wasi:clocks/wall-clock@0.2.3",
                                     "record datetime { seconds: u64, nanoseconds: u32 }", NULL, 0,
                                     NULL, NULL, &d),
                  0);
    eos_cm_host_func f = {"subscribe", "func(d: datetime) -> pollable", NULL};
    int rc = eos_cm_host_define(h, "wasi:clocks/monotonic-clock@0.2.3",
                                "use wasi:io/poll@0.2.3.{pollable};\n"
                                "use wall-clock.{datetime};\n",
                                &f, 1, NULL, NULL, &d);
    if (rc)
        fprintf(stderr, "%s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    const eos_cm__hiface *mc = eos_cm__host_find(h, "wasi:clocks/monotonic-clock@0.2.0");
    const eos_cm__hiface *wc = eos_cm__host_find(h, "wasi:clocks/wall-clock@0.2.0");
    EOS_CHECK(mc && wc);
    if (mc && wc) {
        EOS_CHECK(mc->funcs[0].type->params[0] ==
                  eos_cm__types_lookup(wc->types, "datetime")->type);
        EOS_CHECK_INT(mc->funcs[0].type->results[0]->kind, EOS_CM_OWN);
    }
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_cm_host_define(h, "a:b/c@1.0.0", "use wasi:io/poll@0.2.3.{nothing};", NULL, 0,
                                     NULL, NULL, &d),
                  EOS_EINVALID);
    eos_cm_host_free(h);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = calloc(1, (size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static char *print_func(const eos_cm_functype *ft)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    eos_cm_functype_print(ft, f);
    fclose(f);
    return buf;
}

/* The real WASI 0.2 WIT packages define host interfaces as they are: whole
 * package text, declarations in any order, resource functions, `use`. */
static void test_real_wasi_wit(void)
{
    static const char *pkgs[] = {"wasi-io",  "wasi-clocks",  "wasi-random", "wasi-filesystem",
                                 "wasi-cli", "wasi-sockets", "wasi-http"};
    static const char *ifaces[][12] = {
        {"error", "poll", "streams"},
        {"monotonic-clock", "wall-clock"},
        {"random", "insecure", "insecure-seed"},
        {"types", "preopens"},
        {"environment", "exit", "stdin", "stdout", "stderr", "terminal-input", "terminal-output",
         "terminal-stdin", "terminal-stdout", "terminal-stderr"},
        {"network", "instance-network", "ip-name-lookup", "tcp", "tcp-create-socket", "udp",
         "udp-create-socket"},
        {"types", "incoming-handler", "outgoing-handler"},
    };
    char path[512];
    snprintf(path, sizeof(path), "%s/wasi-io/package.wit", EOS_WASI_WIT_DIR);
    char *probe = slurp(path);
    if (!probe) {
        printf("SKIP: jco's WASI WIT files are not installed (tools/node_modules)\n");
        return;
    }
    free(probe);
    eos_cm_host *h;
    EOS_CHECK_INT(eos_cm_host_new(&h), 0);
    size_t total = 0;
    for (size_t p = 0; p < EOS_ARRAY_LEN(pkgs); p++) {
        snprintf(path, sizeof(path), "%s/%s/package.wit", EOS_WASI_WIT_DIR, pkgs[p]);
        char *text = slurp(path);
        EOS_CHECK(text != NULL);
        for (size_t i = 0; text && i < 12 && ifaces[p][i]; i++) {
            char name[128];
            eos_diag d;
            eos_diag_init(&d);
            snprintf(name, sizeof(name), "wasi:%s/%s@0.2.12", pkgs[p] + 5, ifaces[p][i]);
            int rc = eos_cm_host_define(h, name, text, NULL, 0, NULL, NULL, &d);
            if (rc)
                fprintf(stderr, "%s: %s\n", name, d.message);
            EOS_CHECK_INT(rc, 0);
            const eos_cm__hiface *f = eos_cm__host_find(h, name);
            if (f)
                total += f->types->func_count;
        }
        free(text);
    }
    printf("%zu functions declared by the WASI 0.2 WIT packages\n", total);
    EOS_CHECK(total > 150);
    const eos_cm__hiface *st = eos_cm__host_find(h, "wasi:io/streams@0.2.0");
    const eos_cm_functype *ft =
        st ? eos_cm__types_func(st->types, "[method]output-stream.write") : NULL;
    EOS_CHECK(ft != NULL);
    if (ft) {
        char *s = print_func(ft);
        EOS_CHECK_STR(
            s, "func(self: borrow<output-stream>, contents: list<u8>) -> result<_, stream-error>");
        free(s);
    }
    const eos_cm__hiface *ht = eos_cm__host_find(h, "wasi:http/types@0.2.3");
    ft = ht ? eos_cm__types_func(ht->types, "[constructor]fields") : NULL;
    EOS_CHECK(ft && ft->result_count == 1 && ft->results[0]->kind == EOS_CM_OWN);
    ft = ht ? eos_cm__types_func(ht->types, "[static]fields.from-list") : NULL;
    EOS_CHECK(ft != NULL);
    eos_cm_host_free(h);
}

int main(void)
{
    EOS_RUN(test_parse_and_print);
    EOS_RUN(test_semver);
    EOS_RUN(test_use);
    EOS_RUN(test_real_wasi_wit);
    return eos_test_finish();
}
