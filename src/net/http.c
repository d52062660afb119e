/* HTTP/1.1 (SPEC 4) on http-parser: keep-alive, Content-Length and chunked
 * bodies, limits on head size, body size and head time, routing by hostname
 * then longest route prefix, and /.well-known/enclave-os/. A request for an
 * app becomes a job on the app threads once its head is in (httpjob.c): its
 * body streams to the app as it arrives and the app's response streams back,
 * both through bounded buffers, while the worker serves other connections.
 * Requests pipelined behind it wait in the connection's stash. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>
#include <openssl/crypto.h>

#include "eos/auth.h"
#include "internal.h"

#define DEFAULT_MAX_HEAD   ((size_t)64 << 10)
#define DEFAULT_MAX_BODY   ((size_t)32 << 20)
#define MAX_COMPONENT_BODY ((size_t)64 << 20)
#define MAX_HEADERS        128
/* Longest request target (RFC 9112 3: servers answer 414 past their limit). */
#define MAX_TARGET         ((size_t)8 << 10)
#define WELL_KNOWN         "/.well-known/enclave-os/"
/* An app request starts on an app thread once this much body is buffered,
 * or when the body is complete: a client sending a small body slowly never
 * holds an app thread, and a large body still streams. */
#define DISPATCH_BODY ((size_t)64 << 10)

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
    uint8_t *body; /* the body of a management PUT */
    size_t blen, bcap, body_limit;
    size_t body_seen; /* body bytes of the current request so far */
    int in_message, headers_done;
    uint64_t start_ns;
    int stop; /* an error response was queued: parse no further */
    int keep_alive;
    int is_head;
    int app_request;        /* the current request goes to an app (routed at its head) */
    eos_net__http_job *job; /* its job (also the connection's), until it is done */
    int await_job;          /* the parser is paused after a request until its job is done */
    int body_full;          /* the job's input is full: not reading */
    int resp_started;       /* response bytes of the job reached the connection */
    int discard;            /* the app answered before the body ended: drop the rest */
} http_state;

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
    size_t n = eos_net__http_format_head(head, sizeof head, status, ctype, size, st->keep_alive);
    /* Busy (a full queue) or short of memory: both pass; say when to retry. */
    static const char retry[] = "retry-after: 1\r\n";
    if (status == 503 && n >= 2 && n + sizeof retry < sizeof head) {
        memcpy(head + n - 2 + sizeof retry - 1, "\r\n", 2);
        memcpy(head + n - 2, retry, sizeof retry - 1);
        n += sizeof retry - 1;
    }
    queue_str(c, head, n);
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

/* The request's job was handed to the app threads. */
static int job_running(const http_state *st)
{
    return st->job && eos_net__http_job_base(st->job)->submitted;
}

static void drop_job(http_state *st)
{
    if (!st->job)
        return;
    eos_net__job *j = eos_net__http_job_base(st->job);
    st->c->job = NULL;
    st->job = NULL;
    eos_net__job_detach(j);
}

/* Reads from the client only while no job holds the connection's input. */
static void update_input(http_state *st)
{
    eos_net__conn *c = st->c;
    if (st->await_job || st->body_full || (st->stop && st->job))
        c->input_paused = 1;
    else if (c->input_paused)
        eos_net__conn_resume(c);
}

/* An error that ends the connection: nothing more is parsed. */
static void fail(http_state *st, int status, const char *text)
{
    EOS_INFO("net", "%s: HTTP %d: %s", st->c->peer, status, text);
    st->stop = 1;
    if (job_running(st)) {
        /* The app runs: it sees the body fail, and its response is replaced
         * by this error unless it already started. */
        eos_net__job_end_input(eos_net__http_job_base(st->job), status);
        st->keep_alive = 0;
        update_input(st);
        return;
    }
    drop_job(st);
    if (st->discard) {
        /* This request was answered already. */
        st->c->close_after_flush = 1;
        return;
    }
    respond_text(st, status, text, 1);
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
    st->blen = st->body_seen = 0;
    st->app_request = 0;
    st->start_ns = eos_now_ns();
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    http_state *st = p->data;
    if (st->url_len + len > MAX_TARGET) {
        fail(st, 414, "request target longer than 8192 bytes");
        return -1;
    }
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

/* The routing host: the TLS SNI when present, else the Host header without
 * its port; "" when neither. */
static void request_host(http_state *st, char *host, size_t cap)
{
    host[0] = 0;
    const char *sni = st->c->tr->server_name(st->c);
    size_t hn = 0;
    const char *hh = find_header(st, "host", &hn);
    if (sni)
        snprintf(host, cap, "%s", sni);
    else if (hh)
        snprintf(host, cap, "%.*s", (int)(hn < cap - 1 ? hn : cap - 1), hh);
    char *colon = host[0] == '[' ? NULL : strrchr(host, ':');
    if (colon)
        *colon = 0;
}

/* The verified caller's identity headers for the app (at most ID_HEADERS). */
#define ID_HEADERS 4
typedef struct id_headers {
    char *name[ID_HEADERS], *value[ID_HEADERS];
    size_t n;
} id_headers;

static void id_headers_free(id_headers *h)
{
    for (size_t i = 0; i < h->n; i++) {
        eos_free(h->name[i], strlen(h->name[i]) + 1);
        eos_free(h->value[i], strlen(h->value[i]) + 1);
    }
    h->n = 0;
}

static int collect_id(void *arg, const char *name, const char *value)
{
    id_headers *h = arg;
    if (h->n == ID_HEADERS)
        return EOS_ELIMIT;
    char *nm = eos_strdup(name), *v = eos_strdup(value);
    if (!nm || !v) {
        if (nm)
            eos_free(nm, strlen(nm) + 1);
        if (v)
            eos_free(v, strlen(v) + 1);
        return EOS_ENOMEM;
    }
    h->name[h->n] = nm;
    h->value[h->n++] = v;
    return 0;
}

/* A refused caller: 401 or 403 with the challenge, and the connection ends
 * (the request's body is never read). */
static void refuse_caller(http_state *st, int status, const char *www_authenticate)
{
    eos_net__conn *c = st->c;
    static const char body401[] = "authentication required\n", body403[] = "forbidden\n";
    const char *body = status == 401 ? body401 : body403;
    size_t bsize = strlen(body);
    char head[768];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
                     "www-authenticate: %s\r\ncontent-length: %zu\r\nconnection: close\r\n\r\n",
                     status, eos_net__http_reason(status), www_authenticate, bsize);
    st->stop = 1;
    st->keep_alive = 0;
    drop_job(st);
    queue_str(c, head, n > 0 && (size_t)n < sizeof head ? (size_t)n : 0);
    if (!st->is_head)
        queue_str(c, body, bsize);
    c->close_after_flush = 1;
    atomic_fetch_add(&c->w->srv->metrics.http_errors, 1);
}

/* Judges the caller against the app's policy: 0 with the identity headers
 * in *ids, or -1 after answering 401/403 (or 503). Neither the token nor any
 * part of it is logged. */
static int check_caller(http_state *st, eos_apps_app *a, const eos_auth_app *auth,
                        const char *target, id_headers *ids)
{
    size_t alen = 0;
    const char *authz = find_header(st, "authorization", &alen);
    char *authz_copy = NULL;
    if (authz && alen <= EOS_AUTH_JWT_MAX_SIZE + 64 && (authz_copy = eos_malloc(alen + 1))) {
        memcpy(authz_copy, authz, alen);
        authz_copy[alen] = 0;
    }
    STACK_OF(X509) *chain = NULL;
    X509 *cert = st->c->tr->peer_cert ? st->c->tr->peer_cert(st->c, &chain) : NULL;
    char path[8192];
    snprintf(path, sizeof path, "%s", target);
    char *q = strchr(path, '?');
    if (q)
        *q = 0;
    eos_auth_request req = {path, NULL, authz_copy, cert, chain, 0};
    eos_auth_decision dec;
    eos_diag d;
    eos_diag_init(&d);
    int rc = eos_auth_app_check(auth, &req, &dec, &d);
    if (authz_copy) {
        OPENSSL_cleanse(authz_copy, alen);
        eos_free(authz_copy, alen + 1);
    }
    if (rc < 0) {
        fail(st, 503, "out of memory");
        return -1;
    }
    if (dec.status) {
        EOS_INFO("auth", "%s: app '%s' %s: %d (%s)", st->c->peer, eos_apps_app_name(a), path,
                 dec.status, d.message);
        refuse_caller(st, dec.status, dec.www_authenticate);
        eos_auth_decision_clear(&dec);
        return -1;
    }
    rc = eos_auth_identity_headers(&dec.identity, collect_id, ids);
    eos_auth_decision_clear(&dec);
    if (rc != 0) {
        id_headers_free(ids);
        fail(st, 503, "out of memory");
        return -1;
    }
    return 0;
}

/* Routes a request to an app as soon as its head is in, so its body can
 * stream to the app. Returns 0 when the request is not an app's (it is
 * answered at its end), 1 when a job now holds it, -1 after a failure. */
static int start_app_request(http_state *st, int has_body)
{
    eos_net__conn *c = st->c;
    eos_net_server *srv = c->w->srv;
    char path[8192];
    if (st->url_len == 0 || st->url_len >= sizeof path || st->head[st->url_off] != '/')
        return 0;
    memcpy(path, st->head + st->url_off, st->url_len);
    path[st->url_len] = 0;
    if (strncmp(path, WELL_KNOWN, sizeof WELL_KNOWN - 1) == 0)
        return 0;
    char host[256];
    request_host(st, host, sizeof host);
    size_t prefix = 0;
    char *q = strchr(path, '?');
    if (q)
        *q = 0;
    eos_apps_app *a = eos_apps_route(srv->apps, host[0] ? host : NULL, path, &prefix);
    if (q)
        *q = '?';
    if (!a)
        return 0;
    eos_wasi_header hv[MAX_HEADERS + 1 + ID_HEADERS];
    size_t n = 0;
    for (size_t i = 0; i < st->nh; i++) {
        /* The prefix and identity headers are the server's to set, never the
         * client's: a client's own copies are dropped. */
        const char *name = st->head + st->hdrs[i].noff;
        if ((st->hdrs[i].nlen == 18 && strncasecmp(name, "x-forwarded-prefix", 18) == 0) ||
            eos_auth_is_identity_header(name, st->hdrs[i].nlen))
            continue;
        hv[n++] = (eos_wasi_header){name, st->hdrs[i].nlen,
                                    (const uint8_t *)st->head + st->hdrs[i].voff, st->hdrs[i].vlen};
    }
    hv[n++] = (eos_wasi_header){"x-forwarded-prefix", 18, (const uint8_t *)path, prefix};
    char target[8192];
    const char *rest = path + prefix;
    snprintf(target, sizeof target, "%s%s", rest[0] == '/' ? "" : "/", rest);
    id_headers ids;
    memset(&ids, 0, sizeof ids);
    const eos_auth_app *auth = eos_apps_app_auth(a);
    if (auth) {
        int r = check_caller(st, a, auth, target, &ids);
        if (r != 0) {
            id_headers_free(&ids);
            eos_apps_app_unref(a);
            return -1;
        }
        for (size_t i = 0; i < ids.n; i++)
            hv[n++] = (eos_wasi_header){ids.name[i], strlen(ids.name[i]),
                                        (const uint8_t *)ids.value[i], strlen(ids.value[i])};
    }
    eos_net__http_req r = {
        .app = a,
        .method = http_method_str((enum http_method)st->parser.method),
        .target = target,
        .authority = host[0] ? host : NULL,
        .headers = hv,
        .header_count = n,
        .has_body = has_body,
        .is_head = st->is_head,
        .keep_alive = st->keep_alive,
        .http10 = st->parser.http_major == 1 && st->parser.http_minor == 0,
        .start_ns = st->start_ns,
    };
    int rc = eos_net__http_job_new(c, &r, &st->job);
    id_headers_free(&ids);
    if (rc == 0)
        eos_net__job_set_lane(eos_net__http_job_base(st->job), eos_apps_app_name(a),
                              eos_apps_app_max_concurrency(a));
    eos_apps_app_unref(a);
    if (rc < 0) {
        fail(st, 503, "out of memory");
        return -1;
    }
    c->job = eos_net__http_job_base(st->job);
    atomic_fetch_add(&srv->metrics.http_requests, 1);
    st->app_request = 1;
    st->resp_started = 0;
    return 1;
}

static int submit(http_state *st)
{
    eos_net_server *srv = st->c->w->srv;
    if (eos_net__job_submit(srv, eos_net__http_job_base(st->job)) == 0)
        return 0;
    drop_job(st);
    EOS_WARN("net", "%s: the app's queue is full; answering 503", st->c->peer);
    fail(st, 503, "server busy: this app's queue is full; try again shortly");
    return -1;
}

static int on_headers_complete(http_parser *p)
{
    http_state *st = p->data;
    eos_net_server *srv = st->c->w->srv;
    st->headers_done = 1;
    /* RFC 9112 2.3: only HTTP/1.0 and 1.1 (a line without a version is 0.9). */
    if (p->http_major != 1 || p->http_minor > 1) {
        fail(st, 505, "HTTP version not supported: only HTTP/1.0 and HTTP/1.1 are");
        return -1;
    }
    /* RFC 9112 3.2: a 1.1 request has exactly one Host, a 1.0 one at most one. */
    size_t hosts = 0;
    for (size_t i = 0; i < st->nh; i++)
        if (st->hdrs[i].nlen == 4 && strncasecmp(st->head + st->hdrs[i].noff, "host", 4) == 0)
            hosts++;
    if (hosts > 1 || (hosts == 0 && p->http_minor == 1)) {
        fail(st, 400, hosts ? "more than one Host header" : "the Host header is missing");
        return -1;
    }
    st->is_head = p->method == HTTP_HEAD;
    st->keep_alive = http_should_keep_alive(p);
    st->body_limit = srv->cfg.max_body_size ? srv->cfg.max_body_size : DEFAULT_MAX_BODY;
    if (is_component_put(st) && st->body_limit < MAX_COMPONENT_BODY)
        st->body_limit = MAX_COMPONENT_BODY;
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > st->body_limit) {
        fail(st, 413, "request body too large");
        return -1;
    }
    int has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENTLENGTH) && p->content_length);
    int routed = start_app_request(st, has_body);
    if (routed < 0)
        return -1;
    if (!routed && (p->flags & F_CONTENTLENGTH) && p->content_length > st->bcap) {
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
    if (st->body_seen + len > st->body_limit) {
        fail(st, 413, "request body too large");
        return -1;
    }
    st->body_seen += len;
    if (st->discard || (st->app_request && !st->job))
        return 0;
    if (st->job) {
        int full = eos_net__job_feed(eos_net__http_job_base(st->job), (const uint8_t *)at, len);
        if (full < 0) {
            fail(st, 503, "out of memory");
            return -1;
        }
        if (!job_running(st) && st->body_seen >= DISPATCH_BODY && submit(st) < 0)
            return -1;
        if (full) {
            st->body_full = 1;
            update_input(st);
        }
        return 0;
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

static void dispatch(http_state *st);

static int on_message_complete(http_parser *p)
{
    http_state *st = p->data;
    st->in_message = 0;
    st->keep_alive = http_should_keep_alive(p);
    if (st->app_request) {
        st->app_request = 0;
        st->discard = 0;
        if (st->job) {
            eos_net__job_end_input(eos_net__http_job_base(st->job), 0);
            if (!job_running(st) && submit(st) < 0)
                return -1;
            /* Pipelined requests wait until this one is answered. */
            st->await_job = 1;
            http_parser_pause(p, 1);
            update_input(st);
            return 0;
        }
    } else {
        dispatch(st);
    }
    /* Large buffers are not kept for an idle keep-alive connection. */
    if (st->bcap > ((size_t)1 << 20)) {
        eos_free(st->body, st->bcap);
        st->body = NULL;
        st->bcap = 0;
    }
    if (st->job) {
        /* A management job: wait for it as for an app. */
        st->await_job = 1;
        http_parser_pause(p, 1);
        update_input(st);
        return 0;
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

static void http_input(eos_net__conn *c, const uint8_t *data, size_t size)
{
    http_state *st = c->ps;
    if (!st) {
        st = eos_calloc(1, sizeof *st);
        if (!st) {
            c->close_after_flush = 1;
            return;
        }
        st->c = c;
        http_parser_init(&st->parser, HTTP_REQUEST);
        st->parser.data = st;
        c->ps = st;
        st->start_ns = eos_now_ns();
    }
    if (st->stop)
        return;
    if (st->await_job) {
        eos_net__conn_stash(c, data, size);
        return;
    }
    eos_net_server *srv = c->w->srv;
    uint64_t limit =
        (uint64_t)(srv->cfg.header_timeout_ms ? srv->cfg.header_timeout_ms : 10000) * 1000000ull;
    /* A head that trickles in (slowloris) is cut off once it is late, even
     * though every byte resets the idle timer. */
    uint64_t age = eos_elapsed_ns(eos_now_ns(), st->start_ns);
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
    if (e == HPE_PAUSED) {
        /* A request waits for its job: what follows it waits too. */
        if (used < size)
            eos_net__conn_stash(c, data + used, size - used);
        return;
    }
    if (e != HPE_OK) {
        char msg[200];
        if (e == HPE_INVALID_CONTENT_LENGTH && st->headers_done && (st->parser.flags & F_CHUNKED))
            snprintf(msg, sizeof msg, "malformed HTTP request: chunk size too large");
        else
            snprintf(msg, sizeof msg, "malformed HTTP request: %s", http_errno_description(e));

        fail(st, 400, msg);
        return;
    }
    if (st->parser.upgrade) {
        fail(st, 501, "protocol upgrades are not supported");
        return;
    }
}

static int http_busy(const eos_net__conn *c)
{
    const http_state *st = c->ps;
    return st && (st->job || (st->in_message && !st->stop));
}

static void http_pump(eos_net__conn *c)
{
    http_state *st = c->ps;
    if (!st || !job_running(st))
        return;
    /* The client is behind: the app waits until it catches up. */
    if (c->out.len - c->out.off >= EOS_NET__OUT_HIGH_WATER)
        return;
    eos_net__job *j = eos_net__http_job_base(st->job);
    size_t before = c->out.len - c->out.off;
    int r = eos_net__job_take(j, &c->out);
    if (c->out.len - c->out.off > before)
        st->resp_started = 1;
    if (r < 0) {
        EOS_WARN("net", "%s: out of memory passing on a response; closing", c->peer);
        drop_job(st);
        c->close_after_flush = 1;
        st->stop = 1;
        return;
    }
    if (r == 0) {
        if (st->body_full && !eos_net__job_input_full(j)) {
            st->body_full = 0;
            update_input(st);
        }
        return;
    }
    if (eos_net__http_job_closes(st->job) || st->stop) {
        st->keep_alive = 0;
        st->stop = 1;
        c->close_after_flush = 1;
    }
    c->job = NULL;
    st->job = NULL;
    st->body_full = 0;
    st->resp_started = 0;
    eos_net__job_release(j);
    /* The app answered before its body ended: the rest is read and dropped. */
    if (st->in_message && st->app_request)
        st->discard = 1;
    if (st->await_job) {
        st->await_job = 0;
        http_parser_pause(&st->parser, 0);
    }
    if (!st->stop)
        update_input(st);
}

static int http_expire(eos_net__conn *c)
{
    http_state *st = c->ps;
    if (!st || st->stop || st->resp_started || !st->in_message)
        return 1;
    /* The client stopped in the middle of a request: say so before closing. */
    drop_job(st);
    st->discard = 0;
    fail(st, 408, st->headers_done ? "request body not received in time"
                                   : "request head not received in time");
    return 1;
}

static void http_free(eos_net__conn *c)
{
    http_state *st = c->ps;
    if (!st)
        return;
    drop_job(st);
    eos_free(st->head, st->hcap);
    eos_free(st->body, st->bcap);
    eos_free(st, sizeof *st);
    c->ps = NULL;
}

const eos_net__protocol eos_net__proto_http = {
    .name = "HTTP/1.1",
    .input = http_input,
    .pump = http_pump,
    .busy = http_busy,
    .expire = http_expire,
    .free = http_free,
};

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
    respond(st, eos_net__http_doc_status(doc), "application/json", doc, size, 0);
    eos_free(doc, size + 1);
}

static void metrics(http_state *st)
{
    char *text = NULL;
    size_t len = 0, cap = 0;
    if (eos_net__metrics_text(st->c->w->srv, &text, &len, &cap) < 0)
        respond_text(st, 503, "out of memory", 0);
    else
        respond(st, 200, "text/plain; version=0.0.4", text, len, 0);
    eos_free(text, cap);
}

static int http_authorised(http_state *st)
{
    if (eos_net__conn_authorised(st->c))
        return 1;
    size_t n;
    const char *auth = find_header(st, "authorization", &n);
    if (!auth || n < 7 || strncasecmp(auth, "Bearer ", 7) != 0)
        return 0;
    return eos_apps_token_ok(st->c->w->srv->apps, auth + 7, n - 7);
}

static void header_copy(http_state *st, const char *name, char *buf, size_t cap, const char **out)
{
    size_t n;
    const char *v = find_header(st, name, &n);
    *out = NULL;
    if (!v)
        return;
    snprintf(buf, cap, "%.*s", (int)(n < cap - 1 ? n : cap - 1), v);
    *out = buf;
}

/* A numeric header: 0 when absent, -1 when not a whole number. */
static int limit_header(http_state *st, const char *name, uint64_t *out)
{
    size_t n = 0;
    const char *v = find_header(st, name, &n);
    *out = 0;
    return v ? eos_net__parse_count(v, n, out) : 0;
}

/* PUT and DELETE of an app: a load takes up to seconds, and both wait for
 * other loads, so they run as a job on an app thread. */
static void manage(http_state *st, const char *name, int method)
{
    eos_net_server *srv = st->c->w->srv;
    if (!http_authorised(st)) {
        char *doc = NULL;
        size_t size = 0;
        if (eos_apps_error_doc("unauthorized",
                                eos_apps_has_token(srv->apps) ? "management needs 'authorization: Bearer TOKEN'"
                                               : "management is closed on this server",
                                &doc, &size) == 0)
            respond_json_doc(st, doc, size);
        else
            respond_text(st, 503, "out of memory", 0);
        return;
    }
    char route[1024], hostname[512], outbound[4096];
    size_t qn = 0;
    const char *q = find_header(st, "x-enclave-os-erase", &qn);
    eos_net__http_req r = {
        .method = method == HTTP_DELETE ? "DELETE" : "PUT",
        .target = "",
        .keep_alive = st->keep_alive,
        .is_head = 0,
        .start_ns = st->start_ns,
        .manage_method = method == HTTP_DELETE ? 'D' : 'P',
        .name = name,
        .erase = q && qn == 4 && strncasecmp(q, "true", 4) == 0,
    };
    header_copy(st, "x-enclave-os-route", route, sizeof route, &r.route);
    header_copy(st, "x-enclave-os-hostname", hostname, sizeof hostname, &r.hostname);
    /* Outbound rules, comma-separated (a rule holds no comma). */
    header_copy(st, "x-enclave-os-allow-outbound", outbound, sizeof outbound, &r.outbound);
    size_t on = 0;
    for (const char *o = r.outbound ? outbound : ""; *o; o++)
        if (*o != ' ' && *o != '\t')
            outbound[on++] = *o == ',' ? '\n' : *o;
    if (r.outbound)
        outbound[on] = 0;
    /* The rest of a load's settings (SPEC 3.1 wasm_load: env, max_fuel,
     * max_memory_mb), checked by the load like the framed protocol's. */
    size_t en = 0;
    const char *env = find_header(st, "x-enclave-os-env", &en);
    char *env_copy = NULL;
    if (env && (env_copy = eos_malloc(en + 1)) == NULL) {
        respond_text(st, 503, "out of memory", 0);
        return;
    }
    if (env) {
        memcpy(env_copy, env, en);
        env_copy[en] = 0;
        r.env_json = env_copy;
    }
    size_t pn = 0;
    const char *prov = find_header(st, "x-enclave-os-provenance", &pn);
    char *prov_copy = NULL;
    if (prov && (prov_copy = eos_malloc(pn + 1)) == NULL) {
        eos_free(env_copy, env_copy ? en + 1 : 0);
        respond_text(st, 503, "out of memory", 0);
        return;
    }
    if (prov) {
        memcpy(prov_copy, prov, pn);
        prov_copy[pn] = 0;
        r.provenance = prov_copy;
    }
    const char *bad = NULL;
    if (limit_header(st, "x-enclave-os-max-fuel", &r.max_fuel) < 0)
        bad = "x-enclave-os-max-fuel must be a whole number";
    else if (limit_header(st, "x-enclave-os-max-memory-mb", &r.max_memory_mb) < 0)
        bad = "x-enclave-os-max-memory-mb must be a whole number";
    else if (limit_header(st, "x-enclave-os-max-concurrency", &r.max_concurrency) < 0 ||
             r.max_concurrency > EOS_APPS_MAX_CONCURRENCY)
        bad = "x-enclave-os-max-concurrency must be a number from 0 to 1024";
    size_t tn = 0;
    const char *tier = find_header(st, "x-enclave-os-tier", &tn);
    if (!bad && tier && eos_apps_tier_parse(tier, tn, &r.tier) < 0)
        bad = "x-enclave-os-tier must be auto, interp or compiled";
    if (bad) {
        eos_free(env_copy, env_copy ? en + 1 : 0);
        eos_free(prov_copy, prov_copy ? pn + 1 : 0);
        char *doc = NULL;
        size_t size = 0;
        if (eos_apps_error_doc("invalid_request", bad, &doc, &size) == 0)
            respond_json_doc(st, doc, size);
        else
            respond_text(st, 503, "out of memory", 0);
        return;
    }
    int rc = eos_net__http_job_new(st->c, &r, &st->job);
    eos_free(env_copy, env_copy ? en + 1 : 0);
    eos_free(prov_copy, prov_copy ? pn + 1 : 0);
    if (rc < 0) {
        respond_text(st, 503, "out of memory", 0);
        return;
    }
    st->c->job = eos_net__http_job_base(st->job);
    st->resp_started = 0;
    if (method == HTTP_PUT) {
        eos_net__http_job_give_body(st->job, st->body, st->blen); /* moves to the app */
        st->body = NULL;
        st->bcap = st->blen = 0;
    }
    submit(st);
}

/* A page of http_console.c; frees it. */
static void send_page(http_state *st, eos_net__page *p)
{
    eos_net__conn *c = st->c;
    char head[2048];
    size_t n = eos_net__page_head(p, st->keep_alive, head, sizeof head);
    if (n == 0) {
        eos_net__page_free(p);
        respond_text(st, 500, "response head too large", 1);
        return;
    }
    queue_str(c, head, n);
    if (!st->is_head && p->size)
        queue_str(c, (const char *)p->body, p->size);
    if (!st->keep_alive)
        c->close_after_flush = 1;
    if (p->status >= 400)
        atomic_fetch_add(&c->w->srv->metrics.http_errors, 1);
    eos_net__page_free(p);
}

/* The live log (server-sent events): management only. */
static void logs(http_state *st, const char *query)
{
    eos_net_server *srv = st->c->w->srv;
    size_t n = 0;
    if (!http_authorised(st)) {
        char *doc = NULL;
        size_t size = 0;
        const char *why = !eos_apps_has_token(srv->apps) ? "management is closed on this server"
                          : find_header(st, "authorization", &n)
                              ? "the bearer token was not accepted"
                              : "the log is for management: send 'authorization: Bearer TOKEN'";
        if (eos_apps_error_doc("unauthorized", why, &doc, &size) == 0)
            respond_json_doc(st, doc, size);
        else
            respond_text(st, 503, "out of memory", 0);
        return;
    }
    const char *last = find_header(st, "last-event-id", &n);
    eos_net__page p;
    if (eos_net__logs_page(srv, last, last ? n : 0, query, &p) < 0)
        respond_text(st, 503, "out of memory", 0);
    else
        send_page(st, &p);
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
    if (strcmp(what, "cluster/join") == 0 && m == HTTP_POST) {
        /* A node asks for the data key with its evidence (apps/join.c). */
        uint8_t *grant = NULL;
        eos_diag d;
        eos_diag_init(&d);
        int rc = eos_apps_join_answer(srv->apps, st->body, st->blen, &grant, &size, &d);
        if (rc == 0) {
            respond(st, 200, "application/octet-stream", (const char *)grant, size, 0);
            eos_free(grant, size);
        } else {
            respond_text(st,
                         rc == EOS_EPERM || rc == EOS_EVERIFY ? 403
                         : rc == EOS_EUNSUPPORTED             ? 404
                                                              : 400,
                         d.message[0] ? d.message : eos_strerror(rc), 0);
        }
        return;
    }
    if (!get) {
        respond_text(st, 405, "method not allowed", 0);
        return;
    }
    if (strncmp(what, "console", 7) == 0 && (what[7] == 0 || what[7] == '/')) {
        eos_net__page p;
        eos_net__console_page(srv, what + 7, &p);
        send_page(st, &p);
    } else if (strcmp(what, "logs") == 0) {
        logs(st, query);
    } else if (strcmp(what, "healthz") == 0) {
        respond_text(st, 200, "ok", 0);
    } else if (strcmp(what, "cluster") == 0) {
        if (eos_apps_cluster_doc(srv->apps, &doc, &size) == 0)
            respond_json_doc(st, doc, size);
        else
            respond_text(st, 503, "out of memory", 0);
    } else if (strcmp(what, "apps") == 0) {
        if (eos_apps_list(srv->apps, &doc, &size) == 0)
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
                if (srv->cfg.console_test_tamper)
                    eos_net__tamper_manifest(bin, size);
                respond(st, 200, "application/octet-stream", (const char *)bin, size, 0);
                eos_free(bin, size);
            } else {
                respond_text(st, 503, "out of memory", 0);
            }
        } else if (eos_ratls_server_manifest_json(srv->cfg.ratls, &doc, &size) == 0) {
            if (srv->cfg.console_test_tamper)
                eos_net__tamper_manifest_json(doc);
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

/* A request that is not an app's, answered on the worker (management PUT and
 * DELETE excepted): the well-known endpoints, 400 and 404. */
static void dispatch(http_state *st)
{
    eos_net__conn *c = st->c;
    eos_net_server *srv = c->w->srv;
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
    } else {
        respond_text(st, 404, "no app serves this path", 0);
    }
    if (!st->job)
        eos_net__http_observe(srv, st->start_ns);
}
