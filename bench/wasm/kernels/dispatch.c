/* Interpreter-style code: a small register-machine bytecode loop (a switch,
 * br_table in wasm) plus calls through a table of function pointers
 * (call_indirect). Measures indirect branches and indirect calls, common in
 * guests that are themselves interpreters (JavaScript, Python, Lua). */
#include "bench.h"

enum op { OP_LOADI, OP_ADD, OP_SUB, OP_MUL, OP_XOR, OP_SHR, OP_AND, OP_JNZ, OP_CALL, OP_HALT };

struct insn {
    uint8_t op, a, b, c; /* registers, or c:imm for LOADI and JNZ targets */
    int32_t imm;
};

typedef uint32_t (*unary_fn)(uint32_t);

static uint32_t f_inc(uint32_t x) { return x + 1; }
static uint32_t f_rot(uint32_t x) { return (x << 5) | (x >> 27); }
static uint32_t f_mul(uint32_t x) { return x * 2654435761u; }
static uint32_t f_neg(uint32_t x) { return ~x; }

static unary_fn const fns[4] = {f_inc, f_rot, f_mul, f_neg};

/* r0 = counter, r1 = accumulator, r2..r5 scratch. The loop body mixes the
 * accumulator through arithmetic and an indirect call chosen by its bits. */
static const struct insn program[] = {
    {OP_LOADI, 2, 0, 0, 3},      /* 0: r2 = 3 */
    {OP_LOADI, 3, 0, 0, 1},      /* 1: r3 = 1 */
    {OP_MUL, 4, 1, 2, 0},        /* 2: r4 = r1 * r2 */
    {OP_ADD, 1, 4, 0, 0},        /* 3: r1 = r4 + r0 */
    {OP_SHR, 5, 1, 2, 0},        /* 4: r5 = r1 >> r2 */
    {OP_XOR, 1, 1, 5, 0},        /* 5: r1 ^= r5 */
    {OP_LOADI, 5, 0, 0, 3},      /* 6: r5 = 3 */
    {OP_AND, 5, 1, 5, 0},        /* 7: r5 = r1 & 3 */
    {OP_CALL, 1, 5, 0, 0},       /* 8: r1 = fns[r5](r1) */
    {OP_SUB, 0, 0, 3, 0},        /* 9: r0 -= 1 */
    {OP_JNZ, 0, 0, 0, 2},        /* 10: if r0 goto 2 */
    {OP_HALT, 0, 0, 0, 0},
};

static uint32_t execute(const struct insn *code, uint32_t iterations, uint32_t seed)
{
    uint32_t r[8] = {iterations, seed, 0, 0, 0, 0, 0, 0};
    uint32_t pc = 0;
    for (;;) {
        const struct insn *in = &code[pc++];
        switch (in->op) {
        case OP_LOADI: r[in->a] = (uint32_t)in->imm; break;
        case OP_ADD: r[in->a] = r[in->b] + r[in->c]; break;
        case OP_SUB: r[in->a] = r[in->b] - r[in->c]; break;
        case OP_MUL: r[in->a] = r[in->b] * r[in->c]; break;
        case OP_XOR: r[in->a] = r[in->b] ^ r[in->c]; break;
        case OP_SHR: r[in->a] = r[in->b] >> (r[in->c] & 31); break;
        case OP_AND: r[in->a] = r[in->b] & r[in->c]; break;
        case OP_JNZ: if (r[in->a] != 0) pc = (uint32_t)in->imm; break;
        case OP_CALL: r[in->a] = fns[r[in->b] & 3](r[in->a]); break;
        case OP_HALT: return r[1];
        default: return 0;
        }
    }
}

/* One unit is 10,000 iterations of the 9-instruction loop body. */
static uint64_t bench_kernel(uint32_t scale)
{
    uint64_t h = 0;
    for (uint32_t i = 0; i < scale; i++)
        h = bench_mix(h, execute(program, 10000, (uint32_t)h ^ i));
    return h;
}
