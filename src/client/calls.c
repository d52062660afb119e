/* The typed management calls (SPEC 3.1): each builds one inner request,
 * sends it as a Data frame and hands back the server's answer document. A
 * load streams its component: the frame is encoded piece by piece, so memory
 * stays at the component plus one piece whatever its size. */
#include <stdio.h>
#include <string.h>

#include "eos/client.h"

/* A growing NUL-terminated text on the eos allocator. */
typedef struct text {
    char *p;
    size_t len, cap;
    int failed;
} text;

static void add(text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *np = eos_realloc(t->p, t->cap, cap);
        if (!np) {
            t->failed = 1;
            return;
        }
        t->p = np;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = 0;
}

static void addz(text *t, const char *s)
{
    add(t, s, strlen(s));
}

/* Appends s as a JSON string literal. */
static void add_str(text *t, const char *s)
{
    add(t, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            add(t, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            add(t, esc, 6);
        } else {
            add(t, (const char *)p, 1);
        }
    }
    add(t, "\"", 1);
}

/* Appends ,"auth":TOKEN when token is set. */
static void add_auth(text *t, const char *token)
{
    if (!token)
        return;
    addz(t, ",\"auth\":");
    add_str(t, token);
}

void eos_client_doc_free(char *doc, size_t size)
{
    if (doc)
        eos_free(doc, size + 1);
}

/* Receives the answer to a sent request into *out. */
static int recv_doc(eos_client *c, char **out, size_t *out_size, eos_diag *d)
{
    const uint8_t *bytes = NULL;
    size_t size = 0;
    int rc = eos_client_recv_msg(c, &bytes, &size, d);
    if (rc < 0)
        return rc;
    if (rc == EOS_PROTO_MSG_ERROR)
        return eos_diag_set(d, EOS_EPROTO, "response", -1, "the server refused the request: %.*s",
                            (int)(size > 400 ? 400 : size), (const char *)bytes);
    if (rc != EOS_PROTO_MSG_DATA)
        return eos_diag_set(d, EOS_EPROTO, "response", -1, "unexpected reply \"%s\"",
                            eos_proto_msg_name((eos_proto_msg_kind)rc));
    char *doc = eos_malloc(size + 1);
    if (!doc)
        return eos_diag_set(d, EOS_ENOMEM, "response", -1, "out of memory");
    memcpy(doc, bytes, size);
    doc[size] = 0;
    *out = doc;
    *out_size = size;
    return 0;
}

int eos_client_request(eos_client *c, const char *inner, size_t size, char **out,
                       size_t *out_size, eos_diag *d)
{
    int rc = eos_client_send_msg(c, EOS_PROTO_MSG_DATA, (const uint8_t *)inner, size, d);
    return rc < 0 ? rc : recv_doc(c, out, out_size, d);
}

/* Sends t's document (and frees it) and receives the answer. */
static int request_text(eos_client *c, text *t, char **out, size_t *out_size, eos_diag *d)
{
    int rc = t->failed ? eos_diag_set(d, EOS_ENOMEM, "request", -1, "out of memory")
                       : eos_client_request(c, t->p, t->len, out, out_size, d);
    eos_free(t->p, t->cap);
    return rc;
}

int eos_client_unload(eos_client *c, const char *name, int erase, const char *token, char **out,
                      size_t *out_size, eos_diag *d)
{
    text t = {0};
    addz(&t, "{\"wasm_unload\":{\"name\":");
    add_str(&t, name);
    if (erase)
        addz(&t, ",\"erase\":true");
    addz(&t, "}");
    add_auth(&t, token);
    addz(&t, "}");
    return request_text(c, &t, out, out_size, d);
}

int eos_client_list(eos_client *c, char **out, size_t *out_size, eos_diag *d)
{
    static const char inner[] = "{\"wasm_list\":{}}";
    return eos_client_request(c, inner, sizeof inner - 1, out, out_size, d);
}

int eos_client_call(eos_client *c, const char *app, const char *function,
                    const char *params_json, char **out, size_t *out_size, eos_diag *d)
{
    return eos_client_call_argv(c, app, function, params_json, NULL, 0, out, out_size, d);
}

int eos_client_call_argv(eos_client *c, const char *app, const char *function,
                         const char *params_json, const char *const *argv, size_t argc,
                         char **out, size_t *out_size, eos_diag *d)
{
    return eos_client_call_cmd(c, app, function, params_json, argv, argc, 0, out, out_size, d);
}

int eos_client_call_cmd(eos_client *c, const char *app, const char *function,
                        const char *params_json, const char *const *argv, size_t argc,
                        unsigned flags, char **out, size_t *out_size, eos_diag *d)
{
    text t = {0};
    addz(&t, "{\"wasm_call\":{\"app\":");
    add_str(&t, app);
    addz(&t, ",\"function\":");
    add_str(&t, function);
    addz(&t, ",\"params\":");
    addz(&t, params_json ? params_json : "[]");
    if (argv) {
        addz(&t, ",\"args\":[");
        for (size_t i = 0; i < argc; i++) {
            if (i)
                addz(&t, ",");
            add_str(&t, argv[i]);
        }
        addz(&t, "]");
    }
    if (flags & EOS_CLIENT_CALL_NO_APP_ENV)
        addz(&t, ",\"no_app_env\":true");
    if (flags & EOS_CLIENT_CALL_NO_PREOPEN)
        addz(&t, ",\"no_preopen\":true");
    addz(&t, "}}");
    return request_text(c, &t, out, out_size, d);
}

int eos_client_manifest(eos_client *c, char **out, size_t *out_size, eos_diag *d)
{
    static const char inner[] = "{\"config_manifest\":{}}";
    return eos_client_request(c, inner, sizeof inner - 1, out, out_size, d);
}

/* ---- wasm_load, streamed ---- */

/* The inner document of a load, produced byte by byte without building it:
 * head, the component as a JSON array body ("0,97,115,..."), tail. */
typedef struct inner_iter {
    const char *head, *tail;
    const uint8_t *comp;
    size_t comp_size;
    size_t part, pos; /* part 0 head, 1 component, 2 tail */
    char digits[5];   /* pending characters of the current component byte */
    size_t dlen, dpos;
} inner_iter;

/* Writes b in decimal to p (1 to 3 characters); returns the count. */
static size_t put_dec(char *p, unsigned b)
{
    size_t n = 0;
    if (b >= 100)
        p[n++] = (char)('0' + b / 100);
    if (b >= 10)
        p[n++] = (char)('0' + b / 10 % 10);
    p[n++] = (char)('0' + b % 10);
    return n;
}

static int inner_next(inner_iter *it, uint8_t *out)
{
    for (;;) {
        if (it->part == 0) {
            if (it->head[it->pos]) {
                *out = (uint8_t)it->head[it->pos++];
                return 1;
            }
            it->part = 1;
            it->pos = 0;
        }
        if (it->part == 1) {
            if (it->dpos < it->dlen) {
                *out = (uint8_t)it->digits[it->dpos++];
                return 1;
            }
            if (it->pos < it->comp_size) {
                size_t n = 0;
                if (it->pos)
                    it->digits[n++] = ',';
                n += put_dec(it->digits + n, it->comp[it->pos]);
                it->pos++;
                it->dlen = n;
                it->dpos = 0;
                continue;
            }
            it->part = 2;
            it->pos = 0;
        }
        if (it->tail[it->pos]) {
            *out = (uint8_t)it->tail[it->pos++];
            return 1;
        }
        return 0;
    }
}

/* Sends the frame of head + component + tail; pass 1 measures it, pass 2
 * encodes and sends it a piece at a time. */
static int send_load(eos_client *c, const char *head, const eos_client_load_args *a,
                     const char *tail, eos_diag *d)
{
    inner_iter it = {.head = head, .tail = tail, .comp = a->bytes, .comp_size = a->size};
    uint64_t total = 9 + 2; /* {"Data":[ and ]} */
    uint64_t count = 0;
    uint8_t b;
    while (inner_next(&it, &b)) {
        total += (b < 10 ? 1u : b < 100 ? 2u : 3u) + 1u;
        count++;
    }
    if (count)
        total--;
    if (total > EOS_PROTO_MAX_FRAME_LIMIT)
        return eos_diag_set(d, EOS_ETOOBIG, "load", -1,
                            "the component is too large for one frame; use HTTP PUT "
                            "/.well-known/enclave-os/apps/NAME instead");
    size_t cap = (size_t)1 << 20;
    uint8_t *buf = eos_malloc(cap + 16);
    if (!buf)
        return eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
    int rc = 0;
    uint64_t sent = 0;
    size_t len = 4;
    eos_proto_put_u32be(buf, (uint32_t)total);
    memcpy(buf + len, "{\"Data\":[", 9);
    len += 9;
    memset(&it, 0, sizeof it);
    it.head = head;
    it.tail = tail;
    it.comp = a->bytes;
    it.comp_size = a->size;
    int first = 1;
    while (rc == 0) {
        int more = inner_next(&it, &b);
        if (more) {
            if (!first)
                buf[len++] = ',';
            len += put_dec((char *)buf + len, b);
            first = 0;
        } else {
            memcpy(buf + len, "]}", 2);
            len += 2;
        }
        if (len >= cap || !more) {
            rc = eos_client_send_raw(c, buf, len, d);
            sent += len;
            len = 0;
            if (a->progress)
                a->progress(a->progress_ud, sent, total + 4);
        }
        if (!more)
            break;
    }
    eos_free(buf, cap + 16);
    return rc;
}

int eos_client_load(eos_client *c, const eos_client_load_args *a, char **out, size_t *out_size,
                    eos_diag *d)
{
    text head = {0}, tail = {0};
    char num[48];
    addz(&head, "{\"wasm_load\":{\"name\":");
    add_str(&head, a->name);
    if (a->route) {
        addz(&head, ",\"route\":");
        add_str(&head, a->route);
    }
    if (a->hostname) {
        addz(&head, ",\"hostname\":");
        add_str(&head, a->hostname);
    }
    if (a->env_json) {
        addz(&head, ",\"env\":");
        addz(&head, a->env_json);
    }
    if (a->config_json) {
        addz(&head, ",\"config\":");
        addz(&head, a->config_json);
    }
    if (a->caller_policy) {
        addz(&head, ",\"caller_policy\":");
        add_str(&head, a->caller_policy);
    }
    if (a->jwks) {
        addz(&head, ",\"jwks\":");
        add_str(&head, a->jwks);
    }
    if (a->client_ca) {
        addz(&head, ",\"client_ca\":");
        add_str(&head, a->client_ca);
    }
    for (size_t i = 0; i < a->allow_outbound_count; i++) {
        addz(&head, i ? "," : ",\"allow_outbound\":[");
        add_str(&head, a->allow_outbound[i]);
        if (i + 1 == a->allow_outbound_count)
            addz(&head, "]");
    }
    if (a->max_fuel) {
        snprintf(num, sizeof num, ",\"max_fuel\":%llu", (unsigned long long)a->max_fuel);
        addz(&head, num);
    }
    if (a->max_memory_mb) {
        snprintf(num, sizeof num, ",\"max_memory_mb\":%llu", (unsigned long long)a->max_memory_mb);
        addz(&head, num);
    }
    if (a->max_concurrency) {
        snprintf(num, sizeof num, ",\"max_concurrency\":%llu",
                 (unsigned long long)a->max_concurrency);
        addz(&head, num);
    }
    if (a->tier && strlen(a->tier) < 16) { /* checked by the caller; a name, no escaping */
        snprintf(num, sizeof num, ",\"tier\":\"%s\"", a->tier);
        addz(&head, num);
    }
    addz(&head, ",\"bytes\":[");
    addz(&tail, "]}");
    add_auth(&tail, a->token);
    addz(&tail, "}");
    int rc;
    if (head.failed || tail.failed)
        rc = eos_diag_set(d, EOS_ENOMEM, "load", -1, "out of memory");
    else
        rc = send_load(c, head.p, a, tail.p, d);
    if (rc == 0)
        rc = recv_doc(c, out, out_size, d);
    eos_free(head.p, head.cap);
    eos_free(tail.p, tail.cap);
    return rc;
}
