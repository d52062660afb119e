/* Integer dot product of two 16-bit vectors. Built plainly it is a scalar
 * loop; built as dot_simd (clang -msimd128) it uses i32x4.dot_i16x8_s, so the
 * pair measures the engine's SIMD against its scalar code on the same work.
 * Sums wrap modulo 2^32, so every build gives the same checksum. */
#include "bench.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

#define N      4096
#define PASSES 1024

static int16_t xs[N], ys[N];

static uint32_t dot(void)
{
#if defined(__wasm_simd128__)
    v128_t acc = wasm_i32x4_splat(0);
    for (uint32_t i = 0; i < N; i += 8)
        acc = wasm_i32x4_add(acc,
                             wasm_i32x4_dot_i16x8(wasm_v128_load(xs + i), wasm_v128_load(ys + i)));
    return (uint32_t)wasm_i32x4_extract_lane(acc, 0) + (uint32_t)wasm_i32x4_extract_lane(acc, 1) +
           (uint32_t)wasm_i32x4_extract_lane(acc, 2) + (uint32_t)wasm_i32x4_extract_lane(acc, 3);
#else
    uint32_t s = 0;
    for (uint32_t i = 0; i < N; i++)
        s += (uint32_t)((int32_t)xs[i] * ys[i]);
    return s;
#endif
}

/* One unit fills both vectors and takes PASSES dot products, changing one
 * element between passes so no pass can be skipped. */
static uint64_t bench_kernel(uint32_t scale)
{
    uint64_t seed = 0x5eed;
    uint64_t h = 0;
    for (uint32_t r = 0; r < scale; r++) {
        for (uint32_t i = 0; i < N; i++) {
            uint64_t x = bench_rand(&seed);
            xs[i] = (int16_t)x;
            ys[i] = (int16_t)(x >> 16);
        }
        for (uint32_t p = 0; p < PASSES; p++) {
            xs[(p * 131) % N] = (int16_t)(xs[(p * 131) % N] + 1);
            h = bench_mix(h, dot());
        }
    }
    return h;
}
