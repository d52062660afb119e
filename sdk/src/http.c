/* The HTTP side of the SDK: the incoming-handler dispatcher, request accessors,
 * body reading, and responses in one piece or streamed, over wasi:http/types and
 * wasi:io/streams. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

struct eos_request {
    eos__handle handle;
    eos__in_body in;
    char *method;
    char *authority;
    char *path_with_query;
    char *path; /* path_with_query up to '?' */
    const char *query;
    eos__header *headers;
    size_t header_count;
    bool headers_read;
};

enum { OUT_IDLE, OUT_STARTED, OUT_FINISHED, OUT_FAILED };

struct eos_response_out {
    eos__handle param;
    eos__handle fields; /* -1 until the first header */
    eos__handle body;
    eos__handle stream;
    int state;
};

static const char *const method_names[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                           "CONNECT", "OPTIONS", "TRACE", "PATCH"};

const char *eos_request_method(eos_request *req)
{
    if (!req->method) {
        _Alignas(4) uint8_t ret[12];
        eos__req_method(req->handle, ret);
        if (ret[0] < sizeof method_names / sizeof method_names[0])
            return method_names[ret[0]];
        req->method = eos__take_string(eos__list(ret + 4));
        if (!req->method)
            return "";
    }
    return req->method;
}

/* Reads path-with-query once and splits it; "/" when the host gives none. */
static void load_path(eos_request *req)
{
    if (req->path)
        return;
    _Alignas(4) uint8_t ret[12];
    eos__req_path_with_query(req->handle, ret);
    req->path_with_query = ret[0] ? eos__take_string(eos__list(ret + 4)) : strdup("/");
    if (!req->path_with_query)
        return;
    size_t n = strcspn(req->path_with_query, "?");
    req->path = strndup(req->path_with_query, n);
    req->query = req->path_with_query + n + (req->path_with_query[n] == '?');
}

const char *eos_request_path(eos_request *req)
{
    load_path(req);
    return req->path ? req->path : "/";
}

const char *eos_request_query(eos_request *req)
{
    load_path(req);
    return req->query ? req->query : "";
}

const char *eos_request_path_with_query(eos_request *req)
{
    load_path(req);
    return req->path_with_query ? req->path_with_query : "/";
}

const char *eos_request_authority(eos_request *req)
{
    if (!req->authority) {
        _Alignas(4) uint8_t ret[12];
        eos__req_authority(req->handle, ret);
        req->authority = ret[0] ? eos__take_string(eos__list(ret + 4)) : strdup("");
    }
    return req->authority ? req->authority : "";
}

/* The host's list (16-byte entries: name ptr/len, value ptr/len) is released as
 * it is copied; a line that cannot be copied is left out. */
size_t eos__headers_copy(eos__handle fields, eos__header **out)
{
    _Alignas(4) uint8_t ret[8];
    size_t count = 0;
    eos__fields_entries(fields, ret);
    eos__bytes list = eos__list(ret);
    eos__header *hs = list.len ? calloc(list.len, sizeof(eos__header)) : NULL;
    for (size_t i = 0; i < list.len; i++) {
        const uint8_t *e = list.ptr + 16 * i;
        eos__bytes name = eos__list(e), value = eos__list(e + 8);
        if (!hs) {
            eos__release(name.ptr, name.len);
            eos__release(value.ptr, value.len);
            continue;
        }
        eos__header *h = &hs[count];
        h->size = value.len;
        h->name = eos__take_string(name);
        h->value = eos__take_string(value);
        if (h->name && h->value) {
            for (char *c = h->name; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                    *c = (char)(*c - 'A' + 'a');
            count++;
        } else {
            free(h->name);
            free(h->value);
        }
    }
    eos__release(list.ptr, list.len);
    if (!count) {
        free(hs);
        hs = NULL;
    }
    *out = hs;
    return count;
}

void eos__headers_free(eos__header *h, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
}

const eos__header *eos__headers_find(const eos__header *h, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcasecmp(h[i].name, name) == 0)
            return &h[i];
    return NULL;
}

/* Copies the request's header lines once. */
static void load_headers(eos_request *req)
{
    if (req->headers_read)
        return;
    req->headers_read = true;
    eos__handle fields = eos__req_headers(req->handle);
    req->header_count = eos__headers_copy(fields, &req->headers);
    eos__fields_drop(fields);
}

const char *eos_request_header(eos_request *req, const char *name, size_t *out_size)
{
    load_headers(req);
    const eos__header *h = eos__headers_find(req->headers, req->header_count, name);
    if (h && out_size)
        *out_size = h->size;
    return h ? h->value : NULL;
}

size_t eos_request_header_count(eos_request *req)
{
    load_headers(req);
    return req->header_count;
}

int eos_request_header_at(eos_request *req, size_t i, const char **out_name, const char **out_value,
                          size_t *out_value_size)
{
    load_headers(req);
    if (i >= req->header_count)
        return EOS_APP_EINVAL;
    *out_name = req->headers[i].name;
    *out_value = req->headers[i].value;
    if (out_value_size)
        *out_value_size = req->headers[i].size;
    return EOS_APP_OK;
}

int eos__in_body_read(eos__in_body *ib, void (*consume)(eos__handle owner, void *ret),
                      eos__handle owner, void *buf, size_t cap, size_t *out_size,
                      int (*on_error)(void *ctx, const uint8_t *p), void *ctx)
{
    _Alignas(4) uint8_t ret[12];
    *out_size = 0;
    if (ib->stream < 0 && !ib->done) {
        consume(owner, ret);
        if (ret[0] != 0)
            return EOS_APP_ESTATE;
        ib->body = (eos__handle)eos__u32(ret + 4);
        eos__in_body_stream(ib->body, ret);
        if (ret[0] != 0)
            return EOS_APP_ESTATE;
        ib->stream = (eos__handle)eos__u32(ret + 4);
    }
    while (!ib->done) {
        eos__land_in(buf, cap);
        eos__in_blocking_read(ib->stream, (int64_t)cap, ret);
        eos__land_in(NULL, 0);
        if (ret[0] != 0) {
            ib->done = true;
            int err = on_error ? on_error(ctx, ret + 4) : eos__stream_error(ret + 4);
            return err == EOS_APP_ECLOSED ? EOS_APP_OK : err;
        }
        eos__bytes chunk = eos__list(ret + 4);
        size_t n = chunk.len < cap ? chunk.len : cap;
        if (chunk.ptr != buf) {
            memcpy(buf, chunk.ptr, n);
            eos__release(chunk.ptr, chunk.len);
        }
        if (n) {
            *out_size = n;
            return EOS_APP_OK;
        }
    }
    return EOS_APP_OK;
}

void eos__in_body_close(eos__in_body *ib)
{
    if (ib->stream >= 0)
        eos__in_drop(ib->stream);
    if (ib->body >= 0)
        eos__future_trailers_drop(eos__in_body_finish(ib->body));
    ib->stream = ib->body = -1;
}

int eos_request_read(eos_request *req, void *buf, size_t cap, size_t *out_size)
{
    *out_size = 0;
    if (cap == 0)
        return EOS_APP_EINVAL;
    return eos__in_body_read(&req->in, eos__req_consume, req->handle, buf, cap, out_size, NULL,
                             NULL);
}

int eos__read_all(int (*read_chunk)(void *src, void *buf, size_t cap, size_t *n), void *src,
                 size_t max_size, void **out_body, size_t *out_size)
{
    size_t cap = 4096, size = 0, n;
    char *buf = malloc(cap + 1);
    int err = EOS_APP_OK;
    *out_body = NULL;
    *out_size = 0;
    if (!buf)
        return EOS_APP_ENOMEM;
    for (;;) {
        if (size == cap) {
            char *bigger = realloc(buf, 2 * cap + 1);
            if (!bigger) {
                err = EOS_APP_ENOMEM;
                goto out;
            }
            buf = bigger;
            cap *= 2;
        }
        err = read_chunk(src, buf + size, cap - size, &n);
        if (err || n == 0)
            break;
        size += n;
        if (size > max_size) {
            err = EOS_APP_ETOOBIG;
            goto out;
        }
    }
out:
    if (err) {
        free(buf);
        return err;
    }
    buf[size] = '\0';
    *out_body = buf;
    *out_size = size;
    return EOS_APP_OK;
}

static int read_request(void *req, void *buf, size_t cap, size_t *n)
{
    return eos_request_read(req, buf, cap, n);
}

int eos_request_read_all(eos_request *req, size_t max_size, void **out_body, size_t *out_size)
{
    return eos__read_all(read_request, req, max_size, out_body, out_size);
}

int eos_response_header(eos_response_out *out, const char *name, const char *value)
{
    if (out->state != OUT_IDLE)
        return EOS_APP_ESTATE;
    if (out->fields < 0)
        out->fields = eos__fields_new();
    _Alignas(4) uint8_t ret[4];
    eos__fields_append(out->fields, name, strlen(name), value, strlen(value), ret);
    return ret[0] ? EOS_APP_EINVAL : EOS_APP_OK;
}

int eos_response_start(eos_response_out *out, int status)
{
    if (out->state != OUT_IDLE)
        return EOS_APP_ESTATE;
    eos__handle fields = out->fields >= 0 ? out->fields : eos__fields_new();
    out->fields = -1;
    eos__handle resp = eos__resp_new(fields);
    if (eos__resp_set_status(resp, status) != 0) {
        /* Keep the response usable: the dispatcher still owes the client an answer. */
        eos__resp_drop(resp);
        return EOS_APP_EINVAL;
    }
    _Alignas(4) uint8_t ret[8];
    eos__resp_body(resp, ret);
    if (ret[0] != 0)
        goto fail;
    out->body = (eos__handle)eos__u32(ret + 4);
    eos__out_body_write(out->body, ret);
    if (ret[0] != 0)
        goto fail;
    out->stream = (eos__handle)eos__u32(ret + 4);
    eos__outparam_set(out->param, 0, resp, 0, 0, 0, 0, 0, 0);
    out->state = OUT_STARTED;
    return EOS_APP_OK;
fail:
    eos__resp_drop(resp);
    out->state = OUT_FAILED;
    return EOS_APP_EHOST;
}

/* Writes all of data the way wasi:io asks: check how much the stream accepts now,
 * write that much, and wait on the stream's pollable when it accepts nothing. */
int eos__write_all(eos__handle stream, const uint8_t *data, size_t size)
{
    while (size > 0) {
        _Alignas(8) uint8_t ret[16];
        eos__out_check_write(stream, ret);
        if (ret[0] != 0)
            return eos__stream_error(ret + 8);
        uint64_t permit = eos__u64(ret + 8);
        if (permit == 0) {
            eos__out_blocking_flush(stream, ret);
            if (ret[0] != 0)
                return eos__stream_error(ret + 4);
            continue;
        }
        size_t n = permit < size ? (size_t)permit : size;
        eos__out_write(stream, data, n, ret);
        if (ret[0] != 0)
            return eos__stream_error(ret + 4);
        data += n;
        size -= n;
    }
    return EOS_APP_OK;
}

int eos__out_body_end(eos__handle stream, eos__handle body, uint8_t *ret)
{
    int err = EOS_APP_OK;
    eos__out_blocking_flush(stream, ret);
    if (ret[0] != 0)
        err = eos__stream_error(ret + 4);
    eos__out_drop(stream);
    eos__out_body_finish(body, 0, 0, ret);
    return err;
}

/* Writing or finishing a response not started yet starts it with 200. */
static int started(eos_response_out *out)
{
    if (out->state == OUT_IDLE) {
        int err = eos_response_start(out, 200);
        if (err)
            return err;
    }
    return out->state == OUT_STARTED ? EOS_APP_OK : EOS_APP_ESTATE;
}

int eos_response_write(eos_response_out *out, const void *data, size_t size)
{
    int err = started(out);
    return err ? err : eos__write_all(out->stream, data, size);
}

int eos_response_finish(eos_response_out *out)
{
    int err = started(out);
    if (err)
        return err;
    _Alignas(8) uint8_t ret[40];
    err = eos__out_body_end(out->stream, out->body, ret);
    out->state = OUT_FINISHED;
    if (!err && ret[0] != 0)
        err = EOS_APP_EHOST;
    return err;
}

int eos_respond(eos_response_out *out, int status, const char *content_type, const void *body,
                size_t size)
{
    int err = EOS_APP_OK;
    if (content_type)
        err = eos_response_header(out, "content-type", content_type);
    if (!err)
        err = eos_response_start(out, status);
    if (!err && size)
        err = eos_response_write(out, body, size);
    if (out->state == OUT_STARTED) {
        int ferr = eos_response_finish(out);
        if (!err)
            err = ferr;
    }
    return err;
}

int eos_respond_text(eos_response_out *out, int status, const char *text)
{
    return eos_respond(out, status, "text/plain; charset=utf-8", text, strlen(text));
}

static void request_release(eos_request *req)
{
    eos__in_body_close(&req->in);
    eos__req_drop(req->handle);
    eos__headers_free(req->headers, req->header_count);
    free(req->method);
    free(req->authority);
    free(req->path_with_query);
    free(req->path);
}

void eos_http_dispatch(int32_t request, int32_t outparam, eos_http_handler_fn fn)
{
    eos_request req = {.handle = request, .in = EOS__IN_BODY_INIT};
    eos_response_out out = {.param = outparam, .fields = -1, .body = -1, .stream = -1};
    fn(&req, &out);
    if (out.state == OUT_STARTED) {
        eos_response_finish(&out);
    } else if (out.state != OUT_FINISHED) {
        /* The handler gave no answer (or a status the host refused): the client still
         * gets one, and the app's log says why. */
        if (out.fields >= 0) {
            eos__fields_drop(out.fields);
            out.fields = -1;
        }
        out.state = OUT_IDLE;
        eos_respond_text(&out, 500, "the app's handler returned without a response\n");
    }
    request_release(&req);
}
