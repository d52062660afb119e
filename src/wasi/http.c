/* wasi:http/types for the server side (incoming requests and bodies,
 * outgoing responses streamed to the driver's sink, response-outparam) and
 * wasi:http/outgoing-handler, which denies every request until egress exists. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *const error_code_names[] = {
    "DNS-timeout",
    "DNS-error",
    "destination-not-found",
    "destination-unavailable",
    "destination-IP-prohibited",
    "destination-IP-unroutable",
    "connection-refused",
    "connection-terminated",
    "connection-timeout",
    "connection-read-timeout",
    "connection-write-timeout",
    "connection-limit-reached",
    "TLS-protocol-error",
    "TLS-certificate-error",
    "TLS-alert-received",
    "HTTP-request-denied",
    "HTTP-request-length-required",
    "HTTP-request-body-size",
    "HTTP-request-method-invalid",
    "HTTP-request-URI-invalid",
    "HTTP-request-URI-too-long",
    "HTTP-request-header-section-size",
    "HTTP-request-header-size",
    "HTTP-request-trailer-section-size",
    "HTTP-request-trailer-size",
    "HTTP-response-incomplete",
    "HTTP-response-header-section-size",
    "HTTP-response-header-size",
    "HTTP-response-body-size",
    "HTTP-response-trailer-section-size",
    "HTTP-response-trailer-size",
    "HTTP-response-transfer-coding",
    "HTTP-response-content-coding",
    "HTTP-response-timeout",
    "HTTP-upgrade-failed",
    "HTTP-protocol-error",
    "loop-detected",
    "configuration-error",
    "internal-error",
};
#define ERROR_CODE_HTTP_REQUEST_DENIED 15

const char *eos_wasi__error_code_name(uint32_t index)
{
    return index < EOS_ARRAY_LEN(error_code_names) ? error_code_names[index] : "unknown";
}

static const char *const method_names[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                           "CONNECT", "OPTIONS", "TRACE", "PATCH"};

/* An incoming request: the driver's request plus what the guest consumed. */
typedef struct in_request {
    eos_wasi__fields *headers;
    bool consumed;
} in_request;

typedef struct in_body {
    bool stream_taken;
} in_body;

typedef struct fut_trailers {
    bool taken;
} fut_trailers;

typedef struct out_request {
    eos_wasi__fields *headers;
    bool body_taken;
} out_request;

/* outgoing-response and outgoing-body both point at the shared response. */
typedef struct resp_ref {
    eos_wasi__resp *r;
} resp_ref;

static char outparam_token;

void eos_wasi__resp_release(eos_wasi__ctx *ctx, eos_wasi__resp *r)
{
    if (!r || --r->refs)
        return;
    eos_wasi__fields_free(r->headers);
    eos_wasi__fields_free(r->trailers);
    eos_free(r->pending, EOS_WASI__PENDING_MAX);
    eos_free(r, sizeof(*r));
}

/* Converts fields to the sink's header array in scratch memory. */
static eos_wasi_header *sink_headers(eos_wasi__ctx *ctx, const eos_wasi__fields *f,
                                     size_t *out_count)
{
    size_t n = f ? f->len : 0;
    eos_wasi_header *h = eos_wasi__scratch_alloc(ctx, (n ? n : 1) * sizeof(*h));
    for (size_t i = 0; h && i < n; i++) {
        h[i].name = f->items[i].name;
        h[i].name_size = f->items[i].name_size;
        h[i].value = f->items[i].value;
        h[i].value_size = f->items[i].value_size;
    }
    *out_count = n;
    return h;
}

static int sink_body(eos_wasi__ctx *ctx, const uint8_t *data, size_t size)
{
    if (ctx->sink_err)
        return EOS_ECLOSED;
    while (size) {
        size_t n = size > EOS_WASI_BODY_CHUNK ? EOS_WASI_BODY_CHUNK : size;
        int rc = ctx->sink->body ? ctx->sink->body(ctx->sink->ud, data, n) : 0;
        if (rc) {
            ctx->sink_err = rc;
            return EOS_ECLOSED;
        }
        ctx->out->body_out_size += n;
        data += n;
        size -= n;
    }
    return 0;
}

void eos_wasi__resp_maybe_end(eos_wasi__ctx *ctx, eos_wasi__resp *r)
{
    if (!r->sent || !r->body_done || r->ended)
        return;
    r->ended = true;
    size_t n = 0;
    eos_wasi_header *h = sink_headers(ctx, r->trailers, &n);
    if (!h)
        n = 0;
    if (!ctx->sink_err && ctx->sink->end) {
        int rc = ctx->sink->end(ctx->sink->ud, r->body_complete, h, n);
        if (rc)
            ctx->sink_err = rc;
    }
    ctx->out->body_complete = r->body_complete && !ctx->sink_err;
}

/* ---- the response body's output stream ---- */

static int body_space(eos_wasi__ctx *ctx, void *impl, uint64_t *out_space)
{
    eos_wasi__resp *r = impl;
    if (r->body_done || ctx->sink_err)
        return EOS_ECLOSED;
    *out_space = r->sent ? EOS_WASI_BODY_CHUNK : EOS_WASI__PENDING_MAX - r->pending_size;
    return 0;
}

static int body_write(eos_wasi__ctx *ctx, void *impl, const uint8_t *data, size_t size)
{
    eos_wasi__resp *r = impl;
    if (r->body_done)
        return EOS_ECLOSED;
    if (r->sent)
        return sink_body(ctx, data, size);
    /* Before response-outparam.set the head is unknown, so the bytes wait in
     * a bounded buffer; check-write reports the room left. */
    if (size > EOS_WASI__PENDING_MAX - r->pending_size)
        return EOS_ELIMIT;
    if (!r->pending && !(r->pending = eos_malloc(EOS_WASI__PENDING_MAX)))
        return EOS_ENOMEM;
    memcpy(r->pending + r->pending_size, data, size);
    r->pending_size += size;
    return 0;
}

static int body_flush(eos_wasi__ctx *ctx, void *impl, bool blocking)
{
    return ctx->sink_err ? EOS_ECLOSED : 0;
}

static void body_release(eos_wasi__ctx *ctx, void *impl)
{
    eos_wasi__resp_release(ctx, impl);
}

/* ---- the request body's input stream ---- */

static int req_read(eos_wasi__ctx *ctx, void *impl, uint8_t *buf, size_t cap, size_t *out_size)
{
    *out_size = 0;
    if (ctx->body_in_done || !ctx->req || !ctx->req->body_read)
        return EOS_ECLOSED;
    int rc = ctx->req->body_read(ctx->req->body_ud, buf, cap, out_size);
    if (rc)
        return rc;
    if (*out_size == 0) {
        ctx->body_in_done = true;
        return EOS_ECLOSED;
    }
    if (*out_size > cap)
        return EOS_EPROTO;
    ctx->out->body_in_size += *out_size;
    return 0;
}

void eos_wasi__http_free_obj(eos_wasi__ctx *ctx, uint8_t type, void *obj)
{
    switch (type) {
    case EOS_WASI__R_FIELDS:
        eos_wasi__fields_free(obj);
        break;
    case EOS_WASI__R_IN_REQUEST:
        eos_wasi__fields_free(((in_request *)obj)->headers);
        eos_free(obj, sizeof(in_request));
        break;
    case EOS_WASI__R_IN_BODY:
        eos_free(obj, sizeof(in_body));
        break;
    case EOS_WASI__R_FUT_TRAILERS:
        eos_free(obj, sizeof(fut_trailers));
        break;
    case EOS_WASI__R_OUT_REQUEST:
        eos_wasi__fields_free(((out_request *)obj)->headers);
        eos_free(obj, sizeof(out_request));
        break;
    case EOS_WASI__R_REQ_OPTIONS:
        eos_free(obj, 4 * sizeof(uint64_t));
        break;
    case EOS_WASI__R_OUT_RESPONSE:
        eos_wasi__resp_release(ctx, ((resp_ref *)obj)->r);
        eos_free(obj, sizeof(resp_ref));
        break;
    case EOS_WASI__R_OUT_BODY: {
        /* Dropped without finish: the body ends incomplete, which the
         * server turns into an aborted response, as wasmtime does. */
        eos_wasi__resp *r = ((resp_ref *)obj)->r;
        if (!r->body_done) {
            r->body_done = true;
            r->body_complete = false;
            eos_wasi__resp_maybe_end(ctx, r);
        }
        eos_wasi__resp_release(ctx, r);
        eos_free(obj, sizeof(resp_ref));
        break;
    }
    default:
        break;
    }
}

/* Creates the incoming-request and response-outparam reps for a request. */
int eos_wasi__http_begin(eos_wasi__ctx *ctx, uint32_t *out_req, uint32_t *out_outparam)
{
    in_request *ir = eos_calloc(1, sizeof(*ir));
    if (!ir || !(ir->headers = eos_wasi__fields_new())) {
        eos_free(ir, sizeof(*ir));
        return EOS_ENOMEM;
    }
    /* Headers from the server are shown as they arrived (forbidden names
     * such as host included); only names are lower-cased and lines that
     * could not be represented are left out. */
    for (size_t i = 0; i < ctx->req->header_count; i++) {
        const eos_wasi_header *h = &ctx->req->headers[i];
        if (eos_wasi__field_name_check(h->name, h->name_size) == EOS_WASI__HDR_INVALID ||
            !eos_wasi__field_value_valid(h->value, h->value_size))
            continue;
        if (eos_wasi__fields_push(ir->headers, h->name, h->name_size, h->value, h->value_size)) {
            eos_wasi__fields_free(ir->headers);
            eos_free(ir, sizeof(*ir));
            return EOS_ENOMEM;
        }
    }
    ir->headers->immutable = true;
    *out_req = eos_wasi__res_new(ctx, EOS_WASI__R_IN_REQUEST, ir);
    if (!*out_req)
        return EOS_ENOMEM;
    *out_outparam = eos_wasi__res_add(ctx, EOS_WASI__R_OUTPARAM, &outparam_token);
    return *out_outparam ? 0 : EOS_ENOMEM;
}

/* ---- incoming-request ---- */

static int set_method(eos_wasi__ctx *ctx, eos_cm_val *v, const char *m)
{
    for (uint32_t i = 0; i < EOS_ARRAY_LEN(method_names); i++) {
        if (strcmp(m, method_names[i]) == 0) {
            v->of.var.index = i;
            v->of.var.payload = NULL;
            return 0;
        }
    }
    eos_cm_val *p = eos_wasi__val_new(ctx, 1);
    if (!p || !eos_wasi__val_str(ctx, p, m, strlen(m)))
        return EOS_ENOMEM;
    v->of.var.index = EOS_ARRAY_LEN(method_names);
    v->of.var.payload = p;
    return 0;
}

static int req_method(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, in_request, ir, EOS_WASI__R_IN_REQUEST);
    return set_method(ctx, &results[0], ctx->req->method ? ctx->req->method : "GET");
}

static int req_path(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, in_request, ir, EOS_WASI__R_IN_REQUEST);
    return eos_wasi__ret_opt_str(ctx, &results[0], ctx->req->target);
}

static int req_scheme(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, in_request, ir, EOS_WASI__R_IN_REQUEST);
    const char *s = ctx->req->scheme ? ctx->req->scheme : "https";
    eos_cm_val *p = eos_wasi__val_new(ctx, 2);
    if (!p)
        return EOS_ENOMEM;
    if (strcasecmp(s, "http") == 0) {
        p[0].of.var.index = 0;
    } else if (strcasecmp(s, "https") == 0) {
        p[0].of.var.index = 1;
    } else {
        if (!eos_wasi__val_str(ctx, &p[1], s, strlen(s)))
            return EOS_ENOMEM;
        p[0].of.var.index = 2;
        p[0].of.var.payload = &p[1];
    }
    eos_wasi__val_option(&results[0], p);
    return 0;
}

static int req_authority(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, in_request, ir, EOS_WASI__R_IN_REQUEST);
    return eos_wasi__ret_opt_str(ctx, &results[0], ctx->req->authority);
}

static int return_fields_view(eos_wasi__ctx *ctx, const eos_wasi__fields *f, eos_cm_val *res)
{
    return eos_wasi__ret_handle(
        res, eos_wasi__res_new(ctx, EOS_WASI__R_FIELDS, eos_wasi__fields_clone(f, true)));
}

static int req_headers(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, in_request, ir, EOS_WASI__R_IN_REQUEST);
    return return_fields_view(ctx, ir->headers, &results[0]);
}

/* result<own<x>> with no error type: err when the object was taken already. */
static int taken(eos_cm_val *res)
{
    return eos_wasi__err(res, NULL);
}

static int req_consume(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, in_request, ir, EOS_WASI__R_IN_REQUEST);
    if (ir->consumed)
        return taken(&results[0]);
    uint32_t rep = eos_wasi__res_new(ctx, EOS_WASI__R_IN_BODY, eos_calloc(1, sizeof(in_body)));
    if (!rep)
        return EOS_ENOMEM;
    ir->consumed = true;
    return eos_wasi__ok_handle(ctx, &results[0], rep);
}

/* ---- incoming-body, future-trailers ---- */

static int ibody_stream(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, in_body, b, EOS_WASI__R_IN_BODY);
    if (b->stream_taken)
        return taken(&results[0]);
    eos_wasi__istream t = {.read = req_read};
    uint32_t rep = eos_wasi__istream_new(ctx, &t);
    if (!rep)
        return EOS_ENOMEM;
    b->stream_taken = true;
    return eos_wasi__ok_handle(ctx, &results[0], rep);
}

static int ibody_finish(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    in_body *b = eos_wasi__res_take(ctx, args[0].of.handle, EOS_WASI__R_IN_BODY);
    if (!b)
        return EOS_TRAP_HOST;
    eos_free(b, sizeof(*b));
    return eos_wasi__ret_handle(
        &results[0],
        eos_wasi__res_new(ctx, EOS_WASI__R_FUT_TRAILERS, eos_calloc(1, sizeof(fut_trailers))));
}

static int ready_pollable(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    return eos_wasi__ret_handle(&results[0],
                                eos_wasi__pollable_new(ctx, EOS_WASI__POLL_READY, 0, 0));
}

static int trailers_get(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, fut_trailers, t, EOS_WASI__R_FUT_TRAILERS);
    /* option<result<result<option<trailers>, error-code>>>: the server passes
     * no request trailers, so the answer is some(ok(ok(none))) once, then
     * some(err) as the WIT asks for a second get. */
    eos_cm_val *v = eos_wasi__val_new(ctx, 3);
    if (!v)
        return EOS_ENOMEM;
    eos_wasi__val_option(&results[0], &v[0]);
    if (t->taken) {
        eos_wasi__val_result(&v[0], true, NULL);
        return 0;
    }
    t->taken = true;
    eos_wasi__val_result(&v[0], false, &v[1]);
    eos_wasi__val_result(&v[1], false, &v[2]);
    v[2].of.var.index = 0;
    return 0;
}

/* ---- outgoing-response, outgoing-body, response-outparam ---- */

static int resp_new(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi__fields *h = eos_wasi__res_take(ctx, args[0].of.handle, EOS_WASI__R_FIELDS);
    if (!h)
        return EOS_TRAP_HOST;
    eos_wasi__resp *r = eos_calloc(1, sizeof(*r));
    resp_ref *ref = eos_calloc(1, sizeof(*ref));
    if (!r || !ref) {
        eos_wasi__fields_free(h);
        eos_free(r, sizeof(*r));
        eos_free(ref, sizeof(*ref));
        return EOS_ENOMEM;
    }
    r->status = 200;
    r->headers = h;
    r->headers->immutable = true;
    r->refs = 1;
    ref->r = r;
    return eos_wasi__ret_handle(&results[0], eos_wasi__res_new(ctx, EOS_WASI__R_OUT_RESPONSE, ref));
}

/* The prologue of outgoing-response methods: r is the shared response. */
#define RESP_SELF(ctx, r)                                                                          \
    EOS_WASI__SELF(ctx, resp_ref, ref_, EOS_WASI__R_OUT_RESPONSE);                                 \
    eos_wasi__resp *r = ref_->r

static int resp_status(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    RESP_SELF(ctx, r);
    results[0].of.u = r->status;
    return 0;
}

static int resp_set_status(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    RESP_SELF(ctx, r);
    uint64_t s = args[1].of.u;
    bool ok = s >= 100 && s <= 999;
    if (ok)
        r->status = (uint16_t)s;
    eos_wasi__val_result(&results[0], !ok, NULL);
    return 0;
}

static int resp_headers(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    RESP_SELF(ctx, r);
    return return_fields_view(ctx, r->headers, &results[0]);
}

static int resp_body(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    RESP_SELF(ctx, r);
    if (r->body_taken)
        return taken(&results[0]);
    /* Not eos_wasi__res_new: freeing an outgoing-body ends the response. */
    resp_ref *ref = eos_calloc(1, sizeof(*ref));
    uint32_t rep = ref ? eos_wasi__res_add(ctx, EOS_WASI__R_OUT_BODY, ref) : 0;
    if (!rep) {
        eos_free(ref, sizeof(*ref));
        return EOS_ENOMEM;
    }
    ref->r = r;
    r->refs++;
    r->body_taken = true;
    return eos_wasi__ok_handle(ctx, &results[0], rep);
}

static int obody_write(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, resp_ref, ref, EOS_WASI__R_OUT_BODY);
    eos_wasi__resp *r = ref->r;
    /* One stream per body, as the WIT says. */
    if (r->stream_taken)
        return taken(&results[0]);
    eos_wasi__ostream t = {.space = body_space,
                           .write = body_write,
                           .flush = body_flush,
                           .release = body_release,
                           .impl = r};
    r->refs++; /* the stream's own, released with it (also on failure) */
    uint32_t rep = eos_wasi__ostream_new(ctx, &t);
    if (!rep)
        return EOS_ENOMEM;
    r->stream_taken = true;
    return eos_wasi__ok_handle(ctx, &results[0], rep);
}

static int obody_finish(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    resp_ref *ref = eos_wasi__res_take(ctx, args[0].of.handle, EOS_WASI__R_OUT_BODY);
    if (!ref)
        return EOS_TRAP_HOST;
    eos_wasi__resp *r = ref->r;
    eos_free(ref, sizeof(*ref));
    if (args[1].of.var.index == 1 && args[1].of.var.payload) {
        eos_wasi__fields *t =
            eos_wasi__res_take(ctx, args[1].of.var.payload->of.handle, EOS_WASI__R_FIELDS);
        if (t) {
            eos_wasi__fields_free(r->trailers);
            r->trailers = t;
        }
    }
    r->body_done = true;
    r->body_complete = true;
    eos_wasi__resp_maybe_end(ctx, r);
    eos_wasi__resp_release(ctx, r);
    return eos_wasi__ok(&results[0], NULL);
}

static int outparam_set(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    if (!eos_wasi__res_take(ctx, args[0].of.handle, EOS_WASI__R_OUTPARAM))
        return EOS_TRAP_HOST;
    ctx->outparam_set = true;
    const eos_cm_val *res = &args[1];
    if (res->of.var.index == 1) {
        uint32_t idx = res->of.var.payload ? res->of.var.payload->of.var.index : 38;
        ctx->outparam_err = EOS_EPROTO;
        snprintf(ctx->out->reason, sizeof(ctx->out->reason), "the app answered with error-code %s",
                 eos_wasi__error_code_name(idx));
        return 0;
    }
    resp_ref *ref = res->of.var.payload ? eos_wasi__res_take(ctx, res->of.var.payload->of.handle,
                                                             EOS_WASI__R_OUT_RESPONSE)
                                        : NULL;
    if (!ref)
        return eos_wasi__trap(ctx, "response-outparam.set was given no response");
    eos_wasi__resp *r = ref->r;
    eos_free(ref, sizeof(*ref));
    r->sent = true;
    size_t n = 0;
    eos_wasi_header *h = sink_headers(ctx, r->headers, &n);
    if (!h) {
        eos_wasi__resp_release(ctx, r);
        return EOS_ENOMEM;
    }
    ctx->out->head_sent = true;
    ctx->out->status = r->status;
    if (ctx->sink->head) {
        int rc = ctx->sink->head(ctx->sink->ud, r->status, h, n);
        if (rc)
            ctx->sink_err = rc;
    }
    if (r->pending_size) {
        sink_body(ctx, r->pending, r->pending_size);
        r->pending_size = 0;
    }
    if (!r->body_taken) {
        r->body_done = true;
        r->body_complete = true;
    }
    eos_wasi__resp_maybe_end(ctx, r);
    eos_wasi__resp_release(ctx, r);
    return 0;
}

/* ---- outgoing-request and request-options: built, never sent ---- */

static int oreq_new(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi__fields *h = eos_wasi__res_take(ctx, args[0].of.handle, EOS_WASI__R_FIELDS);
    out_request *o = eos_calloc(1, sizeof(*o));
    if (!o) {
        eos_wasi__fields_free(h);
        return EOS_ENOMEM;
    }
    o->headers = h;
    if (h)
        h->immutable = true;
    return eos_wasi__ret_handle(&results[0], eos_wasi__res_new(ctx, EOS_WASI__R_OUT_REQUEST, o));
}

/* Accessors of a request that can never be sent: getters give defaults,
 * setters accept, body and headers work so apps can build one. */
static int oreq_ok(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    return eos_wasi__ok(&results[0], NULL);
}

static int oreq_none(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi__val_option(&results[0], NULL);
    return 0;
}

static int oreq_method(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    return set_method(ctx, &results[0], "GET");
}

static int oreq_headers(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, out_request, o, EOS_WASI__R_OUT_REQUEST);
    return return_fields_view(ctx, o->headers, &results[0]);
}

static int oreq_body(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    /* Without egress the body goes nowhere; refusing it is the honest answer. */
    return eos_wasi__err(&results[0], NULL);
}

static int opts_new(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    return eos_wasi__ret_handle(&results[0], eos_wasi__res_new(ctx, EOS_WASI__R_REQ_OPTIONS,
                                                               eos_calloc(4, sizeof(uint64_t))));
}

static int never(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    /* Resources (incoming-response, future-incoming-response) that this host
     * never creates: a call can only come with a forged handle. */
    return EOS_TRAP_HOST;
}

static int http_error_code(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    results[0].of.var.index = 0;
    return 0;
}

static int outgoing_handle(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi__res_drop(ctx, args[0].of.handle);
    if (args[1].of.var.index == 1)
        eos_wasi__res_drop(ctx, args[1].of.var.payload->of.handle);
    /* Spin answers a request to a host not on the allow-list this way; here
     * no host is on it until egress exists. */
    return eos_wasi__err_case(ctx, &results[0], ERROR_CODE_HTTP_REQUEST_DENIED);
}

static const char http_types[] =
    "type duration = u64;\n"
    "resource input-stream;\nresource output-stream;\nresource error;\nresource pollable;\n"
    "variant method { get, head, post, put, delete, connect, options, trace, patch, "
    "other(string) }\n"
    "variant scheme { HTTP, HTTPS, other(string) }\n"
    "record DNS-error-payload { rcode: option<string>, info-code: option<u16> }\n"
    "record TLS-alert-received-payload { alert-id: option<u8>, alert-message: option<string> }\n"
    "record field-size-payload { field-name: option<string>, field-size: option<u32> }\n"
    "variant error-code { DNS-timeout, DNS-error(DNS-error-payload), destination-not-found, "
    "destination-unavailable, destination-IP-prohibited, destination-IP-unroutable, "
    "connection-refused, connection-terminated, connection-timeout, connection-read-timeout, "
    "connection-write-timeout, connection-limit-reached, TLS-protocol-error, "
    "TLS-certificate-error, TLS-alert-received(TLS-alert-received-payload), "
    "HTTP-request-denied, HTTP-request-length-required, HTTP-request-body-size(option<u64>), "
    "HTTP-request-method-invalid, HTTP-request-URI-invalid, HTTP-request-URI-too-long, "
    "HTTP-request-header-section-size(option<u32>), "
    "HTTP-request-header-size(option<field-size-payload>), "
    "HTTP-request-trailer-section-size(option<u32>), "
    "HTTP-request-trailer-size(field-size-payload), HTTP-response-incomplete, "
    "HTTP-response-header-section-size(option<u32>), "
    "HTTP-response-header-size(field-size-payload), HTTP-response-body-size(option<u64>), "
    "HTTP-response-trailer-section-size(option<u32>), "
    "HTTP-response-trailer-size(field-size-payload), "
    "HTTP-response-transfer-coding(option<string>), "
    "HTTP-response-content-coding(option<string>), HTTP-response-timeout, "
    "HTTP-upgrade-failed, HTTP-protocol-error, loop-detected, configuration-error, "
    "internal-error(option<string>) }\n"
    "variant header-error { invalid-syntax, forbidden, immutable }\n"
    "type field-key = string;\ntype field-name = field-key;\ntype field-value = list<u8>;\n"
    "resource fields;\ntype headers = fields;\ntype trailers = fields;\n"
    "resource incoming-request;\nresource outgoing-request;\nresource request-options;\n"
    "resource response-outparam;\ntype status-code = u16;\nresource incoming-response;\n"
    "resource incoming-body;\nresource future-trailers;\nresource outgoing-response;\n"
    "resource outgoing-body;\nresource future-incoming-response;\n";

#define B(r) "self: borrow<" r ">"
static const eos_cm_host_func http_funcs[] = {
    {"[method]incoming-request.method", "func(" B("incoming-request") ") -> method", req_method},
    {"[method]incoming-request.path-with-query",
     "func(" B("incoming-request") ") -> option<string>", req_path},
    {"[method]incoming-request.scheme", "func(" B("incoming-request") ") -> option<scheme>",
     req_scheme},
    {"[method]incoming-request.authority", "func(" B("incoming-request") ") -> option<string>",
     req_authority},
    {"[method]incoming-request.headers", "func(" B("incoming-request") ") -> headers", req_headers},
    {"[method]incoming-request.consume", "func(" B("incoming-request") ") -> result<incoming-body>",
     req_consume},
    {"[constructor]outgoing-request", "func(headers: headers) -> outgoing-request", oreq_new},
    {"[method]outgoing-request.body", "func(" B("outgoing-request") ") -> result<outgoing-body>",
     oreq_body},
    {"[method]outgoing-request.method", "func(" B("outgoing-request") ") -> method", oreq_method},
    {"[method]outgoing-request.set-method",
     "func(" B("outgoing-request") ", method: method) -> result", oreq_ok},
    {"[method]outgoing-request.path-with-query",
     "func(" B("outgoing-request") ") -> option<string>", oreq_none},
    {"[method]outgoing-request.set-path-with-query",
     "func(" B("outgoing-request") ", path-with-query: option<string>) -> result", oreq_ok},
    {"[method]outgoing-request.scheme", "func(" B("outgoing-request") ") -> option<scheme>",
     oreq_none},
    {"[method]outgoing-request.set-scheme",
     "func(" B("outgoing-request") ", scheme: option<scheme>) -> result", oreq_ok},
    {"[method]outgoing-request.authority", "func(" B("outgoing-request") ") -> option<string>",
     oreq_none},
    {"[method]outgoing-request.set-authority",
     "func(" B("outgoing-request") ", authority: option<string>) -> result", oreq_ok},
    {"[method]outgoing-request.headers", "func(" B("outgoing-request") ") -> headers",
     oreq_headers},
    {"[constructor]request-options", "func() -> request-options", opts_new},
    {"[method]request-options.connect-timeout",
     "func(" B("request-options") ") -> option<duration>", oreq_none},
    {"[method]request-options.set-connect-timeout",
     "func(" B("request-options") ", duration: option<duration>) -> result", oreq_ok},
    {"[method]request-options.first-byte-timeout",
     "func(" B("request-options") ") -> option<duration>", oreq_none},
    {"[method]request-options.set-first-byte-timeout",
     "func(" B("request-options") ", duration: option<duration>) -> result", oreq_ok},
    {"[method]request-options.between-bytes-timeout",
     "func(" B("request-options") ") -> option<duration>", oreq_none},
    {"[method]request-options.set-between-bytes-timeout",
     "func(" B("request-options") ", duration: option<duration>) -> result", oreq_ok},
    {"[static]response-outparam.set",
     "func(param: response-outparam, response: result<outgoing-response, error-code>)",
     outparam_set},
    {"[method]incoming-response.status", "func(" B("incoming-response") ") -> status-code", never},
    {"[method]incoming-response.headers", "func(" B("incoming-response") ") -> headers", never},
    {"[method]incoming-response.consume",
     "func(" B("incoming-response") ") -> result<incoming-body>", never},
    {"[method]incoming-body.stream", "func(" B("incoming-body") ") -> result<input-stream>",
     ibody_stream},
    {"[static]incoming-body.finish", "func(this: incoming-body) -> future-trailers", ibody_finish},
    {"[method]future-trailers.subscribe", "func(" B("future-trailers") ") -> pollable",
     ready_pollable},
    {"[method]future-trailers.get",
     "func(" B("future-trailers") ") -> option<result<result<option<trailers>, error-code>>>",
     trailers_get},
    {"[constructor]outgoing-response", "func(headers: headers) -> outgoing-response", resp_new},
    {"[method]outgoing-response.status-code", "func(" B("outgoing-response") ") -> status-code",
     resp_status},
    {"[method]outgoing-response.set-status-code",
     "func(" B("outgoing-response") ", status-code: status-code) -> result", resp_set_status},
    {"[method]outgoing-response.headers", "func(" B("outgoing-response") ") -> headers",
     resp_headers},
    {"[method]outgoing-response.body", "func(" B("outgoing-response") ") -> result<outgoing-body>",
     resp_body},
    {"[method]outgoing-body.write", "func(" B("outgoing-body") ") -> result<output-stream>",
     obody_write},
    {"[static]outgoing-body.finish",
     "func(this: outgoing-body, trailers: option<trailers>) -> result<_, error-code>",
     obody_finish},
    {"[method]future-incoming-response.subscribe",
     "func(" B("future-incoming-response") ") -> pollable", never},
    {"[method]future-incoming-response.get",
     "func(" B(
         "future-incoming-response") ") -> option<result<result<incoming-response, error-code>>>",
     never},
    {"http-error-code", "func(err: borrow<error>) -> option<error-code>", http_error_code},
};

static const eos_cm_host_func outgoing_funcs[] = {
    {"handle",
     "func(request: outgoing-request, options: option<request-options>) -> "
     "result<future-incoming-response, error-code>",
     outgoing_handle},
};
#undef B

const eos_wasi__iface eos_wasi__http_ifaces[] = {
    {.name = "wasi:http/types",
     .types = http_types,
     .funcs = http_funcs,
     .count = EOS_ARRAY_LEN(http_funcs),
     .funcs2 = eos_wasi__fields_funcs,
     .count2 = 9},
    EOS_WASI__IFACE("wasi:http/outgoing-handler", http_types, outgoing_funcs),
};
const size_t eos_wasi__http_iface_count = EOS_ARRAY_LEN(eos_wasi__http_ifaces);
