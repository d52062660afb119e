/* The component decoder and validator on hand-made and real binaries:
 * structure, introspection, the description text, and refusal of malformed
 * or invalid input (truncations and corruptions never crash). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eos/cm.h"
#include "cm_testutil.h"
#include "harness.h"

#define PRE 0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00

static int decode(const uint8_t *b, size_t n, eos_diag *d)
{
    eos_cm_component *c = NULL;
    eos_diag_init(d);
    int rc = eos_cm_component_new(b, n, NULL, &c, d);
    eos_cm_component_free(c);
    return rc;
}

static void test_minimal(void)
{
    static const uint8_t empty[] = {PRE};
    eos_cm_component *c = NULL;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_cm_component_new(empty, sizeof(empty), NULL, &c, &d), 0);
    EOS_CHECK_INT(eos_cm_component_import_count(c), 0);
    EOS_CHECK_INT(eos_cm_component_export_count(c), 0);
    eos_cm_component_free(c);
    /* (type (record (field "a" u8))) (type (list 0)) (custom section) */
    static const uint8_t types[] = {PRE,  0x07, 0x08, 0x02, 0x72, 0x01, 0x01, 'a',
                                    0x7d, 0x70, 0x00, 0x00, 0x03, 0x01, 'x',  0x00};
    EOS_CHECK_INT(decode(types, sizeof(types), &d), 0);
}

static void expect(const uint8_t *b, size_t n, int code, const char *msg)
{
    eos_diag d;
    int rc = decode(b, n, &d);
    EOS_CHECK_INT(rc, code);
    if (!strstr(d.message, msg))
        fprintf(stderr, "got \"%s\", want \"%s\"\n", d.message, msg);
    EOS_CHECK(strstr(d.message, msg) != NULL);
}

static void test_refusals(void)
{
    static const uint8_t core[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    expect(core, sizeof(core), EOS_EINVALID, "core WebAssembly module, not a component");
    static const uint8_t magic[] = {0x00, 0x61, 0x73, 0x6e, 0x0d, 0x00, 0x01, 0x00};
    expect(magic, sizeof(magic), EOS_EMALFORMED, "bad magic");
    expect(magic, 3, EOS_EMALFORMED, "bad magic");
    static const uint8_t version[] = {0x00, 0x61, 0x73, 0x6d, 0x0c, 0x00, 0x01, 0x00};
    expect(version, sizeof(version), EOS_EMALFORMED, "unsupported component binary version");
    static const uint8_t bad_index[] = {PRE, 0x07, 0x03, 0x01, 0x70, 0x05};
    expect(bad_index, sizeof(bad_index), EOS_EINVALID, "does not name a value type");
    static const uint8_t no_flags[] = {PRE, 0x07, 0x03, 0x01, 0x6e, 0x00};
    expect(no_flags, sizeof(no_flags), EOS_EINVALID, "empty label list");
    static const uint8_t dup[] = {PRE, 0x07, 0x07, 0x01, 0x6d, 0x02, 0x01, 'a', 0x01, 'A'};
    expect(dup, sizeof(dup), EOS_EINVALID, "duplicate label");
    static const uint8_t past[] = {PRE, 0x07, 0x05, 0x01, 0x70, 0x7f};
    expect(past, sizeof(past), EOS_EMALFORMED, "section extends past the end");
    static const uint8_t section[] = {PRE, 0x0d, 0x00};
    expect(section, sizeof(section), EOS_EMALFORMED, "unknown section id");
    static const uint8_t trailing[] = {PRE, 0x07, 0x03, 0x01, 0x7f, 0x00};
    expect(trailing, sizeof(trailing), EOS_EMALFORMED, "section size does not match");
    static const uint8_t borrow_result[] = {PRE,  0x0a, 0x06, 0x01, 0x00, 0x01, 'r',  0x03, 0x01,
                                            0x07, 0x07, 0x02, 0x68, 0x00, 0x40, 0x00, 0x00, 0x01};
    expect(borrow_result, sizeof(borrow_result), EOS_EINVALID, "result contains a borrow");
    static const uint8_t own_nonres[] = {PRE, 0x07, 0x03, 0x01, 0x69, 0x00};
    expect(own_nonres, sizeof(own_nonres), EOS_EINVALID, "");
    static const uint8_t leb[] = {PRE, 0x07, 0x06, 0x01, 0x70, 0xff, 0xff, 0xff, 0xff};
    expect(leb, sizeof(leb), EOS_EMALFORMED, "");
}

static void test_real_component(void)
{
    if (!EOS_CM_HAVE_APPS) {
        printf("SKIP: test components were not built (node/npm tools missing)\n");
        return;
    }
    size_t size;
    uint8_t *b = cmt_read_file(EOS_CM_APPS "/types-utf8.wasm", &size);
    EOS_CHECK(b != NULL);
    if (!b)
        return;
    eos_cm_component *c = NULL;
    eos_diag d;
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_cm_component_new(b, size, NULL, &c, &d), 0);
    eos_cm_item_desc it, m;
    bool found = false;
    for (size_t i = 0; c && i < eos_cm_component_export_count(c); i++) {
        eos_cm_component_export(c, i, &it);
        if (strcmp(it.name, "echo-rec") == 0) {
            found = true;
            EOS_CHECK_INT(it.kind, EOS_CM_ITEM_FUNC);
            EOS_CHECK_INT(it.func->param_count, 1);
            EOS_CHECK_INT(it.func->params[0]->kind, EOS_CM_RECORD);
            EOS_CHECK_STR(it.func->params[0]->names[3], "d");
        }
        if (strcmp(it.name, "local:types/counters") == 0) {
            EOS_CHECK_INT(it.kind, EOS_CM_ITEM_INSTANCE);
            EOS_CHECK_INT(eos_cm_component_export_member(c, i, 0, &m), 0);
        }
    }
    EOS_CHECK(found);
    eos_cm_component_import(c, 0, &it);
    EOS_CHECK_STR(it.name, "local:types/host");
    eos_cm_component_free(c);

    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    EOS_CHECK_INT(eos_cm_describe(b, size, f, &d), 0);
    fclose(f);
    EOS_CHECK(strstr(text, "size: ") == text);
    EOS_CHECK(strstr(text, "export echo-rec: func(x: rec) -> rec;") != NULL);
    EOS_CHECK(strstr(text, "[constructor]blob: func(data: list<u8>) -> own<blob>;") != NULL);
    EOS_CHECK(strstr(text, "[method]counter.get: func(self: borrow<counter>) -> u32;") != NULL);
    free(text);

    /* Every truncation and many single-byte corruptions are refused or
     * accepted cleanly, never crash. */
    for (size_t cut = 0; cut < size; cut += 211)
        (void)decode(b, cut, &d); /* a cut at a section boundary may still be valid */
    EOS_CHECK_INT(decode(b, 100, &d), EOS_EMALFORMED);
    EOS_CHECK(strstr(d.message, "past the end") != NULL);
    uint8_t *copy = malloc(size);
    for (size_t at = 8; at < size; at += 307) {
        memcpy(copy, b, size);
        copy[at] ^= 0x5a;
        (void)decode(copy, size, &d);
    }
    free(copy);
    free(b);
}

static void test_invalid_components(void)
{
    static const struct {
        const char *file, *msg;
    } cases[] = {
        {"bad-lift.wasm",
         "core function's type does not match the flattened component function type"},
        {"bad-realloc.wasm", "realloc must have type (func (param i32 i32 i32 i32) (result i32))"},
        {"bad-memory.wasm", "canon lift needs a memory option"},
    };
    if (!EOS_CM_HAVE_APPS) {
        printf("SKIP: test components were not built (node/npm tools missing)\n");
        return;
    }
    for (size_t i = 0; i < EOS_ARRAY_LEN(cases); i++) {
        char path[512];
        size_t size;
        snprintf(path, sizeof(path), "%s/%s", EOS_CM_APPS, cases[i].file);
        uint8_t *b = cmt_read_file(path, &size);
        EOS_CHECK(b != NULL);
        if (b)
            expect(b, size, EOS_EINVALID, cases[i].msg);
        free(b);
    }
}

static void test_newer_value_types(void)
{
    /* (type (map string u32)): accepted, moved as list<tuple<string, u32>> */
    static const uint8_t map[] = {PRE, 0x07, 0x04, 0x01, 0x63, 0x73, 0x79};
    eos_diag d;
    EOS_CHECK_INT(decode(map, sizeof(map), &d), 0);
    /* (type (stream u8)), (type (future u8)): the async ABI's, not supported */
    static const uint8_t stream[] = {PRE, 0x07, 0x04, 0x01, 0x66, 0x01, 0x7d};
    expect(stream, sizeof(stream), EOS_EUNSUPPORTED, "async ABI");
    static const uint8_t future[] = {PRE, 0x07, 0x04, 0x01, 0x65, 0x01, 0x7d};
    expect(future, sizeof(future), EOS_EUNSUPPORTED, "async ABI");
}

int main(void)
{
    EOS_RUN(test_minimal);
    EOS_RUN(test_refusals);
    EOS_RUN(test_real_component);
    EOS_RUN(test_invalid_components);
    EOS_RUN(test_newer_value_types);
    return eos_test_finish();
}
