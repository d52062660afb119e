/* HTTP/1.1 (SPEC 4) on http-parser: keep-alive, Content-Length and chunked
 * bodies, limits on head size, body size and head time, routing by hostname
 * then longest route prefix, and the app call through the WASI driver.
 * Apps run on the worker thread that owns the connection, bounded by fuel:
 * a request costs at most its app's fuel budget of CPU time, other workers
 * keep serving meanwhile, and no cross-thread hand-off is paid per request. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "internal.h"

#define DEFAULT_MAX_HEAD   ((size_t)64 << 10)
#define DEFAULT_MAX_BODY   ((size_t)32 << 20)
#define MAX_COMPONENT_BODY ((size_t)64 << 20)
#define MAX_HEADERS        128
#define WELL_KNOWN         "/.well-known/enclave-os/"

typedef struct hdr {
    size_t noff, nlen, voff, vlen;
} hdr;

typedef struct http_state {
    http_parser parser;
    eos_net__conn *c;
    char *head; /* URL and header bytes of the current request */
    size_t hlen, hcap;
    size_t url_off, url_len;
    hdr hdrs[MAX_HEADERS];
    size_t nh;
    int last_value; /* the last header callback was a value */
    uint8_t *body;
    size_t blen, bcap, body_limit;
    size_t body_pos; /* read position of the app */
    int in_message, headers_done;
    uint64_t start_ns;
    int stop; /* an error response was queued: parse no further */
    int keep_alive;
    int is_head;
    int resp_head_sent;
} http_state;

static const char *reason_of(int status)
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
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

static int queue_str(eos_net__conn *c, const char *s, size_t n)
{
    int rc = eos_net__conn_queue(c, (const uint8_t *)s, n);
    if (rc < 0)
        c->close_after_flush = 1;
    return rc;
}

/* A complete response with a body held in memory. */
static void respond(http_state *st, int status, const char *ctype, const char *body, size_t size,
                    int close)
{
    eos_net__conn *c = st->c;
    char head[512];
    if (close)
        st->keep_alive = 0;
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %zu\r\n%s\r\n", status,
                     reason_of(status), ctype, size, st->keep_alive ? "" : "connection: close\r\n");
    queue_str(c, head, (size_t)n);
    if (!st->is_head && size)
        queue_str(c, body, size);
    if (!st->keep_alive)
        c->close_after_flush = 1;
    if (status >= 400)
        atomic_fetch_add(&c->w->srv->metrics.http_errors, 1);
}

static void respond_text(http_state *st, int status, const char *text, int close)
{
    char body[600];
    int n = snprintf(body, sizeof body, "%s\n", text);
    if (n >= (int)sizeof body)
        n = (int)sizeof body - 1;
    respond(st, status, "text/plain; charset=utf-8", body, (size_t)n, close);
}

/* An error that ends the connection: nothing more is parsed. */
static void fail(http_state *st, int status, const char *text)
{
    EOS_INFO("net", "%s: HTTP %d: %s", st->c->peer, status, text);
    respond_text(st, status, text, 1);
    st->stop = 1;
}

static int append(http_state *st, const char *at, size_t len)
{
    if (len == 0)
        return 0;
    size_t max = st->c->w->srv->cfg.max_header_size;
    if (!max)
        max = DEFAULT_MAX_HEAD;
    if (st->hlen + len > max) {
        fail(st, 431, "request head too large");
        return -1;
    }
    if (st->hlen + len > st->hcap) {
        size_t cap = st->hcap ? st->hcap : 1024;
        while (cap < st->hlen + len)
            cap *= 2;
        char *nh = eos_realloc(st->head, st->hcap, cap);
        if (!nh) {
            fail(st, 503, "out of memory");
            return -1;
        }
        st->head = nh;
        st->hcap = cap;
    }
    memcpy(st->head + st->hlen, at, len);
    st->hlen += len;
    return 0;
}

static int on_message_begin(http_parser *p)
{
    http_state *st = p->data;
    st->in_message = 1;
    st->headers_done = 0;
    st->hlen = st->url_off = st->url_len = 0;
    st->nh = 0;
    st->last_value = 0;
    st->blen = st->body_pos = 0;
    st->start_ns = eos_now_ns();
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    http_state *st = p->data;
    if (append(st, at, len) < 0)
        return -1;
    st->url_len += len;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    http_state *st = p->data;
    if (st->nh == 0 || st->last_value) {
        if (st->nh == MAX_HEADERS) {
            fail(st, 431, "too many header fields");
            return -1;
        }
        st->hdrs[st->nh++] = (hdr){st->hlen, 0, 0, 0};
        st->last_value = 0;
    }
    if (append(st, at, len) < 0)
        return -1;
    st->hdrs[st->nh - 1].nlen += len;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    http_state *st = p->data;
    hdr *h = &st->hdrs[st->nh - 1];
    if (!st->last_value) {
        h->voff = st->hlen;
        st->last_value = 1;
    }
    if (append(st, at, len) < 0)
        return -1;
    h->vlen += len;
    return 0;
}

static const char *find_header(http_state *st, const char *name, size_t *out_len)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < st->nh; i++)
        if (st->hdrs[i].nlen == n && strncasecmp(st->head + st->hdrs[i].noff, name, n) == 0) {
            *out_len = st->hdrs[i].vlen;
            return st->head + st->hdrs[i].voff;
        }
    return NULL;
}

static int is_component_put(http_state *st)
{
    return st->parser.method == HTTP_PUT && st->url_len > sizeof WELL_KNOWN - 1 + 5 &&
           memcmp(st->head + st->url_off, WELL_KNOWN "apps/", sizeof WELL_KNOWN - 1 + 5) == 0;
}

static int on_headers_complete(http_parser *p)
{
    http_state *st = p->data;
    eos_net_server *srv = st->c->w->srv;
    st->headers_done = 1;
    st->is_head = p->method == HTTP_HEAD;
    st->body_limit = srv->cfg.max_body_size ? srv->cfg.max_body_size : DEFAULT_MAX_BODY;
    if (is_component_put(st) && st->body_limit < MAX_COMPONENT_BODY)
        st->body_limit = MAX_COMPONENT_BODY;
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > st->body_limit) {
        fail(st, 413, "request body too large");
        return -1;
    }
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > st->bcap) {
        uint8_t *nb = eos_realloc(st->body, st->bcap, (size_t)p->content_length);
        if (!nb) {
            fail(st, 503, "out of memory");
            return -1;
        }
        st->body = nb;
        st->bcap = (size_t)p->content_length;
    }
    /* Clients that wait for permission before a large body (curl -T) get it
     * now that the head passed the limits. */
    size_t en;
    const char *expect = find_header(st, "expect", &en);
    if (expect && en == 12 && strncasecmp(expect, "100-continue", 12) == 0 && p->http_major == 1 &&
        p->http_minor >= 1)
        queue_str(st->c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    http_state *st = p->data;
    if (st->blen + len > st->body_limit) {
        fail(st, 413, "request body too large");
        return -1;
    }
    if (st->blen + len > st->bcap) {
        size_t cap = st->bcap ? st->bcap : 16384;
        while (cap < st->blen + len)
            cap *= 2;
        uint8_t *nb = eos_realloc(st->body, st->bcap, cap);
        if (!nb) {
            fail(st, 503, "out of memory");
            return -1;
        }
        st->body = nb;
        st->bcap = cap;
    }
    memcpy(st->body + st->blen, at, len);
    st->blen += len;
    return 0;
}

void eos_net__http_dispatch(http_state *st);

static int on_message_complete(http_parser *p)
{
    http_state *st = p->data;
    st->in_message = 0;
    st->keep_alive = http_should_keep_alive(p);
    eos_net__http_dispatch(st);
    /* Large buffers are not kept for an idle keep-alive connection. */
    if (st->bcap > ((size_t)1 << 20)) {
        eos_free(st->body, st->bcap);
        st->body = NULL;
        st->bcap = 0;
    }
    if (!st->keep_alive || st->stop) {
        st->stop = 1;
        return -1; /* pipelined bytes after a closing response are ignored */
    }
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void eos_net__http_input(eos_net__conn *c, const uint8_t *data, size_t size)
{
    http_state *st = c->http;
    if (!st) {
        st = eos_calloc(1, sizeof *st);
        if (!st) {
            c->close_after_flush = 1;
            return;
        }
        st->c = c;
        http_parser_init(&st->parser, HTTP_REQUEST);
        st->parser.data = st;
        c->http = st;
        st->start_ns = eos_now_ns();
    }
    if (st->stop)
        return;
    eos_net_server *srv = c->w->srv;
    uint64_t limit =
        (uint64_t)(srv->cfg.header_timeout_ms ? srv->cfg.header_timeout_ms : 10000) * 1000000ull;
    /* A head that trickles in (slowloris) is cut off once it is late, even
     * though every byte resets the idle timer. */
    uint64_t age = eos_now_ns() - st->start_ns;
    if (!st->headers_done && age > limit) {
        fail(st, 408, "request head not received in time");
        return;
    }
    /* The same for a body that trickles in: the whole request must arrive
     * within the idle timeout (each byte would otherwise reset it). */
    if (st->in_message && st->headers_done &&
        age > (uint64_t)srv->cfg.idle_timeout_ms * 1000000ull) {
        fail(st, 408, "request body not received in time");
        return;
    }
    size_t used = http_parser_execute(&st->parser, &settings, (const char *)data, size);
    if (st->stop)
        return;
    enum http_errno e = HTTP_PARSER_ERRNO(&st->parser);
    if (e != HPE_OK) {
        char msg[200];
        snprintf(msg, sizeof msg, "malformed HTTP request: %s", http_errno_description(e));
        fail(st, 400, msg);
        return;
    }
    if (st->parser.upgrade) {
        fail(st, 501, "protocol upgrades are not supported");
        return;
    }
    (void)used;
}

int eos_net__http_busy(const eos_net__conn *c)
{
    const http_state *st = c->http;
    return st && st->in_message && !st->stop;
}

void eos_net__http_free(eos_net__conn *c)
{
    http_state *st = c->http;
    if (!st)
        return;
    eos_free(st->head, st->hcap);
    eos_free(st->body, st->bcap);
    eos_free(st, sizeof *st);
    c->http = NULL;
}

/* ---- The app call ---- */

static int body_read(void *ud, uint8_t *buf, size_t cap, size_t *out_size)
{
    http_state *st = ud;
    size_t n = st->blen - st->body_pos;
    if (n > cap)
        n = cap;
    if (n)
        memcpy(buf, st->body + st->body_pos, n);
    st->body_pos += n;
    *out_size = n;
    return 0;
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

static int sink_head(void *ud, uint16_t status, const eos_wasi_header *h, size_t count)
{
    http_state *st = ud;
    eos_net__conn *c = st->c;
    char line[160];
    int n = snprintf(line, sizeof line, "HTTP/1.1 %u %s\r\n", status, reason_of(status));
    if (queue_str(c, line, (size_t)n) < 0)
        return EOS_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        if (skip_resp_header(h[i].name, h[i].name_size))
            continue;
        /* Header injection: a value holding CR or LF would split the response. */
        if (memchr(h[i].value, '\r', h[i].value_size) ||
            memchr(h[i].value, '\n', h[i].value_size) || memchr(h[i].name, '\r', h[i].name_size) ||
            memchr(h[i].name, '\n', h[i].name_size))
            continue;
        if (queue_str(c, h[i].name, h[i].name_size) < 0 || queue_str(c, ": ", 2) < 0 ||
            queue_str(c, (const char *)h[i].value, h[i].value_size) < 0 ||
            queue_str(c, "\r\n", 2) < 0)
            return EOS_ENOMEM;
    }
    const char *tail = st->is_head      ? (st->keep_alive ? "\r\n" : "connection: close\r\n\r\n")
                       : st->keep_alive ? "transfer-encoding: chunked\r\n\r\n"
                                        : "transfer-encoding: chunked\r\nconnection: close\r\n\r\n";
    st->resp_head_sent = 1;
    return queue_str(c, tail, strlen(tail));
}

static int sink_body(void *ud, const uint8_t *data, size_t size)
{
    http_state *st = ud;
    if (st->is_head || size == 0)
        return 0;
    char line[24];
    int n = snprintf(line, sizeof line, "%zx\r\n", size);
    if (queue_str(st->c, line, (size_t)n) < 0 || queue_str(st->c, (const char *)data, size) < 0 ||
        queue_str(st->c, "\r\n", 2) < 0)
        return EOS_ENOMEM;
    return 0;
}

static int sink_end(void *ud, bool complete, const eos_wasi_header *trailers, size_t count)
{
    http_state *st = ud;
    (void)trailers;
    (void)count;
    if (!complete) {
        /* An incomplete body must not look complete to the client: cut the
         * connection without the final chunk. */
        st->keep_alive = 0;
        st->c->close_after_flush = 1;
        return 0;
    }
    if (!st->is_head)
        return queue_str(st->c, "0\r\n\r\n", 5);
    return 0;
}

static void observe_latency(eos_net_server *srv, uint64_t ns)
{
    static const uint64_t bounds_us[EOS_NET__LAT_BUCKETS] = {
        500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000};
    uint64_t us = ns / 1000;
    size_t i = 0;
    while (i < EOS_NET__LAT_BUCKETS && us > bounds_us[i])
        i++;
    atomic_fetch_add(&srv->metrics.lat[i], 1);
    atomic_fetch_add(&srv->metrics.lat_sum_us, us);
}

static void run_app(http_state *st, eos_net__app *a, const char *path, size_t prefix_len,
                    const char *host)
{
    eos_net__conn *c = st->c;
    eos_wasi_header hv[MAX_HEADERS + 1];
    size_t n = 0;
    for (size_t i = 0; i < st->nh; i++) {
        /* The prefix header is the server's to set, never the client's. */
        if (st->hdrs[i].nlen == 18 &&
            strncasecmp(st->head + st->hdrs[i].noff, "x-forwarded-prefix", 18) == 0)
            continue;
        hv[n++] = (eos_wasi_header){st->head + st->hdrs[i].noff, st->hdrs[i].nlen,
                                    (const uint8_t *)st->head + st->hdrs[i].voff, st->hdrs[i].vlen};
    }
    hv[n++] = (eos_wasi_header){"x-forwarded-prefix", 18, (const uint8_t *)path, prefix_len};
    char target[8192];
    const char *rest = path + prefix_len;
    snprintf(target, sizeof target, "%s%s", rest[0] == '/' ? "" : "/", rest);
    eos_wasi_request req = {
        .method = http_method_str((enum http_method)st->parser.method),
        .target = target,
        .scheme = "https",
        .authority = host,
        .headers = hv,
        .header_count = n,
        .body_read = st->blen ? body_read : NULL,
        .body_ud = st,
    };
    eos_wasi_sink sink = {sink_head, sink_body, sink_end, st};
    eos_wasi_outcome oc;
    memset(&oc, 0, sizeof oc);
    st->resp_head_sent = 0;
    int rc = eos_wasi_handle_http(a->wapp, &req, &sink, &oc);
    atomic_fetch_add(&a->requests, 1);
    atomic_fetch_add(&a->fuel, oc.fuel_consumed);
    if (rc < 0) {
        atomic_fetch_add(&a->errors, 1);
        atomic_fetch_add(&c->w->srv->metrics.http_errors, 1);
        EOS_INFO("net", "%s: app '%s' failed on %s: %s", c->peer, a->name, target,
                 oc.reason[0] ? oc.reason : eos_strerror(rc));
        if (!oc.head_sent && !st->resp_head_sent) {
            char msg[300];
            snprintf(msg, sizeof msg, "app '%s' failed: %s", a->name,
                     oc.reason[0] ? oc.reason : eos_strerror(rc));
            respond_text(st, 500, msg, 0);
        } else {
            st->keep_alive = 0;
            c->close_after_flush = 1;
        }
    }
    if (!st->keep_alive)
        c->close_after_flush = 1;
}

/* ---- /.well-known/enclave-os/ ---- */

static int wants_binary(http_state *st, const char *query)
{
    size_t n = 0;
    const char *acc = find_header(st, "accept", &n);
    if (query && strstr(query, "format=binary"))
        return 1;
    return acc && n >= 24 && memmem(acc, n, "application/octet-stream", 24) != NULL;
}

static void respond_json_doc(http_state *st, char *doc, size_t size)
{
    int status = 200;
    if (strncmp(doc, "{\"status\":\"error\"", 17) == 0) {
        status = 400;
        if (strstr(doc, "\"code\":\"unauthorized\""))
            status = 401;
        else if (strstr(doc, "\"code\":\"not_found\""))
            status = 404;
        else if (strstr(doc, "\"code\":\"too_large\""))
            status = 413;
        else if (strstr(doc, "\"code\":\"conflict\""))
            status = 409;
    }
    respond(st, status, "application/json", doc, size, 0);
    eos_free(doc, size + 1);
}

static void metrics(http_state *st)
{
    eos_net_server *srv = st->c->w->srv;
    eos_net__metrics *m = &srv->metrics;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) {
        respond_text(st, 503, "out of memory", 0);
        return;
    }
    fprintf(f, "# TYPE enclave_os_connections_total counter\nenclave_os_connections_total %llu\n",
            (unsigned long long)m->connections);
    fprintf(
        f, "# TYPE enclave_os_tls_handshakes_total counter\nenclave_os_tls_handshakes_total %llu\n",
        (unsigned long long)m->handshakes);
    fprintf(f,
            "# TYPE enclave_os_http_requests_total counter\nenclave_os_http_requests_total %llu\n",
            (unsigned long long)m->http_requests);
    fprintf(f, "# TYPE enclave_os_http_errors_total counter\nenclave_os_http_errors_total %llu\n",
            (unsigned long long)m->http_errors);
    fprintf(f, "# TYPE enclave_os_frames_total counter\nenclave_os_frames_total %llu\n",
            (unsigned long long)m->frames);
    fprintf(f, "# TYPE enclave_os_app_loads_total counter\nenclave_os_app_loads_total %llu\n",
            (unsigned long long)m->loads);
    static const char *const le[EOS_NET__LAT_BUCKETS] = {"0.0005", "0.001", "0.0025", "0.005",
                                                         "0.01",   "0.025", "0.05",   "0.1",
                                                         "0.25",   "0.5",   "1",      "2.5"};
    fprintf(f, "# TYPE enclave_os_request_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (size_t i = 0; i <= EOS_NET__LAT_BUCKETS; i++) {
        cum += m->lat[i];
        fprintf(f, "enclave_os_request_duration_seconds_bucket{le=\"%s\"} %llu\n",
                i < EOS_NET__LAT_BUCKETS ? le[i] : "+Inf", cum);
    }
    fprintf(f, "enclave_os_request_duration_seconds_sum %.6f\n", (double)m->lat_sum_us / 1e6);
    fprintf(f, "enclave_os_request_duration_seconds_count %llu\n", cum);
    eos_net__app **v = NULL;
    size_t n = 0;
    if (eos_net__apps_snapshot(srv, &v, &n) == 0) {
        fprintf(f, "# TYPE enclave_os_app_requests_total counter\n");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "enclave_os_app_requests_total{app=\"%s\"} %llu\n", v[i]->name,
                    (unsigned long long)v[i]->requests);
        fprintf(f, "# TYPE enclave_os_app_errors_total counter\n");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "enclave_os_app_errors_total{app=\"%s\"} %llu\n", v[i]->name,
                    (unsigned long long)v[i]->errors);
        fprintf(f, "# TYPE enclave_os_app_fuel_total counter\n");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "enclave_os_app_fuel_total{app=\"%s\"} %llu\n", v[i]->name,
                    (unsigned long long)v[i]->fuel);
        eos_net__apps_snapshot_free(v, n);
    }
    fclose(f);
    respond(st, 200, "text/plain; version=0.0.4", buf, size, 0);
    free(buf);
}

static int http_authorised(http_state *st)
{
    if (eos_net__conn_authorised(st->c))
        return 1;
    size_t n;
    const char *auth = find_header(st, "authorization", &n);
    if (!auth || n < 7 || strncasecmp(auth, "Bearer ", 7) != 0)
        return 0;
    return eos_net__token_ok(st->c->w->srv, auth + 7, n - 7);
}

static char *header_dup(http_state *st, const char *name)
{
    size_t n;
    const char *v = find_header(st, name, &n);
    if (!v)
        return NULL;
    char *s = eos_malloc(n + 1);
    if (s) {
        memcpy(s, v, n);
        s[n] = 0;
    }
    return s;
}

static void manage(http_state *st, const char *name, int method)
{
    eos_net_server *srv = st->c->w->srv;
    char *doc = NULL;
    size_t size = 0;
    int rc;
    if (!http_authorised(st)) {
        rc = eos_net__mgmt_error("unauthorized",
                                 srv->cfg.token ? "management needs 'authorization: Bearer TOKEN'"
                                                : "management is closed on this server",
                                 &doc, &size);
    } else if (method == HTTP_DELETE) {
        size_t qn = 0;
        const char *q = find_header(st, "x-enclave-os-erase", &qn);
        rc = eos_net__mgmt_unload(srv, name, q && qn == 4 && strncasecmp(q, "true", 4) == 0, &doc,
                                  &size);
    } else {
        char *route = header_dup(st, "x-enclave-os-route");
        char *hostname = header_dup(st, "x-enclave-os-hostname");
        eos_net__load_args args;
        memset(&args, 0, sizeof args);
        args.name = name;
        args.route = route;
        args.hostname = hostname;
        args.bytes = st->body; /* the body buffer moves to the app */
        args.size = st->blen;
        st->body = NULL;
        st->bcap = st->blen = 0;
        rc = eos_net__mgmt_load(srv, &args, &doc, &size);
        eos_free(route, route ? strlen(route) + 1 : 0);
        eos_free(hostname, hostname ? strlen(hostname) + 1 : 0);
    }
    if (rc < 0) {
        respond_text(st, 503, eos_strerror(rc), 0);
        return;
    }
    respond_json_doc(st, doc, size);
}

static void well_known(http_state *st, const char *what, const char *query)
{
    eos_net_server *srv = st->c->w->srv;
    int m = st->parser.method;
    int get = m == HTTP_GET || m == HTTP_HEAD;
    char *doc = NULL;
    size_t size = 0;
    if (strncmp(what, "apps/", 5) == 0 && what[5] && (m == HTTP_PUT || m == HTTP_DELETE)) {
        manage(st, what + 5, m);
        return;
    }
    if (!get) {
        respond_text(st, 405, "method not allowed", 0);
        return;
    }
    if (strcmp(what, "healthz") == 0) {
        respond_text(st, 200, "ok", 0);
    } else if (strcmp(what, "apps") == 0) {
        if (eos_net__mgmt_list(srv, &doc, &size) == 0)
            respond_json_doc(st, doc, size);
        else
            respond_text(st, 503, "out of memory", 0);
    } else if (!srv->cfg.ratls &&
               (strcmp(what, "manifest") == 0 || strcmp(what, "certificate") == 0)) {
        respond_text(st, 404, "this server runs without RA-TLS", 0);
    } else if (strcmp(what, "manifest") == 0) {
        if (wants_binary(st, query)) {
            uint8_t *bin = NULL;
            if (eos_ratls_server_manifest(srv->cfg.ratls, &bin, &size) == 0) {
                respond(st, 200, "application/octet-stream", (const char *)bin, size, 0);
                eos_free(bin, size);
            } else {
                respond_text(st, 503, "out of memory", 0);
            }
        } else if (eos_ratls_server_manifest_json(srv->cfg.ratls, &doc, &size) == 0) {
            respond(st, 200, "application/json", doc, size, 0);
            eos_free(doc, size + 1);
        } else {
            respond_text(st, 503, "out of memory", 0);
        }
    } else if (strcmp(what, "certificate") == 0) {
        if (eos_ratls_server_cert_chain_pem(srv->cfg.ratls, &doc, &size) == 0) {
            respond(st, 200, "application/x-pem-file", doc, size, 0);
            eos_free(doc, size + 1);
        } else {
            respond_text(st, 503, "out of memory", 0);
        }
    } else if (strcmp(what, "metrics") == 0) {
        metrics(st);
    } else {
        respond_text(st, 404, "not found", 0);
    }
}

void eos_net__http_dispatch(http_state *st)
{
    eos_net__conn *c = st->c;
    eos_net_server *srv = c->w->srv;
    uint64_t t0 = eos_now_ns();
    atomic_fetch_add(&srv->metrics.http_requests, 1);
    char path[8192];
    if (st->url_len == 0 || st->url_len >= sizeof path || st->head[st->url_off] != '/') {
        respond_text(st, 400, "the request target must be a path starting with '/'", 1);
        return;
    }
    memcpy(path, st->head + st->url_off, st->url_len);
    path[st->url_len] = 0;
    char *q = strchr(path, '?');
    if (strncmp(path, WELL_KNOWN, sizeof WELL_KNOWN - 1) == 0) {
        if (q)
            *q++ = 0;
        well_known(st, path + sizeof WELL_KNOWN - 1, q);
        goto out;
    }
    /* Host: the TLS SNI when present, else the Host header without its port. */
    char host[256];
    host[0] = 0;
    const char *sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
    size_t hn = 0;
    const char *hh = find_header(st, "host", &hn);
    if (sni)
        snprintf(host, sizeof host, "%s", sni);
    else if (hh)
        snprintf(host, sizeof host, "%.*s", (int)(hn < 255 ? hn : 255), hh);
    char *colon = host[0] == '[' ? NULL : strrchr(host, ':');
    if (colon)
        *colon = 0;
    size_t prefix = 0;
    char *qs = q;
    if (qs)
        *qs = 0;
    eos_net__app *a = eos_net__apps_route(srv, host[0] ? host : NULL, path, &prefix);
    if (qs)
        *qs = '?';
    if (!a) {
        respond_text(st, 404, "no app serves this path", 0);
        goto out;
    }
    run_app(st, a, path, prefix, host[0] ? host : NULL);
    eos_net__app_unref(a);
out:
    observe_latency(srv, eos_now_ns() - t0);
}
