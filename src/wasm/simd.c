/* SIMD (v128) support shared by the API and the tiers: typed values to and
 * from the slots of the calling convention, where a v128 takes two slots
 * (bytes 0..7 in the first). */
#include "internal.h"

uint32_t eos_wasm__val_to_slots(const eos_wasm_val *v, uint64_t *slots)
{
    switch (v->type) {
    case EOS_WASM_I32:
        slots[0] = (uint32_t)v->of.i32;
        return 1;
    case EOS_WASM_I64:
        slots[0] = (uint64_t)v->of.i64;
        return 1;
    case EOS_WASM_F32:
        slots[0] = v->of.f32_bits;
        return 1;
    case EOS_WASM_F64:
        slots[0] = v->of.f64_bits;
        return 1;
    case EOS_WASM_V128:
        memcpy(slots, v->of.v128, 16);
        return 2;
    case EOS_WASM_FUNCREF:
        slots[0] = (uint64_t)(uintptr_t)v->of.funcref;
        return 1;
    default:
        slots[0] = (uint64_t)(uintptr_t)v->of.externref;
        return 1;
    }
}

uint32_t eos_wasm__slots_to_val(uint8_t type, const uint64_t *slots, eos_wasm_val *out)
{
    memset(out, 0, sizeof(*out));
    out->type = type;
    switch (type) {
    case EOS_WASM_I32:
        out->of.i32 = (int32_t)(uint32_t)slots[0];
        return 1;
    case EOS_WASM_I64:
        out->of.i64 = (int64_t)slots[0];
        return 1;
    case EOS_WASM_F32:
        out->of.f32_bits = (uint32_t)slots[0];
        return 1;
    case EOS_WASM_F64:
        out->of.f64_bits = slots[0];
        return 1;
    case EOS_WASM_V128:
        memcpy(out->of.v128, slots, 16);
        return 2;
    case EOS_WASM_FUNCREF:
        out->of.funcref = (eos_wasm_func *)(uintptr_t)slots[0];
        return 1;
    default:
        out->of.externref = (void *)(uintptr_t)slots[0];
        return 1;
    }
}
