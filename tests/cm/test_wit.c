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
    EOS_CHECK_INT(eos_cm_types_parse_func(ts, "func(self: borrow<descriptor>, len: u64) -> result<bytes, err>", &ft, &d), 0);
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
    EOS_CHECK(eos_cm__name_compatible("wasi:keyvalue/store@0.2.0-draft", "wasi:keyvalue/store@0.2.0-draft"));
    EOS_CHECK(!eos_cm__name_compatible("wasi:keyvalue/store@0.2.0-draft", "wasi:keyvalue/store@0.2.0-draft2"));
    EOS_CHECK(!eos_cm__name_compatible("wasi:io/streams", "wasi:io/streams@0.2.0"));
    EOS_CHECK(eos_cm__name_compatible("hello", "hello"));

    eos_cm_host *h;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_cm_host_new(&h), 0);
    eos_cm_host_func f = {"get", "func() -> u64", NULL};
    EOS_CHECK_INT(eos_cm_host_define(h, "wasi:clocks/wall-clock@0.2.0", NULL, &f, 1, NULL, NULL, &d), 0);
    EOS_CHECK_INT(eos_cm_host_define(h, "wasi:clocks/wall-clock@0.2.12", NULL, &f, 1, NULL, NULL, &d), 0);
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
    EOS_CHECK_INT(eos_cm_host_define(h, "wasi:io/poll@0.2.3", "resource pollable;", NULL, 0,
                                     NULL, NULL, &d), 0);
    EOS_CHECK_INT(eos_cm_host_define(h, "wasi:clocks/wall-clock@0.2.3",
                                     "record datetime { seconds: u64, nanoseconds: u32 }", NULL, 0,
                                     NULL, NULL, &d), 0);
    eos_cm_host_func f = {"subscribe", "func(d: datetime) -> pollable", NULL};
    int rc = eos_cm_host_define(h, "wasi:clocks/monotonic-clock@0.2.3",
                                "use wasi:io/poll@0.2.3.{pollable};\n"
                                "use wall-clock.{datetime};\n", &f, 1, NULL, NULL, &d);
    if (rc)
        fprintf(stderr, "%s\n", d.message);
    EOS_CHECK_INT(rc, 0);
    const eos_cm__hiface *mc = eos_cm__host_find(h, "wasi:clocks/monotonic-clock@0.2.0");
    const eos_cm__hiface *wc = eos_cm__host_find(h, "wasi:clocks/wall-clock@0.2.0");
    EOS_CHECK(mc && wc);
    if (mc && wc) {
        EOS_CHECK(mc->funcs[0].type->params[0] == eos_cm__types_lookup(wc->types, "datetime")->type);
        EOS_CHECK_INT(mc->funcs[0].type->results[0]->kind, EOS_CM_OWN);
    }
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_cm_host_define(h, "a:b/c@1.0.0", "use wasi:io/poll@0.2.3.{nothing};", NULL,
                                     0, NULL, NULL, &d), EOS_EINVALID);
    eos_cm_host_free(h);
}

int main(void)
{
    EOS_RUN(test_parse_and_print);
    EOS_RUN(test_semver);
    EOS_RUN(test_use);
    return eos_test_finish();
}
