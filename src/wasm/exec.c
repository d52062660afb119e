/* The interpreter: a dispatch loop over the internal form with computed
 * gotos. Wasm calls push frames on the store's own stacks and never recurse
 * on the native stack; only host functions that call back into wasm do.
 * Memory 0's base and size, the fuel counter and the stack pointer live in
 * locals; they are reloaded after anything that may change them. */
#include "internal.h"

#include <math.h>
#include <stdio.h>

static inline float f32_of(uint64_t s)
{
    uint32_t u = (uint32_t)s;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint64_t bits_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline double f64_of(uint64_t s)
{
    double d;
    memcpy(&d, &s, 8);
    return d;
}

static inline uint64_t bits_f64(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* min/max propagate NaN (as arithmetic NaN) and order -0 below +0. */
static inline float fmin32(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}

static inline float fmax32(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

static inline double fmin64(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}

static inline double fmax64(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == 0 && b == 0)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

static inline uint32_t rotl32(uint32_t a, uint32_t b)
{
    b &= 31;
    return (a << b) | (a >> ((32 - b) & 31));
}

static inline uint32_t rotr32(uint32_t a, uint32_t b)
{
    b &= 31;
    return (a >> b) | (a << ((32 - b) & 31));
}

static inline uint64_t rotl64(uint64_t a, uint64_t b)
{
    b &= 63;
    return (a << b) | (a >> ((64 - b) & 63));
}

static inline uint64_t rotr64(uint64_t a, uint64_t b)
{
    b &= 63;
    return (a >> b) | (a << ((64 - b) & 63));
}

/* Saturating conversions (non-trapping float-to-int). */
static inline uint64_t sat_i32_s(double a)
{
    if (a != a)
        return 0;
    if (a <= -2147483649.0)
        return (uint32_t)INT32_MIN;
    if (a >= 2147483648.0)
        return (uint32_t)INT32_MAX;
    return (uint32_t)(int32_t)a;
}

static inline uint64_t sat_i32_u(double a)
{
    if (a != a || a <= -1.0)
        return 0;
    if (a >= 4294967296.0)
        return UINT32_MAX;
    return (uint32_t)a;
}

static inline uint64_t sat_i64_s(double a)
{
    if (a != a)
        return 0;
    if (a < -9223372036854775808.0)
        return (uint64_t)INT64_MIN;
    if (a >= 9223372036854775808.0)
        return (uint64_t)INT64_MAX;
    return (uint64_t)(int64_t)a;
}

static inline uint64_t sat_i64_u(double a)
{
    if (a != a || a <= -1.0)
        return 0;
    if (a >= 18446744073709551616.0)
        return UINT64_MAX;
    return (uint64_t)a;
}

void eos_wasm__thread_code(uint32_t *t, const uint32_t *code, uint32_t len, const uint32_t *starts,
                           uint32_t nstarts)
{
    const void *const *labels;
    uint64_t out[1];
    eos_wasm__exec(NULL, NULL, out);
    memcpy(&labels, out, sizeof(labels));
    memcpy(t, code, (size_t)len * sizeof(uint32_t));
    /* Handlers all lie within eos_wasm__exec, so their distances from the
     * first one fit in 32 bits and the code stays one word per immediate. */
    for (uint32_t i = 0; i < nstarts; i++)
        t[starts[i]] = (uint32_t)(int32_t)((intptr_t)labels[code[starts[i]]] - (intptr_t)labels[0]);
}

int eos_wasm__trap(eos_wasm_store *s, int code, const char *msg)
{
    snprintf(s->trap_msg, sizeof(s->trap_msg), "%s", msg ? msg : eos_strerror(code));
    return code;
}

int eos_wasm__call_host(eos_wasm_store *s, eos_wasm_instance *inst, eos_wasm_func *f,
                        uint64_t *slots)
{
    eos_wasm_caller caller = {s, inst};
    s->trap_msg[0] = 0;
    int rc = f->host(&caller, f->ud, slots);
    if (rc == 0)
        return 0;
    if (!eos_is_trap(rc)) {
        snprintf(s->trap_msg, sizeof(s->trap_msg), "host function failed: %s", eos_strerror(rc));
        return EOS_TRAP_HOST;
    }
    if (!s->trap_msg[0])
        eos_wasm__trap(s, rc, NULL);
    return rc;
}

uint32_t eos_wasm__access_width(uint32_t kind)
{
    static const uint8_t width[] = {4, 8, 4, 8, 1, 1, 2, 2, 1, 1, 2, 2,
                                    4, 4, 4, 8, 4, 8, 1, 2, 1, 2, 4};
    return width[kind - 0x28];
}

void eos_wasm__access_move(uint32_t kind, uint8_t *p, uint64_t *sp)
{
    uint32_t w = eos_wasm__access_width(kind);
    if (kind >= 0x36) {
        uint64_t val = sp[-1];
        memcpy(p, &val, w);
        return;
    }
    uint64_t x = 0;
    memcpy(&x, p, w);
    switch (kind) {
    case 0x2c:
        x = (uint32_t)(int32_t)(int8_t)x;
        break;
    case 0x2e:
        x = (uint32_t)(int32_t)(int16_t)x;
        break;
    case 0x30:
        x = (uint64_t)(int64_t)(int8_t)x;
        break;
    case 0x32:
        x = (uint64_t)(int64_t)(int16_t)x;
        break;
    case 0x34:
        x = (uint64_t)(int64_t)(int32_t)x;
        break;
    default:
        break;
    }
    sp[-1] = x;
}

/* A load or store on a memory other than memory 0 (multi-memory). */
/* Takes the stack top by value (the caller pops a store's operands) so that
 * the dispatch loop's sp never has its address taken. */
static int mem_access(eos_wasm_instance *inst, const uint32_t *ip, uint64_t *sp)
{
    uint32_t kind = (uint32_t)ip[1];
    eos_wasm_memory *mem = inst->memories[ip[2]];
    uint32_t w = eos_wasm__access_width(kind);
    uint64_t addr = (uint32_t)(kind >= 0x36 ? sp[-2] : sp[-1]);
    uint64_t ea = addr + ip[3];
    if (ea + w > mem->size)
        return EOS_TRAP_MEMORY_OOB;
    eos_wasm__access_move(kind, mem->data + ea, sp);
    return 0;
}

/* Slots kept free above a frame for host results and safety margins. */
#define STACK_SLACK 16
/* Native stack kept in reserve when a host function re-enters wasm. */
#define NATIVE_RESERVE(size) ((size) / 8 + 24 * 1024)

int eos_wasm__exec(eos_wasm_store *s, eos_wasm_func *f, uint64_t *slots)
{
    static const void *const labels[] = {
#define EOS__OP_LABEL(name, code, sig, meaning) &&L_##name,
        EOS_WASM_OPS(EOS__OP_LABEL)
#undef EOS__OP_LABEL
    };
    if (!s) {
        /* Asked by eos_wasm__thread_code for the handler addresses. */
        memcpy(slots, &(const void *const *){labels}, sizeof(void *));
        return 0;
    }
    if (!f->code)
        return eos_wasm__call_host(s, NULL, f, slots);
    if (f->inst->tier != EOS_WASM__RUN_INTERP) {
        int jrc = eos_wasm__jit_exec(s, f, slots);
        if (jrc != EOS_WASM__JIT_DECLINED)
            return jrc;
    }
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    if (s->native_depth == 0) {
        s->native_base = here;
    } else if (s->native_base > here &&
               s->native_base - here + NATIVE_RESERVE(s->limits.native_stack_size) >
                   s->limits.native_stack_size) {
        return eos_wasm__trap(s, EOS_TRAP_STACK_EXHAUSTED,
                              "call stack exhausted (native stack, host re-entry)");
    }
    uint64_t *const base = s->sp;
    uint64_t *const stack_end = s->stack_end;
    eos_wasm__frame *const frames = s->frames;
    const uint32_t saved_depth = s->depth;
    uint32_t depth = s->depth;
    if (depth >= s->frame_cap ||
        base + f->code->param_count + f->code->frame_slots + STACK_SLACK > stack_end)
        return eos_wasm__trap(s, EOS_TRAP_STACK_EXHAUSTED, "call stack exhausted");
    memcpy(base, slots, f->code->param_count * sizeof(uint64_t));
    s->native_depth++;

    int rc = 0;
    const char *tmsg = NULL;
    int64_t fuel = s->fuel;
    const uintptr_t handler_base = (uintptr_t)labels[0];
    eos_wasm_instance *inst = f->inst;
    const eos_wasm__code *codes = inst->module->codes;
    const eos_wasm__code *code = f->code;
    eos_wasm_memory *m0 = inst->module->memory_count ? inst->memories[0] : NULL;
    uint8_t *mem = m0 ? m0->data : NULL;
    uint64_t mem_size = m0 ? m0->size : 0;
    uint64_t *fp = base, *sp;
    const uint32_t *ip, *cbase;
    eos_wasm_func *callee;
    eos_wasm__exn *exn;
    bool tail;

    frames[depth++] = (eos_wasm__frame){NULL, NULL, NULL, NULL};

/* An opcode word holds its handler's offset from the first handler. */
#define NEXT goto *(const void *)(handler_base + (int32_t)*ip)
#define TRAP(c, m)                                                                                 \
    do {                                                                                           \
        rc = (c);                                                                                  \
        tmsg = (m);                                                                                \
        goto trap;                                                                                 \
    } while (0)
#define SET_INST(i)                                                                                \
    do {                                                                                           \
        inst = (i);                                                                                \
        codes = inst->module->codes;                                                               \
        m0 = inst->module->memory_count ? inst->memories[0] : NULL;                                \
    } while (0)
#define RELOAD_MEM()                                                                               \
    do {                                                                                           \
        if (m0) {                                                                                  \
            mem = m0->data;                                                                        \
            mem_size = m0->size;                                                                   \
        }                                                                                          \
    } while (0)
/* Bulk operations cost one unit per 4 KiB (or 4096 elements) moved. */
#define CHARGE(n)                                                                                  \
    do {                                                                                           \
        fuel -= (int64_t)((n) >> 12);                                                              \
        if (fuel < 0)                                                                              \
            FUEL_SLICE_END();                                                                      \
    } while (0)
/* The fuel counter holds at most one slice of the store's fuel; at its end
 * the store refills it, checking the deadline and interruption (budget.c). */
#define FUEL_SLICE_END()                                                                           \
    do {                                                                                           \
        s->fuel = fuel;                                                                            \
        int frc_ = eos_wasm__fuel_refill(s);                                                       \
        fuel = s->fuel;                                                                            \
        if (frc_)                                                                                  \
            TRAP(frc_, s->trap_msg);                                                               \
    } while (0)
#define SAVE_STATE(top)                                                                            \
    do {                                                                                           \
        s->sp = (top);                                                                             \
        s->depth = depth;                                                                          \
        s->fuel = fuel;                                                                            \
    } while (0)

enter:
    RELOAD_MEM();
    /* Calls within one instance come here directly: memory 0 is unchanged. */
enter_same:
    if (fp + code->frame_slots + STACK_SLACK > stack_end)
        TRAP(EOS_TRAP_STACK_EXHAUSTED, "call stack exhausted");
    /* One unit per call, plus one per 64 locals so huge frames are not free. */
    fuel -= 1 + (code->local_count >> 6);
    if (fuel < 0)
        FUEL_SLICE_END();
    sp = fp + code->param_count;
    for (uint32_t k = code->local_count - code->param_count; k > 0; k--)
        *sp++ = 0;
    ip = cbase = __atomic_load_n(&code->threaded, __ATOMIC_ACQUIRE);
    if (__builtin_expect(!ip, 0)) {
        /* The first call of a function of a lazily translated module. */
        if (eos_wasm__translate(inst->module, (eos_wasm__code *)code) != 0)
            TRAP(EOS_ENOMEM, "out of memory translating a function");
        ip = cbase = __atomic_load_n(&code->threaded, __ATOMIC_ACQUIRE);
    }
    NEXT;

call_func:
    if (!callee->code) {
        uint32_t np = eos_wasm__slots_of(callee->type->params, callee->type->param_count);
        uint32_t nr = eos_wasm__slots_of(callee->type->results, callee->type->result_count);
        uint64_t *args = sp - np;
        if (args + (np > nr ? np : nr) + STACK_SLACK > stack_end)
            TRAP(EOS_TRAP_STACK_EXHAUSTED, "call stack exhausted");
        SAVE_STATE(args + (np > nr ? np : nr));
        rc = eos_wasm__call_host(s, inst, callee, args);
        fuel = s->fuel;
        if (rc) {
            /* An exception from the host (or wasm under it): ours to catch. */
            if ((exn = eos_wasm__eh_take(s, rc)) != NULL) {
                ip--;
                goto throw_here;
            }
            tmsg = s->trap_msg;
            goto trap;
        }
        sp = args + nr;
        RELOAD_MEM();
        NEXT;
    }
    if (depth >= s->frame_cap)
        TRAP(EOS_TRAP_STACK_EXHAUSTED, "call stack exhausted");
    frames[depth++] = (eos_wasm__frame){ip, fp, code, inst};
    if (callee->inst != inst)
        SET_INST(callee->inst);
    code = callee->code;
    fp = sp - code->param_count;
    goto enter;

tail_call_func:
    if (!callee->code) {
        /* A tail call to a host function: call it, then return its results. */
        uint32_t np = eos_wasm__slots_of(callee->type->params, callee->type->param_count);
        uint32_t nr = eos_wasm__slots_of(callee->type->results, callee->type->result_count);
        uint64_t *args = sp - np;
        if (args + (np > nr ? np : nr) + STACK_SLACK > stack_end)
            TRAP(EOS_TRAP_STACK_EXHAUSTED, "call stack exhausted");
        SAVE_STATE(args + (np > nr ? np : nr));
        rc = eos_wasm__call_host(s, inst, callee, args);
        fuel = s->fuel;
        if (rc) {
            /* The tail call replaced this frame: its handlers are gone. */
            if ((exn = eos_wasm__eh_take(s, rc)) != NULL)
                goto throw_pop;
            tmsg = s->trap_msg;
            goto trap;
        }
        sp = args + nr;
        goto L_RETURN;
    }
    {
        uint32_t np = callee->code->param_count;
        uint64_t *src = sp - np;
        for (uint32_t k = 0; k < np; k++)
            fp[k] = src[k];
        if (callee->inst != inst)
            SET_INST(callee->inst);
        code = callee->code;
        goto enter;
    }

    /* ---- control ---- */
L_UNREACHABLE:
    TRAP(EOS_TRAP_UNREACHABLE, "unreachable executed");
L_BR:
    ip = cbase + ip[1];
    NEXT;
L_BR_MOVE : {
    uint32_t n = ip[3];
    uint64_t *src = sp - n, *dst = fp + ip[2];
    for (uint32_t k = 0; k < n; k++)
        dst[k] = src[k];
    sp = dst + n;
    ip = cbase + ip[1];
    NEXT;
}
L_BR_IF:
    if ((uint32_t) * --sp) {
        ip = cbase + ip[1];
        NEXT;
    }
    ip += 2;
    NEXT;
L_BR_IF_MOVE:
    if ((uint32_t) * --sp)
        goto L_BR_MOVE;
    ip += 4;
    NEXT;
L_BR_UNLESS:
    if (!(uint32_t) * --sp) {
        ip = cbase + ip[1];
        NEXT;
    }
    ip += 2;
    NEXT;
L_BR_TABLE : {
    uint32_t n = ip[1], i = (uint32_t) * --sp;
    if (i > n)
        i = n;
    const uint32_t *e = ip + 2 + 3 * (size_t)i;
    uint32_t cnt = e[2];
    uint64_t *src = sp - cnt, *dst = fp + e[1];
    if (src != dst)
        for (uint32_t k = 0; k < cnt; k++)
            dst[k] = src[k];
    sp = dst + cnt;
    ip = cbase + e[0];
    NEXT;
}
L_RETURN : {
    uint32_t n = code->result_count;
    uint64_t *src = sp - n;
    if (src != fp)
        for (uint32_t k = 0; k < n; k++)
            fp[k] = src[k];
    sp = fp + n;
    eos_wasm__frame *fr = &frames[--depth];
    if (!fr->ip) {
        memcpy(slots, fp, n * sizeof(uint64_t));
        s->depth = saved_depth;
        s->sp = base;
        s->fuel = fuel;
        s->native_depth--;
        return 0;
    }
    ip = fr->ip;
    fp = fr->fp;
    code = fr->code;
    cbase = code->threaded;
    if (fr->inst != inst)
        SET_INST(fr->inst);
    RELOAD_MEM();
    NEXT;
}
L_CALL : {
    const eos_wasm__code *c = &codes[ip[1]];
    ip += 2;
    if (depth >= s->frame_cap)
        TRAP(EOS_TRAP_STACK_EXHAUSTED, "call stack exhausted");
    frames[depth++] = (eos_wasm__frame){ip, fp, code, inst};
    code = c;
    fp = sp - c->param_count;
    goto enter_same;
}
L_CALL_IMPORT:
    callee = inst->funcs[ip[1]];
    ip += 2;
    goto call_func;
L_CALL_INDIRECT:
    tail = false;
    goto call_indirect;
L_RETURN_CALL_INDIRECT:
    tail = true;
call_indirect : {
    uint32_t i = (uint32_t) * --sp;
    eos_wasm_table *t = inst->tables[ip[2]];
    if (i >= t->size)
        TRAP(EOS_TRAP_TABLE_OOB, "undefined element: call_indirect index out of bounds");
    callee = t->elems[i];
    if (!callee)
        TRAP(EOS_TRAP_UNINITIALIZED_ELEMENT, "uninitialized element");
    const eos_wasm_functype *want = &inst->module->types[ip[1]];
    if (callee->type != want && !eos_wasm__functype_eq(callee->type, want))
        TRAP(EOS_TRAP_INDIRECT_CALL_TYPE, "indirect call type mismatch");
    /* Codes of typed references are per module: equal bytes are not enough. */
    if (callee->type != want && inst->module->types_public &&
        !eos_wasm__functype_match(callee->inst ? callee->inst->module : NULL, callee->type,
                                  inst->module, want))
        TRAP(EOS_TRAP_INDIRECT_CALL_TYPE, "indirect call type mismatch");
    ip += 3;
    if (tail)
        goto tail_call_func;
    goto call_func;
}
L_RETURN_CALL:
    callee = inst->funcs[ip[1]];
    goto tail_call_func;
L_FUEL:
    if (--fuel < 0)
        FUEL_SLICE_END();
    ip++;
    NEXT;

    /* ---- exception handling (exec_eh.c) ---- */
L_TRY_TABLE:
    ip += 2 + 5 * (size_t)ip[1];
    NEXT;
L_THROW : {
    eos_wasm_tag *tg = inst->tags[ip[1]];
    sp -= tg->slots;
    if (!(exn = eos_wasm__exn_new(s, tg, sp)))
        TRAP(EOS_ENOMEM, "out of memory for an exception");
    goto throw_here;
}
L_RETHROW:
    if (!(exn = eos_wasm__eh_rethrow(s, depth, ip[1])))
        TRAP(EOS_TRAP_UNREACHABLE, "rethrow: no caught exception");
    goto throw_here;
L_THROW_REF:
    exn = (eos_wasm__exn *)(uintptr_t) * --sp;
    if (!exn)
        TRAP(EOS_TRAP_NULL_REFERENCE, "null exception reference");
    /* The handlers of each frame, innermost first, are searched by code
     * position: the throw itself here, the call in progress in callers. */
throw_here:
    for (;;) {
        const uint32_t *h = code->eh ? eos_wasm__eh_find(code, cbase, (uint32_t)(ip - cbase),
                                                         inst, exn)
                                     : NULL;
        if (h) {
            if (!(sp = eos_wasm__eh_catch(s, h, fp, exn, depth)))
                TRAP(EOS_ENOMEM, "out of memory for an exception");
            ip = cbase + h[2];
            NEXT;
        }
    throw_pop:;
        eos_wasm__frame *fr = &frames[--depth];
        if (!fr->ip) {
            rc = eos_wasm__eh_uncaught(s, exn);
            tmsg = s->trap_msg;
            goto trap;
        }
        ip = fr->ip - 1;
        fp = fr->fp;
        code = fr->code;
        cbase = code->threaded;
        if (fr->inst != inst)
            SET_INST(fr->inst);
        RELOAD_MEM();
    }

    /* ---- parametric and variables ---- */
L_DROP:
    sp--;
    ip++;
    NEXT;
L_SELECT : {
    uint32_t c = (uint32_t)sp[-1];
    sp -= 2;
    if (!c)
        sp[-1] = sp[0];
    ip++;
    NEXT;
}
L_LOCAL_GET:
    *sp++ = fp[ip[1]];
    ip += 2;
    NEXT;
L_LOCAL_SET:
    fp[ip[1]] = *--sp;
    ip += 2;
    NEXT;
L_LOCAL_TEE:
    fp[ip[1]] = sp[-1];
    ip += 2;
    NEXT;
L_GLOBAL_GET:
    *sp++ = inst->globals[ip[1]]->val;
    ip += 2;
    NEXT;
L_GLOBAL_SET:
    inst->globals[ip[1]]->val = *--sp;
    ip += 2;
    NEXT;
L_TABLE_GET : {
    eos_wasm_table *t = inst->tables[ip[1]];
    uint32_t i = (uint32_t)sp[-1];
    if (i >= t->size)
        TRAP(EOS_TRAP_TABLE_OOB, "out of bounds table access");
    sp[-1] = (uint64_t)(uintptr_t)t->elems[i];
    ip += 2;
    NEXT;
}
L_TABLE_SET : {
    eos_wasm_table *t = inst->tables[ip[1]];
    uint32_t i = (uint32_t)sp[-2];
    if (i >= t->size)
        TRAP(EOS_TRAP_TABLE_OOB, "out of bounds table access");
    t->elems[i] = (void *)(uintptr_t)sp[-1];
    t->written = true;
    sp -= 2;
    ip += 2;
    NEXT;
}

/* ---- memory ---- */
#define EA(reg, n)                                                                                 \
    uint64_t ea = (uint64_t)(uint32_t)(reg) + ip[1];                                               \
    if (ea + (n) > mem_size)                                                                       \
        TRAP(EOS_TRAP_MEMORY_OOB, "out of bounds memory access");
#define LOAD(name, T, n, conv)                                                                     \
    L_##name:                                                                                      \
    {                                                                                              \
        EA(sp[-1], n);                                                                             \
        T x;                                                                                       \
        memcpy(&x, mem + ea, n);                                                                   \
        sp[-1] = conv;                                                                             \
        ip += 2;                                                                                   \
        NEXT;                                                                                      \
    }
    LOAD(LOAD32, uint32_t, 4, x)
    LOAD(LOAD64, uint64_t, 8, x)
    LOAD(LOAD8_S32, int8_t, 1, (uint32_t)(int32_t)x)
    LOAD(LOAD8_U, uint8_t, 1, x)
    LOAD(LOAD16_S32, int16_t, 2, (uint32_t)(int32_t)x)
    LOAD(LOAD16_U, uint16_t, 2, x)
    LOAD(LOAD8_S64, int8_t, 1, (uint64_t)(int64_t)x)
    LOAD(LOAD16_S64, int16_t, 2, (uint64_t)(int64_t)x)
    LOAD(LOAD32_S64, int32_t, 4, (uint64_t)(int64_t)x)
#define STORE(name, T, n)                                                                          \
    L_##name:                                                                                      \
    {                                                                                              \
        EA(sp[-2], n);                                                                             \
        T x = (T)sp[-1];                                                                           \
        memcpy(mem + ea, &x, n);                                                                   \
        sp -= 2;                                                                                   \
        ip += 2;                                                                                   \
        NEXT;                                                                                      \
    }
    STORE(STORE32, uint32_t, 4)
    STORE(STORE64, uint64_t, 8)
    STORE(STORE8, uint8_t, 1)
    STORE(STORE16, uint16_t, 2)
L_MEM_LOAD:
L_MEM_STORE:
    if ((rc = mem_access(inst, ip, sp)) != 0)
        TRAP(rc, "out of bounds memory access");
    if (ip[1] >= 0x36) /* a store: pop its operands */
        sp -= 2;
    ip += 4;
    NEXT;
L_MEMORY_SIZE:
    *sp++ = inst->memories[ip[1]]->size / EOS_WASM_PAGE_SIZE;
    ip += 2;
    NEXT;
L_MEMORY_GROW : {
    uint64_t old;
    if (eos_wasm__memory_grow(inst->memories[ip[1]], (uint32_t)sp[-1], &old) == 0)
        sp[-1] = (uint32_t)old;
    else
        sp[-1] = UINT32_MAX;
    RELOAD_MEM();
    ip += 2;
    NEXT;
}
L_MEMORY_FILL : {
    eos_wasm_memory *mm = inst->memories[ip[1]];
    uint64_t n = (uint32_t)sp[-1], d = (uint32_t)sp[-3];
    CHARGE(n);
    uint8_t val = (uint8_t)sp[-2];
    if (d + n > mm->size)
        TRAP(EOS_TRAP_MEMORY_OOB, "out of bounds memory access");
    memset(mm->data + d, val, n);
    sp -= 3;
    ip += 2;
    NEXT;
}
L_MEMORY_COPY : {
    eos_wasm_memory *md = inst->memories[ip[1]], *ms = inst->memories[ip[2]];
    uint64_t n = (uint32_t)sp[-1], sa = (uint32_t)sp[-2], d = (uint32_t)sp[-3];
    CHARGE(n);
    if (d + n > md->size || sa + n > ms->size)
        TRAP(EOS_TRAP_MEMORY_OOB, "out of bounds memory access");
    memmove(md->data + d, ms->data + sa, n);
    sp -= 3;
    ip += 3;
    NEXT;
}
L_MEMORY_INIT:
    CHARGE((uint32_t)sp[-1]);
    rc = eos_wasm__memory_init(inst, ip[2], ip[1], (uint32_t)sp[-3], (uint32_t)sp[-2],
                               (uint32_t)sp[-1]);
    if (rc)
        TRAP(rc, "out of bounds memory access");
    sp -= 3;
    ip += 3;
    NEXT;
L_DATA_DROP:
    inst->data_dropped[ip[1]] = 1;
    ip += 2;
    NEXT;
L_TABLE_INIT:
    CHARGE((uint32_t)sp[-1]);
    rc = eos_wasm__table_init(inst, ip[2], ip[1], (uint32_t)sp[-3], (uint32_t)sp[-2],
                              (uint32_t)sp[-1]);
    if (rc)
        TRAP(rc, "out of bounds table access");
    sp -= 3;
    ip += 3;
    NEXT;
L_ELEM_DROP:
    inst->elem_dropped[ip[1]] = 1;
    ip += 2;
    NEXT;
L_TABLE_COPY:
    CHARGE((uint32_t)sp[-1]);
    rc = eos_wasm__table_copy(inst->tables[ip[1]], inst->tables[ip[2]], (uint32_t)sp[-3],
                              (uint32_t)sp[-2], (uint32_t)sp[-1]);
    if (rc)
        TRAP(rc, "out of bounds table access");
    sp -= 3;
    ip += 3;
    NEXT;
L_TABLE_GROW : {
    uint64_t old;
    CHARGE((uint32_t)sp[-1]);
    void *init = (void *)(uintptr_t)sp[-2];
    if (eos_wasm__table_grow(inst->tables[ip[1]], (uint32_t)sp[-1], init, &old) == 0)
        sp[-2] = (uint32_t)old;
    else
        sp[-2] = UINT32_MAX;
    sp--;
    ip += 2;
    NEXT;
}
L_TABLE_SIZE:
    *sp++ = (uint32_t)inst->tables[ip[1]]->size;
    ip += 2;
    NEXT;
L_TABLE_FILL : {
    eos_wasm_table *t = inst->tables[ip[1]];
    uint64_t n = (uint32_t)sp[-1], i = (uint32_t)sp[-3];
    CHARGE(n);
    void *val = (void *)(uintptr_t)sp[-2];
    if (i + n > t->size)
        TRAP(EOS_TRAP_TABLE_OOB, "out of bounds table access");
    for (uint64_t k = 0; k < n; k++)
        t->elems[i + k] = val;
    t->written = true;
    sp -= 3;
    ip += 2;
    NEXT;
}
L_CONST32:
    *sp++ = ip[1];
    ip += 2;
    NEXT;
L_CONST64:
    *sp++ = (uint64_t)ip[1] | ((uint64_t)ip[2] << 32);
    ip += 3;
    NEXT;
L_REF_IS_NULL:
    sp[-1] = sp[-1] == 0;
    ip++;
    NEXT;
L_REF_FUNC:
    *sp++ = (uint64_t)(uintptr_t)inst->funcs[ip[1]];
    ip += 2;
    NEXT;

    /* ---- memory64, table64, custom page sizes (exec_mem64.c) ---- */
L_MEM64 : {
    int trap_;
    const char *msg_;
    uint64_t charge_;
    uint64_t *nsp = eos_wasm__mem64_exec(inst, ip, sp, &trap_, &msg_, &charge_);
    if (!nsp)
        TRAP(trap_, msg_);
    sp = nsp;
    RELOAD_MEM();
    CHARGE(charge_);
    ip += ip[2];
    NEXT;
}
    /* ---- function references: a reference is an eos_wasm_func pointer ---- */
L_CALL_REF:
    tail = false;
    goto call_ref;
L_RETURN_CALL_REF:
    tail = true;
call_ref:
    /* The type was checked statically: call_ref needs no signature check. */
    callee = (eos_wasm_func *)(uintptr_t)*--sp;
    if (!callee)
        TRAP(EOS_TRAP_NULL_REFERENCE, "null function reference");
    ip++;
    if (tail)
        goto tail_call_func;
    goto call_func;
L_REF_AS_NON_NULL:
    if (!sp[-1])
        TRAP(EOS_TRAP_NULL_REFERENCE, "null reference");
    ip++;
    NEXT;
L_BR_ON_NULL:
    if (!sp[-1]) {
        sp--;
        goto L_BR_MOVE;
    }
    ip += 4;
    NEXT;
L_BR_ON_NON_NULL:
    if (sp[-1])
        goto L_BR_MOVE;
    sp--;
    ip += 4;
    NEXT;

    /* ---- SIMD: a v128 is two slots; the lane arithmetic is in exec_simd.c ---- */
L_SIMD : {
    int trap_;
    uint64_t *nsp = eos_wasm__simd_exec(inst, ip, sp, &trap_);
    if (!nsp)
        TRAP(trap_, trap_ == EOS_TRAP_MEMORY_OOB ? "out of bounds memory access" : NULL);
    sp = nsp;
    ip += ip[2];
    NEXT;
}
    /* ---- threads (atomics) and wide arithmetic: exec_atomic.c, wide.c ---- */
L_ATOMIC : {
    int trap_;
    const char *tmsg_;
    uint64_t *nsp = eos_wasm__atomic_exec(s, inst, ip, sp, &trap_, &tmsg_);
    if (!nsp)
        TRAP(trap_, tmsg_);
    sp = nsp;
    ip += 4;
    NEXT;
}
L_WIDE:
    sp = eos_wasm__wide_exec(ip[1], sp);
    ip += 2;
    NEXT;
L_V128_CONST:
    memcpy(sp, ip + 1, 16);
    sp += 2;
    ip += 5;
    NEXT;
L_LOCAL_GET_V128:
    sp[0] = fp[ip[1]];
    sp[1] = fp[ip[1] + 1];
    sp += 2;
    ip += 2;
    NEXT;
L_LOCAL_SET_V128:
    sp -= 2;
    fp[ip[1]] = sp[0];
    fp[ip[1] + 1] = sp[1];
    ip += 2;
    NEXT;
L_LOCAL_TEE_V128:
    fp[ip[1]] = sp[-2];
    fp[ip[1] + 1] = sp[-1];
    ip += 2;
    NEXT;
L_GLOBAL_GET_V128:
    sp[0] = inst->globals[ip[1]]->val;
    sp[1] = inst->globals[ip[1]]->val_hi;
    sp += 2;
    ip += 2;
    NEXT;
L_GLOBAL_SET_V128:
    sp -= 2;
    inst->globals[ip[1]]->val = sp[0];
    inst->globals[ip[1]]->val_hi = sp[1];
    ip += 2;
    NEXT;
L_SELECT_V128 : {
    uint32_t c = (uint32_t)sp[-1];
    sp -= 3;
    if (!c) {
        sp[-2] = sp[0];
        sp[-1] = sp[1];
    }
    ip++;
    NEXT;
}

/* ---- numeric ---- */
#define UN(name, T, get, expr)                                                                     \
    L_##name:                                                                                      \
    {                                                                                              \
        T a = get(sp[-1]);                                                                         \
        sp[-1] = (expr);                                                                           \
        ip++;                                                                                      \
        NEXT;                                                                                      \
    }
#define BIN(name, T, get, expr)                                                                    \
    L_##name:                                                                                      \
    {                                                                                              \
        T b = get(sp[-1]), a = get(sp[-2]);                                                        \
        sp--;                                                                                      \
        sp[-1] = (expr);                                                                           \
        ip++;                                                                                      \
        NEXT;                                                                                      \
    }
#define U32(x) ((uint32_t)(x))
#define U64(x) ((uint64_t)(x))
#define S32(x) ((int32_t)(uint32_t)(x))
#define S64(x) ((int64_t)(x))
    UN(I32_EQZ, uint32_t, U32, a == 0)
    BIN(I32_EQ, uint32_t, U32, a == b)
    BIN(I32_NE, uint32_t, U32, a != b)
    BIN(I32_LT_S, int32_t, S32, a < b)
    BIN(I32_LT_U, uint32_t, U32, a < b)
    BIN(I32_GT_S, int32_t, S32, a > b)
    BIN(I32_GT_U, uint32_t, U32, a > b)
    BIN(I32_LE_S, int32_t, S32, a <= b)
    BIN(I32_LE_U, uint32_t, U32, a <= b)
    BIN(I32_GE_S, int32_t, S32, a >= b)
    BIN(I32_GE_U, uint32_t, U32, a >= b)
    UN(I64_EQZ, uint64_t, U64, a == 0)
    BIN(I64_EQ, uint64_t, U64, a == b)
    BIN(I64_NE, uint64_t, U64, a != b)
    BIN(I64_LT_S, int64_t, S64, a < b)
    BIN(I64_LT_U, uint64_t, U64, a < b)
    BIN(I64_GT_S, int64_t, S64, a > b)
    BIN(I64_GT_U, uint64_t, U64, a > b)
    BIN(I64_LE_S, int64_t, S64, a <= b)
    BIN(I64_LE_U, uint64_t, U64, a <= b)
    BIN(I64_GE_S, int64_t, S64, a >= b)
    BIN(I64_GE_U, uint64_t, U64, a >= b)
    BIN(F32_EQ, float, f32_of, a == b)
    BIN(F32_NE, float, f32_of, a != b)
    BIN(F32_LT, float, f32_of, a < b)
    BIN(F32_GT, float, f32_of, a > b)
    BIN(F32_LE, float, f32_of, a <= b)
    BIN(F32_GE, float, f32_of, a >= b)
    BIN(F64_EQ, double, f64_of, a == b)
    BIN(F64_NE, double, f64_of, a != b)
    BIN(F64_LT, double, f64_of, a < b)
    BIN(F64_GT, double, f64_of, a > b)
    BIN(F64_LE, double, f64_of, a <= b)
    BIN(F64_GE, double, f64_of, a >= b)
    UN(I32_CLZ, uint32_t, U32, a ? (uint32_t)__builtin_clz(a) : 32)
    UN(I32_CTZ, uint32_t, U32, a ? (uint32_t)__builtin_ctz(a) : 32)
    UN(I32_POPCNT, uint32_t, U32, (uint32_t)__builtin_popcount(a))
    BIN(I32_ADD, uint32_t, U32, U32(a + b))
    BIN(I32_SUB, uint32_t, U32, U32(a - b))
    BIN(I32_MUL, uint32_t, U32, U32(a * b))
L_I32_DIV_S : {
    int32_t b = S32(sp[-1]), a = S32(sp[-2]);
    if (b == 0)
        TRAP(EOS_TRAP_INTEGER_DIVIDE_BY_ZERO, "integer divide by zero");
    if (a == INT32_MIN && b == -1)
        TRAP(EOS_TRAP_INTEGER_OVERFLOW, "integer overflow");
    sp--;
    sp[-1] = U32(a / b);
    ip++;
    NEXT;
}
L_I32_DIV_U : {
    uint32_t b = U32(sp[-1]), a = U32(sp[-2]);
    if (b == 0)
        TRAP(EOS_TRAP_INTEGER_DIVIDE_BY_ZERO, "integer divide by zero");
    sp--;
    sp[-1] = a / b;
    ip++;
    NEXT;
}
L_I32_REM_S : {
    int32_t b = S32(sp[-1]), a = S32(sp[-2]);
    if (b == 0)
        TRAP(EOS_TRAP_INTEGER_DIVIDE_BY_ZERO, "integer divide by zero");
    sp--;
    sp[-1] = b == -1 ? 0 : U32(a % b);
    ip++;
    NEXT;
}
L_I32_REM_U : {
    uint32_t b = U32(sp[-1]), a = U32(sp[-2]);
    if (b == 0)
        TRAP(EOS_TRAP_INTEGER_DIVIDE_BY_ZERO, "integer divide by zero");
    sp--;
    sp[-1] = a % b;
    ip++;
    NEXT;
}
    BIN(I32_AND, uint32_t, U32, a & b)
    BIN(I32_OR, uint32_t, U32, a | b)
    BIN(I32_XOR, uint32_t, U32, a ^ b)
    BIN(I32_SHL, uint32_t, U32, U32(a << (b & 31)))
    BIN(I32_SHR_S, int32_t, S32, U32(a >> (b & 31)))
    BIN(I32_SHR_U, uint32_t, U32, a >> (b & 31))
    BIN(I32_ROTL, uint32_t, U32, rotl32(a, b))
    BIN(I32_ROTR, uint32_t, U32, rotr32(a, b))
    UN(I64_CLZ, uint64_t, U64, a ? (uint64_t)__builtin_clzll(a) : 64)
    UN(I64_CTZ, uint64_t, U64, a ? (uint64_t)__builtin_ctzll(a) : 64)
    UN(I64_POPCNT, uint64_t, U64, (uint64_t)__builtin_popcountll(a))
    BIN(I64_ADD, uint64_t, U64, a + b)
    BIN(I64_SUB, uint64_t, U64, a - b)
    BIN(I64_MUL, uint64_t, U64, a * b)
L_I64_DIV_S : {
    int64_t b = S64(sp[-1]), a = S64(sp[-2]);
    if (b == 0)
        TRAP(EOS_TRAP_INTEGER_DIVIDE_BY_ZERO, "integer divide by zero");
    if (a == INT64_MIN && b == -1)
        TRAP(EOS_TRAP_INTEGER_OVERFLOW, "integer overflow");
    sp--;
    sp[-1] = U64(a / b);
    ip++;
    NEXT;
}
L_I64_DIV_U : {
    uint64_t b = sp[-1], a = sp[-2];
    if (b == 0)
        TRAP(EOS_TRAP_INTEGER_DIVIDE_BY_ZERO, "integer divide by zero");
    sp--;
    sp[-1] = a / b;
    ip++;
    NEXT;
}
L_I64_REM_S : {
    int64_t b = S64(sp[-1]), a = S64(sp[-2]);
    if (b == 0)
        TRAP(EOS_TRAP_INTEGER_DIVIDE_BY_ZERO, "integer divide by zero");
    sp--;
    sp[-1] = b == -1 ? 0 : U64(a % b);
    ip++;
    NEXT;
}
L_I64_REM_U : {
    uint64_t b = sp[-1], a = sp[-2];
    if (b == 0)
        TRAP(EOS_TRAP_INTEGER_DIVIDE_BY_ZERO, "integer divide by zero");
    sp--;
    sp[-1] = a % b;
    ip++;
    NEXT;
}
    BIN(I64_AND, uint64_t, U64, a & b)
    BIN(I64_OR, uint64_t, U64, a | b)
    BIN(I64_XOR, uint64_t, U64, a ^ b)
    BIN(I64_SHL, uint64_t, U64, a << (b & 63))
    BIN(I64_SHR_S, int64_t, S64, U64(a >> (b & 63)))
    BIN(I64_SHR_U, uint64_t, U64, a >> (b & 63))
    BIN(I64_ROTL, uint64_t, U64, rotl64(a, b))
    BIN(I64_ROTR, uint64_t, U64, rotr64(a, b))
    UN(F32_ABS, uint32_t, U32, a & 0x7fffffffu)
    UN(F32_NEG, uint32_t, U32, a ^ 0x80000000u)
    UN(F32_CEIL, float, f32_of, bits_f32(ceil32(a)))
    UN(F32_FLOOR, float, f32_of, bits_f32(floor32(a)))
    UN(F32_TRUNC, float, f32_of, bits_f32(trunc32(a)))
    UN(F32_NEAREST, float, f32_of, bits_f32(nearest32(a)))
    UN(F32_SQRT, float, f32_of, bits_f32(sqrtf(a)))
    BIN(F32_ADD, float, f32_of, bits_f32(a + b))
    BIN(F32_SUB, float, f32_of, bits_f32(a - b))
    BIN(F32_MUL, float, f32_of, bits_f32(a * b))
    BIN(F32_DIV, float, f32_of, bits_f32(a / b))
    BIN(F32_MIN, float, f32_of, bits_f32(fmin32(a, b)))
    BIN(F32_MAX, float, f32_of, bits_f32(fmax32(a, b)))
    BIN(F32_COPYSIGN, uint32_t, U32, (a & 0x7fffffffu) | (b & 0x80000000u))
    UN(F64_ABS, uint64_t, U64, a & 0x7fffffffffffffffull)
    UN(F64_NEG, uint64_t, U64, a ^ 0x8000000000000000ull)
    UN(F64_CEIL, double, f64_of, bits_f64(ceil64(a)))
    UN(F64_FLOOR, double, f64_of, bits_f64(floor64(a)))
    UN(F64_TRUNC, double, f64_of, bits_f64(trunc64(a)))
    UN(F64_NEAREST, double, f64_of, bits_f64(nearest64(a)))
    UN(F64_SQRT, double, f64_of, bits_f64(sqrt(a)))
    BIN(F64_ADD, double, f64_of, bits_f64(a + b))
    BIN(F64_SUB, double, f64_of, bits_f64(a - b))
    BIN(F64_MUL, double, f64_of, bits_f64(a * b))
    BIN(F64_DIV, double, f64_of, bits_f64(a / b))
    BIN(F64_MIN, double, f64_of, bits_f64(fmin64(a, b)))
    BIN(F64_MAX, double, f64_of, bits_f64(fmax64(a, b)))
    BIN(F64_COPYSIGN, uint64_t, U64, (a & 0x7fffffffffffffffull) | (b & 0x8000000000000000ull))
    UN(I32_WRAP_I64, uint64_t, U64, U32(a))
#define TRUNC(name, T, get, lo_ok, hi_ok, R, conv)                                                 \
    L_##name:                                                                                      \
    {                                                                                              \
        T a = get(sp[-1]);                                                                         \
        if (a != a)                                                                                \
            TRAP(EOS_TRAP_INVALID_CONVERSION, "invalid conversion to integer");                    \
        if (!(lo_ok && hi_ok))                                                                     \
            TRAP(EOS_TRAP_INTEGER_OVERFLOW, "integer overflow");                                   \
        sp[-1] = (R)(conv);                                                                        \
        ip++;                                                                                      \
        NEXT;                                                                                      \
    }
    TRUNC(I32_TRUNC_F32_S, float, f32_of, a >= -2147483648.0f, a < 2147483648.0f, uint32_t,
          (int32_t)a)
    TRUNC(I32_TRUNC_F32_U, float, f32_of, a > -1.0f, a < 4294967296.0f, uint32_t, (uint32_t)a)
    TRUNC(I32_TRUNC_F64_S, double, f64_of, a > -2147483649.0, a < 2147483648.0, uint32_t,
          (int32_t)a)
    TRUNC(I32_TRUNC_F64_U, double, f64_of, a > -1.0, a < 4294967296.0, uint32_t, (uint32_t)a)
    UN(I64_EXTEND_I32_S, uint64_t, U64, U64((int64_t)(int32_t)(uint32_t)a))
    UN(I64_EXTEND_I32_U, uint64_t, U64, U64(U32(a)))
    TRUNC(I64_TRUNC_F32_S, float, f32_of, a >= -9223372036854775808.0f, a < 9223372036854775808.0f,
          uint64_t, (int64_t)a)
    TRUNC(I64_TRUNC_F32_U, float, f32_of, a > -1.0f, a < 18446744073709551616.0f, uint64_t,
          (uint64_t)a)
    TRUNC(I64_TRUNC_F64_S, double, f64_of, a >= -9223372036854775808.0, a < 9223372036854775808.0,
          uint64_t, (int64_t)a)
    TRUNC(I64_TRUNC_F64_U, double, f64_of, a > -1.0, a < 18446744073709551616.0, uint64_t,
          (uint64_t)a)
    UN(F32_CONVERT_I32_S, uint64_t, U64, bits_f32((float)S32(a)))
    UN(F32_CONVERT_I32_U, uint64_t, U64, bits_f32((float)U32(a)))
    UN(F32_CONVERT_I64_S, uint64_t, U64, bits_f32((float)S64(a)))
    UN(F32_CONVERT_I64_U, uint64_t, U64, bits_f32((float)a))
    UN(F32_DEMOTE_F64, double, f64_of, bits_f32((float)a))
    UN(F64_CONVERT_I32_S, uint64_t, U64, bits_f64((double)S32(a)))
    UN(F64_CONVERT_I32_U, uint64_t, U64, bits_f64((double)U32(a)))
    UN(F64_CONVERT_I64_S, uint64_t, U64, bits_f64((double)S64(a)))
    UN(F64_CONVERT_I64_U, uint64_t, U64, bits_f64((double)a))
    UN(F64_PROMOTE_F32, float, f32_of, bits_f64((double)a))
L_I32_REINTERPRET_F32:
L_I64_REINTERPRET_F64:
L_F32_REINTERPRET_I32:
L_F64_REINTERPRET_I64:
    ip++;
    NEXT;
    UN(I32_EXTEND8_S, uint64_t, U64, U32((int32_t)(int8_t)a))
    UN(I32_EXTEND16_S, uint64_t, U64, U32((int32_t)(int16_t)a))
    UN(I64_EXTEND8_S, uint64_t, U64, U64((int64_t)(int8_t)a))
    UN(I64_EXTEND16_S, uint64_t, U64, U64((int64_t)(int16_t)a))
    UN(I64_EXTEND32_S, uint64_t, U64, U64((int64_t)(int32_t)a))
    UN(I32_TRUNC_SAT_F32_S, float, f32_of, sat_i32_s(a))
    UN(I32_TRUNC_SAT_F32_U, float, f32_of, sat_i32_u(a))
    UN(I32_TRUNC_SAT_F64_S, double, f64_of, sat_i32_s(a))
    UN(I32_TRUNC_SAT_F64_U, double, f64_of, sat_i32_u(a))
    UN(I64_TRUNC_SAT_F32_S, float, f32_of, sat_i64_s(a))
    UN(I64_TRUNC_SAT_F32_U, float, f32_of, sat_i64_u(a))
    UN(I64_TRUNC_SAT_F64_S, double, f64_of, sat_i64_s(a))
    UN(I64_TRUNC_SAT_F64_U, double, f64_of, sat_i64_u(a))

    /* ---- superinstructions ---- */
#define BIN_L(name, T, get, expr)                                                                  \
    L_##name:                                                                                      \
    {                                                                                              \
        T b = get(fp[ip[1]]), a = get(sp[-1]);                                                     \
        sp[-1] = (expr);                                                                           \
        ip += 2;                                                                                   \
        NEXT;                                                                                      \
    }
#define BIN_C(name, T, get, expr)                                                                  \
    L_##name:                                                                                      \
    {                                                                                              \
        T b = get((uint64_t)ip[1]), a = get(sp[-1]);                                               \
        sp[-1] = (expr);                                                                           \
        ip += 2;                                                                                   \
        NEXT;                                                                                      \
    }
    BIN_L(I32_ADD_L, uint32_t, U32, U32(a + b))
    BIN_C(I32_ADD_C, uint32_t, U32, U32(a + b))
    BIN_L(I32_SUB_L, uint32_t, U32, U32(a - b))
    BIN_C(I32_SUB_C, uint32_t, U32, U32(a - b))
    BIN_L(I32_MUL_L, uint32_t, U32, U32(a * b))
    BIN_C(I32_MUL_C, uint32_t, U32, U32(a * b))
    BIN_L(I32_AND_L, uint32_t, U32, U32(a & b))
    BIN_C(I32_AND_C, uint32_t, U32, U32(a & b))
    BIN_L(I32_OR_L, uint32_t, U32, U32(a | b))
    BIN_C(I32_OR_C, uint32_t, U32, U32(a | b))
    BIN_L(I32_XOR_L, uint32_t, U32, U32(a ^ b))
    BIN_C(I32_XOR_C, uint32_t, U32, U32(a ^ b))
    BIN_L(I32_SHL_L, uint32_t, U32, U32(a << (b & 31)))
    BIN_C(I32_SHL_C, uint32_t, U32, U32(a << (b & 31)))
    BIN_L(I32_SHR_S_L, int32_t, S32, U32(a >> (b & 31)))
    BIN_C(I32_SHR_S_C, int32_t, S32, U32(a >> (b & 31)))
    BIN_L(I32_SHR_U_L, uint32_t, U32, U32(a >> (b & 31)))
    BIN_C(I32_SHR_U_C, uint32_t, U32, U32(a >> (b & 31)))
    /* The constant of an i64 op is two words: low, then high. */
#define BIN_C64(name, expr)                                                                        \
    L_##name:                                                                                      \
    {                                                                                              \
        uint64_t b = (uint64_t)ip[1] | (uint64_t)ip[2] << 32, a = sp[-1];                          \
        sp[-1] = (expr);                                                                           \
        ip += 3;                                                                                   \
        NEXT;                                                                                      \
    }
    BIN_C(I32_ROTL_C, uint32_t, U32, rotl32(a, b))
    BIN_C64(I64_ADD_C, a + b)
    BIN_C64(I64_SUB_C, a - b)
    BIN_C64(I64_MUL_C, a * b)
    BIN_C64(I64_AND_C, a & b)
    BIN_C64(I64_OR_C, a | b)
    BIN_C64(I64_XOR_C, a ^ b)
    BIN_C64(I64_SHL_C, a << (b & 63))
    BIN_C64(I64_SHR_S_C, U64(S64(a) >> (b & 63)))
    BIN_C64(I64_SHR_U_C, a >> (b & 63))
    BIN_C64(I64_ROTL_C, rotl64(a, b))
    BIN_L(I64_ADD_L, uint64_t, U64, a + b)
    BIN_L(I64_SUB_L, uint64_t, U64, a - b)
    BIN_L(I64_MUL_L, uint64_t, U64, a * b)
    BIN_L(I64_AND_L, uint64_t, U64, a & b)
    BIN_L(I64_OR_L, uint64_t, U64, a | b)
    BIN_L(I64_XOR_L, uint64_t, U64, a ^ b)
    BIN_L(I64_SHL_L, uint64_t, U64, a << (b & 63))
    BIN_L(I64_SHR_U_L, uint64_t, U64, a >> (b & 63))
    BIN_L(F64_ADD_L, double, f64_of, bits_f64(a + b))
    BIN_L(F64_SUB_L, double, f64_of, bits_f64(a - b))
    BIN_L(F64_MUL_L, double, f64_of, bits_f64(a * b))
    BIN_L(F64_DIV_L, double, f64_of, bits_f64(a / b))
#define BIN_CF64(name, expr)                                                                       \
    L_##name:                                                                                      \
    {                                                                                              \
        double b = f64_of((uint64_t)ip[1] | (uint64_t)ip[2] << 32), a = f64_of(sp[-1]);            \
        sp[-1] = (expr);                                                                           \
        ip += 3;                                                                                   \
        NEXT;                                                                                      \
    }
    BIN_CF64(F64_ADD_C, bits_f64(a + b))
    BIN_CF64(F64_SUB_C, bits_f64(a - b))
    BIN_CF64(F64_MUL_C, bits_f64(a * b))
    BIN_CF64(F64_DIV_C, bits_f64(a / b))
    BIN_L(F32_ADD_L, float, f32_of, bits_f32(a + b))
    BIN_L(F32_SUB_L, float, f32_of, bits_f32(a - b))
    BIN_L(F32_MUL_L, float, f32_of, bits_f32(a * b))
    BIN_L(F32_DIV_L, float, f32_of, bits_f32(a / b))
L_LOCAL_COPY:
    fp[ip[2]] = fp[ip[1]];
    ip += 3;
    NEXT;
L_LOCAL_SET_C32:
    fp[ip[2]] = ip[1];
    ip += 3;
    NEXT;
#define LC_LOAD(name, T, n)                                                                        \
    L_##name:                                                                                      \
    {                                                                                              \
        uint64_t ea = (uint64_t)(uint32_t)(fp[ip[1]] + ip[2]) + ip[3];                             \
        if (ea + (n) > mem_size)                                                                   \
            TRAP(EOS_TRAP_MEMORY_OOB, "out of bounds memory access");                              \
        T x;                                                                                       \
        memcpy(&x, mem + ea, n);                                                                   \
        *sp++ = x;                                                                                 \
        ip += 4;                                                                                   \
        NEXT;                                                                                      \
    }
    LC_LOAD(LC_LOAD32, uint32_t, 4)
    LC_LOAD(LC_LOAD8_U, uint8_t, 1)
L_LL_I32_ADD:
    *sp++ = U32(fp[ip[1]] + fp[ip[2]]);
    ip += 3;
    NEXT;
L_LL_I32_SUB:
    *sp++ = U32(fp[ip[1]] - fp[ip[2]]);
    ip += 3;
    NEXT;
L_LC_I32_ADD:
    *sp++ = U32(fp[ip[1]] + ip[2]);
    ip += 3;
    NEXT;
L_LC_I32_ADD_SET:
    fp[ip[3]] = U32(fp[ip[1]] + ip[2]);
    ip += 4;
    NEXT;
L_L_LOAD32 : {
    uint64_t ea = (uint64_t)(uint32_t)fp[ip[1]] + ip[2];
    if (ea + 4 > mem_size)
        TRAP(EOS_TRAP_MEMORY_OOB, "out of bounds memory access");
    uint32_t x;
    memcpy(&x, mem + ea, 4);
    *sp++ = x;
    ip += 3;
    NEXT;
}
L_BR_IF_I32_EQZ:
    if (U32(*--sp) == 0) {
        ip = cbase + ip[1];
        NEXT;
    }
    ip += 2;
    NEXT;
#define BR_IF_CMP(name, T, get, expr)                                                              \
    L_##name:                                                                                      \
    {                                                                                              \
        T b = get(sp[-1]), a = get(sp[-2]);                                                        \
        sp -= 2;                                                                                   \
        if (expr) {                                                                                \
            ip = cbase + ip[1];                                                                    \
            NEXT;                                                                                  \
        }                                                                                          \
        ip += 2;                                                                                   \
        NEXT;                                                                                      \
    }
    BR_IF_CMP(BR_IF_I32_NE, uint32_t, U32, a != b)
    BR_IF_CMP(BR_IF_F64_LT, double, f64_of, a < b)
    BR_IF_CMP(BR_IF_F64_GT, double, f64_of, a > b)
    BR_IF_CMP(BR_IF_F64_LE, double, f64_of, a <= b)
    BR_IF_CMP(BR_IF_F64_GE, double, f64_of, a >= b)
    BR_IF_CMP(BR_IF_F64_EQ, double, f64_of, a == b)
    BR_IF_CMP(BR_IF_F64_NE, double, f64_of, a != b)
L_LOCAL_TEE_GET:
    fp[ip[1]] = sp[-1];
    *sp++ = fp[ip[2]];
    ip += 3;
    NEXT;
    BR_IF_CMP(BR_IF_I32_EQ, uint32_t, U32, a == b)
    BR_IF_CMP(BR_IF_I32_LT_S, int32_t, S32, a < b)
    BR_IF_CMP(BR_IF_I32_LT_U, uint32_t, U32, a < b)
    BR_IF_CMP(BR_IF_I32_GE_S, int32_t, S32, a >= b)
    BR_IF_CMP(BR_IF_I32_GE_U, uint32_t, U32, a >= b)
    BR_IF_CMP(BR_IF_I32_GT_S, int32_t, S32, a > b)
    BR_IF_CMP(BR_IF_I32_LE_S, int32_t, S32, a <= b)
    BR_IF_CMP(BR_IF_I32_GT_U, uint32_t, U32, a > b)
    BR_IF_CMP(BR_IF_I32_LE_U, uint32_t, U32, a <= b)

#define BR_IF_CMP_IMM(name, T, get, src, expr)                                                     \
    L_##name:                                                                                      \
    {                                                                                              \
        T b = get(src), a = get(sp[-1]);                                                           \
        sp--;                                                                                      \
        if (expr) {                                                                                \
            ip = cbase + ip[1];                                                                    \
            NEXT;                                                                                  \
        }                                                                                          \
        ip += 3;                                                                                   \
        NEXT;                                                                                      \
    }
    BR_IF_CMP_IMM(BR_IF_I32_NE_L, uint32_t, U32, fp[ip[2]], a != b)
    BR_IF_CMP_IMM(BR_IF_I32_NE_C, uint32_t, U32, (uint64_t)ip[2], a != b)
    BR_IF_CMP_IMM(BR_IF_I32_EQ_L, uint32_t, U32, fp[ip[2]], a == b)
    BR_IF_CMP_IMM(BR_IF_I32_EQ_C, uint32_t, U32, (uint64_t)ip[2], a == b)
    BR_IF_CMP_IMM(BR_IF_I32_LT_S_L, int32_t, S32, fp[ip[2]], a < b)
    BR_IF_CMP_IMM(BR_IF_I32_LT_S_C, int32_t, S32, (uint64_t)ip[2], a < b)
    BR_IF_CMP_IMM(BR_IF_I32_LT_U_L, uint32_t, U32, fp[ip[2]], a < b)
    BR_IF_CMP_IMM(BR_IF_I32_LT_U_C, uint32_t, U32, (uint64_t)ip[2], a < b)
    BR_IF_CMP_IMM(BR_IF_I32_GE_S_L, int32_t, S32, fp[ip[2]], a >= b)
    BR_IF_CMP_IMM(BR_IF_I32_GE_S_C, int32_t, S32, (uint64_t)ip[2], a >= b)
    BR_IF_CMP_IMM(BR_IF_I32_GE_U_L, uint32_t, U32, fp[ip[2]], a >= b)
    BR_IF_CMP_IMM(BR_IF_I32_GE_U_C, uint32_t, U32, (uint64_t)ip[2], a >= b)
    BR_IF_CMP_IMM(BR_IF_I32_GT_S_L, int32_t, S32, fp[ip[2]], a > b)
    BR_IF_CMP_IMM(BR_IF_I32_GT_S_C, int32_t, S32, (uint64_t)ip[2], a > b)
    BR_IF_CMP_IMM(BR_IF_I32_LE_S_L, int32_t, S32, fp[ip[2]], a <= b)
    BR_IF_CMP_IMM(BR_IF_I32_LE_S_C, int32_t, S32, (uint64_t)ip[2], a <= b)
    BR_IF_CMP_IMM(BR_IF_I32_GT_U_L, uint32_t, U32, fp[ip[2]], a > b)
    BR_IF_CMP_IMM(BR_IF_I32_GT_U_C, uint32_t, U32, (uint64_t)ip[2], a > b)
    BR_IF_CMP_IMM(BR_IF_I32_LE_U_L, uint32_t, U32, fp[ip[2]], a <= b)
    BR_IF_CMP_IMM(BR_IF_I32_LE_U_C, uint32_t, U32, (uint64_t)ip[2], a <= b)

trap:
    s->depth = saved_depth;
    s->sp = base;
    if (rc == EOS_TRAP_OUT_OF_FUEL)
        s->fuel = s->fuel_bank = 0;
    else
        s->fuel = fuel;
    s->native_depth--;
    if (tmsg != s->trap_msg)
        eos_wasm__trap(s, rc, tmsg);
    return rc;
}
