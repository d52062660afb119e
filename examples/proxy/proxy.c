/* A proxy that transforms: each request is sent on to the upstream named by the
 * app's UPSTREAM environment variable, and the upstream's answer comes back with
 * ASCII letters upper-cased. Both bodies stream through one 16 KiB chunk, so any
 * size passes in bounded memory. /_fanout sends n calls at once and reports each
 * outcome (a way to see the host's per-app limit on calls in flight); /_repeat
 * makes n calls one after the other (over one kept-alive connection) and counts
 * them, which is what bench/net/bench_egress.py times. */
#include <stdlib.h>
#include <string.h>

#include <eos_app.h>

#define FANOUT_MAX 64

static unsigned char chunk[16384];

/* A decimal header value in milliseconds, 0 when absent or malformed. */
static uint32_t header_ms(eos_request *req, const char *name)
{
    const char *v = eos_request_header(req, name, NULL);
    uint32_t ms = 0;
    for (; v && *v >= '0' && *v <= '9' && ms < 100000000u; v++)
        ms = ms * 10 + (uint32_t)(*v - '0');
    return ms;
}

/* Logs "what: error-name" through wasi:logging (no stdio: no adapter needed). */
static void log_failure(const char *what, int code)
{
    char msg[160];
    const char *name = eos_http_error_name(code);
    size_t a = strlen(what), b = strlen(name);
    if (a + b + 3 > sizeof msg)
        return;
    memcpy(msg, what, a);
    memcpy(msg + a, ": ", 2);
    memcpy(msg + a + 2, name, b + 1);
    eos_log(EOS_LOG_WARN, "proxy", msg);
}

/* UPSTREAM + path_with_query in a new string (free with free()), or NULL. */
static char *target_url(const char *upstream, const char *path_with_query)
{
    size_t u = strlen(upstream), p = strlen(path_with_query);
    while (u && upstream[u - 1] == '/')
        u--;
    char *url = malloc(u + p + 1);
    if (url) {
        memcpy(url, upstream, u);
        memcpy(url + u, path_with_query, p + 1);
    }
    return url;
}

/* Upper-cases ASCII letters eight bytes at a time: a byte's high bit after adding
 * 0x80 - 'a' says ">= 'a'", after adding 0x80 - 'z' - 1 says "> 'z'"; bytes
 * with their own high bit set are left alone. */
static void upper(unsigned char *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        uint64_t low7 = w & ~high;
        uint64_t ge_a = low7 + ones * (0x80 - 'a');
        uint64_t gt_z = low7 + ones * (0x80 - 'z' - 1);
        w ^= ((ge_a & ~gt_z & ~w) & high) >> 2;
        memcpy(p + i, &w, 8);
    }
    for (; i < n; i++)
        if (p[i] >= 'a' && p[i] <= 'z')
            p[i] = (unsigned char)(p[i] - 'a' + 'A');
}

static bool has_body(eos_request *req)
{
    return eos_request_header(req, "content-length", NULL) ||
           eos_request_header(req, "transfer-encoding", NULL);
}

/* Sends n GETs of url at once, then collects them in order: one line each, the
 * status or the error-code. */
static void fanout(eos_response_out *out, const char *url, unsigned n)
{
    eos_outgoing *calls[FANOUT_MAX] = {0};
    char report[FANOUT_MAX * 40] = "";
    size_t len = 0;
    for (unsigned i = 0; i < n; i++)
        if (eos_outgoing_new("GET", url, &calls[i]) == EOS_APP_OK)
            eos_outgoing_send(calls[i], false);
    for (unsigned i = 0; i < n; i++) {
        int status = 0;
        const char *what = "invalid";
        char num[4];
        if (calls[i] && eos_outgoing_response(calls[i], &status) == EOS_APP_OK) {
            size_t got;
            while (eos_outgoing_read(calls[i], chunk, sizeof chunk, &got) == EOS_APP_OK && got)
                ;
            num[0] = (char)('0' + status / 100 % 10);
            num[1] = (char)('0' + status / 10 % 10);
            num[2] = (char)('0' + status % 10);
            num[3] = '\0';
            what = num;
        } else if (calls[i]) {
            what = eos_http_error_name(eos_outgoing_error(calls[i]));
        }
        size_t w = strlen(what);
        memcpy(report + len, what, w);
        report[len + w] = '\n';
        len += w + 1;
        eos_outgoing_free(calls[i]);
    }
    eos_respond(out, 200, "text/plain", report, len);
}

/* Makes n GETs of url one after the other, reading each body; answers
 * "<ok> ok <failed> failed". */
static void repeat(eos_response_out *out, const char *url, unsigned n)
{
    unsigned ok = 0;
    for (unsigned i = 0; i < n; i++) {
        eos_outgoing *c = NULL;
        int status = 0;
        size_t got;
        if (eos_outgoing_new("GET", url, &c) == EOS_APP_OK && eos_outgoing_send(c, false) == 0 &&
            eos_outgoing_response(c, &status) == EOS_APP_OK) {
            while (eos_outgoing_read(c, chunk, sizeof chunk, &got) == EOS_APP_OK && got)
                ;
            ok += status == 200;
        }
        eos_outgoing_free(c);
    }
    char report[48];
    size_t len = 0;
    unsigned vals[2] = {ok, n - ok};
    const char *words[2] = {" ok ", " failed\n"};
    for (int k = 0; k < 2; k++) {
        char digits[12];
        size_t d = 0;
        do
            digits[d++] = (char)('0' + vals[k] % 10);
        while ((vals[k] /= 10) && d < sizeof digits);
        while (d)
            report[len++] = digits[--d];
        size_t w = strlen(words[k]);
        memcpy(report + len, words[k], w);
        len += w;
    }
    eos_respond(out, 200, "text/plain", report, len);
}

/* "/_name", "/_name/..." or "/_name?...": the path after the name, or NULL. */
static const char *special(const char *path, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(path, name, n) != 0 || (path[n] && path[n] != '/'))
        return NULL;
    return path[n] ? path + n : "/";
}

static void handle(eos_request *req, eos_response_out *out)
{
    const char *upstream = eos_env("UPSTREAM");
    if (!upstream || !*upstream) {
        eos_respond_text(out, 500, "UPSTREAM is not set (load the app with --env UPSTREAM=URL)\n");
        return;
    }
    const char *pq = eos_request_path_with_query(req);
    const char *fan = special(eos_request_path(req), "/_fanout");
    const char *rep = special(eos_request_path(req), "/_repeat");
    if (fan || rep) {
        const char *q = eos_request_query(req);
        unsigned n = 0, max = fan ? FANOUT_MAX : 1000000;
        if (strncmp(q, "n=", 2) == 0)
            for (q += 2; *q >= '0' && *q <= '9' && n <= max; q++)
                n = n * 10 + (unsigned)(*q - '0');
        char *url = target_url(upstream, fan ? fan : rep);
        if (n < 1 || n > max || !url)
            eos_respond_text(out, 400, fan ? "want /_fanout[/path]?n=1..64\n"
                                           : "want /_repeat[/path]?n=1..1000000\n");
        else if (fan)
            fanout(out, url, n);
        else
            repeat(out, url, n);
        free(url);
        return;
    }

    char *url = target_url(upstream, pq);
    eos_outgoing *call = NULL;
    int status = 0, err;
    if (!url || (err = eos_outgoing_new(eos_request_method(req), url, &call))) {
        free(url);
        eos_respond_text(out, 500, "cannot build the upstream call\n");
        return;
    }
    free(url);
    const char *type = eos_request_header(req, "content-type", NULL);
    if (type)
        eos_outgoing_header(call, "content-type", type);
    /* With a length the body goes upstream as is, without it chunked. */
    const char *length = eos_request_header(req, "content-length", NULL);
    if (length)
        eos_outgoing_header(call, "content-length", length);
    eos_outgoing_timeouts(call, header_ms(req, "x-timeout-connect-ms"),
                          header_ms(req, "x-timeout-first-byte-ms"),
                          header_ms(req, "x-timeout-between-ms"));
    bool body = has_body(req);
    err = eos_outgoing_send(call, body);
    if (!err && body) {
        size_t n;
        while ((err = eos_request_read(req, chunk, sizeof chunk, &n)) == EOS_APP_OK && n > 0)
            if ((err = eos_outgoing_write(call, chunk, n)))
                break;
        if (!err)
            err = eos_outgoing_end_body(call);
    }
    /* A failed write ends in the call's error-code, which the response reports. */
    err = eos_outgoing_response(call, &status);
    if (err) {
        const char *name = eos_http_error_name(eos_outgoing_error(call));
        log_failure("upstream call failed", eos_outgoing_error(call));
        eos_response_header(out, "x-upstream-error", name);
        eos_respond_text(out, 502, name);
        goto out;
    }
    type = eos_outgoing_response_header(call, "content-type", NULL);
    if (type)
        eos_response_header(out, "content-type", type);
    if ((err = eos_response_start(out, status)))
        goto out;
    size_t n;
    while ((err = eos_outgoing_read(call, chunk, sizeof chunk, &n)) == EOS_APP_OK && n > 0) {
        upper(chunk, n);
        if ((err = eos_response_write(out, chunk, n)))
            break;
    }
    if (err == EOS_APP_EHTTP)
        log_failure("upstream body failed", eos_outgoing_error(call));
    /* The response has started: a short body is all the client can be told. */
    eos_response_finish(out);
out:
    eos_outgoing_free(call);
}

EOS_HTTP_HANDLER(handle)
