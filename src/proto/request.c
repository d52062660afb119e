/* The streaming parser of an inner request (the JSON document carried by
 * "Data", SPEC 3.1). It sees the document in chunks as the outer frame
 * decodes and keeps only the operation, the "name" and a wasm_load's decoded
 * "bytes", so a load costs about the component's size in memory. */
#include <stdio.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "internal.h"

#define MAX_DEPTH             64
#define MAX_NAME              256
#define DEFAULT_MAX_COMPONENT ((size_t)64 << 20)
/* Longest token (string) in an inner document; bounds yajl's buffer. */
#define MAX_TOKEN_GAP ((uint64_t)1 << 20)

typedef enum top_key { K_NONE, K_OP, K_AUTH } top_key;
typedef enum field { F_OTHER, F_NAME, F_BYTES } field;
typedef enum vtype { V_MAP, V_ARRAY, V_STRING, V_NUMBER, V_OTHER } vtype;

struct eos_proto_request {
    yajl_handle yajl;
    int oom;
    eos_diag err;
    size_t max_bytes;
    int depth;
    int started;
    int done;
    eos_proto_op op;
    top_key key1;
    field key2;
    int in_bytes;
    char *name;
    uint8_t *bytes;
    size_t bytes_len;
    size_t bytes_cap;
    int has_bytes;
    uint64_t pos;
    uint64_t last_event;
    int event_seen;
    /* Everything but a wasm_load's "bytes", re-serialised: the small rest of
     * the document that the server reads as a tree (route, env, params...). */
    yajl_gen gen;
    int skip_key; /* the current key is "bytes": neither it nor its array is kept */
};

/* Largest re-serialised rest of a document (parameters of a wasm_call...). */
#define MAX_REST ((size_t)4 << 20)

static int keep(eos_proto_request *req)
{
    return req->gen && !req->in_bytes && !req->skip_key;
}

static int gen_check(eos_proto_request *req, yajl_gen_status st)
{
    const unsigned char *buf;
    size_t len;
    if (st != yajl_gen_status_ok) {
        eos_diag_set(&req->err, EOS_EMALFORMED, "request", (int64_t)req->pos,
                     "invalid request: cannot re-encode the document");
        return 0;
    }
    yajl_gen_get_buf(req->gen, &buf, &len);
    if (len > MAX_REST) {
        eos_diag_set(&req->err, EOS_ELIMIT, "request", (int64_t)req->pos,
                     "invalid request: the fields other than \"bytes\" exceed 4 MiB");
        return 0;
    }
    return 1;
}

static const char *const op_names[] = {
    [EOS_PROTO_OP_WASM_LOAD] = "wasm_load",
    [EOS_PROTO_OP_WASM_UNLOAD] = "wasm_unload",
    [EOS_PROTO_OP_WASM_LIST] = "wasm_list",
    [EOS_PROTO_OP_WASM_CALL] = "wasm_call",
    [EOS_PROTO_OP_CONFIG_MANIFEST] = "config_manifest",
};

const char *eos_proto_op_name(eos_proto_op op)
{
    if (op > 0 && (size_t)op < EOS_ARRAY_LEN(op_names))
        return op_names[op];
    return "?";
}

static int fail(eos_proto_request *req, int code, const char *fmt, const char *arg, int arg_len)
{
    char what[96];
    if (!arg)
        arg = "";
    if (arg_len < 0)
        arg_len = (int)strlen(arg);
    snprintf(what, sizeof what, "%.*s", arg_len > 60 ? 60 : arg_len, arg);
    /* fmt is one of this file's constant formats with exactly one %s. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    char msg[400];
    snprintf(msg, sizeof msg, fmt, what);
#pragma GCC diagnostic pop
    eos_diag_set(&req->err, code, "request", (int64_t)req->pos, "invalid request: %s", msg);
    return 0;
}

static const char *vtype_name(vtype t)
{
    static const char *const names[] = {"an object", "an array", "a string", "a number",
                                        "a literal"};
    return names[t];
}

/* Checks that a value of type t may appear where the parser is. */
static int check_value(eos_proto_request *req, vtype t)
{
    req->event_seen = 1;
    if (req->depth == 0) {
        if (req->started)
            return fail(req, EOS_EMALFORMED, "more than one JSON value%s", "", 0);
        req->started = 1;
        if (t != V_MAP)
            return fail(req, EOS_EMALFORMED,
                        "the request must be a JSON object such as {\"wasm_list\": {}}%s", "", 0);
        return 1;
    }
    if (req->depth == 1) {
        if (req->key1 == K_OP && t != V_MAP)
            return fail(req, EOS_EMALFORMED, "the value of \"%s\" must be an object",
                        eos_proto_op_name(req->op), -1);
        if (req->key1 == K_AUTH && t != V_STRING)
            return fail(req, EOS_EMALFORMED, "\"auth\" must be a string%s", "", 0);
        return 1;
    }
    if (req->depth == 2) {
        if (req->key2 == F_NAME && t != V_STRING)
            return fail(req, EOS_EMALFORMED, "\"name\" must be a string, not %s", vtype_name(t),
                        -1);
        if (req->key2 == F_BYTES && t != V_ARRAY)
            return fail(req, EOS_EMALFORMED, "\"bytes\" must be an array of 0..255, not %s",
                        vtype_name(t), -1);
        return 1;
    }
    if (req->in_bytes && req->depth == 3 && t != V_NUMBER)
        return fail(req, EOS_ERANGE, "\"bytes\" may only hold numbers 0..255, not %s",
                    vtype_name(t), -1);
    return 1;
}

static int r_null(void *ctx)
{
    eos_proto_request *req = ctx;
    if (!check_value(req, V_OTHER))
        return 0;
    return !keep(req) || gen_check(req, yajl_gen_null(req->gen));
}

static int r_bool(void *ctx, int v)
{
    eos_proto_request *req = ctx;
    if (!check_value(req, V_OTHER))
        return 0;
    return !keep(req) || gen_check(req, yajl_gen_bool(req->gen, v));
}

static int push_byte(eos_proto_request *req, uint8_t b)
{
    if (req->bytes_len == req->bytes_cap) {
        if (req->bytes_cap >= req->max_bytes) {
            char lim[32];
            snprintf(lim, sizeof lim, "%zu", req->max_bytes);
            return fail(req, EOS_ELIMIT, "the component exceeds the limit of %s bytes", lim,
                        (int)strlen(lim));
        }
        size_t cap = req->bytes_cap ? req->bytes_cap * 2 : 65536;
        if (cap > req->max_bytes)
            cap = req->max_bytes;
        uint8_t *nb = eos_realloc(req->bytes, req->bytes_cap, cap);
        if (!nb) {
            eos_diag_set(&req->err, EOS_ENOMEM, "request", (int64_t)req->pos,
                         "out of memory decoding a %zu-byte component", req->bytes_len);
            return 0;
        }
        req->bytes = nb;
        req->bytes_cap = cap;
    }
    req->bytes[req->bytes_len++] = b;
    return 1;
}

static int r_number(void *ctx, const char *s, size_t len)
{
    eos_proto_request *req = ctx;
    if (!check_value(req, V_NUMBER))
        return 0;
    if (!(req->in_bytes && req->depth == 3))
        return !keep(req) || gen_check(req, yajl_gen_number(req->gen, s, len));
    unsigned v = 0;
    int ok = len >= 1 && len <= 3;
    for (size_t i = 0; ok && i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            ok = 0;
        else
            v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (!ok || v > 255)
        return fail(req, EOS_ERANGE, "\"bytes\" holds '%s', not an integer 0..255", s, (int)len);
    return push_byte(req, (uint8_t)v);
}

static int r_string(void *ctx, const unsigned char *s, size_t len)
{
    eos_proto_request *req = ctx;
    if (!check_value(req, V_STRING))
        return 0;
    if (req->depth == 2 && req->key2 == F_NAME) {
        if (len == 0 || len > MAX_NAME || memchr(s, 0, len))
            return fail(req, EOS_EMALFORMED,
                        "\"name\" must be 1 to 256 bytes without NUL, got '%s'", (const char *)s,
                        (int)len);
        if (req->name) {
            eos_free(req->name, strlen(req->name) + 1);
            req->name = NULL;
        }
        req->name = eos_malloc(len + 1);
        if (!req->name) {
            eos_diag_set(&req->err, EOS_ENOMEM, "request", (int64_t)req->pos, "out of memory");
            return 0;
        }
        memcpy(req->name, s, len);
        req->name[len] = 0;
    }
    return !keep(req) || gen_check(req, yajl_gen_string(req->gen, s, len));
}

static int r_start_map(void *ctx)
{
    eos_proto_request *req = ctx;
    if (!check_value(req, V_MAP))
        return 0;
    if (++req->depth > MAX_DEPTH)
        return fail(req, EOS_ELIMIT, "JSON nested deeper than 64 levels%s", "", 0);
    return !keep(req) || gen_check(req, yajl_gen_map_open(req->gen));
}

static int map_key(eos_proto_request *req, const unsigned char *s, size_t len);

static int r_map_key(void *ctx, const unsigned char *s, size_t len)
{
    eos_proto_request *req = ctx;
    req->skip_key = 0;
    if (!map_key(req, s, len))
        return 0;
    if (req->depth == 2 && req->key2 == F_BYTES)
        req->skip_key = 1;
    return !keep(req) || gen_check(req, yajl_gen_string(req->gen, s, len));
}

static int map_key(eos_proto_request *req, const unsigned char *s, size_t len)
{
    req->event_seen = 1;
    if (req->depth == 1) {
        if (len == 4 && memcmp(s, "auth", 4) == 0) {
            req->key1 = K_AUTH;
            return 1;
        }
        for (size_t i = 1; i < EOS_ARRAY_LEN(op_names); i++) {
            if (strlen(op_names[i]) == len && memcmp(op_names[i], s, len) == 0) {
                if (req->op)
                    return fail(req, EOS_EMALFORMED,
                                "more than one operation in one request (\"%s\")", (const char *)s,
                                (int)len);
                req->op = (eos_proto_op)i;
                req->key1 = K_OP;
                return 1;
            }
        }
        return fail(req, EOS_EMALFORMED,
                    "unknown operation \"%s\"; expected wasm_load, wasm_unload, wasm_list, "
                    "wasm_call or config_manifest",
                    (const char *)s, (int)len);
    }
    if (req->depth == 2 && req->key1 == K_OP) {
        if (len == 4 && memcmp(s, "name", 4) == 0)
            req->key2 = F_NAME;
        else if (len == 5 && memcmp(s, "bytes", 5) == 0 && req->op == EOS_PROTO_OP_WASM_LOAD)
            req->key2 = F_BYTES;
        else
            req->key2 = F_OTHER;
    }
    return 1;
}

static int r_end_map(void *ctx)
{
    eos_proto_request *req = ctx;
    req->event_seen = 1;
    req->depth--;
    if (req->depth == 1)
        req->key2 = F_OTHER;
    if (req->depth == 0)
        req->done = 1;
    return !keep(req) || gen_check(req, yajl_gen_map_close(req->gen));
}

static int r_start_array(void *ctx)
{
    eos_proto_request *req = ctx;
    if (!check_value(req, V_ARRAY))
        return 0;
    if (req->depth == 2 && req->key2 == F_BYTES) {
        if (req->has_bytes)
            return fail(req, EOS_EMALFORMED, "\"bytes\" given twice%s", "", 0);
        req->in_bytes = 1;
        req->has_bytes = 1;
    }
    if (++req->depth > MAX_DEPTH)
        return fail(req, EOS_ELIMIT, "JSON nested deeper than 64 levels%s", "", 0);
    return !keep(req) || gen_check(req, yajl_gen_array_open(req->gen));
}

static int r_end_array(void *ctx)
{
    eos_proto_request *req = ctx;
    req->event_seen = 1;
    req->depth--;
    int was_bytes = req->in_bytes && req->depth == 2;
    if (req->depth == 2)
        req->in_bytes = 0;
    if (was_bytes) {
        req->skip_key = 0;
        return 1;
    }
    return !keep(req) || gen_check(req, yajl_gen_array_close(req->gen));
}

static const yajl_callbacks callbacks = {
    r_null,      r_bool,    NULL,      NULL,          r_number,    r_string,
    r_start_map, r_map_key, r_end_map, r_start_array, r_end_array,
};

int eos_proto_request_new(size_t max_component_size, eos_proto_request **out)
{
    eos_proto_request *req = eos_calloc(1, sizeof *req);
    if (!req)
        return EOS_ENOMEM;
    req->max_bytes = max_component_size ? max_component_size : DEFAULT_MAX_COMPONENT;
    eos_diag_init(&req->err);
    *out = req;
    return 0;
}

static void clear(eos_proto_request *req)
{
    if (req->yajl)
        yajl_free(req->yajl);
    req->yajl = NULL;
    if (req->gen)
        yajl_gen_free(req->gen);
    req->gen = NULL;
    if (req->name)
        eos_free(req->name, strlen(req->name) + 1);
    req->name = NULL;
}

void eos_proto_request_reset(eos_proto_request *req)
{
    clear(req);
    uint8_t *bytes = req->bytes;
    size_t cap = req->bytes_cap, max = req->max_bytes;
    memset(req, 0, sizeof *req);
    req->bytes = bytes;
    req->bytes_cap = cap;
    req->max_bytes = max;
    eos_diag_init(&req->err);
}

void eos_proto_request_free(eos_proto_request *req)
{
    if (!req)
        return;
    clear(req);
    eos_free(req->bytes, req->bytes_cap);
    eos_free(req, sizeof *req);
}

static int sticky(eos_proto_request *req, eos_diag *d)
{
    if (d && req->err.code)
        *d = req->err;
    return req->err.code;
}

int eos_proto_request_feed(void *ud, const uint8_t *bytes, size_t size, eos_diag *d)
{
    eos_proto_request *req = ud;
    if (req->err.code)
        return sticky(req, d);
    if (!req->yajl) {
        req->oom = 0;
        req->yajl = eos_proto__yajl_new(&callbacks, req, &req->oom);
        if (!req->yajl)
            return eos_diag_set(d, EOS_ENOMEM, "request", 0, "out of memory");
        req->gen = eos_proto_json_gen_new(&req->oom);
        if (!req->gen)
            return eos_diag_set(d, EOS_ENOMEM, "request", 0, "out of memory");
    }
    /* In pieces of at most 4 KiB so the token-length limit is measured
     * with that precision. */
    while (size > 4096) {
        int rc = eos_proto_request_feed(req, bytes, 4096, d);
        if (rc < 0)
            return rc;
        bytes += 4096;
        size -= 4096;
    }
    req->event_seen = 0;
    yajl_status st = yajl_parse(req->yajl, bytes, size);
    if (req->oom)
        eos_diag_set(&req->err, EOS_ENOMEM, "request", (int64_t)req->pos, "out of memory");
    else if (st == yajl_status_error)
        eos_proto__yajl_error(req->yajl, bytes, size,
                            (int64_t)(req->pos + yajl_get_bytes_consumed(req->yajl)), &req->err);
    req->pos += size;
    if (req->event_seen)
        req->last_event = req->pos;
    if (!req->err.code && req->pos - req->last_event > MAX_TOKEN_GAP)
        eos_diag_set(&req->err, EOS_ELIMIT, "request", (int64_t)req->pos,
                     "invalid request: a JSON token is longer than 1 MiB");
    return sticky(req, d);
}

int eos_proto_request_finish(eos_proto_request *req, eos_diag *d)
{
    if (req->err.code)
        return sticky(req, d);
    if (!req->yajl)
        return eos_diag_set(d, EOS_EMALFORMED, "request", 0,
                            "invalid request: the Data array is empty; it must hold the bytes "
                            "of a JSON request such as {\"wasm_list\": {}}");
    yajl_status st = yajl_complete_parse(req->yajl);
    if (req->oom)
        eos_diag_set(&req->err, EOS_ENOMEM, "request", (int64_t)req->pos, "out of memory");
    else if (st == yajl_status_error)
        eos_proto__yajl_error(req->yajl, NULL, 0, (int64_t)req->pos, &req->err);
    else if (!req->done)
        eos_diag_set(&req->err, EOS_EMALFORMED, "request", (int64_t)req->pos,
                     "invalid request: incomplete JSON document");
    else if (!req->op)
        eos_diag_set(&req->err, EOS_EMALFORMED, "request", (int64_t)req->pos,
                     "invalid request: no operation; expected one of wasm_load, wasm_unload, "
                     "wasm_list, wasm_call, config_manifest");
    if (req->yajl)
        yajl_free(req->yajl);
    req->yajl = NULL;
    return sticky(req, d);
}

eos_proto_op eos_proto_request_op(const eos_proto_request *req)
{
    return req->op;
}

const char *eos_proto_request_name(const eos_proto_request *req)
{
    return req->name;
}

const uint8_t *eos_proto_request_bytes(const eos_proto_request *req, size_t *out_size)
{
    *out_size = req->has_bytes ? req->bytes_len : 0;
    return req->has_bytes ? req->bytes : NULL;
}

const char *eos_proto_request_json(const eos_proto_request *req, size_t *out_size)
{
    const unsigned char *buf = NULL;
    size_t len = 0;
    if (req->gen)
        yajl_gen_get_buf(req->gen, &buf, &len);
    *out_size = len;
    return len ? (const char *)buf : "{}";
}

uint8_t *eos_proto_request_take_bytes(eos_proto_request *req, size_t *out_size, size_t *out_cap)
{
    if (!req->has_bytes || !req->bytes)
        return NULL;
    uint8_t *b = req->bytes;
    *out_size = req->bytes_len;
    *out_cap = req->bytes_cap;
    req->bytes = NULL;
    req->bytes_len = req->bytes_cap = 0;
    req->has_bytes = 0;
    return b;
}
