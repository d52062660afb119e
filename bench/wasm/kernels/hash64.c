/* A 64-bit multiply-rotate hash over a buffer, in the spirit of xxHash64 but
 * simpler: four lanes of 64-bit words. Measures i64 multiply, rotate and
 * unaligned 64-bit loads. */
#include "bench.h"

#define DATA_SIZE (256u << 10)
#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL

static uint8_t data[DATA_SIZE];

static inline uint64_t rotl64(uint64_t x, unsigned n)
{
    return (x << n) | (x >> (64 - n));
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    __builtin_memcpy(&v, p, 8); /* little endian on both targets */
    return v;
}

static uint64_t hash(const uint8_t *p, uint32_t len, uint64_t seed)
{
    uint64_t v[4] = {seed + P1, seed + P2, seed, seed - P1};
    uint32_t i = 0;
    for (; i + 32 <= len; i += 32)
        for (int l = 0; l < 4; l++)
            v[l] = rotl64(v[l] + load64(p + i + 8 * l) * P2, 31) * P1;
    uint64_t h = rotl64(v[0], 1) + rotl64(v[1], 7) + rotl64(v[2], 12) + rotl64(v[3], 18);
    for (; i < len; i++)
        h = rotl64(h ^ (p[i] * P3), 11) * P1;
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    return h;
}

/* One unit hashes 256 KiB, starting at an offset chosen by the previous
 * hash so loads are unaligned at times. */
static uint64_t bench_kernel(uint32_t scale)
{
    uint64_t seed = 42;
    for (uint32_t i = 0; i < DATA_SIZE; i += 8) {
        uint64_t r = bench_rand(&seed);
        __builtin_memcpy(&data[i], &r, 8);
    }
    uint64_t h = 0;
    for (uint32_t r = 0; r < scale; r++) {
        uint32_t off = (uint32_t)(h & 7);
        h = hash(data + off, DATA_SIZE - off, h);
    }
    return h;
}
