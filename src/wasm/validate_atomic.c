/* Validation and translation of the threads proposal's atomic instructions
 * (prefix 0xfe). Every one becomes EOS_WASM_OP_ATOMIC with the sub-opcode,
 * the memory index and the offset; exec_atomic.c runs them. Atomic accesses
 * must state their natural alignment exactly, because a misaligned address
 * traps at run time instead of being tolerated as a hint. */
#include "internal.h"

#define FAIL(...) eos_wasm__rd_fail(&v->r, __VA_ARGS__)
#define TRY(x)                                                                                     \
    do {                                                                                           \
        if (x)                                                                                     \
            return v->r.err ? v->r.err : EOS_EINVALID;                                             \
    } while (0)

/* Sub-opcodes 0x10..0x4e come in groups of seven (load, store, add, sub,
 * and, or, xor, xchg, cmpxchg), each group ordered by this value type and
 * access width (log2 bytes). */
static const uint8_t group_type[7] = {EOS_WASM_I32, EOS_WASM_I64, EOS_WASM_I32, EOS_WASM_I32,
                                      EOS_WASM_I64, EOS_WASM_I64, EOS_WASM_I64};
static const uint8_t group_log2[7] = {2, 3, 0, 1, 0, 1, 2};

int eos_wasm__atomic_shape(uint32_t sub, uint8_t *type, uint8_t *log2)
{
    switch (sub) {
    case 0x00: /* memory.atomic.notify */
    case 0x01: /* memory.atomic.wait32 */
        *type = EOS_WASM_I32;
        *log2 = 2;
        return 0;
    case 0x02: /* memory.atomic.wait64 */
        *type = EOS_WASM_I64;
        *log2 = 3;
        return 0;
    default:
        if (sub < 0x10 || sub > 0x4e)
            return -1;
        *type = group_type[(sub - 0x10) % 7];
        *log2 = group_log2[(sub - 0x10) % 7];
        return 0;
    }
}

static int emit(eos_wasm__vctx *v, uint32_t sub, uint32_t mem, uint32_t offset)
{
    if (!eos_wasm__v_live(v))
        return 0;
    TRY(eos_wasm__v_emit_op(v, EOS_WASM_OP_ATOMIC));
    TRY(eos_wasm__v_emit(v, sub));
    TRY(eos_wasm__v_emit(v, mem));
    return eos_wasm__v_emit(v, offset);
}

int eos_wasm__v_atomic(eos_wasm__vctx *v)
{
    uint32_t sub, align, offset, mem = 0;
    uint8_t t, log2;
    TRY(eos_wasm__rd_u32(&v->r, &sub));
    if (sub == 0x03) { /* atomic.fence: a reserved zero byte, no memory */
        uint8_t b;
        TRY(eos_wasm__rd_byte(&v->r, &b));
        if (b != 0)
            return FAIL(EOS_EMALFORMED, "malformed atomic.fence: zero byte expected");
        return emit(v, sub, 0, 0);
    }
    if (eos_wasm__atomic_shape(sub, &t, &log2))
        return FAIL(EOS_EMALFORMED, "illegal opcode 0xfe %u", sub);
    TRY(eos_wasm__rd_u32(&v->r, &align));
    if ((align & 0x40) && !v->m->features.disable_multi_memory) {
        align &= ~0x40u;
        TRY(eos_wasm__rd_u32(&v->r, &mem));
    }
    TRY(eos_wasm__rd_u32(&v->r, &offset));
    if (mem >= v->m->memory_count)
        return FAIL(EOS_EINVALID, "unknown memory %u", mem);
    /* exec_atomic.c computes 32-bit addresses and 64 KiB pages only. */
    if (v->m->memories[mem].limits.is64 || eos_wasm__page_log2(&v->m->memories[mem]) != 16)
        return FAIL(EOS_EUNSUPPORTED,
                    "atomic access to a 64-bit memory or one of custom page size: not supported yet");
    if (align != log2)
        return FAIL(EOS_EINVALID, "alignment must be exactly natural for an atomic access");
    uint32_t group = sub >= 0x10 ? (sub - 0x10) / 7 : 0;
    if (sub == 0x00) { /* notify: addr count -> woken */
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_push(v, EOS_WASM_I32));
    } else if (sub <= 0x02) { /* wait: addr expected timeout -> 0, 1 or 2 */
        TRY(eos_wasm__v_pop(v, EOS_WASM_I64, NULL));
        TRY(eos_wasm__v_pop(v, t, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_push(v, EOS_WASM_I32));
    } else if (group == 0) { /* load */
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_push(v, t));
    } else if (group == 1) { /* store */
        TRY(eos_wasm__v_pop(v, t, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
    } else { /* read-modify-write; cmpxchg takes the expected value too */
        TRY(eos_wasm__v_pop(v, t, NULL));
        if (group == 8)
            TRY(eos_wasm__v_pop(v, t, NULL));
        TRY(eos_wasm__v_pop(v, EOS_WASM_I32, NULL));
        TRY(eos_wasm__v_push(v, t));
    }
    return emit(v, sub, mem, offset);
}
