/* The per-call context: the table that maps resource reps to host objects,
 * and scratch memory for host results. Reps are indices + 1 into the table of
 * the call that created them. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

void eos_wasi__ctx_init(eos_wasi__ctx *ctx, eos_wasi_app *app)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->app = app;
}

static void free_obj(eos_wasi__ctx *ctx, uint8_t type, void *obj)
{
    switch (type) {
    case EOS_WASI__R_ERROR:
        eos_free(obj, sizeof(eos_wasi__ioerr));
        break;
    case EOS_WASI__R_POLLABLE:
        eos_free(obj, sizeof(eos_wasi__pollable));
        break;
    case EOS_WASI__R_INPUT:
        eos_wasi__istream_free(ctx, obj);
        break;
    case EOS_WASI__R_OUTPUT:
        eos_wasi__ostream_free(ctx, obj);
        break;
    case EOS_WASI__R_KV_BUCKET:
    case EOS_WASI__R_KV_CAS:
        eos_wasi__kv_free_obj(ctx, type, obj);
        break;
    case EOS_WASI__R_FS_DESC:
    case EOS_WASI__R_FS_DIRSTREAM:
        eos_wasi__fs_free_obj(ctx, type, obj);
        break;
    case EOS_WASI__R_FREE:
    case EOS_WASI__R_OTHER:
        break;
    default:
        eos_wasi__http_free_obj(ctx, type, obj);
        break;
    }
}

void eos_wasi__ctx_fini(eos_wasi__ctx *ctx)
{
    /* Streams hold references to responses, so free them first: a body stream
     * dropped here still lets the response reach its end. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < ctx->slot_len; i++) {
            eos_wasi__slot *s = &ctx->slots[i];
            bool stream = s->type == EOS_WASI__R_INPUT || s->type == EOS_WASI__R_OUTPUT;
            if (s->type == EOS_WASI__R_FREE || (pass == 0) != stream)
                continue;
            uint8_t type = s->type;
            void *obj = s->obj;
            s->type = EOS_WASI__R_FREE;
            s->obj = NULL;
            free_obj(ctx, type, obj);
        }
    }
    eos_free(ctx->slots, (size_t)ctx->slot_cap * sizeof(*ctx->slots));
    ctx->slots = NULL;
    ctx->slot_len = ctx->slot_cap = 0;
    eos_wasi__scratch_reset(ctx);
    eos_free(ctx->iobuf, EOS_WASI_BODY_CHUNK);
    ctx->iobuf = NULL;
}

uint32_t eos_wasi__res_add(eos_wasi__ctx *ctx, eos_wasi__rtype type, void *obj)
{
    uint32_t idx;
    if (ctx->free_head) {
        idx = ctx->free_head - 1;
        ctx->free_head = ctx->slots[idx].next_free;
    } else {
        if (ctx->slot_len == ctx->slot_cap) {
            uint32_t ncap = ctx->slot_cap ? ctx->slot_cap * 2 : 32;
            if (ncap > (1u << 20))
                return 0; /* a guest hoarding a million handles is refused */
            eos_wasi__slot *n = eos_realloc(ctx->slots, (size_t)ctx->slot_cap * sizeof(*n),
                                            (size_t)ncap * sizeof(*n));
            if (!n)
                return 0;
            ctx->slots = n;
            ctx->slot_cap = ncap;
        }
        idx = ctx->slot_len++;
    }
    ctx->slots[idx].type = (uint8_t)type;
    ctx->slots[idx].obj = obj;
    ctx->slots[idx].next_free = 0;
    return idx + 1;
}

void *eos_wasi__res_get(eos_wasi__ctx *ctx, uint32_t rep, eos_wasi__rtype type)
{
    if (rep == 0 || rep > ctx->slot_len)
        return NULL;
    eos_wasi__slot *s = &ctx->slots[rep - 1];
    return s->type == type ? s->obj : NULL;
}

static void slot_release(eos_wasi__ctx *ctx, uint32_t rep)
{
    eos_wasi__slot *s = &ctx->slots[rep - 1];
    s->type = EOS_WASI__R_FREE;
    s->obj = NULL;
    s->next_free = ctx->free_head;
    ctx->free_head = rep;
}

void *eos_wasi__res_take(eos_wasi__ctx *ctx, uint32_t rep, eos_wasi__rtype type)
{
    void *obj = eos_wasi__res_get(ctx, rep, type);
    if (obj)
        slot_release(ctx, rep);
    return obj;
}

void eos_wasi__res_drop(eos_wasi__ctx *ctx, uint32_t rep)
{
    if (rep == 0 || rep > ctx->slot_len || ctx->slots[rep - 1].type == EOS_WASI__R_FREE)
        return;
    uint8_t type = ctx->slots[rep - 1].type;
    void *obj = ctx->slots[rep - 1].obj;
    slot_release(ctx, rep);
    free_obj(ctx, type, obj);
}

void eos_wasi__dtor(void *ud, void *data, uint32_t rep)
{
    if (data)
        eos_wasi__res_drop(data, rep);
}

uint32_t eos_wasi__res_new(eos_wasi__ctx *ctx, eos_wasi__rtype type, void *obj)
{
    if (!obj)
        return 0;
    uint32_t rep = eos_wasi__res_add(ctx, type, obj);
    if (!rep)
        free_obj(ctx, (uint8_t)type, obj);
    return rep;
}

void *eos_wasi__scratch_alloc(eos_wasi__ctx *ctx, size_t size)
{
    if (size > SIZE_MAX - sizeof(eos_wasi__scratch) - 16)
        return NULL;
    size_t total = sizeof(eos_wasi__scratch) + size;
    eos_wasi__scratch *b = eos_malloc(total);
    if (!b)
        return NULL;
    b->size = total;
    b->next = ctx->scratch;
    ctx->scratch = b;
    void *p = b + 1;
    memset(p, 0, size);
    return p;
}

void eos_wasi__scratch_reset(eos_wasi__ctx *ctx)
{
    eos_wasi__scratch *b = ctx->scratch;
    while (b) {
        eos_wasi__scratch *n = b->next;
        eos_free(b, b->size);
        b = n;
    }
    ctx->scratch = NULL;
}

uint32_t eos_wasi__ioerr_new(eos_wasi__ctx *ctx, int code, const char *msg)
{
    eos_wasi__ioerr *e = eos_calloc(1, sizeof(*e));
    if (!e)
        return 0;
    e->code = code;
    snprintf(e->msg, sizeof(e->msg), "%s", msg ? msg : eos_strerror(code));
    return eos_wasi__res_new(ctx, EOS_WASI__R_ERROR, e);
}

uint32_t eos_wasi__pollable_new(eos_wasi__ctx *ctx, uint8_t kind, uint64_t deadline,
                                uint32_t stream_rep)
{
    eos_wasi__pollable *p = eos_calloc(1, sizeof(*p));
    if (!p)
        return 0;
    p->kind = kind;
    p->deadline = deadline;
    p->stream_rep = stream_rep;
    return eos_wasi__res_new(ctx, EOS_WASI__R_POLLABLE, p);
}

int eos_wasi__trap(eos_wasi__ctx *ctx, const char *why)
{
    if (ctx && ctx->out && !ctx->out->reason[0])
        snprintf(ctx->out->reason, sizeof(ctx->out->reason), "the app trapped: %s", why);
    return EOS_TRAP_HOST;
}
