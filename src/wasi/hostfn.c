/* The helper layer of WASI host functions: entering a call, and building the
 * values host functions return (results, options, handles) in the call's
 * scratch memory, so each host function states only what it does. */
#include <string.h>

#include "internal.h"

eos_wasi__ctx *eos_wasi__enter(eos_cm_call *call)
{
    eos_wasi__ctx *ctx = call ? eos_cm_call_data(call) : NULL;
    if (ctx)
        eos_wasi__scratch_reset(ctx);
    return ctx;
}

eos_cm_val *eos_wasi__val_new(eos_wasi__ctx *ctx, size_t count)
{
    if (count == 0)
        count = 1;
    if (count > SIZE_MAX / sizeof(eos_cm_val))
        return NULL;
    return eos_wasi__scratch_alloc(ctx, count * sizeof(eos_cm_val));
}

/* A copy of len bytes in scratch, NUL-terminated; NULL on OOM. */
static void *scratch_copy(eos_wasi__ctx *ctx, const void *src, size_t len)
{
    uint8_t *p = eos_wasi__scratch_alloc(ctx, len + 1);
    if (p && len)
        memcpy(p, src, len);
    return p;
}

bool eos_wasi__val_str(eos_wasi__ctx *ctx, eos_cm_val *v, const char *s, size_t len)
{
    if (!(v->of.str.ptr = scratch_copy(ctx, s, len)))
        return false;
    v->of.str.len = len;
    return true;
}

bool eos_wasi__val_bytes(eos_wasi__ctx *ctx, eos_cm_val *v, const uint8_t *b, size_t len)
{
    if (!(v->of.list.bytes = scratch_copy(ctx, b, len)))
        return false;
    v->of.list.items = NULL;
    v->of.list.len = len;
    return true;
}

void eos_wasi__val_result(eos_cm_val *v, bool is_err, eos_cm_val *payload)
{
    v->of.var.index = is_err ? 1 : 0;
    v->of.var.payload = payload;
}

void eos_wasi__val_option(eos_cm_val *v, eos_cm_val *payload)
{
    v->of.var.index = payload ? 1 : 0;
    v->of.var.payload = payload;
}

int eos_wasi__ok(eos_cm_val *res, eos_cm_val *payload)
{
    eos_wasi__val_result(res, false, payload);
    return 0;
}

int eos_wasi__err(eos_cm_val *res, eos_cm_val *payload)
{
    eos_wasi__val_result(res, true, payload);
    return 0;
}

/* One scratch value as the ok payload of res, or NULL on OOM. */
static eos_cm_val *ok_payload(eos_wasi__ctx *ctx, eos_cm_val *res)
{
    eos_cm_val *p = eos_wasi__val_new(ctx, 1);
    if (p)
        eos_wasi__val_result(res, false, p);
    return p;
}

int eos_wasi__ok_u64(eos_wasi__ctx *ctx, eos_cm_val *res, uint64_t v)
{
    eos_cm_val *p = ok_payload(ctx, res);
    return p ? (p->of.u = v, 0) : EOS_ENOMEM;
}

int eos_wasi__ok_s64(eos_wasi__ctx *ctx, eos_cm_val *res, int64_t v)
{
    eos_cm_val *p = ok_payload(ctx, res);
    return p ? (p->of.s = v, 0) : EOS_ENOMEM;
}

int eos_wasi__ok_bool(eos_wasi__ctx *ctx, eos_cm_val *res, bool v)
{
    eos_cm_val *p = ok_payload(ctx, res);
    return p ? (p->of.b = v, 0) : EOS_ENOMEM;
}

int eos_wasi__ok_case(eos_wasi__ctx *ctx, eos_cm_val *res, uint32_t index)
{
    eos_cm_val *p = ok_payload(ctx, res);
    return p ? (p->of.var.index = index, 0) : EOS_ENOMEM;
}

int eos_wasi__ok_flags(eos_wasi__ctx *ctx, eos_cm_val *res, uint64_t bits)
{
    eos_cm_val *p = ok_payload(ctx, res);
    return p ? (p->of.flags.bits = bits, 0) : EOS_ENOMEM;
}

int eos_wasi__ok_str(eos_wasi__ctx *ctx, eos_cm_val *res, const char *s, size_t len)
{
    eos_cm_val *p = ok_payload(ctx, res);
    return p && eos_wasi__val_str(ctx, p, s, len) ? 0 : EOS_ENOMEM;
}

int eos_wasi__ok_bytes(eos_wasi__ctx *ctx, eos_cm_val *res, const uint8_t *b, size_t len)
{
    eos_cm_val *p = ok_payload(ctx, res);
    return p && eos_wasi__val_bytes(ctx, p, b, len) ? 0 : EOS_ENOMEM;
}

int eos_wasi__ok_handle(eos_wasi__ctx *ctx, eos_cm_val *res, uint32_t rep)
{
    eos_cm_val *p = rep ? ok_payload(ctx, res) : NULL;
    return p ? (p->of.handle = rep, 0) : EOS_ENOMEM;
}

int eos_wasi__err_case(eos_wasi__ctx *ctx, eos_cm_val *res, uint32_t index)
{
    eos_cm_val *p = eos_wasi__val_new(ctx, 1);
    if (!p)
        return EOS_ENOMEM;
    p->of.var.index = index;
    return eos_wasi__err(res, p);
}

int eos_wasi__ret_handle(eos_cm_val *res, uint32_t rep)
{
    if (!rep)
        return EOS_ENOMEM;
    res->of.handle = rep;
    return 0;
}

int eos_wasi__ret_opt_str(eos_wasi__ctx *ctx, eos_cm_val *res, const char *s)
{
    if (!s) {
        eos_wasi__val_option(res, NULL);
        return 0;
    }
    eos_cm_val *p = eos_wasi__val_new(ctx, 1);
    if (!p || !eos_wasi__val_str(ctx, p, s, strlen(s)))
        return EOS_ENOMEM;
    eos_wasi__val_option(res, p);
    return 0;
}
