/* The web console's pages (include/eos/console.h holds the files): the
 * embedded files under /.well-known/enclave-os/console/ with the console's
 * Content-Security-Policy, the live log as server-sent events, and the
 * test-only tampering of the manifest. http.c routes here and sends the
 * page; nothing here touches a connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void text_page(eos_net__page *p, int status, const char *text)
{
    p->status = status;
    p->ctype = "text/plain; charset=utf-8";
    p->body = (const uint8_t *)text;
    p->size = strlen(text);
}

void eos_net__console_page(const eos_net_server *srv, const char *rest, eos_net__page *p)
{
    memset(p, 0, sizeof *p);
    p->console = 1;
    if (srv->cfg.console_off) {
        text_page(p, 404, "the console is disabled on this server (serve --no-console)\n");
        return;
    }
    if (rest[0] == 0) {
        /* Relative links in the page need the trailing slash. */
        text_page(p, 301, "");
        snprintf(p->extra, sizeof p->extra, "location: %s\r\n", EOS_CONSOLE_PREFIX);
        return;
    }
    const eos_console_asset *a =
        rest[0] == '/' ? eos_console_find(rest + 1, strlen(rest + 1)) : NULL;
    if (!a) {
        text_page(p, 404, "no such console file\n");
        return;
    }
    p->status = 200;
    p->ctype = a->content_type;
    p->body = a->data;
    p->size = a->size;
    snprintf(p->extra, sizeof p->extra, "etag: \"%.32s\"\r\n", a->sha256_hex);
}

int eos_net__logs_page(const eos_net_server *srv, const char *last_id, size_t last_len,
                       const char *query, eos_net__page *p)
{
    memset(p, 0, sizeof *p);
    p->console = 1;
    if (!srv->cfg.console_log) {
        text_page(p, 404, "this server keeps no log for the console\n");
        return 0;
    }
    /* The client's last event: the Last-Event-ID header, else ?after=N. */
    unsigned long long after = 0;
    const char *q = query ? strstr(query, "after=") : NULL;
    if (last_id && last_len < 24) {
        char buf[24];
        memcpy(buf, last_id, last_len);
        buf[last_len] = 0;
        after = strtoull(buf, NULL, 10);
    } else if (q) {
        after = strtoull(q + 6, NULL, 10);
    }
    /* A probe (the console checking its access) asks for nothing: an id past the end. */
    if (query && strstr(query, "probe=1"))
        after = UINT64_MAX - 1;
    char *body = NULL;
    size_t size = 0;
    int rc = eos_console_log_events(srv->cfg.console_log, after, 2000, 500, &body, &size);
    if (rc < 0)
        return rc;
    p->status = 200;
    p->ctype = "text/event-stream; charset=utf-8";
    p->body = (const uint8_t *)body;
    p->size = size;
    p->owned = body;
    p->owned_size = size + 1;
    return 0;
}

size_t eos_net__page_head(const eos_net__page *p, int keep_alive, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %zu\r\n",
                     p->status, eos_net__http_reason(p->status), p->ctype, p->size);
    if (n >= 0 && (size_t)n < cap && p->console)
        n += snprintf(buf + n, cap - (size_t)n, "content-security-policy: %s\r\n%s",
                      eos_console_csp(), eos_console_security_headers());
    if (n >= 0 && (size_t)n < cap)
        n += snprintf(buf + n, cap - (size_t)n, "%s%s\r\n", p->extra,
                      keep_alive ? "" : "connection: close\r\n");
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

void eos_net__page_free(eos_net__page *p)
{
    eos_free(p->owned, p->owned_size);
    p->owned = NULL;
}

void eos_net__tamper_manifest(uint8_t *bin, size_t size)
{
    /* The low bit of the first leaf's hash: [u32 count][u16 name length][name][hash]. */
    if (size < 6)
        return;
    size_t n = (size_t)bin[4] | (size_t)bin[5] << 8;
    if (6 + n < size)
        bin[6 + n] ^= 1;
}

void eos_net__tamper_manifest_json(char *doc)
{
    /* The same bit in the JSON form: the second hex digit of the first hash. */
    static const char digits[] = "0123456789abcdef";
    char *h = strstr(doc, "\"hash\":\"");
    const char *at = h ? strchr(digits, h[9]) : NULL;
    if (at && *at)
        h[9] = digits[(at - digits) ^ 1];
}

int eos_net__parse_count(const char *v, size_t n, uint64_t *out)
{
    uint64_t x = 0;
    *out = 0;
    if (n == 0 || n > 19)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return 0;
}
