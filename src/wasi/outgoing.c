/* wasi:http/outgoing-handler on libcurl: outgoing-request and its body,
 * request-options, future-incoming-response, incoming-response and its body.
 * Each call context drives its transfers with one curl multi handle, pumped
 * from wasi:io/poll and blocking stream operations; nothing runs between host
 * calls, so a transfer only progresses while the guest waits or reads. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

#include "outgoing.h"

#define REQ_BUF_MAX   (1024u * 1024u) /* request bytes waiting for curl */
#define RESP_BUF_HIGH (256u * 1024u)  /* response bytes held before pausing */
#define HEAD_MAX      (64u * 1024u)   /* response header section */
#define WAIT_SLICE_NS 50000000ull     /* longest single wait, so timeouts are checked */

/* error-code cases */
enum {
    EC_DNS_ERROR_NF = 2, /* destination-not-found */
    EC_DEST_UNAVAILABLE = 3,
    EC_CONN_REFUSED = 6,
    EC_CONN_TERMINATED = 7,
    EC_CONN_TIMEOUT = 8,
    EC_CONN_READ_TIMEOUT = 9,
    EC_CONN_LIMIT = 11,
    EC_TLS_PROTOCOL = 12,
    EC_TLS_CERT = 13,
    EC_DENIED = 15,
    EC_METHOD_INVALID = 18,
    EC_URI_INVALID = 19,
    EC_RESP_INCOMPLETE = 25,
    EC_RESP_HEADER_SECTION = 26,
    EC_RESP_BODY_SIZE = 28,
    EC_PROTOCOL = 35,
    EC_CONFIG = 37,
    EC_INTERNAL = 38,
};

static const char *const method_names[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                           "CONNECT", "OPTIONS", "TRACE", "PATCH"};

struct eos_wasi__outctx {
    CURLM *multi;
};

struct eos_wasi__ocall {
    uint32_t refs;
    eos_wasi_app *app;
    CURLM *multi; /* set once added */
    /* the request as built */
    eos_wasi__fields *headers;
    uint32_t method;
    char *method_other;
    int scheme; /* -1 none, 0 http, 1 https, 2 other */
    char *path, *authority;
    bool body_taken, sent;
    /* the request body */
    bool has_body, req_done, req_complete, req_paused;
    uint8_t *rbuf;
    size_t rlen, roff;
    /* the transfer */
    CURL *easy;
    struct curl_slist *slist;
    char *url;
    bool counted;   /* holds one of the app's concurrency slots */
    bool connected; /* curl got past connecting (and the TLS handshake) */
    bool done;
    uint32_t err; /* error-code case + 1; 0 none */
    uint64_t t_start, t_last, t_sent;
    uint64_t connect_ns, first_byte_ns, between_ns;
    /* the response */
    bool head_done, resp_taken, future_taken, body_taken_resp;
    uint16_t status;
    eos_wasi__fields *rh;
    size_t head_bytes;
    uint8_t *bbuf;
    size_t blen, boff, bcap;
    bool resp_paused;
    uint64_t btotal;
    eos_wasi__peercheck peer; /* an attested call's peer check */
};

/* request-options: timeouts in ns, UINT64_MAX for none */
typedef struct ropts {
    uint64_t t[3];
} ropts;

static void set_err(eos_wasi__ocall *c, uint32_t code)
{
    if (!c->err)
        c->err = code + 1;
}

void eos_wasi__ocall_release(eos_wasi__ocall *c)
{
    if (!c || --c->refs)
        return;
    if (c->easy) {
        if (c->multi)
            curl_multi_remove_handle(c->multi, c->easy);
        curl_easy_cleanup(c->easy);
    }
    curl_slist_free_all(c->slist);
    if (c->counted)
        atomic_fetch_sub(&c->app->outbound->inflight, 1);
    eos_wasi__fields_free(c->headers);
    eos_wasi__fields_free(c->rh);
    eos_free(c->method_other, c->method_other ? strlen(c->method_other) + 1 : 0);
    eos_free(c->path, c->path ? strlen(c->path) + 1 : 0);
    eos_free(c->authority, c->authority ? strlen(c->authority) + 1 : 0);
    eos_free(c->url, c->url ? strlen(c->url) + 1 : 0);
    eos_free(c->rbuf, REQ_BUF_MAX);
    eos_free(c->bbuf, c->bcap);
    eos_free(c, sizeof(*c));
}

static eos_wasi__ocall *ref(eos_wasi__ocall *c)
{
    c->refs++;
    return c;
}

eos_wasi__ocall *eos_wasi__ocall_ref(eos_wasi__ocall *c)
{
    return ref(c);
}

/* ---- driving ---- */

static uint32_t map_curl(eos_wasi__ocall *c, CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return EC_DNS_ERROR_NF;
    case CURLE_COULDNT_CONNECT:
        return EC_CONN_REFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        return c->head_done ? EC_CONN_READ_TIMEOUT : EC_CONN_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
        return EC_TLS_PROTOCOL;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
        return EC_TLS_CERT;
    case CURLE_SSL_CACERT_BADFILE:
        return EC_CONFIG;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
        return EC_CONN_TERMINATED;
    case CURLE_PARTIAL_FILE:
        return EC_RESP_INCOMPLETE;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_BAD_CONTENT_ENCODING:
        return EC_PROTOCOL;
    case CURLE_URL_MALFORMAT:
        return EC_URI_INVALID;
    case CURLE_OUT_OF_MEMORY:
        /* curl 7.x reports a header line over its 100 KiB limit this way */
        return c->head_done ? EC_INTERNAL : EC_RESP_HEADER_SECTION;
    default:
        return EC_INTERNAL;
    }
}

static void drive(struct eos_wasi__outctx *o)
{
    if (!o || !o->multi)
        return;
    int running = 0;
    curl_multi_perform(o->multi, &running);
    CURLMsg *m;
    int left = 0;
    while ((m = curl_multi_info_read(o->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        eos_wasi__ocall *c = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        if (!c)
            continue;
        c->done = true;
        if (c->peer.refused) {
            /* The peer is not what the attested rule allows: a denial. */
            set_err(c, EC_DENIED);
            atomic_fetch_add(&c->app->outbound->denied, 1);
            eos_log(EOS_LOG_WARN, "wasi",
                    "[%s] outbound call to %s denied (HTTP-request-denied): the peer fails "
                    "attested rule '%s': %s",
                    c->app->name, c->url, c->peer.rule->text, c->peer.why);
            continue;
        }
        if (m->data.result != CURLE_OK)
            set_err(c, map_curl(c, m->data.result));
        if (!c->head_done)
            set_err(c, EC_RESP_INCOMPLETE);
        if (c->err) {
            atomic_fetch_add(&c->app->outbound->errors, 1);
            eos_log(EOS_LOG_INFO, "wasi", "[%s] outbound call to %s failed: %s (%s)",
                    c->app->name, c->url, eos_wasi__error_code_name(c->err - 1),
                    curl_easy_strerror(m->data.result));
        }
    }
}

void eos_wasi__out_wait(eos_wasi__ctx *ctx, uint64_t max_ns)
{
    struct eos_wasi__outctx *o = ctx->outgoing;
    if (max_ns > WAIT_SLICE_NS)
        max_ns = WAIT_SLICE_NS;
    int ms = (int)(max_ns / 1000000u);
    if (ms < 1)
        ms = 1;
    if (!o || !o->multi) {
        struct timespec ts = {0, (long)ms * 1000000L};
        nanosleep(&ts, NULL);
        return;
    }
    drive(o);
    curl_multi_poll(o->multi, NULL, 0, ms, NULL);
    drive(o);
}

bool eos_wasi__out_ready(eos_wasi__ctx *ctx, eos_wasi__ocall *c, uint8_t what)
{
    drive(ctx->outgoing);
    if (c->err || c->done)
        return true;
    switch (what) {
    case EOS_WASI__OWAIT_HEAD:
        return c->head_done;
    case EOS_WASI__OWAIT_BODY:
        return c->blen > c->boff;
    case EOS_WASI__OWAIT_SEND:
        return c->rlen - c->roff < REQ_BUF_MAX;
    default:
        return false;
    }
}

bool eos_wasi__out_can_progress(eos_wasi__ocall *c)
{
    return c->sent && !c->done;
}

void eos_wasi__out_ctx_fini(eos_wasi__ctx *ctx)
{
    struct eos_wasi__outctx *o = ctx->outgoing;
    if (!o)
        return;
    if (o->multi)
        curl_multi_cleanup(o->multi);
    eos_free(o, sizeof(*o));
    ctx->outgoing = NULL;
}

/* ---- curl callbacks (run inside curl_multi_perform or curl_easy_pause) ---- */

static size_t on_header(char *b, size_t size, size_t n, void *p)
{
    eos_wasi__ocall *c = p;
    size_t len = size * n;
    c->t_last = eos_now_ns();
    if ((c->head_bytes += len) > HEAD_MAX) {
        set_err(c, EC_RESP_HEADER_SECTION);
        return 0;
    }
    if (c->head_done)
        return len; /* trailers: not passed on */
    if (len >= 5 && memcmp(b, "HTTP/", 5) == 0) {
        const char *sp = memchr(b, ' ', len);
        unsigned st = 0;
        for (const char *q = sp ? sp + 1 : b + len; q < b + len && *q >= '0' && *q <= '9'; q++)
            st = st * 10 + (unsigned)(*q - '0');
        c->status = (uint16_t)(st > 999 ? 999 : st);
        eos_wasi__fields_free(c->rh);
        c->rh = eos_wasi__fields_new();
        return c->rh ? len : 0;
    }
    if ((len == 2 && b[0] == '\r') || (len == 1 && b[0] == '\n')) {
        if (c->status >= 200 || c->status == 101)
            c->head_done = true;
        return len;
    }
    size_t e = len;
    while (e && (b[e - 1] == '\r' || b[e - 1] == '\n'))
        e--;
    const char *colon = memchr(b, ':', e);
    if (!colon || !c->rh)
        return len;
    size_t nl = (size_t)(colon - b);
    const char *v = colon + 1;
    while (v < b + e && (*v == ' ' || *v == '\t'))
        v++;
    size_t vl = (size_t)(b + e - v);
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    if (eos_wasi__field_name_check(b, nl) == EOS_WASI__HDR_INVALID ||
        !eos_wasi__field_value_valid((const uint8_t *)v, vl))
        return len;
    return eos_wasi__fields_push(c->rh, b, nl, (const uint8_t *)v, vl) ? 0 : len;
}

static size_t on_write(char *d, size_t size, size_t n, void *p)
{
    eos_wasi__ocall *c = p;
    size_t len = size * n;
    eos_wasi__outapp *oa = c->app->outbound;
    if (c->btotal + len > oa->max_response) {
        set_err(c, EC_RESP_BODY_SIZE);
        return 0;
    }
    if (c->blen - c->boff >= RESP_BUF_HIGH) {
        c->resp_paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (c->boff && c->boff == c->blen)
        c->boff = c->blen = 0;
    if (c->blen + len > c->bcap) {
        if (c->boff) {
            memmove(c->bbuf, c->bbuf + c->boff, c->blen - c->boff);
            c->blen -= c->boff;
            c->boff = 0;
        }
        if (c->blen + len > c->bcap) {
            size_t ncap = c->blen + len + 64 * 1024;
            uint8_t *nb = eos_realloc(c->bbuf, c->bcap, ncap);
            if (!nb) {
                set_err(c, EC_INTERNAL);
                return 0;
            }
            c->bbuf = nb;
            c->bcap = ncap;
        }
    }
    memcpy(c->bbuf + c->blen, d, len);
    c->blen += len;
    c->btotal += len;
    c->t_last = eos_now_ns();
    atomic_fetch_add(&oa->bytes_in, len);
    return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *p)
{
    eos_wasi__ocall *c = p;
    size_t cap = size * n, avail = c->rlen - c->roff;
    if (!avail) {
        if (c->req_done) {
            if (c->req_complete)
                return 0;
            set_err(c, EC_INTERNAL);
            return CURL_READFUNC_ABORT;
        }
        c->req_paused = true;
        return CURL_READFUNC_PAUSE;
    }
    size_t k = avail < cap ? avail : cap;
    memcpy(buf, c->rbuf + c->roff, k);
    c->roff += k;
    if (c->roff == c->rlen)
        c->roff = c->rlen = 0;
    c->t_last = eos_now_ns();
    atomic_fetch_add(&c->app->outbound->bytes_out, k);
    return k;
}

/* Progress: the first-byte and between-bytes timeouts, which curl has no
 * direct option for. A transfer paused because the guest reads slowly is
 * not the peer's fault and is not timed. */
static int on_progress(void *p, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
    eos_wasi__ocall *c = p;
    uint64_t now = eos_now_ns();
    if (c->resp_paused || c->req_paused)
        return 0;
    if (!c->connected) {
        /* Connecting (TLS included) is the connect timeout's; the others
         * start once the transfer can begin. */
        curl_off_t pre = 0;
        curl_easy_getinfo(c->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
        if (pre <= 0)
            return 0;
        c->connected = true;
        c->t_last = now;
    }
    if (!c->t_sent && (!c->has_body || (c->req_done && c->rlen == c->roff)))
        c->t_sent = now;
    if (!c->head_done && c->t_sent && now - c->t_sent > c->first_byte_ns) {
        set_err(c, EC_CONN_READ_TIMEOUT);
        return 1;
    }
    /* Between bytes of the response, or of the request body going out. */
    if ((c->head_done || !c->t_sent) && now - c->t_last > c->between_ns) {
        set_err(c, EC_CONN_READ_TIMEOUT);
        return 1;
    }
    return 0;
}

static CURLcode on_ssl_ctx(CURL *easy, void *sslctx, void *p)
{
    (void)easy;
    eos_wasi__ocall *c = p;
    SSL_CTX *s = sslctx;
    SSL_CTX_set1_cert_store(s, c->app->outbound->store);
    SSL_CTX_set_min_proto_version(s, TLS1_2_VERSION);
    if (c->peer.rule)
        eos_wasi__out_peer_install(s, &c->peer);
    return CURLE_OK;
}

/* ---- outgoing-request ---- */

EOS_WASI__OUT_FN(eos_wasi__oreq_new)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi__fields *h = eos_wasi__res_take(ctx, args[0].of.handle, EOS_WASI__R_FIELDS);
    eos_wasi__ocall *c = eos_calloc(1, sizeof(*c));
    if (!c) {
        eos_wasi__fields_free(h);
        return EOS_ENOMEM;
    }
    c->refs = 1;
    c->app = ctx->app;
    c->headers = h;
    c->scheme = -1;
    if (h)
        h->immutable = true;
    return eos_wasi__ret_handle(&results[0], eos_wasi__res_new(ctx, EOS_WASI__R_OUT_REQUEST, c));
}

#define OREQ_SELF(ctx, c) EOS_WASI__SELF(ctx, eos_wasi__ocall, c, EOS_WASI__R_OUT_REQUEST)

EOS_WASI__OUT_FN(eos_wasi__oreq_body)
{
    OREQ_SELF(ctx, c);
    if (c->body_taken)
        return eos_wasi__err(&results[0], NULL);
    uint32_t rep = eos_wasi__out_body_resource(ctx, c);
    if (!rep)
        return EOS_ENOMEM;
    c->body_taken = true;
    c->has_body = true;
    return eos_wasi__ok_handle(ctx, &results[0], rep);
}

EOS_WASI__OUT_FN(eos_wasi__oreq_method)
{
    OREQ_SELF(ctx, c);
    eos_cm_val *v = &results[0];
    v->of.var.index = c->method;
    v->of.var.payload = NULL;
    if (c->method_other) {
        eos_cm_val *p = eos_wasi__val_new(ctx, 1);
        if (!p || !eos_wasi__val_str(ctx, p, c->method_other, strlen(c->method_other)))
            return EOS_ENOMEM;
        v->of.var.payload = p;
    }
    return 0;
}

static bool token(const char *s, size_t n)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("!#$%&'*+-.^_`|~", s[i]) && !((s[i] >= '0' && s[i] <= '9') ||
                                                   (s[i] >= 'a' && s[i] <= 'z') ||
                                                   (s[i] >= 'A' && s[i] <= 'Z')))
            return false;
    return true;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = eos_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static void set_str(char **dst, char *v)
{
    eos_free(*dst, *dst ? strlen(*dst) + 1 : 0);
    *dst = v;
}

EOS_WASI__OUT_FN(eos_wasi__oreq_set_method)
{
    OREQ_SELF(ctx, c);
    const eos_cm_val *m = &args[1];
    if (m->of.var.index >= EOS_ARRAY_LEN(method_names)) {
        const eos_cm_val *s = m->of.var.payload;
        if (!s || !token(s->of.str.ptr, s->of.str.len) || s->of.str.len > 64)
            return eos_wasi__err(&results[0], NULL);
        char *d = dup_n(s->of.str.ptr, s->of.str.len);
        if (!d)
            return EOS_ENOMEM;
        set_str(&c->method_other, d);
    } else {
        set_str(&c->method_other, NULL);
    }
    c->method = m->of.var.index;
    return eos_wasi__ok(&results[0], NULL);
}

EOS_WASI__OUT_FN(eos_wasi__oreq_path)
{
    OREQ_SELF(ctx, c);
    return eos_wasi__ret_opt_str(ctx, &results[0], c->path);
}

/* Sets an optional string field when every byte passes ok(). */
static int set_opt(eos_cm_val *res, char **dst, const eos_cm_val *opt, bool path)
{
    char *d = NULL;
    if (opt->of.var.index == 1 && opt->of.var.payload) {
        const char *s = opt->of.var.payload->of.str.ptr;
        size_t n = opt->of.var.payload->of.str.len;
        if (n > 8192)
            return eos_wasi__err(res, NULL);
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)s[i];
            if (ch <= 0x20 || ch >= 0x7f || (!path && (ch == '/' || ch == '@' || ch == '?' ||
                                                       ch == '#' || ch == '\\')))
                return eos_wasi__err(res, NULL);
        }
        if (path && n && s[0] != '/' && s[0] != '?')
            return eos_wasi__err(res, NULL);
        if (!(d = dup_n(s, n)))
            return EOS_ENOMEM;
    }
    set_str(dst, d);
    return eos_wasi__ok(res, NULL);
}

EOS_WASI__OUT_FN(eos_wasi__oreq_set_path)
{
    OREQ_SELF(ctx, c);
    return set_opt(&results[0], &c->path, &args[1], true);
}

EOS_WASI__OUT_FN(eos_wasi__oreq_authority)
{
    OREQ_SELF(ctx, c);
    return eos_wasi__ret_opt_str(ctx, &results[0], c->authority);
}

EOS_WASI__OUT_FN(eos_wasi__oreq_set_authority)
{
    OREQ_SELF(ctx, c);
    return set_opt(&results[0], &c->authority, &args[1], false);
}

EOS_WASI__OUT_FN(eos_wasi__oreq_scheme)
{
    OREQ_SELF(ctx, c);
    if (c->scheme < 0) {
        eos_wasi__val_option(&results[0], NULL);
        return 0;
    }
    eos_cm_val *p = eos_wasi__val_new(ctx, 1);
    if (!p)
        return EOS_ENOMEM;
    p->of.var.index = (uint32_t)c->scheme;
    p->of.var.payload = NULL;
    if (c->scheme == 2) {
        eos_cm_val *s = eos_wasi__val_new(ctx, 1);
        if (!s || !eos_wasi__val_str(ctx, s, "other", 5))
            return EOS_ENOMEM;
        p->of.var.payload = s;
    }
    eos_wasi__val_option(&results[0], p);
    return 0;
}

EOS_WASI__OUT_FN(eos_wasi__oreq_set_scheme)
{
    OREQ_SELF(ctx, c);
    const eos_cm_val *o = &args[1];
    if (o->of.var.index == 0 || !o->of.var.payload) {
        c->scheme = -1;
    } else {
        uint32_t k = o->of.var.payload->of.var.index;
        /* Other schemes are accepted here and refused by handle, as
         * wasmtime does; the name itself is not kept. */
        c->scheme = k > 2 ? 2 : (int)k;
    }
    return eos_wasi__ok(&results[0], NULL);
}

EOS_WASI__OUT_FN(eos_wasi__oreq_headers)
{
    OREQ_SELF(ctx, c);
    return eos_wasi__ret_handle(&results[0],
                                eos_wasi__res_new(ctx, EOS_WASI__R_FIELDS,
                                                  eos_wasi__fields_clone(c->headers, true)));
}

/* ---- request-options ---- */

EOS_WASI__OUT_FN(eos_wasi__opts_new)
{
    EOS_WASI__ENTER(ctx, call);
    ropts *o = eos_calloc(1, sizeof(*o));
    if (o)
        o->t[0] = o->t[1] = o->t[2] = UINT64_MAX;
    return eos_wasi__ret_handle(&results[0], eos_wasi__res_new(ctx, EOS_WASI__R_REQ_OPTIONS, o));
}

static int opt_get(eos_cm_call *call, const eos_cm_val *args, eos_cm_val *results, int i)
{
    EOS_WASI__SELF(ctx, ropts, o, EOS_WASI__R_REQ_OPTIONS);
    if (o->t[i] == UINT64_MAX) {
        eos_wasi__val_option(&results[0], NULL);
        return 0;
    }
    eos_cm_val *p = eos_wasi__val_new(ctx, 1);
    if (!p)
        return EOS_ENOMEM;
    p->of.u = o->t[i];
    eos_wasi__val_option(&results[0], p);
    return 0;
}

static int opt_set(eos_cm_call *call, const eos_cm_val *args, eos_cm_val *results, int i)
{
    EOS_WASI__SELF(ctx, ropts, o, EOS_WASI__R_REQ_OPTIONS);
    const eos_cm_val *v = &args[1];
    o->t[i] = v->of.var.index == 1 && v->of.var.payload ? v->of.var.payload->of.u : UINT64_MAX;
    return eos_wasi__ok(&results[0], NULL);
}

EOS_WASI__OUT_FN(eos_wasi__opts_get_connect) { return opt_get(call, args, results, 0); }
EOS_WASI__OUT_FN(eos_wasi__opts_set_connect) { return opt_set(call, args, results, 0); }
EOS_WASI__OUT_FN(eos_wasi__opts_get_first) { return opt_get(call, args, results, 1); }
EOS_WASI__OUT_FN(eos_wasi__opts_set_first) { return opt_set(call, args, results, 1); }
EOS_WASI__OUT_FN(eos_wasi__opts_get_between) { return opt_get(call, args, results, 2); }
EOS_WASI__OUT_FN(eos_wasi__opts_set_between) { return opt_set(call, args, results, 2); }

/* ---- handle ---- */

static int fail(eos_wasi__ctx *ctx, eos_cm_val *res, uint32_t code)
{
    eos_cm_val *p = eos_wasi__val_new(ctx, 1);
    if (!p || eos_wasi__error_code_val(ctx, p, code))
        return EOS_ENOMEM;
    return eos_wasi__err(res, p);
}

/* Splits authority into host and port (default by scheme); false when it is
 * not host[:port]. */
static bool split_authority(const char *a, bool https, char *host, size_t host_size, int *port)
{
    const char *colon = strrchr(a, ':');
    const char *hend = a + strlen(a);
    *port = https ? 443 : 80;
    if (a[0] == '[') {
        const char *rb = strchr(a, ']');
        if (!rb)
            return false;
        colon = rb[1] == ':' ? rb + 1 : NULL;
        if (rb[1] && !colon)
            return false;
        hend = rb + 1;
    } else if (colon) {
        hend = colon;
    }
    if (colon) {
        long v = 0;
        const char *p = colon + 1;
        if (!*p)
            return false;
        for (; *p; p++)
            if (*p < '0' || *p > '9' || (v = v * 10 + (*p - '0')) > 65535)
                return false;
        *port = (int)v;
    }
    size_t n = (size_t)(hend - a);
    if (!n || n >= host_size)
        return false;
    for (size_t i = 0; i < n; i++)
        host[i] = (char)((a[i] >= 'A' && a[i] <= 'Z') ? a[i] + 32 : a[i]);
    host[n] = 0;
    return true;
}

static int add_header(eos_wasi__ocall *c, const char *name, size_t nl, const uint8_t *v, size_t vl)
{
    char *line = eos_malloc(nl + vl + 3);
    if (!line)
        return EOS_ENOMEM;
    memcpy(line, name, nl);
    /* "name;" is curl's way to send a header with an empty value. */
    memcpy(line + nl, vl ? ": " : ";", vl ? 2 : 1);
    memcpy(line + nl + (vl ? 2 : 1), v, vl);
    line[nl + (vl ? 2 : 1) + vl] = 0;
    struct curl_slist *s = curl_slist_append(c->slist, line);
    eos_free(line, nl + vl + 3);
    if (!s)
        return EOS_ENOMEM;
    c->slist = s;
    return 0;
}

/* Configures the easy handle; 0, an error-code case + 1 (> 0) or EOS_ENOMEM. */
static int setup(eos_wasi__ctx *ctx, eos_wasi__ocall *c, bool https, const ropts *o)
{
    eos_wasi__outapp *oa = ctx->app->outbound;
    const char *path = c->path ? c->path : "/";
    size_t ul = strlen(c->authority) + strlen(path) + 16;
    if (!(c->url = eos_malloc(ul)))
        return EOS_ENOMEM;
    snprintf(c->url, ul, "%s://%s%s%s", https ? "https" : "http", c->authority,
             path[0] == '?' ? "/" : "", path);
    if (!(c->easy = curl_easy_init()))
        return EOS_ENOMEM;
    CURL *e = c->easy;
    c->connect_ns = o && o->t[0] != UINT64_MAX ? o->t[0] : oa->connect_ns;
    c->first_byte_ns = o && o->t[1] != UINT64_MAX ? o->t[1] : oa->first_byte_ns;
    c->between_ns = o && o->t[2] != UINT64_MAX ? o->t[2] : oa->between_ns;
    long cms = (long)(c->connect_ns / 1000000u);
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)c);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* never the environment's proxy */
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, cms > 0 ? cms : 1L);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    /* An attested peer is known by its evidence and configuration, which
     * the peer verifier checks; its certificate names no DNS host. */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->peer.rule ? 0L : 2L);
    if (c->peer.rule)
        curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, c);
    const char *m = c->method_other ? c->method_other : method_names[c->method];
    if (c->method == 1)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    if (c->has_body) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, c);
    }
    if (c->method != 0 && c->method != 1 && !(c->method == 2 && c->has_body))
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    else if (c->method == 0 && c->has_body)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    bool has_len = false;
    for (size_t i = 0; c->headers && i < c->headers->len; i++) {
        const eos_wasi__field *f = &c->headers->items[i];
        if (f->name_size == 14 && memcmp(f->name, "content-length", 14) == 0) {
            curl_off_t v = 0;
            for (size_t k = 0; k < f->value_size; k++) {
                if (f->value[k] < '0' || f->value[k] > '9' || v > ((curl_off_t)1 << 60))
                    return EC_PROTOCOL + 1;
                v = v * 10 + (f->value[k] - '0');
            }
            if (c->has_body)
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, v);
            has_len = true;
            continue;
        }
        if (add_header(c, f->name, f->name_size, f->value, f->value_size))
            return EOS_ENOMEM;
    }
    (void)has_len;
    /* No 100-continue round trip. */
    struct curl_slist *sl = curl_slist_append(c->slist, "Expect:");
    if (!sl)
        return EOS_ENOMEM;
    c->slist = sl;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->slist);
    return 0;
}

EOS_WASI__OUT_FN(eos_wasi__outgoing_handle)
{
    EOS_WASI__ENTER(ctx, call);
    eos_wasi__ocall *c = eos_wasi__res_take(ctx, args[0].of.handle, EOS_WASI__R_OUT_REQUEST);
    if (!c)
        return EOS_TRAP_HOST;
    ropts *o = NULL;
    if (args[1].of.var.index == 1 && args[1].of.var.payload) {
        o = eos_wasi__res_take(ctx, args[1].of.var.payload->of.handle, EOS_WASI__R_REQ_OPTIONS);
        if (!o) {
            eos_wasi__ocall_release(c);
            return EOS_TRAP_HOST;
        }
    }
    eos_wasi__outapp *oa = ctx->app->outbound;
    int rc = 0;
    uint32_t code = 0;
    char host[256], why[200];
    int port = 0;
    bool https = c->scheme != 0;
    const eos_wasi__orule *rule = NULL;
    if (c->scheme == 2) {
        code = EC_URI_INVALID;
        snprintf(why, sizeof(why), "only http and https are supported");
    } else if (!c->authority || !split_authority(c->authority, https, host, sizeof(host), &port)) {
        code = EC_URI_INVALID;
        snprintf(why, sizeof(why), "the request has no usable authority");
    } else if (!(rule = eos_wasi__out_allowed(oa, https, host, port, why, sizeof(why)))) {
        code = EC_DENIED;
    } else if (atomic_fetch_add(&oa->inflight, 1) >= oa->max_concurrent) {
        atomic_fetch_sub(&oa->inflight, 1);
        code = EC_CONN_LIMIT;
        snprintf(why, sizeof(why), "%u calls are in flight already", oa->max_concurrent);
    }
    if (code) {
        atomic_fetch_add(&oa->denied, 1);
        eos_log(EOS_LOG_WARN, "wasi", "[%s] outbound call to %s://%s denied (%s): %s",
                ctx->app->name, https ? "https" : "http",
                c->authority ? c->authority : "(none)", eos_wasi__error_code_name(code), why);
        goto out;
    }
    c->counted = true;
    c->sent = true;
    if (rule->attested) {
        c->peer.rule = rule;
        c->peer.oa = oa;
    }
    if (!ctx->outgoing && !(ctx->outgoing = eos_calloc(1, sizeof(*ctx->outgoing)))) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if (!ctx->outgoing->multi && !(ctx->outgoing->multi = curl_multi_init())) {
        rc = EOS_ENOMEM;
        goto out;
    }
    rc = setup(ctx, c, https, o);
    if (rc > 0) {
        code = (uint32_t)rc - 1;
        rc = 0;
        goto out;
    }
    if (rc)
        goto out;
    c->t_start = c->t_last = eos_now_ns();
    if (curl_multi_add_handle(ctx->outgoing->multi, c->easy) != CURLM_OK) {
        rc = EOS_ENOMEM;
        goto out;
    }
    c->multi = ctx->outgoing->multi;
    atomic_fetch_add(&oa->calls, 1);
    uint32_t rep = eos_wasi__res_add(ctx, EOS_WASI__R_FUT_RESPONSE, c);
    if (!rep) {
        rc = EOS_ENOMEM;
        goto out;
    }
    c = NULL; /* the future's now */
    rc = eos_wasi__ok_handle(ctx, &results[0], rep);
    drive(ctx->outgoing);
out:
    eos_free(o, sizeof(*o));
    eos_wasi__ocall_release(c);
    if (!rc && code)
        return fail(ctx, &results[0], code);
    return rc;
}

/* ---- future-incoming-response, incoming-response ---- */

EOS_WASI__OUT_FN(eos_wasi__fut_subscribe)
{
    EOS_WASI__SELF(ctx, eos_wasi__ocall, c, EOS_WASI__R_FUT_RESPONSE);
    return eos_wasi__ret_handle(&results[0],
                                eos_wasi__out_pollable(ctx, c, EOS_WASI__OWAIT_HEAD));
}

EOS_WASI__OUT_FN(eos_wasi__fut_get)
{
    EOS_WASI__SELF(ctx, eos_wasi__ocall, c, EOS_WASI__R_FUT_RESPONSE);
    drive(ctx->outgoing);
    if (!c->head_done && !c->err && !c->done) {
        eos_wasi__val_option(&results[0], NULL);
        return 0;
    }
    eos_cm_val *v = eos_wasi__val_new(ctx, 3);
    if (!v)
        return EOS_ENOMEM;
    eos_wasi__val_option(&results[0], &v[0]);
    if (c->future_taken) {
        eos_wasi__val_result(&v[0], true, NULL);
        return 0;
    }
    c->future_taken = true;
    eos_wasi__val_result(&v[0], false, &v[1]);
    if (c->err && !c->head_done) {
        if (eos_wasi__error_code_val(ctx, &v[2], c->err - 1))
            return EOS_ENOMEM;
        eos_wasi__val_result(&v[1], true, &v[2]);
        return 0;
    }
    uint32_t rep = eos_wasi__res_add(ctx, EOS_WASI__R_IN_RESPONSE, ref(c));
    if (!rep) {
        eos_wasi__ocall_release(c);
        return EOS_ENOMEM;
    }
    v[2].of.handle = rep;
    eos_wasi__val_result(&v[1], false, &v[2]);
    return 0;
}

EOS_WASI__OUT_FN(eos_wasi__iresp_status)
{
    EOS_WASI__SELF(ctx, eos_wasi__ocall, c, EOS_WASI__R_IN_RESPONSE);
    results[0].of.u = c->status;
    return 0;
}

EOS_WASI__OUT_FN(eos_wasi__iresp_headers)
{
    EOS_WASI__SELF(ctx, eos_wasi__ocall, c, EOS_WASI__R_IN_RESPONSE);
    eos_wasi__fields *f = c->rh ? eos_wasi__fields_clone(c->rh, true) : eos_wasi__fields_new();
    if (f)
        f->immutable = true;
    return eos_wasi__ret_handle(&results[0], eos_wasi__res_new(ctx, EOS_WASI__R_FIELDS, f));
}

EOS_WASI__OUT_FN(eos_wasi__iresp_consume)
{
    EOS_WASI__SELF(ctx, eos_wasi__ocall, c, EOS_WASI__R_IN_RESPONSE);
    if (c->body_taken_resp)
        return eos_wasi__err(&results[0], NULL);
    uint32_t rep = eos_wasi__in_body_resource(ctx, c);
    if (!rep)
        return EOS_ENOMEM;
    c->body_taken_resp = true;
    return eos_wasi__ok_handle(ctx, &results[0], rep);
}

uint32_t eos_wasi__out_pollable(eos_wasi__ctx *ctx, eos_wasi__ocall *c, uint8_t what)
{
    eos_wasi__pollable *p = eos_calloc(1, sizeof(*p));
    if (!p)
        return 0;
    p->kind = EOS_WASI__POLL_OUTGOING;
    p->call = ref(c);
    p->what = what;
    return eos_wasi__res_new(ctx, EOS_WASI__R_POLLABLE, p);
}

/* ---- the response body's input stream ---- */

static int rbody_read(eos_wasi__ctx *ctx, void *impl, uint8_t *buf, size_t cap, size_t *out)
{
    eos_wasi__ocall *c = impl;
    *out = 0;
    if (c->blen == c->boff)
        drive(ctx->outgoing);
    size_t avail = c->blen - c->boff;
    if (avail) {
        size_t k = avail < cap ? avail : cap;
        memcpy(buf, c->bbuf + c->boff, k);
        c->boff += k;
        if (c->boff == c->blen)
            c->boff = c->blen = 0;
        if (c->resp_paused && c->blen - c->boff < RESP_BUF_HIGH / 2) {
            c->resp_paused = false;
            c->t_last = eos_now_ns();
            curl_easy_pause(c->easy, CURLPAUSE_CONT);
        }
        *out = k;
        return 0;
    }
    if (c->err) {
        ctx->http_err = c->err;
        return EOS_EIO;
    }
    return c->done ? EOS_ECLOSED : 0;
}

static void rbody_wait(eos_wasi__ctx *ctx, void *impl)
{
    eos_wasi__out_wait(ctx, WAIT_SLICE_NS);
}

static void rbody_release(eos_wasi__ctx *ctx, void *impl)
{
    eos_wasi__ocall_release(impl);
}

uint32_t eos_wasi__out_body_stream(eos_wasi__ctx *ctx, eos_wasi__ocall *c)
{
    eos_wasi__istream t = {
        .read = rbody_read, .release = rbody_release, .wait = rbody_wait, .impl = ref(c)};
    return eos_wasi__istream_new(ctx, &t);
}

/* future-trailers of a response: ready when the transfer is done. */
int eos_wasi__out_trailers(eos_wasi__ctx *ctx, eos_wasi__ocall *c, bool *taken, eos_cm_val *res)
{
    drive(ctx->outgoing);
    if (!c->done && !c->err) {
        eos_wasi__val_option(res, NULL);
        return 0;
    }
    eos_cm_val *v = eos_wasi__val_new(ctx, 3);
    if (!v)
        return EOS_ENOMEM;
    eos_wasi__val_option(res, &v[0]);
    if (*taken) {
        eos_wasi__val_result(&v[0], true, NULL);
        return 0;
    }
    *taken = true;
    eos_wasi__val_result(&v[0], false, &v[1]);
    if (c->err) {
        if (eos_wasi__error_code_val(ctx, &v[2], c->err - 1))
            return EOS_ENOMEM;
        eos_wasi__val_result(&v[1], true, &v[2]);
        return 0;
    }
    eos_wasi__val_result(&v[1], false, &v[2]);
    eos_wasi__val_option(&v[2], NULL);
    return 0;
}

/* ---- the request body's output stream ---- */

static int qbody_space(eos_wasi__ctx *ctx, void *impl, uint64_t *out)
{
    eos_wasi__ocall *c = impl;
    if (c->req_done || c->err || c->done) {
        ctx->http_err = c->err;
        return c->err ? EOS_EIO : EOS_ECLOSED;
    }
    *out = REQ_BUF_MAX - (c->rlen - c->roff);
    return 0;
}

static int qbody_write(eos_wasi__ctx *ctx, void *impl, const uint8_t *data, size_t size)
{
    eos_wasi__ocall *c = impl;
    if (c->req_done || c->err || c->done) {
        ctx->http_err = c->err;
        return c->err ? EOS_EIO : EOS_ECLOSED;
    }
    if (!c->rbuf && !(c->rbuf = eos_malloc(REQ_BUF_MAX)))
        return EOS_ENOMEM;
    if (c->roff) {
        memmove(c->rbuf, c->rbuf + c->roff, c->rlen - c->roff);
        c->rlen -= c->roff;
        c->roff = 0;
    }
    if (size > REQ_BUF_MAX - c->rlen)
        return EOS_ELIMIT;
    memcpy(c->rbuf + c->rlen, data, size);
    c->rlen += size;
    if (c->req_paused && c->easy) {
        c->req_paused = false;
        curl_easy_pause(c->easy, CURLPAUSE_CONT);
    }
    return 0;
}

static int qbody_flush(eos_wasi__ctx *ctx, void *impl, bool blocking)
{
    eos_wasi__ocall *c = impl;
    drive(ctx->outgoing);
    while (blocking && c->sent && !c->done && !c->err && c->rlen != c->roff)
        eos_wasi__out_wait(ctx, WAIT_SLICE_NS);
    return c->err ? EOS_EIO : 0;
}

static void qbody_release(eos_wasi__ctx *ctx, void *impl)
{
    eos_wasi__ocall_release(impl);
}

uint32_t eos_wasi__out_req_stream(eos_wasi__ctx *ctx, eos_wasi__ocall *c)
{
    eos_wasi__ostream t = {.space = qbody_space,
                           .write = qbody_write,
                           .flush = qbody_flush,
                           .release = qbody_release,
                           .impl = ref(c)};
    return eos_wasi__ostream_new(ctx, &t);
}

void eos_wasi__out_req_finish(eos_wasi__ctx *ctx, eos_wasi__ocall *c, bool complete)
{
    if (c->req_done)
        return;
    c->req_done = true;
    c->req_complete = complete;
    if (c->req_paused && c->easy) {
        c->req_paused = false;
        curl_easy_pause(c->easy, CURLPAUSE_CONT);
    }
    drive(ctx->outgoing);
}

bool eos_wasi__out_free_obj(eos_wasi__ctx *ctx, uint8_t type, void *obj)
{
    switch (type) {
    case EOS_WASI__R_OUT_REQUEST:
    case EOS_WASI__R_FUT_RESPONSE:
    case EOS_WASI__R_IN_RESPONSE:
        eos_wasi__ocall_release(obj);
        return true;
    case EOS_WASI__R_REQ_OPTIONS:
        eos_free(obj, sizeof(ropts));
        return true;
    default:
        return false;
    }
}
