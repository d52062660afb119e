/* Integer loops over memory: the sieve of Eratosthenes over a byte array.
 * Measures byte loads and stores with bounds checks, and tight loop control. */
#include "bench.h"

#define SIEVE_MAX (1u << 18)

static uint8_t composite[SIEVE_MAX];

static uint32_t sieve(uint32_t limit)
{
    for (uint32_t i = 0; i < limit; i++)
        composite[i] = 0;
    uint32_t count = 0;
    for (uint32_t i = 2; i < limit; i++) {
        if (composite[i])
            continue;
        count++;
        for (uint32_t j = i * 2; j < limit; j += i)
            composite[j] = 1;
    }
    return count;
}

/* One unit sieves up to ~256k; the limit varies with the previous result. */
static uint64_t bench_kernel(uint32_t scale)
{
    uint64_t h = 0;
    for (uint32_t i = 0; i < scale; i++)
        h = bench_mix(h, sieve(SIEVE_MAX - (uint32_t)(h & 1023)));
    return h;
}
