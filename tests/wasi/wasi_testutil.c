/* Helpers shared by the WASI driver tests and benchmarks. */
#include "wasi_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int w_head(void *ud, uint16_t status, const eos_wasi_header *h, size_t n)
{
    wt_response *r = ud;
    r->head_calls++;
    r->status = status;
    size_t k = strlen(r->headers);
    for (size_t i = 0; i < n; i++) {
        int w =
            snprintf(r->headers + k, sizeof(r->headers) - k, "%.*s: %.*s\n", (int)h[i].name_size,
                     h[i].name, (int)h[i].value_size, (const char *)h[i].value);
        if (w > 0 && (size_t)w < sizeof(r->headers) - k)
            k += (size_t)w;
    }
    return 0;
}

static int w_body(void *ud, const uint8_t *data, size_t size)
{
    wt_response *r = ud;
    if (size > r->max_chunk)
        r->max_chunk = size;
    if (r->keep_body) {
        if (r->body_size + size > r->body_cap) {
            size_t cap = (r->body_cap ? r->body_cap * 2 : 4096);
            while (cap < r->body_size + size)
                cap *= 2;
            r->body = realloc(r->body, cap);
            r->body_cap = cap;
        }
        memcpy(r->body + r->body_size, data, size);
    }
    r->body_size += size;
    return 0;
}

static int w_end(void *ud, bool complete, const eos_wasi_header *t, size_t n)
{
    wt_response *r = ud;
    r->end_calls++;
    r->complete = complete;
    return 0;
}

eos_wasi_sink wt_sink(wt_response *r)
{
    eos_wasi_sink s = {w_head, w_body, w_end, r};
    return s;
}

void wt_response_free(wt_response *r)
{
    free(r->body);
    r->body = NULL;
}

eos_cm_component *wt_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf(
            "    (component %s is missing: node and tools/node_modules are needed to build it)\n",
            path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    size_t got = fread(b, 1, (size_t)n, f);
    fclose(f);
    eos_cm_component *c = NULL;
    eos_diag d;
    eos_diag_init(&d);
    /* The library is built once per tier: EOS_TEST_TIER picks the engine's. */
#ifndef EOS_TEST_TIER
#define EOS_TEST_TIER EOS_WASM_TIER_INTERP
#endif
    eos_wasm_features feat = {.tier = EOS_TEST_TIER};
    int rc = got == (size_t)n ? eos_cm_component_new(b, (size_t)n, &feat, &c, &d) : EOS_EIO;
    free(b);
    if (rc)
        printf("    loading %s: %s: %s\n", path, eos_err_name(rc), d.message);
    return c;
}

eos_wasi_request wt_get(const char *target)
{
    eos_wasi_request r;
    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.target = target;
    r.scheme = "https";
    r.authority = "localhost";
    return r;
}

size_t wt_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}
