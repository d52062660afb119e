/* Validation and translation of the fixed-width SIMD instructions (prefix
 * 0xfd): each is checked against its operand signature and immediates (lane
 * indices, alignment, memory) and emitted as EOS_WASM_OP_SIMD with the
 * sub-opcode, its length in words and the decoded immediates; v128.const
 * becomes EOS_WASM_OP_V128_CONST. exec_simd.c runs them. */
#include "internal.h"

#define FAIL(...) eos_wasm__rd_fail(&v->r, __VA_ARGS__)
#define TRY(x)                                                                                     \
    do {                                                                                           \
        if (x)                                                                                     \
            return v->r.err ? v->r.err : EOS_EINVALID;                                             \
    } while (0)

enum {
    K_BAD,        /* reserved opcode */
    K_LOAD,       /* i:v memarg (a = natural alignment) */
    K_STORE,      /* iv: memarg */
    K_LOAD_LANE,  /* iv:v memarg lane (b = lanes) */
    K_STORE_LANE, /* iv: memarg lane */
    K_CONST,      /* :v, 16 bytes */
    K_SHUFFLE,    /* vv:v, 16 lane bytes */
    K_SPLAT,      /* x:v (a = scalar type) */
    K_EXTRACT,    /* v:x lane */
    K_REPLACE,    /* vx:v lane */
    K_UN,         /* v:v */
    K_BIN,        /* vv:v */
    K_TERN,       /* vvv:v */
    K_TEST,       /* v:i */
    K_SHIFT,      /* vi:v */
};

typedef struct kind {
    uint8_t k, a, b;
} kind;

/* The kind of sub-opcode op (0..255) of the SIMD proposal. */
static kind classify(uint32_t op)
{
    static const uint8_t scalar[] = {EOS_WASM_I32, EOS_WASM_I32, EOS_WASM_I32,
                                     EOS_WASM_I64, EOS_WASM_F32, EOS_WASM_F64};
    if (op <= 0x0a) {
        static const uint8_t align[] = {4, 3, 3, 3, 3, 3, 3, 0, 1, 2, 3};
        return (kind){K_LOAD, align[op], 0};
    }
    switch (op) {
    case 0x0b:
        return (kind){K_STORE, 4, 0};
    case 0x0c:
        return (kind){K_CONST, 0, 0};
    case 0x0d:
        return (kind){K_SHUFFLE, 0, 0};
    case 0x0e:
        return (kind){K_BIN, 0, 0};
    case 0x52:
        return (kind){K_TERN, 0, 0};
    case 0x53:
    case 0x63:
    case 0x64:
    case 0x83:
    case 0x84:
    case 0xa3:
    case 0xa4:
    case 0xc3:
    case 0xc4:
        return (kind){K_TEST, 0, 0};
    case 0x5c:
        return (kind){K_LOAD, 2, 0};
    case 0x5d:
        return (kind){K_LOAD, 3, 0};
    default:
        break;
    }
    if (op >= 0x0f && op <= 0x14)
        return (kind){K_SPLAT, scalar[op - 0x0f], 0};
    if (op >= 0x15 && op <= 0x22) {
        /* extract_s, extract_u, replace for i8 and i16; extract, replace after. */
        static const struct {
            uint8_t k, t, lanes;
        } lane[] = {
            {K_EXTRACT, EOS_WASM_I32, 16}, {K_EXTRACT, EOS_WASM_I32, 16},
            {K_REPLACE, EOS_WASM_I32, 16}, {K_EXTRACT, EOS_WASM_I32, 8},
            {K_EXTRACT, EOS_WASM_I32, 8},  {K_REPLACE, EOS_WASM_I32, 8},
            {K_EXTRACT, EOS_WASM_I32, 4},  {K_REPLACE, EOS_WASM_I32, 4},
            {K_EXTRACT, EOS_WASM_I64, 2},  {K_REPLACE, EOS_WASM_I64, 2},
            {K_EXTRACT, EOS_WASM_F32, 4},  {K_REPLACE, EOS_WASM_F32, 4},
            {K_EXTRACT, EOS_WASM_F64, 2},  {K_REPLACE, EOS_WASM_F64, 2},
        };
        return (kind){lane[op - 0x15].k, lane[op - 0x15].t, lane[op - 0x15].lanes};
    }
    if (op >= 0x23 && op <= 0x4c)
        return (kind){K_BIN, 0, 0}; /* comparisons */
    if (op == 0x4d)
        return (kind){K_UN, 0, 0};
    if (op >= 0x4e && op <= 0x51)
        return (kind){K_BIN, 0, 0};
    if (op >= 0x54 && op <= 0x57)
        return (kind){K_LOAD_LANE, (uint8_t)(op - 0x54), (uint8_t)(16 >> (op - 0x54))};
    if (op >= 0x58 && op <= 0x5b)
        return (kind){K_STORE_LANE, (uint8_t)(op - 0x58), (uint8_t)(16 >> (op - 0x58))};
    /* Shifts: shl, shr_s, shr_u of each lane width. */
    if ((op >= 0x6b && op <= 0x6d) || (op >= 0x8b && op <= 0x8d) || (op >= 0xab && op <= 0xad) ||
        (op >= 0xcb && op <= 0xcd))
        return (kind){K_SHIFT, 0, 0};
    static const uint8_t un[] = {
        0x5e, 0x5f, 0x60, 0x61, 0x62, 0x67, 0x68, 0x69, 0x6a, 0x74, 0x75, 0x7a, 0x7c,
        0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x87, 0x88, 0x89, 0x8a, 0x94, 0xa0, 0xa1, 0xa7,
        0xa8, 0xa9, 0xaa, 0xc0, 0xc1, 0xc7, 0xc8, 0xc9, 0xca, 0xe0, 0xe1, 0xe3, 0xec,
        0xed, 0xef, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
    };
    for (size_t i = 0; i < sizeof(un); i++)
        if (un[i] == op)
            return (kind){K_UN, 0, 0};
    static const uint8_t bad[] = {0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb,
                                  0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee};
    for (size_t i = 0; i < sizeof(bad); i++)
        if (bad[i] == op)
            return (kind){K_BAD, 0, 0};
    if (op >= 0x65 && op <= 0xff)
        return (kind){K_BIN, 0, 0};
    return (kind){K_BAD, 0, 0};
}

/* Relaxed SIMD, 0x100..0x113 (deterministic results: see exec_simd.c). */
static kind relaxed(uint32_t op)
{
    if (op >= 0x101 && op <= 0x104)
        return (kind){K_UN, 0, 0};
    if (op == 0x100 || (op >= 0x10d && op <= 0x112))
        return (kind){K_BIN, 0, 0};
    return (kind){K_TERN, 0, 0};
}

/* Reads a memarg; the access's address is depth slots below the stack top
 * when it runs. *at gets the address type (i64 for memory64). */
static int read_memarg(eos_wasm__vctx *v, uint32_t natural, uint32_t depth, uint32_t *mem,
                       uint32_t *offset, uint8_t *at)
{
    uint32_t align;
    uint64_t off;
    *mem = 0;
    TRY(eos_wasm__rd_u32(&v->r, &align));
    if ((align & 0x40) && !v->m->features.disable_multi_memory) {
        align &= ~0x40u;
        TRY(eos_wasm__rd_u32(&v->r, mem));
    }
    TRY(eos_wasm__rd_uleb(&v->r, v->m->uses_mem64 ? 64 : 32, &off));
    if (*mem >= v->m->memory_count)
        return FAIL(EOS_EINVALID, "unknown memory %u", *mem);
    if (align > natural)
        return FAIL(EOS_EINVALID, "alignment must not be larger than natural");
    *at = eos_wasm__mem_at(v->m, *mem);
    *offset = (uint32_t)off;
    if (*at == EOS_WASM_I32 && off > UINT32_MAX)
        return FAIL(EOS_EINVALID, "offset out of range");
    /* memory64: the address and offset are added, exactly, before. */
    if (*at == EOS_WASM_I64) {
        *offset = 0;
        return eos_wasm__v_simd_addr64(v, *mem, off, 1u << natural, depth);
    }
    return 0;
}

static int read_lane(eos_wasm__vctx *v, uint32_t lanes, uint32_t *lane)
{
    uint8_t b;
    TRY(eos_wasm__rd_byte(&v->r, &b));
    if (b >= lanes)
        return FAIL(EOS_EINVALID, "invalid lane index %u", b);
    *lane = b;
    return 0;
}

/* Emits [SIMD, op, n + 3, imm...]. */
static int emit(eos_wasm__vctx *v, uint32_t op, const uint32_t *imm, uint32_t n)
{
    if (!eos_wasm__v_live(v))
        return 0;
    TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_SIMD));
    TRY(eos_wasm__v_emit(v, op));
    TRY(eos_wasm__v_emit(v, n + 3));
    for (uint32_t i = 0; i < n; i++)
        TRY(eos_wasm__v_emit(v, imm[i]));
    return 0;
}

int eos_wasm__v_simd(eos_wasm__vctx *v)
{
    const uint8_t V = EOS_WASM_V128;
    uint8_t I = EOS_WASM_I32; /* the address type, from the memarg */
    uint32_t op, imm[4];
    TRY(eos_wasm__rd_u32(&v->r, &op));
    kind k = op <= 0xff                   ? classify(op)
             : op >= 0x100 && op <= 0x113 ? relaxed(op)
                                          : (kind){K_BAD, 0, 0};
    switch (k.k) {
    case K_LOAD:
        TRY(read_memarg(v, k.a, 1, &imm[0], &imm[1], &I));
        TRY(eos_wasm__v_pop(v, I, NULL));
        TRY(eos_wasm__v_push(v, V));
        return emit(v, op, imm, 2);
    case K_STORE:
        TRY(read_memarg(v, k.a, 3, &imm[0], &imm[1], &I));
        TRY(eos_wasm__v_pop(v, V, NULL));
        TRY(eos_wasm__v_pop(v, I, NULL));
        return emit(v, op, imm, 2);
    case K_LOAD_LANE:
    case K_STORE_LANE:
        TRY(read_memarg(v, k.a, 3, &imm[0], &imm[1], &I));
        TRY(read_lane(v, k.b, &imm[2]));
        TRY(eos_wasm__v_pop(v, V, NULL));
        TRY(eos_wasm__v_pop(v, I, NULL));
        if (k.k == K_LOAD_LANE)
            TRY(eos_wasm__v_push(v, V));
        return emit(v, op, imm, 3);
    case K_CONST:
        if (v->r.end - v->r.p < 16)
            return FAIL(EOS_EMALFORMED, "unexpected end");
        memcpy(imm, v->r.p, 16);
        v->r.p += 16;
        TRY(eos_wasm__v_push(v, V));
        if (!eos_wasm__v_live(v))
            return 0;
        TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_V128_CONST));
        for (int i = 0; i < 4; i++)
            TRY(eos_wasm__v_emit(v, imm[i]));
        return 0;
    case K_SHUFFLE:
        if (v->r.end - v->r.p < 16)
            return FAIL(EOS_EMALFORMED, "unexpected end");
        for (int i = 0; i < 16; i++)
            if (v->r.p[i] >= 32)
                return FAIL(EOS_EINVALID, "invalid lane index %u", v->r.p[i]);
        memcpy(imm, v->r.p, 16);
        v->r.p += 16;
        TRY(eos_wasm__v_pop(v, V, NULL));
        TRY(eos_wasm__v_pop(v, V, NULL));
        TRY(eos_wasm__v_push(v, V));
        return emit(v, op, imm, 4);
    case K_SPLAT:
        TRY(eos_wasm__v_pop(v, k.a, NULL));
        TRY(eos_wasm__v_push(v, V));
        return emit(v, op, NULL, 0);
    case K_EXTRACT:
        TRY(read_lane(v, k.b, &imm[0]));
        TRY(eos_wasm__v_pop(v, V, NULL));
        TRY(eos_wasm__v_push(v, k.a));
        return emit(v, op, imm, 1);
    case K_REPLACE:
        TRY(read_lane(v, k.b, &imm[0]));
        TRY(eos_wasm__v_pop(v, k.a, NULL));
        TRY(eos_wasm__v_pop(v, V, NULL));
        TRY(eos_wasm__v_push(v, V));
        return emit(v, op, imm, 1);
    case K_UN:
    case K_BIN:
    case K_TERN:
        for (int i = k.k == K_UN ? 1 : k.k == K_BIN ? 2 : 3; i > 0; i--)
            TRY(eos_wasm__v_pop(v, V, NULL));
        TRY(eos_wasm__v_push(v, V));
        /* exec_simd.c dispatches on these marks. */
        return emit(v,
                    op | (k.k == K_UN    ? EOS_WASM__SIMD_UNARY
                          : k.k == K_BIN ? EOS_WASM__SIMD_BINARY
                                         : EOS_WASM__SIMD_TERNARY),
                    NULL, 0);
    case K_TEST:
        TRY(eos_wasm__v_pop(v, V, NULL));
        TRY(eos_wasm__v_push(v, I));
        return emit(v, op, NULL, 0);
    case K_SHIFT:
        TRY(eos_wasm__v_pop(v, I, NULL));
        TRY(eos_wasm__v_pop(v, V, NULL));
        TRY(eos_wasm__v_push(v, V));
        return emit(v, op, NULL, 0);
    default:
        return FAIL(EOS_EMALFORMED, "illegal opcode 0xfd 0x%02x", op);
    }
}
