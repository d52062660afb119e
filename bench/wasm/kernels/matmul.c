/* Floating-point kernel over memory: dense double-precision matrix multiply
 * (i-k-j order). Measures f64 loads, stores, multiply-add and address math. */
#include "bench.h"

#define N 64

static double a[N * N], b[N * N], c[N * N];

static void fill(uint64_t *seed)
{
    for (uint32_t i = 0; i < N * N; i++) {
        a[i] = (double)(bench_rand(seed) % 2001) / 1000.0 - 1.0;
        b[i] = (double)(bench_rand(seed) % 2001) / 1000.0 - 1.0;
    }
}

static void multiply(void)
{
    for (uint32_t i = 0; i < N; i++) {
        for (uint32_t j = 0; j < N; j++)
            c[i * N + j] = 0.0;
        for (uint32_t k = 0; k < N; k++) {
            double aik = a[i * N + k];
            for (uint32_t j = 0; j < N; j++)
                c[i * N + j] += aik * b[k * N + j];
        }
    }
}

/* One unit fills two 64x64 matrices and multiplies them. The checksum is
 * built from the exact bit patterns: IEEE arithmetic without contraction
 * gives the same bits natively and in wasm. */
static uint64_t bench_kernel(uint32_t scale)
{
    uint64_t seed = 0x1234567;
    uint64_t h = 0;
    for (uint32_t r = 0; r < scale; r++) {
        fill(&seed);
        multiply();
        double sum = 0.0;
        for (uint32_t i = 0; i < N * N; i += 7)
            sum += c[i];
        union { double d; uint64_t u; } bits = { sum };
        h = bench_mix(h, bits.u);
    }
    return h;
}
