/* wasi:io error, poll and streams. Streams are generic objects with a small
 * vtable (request bodies, response bodies, files, stdio); this file holds
 * the semantics every stream shares: check-write budgets, flushes, splices,
 * `closed` versus `last-operation-failed`, and polling over clocks. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* Most bytes one read, skip or splice moves, so host memory stays bounded. */
#define IO_CHUNK EOS_WASI_BODY_CHUNK
/* The WIT caps blocking-write-and-flush at 4096 bytes; hosts trap beyond it. */
#define BLOCKING_WRITE_MAX 4096u

uint32_t eos_wasi__istream_new(eos_wasi__ctx *ctx, const eos_wasi__istream *tmpl)
{
    eos_wasi__istream *s = eos_malloc(sizeof(*s));
    if (!s) {
        if (tmpl->release)
            tmpl->release(ctx, tmpl->impl);
        return 0;
    }
    *s = *tmpl;
    return eos_wasi__res_new(ctx, EOS_WASI__R_INPUT, s);
}

uint32_t eos_wasi__ostream_new(eos_wasi__ctx *ctx, const eos_wasi__ostream *tmpl)
{
    eos_wasi__ostream *s = eos_malloc(sizeof(*s));
    if (!s) {
        if (tmpl->release)
            tmpl->release(ctx, tmpl->impl);
        return 0;
    }
    *s = *tmpl;
    return eos_wasi__res_new(ctx, EOS_WASI__R_OUTPUT, s);
}

void eos_wasi__istream_free(eos_wasi__ctx *ctx, eos_wasi__istream *s)
{
    if (s->release)
        s->release(ctx, s->impl);
    eos_free(s, sizeof(*s));
}

void eos_wasi__ostream_free(eos_wasi__ctx *ctx, eos_wasi__ostream *s)
{
    if (s->release)
        s->release(ctx, s->impl);
    eos_free(s, sizeof(*s));
}

/* Sets a result<_, stream-error> (or any result with a stream-error err) to
 * err: closed for EOS_ECLOSED, last-operation-failed(error) otherwise. */
static int stream_err(eos_wasi__ctx *ctx, eos_cm_val *res, int code)
{
    eos_cm_val *se = eos_wasi__val_new(ctx, 2);
    if (!se)
        return EOS_ENOMEM;
    if (code == EOS_ECLOSED) {
        se[0].of.var.index = 1;
        se[0].of.var.payload = NULL;
    } else {
        uint32_t rep = eos_wasi__ioerr_new(ctx, code, NULL);
        if (!rep)
            return EOS_ENOMEM;
        se[1].of.handle = rep;
        se[0].of.var.index = 0;
        se[0].of.var.payload = &se[1];
    }
    return eos_wasi__err(res, se);
}

static void sleep_until(uint64_t deadline)
{
    uint64_t now = eos_now_ns();
    if (deadline <= now)
        return;
    uint64_t d = deadline - now;
    struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- error ---- */

static int error_to_debug_string(eos_cm_call *call, void *ud, const eos_cm_val *args,
                                 eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi__ioerr *e = eos_wasi__res_get(ctx, args[0].of.handle, EOS_WASI__R_ERROR);
    const char *m = e ? e->msg : "unknown error";
    return eos_wasi__val_str(ctx, &results[0], m, strlen(m)) ? 0 : EOS_ENOMEM;
}

/* ---- poll ---- */

bool eos_wasi__pollable_ready(eos_wasi__ctx *ctx, const eos_wasi__pollable *p)
{
    if (p->kind == EOS_WASI__POLL_CLOCK)
        return eos_now_ns() >= p->deadline;
    if (p->kind == EOS_WASI__POLL_OUTPUT) {
        eos_wasi__ostream *s = eos_wasi__res_get(ctx, p->stream_rep, EOS_WASI__R_OUTPUT);
        uint64_t space = 0;
        if (!s || s->closed || s->failed)
            return true;
        if (s->space(ctx, s->impl, &space) != 0)
            return true;
        return space > 0;
    }
    return true;
}

/* Waits for one of count pollables; fills ready flags. Traps when none can
 * ever become ready, since nothing outside the call can wake a guest. */
static int wait_any(eos_wasi__ctx *ctx, eos_wasi__pollable **ps, size_t count, bool *ready,
                    size_t *out_n)
{
    for (;;) {
        size_t n = 0;
        uint64_t next = UINT64_MAX;
        for (size_t i = 0; i < count; i++) {
            ready[i] = eos_wasi__pollable_ready(ctx, ps[i]);
            if (ready[i])
                n++;
            else if (ps[i]->kind == EOS_WASI__POLL_CLOCK && ps[i]->deadline < next)
                next = ps[i]->deadline;
        }
        if (n) {
            *out_n = n;
            return 0;
        }
        if (next == UINT64_MAX)
            return eos_wasi__trap(ctx, "it polled for something that can never happen");
        sleep_until(next);
    }
}

static int poll_poll(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    size_t count = args[0].of.list.len;
    if (count == 0 || count > UINT32_MAX) /* the WIT says an empty list traps */
        return eos_wasi__trap(ctx, "poll was called with an empty list");
    eos_wasi__pollable **ps = eos_wasi__scratch_alloc(ctx, count * sizeof(*ps));
    bool *ready = eos_wasi__scratch_alloc(ctx, count);
    if (!ps || !ready)
        return EOS_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        EOS_WASI__ARG(ctx, eos_wasi__pollable, p, args[0].of.list.items[i], EOS_WASI__R_POLLABLE);
        ps[i] = p;
    }
    size_t n = 0;
    int rc = wait_any(ctx, ps, count, ready, &n);
    if (rc)
        return rc;
    eos_cm_val *items = eos_wasi__val_new(ctx, n);
    if (!items)
        return EOS_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < count; i++)
        if (ready[i])
            items[k++].of.u = i;
    results[0].of.list.items = items;
    results[0].of.list.len = n;
    return 0;
}

static int pollable_ready(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi__pollable *p = eos_wasi__res_get(ctx, args[0].of.handle, EOS_WASI__R_POLLABLE);
    results[0].of.b = p ? eos_wasi__pollable_ready(ctx, p) : true;
    return 0;
}

static int pollable_block(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi__pollable *p = eos_wasi__res_get(ctx, args[0].of.handle, EOS_WASI__R_POLLABLE);
    if (!p)
        return 0;
    bool ready = false;
    size_t n = 0;
    return wait_any(ctx, &p, 1, &ready, &n);
}

/* ---- input-stream ---- */

/* Reads up to len bytes (at most IO_CHUNK) into scratch. */
static int in_read_common(eos_wasi__ctx *ctx, eos_wasi__istream *s, uint64_t len, bool blocking,
                          uint8_t **out_buf, size_t *out_n)
{
    *out_n = 0;
    if (s->closed)
        return EOS_ECLOSED;
    size_t cap = len > IO_CHUNK ? IO_CHUNK : (size_t)len;
    /* One buffer per call context: read results only live until the next
     * host call, and a fresh allocation per read would churn the heap. */
    if (!ctx->iobuf && !(ctx->iobuf = eos_malloc(IO_CHUNK)))
        return EOS_ENOMEM;
    uint8_t *buf = ctx->iobuf;
    *out_buf = buf;
    if (cap == 0)
        return 0;
    for (int tries = 0;; tries++) {
        int rc = s->read(ctx, s->impl, buf, cap, out_n);
        if (rc == EOS_ECLOSED)
            s->closed = true;
        if (rc || *out_n || !blocking)
            return rc;
        /* Sources here are synchronous; a source with nothing now is waited
         * for briefly, then reported empty rather than spinning forever. */
        if (tries > 1000)
            return 0;
        sleep_until(eos_now_ns() + 1000000);
    }
}

static int in_read_impl(eos_cm_call *call, const eos_cm_val *args, eos_cm_val *results,
                        bool blocking)
{
    EOS_WASI__SELF(ctx, eos_wasi__istream, s, EOS_WASI__R_INPUT);
    uint8_t *buf = NULL;
    size_t n = 0;
    int rc = in_read_common(ctx, s, args[1].of.u, blocking, &buf, &n);
    if (rc == EOS_TRAP_HOST || rc == EOS_ENOMEM)
        return rc;
    if (rc)
        return stream_err(ctx, &results[0], rc);
    eos_cm_val *p = eos_wasi__val_new(ctx, 1);
    if (!p)
        return EOS_ENOMEM;
    p->of.list.bytes = buf; /* ctx->iobuf: no copy */
    p->of.list.len = n;
    return eos_wasi__ok(&results[0], p);
}

static int in_read(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    return in_read_impl(call, args, results, false);
}

static int in_blocking_read(eos_cm_call *call, void *ud, const eos_cm_val *args,
                            eos_cm_val *results)
{
    return in_read_impl(call, args, results, true);
}

static int in_skip_impl(eos_cm_call *call, const eos_cm_val *args, eos_cm_val *results,
                        bool blocking)
{
    EOS_WASI__SELF(ctx, eos_wasi__istream, s, EOS_WASI__R_INPUT);
    uint8_t *buf = NULL;
    size_t n = 0;
    int rc = in_read_common(ctx, s, args[1].of.u, blocking, &buf, &n);
    if (rc == EOS_TRAP_HOST || rc == EOS_ENOMEM)
        return rc;
    if (rc)
        return stream_err(ctx, &results[0], rc);
    return eos_wasi__ok_u64(ctx, &results[0], n);
}

static int in_skip(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    return in_skip_impl(call, args, results, false);
}

static int in_blocking_skip(eos_cm_call *call, void *ud, const eos_cm_val *args,
                            eos_cm_val *results)
{
    return in_skip_impl(call, args, results, true);
}

static int in_subscribe(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    /* Input sources are synchronous: a read never has to wait for readiness. */
    return eos_wasi__ret_handle(&results[0],
                                eos_wasi__pollable_new(ctx, EOS_WASI__POLL_READY, 0, 0));
}

/* ---- output-stream ---- */

/* The state check shared by every output operation. */
static int out_state(eos_wasi__ostream *s)
{
    if (s->closed)
        return EOS_ECLOSED;
    if (s->failed)
        return EOS_EIO;
    return 0;
}

static int out_fail(eos_wasi__ostream *s, int rc)
{
    if (rc == EOS_ECLOSED)
        s->closed = true;
    else
        s->failed = true;
    return rc;
}

static int out_check_write(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__SELF(ctx, eos_wasi__ostream, s, EOS_WASI__R_OUTPUT);
    int rc = out_state(s);
    uint64_t space = 0;
    if (!rc)
        rc = s->space(ctx, s->impl, &space);
    if (rc)
        return stream_err(ctx, &results[0], out_fail(s, rc));
    s->permit = space;
    return eos_wasi__ok_u64(ctx, &results[0], space);
}

/* Writes data (or zeroes when data is NULL) within the permit. */
static int out_write_bytes(eos_wasi__ctx *ctx, eos_wasi__ostream *s, const uint8_t *data,
                           uint64_t size)
{
    static const uint8_t zeroes[4096];
    while (size > 0) {
        size_t n = size > sizeof(zeroes) && !data ? sizeof(zeroes) : (size_t)size;
        int rc = s->write(ctx, s->impl, data ? data : zeroes, n);
        if (rc)
            return out_fail(s, rc);
        if (data)
            data += n;
        size -= n;
    }
    return 0;
}

static int out_write_impl(eos_cm_call *call, const eos_cm_val *args, eos_cm_val *results, bool zero)
{
    EOS_WASI__SELF(ctx, eos_wasi__ostream, s, EOS_WASI__R_OUTPUT);
    uint64_t size = zero ? args[1].of.u : args[1].of.list.len;
    int rc = out_state(s);
    if (rc)
        return stream_err(ctx, &results[0], rc);
    if (size > s->permit) /* writing past check-write's budget is a guest bug */
        return eos_wasi__trap(ctx, "it wrote more than check-write allowed");
    s->permit -= size;
    rc = out_write_bytes(ctx, s, zero ? NULL : args[1].of.list.bytes, size);
    if (rc)
        return stream_err(ctx, &results[0], rc);
    return eos_wasi__ok(&results[0], NULL);
}

static int out_write(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    return out_write_impl(call, args, results, false);
}

static int out_write_zeroes(eos_cm_call *call, void *ud, const eos_cm_val *args,
                            eos_cm_val *results)
{
    return out_write_impl(call, args, results, true);
}

/* Waits until the stream has room (flushing it); 0 with *out_space > 0. */
static int out_wait_space(eos_wasi__ctx *ctx, eos_wasi__ostream *s, uint64_t *out_space)
{
    int rc = s->space(ctx, s->impl, out_space);
    if (rc || *out_space)
        return rc;
    rc = s->flush(ctx, s->impl, true);
    if (rc)
        return rc;
    rc = s->space(ctx, s->impl, out_space);
    if (!rc && *out_space == 0) /* nothing can drain it: the call would hang */
        return eos_wasi__trap(ctx, "it blocked on a response body that cannot drain before "
                                   "response-outparam.set");
    return rc;
}

static int out_blocking_impl(eos_cm_call *call, const eos_cm_val *args, eos_cm_val *results,
                             bool zero)
{
    EOS_WASI__SELF(ctx, eos_wasi__ostream, s, EOS_WASI__R_OUTPUT);
    uint64_t size = zero ? args[1].of.u : args[1].of.list.len;
    const uint8_t *data = zero ? NULL : args[1].of.list.bytes;
    if (size > BLOCKING_WRITE_MAX)
        return eos_wasi__trap(ctx, "blocking-write-and-flush was given more than 4096 bytes");
    int rc = out_state(s);
    while (!rc && size > 0) {
        uint64_t space = 0;
        rc = out_wait_space(ctx, s, &space);
        if (rc == EOS_TRAP_HOST)
            return rc;
        if (rc)
            break;
        uint64_t n = space < size ? space : size;
        rc = out_write_bytes(ctx, s, data, n);
        if (data)
            data += n;
        size -= n;
    }
    if (!rc)
        rc = s->flush(ctx, s->impl, true);
    if (rc)
        return stream_err(ctx, &results[0], out_fail(s, rc));
    return eos_wasi__ok(&results[0], NULL);
}

static int out_blocking_write(eos_cm_call *call, void *ud, const eos_cm_val *args,
                              eos_cm_val *results)
{
    return out_blocking_impl(call, args, results, false);
}

static int out_blocking_zeroes(eos_cm_call *call, void *ud, const eos_cm_val *args,
                               eos_cm_val *results)
{
    return out_blocking_impl(call, args, results, true);
}

static int out_flush_impl(eos_cm_call *call, const eos_cm_val *args, eos_cm_val *results,
                          bool blocking)
{
    EOS_WASI__SELF(ctx, eos_wasi__ostream, s, EOS_WASI__R_OUTPUT);
    int rc = out_state(s);
    if (!rc)
        rc = s->flush(ctx, s->impl, blocking);
    if (rc)
        return stream_err(ctx, &results[0], out_fail(s, rc));
    return eos_wasi__ok(&results[0], NULL);
}

static int out_flush(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    return out_flush_impl(call, args, results, false);
}

static int out_blocking_flush(eos_cm_call *call, void *ud, const eos_cm_val *args,
                              eos_cm_val *results)
{
    return out_flush_impl(call, args, results, true);
}

static int out_subscribe(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    EOS_WASI__ENTER(ctx, call);
    return eos_wasi__ret_handle(
        &results[0], eos_wasi__pollable_new(ctx, EOS_WASI__POLL_OUTPUT, 0, args[0].of.handle));
}

/* splice: moves up to len bytes from src, bounded by the sink's room. A
 * source at its end reports closed, as the WIT asks. */
static int out_splice_impl(eos_cm_call *call, const eos_cm_val *args, eos_cm_val *results,
                           bool blocking)
{
    EOS_WASI__SELF(ctx, eos_wasi__ostream, s, EOS_WASI__R_OUTPUT);
    EOS_WASI__ARG(ctx, eos_wasi__istream, src, args[1], EOS_WASI__R_INPUT);
    uint64_t len = args[2].of.u;
    int rc = out_state(s);
    uint64_t space = 0;
    if (!rc)
        rc = blocking ? out_wait_space(ctx, s, &space) : s->space(ctx, s->impl, &space);
    if (rc == EOS_TRAP_HOST)
        return rc;
    if (rc)
        return stream_err(ctx, &results[0], out_fail(s, rc));
    if (len > space)
        len = space;
    uint8_t *buf = NULL;
    size_t n = 0;
    rc = in_read_common(ctx, src, len, blocking, &buf, &n);
    if (rc == EOS_TRAP_HOST || rc == EOS_ENOMEM)
        return rc;
    if (rc)
        return stream_err(ctx, &results[0], rc);
    if (n) {
        rc = out_write_bytes(ctx, s, buf, n);
        if (!rc && blocking)
            rc = s->flush(ctx, s->impl, true);
        if (rc)
            return stream_err(ctx, &results[0], rc);
    }
    s->permit = s->permit > n ? s->permit - n : 0;
    return eos_wasi__ok_u64(ctx, &results[0], n);
}

static int out_splice(eos_cm_call *call, void *ud, const eos_cm_val *args, eos_cm_val *results)
{
    return out_splice_impl(call, args, results, false);
}

static int out_blocking_splice(eos_cm_call *call, void *ud, const eos_cm_val *args,
                               eos_cm_val *results)
{
    return out_splice_impl(call, args, results, true);
}

static const char io_error_types[] = "resource error;";
static const char io_poll_types[] = "resource pollable;";
static const char io_streams_types[] =
    "resource error;\n"
    "resource pollable;\n"
    "variant stream-error { last-operation-failed(error), closed }\n"
    "resource input-stream;\n"
    "resource output-stream;\n";

static const eos_cm_host_func io_error_funcs[] = {
    {"[method]error.to-debug-string", "func(self: borrow<error>) -> string", error_to_debug_string},
};

static const eos_cm_host_func io_poll_funcs[] = {
    {"[method]pollable.ready", "func(self: borrow<pollable>) -> bool", pollable_ready},
    {"[method]pollable.block", "func(self: borrow<pollable>)", pollable_block},
    {"poll", "func(in: list<borrow<pollable>>) -> list<u32>", poll_poll},
};

#define IN  "self: borrow<input-stream>"
#define OUT "self: borrow<output-stream>"
static const eos_cm_host_func io_streams_funcs[] = {
    {"[method]input-stream.read", "func(" IN ", len: u64) -> result<list<u8>, stream-error>",
     in_read},
    {"[method]input-stream.blocking-read",
     "func(" IN ", len: u64) -> result<list<u8>, stream-error>", in_blocking_read},
    {"[method]input-stream.skip", "func(" IN ", len: u64) -> result<u64, stream-error>", in_skip},
    {"[method]input-stream.blocking-skip", "func(" IN ", len: u64) -> result<u64, stream-error>",
     in_blocking_skip},
    {"[method]input-stream.subscribe", "func(" IN ") -> pollable", in_subscribe},
    {"[method]output-stream.check-write", "func(" OUT ") -> result<u64, stream-error>",
     out_check_write},
    {"[method]output-stream.write", "func(" OUT ", contents: list<u8>) -> result<_, stream-error>",
     out_write},
    {"[method]output-stream.blocking-write-and-flush",
     "func(" OUT ", contents: list<u8>) -> result<_, stream-error>", out_blocking_write},
    {"[method]output-stream.flush", "func(" OUT ") -> result<_, stream-error>", out_flush},
    {"[method]output-stream.blocking-flush", "func(" OUT ") -> result<_, stream-error>",
     out_blocking_flush},
    {"[method]output-stream.subscribe", "func(" OUT ") -> pollable", out_subscribe},
    {"[method]output-stream.write-zeroes", "func(" OUT ", len: u64) -> result<_, stream-error>",
     out_write_zeroes},
    {"[method]output-stream.blocking-write-zeroes-and-flush",
     "func(" OUT ", len: u64) -> result<_, stream-error>", out_blocking_zeroes},
    {"[method]output-stream.splice",
     "func(" OUT ", src: borrow<input-stream>, len: u64) -> result<u64, stream-error>", out_splice},
    {"[method]output-stream.blocking-splice",
     "func(" OUT ", src: borrow<input-stream>, len: u64) -> result<u64, stream-error>",
     out_blocking_splice},
};
#undef IN
#undef OUT

const eos_wasi__iface eos_wasi__io_ifaces[] = {
    EOS_WASI__IFACE("wasi:io/error", io_error_types, io_error_funcs),
    EOS_WASI__IFACE("wasi:io/poll", io_poll_types, io_poll_funcs),
    EOS_WASI__IFACE("wasi:io/streams", io_streams_types, io_streams_funcs),
};
const size_t eos_wasi__io_iface_count = EOS_ARRAY_LEN(eos_wasi__io_ifaces);
