/* Reading untrusted bytes: the failure recorder (section, index, offset),
 * LEB128 integers with the spec's over-long and unused-bit checks, and
 * constant expressions, which are validated as they are read. */
#include "internal.h"

#include <stdio.h>

int eos_wasm__rd_fail(eos_wasm__rd *r, int code, const char *fmt, ...)
{
    if (r->err)
        return r->err;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->err = code;
    int64_t off = r->p - r->base;
    if (r->index >= 0)
        eos_diag_set(r->diag, code, r->section, off, "%s: %s (%s %lld, byte offset %lld)",
                     r->section, msg,
                     strcmp(r->section, "code section") == 0 ? "function" : "segment",
                     (long long)r->index, (long long)off);
    else
        eos_diag_set(r->diag, code, r->section, off, "%s: %s (byte offset %lld)", r->section, msg,
                     (long long)off);
    return code;
}

int eos_wasm__rd_uleb(eos_wasm__rd *r, unsigned bits, uint64_t *out)
{
    uint64_t v = 0;
    *out = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (r->p >= r->end)
            return eos_wasm__rd_fail(r, EOS_EMALFORMED, "unexpected end (in an integer)");
        uint8_t b = *r->p++;
        if (shift + 7 >= bits) {
            if (b & 0x80)
                return eos_wasm__rd_fail(r, EOS_EMALFORMED, "integer representation too long");
            if (bits - shift < 7 && ((b & 0x7f) >> (bits - shift)) != 0)
                return eos_wasm__rd_fail(r, EOS_EMALFORMED, "integer too large");
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    *out = v;
    return 0;
}

int eos_wasm__rd_sleb(eos_wasm__rd *r, unsigned bits, int64_t *out)
{
    uint64_t v = 0;
    *out = 0;
    unsigned shift = 0;
    for (;;) {
        if (r->p >= r->end)
            return eos_wasm__rd_fail(r, EOS_EMALFORMED, "unexpected end (in an integer)");
        uint8_t b = *r->p++;
        if (shift + 7 >= bits) {
            if (b & 0x80)
                return eos_wasm__rd_fail(r, EOS_EMALFORMED, "integer representation too long");
            unsigned rem = bits - shift;
            if (rem < 7) {
                uint8_t high = (uint8_t)((b & 0x7f) >> (rem - 1));
                if (high != 0 && high != (0x7f >> (rem - 1)))
                    return eos_wasm__rd_fail(r, EOS_EMALFORMED, "integer too large");
            }
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                v |= ~UINT64_C(0) << shift;
            break;
        }
    }
    *out = (int64_t)v;
    return 0;
}

/* Constant expressions never nest blocks; a fixed bound on their operand
 * stack keeps the checker simple without limiting real modules. */
#define EXPR_STACK_MAX 256

int eos_wasm__read_expr(eos_wasm__rd *r, eos_wasm_module *m, eos_wasm__expr *e, uint8_t want,
                        uint32_t global_limit)
{
    uint8_t st[EXPR_STACK_MAX];
    uint32_t n = 0, max = 0;
    e->off = (uint32_t)(r->p - r->base);
    for (;;) {
        uint8_t op, t = 0;
        int64_t sv;
        uint32_t idx;
        if (eos_wasm__rd_byte(r, &op))
            return r->err;
        switch (op) {
        case 0x0b:
            if (n != 1 || !eos_wasm__val_sub(m, st[0], want))
                return eos_wasm__rd_fail(r, EOS_EINVALID, "type mismatch in constant expression");
            e->size = (uint32_t)(r->p - r->base) - e->off;
            e->max_depth = max;
            return 0;
        case 0x41:
            if (eos_wasm__rd_sleb(r, 32, &sv))
                return r->err;
            t = EOS_WASM_I32;
            break;
        case 0x42:
            if (eos_wasm__rd_sleb(r, 64, &sv))
                return r->err;
            t = EOS_WASM_I64;
            break;
        case 0x43:
        case 0x44: {
            size_t k = op == 0x43 ? 4 : 8;
            if ((size_t)(r->end - r->p) < k)
                return eos_wasm__rd_fail(r, EOS_EMALFORMED, "unexpected end");
            r->p += k;
            t = op == 0x43 ? EOS_WASM_F32 : EOS_WASM_F64;
            break;
        }
        case 0xfd: /* v128.const is the one constant SIMD instruction */
            if (eos_wasm__rd_u32(r, &idx))
                return r->err;
            if (idx != 0x0c)
                return eos_wasm__rd_fail(r, EOS_EINVALID, "constant expression required");
            if ((size_t)(r->end - r->p) < 16)
                return eos_wasm__rd_fail(r, EOS_EMALFORMED, "unexpected end");
            r->p += 16;
            t = EOS_WASM_V128;
            break;
        case 0x23:
            if (eos_wasm__rd_u32(r, &idx))
                return r->err;
            if (idx >= global_limit || idx >= m->global_count)
                return eos_wasm__rd_fail(r, EOS_EINVALID, "unknown global %u", idx);
            if (m->globals[idx].type.mutable_)
                return eos_wasm__rd_fail(r, EOS_EINVALID,
                                         "constant expression required (mutable global)");
            t = m->globals[idx].type.valtype;
            break;
        case 0xd0: {
            uint32_t heap;
            if (eos_wasm__read_heaptype(r, m, &heap))
                return r->err;
            int rc = eos_wasm__ref_intern(m, heap, true, &t);
            if (rc)
                return eos_wasm__rd_fail(r, rc, "too many distinct reference types");
            break;
        }
        case 0xd2:
            if (eos_wasm__rd_u32(r, &idx))
                return r->err;
            if (idx >= m->func_count)
                return eos_wasm__rd_fail(r, EOS_EINVALID, "unknown function %u", idx);
            if (m->func_declared)
                m->func_declared[idx] = 1;
            t = eos_wasm__ref_func_type(m, idx);
            break;
        case 0x6a:
        case 0x6b:
        case 0x6c:
        case 0x7c:
        case 0x7d:
        case 0x7e:
            if (m->features.disable_extended_const)
                return eos_wasm__rd_fail(r, EOS_EINVALID, "constant expression required");
            t = op < 0x70 ? EOS_WASM_I32 : EOS_WASM_I64;
            if (n < 2 || st[n - 1] != t || st[n - 2] != t)
                return eos_wasm__rd_fail(r, EOS_EINVALID, "type mismatch in constant expression");
            n -= 2;
            break;
        default:
            return eos_wasm__rd_fail(r, EOS_EINVALID,
                                     "constant expression required (opcode 0x%02x)", op);
        }
        if (n == EXPR_STACK_MAX)
            return eos_wasm__rd_fail(r, EOS_ELIMIT, "constant expression too deep");
        st[n++] = t;
        if (n > max)
            max = n;
    }
}
