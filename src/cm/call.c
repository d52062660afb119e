/* Calls across the component boundary: the host calling a lifted export, a
 * guest calling a lowered import (host function or another component), and
 * the resource builtins. Enforces may_enter / may_leave, lends and returns
 * borrowed handles, runs post-return, and turns canonical ABI violations into
 * traps with their message. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef struct lowered {
    eos_cm__ci *ci; /* the caller */
    eos_cm_func *callee;
    const eos_cm_functype *type;
    eos_wasm_memory *memory;
    eos_wasm_func *realloc;
    uint8_t encoding;
    eos_cm__flatsig sig;
} lowered;

typedef struct builtin {
    eos_cm__ci *ci;
    const eos_cm__rdesc *rdesc;
    uint8_t how;
} builtin;

static void cx_init(eos_cm__cx *cx, eos_cm__ci *ci, eos_wasm_memory *mem, eos_wasm_func *realloc,
                    uint8_t enc, eos_cm_arena *arena, bool copy, eos_diag *diag)
{
    memset(cx, 0, sizeof(*cx));
    cx->store = ci->root->store;
    cx->memory = mem;
    cx->realloc = realloc;
    cx->encoding = enc;
    cx->table = &ci->table;
    cx->ci = ci;
    cx->rmap = ci->rmap;
    cx->arena = arena;
    cx->copy = copy;
    cx->diag = diag;
    cx->scope = ++ci->root->next_scope;
}

/* Host (or another component) -> lifted function. */
int eos_cm__invoke(eos_cm_func *f, const eos_cm_val *args, eos_cm_val *results, eos_cm_arena *arena,
                   eos_wasm_caller *caller, eos_diag *diag)
{
    const eos_cm_functype *ft = f->type;
    eos_cm__ci *ci = f->ci;
    eos_cm__cx cx;
    uint64_t slots[EOS_CM_MAX_FLAT_PARAMS + 1] = {0};
    uint64_t saved[EOS_CM_MAX_FLAT_RESULTS + 1] = {0};
    int rc;
    (void)caller;
    if (f->host) {
        eos_cm_call call = {.inst = ci->root, .data = ci->root->data, .arena = arena, .diag = diag};
        rc = f->host->fn(&call, f->host->ud, args, results);
        if (rc && !eos_is_trap(rc))
            return eos_diag_set(diag, EOS_TRAP_HOST, "host", -1, "host function failed: %s",
                                eos_strerror(rc));
        return rc;
    }
    if (ci->trapped)
        return eos_diag_set(diag, EOS_TRAP_CANON, "canonical ABI", -1,
                            "cannot enter component instance: it trapped earlier (make a new "
                            "instance)");
    if (!ci->may_enter)
        return eos_diag_set(diag, EOS_TRAP_CANON, "canonical ABI", -1,
                            "cannot enter component instance: it is already running "
                            "(reentrance is not allowed)");
    cx_init(&cx, ci, f->memory, f->realloc, f->encoding, arena, true, diag);
    ci->may_enter = false;
    ci->table.borrows = 0;
    /* The guest's realloc runs while arguments are lowered: it may not call out. */
    ci->may_leave = false;
    rc = eos_cm__lower_values(&cx, ft->param_count, ft->params, args, slots, EOS_CM_MAX_FLAT_PARAMS,
                              true, 0);
    ci->may_leave = true;
    if (rc)
        goto out;
    if ((rc = eos_wasm_func_call_raw(ci->root->store, f->core, slots, diag)))
        goto out;
    memcpy(saved, slots, sizeof(saved));
    rc = eos_cm__lift_values(&cx, ft->result_count, ft->results, slots, f->sig.result_count,
                             EOS_CM_MAX_FLAT_RESULTS, results);
    if (rc)
        goto out;
    if (ci->table.borrows != 0) {
        rc = eos_cm__trap(&cx, "%u borrowed handle(s) not dropped before the call returned",
                          ci->table.borrows);
        goto out;
    }
    if (f->post_return) {
        /* Results were copied out, so the guest may now free them; it may not
         * call out while doing so. */
        ci->may_leave = false;
        rc = eos_wasm_func_call_raw(ci->root->store, f->post_return, saved, diag);
        ci->may_leave = true;
    }
out:
    eos_cm__cx_finish(&cx);
    eos_cm__cx_dispose(&cx);
    ci->may_enter = true;
    if (eos_is_trap(rc))
        ci->trapped = true;
    return rc;
}

int eos_cm_call_func(eos_cm_instance *i, eos_cm_func *f, const eos_cm_val *args, size_t arg_count,
                     eos_cm_val *results, size_t result_count, eos_cm_arena *arena, eos_diag *diag)
{
    if (!i || !f || !arena || arg_count != f->type->param_count ||
        result_count != f->type->result_count || (arg_count && !args) || (result_count && !results))
        return eos_diag_set(diag, EOS_EINVAL, "call", -1,
                            "wrong number of arguments or results for this function (it takes %u "
                            "and returns %u)",
                            f ? f->type->param_count : 0, f ? f->type->result_count : 0);
    return eos_cm__invoke(f, args, results, arena, NULL, diag);
}

/* Guest -> import, through `canon lower`. */
static int lowered_call(eos_wasm_caller *caller, void *ud, uint64_t *slots)
{
    lowered *l = ud;
    eos_cm__ci *ci = l->ci;
    const eos_cm_functype *ft = l->type;
    eos_diag diag;
    eos_cm__cx cx;
    eos_cm_arena arena = {0};
    eos_cm_val small_args[8], small_res[4];
    eos_cm_val *args = small_args, *res = small_res;
    int rc;
    eos_diag_init(&diag);
    if (!ci->may_leave)
        return eos_wasm_caller_trap(caller, EOS_TRAP_CANON,
                                    "cannot leave component instance: calling an import from "
                                    "realloc or post-return is not allowed");
    cx_init(&cx, ci, l->memory, l->realloc, l->encoding, &arena, false, &diag);
    if (ft->param_count > 8 &&
        !(args = eos_cm_arena_alloc(&arena, ft->param_count * sizeof(*args)))) {
        rc = EOS_ENOMEM;
        goto out;
    }
    if (ft->result_count > 4 &&
        !(res = eos_cm_arena_alloc(&arena, ft->result_count * sizeof(*res)))) {
        rc = EOS_ENOMEM;
        goto out;
    }
    memset(res, 0, (ft->result_count > 4 ? ft->result_count : 4) * sizeof(*res));
    uint32_t nparams = l->sig.param_count - (l->sig.results_spill ? 1 : 0);
    rc = eos_cm__lift_values(&cx, ft->param_count, ft->params, slots, nparams,
                             EOS_CM_MAX_FLAT_PARAMS, args);
    if (rc)
        goto out;
    if (l->callee->host) {
        eos_cm_call call = {.inst = ci->root,
                            .data = ci->root->data,
                            .arena = &arena,
                            .caller = caller,
                            .diag = &diag};
        rc = l->callee->host->fn(&call, l->callee->host->ud, args, res);
        if (rc && !eos_is_trap(rc)) {
            rc = eos_diag_set(&diag, EOS_TRAP_HOST, "host", -1, "host function %s failed: %s",
                              l->callee->host->name, eos_strerror(rc));
        }
    } else {
        rc = eos_cm__invoke(l->callee, args, res, &arena, caller, &diag);
    }
    if (rc)
        goto out;
    /* Lowering results may call the guest's realloc, which must not call out. */
    ci->may_leave = false;
    rc = eos_cm__lower_values(&cx, ft->result_count, ft->results, res, slots,
                              EOS_CM_MAX_FLAT_RESULTS, false,
                              l->sig.results_spill ? (uint32_t)slots[nparams] : 0);
    ci->may_leave = true;
out:
    eos_cm__cx_finish(&cx);
    eos_cm__cx_dispose(&cx);
    eos_cm_arena_reset(&arena);
    if (rc) {
        if (eos_is_trap(rc) && diag.message[0])
            return eos_wasm_caller_trap(caller, rc, "%s", diag.message);
        return eos_wasm_caller_trap(caller, eos_is_trap(rc) ? rc : EOS_TRAP_HOST, "%s",
                                    diag.message[0] ? diag.message : eos_strerror(rc));
    }
    return 0;
}

int eos_cm__make_lowered(eos_cm__ci *ci, const eos_cm__def *d, eos_cm_func *callee,
                         eos_wasm_func **out, eos_diag *diag)
{
    lowered *l = eos_cm_arena_alloc(ci->root->arena, sizeof(*l));
    eos_cm__item x;
    int rc;
    if (!l)
        return EOS_ENOMEM;
    if (!callee)
        return eos_diag_set(diag, EOS_EUNLINKABLE, "link", -1, "canon lower of a missing function");
    l->ci = ci;
    l->callee = callee;
    l->type = d->type.of.func;
    l->encoding = d->opts.encoding;
    eos_cm__flatsig_of(l->type, true, &l->sig);
    if (d->opts.has_memory) {
        if ((rc = eos_cm__resolve_core(ci, EOS_CM__S_CORE_MEMORY, d->opts.memory, &x, diag)))
            return rc;
        l->memory = x.memory;
    }
    if (d->opts.has_realloc) {
        if ((rc = eos_cm__resolve_core(ci, EOS_CM__S_CORE_FUNC, d->opts.realloc, &x, diag)))
            return rc;
        l->realloc = x.core_func;
        if ((rc = eos_cm__check_realloc(l->realloc, diag)))
            return rc;
    }
    eos_wasm_functype ft = {.param_count = l->sig.param_count,
                            .result_count = l->sig.result_count,
                            .params = l->sig.params,
                            .results = l->sig.results};
    return eos_wasm_func_new_host(ci->root->store, &ft, lowered_call, l, out);
}

static int builtin_call(eos_wasm_caller *caller, void *ud, uint64_t *slots)
{
    builtin *b = ud;
    eos_cm__ci *ci = b->ci;
    eos_diag diag;
    eos_cm__cx cx;
    eos_cm_arena arena = {0};
    eos_diag_init(&diag);
    cx_init(&cx, ci, NULL, NULL, 0, &arena, false, &diag);
    const eos_cm_resource *rt = ci->rmap[b->rdesc->id];
    uint32_t idx = (uint32_t)slots[0];
    int rc = 0;
    /* resource.rep only reads the table, so post-return may use it; new and
     * drop change it (and drop may run a destructor) and may not. */
    if (!ci->may_leave && b->how != EOS_CM__D_RESOURCE_REP) {
        eos_cm__cx_dispose(&cx);
        return eos_wasm_caller_trap(caller, EOS_TRAP_CANON,
                                    "cannot leave component instance: resource.new and "
                                    "resource.drop cannot be called from realloc or "
                                    "post-return");
    }
    eos_cm__handle *h;
    switch (b->how) {
    case EOS_CM__D_RESOURCE_NEW: {
        eos_cm__handle nh = {.rt = rt, .rep = idx, .own = true};
        uint32_t out;
        if (!(rc = eos_cm__table_add(&cx, &ci->table, nh, &out)))
            slots[0] = out;
        break;
    }
    case EOS_CM__D_RESOURCE_REP:
        h = eos_cm__table_get(&ci->table, idx);
        if (!h)
            rc = eos_cm__trap(&cx, "resource.rep: unknown handle index %u", idx);
        else if (h->rt != rt)
            rc = eos_cm__trap(&cx, "resource.rep: handle %u is not a %s", idx,
                              rt && rt->name ? rt->name : "resource of this type");
        else
            slots[0] = h->rep;
        break;
    case EOS_CM__D_RESOURCE_DROP: {
        h = eos_cm__table_get(&ci->table, idx);
        if (!h) {
            rc = eos_cm__trap(&cx, "resource.drop: unknown handle index %u", idx);
            break;
        }
        if (h->rt != rt) {
            rc = eos_cm__trap(&cx, "resource.drop: handle %u is not a %s", idx,
                              rt && rt->name ? rt->name : "resource of this type");
            break;
        }
        if (h->own && h->lend_count) {
            rc = eos_cm__trap(&cx, "resource.drop: handle %u is lent out (%u borrows active)", idx,
                              h->lend_count);
            break;
        }
        eos_cm__handle gone;
        if ((rc = eos_cm__table_remove(&cx, &ci->table, idx, &gone)))
            break;
        if (!gone.own) {
            if (ci->table.borrows)
                ci->table.borrows--;
            break;
        }
        if (gone.rt->dtor) {
            eos_wasm_val a = {.type = EOS_WASM_I32, .of.i32 = (int32_t)gone.rep};
            rc = eos_wasm_func_call(ci->root->store, gone.rt->dtor, &a, 1, NULL, 0, &diag);
        } else if (gone.rt->host_dtor) {
            gone.rt->host_dtor(gone.rt->host_ud, ci->root->data, gone.rep);
        }
        break;
    }
    }
    eos_cm__cx_dispose(&cx);
    eos_cm_arena_reset(&arena);
    if (rc)
        return eos_wasm_caller_trap(caller, eos_is_trap(rc) ? rc : EOS_TRAP_HOST, "%s",
                                    diag.message[0] ? diag.message : eos_strerror(rc));
    return 0;
}

int eos_cm__make_builtin(eos_cm__ci *ci, const eos_cm__def *d, eos_wasm_func **out)
{
    static const uint8_t i32[1] = {EOS_WASM_I32};
    builtin *b = eos_cm_arena_alloc(ci->root->arena, sizeof(*b));
    if (!b)
        return EOS_ENOMEM;
    b->ci = ci;
    b->rdesc = d->rdesc;
    b->how = d->how;
    eos_wasm_functype ft = {.param_count = 1,
                            .params = i32,
                            .result_count = d->how == EOS_CM__D_RESOURCE_DROP ? 0 : 1,
                            .results = i32};
    if (!ci->rmap[d->rdesc->id]) {
        /* Defined resources get their run-time type on first use. */
        eos_cm_resource *r = eos_cm_arena_alloc(ci->root->arena, sizeof(*r));
        if (!r)
            return EOS_ENOMEM;
        r->name = d->rdesc->name;
        r->owner = ci->root;
        r->owner_ci = ci;
        ci->rmap[d->rdesc->id] = r;
        if (d->rdesc->has_dtor) {
            eos_cm__item x;
            int rc =
                eos_cm__resolve_core(ci, EOS_CM__S_CORE_FUNC, d->rdesc->dtor_core_func, &x, NULL);
            if (rc)
                return rc;
            r->dtor = x.core_func;
        }
    }
    return eos_wasm_func_new_host(ci->root->store, &ft, builtin_call, b, out);
}

void *eos_cm_call_alloc(eos_cm_call *call, size_t size)
{
    return eos_cm_arena_alloc(call->arena, size);
}

int eos_cm_call_trap(eos_cm_call *call, int code, const char *fmt, ...)
{
    if (call->diag && call->diag->code == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(call->diag->message, sizeof(call->diag->message), fmt, ap);
        va_end(ap);
        call->diag->code = code;
        call->diag->step = "host";
        call->diag->offset = -1;
    }
    return code;
}

void *eos_cm_call_data(eos_cm_call *call)
{
    return call->data;
}

eos_cm_instance *eos_cm_call_instance(eos_cm_call *call)
{
    return call->inst;
}

int eos_cm_host_call(eos_cm_host_fn fn, void *ud, void *data, const eos_cm_val *args,
                     eos_cm_val *results, eos_cm_arena *arena, eos_diag *diag)
{
    eos_cm_call call = {.inst = NULL, .data = data, .arena = arena, .diag = diag};
    return fn(&call, ud, args, results);
}
