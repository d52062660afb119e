/* HTTP requests that run on an app thread: an app's handler through the WASI
 * driver, with the request body read from the job as the client sends it and
 * the response written to the job as the app produces it; and management
 * PUT / DELETE, which may take seconds. Everything the thread needs is copied
 * out of the connection first, so the connection may go away at any time. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>

#include "internal.h"

struct eos_net__http_job {
    eos_net__job job; /* first: the job's callbacks cast back */
    eos_net_server *srv;
    eos_apps_app *app; /* a reference; NULL for management */
    /* The request, in one allocation: method, target, authority, header bytes. */
    char *copy;
    size_t copy_size;
    const char *method, *target, *authority;
    eos_wasi_header *headers;
    size_t header_count;
    int has_body, is_head, keep_alive, http10;
    uint64_t start_ns;
    /* Management: */
    int manage_method; /* 'P' (PUT, load) or 'D' (DELETE, unload) */
    eos_apps_load_args load;
    char *name, *route, *hostname, *env_json, *provenance, *outbound;
    int erase;
    /* Response state, app thread only until done: */
    char *pending; /* status line and headers, sent with the first body bytes */
    size_t pending_len, pending_cap;
    int head_emitted; /* bytes of the response were written to the job */
    int replaced;     /* an error response replaced the app's: ignore the rest */
    int close_conn;   /* read by the worker once done: close after the response */
    enum { BODY_CHUNKED, BODY_SIZED, BODY_UNTIL_CLOSE } framing;
    uint64_t declared; /* BODY_SIZED: the app's content-length */
    uint64_t bytes_out;
};

const char *eos_net__http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Status";
    }
}

size_t eos_net__http_format_head(char *buf, size_t cap, int status, const char *ctype, size_t size,
                                 int keep_alive)
{
    int n = snprintf(buf, cap, "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %zu\r\n%s\r\n",
                     status, eos_net__http_reason(status), ctype, size,
                     keep_alive ? "" : "connection: close\r\n");
    return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

int eos_net__http_doc_status(const char *doc)
{
    if (strncmp(doc, "{\"status\":\"error\"", 17) != 0)
        return 200;
    if (strstr(doc, "\"code\":\"unauthorized\""))
        return 401;
    if (strstr(doc, "\"code\":\"not_found\""))
        return 404;
    if (strstr(doc, "\"code\":\"too_large\""))
        return 413;
    if (strstr(doc, "\"code\":\"conflict\""))
        return 409;
    return 400;
}

void eos_net__http_observe(eos_net_server *srv, uint64_t start_ns)
{
    static const uint64_t bounds_us[EOS_NET__LAT_BUCKETS] = {
        500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000};
    uint64_t us = eos_elapsed_ns(eos_now_ns(), start_ns) / 1000;
    size_t i = 0;
    while (i < EOS_NET__LAT_BUCKETS && us > bounds_us[i])
        i++;
    atomic_fetch_add(&srv->metrics.lat[i], 1);
    atomic_fetch_add(&srv->metrics.lat_sum_us, us);
}

/* Writes pieces as one batch: one lock, one wake-up of the worker. */
static int emit(eos_net__http_job *hj, const struct iovec *iov, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    if (total == 0)
        return 0;
    if (n == 1)
        return eos_net__job_write(&hj->job, iov[0].iov_base, iov[0].iov_len);
    /* Small pieces are joined here; a large body piece goes by itself
     * after the small ones, which costs a second wake-up only then. */
    char small[512];
    size_t used = 0;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        if (iov[i].iov_len <= sizeof small - used) {
            memcpy(small + used, iov[i].iov_base, iov[i].iov_len);
            used += iov[i].iov_len;
            continue;
        }
        if (used)
            rc = eos_net__job_write(&hj->job, small, used);
        used = 0;
        if (rc == 0)
            rc = eos_net__job_write(&hj->job, iov[i].iov_base, iov[i].iov_len);
    }
    if (rc == 0 && used)
        rc = eos_net__job_write(&hj->job, small, used);
    return rc;
}

static int job_respond(eos_net__http_job *hj, int status, const char *ctype, const char *body,
                       size_t size)
{
    if (status >= 400)
        atomic_fetch_add(&hj->srv->metrics.http_errors, 1);
    char head[256];
    size_t hn = eos_net__http_format_head(head, sizeof head, status, ctype, size, hj->keep_alive);
    struct iovec iov[2] = {{head, hn}, {(void *)body, hj->is_head ? 0 : size}};
    hj->head_emitted = 1;
    return emit(hj, iov, 2);
}

static int job_respond_text(eos_net__http_job *hj, int status, const char *text)
{
    char body[600];
    int n = snprintf(body, sizeof body, "%s\n", text);
    if (n >= (int)sizeof body)
        n = (int)sizeof body - 1;
    return job_respond(hj, status, "text/plain; charset=utf-8", body, (size_t)n);
}

/* The body failed while the app ran (too large, malformed, too slow): unless
 * the app's response already started, the client gets that error instead. */
static int replace_with_error(eos_net__http_job *hj, int status)
{
    hj->replaced = 1;
    hj->close_conn = 1;
    hj->keep_alive = 0;
    if (hj->head_emitted)
        return EOS_ECLOSED;
    const char *text = status == 413   ? "request body too large"
                       : status == 408 ? "request body not received in time"
                                       : "malformed request body";
    job_respond_text(hj, status, text);
    return EOS_ECLOSED;
}

static int body_read(void *ud, uint8_t *buf, size_t cap, size_t *out_size)
{
    eos_net__http_job *hj = ud;
    return eos_net__job_read(&hj->job, buf, cap, out_size);
}

static int skip_resp_header(const char *name, size_t n)
{
    static const char *const hop[] = {"connection", "content-length", "transfer-encoding",
                                      "keep-alive", "upgrade",        "te",
                                      "trailer"};
    for (size_t i = 0; i < EOS_ARRAY_LEN(hop); i++)
        if (strlen(hop[i]) == n && strncasecmp(hop[i], name, n) == 0)
            return 1;
    return 0;
}

static int pend(eos_net__http_job *hj, const void *data, size_t size)
{
    if (hj->pending_len + size > hj->pending_cap) {
        size_t cap = hj->pending_cap ? hj->pending_cap : 512;
        while (cap < hj->pending_len + size)
            cap *= 2;
        char *nb = eos_realloc(hj->pending, hj->pending_cap, cap);
        if (!nb)
            return EOS_ENOMEM;
        hj->pending = nb;
        hj->pending_cap = cap;
    }
    memcpy(hj->pending + hj->pending_len, data, size);
    hj->pending_len += size;
    return 0;
}

/* The app's content-length, when it gave exactly one valid value. */
static int declared_length(const eos_wasi_header *h, size_t count, uint64_t *out)
{
    int found = 0;
    for (size_t i = 0; i < count; i++) {
        if (h[i].name_size != 14 || strncasecmp(h[i].name, "content-length", 14) != 0)
            continue;
        if (found++ || h[i].value_size == 0 || h[i].value_size > 19)
            return 0;
        uint64_t v = 0;
        for (size_t k = 0; k < h[i].value_size; k++) {
            if (h[i].value[k] < '0' || h[i].value[k] > '9')
                return 0;
            v = v * 10 + (uint64_t)(h[i].value[k] - '0');
        }
        *out = v;
    }
    return found == 1;
}

static int sink_head(void *ud, uint16_t status, const eos_wasi_header *h, size_t count)
{
    eos_net__http_job *hj = ud;
    int failed = eos_net__job_in_error(&hj->job);
    if (failed)
        return replace_with_error(hj, failed);
    char line[160];
    int n = snprintf(line, sizeof line, "HTTP/1.1 %u %s\r\n", status, eos_net__http_reason(status));
    if (pend(hj, line, (size_t)n) < 0)
        return EOS_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        if (skip_resp_header(h[i].name, h[i].name_size))
            continue;
        /* Header injection: a value holding CR or LF would split the response. */
        if (memchr(h[i].value, '\r', h[i].value_size) ||
            memchr(h[i].value, '\n', h[i].value_size) || memchr(h[i].name, '\r', h[i].name_size) ||
            memchr(h[i].name, '\n', h[i].name_size))
            continue;
        if (pend(hj, h[i].name, h[i].name_size) < 0 || pend(hj, ": ", 2) < 0 ||
            pend(hj, h[i].value, h[i].value_size) < 0 || pend(hj, "\r\n", 2) < 0)
            return EOS_ENOMEM;
    }
    /* Framing is the server's: the app's content-length is kept (and held to)
     * when it gave one, HTTP/1.0 clients get the body up to the close, every
     * other body is chunked. */
    char tail[96];
    int sized = declared_length(h, count, &hj->declared);
    if (sized) {
        hj->framing = BODY_SIZED;
        snprintf(tail, sizeof tail, "content-length: %llu\r\n",
                 (unsigned long long)hj->declared);
    } else if (hj->is_head) {
        tail[0] = 0;
    } else if (hj->http10) {
        hj->framing = BODY_UNTIL_CLOSE;
        hj->keep_alive = 0;
        tail[0] = 0;
    } else {
        hj->framing = BODY_CHUNKED;
        snprintf(tail, sizeof tail, "transfer-encoding: chunked\r\n");
    }
    if (!hj->keep_alive)
        strcat(tail, "connection: close\r\n");
    strcat(tail, "\r\n");
    if (status >= 500)
        atomic_fetch_add(&hj->srv->metrics.http_errors, 1);
    return pend(hj, tail, strlen(tail));
}

static int sink_body(void *ud, const uint8_t *data, size_t size)
{
    eos_net__http_job *hj = ud;
    if (hj->replaced)
        return EOS_ECLOSED;
    if (hj->is_head || size == 0)
        return 0;
    int rc = 0;
    if (hj->framing == BODY_SIZED && size > hj->declared - hj->bytes_out) {
        /* More than the app declared: what fits goes, then the body fails. */
        size = (size_t)(hj->declared - hj->bytes_out);
        hj->close_conn = 1;
        rc = EOS_EPROTO;
    }
    char line[24];
    int n = 0;
    if (hj->framing == BODY_CHUNKED)
        n = snprintf(line, sizeof line, "%zx\r\n", size);
    int chunked = hj->framing == BODY_CHUNKED;
    struct iovec iov[4] = {{hj->pending, hj->pending_len},
                           {line, (size_t)n},
                           {(void *)data, size},
                           {"\r\n", chunked ? 2 : 0}};
    hj->pending_len = 0;
    hj->head_emitted = 1;
    hj->bytes_out += size;
    if (size == 0 && iov[0].iov_len == 0)
        return rc;
    int wr = emit(hj, iov, 4);
    return wr < 0 ? wr : rc;
}

static int sink_end(void *ud, bool complete, const eos_wasi_header *trailers, size_t count)
{
    eos_net__http_job *hj = ud;
    (void)trailers;
    (void)count;
    if (hj->replaced)
        return 0;
    /* An incomplete body must not look complete to the client: cut the
     * connection without the final chunk (or before the declared length). */
    if (!complete || hj->framing == BODY_UNTIL_CLOSE ||
        (hj->framing == BODY_SIZED && !hj->is_head && hj->bytes_out != hj->declared))
        hj->close_conn = 1;
    int last = complete && hj->framing == BODY_CHUNKED && !hj->is_head;
    struct iovec iov[2] = {{hj->pending, hj->pending_len}, {"0\r\n\r\n", last ? 5 : 0}};
    hj->pending_len = 0;
    hj->head_emitted = 1;
    return emit(hj, iov, 2);
}

static void run_app(eos_net__job *j)
{
    eos_net__http_job *hj = (eos_net__http_job *)j;
    eos_apps_app *a = hj->app;
    eos_wasi_request req = {
        .method = hj->method,
        .target = hj->target,
        .scheme = "https",
        .authority = hj->authority,
        .headers = hj->headers,
        .header_count = hj->header_count,
        .body_read = hj->has_body ? body_read : NULL,
        .body_ud = hj,
    };
    eos_wasi_sink sink = {sink_head, sink_body, sink_end, hj};
    eos_wasi_outcome oc;
    memset(&oc, 0, sizeof oc);
    int rc = eos_apps_app_serve(a, &req, &sink, &oc);
    if (rc < 0 && !hj->replaced) {
        eos_apps_app_count_error(a);
        const char *why = oc.reason[0] ? oc.reason : eos_strerror(rc);
        if (rc != EOS_ECLOSED)
            EOS_INFO("net", "app '%s' failed on %s %s: %s", eos_apps_app_name(a), hj->method, hj->target, why);
        if (!hj->head_emitted) {
            /* The app's head, if any, never left: a 500 can still replace it. */
            char msg[300];
            snprintf(msg, sizeof msg, "app '%s' failed: %s", eos_apps_app_name(a), why);
            hj->pending_len = 0;
            job_respond_text(hj, 500, msg);
        } else {
            hj->close_conn = 1;
        }
    } else if (rc == 0 && hj->pending_len) {
        /* A head without a body end (the app never finished it). */
        struct iovec iov[1] = {{hj->pending, hj->pending_len}};
        hj->pending_len = 0;
        emit(hj, iov, 1);
        hj->close_conn = 1;
    }
    if (!hj->keep_alive)
        hj->close_conn = 1;
    eos_apps_app_count_time(a, eos_elapsed_ns(eos_now_ns(), hj->start_ns) / 1000);
    eos_net__http_observe(hj->srv, hj->start_ns);
}

static void run_manage(eos_net__job *j)
{
    eos_net__http_job *hj = (eos_net__http_job *)j;
    char *doc = NULL;
    size_t size = 0;
    int rc;
    if (hj->manage_method == 'D') {
        rc = eos_apps_unload(hj->srv->apps, hj->name, hj->erase, &doc, &size);
    } else {
        hj->load.name = hj->name;
        hj->load.route = hj->route;
        hj->load.hostname = hj->hostname;
        hj->load.outbound = hj->outbound;
        hj->load.env_json = hj->env_json;
        hj->load.provenance = hj->provenance;
        rc = eos_apps_load(hj->srv->apps, &hj->load, &doc, &size);
        hj->load.bytes = NULL; /* taken by the load in every case */
    }
    if (rc < 0) {
        job_respond_text(hj, 503, eos_strerror(rc));
    } else {
        job_respond(hj, eos_net__http_doc_status(doc), "application/json", doc, size);
        eos_free(doc, size + 1);
    }
    if (!hj->keep_alive)
        hj->close_conn = 1;
    eos_net__http_observe(hj->srv, hj->start_ns);
}

static void destroy(eos_net__job *j)
{
    eos_net__http_job *hj = (eos_net__http_job *)j;
    eos_apps_app_unref(hj->app);
    eos_free(hj->copy, hj->copy_size);
    eos_free(hj->pending, hj->pending_cap);
    eos_free(hj->load.bytes, hj->load.size);
    eos_free(hj, sizeof *hj);
}

/* Copies s (may be NULL) to *p and moves *p past it. */
static char *put_str(char **p, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *at = memcpy(*p, s, n);
    *p += n;
    return at;
}

/* Lays out the strings of r in one allocation. */
static int copy_request(eos_net__http_job *hj, const eos_net__http_req *r)
{
    size_t size = r->header_count * sizeof(eos_wasi_header);
    const char *strs[] = {r->method,   r->target,   r->authority,  r->name,    r->route,
                          r->hostname, r->env_json, r->provenance, r->outbound};
    for (size_t i = 0; i < EOS_ARRAY_LEN(strs); i++)
        size += strs[i] ? strlen(strs[i]) + 1 : 0;
    for (size_t i = 0; i < r->header_count; i++)
        size += r->headers[i].name_size + r->headers[i].value_size;
    hj->copy_size = size ? size : 1;
    hj->copy = eos_malloc(hj->copy_size);
    if (!hj->copy)
        return EOS_ENOMEM;
    hj->headers = (eos_wasi_header *)(void *)hj->copy;
    char *p = hj->copy + r->header_count * sizeof(eos_wasi_header);
    hj->method = put_str(&p, r->method);
    hj->target = put_str(&p, r->target);
    hj->authority = put_str(&p, r->authority);
    hj->name = put_str(&p, r->name);
    hj->route = put_str(&p, r->route);
    hj->hostname = put_str(&p, r->hostname);
    hj->outbound = put_str(&p, r->outbound);
    hj->env_json = put_str(&p, r->env_json);
    hj->provenance = put_str(&p, r->provenance);
    for (size_t i = 0; i < r->header_count; i++) {
        const eos_wasi_header *h = &r->headers[i];
        hj->headers[i].name = memcpy(p, h->name, h->name_size);
        hj->headers[i].name_size = h->name_size;
        p += h->name_size;
        hj->headers[i].value = memcpy(p, h->value, h->value_size);
        hj->headers[i].value_size = h->value_size;
        p += h->value_size;
    }
    hj->header_count = r->header_count;
    return 0;
}

int eos_net__http_job_new(eos_net__conn *c, const eos_net__http_req *r, eos_net__http_job **out)
{
    eos_net__http_job *hj = eos_calloc(1, sizeof *hj);
    if (!hj)
        return EOS_ENOMEM;
    int rc = copy_request(hj, r);
    if (rc == 0)
        rc = eos_net__job_init(&hj->job, c, r->app ? run_app : run_manage, destroy);
    if (rc < 0) {
        eos_free(hj->copy, hj->copy_size);
        eos_free(hj, sizeof *hj);
        return rc;
    }
    hj->srv = c->w->srv;
    hj->app = r->app;
    if (hj->app)
        eos_apps_app_ref(hj->app);
    hj->has_body = r->has_body;
    hj->is_head = r->is_head;
    hj->http10 = r->http10;
    hj->keep_alive = r->keep_alive;
    hj->start_ns = r->start_ns;
    hj->manage_method = r->manage_method;
    hj->load.max_fuel = r->max_fuel;
    hj->load.max_memory_mb = r->max_memory_mb;
    hj->load.max_concurrency = r->max_concurrency;
    hj->load.tier = r->tier;
    hj->erase = r->erase;
    *out = hj;
    return 0;
}

eos_net__job *eos_net__http_job_base(eos_net__http_job *hj)
{
    return &hj->job;
}

void eos_net__http_job_give_body(eos_net__http_job *hj, uint8_t *bytes, size_t size)
{
    hj->load.bytes = bytes;
    hj->load.size = size;
}

int eos_net__http_job_closes(const eos_net__http_job *hj)
{
    return hj->close_conn;
}
