/* memcpy/memset-heavy code: copies, overlapping moves and fills of mixed
 * sizes (16 B to 16 KiB) at pseudo-random offsets in a 1 MiB buffer. In wasm
 * these become memory.copy / memory.fill (bulk memory), so this measures how
 * the engine implements them, including their bounds checks. */
#include "bench.h"

#define BUF_SIZE (1u << 20)
#define MAX_CHUNK (16u << 10)

static uint8_t buf[BUF_SIZE];

/* Sizes skewed towards small copies, as in real code, with a long tail. */
static uint32_t pick_size(uint64_t r)
{
    uint32_t cls = (uint32_t)(r & 3);
    uint32_t v = (uint32_t)(r >> 8);
    if (cls == 0)
        return 16 + (v & 63);
    if (cls == 1)
        return 64 + (v & 511);
    if (cls == 2)
        return 512 + (v & 4095);
    return 4096 + (v & (MAX_CHUNK - 4096 - 1));
}

/* One unit is 256 copies, 64 overlapping moves and 64 fills. */
static uint64_t bench_kernel(uint32_t scale)
{
    uint64_t seed = 0xfeedface;
    for (uint32_t i = 0; i < BUF_SIZE; i += 8) {
        uint64_t v = bench_rand(&seed);
        __builtin_memcpy(&buf[i], &v, 8);
    }
    uint64_t h = 0;
    for (uint32_t r = 0; r < scale; r++) {
        for (uint32_t k = 0; k < 256; k++) {
            uint64_t x = bench_rand(&seed);
            uint32_t size = pick_size(x);
            uint32_t src = (uint32_t)(x >> 20) % (BUF_SIZE - size);
            uint32_t dst = (uint32_t)(x >> 40) % (BUF_SIZE - size);
            if ((k & 3) == 3)
                __builtin_memmove(&buf[dst], &buf[src], size);
            else if ((src + size <= dst) || (dst + size <= src))
                __builtin_memcpy(&buf[dst], &buf[src], size);
            if ((k & 3) == 1) {
                uint32_t at = (uint32_t)(x >> 12) % (BUF_SIZE - size);
                __builtin_memset(&buf[at], (int)(x & 0xff), size / 2);
            }
            buf[dst] ^= (uint8_t)k;
        }
        for (uint32_t i = 0; i < 64; i++)
            h = bench_mix(h, buf[(uint32_t)bench_rand(&seed) % BUF_SIZE]);
    }
    return h;
}
