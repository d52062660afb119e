/* Handlers that go wrong, for the driver's error paths: /trap traps, /spin
 * loops until the fuel runs out, /grow allocates until the memory limit,
 * /exit calls wasi:cli/exit, /headers answers with custom headers,
 * /stream?N writes N bytes, /count reads the whole body and answers its size,
 * /sized?N writes N bytes with content-length N, /short?N declares N + 10 and
 * /over?N declares N but writes N + 10, /state answers with what earlier
 * requests left behind in this instance (a counter, a 1 MiB allocation kept
 * and the first byte written into it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <eos_app.h>

__attribute__((import_module("wasi:cli/exit@0.2.12"), import_name("exit")))
extern void wasi_exit(int32_t is_err);

static volatile unsigned long sink;
static char *volatile keep;

/* Writes n bytes of 'x' and finishes the response (unless a write fails). */
static void write_x(eos_response_out *out, unsigned long long n)
{
    static char buf[65536];
    memset(buf, 'x', sizeof(buf));
    while (n) {
        size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
        if (eos_response_write(out, buf, k))
            return;
        n -= k;
    }
    eos_response_finish(out);
}

static void handle(eos_request *req, eos_response_out *out)
{
    const char *path = eos_request_path(req);
    if (strcmp(path, "/trap") == 0)
        __builtin_trap();
    if (strcmp(path, "/spin") == 0)
        for (;;)
            sink++;
    if (strcmp(path, "/grow") == 0) {
        for (;;) {
            char *p = malloc(1 << 20);
            if (!p)
                break;
            p[0] = 1;
            keep = p; /* so the compiler cannot drop the allocation */
        }
        __builtin_trap();
    }
    if (strcmp(path, "/exit") == 0)
        wasi_exit(1);
    if (strcmp(path, "/headers") == 0) {
        eos_response_header(out, "x-test", "yes");
        eos_response_header(out, "content-type", "application/x-test");
        eos_respond(out, 201, NULL, "made", 4);
        return;
    }
    if (strcmp(path, "/stream") == 0) {
        eos_response_start(out, 200);
        write_x(out, strtoull(eos_request_query(req), NULL, 10));
        return;
    }
    if (strcmp(path, "/sized") == 0 || strcmp(path, "/short") == 0 ||
        strcmp(path, "/over") == 0) {
        unsigned long long n = strtoull(eos_request_query(req), NULL, 10);
        unsigned long long write = strcmp(path, "/over") == 0 ? n + 10 : n;
        char len[24];
        snprintf(len, sizeof(len), "%llu", strcmp(path, "/short") == 0 ? n + 10 : n);
        eos_response_header(out, "content-length", len);
        eos_response_start(out, 200);
        write_x(out, write);
        return;
    }
    if (strcmp(path, "/state") == 0) {
        static unsigned long seen;
        static char *kept;
        seen++;
        char first = kept ? kept[0] : '-';
        char *p = malloc(1 << 20);
        if (p)
            memset(p, 'y', 1 << 20);
        kept = p;
        char text[96];
        snprintf(text, sizeof(text), "seen=%lu heap=%p first=%c", seen, (void *)p, first);
        eos_respond_text(out, 200, text);
        return;
    }
    if (strcmp(path, "/count") == 0) {
        static char buf[65536];
        unsigned long long total = 0;
        size_t got = 0;
        while (eos_request_read(req, buf, sizeof(buf), &got) == 0 && got)
            total += got;
        char text[32];
        snprintf(text, sizeof(text), "%llu", total);
        eos_respond_text(out, 200, text);
        return;
    }
    eos_respond_text(out, 404, "no such test");
}

EOS_HTTP_HANDLER(handle)
