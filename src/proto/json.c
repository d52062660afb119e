/* yajl glue shared by the frame decoder and the inner request parser: an
 * allocator shim that routes yajl's memory through the eos allocator hook
 * while keeping yajl itself safe when that hook fails. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* yajl does not check most of its allocations (lexer buffer, byte stack), so
 * handing it NULL would crash. When the hook refuses, the shim records the
 * failure in the caller's flag and serves the request from libc instead; the
 * caller sees the flag after yajl returns and fails with EOS_ENOMEM. Every
 * block carries a small header saying which allocator owns it and its size,
 * which also lets eos_free receive the exact size. */
typedef struct block_header {
    size_t size;
    size_t from_libc;
} block_header;

#define HDR sizeof(block_header)

static void *shim_malloc(void *ctx, size_t size)
{
    int *oom = ctx;
    if (size > SIZE_MAX - HDR)
        return NULL;
    block_header *h = eos_malloc(size + HDR);
    size_t from_libc = 0;
    if (!h) {
        *oom = 1;
        h = malloc(size + HDR);
        if (!h)
            abort(); /* libc itself is out of memory: nothing safe is left to do */
        from_libc = 1;
    }
    h->size = size;
    h->from_libc = from_libc;
    return (char *)h + HDR;
}

static void shim_free(void *ctx, void *ptr)
{
    (void)ctx;
    if (!ptr)
        return;
    block_header *h = (block_header *)((char *)ptr - HDR);
    if (h->from_libc)
        free(h);
    else
        eos_free(h, h->size + HDR);
}

static void *shim_realloc(void *ctx, void *ptr, size_t size)
{
    if (!ptr)
        return shim_malloc(ctx, size);
    block_header *old = (block_header *)((char *)ptr - HDR);
    void *p = shim_malloc(ctx, size);
    memcpy(p, ptr, old->size < size ? old->size : size);
    shim_free(ctx, ptr);
    return p;
}

yajl_handle eos_proto__yajl_new(const yajl_callbacks *cb, void *cb_ctx, int *oom_flag)
{
    yajl_alloc_funcs funcs = {shim_malloc, shim_realloc, shim_free, oom_flag};
    /* yajl copies the alloc funcs into the handle, so a stack struct is fine. */
    yajl_handle h = yajl_alloc(cb, &funcs, cb_ctx);
    if (!h)
        return NULL;
    if (*oom_flag) {
        yajl_free(h);
        return NULL;
    }
    return h;
}

yajl_gen eos_proto_json_gen_new(int *oom_flag)
{
    yajl_alloc_funcs funcs = {shim_malloc, shim_realloc, shim_free, oom_flag};
    yajl_gen g = yajl_gen_alloc(&funcs);
    if (g && *oom_flag) {
        yajl_gen_free(g);
        return NULL;
    }
    return g;
}

void eos_proto__yajl_error(yajl_handle h, const uint8_t *chunk, size_t chunk_size, int64_t offset,
                         eos_diag *d)
{
    unsigned char *msg = yajl_get_error(h, 0, chunk, chunk_size);
    const char *text = msg ? (const char *)msg : "parse error";
    /* yajl's message ends with a newline and names the error class; keep it short. */
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
        n--;
    eos_diag_set(d, EOS_EMALFORMED, "json", offset, "malformed JSON at byte %lld: %.*s",
                 (long long)offset, (int)(n > 200 ? 200 : n), text);
    if (msg)
        yajl_free_error(h, msg);
}

int eos_proto_json_finish(yajl_gen g, char **out, size_t *out_size)
{
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    char *s = eos_malloc(len + 1);
    if (!s) {
        yajl_gen_free(g);
        return EOS_ENOMEM;
    }
    memcpy(s, buf, len);
    s[len] = 0;
    yajl_gen_free(g);
    *out = s;
    *out_size = len;
    return 0;
}
