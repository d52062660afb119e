/* Tests of the streaming inner-request parser: operations, the decoded
 * component bytes of a wasm_load, chunked input, errors, limits, reuse, use
 * as the frame decoder's sink, and out-of-memory at every allocation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eos/proto.h"
#include "harness.h"

/* Parses doc fed in chunks of `chunk` bytes; returns finish's result. */
static int parse(eos_proto_request *req, const char *doc, size_t chunk, eos_diag *d)
{
    size_t n = strlen(doc);
    eos_diag_init(d);
    eos_proto_request_reset(req);
    for (size_t off = 0; off < n; off += chunk) {
        size_t take = n - off < chunk ? n - off : chunk;
        int rc = eos_proto_request_feed(req, (const uint8_t *)doc + off, take, d);
        if (rc < 0)
            return rc;
    }
    return eos_proto_request_finish(req, d);
}

static void test_operations(void)
{
    eos_proto_request *req = NULL;
    EOS_CHECK_INT(eos_proto_request_new(0, &req), 0);
    eos_diag d;
    struct {
        const char *doc;
        eos_proto_op op;
    } cases[] = {
        {"{\"wasm_list\": {}}", EOS_PROTO_OP_WASM_LIST},
        {"{\"wasm_unload\": {\"name\": \"a\"}}", EOS_PROTO_OP_WASM_UNLOAD},
        {"{\"wasm_call\": {\"app\": \"a\", \"function\": \"f\", \"params\": [1, \"x\", {\"k\": "
         "[null, true, 1.5]}]}}",
         EOS_PROTO_OP_WASM_CALL},
        {"{\"config_manifest\": {}}", EOS_PROTO_OP_CONFIG_MANIFEST},
        {"{\"auth\": \"token\", \"wasm_list\": {}}", EOS_PROTO_OP_WASM_LIST},
    };
    for (size_t i = 0; i < EOS_ARRAY_LEN(cases); i++) {
        EOS_CHECK_INT(parse(req, cases[i].doc, 1000, &d), 0);
        EOS_CHECK_INT(eos_proto_request_op(req), cases[i].op);
        EOS_CHECK_INT(parse(req, cases[i].doc, 1, &d), 0);
        EOS_CHECK_INT(eos_proto_request_op(req), cases[i].op);
    }
    EOS_CHECK_STR(eos_proto_op_name(EOS_PROTO_OP_WASM_LOAD), "wasm_load");
    EOS_CHECK_STR(eos_proto_op_name((eos_proto_op)42), "?");
    eos_proto_request_free(req);
}

static void test_load_bytes(void)
{
    eos_proto_request *req = NULL;
    EOS_CHECK_INT(eos_proto_request_new(0, &req), 0);
    const char *doc = "{\"wasm_load\": {\"name\": \"my-app\", \"route\": \"/x\", "
                      "\"env\": {\"bytes\": [999]}, \"bytes\": [0,97,115,109,1,0,0,0,255]}}";
    static const uint8_t want[] = {0, 97, 115, 109, 1, 0, 0, 0, 255};
    eos_diag d;
    for (size_t chunk = 1; chunk < 8; chunk++) {
        EOS_CHECK_INT(parse(req, doc, chunk, &d), 0);
        EOS_CHECK_INT(eos_proto_request_op(req), EOS_PROTO_OP_WASM_LOAD);
        EOS_CHECK_STR(eos_proto_request_name(req), "my-app");
        size_t size = 0;
        const uint8_t *got = eos_proto_request_bytes(req, &size);
        EOS_CHECK_MEM(got, size, want, sizeof want);
    }
    EOS_CHECK_INT(parse(req, "{\"wasm_list\": {}}", 3, &d), 0);
    size_t size = 7;
    EOS_CHECK(eos_proto_request_bytes(req, &size) == NULL);
    EOS_CHECK_INT(size, 0);
    EOS_CHECK(eos_proto_request_name(req) == NULL);
    eos_proto_request_free(req);
}

static void test_errors(void)
{
    eos_proto_request *req = NULL;
    EOS_CHECK_INT(eos_proto_request_new(0, &req), 0);
    struct {
        const char *doc;
        int code;
        const char *needle;
    } cases[] = {
        {"[1]", EOS_EMALFORMED, "must be a JSON object"},
        {"\"wasm_list\"", EOS_EMALFORMED, "must be a JSON object"},
        {"{\"wasm_lost\": {}}", EOS_EMALFORMED, "unknown operation"},
        {"{\"wasm_list\": []}", EOS_EMALFORMED, "must be an object"},
        {"{\"wasm_list\": {}, \"wasm_call\": {}}", EOS_EMALFORMED, "more than one"},
        {"{}", EOS_EMALFORMED, "no operation"},
        {"{\"auth\": 5, \"wasm_list\": {}}", EOS_EMALFORMED, "auth"},
        {"{\"wasm_load\": {\"name\": 5}}", EOS_EMALFORMED, "name"},
        {"{\"wasm_load\": {\"name\": \"\"}}", EOS_EMALFORMED, "name"},
        {"{\"wasm_load\": {\"bytes\": \"AGFzbQ==\"}}", EOS_EMALFORMED, "bytes"},
        {"{\"wasm_load\": {\"bytes\": [1, 256]}}", EOS_ERANGE, "0..255"},
        {"{\"wasm_load\": {\"bytes\": [1, -1]}}", EOS_ERANGE, "0..255"},
        {"{\"wasm_load\": {\"bytes\": [1, [2]]}}", EOS_ERANGE, "0..255"},
        {"{\"wasm_load\": {\"bytes\": [1], \"bytes\": [2]}}", EOS_EMALFORMED, "twice"},
        {"{\"wasm_list\": {}", EOS_EMALFORMED, ""},
        {"{\"wasm_list\": {}} x", EOS_EMALFORMED, ""},
        {"{\"wasm_list\": {\"a\": \"\xff\"}}", EOS_EMALFORMED, "malformed JSON"},
    };
    eos_diag d;
    for (size_t i = 0; i < EOS_ARRAY_LEN(cases); i++) {
        int rc = parse(req, cases[i].doc, 2, &d);
        if (rc != cases[i].code || !strstr(d.message, cases[i].needle))
            fprintf(stderr, "  case %zu (%s): %d %s\n", i, cases[i].doc, rc, d.message);
        EOS_CHECK_INT(rc, cases[i].code);
        EOS_CHECK(strstr(d.message, cases[i].needle) != NULL);
    }
    /* Nothing fed at all. */
    eos_proto_request_reset(req);
    eos_diag_init(&d);
    EOS_CHECK_INT(eos_proto_request_finish(req, &d), EOS_EMALFORMED);
    eos_proto_request_free(req);
}

static void test_limits(void)
{
    eos_proto_request *req = NULL;
    EOS_CHECK_INT(eos_proto_request_new(4, &req), 0);
    eos_diag d;
    EOS_CHECK_INT(parse(req, "{\"wasm_load\": {\"bytes\": [1,2,3,4]}}", 5, &d), 0);
    EOS_CHECK_INT(parse(req, "{\"wasm_load\": {\"bytes\": [1,2,3,4,5]}}", 5, &d), EOS_ELIMIT);
    /* Deep nesting stops at 64 levels, whatever the parser's own stack allows. */
    size_t depth = 5000;
    char *doc = malloc(depth * 2 + 64);
    strcpy(doc, "{\"wasm_call\": {\"params\": ");
    size_t n = strlen(doc);
    for (size_t i = 0; i < depth; i++)
        doc[n++] = '[';
    doc[n] = 0;
    EOS_CHECK_INT(parse(req, doc, 100, &d), EOS_ELIMIT);
    EOS_CHECK(strstr(d.message, "64 levels") != NULL);
    free(doc);
    eos_proto_request_free(req);
}

/* The inner parser as the frame decoder's sink: the document arrives as the
 * Data array streams, and no copy of it is accumulated. */
static void test_as_decoder_sink(void)
{
    eos_proto_request *req = NULL;
    EOS_CHECK_INT(eos_proto_request_new(0, &req), 0);
    size_t comp = 30000;
    char *doc = malloc(comp * 4 + 100);
    size_t n = (size_t)sprintf(doc, "{\"wasm_load\": {\"name\": \"big\", \"bytes\": [");
    for (size_t i = 0; i < comp; i++)
        n += (size_t)sprintf(doc + n, i ? ",%u" : "%u", (unsigned)(i % 256));
    n += (size_t)sprintf(doc + n, "]}}");
    uint8_t *f;
    size_t fn;
    EOS_CHECK_INT(eos_proto_msg_encode(EOS_PROTO_MSG_DATA, (const uint8_t *)doc, n, &f, &fn), 0);
    eos_proto_decoder_config cfg;
    eos_proto_decoder_config_init(&cfg);
    cfg.sink = eos_proto_request_feed;
    cfg.sink_ud = req;
    eos_proto_decoder *dec = NULL;
    EOS_CHECK_INT(eos_proto_decoder_new(&cfg, &dec), 0);
    eos_diag d;
    eos_diag_init(&d);
    size_t off = 0;
    int rc = EOS_EAGAIN;
    while (rc == EOS_EAGAIN && off < fn) {
        size_t take = fn - off < 1000 ? fn - off : 1000, used = 0;
        rc = eos_proto_decoder_feed(dec, f + off, take, &used, &d);
        off += used;
    }
    EOS_CHECK_INT(rc, EOS_PROTO_MSG_DATA);
    EOS_CHECK_INT(eos_proto_request_finish(req, &d), 0);
    size_t size = 0;
    const uint8_t *bytes = eos_proto_request_bytes(req, &size);
    EOS_CHECK_INT(size, comp);
    EOS_CHECK(bytes && bytes[0] == 0 && bytes[257] == 1 && bytes[comp - 1] == (comp - 1) % 256);
    eos_proto_decoder_bytes(dec, &size);
    EOS_CHECK_INT(size, 0);
    eos_proto_decoder_free(dec);
    eos_proto_request_free(req);
    eos_free(f, fn);
    free(doc);
}

/* The rest of the document is kept without the component's bytes, in every
 * chunking, and the bytes can be taken out without a copy. */
static void test_rest_of_document(void)
{
    eos_proto_request *req = NULL;
    EOS_CHECK_INT(eos_proto_request_new(0, &req), 0);
    const char *doc = "{\"wasm_load\": {\"name\": \"a\", \"bytes\": [0, 97, 115, 109], "
                      "\"route\": \"/r\", \"env\": {\"K\": \"v\"}, \"max_fuel\": 12, "
                      "\"x\": [true, null, 1.5, \"s\"]}, \"auth\": \"tok\"}";
    for (size_t chunk = 1; chunk <= strlen(doc); chunk += 7) {
        eos_diag d;
        EOS_CHECK_INT(parse(req, doc, chunk, &d), 0);
        size_t n = 0;
        const char *json = eos_proto_request_json(req, &n);
        char buf[400];
        snprintf(buf, sizeof buf, "%.*s", (int)n, json);
        EOS_CHECK_STR(buf, "{\"wasm_load\":{\"name\":\"a\",\"route\":\"/r\",\"env\":{\"K\":\"v\"},"
                           "\"max_fuel\":12,\"x\":[true,null,1.5,\"s\"]},\"auth\":\"tok\"}");
    }
    size_t size = 0, cap = 0;
    uint8_t *bytes = eos_proto_request_take_bytes(req, &size, &cap);
    EOS_CHECK(bytes != NULL);
    EOS_CHECK_INT((int)size, 4);
    EOS_CHECK(bytes && memcmp(bytes, "\0asm", 4) == 0);
    eos_free(bytes, cap);
    EOS_CHECK(eos_proto_request_take_bytes(req, &size, &cap) == NULL);
    /* "bytes" of another operation is an ordinary field and is kept. */
    eos_diag d;
    EOS_CHECK_INT(parse(req, "{\"wasm_call\": {\"app\": \"a\", \"bytes\": [1]}}", 5, &d), 0);
    size_t n = 0;
    const char *json = eos_proto_request_json(req, &n);
    char buf[200];
    snprintf(buf, sizeof buf, "%.*s", (int)n, json);
    EOS_CHECK_STR(buf, "{\"wasm_call\":{\"app\":\"a\",\"bytes\":[1]}}");
    eos_proto_request_free(req);
}

static void test_alloc_failures(void)
{
    const char *doc = "{\"wasm_load\": {\"name\": \"app\", \"bytes\": [0,97,115,109,1,0,0,0]}}";
    int succeeded = 0;
    for (long k = 1; k < 100 && !succeeded; k++) {
        eos_test_fail_alloc_after(k, 1);
        eos_proto_request *req = NULL;
        int rc = eos_proto_request_new(0, &req);
        if (rc == 0) {
            eos_diag d;
            rc = parse(req, doc, 7, &d);
            if (rc == 0) {
                EOS_CHECK_STR(eos_proto_request_name(req), "app");
                succeeded = 1;
            } else {
                EOS_CHECK_INT(rc, EOS_ENOMEM);
            }
            eos_proto_request_free(req);
        } else {
            EOS_CHECK_INT(rc, EOS_ENOMEM);
        }
        eos_test_fail_alloc_after(0, 0);
    }
    EOS_CHECK(succeeded);
}

int main(void)
{
    EOS_RUN(test_operations);
    EOS_RUN(test_load_bytes);
    EOS_RUN(test_errors);
    EOS_RUN(test_limits);
    EOS_RUN(test_as_decoder_sink);
    EOS_RUN(test_rest_of_document);
    EOS_RUN(test_alloc_failures);
    return eos_test_finish();
}
