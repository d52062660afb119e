/* The interpreter's SIMD instructions: plain loops over the lanes of 16-byte
 * values kept in two stack slots, with the spec's NaN rules (results of
 * float lanes are arithmetic NaNs; min/max propagate NaN; pmin/pmax are the
 * comparisons the spec defines). Called from exec.c for EOS_WASM_OP_SIMD. */
#include "internal.h"

#include <math.h>

typedef union v128 {
    uint8_t u8[16];
    int8_t i8[16];
    uint16_t u16[8];
    int16_t i16[8];
    uint32_t u32[4];
    int32_t i32[4];
    uint64_t u64[2];
    int64_t i64[2];
    float f32[4];
    double f64[2];
} v128;

static inline v128 get(const uint64_t *p)
{
    v128 x;
    memcpy(&x, p, 16);
    return x;
}

static inline void put(uint64_t *p, v128 x)
{
    memcpy(p, &x, 16);
}

/* min/max: NaN in, arithmetic NaN out; -0 below +0. */
#define FMINMAX(name, T, lt)                                                                       \
    static inline T name(T a, T b)                                                                 \
    {                                                                                              \
        if (a != a || b != b)                                                                      \
            return a + b;                                                                          \
        if (a == 0 && b == 0)                                                                      \
            return (signbit(a) != 0) == lt ? a : b;                                                \
        return lt ? (a < b ? a : b) : (a > b ? a : b);                                             \
    }
FMINMAX(fmin32, float, 1)
FMINMAX(fmax32, float, 0)
FMINMAX(fmin64, double, 1)
FMINMAX(fmax64, double, 0)

static inline int32_t sat_s32(double a)
{
    if (a != a)
        return 0;
    if (a <= -2147483649.0)
        return INT32_MIN;
    if (a >= 2147483648.0)
        return INT32_MAX;
    return (int32_t)a;
}

static inline uint32_t sat_u32(double a)
{
    if (a != a || a <= -1.0)
        return 0;
    if (a >= 4294967296.0)
        return UINT32_MAX;
    return (uint32_t)a;
}

static inline int8_t sat8s(int32_t x)
{
    return (int8_t)(x < -128 ? -128 : x > 127 ? 127 : x);
}

static inline uint8_t sat8u(int32_t x)
{
    return (uint8_t)(x < 0 ? 0 : x > 255 ? 255 : x);
}

static inline int16_t sat16s(int32_t x)
{
    return (int16_t)(x < -32768 ? -32768 : x > 32767 ? 32767 : x);
}

static inline uint16_t sat16u(int32_t x)
{
    return (uint16_t)(x < 0 ? 0 : x > 65535 ? 65535 : x);
}

/* Lane loops: r.F[i] = expr for every lane i of N. */
#define LANES(N, stmt)                                                                             \
    for (int i = 0; i < (N); i++) {                                                                \
        stmt;                                                                                      \
    }

/* Loads and stores: the effective address, bounds-checked. */
static uint8_t *addr(eos_wasm_instance *inst, const uint32_t *ip, uint64_t base, uint32_t n)
{
    eos_wasm_memory *m = inst->memories[ip[3]];
    /* i32 addresses are zero-extended slots; i64 ones come with the offset
     * already added and checked (EOS_WASM__X64_SIMD_ADDR). */
    uint64_t ea = base + ip[4];
    if (ea + n > m->size)
        return NULL;
    return m->data + ea;
}

static uint64_t *memory_op(eos_wasm_instance *inst, const uint32_t *ip, uint64_t *sp, int *trap)
{
    uint32_t op = ip[1];
    v128 r;
    memset(&r, 0, sizeof(r));
    uint8_t *p;
    if (op == 0x0b) { /* v128.store */
        if (!(p = addr(inst, ip, sp[-3], 16)))
            goto oob;
        memcpy(p, sp - 2, 16);
        return sp - 3;
    }
    if (op >= 0x54 && op <= 0x5b) { /* lane loads and stores */
        uint32_t w = 1u << ((op - 0x54) & 3);
        v128 x = get(sp - 2);
        if (!(p = addr(inst, ip, sp[-3], w)))
            goto oob;
        uint8_t *lane = x.u8 + ip[5] * w;
        uint8_t *dst = op >= 0x58 ? p : lane;
        const uint8_t *src = op >= 0x58 ? lane : p;
        if (w == 1)
            memcpy(dst, src, 1);
        else if (w == 2)
            memcpy(dst, src, 2);
        else if (w == 4)
            memcpy(dst, src, 4);
        else
            memcpy(dst, src, 8);
        if (op >= 0x58)
            return sp - 3;
        put(sp - 3, x);
        return sp - 1;
    }
    static const uint8_t width[] = {16, 8, 8, 8, 8, 8, 8, 1, 2, 4, 8};
    uint32_t w = op == 0x5c ? 4 : op == 0x5d ? 8 : width[op];
    if (!(p = addr(inst, ip, sp[-1], w)))
        goto oob;
    /* Fixed-size copies only: a variable length becomes a slow string copy. */
    uint8_t b[8];
    if (op == 0x00) {
        memcpy(sp - 1, p, 16);
        return sp + 1;
    }
    memcpy(b, p, 1);
    if (w >= 2)
        memcpy(b, p, 2);
    if (w >= 4)
        memcpy(b, p, 4);
    if (w == 8)
        memcpy(b, p, 8);
    switch (op) {
    case 0x5c:
        memcpy(r.u8, b, 4);
        break;
    case 0x5d:
        memcpy(r.u8, b, 8);
        break;
    case 0x01:
        LANES(8, r.i16[i] = (int8_t)b[i]);
        break;
    case 0x02:
        LANES(8, r.u16[i] = b[i]);
        break;
    case 0x03:
        LANES(4, int16_t t; memcpy(&t, b + 2 * i, 2); r.i32[i] = t);
        break;
    case 0x04:
        LANES(4, uint16_t t; memcpy(&t, b + 2 * i, 2); r.u32[i] = t);
        break;
    case 0x05:
        LANES(2, int32_t t; memcpy(&t, b + 4 * i, 4); r.i64[i] = t);
        break;
    case 0x06:
        LANES(2, uint32_t t; memcpy(&t, b + 4 * i, 4); r.u64[i] = t);
        break;
    case 0x07:
        LANES(16, r.u8[i] = b[0]);
        break;
    case 0x08:
        LANES(8, memcpy(&r.u16[i], b, 2));
        break;
    case 0x09:
        LANES(4, memcpy(&r.u32[i], b, 4));
        break;
    default:
        LANES(2, memcpy(&r.u64[i], b, 8));
        break;
    }
    put(sp - 1, r);
    return sp + 1;
oob:
    *trap = EOS_TRAP_MEMORY_OOB;
    return NULL;
}

/* Operations of one v128 operand: a at sp-2, result in place. */
static void unary(uint32_t op, uint64_t *sp)
{
    v128 a = get(sp - 2), r;
    memset(&r, 0, sizeof(r));
    switch (op) {
    case 0x4d:
        LANES(2, r.u64[i] = ~a.u64[i]);
        break;
    case 0x5e:
        LANES(2, r.f32[i] = (float)a.f64[i]);
        break;
    case 0x5f:
        LANES(2, r.f64[i] = (double)a.f32[i]);
        break;
    case 0x60:
        LANES(16, r.u8[i] = a.i8[i] < 0 ? (uint8_t)-a.u8[i] : a.u8[i]);
        break;
    case 0x61:
        LANES(16, r.u8[i] = (uint8_t)-a.u8[i]);
        break;
    case 0x62:
        LANES(16, r.u8[i] = (uint8_t)__builtin_popcount(a.u8[i]));
        break;
    case 0x67:
        LANES(4, r.f32[i] = ceil32(a.f32[i]));
        break;
    case 0x68:
        LANES(4, r.f32[i] = floor32(a.f32[i]));
        break;
    case 0x69:
        LANES(4, r.f32[i] = trunc32(a.f32[i]));
        break;
    case 0x6a:
        LANES(4, r.f32[i] = nearest32(a.f32[i]));
        break;
    case 0x74:
        LANES(2, r.f64[i] = ceil64(a.f64[i]));
        break;
    case 0x75:
        LANES(2, r.f64[i] = floor64(a.f64[i]));
        break;
    case 0x7a:
        LANES(2, r.f64[i] = trunc64(a.f64[i]));
        break;
    case 0x94:
        LANES(2, r.f64[i] = nearest64(a.f64[i]));
        break;
    case 0x7c:
        LANES(8, r.i16[i] = (int16_t)(a.i8[2 * i] + a.i8[2 * i + 1]));
        break;
    case 0x7d:
        LANES(8, r.u16[i] = (uint16_t)(a.u8[2 * i] + a.u8[2 * i + 1]));
        break;
    case 0x7e:
        LANES(4, r.i32[i] = a.i16[2 * i] + a.i16[2 * i + 1]);
        break;
    case 0x7f:
        LANES(4, r.u32[i] = (uint32_t)a.u16[2 * i] + a.u16[2 * i + 1]);
        break;
    case 0x80:
        LANES(8, r.u16[i] = a.i16[i] < 0 ? (uint16_t)-a.u16[i] : a.u16[i]);
        break;
    case 0x81:
        LANES(8, r.u16[i] = (uint16_t)-a.u16[i]);
        break;
    case 0x87:
        LANES(8, r.i16[i] = a.i8[i]);
        break;
    case 0x88:
        LANES(8, r.i16[i] = a.i8[i + 8]);
        break;
    case 0x89:
        LANES(8, r.u16[i] = a.u8[i]);
        break;
    case 0x8a:
        LANES(8, r.u16[i] = a.u8[i + 8]);
        break;
    case 0xa0:
        LANES(4, r.u32[i] = a.i32[i] < 0 ? -a.u32[i] : a.u32[i]);
        break;
    case 0xa1:
        LANES(4, r.u32[i] = -a.u32[i]);
        break;
    case 0xa7:
        LANES(4, r.i32[i] = a.i16[i]);
        break;
    case 0xa8:
        LANES(4, r.i32[i] = a.i16[i + 4]);
        break;
    case 0xa9:
        LANES(4, r.u32[i] = a.u16[i]);
        break;
    case 0xaa:
        LANES(4, r.u32[i] = a.u16[i + 4]);
        break;
    case 0xc0:
        LANES(2, r.u64[i] = a.i64[i] < 0 ? -a.u64[i] : a.u64[i]);
        break;
    case 0xc1:
        LANES(2, r.u64[i] = -a.u64[i]);
        break;
    case 0xc7:
        LANES(2, r.i64[i] = a.i32[i]);
        break;
    case 0xc8:
        LANES(2, r.i64[i] = a.i32[i + 2]);
        break;
    case 0xc9:
        LANES(2, r.u64[i] = a.u32[i]);
        break;
    case 0xca:
        LANES(2, r.u64[i] = a.u32[i + 2]);
        break;
    case 0xe0:
        LANES(4, r.u32[i] = a.u32[i] & 0x7fffffffu);
        break;
    case 0xe1:
        LANES(4, r.u32[i] = a.u32[i] ^ 0x80000000u);
        break;
    case 0xe3:
        LANES(4, r.f32[i] = sqrtf(a.f32[i]));
        break;
    case 0xec:
        LANES(2, r.u64[i] = a.u64[i] & 0x7fffffffffffffffull);
        break;
    case 0xed:
        LANES(2, r.u64[i] = a.u64[i] ^ 0x8000000000000000ull);
        break;
    case 0xef:
        LANES(2, r.f64[i] = sqrt(a.f64[i]));
        break;
    case 0xf8:
    case 0x101: /* relaxed_trunc: as trunc_sat */
        LANES(4, r.i32[i] = sat_s32(a.f32[i]));
        break;
    case 0xf9:
    case 0x102:
        LANES(4, r.u32[i] = sat_u32(a.f32[i]));
        break;
    case 0xfa:
        LANES(4, r.f32[i] = (float)a.i32[i]);
        break;
    case 0xfb:
        LANES(4, r.f32[i] = (float)a.u32[i]);
        break;
    case 0xfc:
    case 0x103:
        LANES(2, r.i32[i] = sat_s32(a.f64[i]));
        break;
    case 0xfd:
    case 0x104:
        LANES(2, r.u32[i] = sat_u32(a.f64[i]));
        break;
    case 0xfe:
        LANES(2, r.f64[i] = a.i32[i]);
        break;
    case 0xff:
        LANES(2, r.f64[i] = a.u32[i]);
        break;
    default:
        break;
    }
    put(sp - 2, r);
}

/* Comparisons 0x23..0x4c and i64x2 0xd6..0xdb: all ones where true. */
#define CMP(N, F, o)      LANES(N, r.F[i] = (a.F[i] o b.F[i]) ? -1 : 0)
#define CMPU(N, F, UF, o) LANES(N, r.F[i] = (a.UF[i] o b.UF[i]) ? -1 : 0)

/* Operations of two v128 operands: a at sp-4, b at sp-2. One line per
 * operation keeps the table readable. */
// clang-format off
static void binary(uint32_t op, uint64_t *sp)
{
    v128 a = get(sp - 4), b = get(sp - 2), r;
    memset(&r, 0, sizeof(r));
    switch (op) {
    case 0x0e:
    case 0x100: /* relaxed_swizzle: as swizzle */
        LANES(16, r.u8[i] = b.u8[i] < 16 ? a.u8[b.u8[i]] : 0);
        break;
    case 0x23: CMP(16, i8, ==); break;
    case 0x24: CMP(16, i8, !=); break;
    case 0x25: CMP(16, i8, <); break;
    case 0x26: CMPU(16, i8, u8, <); break;
    case 0x27: CMP(16, i8, >); break;
    case 0x28: CMPU(16, i8, u8, >); break;
    case 0x29: CMP(16, i8, <=); break;
    case 0x2a: CMPU(16, i8, u8, <=); break;
    case 0x2b: CMP(16, i8, >=); break;
    case 0x2c: CMPU(16, i8, u8, >=); break;
    case 0x2d: CMP(8, i16, ==); break;
    case 0x2e: CMP(8, i16, !=); break;
    case 0x2f: CMP(8, i16, <); break;
    case 0x30: CMPU(8, i16, u16, <); break;
    case 0x31: CMP(8, i16, >); break;
    case 0x32: CMPU(8, i16, u16, >); break;
    case 0x33: CMP(8, i16, <=); break;
    case 0x34: CMPU(8, i16, u16, <=); break;
    case 0x35: CMP(8, i16, >=); break;
    case 0x36: CMPU(8, i16, u16, >=); break;
    case 0x37: CMP(4, i32, ==); break;
    case 0x38: CMP(4, i32, !=); break;
    case 0x39: CMP(4, i32, <); break;
    case 0x3a: CMPU(4, i32, u32, <); break;
    case 0x3b: CMP(4, i32, >); break;
    case 0x3c: CMPU(4, i32, u32, >); break;
    case 0x3d: CMP(4, i32, <=); break;
    case 0x3e: CMPU(4, i32, u32, <=); break;
    case 0x3f: CMP(4, i32, >=); break;
    case 0x40: CMPU(4, i32, u32, >=); break;
    case 0x41: LANES(4, r.i32[i] = a.f32[i] == b.f32[i] ? -1 : 0); break;
    case 0x42: LANES(4, r.i32[i] = a.f32[i] != b.f32[i] ? -1 : 0); break;
    case 0x43: LANES(4, r.i32[i] = a.f32[i] < b.f32[i] ? -1 : 0); break;
    case 0x44: LANES(4, r.i32[i] = a.f32[i] > b.f32[i] ? -1 : 0); break;
    case 0x45: LANES(4, r.i32[i] = a.f32[i] <= b.f32[i] ? -1 : 0); break;
    case 0x46: LANES(4, r.i32[i] = a.f32[i] >= b.f32[i] ? -1 : 0); break;
    case 0x47: LANES(2, r.i64[i] = a.f64[i] == b.f64[i] ? -1 : 0); break;
    case 0x48: LANES(2, r.i64[i] = a.f64[i] != b.f64[i] ? -1 : 0); break;
    case 0x49: LANES(2, r.i64[i] = a.f64[i] < b.f64[i] ? -1 : 0); break;
    case 0x4a: LANES(2, r.i64[i] = a.f64[i] > b.f64[i] ? -1 : 0); break;
    case 0x4b: LANES(2, r.i64[i] = a.f64[i] <= b.f64[i] ? -1 : 0); break;
    case 0x4c: LANES(2, r.i64[i] = a.f64[i] >= b.f64[i] ? -1 : 0); break;
    case 0x4e: LANES(2, r.u64[i] = a.u64[i] & b.u64[i]); break;
    case 0x4f: LANES(2, r.u64[i] = a.u64[i] & ~b.u64[i]); break;
    case 0x50: LANES(2, r.u64[i] = a.u64[i] | b.u64[i]); break;
    case 0x51: LANES(2, r.u64[i] = a.u64[i] ^ b.u64[i]); break;
    case 0x65:
        LANES(8, r.i8[i] = sat8s(a.i16[i]); r.i8[i + 8] = sat8s(b.i16[i]));
        break;
    case 0x66:
        LANES(8, r.u8[i] = sat8u(a.i16[i]); r.u8[i + 8] = sat8u(b.i16[i]));
        break;
    case 0x6e: LANES(16, r.u8[i] = (uint8_t)(a.u8[i] + b.u8[i])); break;
    case 0x6f: LANES(16, r.i8[i] = sat8s(a.i8[i] + b.i8[i])); break;
    case 0x70: LANES(16, r.u8[i] = sat8u(a.u8[i] + b.u8[i])); break;
    case 0x71: LANES(16, r.u8[i] = (uint8_t)(a.u8[i] - b.u8[i])); break;
    case 0x72: LANES(16, r.i8[i] = sat8s(a.i8[i] - b.i8[i])); break;
    case 0x73: LANES(16, r.u8[i] = sat8u(a.u8[i] - b.u8[i])); break;
    case 0x76: LANES(16, r.i8[i] = a.i8[i] < b.i8[i] ? a.i8[i] : b.i8[i]); break;
    case 0x77: LANES(16, r.u8[i] = a.u8[i] < b.u8[i] ? a.u8[i] : b.u8[i]); break;
    case 0x78: LANES(16, r.i8[i] = a.i8[i] > b.i8[i] ? a.i8[i] : b.i8[i]); break;
    case 0x79: LANES(16, r.u8[i] = a.u8[i] > b.u8[i] ? a.u8[i] : b.u8[i]); break;
    case 0x7b: LANES(16, r.u8[i] = (uint8_t)((a.u8[i] + b.u8[i] + 1) >> 1)); break;
    case 0x82:
    case 0x111: /* relaxed_q15mulr_s: as q15mulr_sat_s */
        LANES(8, r.i16[i] = sat16s((a.i16[i] * b.i16[i] + 0x4000) >> 15));
        break;
    case 0x85:
        LANES(4, r.i16[i] = sat16s(a.i32[i]); r.i16[i + 4] = sat16s(b.i32[i]));
        break;
    case 0x86:
        LANES(4, r.u16[i] = sat16u(a.i32[i]); r.u16[i + 4] = sat16u(b.i32[i]));
        break;
    case 0x8e: LANES(8, r.u16[i] = (uint16_t)(a.u16[i] + b.u16[i])); break;
    case 0x8f: LANES(8, r.i16[i] = sat16s(a.i16[i] + b.i16[i])); break;
    case 0x90: LANES(8, r.u16[i] = sat16u(a.u16[i] + b.u16[i])); break;
    case 0x91: LANES(8, r.u16[i] = (uint16_t)(a.u16[i] - b.u16[i])); break;
    case 0x92: LANES(8, r.i16[i] = sat16s(a.i16[i] - b.i16[i])); break;
    case 0x93: LANES(8, r.u16[i] = sat16u(a.u16[i] - b.u16[i])); break;
    case 0x95: LANES(8, r.u16[i] = (uint16_t)((uint32_t)a.u16[i] * b.u16[i])); break;
    case 0x96: LANES(8, r.i16[i] = a.i16[i] < b.i16[i] ? a.i16[i] : b.i16[i]); break;
    case 0x97: LANES(8, r.u16[i] = a.u16[i] < b.u16[i] ? a.u16[i] : b.u16[i]); break;
    case 0x98: LANES(8, r.i16[i] = a.i16[i] > b.i16[i] ? a.i16[i] : b.i16[i]); break;
    case 0x99: LANES(8, r.u16[i] = a.u16[i] > b.u16[i] ? a.u16[i] : b.u16[i]); break;
    case 0x9b: LANES(8, r.u16[i] = (uint16_t)((a.u16[i] + b.u16[i] + 1) >> 1)); break;
    case 0x9c: LANES(8, r.i16[i] = (int16_t)(a.i8[i] * b.i8[i])); break;
    case 0x9d: LANES(8, r.i16[i] = (int16_t)(a.i8[i + 8] * b.i8[i + 8])); break;
    case 0x9e: LANES(8, r.u16[i] = (uint16_t)(a.u8[i] * b.u8[i])); break;
    case 0x9f: LANES(8, r.u16[i] = (uint16_t)(a.u8[i + 8] * b.u8[i + 8])); break;
    case 0xae: LANES(4, r.u32[i] = a.u32[i] + b.u32[i]); break;
    case 0xb1: LANES(4, r.u32[i] = a.u32[i] - b.u32[i]); break;
    case 0xb5: LANES(4, r.u32[i] = a.u32[i] * b.u32[i]); break;
    case 0xb6: LANES(4, r.i32[i] = a.i32[i] < b.i32[i] ? a.i32[i] : b.i32[i]); break;
    case 0xb7: LANES(4, r.u32[i] = a.u32[i] < b.u32[i] ? a.u32[i] : b.u32[i]); break;
    case 0xb8: LANES(4, r.i32[i] = a.i32[i] > b.i32[i] ? a.i32[i] : b.i32[i]); break;
    case 0xb9: LANES(4, r.u32[i] = a.u32[i] > b.u32[i] ? a.u32[i] : b.u32[i]); break;
    case 0xba:
        LANES(4, r.u32[i] = (uint32_t)((int64_t)a.i16[2 * i] * b.i16[2 * i] +
                                       (int64_t)a.i16[2 * i + 1] * b.i16[2 * i + 1]));
        break;
    case 0xbc: LANES(4, r.i32[i] = a.i16[i] * b.i16[i]); break;
    case 0x112: /* relaxed_dot_i8x16_i7x16_s: b signed, pair sums wrap to 16 bits */
        LANES(8, r.u16[i] = (uint16_t)(a.i8[2 * i] * b.i8[2 * i] + a.i8[2 * i + 1] * b.i8[2 * i + 1]));
        break;
    case 0xbd: LANES(4, r.i32[i] = a.i16[i + 4] * b.i16[i + 4]); break;
    case 0xbe: LANES(4, r.u32[i] = (uint32_t)a.u16[i] * b.u16[i]); break;
    case 0xbf: LANES(4, r.u32[i] = (uint32_t)a.u16[i + 4] * b.u16[i + 4]); break;
    case 0xce: LANES(2, r.u64[i] = a.u64[i] + b.u64[i]); break;
    case 0xd1: LANES(2, r.u64[i] = a.u64[i] - b.u64[i]); break;
    case 0xd5: LANES(2, r.u64[i] = a.u64[i] * b.u64[i]); break;
    case 0xd6: CMP(2, i64, ==); break;
    case 0xd7: CMP(2, i64, !=); break;
    case 0xd8: CMP(2, i64, <); break;
    case 0xd9: CMP(2, i64, >); break;
    case 0xda: CMP(2, i64, <=); break;
    case 0xdb: CMP(2, i64, >=); break;
    case 0xdc: LANES(2, r.i64[i] = (int64_t)a.i32[i] * b.i32[i]); break;
    case 0xdd: LANES(2, r.i64[i] = (int64_t)a.i32[i + 2] * b.i32[i + 2]); break;
    case 0xde: LANES(2, r.u64[i] = (uint64_t)a.u32[i] * b.u32[i]); break;
    case 0xdf: LANES(2, r.u64[i] = (uint64_t)a.u32[i + 2] * b.u32[i + 2]); break;
    case 0xe4: LANES(4, r.f32[i] = a.f32[i] + b.f32[i]); break;
    case 0xe5: LANES(4, r.f32[i] = a.f32[i] - b.f32[i]); break;
    case 0xe6: LANES(4, r.f32[i] = a.f32[i] * b.f32[i]); break;
    case 0xe7: LANES(4, r.f32[i] = a.f32[i] / b.f32[i]); break;
    case 0xe8: case 0x10d: LANES(4, r.f32[i] = fmin32(a.f32[i], b.f32[i])); break;
    case 0xe9: case 0x10e: LANES(4, r.f32[i] = fmax32(a.f32[i], b.f32[i])); break;
    case 0xea: LANES(4, r.u32[i] = b.f32[i] < a.f32[i] ? b.u32[i] : a.u32[i]); break;
    case 0xeb: LANES(4, r.u32[i] = a.f32[i] < b.f32[i] ? b.u32[i] : a.u32[i]); break;
    case 0xf0: LANES(2, r.f64[i] = a.f64[i] + b.f64[i]); break;
    case 0xf1: LANES(2, r.f64[i] = a.f64[i] - b.f64[i]); break;
    case 0xf2: LANES(2, r.f64[i] = a.f64[i] * b.f64[i]); break;
    case 0xf3: LANES(2, r.f64[i] = a.f64[i] / b.f64[i]); break;
    case 0xf4: case 0x10f: LANES(2, r.f64[i] = fmin64(a.f64[i], b.f64[i])); break;
    case 0xf5: case 0x110: LANES(2, r.f64[i] = fmax64(a.f64[i], b.f64[i])); break;
    case 0xf6: LANES(2, r.u64[i] = b.f64[i] < a.f64[i] ? b.u64[i] : a.u64[i]); break;
    case 0xf7: LANES(2, r.u64[i] = a.f64[i] < b.f64[i] ? b.u64[i] : a.u64[i]); break;
    default:
        break;
    }
    put(sp - 4, r);
}
// clang-format on

/* Operations of three v128 operands: a at sp-6, b at sp-4, c at sp-2. The
 * relaxed ones take the deterministic choice documented in
 * docs/architecture.md: madd fused (one rounding), laneselect a bitselect,
 * the dot product with b signed. */
static void ternary(uint32_t op, uint64_t *sp)
{
    v128 a = get(sp - 6), b = get(sp - 4), c = get(sp - 2), r;
    switch (op) {
    case 0x105:
        LANES(4, r.f32[i] = fmaf(a.f32[i], b.f32[i], c.f32[i]));
        break;
    case 0x106:
        LANES(4, r.f32[i] = fmaf(-a.f32[i], b.f32[i], c.f32[i]));
        break;
    case 0x107:
        LANES(2, r.f64[i] = fma(a.f64[i], b.f64[i], c.f64[i]));
        break;
    case 0x108:
        LANES(2, r.f64[i] = fma(-a.f64[i], b.f64[i], c.f64[i]));
        break;
    case 0x113: /* relaxed_dot_i8x16_i7x16_add_s */
        LANES(4, r.u32[i] = c.u32[i] + (uint32_t)(a.i8[4 * i] * b.i8[4 * i] +
                                                  a.i8[4 * i + 1] * b.i8[4 * i + 1] +
                                                  a.i8[4 * i + 2] * b.i8[4 * i + 2] +
                                                  a.i8[4 * i + 3] * b.i8[4 * i + 3]));
        break;
    default: /* bitselect and the relaxed lane selects: bits of a where c is 1 */
        LANES(2, r.u64[i] = (a.u64[i] & c.u64[i]) | (b.u64[i] & ~c.u64[i]));
        break;
    }
    put(sp - 6, r);
}

/* Shifts: a at sp-3, the count at sp-1 (taken modulo the lane width). */
// clang-format off
static void shift(uint32_t op, uint64_t *sp)
{
    v128 a = get(sp - 3), r;
    uint32_t n = (uint32_t)sp[-1];
    switch (op) {
    case 0x6b: LANES(16, r.u8[i] = (uint8_t)(a.u8[i] << (n & 7))); break;
    case 0x6c: LANES(16, r.i8[i] = (int8_t)(a.i8[i] >> (n & 7))); break;
    case 0x6d: LANES(16, r.u8[i] = (uint8_t)(a.u8[i] >> (n & 7))); break;
    case 0x8b: LANES(8, r.u16[i] = (uint16_t)(a.u16[i] << (n & 15))); break;
    case 0x8c: LANES(8, r.i16[i] = (int16_t)(a.i16[i] >> (n & 15))); break;
    case 0x8d: LANES(8, r.u16[i] = (uint16_t)(a.u16[i] >> (n & 15))); break;
    case 0xab: LANES(4, r.u32[i] = a.u32[i] << (n & 31)); break;
    case 0xac: LANES(4, r.i32[i] = a.i32[i] >> (n & 31)); break;
    case 0xad: LANES(4, r.u32[i] = a.u32[i] >> (n & 31)); break;
    case 0xcb: LANES(2, r.u64[i] = a.u64[i] << (n & 63)); break;
    case 0xcc: LANES(2, r.i64[i] = a.i64[i] >> (n & 63)); break;
    default: LANES(2, r.u64[i] = a.u64[i] >> (n & 63)); break;
    }
    put(sp - 3, r);
}
// clang-format on

/* any_true, all_true and bitmask: a at sp-2, an i32 result. */
static uint32_t test(uint32_t op, const uint64_t *sp)
{
    v128 a = get(sp - 2);
    uint32_t r = 0;
    switch (op) {
    case 0x53:
        return (a.u64[0] | a.u64[1]) != 0;
    case 0x63:
        r = 1;
        LANES(16, r &= a.u8[i] != 0);
        return r;
    case 0x83:
        r = 1;
        LANES(8, r &= a.u16[i] != 0);
        return r;
    case 0xa3:
        r = 1;
        LANES(4, r &= a.u32[i] != 0);
        return r;
    case 0xc3:
        return a.u64[0] != 0 && a.u64[1] != 0;
    case 0x64:
        LANES(16, r |= (uint32_t)(a.u8[i] >> 7) << i);
        return r;
    case 0x84:
        LANES(8, r |= (uint32_t)(a.u16[i] >> 15) << i);
        return r;
    case 0xa4:
        LANES(4, r |= (a.u32[i] >> 31) << i);
        return r;
    default:
        LANES(2, r |= (uint32_t)(a.u64[i] >> 63) << i);
        return r;
    }
}

uint64_t *eos_wasm__simd_exec(eos_wasm_instance *inst, const uint32_t *ip, uint64_t *sp, int *trap)
{
    /* The validator marks the operations of v128 operands only (bit 8:
     * unary, bit 9: binary); the rest are told apart by sub-opcode. */
    uint32_t op = ip[1] & 0xffff;
    v128 r = {{0}};
    if (ip[1] & EOS_WASM__SIMD_UNARY) {
        unary(op, sp);
        return sp;
    }
    if (ip[1] & EOS_WASM__SIMD_BINARY) {
        binary(op, sp);
        return sp - 2;
    }
    if (ip[1] & EOS_WASM__SIMD_TERNARY) {
        ternary(op, sp);
        return sp - 4;
    }
    if (op <= 0x0b || (op >= 0x54 && op <= 0x5d))
        return memory_op(inst, ip, sp, trap);
    switch (op) {
    case 0x0d: { /* shuffle: lanes 0..15 from a, 16..31 from b */
        v128 a = get(sp - 4), b = get(sp - 2);
        uint8_t lane[16];
        memcpy(lane, ip + 3, 16);
        LANES(16, r.u8[i] = lane[i] < 16 ? a.u8[lane[i]] : b.u8[lane[i] - 16]);
        put(sp - 4, r);
        return sp - 2;
    }
    case 0x0f:
        memset(r.u8, (uint8_t)sp[-1], 16);
        break;
    case 0x10:
        LANES(8, r.u16[i] = (uint16_t)sp[-1]);
        break;
    case 0x11:
    case 0x13:
        LANES(4, r.u32[i] = (uint32_t)sp[-1]);
        break;
    case 0x12:
    case 0x14:
        LANES(2, r.u64[i] = sp[-1]);
        break;
    case 0x15:
        sp[-2] = (uint32_t)(int32_t)get(sp - 2).i8[ip[3]];
        return sp - 1;
    case 0x16:
        sp[-2] = get(sp - 2).u8[ip[3]];
        return sp - 1;
    case 0x18:
        sp[-2] = (uint32_t)(int32_t)get(sp - 2).i16[ip[3]];
        return sp - 1;
    case 0x19:
        sp[-2] = get(sp - 2).u16[ip[3]];
        return sp - 1;
    case 0x1b:
    case 0x1f:
        sp[-2] = get(sp - 2).u32[ip[3]];
        return sp - 1;
    case 0x1d:
    case 0x21:
        sp[-2] = get(sp - 2).u64[ip[3]];
        return sp - 1;
    case 0x17:
    case 0x1a:
    case 0x1c:
    case 0x1e:
    case 0x20:
    case 0x22: {
        r = get(sp - 3);
        uint64_t x = sp[-1];
        if (op == 0x17)
            r.u8[ip[3]] = (uint8_t)x;
        else if (op == 0x1a)
            r.u16[ip[3]] = (uint16_t)x;
        else if (op == 0x1c || op == 0x20)
            r.u32[ip[3]] = (uint32_t)x;
        else
            r.u64[ip[3]] = x;
        put(sp - 3, r);
        return sp - 1;
    }
    case 0x53:
    case 0x63:
    case 0x64:
    case 0x83:
    case 0x84:
    case 0xa3:
    case 0xa4:
    case 0xc3:
    case 0xc4:
        sp[-2] = test(op, sp);
        return sp - 1;
    case 0x6b:
    case 0x6c:
    case 0x6d:
    case 0x8b:
    case 0x8c:
    case 0x8d:
    case 0xab:
    case 0xac:
    case 0xad:
    case 0xcb:
    case 0xcc:
    case 0xcd:
        shift(op, sp);
        return sp - 1;
    default:
        break;
    }
    /* splats: a scalar in, a v128 out */
    put(sp - 1, r);
    return sp + 1;
}
