/* Unit tests of the WASI host functions, called directly (no guest) with a
 * context as the call's data: header fields, stream budgets and the
 * response sink, keyvalue mapping onto store namespaces, the file tree on the
 * store, clocks and polling, the log rate limiter, environment and denials. */
#include <stdio.h>
#include <string.h>

#include "eos/wasi.h"
#include "harness.h"
#include "internal.h"
#include "kv_testutil.h"
#include "wasi_testutil.h"

static eos_wasi_app *app;
static eos_kv *kv;
static eos_tee *tee;
static char *dir;
static eos_wasi__ctx ctx;
static eos_wasi_outcome outcome;
static wt_response resp;
static eos_wasi_sink sink;
static eos_wasi_request req;
static eos_wasi__ctx *bound; /* the data of the calls made by invoke() */

static void bind(void)
{
    memset(&resp, 0, sizeof(resp));
    resp.keep_body = true;
    sink = wt_sink(&resp);
    req = wt_get("/x?y=1");
    eos_wasi__ctx_init(&ctx, app);
    ctx.sink = &sink;
    ctx.out = &outcome;
    ctx.req = &req;
    memset(&outcome, 0, sizeof(outcome));
    bound = &ctx;
}

static void unbind(void)
{
    eos_wasi__ctx_fini(&ctx);
    bound = NULL;
    wt_response_free(&resp);
}

/* Runs host function f as a guest of the bound call would; returns its code. */
static int invoke(eos_cm_host_fn f, eos_cm_val *args, eos_cm_val *res)
{
    static eos_cm_arena *arena;
    if (!arena)
        arena = eos_cm_arena_new();
    return eos_cm_host_call(f, app, bound, args, res, arena, NULL);
}

/* Calls a host function; returns its code. */
static int call(const char *iface, const char *fn, eos_cm_val *args, eos_cm_val *res)
{
    eos_cm_host_fn f = eos_wasi__find(iface, fn);
    if (!f) {
        printf("    no host function %s %s\n", iface, fn);
        EOS_CHECK(0);
        return -1;
    }
    return invoke(f, args, res);
}

static eos_cm_val s(const char *str)
{
    eos_cm_val v;
    memset(&v, 0, sizeof(v));
    v.of.str.ptr = str;
    v.of.str.len = strlen(str);
    return v;
}

static eos_cm_val b(const char *str)
{
    eos_cm_val v;
    memset(&v, 0, sizeof(v));
    v.of.list.bytes = (const uint8_t *)str;
    v.of.list.len = strlen(str);
    return v;
}

static eos_cm_val h(uint32_t rep)
{
    eos_cm_val v;
    memset(&v, 0, sizeof(v));
    v.of.handle = rep;
    return v;
}

static eos_cm_val u(uint64_t x)
{
    eos_cm_val v;
    memset(&v, 0, sizeof(v));
    v.of.u = x;
    return v;
}

#define HT "wasi:http/types"

static void test_field_validation(void)
{
    EOS_CHECK_INT(eos_wasi__field_name_check("content-type", 12), 0);
    EOS_CHECK_INT(eos_wasi__field_name_check("X-Custom_1!", 11), 0);
    EOS_CHECK_INT(eos_wasi__field_name_check("", 0), EOS_WASI__HDR_INVALID);
    EOS_CHECK_INT(eos_wasi__field_name_check("bad name", 8), EOS_WASI__HDR_INVALID);
    EOS_CHECK_INT(eos_wasi__field_name_check("a:b", 3), EOS_WASI__HDR_INVALID);
    EOS_CHECK_INT(eos_wasi__field_name_check("a\r\nb", 4), EOS_WASI__HDR_INVALID);
    EOS_CHECK_INT(eos_wasi__field_name_check("Connection", 10), EOS_WASI__HDR_FORBIDDEN);
    EOS_CHECK_INT(eos_wasi__field_name_check("transfer-encoding", 17), EOS_WASI__HDR_FORBIDDEN);
    EOS_CHECK_INT(eos_wasi__field_name_check("HOST", 4), EOS_WASI__HDR_FORBIDDEN);
    EOS_CHECK(eos_wasi__field_value_valid((const uint8_t *)"text/html; q=1\t\x80", 16));
    EOS_CHECK(!eos_wasi__field_value_valid((const uint8_t *)"a\r\nb: c", 7));
    EOS_CHECK(!eos_wasi__field_value_valid((const uint8_t *)"a\0b", 3));
}

static void test_fields_host(void)
{
    bind();
    eos_cm_val res[1], args[3];
    memset(res, 0, sizeof(res));
    EOS_CHECK_INT(call(HT, "[constructor]fields", NULL, res), 0);
    uint32_t f = res[0].of.handle;
    args[0] = h(f);
    args[1] = s("X-Thing");
    args[2] = b("one");
    EOS_CHECK_INT(call(HT, "[method]fields.append", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 0);
    args[2] = b("two");
    EOS_CHECK_INT(call(HT, "[method]fields.append", args, res), 0);
    args[1] = s("x-thing");
    EOS_CHECK_INT(call(HT, "[method]fields.get", args, res), 0);
    EOS_CHECK_INT(res[0].of.list.len, 2);
    EOS_CHECK_MEM(res[0].of.list.items[1].of.list.bytes, res[0].of.list.items[1].of.list.len, "two",
                  3);
    EOS_CHECK_INT(call(HT, "[method]fields.entries", args, res), 0);
    EOS_CHECK_INT(res[0].of.list.len, 2);
    EOS_CHECK_MEM(res[0].of.list.items[0].of.list.items[0].of.str.ptr, 7, "x-thing", 7);
    /* forbidden and invalid names, invalid values */
    args[1] = s("connection");
    args[2] = b("close");
    EOS_CHECK_INT(call(HT, "[method]fields.append", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 1);
    EOS_CHECK_INT(res[0].of.var.payload->of.var.index, 1); /* forbidden */
    args[1] = s("ok");
    args[2] = b("a\nb");
    EOS_CHECK_INT(call(HT, "[method]fields.append", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.payload->of.var.index, 0); /* invalid-syntax */
    args[1] = s("x-thing");
    EOS_CHECK_INT(call(HT, "[method]fields.delete", args, res), 0);
    EOS_CHECK_INT(call(HT, "[method]fields.has", args, res), 0);
    EOS_CHECK(!res[0].of.b);
    /* an outgoing response's headers() is an immutable view */
    args[0] = h(f);
    args[1] = s("x-a");
    args[2] = b("1");
    EOS_CHECK_INT(call(HT, "[method]fields.append", args, res), 0);
    args[0] = h(f);
    EOS_CHECK_INT(call(HT, "[constructor]outgoing-response", args, res), 0);
    uint32_t r = res[0].of.handle;
    args[0] = h(r);
    EOS_CHECK_INT(call(HT, "[method]outgoing-response.headers", args, res), 0);
    uint32_t view = res[0].of.handle;
    args[0] = h(view);
    args[1] = s("x-b");
    args[2] = b("2");
    EOS_CHECK_INT(call(HT, "[method]fields.append", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.payload->of.var.index, 2); /* immutable */
    EOS_CHECK_INT(call(HT, "[method]fields.clone", args, res), 0);
    args[0] = h(res[0].of.handle);
    EOS_CHECK_INT(call(HT, "[method]fields.append", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 0); /* clones are mutable */
    unbind();
}

static void test_incoming_request(void)
{
    bind();
    eos_wasi_header hd[2] = {{"Accept", 6, (const uint8_t *)"*/*", 3},
                             {"Host", 4, (const uint8_t *)"example", 7}};
    req.headers = hd;
    req.header_count = 2;
    req.method = "PATCH";
    uint32_t rq = 0, op = 0;
    EOS_CHECK_INT(eos_wasi__http_begin(&ctx, &rq, &op), 0);
    eos_cm_val args[2], res[1];
    args[0] = h(rq);
    EOS_CHECK_INT(call(HT, "[method]incoming-request.method", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 8);
    EOS_CHECK_INT(call(HT, "[method]incoming-request.path-with-query", args, res), 0);
    EOS_CHECK_MEM(res[0].of.var.payload->of.str.ptr, res[0].of.var.payload->of.str.len, "/x?y=1",
                  6);
    EOS_CHECK_INT(call(HT, "[method]incoming-request.scheme", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.payload->of.var.index, 1); /* HTTPS */
    EOS_CHECK_INT(call(HT, "[method]incoming-request.headers", args, res), 0);
    args[0] = h(res[0].of.handle);
    args[1] = s("host");
    EOS_CHECK_INT(call(HT, "[method]fields.get", args, res), 0);
    EOS_CHECK_INT(res[0].of.list.len, 1); /* the app sees host */
    args[0] = h(rq);
    EOS_CHECK_INT(call(HT, "[method]incoming-request.consume", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 0);
    EOS_CHECK_INT(call(HT, "[method]incoming-request.consume", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 1); /* only once */
    unbind();
}

/* Writes through an outgoing body before and after response-outparam.set. */
static void test_response_streaming(void)
{
    bind();
    uint32_t rq = 0, op = 0;
    EOS_CHECK_INT(eos_wasi__http_begin(&ctx, &rq, &op), 0);
    eos_cm_val args[3], res[1];
    EOS_CHECK_INT(call(HT, "[constructor]fields", NULL, res), 0);
    args[0] = h(res[0].of.handle);
    EOS_CHECK_INT(call(HT, "[constructor]outgoing-response", args, res), 0);
    uint32_t r = res[0].of.handle;
    args[0] = h(r);
    args[1] = u(404);
    EOS_CHECK_INT(call(HT, "[method]outgoing-response.set-status-code", args, res), 0);
    args[1] = u(99);
    EOS_CHECK_INT(call(HT, "[method]outgoing-response.set-status-code", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 1);
    EOS_CHECK_INT(call(HT, "[method]outgoing-response.body", args, res), 0);
    uint32_t body = res[0].of.var.payload->of.handle;
    args[0] = h(body);
    EOS_CHECK_INT(call(HT, "[method]outgoing-body.write", args, res), 0);
    uint32_t st = res[0].of.var.payload->of.handle;
    EOS_CHECK_INT(call(HT, "[method]outgoing-body.write", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 1); /* one stream per body */
    /* before set: bounded pending buffer */
    args[0] = h(st);
    EOS_CHECK_INT(call("wasi:io/streams", "[method]output-stream.check-write", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.payload->of.u, EOS_WASI__PENDING_MAX);
    args[1] = b("early ");
    EOS_CHECK_INT(call("wasi:io/streams", "[method]output-stream.write", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 0);
    EOS_CHECK_INT(resp.head_calls, 0);
    EOS_CHECK_INT(call("wasi:io/streams", "[method]output-stream.check-write", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.payload->of.u, EOS_WASI__PENDING_MAX - 6);
    /* writing more than check-write allowed traps */
    static char big[EOS_WASI__PENDING_MAX + 1];
    eos_cm_val bigv = {0};
    bigv.of.list.bytes = (const uint8_t *)big;
    bigv.of.list.len = sizeof(big);
    args[1] = bigv;
    EOS_CHECK_INT(call("wasi:io/streams", "[method]output-stream.write", args, res), EOS_TRAP_HOST);
    /* set: the head and the pending bytes reach the sink */
    eos_cm_val okp = h(r), result = {0};
    result.of.var.index = 0;
    result.of.var.payload = &okp;
    args[0] = h(op);
    args[1] = result;
    EOS_CHECK_INT(call(HT, "[static]response-outparam.set", args, res), 0);
    EOS_CHECK_INT(resp.head_calls, 1);
    EOS_CHECK_INT(resp.status, 404);
    EOS_CHECK_INT(resp.body_size, 6);
    args[0] = h(st);
    EOS_CHECK_INT(call("wasi:io/streams", "[method]output-stream.check-write", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.payload->of.u, EOS_WASI_BODY_CHUNK);
    args[1] = b("late");
    EOS_CHECK_INT(
        call("wasi:io/streams", "[method]output-stream.blocking-write-and-flush", args, res), 0);
    EOS_CHECK_INT(resp.body_size, 10);
    EOS_CHECK_INT(call("wasi:io/streams", "[method]output-stream.subscribe", args, res), 0);
    eos_cm_val plist = {0}, pitem = h(res[0].of.handle);
    plist.of.list.items = &pitem;
    plist.of.list.len = 1;
    EOS_CHECK_INT(call("wasi:io/poll", "poll", &plist, res), 0);
    EOS_CHECK_INT(res[0].of.list.len, 1);
    /* finish with trailers: the end reaches the sink, complete */
    EOS_CHECK_INT(call(HT, "[constructor]fields", NULL, res), 0);
    eos_cm_val tr = h(res[0].of.handle), opt = {0};
    opt.of.var.index = 1;
    opt.of.var.payload = &tr;
    args[0] = h(body);
    args[1] = opt;
    EOS_CHECK_INT(call(HT, "[static]outgoing-body.finish", args, res), 0);
    EOS_CHECK_INT(resp.end_calls, 1);
    EOS_CHECK(resp.complete);
    EOS_CHECK_MEM(resp.body, resp.body_size, "early late", 10);
    /* the stream is closed once its body finished */
    args[0] = h(st);
    EOS_CHECK_INT(call("wasi:io/streams", "[method]output-stream.check-write", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 1);
    EOS_CHECK_INT(res[0].of.var.payload->of.var.index, 1); /* closed */
    unbind();
}

static void test_body_dropped_unfinished(void)
{
    bind();
    uint32_t rq = 0, op = 0;
    EOS_CHECK_INT(eos_wasi__http_begin(&ctx, &rq, &op), 0);
    eos_cm_val args[2], res[1];
    EOS_CHECK_INT(call(HT, "[constructor]fields", NULL, res), 0);
    args[0] = h(res[0].of.handle);
    EOS_CHECK_INT(call(HT, "[constructor]outgoing-response", args, res), 0);
    uint32_t r = res[0].of.handle;
    args[0] = h(r);
    EOS_CHECK_INT(call(HT, "[method]outgoing-response.body", args, res), 0);
    uint32_t body = res[0].of.var.payload->of.handle;
    eos_cm_val okp = h(r), result = {0};
    result.of.var.payload = &okp;
    args[0] = h(op);
    args[1] = result;
    EOS_CHECK_INT(call(HT, "[static]response-outparam.set", args, res), 0);
    EOS_CHECK_INT(resp.end_calls, 0);
    eos_wasi__dtor(app, bound, body);
    EOS_CHECK_INT(resp.end_calls, 1);
    EOS_CHECK(!resp.complete);
    unbind();
}

static void test_request_body_stream(void)
{
    bind();
    uint32_t rq = 0, op = 0;
    EOS_CHECK_INT(eos_wasi__http_begin(&ctx, &rq, &op), 0);
    eos_cm_val args[2], res[1];
    args[0] = h(rq);
    EOS_CHECK_INT(call(HT, "[method]incoming-request.consume", args, res), 0);
    uint32_t body = res[0].of.var.payload->of.handle;
    args[0] = h(body);
    EOS_CHECK_INT(call(HT, "[method]incoming-body.stream", args, res), 0);
    uint32_t st = res[0].of.var.payload->of.handle;
    args[0] = h(st);
    args[1] = u(100);
    EOS_CHECK_INT(call("wasi:io/streams", "[method]input-stream.read", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 1); /* empty body: closed at once */
    EOS_CHECK_INT(res[0].of.var.payload->of.var.index, 1);
    args[0] = h(body);
    EOS_CHECK_INT(call(HT, "[static]incoming-body.finish", args, res), 0);
    args[0] = h(res[0].of.handle);
    EOS_CHECK_INT(call(HT, "[method]future-trailers.get", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 1);
    EOS_CHECK_INT(res[0].of.var.payload->of.var.index, 0);
    EOS_CHECK_INT(call(HT, "[method]future-trailers.get", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.payload->of.var.index, 1); /* second get: err */
    unbind();
}

typedef struct mem_src {
    const char *p;
    size_t left;
} mem_src;

static int mem_read(void *ud, uint8_t *buf, size_t cap, size_t *out_size)
{
    mem_src *m = ud;
    size_t n = cap < m->left ? cap : m->left;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    *out_size = n;
    return 0;
}

/* skip, splice and write-zeroes between a request body and a response body. */
static void test_skip_splice_zeroes(void)
{
    bind();
    mem_src src = {"hello world", 11};
    req.body_read = mem_read;
    req.body_ud = &src;
    uint32_t rq = 0, op = 0;
    EOS_CHECK_INT(eos_wasi__http_begin(&ctx, &rq, &op), 0);
    eos_cm_val args[3], res[1];
    args[0] = h(rq);
    EOS_CHECK_INT(call(HT, "[method]incoming-request.consume", args, res), 0);
    args[0] = h(res[0].of.var.payload->of.handle);
    EOS_CHECK_INT(call(HT, "[method]incoming-body.stream", args, res), 0);
    uint32_t in = res[0].of.var.payload->of.handle;
    args[0] = h(in);
    args[1] = u(6);
    EOS_CHECK_INT(call("wasi:io/streams", "[method]input-stream.blocking-skip", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.payload->of.u, 6);
    EOS_CHECK_INT(call(HT, "[constructor]fields", NULL, res), 0);
    args[0] = h(res[0].of.handle);
    EOS_CHECK_INT(call(HT, "[constructor]outgoing-response", args, res), 0);
    uint32_t r = res[0].of.handle;
    args[0] = h(r);
    EOS_CHECK_INT(call(HT, "[method]outgoing-response.body", args, res), 0);
    uint32_t body = res[0].of.var.payload->of.handle;
    eos_cm_val okp = h(r), result = {0};
    result.of.var.payload = &okp;
    args[0] = h(op);
    args[1] = result;
    EOS_CHECK_INT(call(HT, "[static]response-outparam.set", args, res), 0);
    args[0] = h(body);
    EOS_CHECK_INT(call(HT, "[method]outgoing-body.write", args, res), 0);
    uint32_t out = res[0].of.var.payload->of.handle;
    args[0] = h(out);
    args[1] = h(in);
    args[2] = u(100);
    EOS_CHECK_INT(call("wasi:io/streams", "[method]output-stream.blocking-splice", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.payload->of.u, 5);
    EOS_CHECK_INT(call("wasi:io/streams", "[method]output-stream.splice", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 1); /* the source is at its end: closed */
    EOS_CHECK_INT(res[0].of.var.payload->of.var.index, 1);
    args[1] = u(3);
    EOS_CHECK_INT(
        call("wasi:io/streams", "[method]output-stream.blocking-write-zeroes-and-flush", args, res),
        0);
    EOS_CHECK_MEM(resp.body, resp.body_size, "world\0\0\0", 8);
    EOS_CHECK_INT(outcome.body_in_size, 11);
    unbind();
}

static void test_keyvalue_mapping(void)
{
    bind();
    eos_cm_val args[3], res[1];
    args[0] = s("cart");
    EOS_CHECK_INT(call("wasi:keyvalue/store", "open", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 0);
    uint32_t bk = res[0].of.var.payload->of.handle;
    args[0] = h(bk);
    args[1] = s("item");
    args[2] = b("apple");
    EOS_CHECK_INT(call("wasi:keyvalue/store", "[method]bucket.set", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 0);
    /* the bucket is the namespace "app:<name>/kv:<bucket>" */
    eos_kv_ns *ns = NULL;
    EOS_CHECK_INT(eos_kv_ns_open(kv, "app:unit/kv:cart", &ns, NULL), 0);
    uint8_t *v = NULL;
    size_t vs = 0;
    EOS_CHECK_INT(eos_kv_get(ns, "item", 4, &v, &vs, NULL), 0);
    EOS_CHECK_MEM(v, vs, "apple", 5);
    eos_free(v, vs);
    eos_kv_ns_close(ns);
    args[0] = s("bad/name");
    EOS_CHECK_INT(call("wasi:keyvalue/store", "open", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 1);
    EOS_CHECK_INT(res[0].of.var.payload->of.var.index, 0); /* no-such-store */
    unbind();
}

/* The first draft's list-keys takes a numeric cursor: keys already returned. */
static void test_keyvalue_draft_cursor(void)
{
    bind();
    eos_cm_host_fn open = NULL, set = NULL, list = NULL;
    const eos_wasi__iface *st = &eos_wasi__kv_draft_ifaces[0];
    for (size_t i = 0; i < st->count; i++) {
        if (strcmp(st->funcs[i].name, "open") == 0)
            open = st->funcs[i].fn;
        if (strcmp(st->funcs[i].name, "[method]bucket.set") == 0)
            set = st->funcs[i].fn;
        if (strcmp(st->funcs[i].name, "[method]bucket.list-keys") == 0)
            list = st->funcs[i].fn;
    }
    EOS_CHECK(open && set && list);
    eos_cm_val args[3], res[1];
    args[0] = s("many");
    EOS_CHECK_INT(invoke(open, args, res), 0);
    uint32_t bk = res[0].of.var.payload->of.handle;
    for (int i = 0; i < 1500; i++) {
        char k[16];
        snprintf(k, sizeof(k), "k%04d", i);
        args[0] = h(bk);
        args[1] = s(k);
        args[2] = b("v");
        EOS_CHECK_INT(invoke(set, args, res), 0);
    }
    int total = 0, pages = 0;
    eos_cm_val cur = u(0);
    args[0] = h(bk);
    args[1].of.var.index = 0;
    for (;;) {
        EOS_CHECK_INT(invoke(list, args, res), 0);
        eos_cm_val *rec = res[0].of.var.payload->of.list.items;
        total += (int)rec[0].of.list.len;
        pages++;
        if (rec[1].of.var.index == 0 || pages > 10)
            break;
        cur.of.u = rec[1].of.var.payload->of.u;
        args[1].of.var.index = 1;
        args[1].of.var.payload = &cur;
    }
    EOS_CHECK_INT(total, 1500);
    EOS_CHECK_INT(pages, 2);
    unbind();
}

static void test_fsstore(void)
{
    char *p = NULL;
    EOS_CHECK_INT(eos_wasi__fs_path_join("/", "a/./b/../c", 10, &p), 0);
    EOS_CHECK_STR(p, "/a/c");
    eos_free(p, strlen(p) + 1);
    EOS_CHECK_INT(eos_wasi__fs_path_join("/", "..", 2, &p), EOS_WASI__FS_PERM);
    EOS_CHECK_INT(eos_wasi__fs_path_join("/", "/etc", 4, &p), EOS_WASI__FS_PERM);
    EOS_CHECK_INT(eos_wasi__fs_path_join("/d", "x/../..", 7, &p), EOS_WASI__FS_PERM);
    const eos_wasi__ns *ns = NULL; /* the app's "app:unit/fs", through its store */
    EOS_CHECK_INT(eos_wasi__ns_open(app, "fs", 2, &ns), 0);
    eos_wasi__fsmeta m;
    EOS_CHECK_INT(eos_wasi__fs_mkdir(ns, "/d"), 0);
    EOS_CHECK_INT(eos_wasi__fs_mkdir(ns, "/d"), EOS_WASI__FS_EXIST);
    EOS_CHECK_INT(eos_wasi__fs_mkdir(ns, "/no/d"), EOS_WASI__FS_NOENT);
    EOS_CHECK_INT(eos_wasi__fs_open(ns, "/d/f", EOS_WASI__O_CREAT, true, &m), 0);
    /* a write spanning three chunks rewrites only those chunks */
    static uint8_t data[3 * EOS_WASI__FS_CHUNK], back[3 * EOS_WASI__FS_CHUNK];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7);
    uint64_t end = 0;
    EOS_CHECK_INT(eos_wasi__fs_write(ns, "/d/f", 100, data, sizeof(data) - 200, false, &end), 0);
    EOS_CHECK_INT(end, sizeof(data) - 100);
    size_t n = 0;
    EOS_CHECK_INT(eos_wasi__fs_read(ns, "/d/f", 100, back, sizeof(back), &n), 0);
    EOS_CHECK_INT(n, sizeof(data) - 200);
    EOS_CHECK(memcmp(back, data, n) == 0);
    EOS_CHECK_INT(eos_wasi__fs_read(ns, "/d/f", 0, back, 100, &n), 0);
    EOS_CHECK(back[0] == 0 && back[99] == 0);
    EOS_CHECK_INT(eos_wasi__fs_truncate(ns, "/d/f", 10), 0);
    EOS_CHECK_INT(eos_wasi__fs_stat(ns, "/d/f", &m), 0);
    EOS_CHECK_INT(m.size, 10);
    EOS_CHECK_INT(eos_wasi__fs_remove(ns, "/d", true), EOS_WASI__FS_NOTEMPTY);
    EOS_CHECK_INT(eos_wasi__fs_remove(ns, "/d", false), EOS_WASI__FS_ISDIR);
    EOS_CHECK_INT(eos_wasi__fs_remove(ns, "/d/f", true), EOS_WASI__FS_NOTDIR);
    EOS_CHECK_INT(eos_wasi__fs_rename(ns, "/d", "/d/inside"), EOS_WASI__FS_INVAL);
    EOS_CHECK_INT(eos_wasi__fs_rename(ns, "/d", "/e"), 0);
    eos_wasi__fsdirent *ents = NULL;
    size_t count = 0;
    EOS_CHECK_INT(eos_wasi__fs_readdir(ns, "/e", &ents, &count), 0);
    EOS_CHECK_INT(count, 1);
    if (count)
        EOS_CHECK_STR(ents[0].name, "f");
    eos_wasi__fs_dirents_free(ents, count);
    EOS_CHECK_INT(eos_wasi__fs_stat(ns, "/d", &m), EOS_WASI__FS_NOENT);
    EOS_CHECK_INT(eos_wasi__fs_open(ns, "/e/f", EOS_WASI__O_CREAT | EOS_WASI__O_EXCL, true, &m),
                  EOS_WASI__FS_EXIST);
    EOS_CHECK_INT(eos_wasi__fs_remove(ns, "/e/f", false), 0);
    EOS_CHECK_INT(eos_wasi__fs_remove(ns, "/e", true), 0);
}

/* Resolves rel from base; the resolved path or "" on an error (rc in *rc). */
static const char *res(const eos_wasi__ns *ns, const char *base, const char *rel, bool follow,
                       int *rc)
{
    static char buf[256];
    char *p = NULL;
    bool slash = false;
    buf[0] = 0;
    *rc = eos_wasi__fs_resolve(ns, base, rel, strlen(rel), follow, &p, &slash);
    if (!*rc) {
        snprintf(buf, sizeof buf, "%s%s", p, slash ? " /" : "");
        eos_free(p, strlen(p) + 1);
    }
    return buf;
}

/* No lookup leaves the directory it starts at: not by "..", not through a
 * link (relative or absolute), and links that loop end. */
static void test_fs_links_stay_inside(void)
{
    const eos_wasi__ns *ns = NULL;
    EOS_CHECK_INT(eos_wasi__ns_open(app, "fs", 2, &ns), 0);
    eos_wasi__fsmeta m;
    int rc;
    EOS_CHECK_INT(eos_wasi__fs_mkdir(ns, "/box"), 0);
    EOS_CHECK_INT(eos_wasi__fs_mkdir(ns, "/box/sub"), 0);
    EOS_CHECK_INT(eos_wasi__fs_open(ns, "/secret", EOS_WASI__O_CREAT, true, &m), 0);
    EOS_CHECK_INT(eos_wasi__fs_open(ns, "/box/f", EOS_WASI__O_CREAT, true, &m), 0);
    EOS_CHECK_INT(eos_wasi__fs_symlink(ns, "/box/up", "../secret", 9), 0);
    EOS_CHECK_INT(eos_wasi__fs_symlink(ns, "/box/sub/up2", "../../secret", 12), 0);
    EOS_CHECK_INT(eos_wasi__fs_symlink(ns, "/box/abs", "/secret", 7), 0);
    EOS_CHECK_INT(eos_wasi__fs_symlink(ns, "/box/here", "sub/../f", 8), 0);
    EOS_CHECK_INT(eos_wasi__fs_symlink(ns, "/box/d", "sub", 3), 0);
    EOS_CHECK_INT(eos_wasi__fs_symlink(ns, "/box/loop", "loop", 4), 0);
    EOS_CHECK_INT(eos_wasi__fs_symlink(ns, "/box/up", "x", 1), EOS_WASI__FS_EXIST);
    /* from "/" the whole tree is inside; from "/box" nothing above it is */
    EOS_CHECK_STR(res(ns, "/", "box/up", true, &rc), "/secret");
    EOS_CHECK_STR(res(ns, "/box", "up", true, &rc), "");
    EOS_CHECK_INT(rc, EOS_WASI__FS_PERM);
    EOS_CHECK_STR(res(ns, "/box", "sub/up2", true, &rc), "");
    EOS_CHECK_INT(rc, EOS_WASI__FS_PERM);
    EOS_CHECK_STR(res(ns, "/box/sub", "up2", true, &rc), "");
    EOS_CHECK_INT(rc, EOS_WASI__FS_PERM);
    EOS_CHECK_STR(res(ns, "/", "box/abs", true, &rc), "");
    EOS_CHECK_INT(rc, EOS_WASI__FS_PERM);
    EOS_CHECK_STR(res(ns, "/box", "d/../..", false, &rc), "");
    EOS_CHECK_INT(rc, EOS_WASI__FS_PERM);
    EOS_CHECK_STR(res(ns, "/box", "up/x", false, &rc), ""); /* links inside a path always followed */
    EOS_CHECK_INT(rc, EOS_WASI__FS_PERM);
    /* the last link only when asked, or with a trailing slash */
    EOS_CHECK_STR(res(ns, "/box", "up", false, &rc), "/box/up");
    EOS_CHECK_STR(res(ns, "/box", "here", true, &rc), "/box/f");
    EOS_CHECK_STR(res(ns, "/box", "d/", false, &rc), "/box/sub /");
    EOS_CHECK_STR(res(ns, "/box", "d/new", false, &rc), "/box/sub/new");
    EOS_CHECK_STR(res(ns, "/box", "loop", true, &rc), "");
    EOS_CHECK_INT(rc, EOS_WASI__FS_LOOP);
    EOS_CHECK_STR(res(ns, "/box", "f/x", false, &rc), "");
    EOS_CHECK_INT(rc, EOS_WASI__FS_NOTDIR);
    EOS_CHECK_STR(res(ns, "/box", "no/x", false, &rc), "");
    EOS_CHECK_INT(rc, EOS_WASI__FS_NOENT);
    /* a link is not opened unfollowed, and reads back as written */
    EOS_CHECK_INT(eos_wasi__fs_open(ns, "/box/here", 0, false, &m), EOS_WASI__FS_LOOP);
    char *t = NULL;
    EOS_CHECK_INT(eos_wasi__fs_readlink(ns, "/box/here", &t), 0);
    EOS_CHECK_STR(t ? t : "", "sub/../f");
    if (t)
        eos_free(t, strlen(t) + 1);
    EOS_CHECK_INT(eos_wasi__fs_readlink(ns, "/box/f", &t), EOS_WASI__FS_INVAL);
    const char *links[] = {"/box/up", "/box/sub/up2", "/box/abs", "/box/here", "/box/d",
                           "/box/loop", "/box/f", "/secret"};
    for (size_t i = 0; i < sizeof links / sizeof *links; i++)
        EOS_CHECK_INT(eos_wasi__fs_remove(ns, links[i], false), 0);
    EOS_CHECK_INT(eos_wasi__fs_remove(ns, "/box/sub", true), 0);
    EOS_CHECK_INT(eos_wasi__fs_remove(ns, "/box", true), 0);
}

static void test_clocks_and_poll(void)
{
    bind();
    eos_cm_val args[1], res[1];
    args[0] = u(20000000); /* 20 ms */
    EOS_CHECK_INT(call("wasi:clocks/monotonic-clock", "subscribe-duration", args, res), 0);
    uint32_t later = res[0].of.handle;
    args[0] = u(UINT64_MAX);
    EOS_CHECK_INT(call("wasi:clocks/monotonic-clock", "subscribe-duration", args, res), 0);
    uint32_t never = res[0].of.handle;
    eos_cm_val items[2] = {h(never), h(later)}, list = {0};
    list.of.list.items = items;
    list.of.list.len = 2;
    uint64_t t0 = eos_now_ns();
    EOS_CHECK_INT(call("wasi:io/poll", "poll", &list, res), 0);
    EOS_CHECK(eos_now_ns() - t0 >= 20000000);
    EOS_CHECK_INT(res[0].of.list.len, 1);
    EOS_CHECK_INT(res[0].of.list.items[0].of.u, 1);
    list.of.list.len = 0;
    EOS_CHECK_INT(call("wasi:io/poll", "poll", &list, res), EOS_TRAP_HOST);
    EOS_CHECK_INT(call("wasi:clocks/wall-clock", "now", NULL, res), 0);
    EOS_CHECK(res[0].of.list.items[0].of.u > 1700000000u);
    unbind();
}

static void test_rate_limit(void)
{
    eos_wasi_app_config cfg = {.name = "chatty", .log_lines_per_sec = 1, .log_burst = 5};
    eos_wasi_app *a = NULL;
    EOS_CHECK_INT(eos_wasi_app_new(&cfg, &a, NULL), 0);
    uint64_t now = eos_now_ns();
    int passed = 0;
    for (int i = 0; i < 100; i++)
        passed += eos_wasi__rate_take(a, now);
    EOS_CHECK_INT(passed, 5);
    EOS_CHECK_INT(eos_wasi_app_log_dropped(a), 95);
    EOS_CHECK(eos_wasi__rate_take(a, now + 1100000000ull)); /* refilled after a second */
    eos_wasi_app_free(a);
}

static void test_environment_exit_and_denials(void)
{
    bind();
    eos_cm_val args[2], res[1];
    EOS_CHECK_INT(call("wasi:cli/environment", "get-environment", NULL, res), 0);
    EOS_CHECK_INT(res[0].of.list.len, 3);
    eos_cm_val *kv0 = res[0].of.list.items[0].of.list.items;
    EOS_CHECK_MEM(kv0[0].of.str.ptr, kv0[0].of.str.len, "APP_NAME", 8);
    EOS_CHECK_MEM(kv0[1].of.str.ptr, kv0[1].of.str.len, "unit", 4);
    eos_cm_val *kv1 = res[0].of.list.items[1].of.list.items;
    EOS_CHECK_INT(kv1[1].of.str.len, 64);
    eos_cm_val *kv2 = res[0].of.list.items[2].of.list.items;
    EOS_CHECK_MEM(kv2[1].of.str.ptr, kv2[1].of.str.len, "bar", 3);
    memset(args, 0, sizeof(args));
    EOS_CHECK_INT(call("wasi:cli/exit", "exit", args, res), EOS_TRAP_EXIT);
    EOS_CHECK_INT(call("wasi:sockets/tcp-create-socket", "create-tcp-socket", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 1);
    EOS_CHECK_INT(res[0].of.var.payload->of.var.index, 1); /* access-denied */
    /* The app has no outbound rules: a well-formed request is refused. */
    EOS_CHECK_INT(call(HT, "[constructor]fields", NULL, res), 0);
    args[0] = h(res[0].of.handle);
    EOS_CHECK_INT(call(HT, "[constructor]outgoing-request", args, res), 0);
    uint32_t oreq = res[0].of.handle;
    eos_cm_val host = s("example.com");
    args[0] = h(oreq);
    args[1].of.var.index = 1;
    args[1].of.var.payload = &host;
    EOS_CHECK_INT(call(HT, "[method]outgoing-request.set-authority", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 0);
    args[0] = h(oreq);
    args[1].of.var.index = 0;
    args[1].of.var.payload = NULL;
    EOS_CHECK_INT(call("wasi:http/outgoing-handler", "handle", args, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 1);
    EOS_CHECK_STR(eos_wasi__error_code_name(res[0].of.var.payload->of.var.index),
                  "HTTP-request-denied");
    EOS_CHECK_INT(call("wasi:cli/terminal-stdout", "get-terminal-stdout", NULL, res), 0);
    EOS_CHECK_INT(res[0].of.var.index, 0);
    EOS_CHECK_INT(call("wasi:cli/stdout", "get-stdout", NULL, res), 0);
    args[0] = h(res[0].of.handle);
    args[1] = b("a log line from the app\npartial");
    EOS_CHECK_INT(
        call("wasi:io/streams", "[method]output-stream.blocking-write-and-flush", args, res), 0);
    unbind();
}

/* Allocation failures while setting an app up are reported, not crashed on
 * or leaked (the sanitizer build checks the leaks). Only the app's own first
 * allocations are failed here: the host definitions are the component
 * model's to test. */
static void test_app_new_alloc_failures(void)
{
    eos_wasi_env env = {"K", "V"};
    eos_wasi_app_config cfg = {.name = "oom", .env = &env, .env_count = 1};
    int failures = 0;
    for (long n = 1; n <= 5; n++) {
        eos_wasi_app *a = NULL;
        eos_test_fail_alloc_after(n, 1);
        int rc = eos_wasi_app_new(&cfg, &a, NULL);
        eos_test_fail_alloc_after(0, 0);
        if (rc == 0) {
            eos_wasi_app_free(a);
            break;
        }
        EOS_CHECK_INT(rc, EOS_ENOMEM);
        failures++;
    }
    EOS_CHECK_INT(failures, 5);
}

static void test_no_context_traps(void)
{
    bound = NULL;
    eos_cm_val res[1];
    EOS_CHECK_INT(call("wasi:random/random", "get-random-u64", NULL, res), EOS_TRAP_HOST);
}

int main(void)
{
    tee = tee_double_new(3);
    dir = kvt_mkdtemp();
    eos_kv_config kcfg = {.data_dir = dir, .tee = tee};
    eos_kv_backend_memory(&kcfg.backend);
    EOS_CHECK_INT(eos_kv_open(&kcfg, &kv, NULL), 0);
    eos_wasi_env env = {"FOO", "bar"};
    eos_wasi_app_config cfg = {
        .name = "unit", .store = eos_apps_wasi_store(kv), .env = &env, .env_count = 1};
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_wasi_app_new(&cfg, &app, &d);
    if (rc)
        printf("    app: %s: %s\n", eos_err_name(rc), d.message);
    EOS_CHECK_INT(rc, 0);
    EOS_RUN(test_field_validation);
    EOS_RUN(test_fields_host);
    EOS_RUN(test_incoming_request);
    EOS_RUN(test_response_streaming);
    EOS_RUN(test_body_dropped_unfinished);
    EOS_RUN(test_request_body_stream);
    EOS_RUN(test_skip_splice_zeroes);
    EOS_RUN(test_keyvalue_mapping);
    EOS_RUN(test_keyvalue_draft_cursor);
    EOS_RUN(test_fsstore);
    EOS_RUN(test_fs_links_stay_inside);
    EOS_RUN(test_clocks_and_poll);
    EOS_RUN(test_rate_limit);
    EOS_RUN(test_environment_exit_and_denials);
    EOS_RUN(test_app_new_alloc_failures);
    EOS_RUN(test_no_context_traps);
    eos_wasi_app_free(app);
    eos_kv_close(kv);
    kvt_rmdir(dir);
    eos_tee_free(tee);
    return eos_test_finish();
}
