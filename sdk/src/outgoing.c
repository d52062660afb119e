/* Outgoing HTTP calls over wasi:http/outgoing-handler: a call is built from a
 * method and URL, sent with an optional streamed body, and its response read in
 * chunks. Failures carry the host's error-code case, also for a body that breaks
 * off (through http-error-code on the stream's error). */
#include <string.h>
#include <strings.h>

#include "internal.h"

enum { ST_BUILD, ST_SENT, ST_RESPONDED, ST_FAILED };

struct eos_outgoing {
    int state;
    int err; /* EOS_HTTP_ERR_* */
    /* the request as given */
    char *method;
    int scheme; /* 0 http, 1 https */
    char *authority;
    char *path;
    eos__handle fields; /* until sent */
    uint32_t timeout_ms[3];
    /* in flight */
    eos__handle body, stream, future; /* -1 when none */
    /* the response */
    int status;
    eos__handle resp;
    eos__in_body rbody;
    eos__header *headers;
    size_t header_count;
};

static const char *const error_names[] = {
#define EOS_HTTP__NAME(name, text) text,
    EOS_HTTP_ERRORS(EOS_HTTP__NAME)
#undef EOS_HTTP__NAME
};

const char *eos_http_error_name(int code)
{
    if (code < 0 || (size_t)code >= sizeof error_names / sizeof error_names[0])
        return "none";
    return error_names[code];
}

/* Frees a canonical option<string> (tag at p, string at p + 4). */
static void free_opt_string(const uint8_t *p)
{
    if (p[0]) {
        eos__bytes s = eos__list(p + 4);
        eos__release(s.ptr, s.len);
    }
}

/* Takes the case of an error-code (case byte at ec, payload at ec + 8) and frees
 * the strings some cases carry (the host allocated them through cabi_realloc). */
static int take_error_code(const uint8_t *ec)
{
    const uint8_t *p = ec + 8;
    switch (ec[0]) {
    case EOS_HTTP_ERR_DNS_ERROR:                /* rcode: option<string> first */
    case EOS_HTTP_ERR_REQUEST_TRAILER_SIZE:     /* field-size-payload: name first */
    case EOS_HTTP_ERR_RESPONSE_HEADER_SIZE:
    case EOS_HTTP_ERR_RESPONSE_TRAILER_SIZE:
    case EOS_HTTP_ERR_RESPONSE_TRANSFER_CODING: /* option<string> */
    case EOS_HTTP_ERR_RESPONSE_CONTENT_CODING:
    case EOS_HTTP_ERR_INTERNAL_ERROR:
        free_opt_string(p);
        break;
    case EOS_HTTP_ERR_TLS_ALERT_RECEIVED: /* option<u8>, then option<string> @4 */
        free_opt_string(p + 4);
        break;
    case EOS_HTTP_ERR_REQUEST_HEADER_SIZE: /* option<field-size-payload> */
        if (p[0])
            free_opt_string(p + 4);
        break;
    default:
        break;
    }
    return ec[0] <= EOS_HTTP_ERR_INTERNAL_ERROR ? ec[0] : EOS_HTTP_ERR_INTERNAL_ERROR;
}

static int fail(eos_outgoing *c, int code)
{
    if (c->err == EOS_HTTP_ERR_NONE)
        c->err = code;
    c->state = ST_FAILED;
    return EOS_APP_EHTTP;
}

/* A stream error (tag at p, error handle at p + 4): the http error-code behind it
 * when the host has one (the call failed), otherwise as eos__stream_error. */
static int stream_failed(void *call, const uint8_t *p)
{
    eos_outgoing *c = call;
    if (p[0] == 0) {
        eos__handle e = (eos__handle)eos__u32(p + 4);
        _Alignas(8) uint8_t ret[40];
        eos__http_error_code(e, ret);
        if (ret[0]) {
            eos__io_error_drop(e);
            return fail(c, take_error_code(ret + 8));
        }
    }
    return eos__stream_error(p);
}

static const char *const methods[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                      "CONNECT", "OPTIONS", "TRACE", "PATCH"};

int eos_outgoing_new(const char *method, const char *url, eos_outgoing **out)
{
    *out = NULL;
    int scheme;
    const char *rest;
    if (strncasecmp(url, "https://", 8) == 0) {
        scheme = 1;
        rest = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        scheme = 0;
        rest = url + 7;
    } else {
        return EOS_APP_EINVAL;
    }
    size_t alen = strcspn(rest, "/?#");
    if (alen == 0 || !method || !*method)
        return EOS_APP_EINVAL;
    const char *path = rest + alen;
    size_t plen = strcspn(path, "#");
    eos_outgoing *c = calloc(1, sizeof(*c));
    if (!c)
        return EOS_APP_ENOMEM;
    c->err = EOS_HTTP_ERR_NONE;
    c->scheme = scheme;
    c->body = c->stream = c->future = c->resp = -1;
    c->rbody = (eos__in_body)EOS__IN_BODY_INIT;
    c->fields = -1;
    c->method = strdup(method);
    c->authority = strndup(rest, alen);
    c->path = malloc(plen + 2);
    if (!c->method || !c->authority || !c->path) {
        eos_outgoing_free(c);
        return EOS_APP_ENOMEM;
    }
    /* "?q" alone is the root's query */
    size_t o = 0;
    if (plen == 0 || path[0] == '?')
        c->path[o++] = '/';
    memcpy(c->path + o, path, plen);
    c->path[o + plen] = '\0';
    c->fields = eos__fields_new();
    *out = c;
    return EOS_APP_OK;
}

int eos_outgoing_header(eos_outgoing *c, const char *name, const char *value)
{
    if (c->state != ST_BUILD)
        return EOS_APP_ESTATE;
    _Alignas(4) uint8_t ret[4];
    eos__fields_append(c->fields, name, strlen(name), value, strlen(value), ret);
    return ret[0] ? EOS_APP_EINVAL : EOS_APP_OK;
}

int eos_outgoing_timeouts(eos_outgoing *c, uint32_t connect_ms, uint32_t first_byte_ms,
                          uint32_t between_bytes_ms)
{
    if (c->state != ST_BUILD)
        return EOS_APP_ESTATE;
    c->timeout_ms[0] = connect_ms;
    c->timeout_ms[1] = first_byte_ms;
    c->timeout_ms[2] = between_bytes_ms;
    return EOS_APP_OK;
}

/* The request-options resource for the timeouts given, or -1 for the defaults. */
static eos__handle make_options(const eos_outgoing *c)
{
    if (!c->timeout_ms[0] && !c->timeout_ms[1] && !c->timeout_ms[2])
        return -1;
    eos__handle o = eos__opts_new();
    if (c->timeout_ms[0])
        eos__opts_set_connect(o, 1, (int64_t)c->timeout_ms[0] * 1000000);
    if (c->timeout_ms[1])
        eos__opts_set_first_byte(o, 1, (int64_t)c->timeout_ms[1] * 1000000);
    if (c->timeout_ms[2])
        eos__opts_set_between(o, 1, (int64_t)c->timeout_ms[2] * 1000000);
    return o;
}

int eos_outgoing_send(eos_outgoing *c, bool has_body)
{
    if (c->state != ST_BUILD)
        return EOS_APP_ESTATE;
    eos__handle req = eos__oreq_new(c->fields);
    c->fields = -1;
    int tag = 9;
    for (int i = 0; i < 9; i++)
        if (strcmp(c->method, methods[i]) == 0)
            tag = i;
    if (eos__oreq_set_method(req, tag, c->method, tag == 9 ? strlen(c->method) : 0) ||
        eos__oreq_set_scheme(req, 1, c->scheme, NULL, 0) ||
        eos__oreq_set_authority(req, 1, c->authority, strlen(c->authority)) ||
        eos__oreq_set_path(req, 1, c->path, strlen(c->path))) {
        eos__oreq_drop(req);
        c->state = ST_FAILED;
        return EOS_APP_EINVAL;
    }
    _Alignas(8) uint8_t ret[40];
    if (has_body) {
        eos__oreq_body(req, ret);
        if (ret[0] == 0) {
            c->body = (eos__handle)eos__u32(ret + 4);
            eos__out_body_write(c->body, ret);
            if (ret[0] == 0)
                c->stream = (eos__handle)eos__u32(ret + 4);
        }
        if (c->stream < 0) {
            if (c->body >= 0)
                eos__out_body_drop(c->body);
            c->body = -1;
            eos__oreq_drop(req);
            c->state = ST_FAILED;
            return EOS_APP_EHOST;
        }
    }
    eos__handle opts = make_options(c);
    eos__outgoing_handle(req, opts >= 0, opts >= 0 ? opts : 0, ret);
    if (ret[0] != 0) {
        if (c->stream >= 0)
            eos__out_drop(c->stream);
        if (c->body >= 0)
            eos__out_body_drop(c->body);
        c->stream = c->body = -1;
        return fail(c, take_error_code(ret + 8));
    }
    c->future = (eos__handle)eos__u32(ret + 8);
    c->state = ST_SENT;
    return EOS_APP_OK;
}

int eos_outgoing_write(eos_outgoing *c, const void *data, size_t size)
{
    if (c->state == ST_FAILED)
        return EOS_APP_EHTTP;
    if (c->state != ST_SENT || c->stream < 0)
        return EOS_APP_ESTATE;
    return eos__write_all(c->stream, data, size);
}

int eos_outgoing_end_body(eos_outgoing *c)
{
    if (c->body < 0)
        return c->state == ST_FAILED ? EOS_APP_EHTTP : EOS_APP_ESTATE;
    _Alignas(8) uint8_t ret[40];
    int err = eos__out_body_end(c->stream, c->body, ret);
    c->stream = c->body = -1;
    if (ret[0] != 0)
        return fail(c, take_error_code(ret + 8));
    return err;
}

int eos_outgoing_response(eos_outgoing *c, int *out_status)
{
    *out_status = 0;
    if (c->state == ST_RESPONDED) {
        *out_status = c->status;
        return EOS_APP_OK;
    }
    if (c->state == ST_FAILED)
        return EOS_APP_EHTTP;
    if (c->state != ST_SENT)
        return EOS_APP_ESTATE;
    if (c->body >= 0)
        eos_outgoing_end_body(c); /* a failure shows in the response too */
    _Alignas(8) uint8_t ret[56];
    for (;;) {
        eos__fut_get(c->future, ret);
        if (ret[0])
            break;
        eos__handle p = eos__fut_subscribe(c->future);
        eos__pollable_block(p);
        eos__pollable_drop(p);
    }
    eos__fut_drop(c->future);
    c->future = -1;
    if (ret[8] != 0) /* the response was already taken: cannot happen here */
        return fail(c, EOS_HTTP_ERR_INTERNAL_ERROR);
    if (ret[16] != 0)
        return fail(c, take_error_code(ret + 24));
    c->resp = (eos__handle)eos__u32(ret + 24);
    c->status = eos__iresp_status(c->resp) & 0xffff;
    eos__handle fields = eos__iresp_headers(c->resp);
    c->header_count = eos__headers_copy(fields, &c->headers);
    eos__fields_drop(fields);
    c->state = ST_RESPONDED;
    *out_status = c->status;
    return EOS_APP_OK;
}

const char *eos_outgoing_response_header(eos_outgoing *c, const char *name, size_t *out_size)
{
    const eos__header *h = eos__headers_find(c->headers, c->header_count, name);
    if (h && out_size)
        *out_size = h->size;
    return h ? h->value : NULL;
}

size_t eos_outgoing_response_header_count(eos_outgoing *c)
{
    return c->header_count;
}

int eos_outgoing_response_header_at(eos_outgoing *c, size_t i, const char **out_name,
                                    const char **out_value, size_t *out_value_size)
{
    if (i >= c->header_count)
        return EOS_APP_EINVAL;
    *out_name = c->headers[i].name;
    *out_value = c->headers[i].value;
    if (out_value_size)
        *out_value_size = c->headers[i].size;
    return EOS_APP_OK;
}

int eos_outgoing_read(eos_outgoing *c, void *buf, size_t cap, size_t *out_size)
{
    *out_size = 0;
    if (cap == 0)
        return EOS_APP_EINVAL;
    if (c->state == ST_FAILED)
        return EOS_APP_EHTTP;
    if (c->state != ST_RESPONDED)
        return EOS_APP_ESTATE;
    return eos__in_body_read(&c->rbody, eos__iresp_consume, c->resp, buf, cap, out_size,
                             stream_failed, c);
}

static int read_outgoing(void *c, void *buf, size_t cap, size_t *n)
{
    return eos_outgoing_read(c, buf, cap, n);
}

int eos_outgoing_read_all(eos_outgoing *c, size_t max_size, void **out_body, size_t *out_size)
{
    return eos__read_all(read_outgoing, c, max_size, out_body, out_size);
}

int eos_outgoing_error(const eos_outgoing *c)
{
    return c->err;
}

void eos_outgoing_free(eos_outgoing *c)
{
    if (!c)
        return;
    /* children before parents: streams, then bodies, then the response */
    eos__in_body_close(&c->rbody);
    if (c->resp >= 0)
        eos__iresp_drop(c->resp);
    if (c->stream >= 0)
        eos__out_drop(c->stream);
    if (c->body >= 0)
        eos__out_body_drop(c->body);
    if (c->future >= 0)
        eos__fut_drop(c->future);
    if (c->fields >= 0)
        eos__fields_drop(c->fields);
    eos__headers_free(c->headers, c->header_count);
    free(c->method);
    free(c->authority);
    free(c->path);
    free(c);
}

int eos_fetch(const char *method, const char *url, const char *content_type, const void *body,
              size_t size, size_t max_size, eos_outgoing **out, void **out_body, size_t *out_size)
{
    int status, err;
    *out_body = NULL;
    *out_size = 0;
    if ((err = eos_outgoing_new(method, url, out)))
        return err;
    eos_outgoing *c = *out;
    if (content_type && (err = eos_outgoing_header(c, "content-type", content_type)))
        return err;
    if ((err = eos_outgoing_send(c, body != NULL)))
        return err;
    if (body && size && (err = eos_outgoing_write(c, body, size)) && err != EOS_APP_EIO)
        return err;
    /* a failed write shows as the call's error-code in the response */
    if ((err = eos_outgoing_response(c, &status)))
        return err;
    return eos_outgoing_read_all(c, max_size, out_body, out_size);
}
