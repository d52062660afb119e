/* The wide-arithmetic proposal: 128-bit addition and subtraction on pairs
 * of i64 (low half first) and the full 128-bit products of two i64, as
 * 0xfc 19..22. Validation and the interpreter's part are both here; the
 * instruction is EOS_WASM_OP_WIDE with the sub-opcode. */
#include "internal.h"

#define TRY(x)                                                                                     \
    do {                                                                                           \
        if (x)                                                                                     \
            return v->r.err ? v->r.err : EOS_EINVALID;                                             \
    } while (0)

__extension__ typedef unsigned __int128 u128;
__extension__ typedef __int128 s128;

enum { ADD128 = 19, SUB128 = 20, MUL_WIDE_S = 21, MUL_WIDE_U = 22 };

int eos_wasm__v_wide(eos_wasm__vctx *v, uint32_t sub)
{
    unsigned pops = sub <= SUB128 ? 4 : 2;
    for (unsigned i = 0; i < pops; i++)
        TRY(eos_wasm__v_pop(v, EOS_WASM_I64, NULL));
    TRY(eos_wasm__v_push(v, EOS_WASM_I64));
    TRY(eos_wasm__v_push(v, EOS_WASM_I64));
    if (!eos_wasm__v_live(v))
        return 0;
    TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_WIDE));
    return eos_wasm__v_emit(v, sub);
}

uint64_t *eos_wasm__wide_exec(uint32_t sub, uint64_t *sp)
{
    u128 r;
    if (sub <= SUB128) {
        sp -= 4;
        u128 a = (u128)sp[1] << 64 | sp[0], b = (u128)sp[3] << 64 | sp[2];
        r = sub == ADD128 ? a + b : a - b;
    } else {
        sp -= 2;
        if (sub == MUL_WIDE_S)
            r = (u128)((s128)(int64_t)sp[0] * (s128)(int64_t)sp[1]);
        else
            r = (u128)sp[0] * sp[1];
    }
    sp[0] = (uint64_t)r;
    sp[1] = (uint64_t)(r >> 64);
    return sp + 2;
}
