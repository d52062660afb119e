/* Call-heavy recursion: naive Fibonacci. Measures the cost of a wasm call
 * and return (frame setup, argument passing) more than arithmetic. */
#include "bench.h"

static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* One unit is fib(24) or fib(25) (~100k calls); the argument depends on the
 * previous result so no compiler can fold the repetitions. */
static uint64_t bench_kernel(uint32_t scale)
{
    uint64_t h = 0;
    for (uint32_t i = 0; i < scale; i++) {
        uint32_t r = fib(24 + (uint32_t)(h & 1));
        h = bench_mix(h, r);
    }
    return h;
}
